"""What every command shares: its options (declared once), how messages are
shown, the output guard, and the exit statuses.

Exit status: 0 all fine; 1 finished, but some records had problems (named
on stderr); 2 usage error, unreadable input, no usable record, or an output
that cannot be written; 3 internal error (a bug).
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from ..app import Message, Network, Note, Progress, Shown
from ..diagnostics import Diagnostic, Level
from ..files import OutputError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])


def parse_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD") from None


# --------------------------------------------------------------------------
# Messages


def report(diagnostics: Sequence[Diagnostic], quiet: bool = False) -> None:
    for d in diagnostics:
        if quiet and d.level == Level.WARNING:
            continue
        click.echo(str(d), err=True)


def shower(quiet: bool) -> Callable[[Message], None]:
    """The ``emit`` of a pipeline: messages to stderr, warnings and hints kept back when quiet."""

    def show(message: Message) -> None:
        if isinstance(message, Note):
            if message.always or not quiet:
                click.echo(message.text, err=True)
        elif isinstance(message, Shown):
            click.echo(str(message.diagnostic), err=True)
        else:
            report([message], quiet)

    return show


def flush_stdout(data: str | bytes = "") -> None:
    """Write ``data`` to standard output and flush it, here, where a full disk can still
    be reported in one line (not at exit, where Python would print a traceback)."""
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


def progress_bar(quiet: bool) -> tuple[Progress | None, Callable[[], None]]:
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


# --------------------------------------------------------------------------
# Outputs


# --------------------------------------------------------------------------
# Options, declared once


def read_options(func: F) -> F:
    func = click.option(
        "--as-of",
        metavar="DATE",
        callback=parse_date,
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


def write_options(func: F) -> F:
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


def output_options(to_help: str) -> Callable[[F], F]:
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


def network_options(func: F) -> F:
    """--offline, --refresh, --insecure, --cache-dir: the command receives ``network: Network``."""

    def collect(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        ctx.meta.setdefault("bibtools.network", {})[param.name] = value
        return value

    options = [
        click.option(
            "--cache-dir",
            metavar="DIR",
            expose_value=False,
            callback=collect,
            help="HTTP cache directory [default: $BIBTOOLS_CACHE_DIR or the user cache dir].",
        ),
        click.option(
            "--refresh",
            is_flag=True,
            expose_value=False,
            callback=collect,
            help="Ignore cached answers (they are still updated).",
        ),
        click.option(
            "--offline",
            is_flag=True,
            expose_value=False,
            callback=collect,
            help="Answer from the cache only; make no request.",
        ),
        click.option(
            "--insecure",
            is_flag=True,
            expose_value=False,
            callback=collect,
            help="Do not check TLS certificates (a proxy that intercepts HTTPS); said on stderr. "
            "Same as BIBTOOLS_INSECURE=1.",
        ),
    ]

    @functools.wraps(func)  # keeps the options declared below this one
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = click.get_current_context().meta.get("bibtools.network", {})
        kwargs["network"] = Network(
            offline=bool(given.get("offline")),
            refresh=bool(given.get("refresh")),
            insecure=bool(given.get("insecure")),
            cache_dir=given.get("cache_dir"),
        )
        return func(*args, **kwargs)

    for option in options:
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]
