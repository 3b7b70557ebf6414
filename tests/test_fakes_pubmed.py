"""The loopback PubMed E-utilities: ESummary and EFetch XML, unknown ids, batching, retractions, faults."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fakes.catalogue import Catalogue
from fakes.pubmed_server import FakePubMed, medline_pages

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


@pytest.fixture
def pm(catalogue: Catalogue) -> Iterator[FakePubMed]:
    with FakePubMed(catalogue) as fake:
        yield fake


def esummary(pm: FakePubMed, ids: str, **extra: str) -> requests.Response:
    return requests.get(
        f"{pm.url}/esummary.fcgi", params={"db": "pubmed", "id": ids, **extra}, timeout=5
    )


def efetch(pm: FakePubMed, ids: str, method: str = "GET") -> requests.Response:
    data = {"db": "pubmed", "id": ids, "retmode": "xml"}
    if method == "POST":
        return requests.post(f"{pm.url}/efetch.fcgi", data=data, timeout=5)
    return requests.get(f"{pm.url}/efetch.fcgi", params=data, timeout=5)


def test_medline_pages() -> None:
    assert [
        medline_pages(p) for p in ("436-444", "1735-1780", "E4832-E4841", "145-145", "5-32")
    ] == ["436-44", "1735-80", "E4832-41", "145", "5-32"]


def test_esummary_recorded_documents(pm: FakePubMed) -> None:
    recorded = (FIXTURES / "pubmed/biopython_esummary_pubmed_11850928_11482001.xml").read_text()
    r = esummary(pm, "11850928,11482001")
    assert r.status_code == 200 and r.text == recorded
    assert (
        esummary(pm, "").text
        == (FIXTURES / "pubmed/biopython_esummary_error_no-id.xml").read_text()
    )


def test_esummary_rendered_unknown_and_order(pm: FakePubMed) -> None:
    r = esummary(pm, "9500320,99999999,26017442")
    root = ET.fromstring(r.content)
    assert [e.tag for e in root] == ["DocSum", "ERROR", "DocSum"]
    assert root[1].text == "UID=99999999: cannot get document summary"
    lecun = root[2]
    items = {i.get("Name"): i for i in lecun.findall("Item")}
    assert items["Title"].text == "Deep learning." and items["Pages"].text == "436-44"
    assert [a.text for a in items["AuthorList"]] == ["LeCun Y", "Bengio Y", "Hinton G"]
    assert {i.get("Name"): i.text for i in items["ArticleIds"]} == {
        "pubmed": "26017442",
        "doi": "10.1038/nature14539",
    }
    wakefield = {i.get("Name"): i for i in root[0].findall("Item")}
    assert "Retracted Publication" in [t.text for t in wakefield["PubTypeList"]]
    assert esummary(pm, "26017442", retmode="json").status_code == 501  # never recorded


def test_efetch_recorded_rendered_and_missing(pm: FakePubMed) -> None:
    recorded = (FIXTURES / "pubmed/eutils_efetch_pubmed_20412080.xml").read_text()
    assert efetch(pm, "20412080").text == recorded
    assert efetch(pm, "20412080", "POST").text == recorded  # the recording was a POST
    r = efetch(pm, "99999999,9377276")
    arts = ET.fromstring(r.content).findall("PubmedArticle")
    assert len(arts) == 1  # unknown ids left out
    art = arts[0]
    assert art.findtext("MedlineCitation/Article/ArticleTitle") == "Long Short-Term Memory."
    assert [a.findtext("LastName") for a in art.iter("Author")] == ["Hochreiter", "Schmidhuber"]
    assert (
        art.findtext("PubmedData/ArticleIdList/ArticleId[@IdType='doi']")
        == "10.1162/neco.1997.9.8.1735"
    )
    empty = efetch(pm, "99999999")
    assert empty.text.endswith("<PubmedArticleSet></PubmedArticleSet>")
    assert pm.ids_asked() == [["20412080"], ["20412080"], ["99999999", "9377276"], ["99999999"]]


def test_faults(pm: FakePubMed) -> None:
    pm.rate_limit("efetch", retry_after="1")
    r = efetch(pm, "20412080")
    assert r.status_code == 429 and r.json()["error"] == "API rate limit exceeded"
    pm.fail("esummary", "truncated")
    with pytest.raises(ET.ParseError):
        ET.fromstring(esummary(pm, "26017442").content)
    assert efetch(pm, "20412080").status_code == 200
