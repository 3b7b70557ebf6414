"""Size limits on what bibtools reads, in one place.

A hostile or broken input must end in a one-line message, not in the
machine's memory running out: every reader refuses a single value longer
than :data:`MAX_VALUE`, and no input larger than :func:`max_input` bytes is
read at all (an endless one such as ``/dev/zero`` included).
"""

from __future__ import annotations

import os
import re

from .diagnostics import UsageError

# The longest value one field may hold, in characters, in every reader.
# BibTeX bounds its strings too; at 16 MiB no real abstract comes near it,
# and the 10-20x the model and writers need per character stays a few hundred MB.
MAX_VALUE = 16 * 1024 * 1024

# The largest input read, in bytes, unless $BIBTOOLS_MAX_INPUT says otherwise.
DEFAULT_MAX_INPUT = 1024**3
MAX_INPUT_ENV = "BIBTOOLS_MAX_INPUT"

_SIZE = re.compile(r"\s*(\d+)\s*([kmgt]?)i?b?\s*", re.I)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def value_too_long(length: int) -> str:
    """The message for a value past :data:`MAX_VALUE` (the same in every reader)."""
    return f"value of {length:,} characters is longer than the limit of {MAX_VALUE:,}"


def parse_size(text: str) -> int:
    """``"1073741824"``, ``"512M"``, ``"2GiB"`` -> bytes; raises ValueError."""
    m = _SIZE.fullmatch(text)
    if not m:
        raise ValueError(text)
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


def max_input() -> int:
    """The largest input in bytes: ``$BIBTOOLS_MAX_INPUT`` (``512M``, ``2G``...) or 1 GiB."""
    raw = os.environ.get(MAX_INPUT_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_INPUT
    try:
        size = parse_size(raw)
    except ValueError:
        raise UsageError(
            f"{MAX_INPUT_ENV}={raw!r} is not a size (bytes, or with K, M, G: 512M, 2G)"
        ) from None
    if size <= 0:
        raise UsageError(f"{MAX_INPUT_ENV}={raw!r}: the limit must be more than 0 bytes")
    return size


def describe_size(size: int) -> str:
    """``1073741824`` -> ``1 GiB``; ``1500`` -> ``1,500 bytes``."""
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size:,} bytes"
