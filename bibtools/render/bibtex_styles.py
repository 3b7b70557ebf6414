"""BibTeX styles: the real ``.bst`` (:mod:`.bst`) over the records as
``convert -t bibtex`` writes them, its ``.bbl`` read back (:mod:`.bbl`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..formats import TextBlock

from ..diagnostics import Diagnostics
from ..model import Record
from .inline import Entry, StyleResult, plain_text
from .styles import StyleSpec

# --------------------------------------------------------------------------
# BibTeX styles: the real .bst (render.bst), its .bbl read back (render.bbl)


def bst_entries(
    records: Sequence[Record],
    spec: StyleSpec,
    diagnostics: Diagnostics,
    engine: str = "pybtex",
    blocks: Sequence[TextBlock] = (),
) -> StyleResult:
    from ..convert import write
    from ..formats import WriteOptions
    from .bbl import NUMERIC, parse_bbl, render_items
    from .bst import run_bst

    # The .bib the style reads is what `bibtools convert -t bibtex` writes,
    # with the input's @string and @preamble blocks (the raw values use them).
    written = write(list(records), "bibtex", WriteOptions(blocks=list(blocks)))
    diagnostics.extend(written.diagnostics)
    run = run_bst(written.text, spec.path, engine)
    bbl = parse_bbl(run.bbl)
    by_key = {r.key.lower(): r for r in records}

    def where(key: str) -> tuple[str, int]:
        rec = by_key.get(key.lower())
        return (rec.origin_file, rec.origin_line) if rec else ("<input>", 0)

    style_name = Path(spec.path).name
    for msg in dict.fromkeys(run.messages):  # bibtex's warnings, each once
        add = diagnostics.error if msg.level == "error" else diagnostics.warn
        rec = by_key.get(msg.key.lower())
        add(*where(msg.key), f"{style_name}: {msg.message}", rec.key if rec else msg.key)
    numbered = bool(bbl.items) and all(item.kind == NUMERIC for item in bbl.items)
    result = StyleResult(diagnostics=diagnostics, numbered=numbered)
    result.latex_preamble = bbl.preamble
    shown: set[str] = set()
    for item in render_items(bbl):
        rec = by_key.get(item.key.lower())
        key = rec.key if rec else item.key
        shown.add(key.lower())
        if not plain_text(item.body).strip():
            diagnostics.warn(*where(key), f"{style_name} printed nothing for this entry", key)
        if item.unrendered:
            diagnostics.warn(
                *where(key), f"kept as written (no rendering for {', '.join(item.unrendered)})", key
            )
        result.entries.append(Entry(key, item.body, item.label, rec, item.latex))
    for rec in records:
        if rec.key.lower() not in shown:
            diagnostics.warn(rec.origin_file, rec.origin_line, f"{style_name} left it out", rec.key)
    return result
