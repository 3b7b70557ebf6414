"""bibtools.http against a real loopback server: retries, pacing, cache, offline, secrets.

Time is a FakeClock: backoff and pacing are asserted from the sleeps the
client asked for, none of which happen.
"""

from __future__ import annotations

import email.utils
import os
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeClock
from fakes.arxiv_server import FakeArxiv, Paper

from bibtools import __version__
from bibtools.http import (
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
