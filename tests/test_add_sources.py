"""The sources of bibtools add, offline: answers to CSL-JSON items, hostile answers, the match judge."""

from __future__ import annotations

from pathlib import Path

import pytest

from bibtools.add import MIN_CONFIDENCE, clean_csl, detect_key_style, judge, record_from_csl
from bibtools.model import Name, PartialDate, Record
from bibtools.sources.crossref import CrossrefAuthor, CrossrefWork
from bibtools.sources.googlebooks import csl_item as volume_item
from bibtools.sources.openlibrary import csl_item as book_item
from bibtools.sources.pubmed import expand_pages, parse_articles
from bibtools.text.dates import parse_free_date

FIXTURES = Path(__file__).parent / "fixtures"


def test_pubmed_efetch_recorded_answer() -> None:
    items = parse_articles((FIXTURES / "pubmed" / "eutils_efetch_pubmed_20412080.xml").read_bytes())
    assert items is not None
    item = items["20412080"]
    assert item["title"] == "The human phenotype ontology"  # MEDLINE's final period dropped
    assert item["author"] == [
        {"family": "Robinson", "given": "P N"},
        {"family": "Mundlos", "given": "S"},
    ]
    assert (item["container-title"], item["page"], item["issued"]) == (
        "Clinical genetics",
        "525-534",
        {"date-parts": [[2010, 6]]},
    )
    assert item["DOI"] == "10.1111/j.1399-0004.2010.01436.x"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<html>busy</html>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        b"<PubmedArticleSet>&b;</PubmedArticleSet>",
        b"<PubmedArticleSet><PubmedArticle>",
    ],
)
def test_pubmed_hostile_answers_are_no_articles(data: bytes) -> None:
    assert parse_articles(data) is None


def test_pubmed_empty_set_and_page_ranges() -> None:
    assert parse_articles(b"<PubmedArticleSet></PubmedArticleSet>") == {}
    assert [expand_pages(p) for p in ("436-44", "1754-60", "5-32", "e1002", "123-123")] == [
        "436-444",
        "1754-1760",
        "5-32",
        "e1002",
        "123-123",
    ]


def test_open_library_book_to_csl() -> None:
    book = {
        "title": "Use of Weapons",
        "subtitle": "A Culture Novel",
        "authors": [{"name": "Iain M. Banks"}, {"name": "Ludwig van Beethoven"}, "junk"],
        "publish_date": "July 28, 2008",
        "publishers": [{"name": "Orbit"}],
        "publish_places": [{"name": "London"}],
        "number_of_pages": 480,
    }
    item = book_item(book, "9780316030571")
    assert item == {
        "type": "book",
        "title": "Use of Weapons: A Culture Novel",
        "author": [
            {"family": "Banks", "given": "Iain M."},
            {"family": "Beethoven", "given": "Ludwig", "non-dropping-particle": "van"},
        ],
        "issued": {"date-parts": [[2008, 7, 28]]},
        "publisher": "Orbit",
        "publisher-place": "London",
        "number-of-pages": "480",
        "ISBN": "9780316030571",
    }
    assert book_item({"title": ["not", "a", "string"]}, "9780316030571") is None


def test_google_books_volume_to_csl() -> None:
    info = {
        "title": "Ready Player One",
        "authors": ["Ernest Cline", 7],
        "publishedDate": "2012-05",
        "pageCount": "388",
    }
    item = volume_item(info, "9780099560432")
    assert item is not None
    assert (item["author"], item["issued"], item["number-of-pages"]) == (
        [{"family": "Cline", "given": "Ernest"}],
        {"date-parts": [[2012, 5]]},
        "388",
    )


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("July 28, 2008", [2008, 7, 28]),
        ("2012-05-03", [2012, 5, 3]),
        ("c1984", [1984]),
        ("Feb 30, 2001", [2001, 2]),
        ("n.d.", []),
    ],
)
def test_free_dates(text: str, parts: list[int]) -> None:
    assert parse_free_date(text) == parts


def test_crossref_csl_cleaned_before_reading() -> None:
    item = {
        "type": "book-chapter",
        "title": ["Clinical Symptoms"],
        "container-title": ["Lecture Notes", "The Book"],
        "author": [
            {"given": "A", "family": "B", "sequence": "first", "affiliation": []},
            {"name": "WHO"},
        ],
        "URL": "http://dx.doi.org/10.1/x",
        "DOI": "10.1/X",
        "reference": [{"key": "r1"}],
        "abstract": "<jats:p>Long</jats:p>",
        "PMID": "123",
    }
    cleaned = clean_csl(item, asked_doi="10.1/x")
    assert cleaned == {
        "type": "chapter",
        "title": "Clinical Symptoms",
        "author": [{"given": "A", "family": "B"}, {"literal": "WHO"}],
        "container-title": "The Book",
        "collection-title": "Lecture Notes",
        "DOI": "10.1/x",  # DataCite-style upper case: written as asked
    }
    rec = record_from_csl(item, "x", "10.1/x")
    assert rec is not None and rec.type == "chapter" and rec.extra == {"pmid": "123"}
    assert rec.authors[1].literal == "WHO" and not rec.abstract and not rec.url


def work(title: str, families: list[str], year: int) -> CrossrefWork:
    return CrossrefWork(
        doi="10.1/x", type="journal-article", title=title,
        authors=tuple(CrossrefAuthor("A", f) for f in families), issued=(year,),
    )  # fmt: skip


def test_judge_needs_a_family_name_and_a_title() -> None:
    ref = "Breiman L. Random forests. Mach Learn. 2001;45(1):5-32."
    right = judge(ref, work("Random Forests", ["Breiman"], 2001))
    assert right.guard and right.confidence == 1.0
    stranger = judge(ref, work("Random Forests", ["Smith"], 2001))
    assert not stranger.guard
    # A family name in common, but another paper: below the threshold.
    other = judge(ref, work("Bagging predictors", ["Breiman"], 1996))
    assert other.guard and other.confidence < MIN_CONFIDENCE


def test_key_style_needs_most_keys() -> None:
    def rec(key: str, family: str, year: int, title: str) -> Record:
        return Record(
            key=key, title=title, authors=[Name(family=family, given="A")], issued=PartialDate(year)
        )

    mixed = [
        rec("LeCun2015", "LeCun", 2015, "Deep"),
        rec("foo", "He", 2016, "Res"),
        rec("bar", "Li", 2009, "Fast"),
    ]
    assert detect_key_style(mixed) is None
    colon = [rec("lecun:2015", "LeCun", 2015, "Deep"), rec("he:2016", "He", 2016, "Res")]
    style = detect_key_style(colon)
    assert style is not None and style.key(rec("", "Li", 2009, "Fast")) == "li:2009"
