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
from dataclasses import dataclass, field

from ..diagnostics import Diagnostics
from ..model import Record


@dataclass(slots=True)
class ReadOptions:
    source: str = "<stdin>"  # the file name diagnostics carry
    as_of: _dt.date | None = None  # listing dates without a year resolve against it


@dataclass(slots=True)
class WriteOptions:
    ascii: bool = False  # BibTeX: LaTeX accent commands instead of UTF-8
    dialect: str = "bibtex"  # or "biblatex"
    protect_titles: bool = True  # BibTeX: brace acronyms and inner capitals
    # BibTeX: @preamble and @comment blocks of the input, written back.
    preambles: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ReadResult:
    records: list[Record] = field(default_factory=list)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    # Records the reader saw, skipped ones included: written + skipped == detected.
    detected: int = 0
    format: str = ""  # the format the text was read as (set by convert.read_file)
    # BibTeX only: @preamble and @comment blocks, so BibTeX -> BibTeX keeps them.
    preambles: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class WriteResult:
    text: str = ""
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
