"""The client: one session, cache, pacing, retries and counters (see :mod:`bibtools.http`)."""

from __future__ import annotations

import os
import random
import threading
import types
import warnings
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

import requests

from .cache import bounded_sqlite_cache, default_cache_dir, probe_cache, redacting
from .policy import (
    CACHE_FILE,
    CACHE_LOCK_WAIT,
    MAX_REDIRECTS,
    RETRY_STATUSES,
    SECRET_PARAMETERS,
    STORABLE_STATUSES,
    TRUE_VALUES,
    USER_AGENT,
    BadUrl,
    Clock,
    HostPolicy,
    HostStats,
    OfflineMiss,
    Origin,
    Reply,
    SystemClock,
    Unavailable,
    floor_for,
    host_of,
    origin_of,
    parse_retry_after,
    rate_limit_wait,
    shown_url,
    url_problem,
)
from .transport import (
    BoundedAdapter,
    Limits,
    TooLarge,
    TooSlow,
    cannot_connect,
    describe,
    reason_phrase,
    rebuild_auth,
    redirect_target,
    refused_redirect,
)


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
            insecure = flag.strip().lower() in TRUE_VALUES
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
        session.rebuild_auth = types.MethodType(rebuild_auth, session)  # type: ignore[method-assign]
        session.get_redirect_target = types.MethodType(redirect_target, session)  # type: ignore[method-assign]
        adapter = BoundedAdapter()
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
        probe_cache(path, self.cache_lock_wait)
        backend = bounded_sqlite_cache()(
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
        session.cache.save_response = redacting(  # type: ignore[method-assign]
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
        floor = floor_for(host)
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
                give_up(describe(exc), None, cannot_connect(exc))
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                TooSlow,
            ) as exc:
                response = None
                problem, retry_after = describe(exc), None
                connection = cannot_connect(exc)
            except (requests.RequestException, ValueError) as exc:
                # The server's answer cannot be used, and would not change if asked
                # again: a redirect loop, a redirect to file:// or to a malformed
                # URL, a body that does not decompress.
                give_up(describe(exc), None, False)
            finally:
                state.last_done = self.clock.monotonic()
            if response is not None:
                connection = False
                if allow_redirects and response.is_redirect:
                    # redirect_target refused to follow it: the server's fault, not retried.
                    give_up(refused_redirect(response), response, False)
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
        timeout = Limits(policy)
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
        return f"HTTP {response.status_code} {reason_phrase(response)}".strip(), retry_after

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
