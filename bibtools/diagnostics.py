"""Diagnostics: what went wrong (or looked suspicious) where.

Library code never prints: readers and writers return diagnostics, and the
CLI decides how to show them and which exit status they imply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# Line breaks quoted from the input (a broken entry's first characters) would
# split one diagnostic over several lines of stderr.
_BREAKS = re.compile(r"\s*[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+\s*")


class Level(StrEnum):
    WARNING = "warning"  # written, but worth a look (truncated authors, unknown category)
    ERROR = "error"  # the record was skipped


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str
    line: int
    level: Level
    message: str
    key: str = ""
    # A stable name for the kind of problem ("truncated-authors"), so callers
    # can group diagnostics without parsing messages.
    code: str = ""

    def __post_init__(self) -> None:
        for name in ("file", "message", "key"):
            value = getattr(self, name)
            if _BREAKS.search(value):
                object.__setattr__(self, name, _BREAKS.sub(" ", value))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f"{self.key}: {self.message}" if self.key else self.message
        return f"{where}: {self.level.value}: {what}"


class BibtoolsError(Exception):
    """An error the user can act on; its message is one line, shown as is."""

    exit_code = 2


class InputError(BibtoolsError):
    """The input cannot be read at all (missing, binary, undecodable, empty of records)."""


class UsageError(BibtoolsError):
    """Arguments that do not make sense together."""


class StrictModeError(BibtoolsError):
    """``--strict`` refused to write because some record was bad."""

    exit_code = 1


TRUNCATED = "truncated-names"  # a writer could not mark an author/editor list cut short


class Diagnostics(list[Diagnostic]):
    """A list of diagnostics with helpers for the common cases."""

    def warn(self, file: str, line: int, message: str, key: str = "", code: str = "") -> None:
        self.append(Diagnostic(file, line, Level.WARNING, message, key, code))

    def error(self, file: str, line: int, message: str, key: str = "", code: str = "") -> None:
        self.append(Diagnostic(file, line, Level.ERROR, message, key, code))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self if d.level is Level.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self if d.level is Level.WARNING]
