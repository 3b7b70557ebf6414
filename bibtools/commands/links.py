"""``bibtools links``."""

from __future__ import annotations

import datetime as dt
import sys

import click

from .. import app
from ..diagnostics import UsageError
from ..files import guard_outputs, write_atomic
from ..links import DEFAULT_FAIL_ON, exit_status, parse_fail_on, render_json, render_markdown
from ..text.keys import assign_keys
from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    flush_stdout,
    network_options,
    progress_bar,
    read_options,
    report,
    shower,
)


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["table", "markdown", "json"]),
    help="Report format [default: table on a terminal, else from -o, else markdown].",
)
@click.option("-o", "--output", metavar="PATH", help="Write the report here (atomically).")
@click.option("--force", is_flag=True, help="Allow the report to overwrite one of the inputs.")
@click.option(
    "--fail-on",
    metavar="STATUSES",
    help="Comma-separated statuses that make the exit status 1, or 'none' "
    "[default: missing,blocked,disabled,unreachable].",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no warnings.")
@network_options
@read_options
def links(
    inputs: tuple[str, ...],
    report_format: str | None,
    output: str | None,
    force: bool,
    fail_on: str | None,
    quiet: bool,
    network: app.Network,
    from_format: str | None,
    as_of: dt.date | None,
) -> None:
    """Check the code and other links in INPUT records.

    Finds links in code fields, URLs, notes, abstracts and arXiv comments
    and checks each repository or page once, however many records cite it.
    GitHub repositories go through the GitHub API (60 requests an hour
    without GITHUB_TOKEN, then a look at the web page; with a token, 50
    repositories per GraphQL query); other links get HEAD, then GET. Each
    link gets a status: live, moved, archived, disabled, missing, blocked,
    unreachable, rate-limited, not-checked (offline, not in the cache), or
    announced-no-link (the source announced code but gave no link).

    \b
    Environment: BIBTOOLS_GITHUB_API, BIBTOOLS_GITHUB_WEB, GITHUB_TOKEN,
    BIBTOOLS_CACHE_DIR.

    \b
    Examples:
      bibtools links refs.bib
      bibtools links papers.txt --format json -o links.json
      bibtools links refs.bib --offline --fail-on none

    Exit status 1 when a link has a failing status (see --fail-on).
    """
    statuses = parse_fail_on(fail_on) if fail_on else DEFAULT_FAIL_ON
    fmt = report_format
    if fmt is None:
        if output:
            fmt = "json" if output.lower().endswith(".json") else "markdown"
        else:
            fmt = "table" if sys.stdout.isatty() else "markdown"
    if fmt == "table" and output:
        raise UsageError("--format table is for the terminal; use markdown or json with -o")
    guard_outputs([output], inputs, force)
    result = app.read(inputs, from_format, as_of=as_of, emit=shower(quiet))
    report(assign_keys(result.records), quiet)
    update, stop = progress_bar(quiet)
    try:
        checked = app.check_links(result.records, network, update)
    finally:
        stop()
    if fmt == "table":
        from rich.console import Console

        from ..links import render_table

        Console().print(render_table(checked))
    else:
        text = render_json(checked) if fmt == "json" else render_markdown(checked)
        if output:
            write_atomic(output, text)
        else:
            flush_stdout(text)
    click.echo(checked.summary(), err=True)
    sys.exit(max(exit_status(checked, statuses), EXIT_PROBLEMS if result.skipped else EXIT_OK))
