"""RIS reader and writer: fixtures from Zotero, JabRef and rispy, properties, tolerance."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import bibtexparser
import pytest
import rispy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bibtools.diagnostics import Level
from bibtools.formats import ReadOptions, ReadResult, WriteOptions, ris
from bibtools.model import CSL_TYPES, CodeLink, Name, PartialDate, Record
from bibtools.text.markup import from_plain, to_plain
from bibtools.text.names import parse_bibtex_names

FIXTURES = Path(__file__).parent / "fixtures" / "ris"
ALL_RIS = sorted(FIXTURES.glob("*/*.ris"))


def read_text(text: str, source: str = "t.ris") -> ReadResult:
    return ris.read(text, ReadOptions(source=source))


def read_path(path: Path) -> ReadResult:
    # Bytes decoded as UTF-8 without stripping the BOM: the reader must cope.
    return read_text(path.read_bytes().decode("utf-8"), source=str(path))


def write(records: list[Record]) -> str:
    return ris.write(records, WriteOptions()).text


# --------------------------------------------------------------------------
# Every fixture reads


# Files where not every TY-opened record becomes a record, and why.
SPECIAL_COUNTS = {
    # Not RIS at all: Web of Science tagged format.
    "rispy_example_wos.ris": (0, 0),
    # No TY anywhere: tags outside a record are ignored.
    "jabref_RisImporterCorrupted.ris": (0, 0),
    # Eleven TY lines; eight of them open records with no other field (skipped).
    "jabref_RisImporterTest1.ris": (11, 3),
}


@pytest.mark.parametrize("path", ALL_RIS, ids=lambda p: p.name)
def test_every_fixture_reads(path: Path) -> None:
    result = read_path(path)
    errors = [d for d in result.diagnostics if d.level is Level.ERROR]
    assert result.detected == len(result.records) + len(errors)
    if path.name in SPECIAL_COUNTS:
        assert (result.detected, len(result.records)) == SPECIAL_COUNTS[path.name]
    else:
        assert result.records and result.detected == len(result.records)
    for rec in result.records:
        assert rec.origin_file == str(path) and rec.origin_line > 0
        assert rec.type in CSL_TYPES
    for diag in result.diagnostics:
        assert diag.file == str(path) and diag.line > 0


def test_web_of_science_is_not_ris() -> None:
    text = (FIXTURES / "rispy" / "rispy_example_wos.ris").read_text(encoding="utf-8")
    assert not ris.sniff(text)
    result = read_text(text)
    assert result.detected == 0 and result.records == []
    assert "Web of Science" in result.diagnostics[0].message


@pytest.mark.parametrize(
    "path", [p for p in ALL_RIS if p.name not in SPECIAL_COUNTS], ids=lambda p: p.name
)
def test_fixtures_sniff_as_ris(path: Path) -> None:
    assert ris.sniff(path.read_bytes().decode("utf-8"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "@article{k, title={TY  - not RIS}}",
        '[{"type": "article", "title": "TY  - x"}]',
        "Smith, J. (2020). A title. Journal.\n",
        "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Smith, J\nER\n",
    ],
)
def test_other_formats_do_not_sniff_as_ris(text: str) -> None:
    assert not ris.sniff(text)


# --------------------------------------------------------------------------
# Comparison with what Zotero and JabRef read from the same files

ZOTERO_TYPES = {
    "artwork": "graphic",
    "audioRecording": "song",
    "bill": "bill",
    "blogPost": "post-weblog",
    "book": "book",
    "bookSection": "chapter",
    "case": "legal_case",
    "computerProgram": "software",
    "conferencePaper": "paper-conference",
    "dataset": "dataset",
    "dictionaryEntry": "entry-dictionary",
    "document": "document",
    "email": "personal_communication",
    "encyclopediaArticle": "entry-encyclopedia",
    "film": "motion_picture",
    "hearing": "hearing",
    "journalArticle": "article-journal",
    "letter": "personal_communication",
    "magazineArticle": "article-magazine",
    "manuscript": "manuscript",
    "map": "map",
    "newspaperArticle": "article-newspaper",
    "patent": "patent",
    "report": "report",
    "statute": "legislation",
    "thesis": "thesis",
    "videoRecording": "motion_picture",
    "webpage": "webpage",
}
# Zotero's per-type names for the creator an AU line makes.
ZOTERO_PRIMARY_CREATORS = {
    "author",
    "artist",
    "cartographer",
    "composer",
    "director",
    "interviewee",
    "inventor",
    "podcaster",
    "programmer",
}
ZOTERO_CONTAINERS = (
    "publicationTitle",
    "bookTitle",
    "proceedingsTitle",
    "websiteTitle",
    "blogTitle",
    "dictionaryTitle",
    "encyclopediaTitle",
)
ZOTERO_TITLES = ("title", "caseName", "nameOfAct", "subject")
JABREF_TYPES = {
    "article": "article-journal",
    "book": "book",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
    "phdthesis": "thesis",
    "patent": "patent",
    "techreport": "report",
    "misc": "document",
}
COMPARED = (
    "type",
    "title",
    "authors",
    "editors",
    "year",
    "pages",
    "volume",
    "issue",
    "doi",
    "container",
)

J1 = "jabref_RisImporterTest1"
Z01 = "zotero_ris_01_method-of-detecting-aids-virus-infection"
Z02 = "zotero_ris_02_title"
Z04 = "zotero_ris_04_act-name"
CHEM = "JabRef prefers JO (here 'J. Chem. Phys.'); we take the full T2/JF title, JO stays in extra"
PLACEHOLDER = "placeholder file (values are tag labels): "
# Deliberate differences: (file stem, record index or "*", field or "*") -> reason.
DIFFERENCES: dict[tuple[str, int | str, str], str] = {
    (
        J1,
        "*",
        "*",
    ): "eleven TY lines: we close the open record at each TY (3 records with fields); JabRef merges all into one",
    (
        "jabref_RisImporterTest3",
        0,
        "issue",
    ): "JabRef reads M1 (miscellaneous) as the issue; M1 stays in extra",
    (
        "jabref_RisImporterTest5a",
        0,
        "issue",
    ): "JabRef reads M1 (miscellaneous) as the issue; M1 stays in extra",
    (
        "jabref_RisImporterTest6",
        0,
        "authors",
    ): "JabRef adds a period after the initial ('Margaret E.'); we keep the name as written",
    (
        "jabref_RisImporterTest6",
        0,
        "issue",
    ): "JabRef reads AN (accession number) as the issue; AN stays in extra",
    (
        "jabref_RisImporterTest6",
        0,
        "title",
    ): "JabRef's BibTeX spells the em dash '--'; we keep the Unicode em dash",
    (
        "jabref_RisImporterTest7",
        0,
        "authors",
    ): "JabRef appends A2 to the authors of a BOOK; A2 is RIS's secondary (editor) role",
    (
        "jabref_RisImporterTest7",
        0,
        "editors",
    ): "JabRef appends A2 to the authors of a BOOK; we read A2 as editors",
    ("jabref_RisImporterTest8_date", 0, "container"): CHEM,
    ("jabref_RisImporterTestDate1.1", 0, "container"): CHEM,
    ("jabref_RisImporterTestDate1.2", 0, "container"): CHEM,
    ("jabref_RisImporterTestWithEmptyER", 0, "container"): CHEM,
    (
        "jabref_RisImporterTestDOI",
        0,
        "issue",
    ): "JabRef lets AN (the PubMed id) overwrite IS; we read IS, AN stays in extra",
    (
        Z01,
        0,
        "editors",
    ): "Zotero reads A2 of a patent as the issuing authority; A2 is an editor for every type here",
    (Z01, 0, "issue"): "Zotero drops IS for patents (no issue field); we keep it",
    (Z01, 0, "volume"): "Zotero drops VL for patents (no volume field); we keep it",
    (
        "zotero_ris_03_rapid-identification-of-thousands-of-cop",
        0,
        "issue",
    ): "Zotero reads M1 as a journal issue (EndNote habit); M1 stays in extra",
    (
        "zotero_ris_11_citavi-item",
        0,
        "type",
    ): "Zotero reads GEN as a journal article; GEN is RIS's generic type, CSL document",
    (Z02, "*", "container"): PLACEHOLDER
    + "Zotero maps T2/J2/BT per item type (code, committee, series...); T2 is our container except for book-like types",
    (Z02, "*", "editors"): PLACEHOLDER
    + "Zotero reads A2/A3 as sponsor, performer, recipient, series editor... per type; A2 and ED are editors here",
    (Z02, "*", "pages"): PLACEHOLDER
    + "Zotero moves SP to numPages, runningTime, codePages... per type; SP is pages here",
    (Z02, "*", "volume"): PLACEHOLDER
    + "Zotero moves VL to per-type fields or drops it; VL is volume here",
    (Z02, "*", "issue"): PLACEHOLDER + "Zotero reads M1 as a journal issue; M1 stays in extra",
    (
        Z02,
        8,
        "title",
    ): "CASE: Zotero ends up with ST (abbreviated case name) as the case name; we take TI",
    (Z02, 17, "authors"): "EDBOOK: Zotero reads AU as editors; AU are authors for every type here",
    (Z02, 44, "title"): "STAT: Zotero ends up with ST as the name of the act; we take TI",
    (
        Z02,
        0,
        "type",
    ): "AGGR (aggregated database) is a CSL dataset; Zotero has no such type (document)",
    (Z02, 1, "type"): "ANCIENT (ancient text) is a CSL classic; Zotero: document",
    (Z02, 9, "type"): "CTLG (catalog) is read as a book; Zotero: magazine article",
    (Z02, 10, "type"): "CHART is a CSL figure; Zotero: artwork (graphic)",
    (Z02, 11, "type"): "CLSWK (classical work) is a CSL classic; Zotero: book",
    (Z02, 23, "type"): "FIGURE is a CSL figure; Zotero: artwork (graphic)",
    (
        Z02,
        25,
        "type",
    ): "Zotero reads GEN as a journal article; GEN is RIS's generic type, CSL document",
    (
        Z02,
        27,
        "type",
    ): "GRANT has no CSL type (document); Zotero does not know it and falls back to journal article",
    (Z02, 30, "type"): "LEGAL (legal rule or regulation) is a CSL regulation; Zotero: case",
    (Z02, 34, "type"): "MUSIC (music score) is a CSL musical_score; Zotero: audio recording (song)",
    (Z02, 38, "type"): "PAMP (pamphlet) is a CSL pamphlet; Zotero: manuscript",
    (Z02, 43, "type"): "STAND (standard) is a CSL standard; Zotero: report",
    (
        Z02,
        46,
        "type",
    ): "UNPB (unpublished work) is read as a manuscript; Zotero does not know it (journal article)",
    (Z04, "*", "container"): PLACEHOLDER
    + "Zotero parses ProCite-style labelled N1 lines ('Proceedings Title: ...') into fields and maps JO/T2 per type",
    (Z04, "*", "editors"): PLACEHOLDER
    + "Zotero reads A2/A3 per type (recipient, performer, assignee, series editor); A2 is an editor here, A3 stays in extra",
    (Z04, "*", "pages"): PLACEHOLDER
    + "Zotero moves SP to per-type fields (numPages, section...); SP is pages here",
    (Z04, "*", "volume"): PLACEHOLDER
    + "Zotero moves VL to per-type fields (edition, bill number...); VL is volume here",
    (Z04, "*", "issue"): PLACEHOLDER
    + "Zotero moves IS to per-type fields (volume, patent number...); IS is the issue here",
    (
        Z04,
        15,
        "type",
    ): "Zotero reads GEN as a journal article; GEN is RIS's generic type, CSL document",
    (
        Z04,
        18,
        "type",
    ): "INPR (in press) is a journal article not yet in an issue; Zotero: manuscript",
    (Z04, 22, "type"): "JFULL (a whole journal) is a CSL periodical; Zotero: journal article",
    (Z04, 27, "type"): "MUSIC (music score) is a CSL musical_score; Zotero: audio recording (song)",
    (Z04, 34, "type"): "CTLG (catalog) is read as a book; Zotero: magazine article",
    (Z04, 35, "type"): "UNBILL (unenacted bill) is a CSL bill; Zotero: manuscript",
    (
        Z04,
        36,
        "type",
    ): "UNPB (unpublished work) is read as a manuscript; Zotero does not know it (journal article)",
}


def _year(text: str) -> int | None:
    match = re.search(r"\b(\d{4})\b", text or "")
    return int(match.group(1)) if match and match.group(1) != "0000" else None


def _ours(rec: Record) -> dict[str, Any]:
    return {
        "type": rec.type,
        "title": to_plain(rec.title),
        "authors": [n.display() for n in rec.authors],
        "editors": [n.display() for n in rec.editors],
        "year": rec.issued.year,
        "pages": rec.pages,
        "volume": rec.volume,
        "issue": rec.issue,
        "doi": rec.doi,
        "container": to_plain(rec.container_title),
    }


def _zotero_name(creator: dict[str, str]) -> str:
    return " ".join(p for p in (creator.get("firstName", ""), creator["lastName"]) if p)


def _zotero(item: dict[str, Any]) -> dict[str, Any]:
    creators = item.get("creators", [])
    date = item.get("date") or item.get("issueDate") or item.get("dateDecided") or ""
    return {
        "type": ZOTERO_TYPES[item["itemType"]],
        "title": next((item[k] for k in ZOTERO_TITLES if k in item), ""),
        "authors": [
            _zotero_name(c) for c in creators if c["creatorType"] in ZOTERO_PRIMARY_CREATORS
        ],
        "editors": [_zotero_name(c) for c in creators if c["creatorType"] == "editor"],
        "year": _year(date or item.get("dateEnacted", "")),
        "pages": item.get("pages", ""),
        "volume": item.get("volume", ""),
        "issue": item.get("issue", ""),
        "doi": item.get("DOI", ""),
        "container": next((item[k] for k in ZOTERO_CONTAINERS if k in item), ""),
    }


def _jabref(entry: Any) -> dict[str, Any]:
    fields = {f.key.lower(): f.value for f in entry.fields}
    authors, _ = parse_bibtex_names(fields.get("author", ""))
    editors, _ = parse_bibtex_names(fields.get("editor", ""))
    return {
        "type": JABREF_TYPES[entry.entry_type.lower()],
        "title": fields.get("title", ""),
        "authors": [n.display() for n in authors],
        "editors": [n.display() for n in editors],
        "year": _year(fields.get("year", "")),
        "pages": fields.get("pages", "").replace("--", "-"),
        "volume": fields.get("volume", ""),
        "issue": fields.get("number", ""),
        "doi": fields.get("doi", ""),
        "container": fields.get("journal") or fields.get("booktitle", ""),
    }


def expected_records(path: Path) -> list[dict[str, Any]] | None:
    stem = path.name[: -len(".ris")]
    zotero = path.with_name(stem + ".expected.json")
    if zotero.exists():
        return [_zotero(item) for item in json.loads(zotero.read_text(encoding="utf-8"))["items"]]
    jabref = path.with_name(stem + ".expected.bib")
    if jabref.exists():
        library = bibtexparser.parse_string(jabref.read_text(encoding="utf-8"))
        return [_jabref(entry) for entry in library.entries]
    return None


def fixture_mismatches() -> dict[tuple[str, int | str, str], tuple[Any, Any]]:
    """Every (file, record, field) where we read something else than Zotero/JabRef."""
    out: dict[tuple[str, int | str, str], tuple[Any, Any]] = {}
    for path in ALL_RIS:
        expected = expected_records(path)
        if expected is None:
            continue
        stem = path.name[: -len(".ris")]
        ours = [_ours(rec) for rec in read_path(path).records]
        if len(ours) != len(expected):
            out[(stem, "*", "count")] = (len(ours), len(expected))
        for index, (mine, theirs) in enumerate(zip(ours, expected, strict=False)):
            for name in COMPARED:
                if mine[name] != theirs[name]:
                    out[(stem, index, name)] = (mine[name], theirs[name])
    return out


def _covering(key: tuple[str, int | str, str]) -> tuple[str, int | str, str] | None:
    stem, index, name = key
    for candidate in ((stem, index, name), (stem, "*", name), (stem, index, "*"), (stem, "*", "*")):
        if candidate in DIFFERENCES:
            return candidate
    return None


def test_fixture_differences_are_the_listed_ones() -> None:
    mismatches = fixture_mismatches()
    unexplained = {k: v for k, v in mismatches.items() if _covering(k) is None}
    assert unexplained == {}
    used = {_covering(k) for k in mismatches}
    assert sorted(set(DIFFERENCES) - used, key=str) == []  # no stale entry


def test_fixture_comparison_covers_the_fixtures() -> None:
    compared = [p for p in ALL_RIS if expected_records(p) is not None]
    records = sum(len(expected_records(p) or []) for p in compared)
    assert len(compared) == 30 and records == 116
    # Outside Zotero's two placeholder files, differences are the exception.
    real = [k for k in fixture_mismatches() if k[0] not in (Z02, Z04)]
    assert len(real) < (records - 48 - 39) * len(COMPARED) // 10


def _full_record() -> Record:
    return Record(
        type="article-journal",
        key="gogh2020sunflowers",
        title=from_plain("Sunflowers and {braces}: a $5 study"),
        authors=[
            Name(family="Gogh", given="Vincent", particle="van"),
            Name(family="Smith", given="John", suffix="Jr."),
            Name(literal="The Painters Consortium"),
        ],
        editors=[Name(family="Doe", given="Jane")],
        issued=PartialDate(2020, 5, 12),
        container_title="Journal of Art",
        volume="12",
        issue="3",
        pages="12-34",
        publisher="Art Press",
        publisher_place="Amsterdam",
        doi="10.1234/art.2020.12",
        url="https://example.org/sunflowers",
        issn="1234-5678",
        abstract="First paragraph.\nSecond paragraph.",
        keywords=["art", "flowers"],
        note="A note.",
        language="en",
        code_links=[CodeLink("https://github.com/vgogh/sunflowers", origin="abstract")],
        affiliations=["Arles Studio", "Paris Academy"],
    )


def _preprint() -> Record:
    return Record(
        type="article",
        key="liu2022learning",
        title="Learning to Learn",
        authors=[Name(family="Liu", given="Mei")],
        issued=PartialDate(2022, 4, 26),
        arxiv_id="2204.12345",
        arxiv_version=2,
        arxiv_primary_class="cs.CL",
        arxiv_categories=["cs.CL"],
    )


# --------------------------------------------------------------------------
# What we write, rispy reads the same way


def _rispy_pages(entry: dict[str, Any]) -> str:
    start, end = entry.get("start_page", ""), entry.get("end_page", "")
    return f"{start}-{end}" if start and end else start


def test_rispy_reads_what_we_write() -> None:
    records = [rec for path in ALL_RIS for rec in read_path(path).records]
    records += [_full_record(), _preprint()]
    text = write(records)
    ours = read_text(text).records
    theirs = rispy.loads(text)
    assert len(theirs) == len(ours) == len(records)
    for mine, entry in zip(ours, theirs, strict=True):
        assert entry["type_of_reference"] == ris.ris_type(mine)
        assert entry.get("title", "") == to_plain(mine.title)
        assert entry.get("authors", []) == [ris.format_name(n) for n in mine.authors]
        # PY may repeat (an unparsed PY kept in extra); rispy keeps one of them.
        assert _year(entry.get("year", "")) == mine.issued.year
        # A junk DO ("DOI" in Zotero's placeholder file) stays in extra, so rispy sees it.
        doi = ris.normalize_doi(entry.get("doi", ""))
        assert doi == mine.doi if mine.doi else not doi.startswith("10.")
        assert _rispy_pages(entry) == mine.pages


# --------------------------------------------------------------------------
# Properties

_TEXT_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"))


def _clean(text: str) -> str:
    # A byte-order mark opening a line is what RIS files glued together carry:
    # the reader drops it, so no value can start with one.
    return re.sub(r"[ \t]+", " ", text).strip().lstrip("\ufeff").strip()


TEXT = st.text(_TEXT_CHARS, min_size=1, max_size=30).map(_clean).filter(bool)
WORD = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 .,:()]{0,18}[A-Za-z0-9]", fullmatch=True).map(_clean)
LINE = TEXT.filter(lambda t: not re.match(r"[A-Z][A-Z0-9][ \t]{1,3}-|ER\s*$", t))
FAMILY = st.from_regex(r"[A-Z][a-zäöüéèñ]{1,8}(-[A-Z][a-z]{1,6})?", fullmatch=True)
GIVEN = st.lists(st.from_regex(r"[A-Z](\.|[a-zäé]{1,7})", fullmatch=True), min_size=1, max_size=2)
PERSON = st.builds(
    Name,
    family=FAMILY,
    given=GIVEN.map(" ".join),
    particle=st.sampled_from(["", "", "van", "von", "de", "van der", "de la"]),
    suffix=st.sampled_from(["", "", "", "Jr.", "III"]),
)
ORGANISATION = st.from_regex(r"[A-Z][a-z]{2,8}( [A-Z][a-z]{2,8}){0,2}", fullmatch=True).map(
    lambda s: Name(literal=s)
)
NAMES = st.lists(st.one_of(PERSON, PERSON, ORGANISATION), max_size=4)
LITERAL_DATES = ("in press", "n.d.", "Spring 1987?", "forthcoming")
UNMODELLED_TAGS = ("M2", "C1", "C2", "U1", "U2", "RN", "LB", "CN", "NV", "OP")
# CSL types RIS carries: writing them and reading back gives the same type.
ROUND_TRIP_TYPES = sorted(t for t, ty in ris.CSL_TO_RIS.items() if ris.RIS_TYPES[ty] == t)


@st.composite
def dates(draw: st.DrawFn) -> PartialDate:
    kind = draw(st.sampled_from(["y", "ym", "ymd", "literal"]))
    if kind == "literal":
        return PartialDate(literal=draw(st.sampled_from(LITERAL_DATES)))
    year = draw(st.integers(1000, 2999))
    month = draw(st.integers(1, 12)) if kind != "y" else None
    day = draw(st.integers(1, 28)) if kind == "ymd" else None
    return PartialDate(year, month, day, season=draw(st.sampled_from(["", "", "Spring"])))


def _maybe(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), strategy)


@st.composite
def carried_records(draw: st.DrawFn) -> Record:
    """Records restricted to what RIS carries (see the module docstring)."""
    preprint = draw(st.booleans()) and draw(st.booleans())
    rtype = "article" if preprint else draw(st.sampled_from(ROUND_TRIP_TYPES))
    ty = ris.CSL_TO_RIS[rtype]
    rec = Record(
        type=rtype, key=draw(st.from_regex(r"[a-z]{2,8}[0-9]{4}[a-z]{0,6}", fullmatch=True))
    )
    rec.title = from_plain(draw(TEXT))
    rec.authors = draw(NAMES)
    rec.editors = draw(st.lists(PERSON, max_size=2))
    rec.issued = draw(st.one_of(st.just(PartialDate()), dates()))
    rec.container_title = from_plain(draw(_maybe(TEXT)))
    rec.collection_title = from_plain(draw(_maybe(TEXT)))
    if ty in ris.CONFERENCE and rec.container_title:
        rec.event = from_plain(draw(_maybe(WORD)))
    rec.volume, rec.issue = draw(_maybe(WORD)), draw(_maybe(WORD))
    rec.collection_number = draw(_maybe(WORD))
    if ty in ris.NUMBERED:
        rec.number = draw(_maybe(st.from_regex(r"[A-Z]{2,4}-[0-9]{1,4}", fullmatch=True)))
    rec.pages = draw(
        _maybe(st.from_regex(r"[1-9][0-9]{0,3}(-[1-9][0-9]{0,3})?|e[0-9]{3,6}", fullmatch=True))
    )
    first, second = draw(_maybe(WORD)), draw(_maybe(WORD))
    if ty in ris.INSTITUTIONAL:
        rec.institution, rec.publisher = from_plain(first), from_plain(second if first else "")
    else:
        rec.publisher, rec.institution = from_plain(first), from_plain(second if first else "")
    rec.publisher_place = from_plain(draw(_maybe(WORD)))
    rec.edition, rec.genre = from_plain(draw(_maybe(WORD))), from_plain(draw(_maybe(WORD)))
    rec.doi = draw(_maybe(st.from_regex(r"10\.[0-9]{4,5}/[a-z0-9.-]{1,12}", fullmatch=True)))
    rec.url = draw(
        _maybe(st.from_regex(r"https://(example\.org|doi\.org)/[a-z0-9/]{0,12}", fullmatch=True))
    )
    rec.isbn = draw(_maybe(st.from_regex(r"978[0-9]{10}", fullmatch=True)))
    rec.issn = draw(_maybe(st.from_regex(r"[0-9]{4}-[0-9]{3}[0-9X]", fullmatch=True)))
    if preprint or (rtype == "article-journal" and draw(st.booleans())):
        rec.arxiv_id = draw(
            st.from_regex(r"2[0-9]{3}\.[0-9]{5}|(hep-th|math\.AG|cs)/0[0-9]{6}", fullmatch=True)
        )
        rec.arxiv_version = draw(st.one_of(st.none(), st.integers(1, 12)))
        rec.arxiv_primary_class = draw(st.sampled_from(["", "cs.CL", "hep-th", "math.AG"]))
        # RIS always gets a URL for a preprint (arXiv's abstract page when there is none).
        rec.url = rec.url or f"https://arxiv.org/abs/{rec.arxiv_id}"
    rec.abstract = from_plain("\n".join(draw(st.lists(LINE, max_size=3))))
    rec.keywords = draw(st.lists(WORD, max_size=3))
    rec.note = from_plain("\n".join(draw(st.lists(TEXT, max_size=3))))
    rec.language = draw(_maybe(WORD))
    rec.short_title = from_plain(draw(_maybe(TEXT)))
    rec.accessed = draw(st.one_of(st.just(PartialDate()), dates()))
    links = draw(
        st.lists(
            st.from_regex(
                r"https://(github\.com|gitlab\.com|huggingface\.co)/[a-z]{1,8}/[a-z0-9-]{1,10}",
                fullmatch=True,
            ),
            unique=True,
            max_size=2,
        )
    )
    rec.code_links = [CodeLink(url, origin="url") for url in links]
    rec.affiliations = draw(st.lists(WORD, max_size=2))
    extra = draw(
        st.dictionaries(
            st.sampled_from(UNMODELLED_TAGS),
            st.lists(st.one_of(WORD, LINE), min_size=1, max_size=2),
            max_size=3,
        )
    )
    if extra:
        rec.extra, rec.extra_format = extra, "ris"
    return rec


CARRIED = [
    "type",
    "key",
    "title",
    "authors",
    "editors",
    "issued",
    "container_title",
    "collection_title",
    "volume",
    "issue",
    "number",
    "collection_number",
    "pages",
    "publisher",
    "publisher_place",
    "institution",
    "event",
    "edition",
    "genre",
    "doi",
    "url",
    "isbn",
    "issn",
    "arxiv_id",
    "arxiv_version",
    "arxiv_primary_class",
    "abstract",
    "keywords",
    "note",
    "language",
    "short_title",
    "accessed",
    "code_links",
    "affiliations",
    "extra",
]


@pytest.mark.slow
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(carried_records())
def test_read_of_write_is_identity_on_what_ris_carries(rec: Record) -> None:
    result = read_text(write([rec]))
    assert result.detected == 1 and [d for d in result.diagnostics if d.level is Level.ERROR] == []
    (back,) = result.records
    assert {f: getattr(back, f) for f in CARRIED} == {f: getattr(rec, f) for f in CARRIED}


@pytest.mark.slow
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(carried_records(), min_size=1, max_size=3))
def test_write_is_stable_through_a_read(records: list[Record]) -> None:
    text = write(records)
    assert write(read_text(text).records) == text


ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=25)  # utf-8: no lone surrogates


@st.composite
def wild_records(draw: st.DrawFn) -> Record:
    """Anything the model can hold, including what RIS cannot carry."""
    names = st.lists(
        st.builds(
            Name,
            family=ANY_TEXT,
            given=ANY_TEXT,
            particle=ANY_TEXT,
            suffix=ANY_TEXT,
            literal=ANY_TEXT,
        ),
        max_size=3,
    )
    rec = Record(
        type=draw(st.sampled_from([*sorted(ris.CSL_TO_RIS), "event", "collection", "nonsense"])),
        key=draw(ANY_TEXT),
        title=draw(ANY_TEXT),
        authors=draw(names),
        editors=draw(names),
        authors_truncated=draw(st.booleans()),
        issued=draw(st.one_of(st.just(PartialDate()), dates())),
        container_title=draw(ANY_TEXT),
        collection_title=draw(ANY_TEXT),
        event=draw(ANY_TEXT),
        volume=draw(ANY_TEXT),
        pages=draw(ANY_TEXT),
        publisher=draw(ANY_TEXT),
        institution=draw(ANY_TEXT),
        doi=draw(ANY_TEXT),
        url=draw(ANY_TEXT),
        isbn=draw(ANY_TEXT),
        arxiv_id=draw(_maybe(st.from_regex(r"2[0-9]{3}\.[0-9]{5}", fullmatch=True))),
        abstract=draw(ANY_TEXT),
        note=draw(ANY_TEXT),
        genre=draw(ANY_TEXT),
        keywords=draw(st.lists(ANY_TEXT, max_size=2)),
        affiliations=draw(st.lists(ANY_TEXT, max_size=2)),
        code_links=[CodeLink(u) for u in draw(st.lists(ANY_TEXT, max_size=2))],
        source_type=draw(
            st.sampled_from(["", "JOUR", "jour", "Journal Article", "EJOUR", "book", "GEN"])
        ),
    )
    # Extra holds what the reader did not map (see READ_TAGS), plus mapped
    # tags whose model slot is already filled (a second title, volume, key).
    filled = {
        tag
        for tag, value in (
            ("TI", to_plain(rec.title)),
            ("T1", to_plain(rec.title)),
            ("VL", rec.volume),
            ("ID", rec.key),
        )
        if value.strip()
    }
    tags = st.from_regex(r"[A-Z][A-Z0-9]", fullmatch=True).filter(lambda t: t not in ris.READ_TAGS)
    rec.extra = draw(
        st.dictionaries(
            st.one_of(tags, st.sampled_from(sorted(filled) or ["U1"])),
            st.lists(ANY_TEXT, min_size=1, max_size=2),
            max_size=3,
        )
    )
    rec.extra_format = draw(st.sampled_from(["ris", "bibtex"]))
    return rec


@pytest.mark.slow
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(wild_records(), min_size=1, max_size=2))
def test_write_is_stable_through_a_read_for_any_record(records: list[Record]) -> None:
    text = write(records)
    assert write(read_text(text).records) == text


RIS_LINE = st.one_of(
    st.builds(
        lambda t, v: f"{t}  - {v}",
        st.sampled_from(
            [
                "TY",
                "ER",
                "AU",
                "TI",
                "PY",
                "DA",
                "SP",
                "EP",
                "UR",
                "KW",
                "N1",
                "AB",
                "T2",
                "SN",
                "DO",
                "AN",
                "ZZ",
            ]
        ),
        ANY_TEXT,
    ),
    st.builds(lambda t, v: f"{t} -{v}", st.sampled_from(["TY", "ER", "T1", "Y1"]), ANY_TEXT),
    ANY_TEXT,
    st.just(""),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=300),
        st.lists(RIS_LINE, max_size=25).map("\n".join),
        st.lists(RIS_LINE, max_size=25).map("\r\n".join),
    )
)
@pytest.mark.slow
def test_read_never_raises(text: str) -> None:
    result = read_text(text)
    errors = [d for d in result.diagnostics if d.level is Level.ERROR]
    assert result.detected == len(result.records) + len(errors)
    assert all(d.line >= 1 and d.file == "t.ris" for d in result.diagnostics)
    # What we read, we can write; and the written form is a fixed point.
    written = write(result.records)
    assert write(read_text(written).records) == written


# --------------------------------------------------------------------------
# Tolerance: what real exports get wrong, with the lines diagnostics name


def _warnings(result: ReadResult) -> list[tuple[int, str]]:
    return [(d.line, d.message) for d in result.diagnostics if d.level is Level.WARNING]


def test_crlf_line_ends() -> None:
    result = read_text("TY  - JOUR\r\nTI  - A title\r\nAB  - One\r\nTwo\r\nER  - \r\n")
    (rec,) = result.records
    assert rec.title == "A title" and rec.abstract == "One\nTwo"
    assert result.diagnostics == []


def test_byte_order_mark() -> None:
    result = read_text("\ufeffTY  - JOUR\nTI  - A title\nER  - \n")
    (rec,) = result.records
    assert (rec.type, rec.source_type, rec.title) == ("article-journal", "JOUR", "A title")
    assert ris.sniff("\ufeffTY  - JOUR\n")


def test_blank_lines_and_text_around_records_are_ignored() -> None:
    text = (
        "Record #1 of 2\nProvider: Somewhere\n\n"  # 1-3
        "TY  - JOUR\n\nTI  - First\n\nER  - \n"  # 4-8
        "Exported 2024\n\n"  # 9-10
        "TY  - BOOK\nTI  - Second\nER  - \n"  # 11-13
        "trailer\n"
    )
    result = read_text(text)
    assert [r.title for r in result.records] == ["First", "Second"]
    assert [r.origin_line for r in result.records] == [4, 11]
    assert result.diagnostics == []


def test_continuation_lines() -> None:
    text = "TY  - JOUR\nTI  - A title that\n   wraps onto   two lines\nN1  - first\n  * second\nKW  - one\ntwo\nER  - \n"
    (rec,) = read_text(text).records
    assert rec.title == "A title that wraps onto two lines"
    assert rec.note == "first\n* second"
    assert rec.keywords == ["one", "two"]


def test_tags_with_missing_spaces() -> None:
    text = "TY  -JOUR\nTI -A title\nAU  -Smith, Jane\nPY -  2020\nER  -\n"
    (rec,) = read_text(text).records
    assert (rec.type, rec.title, rec.issued.year) == ("article-journal", "A title", 2020)
    assert rec.authors == [Name(family="Smith", given="Jane")]


def test_empty_type_tag() -> None:
    result = read_text("TY -\nTI  - Untyped\nER  - \n")
    (rec,) = result.records
    assert rec.type == "document"
    assert _warnings(result) == [(1, "empty TY; read as document")]


def test_empty_tags_are_dropped() -> None:
    (rec,) = read_text("TY  - JOUR\nIS  - \nSP  -\nT2  - \nTI  - T\nER  - \n").records
    assert (rec.issue, rec.pages, rec.container_title, rec.extra) == ("", "", "", {})


def test_missing_er_at_end_of_input() -> None:
    result = read_text("TY  - JOUR\nTI  - Closed\nER  - \n\nTY  - JOUR\nID  - open1\nTI  - Open\n")
    assert [r.title for r in result.records] == ["Closed", "Open"]
    assert result.detected == 2
    (diag,) = result.diagnostics
    assert (diag.line, diag.key, diag.level) == (5, "open1", Level.WARNING)
    assert "no ER" in diag.message


def test_er_without_ty() -> None:
    result = read_text("TY  - JOUR\nTI  - A\nER  - \nER  - \n")
    assert len(result.records) == 1
    assert _warnings(result) == [(4, "ER without a TY; ignored")]


def test_ty_while_a_record_is_open_closes_it() -> None:
    text = "TY  - JOUR\nID  - first\nTI  - A\nTY  - BOOK\nTI  - B\nER  - \n"
    result = read_text(text)
    assert [(r.type, r.title, r.origin_line) for r in result.records] == [
        ("article-journal", "A", 1),
        ("book", "B", 4),
    ]
    (diag,) = result.diagnostics
    assert (diag.line, diag.key, diag.message) == (
        1,
        "first",
        "TY at line 4 before ER; record closed there",
    )


def test_tags_outside_a_record() -> None:
    result = read_text("JF  - Journal\nT1  - Orphan\nER  - \n")
    assert result.records == [] and result.detected == 0
    assert _warnings(result) == [
        (1, "JF outside a record (no TY before it); ignored"),
        (3, "ER without a TY; ignored"),
    ]


def test_record_with_only_a_type_is_skipped_with_an_error() -> None:
    result = read_text("\nTY  - JOUR\nER  - \nTY  - JOUR\nTI  - Kept\nER  - \n")
    assert [r.title for r in result.records] == ["Kept"]
    assert result.detected == 2
    (diag,) = result.diagnostics
    assert (diag.level, diag.line) == (Level.ERROR, 2)


def test_unknown_type_is_kept_for_writing_back() -> None:
    text = "TY  - Journal Article\nTI  - T\nER  - \n"
    result = read_text(text)
    (rec,) = result.records
    assert (rec.type, rec.source_type) == ("document", "Journal Article")
    assert _warnings(result) == [(1, "unknown RIS type 'Journal Article'; read as document")]
    assert write([rec]) == text


def test_diagnostics_name_the_source_and_the_record_line() -> None:
    text = "\n\nTY  - JOUR\nID  - k\nPY  - someday\nER  - \n"
    result = ris.read(text, ReadOptions(source="refs.ris"))
    (diag,) = result.diagnostics
    assert str(diag) == "refs.ris:3: warning: k: date 'someday' not understood; kept as text"
    assert result.records[0].issued == PartialDate(literal="someday")


# --------------------------------------------------------------------------
# Reading: tag by tag


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020", PartialDate(2020)),
        ("2020///", PartialDate(2020)),
        ("2020//", PartialDate(2020)),
        ("2020/05/12/", PartialDate(2020, 5, 12)),
        ("2020/05//", PartialDate(2020, 5)),
        ("2020-05-12", PartialDate(2020, 5, 12)),
        ("2020-05", PartialDate(2020, 5)),
        ("2020/05/12/Spring", PartialDate(2020, 5, 12, season="Spring")),
        ("2020///Spring", PartialDate(2020, season="Spring")),
        ("1990/2/27", PartialDate(1990, 2, 27)),
        ("2015/october", PartialDate(2015, 10)),
        ("2001/00/00/", PartialDate(2001)),
        ("///", None),
        ("0000", None),
        ("Year", PartialDate(literal="Year")),
        ("99", PartialDate(literal="99")),
        ("2020/13/01", PartialDate(literal="2020/13/01")),
        ("2021/02/29/", PartialDate(literal="2021/02/29/")),
    ],
)
def test_parse_date(text: str, expected: PartialDate | None) -> None:
    assert ris.parse_date(text) == expected


def test_date_precedence_and_leftovers() -> None:
    # Zotero: Y1 is deprecated, DA wins even when Y1 comes first.
    (rec,) = read_text(
        "TY  - JOUR\nY1  - 1900/01/01\nDA  - 1950/01/01\nPY  - 1950\nER  - \n"
    ).records
    assert rec.issued == PartialDate(1950, 1, 1)
    assert rec.extra == {"Y1": ["1900/01/01"]}  # PY 1950 says nothing new
    # A year-only winner takes month and day from a later tag of the same year.
    text = "TY  - JOUR\nY1  - 2013\nPY  - 2013/04/18\nPY  - 2013/02/15/received\nY2  - 2019/03/28\nER  - \n"
    (rec,) = read_text(text).records
    assert rec.issued == PartialDate(2013, 4, 18)
    assert rec.accessed == PartialDate(2019, 3, 28)
    assert rec.extra == {"PY": ["2013/02/15/received"]}


def test_pages() -> None:
    def pages(lines: str) -> tuple[str, dict[str, list[str]]]:
        (rec,) = read_text(f"TY  - JOUR\n{lines}ER  - \n").records
        return rec.pages, rec.extra

    assert pages("SP  - 12\nEP  - 34\n") == ("12-34", {})
    assert pages("EP  - 34\nSP  - 12\n") == ("12-34", {})
    assert pages("SP  - e0815\n") == ("e0815", {})
    assert pages("SP  - 1–22\n") == ("1-22", {})
    assert pages("SP  - 1-22\nEP  - 30\n") == ("1-22", {"EP": ["30"]})
    assert pages("EP  - 30\n") == ("", {"EP": ["30"]})
    (rec,) = read_text("TY  - JOUR\nVL  - 7\nCP  - 4\nIS  - 5\nER  - \n").records
    assert (rec.volume, rec.issue, rec.extra) == ("7", "4", {"IS": ["5"]})


def test_identifiers() -> None:
    text = (
        "TY  - JOUR\nSN  - 0915-5287\nSN  - 2187-5626\nSN  - 978-1-4822-5326-9\n"
        "DO  - https://doi.org/10.1234/ABC.5\nDO  - doi:10.9999/second\nER  - \n"
    )
    (rec,) = read_text(text).records
    assert (rec.issn, rec.isbn, rec.doi) == ("0915-5287", "978-1-4822-5326-9", "10.1234/ABC.5")
    assert rec.extra == {"SN": ["2187-5626"], "DO": ["doi:10.9999/second"]}
    for raw in (
        "doi:10.1201/b19107-2",
        "http://dx.doi.org/10.1201/b19107-2",
        "DOI: 10.1201/b19107-2",
    ):
        assert read_text(f"TY  - JOUR\nDO  - {raw}\nER  - \n").records[0].doi == "10.1201/b19107-2"
    (rec,) = read_text("TY  - JOUR\nDO  - DOI\nM3  - doi: 10.1063/1.1954747\nER  - \n").records
    assert (rec.doi, rec.genre, rec.extra) == ("10.1063/1.1954747", "", {"DO": ["DOI"]})
    (rec,) = read_text("TY  - RPRT\nSN  - TR-2020-7\nER  - \n").records
    assert (rec.number, rec.isbn, rec.issn) == ("TR-2020-7", "", "")
    (rec,) = read_text("TY  - BOOK\nM1  - 12\nSV  - 3\nER  - \n").records
    assert (rec.collection_number, rec.extra) == ("12", {"SV": ["3"]})


def test_urls() -> None:
    text = (
        "TY  - COMP\nUR  - http://example.org/a; https://github.com/owner/repo\n"
        "UR  - http://example.org/b http://example.org/c\n"
        "UR  - https://huggingface.co/org/model\n"
        "UR  - http://example.org/x;jsessionid=12\n"
        "L1  - file.pdf\nL2  - http://example.org/full\nL4  - fig.png\nER  - \n"
    )
    (rec,) = read_text(text).records
    assert rec.url == "http://example.org/a"
    assert rec.code_links == [
        CodeLink("https://github.com/owner/repo", origin="url"),
        CodeLink("https://huggingface.co/org/model", origin="url"),
    ]
    assert rec.extra == {
        "UR": [
            "http://example.org/b",
            "http://example.org/c",
            "http://example.org/x;jsessionid=12",
        ],
        "L1": ["file.pdf"],
        "L2": ["http://example.org/full"],
        "L4": ["fig.png"],
    }


def test_titles_and_containers() -> None:
    text = (
        "TY  - JOUR\nT1  - A {braced} $5 title\nTI  - Second title\nJF  - Journal of Things\n"
        "JA  - J. Things\nJ2  - J Thing\nT3  - A Series\nST  - Short\nER  - \n"
    )
    (rec,) = read_text(text).records
    assert rec.title == from_plain("A {braced} $5 title") == "A \\{braced\\} \\$5 title"
    assert (rec.container_title, rec.collection_title, rec.short_title) == (
        "Journal of Things",
        "A Series",
        "Short",
    )
    assert rec.extra == {"TI": ["Second title"], "JA": ["J. Things"], "J2": ["J Thing"]}
    # Only the abbreviation: it is the container.
    (rec,) = read_text("TY  - JOUR\nJA  - J. Things\nER  - \n").records
    assert (rec.container_title, rec.extra) == ("J. Things", {})
    # A book's T2 is its series; a conference's T2 and C3 are event and proceedings.
    (rec,) = read_text("TY  - BOOK\nT2  - Lecture Notes\nER  - \n").records
    assert (rec.collection_title, rec.container_title) == ("Lecture Notes", "")
    (rec,) = read_text("TY  - CONF\nT2  - ACL 2020\nC3  - Proceedings of ACL\nER  - \n").records
    assert (rec.event, rec.container_title) == ("ACL 2020", "Proceedings of ACL")
    (rec,) = read_text("TY  - CHAP\nT2  - The Book\nBT  - Other\nER  - \n").records
    assert (rec.container_title, rec.extra) == ("The Book", {"BT": ["Other"]})


def test_people_and_other_fields() -> None:
    text = (
        "TY  - THES\nID  - doe2020\nAU  - Doe, Jane\nA1  - van Gogh, Vincent\nAU  - Smith, John, Jr.\n"
        "AU  - World Health Organization\nA2  - Editor, Ed\nED  - Other, Ed\nA3  - Series, Ed\n"
        "A4  - Translator, T\nPB  - MIT\nCY  - Cambridge\nAD  - Lab A\nAD  - Lab B\nLA  - en\n"
        "ET  - 2nd\nM3  - PhD thesis\nAB  - Abstract\nN2  - Other abstract\nN1  - Note one\n"
        "N1  - Note two\nKW  - k1\nKW  - k2\nER  - \n"
    )
    (rec,) = read_text(text).records
    assert rec.key == "doe2020"
    assert rec.authors == [
        Name(family="Doe", given="Jane"),
        Name(family="Gogh", given="Vincent", particle="van"),
        Name(family="Smith", given="John", suffix="Jr."),
        Name(literal="World Health Organization"),
    ]
    assert rec.editors == [Name(family="Editor", given="Ed"), Name(family="Other", given="Ed")]
    assert (rec.institution, rec.publisher, rec.publisher_place) == ("MIT", "", "Cambridge")
    assert rec.affiliations == ["Lab A", "Lab B"]
    assert (rec.language, rec.edition, rec.genre) == ("en", "2nd", "PhD thesis")
    assert (rec.abstract, rec.note, rec.keywords) == (
        "Abstract",
        "Note one\nNote two",
        ["k1", "k2"],
    )
    assert rec.extra == {"A3": ["Series, Ed"], "A4": ["Translator, T"], "N2": ["Other abstract"]}
    assert rec.extra_format == "ris"


def test_arxiv_accession_number_reads_back() -> None:
    text = "TY  - GEN\nTI  - P\nDB  - arXiv\nAN  - arXiv:2204.12345v2 [cs.CL]\nER  - \n"
    (rec,) = read_text(text).records
    assert (rec.type, rec.arxiv_id, rec.arxiv_version, rec.arxiv_primary_class) == (
        "article",
        "2204.12345",
        2,
        "cs.CL",
    )
    assert rec.extra == {}
    (rec,) = read_text("TY  - JOUR\nAN  - arXiv:hep-th/9901001\nER  - \n").records
    assert (rec.type, rec.arxiv_id, rec.arxiv_version) == (
        "article-journal",
        "hep-th/9901001",
        None,
    )
    (rec,) = read_text("TY  - GEN\nAN  - 26957754\nDB  - PubMed\nER  - \n").records
    assert (rec.type, rec.arxiv_id, rec.extra) == (
        "document",
        "",
        {"AN": ["26957754"], "DB": ["PubMed"]},
    )


# --------------------------------------------------------------------------
# Writing

FULL_RECORD_RIS = (
    """\
TY  - JOUR
ID  - gogh2020sunflowers
TI  - Sunflowers and {braces}: a $5 study
AU  - van Gogh, Vincent
AU  - Smith, John, Jr.
AU  - The Painters Consortium
A2  - Doe, Jane
T2  - Journal of Art
AB  - First paragraph.
Second paragraph.
AD  - Arles Studio
AD  - Paris Academy
CY  - Amsterdam
DA  - 2020/05/12/
PY  - 2020
DO  - 10.1234/art.2020.12
VL  - 12
IS  - 3
SP  - 12
EP  - 34
LA  - en
PB  - Art Press
SN  - 1234-5678
UR  - https://example.org/sunflowers
N1  - A note.
N1  - Code: https://github.com/vgogh/sunflowers
KW  - art
KW  - flowers
"""
    + "ER  - \n"
)


def test_writer_layout() -> None:
    assert write([_full_record()]) == FULL_RECORD_RIS
    two = write([_full_record(), _full_record()])
    assert two == FULL_RECORD_RIS + "\n" + FULL_RECORD_RIS  # a blank line between records
    assert "\r" not in two and two.startswith("TY  - ") and two.endswith("ER  - \n")


def test_writer_markup_becomes_plain_text() -> None:
    rec = Record(
        type="article-journal", title="\\emph{Deep} {BERT} for $\\alpha$", abstract="Uses {GPU}s"
    )
    text = write([rec])
    assert "TI  - Deep BERT for α\n" in text and "AB  - Uses GPUs\n" in text


def test_writer_dates() -> None:
    def dates(issued: PartialDate, accessed: PartialDate | None = None) -> list[str]:
        rec = Record(type="book", title="T", issued=issued, accessed=accessed or PartialDate())
        return [line for line in write([rec]).splitlines() if line[:2] in ("DA", "PY", "Y2")]

    assert dates(PartialDate(2020)) == ["PY  - 2020"]
    assert dates(PartialDate(2020, 5)) == ["DA  - 2020/05//", "PY  - 2020"]
    assert dates(PartialDate(2020, 5, 2, season="Spring")) == [
        "DA  - 2020/05/02/Spring",
        "PY  - 2020",
    ]
    assert dates(PartialDate(literal="in press"), PartialDate(2024, 1, 2)) == [
        "DA  - in press",
        "Y2  - 2024/01/02/",
    ]


def test_preprints_are_generic_with_the_arxiv_identity() -> None:
    text = write([_preprint()])
    assert text == (
        "TY  - GEN\nID  - liu2022learning\nTI  - Learning to Learn\nAU  - Liu, Mei\n"
        "DA  - 2022/04/26/\nPY  - 2022\nUR  - https://arxiv.org/abs/2204.12345\n"
        "DB  - arXiv\nAN  - arXiv:2204.12345v2 [cs.CL]\nER  - \n"
    )
    (back,) = read_text(text).records
    assert (back.type, back.arxiv_id, back.arxiv_version, back.arxiv_primary_class) == (
        "article",
        "2204.12345",
        2,
        "cs.CL",
    )
    assert write([back]) == text
    # A type-"article" record with only a category is a preprint too.
    rec = Record(type="article", title="T", arxiv_primary_class="hep-th")
    assert write([rec]).splitlines()[0] == "TY  - GEN" and "AN  - arXiv [hep-th]" in write([rec])
    # The published version keeps its journal type and still carries the arXiv id.
    published = _preprint().copy(type="article-journal", container_title="J. Learning")
    lines = write([published]).splitlines()
    assert lines[0] == "TY  - JOUR" and "AN  - arXiv:2204.12345v2 [cs.CL]" in lines


def test_ris_type_choice() -> None:
    assert (
        ris.ris_type(
            Record(type="paper-conference", source_type="inproceedings", extra_format="bibtex")
        )
        == "CONF"
    )
    assert (
        ris.ris_type(Record(type="paper-conference", source_type="CPAPER", extra_format="ris"))
        == "CPAPER"
    )
    assert (
        ris.ris_type(Record(type="article-journal", source_type="EJOUR", extra_format="ris"))
        == "EJOUR"
    )
    # The type changed since it was read: the RIS type no longer fits.
    assert ris.ris_type(Record(type="book", source_type="JOUR", extra_format="ris")) == "BOOK"
    assert ris.ris_type(Record(type="event")) == "GEN"
    for csl, ty in ris.CSL_TO_RIS.items():
        assert ris.ris_type(Record(type=csl)) == ty


def test_names_in_ris_order() -> None:
    assert (
        ris.format_name(Name(family="Gogh", given="Vincent", particle="van")) == "van Gogh, Vincent"
    )
    assert ris.format_name(Name(family="Smith", given="John", suffix="Jr.")) == "Smith, John, Jr."
    assert ris.format_name(Name(family="Plato")) == "Plato"
    assert ris.format_name(Name(literal="Acme  Corp")) == "Acme Corp"
    # A comma in a literal would split it on reading: written as it will read back.
    assert ris.format_name(Name(literal="Google, Inc.")) == "Google, Inc."


def test_extra_is_written_only_for_ris() -> None:
    rec = Record(
        type="article-journal", title="T", extra={"M1": ["x"], "C1": ["y"]}, extra_format="ris"
    )
    assert write([rec]) == "TY  - JOUR\nTI  - T\nM1  - x\nC1  - y\nER  - \n"
    assert "M1" not in write([rec.copy(extra_format="bibtex", extra={"M1": "x"})])
    # A stray TY or ER in extra must not break the record.
    assert (
        write([rec.copy(extra={"ER": ["x"], "TY": ["y"], "bad": ["z"]})])
        == "TY  - JOUR\nTI  - T\nER  - \n"
    )


def test_truncated_lists_end_with_others_and_read_back_truncated() -> None:
    # texnique.bib (TeX Live): author = "Bart Childs and others".
    from bibtools.convert import read_file

    path = Path(__file__).parent / "fixtures" / "bibtex" / "texlive" / "texnique.bib"
    (rec,) = [r for r in read_file(str(path), "bibtex").records if r.key == "Childs:TQ7-117"]
    assert rec.authors_truncated and len(rec.authors) == 1
    result = ris.write([rec.copy(editors=[Name("E", "F")], editors_truncated=True)], WriteOptions())
    assert not result.diagnostics  # nothing to warn about: the list says it
    lines = result.text.splitlines()
    assert lines[lines.index("AU  - Childs, Bart") + 1] == "AU  - others"
    assert "A2  - E, F\nA2  - others" in result.text
    (back,) = read_text(result.text).records
    assert back.authors == rec.authors and back.authors_truncated
    assert back.editors == [Name("E", "F")] and back.editors_truncated
    assert write([back]) == result.text
    # "others" anywhere but last is a name like any other.
    (mid,) = read_text("TY  - JOUR\nAU  - others\nAU  - Doe, J\nER  - \n").records
    assert mid.authors == [Name(literal="others"), Name("Doe", "J")] and not mid.authors_truncated


def test_text_that_would_read_as_a_tag_is_kept_inside_its_field() -> None:
    rec = Record(
        type="article-journal", title="T", abstract="Intro.\nAU  - not an author\n\nER  - \nEnd."
    )
    text = write([rec])
    (back,) = read_text(text).records
    assert back.authors == [] and back.abstract == "Intro. AU  - not an author ER  -\nEnd."
    assert write([back]) == text


def test_empty_record_is_not_written() -> None:
    result = ris.write(
        [Record(type="article", origin_file="x.json", origin_line=3)], WriteOptions()
    )
    assert result.text == ""
    assert [(d.file, d.line) for d in result.diagnostics] == [("x.json", 3)]


def test_round_trip_of_every_fixture_is_stable() -> None:
    for path in ALL_RIS:
        records = read_path(path).records
        text = write(records)
        again = read_text(text).records
        assert write(again) == text, path.name
        # Nothing is lost: every value read comes back, in the model or in extra.
        for before, after in zip(records, again, strict=True):
            assert {f: getattr(after, f) for f in CARRIED} == {
                f: getattr(before, f) for f in CARRIED
            }


def test_ur_is_the_paper_and_code_goes_to_a_note_that_reads_back() -> None:
    # Issue 17: a listing record knows only its code; UR must not be the repository.
    rec = Record(
        type="article",
        title="Attention Is All You Need",
        code_links=[CodeLink("https://github.com/tensorflow/tensor2tensor", origin="abstract")],
    )
    text = write([rec])
    assert "UR  - " not in text
    assert "N1  - Code: https://github.com/tensorflow/tensor2tensor\n" in text
    rec.arxiv_id = "1706.03762"
    text = write([rec])
    assert [line for line in text.splitlines() if line.startswith("UR")] == [
        "UR  - https://arxiv.org/abs/1706.03762"
    ]
    (back,) = read_text(text).records
    assert [c.url for c in back.code_links] == ["https://github.com/tensorflow/tensor2tensor"]
    assert back.note == "" and back.url == "https://arxiv.org/abs/1706.03762"


# --------------------------------------------------------------------------
# The reader's fast paths (issue 18) give what the general paths give

_WORD = st.from_regex(r"[A-Z][a-zäöüéèçñßøı]{0,8}", fullmatch=True)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.lists(_WORD, min_size=1, max_size=2).map("-".join),
    given_names=st.lists(
        st.tuples(_WORD, st.sampled_from(["", "."])).map("".join), min_size=1, max_size=3
    ).map(" ".join),
)
def test_a_simple_name_splits_as_the_name_parser_splits_it(family: str, given_names: str) -> None:
    from bibtools.text.names import parse_plain_name

    text = f"{family}, {given_names}"
    assert ris._SIMPLE_NAME.fullmatch(text)
    assert ris._parse_name(text) == parse_plain_name(text, suffix_last=True)


@pytest.mark.parametrize(
    "text", ["van Gogh, Vincent", "Smith, John, Jr.", "Smith,  John", "Smith, jean", "Ng, A. Y"]
)
def test_names_outside_the_fast_path_still_split(text: str) -> None:
    from bibtools.text.names import parse_plain_name

    assert ris._parse_name(text) == parse_plain_name(text, suffix_last=True)


@given(
    tag=st.sampled_from(["TI", "AU", "AB", "N1", "XY", "T2"]),
    lines=st.lists(
        st.text(alphabet=st.sampled_from("ab \t\u00a0\u2028\u2029\x0b\x0c\x1c\u3000"), max_size=8)
        .map(str.strip)
        .filter(bool),
        min_size=1,
        max_size=3,
    ),
)
def test_a_field_value_is_what_the_general_rule_gives(tag: str, lines: list[str]) -> None:
    general = (
        "\n".join(lines)
        if tag in ris._MULTILINE or tag not in ris._SINGLE_LINE_TAGS
        else ris._collapsed(" ".join(lines))
    )
    assert ris._value(tag, lines) == general


@pytest.mark.parametrize("text", ["2020", "0000", "0999", "1999/05//", "２０２０", "2020 "])
def test_year_only_dates_read_as_before(text: str) -> None:
    date = ris.parse_date(text)
    if text == "0000":
        assert date is None
    elif text.strip() == "2020":
        assert date == PartialDate(2020)
    elif text == "２０２０":  # full-width digits are not a RIS year
        assert date == PartialDate(literal=text)
    else:
        assert date is not None


# What issue 18's second pass at the reader added: each fast path against its general rule.

_LAYOUT_TEXT = st.text(alphabet=st.sampled_from("ab ;:/.\t\u00a0\u2028\x0b\x1c\u3000"), max_size=10)


@settings(max_examples=300)
@given(
    fields=st.lists(
        st.tuples(st.sampled_from(["TI", "AU", "AB", "N1", "XY", "KW", "UR"]), _LAYOUT_TEXT),
        max_size=6,
    ),
    ty=_LAYOUT_TEXT,
    more=st.dictionaries(st.integers(0, 6), st.lists(_LAYOUT_TEXT.filter(str.strip), max_size=2)),
)
def test_field_values_are_what_the_general_rule_gives(
    fields: list[tuple[str, str]], ty: str, more: dict[int, list[str]]
) -> None:
    tags = ["TY", *(tag for tag, _ in fields)]
    firsts = [ty.strip(), *(value.strip() for _, value in fields)]
    more = {i: lines for i, lines in more.items() if i < len(tags) and lines}
    raw = ris._RawRecord(1, tags, firsts, more or None)
    general = [
        # The TY keeps its first line even when empty (it is joined, then stripped).
        ris._value(tag, ([first] if first or i == 0 else []) + more.get(i, []))
        for i, (tag, first) in enumerate(zip(tags, firsts, strict=True))
    ]
    assert raw.field_values() == general


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(st.sampled_from(["TY", "AU", "TI", "KW", "PY"]), st.sampled_from(["", "v"])),
        max_size=8,
    )
)
def test_the_index_of_unused_fields_is_the_general_one(fields: list[tuple[str, str]]) -> None:
    tags = ["TY", *(tag for tag, _ in fields if tag != "TY")]
    values = ["JOUR", *(value for tag, value in fields if tag != "TY")]
    general: dict[str, list[int]] = {}
    for pos in range(1, len(tags)):
        if values[pos]:
            general.setdefault(tags[pos], []).append(pos)
    assert ris._Fields(tags, values).by_tag == general
    values[0] = ""  # an empty TY changes nothing
    assert ris._Fields(tags, values).by_tag == general


@settings(max_examples=300)
@given(
    st.one_of(
        st.text(alphabet=st.sampled_from("a:/;. w\t\u00a0\u2003\x1c"), max_size=25),
        st.lists(
            st.sampled_from(["https://a.org/x", "//b.org", "www.c.org", ";", " ", "\u00a0", "x"]),
            max_size=5,
        ).map("".join),
    ).filter(bool)
)
def test_urls_split_as_the_general_rule_splits_them(value: str) -> None:
    general = (
        [value]
        if "://" not in value and not value.startswith("//")
        else [u for u in ris._URL_SPLIT.split(value) if u]
    )
    assert ris._split_urls(value) == general


@given(st.from_regex(r"[0-9]{4}", fullmatch=True))
def test_a_bare_year_reads_as_the_general_date_rule_reads_it(year: str) -> None:
    assert ris._date_parts.__wrapped__(year) == ris._general_date_parts(year)  # type: ignore[attr-defined]


def test_cached_dates_and_names_are_fresh_objects() -> None:
    first = ris.parse_date("1991/06//")
    assert first is not None
    first.month = 1
    assert ris.parse_date("1991/06//") == PartialDate(1991, 6)
    name = ris._parse_name("Smith, John")
    name.given = "changed"
    name.extra["x"] = 1
    assert ris._parse_name("Smith, John") == Name(family="Smith", given="John")
    (a,) = read_text("TY  - JOUR\nAU  - Doe, Jane\nPY  - 2001\nER  - \n").records
    (b,) = read_text("TY  - JOUR\nAU  - Doe, Jane\nPY  - 2001\nER  - \n").records
    assert a.authors[0] is not b.authors[0] and a.issued is not b.issued


def _dates_as_before(items: list[tuple[str, str]]) -> tuple[PartialDate, list[tuple[str, str]]]:
    """The date rule as the reader first wrote it: (issued, the date fields left in extra)."""
    candidates = [
        (i, ris.parse_date(v))
        for tag in ("DA", "Y1", "PY")
        for i, (t, v) in enumerate(items)
        if t == tag
    ]
    dated = [(i, d) for i, d in candidates if d is not None and d.year is not None]
    known = dated or [(i, d) for i, d in candidates if d is not None]
    used: set[int] = set()
    issued = PartialDate()
    if known:
        first, issued = known[0]
        if dated:
            issued = ris._complete(issued, [d for _i, d in dated[1:]])
        used.add(first)
        used |= {i for i, d in candidates if i != first and ris._consistent(d, issued)}
    return issued, [item for i, item in enumerate(items) if i not in used]


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["DA", "Y1", "PY"]),
            st.sampled_from(
                [
                    "2020",
                    "2020/05//",
                    "2020/05/12/",
                    "2020///Spring",
                    "2013/02/15/received",
                    "1999",
                    "2020-05",
                    "0000",
                    "///",
                    "someday",
                    "2020/13/01",
                    "2020/06//",
                ]
            ),
        ),
        max_size=4,
    )
)
def test_dates_are_weighed_as_before(items: list[tuple[str, str]]) -> None:
    text = "TY  - JOUR\nTI  - T\n" + "".join(f"{t}  - {v}\n" for t, v in items) + "ER  - \n"
    (rec,) = read_text(text).records
    issued, left = _dates_as_before(items)
    assert rec.issued == issued
    expected: dict[str, list[str]] = {}
    for tag, value in left:
        expected.setdefault(tag, []).append(value)
    assert {t: v for t, v in rec.extra.items() if t in ("DA", "Y1", "PY")} == expected


def test_diagnostics_of_cutting_come_before_those_of_the_records() -> None:
    # Records are built as they are cut; their messages still follow the cutting's.
    text = "TY  - ZZZZ\nTI  - A\nER  - \nER  - \nXX  - stray\n"
    result = read_text(text)
    assert [(d.line, d.message) for d in result.diagnostics] == [
        (4, "ER without a TY; ignored"),
        (5, "XX outside a record (no TY before it); ignored"),
        (1, "unknown RIS type 'ZZZZ'; read as document"),
    ]


def test_cached_parts_follow_the_models_field_order() -> None:
    # The reader builds Name and PartialDate from cached tuples by position:
    # a field moved in the model must fail here, not swap values silently.
    import dataclasses

    from bibtools.model import Name as _Name
    from bibtools.model import PartialDate as _PartialDate

    name_fields = [f.name for f in dataclasses.fields(_Name)]
    assert name_fields[:7] == [
        "family", "given", "particle", "suffix", "literal", "dropping_particle", "extra"
    ]  # fmt: skip
    date_fields = [f.name for f in dataclasses.fields(_PartialDate)]
    assert date_fields[:5] == ["year", "month", "day", "literal", "season"]
    assert ris._parse_name("Knuth, Donald E.") == _Name(family="Knuth", given="Donald E.")
    assert ris.parse_date("2020/05//Spring") == _PartialDate(2020, 5, None, season="Spring")
