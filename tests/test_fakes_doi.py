"""The loopback doi.org and DataCite: content negotiation by redirect, 404s, DataCite DOIs, special characters, RA lookup."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from fakes.catalogue import Catalogue
from fakes.crossref_server import FakeCrossref
from fakes.doi_server import FakeDataCite, FakeDoiResolver

FIXTURES = Path(__file__).parent / "fixtures"
CSL = {"Accept": "application/vnd.citationstyles.csl+json"}
BIB = {"Accept": "application/x-bibtex"}
SICI = "10.1002/(SICI)1097-0258(19970228)16:4<385::AID-SIM380>3.0.CO;2-3"


class Fakes:
    def __init__(self, catalogue: Catalogue) -> None:
        self.crossref = FakeCrossref(catalogue=catalogue).start()
        self.datacite = FakeDataCite(catalogue).start()
        self.doi = FakeDoiResolver(
            catalogue, crossref=self.crossref, datacite=self.datacite
        ).start()

    def stop(self) -> None:
        for f in (self.doi, self.crossref, self.datacite):
            f.stop()

    def get(
        self, doi: str, headers: dict[str, str] | None = None, **kw: object
    ) -> requests.Response:
        return requests.get(f"{self.doi.url}/{doi}", headers=headers, timeout=5, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


@pytest.fixture
def fakes(catalogue: Catalogue) -> Iterator[Fakes]:
    f = Fakes(catalogue)
    yield f
    f.stop()


def test_a_crossref_doi_redirects_to_crossref_transform(fakes: Fakes) -> None:
    recorded = json.loads((FIXTURES / "doi/habanero_crossref_transform_csl-json.json").read_text())
    r = fakes.get("10.1126/science.169.3946.635", CSL)
    assert r.status_code == 200 and r.json() == recorded
    assert [h.status_code for h in r.history] == [302]
    assert r.history[0].headers["Location"] == (
        f"{fakes.crossref.base}/v1/works/10.1126%2Fscience.169.3946.635/transform"
    )
    assert "Handle Redirect" in r.history[0].text
    assert (fakes.doi.count(), fakes.crossref.lookups) == (1, 1)  # one request to each
    bib = fakes.get("10.1126/science.169.3946.635", BIB)
    assert bib.text == (FIXTURES / "doi/habanero_crossref_transform_bibtex.bib").read_text()


def test_without_following_the_redirect(fakes: Fakes) -> None:
    r = fakes.get("10.1038/nature14539", CSL, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].endswith(
        "/v1/works/10.1038%2Fnature14539/transform"
    )
    head = requests.head(f"{fakes.doi.url}/10.1038/nature14539", headers=CSL, timeout=5)
    assert head.status_code == 302
    assert (
        requests.head(f"{fakes.doi.url}/10.1038/nature14539x", headers=CSL, timeout=5).status_code
        == 404
    )


def test_an_unknown_doi_is_the_recorded_404_page(fakes: Fakes) -> None:
    r = fakes.get("10.1126/foo<script>", CSL)
    assert r.status_code == 404 and r.headers["Content-Type"] == "text/html;charset=utf-8"
    assert (
        "Error: DOI Not Found" in r.text
        and "10.1126/foo&lt;script&gt;" in r.text
        and "<script>" not in r.text
    )
    assert fakes.crossref.count() == 0  # no redirect for a DOI that does not exist


def test_special_characters_plain_or_percent_encoded(fakes: Fakes) -> None:
    for path in (SICI, quote(SICI, safe=""), quote(SICI, safe="/")):
        r = fakes.get(path, CSL)
        assert r.status_code == 200 and r.json()["DOI"] == SICI, path


def test_datacite_dois_redirect_to_datacite(fakes: Fakes) -> None:
    recorded = json.loads(
        (FIXTURES / "doi/citationjs_doi_csl-json_datacite_zenodo.json").read_text()
    )
    r = fakes.get("10.5281/zenodo.8242099", CSL)
    assert (
        r.json() == recorded
        and r.history[0].headers["Location"] == f"{fakes.datacite.base}/10.5281/zenodo.8242099"
    )
    arxiv = fakes.get("10.48550/arXiv.1706.03762", CSL).json()
    assert (arxiv["DOI"], arxiv["type"], arxiv["issued"]) == (
        "10.48550/ARXIV.1706.03762",
        "article",
        {"date-parts": [[2017]]},
    )
    figshare = fakes.get("10.6084/m9.figshare.1449060", CSL).json()
    assert figshare["type"] == "dataset" and figshare["publisher"] == "figshare"
    assert fakes.get("10.5281/zenodo.8242099", BIB).status_code == 501  # never recorded
    assert fakes.crossref.count() == 0  # Crossref is never asked about DataCite DOIs


def test_datacite_rest_api(fakes: Fakes) -> None:
    recorded = json.loads((FIXTURES / "doi/commonmeta_datacite_api_dois_figshare.json").read_text())
    r = requests.get(f"{fakes.datacite.api_url}/dois/10.6084/m9.figshare.1449060", timeout=5)
    assert r.json() == recorded
    zen = requests.get(f"{fakes.datacite.api_url}/dois/10.5281/zenodo.8242099", timeout=5).json()
    assert zen["data"]["attributes"]["titles"] == [{"title": "Shield bugs (nymphs)"}]
    missing = requests.get(f"{fakes.datacite.api_url}/dois/10.5281/zenodo.0", timeout=5)
    assert missing.status_code == 404 and missing.json()["errors"][0]["status"] == "404"


def test_html_goes_to_a_local_landing_page(fakes: Fakes) -> None:
    r = fakes.get("10.1038/nature14539", {"Accept": "text/html"})
    assert r.status_code == 200 and r.url.startswith(fakes.doi.url + "/_landing/")


def test_retraction_notices_resolve(fakes: Fakes) -> None:
    r = fakes.get("10.1016/S0140-6736(10)60175-4", CSL)
    assert r.status_code == 200 and r.json()["title"].startswith("Retraction: Ileal")
    assert r.json()["update-to"][0]["DOI"] == "10.1016/S0140-6736(97)11096-0"


def test_registration_agency_lookup(fakes: Fakes) -> None:
    ra = requests.get(
        f"{fakes.doi.url}/ra/10.1038/nature14539,10.5281/zenodo.8242099,10.9999/x,10.99999",
        timeout=5,
    )
    assert ra.status_code == 200 and ra.json() == [
        {"DOI": "10.1038/nature14539", "RA": "Crossref"},
        {"DOI": "10.5281/zenodo.8242099", "RA": "DataCite"},
        {"DOI": "10.9999/x", "status": "DOI does not exist"},
        {"DOI": "10.99999", "status": "DOI does not exist"},
    ]


def test_direct_mode_answers_without_redirect(catalogue: Catalogue) -> None:
    with FakeDoiResolver(catalogue) as doi:
        r = requests.get(f"{doi.url}/10.1038/nature14539", headers=CSL, timeout=5)
        assert r.status_code == 200 and not r.history and r.json()["title"] == "Deep learning"
        z = requests.get(f"{doi.url}/10.5281/zenodo.8242099", headers=CSL, timeout=5)
        assert z.json()["publisher"] == "Zenodo"


def test_faults_on_the_resolver_or_behind_it(fakes: Fakes) -> None:
    fakes.crossref.fail(r"/transform", "503", times=1)
    assert fakes.get("10.1038/nature14539", CSL).status_code == 503
    fakes.doi.rate_limit(r"nature14539", retry_after="5")
    r = fakes.get("10.1038/nature14539", CSL)
    assert (r.status_code, r.headers["Retry-After"]) == (429, "5")
    assert fakes.get("10.1038/nature14539", CSL).status_code == 200
    assert [q.status for q in fakes.doi.requests()] == [302, 429, 302]
