"""Citation keys: Google-Scholar-like generation, uniqueness and stability.

``liu2022learning``: the first author's family name, the year and the first
significant word of the title, folded to ASCII.  Keys the input already had
are kept (unless ``rekey``); a key that is taken gets ``a``, ``b``, ...
in input order, so adding a record never renames the ones before it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from anyascii import anyascii

from .diagnostics import Diagnostics
from .markup import to_plain
from .model import Name, Record

STOPWORDS = frozenset(
    "a an the on in of for to and or at by with from as is are be do does its into onto via".split()
)
_TOKEN = re.compile(r"[a-z0-9]+")
# What BibTeX, biber and bibtexparser all accept in a key.
_BAD_KEY_CHARS = re.compile(r"[\s,{}()=\"#%'\\~]")


def _fold(text: str) -> list[str]:
    return _TOKEN.findall(anyascii(to_plain(text)).lower())


def _name_token(names: Iterable[Name]) -> str:
    for name in names:
        if name.literal:
            tokens = _fold(name.literal)
        else:
            tokens = _fold(f"{name.particle} {name.family}") or _fold(name.given)
        if tokens:
            return tokens[0]
    return ""


def base_key(record: Record) -> str:
    """The key a record would get if no other record competed for it."""
    who = _name_token(record.authors) or _name_token(record.editors) or "anon"
    year = str(record.issued.year) if record.issued.year is not None else ""
    words = [w for w in _fold(record.title) if w not in STOPWORDS]
    return f"{who}{year}{words[0] if words else ''}"


def _suffixes() -> Iterable[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    yield from letters
    for first in letters:
        for second in letters:
            yield first + second
    n = 0
    while True:  # beyond 702 clashes: a number, still deterministic
        n += 1
        yield f"_{n}"


def is_valid_key(key: str) -> bool:
    return bool(key) and not _BAD_KEY_CHARS.search(key)


def assign_keys(records: list[Record], rekey: bool = False) -> Diagnostics:
    """Give every record a key, unique within ``records``; mutates them in place.

    Returns warnings for keys that had to change (duplicates, invalid keys).
    """
    diags = Diagnostics()
    taken: set[str] = set()
    pending: list[tuple[Record, str]] = []
    for rec in records:
        if rec.key and not rekey:
            if not is_valid_key(rec.key):
                diags.warn(
                    rec.origin_file, rec.origin_line, "invalid citation key replaced", rec.key
                )
                pending.append((rec, base_key(rec)))
            elif rec.key.lower() in taken:
                # BibTeX and biber compare keys case-insensitively; the second
                # record keeps its key's stem so \cite commands stay guessable.
                pending.append((rec, rec.key))
            else:
                taken.add(rec.key.lower())
        else:
            pending.append((rec, base_key(rec)))
    for rec, base in pending:
        key = base
        if key.lower() in taken:
            for suffix in _suffixes():
                key = base + suffix
                if key.lower() not in taken:
                    break
        taken.add(key.lower())
        if rec.key and not rekey and rec.key != key:
            diags.warn(rec.origin_file, rec.origin_line, f"citation key renamed to {key}", rec.key)
        rec.key = key
    return diags
