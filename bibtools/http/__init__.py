"""The one HTTP layer every metadata source goes through (a package:
:mod:`.policy` without ``requests``, :mod:`.transport`, :mod:`.cache`,
:mod:`.client`).

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

from typing import TYPE_CHECKING, Any

from .policy import (
    CACHE_FILE,
    SECRET_PARAMETERS,
    USER_AGENT,
    BadUrl,
    Clock,
    HostPolicy,
    HostStats,
    HttpError,
    OfflineMiss,
    Origin,
    Reply,
    SystemClock,
    Unavailable,
    host_of,
    origin_of,
    parse_retry_after,
    rate_limit_wait,
    shown_url,
    stats_delta,
    total,
    url_problem,
)

if TYPE_CHECKING:
    from .cache import default_cache_dir
    from .client import HttpClient

# ``requests`` (and requests-cache) load on first use of the client, so that
# offline commands naming a policy or an error stay fast to start.
_LAZY = {"HttpClient": "client", "default_cache_dir": "cache"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CACHE_FILE",
    "SECRET_PARAMETERS",
    "USER_AGENT",
    "BadUrl",
    "Clock",
    "HostPolicy",
    "HostStats",
    "HttpClient",
    "HttpError",
    "OfflineMiss",
    "Origin",
    "Reply",
    "SystemClock",
    "Unavailable",
    "default_cache_dir",
    "host_of",
    "origin_of",
    "parse_retry_after",
    "rate_limit_wait",
    "shown_url",
    "stats_delta",
    "total",
    "url_problem",
]
