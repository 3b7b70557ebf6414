"""bibtools.enrich (and bibtools.text.matching) against the loopback arXiv.

The "Done when" of issue 3 without the CLI: a listing of 45 records with
truncated authors and no ids is completed in few requests with no decoy
accepted; ids cost one request per 100 records; 503/429/empty feeds change
nothing; a dead server leaves records as they were ("failed"); a second run
and an offline run make no request.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeClock
from fakes.arxiv_server import FakeArxiv, Paper
from hypothesis import given
from hypothesis import strategies as st

from bibtools.changes import Outcome
from bibtools.diagnostics import UsageError
from bibtools.enrich import (
    arxiv_name,
    choose_candidate,
    enrich,
)
from bibtools.http import HttpClient
from bibtools.model import CodeLink, Name, PartialDate, Record
from bibtools.sources.arxiv import ArxivClient, ArxivEntry
from bibtools.text.matching import (
    author_overlap,
    edit_distance,
    leading_authors_agree,
    normalize_title,
    title_contains,
    title_distance,
)
from bibtools.text.names import parse_plain_name

# -- a listing's worth of papers, and decoys ------------------------------------------

ADJECTIVES = ["Sparse", "Contrastive", "Federated", "Multilingual", "Causal"]
MODELS = ["Graph Transformers", "Mixture-of-Experts Models", "State Space Models"]
TASKS = ["Low-Resource Parsing", "Protein Folding", "Code Generation"]
PEOPLE = [
    "Åsa Lindström",
    "Noël Núñez",
    "Adrian Del Maestro",
    "Wei Zhang",
    "Yuanxin Liu",
    "Fandong Meng",
    "Zheng Lin",
    "Mary K. Smith",
    "Jean-Luc Picard-Smith",
    "Ludwig van Beethoven",
    "Priya Raghunathan",
    "Oluwaseun Adeyemi",
    "Chloé Dubois",
    "Søren Kierkegaard",
    "Hiroshi Tanaka",
    "Ana María García",
    "Dmitri Ivanov",
    "Fatima Zahra El Amrani",
    "Tobias Windisch",
    "Caprice Stanley",
    "Giulia Rossi",
    "Kwame Mensah",
    "Ingrid Bergman",
    "Rafael Nadal",
    "Lucía Fernández",
    "Mehmet Öztürk",
    "Anh Nguyen",
    "Siobhán O'Brien",
    "José Álvarez",
    "Björn Ulvaeus",
    "Zoë Kravitz",
    "Nikolai Rimsky",
]


def _authors(n: int) -> list[str]:
    rng = random.Random(n)
    return rng.sample(PEOPLE, 3 + n % 5)


def _listing_papers() -> list[Paper]:
    papers = []
    n = 0
    for adj in ADJECTIVES:
        for model in MODELS:
            for task in TASKS:
                papers.append(
                    Paper(
                        arxiv_id=f"2305.{11000 + n}",
                        title=f"{adj} {model} for {task}",
                        authors=_authors(n),
                        abstract=f"We study {adj.lower()} {model.lower()}. Code: https://github.com/lab{n}/repo{n}.",
                        primary="cs.CL" if n % 2 else "cs.LG",
                        categories=["cs.AI", "68T05"] if n % 3 == 0 else [],
                        published=f"2023-05-{1 + n % 28:02d}T12:00:00Z",
                        comment=f"{8 + n % 4} pages",
                        journal_ref=f"Proc. Conf. {n}" if n % 4 == 0 else "",
                        doi=f"10.1000/pub.{n}" if n % 5 == 0 else "",
                        version=1 + n % 3,
                    )
                )
                n += 1
    # A title with TeX accents on arXiv, Unicode in the listing.
    papers.append(
        Paper(
            "2306.00001",
            'Schr\\"odinger Bridges for Generative Modelling',
            ["Valentin De Bortoli", "James Thornton"],
        )
    )
    return papers


TRUE_PAPERS = _listing_papers()


def _decoys() -> list[Paper]:
    decoys = []
    for i, p in enumerate(TRUE_PAPERS[:12]):  # same title, other authors
        decoys.append(
            Paper(
                f"2401.{20000 + i}",
                p.title,
                ["Impostor Person", "Another Stranger"],
                primary="cs.CV",
            )
        )
    for i, p in enumerate(TRUE_PAPERS[12:18]):  # same authors, a title that contains ours
        decoys.append(Paper(f"2402.{20000 + i}", p.title + ": Part II", p.authors[:2]))
    for i, p in enumerate(TRUE_PAPERS[18:24]):  # other authors, a title that contains ours
        decoys.append(Paper(f"2403.{20000 + i}", "Revisiting " + p.title, ["Critic Reviewer"]))
    return decoys


DECOYS = _decoys()
DECOY_IDS = {d.arxiv_id for d in DECOYS}
# Decoys first: a client that matched by position would pick them.
CATALOGUE = DECOYS + TRUE_PAPERS
WITH_IDS = [
    Paper(f"2207.{30000 + n}", f"Indexed paper {n}", [f"Person{n} Surname{n}"]) for n in range(250)
]


def listing_records() -> list[Record]:
    """What the listing reader makes: first author(s), "et al.", no id, no DOI."""
    records = []
    for n, p in enumerate(TRUE_PAPERS):
        shown = p.authors[: 1 + n % 2]
        title = p.title.replace('Schr\\"odinger', "Schrödinger")
        authors = [parse_plain_name(a) for a in shown]
        if n % 7 == 3:  # an ASCII-folded spelling of the same person
            from anyascii import anyascii

            authors = [parse_plain_name(anyascii(a)) for a in shown]
        records.append(
            Record(
                type="article",
                key=f"rec{n:02d}",
                title=title.replace("Graph Transformers", "{Graph} Transformers"),
                authors=authors,
                authors_truncated=True,
                arxiv_primary_class=p.primary.split(".")[1] if n % 3 == 1 else "",
                origin_file="listing.txt",
                origin_line=3 * n + 1,
            )
        )
    return records


@pytest.fixture
def server() -> Iterator[FakeArxiv]:
    with FakeArxiv(CATALOGUE + WITH_IDS) as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def run(
    server: FakeArxiv, records: list[Record], cache: Path | None, clock: FakeClock, **kwargs: object
):
    http_kwargs = {k: kwargs.pop(k) for k in ("offline", "refresh") if k in kwargs}
    http = HttpClient(cache_dir=cache, clock=clock, rng=random.Random(7), **http_kwargs)  # type: ignore[arg-type]
    arxiv = ArxivClient(http, api_url=server.url, delay=3.0, timeout=(2.0, 2.0))
    try:
        return enrich(records, http=http, arxiv=arxiv, **kwargs)  # type: ignore[arg-type]
    finally:
        http.close()


# -- Done when: the listing ---------------------------------------------------------------


def test_listing_is_completed_in_few_requests_without_decoys(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    records = listing_records()
    before = copy.deepcopy(records)
    result = run(server, records, tmp_path, clock)
    assert len(records) >= 40
    assert records == before  # the input is not mutated
    assert [r.outcome for r in result.reports] == [Outcome.ENRICHED] * len(records)
    by_title = {p.title: p for p in TRUE_PAPERS}
    for record, paper in zip(result.records, TRUE_PAPERS, strict=True):
        assert record.arxiv_id == paper.arxiv_id and record.arxiv_id not in DECOY_IDS
        assert [a.display() for a in record.authors] == paper.authors
        assert not record.authors_truncated
        assert record.doi == (paper.doi or f"10.48550/arXiv.{paper.arxiv_id}")
        assert record.arxiv_primary_class == paper.primary
        assert record.arxiv_version == paper.version
        assert record.issued.iso() == paper.published[:10]
        assert record.url == f"https://arxiv.org/abs/{paper.arxiv_id}"
        assert record.pdf_url == f"https://arxiv.org/pdf/{paper.arxiv_id}"
        assert record.arxiv_comment == (paper.comment or "")
        assert record.journal_ref == (paper.journal_ref or "")
        assert record.title == records[TRUE_PAPERS.index(paper)].title  # never touched
        assert paper.title in by_title
    # One request per ten records or better (3 requests for 46 titles).
    assert server.count <= len(records) / 10
    assert result.requests_sent == server.count
    assert result.summary() == f"{len(records)} enriched; 3 requests, 0 from cache"


def test_records_with_ids_cost_one_request_per_100(server: FakeArxiv, clock: FakeClock) -> None:
    records = [
        Record(key=f"k{n}", title=p.title, arxiv_id=p.arxiv_id) for n, p in enumerate(WITH_IDS)
    ]
    records[0] = Record(key="url", url="https://arxiv.org/abs/2207.30000v1")
    records[1] = Record(key="doi", doi="10.48550/arXiv.2207.30001")
    records[2] = Record(key="journal", container_title="arXiv preprint arXiv:2207.30002")
    result = run(server, records, None, clock)
    assert server.count == 3  # 250 records
    assert all(r.outcome is Outcome.ENRICHED for r in result.reports)
    assert [r.arxiv_id for r in result.records[:3]] == ["2207.30000", "2207.30001", "2207.30002"]
    assert result.records[1].doi == "10.48550/arXiv.2207.30001"  # already there: no change
    assert not any(c.field == "doi" for c in result.reports[1].changes)


def test_faults_do_not_change_the_output(clock: FakeClock, tmp_path: Path) -> None:
    records = [*listing_records(), Record(key="byid", arxiv_id="2207.30005")]
    with FakeArxiv(CATALOGUE + WITH_IDS) as clean:
        expected = run(clean, records, tmp_path / "clean", clock)
    with FakeArxiv(CATALOGUE + WITH_IDS) as faulty:
        faulty.faults.retry_after = "11"
        # ids batch: two 503s; title batches: an empty feed, a 429, a truncated feed.
        faulty.faults.plan = [
            "unavailable",
            "unavailable",
            "",
            "empty",
            "",
            "rate_limited",
            "",
            "truncated",
        ]
        got = run(faulty, records, tmp_path / "faulty", clock)
        happened = [r.fault for r in faulty.requests if r.fault]
    assert happened == ["unavailable", "unavailable", "empty", "rate_limited", "truncated"]
    assert faulty.count == clean.count + len(happened)
    assert got.records == expected.records
    assert [r.outcome for r in got.reports] == [r.outcome for r in expected.reports]
    assert got.to_json()["records"] == expected.to_json()["records"]
    assert 11.0 in clock.sleeps  # Retry-After was honoured (by the fake clock)


def test_server_down_leaves_records_as_they_were(server: FakeArxiv, clock: FakeClock) -> None:
    records = [*listing_records(), Record(key="byid", arxiv_id="2207.30005")]
    with server.down() as url:
        http = HttpClient(clock=clock, rng=random.Random(1))
        result = enrich(records, http=http, arxiv=ArxivClient(http, api_url=url, delay=0))
    assert all(new is old for new, old in zip(result.records, records, strict=True))
    assert {r.outcome for r in result.reports} == {Outcome.FAILED}
    assert len(result.not_enriched) == len(records)
    assert all("unavailable" in r.message for r in result.reports)
    # One batch sat through the retries; the others failed at once.
    assert result.requests_sent == 5
    assert result.summary().startswith(f"0 enriched, {len(records)} failed;")
    assert len(result.diagnostics) == len(records)
    assert str(result.diagnostics[0]).startswith(
        "listing.txt:1: warning: rec00: not enriched (failed)"
    )


def test_second_run_with_the_same_cache_makes_no_request(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    records = [
        *listing_records(),
        Record(key="byid", arxiv_id="2207.30005"),
        Record(key="ghost", arxiv_id="2207.99999"),
        Record(key="book", title="A Book That Was Never on arXiv", authors=[Name(family="Writer")]),
    ]
    first = run(server, records, tmp_path, clock)
    sent = server.count
    second = run(server, records, tmp_path, clock)
    assert server.count == sent
    assert second.requests_sent == 0 and second.from_cache > 0
    assert second.records == first.records
    assert second.summary().endswith(
        f"; {second.from_cache} requests, {second.from_cache} from cache"
    )


def test_offline_with_an_empty_cache_makes_no_request(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    records = [*listing_records(), Record(key="byid", arxiv_id="2207.30005")]
    result = run(server, records, tmp_path, clock, offline=True)
    assert server.count == 0
    assert {r.outcome for r in result.reports} == {Outcome.SKIPPED_OFFLINE}
    assert result.records == records
    assert (
        result.summary()
        == f"0 enriched, {len(records)} skipped (offline); 0 requests, 0 from cache"
    )
    assert result.to_json()["summary"]["offline_misses"] > 0


def test_offline_after_an_online_run_enriches_everything(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    records = listing_records()
    online = run(server, records, tmp_path, clock)
    sent = server.count
    offline = run(server, records, tmp_path, clock, offline=True)
    assert server.count == sent
    assert offline.records == online.records


# -- the merge policy ---------------------------------------------------------------------


def entry(**kw: object) -> ArxivEntry:
    defaults: dict[str, object] = {
        "arxiv_id": "2204.12345",
        "version": 2,
        "title": "Learning to Win Lottery Tickets in {BERT} Transfer",
        "authors": (),
        "primary_category": "cs.CL",
        "categories": ("cs.CL", "cs.LG"),
        "published": "2022-04-24T17:59:46Z",
    }
    defaults.update(kw)
    from bibtools.sources.arxiv import ArxivAuthor

    names: list[str] = defaults.pop("names", ["Yuanxin Liu", "Fandong Meng", "Zheng Lin"])  # type: ignore[assignment]
    defaults["authors"] = tuple(ArxivAuthor(n) for n in names)
    return ArxivEntry(**defaults)  # type: ignore[arg-type]


def record(**kw: object) -> Record:
    defaults: dict[str, object] = {
        "key": "liu2022",
        "title": "Learning to Win Lottery Tickets in BERT Transfer",
        "authors": [Name(family="Liu", given="Yuanxin")],
        "authors_truncated": True,
    }
    defaults.update(kw)
    return Record(**defaults)  # type: ignore[arg-type]


def test_choose_accepts_title_and_author_match_only() -> None:
    good = entry()
    impostor = entry(arxiv_id="2204.99999", names=["Someone Else"])
    longer = entry(
        arxiv_id="2204.88888", title="Learning to Win Lottery Tickets in BERT Transfer Revisited"
    )
    chosen, why, ids = choose_candidate(record(), [impostor, longer, good])
    assert chosen is good and why == "" and ids == []


def test_choose_same_title_other_authors_is_ambiguous() -> None:
    chosen, why, ids = choose_candidate(
        record(), [entry(arxiv_id="2204.99999", names=["Someone Else"])]
    )
    assert chosen is None and ids == ["2204.99999"] and "other authors" in why


def test_choose_title_that_only_contains_ours_is_ambiguous() -> None:
    longer = entry(
        title="Learning to Win Lottery Tickets in BERT Transfer via Task-agnostic Mask Training"
    )
    chosen, why, ids = choose_candidate(record(), [longer])
    assert chosen is None and ids == ["2204.12345"] and "containing" in why


def test_choose_equally_good_candidates_is_ambiguous() -> None:
    twins = [entry(), entry(arxiv_id="2204.12346")]
    chosen, why, ids = choose_candidate(record(), twins)
    assert chosen is None and ids == ["2204.12345", "2204.12346"] and "equally" in why


def test_choose_prefers_the_exact_title() -> None:
    exact = entry()
    typo = entry(arxiv_id="2204.55555", title="Learning to Win Lotery Tickets in BERT Transfer")
    assert choose_candidate(record(), [typo, exact])[0] is exact
    assert choose_candidate(record(), [typo])[0] is typo  # a typo alone is still the paper


def test_choose_without_authors_cannot_confirm() -> None:
    chosen, why, _ = choose_candidate(record(authors=[]), [entry()])
    assert chosen is None and "no authors" in why


def test_listing_decoys_end_up_ambiguous_when_alone(clock: FakeClock) -> None:
    records = listing_records()[:24]
    with FakeArxiv(DECOYS) as only_decoys:
        result = run(only_decoys, records, None, clock)
    assert {r.outcome for r in result.reports} == {Outcome.AMBIGUOUS}
    assert all(r.candidates and set(r.candidates) <= DECOY_IDS for r in result.reports)
    assert result.records == records


def test_user_values_are_never_overwritten_silently(server: FakeArxiv, clock: FakeClock) -> None:
    paper = TRUE_PAPERS[0]
    mine = Record(
        key="mine",
        title=paper.title,
        authors=[parse_plain_name(paper.authors[0])],
        authors_truncated=True,
        doi="10.9999/my.own.doi",
        abstract="My own abstract.",
        arxiv_categories=["cs.XX"],
        issued=PartialDate(2020),
        url="https://publisher.example/paper",
        extra={"journal_ref": "My venue"},
    )
    result = run(server, [mine], None, clock)
    new = result.records[0]
    assert (new.doi, new.abstract, new.arxiv_categories, new.issued.iso()) == (
        "10.9999/my.own.doi",
        "My own abstract.",
        ["cs.XX"],
        "2020",
    )
    assert new.url == "https://publisher.example/paper" and new.extra["journal_ref"] == "My venue"
    refused = {c.field: c for c in result.reports[0].changes if not c.applied}
    assert refused["doi"].old == "10.9999/my.own.doi"
    assert refused["doi"].new == paper.doi == "10.1000/pub.0"  # arxiv:doi first
    assert set(refused) == {"doi", "arxiv_categories"}
    assert result.reports[0].outcome is Outcome.ENRICHED  # authors, id, ... were still added


def test_authors_are_replaced_only_when_the_first_ones_agree() -> None:
    from bibtools.enrich import merge_arxiv

    wrong_first = record(authors=[Name(family="Meng", given="Fandong")])
    new, changes = merge_arxiv(wrong_first, entry(), "k")
    assert new.authors == wrong_first.authors
    assert [c.applied for c in changes if c.field == "authors"] == [False]
    complete = record(
        authors=[parse_plain_name(n) for n in ("Yuanxin Liu", "Fandong Meng", "Zheng Lin")],
        authors_truncated=False,
    )
    new, changes = merge_arxiv(complete, entry(), "k")
    assert not any(c.field == "authors" for c in changes)
    truncated = record()
    new, changes = merge_arxiv(truncated, entry(), "k")
    [change] = [c for c in changes if c.field == "authors"]
    assert change.old == ["Yuanxin Liu", "others"]
    assert change.new == ["Yuanxin Liu", "Fandong Meng", "Zheng Lin"]


def test_published_doi_code_links_and_category_abbreviation() -> None:
    from bibtools.enrich import merge_arxiv

    e = entry(
        doi="10.18653/v1/2022.acl-long.1",
        summary="Our code is at https://github.com/llyx97/TAMT. See also (https://gitlab.com/a/b).",
        comment="ACL 2022; data at https://huggingface.co/datasets/org/data and https://example.org/x",
        journal_ref="ACL 2022",
    )
    existing = [CodeLink("https://github.com/llyx97/TAMT/tree/main", "listing")]
    new, changes = merge_arxiv(record(arxiv_primary_class="CL", code_links=existing), e, "k")
    assert new.doi == "10.18653/v1/2022.acl-long.1"
    assert new.arxiv_primary_class == "cs.CL"
    assert [c.url for c in new.code_links] == [
        "https://github.com/llyx97/TAMT/tree/main",
        "https://gitlab.com/a/b",
        "https://huggingface.co/datasets/org/data",
    ]
    assert [c.origin for c in new.code_links[1:]] == ["arXiv abstract", "arXiv comment"]
    assert (new.journal_ref, new.arxiv_comment, new.pdf_url) == (
        "ACL 2022",
        e.comment,
        "https://arxiv.org/pdf/2204.12345",
    )
    assert new.extra == {}
    assert new.arxiv_version == 2 and new.arxiv_categories == ["cs.CL", "cs.LG"]
    assert {c.field for c in changes} >= {
        "doi",
        "code_links",
        "arxiv_primary_class",
        "abstract",
        "issued",
    }


def test_nothing_new_is_unchanged_and_the_same_object(server: FakeArxiv, clock: FakeClock) -> None:
    records = [Record(key="k", title="x", arxiv_id="2207.30001")]
    first = run(server, records, None, clock).records
    again = run(server, first, None, clock)
    assert again.reports[0].outcome is Outcome.UNCHANGED
    assert again.records[0] is first[0]
    assert again.reports[0].changes == []


def test_arxiv_names() -> None:
    assert arxiv_name("H1 Collaboration").literal == "H1 Collaboration"
    assert arxiv_name("Adrian Del Maestro").display() == "Adrian Del Maestro"
    assert arxiv_name('J. M\\"uller').family == "Müller"


def test_report_json_progress_and_summary(server: FakeArxiv, clock: FakeClock) -> None:
    records = [*listing_records()[:5], Record(key="empty")]
    calls: list[tuple[int, int, str]] = []
    result = run(server, records, None, clock, progress=lambda d, t, s: calls.append((d, t, s)))
    assert calls[0] == (0, 6, "enriching") and calls[-1][:2] == (6, 6)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    doc = json.loads(json.dumps(result.to_json()))
    assert doc["summary"]["enriched"] == 5 and doc["summary"]["not-found"] == 1
    assert doc["records"][5] | {"changes": []} == doc["records"][5]
    assert doc["records"][5]["outcome"] == "not-found"
    change = doc["changes"][0]
    assert set(change) >= {"record", "field", "old", "new", "source", "applied"}
    assert change["record"] == "rec00" and change["source"] == "arxiv"
    assert result.summary() == "5 enriched, 1 not found; 1 request, 0 from cache"


def test_enrich_reads_the_environment(server: FakeArxiv, tmp_path: Path) -> None:
    env = {
        "BIBTOOLS_ARXIV_API": server.url,
        "BIBTOOLS_ARXIV_DELAY": "0",
        "BIBTOOLS_CACHE_DIR": str(tmp_path),
    }
    result = enrich([Record(key="k", arxiv_id="2207.30001")], env=env)
    assert result.reports[0].outcome is Outcome.ENRICHED
    assert (tmp_path / "http-cache.sqlite").exists()
    with pytest.raises(UsageError, match="unknown source"):
        enrich([], sources=["nope"], env=env)


def test_cache_warnings_reach_the_result(
    server: FakeArxiv, clock: FakeClock, tmp_path: Path
) -> None:
    (tmp_path / "http-cache.sqlite").write_bytes(b"garbage" * 500)
    result = run(server, [Record(key="k", arxiv_id="2207.30001")], tmp_path, clock)
    assert result.reports[0].outcome is Outcome.ENRICHED
    assert len(result.warnings) == 1 and "without a cache" in result.warnings[0]
    assert any("without a cache" in str(d) for d in result.diagnostics)


# -- matching -------------------------------------------------------------------------------


def test_normalize_title() -> None:
    assert (
        normalize_title("The {BERT} Model:\nNaïve--Bayes, \\emph{Revisited}!")
        == "the bert model naive bayes revisited"
    )
    assert normalize_title('Na\\"ive  Bayes', latex=True) == "naive bayes"
    assert normalize_title("Schrödinger") == normalize_title('Schr\\"odinger', latex=True)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Attention Is All You Need", "attention is all you need.", True),
        ("Self-Supervised Learning of Speech", "Selfsupervised learning of speech", True),
        ("Learning to Rank with Graphs", "Learning to Rank with Graph", True),
        ("Deep Learning: Part I", "Deep Learning: Part II", False),
        ("Scaling laws for GPT-3 models", "Scaling laws for GPT-4 models", False),
        ("Attention is not all you need", "Attention is all you need", False),
        ("Short title", "Short titles", False),  # too short for any typo
        ("Graph neural networks", "Graph neural networks for molecules", False),
    ],
)
def test_title_distance(a: str, b: str, same: bool) -> None:
    assert (title_distance(normalize_title(a), normalize_title(b)) is not None) is same


def test_title_contains() -> None:
    assert title_contains("graph neural networks", "revisiting graph neural networks today")
    assert not title_contains("graph neural networks", "graph neural networks")
    assert not title_contains("graph networks", "graph neural networks")


def test_authors_overlap_by_family_name() -> None:
    theirs = [
        arxiv_name(n)
        for n in ("Adrian Del Maestro", "Åsa Lindström", "Wei Zhang", "H1 Collaboration")
    ]
    assert author_overlap([Name(family="Del Maestro", given="A.")], theirs) == 1
    assert author_overlap([Name(family="Lindstrom", given="Asa")], theirs) == 1
    assert (
        author_overlap([Name(family="Wei", given="Zhang")], theirs) == 1
    )  # order read the other way
    assert author_overlap([Name(literal="H1 Collaboration")], theirs) == 1
    assert author_overlap([Name(family="Smith", given="Wei")], theirs) == 0
    assert leading_authors_agree([Name(family="Maestro", particle="del")], theirs)
    assert not leading_authors_agree([Name(family="Lindström")], theirs)
    assert not leading_authors_agree(theirs + theirs, theirs)


def _reference_distance(a: str, b: str) -> int:
    rows = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            rows[i][j] = min(
                rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
    return rows[-1][-1]


@given(st.text("abc ", max_size=12), st.text("abc ", max_size=12), st.integers(0, 4))
def test_edit_distance_matches_reference(a: str, b: str, limit: int) -> None:
    exact = _reference_distance(a, b)
    assert edit_distance(a, b) == exact == edit_distance(b, a)
    assert edit_distance(a, b, limit) == (exact if exact <= limit else limit + 1)


@given(st.text(min_size=1, max_size=60))
def test_a_title_always_matches_itself(text: str) -> None:
    norm = normalize_title(text)
    assert title_distance(norm, norm) == (0 if norm else None)
    assert normalize_title(norm) == norm


def test_a_listing_guess_of_the_archive_is_completed_but_a_chosen_category_is_kept() -> None:
    """A listing's "ST" is read as q-fin.ST (the first archive with that code);
    arXiv's math.ST completes the guess. A category the record chose itself
    (not an ambiguous guess, or from a BibTeX file) is never replaced."""
    from bibtools.enrich import merge_arxiv
    from bibtools.formats.listing import AMBIGUOUS_CODES
    from bibtools.model import Source

    assert "ST" in AMBIGUOUS_CODES and "CL" not in AMBIGUOUS_CODES
    math = entry(primary_category="math.ST", categories=("math.ST", "stat.TH"))
    new, changes = merge_arxiv(record(arxiv_primary_class="q-fin.ST"), math, "k")
    assert new.arxiv_primary_class == "math.ST"
    assert any(c.field == "arxiv_primary_class" and c.applied for c in changes)

    kept, _ = merge_arxiv(record(arxiv_primary_class="stat.ME"), math, "k")
    assert kept.arxiv_primary_class == "stat.ME"
    written = record(
        arxiv_primary_class="q-fin.ST",
        source=Source(entry_type="misc", key="k", fields=(), read_as={}),
    )
    from_bib, _ = merge_arxiv(written, math, "k")
    assert from_bib.arxiv_primary_class == "q-fin.ST"
