r"""A ``.bbl`` file (what a BibTeX style writes) read back as formatted entries.

:func:`parse_bbl` splits the file into its preamble and its items
(``\bibitem``, natbib's ``\bibitem[Short(Year)Long]{key}``, harvard's
``\harvarditem``); :func:`render_items` turns each item's LaTeX into the
inline tree of :mod:`bibtools.render` (text with italics, bold, small caps,
super/subscripts and links), which the page renderers escape for their
format.

The LaTeX is read as LaTeX would read it, for the commands bibliography
styles use: ``\newblock``, ``\em``/``\it``/``\bf``/``\sc`` and their
``\text..`` forms, ``\emph``, ``\url``, ``\href``, ``\doi``, ``\cite``
(shown as the cited entry's label), natbib's ``\natexlab`` and
``\bibinfo``, IEEEtran's ``\BIBentry...`` spacing macros, harvard's
``\harvardyearleft``, accents, ``~``, dashes, quotes and math.  Macros the
``.bbl`` itself defines (``\providecommand`` in its preamble,
``\newcommand`` from the ``.bib``'s ``@preamble``) are expanded.  A command
that none of this covers is kept as written, with its arguments, and named
in :attr:`RenderedItem.unrendered`: never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..text.markup import ACCENT_SYMBOLS, ACCENT_WORDS, LOGOS, from_latex, math_to_text
from .inline import Inline, Node, normalize_inlines, plain_text, safe_href

# Items: numbered ([1]), alpha-labelled ([Knu84]) or author-year (no label).
NUMERIC, ALPHA, AUTHOR_YEAR = "numeric", "alpha", "author-year"


@dataclass(slots=True)
class BblItem:
    key: str
    body: str  # the entry's LaTeX
    label: str = ""  # LaTeX of \bibitem's optional argument
    kind: str = NUMERIC
    short: str = ""  # author-year: the citation's author part and year (LaTeX)
    year: str = ""


@dataclass(slots=True)
class Bbl:
    preamble: str  # the LaTeX around the items: definitions, thebibliography's argument
    items: list[BblItem] = field(default_factory=list)


@dataclass(slots=True)
class RenderedItem:
    key: str
    label: str  # "[1]", "[Knu84]", or "" for author-year styles
    body: tuple[Inline, ...]
    latex: str  # the item's LaTeX, as the .bbl has it
    unrendered: list[str] = field(default_factory=list)  # commands kept as written


# --------------------------------------------------------------------------
# Splitting the file


_ITEM = re.compile(r"\\(bibitem|harvarditem)(?![A-Za-z])")
_BEGIN = re.compile(r"\\begin\s*\{thebibliography\}")
_END = re.compile(r"\\end\s*\{thebibliography\}")


def parse_bbl(text: str) -> Bbl:
    """The preamble and the items of a ``.bbl``."""
    begin = _BEGIN.search(text)
    start = begin.end() if begin else 0
    if begin:  # \begin{thebibliography}{widest label}
        scan = _Scanner(text, start, len(text))
        if scan.peek() == "{":
            scan.argument()
            start = scan.i
    end_m = _END.search(text, start)
    end = end_m.start() if end_m else len(text)
    matches = list(_ITEM.finditer(text, start, end))
    head = text[: begin.start()] if begin else ""
    head += text[start : matches[0].start()] if matches else text[start:end]
    tail = text[end_m.end() :] if end_m else ""
    bbl = Bbl((head.strip() + "\n" + tail.strip()).strip())
    numbered = 0
    for n, m in enumerate(matches):
        stop = matches[n + 1].start() if n + 1 < len(matches) else end
        scan = _Scanner(text, m.end(), stop)
        if m.group(1) == "harvarditem":
            short = scan.optional() or ""
            long_ = scan.argument()
            year = scan.argument()
            key = scan.argument()
            item = BblItem(key.strip(), "", short or long_, AUTHOR_YEAR, short or long_, year)
        else:
            label = scan.optional()
            key = scan.argument().strip()
            item = BblItem(key, "", label or "")
            if label is None:
                numbered += 1
                item.label = str(numbered)
            else:
                _classify(item, label)
        item.body = text[scan.i : stop].strip()
        bbl.items.append(item)
    return bbl


def _classify(item: BblItem, label: str) -> None:
    """natbib ``Short(Year)Long``, ``\\citeauthoryear{A}{Y}``, "Author, 1986" or an alpha label."""
    stripped = _strip_comments(label).strip()
    m = re.search(r"\\citeauthoryear\s*", stripped)
    if m:
        scan = _Scanner(stripped, m.end(), len(stripped))
        args = []
        while scan.peek() == "{":
            args.append(scan.argument())
        if args:
            item.kind, item.short, item.year = AUTHOR_YEAR, args[0], args[-1]
            return
    paren = _top_level_paren(stripped)
    if paren:
        item.kind, item.short, item.year = AUTHOR_YEAR, *paren
        return
    # apalike's "Aamport, 1986a": words, where alpha's labels are one (Knu84, {\"U}NP88).
    if re.search(r"\s|(?<!\\)~", stripped):
        item.kind, item.short = AUTHOR_YEAR, stripped
        return
    item.kind = ALPHA


def _top_level_paren(text: str) -> tuple[str, str] | None:
    """natbib's ``Short(Year)Long``: (Short, Year), the first ``(`` at brace level 0."""
    level = 0
    open_at = -1
    for i, ch in enumerate(text):
        if ch == "{":
            level += 1
        elif ch == "}":
            level -= 1
        elif level == 0 and ch == "(" and open_at < 0:
            open_at = i
        elif level == 0 and ch == ")" and open_at >= 0:
            return text[:open_at], text[open_at + 1 : i]
    return None


def _strip_comments(text: str) -> str:
    return re.sub(r"(?<!\\)%[^\n]*\n?[ \t]*", "", text)


class _Scanner:
    """Arguments of a command: ``[optional]`` and ``{mandatory}``, braces balanced."""

    def __init__(self, text: str, i: int, end: int) -> None:
        self.s, self.i, self.end = text, i, end

    def _skip(self) -> None:
        while self.i < self.end:
            ch = self.s[self.i]
            if ch in " \t\r\n":
                self.i += 1
            elif ch == "%":
                nl = self.s.find("\n", self.i, self.end)
                self.i = self.end if nl < 0 else nl + 1
            else:
                break

    def peek(self) -> str:
        self._skip()
        return self.s[self.i] if self.i < self.end else ""

    def optional(self) -> str | None:
        if self.peek() != "[":
            return None
        level = 0
        start = self.i + 1
        j = start
        while j < self.end:
            ch = self.s[j]
            if ch == "\\":
                j += 2
                continue
            if ch == "{":
                level += 1
            elif ch == "}":
                level -= 1
            elif ch == "]" and level == 0:
                self.i = j + 1
                return self.s[start:j]
            j += 1
        self.i = self.end
        return self.s[start:]

    def argument(self) -> str:
        if self.peek() != "{":
            # One token: a control sequence or a character.
            if self.i >= self.end:
                return ""
            if self.s[self.i] == "\\":
                m = re.compile(r"\\(?:[A-Za-z]+|.)").match(self.s, self.i)
                assert m is not None
                self.i = m.end()
                return m.group(0)
            self.i += 1
            return self.s[self.i - 1]
        j = _group_end(self.s, self.i, self.end)
        value = self.s[self.i + 1 : j - 1]
        self.i = j
        return _strip_comments(value) if "%" in value else value


def _group_end(s: str, i: int, end: int) -> int:
    """Index after the group whose ``{`` is at ``i`` (``end`` if it never closes)."""
    level = 0
    j = i
    while j < end:
        ch = s[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "{":
            level += 1
        elif ch == "}":
            level -= 1
            if level == 0:
                return j + 1
        j += 1
    return end


# --------------------------------------------------------------------------
# Macros the .bbl defines


@dataclass(frozen=True, slots=True)
class Macro:
    nargs: int
    body: str
    default: str | None = None  # the optional first argument's default


_DEFINERS = re.compile(
    r"\\(newcommand|renewcommand|providecommand|DeclareRobustCommand|def|gdef|edef|xdef|let)(?![A-Za-z])\*?"
)


def definitions(latex: str) -> list[tuple[str, str, Macro | str]]:
    r"""(how, name, macro) for every ``\newcommand``, ``\providecommand``, ``\def``... in
    ``latex``; for ``\let`` the macro is the name of the command copied."""
    out: list[tuple[str, str, Macro | str]] = []
    text = _strip_comments(latex)
    for m in _DEFINERS.finditer(text):
        how = m.group(1)
        scan = _Scanner(text, m.end(), len(text))
        target = scan.argument().strip()
        name_m = re.fullmatch(r"\\([A-Za-z]+|.)", target)
        if not name_m:
            continue
        name = name_m.group(1)
        if how == "let":
            if scan.peek() == "=":
                scan.i += 1
            other = scan.argument().strip()
            if other.startswith("\\"):
                out.append((how, name, other[1:]))
            continue
        if how in ("def", "gdef", "edef", "xdef"):
            brace = text.find("{", scan.i)
            if brace < 0:
                continue
            params = text[scan.i : brace]
            nargs = len(re.findall(r"#\d", params))
            scan.i = brace
            out.append((how, name, Macro(nargs, scan.argument())))
            continue
        nargs = 0
        default = None
        count = scan.optional()
        if count is not None and count.strip().isdigit():
            nargs = int(count.strip())
            default = scan.optional()
        out.append((how, name, Macro(nargs, scan.argument(), default)))
    return out


# --------------------------------------------------------------------------
# LaTeX -> inline tree

_ITALIC = {"emph", "textit", "textsl", "mkbibemph", "mkbibitalic"}
_WRAPPERS = {
    **dict.fromkeys(_ITALIC, "i"),
    "textbf": "b",
    "mkbibbold": "b",
    "textsc": "sc",
    "textsuperscript": "sup",
    "textsubscript": "sub",
}
# Commands whose one argument is shown as it is.
_TRANSPARENT = {
    "textnormal",
    "textrm",
    "textup",
    "textmd",
    "texttt",
    "textsf",
    "mbox",
    "hbox",
    "fbox",
    "text",
    "natexlab",
    "bibnamefont",
    "bibfnamefont",
    "citenamefont",
    "underline",
    "NoCaseChange",
    "nocase",
    "hologo",
}
# Two arguments, the second shown: \bibinfo{field}{text}, \BIBforeignlanguage{lang}{text}.
_SECOND_OF_TWO = {"bibinfo", "bibfield", "BIBforeignlanguage", "foreignlanguage", "bibinfoperson"}
# Declarations: the rest of the group in italics, bold or small caps.
_DECLARATIONS = {
    "em": "i",
    "it": "i",
    "itshape": "i",
    "sl": "i",
    "slshape": "i",
    "bf": "b",
    "bfseries": "b",
    "sc": "sc",
    "scshape": "sc",
}
# Declarations and commands that change nothing a reader sees.
_NOTHING = {
    "rm",
    "rmfamily",
    "normalfont",
    "upshape",
    "mdseries",
    "tt",
    "ttfamily",
    "sf",
    "sffamily",
    "small",
    "footnotesize",
    "scriptsize",
    "tiny",
    "normalsize",
    "large",
    "Large",
    "relax",
    "protect",
    "unskip",
    "nobreak",
    "allowbreak",
    "break",
    "leavevmode",
    "null",
    "noindent",
    "sloppy",
    "hfil",
    "hfill",
    "hss",
    "ignorespaces",
    "BIBentryALTinterwordspacing",
    "BIBentrySTDinterwordspacing",
    "BIBdecl",
    "frenchspacing",
    "nonfrenchspacing",
    "obeyspaces",
    "@",
    "/",
    "-",
    "!",
    "bibitemStart",
    "bibAnnoteFile",
    "PrintBackRefs",
    "CurrentBib",
    "csname",
    "endcsname",
}
# One argument, not shown.
_SWALLOW_ONE = {
    "urlstyle",
    "label",
    "hyphenation",
    "typeout",
    "harvardpreambledefs",
    "harvardpreambletext",
}
_SPACES = {
    " ": " ",
    "newblock": " ",
    "par": " ",
    "quad": " ",
    "qquad": " ",
    "enspace": " ",
    "space": " ",
    "\\": " ",
    "newline": " ",
    ",": "\u2009",
    "thinspace": "\u2009",
    ";": " ",
    ":": " ",
    ">": " ",
    "nobreakspace": "\u00a0",
}
_ESCAPED = {"&": "&", "%": "%", "$": "$", "#": "#", "_": "_", "{": "{", "}": "}"}
_TEXT_COMMANDS = {
    # Logos of packages .bib files often use (mflogo, amsmath).
    "MF": "METAFONT",
    "METAFONT": "METAFONT",
    "MP": "MetaPost",
    "METAPOST": "MetaPost",
    "ConTeXt": "ConTeXt",
    "AmS": "AMS",
    "harvardyearleft": "(",
    "harvardyearright": ")",
    "harvardand": "&",
    "slash": "/",
    "textbackslash": "\\",
}
_DIMENSION = re.compile(
    r"\s*=?\s*(?:-?[\d.]+\s*(?:em|ex|pt|mm|cm|in|mu|sp|bp|pc|dd|cc|fil+)|\\[A-Za-z@]+)"
    r"(?:\s*(?:plus|minus)\s*-?[\d.]+\s*(?:em|ex|pt|mm|cm|in|mu|sp|bp|pc|dd|cc|fil+))*"
)
_NUMBER = re.compile(r"\s*(?:-?\s*\d+|\\[A-Za-z@]+)")
_RULE = re.compile(r"(?:\s*(?:height|depth|width)\s*-?[\d.]+\s*[a-z]{2})*")
_CONTROL = re.compile(r"\\([A-Za-z@]+|.?)", re.S)
LINK_COMMAND = "bibtoolslink"
# A user definition of these replaces the built-in rendering (and keeps the link).
_LINK_COMMANDS = {"url", "doi"}
MAX_EXPANSIONS = 5000
MAX_DEPTH = 200


class Renderer:
    """LaTeX of one ``.bbl`` to inline trees; macros from its preamble, labels for ``\\cite``."""

    def __init__(self, preamble: str = "", cites: dict[str, str] | None = None) -> None:
        self.macros: dict[str, Macro] = {}
        self.aliases: dict[str, str] = {}
        self.cites = {k.lower(): v for k, v in (cites or {}).items()}
        self.define(preamble)

    def define(self, latex: str) -> None:
        for how, name, macro in definitions(latex):
            self._define(how, name, macro)

    def _define(self, how: str, name: str, macro: Macro | str) -> None:
        if isinstance(macro, str):
            self.aliases[name] = macro
            return
        if _builtin(name) and name not in _LINK_COMMANDS:
            return  # the rendering knows it better than its TeX definition
        if how == "providecommand" and name in self.macros:
            return
        if how == "newcommand" and name in self.macros:
            return
        self.macros[name] = macro

    def render(self, latex: str) -> tuple[tuple[Inline, ...], list[str]]:
        """The inline tree of ``latex`` and the commands kept as written."""
        parser = _Parser(self, latex)
        nodes = parser.parse(None)
        return _strip(normalize_inlines(nodes)), list(dict.fromkeys(parser.unrendered))

    def text(self, latex: str) -> str:
        return " ".join(plain_text(self.render(latex)[0]).split())


def _builtin(name: str) -> bool:
    return (
        name in _WRAPPERS
        or name in _TRANSPARENT
        or name in _SECOND_OF_TWO
        or name in _DECLARATIONS
        or name in _NOTHING
        or name in _SPACES
        or name in _TEXT_COMMANDS
        or name in ("url", "href", "doi", "path", "nolinkurl", "newblock", "cite", "penalty")
    )


class _Parser:
    def __init__(self, renderer: Renderer, text: str) -> None:
        self.r = renderer
        self.s = text
        self.i = 0
        self.expansions = 0
        self.depth = 0
        self.links: list[tuple[str, str]] = []  # (kind, raw) for \bibtoolslink{n}
        self.unrendered: list[str] = []

    # -- arguments ---------------------------------------------------------

    def _skip_space(self) -> None:
        s, n = self.s, len(self.s)
        while self.i < n and s[self.i] in " \t\r\n":
            self.i += 1

    def raw_arg(self) -> str:
        """The next argument's raw text (a group's inside, a command, a character)."""
        self._skip_space()
        if self.i >= len(self.s):
            return ""
        ch = self.s[self.i]
        if ch == "{":
            end = _group_end(self.s, self.i, len(self.s))
            value = self.s[self.i + 1 : end - 1]
            self.i = end
            return value
        if ch == "\\":
            m = re.compile(r"\\(?:[A-Za-z]+|.)").match(self.s, self.i)
            if m:
                self.i = m.end()
                return m.group(0)
        if ch == "}":
            return ""
        self.i += 1
        return ch

    def raw_optional(self) -> str | None:
        self._skip_space()
        if self.i < len(self.s) and self.s[self.i] == "[":
            scan = _Scanner(self.s, self.i, len(self.s))
            value = scan.optional()
            self.i = scan.i
            return value
        return None

    def arg(self) -> list[Inline]:
        return self.sub(self.raw_arg())

    def sub(self, latex: str) -> list[Inline]:
        """Render ``latex`` (an argument) in this parser's state."""
        saved = (self.s, self.i)
        self.s, self.i = latex, 0
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                return [latex]
            return self.parse(None)
        finally:
            self.depth -= 1
            self.s, self.i = saved

    # -- the main loop -----------------------------------------------------

    def parse(self, closer: str | None) -> list[Inline]:
        out: list[Inline] = []
        s = self.s
        while self.i < len(self.s):
            s = self.s
            c = s[self.i]
            if c == "}":
                self.i += 1
                if closer:
                    return out
                out.append("}")
                self.unrendered.append("}")
                continue
            if c == "{":
                self.i += 1
                self.depth += 1
                if self.depth > MAX_DEPTH:
                    end = _group_end(s, self.i - 1, len(s))
                    out.append(s[self.i : end - 1])
                    self.i = end
                else:
                    out.extend(self.parse("}"))
                self.depth -= 1
                continue
            if c == "\\":
                done = self._command(out, closer)
                if done:
                    return out
                continue
            if c == "$":
                out.extend(self._math())
                continue
            if c == "%":
                self._comment()
                continue
            if c in " \t\r\n":
                self._skip_space()
                out.append(" ")
                continue
            if c == "~":
                out.append("\u00a0")
                self.i += 1
                continue
            if c == "-":
                if s.startswith("---", self.i):
                    out.append("\u2014")
                    self.i += 3
                elif s.startswith("--", self.i):
                    out.append("\u2013")
                    self.i += 2
                else:
                    out.append("-")
                    self.i += 1
                continue
            if c == "`":
                if s.startswith("``", self.i):
                    out.append("\u201c")
                    self.i += 2
                else:
                    out.append("\u2018")
                    self.i += 1
                continue
            if c == "'" and s.startswith("''", self.i):
                out.append("\u201d")
                self.i += 2
                continue
            j = self.i + 1
            while j < len(s) and s[j] not in "{}\\$%~-`' \t\r\n":
                j += 1
            out.append(s[self.i : j])
            self.i = j
        return out

    def _comment(self) -> None:
        nl = self.s.find("\n", self.i)
        self.i = len(self.s) if nl < 0 else nl + 1
        s, n = self.s, len(self.s)
        while self.i < n and s[self.i] in " \t":
            self.i += 1

    def _math(self) -> list[Inline]:
        s = self.s
        delim = "$$" if s.startswith("$$", self.i) else "$"
        j = self.i + len(delim)
        while j < len(s):
            if s[j] == "\\":
                j += 2
                continue
            if s.startswith(delim, j):
                body = s[self.i + len(delim) : j]
                self.i = j + len(delim)
                return self._math_nodes(body)
            j += 1
        self.i += 1
        return ["$"]

    def _math_nodes(self, body: str) -> list[Inline]:
        """Math as text: ``x^{2}`` with a superscript, symbols as Unicode, the rest as written."""
        out: list[Inline] = []
        pos = 0
        for m in re.finditer(r"([\^_])\s*(\{(?:[^{}]|\{[^{}]*\})*\}|\\[A-Za-z]+|.)", body):
            if m.start() > pos:
                out.append(self._math_text(body[pos : m.start()]))
            arg = m.group(2)
            if arg.startswith("{"):
                arg = arg[1:-1]
            out.append(Node("sup" if m.group(1) == "^" else "sub", (self._math_text(arg),)))
            pos = m.end()
        if pos < len(body):
            out.append(self._math_text(body[pos:]))
        return out

    def _math_text(self, math: str) -> str:
        if not math.strip():
            return math
        text = math_to_text(f"${math}$")
        if "\\" in text:
            self.unrendered.append(f"${math}$")
            return f"${math}$"
        return text

    # -- commands ------------------------------------------------------------

    def _command(self, out: list[Inline], closer: str | None) -> bool:
        """Handle the command at ``i``; True when it ended the group (a declaration)."""
        s = self.s
        m = _CONTROL.match(s, self.i)
        assert m is not None
        name = m.group(1)
        start = self.i
        self.i = m.end()
        if not name:
            out.append("\\")
            return False
        if name in "\n\r\t":  # a backslash at the end of a line: a control space
            self._skip_space()
            out.append(" ")
            return False
        if name[0].isalpha() or name[0] == "@":
            # TeX skips the spaces after a control word.
            self._skip_space()
        name = self.r.aliases.get(name, name)
        if name in _ESCAPED:
            out.append(_ESCAPED[name])
            return False
        if name in self.r.macros:
            if not self._expand(name):
                # A macro that expands without end: the rest is shown as written.
                out.append(self.s[start:])
                self.i = len(self.s)
            return False
        if name in _DECLARATIONS:
            rest = self.parse(closer)
            out.append(Node(_DECLARATIONS[name], tuple(rest)))
            return True
        if name in _WRAPPERS:
            out.append(Node(_WRAPPERS[name], tuple(self.arg())))
            return False
        if name in _TRANSPARENT:
            out.extend(self.arg())
            return False
        if name in _SECOND_OF_TWO:
            self.raw_arg()
            out.extend(self.arg())
            return False
        if name in _SPACES:
            if name == "\\":
                self.raw_optional()
            out.append(_SPACES[name])
            return False
        if name in _NOTHING:
            return False
        if name in _SWALLOW_ONE:
            self.raw_arg()
            return False
        handler = getattr(self, "_c_" + name, None)
        if handler is not None:
            handler(out)
            return False
        if name in _TEXT_COMMANDS:
            out.append(_TEXT_COMMANDS[name])
            return False
        if name in ACCENT_SYMBOLS or name in ACCENT_WORDS:
            out.append(self._accent(name, start))
            return False
        if name.startswith("cite") or name in ("shortcite", "nocite"):
            self._cite(out, name)
            return False
        if name in LOGOS or (name.endswith("TeX") and name.isalpha()):
            if s.startswith("{}", self.i):
                self.i += 2
            out.append(LOGOS.get(name, name))
            return False
        if name in ("newcommand", "renewcommand", "providecommand", "DeclareRobustCommand"):
            self._definition(start)
            return False
        if name.isalpha():
            symbol = from_latex(f"\\{name}{{}}")
            if symbol and "\\" not in symbol:
                if self.s.startswith("{}", self.i):
                    self.i += 2
                out.append(symbol)
                return False
        self._unknown(out, start, m.end(), name)
        return False

    def _unknown(self, out: list[Inline], start: int, name_end: int, name: str) -> None:
        """Kept as written, with the groups right after it (and a space if one followed)."""
        s = self.s
        spaced = self.i > name_end
        groups = self.i
        while self.i < len(s) and s[self.i] == "{":
            self.i = _group_end(s, self.i, len(s))
        kept = s[start:name_end] + s[groups : self.i]
        out.append(" ".join(kept.split()) if "\n" in kept else kept)
        if spaced and self.i == groups:
            out.append(" ")
        self.unrendered.append("\\" + name)

    def _expand(self, name: str) -> bool:
        """Replace the macro call by its body; False past the expansion limit."""
        macro = self.r.macros[name]
        self.expansions += 1
        if self.expansions > MAX_EXPANSIONS or len(self.s) > 1_000_000:
            self.unrendered.append(f"\\{name} (expands without end)")
            return False
        args: list[str] = []
        if macro.default is not None and macro.nargs:
            opt = self.raw_optional()
            args.append(macro.default if opt is None else opt)
        while len(args) < macro.nargs:
            raw = self.raw_arg()
            if name in _LINK_COMMANDS:
                self.links.append((name, raw))
                raw = f"\\{LINK_COMMAND}{{{len(self.links) - 1}}}"
            args.append(raw)
        body = re.sub(r"##|#(\d)", lambda m: _parameter(m, args), macro.body)
        self.s = body + self.s[self.i :]
        self.i = 0
        return True

    def _definition(self, start: int) -> None:
        m = _DEFINERS.match(self.s, start)
        if not m:
            return
        text_end = _definition_end(self.s, m.end())
        self.r.define(self.s[start:text_end])
        self.i = text_end

    def _accent(self, name: str, start: int) -> str:
        arg = self.raw_arg()
        if name == "t" and len(arg) == 2:  # a tie over two letters
            return arg[0] + "\u0361" + arg[1]
        text = from_latex(f"\\{name}{{{arg}}}")
        if "\\" in text or "{" in text:
            self.unrendered.append("\\" + name)
            return self.s[start : self.i] if start < self.i <= len(self.s) else f"\\{name}{{{arg}}}"
        return text

    def _cite(self, out: list[Inline], name: str) -> None:
        self.raw_optional()
        self.raw_optional()
        keys = [k.strip() for k in self.raw_arg().split(",") if k.strip()]
        if name == "nocite":
            return
        shown = [self.r.cites.get(k.lower(), k) for k in keys]
        out.append(", ".join(shown) if shown else "")

    # Commands with their own rules.

    def _c_url(self, out: list[Inline]) -> None:
        raw = self.raw_arg().strip()
        out.append(Node("a", (raw,), safe_href(raw)))

    _c_nolinkurl = _c_url

    def _c_path(self, out: list[Inline]) -> None:
        out.append(self.raw_arg())

    def _c_doi(self, out: list[Inline]) -> None:
        raw = self.raw_arg().strip()
        out.append(Node("a", (raw,), _doi_href(raw)))

    def _c_href(self, out: list[Inline]) -> None:
        url = self.raw_arg().strip()
        out.append(Node("a", tuple(self.arg()), safe_href(url)))

    def _c_harvardurl(self, out: list[Inline]) -> None:
        raw = self.raw_arg().strip()
        out.extend(["URL: ", Node("a", (raw,), safe_href(raw))])

    def _c_bibtoolslink(self, out: list[Inline]) -> None:
        index = self.raw_arg()
        kind, raw = (
            self.links[int(index)]
            if index.isdigit() and int(index) < len(self.links)
            else ("url", index)
        )
        raw = raw.strip()
        out.append(Node("a", (raw,), _doi_href(raw) if kind == "doi" else safe_href(raw)))

    def _c_penalty(self, out: list[Inline]) -> None:
        m = _NUMBER.match(self.s, self.i)
        if m:
            self.i = m.end()

    def _skip_dimension(self, out: list[Inline]) -> None:
        m = _DIMENSION.match(self.s, self.i)
        if m:
            self.i = m.end()

    _c_hskip = _c_vskip = _c_kern = _c_spaceskip = _skip_dimension

    def _c_hspace(self, out: list[Inline]) -> None:
        self._skip_space()
        if self.s.startswith("*", self.i):
            self.i += 1
        self.raw_arg()
        out.append(" ")

    def _c_vspace(self, out: list[Inline]) -> None:
        if self.s.startswith("*", self.i):
            self.i += 1
        self.raw_arg()

    def _c_vrule(self, out: list[Inline]) -> None:
        # siam and others draw a rule for "the same authors": a 3-em dash.
        m = _RULE.match(self.s, self.i)
        if m:
            self.i = m.end()
        out.append("\u2014\u2014\u2014")

    def _c_rule(self, out: list[Inline]) -> None:
        self.raw_optional()
        self.raw_arg()
        self.raw_arg()
        out.append("\u2014\u2014\u2014")

    def _c_linebreak(self, out: list[Inline]) -> None:
        self.raw_optional()
        out.append(" ")

    def _c_discretionary(self, out: list[Inline]) -> None:
        self.raw_arg()
        self.raw_arg()
        out.extend(self.arg())

    def _c_ensuremath(self, out: list[Inline]) -> None:
        out.extend(self._math_nodes(self.raw_arg()))

    def _c_makebox(self, out: list[Inline]) -> None:
        self.raw_optional()
        self.raw_optional()
        out.extend(self.arg())

    def _c_MakeUppercase(self, out: list[Inline]) -> None:
        out.extend(_map_text(self.arg(), str.upper))

    _c_uppercase = _c_MakeUppercase

    def _c_MakeLowercase(self, out: list[Inline]) -> None:
        out.extend(_map_text(self.arg(), str.lower))

    _c_lowercase = _c_MakeLowercase

    def _c_enquote(self, out: list[Inline]) -> None:
        out.extend(["\u201c", *self.arg(), "\u201d"])

    _c_mkbibquote = _c_enquote

    def _c_begin(self, out: list[Inline]) -> None:
        self._environment(out, "begin")

    def _c_end(self, out: list[Inline]) -> None:
        self._environment(out, "end")

    def _environment(self, out: list[Inline], which: str) -> None:
        # An environment only groups text: its markers are reported, its text shown.
        self.unrendered.append(f"\\{which}{{{self.raw_arg()}}}")


def _parameter(m: re.Match[str], args: list[str]) -> str:
    if m.group(0) == "##":
        return "#"
    n = int(m.group(1))
    return args[n - 1] if 0 < n <= len(args) else ""


def _definition_end(s: str, i: int) -> int:
    """Index after a ``\\newcommand{\\x}[n][d]{body}`` starting its arguments at ``i``."""
    scan = _Scanner(s, i, len(s))
    scan.argument()
    for _ in range(2):
        if scan.peek() == "[":
            scan.optional()
    scan.argument()
    return scan.i


def _doi_href(raw: str) -> str:
    if re.match(r"(?i)https?://", raw):
        return safe_href(raw)
    doi = re.sub(r"(?i)^(doi:\s*)", "", raw)
    return safe_href("https://doi.org/" + doi.replace(" ", "%20"))


def _map_text(nodes: list[Inline], f: object) -> list[Inline]:
    out: list[Inline] = []
    for n in nodes:
        if isinstance(n, str):
            out.append(f(n))  # type: ignore[operator]
        else:
            out.append(Node(n.tag, tuple(_map_text(list(n.children), f)), n.href, n.cls))
    return out


def _collapse(nodes: tuple[Inline, ...] | list[Inline], state: list[bool]) -> list[Inline]:
    """Runs of spaces (the .bbl's line breaks, \\newblock) as one, across nodes."""
    out: list[Inline] = []
    for n in nodes:
        if isinstance(n, str):
            text = re.sub(r" {2,}", " ", n)
            if state[0] and text.startswith(" "):
                text = text[1:]
            if text:
                state[0] = text.endswith(" ")
            out.append(text)
        else:
            out.append(Node(n.tag, tuple(_collapse(n.children, state)), n.href, n.cls))
    return out


def _strip(nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """Leading and trailing white space off the entry, runs of spaces as one."""
    items = _collapse(nodes, [True])
    while items and isinstance(items[0], str) and not items[0].strip():
        items.pop(0)
    while items and isinstance(items[-1], str) and not items[-1].strip():
        items.pop()
    if items and isinstance(items[0], str):
        items[0] = items[0].lstrip()
    if items and isinstance(items[-1], str):
        items[-1] = items[-1].rstrip()
    return normalize_inlines(items)


# --------------------------------------------------------------------------
# The items, rendered


def cite_forms(bbl: Bbl, renderer: Renderer | None = None) -> dict[str, str]:
    """How ``\\cite{key}`` shows each item: ``[1]``, ``[Knu84]``, ``Knuth (1984)``."""
    r = renderer or Renderer(bbl.preamble)
    out = {}
    for item in bbl.items:
        if item.kind == AUTHOR_YEAR:
            short = r.text(item.short)
            out[item.key] = f"{short} ({r.text(item.year)})" if item.year else f"({short})"
        else:
            out[item.key] = f"[{r.text(item.label)}]"
    return out


def render_items(bbl: Bbl) -> list[RenderedItem]:
    """Every item of ``bbl`` as an inline tree with its label."""
    renderer = Renderer(bbl.preamble)
    renderer.cites = {k.lower(): v for k, v in cite_forms(bbl, renderer).items()}
    out = []
    for item in bbl.items:
        body, unrendered = renderer.render(item.body)
        label = "" if item.kind == AUTHOR_YEAR else f"[{renderer.text(item.label)}]"
        out.append(RenderedItem(item.key, label, body, item.body, unrendered))
    return out
