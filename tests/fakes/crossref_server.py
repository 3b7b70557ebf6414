"""A loopback Crossref REST API: ``/works/{doi}`` and ``/works?query.bibliographic=``.

:class:`FakeCrossref` (a :class:`fakes.s2_server.LoopbackApi`, with its
request log and faults) answers like api.crossref.org:

* ``GET /works/{doi}``: ``{"status": "ok", "message-type": "work",
  "message": WORK}``; 404 with the plain-text body ``Resource not found.``
  for a DOI it does not have (arXiv's DataCite DOIs included);
* ``GET /works?query.bibliographic=...&rows=N&select=...``: a
  ``work-list`` whose ``items`` are ranked by a relevance ``score``: the
  number of the query's words found in the title and the authors' family
  names (uncalibrated, like Crossref's: a longer title that contains ours
  scores higher).  ``select`` is checked against the fields Crossref
  allows (400 with a ``validation-failure`` otherwise); only the selected
  fields are returned.

A WORK has Crossref's shapes: ``title``/``container-title`` lists,
``author`` with ``given``/``family``/``sequence``/``affiliation`` (or
``name``), dates as ``{"date-parts": [[y, m, d]]}`` (``issued``,
``published-print``, ``published-online``), ``type`` (``journal-article``,
``proceedings-article``, ``book-chapter``, ``posted-content``...).
:meth:`FakeCrossref.mailtos` reads each request's contact (``mailto``
parameter or ``User-Agent``) for polite-pool checks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from anyascii import anyascii

from .s2_server import Answer, LoopbackApi, json_answer

SELECTABLE = frozenset(
    """abstract URL member posted score created degree update-policy short-title license ISSN
    container-title issued update-to issue prefix approved indexed article-number
    clinical-trial-number accepted author group-title DOI is-referenced-by-count updated-by
    event chair standards-body original-title funder translator archive published-print
    alternative-id subject subtitle published-online publisher-location content-domain
    reference title link type publisher volume references-count ISBN issn-type assertion
    deposited page content-created short-container-title relation editor""".split()
)


@dataclass
class CrossrefEntry:
    doi: str
    type: str
    title: str
    authors: Sequence[tuple[str, str] | str]  # (given, family), or an organisation's name
    container: list[str] = field(default_factory=list)
    year: int = 2020
    month: int | None = None
    page: str = ""
    volume: str = ""
    issue: str = ""
    publisher: str = "Example Publisher"
    short_container: list[str] = field(default_factory=list)

    def work(self) -> dict[str, Any]:
        authors: list[dict[str, Any]] = []
        for i, a in enumerate(self.authors):
            sequence = "first" if i == 0 else "additional"
            if isinstance(a, str):
                authors.append({"name": a, "sequence": sequence, "affiliation": []})
            else:
                authors.append(
                    {"given": a[0], "family": a[1], "sequence": sequence, "affiliation": []}
                )
        parts = [self.year] + ([self.month] if self.month else [])
        work: dict[str, Any] = {
            "indexed": {"date-parts": [[2026, 1, 5]], "timestamp": 1767571200000},
            "publisher": self.publisher,
            "DOI": self.doi,
            "type": self.type,
            "title": [self.title],
            "author": authors,
            "container-title": list(self.container),
            "short-container-title": list(self.short_container),
            "issued": {"date-parts": [parts]},
            "published-online": {"date-parts": [parts]},
            "URL": f"https://doi.org/{self.doi}",
        }
        for name, value in (("page", self.page), ("volume", self.volume), ("issue", self.issue)):
            if value:
                work[name] = value
        return work


class FakeCrossref(LoopbackApi):
    """``with FakeCrossref(entries) as cr: ... cr.url ... cr.queries ... cr.lookups``."""

    address = "127.0.0.3"

    def __init__(self, entries: Iterable[CrossrefEntry] = ()) -> None:
        super().__init__()
        self.entries = list(entries)

    @property
    def url(self) -> str:
        return self.base

    @property
    def queries(self) -> int:
        return sum(1 for r in self.log if r.path == "/works")

    @property
    def lookups(self) -> int:
        return sum(1 for r in self.log if r.path.startswith("/works/"))

    def route(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        if method != "GET":
            return 405, {"Content-Type": "text/plain"}, b"Method not allowed."
        if path == "/works":
            return self._query(params)
        if path.startswith("/works/"):
            doi = unquote(path[len("/works/") :]).lower()
            entry = next((e for e in self.entries if e.doi.lower() == doi), None)
            if entry is None:
                return 404, {"Content-Type": "text/plain"}, b"Resource not found."
            return json_answer(
                200,
                {
                    "status": "ok",
                    "message-type": "work",
                    "message-version": "1.0.0",
                    "message": {**entry.work(), "score": 1},
                },
            )
        return 404, {"Content-Type": "text/plain"}, b"Resource not found."

    def _query(self, params: dict[str, list[str]]) -> Answer:
        def one(name: str, default: str) -> str:
            return (params.get(name) or [default])[0]

        select = [s for s in one("select", "").split(",") if s]
        bad = [s for s in select if s not in SELECTABLE]
        if bad:
            return json_answer(
                400,
                {
                    "status": "failed",
                    "message-type": "validation-failure",
                    "message": [
                        {
                            "type": "parameter-not-allowed",
                            "value": bad[0],
                            "message": f"Field {bad[0]} is not a selectable field",
                        }
                    ],
                },
            )
        try:
            rows = int(one("rows", "20"))
        except ValueError:
            rows = -1
        if not 0 <= rows <= 1000:
            return json_answer(
                400,
                {"status": "failed", "message-type": "validation-failure", "message": []},
            )
        words = set(_words(one("query.bibliographic", "")))
        scored = []
        for i, entry in enumerate(self.entries):
            own = set(_words(entry.title))
            own |= {w for a in entry.authors for w in _words(a if isinstance(a, str) else a[1])}
            score = len(words & own)
            if score:
                scored.append((-score, i, entry))
        scored.sort(key=lambda s: (s[0], s[1]))
        items = []
        for neg, _, entry in scored[:rows]:
            work = {**entry.work(), "score": float(-neg) * 7.5}
            items.append({k: v for k, v in work.items() if not select or k in select})
        doc = {
            "status": "ok",
            "message-type": "work-list",
            "message-version": "1.0.0",
            "message": {
                "facets": {},
                "total-results": len(scored),
                "items": items,
                "items-per-page": rows,
                "query": {"start-index": 0, "search-terms": None},
            },
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(doc).encode()

    def mailtos(self) -> list[str]:
        """The contact of each request: its ``mailto`` parameter, else the one in its User-Agent."""
        out = []
        for r in self.log:
            agent = next((v for k, v in r.headers.items() if k.lower() == "user-agent"), "")
            m = re.search(r"mailto:([^;)\s]+)", agent)
            out.append((r.params.get("mailto") or [m.group(1) if m else ""])[0])
        return out


@lru_cache(maxsize=1 << 16)
def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", anyascii(text).lower()))
