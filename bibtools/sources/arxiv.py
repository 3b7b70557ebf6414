"""arXiv: identifiers, the Atom API, and a client that batches lookups.

The API (``https://export.arxiv.org/api/query``) answers every query, errors
included, with an Atom feed.  What this module relies on, observed in real
2007, 2016 and 2025-2026 answers (``tests/fixtures/arxiv``):

* elements are read by namespace, in any order, whether the namespace is
  declared once on the feed or again on every element;
* an entry's ``<id>`` is ``http://arxiv.org/abs/<id>v<N>`` (versioned even
  when the request was not), link hrefs may be ``http`` or ``https``;
* an error is a feed with one entry whose ``<id>`` is
  ``.../api/errors#...`` and whose summary says what was wrong; since 2025
  it comes with HTTP 400.  It is raised as :class:`ArxivApiError`, never
  returned as a paper;
* unknown but well-formed ids are silently dropped from ``id_list``
  answers, so entries are matched to requests by id, never by position;
* under load the API sometimes answers an empty feed: one fresh retry.

The feed is parsed with ``defusedxml``: a document that declares entities
(billion laughs) or refers to external ones is refused with
:class:`UnsafeXmlError` and nothing in it is read.

:class:`ArxivClient` turns many lookups into few requests: ``id_list``
batches of up to 100 ids (``max_results`` = batch size) and exact-phrase
title searches, several titles OR-ed into one query (POST when the URL
would pass ~4 KB).  Each lookup gets an :class:`IdLookup` or
:class:`TitleLookup` whose ``status`` is ``found``, ``not-found``,
``failed`` (the API could not be reached or answered nonsense) or
``offline`` (offline mode, not in the cache).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlencode
from xml.etree.ElementTree import Element, ParseError

from ..diagnostics import UsageError
from ..http import HostPolicy, HttpClient, HttpError, OfflineMiss, Reply, host_of
from ..ids import ARXIV_ID, ArxivId, canonical_arxiv, parse_arxiv
from ..model import PartialDate
from ..text.markup import from_latex, to_plain
from ..text.matching import normalize_title, title_distance
from .base import Lookup, as_int, base_url, one_line

DEFAULT_API = "https://export.arxiv.org/api/query"
DEFAULT_DELAY = 3.0
EXPIRE_AFTER = 24 * 3600.0  # results change once a day; the manual asks clients to cache
MAX_BATCH = 100
MAX_GET_URL = 4000

ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"

_ERROR_ID = re.compile(r"/api/errors\b")
# A DOI: no white space, braces, backslashes or quotes (which no registered
# DOI has; old Wiley ones do have "<>"), at most 300 characters.
_DOI = re.compile(r"10\.\d{4,9}/[^\s{}\\\"]{1,300}")
_BAD_ID = re.compile(r"incorrect id format for (\S+)", re.IGNORECASE)
# arXiv taxonomy codes (cs.LG, hep-th, cond-mat.str-el), not the ACM/MSC codes also sent as categories.
_CATEGORY = re.compile(r"^[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]+(?:-[a-z]+)?)?$")
_MATH = re.compile(r"(?<!\\)\$[^$]*\$")
_EDGE_PUNCTUATION = ".,;:!?()[]\"\u201c\u201d\u2018\u2019'"


# --------------------------------------------------------------------------
# The Atom feed (identifiers: bibtools.ids)


class ArxivError(Exception):
    """The arXiv API could not be used for this query; the message is one line."""


class ArxivApiError(ArxivError):
    """The API answered with its error feed (``incorrect id format for abc``)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status

    @property
    def bad_id(self) -> str:
        m = _BAD_ID.search(str(self))
        return m.group(1) if m else ""


class FeedError(ArxivError):
    """The answer is not a complete Atom feed (truncated, HTML, empty)."""


class UnsafeXmlError(FeedError):
    """The answer declares or references XML entities; refused unread."""


@dataclass(frozen=True, slots=True)
class ArxivAuthor:
    name: str
    affiliations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ArxivEntry:
    """One paper as the API describes it.  Text is as arXiv sends it (LaTeX-ish), white space collapsed."""

    arxiv_id: str  # no version: "1605.08386", "hep-th/9901001"
    version: int | None
    title: str
    summary: str = ""
    authors: tuple[ArxivAuthor, ...] = ()
    published: str = ""  # first version, "2016-05-26T17:59:46Z"
    updated: str = ""  # this version
    primary_category: str = ""
    categories: tuple[str, ...] = ()  # arXiv taxonomy codes only, in feed order
    comment: str = ""
    journal_ref: str = ""
    doi: str = ""  # the published version's DOI, given by the authors
    abs_url: str = ""
    pdf_url: str = ""

    @property
    def id(self) -> ArxivId:
        return ArxivId(self.arxiv_id, self.version)

    @property
    def title_markup(self) -> str:
        return from_latex(self.title)

    @property
    def normalized_title(self) -> str:
        return normalize_title(self.title, latex=True)

    def published_date(self) -> PartialDate:
        m = re.match(r"(\d{4})-(\d{2})-(\d{2})", self.published)
        if not m:
            return PartialDate()
        return PartialDate(int(m.group(1)), int(m.group(2)), int(m.group(3)))


@dataclass(slots=True)
class Feed:
    entries: list[ArxivEntry] = field(default_factory=list)
    total_results: int | None = None
    start_index: int = 0
    items_per_page: int | None = None
    title: str = ""


def _text(element: Element | None) -> str:
    if element is None or element.text is None:
        return ""
    return " ".join(element.text.split())


def _int(element: Element | None) -> int | None:
    return as_int(_text(element))


def parse_feed(data: bytes | str) -> Feed:
    """Parse an API answer; raise :class:`ArxivApiError` for the error feed.

    Raises :class:`UnsafeXmlError` for entity declarations or external
    entities, :class:`FeedError` for anything that is not a complete feed.
    """
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden

    try:
        root = _feed_root(SafeET, data)
    except EntitiesForbidden as exc:
        if exc.sysid or exc.pubid:
            raise UnsafeXmlError(
                "refused the arXiv answer: it declares an external XML entity (a file or URL to read)"
            ) from None
        raise UnsafeXmlError(
            "refused the arXiv answer: it declares XML entities (an entity-expansion attack?)"
        ) from None
    except ExternalReferenceForbidden:
        raise UnsafeXmlError(
            "refused the arXiv answer: it refers to external XML entities"
        ) from None
    except DefusedXmlException as exc:
        raise UnsafeXmlError(f"refused the arXiv answer: {type(exc).__name__}") from None
    except ParseError as exc:
        raise FeedError(f"the arXiv answer is not well-formed XML ({exc})") from None
    except (LookupError, ValueError) as exc:
        # expat refuses an unknown or multi-byte encoding declaration before parsing.
        raise FeedError(f"the arXiv answer cannot be decoded ({exc})") from None
    feed = Feed(
        total_results=_int(root.find(f"{{{OPENSEARCH}}}totalResults")),
        start_index=_int(root.find(f"{{{OPENSEARCH}}}startIndex")) or 0,
        items_per_page=_int(root.find(f"{{{OPENSEARCH}}}itemsPerPage")),
        title=_text(root.find(f"{{{ATOM}}}title")),
    )
    for node in root.findall(f"{{{ATOM}}}entry"):
        raw_id = _text(node.find(f"{{{ATOM}}}id"))
        if _ERROR_ID.search(raw_id):
            message = _text(node.find(f"{{{ATOM}}}summary")) or _text(node.find(f"{{{ATOM}}}title"))
            raise ArxivApiError(one_line(message, 300) or "the arXiv API reported an error")
        entry = _entry(node, raw_id)
        if entry is not None:
            feed.entries.append(entry)
    return feed


def _feed_root(safe_et: Any, data: bytes | str) -> Element:
    """The parsed feed; an answer whose root is not an Atom feed is refused unread.

    An HTML error page of 10 MB would otherwise be parsed in full (seconds
    of CPU) only to be refused for its root element.
    """
    source = io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data)
    events = safe_et.iterparse(
        source, events=("start",), forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    _, root = next(events, (None, None))
    if root is None:
        raise FeedError("the arXiv answer is empty")
    if root.tag != f"{{{ATOM}}}feed":
        raise FeedError(f"the arXiv answer is not an Atom feed (root element {root.tag!r})")
    for _ in events:
        pass
    return cast(Element, root)


def _entry(node: Element, raw_id: str) -> ArxivEntry | None:
    m = re.search(rf"/abs/(?P<id>{ARXIV_ID})(?:v(?P<version>\d+))?$", raw_id)
    if m is None:
        return None  # not a paper; nothing sensible to match it to
    abs_url = pdf_url = ""
    for link in node.findall(f"{{{ATOM}}}link"):
        if link.get("rel") == "alternate":
            abs_url = link.get("href", "")
        elif link.get("title") == "pdf" or link.get("type") == "application/pdf":
            pdf_url = link.get("href", "")
    primary = node.find(f"{{{ARXIV}}}primary_category")
    terms = [c.get("term", "") for c in node.findall(f"{{{ATOM}}}category")]
    primary_term = primary.get("term", "") if primary is not None else ""
    if not _CATEGORY.match(primary_term):
        primary_term = ""  # becomes primaryClass: a taxonomy code or nothing
    categories = [t for t in dict.fromkeys([primary_term, *terms]) if t and _CATEGORY.match(t)]
    authors = tuple(
        ArxivAuthor(
            _text(a.find(f"{{{ATOM}}}name")),
            tuple(_text(x) for x in a.findall(f"{{{ARXIV}}}affiliation") if _text(x)),
        )
        for a in node.findall(f"{{{ATOM}}}author")
    )
    return ArxivEntry(
        arxiv_id=canonical_arxiv(m.group("id")),
        version=int(m.group("version")) if m.group("version") else None,
        title=_text(node.find(f"{{{ATOM}}}title")),
        summary=_text(node.find(f"{{{ATOM}}}summary")),
        authors=tuple(a for a in authors if a.name),
        published=_text(node.find(f"{{{ATOM}}}published")),
        updated=_text(node.find(f"{{{ATOM}}}updated")),
        primary_category=primary_term,
        categories=tuple(categories),
        comment=one_line(_text(node.find(f"{{{ARXIV}}}comment"))),
        journal_ref=one_line(_text(node.find(f"{{{ARXIV}}}journal_ref"))),
        doi=_doi(_text(node.find(f"{{{ARXIV}}}doi"))),
        abs_url=abs_url,
        pdf_url=pdf_url,
    )


def _doi(text: str) -> str:
    """The first DOI in arXiv's ``<arxiv:doi>`` (authors may give several, space-separated).

    Anything else in it (free text, braces, a URL) is no DOI and is dropped:
    the value ends up in ``doi`` fields and ``https://doi.org/`` links.
    """
    return next((t for t in text.split() if _DOI.fullmatch(t)), "")


# --------------------------------------------------------------------------
# Title queries


def title_runs(title: str) -> list[list[str]]:
    """The searchable word runs of a title (model markup), lower-case ASCII words.

    arXiv's index tokenises LaTeX, accents and apostrophes in ways we cannot
    predict, so math, words with non-ASCII letters and words with
    apostrophes split the title into runs of plain words, each searched as
    an exact phrase (all of them must match).
    """
    text = _MATH.sub(" \x00 ", title)
    runs: list[list[str]] = [[]]
    for chunk in to_plain(text).lower().split():
        chunk = chunk.strip(_EDGE_PUNCTUATION)
        if not chunk:
            continue
        if "\x00" in chunk or not chunk.isascii() or "'" in chunk:
            runs.append([])
        else:
            runs[-1].extend(re.findall(r"[a-z0-9]+", chunk))
    return [r for r in runs if r]


def title_clause(runs: Sequence[Sequence[str]]) -> str:
    phrases = [f'ti:"{" ".join(run)}"' for run in runs]
    return phrases[0] if len(phrases) == 1 else "(" + " AND ".join(phrases) + ")"


def _contains_run(words: Sequence[str], run: Sequence[str]) -> bool:
    n = len(run)
    return any(list(words[i : i + n]) == list(run) for i in range(len(words) - n + 1))


def matches_runs(entry: ArxivEntry, runs: Sequence[Sequence[str]]) -> bool:
    """Would arXiv return ``entry`` for the phrase query built from ``runs``?"""
    words = entry.normalized_title.split()
    return all(_contains_run(words, run) for run in runs)


# --------------------------------------------------------------------------
# The client


class IdLookup(Lookup[ArxivEntry]):
    """A paper by arXiv id: ``value`` (also ``entry``)."""

    __slots__ = ()

    @property
    def entry(self) -> ArxivEntry | None:
        return self.value


class TitleLookup(Lookup[list[ArxivEntry]]):
    """Entries whose title contains the searched phrase(s); the caller decides which, if any, is ours."""

    __slots__ = ()

    @property
    def candidates(self) -> list[ArxivEntry]:
        return self.value or []


ProgressFn = Callable[[Sequence[str]], None]  # called with the lookup keys just resolved


class ArxivClient:
    """Batched, cached, polite access to the arXiv API (in the spirit of arxiv.py's ``Client``).

    All HTTP goes through ``http`` (pacing, retries, cache); this class
    registers the arXiv host's policy there: ``delay`` seconds between
    requests (never below 3 s for arxiv.org), 24 h expiry, backoff from
    ``min(3, delay)`` s up to 120 s.
    """

    name = "arxiv"

    def __init__(
        self,
        http: HttpClient,
        *,
        api_url: str = DEFAULT_API,
        delay: float = DEFAULT_DELAY,
        batch_size: int = MAX_BATCH,
        titles_per_query: int = 20,
        max_get_url: int = MAX_GET_URL,
        max_title_results: int = 500,
        title_page_size: int = 100,
        timeout: tuple[float, float] = (5.0, 30.0),
        expire_after: float = EXPIRE_AFTER,
        retries: int = 4,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}")
        self.http = http
        self.api_url = api_url
        self.batch_size = batch_size
        self.titles_per_query = max(1, titles_per_query)
        self.max_get_url = max_get_url
        self.max_title_results = max_title_results
        self.title_page_size = title_page_size
        self.host = host_of(api_url)
        http.set_policy(
            self.host,
            HostPolicy(
                min_interval=delay,
                timeout=timeout,
                retries=retries,
                # Backoff scales with the pacing the host allows: 3 s for
                # arxiv.org, as fast as asked for a mirror or a loopback fake.
                backoff_base=min(3.0, max(delay, 0.0)),
                backoff_cap=120.0,
                expire_after=expire_after,
            ),
        )

    @classmethod
    def from_env(
        cls, http: HttpClient, env: Mapping[str, str] | None = None, **kwargs: object
    ) -> ArxivClient:
        """``BIBTOOLS_ARXIV_API`` and ``BIBTOOLS_ARXIV_DELAY`` (seconds) from ``env`` (default: os.environ)."""
        env = os.environ if env is None else env
        api = base_url(env, "BIBTOOLS_ARXIV_API", DEFAULT_API)
        raw = env.get("BIBTOOLS_ARXIV_DELAY", "")
        delay = DEFAULT_DELAY
        if raw.strip():
            try:
                delay = float(raw)
            except ValueError:
                raise UsageError(
                    f"BIBTOOLS_ARXIV_DELAY must be a number of seconds, not {raw!r}"
                ) from None
            if delay < 0 or delay != delay:
                raise UsageError(f"BIBTOOLS_ARXIV_DELAY must be a number of seconds, not {raw!r}")
        return cls(http, api_url=api, delay=delay, **kwargs)  # type: ignore[arg-type]

    # -- one query ---------------------------------------------------------

    def query(
        self, params: Mapping[str, str | int], *, refresh: bool = False
    ) -> tuple[Feed, Reply]:
        """One API call (GET, or POST when the URL would be too long), parsed.

        A truncated or otherwise unreadable 200 answer is evicted from the
        cache and asked once more; raises :class:`ArxivError` or
        :class:`bibtools.http.HttpError` when there is no usable feed.
        """
        try:
            return self._query_once(params, refresh)
        except UnsafeXmlError:
            raise
        except FeedError:
            return self._query_once(params, True)

    def _query_once(self, params: Mapping[str, str | int], refresh: bool) -> tuple[Feed, Reply]:
        encoded = urlencode(params)
        if len(self.api_url) + 1 + len(encoded) <= self.max_get_url:
            reply = self.http.get(self.api_url, params=params, refresh=refresh)
        else:
            reply = self.http.post(self.api_url, data=params, refresh=refresh)
        try:
            feed = parse_feed(reply.content)
        except ArxivApiError as exc:
            raise ArxivApiError(str(exc), reply.status) from None
        except FeedError as exc:
            self.http.evict(reply)
            if reply.ok:
                raise
            raise ArxivApiError(f"HTTP {reply.status} from {self.host}", reply.status) from exc
        if not reply.ok:
            raise ArxivApiError(f"HTTP {reply.status} from {self.host}", reply.status)
        return feed, reply

    # -- by id -------------------------------------------------------------

    def lookup_ids(
        self, ids: Iterable[str | ArxivId], progress: ProgressFn | None = None
    ) -> dict[str, IdLookup]:
        """Look up papers by id; the result is keyed by the version-less id (``str(ArxivId.id)``).

        Versions are ignored in the request: the latest version's metadata
        is what a record wants (journal ref, DOI), and ``published`` is the
        first version's date whatever version is asked for.
        """
        results: dict[str, IdLookup] = {}
        wanted: list[str] = []
        for raw in ids:
            parsed = raw if isinstance(raw, ArxivId) else parse_arxiv(raw)
            if parsed is None:
                results[str(raw)] = IdLookup("not-found", message=f"{raw!r} is not an arXiv id")
            elif parsed.id not in results and parsed.id not in wanted:
                wanted.append(parsed.id)
        for start in range(0, len(wanted), self.batch_size):
            batch = wanted[start : start + self.batch_size]
            self._id_batch(batch, results, retry=True, refresh=False)
            if progress:
                progress(batch)
        return results

    def _id_batch(
        self, batch: list[str], results: dict[str, IdLookup], *, retry: bool, refresh: bool
    ) -> None:
        # Sorted, so that the same set of ids is the same request (and cache key).
        ordered = sorted(batch)
        params: dict[str, str | int] = {
            "id_list": ",".join(ordered),
            "start": 0,
            "max_results": len(ordered),
        }
        try:
            feed, reply = self.query(params, refresh=refresh)
        except OfflineMiss:
            for i in batch:
                results[i] = IdLookup("offline", message="not in the cache (offline)")
            return
        except ArxivApiError as exc:
            bad = canonical_arxiv(exc.bad_id) if exc.bad_id else ""
            if bad in batch:
                results[bad] = IdLookup("not-found", message=f"arXiv rejected the id: {exc}")
                rest = [i for i in batch if i != bad]
                if rest:
                    self._id_batch(rest, results, retry=retry, refresh=refresh)
                return
            self._fail(batch, results, f"arXiv API error: {exc}")
            return
        except (ArxivError, HttpError) as exc:
            self._fail(batch, results, str(exc))
            return
        wanted = set(batch)
        for entry in feed.entries:
            if entry.arxiv_id in wanted:
                results[entry.arxiv_id] = IdLookup("found", entry)
        missing = [i for i in batch if i not in results]
        if missing and retry:
            # arXiv drops ids it does not know, and sometimes ones it does under
            # load: ask once more for those alone.  When the whole batch was
            # missing from a fresh answer, that answer is now cached: bypass it.
            again = len(missing) == len(batch) and not reply.from_cache
            self._id_batch(missing, results, retry=False, refresh=again)
            return
        for i in missing:
            results[i] = IdLookup("not-found", message=f"arXiv has no paper {i}")

    @staticmethod
    def _fail(keys: Iterable[str], results: dict[str, IdLookup], message: str) -> None:
        for k in keys:
            results[k] = IdLookup("failed", message=message)

    # -- by title ----------------------------------------------------------

    def search_titles(
        self, titles: Iterable[str], progress: ProgressFn | None = None
    ) -> dict[str, TitleLookup]:
        """Find candidate papers for titles (model markup); keyed by the titles as given.

        Titles are searched as exact phrases, ``titles_per_query`` OR-ed into
        one query.  A candidate is any entry whose title contains the phrase;
        deciding whether it is the record's paper (title distance, authors)
        is the caller's job (:mod:`bibtools.enrich`).
        """
        results: dict[str, TitleLookup] = {}
        plans: dict[str, list[list[str]]] = {}
        for title in titles:
            if title in results or title in plans:
                continue
            runs = title_runs(title)
            if runs:
                plans[title] = runs
            else:
                results[title] = TitleLookup(
                    "not-found", message="the title has no searchable words"
                )
        pending = list(plans)
        for start in range(0, len(pending), self.titles_per_query):
            batch = pending[start : start + self.titles_per_query]
            retry_alone = self._title_batch(batch, plans, results)
            for title in retry_alone:
                self._title_batch([title], plans, results)
            if progress:
                progress(batch)
        return results

    def _title_batch(
        self,
        batch: list[str],
        plans: Mapping[str, list[list[str]]],
        results: dict[str, TitleLookup],
    ) -> list[str]:
        """Query one batch; returns the titles worth a query of their own (truncated answers)."""
        clauses = list(dict.fromkeys(title_clause(plans[t]) for t in batch))
        params: dict[str, str | int] = {
            "search_query": " OR ".join(clauses),
            "start": 0,
            "max_results": min(2000, self.title_page_size),
        }
        try:
            entries, complete = self._collect(params)
        except OfflineMiss:
            for t in batch:
                results[t] = TitleLookup("offline", message="not in the cache (offline)")
            return []
        except (ArxivError, HttpError) as exc:
            for t in batch:
                results[t] = TitleLookup("failed", message=str(exc))
            return []
        for title in batch:
            candidates = [e for e in entries if matches_runs(e, plans[title])]
            if candidates:
                results[title] = TitleLookup("found", candidates)
            else:
                results[title] = TitleLookup("not-found", message="no arXiv paper has this title")
        if complete or len(batch) == 1:
            return []
        # The answer was cut off: a title whose own paper may be in the part we
        # did not read gets a query of its own.
        return [
            t
            for t in batch
            if not any(
                title_distance(normalize_title(t), e.normalized_title) is not None
                for e in results[t].candidates
            )
        ]

    def _collect(self, params: dict[str, str | int]) -> tuple[list[ArxivEntry], bool]:
        """Every entry of a search, page by page, up to ``max_title_results``; (entries, complete)."""
        entries: list[ArxivEntry] = []
        seen: set[str] = set()
        start = 0
        while True:
            params["start"] = start
            feed, reply = self.query(params)
            if not feed.entries and not reply.from_cache:
                # An empty page under load is common: one fresh retry before believing it.
                feed, reply = self.query(params, refresh=True)
            for entry in feed.entries:
                if entry.arxiv_id not in seen:
                    seen.add(entry.arxiv_id)
                    entries.append(entry)
            start += len(feed.entries)
            total = feed.total_results if feed.total_results is not None else start
            if start >= total:
                return entries, True
            if not feed.entries or len(entries) >= self.max_title_results:
                return entries, False
