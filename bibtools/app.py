"""The pipelines behind the commands, as library functions.

Each pipeline reads, transforms and writes through the modules below it and
tells what happens through ``emit`` (diagnostics and notes, in the order
they arise); it never prints, exits or parses command-line options.  The
command line (:mod:`bibtools.commands`) chooses what to show and the exit
status; another program can call the same pipeline and keep the messages.

The engines are imported inside the pipeline that uses them, so that a
``convert`` loads neither the network stack, nor the style engines, nor the
verifier (start-up time is measured in ``benchmarks/``).

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

from .changes import Outcome
from .convert import ConvertResult, output_format, read_inputs, write
from .diagnostics import TRUNCATED, Diagnostic, InputError, StrictModeError, UsageError
from .files import write_atomic
from .formats import WriteOptions
from .model import Record
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
    jobs: int | None = None,
    emit: Emit = _ignore,
) -> Written:
    """Read ``inputs`` and write them as one output (to ``output``, atomically, if given).

    A conversion that can stream (:mod:`bibtools.stream`) is read, converted
    and written piece by piece, in ``jobs`` worker processes for a large
    input, with the same bytes and diagnostics as the whole-file way.
    """
    fmt = output_format(output, to_format)
    if not dedupe_records:  # merging duplicates needs every record at once
        from .stream import run

        options = WriteOptions(ascii=ascii_only, dialect=dialect or "")
        streamed = run(
            list(inputs), from_format, fmt, output, jobs=jobs, options=options, rekey=rekey
        )
        if streamed is not None:
            return finish_streamed(streamed, strict, emit)
    result = read(inputs, from_format, as_of=as_of, emit=emit)
    if dedupe_records:
        dedupe(result, emit)
    written = write_records(
        result, fmt, strict=strict, ascii_only=ascii_only, dialect=dialect, rekey=rekey, emit=emit
    )
    if output:
        write_atomic(output, written.data)
    return written


def finish_streamed(streamed: Any, strict: bool, emit: Emit = _ignore) -> Written:
    """What :func:`read` and :func:`write_records` check and say, for a streamed conversion;
    its output is committed (moved into place, or sent to standard output) only then."""
    try:
        emit_all(emit, streamed.read_diagnostics)
        if not streamed.written and streamed.skipped:
            raise InputError(
                f"no record could be read ({streamed.skipped} skipped, see above); nothing written"
            )
        if strict and streamed.skipped:
            raise StrictModeError(f"{streamed.skipped} bad record(s); nothing written (--strict)")
        emit_all(emit, streamed.write_diagnostics)
        streamed.commit()
    finally:
        streamed.discard()
    return Written(b"", bool(streamed.skipped or streamed.write_diagnostics.errors))


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


def code_status_from_file(path: str) -> dict[str, Any]:
    """Each code link's status from a ``bibtools links`` JSON report."""
    import json

    from .files import read_input
    from .pages import code_status_from_report

    text, _encoding = read_input(path)
    try:
        found = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not a JSON link report ({exc.msg})") from None
    except RecursionError:
        raise InputError(f"{path}: not a JSON link report (nested too deeply)") from None
    return code_status_from_report(found)


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


def enrich_notes(
    enriched: object, records: Sequence[Record]
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """From an :class:`bibtools.enrich.EnrichResult`: (key, why) for the records it could
    not complete, and code URL -> ``missing`` for repositories GitHub says do not exist."""
    from .pages import code_url

    reasons: list[tuple[str, str]] = []
    status: dict[str, str] = {}
    by_key = {r.key: r for r in records}
    for report in getattr(enriched, "not_enriched", []):
        reasons.append((report.key, report.message or report.outcome.value))
    for report in getattr(enriched, "reports", []):
        rec = by_key.get(report.key)
        if rec is not None and report.outcomes.get("github") == Outcome.NOT_FOUND:
            url = code_url(rec)
            if url:
                status[url] = "missing"
    return reasons, status


def page_extras(
    options: FormatOptions,
    records: Sequence[Record],
    bib_text: str,
    built: object,
    reasons: Sequence[tuple[str, str]] = (),
    code_status: dict[str, Any] | None = None,
    unread: Sequence[str] = (),
) -> FormatOptions:
    """``options`` (:class:`bibtools.pages.FormatOptions`) with what ``build`` knows:
    the entries of references.bib, the build date, the incomplete records, code statuses,
    and ``unread``: the messages (``FILE:LINE: ...``) of records that could not be read."""
    from .publication import Incomplete, bibtex_entries, incomplete

    status = {**(getattr(options, "code_status", None) or {}), **(code_status or {})}
    return replace(
        options,  # type: ignore[type-var]
        bibtex=bibtex_entries(bib_text),
        built=str(built),
        # Records that could not be read are not on the page: the footer names them.
        incomplete=incomplete(records, reasons) + [Incomplete("", why) for why in unread],
        code_status=status or None,
    )


@dataclass(slots=True)
class Built:
    written: list[str] = field(default_factory=list)
    problems: bool = False


def site_files(
    site: str,
    records: list[Any],
    bib_text: str,
    output_dir: str,
    inputs: Sequence[str],
    force: bool,
    emit: Emit = _ignore,
) -> list[str]:
    """Write a site generator's files (:mod:`bibtools.sites`) under ``output_dir``."""
    from .files import guard_outputs
    from .sites import export

    made = export(records, site, bib_text)
    emit_all(emit, made.diagnostics)
    paths = [os.path.join(output_dir, *f.path.split("/")) for f in made.files]
    guard_outputs(paths, inputs, force)
    for path, f in zip(paths, made.files, strict=True):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomic(path, f.text)
    if len(paths) == 1:
        return paths
    top = os.path.join(output_dir, made.files[0].path.split("/")[0]) if paths else output_dir
    return [f"{top}{os.sep} ({len(paths)} files for {site})"]


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
    site: str | None = None,
    force: bool = False,
    from_format: str | None = None,
    as_of: dt.date | None = None,
    ascii_only: bool = False,
    dialect: str | None = None,
    rekey: bool = False,
    progress: Progress | None = None,
    emit: Emit = _ignore,
) -> Built:
    """The reference files, the publication pages, (``links``) the link report and
    (``site``) the files a site generator reads.

    ``example`` is read when there are no ``inputs``.  The page's footer says
    when it was built: ``as_of``, else today.
    """
    result = read(list(inputs) or [example], from_format, as_of=as_of, emit=emit)
    if dedupe_records:
        dedupe(result, emit)
    not_enriched = 0
    reasons: list[tuple[str, str]] = []
    code_status: dict[str, Any] = {}
    # One set of keys for the three files, the pages and the link report.
    key_diags = assign_keys(result.records, rekey=rekey)
    if do_enrich:
        emit_all(emit, key_diags)
        key_diags.clear()
        enriched = enrich_records(result.records, ("arxiv", "github"), network, progress)
        for d in enriched.diagnostics:
            emit(Shown(d))
        result.records = enriched.records
        not_enriched = len(enriched.not_enriched)
        emit(Note(f"Enrichment: {enriched.summary()}."))
        reasons, code_status = enrich_notes(enriched, result.records)
    options = WriteOptions(
        ascii=ascii_only, dialect=dialect or "", blocks=result.blocks, files=result.files
    )
    built = Built()
    bib_text = ""
    warnings: list[Diagnostic] = list(key_diags)
    for fmt, name in REFERENCE_OUTPUTS:
        out = write(result.records, fmt, options)
        # Key and crossref messages repeat for every format: show them once;
        # truncated author lists are summed up in one note below.
        warnings.extend(d for d in out.diagnostics if d not in warnings and d.code != TRUNCATED)
        path = os.path.join(output_dir, name)
        write_atomic(path, out.text)
        built.written.append(path)
        bib_text = out.text if fmt == "bibtex" else bib_text
    emit_all(emit, warnings)
    failing_links = 0
    if links:
        from .links import DEFAULT_FAIL_ON, render_json, render_markdown
        from .pages import code_status_from_report

        report = check_links(result.records, network, progress)
        texts = (render_markdown(report), render_json(report))
        for name, text in zip(LINK_OUTPUTS, texts, strict=True):
            path = os.path.join(output_dir, name)
            write_atomic(path, text)
            built.written.append(path)
        failing_links = len(report.failing(DEFAULT_FAIL_ON))
        emit(Note(f"Links: {report.summary()}"))
        # The page shows each code link's status as the report found it.
        code_status = {**code_status, **code_status_from_report(report)}
    # Named by file name and line only: the page is published, local paths are not.
    unread = [
        f"{os.path.basename(d.file)}:{d.line}: {d.message}" if d.line else d.message
        for d in result.diagnostics
        if d.level.value == "error"
    ]
    page_options = page_extras(
        page_options,
        result.records,
        bib_text,
        as_of or dt.date.today(),
        reasons,
        code_status,
        unread,
    )
    built.written.extend(publication_pages(result.records, output_dir, page_options, emit))
    if site:
        built.written.extend(
            site_files(site, result.records, bib_text, output_dir, inputs, force, emit)
        )
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


# --------------------------------------------------------------------------
# verify


@dataclass(slots=True)
class Verified:
    result: ConvertResult
    verdicts: list[Any]
    report: Any  # bibtools.verify_report.Report


def verify(
    inputs: Sequence[str],
    sources: Sequence[str],
    network: Network,
    *,
    tex_files: Sequence[str] = (),
    fix_output: str | None = None,
    from_format: str | None = None,
    emit: Emit = _ignore,
) -> Verified:
    """One verdict per record (see :mod:`bibtools.verify`), the ``--tex`` audit,
    and (``fix_output``) a corrected BibTeX file backed by id-confirmed matches."""
    from .citations import audit, cited_keys
    from .files import read_input
    from .http import total
    from .sources.base import check_api_urls
    from .verify import judge, matched_works, suggest
    from .verify_fetch import Clients, gather, search_for
    from .verify_fix import fix, splice
    from .verify_report import Report

    check_api_urls(sources, os.environ)  # a bad URL is a usage error before any request
    result = read(inputs, from_format, emit=emit)
    if not result.records:
        raise UsageError("no records to verify")
    emit_all(emit, assign_keys(result.records))
    citations = [cited_keys(read_input(path)[0]) for path in tex_files]
    with network.client() as http:
        before = http.snapshot()
        clients = Clients.from_env(http, tuple(sources))
        evidence = gather(result.records, clients)
        verdicts = [judge(r, e) for r, e in zip(result.records, evidence, strict=True)]
        wrong = [i for i, v in enumerate(verdicts) if v.verdict == "wrong-id"]
        for i, works in search_for(result.records, wrong, clients).items():
            suggest(result.records[i], verdicts[i], works)
        stats, start = total(dict(http.stats)), total(before)
    report = Report(
        verdicts,
        requests=stats.sent - start.sent,
        from_cache=stats.from_cache - start.from_cache,
        audit=audit(citations, result.records, matched_works(verdicts)) if tex_files else None,
    )
    if fix_output:
        fixed, changes = fix(result.records, verdicts)
        text = None
        if len(inputs) == 1 and inputs[0] != "-" and result.formats[0] == "bibtex":
            # Only the corrected entries are rewritten; the rest of the file stays byte for byte.
            original, encoding = read_input(inputs[0])
            replacements = {
                (new.origin_line, new.key): write([new], "bibtex", WriteOptions()).text
                for old, new in zip(result.records, fixed, strict=True)
                if new is not old
            }
            text = splice(original, replacements)
            if text is not None and encoding.lower() not in ("utf-8", "utf-8-sig", "ascii"):
                text = None  # a legacy encoding: the writer below says what it does
        if text is None:
            text = write(
                fixed, "bibtex", WriteOptions(blocks=result.blocks, files=result.files)
            ).text
        write_atomic(fix_output, text)
        report.changes, report.fixed_file = changes, fix_output
    return Verified(result, verdicts, report)


# --------------------------------------------------------------------------
# add


@dataclass(slots=True)
class Added:
    result: Any  # bibtools.add.AddResult
    appended: bool = False  # the entries were appended to the target file


def add(
    items: Sequence[tuple[str, str]],
    network: Network,
    *,
    target: str | None = None,
    dialect: str | None = None,
    key_style: str = "auto",
    ascii_only: bool = False,
    dry_run: bool = False,
    emit: Emit = _ignore,
) -> Added:
    """Records for ``items`` ((where, identifier or pasted reference) pairs), appended
    to ``target`` unless ``dry_run``: its bytes stay as they were, and nothing is
    written when a lookup failed or the file changed while the services answered."""
    from .add import Clients, Target, append_to, needs_ascii, parse_inputs, read_target
    from .add import add as add_records
    from .files import decode, read_bytes

    requests = parse_inputs(items)
    if not requests:
        raise UsageError("no identifier or reference given")
    original, encoding, found = b"", "utf-8", Target()
    if target and os.path.exists(target):
        original = read_bytes(target)
        text, encoding = decode(original, target)
        found = read_target(text, os.path.basename(target))
    with network.client() as http:
        clients = Clients(http, os.environ)
        clients.check(requests)  # a bad BIBTOOLS_*_API URL: a usage error before any request
        result = add_records(
            requests,
            clients,
            found,
            dialect=dialect,
            key_style=key_style,
            ascii_only=ascii_only or needs_ascii(encoding),
        )
        for warning in http.warnings:
            emit(Note(f"bibtools: warning: {warning}"))
    added = Added(result)
    if result.failed or dry_run or not target or not result.text:
        return added
    if (read_bytes(target) if os.path.exists(target) else b"") != original:
        # Someone saved the file while we asked the services: appending to
        # what we read would throw their change away.
        raise UsageError(f"{target}: changed while bibtools add ran; nothing written")
    write_atomic(target, append_to(original, encoding, result.text))
    added.appended = True
    return added
