"""Dates: month names, partial ISO dates, and the listing's year-less dates."""

from __future__ import annotations

import datetime as dt
import re

from ..model import PartialDate

MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for name in names
}
MONTH_ABBR = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

_ISO = re.compile(r"^\s*(-?\d{1,4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?\s*$")


def parse_month(text: str) -> int | None:
    """``"4"``, ``"apr"``, ``"April"``, ``"Apr."`` -> 4; None when not a month."""
    t = text.strip().rstrip(".").lower()
    if t.isascii() and t.isdigit():
        n = int(t)
        return n if 1 <= n <= 12 else None
    return MONTHS.get(t)


def parse_iso(text: str) -> PartialDate | None:
    """``2022``, ``2022-04``, ``2022-04-24`` (also with ``/``); None otherwise."""
    m = _ISO.match(text)
    if not m:
        return None
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None:
        try:
            dt.date(year if year > 0 else 2000, month or 1, day)
        except ValueError:
            return None
    return PartialDate(year, month, day)


def is_valid(date: PartialDate) -> bool:
    if date.year is None:
        return True
    try:
        dt.date(max(date.year, 1), date.month or 1, date.day or 1)
    except ValueError:
        return False
    return True


def resolve_yearless(month: int, day: int, as_of: dt.date) -> dt.date:
    """The latest ``month``/``day`` that is not after ``as_of``.

    A listing shows dates of the current year without the year: ``Jun 2``
    read on 2026-11-26 is 2026-06-02, and ``Dec 3`` is 2025-12-03.  Feb 29
    goes back to the latest leap year.
    """
    dt.date(2000, month, day)  # ValueError for a day no year has (Apr 31): never loop on it
    # Feb 29 recurs within 8 years, every other day within 1.
    for year in range(as_of.year, as_of.year - 9, -1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:  # Feb 29 in a common year, or before year 1
            continue
        if candidate <= as_of:
            return candidate
    raise ValueError(f"no {month}/{day} on or before {as_of}")


_FREE_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_FREE_WORD = re.compile(r"[A-Za-z]+\.?|\d{1,2}(?!\d)")


def parse_free_date(text: str) -> list[int]:
    """CSL ``date-parts`` of a catalogue's free-text date: ``July 28, 2008``,
    ``28 Jul 2008``, ``2012-05-03``, ``2010 Jun``, ``c1984``; ``[]`` without a year.

    A month and a day are kept only when the text says them unambiguously
    (a month name; an ISO date).
    """
    iso = parse_iso(text)
    if iso is not None and iso.year is not None and 1000 <= iso.year <= 2999:
        return [p for p in (iso.year, iso.month, iso.day) if p is not None]
    m = _FREE_YEAR.search(text)
    if m is None:
        return []
    rest = text[: m.start()] + " " + text[m.end() :]
    month = day = None
    for word in _FREE_WORD.findall(rest):
        if word[0].isalpha():
            month = month or MONTHS.get(word.rstrip(".").lower())
        elif day is None:
            day = int(word)
    if month is None:
        return [int(m.group(1))]
    if day is not None:
        try:
            dt.date(int(m.group(1)), month, day)
        except ValueError:
            day = None
    return [int(m.group(1)), month] + ([day] if day else [])
