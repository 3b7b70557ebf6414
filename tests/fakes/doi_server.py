"""A loopback doi.org (content negotiation, RA lookup) and DataCite (content service, REST API).

:class:`FakeDoiResolver` answers ``GET|HEAD /{doi}`` like doi.org did in
2026 (``habanero_doi_*`` recordings):

* a DOI it does not know: 404 with the recorded "Error: DOI Not Found"
  page (text/html), the DOI written in it;
* a Crossref DOI asked with a non-HTML ``Accept`` (CSL-JSON, BibTeX...):
  302 "Handle Redirect" to the Crossref fake's
  ``/v1/works/{doi with / as %2F}/transform``, which answers with the
  content (doi.org delegates content negotiation to the registration
  agency);
* a DataCite DOI (data sets, arXiv's ``10.48550/arXiv.<id>``): 302 to the
  DataCite fake's ``/{doi}``, as doi.org sends it to data.crosscite.org;
* ``Accept: text/html`` (or none, or ``*/*``): 302 to a landing page on
  this fake (``/_landing/{doi}``, 200 HTML), never to the internet;
* ``GET /ra/{doi or prefix}[,...]``: ``[{"DOI": ..., "RA": "Crossref"}]``,
  or ``"status": "DOI does not exist"`` in the body with HTTP 200, as
  recorded.

Without linked Crossref/DataCite fakes it answers the content itself (200),
for tests that want one request per DOI.  DOIs may come percent-encoded
(``10.1002/%28SICI%291097-...``) or not; lookups ignore case.

:class:`FakeDataCite` serves ``GET /{doi}`` with ``Accept:
application/vnd.citationstyles.csl+json`` (DataCite's CSL: type ``dataset``
or ``article``, the DOI upper-cased, as in the recorded Zenodo answer) and
``GET /dois/{doi}`` (the DataCite REST API's JSON:API document, from the
recorded figshare answer).  DataCite's BibTeX was never recorded: that
Accept gets a 501 saying so.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import quote, unquote

from .catalogue import Catalogue, Work, fixture_json, fixture_text, normalize_doi
from .crossref_server import (
    BIBTEX,
    CSL,
    FakeCrossref,
    doi_path,
    notice_work,
    render_bibtex,
    render_csl,
)
from .faulty import ScriptedApi
from .s2_server import Answer, json_answer

NOT_FOUND_PAGE = "doi/habanero_doi_404_doi-not-found.html"
REDIRECT_PAGE = "doi/habanero_doi_302_handle-redirect_bibtex.html"
RECORDED_REDIRECT = "https://api.crossref.org/v1/works/10.1126%2Fscience.169.3946.635/transform"
DATACITE_CSL = "doi/citationjs_doi_csl-json_datacite_zenodo.json"
DATACITE_REST = "doi/commonmeta_datacite_api_dois_figshare.json"
HTML = {"Content-Type": "text/html;charset=utf-8"}


def _accept(headers: dict[str, str]) -> str:
    return next((v for k, v in headers.items() if k.lower() == "accept"), "")


def _wants_html(accept: str) -> bool:
    a = accept.strip()
    return not a or a == "*/*" or "text/html" in a


# --------------------------------------------------------------------------
# DataCite


def render_datacite_csl(w: Work) -> dict[str, Any]:
    """DataCite's CSL-JSON for ``w`` (recorded, else the recorded Zenodo shape with ``w``'s values)."""
    if "datacite_csl" in w.recorded:
        return fixture_json(w.recorded["datacite_csl"])
    doc = fixture_json(DATACITE_CSL)
    arxiv = w.arxiv is not None and (not w.doi or w.doi.lower() == w.arxiv_doi.lower())
    doi = w.arxiv_doi if arxiv else w.doi
    doc["type"] = "dataset" if w.type == "dataset" else "article"
    doc["id"] = f"https://doi.org/{doi.lower()}"
    doc["author"] = [
        {"family": p.family, "given": p.given} if p.family else {"literal": p.name}
        for p in w.authors
    ]
    # DataCite gives arXiv papers a year only ([obs] in apis.md).
    year = w.arxiv.year if arxiv and w.arxiv else w.year
    doc["issued"] = {"date-parts": [[year] if arxiv else list(w.issued)]}
    doc.pop("abstract", None)
    doc["DOI"] = doi.upper()
    doc["publisher"] = "arXiv" if arxiv else (w.publisher or "")
    doc["title"] = w.title
    doc["URL"] = (
        f"https://arxiv.org/abs/{w.arxiv.id}" if arxiv and w.arxiv else f"https://doi.org/{doi}"
    )
    doc["copyright"] = "arXiv.org perpetual, non-exclusive license" if arxiv else "Open Access"
    if w.version:
        doc["version"] = w.version
    else:
        doc.pop("version", None)
    return doc


def render_datacite_rest(w: Work) -> dict[str, Any]:
    """The DataCite REST API's ``/dois/{doi}`` document for ``w``."""
    if "datacite_rest" in w.recorded:
        return fixture_json(w.recorded["datacite_rest"])
    doc = fixture_json(DATACITE_REST)
    arxiv = w.arxiv is not None and (not w.doi or w.doi.lower() == w.arxiv_doi.lower())
    doi = (w.arxiv_doi if arxiv else w.doi).lower()
    data = doc["data"]
    data["id"] = doi
    a = data["attributes"]
    a["doi"] = doi
    a["prefix"], _, a["suffix"] = doi.partition("/")
    a["identifiers"] = []
    a["alternateIdentifiers"] = []
    a["creators"] = [
        {
            "name": f"{p.family}, {p.given}" if p.family else p.name,
            "nameType": "Personal" if p.family else "Organizational",
            "givenName": p.given,
            "familyName": p.family,
            "affiliation": [],
            "nameIdentifiers": [],
        }
        for p in w.authors
    ]
    a["titles"] = [{"title": w.title}]
    a["publisher"] = "arXiv" if arxiv else w.publisher
    a["container"] = {}
    a["publicationYear"] = w.arxiv.year if arxiv and w.arxiv else w.year
    a["subjects"] = []
    a["contributors"] = []
    a["dates"] = [{"date": str(a["publicationYear"]), "dateType": "Issued"}]
    kind = "Dataset" if w.type == "dataset" else "Preprint" if arxiv else "Text"
    a["types"] = {
        "ris": "DATA" if kind == "Dataset" else "GEN",
        "bibtex": "misc" if kind != "Text" else "article",
        "citeproc": "dataset" if kind == "Dataset" else "article",
        "schemaOrg": "Dataset" if kind == "Dataset" else "ScholarlyArticle",
        "resourceType": kind,
        "resourceTypeGeneral": kind,
    }
    a["relatedIdentifiers"] = (
        [
            {
                "relationType": "IsVersionOf",
                "relatedIdentifier": w.arxiv.doi,
                "relatedIdentifierType": "DOI",
            }
        ]
        if arxiv and w.arxiv and w.arxiv.doi
        else []
    )
    a["relatedItems"] = []
    a["descriptions"] = []
    a["fundingReferences"] = []
    a["geoLocations"] = []
    a["rightsList"] = []
    a["version"] = w.version or None
    a["xml"] = ""
    a["url"] = (
        f"https://arxiv.org/abs/{w.arxiv.id}" if arxiv and w.arxiv else f"https://doi.org/{doi}"
    )
    return doc


class FakeDataCite(ScriptedApi):
    """``with FakeDataCite(catalogue) as dc: ... dc.url (content) ... dc.api_url (REST)``."""

    address = "127.0.0.7"

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__()
        self.catalogue = catalogue

    @property
    def url(self) -> str:
        return self.base

    @property
    def api_url(self) -> str:
        return self.base

    def _work(self, doi: str) -> Work | None:
        w = self.catalogue.by_doi(doi)
        if w is None:
            return None
        key = normalize_doi(doi)
        if w.doi.lower() == key and w.agency == "datacite":
            return w
        if w.arxiv and key == w.arxiv_doi.lower():
            return w
        return None

    def route(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        if path.startswith("/dois/"):
            w = self._work(unquote(path[len("/dois/") :]))
            if w is None:
                return json_answer(
                    404,
                    {
                        "errors": [
                            {
                                "status": "404",
                                "title": "The resource you are looking for doesn't exist.",
                            }
                        ]
                    },
                )
            return (
                200,
                {"Content-Type": "application/vnd.api+json"},
                json.dumps(render_datacite_rest(w)).encode(),
            )
        w = self._work(unquote(path[1:]))
        if w is None:
            return (
                404,
                {"Content-Type": "text/plain"},
                b"The resource you are looking for doesn't exist.",
            )
        return datacite_content(w, _accept(headers))


def datacite_content(w: Work, accept: str) -> Answer:
    if CSL in accept:
        body = json.dumps(render_datacite_csl(w), ensure_ascii=False).encode()
        return 200, {"Content-Type": f"{CSL}; charset=utf-8"}, body
    if BIBTEX in accept:
        return (
            501,
            {"Content-Type": "text/plain"},
            (
                b"fake: DataCite's BibTeX was never recorded; ask for "
                b"application/vnd.citationstyles.csl+json"
            ),
        )
    return 406, {"Content-Type": "text/plain"}, f"fake: no content for {accept!r}".encode()


# --------------------------------------------------------------------------
# doi.org


class FakeDoiResolver(ScriptedApi):
    """``with FakeDoiResolver(catalogue, crossref=cr, datacite=dc) as doi: ... doi.url``."""

    address = "127.0.0.6"

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        crossref: FakeCrossref | None = None,
        datacite: FakeDataCite | None = None,
    ) -> None:
        super().__init__()
        self.catalogue = catalogue
        self.crossref = crossref
        self.datacite = datacite

    @property
    def url(self) -> str:
        return self.base

    def resolve(self, doi: str) -> tuple[str, Work | None]:
        """("crossref" | "datacite" | "", the work) for a DOI as doi.org would route it."""
        key = normalize_doi(doi)
        w = self.catalogue.by_doi(key)
        if w is not None:
            if w.doi.lower() == key and w.knows("doi"):
                return w.agency, w
            if w.arxiv and key == w.arxiv_doi.lower():
                return "datacite", w
        n = self.catalogue.notice(key)
        if n is not None and n.work.knows("doi"):
            return "crossref", notice_work(n)
        return "", None

    def route(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        if path.startswith("/ra/"):
            return self._ra(unquote(path[len("/ra/") :]))
        if path.startswith("/_landing/"):
            doi = unquote(path[len("/_landing/") :])
            page = f"<html><body><h1>Landing page of {escape(doi)}</h1></body></html>"
            return 200, HTML, page.encode()
        doi = unquote(path[1:])
        agency, w = self.resolve(doi)
        if w is None:
            page = fixture_text(NOT_FOUND_PAGE).replace("10.1126/foo", escape(doi))
            return 404, HTML, page.encode()
        accept = _accept(headers)
        if _wants_html(accept):
            return self._redirect(f"{self.base}/_landing/{quote(doi, safe='/')}")
        if agency == "crossref":
            if self.crossref is not None:
                target = f"{self.crossref.base}/v1/works/{doi_path(doi)}/transform"
                return self._redirect(target)
            if CSL in accept:
                return 200, {}, json.dumps(render_csl(w), ensure_ascii=False).encode()
            if BIBTEX in accept:
                return 200, {"Content-Type": BIBTEX}, render_bibtex(w).encode()
            return 406, {"Content-Type": "text/plain"}, b"fake: no content for this Accept"
        if self.datacite is not None:
            return self._redirect(f"{self.datacite.base}/{doi}")
        return datacite_content(w, accept)

    def _redirect(self, target: str) -> Answer:
        page = fixture_text(REDIRECT_PAGE).replace(RECORDED_REDIRECT, escape(target))
        return 302, {**HTML, "Location": target, "Vary": "Accept"}, page.encode()

    def _ra(self, raw: str) -> Answer:
        out: list[dict[str, str]] = []
        for item in raw.split(","):
            item = item.strip()
            prefix = normalize_doi(item).split("/")[0]
            if "/" in item:
                agency, w = self.resolve(item)
                if w is None:
                    out.append({"DOI": item, "status": "DOI does not exist"})
                    continue
                out.append({"DOI": item, "RA": "DataCite" if agency == "datacite" else "Crossref"})
                continue
            agencies = {
                "DataCite" if w.agency == "datacite" else "Crossref"
                for w in self.catalogue
                if w.doi and w.doi.lower().startswith(prefix + "/")
            }
            if prefix == "10.48550":
                agencies = {"DataCite"}
            if agencies:
                out.append({"DOI": item, "RA": sorted(agencies)[0]})
            else:
                out.append({"DOI": item, "status": "DOI does not exist"})
        return json_answer(200, out)
