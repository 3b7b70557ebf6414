"""bibtools.links: finding links in records, checking them against loopback servers, reports.

The GitHub API and pages are tests/fakes/github_server.py, every other
site tests/fakes/web_server.py; time is a FakeClock, so retries and
rate-limit waits never sleep (only the slow-page test waits for a short
real read timeout).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeClock
from fakes.github_server import (
    FakeGitHub,
    recorded_repos,
    synthetic_repo,
)
from fakes.web_server import FakeWeb, Route
from rich.console import Console

from bibtools.diagnostics import UsageError
from bibtools.http import HttpClient
from bibtools.links import (
    DEFAULT_FAIL_ON,
    LinkOptions,
    LinkReport,
    LinkResult,
    LinkStatus,
    check_links,
    clean_url,
    enrich_github,
    exit_status,
    find_links,
    parse_fail_on,
    probe,
    render_json,
    render_markdown,
    render_table,
)
from bibtools.model import CodeLink, Record
from bibtools.sources.github import GitHubClient

TOKEN = "ghp_LINKSTOKEN0123456789"
S = LinkStatus


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def http_client(clock: FakeClock, cache: Path | None = None, **kwargs: object) -> HttpClient:
    return HttpClient(cache_dir=cache, clock=clock, rng=random.Random(7), **kwargs)  # type: ignore[arg-type]


FAST = LinkOptions(timeout=(1.0, 0.3), retries=1)


# -- finding -----------------------------------------------------------------


def test_links_are_found_in_every_field_trimmed_and_deduplicated() -> None:
    record = Record(
        key="k",
        abstract="Code: https://github.com/o/r/tree/main/src. Data (https://huggingface.co/datasets/org/data), "
        r"see \url{https://gitlab.com/grp/sub/proj/-/tree/main}; also https://example.org/a_(b).",
        note="Mirror at www.codeberg.org/o/r.git and https://github.com/O/R#readme",
        url="https://example.org/paper.pdf",
        code_links=[CodeLink("https://github.com/o/r.git", "code")],
        arxiv_comment="12 pages; code at https://sourceforge.net/projects/tool/files/",
        extra={"howpublished": r"\url{https://bitbucket.org/team/repo\_x}"},
        extra_format="bibtex",
    )
    found, skipped = find_links([record])
    got = [(f.origin, f.url, f.kind) for f in found]
    assert got == [
        ("code_links", "https://github.com/o/r", "github"),
        ("url", "https://example.org/paper.pdf", "link"),
        ("howpublished", "https://bitbucket.org/team/repo_x", "bitbucket"),
        ("abstract", "https://huggingface.co/datasets/org/data", "huggingface-dataset"),
        ("abstract", "https://gitlab.com/grp/sub/proj/-/tree/main", "gitlab"),
        ("abstract", "https://example.org/a_(b)", "link"),
        ("note", "https://www.codeberg.org/o/r", "codeberg"),
        ("arxiv_comment", "https://sourceforge.net/projects/tool/files/", "sourceforge"),
    ]
    # github.com/o/r appears three times (code, /tree/main/src, O/R#readme): one link.
    assert sum(f.kind == "github" for f in found) == 1
    gitlab = next(f for f in found if f.kind == "gitlab")
    assert gitlab.repo is not None and gitlab.repo.slug == "grp/sub/proj"
    assert skipped == []


def test_only_http_urls_are_checked_the_rest_is_listed() -> None:
    record = Record(
        key="k",
        url="ftp://ftp.example.org/pub/data.tar",
        code_links=[CodeLink("file:///etc/passwd"), CodeLink("github.com/o/r")],
    )
    found, skipped = find_links([record])
    assert [f.url for f in found] == ["https://github.com/o/r"]
    assert [(s.url, s.origin) for s in skipped] == [
        ("file:///etc/passwd", "code_links"),
        ("ftp://ftp.example.org/pub/data.tar", "url"),
    ]
    assert all("http" in s.reason for s in skipped)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("https://github.com/o/r.git", "https://github.com/o/r"),
        ("https://github.com/o/r/blob/main/x.py#L10", "https://github.com/o/r/blob/main/x.py"),
        ("https://example.org/x.git", "https://example.org/x.git"),
        ("https://example.org/a).", "https://example.org/a"),
    ],
)
def test_clean_url(raw: str, clean: str) -> None:
    assert clean_url(raw) == clean


# -- probing plain links ------------------------------------------------------------


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    with FakeWeb() as fake:
        yield fake


def test_head_refused_falls_back_to_a_ranged_get(web: FakeWeb, clock: FakeClock) -> None:
    http = http_client(clock)
    # A HEAD answered 404 or 410 is asked again with GET too: servers mishandle HEAD.
    for status in (405, 403, 501, 404, 410):
        url = web.route(f"/head{status}", head=status)
        result = probe(http, url, FAST)
        assert (result.status, result.http_status) == (S.LIVE, 200)
        assert web.methods(f"/head{status}") == ["HEAD", "GET"]
    gets = [r for r in web.log if r.method == "GET"]
    assert all(r.headers.get("Range") == "bytes=0-0" for r in gets)


@pytest.mark.parametrize(
    ("route", "status", "code"),
    [
        (Route(status=404), S.MISSING, 404),
        (Route(status=410), S.MISSING, 410),
        (Route(status=451), S.BLOCKED, 451),
        (Route(status=500), S.UNREACHABLE, 500),
        (Route(status=401), S.UNREACHABLE, 401),
        (Route(status=429, headers={"Retry-After": "2"}), S.RATE_LIMITED, 429),
        (Route(status=204), S.LIVE, 204),
    ],
)
def test_statuses(
    web: FakeWeb, clock: FakeClock, route: Route, status: LinkStatus, code: int
) -> None:
    web.routes["/x"] = route
    result = probe(http_client(clock), web.url("/x"), FAST)
    assert (result.status, result.http_status) == (status, code)


def test_5xx_are_retried_and_never_missing(web: FakeWeb, clock: FakeClock) -> None:
    flaky = web.route("/flaky", fail=[503])
    broken = web.route("/broken", status=500)
    http = http_client(clock)
    assert probe(http, flaky, FAST).status is S.LIVE
    result = probe(http, broken, FAST)
    assert result.status is S.UNREACHABLE and "500" in result.message
    assert web.count("/broken") == 2  # one retry (FAST), then a verdict
    # One broken page does not shut the site: the next link is asked.
    assert probe(http, web.route("/ok"), FAST).status is S.LIVE


@pytest.mark.slow
def test_a_slow_page_is_unreachable_not_missing(web: FakeWeb, clock: FakeClock) -> None:
    url = web.route("/slow", slow=10.0)
    result = probe(http_client(clock), url, FAST)
    assert result.status is S.UNREACHABLE
    assert "timeout" in result.message or "timed out" in result.message


def test_redirect_chains_are_followed_by_hand_and_reported(web: FakeWeb, clock: FakeClock) -> None:
    web.route("/final")
    start = web.chain("/hop", 3, "/final", status=302)
    result = probe(http_client(clock), start, FAST)
    assert (result.status, result.final_url, result.new_url) == (S.LIVE, web.url("/final"), "")
    assert "redirected 3 times" in result.message
    assert [r.path for r in web.log] == ["/hop/0", "/hop/1", "/hop/2", "/final"]


def test_permanent_redirects_elsewhere_are_moves(web: FakeWeb, clock: FakeClock) -> None:
    web.route("/new-home")
    web.route("/old-home", status=301, location="/new-home")
    web.route("/dir/")
    web.route("/dir", status=301, location="/dir/")
    http = http_client(clock)
    moved = probe(http, web.url("/old-home"), FAST)
    assert (moved.status, moved.new_url) == (S.MOVED, web.url("/new-home"))
    # A trailing slash is not a move.
    same = probe(http, web.url("/dir"), FAST)
    assert (same.status, same.final_url) == (S.LIVE, web.url("/dir/"))


def test_too_many_redirects_and_loops_are_unreachable(web: FakeWeb, clock: FakeClock) -> None:
    web.route("/end")
    http = http_client(clock)
    long = probe(http, web.chain("/long", 11, "/end"), FAST)
    assert long.status is S.UNREACHABLE and "more than 10 redirects" in long.message
    assert web.count("/end") == 0
    ten = probe(http, web.chain("/ten", 10, "/end"), FAST)
    assert ten.status is S.MOVED  # ten permanent hops are still followed
    loop = probe(http, web.loop("/a", "/b"), FAST)
    assert loop.status is S.UNREACHABLE and "redirect loop" in loop.message
    assert web.count("/a") == 1 and web.count("/b") == 1


def test_redirects_to_other_hosts_and_schemes(web: FakeWeb, clock: FakeClock) -> None:
    with FakeWeb(host_name="localhost") as other:
        there = other.route("/there")
        web.route("/away", status=302, location=there)
        web.route("/ftp", status=302, location="ftp://example.org/file")
        http = http_client(clock)
        away = probe(http, web.url("/away"), FAST)
        ftp = probe(http, web.url("/ftp"), FAST)
    assert (away.status, away.final_url) == (S.LIVE, there)
    assert ftp.status is S.UNREACHABLE and "not http" in ftp.message


def test_per_host_concurrency_is_bounded(web: FakeWeb, clock: FakeClock) -> None:
    records = [Record(key=f"r{i}", url=web.route(f"/gate/{i}", gate=True)) for i in range(12)]
    web.gate_target = 4
    report = check_links(records, http=http_client(clock), env={}, options=LinkOptions())
    assert {r.status for r in report.results} == {S.LIVE}
    assert web.max_in_flight == 4


def test_overall_concurrency_is_bounded(web: FakeWeb, clock: FakeClock) -> None:
    records = [Record(key=f"r{i}", url=web.route(f"/gate/{i}", gate=True)) for i in range(9)]
    web.gate_target = 3
    options = LinkOptions(per_host=10, overall=3)
    report = check_links(records, http=http_client(clock), env={}, options=options)
    assert len(report.results) == 9
    assert web.max_in_flight == 3


# -- the whole run: 80+ links, every status ---------------------------------------


def build_world(
    gh: FakeGitHub, web: FakeWeb
) -> tuple[list[Record], dict[str, dict[str, LinkStatus]]]:
    """Records citing 90+ links, and the status each link must get (record -> url -> status)."""
    expect: dict[str, dict[str, LinkStatus]] = {}
    records: list[Record] = []

    def cite(key: str, *links: tuple[str, LinkStatus]) -> None:
        records.append(Record(key=key, code_links=[CodeLink(u, "code") for u, _ in links]))
        expect[key] = {u: s for u, s in links}

    # GitHub: recorded answers, recorded moves, synthetic repositories.
    for repo in recorded_repos():
        gh.add(repo)
        status = S.ARCHIVED if repo.data.get("archived") else S.LIVE
        cite(f"gh-{repo.full_name}", (f"https://github.com/{repo.full_name}/tree/main", status))
    for old, _ in gh.add_recorded_moves():
        cite(f"mv-{old}", (f"https://github.com/{old}", S.MOVED))
    for i in range(20):
        repo = gh.add(synthetic_repo(f"lab{i}/tool{i}", 20_000 + i, stars=i))
        cite(f"lab{i}", (f"https://github.com/{repo.full_name}", S.LIVE))
    gh.add(synthetic_repo("lab/frozen", 30_001, archived=True))
    gh.add(synthetic_repo("lab/off", 30_002, disabled=True))
    gh.block("evil/takedown")
    cite("frozen", ("https://github.com/lab/frozen", S.ARCHIVED))
    cite("off", ("https://github.com/lab/off", S.DISABLED))
    cite("takedown", ("https://github.com/evil/takedown", S.BLOCKED))
    cite(
        "gone",
        ("https://github.com/nobody/nothing", S.MISSING),
        ("https://github.com/ghost/gone", S.MISSING),
    )
    # The same repositories cited again by other records, in other fields.
    records.append(Record(key="again1", abstract="Our code: https://github.com/lab3/tool3."))
    expect["again1"] = {"https://github.com/lab3/tool3": S.LIVE}
    records.append(
        Record(key="again2", note="Fork of https://github.com/twbs/bootstrap/blob/main/README.md")
    )
    expect["again2"] = {"https://github.com/twbs/bootstrap/blob/main/README.md": S.LIVE}

    # Plain links.
    plain: list[tuple[str, Route, LinkStatus]] = [
        *[(f"/ok/{i}", Route(), S.LIVE) for i in range(10)],
        *[(f"/nohead/{i}", Route(head=405), S.LIVE) for i in range(3)],
        ("/head403", Route(head=403), S.LIVE),
        ("/head501", Route(head=501), S.LIVE),
        *[(f"/missing/{i}", Route(status=404), S.MISSING) for i in range(3)],
        *[(f"/gone/{i}", Route(status=410), S.MISSING) for i in range(2)],
        ("/legal", Route(status=451), S.BLOCKED),
        *[(f"/error/{i}", Route(status=500), S.UNREACHABLE) for i in range(2)],
        ("/flaky", Route(fail=[503]), S.LIVE),
        ("/slow", Route(slow=10.0), S.UNREACHABLE),
        ("/busy", Route(status=429, headers={"Retry-After": "1"}), S.RATE_LIMITED),
        ("/private", Route(status=401), S.UNREACHABLE),
        ("/old-page", Route(status=301, location="/ok/0"), S.MOVED),
    ]
    for path, route, _ in plain:
        web.routes[path] = route
    web.chain("/chain", 3, "/ok/1", status=302)
    plain.append(("/chain/0", Route(), S.LIVE))
    web.chain("/long", 11, "/ok/2")
    plain.append(("/long/0", Route(), S.UNREACHABLE))
    web.loop("/loop/a", "/loop/b")
    plain.append(("/loop/a", Route(), S.UNREACHABLE))
    for n, (path, _, status) in enumerate(plain):
        url = web.url(path)
        field = ("abstract", "note", "url")[n % 3]
        text = f"See {url}." if field != "url" else url
        records.append(Record(key=f"p{n}", **{field: text}))  # type: ignore[arg-type]
        expect[f"p{n}"] = {url: status}

    # Other code hosts, served by the web fake under a prefix per host.
    web.route("/gitlab/grp/sub/proj")
    web.route("/gitlab/grp/old", status=301, location="/gitlab/grp/new")
    web.route("/gitlab/grp/new")
    web.route("/gitlab/grp/hidden", status=302, location="/gitlab/users/sign_in")
    web.route("/gitlab/users/sign_in")
    web.route("/hf/datasets/org/data")
    web.route("/hf/org/model")
    web.route("/codeberg/o/r", status=404)
    cite(
        "hosts",
        ("https://gitlab.com/grp/sub/proj/-/tree/main", S.LIVE),
        ("https://gitlab.com/grp/old", S.MOVED),
        ("https://gitlab.com/grp/hidden", S.MISSING),
        ("https://huggingface.co/datasets/org/data", S.LIVE),
        ("https://huggingface.co/org/model/tree/main", S.LIVE),
        ("https://codeberg.org/o/r", S.MISSING),
    )
    # Code announced, no link anywhere.
    records.append(Record(key="announced", code_announced=True, abstract="Code will be released."))
    expect["announced"] = {"": S.ANNOUNCED_NO_LINK}
    return records, expect


def host_map(web: FakeWeb) -> dict[str, str]:
    return {
        "gitlab.com": web.url("/gitlab"),
        "huggingface.co": web.url("/hf"),
        "codeberg.org": web.url("/codeberg"),
    }


@pytest.fixture
def world(clock: FakeClock) -> Iterator[tuple[FakeGitHub, FakeWeb]]:
    with FakeGitHub(clock=clock, limit=500) as gh, FakeWeb(host_name="localhost") as web:
        yield gh, web


@pytest.mark.slow
def test_every_status_is_right_on_more_than_80_links(
    world: tuple[FakeGitHub, FakeWeb], clock: FakeClock, tmp_path: Path
) -> None:
    gh, web = world
    records, expect = build_world(gh, web)
    http = http_client(clock, tmp_path / "cache")
    github = GitHubClient(http, api_url=gh.api_url, web_url=gh.web_url, timeout=(1.0, 0.3))
    options = LinkOptions(timeout=(1.0, 0.3), retries=1, hosts=host_map(web))
    progress: list[tuple[int, int, str]] = []
    report = check_links(
        records, http=http, github=github, options=options, progress=lambda *a: progress.append(a)
    )
    got = {(r.record, r.url): r.status for r in report.results}
    want = {(k, u): s for k, links in expect.items() for u, s in links.items()}
    assert len(want) >= 80
    assert got == want
    # Rows come in record order, then link order.
    assert [r.record for r in report.results] == [
        k for k in (r.key for r in records) for _ in expect[k]
    ]
    # Never missing because of a timeout, a 5xx or a rate limit.
    by_url = {r.url: r for r in report.results}
    for path in ("/error/0", "/error/1", "/slow", "/busy"):
        assert by_url[web.url(path)].status is not S.MISSING
    # Each distinct target checked once: 43 GitHub repositories in 45 citations.
    assert sum(r.kind == "github" for r in report.results) == 45
    assert gh.count("api", "/repos/twbs/bootstrap") == 1
    assert gh.count("api", "/repos/lab3/tool3") == 1
    assert gh.count("api", "/repos/") == 43
    assert progress[-1][:2] == (report.targets, report.targets)
    # What the rows carry.
    moved = by_url["https://github.com/kennethreitz/requests"]
    assert (moved.http_status, moved.new_url, moved.stars) == (
        301,
        "https://github.com/requests/requests",
        29496,
    )
    boot = by_url["https://github.com/twbs/bootstrap/tree/main"]
    assert (boot.stars, boot.license, boot.pushed_at) == (171281, "MIT", "2025-01-30T15:22:31Z")
    chain = by_url[web.url("/chain/0")]
    assert chain.final_url == web.url("/ok/1") and chain.http_status == 200
    old_page = by_url[web.url("/old-page")]
    assert old_page.new_url == web.url("/ok/0")
    gitlab = by_url["https://gitlab.com/grp/old"]
    assert gitlab.new_url == "https://gitlab.com/grp/new"
    assert exit_status(report) == 1


@pytest.mark.slow
def test_without_a_token_80_repositories_cost_at_most_60_requests_and_a_second_run_none(
    clock: FakeClock, tmp_path: Path
) -> None:
    with FakeGitHub(clock=clock, limit=60, reset_in=1800) as gh:
        repos = [gh.add(synthetic_repo(f"lab{i}/tool{i}", 40_000 + i, stars=i)) for i in range(78)]
        moves = gh.add_recorded_moves()[:2]
        slugs = [r.full_name for r in repos] + [old for old, _ in moves]
        # 100 records: every repository once, 20 of them twice.
        records = [Record(key=f"r{i}", url=f"https://github.com/{s}") for i, s in enumerate(slugs)]
        records += [
            Record(key=f"d{i}", abstract=f"at https://github.com/{slugs[i]}.") for i in range(20)
        ]
        cache = tmp_path / "cache"
        for fallback in (True, False):
            gh.reset_log()
            http = http_client(clock, cache if fallback else tmp_path / "other")
            client = GitHubClient(
                http, api_url=gh.api_url, web_url=gh.web_url, web_fallback=fallback
            )
            gh.windows["anon"].remaining = 60
            report = check_links(records, http=http, github=client)
            assert gh.count("api") <= 60
            statuses = [r.status for r in report.results]
            assert S.MISSING not in statuses
            if fallback:
                assert statuses.count(S.LIVE) + statuses.count(S.MOVED) == 100
                web_rows = [r for r in report.results if r.repo is not None and r.repo.via == "web"]
                assert web_rows and all(r.stars is None for r in web_rows)
            else:
                limited = [r for r in report.results if r.status is S.RATE_LIMITED]
                assert limited and all("it resets in 30 min" in r.message for r in limited)
                assert "budget spent" in report.summary()
        # A second run on the first cache: nothing more from the API budget.
        gh.reset_log()
        spent_before = gh.windows["anon"].remaining
        http = http_client(clock, cache)
        client = GitHubClient(http, api_url=gh.api_url, web_url=gh.web_url)
        again = check_links(records, http=http, github=client)
        assert gh.spent() == 0 and gh.windows["anon"].remaining == spent_before
        assert [r.status for r in again.results].count(S.MISSING) == 0


def test_with_a_token_one_graphql_query_per_50_plus_rest_per_move(
    clock: FakeClock, tmp_path: Path
) -> None:
    with FakeGitHub(clock=clock, token=TOKEN) as gh:
        for i in range(95):
            gh.add(synthetic_repo(f"lab{i}/tool{i}", 50_000 + i))
        moves = gh.add_recorded_moves()
        urls = [f"https://github.com/lab{i}/tool{i}" for i in range(95)] + [
            f"https://github.com/{o}" for o, _ in moves
        ]
        records = [Record(key=f"r{i}", url=u) for i, u in enumerate(urls)]
        http = http_client(clock, tmp_path / "cache")
        report = check_links(records, http=http, env=gh.env(token=True))
        assert gh.count("api", "/graphql") == 2  # 100 repositories
        assert gh.count("api", "/repos/") == len(moves)
        assert gh.count("api", "/repositories/") == len(moves)  # the 301s, followed
        assert report.api_requests == 2 + 2 * len(moves)
        assert sum(r.status is S.MOVED for r in report.results) == len(moves)
        web_auth = [r for r in gh.log if r.server == "web" and "Authorization" in r.headers]
        assert web_auth == []
        assert TOKEN not in render_json(report) + render_markdown(report) + report.summary()


# -- output --------------------------------------------------------------------------


def sample_report() -> LinkReport:
    rows = [
        LinkResult(
            "a",
            "https://github.com/o/r",
            "github",
            S.MOVED,
            301,
            "https://github.com/n/r",
            "https://github.com/n/r",
            1234,
            "MIT",
            "2024-09-12T10:47:45Z",
            "renamed | moved",
            "url",
        ),
        LinkResult(
            "b",
            "https://example.org/x",
            "link",
            S.MISSING,
            404,
            message="HTTP 404",
            origin="abstract",
        ),
        LinkResult("c", "", "announced", S.ANNOUNCED_NO_LINK, message="no link"),
    ]
    return LinkReport(rows)


def test_json_is_stable_and_complete() -> None:
    report = sample_report()
    text = render_json(report)
    assert text == render_json(sample_report())
    data = json.loads(text)
    assert list(data) == ["summary", "links", "skipped", "warnings"]
    first = data["links"][0]
    assert list(first) == [
        "record", "url", "kind", "status", "http_status", "final_url", "new_url",
        "stars", "license", "pushed_at", "message", "origin",
    ]  # fmt: skip
    assert first["status"] == "moved" and first["new_url"] == "https://github.com/n/r"
    assert data["summary"]["missing"] == 1 and data["summary"]["links"] == 3


def test_markdown_table_escapes_cells() -> None:
    text = render_markdown(sample_report())
    lines = text.splitlines()
    assert lines[0] == "3 rows: 1 moved, 1 missing, 1 announced-no-link."
    assert lines[2].startswith("| Record | Link | Kind | Status |")
    assert (
        "| a | <https://github.com/o/r> | github | moved -> https://github.com/n/r | 1,234 | MIT | 2024-09-12 | renamed \\| moved |"
        in lines
    )
    assert all(line.count(" | ") == 7 for line in lines[2:] if not line.startswith("|---"))


def test_rich_table_renders_every_row() -> None:
    console = Console(record=True, width=240, color_system=None)
    console.print(render_table(sample_report()))
    text = console.export_text()
    for word in ("moved -> https://github.com/n/r", "missing", "announced-no-link", "1,234"):
        assert word in text


def test_exit_status_and_fail_on() -> None:
    report = sample_report()
    assert exit_status(report) == 1  # missing is failing by default
    assert exit_status(report, parse_fail_on("moved")) == 1
    assert exit_status(report, parse_fail_on("blocked, unreachable")) == 0
    assert exit_status(report, parse_fail_on("none")) == 0
    assert parse_fail_on("missing,blocked,disabled,unreachable") == DEFAULT_FAIL_ON
    assert parse_fail_on("all") == frozenset(LinkStatus)
    with pytest.raises(UsageError, match="unknown link status 'gone'"):
        parse_fail_on("missing,gone")
    assert exit_status(LinkReport([r for r in report.results if r.status is S.MOVED])) == 0


# -- enrichment ------------------------------------------------------------------------


def test_enrich_github_fills_metadata_and_rehomes_moved_links(
    clock: FakeClock, tmp_path: Path
) -> None:
    with FakeGitHub(recorded_repos(), clock=clock) as gh:
        gh.add_recorded_moves()
        records = [
            Record(
                key="moved",
                url="https://github.com/kennethreitz/requests",
                code_links=[
                    CodeLink("https://github.com/kennethreitz/requests/tree/main/docs", "code")
                ],
                extra={"note-extra": "x"},
                extra_format="bibtex",
            ),
            Record(key="abs", abstract="Code: https://github.com/twbs/bootstrap."),
            Record(
                key="ris",
                code_links=[CodeLink("https://github.com/PyGithub/PyGithub")],
                extra_format="ris",
            ),
            Record(key="plain", url="https://example.invalid/x"),
        ]
        report = check_links(
            records, http=http_client(clock, tmp_path / "c"), env=gh.env(), only_github=True
        )
    original = [r.copy() for r in records]
    updated, changes = enrich_github(records, report)
    assert records == original  # not mutated
    moved = updated[0]
    assert [c.url for c in moved.code_links] == [
        "https://github.com/requests/requests/tree/main/docs"
    ]
    assert moved.url == "https://github.com/kennethreitz/requests"  # never rewritten silently
    refused = [c for c in changes if c.record_key == "moved" and not c.applied]
    assert [(c.field, c.new) for c in refused] == [("url", "https://github.com/requests/requests")]
    assert moved.code_links[0].stars == 29496
    assert moved.extra == {"note-extra": "x"}
    abs_ = updated[1]
    assert [(c.url, c.origin) for c in abs_.code_links] == [
        ("https://github.com/twbs/bootstrap", "abstract")
    ]
    assert (abs_.code_links[0].license, abs_.code_links[0].pushed) == ("MIT", "2025-01-30")
    # The metadata lives on the code link, whatever the record's format.
    ris = updated[2]
    assert ris.code_links[0].stars is not None
    assert any(
        c.record_key == "ris" and c.field == "code_links[0].stars" and c.applied for c in changes
    )
    assert updated[3] is records[3]
    assert all(c.source == "github" for c in changes)
    # Only GitHub was asked.
    assert all(r.kind == "github" for r in report.results)


def test_enrich_github_updates_link_metadata_and_corrects_the_archived_flag(
    clock: FakeClock, tmp_path: Path
) -> None:
    with FakeGitHub(clock=clock) as gh:
        gh.add(synthetic_repo("lab/tool", 91, description="100% C++ & more_stuff {fast}"))
        records = [
            Record(
                key="k",
                code_links=[
                    CodeLink("https://github.com/lab/tool", "code", stars=10, archived=True)
                ],
                extra_format="bibtex",
            )
        ]
        report = check_links(records, http=http_client(clock, tmp_path / "c"), env=gh.env())
    (updated,), changes = enrich_github(records, report)
    link = updated.code_links[0]
    assert link.description == "100% C++ & more_stuff {fast}"  # plain text; writers escape
    assert link.archived is False
    assert {c.field for c in changes} >= {"code_links[0].archived", "code_links[0].description"}
    assert [c.url for c in updated.code_links] == ["https://github.com/lab/tool"]


def test_offline_links_are_not_checked_and_never_missing(web: FakeWeb, clock: FakeClock) -> None:
    with FakeGitHub([synthetic_repo("lab/tool", 1)], clock=clock) as gh:
        records = [
            Record(key="a", url=web.route("/ok")),
            Record(key="b", url=web.url("/nowhere")),
            Record(key="c", url="https://github.com/lab/tool"),
        ]
        report = check_links(records, http=http_client(clock, offline=True), env=gh.env())
        asked = gh.count("api") + gh.count("web")
    assert [r.status for r in report.results] == [S.NOT_CHECKED] * 3
    assert all(r.message == "not checked: offline and not in the cache" for r in report.results)
    assert web.count() == 0 and asked == 0
    assert exit_status(report) == 0  # not checked is not a failure...
    assert exit_status(report, parse_fail_on("all")) == 1  # ...unless asked to be


# -- hostile records and servers (issue 13) -------------------------------------------


def test_a_head_404_that_get_confirms_is_missing(web: FakeWeb, clock: FakeClock) -> None:
    result = probe(http_client(clock), web.route("/gone", status=404), FAST)
    assert (result.status, result.http_status) == (S.MISSING, 404)
    assert web.methods("/gone") == ["HEAD", "GET"]


def test_a_broken_page_does_not_condemn_its_site_nor_another_port(
    web: FakeWeb, clock: FakeClock
) -> None:
    # The case: an API (the GitHub fake, failing fast) on 127.0.0.1:A and
    # a web site on 127.0.0.1:B where one page answers 500 whatever is asked.
    with FakeGitHub([synthetic_repo("lab/tool", 1)], clock=clock) as gh:
        pages = [web.route(f"/page{i}") for i in range(5)]
        records = [
            Record(key="broken", url=web.route("/broken", status=500)),
            *(Record(key=f"p{i}", url=url) for i, url in enumerate(pages)),
            Record(key="repo", url="https://github.com/lab/tool"),
        ]
        report = check_links(records, http=http_client(clock), env=gh.env(), options=FAST)
    status = {r.record: r.status for r in report.results}
    assert status == {"broken": S.UNREACHABLE, "repo": S.LIVE} | {f"p{i}": S.LIVE for i in range(5)}
    assert all(web.count(f"/page{i}") == 1 for i in range(5))  # each was asked


def test_an_origin_that_refuses_connections_is_tried_once(clock: FakeClock) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    records = [Record(key=f"r{i}", url=f"http://127.0.0.1:{port}/p{i}") for i in range(6)]
    http = http_client(clock)
    options = LinkOptions(timeout=(1.0, 0.3), retries=1, per_host=1)
    report = check_links(records, http=http, env={}, options=options)
    assert {r.status for r in report.results} == {S.UNREACHABLE}
    assert all("connection failed" in r.message for r in report.results)
    assert http.stats["127.0.0.1"].sent == 2  # one link's attempts; the rest knew


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:99999/x",
        "https://example.org:0/x",
        "http://[::1/x",
        "https://github.com:99999/o/r",
    ],
)
def test_an_invalid_url_in_a_record_is_skipped_and_said(url: str, clock: FakeClock) -> None:
    records = [Record(key="bad", url=url), Record(key="free", note=f"see {url} for more")]
    found, skipped = find_links(records)
    assert found == []
    assert [(s.record, s.url) for s in skipped] == [("bad", url), ("free", url)]
    assert all(s.reason.startswith("not a valid URL") for s in skipped)
    report = check_links(records, http=http_client(clock), env={})
    assert report.results == [] and len(report.skipped) == 2


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://[::1/x", "redirects to an invalid URL"),
        ("http://127.0.0.1:99999/x", "redirects to an invalid URL"),
        ("file:///etc/passwd", "redirects to a URL that is not http(s)"),
    ],
)
def test_a_redirect_to_an_unusable_url_is_unreachable(
    location: str, message: str, web: FakeWeb, clock: FakeClock
) -> None:
    result = probe(http_client(clock), web.route("/r", status=302, location=location), FAST)
    assert (result.status, result.message) == (S.UNREACHABLE, message)


HOSTILE_TEXT = "<script>alert(1)</script> [x](javascript:alert(2)) *b* `c` | d \x1b[2J"


def hostile_report() -> LinkReport:
    return LinkReport(
        [
            LinkResult(
                "k_<b>1</b>",
                "https://example.org/a|b<script>alert(3)</script>",
                "link",
                S.MISSING,
                404,
                message=HOSTILE_TEXT,
            ),
            LinkResult(
                "k2",
                "https://github.com/o/r",
                "github",
                S.MOVED,
                301,
                new_url="https://github.com/<img src=x onerror=alert(4)>",
                license="<i>MIT</i>\nGPL",
            ),
        ]
    )


def test_markdown_escapes_what_it_did_not_build() -> None:
    text = render_markdown(hostile_report())
    assert "<script" not in text and "<img" not in text and "<i>" not in text
    assert "\\[x\\](javascript" in text and "\x1b" not in text  # brackets escaped
    rows = text.splitlines()[4:]
    assert len(rows) == 2 and all(row.count(" | ") == 7 for row in rows)  # no cell split
    assert rows[0].startswith(
        "| k\\_&lt;b&gt;1&lt;/b&gt; | https://example.org/a\\|b&lt;script&gt;"
    )


def test_markdown_renders_as_text_in_pandoc() -> None:
    import subprocess

    from bibtools.render import pandoc_path

    markdown = render_markdown(hostile_report())
    for dialect in ("gfm", "commonmark", "markdown"):
        html = subprocess.run(
            [pandoc_path(), "-f", dialect, "-t", "html"],
            input=markdown,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "<script" not in html and "<img" not in html and "<i>" not in html, dialect
        assert "javascript:" not in html.replace("](javascript:", ""), dialect
        assert 'href="javascript' not in html, dialect


def test_the_terminal_table_shows_no_escape_sequence() -> None:
    console = Console(record=True, width=400, color_system=None)
    console.print(render_table(hostile_report()))
    text = console.export_text()
    assert "\x1b" not in text and "<script>alert(1)</script>" in text  # shown, as text
