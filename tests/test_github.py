"""bibtools.sources.github against the loopback GitHub (REST, GraphQL, web pages).

Every request is counted by the fake; time is a FakeClock shared by the
client (waits) and the fake (rate-limit windows), so nothing sleeps.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeClock
from fakes.github_server import (
    RECORDED_MOVES,
    FakeGitHub,
    Repo,
    Secondary,
    hostile_repo,
    recorded_repos,
    synthetic_repo,
)

from bibtools import __version__
from bibtools.diagnostics import UsageError
from bibtools.http import HttpClient
from bibtools.sources.github import (
    API_VERSION,
    GitHubClient,
    RepoInfo,
    duration,
    graphql_body,
)

TOKEN = "ghp_TESTTOKEN0123456789abcdefABCDEF"


def lab_repos(n: int, start: int = 0, **kwargs: object) -> list[Repo]:
    return [
        synthetic_repo(f"lab{i}/tool{i}", 10_000 + i, stars=i, **kwargs)  # type: ignore[arg-type]
        for i in range(start, start + n)
    ]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gh(clock: FakeClock) -> Iterator[FakeGitHub]:
    with FakeGitHub(recorded_repos(), clock=clock, token=TOKEN) as fake:
        yield fake


def http_client(clock: FakeClock, cache: Path | None, **kwargs: object) -> HttpClient:
    return HttpClient(cache_dir=cache, clock=clock, rng=random.Random(1), **kwargs)  # type: ignore[arg-type]


def github(
    http: HttpClient, fake: FakeGitHub, token: str | None = None, **kwargs: object
) -> GitHubClient:
    return GitHubClient(
        http,
        api_url=fake.api_url,
        web_url=fake.web_url,
        token=token,
        timeout=(2.0, 2.0),
        **kwargs,  # type: ignore[arg-type]
    )


# -- one repository at a time ------------------------------------------------


def test_rest_request_carries_the_headers_github_asks_for(gh: FakeGitHub, clock: FakeClock) -> None:
    info = github(http_client(clock, None), gh).check(["twbs/bootstrap"])["twbs/bootstrap"]
    assert info.status == "live"
    (req,) = [r for r in gh.log if r.server == "api"]
    assert req.path == "/repos/twbs/bootstrap"
    assert req.headers["Accept"] == "application/vnd.github+json"
    assert req.headers["X-GitHub-Api-Version"] == API_VERSION
    assert req.headers["User-Agent"].startswith(f"bibtools/{__version__}")
    assert "Authorization" not in req.headers


def test_recorded_repositories_are_read_with_their_metadata(
    gh: FakeGitHub, clock: FakeClock
) -> None:
    infos = github(http_client(clock, None), gh).check(
        [
            "twbs/bootstrap",
            "qiskit-community/qiskit-qec",
            "openframeworks/openFrameworks",
            "jacquev6/PyGithub",
            "testgh3py/i-have-been-archived",
            "JLLeitschuh/security-research",
        ]
    )
    boot = infos["twbs/bootstrap"]
    assert (boot.status, boot.stars, boot.license, boot.pushed_at) == (
        "live",
        171281,
        "MIT",
        "2025-01-30T15:22:31Z",
    )
    assert boot.url == "https://github.com/twbs/bootstrap" and boot.via == "rest"
    assert infos["qiskit-community/qiskit-qec"].license == "Apache-2.0"
    assert infos["JLLeitschuh/security-research"].license == "CC0-1.0"
    # NOASSERTION is not an SPDX id: no licence id, GitHub's name kept.
    of = infos["openframeworks/openFrameworks"]
    assert (of.license, of.license_name) == ("", "Other")
    # 2012 answers had no full_name, license or archived; stars were "watchers".
    legacy = infos["jacquev6/PyGithub"]
    assert (legacy.status, legacy.full_name, legacy.stars) == ("live", "jacquev6/PyGithub", 13)
    archived = infos["testgh3py/i-have-been-archived"]
    assert archived.status == "archived" and archived.archived


def test_recorded_moves_follow_the_301_and_report_the_new_name(
    gh: FakeGitHub, clock: FakeClock
) -> None:
    moves = gh.add_recorded_moves()
    infos = github(http_client(clock, None), gh).check([old for old, _ in moves])
    for old, target in moves:
        info = infos[old]
        assert info.status == "moved", old
        assert info.http_status == 301
        assert info.full_name == target.full_name
        assert info.new_url == f"https://github.com/{target.full_name}"
    assert infos["kennethreitz/requests"].new_url == "https://github.com/requests/requests"
    assert infos["ReDASers/Phishing-Detection"].new_url == "https://github.com/ReDASers/PhishBench"
    # One 301 and one GET of /repositories/{id} per move.
    assert gh.count("api", "/repos/") == len(RECORDED_MOVES)
    assert gh.count("api", "/repositories/") == len(RECORDED_MOVES)


def test_case_only_differences_are_not_moves(gh: FakeGitHub, clock: FakeClock) -> None:
    info = github(http_client(clock, None), gh).check(["TWBS/Bootstrap"])["TWBS/Bootstrap"]
    assert info.status == "live" and info.full_name == "twbs/bootstrap" and not info.new_url


def test_404_is_missing_451_is_blocked_disabled_and_archived_flags(
    gh: FakeGitHub, clock: FakeClock
) -> None:
    gh.block("evil/takedown")
    gh.add(synthetic_repo("lab/off", 77, disabled=True))
    gh.add(synthetic_repo("lab/old", 78, archived=True))
    infos = github(http_client(clock, None), gh, web_fallback=False).check(
        ["nobody/nothing", "evil/takedown", "lab/off", "lab/old"]
    )
    assert (infos["nobody/nothing"].status, infos["nobody/nothing"].http_status) == ("missing", 404)
    blocked = infos["evil/takedown"]
    assert (blocked.status, blocked.http_status) == ("blocked", 451)
    assert "dmca" in blocked.message
    assert infos["lab/off"].status == "disabled"
    assert infos["lab/old"].status == "archived"


def test_410_is_missing_and_a_400_is_not(gh: FakeGitHub, clock: FakeClock) -> None:
    gh.add(synthetic_repo("lab/gone", 79)).errors = [410]
    gh.add(synthetic_repo("lab/odd", 80)).errors = [400]
    client = github(http_client(clock, None), gh, web_fallback=False)
    infos = client.check(["lab/gone", "lab/odd"])
    assert (infos["lab/gone"].status, infos["lab/gone"].http_status) == ("missing", 410)
    assert (infos["lab/odd"].status, infos["lab/odd"].http_status) == ("unreachable", 400)


def test_impossible_names_are_missing_without_a_request(gh: FakeGitHub, clock: FakeClock) -> None:
    infos = github(http_client(clock, None), gh).check(["a b/c", "../etc", "o/r?x=1"])
    assert all(i.status == "missing" for i in infos.values())
    assert gh.count("api") == 0 and gh.count("web") == 0


def test_5xx_are_retried_then_answered(gh: FakeGitHub, clock: FakeClock) -> None:
    gh.repos["twbs/bootstrap"].errors = [500, 502]
    info = github(http_client(clock, None), gh).check(["twbs/bootstrap"])["twbs/bootstrap"]
    assert info.status == "live"
    assert gh.count("api") == 3
    assert len(clock.sleeps) == 2  # backoff, through the fake clock


def test_5xx_after_retries_is_unreachable_never_missing(gh: FakeGitHub, clock: FakeClock) -> None:
    gh.repos["twbs/bootstrap"].errors = [500] * 10
    info = github(http_client(clock, None), gh, web_fallback=False, retries=2).check(
        ["twbs/bootstrap"]
    )["twbs/bootstrap"]
    assert info.status == "unreachable"
    assert info.http_status == 500
    assert gh.count("api") == 3


def test_api_down_falls_back_on_the_web_page(gh: FakeGitHub, clock: FakeClock) -> None:
    http = http_client(clock, None)
    web = gh.web_url
    with gh.api_down() as dead_api:
        client = GitHubClient(http, api_url=dead_api, web_url=web, timeout=(1.0, 1.0), retries=1)
        infos = client.check(["twbs/bootstrap", "nobody/nothing"])
    live, gone = infos["twbs/bootstrap"], infos["nobody/nothing"]
    assert (live.status, live.via) == ("live", "web")
    assert "the API did not answer" in live.message and live.stars is None
    # Missing because the web page says 404, not because the API was down.
    assert (gone.status, gone.http_status, gone.via) == ("missing", 404, "web")


def test_api_down_without_web_fallback_is_unreachable(gh: FakeGitHub, clock: FakeClock) -> None:
    http = http_client(clock, None)
    with gh.api_down() as dead_api:
        client = GitHubClient(http, api_url=dead_api, web_fallback=False, retries=1)
        info = client.check(["nobody/nothing"])["nobody/nothing"]
    assert info.status == "unreachable" and "unavailable" in info.message


# -- the budget without a token ------------------------------------------------


def eighty(fake: FakeGitHub) -> list[str]:
    """80 repositories: 13 recorded, 5 recorded moves, 2 missing, 1 blocked, 59 synthetic."""
    slugs = [r.full_name for r in recorded_repos()]
    slugs += [old for old, _ in fake.add_recorded_moves()]
    slugs += ["nobody/nothing", "ghost/gone"]
    slugs.append(fake.block("evil/takedown").full_name)
    for repo in lab_repos(59):
        slugs.append(fake.add(repo).full_name)
    assert len(set(slugs)) == 80
    return slugs


def test_without_a_token_80_repositories_spend_at_most_60_requests(
    clock: FakeClock, tmp_path: Path
) -> None:
    with FakeGitHub(clock=clock, limit=60, reset_in=2400) as fake:
        slugs = eighty(fake)
        client = github(http_client(clock, tmp_path / "cache"), fake)
        infos = client.check(slugs)
    assert fake.count("api") <= 60
    assert fake.spent() == 60
    by_rest = [i for i in infos.values() if i.via == "rest"]
    by_web = [i for i in infos.values() if i.via == "web"]
    assert len(by_rest) + len(by_web) == 80
    assert len(by_rest) == 60 - len(RECORDED_MOVES)  # a move costs the 301 and the answer
    # The rest were checked on the web page: live/missing/moved only, honestly labelled.
    assert all(i.stars is None and "web page" in i.message for i in by_web)
    assert {i.status for i in by_web} == {"live"}
    assert infos["nobody/nothing"].status == "missing"
    assert infos["evil/takedown"].status == "blocked"
    assert all(infos[old].status == "moved" for old, *_ in RECORDED_MOVES)
    assert fake.count("web") == len(by_web)
    assert client.counts["web_sent"] == len(by_web)


def test_without_web_fallback_the_rest_is_rate_limited_with_the_reset_time(
    clock: FakeClock, tmp_path: Path
) -> None:
    with FakeGitHub(clock=clock, limit=60, reset_in=2400) as fake:
        slugs = eighty(fake)
        client = github(http_client(clock, tmp_path / "cache"), fake, web_fallback=False)
        infos = client.check(slugs)
    limited = [i for i in infos.values() if i.status == "rate-limited"]
    assert len(limited) == 80 - (60 - len(RECORDED_MOVES))
    reset = fake.windows["anon"].reset
    hhmm = __import__("time").strftime("%H:%M", __import__("time").gmtime(reset))
    for info in limited:
        assert "budget is spent (60 an hour without a token)" in info.message
        assert f"it resets in 40 min ({hhmm} UTC)" in info.message
    assert not any(i.status == "missing" for i in limited)
    assert fake.count("api") <= 60 and fake.count("web") == 0
    assert client.reset_at == reset


def test_a_near_reset_is_waited_for_through_the_clock(clock: FakeClock, tmp_path: Path) -> None:
    with FakeGitHub(lab_repos(8), clock=clock, limit=5, reset_in=100) as fake:
        client = github(http_client(clock, tmp_path / "cache"), fake, max_wait=300)
        infos = client.check([f"lab{i}/tool{i}" for i in range(8)])
    assert all(i.status == "live" and i.via == "rest" for i in infos.values())
    assert fake.count("api") == 8 and fake.count("web") == 0
    assert 100 <= clock.slept <= 102


def test_a_budget_spent_elsewhere_answers_429_once_and_is_not_retried(
    clock: FakeClock, tmp_path: Path
) -> None:
    with FakeGitHub(lab_repos(4), clock=clock, limit=60, primary_status=429) as fake:
        client = github(http_client(clock, tmp_path / "cache"), fake, web_fallback=False)
        first = client.check(["lab0/tool0"])
        fake.windows["anon"].remaining = 0  # another tool on this IP spent the rest
        rest = client.check([f"lab{i}/tool{i}" for i in range(1, 4)])
    assert first["lab0/tool0"].status == "live"
    assert [i.status for i in rest.values()] == ["rate-limited"] * 3
    assert "budget is spent" in rest["lab1/tool1"].message
    # The 429 named a reset an hour away: no retry, no waiting.
    assert fake.count("api") == 2
    assert clock.slept == 0


def test_cached_answers_are_used_once_the_budget_is_spent(clock: FakeClock, tmp_path: Path) -> None:
    with FakeGitHub(lab_repos(6), clock=clock, limit=4, reset_in=2400) as fake:
        cache = tmp_path / "cache"
        github(http_client(clock, cache), fake).check([f"lab{i}/tool{i}" for i in range(2)])
        fake.reset_log()
        client = github(http_client(clock, cache), fake, web_fallback=False)
        infos = client.check([f"lab{i}/tool{i}" for i in range(6)])
    # 2 from the cache, 2 with what was left of the budget, 2 rate-limited.
    assert [i.status for i in infos.values()] == ["live"] * 4 + ["rate-limited"] * 2
    assert [i.from_cache for i in infos.values()][:2] == [True, True]
    assert fake.count("api") == 2


# -- secondary limits ------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_limits_with_retry_after_are_waited_out(
    gh: FakeGitHub, clock: FakeClock, status: int
) -> None:
    gh.secondary = [Secondary(status, "60")]
    info = github(http_client(clock, None), gh).check(["twbs/bootstrap"])["twbs/bootstrap"]
    assert info.status == "live"
    assert gh.count("api") == 2
    assert 60 in clock.sleeps


def test_a_secondary_limit_without_retry_after_waits_a_minute(
    gh: FakeGitHub, clock: FakeClock
) -> None:
    gh.secondary = [Secondary(403, None)]  # the recorded "abuse detection" body, no header
    info = github(http_client(clock, None), gh).check(["twbs/bootstrap"])["twbs/bootstrap"]
    assert info.status == "live" and 60 in clock.sleeps


@pytest.mark.parametrize("status", [403, 429])
def test_a_long_secondary_limit_is_reported_never_missing(
    gh: FakeGitHub, clock: FakeClock, status: int
) -> None:
    gh.secondary = [Secondary(status, "3600") for _ in range(10)]
    client = github(http_client(clock, None), gh, web_fallback=False, max_wait=300)
    infos = client.check(["twbs/bootstrap", "nobody/nothing"])
    assert [i.status for i in infos.values()] == ["rate-limited", "rate-limited"]
    assert all("secondary rate limit" in i.message for i in infos.values())
    assert clock.slept == 0


# -- cache and conditional requests ----------------------------------------------


def test_a_second_run_inside_the_cache_lifetime_sends_nothing(
    gh: FakeGitHub, clock: FakeClock, tmp_path: Path
) -> None:
    gh.add_recorded_moves()
    gh.block("evil/takedown")
    slugs = ["twbs/bootstrap", "kennethreitz/requests", "nobody/nothing", "evil/takedown"]
    cache = tmp_path / "cache"
    first = github(http_client(clock, cache), gh).check(slugs)
    spent = gh.spent()
    gh.reset_log()
    second = github(http_client(clock, cache), gh).check(slugs)
    assert gh.count("api") == 0 and gh.count("web") == 0
    assert spent == 5
    assert [i.status for i in second.values()] == [i.status for i in first.values()]
    assert all(i.from_cache for i in second.values())


def test_expired_answers_are_revalidated_and_304s_cost_no_budget(
    gh: FakeGitHub, clock: FakeClock, tmp_path: Path
) -> None:
    slugs = ["twbs/bootstrap", "PyGithub/PyGithub", "qiskit-community/qiskit-qec"]
    cache = tmp_path / "cache"
    # expire_after=0: stored, but stale at once, so every use revalidates.
    github(http_client(clock, cache), gh, expire_after=0).check(slugs)
    before = gh.windows["anon"].remaining
    gh.reset_log()
    client = github(http_client(clock, cache), gh, expire_after=0)
    infos = client.check(slugs)
    statuses = [r.status for r in gh.log]
    assert statuses == [304, 304, 304]
    assert all(
        r.headers.get("If-None-Match") == gh.repos[s.lower()].etag
        for r, s in zip(gh.log, slugs, strict=True)
    )
    assert gh.windows["anon"].remaining == before  # nothing spent
    assert infos["twbs/bootstrap"].stars == 171281
    assert client.budgets["core"].remaining == before  # read from the 304


# -- with a token: GraphQL ---------------------------------------------------------


def test_graphql_batches_50_repositories_a_query_and_confirms_moves_by_rest(
    clock: FakeClock, tmp_path: Path
) -> None:
    with FakeGitHub(lab_repos(110), clock=clock, token=TOKEN) as fake:
        moves = fake.add_recorded_moves()
        fake.block("evil/takedown")
        slugs = [f"lab{i}/tool{i}" for i in range(110)] + [old for old, _ in moves]
        slugs += ["nobody/nothing", "evil/takedown"]
        client = github(http_client(clock, tmp_path / "cache"), fake, token=TOKEN)
        infos = client.check(slugs)
        graphql = [r for r in fake.log if r.path == "/graphql"]
    n = len(slugs)  # 117
    assert len(graphql) == math.ceil(n / 50) == 3
    # REST only to confirm moves (each: the 301 and the answer it points to).
    assert fake.count("api", "/repos/") == len(moves)
    assert fake.count("api", "/repositories/") == len(moves)
    for old, target in moves:
        assert (infos[old].status, infos[old].new_url) == (
            "moved",
            f"https://github.com/{target.full_name}",
        )
        assert infos[old].via == "rest"
    assert infos["lab7/tool7"].stars == 7 and infos["lab7/tool7"].via == "graphql"
    assert infos["lab7/tool7"].license == "MIT"
    # GraphQL hides takedowns as NOT_FOUND: the web page tells them apart from a miss.
    assert infos["nobody/nothing"].status == "missing"
    assert infos["evil/takedown"].status == "blocked"
    bodies = [json.loads(r.body) for r in graphql]
    assert all(len(b["variables"]) <= 100 for b in bodies)
    # Owners and names travel as variables, never inside the query text.
    assert all("lab1" not in b["query"] for b in bodies)


def test_graphql_second_run_is_free(clock: FakeClock, tmp_path: Path) -> None:
    with FakeGitHub(lab_repos(60), clock=clock, token=TOKEN) as fake:
        moves = fake.add_recorded_moves()
        slugs = [f"lab{i}/tool{i}" for i in range(60)] + [old for old, _ in moves]
        cache = tmp_path / "cache"
        github(http_client(clock, cache), fake, token=TOKEN).check(slugs)
        first = fake.count("api")
        fake.reset_log()
        infos = github(http_client(clock, cache), fake, token=TOKEN).check(slugs)
        assert fake.count("api") == 0 and fake.spent() == 0
    assert first == 2 + 2 * len(moves)
    assert sum(i.status == "moved" for i in infos.values()) == len(moves)


def test_graphql_not_following_renames_is_caught_on_the_web_page(
    clock: FakeClock, tmp_path: Path
) -> None:
    with FakeGitHub(clock=clock, token=TOKEN, graphql_follows_renames=False) as fake:
        moves = fake.add_recorded_moves()
        client = github(http_client(clock, tmp_path / "cache"), fake, token=TOKEN)
        infos = client.check([old for old, _ in moves] + ["nobody/nothing"])
        web = fake.count("web")
    for old, target in moves:
        assert infos[old].status == "moved"
        assert infos[old].new_url == f"https://github.com/{target.full_name}"
    assert infos["nobody/nothing"].status == "missing"
    assert web == 2 * len(moves) + 1  # each move: the 301 page and the page it leads to


def test_graphql_rate_limited_is_never_cached_nor_missing(clock: FakeClock, tmp_path: Path) -> None:
    with FakeGitHub(lab_repos(3), clock=clock, token=TOKEN, graphql_limit=0) as fake:
        cache = tmp_path / "cache"
        client = github(http_client(clock, cache), fake, token=TOKEN, web_fallback=False)
        infos = client.check([f"lab{i}/tool{i}" for i in range(3)])
        assert [i.status for i in infos.values()] == ["rate-limited"] * 3
        fake.reset_log()
        fake.windows["graphql"].remaining = 10  # the window came back
        client = github(http_client(clock, cache), fake, token=TOKEN)
        infos = client.check([f"lab{i}/tool{i}" for i in range(3)])
    assert fake.count("api", "/graphql") == 1
    assert [i.status for i in infos.values()] == ["live"] * 3


def test_graphql_body_is_deterministic_and_uses_aliases(gh: FakeGitHub) -> None:
    body = json.loads(graphql_body(["a/b", "c-d/e.f"]))
    assert body["variables"] == {"o0": "a", "n0": "b", "o1": "c-d", "n1": "e.f"}
    assert "r0: repository(owner: $o0, name: $n0)" in body["query"]
    assert "r1: repository(owner: $o1, name: $n1)" in body["query"]
    assert graphql_body(["a/b", "c-d/e.f"]) == graphql_body(["a/b", "c-d/e.f"])


# -- the token -----------------------------------------------------------------


def test_the_token_goes_only_to_the_api_host(
    gh: FakeGitHub, clock: FakeClock, tmp_path: Path
) -> None:
    gh.add_recorded_moves()
    gh.block("evil/takedown")
    # An API answer redirecting to another host: the token must not follow.
    gh.redirect_elsewhere["lab/elsewhere"] = f"{gh.web_url}/twbs/bootstrap"
    cache = tmp_path / "cache"
    http = http_client(clock, cache)
    client = github(http, gh, token=TOKEN)
    infos = client.check(
        ["twbs/bootstrap", "kennethreitz/requests", "nobody/nothing", "evil/takedown"]
    )
    client.rest("lab/elsewhere")
    api = [r for r in gh.log if r.server == "api"]
    web = [r for r in gh.log if r.server == "web"]
    assert api and web
    assert all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in api)
    assert not any("Authorization" in r.headers or TOKEN in json.dumps(r.headers) for r in web)
    # Nowhere in what we produce or store (and something was stored).
    assert http.cached and not http.warnings
    http.close()
    text = (
        json.dumps([vars_of(i) for i in infos.values()]) + repr(client) + " ".join(client.warnings)
    )
    assert TOKEN not in text
    for path in cache.iterdir():
        assert TOKEN.encode() not in path.read_bytes(), path


def vars_of(info: RepoInfo) -> dict[str, object]:
    return {name: getattr(info, name) for name in info.__slots__}  # type: ignore[attr-defined]


def test_a_rejected_token_is_dropped_with_a_warning(gh: FakeGitHub, clock: FakeClock) -> None:
    wrong = "ghp_WRONGTOKEN"
    client = github(http_client(clock, None), gh, token=wrong)
    infos = client.check(["twbs/bootstrap", "nobody/nothing"])
    assert [i.status for i in infos.values()] == ["live", "missing"]
    assert not client.authenticated
    assert len(client.warnings) == 1 and "HTTP 401" in client.warnings[0]
    assert wrong not in client.warnings[0] and wrong not in repr(client)
    # One refused GraphQL query, then REST without the token.
    assert [r.status for r in gh.log] == [401, 200, 404]
    assert "Authorization" not in gh.log[1].headers


def test_from_env_reads_urls_and_token(gh: FakeGitHub, clock: FakeClock) -> None:
    http = http_client(clock, None)
    client = GitHubClient.from_env(http, gh.env(token=True))
    assert client.api_url == gh.api_url and client.web_url == gh.web_url
    assert client.authenticated and TOKEN not in repr(client)
    assert not GitHubClient.from_env(http, {}).authenticated
    assert GitHubClient.from_env(http, {}).api_url == "https://api.github.com"
    ghe = GitHubClient.from_env(http, {"BIBTOOLS_GITHUB_API": "https://ghe.example.org/api/v3/"})
    assert ghe.graphql_url == "https://ghe.example.org/api/graphql"
    with pytest.raises(UsageError):
        GitHubClient.from_env(http, {"BIBTOOLS_GITHUB_WEB": "file:///etc"})


def test_offline_answers_from_the_cache_and_never_says_missing(
    gh: FakeGitHub, clock: FakeClock, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    github(http_client(clock, cache), gh).check(["twbs/bootstrap"])
    gh.reset_log()
    infos = github(http_client(clock, cache, offline=True), gh).check(
        ["twbs/bootstrap", "PyGithub/PyGithub"]
    )
    assert infos["twbs/bootstrap"].status == "live"
    assert infos["PyGithub/PyGithub"].status == "not-checked"  # not "unreachable": not asked
    assert "offline" in infos["PyGithub/PyGithub"].message
    assert gh.count("api") == 0 and gh.count("web") == 0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (45, "45 s"), (89, "89 s"), (2400, "40 min"), (7500, "2 h 05 min")],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


# -- hostile answers (issue 13, item 2) -------------------------------------------

INJECTION = '}}@preamble{"\\input{/etc/hostname}"}@misc{p,note={'
HOSTILE = {
    "full_name": "lab/evil" + INJECTION,
    "license": {
        "key": "mit",
        "name": "<script>alert(1)</script>\nMIT",
        "spdx_id": "MIT" + INJECTION,
    },
    "description": "<img src=x onerror=alert(1)>\r\n| row | break |",
    "pushed_at": "2025-01-01" + INJECTION,
}


@pytest.mark.parametrize("token", [None, TOKEN], ids=["REST", "GraphQL"])
def test_a_repository_name_that_is_not_owner_name_is_refused(
    token: str | None, clock: FakeClock
) -> None:
    repo = hostile_repo("lab/evil", 777, full_name=HOSTILE["full_name"])
    with FakeGitHub([repo], clock=clock, token=TOKEN) as fake:
        info = github(http_client(clock, None), fake, token=token).check(["lab/evil"])["lab/evil"]
        web = fake.count("web")
    # Not taken for a move to "lab/evil}}@preamble...": the web page decides (it is there).
    assert (info.status, info.via, web) == ("live", "web", 1)
    assert info.new_url == "" and info.url == "https://github.com/lab/evil"
    assert "preamble" not in json.dumps(vars_of(info))


@pytest.mark.parametrize("token", [None, TOKEN], ids=["REST", "GraphQL"])
def test_licence_description_and_dates_are_validated(token: str | None, clock: FakeClock) -> None:
    fields = {k: v for k, v in HOSTILE.items() if k != "full_name"}
    with FakeGitHub([hostile_repo("lab/evil", 777, **fields)], clock=clock, token=TOKEN) as fake:
        info = github(http_client(clock, None), fake, token=token).check(["lab/evil"])["lab/evil"]
    assert info.status == "live" and info.via == ("graphql" if token else "rest")
    assert info.license == ""  # not an SPDX id
    assert info.pushed_at == ""  # not a timestamp
    # Free text stays text (writers escape it), on one line.
    assert info.license_name == "<script>alert(1)</script> MIT"
    assert info.description == "<img src=x onerror=alert(1)> | row | break |"


def test_100k_deep_json_is_an_unusable_answer_not_a_crash(clock: FakeClock) -> None:
    repo = synthetic_repo("lab/deep", 778)
    repo.body = b"[" * 100_000 + b"]" * 100_000
    with FakeGitHub([repo], clock=clock) as fake:
        info = github(http_client(clock, None), fake).check(["lab/deep"])["lab/deep"]
    # The API's answer is no repository; the web page says the repository is there.
    assert (info.status, info.via) == ("live", "web")
    assert info.message.startswith("checked on the web page only (the API did not answer)")
