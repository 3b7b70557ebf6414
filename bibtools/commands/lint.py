"""``bibtools lint``."""

from __future__ import annotations

import sys

import click

from ..files import write_atomic
from ..lint import Source, render_json, render_text
from ..lint import lint as run_lint


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--fix", is_flag=True, help="Apply the safe fixes to BibTeX inputs, in place, and report each."
)
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--ignore", metavar="CODES", help="Comma-separated check codes to skip.")
@click.option(
    "--select", metavar="CODES", help="Comma-separated check codes to run (default: all)."
)
@click.option(
    "-f", "--from", "from_format", metavar="FORMAT", help="Input format [default: detected]."
)
def lint(
    inputs: tuple[str, ...],
    fix: bool,
    report_format: str,
    ignore: str | None,
    select: str | None,
    from_format: str | None,
) -> None:
    """Check INPUT bibliographies for problems that break a build or a citation.

    Unprotected acronyms, unescaped & % # _, truncated author lists,
    preprints with a published version, missing DOIs and required fields,
    duplicate keys and entries, inconsistent venues, malformed pages, dates
    and DOIs. --fix applies only fixes that keep the meaning (brace an
    acronym, escape a character, normalise a page range or a DOI) and
    leaves layout and comments alone.

    \b
    Examples:
      bibtools lint thesis.bib
      bibtools lint thesis.bib --fix
      bibtools lint refs.bib --select unprotected-acronym,missing-doi --format json

    Exit status 1 when an error-level problem remains (for CI and pre-commit).
    """
    sources = [Source.from_file(path, from_format) for path in inputs]
    codes = {c.strip() for c in (ignore or "").split(",") if c.strip()}
    chosen = {c.strip() for c in select.split(",") if c.strip()} if select else None
    result = run_lint(sources, fix=fix, select=chosen, ignore=codes)
    for source in sources:
        if source.name in result.fixed:
            if source.encoding not in ("utf-8", "utf-8-sig", "ascii"):
                click.echo(
                    f"{source.name}: warning: written back as UTF-8 (read as {source.encoding})",
                    err=True,
                )
            write_atomic(source.name, result.fixed[source.name])
    click.echo(render_json(result) if report_format == "json" else render_text(result), nl=False)
    sys.exit(result.exit_code)
