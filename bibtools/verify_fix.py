"""``verify --fix``: the corrections an id-confirmed match backs, field by field.

Only a ``mismatch`` reached through the record's own DOI or arXiv id is
corrected (the policy of ``enrich``: never overwrite without evidence): the
id says which work the record means, the source says what that work's
title, authors, year, venue, volume or pages are.  A title-search match, a
wrong id or a phantom id changes nothing (a human must decide which work
was meant); those records are written as they were.

Pure: records and verdicts in, new records and :class:`~bibtools.changes.Change`
list out.  A record that is not changed is returned as the same object, so
the BibTeX writer puts it back byte for byte; a changed one keeps its
untouched fields as written (the writer re-encodes only changed slots).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .changes import Change, display
from .model import PartialDate, Record
from .text.markup import from_plain
from .text.names import parse_plain_name
from .verify import Verdict


def _new_value(record: Record, name: str, value: Any) -> tuple[str, Any] | None:
    """(slot, new value) for one disagreeing field, or None when it cannot be applied."""
    if name == "year" and isinstance(value, int):
        return "issued", replace(record.issued, year=value, end=None)
    if name == "volume" and isinstance(value, str) and value:
        return "volume", value
    if name == "pages" and isinstance(value, str) and value:
        return "pages", value.replace("\u2013", "-").replace("--", "-")
    if name == "title" and isinstance(value, str) and value:
        return "title", from_plain(value)
    if name == "venue" and isinstance(value, str) and value:
        return "container_title", from_plain(value)
    if name == "author" and isinstance(value, list) and value:
        return "authors", [parse_plain_name(str(v)) for v in value]
    return None


def fix(
    records: Sequence[Record], verdicts: Sequence[Verdict]
) -> tuple[list[Record], list[Change]]:
    out: list[Record] = []
    changes: list[Change] = []
    for record, verdict in zip(records, verdicts, strict=True):
        if verdict.verdict != "mismatch" or not verdict.id_confirmed:
            out.append(record)
            continue
        updates: dict[str, Any] = {}
        for name in verdict.fields:
            found = verdict.found.get(name) or {}
            applied = _new_value(record, name, found.get("value"))
            if applied is None:
                continue
            slot, new = applied
            updates[slot] = new
            if slot == "authors":
                updates["authors_truncated"] = False
            old = getattr(record, slot)
            source = f"{found.get('source', '')}:{found.get('id', '')}".strip(":")
            changes.append(
                Change(
                    record.key,
                    name,
                    display(old.year if isinstance(old, PartialDate) else old),
                    display(new.year if isinstance(new, PartialDate) else new),
                    source,
                )
            )
        out.append(record.copy(**updates) if updates else record)
    return out, changes
