"""The ``bibtools`` command line.

Thin by design: arguments in, a library call, output and an exit status out.
Exit status: 0 all fine; 1 finished, but some records had problems (named
on stderr); 2 usage error, unreadable input, no usable record, or an output
that cannot be written; 3 internal error (a bug).  _outcome maps errors to them.
Heavy modules are imported inside the commands, so ``bibtools --version``
stays fast.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import __version__
from .diagnostics import TRUNCATED

if TYPE_CHECKING:
    from .convert import ConvertResult
    from .diagnostics import Diagnostic

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])
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


def _parse_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD") from None


def _report(diagnostics: Sequence[Diagnostic], quiet: bool = False) -> None:
    for d in diagnostics:
        if quiet and d.level.value == "warning":
            continue
        click.echo(str(d), err=True)


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"bibtools: error: {message}", err=True)
    sys.exit(code)


def _outcome(exc: BaseException) -> tuple[str, int]:
    """The one-line message and the exit status for an error that ends a command.

    The one place where errors become exit statuses: what the user or the
    world did wrong (bad arguments, unreadable input, an output that cannot be
    written, a full disk) is 2; only our own bugs are 3.
    """
    from .diagnostics import BibtoolsError

    if isinstance(exc, BibtoolsError):
        return str(exc), exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", 130
    if isinstance(exc, OSError):  # the file system or a device refused: not a bug of ours
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}", EXIT_USAGE
    if isinstance(exc, MemoryError):
        return "out of memory (the input is too large for this machine)", EXIT_USAGE
    return (
        f"internal error: {type(exc).__name__}: {exc} "
        "(a bug in bibtools; set BIBTOOLS_DEBUG=1 for the traceback)",
        EXIT_INTERNAL,
    )


def _flush_stdout(data: str | bytes = "") -> None:
    """Write ``data`` to standard output and flush it, here, where a full disk can still
    be reported in one line (not at exit, where Python would print a traceback)."""
    from .files import OutputError

    try:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        elif data:
            sys.stdout.write(data)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"<stdout>: cannot write ({exc.strerror or exc})") from None


class _Group(click.Group):
    """Turns every error into one line on stderr and a documented exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            finally:
                _flush_stdout()
        except BrokenPipeError:
            # The reader of our stdout went away (| head): not an error of ours.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_OK)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            message, code = _outcome(exc)
            if code == EXIT_INTERNAL and os.environ.get("BIBTOOLS_DEBUG"):
                raise
            _fail(message, code)


def _guard_outputs(
    outputs: Sequence[str | None],
    inputs: Sequence[str | None],
    force: bool = False,
    hint: str = " (use --force)",
) -> None:
    """Every file a command writes passes here before anything is read or written.

    An output that is also an input is refused unless ``force`` (--force);
    two outputs that are one file are always refused (one would overwrite
    the other).  Files are compared after resolving links, and by inode.
    """
    from .diagnostics import UsageError
    from .files import same_file

    wanted = [o for o in outputs if o and o != "-"]
    for i, out in enumerate(wanted):
        for other in wanted[:i]:
            if same_file(out, other):
                both = out if out == other else f"{other} and {out}"
                raise UsageError(f"{both}: one file for two outputs; one would replace the other")
        if force:
            continue
        for path in inputs:
            if path and path != "-" and same_file(out, path):
                raise UsageError(f"{out}: is also an input; refusing to overwrite it{hint}")


def _require_entries(formatted: Any) -> None:
    """The style could format none of the records: no empty page over an existing one."""
    from .diagnostics import InputError

    if not formatted.entries and formatted.diagnostics.errors:
        raise InputError("no record could be formatted (see above); nothing written")


def _require_records(result: ConvertResult, quiet: bool) -> None:
    """Nothing survived the reading: say why and write nothing (an existing output stays)."""
    from .diagnostics import InputError

    if result.records or not result.skipped:
        return
    _report(result.diagnostics, quiet)
    raise InputError(
        f"no record could be read ({result.skipped} skipped, see above); nothing written"
    )


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="bibtools")
def main() -> None:
    """Convert, enrich and format bibliographies.

    Reads publication listings, BibTeX/BibLaTeX, RIS and CSL-JSON; writes
    BibTeX, RIS and CSL-JSON.

    Exit status: 0 all fine, 1 finished but some records had problems,
    2 usage error, unreadable input or an output that cannot be written.
    """


def _read_options(func: F) -> F:
    func = click.option(
        "--as-of",
        metavar="DATE",
        callback=_parse_date,
        help="Reference date (YYYY-MM-DD) for listing dates without a year [default: today].",
    )(func)
    func = click.option(
        "-f",
        "--from",
        "from_format",
        metavar="FORMAT",
        help="Input format (listing, bibtex, ris, csljson) [default: from extension or content].",
    )(func)
    return func


def _write_options(func: F) -> F:
    func = click.option(
        "--rekey", is_flag=True, help="Generate new citation keys even where the input has them."
    )(func)
    func = click.option(
        "--dialect",
        type=click.Choice(["bibtex", "biblatex"]),
        default=None,
        help="Map every entry to this BibTeX flavour (biblatex: date, journaltitle, "
        "eprinttype...; bibtex: year, journal, archiveprefix...). [default: each BibTeX "
        "entry keeps its own; bibtex for other inputs]",
    )(func)
    func = click.option(
        "--ascii",
        "ascii_only",
        is_flag=True,
        help="BibTeX: write LaTeX accent commands, not UTF-8.",
    )(func)
    return func


def _output_options(to_help: str) -> Callable[[F], F]:
    """-t/--to, -o/--output and --force, shared by the commands that write records."""

    def decorate(func: F) -> F:
        func = click.option(
            "--force", is_flag=True, help="Allow the output to overwrite one of the inputs."
        )(func)
        func = click.option(
            "-o",
            "--output",
            metavar="PATH",
            help="Write here (atomically) instead of standard output.",
        )(func)
        return click.option(
            "-t", "--to", "to_format", metavar="FORMAT", help="Output format" + to_help
        )(func)

    return decorate


def _publications(records: list[Any], output_dir: str, base: Any, quiet: bool) -> list[str]:
    """publications.md and publications.html (a standalone page), grouped by year."""
    from dataclasses import replace

    from .files import write_atomic
    from .pages import format_records

    written = []
    for name, output, standalone in PAGE_OUTPUTS:
        options = replace(
            base, output=output, standalone=standalone, group_by="year", sort="date-desc"
        )
        formatted = format_records(records, options)
        if name.endswith(".md"):
            _report([d for d in formatted.diagnostics if d.code != TRUNCATED], quiet)
        _require_entries(formatted)
        path = os.path.join(output_dir, name)
        write_atomic(path, formatted.text)
        written.append(path)
    return written


def _dedupe(result: ConvertResult, quiet: bool) -> None:
    """Merge duplicate records in place (--dedupe), reporting what merged."""
    from .dedupe import merge

    merged = merge(result.records)
    _report(merged.diagnostics, quiet)
    result.records = merged.records
    if not quiet:
        click.echo(merged.summary(), err=True)


def _summarise_truncated(records: Sequence[Any]) -> str | None:
    truncated = [r.key for r in records if r.authors_truncated]
    if not truncated:
        return None
    shown = ", ".join(truncated[:20]) + (
        f" and {len(truncated) - 20} more" if len(truncated) > 20 else ""
    )
    return f"{len(truncated)} records have truncated author lists ({shown}): run bibtools enrich"


@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@_output_options(": bibtex, ris, csljson [default: from -o].")
@click.option("--strict", is_flag=True, help="Write nothing if any record is bad.")
@click.option("--dedupe", is_flag=True, help="Merge duplicate entries (see merge).")
@click.option("-q", "--quiet", is_flag=True, help="Show errors only, no warnings.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Processes for large inputs [default: the machine's cores; 1: this one only].",
)
@_read_options
@_write_options
def convert(
    inputs: tuple[str, ...],
    to_format: str | None,
    output: str | None,
    strict: bool,
    dedupe: bool,
    force: bool,
    quiet: bool,
    jobs: int | None,
    from_format: str | None,
    as_of: dt.date | None,
    ascii_only: bool,
    dialect: str | None,
    rekey: bool,
) -> None:
    """Convert INPUT files (``-`` for stdin) to one output.

    Several inputs are merged into one output, in order.  A bad record is
    skipped with a message ``FILE:LINE: ...`` and the rest is written (exit
    status 1); with --strict nothing is written.

    \b
    Examples:
      bibtools convert papers.txt -t bibtex -o refs.bib
      bibtools convert refs.bib -t csljson > refs.json
      cat export.ris | bibtools convert - -t bibtex --dialect biblatex
    """
    from .convert import output_format, read_inputs

    fmt = output_format(output, to_format)
    _guard_outputs([output], inputs, force)
    if not dedupe:  # record by record (docs/performance.md); None: the whole-file way
        from .formats import WriteOptions
        from .stream import run

        options = WriteOptions(ascii=ascii_only, dialect=dialect or "")
        streamed = run(list(inputs), from_format, fmt, output, jobs=jobs, options=options, rekey=rekey)
        if streamed is not None:
            sys.exit(_finish_streamed(streamed, strict, quiet))
    result = read_inputs(list(inputs), from_format, as_of=as_of)
    _require_records(result, quiet)
    if dedupe:
        _report(result.diagnostics, quiet)
        result.diagnostics.clear()
        _dedupe(result, quiet)
    code = _write(
        result,
        fmt,
        output,
        strict=strict,
        quiet=quiet,
        ascii_only=ascii_only,
        dialect=dialect,
        rekey=rekey,
    )
    sys.exit(code)


def _finish_streamed(streamed: Any, strict: bool, quiet: bool) -> int:
    """What _require_records and _write do, for a conversion bibtools.stream wrote."""
    from .diagnostics import InputError, StrictModeError

    try:
        _report(streamed.read_diagnostics, quiet)
        if not streamed.written and streamed.skipped:
            raise InputError(
                f"no record could be read ({streamed.skipped} skipped, see above); nothing written"
            )
        if strict and streamed.skipped:
            raise StrictModeError(f"{streamed.skipped} bad record(s); nothing written (--strict)")
        _report(streamed.write_diagnostics, quiet)
        streamed.commit()
    finally:
        streamed.discard()
    return EXIT_PROBLEMS if streamed.skipped or streamed.write_diagnostics.errors else EXIT_OK


def _write(
    result: ConvertResult,
    fmt: str,
    output: str | None,
    *,
    strict: bool,
    quiet: bool,
    ascii_only: bool,
    dialect: str | None,
    rekey: bool,
) -> int:
    from .convert import write
    from .diagnostics import StrictModeError
    from .files import write_atomic
    from .formats import WriteOptions

    _report(result.diagnostics, quiet)
    if strict and result.skipped:
        raise StrictModeError(f"{result.skipped} bad record(s); nothing written (--strict)")
    options = WriteOptions(
        ascii=ascii_only, dialect=dialect or "", blocks=result.blocks, files=result.files
    )
    written = write(result.records, fmt, options, rekey=rekey)
    _report(written.diagnostics, quiet)
    data = _encoded_output(result, fmt, written.text, quiet)
    if output:
        write_atomic(output, data)
    else:
        _flush_stdout(data)
    return EXIT_PROBLEMS if result.skipped or written.diagnostics.errors else EXIT_OK


def _encoded_output(result: ConvertResult, fmt: str, text: str, quiet: bool) -> bytes:
    """UTF-8, except BibTeX from BibTeX inputs that share a legacy encoding: that one.

    bibtex reads bytes, so a Latin-1 file written back as UTF-8 would print
    differently under the document's ``inputenc``; ``--ascii`` avoids the question.
    """
    legacy = result.legacy_encoding() if fmt == "bibtex" else None
    if legacy:
        try:
            data = text.encode(legacy)
        except UnicodeEncodeError as exc:
            if not quiet:
                click.echo(
                    f"bibtools: warning: the output has characters {legacy} cannot hold "
                    f"({text[exc.start:exc.end]!r}); written as UTF-8 instead of the "
                    f"inputs' {legacy} (or use --ascii)",
                    err=True,
                )
        else:
            if not quiet:
                click.echo(f"bibtools: note: written in {legacy}, as the inputs were", err=True)
            return data
    return text.encode("utf-8")


def _network_options(func: F) -> F:
    func = click.option(
        "--cache-dir",
        metavar="DIR",
        help="HTTP cache directory [default: $BIBTOOLS_CACHE_DIR or the user cache dir].",
    )(func)
    func = click.option(
        "--refresh", is_flag=True, help="Ignore cached answers (they are still updated)."
    )(func)
    func = click.option(
        "--offline", is_flag=True, help="Answer from the cache only; make no request."
    )(func)
    func = click.option(
        "--insecure",
        is_flag=True,
        help="Do not check TLS certificates (a proxy that intercepts HTTPS); said on stderr. "
        "Same as BIBTOOLS_INSECURE=1.",
    )(func)
    return func


def _progress(quiet: bool) -> tuple[Callable[[int, int, str], None] | None, Callable[[], None]]:
    """A rich progress bar on stderr when it is a terminal; (update, stop)."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("enriching", total=None)
    bar.start()

    def update(done: int, total: int, description: str) -> None:
        bar.update(task, completed=done, total=total, description=description)

    return update, bar.stop


def _run_enrich(
    records: list[Any],
    sources: str,
    *,
    offline: bool,
    refresh: bool,
    insecure: bool,
    cache_dir: str | None,
    quiet: bool,
) -> Any:
    from .diagnostics import UsageError
    from .enrich import enrich
    from .http import HttpClient
    from .sources.base import check_api_urls

    if offline and refresh:
        raise UsageError("--offline and --refresh exclude each other")
    wanted = tuple(s.strip() for s in sources.split(",") if s.strip())
    check_api_urls(wanted, os.environ)  # a bad BIBTOOLS_*_API is exit 2 before any request
    update, stop = _progress(quiet)
    with HttpClient.from_env(
        cache_dir=cache_dir, offline=offline, refresh=refresh, insecure=insecure or None
    ) as http:
        try:
            result = enrich(records, http=http, sources=wanted, progress=update)
        finally:
            stop()
    return result


def _print_changes(changes: Sequence[Any]) -> None:
    for change in changes:
        verb = "would set" if change.applied else "kept (source differs)"
        note = f" [{change.note}]" if change.note else ""
        click.echo(
            f"{change.record_key}: {change.field}: {verb}: {change.old!r} -> {change.new!r} ({change.source}){note}"
        )


@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@_output_options(" [default: from -o, else the input's].")
@click.option(
    "--sources",
    default="arxiv",
    show_default=True,
    metavar="LIST",
    help="Comma-separated: arxiv, github, published.",
)
@click.option("--dry-run", is_flag=True, help="Print the changes per record; write no records.")
@click.option(
    "--report",
    metavar="FILE.json",
    help="Write every change (record, field, old, new, source) as JSON.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no warnings.")
@_network_options
@_read_options
@_write_options
def enrich(
    inputs: tuple[str, ...],
    to_format: str | None,
    output: str | None,
    sources: str,
    dry_run: bool,
    report: str | None,
    force: bool,
    quiet: bool,
    offline: bool,
    refresh: bool,
    insecure: bool,
    cache_dir: str | None,
    from_format: str | None,
    as_of: dt.date | None,
    ascii_only: bool,
    dialect: str | None,
    rekey: bool,
) -> None:
    """Complete INPUT records: full author lists, arXiv ids, DOIs, code links, venues.

    Records with an arXiv id are looked up 100 to a request; the others by
    exact title, accepted only when an author's family name matches too.
    A value the input already has is never replaced: the change is reported
    instead (--dry-run, --report).  Requests are cached (24 h for arXiv);
    a second run over the same input makes none.

    Sources: arxiv (authors, ids, DOI, categories), github (stars, licence,
    moved repositories; see links), published (the version of record of a
    preprint, from the arXiv journal reference, Semantic Scholar, DBLP and
    Crossref; applied only when title and authors agree).

    \b
    Environment: BIBTOOLS_ARXIV_API, BIBTOOLS_ARXIV_DELAY (seconds between
    requests, at least 3 for arxiv.org), BIBTOOLS_GITHUB_API, GITHUB_TOKEN,
    BIBTOOLS_S2_API, S2_API_KEY, BIBTOOLS_DBLP_API, BIBTOOLS_CROSSREF_API,
    BIBTOOLS_CONTACT_EMAIL (Crossref's polite pool), BIBTOOLS_CACHE_DIR.

    Exit status 1 when some records could not be enriched (named on stderr).
    """
    import json

    from .convert import output_format, read_inputs
    from .files import write_atomic
    from .text.keys import assign_keys

    _guard_outputs([None if dry_run else output, report], inputs, force)
    result = read_inputs(list(inputs), from_format, as_of=as_of)
    if not to_format and not output:
        first = result.sources[0].rsplit("(", 1)[-1].rstrip(")")
        to_format = first if first != "listing" else "bibtex"
    fmt = output_format(output, to_format)
    _require_records(result, quiet)
    _report(result.diagnostics, quiet)
    key_diags = assign_keys(result.records, rekey=rekey)
    _report(key_diags, quiet)
    enriched = _run_enrich(
        result.records,
        sources,
        offline=offline,
        refresh=refresh,
        insecure=insecure,
        cache_dir=cache_dir,
        quiet=quiet,
    )
    if report:
        write_atomic(report, json.dumps(enriched.to_json(), indent=2, ensure_ascii=False) + "\n")
    for d in enriched.diagnostics:
        click.echo(str(d), err=True)
    if dry_run:
        _print_changes(enriched.changes)
    else:
        result.records = enriched.records
        _write(
            result,
            fmt,
            output,
            strict=False,
            quiet=quiet,
            ascii_only=ascii_only,
            dialect=dialect,
            rekey=False,
        )
    click.echo(enriched.summary(), err=True)
    problems = result.skipped or enriched.not_enriched
    sys.exit(EXIT_PROBLEMS if problems else EXIT_OK)


def _check_links(
    records: list[Any],
    *,
    offline: bool,
    refresh: bool,
    insecure: bool = False,
    cache_dir: str | None,
    quiet: bool,
) -> Any:
    from .diagnostics import UsageError
    from .http import HttpClient
    from .links import check_links

    if offline and refresh:
        raise UsageError("--offline and --refresh exclude each other")
    update, stop = _progress(quiet)
    with HttpClient.from_env(
        cache_dir=cache_dir, offline=offline, refresh=refresh, insecure=insecure or None
    ) as http:
        try:
            return check_links(records, http=http, progress=update)
        finally:
            stop()


@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["table", "markdown", "json"]),
    help="Report format [default: table on a terminal, else from -o, else markdown].",
)
@click.option("-o", "--output", metavar="PATH", help="Write the report here (atomically).")
@click.option("--force", is_flag=True, help="Allow the report to overwrite one of the inputs.")
@click.option(
    "--fail-on",
    metavar="STATUSES",
    help="Comma-separated statuses that make the exit status 1, or 'none' "
    "[default: missing,blocked,disabled,unreachable].",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no warnings.")
@_network_options
@_read_options
def links(
    inputs: tuple[str, ...],
    report_format: str | None,
    output: str | None,
    force: bool,
    fail_on: str | None,
    quiet: bool,
    offline: bool,
    refresh: bool,
    insecure: bool,
    cache_dir: str | None,
    from_format: str | None,
    as_of: dt.date | None,
) -> None:
    """Check the code and other links in INPUT records.

    Finds links in code fields, URLs, notes, abstracts and arXiv comments
    and checks each repository or page once, however many records cite it.
    GitHub repositories go through the GitHub API (60 requests an hour
    without GITHUB_TOKEN, then a look at the web page; with a token, 50
    repositories per GraphQL query); other links get HEAD, then GET. Each
    link gets a status: live, moved, archived, disabled, missing, blocked,
    unreachable, rate-limited, not-checked (offline, not in the cache), or
    announced-no-link (the source announced code but gave no link).

    \b
    Environment: BIBTOOLS_GITHUB_API, BIBTOOLS_GITHUB_WEB, GITHUB_TOKEN,
    BIBTOOLS_CACHE_DIR.

    Exit status 1 when a link has a failing status (see --fail-on).
    """
    from .convert import read_inputs
    from .diagnostics import UsageError
    from .files import write_atomic
    from .links import DEFAULT_FAIL_ON, exit_status, parse_fail_on, render_json, render_markdown
    from .text.keys import assign_keys

    statuses = parse_fail_on(fail_on) if fail_on else DEFAULT_FAIL_ON
    fmt = report_format
    if fmt is None:
        if output:
            fmt = "json" if output.lower().endswith(".json") else "markdown"
        else:
            fmt = "table" if sys.stdout.isatty() else "markdown"
    if fmt == "table" and output:
        raise UsageError("--format table is for the terminal; use markdown or json with -o")
    _guard_outputs([output], inputs, force)
    result = read_inputs(list(inputs), from_format, as_of=as_of)
    _require_records(result, quiet)
    _report(result.diagnostics, quiet)
    _report(assign_keys(result.records), quiet)
    report = _check_links(
        result.records,
        offline=offline,
        refresh=refresh,
        insecure=insecure,
        cache_dir=cache_dir,
        quiet=quiet,
    )
    if fmt == "table":
        from rich.console import Console

        from .links import render_table

        Console().print(render_table(report))
    else:
        text = render_json(report) if fmt == "json" else render_markdown(report)
        if output:
            write_atomic(output, text)
        else:
            _flush_stdout(text)
    click.echo(report.summary(), err=True)
    sys.exit(max(exit_status(report, statuses), EXIT_PROBLEMS if result.skipped else EXIT_OK))


@main.command()
@click.argument("inputs", nargs=-1, metavar="[INPUT...]")
@click.option(
    "-o",
    "--output-dir",
    default="output",
    show_default=True,
    metavar="DIR",
    help="Directory for references.bib, references.ris and references.json.",
)
@click.option("-q", "--quiet", is_flag=True, help="Show errors only, no warnings.")
@click.option(
    "--enrich",
    "do_enrich",
    is_flag=True,
    help="Complete the records from arXiv first (see enrich).",
)
@click.option("--check-links", is_flag=True, help="Also write links.md and links.json (see links).")
@click.option("--style", help="Style of publications.md/.html [default: bibtools.toml, else apa].")
@click.option("--dedupe", is_flag=True, help="Merge duplicate entries (see merge).")
@click.option("--force", is_flag=True, help="Allow an output to overwrite one of the inputs.")
@_network_options
@_read_options
@_write_options
def build(
    inputs: tuple[str, ...],
    output_dir: str,
    quiet: bool,
    force: bool,
    do_enrich: bool,
    check_links: bool,
    style: str | None,
    dedupe: bool,
    offline: bool,
    refresh: bool,
    insecure: bool,
    cache_dir: str | None,
    from_format: str | None,
    as_of: dt.date | None,
    ascii_only: bool,
    dialect: str | None,
    rekey: bool,
) -> None:
    """Build the reference files from INPUT (default: the bundled example).

    Writes DIR/references.bib, DIR/references.ris and DIR/references.json
    and prints a short summary.
    """
    from importlib.resources import as_file, files

    from .convert import read_inputs, write
    from .files import write_atomic
    from .formats import WriteOptions

    names = list(BUILD_OUTPUTS) + (list(LINK_OUTPUTS) if check_links else [])
    page_options = _format_options(style=style)
    _guard_outputs(
        [os.path.join(output_dir, name) for name in names],
        [*inputs, page_options.template],
        force,
    )
    with as_file(files("bibtools") / "data" / EXAMPLE) as example:
        paths = list(inputs) or [str(example)]
        result = read_inputs(paths, from_format, as_of=as_of)
    _require_records(result, quiet)
    _report(result.diagnostics, quiet)
    if dedupe:
        _dedupe(result, quiet)
    not_enriched = 0
    from .text.keys import assign_keys

    # One set of keys for the three files, the pages and the link report.
    key_diags = assign_keys(result.records, rekey=rekey)
    rekey = False
    if do_enrich:
        _report(key_diags, quiet)
        key_diags.clear()
        enriched = _run_enrich(
            result.records,
            "arxiv",
            offline=offline,
            refresh=refresh,
            insecure=insecure,
            cache_dir=cache_dir,
            quiet=quiet,
        )
        _report(enriched.diagnostics, quiet=False)
        result.records = enriched.records
        not_enriched = len(enriched.not_enriched)
        click.echo(f"Enrichment: {enriched.summary()}.", err=True)
    options = WriteOptions(
        ascii=ascii_only, dialect=dialect or "", blocks=result.blocks, files=result.files
    )
    written_files = []
    warnings: list[Diagnostic] = list(key_diags)
    for fmt, name in REFERENCE_OUTPUTS:
        out = write(result.records, fmt, options, rekey=rekey)
        # Key and crossref messages repeat for every format: show them once;
        # truncated author lists are summed up in one note below.
        warnings.extend(d for d in out.diagnostics if d not in warnings and d.code != TRUNCATED)
        path = os.path.join(output_dir, name)
        write_atomic(path, out.text)
        written_files.append(path)
    _report(warnings, quiet)
    written_files.extend(_publications(result.records, output_dir, page_options, quiet))
    failing_links = 0
    if check_links:
        from .links import DEFAULT_FAIL_ON, render_json, render_markdown

        report = _check_links(
            result.records,
            offline=offline,
            refresh=refresh,
            insecure=insecure,
            cache_dir=cache_dir,
            quiet=quiet,
        )
        texts = (render_markdown(report), render_json(report))
        for name, text in zip(LINK_OUTPUTS, texts, strict=True):
            path = os.path.join(output_dir, name)
            write_atomic(path, text)
            written_files.append(path)
        failing_links = len(report.failing(DEFAULT_FAIL_ON))
        click.echo(f"Links: {report.summary()}", err=True)
    sources = ", ".join(result.sources) if inputs else f"the bundled example ({EXAMPLE})"
    click.echo(
        f"Read {result.detected} records from {sources}; {len(result.records)} written.", err=True
    )
    click.echo(f"Wrote {', '.join(written_files)}.", err=True)
    hint = _summarise_truncated(result.records)
    if hint and not quiet:
        click.echo(
            f"Note: {hint}. BibTeX marks them with 'and others', RIS and CSL-JSON with a last "
            "author 'others'.",
            err=True,
        )
    if result.skipped:
        click.echo(f"{result.skipped} record(s) skipped: see the messages above.", err=True)
    sys.exit(EXIT_PROBLEMS if result.skipped or not_enriched or failing_links else EXIT_OK)


@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@_output_options(" [default: from -o, else bibtex].")
@click.option(
    "--key-map", metavar="FILE.json", help="Write the old -> new citation keys of merged entries."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print each group of duplicates, why it was formed and the merged fields; write nothing.",
)
@click.option(
    "--keep-apart",
    metavar="KEY1,KEY2[,...]",
    multiple=True,
    help="Never merge the entries with these keys with each other (repeatable).",
)
@click.option("-q", "--quiet", is_flag=True, help="Show errors only, no warnings.")
@_read_options
@_write_options
def merge(
    inputs: tuple[str, ...],
    to_format: str | None,
    output: str | None,
    key_map: str | None,
    dry_run: bool,
    keep_apart: tuple[str, ...],
    force: bool,
    quiet: bool,
    from_format: str | None,
    as_of: dt.date | None,
    ascii_only: bool,
    dialect: str | None,
    rekey: bool,
) -> None:
    """Merge INPUT files into one bibliography, one entry per paper.

    Duplicates are identical entries (the same type and fields, whatever the
    key), or share a DOI, an arXiv id (any version), or a title AND an
    author AND years at most one apart; never a title alone.  A merged entry
    keeps the union of the fields, the published version's venue, pages and
    DOI, the arXiv fields, the most complete author list, and the first
    input's key, written as that input wrote it.  Identical @string,
    @preamble and @comment blocks are written once.  --key-map records every
    key that went away, for `bibtools rekey`; a key that named different
    entries in two inputs is renamed in the second and mapped for it only.
    Merging a file with a copy of itself changes nothing.

    \b
    Examples:
      bibtools merge thesis.bib coauthor.bib -o all.bib --key-map keys.json
      bibtools merge refs.bib --dry-run
      bibtools merge a.bib b.bib --keep-apart smith2020a,smith2020b -o all.bib
    """
    from .convert import output_format, read_inputs
    from .dedupe import describe
    from .dedupe import merge as merge_records
    from .files import write_atomic

    fmt = output_format(output, to_format or (None if output else "bibtex"))
    _guard_outputs([None if dry_run else output, None if dry_run else key_map], inputs, force)
    result = read_inputs(list(inputs), from_format, as_of=as_of)
    _require_records(result, quiet)
    _report(result.diagnostics, quiet)
    apart = [[k.strip() for k in group.split(",") if k.strip()] for group in keep_apart]
    if any(len(group) < 2 for group in apart):
        raise click.BadParameter("give two or more keys, separated by commas", param_hint="--keep-apart")
    merged = merge_records(result.records, keep_apart=apart)
    _report(merged.diagnostics, quiet)
    if dry_run:
        click.echo(describe(merged))
    else:
        result.records = merged.records
        _write(
            result,
            fmt,
            output,
            strict=False,
            quiet=quiet,
            ascii_only=ascii_only,
            dialect=dialect,
            rekey=rekey,
        )
        if key_map:
            write_atomic(key_map, merged.key_map_json())
    click.echo(merged.summary(), err=True)
    sys.exit(EXIT_PROBLEMS if result.skipped else EXIT_OK)


@main.command(name="rekey")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--map",
    "map_path",
    required=True,
    metavar="FILE.json",
    help="The key map `bibtools merge --key-map` wrote.",
)
@click.option(
    "--bib",
    metavar="FILE.bib",
    help="The bibliography the FILEs cited before the merge: applies the map's entries "
    "for keys that named different entries in different inputs.",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--no-backup", is_flag=True, help="Do not keep FILE.bak.")
def rekey_command(
    files: tuple[str, ...], map_path: str, bib: str | None, dry_run: bool, no_backup: bool
) -> None:
    """Rewrite citation keys in LaTeX and Markdown FILEs from a key map.

    Rewrites the keys of \\cite-family commands in .tex files and pandoc's
    @key citations in .md files; a copy of each changed file is kept as
    FILE.bak unless --no-backup.  Applying a map twice changes nothing.

    \b
    Examples:
      bibtools merge thesis.bib coauthor.bib -o all.bib --key-map keys.json
      bibtools rekey --map keys.json thesis.tex
      bibtools rekey --map keys.json --bib coauthor.bib chapter3.tex
    """
    from .diagnostics import InputError
    from .files import read_input
    from .rekey import load_key_map, rekey_file

    # The FILEs are rewritten by design; the key map and --bib must not be among them.
    _guard_outputs([] if dry_run else list(files), [map_path, bib], hint="")
    text, _encoding = read_input(map_path)
    try:
        key_map = load_key_map(text, map_path, bib)
    except RecursionError:
        raise InputError(f"{map_path}: not a key map (nested too deeply)") from None
    for path in files:
        done = rekey_file(path, key_map, dry_run=dry_run, backup=not no_backup)
        for replacement in done.replacements:
            click.echo(str(replacement))
        click.echo(done.summary(), err=True)


@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--fix", is_flag=True, help="Apply the safe fixes to BibTeX inputs, in place, and report each."
)
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--ignore", metavar="CODES", help="Comma-separated check codes to skip.")
@click.option(
    "--select", metavar="CODES", help="Comma-separated check codes to run (default: all)."
)
@click.option(
    "-f", "--from", "from_format", metavar="FORMAT", help="Input format [default: detected]."
)
def lint(
    inputs: tuple[str, ...],
    fix: bool,
    report_format: str,
    ignore: str | None,
    select: str | None,
    from_format: str | None,
) -> None:
    """Check INPUT bibliographies for problems that break a build or a citation.

    Unprotected acronyms, unescaped & % # _, truncated author lists,
    preprints with a published version, missing DOIs and required fields,
    duplicate keys and entries, inconsistent venues, malformed pages, dates
    and DOIs. --fix applies only fixes that keep the meaning (brace an
    acronym, escape a character, normalise a page range or a DOI) and
    leaves layout and comments alone.

    Exit status 1 when an error-level problem remains (for CI and pre-commit).
    """
    from .files import write_atomic
    from .lint import Source, render_json, render_text
    from .lint import lint as run_lint

    sources = [Source.from_file(path, from_format) for path in inputs]
    codes = {c.strip() for c in (ignore or "").split(",") if c.strip()}
    chosen = {c.strip() for c in select.split(",") if c.strip()} if select else None
    result = run_lint(sources, fix=fix, select=chosen, ignore=codes)
    for source in sources:
        if source.name in result.fixed:
            if source.encoding not in ("utf-8", "utf-8-sig", "ascii"):
                click.echo(
                    f"{source.name}: warning: written back as UTF-8 (read as {source.encoding})",
                    err=True,
                )
            write_atomic(source.name, result.fixed[source.name])
    click.echo(render_json(result) if report_format == "json" else render_text(result), nl=False)
    sys.exit(result.exit_code)


def _format_options(config_dir: str = ".", **flags: Any) -> Any:
    """Format options: defaults, then bibtools.toml / [tool.bibtools], then flags given."""
    from dataclasses import replace

    from .pages import FormatOptions, load_config, options_from_config

    config, source = load_config(config_dir)
    options = options_from_config(config, FormatOptions(), source) if config else FormatOptions()
    given = {k: v for k, v in flags.items() if v not in (None, ())}
    options = replace(options, **given)
    options.check()
    return options


@main.command(name="format")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--style",
    help="CSL style (apa, ieee, chicago-author-date, vancouver, nature, ...) or .csl file; "
    "or a BibTeX style: plain, unsrt, alpha, abbrv, one TeX has (plainnat, ieeetr, "
    "apalike, IEEEtran, ...) or a .bst file [default: apa].",
)
@click.option(
    "--engine",
    type=click.Choice(["pybtex", "bibtex"]),
    help="What runs a BibTeX style: pybtex's interpreter (pure Python) or the bibtex "
    "program [default: pybtex].",
)
@click.option(
    "-t",
    "--to",
    "output_format",
    type=click.Choice(["text", "markdown", "html", "latex"]),
    help="Output format [default: html].",
)
@click.option(
    "-o", "--output", metavar="PATH", help="Write here (atomically) instead of standard output."
)
@click.option("--force", is_flag=True, help="Allow the output to overwrite one of the inputs.")
@click.option(
    "--standalone", is_flag=True, default=None, help="A whole HTML page with search and filters."
)
@click.option(
    "--group-by", type=click.Choice(["year", "type", "none"]), help="Group entries [default: none]."
)
@click.option(
    "--sort",
    type=click.Choice(["style", "date-desc", "date-asc", "author", "title", "none"]),
    help="Order of entries [default: the style's].",
)
@click.option(
    "--numbering",
    type=click.Choice(["auto", "none", "overall", "group"]),
    help="Number entries [default: auto, as the style does].",
)
@click.option(
    "--highlight", multiple=True, metavar="NAME", help="Set this person in bold (repeatable)."
)
@click.option(
    "--links/--no-links",
    default=None,
    help="Badges: [arXiv] [PDF] [DOI] [Code ★ 1.2k] [default: on].",
)
@click.option(
    "--link-report",
    metavar="links.json",
    help="A `bibtools links` JSON report: code badges say moved/unavailable.",
)
@click.option("--template", metavar="FILE", help="A Jinja2 template instead of the default one.")
@click.option(
    "--locale", metavar="TAG", help="Locale of the style's terms and dates [default: en-US]."
)
@click.option("--title", metavar="TEXT", help="Title of a standalone page [default: Publications].")
@click.option("-q", "--quiet", is_flag=True, help="Show errors only, no warnings.")
@_read_options
def format_command(
    inputs: tuple[str, ...],
    style: str | None,
    engine: str | None,
    output_format: str | None,
    output: str | None,
    force: bool,
    standalone: bool | None,
    group_by: str | None,
    sort: str | None,
    numbering: str | None,
    highlight: tuple[str, ...],
    links: bool | None,
    link_report: str | None,
    template: str | None,
    locale: str | None,
    title: str | None,
    quiet: bool,
    from_format: str | None,
    as_of: dt.date | None,
) -> None:
    """Format INPUT records as a styled reference list or publication page.

    CSL styles go through pandoc's citeproc (bundled). A BibTeX style runs
    its real .bst over the records as `bibtools convert -t bibtex` writes
    them, so an entry reads as in a thesis built with bibtex: plain, unsrt,
    alpha and abbrv are bundled, other styles are found with kpsewhich when
    TeX is installed, and any .bst file can be given as a path. pybtex runs
    the style unless --engine bibtex asks for the bibtex program; the
    style's warnings are reported for each entry. (pybtex's Python versions
    of the classic styles remain as pybtex-plain, pybtex-unsrt, pybtex-alpha
    and pybtex-unsrtalpha.)

    Acronyms protected in titles stay as written, names given with
    --highlight are set in bold in whatever form the style prints them,
    and everything from the records is escaped for the output format (only
    http and https URLs become links); the LaTeX output of a BibTeX style is
    the style's own LaTeX. Defaults can be set in bibtools.toml or under
    [tool.bibtools] in pyproject.toml.

    \b
    Examples:
      bibtools format refs.bib --style ieee -t text
      bibtools format refs.bib --style plain -t html -o refs.html
      bibtools format refs.bib --style ~/styles/journal.bst --engine bibtex -t text
      bibtools format papers.txt -t html --standalone --group-by year \\
          --highlight "Qingyi Si" -o publications.html
    """
    import json

    from .convert import read_inputs
    from .files import read_input, write_atomic
    from .pages import code_status_from_report, format_records
    from .text.keys import assign_keys

    options = _format_options(
        style=style,
        engine=engine,
        output=output_format,
        standalone=standalone,
        group_by=group_by,
        sort=sort,
        numbering=numbering,
        highlight=list(highlight) or None,
        links=links,
        template=template,
        locale=locale,
        title=title,
    )
    _guard_outputs([output], [*inputs, link_report, options.template], force)
    if link_report:
        from .diagnostics import InputError

        text, _encoding = read_input(link_report)
        try:
            report = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{link_report}:{exc.lineno}: not a JSON link report ({exc.msg})"
            ) from None
        except RecursionError:
            raise InputError(f"{link_report}: not a JSON link report (nested too deeply)") from None
        options.code_status = code_status_from_report(report)
    result = read_inputs(list(inputs), from_format, as_of=as_of)
    _require_records(result, quiet)
    _report(result.diagnostics, quiet)
    _report(assign_keys(result.records), quiet)
    options.blocks = result.blocks
    formatted = format_records(result.records, options)
    _report(formatted.diagnostics, quiet)
    _require_entries(formatted)
    if output:
        write_atomic(output, formatted.text)
    else:
        _flush_stdout(formatted.text)
    problems = result.skipped or formatted.diagnostics.errors
    sys.exit(EXIT_PROBLEMS if problems else EXIT_OK)


if __name__ == "__main__":  # pragma: no cover
    main()
