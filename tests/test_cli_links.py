"""`bibtools links`, `enrich --sources github` and `build --check-links` end to end, on loopback fakes."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest
from click.testing import CliRunner
from fakes.github_server import FakeGitHub, synthetic_repo
from fakes.web_server import FakeWeb

from bibtools.cli import main

EXAMPLE = str(files("bibtools") / "data" / "example.listing")


@pytest.fixture
def github():
    with FakeGitHub() as gh:
        gh.add(synthetic_repo("lab/live", 1, stars=1234, license="MIT"))
        gh.add(synthetic_repo("lab/old-home", 2, archived=True))
        gh.move("lab/renamed", synthetic_repo("org/new-name", 3, stars=7))
        yield gh


@pytest.fixture
def web():
    with FakeWeb() as server:
        yield server


@pytest.fixture
def env(github, tmp_path):
    return {**github.env(), "BIBTOOLS_CACHE_DIR": str(tmp_path / "cache")}


def run(env, *args):
    return CliRunner(env=env).invoke(main, list(args))


def bib(tmp_path, web) -> str:
    ok, gone = web.route("/paper", status=200), web.route("/gone", status=404)
    path = tmp_path / "refs.bib"
    path.write_text(
        f"""
@misc{{a, title={{Live}}, code={{https://github.com/lab/live/tree/main/src}}, url={{{ok}}}}}
@misc{{b, title={{Archived}}, note={{Code at https://github.com/lab/old-home.}}}}
@misc{{c, title={{Moved}}, code={{https://github.com/lab/renamed}}}}
@misc{{d, title={{Missing}}, code={{https://github.com/lab/never-existed}}, url={{{gone}}}}}
@misc{{e, title={{Same repo again}}, abstract={{See https://github.com/lab/live.}}}}
""",
        encoding="utf-8",
    )
    return str(path)


def test_links_reports_every_status_as_json(env, github, web, tmp_path):
    result = run(env, "links", bib(tmp_path, web), "--format", "json")
    assert result.exit_code == 1  # a missing repository and a 404 page fail by default
    rows = json.loads(result.stdout)["links"]
    status = {(r["record"], r["url"]): r["status"] for r in rows}
    assert status[("a", "https://github.com/lab/live/tree/main/src")] == "live"
    assert status[("b", "https://github.com/lab/old-home")] == "archived"
    assert status[("c", "https://github.com/lab/renamed")] == "moved"
    assert status[("d", "https://github.com/lab/never-existed")] == "missing"
    assert [r["status"] for r in rows if r["url"].endswith("/gone")] == ["missing"]
    moved = next(r for r in rows if r["record"] == "c")
    assert moved["new_url"] == "https://github.com/org/new-name"
    live = next(r for r in rows if r["record"] == "a")
    assert (live["stars"], live["license"]) == (1234, "MIT")
    # lab/live is cited twice and asked about once.
    assert github.count(prefix="/repos/lab/live") == 1
    assert "links" in result.stderr


def test_fail_on_and_markdown_output(env, web, tmp_path):
    out = tmp_path / "links.md"
    result = run(env, "links", bib(tmp_path, web), "-o", str(out), "--fail-on", "none")
    assert result.exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert text.count("\n|") >= 7 and "| missing |" in text.replace("**", "")
    assert run(env, "links", bib(tmp_path, web), "--fail-on", "nonsense").exit_code == 2


def test_enrich_sources_github_fills_code_links(env, web, tmp_path):
    result = run(env, "enrich", bib(tmp_path, web), "--sources", "github", "-t", "csljson")
    items = {item["id"]: item for item in json.loads(result.stdout)}
    assert items["a"]["custom"]["code"][0]["stars"] == 1234
    assert items["c"]["custom"]["code"][0]["url"] == "https://github.com/org/new-name"
    assert result.exit_code == 1  # the missing repository is named
    assert "d: not enriched (not-found)" in result.stderr


def test_links_on_the_bundled_example_offline_prints_a_table_and_asks_nobody(env, github):
    result = run({**env, "COLUMNS": "200"}, "links", EXAMPLE, "--format", "table", "--offline")
    assert github.count() == 0
    assert "tensor2tensor" in result.stdout and "announced-no-link" in result.stdout
    # Offline, nothing was checked: said so, and not a failure (unreachable would be a lie).
    assert "not-checked" in result.stdout and "unreachable" not in result.stdout
    assert result.exit_code == 0, result.stderr


def test_build_check_links_writes_both_reports(env, tmp_path):
    out = tmp_path / "out"
    result = run(env, "build", "-o", str(out), "--check-links", "--offline")
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "links.json",
        "links.md",
        "publications.html",
        "publications.md",
        "references.bib",
        "references.json",
        "references.ris",
    ]
    report = json.loads((out / "links.json").read_text(encoding="utf-8"))
    assert {r["record"] for r in report["links"] if r["status"] == "announced-no-link"} == {
        "wei2022chain"
    }
    assert "Links:" in result.stderr


# -- hostile records and servers (issue 13) ---------------------------------------


def test_hostile_values_reach_links_md_as_text(tmp_path):
    from fakes.github_server import hostile_repo

    evil = "<script>alert(1)</script>"
    with FakeGitHub(token="t0ken") as gh, FakeWeb() as web:
        gh.add(hostile_repo("lab/evil", 9, license={"spdx_id": evil, "name": evil}))
        page = web.route("/p", status=404)
        path = tmp_path / "refs.bib"
        path.write_text(
            "@misc{a, title={A}, code={https://github.com/lab/evil}}\n"
            f"@misc{{b, title={{B}}, url={{{page}?q=<script>x</script>}}}}\n"
            "@misc{c, title={C}, url={http://127.0.0.1:99999/x}}\n",
            encoding="utf-8",
        )
        out = tmp_path / "links.md"
        env = {**gh.env(token=True), "BIBTOOLS_CACHE_DIR": str(tmp_path / "cache")}
        result = run(env, "links", str(path), "-o", str(out))
    assert result.exit_code == 1, result.stderr  # the 404 page; not 3
    text = out.read_text(encoding="utf-8")
    assert "<script" not in text and "&lt;script&gt;" in text
    assert "| a |" in text and "| b |" in text
    assert "internal error" not in result.stderr


def test_a_record_url_with_port_99999_is_skipped_not_a_crash(env, tmp_path):
    path = tmp_path / "refs.bib"
    path.write_text(
        "@misc{a, title={A}, url={http://127.0.0.1:99999/x}}\n"
        "@misc{b, title={B}, note={see https://github.com:99999/lab/live}}\n",
        encoding="utf-8",
    )
    for args in (
        ["links", str(path), "--format", "json"],
        ["enrich", str(path), "--sources", "github"],
    ):
        result = run(env, *args)
        assert result.exit_code in (0, 1), result.stderr
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    result = run(env, "links", str(path), "--format", "json")
    assert json.loads(result.stdout)["links"] == []
    assert len(json.loads(result.stdout)["skipped"]) == 2
    assert "0 links; 2 skipped (not a valid URL)" in result.stderr  # said, not silent


def test_enrich_sources_github_offline_skips_instead_of_failing(env, web, tmp_path):
    result = run(env, "enrich", bib(tmp_path, web), "--sources", "github", "--offline")
    assert result.exit_code == 1  # records are less complete than asked, as for arXiv offline
    assert "not enriched (skipped-offline)" in result.stderr
    assert "failed" not in result.stderr.replace("0 failed", "")
