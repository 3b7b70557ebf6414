"""The works every scholarly fake serves: one in-memory catalogue, read from ``tests/data/scholarly/works.json``.

A :class:`Work` holds a work's canonical metadata (title, authors as
given/family pairs, issued date, container, volume/issue/pages, DOI and its
registration agency, arXiv id and versions, PMID, ISBNs), the sources that
know it (``crossref``, ``openalex``, ``doi``, ``datacite``, ``arxiv``,
``pubmed``, ``openlibrary``, ``googlebooks``, ``s2``), its updates
(Crossref ``updated-by``: corrections, retractions, expressions of concern)
and, for works whose answers were recorded, the fixture files each source
serves verbatim (``recorded``).  Each fake renders the other works into its
own recorded shape (see the ``render_*`` functions of each fake module).

:class:`Catalogue` indexes the works by DOI (case-insensitive, the DataCite
DOI ``10.48550/arXiv.<id>`` of every arXiv paper included), arXiv id (any
version), PMID and ISBN (10 or 13 digits, hyphens ignored), and ranks them
for title searches.  Tests that need other works load the default catalogue
and add or drop works (:meth:`Catalogue.with_works`, :meth:`Catalogue.without`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .arxiv_server import Paper, words

TESTS = Path(__file__).resolve().parent.parent
WORKS_JSON = TESTS / "data" / "scholarly" / "works.json"
FIXTURES = TESTS / "fixtures"

SOURCES = frozenset(
    "crossref openalex doi datacite arxiv pubmed openlibrary googlebooks s2".split()
)
STOPWORDS = frozenset("a an and are as at by for from in into is of on or the to with via".split())


@dataclass(frozen=True)
class Person:
    given: str = ""
    family: str = ""
    name: str = ""  # an organisation, or a name not split into given/family

    @property
    def display(self) -> str:
        return f"{self.given} {self.family}".strip() or self.name

    @property
    def last(self) -> str:
        return self.family or self.name


@dataclass(frozen=True)
class Update:
    """One Crossref update: ``updated-by`` on the work, ``update-to`` on the notice."""

    doi: str  # the notice
    type: str  # retraction, correction, expression_of_concern, withdrawal
    label: str
    source: str  # publisher, retraction-watch
    date: tuple[int, ...]


@dataclass(frozen=True)
class Notice:
    """A Crossref update notice (a retraction, correction...) for ``work``."""

    doi: str
    work: Work
    updates: tuple[Update, ...]  # the work's updates this notice carries

    @property
    def label(self) -> str:
        return self.updates[0].label

    @property
    def date(self) -> tuple[int, ...]:
        return self.updates[0].date


@dataclass(frozen=True)
class ArxivInfo:
    id: str  # no version
    version: int = 1  # the latest
    published: str = ""  # v1, 2016-05-26T17:59:46Z
    updated: str = ""
    primary: str = "cs.LG"
    categories: tuple[str, ...] = ()
    journal_ref: str = ""
    doi: str = ""  # the published version's, as arXiv knows it
    comment: str = ""

    @property
    def year(self) -> int:
        return int(self.published[:4])


@dataclass
class Work:
    id: str
    type: str  # Crossref's vocabulary: journal-article, proceedings-article, book, dataset...
    title: str | None
    authors: list[Person]
    issued: tuple[int, ...]  # date-parts
    sources: frozenset[str]
    container: str = ""
    short_container: str = ""
    subtitle: str = ""
    volume: str = ""
    issue: str = ""
    page: str = ""
    publisher: str = ""
    issn: tuple[str, ...] = ()
    isbn: tuple[str, ...] = ()
    doi: str = ""
    agency: str = "crossref"
    arxiv: ArxivInfo | None = None
    pmid: str = ""
    print_date: tuple[int, ...] = ()
    online_date: tuple[int, ...] = ()
    updates: tuple[Update, ...] = ()
    openalex_retracted: bool | None = None  # None: retracted if any update is a retraction
    crossref_title: str | None = None  # Crossref's own spelling, when it differs
    crossref_authors: list[Person] | None = None
    edition: str = ""
    version: str = ""
    pages_total: int = 0
    preprint_of: str = ""
    recorded: dict[str, str] = field(default_factory=dict)
    provenance: str = ""
    note: str = ""

    # -- derived -------------------------------------------------------------

    @property
    def year(self) -> int | None:
        return self.issued[0] if self.issued and self.issued[0] else None

    @property
    def arxiv_doi(self) -> str:
        return f"10.48550/arXiv.{self.arxiv.id}" if self.arxiv else ""

    @property
    def crossref_retracted(self) -> bool:
        """Crossref's signal: an ``updated-by`` of type retraction."""
        return any(u.type == "retraction" for u in self.updates)

    @property
    def openalex_is_retracted(self) -> bool:
        """OpenAlex's ``is_retracted`` (it follows Crossref unless the work says otherwise)."""
        if self.openalex_retracted is not None:
            return self.openalex_retracted
        return self.crossref_retracted

    @property
    def retracted(self) -> bool:
        """The ground truth: retracted according to any source."""
        return self.crossref_retracted or self.openalex_is_retracted

    @property
    def first_page(self) -> str:
        return self.page.split("-")[0] if self.page else ""

    @property
    def last_page(self) -> str:
        return self.page.split("-")[-1] if "-" in self.page else ""

    @property
    def numeric_id(self) -> int:
        """A stable number for the ids sources give it (OpenAlex W..., Google volume ids)."""
        return int(hashlib.sha1(self.id.encode()).hexdigest()[:9], 16)

    def knows(self, source: str) -> bool:
        return source in self.sources

    def paper(self) -> Paper:
        """The arXiv fake's entry for this work (its preprint)."""
        assert self.arxiv is not None, self.id
        a = self.arxiv
        return Paper(
            arxiv_id=a.id,
            title=self.title or "",
            authors=[p.display for p in self.authors],
            version=a.version,
            primary=a.primary,
            categories=list(a.categories),
            published=a.published,
            updated=a.updated or a.published,
            comment=a.comment,
            journal_ref=a.journal_ref,
            doi=a.doi,
            abstract=f"The abstract of {self.title}.",
        )


def _people(raw: Iterable[Any]) -> list[Person]:
    out = []
    for p in raw:
        if isinstance(p, dict):
            out.append(Person(name=p["name"]))
        else:
            out.append(Person(given=p[0], family=p[1]))
    return out


def work_from_json(doc: dict[str, Any]) -> Work:
    d = dict(doc)
    arxiv = d.pop("arxiv", None)
    updates = d.pop("updates", [])
    crossref_authors = d.pop("crossref_authors", None)
    w = Work(
        id=d.pop("id"),
        type=d.pop("type"),
        title=d.pop("title"),
        authors=_people(d.pop("authors")),
        issued=tuple(d.pop("issued")),
        sources=frozenset(d.pop("sources")),
        issn=tuple(d.pop("issn", ())),
        isbn=tuple(d.pop("isbn", ())),
        print_date=tuple(d.pop("print", ())),
        online_date=tuple(d.pop("online", ())),
        arxiv=ArxivInfo(**{**arxiv, "categories": tuple(arxiv.get("categories", ()))})
        if arxiv
        else None,
        updates=tuple(Update(**{**u, "date": tuple(u["date"])}) for u in updates),
        crossref_authors=_people(crossref_authors) if crossref_authors is not None else None,
        **d,
    )
    unknown = w.sources - SOURCES
    if unknown:
        raise ValueError(f"{w.id}: unknown sources {sorted(unknown)}")
    return w


# --------------------------------------------------------------------------
# Identifiers


def normalize_doi(raw: str) -> str:
    """``https://doi.org/10.1/X``, ``doi:10.1/X``, ``10.1%2FX`` -> ``10.1/x`` (lower case, for lookups)."""
    s = unquote(raw.strip())
    s = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", s, flags=re.I)
    return s.lower()


def normalize_isbn(raw: str) -> str:
    """ISBN-10 or -13, hyphens and spaces ignored -> ISBN-13 digits ('' if not an ISBN)."""
    s = re.sub(r"[\s-]", "", raw).upper()
    if re.fullmatch(r"\d{9}[\dX]", s):
        core = "978" + s[:9]
        check = (10 - sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(core)) % 10) % 10
        return core + str(check)
    return s if re.fullmatch(r"\d{13}", s) else ""


def split_arxiv(raw: str) -> tuple[str, int | None]:
    """``2304.05376v2`` -> ("2304.05376", 2); ``hep-th/9901001`` -> ("hep-th/9901001", None)."""
    m = re.fullmatch(r"(.*?)(?:v(\d+))?", raw.strip())
    assert m is not None
    return m.group(1), int(m.group(2)) if m.group(2) else None


# --------------------------------------------------------------------------
# The catalogue


class Catalogue:
    """``Catalogue.load()``: the default works; indexes by id kind; title search."""

    def __init__(self, works: Iterable[Work]) -> None:
        self.works: list[Work] = list(works)
        self._by_id = {w.id: w for w in self.works}
        if len(self._by_id) != len(self.works):
            raise ValueError("two works share an id")
        self._by_doi: dict[str, Work] = {}
        self._by_arxiv: dict[str, Work] = {}
        self._by_pmid: dict[str, Work] = {}
        self._by_isbn: dict[str, Work] = {}
        for w in self.works:
            if w.doi:
                self._by_doi.setdefault(w.doi.lower(), w)
            if w.arxiv:
                self._by_arxiv.setdefault(w.arxiv.id.lower(), w)
            if w.pmid:
                self._by_pmid.setdefault(w.pmid, w)
            for isbn in w.isbn:
                self._by_isbn.setdefault(normalize_isbn(isbn), w)
        for w in self.works:  # arXiv's DataCite DOIs, unless a work owns that DOI itself
            if w.arxiv:
                self._by_doi.setdefault(w.arxiv_doi.lower(), w)
        self._notices: dict[str, Notice] = {}
        for w in self.works:
            for u in w.updates:
                key = u.doi.lower()
                if key in self._by_doi or key in self._notices:
                    continue
                self._notices[key] = Notice(
                    u.doi, w, tuple(x for x in w.updates if x.doi.lower() == key)
                )

    @classmethod
    def load(cls, path: Path = WORKS_JSON) -> Catalogue:
        return cls(_load_works(path))

    def with_works(self, *works: Work) -> Catalogue:
        """This catalogue plus ``works`` (a work with an existing id replaces it)."""
        ids = {w.id for w in works}
        return Catalogue([w for w in self.works if w.id not in ids] + list(works))

    def without(self, *ids: str) -> Catalogue:
        missing = set(ids) - set(self._by_id)
        if missing:
            raise KeyError(sorted(missing))
        return Catalogue([w for w in self.works if w.id not in ids])

    def __iter__(self) -> Iterator[Work]:
        return iter(self.works)

    def __len__(self) -> int:
        return len(self.works)

    def __getitem__(self, work_id: str) -> Work:
        return self._by_id[work_id]

    def get(self, work_id: str) -> Work | None:
        return self._by_id.get(work_id)

    def known_to(self, source: str) -> list[Work]:
        return [w for w in self.works if w.knows(source)]

    # -- lookups -------------------------------------------------------------

    def by_doi(self, raw: str) -> Work | None:
        return self._by_doi.get(normalize_doi(raw))

    def notice(self, raw: str) -> Notice | None:
        """The update notice registered under this DOI (Crossref serves notices as works)."""
        return self._notices.get(normalize_doi(raw))

    @property
    def notices(self) -> list[Notice]:
        return list(self._notices.values())

    def by_arxiv(self, raw: str) -> Work | None:
        return self._by_arxiv.get(split_arxiv(raw)[0].lower())

    def by_pmid(self, raw: str) -> Work | None:
        return self._by_pmid.get(raw.strip())

    def by_isbn(self, raw: str) -> Work | None:
        return self._by_isbn.get(normalize_isbn(raw))

    # -- search ----------------------------------------------------------------

    def search(
        self, query: str, source: str, *, require_all: bool = False, authors: bool = True
    ) -> list[tuple[float, Work]]:
        """Works known to ``source`` ranked by the query words they contain (best first).

        ``require_all``: every query word but stopwords must be in the title
        (OpenAlex's ``search``, an AND of stemmed terms); otherwise any
        shared word counts, names, year and container included (Crossref's
        ``query.bibliographic``, which ranks everything it has).
        """
        q = [w for w in words(query) if w]
        if not q:
            return []
        out = []
        for w in self.works:
            if not w.knows(source) or not w.title:
                continue
            title = set(_stems(w.title))
            if require_all:
                needed = {_stem(t) for t in q if t not in STOPWORDS}
                if not needed or not needed <= title:
                    continue
                score = len(needed) + len(title & {_stem(t) for t in q}) / 100
            else:
                own = set(words(w.title))
                if authors:
                    own |= {t for p in w.authors for t in words(p.last)}
                if w.year:
                    own.add(str(w.year))
                own |= set(words(w.container))
                score = float(len(set(q) & own))
            if score > 0:
                out.append((score, w))
        out.sort(key=lambda sw: -sw[0])
        return out


def _stem(token: str) -> str:
    # Crude, like a search engine's: plural and -ing endings do not stop a match.
    for suffix in ("ing", "es", "s"):
        if len(token) > len(suffix) + 3 and token.endswith(suffix):
            return token[: -len(suffix)]
    return token


def _stems(text: str) -> list[str]:
    return [_stem(t) for t in words(text)]


@cache
def _raw_works(path: Path) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(path.read_text(encoding="utf-8"))["works"])


def _load_works(path: Path) -> list[Work]:
    return [work_from_json(copy.deepcopy(d)) for d in _raw_works(path)]


# --------------------------------------------------------------------------
# Recorded answers


@cache
def _fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_text(ref: str) -> str:
    """A fixture file's text (``crossref/x.json``), for the shapes served as text."""
    return _fixture_bytes(ref.partition("#")[0]).decode("utf-8")


def fixture_json(ref: str) -> Any:
    """A recorded JSON answer, or a part of one: ``crossref/x.json#message/items/0`` (a fresh copy)."""
    name, _, pointer = ref.partition("#")
    doc = json.loads(_fixture_bytes(name))
    for part in filter(None, pointer.split("/")):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return copy.deepcopy(doc)


def date_parts(parts: Iterable[int | None]) -> dict[str, Any]:
    return {"date-parts": [list(parts)]}


def date_stamp(parts: Iterable[int]) -> dict[str, Any]:
    """Crossref's full date object: date-parts, date-time and timestamp (ms), as in ``updated``."""
    p = [*list(parts), 1, 1]
    y, m, d = p[0], p[1], p[2]
    moment = datetime(y, m, d, tzinfo=UTC)
    return {
        "date-parts": [[y, m, d]],
        "date-time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timestamp": int(moment.timestamp() * 1000),
    }


def iso_date(parts: Iterable[int]) -> str:
    """``[2015, 5]`` -> ``2015-05-01`` (OpenAlex's publication_date pads what is missing)."""
    p = [*list(parts), 1, 1]
    return f"{p[0]:04d}-{p[1]:02d}-{p[2]:02d}"


def evolve(work: Work, **changes: Any) -> Work:
    """A copy of ``work`` with ``changes`` (for tests that need a variant)."""
    return replace(work, **changes)
