"""The format registry and the read/write entry points over text, paths and streams.

``load``/``loads`` turn files or text into records; ``dump``/``dumps`` turn
records into text or files.  ``convert`` is what the CLI's ``convert`` and
``build`` commands run: several inputs in, one output, diagnostics out.
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from .diagnostics import Diagnostic, Diagnostics, InputError, Level, UsageError
from .files import read_input, write_atomic
from .formats import Reader, ReadOptions, ReadResult, TextBlock, WriteOptions, Writer, WriteResult
from .model import Record
from .text.keys import new_keys
from .text.markup import from_latex

# name -> module; a new format is one line here plus its module.
FORMATS = {
    "listing": "bibtools.formats.listing",
    "bibtex": "bibtools.formats.bibtex",
    "ris": "bibtools.formats.ris",
    "csljson": "bibtools.formats.csljson",
}
ALIASES = {
    "bib": "bibtex",
    "biblatex": "bibtex",
    "json": "csljson",
    "csl": "csljson",
    "csl-json": "csljson",
    "txt": "listing",
}
# Sniffing order: the most recognisable formats first.
_SNIFF_ORDER = ("csljson", "bibtex", "ris", "listing")


def format_names() -> list[str]:
    return list(FORMATS)


def canonical(name: str) -> str:
    key = name.lower()
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        raise UsageError(f"unknown format {name!r} (choose from {', '.join(FORMATS)})")
    return key


@functools.cache
def get_format(name: str) -> ModuleType:
    """The format module registered as ``name`` (or an alias); it is a :class:`Reader`."""
    module = importlib.import_module(FORMATS[canonical(name)])
    if not isinstance(module, Reader):  # a plug-in that misses part of the contract
        raise TypeError(f"{module.__name__} is not a format reader (see bibtools.formats)")
    return module


def from_extension(path: str) -> str | None:
    """The format a file name implies, or None."""
    lower = path.lower()
    for fmt in FORMATS:
        for ext in get_format(fmt).EXTENSIONS:
            if lower.endswith(ext):
                return fmt
    return None


def detect(text: str, path: str = "") -> str:
    """The format of ``text``: from the extension of ``path``, else the content."""
    if path and path != "-":
        by_ext = from_extension(path)
        if by_ext:
            return by_ext
    for fmt in _SNIFF_ORDER:
        if get_format(fmt).sniff(text):
            return fmt
    where = path if path and path != "-" else "<stdin>"
    raise InputError(
        f"{where}: cannot tell the input format (not BibTeX, RIS, CSL-JSON or a listing); give it with -f"
    )


def read_text(
    text: str,
    format: str | None = None,
    *,
    source: str = "<string>",
    as_of: dt.date | None = None,
    macros: dict[str, str] | None = None,
) -> ReadResult:
    """Parse ``text``; returns records and diagnostics (never raises for bad records)."""
    fmt = canonical(format) if format else detect(text, source)
    options = ReadOptions(source=source, as_of=as_of, macros=macros)
    result: ReadResult = get_format(fmt).read(text, options)
    result.format = fmt
    return result


def loads(text: str, format: str | None = None, *, as_of: dt.date | None = None) -> list[Record]:
    """The records in ``text``; bad records are skipped (use read_text for diagnostics)."""
    return read_text(text, format, as_of=as_of).records


def read_file(
    path: str,
    format: str | None = None,
    *,
    as_of: dt.date | None = None,
    macros: dict[str, str] | None = None,
) -> ReadResult:
    """Read a file (``-`` is stdin) with format and encoding detection.

    A file that is not UTF-8 is decoded (see :func:`bibtools.files.decode`)
    and a warning says which encoding was assumed.
    """

    text, encoding = read_input(path)
    source = "<stdin>" if path == "-" else path
    fmt = canonical(format) if format else detect(text, path)
    options = ReadOptions(source=source, as_of=as_of, macros=macros)
    result: ReadResult = get_format(fmt).read(text, options)
    result.format = fmt
    result.encoding = encoding
    if encoding not in ("utf-8", "utf-8-sig"):
        result.diagnostics.insert(0, _encoding_warning(source, encoding))
    return result


def _encoding_warning(source: str, encoding: str) -> Diagnostic:

    return Diagnostic(
        source, 0, Level.WARNING, f"not UTF-8; read as {encoding} (check accented names)"
    )


def load(path: str, format: str | None = None, *, as_of: dt.date | None = None) -> list[Record]:
    """The records of a file; bad records are skipped (use read_file for diagnostics)."""
    return read_file(path, format, as_of=as_of).records


def dumps(records: list[Record], format: str, **options: object) -> str:
    """Records as text in ``format`` (``bibtex``, ``ris``, ``csljson``)."""
    return write(records, format, WriteOptions(**options)).text  # type: ignore[arg-type]


def dump(records: list[Record], path: str, format: str | None = None, **options: object) -> None:
    """Write records to ``path`` atomically; the format follows the extension."""

    fmt = canonical(format) if format else from_extension(path)
    if fmt is None:
        raise UsageError(f"{path}: cannot tell the output format from the extension; give it")
    write_atomic(path, dumps(records, fmt, **options))


def write(
    records: list[Record], format: str, options: WriteOptions | None = None, *, rekey: bool = False
) -> WriteResult:
    """Assign keys, resolve crossrefs for formats without them, and write.

    The caller's records are not changed: a record whose key must change is
    written from a copy.
    """
    fmt = canonical(format)
    module = get_format(fmt)
    if not isinstance(module, Writer):
        raise UsageError(f"{format} is an input format only")

    # A BibTeX file keeps a repeated key as it was: bibtex and biber use the
    # first entry, and renaming the second would print an entry they skip.
    keys, diags = new_keys(records, rekey=rekey, keep_duplicates=fmt == "bibtex")
    records = [r if r.key == k else r.copy(key=k) for r, k in zip(records, keys, strict=True)]
    if fmt != "bibtex" and any(r.crossref for r in records):
        records = [r.copy() for r in records]
        diags.extend(resolve_crossrefs(records))
    result: WriteResult = module.write(records, options or WriteOptions())
    result.diagnostics[:0] = diags
    return result


@dataclass
class ConvertResult:
    records: list[Record] = field(default_factory=list)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    detected: int = 0
    skipped: int = 0
    # BibTeX's @string, @preamble and @comment blocks, and the inputs in order
    # (the BibTeX writer puts the blocks back where they stood).
    blocks: list[TextBlock] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # "file (format)"
    formats: list[str] = field(default_factory=list)  # the format each input was read as
    encodings: list[str] = field(default_factory=list)  # of each BibTeX input

    def legacy_encoding(self) -> str | None:
        """The one legacy encoding every BibTeX input shares (latin-1...), if any.

        bibtex reads bytes: a file written back in another encoding would
        print differently under the same ``inputenc``.
        """
        if len(set(self.encodings)) != 1 or len(self.encodings) != len(self.files):
            return None
        name = codecs.lookup(self.encodings[0]).name
        return None if name.startswith(("utf", "ascii")) else self.encodings[0]

    def write_options(self, **options: object) -> WriteOptions:
        return WriteOptions(blocks=self.blocks, files=self.files, **options)  # type: ignore[arg-type]


def read_inputs(
    paths: list[str], format: str | None = None, *, as_of: dt.date | None = None
) -> ConvertResult:
    """Read several inputs into one list of records, in input order.

    BibTeX inputs share their ``@string`` macros, in order, as bibtex does with
    ``\\bibliography{IEEEabrv,paper}``; a file of macros (or comments) alone is an input.
    """
    out = ConvertResult()
    macros: dict[str, str] = {}  # shared by the BibTeX inputs
    for path in paths:
        result = read_file(path, format, as_of=as_of, macros=macros)
        name, fmt = ("<stdin>" if path == "-" else path), result.format
        if result.detected == 0 and all(b.kind == "text" for b in result.blocks):
            first_error = next(iter(result.diagnostics.errors), None)
            why = f" ({first_error.message})" if first_error else ""
            raise InputError(f"{name}: no {fmt} records found{why}")
        out.sources.append(f"{name} ({fmt})")
        out.formats.append(fmt)
        out.blocks.extend(result.blocks)
        out.files.append(name)
        if fmt == "bibtex":
            out.encodings.append(result.encoding)
        out.records.extend(result.records)
        out.diagnostics.extend(result.diagnostics)
        out.detected += result.detected
        out.skipped += result.detected - len(result.records)
    return out


def output_format(path: str | None, to: str | None) -> str:
    if to:
        fmt = canonical(to)
    elif path:
        fmt = from_extension(path) or ""
        if not fmt:
            raise UsageError(f"{path}: cannot tell the output format from the extension; use -t")
    else:
        raise UsageError("give the output format with -t (bibtex, ris, csljson)")
    if fmt == "listing":
        raise UsageError("listing is an input format only")
    return fmt


def ensure_not_input(output: str, inputs: list[str]) -> None:
    """Refuse to overwrite an input file (the user may pass --force)."""
    out = Path(output).resolve()
    for path in inputs:
        if path != "-" and Path(path).resolve() == out:
            raise UsageError(f"{output}: is also an input; refusing to overwrite it (use --force)")


# Fields a child entry inherits from its crossref parent when it lacks them.
_INHERITED = (
    "authors",
    "editors",
    "organization",
    "language",
    "publisher",
    "publisher_place",
    "volume",
    "collection_title",
    "isbn",
    "issn",
    "institution",
    "edition",
    "event",
    # BibTeX and biblatex inherit every field; pandoc too (a paper in a
    # Springer volume gets the volume's DOI, as bibtex would print it).
    "doi",
    "url",
)


# Children that sit inside their parent (a paper in proceedings, a chapter in
# a book) take its title as their container; other children only inherit.
_PART_TYPES = {"paper-conference", "chapter", "entry-encyclopedia", "entry-dictionary", "entry"}


def _parent_booktitle(parent: Record) -> str:
    """BibTeX copies the parent's booktitle field; BibLaTeX maps its title."""
    if parent.extra_format == "bibtex" and "booktitle" in parent.extra:
        return from_latex(parent.extra["booktitle"])
    return parent.title or parent.container_title


def resolve_crossrefs(records: list[Record]) -> Diagnostics:
    """Copy into each child the fields it inherits from its crossref parent.

    BibTeX resolves ``crossref`` itself, so BibTeX output keeps the link;
    every other format needs the inherited fields spelled out.  The parent's
    title becomes the child's container title (BibLaTeX's rule).  Cycles and
    missing parents are reported, never followed forever.
    """
    diags = Diagnostics()
    by_key = {r.key.lower(): r for r in records if r.key}
    for rec in records:
        seen = {rec.key.lower()}
        parent_key = rec.crossref
        while parent_key:
            parent = by_key.get(parent_key.lower())
            if parent is None:
                diags.warn(
                    rec.origin_file, rec.origin_line, f"crossref {parent_key!r} not found", rec.key
                )
                break
            if parent.key.lower() in seen:
                diags.warn(
                    rec.origin_file,
                    rec.origin_line,
                    f"crossref cycle through {parent_key!r}",
                    rec.key,
                )
                break
            seen.add(parent.key.lower())
            part = rec.type in _PART_TYPES or (
                rec.type == "article-journal" and parent.type == "periodical"
            )
            if not rec.container_title and part:
                rec.container_title = _parent_booktitle(parent)
            elif not rec.title and not part:
                rec.title = parent.title  # BibTeX and BibLaTeX inherit same-named fields
            if not rec.issued and parent.issued:
                rec.issued = parent.issued
            for name in _INHERITED:
                if not getattr(rec, name) and getattr(parent, name):
                    setattr(rec, name, getattr(parent, name))
                    if name in ("authors", "editors"):
                        setattr(rec, f"{name}_truncated", getattr(parent, f"{name}_truncated"))
            parent_key = parent.crossref
    return diags
