"""A loopback Crossref REST API: single works, batched DOI lookups, bibliographic search, retractions, transform.

:class:`FakeCrossref` (a :class:`fakes.faulty.ScriptedApi`: request log,
faults and gates per path pattern) answers like api.crossref.org (a
leading ``/v1`` is accepted everywhere, as there):

* ``GET|HEAD /works/{doi}``: ``{"status": "ok", "message-type": "work",
  "message": WORK}``; 404 with the plain-text body ``Resource not found.``
  for a DOI it does not have (DataCite DOIs, arXiv's included); a
  field query (``query.author=``...) on this route is the recorded 400
  ``validation-failure``;
* ``GET /works?filter=doi:A,doi:B,...&rows=N``: the batched lookup (a
  repeated ``doi`` filter is an OR), a ``work-list`` of the DOIs it has, in
  catalogue order (match them by ``DOI``, lower-cased); ``rows`` defaults
  to 20, so a batch of 50 without ``rows=50`` loses 30 works, as there;
  a request line over 4096 bytes is a 414;
* ``GET /works?query.bibliographic=...`` (also ``query=`` and the
  deprecated ``query.title=``, which still answered in 2025 recordings;
  ``query.author=`` narrows): a ``work-list`` ranked by an uncalibrated
  relevance ``score`` (the number of query words found in title, family
  names, year and container: like Crossref's, it ranks everything it
  has, so a fabricated title still gets candidates);
* ``select=`` keeps only the named fields (400 for a field Crossref does
  not allow), ``rows`` 0..1000, ``offset``;
* ``GET /works/{doi}/transform/{mime}`` and ``GET /v1/works/{doi}/transform``
  with ``Accept:`` (where doi.org redirects content negotiation):
  Crossref's "CSL-JSON" (Crossref's vocabulary, no ``Content-Type``
  header, as recorded) or its one-line BibTeX (leading space, EN DASH in
  pages).

Works come from two places.  :class:`CrossrefEntry` objects (what the
``published`` tests build) are rendered as before.  A
:class:`fakes.catalogue.Catalogue` gives the scholarly works: answers
recorded for a work are served verbatim, the others are rendered into the
recorded shape of their type (:func:`render_work`), with ``updated-by``
for their updates (retractions, corrections, expressions of concern) and a
notice work (``update-to``) under each notice's DOI.  Crossref has no
recorded retraction (see tests/data/scholarly/README.md): these entries
are the recorded correction entry with its values changed.
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
from urllib.parse import quote, unquote

from anyascii import anyascii

from .catalogue import (
    Catalogue,
    Notice,
    Work,
    date_parts,
    date_stamp,
    fixture_json,
    fixture_text,
    normalize_doi,
)
from .faulty import ScriptedApi, encode_params
from .s2_server import Answer, json_answer

SELECTABLE = frozenset(
    """abstract URL member posted score created degree update-policy short-title license ISSN
    container-title issued update-to issue prefix approved indexed article-number
    clinical-trial-number accepted author group-title DOI is-referenced-by-count updated-by
    event chair standards-body original-title funder translator archive published-print
    alternative-id subject subtitle published-online publisher-location content-domain
    reference title link type publisher volume references-count ISBN issn-type assertion
    deposited page content-created short-container-title relation editor""".split()
)
FILTERS = frozenset({"doi", "type", "from-pub-date", "until-pub-date"})
NOT_FOUND: Answer = (404, {"Content-Type": "text/plain"}, b"Resource not found.")
CSL = "application/vnd.citationstyles.csl+json"
BIBTEX = "application/x-bibtex"

# The recorded work each type is rendered from.
TEMPLATES = {
    "journal-article": "crossref/habanero_work_journal-article_updated-by-correction.json#message",
    "proceedings-article": "crossref/habanero_work_proceedings-article.json#message",
    "book-chapter": "crossref/commonmeta_work_book-chapter.json#message",
    "posted-content": "crossref/commonmeta_work_posted-content_8-orcids_non-ascii.json#message",
    "reference-entry": "crossref/habanero_works_query_rows2.json#message/items/1",
}
CSL_TEMPLATE = "doi/habanero_crossref_transform_csl-json.json"
MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()


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


# --------------------------------------------------------------------------
# Rendering catalogue works in Crossref's recorded shapes


def _authors(people: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for i, p in enumerate(people):
        sequence = "first" if i == 0 else "additional"
        role = [{"role": "author", "vocabulary": "crossref"}]
        if p.family:
            out.append(
                {
                    "given": p.given,
                    "family": p.family,
                    "sequence": sequence,
                    "affiliation": [],
                    "role": role,
                }
            )
        else:
            out.append({"name": p.name, "sequence": sequence, "affiliation": [], "role": role})
    return out


def update_entry(doi: str, u: Any) -> dict[str, Any]:
    """One ``updated-by``/``update-to`` entry, in the shape of the recorded correction."""
    return {
        "DOI": doi,
        "type": u.type,
        "label": u.label,
        "source": u.source,
        "updated": date_stamp(u.date),
    }


def _fill(doc: dict[str, Any], w: Work, *, csl: bool = False) -> dict[str, Any]:
    """Put ``w``'s values into a recorded Crossref work (or Crossref CSL) ``doc``."""
    title = w.crossref_title if w.crossref_title is not None else w.title
    authors = w.crossref_authors if w.crossref_authors is not None else w.authors
    doc["DOI"] = w.doi
    doc["URL"] = f"http://dx.doi.org/{w.doi}" if csl else f"https://doi.org/{w.doi}"
    doc["prefix"] = w.doi.split("/")[0]
    doc["type"] = w.type
    doc["publisher"] = w.publisher or doc.get("publisher", "")
    if title is None:
        doc.pop("title", None)
    else:
        doc["title"] = title if csl else [title]
    doc["subtitle"] = [w.subtitle] if w.subtitle else []
    if authors:
        doc["author"] = _authors(authors)
    else:
        doc.pop("author", None)
    for gone in ("editor", "update-policy", "abstract", "alternative-id", "accepted", "posted"):
        doc.pop(gone, None)
    if csl:
        doc["container-title"] = w.container
        doc.pop("container-title-short", None)
        if w.short_container:
            doc["container-title-short"] = w.short_container
    else:
        doc["container-title"] = [w.container] if w.container else []
        doc["short-container-title"] = [w.short_container] if w.short_container else []
    for name, value in (("volume", w.volume), ("issue", w.issue), ("page", w.page)):
        if value:
            doc[name] = value
        else:
            doc.pop(name, None)
    issued = list(w.issued) if w.issued else [None]
    doc["issued"] = date_parts(issued)
    doc["published"] = date_parts(issued)
    for name, value in (("published-print", w.print_date), ("published-online", w.online_date)):
        if value:
            doc[name] = date_parts(value)
        else:
            doc.pop(name, None)
    if not w.print_date and not w.online_date and w.issued:
        doc["published-print" if w.type != "posted-content" else "published-online"] = date_parts(
            issued
        )
    if w.type == "posted-content":
        doc["posted"] = date_parts(issued)
    if "journal-issue" in doc or w.issue:
        if w.issue:
            doc["journal-issue"] = {"issue": w.issue, "published-print": date_parts(issued)}
        else:
            doc.pop("journal-issue", None)
    if w.issn:
        doc["ISSN"] = list(w.issn)
        doc["issn-type"] = [
            {"value": v, "type": "print" if i == 0 and len(w.issn) > 1 else "electronic"}
            for i, v in enumerate(w.issn)
        ]
    else:
        doc.pop("ISSN", None)
        doc.pop("issn-type", None)
    if w.isbn and w.type in ("book-chapter", "reference-entry"):
        doc["ISBN"] = [i for i in w.isbn if len(i) == 13]
    if "event" in doc:
        doc["event"] = {"name": w.container}
    for name in ("reference",):
        doc[name] = []
    doc["reference-count"] = 0
    doc["references-count"] = 0
    doc["is-referenced-by-count"] = 0
    doc["link"] = []
    doc.pop("license", None)
    doc["resource"] = {"primary": {"URL": f"https://doi.org/{w.doi}"}}
    if w.updates:
        doc["updated-by"] = [update_entry(u.doi, u) for u in w.updates]
    else:
        doc.pop("updated-by", None)
    relation: dict[str, Any] = {}
    if w.arxiv:
        relation["has-preprint"] = [
            {"id-type": "arxiv", "id": w.arxiv.id, "asserted-by": "subject"}
        ]
    doc["relation"] = relation
    doc["score"] = 1
    return doc


def render_work(w: Work) -> dict[str, Any]:
    """The ``message`` of ``GET /works/{doi}`` for ``w``: recorded, else rendered."""
    if "crossref" in w.recorded:
        doc = fixture_json(w.recorded["crossref"])
        return doc["message"] if "message" in doc and "DOI" not in doc else doc
    template = TEMPLATES.get(w.type, TEMPLATES["journal-article"])
    return _fill(fixture_json(template), w)


def notice_work(n: Notice) -> Work:
    """The notice as a work of its own (title "Retraction: ...", no authors, the update's date)."""
    original = n.work
    return Work(
        id=f"notice:{n.doi}",
        type="journal-article",
        title=f"{n.label}: {original.title}",
        authors=[],
        issued=n.date,
        sources=frozenset({"crossref"}),
        container=original.container,
        volume=original.volume,
        publisher=original.publisher,
        issn=original.issn,
        doi=n.doi,
    )


def render_notice(n: Notice) -> dict[str, Any]:
    """The work Crossref keeps for an update notice: ``update-to`` the updated work."""
    doc = _fill(fixture_json(TEMPLATES["journal-article"]), notice_work(n))
    doc["update-to"] = [update_entry(n.work.doi, u) for u in n.updates]
    return doc


def render_csl(w: Work) -> dict[str, Any]:
    """What ``/transform`` gives for Accept ``application/vnd.citationstyles.csl+json``."""
    if "csl" in w.recorded:
        return fixture_json(w.recorded["csl"])
    return _fill(fixture_json(CSL_TEMPLATE), w, csl=True)


def render_bibtex(w: Work) -> str:
    """What ``/transform`` gives for Accept ``application/x-bibtex``: one line, as recorded."""
    if "bibtex" in w.recorded:
        return fixture_text(w.recorded["bibtex"])
    kind = {
        "journal-article": ("article", "journal"),
        "proceedings-article": ("inproceedings", "booktitle"),
        "book-chapter": ("inbook", "booktitle"),
    }.get(w.type, ("misc", "journal"))
    authors = w.crossref_authors if w.crossref_authors is not None else w.authors
    first = authors[0].last if authors else ""
    key = f"{anyascii(first).replace(' ', '_')}_{w.year}" if first else str(w.year)
    title = w.crossref_title if w.crossref_title is not None else w.title
    if title and w.subtitle:
        title = f"{title}: {w.subtitle}"
    fields: list[tuple[str, str]] = []
    if title:
        fields.append(("title", f"{{{title}}}"))
    if w.volume:
        fields.append(("volume", f"{{{w.volume}}}"))
    if w.issn:
        fields.append(("ISSN", f"{{{w.issn[-1]}}}"))
    fields.append(("url", f"{{http://dx.doi.org/{w.doi}}}"))
    fields.append(("DOI", f"{{{w.doi}}}"))
    if w.issue:
        fields.append(("number", f"{{{w.issue}}}"))
    if w.container:
        fields.append((kind[1], f"{{{w.container}}}"))
    if w.publisher:
        fields.append(("publisher", f"{{{w.publisher}}}"))
    if authors:
        names = " and ".join(f"{p.family}, {p.given}" if p.family else p.name for p in authors)
        fields.append(("author", f"{{{names}}}"))
    if w.year:
        fields.append(("year", f"{{{w.year}}}"))
    if len(w.issued) > 1:
        fields.append(("month", MONTHS[w.issued[1] - 1]))
    if w.page:
        fields.append(("pages", "{" + w.page.replace("-", "\u2013") + "}"))
    body = ", ".join(f"{k}={v}" for k, v in fields)
    return f" @{kind[0]}{{{key}, {body} }}\n"


# --------------------------------------------------------------------------
# The server


class FakeCrossref(ScriptedApi):
    """``with FakeCrossref(entries, catalogue=...) as cr: ... cr.url ... cr.batches``."""

    address = "127.0.0.3"

    def __init__(
        self, entries: Iterable[CrossrefEntry] = (), *, catalogue: Catalogue | None = None
    ) -> None:
        super().__init__()
        self.entries = list(entries)
        self.catalogue = catalogue

    @property
    def url(self) -> str:
        return self.base

    @property
    def queries(self) -> int:
        """List requests (``GET /works?...``): searches and batches."""
        return sum(1 for r in self.log if _route(r.path) == "/works")

    @property
    def lookups(self) -> int:
        """Single-work requests (``GET /works/{doi}``, transforms included)."""
        return sum(1 for r in self.log if _route(r.path).startswith("/works/"))

    @property
    def batches(self) -> int:
        """List requests with a ``doi`` filter."""
        return sum(
            1
            for r in self.log
            if _route(r.path) == "/works" and any("doi:" in v for v in r.params.get("filter", []))
        )

    @property
    def searches(self) -> int:
        """List requests with a query (``query``, ``query.bibliographic``...)."""
        return sum(
            1
            for r in self.log
            if _route(r.path) == "/works" and any(k.startswith("query") for k in r.params)
        )

    def dois_asked(self) -> list[list[str]]:
        """The DOIs of each batched lookup, in request order."""
        out = []
        for r in self.log:
            if _route(r.path) != "/works":
                continue
            dois = [d for f in r.params.get("filter", []) for d in _filter_values(f, "doi")]
            if dois:
                out.append(dois)
        return out

    # -- lookups -------------------------------------------------------------

    def _entry(self, doi: str) -> dict[str, Any] | None:
        key = normalize_doi(doi)
        for e in self.entries:
            if e.doi.lower() == key:
                return e.work()
        if self.catalogue is not None:
            w = self.catalogue.by_doi(key)
            if w is not None and w.knows("crossref") and w.doi.lower() == key:
                return render_work(w)
            n = self.catalogue.notice(key)
            if n is not None and n.work.knows("crossref"):
                return render_notice(n)
        return None

    def _work(self, doi: str) -> Work | None:
        """The catalogue work (or update notice) Crossref has under this DOI."""
        if self.catalogue is None:
            return None
        w = self.catalogue.by_doi(doi)
        if w is not None and w.knows("crossref") and w.doi.lower() == doi:
            return w
        n = self.catalogue.notice(doi)
        return notice_work(n) if n is not None and n.work.knows("crossref") else None

    def route(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        if method not in ("GET", "HEAD"):
            return 405, {"Content-Type": "text/plain"}, b"Method not allowed."
        if len(path) + len(encode_params(params)) > 4096:
            return (
                414,
                {"Content-Type": "text/html"},
                b"<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>",
            )
        where = _route(path)
        if where == "/works":
            return self._list(params)
        m = re.fullmatch(r"/works/(.+?)/transform(?:/(.+))?", unquote(where))
        if m:
            accept = m.group(2) or next(
                (v for k, v in headers.items() if k.lower() == "accept"), ""
            )
            return self._transform(normalize_doi(m.group(1)), accept)
        if where.startswith("/works/"):
            if any(k.startswith("query") for k in params):
                return (
                    400,
                    {"Content-Type": "application/json;charset=utf-8"},
                    fixture_text("crossref/habanero_works_400_validation-failure.json").encode(),
                )
            work = self._entry(unquote(where[len("/works/") :]))
            if work is None:
                return NOT_FOUND
            return json_answer(
                200,
                {
                    "status": "ok",
                    "message-type": "work",
                    "message-version": "1.0.0",
                    "message": {**work, "score": 1},
                },
            )
        return NOT_FOUND

    def _transform(self, doi: str, accept: str) -> Answer:
        w = self._work(doi)
        if w is None:
            return 404, {"Content-Type": "text/plain;charset=utf-8"}, b"Resource not found."
        if CSL in accept:
            csl = render_csl(w)
            n = self.catalogue.notice(doi) if self.catalogue is not None else None
            if n is not None:
                csl["update-to"] = [update_entry(n.work.doi, u) for u in n.updates]
            # Recorded: Crossref sends this one without a Content-Type header.
            return 200, {}, json.dumps(csl, ensure_ascii=False).encode()
        if BIBTEX in accept:
            return 200, {"Content-Type": BIBTEX}, render_bibtex(w).encode()
        return 406, {"Content-Type": "text/plain"}, f"fake: no transform for {accept!r}".encode()

    # -- lists ---------------------------------------------------------------

    def _list(self, params: dict[str, list[str]]) -> Answer:
        def one(name: str, default: str) -> str:
            return (params.get(name) or [default])[0]

        select = [s for s in one("select", "").split(",") if s]
        bad = [s for s in select if s not in SELECTABLE]
        if bad:
            return _validation(
                "parameter-not-allowed", bad[0], f"Field {bad[0]} is not a selectable field"
            )
        try:
            rows = int(one("rows", "20"))
            offset = int(one("offset", "0"))
        except ValueError:
            rows = offset = -1
        if not 0 <= rows <= 1000 or offset < 0:
            return json_answer(
                400,
                {"status": "failed", "message-type": "validation-failure", "message": []},
            )
        dois: list[str] = []
        for f in params.get("filter", []):
            for name, value in _filters(f):
                if name not in FILTERS:
                    return _validation(
                        "filter-not-available",
                        name,
                        f"Filter {name} specified but there is no such filter for this route."
                        f" Valid filters for this route are: {', '.join(sorted(FILTERS))}",
                    )
                if name == "doi":
                    dois.append(normalize_doi(value))
        text = " ".join(
            params.get("query.bibliographic", [])
            + params.get("query", [])
            + params.get("query.title", [])
        )
        author = " ".join(params.get("query.author", []))
        candidates = self._candidates(dois, text, author, params)
        page = candidates[offset : offset + rows]
        items = []
        for score, work in page:
            work = {**work, "score": score}
            items.append({k: v for k, v in work.items() if not select or k in select})
        terms = one("query", "") or None
        doc = {
            "status": "ok",
            "message-type": "work-list",
            "message-version": "1.0.0",
            "message": {
                "facets": {},
                "total-results": len(candidates),
                "items": items,
                "items-per-page": rows,
                "query": {"start-index": offset, "search-terms": terms},
            },
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(doc).encode()

    def _candidates(
        self, dois: list[str], text: str, author: str, params: dict[str, list[str]]
    ) -> list[tuple[float, dict[str, Any]]]:
        types = {v for f in params.get("filter", []) for v in _filter_values(f, "type")}
        since = [v for f in params.get("filter", []) for v in _filter_values(f, "from-pub-date")]
        until = [v for f in params.get("filter", []) for v in _filter_values(f, "until-pub-date")]

        def keep(year: int | None, kind: str) -> bool:
            if types and kind not in types:
                return False
            if since and (year is None or year < int(since[0][:4])):
                return False
            return not (until and (year is None or year > int(until[0][:4])))

        scored: list[tuple[float, int, dict[str, Any]]] = []
        wanted = set(dois)
        order = 0
        # The test-built entries, scored as they always were.
        words = set(_words(text))
        for e in self.entries:
            order += 1
            if wanted and e.doi.lower() not in wanted:
                continue
            if not keep(e.year, e.type):
                continue
            if author and not any(
                set(_words(author)) & set(_words(a if isinstance(a, str) else a[1]))
                for a in e.authors
            ):
                continue
            if text:
                own = set(_words(e.title))
                own |= {w for a in e.authors for w in _words(a if isinstance(a, str) else a[1])}
                score = len(words & own)
                if not score:
                    continue
                scored.append((float(score) * 7.5, order, e.work()))
            elif wanted:
                scored.append((0.0, order, e.work()))
        if self.catalogue is not None:
            pool: list[tuple[float, Work]]
            if text:
                pool = [(s * 7.5, w) for s, w in self.catalogue.search(text, "crossref")]
            else:
                pool = [(0.0, w) for w in self.catalogue.known_to("crossref")]
            for score, w in pool:
                order += 1
                if wanted and w.doi.lower() not in wanted:
                    continue
                if not keep(w.year, w.type):
                    continue
                if author and not any(set(_words(author)) & set(_words(p.last)) for p in w.authors):
                    continue
                scored.append((score, order, render_work(w)))
            if wanted and not text:
                for n in self.catalogue.notices:
                    if n.doi.lower() in wanted and n.work.knows("crossref"):
                        order += 1
                        scored.append((0.0, order, render_notice(n)))
        if text:
            scored.sort(key=lambda s: (-s[0], s[1]))
        return [(s, work) for s, _, work in scored]

    def mailtos(self) -> list[str]:
        """The contact of each request: its ``mailto`` parameter, else the one in its User-Agent."""
        out = []
        for r in self.log:
            agent = next((v for k, v in r.headers.items() if k.lower() == "user-agent"), "")
            m = re.search(r"mailto:([^;)\s]+)", agent)
            out.append((r.params.get("mailto") or [m.group(1) if m else ""])[0])
        return out


def _route(path: str) -> str:
    return path[3:] if path.startswith("/v1/") else path


def _filters(raw: str) -> list[tuple[str, str]]:
    """``doi:10.1/a,doi:10.2/b,type:x`` -> [(doi, 10.1/a), ...]; a comma inside a DOI survives."""
    out = []
    for part in re.split(r",(?=[a-z][a-z.-]*:)", raw):
        name, _, value = part.partition(":")
        out.append((name.strip(), value.strip()))
    return out


def _filter_values(raw: str, name: str) -> list[str]:
    return [v for n, v in _filters(raw) if n == name]


def _validation(kind: str, value: str, message: str) -> Answer:
    return json_answer(
        400,
        {
            "status": "failed",
            "message-type": "validation-failure",
            "message": [{"type": kind, "value": value, "message": message}],
        },
    )


def doi_path(doi: str) -> str:
    """How doi.org writes a DOI into the transform URL it redirects to (``/`` as ``%2F``)."""
    return quote(doi, safe="")


@lru_cache(maxsize=1 << 16)
def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", anyascii(text).lower()))
