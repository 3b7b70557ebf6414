r"""Lint bibliographies: problems that break a build or a citation, and the safe fixes.

Library API (pure: texts and records in, findings and fixed texts out).  The
CLI's ``bibtools lint INPUT... [--fix] [--format text|json]`` runs::

    sources = [Source.from_file(path) for path in inputs]     # InputError: exit 2
    result = lint(sources, fix=fix, ignore=ignored_codes)
    for name, text in result.fixed.items():                    # only with fix=True
        write_atomic(name, text)                               # (sources[i].encoding: see below)
    print(render_text(result) if fmt == "text" else render_json(result))
    sys.exit(result.exit_code)                                 # 1 when an error remains

``lint_text(text)`` is the one-BibTeX-text shortcut, ``lint_records(records)``
the checks that need no source text (for records read from anywhere).

**Findings.**  Each :class:`Finding` has a ``level`` (``error``: the build
breaks or a citation comes out wrong, exit status 1 for CI and pre-commit;
``warning``: worth a look), a stable ``code`` (below), a message, the
record's key, ``file:line`` (the field's line where it is known), and
``fix``: the :class:`bibtools.changes.Change` that ``--fix`` applies, or
None when no fix is safe.

**How lint sees values.**  Reading BibTeX into records decodes LaTeX
(``\&`` and a bare ``&`` both become ``&``; page dashes and DOI prefixes
are normalised), so what a check needs to see *as written* is taken from the
BibTeX text itself: every entry is split again (bibtexparser's splitter,
the reader's first layer) and each field's raw value and its position in
the text are kept.  Checks on how BibTeX text is written (unescaped
characters, unprotected acronyms, "et al.", page dashes, DOI prefixes) run
on those raw values, and only for BibTeX inputs: other formats have no
LaTeX to get wrong, and the BibTeX writer escapes and protects what it
writes.  Every other check runs on records, whatever the input format.

**Fixes.**  ``fix=True`` edits the raw value of the fields concerned in
the BibTeX text and nothing else: layout, comments, field order, ``@string``
macros and everything lint has no opinion about stay byte for byte
(the result is in ``LintResult.fixed``, per input file).  Only these are
applied, all meaning-preserving: brace-protecting acronyms and words with
inner capitals in titles (``{BERT}``, :func:`bibtools.text.markup.protect_case`),
escaping ``& % # _`` outside math and URLs (in fields LaTeX typesets: the
printed ones and abstracts; an unknown field is reported, not edited, as
whatever reads it may want the character), ``et al.`` at the end of an
author list -> ``and others``, page ranges to ``--`` (``12-34``, ``12 – 34``)
without ``pp.``, and DOIs without ``https://doi.org/``/``doi:`` prefixes or
escapes.  Values built with ``#`` or macros are not edited.  After fixing,
``LintResult.remaining`` holds what a second run reports on the fixed text:
no fixable finding is left, and the exit status is computed from it.

**Checks** (``CHECKS``):

=======================  =======  ===========================================================
code                     level    what
=======================  =======  ===========================================================
parse-error              error    an entry the reader skipped (unbalanced braces, ...)
read-warning             warning  what the reader warned about (a field given twice, ...)
unescaped-char           error    ``& % # _`` outside math in a printed field (warning in
                                  other fields; never in URLs, DOIs, files, sort keys)
unprotected-acronym      warning  ``BERT``, ``LoRA`` in a title: styles that lowercase titles
                                  would print ``bert``, ``lora``
et-al                    warning  ``et al.`` written into an author or editor list
truncated-authors        warning  an author/editor list cut short (``and others``); ``bibtools
                                  enrich`` completes arXiv papers
published-preprint       warning  an arXiv-only entry whose ``journal_ref`` or DOI says it was
                                  published (``bibtools enrich --sources published``)
missing-doi              warning  a journal article or conference paper after 2000 without DOI
missing-field            error    a field the entry type requires (BibTeX's rules; crossref
                                  parents are taken into account)
invalid-key              error    a citation key BibTeX or biber cannot use (empty, spaces, ...)
duplicate-key            error    a key used before (case-insensitively, across all inputs)
duplicate-entry          warning  the same paper twice (:func:`bibtools.dedupe.find_duplicates`)
shared-identifier        warning  one DOI or arXiv id on two entries with different titles
ambiguous-duplicates     warning  near-duplicates with different DOIs (or arXiv ids, or
                                  places in one venue) chained by a title: left apart
venue-spelling           warning  one venue spelled several ways (case, punctuation, "the")
page-dash                warning  a page range not written ``12--34``, or with ``pp.``
malformed-pages          warning  pages that are not pages, or a range that ends before it starts
malformed-date           warning  a year, month, day or date that is not one (seasons and
                                  "Jul/Aug" are months)
doi-format               warning  a DOI written as a URL or with ``doi:`` or escapes
malformed-doi            error    a DOI that is not ``10.NNNN/suffix``
=======================  =======  ===========================================================

**Encoding.**  :meth:`Source.from_file` decodes like every reader
(:func:`bibtools.files.decode`); ``Source.encoding`` says what was assumed, so
the CLI can warn before writing a fixed file back as UTF-8.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .changes import Change
from .convert import canonical, detect, get_format, resolve_crossrefs
from .dedupe import find_duplicates, venue_score
from .diagnostics import Diagnostic, Diagnostics, Level, UsageError
from .files import read_input
from .formats import ReadOptions
from .formats.bibtex import FROM_CSL, TO_CSL
from .formats.bibtex_split import quiet_bibtexparser
from .ids import arxiv_key, clean_doi, normalize_doi
from .model import Record
from .preprint import is_arxiv_preprint, is_preprint_venue
from .text.dates import is_valid, parse_month
from .text.keys import biber_accepts
from .text.markup import protect_case, to_plain
from .text.matching import normalize_title

__all__ = [
    "CHECKS",
    "Check",
    "Finding",
    "LintResult",
    "Source",
    "lint",
    "lint_records",
    "lint_text",
    "render_json",
    "render_text",
]

E, W = Level.ERROR, Level.WARNING


@dataclass(frozen=True, slots=True)
class Check:
    code: str
    level: Level
    fixable: bool
    description: str


CHECKS: dict[str, Check] = {
    c.code: c
    for c in (
        Check("parse-error", E, False, "an entry the reader could not read"),
        Check("read-warning", W, False, "a warning of the reader"),
        Check("unescaped-char", E, True, "& % # _ outside math (error in printed fields)"),
        Check("unprotected-acronym", W, True, "an acronym or inner capital not brace-protected"),
        Check("et-al", W, True, "'et al.' written into a name list"),
        Check("truncated-authors", W, False, "an author or editor list cut short"),
        Check("published-preprint", W, False, "an arXiv entry whose published version is known"),
        Check("missing-doi", W, False, "a journal or conference paper after 2000 without DOI"),
        Check("missing-field", E, False, "a field the entry type requires"),
        Check("invalid-key", E, False, "a citation key BibTeX cannot use"),
        Check("duplicate-key", E, False, "a citation key used twice"),
        Check("duplicate-entry", W, False, "the same paper twice"),
        Check("shared-identifier", W, False, "one DOI or arXiv id on different titles"),
        Check("ambiguous-duplicates", W, False, "near-duplicates with different identifiers"),
        Check("venue-spelling", W, False, "one venue spelled several ways"),
        Check("page-dash", W, True, "a page range not written with --"),
        Check("malformed-pages", W, False, "pages that are not page numbers"),
        Check("malformed-date", W, False, "a year, month, day or date that is not one"),
        Check("doi-format", W, True, "a DOI with a URL or doi: prefix"),
        Check("malformed-doi", E, False, "a DOI that is not 10.NNNN/suffix"),
    )
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: where, how bad, what, and the fix ``--fix`` would apply (or None)."""

    file: str
    line: int
    level: Level
    code: str
    message: str
    key: str = ""
    fix: Change | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f"{self.key}: {self.message}" if self.key else self.message
        hint = " (fixable)" if self.fix is not None else ""
        return f"{where}: {self.level.value}: {what} [{self.code}]{hint}"

    def as_diagnostic(self) -> Diagnostic:
        return Diagnostic(self.file, self.line, self.level, self.message, self.key, self.code)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "level": self.level.value,
            "code": self.code,
            "key": self.key,
            "message": self.message,
            "fix": self.fix.as_dict() if self.fix is not None else None,
        }


# --------------------------------------------------------------------------
# Sources: records, and for BibTeX the raw text they came from


@dataclass(slots=True)
class Source:
    """One input as lint sees it: its records, and its text when it is BibTeX."""

    name: str
    records: list[Record]
    format: str
    text: str | None = None  # BibTeX only: raw checks and fixes work on it
    diagnostics: Diagnostics = field(default_factory=Diagnostics)  # the reader's
    encoding: str = "utf-8"
    crashed: str = ""  # the reader failed on this input as a whole (hostile input)

    @classmethod
    def from_text(cls, text: str, name: str = "<string>", format: str | None = None) -> Source:
        """Read ``text`` (format from ``format``, else from ``name``, else sniffed)."""

        fmt = canonical(format) if format else detect(text, name)
        try:
            result = get_format(fmt).read(text, ReadOptions(source=name))
        except Exception as exc:  # a reader's bug: lint reports the file and goes on
            what = f"{type(exc).__name__}: {exc}"
            return cls(name, [], fmt, text if fmt == "bibtex" else None, crashed=what)
        return cls(name, result.records, fmt, text if fmt == "bibtex" else None, result.diagnostics)

    @classmethod
    def from_file(cls, path: str, format: str | None = None) -> Source:
        """Read a file (``-`` is stdin); raises :class:`bibtools.diagnostics.InputError`."""

        text, encoding = read_input(path)
        source = cls.from_text(text, "<stdin>" if path == "-" else path, format)
        source.encoding = encoding
        return source


@dataclass(slots=True)
class _RawField:
    name: str  # lower-case
    value: str  # as written, delimiters included
    start: int  # offset of ``value`` in the source text; -1 when unknown
    line: int


@dataclass(slots=True)
class _RawEntry:
    type: str
    key: str
    line: int
    fields: dict[str, _RawField]


class _Lines:
    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


def _raw_entries(text: str) -> list[_RawEntry]:
    """Every entry of a BibTeX text with the raw value and offset of each field."""
    from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock, Entry
    from bibtexparser.splitter import Splitter

    # The reader drops a byte-order mark; positions must still count it.
    bom = 1 if text.startswith("\ufeff") else 0
    try:
        with quiet_bibtexparser():
            library = Splitter(text[bom:]).split()
    except Exception:  # the splitter's own "report this bug" states: no raw checks then
        return []
    lines = _Lines(text)
    out: list[_RawEntry] = []
    cursor = 0
    for found in library.blocks:
        block = (
            found.ignore_error_block
            if isinstance(found, (DuplicateBlockKeyBlock, DuplicateFieldKeyBlock))
            else found
        )
        if not isinstance(block, Entry):
            continue
        line = (block.start_line or 0) + 1
        raw = block.raw or ""
        offset = text.find(raw, cursor) if raw else -1
        offset = offset if offset >= bom else -1
        if offset >= 0 and lines.line(offset) != line:
            offset = -1  # the same text earlier in a comment: do not trust the position
        if offset >= 0:
            cursor = offset + len(raw)
        fields = _locate_fields(raw, offset, block, lines)
        out.append(_RawEntry(block.entry_type.lower(), block.key, line, fields))
    return out


def _locate_fields(raw: str, offset: int, entry: Any, lines: _Lines) -> dict[str, _RawField]:
    fields: dict[str, _RawField] = {}
    pos = raw.find(",") + 1 if offset >= 0 else -1
    for f in entry.fields:
        value = f.value if isinstance(f.value, str) else str(f.value)
        start = -1
        if pos > 0:
            k = raw.find(f.key, pos)
            eq = raw.find("=", k + len(f.key)) if k >= 0 else -1
            v = raw.find(value, eq + 1) if eq >= 0 else -1
            if (
                v >= 0
                and not raw[k + len(f.key) : eq].strip()
                and not raw[eq + 1 : v].strip()
                and not raw[pos:k].strip(" \t\r\n,")
            ):
                start = offset + v
                pos = v + len(value)
            else:
                pos = -1  # lost track: no positions (and no fixes) for the rest
        name = f.key.lower()
        if name not in fields:
            line = lines.line(start) if start >= 0 else (f.start_line or 0) + 1
            fields[name] = _RawField(name, value, start, line)
    return fields


def _parts(value: str) -> list[tuple[int, int]] | None:
    """(start, end) of the inside of each ``{..}``/``".."`` part; None when malformed."""
    parts: list[tuple[int, int]] = []
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c in " \t\r\n#":
            i += 1
        elif c == "{":
            depth, j = 0, i
            while j < n:
                if value[j] == "\\":
                    j += 2
                    continue
                if value[j] == "{":
                    depth += 1
                elif value[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= n:
                return None
            parts.append((i + 1, j))
            i = j + 1
        elif c == '"':
            depth, j = 0, i + 1
            while j < n and not (value[j] == '"' and depth == 0):
                if value[j] == "\\":
                    j += 2
                    continue
                depth += {"{": 1, "}": -1}.get(value[j], 0)
                j += 1
            if j >= n:
                return None
            parts.append((i + 1, j))
            i = j + 1
        else:  # a number or a macro name: nothing written in it
            while i < n and value[i] not in " \t\r\n#":
                i += 1
    return parts


def _single(value: str) -> str | None:
    """The inside of a value that is one delimited part (``{x}`` or ``"x"``), else None."""
    parts = _parts(value)
    if parts is None or len(parts) != 1:
        return None
    start, end = parts[0]
    if start != 1 or end != len(value) - 1:
        return None
    return value[start:end]


def _rewrap(value: str, inner: str) -> str:
    return value[0] + inner + value[-1]


# --------------------------------------------------------------------------
# Raw value checks (BibTeX text only)

# Fields holding URLs, paths, identifiers or keys: LaTeX never sees them as text.
_VERBATIM_FIELDS = frozenset(
    """url doi eprint file pdf code urlraw biburl bibsource timestamp verba verbb verbc
    ids crossref xref xdata related entryset isbn issn eprinttype archiveprefix
    primaryclass eprintclass sortkey key langid owner groups""".split()
)
# Fields styles print: an unescaped character there breaks the build.
_PRINTED_FIELDS = frozenset(
    """author editor translator title subtitle titleaddon booktitle booksubtitle
    booktitleaddon maintitle mainsubtitle maintitleaddon journal journaltitle
    journalsubtitle series volume number pages chapter edition publisher address location
    institution school organization howpublished note addendum type eventtitle venue
    version shorttitle month year""".split()
)
# Fields LaTeX never typesets (sort keys, keyword lists): no character in them is a problem.
_NEVER_TYPESET = frozenset(
    """sorttitle indexsorttitle sortname sortkey sortyear sortshorthand presort keywords
    options""".split()
)
# Fields that are not printed by standard styles but that LaTeX may typeset
# (biblatex styles print abstracts): escaping there is safe and fixed.
_TYPESET_SOMETIMES = frozenset({"abstract", "annotation", "annote", "addendum"})
_TITLE_FIELDS = ("title", "subtitle", "titleaddon")
# Commands whose argument is a URL, key or label, not text.
_VERBATIM_COMMAND = re.compile(
    r"url|path|nolinkurl|doi|href|ref|eqref|pageref|label|[A-Za-z]*cite[A-Za-z]*"
)
_CS = re.compile(r"\\(?:[A-Za-z]+|.)", re.S)


def _group_end(text: str, i: int) -> int:
    """After skipping spaces at ``i``: the index after a ``{..}`` group there (or ``i``)."""
    n = len(text)
    while i < n and text[i] in " \t\r\n":
        i += 1
    if i >= n or text[i] != "{":
        return i
    depth, j = 0, i
    while j < n:
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return n


def _math_end(text: str, i: int) -> int:
    delim = "$$" if text.startswith("$$", i) else "$"
    j = i + len(delim)
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text.startswith(delim, j):
            return j + len(delim)
        j += 1
    return -1


def unescaped_chars(latex: str) -> list[int]:
    """Positions of ``& % # _`` that LaTeX would not typeset as text.

    Outside math (``$..$``, ``\\(..\\)``, ``\\[..\\]``), not escaped, and not in
    the argument of ``\\url``, ``\\href`` (its first), ``\\doi``, ``\\cite``...
    """
    out: list[int] = []
    i, n = 0, len(latex)
    while i < n:
        c = latex[i]
        if c == "\\":
            m = _CS.match(latex, i)
            if m is None:
                i += 1
                continue
            name = m.group(0)[1:]
            i = m.end()
            if _VERBATIM_COMMAND.fullmatch(name):
                i = _group_end(latex, i)
            elif name in ("(", "["):
                end = latex.find("\\" + (")" if name == "(" else "]"), i)
                i = n if end < 0 else end + 2
            elif name == "verb" and i < n:
                end = latex.find(latex[i], i + 1)
                i = n if end < 0 else end + 1
            continue
        if c == "$":
            end = _math_end(latex, i)
            if end > 0:
                i = end
                continue
        elif c in "&%#_":
            out.append(i)
        i += 1
    return out


def _escape_at(text: str, positions: Iterable[int]) -> str:
    out = text
    for p in sorted(positions, reverse=True):
        out = out[:p] + "\\" + out[p:]
    return out


_ET_AL_END = re.compile(r"(?:\s+and)?\s*,?\s*\bet\.?\s*al\b\.?\s*$", re.I)
_ET_AL = re.compile(r"\bet\.?\s+al\b", re.I)
_PAGES_PREFIX = re.compile(r"^\s*(?:pp?\.|pages?\b|p\b)\s*", re.I)
_PAGE = r"[A-Za-z]{0,4}\.?\d+[A-Za-z]?(?::\d+)?\+?|[ivxlcdm]+|[IVXLCDM]+"
_RANGE = re.compile(
    rf"^\s*({_PAGE})\s*(-{{1,3}}|\u2013|\u2014|\u2212|\\textendash\s*)\s*({_PAGE})\s*$"
)
# A page, a range, an open range ("100-") or BibLaTeX's "579 ff.".
_PAGE_ITEM = re.compile(rf"^\s*(?:{_PAGE})(?:\s*-\s*(?:{_PAGE})?|[\s\u00a0]*ff?\.)?\s*$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


def _fix_pages(inner: str) -> str:
    text = _PAGES_PREFIX.sub("", inner, count=1)
    items = text.split(",")
    fixed = []
    for item in items:
        m = _RANGE.match(item)
        if m:
            lead = item[: len(item) - len(item.lstrip())]
            fixed.append(f"{lead}{m.group(1)}--{m.group(3)}")
        else:
            fixed.append(item)
    return ",".join(fixed)


@dataclass(slots=True)
class _FieldFix:
    """The fixes for one raw field, applied in order; each records its Change."""

    entry: _RawEntry
    raw: _RawField
    value: str
    wanted: Callable[[str], bool]
    record: Record
    findings: list[tuple[str, str, Change | None]] = field(default_factory=list)

    def propose(self, code: str, message: str, new_value: str | None) -> None:
        """Record a finding; a fix of a wanted check also changes the value later fixes see."""
        if not self.wanted(code):
            return
        if new_value is None or new_value == self.value:
            self.findings.append((code, message, None))
            return
        change = Change(self.entry.key, self.raw.name, self.value, new_value, f"lint:{code}")
        self.findings.append((code, message, change))
        self.value = new_value


def _check_raw_field(fx: _FieldFix) -> None:
    name = fx.raw.name
    fixable = fx.raw.start >= 0
    if name in _TITLE_FIELDS:
        inner = _single(fx.value)
        if inner is not None:
            protected = protect_case(inner)
            if protected != inner:
                words = _protected_words(inner, protected)
                fx.propose(
                    "unprotected-acronym",
                    f"{name}: {', '.join(words)} would be lowercased by styles that change "
                    "the case of titles; protect with braces",
                    _rewrap(fx.value, protected) if fixable else None,
                )
        elif name == "title" and protect_case(fx.record.title) != fx.record.title:
            # Built from macros or with #: the value as read tells, but is not edited.
            fx.propose(
                "unprotected-acronym",
                "title: acronyms would be lowercased by styles that change the case of "
                "titles; protect them with braces (the value is built with # or macros: "
                "not fixed)",
                None,
            )
    if (
        name not in _VERBATIM_FIELDS
        and name not in _NEVER_TYPESET
        and "url" not in name
        and not name.startswith("__")
    ):
        parts = _parts(fx.value) or []
        positions = [s + p for s, e in parts for p in unescaped_chars(fx.value[s:e])]
        if positions:
            chars = "".join(sorted({fx.value[p] for p in positions}))
            # Escaping changes what an unknown field holds for whatever reads it: not "safe".
            typeset = name in _PRINTED_FIELDS or name in _TYPESET_SOMETIMES
            fx.propose(
                "unescaped-char",
                f"{name}: unescaped {' '.join(chars)} (LaTeX reads "
                f"{'it' if len(chars) == 1 else 'them'} as commands); escape with \\",
                _escape_at(fx.value, positions) if fixable and typeset else None,
            )
    if name in ("author", "editor"):
        inner = _single(fx.value)
        if inner is not None and _ET_AL.search(inner):
            fixed = _ET_AL_END.sub(" and others", inner) if _ET_AL_END.search(inner) else None
            fx.propose(
                "et-al",
                f"{name}: 'et al.' is read as part of a name; BibTeX writes a cut list as "
                "'and others'",
                _rewrap(fx.value, fixed) if fixed is not None and fixable else None,
            )
    if name == "pages":
        inner = _single(fx.value)
        if inner is not None:
            fixed = _fix_pages(inner)
            if fixed != inner:
                fx.propose(
                    "page-dash",
                    f"pages {inner!r}: write page ranges as 12--34 (an en dash), without 'pp.'",
                    _rewrap(fx.value, fixed) if fixable else None,
                )
    if name == "doi":
        inner = _single(fx.value)
        if inner is not None and "{" not in inner:
            fixed = clean_doi(inner)
            if fixed != inner and _DOI.match(fixed):
                fx.propose(
                    "doi-format",
                    f"DOI {inner!r}: write the DOI alone ({fixed}), not a URL, prefix or escapes",
                    _rewrap(fx.value, fixed) if fixable else None,
                )


def _protected_words(before: str, after: str) -> list[str]:
    words = re.findall(r"\{([^{}]*)\}", after)
    original = set(re.findall(r"\{([^{}]*)\}", before))
    fresh = [w for w in words if w not in original]
    return fresh[:5] + (["..."] if len(fresh) > 5 else [])


# --------------------------------------------------------------------------
# Record checks (any format)

# BibTeX's required fields per entry type (btxdoc), alternatives grouped;
# BibLaTeX's names (journaltitle, date, location) count as their BibTeX twins.
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "article": (("author",), ("title",), ("journal",), ("year",)),
    "book": (("author", "editor"), ("title",), ("publisher",), ("year",)),
    "booklet": (("title",),),
    "inbook": (
        ("author", "editor"),
        ("title",),
        ("chapter", "pages", "booktitle"),
        ("publisher",),
        ("year",),
    ),
    "incollection": (("author",), ("title",), ("booktitle",), ("publisher",), ("year",)),
    "inproceedings": (("author",), ("title",), ("booktitle",), ("year",)),
    "conference": (("author",), ("title",), ("booktitle",), ("year",)),
    "manual": (("title",),),
    "mastersthesis": (("author",), ("title",), ("school",), ("year",)),
    "phdthesis": (("author",), ("title",), ("school",), ("year",)),
    "proceedings": (("title",), ("year",)),
    "techreport": (("author",), ("title",), ("institution",), ("year",)),
    "unpublished": (("author",), ("title",), ("note",)),
    # BibLaTeX
    "online": (("author", "editor"), ("title",), ("year",), ("url", "doi", "eprint")),
    "report": (("author",), ("title",), ("institution",), ("year",)),
    "thesis": (("author",), ("title",), ("school",), ("year",)),
    "collection": (("editor",), ("title",), ("year",)),
    "patent": (("author",), ("title",), ("number",), ("year",)),
}


def _has(rec: Record, name: str) -> bool:
    extra = rec.extra if rec.extra_format == "bibtex" else {}
    checks: dict[str, Callable[[], bool]] = {
        "author": lambda: bool(rec.authors or rec.authors_truncated),
        "editor": lambda: bool(rec.editors or rec.editors_truncated),
        "title": lambda: bool(rec.title.strip()),
        "journal": lambda: (
            bool(rec.container_title) or "journal" in extra or "journaltitle" in extra
        ),
        "booktitle": lambda: (
            bool(rec.container_title) or "booktitle" in extra or "maintitle" in extra
        ),
        "year": lambda: bool(rec.issued),
        "publisher": lambda: bool(rec.publisher),
        "school": lambda: bool(rec.institution) or "school" in extra or "institution" in extra,
        "institution": lambda: bool(rec.institution) or "institution" in extra or "school" in extra,
        "chapter": lambda: "chapter" in extra,
        "pages": lambda: bool(rec.pages),
        "note": lambda: bool(rec.note),
        "number": lambda: bool(rec.number or rec.issue or rec.collection_number),
        "url": lambda: bool(rec.url),
        "doi": lambda: bool(rec.doi),
        "eprint": lambda: bool(rec.arxiv_id) or "eprint" in extra,
    }
    return checks[name]()


def _number(text: str) -> int | None:
    # isdigit() accepts "²" and "٣", which int() refuses or reads differently.
    return int(text) if text.isascii() and text.isdigit() else None


def _bibtex_type(rec: Record) -> str:
    """The entry type the BibTeX writer would use (the input's when it still fits)."""

    src = rec.source_type.lower()
    if src in TO_CSL and TO_CSL[src] == rec.type:
        return src
    if is_arxiv_preprint(rec):
        return "misc"
    return FROM_CSL.get(rec.type, "misc")


_SEASONS = frozenset({"spring", "summer", "fall", "autumn", "winter"})


def _month_ok(value: str) -> bool:
    """A month, a season (BibTeX prints it), or several ("Jul/Aug", "November, December")."""

    words = [
        w for w in re.split(r"[\s,/\u2013-]+", value.strip().strip("{}").replace("~", " ")) if w
    ]
    return bool(words) and all(
        parse_month(w) is not None or w.lower().rstrip(".") in _SEASONS for w in words
    )


def _record_findings(rec: Record, emit: Callable[..., None], complete: Record) -> None:
    """The checks on one record; ``complete`` is it with its crossref parent's fields."""

    # truncated-authors
    for what in ("authors", "editors"):
        if getattr(rec, f"{what}_truncated"):
            names = getattr(rec, what)
            emit(
                "truncated-authors",
                f"the {what[:-1]} list is cut short after {len(names)} "
                f"{'name' if len(names) == 1 else 'names'} ('and others'); "
                "bibtools enrich completes arXiv papers",
            )
    if rec.extra_format != "bibtex":
        names = [n.display() for n in rec.authors + rec.editors]
        if any(_ET_AL.search(n) or n.lower().strip(". ") == "al" for n in names):
            emit("et-al", "'et al.' is read as a name")

    # published-preprint
    arxiv = rec.arxiv_id or arxiv_key(rec)
    doi = normalize_doi(rec.doi)
    published_doi = doi if doi and not doi.startswith("10.48550/") else ""
    if (
        (arxiv or is_arxiv_preprint(rec))
        and venue_score(rec) == 0
        and (rec.journal_ref or published_doi)
    ):
        where = f"journal_ref {rec.journal_ref!r}" if rec.journal_ref else f"DOI {rec.doi}"
        emit(
            "published-preprint",
            f"an arXiv preprint that has been published ({where}); cite the published "
            "version (bibtools enrich --sources published)",
        )

    # missing-doi
    btype = _bibtex_type(rec)
    year = rec.issued.year
    if (
        btype in ("article", "inproceedings", "conference")
        and year is not None
        and year > 2000
        and not rec.doi
        and rec.container_title
        and not is_preprint_venue(rec.container_title)
    ):
        emit("missing-doi", f"a {year} {'article' if btype == 'article' else 'paper'} without DOI")

    # missing-field
    for options in REQUIRED.get(btype, ()):
        if not any(_has(complete, name) for name in options):
            emit("missing-field", f"@{btype} needs {' or '.join(options)}")

    # malformed-pages
    if rec.pages:
        # A "pp." prefix is page-dash's to report (and fix, in BibTeX text).
        for item in _PAGES_PREFIX.sub("", rec.pages, count=1).split(","):
            if not item.strip():
                continue
            if not _PAGE_ITEM.match(item):
                emit(
                    "malformed-pages",
                    f"pages {rec.pages!r}: {item.strip()!r} is not a page or range",
                )
                break
            lo, _, hi = (part.strip() for part in item.partition("-"))
            first, last = _number(lo), _number(hi)
            if first is not None and last is not None and len(hi) >= len(lo) and last < first:
                emit("malformed-pages", f"pages {rec.pages!r}: the range ends before it starts")
                break

    # malformed-date
    issued = rec.issued
    if issued.year is None and issued.literal:
        emit("malformed-date", f"the date {issued.literal!r} is not a year or date")
    elif not is_valid(issued):
        emit("malformed-date", f"{issued.iso()} is not a date")
    if rec.extra_format == "bibtex":
        for name in ("month", "day", "date"):
            value = rec.extra.get(name)
            if not isinstance(value, str):
                continue
            if name == "month" and _month_ok(value):
                continue
            if name == "day" and 1 <= (_number(value.strip()) or 0) <= 31:
                continue
            # A "date" in extra is one the reader could not read (a valid one is ``issued``).
            emit("malformed-date", f"{name} {value!r} is not a {name}")

    # malformed-doi / doi-format (records of any format)
    if rec.doi:
        if not _DOI.match(doi):
            emit("malformed-doi", f"DOI {rec.doi!r} is not of the form 10.NNNN/suffix")
        elif rec.extra_format != "bibtex" and clean_doi(rec.doi) != rec.doi.strip():
            emit("doi-format", f"DOI {rec.doi!r}: write the DOI alone, not a URL or prefix")


# --------------------------------------------------------------------------
# Running the checks


@dataclass(slots=True)
class LintResult:
    """Everything one run found, and with ``fix=True`` what it changed.

    ``findings``: every problem in the input, in input order (with the fix
    each one gets, if any).  ``changes``: the fixes applied (``fix=True``).
    ``fixed``: source name -> the fixed BibTeX text, for every source that
    changed.  ``remaining``: what lint reports on the fixed texts (the
    findings themselves without ``fix=True``).
    """

    findings: list[Finding] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    fixed: dict[str, str] = field(default_factory=dict)
    remaining: list[Finding] = field(default_factory=list)
    files: int = 0
    records: int = 0
    applied: bool = False

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.remaining if f.level is Level.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.remaining if f.level is Level.WARNING]

    @property
    def exit_code(self) -> int:
        """1 when an error remains (after fixing, with ``fix=True``), else 0."""
        return 1 if self.errors else 0

    def counts(self) -> dict[str, int]:
        """Findings per check code, in the order of ``CHECKS``."""
        counter = Counter(f.code for f in self.findings)
        return {code: counter[code] for code in CHECKS if counter[code]}

    def summary(self) -> str:
        errors = sum(1 for f in self.findings if f.level is Level.ERROR)
        warnings = len(self.findings) - errors
        fixable = sum(1 for f in self.findings if f.fix is not None)
        head = (
            f"{self.records} records in {self.files} {'file' if self.files == 1 else 'files'}: "
            f"{errors} {'error' if errors == 1 else 'errors'}, "
            f"{warnings} {'warning' if warnings == 1 else 'warnings'}"
        )
        if self.applied:
            left = len(self.remaining)
            return f"{head}; {len(self.changes)} fixed, {left} left ({len(self.errors)} errors)"
        return f"{head}; {fixable} fixable with --fix" if fixable else head

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": {
                "files": self.files,
                "records": self.records,
                "errors": sum(1 for f in self.findings if f.level is Level.ERROR),
                "warnings": sum(1 for f in self.findings if f.level is Level.WARNING),
                "fixable": sum(1 for f in self.findings if f.fix is not None),
                "fixed": len(self.changes),
                "remaining_errors": len(self.errors),
                "by_code": self.counts(),
            },
            "findings": [f.as_dict() for f in self.findings],
            "changes": [c.as_dict() for c in self.changes],
            "remaining": [f.as_dict() for f in self.remaining] if self.applied else None,
        }


def render_text(result: LintResult) -> str:
    """One line per finding (``file:line: level: key: message [code]``), then the summary.

    After fixing: one line per change (``fixed KEY: FIELD: OLD -> NEW (CODE)``),
    then what is left, then the summary.
    """
    if result.applied:
        lines = [
            f"fixed {c.record_key}: {c.field}: {c.old} -> {c.new} ({c.source[5:]})"
            for c in result.changes
        ]
        lines += [str(f) for f in result.remaining]
    else:
        lines = [str(f) for f in result.findings]
    lines.append(result.summary())
    return "\n".join(lines) + "\n"


def render_json(result: LintResult) -> str:
    return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"


class _Collector:
    def __init__(self, select: set[str] | None, ignore: set[str]) -> None:
        self.findings: list[Finding] = []
        self.select = select
        self.ignore = ignore

    def wanted(self, code: str) -> bool:
        return code not in self.ignore and (self.select is None or code in self.select)

    def add(
        self,
        file: str,
        line: int,
        code: str,
        message: str,
        key: str = "",
        fix: Change | None = None,
        level: Level | None = None,
    ) -> None:
        if self.wanted(code):
            self.findings.append(
                Finding(file, line, level or CHECKS[code].level, code, message, key, fix)
            )


def _label(rec: Record, index: int) -> str:
    return rec.key or f"#{index + 1}"


def lint(
    sources: Sequence[Source],
    *,
    fix: bool = False,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
) -> LintResult:
    """Run the checks on ``sources`` together (duplicates are looked for across them).

    ``select``/``ignore``: check codes to run only / to skip (unknown codes
    raise :class:`bibtools.diagnostics.UsageError`).  With ``fix=True`` the
    safe fixes are applied to the BibTeX texts (``result.fixed``) and
    ``result.remaining`` is a fresh lint of the fixed texts.
    """

    chosen = set(select) if select is not None else None
    skipped = set(ignore)
    unknown = sorted(((chosen or set()) | skipped) - CHECKS.keys())
    if unknown:
        raise UsageError(f"unknown check {unknown[0]!r} (see bibtools.lint.CHECKS)")
    out = _Collector(chosen, skipped)
    result = LintResult(files=len(sources), records=sum(len(s.records) for s in sources))
    edits: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    resolved = _with_crossrefs(sources)
    for source in sources:
        _lint_source(source, out, edits, resolved)
    _cross_checks(sources, out)
    result.findings = out.findings
    if not fix:
        result.remaining = list(out.findings)
        return result
    result.applied = True
    for source in sources:
        changes_here = edits.get(source.name)
        if not changes_here or source.text is None:
            continue
        result.fixed[source.name] = _apply(source.text, changes_here)
    result.changes = [f.fix for f in out.findings if f.fix is not None]
    if result.fixed:
        again = [
            Source.from_text(result.fixed[s.name], s.name, s.format)
            if s.name in result.fixed
            else s
            for s in sources
        ]
        result.remaining = lint(again, select=select, ignore=ignore).findings
    else:
        result.remaining = list(out.findings)
    return result


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    out = text
    for start, end, new in sorted(edits, reverse=True):
        out = out[:start] + new + out[end:]
    return out


def _with_crossrefs(sources: Sequence[Source]) -> dict[int, Record]:
    """id(record) -> a copy with what it inherits from its crossref parent (any input)."""

    records = [r for s in sources for r in s.records]
    if not any(r.crossref for r in records):
        return {}
    copies = [r.copy() for r in records]
    resolve_crossrefs(copies)  # its warnings (a missing parent) are not lint's subject
    return {id(r): c for r, c in zip(records, copies, strict=True) if r.crossref}


def _lint_source(
    source: Source,
    out: _Collector,
    edits: dict[str, list[tuple[int, int, str]]],
    resolved: dict[int, Record],
) -> None:
    name = source.name
    if source.crashed:
        out.add(name, 0, "parse-error", f"cannot read this input: {source.crashed}")
    for d in source.diagnostics:
        if d.message.startswith("cannot read date"):
            continue  # malformed-date reports it, with the other date problems
        code = "parse-error" if d.level is Level.ERROR else "read-warning"
        out.add(d.file or name, d.line, code, d.message, d.key)
    raw_by_place: dict[tuple[int, str], list[_RawEntry]] = defaultdict(list)
    if source.text is not None:
        for entry in _raw_entries(source.text):
            raw_by_place[(entry.line, entry.key)].append(entry)
    for index, rec in enumerate(source.records):
        key = _label(rec, index)
        line = rec.origin_line

        def emit(code: str, message: str, *, _key: str = key, _line: int = line) -> None:
            out.add(name, _line, code, message, _key)

        queue = raw_by_place.get((rec.origin_line, rec.key))
        raw = queue.pop(0) if queue else None
        if raw is not None:
            _raw_checks(name, raw, rec, out, edits[name])
        elif rec.extra_format == "bibtex":
            title = rec.title
            if title and protect_case(title) != title:
                emit(
                    "unprotected-acronym",
                    "title: acronyms would be lowercased; protect with braces",
                )
        bibtex = source.format == "bibtex" or rec.extra_format == "bibtex"
        if bibtex and not biber_accepts(rec.key):
            emit(
                "invalid-key",
                f"citation key {rec.key!r} cannot be cited (spaces, commas, braces...)",
            )
        _record_findings(rec, emit, resolved.get(id(rec), rec))


def _raw_checks(
    name: str,
    raw: _RawEntry,
    record: Record,
    out: _Collector,
    edits: list[tuple[int, int, str]],
) -> None:
    for rf in raw.fields.values():
        fx = _FieldFix(raw, rf, rf.value, out.wanted, record)
        _check_raw_field(fx)
        for code, message, change in fx.findings:
            level = None
            if code == "unescaped-char" and rf.name not in _PRINTED_FIELDS:
                level = Level.WARNING
            out.add(name, rf.line, code, message, raw.key, change, level)
        if fx.value != rf.value and rf.start >= 0:
            # The field's fixes were applied one after another to fx.value.
            edits.append((rf.start, rf.start + len(rf.value), fx.value))


def _cross_checks(sources: Sequence[Source], out: _Collector) -> None:

    everything: list[tuple[Source, int, Record]] = [
        (s, i, r) for s in sources for i, r in enumerate(s.records)
    ]
    # duplicate-key: BibTeX and biber compare keys case-insensitively.
    first: dict[str, tuple[Source, Record]] = {}
    for source, _, rec in everything:
        if not rec.key:
            continue
        seen = first.get(rec.key.lower())
        if seen is None:
            first[rec.key.lower()] = (source, rec)
            continue
        out.add(
            source.name,
            rec.origin_line,
            "duplicate-key",
            f"key {rec.key!r} is already used at {seen[1].location()}",
            rec.key,
        )
    # duplicate-entry, from the merge rules.
    records = [r for _, _, r in everything]
    found = find_duplicates(records)
    for group in found.groups:
        head = records[group.members[0]]
        for m in group.members[1:]:
            source, i, rec = everything[m]
            out.add(
                source.name,
                rec.origin_line,
                "duplicate-entry",
                f"the same paper as {_label(head, everything[group.members[0]][1])} "
                f"({head.location()}): {'; '.join(group.reasons)} (bibtools merge)",
                _label(rec, i),
            )
    for d in found.diagnostics:
        if d.code in CHECKS:
            out.add(d.file, d.line, d.code, d.message, d.key)
    _venue_spelling(everything, out)


_VENUE_STOP = frozenset({"the", "of", "on", "and", "in", "for", "a", "an"})


def _venue_key(container: str) -> str:
    return " ".join(w for w in normalize_title(container).split() if w not in _VENUE_STOP)


def _venue_spelling(everything: Sequence[tuple[Source, int, Record]], out: _Collector) -> None:
    """One venue (same words, case, punctuation and "the/of/on..." aside), several spellings."""
    uses: dict[str, list[tuple[str, Source, int, Record]]] = defaultdict(list)
    for source, i, rec in everything:
        if rec.container_title:
            norm = _venue_key(rec.container_title)
            if norm:
                spelled = " ".join(to_plain(rec.container_title).split())
                uses[norm].append((spelled, source, i, rec))
    for items in uses.values():
        counts = Counter(spelled for spelled, _, _, _ in items)
        if len(counts) < 2:
            continue
        # The most used spelling wins; ties go to the one seen first (Counter keeps that order).
        preferred = max(counts, key=lambda s: counts[s])
        example = next(rec for spelled, _, _, rec in items if spelled == preferred)
        for spelled, source, i, rec in items:
            if spelled != preferred:
                out.add(
                    source.name,
                    rec.origin_line,
                    "venue-spelling",
                    f"venue {spelled!r} is spelled {preferred!r} in "
                    f"{example.key or example.location()}",
                    _label(rec, i),
                )


def lint_text(
    text: str,
    source: str = "<string>",
    *,
    format: str | None = "bibtex",
    fix: bool = False,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
) -> LintResult:
    """Lint one text (BibTeX unless ``format`` says otherwise; None: detect)."""
    return lint([Source.from_text(text, source, format)], fix=fix, select=select, ignore=ignore)


def lint_records(
    records: Sequence[Record],
    source: str = "<records>",
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
) -> LintResult:
    """The checks that need no source text, on records from anywhere (no fixes)."""
    return lint([Source(source, list(records), "records")], select=select, ignore=ignore)
