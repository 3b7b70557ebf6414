"""CSL styles through pandoc's citeproc: items prepared to render as
citeproc-js does, groups rendered in parallel, failures isolated."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

from ..diagnostics import Diagnostics, UsageError
from ..formats.csljson import KINDS, NAME_FLAGS, NAME_PARTS, csl_text
from ..model import Record
from .inline import (
    Entry,
    Inline,
    Node,
    StyleResult,
    normalize_inlines,
    plain_text,
    safe_href,
    strip,
)
from .styles import CSL_NS, StyleSpec, style_info

# Entries per pandoc run when a list is split (see the module docstring).
CHUNK_SIZE = 100
# Below this many items one run is as fast as splitting.
SPLIT_THRESHOLD = 400


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
    used, _, _ = style_info(style_path)
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
    return key, label, strip(normalize_inlines(body))


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
    _, numbered, disambiguates = style_info(style_path)
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


def csl_entries(
    records: Sequence[Record], spec: StyleSpec, locale: str, diagnostics: Diagnostics
) -> StyleResult:
    from ..convert import write

    # As `bibtools convert -t csljson` writes them: crossrefs resolved, ids unique.
    written = write(list(records), "csljson")
    diagnostics.extend(written.diagnostics)
    items = json.loads(written.text) if written.text.strip() else []
    by_id = {str(item["id"]): rec for item, rec in zip(items, records, strict=True)}
    problems: list[tuple[str, str]] = []
    prepared = prepare_items(items, spec.path, problems)
    _, numbered, _ = style_info(spec.path)
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
