"""Identifiers, offline: DOIs and arXiv ids as every format and source spells them.

One grammar per identifier, used by the readers, the sources and the
matching rules alike.  Nothing here touches the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from .model import Record

# --------------------------------------------------------------------------
# DOIs

# "doi:", "https://doi.org/", and any resolver or publisher URL whose path is
# the DOI ("http://doi.acm.org/10.1145/...").
_DOI_PREFIX = re.compile(r"^\s*(?:doi:\s*|(?:https?://)?[\w.-]+\.[a-z]{2,}/(?=10\.))", re.I)
DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_ESCAPES = re.compile(r"\\([_%#&~$])")


def clean_doi(doi: str) -> str:
    """The DOI alone: ``https://doi.org/10.1109/CVPR.2016.90`` -> ``10.1109/CVPR.2016.90``.

    Strips ``doi:`` and resolver or publisher URL prefixes and LaTeX escapes
    (``\\_``); the case is kept.  A value that is no DOI comes back stripped only.
    """
    text = _DOI_ESCAPES.sub(r"\1", doi.strip())
    bare = _DOI_PREFIX.sub("", text, count=1).strip()
    return bare if DOI_SHAPE.match(bare) else text


def normalize_doi(doi: str) -> str:
    """:func:`clean_doi`, lower-cased: DOIs are case-insensitive (for comparing only)."""
    return clean_doi(doi).lower()


# --------------------------------------------------------------------------
# arXiv ids (arXiv's own grammar, help/arxiv_identifier)

# New style (0704 on): YYMM.NNNN or, from 1501, YYMM.NNNNN (a month 00 or 13
# is no id: arXiv's regex allows it, arXiv never issued one).  Old style:
# archive(.SUBJECT)/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
ARXIV_NEW = r"\d{2}(?:0[1-9]|1[0-2])\.\d{4,5}"
ARXIV_OLD = r"[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]{2})?/\d{7}"
ARXIV_ID = rf"(?:{ARXIV_NEW}|{ARXIV_OLD})"
_ID = re.compile(rf"(?:arxiv:\s*)?(?P<id>{ARXIV_ID})(?:v(?P<version>\d+))?", re.IGNORECASE)
_ID_IN_TEXT = re.compile(
    rf"(?:arxiv\.org/(?:abs|pdf)/|arxiv:\s*|10\.48550/arxiv\.)(?P<id>{ARXIV_ID})"
    r"(?:v(?P<version>\d+))?(?!\d)",
    re.IGNORECASE,
)
_EPRINT_KEYS = frozenset({"eprint", "arxiv", "arxivid", "arxiv_id", "arxiv-id", "eprintid"})
_URLISH_KEYS = frozenset({"url", "pdf", "link", "howpublished", "archiveurl"})


@dataclass(frozen=True, slots=True)
class ArxivId:
    """``hep-th/9901001`` or ``2204.12345`` (never with a version), and an optional version."""

    id: str
    version: int | None = None

    def __str__(self) -> str:
        return f"{self.id}v{self.version}" if self.version else self.id

    @property
    def doi(self) -> str:
        """The DataCite DOI arXiv registers for every paper."""
        return f"10.48550/arXiv.{self.id}"


def canonical_arxiv(raw: str) -> str:
    # Old-style ids with a subject class are aliases: math.GT/0309136 is math/0309136.
    if "/" in raw:
        archive, number = raw.split("/", 1)
        return f"{archive.split('.', 1)[0].lower()}/{number}"
    return raw


def parse_arxiv(text: str) -> ArxivId | None:
    """An arXiv id from ``2204.12345v2``, ``arXiv:hep-th/9901001``, an arxiv.org URL or an arXiv DOI."""
    text = text.strip()
    m = _ID.fullmatch(text) or _ID_IN_TEXT.search(text)
    if m is None:
        return None
    version = int(m.group("version")) if m.group("version") else None
    return ArxivId(canonical_arxiv(m.group("id")), version)


def split_arxiv(text: str) -> tuple[str, int | None] | None:
    """``(id as written, version)`` when ``text`` is exactly an arXiv id (``arXiv:`` allowed).

    Unlike :func:`parse_arxiv`, no URL or DOI, and the id is not canonicalised
    (``math.GT/0309136`` keeps its subject class): what a reader keeps.
    """
    m = _ID.fullmatch(text.strip())
    if m is None:
        return None
    return m.group("id"), int(m.group("version")) if m.group("version") else None


def find_arxiv(text: str) -> ArxivId | None:
    """An arXiv id mentioned in free text (``arXiv preprint arXiv:2204.12345``), never a bare number."""
    m = _ID_IN_TEXT.search(text)
    if m is None:
        return None
    version = int(m.group("version")) if m.group("version") else None
    return ArxivId(canonical_arxiv(m.group("id")), version)


def arxiv_from_record(record: Record) -> ArxivId | None:
    """Where a record may say which arXiv paper it is, most explicit first.

    The ``arxiv_id`` field (BibTeX ``eprint``), eprint-like fields kept in
    ``extra``, an arXiv DOI, an arxiv.org URL, then ``arXiv:ID`` mentions in
    the journal or note (Google Scholar's ``arXiv preprint arXiv:...``).
    """
    if record.arxiv_id:
        found = parse_arxiv(record.arxiv_id)
        if found:
            return ArxivId(found.id, found.version or record.arxiv_version)
    extra = {str(k).lower(): v for k, v in record.extra.items() if isinstance(v, str)}
    for key in _EPRINT_KEYS & extra.keys():
        found = parse_arxiv(extra[key])
        if found:
            return found
    for text in (record.doi, record.url, *(extra[k] for k in sorted(_URLISH_KEYS & extra.keys()))):
        if text:
            found = find_arxiv(text)
            if found:
                return found
    for text in (record.container_title, record.note, record.publisher):
        if text:
            found = find_arxiv(text)
            if found:
                return found
    return None


def arxiv_key(record: Record) -> str:
    """The record's arXiv id without version, lower case (``1706.03762``), or ``""``."""
    try:
        found = arxiv_from_record(record)
    except (ValueError, TypeError):  # hostile extra values
        return ""
    return found.id.lower() if found is not None else ""


# --------------------------------------------------------------------------
# What users paste: one identifier of any kind (``bibtools add``)

# doi.org and dx.doi.org resolver URLs: the DOI after them may be percent-encoded.
_DOI_RESOLVER = re.compile(r"^(?:https?://)?(?:dx\.)?doi\.org/", re.I)
_DOI_LABEL = re.compile(r"^doi\s*:?\s*(?=10\.)", re.I)
_ARXIV_URL = re.compile(
    rf"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/(?P<id>{ARXIV_ID})"
    r"(?:v(?P<version>\d+))?(?:\.pdf)?/?$",
    re.I,
)
_PMID = re.compile(
    r"^(?:pmid|pubmed)\s*:?\s*(?P<id>\d{1,9})$"
    r"|^(?:https?://)?pubmed\.ncbi\.nlm\.nih\.gov/(?P<url_id>\d{1,9})/?$",
    re.I,
)
_ISBN_LABEL = re.compile(r"^isbn(?:-1[03])?\s*:?\s*", re.I)
_ISBN_CHARS = re.compile(r"^[0-9Xx][0-9Xx \-]{8,20}$")


def parse_doi(text: str) -> str | None:
    """The DOI in a pasted ``10.1145/...``, ``doi:10...``, ``https://doi.org/...`` or
    ``https://dx.doi.org/...`` (percent-encoding undone in URLs), else None.

    The DOI keeps its case and every character it has (old Wiley DOIs have
    ``()<>;:``).
    """
    t = text.strip()
    if _DOI_RESOLVER.match(t):
        t = unquote(_DOI_RESOLVER.sub("", t, count=1))
    else:
        t = _DOI_LABEL.sub("", t, count=1)
    return t if DOI_SHAPE.match(t) else None


def _isbn_digits(text: str) -> str:
    t = _ISBN_LABEL.sub("", text.strip(), count=1)
    if not _ISBN_CHARS.match(t):
        return ""
    return re.sub(r"[ \-]", "", t).upper()


def _isbn10_ok(d: str) -> bool:
    if not re.fullmatch(r"\d{9}[\dX]", d):
        return False
    total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(d))
    return total % 11 == 0


def _isbn13_check(first12: str) -> str:
    total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


def _isbn13_ok(d: str) -> bool:
    return bool(re.fullmatch(r"97[89]\d{10}", d)) and _isbn13_check(d[:12]) == d[12]


def isbn13(text: str) -> str | None:
    """The ISBN-13 of an ISBN-10 or -13 (hyphens, spaces and an ``ISBN`` label allowed)
    whose check digit is right, else None: ``0-201-13447-0`` -> ``9780201134476``."""
    d = _isbn_digits(text)
    if len(d) == 13 and _isbn13_ok(d):
        return d
    if len(d) == 10 and _isbn10_ok(d):
        core = "978" + d[:9]
        return core + _isbn13_check(core)
    return None


def parse_pmid(text: str) -> str | None:
    """The PubMed id of ``PMID:123``, ``pmid: 123`` or a pubmed.ncbi.nlm.nih.gov URL.

    A bare number is not taken for a PMID: it could as well be a mistyped ISBN.
    """
    m = _PMID.match(text.strip())
    if m is None:
        return None
    value = (m.group("id") or m.group("url_id")).lstrip("0")
    return value or None


@dataclass(frozen=True, slots=True)
class Identifier:
    """One pasted identifier, normalised: ``kind`` is doi, arxiv, isbn or pmid.

    ``value``: the DOI as given (case kept), the arXiv id without version,
    the ISBN-13, the PMID digits.
    """

    kind: str
    value: str
    version: int | None = None  # arXiv only

    def __str__(self) -> str:
        if self.kind == "arxiv":
            return f"arXiv:{self.value}" + (f"v{self.version}" if self.version else "")
        prefix = {"doi": "doi:", "isbn": "ISBN ", "pmid": "PMID:"}[self.kind]
        return prefix + self.value

    @property
    def dedupe_key(self) -> str:
        """What makes two identifiers the same work: DOIs ignore case, arXiv versions."""
        value = self.value.lower() if self.kind in ("doi", "arxiv") else self.value
        return f"{self.kind}:{value}"


def parse_identifier(text: str) -> Identifier | None:
    """The identifier ``text`` is in full (not one mentioned in it), or None.

    arXiv's DataCite DOIs (``10.48550/arXiv.ID``) are arXiv ids: arXiv
    describes its papers better than DataCite does.
    """
    t = text.strip()
    if not t:
        return None
    pmid = parse_pmid(t)
    if pmid:
        return Identifier("pmid", pmid)
    m = _ID.fullmatch(t) or _ARXIV_URL.match(t)
    doi = None if m else parse_doi(t)
    if doi is not None:
        m = re.fullmatch(rf"10\.48550/arxiv\.(?P<id>{ARXIV_ID})(?:v(?P<version>\d+))?", doi, re.I)
        if m is None:
            return Identifier("doi", doi)
    if m is not None:
        version = int(m.group("version")) if m.group("version") else None
        return Identifier("arxiv", canonical_arxiv(m.group("id")), version)
    isbn = isbn13(t)
    if isbn:
        return Identifier("isbn", isbn)
    return None


def identifier_problem(text: str) -> str:
    """Why ``text`` is no identifier, in a few words (for a one-line usage error)."""
    t = text.strip()
    d = _isbn_digits(t)
    if len(d) in (10, 13) and re.fullmatch(r"\d+X?", d):
        return "an ISBN with a wrong check digit"
    if re.fullmatch(r"\d{1,9}", t):
        return "a bare number (write PMID:NUMBER for a PubMed id)"
    if re.match(r"^(?:doi:|(?:https?://)?(?:dx\.)?doi\.org/)", t, re.I) or t.startswith("10."):
        return "not a DOI (10.PREFIX/SUFFIX)"
    if "arxiv" in t.lower():
        return "not an arXiv id (YYMM.NNNNN or archive/YYMMNNN)"
    return "not a DOI, arXiv id, ISBN or PMID"
