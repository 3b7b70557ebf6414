"""The inline tree every style engine produces (strings and :class:`Node`),
the entries and results that carry it, and comparing renderings."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    pass

from ..diagnostics import Diagnostics
from ..model import Record

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


def strip(nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
    if not nodes:
        return nodes
    out = list(nodes)
    if isinstance(out[0], str):
        out[0] = out[0].lstrip()
    if isinstance(out[-1], str):
        out[-1] = out[-1].rstrip()
    return normalize_inlines(out)


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
