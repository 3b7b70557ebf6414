"""Output backends: the inline tree as text, HTML, Markdown or LaTeX, every
string escaped for its format; links only to http(s) URLs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

from .inline import Inline, safe_href, to_text

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
