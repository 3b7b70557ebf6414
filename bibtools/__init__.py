"""bibtools: convert, enrich and format bibliographies.

    >>> from bibtools import load, dumps
    >>> records = load("papers.bib")          # format from the extension or content
    >>> text = dumps(records, "csljson")      # or dump(records, "refs.json")

Everything heavy is imported on first use, so ``bibtools --version`` and
``import bibtools`` stay instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "CodeLink",
    "Name",
    "PartialDate",
    "Record",
    "__version__",
    "dump",
    "dumps",
    "load",
    "loads",
]

if TYPE_CHECKING:
    from .convert import dump, dumps, load, loads
    from .model import CodeLink, Name, PartialDate, Record


def __getattr__(name: str) -> Any:
    if name in ("load", "loads", "dump", "dumps"):
        from . import convert

        return getattr(convert, name)
    if name in ("Record", "Name", "PartialDate", "CodeLink"):
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module 'bibtools' has no attribute {name!r}")
