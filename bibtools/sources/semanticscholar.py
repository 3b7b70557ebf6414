"""Semantic Scholar: the Graph API's batch endpoint, many papers per request.

``POST {api}/paper/batch?fields=...`` with the JSON body
``{"ids": ["ARXIV:2106.15928", "DOI:10.1145/...", ...]}`` (1 to 500 ids)
answers a JSON list of the **same length and order** as the ids, with
``null`` for an id Semantic Scholar does not know.  What this module relies
on (``shared/docs/apis.md`` section 3):

* ``externalIds`` names the paper in other systems: ``ArXiv``, ``DOI``,
  ``DBLP``, ``CorpusId``...  S2 usually merges a preprint and its published
  version into one paper, so an ``ARXIV:`` lookup may come back with the
  publisher's DOI and the venue.  The DOI may also be arXiv's own
  (``10.48550/arXiv.X``) and the DBLP key the CoRR copy's: telling those
  apart is the caller's business (:mod:`bibtools.published`);
* ``venue`` (a string), ``publicationVenue`` (``name``, ``type``,
  ``alternate_names``), ``journal`` (``name``, ``volume``, ``pages``; for a
  merged preprint sometimes ``{"name": "ArXiv", "volume": "abs/..."}``),
  ``publicationTypes`` (``JournalArticle`` is also what arXiv-only papers
  get), ``year``, ``publicationDate``, ``authors`` (``name``),
  ``fieldsOfStudy``;
* numbers and strings arrive as the API likes (``pages`` as
  ``"583 - 589"``); everything is read defensively.

Ids are sent sorted, so the same set of ids is the same request (and the
same cache entry).  The API key (``S2_API_KEY``) travels in the
``x-api-key`` header, which the HTTP layer keeps out of cache keys and
stored answers; it is never part of a message or ``repr``.

Pacing (``HostPolicy``): 1 s between requests with a key, 3 s without
(never less on api.semanticscholar.org), none for a loopback API; retries
with backoff on 429/5xx (S2 requires backoff); 30-day cache.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..http import HttpClient, HttpError, OfflineMiss, Reply
from .base import Lookup, SourceClient, as_int, one_line
from .base import json_or_none as _json

DEFAULT_API = "https://api.semanticscholar.org/graph/v1"
PUBLIC_HOST = "api.semanticscholar.org"
MAX_BATCH = 500
DELAY_WITH_KEY = 1.0
DELAY_WITHOUT_KEY = 3.0
EXPIRE_AFTER = 30 * 86400.0
FIELDS = (
    "externalIds",
    "title",
    "authors",
    "year",
    "publicationDate",
    "venue",
    "publicationVenue",
    "journal",
    "publicationTypes",
    "fieldsOfStudy",
)

ProgressFn = Callable[[Sequence[str]], None]  # called with the ids just answered


@dataclass(frozen=True, slots=True)
class S2Paper:
    """One paper as the batch endpoint describes it (plain text, white space collapsed)."""

    paper_id: str
    title: str
    authors: tuple[str, ...] = ()
    year: int | None = None
    publication_date: str = ""  # "2021-06-30"
    venue: str = ""
    venue_name: str = ""  # publicationVenue.name
    venue_type: str = ""  # publicationVenue.type: "journal", "conference", ...
    venue_alternate_names: tuple[str, ...] = ()
    journal_name: str = ""
    journal_volume: str = ""
    journal_pages: str = ""
    publication_types: tuple[str, ...] = ()
    fields_of_study: tuple[str, ...] = ()
    external_ids: Mapping[str, str] = field(default_factory=dict)

    @property
    def arxiv_id(self) -> str:
        return self.external_ids.get("ArXiv", "")

    @property
    def doi(self) -> str:
        return self.external_ids.get("DOI", "")

    @property
    def dblp_key(self) -> str:
        return self.external_ids.get("DBLP", "")


class S2Lookup(Lookup[S2Paper]):
    """A paper by id: ``value`` (also ``paper``)."""

    __slots__ = ()

    @property
    def paper(self) -> S2Paper | None:
        return self.value


class SemanticScholarClient(SourceClient):
    """Batched access to the S2 Graph API (see the module docstring).

    ``delay`` None means the default for the host: 1 s with a key, 3 s
    without, 0 for a loopback API (tests, benchmarks).  A smaller delay is
    raised to that default on api.semanticscholar.org itself.
    """

    name = "semanticscholar"
    ENV = "BIBTOOLS_S2_API"
    DEFAULT_API = DEFAULT_API
    PUBLIC_HOST = PUBLIC_HOST
    EXPIRE_AFTER = EXPIRE_AFTER

    def __init__(
        self,
        http: HttpClient,
        *,
        api_key: str | None = None,
        batch_size: int = MAX_BATCH,
        **kwargs: Any,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}")
        self._key = api_key or None
        self.batch_size = batch_size
        super().__init__(http, **kwargs)
        self.batch_url = f"{self.api_url}/paper/batch"

    def default_delay(self) -> float:
        return DELAY_WITH_KEY if self._key else DELAY_WITHOUT_KEY

    @classmethod
    def from_env(
        cls, http: HttpClient, env: Mapping[str, str] | None = None, **kwargs: Any
    ) -> SemanticScholarClient:
        """``BIBTOOLS_S2_API`` and ``S2_API_KEY`` from ``env`` (default: os.environ)."""
        env = os.environ if env is None else env
        key = (env.get("S2_API_KEY") or "").strip() or None
        return cls(http, env=env, api_key=key, **kwargs)

    def __repr__(self) -> str:
        return f"SemanticScholarClient({self.api_url!r}, {'key' if self._key else 'no key'})"

    @property
    def has_key(self) -> bool:
        return self._key is not None

    def lookup(self, ids: Iterable[str], progress: ProgressFn | None = None) -> dict[str, S2Lookup]:
        """One :class:`S2Lookup` per distinct id (``ARXIV:...``, ``DOI:...``), keyed as given."""
        wanted = sorted(dict.fromkeys(ids))
        results: dict[str, S2Lookup] = {}
        for start in range(0, len(wanted), self.batch_size):
            batch = wanted[start : start + self.batch_size]
            self._batch(batch, results)
            if progress:
                progress(batch)
        return results

    def _batch(self, batch: list[str], results: dict[str, S2Lookup]) -> None:
        body = json.dumps({"ids": batch}, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["x-api-key"] = self._key
        try:
            reply = self.http.post(
                self.batch_url, data=body, params={"fields": ",".join(FIELDS)}, headers=headers
            )
        except OfflineMiss:
            _all(batch, results, S2Lookup("offline", message="not in the cache (offline)"))
            return
        except HttpError as exc:
            _all(batch, results, S2Lookup("failed", message=str(exc)))
            return
        answer = _json(reply.content)
        if not reply.ok:
            _all(batch, results, S2Lookup("failed", message=self._refusal(reply, answer)))
            return
        if not isinstance(answer, list) or len(answer) != len(batch):
            self.http.evict(reply)
            what = f"a list of {len(answer)}" if isinstance(answer, list) else "not a list"
            message = f"{self.host}: unexpected batch answer ({what} for {len(batch)} ids)"
            _all(batch, results, S2Lookup("failed", message=message))
            return
        for paper_id, item in zip(batch, answer, strict=True):
            paper = parse_paper(item) if isinstance(item, dict) else None
            if paper is None:
                results[paper_id] = S2Lookup("not-found", message="Semantic Scholar has no paper")
            else:
                results[paper_id] = S2Lookup("found", paper)

    def _refusal(self, reply: Reply, answer: Any) -> str:
        why = ""
        if isinstance(answer, dict):
            why = one_line(answer.get("error"), 200) or one_line(answer.get("message"), 200)
        text = f"{self.host}: HTTP {reply.status}" + (f" ({why})" if why else "")
        if reply.status in (401, 403) and self._key:
            text += "; is S2_API_KEY valid?"
        return text


def parse_paper(item: Mapping[str, Any]) -> S2Paper | None:
    """A batch entry as :class:`S2Paper`; None when it has no id or no title."""
    paper_id = _str(item.get("paperId"))
    title = _str(item.get("title"))
    if not paper_id or not title:
        return None
    venue = _mapping(item.get("publicationVenue"))
    journal = _mapping(item.get("journal"))
    ids = {
        str(k): _str(v) if not isinstance(v, int) else str(v)
        for k, v in _mapping(item.get("externalIds")).items()
        if _str(v) or (isinstance(v, int) and not isinstance(v, bool))
    }
    authors = tuple(
        name for a in _list(item.get("authors")) if (name := _str(_mapping(a).get("name")))
    )
    return S2Paper(
        paper_id=paper_id,
        title=title,
        authors=authors,
        year=_int(item.get("year")),
        publication_date=_str(item.get("publicationDate")),
        venue=_str(item.get("venue")),
        venue_name=_str(venue.get("name")),
        venue_type=_str(venue.get("type")).lower(),
        venue_alternate_names=tuple(
            n for n in (_str(x) for x in _list(venue.get("alternate_names"))) if n
        ),
        journal_name=_str(journal.get("name")),
        journal_volume=_str(journal.get("volume")),
        journal_pages=_str(journal.get("pages")),
        publication_types=tuple(
            t for t in (_str(x) for x in _list(item.get("publicationTypes"))) if t
        ),
        fields_of_study=tuple(f for f in (_str(x) for x in _list(item.get("fieldsOfStudy"))) if f),
        external_ids=ids,
    )


def _all(keys: Iterable[str], results: dict[str, S2Lookup], lookup: S2Lookup) -> None:
    for k in keys:
        results[k] = S2Lookup(lookup.status, None, lookup.message)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


_int = as_int
