"""``bibtools add``: new records from identifiers or pasted references, appended to a ``.bib``.

    inputs --parse_inputs--> requests --resolve--> records --keys, dedupe--> entries text

Every source answers CSL-JSON (doi.org, Open Library, Google Books, PubMed),
read by the one CSL-JSON reader; arXiv entries are mapped here (arXiv's Atom
is no CSL).  Nothing here prints or exits: :func:`add` returns one
:class:`Outcome` per input, the new records and the text to append, and
the command decides what to show and which exit status to use.

Rules (issue 16):

* an identifier already in the target file (same DOI, ignoring case; same
  arXiv id in any version, also as arXiv's DataCite DOI; same ISBN; same
  PMID) or given on an earlier line is not added again, and is named;
* a pasted reference is searched with Crossref's bibliographic query; a
  candidate is accepted only when one of its authors' family names occurs
  in the reference (the author guard), and with a confidence of at least
  :data:`MIN_CONFIDENCE`; otherwise the candidates are listed and nothing
  is added for that line;
* a lookup that failed (network, server) makes the whole run add nothing:
  no partial additions;
* keys are unique against the file (case-insensitively, as BibTeX compares
  them) and follow the file's own key style when one is recognisable
  (:func:`detect_key_style`); the dialect follows the file's entries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from anyascii import anyascii

from .diagnostics import UsageError
from .formats import ReadOptions, WriteOptions, csljson
from .formats import bibtex as bibtex_format
from .ids import (
    ArxivId,
    Identifier,
    find_arxiv,
    identifier_problem,
    isbn13,
    normalize_doi,
    parse_arxiv,
    parse_identifier,
)
from .model import Name, PartialDate, Record
from .text.keys import STOPWORDS, base_key, unique_key
from .text.markup import to_plain
from .text.matching import author_overlap, normalize_title, title_distance

if TYPE_CHECKING:
    from .http import HttpClient
    from .sources.arxiv import ArxivEntry
    from .sources.crossref import CrossrefWork

MIN_CONFIDENCE = 0.6
# A line of at least this many words that is no identifier is a pasted reference.
MIN_REFERENCE_WORDS = 4
_DOI_IN_TEXT = re.compile(r"\b10\.\d{4,9}/[^\s\"<>{}]+")
_LIST_MARKER = re.compile(r"^\s*(?:\[\d{1,4}\]|\(\d{1,4}\)|\d{1,4}[.)])\s+")


# --------------------------------------------------------------------------
# Inputs


@dataclass(slots=True)
class Request:
    """One input: an identifier, or a pasted reference (``reference`` set)."""

    text: str  # as given
    where: str  # "argument 2", "<stdin>:5": for messages
    ident: Identifier | None = None
    reference: str = ""  # the reference text without a list marker ("[2] ", "3. ")


def parse_inputs(items: Sequence[tuple[str, str]]) -> list[Request]:
    """Requests from ``(where, text)`` pairs; raise :class:`UsageError` for a malformed id.

    Empty lines and ``#`` comments are skipped.  A text that is no
    identifier but has at least :data:`MIN_REFERENCE_WORDS` words is a
    pasted reference; anything else is a usage error naming the input.
    """
    out: list[Request] = []
    for where, raw in items:
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        ident = parse_identifier(text)
        if ident is not None:
            out.append(Request(text, where, ident))
            continue
        reference = _LIST_MARKER.sub("", text, count=1)
        if len(reference.split()) >= MIN_REFERENCE_WORDS:
            # A reference that names its DOI or arXiv id is looked up by it.
            named = (
                parse_identifier(_doi_in_reference(reference))
                if _DOI_IN_TEXT.search(reference)
                else None
            )
            arxiv = find_arxiv(reference) if named is None else None
            if arxiv is not None:
                named = Identifier("arxiv", arxiv.id, arxiv.version)
            out.append(Request(text, where, named, reference=reference))
            continue
        raise UsageError(f"{where}: {text!r}: {identifier_problem(text)}")
    return out


# --------------------------------------------------------------------------
# Results


@dataclass(slots=True)
class Candidate:
    doi: str
    title: str
    authors: str  # "He, Zhang, Ren, Sun"
    year: int | None
    confidence: float
    guard: bool  # a family name in common with the reference


@dataclass(slots=True)
class Outcome:
    """What became of one request.

    ``status``: added, duplicate, not-found (the service's answer in
    ``message``), unmatched (a pasted reference no candidate passed; see
    ``candidates``), or failed (a network or server failure).
    """

    request: Request
    status: str
    record: Record | None = None
    message: str = ""
    duplicate_of: str = ""
    confidence: float | None = None
    candidates: list[Candidate] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        r = self.request
        return str(r.ident) if r.ident else _short(r.text)


@dataclass(slots=True)
class AddResult:
    outcomes: list[Outcome]
    records: list[Record]  # the new records, in input order (empty after a failure)
    text: str  # the entries to append (or print), "" when none
    dialect: str
    key_style: str

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def problems(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in ("not-found", "unmatched", "failed")]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.status] = out.get(o.status, 0) + 1
        return out


# --------------------------------------------------------------------------
# Sources: one object holding a client per service, built lazily


class Clients:
    """The source clients ``add`` uses, created on first use from ``http`` and ``env``."""

    def __init__(self, http: HttpClient, env: Mapping[str, str]) -> None:
        self.http = http
        self.env = env
        self._made: dict[str, Any] = {}

    def _get(self, name: str, make: Callable[[], Any]) -> Any:
        if name not in self._made:
            self._made[name] = make()
        return self._made[name]

    @property
    def doi(self) -> Any:
        from .sources.doiorg import DoiOrgClient

        return self._get("doi", lambda: DoiOrgClient(self.http, env=self.env))

    @property
    def arxiv(self) -> Any:
        from .sources.arxiv import ArxivClient

        return self._get("arxiv", lambda: ArxivClient.from_env(self.http, self.env))

    @property
    def crossref(self) -> Any:
        from .sources.crossref import CrossrefClient

        return self._get("crossref", lambda: CrossrefClient.from_env(self.http, self.env))

    @property
    def openlibrary(self) -> Any:
        from .sources.openlibrary import OpenLibraryClient

        return self._get("openlibrary", lambda: OpenLibraryClient(self.http, env=self.env))

    @property
    def googlebooks(self) -> Any:
        from .sources.googlebooks import GoogleBooksClient

        return self._get("googlebooks", lambda: GoogleBooksClient(self.http, env=self.env))

    @property
    def pubmed(self) -> Any:
        from .sources.pubmed import PubMedClient

        return self._get("pubmed", lambda: PubMedClient(self.http, env=self.env))

    def check(self, requests: Sequence[Request]) -> None:
        """Build every client the requests need: a bad BIBTOOLS_*_API URL is a usage error now."""
        kinds = {r.ident.kind if r.ident else "reference" for r in requests}
        if kinds & {"doi", "reference", "pmid"}:
            # doi.org sends Crossref DOIs on to Crossref's API: the Crossref
            # client registers that host's pacing (polite pool) before they go.
            _ = (self.doi, self.crossref)
        if "arxiv" in kinds:
            _ = self.arxiv
        if "isbn" in kinds:
            _ = (self.openlibrary, self.googlebooks)
        if "pmid" in kinds:
            _ = self.pubmed


# --------------------------------------------------------------------------
# The target file


@dataclass(slots=True)
class Target:
    """What ``add`` needs to know about the file it appends to."""

    records: list[Record] = field(default_factory=list)
    name: str = ""  # for messages: "thesis.bib"

    @property
    def keys(self) -> set[str]:
        return {r.key.lower() for r in self.records if r.key}


def read_target(text: str, name: str) -> Target:
    """The records of the ``.bib`` text to append to (read, never rewritten)."""
    result = bibtex_format.read(text, ReadOptions(source=name))
    return Target(result.records, name)


def detect_dialect(records: Sequence[Record]) -> str:
    """biblatex when most entries that say so are BibLaTeX entries, else bibtex."""
    dialects = [r.source.dialect for r in records if r.source is not None]
    biblatex = sum(d == "biblatex" for d in dialects)
    return "biblatex" if dialects and biblatex * 2 > len(dialects) else "bibtex"


def identity_keys(record: Record) -> list[str]:
    """What makes ``record`` the same work as another: its DOI, arXiv id, ISBN, PMID."""
    from .ids import arxiv_key

    out: list[str] = []
    if record.doi:
        doi = normalize_doi(record.doi)
        found = parse_arxiv(doi) if doi.startswith("10.48550/arxiv.") else None
        out.append(f"arxiv:{found.id.lower()}" if found else f"doi:{doi}")
    arxiv = arxiv_key(record)
    if arxiv:
        out.append(f"arxiv:{arxiv}")
    if record.isbn:
        for part in re.split(r"[,;\s]+(?=\d)", record.isbn):
            thirteen = isbn13(part)
            if thirteen:
                out.append(f"isbn:{thirteen}")
    extra = {str(k).lower(): v for k, v in record.extra.items() if isinstance(v, str)}
    pmid = extra.get("pmid", "").strip()
    if pmid.isdigit():
        out.append(f"pmid:{pmid.lstrip('0')}")
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------
# Key styles


@dataclass(frozen=True, slots=True)
class KeyStyle:
    """``{family}{sep}{year}{sep}{word}`` with the case of each part; or Better BibTeX's."""

    name: str
    family_case: str = "lower"  # lower | keep
    sep: str = ""
    year_digits: int = 4
    words: int = 1  # title words: 0, 1, or 3 (Better BibTeX: CamelCase, then the year)
    word_case: str = "lower"  # lower | capital
    bbt: bool = False

    def key(self, record: Record) -> str:
        family = _family_token(record, self.family_case == "keep") or "anon"
        year = str(record.issued.year) if record.issued.year is not None else ""
        year = year[-2:] if self.year_digits == 2 else year
        words = [w for w in _title_words(record.title) if w.lower() not in STOPWORDS]
        chosen = words[: self.words]
        if self.word_case == "capital":
            chosen = [w[:1].upper() + w[1:].lower() for w in chosen]
        else:
            chosen = [w.lower() for w in chosen]
        if self.bbt:
            return family + "".join(chosen) + year
        parts = [family, year] + (["".join(chosen)] if chosen else [])
        return self.sep.join(p for p in parts if p)


SCHOLAR = KeyStyle("scholar")
NAMED_STYLES = {
    "scholar": SCHOLAR,  # lecun2015deep (bibtools' own, Google Scholar's)
    "authoryear": KeyStyle("authoryear", family_case="keep", words=0),  # LeCun2015
    "bbt": KeyStyle("bbt", words=3, word_case="capital", bbt=True),  # lecunDeepLearning2015
}


def _candidate_styles() -> list[KeyStyle]:
    styles = list(NAMED_STYLES.values())
    for family_case in ("lower", "keep"):
        for sep in ("", ":", "_", "-"):
            for digits in (4, 2):
                for words, word_case in ((0, "lower"), (1, "lower"), (1, "capital")):
                    style = KeyStyle(
                        f"{{family:{family_case}}}{sep}{{year:{digits}}}"
                        + (f"{sep}{{word:{word_case}}}" if words else ""),
                        family_case,
                        sep,
                        digits,
                        words,
                        word_case,
                    )
                    if style.key(_PROBE) not in {s.key(_PROBE) for s in styles}:
                        styles.append(style)
    return styles


_PROBE = Record(
    title="Probing Keys", authors=[Name(family="McProbe", given="A")], issued=PartialDate(2001)
)


def detect_key_style(records: Sequence[Record]) -> KeyStyle | None:
    """The style most of the file's keys follow (suffix letters allowed), or None."""
    keyed = [r for r in records if r.key and (r.authors or r.editors) and r.issued.year]
    if not keyed:
        return None
    best: tuple[int, KeyStyle] | None = None
    for style in _candidate_styles():
        hits = 0
        for r in keyed:
            key = style.key(r)
            if r.key == key or (r.key[:-1] == key and r.key[-1].isalpha() and r.key[-1].islower()):
                hits += 1
        if hits and (best is None or hits > best[0]):
            best = (hits, style)
    if best is None or best[0] * 2 < len(keyed):
        return None
    return best[1]


def _family_token(record: Record, keep_case: bool) -> str:
    for name in record.authors or record.editors:
        text = name.literal or f"{name.particle}{name.family}" or name.given
        token = re.sub(r"[^A-Za-z0-9]", "", anyascii(to_plain(text)))
        if token:
            return token if keep_case else token.lower()
    return ""


def _title_words(title: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9]+", anyascii(to_plain(title)))


# --------------------------------------------------------------------------
# From source answers to records

# Crossref's work types (which its CSL transform keeps) -> CSL types.
_CROSSREF_TYPES = {
    "journal-article": "article-journal",
    "proceedings-article": "paper-conference",
    "book-chapter": "chapter",
    "book-section": "chapter",
    "book-part": "chapter",
    "posted-content": "article",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "book-set": "book",
    "book-series": "book",
    "reference-entry": "entry-encyclopedia",
    "dissertation": "thesis",
    "report-component": "report",
    "peer-review": "review",
    "component": "document",
    "other": "document",
}
# The CSL variables a new entry takes from a source; the rest (references,
# abstracts with JATS tags, licences, funders...) stay out of a thesis .bib.
_KEEP = (
    "type",
    "title",
    "author",
    "editor",
    "issued",
    "container-title",
    "collection-title",
    "collection-number",
    "volume",
    "issue",
    "page",
    "number",
    "publisher",
    "publisher-place",
    "edition",
    "event-title",
    "genre",
    "DOI",
    "ISBN",
    "URL",
    "version",
)
_NAME_KEYS = ("family", "given", "literal", "suffix", "non-dropping-particle", "dropping-particle")
_DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/", re.I)


def clean_csl(item: Mapping[str, Any], asked_doi: str = "") -> dict[str, Any]:
    """The CSL item a new entry is read from: kept variables, CSL types, first of lists."""
    out: dict[str, Any] = {}
    for var in _KEEP:
        value = item.get(var)
        if value in (None, "", [], {}):
            continue
        if var in ("author", "editor"):
            names = [_clean_name(n) for n in value] if isinstance(value, list) else []
            value = [n for n in names if n]
            if not value:
                continue
        elif var == "title" and isinstance(value, list):
            value = next((v for v in value if isinstance(v, str) and v.strip()), "")
        elif var == "container-title" and isinstance(value, list):
            titles = [v for v in value if isinstance(v, str) and v.strip()]
            if len(titles) > 1 and "collection-title" not in item:
                out["collection-title"] = titles[0]  # Crossref: series, then book
            value = titles[-1] if titles else ""
        elif var == "ISBN" and isinstance(value, list):
            value = next((v for v in value if isinstance(v, str)), "")
        elif var == "type" and isinstance(value, str):
            value = _CROSSREF_TYPES.get(value, value)
        elif var == "URL" and isinstance(value, str) and _DOI_URL.match(value):
            continue  # the DOI says it
        if value not in (None, "", [], {}):
            out[var] = value
    doi = out.get("DOI")
    if isinstance(doi, str) and asked_doi and doi.lower() == asked_doi.lower() and doi.isupper():
        out["DOI"] = asked_doi  # DataCite upper-cases every DOI; the case as asked reads better
    return out


def _clean_name(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    name = {k: value[k] for k in _NAME_KEYS if isinstance(value.get(k), str) and value[k].strip()}
    if not name and isinstance(value.get("name"), str) and value["name"].strip():
        name = {"literal": value["name"]}  # Crossref's organisations
    return name or None


def record_from_csl(item: Mapping[str, Any], where: str, asked_doi: str = "") -> Record | None:
    """One record from a source's CSL-JSON item, through the CSL-JSON reader."""
    cleaned = clean_csl(item, asked_doi)
    pmid = item.get("PMID")
    result = csljson.read(json.dumps([cleaned], ensure_ascii=False), ReadOptions(source=where))
    if not result.records:
        return None
    rec = result.records[0]
    rec.key = ""
    rec.extra, rec.extra_format = {}, "bibtex"
    if isinstance(pmid, str) and pmid.isdigit():
        rec.extra["pmid"] = pmid
    return rec


def record_from_arxiv(entry: ArxivEntry) -> Record:
    """A preprint record from arXiv's description: v1's date, the published DOI when arXiv has it."""
    from .enrich import arxiv_name

    return Record(
        type="article",
        title=entry.title_markup,
        authors=[arxiv_name(a.name) for a in entry.authors],
        issued=entry.published_date(),
        doi=entry.doi,
        arxiv_id=entry.arxiv_id,
        arxiv_primary_class=entry.primary_category,
        journal_ref=entry.journal_ref,
    )


# --------------------------------------------------------------------------
# Pasted references


def _folded_words(text: str) -> list[str]:
    return normalize_title(text).split()


def judge(reference: str, work: CrossrefWork) -> Candidate:
    """How well a Crossref work fits a pasted reference.

    Confidence: half for the title (its words in order in the reference; a
    share of them otherwise), 0.3 for the share of the work's family names
    the reference names, 0.2 for the year.  ``guard``: at least one family
    name in common.
    """
    words = _folded_words(reference)
    text = f" {' '.join(words)} "
    wordset = set(words)
    title = normalize_title(work.title)
    if title and f" {title} " in text:
        title_score = 1.0
    else:
        tokens = title.split()
        title_score = 0.8 * sum(t in wordset for t in tokens) / len(tokens) if tokens else 0.0
    families = [_folded_words(a.family or a.name) for a in work.authors]
    families = [f for f in families if f]
    shared = sum(all(t in wordset for t in f) for f in families)
    year = work.issued[0] if work.issued else None
    year_score = 1.0 if year is not None and str(year) in wordset else 0.0
    author_score = shared / len(families) if families else 0.0
    confidence = round(0.5 * title_score + 0.3 * author_score + 0.2 * year_score, 2)
    return Candidate(
        doi=work.doi,
        title=work.title,
        authors=", ".join(a.family or a.name for a in work.authors[:4])
        + (", ..." if len(work.authors) > 4 else ""),
        year=year,
        confidence=confidence,
        guard=shared > 0,
    )


def _doi_in_reference(reference: str) -> str:
    m = _DOI_IN_TEXT.search(reference)
    return m.group(0).rstrip(".,;:)]") if m else ""


# --------------------------------------------------------------------------
# The pipeline


def add(
    requests: Sequence[Request],
    clients: Clients,
    target: Target | None = None,
    *,
    dialect: str | None = None,
    key_style: str = "auto",
    ascii_only: bool = False,
) -> AddResult:
    """Resolve ``requests``, refuse duplicates, key and write the new entries.

    ``target``: the file appended to (None: entries for stdout, keys unique
    among themselves).  ``dialect`` None follows the file (bibtex without
    one).  ``key_style``: auto (the file's, else scholar) or a name of
    :data:`NAMED_STYLES`.
    """
    target = target or Target()
    clients.check(requests)
    outcomes = [Outcome(r, "pending") for r in requests]
    seen: dict[str, str] = {}  # identity key -> where it is already ("thesis.bib:KEY", "line 6")
    for rec in target.records:
        for k in identity_keys(rec):
            seen.setdefault(k, f"{target.name}:{rec.key}" if target.name else rec.key)

    # 1. Identifiers the file or an earlier input has: no request needed.
    for o in outcomes:
        ident = o.request.ident
        if ident is None:
            continue
        if ident.dedupe_key in seen:
            o.status, o.duplicate_of = "duplicate", seen[ident.dedupe_key]
        else:
            seen[ident.dedupe_key] = o.request.where

    # 2. Pasted references: Crossref's bibliographic query, under the author guard.
    refs = [
        (i, o)
        for i, o in enumerate(outcomes)
        if o.status == "pending" and o.request.reference and o.request.ident is None
    ]
    doi_of: dict[int, str] = {}
    queries = [o.request.reference for _, o in refs]
    searches = clients.crossref.search(queries) if queries else {}
    for i, o in refs:
        search = searches[o.request.reference]
        if search.status in ("failed", "offline"):
            o.status, o.message = "failed", f"Crossref: {search.message}"
            continue
        candidates = sorted(
            (judge(o.request.reference, w) for w in search.works),
            key=lambda c: (c.guard, c.confidence),
            reverse=True,
        )
        best = candidates[0] if candidates else None
        if best is not None and best.guard and best.confidence >= MIN_CONFIDENCE:
            doi_of[i], o.confidence = best.doi, best.confidence
        else:
            o.status, o.candidates = "unmatched", candidates[:5]
            o.message = (
                "no Crossref candidate shares a family name with the reference"
                if not any(c.guard for c in candidates)
                else f"the best candidate's confidence is below {MIN_CONFIDENCE}"
            )
            if not candidates:
                o.message = f"Crossref found nothing ({search.message})"

    # 3. Lookups, one batch per service.
    pending = [(i, o) for i, o in enumerate(outcomes) if o.status == "pending"]
    for i, o in pending:
        if o.request.ident is not None and o.request.ident.kind == "doi":
            doi_of[i] = o.request.ident.value
    by_doi = clients.doi.lookup(dict.fromkeys(doi_of.values())) if doi_of else {}
    arxiv_ids = [
        ArxivId(o.request.ident.value)
        for _, o in pending
        if o.request.ident and o.request.ident.kind == "arxiv"
    ]
    by_arxiv = clients.arxiv.lookup_ids(arxiv_ids) if arxiv_ids else {}
    isbns = [
        o.request.ident.value
        for _, o in pending
        if o.request.ident and o.request.ident.kind == "isbn"
    ]
    by_isbn = _books(clients, isbns) if isbns else {}
    pmids = [
        o.request.ident.value
        for _, o in pending
        if o.request.ident and o.request.ident.kind == "pmid"
    ]
    by_pmid = clients.pubmed.lookup(pmids) if pmids else {}

    for i, o in pending:
        ident = o.request.ident
        where = o.request.where
        if i in doi_of:
            lookup = by_doi[doi_of[i]]
            if lookup.status == "found":
                o.record = record_from_csl(lookup.value, where, doi_of[i])
        elif ident is not None and ident.kind == "arxiv":
            lookup = by_arxiv[ident.value]
            if lookup.status == "found":
                o.record = record_from_arxiv(lookup.entry)
        elif ident is not None and ident.kind == "isbn":
            lookup = by_isbn[ident.value]
            if lookup.status == "found":
                o.record = record_from_csl(lookup.value, where)
        elif ident is not None and ident.kind == "pmid":
            lookup = by_pmid[ident.value]
            if lookup.status == "found":
                o.record = record_from_csl(lookup.value, where)
        else:  # pragma: no cover - every pending request is one of the above
            raise AssertionError(o.request)
        if lookup.status == "found" and o.record is None:
            o.status, o.message = "failed", "the answer could not be read as a record"
        elif lookup.status == "found":
            o.status = "added"
        elif lookup.status == "not-found":
            o.status, o.message = "not-found", lookup.message
        else:
            o.status, o.message = "failed", lookup.message

    # 4. Duplicates the answers reveal (a PMID whose DOI is in the file, a pasted
    # reference), and entries of the file without ids that are the same work.
    works = [
        (rec, f"{target.name}:{rec.key}" if target.name else rec.key) for rec in target.records
    ]
    for o in outcomes:
        if o.status != "added" or o.record is None:
            continue
        keys = identity_keys(o.record)
        if o.request.ident is not None:
            keys = [k for k in keys if k != o.request.ident.dedupe_key]
        dup = next((seen[k] for k in keys if k in seen), "") or _same_work(o.record, works)
        if dup:
            o.status, o.duplicate_of, o.record = "duplicate", dup, None
            continue
        for k in keys:
            seen[k] = o.request.where
        works.append((o.record, o.request.where))
        if not o.record.title:
            o.warnings.append("the source gives no title")
        if not o.record.authors and not o.record.editors:
            o.warnings.append("the source gives no author")

    # 5. Keys, dialect, text: nothing at all when a lookup failed.
    chosen_dialect = dialect or detect_dialect(target.records)
    style = _style(key_style, target.records)
    if any(o.status == "failed" for o in outcomes):
        return AddResult(outcomes, [], "", chosen_dialect, style.name)
    records = [o.record for o in outcomes if o.status == "added" and o.record is not None]
    taken = set(target.keys)
    for rec in records:
        rec.key = unique_key(style.key(rec) if style is not SCHOLAR else base_key(rec), taken)
    text = ""
    if records:
        options = WriteOptions(dialect=chosen_dialect, ascii=ascii_only)
        text = bibtex_format.write(records, options).text
        text = text if text.endswith("\n") else text + "\n"
    return AddResult(outcomes, records, text, chosen_dialect, style.name)


def _same_work(record: Record, works: Sequence[tuple[Record, str]]) -> str:
    """Where an entry with the same title, year and a common author is, or ``""``.

    For entries without an identifier (a hand-typed ``@article`` the file
    already has): the same title (:func:`title_distance`), the same year
    when both have one, and a family name in common.
    """
    title = normalize_title(record.title) if record.title else ""
    if not title or not record.authors:
        return ""
    for other, where in works:
        if not other.title or abs(len(other.title) - len(record.title)) > 40:
            continue
        if record.issued.year and other.issued.year and record.issued.year != other.issued.year:
            continue
        if title_distance(title, normalize_title(other.title)) is None:
            continue
        if author_overlap(record.authors, other.authors):
            return where
    return ""


def append_to(original: bytes, encoding: str, entries: str) -> bytes:
    """``original`` byte for byte, then a blank line and ``entries``, in the file's
    encoding and line endings (the caller wrote ``entries`` in ASCII for a file
    in another encoding than UTF-8)."""
    if not entries:
        return original
    newline = "\r\n" if b"\r\n" in original else "\n"
    text = entries.replace("\r\n", "\n").replace("\n", newline)
    codec = encoding.lower().replace("_", "-")
    if codec in ("utf-8-sig", "utf-16", "utf-32"):
        codec = {"utf-8-sig": "utf-8", "utf-16": _utf16(original), "utf-32": "utf-32-le"}[codec]
    tail = original.decode(codec, errors="replace")
    if not tail.strip() or tail.endswith((newline * 2, "\n\n")):
        lead = ""
    elif tail.endswith("\n"):
        lead = newline
    else:
        lead = newline * 2
    return original + (lead + text).encode(codec)


def _utf16(original: bytes) -> str:
    return "utf-16-be" if original.startswith(b"\xfe\xff") else "utf-16-le"


def needs_ascii(encoding: str) -> bool:
    """Entries appended to a file in a legacy encoding are written in ASCII (LaTeX accents)."""
    return encoding.lower().replace("_", "-") not in ("utf-8", "utf-8-sig", "ascii", "us-ascii")


def _style(name: str, records: Sequence[Record]) -> KeyStyle:
    if name == "auto":
        return detect_key_style(records) or SCHOLAR
    try:
        return NAMED_STYLES[name]
    except KeyError:
        raise UsageError(
            f"--key-style must be auto or one of {', '.join(NAMED_STYLES)}, not {name!r}"
        ) from None


def _books(clients: Clients, isbns: list[str]) -> dict[str, Any]:
    """Open Library first (many ISBNs to a request), Google Books for the rest."""
    found = clients.openlibrary.lookup(isbns)
    rest = [i for i in isbns if found[i].status == "not-found"]
    if rest:
        more = clients.googlebooks.lookup(rest)
        for isbn in rest:
            if more[isbn].status == "not-found":
                more[isbn].message = f"{found[isbn].message}; {more[isbn].message}"
            found[isbn] = more[isbn]
    return found


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


__all__ = [
    "AddResult",
    "Candidate",
    "Clients",
    "KeyStyle",
    "Outcome",
    "Request",
    "Target",
    "add",
    "detect_dialect",
    "detect_key_style",
    "identity_keys",
    "judge",
    "parse_inputs",
    "read_target",
]
