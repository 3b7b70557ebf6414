"""`bibtools verify` end to end against the loopback scholarly fakes (tests/fakes/scholarly.py).

The development set (tests/data/verify/references.*) gets its ground truth,
within the request budget, and a second run asks nothing.  Under injected
faults (503, 429 with Retry-After, a source down, a slow source) no
genuine reference gets a bad verdict.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fakes.scholarly import Scholarly, scholarly_fakes

from bibtools.cli import main
from bibtools.convert import read_inputs
from bibtools.http import HttpClient
from bibtools.sources.arxiv import ArxivClient
from bibtools.sources.crossref import CrossrefClient
from bibtools.sources.doiorg import DoiOrgClient
from bibtools.sources.openalex import OpenAlexClient
from bibtools.verify import BAD_VERDICTS, judge
from bibtools.verify_fetch import Clients, gather

DATA = Path(__file__).parent / "data" / "verify"
BIB = DATA / "references.bib"
TRUTH = json.loads((DATA / "references.truth.json").read_text())["records"]
GENUINE = {k for k, t in TRUTH.items() if t["verdict"] == "verified"}


@pytest.fixture(scope="module")
def fakes() -> Iterator[Scholarly]:
    with scholarly_fakes() as s:
        yield s


@pytest.fixture(autouse=True)
def _fresh(fakes: Scholarly) -> Iterator[None]:
    fakes.clear_faults()
    fakes.reset_logs()
    yield
    fakes.clear_faults()


@pytest.fixture
def env(fakes: Scholarly, tmp_path: Path) -> dict[str, str]:
    return {**fakes.env, "BIBTOOLS_CACHE_DIR": str(tmp_path / "cache")}


def run(env: dict[str, str], *args: str) -> tuple[int, Any, str]:
    result = CliRunner().invoke(main, ["verify", *args], env=env, catch_exceptions=False)
    out = result.stdout
    data = json.loads(out) if "--format" in args and "json" in args and out.strip() else out
    return result.exit_code, data, result.stderr


def verdicts(data: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    return {r["key"]: (r["verdict"], r["retracted"]) for r in data["results"]}


def test_the_development_set_gets_its_ground_truth_in_few_requests(
    fakes: Scholarly, env: dict[str, str]
) -> None:
    code, data, err = run(env, str(BIB), "--format", "json")
    assert code == 1  # mismatches, wrong ids, phantoms, not-found
    assert verdicts(data) == {k: (t["verdict"], t["retracted"]) for k, t in TRUTH.items()}
    for r in data["results"]:
        assert sorted(r["fields"]) == sorted(TRUTH[r["key"]]["fields"]) or r["verdict"] in (
            "wrong-id",
            "phantom-id",
        )
    # 62 records: one batch per source for the DOIs, one request per title at most.
    assert fakes.total_requests() < 40
    assert fakes.crossref.batches == 1 and fakes.openalex.batches == 1
    # A title search per record without ids (8), and one per wrong id (5: which work was meant?).
    assert fakes.openalex.searches <= 8 + 5 and fakes.crossref.searches <= 8
    lecun = next(r for r in data["results"] if r["key"] == "lecun2015deepwrong")
    assert lecun["found"]["doi"]["suggested"]["value"] == "10.1038/nature14539"
    vaswani = next(r for r in data["results"] if r["key"] == "vaswani2017wrongeprint")
    assert vaswani["found"]["eprint"]["suggested"]["value"] == "1706.03762"
    assert 0 < data["summary"]["requests"] <= fakes.total_requests()
    assert "62 records: 31 verified, 9 mismatch" in err
    # The evidence names the source, the id and what it says.
    chimera = next(r for r in data["results"] if r["key"] == "minsky1986learning")
    assert chimera["found"]["author"]["value"][0].startswith("Rumelhart")
    assert chimera["evidence"][0]["source"] in ("openalex", "crossref")
    fakes.reset_logs()
    code2, again, _ = run(env, str(BIB), "--format", "json")
    assert fakes.total_requests() == 0
    assert again["summary"]["requests"] == 0
    assert verdicts(again) == verdicts(data) and code2 == 1


def test_offline_with_an_empty_cache_checks_nothing_and_calls_nothing_missing(
    fakes: Scholarly, env: dict[str, str]
) -> None:
    code, data, _ = run(env, str(BIB), "--format", "json", "--offline")
    assert fakes.total_requests() == 0
    assert {v for v, _ in verdicts(data).values()} == {"unchecked"}
    assert code == 0


@pytest.mark.slow
def test_offline_after_a_run_gives_the_same_verdicts(fakes: Scholarly, env: dict[str, str]) -> None:
    _, first, _ = run(env, str(BIB), "--format", "json")
    fakes.reset_logs()
    _, offline, _ = run(env, str(BIB), "--format", "json", "--offline")
    assert fakes.total_requests() == 0
    assert verdicts(offline) == verdicts(first)


@pytest.mark.slow
def test_one_503_and_one_429_per_source_change_no_verdict(
    fakes: Scholarly, env: dict[str, str]
) -> None:
    for fake in fakes.fakes.values():
        fake.fail("", "503", times=1)
        fake.rate_limit("", times=1, retry_after="1")
    _, data, _ = run(env, str(BIB), "--format", "json")
    assert verdicts(data) == {k: (t["verdict"], t["retracted"]) for k, t in TRUTH.items()}


@pytest.mark.slow
@pytest.mark.parametrize("down", ["crossref", "openalex", "doi", "datacite", "arxiv"])
@pytest.mark.parametrize("fault", ["503", "429", "200-html", "reset"])
def test_a_source_down_never_makes_a_genuine_reference_bad(
    fakes: Scholarly, env: dict[str, str], down: str, fault: str
) -> None:
    fakes.fakes[down].fail(
        "", fault, times=None, **({"retry_after": "0"} if fault == "429" else {})
    )
    _, data, _ = run(env, str(BIB), "--format", "json")
    got = verdicts(data)
    false_alarms = {k: got[k] for k in GENUINE if got[k][0] in BAD_VERDICTS}
    assert false_alarms == {}
    # Nothing is called missing because a source failed.
    for key, (verdict, _) in got.items():
        if verdict in ("not-found", "phantom-id"):
            assert TRUTH[key]["verdict"] == verdict, key


@pytest.mark.slow
def test_a_slow_source_times_out_into_unchecked_not_into_a_bad_verdict(
    fakes: Scholarly, tmp_path: Path
) -> None:
    records = read_inputs([str(BIB)]).records
    gate = fakes.openalex.hold("")
    try:
        with HttpClient.from_env(cache_dir=str(tmp_path / "c")) as http:
            quick = {"timeout": (1.0, 0.3), "retries": 1}
            clients = Clients(
                crossref=CrossrefClient(http, api_url=fakes.crossref.url, **quick),  # type: ignore[arg-type]
                openalex=OpenAlexClient(http, api_url=fakes.openalex.url, **quick),  # type: ignore[arg-type]
                doiorg=DoiOrgClient(http, resolver=fakes.doi.url, **quick),  # type: ignore[arg-type]
                arxiv=ArxivClient(http, api_url=fakes.arxiv.url, delay=0),
            )
            evidence = gather(records, clients)
    finally:
        gate.release()
    got = {r.key: judge(r, e).verdict for r, e in zip(records, evidence, strict=True)}
    assert gate.arrivals >= 1
    assert {k: got[k] for k in GENUINE if got[k] in BAD_VERDICTS} == {}
    assert got["srivastava2014dropout"] == "unchecked"  # only OpenAlex knows it


@pytest.mark.slow
def test_fix_writes_only_id_backed_corrections_and_leaves_other_entries_byte_identical(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "fixed.bib"
    _, data, err = run(env, str(BIB), "--format", "json", "--fix", str(out))
    text = out.read_text()
    changes = {(c["record"], c["field"]): c for c in data["fixes"]["changes"]}
    assert changes[("codd1971relational", "year")]["new"] == "1970"
    assert changes[("lamport1978time", "volume")]["new"] == "21"
    assert changes[("dijkstra1959note", "pages")]["new"] == "269-271"
    assert all(
        c["source"].startswith(("crossref:", "openalex:", "doi.org:", "arxiv:"))
        for c in changes.values()
    )
    # Title-search matches, wrong and phantom ids: not touched.
    assert not {k for k, _ in changes} & {
        "altschul1991basic",
        "minsky1986learning",
        "lecun2015deepwrong",
        "kaplan1958phantom",
    }
    source = BIB.read_text()
    entries = re.findall(r"(?ms)^@\w+\{(\w+),.*?^\}", source)
    unchanged = [k for k in entries if k not in {k for k, _ in changes}]
    for key in unchanged:
        block = re.search(rf"(?ms)^@\w+\{{{key},.*?^\}}", source)
        assert block is not None and block.group(0) in text, key
    assert re.search(r"(?ms)^@article\{codd1971relational,.*?year\s*=\s*\{1970\}", text)
    assert "fixes written to" in err
    # Authors: the source's list, with the record's spelling of the people it had right.
    assert "author  = {Hinton, Geoffrey E. and Salakhutdinov, Ruslan R.}" in text


def test_tex_audit(env: dict[str, str], tmp_path: Path) -> None:
    tex = tmp_path / "main.tex"
    tex.write_text(
        "\\cite{he2016deep,lecun2015deep} \\citep{lecun2015deepwrong} \\cite{nosuchkey}\n"
    )
    code, data, _ = run(
        env, str(BIB), "--format", "json", "--tex", str(tex), "--sources", "crossref"
    )
    assert data["citations"]["missing"] == ["nosuchkey"]
    assert "he2016deep" not in data["citations"]["uncited"]
    assert "hochreiter1997long" in data["citations"]["uncited"]
    assert {
        "keys": ["lecun2015deep", "lecun2015deepwrong"],
        "why": "the same title and first author",
    } in data["citations"]["same_work"]
    assert code == 1


def test_html_escapes_what_it_did_not_build(env: dict[str, str], tmp_path: Path) -> None:
    bib = tmp_path / "x.bib"
    bib.write_text(
        '@misc{evil, title = {<script>alert(1)</script>}, howpublished = {\\url{https://x.example/"onload=}}}\n'
    )
    out = tmp_path / "report.html"
    code, _, _ = run(env, str(bib), "-o", str(out))
    html = out.read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '"onload' not in html
    assert code == 0


@pytest.mark.parametrize("fmt", ["markdown", "html", "json"])
def test_formats_and_output_file(env: dict[str, str], tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{ {'markdown': 'md', 'html': 'html', 'json': 'json'}[fmt] }"
    code, stdout, _ = run(
        env, str(BIB), "--format", fmt, "-o", str(out), "--sources", "crossref,doi.org"
    )
    assert not stdout and code == 1
    text = out.read_text()
    assert "kaplan1958phantom" in text and "phantom-id" in text
    if fmt == "json":
        assert json.loads(text)["results"][0]["key"] == "he2016deep"


def test_usage_errors_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    assert run(env, str(BIB), "--sources", "google")[0] == 2
    assert run(env, str(BIB), "--format", "table", "-o", str(tmp_path / "x"))[0] == 2
    assert run(env, str(tmp_path / "missing.bib"))[0] == 2
    assert run(env, str(BIB), "--fix", str(BIB))[0] == 2  # would overwrite the input
    assert run({**env, "BIBTOOLS_OPENALEX_API": "ftp://x"}, str(BIB))[0] == 2


def test_records_without_problems_exit_0(env: dict[str, str], tmp_path: Path) -> None:
    good = tmp_path / "good.bib"
    blocks = re.findall(
        r"(?ms)^@\w+\{(?:he2016deep|lecun2015deep|willighagen2023shield),.*?^\}", BIB.read_text()
    )
    good.write_text("\n\n".join(blocks) + "\n")
    code, data, _ = run(env, str(good), "--format", "json")
    assert [r["verdict"] for r in data["results"]] == ["verified"] * 3
    assert code == 0
