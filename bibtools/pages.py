r"""Publication lists: a styled reference list, grouped, sorted, numbered, highlighted, linked.

The one entry point is :func:`format_records`::

    from bibtools.pages import FormatOptions, format_records

    result = format_records(records, FormatOptions(style="apa", output="html", standalone=True,
                                                   group_by="year", highlight=["Qingyi Si"]))
    result.text          # the page (str); result.diagnostics: warnings per record
    result.entries       # the PageEntry objects the template saw

Records must carry citation keys (``bibtools.text.keys.assign_keys``); the key is
the ``id`` of the entry's element in HTML, so ``page.html#key`` links to it.

**Options** (:class:`FormatOptions`; :func:`load_config` reads the same
names from ``bibtools.toml`` or ``[tool.bibtools]`` in ``pyproject.toml``):

``style``
    a CSL style name or ``.csl`` path, or a BibTeX style: ``plain``,
    ``unsrt``, ``alpha``, ``abbrv``, a style TeX finds (``plainnat``,
    ``ieeetr``...) or a ``.bst`` path (see :mod:`bibtools.render`).
``engine``
    for a BibTeX style: ``pybtex`` (pure Python, the default) or ``bibtex``
    (the program).  The LaTeX output of a BibTeX style is its ``.bbl``'s
    LaTeX as it is (with the definitions it needs at the top).
``output``
    ``text``, ``markdown``, ``html`` or ``latex``; ``standalone`` (HTML
    only) makes a whole page with a search box and year/type/"has code"
    filters.
``group_by``
    ``none``, ``year`` (newest first, undated last) or ``type`` (journal
    articles, conference papers, preprints, books, ...); every heading
    has an anchor (``year-2024``, ``type-journal-articles``).
``sort``
    ``style`` (the style's own order: APA by author, IEEE by citation),
    ``none`` (input order), ``date-desc``, ``date-asc``, ``author``, ``title``.
``numbering``
    ``auto`` (numbered styles are numbered in the order shown, others not),
    ``none``, ``overall`` or ``group`` (restarting in every group).  A
    numbered style's label form is kept (``[3]``); others get ``3.``.
``highlight``
    names to set in bold wherever the style printed them, in any of the
    forms styles use: "Qingyi Si" also matches "Si, Qingyi", "Q. Si",
    "Si, Q.", "Si Q" and "Q.\u00a0Si"; "Si, Q." matches the initial forms.
``links``
    badges after each entry: ``[arXiv]``, ``[PDF]``, ``[DOI]`` and a code
    badge for the record's first code link: ``[Code ★ 1.2k]`` when the
    stars are known, ``[Code: moved]`` (linking to the new place) or
    ``[Code: unavailable]`` (no link) when the link report says so.
``stars``
    optional mapping of a repository URL or a citation key to its GitHub
    stars; without it the code link's own ``stars`` (what
    ``bibtools enrich --sources github`` sets) is used.
``code_status``
    optional mapping of a code URL to a :class:`CodeStatus` (or to a
    status string as ``bibtools links`` reports it: ``moved``, ``missing``,
    ``disabled``, ``blocked``, ...); :func:`code_status_from_report` builds
    it from a link report.
``template``
    a Jinja2 template file used instead of the default one (see
    ``bibtools/templates/README.md`` for the variables it receives).

**Safety.** Every string from the records is escaped for the output format
by :mod:`bibtools.render`'s renderers; only ``http``/``https`` URLs become
links; default HTML templates autoescape, and user templates ending in
``.html``/``.htm``/``.xml`` do too.
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostics, UsageError
from .model import Record
from .preprint import is_arxiv_preprint
from .render import (
    RENDERERS,
    Entry,
    Inline,
    Node,
    StyleResult,
    find_failing,
    html_escape,
    latex_escape,
    markdown_escape,
    normalize_inlines,
    render,
    safe_href,
)
from .text.markup import to_plain
from .text.names import parse_plain_name

OUTPUTS = ("text", "markdown", "html", "latex")
GROUPS = ("none", "year", "type")
SORTS = ("style", "none", "date-desc", "date-asc", "author", "title")
NUMBERINGS = ("auto", "none", "overall", "group")
ENGINES = ("pybtex", "bibtex")
TEMPLATES = {
    "text": "text.txt.j2",
    "markdown": "markdown.md.j2",
    "html": "fragment.html.j2",
    "latex": "latex.tex.j2",
}
STANDALONE_TEMPLATE = "page.html.j2"


@dataclass(frozen=True, slots=True)
class CodeStatus:
    """What the link report says about a code link."""

    status: str  # live, moved, archived, missing, disabled, blocked, unreachable, rate-limited
    new_url: str = ""  # moved: where to
    stars: int | None = None


@dataclass(slots=True)
class FormatOptions:
    style: str = "apa"
    output: str = "html"
    standalone: bool = False
    group_by: str = "none"
    sort: str = "style"
    numbering: str = "auto"
    highlight: Sequence[str] = ()
    links: bool = True
    template: str | None = None
    locale: str = "en-US"
    title: str = "Publications"
    stars: Mapping[str, int] | None = None
    code_status: Mapping[str, CodeStatus | str] | None = None
    engine: str = "pybtex"  # BibTeX styles: pybtex's interpreter, or the bibtex program
    # The input's @string/@preamble blocks (TextBlock): the macros the
    # records' BibTeX values use, for BibTeX styles.
    blocks: Sequence[Any] = ()

    def check(self) -> None:
        for name, allowed in (
            ("output", OUTPUTS),
            ("group_by", GROUPS),
            ("sort", SORTS),
            ("numbering", NUMBERINGS),
            ("engine", ENGINES),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise UsageError(
                    f"{name.replace('_', '-')}: {value!r} is not one of {', '.join(allowed)}"
                )
        if self.standalone and self.output != "html":
            raise UsageError("--standalone makes an HTML page: use it with -t html")


@dataclass(frozen=True, slots=True)
class Badge:
    label: str  # "arXiv", "PDF", "DOI", "Code ★ 1.2k", "Code: moved", "Code: unavailable"
    href: str  # a safe http(s) URL, or "" (shown without a link)
    kind: str  # arxiv, pdf, doi, code


@dataclass(slots=True)
class PageEntry:
    """One entry as templates see it; the ``html``... strings are escaped for their format."""

    key: str
    label: str
    body: tuple[Inline, ...]
    badges: list[Badge]
    record: Record | None
    year: str  # "" when undated
    type: str  # CSL type, or "preprint"
    type_label: str
    has_code: bool
    text: str = ""
    markdown: str = ""
    html: str = ""
    latex: str = ""
    source_latex: str = ""  # BibTeX styles: the entry's LaTeX from the .bbl, used as it is


@dataclass(slots=True)
class Group:
    title: str  # "" when the list is not grouped
    anchor: str  # "year-2024", "type-book": [a-z0-9-] only
    entries: list[PageEntry] = field(default_factory=list)


@dataclass(slots=True)
class FormatResult:
    text: str
    diagnostics: Diagnostics
    entries: list[PageEntry]
    groups: list[Group]


# --------------------------------------------------------------------------
# Types, years and sort keys

TYPE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Journal articles", ("article-journal", "article-magazine", "article-newspaper", "review")),
    ("Conference papers", ("paper-conference",)),
    ("Preprints", ("preprint",)),
    ("Books", ("book", "collection", "classic", "periodical")),
    (
        "Book chapters",
        ("chapter", "entry", "entry-dictionary", "entry-encyclopedia", "review-book"),
    ),
    ("Theses", ("thesis",)),
    ("Reports", ("report", "standard", "patent", "legislation", "bill")),
    ("Software and data", ("software", "dataset")),
    ("Talks and posters", ("speech", "event", "performance")),
)
_TYPE_LABEL = {t: label for label, types in TYPE_GROUPS for t in types}
OTHER_TYPES = "Other"


def entry_type(record: Record | None) -> str:
    if record is None:
        return "document"
    if is_arxiv_preprint(record) or (record.type in ("article", "manuscript") and record.arxiv_id):
        return "preprint"
    return record.type


def _year(record: Record | None) -> str:
    if record is None or record.issued.year is None:
        return ""
    return str(record.issued.year)


def _date_key(record: Record | None) -> tuple[int, int, int]:
    if record is None or record.issued.year is None:
        return (-(10**6), 0, 0)
    d = record.issued
    return (d.year or 0, d.month or 0, d.day or 0)


def _fold(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).casefold()


def _author_key(record: Record | None) -> tuple[Any, ...]:
    if record is None:
        return ((), (0, 0, 0), "")
    names = record.authors or record.editors
    people = tuple((_fold(n.literal or n.family), _fold(n.given)) for n in names)
    return (people, _date_key(record), _fold(to_plain(record.title)))


def _title_key(record: Record | None) -> str:
    return _fold(to_plain(record.title)) if record else ""


def _sorted(entries: list[PageEntry], how: str, input_order: dict[int, int]) -> list[PageEntry]:
    if how == "style":
        return entries
    if how == "none":
        return sorted(entries, key=lambda e: input_order.get(id(e.record), 0))
    if how == "date-desc":
        return sorted(entries, key=lambda e: _date_key(e.record), reverse=True)
    if how == "date-asc":
        undated = [e for e in entries if not e.year]
        dated = [e for e in entries if e.year]
        return sorted(dated, key=lambda e: _date_key(e.record)) + undated
    if how == "author":
        return sorted(entries, key=lambda e: _author_key(e.record))
    return sorted(entries, key=lambda e: _title_key(e.record))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _fold(text)).strip("-") or "other"


def _groups(entries: list[PageEntry], how: str) -> list[Group]:
    if how == "none":
        return [Group("", "", list(entries))]
    buckets: dict[str, Group] = {}
    if how == "year":
        for e in entries:
            title = e.year or "Undated"
            buckets.setdefault(
                title, Group(title, "year-" + _slug(e.year or "undated"))
            ).entries.append(e)
        return sorted(
            buckets.values(),
            key=lambda g: (not g.title.isdigit(), -int(g.title) if g.title.isdigit() else 0),
        )
    for e in entries:
        label = _TYPE_LABEL.get(e.type, OTHER_TYPES)
        buckets.setdefault(label, Group(label, "type-" + _slug(label))).entries.append(e)
    order = [label for label, _ in TYPE_GROUPS] + [OTHER_TYPES]
    return sorted(buckets.values(), key=lambda g: order.index(g.title))


# --------------------------------------------------------------------------
# Highlighting names


def name_variants(name: str) -> list[str]:
    """The forms styles print a person's name in, longest first.

    ``"Qingyi Si"`` -> ``Qingyi Si``, ``Si, Qingyi``, ``Si Qingyi``, ``Q. Si``,
    ``Si, Q.``, ``Si Q``, ``Q Si``, ``Si, Q`` ... (a hyphenated given name
    gives ``J.-P.`` and ``J-P``; several given names ``M. K.``, ``M.K.``, ``MK``).
    """
    name = " ".join(name.split())
    if not name:
        return []
    parsed = parse_plain_name(name)
    family = " ".join(p for p in (parsed.particle, parsed.family) if p)
    given = parsed.given
    if not family:
        return [name]
    givens: list[str] = []
    words = given.replace(".", ". ").split()
    if given and not all(len(w.rstrip(".")) <= 1 or (w.isupper() and len(w) <= 3) for w in words):
        givens.append(given)
    initials = _initial_forms(words)
    givens.extend(initials)
    forms: list[str] = []
    for g in givens or [""]:
        if not g:
            forms.append(family)
            continue
        forms += [f"{g} {family}", f"{family}, {g}", f"{family} {g}"]
    if parsed.suffix:
        forms = [f for f in forms] + [f"{f}, {parsed.suffix}" for f in forms]
    seen: dict[str, None] = {}
    for f in sorted(forms, key=len, reverse=True):
        seen.setdefault(f, None)
    return list(seen)


def _initial_forms(words: list[str]) -> list[str]:
    """``["Jean-Pierre", "Marie"]`` -> ``J.-P. M.``, ``J.-P.M.``, ``J-P M``, ``JPM``, ``J.``..."""
    if not words:
        return []
    per_word: list[list[str]] = []  # each word's hyphen parts' initials
    for w in words:
        parts = [p for p in w.split("-") if p]
        per_word.append([p[0] for p in parts if p[0].isalpha()])
    per_word = [p for p in per_word if p]
    if not per_word:
        return []
    dotted = " ".join("-".join(i + "." for i in p) for p in per_word)
    tight = "".join("-".join(i + "." for i in p) for p in per_word)
    bare = " ".join("-".join(p) for p in per_word)
    letters = "".join("".join(p) for p in per_word)
    first = per_word[0][0] + "."
    return list(dict.fromkeys([dotted, tight, bare, letters, first, per_word[0][0]]))


_SPACE = r"[\s\u00a0\u202f\u2009]+"


def highlight_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    variants: list[str] = []
    for name in names:
        variants.extend(name_variants(name))
    if not variants:
        return None
    variants = sorted(set(variants), key=len, reverse=True)
    alternatives = []
    for v in variants:
        pieces = [re.escape(p) for p in unicodedata.normalize("NFC", v).split(" ")]
        alternatives.append(_SPACE.join(pieces))
    # A variant ending in "." or "," may be followed by a letter ("Si, Q.R.")
    # only when it is not a word character continuing the name.
    return re.compile(r"(?<![\w.])(?:" + "|".join(alternatives) + r")(?![\w])")


def highlight(nodes: Sequence[Inline], pattern: re.Pattern[str] | None) -> tuple[Inline, ...]:
    """Wrap every match of ``pattern`` in text nodes in a bold ``highlight`` node."""
    if pattern is None:
        return tuple(nodes)
    out: list[Inline] = []
    for n in nodes:
        if isinstance(n, str):
            text = unicodedata.normalize("NFC", n)
            pos = 0
            for m in pattern.finditer(text):
                out.append(text[pos : m.start()])
                out.append(Node("b", (m.group(0),), cls="highlight"))
                pos = m.end()
            out.append(text[pos:])
        elif n.cls == "highlight":
            out.append(n)
        else:
            out.append(Node(n.tag, highlight(n.children, pattern), n.href, n.cls))
    return normalize_inlines(out)


# In LaTeX source a name's spaces may be ties (~) or control spaces.
_LATEX_SPACE = r"(?:\s+|~|\\ )+"


def highlight_latex_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """:func:`highlight_pattern` for names as LaTeX source spells them (``Q.~Si``)."""
    variants = sorted({v for name in names for v in name_variants(name)}, key=len, reverse=True)
    if not variants:
        return None
    alternatives = [
        _LATEX_SPACE.join(re.escape(p) for p in unicodedata.normalize("NFC", v).split(" "))
        for v in variants
    ]
    return re.compile(r"(?<![\w.\\])(?:" + "|".join(alternatives) + r")(?![\w])")


def highlight_latex(latex: str, pattern: re.Pattern[str] | None) -> str:
    """Every match of ``pattern`` in LaTeX source set in ``\\textbf{}``."""
    if pattern is None:
        return latex
    return pattern.sub(lambda m: "\\textbf{" + m.group(0) + "}", latex)


# --------------------------------------------------------------------------
# Badges


def format_stars(n: int) -> str:
    """``842``, ``1.2k``, ``12k``, ``1.5M`` (as GitHub shows them)."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        value, unit = n / 1000, "k"
    else:
        value, unit = n / 1_000_000, "M"
    text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
    return text.removesuffix(".0") + unit


def _stars(record: Record, url: str, options: FormatOptions) -> int | None:
    if options.stars:
        for k in (url, url.rstrip("/"), record.key):
            if k in options.stars:
                return int(options.stars[k])
    status = _status(url, options)
    if status and status.stars is not None:
        return status.stars
    # What `bibtools enrich --sources github` put on the code link.
    return next((c.stars for c in record.code_links if c.url == url and c.stars is not None), None)


def _status(url: str, options: FormatOptions) -> CodeStatus | None:
    if not options.code_status:
        return None
    value = options.code_status.get(url) or options.code_status.get(url.rstrip("/"))
    if value is None:
        return None
    return value if isinstance(value, CodeStatus) else CodeStatus(str(value))


_UNAVAILABLE = {"missing", "disabled", "blocked"}


def code_url(record: Record) -> str:
    """The record's first code link (an http(s) URL), or ``""``."""
    for link in record.code_links:
        if safe_href(link.url):
            return link.url
    from .text.urls import is_code_url

    return record.url if record.url and is_code_url(record.url) and safe_href(record.url) else ""


def badges(record: Record, options: FormatOptions) -> list[Badge]:
    out: list[Badge] = []
    if record.arxiv_id:
        out.append(Badge("arXiv", safe_href(f"https://arxiv.org/abs/{record.arxiv_id}"), "arxiv"))
    pdf = safe_href(record.pdf_url)
    if pdf:
        out.append(Badge("PDF", pdf, "pdf"))
    if record.doi:
        doi = re.sub(r"(?i)^(https?://(dx\.)?doi\.org/|doi:)", "", record.doi.strip())
        href = safe_href("https://doi.org/" + doi.replace(" ", "%20"))
        out.append(Badge("DOI", href, "doi"))
    url = code_url(record)
    if url:
        status = _status(url, options)
        if status and status.status == "moved":
            out.append(Badge("Code: moved", safe_href(status.new_url) or safe_href(url), "code"))
        elif status and status.status in _UNAVAILABLE:
            out.append(Badge("Code: unavailable", "", "code"))
        else:
            stars = _stars(record, url, options)
            label = f"Code \u2605 {format_stars(stars)}" if stars is not None else "Code"
            out.append(Badge(label, safe_href(url), "code"))
    return out


def code_status_from_report(report: Any) -> dict[str, CodeStatus]:
    """URL -> :class:`CodeStatus` from a ``bibtools.links.LinkReport`` (or its JSON dict)."""
    rows = report.get("results", []) if isinstance(report, dict) else getattr(report, "results", [])
    out: dict[str, CodeStatus] = {}
    for row in rows:
        get = row.get if isinstance(row, dict) else lambda k, r=row: getattr(r, k, None)
        url = get("url")
        if url:
            out[str(url)] = CodeStatus(
                str(get("status") or ""), str(get("new_url") or ""), get("stars")
            )
    return out


def _badge_nodes(items: list[Badge]) -> tuple[Inline, ...]:
    out: list[Inline] = []
    for b in items:
        out.append(" ")
        text = f"[{b.label}]"
        out.append(Node("a", (text,), b.href, cls=f"badge badge-{b.kind}") if b.href else text)
    return tuple(out)


# --------------------------------------------------------------------------
# Numbering


def _relabel(groups: list[Group], numbering: str, numbered_style: bool) -> None:
    """Numbers in the order shown; a numbered style's label form ([3], 3.) is kept.

    ``auto`` keeps the labels of unnumbered styles (none, or alpha's [Knu84])
    and renumbers numbered ones, whose engine numbers follow the input.
    """
    n = 0
    for group in groups:
        if numbering == "group":
            n = 0
        for e in group.entries:
            n += 1
            if numbering == "none":
                e.label = ""
            elif numbered_style and re.search(r"\d", e.label):
                e.label = re.sub(r"\d+", str(n), e.label, count=1)
            elif numbering != "auto":
                e.label = f"{n}."


# --------------------------------------------------------------------------
# Templates


def _environment(autoescape: bool, loader: Any = None, sandboxed: bool = False) -> Any:
    import jinja2

    cls = _sandbox_class() if sandboxed else jinja2.Environment
    env = cls(
        loader=loader or jinja2.PackageLoader("bibtools", "templates"),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["html"] = lambda s: jinja2.utils.markupsafe.Markup(html_escape(str(s)))
    env.filters["latex"] = lambda s: latex_escape(str(s))
    env.filters["md"] = lambda s: markdown_escape(str(s))
    env.filters["plain"] = lambda s: to_plain(str(s))
    return env


# A user template is someone else's file (a checkout's pyproject.toml names
# it): it runs in Jinja2's immutable sandbox, which refuses attributes such as
# ``__globals__`` and calls that change data, with products and powers that
# could build gigabytes refused too.  Only templates (not ``.env`` or
# ``.git/config``) may be included from beside it.
MAX_TEMPLATE_PRODUCT = 10_000_000
TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".html", ".htm", ".xml", ".md", ".tex", ".txt")


@lru_cache(maxsize=1)
def _sandbox_class() -> Any:
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Sandbox(ImmutableSandboxedEnvironment):  # type: ignore[misc]
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and _number(right) and abs(right) > 100:
                raise SecurityError(f"power {right!r} is too large")
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if (
                        hasattr(seq, "__len__")
                        and _number(n)
                        and len(seq) * n > MAX_TEMPLATE_PRODUCT
                    ):
                        raise SecurityError("a repeated sequence longer than 10,000,000")
            return super().call_binop(context, operator, left, right)

    return Sandbox


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


MAX_TEMPLATE_SIZE = 10 * 1024 * 1024


def _user_loader(directory: Path) -> Any:
    """Templates from ``directory`` only: a template file (by its suffix), not hidden,
    a regular file of at most 10 MiB whose real path is inside the directory (a
    link in someone's checkout must not carry ``~/.ssh/id_rsa`` into a page)."""
    import jinja2
    from jinja2.loaders import split_template_path

    root = os.path.realpath(directory)

    class Loader(jinja2.FileSystemLoader):
        def get_source(self, environment: Any, template: str) -> Any:
            def refuse(why: str) -> jinja2.TemplateNotFound:
                return jinja2.TemplateNotFound(f"{template} ({why})")

            parts = split_template_path(template)  # refuses ".." itself
            if any(p.startswith(".") for p in parts) or not template.lower().endswith(
                TEMPLATE_SUFFIXES
            ):
                raise refuse(
                    "only template files beside the template may be included: "
                    + ", ".join(TEMPLATE_SUFFIXES)
                )
            real = os.path.realpath(os.path.join(root, *parts))
            if os.path.commonpath([real, root]) != root or not real.lower().endswith(
                TEMPLATE_SUFFIXES
            ):
                raise refuse("a link to a file outside the template's directory")
            if os.path.exists(real) and (
                not os.path.isfile(real) or os.path.getsize(real) > MAX_TEMPLATE_SIZE
            ):
                raise refuse("not a template file of at most 10 MiB")
            return super().get_source(environment, template)

    return Loader(str(directory))


class _UserTemplate:
    """A user's template, loaded in the sandbox; its errors are one-line usage errors."""

    def __init__(self, path: Path, output: str) -> None:
        import jinja2

        self.path = path
        auto = path.suffix.lower() in (".html", ".htm", ".xml", ".j2") and output == "html"
        env = _environment(auto, _user_loader(path.parent), sandboxed=True)
        try:
            self.template = env.get_template(path.name)
        except jinja2.TemplateSyntaxError as exc:
            where = f"{exc.filename or path}:{exc.lineno}" if exc.lineno else str(path)
            raise UsageError(f"{where}: template syntax error: {exc.message}") from None
        except (jinja2.TemplateError, UnicodeDecodeError, OSError) as exc:
            raise UsageError(f"{path}: cannot load the template: {_one_line(exc)}") from None

    def render(self, **context: Any) -> str:
        import jinja2
        from jinja2.exceptions import SecurityError

        try:
            return str(self.template.render(**context))
        except SecurityError as exc:
            raise UsageError(f"{self._where(exc)}: template refused: {_one_line(exc)}") from None
        except jinja2.TemplateSyntaxError as exc:  # in a template it includes
            where = f"{exc.filename or self.path}:{exc.lineno}"
            raise UsageError(f"{where}: template syntax error: {exc.message}") from None
        except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as exc:
            # The template's own mistake: an undefined name, 1/0, "a" + 1, a range too big.
            raise UsageError(f"{self._where(exc)}: template error: {_one_line(exc)}") from None

    def _where(self, exc: BaseException) -> str:
        """``FILE:LINE`` of the template line that failed (Jinja2 puts it in the traceback)."""
        where = str(self.path)
        directory = os.path.realpath(self.path.parent)
        tb = exc.__traceback__
        while tb is not None:
            name = tb.tb_frame.f_code.co_filename
            if not name.endswith(".py") and os.path.realpath(name).startswith(directory):
                where = f"{name}:{tb.tb_lineno}"
            tb = tb.tb_next
        return where


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _template(options: FormatOptions) -> Any:
    if options.template:
        path = Path(options.template)
        if not path.is_file():
            raise UsageError(f"{options.template}: no such template file")
        return _UserTemplate(path, options.output)
    name = STANDALONE_TEMPLATE if options.standalone else TEMPLATES[options.output]
    return _environment(options.output == "html").get_template(name)


def _mark_safe(entries: list[PageEntry], output: str) -> None:
    if output != "html":
        return
    from markupsafe import Markup

    for e in entries:
        e.html = Markup(e.html)  # escaped by style.to_html


# --------------------------------------------------------------------------
# The entry point


def format_records(records: Sequence[Record], options: FormatOptions | None = None) -> FormatResult:
    """Render ``records`` (keys assigned) as a publication list; see the module docstring."""
    options = options or FormatOptions()
    options.check()
    styled = render_leaving_out(
        records,
        lambda some: render(
            some, options.style, options.locale, engine=options.engine, blocks=options.blocks
        ),
        options.style,
    )
    diagnostics = styled.diagnostics
    pattern = highlight_pattern(options.highlight)
    input_order = {id(r): i for i, r in enumerate(styled.records)}
    entries = [_page_entry(e, options, pattern) for e in styled.entries]
    entries = _sorted(entries, options.sort, input_order)
    groups = _groups(entries, options.group_by)
    _relabel(groups, options.numbering, styled.numbered)
    ordered = [e for g in groups for e in g.entries]
    latex_pattern = highlight_latex_pattern(options.highlight)
    for e in ordered:
        _render_entry(e, latex_pattern)
    _mark_safe(ordered, options.output)
    context = {
        "title": options.title,
        "groups": groups,
        "entries": ordered,
        "grouped": options.group_by != "none",
        "group_by": options.group_by,
        "style": options.style,
        "years": sorted({e.year for e in ordered if e.year}, reverse=True),
        "types": [
            (t, label)
            for label, types in [*TYPE_GROUPS, (OTHER_TYPES, ())]
            for t in sorted(
                {e.type for e in ordered if _TYPE_LABEL.get(e.type, OTHER_TYPES) == label}
            )
        ],
        "has_undated": any(not e.year for e in ordered),
        "any_code": any(e.has_code for e in ordered),
        # BibTeX styles: the definitions (from the .bbl) their LaTeX entries use.
        "latex_preamble": styled.latex_preamble,
    }
    text = _template(options).render(**context)
    return FormatResult(text, diagnostics, ordered, groups)


# At most this many trial renderings to find the records an engine fails on.
MAX_TRIALS = 64


def _canary() -> Record:
    """A record every style can format: when even it fails, the engine is broken, not a record."""
    from .model import Name, PartialDate

    return Record(
        type="article-journal",
        key="bibtoolscanary",
        title="A title",
        authors=[Name(family="Doe", given="Jane")],
        container_title="A journal",
        issued=PartialDate(2000),
    )


def render_leaving_out(
    records: Sequence[Record],
    render_some: Callable[[Sequence[Record]], StyleResult],
    style: str = "",
) -> StyleResult:
    """``render_some(records)``; when the engine fails on the list, the list without the
    records it fails on, each named in an error (one bad value must not take the page down).

    The culprits are found by bisection (a few renderings per bad record) and
    the rest is rendered in one run, so numbering and disambiguation are as
    without them.  A failure no record explains (a missing engine, a bug that
    hits even a plain record) is raised as it was.
    """
    try:
        return render_some(records)
    except Exception as exc:
        first: Exception = exc
    trials = 0

    def fails(some: Sequence[Record]) -> Exception | None:
        nonlocal trials
        if trials >= MAX_TRIALS:
            raise first
        trials += 1
        try:
            render_some(some)
        except Exception as exc:
            return exc
        return None

    if fails([_canary()]) is not None:
        raise first
    bad = [(rec, _one_line(exc)) for rec, exc in find_failing(records, fails, first)]
    if not bad:  # only a combination of records fails
        raise first
    left_out = {id(r) for r, _ in bad}
    result = render_some([r for r in records if id(r) not in left_out])
    what = f"the {style} style" if style else "the style"
    for rec, why in bad:
        result.diagnostics.error(
            rec.origin_file, rec.origin_line, f"left out: {what} cannot format it ({why})", rec.key
        )
    return result


def _page_entry(entry: Entry, options: FormatOptions, pattern: re.Pattern[str] | None) -> PageEntry:
    rec = entry.record
    body = highlight(entry.body, pattern)
    items = badges(rec, options) if rec is not None and options.links else []
    typ = entry_type(rec)
    return PageEntry(
        key=entry.key,
        label=entry.label,
        body=body,
        badges=items,
        record=rec,
        year=_year(rec),
        type=typ,
        type_label=_TYPE_LABEL.get(typ, OTHER_TYPES),
        has_code=bool(rec is not None and code_url(rec)),
        source_latex=entry.latex,
    )


def _render_entry(e: PageEntry, latex_pattern: re.Pattern[str] | None = None) -> None:
    tail = _badge_nodes(e.badges)
    full = e.body + tail
    e.text = RENDERERS["text"](e.body) + "".join(
        f" [{b.label}{': ' + b.href if b.href else ''}]" for b in e.badges
    )
    e.markdown = RENDERERS["markdown"](full)
    e.html = RENDERERS["html"](full)
    if e.source_latex:
        # A BibTeX style's LaTeX is the style's own: used as it is.
        e.latex = highlight_latex(e.source_latex, latex_pattern) + RENDERERS["latex"](tail)
    else:
        e.latex = RENDERERS["latex"](full)


# --------------------------------------------------------------------------
# Configuration

CONFIG_KEYS = {f.name for f in fields(FormatOptions)} - {"stars", "code_status", "blocks"}


def load_config(directory: str | Path = ".") -> tuple[dict[str, Any], str]:
    """The format options set in ``bibtools.toml`` or ``pyproject.toml`` of ``directory``.

    ``bibtools.toml`` wins over ``pyproject.toml``; in it the options are
    top-level keys (or under ``[format]``); in ``pyproject.toml`` they are
    under ``[tool.bibtools]`` (or ``[tool.bibtools.format]``, which
    overrides).  Returns (options, the file they came from) or ({}, "").
    Names may use ``-`` or ``_`` (``group-by``); other keys are left for other
    commands.  A file that is not valid TOML raises UsageError.
    """
    base = Path(directory)
    for name, path_in in (("bibtools.toml", ()), ("pyproject.toml", ("tool", "bibtools"))):
        path = base / name
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: not valid TOML: {exc}") from None
        except RecursionError:
            raise UsageError(f"{path}: not valid TOML: nested too deeply") from None
        table: Any = data
        for part in path_in:
            table = table.get(part, {}) if isinstance(table, dict) else {}
        if not isinstance(table, dict) or not table:
            continue
        merged = {k: v for k, v in table.items() if not isinstance(v, dict)}
        sub = table.get("format")
        if isinstance(sub, dict):
            merged.update(sub)
        options = {k.replace("-", "_"): v for k, v in merged.items()}
        options = {k: v for k, v in options.items() if k in CONFIG_KEYS}
        if options:
            return options, str(path)
    return {}, ""


def options_from_config(
    config: Mapping[str, Any], base: FormatOptions | None = None, source: str = "config"
) -> FormatOptions:
    """``base`` with the values of ``config`` (from :func:`load_config`) applied, checked."""
    base = base or FormatOptions()
    changes: dict[str, Any] = {}
    for key, value in config.items():
        default = getattr(FormatOptions(), key)
        if key == "highlight":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"{source}: highlight must be a name or a list of names")
            value = tuple(value)
        elif key == "template":
            if value is not None and not isinstance(value, str):
                raise UsageError(f"{source}: template must be a path")
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise UsageError(f"{source}: {key.replace('_', '-')} must be true or false")
        elif not isinstance(value, str):
            raise UsageError(f"{source}: {key.replace('_', '-')} must be a string")
        changes[key] = value
    result = replace(base, **changes)
    result.check()
    return result
