"""``bibtools build``: the main job."""

from __future__ import annotations

import datetime as dt
import os
import sys
from importlib.resources import as_file, files

import click

from .. import app
from ..files import guard_outputs
from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    network_options,
    progress_bar,
    read_options,
    shower,
    write_options,
)


@click.command()
@click.argument("inputs", nargs=-1, metavar="[INPUT...]")
@click.option(
    "-o",
    "--output-dir",
    default="output",
    show_default=True,
    metavar="DIR",
    help="Directory for references.*, publications.* and the --site files.",
)
@click.option("-q", "--quiet", is_flag=True, help="Show errors only, no warnings.")
@click.option(
    "--enrich",
    "do_enrich",
    is_flag=True,
    help="Complete the records first: arXiv (full authors, ids, DOIs), GitHub (stars); see enrich.",
)
@click.option("--check-links", is_flag=True, help="Also write links.md and links.json (see links).")
@click.option("--style", help="Style of publications.md/.html [default: bibtools.toml, else apa].")
@click.option(
    "--highlight", multiple=True, metavar="NAME", help="Set NAME in bold on the pages (repeatable)."
)
@click.option(
    "--selected-first", is_flag=True, default=None, help="Papers marked selected={true} first."
)
@click.option(
    "--site",
    type=click.Choice(["al-folio", "hugo-blox", "academicpages"]),
    help="Also write the files this site generator reads, under DIR (see docs/site-exports.md).",
)
@click.option("--dedupe", is_flag=True, help="Merge duplicate entries (see merge).")
@click.option("--force", is_flag=True, help="Allow an output to overwrite one of the inputs.")
@network_options
@read_options
@write_options
def build(
    inputs: tuple[str, ...],
    output_dir: str,
    quiet: bool,
    force: bool,
    do_enrich: bool,
    check_links: bool,
    style: str | None,
    highlight: tuple[str, ...],
    selected_first: bool | None,
    site: str | None,
    dedupe: bool,
    network: app.Network,
    from_format: str | None,
    as_of: dt.date | None,
    ascii_only: bool,
    dialect: str | None,
    rekey: bool,
) -> None:
    """Build the reference files and the publication page from INPUT
    (default: the bundled example).

    \b
    Writes into DIR:
      references.bib, references.ris, references.json   the records
      publications.md                                   the publication list, by year
      publications.html                                 the publication page
      links.md, links.json                              with --check-links
      the site generator's files                        with --site

    The page is one self-contained file: title, full author list, venue,
    [arXiv] [PDF] [DOI] [Code] [Project] links, abstract and BibTeX per
    paper; search and filters; a footer saying when it was built and which
    records could not be completed.  --site also writes what al-folio, Hugo
    Blox or academicpages read.

    \b
    Examples:
      bibtools build
      bibtools build papers.txt --enrich --highlight "Qingyi Si" -o site
      bibtools build refs.bib --style ieee --selected-first
      bibtools build refs.bib --site al-folio -o ~/my-site
    """
    names = list(app.BUILD_OUTPUTS) + (list(app.LINK_OUTPUTS) if check_links else [])
    page_options = app.format_options(
        style=style, highlight=list(highlight) or None, selected_first=selected_first
    )
    guard_outputs(
        [os.path.join(output_dir, name) for name in names],
        [*inputs, page_options.template],
        force,
    )
    update, stop = progress_bar(quiet)
    try:
        with as_file(files("bibtools") / "data" / app.EXAMPLE) as example:
            built = app.build(
                inputs,
                output_dir,
                page_options,
                network,
                example=str(example),
                do_enrich=do_enrich,
                links=check_links,
                dedupe_records=dedupe,
                site=site,
                force=force,
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
    sys.exit(EXIT_PROBLEMS if built.problems else EXIT_OK)
