"""The pipelines behind the commands, as library functions.

Each pipeline reads, transforms and writes through the modules below it and
tells what happens through ``emit`` (diagnostics and notes, in the order
they arise); it never prints, exits or parses command-line options.  The
command line (:mod:`bibtools.commands`) chooses what to show and the exit
status; another program can call the same pipeline and keep the messages.

An error that ends a pipeline (unreadable input, no usable record, an
output that cannot be written) is raised as a
:class:`~bibtools.diagnostics.BibtoolsError` after what was emitted so far.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .convert import ConvertResult, output_format, read_inputs, write
from .diagnostics import TRUNCATED, Diagnostic, InputError, StrictModeError, UsageError
from .files import write_atomic
from .formats import WriteOptions
from .text.keys import assign_keys

if TYPE_CHECKING:
    from .dedupe import MergeResult
    from .enrich import EnrichResult
    from .http import HttpClient
    from .links import LinkReport
    from .pages import FormatOptions, FormatResult

EXAMPLE = "example.listing"
# What `bibtools build` writes into its output directory.
REFERENCE_OUTPUTS = (
    ("bibtex", "references.bib"),
    ("ris", "references.ris"),
    ("csljson", "references.json"),
)
PAGE_OUTPUTS = (
    ("publications.md", "markdown", False),
    ("publications.html", "html", True),
)
LINK_OUTPUTS = ("links.md", "links.json")
BUILD_OUTPUTS = tuple(n for _, n in REFERENCE_OUTPUTS) + tuple(n for n, _, _ in PAGE_OUTPUTS)

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class Note:
    """A message that is not about one record: a summary, a hint, what was written.

    ``always``: shown even when the user asked for errors only (summaries of
    what a command did, which scripts read).
    """

    text: str
    always: bool = True


@dataclass(frozen=True, slots=True)
class Shown:
    """A diagnostic that is shown even in quiet mode (the network's findings)."""

    diagnostic: Diagnostic


Message = Diagnostic | Note | Shown
Emit = Callable[[Message], None]


def _ignore(message: Message) -> None:
    pass


def emit_all(emit: Emit, diagnostics: Sequence[Diagnostic]) -> None:
    for d in diagnostics:
        emit(d)


# --------------------------------------------------------------------------
# Reading and writing


def read(
    inputs: Sequence[str],
    from_format: str | None = None,
    *,
    as_of: dt.date | None = None,
    emit: Emit = _ignore,
) -> ConvertResult:
    """The records of every input, in order; an input with no usable record is an error."""
    result = read_inputs(list(inputs), from_format, as_of=as_of)
    if not result.records and result.skipped:
        emit_all(emit, result.diagnostics)
        raise InputError(
            f"no record could be read ({result.skipped} skipped, see above); nothing written"
        )
    emit_all(emit, result.diagnostics)
    result.diagnostics.clear()
    return result


@dataclass(slots=True)
class Written:
    data: bytes
    problems: bool  # some record was left out or could not be written as given


def encode_output(result: ConvertResult, fmt: str, text: str, emit: Emit = _ignore) -> bytes:
    """UTF-8, except BibTeX from BibTeX inputs that share a legacy encoding: that one.

    bibtex reads bytes, so a Latin-1 file written back as UTF-8 would print
    differently under the document's ``inputenc``; ``--ascii`` avoids the question.
    """
    legacy = result.legacy_encoding() if fmt == "bibtex" else None
    if legacy:
        try:
            data = text.encode(legacy)
        except UnicodeEncodeError as exc:
            emit(
                Note(
                    f"bibtools: warning: the output has characters {legacy} cannot hold "
                    f"({text[exc.start : exc.end]!r}); written as UTF-8 instead of the "
                    f"inputs' {legacy} (or use --ascii)",
                    always=False,
                )
            )
        else:
            emit(Note(f"bibtools: note: written in {legacy}, as the inputs were", always=False))
            return data
    return text.encode("utf-8")


def write_records(
    result: ConvertResult,
    fmt: str,
    *,
    strict: bool = False,
    ascii_only: bool = False,
    dialect: str | None = None,
    rekey: bool = False,
    emit: Emit = _ignore,
) -> Written:
    """``result``'s records in ``fmt`` as the bytes to write (see :func:`encode_output`)."""
    if strict and result.skipped:
        raise StrictModeError(f"{result.skipped} bad record(s); nothing written (--strict)")
    options = WriteOptions(
        ascii=ascii_only, dialect=dialect or "", blocks=result.blocks, files=result.files
    )
    written = write(result.records, fmt, options, rekey=rekey)
    emit_all(emit, written.diagnostics)
    data = encode_output(result, fmt, written.text, emit)
    return Written(data, bool(result.skipped or written.diagnostics.errors))


def dedupe(result: ConvertResult, emit: Emit = _ignore) -> MergeResult:
    """Merge duplicate records of ``result`` (in place), reporting what merged."""
    from .dedupe import merge

    merged = merge(result.records)
    emit_all(emit, merged.diagnostics)
    result.records = merged.records
    emit(Note(merged.summary(), always=False))
    return merged


def convert(
    inputs: Sequence[str],
    to_format: str | None = None,
    output: str | None = None,
    *,
    from_format: str | None = None,
    as_of: dt.date | None = None,
    strict: bool = False,
    dedupe_records: bool = False,
    ascii_only: bool = False,
    dialect: str | None = None,
    rekey: bool = False,
    emit: Emit = _ignore,
) -> Written:
    """Read ``inputs`` and write them as one output (to ``output``, atomically, if given)."""
    fmt = output_format(output, to_format)
    result = read(inputs, from_format, as_of=as_of, emit=emit)
    if dedupe_records:
        dedupe(result, emit)
    written = write_records(
        result, fmt, strict=strict, ascii_only=ascii_only, dialect=dialect, rekey=rekey, emit=emit
    )
    if output:
        write_atomic(output, written.data)
    return written


# --------------------------------------------------------------------------
# The network


@dataclass(frozen=True, slots=True)
class Network:
    """How the network may be used: one set of options for every command that asks it."""

    offline: bool = False
    refresh: bool = False
    insecure: bool = False
    cache_dir: str | None = None

    def client(self) -> HttpClient:
        from .http import HttpClient

        if self.offline and self.refresh:
            raise UsageError("--offline and --refresh exclude each other")
        return HttpClient.from_env(
            cache_dir=self.cache_dir,
            offline=self.offline,
            refresh=self.refresh,
            insecure=self.insecure or None,
        )


def enrich_records(
    records: list[Any],
    sources: Sequence[str],
    network: Network,
    progress: Progress | None = None,
) -> EnrichResult:
    from .enrich import enrich
    from .sources.base import check_api_urls

    check_api_urls(sources, os.environ)  # a bad BIBTOOLS_*_API is a usage error before any request
    with network.client() as http:
        return enrich(records, http=http, sources=tuple(sources), progress=progress)


def check_links(
    records: list[Any], network: Network, progress: Progress | None = None
) -> LinkReport:
    from .links import check_links as check

    with network.client() as http:
        return check(records, http=http, progress=progress)


@dataclass(slots=True)
class Enriched:
    result: ConvertResult
    enriched: EnrichResult
    written: Written | None  # None for a dry run


def enrich(
    inputs: Sequence[str],
    sources: Sequence[str],
    network: Network,
    *,
    to_format: str | None = None,
    output: str | None = None,
    report: str | None = None,
    dry_run: bool = False,
    from_format: str | None = None,
    as_of: dt.date | None = None,
    ascii_only: bool = False,
    dialect: str | None = None,
    rekey: bool = False,
    progress: Progress | None = None,
    emit: Emit = _ignore,
) -> Enriched:
    """Read, complete from ``sources`` and write (unless ``dry_run``).

    Without ``to_format`` and ``output`` the records are written in the
    first input's format (a listing becomes BibTeX).
    """
    import json

    result = read(inputs, from_format, as_of=as_of, emit=emit)
    if not to_format and not output:
        to_format = result.formats[0] if result.formats[0] != "listing" else "bibtex"
    fmt = output_format(output, to_format)
    emit_all(emit, assign_keys(result.records, rekey=rekey))
    enriched = enrich_records(result.records, sources, network, progress)
    if report:
        write_atomic(report, json.dumps(enriched.to_json(), indent=2, ensure_ascii=False) + "\n")
    for d in enriched.diagnostics:
        emit(Shown(d))
    written = None
    if not dry_run:
        result.records = enriched.records
        written = write_records(result, fmt, ascii_only=ascii_only, dialect=dialect, emit=emit)
        if output:
            write_atomic(output, written.data)
    return Enriched(result, enriched, written)


# --------------------------------------------------------------------------
# Formatting


def require_entries(formatted: FormatResult) -> None:
    """The style could format none of the records: no empty page over an existing one."""
    if not formatted.entries and formatted.diagnostics.errors:
        raise InputError("no record could be formatted (see above); nothing written")


def format_options(config_dir: str = ".", **flags: Any) -> FormatOptions:
    """Format options: defaults, then bibtools.toml / [tool.bibtools], then flags given."""
    from .pages import FormatOptions, load_config, options_from_config

    config, source = load_config(config_dir)
    options = options_from_config(config, FormatOptions(), source) if config else FormatOptions()
    given = {k: v for k, v in flags.items() if v not in (None, ())}
    options = replace(options, **given)
    options.check()
    return options


def format_records(
    result: ConvertResult, options: FormatOptions, emit: Emit = _ignore
) -> FormatResult:
    """``result``'s records (keys assigned here) formatted as ``options`` say."""
    from .pages import format_records as lay_out

    emit_all(emit, assign_keys(result.records))
    options.blocks = result.blocks
    formatted = lay_out(result.records, options)
    emit_all(emit, formatted.diagnostics)
    require_entries(formatted)
    return formatted


def publication_pages(
    records: list[Any], output_dir: str, base: FormatOptions, emit: Emit = _ignore
) -> list[str]:
    """publications.md and publications.html (a standalone page), grouped by year.

    The style engine runs once; both pages are laid out from its entries.
    """
    from .pages import format_records as lay_out
    from .pages import style_records

    pages = [
        (name, replace(base, output=out, standalone=alone, group_by="year", sort="date-desc"))
        for name, out, alone in PAGE_OUTPUTS
    ]
    styled = style_records(records, pages[0][1])
    written = []
    for name, options in pages:
        formatted = lay_out(records, options, styled=styled)
        if name.endswith(".md"):
            emit_all(emit, [d for d in formatted.diagnostics if d.code != TRUNCATED])
        require_entries(formatted)
        path = os.path.join(output_dir, name)
        write_atomic(path, formatted.text)
        written.append(path)
    return written


# --------------------------------------------------------------------------
# build: the main job


@dataclass(slots=True)
class Built:
    written: list[str] = field(default_factory=list)
    problems: bool = False


def summarise_truncated(records: Sequence[Any]) -> str | None:
    truncated = [r.key for r in records if r.authors_truncated]
    if not truncated:
        return None
    shown = ", ".join(truncated[:20]) + (
        f" and {len(truncated) - 20} more" if len(truncated) > 20 else ""
    )
    return f"{len(truncated)} records have truncated author lists ({shown}): run bibtools enrich"


def build(
    inputs: Sequence[str],
    output_dir: str,
    page_options: FormatOptions,
    network: Network,
    *,
    example: str,
    do_enrich: bool = False,
    links: bool = False,
    dedupe_records: bool = False,
    from_format: str | None = None,
    as_of: dt.date | None = None,
    ascii_only: bool = False,
    dialect: str | None = None,
    rekey: bool = False,
    progress: Progress | None = None,
    emit: Emit = _ignore,
) -> Built:
    """The reference files, the publication pages and (``links``) the link report.

    ``example`` is read when there are no ``inputs``.
    """
    result = read(list(inputs) or [example], from_format, as_of=as_of, emit=emit)
    if dedupe_records:
        dedupe(result, emit)
    not_enriched = 0
    # One set of keys for the three files, the pages and the link report.
    key_diags = assign_keys(result.records, rekey=rekey)
    if do_enrich:
        emit_all(emit, key_diags)
        key_diags.clear()
        enriched = enrich_records(result.records, ("arxiv",), network, progress)
        for d in enriched.diagnostics:
            emit(Shown(d))
        result.records = enriched.records
        not_enriched = len(enriched.not_enriched)
        emit(Note(f"Enrichment: {enriched.summary()}."))
    options = WriteOptions(
        ascii=ascii_only, dialect=dialect or "", blocks=result.blocks, files=result.files
    )
    built = Built()
    warnings: list[Diagnostic] = list(key_diags)
    for fmt, name in REFERENCE_OUTPUTS:
        out = write(result.records, fmt, options)
        # Key and crossref messages repeat for every format: show them once;
        # truncated author lists are summed up in one note below.
        warnings.extend(d for d in out.diagnostics if d not in warnings and d.code != TRUNCATED)
        path = os.path.join(output_dir, name)
        write_atomic(path, out.text)
        built.written.append(path)
    emit_all(emit, warnings)
    built.written.extend(publication_pages(result.records, output_dir, page_options, emit))
    failing_links = 0
    if links:
        from .links import DEFAULT_FAIL_ON, render_json, render_markdown

        report = check_links(result.records, network, progress)
        texts = (render_markdown(report), render_json(report))
        for name, text in zip(LINK_OUTPUTS, texts, strict=True):
            path = os.path.join(output_dir, name)
            write_atomic(path, text)
            built.written.append(path)
        failing_links = len(report.failing(DEFAULT_FAIL_ON))
        emit(Note(f"Links: {report.summary()}"))
    sources = ", ".join(result.sources) if inputs else f"the bundled example ({EXAMPLE})"
    emit(Note(f"Read {result.detected} records from {sources}; {len(result.records)} written."))
    emit(Note(f"Wrote {', '.join(built.written)}."))
    hint = summarise_truncated(result.records)
    if hint:
        emit(
            Note(
                f"Note: {hint}. BibTeX marks them with 'and others', RIS and CSL-JSON with a "
                "last author 'others'.",
                always=False,
            )
        )
    if result.skipped:
        emit(Note(f"{result.skipped} record(s) skipped: see the messages above."))
    built.problems = bool(result.skipped or not_enriched or failing_links)
    return built
