"""``bibtools merge``."""

from __future__ import annotations

import datetime as dt
import sys

import click

from .. import app
from ..dedupe import describe
from ..dedupe import merge as merge_records
from ..files import guard_outputs, write_atomic
from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    flush_stdout,
    output_options,
    read_options,
    report,
    shower,
    write_options,
)


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@output_options(" [default: from -o, else bibtex].")
@click.option(
    "--key-map", metavar="FILE.json", help="Write the old -> new citation keys of merged entries."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print each group of duplicates, why it was formed and the merged fields; write nothing.",
)
@click.option(
    "--keep-apart",
    metavar="KEY1,KEY2[,...]",
    multiple=True,
    help="Never merge the entries with these keys with each other (repeatable).",
)
@click.option("-q", "--quiet", is_flag=True, help="Show errors only, no warnings.")
@read_options
@write_options
def merge(
    inputs: tuple[str, ...],
    to_format: str | None,
    output: str | None,
    key_map: str | None,
    dry_run: bool,
    keep_apart: tuple[str, ...],
    force: bool,
    quiet: bool,
    from_format: str | None,
    as_of: dt.date | None,
    ascii_only: bool,
    dialect: str | None,
    rekey: bool,
) -> None:
    """Merge INPUT files into one bibliography, one entry per paper.

    Duplicates are identical entries (the same type and fields, whatever the
    key), or share a DOI, an arXiv id (any version), or a title AND an
    author AND years at most one apart; never a title alone.  A merged entry
    keeps the union of the fields, the published version's venue, pages and
    DOI, the arXiv fields, the most complete author list, and the first
    input's key, written as that input wrote it.  Identical @string,
    @preamble and @comment blocks are written once.  --key-map records every
    key that went away, for `bibtools rekey`; a key that named different
    entries in two inputs is renamed in the second and mapped for it only.
    Merging a file with a copy of itself changes nothing.  Every input is
    read into memory: duplicates may stand anywhere.

    \b
    Examples:
      bibtools merge thesis.bib coauthor.bib -o all.bib --key-map keys.json
      bibtools merge refs.bib --dry-run
      bibtools merge a.bib b.bib --keep-apart smith2020a,smith2020b -o all.bib
    """
    fmt = app.output_format(output, to_format or (None if output else "bibtex"))
    guard_outputs([None if dry_run else output, None if dry_run else key_map], inputs, force)
    result = app.read(inputs, from_format, as_of=as_of, emit=shower(quiet))
    apart = [[k.strip() for k in group.split(",") if k.strip()] for group in keep_apart]
    if any(len(group) < 2 for group in apart):
        raise click.BadParameter(
            "give two or more keys, separated by commas", param_hint="--keep-apart"
        )
    merged = merge_records(result.records, keep_apart=apart)
    report(merged.diagnostics, quiet)
    if dry_run:
        click.echo(describe(merged))
    else:
        result.records = merged.records
        written = app.write_records(
            result, fmt, ascii_only=ascii_only, dialect=dialect, rekey=rekey, emit=shower(quiet)
        )
        if output:
            write_atomic(output, written.data)
        else:
            flush_stdout(written.data)
        if key_map:
            write_atomic(key_map, merged.key_map_json())
    click.echo(merged.summary(), err=True)
    sys.exit(EXIT_PROBLEMS if result.skipped else EXIT_OK)
