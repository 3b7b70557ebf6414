"""What a pass over records changed: one Change type, one set of outcomes, one display.

Every engine that completes or rewrites records (enrich from arXiv and
GitHub, the published-version finder, the link checker, merging, lint
--fix) reports a :class:`Change` per field, with old and new values shown
the same way (:func:`display`), and, per record, an :class:`Outcome`.  The
policy they share: a value the record already has is never replaced
silently; a different value from a source is a refused change
(``applied=False``) with a note saying why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .model import CodeLink, Name, PartialDate


class Outcome(StrEnum):
    ENRICHED = "enriched"  # at least one change applied
    UNCHANGED = "unchanged"  # found, nothing to add
    AMBIGUOUS = "ambiguous"  # candidates, none safe to apply
    NOT_FOUND = "not-found"
    SKIPPED_OFFLINE = "skipped-offline"  # offline and not in the cache
    FAILED = "failed"  # the source could not be reached or answered nonsense


# Outcomes that leave a record less complete than asked (the CLI's exit status 1).
NOT_ENRICHED = frozenset(
    {Outcome.AMBIGUOUS, Outcome.NOT_FOUND, Outcome.SKIPPED_OFFLINE, Outcome.FAILED}
)
# When several sources report on one record, the most actionable outcome wins.
PRECEDENCE = (
    Outcome.FAILED,
    Outcome.SKIPPED_OFFLINE,
    Outcome.AMBIGUOUS,
    Outcome.ENRICHED,
    Outcome.NOT_FOUND,
    Outcome.UNCHANGED,
)
LABELS = {
    Outcome.ENRICHED: "enriched",
    Outcome.UNCHANGED: "unchanged",
    Outcome.AMBIGUOUS: "ambiguous",
    Outcome.NOT_FOUND: "not found",
    Outcome.SKIPPED_OFFLINE: "skipped (offline)",
    Outcome.FAILED: "failed",
}


@dataclass(frozen=True, slots=True)
class Change:
    """One field a source wants to change; ``old``/``new`` are JSON-ready display values.

    ``applied`` is False when the record already had another value, which
    was kept (``note`` says why the new one was not applied).
    """

    record_key: str
    field: str
    old: Any
    new: Any
    source: str
    applied: bool = True
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "record": self.record_key,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "source": self.source,
            "applied": self.applied,
            **({"note": self.note} if self.note else {}),
        }


def label(outcome: Outcome) -> str:
    """``not found`` for NOT_FOUND: how summaries name an outcome."""
    return LABELS[outcome]


def most_actionable(outcomes: Iterable[Outcome]) -> Outcome:
    """When several sources report on one record, the outcome the user must act on first."""
    return min(outcomes, key=PRECEDENCE.index)


def display(value: Any) -> Any:
    """A JSON-ready, human-readable form of a field value (for changes, reports, dry runs)."""
    if isinstance(value, PartialDate):
        return value.iso() or value.literal or None
    if isinstance(value, Name):
        return value.display()
    if isinstance(value, CodeLink):
        return value.url
    if isinstance(value, list):
        return [display(v) for v in value]
    if isinstance(value, dict):
        return {str(k): display(v) for k, v in value.items()}
    return None if value in ("", None) else value
