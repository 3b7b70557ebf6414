"""Does each reference describe a work that exists?  The verdicts, as pure functions.

:func:`judge` takes one record and the :class:`Evidence` the sources gave
for it (what its DOI and arXiv id resolve to, what a title search found)
and returns a :class:`Verdict`; it makes no request (see
:mod:`bibtools.verify_fetch` for the gathering).  The verdicts
(docs/verify.md says the same for users):

``verified``
    a work with this title, these authors and this year exists; harmless
    differences are allowed (below).
``mismatch``
    the work exists (its id resolves to it, or a title search finds it with
    a shared author), but fields differ: ``fields`` names them, ``found``
    gives the sources' values.
``wrong-id``
    the DOI or arXiv id resolves to another work than title and authors describe.
``phantom-id``
    a well-formed DOI or arXiv id the authority (doi.org, arXiv) does not
    know; no title match overrides it.
``not-found``
    no id, and every source asked answered, and none has a work with this
    title and an author in common.
``unchecked``
    we could not tell: a source failed, we were offline, or no source covers
    this kind of work (web pages, software, manuals, standards, theses without
    DOI).  A failure of ours is never ``not-found``.

**No false alarms first.**  A field disagrees only when *no* source that
has a value agrees with the record (an online-first year is in one source,
the print year in another; OpenAlex's preprint lists fewer authors than
arXiv).  Titles are compared after normalisation (markup, LaTeX accents,
case, punctuation, a ``RETRACTED:`` prefix) with a small edit distance, a
subtitle more or less; authors by family name (initials, accents,
particles, order), only the listed ones when the list ends in ``and
others``; the year may be a preprint's when the record gives the arXiv id
(up to :data:`PREPRINT_GAP` years later); venues agree when they share a
word, abbreviations included ("Proc. Natl. Acad. Sci." and "Proceedings of
the National Academy of Sciences").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from anyascii import anyascii

from .ids import arxiv_from_record, clean_doi, parse_arxiv
from .model import Name, Record
from .preprint import is_preprint_doi, is_preprint_venue
from .text.markup import to_plain
from .text.matching import normalize_title, person_key, title_distance

VerdictName = Literal["verified", "mismatch", "wrong-id", "phantom-id", "not-found", "unchecked"]
VERDICTS: tuple[VerdictName, ...] = (
    "verified",
    "mismatch",
    "wrong-id",
    "phantom-id",
    "not-found",
    "unchecked",
)
BAD_VERDICTS = frozenset({"mismatch", "wrong-id", "phantom-id", "not-found"})
FIELDS = ("title", "author", "year", "venue", "volume", "pages", "doi", "eprint")
PREPRINT_GAP = 3  # years between an arXiv v1 and the published version a record may cite

# Kinds of work no source we ask covers: checked only through an id they carry.
UNCOVERED_TYPES = frozenset(
    {"webpage", "post", "post-weblog", "software", "standard", "thesis", "report", "patent"}
    | {"legislation", "legal_case", "personal_communication", "interview", "motion_picture"}
)
# Kinds the sources index only in part: found, they are checked; missed, we cannot tell.
PARTLY_COVERED_TYPES = frozenset({"book", "chapter", "collection", "entry-encyclopedia"})
UNCOVERED_SOURCE_TYPES = frozenset(
    {"manual", "techreport", "phdthesis", "mastersthesis", "thesis", "online", "www", "software"}
    | {"standard", "electronic", "webpage", "booklet", "unpublished"}
)


# --------------------------------------------------------------------------
# What the sources said


@dataclass(slots=True)
class Found:
    """One source's description of one work, in the record model's terms."""

    source: str  # "crossref", "openalex", "doi.org", "arxiv"
    id: str  # DOI, arXiv id or OpenAlex id
    url: str
    title: str  # plain text
    authors: list[Name] = field(default_factory=list)
    subtitle: str = ""
    years: tuple[int, ...] = ()  # every year it is dated by (print, online, issued)
    venues: tuple[str, ...] = ()
    volume: str = ""
    pages: str = ""
    doi: str = ""
    arxiv_id: str = ""
    retracted: bool | None = None  # None: this source does not say
    preprint: bool = False  # a preprint server's record (its year is the preprint's)
    # False when the source has one year for a work that may have two (OpenAlex's
    # publication_year: online or print?): alone, it cannot refute a year one off.
    dates_complete: bool = True

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "id": self.id, "url": self.url}
        out["title"] = self.title + (f": {self.subtitle}" if self.subtitle else "")
        out["author"] = [display_name(n) for n in self.authors]
        if self.years:
            out["year"] = self.years[0]
        for name, value in (
            ("venue", self.venues[0] if self.venues else ""),
            ("volume", self.volume),
            ("pages", self.pages),
            ("doi", self.doi),
            ("eprint", self.arxiv_id),
        ):
            if value:
                out[name] = value
        if self.retracted is not None:
            out["retracted"] = self.retracted
        return out


Status = Literal["found", "not-found", "failed", "offline", "skipped"]


@dataclass(slots=True)
class Answer:
    """What one source answered to one question (an id lookup, a title search)."""

    source: str
    status: Status
    works: list[Found] = field(default_factory=list)
    message: str = ""
    authority: bool = False  # its "not-found" means the id does not exist (doi.org, arXiv)

    @property
    def answered(self) -> bool:
        return self.status in ("found", "not-found")


@dataclass(slots=True)
class Evidence:
    doi: list[Answer] = field(default_factory=list)
    arxiv: list[Answer] = field(default_factory=list)
    search: list[Answer] = field(default_factory=list)


@dataclass(slots=True)
class Verdict:
    key: str
    verdict: VerdictName
    fields: list[str] = field(default_factory=list)
    retracted: bool = False
    message: str = ""
    found: dict[str, Any] = field(default_factory=dict)  # field -> {"value", "source"}
    evidence: list[Found] = field(default_factory=list)  # the works it rests on
    id_confirmed: bool = False  # the work was reached through the record's own id
    asked: list[dict[str, str]] = field(default_factory=list)  # every source's status
    location: str = ""
    title: str = ""  # the record's, plain text (for reports)

    @property
    def bad(self) -> bool:
        return self.verdict in BAD_VERDICTS

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "location": self.location,
            "title": self.title,
            "verdict": self.verdict,
            "fields": list(self.fields),
            "retracted": self.retracted,
            "message": self.message,
            "found": dict(self.found),
            "evidence": [w.as_dict() for w in self.evidence],
            "matched_by": "id" if self.id_confirmed else ("title" if self.evidence else ""),
            "sources": list(self.asked),
        }


# --------------------------------------------------------------------------
# What the record says


def record_doi(record: Record) -> str:
    """The record's DOI when it is not an arXiv DOI (those are checked as arXiv ids)."""
    doi = clean_doi(record.doi) if record.doi else ""
    if not doi.startswith("10."):
        return ""
    return "" if doi.lower().startswith("10.48550/arxiv.") else doi


def record_arxiv(record: Record) -> str:
    try:
        found = arxiv_from_record(record)
    except (ValueError, TypeError):
        return ""
    return found.id if found else ""


def uncovered(record: Record) -> bool:
    """A kind of work no source covers (when it has no id): web pages, software, manuals, theses..."""
    if record.type in UNCOVERED_TYPES or record.source_type.lower() in UNCOVERED_SOURCE_TYPES:
        return True
    # @misc with a URL and no venue: a web page, a blog post, a repository.
    return (
        record.type in ("document", "article")
        and not record.container_title
        and bool(record.url or record.extra.get("howpublished"))
    )


def display_name(name: Name) -> str:
    if name.literal:
        return name.literal
    family = " ".join(p for p in (name.particle, name.family) if p)
    return f"{family}, {name.given}" if name.given else family


# --------------------------------------------------------------------------
# Comparing one field


_RETRACTED_PREFIX = re.compile(r"^(?:retracted|retraction|withdrawn)\s+(?:article\s+)?")
_SUBTITLE = re.compile(r"\s*(?::|\?|!|\s[-\u2013\u2014]{1,3}\s|---|--|\.\s)\s*")


def _norm_title(text: str) -> str:
    return _RETRACTED_PREFIX.sub("", normalize_title(text))


def _main_title(text: str) -> str:
    """The title before its subtitle separator, normalised ("" when there is none)."""
    plain = to_plain(text)
    parts = _SUBTITLE.split(plain, maxsplit=1)
    if len(parts) < 2:
        return ""
    return _norm_title(parts[0])


def same_title(record_title: str, work: Found, exact: bool = False) -> bool:
    """The record's title (markup) is the work's, allowing a subtitle more or less."""
    ours = _norm_title(record_title)
    theirs = {_norm_title(work.title)}
    if work.subtitle:
        theirs.add(_norm_title(f"{work.title}: {work.subtitle}"))
    theirs.discard("")
    if not ours or not theirs:
        return False
    if exact:
        return ours in theirs
    if any(title_distance(ours, t) is not None for t in theirs):
        return True
    # A subtitle the record adds or drops: the main titles agree, and are no one-word title.
    ours_main = _main_title(record_title)
    theirs_main = _main_title(work.title)
    if (
        ours_main
        and len(ours_main.split()) >= 2
        and any(title_distance(ours_main, t) is not None for t in theirs)
    ):
        return True
    if (
        theirs_main
        and len(theirs_main.split()) >= 2
        and title_distance(ours, theirs_main) is not None
    ):
        return True
    # Two subtitles for one long main title (sources disagree on subtitles too).
    return bool(
        ours_main
        and theirs_main
        and len(ours_main.split()) >= 4
        and title_distance(ours_main, theirs_main) is not None
    )


def _same_person(a: Name, b: Name) -> bool:
    ka, kb = person_key(a), person_key(b)
    if ka.same_person(kb):
        return True
    # "Farach-Colton" vs "Farach Colton", "van der Walt" read as family "Walt".
    fa = "".join(anyascii(to_plain(f"{a.particle} {a.family or a.literal}")).lower().split())
    fb = "".join(anyascii(to_plain(f"{b.particle} {b.family or b.literal}")).lower().split())
    fa, fb = re.sub(r"[^a-z]", "", fa), re.sub(r"[^a-z]", "", fb)
    return bool(fa) and (
        fa == fb or (len(fb) > 3 and fa.endswith(fb)) or (len(fa) > 3 and fb.endswith(fa))
    )


def author_matches(ours: Sequence[Name], theirs: Sequence[Name]) -> int:
    """How many of ``ours`` are among ``theirs`` (each of theirs used once)."""
    left = list(theirs)
    count = 0
    for name in ours:
        for i, other in enumerate(left):
            if _same_person(name, other):
                count += 1
                del left[i]
                break
    return count


def authors_agree(record: Record, work: Found) -> bool | None:
    """None when the work lists no authors; else every listed author is theirs, and no one is missing."""
    if not work.authors or not record.authors:
        return None
    matched = author_matches(record.authors, work.authors)
    if matched < len(record.authors):
        return False
    return record.authors_truncated or len(work.authors) <= len(record.authors)


def year_agrees(record: Record, work: Found, has_arxiv: bool) -> bool | None:
    year = record.issued.year
    if year is None or not work.years:
        return None
    if year in work.years:
        return True
    # The preprint and the published version: the record gives the arXiv id
    # and cites the version of record, a year or more after v1.
    if (work.preprint or work.source == "arxiv") and has_arxiv:
        return min(work.years) <= year <= min(work.years) + PREPRINT_GAP
    return False


_VENUE_STOP = frozenset(
    """a an and the of on in for to at by with de der und la le des du
    journal proceedings proc conference conf international intl annual
    symposium workshop transactions trans letters review reviews research
    science sciences acm ieee volume vol part series edition ed""".split()
)


def _venue_words(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", anyascii(to_plain(text)).lower())
    return [w for w in words if w not in _VENUE_STOP]


def _abbreviates(short: str, full: str) -> bool:
    """``natl`` abbreviates ``national``: same first letter, the rest in order."""
    if short == full:
        return True
    if len(short) < 2 or short[0] != full[0] or len(short) > len(full) or short.isdigit():
        return False
    it = iter(full)
    return all(c in it for c in short)


def venues_agree(ours: str, theirs: Iterable[str]) -> bool | None:
    """None when there is nothing to compare; else whether any significant word is shared."""
    mine = _venue_words(ours)
    if not mine or is_preprint_venue(ours):
        return None
    compared = False
    for venue in theirs:
        words = _venue_words(venue)
        if not words or is_preprint_venue(venue):
            continue
        compared = True
        if any(_abbreviates(a, b) or _abbreviates(b, a) for a in mine for b in words):
            return True
    return False if compared else None


def _pages(text: str) -> tuple[str, str]:
    parts = [p for p in re.split(r"\s*(?:-|\u2013|\u2014|--)+\s*", to_plain(text).strip()) if p]
    if not parts:
        return "", ""
    first = parts[0].lower()
    last = parts[-1].lower() if len(parts) > 1 else ""
    # "1735-80": the last page abbreviated.
    if last and last.isdigit() and first.isdigit() and len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return first, last


def pages_agree(ours: str, theirs: str) -> bool | None:
    a_first, a_last = _pages(ours)
    b_first, b_last = _pages(theirs)
    if not a_first or not b_first:
        return None
    if a_first != b_first:
        return False
    return not (a_last and b_last and a_last != b_last)


def _number(text: str) -> str:
    plain = to_plain(text).strip().lower()
    return plain.lstrip("0") or plain


def volume_agrees(ours: str, theirs: str) -> bool | None:
    if not ours.strip() or not theirs.strip():
        return None
    return _number(ours) == _number(theirs)


def compare(record: Record, works: Sequence[Found]) -> dict[str, dict[str, Any]]:
    """The fields on which *no* work that has a value agrees with the record: field -> found value."""
    has_arxiv = bool(record_arxiv(record))
    out: dict[str, dict[str, Any]] = {}

    def judge_field(name: str, verdicts: list[tuple[bool | None, Found, Any]]) -> None:
        said = [(ok, w, v) for ok, w, v in verdicts if ok is not None]
        if said and not any(ok for ok, _, _ in said):
            _, w, value = said[0]
            out[name] = {"value": value, "source": w.source, "id": w.id}

    judge_field(
        "title",
        [
            (same_title(record.title, w), w, w.title + (f": {w.subtitle}" if w.subtitle else ""))
            for w in works
            if record.title
        ],
    )
    judge_field(
        "author",
        [(authors_agree(record, w), w, [display_name(n) for n in w.authors]) for w in works],
    )
    judge_field(
        "year",
        [(year_agrees(record, w, has_arxiv), w, w.years[0] if w.years else None) for w in works],
    )
    if "year" in out and not year_decisive(record, works):
        out["year"]["uncertain"] = True
    judge_field(
        "venue",
        [
            (venues_agree(record.container_title, w.venues), w, w.venues[0] if w.venues else "")
            for w in works
            if not w.preprint
        ],
    )
    judge_field("volume", [(volume_agrees(record.volume, w.volume), w, w.volume) for w in works])
    judge_field("pages", [(pages_agree(record.pages, w.pages), w, w.pages) for w in works])
    return out


def year_decisive(record: Record, works: Sequence[Found]) -> bool:
    """A year disagreement stands: a source with all its dates disagrees, or the gap is over a year."""
    year = record.issued.year
    for w in works:
        if year is None or not w.years:
            continue
        if w.dates_complete or all(abs(y - year) > 1 for y in w.years):
            return True
    return False


def needs_full_dates(record: Record, works: Sequence[Found]) -> bool:
    """Only single-date sources (OpenAlex) put the year one off: ask one that has print and online dates."""
    return "year" in compare(record, works) and not year_decisive(record, works)


def _same_work_despite_title(record: Record, works: Sequence[Found]) -> bool:
    """The id's work has another title, but everything else says it is the record's work."""
    has_arxiv = bool(record_arxiv(record))
    for w in works:
        if not record.authors or not w.authors:
            continue
        matched = author_matches(record.authors, w.authors)
        if matched == 0 or 2 * matched < len(record.authors):
            continue
        if year_agrees(record, w, has_arxiv) is not True:
            continue
        if volume_agrees(record.volume, w.volume) or pages_agree(record.pages, w.pages):
            return True
    return False


def _chimera(record: Record, w: Found) -> bool:
    """The title is a real work's, word for word, with its year and venue or numbers: the authors are wrong."""
    if not same_title(record.title, w, exact=True) or len(_norm_title(record.title).split()) < 3:
        return False
    if year_agrees(record, w, bool(record_arxiv(record))) is not True:
        return False
    return bool(
        venues_agree(record.container_title, w.venues)
        and (volume_agrees(record.volume, w.volume) or pages_agree(record.pages, w.pages))
    )


# --------------------------------------------------------------------------
# The verdict


def _asked(ev: Evidence) -> list[dict[str, str]]:
    out = []
    for what, answers in (("doi", ev.doi), ("eprint", ev.arxiv), ("title", ev.search)):
        for a in answers:
            if a.status != "skipped":
                out.append(
                    {"source": a.source, "asked": what, "status": a.status, "message": a.message}
                )
    return out


def _retracted(works: Iterable[Found]) -> bool:
    return any(w.retracted for w in works)


def _settle(record: Record, v: Verdict, works: list[Found]) -> Verdict:
    """verified or mismatch, from the fields on which the works disagree with the record."""
    diffs = compare(record, works)
    v.retracted = _retracted(works)
    v.evidence = works
    doubt = ""
    if diffs.get("year", {}).get("uncertain"):
        # One year off from a source with one date for the work: online-first or
        # print? Not a mismatch we can stand by, nor a verification.
        found = diffs.pop("year")
        doubt = (
            f"year: {found['source']} says {found['value']}, one year off, and no source"
            " with print and online dates answered"
        )
    if doubt and not diffs:
        v.verdict = "unchecked"
        v.message = doubt
    elif diffs:
        v.verdict = "mismatch"
        v.fields = [f for f in FIELDS if f in diffs]
        v.found = {f: diffs[f] for f in v.fields}
        v.message = "; ".join(
            [f"{f}: {_shown(diffs[f]['value'])} ({diffs[f]['source']})" for f in v.fields]
            + ([doubt] if doubt else [])
        )
    else:
        v.verdict = "verified"
    if v.retracted:
        said = sorted({w.source for w in works if w.retracted})
        v.message = "; ".join(x for x in (f"RETRACTED (says {', '.join(said)})", v.message) if x)
    return v


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(x) for x in value[:6]) + ("; ..." if len(value) > 6 else "")
    return str(value)


def _resolve(answers: Sequence[Answer]) -> tuple[str, list[Found], str]:
    """("found" | "phantom" | "unknown" | "none", works, message) for one id's answers."""
    if not answers:
        return "none", [], ""
    works = [w for a in answers if a.status == "found" for w in a.works]
    if works:
        return "found", works, ""
    gone = [a for a in answers if a.authority and a.status == "not-found"]
    if gone:
        return "phantom", [], f"{gone[0].source}: {gone[0].message or 'not found'}"
    failed = [a for a in answers if not a.answered and a.status != "skipped"]
    why = "; ".join(f"{a.source}: {a.message or a.status}" for a in failed)
    return "unknown", [], why or "no source could resolve it"


def judge(record: Record, ev: Evidence) -> Verdict:
    """The verdict for ``record`` from what the sources said (see the module docstring)."""
    v = Verdict(
        key=record.key,
        verdict="unchecked",
        location=record.location(),
        asked=_asked(ev),
        title=to_plain(record.title),
    )
    doi, arxiv = record_doi(record), record_arxiv(record)
    resolved: list[tuple[str, list[Found]]] = []
    unknown: list[str] = []
    for label, ident, answers in (("doi", doi, ev.doi), ("eprint", arxiv, ev.arxiv)):
        if not ident:
            continue
        state, works, why = _resolve(answers)
        if state == "phantom":
            v.verdict = "phantom-id"
            v.fields = [label]
            v.message = f"{'DOI' if label == 'doi' else 'arXiv id'} {ident} does not exist ({why})"
            return v
        if state == "found":
            resolved.append((label, works))
        else:
            unknown.append(f"{label} {ident}: {why or 'not asked'}")
    if resolved:
        wrong = [
            (label, works)
            for label, works in resolved
            if record.title
            and not any(same_title(record.title, w) for w in works)
            and not _same_work_despite_title(record, works)
        ]
        if wrong:
            label, works = wrong[0]
            v.verdict = "wrong-id"
            v.fields = [label]
            v.evidence = works
            v.id_confirmed = False
            other = works[0]
            ident = doi if label == "doi" else arxiv
            v.found = {label: {"value": other.id, "source": other.source, "title": other.title}}
            who = other.authors[0].family or other.authors[0].literal if other.authors else ""
            when = str(other.years[0]) if other.years else ""
            about = ", ".join(x for x in (who, when, other.source) if x)
            kind = "DOI" if label == "doi" else "arXiv id"
            v.message = f"the {kind} {ident} is another work: {other.title!r} ({about})"
            return v
        works = [w for _, ws in resolved for w in ws]
        v.id_confirmed = True
        _settle(record, v, works)
        if unknown and v.verdict == "verified":
            v.message = "checked by one id; " + "; ".join(unknown)
        return v
    if unknown:
        v.message = "could not check: " + "; ".join(unknown)
        return v
    # No id: a title search, for the kinds of work the sources cover.
    if uncovered(record):
        v.message = f"no source covers this kind of work ({record.source_type or record.type}) without an id"
        return v
    if not record.title:
        v.message = "no title and no id: nothing to check"
        return v
    candidates = [w for a in ev.search if a.status == "found" for w in a.works]
    same = [w for w in candidates if same_title(record.title, w)]
    ours = [w for w in same if record.authors and author_matches(record.authors, w.authors) > 0]
    if not record.authors:
        ours = same
    if ours:
        # Only the candidates that are this one work (its DOI, else its title and authors).
        return _settle(record, v, ours)
    chimeras = [w for w in same if _chimera(record, w)]
    if chimeras:
        return _settle(record, v, chimeras[:1])
    asked = [a for a in ev.search if a.status != "skipped"]
    if asked and all(a.answered for a in asked) and record.type in PARTLY_COVERED_TYPES:
        v.message = f"no source has it, but the sources index only some {record.type}s without DOI"
        return v
    if asked and all(a.answered for a in asked):
        v.verdict = "not-found"
        v.message = "no source has a work with this title and an author in common"
        near = [w for w in candidates if same_title(record.title, w)]
        if near:
            v.evidence = near[:3]
        return v
    failed = [a for a in asked if not a.answered]
    v.message = "could not check: " + (
        "; ".join(f"{a.source}: {a.message or a.status}" for a in failed) or "no source asked"
    )
    return v


def suggest(record: Record, v: Verdict, works: Sequence[Found]) -> Verdict:
    """For a wrong id: the id of the work the title and authors describe, if a search found it.

    Said in ``found`` (``suggested``) and the message, never applied: a title
    match is not the evidence ``--fix`` needs.
    """
    if v.verdict != "wrong-id" or not v.fields:
        return v
    wrong = {w.id.lower() for w in v.evidence} | {w.doi.lower() for w in v.evidence if w.doi}
    label = v.fields[0]
    for w in works:
        parsed = parse_arxiv(w.doi)
        arxiv = w.arxiv_id or (parsed.id if parsed else "")
        ident = (arxiv or "") if label == "eprint" else w.doi
        if not ident or ident.lower() in wrong or not same_title(record.title, w):
            continue
        if record.authors and not author_matches(record.authors, w.authors):
            continue
        v.found.setdefault(label, {})["suggested"] = {"value": ident, "source": w.source}
        v.message += f"; the title and authors are {ident} ({w.source})"
        break
    return v


def matched_works(verdicts: Iterable[Verdict]) -> dict[str, str]:
    """key -> the DOI (else the source's id) of the work a verified or mismatched record is."""
    out = {}
    for v in verdicts:
        if v.verdict in ("verified", "mismatch") and v.evidence:
            w = v.evidence[0]
            out[v.key] = (w.doi or f"{w.source}:{w.id}").lower()
    return out


def exit_status(verdicts: Iterable[Verdict]) -> int:
    return 1 if any(v.bad for v in verdicts) else 0


def counts(verdicts: Iterable[Verdict]) -> dict[str, int]:
    out: dict[str, int] = dict.fromkeys(VERDICTS, 0)
    for v in verdicts:
        out[v.verdict] += 1
    return out


def needs_search(record: Record) -> bool:
    """Records checked by a title search: no id, a title, a kind of work the sources cover."""
    return (
        not record_doi(record)
        and not record_arxiv(record)
        and bool(record.title)
        and not uncovered(record)
    )


def search_text(record: Record) -> str:
    """The words to search for: the title, without its subtitle when it has one of 2+ words."""
    plain = to_plain(record.title)
    main = _SUBTITLE.split(plain, maxsplit=1)[0]
    if main != plain and len(normalize_title(main).split()) >= 2:
        return main
    return plain


def is_preprint_work(doi: str, kind: str) -> bool:
    return is_preprint_doi(doi) or kind in ("posted-content", "preprint")
