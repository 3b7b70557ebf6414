"""The loopback Crossref serves what api.crossref.org serves: single works, batches, searches, retractions, transforms, faults."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fakes.catalogue import Catalogue
from fakes.crossref_server import CrossrefEntry, FakeCrossref

FIXTURES = Path(__file__).parent / "fixtures"
SICI = "10.1002/(SICI)1097-0258(19970228)16:4<385::AID-SIM380>3.0.CO;2-3"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


@pytest.fixture
def cr(catalogue: Catalogue) -> Iterator[FakeCrossref]:
    with FakeCrossref(catalogue=catalogue) as fake:
        yield fake


def get(cr: FakeCrossref, path: str, **kw: object) -> requests.Response:
    return requests.get(cr.url + path, timeout=5, **kw)  # type: ignore[arg-type]


def test_a_recorded_work_is_served_verbatim(cr: FakeCrossref) -> None:
    r = get(cr, "/works/10.1371/journal.pone.0033693")
    recorded = json.loads(
        (FIXTURES / "crossref/habanero_work_journal-article_updated-by-correction.json").read_text()
    )
    assert r.status_code == 200 and r.json()["message"] == recorded["message"]
    # updated-by here is a correction: a verifier must not call it retracted.
    assert [u["type"] for u in r.json()["message"]["updated-by"]] == ["correction"]


def test_a_rendered_work_has_the_recorded_shape(cr: FakeCrossref) -> None:
    recorded = json.loads(
        (FIXTURES / "crossref/habanero_work_journal-article_updated-by-correction.json").read_text()
    )
    r = get(cr, "/works/10.1038/NATURE14539")  # DOIs ignore case
    doc = r.json()
    assert (doc["status"], doc["message-type"]) == ("ok", "work")
    work = doc["message"]
    assert work["title"] == ["Deep learning"] and work["DOI"] == "10.1038/nature14539"
    assert [a["family"] for a in work["author"]] == ["LeCun", "Bengio", "Hinton"]
    assert work["issued"] == {"date-parts": [[2015, 5, 27]]} and work["volume"] == "521"
    assert (
        "updated-by" not in work
    )  # no updates, no key (the recorded proceedings work has none either)
    assert set(work) <= set(recorded["message"]) | {"published-print", "posted"}


def test_retractions_are_updated_by_entries_and_notices_update_to(cr: FakeCrossref) -> None:
    work = get(cr, "/works/10.1016/S0140-6736(97)11096-0").json()["message"]
    assert work["title"][0].startswith("RETRACTED: Ileal-lymphoid")
    kinds = [(u["type"], u["source"]) for u in work["updated-by"]]
    assert kinds == [("correction", "retraction-watch"), ("retraction", "retraction-watch")]
    notice_doi = work["updated-by"][1]["DOI"]
    notice = get(cr, f"/works/{notice_doi}").json()["message"]
    assert notice["update-to"][0]["DOI"] == "10.1016/S0140-6736(97)11096-0"
    assert notice["update-to"][0]["type"] == "retraction"
    # The same retraction twice (publisher and Retraction Watch): dedupe on (DOI, type).
    twice = get(cr, "/works/10.1155/2022/8341966").json()["message"]["updated-by"]
    assert {u["DOI"] for u in twice} == {twice[0]["DOI"]} and len(twice) == 2
    # OpenAlex-only retraction: Crossref says nothing.
    assert "updated-by" not in get(cr, "/works/10.1016/S0140-6736(20)31180-6").json()["message"]


def test_unknown_and_datacite_dois_are_plain_text_404s(cr: FakeCrossref) -> None:
    for doi in ("10.1371/notarealdoi", "10.5281/zenodo.8242099", "10.48550/arXiv.1706.03762"):
        r = get(cr, f"/works/{doi}")
        assert (r.status_code, r.text, r.headers["Content-Type"]) == (
            404,
            "Resource not found.",
            "text/plain",
        )
    assert requests.head(cr.url + "/works/10.1038/nature14539", timeout=5).status_code == 200
    assert requests.head(cr.url + "/works/10.1371/notarealdoi", timeout=5).status_code == 404


def test_special_character_dois_encoded_or_not(cr: FakeCrossref) -> None:
    for path in (f"/works/{SICI}", "/works/" + requests.utils.quote(SICI, safe="")):
        r = get(cr, path)
        assert r.status_code == 200 and r.json()["message"]["DOI"] == SICI


def test_field_queries_on_a_single_work_are_the_recorded_400(cr: FakeCrossref) -> None:
    r = get(cr, "/works/10.1371/journal.pone.0033693", params={"query.author": "carl boettiger"})
    assert r.status_code == 400 and r.json()["message"][0]["type"] == "parameter-not-allowed"


def test_batched_lookup_by_doi_filter(cr: FakeCrossref) -> None:
    dois = [
        "10.1038/nature14539",
        "10.1162/NECO.1997.9.8.1735",
        "10.5281/zenodo.8242099",
        "10.9999/none",
    ]
    r = get(cr, "/works", params={"filter": ",".join(f"doi:{d}" for d in dois), "rows": 50})
    message = r.json()["message"]
    assert r.json()["message-type"] == "work-list"
    assert sorted(i["DOI"].lower() for i in message["items"]) == [
        "10.1038/nature14539",
        "10.1162/neco.1997.9.8.1735",
    ]
    assert cr.batches == 1 and cr.dois_asked() == [dois]  # as sent


def test_rows_defaults_to_20_so_a_batch_without_rows_loses_works(
    cr: FakeCrossref, catalogue: Catalogue
) -> None:
    dois = [w.doi for w in catalogue.known_to("crossref")][:30]
    r = get(cr, "/works", params={"filter": ",".join(f"doi:{d}" for d in dois)})
    assert r.json()["message"]["total-results"] == 30 and len(r.json()["message"]["items"]) == 20


def test_a_request_line_over_4096_bytes_is_a_414(cr: FakeCrossref) -> None:
    dois = [f"10.1234/very-long-suffix-{i:04d}-abcdefghij" for i in range(120)]
    r = get(cr, "/works", params={"filter": ",".join(f"doi:{d}" for d in dois), "rows": 200})
    assert r.status_code == 414


def test_bibliographic_search_ranks_everything_like_crossref(cr: FakeCrossref) -> None:
    r = get(
        cr,
        "/works",
        params={"query.bibliographic": "LeCun Bengio Hinton 2015 Deep learning Nature", "rows": 3},
    )
    items = r.json()["message"]["items"]
    assert items[0]["DOI"] == "10.1038/nature14539" and items[0]["score"] > items[1]["score"]
    # A fabricated title still gets candidates: the real one it imitates, first.
    r = get(
        cr,
        "/works",
        params={
            "query.bibliographic": "Deep Residual Learning for Speech Recognition Zhang Liu 2017"
        },
    )
    assert r.json()["message"]["items"][0]["DOI"] == "10.1109/CVPR.2016.90"
    # Gibberish: nothing, as recorded.
    r = get(cr, "/works", params={"query.title": "askldjrq3rjaw938h", "rows": 1})
    assert r.json()["message"]["total-results"] == 0 and r.json()["message"]["items"] == []
    assert cr.searches == 3


def test_query_author_narrows_and_select_trims(cr: FakeCrossref) -> None:
    r = get(
        cr,
        "/works",
        params={
            "query.bibliographic": "memory networks",
            "query.author": "Hochreiter",
            "rows": 5,
            "select": "DOI,title,author",
        },
    )
    items = r.json()["message"]["items"]
    assert [i["DOI"] for i in items] == ["10.1162/neco.1997.9.8.1735"]
    assert set(items[0]) == {"DOI", "title", "author"}  # as recorded: select drops even the score
    bad = get(cr, "/works", params={"query": "x", "select": "language"})
    assert bad.status_code == 400 and bad.json()["message"][0]["type"] == "parameter-not-allowed"
    unknown = get(cr, "/works", params={"filter": "has-funder:true"})
    assert (
        unknown.status_code == 400
        and unknown.json()["message"][0]["type"] == "filter-not-available"
    )


def test_transform_gives_crossref_csl_without_content_type_and_one_line_bibtex(
    cr: FakeCrossref,
) -> None:
    recorded_csl = json.loads(
        (FIXTURES / "doi/habanero_crossref_transform_csl-json.json").read_text()
    )
    r = get(
        cr,
        "/v1/works/10.1126%2Fscience.169.3946.635/transform",
        headers={"Accept": "application/vnd.citationstyles.csl+json"},
    )
    assert r.status_code == 200 and "Content-Type" not in r.headers and r.json() == recorded_csl
    r = get(cr, "/works/10.1038/nature14539/transform/application/vnd.citationstyles.csl+json")
    csl = r.json()
    assert (
        csl["type"] == "journal-article"
        and csl["title"] == "Deep learning"
        and csl["container-title"] == "Nature"
    )
    r = get(
        cr, "/v1/works/10.1038%2Fnature14539/transform", headers={"Accept": "application/x-bibtex"}
    )
    assert r.headers["Content-Type"] == "application/x-bibtex"
    assert (
        r.text.startswith(" @article{LeCun_2015, title={Deep learning},")
        and "pages={436\u2013444}" in r.text
    )
    r = get(cr, "/works/10.48550%2FarXiv.2304.05376/transform/application/x-bibtex")
    assert (r.status_code, r.text) == (404, "Resource not found.")


def test_faults_by_path_pattern(cr: FakeCrossref) -> None:
    cr.fail(r"^GET /works/10\.1038/", "503", times=1)
    cr.rate_limit(r"filter=doi", retry_after="3")
    assert get(cr, "/works/10.1038/nature14539").status_code == 503
    assert get(cr, "/works/10.1038/nature14539").status_code == 200  # once only
    r = get(cr, "/works", params={"filter": "doi:10.1038/nature14539"})
    assert (r.status_code, r.headers["Retry-After"]) == (429, "3")
    assert get(cr, "/works/10.1162/neco.1997.9.8.1735").status_code == 200  # other paths untouched
    assert [q.status for q in cr.requests()] == [503, 200, 429, 200]
    assert [q.fault for q in cr.requests()] == ["503", "", "429", ""]
    cr.fail("", "reset", times=1)
    with pytest.raises(requests.ConnectionError):
        get(cr, "/works/10.1038/nature14539")


def test_a_gate_holds_answers_until_the_test_lets_them_go(cr: FakeCrossref) -> None:
    gate = cr.hold(r"/works/10\.1038/nature14539")
    got: list[int] = []
    t = threading.Thread(
        target=lambda: got.append(get(cr, "/works/10.1038/nature14539").status_code)
    )
    t.start()
    assert gate.wait_for(1)
    assert got == [] and get(cr, "/works/10.1162/neco.1997.9.8.1735").status_code == 200
    gate.release()
    t.join(5)
    assert got == [200]


def test_a_held_request_times_the_client_out(cr: FakeCrossref) -> None:
    gate = cr.hold("nature14539")
    with pytest.raises(requests.ReadTimeout):
        requests.get(cr.url + "/works/10.1038/nature14539", timeout=0.3)
    gate.release()


def test_the_published_tests_entries_still_work() -> None:
    entry = CrossrefEntry(
        "10.21203/rs.3.rs-1/v1",
        "posted-content",
        "Sparse Graph Networks",
        [("Åsa", "Lindström")],
        [],
        2021,
    )
    with FakeCrossref([entry]) as cr:
        r = get(
            cr,
            "/works",
            params={"query.bibliographic": "sparse graph networks lindstrom", "rows": 2},
        )
        assert r.json()["message"]["items"][0]["DOI"] == entry.doi and cr.queries == 1
        assert get(cr, "/works/10.21203/rs.3.rs-1/v1").json()["message"]["title"] == [
            "Sparse Graph Networks"
        ]
        assert (
            get(cr, "/works", params={"query.bibliographic": "", "rows": 2}).json()["message"][
                "items"
            ]
            == []
        )
        assert cr.lookups == 1 and cr.count() == 3
