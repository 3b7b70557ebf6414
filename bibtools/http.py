"""The one HTTP layer every metadata source goes through.

A :class:`HttpClient` owns one ``requests`` session (and, when possible, an
on-disk SQLite cache from ``requests-cache``) and applies, per host:

* **pacing**: one request at a time per host (or up to
  :attr:`HostPolicy.concurrency` at once on an unpaced host), and at least
  :attr:`HostPolicy.min_interval` seconds between the end of one request
  and the start of the next.  Hosts under ``arxiv.org`` never go below
  3 s whatever the configuration says (arXiv's terms of use);
* **timeouts**: ``(connect, read)`` from the host's policy;
* **retries** with exponential backoff and jitter on connection errors,
  timeouts and HTTP 429/500/502/503/504, honouring ``Retry-After`` (seconds
  or an HTTP date; failing that, ``X-RateLimit-Reset`` when
  ``X-RateLimit-Remaining`` is 0).  Other statuses (400, 403, 404, 410,
  451, ...) are answers, returned to the caller at once;
* **caching**: only 200 answers are stored (or the host's
  :attr:`HostPolicy.cache_statuses`, such as an API's stable 404), for the
  host's :attr:`HostPolicy.expire_after`; 429 and 5xx never are.  GET and
  POST are cached (a POST's key includes its body).  Secrets (the
  ``Authorization`` header, API keys, tokens, ``mailto``) are never part of
  a key and are redacted from what is stored, the requests of followed
  redirects included; credential headers are not sent on to another origin
  by a redirect;
* **hostile answers**: a redirect loop, a ``Location`` that is not a usable
  http(s) URL, a body that does not decompress, and a URL that cannot be
  asked at all (:class:`BadUrl`) are one :class:`Unavailable` line, not
  retried;
* **offline** mode answers from the cache only (expired entries included)
  and raises :class:`OfflineMiss` otherwise (``cache_only=True`` does the
  same for one request); **refresh** mode ignores what is cached (and
  overwrites it);
* **counters** per host (:class:`HostStats`): requests sent over the
  network, answers from the cache, offline misses, retries, failures;
* **limits** per answer: at most :attr:`HostPolicy.deadline` seconds from
  the request to the last byte (a server that drips its answer byte by
  byte never trips the per-read timeout) and :attr:`HostPolicy.max_bytes`;
* **TLS**: certificates are checked; a certificate that fails is reported
  at once (retrying cannot fix it) unless ``insecure=True`` (or
  ``BIBTOOLS_INSECURE=1``) turns the check off.

The cache is optional: one that is corrupt, read-only, or locked by another
process for longer than ``cache_lock_wait`` seconds is dropped with one
warning and the run goes on without it.  Several processes may share one
cache (SQLite in WAL mode; a writer waits for another's write).

Time is injectable: the client never calls :func:`time.sleep` or
:func:`time.monotonic` itself but a :class:`Clock`, so tests run a fake
clock and never wait.  The client never prints: problems it survived (a
cache that could not be opened) are collected in :attr:`HttpClient.warnings`.

A source uses it like this::

    client = HttpClient.from_env()            # BIBTOOLS_CACHE_DIR or the user cache dir
    client.set_policy("export.arxiv.org", HostPolicy(min_interval=3, expire_after=86400))
    reply = client.get("https://export.arxiv.org/api/query", params={...})
    if reply.ok: ...

and catches :class:`HttpError` (:class:`OfflineMiss`, :class:`Unavailable`).
"""

from __future__ import annotations

import email.utils
import functools
import os
import random
import re
import sqlite3
import threading
import time
import types
import warnings
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, NoReturn, Protocol
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.util import Timeout

from . import __version__

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
_TRUE = frozenset({"1", "true", "yes", "on"})

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
_CREDENTIAL_NAMES = frozenset(n.lower() for n in _SECRET_NAMES if n != "User-Agent")
_CREDENTIAL_WORDS = re.compile(r"auth|key|token|secret|passw|cookie|session", re.IGNORECASE)
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


@dataclass(slots=True)
class _Host:
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_done: float | None = None  # monotonic time the previous request finished
    stats: HostStats = field(default_factory=HostStats)
    # Only for HostPolicy.concurrency > 1: the slots, and a lock for the counters.
    slots: threading.BoundedSemaphore | None = None
    width: int = 1
    counting: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str, amount: float = 1) -> None:
        with self.counting:
            setattr(self.stats, name, getattr(self.stats, name) + amount)


@dataclass(frozen=True, slots=True)
class _Down:
    """Why an origin is not asked again this run."""

    message: str
    connection: bool  # no connection could be made: true for every request to the origin


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


def _floor_for(host: str) -> float:
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


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("BIBTOOLS_CACHE_DIR"):
        return Path(env["BIBTOOLS_CACHE_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("bibtools", appauthor=False))


# --------------------------------------------------------------------------
# The client


class HttpClient:
    """A session, a cache, pacing, retries and counters, shared by all sources.

    ``cache_dir=None`` disables the cache (tests of pure HTTP behaviour);
    :meth:`from_env` picks ``BIBTOOLS_CACHE_DIR`` or the user cache dir.
    ``offline`` and ``refresh`` exclude each other.  ``clock`` and ``rng``
    are injectable so that tests neither sleep nor depend on chance.
    The client is safe to share between threads: requests to one host are
    serialised, different hosts may run in parallel.
    """

    def __init__(
        self,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        offline: bool = False,
        refresh: bool = False,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        default_policy: HostPolicy | None = None,
        user_agent: str = USER_AGENT,
        insecure: bool = False,
        cache_lock_wait: float | None = None,
    ) -> None:
        if offline and refresh:
            raise ValueError("offline and refresh exclude each other")
        self.offline = offline
        self.refresh = refresh
        self.insecure = insecure
        self.cache_lock_wait = CACHE_LOCK_WAIT if cache_lock_wait is None else cache_lock_wait
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.default_policy = default_policy or HostPolicy()
        self.user_agent = user_agent
        self.warnings: list[str] = []
        self.cache_path: Path | None = None
        self._policies: dict[str, HostPolicy] = {}
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()
        self._down: dict[Origin, _Down] = {}  # origins not asked again this run
        self._save_failures: list[BaseException] = []  # answers the cache could not store
        self._session = self._open(cache_dir)
        if insecure:
            self.warnings.append(
                "TLS certificates are not checked (BIBTOOLS_INSECURE or --insecure): "
                "answers may come from anyone"
            )

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        no_cache: bool = False,
        insecure: bool | None = None,
        **kwargs: Any,
    ) -> HttpClient:
        """A client with the cache at ``cache_dir``, else ``BIBTOOLS_CACHE_DIR``, else the user cache dir.

        ``insecure=None`` leaves it to ``BIBTOOLS_INSECURE``: ``1`` turns TLS
        certificate checks off.
        """
        directory = None if no_cache else (cache_dir or default_cache_dir(env))
        if insecure is None:
            flag = (os.environ if env is None else env).get("BIBTOOLS_INSECURE", "")
            insecure = flag.strip().lower() in _TRUE
        return cls(cache_dir=directory, insecure=insecure, **kwargs)

    # -- session and cache -------------------------------------------------

    def _open(self, cache_dir: str | os.PathLike[str] | None) -> requests.Session:
        if cache_dir is not None:
            path = Path(cache_dir) / CACHE_FILE
            try:
                session = self._cached_session(path)
            except Exception as exc:  # sqlite3 and OS errors alike: the cache is optional
                self._warn_cache(path, exc)
            else:
                self.cache_path = path
                return session
        return self._plain_session()

    def _plain_session(self) -> requests.Session:
        return self._configure(requests.Session())

    def _configure(self, session: requests.Session) -> requests.Session:
        session.headers["User-Agent"] = self.user_agent
        session.max_redirects = MAX_REDIRECTS
        # requests drops only ``Authorization`` on a redirect to another origin.
        session.rebuild_auth = types.MethodType(_rebuild_auth, session)  # type: ignore[method-assign]
        session.get_redirect_target = types.MethodType(_redirect_target, session)  # type: ignore[method-assign]
        adapter = _BoundedAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        if self.insecure:
            import urllib3

            session.verify = False
            # Said once in self.warnings, not on every request.
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        return session

    def _cached_session(self, path: Path) -> requests.Session:
        import requests_cache  # slow import: only when a cache is wanted

        path.parent.mkdir(parents=True, exist_ok=True)
        _probe_cache(path, self.cache_lock_wait)
        backend = _bounded_sqlite_cache()(
            path,
            wal=True,  # one fsync per write instead of several: a 1,000-record run writes often
            timeout=self.cache_lock_wait,  # sqlite3.connect: how long a statement waits for a lock
        )
        session = requests_cache.CachedSession(
            backend=backend,
            allowable_codes=STORABLE_STATUSES,
            filter_fn=self._storable,
            allowable_methods=("GET", "HEAD", "POST"),
            ignored_parameters=SECRET_PARAMETERS,
            match_headers=False,
            stale_if_error=False,
            expire_after=-1,
        )
        session.cache.save_response = _redacting(  # type: ignore[method-assign]
            session.cache.save_response, self._save_failures
        )
        try:
            # Opening succeeds on a read-only or corrupt file; a write tells.
            probe = "bibtools-write-probe"
            session.cache.redirects[probe] = probe
            del session.cache.redirects[probe]
        except Exception:
            session.close()
            raise
        return self._configure(session)

    def _storable(self, response: requests.Response) -> bool:
        """May this answer be (or stay) stored?  The status the host's policy allows."""
        host = host_of(getattr(response, "url", "") or "")
        return response.status_code in self.policy_for(host).cache_statuses

    def _warn_cache(self, path: Path, exc: BaseException) -> None:
        reason = str(exc) or type(exc).__name__
        self.warnings.append(
            f"HTTP cache {path} cannot be used ({reason}); continuing without a cache"
        )

    def _drop_cache(self, exc: BaseException) -> None:
        """The cache broke mid-run: carry on without it, saying so once."""
        if self.cache_path is not None:
            self._warn_cache(self.cache_path, exc)
            self.cache_path = None
        old = self._session
        self._session = self._plain_session()
        old.close()

    @property
    def cached(self) -> bool:
        return self.cache_path is not None

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- policies and counters ---------------------------------------------

    def set_policy(self, host: str, policy: HostPolicy) -> None:
        """Use ``policy`` for ``host`` and its subdomains."""
        self._policies[host.lower()] = policy

    def policy_for(self, host: str) -> HostPolicy:
        host = host.lower()
        policy = self.default_policy
        best = -1
        for domain, p in self._policies.items():
            if (host == domain or host.endswith("." + domain)) and len(domain) > best:
                policy, best = p, len(domain)
        floor = _floor_for(host)
        if policy.min_interval < floor:
            policy = replace(policy, min_interval=floor)
        return policy

    def _host(self, host: str) -> _Host:
        with self._hosts_lock:
            return self._hosts.setdefault(host, _Host())

    @property
    def stats(self) -> dict[str, HostStats]:
        """Live counters per host."""
        return {h: s.stats for h, s in self._hosts.items()}

    def snapshot(self) -> dict[str, HostStats]:
        """A copy of the counters, to subtract from a later one (:func:`stats_delta`)."""
        return {h: replace(s.stats) for h, s in self._hosts.items()}

    # -- requests ----------------------------------------------------------

    def get(self, url: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Reply:
        return self.request("GET", url, params=params, **kwargs)

    def post(self, url: str, data: Mapping[str, Any] | bytes | None = None, **kwargs: Any) -> Reply:
        return self.request("POST", url, data=data, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        expire_after: float | None = None,
        refresh: bool = False,
        allow_redirects: bool = True,
        cache_only: bool = False,
        fail_fast: bool | None = None,
    ) -> Reply:
        """Send (or answer from the cache) one request; retries are inside.

        Returns the final answer whatever its status (a 400 or 404 is an
        answer the caller interprets).  Raises :class:`OfflineMiss` in
        offline mode when nothing is cached, :class:`Unavailable` when the
        host gave no answer but retryable errors.  ``refresh`` bypasses the
        cache for this one request (a source re-asking after an answer it
        distrusts, such as an empty arXiv feed); ``expire_after`` overrides
        the host policy's expiry for what is stored.  ``allow_redirects``
        False returns a 3xx as the answer (a caller following redirects by
        hand); ``cache_only`` answers this one request as offline mode would
        (a source whose budget is spent still uses what it has).

        Failures are remembered per origin (scheme, host, port): one that
        could not even connect (refused, DNS, connect timeout, TLS) makes
        later requests to the origin fail at once; one that got answers,
        only 5xx or 429, does so when ``fail_fast`` (default: the host
        policy's) says an origin that failed once stays failed (an API; not
        a web site, whose broken page says nothing about the next one).
        A URL that cannot be asked (not http(s), a bad port) raises
        :class:`BadUrl` without a request.
        """
        method = method.upper()
        problem = url_problem(url)
        if problem:
            raise BadUrl(f"{shown_url(url)}: {problem}", url)
        host = host_of(url)
        origin = origin_of(url)
        state = self._host(host)
        policy = self.policy_for(host)
        remember = policy.fail_fast if fail_fast is None else fail_fast
        try:
            prepared = self._session.prepare_request(
                requests.Request(method, url, params=params, data=data, headers=dict(headers or {}))
            )
        except (requests.RequestException, ValueError) as exc:  # IDNA, a bad label...
            raise BadUrl(f"{shown_url(url)}: malformed URL ({type(exc).__name__})", url) from None
        offline = self.offline or cache_only
        with self._slot(state, policy):
            # Offline, the cache is all there is, whatever ``refresh`` asks.
            if offline or not (self.refresh or refresh):
                hit = self._from_cache(prepared, stale_ok=offline)
                if hit is not None:
                    state.count("from_cache")
                    return hit
            if offline:
                state.count("offline_misses")
                raise OfflineMiss(f"{host}: not in the cache (offline)", url)
            down = self._down.get(origin)
            if down is not None and (down.connection or remember):
                state.count("failures")
                raise Unavailable(down.message, url)
            expiry = policy.expire_after if expire_after is None else expire_after
            return self._send_with_retries(
                prepared,
                policy,
                state,
                expiry,
                refresh or self.refresh,
                allow_redirects,
                origin=origin,
                remember=remember,
            )

    def _slot(self, state: _Host, policy: HostPolicy) -> AbstractContextManager[Any]:
        """What a request to the host holds while it runs: the host lock, or one of its slots."""
        width = policy.concurrency if policy.min_interval <= 0 else 1
        if width <= 1:
            return state.lock
        with self._hosts_lock:
            if state.slots is None or state.width != width:
                state.slots, state.width = threading.BoundedSemaphore(width), width
            return state.slots

    def _from_cache(
        self, prepared: requests.PreparedRequest, stale_ok: bool = False
    ) -> Reply | None:
        if not self.cached:
            return None
        try:
            cache = self._session.cache  # type: ignore[attr-defined]
            key = cache.create_key(prepared)
            response = cache.get_response(key)
        except Exception as exc:
            self._drop_cache(exc)
            return None
        # Offline, a stale answer beats none at all.
        if response is None or (response.is_expired and not stale_ok):
            return None
        return _reply(prepared, response, from_cache=True, key=key)

    def _send_with_retries(
        self,
        prepared: requests.PreparedRequest,
        policy: HostPolicy,
        state: _Host,
        expire_after: float | None,
        refresh: bool,
        allow_redirects: bool = True,
        *,
        origin: Origin,
        remember: bool,
    ) -> Reply:
        host = host_of(prepared.url or "")

        def give_up(problem: str, response: requests.Response | None, connection: bool) -> NoReturn:
            state.count("failures")
            message = f"{host} unavailable: {problem}"
            if connection or remember:
                # Later requests fail fast instead of sitting through the same backoff.
                self._down[origin] = _Down(message, connection)
            raise Unavailable(
                message,
                prepared.url or "",
                response.status_code if response is not None else None,
                response.headers if response is not None else None,
            )

        attempt = 0
        connection = False
        while True:
            self._pace(state, policy)
            state.count("sent")
            if attempt:
                state.count("retries")
            try:
                response = self._send(prepared, policy, expire_after, refresh, allow_redirects)
                problem, retry_after = self._judge(response)
            except (requests.exceptions.SSLError, TooLarge) as exc:
                # Asking again gets the same certificate or the same answer.
                give_up(_describe(exc), None, _cannot_connect(exc))
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                TooSlow,
            ) as exc:
                response = None
                problem, retry_after = _describe(exc), None
                connection = _cannot_connect(exc)
            except (requests.RequestException, ValueError) as exc:
                # The server's answer cannot be used, and would not change if asked
                # again: a redirect loop, a redirect to file:// or to a malformed
                # URL, a body that does not decompress.
                give_up(_describe(exc), None, False)
            finally:
                state.last_done = self.clock.monotonic()
            if response is not None:
                connection = False
                if allow_redirects and response.is_redirect:
                    # _redirect_target refused to follow it: the server's fault, not retried.
                    give_up(_refused_redirect(response), response, False)
            if response is not None and not problem:
                return _reply(
                    prepared,
                    response,
                    from_cache=False,
                    key=getattr(response, "cache_key", "") or "",
                )
            attempt += 1
            wait = self._backoff(policy, attempt)
            if retry_after is not None:
                if retry_after > policy.max_retry_after:
                    give_up(f"{problem}; asked to retry after {retry_after:.0f} s", response, False)
                wait = max(wait, retry_after)
            if attempt > policy.retries:
                give_up(f"{problem} (after {attempt} attempts)", response, connection)
            self._sleep(state, wait)

    def _send(
        self,
        prepared: requests.PreparedRequest,
        policy: HostPolicy,
        expire_after: float | None,
        refresh: bool,
        allow_redirects: bool = True,
    ) -> requests.Response:
        timeout = _Limits(policy)
        if not self.cached:
            return self._session.send(prepared, timeout=timeout, allow_redirects=allow_redirects)
        try:
            response = self._session.send(
                prepared,
                timeout=timeout,
                allow_redirects=allow_redirects,
                expire_after=-1 if expire_after is None else expire_after,  # type: ignore[call-arg]
                force_refresh=refresh,  # type: ignore[call-arg]
            )
        except requests.RequestException:
            raise  # the network's problem: retried by the caller
        except Exception as exc:
            # sqlite3 or serialisation errors reading the cache: nothing was sent yet.
            self._drop_cache(exc)
            return self._session.send(prepared, timeout=timeout, allow_redirects=allow_redirects)
        if self._save_failures:
            # The answer came but could not be stored: keep it (asking again
            # would skip the host's pacing) and go on without the cache.
            self._drop_cache(self._save_failures.pop())
        return response

    def _judge(self, response: requests.Response) -> tuple[str, float | None]:
        """('' , None) for a final answer; (problem, Retry-After) for a retryable one."""
        if response.status_code not in RETRY_STATUSES:
            return "", None
        now = self.clock.time()
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        if retry_after is None:
            # A spent budget (GitHub's 429) comes back when the window resets, not sooner.
            retry_after = rate_limit_wait(response.headers, now)
        return f"HTTP {response.status_code} {_reason(response)}".strip(), retry_after

    def _backoff(self, policy: HostPolicy, attempt: int) -> float:
        delay = min(policy.backoff_cap, policy.backoff_base * 2 ** (attempt - 1))
        return delay / 2 + self.rng.random() * delay / 2

    def _pace(self, state: _Host, policy: HostPolicy) -> None:
        if state.last_done is None or policy.min_interval <= 0:
            return
        wait = state.last_done + policy.min_interval - self.clock.monotonic()
        if wait > 0:
            self._sleep(state, wait)

    def _sleep(self, state: _Host, seconds: float) -> None:
        state.count("waited", seconds)
        self.clock.sleep(seconds)

    def evict(self, reply: Reply) -> None:
        """Forget a cached answer the caller found unusable (truncated, hostile)."""
        if not (self.cached and reply.cache_key):
            return
        try:
            self._session.cache.delete(reply.cache_key)  # type: ignore[attr-defined]
        except Exception as exc:
            self._drop_cache(exc)

    @contextmanager
    def offline_mode(self) -> Iterator[None]:
        """Temporarily answer from the cache only (used by tests and dry runs)."""
        old = self.offline
        self.offline = True
        try:
            yield
        finally:
            self.offline = old


def _reply(
    prepared: requests.PreparedRequest, response: Any, *, from_cache: bool, key: str
) -> Reply:
    return Reply(
        method=prepared.method or "GET",
        url=prepared.url or "",
        status=int(response.status_code),
        headers=dict(response.headers),
        content=response.content or b"",
        from_cache=from_cache,
        cache_key=key,
    )


_SECRET_LOWER = frozenset(n.lower() for n in SECRET_PARAMETERS)


def _redacting(save: Any, failures: list[BaseException]) -> Any:
    """``save_response`` that also strips secrets from the redirects' requests.

    requests-cache redacts the request of the answer it stores but keeps
    ``history`` (the 301s followed on the way) as sent, ``Authorization``
    included; the hops are replaced by copies without their secrets.  A
    failure to store is put in ``failures`` instead of raised, so that the
    answer already received is not lost with it.
    """

    def save_response(response: Any, cache_key: str | None = None, expires: Any = None) -> None:
        if getattr(response, "history", None):
            # Nothing reads the history after this; the hops' own requests stay intact.
            response.history = [_scrubbed(hop) for hop in response.history]
        try:
            save(response, cache_key, expires)
        except Exception as exc:  # sqlite3 (locked, disk full, read-only) or serialisation
            failures.append(exc)

    return save_response


def _scrubbed(hop: requests.Response) -> requests.Response:
    from requests_cache.cache_keys import filter_url

    # A shallow copy that keeps ``raw`` (requests-cache reads it); copy.copy would drop it.
    clean = requests.Response.__new__(requests.Response)
    clean.__dict__.update(hop.__dict__)
    clean.headers = CaseInsensitiveDict(
        {k: v for k, v in hop.headers.items() if k.lower() not in _SECRET_LOWER}
    )
    if hop.request is not None:
        request = hop.request.copy()
        for name in [n for n in request.headers if n.lower() in _SECRET_LOWER]:
            del request.headers[name]
        request.url = filter_url(request.url or "", SECRET_PARAMETERS)
        clean.request = request
    return clean


def _reason(response: requests.Response) -> str:
    """The reason phrase, as printable text of at most 60 characters (it reaches terminals)."""
    text = "".join(c if c.isprintable() else " " for c in str(response.reason or ""))
    return " ".join(text.split())[:60]


def _rebuild_auth(
    session: requests.Session, prepared: requests.PreparedRequest, response: requests.Response
) -> None:
    """``Session.rebuild_auth`` that drops every credential header, not only ``Authorization``.

    Called by requests for each redirect it follows.  Another origin (host,
    port or scheme, except http to https on the default ports, as requests
    decides it) gets no API key, token or cookie header we set for the first.
    """
    type(session).rebuild_auth(session, prepared, response)
    try:
        elsewhere = session.should_strip_auth(response.request.url or "", prepared.url or "")
    except ValueError:  # a Location with a bad port: the request fails next; send nothing
        elsewhere = True
    if elsewhere:
        for name in [n for n in prepared.headers if _is_credential(n)]:
            del prepared.headers[name]


def _redirect_target(session: requests.Session, response: requests.Response) -> str | None:
    """``Session.get_redirect_target`` that does not follow a Location we cannot ask.

    requests would raise whatever its URL parser raises (``ValueError`` for
    ``http://[::1``) or look for a ``file://`` adapter; returning None ends
    the redirects there, and the client reports the 3xx (:func:`_refused_redirect`).
    """
    target = type(session).get_redirect_target(session, response)
    if target is None or _redirect_problem(response, target):
        return None
    return target


def _redirect_problem(response: requests.Response, target: str) -> str:
    try:
        absolute = urljoin(response.url or "", target.strip())
    except ValueError as exc:
        return f"malformed URL ({exc})"
    return url_problem(absolute.replace(" ", "%20"))


def _refused_redirect(response: requests.Response) -> str:
    location = response.headers.get("Location", "")
    why = _redirect_problem(response, location) or "malformed URL"
    return f"HTTP {response.status_code} redirects to {shown_url(location, 80)!r}: {why}"


def _is_credential(name: str) -> bool:
    if name.lower() == "proxy-authorization":
        return False  # for the proxy, not the origin: requests sets it again for every hop
    return name.lower() in _CREDENTIAL_NAMES or bool(_CREDENTIAL_WORDS.search(name))


def _cannot_connect(exc: BaseException) -> bool:
    """Did the request fail before the server said anything (refused, DNS, connect timeout, TLS)?

    Such a failure holds for every request to the origin; one after the
    connection was made (a reset, a read timeout) may be the page's own.
    """
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        import urllib3.exceptions as u3

        cause = exc.args[0]
        return isinstance(getattr(cause, "reason", cause), u3.NewConnectionError)
    return False


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (TooSlow, TooLarge)):
        return str(exc)
    if isinstance(exc, requests.TooManyRedirects):
        return f"more than {MAX_REDIRECTS} redirects (a redirect loop?)"
    if isinstance(exc, (requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema)):
        return "redirected to a URL that is not http(s)"
    if isinstance(exc, (requests.exceptions.InvalidURL, ValueError)):
        return "redirected to a malformed URL"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "the answer cannot be decompressed (a broken Content-Encoding)"
    if isinstance(exc, requests.exceptions.SSLError):
        reason = (
            "certificate verify failed" if "CERTIFICATE_VERIFY_FAILED" in str(exc) else "TLS error"
        )
        return f"TLS certificate not accepted ({reason}); --insecure (or BIBTOOLS_INSECURE=1) skips the check"
    if isinstance(exc, requests.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.Timeout):
        return "no answer within the read timeout"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    if isinstance(exc, requests.exceptions.InvalidHeader):
        return "broken answer (an invalid header)"
    return f"broken answer ({type(exc).__name__})"


# --------------------------------------------------------------------------
# Limits on one answer


class TooSlow(requests.RequestException):
    """The answer did not arrive in full within the host's deadline (retried like a timeout)."""


class TooLarge(requests.RequestException):
    """The answer is larger than the host's ``max_bytes`` (not retried)."""


class _Limits(Timeout):
    """urllib3's (connect, read) timeout, carrying the host's deadline and size limit.

    requests hands a :class:`urllib3.util.Timeout` to the adapter unchanged,
    which is how the limits reach :class:`_BoundedAdapter` through
    requests-cache.
    """

    def __init__(self, policy: HostPolicy) -> None:
        connect, read = policy.timeout
        super().__init__(connect=connect, read=read)
        self.deadline = policy.deadline
        self.max_bytes = policy.max_bytes


class _BoundedAdapter(HTTPAdapter):
    """Reads answers itself, so that a deadline and a size limit apply to the whole body.

    The per-read timeout of ``requests`` restarts with every byte: a server
    sending one byte a second keeps a plain client forever.  The deadline
    is real time (the socket's), not the client's injectable clock.
    """

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        limits = kwargs.get("timeout")
        if not isinstance(limits, _Limits) or kwargs.get("stream"):
            return super().send(request, **kwargs)
        deadline = None if limits.deadline is None else time.monotonic() + limits.deadline
        kwargs["stream"] = True
        response = super().send(request, **kwargs)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in _chunks(response):
                chunks.append(chunk)
                size += len(chunk)
                if limits.max_bytes is not None and size > limits.max_bytes:
                    raise TooLarge(
                        f"answer larger than {limits.max_bytes / 2**20:.0f} MB", request=request
                    )
                if deadline is not None and time.monotonic() > deadline:
                    raise TooSlow(
                        f"answer not complete after {limits.deadline:g} s", request=request
                    )
        except BaseException:
            response.close()
            raise
        response._content = b"".join(chunks)
        response._content_consumed = True
        return response


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives, one network read at a time.

    ``iter_content`` fills every chunk before handing it over, so a server
    dripping one byte at a time would be seen only once per 64 KB; ``read1``
    returns what one read got.  urllib3's errors become requests' own, as
    ``iter_content`` does it.
    """
    raw = response.raw
    read1 = getattr(raw, "read1", None)
    if read1 is None:  # urllib3 < 2
        yield from response.iter_content(64 * 1024)
        return
    import urllib3.exceptions as u3

    try:
        while chunk := read1(64 * 1024, decode_content=True):
            yield chunk
    except u3.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except u3.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except u3.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(
            exc
        ) from exc  # iter_content says ConnectionError: less true
    except u3.SSLError as exc:
        raise requests.exceptions.SSLError(exc) from exc


# --------------------------------------------------------------------------
# The cache database shared with other processes


def _probe_cache(path: Path, wait: float) -> None:
    """Fail fast on a cache that cannot be written: locked by another process, read-only, not SQLite.

    requests-cache itself would wait forever for a lock another process
    holds (it retries ``BEGIN IMMEDIATE`` in a loop).
    """
    con = sqlite3.connect(str(path), timeout=wait, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("PRAGMA schema_version").fetchone()  # reads the header: "not a database"
        con.execute("ROLLBACK")
    finally:
        con.close()


@functools.cache
def _bounded_sqlite_cache() -> Any:
    """requests-cache's SQLite backend, with a wait for the write lock that ends.

    Its ``SQLiteDict._acquire_sqlite_lock`` retries ``BEGIN IMMEDIATE``
    without end (every 0.1 ms) and swallows a failed write.  On a cache
    directory with a few KB free, ``BEGIN IMMEDIATE`` fails for ever (WAL
    mode cannot create its index), and since the backend creates its tables
    from its constructor, the loop ran before anything of ours could be
    installed.  These classes have the bounded lock from birth: a locked
    database is waited for as long as the connection's ``timeout``, a full
    or read-only one fails at once, and both raise, so that the client
    drops the cache (one warning) instead of hanging or silently losing
    writes.  A requests-cache whose backend is built differently fails in
    the constructor, which drops the cache the same way.
    """
    from requests_cache.backends.base import BaseCache
    from requests_cache.backends.sqlite import SQLiteCache, SQLiteDict

    class BoundedSQLiteDict(SQLiteDict):  # type: ignore[misc]
        @contextmanager
        def _acquire_sqlite_lock(self) -> Iterator[None]:
            with self._lock:
                connection = self._connection
                if connection is None:  # closed: requests-cache reopens it in connection()
                    raise sqlite3.OperationalError("the cache database is closed")
                connection.execute("BEGIN IMMEDIATE")  # waits at most the connect timeout
                self._active_transaction = True
                try:
                    yield
                    connection.commit()
                except BaseException:
                    with suppress(sqlite3.Error):
                        connection.rollback()
                    raise
                finally:
                    self._active_transaction = False

    class BoundedSQLiteCache(SQLiteCache):  # type: ignore[misc]
        def __init__(self, db_path: Path, **kwargs: Any) -> None:
            BaseCache.__init__(self, cache_name=str(db_path))
            self.responses = BoundedSQLiteDict(db_path, table_name="responses", **kwargs)
            self.redirects = BoundedSQLiteDict(
                db_path,
                table_name="redirects",
                lock=self.responses._lock,
                serializer=None,
                **kwargs,
            )

    return BoundedSQLiteCache
