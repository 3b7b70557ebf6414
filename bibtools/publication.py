"""What a publication page shows for one paper, as formatted inlines and plain data.

The standalone page (``page.html.j2``) and the site exports
(:mod:`bibtools.sites`) show a paper the way lab pages do (al-folio,
Hugo Blox, Google Scholar): the title, the full author list, one venue line,
links in a fixed order, the abstract and the BibTeX entry.  Everything here
is pure: records in, :class:`~bibtools.style.Inline` nodes or strings out;
escaping is the renderers' job (:mod:`bibtools.style`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import Name, Record
from .render import Inline, Node, normalize_inlines, safe_href
from .text.markup import to_plain
from .text.urls import is_code_url

# What styles print when the source cut the author list (CSL's "et-al" term).
ET_AL = "et al."


def display_name(name: Name) -> str:
    """``Given von Family, Jr.`` (a literal name as it is)."""
    return name.display()


def author_names(rec: Record) -> list[str]:
    names = rec.authors or rec.editors
    return [display_name(n) for n in names if display_name(n)]


def truncated(rec: Record) -> bool:
    return rec.authors_truncated if rec.authors else rec.editors_truncated


def author_inlines(rec: Record) -> tuple[Inline, ...]:
    """``A, B, and C`` (``A and B``), or ``A, B, C, et al.`` when the source cut the list."""
    names = author_names(rec)
    if not names:
        return ()
    if truncated(rec):
        return (", ".join(names) + ", " + ET_AL,)
    if len(names) == 1:
        return (names[0],)
    if len(names) == 2:
        return (f"{names[0]} and {names[1]}",)
    return (", ".join(names[:-1]) + ", and " + names[-1],)


def category(rec: Record) -> str:
    """The arXiv primary category (``cs.LG``), or the listing's category when that is all we know."""
    return rec.arxiv_primary_class or (rec.arxiv_categories[0] if rec.arxiv_categories else "")


_PROCEEDINGS = ("paper-conference", "chapter", "entry", "entry-encyclopedia", "entry-dictionary")


def venue_inlines(rec: Record, with_year: bool = True) -> tuple[Inline, ...]:
    """One line saying where the paper appeared, with its year.

    ``Journal, 12(3), 2020``; ``In Proceedings..., 2019``; ``arXiv preprint
    arXiv:1706.03762 [cs.CL], 2017``; arXiv's journal reference when the
    record has no container; ``Preprint [cs.LG], 2021`` when only the
    listing's category is known; a book's publisher; a thesis' school.
    ``with_year=False`` for templates that print the year themselves.
    """
    year = str(rec.issued.year) if rec.issued.year and with_year else ""
    parts: list[Inline] = []
    container = to_plain(rec.container_title)
    if container:
        if rec.type in _PROCEEDINGS:
            parts.append("In ")
        parts.append(Node("i", (container,)))
        if rec.volume:
            parts.append(f", {rec.volume}" + (f"({rec.issue})" if rec.issue else ""))
        if rec.pages:
            parts.append(f", {rec.pages.replace('-', '–')}")
    elif rec.journal_ref:
        parts.append(Node("i", (to_plain(rec.journal_ref),)))
        if year and year in rec.journal_ref:
            year = ""
    elif rec.arxiv_id:
        cat = category(rec)
        text = f"arXiv preprint arXiv:{rec.arxiv_id}" + (f" [{cat}]" if cat else "")
        parts.append(Node("i", (text,)))
    elif rec.type == "thesis" and (rec.institution or rec.publisher):
        genre = to_plain(rec.genre) or "Thesis"
        parts.append(f"{genre}, {to_plain(rec.institution or rec.publisher)}")
    elif rec.type in ("report",) and (rec.institution or rec.publisher):
        parts.append(f"{to_plain(rec.genre) or 'Technical report'}, ")
        parts.append(to_plain(rec.institution or rec.publisher))
    elif rec.publisher:
        parts.append(to_plain(rec.publisher))
    elif category(rec):
        parts.append(Node("i", (f"Preprint [{category(rec)}]",)))
    if year:
        parts.append(", " + year if parts else year)
    return normalize_inlines(parts)


def has_venue(rec: Record) -> bool:
    """Whether the venue line says more than a year or the listing's category."""
    return bool(
        to_plain(rec.container_title)
        or rec.journal_ref
        or rec.arxiv_id
        or rec.publisher
        or rec.institution
    )


# BibTeX fields (al-folio's names) that carry a project page.
_PROJECT_FIELDS = ("website", "html", "project")


def project_url(rec: Record) -> str:
    """A project or paper web page that is not the code, the PDF, arXiv or doi.org."""
    candidates = [rec.url]
    if rec.extra_format == "bibtex":
        candidates += [str(rec.extra.get(f, "")) for f in _PROJECT_FIELDS]
    for url in candidates:
        href = safe_href(_unbrace(url))
        if not href or is_code_url(href) or href == safe_href(rec.pdf_url):
            continue
        if re.match(r"(?i)https?://(www\.)?(arxiv\.org|(dx\.)?doi\.org)/", href):
            continue
        return href
    return ""


def _unbrace(value: str) -> str:
    value = value.strip()
    while len(value) >= 2 and value[0] + value[-1] in ("{}", '""'):
        value = value[1:-1].strip()
    return value


def is_selected(rec: Record) -> bool:
    """al-folio's ``selected = {true}`` (BibTeX), or a ``selected`` keyword."""
    value = rec.extra.get("selected", "") if rec.extra_format == "bibtex" else ""
    if _unbrace(str(value)).lower() in ("true", "yes", "1"):
        return True
    return any(k.strip().lower() == "selected" for k in rec.keywords)


def title_text(rec: Record) -> str:
    return to_plain(rec.title)


def abstract_text(rec: Record) -> str:
    return to_plain(rec.abstract)


# --------------------------------------------------------------------------
# The entries as references.bib has them


def bibtex_entries(text: str) -> dict[str, str]:
    """Citation key -> the entry's text exactly as ``text`` (a written .bib) has it."""
    from .formats.bibtex_split import EntryBlock, split

    lines = text.splitlines()
    blocks = sorted(split(text, gaps=True), key=lambda b: b.line)
    out: dict[str, str] = {}
    for i, block in enumerate(blocks):
        if not isinstance(block, EntryBlock):
            continue
        end = blocks[i + 1].line - 1 if i + 1 < len(blocks) else len(lines)
        chunk = "\n".join(lines[block.line - 1 : end]).rstrip()
        out.setdefault(block.key, chunk)
    return out


# --------------------------------------------------------------------------
# What could not be completed


@dataclass(frozen=True, slots=True)
class Incomplete:
    key: str  # "" for a record that could not be read (not on the page)
    why: str  # "author list cut by the source; no venue"


def incomplete(
    records: Iterable[Record], reasons: Sequence[tuple[str, str]] = ()
) -> list[Incomplete]:
    """The records a reader would find unfinished on the page, and why.

    ``reasons`` adds what enrichment said about a record (key, reason).
    """
    extra: dict[str, list[str]] = {}
    for key, reason in reasons:
        extra.setdefault(key, []).append(reason)
    out = []
    for rec in records:
        whys: list[str] = []
        if truncated(rec):
            whys.append("author list cut by the source")
        if not has_venue(rec):
            whys.append("no venue or arXiv id known")
        whys += [w for w in extra.get(rec.key, []) if w not in whys]
        if whys:
            out.append(Incomplete(rec.key, "; ".join(whys)))
    return out
