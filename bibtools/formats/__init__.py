"""Format plug-ins: one module per format, each a reader and/or a writer.

A format module defines

* ``NAME`` (``"bibtex"``), ``EXTENSIONS`` (``(".bib",)``),
* ``sniff(text) -> bool``: does this text look like the format,
* ``read(text, options) -> ReadResult``: pure, text to records,
* ``write(records, options) -> WriteResult``: pure, records to text.

Formats never import each other: the record model is all they share.
The registry in :mod:`bibtools.convert` finds them by name.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..diagnostics import Diagnostics
from ..model import Record


@dataclass(frozen=True, slots=True)
class TextBlock:
    """A BibTeX block that is not an entry (``@string``, ``@preamble``, ``@comment``), as written.

    ``file`` and ``line`` place it among the entries, so that a writer puts it
    back before the entry that followed it.
    """

    kind: str  # "string", "preamble", "comment", or "text" (outside every block)
    text: str  # the whole block, ready to write
    file: str
    line: int
    name: str = ""  # a @string's macro name (lower case)
    value: str = ""  # its value (or the preamble's), macros expanded


@dataclass(slots=True)
class ReadOptions:
    source: str = "<stdin>"  # the file name diagnostics carry
    as_of: _dt.date | None = None  # listing dates without a year resolve against it
    # BibTeX: @string macros defined by earlier inputs (the reader adds this
    # file's), as bibtex sees \bibliography{IEEEabrv,paper}.
    macros: dict[str, str] | None = None


@dataclass(slots=True)
class WriteOptions:
    ascii: bool = False  # BibTeX: LaTeX accent commands instead of UTF-8
    # BibTeX: "bibtex" or "biblatex" maps every entry to that dialect; "" keeps
    # each BibTeX entry's own and writes bibtex for records from elsewhere.
    dialect: str = ""
    protect_titles: bool = True  # BibTeX: brace acronyms and inner capitals of new titles
    # BibTeX: the @string, @preamble and @comment blocks of the input, written back.
    blocks: list[TextBlock] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # the inputs in the order they were read


@dataclass(slots=True)
class ReadResult:
    records: list[Record] = field(default_factory=list)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    # Records the reader saw, skipped ones included: written + skipped == detected.
    detected: int = 0
    format: str = ""  # the format the text was read as (set by convert.read_file)
    encoding: str = "utf-8"  # the file's (set by convert.read_file)
    # BibTeX only: @string, @preamble and @comment blocks, so BibTeX -> BibTeX keeps them.
    blocks: list[TextBlock] = field(default_factory=list)

    @property
    def preambles(self) -> list[str]:
        return [b.value for b in self.blocks if b.kind == "preamble"]


@dataclass(slots=True)
class WriteResult:
    text: str = ""
    diagnostics: Diagnostics = field(default_factory=Diagnostics)


@runtime_checkable
class Reader(Protocol):
    """What a format module that reads provides (the registry checks it)."""

    NAME: str
    EXTENSIONS: tuple[str, ...]

    def sniff(self, text: str) -> bool: ...

    def read(self, text: str, options: ReadOptions) -> ReadResult: ...


@runtime_checkable
class Writer(Protocol):
    """What a format module that writes provides; writing never changes ``records``."""

    NAME: str

    def write(self, records: Sequence[Record], options: WriteOptions) -> WriteResult: ...
