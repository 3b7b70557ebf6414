"""A loopback DBLP: the publication search API (JSON) and single records (XML).

:class:`FakeDblp` (a :class:`fakes.s2_server.LoopbackApi`, with its request
log and faults: 429 with an HTML body, 5xx, a 200 maintenance page)
answers, like dblp.org:

* ``GET /search/publ/api?q=...&format=json&h=&f=&c=``: every word of ``q``
  must begin a word of the title or of an author's name (DBLP's prefix
  search); hits in catalogue order, ``h`` of them from ``f``.  The JSON is
  ``result.hits`` with string counts (``@total``, ``@sent``...) and no
  ``hit`` key when nothing matched; each ``info`` has the title with
  DBLP's final period, ``authors.author`` as one object for a single
  author and a list otherwise (``{"@pid", "text"}``, homonyms numbered
  ``Wei Zhang 0002``), ``venue`` (a list for a few entries), ``ee`` (a
  string, or a list when there are several), ``type``, ``key``, ``doi``,
  ``url``.  Only ``format=json`` is served (400 otherwise);
* ``GET /rec/{key}.xml``: ``<dblp><inproceedings|article key=...>``, with
  ``publtype="informal"`` on CoRR copies; 404 (an HTML page) for an
  unknown key.

:func:`corr_copy` builds the CoRR entry DBLP keeps for every arXiv paper in
computer science (``journals/corr/abs-YYMM-NNNNN``, venue ``CoRR``, type
``Informal and Other Publications``), the duplicate a search for a
published paper's title also finds.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from anyascii import anyascii

from .s2_server import Answer, LoopbackApi

CONFERENCE = "Conference and Workshop Papers"
JOURNAL = "Journal Articles"
INFORMAL = "Informal and Other Publications"


@dataclass
class DblpEntry:
    key: str
    title: str  # without the final period (added when served)
    authors: list[str]
    venue: str | list[str]
    year: int
    type: str = CONFERENCE
    volume: str = ""
    number: str = ""
    pages: str = ""
    doi: str = ""
    ee: list[str] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        authors = [{"@pid": f"{_pid(a)}", "text": a} for a in self.authors]
        info: dict[str, Any] = {
            "authors": {"author": authors[0] if len(authors) == 1 else authors},
            "title": self.title + ".",
            "venue": self.venue,
        }
        for name in ("volume", "number", "pages"):
            if getattr(self, name):
                info[name] = getattr(self, name)
        info["year"] = str(self.year)
        info["type"] = self.type
        info["access"] = "open"
        info["key"] = self.key
        if self.doi:
            info["doi"] = self.doi
        links = self.ee or ([f"https://doi.org/{self.doi}"] if self.doi else [])
        if links:
            info["ee"] = links[0] if len(links) == 1 else links
        info["url"] = f"https://dblp.org/rec/{self.key}"
        return info

    def xml(self) -> str:
        informal = self.type == INFORMAL
        tag = "inproceedings" if self.type == CONFERENCE else "article"
        attrs = f'key={quoteattr(self.key)} mdate="2024-01-01"'
        if informal:
            attrs += ' publtype="informal"'
        lines = ['<?xml version="1.0" encoding="US-ASCII"?>', "<dblp>", f"<{tag} {attrs}>"]
        for a in self.authors:
            lines.append(f'<author pid="{_pid(a)}">{_ascii_xml(a)}</author>')
        lines.append(f"<title>{_ascii_xml(self.title)}.</title>")
        venue = self.venue if isinstance(self.venue, str) else self.venue[0]
        container = "booktitle" if tag == "inproceedings" else "journal"
        for name, value in (
            ("pages", self.pages),
            ("year", str(self.year)),
            ("volume", self.volume),
            ("number", self.number),
            (container, venue),
        ):
            if value:
                lines.append(f"<{name}>{_ascii_xml(value)}</{name}>")
        for link in self.ee or ([f"https://doi.org/{self.doi}"] if self.doi else []):
            lines.append(f"<ee>{escape(link)}</ee>")
        lines.append(f"<url>db/{self.key.rsplit('/', 1)[0]}.html</url>")
        lines.append(f"</{tag}>")
        lines.append("</dblp>")
        return "\n".join(lines) + "\n"


def corr_copy(arxiv_id: str, title: str, authors: list[str], year: int) -> DblpEntry:
    return DblpEntry(
        key=f"journals/corr/abs-{arxiv_id.replace('.', '-')}",
        title=title,
        authors=authors,
        venue="CoRR",
        year=year,
        type=INFORMAL,
        volume=f"abs/{arxiv_id}",
        ee=[f"https://arxiv.org/abs/{arxiv_id}"],
        doi=f"10.48550/ARXIV.{arxiv_id}",
    )


class FakeDblp(LoopbackApi):
    """``with FakeDblp(entries) as dblp: ... dblp.url ... dblp.searches``."""

    address = "127.0.0.2"

    def __init__(self, entries: Iterable[DblpEntry] = ()) -> None:
        super().__init__()
        self.entries = list(entries)

    @property
    def url(self) -> str:
        return self.base

    @property
    def searches(self) -> int:
        return self.count("/search/publ/api")

    @property
    def record_reads(self) -> int:
        return self.count("/rec/")

    def route(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        if method == "GET" and path == "/search/publ/api":
            return self._search(params)
        m = re.fullmatch(r"/rec/(.+)\.xml", path)
        if method == "GET" and m:
            entry = next((e for e in self.entries if e.key == m.group(1)), None)
            if entry is None:
                return 404, {"Content-Type": "text/html"}, b"<html><body>Error 404</body></html>"
            return 200, {"Content-Type": "application/xml"}, entry.xml().encode("ascii")
        return 404, {"Content-Type": "text/html"}, b"<html><body>Error 404</body></html>"

    def _search(self, params: dict[str, list[str]]) -> Answer:
        def one(name: str, default: str) -> str:
            return (params.get(name) or [default])[0]

        if one("format", "xml") != "json":
            return 400, {"Content-Type": "text/plain"}, b"this fake serves format=json only"
        query = one("q", "")
        try:
            h, f = int(one("h", "30")), int(one("f", "0"))
        except ValueError:
            return 400, {"Content-Type": "text/plain"}, b"bad h or f"
        words = _words(query)
        hits = [e for e in self.entries if words and _matches(e, words)]
        page = hits[f : f + min(h, 1000)]
        node: dict[str, Any] = {
            "@total": str(len(hits)),
            "@computed": str(len(hits)),
            "@sent": str(len(page)),
            "@first": str(f),
        }
        if page:
            node["hit"] = [
                {"@score": "7", "@id": str(1000 + i), "info": e.info(), "url": f"URL#{1000 + i}"}
                for i, e in enumerate(page)
            ]
        doc = {
            "result": {
                "query": query,
                "status": {"@code": "200", "text": "OK"},
                "time": {"@unit": "msecs", "text": "1.23"},
                "completions": {"@total": "0", "@computed": "0", "@sent": "0"},
                "hits": node,
            }
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(doc).encode()


def _pid(name: str) -> str:
    crc = zlib.crc32(name.encode())
    return f"{crc % 1000}/{crc % 9973}"


@lru_cache(maxsize=1 << 16)
def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", anyascii(text).lower()))


def _matches(entry: DblpEntry, words: tuple[str, ...]) -> bool:
    own = _searchable(entry.title, tuple(entry.authors))
    return all(f" {w}" in own for w in words)  # every word begins a word of the entry


@lru_cache(maxsize=1 << 16)
def _searchable(title: str, authors: tuple[str, ...]) -> str:
    return " " + " ".join(_words(title) + tuple(w for a in authors for w in _words(a)))


def _ascii_xml(text: str) -> str:
    # dblp.org's record XML is US-ASCII with character references.
    return escape(text).encode("ascii", "xmlcharrefreplace").decode("ascii")
