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

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .changes import Change, display
from .model import Record
from .text.markup import from_plain
from .text.names import parse_plain_name
from .verify import Verdict, author_matches


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
        # The source's list, each person as the record spells them where the record has them.
        theirs = [parse_plain_name(str(v)) for v in value]
        left = list(record.authors)
        out = []
        for person in theirs:
            same = next((n for n in left if author_matches([n], [person])), None)
            if same is not None:
                left.remove(same)
            out.append(same or person)
        return "authors", out
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
                    display(old),
                    display(new),
                    source,
                )
            )
        out.append(record.copy(**updates) if updates else record)
    return out, changes


# --------------------------------------------------------------------------
# Writing: the input file with only the corrected entries replaced


def _entry_end(text: str, start: int) -> int | None:
    """The index after the brace (or parenthesis) that closes the entry starting at ``start``."""
    m = re.compile(r"@\s*\w+\s*([{(])").match(text, start)
    if m is None:
        return None
    opener = m.group(1)
    closer = "}" if opener == "{" else ")"
    depth = 0
    i = m.end(1) - 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{" or (opener == "(" and c == "(" and depth == 0):
            depth += 1
        elif c == "}" or (opener == "(" and c == ")" and depth == 1):
            depth -= 1
            if depth == 0:
                return i + 1 if c == closer else None
        i += 1
    return None


def splice(text: str, replacements: Mapping[tuple[int, str], str]) -> str | None:
    """``text`` with the entries at (line, key) replaced; None when one cannot be found exactly.

    Everything else (other entries, comments, @string blocks, layout) stays
    byte for byte: the caller then falls back to writing every record.
    """
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    spans: list[tuple[int, int, str]] = []
    for (line, key), new in replacements.items():
        if not 1 <= line <= len(starts):
            return None
        at = text.find("@", starts[line - 1])
        if at < 0:
            return None
        head = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s]*)\s*,").match(text, at)
        end = _entry_end(text, at)
        if head is None or head.group(1) != key or end is None:
            return None
        spans.append((at, end, new.strip()))
    out = []
    pos = 0
    for start, end, new in sorted(spans):
        if start < pos:
            return None
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return "".join(out)
