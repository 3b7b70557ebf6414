"""The on-disk cache: requests-cache's SQLite backend with a lock wait that
ends, answers stored without their secrets, and where the cache lives."""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

from .policy import SECRET_PARAMETERS

_SECRET_LOWER = frozenset(n.lower() for n in SECRET_PARAMETERS)


def redacting(save: Any, failures: list[BaseException]) -> Any:
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


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("BIBTOOLS_CACHE_DIR"):
        return Path(env["BIBTOOLS_CACHE_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("bibtools", appauthor=False))


# --------------------------------------------------------------------------
# The cache database shared with other processes


def probe_cache(path: Path, wait: float) -> None:
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
def bounded_sqlite_cache() -> Any:
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

    # The bounded lock replaces a private method: a requests-cache that no
    # longer has it would silently wait without end again, so it is refused
    # (and the run goes on without a cache, with one warning).
    if not callable(getattr(SQLiteDict, "_acquire_sqlite_lock", None)):
        raise RuntimeError("this requests-cache version has no bounded lock hook")

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
