"""The publication *listing*: text copied from a lab or author page.

Each record is three lines (see docs/listing-format.md)::

    CLApr 24, 2022Code
    Learning to Win ... Mask TrainingYuanxin Liu, Fandong Meng, Zheng Lin et al. · pku, tsinghua
    Recent studies on the lottery ticket hypothesis ...

The hard part is the second line, where the title and the first author are
glued together.  We work from the right, where the text is regular:
affiliations after `` · ``, then `` et al.``, then comma-separated names.
The first segment (from the right) that is not a clean name holds the end
of the title glued to the first author; inside it, the first author's name
is the run of name words at its end, and the given name starts inside the
glued word at the longest tail that is a well-formed given name
(``RLVRChuanyu`` -> ``RLVR`` + ``Chuanyu``, ``TrainingJean-Luc`` ->
``Training`` + ``Jean-Luc``).

Known ambiguity (documented in docs/listing-format.md): a first author whose
given name has an inner capital (``JoAnn``) is split at the inner capital,
because nothing in the text tells the title's last letters from the name.
"""

from __future__ import annotations

import datetime as dt
import re

from ..diagnostics import Diagnostics
from ..limits import MAX_VALUE, value_too_long
from ..model import CodeLink, Name, PartialDate, Record
from ..text.dates import MONTHS, resolve_yearless
from ..text.markup import from_latex, from_plain
from ..text.names import parse_plain_name
from ..text.urls import find_urls
from . import ReadOptions, ReadResult

NAME = "listing"
EXTENSIONS = (".listing", ".txt")

# arXiv subject-class abbreviations -> categories.  Where an abbreviation
# exists in several archives (CV: cs.CV and math.CV), computer science wins,
# then electrical engineering, statistics, economics, biology, finance, maths:
# the pages these listings come from are overwhelmingly CS.
_ARCHIVES = (
    (
        "cs",
        "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA NE NI OH OS PF PL RO SC SD SE SI",
    ),
    ("eess", "AS IV SP SY"),
    ("stat", "AP CO ME ML OT TH"),
    ("econ", "EM GN"),
    ("q-bio", "BM CB GN MN NC OT PE QM SC TO"),
    ("q-fin", "CP EC GN MF PM PR RM ST TR"),
    (
        "math",
        "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA RT SG SP ST",
    ),
)
CATEGORIES: dict[str, str] = {}
for _archive, _codes in _ARCHIVES:
    for _code in _codes.split():
        CATEGORIES.setdefault(_code, f"{_archive}.{_code}")
# Abbreviations the reader had to guess an archive for: arXiv's own answer
# completes such a guess (bibtools.enrich) instead of disagreeing with it.
AMBIGUOUS_CODES = frozenset(
    code for code in CATEGORIES if sum(code in codes.split() for _, codes in _ARCHIVES) > 1
)

_MONTH_ABBR = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
HEADER = re.compile(
    rf"^\s*(?P<cat>[A-Z]{{2,}})\s*(?P<mon>{_MONTH_ABBR})\s+(?P<day>\d{{1,2}})"
    rf"(?:,\s*(?P<year>\d{{4}}))?\s*(?P<code>Code)?\s*$"
)
_ET_AL = re.compile(r"\s+et\s+al\.?\s*$")
_AFFILIATIONS = re.compile(r"^[a-z0-9][a-z0-9._&'-]*(?:\s*,\s*[a-z0-9][a-z0-9._&'-]*)*$")
PARTICLES = frozenset(
    "van von der den de del della dei degli di da dal du la le lo dos das do ten ter bin ibn al el y e zu af av".split()
)
# Family-name prefixes after which a capital is part of the name (McDonald).
_CAMEL_PREFIXES = ("Mc", "Mac", "De", "Di", "Da", "Du", "La", "Le", "Van", "Von", "Fitz", "St")


def sniff(text: str) -> bool:
    for line in text.splitlines():
        if line.strip():
            return bool(HEADER.match(line))
    return False


# --------------------------------------------------------------------------
# Name-shape predicates


def _is_cap_word(part: str) -> bool:
    """``Smith``, ``Åsa``, ``O'Brien``, ``Núñez``: a capital, then lower case."""
    first, *rest = re.split("['\u2019]", part)
    if not first or not first[0].isupper() or (len(first) > 1 and not first[1:].islower()):
        return False
    # After an apostrophe: O'Brien, D'Angelo, Ng'ang'a.
    return all(
        p and (p.islower() or (p[0].isupper() and (len(p) == 1 or p[1:].islower()))) for p in rest
    )


def _is_initial(part: str) -> bool:
    """``K.``, ``J.R.``, ``J.-P.``."""
    return bool(re.fullmatch(r"(?:[^\W\d_]\.-?)+", part)) and part[0].isupper()


def _is_name_part(part: str, family: bool) -> bool:
    if _is_cap_word(part) or _is_initial(part):
        return True
    if family:
        for prefix in _CAMEL_PREFIXES:
            if (
                part.startswith(prefix)
                and len(part) > len(prefix)
                and _is_cap_word(part[len(prefix) :])
            ):
                return True
    return False


def is_name_word(word: str) -> bool:
    if word in PARTICLES:
        return True
    return all(_is_name_part(p, family=True) for p in word.split("-")) if word else False


def is_given_token(word: str) -> bool:
    """A given name as it can start the glued word: hyphenated cap words or initials."""
    return bool(word) and all(_is_name_part(p, family=False) for p in word.split("-"))


def is_clean_name(segment: str) -> bool:
    words = segment.split()
    return (
        1 <= len(words) <= 6 and all(is_name_word(w) for w in words) and words[0] not in PARTICLES
    )


# --------------------------------------------------------------------------
# The title/authors line


class SplitError(ValueError):
    pass


_LETTER = re.compile(r"[^\W\d_]")
_APOSTROPHES = "'\u2019"


def _glue_split(word: str) -> int | None:
    """Where the given name starts inside the glued word: the longest valid tail.

    The first ``i`` with ``word[i]`` upper case and ``is_given_token(word[i:])``,
    found in one pass (a title glued to its author can be a single 400 KB
    "word"; testing every tail would take time quadratic in it).  A tail's
    hyphen-separated parts after the one ``i`` falls in are the word's own, so
    they are checked once; inside that part, tables built right to left say in
    constant time whether ``word[i:end]`` is an initial chain (``J.R.``) or a
    capitalised word with its apostrophe pieces (``O'Brien``).
    """
    n = len(word)
    if n < 2:
        return None
    # next_upper[k] / next_lower[k]: the first index >= k whose character is
    # upper (or title) case / lower case; as str.islower() sees them.
    next_upper = [n] * (n + 1)
    next_lower = [n] * (n + 1)
    for k in range(n - 1, -1, -1):
        c = word[k]
        next_upper[k] = k if c.istitle() else next_upper[k + 1]
        next_lower[k] = k if c.islower() else next_lower[k + 1]

    def is_lower(start: int, end: int) -> bool:  # word[start:end].islower()
        return end > start and next_upper[start] >= end and next_lower[start] < end

    valid = [False] * n  # valid[i]: word[i:] is a given token (for upper-case word[i])
    later_parts_ok = True  # every hyphen part right of the current one is a name part
    end = n
    while end >= 0:
        start = word.rfind("-", 0, end) + 1
        if later_parts_ok:
            # Right to left through the part: initial chains, and for each
            # apostrophe whether the pieces after it may end a name.
            initial = [False] * (end - start + 2)
            pieces_ok = True  # the pieces after the next apostrophe right of k
            apostrophe = end  # that apostrophe (end: none)
            for k in range(end - 1, start - 1, -1):
                c = word[k]
                if c in _APOSTROPHES:
                    piece = word[k + 1 : apostrophe]
                    pieces_ok = (
                        pieces_ok
                        and bool(piece)
                        and (
                            piece.islower()
                            or (piece[0].isupper() and (len(piece) == 1 or piece[1:].islower()))
                        )
                    )
                    apostrophe = k
                    continue
                initial[k - start] = (
                    k + 1 < end
                    and word[k + 1] == "."
                    and bool(_LETTER.match(c))
                    and (k + 2 == end or initial[k + 2 - start])
                )
                if c.isupper():
                    cap_word = pieces_ok and (apostrophe == k + 1 or is_lower(k + 1, apostrophe))
                    valid[k] = cap_word or initial[k - start]
        part = word[start:end]
        later_parts_ok = later_parts_ok and _is_name_part(part, family=False)
        end = start - 1
    for i in range(1, n):
        if valid[i] and not word[i - 1].isspace():
            return i
    return None


def split_title_authors(line: str) -> tuple[str, list[str], bool, list[str]]:
    """Split ``TITLEAuthor One, Author Two et al. · aff1, aff2``.

    Returns (title, author name strings, truncated, affiliations).
    """
    text = " ".join(line.split())
    affiliations: list[str] = []
    head, sep, tail = text.rpartition(" \u00b7 ")
    if sep and _AFFILIATIONS.match(tail.strip()):
        text = head
        affiliations = [a.strip() for a in tail.split(",") if a.strip()]
    truncated = False
    m = _ET_AL.search(text)
    if m:
        truncated = True
        text = text[: m.start()]
    segments = text.split(", ")
    # The last name may be joined with "and" / "&" instead of a comma.
    last = re.split(r"\s+(?:and|&)\s+", segments[-1])
    if len(last) > 1 and all(is_clean_name(p) for p in last[1:]):
        segments = segments[:-1] + last
    names: list[str] = []  # right to left, reversed below
    idx = len(segments) - 1
    while idx > 0 and is_clean_name(segments[idx]):
        names.append(segments[idx])
        idx -= 1
    names.reverse()
    glued = segments[idx]
    title_head = ", ".join(segments[:idx])
    words = glued.split(" ")
    # The first author's name: name words at the end of the glued segment,
    # the leftmost of which contains the glue.
    k = len(words) - 1
    while k > 0 and is_name_word(words[k]):
        k -= 1
    split_at = _glue_split(words[k])
    if split_at is None:
        # The glued word happens to look like a name word (rare); look for
        # the glue further right, keeping at least a given and a family name.
        for j in range(k + 1, len(words) - 1):
            split_at = _glue_split(words[j])
            if split_at is not None:
                k = j
                break
    if split_at is None:
        raise SplitError("cannot find where the title ends and the first author begins")
    first_author = " ".join([words[k][split_at:], *words[k + 1 :]])
    title_tail = " ".join([*words[:k], words[k][:split_at]])
    title = f"{title_head}, {title_tail}" if title_head else title_tail
    if not title.strip():
        raise SplitError("empty title")
    if len(first_author.split()) < 2:
        raise SplitError(f"first author {first_author!r} has no family name")
    return title.strip(), [first_author, *names], truncated, affiliations


# --------------------------------------------------------------------------
# Records


def _parse_name(text: str) -> Name:
    return parse_plain_name(text)


def _record(
    header: re.Match[str],
    body: str,
    abstract: str,
    line: int,
    options: ReadOptions,
    diags: Diagnostics,
) -> Record | None:
    source = options.source
    try:
        title, authors, truncated, affiliations = split_title_authors(body)
    except SplitError as exc:
        diags.error(source, line + 1, str(exc))
        return None
    code = header.group("cat")
    category = CATEGORIES.get(code)
    if category is None:
        diags.warn(source, line, f"unknown arXiv category abbreviation {code!r}; kept as given")
        category = code
    month = MONTHS[header.group("mon").lower()]
    day = int(header.group("day"))
    try:
        if header.group("year"):
            date = dt.date(int(header.group("year")), month, day)
        else:
            date = resolve_yearless(month, day, options.as_of or dt.date.today())
    except ValueError:
        diags.error(source, line, f"invalid date {header.group('mon')} {day}")
        return None
    abstract_markup = from_latex(abstract.replace("~", "\\textasciitilde{}"))
    links = [CodeLink(url, "abstract") for url in find_urls(abstract)]
    rec = Record(
        type="article",
        title=from_plain(title),
        authors=[_parse_name(a) for a in authors],
        authors_truncated=truncated,
        issued=PartialDate(date.year, date.month, date.day),
        arxiv_primary_class=category,
        arxiv_categories=[category],
        abstract=abstract_markup,
        code_links=links,
        code_announced=bool(header.group("code")),
        affiliations=affiliations,
        source_type="listing",
        origin_file=source,
        origin_line=line,
    )
    return rec


def _looks_like_body(line: str) -> bool:
    try:
        split_title_authors(line)
    except SplitError:
        return False
    return True


def read(text: str, options: ReadOptions) -> ReadResult:
    result = ReadResult()
    diags = result.diagnostics
    lines = [
        (n, ln.strip()) for n, ln in enumerate(text.lstrip("\ufeff").splitlines(), 1) if ln.strip()
    ]
    i = 0
    while i < len(lines):
        n, line = lines[i]
        header = HEADER.match(line)
        if not header:
            diags.error(options.source, n, "expected a record header such as 'CLApr 24, 2022Code'")
            result.detected += 1
            # Skip to the next header: one bad record must not take others down.
            i += 1
            while i < len(lines) and not HEADER.match(lines[i][1]):
                i += 1
            continue
        result.detected += 1
        body = lines[i + 1] if i + 1 < len(lines) else None
        abstract = lines[i + 2] if i + 2 < len(lines) else None
        if body is None or HEADER.match(body[1]):
            diags.error(options.source, n, "record has no title/authors line")
            i += 1
            continue
        if abstract is None or HEADER.match(abstract[1]):
            diags.error(options.source, n, "record has no abstract line")
            i += 2
            continue
        i += 3
        extra_lines = []
        while i < len(lines) and not HEADER.match(lines[i][1]):
            extra_lines.append(lines[i])
            i += 1
        abstract_text = abstract[1]
        if len(extra_lines) >= 2 and _looks_like_body(extra_lines[0][1]):
            # Most likely a record whose header line was lost: report it
            # rather than glue a whole record onto this abstract.
            result.detected += 1
            diags.error(
                options.source,
                extra_lines[0][0],
                "record has no header line (category and date); skipped",
            )
            extra_lines = []
        too_long = max(
            (len(body[1]), body[0]),
            (len(abstract[1]) + sum(len(t) + 1 for _, t in extra_lines), abstract[0]),
        )
        if too_long[0] > MAX_VALUE:
            message = f"{value_too_long(too_long[0])}; record skipped"
            diags.error(options.source, too_long[1], message)
            continue
        if extra_lines:
            diags.warn(
                options.source,
                extra_lines[0][0],
                f"{len(extra_lines)} more line(s) after the abstract joined to it",
            )
            abstract_text = " ".join([abstract_text, *(t for _, t in extra_lines)])
        rec = _record(header, body[1], abstract_text, n, options, diags)
        if rec is not None:
            result.records.append(rec)
    return result
