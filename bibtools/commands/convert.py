"""``bibtools convert``."""

from __future__ import annotations

import datetime as dt
import sys

import click

from .. import app
from ..files import guard_outputs
from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    flush_stdout,
    output_options,
    read_options,
    shower,
    write_options,
)


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@output_options(": bibtex, ris, csljson [default: from -o].")
@click.option("--strict", is_flag=True, help="Write nothing if any record is bad.")
@click.option(
    "--dedupe",
    is_flag=True,
    help="Merge duplicate entries (see merge); reads every input into memory.",
)
@click.option("-q", "--quiet", is_flag=True, help="Show errors only, no warnings.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Processes for large inputs [default: the machine's cores; 1: this one only].",
)
@read_options
@write_options
def convert(
    inputs: tuple[str, ...],
    to_format: str | None,
    output: str | None,
    strict: bool,
    dedupe: bool,
    force: bool,
    quiet: bool,
    jobs: int | None,
    from_format: str | None,
    as_of: dt.date | None,
    ascii_only: bool,
    dialect: str | None,
    rekey: bool,
) -> None:
    """Convert INPUT files (``-`` for stdin) to one output.

    Several inputs are merged into one output, in order.  A bad record is
    skipped with a message ``FILE:LINE: ...`` and the rest is written (exit
    status 1); with --strict nothing is written.  BibTeX, RIS and CSL-JSON
    (array) inputs are converted piece by piece in bounded memory, a large one
    in --jobs processes, with the same output as one process.

    \b
    Examples:
      bibtools convert papers.txt -t bibtex -o refs.bib
      bibtools convert refs.bib -t csljson > refs.json
      cat export.ris | bibtools convert - -t bibtex --dialect biblatex
    """
    app.output_format(output, to_format)  # a usage error before anything is read
    guard_outputs([output], inputs, force)
    written = app.convert(
        inputs,
        to_format,
        output,
        from_format=from_format,
        as_of=as_of,
        strict=strict,
        dedupe_records=dedupe,
        ascii_only=ascii_only,
        dialect=dialect,
        rekey=rekey,
        jobs=jobs,
        emit=shower(quiet),
    )
    if not output:
        flush_stdout(written.data)
    sys.exit(EXIT_PROBLEMS if written.problems else EXIT_OK)
