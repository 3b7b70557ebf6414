"""A loopback arXiv API for tests and benchmarks.

:class:`FakeArxiv` is a :class:`fakes.loopback.LoopbackServer` (127.0.0.1,
an ephemeral port) that answers ``/api/query`` like
export.arxiv.org did in 2025-2026 (the shape of
``tests/fixtures/arxiv/arxivpy_*.xml``): the same namespaces, element
order, ``http://arxiv.org/abs/<id>vN`` entry ids with ``https`` links,
``arxiv:primary_category`` with ``term`` only, optional comment /
journal_ref / doi, and the HTTP 400 error feed for malformed ids.

It serves an in-memory catalogue of :class:`Paper` and implements what
bibtools uses: ``id_list`` (unknown ids silently dropped, versions
honoured), ``search_query`` made of ``ti:"phrase"`` clauses joined by
``OR`` (a clause may be a parenthesised ``AND`` of phrases), both by GET
and by POST form, with ``start`` / ``max_results`` paging.

Faults are switched on per number of upcoming requests through
:attr:`FakeArxiv.faults` (503s, 429 with ``Retry-After``, empty feeds,
answers slower than the client's read timeout, truncated XML, the error
feed, a billion-laughs or external-entity payload).  Every request is
logged (:attr:`FakeArxiv.requests`), so tests assert on counts.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.sax.saxutils import escape, quoteattr

from anyascii import anyascii

from .loopback import LoopbackServer, QuietHandler

_NEW = r"\d{4}\.\d{4,5}"
_OLD = r"[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7}"
_ID = re.compile(rf"(?P<id>{_NEW}|{_OLD})(?:v(?P<version>\d+))?")
_PHRASE = re.compile(r'ti:"([^"]*)"')


@dataclass
class Paper:
    arxiv_id: str  # "2204.12345" or "hep-th/9901001", no version
    title: str
    authors: list[str]
    abstract: str = "An abstract."
    version: int = 1
    primary: str = "cs.LG"
    categories: list[str] = field(default_factory=list)  # others besides the primary
    published: str = "2022-04-24T17:59:46Z"
    updated: str = ""
    comment: str = ""
    journal_ref: str = ""
    doi: str = ""
    affiliations: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Faults:
    """Counters of upcoming requests that get a fault, checked in this order."""

    statuses: list[int] = field(
        default_factory=list
    )  # answer these statuses first, one per request
    plan: list[str] = field(
        default_factory=list
    )  # then these faults by name, one per request ("" = none)
    unavailable: int = 0  # 503 Service Unavailable
    server_error: int = 0  # 500
    rate_limited: int = 0  # 429 with Retry-After
    retry_after: str = "7"  # seconds, or an HTTP date
    slow: int = 0  # answer only after slow_seconds (or when the server stops)
    slow_seconds: float = 5.0
    empty: int = 0  # a 200 feed without entries, totalResults 0
    truncated: int = 0  # a 200 feed cut in the middle
    error_feed: int = 0  # HTTP 400 with the error feed
    error_feed_id: str = "abc"  # the id the error feed complains about
    billion_laughs: int = 0  # a 200 document with nested entity declarations
    external_entity: int = 0  # a 200 document referring to a local file


@dataclass(frozen=True)
class Logged:
    method: str
    params: dict[str, str]
    fault: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=65536)
def words(text: str) -> tuple[str, ...]:
    """How the fake index tokenises titles (Lucene-like: lower-case, accents folded)."""
    return tuple(re.findall(r"[a-z0-9]+", anyascii(text).lower()))


class FakeArxiv(LoopbackServer):
    """``with FakeArxiv(papers) as server: ... server.url ... server.count``."""

    def __init__(self, papers: Iterable[Paper] = ()) -> None:
        super().__init__()
        self.papers: list[Paper] = list(papers)
        self.faults = Faults()
        self.requests: list[Logged] = []
        self._lock = threading.Lock()
        self._release = threading.Event()

    # -- lifecycle ---------------------------------------------------------

    def make_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"fake": self})

    def release(self) -> None:
        self._release.set()

    @property
    def url(self) -> str:
        return f"{self.base}/api/query"

    @property
    def count(self) -> int:
        return len(self.requests)

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    @contextmanager
    def down(self) -> Iterator[str]:
        """A URL on which nothing listens (the server is stopped for the block)."""
        url = self.url
        self.stop()
        yield url

    # -- the API -----------------------------------------------------------

    def _take_fault(self) -> str:
        f = self.faults
        if f.statuses:
            return f"status {f.statuses.pop(0)}"
        if f.plan:
            return f.plan.pop(0)
        for name in (
            "unavailable",
            "server_error",
            "rate_limited",
            "slow",
            "empty",
            "truncated",
            "error_feed",
            "billion_laughs",
            "external_entity",
        ):
            if getattr(f, name) > 0:
                setattr(f, name, getattr(f, name) - 1)
                return name
        return ""

    def answer(
        self, method: str, params: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes, str]:
        """(status, headers, body, fault) for one request; also logs it."""
        with self._lock:
            fault = self._take_fault()
            self.requests.append(Logged(method, dict(params), fault, dict(headers or {})))
        out = {"Content-Type": "application/atom+xml; charset=utf-8"}
        if fault.startswith("status "):
            code = int(fault.split()[1])
            return code, {"Content-Type": "text/plain"}, f"status {code}".encode(), fault
        if fault == "unavailable":
            return 503, {"Content-Type": "text/html"}, b"<html>Service Unavailable</html>", fault
        if fault == "server_error":
            return 500, {"Content-Type": "text/html"}, b"<html>Internal Server Error</html>", fault
        if fault == "rate_limited":
            return (
                429,
                {"Retry-After": self.faults.retry_after, "Content-Type": "text/plain"},
                b"Rate exceeded.",
                fault,
            )
        if fault == "slow":
            self._release.wait(self.faults.slow_seconds)
        if fault == "error_feed":
            bad = self.faults.error_feed_id
            return (
                400,
                out,
                error_feed(
                    f"incorrect_id_format_for_{bad}", f"incorrect id format for {bad}"
                ).encode(),
                fault,
            )
        if fault == "billion_laughs":
            return 200, out, BILLION_LAUGHS, fault
        if fault == "external_entity":
            return 200, out, EXTERNAL_ENTITY, fault
        status, body = self.search(params, empty=fault == "empty")
        data = body.encode()
        if fault == "truncated":
            data = data[: len(data) // 2]
        return status, out, data, fault

    def search(self, params: dict[str, str], empty: bool = False) -> tuple[int, str]:
        query = params.get("search_query", "")
        id_list = [i for i in params.get("id_list", "").split(",") if i]
        try:
            start = int(params.get("start", "0"))
            max_results = int(params.get("max_results", "10"))
            if start < 0 or max_results < 0:
                raise ValueError
        except ValueError:
            return 400, error_feed(
                "start_or_max_results", "start and max_results must be non-negative integers"
            )
        if max_results > 30000:
            return 400, error_feed("max_results", "max_results must be at most 30000")
        for raw in id_list:
            if not _ID.fullmatch(raw):
                return 400, error_feed(
                    f"incorrect_id_format_for_{raw}", f"incorrect id format for {raw}"
                )
        hits = self._by_ids(id_list) if id_list else self.papers
        if query:
            groups = _parse_query(query)
            hits = [
                p for p in hits if any(all(_has_phrase(p.title, ph) for ph in g) for g in groups)
            ]
        elif not id_list:
            hits = []
        total = 0 if empty else len(hits)
        page = [] if empty else hits[start : start + max_results]
        return 200, feed(page, query, ",".join(id_list), start, max_results, total)

    def _by_ids(self, id_list: list[str]) -> list[Paper]:
        index = {p.arxiv_id: p for p in self.papers}
        out: list[Paper] = []
        for raw in id_list:
            m = _ID.fullmatch(raw)
            assert m is not None
            paper = index.get(m.group("id"))
            if paper is None:
                continue  # arXiv drops unknown ids without a word
            if m.group("version"):
                v = int(m.group("version"))
                if v > paper.version:
                    continue
                paper = Paper(**{**paper.__dict__, "version": v})
            out.append(paper)
        return out


def _parse_query(query: str) -> list[list[str]]:
    """``ti:"a b" OR (ti:"c" AND ti:"d")`` -> [["a b"], ["c", "d"]]."""
    groups = []
    for part in re.split(r"\s+OR\s+", query.strip()):
        phrases = _PHRASE.findall(part)
        if phrases:
            groups.append(phrases)
    return groups


@lru_cache(maxsize=65536)
def _padded(text: str) -> str:
    return " " + " ".join(words(text)) + " "


def _has_phrase(title: str, phrase: str) -> bool:
    """Do the phrase's words occur in the title, adjacent and in order (Lucene's phrase query)?"""
    p = _padded(phrase)
    return p != "  " and p in _padded(title)


# --------------------------------------------------------------------------
# Atom in the 2025-2026 shape


def _feed_id(text: str) -> str:
    return "https://arxiv.org/api/" + hashlib.sha1(text.encode()).hexdigest()[:27]


def feed(
    papers: list[Paper], query: str, id_list: str, start: int, max_results: int, total: int
) -> str:
    canonical = f"search_query={query}&id_list={id_list}&start={start}&max_results={max_results}"
    link = "https://arxiv.org/api/query?" + urlencode(
        {"search_query": query, "start": start, "max_results": max_results, "id_list": id_list},
        safe=':/,"',
    )
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">',
        f"  <id>{_feed_id(canonical)}</id>",
        f"  <title>arXiv Query: {escape(canonical)}</title>",
        "  <updated>2026-04-12T22:10:19Z</updated>",
        f'  <link href={quoteattr(link)} type="application/atom+xml"/>',
        f"  <opensearch:itemsPerPage>{max_results}</opensearch:itemsPerPage>",
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>",
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>",
    ]
    out.extend(entry(p) for p in papers)
    out.append("</feed>")
    return "\n".join(out)


def entry(p: Paper) -> str:
    vid = f"{p.arxiv_id}v{p.version}"
    updated = p.updated or p.published
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{vid}</id>",
        f"    <title>{escape(p.title)}</title>",
        f"    <updated>{updated}</updated>",
        f'    <link href="https://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>',
        f'    <link href="https://arxiv.org/pdf/{vid}" rel="related" type="application/pdf" title="pdf"/>',
        f"    <summary>{escape(p.abstract)}</summary>",
    ]
    for term in [p.primary, *[c for c in p.categories if c != p.primary]]:
        lines.append(
            f'    <category term={quoteattr(term)} scheme="http://arxiv.org/schemas/atom"/>'
        )
    lines.append(f"    <published>{p.published}</published>")
    if p.comment:
        lines.append(f"    <arxiv:comment>{escape(p.comment)}</arxiv:comment>")
    lines.append(f"    <arxiv:primary_category term={quoteattr(p.primary)}/>")
    if p.journal_ref:
        lines.append(f"    <arxiv:journal_ref>{escape(p.journal_ref)}</arxiv:journal_ref>")
    for name in p.authors:
        lines.append("    <author>")
        lines.append(f"      <name>{escape(name)}</name>")
        for aff in p.affiliations.get(name, []):
            lines.append(f"      <arxiv:affiliation>{escape(aff)}</arxiv:affiliation>")
        lines.append("    </author>")
    if p.doi:
        lines.append(f"    <arxiv:doi>{escape(p.doi)}</arxiv:doi>")
        lines.append(
            f'    <link rel="related" href={quoteattr("https://doi.org/" + p.doi)} title="doi"/>'
        )
    lines.append("  </entry>")
    return "\n".join(lines)


def error_feed(anchor: str, message: str = "") -> str:
    message = message or f"incorrect id format for {anchor}"
    url = f"https://arxiv.org/api/errors#{escape(anchor)}"
    return "\n".join(
        [
            "<?xml version='1.0' encoding='UTF-8'?>",
            '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
            'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">',
            "  <id>https://arxiv.org/</id>",
            "  <title>arXiv Search Results</title>",
            "  <updated>2026-04-12T22:59:06Z</updated>",
            "  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>",
            "  <opensearch:totalResults>1</opensearch:totalResults>",
            "  <opensearch:startIndex>0</opensearch:startIndex>",
            "  <entry>",
            f"    <id>{url}</id>",
            "    <title>Error</title>",
            "    <updated>2026-04-12T22:59:06Z</updated>",
            f'    <link href="{url}" rel="alternate" type="text/html"/>',
            f"    <summary>{escape(message)}</summary>",
            "    <author>",
            "      <name>arXiv api core</name>",
            "    </author>",
            "  </entry>",
            "</feed>",
        ]
    )


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE feed [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b']>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol9;</title></feed>\n'
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&xxe;</title></feed>\n'
)


class _Handler(QuietHandler):
    fake: FakeArxiv

    def do_GET(self) -> None:
        self._serve("GET", urlsplit(self.path).query)

    def do_POST(self) -> None:
        self._serve("POST", self.read_body().decode("utf-8"))

    def _serve(self, method: str, query: str) -> None:
        if urlsplit(self.path).path != "/api/query":
            self.send_error(404)
            return
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        status, headers, body, _ = self.fake.answer(method, params, dict(self.headers.items()))
        self.reply(status, headers.items(), body)
