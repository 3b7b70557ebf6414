"""A loopback OpenAlex API: works by DOI, batched DOI filters, title search, ``is_retracted``.

:class:`FakeOpenAlex` (a :class:`fakes.faulty.ScriptedApi`) answers like
api.openalex.org for the works of a :class:`fakes.catalogue.Catalogue` that
OpenAlex knows:

* ``GET /works/doi:{doi}``, ``/works/https://doi.org/{doi}`` (the slash of
  the DOI may come as ``%2F``), ``/works/pmid:{pmid}``, ``/works/W{n}``: a
  single Work; 404 with the recorded HTML (Werkzeug "Not Found") page, not
  JSON, for one it does not know;
* ``GET /works?filter=doi:A|B|...``: the batched lookup.  At most
  :attr:`FakeOpenAlex.max_or` values in one filter (50, the lowest limit the
  docs have stated; 400 beyond); DOIs may be bare or ``https://doi.org/``
  URLs; results in catalogue order;
* ``GET /works?search=...`` or ``filter=title.search:...`` (also
  ``display_name.search``): every word of the query but stopwords must be
  in the title (an AND of crudely stemmed terms, which is why the recorded
  7-word title search found 2 works, not millions); results carry
  ``relevance_score``;
* other filters: ``publication_year`` (``2015``, ``2014-2016``, ``>2014``,
  ``<2016``), ``type``, ``is_retracted``, ``ids.pmid``/``pmid``,
  ``ids.openalex``/``openalex``; an unknown one is a 400
  ``{"error": ..., "message": ...}``;
* ``per_page`` (default 25, at most 100), ``page``, ``select`` (top-level
  fields; 400 for others); ``api_key``/``mailto`` are ignored but logged.

Works recorded from OpenAlex are served verbatim; the others are rendered
into the recorded 2025 Work (:func:`render_work`), or the recorded arXiv
preprint Work for preprints, with ``is_retracted`` set from the work's
updates (or its ``openalex_retracted`` override).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any
from urllib.parse import unquote

from .catalogue import Catalogue, Work, fixture_json, fixture_text, iso_date, normalize_doi
from .faulty import ScriptedApi
from .s2_server import Answer, json_answer

ARTICLE_TEMPLATE = "openalex/paperqa_work_article_2025.json"
PREPRINT_TEMPLATE = "openalex/paperqa_works_filter_title-search.json#results/1"
LIST_TEMPLATE = "openalex/paperqa_works_filter_title-search.json"
NOT_FOUND_PAGE = "openalex/paperqa_work_404.html"
FILTERS = frozenset(
    "doi title.search display_name.search publication_year type is_retracted ids.pmid pmid"
    " ids.openalex openalex".split()
)
TYPES = {
    "journal-article": "article",
    "proceedings-article": "article",
    "book-chapter": "book-chapter",
    "posted-content": "preprint",
    "reference-entry": "reference-entry",
    "book": "book",
    "dataset": "dataset",
}


def openalex_id(w: Work) -> str:
    if "openalex" in w.recorded:
        return str(fixture_json(w.recorded["openalex"])["id"])
    return f"https://openalex.org/W{4000000000 + w.numeric_id % 999999999}"


def _author_id(name: str) -> str:
    return f"https://openalex.org/A{5000000000 + int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 99999999}"


def _is_preprint(w: Work) -> bool:
    return w.type == "posted-content" or (w.arxiv is not None and not w.doi)


def render_work(w: Work) -> dict[str, Any]:
    """The Work OpenAlex has for ``w`` (recorded, else the recorded shape with ``w``'s values)."""
    if "openalex" in w.recorded:
        doc = fixture_json(w.recorded["openalex"])
        doc.pop("relevance_score", None)
        return doc
    preprint = _is_preprint(w)
    doc = fixture_json(PREPRINT_TEMPLATE if preprint else ARTICLE_TEMPLATE)
    doc.pop("relevance_score", None)
    oid = openalex_id(w)
    doi = w.doi or (w.arxiv_doi if w.arxiv else "")
    doi_url = f"https://doi.org/{doi.lower()}" if doi else None
    title = w.crossref_title if (w.crossref_title or "").startswith("RETRACTED") else w.title
    doc["id"] = oid
    doc["doi"] = doi_url
    doc["title"] = title
    doc["display_name"] = title
    doc["publication_year"] = w.year
    doc["publication_date"] = iso_date(w.issued) if w.issued else None
    ids: dict[str, Any] = {"openalex": oid}
    if doi_url:
        ids["doi"] = doi_url
    if w.pmid:
        ids["pmid"] = f"https://pubmed.ncbi.nlm.nih.gov/{w.pmid}"
    doc["ids"] = ids
    doc["language"] = "en"
    doc["type"] = "preprint" if preprint else TYPES.get(w.type, "article")
    doc["type_crossref"] = "posted-content" if preprint else w.type
    doc["indexed_in"] = (
        ["crossref"] if w.knows("crossref") else ["datacite"] if preprint else []
    ) + (["pubmed"] if w.pmid else [])
    n = len(w.authors)
    doc["authorships"] = [
        {
            "author_position": "first" if i == 0 else "last" if i == n - 1 else "middle",
            "author": {"id": _author_id(p.display), "display_name": p.display, "orcid": None},
            "institutions": [],
            "countries": [],
            "is_corresponding": False,
            "raw_author_name": p.display,
            "raw_affiliation_strings": [],
            "affiliations": [],
        }
        for i, p in enumerate(w.authors)
    ]
    for name in (
        "institution_assertions",
        "corresponding_author_ids",
        "corresponding_institution_ids",
        "sustainable_development_goals",
        "grants",
        "datasets",
        "versions",
        "referenced_works",
        "related_works",
        "counts_by_year",
        "topics",
        "keywords",
        "concepts",
        "mesh",
    ):
        doc[name] = []
    doc["countries_distinct_count"] = 0
    doc["institutions_distinct_count"] = 0
    doc["fwci"] = None
    doc["cited_by_count"] = 0
    doc["citation_normalized_percentile"] = None
    doc["cited_by_percentile_year"] = None
    doc["primary_topic"] = None
    doc["referenced_works_count"] = 0
    doc["abstract_inverted_index"] = None
    doc["abstract_inverted_index_v3"] = None
    doc["cited_by_api_url"] = (
        f"https://api.openalex.org/works?filter=cites:{oid.rsplit('/', 1)[-1]}"
    )
    doc["biblio"] = {
        "volume": w.volume or None,
        "issue": w.issue or None,
        "first_page": w.first_page or None,
        "last_page": w.last_page or None,
    }
    doc["is_retracted"] = w.openalex_is_retracted
    doc["is_paratext"] = False
    template = fixture_json(PREPRINT_TEMPLATE)
    arxiv_location = copy.deepcopy(template["primary_location"])
    locations = []
    if preprint:
        arxiv_id = w.arxiv.id if w.arxiv else ""
        arxiv_location["landing_page_url"] = f"https://arxiv.org/abs/{arxiv_id}"
        primary = arxiv_location
        locations.append(primary)
    else:
        primary = fixture_json(ARTICLE_TEMPLATE)["primary_location"]
        primary["landing_page_url"] = doi_url
        if w.container:
            source = primary["source"]
            source["id"] = (
                f"https://openalex.org/S{4000000000 + int(hashlib.sha1(w.container.encode()).hexdigest()[:8], 16) % 99999999}"
            )
            source["display_name"] = w.container
            source["issn_l"] = w.issn[0] if w.issn else None
            source["issn"] = list(w.issn) or None
            source["host_organization_name"] = w.publisher or None
            source["host_organization_lineage_names"] = [w.publisher] if w.publisher else []
            source["type"] = "conference" if w.type == "proceedings-article" else "journal"
        else:
            primary["source"] = None
        locations.append(primary)
        if w.arxiv:
            arxiv_location["landing_page_url"] = f"https://arxiv.org/abs/{w.arxiv.id}"
            locations.append(arxiv_location)
    doc["primary_location"] = primary
    doc["locations"] = locations
    doc["locations_count"] = len(locations)
    doc["best_oa_location"] = primary
    return doc


def _select(doc: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k in fields} if fields else doc


class FakeOpenAlex(ScriptedApi):
    """``with FakeOpenAlex(catalogue) as oa: ... oa.url ... oa.batches``."""

    address = "127.0.0.5"
    max_or = 50  # values in one OR filter
    rate_limit_body = ("application/json", b'{"error": "Rate limit exceeded"}')

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__()
        self.catalogue = catalogue

    @property
    def url(self) -> str:
        return self.base

    @property
    def lookups(self) -> int:
        return self.count("/works/")

    @property
    def batches(self) -> int:
        return sum(
            1
            for r in self.log
            if r.path == "/works" and any("doi:" in f for f in r.params.get("filter", []))
        )

    @property
    def searches(self) -> int:
        return sum(
            1
            for r in self.log
            if r.path == "/works"
            and ("search" in r.params or any(".search:" in f for f in r.params.get("filter", [])))
        )

    def _known(self) -> list[Work]:
        return self.catalogue.known_to("openalex")

    def _find(self, key: str) -> Work | None:
        key = unquote(key)
        if key.lower().startswith("pmid:"):
            w = self.catalogue.by_pmid(key[5:])
        elif re.fullmatch(r"(?:https://openalex\.org/)?W\d+", key):
            oid = key.rsplit("/", 1)[-1]
            w = next((x for x in self._known() if openalex_id(x).endswith("/" + oid)), None)
        else:
            w = self.catalogue.by_doi(key)
            if w is not None and normalize_doi(key) not in (
                w.doi.lower(),
                (w.arxiv_doi.lower() if not w.doi else ""),
            ):
                w = None
        return w if w is not None and w.knows("openalex") else None

    def route(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        if method not in ("GET", "HEAD"):
            return json_answer(405, {"error": "Method not allowed"})
        select = [s for s in ",".join(params.get("select", [])).split(",") if s]
        template = fixture_json(ARTICLE_TEMPLATE)
        unknown = [s for s in select if s not in template and s != "relevance_score"]
        if unknown:
            return _error(f"{unknown[0]} is not a valid select field.")
        if path.startswith("/works/"):
            w = self._find(path[len("/works/") :])
            if w is None:
                return self.not_found()
            return json_answer(200, _select(render_work(w), select))
        if path == "/works":
            return self._list(params, select)
        return self.not_found()

    def not_found(self) -> Answer:
        page = fixture_text(NOT_FOUND_PAGE).encode()
        return 404, {"Content-Type": "text/html; charset=utf-8"}, page

    def _list(self, params: dict[str, list[str]], select: list[str]) -> Answer:
        try:
            per_page = int((params.get("per_page") or params.get("per-page") or ["25"])[0])
            page = int((params.get("page") or ["1"])[0])
        except ValueError:
            return _error("per_page and page must be integers.")
        if not 1 <= per_page <= 100 or page < 1:
            return _error("per_page must be between 1 and 100.")
        works = self._known()
        searched: dict[str, float] = {}
        queries = list(params.get("search", []))
        for raw in params.get("filter", []):
            for name, value in _filters(raw):
                if name not in FILTERS:
                    return _error(f"{name} is not a valid field to filter on.")
                values = value.split("|")
                if len(values) > self.max_or:
                    return _error(
                        f"Maximum number of values exceeded for {name}."
                        f" Decrease values to {self.max_or} or below."
                    )
                if name.endswith(".search"):
                    queries.append(value)
                    continue
                works = [w for w in works if _matches(w, name, values)]
        for q in queries:
            hits = dict(
                (w.id, s) for s, w in self.catalogue.search(q, "openalex", require_all=True)
            )
            works = [w for w in works if w.id in hits]
            for wid, s in hits.items():
                searched[wid] = searched.get(wid, 0.0) + s
        if queries:
            works.sort(key=lambda w: -searched.get(w.id, 0.0))
        doc = fixture_json(LIST_TEMPLATE)
        doc["meta"] = {
            "count": len(works),
            "db_response_time_ms": 12,
            "page": page,
            "per_page": per_page,
            "groups_count": None,
        }
        results = []
        for w in works[(page - 1) * per_page : page * per_page]:
            r = render_work(w)
            if queries:
                r = {**r, "relevance_score": round(100.0 * searched.get(w.id, 0.0), 4)}
            results.append(_select(r, select))
        doc["results"] = results
        doc["group_by"] = []
        return 200, {"Content-Type": "application/json"}, json.dumps(doc).encode()


def _filters(raw: str) -> list[tuple[str, str]]:
    """``doi:a|b,publication_year:2015`` -> [("doi", "a|b"), ...] (a comma inside a DOI survives)."""
    out = []
    for part in re.split(r",(?=[a-z_.]+:)", raw):
        name, _, value = part.partition(":")
        out.append((name.strip(), value.strip()))
    return out


def _matches(w: Work, name: str, values: list[str]) -> bool:
    if name == "doi":
        wanted = {normalize_doi(v) for v in values}
        own = w.doi.lower() if w.doi else (w.arxiv_doi.lower() if w.arxiv else "")
        return own in wanted
    if name == "publication_year":
        return any(_year_ok(w.year, v) for v in values)
    if name == "type":
        return TYPES.get(w.type, "article") in values
    if name == "is_retracted":
        return str(w.openalex_is_retracted).lower() in [v.lower() for v in values]
    if name in ("ids.pmid", "pmid"):
        return w.pmid in [v.rsplit("/", 1)[-1] for v in values]
    if name in ("ids.openalex", "openalex"):
        return openalex_id(w).rsplit("/", 1)[-1] in [v.rsplit("/", 1)[-1] for v in values]
    return False


def _year_ok(year: int | None, spec: str) -> bool:
    if year is None:
        return False
    if spec.startswith(">"):
        return year > int(spec[1:])
    if spec.startswith("<"):
        return year < int(spec[1:])
    lo, _, hi = spec.partition("-")
    return int(lo) <= year <= int(hi or lo)


def _error(message: str) -> Answer:
    return json_answer(400, {"error": "Invalid query parameters error.", "message": message})
