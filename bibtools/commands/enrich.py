"""``bibtools enrich``."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from typing import Any

import click

from .. import app
from ..files import guard_outputs
from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    flush_stdout,
    network_options,
    output_options,
    progress_bar,
    read_options,
    shower,
    write_options,
)


def print_changes(changes: Sequence[Any]) -> None:
    for change in changes:
        verb = "would set" if change.applied else "kept (source differs)"
        note = f" [{change.note}]" if change.note else ""
        click.echo(
            f"{change.record_key}: {change.field}: {verb}: {change.old!r} -> {change.new!r} "
            f"({change.source}){note}"
        )


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@output_options(" [default: from -o, else the input's].")
@click.option(
    "--sources",
    default="arxiv",
    show_default=True,
    metavar="LIST",
    help="Comma-separated: arxiv, github, published.",
)
@click.option("--dry-run", is_flag=True, help="Print the changes per record; write no records.")
@click.option(
    "--report",
    metavar="FILE.json",
    help="Write every change (record, field, old, new, source) as JSON.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no warnings.")
@network_options
@read_options
@write_options
def enrich(
    inputs: tuple[str, ...],
    to_format: str | None,
    output: str | None,
    sources: str,
    dry_run: bool,
    report: str | None,
    force: bool,
    quiet: bool,
    network: app.Network,
    from_format: str | None,
    as_of: dt.date | None,
    ascii_only: bool,
    dialect: str | None,
    rekey: bool,
) -> None:
    """Complete INPUT records: full author lists, arXiv ids, DOIs, code links, venues.

    Records with an arXiv id are looked up 100 to a request; the others by
    exact title, accepted only when an author's family name matches too.
    A value the input already has is never replaced: the change is reported
    instead (--dry-run, --report).  Requests are cached (24 h for arXiv);
    a second run over the same input makes none.

    Sources: arxiv (authors, ids, DOI, categories), github (stars, licence,
    moved repositories; see links), published (the version of record of a
    preprint, from the arXiv journal reference, Semantic Scholar, DBLP and
    Crossref; applied only when title and authors agree).

    \b
    Environment: BIBTOOLS_ARXIV_API, BIBTOOLS_ARXIV_DELAY (seconds between
    requests, at least 3 for arxiv.org), BIBTOOLS_GITHUB_API, GITHUB_TOKEN,
    BIBTOOLS_S2_API, S2_API_KEY, BIBTOOLS_DBLP_API, BIBTOOLS_CROSSREF_API,
    BIBTOOLS_CONTACT_EMAIL (Crossref's polite pool), BIBTOOLS_CACHE_DIR.

    \b
    Examples:
      bibtools enrich papers.txt -o refs.bib
      bibtools enrich refs.bib --sources arxiv,published --dry-run
      bibtools enrich refs.bib --sources github --report changes.json -o refs.bib --force

    Exit status 1 when some records could not be enriched (named on stderr).
    """
    if to_format or output:
        app.output_format(output, to_format)  # a usage error before anything is read
    guard_outputs([None if dry_run else output, report], inputs, force)
    wanted = [s.strip() for s in sources.split(",") if s.strip()]
    update, stop = progress_bar(quiet)
    try:
        done = app.enrich(
            inputs,
            wanted,
            network,
            to_format=to_format,
            output=output,
            report=report,
            dry_run=dry_run,
            from_format=from_format,
            as_of=as_of,
            ascii_only=ascii_only,
            dialect=dialect,
            rekey=rekey,
            progress=update,
            emit=shower(quiet),
        )
    finally:
        stop()
    if dry_run:
        print_changes(done.enriched.changes)
    elif not output and done.written is not None:
        flush_stdout(done.written.data)
    click.echo(done.enriched.summary(), err=True)
    problems = done.result.skipped or done.enriched.not_enriched
    sys.exit(EXIT_PROBLEMS if problems else EXIT_OK)
