"""A loopback Semantic Scholar Graph API (the batch endpoint), and the scaffold the DBLP and Crossref fakes share.

:class:`LoopbackApi` is a :class:`fakes.loopback.LoopbackServer` that
logs every request (:class:`Logged`: method, path, query parameters, body,
headers, status, fault) and can be told to misbehave: :attr:`LoopbackApi.faults` is a queue of faults for the
next requests, :attr:`LoopbackApi.always` a fault for every request (a host
that stays down).  Faults: ``429-html`` (429 with an HTML body, as DBLP and
S2 send them; ``Retry-After`` when :attr:`LoopbackApi.retry_after` is
set), ``500``, ``502``, ``503`` (HTML bodies), ``200-html`` (a maintenance
page with status 200) and ``truncated`` (the real answer cut in half).

:class:`FakeS2` answers ``POST /graph/v1/paper/batch?fields=...`` with the
body ``{"ids": [...]}`` like api.semanticscholar.org: a JSON list of the
same length and order as the ids, ``null`` for an unknown id, only the
requested fields (plus ``paperId``); 400 with ``{"error": ...}`` for more
than 500 ids, a body that is not an id list or an unknown field; 403 for a
key it does not accept (``x-api-key``).  Ids: ``ARXIV:<id>`` (a version
suffix ignored), ``DOI:<doi>`` (case-insensitive), ``CorpusId:<n>``, or a
``paperId``.  :func:`arxiv_only` builds the entry S2 has for a paper known
only as a preprint (venue ``arXiv.org``, journal ``ArXiv`` with volume
``abs/<id>``, type ``JournalArticle``, arXiv's DOI, the CoRR DBLP key).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .loopback import LoopbackServer, QuietHandler

ARXIV_VENUE = {
    "id": "1901e811-ee72-4b20-8f7e-de08cd395a10",
    "name": "arXiv.org",
    "alternate_names": ["ArXiv"],
    "issn": "2331-8422",
    "url": "https://arxiv.org",
}
S2_FIELDS = frozenset(
    """paperId corpusId externalIds url title abstract venue publicationVenue year
    referenceCount citationCount influentialCitationCount isOpenAccess openAccessPdf
    fieldsOfStudy s2FieldsOfStudy publicationTypes publicationDate journal
    citationStyles authors""".split()
)
HTML_429 = (
    b"<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
    b"<center><h1>429 Too Many Requests</h1></center>\r\n</body>\r\n</html>\r\n"
)


# --------------------------------------------------------------------------
# The shared scaffold


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    params: dict[str, list[str]]
    body: bytes
    headers: dict[str, str]
    status: int
    fault: str = ""


Answer = tuple[int, dict[str, str], bytes]


class LoopbackApi(LoopbackServer):
    """``with Fake(...) as api: ... api.count() ...``; subclasses implement :meth:`route`.

    ``address`` is the loopback address to listen on: each fake has its
    own (S2 127.0.0.4, DBLP .2, Crossref .3; the arXiv and GitHub fakes use
    127.0.0.1), so that the HTTP layer sees separate hosts, as it would in
    production (pacing, policies and "down for the run" are per host).
    Where only 127.0.0.1 can be bound, that is used instead.
    """

    def __init__(self) -> None:
        super().__init__()
        self.log: list[Logged] = []
        self.faults: list[str] = []
        self.always = ""
        self.retry_after: str | None = None
        self._lock = threading.Lock()

    def make_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"fake": self})

    def count(self, path_prefix: str = "", method: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self.log
                if r.path.startswith(path_prefix) and (method is None or r.method == method)
            )

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()

    def route(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        raise NotImplementedError

    def answer(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        with self._lock:
            fault = self.faults.pop(0) if self.faults else self.always
        status, out, data = self._fault(fault) if fault not in ("", "truncated") else (0, {}, b"")
        if not status:
            status, out, data = self.route(method, path, params, body, headers)
            if fault == "truncated":
                data = data[: len(data) // 2]
        with self._lock:
            self.log.append(Logged(method, path, params, body, headers, status, fault))
        return status, out, data

    def _fault(self, fault: str) -> Answer:
        html = {"Content-Type": "text/html"}
        if fault == "429-html":
            extra = {"Retry-After": self.retry_after} if self.retry_after else {}
            return 429, {**html, **extra}, HTML_429
        if fault in ("500", "502", "503"):
            return int(fault), html, f"<html><body><h1>{fault}</h1></body></html>".encode()
        if fault == "200-html":
            return 200, html, b"<html><body>Down for maintenance</body></html>"
        raise ValueError(f"unknown fault {fault!r}")


def json_answer(status: int, doc: Any) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(doc).encode()


class _Handler(QuietHandler):
    fake: LoopbackApi

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        body = self.read_body()
        parts = urlsplit(self.path)
        params = parse_qs(parts.query, keep_blank_values=True)
        status, headers, data = self.fake.answer(
            method, parts.path, params, body, dict(self.headers.items())
        )
        self.reply(status, headers.items(), data)


# --------------------------------------------------------------------------
# Semantic Scholar


@dataclass
class S2Entry:
    """One paper of the fake's catalogue, in the API's terms."""

    title: str
    authors: list[str]
    arxiv_id: str = ""
    doi: str = ""
    dblp: str = ""
    venue: str = ""
    venue_type: str | None = None  # publicationVenue.type
    venue_id: str = ""
    journal: dict[str, str] | None = None
    publication_types: list[str] | None = None
    year: int | None = None
    publication_date: str | None = None
    fields_of_study: list[str] | None = None
    corpus_id: int = 0
    paper_id: str = ""
    publication_venue: dict[str, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.paper_id:
            seed = f"{self.arxiv_id}|{self.doi}|{self.title}"
            self.paper_id = hashlib.sha1(seed.encode()).hexdigest()
        if not self.corpus_id:
            self.corpus_id = int(self.paper_id[:7], 16)
        if self.publication_venue is None and self.venue:
            venue: dict[str, Any] = {"id": self.venue_id or _uuid(self.venue), "name": self.venue}
            if self.venue_type:
                venue["type"] = self.venue_type
            self.publication_venue = venue

    def as_json(self, fields: set[str]) -> dict[str, Any]:
        ids: dict[str, Any] = {"CorpusId": self.corpus_id}
        if self.dblp:
            ids["DBLP"] = self.dblp
        if self.arxiv_id:
            ids["ArXiv"] = self.arxiv_id
        if self.doi:
            ids["DOI"] = self.doi
        full: dict[str, Any] = {
            "paperId": self.paper_id,
            "corpusId": self.corpus_id,
            "externalIds": ids,
            "title": self.title,
            "venue": self.venue,
            "publicationVenue": self.publication_venue,
            "year": self.year,
            "fieldsOfStudy": self.fields_of_study,
            "publicationTypes": self.publication_types,
            "publicationDate": self.publication_date,
            "journal": self.journal,
            "authors": [
                {"authorId": str(int(hashlib.sha1(a.encode()).hexdigest()[:8], 16)), "name": a}
                for a in self.authors
            ],
        }
        return {k: v for k, v in full.items() if k == "paperId" or k in fields}


def arxiv_only(arxiv_id: str, title: str, authors: list[str], year: int, **kwargs: Any) -> S2Entry:
    """What S2 has for a paper known only from arXiv."""
    return S2Entry(
        title=title,
        authors=authors,
        arxiv_id=arxiv_id,
        doi=f"10.48550/arXiv.{arxiv_id}",
        dblp=f"journals/corr/abs-{arxiv_id.replace('.', '-')}",
        venue="arXiv.org",
        journal={"name": "ArXiv", "volume": f"abs/{arxiv_id}"},
        publication_types=["JournalArticle"],
        year=year,
        publication_date=f"{year}-06-30",
        fields_of_study=["Computer Science"],
        publication_venue=dict(ARXIV_VENUE),
        **kwargs,
    )


class FakeS2(LoopbackApi):
    """``with FakeS2(entries) as s2: ... s2.url ... s2.batches``."""

    address = "127.0.0.4"  # not the arXiv or GitHub fakes' 127.0.0.1

    def __init__(self, entries: Iterable[S2Entry] = (), *, keys: set[str] | None = None) -> None:
        super().__init__()
        self.entries = list(entries)
        self.keys = keys  # accepted API keys; None accepts any (and none)
        self._index: dict[str, S2Entry] = {}
        self.reindex()

    def reindex(self) -> None:
        index: dict[str, S2Entry] = {}
        for e in self.entries:
            index.setdefault(e.paper_id, e)
            index.setdefault(f"corpusid:{e.corpus_id}", e)
            if e.arxiv_id:
                index.setdefault(f"arxiv:{e.arxiv_id.lower()}", e)
            if e.doi:
                index.setdefault(f"doi:{e.doi.lower()}", e)
        self._index = index

    @property
    def url(self) -> str:
        return f"{self.base}/graph/v1"

    @property
    def batches(self) -> int:
        return self.count("/graph/v1/paper/batch", "POST")

    def ids_asked(self) -> list[list[str]]:
        out = []
        for r in self.log:
            try:
                out.append(json.loads(r.body)["ids"])
            except (ValueError, KeyError, TypeError):
                out.append([])
        return out

    def route(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        if path != "/graph/v1/paper/batch" or method != "POST":
            return json_answer(404, {"error": "Not found"})
        lower = {k.lower(): v for k, v in headers.items()}
        key = lower.get("x-api-key")
        if key is not None and self.keys is not None and key not in self.keys:
            return json_answer(403, {"message": "Forbidden"})
        fields = {f for f in ",".join(params.get("fields", [])).split(",") if f}
        unknown = sorted(fields - S2_FIELDS)
        if unknown:
            return json_answer(400, {"error": f"Unrecognized or unsupported fields: {unknown}"})
        try:
            ids = json.loads(body.decode("utf-8"))["ids"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return json_answer(400, {"error": "Body must be a JSON object with a list of ids"})
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return json_answer(400, {"error": "ids must be a list of strings"})
        if not 1 <= len(ids) <= 500:
            return json_answer(400, {"error": "Must provide between 1 and 500 ids"})
        return json_answer(200, [self._one(i, fields or {"title"}) for i in ids])

    def _one(self, raw: str, fields: set[str]) -> dict[str, Any] | None:
        kind, _, value = raw.partition(":")
        if not value:
            entry = self._index.get(raw)
        elif kind.upper() == "ARXIV":
            bare = re.sub(r"v\d+$", "", value).lower()
            entry = self._index.get(f"arxiv:{bare}")
        else:
            entry = self._index.get(f"{kind.lower()}:{value.lower()}")
        return entry.as_json(fields) if entry is not None else None


def _uuid(seed: str) -> str:
    h = hashlib.md5(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
