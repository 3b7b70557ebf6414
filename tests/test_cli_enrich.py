"""`bibtools enrich` and `build --enrich` end to end, against the loopback arXiv."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fakes.arxiv_server import FakeArxiv, Paper
from fakes.github_server import FakeGitHub, synthetic_repo

from bibtools.cli import main

LISTING = """\
CLApr 24, 2022Code
Learning to Win Lottery Tickets in BERT Transfer via Task-agnostic Mask TrainingYuanxin Liu, Fandong Meng, Zheng Lin et al. · pku
Studies lottery tickets in BERT. Code: https://github.com/llyx97/TAMT.
CVOct 10, 2022
Towards Robust Visual Question Answering: Making the Most of Biased Samples via Contrastive LearningQingyi Si, Yuanxin Liu, Fandong Meng et al.
Contrastive learning for VQA.
"""

PAPERS = [
    Paper(
        "2205.05055",
        "Learning to Win Lottery Tickets in BERT Transfer via Task-agnostic Mask Training",
        [
            "Yuanxin Liu",
            "Fandong Meng",
            "Zheng Lin",
            "Peng Fu",
            "Yanan Cao",
            "Weiping Wang",
            "Jie Zhou",
        ],
        primary="cs.CL",
        version=2,
        published="2022-04-24T10:00:00Z",
        journal_ref="NAACL 2022",
    ),
    Paper(
        "2210.04563",
        "Towards Robust Visual Question Answering: Making the Most of Biased Samples via Contrastive Learning",
        [
            "Qingyi Si",
            "Yuanxin Liu",
            "Fandong Meng",
            "Zheng Lin",
            "Peng Fu",
            "Yanan Cao",
            "Weiping Wang",
            "Jie Zhou",
        ],
        primary="cs.CV",
    ),
    # A decoy: the same title by other people must never be applied.
    Paper(
        "2301.00001",
        "Learning to Win Lottery Tickets in BERT Transfer via Task-agnostic Mask Training",
        ["Someone Else"],
    ),
]


@pytest.fixture
def arxiv():
    with FakeArxiv(PAPERS) as server:
        yield server


@pytest.fixture
def github():
    # build --enrich also asks GitHub for stars: a loopback one, never the real one.
    with FakeGitHub([synthetic_repo("llyx97/TAMT", 1, stars=321)]) as fake:
        yield fake


@pytest.fixture
def env(arxiv, github, tmp_path):
    return {
        **github.env(),
        "BIBTOOLS_ARXIV_API": arxiv.url,
        "BIBTOOLS_ARXIV_DELAY": "0",
        "BIBTOOLS_CACHE_DIR": str(tmp_path / "cache"),
    }


@pytest.fixture
def listing(tmp_path):
    path = tmp_path / "papers.txt"
    path.write_text(LISTING, encoding="utf-8")
    return path


def run(env, *args):
    return CliRunner(env=env).invoke(main, list(args))


def test_enrich_completes_authors_ids_and_dois_in_one_request(env, arxiv, listing, tmp_path):
    report = tmp_path / "report.json"
    result = run(env, "enrich", str(listing), "-t", "bibtex", "--report", str(report))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert (
        "Liu, Yuanxin and Meng, Fandong and Lin, Zheng and Fu, Peng and Cao, Yanan and Wang, Weiping and Zhou, Jie}"
        in out
    )
    assert "and others" not in out
    assert "eprint        = {2205.05055v2}" in out
    assert "doi           = {10.48550/arXiv.2210.04563}" in out
    assert "journal_ref   = {NAACL 2022}" in out
    assert "2301.00001" not in out  # the decoy
    assert arxiv.count == 1  # both titles OR-ed into one query
    assert "2 enriched; 1 request, 0 from cache" in result.stderr
    changes = json.loads(report.read_text(encoding="utf-8"))["changes"]
    assert {
        "record": "liu2022learning",
        "field": "arxiv_id",
        "old": None,
        "new": "2205.05055",
    }.items() <= next(c for c in changes if c["field"] == "arxiv_id").items()


def test_second_run_uses_the_cache_and_makes_no_request(env, arxiv, listing):
    first = run(env, "enrich", str(listing), "-t", "bibtex")
    count = arxiv.count
    second = run(env, "enrich", str(listing), "-t", "bibtex")
    assert second.exit_code == 0
    assert arxiv.count == count
    assert second.stdout == first.stdout


def test_dry_run_prints_changes_and_writes_no_records(env, listing):
    result = run(env, "enrich", str(listing), "--dry-run")
    assert result.exit_code == 0
    assert "@misc" not in result.stdout
    assert "liu2022learning: authors: would set" in result.stdout


def test_offline_with_an_empty_cache_makes_no_request_and_exits_1(env, arxiv, listing):
    result = run(env, "enrich", str(listing), "-t", "bibtex", "--offline")
    assert result.exit_code == 1
    assert arxiv.count == 0
    assert "2 skipped (offline)" in result.stderr
    assert "liu2022learning" in result.stderr  # named
    assert result.stdout.count("@misc{") == 2  # still written, unenriched


def test_server_down_still_writes_every_record_and_exits_1(env, arxiv, listing, tmp_path):
    out = tmp_path / "refs.bib"
    with arxiv.down():
        result = run(env, "enrich", str(listing), "-o", str(out))
    assert result.exit_code == 1
    assert out.read_text(encoding="utf-8").count("@misc{") == 2
    assert "Traceback" not in result.stderr
    assert "2 failed" in result.stderr


def test_build_enrich(env, arxiv, listing, tmp_path):
    result = run(env, "build", str(listing), "-o", str(tmp_path / "out"), "--enrich")
    assert result.exit_code == 0, result.stderr
    assert "Enrichment: 2 enriched" in result.stderr
    bib = (tmp_path / "out" / "references.bib").read_text(encoding="utf-8")
    assert "and others" not in bib and "2205.05055" in bib
    page = (tmp_path / "out" / "publications.html").read_text(encoding="utf-8")
    assert "[Code \u2605 321]" in page and "arXiv preprint arXiv:2210.04563 [cs.CV]" in page
