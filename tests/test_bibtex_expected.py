"""BibTeX fixtures with another tool's expected result beside them.

citation-js ships the CSL-JSON it expects from each of its test ``.bib``
files, Zotero the items its BibTeX importer must produce.  We convert the
same files and compare field by field.  Every difference must be listed in
DIFFERENCES with the reason we differ; an entry that no longer occurs fails
the test too, so the table stays true.  Reasons starting ``BUG:`` are ours
to fix (the entry goes once the bug is fixed).

(The BibTeX fixtures from JabRef have no expected result beside them; JabRef's
expected files are for its RIS importer and are compared in test_ris.py.
pybtex's ``.bbl`` files are formatted reference lists, not conversions.)
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bibtools import convert
from bibtools.model import MARKUP_FIELDS, Name, Record
from bibtools.text.markup import to_plain

FIXTURES = Path(__file__).parent / "fixtures" / "bibtex"
CITATIONJS = FIXTURES / "citationjs"
ZOTERO = FIXTURES / "zotero"

Key = tuple[str, str, str]

CJ = "citationjs_"
MAP_BIBTEX = "citationjs_mapping_bibtex"
MAP_BIBLATEX = "citationjs_mapping_biblatex"
Z = "zotero_bib_"

SHORT_TITLE = (
    "the main title without its BibLaTeX subtitle is the title-short, as pandoc writes it;"
    " citation-js writes none"
)
PAMPHLET = "@booklet is a CSL pamphlet, as in pandoc; citation-js: book"
MANUAL = "@manual is read as a book (a published manual, as pandoc does); citation-js: report"
SERIES_NUMBER = (
    "number in an @inproceedings with a series is the number in that series (CSL"
    " collection-number, as in pandoc), not a journal issue; citation-js: issue"
)
LITERAL = (
    "a fully braced name ({Acme Inc.}) is an organisation: a CSL literal name;"
    " citation-js writes it as a family name"
)
TITLE_PARTS = (
    "BibLaTeX titleaddon is joined to the title with '. ' (subtitle with ': '), as pandoc"
    " does; citation-js drops titleaddon"
)
MATH = (
    "math goes to CSL as text in LaTeX's notation (x^2, x_2); citation-js and Zotero turn"
    " simple scripts into superscripts and subscripts"
)
BOOKINBOOK = (
    "@bookinbook (a work printed inside a book) is a CSL chapter, as in pandoc; citation-js: book"
)
THESIS_GENRE = (
    "the genre of a thesis is spelled out ('PhD thesis', 'Master's thesis', as pandoc does;"
    " BibLaTeX's keys phdthesis/mathesis too)"
)
VON = (
    "BibTeX's name grammar makes a lower-case word a particle ('American Rights at Work':"
    " family 'at Work'); Zotero splits at the last word. Braces would mark an organisation"
)
ESCAPED_BACKSLASH = (
    "the fixture's doubled backslashes (JavaScript escaping left in the test case) are"
    " LaTeX line breaks for us; Zotero reads a literal backslash"
)
CROSSREF_CONTAINER = (
    "a child that is not part of its parent (an @article under a @book) inherits the"
    " parent's title as its own title, as BibTeX and BibLaTeX do; citation-js leaves it empty"
)

# (file stem, entry key or "*", field or "*") -> why we differ.  Reasons
# starting "BUG:" are ours to fix; the entry goes with the fix.
DIFFERENCES: dict[Key, str] = {
    # citation-js, BibTeX test files
    (CJ + "a-complete-booklet", "Booklet", "type"): PAMPHLET,
    (CJ + "a-complete-inproceedings", "InProceedings", "collection-number"): SERIES_NUMBER,
    (CJ + "a-complete-inproceedings", "InProceedings", "issue"): SERIES_NUMBER,
    (CJ + "a-complete-manual", "Manual", "type"): MANUAL,
    (CJ + "an-author-in-braces", "myarticle", "author"): LITERAL,
    (CJ + "commands", "b", "title"): (
        "\\href{URL}{text} shows its text, as in the typeset document; citation-js shows the URL"
    ),
    (CJ + "commands", "c", "title"): (
        "Elsevier's \\ElsevierGlyph{2014} (a code point) is not known: its argument is kept"
        " as text; citation-js decodes it to U+2014"
    ),
    (CJ + "commands", "d", "title"): (
        "an unknown command without argument (\\unknown) prints nothing in CSL, as in pandoc;"
        " citation-js prints it"
    ),
    (CJ + "crossref", "e", "title"): TITLE_PARTS,
    (CJ + "crossref", "f", "container-title"): TITLE_PARTS + " (journaltitle from a @periodical)",
    (CJ + "different-delimiters", "b", "*"): (
        "an entry opened with '{' and closed with ')' is malformed (BibTeX rejects it too):"
        " skipped with an error; citation-js accepts it"
    ),
    (CJ + "uppercase-and", "10.1145/1499402.1499562", "publisher-place"): (
        "with both address and location (ACM exports), address is the publisher's place and"
        " location (the event's) is kept as written; citation-js takes location"
    ),
    (CJ + "escaped-and", "a", "author"): LITERAL,
    (CJ + "escaped-and", "b", "author"): (
        "the 'and' between \\begin{center} and \\end{center} is at brace level 0, so BibTeX"
        " (and we) read two names; citation-js reads one"
    ),
    (CJ + "howpublished", "guidelinesdigedition", "author"): LITERAL,
    (CJ + "literals", "b", "author"): LITERAL,
    (CJ + "math", "math", "title"): MATH,
    (CJ + "nameparts", "b", "author"): (
        "'given=A=B' splits at the first '=' as BibLaTeX does (given 'A=B');"
        " citation-js drops the part"
    ),
    (CJ + "nameparts", "g", "author"): (
        "the empty name in 'A and ,' is dropped (as pandoc does); citation-js writes an empty name"
    ),
    (CJ + "rich-text", "math", "title"): MATH,
    (CJ + "string-and-preamble", "b", "title"): (
        "an undefined macro is kept as its name (with a warning) so nothing is lost;"
        " BibTeX and citation-js make it empty"
    ),
    (CJ + "uri", "a", "URL"): "URLs are kept as written, Unicode too; citation-js percent-encodes",
    (CJ + "uri", "c", "URL"): (
        "a URL is never re-encoded; citation-js escapes the '%' of a broken percent-escape"
    ),
    # citation-js, BibLaTeX mapping file
    (MAP_BIBLATEX, "batori_river_2020", "page"): (
        "pages with bookpagination = section stay pages (bookpagination is kept in custom);"
        " citation-js moves them to CSL section"
    ),
    (MAP_BIBLATEX, "doerr:report", "author"): (
        "'May, Keith,' (a stray trailing comma): like bibtexparser we read Keith as the given"
        " name; BibTeX's grammar, and citation-js, make it a suffix"
    ),
    (MAP_BIBLATEX, "doerr:report", "genre"): (
        "citation-js writes the BibLaTeX type key ('techreport') as genre; genre comes from"
        " the type field only"
    ),
    (MAP_BIBLATEX, "francis:book", "type"): BOOKINBOOK,
    (MAP_BIBLATEX, "francis:chapter", "type"): BOOKINBOOK,
    (MAP_BIBLATEX, "tolkien:single", "type"): BOOKINBOOK,
    (MAP_BIBLATEX, "doerr:report", "title-short"): SHORT_TITLE,
    (MAP_BIBLATEX, "radboud:manual", "title-short"): SHORT_TITLE,
    (MAP_BIBLATEX, "radboud:manual", "author"): LITERAL,
    (MAP_BIBLATEX, "radboud:manual", "type"): MANUAL,
    (MAP_BIBLATEX, "renner:chapter", "container-title"): (
        "booktitleaddon is part of the container title, as BibLaTeX prints it; citation-js drops it"
    ),
    (MAP_BIBLATEX, "renner:single", "title"): TITLE_PARTS,
    (MAP_BIBLATEX, "sarbanes:act", "title"): TITLE_PARTS,
    (MAP_BIBLATEX, "spruijt_characterizing_2022", "genre"): THESIS_GENRE
    + "; citation-js writes the raw key 'mathesis'",
    (MAP_BIBLATEX, "willighagen2008", "genre"): THESIS_GENRE
    + "; citation-js writes the raw key 'phdthesis'",
    (MAP_BIBLATEX, "swat4hcls:paper", "collection-number"): SERIES_NUMBER,
    (MAP_BIBLATEX, "swat4hcls:paper", "issue"): SERIES_NUMBER,
    (MAP_BIBLATEX, "terano:thesis", "number"): (
        "the number of a thesis is kept as CSL number; citation-js drops it"
    ),
    (MAP_BIBLATEX, "winklerprins:entry", "type"): (
        "@inreference is a CSL entry-encyclopedia, as in pandoc; citation-js: the generic entry"
    ),
    # citation-js, BibTeX mapping file
    (MAP_BIBTEX, "Booklet", "type"): PAMPHLET,
    (MAP_BIBTEX, "InProceedings", "collection-number"): SERIES_NUMBER,
    (MAP_BIBTEX, "InProceedings", "issue"): SERIES_NUMBER,
    (MAP_BIBTEX, "Manual", "type"): MANUAL,
    # Zotero
    (Z + "05_non-braking-space-accented-characters-an", "test-ticket1661", "title"): (
        "an accent command without a letter ('\\~{}') is the accent itself, a tilde;"
        " Zotero reads the operator ∼"
    ),
    (Z + "06_test-of-markupconversion-italics-bold-su", "Frit2", "container"): MATH,
    (Z + "06_test-of-markupconversion-italics-bold-su", "Frit2", "title"): MATH,
    (
        Z + "07_public-service-research-foundation",
        "american_rights_at_work_public_2012",
        "authors",
    ): VON,
    (Z + "08_zotero-single-attachment", "mendeleyFilePaths2", "title"): (
        "a missing comma between two fields ('title = {A}\\n file = {B},') is reported as a"
        " warning with its line and not repaired (BibTeX and pandoc report an error);"
        " Zotero guesses both fields"
    ),
    (Z + "09_extbackslash-extbackslash", "BibTeXEscapeTest1", "title"): (
        "'\\\\{}' is a LaTeX line break and prints nothing; Zotero keeps a '{'"
    ),
    (Z + "10_increasing-cardiopulmonary-resuscitation", "sasson_increasing_2013", "note"): (
        "Zotero moves identifier lines ('PMID: ...') from the note to extra; the note stays"
        " as written"
    ),
    (Z + "12_testing-identifier-import-chapter", "smith_testing_????", "doi"): (
        "Zotero puts the DOI of a book section into extra (no DOI field for that type);"
        " DOI is DOI for every type here"
    ),
    (
        Z + "13_regelbasierte-extraktion-und-asymmetrisc",
        "DBLP:ms/Hoffmann2008",
        "genre",
    ): THESIS_GENRE + "; Zotero: 'Master's Thesis'",
    (
        Z + "13_regelbasierte-extraktion-und-asymmetrisc",
        "DBLP:phd/Ackermann2009",
        "genre",
    ): THESIS_GENRE + "; Zotero: 'PhD Thesis'",
    (Z + "15_die-alterung-der-gesellschaft-und-der-ge", "MR3077863", "container"): (
        "journal is the container as written; Zotero prefers the AMS fjournal (full name),"
        " which stays in extra"
    ),
    (Z + "15_die-alterung-der-gesellschaft-und-der-ge", "madoc40756", "place"): (
        "Zotero drops the address of a journal article (no such field); we keep it"
    ),
    (Z + "15_die-alterung-der-gesellschaft-und-der-ge", "madoc40756", "publisher"): (
        "Zotero drops the publisher of a journal article (no such field); we keep it"
    ),
    (Z + "17_zotero-s-homepage", "example-electronic-string", "authors"): VON,
    (Z + "18_the-impossible-book", "sweig42", "authors"): ESCAPED_BACKSLASH,
    (Z + "18_the-impossible-book", "sweig42", "publisher"): ESCAPED_BACKSLASH + "; and " + MATH,
    (Z + "18_the-impossible-book", "sweig42", "title"): (
        "Zotero turns the letters TEL into the symbol ℡; letters stay letters here"
    ),
    (Z + "19_a-rural-mobile-health-obesity-wellness-i", "batsis:rural", "authors"): (
        "Zotero rewrites the given name 'KC' as the initials 'K. C.'; names stay as written"
    ),
    (Z + "20_benchmarking-methodology-for-evpn-and-pb", "ietf-bmwg-evpntest-09", "publisher"): (
        "Zotero drops the publisher of a report that also has an institution; we keep both"
    ),
    (Z + "21_white-functionals-for-anomaly-detection-", "NIPS2009_0188e8b8", "authors"): (
        "the space after \\textquotesingle ends the command (TeX's rule): D'aspremont;"
        " Zotero keeps it (D' aspremont)"
    ),
    (Z + "22_production-of-hyperon-and-search-of-hype", "Borissov:2855446", "title"): MATH,
}


# --------------------------------------------------------------------------
# Normalisation shared by both comparisons

_TAG = re.compile(r"</?(?:i|b|sup|sub|span|p)\b[^>]*>")
_DASHES = re.compile(r"\s*[-\u2010-\u2015]+\s*")


def text(value: Any) -> str:
    """CSL rich text or Zotero HTML as plain, NFC, single-spaced text."""
    value = html.unescape(_TAG.sub("", str(value)))
    value = unicodedata.normalize("NFC", value).replace("\u00a0", " ")
    return " ".join(value.split())


def title(value: Any) -> str:
    return text(value).casefold()


def pages(value: Any) -> str:
    return _DASHES.sub("-", text(value))


def keywords(value: Any) -> list[str]:
    if isinstance(value, list):
        return [text(v) for v in value]
    return [text(k) for k in re.split(r"\s*[,;]\s*", str(value)) if k.strip()]


@dataclass
class Comparison:
    """What differs, and how many values were compared (those set on either side)."""

    mismatches: dict[Key, tuple[Any, Any]] = field(default_factory=dict)
    compared: int = 0
    items: int = 0

    def check(self, key: Key, ours: Any, theirs: Any) -> None:
        if ours in (None, "", []) and theirs in (None, "", []):
            return
        self.compared += 1
        if ours != theirs:
            self.mismatches[key] = (ours, theirs)

    def match_items(self, stem: str, ours: set[str], theirs: list[str]) -> list[str]:
        """The keys both sides have; an item only one side has is a mismatch."""
        self.items += len(theirs)
        for key in theirs:
            if key not in ours:
                self.mismatches[(stem, key, "*")] = (None, "item")
        for key in ours - set(theirs):
            self.mismatches[(stem, key, "*")] = ("item", None)
        return [key for key in theirs if key in ours]


# --------------------------------------------------------------------------
# citation-js: its CSL-JSON against ours

CSL_FIELDS = (
    "type",
    "title",
    "title-short",
    "author",
    "editor",
    "issued",
    "accessed",
    "container-title",
    "collection-title",
    "collection-number",
    "volume",
    "issue",
    "page",
    "number",
    "edition",
    "genre",
    "publisher",
    "publisher-place",
    "event-title",
    "DOI",
    "URL",
    "ISBN",
    "ISSN",
    "abstract",
    "keyword",
    "note",
    "language",
)


def csl_names(names: list[dict[str, Any]]) -> list[str]:
    out = []
    for n in names:
        if "literal" in n:
            out.append(text(n["literal"]))
            continue
        family = " ".join(
            n[p] for p in ("dropping-particle", "non-dropping-particle", "family") if n.get(p)
        )
        out.append(text(f"{n.get('given', '')} | {family} | {n.get('suffix', '')}"))
    return out


def csl_date(value: dict[str, Any]) -> Any:
    parts = value.get("date-parts")
    if parts:
        return [[int(x) for x in p] for p in parts]
    return text(value.get("literal") or value.get("raw") or "")


def csl_value(name: str, item: dict[str, Any]) -> Any:
    value = item.get(name)
    if value in (None, "", []):
        return None
    if name == "title":
        return title(value)
    if name in ("author", "editor"):
        return csl_names(value)
    if name in ("issued", "accessed"):
        return csl_date(value)
    if name == "page":
        return pages(value)
    if name == "keyword":
        return keywords(value)
    return text(value)


def our_csl(path: Path) -> list[dict[str, Any]]:
    records = convert.read_file(str(path), "bibtex").records
    return json.loads(convert.write(records, "csljson").text)


def citationjs_pairs() -> list[tuple[str, Path, Path]]:
    """(stem, input .bib, expected CSL-JSON) for every citation-js test file."""
    pairs = []
    for expected in sorted(CITATIONJS.glob("*.expected.csl.json")):
        stem = expected.name[: -len(".expected.csl.json")]
        pairs.append((stem, expected.with_name(stem + ".bib"), expected))
    for kind in ("bibtex", "biblatex"):
        stem = f"citationjs_mapping_{kind}"
        pairs.append((stem, CITATIONJS / f"{stem}-input.bib", CITATIONJS / f"{stem}-csl.json"))
    return pairs


def compare_citationjs(result: Comparison) -> None:
    for stem, bib, expected in citationjs_pairs():
        data = json.loads(expected.read_text(encoding="utf-8"))
        csl = data["csl"] if isinstance(data, dict) else data  # mapping files: a bare array
        theirs = {str(item["id"]): item for item in csl}
        ours = {str(item["id"]): item for item in our_csl(bib)}
        for key in result.match_items(stem, set(ours), list(theirs)):
            for name in CSL_FIELDS:
                result.check(
                    (stem, key, name), csl_value(name, ours[key]), csl_value(name, theirs[key])
                )


# --------------------------------------------------------------------------
# Zotero: its items against our records

ZOTERO_TYPES = {
    "book": "book",
    "bookSection": "chapter",
    "conferencePaper": "paper-conference",
    "document": "document",
    "journalArticle": "article-journal",
    "report": "report",
    "thesis": "thesis",
    "webpage": "webpage",
}
# Our field -> (the Record attribute, the Zotero fields that hold it: first one set wins).
ZOTERO_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "container": (
        "container_title",
        ("publicationTitle", "proceedingsTitle", "bookTitle", "websiteTitle"),
    ),
    "series": ("collection_title", ("series",)),
    "volume": ("volume", ("volume",)),
    "issue": ("issue", ("issue",)),
    "number": ("number", ("reportNumber",)),
    "edition": ("edition", ("edition",)),
    "genre": ("genre", ("thesisType", "reportType")),
    "publisher": ("publisher", ("publisher",)),
    "place": ("publisher_place", ("place",)),
    "institution": ("institution", ("university", "institution")),
    "doi": ("doi", ("DOI",)),
    "url": ("url", ("url",)),
    "isbn": ("isbn", ("ISBN",)),
    "issn": ("issn", ("ISSN",)),
    "abstract": ("abstract", ("abstractNote",)),
    "language": ("language", ("language",)),
    "short_title": ("short_title", ("shortTitle",)),
}


def _zotero_name(creator: dict[str, Any]) -> str:
    if "name" in creator:
        return text(creator["name"])
    if creator.get("fieldMode") == 1:  # a one-field (institutional) name
        return text(creator["lastName"])
    return text(f"{creator.get('firstName', '')} | {creator.get('lastName', '')}")


def _our_name(name: Name) -> str:
    if name.literal:
        return text(name.literal)
    family = " ".join(p for p in (name.particle, name.family) if p)
    given = " ".join(p for p in (name.given, name.dropping_particle) if p)
    # Zotero has no suffix field: its BibTeX importer appends it to the first name.
    suffix = f", {name.suffix}" if name.suffix else ""
    return text(f"{given}{suffix} | {family}")


def _tag(tag: str | dict[str, str]) -> str:
    return text(tag["tag"] if isinstance(tag, dict) else tag)


def zotero_view(item: dict[str, Any]) -> dict[str, Any]:
    creators = item.get("creators", [])
    out: dict[str, Any] = {
        "type": ZOTERO_TYPES[item["itemType"]],
        "title": title(item.get("title", "")),
        "authors": [_zotero_name(c) for c in creators if c["creatorType"] == "author"],
        "editors": [_zotero_name(c) for c in creators if c["creatorType"] == "editor"],
        "date": item.get("date", "").replace("/", "-"),
        "pages": pages(item.get("pages", "")),
        "keywords": sorted(_tag(t) for t in item.get("tags", [])),
        "note": " ".join(text(n["note"]) for n in item.get("notes", [])),
    }
    for name, (_, candidates) in ZOTERO_FIELDS.items():
        out[name] = text(next((item[k] for k in candidates if item.get(k)), ""))
    return out


def our_view(rec: Record) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": rec.type,
        "title": title(to_plain(rec.title)),
        "authors": [_our_name(n) for n in rec.authors],
        "editors": [_our_name(n) for n in rec.editors],
        "date": rec.issued.iso() or rec.issued.literal,
        "pages": pages(rec.pages),
        "keywords": sorted(text(to_plain(k)) for k in rec.keywords),
        "note": text(to_plain(rec.note)),
    }
    for name, (attr, _) in ZOTERO_FIELDS.items():
        value = getattr(rec, attr)
        out[name] = text(to_plain(value) if attr in MARKUP_FIELDS else value)
    return out


def _our_strings(rec: Record) -> list[str]:
    """Every text value of a record, slots and ``extra`` alike, as plain text."""
    out: list[str] = []
    for value in rec.populated().values():
        if isinstance(value, dict):
            values = list(value.values())
        elif isinstance(value, list):
            values = list(value)
        else:
            values = [value]
        out.extend(text(to_plain(v)) for v in values if isinstance(v, str))
    return out


def lost_extra(item: dict[str, Any], rec: Record) -> list[str]:
    """Zotero's ``Label: value`` extra lines whose value we keep nowhere."""
    ours = _our_strings(rec)
    lost = []
    for line in item.get("extra", "").splitlines():
        _, sep, value = line.partition(": ")
        if sep and not any(text(value) in s for s in ours):
            lost.append(line)
    return lost


def compare_zotero(result: Comparison) -> None:
    for expected in sorted(ZOTERO.glob("*.expected.json")):
        stem = expected.name[: -len(".expected.json")]
        items = {
            item["itemID"]: item
            for item in json.loads(expected.read_text(encoding="utf-8"))["items"]
        }
        bib = expected.with_name(stem + ".bib")
        records = {rec.key: rec for rec in convert.read_file(str(bib), "bibtex").records}
        for key in result.match_items(stem, set(records), list(items)):
            ours, theirs = our_view(records[key]), zotero_view(items[key])
            for name, value in theirs.items():
                result.check((stem, key, name), ours[name], value)
            if items[key].get("extra"):
                result.check((stem, key, "extra"), lost_extra(items[key], records[key]), [])


# --------------------------------------------------------------------------
# The tests


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    result = Comparison()
    compare_citationjs(result)
    compare_zotero(result)
    return result


def _covering(key: Key) -> Key | None:
    stem, entry, name = key
    for candidate in ((stem, entry, name), (stem, "*", name), (stem, entry, "*"), (stem, "*", "*")):
        if candidate in DIFFERENCES:
            return candidate
    return None


def test_differences_are_the_listed_ones(comparison: Comparison) -> None:
    unexplained = {k: v for k, v in comparison.mismatches.items() if _covering(k) is None}
    assert unexplained == {}
    used = {_covering(k) for k in comparison.mismatches}
    assert sorted(set(DIFFERENCES) - used, key=str) == []  # no stale entry


def test_every_expected_result_is_compared() -> None:
    # A new expected file (a JabRef one, say) must not sit here unnoticed.
    expected = {
        p
        for p in FIXTURES.rglob("*")
        if p.is_file() and (".expected." in p.name or p.name.endswith("-csl.json"))
    }
    compared = {e for _, _, e in citationjs_pairs()} | set(ZOTERO.glob("*.expected.json"))
    assert expected == compared
    assert all(bib.exists() for _, bib, _ in citationjs_pairs())
    assert len(compared) == 63  # 37 citation-js, 2 mapping files, 24 Zotero


def test_differences_are_the_exception(comparison: Comparison) -> None:
    assert comparison.items == 142
    assert comparison.compared > 850  # 888 when written; fixes may move it a little
    # Deliberate or not, fewer than one compared value in ten differs.
    assert len(comparison.mismatches) < comparison.compared / 10


def test_the_comparison_sees_what_it_compares() -> None:
    # The normalisation must not hide what it is meant to compare.
    assert title('<i>BERT</i> <span class="nocase">Rocks</span>') == "bert rocks"
    assert csl_names([{"family": "Gogh", "non-dropping-particle": "van", "given": "V."}]) == [
        "V. | van Gogh |"
    ]
    assert csl_names([{"literal": "ACM"}]) != csl_names([{"family": "ACM"}])
    assert pages("12\u201334") == pages("12--34") == "12-34"
    assert _our_name(Name(family="Hicks", particle="von", given="M.", suffix="III")) == (
        _zotero_name({"firstName": "M., III", "lastName": "von Hicks"})
    )
    item = {"extra": "PMID: 123\nMR: 456"}
    assert lost_extra(item, Record(note="PMID: 123", extra={"mrnumber": "456"})) == []
    assert lost_extra(item, Record(note="PMID: 123")) == ["MR: 456"]
