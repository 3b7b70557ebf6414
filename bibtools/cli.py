"""The ``bibtools`` command line: the group, lazy loading of the commands, and
the one place where errors become exit statuses.

Each command lives in :mod:`bibtools.commands` (options in, one pipeline
call from :mod:`bibtools.app`, messages and an exit status out) and is
imported only when it runs, so ``bibtools --version`` stays fast.

Exit status: 0 all fine; 1 finished, but some records had problems (named
on stderr); 2 usage error, unreadable input, no usable record, or an output
that cannot be written; 3 internal error (a bug).
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import Any

import click

from .version import __version__

EXIT_OK, EXIT_USAGE, EXIT_INTERNAL = 0, 2, 3

# name -> "module:function" under bibtools.commands, in the order --help lists them.
COMMANDS = {
    "add": "add:add",
    "build": "build:build",
    "convert": "convert:convert",
    "enrich": "enrich:enrich",
    "format": "format:format_command",
    "links": "links:links",
    "lint": "lint:lint",
    "merge": "merge:merge",
    "rekey": "rekey:rekey",
    "verify": "verify:verify",
}


def outcome(exc: BaseException) -> tuple[str, int]:
    """The one-line message and the exit status for an error that ends a command.

    What the user or the world did wrong (bad arguments, unreadable input,
    an output that cannot be written, a full disk) is 2; only our own bugs are 3.
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


def _fail(message: str, code: int) -> None:
    click.echo(f"bibtools: error: {message}", err=True)
    sys.exit(code)


class Group(click.Group):
    """Loads commands on demand and turns every error into one line on stderr
    and a documented exit status."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[name].partition(":")
        command = getattr(import_module(f".commands.{module}", __package__), attribute)
        return command  # type: ignore[no-any-return]

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            finally:
                _flush()
        except BrokenPipeError:
            # The reader of our stdout went away (| head): not an error of ours.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_OK)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            message, code = outcome(exc)
            if code == EXIT_INTERNAL and os.environ.get("BIBTOOLS_DEBUG"):
                raise
            _fail(message, code)


def _flush() -> None:
    from .commands.common import flush_stdout

    flush_stdout()


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="bibtools")
def main() -> None:
    """Convert, enrich and format bibliographies.

    Reads publication listings, BibTeX/BibLaTeX, RIS and CSL-JSON; writes
    BibTeX, RIS and CSL-JSON.

    Exit status: 0 all fine, 1 finished but some records had problems,
    2 usage error, unreadable input or an output that cannot be written.
    """


if __name__ == "__main__":  # pragma: no cover
    main()
