"""The library's front door: ``read`` a bibliography, ``write`` it in a format.

    >>> import bibtools
    >>> result = bibtools.read("@article{knuth84, author={Knuth, Donald E.}, "
    ...                        "title={Literate Programming}, year=1984}")
    >>> [r.key for r in result.records], list(result.diagnostics)
    (['knuth84'], [])
    >>> print(bibtools.write(result, "ris"), end="")
    TY  - JOUR
    ...

Like bibtexparser's ``parse_string`` -> library -> ``write_string``: the
result carries its problems (one :class:`~bibtools.diagnostics.Diagnostic`
per record that could not be read, with file and line) instead of raising,
and writing never changes the records it is given.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

from .convert import read_file, read_text
from .convert import write as write_records
from .formats import ReadResult, WriteOptions
from .model import Record


def read(
    source: str | os.PathLike[str],
    format: str | None = None,
    *,
    as_of: dt.date | None = None,
) -> ReadResult:
    """The records of a file or a text, and the diagnostics of those that could not be read.

    ``source`` is a path (a :class:`os.PathLike`, or a one-line string naming
    an existing file) or the text itself.  ``format`` is ``bibtex``, ``ris``,
    ``csljson`` or ``listing``; by default it follows the extension, else the
    content.  BibTeX's ``@string``, ``@preamble`` and ``@comment`` blocks are
    kept in ``result.blocks``, so that :func:`write` puts them back.
    """
    if isinstance(source, os.PathLike) or (
        "\n" not in source and len(source) < 4096 and os.path.isfile(source)
    ):
        return read_file(os.fspath(source), format, as_of=as_of)
    return read_text(source, format, as_of=as_of)


def write(
    records: ReadResult | Sequence[Record],
    format: str = "bibtex",
    *,
    ascii: bool = False,
    dialect: str = "",
) -> str:
    """``records`` (or a :func:`read` result, with its ``@string`` blocks) as text.

    ``format`` is ``bibtex``, ``ris`` or ``csljson``.  Values read from
    BibTeX and not changed since are written as the source wrote them;
    ``dialect`` (``bibtex`` or ``biblatex``) maps every entry to that flavour,
    ``ascii`` writes LaTeX accents instead of UTF-8.  The records are not
    changed (a key that must be made unique is changed on a copy).
    """
    blocks = records.blocks if isinstance(records, ReadResult) else []
    items = list(records.records if isinstance(records, ReadResult) else records)
    options = WriteOptions(ascii=ascii, dialect=dialect, blocks=blocks)
    return write_records(items, format, options).text
