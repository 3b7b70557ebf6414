"""BibTeX and BibLaTeX.

Reading is layered like bibtexparser 2 itself: a splitter cuts the text
into blocks (``bibtex_split``: bibtexparser's own ``Splitter`` results,
several times faster, with bibtexparser's splitter as the fallback for
what the fast path is unsure of; an unclosed entry is recovered from at the
next ``@`` at the start of a line); we then evaluate field values (``@string`` macros, ``#``
concatenation, month macros) in one pass, decode LaTeX into markup and map
fields onto the model.  Fields the model has no slot for are kept verbatim
in ``Record.extra``.

Writing produces one canonical layout: lower-case field names in a fixed
order, braces around every value except month macros, ``von Last, Jr,
First`` names, titles with acronyms brace-protected.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict, deque
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..diagnostics import Diagnostic, Diagnostics, Level
from ..ids import clean_doi, split_arxiv
from ..limits import MAX_VALUE
from ..model import CodeLink, PartialDate, Record, Source, changed_slots, snapshot
from ..preprint import is_arxiv_preprint
from ..text.dates import MONTH_ABBR, parse_iso, parse_month
from ..text.markup import collapse_ws, from_latex, from_plain, protect_case, to_latex, to_plain
from ..text.names import format_bibtex_names, parse_bibtex_names
from ..text.urls import find_urls
from . import ReadOptions, ReadResult, TextBlock, WriteOptions, WriteResult
from .bibtex_split import (
    CommentBlock,
    EntryBlock,
    FailedBlock,
    PreambleBlock,
    StringBlock,
    TextBetween,
    split,
)

NAME = "bibtex"
EXTENSIONS = (".bib", ".bibtex", ".biblatex")

_SNIFF = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.M)


def sniff(text: str) -> bool:
    return bool(_SNIFF.search(text[:65536]))


# --------------------------------------------------------------------------
# Types

# BibTeX/BibLaTeX entry type -> CSL type.
TO_CSL = {
    "article": "article-journal",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "proceedings": "book",
    "mvproceedings": "book",
    "book": "book",
    "mvbook": "book",
    "collection": "book",
    "mvcollection": "book",
    "reference": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "bookinbook": "chapter",
    "suppbook": "chapter",
    "inreference": "entry-encyclopedia",
    "booklet": "pamphlet",
    "manual": "book",
    "techreport": "report",
    "report": "report",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "unpublished": "manuscript",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "software": "software",
    "softwareversion": "software",
    "codefragment": "software",
    "dataset": "dataset",
    "patent": "patent",
    "periodical": "periodical",
    "misc": "document",
    "artwork": "graphic",
    "audio": "song",
    "video": "motion_picture",
    "movie": "motion_picture",
    "music": "song",
    "image": "graphic",
    "letter": "personal_communication",
    "legislation": "legislation",
    "jurisdiction": "legal_case",
    "standard": "standard",
    "review": "review",
}
# CSL type -> BibTeX type (and the BibLaTeX one where it differs).
FROM_CSL = {
    "article": "misc",
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "paper-conference": "inproceedings",
    "book": "book",
    "chapter": "incollection",
    "entry-encyclopedia": "incollection",
    "entry-dictionary": "incollection",
    "entry": "incollection",
    "pamphlet": "booklet",
    "report": "techreport",
    "thesis": "phdthesis",
    "manuscript": "unpublished",
    "webpage": "misc",
    "post": "misc",
    "post-weblog": "misc",
    "software": "misc",
    "dataset": "misc",
    "periodical": "periodical",
    "patent": "patent",
    "collection": "book",
}
FROM_CSL_BIBLATEX = {
    "chapter": "incollection",
    "entry-encyclopedia": "inreference",
    "entry-dictionary": "inreference",
    "report": "report",
    "thesis": "thesis",
    "webpage": "online",
    "post": "online",
    "post-weblog": "online",
    "software": "software",
    "dataset": "dataset",
    "collection": "collection",
}
_ISSUE_TYPES = {"article-journal", "article-magazine", "article-newspaper", "periodical"}
_SERIES_TYPES = {"book", "chapter", "paper-conference", "entry-encyclopedia"}
_THESIS_GENRES = {"phdthesis": "PhD thesis", "mastersthesis": "Master's thesis"}
_GENRE_KEYS = {
    "phdthesis": "PhD thesis",
    "mathesis": "Master's thesis",
    "bathesis": "Bachelor's thesis",
    "candthesis": "Candidate thesis",
    "techreport": "Technical report",
    "resreport": "Research report",
    "software": "Computer software",
    "datacd": "Data CD",
    "audiocd": "Audio CD",
}
_BIBLATEX_TYPES = frozenset(
    "online thesis report mvbook mvcollection mvproceedings mvreference collection "
    "reference inreference bookinbook suppbook suppcollection suppperiodical dataset "
    "software set xdata".split()
)
_BOOKS = {
    "book",
    "mvbook",
    "proceedings",
    "mvproceedings",
    "collection",
    "mvcollection",
    "reference",
}

# Fields read into model slots; everything else lands in Record.extra.
_MARKUP = {
    "arxiv_comment": "arxiv_comment",
    "title": "title",
    "shorttitle": "short_title",
    "series": "collection_title",
    "publisher": "publisher",
    "address": "publisher_place",
    "edition": "edition",
    "abstract": "abstract",
    "note": "note",
    "eventtitle": "event",
    "organization": "organization",
}
_VERBATIM = {
    "journal_ref": "journal_ref",
    "pdf": "pdf_url",
    "volume": "volume",
    "isbn": "isbn",
    "issn": "issn",
    "language": "language",
    "langid": "language",
}
_URL_UNESCAPE = re.compile(r"\\([_%#&~$])")
_PAGE_DASH = re.compile(r"\s*(?:-{1,3}|\u2013|\u2014)\s*")
# Notes the writer adds to preprints; recognised on reading so that they do
# not pile up over round trips.
_GENERATED_PREPRINT = re.compile(r"^arXiv preprint(?: arXiv:\S+| \([^)]*\))?$")


def plain_value(value: str) -> str:
    """A field that is plain text in the model (volume, pages): LaTeX decoded, no braces."""
    if "\\" in value or "{" in value or "~" in value or "--" in value:
        return to_plain(from_latex(value))
    return collapse_ws(value)


def normalise_pages(value: str) -> str:
    m = _DIGIT_PAGES.fullmatch(value)
    if m:  # "191--195": what the general path gives, directly
        return f"{m.group(1)}-{m.group(2)}"
    return _PAGE_DASH.sub("-", plain_value(value))


_DIGIT_PAGES = re.compile(r"([0-9]+)-{1,3}([0-9]+)")


def normalise_doi(value: str) -> str:
    return clean_doi(value)


# --------------------------------------------------------------------------
# Value evaluation: macros and concatenation

DEFAULT_MACROS = {
    abbr: name
    for abbr, name in zip(
        MONTH_ABBR,
        "January February March April May June July August September October November December".split(),
        strict=True,
    )
}


def _split_concat(raw: str) -> list[str]:
    """Split a raw value on top-level ``#``."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(raw):
        if ch == "\\":
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == "#" and depth == 0 and not quoted:
            parts.append(raw[start:i])
            start = i + 1
    parts.append(raw[start:])
    return [p.strip() for p in parts]


# The longest value a field or macro may reach (shared by every reader, from
# bibtools.limits), and the most text macros may expand to in one file.
# BibTeX bounds its strings too; without a bound, 40 @strings each doubling
# the last (a 1 KB file) would need terabytes, and a thousand fields each
# using a 16 MB macro would need 16 GB.
MAX_EXPANSION = 64 * 1024 * 1024


class ValueTooLong(ValueError):
    """A value past :data:`MAX_VALUE`, or macro expansion past :data:`MAX_EXPANSION`."""

    def __init__(self, message: str, macro: str = "") -> None:
        super().__init__(message)
        self.macro = macro  # set when the value used a macro that had overflowed


def _too_long(length: int) -> ValueTooLong:
    return ValueTooLong(f"value of {length:,} characters is longer than the limit of {MAX_VALUE:,}")


class _Overflow(str):
    """A macro whose value was too long: using it is an error, not an empty string."""

    line = 0


@dataclass(slots=True)
class Expansion:
    """How much text macros have expanded to so far (one per file, or per run of files)."""

    used: int = 0


def _plain_braced(raw: str) -> bool:
    """Whether ``raw`` is one ``{...}`` group and no more, within the length limit.

    :func:`evaluate` returns such a value without its braces; most fields of
    a file are written so.  A ``#`` inside the braces (a URL's fragment, ``\\#``)
    is no concatenation: that needs a ``#`` outside every brace.
    """
    if not (raw[:1] == "{" and raw[-1:] == "}" and len(raw) - 2 <= MAX_VALUE):
        return False
    if "#" not in raw:
        return True
    # _split_concat counts every brace (also after a backslash), so the depth
    # at a "#" is the braces opened before it minus those closed.
    depth, last = 0, 0
    at = raw.find("#")
    while at >= 0:
        depth += raw.count("{", last, at) - raw.count("}", last, at)
        if depth <= 0:
            return False
        last, at = at, raw.find("#", at + 1)
    return True


def evaluate(
    raw: str, macros: dict[str, str], undefined: list[str], expansion: Expansion | None = None
) -> str:
    """The value of a raw field: ``{a}``, ``"a"``, ``2020``, ``jan``, ``foo # {bar}``.

    Raises :class:`ValueTooLong` past :data:`MAX_VALUE`, or when the macros
    used in ``expansion``'s file pass :data:`MAX_EXPANSION` in all.
    """
    raw = raw.strip()
    if _plain_braced(raw):
        return raw[1:-1]
    return _evaluate(raw, macros, undefined, expansion)


def _evaluate(
    raw: str, macros: dict[str, str], undefined: list[str], expansion: Expansion | None
) -> str:
    """:func:`evaluate` of a stripped value, without the fast path."""
    if raw.startswith("{") and raw.endswith("}") and "#" not in raw:
        if len(raw) - 2 > MAX_VALUE:
            raise _too_long(len(raw) - 2)
        return raw[1:-1]
    out = []
    length = 0
    for part in _split_concat(raw) if "#" in raw else [raw]:
        if len(part) >= 2 and (
            (part[0] == "{" and part[-1] == "}") or (part[0] == '"' and part[-1] == '"')
        ):
            piece = part[1:-1]
        elif part.isdigit():
            piece = part
        elif part:
            value = macros.get(part.lower())
            if value is None:
                undefined.append(part)
                piece = part
            elif isinstance(value, _Overflow):
                raise ValueTooLong(
                    f"uses macro {part!r}, whose value is too long (line {value.line})", part
                )
            else:
                piece = value
                if expansion is not None:
                    expansion.used += len(piece)
                    if expansion.used > MAX_EXPANSION:
                        raise ValueTooLong(
                            f"@string macros expand to more than {MAX_EXPANSION:,} characters "
                            "in this input"
                        )
        else:
            continue
        length += len(piece)
        if length > MAX_VALUE:
            raise _too_long(length)
        out.append(piece)
    return "".join(out)


# --------------------------------------------------------------------------
# Reading


_NOOPSORT = re.compile(r"\{?\\noopsort\s*\{[^{}]*\}\}?")
_YEAR = re.compile(r"-?\d{1,4}")


def _parse_year(value: str) -> PartialDate:
    if value.isdigit() and len(value) <= 4 and value.isascii():
        return PartialDate(int(value))  # "1987": what the general path gives, directly
    return _parse_any_year(value)


def _parse_any_year(value: str) -> PartialDate:
    # {\noopsort{1973b}}1973: a sort key for BibTeX styles, printed as nothing.
    value = collapse_ws(_NOOPSORT.sub("", value))
    if _YEAR.fullmatch(value):
        return PartialDate(int(value))
    m = re.fullmatch(r"(\d{4})\s*(?:-{1,3}|\u2013|/)\s*(\d{4})", value)
    if m:
        return PartialDate(int(m.group(1)), end=PartialDate(int(m.group(2))))
    return PartialDate(literal=plain_value(value))


def _parse_date_field(value: str) -> PartialDate | None:
    """BibLaTeX ``date``: ``2020``, ``2020-05-12``, ``2019/2020``, ``2020-05/2020-06``."""
    value = value.strip()
    if "/" in value and not re.fullmatch(r"\d{4}/\d{1,2}(?:/\d{1,2})?", value):
        start, _, end = value.partition("/")
        first = parse_iso(start)
        if first is None:
            return None
        if end.strip() in ("", ".."):
            first.end = PartialDate(literal="..")
            return first
        last = parse_iso(end)
        if last is None:
            return None
        first.end = last
        return first
    return parse_iso(value)


def _apply_month(date: PartialDate, value: str, extra: dict[str, str]) -> None:
    text = collapse_ws(value.replace("~", " "))
    month = parse_month(text)
    if month is not None:
        date.month = month
        return
    m = re.fullmatch(
        r"([A-Za-z]+)\.?,?\s+(\d{1,2})(?:st|nd|rd|th)?|(\d{1,2})(?:st|nd|rd|th)?\.?\s+([A-Za-z]+)\.?",
        text,
    )
    if m:
        name, day = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        month = parse_month(name)
        if month is not None and 1 <= int(day) <= 31:
            date.month, date.day = month, int(day)
            return
    extra["month"] = value  # "Spring", "Jul/Aug": kept as written


# BibLaTeX splits titles into parts that every other format joins: the model
# holds the joined title, and the parts stay in ``extra`` so that the BibTeX
# writer can split it again as long as the title still ends with them.
_TITLE_PARTS = (("subtitle", ": "), ("titleaddon", ". "))
_CONTAINER_PARTS = {
    "booktitle": (("booksubtitle", ": "), ("booktitleaddon", ". ")),
    "journaltitle": (("journalsubtitle", ": "), ("journaltitleaddon", ". ")),
    "journal": (("journalsubtitle", ": "), ("journaltitleaddon", ". ")),
    "maintitle": (("mainsubtitle", ": "), ("maintitleaddon", ". ")),
}


def _sep(base: str, sep: str) -> str:
    # BibLaTeX adds no ": " after a title that already ends in ? or !.
    return " " if base.rstrip().endswith(("?", "!", ".")) else sep


def _fold(base: str, parts: tuple[tuple[str, str], ...], extra: dict[str, str]) -> str:
    for name, sep in parts:
        if name in extra:
            base += _sep(base, sep) + from_latex(extra[name])
    return base


def _unfold(
    full: str, parts: tuple[tuple[str, str], ...], extra: dict[str, str]
) -> tuple[str, list[str]]:
    """Split ``full`` back into its base and the parts in ``extra``.

    Returns the base and the part names to write; when the title no longer
    ends with its parts (it was edited), the parts are dropped instead.
    """
    present = [(name, sep) for name, sep in parts if name in extra]
    if not present:
        return full, []
    tail = "".join(from_latex(extra[name]) for name, _ in present)
    # Try every split point that could have produced ``full``.
    for cut in range(len(full) - len(tail), 0, -1):
        base = full[:cut].rstrip(":. ")
        if base and _fold(base, parts, extra) == full:
            return base, [name for name, _ in present]
    return full, []


_CODE_META = ("code_stars", "code_license", "code_description", "code_archived", "code_pushed")


def _read_code_meta(rec: Record, values: dict[str, str], extra: dict[str, str]) -> None:
    present = [name for name in _CODE_META if name in values]
    if not present:
        return
    if not rec.code_links:
        extra.update({name: values[name] for name in present})
        return
    link = rec.code_links[0]
    stars = values.get("code_stars", "").strip()
    if stars.isascii() and stars.isdigit():
        link.stars = int(stars)
    elif stars:
        extra["code_stars"] = values["code_stars"]
    link.license = plain_value(values.get("code_license", ""))
    link.description = plain_value(values.get("code_description", ""))
    archived = values.get("code_archived", "").strip().lower()
    link.archived = {"true": True, "false": False}.get(archived)
    link.pushed = values.get("code_pushed", "").strip()


# Every field name a branch of entry_to_record's loop takes; any other lands in extra.
_MAPPED = frozenset(
    (
        "author editor journal journaltitle booktitle number issue pages school institution type "
        "doi url keywords urldate crossref code affiliations affiliation location year date month "
        "day eprint archiveprefix eprinttype primaryclass eprintclass"
    ).split()
).union(_MARKUP, _VERBATIM, _CODE_META)


def entry_to_record(
    entry_type: str,
    key: str,
    fields: Iterable[tuple[str, str]],
    source: str,
    line: int,
    diags: Diagnostics,
) -> Record:
    """Map evaluated BibTeX fields (name, LaTeX value) onto a Record."""
    values: dict[str, str] = {}
    for name, value in fields:
        name = name.lower()
        if name in values:
            _warn_twice(diags, source, line, name, key)
            continue
        values[name] = value
    return _values_to_record(entry_type, key, values, source, line, diags)


def _warn_twice(diags: Diagnostics, source: str, line: int, name: str, key: str) -> None:
    diags.warn(
        source, line, f"field {name!r} given twice; the first value is kept (as by bibtex)", key
    )


def _values_to_record(
    entry_type: str,
    key: str,
    values: dict[str, str],
    source: str,
    line: int,
    diags: Diagnostics,
) -> Record:
    """:func:`entry_to_record` of the fields by lower-case name, the first of each."""
    etype = entry_type.lower()
    rec = Record(
        type=TO_CSL.get(etype, "document"),
        key=key,
        source_type=etype,
        extra_format="bibtex",
        origin_file=source,
        origin_line=line,
    )
    extra: dict[str, str] = {}
    date = PartialDate()
    for name, value in values.items():
        if name not in _MAPPED:
            extra[name] = value  # most fields of a large file: no need to try every branch
        elif name in _MARKUP:
            if getattr(rec, _MARKUP[name]):  # address and location both given
                extra[name] = value
            else:
                setattr(rec, _MARKUP[name], from_latex(value))
        elif name in _VERBATIM:
            setattr(rec, _VERBATIM[name], plain_value(value))
        elif name == "author":
            rec.authors, rec.authors_truncated = parse_bibtex_names(value)
        elif name == "editor":
            rec.editors, rec.editors_truncated = parse_bibtex_names(value)
        elif name in ("journal", "journaltitle", "booktitle"):
            continue  # below: which one is the container depends on the type
        elif name == "number":
            # One BibTeX field, three meanings, told apart by the entry type.
            if rec.type in _ISSUE_TYPES or etype == "article":
                rec.issue = plain_value(value)
            elif rec.type in _SERIES_TYPES:
                rec.collection_number = plain_value(value)
            else:
                rec.number = plain_value(value)
        elif name == "issue" and not values.get("number"):
            rec.issue = plain_value(value)
        elif name == "pages":
            rec.pages = normalise_pages(value)
        elif name in ("school", "institution"):
            if rec.institution:
                extra[name] = value
            else:
                rec.institution = from_latex(value)
        elif name == "type":
            # BibLaTeX's localisation keys (phdthesis, mathesis) name a genre.
            rec.genre = _GENRE_KEYS.get(value.strip().lower(), "") or from_latex(value)
            if rec.genre != from_latex(value):
                extra["type"] = value  # written back as given
        elif name == "doi":
            rec.doi = normalise_doi(value)
        elif name == "url":
            rec.url = collapse_ws(value)
            if "\\" in rec.url:
                rec.url = _URL_UNESCAPE.sub(r"\1", rec.url)
        elif name == "keywords":
            rec.keywords = [
                k for k in (collapse_ws(from_latex(p)) for p in re.split(r"[,;]", value)) if k
            ]
        elif name == "urldate":
            rec.accessed = parse_iso(value) or PartialDate(literal=collapse_ws(value))
        elif name == "crossref":
            rec.crossref = value.strip()
        elif name == "code":
            rec.code_links.extend(CodeLink(u, "code") for u in value.split() if u.strip())
        elif name in _CODE_META:
            continue  # below, once the code links are known
        elif name in ("affiliations", "affiliation") and not rec.affiliations:
            rec.affiliations = [
                a for a in (collapse_ws(from_latex(p)) for p in value.split(",")) if a
            ]
        elif name == "location":
            continue  # below, once address is known
        elif name in ("year", "date", "month", "day"):
            continue  # below, once all of them are known
        elif name in ("eprint", "archiveprefix", "eprinttype", "primaryclass", "eprintclass"):
            continue  # below
        else:
            extra[name] = value

    # BibLaTeX's location is BibTeX's address; ACM exports give both, and then
    # address is the publisher's place and location the event's.
    if "location" in values:
        if rec.publisher_place:
            extra["location"] = values["location"]
        else:
            rec.publisher_place = from_latex(values["location"])
    # The container: an article's journal, anything else's booktitle (a
    # @book's booktitle is its own title repeated for crossref children).
    if etype in ("article", "periodical"):
        order = ("journal", "journaltitle", "booktitle")
    else:
        order = ("booktitle", "journal", "journaltitle")
    for name in order:
        if name not in values:
            continue
        if rec.container_title or (etype in _BOOKS and name == "booktitle"):
            extra[name] = values[name]
        else:
            rec.container_title = from_latex(values[name])
    # Dates: a BibLaTeX date wins over year/month/day.
    if "date" in values:
        parsed = _parse_date_field(values["date"])
        if parsed is None:
            diags.warn(source, line, f"cannot read date {values['date']!r}; kept as written", key)
            extra["date"] = values["date"]
        else:
            date = parsed
    if date.year is None and "year" in values:
        date = _parse_year(values["year"])
        year = values["year"]
        if "\\noopsort" in year and _NOOPSORT.search(year) and date.year is not None:
            extra["year"] = values["year"]  # written back as is: it orders the bibliography
        if "month" in values:
            _apply_month(date, values["month"], extra)
        if "day" in values:
            day = values["day"].strip()
            if day.isascii() and day.isdigit() and 1 <= int(day) <= 31:
                date.day = int(day)
            else:
                extra["day"] = values["day"]
    else:
        for name in ("year", "month", "day"):
            if name in values and "date" in values and parsed is not None:
                extra[name] = values[name]
    rec.issued = date
    if not rec.genre and etype in _THESIS_GENRES:
        rec.genre = _THESIS_GENRES[etype]  # the writer drops it again for these types

    # arXiv: eprint + archivePrefix/eprinttype, or an arXiv DOI or URL.
    prefix = (values.get("archiveprefix") or values.get("eprinttype") or "").strip().lower()
    eprint = values.get("eprint", "").strip()
    if eprint and prefix in ("arxiv", ""):
        parsed_id = split_arxiv(eprint)
        if parsed_id and (prefix == "arxiv" or "/" in eprint or "." in eprint):
            rec.arxiv_id, rec.arxiv_version = parsed_id
        else:
            extra["eprint"] = values["eprint"]
            if prefix:
                extra["archiveprefix" if "archiveprefix" in values else "eprinttype"] = prefix
    elif eprint:
        extra["eprint"] = values["eprint"]
        extra["archiveprefix" if "archiveprefix" in values else "eprinttype"] = values.get(
            "archiveprefix", values.get("eprinttype", "")
        )
    primary = (values.get("primaryclass") or values.get("eprintclass") or "").strip()
    if primary:
        rec.arxiv_primary_class = primary
        rec.arxiv_categories = [primary]
    if rec.arxiv_id and rec.type == "document":
        rec.type = "article"
    if rec.note and _GENERATED_PREPRINT.match(rec.note):
        rec.note = ""
    how = extra.get("howpublished", "")
    if (
        how
        and _GENERATED_PREPRINT.match(collapse_ws(how))
        and (rec.arxiv_id or rec.arxiv_primary_class)
    ):
        del extra["howpublished"]
    if "howpublished" in extra and not rec.url:
        urls = find_urls(extra["howpublished"])
        if urls and re.fullmatch(r"\s*\\url\{[^{}]*\}\s*", extra["howpublished"]):
            rec.url = urls[0]
            del extra["howpublished"]
    _read_code_meta(rec, values, extra)
    if rec.title:
        rec.title = _fold(rec.title, _TITLE_PARTS, extra)
    container_field = (
        "booktitle"
        if "booktitle" in values
        else "journaltitle"
        if "journaltitle" in values
        else "journal"
        if "journal" in values
        else ""
    )
    if rec.container_title and container_field:
        rec.container_title = _fold(rec.container_title, _CONTAINER_PARTS[container_field], extra)
    elif (
        not rec.container_title
        and "maintitle" in extra
        and rec.type in ("chapter", "book", "paper-conference")
    ):
        rec.container_title = _fold(
            from_latex(extra["maintitle"]), _CONTAINER_PARTS["maintitle"], extra
        )
    rec.extra = extra
    return rec


# "title = {A}\n  file = {B}": the splitter reads both as one value.
_MISSING_COMMA = re.compile(r"[}\"]\s*\n\s*[A-Za-z][\w-]*\s*=\s*[{\"\d]")


# A block start that BibTeX reads and bibtexparser's splitter (which ours
# follows) does not: a type with a hyphen (@ABNT-options, abntex2's control
# entries), a line break before its brace ("@incollection\n(",
# "@FAKE-ENTRY\n{"), or a key with "=" or a quote (abnt-and-type=e).
_ODD_START = re.compile(
    r"(^[ \t]*@[ \t]*|@[ \t]*\n\s*)([^\s\"#%'(),={}@]+)(\s*)([{(])(\s*)([^\s,{}()]*)(?=[\s,})])",
    re.M,
)
_COMMA_NEXT = re.compile(r"\s*,")
_SPLITTER_KEY = re.compile(r"[^{}\",=@\\]*")


def _odd_starts(text: str) -> Iterator[re.Match[str]]:
    """``_ODD_START.finditer(text)``, trying only where an ``@`` is.

    Every match begins at a line start followed by blanks and its ``@``, or
    at an ``@``; the regex itself has no literal first character to search
    for and would be tried at every position of the text.
    """
    if text.count("@") * 64 > len(text):
        # "@" everywhere (not a bibliography): the regex's own scan is faster.
        yield from _ODD_START.finditer(text)
        return
    match = _ODD_START.match
    end = 0  # where the last match ended: matches do not overlap
    start, last = 0, 0  # the start of the line of the "@" before, and that "@"
    at = initial = text.find("@")
    while at >= 0:
        m = None
        # Line starts are looked for back to the "@" before only, and a line
        # is looked at up to its first "@" only: long lines of "@" stay linear.
        newline = text.rfind("\n", last, at)
        first = newline >= 0 or at == initial  # the first "@" of its line
        if newline >= 0:
            start = newline + 1
        if start >= end and (start == at or (first and not text[start:at].strip(" \t"))):
            m = match(text, start)  # both alternatives, as finditer tries them there
        if m is None and start != at:
            m = match(text, at)  # "^" cannot match here: the "@" alternative only
        last = at
        if m is not None:
            yield m
            end = m.end()
            at = text.find("@", max(end, at + 1))
        else:
            at = text.find("@", at + 1)


def _even_starts(text: str) -> tuple[str, dict[int, tuple[str, str]]]:
    """``text`` with such block starts in the splitter's form, and (type, key) by line.

    The brace moves up to the type and the line breaks after it, so line
    numbers do not change; characters the splitter does not take in a type
    or key become ``_``, and the type and key as written are restored from
    the returned map.
    """
    if "@" not in text:
        return text, {}
    found: dict[int, tuple[str, str]] = {}
    pieces: list[str] = []
    last = 0
    for m in _odd_starts(text):
        head, etype, space, brace, pad, key = m.groups()
        if (
            etype.isidentifier()
            and "\n" not in space
            and _SPLITTER_KEY.fullmatch(key)
            and head.rstrip(" \t").endswith("@")
        ):
            continue
        if etype.lower() in ("comment", "preamble", "string"):
            continue
        if "\n" in head and not _COMMA_NEXT.match(text, m.end()):
            continue  # "@" ending a line inside a value may be text: only a whole entry head
        line = text.count("\n", 0, m.start()) + 1
        found[line] = (etype.lower(), key)
        pieces.append(text[last : m.start()])
        safe_key = re.sub(r"[{}\",=@\\]", "_", key)
        safe_type = re.sub(r"\W", "_", etype)
        # "@" and the type come together; the line breaks after the brace.
        at = head.index("@")
        moved = head[at + 1 :]
        pieces.append(f"{head[: at + 1]}{safe_type}{brace}{moved}{space}{pad}{safe_key}")
        last = m.end()
    if not found:
        return text, {}
    pieces.append(text[last:])
    return "".join(pieces), found


# A "%" line between two fields of an entry, or a "%" comment after a field
# ("issn = {...},% e-ISSN"): biber reads it as a comment, bibtex stops
# reading the entry there (keeping the fields before it), and bibtexparser's
# splitter loses the whole entry.  Read as biber does.
_PERCENT_LINE = re.compile(r"^[ \t]*%.*$", re.M)
_FIELD_START = re.compile(r"\s*(?:[^\s{}\"#%'(),=]+\s*=|[})])")
_FIELD_HEAD = re.compile(r"\s*[^\s{}\"#%'(),=]+\s*=\s*")


def _trailing_comment(line: str) -> int:
    """Where a "%" comment after a whole field on this line starts, or -1."""
    head = _FIELD_HEAD.match(line)
    if head is None:
        return -1
    at = line.find("%", head.end())
    while at >= 0:
        if line[at - 1] != "\\":
            value = line[head.end() : at].rstrip().removesuffix(",").rstrip()
            if value and _complete_value(value):
                return at
        at = line.find("%", at + 1)
    return -1


def _complete_value(value: str) -> bool:
    """A whole field value: braces that balance, quotes that close, macros and numbers."""
    if not _balanced(value):
        return False
    return all(
        (p.startswith("{") and p.endswith("}"))
        or (len(p) > 1 and p.startswith('"') and p.endswith('"'))
        or re.fullmatch(r"[^\s{}\"#%'(),=]+", p) is not None
        for p in _split_concat(value)
    )


def _has_percent_line(text: str) -> bool:
    """Whether ``_PERCENT_LINE`` matches somewhere in ``text``.

    The pattern has no literal first character: a search tries it at every
    position of the text, where looking at each "%" is enough.
    """
    at = text.find("%")
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        if not text[start:at].strip(" \t"):
            return True
        # A later "%" on this line has the same non-blank text before it.
        end = text.find("\n", at)
        if end < 0:
            return False
        at = text.find("%", end)
    return False


def _field_comments(text: str) -> tuple[str, list[int]]:
    """``text`` with the ``%`` lines that stand between two fields emptied, and their lines."""
    if not _has_percent_line(text):
        return text, []
    lines = text.split("\n")
    # Only lines with a "%" can be emptied or cut: look at those and their
    # nearest lines with content, not at every line of a large file.
    marked = _percent_lines(text)
    before: dict[int, str] = {}  # the nearest line with content before a marked line
    for i in marked:
        before[i] = _nearest_content(lines, i, -1, before)
    after: dict[int, str] = {}  # and after it
    for i in reversed(marked):
        after[i] = _nearest_content(lines, i, 1, after)
    emptied: list[int] = []
    cut: dict[int, int] = {}  # line index -> where its trailing comment starts
    for i in marked:
        line = lines[i]
        if _has_content(line):
            if _FIELD_START.match(after[i]):
                at = _trailing_comment(line)
                if at >= 0:
                    cut[i] = at
        elif line.lstrip().startswith("%") and (
            before[i].rstrip().endswith((",", "{", "(")) and _FIELD_START.match(after[i])
        ):
            emptied.append(i + 1)
    if not emptied and not cut:
        return text, []
    for number in emptied:
        lines[number - 1] = ""
    for i, at in cut.items():
        lines[i] = lines[i][:at].rstrip()
        emptied.append(i + 1)
    return "\n".join(lines), sorted(emptied)


def _has_content(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("%")


def _percent_lines(text: str) -> list[int]:
    """The indices (from 0) of the lines of ``text`` that hold a "%", in order."""
    out: list[int] = []
    line, counted = 0, 0
    at = text.find("%")
    while at >= 0:
        line += text.count("\n", counted, at)
        counted = at
        out.append(line)
        end = text.find("\n", at)
        if end < 0:
            break
        at = text.find("%", end)
    return out


def _nearest_content(lines: list[str], i: int, step: int, known: dict[int, str]) -> str:
    """The nearest line with content before (``step`` -1) or after (1) line ``i``, or "".

    ``known`` holds the answers for marked lines nearer the start of the
    walk: a walk through a long run of "%" lines stops at the first of them.
    """
    j = i + step
    while 0 <= j < len(lines):
        line = lines[j]
        if _has_content(line):
            return line
        if j in known:
            return known[j]
        j += step
    return ""


def read(text: str, options: ReadOptions) -> ReadResult:
    part = read_part(text, options)
    result = part.result
    if part.commented:
        result.diagnostics.insert(0, commented_warning(options.source, *part.commented))
    result.diagnostics.extend(unknown_warnings(options.source, part.unknown))
    return result


@dataclass(slots=True)
class PartRead:
    """What :func:`read_part` read from one piece of a file, and what the file-level
    warnings need from it (merged over the pieces by :mod:`bibtools.stream`)."""

    result: ReadResult
    commented: tuple[int, int] | None  # (how many '%' comments were dropped, the first line)
    unknown: dict[str, list[Any]]  # entry type -> [first key, first line, count]
    expansion: Expansion


def commented_warning(source: str, count: int, line: int) -> Diagnostic:
    return Diagnostic(
        source,
        line,
        Level.WARNING,
        f"{count} '%' comment(s) between or after the fields of entries read as "
        "comments, as biber reads them (bibtex stops reading an entry there); not written",
    )


def unknown_warnings(source: str, unknown: dict[str, list[Any]]) -> list[Diagnostic]:
    out = []
    for etype, (key, line, count) in unknown.items():
        more = f" and {count - 1} more" if count > 1 else ""
        out.append(
            Diagnostic(
                source,
                line,
                Level.WARNING,
                f"unknown entry type @{etype} ({key}{more}): kept as written in BibTeX, "
                "a generic document in other formats",
                key,
            )
        )
    return out


def read_part(
    text: str,
    options: ReadOptions,
    *,
    stop_line: int = 0,
    stop_raw: int = 0,
    line_offset: int = 0,
    escaped_before: int = 0,
    read_as: bool = True,
) -> PartRead:
    """Read ``text``, one file or a piece of one, without the file-level warnings.

    With ``stop_line``, ``text`` runs on into the first line of the next
    piece, so that the splitter ends the last block where it would in the
    whole file; blocks from that line on (``stop_raw`` counting every line
    break, ``stop_line`` as the splitter counts) are left to the next piece.
    The splitter does not count line breaks after a backslash: a piece
    after ``escaped_before`` of them matches its odd block starts (counted
    in every line) as the whole file does.  ``line_offset`` is only for
    messages that quote another line.  Without ``read_as`` the records'
    :class:`Source` holds no snapshot: only the BibTeX writer compares with it.
    """
    result = ReadResult()
    diags = result.diagnostics
    source = options.source
    macros = options.macros if options.macros is not None else {}
    if not macros:
        macros.update(DEFAULT_MACROS)  # the caller's dict: later inputs see this file's macros
    blocks = result.blocks
    expansion = Expansion()
    unknown: dict[str, list[Any]] = {}  # entry types BibTeX styles may not know
    # One pass: a macro is defined where its @string stands, as in BibTeX
    # (bibtexparser applies every @string to every entry, used before or not;
    # a later redefinition then changes earlier entries).
    text, odd_starts = _even_starts(text.lstrip("\ufeff"))
    text, commented = _field_comments(text)
    if stop_raw:
        commented = [n for n in commented if n < stop_raw]
    for block in split(text, gaps=True):
        if stop_line and block.line >= stop_line:
            break
        if isinstance(block, EntryBlock):
            if block.line - escaped_before in odd_starts:
                etype, key = odd_starts[block.line - escaped_before]
                block = replace(block, entry_type=etype, key=key)
            rec = _read_entry(block, macros, source, diags, expansion, read_as)
            result.detected += 1
            if rec is not None:
                result.records.append(rec)
                if block.entry_type not in TO_CSL:
                    seen = unknown.setdefault(block.entry_type, [rec.key, rec.origin_line, 0])
                    seen[2] += 1
        elif isinstance(block, StringBlock):
            name = block.key.strip()
            undefined: list[str] = []
            try:
                value = evaluate(block.raw_value, macros, undefined, expansion)
            except ValueTooLong as exc:
                if not exc.macro:  # else the macro it uses was reported already
                    diags.error(source, block.line, f"@string {name}: {exc}")
                value = _Overflow()
                value.line = block.line + line_offset
            macros[name.lower()] = value
            for macro in undefined:
                diags.warn(source, block.line, f"@string {name} uses undefined macro {macro!r}")
            blocks.append(
                TextBlock(
                    "string",
                    f"@string{{{name} = {block.raw_value}}}",
                    source,
                    block.line,
                    name.lower(),
                    "" if isinstance(value, _Overflow) else value,
                )
            )
        elif isinstance(block, PreambleBlock):
            try:
                value = evaluate(block.raw_value, macros, [], expansion)
            except ValueTooLong as exc:
                diags.error(source, block.line, f"@preamble: {exc}")
                continue
            text_ = f"@preamble{{{block.raw_value.strip()}}}"
            blocks.append(TextBlock("preamble", text_, source, block.line, value=value))
        elif isinstance(block, CommentBlock):
            blocks.append(TextBlock("comment", f"@comment{{{block.text}}}", source, block.line))
        elif isinstance(block, TextBetween):
            # bibtex ignores it; the file's author did not (section headings, notes).
            blocks.append(TextBlock("text", block.text, source, block.line))
        else:
            _failed(block, result, source)
    return PartRead(
        result, (len(commented), commented[0]) if commented else None, unknown, expansion
    )


# Fields only BibLaTeX knows: an entry that has one is written in that dialect.
_BIBLATEX_FIELDS = frozenset(
    "date journaltitle location eprinttype eprintclass langid maintitle origdate eventdate "
    "journalsubtitle booksubtitle titleaddon subtitle".split()
)


def _read_entry(
    entry: EntryBlock,
    macros: dict[str, str],
    source: str,
    diags: Diagnostics,
    expansion: Expansion,
    read_as: bool = True,
) -> Record | None:
    line = entry.line
    # The fields by lower-case name as entry_to_record takes them: the first
    # of each (the others are still evaluated, for their diagnostics).
    values: dict[str, str] = {}
    twice: list[str] = []
    try:
        for key, raw, field_line in entry.fields:
            # (the pattern needs a line break and an "=": most values have neither)
            if "\n" in raw and "=" in raw and _MISSING_COMMA.search(raw):
                diags.warn(
                    source,
                    field_line,
                    f"field {key!r} runs into the next field: a comma is missing after its value",
                    entry.key,
                )
            name = key.lower()
            if (
                raw[:1] == "{"
                and raw[-1:] == "}"
                and len(raw) - 2 <= MAX_VALUE
                and ("#" not in raw or _plain_braced(raw))
            ):
                value = raw[1:-1]  # what evaluate returns for it
            else:
                undefined: list[str] = []
                value = evaluate(raw, macros, undefined, expansion)
                for macro in undefined:
                    if name != "month":
                        diags.warn(
                            source, line, f"field {key!r} uses undefined macro {macro!r}", entry.key
                        )
            if name in values:
                twice.append(name)
            else:
                values[name] = value
    except ValueTooLong as exc:
        diags.error(source, line, f"field {key!r}: {exc}; entry skipped", entry.key)
        return None
    for name in twice:
        _warn_twice(diags, source, line, name, entry.key)
    try:
        rec = _values_to_record(entry.entry_type, entry.key, values, source, line, diags)
    except (ValueError, RecursionError) as exc:
        diags.error(source, line, f"cannot read entry: {exc}", entry.key)
        return None
    # A field given twice: bibtex and biber print the first, bibtexparser and
    # pybtex refuse the entry; the reader warned, the second is not written.
    if not twice:
        raw_fields = tuple([(name, raw) for name, raw, _ in entry.fields])
    else:
        seen: set[str] = set()
        raw_fields = tuple(
            (name, raw)
            for name, raw, _ in entry.fields
            if not (name.lower() in seen or seen.add(name.lower()))  # type: ignore[func-returns-value]
        )
    biblatex = not _BIBLATEX_FIELDS.isdisjoint(values)
    rec.source = Source(
        entry.entry_type,
        entry.key,
        raw_fields,
        snapshot(rec) if read_as else {},
        "biblatex" if biblatex or entry.entry_type in _BIBLATEX_TYPES else "bibtex",
    )
    return rec


def _failed(block: FailedBlock, result: ReadResult, source: str) -> None:
    raw = block.raw.lstrip()
    m = re.match(r"@\s*(\w+)\s*[{(]\s*([^,\s]*)", raw)
    what = f"@{m.group(1)}{{{m.group(2)}" if m else raw[:30]
    if m and m.group(1).lower() in ("string", "preamble", "comment"):
        # Not a record: nothing is lost but what the block defined.
        result.diagnostics.warn(source, block.line, f"{what}: incomplete block skipped")
        return
    result.detected += 1
    result.diagnostics.error(
        source,
        block.line,
        f"{what}: not a complete entry (unbalanced braces or quotes?); skipped",
    )


# --------------------------------------------------------------------------
# Writing


def _entry_type(rec: Record, biblatex: bool) -> str:
    src = rec.source_type.lower()
    if src in TO_CSL and TO_CSL[src] == rec.type and (biblatex or src not in _BIBLATEX_TYPES):
        return src
    if is_arxiv_preprint(rec):
        return "misc"
    if rec.type == "thesis" and "master" in rec.genre.lower():
        return "mastersthesis"
    if biblatex and rec.type in FROM_CSL_BIBLATEX:
        return FROM_CSL_BIBLATEX[rec.type]
    return FROM_CSL.get(rec.type, "misc")


def _date_fields(date: PartialDate, biblatex: bool) -> list[tuple[str, str, bool]]:
    """(name, value, braced) for the issued date."""
    if date.year is None:
        return [("year", date.literal, True)] if date.literal else []
    if biblatex:
        value = date.iso()
        if date.end is not None:
            value += "/" + (date.end.iso() or date.end.literal)
        return [("date", value, True)]
    out: list[tuple[str, str, bool]] = []
    year = str(date.year)
    if date.end is not None and date.end.year is not None and not date.end.month:
        year = f"{date.year}--{date.end.year}"
    out.append(("year", year, True))
    if date.month:
        out.append(("month", MONTH_ABBR[date.month - 1], False))
        if date.day:
            out.append(("day", str(date.day), True))
    return out


def record_fields(rec: Record, options: WriteOptions) -> list[tuple[str, str, bool]]:
    """The (field, value, braced) triples of a record, in canonical order."""
    biblatex = options.dialect == "biblatex"
    asc = options.ascii

    def tex(markup: str) -> str:
        return to_latex(markup, asc)

    def plain(text: str) -> str:
        return to_latex(from_plain(text), asc) if text else ""

    out: list[tuple[str, str, bool]] = []

    def add(name: str, value: str, braced: bool = True) -> None:
        if value:
            out.append((name, value, braced))

    etype = _entry_type(rec, biblatex)
    if rec.authors or rec.authors_truncated:
        add("author", format_bibtex_names(rec.authors, rec.authors_truncated, asc))
    if rec.editors or rec.editors_truncated:
        add("editor", format_bibtex_names(rec.editors, rec.editors_truncated, asc))
    extra = rec.extra if rec.extra_format == "bibtex" else {}
    title, title_parts = _unfold(rec.title, _TITLE_PARTS, extra)
    # Part fields we tried to split off: those not written are stale, dropped.
    attempted = {n for n, _ in _TITLE_PARTS}
    add("title", tex(protect_case(title) if options.protect_titles else title))
    for name in title_parts:
        add(name, extra[name])
    add("shorttitle", tex(rec.short_title))
    container_parts: list[str] = []
    if rec.container_title:
        if "maintitle" in extra and not any(
            f in extra for f in ("booktitle", "journal", "journaltitle")
        ):
            main, container_parts = _unfold(
                rec.container_title, _CONTAINER_PARTS["maintitle"], extra
            )
            attempted |= {n for n, _ in _CONTAINER_PARTS["maintitle"]}
            if main == from_latex(extra["maintitle"]):
                container_parts.append("maintitle")  # the container came from maintitle
            else:
                add("booktitle", tex(rec.container_title))
                container_parts = []
        elif etype in ("article", "periodical") or rec.type.startswith("article-"):
            field_name = "journaltitle" if biblatex else "journal"
            journal, container_parts = _unfold(
                rec.container_title, _CONTAINER_PARTS[field_name], extra
            )
            attempted |= {n for n, _ in _CONTAINER_PARTS[field_name]}
            add(field_name, tex(journal))
        else:
            book, container_parts = _unfold(
                rec.container_title, _CONTAINER_PARTS["booktitle"], extra
            )
            attempted |= {n for n, _ in _CONTAINER_PARTS["booktitle"]}
            add("booktitle", tex(book))
        for name in container_parts:
            if name != "maintitle":
                add(name, extra[name])
    add("series", tex(rec.collection_title))
    add("volume", plain(rec.volume))
    add("number", plain(rec.issue or rec.collection_number or rec.number))
    pages = plain(rec.pages)
    add("pages", pages.replace("-", "--") if re.fullmatch(r"[^-]+-[^-]+", pages) else pages)
    for name, value, braced in _date_fields(rec.issued, biblatex):
        if (
            name == "year"
            and "year" in extra
            and _parse_year(extra["year"]).year == rec.issued.year
        ):
            value = extra["year"]
        add(name, value, braced)
    add("publisher", tex(rec.publisher))
    add("location" if biblatex else "address", tex(rec.publisher_place))
    if rec.institution:
        school = etype in ("phdthesis", "mastersthesis", "thesis") and not biblatex
        add("school" if school else "institution", tex(rec.institution))
    add("organization", tex(rec.organization))
    add("edition", tex(rec.edition))
    genre = rec.genre
    if etype in ("phdthesis", "mastersthesis") and genre.lower() in (
        "phd thesis",
        "master's thesis",
        "master’s thesis",
    ):
        genre = ""  # implied by the entry type
    if "type" in extra and _GENRE_KEYS.get(extra["type"].strip().lower()) == genre:
        genre = ""  # the localisation key in extra is written instead
    add("type", tex(genre))
    add("eventtitle", tex(rec.event))
    add("doi", rec.doi)
    add("url", rec.url)
    add("urldate", rec.accessed.iso() or rec.accessed.literal)
    add("isbn", plain(rec.isbn))
    add("issn", plain(rec.issn))
    if rec.arxiv_id:
        eprint = rec.arxiv_id + (f"v{rec.arxiv_version}" if rec.arxiv_version else "")
        add("eprint", eprint)
        if biblatex:
            add("eprinttype", "arxiv")
            add("eprintclass", rec.arxiv_primary_class)
        else:
            add("archiveprefix", "arXiv")
            add("primaryclass", rec.arxiv_primary_class)
            if etype == "misc" and "howpublished" not in rec.extra:
                # plain.bst and friends ignore eprint; this is what they print.
                add("howpublished", f"arXiv preprint arXiv:{rec.arxiv_id}")
    elif is_arxiv_preprint(rec) and rec.arxiv_primary_class:
        add("eprintclass" if biblatex else "primaryclass", rec.arxiv_primary_class)
        if not rec.note:
            add("note", f"arXiv preprint ({rec.arxiv_primary_class})")
    add("journal_ref", plain(rec.journal_ref))
    add("arxiv_comment", tex(rec.arxiv_comment))
    add("pdf", rec.pdf_url)
    add("language" if not biblatex else "langid", plain(rec.language))
    add("keywords", ", ".join(tex(k) for k in rec.keywords))
    add("crossref", rec.crossref)
    add("note", tex(rec.note))
    add("abstract", tex(rec.abstract))
    if rec.code_links:
        add("code", " ".join(link.url for link in rec.code_links))
        # What GitHub said about the first repository (enrich --sources github).
        first = rec.code_links[0]
        add("code_stars", "" if first.stars is None else str(first.stars))
        add("code_license", plain(first.license))
        add("code_description", plain(first.description))
        add("code_archived", "" if first.archived is None else str(first.archived).lower())
        add("code_pushed", first.pushed)
    if rec.affiliations:
        add("affiliations", tex(", ".join(rec.affiliations)))
    if extra:
        written = {name for name, _, _ in out}
        for name, value in extra.items():
            if name in attempted and name not in written and name not in container_parts:
                continue
            if name not in written and isinstance(value, str):
                add(name, value)
    return out


# Which model slots each field feeds when the reader maps it (see entry_to_record).
# A field the reader keeps in ``extra`` also feeds ``extra:NAME``.
_ARXIV_SLOTS = frozenset({"arxiv_id", "arxiv_version", "arxiv_primary_class", "arxiv_categories"})
_FIELD_SLOTS: dict[str, frozenset[str]] = {
    **{name: frozenset({slot}) for name, slot in _MARKUP.items()},
    **{name: frozenset({slot}) for name, slot in _VERBATIM.items()},
    "subtitle": frozenset({"title"}),
    "titleaddon": frozenset({"title"}),
    "location": frozenset({"publisher_place"}),
    "author": frozenset({"authors", "authors_truncated"}),
    "editor": frozenset({"editors", "editors_truncated"}),
    **{
        name: frozenset({"container_title"})
        for name in (
            "journal journaltitle booktitle maintitle journalsubtitle journaltitleaddon "
            "booksubtitle booktitleaddon mainsubtitle maintitleaddon"
        ).split()
    },
    "number": frozenset({"issue", "collection_number", "number"}),
    "issue": frozenset({"issue"}),
    "pages": frozenset({"pages"}),
    "school": frozenset({"institution"}),
    "institution": frozenset({"institution"}),
    "type": frozenset({"genre"}),
    "doi": frozenset({"doi"}),
    "url": frozenset({"url"}),
    "howpublished": frozenset({"url"}) | _ARXIV_SLOTS,
    "keywords": frozenset({"keywords"}),
    "urldate": frozenset({"accessed"}),
    "crossref": frozenset({"crossref"}),
    "code": frozenset({"code_links"}),
    **{name: frozenset({"code_links"}) for name in _CODE_META},
    "affiliations": frozenset({"affiliations"}),
    "affiliation": frozenset({"affiliations"}),
    **{name: frozenset({"issued"}) for name in ("year", "date", "month", "day")},
    **{
        name: _ARXIV_SLOTS
        for name in ("eprint", "archiveprefix", "eprinttype", "primaryclass", "eprintclass")
    },
}
# The preprint note the writer adds depends on the arXiv class too.
_FIELD_SLOTS["note"] = frozenset({"note"}) | _ARXIV_SLOTS

# Same field, other dialect: renamed with its value as written (--dialect).
_RENAMES = {
    "bibtex": {
        "journaltitle": "journal",
        "location": "address",
        "eprinttype": "archiveprefix",
        "eprintclass": "primaryclass",
    },
    "biblatex": {
        "journal": "journaltitle",
        "address": "location",
        "archiveprefix": "eprinttype",
        "primaryclass": "eprintclass",
    },
}
# What BibTeX does not read at all must be encoded anew for it (a date
# becomes year and month, @online becomes @misc); biblatex reads the BibTeX
# forms (year, month, @phdthesis), so they stay as written for it.
_DIALECT_SLOTS = {"bibtex": frozenset({"issued", "type"}), "biblatex": frozenset()}


def _slots_of(name: str, extra_names: Iterable[str]) -> frozenset[str]:
    slots = _FIELD_SLOTS.get(name, frozenset())
    return slots | {f"extra:{name}"} if name in extra_names else slots


def _ascii_raw(name: str, raw: str) -> str:
    """A raw value with its non-ASCII characters as LaTeX (or, in URLs, percent-escapes)."""
    if raw.isascii():
        return raw
    if name in _URL_FIELDS:
        from urllib.parse import quote

        return "".join(ch if ch.isascii() else quote(ch) for ch in raw)
    from ..text.markup import to_latex

    out = []
    for ch in unicodedata.normalize("NFC", raw):
        out.append(ch if ch.isascii() else to_latex(ch, True))
    return "".join(out)


_URL_FIELDS = frozenset({"url", "doi", "eprint", "file", "pdf", "code", "urlraw"})


def _balanced(value: str) -> bool:
    """Do the braces balance as BibTeX counts them (a backslash escapes nothing)?"""
    depth = 0
    for ch in value:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _guard(name: str, value: str) -> str:
    """A value that cannot close its entry early, whatever its origin.

    BibTeX counts every brace, escaped or not, so a value with unbalanced
    braces (a URL from RIS ending in ``}}@preamble{...``) would end the field
    and let the rest be read as BibTeX.  In URLs the braces that do not pair
    up are percent-escaped, elsewhere written ``\\textbraceleft{}`` and
    ``\\textbraceright{}``; braces that pair up stay.
    """
    if _balanced(value):
        return value
    url = name in _URL_FIELDS
    opened: list[int] = []  # positions of "{" not closed yet
    unmatched: set[int] = set()
    for i, ch in enumerate(value):
        if ch == "{":
            opened.append(i)
        elif ch == "}":
            if opened:
                opened.pop()
            else:
                unmatched.add(i)
    unmatched.update(opened)
    out = []
    for i, ch in enumerate(value):
        if i not in unmatched:
            out.append(ch)
            continue
        if url:
            out.append("%7B" if ch == "{" else "%7D")
            continue
        if out and out[-1] == "\\":
            out.pop()  # \{ is a literal brace: the command form says the same
        out.append("\\textbraceleft{}" if ch == "{" else "\\textbraceright{}")
    return "".join(out)


def _dialect(rec: Record, options: WriteOptions) -> str:
    if options.dialect:
        return options.dialect
    return rec.source.dialect if rec.source is not None else "bibtex"


def _uses_macro(raw: str, names: Collection[str]) -> bool:
    """Does a raw value use one of these macros (lower-case names)?"""
    raw = raw.strip()
    if raw.startswith("{") and "#" not in raw:
        return False
    return any(part.lower() in names for part in (_split_concat(raw) if "#" in raw else [raw]))


def entry_parts(
    rec: Record, options: WriteOptions, expand: Collection[str] = ()
) -> tuple[str, list[tuple[str, str]]]:
    """The entry type and the (field name, value as written) pairs of a record.

    A record read from BibTeX keeps its type and every field as the source
    wrote it, except those fed by slots that changed since (enrichment,
    merging): those are encoded anew, in the place of the fields they replace,
    and so are fields using a macro in ``expand`` (its definition in the
    record's file lost to another file's).  A record from elsewhere is encoded
    whole.
    """
    dialect = _dialect(rec, options)
    gen_options = options if options.dialect == dialect else _with_dialect(options, dialect)
    src = rec.source
    if src is None:
        etype = _entry_type(rec, dialect == "biblatex")
        fields = [(n, _encoded(n, v, b)) for n, v, b in record_fields(rec, gen_options)]
        return etype, fields

    changed = changed_slots(rec)
    for name, raw in src.fields:
        # bibtexparser's splitter (ours follows it) takes \{ for a literal
        # brace and a quoted value to end at a quote inside braces; BibTeX
        # counts every brace.  A value that does not balance as BibTeX counts
        # would break the entry and those after it if written back as it was.
        if (
            raw.count("{") != raw.count("}")
            or (raw.count("\\{") and not _balanced(raw))
            or (expand and _uses_macro(raw, expand))
        ):
            changed |= _slots_of(name.lower(), ()) | {f"extra:{name.lower()}"}
    renames = _RENAMES[dialect] if dialect != src.dialect else {}
    if renames:
        changed |= _DIALECT_SLOTS[dialect]
    extra_names = src.read_as.get("extra", {}).keys()
    if changed & {"type", "source_type"} or (
        renames and dialect == "bibtex" and src.entry_type in _BIBLATEX_TYPES
    ):
        etype = _entry_type(rec, dialect == "biblatex")
    else:
        etype = src.entry_type
    if not changed:
        fields = [(n.lower(), v) for n, v in src.fields]
    else:
        fields = _merge_fields(rec, src.fields, changed, extra_names, gen_options)
    if renames and dialect == "bibtex":
        fields = _keep_date(fields, src.fields, rec.issued)
    out = []
    for name, value in fields:
        name = renames.get(name, name)
        out.append((name, _ascii_raw(name, value) if options.ascii else value))
    return etype, out


def _keep_date(
    fields: list[tuple[str, str]], raw: Iterable[tuple[str, str]], issued: PartialDate
) -> list[tuple[str, str]]:
    """A BibLaTeX ``date`` that ``year``/``month`` cannot hold stays beside them.

    bibtex ignores it; biber reads it first and ignores the year, so a range
    (``1984/1986``) or a day is still read as the source wrote it.
    """
    simple = issued.end is None and not issued.day and not issued.literal
    if simple or any(name == "date" for name, _ in fields):
        return fields
    date = next((value for name, value in raw if name.lower() == "date"), None)
    if date is None:
        return fields
    # Before them: biber warns about a year range it meets before the date.
    names = [name for name, _ in fields]
    at = min((i for i, name in enumerate(names) if name in ("year", "month", "day")), default=0)
    return [*fields[:at], ("date", date), *fields[at:]]


def _merge_fields(
    rec: Record,
    raw_fields: Iterable[tuple[str, str]],
    changed: set[str],
    extra_names: Iterable[str],
    options: WriteOptions,
) -> list[tuple[str, str]]:
    """The source's fields, with those that changed slots fed replaced by new ones."""
    extra_names = set(extra_names)
    fresh = []  # (name, encoded value, slots) of the new fields that carry changed slots
    for name, value, braced in record_fields(rec, options):
        slots = _slots_of(name, rec.extra.keys() | extra_names)
        if slots & changed:
            fresh.append((name, _encoded(name, value, braced), slots))
    fresh_names = {name for name, _, _ in fresh}
    out: list[tuple[str, str]] = []
    done: set[str] = set()
    for name, raw in raw_fields:
        lower = name.lower()
        slots = _slots_of(lower, extra_names)
        if not (slots & changed) and lower not in fresh_names:
            out.append((lower, raw))
            continue
        # Replaced: the new fields for what this one carried go here.
        for new_name, value, new_slots in fresh:
            if new_name not in done and (new_slots & slots & changed or new_name == lower):
                out.append((new_name, value))
                done.add(new_name)
    out.extend((name, value) for name, value, _ in fresh if name not in done)
    return out


def _with_dialect(options: WriteOptions, dialect: str) -> WriteOptions:
    from dataclasses import replace

    return replace(options, dialect=dialect)


def _encoded(name: str, value: str, braced: bool) -> str:
    return f"{{{_guard(name, value)}}}" if braced else value


def _format_entry(rec: Record, options: WriteOptions, expand: Collection[str] = ()) -> str:
    etype, fields = entry_parts(rec, options, expand)
    width = max((len(name) for name, _ in fields), default=0)
    lines = [f"@{etype}{{{rec.key},"]
    for name, value in fields:
        lines.append(f"  {name.ljust(width)} = {value},")
    lines.append("}")
    return "\n".join(lines)


class BlockPlacer:
    """Puts the blocks that are not entries back among the entries (see :func:`write`).

    Fed in output order, so :mod:`bibtools.stream` places blocks piece by
    piece exactly as :func:`write` does for a whole list: a block must be
    added before the first record it precedes is passed to :meth:`before`.
    """

    def __init__(self, files: Iterable[str], diagnostics: Diagnostics) -> None:
        self.pending: dict[str, deque[TextBlock]] = {}
        self.order = list(files)
        self.seen: set[tuple[str, str, str]] = set()
        self.macros: dict[str, TextBlock] = {}  # the definition written for each macro
        # file -> its definitions not written
        self.lost: dict[str, list[TextBlock]] = defaultdict(list)
        self.diagnostics = diagnostics

    def add(self, block: TextBlock) -> None:
        self.pending.setdefault(block.file, deque()).append(block)

    def put(self, block: TextBlock, parts: list[str]) -> None:
        if block.kind == "string":
            first = self.macros.setdefault(block.name, block)
            if first.value != block.value and first.file != block.file:
                self.lost[block.file].append(block)
                self.diagnostics.warn(
                    block.file,
                    block.line,
                    f"@string {block.name} is defined otherwise at {first.file}:{first.line}; "
                    "that definition is written, and the entries here that use this one "
                    "get its value written out",
                )
                return
        ident = (block.kind, block.name, block.value if block.kind == "string" else block.text)
        if ident not in self.seen:
            self.seen.add(ident)
            parts.append(block.text)

    def before(self, rec: Record, parts: list[str]) -> set[str]:
        """Append the blocks that go before ``rec``; the macros to write out in it."""
        return self.before_at(rec.origin_file, rec.origin_line, rec.source is not None, parts)

    def before_at(self, file: str, line: int, has_source: bool, parts: list[str]) -> set[str]:
        if not has_source or file not in self.order:
            return set()
        here = self.order.index(file)
        for earlier in self.order[:here]:
            for block in self.pending.pop(earlier, ()):
                self.put(block, parts)
        queue = self.pending.get(file)
        while queue and queue[0].line <= line:
            self.put(queue.popleft(), parts)
        return {b.name for b in self.lost.get(file, ()) if b.line < line}

    def rest(self, parts: list[str]) -> None:
        """Append the blocks after the last record."""
        for queue in self.pending.values():
            for block in queue:
                self.put(block, parts)
        self.pending.clear()


def format_entry(rec: Record, options: WriteOptions, expand: Collection[str] = ()) -> str:
    """One entry as :func:`write` writes it."""
    return _format_entry(rec, options, expand)


def write(records: list[Record], options: WriteOptions) -> WriteResult:
    """BibTeX text; the input's @string/@preamble/@comment blocks go back where they stood.

    A block is written before the first record (in output order) that
    followed it in its file, and every block of the files read before a
    record's own file comes before that record, so macros are defined before
    their use (also from a file of @strings only, and when records were
    merged, dropped or reordered); blocks after the last record end the file.
    A block identical to one already written (the same @string in two merged
    files) is written once.  When two files define a macro differently, the
    first definition is written, and the entries of the other file that use
    the macro after its own definition get its value written out (reported).
    """
    result = WriteResult()
    placer = BlockPlacer(options.files, result.diagnostics)
    for block in options.blocks:
        placer.add(block)
    if not placer.order:
        placer.order = list(placer.pending)
    parts: list[str] = []
    for rec in records:
        expand = placer.before(rec, parts)
        parts.append(_format_entry(rec, options, expand))
    placer.rest(parts)
    result.text = "\n\n".join(parts) + ("\n" if parts else "")
    return result
