"""CSL-JSON: schema-valid output, lossless round trips, fixtures, bad input.

Fixture shapes (tests/fixtures/csl/, see shared SOURCES.md):

* ``zotero/*.json`` is a real CSL-JSON array; ``*.expected.json`` is the Zotero
  item it imports to, wrapped as ``{"source", "items": [...]}``: read as the
  Zotero web API wrapper, its items have ``itemType`` and no ``type``, so
  each is skipped with an error (not CSL-JSON, but it must not crash).
* ``cslsuite/*.json`` are processor test cases ``{mode, description, csl,
  input, result}``: the CSL-JSON is the ``input`` member.  The whole file
  reads as one item without a type (an error); ``input`` reads cleanly.
* ``schema/*.json`` are JSON schemas, not data: read as one odd item each.
* ``bibtex/citationjs/*.expected.csl.json`` hold CSL item lists in ``csl``.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from bibtools import convert
from bibtools.diagnostics import Level
from bibtools.formats import ReadOptions, ReadResult, WriteOptions, csljson
from bibtools.model import CSL_TYPES, CodeLink, Name, PartialDate, Record
from bibtools.preprint import is_arxiv_preprint
from bibtools.text.markup import from_csl, from_latex

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
SCHEMA = json.loads((FIXTURES / "csl" / "schema" / "csl-data.json").read_text(encoding="utf-8"))
VALIDATOR = Draft7Validator(SCHEMA)
CITATIONJS = sorted((FIXTURES / "bibtex" / "citationjs").glob("*.expected.csl.json"))
CSLSUITE = sorted((FIXTURES / "csl" / "cslsuite").glob("*.json"))
CSL_FIXTURES = sorted((FIXTURES / "csl").rglob("*.json"))
ZOTERO_CSL = (
    FIXTURES / "csl" / "zotero" / "zotero_csljson_00_stochastic-biomathematical-models-with-a.json"
)


def read(text: str, source: str = "t.json") -> ReadResult:
    return csljson.read(text, ReadOptions(source=source))


def read_items(items: Any) -> ReadResult:
    return read(json.dumps(items, ensure_ascii=False))


def write(records: list[Record]) -> str:
    return csljson.write(records, WriteOptions()).text


def assert_valid(text: str) -> list[dict[str, Any]]:
    data = json.loads(text)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(data)]
    assert errors == []
    return data


def roundtrip(items: Any) -> list[dict[str, Any]]:
    result = read_items(items)
    assert result.diagnostics.errors == []
    return assert_valid(write(result.records))


def one(items: Any) -> Record:
    result = read_items(items)
    assert len(result.records) == 1, list(result.diagnostics)
    return result.records[0]


def assert_stable(records: list[Record]) -> str:
    first = write(records)
    again = write(read(first).records)
    assert again == first
    return first


# --------------------------------------------------------------------------
# The variable table is the schema's


def _schema_kind(name: str, spec: dict[str, Any]) -> str:
    if name == "type":
        return "type"
    if spec.get("$ref") == "#/definitions/date-variable":
        return "date"
    if spec.get("type") == "array":
        return "names" if "$ref" in spec["items"] else "strings"
    return {"string": "string", "object": "object"}.get(str(spec.get("type")), "number")


def test_variable_kinds_match_the_official_schema():
    props = SCHEMA["items"]["properties"]
    assert {name: _schema_kind(name, spec) for name, spec in props.items()} == csljson.KINDS
    assert set(SCHEMA["items"]["properties"]["type"]["enum"]) == set(CSL_TYPES)
    name_props = SCHEMA["definitions"]["name-variable"]["anyOf"][0]["properties"]
    assert set(name_props) == set(csljson.NAME_PARTS) | set(csljson.NAME_FLAGS)
    date_props = SCHEMA["definitions"]["date-variable"]["anyOf"][0]["properties"]
    assert set(date_props) == set(csljson.DATE_KEYS)


# --------------------------------------------------------------------------
# Fixtures


@pytest.mark.parametrize("path", CITATIONJS, ids=lambda p: p.name)
def test_citationjs_expected_files_round_trip(path: Path):
    items = json.loads(path.read_text(encoding="utf-8"))["csl"]
    result = read_items(items)
    assert result.diagnostics.errors == []
    assert result.detected == len(items) == len(result.records)
    out = assert_valid(write(result.records))
    assert len(out) == len(items)
    for given_item, written in zip(items, out, strict=True):
        assert written == normalised(given_item), given_item["id"]
    assert_stable(result.records)


@pytest.mark.parametrize("path", CSLSUITE, ids=lambda p: p.name)
def test_cslsuite_inputs_round_trip(path: Path):
    case = json.loads(path.read_text(encoding="utf-8"))
    whole = read(path.read_text(encoding="utf-8"), str(path))
    assert whole.records == [] and whole.detected == 1
    assert [d.level for d in whole.diagnostics] == [Level.ERROR]
    items = case["input"]
    result = read_items(items)
    assert result.diagnostics.errors == []
    assert len(result.records) == len(items)
    out = assert_valid(write(result.records))
    for given_item, written in zip(items, out, strict=True):
        assert written == normalised(given_item), given_item["id"]
    assert_stable(result.records)


@pytest.mark.parametrize("path", CSL_FIXTURES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_csl_fixture_reads_and_writes_valid_csl(path: Path):
    result = read(path.read_text(encoding="utf-8"), str(path))
    assert len(result.diagnostics.errors) == result.detected - len(result.records)
    assert_valid(write(result.records))


def test_zotero_book_export_maps_to_the_model():
    result = read(ZOTERO_CSL.read_text(encoding="utf-8"), "z.json")
    assert list(result.diagnostics) == []
    (rec,) = result.records
    assert rec.key == "http://zotero.org/users/96641/items/BDQRTS3T"
    assert rec.type == "book"
    assert rec.title == "Stochastic biomathematical models: With applications to neuronal modeling"
    assert rec.collection_title == "Lecture notes in mathematics"
    assert (rec.publisher, rec.publisher_place) == ("Springer", "Heidelberg")
    assert (rec.volume, rec.isbn, rec.language) == ("2058", "978-3-642-32156-6", "en")
    assert rec.authors == [Name(family="Bachar", given="Mostafa")]
    assert rec.issued == PartialDate(2013, 1, 1)
    assert rec.extra == {"number-of-pages": "206", "event-place": "Heidelberg"}
    assert rec.extra_format == "csljson"
    assert (rec.origin_file, rec.origin_line) == ("z.json", 2)


def test_zotero_item_wrapper_is_read_as_items_and_skipped_with_lines():
    path = (
        FIXTURES
        / "csl"
        / "zotero"
        / "zotero_csljson_00_stochastic-biomathematical-models-with-a.expected.json"
    )
    result = read(path.read_text(encoding="utf-8"), "w.json")
    assert result.records == [] and result.detected == 1
    (diag,) = result.diagnostics
    assert diag.level is Level.ERROR and diag.line == 9 and "item 0" in diag.message


# --------------------------------------------------------------------------
# Reading: the mapping


FULL_ITEM = {
    "id": "smith2020",
    "type": "paper-conference",
    "title": 'On <i>Vibrio</i> and <span class="nocase">BERT</span> <b>bold</b> {x} $5',
    "title-short": "On Vibrio",
    "author": [
        {"family": "Beethoven", "given": "Ludwig", "dropping-particle": "van"},
        {"family": "Gogh", "given": "Vincent", "non-dropping-particle": "van", "suffix": "Jr."},
        {"literal": "The ACME Consortium"},
        {
            "family": "Doe",
            "given": "J.",
            "comma-suffix": True,
            "static-ordering": False,
            "parse-names": 0,
        },
    ],
    "editor": [{"family": "Ed", "given": "Itor"}],
    "container-title": "Proceedings of <i>Things</i>",
    "collection-title": "LNCS",
    "volume": 12,
    "issue": "3",
    "page": "12\u201334",
    "publisher": "Springer",
    "publisher-place": "Berlin",
    "event-title": "ThingConf",
    "edition": 2,
    "genre": "Conference paper",
    "DOI": "10.1000/xyz",
    "URL": "https://example.org/p",
    "ISBN": "978-0-00-000000-0",
    "ISSN": "1234-5678",
    "abstract": "We study <sub>2</sub>.",
    "keyword": "alpha, beta gamma,delta",
    "note": "A note",
    "language": "en-GB",
    "accessed": {"date-parts": [["2024", "5", "1"]]},
    "issued": {"date-parts": [[2020, 6], [2020, 7]], "season": "Summer", "circa": 1},
    "archive": "Some archive",
    "translator": [{"family": "Trans", "given": "L."}],
    "original-date": {"raw": "1850"},
    "categories": ["x", "y"],
    "custom": {"other-tool": {"a": 1}},
}


def test_every_mapped_variable_lands_in_its_field():
    rec = one([FULL_ITEM])
    assert rec.key == "smith2020" and rec.type == "paper-conference"
    assert rec.title == "On \\textit{Vibrio} and {BERT} \\textbf{bold} \\{x\\} \\$5"
    assert rec.short_title == "On Vibrio"
    assert rec.authors[0] == Name(family="Beethoven", given="Ludwig", dropping_particle="van")
    assert rec.authors[1] == Name(family="Gogh", given="Vincent", particle="van", suffix="Jr.")
    assert rec.authors[2] == Name(literal="The ACME Consortium")
    assert rec.authors[3].extra == {
        "comma-suffix": True,
        "static-ordering": False,
        "parse-names": 0,
    }
    assert rec.editors == [Name(family="Ed", given="Itor")]
    assert rec.container_title == "Proceedings of \\textit{Things}"
    assert rec.collection_title == "LNCS"
    assert (rec.volume, rec.issue, rec.pages) == ("12", "3", "12-34")
    assert (rec.publisher, rec.publisher_place, rec.event) == ("Springer", "Berlin", "ThingConf")
    assert (rec.edition, rec.genre) == ("2", "Conference paper")
    assert (rec.doi, rec.url, rec.isbn, rec.issn) == (
        "10.1000/xyz",
        "https://example.org/p",
        "978-0-00-000000-0",
        "1234-5678",
    )
    assert rec.abstract == "We study \\textsubscript{2}."
    assert rec.keywords == ["alpha", "beta gamma", "delta"]
    assert (rec.note, rec.language) == ("A note", "en-GB")
    assert rec.accessed == PartialDate(2024, 5, 1)
    assert rec.issued == PartialDate(2020, 6, season="Summer", circa=True, end=PartialDate(2020, 7))
    assert rec.extra_format == "csljson"
    assert rec.extra == {
        "archive": "Some archive",
        "translator": [{"family": "Trans", "given": "L."}],
        "original-date": {"raw": "1850"},
        "categories": ["x", "y"],
        "custom": {"other-tool": {"a": 1}},
    }


def test_full_item_writes_back_with_every_field():
    (out,) = roundtrip([FULL_ITEM])
    expected = copy.deepcopy(FULL_ITEM)
    expected.update(
        {
            "citation-key": "smith2020",
            "volume": "12",
            "edition": "2",
            "page": "12-34",
            "keyword": "alpha, beta gamma, delta",
            "accessed": {"date-parts": [[2024, 5, 1]]},
            "issued": {"date-parts": [[2020, 6], [2020, 7]], "season": "Summer", "circa": True},
        }
    )
    assert out == expected
    assert list(out)[:3] == ["id", "type", "citation-key"]
    assert list(out)[-1] == "custom"


def test_aliases_become_the_current_variables():
    rec = one(
        [{"id": "a", "type": "book", "shortTitle": "S", "event": "E", "url": "u", "doi": "d"}]
    )
    assert (rec.short_title, rec.event, rec.url, rec.doi) == ("S", "E", "u", "d")
    assert rec.extra == {}
    (out,) = roundtrip(
        [{"id": "a", "type": "book", "shortTitle": "S", "title-short": "T", "event": "E"}]
    )
    assert (out["title-short"], out["shortTitle"], out["event-title"]) == ("T", "S", "E")


def test_id_and_citation_key():
    rec = one([{"id": 7, "type": "book"}])
    assert rec.key == "7" and rec.extra == {"id": 7}
    (out,) = roundtrip([{"id": 7, "type": "book"}])
    assert (out["id"], out["citation-key"]) == (7, "7")
    rec = one([{"id": "http://zotero.org/x", "citation-key": "smith2020", "type": "book"}])
    assert rec.key == "smith2020" and rec.extra == {"id": "http://zotero.org/x"}
    (out,) = roundtrip([{"id": "http://zotero.org/x", "citation-key": "smith2020", "type": "book"}])
    assert (out["id"], out["citation-key"]) == ("http://zotero.org/x", "smith2020")


def test_ids_stay_unique_and_keys_come_from_the_record():
    records = [Record(key="a"), Record(key="a"), Record(title="No key", authors=[Name("Zed", "A")])]
    out = assert_valid(write(records))
    assert [o["id"] for o in out] == ["a", "a-2", "zedno"]
    assert out[2]["citation-key"] == "zedno"  # so reading it back gives the same key


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"date-parts": [[2020]]}, PartialDate(2020)),
        ({"date-parts": [["2020", "04", "24"]]}, PartialDate(2020, 4, 24)),
        ({"date-parts": [[2020.0, 4]]}, PartialDate(2020, 4)),
        ({"date-parts": [["2013", "", ""]]}, PartialDate(2013)),
        (
            {"date-parts": [[1999, 1, 2], [2000, 3, 4]]},
            PartialDate(1999, 1, 2, end=PartialDate(2000, 3, 4)),
        ),
        ({"date-parts": [[2020, 14]]}, PartialDate(2020, season="2")),
        ({"date-parts": [[2020, 21]]}, PartialDate(2020, season="1")),
        ({"date-parts": [[-44, 3, 15]]}, PartialDate(-44, 3, 15)),
        ({"date-parts": [[]]}, PartialDate()),
        ({"date-parts": [[None]]}, PartialDate()),
        ({"raw": "2019-05-01"}, PartialDate(2019, 5, 1)),
        ({"raw": "2019/2020"}, PartialDate(2019, end=PartialDate(2020))),
        ({"raw": "1850~"}, PartialDate(1850, circa=True)),
        ({"raw": "Spring 1987"}, PartialDate(literal="Spring 1987")),
        ({"literal": "13th Century"}, PartialDate(literal="13th Century")),
        (
            {"date-parts": [[1987]], "season": 1, "circa": "true"},
            PartialDate(1987, season="1", circa=True),
        ),
        ({"date-parts": [[1987]], "circa": False}, PartialDate(1987)),
        ("2020-05", PartialDate(2020, 5)),
        ("in press", PartialDate(literal="in press")),
        (2021, PartialDate(2021)),
    ],
)
def test_dates(value: Any, expected: PartialDate):
    rec = one([{"id": "a", "type": "book", "issued": value}])
    assert rec.issued == expected
    assert "issued" not in rec.extra


@pytest.mark.parametrize(
    "value",
    [
        {"date-parts": "2020"},
        {"date-parts": [["twenty"]]},
        {"date-parts": [[2020], [2021], [2022]]},
        [2020],
        True,
    ],
)
def test_unreadable_dates_are_kept_verbatim_with_a_warning(value: Any):
    result = read_items([{"id": "a", "type": "book", "issued": value}])
    (rec,) = result.records
    assert rec.issued == PartialDate() and rec.extra == {"issued": value}
    assert any("issued" in d.message for d in result.diagnostics.warnings)
    (out,) = assert_valid(write([rec]))
    # Written back as given: as the variable when the schema allows it, else in custom.
    where = out if csljson.valid_variable("issued", value) else out["custom"]
    assert where["issued"] == value


def test_out_of_range_month_is_dropped_with_a_warning():
    result = read_items([{"id": "a", "type": "book", "issued": {"date-parts": [[2020, 0, 5]]}}])
    assert result.records[0].issued == PartialDate(2020)
    assert "month 0" in result.diagnostics.warnings[0].message


def test_dates_are_written_with_ranges_seasons_circa_and_literals():
    date = PartialDate(2019, 5, 1, literal="May Day", season="2", circa=True, end=PartialDate(2020))
    (out,) = assert_valid(write([Record(key="k", issued=date, accessed=PartialDate(2024, 1, 2))]))
    assert out["issued"] == {
        "date-parts": [[2019, 5, 1], [2020]],
        "season": 2,
        "circa": True,
        "literal": "May Day",
    }
    assert out["accessed"] == {"date-parts": [[2024, 1, 2]]}


def test_rich_text_goes_through_markup():
    rec = one(
        [
            {
                "id": "a",
                "type": "book",
                "title": 'A <span class="nocase">pH</span> <sup>2</sup> \\ {}',
            }
        ]
    )
    assert rec.title == "A {pH} \\textsuperscript{2} \\\\ \\{\\}"
    (out,) = assert_valid(write([rec]))
    assert out["title"] == 'A <span class="nocase">pH</span> <sup>2</sup> \\ {}'


def test_markup_csl_cannot_hold_is_written_as_text_and_kept_in_custom():
    rec = Record(key="k", title="The {BERT} model: $O(n^2)$ and \\method{} \\texttt{code}")
    (out,) = assert_valid(write([rec]))
    # An unknown command's name means nothing outside LaTeX: only its arguments show.
    assert out["title"] == 'The <span class="nocase">BERT</span> model: O(n^2) and code'
    assert out["custom"]["markup"] == {"title": rec.title}
    assert read(write([rec])).records[0].title == rec.title
    # Once the CSL text is edited, the stash no longer applies.
    out["title"] = "Edited"
    assert read(json.dumps([out])).records[0].title == "Edited"


def test_keywords():
    assert one([{"id": "a", "type": "book", "keyword": ["x ", "y"]}]).keywords == ["x", "y"]
    rec = Record(key="k", keywords=["deep learning", "a, b", " padded "])
    (out,) = assert_valid(write([rec]))
    assert out["keyword"] == "deep learning, a, b,  padded "
    assert out["custom"]["keywords"] == rec.keywords
    assert read(write([rec])).records[0].keywords == rec.keywords
    (out,) = assert_valid(write([Record(key="k", keywords=["x", "y"])]))
    assert out["keyword"] == "x, y" and "custom" not in out


def test_names_are_written_part_by_part():
    names = [
        Name(family="Gogh", given="Vincent", particle="van"),
        Name(family="Beethoven", given="Ludwig", dropping_particle="van", suffix="II"),
        Name(literal="WHO"),
        Name(family="Li", extra={"static-ordering": True, "_orcid": "0000", "parse-names": [1]}),
    ]
    (out,) = assert_valid(write([Record(key="k", authors=names, editors=[Name("E", "F")])]))
    assert out["author"] == [
        {"family": "Gogh", "given": "Vincent", "non-dropping-particle": "van"},
        {"family": "Beethoven", "given": "Ludwig", "dropping-particle": "van", "suffix": "II"},
        {"literal": "WHO"},
        {"family": "Li", "static-ordering": True},
    ]
    assert out["editor"] == [{"family": "E", "given": "F"}]
    assert out["custom"]["name-extra"] == {"author": {"3": {"_orcid": "0000", "parse-names": [1]}}}
    assert read(write([Record(key="k", authors=names)])).records[0].authors == names


def test_non_schema_name_attributes_survive_in_custom():
    items = [
        {"id": "a", "type": "book", "author": [{"family": "X", "isInstitution": 1}, {"given": "Y"}]}
    ]
    (out,) = roundtrip(items)
    assert out["author"] == [{"family": "X"}, {"given": "Y"}]
    assert out["custom"] == {"name-extra": {"author": {"0": {"isInstitution": 1}}}}
    assert one([out]).authors[0].extra == {"isInstitution": 1}


def test_names_given_as_strings_are_split_with_a_warning():
    result = read_items([{"id": "a", "type": "book", "author": ["Smith, John", 5], "editor": "Ed"}])
    rec = result.records[0]
    assert rec.authors == [Name(family="Smith", given="John")]
    assert rec.extra == {"editor": "Ed"}
    assert len(result.diagnostics.warnings) == 3


def test_custom_namespace_round_trips_every_model_field():
    rec = Record(
        key="k",
        type="report",
        source_type="techreport",
        crossref="parent",
        institution="MIT",
        authors=[Name("A", "B")],
        authors_truncated=True,
        editors=[Name("C", "D")],
        editors_truncated=True,
        code_links=[CodeLink("https://github.com/a/b", "abstract"), CodeLink("https://x.org")],
        code_announced=True,
        affiliations=["MIT", "ETH"],
        extra={"eprinttype": "arxiv", "shorthand": "AB"},
        extra_format="bibtex",
    )
    result = csljson.write([rec], WriteOptions())
    (out,) = assert_valid(result.text)
    assert out["publisher"] == "MIT"
    # Truncated lists end with pandoc's and Zotero's "others" name.
    assert out["author"] == [{"family": "A", "given": "B"}, {"literal": "others"}]
    assert out["editor"] == [{"family": "C", "given": "D"}, {"literal": "others"}]
    assert out["custom"] == {
        "source-type": "techreport",
        "crossref": "parent",
        "institution": "MIT",
        "publisher-from-institution": True,
        "code": [{"url": "https://github.com/a/b", "origin": "abstract"}, {"url": "https://x.org"}],
        "code-announced": True,
        "affiliations": ["MIT", "ETH"],
        "extra": {"format": "bibtex", "fields": {"eprinttype": "arxiv", "shorthand": "AB"}},
    }
    assert not result.diagnostics  # the list's end says it all
    assert read(result.text).records == [rec]


def test_institution_and_publisher_both_kept():
    rec = Record(key="k", type="thesis", publisher="Pub", institution="Uni")
    (out,) = assert_valid(write([rec]))
    assert out["publisher"] == "Pub" and out["custom"] == {"institution": "Uni"}
    assert read(write([rec])).records == [rec]


def test_foreign_custom_and_non_schema_variables_are_kept_in_custom():
    items = [
        {"id": "a", "type": "book", "custom": {"short_id": "xyz"}, "url2": "u", "itemType": "book"}
    ]
    (out,) = roundtrip(items)
    assert out["custom"] == {"short_id": "xyz", "url2": "u", "itemType": "book"}
    rec = one([out])
    assert rec.extra == {"custom": {"short_id": "xyz", "url2": "u", "itemType": "book"}}


def test_wrong_value_types_are_kept_with_a_warning():
    items = [
        {"id": "a", "type": "book", "title": ["x"], "volume": None, "keyword": 5, "custom": "c"}
    ]
    result = read_items(items)
    assert len(result.diagnostics.warnings) == 4
    rec = result.records[0]
    assert rec.extra == {"title": ["x"], "volume": None, "keyword": 5, "custom": "c"}
    (out,) = assert_valid(write([rec]))
    assert out["custom"] == {"title": ["x"], "volume": None, "keyword": 5, "custom": "c"}
    assert_stable([rec])


def test_record_with_a_non_csl_type_is_written_as_document_with_a_warning():
    result = csljson.write([Record(key="k", type="misc")], WriteOptions())
    (out,) = assert_valid(result.text)
    assert out["type"] == "document" and out["custom"] == {"source-type": "misc"}
    assert "not a CSL type" in result.diagnostics[0].message


# --------------------------------------------------------------------------
# arXiv

ZOTERO_PREPRINT = {
    "id": "http://zotero.org/users/1/items/ABCD1234",
    "type": "article",
    "title": "Attention Is All You Need",
    "author": [{"family": "Vaswani", "given": "Ashish"}],
    "publisher": "arXiv",
    "number": "arXiv:1706.03762",
    "DOI": "10.48550/arXiv.1706.03762",
    "URL": "http://arxiv.org/abs/1706.03762v5",
    "issued": {"date-parts": [[2017, 6, 12]]},
}


def test_zotero_preprint_is_recognised():
    rec = one([ZOTERO_PREPRINT])
    assert (rec.arxiv_id, rec.arxiv_version, rec.type) == ("1706.03762", 5, "article")
    assert is_arxiv_preprint(rec)
    assert (out := roundtrip([ZOTERO_PREPRINT])[0]) == {
        **ZOTERO_PREPRINT,
        "citation-key": ZOTERO_PREPRINT["id"],
    }
    assert "custom" not in out


@pytest.mark.parametrize(
    ("item", "ident", "version"),
    [
        ({"DOI": "10.48550/ARXIV.2204.12345"}, "2204.12345", None),
        ({"URL": "https://arxiv.org/pdf/2204.12345v2.pdf"}, "2204.12345", 2),
        ({"number": "arXiv:hep-th/9901001v1"}, "hep-th/9901001", 1),
        ({"container-title": "arXiv preprint arXiv:1810.04805"}, "1810.04805", None),
        ({"URL": "https://arxiv.org/abs/math.AG/0101001"}, "math.AG/0101001", None),
        ({"URL": "https://example.org/abs/2204.12345"}, "", None),
    ],
)
def test_arxiv_ids_found_in_standard_variables(
    item: dict[str, Any], ident: str, version: int | None
):
    rec = one([{"id": "a", "type": "article", **item}])
    assert (rec.arxiv_id, rec.arxiv_version) == (ident, version)


def test_preprint_is_written_as_zotero_does():
    rec = Record(
        key="vaswani2017attention",
        type="article",
        title="Attention",
        arxiv_id="1706.03762",
        arxiv_version=5,
        arxiv_primary_class="cs.CL",
        arxiv_categories=["cs.CL", "cs.LG"],
    )
    (out,) = assert_valid(write([rec]))
    assert out["publisher"] == "arXiv"
    assert out["number"] == "arXiv:1706.03762"
    assert out["DOI"] == "10.48550/arXiv.1706.03762"
    assert out["URL"] == "https://arxiv.org/abs/1706.03762"
    assert out["custom"]["arxiv"] == {
        "version": 5,
        "primary-class": "cs.CL",
        "categories": ["cs.CL", "cs.LG"],
        "derived": ["publisher", "number", "DOI", "URL"],
    }
    assert read(write([rec])).records == [rec]


def test_published_article_keeps_its_doi_and_links_its_arxiv_page():
    rec = Record(
        key="k", type="article-journal", container_title="J", doi="10.1/x", arxiv_id="2101.00001"
    )
    (out,) = assert_valid(write([rec]))
    assert out["DOI"] == "10.1/x" and "number" not in out and "publisher" not in out
    # The arXiv id is in the URL (as pandoc writes it), which is only derived.
    assert out["URL"] == "https://arxiv.org/abs/2101.00001"
    assert out["custom"] == {"arxiv": {"derived": ["URL"]}}
    assert read(write([rec])).records == [rec]


def test_preprint_with_its_own_doi_and_url_keeps_them():
    rec = Record(
        key="k", type="article", arxiv_id="2101.00001", doi="10.5555/own", url="https://x.org/p"
    )
    (out,) = assert_valid(write([rec]))
    assert (out["DOI"], out["URL"], out["number"]) == (
        "10.5555/own",
        "https://x.org/p",
        "arXiv:2101.00001",
    )
    assert out["custom"]["arxiv"] == {"derived": ["publisher", "number"]}
    assert read(write([rec])).records == [rec]


# --------------------------------------------------------------------------
# Reading: structure, lines and bad input


def test_item_lines_and_skipped_items():
    text = '[\n  {"id": "a", "type": "book"},\n  42,\n  {"id": "b"},\n  {"id": "c",\n   "type": 7},\n  {"id": "d", "type": "mystery"}\n]\n'
    result = read(text)
    assert result.detected == 5
    assert [r.key for r in result.records] == ["a", "d"]
    assert [r.origin_line for r in result.records] == [2, 7]
    errors = [(d.line, d.message) for d in result.diagnostics.errors]
    assert errors == [
        (3, "item 1: not an object but a number; skipped"),
        (4, "item 2: no type; skipped"),
        (5, "item 3: no usable type (number 7); skipped"),
    ]
    (warning,) = result.diagnostics.warnings
    assert (warning.line, warning.key) == (7, "d") and "mystery" in warning.message
    assert result.records[1].type == "document" and result.records[1].source_type == "mystery"
    (out,) = assert_valid(write(result.records[1:]))
    assert out["type"] == "document" and out["custom"] == {"source-type": "mystery"}


def test_single_object_and_items_wrapper():
    rec = one({"id": "a", "type": "book"})
    assert rec.key == "a"
    result = read('{"items": [\n{"id": "a", "type": "book"},\n{"id": "b", "type": "book"}]}')
    assert [(r.key, r.origin_line) for r in result.records] == [("a", 2), ("b", 3)]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[\n  {"id": "a", "type": "book"},\n  {"id": "b", "ty', 3),
        ('[{"id": "a", "type": "book"},]', 1),
        ('[{"id": "a", "type": "book"}\n\n{"id": "b"}]', 3),
        ('[{"id": "a", "type": "book"}] x', 1),
        ("", 1),
        ("   \n", 2),
        ('{"id": "a",\n "type": "book"', 2),
        ("[" * 100000, 1),
    ],
)
def test_invalid_json_is_one_error_and_nothing_detected(text: str, line: int):
    result = read(text)
    assert result.detected == 0 and result.records == []
    (diag,) = result.diagnostics
    assert diag.level is Level.ERROR and diag.line == line and "JSON" in diag.message


@pytest.mark.parametrize(
    ("text", "kind"), [("42", "number"), ('"x"', "string"), ("null", "null"), ("true", "boolean")]
)
def test_top_level_must_be_array_or_object(text: str, kind: str):
    result = read(text)
    assert result.detected == 0
    (diag,) = result.diagnostics
    assert diag.level is Level.ERROR and kind in diag.message


def test_bom_and_empty_array():
    assert [r.key for r in read('\ufeff[{"id": "a", "type": "book"}]').records] == ["a"]
    empty = read("[ ]")
    assert (empty.detected, list(empty.diagnostics)) == (0, [])
    assert write([]) == "[]\n"


def test_huge_and_non_finite_numbers_never_break_reading_or_writing():
    big = "9" * 5000
    text = (
        f'[{{"id": {big}, "type": "book", "volume": 1e400, "number": -Infinity, "page": NaN,'
        f' "issued": {{"date-parts": [[{big}]]}}, "number-of-pages": 123456789012345678901234567890,'
        f' "accessed": {{"date-parts": [[1e300]]}}}}]'
    )
    result = read(text)
    (rec,) = result.records
    assert rec.key == big and rec.volume == "1e400" and rec.pages == "NaN"
    assert rec.extra["number-of-pages"] == 123456789012345678901234567890
    (out,) = assert_valid(write([rec]))
    assert out["id"] == big and out["number"] == "-Infinity"
    assert out["issued"] == {"date-parts": [[big]]}
    assert_stable([rec])


def test_lone_surrogates_are_replaced_with_a_warning():
    text = '[{"id": "a", "type": "book", "title": "bad \\udc80 x \\ud83d\\ude00", "custom": {"k\\ud800": ["\\udfff"]}}]'
    result = read(text)
    (rec,) = result.records
    assert rec.title == "bad \ufffd x \U0001f600"
    assert rec.extra == {"custom": {"k\ufffd": ["\ufffd"]}}
    assert "surrogates" in result.diagnostics.warnings[0].message
    write([rec]).encode("utf-8")


def test_writer_replaces_surrogates_from_other_readers():
    result = csljson.write([Record(key="k", title="a\udc80b")], WriteOptions())
    assert json.loads(result.text)[0]["title"] == "a\ufffdb"
    assert result.diagnostics.warnings


def test_control_characters_and_deep_nesting_in_values():
    deep: Any = "x"
    for _ in range(500):
        deep = [deep]
    mojibake = "MÃ¼ller\u0080\ufffe"  # valid Unicode that looks like a wrong decoding: kept
    items = [
        {
            "id": "a",
            "type": "book",
            "title": "nul\u0000 tab\t",
            "note": mojibake,
            "custom": {"deep": deep},
        }
    ]
    result = read_items(items)
    (rec,) = result.records
    assert rec.title == "nul\u0000 tab\t" and rec.note == mojibake
    text = write([rec])
    assert "\\u0000" in text
    (out,) = assert_valid(text)
    assert out["title"] == "nul\u0000 tab\t"
    assert_stable([rec])


def test_sniff():
    assert csljson.sniff('[{"id": "a"}]')
    assert csljson.sniff('\ufeff  [\n  {\n "type": "book"}]')
    assert csljson.sniff('{"items": []}')
    assert csljson.sniff("[]")
    assert not csljson.sniff("@article{a, title={x}}")
    assert not csljson.sniff("TY  - JOUR\nER  - ")
    assert not csljson.sniff("[1] Smith, J. A paper. 2020.")
    assert not csljson.sniff("{BERT} rocks")


def test_registry_reads_and_writes_csljson():
    text = json.dumps([{"id": "a", "type": "book", "title": "T"}])
    result = convert.read_text(text, source="x.csl.json")
    assert result.format == "csljson" and result.records[0].title == "T"
    assert convert.detect(text) == "csljson"
    assert json.loads(convert.dumps(result.records, "csljson"))[0]["id"] == "a"


def test_output_format_is_fixed():
    rec = one([FULL_ITEM])
    text = write([rec])
    assert text.endswith("}\n]\n") and text.startswith('[\n  {\n    "id": "smith2020",\n    "type"')
    assert "\u2013" not in text and write([rec]) == text
    shuffled = dict(reversed(list(FULL_ITEM.items())))
    assert write([one([shuffled])]) == text
    assert "ü" in write([Record(key="k", title="Müller")])


# --------------------------------------------------------------------------
# Properties

CUSTOM_RESERVED = set(csljson.CUSTOM_KEYS)
MAPPED = (
    set(csljson.TEXT_FIELDS)
    | set(csljson.PLAIN_FIELDS)
    | {
        "id",
        "type",
        "citation-key",
        "custom",
        "keyword",
        "author",
        "editor",
        "issued",
        "accessed",
        *csljson.ALIASES,
    }
)
OTHER_VARIABLES = sorted(v for v in csljson.KINDS if v not in MAPPED)
NUMERIC_MODEL_VARIABLES = {"volume", "issue", "number", "collection-number", "page", "edition"}

text = st.text(min_size=1, max_size=12)
json_scalar = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.sampled_from([10**400, -(10**30), 2**63])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
plain_fragment = st.text(
    alphabet=st.characters(blacklist_characters="<>", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=10,
)


def _tag(pair: tuple[str, list[str]]) -> str:
    tag, children = pair
    body = "".join(children)
    if tag == "nocase":
        return f'<span class="nocase">{body}</span>'
    return f"<{tag}>{body}</{tag}>"


rich_text = st.lists(
    st.recursive(
        plain_fragment,
        lambda inner: st.tuples(
            st.sampled_from(["i", "b", "sup", "sub", "nocase"]),
            st.lists(inner, min_size=1, max_size=3),
        ).map(_tag),
        max_leaves=6,
    ),
    min_size=1,
    max_size=3,
).map("".join)

flag_value = st.booleans() | st.integers(0, 3) | st.sampled_from(["true", "1"])
personal_name = st.fixed_dictionaries(
    {"family": text},
    optional={
        "given": text,
        "non-dropping-particle": text,
        "dropping-particle": text,
        "suffix": text,
        "comma-suffix": flag_value,
        "static-ordering": flag_value,
        "parse-names": flag_value,
    },
)
csl_name = personal_name | st.fixed_dictionaries({"literal": text})
# A list cut short ends with "others": pandoc's and Zotero's spelling, or citation-js's.
csl_names = st.tuples(
    st.lists(csl_name, min_size=1, max_size=4),
    st.sampled_from([[], [], [{"literal": "others"}], [{"family": "others"}]]),
).map(lambda pair: pair[0] + pair[1])


@st.composite
def csl_date(draw: st.DrawFn) -> dict[str, Any]:
    def parts() -> list[int]:
        year = draw(st.integers(-3000, 3000))
        month = draw(st.none() | st.integers(1, 12))
        if month is None:
            return [year]
        day = draw(st.none() | st.integers(1, 28))
        return [year, month] if day is None else [year, month, day]

    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["date-parts"] = [parts()] + ([parts()] if draw(st.booleans()) else [])
        if draw(st.booleans()):
            out["season"] = draw(st.integers(1, 4) | st.sampled_from(["Spring", "Winter"]))
        if draw(st.booleans()):
            out["circa"] = True
    if not out or draw(st.booleans()):
        out["literal"] = draw(text)
    return out


def other_value(var: str) -> st.SearchStrategy[Any]:
    kind = csljson.KINDS[var]
    if kind == "names":
        return csl_names
    if kind == "date":
        return csl_date()
    if kind == "strings":
        return st.lists(text, max_size=3)
    if kind == "number":
        return text | st.integers(-1000, 10**6)
    return st.text(max_size=12)


@st.composite
def csl_item(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": draw(text | st.integers(0, 10**6)),
        # "": pandoc's type for @misc.
        "type": draw(st.sampled_from(sorted(CSL_TYPES)) | st.just("")),
    }
    if draw(st.booleans()):
        item["citation-key"] = draw(text)
    for var in csljson.TEXT_FIELDS:
        if draw(st.integers(0, 3)) == 0:
            item[var] = (
                draw(rich_text | st.integers(1, 99)) if var == "edition" else draw(rich_text)
            )
    for var in csljson.PLAIN_FIELDS:
        if draw(st.integers(0, 3)) == 0:
            value = (
                draw(text | st.integers(0, 9999)) if var in NUMERIC_MODEL_VARIABLES else draw(text)
            )
            if isinstance(value, str) and var == "page":
                value = value.replace("\u2013", "").replace("-", "")
            item[var] = value or "1"
    for var in ("author", "editor"):
        if draw(st.booleans()):
            item[var] = draw(csl_names)
    for var in ("issued", "accessed"):
        if draw(st.booleans()):
            item[var] = draw(csl_date())
    if draw(st.booleans()):
        words = st.text(
            alphabet=st.characters(blacklist_characters=",", blacklist_categories=("Cs",)),
            min_size=1,
            max_size=8,
        )
        keywords = [w.strip() for w in draw(st.lists(words, min_size=1, max_size=4)) if w.strip()]
        if keywords:
            item["keyword"] = ", ".join(keywords)
    for var in draw(st.lists(st.sampled_from(OTHER_VARIABLES), max_size=4, unique=True)):
        item[var] = draw(other_value(var))
    if draw(st.booleans()):
        keys = st.text(min_size=1, max_size=8).filter(lambda k: k not in CUSTOM_RESERVED)
        item["custom"] = draw(st.dictionaries(keys, json_value, min_size=1, max_size=3))
    return item


def case_spans_normalised(value: str, title: bool) -> str:
    """``value`` with the nocase spans the writer keeps: in titles only, the
    outermost of nested ones, and only around something with a letter."""
    tokens = [t for t in re.split(r"(<[^<>]*>)", value) if t]
    out: list[str] = []
    # Per open span: (a nocase span, kept, index of its opening tag in out).
    open_spans: list[tuple[bool, bool, int]] = []
    for token in tokens:
        if token == '<span class="nocase">':
            keep = title and not any(nocase and kept for nocase, kept, _ in open_spans)
            open_spans.append((True, keep, len(out)))
            out.append(token if keep else "")
        elif token.startswith("<span"):
            open_spans.append((False, True, len(out)))
            out.append(token)
        elif token == "</span>" and open_spans:
            nocase, keep, at = open_spans.pop()
            inner = re.sub(r"<[^<>]*>", "", "".join(out[at + 1 :]))
            if nocase and keep and not any(ch.isalpha() for ch in inner):
                out[at], keep = "", False
            out.append(token if keep else "")
        else:
            out.append(token)
    return "".join(out)


def normalised(item: dict[str, Any]) -> dict[str, Any]:
    """What the writer gives back for ``item``: the documented normalisations only."""
    out = copy.deepcopy(item)
    empty_type = out["type"] == ""
    if empty_type:
        out["type"] = "document"  # and custom says it was empty (below)
    for var in ("author", "editor"):
        if isinstance(out.get(var), list) and out[var][-1:] == [{"family": "others"}]:
            out[var][-1] = {"literal": "others"}
    # Case protection CSL does not need is not written, but kept in custom.
    stash = {}
    for var in csljson.TEXT_FIELDS:
        if isinstance(out.get(var), str):
            written = case_spans_normalised(out[var], var in csljson.TITLE_VARIABLES)
            if written != out[var]:
                stash[var] = from_csl(out[var])
            out[var] = written
    for alias, canonical in csljson.ALIASES.items():
        if alias in out and canonical not in out:
            out[canonical] = out.pop(alias)
    if not isinstance(out.get("citation-key"), str) or not out["citation-key"]:
        out["citation-key"] = str(out["id"])
    for var in NUMERIC_MODEL_VARIABLES:
        if isinstance(out.get(var), int | float):
            out[var] = str(out[var])
    for var in (*csljson.TEXT_FIELDS, *csljson.PLAIN_FIELDS, "keyword"):
        if out.get(var) == "":  # an empty model field is no field
            del out[var]
    for var in ("author", "editor"):
        for name in out.get(var, []):
            for part in [k for k, v in name.items() if k in csljson.NAME_PARTS and v == ""]:
                del name[part]
    if isinstance(out.get("keyword"), str):
        out["keyword"] = ", ".join(k.strip() for k in out["keyword"].split(",") if k.strip())
    if isinstance(out.get("page"), str):
        out["page"] = out["page"].replace("\u2013", "-")
    for var in ("issued", "accessed"):
        parts = out.get(var, {}).get("date-parts") if isinstance(out.get(var), dict) else None
        if parts:
            out[var]["date-parts"] = [[int(p) for p in part if p != ""] for part in parts]
        if (
            isinstance(out.get(var), dict)
            and isinstance(out[var].get("season"), str)
            and out[var]["season"].isdigit()
        ):
            out[var]["season"] = int(out[var]["season"])
    custom = out.pop("custom", {})
    for key in list(out):
        if key not in csljson.KINDS:
            custom[key] = out.pop(key)
    if empty_type:
        custom["type"] = ""
    name_extra: dict[str, Any] = {}
    for var in ("author", "editor"):
        for i, name in enumerate(out.get(var, [])):
            extra = {
                k: name.pop(k)
                for k in list(name)
                if k not in csljson.NAME_PARTS and k not in csljson.NAME_FLAGS
            }
            if extra:
                name_extra.setdefault(var, {})[str(i)] = extra
    if name_extra:
        custom = {"name-extra": name_extra, **custom}
    if stash:
        custom = {"markup": stash, **custom}
    if custom:
        out["custom"] = custom
    return out


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(csl_item(), min_size=1, max_size=3))
def test_property_csl_to_record_to_csl_keeps_every_field(items: list[dict[str, Any]]):
    # Distinct ids: the writer renames a repeated id.
    for i, item in enumerate(items):
        item["id"] = f"{item['id']}#{i}" if isinstance(item["id"], str) else item["id"] * 10 + i
    result = read_items(items)
    assert result.diagnostics.errors == [] and len(result.records) == len(items)
    out = assert_valid(write(result.records))
    assert out == [normalised(item) for item in items]


markup_text = st.lists(
    st.sampled_from(
        [
            "{",
            "}",
            "{BERT}",
            "$x^2$",
            "\\emph{",
            "\\textbf{b}",
            "\\\\",
            "\\{",
            "\\$",
            "<i>",
            "&",
            "–",
            "\\url{a_b}",
        ]
    )
    | st.text(max_size=6),
    max_size=5,
).map("".join)
plain_text = st.text(max_size=10)
name_extra = st.dictionaries(
    st.sampled_from(
        ["comma-suffix", "static-ordering", "parse-names", "_orcid", "isInstitution", "family"]
    ),
    json_value,
    max_size=2,
)
model_name = st.builds(
    Name,
    family=plain_text,
    given=plain_text,
    particle=plain_text,
    suffix=plain_text,
    literal=plain_text,
    dropping_particle=plain_text,
    extra=name_extra,
)


@st.composite
def model_date(draw: st.DrawFn) -> PartialDate:
    if draw(st.integers(0, 3)) == 0:
        return PartialDate()

    def ymd() -> PartialDate:
        year = draw(st.integers(-9999, 9999))
        month = draw(st.none() | st.integers(1, 12))
        day = draw(st.none() | st.integers(1, 28)) if month else None
        return PartialDate(year, month, day)

    if draw(st.booleans()):
        date = ymd()
        if draw(st.booleans()):
            date.end = ymd()
    else:
        date = PartialDate(literal=draw(text))
    date.literal = draw(st.sampled_from(["", date.literal, "ca. 1900"])) or date.literal
    date.season = draw(st.sampled_from(["", "1", "4", "01", "Spring"]))
    date.circa = draw(st.booleans())
    return date


arxiv_ids = st.sampled_from(
    ["", "", "2204.12345", "1706.03762", "hep-th/9901001", "math.AG/0101001", "not an id"]
)


@st.composite
def csl_extras(draw: st.DrawFn) -> dict[str, Any]:
    extra = {
        var: draw(other_value(var))
        for var in draw(st.lists(st.sampled_from(OTHER_VARIABLES), max_size=3, unique=True))
    }
    if draw(st.booleans()):
        keys = st.text(min_size=1, max_size=8).filter(lambda k: k not in CUSTOM_RESERVED)
        extra["custom"] = draw(st.dictionaries(keys, json_value, min_size=1, max_size=2))
    if draw(st.booleans()):
        extra["id"] = draw(st.integers(0, 10**6))
    return extra


@st.composite
def model_record(draw: st.DrawFn, loose: bool = False) -> Record:
    rec = Record(
        type=draw(st.sampled_from(sorted(CSL_TYPES))),
        key=draw(text),
        authors=draw(st.lists(model_name, max_size=3)),
        authors_truncated=draw(st.booleans()),
        editors=draw(st.lists(model_name, max_size=2)),
        editors_truncated=draw(st.booleans()),
        issued=draw(model_date()),
        accessed=draw(model_date()),
        arxiv_id=draw(arxiv_ids),
        arxiv_version=draw(st.none() | st.integers(1, 12)),
        arxiv_primary_class=draw(st.sampled_from(["", "cs.CL"])),
        arxiv_categories=draw(st.lists(text, max_size=2)),
        journal_ref=draw(st.sampled_from(["", "ACL 2022"])),
        arxiv_comment=draw(st.sampled_from(["", "12 pages"])),
        pdf_url=draw(st.sampled_from(["", "https://arxiv.org/pdf/2204.12345"])),
        keywords=draw(st.lists(st.text(max_size=8), max_size=3)),
        code_links=draw(
            st.lists(st.builds(CodeLink, text, st.sampled_from(["", "abstract"])), max_size=2)
        ),
        code_announced=draw(st.booleans()),
        affiliations=draw(st.lists(text, max_size=2)),
        crossref=draw(st.sampled_from(["", "parent"])),
        source_type=draw(st.sampled_from(["", "inproceedings", "misc"])),
    )
    for attr in csljson.TEXT_FIELDS.values():
        if draw(st.booleans()):
            setattr(rec, attr, draw(markup_text))
    if draw(st.booleans()):
        rec.institution = draw(markup_text)
    if draw(st.booleans()):
        rec.organization = draw(markup_text)
    for attr in csljson.PLAIN_FIELDS.values():
        if draw(st.booleans()):
            value = draw(plain_text)
            setattr(
                rec,
                attr,
                value.replace("\u2013", "").replace("--", "") if attr == "pages" else value,
            )
    kind = draw(st.sampled_from(["none", "csljson", "bibtex"]))
    if kind == "csljson":
        rec.extra = draw(csl_extras())
    elif kind == "bibtex":
        # BibTeX fields CSL lacks, among them those the writer derives variables from.
        derived_from = ["howpublished", "subtitle", "titleaddon", "HowPublished"]
        rec.extra = draw(
            st.dictionaries(
                st.text(min_size=1, max_size=6) | st.sampled_from(derived_from),
                st.text(max_size=6)
                | st.sampled_from(["\\url{https://a.org/x}", "https://b.org", "{W}eb", "Sub"]),
                min_size=1,
                max_size=3,
            )
        )
        if "subtitle" in rec.extra and draw(st.booleans()):
            rec.title = f"{rec.title}: {from_latex(rec.extra['subtitle'])}"
    rec.extra_format = kind if rec.extra else ""
    if loose:  # anything a careless caller might hand the writer
        rec.type = draw(st.sampled_from([rec.type, "misc", ""]))
        rec.extra_format = draw(st.sampled_from([rec.extra_format, "csljson", ""]))
        rec.extra.update(
            draw(
                st.dictionaries(
                    st.sampled_from(
                        [
                            "title",
                            "shortTitle",
                            "url",
                            "id",
                            "type",
                            "custom",
                            "zz",
                            "number",
                            "author",
                            "issued",
                        ]
                    ),
                    json_value,
                    max_size=3,
                )
            )
        )
        rec.key = draw(st.sampled_from([rec.key, "", "dup"]))
        rec.title = draw(st.sampled_from([rec.title, "a\udc80b"]))
    return rec


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_record())
@example(
    Record(key="k", type="article", arxiv_id="2204.12345", url="https://arxiv.org/abs/2204.12345v3")
)
@example(Record(key="k", type="article", title="{}", publisher="", institution="{}"))
@example(Record(key="k", keywords=[""]))
@example(
    Record(
        key="k",
        title="Main: Sub. Add",
        extra={"subtitle": "Sub", "titleaddon": "Add", "howpublished": "{W}eb"},
        extra_format="bibtex",
    )
)
@example(Record(key="k", extra={"HowPublished": "\\url{https://a.org/x}"}, extra_format="bibtex"))
@example(
    Record(key="k", publisher="P", url="u", extra={"howpublished": "W"}, extra_format="bibtex")
)
@pytest.mark.slow
def test_property_record_to_csl_to_record_is_identity(rec: Record):
    text = write([rec])
    assert_valid(text)
    result = read(text)
    assert result.diagnostics.errors == []
    assert result.records == [rec]


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(model_record(loose=True), max_size=3))
def test_property_write_read_write_is_byte_stable(records: list[Record]):
    first = write(records)
    # The fast encoder writes exactly what json.dumps(indent=2) would.
    assert json.dumps(assert_valid(first), indent=2, ensure_ascii=False) + "\n" == first
    assert write(read(first).records) == first


json_text = st.recursive(
    json_scalar | st.sampled_from(sorted(CSL_TYPES)),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    *csljson.KINDS,
                    *csljson.CUSTOM_KEYS,
                    "date-parts",
                    "family",
                    "literal",
                    "raw",
                    "x",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
).map(json.dumps)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text()
    | json_text
    | json_text.map(lambda t: t[: len(t) // 2])
    | st.lists(json_text).map(lambda ts: "[" + ",".join(ts) + "]")
)
@pytest.mark.slow
@example('[{"id": "a", "type": "book", "issued": {"date-parts": [[1e999]]}}]')
@example('[{"id": "a", "type": "book", "author": [{"family": {"x": 1}}]}]')
def test_property_read_never_raises_and_what_it_reads_writes_valid_csl(text_in: str):
    result = read(text_in)
    assert result.detected >= len(result.records)
    assert all(d.line >= 1 for d in result.diagnostics)
    if result.detected == 0:
        assert result.records == []
    first = write(result.records)
    assert_valid(first)
    assert write(read(first).records) == first


# --------------------------------------------------------------------------
# Scale: many items keep their line numbers (speed itself is measured in benchmarks/)


def test_thousands_of_items_keep_their_line_numbers():
    base = [
        item for path in CITATIONJS for item in json.loads(path.read_text(encoding="utf-8"))["csl"]
    ]
    items = []
    for i in range(3_000):
        item = copy.deepcopy(base[i % len(base)])
        item["id"] = item["citation-key"] = f"item{i}"
        items.append(item)
    text = json.dumps(items, indent=2, ensure_ascii=False)
    result = read(text)
    out = write(result.records)
    assert len(result.records) == 3_000
    brace = text.rindex("\n  {", 0, text.index('"id": "item2999"'))
    last_line = text[: brace + 1].count("\n") + 1  # the line of the last item's "{"
    assert result.records[-1].origin_line == last_line
    assert len(json.loads(out)) == 3_000


# --------------------------------------------------------------------------
# Issue 12, class 7 and 8: what CSL-JSON consumers see


def _nocase_problems(item: dict[str, Any]) -> list[str]:
    """Where ``item`` has a nocase span it should not: outside title variables,
    nested in another, or around text without a letter."""
    problems = []
    for var, value in item.items():
        if var == "custom":
            continue
        strings = [value] if isinstance(value, str) else []
        if isinstance(value, list):
            strings = [v for n in value if isinstance(n, dict) for v in n.values()]
        for text in (s for s in strings if isinstance(s, str) and "nocase" in s):
            if var not in csljson.TITLE_VARIABLES:
                problems.append(f"{var}: {text}")
                continue
            depth = 0
            for tag in re.findall(r"<span[^>]*>|</span>|[^<]+", text):
                if tag == '<span class="nocase">':
                    depth += 1
                    if depth > 1:
                        problems.append(f"{var} (nested): {text}")
                elif tag == "</span>":
                    depth = max(0, depth - 1)
            for inner in re.findall(r'<span class="nocase">([^<]*)</span>', text):
                if not any(ch.isalpha() for ch in inner):
                    problems.append(f"{var} (nothing to protect): {text}")
    return problems


def test_no_nocase_span_outside_titles_in_any_fixture():
    """Every BibTeX, RIS and CSL fixture, written as CSL-JSON: case protection
    only in titles (161 spans in notes, publishers, editions were seen)."""
    paths = [
        *sorted((FIXTURES / "bibtex").rglob("*.bib")),
        *sorted((FIXTURES / "ris").rglob("*.ris")),
        *[p for p in CSL_FIXTURES if "schema" not in p.parts],
        *sorted((HERE / "data").rglob("*.bib")),
    ]
    problems, titles = [], 0
    for path in paths:
        records = convert.read_file(str(path)).records
        for item in json.loads(convert.write(records, "csljson").text or "[]"):
            problems += [f"{path.name}:{item['id']}: {p}" for p in _nocase_problems(item)]
            titles += any("nocase" in str(item.get(v, "")) for v in csljson.TITLE_VARIABLES)
    assert problems == []
    assert titles > 100  # titles keep theirs: the check looked at real protection


def test_case_protection_outside_titles_is_kept_for_bibtex():
    # xampl.bib's organisation and publisher-like fields carry braces in BibTeX.
    rec = Record(key="k", title="On {BERT}", publisher="{ACM} Press", edition="{Second}")
    (out,) = assert_valid(write([rec]))
    assert out["title"] == 'On <span class="nocase">BERT</span>'
    assert out["publisher"] == "ACM Press" and out["edition"] == "Second"
    assert out["custom"]["markup"] == {"publisher": "{ACM} Press", "edition": "{Second}"}
    assert read(write([rec])).records == [rec]


def _bib(name: str, key: str) -> Record:
    (rec,) = [r for r in convert.read_file(str(name), "bibtex").records if r.key == key]
    return rec


def test_howpublished_is_the_publisher_or_the_url():
    cj = FIXTURES / "bibtex" / "citationjs"
    misc = _bib(cj / "citationjs_a-complete-misc.bib", "Misc")  # howpublished = {Online}
    (out,) = assert_valid(write([misc]))
    assert out["publisher"] == "Online" and out["custom"]["derived"] == ["publisher"]
    assert read(write([misc])).records == [misc]  # the publisher was only derived
    # Zotero's test: a URL in howpublished, and the same URL in url.
    zot = FIXTURES / "bibtex" / "zotero" / "zotero_bib_07_public-service-research-foundation.bib"
    (rec,) = convert.read_file(str(zot), "bibtex").records
    (out,) = assert_valid(write([rec]))
    assert out["URL"] == "http://www.americanrightsatwork.org/blogcategory-275/"
    assert "publisher" not in out
    # A bare URL without url field becomes the URL.
    bare = misc.copy(extra={"howpublished": "https://example.org/x"})
    (out,) = assert_valid(write([bare]))
    assert out["URL"] == "https://example.org/x" and "publisher" not in out
    assert read(write([bare])).records == [bare]


def test_subtitle_gives_the_short_title_and_reads_back():
    path = FIXTURES / "bibtex" / "citationjs" / "citationjs_mapping_biblatex-input.bib"
    rec = _bib(path, "radboud:manual")
    (out,) = assert_valid(write([rec]))
    assert out["title"] == "Guidelines for written reports: Bachelor Biosciences"
    assert out["title-short"] == "Guidelines for written reports"
    assert read(write([rec])).records == [rec]
    # An edited title no longer ends with its subtitle: no short title is made up.
    (out,) = assert_valid(write([rec.copy(title="Something else")]))
    assert "title-short" not in out


def test_arxiv_eprint_of_a_published_paper_gives_its_url():
    path = FIXTURES / "bibtex" / "texlive" / "biblatex-examples.bib"
    rec = _bib(path, "baez/article")  # eprint = {math/0307200v3}, eprinttype = {arxiv}
    (out,) = assert_valid(write([rec]))
    assert out["type"] == "article-journal" and out["URL"] == "https://arxiv.org/abs/math/0307200"
    assert read(write([rec])).records == [rec]
    (out,) = assert_valid(write([rec.copy(url="https://example.org/paper")]))
    assert out["URL"] == "https://example.org/paper"


def test_pandoc_2_csl_json_is_read_whole():
    """pandoc 2.x (Debian's) writes "type": "" for @misc and a final
    {"literal": "others"} for "and others" (tests/data/pandoc2)."""
    xampl = HERE / "data" / "pandoc2" / "xampl.csl.json"
    result = convert.read_file(str(xampl))
    items = json.loads(xampl.read_text(encoding="utf-8"))
    assert len(result.records) == len(items) and not result.diagnostics.errors
    empty = [i["id"] for i in items if i["type"] == ""]
    assert empty and [r.key for r in result.records if r.type == "document"] == empty
    warned = [d.key for d in result.diagnostics.warnings if "empty type" in d.message]
    assert warned == empty
    texnique = HERE / "data" / "pandoc2" / "texnique.csl.json"
    recs = {r.key: r for r in convert.read_file(str(texnique)).records}
    childs = recs["Childs:TQ7-117"]
    assert childs.authors_truncated and [n.display() for n in childs.authors] == ["Bart Childs"]
    (out,) = [i for i in assert_valid(write([childs]))]
    assert out["author"][-1] == {"literal": "others"}


def test_truncated_lists_in_every_convention():
    bib = FIXTURES / "bibtex" / "texlive" / "texnique.bib"
    rec = _bib(bib, "Childs:TQ7-117")  # author = "Bart Childs and others"
    (out,) = assert_valid(write([rec]))
    assert out["author"] == [{"family": "Childs", "given": "Bart"}, {"literal": "others"}]
    assert "custom" not in out or "authors-truncated" not in out["custom"]
    assert read(write([rec])).records == [rec]
    # citation-js writes {"family": "others"}; our files before this wrote a flag.
    for names, custom in (
        ([{"family": "A"}, {"family": "others"}], {}),
        ([{"family": "A"}], {"authors-truncated": True}),
    ):
        back = one({"id": "a", "type": "book", "author": names, "custom": custom})
        assert back.authors == [Name("A")] and back.authors_truncated
    # Someone really called "others", last in a complete list, stays a person.
    person = Record(key="k", authors=[Name("A"), Name(literal="others")])
    (out,) = assert_valid(write([person]))
    assert out["custom"] == {"authors-truncated": False}
    assert read(write([person])).records == [person]


# --------------------------------------------------------------------------
# The item encoder (orjson, with json's spelling of floats) writes json's bytes

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()  # lone surrogates included: orjson refuses them, _dump writes them
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(), _json_values, max_size=6))
@example({"id": 1e16, "n": [1e-05, 0.1, -0.0, 2**64], "s": "\x7f\u2028\x00\ud800"})
def test_item_json_writes_what_json_writes(item: dict[str, Any]) -> None:
    item = csljson._jsonable(item)  # as the writer passes every foreign value
    expected = json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n  ")
    assert csljson._item_json(item) == expected
