"""What the HTTP layer promises, without ``requests``: per-host policies,
replies, errors, counters, clocks, and the URL and header rules every module
shares (so offline code can name them without importing a network stack)."""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Protocol
from urllib.parse import urlsplit

from .. import __version__

PROJECT_URL = "https://github.com/bibtools/bibtools"
USER_AGENT = f"bibtools/{__version__} (+{PROJECT_URL})"
CACHE_FILE = "http-cache.sqlite"

# Statuses worth asking again: the server is overloaded or briefly broken.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Only these answers are stored; an error must be asked again next time.
CACHEABLE_STATUSES = (200,)
# What a host's policy may add to them: definite answers, never 429 or 5xx.
STORABLE_STATUSES = (200, 404, 410, 451)
# Hosts (and their subdomains) with a gap no configuration may shorten.
MIN_INTERVAL_FLOORS = {"arxiv.org": 3.0}
# How long to wait for another process's write to the cache before giving the cache up.
CACHE_LOCK_WAIT = 5.0
# Values of BIBTOOLS_INSECURE that turn TLS certificate checks off.
TRUE_VALUES = frozenset({"1", "true", "yes", "on"})

# Header and parameter names that can carry secrets or personal data.
# requests-cache compares header names case-sensitively, hence the variants.
_SECRET_NAMES = (
    "Authorization",
    "Proxy-Authorization",
    "X-API-Key",
    "X-Api-Key",
    "X-Auth-Token",
    "X-API-Token",
    "X-Access-Token",
    "Cookie",
    "Set-Cookie",
    "User-Agent",  # may carry a contact address (mailto:) for polite pools
)
_SECRET_PARAMS = (
    "access_token",
    "api_key",
    "apikey",
    "api-key",
    "key",
    "token",
    "client_secret",
    "password",
    "mailto",
    "email",
)
SECRET_PARAMETERS: tuple[str, ...] = tuple(
    dict.fromkeys([*_SECRET_NAMES, *(n.lower() for n in _SECRET_NAMES), *_SECRET_PARAMS])
)
# Request headers that carry credentials: never sent on to another origin by a
# redirect.  The names above (but the User-Agent, a contact address meant for
# whoever answers), and any header whose name speaks of keys, tokens or secrets
# (a source may invent ``X-Foo-Key``).
CREDENTIAL_NAMES = frozenset(n.lower() for n in _SECRET_NAMES if n != "User-Agent")
CREDENTIAL_WORDS = re.compile(r"auth|key|token|secret|passw|cookie|session", re.IGNORECASE)
# Redirects followed within one request before giving up (requests' default is 30).
MAX_REDIRECTS = 10


# --------------------------------------------------------------------------
# Time


class Clock(Protocol):
    """What the client needs to know about time; tests pass a fake one."""

    def monotonic(self) -> float: ...

    def time(self) -> float:
        """Wall-clock seconds since the epoch (for ``Retry-After`` HTTP dates)."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


# --------------------------------------------------------------------------
# Policies, answers, errors, counters


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """How to talk to one host.

    ``expire_after`` is in seconds (``None``: never expires).  Backoff for
    the n-th retry is ``min(backoff_cap, backoff_base * 2**(n-1))``, of
    which a random half is jittered away; a ``Retry-After`` longer than
    that wins, but one longer than ``max_retry_after`` makes the client
    give up rather than wait (the source then reports the failure).

    ``concurrency`` is how many requests to the host may be in flight at
    once; it only applies to unpaced hosts (``min_interval`` 0), since a gap
    between requests means one at a time.  ``fail_fast``: once a request
    to an origin (scheme, host, port) gave up, later requests to it fail at
    once (an API that is down stays down for the run); a link checker turns
    it off, because one broken page says nothing about the next one on the
    same site.  An origin that could not be connected to at all is skipped
    for the rest of the run either way.
    ``cache_statuses`` are the statuses stored for the host (at most
    :data:`STORABLE_STATUSES`).  ``deadline`` bounds one answer, from
    sending the request to its last byte (``None``: only the per-read
    timeout applies); an answer over ``max_bytes`` is refused.
    """

    min_interval: float = 0.0
    timeout: tuple[float, float] = (5.0, 30.0)
    retries: int = 4
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    max_retry_after: float = 300.0
    expire_after: float | None = 30 * 86400.0
    concurrency: int = 1
    fail_fast: bool = True
    cache_statuses: tuple[int, ...] = CACHEABLE_STATUSES
    deadline: float | None = 120.0
    max_bytes: int | None = 64 * 2**20


@dataclass(frozen=True, slots=True)
class Reply:
    """A final HTTP answer (after retries), from the network or the cache."""

    method: str
    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    from_cache: bool
    cache_key: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class HttpError(Exception):
    """No usable answer; the message is one line naming the host.

    ``headers`` are those of the last answer, if there was one (a source
    reads its rate-limit headers from them).
    """

    def __init__(
        self,
        message: str,
        url: str = "",
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.headers: dict[str, str] = dict(headers or {})


class OfflineMiss(HttpError):
    """Offline mode, and the cache has no answer for this request."""


class Unavailable(HttpError):
    """The host did not answer usefully after all retries (or is known to be down)."""


class BadUrl(Unavailable):
    """The URL cannot be asked at all (not http(s), no host, a port out of range, malformed).

    Nothing was sent.  A subclass of :class:`Unavailable`, so that every
    caller handling a failed request handles it too.
    """


@dataclass(slots=True)
class HostStats:
    sent: int = 0  # requests that went over the network, retries included
    from_cache: int = 0  # answers read from the cache, no network
    offline_misses: int = 0  # offline mode, not in the cache
    retries: int = 0  # of ``sent``, how many were repeats after a failure
    failures: int = 0  # requests that ended in Unavailable
    waited: float = 0.0  # seconds spent sleeping (pacing and backoff)

    def __add__(self, other: HostStats) -> HostStats:
        return HostStats(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __sub__(self, other: HostStats) -> HostStats:
        return HostStats(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(self)))

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def total(stats: Mapping[str, HostStats]) -> HostStats:
    out = HostStats()
    for s in stats.values():
        out = out + s
    return out


def stats_delta(
    after: Mapping[str, HostStats], before: Mapping[str, HostStats]
) -> dict[str, HostStats]:
    """Per-host counters of what happened between two :meth:`HttpClient.snapshot` calls."""
    return {host: s - before.get(host, HostStats()) for host, s in after.items()}


# --------------------------------------------------------------------------
# Helpers

Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # "http://[::1": no host to speak of
        return ""


def origin_of(url: str) -> Origin:
    """``(scheme, host, port)``: what a connection is made to (raises ValueError for a bad port)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)


def url_problem(url: str) -> str:
    """Why ``url`` cannot be requested (``""`` when it can): not http(s), no host, a bad port."""
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        return "malformed URL (control characters)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"malformed URL ({exc})"
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        scheme = parts.scheme.lower()
        return f"not an http(s) URL (scheme {scheme!r})" if scheme else "not an http(s) URL"
    if not parts.hostname:
        return "malformed URL (no host)"
    if port == 0:
        return "malformed URL (port 0)"
    return ""


def shown_url(url: str, limit: int = 120) -> str:
    """``url`` for a message: without user name, password or query (they may hold secrets), cut short."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        text = f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else url.split("?", 1)[0]
    except ValueError:
        text = url.split("?", 1)[0]
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def floor_for(host: str) -> float:
    for domain, floor in MIN_INTERVAL_FLOORS.items():
        if host == domain or host.endswith("." + domain):
            return floor
    return 0.0


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now``: ``"120"`` or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


def rate_limit_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` when ``X-RateLimit-Remaining`` is 0, else None.

    ``headers`` must look names up case-insensitively (requests' headers do).
    """
    if (headers.get("X-RateLimit-Remaining") or "").strip() != "0":
        return None
    reset = (headers.get("X-RateLimit-Reset") or "").strip()
    if not re.fullmatch(r"\d+(\.\d+)?", reset):
        return None
    return max(0.0, float(reset) - now)
