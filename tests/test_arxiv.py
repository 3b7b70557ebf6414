"""bibtools.sources.arxiv: ids, the Atom parser on recorded answers, the batching client.

The client runs against the loopback arXiv (tests/fakes/arxiv_server.py)
with a fake clock: request counts are read from the server's log.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fakes import FakeClock
from fakes.arxiv_server import BILLION_LAUGHS, EXTERNAL_ENTITY, FakeArxiv, Paper

from bibtools.diagnostics import UsageError
from bibtools.http import HostPolicy, HttpClient
from bibtools.ids import ArxivId, arxiv_from_record, find_arxiv, parse_arxiv
from bibtools.model import Record
from bibtools.sources.arxiv import (
    ArxivApiError,
    ArxivClient,
    FeedError,
    UnsafeXmlError,
    matches_runs,
    parse_feed,
    title_clause,
    title_runs,
)

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"
INDEX = json.loads((FIXTURES / "INDEX.json").read_text())


# -- identifiers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2204.12345", ArxivId("2204.12345")),
        ("2204.12345v3", ArxivId("2204.12345", 3)),
        ("0704.0001", ArxivId("0704.0001")),
        ("arXiv:1706.03762v7", ArxivId("1706.03762", 7)),
        ("hep-th/9901001", ArxivId("hep-th/9901001")),
        ("arXiv:hep-th/9901001v2", ArxivId("hep-th/9901001", 2)),
        ("math.GT/0309136", ArxivId("math/0309136")),  # the subject class is an alias
        ("https://arxiv.org/abs/2204.12345v2", ArxivId("2204.12345", 2)),
        ("http://arxiv.org/pdf/2204.12345v3.pdf", ArxivId("2204.12345", 3)),
        ("https://export.arxiv.org/abs/astro-ph/0601001", ArxivId("astro-ph/0601001")),
        ("10.48550/arXiv.2204.12345", ArxivId("2204.12345")),
        ("https://doi.org/10.48550/ARXIV.2204.12345", ArxivId("2204.12345")),
        ("abc", None),
        ("0000.0000", None),  # month 00
        ("2213.12345", None),  # month 13
        ("2204.123456", None),
        ("10.1103/PhysRevB.85.115117", None),
    ],
)
def test_parse_id(text: str, expected: ArxivId | None) -> None:
    assert parse_arxiv(text) == expected


def test_find_id_needs_an_arxiv_marker() -> None:
    assert find_arxiv("arXiv preprint arXiv:1706.03762") == ArxivId("1706.03762")
    assert find_arxiv("Phys. Rev. 1234.5678 (2012)") is None
    assert ArxivId("hep-th/9901001").doi == "10.48550/arXiv.hep-th/9901001"
    assert str(ArxivId("2204.12345", 2)) == "2204.12345v2"


@pytest.mark.parametrize(
    "record",
    [
        Record(arxiv_id="2204.12345"),
        Record(arxiv_id="arXiv:2204.12345"),
        Record(extra={"eprint": "2204.12345", "archiveprefix": "arXiv"}),
        Record(extra={"ArXivId": "2204.12345"}),
        Record(doi="10.48550/arXiv.2204.12345"),
        Record(url="https://arxiv.org/abs/2204.12345v1"),
        Record(container_title="arXiv preprint arXiv:2204.12345"),
        Record(note="Preprint at arXiv:2204.12345"),
    ],
)
def test_id_from_record_finds_every_spelling(record: Record) -> None:
    found = arxiv_from_record(record)
    assert found is not None and found.id == "2204.12345"


def test_id_from_record_none_and_version() -> None:
    assert (
        arxiv_from_record(Record(title="A paper", doi="10.1000/xyz", url="https://example.org"))
        is None
    )
    assert arxiv_from_record(Record(arxiv_id="2204.12345", arxiv_version=2)) == ArxivId(
        "2204.12345", 2
    )


# -- the Atom parser on recorded answers ------------------------------------------------


@pytest.mark.parametrize("item", INDEX, ids=lambda i: i["file"])
def test_recorded_answers_parse(item: dict) -> None:
    data = (FIXTURES / item["file"]).read_bytes()
    if item["http_status"] != 200:
        with pytest.raises(ArxivApiError, match="incorrect id format"):
            parse_feed(data)
        return
    feed = parse_feed(data)
    assert len(feed.entries) == item["entries"]
    assert feed.total_results == item["totalResults"]
    for entry in feed.entries:
        assert parse_arxiv(entry.arxiv_id) == ArxivId(entry.arxiv_id)
        assert entry.title and entry.authors and entry.primary_category
        assert entry.primary_category == entry.categories[0]
        assert f"/abs/{entry.arxiv_id}" in entry.abs_url


def test_2025_entry_fields() -> None:
    entry = parse_feed((FIXTURES / "arxivpy_id_1605.08386_s0_m100.xml").read_bytes()).entries[0]
    assert (entry.arxiv_id, entry.version) == ("1605.08386", 1)
    assert entry.title == "Heat-bath random walks with Markov bases"
    assert [a.name for a in entry.authors] == ["Caprice Stanley", "Tobias Windisch"]
    assert entry.categories == ("math.CO", "math.ST")
    assert entry.comment == "20 pages, 3 figures"
    assert entry.published_date().iso() == "2016-05-26"
    assert entry.pdf_url == "https://arxiv.org/pdf/1605.08386v1"


def test_old_style_ids_affiliations_and_non_ascii() -> None:
    entry = parse_feed((FIXTURES / "arxivpy_id_astro-ph_0601001_s0_m100.xml").read_bytes()).entries[
        0
    ]
    assert entry.arxiv_id == "astro-ph/0601001"
    assert entry.authors[0].affiliations == ("Ohio State",)
    assert entry.journal_ref == "ActaAstron.56:1-50,2006"
    big = parse_feed((FIXTURES / "arxivpy_id_1707.08567_s0_m100.xml").read_bytes()).entries[0]
    assert len(big.authors) == 34
    assert any("Wübben" in a.name for a in big.authors)


def test_legacy_2016_and_2007_shapes() -> None:
    legacy = parse_feed((FIXTURES / "arxivpy2016_legacy_id_1111.2011v2.xml").read_bytes()).entries[
        0
    ]
    assert (legacy.arxiv_id, legacy.version) == ("1111.2011", 2)
    assert (
        legacy.title
        == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert legacy.doi == "10.1103/PhysRevB.85.115117"
    assert legacy.primary_category == "cond-mat.str-el"
    assert legacy.published_date().iso() == "2011-11-08"
    old = parse_feed((FIXTURES / "arxivdocs_2007_q_all_electron_max1.xml").read_bytes()).entries[0]
    assert (old.arxiv_id, old.version) == ("hep-ex/0307015", None)
    assert [a.name for a in old.authors] == ["H1 Collaboration"]


def test_acm_and_msc_codes_are_not_arxiv_categories() -> None:
    feed = parse_feed((FIXTURES / "arxivpy_q_testing_s0_m100.xml").read_bytes())
    codes = {c for e in feed.entries for c in e.categories}
    assert codes and all(re.fullmatch(r"[a-z-]+(\.[A-Za-z-]+)?", c) for c in codes)


def test_element_order_does_not_matter() -> None:
    data = (FIXTURES / "arxivpy_id_1605.08386_s0_m100.xml").read_bytes()
    root = ElementTree.fromstring(data)
    entry = root.find("{http://www.w3.org/2005/Atom}entry")
    assert entry is not None
    children = list(entry)
    for child in children:
        entry.remove(child)
    for child in random.Random(3).sample(children, len(children)):
        entry.append(child)
    shuffled = ElementTree.tostring(root)
    assert shuffled != data
    assert parse_feed(shuffled).entries == parse_feed(data).entries


def test_error_feed_is_an_error_not_an_entry() -> None:
    with pytest.raises(ArxivApiError) as info:
        parse_feed((FIXTURES / "arxivpy_id_abc_s0_m100.xml").read_bytes())
    assert info.value.bad_id == "abc"
    with pytest.raises(ArxivApiError, match=r"incorrect id format for 1234\.12345"):
        parse_feed(
            (FIXTURES / "arxivdocs_2007_error_incorrect_id_format_1234.12345.xml").read_bytes()
        )


def test_hostile_and_broken_xml_is_refused() -> None:
    with pytest.raises(UnsafeXmlError, match="declares XML entities"):
        parse_feed(BILLION_LAUGHS)
    with pytest.raises(UnsafeXmlError, match="external"):
        parse_feed(EXTERNAL_ENTITY)
    data = (FIXTURES / "arxivpy_id_1605.08386_s0_m100.xml").read_bytes()
    with pytest.raises(FeedError, match="not well-formed") as info:
        parse_feed(data[: len(data) // 2])
    assert not isinstance(info.value, UnsafeXmlError)
    with pytest.raises(FeedError, match="not an Atom feed"):
        parse_feed(b"<html><body>Service Unavailable</body></html>")


# -- title queries ---------------------------------------------------------------------


def test_title_runs_split_at_math_accents_and_apostrophes() -> None:
    assert title_runs("Attention Is All You Need") == [["attention", "is", "all", "you", "need"]]
    assert title_runs("{BERT}: Pre-training of Deep Bidirectional Transformers") == [
        ["bert", "pre", "training", "of", "deep", "bidirectional", "transformers"]
    ]
    assert title_runs("Solving the Schrödinger equation with $\\alpha$-nets") == [
        ["solving", "the"],
        ["equation", "with"],
        ["nets"],
    ]
    assert title_runs("Don't stop pretraining") == [["stop", "pretraining"]]
    assert title_runs("$x$") == []
    assert title_clause([["a", "b"]]) == 'ti:"a b"'
    assert title_clause([["a"], ["c", "d"]]) == '(ti:"a" AND ti:"c d")'


# -- the client against the loopback arXiv --------------------------------------------------


def paper(n: int, **kw: object) -> Paper:
    defaults: dict[str, object] = {
        "arxiv_id": f"2204.{10000 + n}",
        "title": f"Study number {n} of sparse attention",
        "authors": [f"Author{n} Family{n}", "Second Person"],
    }
    defaults.update(kw)
    return Paper(**defaults)  # type: ignore[arg-type]


CATALOGUE = [paper(n) for n in range(260)] + [
    Paper("hep-th/9901001", "An old string theory paper", ["Old Author"], primary="hep-th"),
    Paper("math/0309136", "Knots and their invariants", ["Knot Person"], primary="math.GT"),
]


@pytest.fixture
def server() -> Iterator[FakeArxiv]:
    with FakeArxiv(CATALOGUE) as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(
    server: FakeArxiv, clock: FakeClock, cache: Path | None = None, **kwargs: object
) -> ArxivClient:
    http_kwargs = {k: kwargs.pop(k) for k in ("offline", "refresh") if k in kwargs}
    http = HttpClient(cache_dir=cache, clock=clock, rng=random.Random(0), **http_kwargs)  # type: ignore[arg-type]
    kwargs.setdefault("delay", 0)
    return ArxivClient(http, api_url=server.url, timeout=(2.0, 2.0), **kwargs)  # type: ignore[arg-type]


def test_ids_are_batched_by_100_and_matched_by_id(server: FakeArxiv, clock: FakeClock) -> None:
    ids = [f"2204.{10000 + n}" for n in range(250)]
    random.Random(5).shuffle(ids)
    results = make_client(server, clock).lookup_ids(ids)
    assert server.count == 3
    for req in server.requests:
        listed = req.params["id_list"].split(",")
        assert len(listed) <= 100
        assert req.params["max_results"] == str(len(listed))
    for i in ids:
        found = results[i].entry
        assert results[i].status == "found" and found is not None
        n = int(i.split(".")[1]) - 10000
        assert (found.arxiv_id, found.title) == (i, f"Study number {n} of sparse attention")


def test_unknown_ids_are_retried_once_in_a_smaller_batch(
    server: FakeArxiv, clock: FakeClock
) -> None:
    known = [f"2204.{10000 + n}" for n in range(97)]
    unknown = ["2204.99991", "2204.99992", "0808.05394"]
    results = make_client(server, clock).lookup_ids(unknown[:1] + known + unknown[1:])
    assert server.count == 2
    assert server.requests[1].params["id_list"].split(",") == sorted(unknown)
    assert all(results[i].status == "found" and results[i].entry.arxiv_id == i for i in known)  # type: ignore[union-attr]
    assert all(results[i].status == "not-found" for i in unknown)


def test_old_style_ids(server: FakeArxiv, clock: FakeClock) -> None:
    results = make_client(server, clock).lookup_ids(["hep-th/9901001v1", "math.GT/0309136"])
    assert results["hep-th/9901001"].entry.title == "An old string theory paper"  # type: ignore[union-attr]
    assert results["math/0309136"].status == "found"
    assert server.count == 1
    assert server.requests[0].params["id_list"] == "hep-th/9901001,math/0309136"


def test_invalid_ids_cost_no_request(server: FakeArxiv, clock: FakeClock) -> None:
    results = make_client(server, clock).lookup_ids(["abc", "0000.0000"])
    assert {r.status for r in results.values()} == {"not-found"}
    assert server.count == 0


def test_empty_feed_for_ids_is_retried_fresh(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    server.faults.empty = 1
    results = make_client(server, clock, tmp_path).lookup_ids(["2204.10001", "2204.10002"])
    assert {r.status for r in results.values()} == {"found"}
    assert server.count == 2
    # The empty answer did not stay in the cache: offline, the good one is found.
    offline = make_client(server, clock, tmp_path, offline=True).lookup_ids(
        ["2204.10001", "2204.10002"]
    )
    assert {r.status for r in offline.values()} == {"found"}
    assert server.count == 2


def test_error_feed_naming_one_id_drops_it_and_keeps_the_rest(
    server: FakeArxiv, clock: FakeClock
) -> None:
    server.faults.error_feed = 1
    server.faults.error_feed_id = "2204.10003"
    results = make_client(server, clock).lookup_ids(["2204.10001", "2204.10003"])
    assert results["2204.10001"].status == "found"
    assert results["2204.10003"].status == "not-found"
    assert "rejected" in results["2204.10003"].message
    assert server.count == 2


def test_error_feed_otherwise_fails_the_batch_without_retry(
    server: FakeArxiv, clock: FakeClock
) -> None:
    server.faults.error_feed = 1
    results = make_client(server, clock).lookup_ids(["2204.10001", "2204.10002"])
    assert {r.status for r in results.values()} == {"failed"}
    assert "incorrect id format for abc" in results["2204.10001"].message
    assert server.count == 1


def test_truncated_feed_is_evicted_and_asked_again(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    server.faults.truncated = 1
    results = make_client(server, clock, tmp_path).lookup_ids(["2204.10001"])
    assert results["2204.10001"].status == "found"
    assert server.count == 2
    again = make_client(server, clock, tmp_path).lookup_ids(["2204.10001"])
    assert again["2204.10001"].status == "found" and server.count == 2


@pytest.mark.parametrize(
    ("fault", "words"), [("billion_laughs", "entities"), ("external_entity", "external")]
)
def test_hostile_payload_fails_clearly(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path, fault: str, words: str
) -> None:
    setattr(server.faults, fault, 1)
    results = make_client(server, clock, tmp_path).lookup_ids(["2204.10001"])
    assert results["2204.10001"].status == "failed"
    assert words in results["2204.10001"].message and "refused" in results["2204.10001"].message
    assert server.count == 1
    # Nothing of it was kept: the next run asks again and gets the paper.
    assert (
        make_client(server, clock, tmp_path).lookup_ids(["2204.10001"])["2204.10001"].status
        == "found"
    )


def test_offline_with_empty_cache(server: FakeArxiv, clock: FakeClock, tmp_path: Path) -> None:
    client = make_client(server, clock, tmp_path, offline=True)
    assert {r.status for r in client.lookup_ids(["2204.10001", "2204.10002"]).values()} == {
        "offline"
    }
    assert {
        r.status for r in client.search_titles(["Study number 1 of sparse attention"]).values()
    } == {"offline"}
    assert server.count == 0


def test_second_run_from_the_same_cache_makes_no_request(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    ids = [f"2204.{10000 + n}" for n in range(150)] + ["2204.99999"]
    titles = [f"Study number {n} of sparse attention" for n in range(200, 230)] + [
        "Nothing like this exists"
    ]
    first = make_client(server, clock, tmp_path)
    r1 = (first.lookup_ids(ids), first.search_titles(titles))
    sent = server.count
    assert sent > 0
    second = make_client(server, clock, tmp_path)
    r2 = (second.lookup_ids(ids), second.search_titles(titles))
    assert server.count == sent
    assert r1 == r2


def test_titles_are_or_ed_into_few_requests(server: FakeArxiv, clock: FakeClock) -> None:
    titles = [f"Study number {n} of sparse attention" for n in range(40)]
    results = make_client(server, clock, titles_per_query=20).search_titles(titles)
    assert server.count == 2
    query = server.requests[0].params["search_query"]
    assert query.count(" OR ") == 19 and query.startswith('ti:"study number 0 of sparse attention"')
    for n, t in enumerate(titles):
        assert results[t].status == "found"
        assert f"2204.{10000 + n}" in [e.arxiv_id for e in results[t].candidates]


def test_long_queries_are_posted(server: FakeArxiv, clock: FakeClock) -> None:
    titles = [f"Study number {n} of sparse attention" for n in range(30)]
    results = make_client(server, clock, titles_per_query=30, max_get_url=500).search_titles(titles)
    assert [r.method for r in server.requests] == ["POST"]
    assert all(r.status == "found" for r in results.values())


def test_empty_title_feed_is_retried_once(server: FakeArxiv, clock: FakeClock) -> None:
    server.faults.empty = 1
    results = make_client(server, clock).search_titles(["Study number 7 of sparse attention"])
    assert results["Study number 7 of sparse attention"].status == "found"
    assert server.count == 2


def test_title_not_on_arxiv(server: FakeArxiv, clock: FakeClock) -> None:
    results = make_client(server, clock).search_titles(["A book that never was on arXiv"])
    assert results["A book that never was on arXiv"].status == "not-found"
    assert server.count == 2  # the empty answer is asked once more


def test_cut_off_answers_send_missing_titles_alone(server: FakeArxiv, clock: FakeClock) -> None:
    # "sparse attention" matches all 260 papers; only 5 per page, 10 at most.
    titles = ["Study number 150 of sparse attention", "sparse attention"]
    client = make_client(server, clock, titles_per_query=5, title_page_size=5, max_title_results=10)
    results = client.search_titles(titles)
    assert "2204.10150" in [e.arxiv_id for e in results[titles[0]].candidates]
    alone = [r for r in server.requests if " OR " not in r.params["search_query"]]
    assert alone  # the cut-off batch was followed by single-title queries


def test_matches_runs() -> None:
    entry = parse_feed((FIXTURES / "arxivpy_id_1605.08386_s0_m100.xml").read_bytes()).entries[0]
    assert matches_runs(entry, title_runs("Heat-bath random walks"))
    assert not matches_runs(entry, title_runs("random heat-bath walks"))


def test_pacing_between_requests(server: FakeArxiv, clock: FakeClock) -> None:
    http = HttpClient(clock=clock)
    client = ArxivClient(http, api_url=server.url, delay=3.0, batch_size=10)
    client.lookup_ids([f"2204.{10000 + n}" for n in range(30)])
    assert server.count == 3
    assert clock.sleeps == [3.0, 3.0]


def test_from_env(server: FakeArxiv) -> None:
    http = HttpClient()
    local = ArxivClient.from_env(
        http, {"BIBTOOLS_ARXIV_API": server.url, "BIBTOOLS_ARXIV_DELAY": "0"}
    )
    assert local.api_url == server.url and http.policy_for("127.0.0.1").min_interval == 0
    real = ArxivClient.from_env(http, {"BIBTOOLS_ARXIV_DELAY": "0.5"})
    assert real.api_url == "https://export.arxiv.org/api/query"
    assert http.policy_for("export.arxiv.org").min_interval == 3.0
    assert http.policy_for("export.arxiv.org").expire_after == 24 * 3600
    assert http.policy_for("export.arxiv.org").timeout == (5.0, 30.0)
    with pytest.raises(UsageError, match="BIBTOOLS_ARXIV_DELAY"):
        ArxivClient.from_env(http, {"BIBTOOLS_ARXIV_DELAY": "soon"})
    with pytest.raises(UsageError):
        ArxivClient.from_env(http, {"BIBTOOLS_ARXIV_DELAY": "-1"})


def test_503_then_success_keeps_results(server: FakeArxiv, clock: FakeClock) -> None:
    server.faults.unavailable = 2
    results = make_client(server, clock, delay=3.0).lookup_ids(["2204.10001"])
    assert results["2204.10001"].status == "found"
    assert server.count == 3
    # Two backoffs (from 3 s, with jitter); pacing may add short waits between them.
    assert sum(1 for s in clock.sleeps if s >= 1.5) == 2


def test_host_policy_registered_for_the_api_host(server: FakeArxiv, clock: FakeClock) -> None:
    policy = make_client(server, clock, delay=3.0).http.policy_for("127.0.0.1")
    assert isinstance(policy, HostPolicy)
    assert policy.backoff_base == 3.0 and policy.expire_after == 24 * 3600
    # A loopback mirror asked for no delay is not made to wait on retries either.
    assert make_client(server, clock).http.policy_for("127.0.0.1").backoff_base == 0


# -- hostile answers (issue 13, item 2) -------------------------------------------

INJECTION = '}}@preamble{"\\input{/etc/hostname}"}@misc{p,note={'


def hostile_paper(**kwargs: object) -> Paper:
    fields: dict[str, object] = {
        "comment": "12 pages" + INJECTION + "\x85\x9b31m red",  # C1 controls: XML allows them
        "doi": "10.1000/x" + INJECTION,
        "primary": "cs.LG" + INJECTION,
        "journal_ref": "J. Foo 1 (2020)\x80" + INJECTION,
        **kwargs,
    }
    return Paper("2204.66666", "A Hostile Answer", ["Mallory Evil"], **fields)  # type: ignore[arg-type]


def test_a_hostile_entry_is_normalised_at_the_source(clock: FakeClock) -> None:
    with FakeArxiv([hostile_paper()]) as fake:
        entry = make_client(fake, clock).lookup_ids(["2204.66666"])["2204.66666"].entry
    assert entry is not None
    assert entry.doi == ""  # not a DOI: dropped, not passed on
    assert entry.primary_category == ""  # becomes primaryClass: a taxonomy code or nothing
    assert entry.categories == ()
    # Free text is kept (the writers escape it), as one line without control characters.
    assert entry.comment == "12 pages" + INJECTION + " 31m red"
    assert entry.journal_ref == "J. Foo 1 (2020) " + INJECTION


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("10.1103/PhysRevD.76.044016", "10.1103/PhysRevD.76.044016"),
        ("10.1103/PhysRevD.76.044016 10.1103/PhysRevD.77.1", "10.1103/PhysRevD.76.044016"),
        ("doi.org/x 10.1002/(SICI)1097-4636(199706)35:4<469::AID-JBM6>3.0.CO;2-D", None),
        ("10.1000/a}b", ""),
        ("10.1000/a\\input{x}", ""),
        ("see the journal", ""),
        ("10.1000/" + "x" * 400, ""),
    ],
)
def test_arxiv_doi_must_look_like_a_doi(raw: str, kept: str | None, clock: FakeClock) -> None:
    with FakeArxiv([hostile_paper(doi=raw)]) as fake:
        entry = make_client(fake, clock).lookup_ids(["2204.66666"])["2204.66666"].entry
    assert entry is not None
    assert entry.doi == (raw.split()[-1] if kept is None else kept)


def test_a_hostile_entry_cannot_inject_bibtex(clock: FakeClock) -> None:
    from bibtools.enrich import enrich
    from bibtools.formats import bibtex
    from bibtools.formats.bibtex_split import split

    record = Record(key="evil", title="A Hostile Answer", arxiv_id="2204.66666")
    with FakeArxiv([hostile_paper()]) as fake:
        client = make_client(fake, clock)
        result = enrich([record], http=client.http, arxiv=client, sources=("arxiv",))
    (enriched,) = result.records
    assert enriched.doi == "10.48550/arXiv.2204.66666"  # arXiv's own, not the hostile one
    assert enriched.arxiv_primary_class == ""
    out = bibtex.write([enriched], bibtex.WriteOptions()).text
    assert [type(b).__name__ for b in split(out)] == ["EntryBlock"]
    again = bibtex.read(out, bibtex.ReadOptions())
    assert [r.key for r in again.records] == ["evil"] and not again.diagnostics.errors


def test_from_env_refuses_an_api_url_that_is_not_http(server: FakeArxiv) -> None:
    for bad in ("ftp://x", "http://127.0.0.1:99999/api/query", "http://[::1/api", "/api/query"):
        with pytest.raises(UsageError, match="BIBTOOLS_ARXIV_API must be an http"):
            ArxivClient.from_env(HttpClient(), {"BIBTOOLS_ARXIV_API": bad})
