"""Crossref: the registry of publisher DOIs, read by DOI or searched by citation text.

Two endpoints (``shared/docs/apis.md`` section 3):

* ``GET {api}/works/{doi}`` answers ``{"status": "ok", "message": WORK}``,
  or 404 (a plain-text body) for a DOI Crossref did not register: arXiv's
  ``10.48550/...`` DOIs are DataCite's, never Crossref's;
* ``GET {api}/works?query.bibliographic=<title and author>&rows=N&select=...``
  answers ``message.items``, best first by a relevance ``score`` that is not
  calibrated (the caller checks titles and authors itself).

A WORK has lists where one expects strings (``title``, ``container-title``:
journal, or series then book; ``short-container-title``), ``author``
(``given``/``family``, or ``name`` for an organisation), dates as
``{"date-parts": [[2021, 8, 26]]}`` under ``published-print``,
``published-online`` and ``issued``, and ``type`` (``journal-article``,
``proceedings-article``, ``book-chapter``, ``posted-content`` for preprints,
...).  Titles may carry JATS/HTML tags (``<i>``, ``<sub>``, MathML), which
are removed.

**Polite pool.**  With a contact address (``BIBTOOLS_CONTACT_EMAIL``) every
request names it in its ``User-Agent`` (``bibtools/X (+URL; mailto:ADDRESS)``,
which Crossref accepts as well as a ``mailto=`` parameter) and is paced
0.34 s apart (3 list queries a second since December 2025); without one,
the public pool's 1 s.  Never less on api.crossref.org; none for a loopback
API.  The header, unlike a ``mailto=`` parameter, leaves the cache key
alone: the HTTP layer keeps an ignored parameter in the key as
``mailto=REDACTED``, so runs with and without an address would not share
their cache.  The address is never stored (the layer redacts
``User-Agent``).  Retries with backoff on 429/5xx, 30-day cache.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..diagnostics import UsageError
from ..http import HttpClient
from .base import Lookup, SourceClient, polite_headers

DEFAULT_API = "https://api.crossref.org"
PUBLIC_HOST = "api.crossref.org"
POLITE_DELAY = 0.34
PUBLIC_DELAY = 1.0
EXPIRE_AFTER = 30 * 86400.0
ROWS = 5
BATCH = 50  # DOIs in one ``filter=doi:...`` request
SELECT = (
    "DOI",
    "title",
    "container-title",
    "short-container-title",
    "type",
    "author",
    "issued",
    "published-print",
    "published-online",
    "page",
    "volume",
    "issue",
    "publisher",
    "score",
)
# What a batched lookup asks for: the search fields plus what verification reads.
BATCH_SELECT = (*SELECT, "subtitle", "updated-by")

_TAG = re.compile(r"<[^>]{0,200}>")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")

ProgressFn = Callable[[Sequence[str]], None]  # called with the DOIs or queries just answered


@dataclass(frozen=True, slots=True)
class CrossrefAuthor:
    given: str = ""
    family: str = ""
    name: str = ""  # an organisation


@dataclass(frozen=True, slots=True)
class CrossrefWork:
    """One work (plain text; tags removed, entities decoded, white space collapsed)."""

    doi: str
    type: str
    title: str
    container_titles: tuple[str, ...] = ()
    short_container_titles: tuple[str, ...] = ()
    authors: tuple[CrossrefAuthor, ...] = ()
    issued: tuple[int, ...] = ()  # (year,), (year, month) or (year, month, day)
    page: str = ""
    volume: str = ""
    issue: str = ""
    publisher: str = ""
    score: float | None = None
    subtitle: str = ""
    # Every year the work is dated by (print, online, issued): an online-first
    # article is cited by either, and neither is wrong.
    years: tuple[int, ...] = ()
    # ``updated-by`` entries of type retraction (publisher's or Retraction Watch's).
    retracted: bool = False


class WorkLookup(Lookup[CrossrefWork]):
    """A work by DOI: ``value`` (also ``work``)."""

    __slots__ = ()

    @property
    def work(self) -> CrossrefWork | None:
        return self.value


class WorkSearch(Lookup[list[CrossrefWork]]):
    """A bibliographic search: the works found, best first (``value``, also ``works``)."""

    __slots__ = ()

    @property
    def works(self) -> list[CrossrefWork]:
        return self.value or []


class CrossrefClient(SourceClient):
    """Lookups and searches through the shared HTTP layer (see the module docstring)."""

    name = "crossref"
    ENV = "BIBTOOLS_CROSSREF_API"
    DEFAULT_API = DEFAULT_API
    PUBLIC_HOST = PUBLIC_HOST
    DEFAULT_DELAY = PUBLIC_DELAY
    EXPIRE_AFTER = EXPIRE_AFTER

    def __init__(
        self, http: HttpClient, *, contact: str | None = None, rows: int = ROWS, **kwargs: Any
    ) -> None:
        if not 1 <= rows <= 1000:
            raise ValueError("rows must be 1..1000")
        self._contact = contact or None
        self.rows = rows
        super().__init__(http, **kwargs)

    def default_delay(self) -> float:
        # The polite pool (a contact address) may be asked three times as often.
        return POLITE_DELAY if self._contact else PUBLIC_DELAY

    @classmethod
    def from_env(
        cls, http: HttpClient, env: Mapping[str, str] | None = None, **kwargs: Any
    ) -> CrossrefClient:
        """``BIBTOOLS_CROSSREF_API`` and ``BIBTOOLS_CONTACT_EMAIL`` from ``env`` (default: os.environ)."""
        env = os.environ if env is None else env
        contact = (env.get("BIBTOOLS_CONTACT_EMAIL") or "").strip() or None
        if contact and not _EMAIL.match(contact):
            raise UsageError("BIBTOOLS_CONTACT_EMAIL must be an email address")
        return cls(http, env=env, contact=contact, **kwargs)

    def __repr__(self) -> str:
        pool = "polite" if self._contact else "public"
        return f"CrossrefClient({self.api_url!r}, {pool} pool)"

    @property
    def polite(self) -> bool:
        return self._contact is not None

    def _headers(self) -> dict[str, str]:
        return polite_headers(self.http.user_agent, self._contact)

    # -- by DOI --------------------------------------------------------------

    def works(
        self, dois: Iterable[str], progress: ProgressFn | None = None
    ) -> dict[str, WorkLookup]:
        """One request per distinct DOI; keyed by the DOIs as given."""
        results: dict[str, WorkLookup] = {}
        for doi in dict.fromkeys(dois):
            results[doi] = self.work(doi)
            if progress:
                progress([doi])
        return results

    def work(self, doi: str) -> WorkLookup:
        doi = doi.strip()
        if not _DOI.match(doi):
            return WorkLookup("not-found", message=f"{doi!r} is not a DOI")
        url = f"{self.api_url}/works/{quote(doi, safe='/:;()')}"
        reply = self.fetch(url, headers=self._headers())
        if isinstance(reply, Lookup):
            return WorkLookup(reply.status, message=reply.message)
        if reply.status in (404, 410):
            return WorkLookup("not-found", message=f"Crossref does not know {doi}")
        if not reply.ok:
            return WorkLookup("failed", message=f"{self.host}: HTTP {reply.status}")
        message = _message(reply.content)
        work = parse_work(message) if isinstance(message, dict) else None
        if work is None:
            self.http.evict(reply)
            return WorkLookup("failed", message=f"{self.host}: the answer is not a work")
        return WorkLookup("found", work)

    def works_batch(
        self, dois: Iterable[str], progress: ProgressFn | None = None
    ) -> dict[str, WorkLookup]:
        """``filter=doi:A,doi:B,...``: one request per :data:`BATCH` DOIs; keyed by the DOIs as given.

        A DOI missing from a good answer is ``not-found`` (Crossref did not
        register it: it may still be DataCite's); a failed request fails its
        whole batch.  A DOI that a filter cannot carry (a comma) is asked alone.
        """
        results: dict[str, WorkLookup] = {}
        wanted: dict[str, str] = {}  # lower-cased -> as given
        for doi in dois:
            bare = doi.strip()
            if not _DOI.match(bare):
                results[doi] = WorkLookup("not-found", message=f"{doi!r} is not a DOI")
            elif "," in bare:
                results[doi] = self.work(bare)
            else:
                wanted.setdefault(bare.lower(), doi)
        keys = sorted(wanted)  # the same set of DOIs is the same request (and cache key)
        for start in range(0, len(keys), BATCH):
            batch = keys[start : start + BATCH]
            for lower, lookup in self._batch(batch).items():
                results[wanted[lower]] = lookup
            if progress:
                progress([wanted[k] for k in batch])
        return results

    def _batch(self, batch: list[str]) -> dict[str, WorkLookup]:
        params = {
            "filter": ",".join(f"doi:{d}" for d in batch),
            "rows": len(batch),
            "select": ",".join(BATCH_SELECT),
        }
        reply = self.fetch(f"{self.api_url}/works", params=params, headers=self._headers())
        if isinstance(reply, Lookup):
            return {d: WorkLookup(reply.status, message=reply.message) for d in batch}
        message = _message(reply.content) if reply.ok else None
        items = message.get("items") if isinstance(message, dict) else None
        if not isinstance(items, list):
            if reply.ok:
                self.http.evict(reply)
            why = f"HTTP {reply.status}" if not reply.ok else "the answer is not a work list"
            return {d: WorkLookup("failed", message=f"{self.host}: {why}") for d in batch}
        found: dict[str, CrossrefWork] = {}
        bare: set[str] = set()  # registered, but no title to read
        for item in items:
            if not isinstance(item, dict):
                continue
            work = parse_work(item)
            if work is not None:
                found.setdefault(work.doi.lower(), work)
            elif isinstance(item.get("DOI"), str):
                bare.add(item["DOI"].strip().lower())
        out: dict[str, WorkLookup] = {}
        for d in batch:
            if d in found:
                out[d] = WorkLookup("found", found[d])
            elif d in bare:
                out[d] = WorkLookup("failed", message=f"Crossref has {d} without a title")
            else:
                out[d] = WorkLookup("not-found", message=f"Crossref does not know {d}")
        return out

    # -- by citation text --------------------------------------------------

    def search(
        self, queries: Iterable[str], progress: ProgressFn | None = None
    ) -> dict[str, WorkSearch]:
        """One ``query.bibliographic`` request per distinct query text."""
        results: dict[str, WorkSearch] = {}
        for query in dict.fromkeys(queries):
            results[query] = self.search_one(query)
            if progress:
                progress([query])
        return results

    def search_one(self, query: str) -> WorkSearch:
        if not query.strip():
            return WorkSearch("not-found", message="nothing to search for")
        params = {"query.bibliographic": query, "rows": self.rows, "select": ",".join(SELECT)}
        reply = self.fetch(f"{self.api_url}/works", params=params, headers=self._headers())
        if isinstance(reply, Lookup):
            return WorkSearch(reply.status, message=reply.message)
        if not reply.ok:
            return WorkSearch("failed", message=f"{self.host}: HTTP {reply.status}")
        message = _message(reply.content)
        items = message.get("items") if isinstance(message, dict) else None
        if not isinstance(items, list):
            self.http.evict(reply)
            return WorkSearch("failed", message=f"{self.host}: the answer is not a work list")
        works = [w for w in (parse_work(i) for i in items if isinstance(i, dict)) if w]
        if not works:
            return WorkSearch("not-found", message="Crossref found nothing")
        return WorkSearch("found", works)


# --------------------------------------------------------------------------
# Parsing


def parse_work(item: Mapping[str, Any]) -> CrossrefWork | None:
    # Not through _str: SICI DOIs hold "<...>", which is no tag ("16:4<385::AID-SIM380>3.0.CO;2-3").
    raw_doi = item.get("DOI")
    doi = " ".join(raw_doi.split()) if isinstance(raw_doi, str) else ""
    titles = _strings(item.get("title"))
    if not doi or not titles:
        return None
    date: tuple[int, ...] = ()
    for name in ("published-print", "issued", "published-online"):
        date = _date_parts(item.get(name))
        if date:
            break
    score = item.get("score")
    years = tuple(
        dict.fromkeys(
            d[0]
            for d in (
                _date_parts(item.get(n))
                for n in ("published-print", "published-online", "issued", "published")
            )
            if d
        )
    )
    retracted = any(
        isinstance(u, dict) and str(u.get("type", "")).lower() == "retraction"
        for u in _list(item.get("updated-by"))
    )
    return CrossrefWork(
        doi=doi,
        type=_str(item.get("type")),
        title=titles[0],
        container_titles=tuple(_strings(item.get("container-title"))),
        short_container_titles=tuple(_strings(item.get("short-container-title"))),
        authors=tuple(a for a in (_author(x) for x in _list(item.get("author"))) if a),
        issued=date,
        page=_str(item.get("page")),
        volume=_str(item.get("volume")),
        issue=_str(item.get("issue")),
        publisher=_str(item.get("publisher")),
        score=float(score)
        if isinstance(score, int | float) and not isinstance(score, bool)
        else None,
        subtitle=next(iter(_strings(item.get("subtitle"))), ""),
        years=years,
        retracted=retracted,
    )


def _message(content: bytes) -> Any:
    try:
        doc = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("status") != "ok":
        return None
    return doc.get("message")


def _author(value: Any) -> CrossrefAuthor | None:
    if not isinstance(value, dict):
        return None
    author = CrossrefAuthor(
        _str(value.get("given")), _str(value.get("family")), _str(value.get("name"))
    )
    return author if (author.family or author.name or author.given) else None


def _date_parts(value: Any) -> tuple[int, ...]:
    parts = value.get("date-parts") if isinstance(value, dict) else None
    first = parts[0] if isinstance(parts, list) and parts else None
    if not isinstance(first, list):
        return ()
    out: list[int] = []
    for p in first[:3]:
        if (
            isinstance(p, bool)
            or not isinstance(p, int | str)
            or not str(p).isascii()
            or not str(p).isdigit()
        ):
            break
        out.append(int(p))
    return tuple(out) if out and 1000 <= out[0] <= 9999 else ()


def _strings(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [s for s in (_str(v) for v in values) if s]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        return ""
    # Tags go without a trace: "H<sub>2</sub>O" is "H2O", "<i>in vivo</i>" is "in vivo".
    text = html.unescape(_TAG.sub("", value)) if "<" in value or "&" in value else value
    return " ".join(text.split())
