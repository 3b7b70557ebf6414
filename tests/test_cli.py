"""The command line: outputs, messages and exit statuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bibtools import __version__
from bibtools.cli import main

HERE = Path(__file__).parent
SAMPLE = HERE / "fixtures" / "listing" / "listing_sample.txt"
AS_OF = "2026-11-26"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_convert_listing_to_bibtex_on_stdout():
    result = run("convert", str(SAMPLE), "-t", "bibtex", "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("@misc{") == 24
    assert "@misc{liu2022learning," in result.stdout
    assert result.stderr == ""


def test_convert_is_deterministic(tmp_path):
    outputs = []
    for fmt in ("bibtex", "ris", "csljson"):
        first = run("convert", str(SAMPLE), "-t", fmt, "--as-of", AS_OF).stdout
        second = run("convert", str(SAMPLE), "-t", fmt, "--as-of", AS_OF).stdout
        assert first == second and first
        outputs.append(first)
    assert len(set(outputs)) == 3


def test_output_file_is_written_and_format_follows_extension(tmp_path):
    out = tmp_path / "refs.json"
    result = run("convert", str(SAMPLE), "-o", str(out), "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    items = json.loads(out.read_text(encoding="utf-8"))
    assert len(items) == 24
    assert [p.name for p in tmp_path.iterdir()] == ["refs.json"]
    # An author list cut short ends with "others", which CSL processors print as "et al.".
    cut = [item for item in items if item["author"][-1] == {"literal": "others"}]
    assert cut and all(len(item["author"]) == 4 for item in cut)


def test_stdin_and_several_inputs_are_merged(tmp_path):
    bib = tmp_path / "a.bib"
    bib.write_text(
        "@article{smith2020, title={One}, author={Smith, Ann}, year=2020}\n", encoding="utf-8"
    )
    ris = "TY  - JOUR\nTI  - Two\nAU  - Doe, Jo\nPY  - 2021\nER  - \n"
    result = run("convert", str(bib), "-", "-t", "bibtex", input=ris)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.index("@article{smith2020,") < result.stdout.index("Two")


def test_bad_record_is_skipped_named_and_exit_1(tmp_path):
    bib = tmp_path / "bad.bib"
    bib.write_text(
        "@article{a, title={One}}\n@article{b, title={Two,\n\n@article{c, title={Three}}\n",
        encoding="utf-8",
    )
    result = run("convert", str(bib), "-t", "bibtex")
    assert result.exit_code == 1
    assert f"{bib}:2: error: @article{{b" in result.stderr
    assert "@article{a," in result.stdout and "@article{c," in result.stdout


def test_strict_writes_nothing(tmp_path):
    bib = tmp_path / "bad.bib"
    bib.write_text("@article{a, title={One}}\n@article{b, title={Two,\n", encoding="utf-8")
    out = tmp_path / "out.bib"
    result = run("convert", str(bib), "-o", str(out), "--strict")
    assert result.exit_code == 1
    assert not out.exists()
    assert "nothing written" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["convert", "nope.bib", "-t", "bibtex"], "nope.bib: no such file"),
        (["convert", str(SAMPLE), "-t", "docx"], "unknown format 'docx'"),
        (["convert", str(SAMPLE)], "give the output format with -t"),
        (["convert", str(SAMPLE), "-t", "listing"], "input format only"),
        (["convert", str(SAMPLE), "-t", "bibtex", "--as-of", "26/11/2026"], "not a date"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_input_without_records_exits_2(tmp_path):
    empty = tmp_path / "empty.bib"
    empty.write_text("% only a comment\n", encoding="utf-8")
    result = run("convert", str(empty), "-t", "ris")
    assert result.exit_code == 2
    assert "no bibtex records found" in result.stderr


def test_binary_input_exits_2(tmp_path):
    junk = tmp_path / "junk.ris"
    junk.write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    result = run("convert", str(junk), "-t", "bibtex")
    assert result.exit_code == 2 and "binary data" in result.stderr


def test_refuses_to_overwrite_an_input(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{a, title={One}}\n", encoding="utf-8")
    result = run("convert", str(bib), "-o", str(bib))
    assert result.exit_code == 2 and "refusing to overwrite" in result.stderr
    assert bib.read_text(encoding="utf-8") == "@article{a, title={One}}\n"
    assert run("convert", str(bib), "-o", str(bib), "--force").exit_code == 0
    assert bib.read_text(encoding="utf-8") == "@article{a,\n  title = {One},\n}\n"


def test_existing_keys_are_kept_unless_rekey(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{MyKey, title={Learning Things}, author={Liu, Yu}, year=2022}\n", encoding="utf-8"
    )
    assert "@article{MyKey," in run("convert", str(bib), "-t", "bibtex").stdout
    assert "@article{liu2022learning," in run("convert", str(bib), "-t", "bibtex", "--rekey").stdout


def test_build_writes_three_files_and_a_summary(tmp_path):
    out = tmp_path / "out"
    result = run("build", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "publications.html",
        "publications.md",
        "references.bib",
        "references.json",
        "references.ris",
    ]
    assert "Read 18 records from the bundled example" in result.stderr
    assert "records have truncated author lists" in result.stderr
    bib = (out / "references.bib").read_text(encoding="utf-8")
    assert bib.count("\n@") + 1 == 18


def test_build_on_given_inputs(tmp_path):
    result = run("build", str(SAMPLE), "-o", str(tmp_path), "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    assert "Read 24 records" in result.stderr


def test_never_a_traceback_even_for_an_unexpected_error(tmp_path):
    # A real process: what a user sees, with Python's own error printing.
    env = dict(os.environ, BIBTOOLS_DEBUG="")
    bib = tmp_path / "x.bib"
    bib.write_bytes(b"@article{a, title={\xff\xfe\xfa}}")
    proc = subprocess.run(
        [sys.executable, "-m", "bibtools.cli", "convert", str(bib), "-t", "ris"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert "Traceback" not in proc.stderr
    assert proc.returncode in (0, 1, 2)
    assert len(proc.stderr.strip().splitlines()) <= 2
