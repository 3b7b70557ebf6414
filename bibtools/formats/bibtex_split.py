"""A fast BibTeX block splitter with the results of bibtexparser 2.1's ``Splitter``.

bibtexparser's splitter walks the text mark by mark (every brace, quote,
comma, ``=`` and newline) in Python; on a typical file that is most of the
time spent reading BibTeX.  This module reads the common case, an entry or
``@string``/``@preamble``/``@comment`` block with balanced braces, with a
handful of regular expressions per block (one per field), and hands every
block it is not sure about to bibtexparser's own ``Splitter``, run on that
block's text only.  The results are the same block for block: keys, types,
field names, raw values (delimiters kept, ``#`` expressions verbatim) and
line numbers.  ``tests/test_bibtex_split.py`` checks this differentially.

What the fast path mirrors, so that it may be compared with the slow one:

* A brace, quote, comma or ``=`` right after a backslash is not a mark
  (``\\{`` is text), and neither is a newline right after a backslash, so
  such newlines are not counted in line numbers.
* Inside a quoted value braces are not counted, and ``{"}`` is a quote
  character, not the end of the value.
* A block start ``@type{`` or ``@type(`` at the start of a line (only
  whitespace before it) inside a block aborts that block: the block fails
  and splitting resumes there.  Every block therefore ends before the next
  such line start, which is where the fallback cuts its chunk of text.
* Between blocks, any ``@type{`` starts a block, also in the middle of a
  line.

Two deliberate differences, where bibtexparser and BibTeX disagree (the
fallback still follows bibtexparser; ``fuzz/targets.py`` says where the
differential check makes room for them):

* only ``@comment`` is a comment; ``@commented{key, ...}`` (jurabib) is an
  entry of an unknown type, as BibTeX reads it (bibtexparser takes any
  ``@comment...`` for a comment);
* a quote inside braces inside a quoted value does not end the value
  (``"{Ein Handbuch f{\\"u}r zeitgem{"a}{\\ss} Schaffende}"``): BibTeX counts
  braces in quotes, bibtexparser ends the value there and loses the entry.

Duplicate keys and duplicate fields are not errors here: the blocks come
out as written and the reader decides.  ``split`` is a generator and holds
one block at a time (the fallback one chunk: the text up to the next block
start at the start of a line), so a large file streams.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EntryBlock:
    entry_type: str  # lower case, as bibtexparser gives it
    key: str
    fields: tuple[tuple[str, str, int], ...]  # (name, raw value, line of its "=")
    line: int


@dataclass(frozen=True, slots=True)
class StringBlock:
    key: str
    raw_value: str
    line: int


@dataclass(frozen=True, slots=True)
class PreambleBlock:
    raw_value: str  # not stripped (bibtexparser's Preamble.value)
    line: int


@dataclass(frozen=True, slots=True)
class CommentBlock:
    text: str  # an explicit @comment; text outside blocks is not reported
    line: int


@dataclass(frozen=True, slots=True)
class FailedBlock:
    raw: str
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class TextBetween:
    """Text outside every block (``%`` lines, a file's header): bibtex ignores it,
    a writer that keeps the file as it was does not.  Only with ``split(gaps=True)``."""

    text: str  # without the white space around it
    line: int


Block = EntryBlock | StringBlock | PreambleBlock | CommentBlock | FailedBlock | TextBetween

# A block start between blocks: "@" and a type, then "{" or "(".
_BLOCK_START = re.compile(r"@\w*[ \t]*(?=[{(])")

# Braces count unless a backslash precedes them.  Deeper nesting than this
# is left to the fallback.
_MAX_DEPTH = 8


def _braced(depth: int) -> str:
    pattern = r"\{(?:[^{}]++|(?<=\\)[{}])*+\}"
    for _ in range(depth):
        pattern = r"\{(?:[^{}]++|(?<=\\)[{}]|" + pattern + r")*+\}"
    return pattern


_BRACED = _braced(_MAX_DEPTH)
# A quoted value: \" does not close it, and neither does a quote inside a
# brace group ("{"a}" is babel's umlaut, Beebe's remarks quote words inside
# braces), as BibTeX counts braces in quotes.  A quoted value whose braces do
# not balance is left to the fallback.
_QUOTED = r'"(?:[^"{}]++|(?<=\\)[{}"]|' + _BRACED + r')*+"'
# A field value runs to the first unescaped "," or "}" outside braces and
# quotes.  Possessive loops: a value that does not close fails fast.
_VALUE = r'(?:[^{}",]++|(?<=\\)[{}",]|' + _BRACED + "|" + _QUOTED + r")*+"
# Names and keys hold no mark at all; a backslash or "@" is left to the
# fallback (it may or may not be a mark there).
_NAME = r'[^{}",=@\\]*+'
_ENTRY_HEAD = re.compile(r"\{(" + _NAME + r")([,}])")
# Every field of an entry, then one match for all the rest (its first
# character as the fourth group), which must start with the entry's closing
# "}".  The rest costs nothing to match (".*" in DOTALL mode jumps to the
# end) and makes sure that no text between fields is skipped.
_FIELDS = re.compile("(" + _NAME + ")=(" + _VALUE + r")(,?)|((?s:.))(?s:.*)")
_CLOSE = re.compile(r"\s*+\}")
# @string, @preamble and @comment run to the "}" that balances their "{".
_BODY = r"(?:[^{}]++|(?<=\\)[{}]|" + _BRACED + r")*+"
_STRING = re.compile(r"\{(" + _NAME + r")=(" + _BODY + r")\}")
_FREE = re.compile(r"\{(" + _BODY + r")\}")


def split(text: str, gaps: bool = False) -> Iterator[Block]:
    """The blocks of ``text`` in input order.

    Text outside blocks is skipped, or yielded as :class:`TextBetween` with
    ``gaps`` (bibtexparser's implicit comments).
    """
    n = len(text)
    # Newlines after a backslash are not counted (as in bibtexparser).
    escaped_newlines = "\\\n" in text
    line, counted = 1, 0  # the line of position ``counted``
    boundary, boundary_end = -1, -1  # the next block start at a line start
    pos = 0
    search = _BLOCK_START.search
    count = text.count
    while True:
        m = search(text, pos)
        if m is None:
            if gaps and text[pos:].strip():
                yield _between(text, pos, n, line + count("\n", counted, n))
            return
        start = m.start()
        line += count("\n", counted, start)
        if escaped_newlines:
            line -= count("\\\n", max(counted - 1, 0), start)
        counted = start
        if gaps and start > pos and not text[pos:start].isspace():
            yield _between(text, pos, start, line)
        if boundary <= start:
            boundary, boundary_end = _line_start_block(text, m.end())
        fast = _fast_block(text, m.end(), m.group().lower(), line, boundary, escaped_newlines)
        if fast is not None:
            yield fast[0]
            pos = fast[1]
        else:
            yield from _fallback(text[start:boundary_end], line, boundary < n, gaps)
            pos = boundary


def _between(text: str, start: int, end: int, end_line: int) -> TextBetween:
    """The text from ``start`` to ``end`` (at line ``end_line``), trimmed, with its line."""
    gap = text[start:end]
    trimmed = gap.strip()
    first = start + len(gap) - len(gap.lstrip())
    return TextBetween(trimmed, end_line - text.count("\n", first, end))


def _line_start_block(text: str, pos: int) -> tuple[int, int]:
    """The first block start after ``pos`` that begins a line, and the end of its "{".

    (len(text), len(text)) when there is none.  ``pos`` is the end of a
    block start's ``@type`` (which holds no newline), so a later block start
    begins a line only if a newline lies between ``pos`` and it.
    """
    while True:
        m = _BLOCK_START.search(text, pos)
        if m is None:
            return len(text), len(text)
        at = m.start()
        newline = text.rfind("\n", pos, at)
        if newline >= 0 and (newline + 1 == at or text[newline + 1 : at].isspace()):
            return at, m.end() + 1
        pos = m.end()


def _fast_block(
    text: str, open_at: int, kind: str, line: int, end: int, escaped_newlines: bool
) -> tuple[Block, int] | None:
    """The block whose "{" is at ``open_at`` and where it ends, or None if unsure.

    The block must end before ``end``, the next block start at the start of
    a line (where bibtexparser would abort it).
    """
    if text[open_at] != "{":
        return None  # (...) blocks are rare: the fallback reads them
    if kind.rstrip() == "@comment":
        m = _FREE.match(text, open_at, end)
        return (CommentBlock(m.group(1).strip(), line), m.end()) if m else None
    if kind.startswith("@preamble"):
        m = _FREE.match(text, open_at, end)
        return (PreambleBlock(m.group(1), line), m.end()) if m else None
    if kind.startswith("@string"):
        m = _STRING.match(text, open_at, end)
        if m is None:
            return None
        return StringBlock(m.group(1).strip(), m.group(2).strip(), line), m.end()
    return _fast_entry(text, open_at, kind[1:].strip(), line, end, escaped_newlines)


def _fast_entry(
    text: str, open_at: int, entry_type: str, line: int, end: int, escaped_newlines: bool
) -> tuple[Block, int] | None:
    head = _ENTRY_HEAD.match(text, open_at, end)
    if head is None:
        return None
    key, sep = head.groups()
    if sep == "}":
        return EntryBlock(entry_type, key.strip(), (), line), head.end()
    pieces = _FIELDS.findall(text, head.end(), end)
    if not pieces or not pieces.pop()[3]:
        return None  # the fields run up to ``end``: not closed in time
    if not pieces:
        close = _CLOSE.match(text, head.end(), end)
        return (EntryBlock(entry_type, key.strip(), (), line), close.end()) if close else None
    # One pass over the fields (a plain loop is faster here than zips and
    # accumulates over them): each field's line is that of its "=", after
    # the newlines of the pieces before it (a name has no backslash and a
    # value follows "=", so no escaped newline straddles two pieces), and
    # the body ends after the last field's "," if any.
    body_end = head.end()
    at_line = line + key.count("\n")
    fields: list[tuple[str, str, int]] = []
    append = fields.append
    unseparated = 0
    for name, value, sep, _ in pieces:
        at_line += name.count("\n")
        append((name.strip(), value.strip(), at_line))
        at_line += value.count("\n")
        if escaped_newlines:
            at_line -= value.count("\\\n")
        body_end += len(name) + len(value) + len(sep) + 1
        if not sep:
            unseparated += 1
    last_unseparated = not pieces[-1][2]
    close = _CLOSE.match(text, body_end, end)
    if (
        close is None
        or unseparated > last_unseparated
        or (last_unseparated and close.end() != body_end + 1)
    ):
        return None  # the second and third cannot happen; the fallback decides
    return EntryBlock(entry_type, key.strip(), tuple(fields), line), close.end()


def _fallback(chunk: str, line: int, has_boundary: bool, gaps: bool = False) -> Iterator[Block]:
    """bibtexparser's own splitter on one chunk of text starting at a block start.

    The chunk runs to the next block start at the start of a line and
    includes that block's ``@type{`` so that the last block aborts there as
    it would in the whole text; that next block is then dropped.
    """
    from bibtexparser.model import (
        DuplicateBlockKeyBlock,
        DuplicateFieldKeyBlock,
        Entry,
        ExplicitComment,
        ImplicitComment,
        ParsingFailedBlock,
        Preamble,
        String,
    )
    from bibtexparser.splitter import Splitter

    try:
        with quiet_bibtexparser():
            library = Splitter(chunk).split()
        blocks = [b for b in library.blocks if gaps or not isinstance(b, ImplicitComment)]
    except Exception as exc:  # a bug in bibtexparser must not stop the file
        end = chunk.rfind("@") if has_boundary else len(chunk)
        yield FailedBlock(chunk[:end], line, f"cannot split this block: {exc}")
        return
    if has_boundary:
        # The next chunk's first block, cut off (and any text after it).
        while blocks and isinstance(blocks[-1], ImplicitComment):
            blocks.pop()
        if blocks:
            blocks.pop()
    offset = line  # the splitter counts lines from 0 at the chunk's start
    for b in blocks:
        if isinstance(b, (DuplicateBlockKeyBlock, DuplicateFieldKeyBlock)):
            if b.ignore_error_block is None:
                continue
            b = b.ignore_error_block
        at = (b.start_line or 0) + offset
        if isinstance(b, Entry):
            fields = tuple((f.key, f.value, f.start_line + offset) for f in b.fields)
            yield EntryBlock(b.entry_type, b.key, fields, at)
        elif isinstance(b, String):
            yield StringBlock(b.key, b.value, at)
        elif isinstance(b, Preamble):
            yield PreambleBlock(b.value, at)
        elif isinstance(b, ExplicitComment):
            yield CommentBlock(b.comment, at)
        elif isinstance(b, ParsingFailedBlock):
            reason = getattr(b.error, "abort_reason", None) or str(b.error)
            yield FailedBlock(b.raw or "", at, reason)
        elif isinstance(b, ImplicitComment) and b.comment.strip():
            yield TextBetween(b.comment.strip(), at)


@contextmanager
def quiet_bibtexparser() -> Iterator[None]:
    """bibtexparser's logging silenced while the splitter runs, and only then.

    It logs every block it recovers from; the reader reports them as
    diagnostics instead.  The level is restored afterwards, so an
    application that imports bibtools keeps its own logging configuration.
    """
    logger = logging.getLogger("bibtexparser")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
