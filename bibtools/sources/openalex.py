"""OpenAlex: an open index of works, read by DOI (50 a request) or searched by title.

Two uses of ``GET {api}/works`` (https://docs.openalex.org):

* ``filter=doi:A|B|...`` (at most :data:`MAX_OR` values, ``per_page`` as
  many): the works OpenAlex has for those DOIs, in no particular order (we
  match them by ``doi``, an ``https://doi.org/`` URL, lower-cased);
* ``search=<title>``: works ranked by ``relevance_score`` (an AND of the
  words, roughly): the caller checks titles and authors itself.

A Work has ``title``/``display_name``, ``authorships[].author.display_name``
(and ``raw_author_name``), ``publication_year``, ``biblio`` (volume,
first_page, last_page), ``primary_location.source.display_name`` (the
venue), ``type`` (``preprint`` for arXiv and the like) and ``is_retracted``
(from Retraction Watch: the one flag OpenAlex has for a retraction).

OpenAlex asks for a contact address (``mailto``, its polite pool): sent in
the ``User-Agent`` like Crossref's, so the cache key does not depend on it.
Ten requests a second are allowed; we keep to 0.1 s apart, none on loopback.
A 404 for a single work is an HTML page, not JSON.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..http import HttpClient
from .base import (
    Lookup,
    SourceClient,
    as_int,
    json_or_none,
    one_line,
    polite_headers,
)

DEFAULT_API = "https://api.openalex.org"
PUBLIC_HOST = "api.openalex.org"
DELAY = 0.1
EXPIRE_AFTER = 30 * 86400.0
MAX_OR = 50
SEARCH_ROWS = 10
SELECT = (
    "id",
    "doi",
    "title",
    "display_name",
    "publication_year",
    "type",
    "is_retracted",
    "authorships",
    "biblio",
    "primary_location",
)


@dataclass(frozen=True, slots=True)
class OpenAlexWork:
    """One Work, plain text, white space collapsed."""

    id: str  # https://openalex.org/W...
    doi: str  # bare, lower case ("" when none)
    title: str
    authors: tuple[str, ...] = ()  # display names, "Given Family"
    year: int | None = None
    venue: str = ""
    volume: str = ""
    first_page: str = ""
    last_page: str = ""
    type: str = ""
    is_retracted: bool = False


class OpenAlexClient(SourceClient):
    name = "openalex"
    ENV = "BIBTOOLS_OPENALEX_API"
    DEFAULT_API = DEFAULT_API
    PUBLIC_HOST = PUBLIC_HOST
    DEFAULT_DELAY = DELAY
    EXPIRE_AFTER = EXPIRE_AFTER

    def __init__(self, http: HttpClient, *, contact: str | None = None, **kwargs: Any) -> None:
        super().__init__(http, **kwargs)
        self._contact = contact or None

    @classmethod
    def from_env(
        cls, http: HttpClient, env: Mapping[str, str] | None = None, **kwargs: Any
    ) -> OpenAlexClient:
        """``BIBTOOLS_OPENALEX_API`` and ``BIBTOOLS_CONTACT_EMAIL`` from ``env`` (default: os.environ)."""
        env = os.environ if env is None else env
        contact = (env.get("BIBTOOLS_CONTACT_EMAIL") or "").strip() or None
        return cls(http, env=env, contact=contact, **kwargs)

    def _headers(self) -> dict[str, str]:
        return polite_headers(self.http.user_agent, self._contact)

    def _list(self, params: dict[str, Any]) -> Lookup[list[OpenAlexWork]]:
        reply = self.fetch(f"{self.api_url}/works", params=params, headers=self._headers())
        if isinstance(reply, Lookup):
            return reply
        if not reply.ok:
            return Lookup("failed", message=f"{self.host}: HTTP {reply.status}")
        doc = json_or_none(reply.content)
        results = doc.get("results") if isinstance(doc, dict) else None
        if not isinstance(results, list):
            self.http.evict(reply)
            return Lookup("failed", message=f"{self.host}: the answer is not a list of works")
        works = [w for w in (parse_work(r) for r in results if isinstance(r, dict)) if w]
        return Lookup("found" if works else "not-found", works)

    def works_by_doi(self, dois: Iterable[str]) -> dict[str, Lookup[OpenAlexWork]]:
        """Keyed by the lower-cased DOI; ``not-found`` means OpenAlex does not index it (not that it does not exist)."""
        wanted = sorted({d.strip().lower() for d in dois if d.strip().startswith("10.")})
        out: dict[str, Lookup[OpenAlexWork]] = {}
        for start in range(0, len(wanted), MAX_OR):
            batch = [d for d in wanted[start : start + MAX_OR] if "|" not in d and "," not in d]
            for d in wanted[start : start + MAX_OR]:
                if d not in batch:
                    out[d] = Lookup("failed", message="a DOI an OpenAlex filter cannot carry")
            if not batch:
                continue
            answer = self._list(
                {
                    "filter": "doi:" + "|".join(batch),
                    "per_page": len(batch),
                    "select": ",".join(SELECT),
                }
            )
            if answer.status in ("failed", "offline"):
                for d in batch:
                    out[d] = Lookup(answer.status, message=answer.message)
                continue
            by_doi = {w.doi: w for w in answer.value or []}
            for d in batch:
                w = by_doi.get(d)
                out[d] = Lookup("found", w) if w else Lookup("not-found", message="not in OpenAlex")
        return out

    def search(self, title: str, rows: int = SEARCH_ROWS) -> Lookup[list[OpenAlexWork]]:
        if not title.strip():
            return Lookup("not-found", [], "nothing to search for")
        # Commas and colons are OpenAlex filter syntax: a plain search takes any text.
        return self._list({"search": title, "per_page": rows, "select": ",".join(SELECT)})


# --------------------------------------------------------------------------
# Parsing (untrusted JSON)


def _s(value: Any) -> str:
    return one_line(value, 1000) if isinstance(value, str) else ""


def parse_work(doc: Mapping[str, Any]) -> OpenAlexWork | None:
    title = _s(doc.get("title")) or _s(doc.get("display_name"))
    wid = _s(doc.get("id"))
    if not title or not wid:
        return None
    doi = _s(doc.get("doi")).lower()
    for prefix in ("https://doi.org/", "http://doi.org/", "doi:"):
        if doi.startswith(prefix):
            doi = doi[len(prefix) :]
    authors: list[str] = []
    for a in doc.get("authorships") or []:
        if not isinstance(a, dict):
            continue
        author = a.get("author")
        name = _s(author.get("display_name")) if isinstance(author, dict) else ""
        name = name or _s(a.get("raw_author_name"))
        if name:
            authors.append(name)
    found = doc.get("biblio")
    biblio: dict[str, Any] = found if isinstance(found, dict) else {}
    location = doc.get("primary_location")
    source = location.get("source") if isinstance(location, dict) else None
    venue = _s(source.get("display_name")) if isinstance(source, dict) else ""
    return OpenAlexWork(
        id=wid,
        doi=doi,
        title=title,
        authors=tuple(authors),
        year=as_int(doc.get("publication_year")),
        venue=venue,
        volume=_s(biblio.get("volume")),
        first_page=_s(biblio.get("first_page")),
        last_page=_s(biblio.get("last_page")),
        type=_s(doc.get("type")),
        is_retracted=doc.get("is_retracted") is True,
    )
