"""`bibtools format` and the publication list of `bibtools build`."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest
from click.testing import CliRunner

from bibtools.cli import main

EXAMPLE = str(files("bibtools") / "data" / "example.listing")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize(
    ("output", "needle"),
    [
        # The listing cuts the author list ("et al."): so does the style.
        ("text", "Vaswani, A., Shazeer, N., Parmar, N., et al. (2017). Attention Is All You Need."),
        ("markdown", "*Attention Is All You Need*"),
        ("html", 'class="csl-entry" id="vaswani2017attention"'),
        ("latex", "\\textit{Attention Is All You Need}"),
    ],
)
def test_format_every_output(output, needle):
    result = run("format", EXAMPLE, "--style", "apa", "-t", output)
    assert result.exit_code == 0, result.stderr
    assert needle in result.stdout


def test_format_ieee_highlight_and_grouping():
    result = run(
        "format",
        EXAMPLE,
        "--style",
        "ieee",
        "-t",
        "markdown",
        "--group-by",
        "year",
        "--highlight",
        "Kaiming He",
    )
    assert result.exit_code == 0, result.stderr
    assert "**K. He**" in result.stdout
    assert result.stdout.index("## 2023") < result.stdout.index("## 2013")


def test_format_uses_the_config_file_and_flags_win(tmp_path, monkeypatch):
    (tmp_path / "bibtools.toml").write_text('style = "ieee"\noutput = "text"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("format", EXAMPLE)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("[1] A. Vaswani")
    apa = run("format", EXAMPLE, "--style", "apa")
    assert apa.stdout.startswith("Dao, T.")  # APA sorts by author


def test_format_link_report_marks_unavailable_code(tmp_path):
    report = tmp_path / "links.json"
    report.write_text(
        json.dumps(
            {
                "links": [],
                "results": [
                    {"url": "https://github.com/facebookresearch/Detectron", "status": "missing"}
                ],
            }
        ),
        encoding="utf-8",
    )
    result = run("format", EXAMPLE, "-t", "text", "--link-report", str(report))
    assert "[Code: unavailable]" in result.stdout


def test_format_usage_errors():
    assert run("format", EXAMPLE, "--style", "no-such-style").exit_code == 2
    standalone_md = run("format", EXAMPLE, "-t", "markdown", "--standalone")
    assert standalone_md.exit_code == 2 and "--standalone" in standalone_md.stderr


def test_build_writes_the_publication_list(tmp_path):
    out = tmp_path / "out"
    result = run("build", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    page = (out / "publications.html").read_text(encoding="utf-8")
    assert (
        page.lower().startswith("<!doctype html>")
        and page.count('<article class="csl-entry bt-paper"') == 18
    )
    md = (out / "publications.md").read_text(encoding="utf-8")
    assert md.count("\n- ") == 18 and '<a id="year-2023"></a>' in md
