"""pybtex's Python re-implementations of the classic styles (``pybtex-plain``...)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

from ..diagnostics import Diagnostics
from ..model import Record
from .inline import Entry, Inline, Node, StyleResult, normalize_inlines, safe_href, strip
from .styles import PYBTEX_PREFIX, StyleSpec

# --------------------------------------------------------------------------
# pybtex's Python styles ("pybtex-plain"...)


def bibtex_entries(
    records: Sequence[Record], spec: StyleSpec, diagnostics: Diagnostics
) -> StyleResult:
    import pybtex.errors
    from pybtex.database import parse_string
    from pybtex.plugin import find_plugin

    from ..formats import WriteOptions
    from ..formats.bibtex import write as write_bibtex

    text = write_bibtex(list(records), WriteOptions(protect_titles=False)).text
    # An entry pybtex cannot read is reported (below), not fatal for the rest.
    with pybtex.errors.capture() as unreadable:
        data = parse_string(text, "bibtex")
    for error in unreadable:
        diagnostics.warn("<input>", 0, f"pybtex: {error}")
    style = find_plugin("pybtex.style.formatting", spec.name.removeprefix(PYBTEX_PREFIX))()
    by_key = {r.key: r for r in records}
    # plain and unsrt number their entries; alpha labels ([Knu84]) are not numbers.
    result = StyleResult(diagnostics=diagnostics, numbered="alpha" not in spec.name)
    # format_entries, one entry at a time: a record pybtex cannot format
    # (a field the style requires is missing) is reported, not fatal.
    ordered = style.sort(list(data.entries.values()))
    formatted = []
    for label, entry in zip(style.format_labels(ordered), ordered, strict=True):
        rec = by_key.get(entry.key)
        where = (rec.origin_file, rec.origin_line) if rec else ("<input>", 0)
        try:
            formatted.append(style.format_entry(label, entry))
            continue
        except AttributeError:  # no format_<type>: a BibLaTeX type (@online, @mvbook...)
            problem = f"{spec.name} has no @{entry.type.lower()} template"
        except Exception as exc:  # pybtex's FieldIsMissing
            problem = str(exc) or type(exc).__name__
        # The classic type of the record's CSL type, else @misc, which needs
        # no field (BibTeX's own fallback).
        classic = _CLASSIC_TYPES.get(rec.type if rec else "", "misc")
        for type_ in dict.fromkeys([classic, "misc"]):
            if type_ == entry.type.lower():
                continue
            try:
                formatted.append(style.format_entry(label, _as_type(entry, type_)))
            except Exception:
                continue
            diagnostics.warn(*where, f"formatted as @{type_}: {problem}", entry.key)
            break
        else:
            diagnostics.warn(*where, f"left out: {problem}", entry.key)
    for fe in formatted:
        body = strip(normalize_inlines(_from_richtext(fe.text)))
        result.entries.append(Entry(fe.key, body, f"[{fe.label}]", by_key.get(fe.key)))
    shown = {e.key.lower() for e in result.entries if e.key}
    for rec in records:
        if rec.key.lower() not in shown:
            diagnostics.warn(rec.origin_file, rec.origin_line, f"{spec.name} left it out", rec.key)
    return result


# pybtex's LaTeX parser knows braces and accents, not formatting commands:
# "\emph{x}" reaches us as the text "\emph " followed by the group "x".
_PYBTEX_COMMANDS = {
    "emph": "i",
    "textit": "i",
    "textsl": "i",
    "mkbibemph": "i",
    "mkbibitalic": "i",
    "textbf": "b",
    "mkbibbold": "b",
    "textsc": "sc",
    "textsuperscript": "sup",
    "textsubscript": "sub",
}
_COMMAND = re.compile(r"\\([A-Za-z]+)\s*")


# CSL type -> the BibTeX type pybtex's styles know.
_CLASSIC_TYPES = {
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "paper-conference": "inproceedings",
    "book": "book",
    "chapter": "incollection",
    "report": "techreport",
    "thesis": "phdthesis",
    "manuscript": "unpublished",
}


def _as_type(entry: Any, type_: str) -> Any:
    """A copy of a pybtex entry with another type."""
    from pybtex.database import Entry as PybtexEntry

    copy = PybtexEntry(type_, fields=entry.fields, persons=entry.persons)
    copy.key = entry.key  # else the formatted entry has no key (and no record)
    return copy


def _from_richtext(text: Any) -> list[Inline]:
    """pybtex rich text -> the inline tree."""
    from pybtex import richtext

    if isinstance(text, richtext.String):
        return [text.value]
    if isinstance(text, richtext.Symbol):
        return [{"ndash": "\u2013", "newblock": " ", "nbsp": "\u00a0"}.get(text.name, " ")]
    children: list[Inline] = []
    pending = ""  # the tag a command at the end of the previous string asks for
    for part in getattr(text, "parts", []):
        converted = _from_richtext(part)
        if pending and not isinstance(part, richtext.String):
            children.append(Node(pending, tuple(converted)))
            pending = ""
            continue
        pending = ""
        for item in converted:
            if isinstance(item, str) and "\\" in item:
                item, pending = _strip_commands(item)
            children.append(item)
    if isinstance(text, richtext.Tag):
        tag = {"em": "i", "i": "i", "b": "b", "strong": "b", "tt": ""}.get(text.name, "")
        return [Node(tag, tuple(children))] if tag else children
    if isinstance(text, richtext.HRef):
        return [Node("a", tuple(children), safe_href(text.url))]
    return children


def _strip_commands(text: str) -> tuple[str, str]:
    """Command names out of ``text`` (their arguments are text); the tag of a trailing one."""
    pending = ""
    m = _COMMAND.search(text)
    if m and m.end() == len(text) and m.group(1) in _PYBTEX_COMMANDS:
        pending = _PYBTEX_COMMANDS[m.group(1)]
    return _COMMAND.sub("", text), pending
