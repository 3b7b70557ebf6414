"""Is this the same paper? Title normalisation, a bounded edit distance, author overlap.

Used to accept (or refuse) a metadata source's candidate for a record, and
meant to be reused for finding duplicates, so nothing here knows about a
particular source.

Titles are compared after :func:`normalize_title`: markup (or LaTeX) to
plain text, accents and other scripts folded to ASCII (``anyascii``), case
folded, every run of punctuation and white space (line breaks included)
made one space.  Two normalised titles are the same title when they are
equal or within a small edit distance that grows with their length, *and*
they agree on the tokens where one character changes the meaning: numbers,
Roman numerals and negations ("Part II", "GPT-3", "not").  Containment
("Attention" inside "Attention is all you need") is a different relation,
reported separately so a caller can call it ambiguous rather than a match.

Authors are compared by family name, folded the same way; two names also
count as the same person when their words are the same set (``Zhang Wei``
written in either order).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

from ..model import Name
from .markup import from_latex, to_plain

_TOKEN = re.compile(r"[a-z0-9]+")
_ROMAN = frozenset(["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"])
_NEGATIONS = frozenset(["no", "not", "non", "without", "nor", "never", "cannot"])


@lru_cache(maxsize=8192)
def normalize_title(text: str, latex: bool = False) -> str:
    """``"The {BERT} Model: Na\\"ive--Bayes"`` -> ``"the bert model naive bayes"``.

    ``text`` is the model's markup; with ``latex=True`` it is raw LaTeX (as
    arXiv sends titles) and is decoded first.
    """
    markup = from_latex(text) if latex else text
    plain = anyascii(to_plain(markup)).lower()
    return " ".join(_TOKEN.findall(plain))


def tokens(normalized: str) -> list[str]:
    return normalized.split()


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance; stops early and returns ``limit + 1`` once it exceeds ``limit``."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    if limit is not None and len(a) - len(b) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    distance = previous[-1]
    return distance if limit is None or distance <= limit else limit + 1


def allowed_distance(length: int) -> int:
    """How many character edits a title of ``length`` characters may differ by."""
    if length < 12:
        return 0
    if length < 30:
        return 1
    if length < 60:
        return 2
    return 3


def _critical(words: Iterable[str]) -> set[str]:
    return {w for w in words if any(c.isdigit() for c in w) or w in _ROMAN or w in _NEGATIONS}


def title_distance(a: str, b: str) -> int | None:
    """Edit distance between two *normalised* titles when they are the same title, else None."""
    if not a or not b:
        return None
    if a == b:
        return 0
    limit = allowed_distance(min(len(a), len(b)))
    if limit == 0 or _critical(a.split()) != _critical(b.split()):
        return None
    distance = edit_distance(a, b, limit)
    return distance if distance <= limit else None


def title_contains(inner: str, outer: str) -> bool:
    """Do the words of normalised ``inner`` occur, in order and adjacent, in a longer ``outer``?"""
    small, big = inner.split(), outer.split()
    if not small or len(small) >= len(big):
        return False
    return any(big[i : i + len(small)] == small for i in range(len(big) - len(small) + 1))


# --------------------------------------------------------------------------
# Authors


def _fold_words(text: str) -> list[str]:
    return _TOKEN.findall(anyascii(to_plain(text)).lower())


@dataclass(frozen=True, slots=True)
class PersonKey:
    """What two spellings of one author have in common."""

    family: str  # last word of the family name (with particle), folded: "maestro"
    words: frozenset[str]  # every word of the name, folded

    def same_person(self, other: PersonKey) -> bool:
        if self.family and self.family == other.family:
            return True
        # "Zhang Wei" vs "Wei Zhang": the order of the parts was read differently.
        return len(self.words) >= 2 and self.words == other.words


def person_key(name: Name) -> PersonKey:
    if name.literal:
        words = _fold_words(name.literal)
        return PersonKey(" ".join(words), frozenset(words))
    family = _fold_words(f"{name.particle} {name.family}")
    given = _fold_words(name.given)
    key = family[-1] if family else (given[-1] if given else "")
    return PersonKey(key, frozenset(family + given))


def author_overlap(ours: Sequence[Name], theirs: Sequence[Name]) -> int:
    """How many of ``ours`` appear among ``theirs`` (by family name)."""
    their_keys = [person_key(n) for n in theirs]
    count = 0
    for name in ours:
        key = person_key(name)
        if key.family and any(key.same_person(t) for t in their_keys):
            count += 1
    return count


def leading_authors_agree(ours: Sequence[Name], theirs: Sequence[Name]) -> bool:
    """Are ``ours`` the first ``len(ours)`` of ``theirs``, in order?"""
    if not ours or len(ours) > len(theirs):
        return False
    return all(person_key(a).same_person(person_key(b)) for a, b in zip(ours, theirs, strict=False))
