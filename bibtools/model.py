"""The record model every format maps to and from.

Text fields (title, container, abstract, note, ...) hold *markup*: Unicode
text in which ``{...}`` marks case-protected text, ``$...$`` is math (LaTeX
kept verbatim), a few formatting commands (``\\emph{}``, ``\\textbf{}``, ...)
are kept, and the four characters that would otherwise be ambiguous are
escaped (``\\{``, ``\\}``, ``\\$``, ``\\\\``).  :mod:`bibtools.text.markup` converts
between this and LaTeX, CSL's HTML-like markup and plain text.

Entry types use the CSL vocabulary (``article-journal``, ``paper-conference``,
``thesis``, ...), which every format maps into; ``source_type`` remembers the
type as the input spelled it, so that writing back to the same family of
formats is lossless (``@inbook`` and ``@incollection`` both are CSL
``chapter``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(slots=True)
class Name:
    """A personal name split into its parts, or a literal (organisation) name."""

    family: str = ""
    given: str = ""
    particle: str = ""  # "von", "van der": BibTeX's "von", CSL's non-dropping particle
    suffix: str = ""  # "Jr.", "III"
    literal: str = ""  # organisations, or a name that must not be split
    dropping_particle: str = ""  # CSL only: "van" in "Ludwig van Beethoven"
    # Name attributes only one format knows (CSL's comma-suffix, static-ordering...).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_literal(self) -> bool:
        return bool(self.literal)

    def display(self) -> str:
        """``Given von Family, Jr.``: for messages and matching, not for styles."""
        if self.literal:
            return self.literal
        parts = [p for p in (self.given, self.dropping_particle, self.particle, self.family) if p]
        text = " ".join(parts)
        return f"{text}, {self.suffix}" if self.suffix else text


@dataclass(slots=True)
class PartialDate:
    """A date of which only the year, or year and month, may be known.

    ``literal`` holds a date that could not be parsed ("Spring 1987", "in
    press"); it is written back as given.
    """

    year: int | None = None
    month: int | None = None
    day: int | None = None
    literal: str = ""
    season: str = ""  # CSL "season" (1-4 or a word)
    circa: bool = False
    end: PartialDate | None = None  # the end of a range ("2019/2020")

    def __bool__(self) -> bool:
        return self.year is not None or bool(self.literal)

    def iso(self) -> str:
        """``2022``, ``2022-04`` or ``2022-04-24``; empty when no year is known."""
        if self.year is None:
            return ""
        out = f"{self.year:04d}"
        if self.month:
            out += f"-{self.month:02d}"
            if self.day:
                out += f"-{self.day:02d}"
        return out


@dataclass(slots=True)
class CodeLink:
    """A link to code or data the paper announced.

    ``origin`` says where the link was found (``abstract``, ``code`` field,
    ``url``...), so a link checker can say why it checked it.  The other
    fields describe the repository as its host last reported it.
    """

    url: str
    origin: str = ""
    # What the code host says about the repository (bibtools enrich --sources github).
    stars: int | None = None
    license: str = ""  # SPDX id
    description: str = ""
    archived: bool | None = None
    pushed: str = ""  # date of the last push, YYYY-MM-DD


@dataclass(slots=True)
class Source:
    """How a BibTeX entry was written, so that what did not change is written back as it was.

    ``fields`` are (name, raw value) pairs in input order, the raw value as
    the file spelled it (delimiters, ``@string`` macros, ``#``).  ``read_as``
    holds the record's slots as the reader set them (see :func:`snapshot`);
    a slot that still holds that value is written from the raw fields that
    fed it, a changed one is encoded anew.
    """

    entry_type: str  # as written (lower case)
    key: str
    fields: tuple[tuple[str, str], ...]
    read_as: dict[str, Any]
    dialect: str = "bibtex"  # "biblatex" when the entry uses BibLaTeX-only fields


# Fields of Record that carry markup (LaTeX-ish rich text, see module docstring).
MARKUP_FIELDS = (
    "title",
    "short_title",
    "container_title",
    "collection_title",
    "publisher",
    "publisher_place",
    "event",
    "abstract",
    "note",
    "edition",
    "genre",
    "institution",
    "organization",
)


@dataclass(slots=True)
class Record:
    """One bibliographic item.

    ``extra`` keeps, verbatim and in input order, the fields of the input
    format that the model has no slot for (BibTeX field names, RIS tags or
    CSL variable names; ``extra_format`` says which), so a round trip through
    the same format loses nothing.
    """

    type: str = "document"
    key: str = ""
    title: str = ""
    authors: list[Name] = field(default_factory=list)
    authors_truncated: bool = False
    editors: list[Name] = field(default_factory=list)
    editors_truncated: bool = False
    issued: PartialDate = field(default_factory=PartialDate)
    container_title: str = ""  # journal, proceedings, book title
    collection_title: str = ""  # series
    volume: str = ""
    issue: str = ""  # journal issue (BibTeX "number" of an article)
    number: str = ""  # report, patent or standard number (BibTeX "number" of a techreport)
    collection_number: str = ""  # number in a series (BibTeX "number" of a book)
    pages: str = ""  # "12--34" normalised to "12-34"
    publisher: str = ""
    publisher_place: str = ""
    institution: str = ""  # school / institution (theses, reports)
    organization: str = ""  # sponsoring organisation (manuals, proceedings)
    event: str = ""
    edition: str = ""
    genre: str = ""  # "PhD thesis", "Technical report"
    doi: str = ""
    url: str = ""
    isbn: str = ""
    issn: str = ""
    arxiv_id: str = ""  # without version: "2204.12345", "hep-th/9901001"
    arxiv_version: int | None = None
    arxiv_primary_class: str = ""
    arxiv_categories: list[str] = field(default_factory=list)
    journal_ref: str = ""  # arXiv's journal reference: where the paper was published
    arxiv_comment: str = ""  # arXiv's comments ("12 pages, 3 figures; ACL 2022")
    pdf_url: str = ""
    abstract: str = ""
    keywords: list[str] = field(default_factory=list)
    note: str = ""
    language: str = ""
    short_title: str = ""
    accessed: PartialDate = field(default_factory=PartialDate)
    code_links: list[CodeLink] = field(default_factory=list)
    code_announced: bool = False
    affiliations: list[str] = field(default_factory=list)
    crossref: str = ""  # key of the parent entry (BibTeX crossref)
    source_type: str = ""  # entry type as the input spelled it
    extra: dict[str, Any] = field(default_factory=dict)
    extra_format: str = ""  # which format the keys of ``extra`` belong to
    # The entry as a BibTeX file wrote it (BibTeX input only): never compared.
    source: Source | None = field(default=None, compare=False, repr=False)
    # Where the record came from, for diagnostics: never written out.
    origin_file: str = field(default="", compare=False)
    origin_line: int = field(default=0, compare=False)

    def location(self) -> str:
        """``FILE:LINE`` of the record's origin, for messages."""
        if self.origin_file and self.origin_line:
            return f"{self.origin_file}:{self.origin_line}"
        return self.origin_file or "<input>"

    def copy(self, **changes: Any) -> Record:
        return replace(self, **changes)

    def populated(self) -> dict[str, Any]:
        """The fields that hold a value (for reports and tests)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.compare and value not in ("", None, [], {}, False) and value != PartialDate():
                out[f.name] = value
        return out


def _frozen(value: Any) -> Any:
    """A copy that later in-place edits of the record cannot reach."""
    if isinstance(value, list):
        return [replace(v) if hasattr(v, "__dataclass_fields__") else v for v in value]
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, PartialDate):
        return replace(value, end=replace(value.end) if value.end else None)
    return value


# The slots a Source tracks: every compared field but the key (kept apart).
_TRACKED = tuple(f.name for f in fields(Record) if f.compare and f.name != "key")
_DEFAULTS = {
    f.name: (f.default_factory() if callable(f.default_factory) else f.default)  # type: ignore[misc]
    for f in fields(Record)
    if f.name in _TRACKED
}


def snapshot(rec: Record) -> dict[str, Any]:
    """The record's slots that differ from their defaults, copied (for :attr:`Source.read_as`)."""
    out = {}
    for name in _TRACKED:
        value = getattr(rec, name)
        if value != _DEFAULTS[name]:
            out[name] = _frozen(value)
    return out


def changed_slots(rec: Record) -> set[str]:
    """The slots that differ from how the reader set them; ``extra:NAME`` for extra fields.

    Every slot for a record without a :class:`Source` (it was not read from BibTeX).
    """
    if rec.source is None:
        return set(_TRACKED)
    read_as = rec.source.read_as
    out = set()
    for name in _TRACKED:
        if name == "extra":
            continue
        if getattr(rec, name) != read_as.get(name, _DEFAULTS[name]):
            out.add(name)
    old_extra = read_as.get("extra", {})
    for name in old_extra.keys() | rec.extra.keys():
        if old_extra.get(name) != rec.extra.get(name):
            out.add(f"extra:{name}")
    return out


# The CSL item types (CSL 1.0.2); every format maps its types into these.
CSL_TYPES = frozenset(
    """article article-journal article-magazine article-newspaper bill book
    broadcast chapter classic collection dataset document entry
    entry-dictionary entry-encyclopedia event figure graphic hearing interview
    legal_case legislation manuscript map motion_picture musical_score pamphlet
    paper-conference patent performance periodical personal_communication post
    post-weblog regulation report review review-book software song speech
    standard thesis treaty webpage""".split()
)
