"""Preprint -> version of record: find where an arXiv preprint was published, safely.

:class:`PublishedResolver` takes the records of a run, picks the preprints
(:func:`is_preprint`) and asks, cheapest first:

1. **the record itself**: a ``journal_ref`` of the strict journal form
   (``Phys. Rev. D 76, 013009 (2007)``: journal, volume, pages, year) is the
   authors' own statement about this very paper and costs nothing;
2. **Semantic Scholar's batch endpoint**, up to 500 ids a request
   (``ARXIV:<id>``, else ``DOI:<doi>``).  S2 merges a preprint with its
   published version, so one answer usually names the venue, the
   publisher's DOI and the DBLP key;
3. for each preprint still unresolved, **one** request: Crossref's record
   when the record or S2 gave a publisher DOI, else DBLP's record when S2
   gave a (non-CoRR) DBLP key, else a DBLP title search for computer
   science (or an unknown field) and a Crossref bibliographic search for
   the rest;
4. **Crossref** as the last resort: after a DBLP search that knew nothing
   of the paper (no hit with its title at all, not even the CoRR copy) or
   could not be asked.  That is the only case in which one preprint costs
   two requests.

A candidate is **accepted** only when its normalised title matches the
record's (:func:`bibtools.text.matching.title_distance`) **and** at least one
author is shared (:func:`bibtools.text.matching.author_overlap`) **and** it does
not contradict a publisher DOI the record already has.  Exactly one
accepted candidate is applied; several (a conference paper and its journal
extension), or only near misses (same title with other authors, a longer
title containing ours, S2's merged version under another title) make the
record **ambiguous**: reported with the candidates, never applied.  A
source that knows the paper only as a preprint (S2's venue ``arXiv.org``,
DBLP's CoRR copy, Crossref's ``posted-content``) makes it **preprint-only**
(near misses are then someone else's papers, named in the evidence); in
:mod:`bibtools.enrich` that is the outcome ``unchanged``, not an error.

Every verdict carries :class:`Evidence`: the source, how the candidate was
found (``arxiv id``, ``doi``, ``dblp key``, ``title search``,
``journal_ref``), which fields agreed and a confidence score in [0, 1]
(title 0.35, authors 0.35, an identifier 0.2, the year 0.1).

:func:`merge_published` turns the record into the version of record: the
type becomes ``paper-conference`` or ``article-journal`` (``source_type``
follows, so BibTeX writes ``@inproceedings``/``@article``), the container,
series, volume, issue, pages, publisher and DOI are filled, a preprint's
container (``CoRR``, ``arXiv preprint arXiv:...``), CoRR volume
(``abs/2106.15928``), arXiv DOI, preprint date and BibTeX ``howpublished =
{arXiv preprint ...}`` are replaced (or removed when the version has none:
the arXiv id stays in ``eprint``), and every arXiv field (id, version,
classes, journal_ref, comment, PDF) is kept.  Any
other value the record has is kept and the difference reported as a
refused change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from .changes import Change, Outcome, display
from .ids import arxiv_from_record, find_arxiv
from .model import Name, PartialDate, Record
from .preprint import is_preprint, is_preprint_doi, is_preprint_venue, publisher_doi
from .text.markup import from_plain, to_plain
from .text.matching import author_overlap, normalize_title, title_contains, title_distance
from .text.names import parse_plain_name

if TYPE_CHECKING:
    from .http import HttpClient
    from .sources.crossref import CrossrefClient, CrossrefWork
    from .sources.dblp import DblpClient, DblpHit
    from .sources.semanticscholar import S2Paper, SemanticScholarClient

SOURCE = "published"

Verdict = Literal[
    "found", "preprint-only", "ambiguous", "not-found", "failed", "offline", "not-a-preprint"
]

# CSL type -> the BibTeX type it is written as.
BIBTEX_TYPES = {"paper-conference": "inproceedings", "article-journal": "article"}
_CORR_VOLUME = re.compile(r"^abs/|^\d{4}\.\d{4,5}$|^[a-z-]+/\d{7}$", re.IGNORECASE)
# arXiv subject classes whose papers DBLP indexes (cs.*; a listing writes "CL" for cs.CL).
_CS_CODES = frozenset(
    "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA NE NI "
    "OH OS PF PL RO SC SD SE SI SY".split()
)
_CS_OTHER = frozenset({"stat.ml", "eess.as", "eess.iv", "eess.sp", "eess.sy", "math.oc"})
_JOURNAL_REF = (
    # "Phys. Rev. D 76, 013009 (2007)", "Nature 596(7873), 583-589 (2021)"
    re.compile(
        r"^(?P<journal>[^\d(),;:]+?)\s+(?P<volume>\d{1,5})\s*(?:\((?P<issue>\d{1,4})\))?\s*[,:]\s*"
        r"(?P<pages>[A-Za-z]?\d+(?:\s*[-\u2013]{1,2}\s*[A-Za-z]?\d+)?)\s*\((?P<year>(?:19|20)\d\d)\)\.?$"
    ),
    # "Phys. Lett. B 659 (2008) 703-706"
    re.compile(
        r"^(?P<journal>[^\d(),;:]+?)\s+(?P<volume>\d{1,5})\s*\((?P<year>(?:19|20)\d\d)\)\s*,?\s*"
        r"(?P<pages>[A-Za-z]?\d+(?:\s*[-\u2013]{1,2}\s*[A-Za-z]?\d+)?)\.?$"
    ),
)
_NOT_A_JOURNAL = re.compile(
    r"\b(?:proc|proceedings|conference|conf|workshop|symposium|accepted|submitted|appear"
    r"|press|preprint|forthcoming|review|talk|poster|thesis|lecture)\b",
    re.IGNORECASE,
)
_PROCEEDINGS = re.compile(
    r"\b(?:proceedings|proc\.|conference|workshop|symposium|congress|lecture notes)\b", re.I
)
_PAGE_DASH = re.compile(r"\s*(?:-{1,3}|\u2013|\u2014)\s*")

ProgressFn = Callable[[int], None]
"""``progress(n)``: ``n`` more records settled."""


# --------------------------------------------------------------------------
# Results


@dataclass(slots=True)
class Version:
    """A published version of a paper, in the model's terms (text fields are markup)."""

    type: str  # "paper-conference" or "article-journal"
    title: str
    authors: list[Name]
    container_title: str = ""
    collection_title: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    publisher: str = ""
    doi: str = ""
    issued: PartialDate = field(default_factory=PartialDate)
    source: str = ""  # "arxiv" (the record's journal_ref), "semanticscholar", "dblp", "crossref"
    ident: str = ""  # "doi:10...", "dblp:conf/...", "s2:<paperId>", "journal_ref"
    arxiv_id: str = ""  # the arXiv id the source itself links to the version, if any


@dataclass(slots=True)
class Evidence:
    """Why a candidate was accepted or refused."""

    source: str
    matched_by: str  # "journal_ref", "arxiv id", "doi", "dblp key", "title search"
    candidate: str  # Version.ident
    agreed: list[str]  # "title", "authors 2/3", "year", "doi", "arxiv id", "venue", ...
    confidence: float
    accepted: bool
    note: str = ""  # why it was refused
    venue: str = ""
    year: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "matched_by": self.matched_by,
            "candidate": self.candidate,
            "venue": self.venue,
            "year": self.year,
            "agreed": list(self.agreed),
            "confidence": self.confidence,
            "accepted": self.accepted,
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass(slots=True)
class Resolution:
    """The verdict for one record; ``evidence`` lists the accepted candidate first."""

    verdict: Verdict
    version: Version | None = None
    evidence: list[Evidence] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    message: str = ""
    requests: int = 0  # per-record requests asked for it (the batch not counted)


# --------------------------------------------------------------------------
# Which records are preprints


def is_computer_science(record: Record) -> bool | None:
    """True/False from the record's arXiv classes; None when it has none."""
    classes = [c for c in (record.arxiv_primary_class, *record.arxiv_categories) if c]
    if not classes:
        return None
    for c in classes:
        lower = c.lower()
        if lower.startswith("cs.") or lower in _CS_OTHER or c in _CS_CODES:
            return True
    return False


def preprint_year(record: Record, arxiv_id: str) -> int | None:
    m = re.match(r"^(\d{2})\d{2}\.\d{4,5}$", arxiv_id) or re.match(r"^[a-z.-]+/(\d{2})", arxiv_id)
    if m:
        yy = int(m.group(1))
        return 2000 + yy if yy < 91 else 1900 + yy
    return record.issued.year


# --------------------------------------------------------------------------
# The free stage: the record's own journal reference


def parse_journal_ref(text: str) -> dict[str, str] | None:
    """Journal, volume, issue, pages and year from a journal_ref of a strict journal form, else None."""
    text = " ".join(text.split())
    for pattern in _JOURNAL_REF:
        m = pattern.match(text)
        if m is None:
            continue
        journal = m.group("journal").strip(" ,;")
        if len(journal) < 2 or len(journal) > 80 or _NOT_A_JOURNAL.search(journal):
            return None
        if not re.search(r"[A-Za-z]{2}", journal):
            return None
        found = {"issue": "", **{k: (v or "") for k, v in m.groupdict().items()}}
        found["journal"] = journal
        found["pages"] = _PAGE_DASH.sub("-", found["pages"])
        return found
    return None


# --------------------------------------------------------------------------
# The resolver


@dataclass(slots=True)
class _Item:
    index: int
    record: Record
    arxiv_id: str
    doi: str  # a publisher DOI the record has
    title: str  # normalised
    year: int | None  # the preprint's
    cs: bool | None
    doi_hint: str = ""  # a publisher DOI S2 linked to the preprint
    dblp_key: str = ""  # a non-CoRR DBLP key S2 linked to the preprint
    preprint_known: list[str] = field(default_factory=list)  # sources that know only the preprint
    near: list[Evidence] = field(default_factory=list)  # refused candidates worth reporting
    notes: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    offline: bool = False
    requests: int = 0
    result: Resolution | None = None


class PublishedResolver:
    """Finds published versions for a run's preprints (see the module docstring).

    ``s2``, ``dblp`` and ``crossref`` are the source clients (all sharing
    one :class:`bibtools.http.HttpClient`); :meth:`from_env` builds them.
    """

    def __init__(
        self, s2: SemanticScholarClient, dblp: DblpClient, crossref: CrossrefClient
    ) -> None:
        self.s2 = s2
        self.dblp = dblp
        self.crossref = crossref
        self._memo: dict[tuple[str, str], Any] = {}

    @classmethod
    def from_env(cls, http: HttpClient, env: Mapping[str, str] | None = None) -> PublishedResolver:
        """Clients from ``BIBTOOLS_S2_API``, ``S2_API_KEY``, ``BIBTOOLS_DBLP_API``,
        ``BIBTOOLS_CROSSREF_API`` and ``BIBTOOLS_CONTACT_EMAIL`` (default: os.environ)."""
        from .sources.crossref import CrossrefClient
        from .sources.dblp import DblpClient
        from .sources.semanticscholar import SemanticScholarClient

        return cls(
            SemanticScholarClient.from_env(http, env),
            DblpClient.from_env(http, env),
            CrossrefClient.from_env(http, env),
        )

    # -- the run -----------------------------------------------------------

    def resolve(
        self, records: Sequence[Record], progress: ProgressFn | None = None
    ) -> list[Resolution]:
        """One :class:`Resolution` per record, in order."""

        results: list[Resolution | None] = [None] * len(records)
        pending: list[_Item] = []
        for i, record in enumerate(records):
            if not is_preprint(record):
                results[i] = Resolution("not-a-preprint")
                continue
            found = arxiv_from_record(record)
            arxiv_id = found.id if found else ""
            item = _Item(
                index=i,
                record=record,
                arxiv_id=arxiv_id,
                doi=publisher_doi(record),
                title=normalize_title(record.title),
                year=preprint_year(record, arxiv_id),
                cs=is_computer_science(record),
            )
            if not item.title:
                results[i] = Resolution("not-found", message="no title to confirm a version with")
            elif (settled := self._from_journal_ref(item)) is not None:
                results[i] = settled
            else:
                pending.append(item)
                continue
            if progress:
                progress(1)
        self._semantic_scholar(pending, progress)
        for item in pending:
            if item.result is None:
                self._one_request(item)
                item.result = self._verdict(item)
                if progress:
                    progress(1)
            results[item.index] = item.result
        return [r if r is not None else Resolution("not-a-preprint") for r in results]

    # -- 1. journal_ref ------------------------------------------------------

    def _from_journal_ref(self, item: _Item) -> Resolution | None:
        parsed = parse_journal_ref(item.record.journal_ref)
        if parsed is None:
            return None
        year = int(parsed["year"])
        if item.year is not None and year < item.year - 1:
            return None  # older than the preprint: a reference to something else
        version = Version(
            type="article-journal",
            title=item.record.title,
            authors=list(item.record.authors),
            container_title=from_plain(parsed["journal"]),
            volume=parsed["volume"],
            issue=parsed["issue"],
            pages=parsed["pages"],
            doi=item.doi,
            issued=PartialDate(year),
            source="arxiv",
            ident="journal_ref",
        )
        agreed = ["journal_ref: journal, volume, pages, year"] + (["doi"] if item.doi else [])
        evidence = Evidence(
            "arxiv",
            "journal_ref",
            "journal_ref",
            agreed,
            0.9 if item.doi else 0.8,
            True,
            venue=parsed["journal"],
            year=year,
        )
        return Resolution("found", version, [evidence], message=_found_message(version, evidence))

    # -- 2. Semantic Scholar -----------------------------------------------

    def _semantic_scholar(self, items: list[_Item], progress: ProgressFn | None) -> None:
        by_id: dict[str, list[_Item]] = {}
        for item in items:
            if item.arxiv_id:
                by_id.setdefault(f"ARXIV:{item.arxiv_id}", []).append(item)
            elif item.doi:
                by_id.setdefault(f"DOI:{item.doi}", []).append(item)
        if not by_id:
            return
        answers = self.s2.lookup(by_id)
        for s2_id, group in by_id.items():
            answer = answers[s2_id]
            for item in group:
                self._judge_s2(item, answer.status, answer.paper, answer.message)
                if item.result is not None and progress:
                    progress(1)

    def _judge_s2(self, item: _Item, status: str, paper: S2Paper | None, message: str) -> None:
        if status == "offline":
            item.offline = True
            return
        if status == "failed":
            item.failed.append(f"Semantic Scholar: {message}")
            return
        if paper is None:
            item.notes.append("Semantic Scholar does not know it")
            return
        if item.cs is None and paper.fields_of_study:
            item.cs = "Computer Science" in paper.fields_of_study
        version = s2_version(paper)
        matched_by = "arxiv id" if item.arxiv_id else "doi"
        probe = version or Version(
            "", from_plain(paper.title), [_plain_name(a) for a in paper.authors]
        )
        probe.arxiv_id = probe.arxiv_id or paper.arxiv_id
        evidence = self._assess(item, probe, "semanticscholar", matched_by)
        if not evidence.accepted:
            evidence.candidate = f"s2:{paper.paper_id}"
            item.near.append(evidence)
            item.notes.append(f"Semantic Scholar's paper does not match ({evidence.note})")
            return
        doi = paper.doi if paper.doi and not is_preprint_doi(paper.doi) else ""
        dblp = (
            paper.dblp_key
            if paper.dblp_key and not paper.dblp_key.startswith("journals/corr/")
            else ""
        )
        if version is not None:
            item.result = Resolution(
                "found", version, [evidence], message=_found_message(version, evidence)
            )
            return
        # S2 knows the paper but not (enough of) where it was published.
        item.doi_hint = doi if doi != item.doi else ""
        item.dblp_key = dblp
        if not (doi or dblp):
            item.preprint_known.append("Semantic Scholar")
            item.notes.append("Semantic Scholar knows only the preprint")
        else:
            item.notes.append("Semantic Scholar links a published version without its venue")

    # -- 3. one request per unresolved preprint ------------------------------

    def _one_request(self, item: _Item) -> None:
        doi = item.doi or item.doi_hint
        if doi:
            self._crossref_doi(item, doi)
        elif item.dblp_key:
            self._dblp_key(item, item.dblp_key)
        elif item.cs is not False:
            knew = self._dblp_search(item)
            if not knew and item.result is None:
                self._crossref_search(item)  # 4. the last resort
        else:
            self._crossref_search(item)

    def _dblp_key(self, item: _Item, key: str) -> None:
        answer = self._ask("dblp-record", key, item, lambda: self.dblp.record(key))
        if answer.status != "found" or answer.hit is None:
            self._trouble(item, "DBLP", answer.status, answer.message)
            return
        version = dblp_version(answer.hit)
        if version is None:
            item.notes.append(f"DBLP's {key} is not a conference or journal paper")
            return
        self._choose(item, [version], "dblp", "dblp key")

    def _dblp_search(self, item: _Item) -> bool:
        """Search DBLP; False when DBLP knows nothing of the paper (or could not be asked)."""
        query = item.title
        answer = self._ask("dblp-search", query, item, lambda: self.dblp.search_one(query))
        if answer.status != "found":
            self._trouble(item, "DBLP", answer.status, answer.message)
            return False
        knew = False
        published: list[Version] = []
        for hit in answer.hits:
            ours = normalize_title(from_plain(hit.title))
            related = title_distance(item.title, ours) is not None or title_contains(
                item.title, ours
            )
            knew = knew or related
            if hit.is_corr:
                self._note_preprint(item, "DBLP (CoRR)", hit.title, hit.authors)
            else:
                version = dblp_version(hit)
                if version is not None:
                    published.append(version)
        if not knew:
            item.notes.append("DBLP has no paper with this title")
            return False
        self._choose(item, published, "dblp", "title search")
        return True

    def _crossref_doi(self, item: _Item, doi: str) -> None:
        answer = self._ask("crossref-work", doi.lower(), item, lambda: self.crossref.work(doi))
        if answer.status != "found" or answer.work is None:
            self._trouble(item, "Crossref", answer.status, answer.message)
            return
        version = crossref_version(answer.work)
        if version is None:
            if answer.work.type == "posted-content":
                self._note_preprint(item, "Crossref", answer.work.title, _work_names(answer.work))
            else:
                item.notes.append(f"Crossref's {doi} is a {answer.work.type or 'work of no type'}")
            return
        self._choose(item, [version], "crossref", "doi")

    def _crossref_search(self, item: _Item) -> None:
        query = crossref_query(item.record)
        answer = self._ask("crossref-search", query, item, lambda: self.crossref.search_one(query))
        if answer.status != "found":
            self._trouble(item, "Crossref", answer.status, answer.message)
            return
        published = []
        for work in answer.works:
            version = crossref_version(work)
            if version is not None:
                published.append(version)
            elif work.type == "posted-content":
                self._note_preprint(
                    item, "Crossref (posted content)", work.title, _work_names(work)
                )
        self._choose(item, published, "crossref", "title search")

    def _ask(self, kind: str, key: str, item: _Item, call: Callable[[], Any]) -> Any:
        # Two records of one paper in a run share the request.
        memo = (kind, key)
        if memo not in self._memo:
            item.requests += 1
            self._memo[memo] = call()
        return self._memo[memo]

    def _trouble(self, item: _Item, source: str, status: str, message: str) -> None:
        if status == "offline":
            item.offline = True
        elif status == "failed":
            item.failed.append(f"{source}: {message}")
        else:
            item.notes.append(f"{source}: {message}")

    def _note_preprint(
        self, item: _Item, source: str, title: str, authors: Sequence[str] | Sequence[Name]
    ) -> None:
        names = [a if isinstance(a, Name) else _plain_name(a) for a in authors]
        same = title_distance(item.title, normalize_title(from_plain(title))) is not None
        if (
            same
            and author_overlap(item.record.authors, names)
            and source not in item.preprint_known
        ):
            item.preprint_known.append(source)

    # -- choosing ------------------------------------------------------------

    def _choose(self, item: _Item, versions: list[Version], source: str, matched_by: str) -> None:
        assessed = [(v, self._assess(item, v, source, matched_by)) for v in versions]
        accepted: dict[str, tuple[Version, Evidence]] = {}
        for version, evidence in assessed:
            if evidence.accepted:
                accepted.setdefault(_identity(version), (version, evidence))
            elif _near_miss(evidence):
                item.near.append(evidence)
        if item.doi:
            confirmed = [pair for pair in accepted.values() if _same_doi(pair[0].doi, item.doi)]
            if len(confirmed) == 1:
                accepted = {_identity(confirmed[0][0]): confirmed[0]}
        if len(accepted) == 1:
            version, evidence = next(iter(accepted.values()))
            item.result = Resolution(
                "found", version, [evidence], message=_found_message(version, evidence)
            )
        elif len(accepted) > 1:
            pairs = sorted(accepted.values(), key=lambda p: (-p[1].confidence, p[0].ident))
            names = ", ".join(f"{v.ident} ({_venue_year(v)})" for v, _ in pairs)
            item.result = Resolution(
                "ambiguous",
                evidence=[e for _, e in pairs],
                candidates=[v.ident for v, _ in pairs],
                message=f"{len(pairs)} published versions match equally: {names}",
            )

    def _assess(self, item: _Item, version: Version, source: str, matched_by: str) -> Evidence:
        record = item.record
        agreed: list[str] = []
        theirs = normalize_title(version.title)
        distance = title_distance(item.title, theirs)
        overlap = author_overlap(record.authors, version.authors)
        note = ""
        if distance is None:
            shown = " ".join(to_plain(version.title).split())[:120]
            note = (
                f'a longer title containing the record\'s: "{shown}"'
                if title_contains(item.title, theirs)
                else f'another title: "{shown}"'
            )
        else:
            agreed.append("title" if distance == 0 else f"title ({distance} edits)")
        if overlap:
            agreed.append(f"authors {overlap}/{len(record.authors)}")
        elif not note:
            note = "the record has no authors to confirm" if not record.authors else "other authors"
        if item.doi and version.doi:
            if _same_doi(item.doi, version.doi):
                agreed.append("doi")
            elif not note:
                note = f"the record's DOI is {item.doi}, this version's {version.doi}"
        id_score = 0.5
        if matched_by in ("arxiv id", "doi", "dblp key"):
            id_score = 1.0
        if item.arxiv_id and version.arxiv_id:
            if version.arxiv_id.lower() == item.arxiv_id.lower():
                agreed.append("arxiv id")
            elif not note:
                note = f"linked to another arXiv paper ({version.arxiv_id})"
        if "doi" in agreed:
            id_score = 1.0
        year = version.issued.year
        year_score = 0.5
        if year is not None and item.year is not None:
            gap = year - item.year
            year_score = 1.0 if 0 <= gap <= 3 else 0.5 if -1 <= gap <= 5 else 0.0
            if year_score == 1.0:
                agreed.append("year")
        ref = normalize_title(record.journal_ref)
        venue = normalize_title(version.container_title)
        if ref and venue and (venue in ref or ref in venue):
            agreed.append("venue (journal_ref)")
        title_score = 0.0 if distance is None else 1.0 if distance == 0 else 0.85
        denominator = max(1, min(len(record.authors), len(version.authors)))
        author_score = min(1.0, overlap / denominator)
        confidence = round(
            0.35 * title_score + 0.35 * author_score + 0.2 * id_score + 0.1 * year_score, 2
        )
        return Evidence(
            source,
            matched_by,
            version.ident,
            agreed,
            confidence,
            accepted=not note,
            note=note,
            venue=to_plain(version.container_title),
            year=year,
        )

    def _verdict(self, item: _Item) -> Resolution:
        if item.result is not None:
            item.result.requests = item.requests
            return item.result
        near = item.near
        if near and not item.preprint_known:
            why = "; ".join(f"{e.candidate}: {e.note}" for e in near)
            verdict = Resolution("ambiguous", message=f"near misses, not applied: {why}")
        elif item.failed:
            verdict = Resolution("failed", message="; ".join(item.failed))
        elif item.offline:
            verdict = Resolution("offline", message="not in the cache (offline)")
        elif item.preprint_known:
            known = ", ".join(item.preprint_known)
            verdict = Resolution(
                "preprint-only", message=f"no published version known ({known}: the preprint only)"
            )
        else:
            notes = "; ".join(dict.fromkeys(item.notes))
            verdict = Resolution("not-found", message=notes or "no source knows this paper")
        verdict.evidence = list(near)
        verdict.candidates = [e.candidate for e in near]
        verdict.requests = item.requests
        return verdict


def _near_miss(evidence: Evidence) -> bool:
    """A refused candidate worth reporting: our title with other authors, or ours made longer by our authors."""
    if evidence.note.startswith("another title"):
        return False
    if evidence.note.startswith("a longer title"):
        return any(a.startswith("authors") for a in evidence.agreed)
    return True


# --------------------------------------------------------------------------
# Source answers as versions


def s2_version(paper: S2Paper) -> Version | None:
    """The published version S2 describes, or None when it names no venue of record and type."""
    venues = [v for v in (paper.venue_name, paper.venue) if v and not is_preprint_venue(v)]
    journal = (
        paper.journal_name
        if paper.journal_name and not is_preprint_venue(paper.journal_name)
        else ""
    )
    if not venues and not journal:
        return None
    kind = {"conference": "paper-conference", "journal": "article-journal"}.get(
        paper.venue_type, ""
    )
    if not kind and "Conference" in paper.publication_types:
        kind = "paper-conference"
    elif not kind and "JournalArticle" in paper.publication_types:
        kind = "article-journal"
    if not kind:
        return None
    container = (journal or venues[0]) if kind == "article-journal" else (venues or [journal])[0]
    volume = (
        paper.journal_volume if journal and not _CORR_VOLUME.match(paper.journal_volume) else ""
    )
    doi = paper.doi if paper.doi and not is_preprint_doi(paper.doi) else ""
    return Version(
        type=kind,
        title=from_plain(paper.title),
        authors=[_plain_name(a) for a in paper.authors],
        container_title=from_plain(container),
        volume=volume,
        pages=_pages(paper.journal_pages) if journal else "",
        doi=doi,
        issued=PartialDate(paper.year) if paper.year else PartialDate(),
        source="semanticscholar",
        ident=f"doi:{doi}" if doi else f"s2:{paper.paper_id}",
        arxiv_id=paper.arxiv_id,
    )


def dblp_version(hit: DblpHit) -> Version | None:
    """A DBLP conference or journal paper as a version; None for anything else (CoRR included)."""
    from .sources.dblp import CONFERENCE, JOURNAL

    if hit.is_corr or hit.type not in (CONFERENCE, JOURNAL) or not hit.venue:
        return None
    return Version(
        type="paper-conference" if hit.type == CONFERENCE else "article-journal",
        title=from_plain(hit.title),
        authors=[_plain_name(a) for a in hit.authors],
        container_title=from_plain(hit.venue),
        volume=hit.volume,
        issue=hit.number if hit.type == JOURNAL else "",
        pages=_pages(hit.pages),
        doi=hit.doi if not is_preprint_doi(hit.doi) else "",
        issued=PartialDate(hit.year) if hit.year else PartialDate(),
        source="dblp",
        ident=f"dblp:{hit.key}",
    )


def crossref_version(work: CrossrefWork) -> Version | None:
    """A Crossref journal article or proceedings paper as a version; None for anything else."""
    titles = list(work.container_titles)
    if work.type == "journal-article" and titles:
        kind, container, series = "article-journal", titles[0], ""
    elif work.type == "proceedings-article" and titles:
        kind, container, series = "paper-conference", titles[-1], ""
    elif work.type == "book-chapter" and titles and _PROCEEDINGS.search(" ".join(titles)):
        # Springer's LNCS papers: container-title is [series, proceedings].
        kind, container = "paper-conference", titles[-1]
        series = titles[0] if len(titles) > 1 else ""
    else:
        return None
    if is_preprint_venue(container) or is_preprint_doi(work.doi):
        return None
    return Version(
        type=kind,
        title=from_plain(work.title),
        authors=_work_names(work),
        container_title=from_plain(container),
        collection_title=from_plain(series),
        volume=work.volume if kind == "article-journal" else "",
        issue=work.issue if kind == "article-journal" else "",
        pages=_pages(work.page),
        publisher=from_plain(work.publisher),
        doi=work.doi,
        issued=_date(work.issued),
        source="crossref",
        ident=f"doi:{work.doi}",
    )


def crossref_query(record: Record) -> str:
    """``query.bibliographic``: the plain title and the first author's family name."""
    title = " ".join(to_plain(record.title).split())
    first = record.authors[0] if record.authors else None
    family = to_plain(first.literal or first.family) if first else ""
    return f"{title} {family}".strip()


# --------------------------------------------------------------------------
# Applying a verdict


@dataclass(slots=True)
class Applied:
    """What :func:`apply_resolution` did to one record, for the run's report."""

    record: Record
    outcome: Outcome
    message: str = ""
    changes: list[Change] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)


def apply_resolution(record: Record, resolution: Resolution, key: str) -> Applied:
    evidence = [e.as_dict() for e in resolution.evidence]
    verdict = resolution.verdict
    if verdict == "not-a-preprint":
        return Applied(record, Outcome.UNCHANGED)
    if verdict == "found" and resolution.version is not None:
        updated, changes = merge_published(record, resolution.version, key)
        applied = any(c.applied for c in changes)
        outcome = Outcome.ENRICHED if applied else Outcome.UNCHANGED
        return Applied(updated, outcome, resolution.message, changes, evidence)
    outcome = {
        "preprint-only": Outcome.UNCHANGED,
        "ambiguous": Outcome.AMBIGUOUS,
        "failed": Outcome.FAILED,
        "offline": Outcome.SKIPPED_OFFLINE,
    }.get(verdict, Outcome.NOT_FOUND)
    return Applied(record, outcome, resolution.message, [], evidence, list(resolution.candidates))


class _Merge:
    def __init__(self, record: Record, key: str, source: str) -> None:
        self.old = record
        self.new = replace(record, extra=dict(record.extra))
        self.key = key
        self.source = source
        self.changes: list[Change] = []

    def set(self, name: str, value: Any, note: str = "") -> None:
        old = getattr(self.new, name)
        setattr(self.new, name, value)
        self.changes.append(
            Change(self.key, name, display(old), display(value), self.source, True, note)
        )

    def refuse(self, name: str, value: Any) -> None:
        old = getattr(self.new, name)
        self.changes.append(
            Change(
                self.key,
                name,
                display(old),
                display(value),
                self.source,
                False,
                "the record has another value",
            )
        )

    def fill(
        self,
        name: str,
        value: str,
        *,
        stale: Callable[[str], bool] = lambda _: False,
        same: Callable[[str, str], bool] = lambda a, b: _fold(a) == _fold(b),
        note: str = "",
    ) -> None:
        """Set an empty field or replace a preprint's value (``stale``); refuse anything else.

        A preprint's value the version has nothing for is removed (a CoRR
        volume ``abs/2106.15928`` is wrong for any venue of record).
        """
        current = getattr(self.new, name)
        if not value and current and stale(current):
            self.set(name, "", note or "the preprint's value")
            return
        if not value or (current and same(current, value)):
            return
        if not current:
            self.set(name, value)
        elif stale(current):
            self.set(name, value, note or "the preprint's value")
        else:
            self.refuse(name, value)


def merge_published(record: Record, version: Version, key: str) -> tuple[Record, list[Change]]:
    """The record as its version of record, and the changes (applied and refused)."""
    m = _Merge(record, key, f"{SOURCE}:{version.source}")
    bibtex_type = BIBTEX_TYPES.get(version.type, "")
    if record.type != version.type:
        m.set("type", version.type, f"written as @{bibtex_type}" if bibtex_type else "")
    if bibtex_type and record.source_type != bibtex_type:
        # The BibTeX writer keeps the input's spelling while it fits the type.
        m.new.source_type = bibtex_type
    m.fill("container_title", version.container_title, stale=is_preprint_venue)
    m.fill("collection_title", version.collection_title)
    m.fill("volume", version.volume, stale=lambda v: bool(_CORR_VOLUME.match(v)))
    m.fill("issue", version.issue)
    m.fill("pages", version.pages, same=lambda a, b: _pages(a) == _pages(b))
    m.fill("publisher", version.publisher, stale=is_preprint_venue)
    m.fill(
        "doi",
        version.doi,
        stale=is_preprint_doi,
        same=_same_doi,
        note="arXiv's DOI; the arXiv id stays in eprint",
    )
    _merge_date(m, record.issued, version.issued)
    _drop_preprint_howpublished(m)
    if not any(c.applied for c in m.changes):
        return record, m.changes
    return m.new, m.changes


def _drop_preprint_howpublished(m: _Merge) -> None:
    """BibTeX's ``howpublished = {arXiv preprint arXiv:...}`` would contradict the venue."""

    if m.new.extra_format != "bibtex":
        return
    for name in [k for k in m.new.extra if k.lower() == "howpublished"]:
        value = m.new.extra[name]
        if isinstance(value, str) and (find_arxiv(value) or is_preprint_venue(value)):
            del m.new.extra[name]
            m.changes.append(
                Change(m.key, name, value, None, m.source, True, "the preprint's value")
            )


def _merge_date(m: _Merge, ours: PartialDate, theirs: PartialDate) -> None:
    if theirs.year is None or ours == theirs:
        return
    if not ours:
        m.set("issued", theirs)
    elif ours.year is not None and ours.year <= theirs.year:
        if ours.year == theirs.year and not (theirs.month or theirs.day):
            return  # same year: the record's finer date may well be right
        m.set("issued", theirs, "the published version's date (the record had the preprint's)")
    else:
        m.refuse("issued", theirs)


# --------------------------------------------------------------------------
# Small helpers


def _plain_name(text: str) -> Name:
    return parse_plain_name(" ".join(text.split()))


def _work_names(work: CrossrefWork) -> list[Name]:
    names = []
    for a in work.authors:
        if a.family:
            names.append(Name(family=from_plain(a.family), given=from_plain(a.given)))
        elif a.name:
            names.append(Name(literal=from_plain(a.name)))
    return names


def _date(parts: tuple[int, ...]) -> PartialDate:
    if not parts:
        return PartialDate()
    month = parts[1] if len(parts) > 1 and 1 <= parts[1] <= 12 else None
    day = parts[2] if month and len(parts) > 2 and 1 <= parts[2] <= 31 else None
    return PartialDate(parts[0], month, day)


def _pages(text: str) -> str:
    return _PAGE_DASH.sub("-", " ".join(text.split()))


def _fold(text: str) -> str:
    return " ".join(to_plain(str(text)).lower().split())


def _same_doi(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def _identity(version: Version) -> str:
    return f"doi:{version.doi.lower()}" if version.doi else version.ident


def _venue_year(version: Version) -> str:
    venue = to_plain(version.container_title)
    return f"{venue} {version.issued.year}" if version.issued.year else venue


def _found_message(version: Version, evidence: Evidence) -> str:
    return (
        f"published version: {_venue_year(version)} ({evidence.source} {version.ident}, "
        f"confidence {evidence.confidence:.2f})"
    )
