"""DBLP: computer science's curated bibliography, searched by title or read by key.

Two endpoints (``shared/docs/apis.md`` section 3):

* ``GET {api}/search/publ/api?q=<words>&format=json&h=<hits>&c=0`` answers
  ``result.hits`` with ``@total`` (a string) and, when there are hits,
  ``hit[].info``: ``title`` (ending with a period), ``authors.author`` (one
  object, or a list of them, each ``{"@pid", "text"}``; homonyms carry a
  number, ``Wei Zhang 0002``), ``venue`` (a string or a list), ``volume``,
  ``number``, ``pages``, ``year``, ``type`` (``Conference and Workshop
  Papers``, ``Journal Articles``, ``Informal and Other Publications``...),
  ``key``, ``doi``, ``ee`` (a string or a list), ``url``;
* ``GET {api}/rec/{key}.xml`` answers one record as XML (``<dblp><article
  key=... publtype=...>`` with ``author``, ``title``, ``journal`` or
  ``booktitle``, ``volume``, ``number``, ``pages``, ``year``, ``ee``...), for a
  key another source supplied (Semantic Scholar's ``externalIds.DBLP``), so
  no search is needed.

An arXiv preprint is in DBLP as well, as ``journals/corr/abs-YYMM-NNNNN``
with venue ``CoRR`` and type ``Informal and Other Publications``: a search
for a published paper's title usually finds both (:attr:`DblpHit.is_corr`).

DBLP publishes no rate limit but answers bulk clients with 429 (an HTML
body) and sometimes 500s: 2 s between requests (never less on dblp.org),
retries with backoff honouring ``Retry-After``, 30-day cache.  The XML is
parsed with ``defusedxml`` (no entity declarations, no external entities).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from xml.etree.ElementTree import Element, ParseError

from ..http import HttpClient
from .base import Lookup, SourceClient, as_int

DEFAULT_API = "https://dblp.org"
PUBLIC_HOST = "dblp.org"
DEFAULT_DELAY = 2.0
EXPIRE_AFTER = 30 * 86400.0
MAX_HITS = 30

CONFERENCE = "Conference and Workshop Papers"
JOURNAL = "Journal Articles"
INFORMAL = "Informal and Other Publications"
PART_OF_BOOK = "Parts in Books or Collections"

_HOMONYM = re.compile(r"\s+\d{4}$")
_DOI_LINK = re.compile(r"^https?://(?:dx\.)?doi\.org/(10\.\S+)$", re.IGNORECASE)
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./:-]{2,200}$")
_XML_TYPES = {"inproceedings": CONFERENCE, "incollection": PART_OF_BOOK, "article": JOURNAL}

ProgressFn = Callable[[Sequence[str]], None]  # called with the queries or keys just answered


@dataclass(frozen=True, slots=True)
class DblpHit:
    """One publication as DBLP describes it; author names without homonym numbers."""

    key: str
    title: str  # without DBLP's final period
    authors: tuple[str, ...] = ()
    venue: str = ""
    volume: str = ""
    number: str = ""
    pages: str = ""
    year: int | None = None
    type: str = ""
    doi: str = ""
    ee: tuple[str, ...] = ()
    url: str = ""

    @property
    def is_corr(self) -> bool:
        """The arXiv copy (CoRR), not a publication of its own."""
        return (
            self.key.startswith("journals/corr/")
            or self.venue.lower() == "corr"
            or self.type == INFORMAL
        )


@dataclass(slots=True)
class DblpSearch(Lookup[list[DblpHit]]):
    """A title search: the hits (``value``, also ``hits``) and how many DBLP has in all."""

    total: int = 0

    @property
    def hits(self) -> list[DblpHit]:
        return self.value or []


class DblpRecord(Lookup[DblpHit]):
    """A record by DBLP key: ``value`` (also ``hit``)."""

    __slots__ = ()

    @property
    def hit(self) -> DblpHit | None:
        return self.value


class DblpClient(SourceClient):
    """Searches and record reads through the shared HTTP layer (see the module docstring)."""

    name = "dblp"
    ENV = "BIBTOOLS_DBLP_API"
    DEFAULT_API = DEFAULT_API
    PUBLIC_HOST = PUBLIC_HOST
    DEFAULT_DELAY = DEFAULT_DELAY
    EXPIRE_AFTER = EXPIRE_AFTER

    def __init__(self, http: HttpClient, *, hits: int = MAX_HITS, **kwargs: Any) -> None:
        if not 1 <= hits <= 1000:
            raise ValueError("hits must be 1..1000")
        super().__init__(http, **kwargs)
        self.search_url = f"{self.api_url}/search/publ/api"
        self.hits = hits

    # -- search --------------------------------------------------------------

    def search(
        self, queries: Iterable[str], progress: ProgressFn | None = None
    ) -> dict[str, DblpSearch]:
        """One request per distinct query (DBLP has no batch search)."""
        results: dict[str, DblpSearch] = {}
        for query in dict.fromkeys(queries):
            results[query] = self.search_one(query)
            if progress:
                progress([query])
        return results

    def search_one(self, query: str) -> DblpSearch:
        if not query.strip():
            return DblpSearch("not-found", message="nothing to search for")
        params = {"q": query, "format": "json", "h": self.hits, "c": 0}
        reply = self.fetch(self.search_url, params=params)
        if isinstance(reply, Lookup):
            return DblpSearch(reply.status, message=reply.message)
        if not reply.ok:
            return DblpSearch("failed", message=f"{self.host}: HTTP {reply.status}")
        parsed = parse_search(reply.content)
        if parsed is None:
            self.http.evict(reply)
            return DblpSearch("failed", message=f"{self.host}: the answer is not DBLP's JSON")
        hits, total = parsed
        if not hits:
            return DblpSearch("not-found", total=total, message="DBLP has no such title")
        return DblpSearch("found", hits, total=total)

    # -- records by key ----------------------------------------------------

    def records(
        self, keys: Iterable[str], progress: ProgressFn | None = None
    ) -> dict[str, DblpRecord]:
        """One request per distinct key: ``/rec/{key}.xml``."""
        results: dict[str, DblpRecord] = {}
        for key in dict.fromkeys(keys):
            results[key] = self.record(key)
            if progress:
                progress([key])
        return results

    def record(self, key: str) -> DblpRecord:
        if not _KEY.match(key) or ".." in key:
            return DblpRecord("not-found", message=f"{key!r} is not a DBLP key")
        url = f"{self.api_url}/rec/{quote(key, safe='/')}.xml"
        reply = self.fetch(url)
        if isinstance(reply, Lookup):
            return DblpRecord(reply.status, message=reply.message)
        if reply.status in (404, 410):
            return DblpRecord("not-found", message=f"DBLP has no record {key}")
        if not reply.ok:
            return DblpRecord("failed", message=f"{self.host}: HTTP {reply.status}")
        hit = parse_record_xml(reply.content)
        if hit is None:
            self.http.evict(reply)
            return DblpRecord("failed", message=f"{self.host}: the answer is not a DBLP record")
        return DblpRecord("found", hit)


# --------------------------------------------------------------------------
# Parsing


def parse_search(content: bytes) -> tuple[list[DblpHit], int] | None:
    """(hits, total) from a search answer; None when it is not DBLP's JSON."""
    try:
        doc = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    result = doc.get("result") if isinstance(doc, dict) else None
    if not isinstance(result, dict) or not isinstance(result.get("hits"), dict):
        return None
    hits_node = result["hits"]
    total = _int(hits_node.get("@total")) or 0
    raw = hits_node.get("hit", [])
    raw = [raw] if isinstance(raw, dict) else raw
    hits = []
    for item in raw if isinstance(raw, list) else []:
        info = item.get("info") if isinstance(item, dict) else None
        hit = _hit_from_info(info) if isinstance(info, dict) else None
        if hit is not None:
            hits.append(hit)
    return hits, total


def _hit_from_info(info: Mapping[str, Any]) -> DblpHit | None:
    title = _clean_title(_text(info.get("title")))
    key = _text(info.get("key"))
    if not title or not key:
        return None
    authors_node = info.get("authors")
    raw_authors = authors_node.get("author", []) if isinstance(authors_node, dict) else []
    if not isinstance(raw_authors, list):
        raw_authors = [raw_authors]
    ee = tuple(e for e in (_text(x) for x in _as_list(info.get("ee"))) if e)
    venues = [v for v in (_text(x) for x in _as_list(info.get("venue"))) if v]
    return DblpHit(
        key=key,
        title=title,
        authors=tuple(n for n in (_author(a) for a in raw_authors) if n),
        venue=venues[0] if venues else "",
        volume=_text(info.get("volume")),
        number=_text(info.get("number")),
        pages=_text(info.get("pages")),
        year=_int(info.get("year")),
        type=_text(info.get("type")),
        doi=_text(info.get("doi")) or _doi_from_links(ee),
        ee=ee,
        url=_text(info.get("url")),
    )


def parse_record_xml(content: bytes) -> DblpHit | None:
    """The one publication of a ``/rec/{key}.xml`` answer; None when there is none (or it is unsafe)."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(
            content, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except (DefusedXmlException, ParseError):
        return None
    if root.tag != "dblp" or len(root) == 0:
        return None
    node = root[0]
    key = node.get("key", "")
    title = _clean_title(_element_text(node.find("title")))
    if not key or not title:
        return None
    venue = _element_text(node.find("journal")) or _element_text(node.find("booktitle"))
    kind = _XML_TYPES.get(node.tag, "")
    if node.get("publtype") == "informal" or key.startswith("journals/corr/"):
        kind = INFORMAL
    ee = tuple(t for t in (_element_text(e) for e in node.findall("ee")) if t)
    url = _element_text(node.find("url"))
    return DblpHit(
        key=key,
        title=title,
        authors=tuple(
            n for n in (_strip_homonym(_element_text(a)) for a in node.findall("author")) if n
        ),
        venue=venue,
        volume=_element_text(node.find("volume")),
        number=_element_text(node.find("number")),
        pages=_element_text(node.find("pages")),
        year=_int(_element_text(node.find("year"))),
        type=kind,
        doi=_doi_from_links(ee),
        ee=ee,
        url=f"https://dblp.org/rec/{key}" if url else "",
    )


def _element_text(element: Element | None) -> str:
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def _author(value: Any) -> str:
    if isinstance(value, dict):
        return _strip_homonym(_text(value.get("text")))
    return _strip_homonym(_text(value))


def _strip_homonym(name: str) -> str:
    return _HOMONYM.sub("", name)


def _clean_title(title: str) -> str:
    # DBLP ends every title with a period (kept when the title ends in "?" or "!").
    return title[:-1].rstrip() if title.endswith(".") and not title.endswith("..") else title


def _doi_from_links(links: Iterable[str]) -> str:
    for link in links:
        m = _DOI_LINK.match(link)
        if m:
            return m.group(1)
    return ""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        return str(value)
    return " ".join(value.split()) if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return as_int(_text(value))
