"""Complete records from metadata sources, under a merge policy that never hides a change.

:func:`enrich` runs the sources (``arxiv``, ``github``, ``published``: preprint ->
version of record, see :mod:`bibtools.published`) over a list of records
and returns an :class:`EnrichResult`: new records (the input is never
mutated; a record nothing changed in is returned as the same object), one
:class:`RecordReport` per record with its :class:`Outcome`, every
:class:`Change` (applied or refused), the HTTP counters of this run, and
diagnostics for the records that could not be enriched.  It prints nothing;
a CLI builds on it like this::

    http = HttpClient.from_env(cache_dir=opt_cache_dir, offline=opt_offline, refresh=opt_refresh)
    result = enrich(records, http=http, progress=bar_update)   # records with keys assigned
    for change in result.changes: ...        # --dry-run: print, do not write
    write(result.records) ; json.dump(result.to_json(), report_file)   # --report
    print(result.summary(), file=sys.stderr)  # "31 enriched, 2 ambiguous, 1 not found; 5 requests, 3 from cache"
    exit_code = 1 if result.not_enriched else 0

**Lookup.** A record whose id can be found (``arxiv_id``/eprint, an
arxiv.org URL, the DOI ``10.48550/arXiv.X``, ``arXiv:X`` in the journal or
note; see :func:`bibtools.ids.arxiv_from_record`) is looked up by
id, 100 per request.  Any other record with a title is searched by title,
and a candidate is accepted only when its normalised title matches (a
small edit distance allowed, see :mod:`bibtools.text.matching`) **and** at least
one author family name is shared.  The same title with other authors, a
title that merely contains ours, or several equally good candidates make
the record ``ambiguous``: nothing is applied, the candidates are named.
A record whose id arXiv does not know is ``not-found`` (no title fallback:
a wrong id is the user's to fix).

**What is filled** (only where the record has no value; a different value
the record already has is kept and reported as a refused change):

=====================  ==========================================================
authors                the full list, when the record's authors are the first
                       ones of arXiv's (by family name) and arXiv has more, or
                       the record's list was truncated (``and others``)
arxiv_id, arxiv_version  the id without version; the latest version number
arxiv_primary_class    the primary category (``CL`` is expanded to ``cs.CL``)
arxiv_categories       every arXiv category, primary first
issued                 the first version's date, when the record has no date
doi                    ``arxiv:doi`` (the published version), else ``10.48550/arXiv.<id>``
abstract               arXiv's abstract (LaTeX decoded to markup), when missing
url                    ``https://arxiv.org/abs/<id>``, when the record has no URL
code_links             code-host URLs found in the abstract or comments
journal_ref            arXiv's journal reference
arxiv_comment          arXiv's comments ("12 pages...")
pdf_url                ``https://arxiv.org/pdf/<id>``
=====================  ==========================================================
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .changes import NOT_ENRICHED, Change, Outcome, display, label, most_actionable
from .diagnostics import Diagnostics, UsageError
from .formats.listing import AMBIGUOUS_CODES, CATEGORIES
from .http import HttpClient, stats_delta
from .ids import arxiv_from_record, parse_arxiv
from .model import CodeLink, Name, Record
from .text.markup import from_latex, to_plain
from .text.matching import (
    author_overlap,
    leading_authors_agree,
    normalize_title,
    title_contains,
    title_distance,
)
from .text.names import parse_plain_name
from .text.urls import find_urls, is_code_url, repository

if TYPE_CHECKING:
    from .http import HostStats, HttpClient
    from .sources.arxiv import ArxivClient, ArxivEntry

SOURCES = ("arxiv", "github", "published")

ProgressFn = Callable[[int, int, str], None]
"""``progress(done, total, description)``: records settled so far, out of all records."""


@dataclass(slots=True)
class RecordReport:
    index: int  # position in the input
    key: str  # citation key, or "#N" when the record has none
    location: str  # FILE:LINE
    outcome: Outcome = Outcome.UNCHANGED
    message: str = ""
    arxiv_id: str = ""  # the paper the record was matched to
    how: str = ""  # "id" or "title"
    candidates: list[str] = field(default_factory=list)  # arXiv ids, for ambiguous records
    changes: list[Change] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # per source
    # Why a published version was (or was not) applied: see bibtools.published.Evidence.
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "location": self.location,
            "outcome": self.outcome.value,
            "message": self.message,
            "arxiv_id": self.arxiv_id,
            "matched_by": self.how,
            "candidates": list(self.candidates),
            "changes": [c.as_dict() for c in self.changes],
            **({"evidence": [dict(e) for e in self.evidence]} if self.evidence else {}),
        }


@dataclass(slots=True)
class EnrichResult:
    records: list[Record]
    reports: list[RecordReport]
    stats: dict[str, HostStats]  # this run's HTTP counters per host
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    warnings: list[str] = field(default_factory=list)  # e.g. the cache could not be opened

    @property
    def changes(self) -> list[Change]:
        """Every change, applied or refused, in record order."""
        return [c for r in self.reports for c in r.changes]

    @property
    def not_enriched(self) -> list[RecordReport]:
        return [r for r in self.reports if r.outcome in NOT_ENRICHED]

    def counts(self) -> Counter[Outcome]:
        return Counter(r.outcome for r in self.reports)

    @property
    def requests_sent(self) -> int:
        return sum(s.sent for s in self.stats.values())

    @property
    def from_cache(self) -> int:
        return sum(s.from_cache for s in self.stats.values())

    def summary(self) -> str:
        """``31 enriched, 2 ambiguous, 1 not found; 5 requests, 3 from cache``.

        Requests are all HTTP requests the run needed: those sent over the
        network (retries included) plus those answered from the cache.
        """
        counts = self.counts()
        parts = [f"{counts[Outcome.ENRICHED]} enriched"]
        parts += [
            f"{counts[o]} {label(o)}" for o in Outcome if o is not Outcome.ENRICHED and counts[o]
        ]
        total = self.requests_sent + self.from_cache
        noun = "request" if total == 1 else "requests"
        return f"{', '.join(parts)}; {total} {noun}, {self.from_cache} from cache"

    def to_json(self) -> dict[str, Any]:
        """The ``--report`` document: deterministic for the same input and answers."""
        counts = self.counts()
        return {
            "summary": {
                **{o.value: counts[o] for o in Outcome},
                "requests": self.requests_sent + self.from_cache,
                "sent": self.requests_sent,
                "from_cache": self.from_cache,
                "offline_misses": sum(s.offline_misses for s in self.stats.values()),
            },
            "hosts": {
                host: {k: v for k, v in s.as_dict().items() if k != "waited"}
                for host, s in sorted(self.stats.items())
            },
            "records": [r.as_dict() for r in self.reports],
            "changes": [c.as_dict() for c in self.changes],
            "warnings": list(self.warnings),
        }


# --------------------------------------------------------------------------
# Running sources


class _Run:
    def __init__(self, records: Sequence[Record], progress: ProgressFn | None) -> None:
        self.originals = list(records)
        self.records = list(records)
        self.reports = [
            RecordReport(i, r.key or f"#{i + 1}", r.location()) for i, r in enumerate(records)
        ]
        self.progress = progress
        self.done = 0
        # (record index, message): partial answers worth a warning on an enriched record.
        self.notes: list[tuple[int, str]] = []

    def advance(self, n: int, description: str) -> None:
        self.done = min(len(self.records), self.done + n)
        if self.progress:
            self.progress(self.done, len(self.records), description)

    def settle(self, i: int, source: str, outcome: Outcome, message: str = "") -> None:
        report = self.reports[i]
        report.outcomes[source] = outcome
        report.outcome = most_actionable(report.outcomes.values())
        if message and (outcome is report.outcome or not report.message):
            report.message = message


def enrich(
    records: Sequence[Record],
    *,
    http: HttpClient | None = None,
    sources: Sequence[str] = ("arxiv",),
    env: Mapping[str, str] | None = None,
    progress: ProgressFn | None = None,
    arxiv: ArxivClient | None = None,
) -> EnrichResult:
    """Enrich ``records`` from ``sources``; see the module docstring for the policy.

    ``http`` carries the cache/offline/refresh settings (default:
    :meth:`HttpClient.from_env`, closed again at the end); ``env`` replaces
    ``os.environ`` for ``BIBTOOLS_ARXIV_API``/``_DELAY``/``BIBTOOLS_CACHE_DIR`` (and the
    ``published`` source's ``BIBTOOLS_S2_API``, ``S2_API_KEY``, ``BIBTOOLS_DBLP_API``,
    ``BIBTOOLS_CROSSREF_API``, ``BIBTOOLS_CONTACT_EMAIL``);
    ``arxiv`` replaces the arXiv client built from ``env`` (tests tune it).
    Records should have their citation keys assigned first, so that the
    changes name them.
    """
    from .sources.arxiv import ArxivClient

    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise UsageError(f"unknown source {unknown[0]!r} (choose from {', '.join(SOURCES)})")
    own = http is None
    client = http if http is not None else HttpClient.from_env(env)
    try:
        before = client.snapshot()
        run = _Run(records, progress)
        if progress:
            progress(0, len(records), "enriching")
        if "arxiv" in sources:
            _arxiv_pass(run, arxiv or ArxivClient.from_env(client, env))
        if "github" in sources:
            _github_pass(run, client, env)
        if "published" in sources:
            _published_pass(run, client, env)
        stats = stats_delta(client.snapshot(), before)
        # All of them, not only this run's: a cache that failed to open earlier is still missing.
        warnings = list(client.warnings)
    finally:
        if own:
            client.close()
    diagnostics = Diagnostics()
    for w in warnings:
        diagnostics.warn("http cache", 0, w)
    for report, record in zip(run.reports, run.originals, strict=True):
        if report.outcome in NOT_ENRICHED:
            diagnostics.warn(
                record.origin_file or "<input>",
                record.origin_line,
                f"not enriched ({report.outcome.value}): {report.message}",
                record.key,
            )
    for i, note in run.notes:
        record = run.originals[i]
        if run.reports[i].outcome not in NOT_ENRICHED:  # else its message is already said
            diagnostics.warn(record.origin_file or "<input>", record.origin_line, note, record.key)
    return EnrichResult(run.records, run.reports, stats, diagnostics, warnings)


# --------------------------------------------------------------------------
# GitHub


def _github_pass(run: _Run, http: HttpClient, env: Mapping[str, str] | None) -> None:
    """Check the records' GitHub repositories and fill their code links (see links.py)."""
    from .links import LinkStatus, check_links, enrich_github

    report = check_links(run.records, http=http, env=env, only_github=True)
    updated, changes = enrich_github(run.records, report)
    rows_by_record: dict[int, list[Any]] = {}
    for row in report.results:
        if row.kind == "github":
            rows_by_record.setdefault(row.index, []).append(row)
    changes_by_key: dict[str, list[Change]] = {}
    for change in changes:
        changes_by_key.setdefault(change.record_key, []).append(change)
    for i, report_row in enumerate(run.reports):
        rows = rows_by_record.get(i)
        if not rows:
            run.settle(i, "github", Outcome.UNCHANGED)  # nothing on GitHub to ask about
            continue
        run.records[i] = updated[i]
        mine = changes_by_key.get(report_row.key, [])
        report_row.changes.extend(mine)
        statuses = {row.status for row in rows}
        for row in rows:
            if row.repo is not None and row.repo.via == "web" and row.message:
                # The API failed or was spent: say why the record lacks stars and licence.
                run.notes.append((i, f"GitHub: {row.url}: {row.message}"))
        if statuses & {LinkStatus.RATE_LIMITED, LinkStatus.UNREACHABLE}:
            failed = next(
                r for r in rows if r.status in (LinkStatus.RATE_LIMITED, LinkStatus.UNREACHABLE)
            )
            run.settle(
                i,
                "github",
                Outcome.FAILED,
                f"GitHub: {failed.url}: {failed.message or failed.status.value}",
            )
        elif LinkStatus.NOT_CHECKED in statuses:
            run.settle(i, "github", Outcome.SKIPPED_OFFLINE, "GitHub: not in the cache (offline)")
        elif statuses == {LinkStatus.MISSING}:
            run.settle(i, "github", Outcome.NOT_FOUND, f"GitHub: {rows[0].url} does not exist")
        elif any(c.applied for c in mine):
            run.settle(i, "github", Outcome.ENRICHED)
        else:
            run.settle(i, "github", Outcome.UNCHANGED)


# --------------------------------------------------------------------------
# Published versions


def _published_pass(run: _Run, http: HttpClient, env: Mapping[str, str] | None) -> None:
    """Turn preprints into their version of record where one is safely found (see published.py)."""
    from .published import PublishedResolver, apply_resolution

    resolver = PublishedResolver.from_env(http, env)
    verdicts = resolver.resolve(run.records, lambda n: run.advance(n, "published versions"))
    for i, verdict in enumerate(verdicts):
        report = run.reports[i]
        applied = apply_resolution(run.records[i], verdict, report.key)
        run.records[i] = applied.record
        report.changes.extend(applied.changes)
        report.candidates.extend(applied.candidates)
        report.evidence.extend(applied.evidence)
        run.settle(i, "published", applied.outcome, applied.message)


# --------------------------------------------------------------------------
# arXiv


def _arxiv_pass(run: _Run, client: ArxivClient) -> None:

    by_id: dict[str, list[int]] = {}
    by_title: dict[str, list[int]] = {}
    for i, record in enumerate(run.records):
        found = arxiv_from_record(record)
        if found is not None:
            by_id.setdefault(found.id, []).append(i)
        elif to_plain(record.title).strip():
            by_title.setdefault(record.title, []).append(i)
        else:
            run.settle(i, "arxiv", Outcome.NOT_FOUND, "no arXiv id and no title to search for")
            run.advance(1, "arXiv")

    if by_id:
        looked_up = client.lookup_ids(
            list(by_id),
            progress=lambda keys: run.advance(sum(len(by_id[k]) for k in keys), "arXiv ids"),
        )
        for key, indices in by_id.items():
            by_id_result = looked_up[key]
            for i in indices:
                _settle_lookup(
                    run, i, by_id_result.status, by_id_result.entry, by_id_result.message, "id"
                )

    if by_title:
        searched = client.search_titles(
            list(by_title),
            progress=lambda titles: run.advance(
                sum(len(by_title[t]) for t in titles), "arXiv titles"
            ),
        )
        for title, indices in by_title.items():
            result = searched[title]
            for i in indices:
                if result.status != "found":
                    _settle_lookup(run, i, result.status, None, result.message, "title")
                    continue
                entry, message, candidates = choose_candidate(run.records[i], result.candidates)
                if entry is None:
                    outcome = Outcome.AMBIGUOUS if candidates else Outcome.NOT_FOUND
                    run.reports[i].candidates = candidates
                    run.settle(i, "arxiv", outcome, message)
                else:
                    _settle_lookup(run, i, "found", entry, "", "title")


def _settle_lookup(
    run: _Run, i: int, status: str, entry: ArxivEntry | None, message: str, how: str
) -> None:
    if status == "offline":
        run.settle(i, "arxiv", Outcome.SKIPPED_OFFLINE, message or "not in the cache (offline)")
        return
    if status == "failed":
        run.settle(i, "arxiv", Outcome.FAILED, message)
        return
    if status != "found" or entry is None:
        run.settle(i, "arxiv", Outcome.NOT_FOUND, message)
        return
    report = run.reports[i]
    updated, changes = merge_arxiv(run.records[i], entry, report.key)
    run.records[i] = updated
    report.changes.extend(changes)
    report.arxiv_id = entry.arxiv_id
    report.how = how
    applied = any(c.applied for c in changes)
    run.settle(
        i, "arxiv", Outcome.ENRICHED if applied else Outcome.UNCHANGED, f"arXiv {entry.arxiv_id}"
    )


_COLLABORATION = re.compile(
    r"\b(collaboration|consortium|team|group|collective|project)\b", re.IGNORECASE
)


def arxiv_name(raw: str) -> Name:
    """An arXiv author string (``Adrian Del Maestro``, ``H1 Collaboration``) as a Name."""
    text = to_plain(from_latex(raw)) if ("\\" in raw or "{" in raw) else " ".join(raw.split())
    if _COLLABORATION.search(text):
        return Name(literal=text)
    return parse_plain_name(text)


def choose_candidate(
    record: Record, candidates: Sequence[ArxivEntry]
) -> tuple[ArxivEntry | None, str, list[str]]:
    """(entry, "", []) when one candidate is safely this record's paper, else (None, why, candidate ids).

    Accepted: normalised titles match (:func:`bibtools.text.matching.title_distance`)
    and at least one author is shared; the best by (title distance, shared
    authors) wins unless another is exactly as good.
    """
    ours = normalize_title(record.title)
    scored: list[tuple[int, int, ArxivEntry]] = []
    same_title: list[ArxivEntry] = []
    containing: list[ArxivEntry] = []
    for entry in candidates:
        distance = title_distance(ours, entry.normalized_title)
        if distance is None:
            if title_contains(ours, entry.normalized_title):
                containing.append(entry)
            continue
        overlap = author_overlap(record.authors, [arxiv_name(a.name) for a in entry.authors])
        if overlap:
            scored.append((distance, -overlap, entry))
        else:
            same_title.append(entry)
    if scored:
        scored.sort(key=lambda s: (s[0], s[1], s[2].arxiv_id))
        best = scored[0]
        ties = [s[2].arxiv_id for s in scored if s[:2] == best[:2]]
        if len(ties) > 1:
            return None, f"{len(ties)} arXiv papers match equally well: {', '.join(ties)}", ties
        return best[2], "", []
    if same_title:
        ids = [e.arxiv_id for e in same_title]
        why = "the record has no authors to confirm" if not record.authors else "other authors"
        return None, f"same title, {why}: {', '.join(ids)}", ids
    if containing:
        ids = [e.arxiv_id for e in containing]
        return None, f"only longer titles containing this one: {', '.join(ids)}", ids
    return None, "no arXiv paper has this title", []


def _names(names: Sequence[Name], truncated: bool = False) -> list[str]:
    return [n.display() for n in names] + (["others"] if truncated else [])


class _Merger:
    """Collects changes for one record; applies only what the policy allows."""

    def __init__(self, record: Record, key: str) -> None:
        self.old = record
        # The merge replaces values and extends these containers, never edits what they hold.
        self.new = replace(
            record,
            authors=list(record.authors),
            arxiv_categories=list(record.arxiv_categories),
            code_links=list(record.code_links),
            extra=dict(record.extra),
        )
        self.key = key
        self.changes: list[Change] = []

    def apply(self, field_name: str, old: Any, new: Any) -> None:
        self.changes.append(Change(self.key, field_name, old, new, "arxiv"))

    def refuse(self, field_name: str, old: Any, new: Any, note: str) -> None:
        self.changes.append(
            Change(self.key, field_name, old, new, "arxiv", applied=False, note=note)
        )

    def fill(
        self, field_name: str, value: Any, same: Callable[[Any, Any], bool] | None = None
    ) -> None:
        """Set an empty field; report a different existing value as refused."""
        current = getattr(self.new, field_name)
        if not value:
            return
        if not current:
            setattr(self.new, field_name, value)
            self.apply(field_name, display(current), display(value))
        elif not (same or (lambda a, b: a == b))(current, value):
            self.refuse(
                field_name, display(current), display(value), "the record has another value"
            )


def merge_arxiv(record: Record, entry: ArxivEntry, key: str) -> tuple[Record, list[Change]]:
    """The record completed from ``entry``, and the changes (applied and refused)."""
    m = _Merger(record, key)
    _merge_authors(m, [arxiv_name(a.name) for a in entry.authors])
    same_id = not record.arxiv_id or _same_arxiv_id(record.arxiv_id, entry.arxiv_id)
    m.fill("arxiv_id", entry.arxiv_id, _same_arxiv_id)
    if same_id and record.arxiv_version is None and entry.version:
        m.new.arxiv_version = entry.version
        m.apply("arxiv_version", None, entry.version)
    _merge_primary(m, entry.primary_category)
    m.fill("arxiv_categories", list(entry.categories), lambda a, b: set(a) == set(b))
    if not record.issued:
        m.fill("issued", entry.published_date())
    doi = entry.doi or entry.id.doi
    m.fill("doi", doi, lambda a, b: str(a).strip().lower() == str(b).strip().lower())
    m.fill("journal_ref", entry.journal_ref)
    m.fill("arxiv_comment", entry.comment)
    if not record.abstract and entry.summary:
        m.fill("abstract", from_latex(entry.summary))
    if not record.url:
        m.fill("url", f"https://arxiv.org/abs/{entry.arxiv_id}")
    m.fill("pdf_url", f"https://arxiv.org/pdf/{entry.arxiv_id}")
    _merge_code_links(m, entry)
    if not any(c.applied for c in m.changes):
        return record, m.changes
    return m.new, m.changes


def _same_arxiv_id(a: Any, b: Any) -> bool:

    pa, pb = parse_arxiv(str(a)), parse_arxiv(str(b))
    return pa is not None and pb is not None and pa.id == pb.id


def _merge_authors(m: _Merger, theirs: list[Name]) -> None:
    ours = m.old.authors
    if not theirs:
        return
    old = _names(ours, m.old.authors_truncated)
    if not ours:
        m.new.authors, m.new.authors_truncated = theirs, False
        m.apply("authors", old, _names(theirs))
        return
    if not leading_authors_agree(ours, theirs):
        m.refuse(
            "authors",
            old,
            _names(theirs),
            "the record's first authors are not arXiv's first authors",
        )
        return
    if len(theirs) > len(ours) or m.old.authors_truncated:
        m.new.authors, m.new.authors_truncated = theirs, False
        m.apply("authors", old, _names(theirs))


def _merge_primary(m: _Merger, primary: str) -> None:
    ours = m.old.arxiv_primary_class
    if not primary or ours == primary:
        return
    if ours and primary.lower().rsplit(".", 1)[-1] == ours.lower() and "." not in ours:
        # A listing's "CL" is arXiv's "cs.CL": completing it is not overwriting it.
        m.new.arxiv_primary_class = primary
        m.apply("arxiv_primary_class", ours, primary)
        return
    if m.old.source is None and _guessed_archive(ours, primary):
        # A listing's "ST" was read as q-fin.ST, the first archive that has the
        # abbreviation; arXiv says which archive it is (math.ST).
        m.new.arxiv_primary_class = primary
        m.apply("arxiv_primary_class", ours, primary)
        return
    m.fill("arxiv_primary_class", primary)


def _guessed_archive(ours: str, primary: str) -> bool:
    """Is ``ours`` the listing reader's guess for an abbreviation ``primary`` also has?"""
    code = ours.rsplit(".", 1)[-1]
    return (
        "." in ours
        and "." in primary
        and code in AMBIGUOUS_CODES
        and CATEGORIES.get(code) == ours
        and primary.rsplit(".", 1)[-1] == code
    )


def _merge_code_links(m: _Merger, entry: ArxivEntry) -> None:
    known = {repository(c.url) or c.url for c in m.new.code_links}
    added: list[CodeLink] = []
    for origin, text in (("arXiv abstract", entry.summary), ("arXiv comment", entry.comment)):
        for url in find_urls(text):
            if not is_code_url(url):
                continue
            ident = repository(url) or url
            if ident not in known:
                known.add(ident)
                added.append(CodeLink(url, origin))
    if added:
        old = display(m.new.code_links)
        m.new.code_links = [*m.new.code_links, *added]
        m.apply("code_links", old, display(m.new.code_links))
