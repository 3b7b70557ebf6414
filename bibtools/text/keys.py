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

from ..diagnostics import Diagnostics
from ..model import Name, Record
from .markup import to_plain

STOPWORDS = frozenset(
    "a an the on in of for to and or at by with from as is are be do does its into onto via".split()
)
_TOKEN = re.compile(r"[a-z0-9]+")
# What no BibTeX reader accepts in a key (checked with bibtex and biber):
# such keys cannot be written back and are replaced.
_UNWRITABLE_KEY_CHARS = re.compile(r"[\s,{}]")
# What bibtex accepts but biber refuses ("syntax error"): kept, and lint says so.
_BIBER_KEY_CHARS = re.compile(r"[#%=\"()]")
# Inside a name: O'Sullivan-Hale, d'Alembert read as one word.
_NAME_JOINERS = re.compile(r"['\u2019\-\u2010]")


def _fold(text: str) -> list[str]:
    return _TOKEN.findall(anyascii(to_plain(text)).lower())


def _name_token(names: Iterable[Name]) -> str:
    """``osullivanhale`` for O'Sullivan-Hale, ``vanderberg`` for van der Berg."""
    for name in names:
        if name.literal:
            tokens = _fold(name.literal)[:1]
        else:
            family = _NAME_JOINERS.sub("", f"{name.particle} {name.family}")
            tokens = _fold(family) or _fold(name.given)[:1]
        if tokens:
            return "".join(tokens)
    return ""


def base_key(record: Record) -> str:
    """The key a record would get if no other record competed for it."""
    who = _name_token(record.authors) or _name_token(record.editors) or "anon"
    year = str(record.issued.year) if record.issued.year is not None else ""
    words = [w for w in _fold(record.title) if w not in STOPWORDS]
    return f"{who}{year}{words[0] if words else ''}"


def key_suffixes() -> Iterable[str]:
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
    """Can BibTeX read this key (biber may still refuse some: see :func:`biber_accepts`)?"""
    return bool(key) and not _UNWRITABLE_KEY_CHARS.search(key)


def biber_accepts(key: str) -> bool:
    return is_valid_key(key) and not _BIBER_KEY_CHARS.search(key)


def new_keys(
    records: list[Record],
    rekey: bool = False,
    keep_duplicates: bool = False,
    keep_empty: bool | None = None,
) -> tuple[list[str], Diagnostics]:
    """The key each record should be written with, unique within ``records``.

    Pure: the records are not changed.  Keys the input had are kept unless
    ``rekey``; a key no BibTeX reader accepts is replaced.  A key used twice
    (BibTeX and biber compare case-insensitively) gets a suffix on its second
    record, unless ``keep_duplicates``: a BibTeX file is then written as it
    was (bibtex and biber use the first entry and say so).  An entry a BibTeX
    file gave an empty key keeps it when ``keep_empty`` (by default, with
    ``keep_duplicates``).
    """
    if keep_empty is None:
        keep_empty = keep_duplicates
    diags = Diagnostics()
    keys = [rec.key for rec in records]
    taken: set[str] = set()
    first: dict[str, Record] = {}
    pending: list[tuple[int, str]] = []
    for i, rec in enumerate(records):
        if keep_empty and not rekey and not rec.key and rec.source is not None:
            # BibTeX read it so (\nocite{*} prints it): written back as it was.
            diags.warn(
                rec.origin_file,
                rec.origin_line,
                "empty citation key kept as written (--rekey gives it one)",
            )
            continue
        if rec.key and not rekey:
            lower = rec.key.lower()
            if not is_valid_key(rec.key):
                diags.warn(
                    rec.origin_file, rec.origin_line, "invalid citation key replaced", rec.key
                )
                pending.append((i, base_key(rec)))
            elif lower in taken and keep_duplicates:
                other = first[lower]
                diags.warn(
                    rec.origin_file,
                    rec.origin_line,
                    f"citation key used before (at {other.location()}); bibtex and biber "
                    "use the first entry; kept as written",
                    rec.key,
                )
            elif lower in taken:
                # The second record keeps its key's stem so \cite commands stay guessable.
                pending.append((i, rec.key))
            else:
                taken.add(lower)
                first[lower] = rec
        else:
            pending.append((i, base_key(rec)))
    for i, base in pending:
        rec = records[i]
        key = unique_key(base, taken)
        if rec.key and not rekey and rec.key != key:
            diags.warn(rec.origin_file, rec.origin_line, f"citation key renamed to {key}", rec.key)
        keys[i] = key
    return keys, diags


def assign_keys(
    records: list[Record], rekey: bool = False, keep_empty: bool = False
) -> Diagnostics:
    """:func:`new_keys`, set on the records themselves (for callers that own them)."""
    keys, diags = new_keys(records, rekey, keep_empty=keep_empty)
    for rec, key in zip(records, keys, strict=True):
        rec.key = key
    return diags


def unique_key(base: str, taken: set[str]) -> str:
    """``base``, or ``base`` + a, b, ... when taken (``taken`` holds lower-case keys; the
    key returned is added to it)."""
    key = base
    if key.lower() in taken:
        for suffix in key_suffixes():
            key = base + suffix
            if key.lower() not in taken:
                break
    taken.add(key.lower())
    return key
