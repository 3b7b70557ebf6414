r"""Text markup: LaTeX <-> the model's markup <-> CSL's HTML-like markup <-> plain.

The model's markup (see :mod:`bibtools.model`) is Unicode text where

* ``{...}`` protects case (``{BERT}``),
* ``$...$`` is math, LaTeX kept verbatim,
* ``\emph{}``, ``\textit{}``, ``\textbf{}``, ``\textsc{}``,
  ``\textsuperscript{}``, ``\textsubscript{}``, ``\texttt{}`` are kept,
* a LaTeX command we cannot turn into Unicode (``\method{}``) is kept
  verbatim, so a BibTeX round trip loses nothing,
* ``\{``, ``\}``, ``\$`` and ``\\`` stand for the literal characters.

Everything else (accents, ``\ss``, ``\&``, ``--``, ``~``) is plain Unicode.
Accent and symbol tables come from pylatexenc; the tokenizer is ours because
pylatexenc's walker drops the braces we must keep and is too slow to call
on every field of a 50,000-entry file.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

FORMAT_COMMANDS = {
    "emph": ("<i>", "</i>"),
    "textit": ("<i>", "</i>"),
    "textsl": ("<i>", "</i>"),
    "textbf": ("<b>", "</b>"),
    "textsc": ('<span style="font-variant:small-caps;">', "</span>"),
    "textsuperscript": ("<sup>", "</sup>"),
    "textsubscript": ("<sub>", "</sub>"),
    "texttt": ("", ""),
    "textsf": ("", ""),
    "textrm": ("", ""),
    "textup": ("", ""),
    "textmd": ("", ""),
    "textnormal": ("", ""),
    # BibLaTeX's semantic markup.
    "mkbibemph": ("<i>", "</i>"),
    "mkbibitalic": ("<i>", "</i>"),
    "mkbibbold": ("<b>", "</b>"),
    "mkbibquote": ("\u201c", "\u201d"),
    "enquote": ("\u201c", "\u201d"),
}
# What format commands become in plain text (all others: their content).
PLAIN_WRAP = {"mkbibquote": ("\u201c", "\u201d"), "enquote": ("\u201c", "\u201d")}
# BibLaTeX commands pylatexenc does not know, as text.
_BIBLATEX_SYMBOLS = {
    "hyphen": "-",
    "slash": "/",
    "psq": "\u00a0f.",
    "psqq": "\u00a0ff.",
    "nopp": "",
    # Spaces, as the Unicode characters to_latex writes them from.
    "quad": "\u2003",
    "qquad": "\u2003\u2003",
    "enspace": "\u2002",
    "thinspace": "\u2009",
    # Symbols pylatexenc knows only under their \text... names.
    "S": "\u00a7",
    "P": "\u00b6",
    "copyright": "\u00a9",
}
# Old-style declarations, ``{\em text}``, become the command form.
DECLARATIONS = {
    "em": "emph",
    "it": "textit",
    "itshape": "textit",
    "sl": "textit",
    "slshape": "textit",
    "bf": "textbf",
    "bfseries": "textbf",
    "sc": "textsc",
    "scshape": "textsc",
    "tt": "texttt",
    "ttfamily": "texttt",
}
ACCENT_SYMBOLS = set("'\"`^~=.")
ACCENT_WORDS = {"c", "v", "u", "H", "d", "b", "r", "k", "t", "G", "U", "h", "f"}
# Commands whose argument is a URL: kept verbatim, never decoded.
VERBATIM_COMMANDS = {"url", "href", "path", "nolinkurl"}
# Logos that LaTeX typesets: kept as commands in BibTeX, words elsewhere.
LOGOS = {
    "LaTeX": "LaTeX",
    "TeX": "TeX",
    "BibTeX": "BibTeX",
    "LaTeXe": "LaTeX2e",
    "XeTeX": "XeTeX",
    "ConTeXt": "ConTeXt",
    "MF": "METAFONT",  # mflogo's, and TUGboat's
    "MP": "MetaPost",
    "AmS": "AMS",
    "TUB": "TUGboat",  # tugboat.cls
    "TeXLive": "TeX Live",
}

# The characters the decoder and the renderer act on: text between them is copied.
_DECODE_MARK = re.compile(r"[\\{}$~\-`']")
_RENDER_MARK = re.compile(r"[\\{}$]")
_ENDS_WITH_WORD = re.compile(r"(?<!\\)(?:\\\\)*\\[A-Za-z]+$")
_NEEDS_DECODE = re.compile(r"[\\~`]|--|''|\{\}")
# Not \s: a non-breaking space (from ~) is content, not layout.
_WS = re.compile(r"[ \t\n\r\f\v]+")
# (compiled once: re.compile in a loop looks its cache up on every call)
_DECLARATION = re.compile(r"\\([A-Za-z]+)\s*")
_DOTLESS = re.compile(r"\\([ij])(?![A-Za-z])\s*")
_MATH = re.compile(r"\$\$.*?\$\$|\$(?:[^$\\]|\\.)*\$", re.S)


def collapse_ws(text: str) -> str:
    if "  " not in text and text.isprintable():
        # No tab, line break or double space (isprintable is false for them):
        # nothing for the pattern to replace.
        return text.strip()
    return _WS.sub(" ", text).strip()


# --------------------------------------------------------------------------
# LaTeX -> markup


@lru_cache(maxsize=1)
def _symbol_table() -> dict[str, str]:
    """Control word -> Unicode for symbols (``ss`` -> ``ß``), from pylatexenc."""
    from pylatexenc.latex2text import MacroTextSpec, get_default_latex_context_db
    from pylatexenc.latexencode import get_builtin_uni2latex_dict

    table: dict[str, str] = {}
    # The encoder's table knows symbols the decoder does not (\S, \copyright).
    for code, latex in get_builtin_uni2latex_dict().items():
        m = re.fullmatch(r"\{?\\([A-Za-z]+)(?:\{\})?\}?", latex.strip())
        if m and m.group(1) not in table:
            table[m.group(1)] = chr(code)
    db = get_default_latex_context_db()
    for cat in db.categories():
        for spec in db.iter_macro_specs([cat]):
            if isinstance(spec, MacroTextSpec) and isinstance(spec.simplify_repl, str):
                repl = spec.simplify_repl
                if repl and "%" not in repl and "<" not in repl and spec.macroname.isalpha():
                    table[spec.macroname] = repl
    for name in list(table):
        if name in FORMAT_COMMANDS or name in DECLARATIONS or name in LOGOS:
            del table[name]
    table.pop("ensuremath", None)
    table["textbackslash"] = "\\\\"  # the model's escape for a literal backslash
    table.update(_BIBLATEX_SYMBOLS)
    table["textasciicircum"] = "^"
    table["textasciitilde"] = "~"
    table["textasciigrave"] = "`"
    table["textdollar"] = "\\$"
    table["textbraceleft"] = "\\{"
    table["textbraceright"] = "\\}"
    return table


@lru_cache(maxsize=4096)
def _accent(command: str, argument: str) -> str | None:
    """``\\"`` + ``u`` -> ``ü`` (NFC); None when pylatexenc cannot do it."""
    from pylatexenc.latex2text import LatexNodes2Text

    text = LatexNodes2Text().latex_to_text(f"\\{command}{{{argument}}}")
    text = unicodedata.normalize("NFC", text)
    if not text or text == argument:
        return None
    return text


class _Decoder:
    __slots__ = ("i", "n", "s")

    def __init__(self, s: str) -> None:
        self.s = s
        self.i = 0
        self.n = len(s)

    def run(self) -> str:
        text = collapse_ws(self._until(None))
        if text.endswith("\\") and (len(text) - len(text.rstrip("\\"))) % 2:
            text = text[:-1]  # a control space at the end ("\\LaTeX\\ "), stripped
        return text

    def _until(self, closer: str | None) -> str:
        """Decode until ``closer`` (``}``) at this level, or the end."""
        s, out = self.s, list[str]()
        # Whether the output ends with a control word kept verbatim (\LaTeX):
        # what follows must not glue onto it (\LaTeX\-pedia is not \LaTeXpedia).
        word_open = False
        while self.i < self.n:
            c = s[self.i]
            if c == "}" and closer == "}":
                self.i += 1
                return "".join(out)
            if word_open and c in "\\{":
                piece = self._command() if c == "\\" else self._group()
                if piece == " " and c == "\\":
                    piece = "\\ "  # a control space: TeX would eat a plain one
                elif piece[:1].isalpha():
                    piece = "{}" + piece
                if piece:
                    out.append(piece)
                    word_open = c == "\\" and _ENDS_WITH_WORD.search(piece) is not None
                continue
            if word_open and s[self.i].isalpha():
                out.append("{}")
            word_open = False
            if c == "\\":
                piece = self._command()
                out.append(piece)
                word_open = _ENDS_WITH_WORD.search(piece) is not None
            elif c == "{":
                out.append(self._group())
            elif c == "$":
                out.append(self._math())
            elif c == "~":
                out.append("\u00a0")
                self.i += 1
            elif c == "-" and s.startswith("--", self.i):
                if s.startswith("---", self.i):
                    out.append("\u2014")
                    self.i += 3
                else:
                    out.append("\u2013")
                    self.i += 2
            elif c == "`":
                if s.startswith("``", self.i):
                    out.append("\u201c")
                    self.i += 2
                else:  # a lone ` is TeX's opening single quote
                    out.append("\u2018")
                    self.i += 1
            elif c == "'" and s.startswith("''", self.i):
                out.append("\u201d")
                self.i += 2
            elif c == "}":  # unbalanced: keep it, escaped, rather than lose it
                out.append("\\}")
                self.i += 1
            else:
                m = _DECODE_MARK.search(s, self.i + 1)
                j = m.start() if m else self.n
                out.append(s[self.i : j])
                self.i = j
        return "".join(out)

    def _raw_group(self) -> str:
        """The raw text of the ``{...}`` group at ``i`` (braces excluded)."""
        s, depth, start = self.s, 0, self.i + 1
        j = self.i
        while j < self.n:
            c = s[j]
            if c == "\\":
                j += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    self.i = j + 1
                    return s[start:j]
            j += 1
        self.i = self.n
        return s[start:]

    def _skip_spaces(self) -> None:
        while self.i < self.n and self.s[self.i] in " \t\n\r":
            self.i += 1

    def _group(self) -> str:
        s = self.s
        start = self.i
        if s.startswith("{}", start):  # an empty group only breaks ligatures
            self.i += 2
            return ""
        self.i += 1
        if self.i < self.n and s[self.i] == "\\":
            m = _DECLARATION.match(s, self.i)
            if m and m.group(1) in DECLARATIONS:
                self.i = m.end()
                inner = self._until("}")
                return f"\\{DECLARATIONS[m.group(1)]}{{{inner.strip()}}}"
        inner = self._until("}")
        if not inner:  # {\-} and friends: nothing left to protect
            return ""
        raw = s[start + 1 : self.i - 1]
        # A braced special character, {\"u} or {\ss}: BibTeX's convention for
        # accents, not a request to protect case.
        if raw.startswith("\\") and _is_special_char(raw, inner):
            return inner
        return "{" + inner + "}"

    def _math(self) -> str:
        s = self.s
        delim = "$$" if s.startswith("$$", self.i) else "$"
        j = self.i + len(delim)
        while j < self.n:
            if s[j] == "\\":
                j += 2
                continue
            if s.startswith(delim, j):
                raw = s[self.i : j + len(delim)]
                self.i = j + len(delim)
                return raw
            j += 1
        # An unmatched dollar is a literal dollar sign.
        self.i += 1
        return "\\$"

    def _argument(self) -> str | None:
        """The argument of an accent: a group, ``\\i``, or one character."""
        self._skip_spaces()
        if self.i >= self.n:
            return None
        c = self.s[self.i]
        if c == "{":
            return self._raw_group()
        if c == "\\":
            m = _DOTLESS.match(self.s, self.i)
            if m:
                self.i = m.end()
                return "\\" + m.group(1)
            return None
        if c == "}":
            return None
        self.i += 1
        return c

    def _command(self) -> str:
        s = self.s
        start = self.i
        if self.i + 1 >= self.n:
            # A backslash that ends the value: in a name part it is what is
            # left of a control space ("\\TUG\\ Board" splits after "\\"), and
            # in LaTeX it would combine with whatever follows: a space, and
            # spaces at the end of a value go.
            self.i += 1
            return ""
        c = s[self.i + 1]
        if not c.isalpha():
            self.i += 2
            if c in ACCENT_SYMBOLS:
                return self._accented(c, start)
            if c in "&%#_":
                return c
            if c in "{}$":
                return "\\" + c
            if c in " \n\t\\":
                return " "
            if c == ",":
                return "\u2009"
            if c == ";":
                return "\u2004"
            if c == ":":
                return "\u205f"
            if c in "-/@":
                return ""
            if c == "(":  # \( math \)
                end = s.find("\\)", self.i)
                if end >= 0:
                    body = s[self.i : end]
                    self.i = end + 2
                    return f"${body}$"
            return s[start : self.i]
        j = self.i + 1
        while j < self.n and s[j].isalpha():
            j += 1
        name = s[self.i + 1 : j]
        self.i = j
        if name in ACCENT_WORDS:
            return self._accented(name, start)
        if name in FORMAT_COMMANDS:
            self._skip_spaces()
            if self.i < self.n and s[self.i] == "{":
                self.i += 1
                inner = self._until("}")
                return f"\\{name}{{{inner}}}"
            return s[start : self.i]
        if name in VERBATIM_COMMANDS:
            begin = self.i
            while self.i < self.n and s[self.i] == "{":
                self._raw_group()
            return s[start:begin] + s[begin : self.i]
        if name in LOGOS:
            if s.startswith("{}", self.i):
                self.i += 2
            return s[start : self.i]
        table = _symbol_table()
        if name in table:
            # TeX eats the spaces after a control word: \ss x -> ßx.
            self._skip_spaces()
            if s.startswith("{}", self.i):
                self.i += 2
            return table[name]
        # Unknown: kept verbatim, with the {} that stops TeX eating the next space.
        if s.startswith("{}", self.i):
            self.i += 2
        return s[start : self.i]

    def _accented(self, command: str, start: int) -> str:
        arg = self._argument()
        if arg is None:
            return self.s[start : self.i]
        if len(arg) > 1 and arg.isalpha():
            # \'{ees}: LaTeX centres one accent over the group; a reader (and
            # pandoc) puts it on the first letter.
            first = _accent(command, arg[0])
            return self.s[start : self.i] if first is None else first + arg[1:]
        text = _accent(command, arg)
        if text is None:
            return self.s[start : self.i]
        return text


def _is_special_char(raw: str, decoded: str) -> bool:
    return (
        "{" not in decoded
        and "\\" not in decoded
        and bool(decoded)
        and not any(ch.isspace() for ch in decoded)
        and len(decoded) <= 3
    )


def _balanced(text: str) -> bool:
    depth = 0
    for brace in _BRACES.findall(text):  # only the braces, not every character
        if brace == "{":
            depth += 1
        else:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


_BRACES = re.compile(r"[{}]")


def from_latex(text: str) -> str:
    """Decode a BibTeX field value into markup."""
    return _from_latex(text) if len(text) <= _CACHED_LEN else _decode_latex(text)


# Journal names, publishers, addresses and names repeat across a file: a
# bounded cache of short values saves a third of the decoding of a large one.
_CACHED_LEN = 200


@lru_cache(maxsize=16384)
def _from_latex(text: str) -> str:
    return _decode_latex(text)


def _decode_latex(text: str) -> str:
    if not _NEEDS_DECODE.search(text) and ("}" not in text or _balanced(text)):
        return collapse_ws(text)
    try:
        return _Decoder(text).run()
    except RecursionError:
        # Braces nested thousands deep: keep the text as written (it is
        # balanced, so still valid markup) rather than lose the record.
        return (
            collapse_ws(text)
            if _balanced(text)
            else collapse_ws(text.replace("{", "").replace("}", ""))
        )


# --------------------------------------------------------------------------
# markup -> LaTeX

_TO_LATEX = {
    "&": "\\&",
    "%": "\\%",
    "#": "\\#",
    "_": "\\_",
    "~": "\\textasciitilde{}",
    "^": "\\textasciicircum{}",
    "\u00a0": "~",
    "\u2013": "--",
    "\u2014": "---",
    "\u201c": "``",
    "\u201d": "''",
    "\u2018": "`",
    "`": "\\textasciigrave{}",
    # Spaces pdflatex has no glyph for (its utf8 input stops with an error):
    # the LaTeX that typesets them.  \, is LaTeX's thin space (1/6 em).
    "\u2000": "\\enspace{}",
    "\u2001": "\\quad{}",
    "\u2002": "\\enspace{}",
    "\u2003": "\\quad{}",
    "\u2004": "\\;",
    "\u2005": "\\:",
    "\u2006": "\\,",
    "\u2007": "\\hphantom{0}",
    "\u2008": "\\hphantom{.}",
    "\u2009": "\\,",
    "\u200a": "\\hspace{0.05em}",
    "\u200b": "\\hspace{0pt}",
    "\u202f": "\\,",
    "\u205f": "\\:",
    "\u2060": "\\nobreak{}",
    "\u3000": "\\quad{}",
}
_LATEX_SPECIAL = re.compile(
    r"[&%#_~^\u00a0\u2013\u2014\u201c\u201d\u2018`\u2000-\u200b\u202f\u205f\u2060\u3000\u0300-\u036f]"
)
# A letter and the combining accents on it (U+0304 after "a"): pdflatex has
# no glyph for a combining mark alone, so the pair becomes an accent command.
_COMBINING = re.compile(r"([^\W\d_])?([\u0300-\u036f]+)")
_ACCENT_COMMANDS = {
    "\u0300": "`",
    "\u0301": "'",
    "\u0302": "^",
    "\u0303": "~",
    "\u0304": "=",
    "\u0306": "u",
    "\u0307": ".",
    "\u0308": '"',
    "\u030a": "r",
    "\u030b": "H",
    "\u030c": "v",
    "\u0323": "d",
    "\u0327": "c",
    "\u0328": "k",
    "\u0331": "b",
}
# Accents that sit above the letter: on i and j LaTeX wants the dotless forms.
_ABOVE = frozenset("\u0300\u0301\u0302\u0303\u0304\u0306\u0307\u0308\u030a\u030b\u030c")


def _accent_command(m: re.Match[str]) -> str:
    base, marks = m.group(1) or "", m.group(2)
    if not all(mark in _ACCENT_COMMANDS for mark in marks):
        return m.group(0)  # no LaTeX accent for one of them: left as it is
    text = base  # none (a mark after a space or a digit): the accent alone, \'{}
    if base and base in "ij" and marks[0] in _ABOVE:
        text = "\\" + base
    for mark in marks:
        command = _ACCENT_COMMANDS[mark]
        # \'e but \c{c}: a letter command needs a group (and \'{\i}, \'{\'{e}}).
        text = f"\\{command}{{{text}}}"
    return "{" + text + "}"


@lru_cache(maxsize=4096)
def _char_to_latex(ch: str) -> str:
    from pylatexenc.latexencode import unicode_to_latex

    latex = unicode_to_latex(ch, non_ascii_only=True, replacement_latex_protection="braces-all")
    if latex == ch:
        # A letter with accents pylatexenc has no name for (U+1E53): its parts.
        parts = unicodedata.normalize("NFD", ch)
        if parts != ch and parts[0].isascii():
            return _COMBINING.sub(_accent_command, parts)
        return ch
    latex = latex.strip()
    if latex.startswith("\\ensuremath"):
        return ch  # math symbols: keep UTF-8 rather than switch mode
    return latex if latex.startswith("{") else "{" + latex + "}"


_ESCAPED_TO_LATEX = {
    "\\\\": "\\textbackslash{}",
    "\\{": "\\textbraceleft{}",
    "\\}": "\\textbraceright{}",
}
# Ligatures TeX would form from literal characters: broken with an empty group.
_LIGATURES = re.compile(r"--|``|''")


def _escape_text(chunk: str, ascii_only: bool) -> str:
    if _LATEX_SPECIAL.search(chunk) or _LIGATURES.search(chunk):
        out: list[str] = []
        last = ""
        for ch in chunk:
            piece = _TO_LATEX.get(ch, ch)
            # TeX joins -- and '' across what were separate characters here:
            # "a--b" must not become an en dash, nor "––" an em dash.
            if last and last == piece[0] and last in "-`'":
                out.append("{}")
            out.append(piece)
            last = piece[-1]
        chunk = "".join(out)
        if max(chunk) >= "\u0300" and _COMBINING.search(chunk):
            chunk = _COMBINING.sub(_accent_command, chunk)
    if ascii_only and not chunk.isascii():
        chunk = "".join(ch if ch.isascii() else _char_to_latex(ch) for ch in chunk)
    return chunk


# Splits markup into math, escapes and commands (kept) and text (escaped).
_MARKUP_TOKENS = re.compile(
    r"(\$\$.*?\$\$|\$(?:[^$\\]|\\.)*\$|\\(?:url|href|path|nolinkurl)(?:\{[^{}]*\})+"
    r"|\\[{}$\\]|\\[A-Za-z]+|\\.)",
    re.S,
)


def to_latex(markup: str, ascii_only: bool = False) -> str:
    """Encode markup for a BibTeX field: ``& % # _`` escaped outside math."""
    if (
        not _LATEX_SPECIAL.search(markup)
        and "\\" not in markup
        and (markup.isascii() or not ascii_only)
        and not _LIGATURES.search(markup)
    ):
        return markup
    out = []
    for i, piece in enumerate(_MARKUP_TOKENS.split(markup)):
        if i % 2:
            # BibTeX counts braces even after a backslash, so \{ would unbalance the field.
            out.append(_ESCAPED_TO_LATEX.get(piece, piece))
        elif piece:
            out.append(_escape_text(piece, ascii_only))
    return "".join(out)


# --------------------------------------------------------------------------
# markup -> plain text / CSL HTML


@lru_cache(maxsize=4096)
def math_to_text(math: str) -> str:
    """``$\\times$`` -> ``×``; what a reader of plain text should see."""
    from pylatexenc.latex2text import LatexNodes2Text

    body = math.strip("$")
    try:
        return collapse_ws(LatexNodes2Text(math_mode="text").latex_to_text(body)) or body
    except Exception:
        # pylatexenc recurses once per brace (math nested hundreds deep) and
        # fails on some malformed math (IndexError): shown as written.
        return collapse_ws(body)


_CSL_ESCAPES = {"\\{": "{", "\\}": "}", "\\$": "$", "\\\\": "\\"}


_CONTROL_WORD = re.compile(r"\\([A-Za-z]+)")
_SPACES = re.compile(r"[ \t\n]*")
_DIMENSION = re.compile(r"\s*(?:\{[^{}]*\}|-?[\d.]+\s*(?:em|ex|pt|mm|cm|in|mu|sp|bp|pc)? ?)")
# Commands whose argument is for TeX's eyes only: a sort key (\noopsort and
# its many spellings in real files), an index entry, an environment name.
_SKIP_ARGUMENT = {
    "noop",
    "Noop",
    "NOOP",
    "NoOp",
    "noopsort",
    "SortNoop",
    "sortnoop",
    "nosort",
    "begin",
    "end",
    "hyphenation",
    "label",
    "index",
}
_SKIP_DIMENSION = {"kern", "raise", "lower", "hskip", "vskip", "hspace", "vspace", "mkern", "mskip"}
# Commands without an argument that print a space, a dash or nothing.  They
# stay in the markup as written (a BibTeX round trip keeps them) and are
# typeset here as LaTeX would.  \emdash, \Dash and \endash are the usual
# @preamble definitions of Beebe's and TUGboat's bibliographies.
_RENDER_WORDS = {
    "space": " ",
    "relax": "",
    "protect": "",
    "nobreak": "",
    "allowbreak": "",
    "unskip": "",
    "ignorespaces": "",
    "leavevmode": "",
    "null": "",
    "strut": "",
    "noindent": "",
    "newblock": " ",
    "newline": " ",
    "linebreak": " ",
    "break": " ",
    "par": " ",
    "hfil": " ",
    "hfill": " ",
    "quad": "\u2003",
    "qquad": "\u2003\u2003",
    "enspace": "\u2002",
    "enskip": "\u2002",
    "thinspace": "\u2009",
    "nobreakspace": "\u00a0",
    "emdash": "\u2014",
    "Dash": "\u2014",
    "endash": "\u2013",
}
# Control symbols: \- (a discretionary hyphen), \/ (italic correction) and
# \@ print nothing; \, \; \: are spaces.
_RENDER_SYMBOLS = {"-": "", "/": "", "@": "", "!": "", ",": "\u2009", ";": "\u2004", ":": "\u205f"}
# Accents over nothing, as LaTeX prints them: the spacing forms.  \^{} and
# \~{} are how BibTeX files write a caret and a tilde (x\^{}2, \~{}user).
_SPACING_ACCENTS = {
    "'": "\u00b4",
    '"': "\u00a8",
    "`": "`",
    "^": "^",
    "~": "~",
    "=": "\u00af",
    ".": "\u02d9",
}
_NOCASE_OPEN = '<span class="nocase">'
_TAG = re.compile(r"<[^<>]*>")


def _has_letter(rendered: str) -> bool:
    """Whether CSL rich text has a letter whose case could change (tags aside)."""
    return any(ch.isalpha() for ch in _TAG.sub("", rendered))


def _known_command(name: str) -> bool:
    return (
        name in FORMAT_COMMANDS
        or name in VERBATIM_COMMANDS
        or name in _SKIP_ARGUMENT
        or name in _SKIP_DIMENSION
        or name in DECLARATIONS
        or name in LOGOS
        or name in _RENDER_WORDS
    )


def _last_argument(markup: str, i: int) -> tuple[str, int] | None:
    """``{\\VAN{Dijk}{Van}{van}}`` at ``i``: the last argument and the end of the group.

    A group that holds nothing but an unknown command and two or more
    arguments is BibTeX's "special character" form of a macro defined in the
    document or its @preamble.  Its arity is then certain, and the argument
    LaTeX prints is as a rule the last one (the others are sort keys,
    colours, languages, variants): ``\\VAN{Dijk}{Van}{van}`` prints "van".
    """
    m = _CONTROL_WORD.match(markup, i + 1)
    if not m or _known_command(m.group(1)):
        return None
    j, args = m.end(), []
    while j < len(markup) and markup[j] == "{":
        close = _matching_brace(markup, j)
        if close >= len(markup) - 1 and markup[close : close + 1] != "}":
            return None
        args.append(markup[j + 1 : close])
        j = close + 1
    if len(args) < 2 or not markup.startswith("}", j):
        return None
    return args[-1], j + 1


def _no_double_space(markup: str, i: int, out: list[str]) -> int:
    """Past the space at ``i`` when a command that printed nothing sat between two spaces."""
    if markup.startswith(" ", i) and (not out or out[-1].endswith(" ")):
        return i + 1
    return i


def _render(markup: str, html: bool, keep_unknown: bool = False, protect: bool = True) -> str:
    """Walk markup; emit plain text, or CSL's HTML-like markup when ``html``.

    An unknown command's name means nothing outside LaTeX: it is dropped and
    its arguments are shown, unless ``keep_unknown`` and it has no argument
    (names: ``\\Thanh`` is better shown as "Thanh" than not at all).
    ``protect`` (CSL only) marks case-protected groups ``nocase``; nested
    groups get no span of their own.
    """
    out: list[str] = []
    stack: list[str] = []  # closing tags for open groups
    nocase: list[int] = []  # per open group: where in out its nocase span opened, or -1
    pending: list[str] = []  # closing tags of declarations at the top level
    i, n = 0, len(markup)
    while i < n:
        c = markup[i]
        if c == "\\" and i + 1 < n:
            two = markup[i : i + 2]
            if two in _CSL_ESCAPES:
                out.append(_CSL_ESCAPES[two])
                i += 2
                continue
            m = _CONTROL_WORD.match(markup, i)
            if not m:  # a control symbol (\- \ ) or an accent without a letter
                symbol = markup[i + 1]
                if symbol in ACCENT_SYMBOLS:
                    # An accent over nothing (Ry{\'{}cko}, \={}\i): LaTeX prints
                    # the accent alone, not the character that names it.
                    out.append(_SPACING_ACCENTS[symbol])
                    i = i + 4 if markup.startswith("{}", i + 2) else i + 2
                    continue
                out.append(_RENDER_SYMBOLS.get(symbol, symbol))
                i += 2
                continue
            name, end = m.group(1), m.end()
            braced = end < n and markup[end] == "{"
            argument = braced and not markup.startswith("{}", end)
            if name in FORMAT_COMMANDS and braced:
                open_tag, close_tag = (
                    FORMAT_COMMANDS[name] if html else PLAIN_WRAP.get(name, ("", ""))
                )
                out.append(open_tag)
                stack.append(close_tag)
                nocase.append(-1)
                i = end + 1
                continue
            if name == "href" and braced:
                # \href{url}{text}: the text is what a reader sees.
                i = _matching_brace(markup, end) + 1
                if i < n and markup[i] == "{":
                    stack.append("")
                    nocase.append(-1)
                    i += 1
                continue
            if name in VERBATIM_COMMANDS and braced:
                close = _matching_brace(markup, end)
                out.append(markup[end + 1 : close])
                i = close + 1
                continue
            if name in _SKIP_ARGUMENT and braced:
                i = _no_double_space(markup, _matching_brace(markup, end) + 1, out)
                continue
            if name in _SKIP_DIMENSION:
                i = _DIMENSION.match(markup, end).end()  # type: ignore[union-attr]
                continue
            before = len(out)
            eaten = _SPACES.match(markup, end).end()  # type: ignore[union-attr]
            if name in DECLARATIONS and html:
                open_tag, close_tag = FORMAT_COMMANDS[DECLARATIONS[name]]
                out.append(open_tag)
                if stack:
                    stack[-1] = close_tag + stack[-1]
                else:
                    pending.append(close_tag)
            elif name in _RENDER_WORDS:
                out.append(_RENDER_WORDS[name])
            elif name in LOGOS or name.upper().endswith("TEX"):  # \LuaTeX, \AMSTEX too
                out.append(LOGOS.get(name, name))
            elif keep_unknown and not argument and name not in DECLARATIONS:
                # {\sltt DVI}: a font switch at the start of a group, not a word.
                declaration = (
                    markup[i - 1 : i] == "{"
                    and eaten > end
                    and markup[eaten : eaten + 1] not in ("}", "")
                )
                if not declaration:
                    out.append(name)
            # TeX eats the spaces after a control word; {} stops it.
            i = end + 2 if markup.startswith("{}", end) else eaten
            if len(out) == before or not out[-1]:
                i = _no_double_space(markup, i, out)
        elif c == "{":
            if markup.startswith("{}", i):  # an empty group, as in \method{}
                i += 2
                continue
            if markup.startswith("\\", i + 1):
                last = _last_argument(markup, i)
                if last is not None:
                    outer = not any(k >= 0 for k in nocase)
                    inner = _render(last[0], html, keep_unknown, protect=protect and outer)
                    wrap = html and protect and outer and _has_letter(inner)
                    out.append(_NOCASE_OPEN + inner + "</span>" if wrap else inner)
                    i = last[1]
                    continue
            # One span for the outermost protected group: nested ones add nothing.
            if html and protect and not any(k >= 0 for k in nocase):
                nocase.append(len(out))
                out.append(_NOCASE_OPEN)
                stack.append("</span>")
            else:
                stack.append("")
                nocase.append(-1)
            i += 1
        elif c == "}":
            if stack:
                closer, opened = stack.pop(), nocase.pop()
                if opened >= 0 and not _has_letter("".join(out[opened + 1 :])):
                    # Nothing to protect (a space, a digit): no span.
                    out[opened] = ""
                    closer = closer[: -len("</span>")]
                out.append(closer)
            i += 1
        elif c == "$":
            m = _MATH.match(markup, i)
            if m:
                out.append(math_to_text(m.group(0)))
                i = m.end()
            else:
                out.append("$")
                i += 1
        else:
            m = _RENDER_MARK.search(markup, i + 1)
            j = m.start() if m else n
            out.append(markup[i:j])
            i = j
    out.extend(reversed(stack))
    out.extend(reversed(pending))
    return "".join(out)


def _matching_brace(text: str, start: int) -> int:
    depth = 0
    j = start
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return len(text) - 1


def to_plain(markup: str, keep_unknown: bool = False) -> str:
    """Markup as plain Unicode text (RIS, keys, matching, messages)."""
    if not _RENDER_MARK.search(markup):
        return markup
    return _render(markup, html=False, keep_unknown=keep_unknown)


def to_csl(markup: str, protect: bool = True, keep_unknown: bool = False) -> str:
    """Markup as CSL-JSON rich text (``<i>``, ``<span class="nocase">``...).

    ``protect=False`` drops case protection: a CSL processor changes the case
    of titles only, and a ``nocase`` span anywhere else is noise.
    """
    if not _RENDER_MARK.search(markup):
        return markup
    return _render(markup, html=True, keep_unknown=keep_unknown, protect=protect)


_CSL_TAG = re.compile(
    r'<(/?)(i|b|sup|sub|span)(\s+(?:class="nocase"|style="font-variant:\s*small-caps;?"))?\s*>'
)
_CSL_OPEN = {
    "i": "\\textit{",
    "b": "\\textbf{",
    "sup": "\\textsuperscript{",
    "sub": "\\textsubscript{",
}


def from_csl(text: str) -> str:
    """CSL rich text -> markup; literal ``{ } $ \\`` are escaped."""
    if not any(ch in text for ch in "<\\{}$"):
        return text
    out: list[str] = []
    stack: list[bool] = []  # whether the open tag produced a brace we must close
    pos = 0
    for m in _CSL_TAG.finditer(text):
        out.append(_escape_markup(text[pos : m.start()]))
        pos = m.end()
        closing, tag, attr = m.group(1), m.group(2), m.group(3) or ""
        if closing:
            if stack:
                out.append("}" if stack.pop() else "")
            else:
                out.append(_escape_markup(m.group(0)))
            continue
        if tag == "span":
            if "nocase" in attr:
                out.append("{")
            elif "small-caps" in attr:
                out.append("\\textsc{")
            else:  # a bare <span>: keep the text, drop the tag
                stack.append(False)
                continue
            stack.append(True)
        else:
            out.append(_CSL_OPEN[tag])
            stack.append(True)
    out.append(_escape_markup(text[pos:]))
    out.extend("}" for opened in stack if opened)
    return "".join(out)


def _escape_markup(text: str) -> str:
    return text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}").replace("$", "\\$")


def from_plain(text: str) -> str:
    """Plain text (RIS, listing titles) -> markup."""
    if not any(ch in text for ch in "\\{}$"):
        return text
    return _escape_markup(text)


# --------------------------------------------------------------------------
# Case protection


_WORD = re.compile(r"[^\s{}$\\]+")


def _needs_protection(word: str) -> bool:
    core = word.strip(".,;:!?()[]\"'\u201c\u201d\u2018\u2019")
    return any(any(ch.isupper() for ch in part[1:]) for part in re.split(r"[-/\u2013]", core))


def protect_case(markup: str) -> str:
    """Brace-protect acronyms and words with inner capitals (``{BERT}``, ``{LoRA}``).

    Only text outside existing groups, math and commands is touched, so the
    function is idempotent and never double-braces.
    """
    if not any(ch.isupper() for ch in markup):
        return markup
    out: list[str] = []
    i, n, depth = 0, len(markup), 0
    while i < n:
        c = markup[i]
        if c == "\\" and i + 1 < n:
            m = re.compile(r"\\[A-Za-z]+|\\.").match(markup, i)
            assert m is not None
            out.append(m.group(0))
            i = m.end()
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth = max(0, depth - 1)
        elif c == "$":
            m = _MATH.match(markup, i)
            if m:
                out.append(m.group(0))
                i = m.end()
                continue
        elif depth == 0 and not c.isspace():
            m = _WORD.match(markup, i)
            if m:
                word = m.group(0)
                if _needs_protection(word):
                    lead = len(word) - len(word.lstrip("(\"'\u201c\u2018["))
                    core = word.rstrip(".,;:!?)]\"'\u201d\u2019")
                    out.append(word[:lead] + "{" + core[lead:] + "}" + word[len(core) :])
                else:
                    out.append(word)
                i = m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)
