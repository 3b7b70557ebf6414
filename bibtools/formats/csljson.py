"""CSL-JSON, the input format of Citation Style Language processors.

Reading accepts an array of items, a single item object, or the Zotero web
API's ``{"items": [...]}`` wrapper.  CSL variables the model has a slot for
are mapped into it; every other property of the item is kept verbatim in
``Record.extra`` (``extra_format == "csljson"``) and written back, so
CSL -> record -> CSL keeps every field.  Normalisations on the way:
``shortTitle``/``event`` become ``title-short``/``event-title``, a lower-case
``url``/``doi``/``isbn``/``issn`` its upper-case variable, numbers in text
variables become strings, ``raw`` dates are parsed into ``date-parts``
(``literal`` when they cannot be), and ``page`` ranges use ``-``.

Output validates against the official schema (csl-data.json, draft-07):
anything without a CSL variable goes into the item's ``custom`` object,
under these keys (each written only when needed, in this order):

==============================  ============================================
``source-type`` (str)           ``Record.source_type``
``crossref`` (str)              ``Record.crossref``
``institution`` (str, markup)   ``Record.institution``; it is also written
                                as ``publisher`` when the record has none,
``publisher-from-institution``  and then this flag is ``true``
``organization`` (str, markup)  ``Record.organization``, likewise written as
``publisher-from-organization`` ``publisher`` when there is no other one
``authors-truncated`` (bool)    ``Record.authors_truncated`` (``et al.``)
``editors-truncated`` (bool)    ``Record.editors_truncated``
``arxiv`` (object)              ``id``, ``version`` (only where the standard
                                variables do not already say them),
                                ``primary-class``, ``categories``,
                                ``journal-ref``, ``comment``, ``pdf``, and
                                ``derived``: the variables the writer filled
                                in for a preprint (``publisher``, ``number``,
                                ``DOI``, ``URL``), dropped again on reading
``code`` (list)                 ``[{"url": ..., "origin": ..., "stars": ...}]``
                                code links and what their host said
``code-announced`` (bool)       ``Record.code_announced``
``affiliations`` (list of str)  ``Record.affiliations``
``keywords`` (list of str)      the keyword list, when joining it with
                                ``", "`` would not split back into it
``markup`` (object)             CSL variable -> the model's markup, for
                                fields whose CSL rich text cannot hold it
                                (math, LaTeX commands), used on reading as
                                long as the variable still has that text
``name-extra`` (object)         ``{"author": {"0": {...}}}``: name
                                attributes CSL names cannot carry
``extra`` (object)              ``{"format": ..., "fields": {...}}``: the
                                ``Record.extra`` of another format
==============================  ============================================

Other ``custom`` members (another tool's) are kept in ``Record.extra``
under ``custom`` and written back after ours.

Zotero's mapping is followed for arXiv preprints: type ``article``,
publisher ``arXiv``, number ``arXiv:ID``, DOI ``10.48550/arXiv.ID``, URL
``https://arxiv.org/abs/ID``; the reader recognises these and fills
``arxiv_id``/``arxiv_version``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson as _orjson

from ..diagnostics import Diagnostics
from ..limits import MAX_VALUE, value_too_long
from ..model import CSL_TYPES, CodeLink, Name, PartialDate, Record
from ..text.dates import parse_iso
from ..text.keys import base_key
from ..text.markup import from_csl, from_latex, to_csl, to_plain
from . import ReadOptions, ReadResult, WriteOptions, WriteResult

NAME = "csljson"
EXTENSIONS = (".csl.json", ".csljson", ".json")

# --------------------------------------------------------------------------
# The variables of the official schema (csl-data.json), by kind; a test
# checks this table against the schema file.


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


NAME_VARIABLES = _words(
    """
    author chair collection-editor compiler composer container-author contributor curator
    director editor editorial-director executive-producer guest host interviewer illustrator
    narrator organizer original-author performer producer recipient reviewed-author
    script-writer series-creator translator
    """
)
DATE_VARIABLES = (
    "accessed",
    "available-date",
    "event-date",
    "issued",
    "original-date",
    "submitted",
)
NUMBER_VARIABLES = _words(
    """
    chapter-number citation-number collection-number edition first-reference-note-number issue
    locator number number-of-pages number-of-volumes page page-first part printing supplement
    volume
    """
)
STRING_VARIABLES = _words(
    """
    citation-key language journalAbbreviation shortTitle abstract annote archive
    archive_collection archive_location archive-place authority call-number citation-label
    collection-title container-title container-title-short dimensions division DOI event
    event-title event-place genre ISBN ISSN jurisdiction keyword medium note original-publisher
    original-publisher-place original-title part-title PMCID PMID publisher publisher-place
    references reviewed-genre reviewed-title scale section source status title title-short URL
    version volume-title volume-title-short year-suffix
    """
)
KINDS: dict[str, str] = {
    "type": "type",
    "id": "number",
    "categories": "strings",
    "custom": "object",
    **dict.fromkeys(NAME_VARIABLES, "names"),
    **dict.fromkeys(DATE_VARIABLES, "date"),
    **dict.fromkeys(NUMBER_VARIABLES, "number"),
    **dict.fromkeys(STRING_VARIABLES, "string"),
}
NAME_PARTS = {
    "family": "family",
    "given": "given",
    "dropping-particle": "dropping_particle",
    "non-dropping-particle": "particle",
    "suffix": "suffix",
    "literal": "literal",
}
_NAME_ATTRS = tuple(NAME_PARTS.items())  # in the order a name object is written
NAME_FLAGS = ("comma-suffix", "static-ordering", "parse-names")  # string, number or boolean
DATE_KEYS = ("date-parts", "season", "circa", "literal", "raw")

# Output order: the common variables first, the rest as the table lists them.
_LEAD = (
    "id",
    "type",
    "citation-key",
    "title",
    "title-short",
    "author",
    "editor",
    "container-title",
    "collection-title",
    "volume",
    "issue",
    "page",
    "issued",
    "publisher",
    "publisher-place",
    "event-title",
    "edition",
    "genre",
    "number",
    "DOI",
    "URL",
    "ISBN",
    "ISSN",
    "abstract",
    "keyword",
    "note",
    "language",
    "accessed",
)
_ORDER = _LEAD + tuple(v for v in KINDS if v not in _LEAD and v != "custom") + ("custom",)
_RANK = {name: i for i, name in enumerate(_ORDER)}

# CSL variable -> Record field.  Text fields hold markup; plain ones do not.
TEXT_FIELDS = {
    "title": "title",
    "title-short": "short_title",
    "container-title": "container_title",
    "collection-title": "collection_title",
    "publisher": "publisher",
    "publisher-place": "publisher_place",
    "event-title": "event",
    "edition": "edition",
    "genre": "genre",
    "abstract": "abstract",
    "note": "note",
}
PLAIN_FIELDS = {
    "volume": "volume",
    "issue": "issue",
    "number": "number",
    "collection-number": "collection_number",
    "page": "pages",
    "DOI": "doi",
    "URL": "url",
    "ISBN": "isbn",
    "ISSN": "issn",
    "language": "language",
}
# Other spellings of a variable: read as the variable unless it is also given.
ALIASES = {
    "shortTitle": "title-short",
    "event": "event-title",
    "url": "URL",
    "doi": "DOI",
    "isbn": "ISBN",
    "issn": "ISSN",
}
CUSTOM_KEYS = (
    "source-type",
    "crossref",
    "institution",
    "publisher-from-institution",
    "organization",
    "publisher-from-organization",
    "authors-truncated",
    "editors-truncated",
    "arxiv",
    "code",
    "code-announced",
    "affiliations",
    "keywords",
    "markup",
    "derived",
    "name-extra",
    "extra",
)
_CUSTOM_RANK = {name: i for i, name in enumerate(CUSTOM_KEYS)}
# Variables whose case a CSL processor changes (title case, sentence case):
# the only ones where a ``nocase`` span means something.  CSL 1.0.2 and
# citeproc-js apply text-case to any variable a style asks for, but styles
# ask for titles; pandoc and citation-js protect case in titles only.
TITLE_VARIABLES = frozenset(
    """title title-short container-title container-title-short collection-title
    original-title reviewed-title part-title volume-title volume-title-short event-title""".split()
)
# The name CSL-JSON writers put last in a list cut short ("and others" in
# BibTeX): pandoc and Zotero write {"literal": "others"}, citation-js
# {"family": "others"}.  pandoc's citeproc prints the style's "et al." for
# it, citeproc-js prints "others".
OTHERS = "others"
# Variables the reader maps into Record fields.
_MAPPED = frozenset([*TEXT_FIELDS, *PLAIN_FIELDS, "keyword", "author", "editor", "citation-key"])
_DERIVABLE = ("publisher", "number", "DOI", "URL")
# Deeper values are cut when written: json's encoder recurses.
_MAX_DEPTH = 64


# --------------------------------------------------------------------------
# Value checks shared by reader and writer


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def _small_int(value: Any) -> int | None:
    """A JSON number that is a whole number of at most nine digits, as an int."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not -(10**9) < value < 10**9 or value != int(value):  # NaN fails the range test
        return None
    return int(value)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _valid_name(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    for key, v in value.items():
        if key in NAME_PARTS:
            if not isinstance(v, str):
                return False
        elif key in NAME_FLAGS:
            if not (isinstance(v, str | bool) or _is_number(v)):
                return False
        else:
            return False
    return True


def _valid_date(value: Any) -> bool:
    if not isinstance(value, dict) or not set(value) <= set(DATE_KEYS):
        return False
    parts = value.get("date-parts", [[0]])
    if not isinstance(parts, list) or not 1 <= len(parts) <= 2:
        return False
    for part in parts:
        if not isinstance(part, list) or not 1 <= len(part) <= 3:
            return False
        if not all(isinstance(p, str) or _is_number(p) for p in part):
            return False
    season, circa = value.get("season", ""), value.get("circa", "")
    return (
        (isinstance(season, str) or _is_number(season))
        and (isinstance(circa, str | bool) or _is_number(circa))
        and isinstance(value.get("literal", ""), str)
        and isinstance(value.get("raw", ""), str)
    )


def valid_variable(name: str, value: Any) -> bool:
    """Whether ``value`` is what the schema allows for the variable ``name``."""
    kind = KINDS.get(name)
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, str) or _is_number(value)
    if kind == "names":
        return isinstance(value, list) and all(_valid_name(n) for n in value)
    if kind == "date":
        return _valid_date(value)
    if kind == "strings":
        return _is_str_list(value)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "type":
        return value in CSL_TYPES
    return False


# --------------------------------------------------------------------------
# arXiv identifiers in the variables Zotero writes them to

_ARXIV_ID = r"(\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[a-z]{2})?/\d{7})"
_ARXIV_NUMBER = re.compile(rf"\s*arXiv:\s*{_ARXIV_ID}(?:v(\d{{1,6}}))?\s*", re.I)
_ARXIV_DOI = re.compile(
    rf"\s*(?:https?://(?:dx\.)?doi\.org/)?10\.48550/arXiv\.{_ARXIV_ID}\s*", re.I
)
_ARXIV_URL = re.compile(
    rf"\s*https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/{_ARXIV_ID}(?:v(\d{{1,6}}))?(?:\.pdf)?/?\s*",
    re.I,
)
_ARXIV_IN_TEXT = re.compile(rf"\barXiv:\s*{_ARXIV_ID}(?:v(\d{{1,6}}))?\b", re.I)
_VALID_ARXIV_ID = re.compile(_ARXIV_ID)


def _normal_arxiv_id(raw: str) -> str:
    """``HEP-TH/9901001`` -> ``hep-th/9901001``; ``math.AG/...`` keeps its subject class."""
    if "/" not in raw:
        return raw
    archive, number = raw.split("/", 1)
    head, _, subject = archive.partition(".")
    return f"{head.lower()}.{subject.upper()}/{number}" if subject else f"{head.lower()}/{number}"


def is_arxiv_id(text: str) -> bool:
    return bool(_VALID_ARXIV_ID.fullmatch(text.lower() if "/" in text else text))


def detect_arxiv(item: dict[str, Any]) -> tuple[str, int | None]:
    """The arXiv id and version the standard variables of ``item`` name."""
    found: list[tuple[str, int | None]] = []
    for var, pattern, full in (
        ("number", _ARXIV_NUMBER, True),
        ("DOI", _ARXIV_DOI, True),
        ("URL", _ARXIV_URL, True),
        ("container-title", _ARXIV_IN_TEXT, False),
    ):
        value = item.get(var)
        if not isinstance(value, str):
            continue
        m = pattern.fullmatch(value) if full else pattern.search(value)
        if m:
            version = m.group(2) if m.lastindex and m.lastindex >= 2 else None
            found.append((_normal_arxiv_id(m.group(1)), int(version) if version else None))
    if not found:
        return "", None
    ident = found[0][0]
    versions = [v for i, v in found if i == ident and v is not None]
    return ident, versions[0] if versions else None


def _derived_value(var: str, ident: str) -> str:
    return {
        "publisher": "arXiv",
        "number": f"arXiv:{ident}",
        "DOI": f"10.48550/arXiv.{ident}",
        "URL": f"https://arxiv.org/abs/{ident}",
    }[var]


# --------------------------------------------------------------------------
# Sniffing and scanning

_SNIFF = re.compile(r'\ufeff?\s*(?:\[\s*(?:\{\s*["}]|\])|\{\s*"(?:[^"\\\n]|\\.)*"\s*:)')
_WS = re.compile(r"[ \t\n\r]*")
_RICH = re.compile(r"[\\{}$<]")  # markup that to_csl/from_csl may change
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def sniff(text: str) -> bool:
    """A JSON array of objects, or a JSON object: other formats never start so."""
    return bool(_SNIFF.match(text[:4096]))


def _parse_int(text: str) -> int | str:
    # Python refuses to convert very long digit strings; keep them as text.
    return int(text) if len(text) <= 1000 else text


def _parse_float(text: str) -> float | str:
    value = float(text)
    return value if math.isfinite(value) else text


def _parse_constant(text: str) -> str:
    return text  # NaN, Infinity: not JSON; kept as the text they were


class _NotItems(Exception):
    """The top level is neither an array nor an object."""

    def __init__(self, kind: str, pos: int) -> None:
        super().__init__(kind)
        self.kind = kind
        self.pos = pos


# The reader's JSON decoder (stateless: one serves every scanner, and the
# stream's cutter through value_end).
_DECODER = json.JSONDecoder(
    parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
)


class _Scanner:
    """Decodes the top-level array item by item, so each item's offset is known."""

    def __init__(self, text: str) -> None:
        self.text = text

    def ws(self, i: int) -> int:
        m = _WS.match(self.text, i)
        assert m is not None
        return m.end()

    def value(self, i: int) -> tuple[Any, int]:
        value, end = _DECODER.raw_decode(self.text, i)
        return value, end

    def expect(self, i: int, chars: str, what: str) -> str:
        c = self.text[i : i + 1]
        if not c or c not in chars:
            raise json.JSONDecodeError(f"Expecting {what}", self.text, i)
        return c

    def array(self, i: int) -> tuple[list[tuple[Any, int]], int]:
        """The elements of the array at ``i`` with their offsets, and the end."""
        items: list[tuple[Any, int]] = []
        i = self.ws(i + 1)
        if self.text.startswith("]", i):
            return items, i + 1
        while True:
            value, end = self.value(i)
            items.append((value, i))
            i = self.ws(end)
            if self.expect(i, ",]", "',' delimiter") == "]":
                return items, i + 1
            i = self.ws(i + 1)

    def member_offsets(self, i: int, name: str) -> list[int] | None:
        """Offsets of the elements of array member ``name`` of the (valid) object at ``i``."""
        offsets = None
        i = self.ws(i + 1)
        if self.text.startswith("}", i):
            return None
        while True:
            key, i = self.value(i)
            i = self.ws(i)
            self.expect(i, ":", "':' delimiter")
            i = self.ws(i + 1)
            if key == name and self.text.startswith("[", i):
                items, i = self.array(i)
                offsets = [pos for _, pos in items]
            else:
                _, i = self.value(i)
            i = self.ws(i)
            if self.expect(i, ",}", "',' delimiter") == "}":
                return offsets
            i = self.ws(i + 1)

    def top(self) -> list[tuple[Any, int]]:
        i = self.ws(0)
        if self.text.startswith("[", i):
            items, end = self.array(i)
        else:
            value, end = self.value(i)
            if not isinstance(value, dict):
                kind = "null" if value is None else type(value).__name__
                raise _NotItems(_JSON_KIND.get(kind, kind), i)
            items = self._unwrap(value, i)
        end = self.ws(end)
        if end != len(self.text):
            raise json.JSONDecodeError("Extra data", self.text, end)
        return items

    def _unwrap(self, value: dict[str, Any], pos: int) -> list[tuple[Any, int]]:
        wrapped = value.get("items")
        if "type" in value or not isinstance(wrapped, list):
            return [(value, pos)]
        # The Zotero web API's {"items": [...]}.
        offsets = self.member_offsets(pos, "items")
        if offsets is None or len(offsets) != len(wrapped):
            offsets = [pos] * len(wrapped)
        return list(zip(wrapped, offsets, strict=True))


_JSON_KIND = {
    "str": "string",
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "list": "array",
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    name = type(value).__name__
    return "object" if name == "dict" else _JSON_KIND.get(name, name)


def _replace_surrogates(value: Any, depth: int = 0) -> tuple[Any, bool]:
    """Lone surrogates (from ``\\ud800`` escapes) -> U+FFFD; they cannot be encoded."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            return _SURROGATE.sub("\ufffd", value), True
        return value, False
    if depth > _MAX_DEPTH:
        return value, False
    changed = False
    if isinstance(value, list):
        out_list = []
        for v in value:
            new, c = _replace_surrogates(v, depth + 1)
            out_list.append(new)
            changed |= c
        return (out_list, True) if changed else (value, False)
    if isinstance(value, dict):
        out_dict = {}
        for k, v in value.items():
            new_key, ck = _replace_surrogates(k, depth + 1)
            new, c = _replace_surrogates(v, depth + 1)
            out_dict[new_key] = new
            changed |= c or ck
        return (out_dict, True) if changed else (value, False)
    return value, False


# --------------------------------------------------------------------------
# Reading


def read(text: str, options: ReadOptions) -> ReadResult:
    result = ReadResult()
    source = options.source
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        entries = _Scanner(text).top()
    except json.JSONDecodeError as exc:
        result.diagnostics.error(
            source, exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})"
        )
        return result
    except _NotItems as exc:
        line = text.count("\n", 0, exc.pos) + 1
        result.diagnostics.error(
            source, line, f"expected an array of CSL items or one item object, found a {exc.kind}"
        )
        return result
    except RecursionError:
        result.diagnostics.error(source, 1, "not valid JSON: nested too deeply")
        return result
    _read_items(text, entries, result, source)
    return result


def _read_items(
    text: str,
    entries: list[tuple[Any, int]],
    result: ReadResult,
    source: str,
    first_line: int = 1,
    first_index: int = 0,
) -> None:
    """Read the decoded ``entries`` (item, offset in ``text``) into ``result``.

    ``text`` runs to the next item's offset or to the end of the input (a piece
    of a streamed file starts at ``first_line``, with item ``first_index``).
    """
    check_surrogates = bool(_SURROGATE_ESCAPE.search(text) or _SURROGATE.search(text))
    line, last = first_line, 0
    for n, (item, pos) in enumerate(entries):
        line += text.count("\n", last, pos)
        last = pos
        result.detected += 1
        reader = _ItemReader(source, line, first_index + n, result.diagnostics)
        end = entries[n + 1][1] if n + 1 < len(entries) else len(text)
        if end - pos > MAX_VALUE:  # only an item that long can hold a value that long
            longest = _longest_string(item)
            if longest > MAX_VALUE:
                reader.error(f"{value_too_long(longest)}; skipped")
                continue
        if check_surrogates:
            item, changed = _replace_surrogates(item)
            if changed:
                reader.warn("invalid characters (lone UTF-16 surrogates) replaced by U+FFFD")
        try:
            record = reader.read(item)
        except RecursionError:
            reader.error("nested too deeply; skipped")
            continue
        if record is not None:
            result.records.append(record)


# Items nested deeper than this are left to the whole-file read: how deep the
# JSON decoder and the reader can go depends on the depth of the call stack,
# which differs between the two ways.
_PIECE_DEPTH = 100


def read_piece(
    text: str,
    options: ReadOptions,
    *,
    first_line: int,
    first_index: int,
    first: bool,
    last: bool,
    items: int,
) -> ReadResult | None:
    """One piece of a top-level array, as :func:`read` would read those items.

    A piece is the text from one item's start to the next piece's first item
    (after the ``,`` between them), or to the end of the file; the first
    piece starts at the file's start (``[``).  ``items`` is how many items
    the cutter counted in it (-1: not counted).  None when the text is not
    such a piece of valid JSON with that many items, or holds an item nested
    too deeply: the caller then reads the whole file, and its diagnostics
    are the whole-file read's.
    """
    if first and text.startswith("\ufeff"):
        text = text[1:]
    scanner = _Scanner(text)
    i = 0
    if first:
        i = scanner.ws(0)
        if not text.startswith("[", i):
            return None
        i = scanner.ws(i + 1)
    entries: list[tuple[Any, int]] = []
    try:
        if first and last and text.startswith("]", i):
            i = scanner.ws(i + 1)
        else:
            while True:
                value, end = scanner.value(i)
                if (
                    text.count("[", i, end) + text.count("{", i, end) > _PIECE_DEPTH
                    and _depth(value) > _PIECE_DEPTH
                ):
                    return None
                entries.append((value, i))
                i = scanner.ws(end)
                c = text[i : i + 1]
                if c == ",":
                    i = scanner.ws(i + 1)
                    if i == len(text) and not last:
                        break
                elif c == "]" and last:
                    i = scanner.ws(i + 1)
                    break
                else:
                    return None
    except (json.JSONDecodeError, RecursionError):
        return None
    if i != len(text) or (items >= 0 and items != len(entries)):
        return None
    result = ReadResult()
    _read_items(text, entries, result, options.source, first_line, first_index)
    return result


def value_end(text: str, pos: int) -> int:
    """Where the JSON value at ``pos`` ends, as :func:`read` decodes it (the streamed
    conversion cuts arrays with it); raises ValueError or RecursionError."""
    return _DECODER.raw_decode(text, pos)[1]


def _depth(value: Any) -> int:
    """How deeply ``value`` nests arrays and objects; no recursion."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, list | dict):
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((w, depth) for w in (v.values() if isinstance(v, dict) else v))
    return deepest


def _longest_string(value: Any) -> int:
    """The length of the longest string (value or key) anywhere in ``value``; no recursion."""
    longest = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            longest = max(longest, len(v))
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
    return longest


def _text_value(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if _is_number(value):
        return str(value)
    return None


def _split_keywords(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


@dataclass
class _ItemReader:
    """Turns one CSL item into a Record; knows where the item is for diagnostics."""

    source: str
    line: int
    index: int
    diagnostics: Diagnostics
    key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def warn(self, message: str) -> None:
        self.diagnostics.warn(self.source, self.line, f"item {self.index}: {message}", self.key)

    def error(self, message: str) -> None:
        self.diagnostics.error(self.source, self.line, f"item {self.index}: {message}", self.key)

    def read(self, item: Any) -> Record | None:
        if not isinstance(item, dict):
            self.error(f"not an object but a {_kind(item)}; skipped")
            return None
        rec = Record(origin_file=self.source, origin_line=self.line)
        self._read_key(item, rec)
        if not self._read_type(item.get("type"), rec):
            return None
        for var, value in item.items():
            if var in ("type", "id", "citation-key", "custom"):
                if var == "custom":
                    self.extra["custom"] = value  # placeholder: keeps the input order
                continue
            self._read_variable(item, var, value, rec)
        custom = self._read_custom(item.get("custom"), item, rec)
        self._read_arxiv(item, rec, custom.get("arxiv", {}))
        self._finish_extra(rec, custom)
        _drop_derived(rec, item, custom.get("derived", []))
        return rec

    def _read_key(self, item: dict[str, Any], rec: Record) -> None:
        ident, cite = item.get("id"), item.get("citation-key")
        if isinstance(cite, str) and cite:
            rec.key = cite
        elif isinstance(ident, str) or _is_number(ident):
            rec.key = str(ident)
        if cite is not None and not isinstance(cite, str):
            self.extra["citation-key"] = cite
        if "id" in item and not (isinstance(ident, str) and ident == rec.key):
            self.extra["id"] = ident
        self.key = rec.key

    def _read_type(self, value: Any, rec: Record) -> bool:
        if isinstance(value, str) and not value.strip():
            # pandoc writes "" for @misc (and @conference, @online...), and
            # pandoc 2.x is still what Debian and Ubuntu ship.
            self.warn("empty type (pandoc's for @misc); read as 'document'")
            rec.type = "document"
            # Kept, so that styles can render it as citeproc-js and pandoc do:
            # as a type no style names (no month in APA, unlike a document).
            self.extra["type"] = ""
            return True
        if not isinstance(value, str):
            what = "no type" if value is None else f"no usable type ({_kind(value)} {value!r})"
            self.error(f"{what}; skipped")
            return False
        if value in CSL_TYPES:
            rec.type = value
        else:
            self.warn(f"unknown CSL type {value!r}; read as 'document'")
            rec.type = "document"
            rec.source_type = value
        return True

    def _read_variable(self, item: dict[str, Any], var: str, value: Any, rec: Record) -> None:
        canonical = ALIASES.get(var)
        if canonical is not None:
            if canonical in item:
                if item[canonical] != value:
                    self.extra[var] = value
                return
            var = canonical
        if var in TEXT_FIELDS or var in PLAIN_FIELDS:
            self._read_text(var, value, rec)
        elif var == "keyword":
            self._read_keywords(value, rec)
        elif var in ("author", "editor"):
            names = self._read_names(var, value)
            if names is None:
                self.warn(f"{var}: expected a list of names, got a {_kind(value)}; kept as is")
                self.extra[var] = value
            elif var == "author":
                rec.authors = names
                rec.authors_truncated = _cut_short(value)
            else:
                rec.editors = names
                rec.editors_truncated = _cut_short(value)
        elif var in ("issued", "accessed"):
            date = self._read_date(var, value)
            if date is None:
                self.warn(f"{var}: not a CSL date; kept as is")
                self.extra[var] = value
            else:
                setattr(rec, var, date)
        else:
            self.extra[var] = value

    def _read_text(self, var: str, value: Any, rec: Record) -> None:
        text = _text_value(value)
        if text is None:
            self.warn(f"{var}: expected text, got a {_kind(value)}; kept as is")
            self.extra[var] = value
        elif var in TEXT_FIELDS:
            setattr(rec, TEXT_FIELDS[var], from_csl(text))
        elif var == "page":
            rec.pages = text.replace("\u2013", "-").replace("--", "-")
        else:
            setattr(rec, PLAIN_FIELDS[var], text)

    def _read_keywords(self, value: Any, rec: Record) -> None:
        if isinstance(value, str):
            rec.keywords = _split_keywords(value)
        elif _is_str_list(value):
            rec.keywords = [k.strip() for k in value if k.strip()]
        else:
            self.warn(f"keyword: expected text, got a {_kind(value)}; kept as is")
            self.extra["keyword"] = value

    def _read_names(self, var: str, value: Any) -> list[Name] | None:
        if not isinstance(value, list):
            return None
        names = []
        if _cut_short(value):
            value = value[:-1]  # "and others": the list's flag, not a person
        for i, entry in enumerate(value):
            if isinstance(entry, dict):
                names.append(_read_name(entry))
            elif isinstance(entry, str) and entry.strip():
                self.warn(f"{var}[{i}]: a string, not a name object; split as a plain name")
                from ..text.names import parse_plain_name  # imports bibtexparser: only when needed

                names.append(parse_plain_name(entry))
            else:
                self.warn(f"{var}[{i}]: not a name ({_kind(entry)}); dropped")
        return names

    def _read_date(self, var: str, value: Any) -> PartialDate | None:
        date, problems = read_date(value)
        for problem in problems:
            self.warn(f"{var}: {problem}")
        return date

    # -- custom ---------------------------------------------------------

    def _read_custom(self, custom: Any, item: dict[str, Any], rec: Record) -> dict[str, Any]:
        """Apply our members of ``custom``; the others stay in extra["custom"]."""
        if not isinstance(custom, dict):
            if custom is not None:
                self.warn(f"custom: expected an object, got a {_kind(custom)}; kept as is")
            return {}
        ours = {k: v for k, v in custom.items() if k in _CUSTOM_CHECKS and _CUSTOM_CHECKS[k](v)}
        foreign = {k: v for k, v in custom.items() if k not in ours}
        self.extra["custom"] = foreign
        rec.source_type = ours.get("source-type", rec.source_type)
        rec.crossref = ours.get("crossref", "")
        for var in ("author", "editor"):
            flag = ours.get(f"{var}s-truncated")
            names = rec.authors if var == "author" else rec.editors
            if flag is False and getattr(rec, f"{var}s_truncated"):
                names.append(Name(literal=OTHERS))  # a person, not the marker
                setattr(rec, f"{var}s_truncated", False)
            elif flag:  # our files before the final "others" name said it here
                setattr(rec, f"{var}s_truncated", True)
        rec.code_links = [_code_link(c) for c in ours.get("code", [])]
        rec.code_announced = ours.get("code-announced", False)
        rec.affiliations = list(ours.get("affiliations", []))
        self._apply_institution(ours, item, rec)
        self._apply_stashes(ours, item, rec)
        for var, extras in ours.get("name-extra", {}).items():
            names = rec.authors if var == "author" else rec.editors
            for index, attrs in extras.items():
                if int(index) < len(names):
                    names[int(index)].extra.update(attrs)
        return ours

    def _apply_institution(self, ours: dict[str, Any], item: dict[str, Any], rec: Record) -> None:
        for name in ("institution", "organization"):
            value = ours.get(name, "")
            setattr(rec, name, value)
            if ours.get(f"publisher-from-{name}") and item.get("publisher") == csl_text(
                "publisher", value
            ):
                rec.publisher = ""

    def _apply_stashes(self, ours: dict[str, Any], item: dict[str, Any], rec: Record) -> None:
        # A stash is used only while the variable still has the text it was written with.
        keywords = ours.get("keywords")
        if keywords is not None and item.get("keyword") == ", ".join(keywords):
            rec.keywords = list(keywords)
        for var, markup in ours.get("markup", {}).items():
            if var in TEXT_FIELDS and item.get(var) == csl_text(var, markup):
                setattr(rec, TEXT_FIELDS[var], markup)

    def _read_arxiv(self, item: dict[str, Any], rec: Record, ours: dict[str, Any]) -> None:
        found, version = detect_arxiv(
            {
                "number": rec.number,
                "DOI": rec.doi,
                "URL": rec.url,
                "container-title": item.get("container-title"),
            }
        )
        rec.arxiv_id = ours.get("id", found)
        # An explicit version (even null) wins over what the variables say.
        rec.arxiv_version = ours.get("version", version if rec.arxiv_id == found else None)
        rec.arxiv_primary_class = ours.get("primary-class", "")
        rec.arxiv_categories = list(ours.get("categories", []))
        rec.journal_ref = ours.get("journal-ref", "")
        rec.arxiv_comment = ours.get("comment", "")
        rec.pdf_url = ours.get("pdf", "")
        for var in ours.get("derived", []):
            expected = _derived_value(var, rec.arxiv_id)
            if var == "publisher":
                if item.get("publisher") == expected and rec.publisher == expected:
                    rec.publisher = ""
            elif getattr(rec, var.lower()) == expected:
                setattr(rec, var.lower(), "")

    def _finish_extra(self, rec: Record, ours: dict[str, Any]) -> None:
        extra = self.extra
        if not extra.get("custom") and isinstance(extra.get("custom"), dict):
            del extra["custom"]
        other = ours.get("extra")
        if other is not None and extra:
            # Only one format's extras fit in a record: keep theirs as custom data.
            extra.setdefault("custom", {})["extra"] = other
        elif other is not None:
            rec.extra = dict(other["fields"])
            rec.extra_format = other["format"]
            return
        if extra:
            rec.extra = extra
            rec.extra_format = NAME


def read_date(value: Any) -> tuple[PartialDate | None, list[str]]:
    """A CSL date (object, EDTF string or year) -> (date or None if unreadable, warnings)."""
    if isinstance(value, str):
        return _parse_edtf(value) or PartialDate(literal=value), []
    if _small_int(value) is not None:
        return PartialDate(_small_int(value)), []
    if not isinstance(value, dict):
        return None, []
    problems = []
    unknown = [k for k in value if k not in DATE_KEYS]
    if unknown:
        problems.append(f"unknown date properties {', '.join(map(repr, unknown))} ignored")
    date = PartialDate()
    if "date-parts" in value:
        parsed = _date_parts(value["date-parts"])
        if parsed is None:
            return None, problems
        date, more = parsed
        problems += more
    elif isinstance(value.get("raw"), str):
        date = _parse_edtf(value["raw"]) or PartialDate(literal=value["raw"])
    literal = value.get("literal")
    if isinstance(literal, str) and literal:
        date.literal = literal
    season = _text_value(value.get("season"))
    if season:
        date.season = season
    if value.get("circa") not in (None, False, 0, "", "0", "false"):
        date.circa = True
    return date, problems


# Variables the writer fills in from BibTeX fields CSL has no variable for
# (see ``derivable``), and the Record field each is read into.
_DERIVED_FIELDS = {"title-short": "short_title", "publisher": "publisher", "URL": "url"}
_URL_ONLY = re.compile(r"\s*(?:\\url\{([^{}\s]+)\}|(https?://[^\s{}]+))\s*")


# The BibTeX fields CSL has no variable for that the writer reads (derivable, joined_issue).
_DERIVED_FROM = frozenset({"howpublished", "subtitle", "titleaddon", "issue"})


def _bibtex_fields(rec: Record) -> dict[str, str]:
    """Those of the record's BibTeX fields the writer derives from, by lower-case
    name (the first text value of a name, as bibtex reads a repeated field)."""
    fields: dict[str, Any] = rec.extra
    if rec.extra_format != "bibtex":
        # A record that also keeps CSL variables (a renamed duplicate id)
        # holds its BibTeX fields in the custom object as read.
        custom = rec.extra.get("custom")
        nested = custom.get("extra") if isinstance(custom, dict) else None
        if not (isinstance(nested, dict) and nested.get("format") == "bibtex"):
            return {}
        inner = nested.get("fields")
        fields = inner if isinstance(inner, dict) else {}
    out: dict[str, str] = {}
    for key, value in fields.items():
        if isinstance(key, str) and isinstance(value, str):
            name = key.lower()
            if name in _DERIVED_FROM and name not in out:
                out[name] = value
    return out


def _main_title(title: str, subtitle: str, addon: str) -> str:
    """The title without the BibLaTeX ``subtitle`` (and ``titleaddon``) joined to it."""
    tail = [(p, sep) for p, sep in ((subtitle, ": "), (addon, ". ")) if p]

    def fold(base: str) -> str:
        for part, sep in tail:
            base += (" " if base.rstrip().endswith(("?", "!", ".")) else sep) + part
        return base

    for cut in range(len(title) - 1, 0, -1):
        if title[cut] in ":. " and fold(title[:cut].rstrip(":. ")) == title:
            return title[:cut].rstrip(":. ")
    return ""


def derivable(rec: Record, fields: dict[str, str] | None = None) -> dict[str, str]:
    """CSL variables the BibTeX fields of ``rec`` that CSL lacks can fill in.

    * ``howpublished`` (BibTeX's "how something strange was published"):
      a URL (``\\url{...}`` or a bare one) is the ``URL``, as Zotero reads
      it; other text is the ``publisher``, where pandoc puts it and where
      CSL styles print what classic BibTeX styles print in its place.
    * BibLaTeX's ``subtitle``: the title is joined with it (as pandoc,
      citation-js and Zotero do); the main title alone is the
      ``title-short``, as pandoc writes it.
    """
    if fields is None:
        fields = _bibtex_fields(rec)
    out: dict[str, str] = {}
    if not fields:  # nearly every record
        return out
    how = fields.get("howpublished", "")
    if how.strip():
        m = _URL_ONLY.fullmatch(how)
        if m:
            out["URL"] = m.group(1) or m.group(2)
        else:
            out["publisher"] = csl_text("publisher", from_latex(how))
    subtitle = fields.get("subtitle", "")
    if subtitle.strip() and rec.title:
        main = _main_title(
            rec.title, from_latex(subtitle), from_latex(fields.get("titleaddon", ""))
        )
        if main:
            out["title-short"] = csl_text("title-short", main)
    return out


def joined_issue(rec: Record, fields: dict[str, str] | None = None) -> str:
    """An article's ``number`` and its BibTeX ``issue`` field in CSL's one ``issue``.

    Beebe's TUGboat entries give both (number 3 of the volume, whole issue
    85); biblatex prints both, pandoc writes "3, 85", and so do we rather
    than drop one.  Empty when there is nothing to join.
    """
    if fields is None:
        fields = _bibtex_fields(rec)
    extra = fields.get("issue", "")
    if not (extra.strip() and rec.issue):
        return ""
    return f"{rec.issue}, {to_plain(from_latex(extra))}"


def _drop_derived(rec: Record, item: dict[str, Any], derived: list[str]) -> None:
    """Forget variables the writer derived, as long as they still say what it derived."""
    if not derived:
        return
    fields = _bibtex_fields(rec)
    if "issue" in derived:
        extra = fields.get("issue", "")
        tail = f", {to_plain(from_latex(extra))}"
        if extra and rec.issue.endswith(tail):
            rec.issue = rec.issue[: -len(tail)]
    expected = derivable(rec, fields)
    for var in derived:
        if var in expected and item.get(var) == expected[var]:
            setattr(rec, _DERIVED_FIELDS[var], "")


def csl_text(var: str, markup: str) -> str:
    """The CSL rich text of a text variable: case protection in titles only.

    A value is never made empty: if only unknown commands are left
    (``\\Thanh``), their names are shown.
    """
    protect = var in TITLE_VARIABLES
    text = to_csl(markup, protect=protect)
    if not text.strip() and markup.strip():
        text = to_csl(markup, protect=protect, keep_unknown=True)
    return text


def _cut_short(names: list[Any]) -> bool:
    """Whether a CSL name list ends with the "others" of a list cut short."""
    return bool(names) and names[-1] in ({"literal": OTHERS}, {"family": OTHERS})


def _read_name(entry: dict[str, Any]) -> Name:
    name = Name()
    for key, value in entry.items():
        attr = NAME_PARTS.get(key)
        text = _text_value(value) if attr else None
        if attr and text is not None:
            setattr(name, attr, text)
        else:
            name.extra[key] = value
    return name


_DIGITS = re.compile(r"\s*(-?\d{1,9})\s*")


def _date_part(value: Any) -> int | bool | None:
    """An int, None for an empty part, or False when it is no number."""
    if value is None or value == "":
        return None
    if _small_int(value) is not None:
        return _small_int(value)
    if isinstance(value, str):
        m = _DIGITS.fullmatch(value)
        if m:
            return int(m.group(1))
    return False


def _one_date(parts: Any, problems: list[str]) -> PartialDate | None:
    if not isinstance(parts, list) or len(parts) > 3:
        return None
    values = [_date_part(p) for p in parts]
    if any(v is False for v in values):
        return None
    year, month, day = ([*values, None, None, None])[:3]
    assert not isinstance(year, bool) and not isinstance(month, bool) and not isinstance(day, bool)
    date = PartialDate(year)
    if year is None:
        return date
    if month is not None:
        if 13 <= month <= 16 or 21 <= month <= 24:  # CSL's convention for seasons
            date.season = str(month - 12 if month <= 16 else month - 20)
            return date
        if not 1 <= month <= 12:
            problems.append(f"month {month} out of range; dropped")
            return date
        date.month = month
        if day is not None:
            if 1 <= day <= 31:
                date.day = day
            else:
                problems.append(f"day {day} out of range; dropped")
    return date


def _date_parts(value: Any) -> tuple[PartialDate, list[str]] | None:
    if not isinstance(value, list) or not 1 <= len(value) <= 2:
        return None
    problems: list[str] = []
    dates = [_one_date(p, problems) for p in value]
    if any(d is None for d in dates):
        return None
    start = dates[0]
    assert start is not None
    if len(dates) == 2 and dates[1] is not None and dates[1].year is not None:
        start.end = dates[1]
    return start, problems


def _parse_edtf(text: str) -> PartialDate | None:
    """``2020``, ``2020-05-01``, ``2019/2020`` and ``2020~`` (circa); None otherwise."""
    core = text.strip()
    circa = core.endswith("~")
    core = core.rstrip("~")
    date = parse_iso(core)
    if date is None and core.count("/") == 1:
        first, second = (parse_iso(p) for p in core.split("/"))
        if first is not None and second is not None:
            first.end = second
            date = first
    if date is not None and circa:
        date.circa = True
    return date


# Shapes of our members of ``custom``; anything else there is another tool's.
# A code link in custom: its URL, where it was found, what its host said.
_CODE_FIELDS: dict[str, Callable[[Any], bool]] = {
    "url": lambda v: isinstance(v, str),
    "origin": lambda v: isinstance(v, str),
    "stars": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "license": lambda v: isinstance(v, str),
    "description": lambda v: isinstance(v, str),
    "archived": lambda v: isinstance(v, bool),
    "pushed": lambda v: isinstance(v, str),
}


def _is_code(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(c, dict)
        and "url" in c
        and all(k in _CODE_FIELDS and _CODE_FIELDS[k](v) for k, v in c.items())
        for c in value
    )


def _code_link(data: dict[str, Any]) -> CodeLink:
    return CodeLink(**{k: v for k, v in data.items() if k in _CODE_FIELDS})


def _code_data(link: CodeLink) -> dict[str, Any]:
    return {k: getattr(link, k) for k in _CODE_FIELDS if getattr(link, k) not in ("", None)}


def _is_arxiv(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    checks: dict[str, Callable[[Any], bool]] = {
        "id": lambda v: isinstance(v, str),
        "version": lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)),
        "primary-class": lambda v: isinstance(v, str),
        "categories": _is_str_list,
        "journal-ref": lambda v: isinstance(v, str),
        "comment": lambda v: isinstance(v, str),
        "pdf": lambda v: isinstance(v, str),
        "derived": lambda v: _is_str_list(v) and set(v) <= set(_DERIVABLE),
    }
    return all(k in checks and checks[k](v) for k, v in value.items())


_INDEX = re.compile(r"[0-9]{1,6}")


def _is_name_extra(value: Any) -> bool:
    return isinstance(value, dict) and all(
        var in ("author", "editor")
        and isinstance(by_index, dict)
        and all(_INDEX.fullmatch(i) and isinstance(attrs, dict) for i, attrs in by_index.items())
        for var, by_index in value.items()
    )


def _is_markup(value: Any) -> bool:
    return isinstance(value, dict) and all(
        k in TEXT_FIELDS and isinstance(v, str) for k, v in value.items()
    )


def _is_other_extra(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"format", "fields"}
        and isinstance(value["format"], str)
        and value["format"] != NAME
        and isinstance(value["fields"], dict)
    )


_CUSTOM_CHECKS: dict[str, Callable[[Any], bool]] = {
    "source-type": lambda v: isinstance(v, str),
    "crossref": lambda v: isinstance(v, str),
    "institution": lambda v: isinstance(v, str),
    "publisher-from-institution": lambda v: isinstance(v, bool),
    "organization": lambda v: isinstance(v, str),
    "publisher-from-organization": lambda v: isinstance(v, bool),
    "authors-truncated": lambda v: isinstance(v, bool),
    "editors-truncated": lambda v: isinstance(v, bool),
    "arxiv": _is_arxiv,
    "code": _is_code,
    "code-announced": lambda v: isinstance(v, bool),
    "affiliations": _is_str_list,
    "keywords": _is_str_list,
    "markup": _is_markup,
    "derived": lambda v: _is_str_list(v) and set(v) <= {*_DERIVED_FIELDS, "issue"},
    "name-extra": _is_name_extra,
    "extra": _is_other_extra,
}
assert set(_CUSTOM_CHECKS) == set(CUSTOM_KEYS)


# --------------------------------------------------------------------------
# Writing


def write(records: list[Record], options: WriteOptions) -> WriteResult:
    result = WriteResult()
    used: set[str] = set()
    # Item by item: the dicts and the small pieces of one item are freed
    # before the next, so memory holds the records and the text only.
    parts = ["["]
    for rec in records:
        sep = ",\n  " if len(parts) > 1 else "\n  "
        parts.append(sep + _item_json(_ItemWriter(rec, result.diagnostics).write(used)))
    parts.append("\n]\n" if len(parts) > 1 else "]\n")
    text = "".join(parts)
    del parts
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
        result.diagnostics.warn(
            "<output>", 0, "invalid characters (lone surrogates) replaced by U+FFFD"
        )
    result.text = text
    return result


def item_text(rec: Record, diags: Diagnostics, used: set[str]) -> str:
    """One item as :func:`write` writes it, without the separator before it and
    before lone surrogates are replaced (:func:`replace_surrogates`)."""
    return _item_json(_ItemWriter(rec, diags).write(used))


def _item_json(item: dict[str, Any]) -> str:
    """``json.dumps(item, indent=2, ensure_ascii=False)``, every line after the
    first indented two more spaces (an item inside the top-level array).

    orjson writes these bytes about three times as fast as :func:`_dump`; a
    value it refuses (a lone surrogate, an integer past 64 bits) sends the
    item to :func:`_dump`, which writes what ``json`` writes.  Floats are
    :class:`_Float` (see :func:`_jsonable`): orjson spells exponents its own
    way, so they are written by ``float.__repr__`` as ``json`` does.
    """
    try:
        data = _orjson.dumps(item, default=_float_fragment, option=_orjson.OPT_INDENT_2)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        piece: list[str] = []
        _dump(item, "  ", piece)
        return "".join(piece)
    # A newline in the text is always layout: strings carry theirs as "\n".
    return data.decode("utf-8").replace("\n", "\n  ")


def _float_fragment(value: Any) -> Any:
    if isinstance(value, float):
        return _orjson.Fragment(float.__repr__(value))
    raise TypeError(type(value).__name__)


class _Float(float):
    """A float of the output: orjson passes it to :func:`_float_fragment`."""

    __slots__ = ()


def replace_surrogates(text: str) -> tuple[str, bool]:
    """``text`` with lone surrogates replaced by U+FFFD, and whether there were any."""
    if _SURROGATE.search(text):
        return _SURROGATE.sub("\ufffd", text), True
    return text, False


SURROGATES_REPLACED = "invalid characters (lone surrogates) replaced by U+FFFD"

_encode_str = json.encoder.encode_basestring  # C code where available; no ASCII escaping


def _dump(value: Any, indent: str, out: list[str]) -> None:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, appended to ``out``.

    json's own indenting encoder is pure Python and generator-based; this is
    the same output about twice as fast.  Values come from :func:`_jsonable`
    or the model, so every float is finite and every key a string.
    """
    if isinstance(value, str):
        out.append(_encode_str(value))
    elif isinstance(value, dict | list):
        if not value:
            out.append("{}" if isinstance(value, dict) else "[]")
            return
        inner = indent + "  "
        append = out.append
        # Strings, most values, are written here rather than in a call each.
        if isinstance(value, dict):
            sep = "{\n" + inner
            for entry, item in value.items():
                if type(item) is str:
                    append(f"{sep}{_encode_str(entry)}: {_encode_str(item)}")
                else:
                    append(f"{sep}{_encode_str(entry)}: ")
                    _dump(item, inner, out)
                sep = ",\n" + inner
            append("\n" + indent + "}")
        else:
            sep = "[\n" + inner
            for item in value:
                if type(item) is str:
                    append(sep + _encode_str(item))
                elif type(item) is int:  # date parts
                    append(sep + int.__repr__(item))
                else:
                    append(sep)
                    _dump(item, inner, out)
                sep = ",\n" + inner
            append("\n" + indent + "]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    else:
        out.append(float.__repr__(value))


def _jsonable(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` that json can always encode (and a CSL reader read back)."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= 3000 else None
    if isinstance(value, float):
        return _Float(value) if math.isfinite(value) else str(value)
    if depth >= _MAX_DEPTH:
        return None
    if isinstance(value, list | tuple):
        if all(type(v) is str for v in value):  # the common case, without a call per value
            return list(value)
        return [_jsonable(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if all(type(k) is str and type(v) is str for k, v in value.items()):
            return dict(value)
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    return str(value)


def _csl_season(season: str) -> str | int:
    return int(season) if re.fullmatch(r"[1-9][0-9]{0,5}", season) else season


def _date_list(date: PartialDate) -> list[int]:
    assert date.year is not None
    parts = [date.year]
    if date.month:
        parts.append(date.month)
        if date.day:
            parts.append(date.day)
    return parts


def write_date(date: PartialDate) -> dict[str, Any] | None:
    if not date:
        return None
    out: dict[str, Any] = {}
    if date.year is not None:
        out["date-parts"] = [_date_list(date)]
        if date.end is not None and date.end.year is not None:
            out["date-parts"].append(_date_list(date.end))
    if date.season:
        out["season"] = _csl_season(date.season)
    if date.circa:
        out["circa"] = True
    if date.literal:
        out["literal"] = date.literal
    return out


@dataclass
class _ItemWriter:
    rec: Record
    diagnostics: Diagnostics
    item: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)

    def warn(self, message: str, code: str = "") -> None:
        self.diagnostics.warn(
            self.rec.origin_file or "<output>", self.rec.origin_line, message, self.rec.key, code
        )

    def write(self, used: set[str]) -> dict[str, Any]:
        rec, item, custom = self.rec, self.item, self.custom
        csl_extra = rec.extra if rec.extra_format == NAME else {}
        item["id"] = self._ident(_jsonable(csl_extra.get("id")), used)
        item["type"] = self._type()
        item["citation-key"] = rec.key or str(item["id"])
        self._text_fields()
        self._names()
        for var in ("issued", "accessed"):
            date = write_date(getattr(rec, var))
            if date is not None:
                item[var] = date
        self._keywords()
        self._own_custom()
        foreign = self._extras(csl_extra)
        self._derived()
        self._arxiv()
        merged = {k: custom[k] for k in sorted(custom, key=_CUSTOM_RANK.__getitem__)}
        for k, v in foreign.items():
            merged.setdefault(k, v)
        if merged:
            item["custom"] = merged
        return {k: item[k] for k in sorted(item, key=_RANK.__getitem__)}

    def _ident(self, extra_id: Any, used: set[str]) -> str | int | float:
        ident: str | int | float = self.rec.key or base_key(self.rec)
        if (isinstance(extra_id, str) or _is_number(extra_id)) and str(extra_id) not in used:
            ident = extra_id
        stem, n = ident, 1
        while str(ident) in used:
            n += 1
            ident = f"{stem}-{n}"
        used.add(str(ident))
        return ident

    def _type(self) -> str:
        rec = self.rec
        if rec.type in CSL_TYPES:
            if rec.source_type:
                self.custom["source-type"] = rec.source_type
            return rec.type
        self.warn(f"type {rec.type!r} is not a CSL type; written as 'document'")
        if rec.source_type or rec.type:
            self.custom["source-type"] = rec.source_type or rec.type
        return "document"

    def _text_fields(self) -> None:
        rec, item = self.rec, self.item
        stash: dict[str, str] = {}
        for var, attr in TEXT_FIELDS.items():
            markup = getattr(rec, attr)
            if not markup:
                continue
            if not _RICH.search(markup):  # plain text is its own CSL form
                item[var] = markup
                continue
            item[var] = csl_text(var, markup)
            # Case protection outside titles (and in titles around what has no
            # letter) is not written as CSL: kept here, so BibTeX gets it back.
            if from_csl(item[var]) != markup:
                stash[var] = markup
        # CSL has neither institution nor organization; styles print the
        # publisher, and pandoc and citation-js put them there too.
        for name in ("institution", "organization"):
            value = getattr(rec, name)
            if value:
                self.custom[name] = value
                if "publisher" not in item:
                    item["publisher"] = csl_text("publisher", value)
                    self.custom[f"publisher-from-{name}"] = True
        for var, attr in PLAIN_FIELDS.items():
            value = getattr(rec, attr)
            if value:
                item[var] = value
        if stash:
            self.custom["markup"] = stash

    def _names(self) -> None:
        name_extra: dict[str, dict[str, Any]] = {}
        for var, names in (("author", self.rec.authors), ("editor", self.rec.editors)):
            if not names:
                continue
            out = []
            for i, name in enumerate(names):
                obj, leftover = _write_name(name)
                out.append(obj)
                if leftover:
                    name_extra.setdefault(var, {})[str(i)] = _jsonable(leftover)
            self.item[var] = out
        for var, cut in (
            ("author", self.rec.authors_truncated),
            ("editor", self.rec.editors_truncated),
        ):
            if cut:
                # A list cut short ends with "others", as pandoc and Zotero write it.
                self.item[var] = [*self.item.get(var, []), {"literal": OTHERS}]
            elif _cut_short(self.item.get(var, [])):
                # Someone really called "others", last: not a list cut short.
                self.custom[f"{var}s-truncated"] = False
        if name_extra:
            self.custom["name-extra"] = name_extra

    def _keywords(self) -> None:
        keywords = self.rec.keywords
        if not keywords:
            return
        joined = ", ".join(keywords)
        self.item["keyword"] = joined
        if _split_keywords(joined) != keywords:
            self.custom["keywords"] = list(keywords)

    def _own_custom(self) -> None:
        rec, custom = self.rec, self.custom
        if rec.crossref:
            custom["crossref"] = rec.crossref
        if rec.code_links:
            custom["code"] = [_code_data(c) for c in rec.code_links]
        if rec.code_announced:
            custom["code-announced"] = True
        if rec.affiliations:
            custom["affiliations"] = list(rec.affiliations)
        if rec.extra and rec.extra_format != NAME:
            custom["extra"] = {"format": rec.extra_format, "fields": _jsonable(rec.extra)}

    def _extras(self, extra: dict[str, Any]) -> dict[str, Any]:
        """Write CSL extras: valid variables as such, the rest into custom."""
        foreign: dict[str, Any] = {}
        pending: dict[str, Any] = {}
        for var, raw in extra.items():
            value = _jsonable(raw)
            if var == "id" and value == self.item["id"]:
                continue
            if var == "custom" and isinstance(value, dict):
                for k, v in value.items():
                    foreign.setdefault(k, v)
            elif self._as_variable(var, value):
                self.item[var] = value
            else:
                pending[var] = value
        for k, v in pending.items():
            foreign.setdefault(k, v)
        return foreign

    def _as_variable(self, var: str, value: Any) -> bool:
        """Whether an extra goes out as a variable: only if reading it back keeps it an extra."""
        if var in ("id", "type") or var in self.item or not valid_variable(var, value):
            return False
        if var in ALIASES:
            return ALIASES[var] in self.item
        if var in ("issued", "accessed"):
            return read_date(value)[0] is None
        return var not in _MAPPED

    def _arxiv(self) -> None:
        rec, item = self.rec, self.item
        ident = rec.arxiv_id
        derived = []
        if ident and is_arxiv_id(ident) and rec.type == "article" and not rec.container_title:
            for var in _DERIVABLE:
                if var not in item:
                    item[var] = _derived_value(var, ident)
                    derived.append(var)
        elif ident and is_arxiv_id(ident) and "URL" not in item:
            # A published paper's arXiv eprint: its abstract page is a link a
            # reader can follow (pandoc writes the same URL).
            item["URL"] = _derived_value("URL", ident)
            derived.append("URL")
        found, version = detect_arxiv(item)
        out: dict[str, Any] = {}
        if found != ident:
            out["id"] = ident
        if (version if ident == found else None) != rec.arxiv_version:
            out["version"] = rec.arxiv_version
        if rec.arxiv_primary_class:
            out["primary-class"] = rec.arxiv_primary_class
        if rec.arxiv_categories:
            out["categories"] = list(rec.arxiv_categories)
        for key, value in (
            ("journal-ref", rec.journal_ref),
            ("comment", rec.arxiv_comment),
            ("pdf", rec.pdf_url),
        ):
            if value:
                out[key] = value
        if derived:
            out["derived"] = derived
        if out:
            self.custom["arxiv"] = out

    def _derived(self) -> None:
        fields = _bibtex_fields(self.rec)
        if not fields:  # nothing to derive from (nearly every record)
            return
        derived = [var for var in derivable(self.rec, fields).items() if var[0] not in self.item]
        for var, value in derived:
            self.item[var] = value
        names = [var for var, _ in derived]
        joined = joined_issue(self.rec, fields)
        if joined and "issue" in self.item:
            self.item["issue"] = joined
            names.append("issue")
        if names:
            self.custom["derived"] = names


def _write_name(name: Name) -> tuple[dict[str, Any], dict[str, Any]]:
    """The CSL name object, and the attributes it cannot carry."""
    obj: dict[str, Any] = {}
    for key, attr in _NAME_ATTRS:
        value = getattr(name, attr)
        if value:
            obj[key] = value
    if not name.extra:  # nearly every name: no flags to look for
        return obj, {}
    leftover = dict(name.extra)
    for key in NAME_FLAGS:  # in this order, whatever the order of Name.extra
        value = _jsonable(leftover.get(key))
        if isinstance(value, str | bool) or _is_number(value):
            obj[key] = value
            del leftover[key]
    return obj, leftover
