"""Smoke test of benchmarks/run.py on a 50-entry corpus made from the fixtures (no timing)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from bibtools.convert import read_file
from bibtools.files import decode
from bibtools.formats.bibtex_split import EntryBlock, split

HERE = Path(__file__).parent
RUN_PY = HERE.parent / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", RUN_PY)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules["bench_run"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """50 entries from the TeX Live fixtures, unique keys, no @string needed."""
    chunks: list[str] = []
    keys: set[str] = set()
    for path in sorted((HERE / "fixtures" / "bibtex" / "texlive").glob("*.bib")):
        text, _ = decode(path.read_bytes(), path.name)
        for block in split(text):
            if not isinstance(block, EntryBlock) or block.key in keys or not block.fields:
                continue
            if any(name.lower() == "crossref" for name, _, _ in block.fields):
                continue
            keys.add(block.key)
            body = ",\n".join(f"  {name} = {value}" for name, value, _ in block.fields)
            chunks.append(f"@{block.entry_type}{{{block.key},\n{body}\n}}\n")
            if len(chunks) == 50:
                out = tmp_path_factory.mktemp("corpus") / "corpus.bib"
                out.write_text("\n".join(chunks), encoding="utf-8")
                return out
    pytest.fail("fewer than 50 entries in the fixtures")


def entries(path: Path) -> list[EntryBlock]:
    return [b for b in split(path.read_text(encoding="utf-8")) if isinstance(b, EntryBlock)]


def test_scaling_gives_unique_keys_title_suffixes_and_shifted_years(bench, corpus, tmp_path):
    out = tmp_path / "scaled.bib"
    bench.scale_corpus(corpus, 120, out)
    scaled = entries(out)
    assert len(scaled) == 120
    assert len({e.key for e in scaled}) == 120
    titles = years = 0
    for original, copy in zip(scaled[:50], scaled[50:100], strict=True):
        assert copy.key == f"{original.key}-x1"
        assert [name for name, _, _ in copy.fields] == [name for name, _, _ in original.fields]
        first = {name.lower(): value for name, value, _ in original.fields}
        fields = {name.lower(): value for name, value, _ in copy.fields}
        if "title" in first:
            assert fields["title"][:-1].endswith(" (copy 2)")
            titles += 1
        for name in ("year", "date"):
            year = re.search(r"\d{4}", first.get(name, ""))
            if year:
                shifted = re.search(r"\d{4}", fields[name])
                assert shifted and int(shifted.group()) == int(year.group()) - 1
                years += 1
    assert titles > 30
    assert years > 30


@pytest.mark.slow
def test_suite_builds_its_inputs_and_runs_a_task(bench, corpus, tmp_path):
    work = tmp_path / "work"
    results = tmp_path / "RESULTS.md"
    argv = ["--corpus", str(corpus), "--sizes", "50", "--runs", "1", "--work", str(work)]
    argv += ["--results", str(results), "--tasks", "bib2csl", "--no-peers"]
    assert bench.main(argv) == 0
    assert len(entries(work / "bench_50.bib")) == 50
    items = json.loads((work / "bench_50.json").read_text(encoding="utf-8"))
    assert 40 <= len(items) <= 50
    ris = (work / "bench_50.ris").read_text(encoding="utf-8")
    assert ris.count("ER  -") == len(items)
    stamp = json.loads((work / "bench_50.stamp.json").read_text(encoding="utf-8"))
    listing = read_file(str(work / "bench_50.listing.txt"), "listing")
    assert stamp["listing_records"] > 0
    assert len(listing.records) == stamp["listing_records"]
    text = results.read_text(encoding="utf-8")
    assert "| BibTeX -> CSL-JSON | 50 |" in text
    assert "| yes |" in text  # the timed output equals the library's
    assert "not measured: --no-peers" in text
    assert "NOT EVALUATED" in text
    # The saved measurements give the same report again.
    again = tmp_path / "AGAIN.md"
    assert bench.main(["--report-from", str(work / "RESULTS.json"), "--results", str(again)]) == 0
    assert again.read_text(encoding="utf-8") == text
    # A second run reuses the inputs.
    before = (work / "bench_50.bib").stat().st_mtime_ns
    assert bench.main(argv) == 0
    assert (work / "bench_50.bib").stat().st_mtime_ns == before


def test_resource_usage_without_usr_bin_time(bench, monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "_TIME_V", tmp_path / "no-such-time")
    wall, cpu, rss, status, _ = bench.run_once([sys.executable, "-c", "pass"])
    assert status == 0
    assert wall > 0
    assert cpu >= 0
    assert rss > 1000  # kB: a Python process is several MB
    _, _, _, status, tail = bench.run_once([sys.executable, "-c", "import sys; sys.exit('broken')"])
    assert status == 1
    assert "broken" in tail
