"""Personal names: BibTeX's name grammar in and out, plain ``Given Family`` in.

Splitting follows BibTeX (``First von Last``, ``von Last, First``,
``von Last, Jr, First``) through bibtexparser's implementation; name parts
in the model are plain Unicode (LaTeX decoded, no case-protection braces).
"""

from __future__ import annotations

import functools
import re

from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)

from ..model import Name
from .markup import from_latex, from_plain, to_latex, to_plain


def _plain(parts: list[str]) -> str:
    # BibTeX reads ~ in a name as a space between name tokens, so a
    # non-breaking space inside a name part is one too.
    # An unknown command in a name (\Thanh, a preamble macro) shows as its name.
    return to_plain(from_latex(" ".join(parts)), keep_unknown=True).replace("\u00a0", " ")


def _fully_braced(text: str) -> bool:
    if not (text.startswith("{") and text.endswith("}")):
        return False
    depth = 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return False
    return True


# BibLaTeX's extended name format: "family=Vries, given=Hugo, prefix=de".
_EXTENDED = re.compile(r"^\s*(?:family|given|prefix|suffix|useprefix)\s*=", re.I)
_EXTENDED_PARTS = {"family": "family", "given": "given", "prefix": "particle", "suffix": "suffix"}


def _parse_extended(raw: str) -> Name:
    name = Name()
    for part in raw.split(","):
        key, _, value = part.partition("=")
        attr = _EXTENDED_PARTS.get(key.strip().lower())
        if attr:
            value = value.strip()
            if value.startswith('"') and value.endswith('"'):
                value = value[1:-1]
            setattr(name, attr, _plain([value]))
    return name


# bibtexparser's name splitting drops a backslash right after " and " and
# splits at the ~ of the accent command \~; shield both while splitting.
def _shield(text: str) -> str:
    return text.replace("\\~", "\x01\x02").replace("\\", "\x01")


def _unshield(text: str) -> str:
    return text.replace("\x02", "~").replace("\x01", "\\")


def parse_bibtex_name(raw: str) -> Name:
    """One BibTeX name (``von Last, Jr, First``, ``First von Last``, ``{Org}``) as a Name."""
    return _copy(_parse_bibtex_name(raw))  # the cached one must stay as it is


def _copy(name: Name) -> Name:
    # What dataclasses.replace(name, extra=dict(name.extra)) gives, without its
    # introspection of the fields on every call.
    return Name(
        family=name.family,
        given=name.given,
        particle=name.particle,
        suffix=name.suffix,
        literal=name.literal,
        dropping_particle=name.dropping_particle,
        extra=dict(name.extra),
    )


# The same authors come back entry after entry in a lab's or a journal's file.
@functools.lru_cache(maxsize=16384)
def _parse_bibtex_name(raw: str) -> Name:
    raw = _unshield(raw).strip()
    if _fully_braced(raw):
        return Name(literal=_plain([raw[1:-1]]))
    if _EXTENDED.match(raw):
        return _parse_extended(raw)
    try:
        parts = parse_single_name_into_parts(_shield(raw), strict=False)
    except InvalidNameError:
        return Name(literal=_plain([raw]))
    name = Name(
        family=_plain([_unshield(p) for p in parts.last]),
        given=_plain([_unshield(p) for p in parts.first]),
        particle=_plain([_unshield(p) for p in parts.von]),
        suffix=_plain([_unshield(p) for p in parts.jr]),
    )
    if not name.family and not name.given:
        return Name(literal=_plain([raw]))
    return name


def parse_bibtex_names(value: str) -> tuple[list[Name], bool]:
    """``A and B and others`` -> ([A, B], truncated=True)."""
    names, truncated = _parse_list(value) if len(value) <= _CACHED_LIST_LEN else _parse_names(value)
    return [_copy(n) for n in names], truncated  # the cached ones must stay as they are


# Author and editor lists repeat too (a lab's papers, a series' editors); a
# bounded cache of lists up to this long (nearly all of them: 99% of a real
# 10,000-entry corpus), which holds at most some 30 names each.
_CACHED_LIST_LEN = 200


@functools.lru_cache(maxsize=8192)
def _parse_list(value: str) -> tuple[tuple[Name, ...], bool]:
    return _parse_names(value)


def _parse_names(value: str) -> tuple[tuple[Name, ...], bool]:
    raws = [_unshield(r) for r in split_multiple_persons_names(_shield(value))]
    truncated = False
    if raws and raws[-1].strip().lower() == "others":
        truncated = True
        raws = raws[:-1]
    names = [_parse_bibtex_name(r) for r in raws if r.strip(" ,")]
    return tuple(n for n in names if n.display().strip()), truncated


def parse_plain_name(text: str, suffix_last: bool = False) -> Name:
    """``Mary K. Smith``, ``Smith, Mary K.``, ``van Gogh, Vincent`` -> Name.

    Plain text (RIS, listings): no LaTeX decoding, but the same splitting
    rules as BibTeX so that particles and suffixes land in the same place.
    ``suffix_last`` reads ``Last, First, Suffix`` (RIS's order) instead of
    BibTeX's ``Last, Suffix, First``.
    """
    text = " ".join(text.split())
    if not text:
        return Name()
    if suffix_last and text.count(",") >= 2:
        last, first, suffix = (p.strip() for p in text.split(",", 2))
        name = parse_plain_name(f"{last}, {first}")
        name.suffix = suffix
        return name
    escaped = text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")
    try:
        parts = parse_single_name_into_parts(escaped, strict=False)
    except InvalidNameError:
        return Name(literal=text)

    def join(p: list[str]) -> str:
        return " ".join(p).replace("\\{", "{").replace("\\}", "}").replace("\\\\", "\\")

    name = Name(
        family=join(parts.last),
        given=join(parts.first),
        particle=join(parts.von),
        suffix=join(parts.jr),
    )
    if not name.family:
        return Name(literal=text)
    return name


def _latex(text: str, ascii_only: bool) -> str:
    return to_latex(from_plain(text), ascii_only)


def _needs_braces(part: str) -> bool:
    # A comma or a lone "and" inside a part would re-split the name list.
    return "," in part or " and " in f" {part.lower()} "


def format_bibtex_name(name: Name, ascii_only: bool = False) -> str:
    """``von Last, Jr, First``: the one form BibTeX never misreads."""
    if name.literal:
        return "{" + _latex(name.literal, ascii_only) + "}"
    family = _latex(name.family, ascii_only)
    # A family name of several words, or one that starts lower-case without
    # a particle, must be braced or BibTeX would move words into "von".
    if (
        _needs_braces(family)
        or (family[:1].islower() and not name.particle)
        or (" " in family and any(w[:1].islower() for w in family.split()))
    ):
        family = "{" + family + "}"
    last = f"{_latex(name.particle, ascii_only)} {family}" if name.particle else family
    given = _latex(name.given, ascii_only)
    if _needs_braces(given):
        given = "{" + given + "}"
    if name.suffix:
        return f"{last}, {_latex(name.suffix, ascii_only)}, {given}"
    return f"{last}, {given}" if given else last


def format_bibtex_names(names: list[Name], truncated: bool, ascii_only: bool = False) -> str:
    out = [format_bibtex_name(n, ascii_only) for n in names]
    if truncated:
        out.append("others")
    return " and ".join(out)
