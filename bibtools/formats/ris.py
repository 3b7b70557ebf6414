"""RIS: the tagged format of EndNote, Zotero, Mendeley and publishers' "export citation".

A record is a run of ``XX  - value`` lines from ``TY`` to ``ER``.  The reader
is tolerant of what real exports contain (CRLF, a BOM, blank lines, wrapper
text around records, continuation lines, ``TY  -JOUR`` and ``TY -``, empty
tags, a missing ``ER``); every tag the model has no slot for is kept, in
order, in ``Record.extra`` so that RIS -> record -> RIS loses nothing.

Conventions this module follows, and why:

* Names: ``Family, Given[, Suffix]`` is a personal name; a name without a
  comma is kept as a literal (organisation) name.  That is Zotero's rule, and
  it is the only one that round-trips: RIS has no other way to mark an
  organisation, and guessing splits "World Health Organization".
* Preprints are written ``TY  - GEN``.  Zotero's RIS export has no RIS type for
  its ``preprint`` item type and falls back to ``GEN`` (RIS.js,
  ``DEFAULT_EXPORT_TYPE``); arXiv itself exports only BibTeX, as the generic
  ``@misc``.  ``ELEC`` would make Zotero, JabRef and EndNote import the paper
  as a web page.  The arXiv identity goes where RIS keeps an item's
  identifier in a database: ``DB  - arXiv`` and
  ``AN  - arXiv:2204.12345v2 [cs.CL]`` (arXiv's recommended citation form:
  id, version, primary category), and ``UR`` is the abstract page, as in
  arXiv's own BibTeX export.  A ``GEN`` record with such an ``AN`` reads back
  as a CSL ``article`` (preprint); without it, as ``document``.
* Dates: ``DA`` wins over ``Y1`` and ``PY`` (Zotero: ``Y1`` is deprecated);
  a year-only winner takes month and day from another tag of the same year.
  Date tags that say something else (``2013/02/15/received``) stay in extra.
* ``T2`` is the container, except for whole-book-like types (``BOOK``,
  ``RPRT``, ...) where RIS uses it for the series; a ``CONF`` with both
  ``T2`` and ``C3`` is a conference name plus a proceedings title.
* ``SN`` is an ISBN or ISSN by its pattern, and the item's own number for
  reports, patents and standards; ``SV`` (or a book's ``M1``) is the number
  in a series (``M1`` for books, as EndNote and Zotero write it).
* A truncated author or editor list (BibTeX's ``and others``) ends with an
  ``AU  - others`` (``A2  - others``) line, and reads back truncated.
* What RIS cannot carry: case protection in titles, date ranges, ``event`` outside conference
  papers, ``number`` outside reports, patents and standards, secondary arXiv
  categories, a repository URL as the main URL (it reads back as a code link).
* ``UR`` is the paper (its URL, else its arXiv abstract page), never a code
  repository: reference managers take the first ``UR`` as the item's link.
  Code links are written as notes, ``N1  - Code: https://github.com/...``,
  and such a note line reads back as a code link (a repository in ``UR``, as
  other tools write it, is still read as one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from ..diagnostics import Diagnostics
from ..ids import clean_doi
from ..limits import MAX_VALUE, value_too_long
from ..model import CodeLink, Name, PartialDate, Record
from ..text.dates import is_valid, parse_month
from ..text.markup import from_plain, to_plain
from ..text.names import parse_plain_name
from . import ReadOptions, ReadResult, WriteOptions, WriteResult

NAME = "ris"
EXTENSIONS = (".ris",)
# The last name of a list cut short ("and others" in BibTeX).  RIS has no
# mark of its own; "others" is what JabRef turns back into BibTeX's
# "and others", what pandoc reads as CSL's "others" (printed "et al."),
# and what Zotero and EndNote show as a last author.
OTHERS = "others"

# RIS type -> CSL type.  "GEN" becomes "article" when the record is an arXiv preprint.
RIS_TYPES: dict[str, str] = {
    "ABST": "article-journal",
    "ADVS": "motion_picture",
    "AGGR": "dataset",
    "ANCIENT": "classic",
    "ART": "graphic",
    "BILL": "bill",
    "BLOG": "post-weblog",
    "BOOK": "book",
    "CASE": "legal_case",
    "CHAP": "chapter",
    "CHART": "figure",
    "CLSWK": "classic",
    "COMP": "software",
    "CONF": "paper-conference",
    "CPAPER": "paper-conference",
    "CTLG": "book",
    "DATA": "dataset",
    "DBASE": "dataset",
    "DICT": "entry-dictionary",
    "EBOOK": "book",
    "ECHAP": "chapter",
    "EDBOOK": "book",
    "EJOUR": "article-journal",
    "ELEC": "webpage",
    "ENCYC": "entry-encyclopedia",
    "EQUA": "document",
    "FIGURE": "figure",
    "GEN": "document",
    "GOVDOC": "report",
    "GRANT": "document",
    "GRNT": "document",
    "HEAR": "hearing",
    "ICOMM": "personal_communication",
    "INPR": "article-journal",
    "JFULL": "periodical",
    "JOUR": "article-journal",
    "LEGAL": "regulation",
    "MANSCPT": "manuscript",
    "MAP": "map",
    "MGZN": "article-magazine",
    "MPCT": "motion_picture",
    "MULTI": "motion_picture",
    "MUSIC": "musical_score",
    "NEWS": "article-newspaper",
    "PAMP": "pamphlet",
    "PAT": "patent",
    "PCOMM": "personal_communication",
    "RPRT": "report",
    "SER": "book",
    "SLIDE": "speech",
    "SOUND": "song",
    "STAND": "standard",
    "STAT": "legislation",
    "THES": "thesis",
    "UNBILL": "bill",
    "UNPB": "manuscript",
    "UNPD": "manuscript",
    "VIDEO": "motion_picture",
    "WEB": "webpage",
}

# CSL type -> the RIS type we write (Zotero's export choices where it has one).
CSL_TO_RIS: dict[str, str] = {
    "article": "GEN",
    "article-journal": "JOUR",
    "article-magazine": "MGZN",
    "article-newspaper": "NEWS",
    "bill": "BILL",
    "book": "BOOK",
    "broadcast": "MPCT",
    "chapter": "CHAP",
    "classic": "CLSWK",
    "dataset": "DATA",
    "document": "GEN",
    "entry-dictionary": "DICT",
    "entry-encyclopedia": "ENCYC",
    "figure": "FIGURE",
    "graphic": "ART",
    "hearing": "HEAR",
    "interview": "PCOMM",
    "legal_case": "CASE",
    "legislation": "STAT",
    "manuscript": "MANSCPT",
    "map": "MAP",
    "motion_picture": "MPCT",
    "musical_score": "MUSIC",
    "pamphlet": "PAMP",
    "paper-conference": "CONF",
    "patent": "PAT",
    "periodical": "JFULL",
    "personal_communication": "PCOMM",
    "post": "ICOMM",
    "post-weblog": "BLOG",
    "regulation": "LEGAL",
    "report": "RPRT",
    "review": "JOUR",
    "review-book": "JOUR",
    "software": "COMP",
    "song": "SOUND",
    "speech": "SLIDE",
    "standard": "STAND",
    "thesis": "THES",
    "webpage": "ELEC",
}

# Types whose T2 is a series title rather than a container (RIS spec, Zotero).
BOOKISH = frozenset({"BOOK", "EBOOK", "EDBOOK", "CLSWK", "SER", "CTLG", "RPRT", "COMP", "MAP"})
# Types whose PB is the degree-granting or issuing institution.
INSTITUTIONAL = frozenset({"THES", "RPRT"})
CONFERENCE = frozenset({"CONF", "CPAPER"})
# Types whose SN is the item's own number (report, patent, standard), as in Zotero.
NUMBERED = frozenset({"RPRT", "GOVDOC", "PAT", "STAND"})
# Tags whose continuation lines are separate lines of text, not a wrapped line.
_MULTILINE = frozenset({"AB", "N2", "N1"})

CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "huggingface.co")
_CODE_URL = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*:)?(?://)?(?:www\.)?(?:"
    + "|".join(re.escape(h) for h in CODE_HOSTS)
    + r")(?:[/:?#]|$)",
    re.I,
)
# How a code link is written (a note line; see the module docstring).
_CODE_NOTE = re.compile(r"^Code: (\S+)$")
# "TY  - JOUR", and the variants exports get wrong: "TY - JOUR", "TY  -JOUR", "TY -".
_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])[ \t]{1,3}-(?:[ \t]?(.*))?$")
_BARE_ER = re.compile(r"^ER[ \t]*$")
_TAG_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TAG_SECOND = _TAG_FIRST | frozenset("0123456789")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_LAYOUT_SPACE = re.compile(r"[ \t\n\r\f\v\u2028\u2029]+")
_ARXIV_AN = re.compile(
    r"^arXiv(?::\s*(?P<id>[0-9]{4}\.[0-9]{4,5}|[A-Za-z][A-Za-z.-]*/[0-9]{7})(?:v(?P<version>[0-9]{1,4}))?)?"
    r"(?:\s*\[(?P<cls>[^\]\s]+)\])?$",
    re.I,
)
_DOI = re.compile(r"^10\.[0-9]{4,9}/\S+$")
_ISSN = re.compile(r"^[0-9]{4}-?[0-9]{3}[0-9Xx]$")
_ISBN = re.compile(r"^(?:97[89][- ]?)?[0-9][0-9 -]{7,15}[0-9Xx]$")
_YEAR = re.compile(r"^[0-9]{4}$")
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})(?:-([0-9]{1,2}))?$")
_URL_SPLIT = re.compile(r"\s*;\s*(?=(?:[a-z][a-z0-9+.-]*:)?//|www\.)|\s+", re.I)
_RANGE = re.compile(
    r"^\s*([^\s\-\u2013\u2014]+)\s*(?:--?|\u2013|\u2014)\s*([^\s\-\u2013\u2014]+)\s*$"
)


def sniff(text: str) -> bool:
    """A ``TY  -`` line among the first non-blank lines (wrapper text allowed)."""
    seen = 0
    for line in _NEWLINE.split(text[:20000]):
        stripped = line.strip().lstrip("\ufeff")
        if not stripped:
            continue
        match = _TAG_LINE.match(stripped)
        if match and match.group(1) == "TY":
            return True
        seen += 1
        if seen >= 20:
            break
    return False


# --------------------------------------------------------------------------
# Reading: lines -> raw records


def _value(tag: str, lines: list[str]) -> str:
    if tag not in _SINGLE_LINE_TAGS or tag in _MULTILINE:
        return "\n".join(lines)
    if len(lines) == 1:
        # One stripped line: only runs of layout space inside it change (tabs,
        # line and paragraph separators are all unprintable).
        one = lines[0]
        if "  " not in one and one.isprintable():
            return one
        return _collapsed(one)
    return _collapsed(" ".join(lines))


@dataclass(slots=True)
class _RawRecord:
    """A record's fields as cut from its lines, in order; field 0 is the ``TY``.

    Two parallel lists rather than an object per field: a file has millions
    of fields.  ``values`` holds each field's first line, stripped ("" for
    none); the lines that continue a field are in ``more``, by field index.
    """

    line: int
    tags: list[str]
    values: list[str]
    more: dict[int, list[str]] | None = None
    warnings: list[str] | None = None
    # (line, tag, length) of a value past MAX_VALUE: the record is refused,
    # and the value is not kept (a 200 MB abstract would need gigabytes).
    too_long: tuple[int, str, int] | None = None
    size: int = 0  # characters of the field being continued, so far

    def warn(self, message: str) -> None:
        if self.warnings is None:
            self.warnings = []
        self.warnings.append(message)

    def lines(self, index: int) -> list[str]:
        first = self.values[index]
        lines = [first] if first or index == 0 else []
        if self.more is not None and index in self.more:
            lines.extend(self.more[index])
        return lines

    def value(self, index: int) -> str:
        """Field ``index``'s value: its lines joined as :func:`_value` joins them."""
        return _value(self.tags[index], self.lines(index))

    def field_values(self) -> list[str]:
        """Every field's value, by index."""
        if self.more is None:
            # Nearly always each value is its one line: no double space and
            # nothing unprintable anywhere (values are stripped, so joining
            # them makes no new double space).
            joined = "|".join(self.values)
            if "  " not in joined and joined.isprintable():
                return self.values
        return [self.value(i) for i in range(len(self.tags))]


def _collapsed(value: str) -> str:
    """Wrapped lines and runs of spaces (or U+2028) are layout; a no-break space is not."""
    return _LAYOUT_SPACE.sub(" ", value).strip()


def _tags(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[A-Z][A-Z0-9]", text))


# Tags the model reads whose wrapped lines are one line of text.
_SINGLE_LINE_TAGS = frozenset(
    _tags(
        "TY ID TI T1 CT T2 T3 JO JF JA J1 J2 BT C3 AU A1 A2 ED PY Y1 DA Y2 SP EP VL IS CP "
        "PB CY SN SV DO UR AN DB LA ST ET M3 AD"
    )
)
# Every tag: two characters, [A-Z][A-Z0-9] (one set lookup per line).
_TAG_PAIRS = frozenset(a + b for a in _TAG_FIRST for b in _TAG_SECOND)
# The tags of a record's fields: all but the two that open and close one.
_FIELD_TAGS = _TAG_PAIRS - {"TY", "ER"}


def _split_records(
    text: str, source: str, diags: Diagnostics, first_line: int = 1
) -> Iterator[_RawRecord]:
    """The records of ``text``, one at a time (each is garbage once built)."""
    current: _RawRecord | None = None
    tags: list[str] = []  # the current record's
    values: list[str] = []
    field_line = 0  # the line of the current record's last field
    stray_reported = False
    bom = "\ufeff" in text
    # A line longer than MAX_VALUE needs a text longer than that.
    long_lines = len(text) > MAX_VALUE
    tag_line, bare_er, pairs = _TAG_LINE.match, _BARE_ER.match, _TAG_PAIRS
    field_tags = _FIELD_TAGS if not long_lines else frozenset()
    lines = text.split("\n") if "\r" not in text else _NEWLINE.split(text)
    for number, line in enumerate(lines, start=first_line):
        if line[2:6] == "  - " and current is not None and (tag := line[:2]) in field_tags:
            # Most lines: a field of the open record, in the usual form (which
            # starts with no BOM); what the general steps below make of it.
            tags.append(tag)
            values.append(line[6:].strip())
            field_line = number
            continue
        if not line:
            continue  # a blank line changes nothing, in a record or between records
        if bom:
            line = line.lstrip("\ufeff")
        if long_lines and len(line) > MAX_VALUE:
            # Only its tag is looked at: matching would copy the value.
            if current is not None and current.too_long is None:
                head = _TAG_LINE.match(line[:8])
                tag = head.group(1) if head else tags[-1]
                start = head.start(2) if head and head.group(2) is not None else 0
                current.too_long = (number, tag, len(line) - start)
            continue
        if line[2:6] == "  - " and (tag := line[:2]) in pairs:
            # The form nearly every line has; what _TAG_LINE makes of it, without a match.
            value = line[6:].strip()
        elif match := tag_line(line):
            tag, value = match.group(1, 2)
            value = value.strip() if value else ""
        else:
            tag = "ER" if bare_er(line) else ""
            value = ""
        if tag == "TY":
            if current is not None:
                current.warn(f"TY at line {number} before ER; record closed there")
                yield current
            tags, values = ["TY"], [value]
            current = _RawRecord(number, tags, values)
            field_line = number
            stray_reported = False
        elif tag == "ER":
            if current is None:
                diags.warn(source, number, "ER without a TY; ignored")
            else:
                yield current
                current = None
        elif current is None:
            # Export wrappers ("Record #1 of 2") are expected; tags are not.
            if tag and not stray_reported:
                diags.warn(source, number, f"{tag} outside a record (no TY before it); ignored")
                stray_reported = True
        elif tag:
            tags.append(tag)
            values.append(value)
            field_line = number
        elif current.too_long is None and (stripped := line.strip()):
            # (a refused record keeps no text)
            _continue(current, stripped, len(line), field_line)
    if current is not None:
        current.warn("no ER at end of input; record accepted")
        yield current


def _continue(current: _RawRecord, stripped: str, length: int, field_line: int) -> None:
    """A line that continues the record's last field (``length``: the line's, unstripped)."""
    index = len(current.tags) - 1
    if current.more is None:
        current.more = {}
    more = current.more.get(index)
    if more is None:
        more = current.more[index] = []
        # The size counts the field's first line, except the TY's.
        current.size = len(current.values[index]) if index else 0
    more.append(stripped)
    current.size += length
    if current.size > MAX_VALUE:
        current.too_long = (field_line, current.tags[index], current.size)
        current.values[index] = ""
        more.clear()


def read(text: str, options: ReadOptions, *, first_line: int = 1) -> ReadResult:
    """Records of ``text``; ``first_line`` is the line it starts at (a piece of a file:
    :mod:`bibtools.stream` cuts files before a ``TY`` that follows an ``ER``)."""
    result = ReadResult()
    if first_line == 1 and _looks_like_wos(text) and not sniff(text):
        # Web of Science's tagged format shares "AU" and "ER" with RIS but is
        # another format; reading it as RIS would invent records.
        result.diagnostics.warn(
            options.source, 1, "a Web of Science tagged file (FN/PT/ER), not RIS; no records read"
        )
        return result
    # Each record is built as soon as it is cut (few objects alive at once);
    # the records' diagnostics still come after those of the cutting.
    built = Diagnostics()
    detected = 0
    for raw in _split_records(text, options.source, result.diagnostics, first_line):
        detected += 1
        if raw.too_long is not None:
            line, tag, length = raw.too_long
            key = raw.value(raw.tags.index("ID")) if "ID" in raw.tags else ""
            message = f"field {tag}: {value_too_long(length)}; record skipped"
            built.error(options.source, line, message, key)
            continue
        record = _build(raw, options.source, built)
        if record is not None:
            result.records.append(record)
    result.detected = detected
    result.diagnostics.extend(built)
    return result


def _plain(text: str) -> str:
    """:func:`from_plain`, without its generator for text with nothing to escape."""
    if "\\" in text or "{" in text or "}" in text or "$" in text:
        return from_plain(text)
    return text


def _looks_like_wos(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith(("FN ", "PT "))


# --------------------------------------------------------------------------
# Reading: raw record -> Record


class _Fields:
    """A record's fields, consumed by the model's slots; the rest is extra.

    A field is its index in the raw record.  ``by_tag`` holds the fields not
    used yet, by tag, and a tag only while it has one: "is there an unused
    X?" is ``X in by_tag``, and a record whose fields all went into the
    model (most) has no extra to sort.
    """

    __slots__ = ("added", "by_tag", "tags", "values")

    def __init__(self, tags: list[str], values: list[str]) -> None:
        self.tags = tags
        self.values = values
        by_tag: dict[str, list[int]] = {}
        get = by_tag.get
        if values.count("") > (values[0] == ""):  # an empty tag besides the TY
            for pos in range(1, len(tags)):  # 0 is the TY
                if values[pos]:  # an empty tag is dropped
                    present = get(tags[pos])
                    if present is None:
                        by_tag[tags[pos]] = [pos]
                    else:
                        present.append(pos)
        else:  # no empty tag (nearly always)
            for pos, tag in enumerate(tags):
                present = get(tag)
                if present is None:
                    by_tag[tag] = [pos]
                else:
                    present.append(pos)
            del by_tag["TY"]  # (field 0; a TY opens a record, so there is no other)
        self.by_tag = by_tag
        self.added: list[tuple[int, str, str]] = []  # parts of a field that stay extra

    def all(self, *tags: str) -> list[int]:
        """The unused fields with one of ``tags``, in document order."""
        by_tag = self.by_tag
        if len(tags) == 1:  # the common case (a copy: using a field changes by_tag)
            present = by_tag.get(tags[0])
            return present[:] if present is not None else []
        found = [pos for tag in tags if tag in by_tag for pos in by_tag[tag]]
        found.sort()
        return found

    def value(self, pos: int) -> str:
        return self.values[pos]

    def use(self, pos: int) -> str:
        tag = self.tags[pos]
        present = self.by_tag[tag]
        present.remove(pos)
        if not present:
            del self.by_tag[tag]
        return self.values[pos]

    def first(self, tag: str) -> str:
        """The first unused value of ``tag`` ("" for none)."""
        present = self.by_tag.get(tag)
        if present is None:
            return ""
        pos = present.pop(0)
        if not present:
            del self.by_tag[tag]
        return self.values[pos]

    def first_of(self, *tags: str) -> str:
        """The first unused value among ``tags`` in document order ("" for none)."""
        tag = _only(self.by_tag, tags)
        if tag is not None:
            return self.first(tag)
        found = self.all(*tags)
        return self.use(found[0]) if found else ""

    def take(self, *tags: str) -> list[str]:
        """The values of every unused field with one of ``tags``, in document order; used."""
        by_tag = self.by_tag
        tag = tags[0] if len(tags) == 1 else _only(by_tag, tags)
        if tag is not None:
            found = by_tag.pop(tag, None)
            if found is None:
                return []
        else:
            found = self.all(*tags)
            for tag in tags:
                by_tag.pop(tag, None)
        values = self.values
        if len(found) == 1:
            return [values[found[0]]]
        return [values[pos] for pos in found]

    def by_priority(self, *tags: str) -> str:
        """The value of the first of ``tags`` present, in the order given."""
        by_tag = self.by_tag
        for tag in tags:
            if tag in by_tag:
                value = self.first(tag)
                if value:
                    return value
        return ""

    def extra(self) -> dict[str, list[str]]:
        if not self.by_tag and not self.added:
            return {}
        tags, values = self.tags, self.values
        rest = [(pos, tags[pos], values[pos]) for found in self.by_tag.values() for pos in found]
        out: dict[str, list[str]] = {}
        for _pos, tag, value in sorted(rest + self.added, key=lambda t: t[0]):
            out.setdefault(tag, []).append(value)
        return out


def _only(by_tag: dict[str, list[int]], tags: tuple[str, ...]) -> str | None:
    """The one of ``tags`` present, or the first when none is; None when several are."""
    found = None
    for tag in tags:
        if tag in by_tag:
            if found is not None:
                return None
            found = tag
    return tags[0] if found is None else found


def _build(raw: _RawRecord, source: str, diags: Diagnostics) -> Record | None:
    values = raw.field_values()
    ty = values[0].strip()
    fields = _Fields(raw.tags, values)
    # Most of the ~40 tags read below are absent from a record: each reader
    # runs only when one of its tags is there.
    by_tag = fields.by_tag
    if not by_tag:
        diags.error(source, raw.line, "record has no fields besides TY; skipped")
        return None
    rec = Record(origin_file=source, origin_line=raw.line, source_type=ty, extra_format="ris")
    rec.key = fields.first("ID")
    if raw.warnings:
        for message in raw.warnings:
            diags.warn(source, raw.line, message, rec.key)
    upper = ty.upper()
    rec.type = RIS_TYPES.get(upper, "document")
    if not ty:
        diags.warn(source, raw.line, "empty TY; read as document", rec.key)
    elif upper not in RIS_TYPES:
        diags.warn(source, raw.line, f"unknown RIS type {ty!r}; read as document", rec.key)
    if "AN" in by_tag:
        _read_arxiv(rec, fields)
        if upper == "GEN" and (rec.arxiv_id or rec.arxiv_primary_class):
            rec.type = "article"
    _read_titles(rec, fields, upper)
    if "AU" in by_tag or "A1" in by_tag:
        rec.authors, rec.authors_truncated = _read_names(fields, "AU", "A1")
    if "A2" in by_tag or "ED" in by_tag:
        rec.editors, rec.editors_truncated = _read_names(fields, "A2", "ED")
    if "PY" in by_tag or "DA" in by_tag or "Y1" in by_tag:
        _read_dates(rec, fields, source, diags)
    if "Y2" in by_tag:
        _read_accessed(rec, fields)
    if "SP" in by_tag:
        _read_pages(rec, fields)
    if "VL" in by_tag:
        rec.volume = fields.first("VL")
    if "IS" in by_tag or "CP" in by_tag:
        rec.issue = fields.first_of("IS", "CP")
    series_number = _series_number_tag(upper)
    if series_number in by_tag:
        rec.collection_number = fields.first(series_number)
    if "PB" in by_tag:
        _read_publisher(rec, fields, upper)
    if "CY" in by_tag:
        rec.publisher_place = _plain(fields.first("CY"))
    if "SN" in by_tag or "DO" in by_tag or "M3" in by_tag:
        _read_identifiers(rec, fields, upper)
    if "UR" in by_tag:
        _read_urls(rec, fields)
    if "AB" in by_tag or "N2" in by_tag:
        rec.abstract = _plain(fields.first_of("AB", "N2"))
    if "KW" in by_tag:
        keywords = fields.take("KW")
        if raw.more is None:  # (only continuation lines make a value of several lines)
            rec.keywords = keywords
        else:
            rec.keywords = [kw for value in keywords for kw in value.split("\n")]
    if "N1" in by_tag:
        _read_notes(rec, fields)
    if "LA" in by_tag:
        rec.language = fields.first("LA")
    if "ST" in by_tag:
        rec.short_title = _plain(fields.first("ST"))
    if "ET" in by_tag:
        rec.edition = _plain(fields.first("ET"))
    if "AD" in by_tag:
        rec.affiliations = fields.take("AD")
    if by_tag or fields.added:
        rec.extra = fields.extra()
    return rec


def _read_notes(rec: Record, fields: _Fields) -> None:
    notes = []
    for value in fields.take("N1"):
        code = _CODE_NOTE.match(value)
        if code:
            rec.code_links.append(CodeLink(code.group(1), origin="url"))
        else:
            notes.append(value)
    rec.note = _plain("\n".join(notes))


def _read_names(fields: _Fields, *tags: str) -> tuple[list[Name], bool]:
    """The names of ``tags``, and whether the list ends with "others" (cut short)."""
    values = fields.take(*tags)
    truncated = values[-1].strip() == OTHERS if values else False
    if truncated:
        values.pop()
    names = [Name(*p) if len(p) == 6 else _name(p) for p in map(_name_parts, values)]
    return names, truncated


# "Family, Given Names" of capitalised words (most names in exports): no
# particle, no suffix, so it splits as parse_plain_name splits it, without
# the general name parser.
_SIMPLE_NAME = re.compile(
    r"([A-Z][^\W\d_]*(?:[-'][A-Z][^\W\d_]*)*), "
    r"((?:[A-Z][^\W\d_]*\.?(?:-[A-Z][^\W\d_]*\.?)*)(?: [A-Z][^\W\d_]*\.?(?:-[A-Z][^\W\d_]*\.?)*)*)"
)


def _parse_name(text: str) -> Name:
    parts = _name_parts(text)
    return Name(*parts) if len(parts) == 6 else _name(parts)


def _name(parts: tuple[Any, ...]) -> Name:
    """The Name of cached parts with extra attributes (see _name_parts)."""
    family, given, particle, suffix, literal, dropping, items = parts
    return Name(family, given, particle, suffix, literal, dropping, dict(items))


# Bibliographies repeat their authors: the parts are cached (bounded, so
# memory stays flat), and each record gets a Name of its own.
@lru_cache(maxsize=4096)
def _name_parts(text: str) -> tuple[Any, ...]:
    """(family, given, particle, suffix, literal, dropping particle[, extra's items]):
    Name's fields, in order."""
    if "," not in text:
        return "", "", "", "", text, ""
    simple = _SIMPLE_NAME.fullmatch(text)
    if simple:
        return simple.group(1), simple.group(2), "", "", "", ""
    try:
        name = parse_plain_name(text, suffix_last=True)
    except Exception:  # the name splitter is third-party; never lose a record to it
        return "", "", "", "", text, ""
    parts = (
        name.family,
        name.given,
        name.particle,
        name.suffix,
        name.literal,
        name.dropping_particle,
    )
    return (*parts, tuple(name.extra.items())) if name.extra else parts


def _read_arxiv(rec: Record, fields: _Fields) -> None:
    for item in fields.all("AN"):
        match = _ARXIV_AN.match(fields.value(item))
        if match and (match.group("id") or match.group("cls")):
            fields.use(item)
            rec.arxiv_id = match.group("id") or ""
            rec.arxiv_version = int(match.group("version")) if match.group("version") else None
            rec.arxiv_primary_class = match.group("cls") or ""
            # DB - arXiv only says which database the AN belongs to.
            for db in fields.all("DB"):
                if fields.value(db).lower() == "arxiv":
                    fields.use(db)
                    break
            return


def _series_number_tag(ty: str) -> str:
    # RIS's "series volume" is SV; EndNote and Zotero put a book's in M1.
    return "M1" if ty in BOOKISH else "SV"


def _read_titles(rec: Record, fields: _Fields, ty: str) -> None:
    by_tag = fields.by_tag
    if "T1" in by_tag or "CT" in by_tag:
        rec.title = _plain(fields.first_of("TI", "T1", "CT"))
    elif "TI" in by_tag:
        rec.title = _plain(fields.first("TI"))
    if ty in BOOKISH:
        rec.collection_title = _plain(fields.by_priority("T2", "T3"))
        if not rec.title:
            rec.title = _plain(fields.first("BT"))
        rec.container_title = _plain(fields.by_priority("JF", "JO", "JA", "J1", "J2"))
        return
    if ty in CONFERENCE and "T2" in by_tag and "C3" in by_tag:
        rec.event = _plain(fields.first("T2"))
        rec.container_title = _plain(fields.first("C3"))
    elif "T2" in by_tag:  # (the common case)
        rec.container_title = _plain(fields.first("T2"))
    else:
        # Full titles before abbreviations; JO is in practice often abbreviated.
        rec.container_title = _plain(fields.by_priority("JF", "BT", "JO", "JA", "J1", "J2"))
    if "T3" in by_tag:
        rec.collection_title = _plain(fields.first("T3"))


# --------------------------------------------------------------------------
# Dates


def parse_date(text: str) -> PartialDate | None:
    """A RIS date (``2020``, ``2020/05//``, ``2020/05/12/Spring``, ``2020-05-12``).

    None for an empty date (``///``, ``0000``); a ``literal`` date when the
    text is not a RIS date at all.
    """
    parts = _date_parts(text)
    return PartialDate(*parts) if parts is not None else None


# Dates repeat (years above all); a fresh PartialDate is made from the
# cached parts each time, as records change theirs.
@lru_cache(maxsize=1024)
def _date_parts(text: str) -> tuple[int | None, int | None, int | None, str, str] | None:
    """(year, month, day, literal, season): PartialDate's first fields, in order."""
    value = text.strip()
    if len(value) == 4 and value.isdigit() and value.isascii():  # "2020", the common case
        if value == "0000":
            return None
        # Years 0001-9999 are all valid dates (is_valid).
        return int(value), None, None, "", ""
    return _general_date_parts(value)


def _general_date_parts(
    value: str,
) -> tuple[int | None, int | None, int | None, str, str] | None:
    """:func:`_date_parts` of any stripped date (a bare year included)."""
    iso = _ISO_DATE.match(value)
    if iso:
        parts = [iso.group(1), iso.group(2), iso.group(3) or "", ""]
    else:
        parts = [*value.split("/", 3), "", "", ""][:4]
    year_text, month_text, day_text, other = (p.strip() for p in parts)
    if not year_text and not month_text and not day_text and not other:
        return None
    if not _YEAR.match(year_text):
        return None, None, None, value, ""
    year = int(year_text)
    if year == 0:
        return None
    month = _month(month_text)
    day = _day(day_text, month)
    if month == -1 or day == -1:
        return None, None, None, value, ""
    date = PartialDate(year, month or None, day or None, season=other)
    if (date.day and not date.month) or not is_valid(date):
        return None, None, None, value, ""
    return date.year, date.month, date.day, "", other


def _month(text: str) -> int:
    """1-12; 0 when absent (``""``, ``00``); -1 when not a month."""
    if not text or text.strip("0") == "":
        return 0
    if not re.fullmatch(r"[0-9]{1,2}|[A-Za-z]{3,9}\.?", text):
        return -1  # also keeps "²" and friends away from int()
    month = parse_month(text)
    return month if month is not None else -1


def _day(text: str, month: int) -> int:
    if not text or text.strip("0") == "":
        return 0
    if not re.fullmatch(r"[0-9]{1,2}", text) or month <= 0:
        return -1
    return int(text)


def format_date(date: PartialDate) -> str:
    """``YYYY/MM/DD/other`` as RIS writes ``DA``; the literal when there is no year."""
    if date.year is None:
        return date.literal
    month = f"{date.month:02d}" if date.month else ""
    day = f"{date.day:02d}" if date.day and date.month else ""
    return f"{date.year:04d}/{month}/{day}/{date.season}"


def _consistent(other: PartialDate | None, date: PartialDate) -> bool:
    """Would writing ``date`` say everything ``other`` says?"""
    if other is None:
        return True
    if other.year is None or date.year is None:
        return other.literal == date.literal and other.year == date.year
    return (
        other.year == date.year
        and other.month in (None, date.month)
        and other.day in (None, date.day)
        and other.season in ("", date.season)
    )


def _read_dates(rec: Record, fields: _Fields, source: str, diags: Diagnostics) -> None:
    by_tag, values = fields.by_tag, fields.values
    candidates = []  # (field, date), DA before Y1 before PY
    for tag in ("DA", "Y1", "PY"):
        present = by_tag.get(tag)
        if present is not None:
            for pos in present:
                candidates.append((pos, parse_date(values[pos])))
    # The first date with a year wins, else the first date at all.
    primary_field, primary = -1, None
    for pos, date in candidates:
        if date is not None and date.year is not None:
            primary_field, primary = pos, date
            break
    if primary is None:
        for pos, date in candidates:
            if date is not None:
                primary_field, primary = pos, date
                break
        if primary is None:
            return
        diags.warn(
            source,
            rec.origin_line,
            f"date {primary.literal!r} not understood; kept as text",
            rec.key,
        )
    elif not primary.month and len(candidates) > 1:
        others = [
            d for f, d in candidates if f != primary_field and d is not None and d.year is not None
        ]
        primary = _complete(primary, others)
    rec.issued = primary
    fields.use(primary_field)
    if len(candidates) > 1:
        for item, date in candidates:
            if item != primary_field and _consistent(date, primary):
                fields.use(item)


def _read_accessed(rec: Record, fields: _Fields) -> None:
    for item in fields.all("Y2"):
        accessed = parse_date(fields.value(item))
        if accessed is not None:
            rec.accessed = accessed
            fields.use(item)
            break


def _complete(date: PartialDate, others: list[PartialDate]) -> PartialDate:
    """A year-only date gains month and day from another tag of the same year."""
    if date.month:
        return date
    for other in others:
        if other.year == date.year and other.month:
            return PartialDate(date.year, other.month, other.day, season=date.season)
    return date


# --------------------------------------------------------------------------
# Pages, publisher, identifiers, URLs


def _read_pages(rec: Record, fields: _Fields) -> None:
    start = fields.first("SP")
    if not start:
        return
    # (a range needs a dash)
    dash = "-" in start or "\u2013" in start or "\u2014" in start
    match = _RANGE.match(start) if dash else None
    if not match and "EP" in fields.by_tag:
        rec.pages = f"{start}-{fields.first('EP')}"
        return
    rec.pages = f"{match.group(1)}-{match.group(2)}" if match else start


def _read_publisher(rec: Record, fields: _Fields, ty: str) -> None:
    first = _plain(fields.first("PB"))
    second = _plain(fields.first("PB"))
    if ty in INSTITUTIONAL:
        rec.institution, rec.publisher = first, second
    else:
        rec.publisher, rec.institution = first, second


def normalize_doi(text: str) -> str:
    return clean_doi(text)


def _read_identifiers(rec: Record, fields: _Fields, ty: str) -> None:
    by_tag = fields.by_tag
    if "DO" in by_tag:
        _read_doi(rec, fields)
    if "M3" in by_tag:
        _read_genre(rec, fields)
    if "SN" in by_tag:
        _read_numbers(rec, fields, ty)


def _read_doi(rec: Record, fields: _Fields) -> None:
    for item in fields.all("DO"):
        # Placeholders and junk ("DOI", "n/a") stay in extra, where nothing trusts them.
        doi = normalize_doi(fields.value(item))
        if _DOI.match(doi):
            fields.use(item)
            rec.doi = doi
            break


def _read_genre(rec: Record, fields: _Fields) -> None:
    for item in fields.all("M3"):
        doi = normalize_doi(fields.value(item))
        if _DOI.match(doi):
            # Some exporters put the DOI in M3 ("type of work"): not a genre.
            if not rec.doi:
                rec.doi = doi
                fields.use(item)
        elif not rec.genre:
            rec.genre = _plain(fields.use(item))


def _read_numbers(rec: Record, fields: _Fields, ty: str) -> None:
    for item in fields.all("SN"):
        value = fields.value(item)
        if not rec.issn and _ISSN.match(value):
            rec.issn = fields.use(item)
        elif not rec.isbn and _is_isbn(value):
            rec.isbn = fields.use(item)
        elif not rec.number and ty in NUMBERED:
            rec.number = fields.use(item)


def _is_isbn(value: str) -> bool:
    digits = re.sub(r"[- ]", "", value)
    return bool(_ISBN.match(value)) and len(digits) in (10, 13)


def _split_urls(value: str) -> list[str]:
    # A UR line may hold several URLs; free text ("see web site") is one value.
    if "://" not in value and not value.startswith("//"):
        return [value]
    if ";" not in value and " " not in value and value.isprintable():
        # No separator: every other white space is unprintable (str.isprintable).
        return [value] if value else []
    return [u for u in _URL_SPLIT.split(value) if u]


def _read_urls(rec: Record, fields: _Fields) -> None:
    for item in fields.all("UR"):
        value = fields.use(item)
        for url in _split_urls(value):
            if _CODE_URL.match(url):
                rec.code_links.append(CodeLink(url, origin="url"))
            elif not rec.url:
                rec.url = url
            else:
                fields.added.append((item, "UR", url))


# --------------------------------------------------------------------------
# Writing


# Tags the reader maps into the model.  A record read from RIS keeps one of
# these in extra only when the model already holds a value for it, so
# writing the extra value after the model's keeps it extra on the next read.
READ_TAGS = _SINGLE_LINE_TAGS | {"AB", "N2", "N1", "KW", "M1"}

# Writing: a fixed slot per tag.  A slot holds the model's values and then
# the record's extra values for the same tag, so that a value which reads
# back into extra is written in the same place again (byte-stable output).
SLOTS = _tags(
    "TY ID TI T1 CT AU A1 A2 ED T2 C3 JF JO JA J1 J2 BT T3 AB N2 AD CY DA Y1 PY DO ET "
    "VL IS CP SV M1 SP EP LA M3 PB SN ST UR DB AN Y2 N1 KW"
)
# Values of these tags keep their line breaks (continuation lines); the reader
# joins the lines of every other known tag with spaces.
_TEXT_TAGS = frozenset({"AB", "N2"})
_KNOWN_TAGS = _SINGLE_LINE_TAGS | {"KW", "N1"}
_VALID_TAG = re.compile(r"[A-Z][A-Z0-9]")


def _one_line(value: str) -> str:
    return " ".join(_NEWLINE.split(value)).strip()


def _text_lines(value: str) -> list[str]:
    """A multi-line value as lines the reader will join back the same way."""
    lines: list[str] = []
    for part in _NEWLINE.split(value):
        part = part.strip().lstrip("\ufeff").strip()
        if not part:
            continue  # a blank line would not survive reading
        if lines and (_TAG_LINE.match(part) or _BARE_ER.match(part)):
            lines[-1] += " " + part  # would be read as a tag of its own
        else:
            lines.append(part)
    return lines


class _Record:
    """A record's lines in the making: values grouped by tag."""

    def __init__(self) -> None:
        self.values: dict[str, list[str]] = {}

    def add(self, tag: str, value: str) -> None:
        if value.strip():
            self.values.setdefault(tag, []).append(value)

    def render(self, extra: dict[str, list[str]]) -> str:
        lines: list[str] = []
        tags = list(SLOTS) + [t for t in extra if t not in SLOTS]
        for tag in tags:
            for value in self.values.get(tag, []):
                lines.extend(_render(tag, value, tag in _TEXT_TAGS))
            for value in extra.get(tag, []):
                lines.extend(_render(tag, value, tag in _TEXT_TAGS or tag not in _KNOWN_TAGS))
        lines.append("ER  - ")
        return "\n".join(lines) + "\n"


def _render(tag: str, value: str, keep_lines: bool) -> list[str]:
    # Mirror the reader: single-line tags are whitespace-collapsed, N1 and KW
    # lines only stripped, text tags keep their lines.
    if keep_lines:
        lines = _text_lines(value)
    elif tag in _SINGLE_LINE_TAGS:
        lines = [_collapsed(value)]
    else:
        lines = [_one_line(value)]
    if not lines or not lines[0]:
        return []
    return [f"{tag}  - {lines[0]}", *lines[1:]]


def record_text(rec: Record, diags: Diagnostics) -> str:
    """One record as :func:`write` writes it ("" for none)."""
    return _write_record(rec, diags)


def write(records: list[Record], options: WriteOptions) -> WriteResult:
    result = WriteResult()
    chunks = [_write_record(rec, result.diagnostics) for rec in records]
    result.text = "\n".join(chunk for chunk in chunks if chunk)
    return result


def ris_type(rec: Record) -> str:
    """The TY a record is written with: its own RIS type when it still fits."""
    spelled = _one_line(rec.source_type)
    if spelled:
        known = RIS_TYPES.get(spelled.upper())
        fits = known == rec.type or (spelled.upper() == "GEN" and rec.type == "article")
        from_ris = rec.extra_format == "ris"
        if (fits and (from_ris or spelled in RIS_TYPES)) or (
            known is None and from_ris and rec.type == "document"
        ):
            return spelled
    if rec.type in ("article", "document") and (rec.arxiv_id or rec.arxiv_primary_class):
        return "GEN"
    return CSL_TO_RIS.get(rec.type, "GEN")


def format_name(name: Name) -> str:
    """``Family, Given, Suffix`` (RIS order); a literal name as it is.

    The result reads back to itself: a comma inside a part (or a literal)
    would re-split the name, so such names are written in the form the
    reader gives them.
    """
    text = _join_name(name)
    for _ in range(3):
        if "," not in text:
            break
        canonical = _join_name(_parse_name(text))
        if canonical == text:
            break
        text = canonical
    return text


def _join_name(name: Name) -> str:
    if name.literal:
        return _collapsed(name.literal)
    family = " ".join(f"{name.particle} {name.family}".split())
    given = " ".join(f"{name.given} {name.dropping_particle}".split())
    suffix = " ".join(name.suffix.split())
    parts = [family]
    if given or suffix:
        parts.append(given)
    if suffix:
        parts.append(suffix)
    return ", ".join(parts)


def arxiv_accession(rec: Record) -> str:
    """``arXiv:2204.12345v2 [cs.CL]``, the form arXiv asks citations to use."""
    text = "arXiv"
    if rec.arxiv_id:
        text += f":{rec.arxiv_id}"
        if rec.arxiv_version:
            text += f"v{rec.arxiv_version}"
    if rec.arxiv_primary_class:
        text += f" [{rec.arxiv_primary_class}]"
    return text


def _write_record(rec: Record, diags: Diagnostics) -> str:
    ty = ris_type(rec)
    out = _Record()
    out.add("TY", ty)
    out.add("ID", rec.key)
    out.add("TI", to_plain(rec.title))
    for name in rec.authors:
        out.add("AU", format_name(name))
    if rec.authors_truncated:
        out.add("AU", OTHERS)
    for name in rec.editors:
        out.add("A2", format_name(name))
    if rec.editors_truncated:
        out.add("A2", OTHERS)
    _write_containers(out, rec, ty.upper())
    out.add("AB", to_plain(rec.abstract))
    for affiliation in rec.affiliations:
        out.add("AD", affiliation)
    out.add("CY", to_plain(rec.publisher_place))
    _write_dates(out, rec)
    out.add("DO", rec.doi)
    out.add("ET", to_plain(rec.edition))
    out.add("VL", rec.volume)
    out.add("IS", rec.issue)
    out.add(_series_number_tag(ty.upper()), rec.collection_number)
    _write_pages(out, rec.pages)
    out.add("LA", rec.language)
    out.add("M3", to_plain(rec.genre))
    _write_publisher(out, rec, ty.upper())
    out.add("SN", rec.isbn)
    out.add("SN", rec.issn)
    if ty.upper() in NUMBERED:
        out.add("SN", rec.number)
    out.add("ST", to_plain(rec.short_title))
    _write_urls(out, rec)
    if rec.arxiv_id or rec.arxiv_primary_class:
        out.add("DB", "arXiv")
        out.add("AN", arxiv_accession(rec))
    if rec.accessed:
        out.add("Y2", format_date(rec.accessed))
    # One N1 per line: readers agree on repeated tags, not on continuation lines.
    for line in _NEWLINE.split(to_plain(rec.note)):
        out.add("N1", line)
    _write_code_notes(out, rec)
    for keyword in rec.keywords:
        out.add("KW", keyword)
    text = out.render(_extra(rec))
    if text.count("\n") <= 2:
        # A lone TY would read back as nothing (the reader skips such records).
        diags.warn(
            rec.origin_file or "<input>",
            rec.origin_line,
            "record has no fields; not written",
            rec.key,
        )
        return ""
    return text


def _write_containers(out: _Record, rec: Record, ty: str) -> None:
    if ty in BOOKISH:
        out.add("T2", to_plain(rec.collection_title))
        out.add("JF", to_plain(rec.container_title))
        return
    if ty in CONFERENCE and rec.event and rec.container_title:
        out.add("T2", to_plain(rec.event))
        out.add("C3", to_plain(rec.container_title))
    else:
        out.add("T2", to_plain(rec.container_title or rec.event))
    out.add("T3", to_plain(rec.collection_title))


def _write_dates(out: _Record, rec: Record) -> None:
    date = rec.issued
    if date.year is None:
        out.add("DA", date.literal)
        return
    if date.month or date.season.strip():
        out.add("DA", format_date(date))
    out.add("PY", f"{date.year:04d}")


def _write_pages(out: _Record, pages: str) -> None:
    match = _RANGE.match(pages)
    start, _dash, end = pages.partition("-")
    if match:
        out.add("SP", match.group(1))
        out.add("EP", match.group(2))
    elif start.strip() and end.strip():
        out.add("SP", start)
        out.add("EP", end)
    else:
        out.add("SP", pages)


def _write_publisher(out: _Record, rec: Record, ty: str) -> None:
    if ty in INSTITUTIONAL:
        first, second = rec.institution, rec.publisher
    else:
        first, second = rec.publisher, rec.institution
    if first.strip() or second.strip():
        out.add("PB", to_plain(first if first.strip() else second))
    if first.strip() and second.strip():
        out.add("PB", to_plain(second))


def _one_url(url: str) -> str:
    """A URL the reader will not split: percent-encode what would split it."""
    if len(_split_urls(_one_line(url))) <= 1:
        return url
    return re.sub(r"\s|;", lambda m: quote(m.group(0)), _one_line(url))


def _write_urls(out: _Record, rec: Record) -> None:
    url = rec.url
    if not url.strip() and rec.arxiv_id:
        url = f"https://arxiv.org/abs/{rec.arxiv_id}"
    urls = [_one_url(u) for u in [url, *(link.url for link in rec.code_links if link.url != url)]]
    urls = [u for u in urls if u.strip()]
    # The paper's URLs only: a repository goes into a note (_write_code_notes).
    for value in urls:
        if not _is_code_note(value):
            out.add("UR", value)


def _is_code_note(url: str) -> bool:
    """A code link written as ``N1  - Code: URL`` (one that reads back as it was)."""
    return bool(_CODE_URL.match(_collapsed(url))) and bool(_CODE_NOTE.match(f"Code: {url}"))


def _write_code_notes(out: _Record, rec: Record) -> None:
    urls = [_one_url(link.url) for link in rec.code_links]
    if rec.url and rec.url not in (link.url for link in rec.code_links):
        urls.insert(0, _one_url(rec.url))  # a repository as the record's URL
    for url in urls:
        if url.strip() and _is_code_note(url):
            out.add("N1", f"Code: {url}")


def _extra(rec: Record) -> dict[str, list[str]]:
    if rec.extra_format != "ris":
        return {}
    out: dict[str, list[str]] = {}
    for tag, values in rec.extra.items():
        # A stray TY or ER would open or close a record in the middle of this one.
        if not isinstance(tag, str) or not _VALID_TAG.fullmatch(tag) or tag in ("TY", "ER"):
            continue
        items = values if isinstance(values, list) else [values]
        out[tag] = [str(v) for v in items]
    return out
