"""``bibtools verify``: does every reference describe a work that exists?"""

from __future__ import annotations

import sys

import click

from ..app import Network
from ..app import verify as verify_records
from ..diagnostics import UsageError
from ..files import guard_outputs, write_atomic
from ..verify import exit_status
from ..verify_report import render, render_table, verdict_lines
from .common import EXIT_OK, EXIT_PROBLEMS, flush_stdout, network_options, shower

SOURCE_NAMES = ("crossref", "openalex", "doi.org", "arxiv")


def _formats(report_format: str | None, output: str | None) -> str:
    if report_format:
        return report_format
    if output:
        lower = output.lower()
        if lower.endswith(".json"):
            return "json"
        if lower.endswith((".html", ".htm")):
            return "html"
        return "markdown"
    return "table" if sys.stdout.isatty() else "markdown"


def _sources(value: str) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(s.strip().lower() for s in value.split(",") if s.strip()))
    wanted = tuple("doi.org" if s in ("doi", "doiorg") else s for s in wanted)
    bad = [s for s in wanted if s not in SOURCE_NAMES]
    if bad or not wanted:
        raise UsageError(
            f"--sources: unknown source {', '.join(bad) or '(none)'}; choose from {', '.join(SOURCE_NAMES)}"
        )
    return wanted


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--tex",
    "tex_files",
    multiple=True,
    metavar="FILE",
    help="A .tex or .aux file: report cited keys missing from the bibliography, entries "
    "never cited and two keys cited for one work (repeatable).",
)
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["table", "markdown", "json", "html"]),
    help="Report format [default: table on a terminal, else from -o, else markdown].",
)
@click.option("-o", "--output", metavar="PATH", help="Write the report here (atomically).")
@click.option(
    "--fix",
    "fix_output",
    metavar="OUT.bib",
    help="Write a corrected BibTeX file: only changes an id-confirmed match backs, each reported.",
)
@click.option(
    "--sources",
    default=",".join(SOURCE_NAMES),
    show_default=True,
    help="Comma-separated sources to ask.",
)
@click.option("--force", is_flag=True, help="Allow an output to overwrite one of the inputs.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no warnings.")
@network_options
@click.option(
    "-f", "--from", "from_format", metavar="FORMAT", help="Input format [default: detected]."
)
def verify(
    inputs: tuple[str, ...],
    tex_files: tuple[str, ...],
    report_format: str | None,
    output: str | None,
    fix_output: str | None,
    sources: str,
    force: bool,
    quiet: bool,
    network: Network,
    from_format: str | None,
) -> None:
    """Check that every reference in INPUT describes a work that exists.

    Each record gets one verdict: verified, mismatch (the work exists but
    title, authors, year, venue, volume, pages or DOI differ), wrong-id
    (the DOI or arXiv id names another work), phantom-id (the id does not
    exist), not-found (no id, and no source has the work) or unchecked (a
    source failed, offline, or a kind of work no source covers); retracted
    works are flagged. A failure of ours is never not-found. DOIs are
    looked up 50 a request (Crossref, OpenAlex), arXiv ids 100 a request;
    answers are cached, so a second run makes no request.

    \b
    Environment: BIBTOOLS_CROSSREF_API, BIBTOOLS_OPENALEX_API,
    BIBTOOLS_DOI_RESOLVER, BIBTOOLS_ARXIV_API, BIBTOOLS_CONTACT_EMAIL,
    BIBTOOLS_CACHE_DIR.

    \b
    Examples:
      bibtools verify thesis.bib
      bibtools verify thesis.bib --tex main.aux --format html -o report.html
      bibtools verify thesis.bib --fix fixed.bib --format json -o report.json

    Exit status 1 when a record is mismatch, wrong-id, phantom-id or
    not-found, or a cited key is missing (--tex); 0 otherwise; 2 for usage
    errors and unreadable input.
    """
    fmt = _formats(report_format, output)
    if fmt == "table" and output:
        raise UsageError("--format table is for the terminal; use markdown, json or html with -o")
    wanted = _sources(sources)
    guard_outputs([output, fix_output], [*inputs, *tex_files], force)
    done = verify_records(
        inputs,
        wanted,
        network,
        tex_files=tex_files,
        fix_output=fix_output,
        from_format=from_format,
        emit=shower(quiet),
    )
    report = done.report
    if fmt == "table":
        from rich.console import Console

        Console().print(render_table(report))
    else:
        text = render(report, fmt)
        if output:
            write_atomic(output, text)
        else:
            flush_stdout(text)
    if not quiet and fmt != "table":
        for line in verdict_lines(done.verdicts):
            click.echo(line, err=True)
    click.echo(report.summary(), err=True)
    problems = exit_status(done.verdicts) or (1 if report.audit and report.audit.missing else 0)
    sys.exit(problems or (EXIT_PROBLEMS if done.result.skipped else EXIT_OK))
