"""``bibtools add``: new entries from DOIs, arXiv ids, ISBNs, PMIDs or pasted references."""

from __future__ import annotations

import sys

import click

from .. import app
from ..add import Outcome
from ..app import Network
from ..files import decode, read_bytes
from ..text.markup import to_plain
from .common import EXIT_OK, EXIT_PROBLEMS, network_options, shower


@click.command(name="add")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option(
    "--to",
    "target",
    metavar="FILE.bib",
    help="Append the new entries to FILE (its text stays as it was); default: stdout.",
)
@click.option(
    "--dialect",
    type=click.Choice(["bibtex", "biblatex"]),
    help="Fields of the new entries [default: the file's, else bibtex].",
)
@click.option("--dry-run", is_flag=True, help="Print what would be appended; write nothing.")
@click.option(
    "--key-style",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "scholar", "authoryear", "bbt"]),
    help="auto: the file's own style, else scholar (lecun2015deep); authoryear: LeCun2015; "
    "bbt: lecunDeepLearning2015.",
)
@click.option("--ascii", "ascii_only", is_flag=True, help="LaTeX accent commands, not UTF-8.")
@click.option("-q", "--quiet", is_flag=True, help="Only problems on stderr.")
@network_options
def add(
    ids: tuple[str, ...],
    target: str | None,
    dialect: str | None,
    dry_run: bool,
    key_style: str,
    ascii_only: bool,
    quiet: bool,
    network: Network,
) -> None:
    """Add a paper to a bibliography by its DOI, arXiv id, ISBN or PMID.

    ID is a DOI (10.1145/..., doi:..., https://doi.org/...), an arXiv id
    (1706.03762v5, arXiv:..., arxiv.org/abs or /pdf URLs), an ISBN-10/13 or
    PMID:NUMBER; '-' reads ids, or a pasted reference list (one formatted
    reference per line), from stdin.

    DOIs are resolved through doi.org (Crossref, DataCite and the other
    agencies), arXiv ids through the arXiv API, ISBNs through Open Library
    and Google Books, PMIDs through PubMed.  A pasted reference is searched
    with Crossref and accepted only when a family name matches (with the
    confidence shown); otherwise the candidates are listed.

    With --to, the entries are appended: the file's text stays byte for
    byte, an id the file already has is refused and named, keys follow the
    file's style.

    \b
    Environment: BIBTOOLS_DOI_RESOLVER, BIBTOOLS_CROSSREF_API, BIBTOOLS_ARXIV_API,
    BIBTOOLS_OPENLIBRARY_API, BIBTOOLS_GOOGLEBOOKS_API, BIBTOOLS_PUBMED_API,
    BIBTOOLS_CONTACT_EMAIL, BIBTOOLS_CACHE_DIR.

    \b
    Examples:
      bibtools add 10.1145/3292500.3330701 arXiv:1706.03762 --to thesis.bib
      bibtools add https://arxiv.org/abs/2106.09685v2 --dry-run --to thesis.bib
      pbpaste | bibtools add - --to thesis.bib

    Exit status 1 when an id resolves to nothing or a reference matches
    nothing (named on stderr), or a lookup failed (then nothing is added).
    """

    items: list[tuple[str, str]] = []
    for n, arg in enumerate(ids, 1):
        if arg == "-":
            text, _ = decode(read_bytes("-"), "<stdin>")
            items.extend((f"<stdin>:{i}", line) for i, line in enumerate(text.splitlines(), 1))
        else:
            items.append((f"argument {n}", arg))
    done = app.add(
        items,
        network,
        target=target,
        dialect=dialect,
        key_style=key_style,
        ascii_only=ascii_only,
        dry_run=dry_run,
        emit=shower(quiet),
    )
    result = done.result
    for o in result.outcomes:
        for line in _describe(o, quiet):
            click.echo(line, err=True)
    if result.failed:
        click.echo(
            f"bibtools: error: {len(result.failed)} lookup(s) failed (see above); nothing added",
            err=True,
        )
        sys.exit(EXIT_PROBLEMS)
    n = len(result.records)
    if dry_run or not target:
        if result.text:
            click.echo(result.text, nl=False)
        if dry_run and target and not quiet:
            click.echo(f"Would append {n} entr{'y' if n == 1 else 'ies'} to {target}.", err=True)
    elif done.appended:
        if not quiet:
            click.echo(f"Appended {n} entr{'y' if n == 1 else 'ies'} to {target}.", err=True)
    elif not quiet:
        click.echo(f"Nothing to add; {target} unchanged.", err=True)
    sys.exit(EXIT_PROBLEMS if result.problems else EXIT_OK)


def _describe(o: object, quiet: bool) -> list[str]:

    assert isinstance(o, Outcome)
    where, label = o.request.where, o.label
    if o.status == "added" and o.record is not None:
        if quiet:
            return []
        how = ""
        if o.request.reference and o.request.ident is not None:
            named = "DOI" if o.request.ident.kind == "doi" else "arXiv id"
            how = f" (by the {named} the reference names)"
        elif o.request.reference and o.confidence is not None:
            how = f" (matched, confidence {o.confidence:.2f})"
        title = to_plain(o.record.title) or "(no title)"
        lines = [f"{where}: added {o.record.key}: {_short(title)}{how}"]
        lines += [f"{where}: warning: {o.record.key}: {w}" for w in o.warnings]
        return lines
    if o.status == "duplicate":
        return [] if quiet else [f"{where}: {label}: already there as {o.duplicate_of}; not added"]
    if o.status == "not-found":
        return [f"{where}: {label}: not found: {o.message}"]
    if o.status == "unmatched":
        lines = [f"{where}: no match for {label!r}: {o.message}; nothing added"]
        for c in o.candidates:
            year = c.year or "n.d."
            lines.append(
                f"    candidate {c.confidence:.2f} doi:{c.doi} {c.authors} ({year}) {_short(c.title)}"
            )
        return lines
    return [f"{where}: {label}: lookup failed: {o.message}"]


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
