"""Identifiers, offline: DOIs and arXiv ids as every format and source spells them.

One grammar per identifier, used by the readers, the sources and the
matching rules alike.  Nothing here touches the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
