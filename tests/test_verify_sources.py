"""The sources `verify` adds or extends, against the scholarly fakes: Crossref's batched DOI
lookup, OpenAlex (batched DOIs, title search, is_retracted) and doi.org content negotiation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.scholarly import Scholarly, scholarly_fakes

from bibtools.http import HttpClient
from bibtools.sources.crossref import CrossrefClient
from bibtools.sources.doiorg import DoiOrgClient
from bibtools.sources.openalex import OpenAlexClient
from bibtools.verify_fetch import from_csl


@pytest.fixture(scope="module")
def fakes() -> Iterator[Scholarly]:
    with scholarly_fakes() as s:
        yield s


@pytest.fixture(autouse=True)
def _fresh(fakes: Scholarly) -> Iterator[None]:
    fakes.clear_faults()
    fakes.reset_logs()
    yield
    fakes.clear_faults()


@pytest.fixture
def http(tmp_path: Path) -> Iterator[HttpClient]:
    with HttpClient.from_env(cache_dir=str(tmp_path / "cache")) as client:
        yield client


def known_dois(fakes: Scholarly) -> list[str]:
    return [w.doi for w in fakes.catalogue.known_to("crossref") if w.doi]


def test_crossref_batches_fifty_dois_a_request_and_reads_retractions(
    fakes: Scholarly, http: HttpClient
) -> None:
    client = CrossrefClient(http, api_url=fakes.crossref.url)
    dois = known_dois(fakes)
    assert len(dois) > 50
    wanted = [*dois, "10.1080/01621459.1958.10501999"]  # the last: nobody registered it
    got = client.works_batch(wanted)
    assert fakes.crossref.batches == 2  # ceil(len / 50), one request each
    assert all(len(b) <= 50 for b in fakes.crossref.dois_asked())
    assert got["10.1080/01621459.1958.10501999"].status == "not-found"
    # Every one found, a SICI DOI with "<...>" in it too; one registered without a title is
    # no proof of absence.
    untitled = "10.1007/s40278-023-41815-2"
    assert all(got[d].status == "found" for d in dois if d != untitled)
    assert got["10.1002/(SICI)1097-0258(19970228)16:4<385::AID-SIM380>3.0.CO;2-3"].work is not None
    assert got[untitled].status == "failed"
    wakefield = got["10.1016/S0140-6736(97)11096-0"].work
    assert wakefield is not None and wakefield.retracted
    correction = got["10.1371/journal.pone.0033693"].work
    assert correction is not None and not correction.retracted  # a correction is not a retraction
    online_first = got["10.1111/geb.12517"].work
    assert online_first is not None and {2016, 2017} <= set(online_first.years)


def test_crossref_batch_failure_fails_the_batch_not_the_dois(
    fakes: Scholarly, http: HttpClient
) -> None:
    client = CrossrefClient(http, api_url=fakes.crossref.url, retries=0)
    fakes.crossref.fail("", "503", times=None)
    got = client.works_batch(["10.1038/nature14539"])
    assert got["10.1038/nature14539"].status == "failed"


def test_openalex_by_doi_and_title(fakes: Scholarly, http: HttpClient) -> None:
    client = OpenAlexClient(http, api_url=fakes.openalex.url)
    got = client.works_by_doi(
        ["10.1038/NATURE14539", "10.1016/S0140-6736(20)31180-6", "10.9999/none"]
    )
    assert fakes.openalex.batches == 1
    lecun = got["10.1038/nature14539"].value
    assert lecun is not None and lecun.year == 2015 and lecun.authors[0].endswith("LeCun")
    mehra = got["10.1016/s0140-6736(20)31180-6"].value
    assert mehra is not None and mehra.is_retracted  # OpenAlex only
    assert got["10.9999/none"].status == "not-found"
    search = client.search("Dropout: A Simple Way to Prevent Neural Networks from Overfitting")
    assert search.status == "found" and search.value
    assert search.value[0].title.startswith("Dropout")


def test_doiorg_follows_the_agency_and_caches_not_found(fakes: Scholarly, http: HttpClient) -> None:
    client = DoiOrgClient(http, resolver=fakes.doi.url)
    zenodo = client.lookup_one("10.5281/zenodo.8242099")
    assert zenodo.status == "found" and zenodo.value is not None
    work = from_csl(zenodo.value, "10.5281/zenodo.8242099")
    assert work is not None and work.title == "Shield bugs (nymphs)"
    assert client.lookup_one("10.1080/01621459.1958.10501999").status == "not-found"
    fakes.reset_logs()
    assert client.lookup_one("10.1080/01621459.1958.10501999").status == "not-found"
    assert client.lookup_one("10.5281/zenodo.8242099").status == "found"
    assert fakes.total_requests() == 0  # both answers came from the cache


def test_doiorg_failure_is_no_verdict_on_the_doi(fakes: Scholarly, http: HttpClient) -> None:
    client = DoiOrgClient(http, resolver=fakes.doi.url, retries=0)
    fakes.doi.fail("", "503", times=None)
    assert client.lookup_one("10.1080/01621459.1958.10501999").status == "failed"
    fakes.clear_faults()
    fakes.datacite.fail("", "503", times=None)
    # doi.org redirects, the agency fails: registered, but unreadable, never "not found".
    assert client.lookup_one("10.5281/zenodo.8242099").status == "failed"
