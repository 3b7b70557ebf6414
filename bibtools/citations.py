"""What a LaTeX document cites, against what its bibliography holds (``verify --tex``).

From a ``.tex`` file: the keys of ``\\cite``-like commands (natbib's
``\\citep``/``\\citet``/``\\citeauthor``..., biblatex's ``\\parencite``,
``\\textcite``, ``\\autocite``, ``\\footcite``, ``\\nocite``... with their
optional arguments and starred forms), comments dropped.  From a ``.aux``
file: ``\\citation{...}`` (bibtex) and ``\\abx@aux@cite{...}`` (biblatex).
``\\nocite{*}`` cites everything.

:func:`audit` compares them with the bibliography's keys: cited keys that
are missing, entries never cited, and pairs of cited keys that name one
work (the same DOI or arXiv id, or the same normalised title and first
author).  Pure: text in, lists out; case of keys is kept but compared as
bibtex does (case-insensitively for "missing", exactly for the report).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .ids import arxiv_key, normalize_doi
from .model import Record
from .text.matching import normalize_title, person_key

_COMMENT = re.compile(r"(?<!\\)%.*")
_CITE = re.compile(
    r"\\(?:[a-zA-Z]*cite[a-zA-Z]*|nocite|citation|abx@aux@cite)\*?"
    r"(?:\s*\[[^\]]*\]){0,2}\s*(?:\{\d+\}\s*)?\{([^{}]*)\}"
)


@dataclass(slots=True)
class Citations:
    keys: list[str] = field(default_factory=list)  # in order of first citation
    everything: bool = False  # \nocite{*}


def cited_keys(text: str) -> Citations:
    """The citation keys in a .tex or .aux file's text."""
    out = Citations()
    seen: set[str] = set()
    for line in text.splitlines():
        line = _COMMENT.sub("", line)
        for m in _CITE.finditer(line):
            for key in m.group(1).split(","):
                key = key.strip()
                if not key:
                    continue
                if key == "*":
                    out.everything = True
                    continue
                if key not in seen:
                    seen.add(key)
                    out.keys.append(key)
    return out


@dataclass(slots=True)
class Audit:
    missing: list[str] = field(default_factory=list)  # cited, not in the bibliography
    uncited: list[str] = field(default_factory=list)  # in the bibliography, never cited
    same_work: list[tuple[str, str, str]] = field(default_factory=list)  # key, key, why

    def as_dict(self) -> dict[str, object]:
        return {
            "missing": list(self.missing),
            "uncited": list(self.uncited),
            "same_work": [{"keys": [a, b], "why": why} for a, b, why in self.same_work],
        }

    @property
    def problems(self) -> bool:
        return bool(self.missing or self.same_work)


def _identity(r: Record) -> list[tuple[str, str]]:
    out = []
    if r.doi:
        out.append(("the same DOI", normalize_doi(r.doi)))
    aid = arxiv_key(r)
    if aid:
        out.append(("the same arXiv id", aid))
    title = normalize_title(r.title) if r.title else ""
    if title:
        first = person_key(r.authors[0]).family if r.authors else ""
        # A short title ("Deep learning") names one work only with its year.
        year = "" if len(title.split()) >= 3 else str(r.issued.year or "")
        if first and (year or len(title.split()) >= 3):
            out.append(("the same title and first author", f"{title}|{first}|{year}"))
    return out


def audit(
    citations: Sequence[Citations],
    records: Iterable[Record],
    works: Mapping[str, str] | None = None,
) -> Audit:
    """``works``: key -> the id of the work the sources matched it to (``verify``'s evidence)."""
    records = [r for r in records if r.key]
    keys = {r.key for r in records}
    folded = {k.lower() for k in keys}
    cited: list[str] = []
    everything = False
    for c in citations:
        everything = everything or c.everything
        cited.extend(k for k in c.keys if k not in cited)
    result = Audit()
    result.missing = [k for k in cited if k not in keys and k.lower() not in folded]
    cited_set = {k.lower() for k in cited}
    if not everything:
        result.uncited = [r.key for r in records if r.key.lower() not in cited_set]
    seen: dict[tuple[str, str], str] = {}
    reported: set[tuple[str, str]] = set()
    for r in records:
        if r.key.lower() not in cited_set:
            continue
        known = (works or {}).get(r.key)
        for why, ident in [
            *_identity(r),
            *([("the sources match one work", known)] if known else []),
        ]:
            other = seen.setdefault((why, ident), r.key)
            pair = (other, r.key)
            if other != r.key and pair not in reported:
                reported.add(pair)
                result.same_work.append((other, r.key, why))
    return result
