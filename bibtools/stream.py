"""Streaming conversion: read, convert and write a file piece by piece (issue 18).

``convert`` (the CLI's ``convert`` without ``--dedupe``) runs here when every
input is a BibTeX, RIS or CSL-JSON file in UTF-8.  Each file is cut into
pieces of about :data:`PIECE_CHARS` characters at places where the readers
cannot tell the difference (BibTeX: a block start at the start of a line,
where the splitter ends every block anyway; RIS: a ``TY`` line after an
``ER`` line; CSL-JSON: after the ``,`` before a top-level item); each
piece is read and written on its own, in this process or, with ``jobs`` >
1, in worker processes, and the written pieces are put together in input
order.  What crosses pieces is kept here, small:

* ``@string`` macros: the macros in effect where a piece starts go with it
  (a piece that defines macros is read before the next piece is sent);
* CSL-JSON ids written from CSL-JSON input (the writer makes them unique);
* citation keys: one entry per key (``bibtools.text.keys.new_keys``'s rules
  need every earlier key, and a key made up for a record must not be one
  that a later record has: when it is, the whole conversion runs again
  the whole-file way);
* the blocks that are not entries (``@string``, ``@comment``...), placed
  by :class:`bibtools.formats.bibtex.BlockPlacer` as the BibTeX writer does;
* diagnostics, reported after the reading as the whole-file path reports them.

Anything this module cannot do exactly as the whole-file path raises
:class:`WholeFile`, and the caller converts the whole-file way (the output
is the same, memory is not bounded): crossrefs into another format, other
encodings, escaped line breaks in BibTeX, CSL-JSON that is not an array of
valid JSON, listing inputs (docs/performance.md).  The output is identical
byte for byte, whatever ``jobs`` is; ``tests/test_stream.py`` holds it to
that.
"""

from __future__ import annotations

import codecs
import contextlib
import gc
import importlib
import os
import re
import stat
import sys
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from .diagnostics import Diagnostic, Diagnostics, InputError
from .formats import ReadOptions, TextBlock, WriteOptions
from .model import Record

PIECE_CHARS = 1 << 20  # about 1,000 BibTeX entries: small next to the process, big next to a pickle
# Below this many input bytes, worker processes cost more than they save
# (BIBTOOLS_JOBS_MIN_BYTES overrides it: benchmarks/same_bytes.py sets 0).
PARALLEL_MIN_BYTES = 2 << 20
_READ_BYTES = 1 << 20

# A block start at the start of a line: the splitter ends every block before one.
_BIBTEX_CUT = re.compile(r"\n[ \t\r\f\v]*@\w*[ \t]*[{(]")
# A TY line whose previous non-blank line is an ER line: the reader closes a record there.
_RIS_CUT = re.compile(
    r"(?:^|\n)ER[ \t]{1,3}-[^\n\r]*(?:\r\n|\n|\r)(?:[ \t]*(?:\r\n|\n|\r))*(?=TY[ \t]{1,3}-)"
)


class WholeFile(Exception):
    """This conversion must run the whole-file way (the reason is the message)."""


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------
# Pieces


@dataclass(slots=True)
class Cut:
    """A piece's text and where it stands in its file."""

    text: str  # BibTeX: runs on into the next piece's first line (see bibtex.read_part)
    first_line: int  # counting every line break
    # BibTeX: the splitter's line numbers skip line breaks after a backslash.
    line_offset: int = 0  # add to the piece's line numbers (as the splitter counts)
    escaped_before: int = 0
    stop_line: int = 0  # the next piece's first line in the piece (0: the last piece)
    stop_raw: int = 0  # the same, counting every line break
    # CSL-JSON: the index of the piece's first item, how many items the cutter
    # counted in it (-1: not counted), and whether the array ends in it.
    first_item: int = 0
    items: int = -1
    last: bool = False


@dataclass(slots=True)
class Piece:
    """One piece of an input file, all a worker needs to read and write it."""

    index: int
    file: str
    fmt: str  # "bibtex", "ris" or "csljson"
    cut: Cut
    out: str
    options: WriteOptions
    rekey: bool
    macros: dict[str, str] | None = None
    keys: dict[int, str] = field(default_factory=dict)  # record index -> key to write it with
    # CSL-JSON output: whether to note the ids the writer asks about (see _File.finish),
    # and the ids written before this piece when it is written again in order.
    track_ids: bool = False
    ids: set[str] | None = None


@dataclass(slots=True)
class KeyInfo:
    key: str  # as read
    valid: bool
    written: str  # the key the text was written with
    line: int
    has_source: bool
    base: str  # the key to make one from, when it needs one


@dataclass(slots=True)
class Done:
    """A piece read and written."""

    index: int
    detected: int
    read_diags: list[Diagnostic]
    texts: list[str]
    write_diags: list[Diagnostic]
    keys: list[KeyInfo]
    blocks: list[TextBlock] = field(default_factory=list)
    origins: list[tuple[int, bool]] = field(default_factory=list)  # BibTeX out: (line, has source)
    commented: tuple[int, int] | None = None
    unknown: dict[str, list[Any]] = field(default_factory=dict)
    macros: dict[str, str] | None = None  # BibTeX: the macros after this piece
    expansion: int = 0
    surrogates: bool = False
    crossref: bool = False
    # CSL-JSON output: the ids the writer asked about and did not have, and those it wrote.
    ids_absent: list[str] = field(default_factory=list)
    ids_written: list[str] = field(default_factory=list)


def _shift(diags: list[Diagnostic], offset: int) -> list[Diagnostic]:
    if not offset:
        return list(diags)
    return [replace(d, line=d.line + offset) if d.line > 0 else d for d in diags]


def _read(piece: Piece) -> tuple[list[Record], Done]:
    # A copy: the reader adds the piece's macros, and a piece may be read twice.
    macros = dict(piece.macros) if piece.macros is not None else None
    options = ReadOptions(source=piece.file, macros=macros)
    cut = piece.cut
    if piece.fmt == "bibtex":
        from .formats import bibtex

        part = bibtex.read_part(
            cut.text,
            options,
            stop_line=cut.stop_line,
            stop_raw=cut.stop_raw,
            line_offset=cut.line_offset,
            escaped_before=cut.escaped_before,
            read_as=piece.out == "bibtex",
        )
        result, offset = part.result, cut.line_offset
        for rec in result.records:
            rec.origin_line += offset
        blocks = result.blocks
        done = Done(
            piece.index,
            result.detected,
            _shift(result.diagnostics, offset),
            [],
            [],
            [],
            blocks=[replace(b, line=b.line + offset) for b in blocks] if offset else blocks,
            unknown={k: [v[0], v[1] + offset, v[2]] for k, v in part.unknown.items()},
            macros=macros if any(b.kind == "string" for b in blocks) else None,
            expansion=part.expansion.used,
        )
        if part.commented:  # counted in every line
            done.commented = (part.commented[0], part.commented[1] + cut.first_line - 1)
        return result.records, done
    if piece.fmt == "csljson":
        from .formats import csljson

        got = csljson.read_piece(
            cut.text,
            options,
            first_line=cut.first_line,
            first_index=cut.first_item,
            first=piece.index == 0,
            last=cut.last,
            items=cut.items,
        )
        if got is None:
            raise WholeFile(f"{piece.file}: not a CSL-JSON array this module can cut")
        result = got
    else:
        from .formats import ris

        result = ris.read(cut.text, options, first_line=cut.first_line)
    return result.records, Done(piece.index, result.detected, list(result.diagnostics), [], [], [])


class _AskedIds(set[str]):
    """The writer's set of ids written so far, noting the ids it asked about and did not have."""

    def __init__(self, absent: list[str]) -> None:
        super().__init__()
        self.absent = absent

    def __contains__(self, ident: object) -> bool:
        found = super().__contains__(ident)
        if not found:
            self.absent.append(ident)  # type: ignore[arg-type]
        return found


def convert_piece(piece: Piece) -> Done:
    """Read one piece and write its records (in a worker process, or here)."""
    from .text.keys import base_key, is_valid_key

    writer = importlib.import_module(f"bibtools.formats.{piece.out}")

    records, done = _read(piece)
    diags = Diagnostics()
    keep_empty = piece.out == "bibtex"
    used: set[str] = set()
    if piece.ids is not None:
        used = piece.ids
    elif piece.track_ids:
        used = _AskedIds(done.ids_absent)
    for i, rec in enumerate(records):
        valid = bool(rec.key) and is_valid_key(rec.key)
        base = base_key(rec) if piece.rekey or not valid else rec.key
        if i in piece.keys:
            key = piece.keys[i]
        elif keep_empty and not piece.rekey and not rec.key and rec.source is not None:
            key = ""
        else:
            key = base
        done.keys.append(
            KeyInfo(rec.key, valid, key, rec.origin_line, rec.source is not None, base)
        )
        if rec.crossref:
            done.crossref = True
        if key != rec.key:
            rec = rec.copy(key=key)
        if piece.out == "csljson":
            text, bad = writer.replace_surrogates(writer.item_text(rec, diags, used))
            done.surrogates |= bad
        elif piece.out == "ris":
            text = writer.record_text(rec, diags)
        else:
            text = writer.format_entry(rec, piece.options)
            done.origins.append((rec.origin_line, rec.source is not None))
        done.texts.append(text)
    done.write_diags = list(diags)
    if isinstance(used, _AskedIds):
        done.ids_written = list(used)
    return done


def _decoded(path: str) -> Iterator[tuple[str, bool]]:
    """The text of a UTF-8 file block by block (without its BOM), and whether more follows."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    first = True
    with open(path, "rb") as fh:
        while True:
            data = fh.read(_READ_BYTES)
            try:
                text = decoder.decode(data, final=not data)
            except UnicodeDecodeError:
                raise WholeFile(f"{path}: not UTF-8") from None
            if first:
                if text.startswith("\ufeff"):
                    text = text[1:]
                if "\x00" in text[:8192]:
                    raise WholeFile(f"{path}: not UTF-8")
                first = False
            yield text, bool(data)
            if not data:
                return


def _pieces(path: str, fmt: str, size: int) -> Iterator[Cut]:
    """The pieces of a UTF-8 file, of at least ``size`` characters but the last."""
    if fmt == "csljson":
        yield from _json_pieces(path, size)
        return
    cut = _BIBTEX_CUT if fmt == "bibtex" else _RIS_CUT
    buffer = ""
    line = 1  # counting every line break
    escaped = 0  # line breaks after a backslash so far (BibTeX)
    for block, more in _decoded(path):
        buffer += block
        while len(buffer) > size:
            at = _cut_at(buffer, cut, size, fmt)
            if at < 0:
                break  # read more
            if fmt == "ris":
                text, buffer = buffer[:at], buffer[at:]
                yield Cut(text, line)
                line += _count_lines(text, fmt)
                continue
            # The next piece's first line goes along (see bibtex.read_part).
            end = buffer.find("\n", at)
            if end < 0 and more:
                break  # read more
            tail = buffer[at : end + 1] if end >= 0 else buffer[at:]
            text, buffer = buffer[:at], buffer[at:]
            lines, esc = text.count("\n"), text.count("\\\n")
            yield Cut(
                text + tail,
                line,
                line - 1 - escaped,
                escaped,
                stop_line=lines + 1 - esc,
                stop_raw=lines + 1,
            )
            line += lines
            escaped += esc
        if not more:
            if buffer:
                yield Cut(buffer, line, line - 1 - escaped, escaped)
            return


def _cut_at(buffer: str, cut: re.Pattern[str], size: int, fmt: str) -> int:
    """A place to cut ``buffer`` after ``size`` characters, or -1 (need more text)."""
    m = cut.search(buffer, size)
    if m is None:
        return -1
    if fmt == "bibtex":
        return m.start() + 1  # after the line break
    return m.end()


def _count_lines(text: str, fmt: str) -> int:
    # RIS counts \r\n, \r and \n as one line break each.
    return text.count("\n") + text.count("\r") - text.count("\r\n")


# CSL-JSON: the start of a top-level array, with the white space before its first item.
_JSON_START = re.compile(r"\ufeff?[ \t\n\r]*\[([ \t\n\r]*)")
_JSON_WS = re.compile(r"[ \t\n\r]*")
# Past this many characters without a guessed place to cut, the items are decoded to
# find one; past _JSON_GIVE_UP pieces' worth, the file is read whole.
_JSON_GUESS_FOR = 8
_JSON_GIVE_UP = 64


def _item_starts(first: str) -> re.Pattern[str] | None:
    """Where a top-level item starts in a pretty-printed array whose first item
    follows ``first`` (the white space after ``[``): a line after a line that
    ends with a comma, indented as the first item.  A guess that
    csljson.read_piece checks; None when the items are not one to a line."""
    if "\n" not in first:
        return None
    indent = first[first.rfind("\n") + 1 :]
    return re.compile(r",[ \t\r]*\n(?:[ \t\r]*\n)*" + re.escape(indent) + r"(?=[^ \t\r\n])")


class _ItemCutter:
    """Finds the end of the first top-level items by decoding them (C speed); for the
    arrays whose layout gives no guess."""

    def __init__(self) -> None:
        self.pos = 0  # where the next item starts
        self.count = 0  # items before it in the piece
        self.want = 0  # do not try again before the buffer is this long
        self.ended = False  # the array's "]" is read: no more cuts

    def cut(self, buffer: str, size: int, more: bool) -> int:
        """Where to cut after ``size`` characters, or -1 (more text needed, or the end)."""
        from .formats.csljson import value_end

        if more and len(buffer) < self.want:
            return -1
        while True:
            try:
                end = value_end(buffer, self.pos)
            except (ValueError, RecursionError):  # cut short, or not JSON (read_piece says)
                self.want = 2 * len(buffer)
                return -1
            after = _JSON_WS.match(buffer, end).end()  # type: ignore[union-attr]
            c = buffer[after : after + 1]
            if c == ",":
                start = _JSON_WS.match(buffer, after + 1).end()  # type: ignore[union-attr]
                if start == len(buffer):
                    self.want = 2 * len(buffer)
                    return -1
                self.pos = start
                self.count += 1
                if start >= size:
                    return start
            elif c or not more:
                self.ended = True  # "]", or not JSON: the rest is one piece
                return -1
            else:
                self.want = 2 * len(buffer)
                return -1


def _json_pieces(path: str, size: int) -> Iterator[Cut]:
    """The pieces of a CSL-JSON file: each ends after the "," before an item."""
    buffer = ""
    line = 1
    index = 0  # items before the buffer
    starts: re.Pattern[str] | None = None
    begin = -1  # where the first item starts (-1: not known yet)
    searched = 0  # no guessed place to cut before this
    exact: _ItemCutter | None = None
    for block, more in _decoded(path):
        buffer += block
        if begin < 0:
            m = _JSON_START.match(buffer)
            if m is None and more and not buffer.strip(" \t\n\r\ufeff"):
                continue
            if m is None:
                raise WholeFile(f"{path}: not a JSON array")  # an object, or not JSON
            if m.end() == len(buffer) and more:
                continue
            begin = m.end()
            starts = _item_starts(m.group(1))
            exact = None if starts else _ItemCutter()
            if exact:
                exact.pos = begin
        while len(buffer) > size:
            at, items = -1, 0
            if exact is None and starts is not None:
                m = starts.search(buffer, max(size, searched))
                if m is not None:
                    at = m.end()
                    items = sum(1 for _ in starts.finditer(buffer, begin, m.start())) + 1
                elif more and len(buffer) < _JSON_GUESS_FOR * size:
                    searched = max(size, len(buffer) - 4096)
                    break  # read more
                else:  # items too long, or not one to a line: decode them
                    exact = _ItemCutter()
                    exact.pos = begin
            if exact is not None:
                if exact.ended:
                    break
                at = exact.cut(buffer, size, more)
                items = exact.count
                if at < 0:
                    if more and len(buffer) > _JSON_GIVE_UP * max(size, PIECE_CHARS):
                        raise WholeFile(f"{path}: an item too long to cut")
                    break
                exact = _ItemCutter() if starts is None else None
            yield Cut(buffer[:at], line, first_item=index, items=items)
            line += buffer.count("\n", 0, at)
            index += items
            buffer = buffer[at:]
            begin = searched = 0
        if not more:
            yield Cut(buffer, line, first_item=index, last=True)
            return


# --------------------------------------------------------------------------
# The conversion


@dataclass
class Streamed:
    """The outcome: diagnostics as the whole-file path reports them, and the output to commit."""

    read_diagnostics: Diagnostics
    write_diagnostics: Diagnostics
    detected: int
    written: int
    skipped: int
    sink: _Sink

    def commit(self) -> None:
        self.sink.commit()

    def discard(self) -> None:
        self.sink.discard()


def streamable(inputs: list[str], from_format: str | None) -> list[tuple[str, str]] | None:
    """(path, format) of every input when the conversion can stream, else None."""
    from .convert import canonical, from_extension

    plan = []
    for path in inputs:
        if path == "-" or not os.path.isfile(path):
            return None
        fmt = canonical(from_format) if from_format else from_extension(path)
        if fmt not in ("bibtex", "ris", "csljson"):
            return None
        plan.append((path, fmt))
    return plan


class _Keys:
    """``new_keys`` over a stream: the same keys and messages, in the same order."""

    def __init__(self, keep_duplicates: bool, rekey: bool) -> None:
        self.keep_duplicates = keep_duplicates
        self.rekey = rekey
        # Lower-case key -> where it was first (see _where), for BibTeX's message about
        # a repeated key; other formats rename it and need the key alone (a set is smaller).
        self.kept: dict[str, int] | set[str] = {} if keep_duplicates else set()
        self.made: set[str] = set()  # keys made up so far (lower case)
        self.first = Diagnostics()  # new_keys' first loop
        self.renamed = Diagnostics()  # its second
        self.files: list[str] = []

    def _where(self, code: int) -> str:
        file, line = self.files[code & 0xFFFF], code >> 16
        return f"{file}:{line}" if file and line else file or "<input>"

    def key(self, info: KeyInfo, file: str, file_index: int) -> str:
        from .text.keys import key_suffixes

        if self.keep_duplicates and not self.rekey and not info.key and info.has_source:
            self.first.warn(
                file, info.line, "empty citation key kept as written (--rekey gives it one)"
            )
            return ""
        base = info.base
        if info.key and not self.rekey:
            lower = info.key.lower()
            if not info.valid:
                self.first.warn(file, info.line, "invalid citation key replaced", info.key)
            elif lower in self.made:
                raise WholeFile("a key made up for a record is the key of a later one")
            elif lower in self.kept and self.keep_duplicates:
                self.first.warn(
                    file,
                    info.line,
                    f"citation key used before (at {self._where(self.kept[lower])}); bibtex and "  # type: ignore[index]
                    "biber use the first entry; kept as written",
                    info.key,
                )
                return info.key
            elif lower not in self.kept:
                if isinstance(self.kept, dict):
                    self.kept[lower] = (info.line << 16) | file_index
                else:
                    self.kept.add(lower)
                return info.key
        key = base
        if key.lower() in self.kept or key.lower() in self.made:
            for suffix in key_suffixes():
                key = base + suffix
                if key.lower() not in self.kept and key.lower() not in self.made:
                    break
        self.made.add(key.lower())
        if info.key and not self.rekey and info.key != key:
            self.renamed.warn(file, info.line, f"citation key renamed to {key}", info.key)
        return key


class _Run:
    """One streamed conversion: the state that crosses pieces and files."""

    def __init__(self, files: list[str], out: str, sink: _Sink, rekey: bool) -> None:
        from .formats.bibtex import BlockPlacer

        self.out = out
        self.sink = sink
        self.keys = _Keys(keep_duplicates=out == "bibtex", rekey=rekey)
        self.keys.files = files
        self.read_diags = Diagnostics()
        self.write_diags = Diagnostics()
        self.placer = BlockPlacer(files, self.write_diags) if out == "bibtex" else None
        self.any = False
        self.detected = 0
        self.written = 0
        self.surrogates = False
        self.macros: dict[str, str] = {}  # shared by the BibTeX inputs, as read_inputs does
        # CSL-JSON written from CSL-JSON: the ids written so far (see _File.finish).
        self.ids: set[str] | None = None
        self.queue: list[str] = []  # text not yet written
        self.sep = {"csljson": ",\n  ", "ris": "\n"}.get(out, "\n\n")
        self.first = "\n  " if out == "csljson" else ""

    def emit(self, text: str) -> None:
        """Queue one record's (or block's) text, with the separator before it."""
        if self.out == "ris" and not text:
            return
        self.queue.append(self.sep if self.any else self.first)
        self.queue.append(text)
        self.any = True

    def flush(self) -> None:
        if self.queue:
            self.sink.write("".join(self.queue))
            self.queue.clear()

    def start(self) -> None:
        if self.out == "csljson":
            self.sink.write("[")

    def end(self) -> None:
        if self.placer is not None:
            parts: list[str] = []
            self.placer.rest(parts)
            for part in parts:
                self.emit(part)
            if self.any:
                self.queue.append("\n")
        elif self.out == "csljson":
            self.queue.append("\n]\n" if self.any else "]\n")
        self.flush()
        if self.surrogates:
            from .formats.csljson import SURROGATES_REPLACED

            self.write_diags.warn("<output>", 0, SURROGATES_REPLACED)
        key_diags = Diagnostics()
        key_diags.extend(self.keys.first)
        key_diags.extend(self.keys.renamed)
        self.write_diags[:0] = key_diags


class _File:
    """One input file of a run: its pieces go out, their results come back in order."""

    def __init__(self, run: _Run, index: int, path: str, fmt: str) -> None:
        self.run, self.index, self.path, self.fmt = run, index, path, fmt
        self.diags = Diagnostics()
        self.commented: tuple[int, int] | None = None
        self.unknown: dict[str, list[Any]] = {}
        self.expansion = 0
        self.detected = 0
        self.only_text = True

    def pieces(self, options: WriteOptions, rekey: bool, size: int) -> Iterator[Piece]:
        track = self.run.ids is not None
        for index, cut in enumerate(_pieces(self.path, self.fmt, size)):
            piece = Piece(index, self.path, self.fmt, cut, self.run.out, options, rekey)
            piece.track_ids = track
            yield piece

    def finish(self, piece: Piece, done: Done) -> None:
        from .formats.bibtex import MAX_EXPANSION

        run = self.run
        if done.crossref and run.out != "bibtex":
            raise WholeFile("crossrefs resolved into another format")
        self.expansion += done.expansion
        if self.expansion > MAX_EXPANSION:
            raise WholeFile("macros expand past the limit")
        final = [run.keys.key(info, self.path, self.index) for info in done.keys]
        again = any(k != info.written for k, info in zip(final, done.keys, strict=True))
        if run.ids is not None and not again:
            # The CSL-JSON writer makes an item's id unique among the ids written
            # before it (a CSL-JSON input's own ids may not be keys): the piece knew
            # its own ids only, which is enough when none it took for free was taken.
            if run.ids.isdisjoint(done.ids_absent):
                run.ids.update(done.ids_written)
            else:
                again = True
        if again:
            # A key or an id the piece could not know: write the piece again here.
            piece.keys = {i: k for i, k in enumerate(final) if k != done.keys[i].written}
            piece.ids = run.ids  # the writer adds the piece's ids to it
            again_done = convert_piece(piece)
            done.texts, done.write_diags = again_done.texts, again_done.write_diags
        self.detected += done.detected
        run.detected += done.detected
        run.written += len(done.texts)
        if done.commented:
            if self.commented is None:
                self.commented = done.commented
            else:
                self.commented = (self.commented[0] + done.commented[0], self.commented[1])
        for etype, (key, line, count) in done.unknown.items():
            self.unknown.setdefault(etype, [key, line, 0])[2] += count
        self.diags.extend(done.read_diags)
        if any(b.kind != "text" for b in done.blocks):
            self.only_text = False
        run.surrogates |= done.surrogates
        if run.placer is None:
            run.write_diags.extend(done.write_diags)
            for text in done.texts:
                run.emit(text)
            run.flush()
            return
        for block in done.blocks:
            run.placer.add(block)
        for text, (line, has_source) in zip(done.texts, done.origins, strict=True):
            parts: list[str] = []
            if run.placer.before_at(self.path, line, has_source, parts):
                raise WholeFile("a macro defined otherwise in an earlier input")
            for part in parts:
                run.emit(part)
            run.emit(text)
        run.write_diags.extend(done.write_diags)
        run.flush()

    def close(self) -> None:
        from .formats.bibtex import commented_warning, unknown_warnings

        if self.detected == 0 and self.only_text:
            first_error = next(iter(self.diags.errors), None)
            why = f" ({first_error.message})" if first_error else ""
            raise InputError(f"{self.path}: no {self.fmt} records found{why}")
        if self.commented:
            self.diags.insert(0, commented_warning(self.path, *self.commented))
        self.diags.extend(unknown_warnings(self.path, self.unknown))
        self.run.read_diags.extend(self.diags)


def _in_order(file: _File, piece: Piece) -> None:
    """Read and write ``piece`` here; the next piece gets the macros it defined."""
    run = file.run
    piece.macros = run.macros if file.fmt == "bibtex" else None
    done = convert_piece(piece)
    if done.macros is not None:
        run.macros = done.macros
    file.finish(piece, done)


def convert(
    plan: list[tuple[str, str]],
    out: str,
    output: str | None,
    *,
    options: WriteOptions,
    rekey: bool = False,
    jobs: int = 1,
    piece_chars: int | None = None,
) -> Streamed:
    """Convert the inputs of ``plan`` to ``out``; raises :class:`WholeFile` when it cannot.

    The output goes to a temporary file until :meth:`Streamed.commit`.
    """
    from .limits import max_input

    limit = max_input()
    total = 0
    for path, _ in plan:
        size = os.path.getsize(path)
        if size > limit:
            from .files import too_large

            raise too_large(path, limit)
        total += size
    sink = _Sink(output)
    run = _Run([path for path, _ in plan], out, sink, rekey)
    if out == "csljson" and any(fmt == "csljson" for _, fmt in plan):
        run.ids = set()
    pool = None
    thresholds = _tune_gc()
    try:
        if jobs > 1 and total >= _parallel_min():
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(max_workers=jobs, initializer=_tune_gc)
        run.start()
        for index, (path, fmt) in enumerate(plan):
            file = _File(run, index, path, fmt)
            window: deque[tuple[Piece, Any]] = deque()
            for piece in file.pieces(options, rekey, piece_chars or PIECE_CHARS):
                if pool is None or (fmt == "bibtex" and _defines_macros(piece.cut.text)):
                    # Here, in order: the pieces after it need the macros it defines.
                    while window:
                        earlier, future = window.popleft()
                        file.finish(earlier, future.result())
                    _in_order(file, piece)
                    continue
                piece.macros = run.macros if fmt == "bibtex" else None
                window.append((piece, pool.submit(convert_piece, piece)))
                while len(window) > 2 * jobs:
                    earlier, future = window.popleft()
                    file.finish(earlier, future.result())
            while window:
                earlier, future = window.popleft()
                file.finish(earlier, future.result())
            file.close()
        run.end()
    except BaseException:
        sink.discard()
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    skipped = run.detected - run.written
    return Streamed(run.read_diags, run.write_diags, run.detected, run.written, skipped, sink)


# Reading allocates millions of small objects that live as long as their
# piece, nearly none in cycles: at Python's default (a collection every 700
# net allocations, rescanning what survived) the cyclic collector took a
# third of a RIS read.  A conversion collects every GC_GEN0 allocations
# instead, and the objects of the imports are left out of every scan.
GC_GEN0 = 20_000


def _tune_gc() -> tuple[int, int, int]:
    """Collect less often in this process (a worker's initializer); the old thresholds."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_GEN0, 20, 20)
    return before


def _parallel_min() -> int:
    raw = os.environ.get("BIBTOOLS_JOBS_MIN_BYTES", "").strip()
    return int(raw) if raw.isdigit() else PARALLEL_MIN_BYTES


_STRING = re.compile(r"@[ \t]*string", re.I)


def _defines_macros(text: str) -> bool:
    return _STRING.search(text) is not None


# --------------------------------------------------------------------------
# Output


class _Sink:
    """The output, written to a temporary file and put in place (or on stdout) at the end."""

    def __init__(self, output: str | None) -> None:
        from .files import output_error

        self.output = output
        self.target: Path | None = None
        self.tmp = ""
        try:
            info = None
            if output:
                with contextlib.suppress(FileNotFoundError):
                    info = os.stat(output)  # follows links
            if info is not None and stat.S_ISDIR(info.st_mode):
                from .files import OutputError

                raise OutputError(f"{output}: is a directory")
            if output and (info is None or stat.S_ISREG(info.st_mode)):
                target = Path(os.path.realpath(output)) if os.path.islink(output) else Path(output)
                directory = target.parent if str(target.parent) else Path(".")
                directory.mkdir(parents=True, exist_ok=True)
                fd, self.tmp = tempfile.mkstemp(
                    prefix=f".{target.name}.", suffix=".tmp", dir=directory
                )
                self.fh: IO[bytes] = os.fdopen(fd, "wb")
                self.target = target
            else:
                self.fh = tempfile.TemporaryFile()  # noqa: SIM115 (closed by commit/discard)
        except OSError as exc:
            raise output_error(output or "<stdout>", exc, True) from None

    def write(self, text: str) -> None:
        try:
            self.fh.write(text.encode("utf-8"))
        except OSError as exc:  # a full disk: one line, and the old output stays
            from .files import OutputError, output_error

            self.discard()
            if self.output is None:
                raise OutputError(f"<stdout>: cannot write ({exc.strerror or exc})") from None
            raise output_error(self.output, exc, True) from None

    def commit(self) -> None:
        from .files import output_error, write_atomic

        try:
            if self.target is not None:
                self.fh.flush()
                os.fsync(self.fh.fileno())
                self.fh.close()
                if self.target.exists():
                    os.chmod(self.tmp, self.target.stat().st_mode & 0o777)
                else:
                    umask = os.umask(0)
                    os.umask(umask)
                    os.chmod(self.tmp, 0o666 & ~umask)
                os.replace(self.tmp, self.target)
                return
            self.fh.seek(0)
            chunks = iter(lambda: self.fh.read(_READ_BYTES), b"")
            if self.output:
                write_atomic(self.output, b"".join(chunks))  # a device: written in place
            else:
                out = sys.stdout.buffer
                for chunk in chunks:
                    out.write(chunk)
                sys.stdout.flush()
            self.fh.close()
        except BrokenPipeError:
            self.discard()
            raise  # the reader of our stdout went away: the CLI's business
        except OSError as exc:
            self.discard()
            if self.output is None:
                from .files import OutputError

                raise OutputError(f"<stdout>: cannot write ({exc.strerror or exc})") from None
            raise output_error(self.output, exc, True) from None

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.fh.close()
        if self.tmp:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.tmp)


def run(
    inputs: list[str],
    from_format: str | None,
    out: str,
    output: str | None,
    *,
    jobs: int | None,
    options: WriteOptions,
    rekey: bool,
) -> Streamed | None:
    """The streamed conversion, or None when it must run the whole-file way."""
    plan = streamable(inputs, from_format)
    if plan is None:
        return None
    try:
        return convert(plan, out, output, options=options, rekey=rekey, jobs=jobs or default_jobs())
    except WholeFile:
        return None
