"""bibtools: convert, enrich and format bibliographies.

    >>> import bibtools
    >>> result = bibtools.read("papers.bib")       # a path or the text itself
    >>> result.records, result.diagnostics          # what was read, what was not
    >>> text = bibtools.write(result, "csljson")    # or "bibtex", "ris"

Everything heavy is imported on first use, so ``bibtools --version`` and
``import bibtools`` stay instant, and importing bibtools changes no global
state (loggers, warnings filters).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__

__all__ = [
    "CodeLink",
    "Name",
    "PartialDate",
    "ReadResult",
    "Record",
    "__version__",
    "dump",
    "dumps",
    "load",
    "loads",
    "read",
    "write",
]

if TYPE_CHECKING:
    from .api import read, write
    from .convert import dump, dumps, load, loads
    from .formats import ReadResult
    from .model import CodeLink, Name, PartialDate, Record

_LAZY = {
    "read": "api",
    "write": "api",
    "load": "convert",
    "loads": "convert",
    "dump": "convert",
    "dumps": "convert",
    "ReadResult": "formats",
    "Record": "model",
    "Name": "model",
    "PartialDate": "model",
    "CodeLink": "model",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'bibtools' has no attribute {name!r}")
