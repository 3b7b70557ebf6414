"""bibtools.http against a real loopback server: retries, pacing, cache, offline, secrets.

Time is a FakeClock: backoff and pacing are asserted from the sleeps the
client asked for, none of which happen.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import FakeClock
from fakes.arxiv_server import FakeArxiv, Paper
from fakes.web_server import FakeWeb, Route

from bibtools import __version__
from bibtools.http import (
    BadUrl,
    HostPolicy,
    HttpClient,
    OfflineMiss,
    Unavailable,
    default_cache_dir,
    parse_retry_after,
    stats_delta,
    total,
)

PAPER = Paper(
    "1605.08386", "Heat-bath random walks with Markov bases", ["Caprice Stanley", "Tobias Windisch"]
)
FAST = HostPolicy(min_interval=0, timeout=(2.0, 2.0), retries=4, backoff_base=1.0, backoff_cap=60.0)


@pytest.fixture
def server() -> Iterator[FakeArxiv]:
    with FakeArxiv([PAPER]) as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def client(clock: FakeClock, cache_dir: Path | None = None, **kwargs: object) -> HttpClient:
    c = HttpClient(cache_dir=cache_dir, clock=clock, rng=random.Random(1), **kwargs)  # type: ignore[arg-type]
    c.set_policy("127.0.0.1", FAST)
    return c


def ask(c: HttpClient, server: FakeArxiv, ids: str = "1605.08386", **kwargs: object):
    return c.get(server.url, params={"id_list": ids, "max_results": 1}, **kwargs)  # type: ignore[arg-type]


# -- identification, answers, retries ----------------------------------------


def test_user_agent_names_bibtools_version_and_url(server: FakeArxiv, clock: FakeClock) -> None:
    reply = ask(client(clock), server)
    assert reply.ok and b"Heat-bath" in reply.content
    ua = server.requests[0].headers["User-Agent"]
    assert ua == f"bibtools/{__version__} (+https://github.com/bibtools/bibtools)"


def test_503s_are_retried_with_growing_jittered_backoff(
    server: FakeArxiv, clock: FakeClock
) -> None:
    server.faults.unavailable = 3
    c = client(clock)
    reply = ask(c, server)
    assert reply.status == 200
    assert server.count == 4
    # backoff n is in [base*2**(n-1)/2, base*2**(n-1)]
    assert len(clock.sleeps) == 3
    for n, slept in enumerate(clock.sleeps, 1):
        assert 2 ** (n - 1) / 2 <= slept <= 2 ** (n - 1)
    stats = c.stats["127.0.0.1"]
    assert (stats.sent, stats.retries, stats.failures) == (4, 3, 0)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_other_retryable_statuses(server: FakeArxiv, clock: FakeClock, status: int) -> None:
    server.faults.statuses = [status]
    assert ask(client(clock), server).status == 200
    assert server.count == 2


@pytest.mark.parametrize("status", [400, 404, 410, 451])
def test_client_errors_are_answers_not_retried(
    server: FakeArxiv, clock: FakeClock, status: int
) -> None:
    server.faults.statuses = [status]
    reply = ask(client(clock), server)
    assert reply.status == status and not reply.ok
    assert server.count == 1
    assert clock.sleeps == []


def test_429_retry_after_seconds_is_honoured(server: FakeArxiv, clock: FakeClock) -> None:
    server.faults.rate_limited = 1
    server.faults.retry_after = "42"
    assert ask(client(clock), server).ok
    assert server.count == 2
    assert clock.sleeps == [42.0]  # longer than the 0.5-1 s backoff, so it wins


def test_429_retry_after_http_date_is_honoured(server: FakeArxiv, clock: FakeClock) -> None:
    server.faults.rate_limited = 1
    server.faults.retry_after = email.utils.formatdate(clock.time() + 90, usegmt=True)
    assert ask(client(clock), server).ok
    assert len(clock.sleeps) == 1 and 89 <= clock.sleeps[0] <= 91


def test_retry_after_beyond_the_limit_gives_up_at_once(server: FakeArxiv, clock: FakeClock) -> None:
    server.faults.rate_limited = 1
    server.faults.retry_after = "86400"
    with pytest.raises(Unavailable, match="retry after 86400"):
        ask(client(clock), server)
    assert server.count == 1 and clock.sleeps == []


def test_exhausted_retries_raise_and_the_host_then_fails_fast(
    server: FakeArxiv, clock: FakeClock
) -> None:
    server.faults.unavailable = 100
    c = client(clock)
    with pytest.raises(Unavailable, match="HTTP 503") as info:
        ask(c, server)
    assert info.value.status == 503
    assert server.count == FAST.retries + 1
    with pytest.raises(Unavailable):
        ask(c, server, ids="1605.08386v1")
    assert server.count == FAST.retries + 1  # no new request
    assert c.stats["127.0.0.1"].failures == 2


def test_connection_refused_is_retried_then_unavailable(
    server: FakeArxiv, clock: FakeClock
) -> None:
    c = client(clock)
    with server.down() as url, pytest.raises(Unavailable, match="connection failed"):
        c.get(url, params={"id_list": "1605.08386"})
    assert c.stats["127.0.0.1"].sent == FAST.retries + 1
    assert len(clock.sleeps) == FAST.retries


def test_read_timeout_is_retried(server: FakeArxiv, clock: FakeClock) -> None:
    server.faults.slow = 1
    c = client(clock)
    c.set_policy("127.0.0.1", HostPolicy(timeout=(2.0, 0.2), retries=2))
    assert ask(c, server).ok
    assert server.count == 2
    assert [r.fault for r in server.requests] == ["slow", ""]


def test_parse_retry_after() -> None:
    now = 1_780_000_000.0
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == pytest.approx(
        30, abs=1
    )
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


# -- pacing -------------------------------------------------------------------


def test_requests_to_one_host_are_spaced_by_its_interval(
    server: FakeArxiv, clock: FakeClock
) -> None:
    c = client(clock)
    c.set_policy("127.0.0.1", HostPolicy(min_interval=3.0))
    for v in (1, 2, 3):
        ask(c, server, ids=f"1605.08386v{v}")
    assert clock.sleeps == [3.0, 3.0]
    clock.advance(10)  # time passed elsewhere: no need to wait
    ask(c, server, ids="1605.08386")
    assert clock.sleeps == [3.0, 3.0]


def test_arxiv_org_never_goes_below_three_seconds(clock: FakeClock) -> None:
    c = HttpClient(clock=clock)
    c.set_policy("export.arxiv.org", HostPolicy(min_interval=0.0))
    c.set_policy("api.github.com", HostPolicy(min_interval=0.0))
    assert c.policy_for("export.arxiv.org").min_interval == 3.0
    assert c.policy_for("arxiv.org").min_interval == 3.0
    assert c.policy_for("api.github.com").min_interval == 0.0
    assert c.policy_for("notarxiv.org").min_interval == HostPolicy().min_interval


# -- cache ----------------------------------------------------------------------


def test_second_request_comes_from_the_cache(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    c = client(clock, tmp_path)
    first, second = ask(c, server), ask(c, server)
    assert not first.from_cache and second.from_cache
    assert second.content == first.content
    assert server.count == 1
    assert (c.stats["127.0.0.1"].sent, c.stats["127.0.0.1"].from_cache) == (1, 1)
    # A new client on the same directory (a second run) needs no request either.
    again = client(clock, tmp_path)
    assert ask(again, server).from_cache and server.count == 1


def test_cache_expiry_follows_the_host_policy(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    import datetime as dt

    c = client(clock, tmp_path)
    c.set_policy("127.0.0.1", HostPolicy(expire_after=24 * 3600))
    reply = ask(c, server)
    stored = c._session.cache.get_response(reply.cache_key)  # type: ignore[attr-defined]
    left = stored.expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=23, minutes=59) < left <= dt.timedelta(hours=24)


def test_post_is_cached_by_body(server: FakeArxiv, clock: FakeClock, tmp_path: Path) -> None:
    c = client(clock, tmp_path)
    body = {"search_query": 'ti:"heat bath random walks"', "max_results": 10}
    assert c.post(server.url, data=body).ok
    assert c.post(server.url, data=body).from_cache
    other = c.post(server.url, data={**body, "max_results": 11})
    assert not other.from_cache
    assert [r.method for r in server.requests] == ["POST", "POST"]


def test_errors_and_throttling_are_never_cached(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    c = client(clock, tmp_path)
    server.faults.error_feed = 1
    assert ask(c, server).status == 400
    assert ask(c, server).status == 200  # the 400 was not stored
    server.faults.rate_limited = 1
    server.faults.unavailable = 1
    assert ask(c, server, ids="1605.08386v1").ok  # after a 429 and a 503
    assert server.count == 5
    assert ask(c, server, ids="1605.08386v1").from_cache


def test_refresh_ignores_and_replaces_the_cache(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    ask(client(clock, tmp_path), server)
    fresh = client(clock, tmp_path, refresh=True)
    assert not ask(fresh, server).from_cache
    assert server.count == 2
    assert not ask(client(clock, tmp_path), server, refresh=True).from_cache
    assert server.count == 3


def test_offline_answers_from_cache_and_counts_misses(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    offline = client(clock, tmp_path, offline=True)
    with pytest.raises(OfflineMiss):
        ask(offline, server)
    assert server.count == 0
    assert offline.stats["127.0.0.1"].offline_misses == 1
    ask(client(clock, tmp_path), server)
    assert ask(offline, server).from_cache
    assert ask(offline, server, refresh=True).from_cache  # offline wins over refresh
    assert server.count == 1


def test_offline_without_any_cache_makes_no_request(server: FakeArxiv, clock: FakeClock) -> None:
    c = client(clock, None, offline=True)
    with pytest.raises(OfflineMiss):
        ask(c, server)
    assert server.count == 0


def test_secrets_are_neither_keys_nor_stored(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    c = client(clock, tmp_path)
    params = {
        "id_list": "1605.08386",
        "api_key": "SECRETKEY123",
        "mailto": "me@example.org",
        "q": "visible789",
    }
    first = c.get(server.url, params=params, headers={"Authorization": "Bearer SECRETTOKEN456"})
    # Other secrets, same request: the same cache entry.
    other = {**params, "api_key": "OTHERKEY", "mailto": "you@example.org"}
    second = c.get(server.url, params=other, headers={"Authorization": "Bearer OTHERTOKEN"})
    assert not first.from_cache and second.from_cache
    assert server.requests[0].params["api_key"] == "SECRETKEY123"  # it was sent, though
    c.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"visible789" in stored  # the entry is there and readable
    for secret in (b"SECRETKEY123", b"SECRETTOKEN456", b"me@example.org", b"OTHERKEY"):
        assert secret not in stored


def test_corrupt_cache_degrades_to_no_cache_with_one_warning(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    (tmp_path / "http-cache.sqlite").write_bytes(b"this is not an sqlite database" * 100)
    c = client(clock, tmp_path)
    assert not c.cached
    assert len(c.warnings) == 1 and "continuing without a cache" in c.warnings[0]
    assert ask(c, server).ok and ask(c, server).ok
    assert server.count == 2
    assert len(c.warnings) == 1


def test_requests_cache_without_the_lock_hook_is_refused_not_silently_unbounded(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A requests-cache release without the private method we override would
    hang on a locked cache again: the cache is given up, with one warning."""
    from requests_cache.backends.sqlite import SQLiteDict

    from bibtools.http import cache

    monkeypatch.delattr(SQLiteDict, "_acquire_sqlite_lock")
    cache.bounded_sqlite_cache.cache_clear()
    try:
        c = client(clock, tmp_path)
        assert not c.cached
        assert len(c.warnings) == 1 and "no bounded lock hook" in c.warnings[0]
        assert ask(c, server).ok
    finally:
        cache.bounded_sqlite_cache.cache_clear()


def test_cache_dir_that_is_a_file_degrades(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    c = client(clock, blocker)
    assert not c.cached and len(c.warnings) == 1
    assert ask(c, server).ok


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_cache_dir_degrades(server: FakeArxiv, clock: FakeClock, tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        c = client(clock, tmp_path)
        assert not c.cached and len(c.warnings) == 1
        assert ask(c, server).ok
    finally:
        tmp_path.chmod(0o700)


def test_cache_failing_mid_run_keeps_the_answer(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    c = client(clock, tmp_path)

    def broken(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    c._session.cache.save_response = broken  # type: ignore[attr-defined,method-assign]
    reply = ask(c, server)
    assert reply.ok and b"Heat-bath" in reply.content
    assert not c.cached and len(c.warnings) == 1


def test_default_cache_dir() -> None:
    assert default_cache_dir({"BIBTOOLS_CACHE_DIR": "/tmp/bt-cache"}) == Path("/tmp/bt-cache")
    assert "bibtools" in str(default_cache_dir({}))


def test_counters_per_host_and_deltas(server: FakeArxiv, clock: FakeClock, tmp_path: Path) -> None:
    c = client(clock, tmp_path)
    ask(c, server)
    before = c.snapshot()
    ask(c, server)
    ask(c, server, ids="1605.08386v1")
    delta = stats_delta(c.snapshot(), before)
    assert (delta["127.0.0.1"].sent, delta["127.0.0.1"].from_cache) == (1, 1)
    assert total(c.stats).sent == 2


def test_offline_and_refresh_exclude_each_other() -> None:
    with pytest.raises(ValueError):
        HttpClient(offline=True, refresh=True)


def test_one_request_at_a_time_per_host_hosts_in_parallel(
    server: FakeArxiv, clock: FakeClock
) -> None:
    import threading

    c = client(clock)
    c.set_policy("localhost", FAST)
    entered, release = threading.Event(), threading.Event()
    done: list[str] = []
    real_send = c._session.send

    def send(prepared, **kwargs):  # type: ignore[no-untyped-def]
        if "127.0.0.1" in prepared.url and not entered.is_set():
            entered.set()
            release.wait(10)  # held until the main thread has seen what it needs
        return real_send(prepared, **kwargs)

    c._session.send = send  # type: ignore[method-assign]
    first = threading.Thread(target=lambda: done.append(ask(c, server).url))
    first.start()
    try:
        assert entered.wait(10)
        assert c._host("127.0.0.1").lock.locked()  # held for the whole request
        other = c.get(
            server.url.replace("127.0.0.1", "localhost"), params={"id_list": "1605.08386"}
        )
        assert other.ok and done == []  # another host was not held up
    finally:
        release.set()
        first.join(10)
    assert len(done) == 1 and server.count == 2


# -- hostile servers: secrets on redirects, unusable answers, bad URLs ---------

SECRETS = {
    "Authorization": "Bearer SECRET-AUTH",
    "x-api-key": "SECRET-S2-KEY",
    "X-Foo-Token": "SECRET-TOKEN",
    "Cookie": "session=SECRET-COOKIE",
}


def seen_secrets(headers: dict[str, str]) -> list[str]:
    text = repr(headers)
    return [v for v in SECRETS.values() if v.split("=")[-1] in text]


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    with FakeWeb() as fake:
        yield fake


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("elsewhere", ["127.0.0.1", "localhost"], ids=["other port", "other host"])
def test_no_secret_header_follows_a_redirect_to_another_origin(
    status: int, elsewhere: str, web: FakeWeb, clock: FakeClock
) -> None:
    with FakeWeb({"/landing": Route()}, host_name=elsewhere) as other:
        url = web.route("/api", status=status, location=other.url("/landing"))
        reply = client(clock).get(url, headers={**SECRETS, "Accept": "application/json"})
        (arrived,) = other.headers_seen()
    assert reply.ok and reply.url == url
    (sent,) = web.headers_seen()
    assert len(seen_secrets(sent)) == len(SECRETS)  # the first origin got them all
    assert seen_secrets(arrived) == []
    assert arrived["Accept"] == "application/json"  # what is not a secret goes along
    assert arrived["User-Agent"].startswith("bibtools/")


def test_a_redirect_within_the_origin_keeps_the_headers(web: FakeWeb, clock: FakeClock) -> None:
    web.route("/new")
    url = web.route("/old", status=307, location="/new")
    assert client(clock).get(url, headers=SECRETS).ok
    first, second = web.headers_seen()
    assert len(seen_secrets(first)) == len(SECRETS)
    # All but the Cookie header, which requests itself rebuilds from its jar on every hop.
    assert seen_secrets(second) == [v for k, v in SECRETS.items() if k != "Cookie"]


BAD_GZIP = {"Content-Encoding": "gzip", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("route", "problem", "requests_made"),
    [
        (None, "more than 10 redirects (a redirect loop?)", 11),
        (Route(302, location="file:///etc/passwd"), "not an http(s) URL (scheme 'file')", 1),
        (Route(301, location="http://[::1/x"), "malformed URL (Invalid IPv6 URL)", 1),
        (Route(307, location="http://127.0.0.1:99999/x"), "malformed URL (Port out of range", 1),
        (Route(302, location="gopher://127.0.0.1:70/"), "not an http(s) URL (scheme 'gopher')", 1),
        (
            Route(200, body=b"\x1f\x8b not gzip at all", headers=BAD_GZIP),
            "cannot be decompressed",
            1,
        ),
    ],
    ids=["loop", "file", "malformed", "port 99999", "gopher", "bad gzip"],
)
def test_an_answer_that_cannot_be_used_is_one_error_at_once(
    route: Route | None, problem: str, requests_made: int, web: FakeWeb, clock: FakeClock
) -> None:
    url = web.loop("/a", "/b") if route is None else web.url("/x")
    if route is not None:
        web.routes["/x"] = route
    c = client(clock)
    with pytest.raises(Unavailable) as info:
        c.get(url)
    message = str(info.value)
    assert problem in message and "\n" not in message
    assert web.count() == requests_made  # not retried: the same answer would come again
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.org/x", "not an http(s) URL (scheme 'ftp')"),
        ("file:///etc/passwd", "not an http(s) URL (scheme 'file')"),
        ("http://127.0.0.1:99999/x", "malformed URL (Port out of range"),
        ("http://127.0.0.1:0/x", "port 0"),
        ("https://[::1/x", "malformed URL (Invalid IPv6 URL)"),
        ("http:///no-host", "no host"),
        ("http://example.org/a\nHost: evil", "control characters"),
        ("example.org/x", "not an http(s) URL"),
    ],
)
def test_a_url_that_cannot_be_asked_is_refused_without_a_request(
    url: str, problem: str, clock: FakeClock
) -> None:
    c = client(clock)
    with pytest.raises(BadUrl) as info:
        c.get(url, params={"api_key": "SECRET"})
    assert problem in str(info.value) and "\n" not in str(info.value)
    assert "SECRET" not in str(info.value)
    assert total(c.stats).sent == 0


# -- what a failure says about the next request ---------------------------------


def test_an_api_that_fails_does_not_condemn_another_port_of_its_host(
    server: FakeArxiv, web: FakeWeb, clock: FakeClock
) -> None:
    server.faults.unavailable = 100
    c = client(clock)  # FAST on 127.0.0.1: an API's policy, failing fast
    with pytest.raises(Unavailable, match="HTTP 503"):
        ask(c, server)
    with pytest.raises(Unavailable):
        ask(c, server)  # the API's origin fails fast...
    assert server.count == FAST.retries + 1
    assert c.get(web.route("/page")).ok  # ...another port of 127.0.0.1 is asked
    # A caller that does not fail fast (the link checker) still asks the API's origin.
    with pytest.raises(Unavailable, match="HTTP 503"):
        ask(c, server, fail_fast=False)
    assert server.count == 2 * (FAST.retries + 1)


def test_a_page_answering_500_does_not_condemn_its_neighbours(
    web: FakeWeb, clock: FakeClock
) -> None:
    c = client(clock)
    c.set_policy("127.0.0.1", replace(FAST, fail_fast=False))  # a web site
    broken = web.route("/broken", status=500)
    with pytest.raises(Unavailable, match="HTTP 500"):
        c.get(broken)
    assert c.get(web.route("/fine")).ok
    assert web.count("/fine") == 1


def test_an_origin_that_refuses_connections_is_not_asked_again(
    web: FakeWeb, clock: FakeClock
) -> None:
    c = client(clock)
    c.set_policy("127.0.0.1", replace(FAST, fail_fast=False))  # even for a web site
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(Unavailable, match="connection failed"):
        c.get(dead + "/a")
    sent = total(c.stats).sent
    assert sent == FAST.retries + 1
    with pytest.raises(Unavailable, match="connection failed"):
        c.get(dead + "/b", fail_fast=False)
    assert total(c.stats).sent == sent  # known dead: not asked, no backoff again
    assert c.get(web.route("/alive")).ok  # the same host on another port is


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- a cache directory on a full disk --------------------------------------------


class _FullDisk(sqlite3.Connection):
    """A connection to a database on a disk with a few KB free.

    Reading works; in WAL mode (requests-cache's) every write transaction
    fails, since SQLite cannot create the WAL index.  ``begins`` counts the
    attempts: requests-cache's own lock retried them without end, so the
    1001st raises instead of letting a broken client spin for ever.
    """

    begins = 0

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
        statement = " ".join(sql.split()).upper()
        if statement.startswith("PRAGMA JOURNAL_MODE=WAL"):
            self.wal = True
        if getattr(self, "wal", False) and statement == "BEGIN IMMEDIATE":
            type(self).begins += 1
            if type(self).begins > 1000:
                raise RuntimeError("BEGIN IMMEDIATE retried without end")
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, *args)  # type: ignore[arg-type]


def test_a_cache_on_a_full_disk_is_given_up_at_once(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect = sqlite3.connect
    monkeypatch.setattr(_FullDisk, "begins", 0)
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: connect(*a, factory=_FullDisk, **k))
    c = client(clock, tmp_path)
    assert not c.cached
    assert c.warnings == [
        f"HTTP cache {tmp_path / 'http-cache.sqlite'} cannot be used "
        "(database or disk is full); continuing without a cache"
    ]
    assert _FullDisk.begins == 1  # one attempt, not a loop
    assert ask(c, server).ok and ask(c, server).ok  # the run goes on, uncached
    assert server.count == 2


_CHILD = """
import json, os, sys, time
from bibtools.http import HttpClient
folder = sys.argv[1]
stat = os.statvfs(folder)
with open(os.path.join(folder, "filler"), "wb") as f:  # leave 16 KB free
    f.write(b"x" * (stat.f_bavail * stat.f_frsize - 16 * 1024))
started = time.monotonic()
client = HttpClient(cache_dir=os.path.join(folder, "cache"))
print(json.dumps({"cached": client.cached, "warnings": client.warnings,
                  "seconds": time.monotonic() - started}))
"""


@pytest.mark.skipif(
    not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("unshare")),
    reason="mounting a small tmpfs needs root and unshare",
)
def test_a_cache_on_a_real_filesystem_with_16_kb_free(tmp_path: Path) -> None:
    # A private mount namespace: the tmpfs disappears with the child.
    script = f'mount -t tmpfs -o size=256k tmpfs "$1" && exec "{sys.executable}" -c "$2" "$1"'
    try:
        done = subprocess.run(
            ["unshare", "--mount", "sh", "-c", script, "sh", str(tmp_path), _CHILD],
            capture_output=True,
            text=True,
            timeout=60,  # requests-cache looped here for ever
        )
    except subprocess.TimeoutExpired:
        pytest.fail("opening a cache on a full disk hung")
    if done.returncode and "mount" in done.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["cached"] is False and len(result["warnings"]) == 1
    assert "continuing without a cache" in result["warnings"][0]
    assert result["seconds"] < 10


def test_credential_headers_are_recognised_by_name() -> None:
    from bibtools.http.transport import is_credential as _is_credential

    for name in ("Authorization", "x-api-key", "X-Api-Key", "X-Foo-Token", "Cookie", "X-Secret"):
        assert _is_credential(name), name
    for name in ("Accept", "User-Agent", "X-GitHub-Api-Version", "Range", "Proxy-Authorization"):
        assert not _is_credential(name), name
