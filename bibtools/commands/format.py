"""``bibtools format``."""

from __future__ import annotations

import datetime as dt
import sys

import click

from .. import app
from ..files import guard_outputs, write_atomic
from .common import EXIT_OK, EXIT_PROBLEMS, flush_stdout, read_options, shower


@click.command(name="format")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--style",
    help="CSL style (apa, ieee, chicago-author-date, vancouver, nature, ...) or .csl file; "
    "or a BibTeX style: plain, unsrt, alpha, abbrv, one TeX has (plainnat, ieeetr, "
    "apalike, IEEEtran, ...) or a .bst file [default: apa].",
)
@click.option(
    "--engine",
    type=click.Choice(["pybtex", "bibtex"]),
    help="What runs a BibTeX style: pybtex's interpreter (pure Python) or the bibtex "
    "program [default: pybtex].",
)
@click.option(
    "-t",
    "--to",
    "output_format",
    type=click.Choice(["text", "markdown", "html", "latex"]),
    help="Output format [default: html].",
)
@click.option(
    "-o", "--output", metavar="PATH", help="Write here (atomically) instead of standard output."
)
@click.option("--force", is_flag=True, help="Allow the output to overwrite one of the inputs.")
@click.option(
    "--standalone", is_flag=True, default=None, help="A whole HTML page with search and filters."
)
@click.option(
    "--group-by", type=click.Choice(["year", "type", "none"]), help="Group entries [default: none]."
)
@click.option(
    "--sort",
    type=click.Choice(["style", "date-desc", "date-asc", "author", "title", "none"]),
    help="Order of entries [default: the style's].",
)
@click.option(
    "--numbering",
    type=click.Choice(["auto", "none", "overall", "group"]),
    help="Number entries [default: auto, as the style does].",
)
@click.option(
    "--highlight", multiple=True, metavar="NAME", help="Set this person in bold (repeatable)."
)
@click.option(
    "--links/--no-links",
    default=None,
    help="Badges: [arXiv] [PDF] [DOI] [Code ★ 1.2k] [default: on].",
)
@click.option(
    "--link-report",
    metavar="links.json",
    help="A `bibtools links` JSON report: code badges say moved/unavailable.",
)
@click.option("--template", metavar="FILE", help="A Jinja2 template instead of the default one.")
@click.option(
    "--locale", metavar="TAG", help="Locale of the style's terms and dates [default: en-US]."
)
@click.option("--title", metavar="TEXT", help="Title of a standalone page [default: Publications].")
@click.option("-q", "--quiet", is_flag=True, help="Show errors only, no warnings.")
@read_options
def format_command(
    inputs: tuple[str, ...],
    style: str | None,
    engine: str | None,
    output_format: str | None,
    output: str | None,
    force: bool,
    standalone: bool | None,
    group_by: str | None,
    sort: str | None,
    numbering: str | None,
    highlight: tuple[str, ...],
    links: bool | None,
    link_report: str | None,
    template: str | None,
    locale: str | None,
    title: str | None,
    quiet: bool,
    from_format: str | None,
    as_of: dt.date | None,
) -> None:
    """Format INPUT records as a styled reference list or publication page.

    CSL styles go through pandoc's citeproc (bundled). A BibTeX style runs
    its real .bst over the records as `bibtools convert -t bibtex` writes
    them, so an entry reads as in a thesis built with bibtex: plain, unsrt,
    alpha and abbrv are bundled, other styles are found with kpsewhich when
    TeX is installed, and any .bst file can be given as a path. pybtex runs
    the style unless --engine bibtex asks for the bibtex program; the
    style's warnings are reported for each entry. (pybtex's Python versions
    of the classic styles remain as pybtex-plain, pybtex-unsrt, pybtex-alpha
    and pybtex-unsrtalpha.)  Every input is read into memory: sorting and
    disambiguation need every record.

    Acronyms protected in titles stay as written, names given with
    --highlight are set in bold in whatever form the style prints them,
    and everything from the records is escaped for the output format (only
    http and https URLs become links); the LaTeX output of a BibTeX style is
    the style's own LaTeX. Defaults can be set in bibtools.toml or under
    [tool.bibtools] in pyproject.toml.

    \b
    Examples:
      bibtools format refs.bib --style ieee -t text
      bibtools format refs.bib --style plain -t html -o refs.html
      bibtools format refs.bib --style ~/styles/journal.bst --engine bibtex -t text
      bibtools format papers.txt -t html --standalone --group-by year \\
          --highlight "Qingyi Si" -o publications.html
    """
    options = app.format_options(
        style=style,
        engine=engine,
        output=output_format,
        standalone=standalone,
        group_by=group_by,
        sort=sort,
        numbering=numbering,
        highlight=list(highlight) or None,
        links=links,
        template=template,
        locale=locale,
        title=title,
    )
    guard_outputs([output], [*inputs, link_report, options.template], force)
    if link_report:
        options.code_status = app.code_status_from_file(link_report)
    emit = shower(quiet)
    result = app.read(inputs, from_format, as_of=as_of, emit=emit)
    formatted = app.format_records(result, options, emit)
    if output:
        write_atomic(output, formatted.text)
    else:
        flush_stdout(formatted.text)
    problems = result.skipped or formatted.diagnostics.errors
    sys.exit(EXIT_PROBLEMS if problems else EXIT_OK)
