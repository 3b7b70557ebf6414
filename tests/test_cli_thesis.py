"""`bibtools merge`, `rekey`, `lint` and `--dedupe` end to end."""

from __future__ import annotations

import json
import shutil
from importlib.resources import files
from pathlib import Path

from click.testing import CliRunner

from bibtools.cli import main

EXAMPLE = str(files("bibtools") / "data" / "example.listing")
EXPORT = str(Path(__file__).parent / "data" / "dedupe" / "export.bib")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_merge_writes_one_entry_per_paper_and_the_key_map(tmp_path):
    out, key_map = tmp_path / "refs.bib", tmp_path / "map.json"
    result = run("merge", EXAMPLE, EXPORT, "-o", str(out), "--key-map", str(key_map))
    assert result.exit_code == 0, result.stderr
    assert "41 records in, 24 out" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.count("\n@") + 1 == 24
    mapping = json.loads(key_map.read_text(encoding="utf-8"))
    assert mapping["Vaswani2017"] == "vaswani2017attention"  # the first input's key wins
    assert "@inproceedings{devlin2018bert," in text  # the published version, the listing's key


def test_merge_dry_run_writes_nothing(tmp_path):
    result = run("merge", EXAMPLE, EXPORT, "-o", str(tmp_path / "refs.bib"), "--dry-run")
    assert result.exit_code == 0
    assert "group 1:" in result.stdout
    assert not (tmp_path / "refs.bib").exists()


def test_rekey_rewrites_citations_with_a_backup(tmp_path):
    key_map = tmp_path / "map.json"
    key_map.write_text(json.dumps({"Vaswani2017": "vaswani2017attention"}), encoding="utf-8")
    tex = tmp_path / "paper.tex"
    tex.write_text(
        "As \\citet{Vaswani2017} and \\cite[p.~2]{x,Vaswani2017} show.\n", encoding="utf-8"
    )
    result = run("rekey", "--map", str(key_map), str(tex))
    assert result.exit_code == 0
    assert tex.read_text(encoding="utf-8") == (
        "As \\citet{vaswani2017attention} and \\cite[p.~2]{x,vaswani2017attention} show.\n"
    )
    assert (tmp_path / "paper.tex.bak").read_text(encoding="utf-8").count("Vaswani2017") == 2


def test_lint_exit_status_and_fix(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{a, title = {Learning BERT}, author = {Smith, Ann and others}, journal = {J},"
        " year = {2020}, pages = {1-10}, doi = {https://doi.org/10.1000/x}}\n"
        "@article{a, title = {Other}, author = {Doe, Jo}, journal = {J}, year = {2019}}\n",
        encoding="utf-8",
    )
    first = run("lint", str(bib))
    assert first.exit_code == 1  # the duplicate key is an error
    assert "[duplicate-key]" in first.stdout and "[unprotected-acronym]" in first.stdout
    fixed = run("lint", str(bib), "--fix", "--format", "json")
    report = json.loads(fixed.stdout)
    assert any(c["field"] == "title" for c in report["changes"])
    text = bib.read_text(encoding="utf-8")
    assert "{BERT}" in text and "pages = {1--10}" in text and "doi = {10.1000/x}" in text


def test_lint_runs_on_every_bibtex_fixture_without_crashing(tmp_path):
    fixtures = Path(__file__).parent / "fixtures" / "bibtex" / "texlive"
    copy = tmp_path / "texlive"
    shutil.copytree(fixtures, copy)
    result = run("lint", *map(str, sorted(copy.glob("*.bib"))))
    assert result.exit_code in (0, 1)
    assert "Traceback" not in result.stderr + result.stdout


def test_convert_dedupe(tmp_path):
    result = run("convert", EXAMPLE, EXPORT, "-t", "csljson", "--dedupe")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 24
