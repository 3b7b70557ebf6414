"""Find records that describe the same paper and merge each group into one.

Library API (pure: records in, new records and reports out; the input is
never mutated).  The CLI's ``bibtools merge INPUT... -o refs.bib
[--key-map map.json] [--dry-run]`` and ``--dedupe`` on ``convert``/``build``
run it like this::

    result = read_inputs(paths)                      # bibtools.convert
    merged = merge(result.records)                   # records with final keys
    _report(merged.diagnostics)
    if dry_run:
        print(describe(merged))                      # every group, its reasons, the fields
    else:
        write(merged.records, fmt, options)          # keys are already unique: no renames
        if key_map_path:
            write_atomic(key_map_path, merged.key_map_json())
    print(merged.summary(), file=sys.stderr)         # "25 records in, 18 out; ..."

:func:`find_duplicates` only groups (``bibtools lint`` uses it for its
duplicate-entry check); :func:`merge_group` merges one group.

**When two records are the same paper.**  Any of

* identical entries: the same type and the same fields, LaTeX decoded and
  white space normalised, whatever the key (:func:`identity`).  This is the
  plainest duplicate and needs nothing else: a ``@misc`` web page without
  title or year, a "personal communication" with only a note;
* the same DOI (case-insensitive; ``doi:``, ``https://doi.org/`` and other
  resolver or publisher URL prefixes and LaTeX escapes ignored: :func:`clean_doi`;
  arXiv's own DOIs ``10.48550/arXiv.X`` count as arXiv ids, not DOIs);
* the same arXiv id, any version (``1706.03762v5`` is ``1706.03762``; the
  id is found where :func:`bibtools.ids.arxiv_from_record` finds it:
  ``eprint``, an arxiv.org URL, an arXiv DOI, ``arXiv:X`` in the journal);
* the same normalised title AND at least one author (by family name, editors
  when there are no authors) in common AND years at most one apart.  "The
  same title" (:func:`same_title`) allows a few character edits
  (:mod:`bibtools.text.matching`), but numbers, Roman numerals, negations and
  short words that are not stopwords ("RL", "hz", "GAN") must agree.  A title
  alone never merges, and neither does a title contained in a longer one
  ("Learning to Rank" vs "Learning to Rank Fairly").

Identifiers are trusted, with one guard: two records sharing a DOI or an
arXiv id whose titles have less than half their words in common are left
apart and reported (a DOI pasted into the wrong entry, or a book's DOI on
its chapters).  Title matches never join records with different DOIs,
different arXiv ids (a conference paper and its journal version are two
publications) or different volumes, issues or pages of one venue (a
journal's yearly "Editorial"); when title matches would chain two such
records through a third, none of them is merged and a warning names them.
Groups are closed under these rules: merged records are checked again
until nothing merges, so merging the output again changes nothing.

**How a group is merged** (:func:`merge_group`): the members are ranked by
content, never by input position, so the result does not depend on input
order (except for the key):

1. the *published* version first: a member with a venue that is not a
   preprint server (a journal or proceedings title other than arXiv/CoRR),
   then a book, thesis or report with a publisher; then a member with a
   non-arXiv DOI; then the more complete member (more fields); then a
   fixed order on the content.
2. venue, pages, volume, publisher and the other venue fields come, as a
   block, from the best published member (gaps are filled only from members
   with the same venue); the entry type and date come from it too;
3. the DOI is the published one (an arXiv DOI only when there is no other);
4. the author list is the complete one: lists not cut short (``and others``)
   first, then the longest;
5. arXiv fields (``eprint``, version, class, categories, ``journal_ref``)
   are kept from the preprint: the highest version seen; an arXiv id that
   a member only mentions (Google Scholar's journal "arXiv preprint
   arXiv:X", an arxiv.org URL) becomes the merged record's ``eprint``;
6. every other field: the first value in rank order (the union of all
   fields); keywords, categories, code links and affiliations are united;
   fields kept verbatim from the input (``Record.extra``) are united for
   members of the same input format, except venue and date fields of a
   member that did not provide the venue or date;
7. the citation key is the key of the first member in input order that has
   one (listing records have none; a group without any gets a generated
   key), and every other member's key goes into the key map;
8. the merged record is written as the first member wrote it (its
   :class:`bibtools.model.Source`): only the fields the merge changed are
   encoded anew, so an identical copy merges into exactly its original.

``keep_apart`` (``merge --keep-apart A,B``) vetoes groups: the records with
those keys end in different groups, whatever the rules say.

:func:`merge` then gives every record a unique key (:func:`bibtools.text.keys.
assign_keys`, so an output written by :func:`bibtools.convert.write` keeps
them) and builds the old -> new key map from every input key that no
longer exists.  A key that names different entries in two inputs (not
duplicates: their fields differ, and the warning names which) stays with
the first and is renamed in the second; the key map then maps it for that
input only (``{"old": {"coauthor.bib": "new"}}``, applied by ``bibtools rekey
--bib coauthor.bib``).  Within one input such a rename cannot be mapped, and
the warning says so.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .changes import Change, display
from .diagnostics import Diagnostics
from .ids import arxiv_key, normalize_doi
from .model import CodeLink, Name, PartialDate, Record
from .preprint import is_preprint_venue
from .text.keys import STOPWORDS, assign_keys, base_key
from .text.matching import author_overlap, normalize_title, title_contains, title_distance

__all__ = [
    "DuplicateGroup",
    "Duplicates",
    "MergeResult",
    "describe",
    "find_duplicates",
    "merge",
    "merge_group",
    "same_title",
]

_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.I)
# Types that are publications in their own right when they carry a publisher.
_SELF_PUBLISHED_TYPES = frozenset(
    {"book", "thesis", "report", "patent", "standard", "chapter", "entry-encyclopedia", "dataset"}
)
# Fields that describe where a version appeared: taken together from one member.
VENUE_FIELDS = (
    "container_title",
    "collection_title",
    "volume",
    "issue",
    "number",
    "collection_number",
    "pages",
    "publisher",
    "publisher_place",
    "event",
    "organization",
    "institution",
    "isbn",
    "issn",
    "edition",
)
# Fields of ``Record.extra`` (any format's names) that are venue or date
# information: only the member that provided the venue (or date) brings them.
_VENUE_EXTRA = frozenset(
    """journal journaltitle booktitle booksubtitle booktitleaddon journalsubtitle
    journaltitleaddon maintitle mainsubtitle maintitleaddon howpublished chapter venue
    eventdate eventtitle series address location school institution organization publisher
    number volume pages issue type container-title collection-title page JO JF T2 T3 VL IS
    SP EP PB CY""".split()
)
_DATE_EXTRA = frozenset({"year", "month", "day", "date", "issued", "PY", "DA", "Y1"})
# Handled by dedicated rules below, or not content.
_SPECIAL = frozenset(
    {
        "type",
        "key",
        "source_type",
        "issued",
        "doi",
        "authors",
        "authors_truncated",
        "editors",
        "editors_truncated",
        "arxiv_id",
        "arxiv_version",
        "keywords",
        "arxiv_categories",
        "code_links",
        "code_announced",
        "affiliations",
        "extra",
        "extra_format",
        *VENUE_FIELDS,
    }
)


# --------------------------------------------------------------------------
# Identifiers


def _published_doi(record: Record) -> str:
    doi = normalize_doi(record.doi)
    return "" if not doi or _ARXIV_DOI.match(doi) else doi


def venue_score(record: Record) -> int:
    """2: appeared in a journal or proceedings; 1: a book/thesis/report with a publisher; 0: a preprint."""
    if record.container_title and not is_preprint_venue(record.container_title):
        return 2
    if (
        record.type in _SELF_PUBLISHED_TYPES
        and not record.arxiv_id
        and (record.publisher or record.institution)
        and not is_preprint_venue(record.publisher or record.institution)
    ):
        return 1
    return 0


# --------------------------------------------------------------------------
# Finding duplicates


@dataclass(slots=True)
class DuplicateGroup:
    """Records (indices into the input, in input order) that are one paper.

    ``reasons`` says why (``same DOI 10.1109/cvpr.2016.90``, ``same arXiv id
    1512.03385``, ``same title, authors and year``).  After :func:`merge`,
    ``record`` is the merged record, ``kept_key`` its key, ``dropped_keys``
    the members' other keys and ``changes`` how the merged record differs
    from the member whose key it kept (``applied``), and the members' values
    that lost (``applied=False``).
    """

    members: list[int]
    reasons: list[str] = field(default_factory=list)
    record: Record | None = None
    kept: int = -1  # the member whose key (and origin) the merged record kept
    kept_key: str = ""
    dropped_keys: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def as_dict(self, records: Sequence[Record] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"members": list(self.members), "reasons": list(self.reasons)}
        if records is not None:
            out["keys"] = [records[i].key for i in self.members]
            out["locations"] = [records[i].location() for i in self.members]
        if self.record is not None:
            out["kept"] = self.kept
            out["kept_key"] = self.kept_key
            out["dropped_keys"] = list(self.dropped_keys)
            out["changes"] = [c.as_dict() for c in self.changes]
        return out


@dataclass(slots=True)
class Duplicates:
    groups: list[DuplicateGroup] = field(default_factory=list)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)

    def group_of(self) -> dict[int, int]:
        """Input index -> index of its group, for members of some group."""
        return {m: g for g, group in enumerate(self.groups) for m in group.members}


@dataclass(slots=True)
class _Facts:
    """What the matching rules look at, computed once per record."""

    doi: str
    arxiv: str
    titles: tuple[str, ...]
    year: int | None
    people: list[Name]
    place: tuple[str, str, str, str]  # (venue, volume, issue, pages)


def _facts(record: Record) -> _Facts:
    doi = normalize_doi(record.doi)
    arxiv = arxiv_key(record)  # an arXiv DOI in ``doi`` is found here too
    if _ARXIV_DOI.match(doi):
        doi = ""
    title = normalize_title(record.title) if record.title else ""
    return _Facts(
        doi=doi,
        arxiv=arxiv,
        titles=(title,) if title else (),
        year=record.issued.year,
        people=list(record.authors or record.editors),
        place=(
            normalize_title(record.container_title) if record.container_title else "",
            record.volume.strip().lower(),
            record.issue.strip().lower(),
            record.pages.strip().lower(),
        ),
    )


def _title_words(title: str) -> set[str]:
    return set(title.split())


def titles_compatible(a: str, b: str) -> bool:
    """Loose agreement of two normalised titles: the guard on identifier matches.

    True when either is empty, they match (:func:`bibtools.text.matching.title_distance`),
    one contains the other, or at least half the words of the shorter are in the longer.
    """
    if not a or not b or same_title(a, b):
        return True
    if title_contains(a, b) or title_contains(b, a):
        return True
    wa, wb = _title_words(a), _title_words(b)
    return len(wa & wb) * 2 >= min(len(wa), len(wb))


class _UnionFind:
    """Union-find whose unions can be vetoed: ``apart[i]`` holds the keep-apart
    labels of record ``i``; two sets with different labels of one kind never join."""

    def __init__(self, n: int, apart: Sequence[dict[int, str]] | None = None) -> None:
        self.parent = list(range(n))
        # root -> {constraint number: the label it holds there}
        self.labels: dict[int, dict[int, str]] = (
            {i: dict(a) for i, a in enumerate(apart) if a} if apart else {}
        )

    def allowed(self, a: int, b: int) -> bool:
        la, lb = self.labels.get(self.find(a), {}), self.labels.get(self.find(b), {})
        return not any(n in lb and lb[n] != label for n, label in la.items())

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression, iteratively
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> bool:
        """Join the sets of ``a`` and ``b``; False when a keep-apart label forbids it."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if not self.allowed(ra, rb):
            return False
        # The smaller index is the root: the result is the same in any order.
        lo, hi = min(ra, rb), max(ra, rb)
        self.parent[hi] = lo
        if hi in self.labels:
            self.labels.setdefault(lo, {}).update(self.labels.pop(hi))
        return True

    def components(self) -> list[list[int]]:
        groups: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self.parent)):
            groups[self.find(i)].append(i)
        return sorted(groups.values(), key=lambda g: g[0])


@dataclass(slots=True)
class _Component:
    members: list[int]
    dois: set[str]
    arxiv: set[str]
    titles: set[str]
    years: set[int]
    people: list[Name]
    places: set[tuple[str, str, str, str]]


def _other_place(a: tuple[str, str, str, str], b: tuple[str, str, str, str]) -> bool:
    """The same venue, but another volume, issue or page range: another item in it."""
    return (
        bool(a[0])
        and a[0] == b[0]
        and any(x and y and x != y for x, y in zip(a[1:], b[1:], strict=True))
    )


def _conflict(a: _Component, b: _Component) -> bool:
    """Two publications, whatever their titles: different DOIs, different arXiv ids, or
    different places in one venue (the yearly "Editorial" of a journal)."""
    return bool(
        (a.dois and b.dois and not a.dois & b.dois)
        or (a.arxiv and b.arxiv and not a.arxiv & b.arxiv)
        or any(_other_place(x, y) for x in a.places for y in b.places)
    )


# Short words that are not stopwords name things ("hz" and "Kq" programs, "RL" vs
# "ML"): two titles that differ in one are two papers, however few letters differ.
def _short_words(title: str) -> set[str]:
    return {w for w in title.split() if len(w) <= 3 and w not in STOPWORDS}


def same_title(a: str, b: str) -> bool:
    """Two normalised titles of one paper: :func:`bibtools.text.matching.title_distance`
    matches, and short non-stopword tokens (acronyms, model names) are the same."""
    if a == b:
        return bool(a)
    return title_distance(a, b) is not None and _short_words(a) == _short_words(b)


def _where(record: Record, index: int) -> str:
    return f"{record.key or f'#{index + 1}'} ({record.location()})"


def _plain_ws(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return [_plain_ws(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain_ws(v) for k, v in value.items()}
    return value


def identity(record: Record) -> str:
    """What two identical entries share whatever their keys: the type and every field,
    LaTeX decoded (``{\\"u}`` and ``ü`` alike) and white space normalised."""
    values = sorted((k, repr(_plain_ws(v))) for k, v in record.populated().items() if k != "key")
    return repr((record.type, record.source_type.lower(), values))


def _apart_labels(
    records: Sequence[Record], keep_apart: Sequence[Collection[str]]
) -> list[dict[int, str]]:
    """For each record, the keep-apart sets its key is in: {set number: its key}."""
    out: list[dict[int, str]] = [{} for _ in records]
    for n, keys in enumerate(keep_apart):
        wanted = {k.lower() for k in keys}
        for i, rec in enumerate(records):
            if rec.key.lower() in wanted:
                out[i][n] = rec.key.lower()
    return out


def _identity_components(
    records: Sequence[Record],
    facts: Sequence[_Facts],
    diags: Diagnostics,
    apart: Sequence[dict[int, str]] | None = None,
) -> tuple[_UnionFind, dict[int, set[str]]]:
    uf = _UnionFind(len(records), apart)
    reasons: dict[int, set[str]] = defaultdict(set)
    refused: set[tuple[int, int]] = set()
    # Identical entries first: the plainest duplicate, whatever else they lack
    # (no title, no year: a @misc web page, "personal communication").
    same: dict[str, list[int]] = defaultdict(list)
    for i, rec in enumerate(records):
        same[identity(rec)].append(i)
    for members in same.values():
        for j in members[1:]:
            if uf.union(members[0], j):
                reasons[members[0]].add("identical")
                reasons[j].add("identical")
    for kind, label in (("doi", "DOI"), ("arxiv", "arXiv id")):
        buckets: dict[str, list[int]] = defaultdict(list)
        for i, f in enumerate(facts):
            value = getattr(f, kind)
            if value:
                buckets[value].append(i)
        for value, members in sorted(buckets.items()):
            for x, i in enumerate(members):
                for j in members[x + 1 :]:
                    ti = facts[i].titles[0] if facts[i].titles else ""
                    tj = facts[j].titles[0] if facts[j].titles else ""
                    if uf.find(i) == uf.find(j):
                        continue  # identical already
                    if titles_compatible(ti, tj):
                        if uf.union(i, j):
                            reasons[i].add(f"same {label} {value}")
                            reasons[j].add(f"same {label} {value}")
                    else:
                        refused.add((i, j))
                        diags.warn(
                            records[j].origin_file or "<input>",
                            records[j].origin_line,
                            f"same {label} {value} as {_where(records[i], i)} but another "
                            "title; not merged (is one of the identifiers wrong?)",
                            records[j].key,
                            "shared-identifier",
                        )
    return uf, reasons


def _blocking_keys(title: str) -> list[tuple[str, ...]]:
    """Keys two titles a few edits apart almost always share.

    An edit touches one or two words: the first two words, the last two, the
    middle two, or (for three words or fewer) the first and the last survive it.
    """
    words = title.split()
    keys: list[tuple[str, ...]] = [("=", title)]
    if len(words) >= 2:
        keys += [("^", *words[:2]), ("$", *words[-2:])]
    if len(words) >= 4:
        mid = len(words) // 2
        keys.append(("|", *words[mid - 1 : mid + 1]))
    if 1 <= len(words) <= 3:
        keys.append(("~", words[0], words[-1]))
    return keys


def _title_candidates(comps: Sequence[_Component]) -> set[tuple[int, int]]:
    """Pairs of components with a title pair that is the same title (:func:`same_title`)."""
    buckets: dict[tuple[str, ...], list[tuple[int, str]]] = defaultdict(list)
    for c, comp in enumerate(comps):
        for title in sorted(comp.titles):
            for key in _blocking_keys(title):
                buckets[key].append((c, title))
    pairs: set[tuple[int, int]] = set()
    tried: set[tuple[str, str]] = set()
    words = {t: frozenset(t.split()) for comp in comps for t in comp.titles}
    for key, items in buckets.items():
        if len(items) < 2:
            continue
        if key[0] == "=":
            cs = sorted({c for c, _ in items})
            pairs.update((a, b) for n, a in enumerate(cs) for b in cs[n + 1 :])
            continue
        items.sort(key=lambda it: (len(it[1]), it[0], it[1]))
        for x, (ci, ti) in enumerate(items):
            for cj, tj in items[x + 1 :]:
                if len(tj) - len(ti) > 3:  # title_distance never allows more than 3 edits
                    break
                pair = (min(ci, cj), max(ci, cj))
                if ci == cj or ti == tj or pair in pairs or (ti, tj) in tried:
                    continue
                tried.add((ti, tj))
                # An edit changes at most three words (splitting one: one out, two in).
                if len(words[ti] ^ words[tj]) <= 9 and same_title(ti, tj):
                    pairs.add(pair)
    return pairs


def _years_close(a: set[int], b: set[int]) -> bool:
    return any(abs(x - y) <= 1 for x in a for y in b)


def find_duplicates(
    records: Sequence[Record], keep_apart: Sequence[Collection[str]] = ()
) -> Duplicates:
    """Groups of records that are one paper (see the module docstring for the rules).

    Groups have at least two members; members and groups are in input order.
    The grouping does not depend on the order of ``records``.  ``keep_apart``:
    sets of citation keys whose records must end in different groups (the
    user's veto, ``merge --keep-apart A,B``).
    """
    diags = Diagnostics()
    facts = [_facts(r) for r in records]
    apart = _apart_labels(records, keep_apart) if keep_apart else None
    uf, reasons = _identity_components(records, facts, diags, apart)
    comps: list[_Component] = []
    for members in uf.components():
        comps.append(
            _Component(
                members=members,
                dois={facts[i].doi for i in members if facts[i].doi},
                arxiv={facts[i].arxiv for i in members if facts[i].arxiv},
                titles={t for i in members for t in facts[i].titles},
                years={y for i in members if (y := facts[i].year) is not None},
                people=[p for i in members for p in facts[i].people],
                places={facts[i].place for i in members if facts[i].place[0]},
            )
        )
    comp_apart = None
    if apart is not None:
        comp_apart = [{n: v for i in c.members for n, v in apart[i].items()} for c in comps]
    title_uf = _UnionFind(len(comps), comp_apart)
    title_edges: set[tuple[int, int]] = set()
    for a, b in sorted(_title_candidates(comps)):
        ca, cb = comps[a], comps[b]
        if not (ca.people and cb.people and ca.years and cb.years):
            continue
        if not _years_close(ca.years, cb.years) or author_overlap(ca.people, cb.people) < 1:
            continue
        if _conflict(ca, cb):
            continue
        if title_uf.union(a, b):
            title_edges.add((a, b))
    groups: list[DuplicateGroup] = []
    for cluster in title_uf.components():
        parts = [comps[c] for c in cluster]
        if len(parts) > 1 and any(
            _conflict(x, y) for n, x in enumerate(parts) for y in parts[n + 1 :]
        ):
            # A title match chains records with different identifiers: which one
            # the others belong to is a guess, so none is merged.
            members = sorted(i for p in parts for i in p.members)
            first = records[members[0]]
            names = ", ".join(_where(records[i], i) for i in members)
            diags.warn(
                first.origin_file or "<input>",
                first.origin_line,
                "possible duplicates not merged (the same title, but different DOIs, arXiv "
                f"ids or places of publication, so which is which is a guess): {names}",
                first.key,
                "ambiguous-duplicates",
            )
            for p in parts:
                if len(p.members) > 1:
                    groups.append(_group(p.members, reasons))
            continue
        members = sorted(i for p in parts for i in p.members)
        if len(members) < 2:
            continue
        group = _group(members, reasons)
        if len(parts) > 1:
            group.reasons.append("same title, authors and year")
        groups.append(group)
    groups.sort(key=lambda g: g.members[0])
    return Duplicates(groups, diags)


def _group(members: list[int], reasons: dict[int, set[str]]) -> DuplicateGroup:
    why = sorted({r for i in members for r in reasons.get(i, ())})
    return DuplicateGroup(members=sorted(members), reasons=why)


# --------------------------------------------------------------------------
# Merging one group


def _empty(value: Any) -> bool:
    return value in ("", None, [], {}, False) or (isinstance(value, PartialDate) and not value)


def _content(record: Record) -> str:
    """A canonical text of everything but the key: the last, order-free tie-break."""
    return repr(sorted((k, repr(v)) for k, v in record.populated().items() if k != "key"))


def _rank(record: Record) -> tuple[int, int, int, str]:
    return (
        -venue_score(record),
        -bool(_published_doi(record)),
        -len(record.populated()),
        _content(record),
    )


def _first(
    ranked: Sequence[Record], name: str, accept: Callable[[Record], bool] | None = None
) -> Any:
    for rec in ranked:
        value = getattr(rec, name)
        if not _empty(value) and (accept is None or accept(rec)):
            return value
    return getattr(Record(), name)


def _names_choice(ranked: Sequence[Record], attr: str) -> tuple[list[Name], bool]:
    candidates = [r for r in ranked if getattr(r, attr)]
    if not candidates:
        truncated = any(getattr(r, f"{attr}_truncated") for r in ranked)
        return [], truncated
    best = min(
        enumerate(candidates),
        key=lambda item: (
            getattr(item[1], f"{attr}_truncated"),
            -len(getattr(item[1], attr)),
            item[0],
        ),
    )[1]
    return list(getattr(best, attr)), getattr(best, f"{attr}_truncated")


def _union(lists: Iterable[Iterable[Any]], ident: Callable[[Any], Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for values in lists:
        for value in values:
            key = ident(value)
            if key not in seen:
                seen.add(key)
                out.append(value)
    return out


_PREPRINT_NOTE = re.compile(r"arxiv|preprint|\bcorr\b", re.I)


def merge_group(members: Sequence[Record]) -> Record:
    """One record from several versions of one paper (see the module docstring, "How a group
    is merged").  The result does not depend on the order of ``members`` except for its key,
    which is the key of the first member that has one, and its origin (the same member's).
    """
    if not members:
        raise ValueError("merge_group needs at least one record")
    keyed = next((r for r in members if r.key), members[0])
    if len({identity(r) for r in members}) == 1:
        return keyed.copy()  # identical entries: one of them, exactly as it was
    ranked = sorted(members, key=_rank)
    provider = ranked[0] if venue_score(ranked[0]) > 0 else None
    out = Record(key=keyed.key, origin_file=keyed.origin_file, origin_line=keyed.origin_line)
    base = provider or ranked[0]
    out.type, out.source_type = base.type, base.source_type

    # The venue, as a block: from the published member, gaps only from the same venue.
    if provider is not None:
        venue = normalize_title(provider.container_title) if provider.container_title else ""
        same_venue = [provider] + [
            r
            for r in ranked
            if r is not provider
            and venue_score(r) > 0
            and venue
            and normalize_title(r.container_title) == venue
        ]
        for name in VENUE_FIELDS:
            setattr(out, name, _first(same_venue, name))
    else:
        for name in VENUE_FIELDS:
            setattr(out, name, _first(ranked, name))

    out.issued = (
        provider.issued if provider is not None and provider.issued else _first(ranked, "issued")
    )
    issued_from = next((r for r in ranked if r.issued == out.issued and r.issued), None)

    dois = [r for r in ranked if _published_doi(r)]
    if provider is not None and _published_doi(provider):
        out.doi = provider.doi
    elif dois:
        out.doi = dois[0].doi
    else:
        out.doi = _first(ranked, "doi")

    out.authors, out.authors_truncated = _names_choice(ranked, "authors")
    out.editors, out.editors_truncated = _names_choice(ranked, "editors")

    with_id = [r for r in ranked if r.arxiv_id]
    if with_id:
        out.arxiv_id = with_id[0].arxiv_id
        versions = [
            r.arxiv_version for r in with_id if r.arxiv_id == out.arxiv_id and r.arxiv_version
        ]
        out.arxiv_version = max(versions) if versions else None
    else:
        # The preprint said which arXiv paper it is elsewhere (a Google Scholar
        # journal "arXiv preprint arXiv:X", an arxiv.org URL): keep that as the id.
        out.arxiv_id = next((a for r in ranked if (a := arxiv_key(r))), "")

    published = provider is not None
    for f in fields(Record):
        name = f.name
        if name in _SPECIAL or not f.compare:
            continue
        if name == "note" and published:
            # "arXiv preprint arXiv:..." notes describe the version that lost.
            out.note = _first(
                ranked,
                "note",
                lambda r: venue_score(r) > 0 or not _PREPRINT_NOTE.search(r.note),
            )
        elif name == "arxiv_primary_class":
            # A full category ("cs.CL") beats a listing's abbreviation ("CL").
            full = [
                r for r in ranked if "." in r.arxiv_primary_class or "-" in r.arxiv_primary_class
            ]
            out.arxiv_primary_class = _first(full or ranked, name)
        else:
            setattr(out, name, _first(ranked, name))

    out.keywords = _union((r.keywords for r in ranked), lambda k: k.casefold())
    out.arxiv_categories = _union((r.arxiv_categories for r in ranked), str.lower)
    out.affiliations = _union((r.affiliations for r in ranked), str.casefold)
    out.code_links = [
        CodeLink(c.url, c.origin, c.stars, c.license, c.description, c.archived, c.pushed)
        for c in _union((r.code_links for r in ranked), lambda c: c.url.rstrip("/").lower())
    ]
    out.code_announced = any(r.code_announced for r in ranked)
    out.extra, out.extra_format = _merge_extra(ranked, provider, issued_from)
    return out


def _merge_extra(
    ranked: Sequence[Record], provider: Record | None, issued_from: Record | None
) -> tuple[dict[str, Any], str]:
    with_extra = [r for r in ranked if r.extra]
    if not with_extra:
        return {}, (provider or ranked[0]).extra_format
    fmt = (
        provider.extra_format
        if provider is not None and provider.extra
        else with_extra[0].extra_format
    )
    extra: dict[str, Any] = {}
    for rec in with_extra:
        if rec.extra_format != fmt:
            continue
        for name, value in rec.extra.items():
            if name in extra:
                continue
            if provider is not None and rec is not provider and str(name) in _VENUE_EXTRA:
                continue
            if str(name) in _DATE_EXTRA and rec is not issued_from:
                continue
            extra[name] = value
    return extra, fmt


# --------------------------------------------------------------------------
# Reporting values


def _field_values(record: Record) -> dict[str, Any]:
    """Field name -> display value, authors with their 'others', extras one by one."""
    out: dict[str, Any] = {}
    for f in fields(Record):
        name = f.name
        if not f.compare or name in ("key", "authors_truncated", "editors_truncated", "extra"):
            continue
        value = getattr(record, name)
        if name in ("authors", "editors"):
            names = display(value) + (["others"] if getattr(record, f"{name}_truncated") else [])
            out[name] = names or None
        elif name == "arxiv_version" or name == "code_announced":
            out[name] = value or None
        else:
            out[name] = display(value)
    for name, value in record.extra.items():
        out[f"extra.{name}"] = display(value)
    return {k: v for k, v in out.items() if v not in (None, [], {})}


def _changes(kept: Record, merged: Record, members: Sequence[Record], key: str) -> list[Change]:
    mine = _field_values(kept)
    result = _field_values(merged)
    theirs = [(m, _field_values(m)) for m in members]
    changes: list[Change] = []
    lost: set[tuple[str, str]] = set()
    for name in sorted(set(mine) | set(result), key=_field_order):
        if mine.get(name) != result.get(name):
            source = next((m for m, v in theirs if v.get(name) == result.get(name)), merged)
            changes.append(
                Change(key, name, mine.get(name), result.get(name), f"merge:{_label(source)}")
            )
    for member, values in theirs:
        if member is kept:  # its values that lost are the "old" side of the changes above
            continue
        for name, value in sorted(values.items(), key=lambda kv: _field_order(kv[0])):
            seen = (name, repr(value))
            if (
                value != result.get(name)
                and name not in ("type", "source_type")
                and seen not in lost
            ):
                lost.add(seen)
                changes.append(
                    Change(
                        key,
                        name,
                        result.get(name),
                        value,
                        f"merge:{_label(member)}",
                        applied=False,
                        note="another member's value was kept",
                    )
                )
    return changes


_ORDER = {f.name: n for n, f in enumerate(fields(Record))}


def _field_order(name: str) -> tuple[int, str]:
    return (_ORDER.get(name, len(_ORDER)), name)


def _label(record: Record) -> str:
    return record.key or record.location()


# --------------------------------------------------------------------------
# Merging everything


@dataclass(slots=True)
class MergeResult:
    """What :func:`merge` returns.

    ``records``: the output, one record per paper, in input order (a merged
    record stands where its first member stood), every key unique.
    ``groups``: the merged groups (members are indices into the input).
    ``key_map``: old key -> new key for every input key that no longer
    exists (sorted by old key).  ``diagnostics``: key renames, identifier
    conflicts and unmerged near-duplicates, as warnings.
    """

    records: list[Record]
    groups: list[DuplicateGroup]
    key_map: dict[str, str | dict[str, str]]
    diagnostics: Diagnostics
    inputs: list[Record]

    @property
    def merged_away(self) -> int:
        """How many input records were folded into another (records in - records out)."""
        return sum(len(g.members) - 1 for g in self.groups)

    def summary(self) -> str:
        """``25 records in, 18 out: 6 groups merged 7 records; 5 keys changed``."""
        groups = len(self.groups)
        return (
            f"{len(self.inputs)} records in, {len(self.records)} out: "
            f"{groups} {'group' if groups == 1 else 'groups'} merged {self.merged_away} "
            f"{'record' if self.merged_away == 1 else 'records'}; "
            f"{len(self.key_map)} {'key' if len(self.key_map) == 1 else 'keys'} changed"
        )

    def key_map_json(self) -> str:
        """The key map as the ``--key-map`` file: a JSON object, sorted, newline-terminated."""
        return json.dumps(self.key_map, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": {
                "records_in": len(self.inputs),
                "records_out": len(self.records),
                "groups": len(self.groups),
                "merged_away": self.merged_away,
                "keys_changed": len(self.key_map),
            },
            "groups": [g.as_dict(self.inputs) for g in self.groups],
            "key_map": dict(self.key_map),
        }


def merge(
    records: Sequence[Record],
    *,
    assign: bool = True,
    keep_apart: Sequence[Collection[str]] = (),
) -> MergeResult:
    """Find duplicate groups, merge each, give every record a unique key, build the key map.

    ``assign=False`` leaves keys as merging made them (possibly empty or
    clashing) and maps only the keys of merged-away members.  Merging the
    output again changes nothing (the result is a fixpoint: merged records
    are checked again until no group is left).
    """
    diags = Diagnostics()
    inputs = list(records)
    if assign:
        # A record without a key (a listing's) gets the key it would be
        # written with, so that "the first input's key" means one for it too.
        # (A BibTeX entry with an empty key keeps it, as convert does.)
        inputs = [r if r.key or r.source else replace(r, key=base_key(r)) for r in inputs]
    # Each current record, the input indices it stands for, and why they were merged.
    current: list[tuple[Record, list[int], list[str]]] = [
        (r, [i], []) for i, r in enumerate(inputs)
    ]
    first_round = True
    for _ in range(max(1, len(inputs))):
        found = find_duplicates([rec for rec, _, _ in current], keep_apart)
        if first_round:
            diags.extend(found.diagnostics)
            first_round = False
        if not found.groups:
            break
        in_group = found.group_of()
        nxt: list[tuple[Record, list[int], list[str]]] = []
        for pos, item in enumerate(current):
            g = in_group.get(pos)
            if g is None:
                nxt.append(item)
                continue
            group = found.groups[g]
            if pos != group.members[0]:
                continue
            all_origins = sorted(o for m in group.members for o in current[m][1])
            merged = merge_group([current[m][0] for m in group.members])
            merged.key = next((inputs[o].key for o in all_origins if inputs[o].key), "")
            first = inputs[all_origins[0]]
            merged.origin_file, merged.origin_line = first.origin_file, first.origin_line
            # Written as the first member wrote it, where the merge kept its values.
            merged.source = first.source
            why = sorted({r for m in group.members for r in current[m][2]} | set(group.reasons))
            nxt.append((merged, all_origins, why))
        current = nxt

    out = [rec for rec, _, _ in current]
    key_diags = _assign_keys_on_copies(out) if assign else Diagnostics()
    groups: list[DuplicateGroup] = []
    for rec, (_, origins, why) in zip(out, current, strict=True):
        if len(origins) < 2:
            continue
        members = [inputs[o] for o in origins]
        kept_index = next((o for o in origins if inputs[o].key), origins[0])
        kept = inputs[kept_index]
        dropped = _union([[m.key for m in members if m.key and m.key != rec.key]], str)
        groups.append(
            DuplicateGroup(
                members=origins,
                reasons=why,
                record=rec,
                kept=kept_index,
                kept_key=rec.key,
                dropped_keys=dropped,
                changes=_changes(kept, rec, members, rec.key),
            )
        )
    map_diags = Diagnostics()
    key_map = _key_map(inputs, out, [origins for _, origins, _ in current], map_diags)
    # A rename the key map explains is said once, there.
    explained = {d.key for d in map_diags}
    diags.extend(d for d in key_diags if d.key not in explained)
    diags.extend(map_diags)
    return MergeResult(out, groups, key_map, diags, inputs)


def _assign_keys_on_copies(out: list[Record]) -> Diagnostics:
    """:func:`assign_keys` without touching the caller's records: only the records whose
    key changes are copied (copying 50,000 records costs more than the rest of a merge)."""
    before = [r.key for r in out]
    try:
        diags = assign_keys(out, keep_empty=True)
        after = [r.key for r in out]
    finally:
        for rec, key in zip(out, before, strict=True):
            rec.key = key
    for i, (old, new) in enumerate(zip(before, after, strict=True)):
        if old != new:
            out[i] = out[i].copy(key=new)
    return diags


def _key_map(
    inputs: Sequence[Record],
    out: Sequence[Record],
    origins: Sequence[list[int]],
    diags: Diagnostics,
) -> dict[str, str | dict[str, str]]:
    """Old key -> new key; ``{"input file": new key}`` where the old key still names
    another record (two different entries under one key: only the documents that
    cite that input's entry must change)."""
    surviving = {r.key.lower(): r for r in out if r.key}
    wanted: dict[str, set[str]] = defaultdict(set)
    where: dict[str, list[Record]] = defaultdict(list)
    for rec, members in zip(out, origins, strict=True):
        for o in members:
            old = inputs[o].key
            if old and old != rec.key and rec.key:
                wanted[old].add(rec.key)
                where[old].append(inputs[o])
    key_map: dict[str, str | dict[str, str]] = {}
    for old in sorted(wanted):
        targets = wanted[old]
        recs = where[old]
        rec = recs[0]
        other = surviving.get(old.lower())
        if other is not None and not any(old.lower() == t.lower() for t in targets):
            files = {r.origin_file for r in recs}
            new = sorted(targets)[0]
            differ = ", ".join(_differing_fields(other, rec)) or "their keys' case"
            if len(targets) == 1 and other.origin_file not in files and "" not in files:
                key_map[old] = {f: new for f in sorted(files)}
                diags.warn(
                    rec.origin_file or "<input>",
                    rec.origin_line,
                    f"key {old!r} names different entries here and at {other.location()} "
                    f"(they differ in: {differ}); this one is now {new!r} (the key map says "
                    f"so for documents that cite {rec.origin_file})",
                    old,
                    "key-map",
                )
            else:
                diags.warn(
                    rec.origin_file or "<input>",
                    rec.origin_line,
                    f"key {old!r} names different entries here and at {other.location()} "
                    f"(they differ in: {differ}); this one is now {new!r}; one file holds "
                    "both, so no key map entry can tell its citations apart",
                    old,
                    "key-map",
                )
        elif len(targets) > 1:
            diags.warn(
                rec.origin_file or "<input>",
                rec.origin_line,
                f"key {old!r} named several papers, now {', '.join(sorted(targets))}; "
                "not in the key map",
                old,
                "key-map",
            )
        else:
            key_map[old] = next(iter(targets))
    return key_map


# Model slots under the names a BibTeX user knows them by (for messages).
_FIELD_WORDS = {
    "issued": "year",
    "authors": "author",
    "editors": "editor",
    "container_title": "journal/booktitle",
    "collection_title": "series",
    "publisher_place": "address",
    "issue": "number",
    "source_type": "entry type",
    "arxiv_id": "eprint",
}


def _differing_fields(a: Record, b: Record) -> list[str]:
    va, vb = _field_values(a), _field_values(b)
    names = [n for n in sorted(set(va) | set(vb), key=_field_order) if va.get(n) != vb.get(n)]
    return [_FIELD_WORDS.get(n, n.removeprefix("extra.")) for n in names]


# --------------------------------------------------------------------------
# Dry run


def describe(result: MergeResult) -> str:
    """The ``--dry-run`` text: each group, why, its members, the merged fields, what lost."""
    lines: list[str] = []
    for n, group in enumerate(result.groups, 1):
        assert group.record is not None
        lines.append(
            f"group {n}: {len(group.members)} records -> {group.kept_key} ({'; '.join(group.reasons)})"
        )
        for i in group.members:
            rec = result.inputs[i]
            mark = "kept  " if i == group.kept else "merged"
            lines.append(f"  {mark} {rec.key or '(no key)'}  {rec.location()}")
        lines.append("  result:")
        values = _field_values(group.record)
        width = max((len(k) for k in values), default=0)
        for name, value in values.items():
            lines.append(f"    {name.ljust(width)}  {_show(value)}")
        lost = [c for c in group.changes if not c.applied]
        if lost:
            lines.append("  not kept:")
            for change in lost:
                lines.append(f"    {change.field} = {_show(change.new)}  ({change.source[6:]})")
        lines.append("")
    if result.key_map:
        lines.append("key map:")
        for old, new in result.key_map.items():
            if isinstance(new, dict):
                for source, key in new.items():
                    lines.append(f"  {old} -> {key}  (as cited from {source})")
            else:
                lines.append(f"  {old} -> {new}")
        lines.append("")
    lines.append(result.summary())
    return "\n".join(lines) + "\n"


def _show(value: Any, limit: int = 100) -> str:
    text = "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
