"""The loopback OpenAlex: works by DOI (both forms), batched DOI filters, title search, is_retracted, faults."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fakes.catalogue import Catalogue
from fakes.openalex_server import FakeOpenAlex

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


@pytest.fixture
def oa(catalogue: Catalogue) -> Iterator[FakeOpenAlex]:
    with FakeOpenAlex(catalogue) as fake:
        yield fake


def get(oa: FakeOpenAlex, path: str, **params: object) -> requests.Response:
    return requests.get(oa.url + path, params=params or None, timeout=5)  # type: ignore[arg-type]


def test_recorded_works_by_doi_url_and_doi_prefix(oa: FakeOpenAlex) -> None:
    recorded = json.loads((FIXTURES / "openalex/paperqa_work_article_2025.json").read_text())
    for path in (
        "/works/https://doi.org/10.1073%2Fpnas.1414271111",  # as recorded: %2F in the DOI
        "/works/https://doi.org/10.1073/pnas.1414271111",
        "/works/doi:10.1073/PNAS.1414271111",
    ):
        r = get(oa, path)
        assert r.status_code == 200 and r.json() == recorded, path
    assert get(oa, "/works/pmid:25349395").json()["id"] == recorded["id"]
    assert get(oa, "/works/W2109415576").json()["doi"] == recorded["doi"]


def test_rendered_works_keep_the_recorded_keys(oa: FakeOpenAlex) -> None:
    recorded = json.loads((FIXTURES / "openalex/paperqa_work_article_2025.json").read_text())
    w = get(oa, "/works/doi:10.1038/nature14539").json()
    assert set(w) == set(recorded)
    assert (w["title"], w["publication_year"], w["doi"]) == (
        "Deep learning",
        2015,
        "https://doi.org/10.1038/nature14539",
    )
    assert [a["author"]["display_name"] for a in w["authorships"]] == [
        "Yann LeCun",
        "Yoshua Bengio",
        "Geoffrey Hinton",
    ]
    assert [a["author_position"] for a in w["authorships"]] == ["first", "middle", "last"]
    assert w["biblio"] == {
        "volume": "521",
        "issue": "7553",
        "first_page": "436",
        "last_page": "444",
    }
    assert (
        w["primary_location"]["source"]["display_name"] == "Nature" and w["is_retracted"] is False
    )


def test_is_retracted(oa: FakeOpenAlex) -> None:
    for doi, expected in (
        ("10.1016/S0140-6736(97)11096-0", True),  # Crossref retraction
        ("10.1016/S0140-6736(20)31180-6", True),  # OpenAlex only
        ("10.1073/pnas.1320040111", False),  # an expression of concern
        ("10.1371/journal.pone.0033693", False),  # a correction
    ):
        assert get(oa, f"/works/doi:{doi}").json()["is_retracted"] is expected, doi


def test_preprints_and_arxiv_only_works(oa: FakeOpenAlex) -> None:
    w = get(oa, "/works/doi:10.48550/arxiv.1706.03762").json()
    assert w["type"] == "preprint" and w["doi"] == "https://doi.org/10.48550/arxiv.1706.03762"
    assert w["primary_location"]["landing_page_url"] == "https://arxiv.org/abs/1706.03762"
    merged = get(oa, "/works/doi:10.1109/CVPR.2016.90").json()
    assert [loc["landing_page_url"] for loc in merged["locations"]] == [
        "https://doi.org/10.1109/cvpr.2016.90",
        "https://arxiv.org/abs/1512.03385",
    ]


def test_unknown_is_the_recorded_html_404(oa: FakeOpenAlex) -> None:
    for path in ("/works/doi:10.9999/none", "/works/https://doi.org/10.5281/zenodo.8242099"):
        r = get(oa, path)
        assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/html")
        assert "<title>404 Not Found</title>" in r.text


def test_batched_doi_filter_and_its_limit(oa: FakeOpenAlex, catalogue: Catalogue) -> None:
    r = get(
        oa,
        "/works",
        filter="doi:10.1038/nature14539|https://doi.org/10.1162/neco.1997.9.8.1735|10.9999/x",
        per_page=50,
    )
    doc = r.json()
    assert doc["meta"]["count"] == 2 and doc["group_by"] == []
    assert {w["doi"] for w in doc["results"]} == {
        "https://doi.org/10.1038/nature14539",
        "https://doi.org/10.1162/neco.1997.9.8.1735",
    }
    assert all("relevance_score" not in w for w in doc["results"])
    dois = [w.doi for w in catalogue.known_to("openalex") if w.doi][:51]
    too_many = get(oa, "/works", filter="doi:" + "|".join(dois), per_page=100)
    assert too_many.status_code == 400 and "50" in too_many.json()["message"]
    fifty = get(oa, "/works", filter="doi:" + "|".join(dois[:50]), per_page=100)
    assert fifty.status_code == 200 and fifty.json()["meta"]["count"] == 50
    assert oa.batches == 3


def test_title_search_is_an_and_of_the_words(oa: FakeOpenAlex) -> None:
    recorded = json.loads(
        (FIXTURES / "openalex/paperqa_works_filter_title-search.json").read_text()
    )
    r = get(
        oa, "/works", filter="title.search:Augmenting large language models with chemistry tools"
    )
    assert [w["id"] for w in r.json()["results"]] == [w["id"] for w in recorded["results"]]
    assert all("relevance_score" in w for w in r.json()["results"])
    hit = get(oa, "/works", search="attention is all you need").json()["results"]
    assert [w["title"] for w in hit] == ["Attention Is All You Need"]
    assert (
        get(oa, "/works", search="Deep Residual Learning for Speech Recognition").json()["meta"][
            "count"
        ]
        == 0
    )
    years = get(oa, "/works", search="deep learning", filter="publication_year:2014-2016").json()[
        "results"
    ]
    assert {w["publication_year"] for w in years} <= {2014, 2015, 2016} and years
    assert oa.searches == 4


def test_errors_for_unknown_filters_select_and_paging(oa: FakeOpenAlex) -> None:
    assert get(oa, "/works", filter="cited_by_count:>10").status_code == 400
    assert get(oa, "/works", per_page=101).status_code == 400
    r = get(oa, "/works/doi:10.1038/nature14539", select="id,doi,title,is_retracted")
    assert set(r.json()) == {"id", "doi", "title", "is_retracted"}
    assert get(oa, "/works", select="nonsense").json()["error"].startswith("Invalid")


def test_faults_and_gates(oa: FakeOpenAlex) -> None:
    oa.rate_limit(r"filter=doi", retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    oa.fail(r"search=", "500", times=None)
    r = get(oa, "/works", filter="doi:10.1038/nature14539")
    assert r.status_code == 429 and r.headers["Retry-After"].endswith("GMT")
    assert get(oa, "/works", search="x").status_code == 500
    assert get(oa, "/works", search="y").status_code == 500  # times=None: every time
    assert get(oa, "/works/doi:10.1038/nature14539").status_code == 200
    oa.clear_faults()
    assert get(oa, "/works", search="deep learning").status_code == 200
    gate = oa.hold("nature14539", times=1)
    out: list[int] = []
    t = threading.Thread(
        target=lambda: out.append(get(oa, "/works/doi:10.1038/nature14539").status_code)
    )
    t.start()
    assert gate.wait_for(1) and not out
    gate.release()
    t.join(5)
    assert out == [200]
    assert len(oa.requests("nature14539")) == 3
