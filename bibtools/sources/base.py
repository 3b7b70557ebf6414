"""What every source client shares: its base URL, its pacing and retry policy,
one lookup result type, and defensive readers of untrusted answers.

A new source (see :mod:`bibtools.sources`) builds on these rather than on
another source's module.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import urlsplit

from ..diagnostics import UsageError
from ..http import HostPolicy, HttpClient, HttpError, OfflineMiss, Reply, host_of
from ..text.names import parse_plain_name

Status = Literal["found", "not-found", "failed", "offline"]
STATUSES: tuple[Status, ...] = ("found", "not-found", "failed", "offline")


def base_url(env: Mapping[str, str], name: str, default: str) -> str:
    """The API URL in ``env[name]`` (else ``default``), without a trailing slash.

    Anything but an http(s) URL with a host and a valid port is a usage
    error, said at once rather than as a failure of every request.
    """
    value = (env.get(name) or "").strip() or default
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or port == 0
        or any(ord(c) < 32 or ord(c) == 127 for c in value)
    ):
        raise UsageError(f"{name} must be an http(s) URL, not {value!r}")
    return value.rstrip("/")


# The environment variables naming each source's servers (``published`` asks three APIs).
API_VARIABLES = {
    "arxiv": ("BIBTOOLS_ARXIV_API",),
    "github": ("BIBTOOLS_GITHUB_API", "BIBTOOLS_GITHUB_WEB"),
    "published": ("BIBTOOLS_S2_API", "BIBTOOLS_DBLP_API", "BIBTOOLS_CROSSREF_API"),
    "crossref": ("BIBTOOLS_CROSSREF_API",),
    "openalex": ("BIBTOOLS_OPENALEX_API",),
    "doi.org": ("BIBTOOLS_DOI_RESOLVER",),
}


def check_api_urls(sources: Iterable[str], env: Mapping[str, str]) -> None:
    """Raise the :func:`base_url` usage error for a bad URL of any of ``sources``, before any request."""
    for source in sources:
        for name in API_VARIABLES.get(source, ()):
            if (env.get(name) or "").strip():
                base_url(env, name, "")


def one_line(value: Any, limit: int = 2000) -> str:
    """Free text from a server (a comment, a description) as one line: for anything else, ``""``.

    Control characters become spaces, white space is collapsed and the text
    is cut at ``limit`` characters (with an ellipsis).  Braces, markup and
    HTML are left as sent: every writer escapes what it writes; what no
    writer can undo (a line break inside a table cell or a diagnostic, a
    10 MB "comment" copied into every output) stops here.
    """
    if not isinstance(value, str):
        return ""
    text = " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in value).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def as_int(value: Any) -> int | None:
    """An integer from untrusted JSON or XML: an int, or a string of ASCII digits; else None.

    ``str.isdigit`` alone accepts "¹" and "٣", which ``int`` refuses or reads
    differently (found by fuzzing).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


# --------------------------------------------------------------------------
# Pacing and policy: one rule for every source.


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def pacing(host: str, public_host: str, default: float, delay: float | None) -> float:
    """The gap between requests: ``delay`` if given, else ``default``, 0 on loopback.

    The public host never gets less than ``default`` (its documented or
    observed limit), whatever the caller asks for.
    """
    if delay is None:
        delay = 0.0 if is_loopback(host) else default
    if delay != delay or delay < 0:
        raise ValueError(f"delay must be a non-negative number of seconds, not {delay!r}")
    if host == public_host or host.endswith("." + public_host):
        delay = max(delay, default)
    return delay


def policy(
    delay: float, timeout: tuple[float, float], retries: int, expire_after: float | None
) -> HostPolicy:
    # Backoff scales with the pacing: 1 s steps for a real API, none for a loopback fake.
    return HostPolicy(
        min_interval=delay,
        timeout=timeout,
        retries=retries,
        backoff_base=min(1.0, delay),
        backoff_cap=60.0,
        expire_after=expire_after,
    )


def json_or_none(content: bytes) -> Any:
    """A JSON answer, or None when it is not UTF-8 JSON (or nests deeper than Python recurses)."""
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


T = TypeVar("T")


@dataclass(slots=True)
class Lookup(Generic[T]):
    """What one lookup or search gave: its status, the value found (a work, a
    list of candidates), and the server's or our message when it failed.

    One type for every source, so callers handle "not found", "failed" and
    "offline" the same way whatever they asked.
    """

    status: Status
    value: T | None = None
    message: str = ""


def polite_headers(user_agent: str, contact: str | None) -> dict[str, str]:
    """JSON, and the contact address in the User-Agent (Crossref's and OpenAlex's polite pools)."""
    headers = {"Accept": "application/json"}
    if contact:
        mailto = f"mailto:{contact}"
        agent = (
            f"{user_agent[:-1]}; {mailto})"
            if user_agent.endswith(")")
            else f"{user_agent} ({mailto})"
        )
        headers["User-Agent"] = agent
    return headers


class SourceClient:
    """What every web API client does the same way: its base URL (an argument,
    else the environment variable :attr:`ENV`, else :attr:`DEFAULT_API`), its
    pacing (never faster than :attr:`DEFAULT_DELAY` on :attr:`PUBLIC_HOST`), its
    retry and cache policy on the shared :class:`~bibtools.http.HttpClient`,
    and one mapping of transport failures to :class:`Lookup` statuses.
    """

    name = ""
    ENV = ""
    DEFAULT_API = ""
    PUBLIC_HOST = ""
    DEFAULT_DELAY = 1.0
    EXPIRE_AFTER = 30 * 86400.0
    # Answers kept in the cache besides 200 (an API's stable "does not exist").
    CACHE_STATUSES: tuple[int, ...] = ()

    def __init__(
        self,
        http: HttpClient,
        *,
        api_url: str | None = None,
        env: Mapping[str, str] | None = None,
        delay: float | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        retries: int = 4,
        expire_after: float | None = None,
    ) -> None:
        env = os.environ if env is None else env
        self.http = http
        self.api_url = (api_url or base_url(env, self.ENV, self.DEFAULT_API)).rstrip("/")
        self.host = host_of(self.api_url)
        self.delay = pacing(self.host, self.PUBLIC_HOST, self.default_delay(), delay)
        expire = self.EXPIRE_AFTER if expire_after is None else expire_after
        host_policy = policy(self.delay, timeout, retries, expire)
        if self.CACHE_STATUSES:
            host_policy = replace(host_policy, cache_statuses=(200, *self.CACHE_STATUSES))
        http.set_policy(self.host, host_policy)

    @classmethod
    def from_env(cls, http: HttpClient, env: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        """The client for the API ``env`` (default: os.environ) names."""
        return cls(http, env=env, **kwargs)

    def default_delay(self) -> float:
        return self.DEFAULT_DELAY

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.api_url!r})"

    def fetch(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply | Lookup[Any]:
        """The reply, or the :class:`Lookup` that says why there is none (offline, failed)."""
        try:
            return self.http.get(url, params=params, headers=headers)
        except OfflineMiss:
            return Lookup("offline", message="not in the cache (offline)")
        except HttpError as exc:
            return Lookup("failed", message=str(exc))


def csl_name(text: str) -> dict[str, str]:
    """A plain ``Given Family`` name as a CSL name object (catalogues send names so)."""
    name = parse_plain_name(text)
    if name.literal:
        return {"literal": name.literal}
    out = {
        "family": name.family,
        "given": name.given,
        "non-dropping-particle": name.particle,
        "suffix": name.suffix,
    }
    return {k: v for k, v in out.items() if v}
