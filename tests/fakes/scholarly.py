"""All the scholarly fakes at once, over one shared catalogue: what ``verify`` and ``add`` tests start.

::

    from fakes.scholarly import scholarly  # noqa: F401  (the pytest fixture)

    def test_x(scholarly):
        env = scholarly.env                      # BIBTOOLS_*_API -> loopback URLs
        ...
        assert scholarly.crossref.batches == 1
        assert scholarly.total_requests() < 40

or, outside pytest (benchmarks)::

    with start_scholarly() as s: ...

:func:`start_scholarly` starts, on loopback addresses, Crossref
(:class:`fakes.crossref_server.FakeCrossref`), OpenAlex, doi.org and
DataCite (the resolver redirects to the Crossref and DataCite fakes, as
doi.org does), arXiv (:class:`ScriptedArxiv`), Open Library, Google Books,
PubMed and Semantic Scholar (:class:`ScriptedS2`), all serving the works of
one :class:`fakes.catalogue.Catalogue` (by default
``tests/data/scholarly/works.json``), each work only from the sources that
know it.  Every fake has the same scripting API (:class:`fakes.faulty.ScriptedApi`):
``fail(pattern, "503" | "429" | ..., times, retry_after=)``,
``hold(pattern) -> Gate``, ``requests(pattern)``, ``clear_faults()``.

:attr:`Scholarly.env` names the environment variables bibtools reads for
its sources.  ``BIBTOOLS_CROSSREF_API``, ``BIBTOOLS_ARXIV_API``,
``BIBTOOLS_S2_API``, ``BIBTOOLS_OPENALEX_API`` and ``BIBTOOLS_DOI_RESOLVER``
are the issues' names; ``BIBTOOLS_DATACITE_API``,
``BIBTOOLS_OPENLIBRARY_API``, ``BIBTOOLS_GOOGLEBOOKS_API`` and
``BIBTOOLS_PUBMED_API`` are proposals (the issues name no variable for them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from .arxiv_server import FakeArxiv, Logged
from .arxiv_server import _Handler as _ArxivHandler
from .catalogue import Catalogue
from .crossref_server import FakeCrossref
from .doi_server import FakeDataCite, FakeDoiResolver
from .faulty import FAULTS, Gate, Rule, ScriptedApi, describe
from .isbn_server import FakeGoogleBooks, FakeOpenLibrary
from .openalex_server import FakeOpenAlex
from .pubmed_server import FakePubMed
from .s2_server import FakeS2, S2Entry

try:
    import pytest
except ImportError:  # benchmarks may run without the test dependencies
    pytest = None  # type: ignore[assignment]


# --------------------------------------------------------------------------
# arXiv and Semantic Scholar with the shared scripting API


class ScriptedArxiv(FakeArxiv):
    """:class:`fakes.arxiv_server.FakeArxiv` plus rules by pattern and gates (``/api/query?...`` targets)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rules: list[Rule] = []

    def make_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_ScriptedArxivHandler,), {"fake": self})

    def fail(
        self, pattern: str, fault: str, times: int | None = 1, *, retry_after: str | None = None
    ) -> Rule:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {sorted(FAULTS)}")
        rule = Rule(re.compile(pattern), fault, times, retry_after)
        with self._lock:
            self.rules.append(rule)
        return rule

    def rate_limit(self, pattern: str = "", times: int | None = 1, retry_after: str = "1") -> Rule:
        return self.fail(pattern, "429", times, retry_after=retry_after)

    def hold(self, pattern: str = "", times: int | None = None) -> Gate:
        gate = Gate()
        with self._lock:
            self.rules.append(Rule(re.compile(pattern), "hold", times, gate=gate))
        return gate

    def clear_faults(self) -> None:
        with self._lock:
            rules, self.rules = self.rules, []
        for rule in rules:
            if rule.gate is not None:
                rule.gate.release()

    def release(self) -> None:
        super().release()
        for rule in list(self.rules):
            if rule.gate is not None:
                rule.gate.release()

    def requests_matching(self, pattern: str = "") -> list[Logged]:
        rx = re.compile(pattern)
        with self._lock:
            return [
                r
                for r in self.requests
                if rx.search(
                    describe(r.method, "/api/query", {k: [v] for k, v in r.params.items()})
                )
            ]

    def answer(
        self, method: str, params: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes, str]:
        target = describe(method, "/api/query", {k: [v] for k, v in params.items()})
        with self._lock:
            rule = next((r for r in self.rules if r.matches(target)), None)
            if rule is not None:
                rule.fired += 1
                if rule.times is not None:
                    rule.times -= 1
        if rule is None:
            return super().answer(method, params, headers)
        if rule.fault == "hold":
            assert rule.gate is not None
            rule.gate._hold()
            return super().answer(method, params, headers)
        with self._lock:
            self.requests.append(Logged(method, dict(params), rule.fault, dict(headers or {})))
        if rule.fault == "reset":
            return 0, {}, b"", rule.fault
        if rule.fault in ("429", "429-html"):
            out = {"Content-Type": "text/plain"}
            if rule.retry_after:
                out["Retry-After"] = rule.retry_after
            return 429, out, b"Rate exceeded.", rule.fault
        if rule.fault == "200-html":
            return (
                200,
                {"Content-Type": "text/html"},
                b"<html>Down for maintenance</html>",
                rule.fault,
            )
        if rule.fault == "truncated":
            status, out, data, _ = super().answer(method, params, headers)
            self.requests.pop()  # logged twice otherwise
            return status, out, data[: len(data) // 2], rule.fault
        return (
            int(rule.fault),
            {"Content-Type": "text/html"},
            f"<html>{rule.fault}</html>".encode(),
            rule.fault,
        )


class _ScriptedArxivHandler(_ArxivHandler):
    fake: ScriptedArxiv  # type: ignore[assignment]

    def _serve(self, method: str, query: str) -> None:
        from urllib.parse import parse_qs, urlsplit

        if urlsplit(self.path).path != "/api/query":
            self.send_error(404)
            return
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        status, headers, body, _ = self.fake.answer(method, params, dict(self.headers.items()))
        if status == 0:
            self.close_connection = True
            return
        self.reply(status, headers.items(), body)


class ScriptedS2(ScriptedApi, FakeS2):
    """:class:`fakes.s2_server.FakeS2` plus rules by pattern and gates."""


def s2_entry(w: Any) -> S2Entry:
    return S2Entry(
        title=w.title or "",
        authors=[p.display for p in w.authors],
        arxiv_id=w.arxiv.id if w.arxiv else "",
        doi=w.doi or (w.arxiv_doi if w.arxiv else ""),
        venue=w.container or ("arXiv.org" if w.arxiv else ""),
        year=w.year,
        publication_date="-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(w.issued))
        if len(w.issued) == 3
        else None,
        publication_types=["JournalArticle"]
        if w.type == "journal-article"
        else ["Conference"]
        if w.type == "proceedings-article"
        else None,
    )


# --------------------------------------------------------------------------
# The registry


@dataclass
class Scholarly:
    catalogue: Catalogue
    crossref: FakeCrossref
    openalex: FakeOpenAlex
    datacite: FakeDataCite
    doi: FakeDoiResolver
    arxiv: ScriptedArxiv
    openlibrary: FakeOpenLibrary
    googlebooks: FakeGoogleBooks
    pubmed: FakePubMed
    s2: ScriptedS2
    _stopped: bool = field(default=False, repr=False)

    @property
    def fakes(self) -> dict[str, Any]:
        return {
            "crossref": self.crossref,
            "openalex": self.openalex,
            "datacite": self.datacite,
            "doi": self.doi,
            "arxiv": self.arxiv,
            "openlibrary": self.openlibrary,
            "googlebooks": self.googlebooks,
            "pubmed": self.pubmed,
            "s2": self.s2,
        }

    @property
    def env(self) -> dict[str, str]:
        return {
            "BIBTOOLS_CROSSREF_API": self.crossref.url,
            "BIBTOOLS_OPENALEX_API": self.openalex.url,
            "BIBTOOLS_DOI_RESOLVER": self.doi.url,
            "BIBTOOLS_DATACITE_API": self.datacite.api_url,
            "BIBTOOLS_ARXIV_API": self.arxiv.url,
            "BIBTOOLS_ARXIV_DELAY": "0",
            "BIBTOOLS_OPENLIBRARY_API": self.openlibrary.url,
            "BIBTOOLS_GOOGLEBOOKS_API": self.googlebooks.url,
            "BIBTOOLS_PUBMED_API": self.pubmed.url,
            "BIBTOOLS_S2_API": self.s2.url,
        }

    def counts(self) -> dict[str, int]:
        """Requests each fake received (redirects followed count on both ends)."""
        return {
            name: (f.count if isinstance(f, FakeArxiv) else len(f.log))
            for name, f in self.fakes.items()
        }

    def total_requests(self) -> int:
        return sum(self.counts().values())

    def reset_logs(self) -> None:
        for f in self.fakes.values():
            f.reset_log()

    def clear_faults(self) -> None:
        for f in self.fakes.values():
            f.clear_faults()

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            for f in self.fakes.values():
                f.stop()

    def __enter__(self) -> Scholarly:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_scholarly(catalogue: Catalogue | None = None) -> Scholarly:
    """Start every fake over ``catalogue`` (default: tests/data/scholarly/works.json)."""
    cat = catalogue if catalogue is not None else Catalogue.load()
    crossref = FakeCrossref(catalogue=cat)
    datacite = FakeDataCite(cat)
    started: list[Any] = []
    try:
        for fake in (crossref, datacite):
            started.append(fake.start())
        doi = FakeDoiResolver(cat, crossref=crossref, datacite=datacite)
        openalex = FakeOpenAlex(cat)
        arxiv = ScriptedArxiv([w.paper() for w in cat.known_to("arxiv")])
        openlibrary = FakeOpenLibrary(cat)
        googlebooks = FakeGoogleBooks(cat)
        pubmed = FakePubMed(cat)
        s2 = ScriptedS2([s2_entry(w) for w in cat.known_to("s2")])
        for fake in (doi, openalex, arxiv, openlibrary, googlebooks, pubmed, s2):
            started.append(fake.start())
    except BaseException:
        for fake in started:
            fake.stop()
        raise
    return Scholarly(
        cat, crossref, openalex, datacite, doi, arxiv, openlibrary, googlebooks, pubmed, s2
    )


@contextmanager
def scholarly_fakes(catalogue: Catalogue | None = None) -> Iterator[Scholarly]:
    s = start_scholarly(catalogue)
    try:
        yield s
    finally:
        s.stop()


if pytest is not None:

    @pytest.fixture
    def scholarly() -> Iterator[Scholarly]:
        """Every scholarly fake over the default catalogue, stopped after the test."""
        with scholarly_fakes() as s:
            yield s
