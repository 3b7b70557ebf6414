"""bibtools enrich --sources published: preprint -> version of record, against loopback S2, DBLP and Crossref.

The "Done when" of issue 7 (preprint part): on a corpus of preprints with
known published versions and decoys, every published version is found with
at most one batch request per 500 preprints plus one request per preprint
the batch left unresolved, and no decoy is applied.  Then the faults (null
batch entries, DBLP's CoRR duplicates, 429 with an HTML body, 5xx, a
maintenance page), the cache, offline mode, secrets, pacing, the merge and
the CLI.  Time is a :class:`fakes.FakeClock`: nothing sleeps.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes import FakeClock
from fakes.crossref_server import CrossrefEntry, FakeCrossref
from fakes.dblp_server import CONFERENCE, JOURNAL, DblpEntry, FakeDblp, corr_copy
from fakes.s2_server import FakeS2, S2Entry, arxiv_only
from hypothesis import given
from hypothesis import strategies as st

from bibtools.changes import Outcome
from bibtools.cli import main
from bibtools.convert import dumps
from bibtools.enrich import SOURCES, enrich
from bibtools.http import HttpClient
from bibtools.model import Name, PartialDate, Record
from bibtools.preprint import is_preprint
from bibtools.published import (
    PublishedResolver,
    Version,
    is_computer_science,
    merge_published,
    parse_journal_ref,
)
from bibtools.sources.crossref import CrossrefClient
from bibtools.sources.dblp import DblpClient, parse_record_xml, parse_search
from bibtools.sources.semanticscholar import SemanticScholarClient
from bibtools.text.names import parse_plain_name

# --------------------------------------------------------------------------
# The corpus: 18 kinds of record, repeated with fresh ids and titles

ADJECTIVES = ["Sparse", "Robust", "Causal", "Federated", "Spectral", "Latent", "Adaptive"]
NOUNS = ["Graph Networks", "Diffusion Models", "Transformers", "Kernels", "Policies"]
TASKS = ["Parsing", "Protein Design", "Retrieval", "Control"]
PEOPLE = [
    "Åsa Lindström",
    "Noël Núñez",
    "Adrian Del Maestro",
    "Wei Zhang",
    "Priya Raghunathan",
    "Oluwaseun Adeyemi",
    "Chloé Dubois",
    "Hiroshi Tanaka",
    "Ana María García",
    "Dmitri Ivanov",
    "Giulia Rossi",
    "Kwame Mensah",
    "Mehmet Öztürk",
    "Siobhán O'Brien",
    "Ludwig van Beethoven",
]
KINDS = 18
STRANGERS = ["Impostor Person", "Another Stranger"]


@dataclass
class Expected:
    verdict: str  # "found", "preprint-only", "ambiguous", "not-a-preprint"
    source: str = ""
    candidate: str = ""  # Evidence.candidate of the applied version
    fields: dict[str, object] = field(default_factory=dict)  # record fields after the merge
    decoys: tuple[str, ...] = ()  # values that must never appear in the record


@dataclass
class Corpus:
    records: list[Record] = field(default_factory=list)
    s2: list[S2Entry] = field(default_factory=list)
    dblp: list[DblpEntry] = field(default_factory=list)
    crossref: list[CrossrefEntry] = field(default_factory=list)
    expect: dict[str, Expected] = field(default_factory=dict)

    def count(self, verdict: str) -> int:
        return sum(1 for e in self.expect.values() if e.verdict == verdict)


def _title(n: int) -> str:
    return f"{ADJECTIVES[n % 7]} {NOUNS[(n // 7) % 5]} for {TASKS[(n // 35) % 4]}: Benchmark {n}"


def _people(n: int) -> list[str]:
    rng = random.Random(n)
    return rng.sample(PEOPLE, 3)


def _record(n: int, arxiv_id: str, title: str, authors: list[str], **kwargs: object) -> Record:
    fields: dict[str, object] = {
        "type": "article",
        "key": f"p{n:04d}",
        "title": title,
        "authors": [parse_plain_name(authors[0])],
        "authors_truncated": True,
        "arxiv_id": arxiv_id,
        "arxiv_primary_class": "cs.LG",
        "issued": PartialDate(2021, 6, 1 + n % 28),
        "doi": f"10.48550/arXiv.{arxiv_id}" if arxiv_id else "",
        "origin_file": "refs.bib",
        "origin_line": 1 + 10 * n,
    }
    fields.update(kwargs)
    return Record(**fields)  # type: ignore[arg-type]


def build_corpus(blocks: int) -> Corpus:
    """``blocks`` x 18 records; every kind's expectation in ``Corpus.expect``."""
    c = Corpus()
    for n in range(blocks * KINDS):
        _add(c, n)
    return c


def _add(c: Corpus, n: int) -> None:
    kind = n % KINDS
    a = f"21{n % 12 + 1:02d}.{10000 + n:05d}"
    t = _title(n)
    people = _people(n)
    key = f"p{n:04d}"
    corr = corr_copy(a, t, people, 2021)
    if kind == 0:  # S2 merged the preprint with a conference paper
        doi = f"10.1145/3534678.{n}"
        c.s2.append(
            S2Entry(
                t,
                people,
                arxiv_id=a,
                doi=doi,
                dblp=f"conf/kdd/X{n}",
                venue="Knowledge Discovery and Data Mining",
                venue_type="conference",
                journal={
                    "name": "Proceedings of the 28th ACM SIGKDD Conference",
                    "pages": "100 - 110",
                },
                publication_types=["JournalArticle", "Conference"],
                year=2022,
            )
        )
        c.records.append(_record(n, a, t, people))
        c.expect[key] = Expected(
            "found",
            "semanticscholar",
            f"doi:{doi}",
            {
                "type": "paper-conference",
                "container_title": "Knowledge Discovery and Data Mining",
                "pages": "100-110",
                "doi": doi,
                "arxiv_id": a,
                "issued": PartialDate(2022),
            },
        )
    elif kind == 1:  # ... with a journal article
        doi = f"10.1038/s41586-021-{n:05d}-2"
        c.s2.append(
            S2Entry(
                t,
                people,
                arxiv_id=a,
                doi=doi,
                venue="Nature",
                venue_type="journal",
                journal={"name": "Nature", "volume": "596", "pages": "583 - 589"},
                publication_types=["JournalArticle"],
                year=2022,
            )
        )
        c.records.append(_record(n, a, t, people))
        c.expect[key] = Expected(
            "found",
            "semanticscholar",
            f"doi:{doi}",
            {"type": "article-journal", "container_title": "Nature", "volume": "596"},
        )
    elif kind == 2:  # S2's quirk: journal "ArXiv" abs/..., the type only in publicationTypes
        c.s2.append(
            S2Entry(
                t,
                people,
                arxiv_id=a,
                dblp=f"journals/corr/abs-{a.replace('.', '-')}",
                venue="International Conference on Machine Learning",
                journal={"name": "ArXiv", "volume": f"abs/{a}"},
                publication_types=["Conference"],
                year=2022,
            )
        )
        # A DBLP export of the CoRR copy: @article{journal=CoRR, volume=abs/...}.
        c.records.append(
            _record(
                n, a, t, people, type="article-journal", container_title="CoRR", volume=f"abs/{a}"
            )
        )
        c.expect[key] = Expected(
            "found",
            "semanticscholar",
            "",
            {
                "type": "paper-conference",
                "container_title": "International Conference on Machine Learning",
                "volume": "",
                "source_type": "inproceedings",
            },
        )
    elif kind == 3:  # S2 has a null entry; DBLP has the paper and its CoRR duplicate
        doi = f"10.18653/v1/2022.acl-long.{n}"
        published = DblpEntry(
            f"conf/acl/X{n}", t, people, "ACL (1)", 2022, CONFERENCE, pages="1-10", doi=doi
        )
        c.dblp += [corr, published] if n % 2 else [published, corr]
        c.records.append(_record(n, a, t, people, arxiv_primary_class="cs.CL"))
        c.expect[key] = Expected(
            "found",
            "dblp",
            f"dblp:conf/acl/X{n}",
            {"container_title": "ACL (1)", "pages": "1-10", "doi": doi},
        )
    elif kind == 4:  # S2 knows only the preprint (lag); DBLP has the journal version
        c.s2.append(arxiv_only(a, t, people, 2021))
        c.dblp += [
            corr,
            DblpEntry(
                f"journals/jmlr/X{n}",
                t,
                [f"{p} 0002" if i == 1 else p for i, p in enumerate(people)],
                "J. Mach. Learn. Res.",
                2023,
                JOURNAL,
                volume="24",
                number="3",
                pages="1-30",
            ),
        ]
        c.records.append(_record(n, a, t, people))
        c.expect[key] = Expected(
            "found",
            "dblp",
            f"dblp:journals/jmlr/X{n}",
            {
                "type": "article-journal",
                "container_title": "J. Mach. Learn. Res.",
                "volume": "24",
                "issue": "3",
                "doi": "",  # arXiv's DOI goes only when the version has its own
            },
        )
        c.expect[key].fields.pop("doi")
    elif kind == 5:  # not computer science, S2 null: Crossref, with a preprint and a decoy
        doi = f"10.1103/PhysRevD.105.{n:06d}"
        family = [(p.rsplit(" ", 1)[0], p.rsplit(" ", 1)[1]) for p in people]
        c.crossref += [
            CrossrefEntry(f"10.21203/rs.3.rs-{n}/v1", "posted-content", t, family, [], 2021),
            CrossrefEntry(
                f"10.1007/decoy.{n}",
                "journal-article",
                "Revisiting " + t,
                [("Critic", "Reviewer")],
                ["Foundations of Physics"],
                2023,
            ),
            CrossrefEntry(
                doi,
                "journal-article",
                t,
                family,
                ["Physical Review D"],
                2022,
                2,
                page="045001",
                volume="105",
                issue="4",
                publisher="American Physical Society (APS)",
            ),
        ]
        c.records.append(_record(n, a, t, people, arxiv_primary_class="hep-th"))
        c.expect[key] = Expected(
            "found",
            "crossref",
            f"doi:{doi}",
            {
                "container_title": "Physical Review D",
                "publisher": "American Physical Society (APS)",
                "issue": "4",
                "pages": "045001",
                "issued": PartialDate(2022, 2),
            },
            decoys=(f"10.1007/decoy.{n}", f"10.21203/rs.3.rs-{n}/v1"),
        )
    elif kind == 6:  # the authors' journal_ref and DOI: no request at all
        doi = f"10.1103/PhysRevLett.128.{n:06d}"
        c.s2.append(arxiv_only(a, t, people, 2021))  # never asked
        c.records.append(
            _record(
                n,
                a,
                t,
                people,
                arxiv_primary_class="quant-ph",
                journal_ref=f"Phys. Rev. Lett. 128, {n:06d} (2022)",
                doi=doi,
            )
        )
        c.expect[key] = Expected(
            "found",
            "arxiv",
            "journal_ref",
            {
                "container_title": "Phys. Rev. Lett.",
                "volume": "128",
                "pages": f"{n:06d}",
                "doi": doi,
                "journal_ref": f"Phys. Rev. Lett. 128, {n:06d} (2022)",
            },
        )
    elif kind == 7:  # S2 names no venue but a DBLP key: DBLP's record, no search
        c.s2.append(S2Entry(t, people, arxiv_id=a, dblp=f"conf/iclr/X{n}", year=2022))
        c.dblp.append(DblpEntry(f"conf/iclr/X{n}", t, people, "ICLR", 2022, CONFERENCE))
        c.records.append(_record(n, a, t, people))
        c.expect[key] = Expected(
            "found", "dblp", f"dblp:conf/iclr/X{n}", {"container_title": "ICLR"}
        )
    elif kind == 8:  # the record has the publisher's DOI, S2 null: Crossref by DOI
        doi = f"10.1016/j.neuron.2022.{n:05d}"
        family = [(p.rsplit(" ", 1)[0], p.rsplit(" ", 1)[1]) for p in people]
        c.crossref.append(
            CrossrefEntry(doi.upper(), "journal-article", t, family, ["Neuron"], 2022, page="12-20")
        )
        c.records.append(_record(n, a, t, people, arxiv_primary_class="q-bio.NC", doi=doi))
        c.expect[key] = Expected(
            "found", "crossref", f"doi:{doi.upper()}", {"container_title": "Neuron", "doi": doi}
        )
    elif kind == 9:  # S2 names no venue but a DOI: Crossref by DOI (an LNCS chapter)
        doi = f"10.1007/978-3-031-{n:05d}-5_1"
        family = [(p.rsplit(" ", 1)[0], p.rsplit(" ", 1)[1]) for p in people]
        c.s2.append(S2Entry(t, people, arxiv_id=a, doi=doi, year=2022))
        c.crossref.append(
            CrossrefEntry(
                doi,
                "book-chapter",
                t,
                family,
                ["Lecture Notes in Computer Science", "Computer Vision – ECCV 2022"],
                2022,
                page="1-17",
                publisher="Springer Nature Switzerland",
            )
        )
        c.records.append(_record(n, a, t, people, arxiv_primary_class="cs.CV"))
        c.expect[key] = Expected(
            "found",
            "crossref",
            f"doi:{doi}",
            {
                "type": "paper-conference",
                "container_title": "Computer Vision – ECCV 2022",
                "collection_title": "Lecture Notes in Computer Science",
                "publisher": "Springer Nature Switzerland",
            },
        )
    elif kind == 10:  # not published: S2 and DBLP know only the preprint
        c.s2.append(arxiv_only(a, t, people, 2021))
        c.dblp.append(corr)
        c.records.append(_record(n, a, t, people, arxiv_primary_class="cs.AI"))
        c.expect[key] = Expected("preprint-only")
    elif kind == 11:  # decoy: DBLP has our title by other people (and our CoRR copy)
        c.s2.append(arxiv_only(a, t, people, 2021))
        c.dblp += [DblpEntry(f"conf/aaai/Decoy{n}", t, STRANGERS, "AAAI", 2022), corr]
        c.records.append(_record(n, a, t, people))
        c.expect[key] = Expected("preprint-only", decoys=("AAAI",))
    elif kind == 12:  # a conference paper and its journal extension: ambiguous
        c.dblp += [
            DblpEntry(f"conf/icml/X{n}", t, people, "ICML", 2022),
            DblpEntry(f"journals/tmlr/X{n}", t, people, "Trans. Mach. Learn. Res.", 2023, JOURNAL),
            corr,
        ]
        c.records.append(_record(n, a, t, people))
        c.expect[key] = Expected("ambiguous", decoys=("ICML", "Trans. Mach. Learn. Res."))
    elif kind == 13:  # decoy: S2 merged our id with somebody else's paper
        c.s2.append(
            S2Entry(
                t,
                STRANGERS,
                arxiv_id=a,
                doi=f"10.1109/cvpr.{n}",
                venue="Computer Vision and Pattern Recognition",
                venue_type="conference",
                year=2022,
            )
        )
        c.dblp.append(corr)
        c.records.append(_record(n, a, t, people))
        c.expect[key] = Expected("preprint-only", decoys=(f"10.1109/cvpr.{n}",))
    elif kind == 14:  # decoy: S2's merged version has another title; nobody else knows
        c.s2.append(
            S2Entry(
                f"Entirely Different Findings on Magnetism {n}",
                people,
                arxiv_id=a,
                venue="Physical Review B",
                venue_type="journal",
                journal={"name": "Physical Review B", "volume": "9"},
                year=2022,
            )
        )
        c.records.append(_record(n, a, t, people, arxiv_primary_class="cond-mat.str-el"))
        c.expect[key] = Expected("ambiguous", decoys=("Physical Review B",))
    elif kind == 15:  # S2's DOI contradicts the record's: Crossref confirms the record's
        doi = f"10.1103/PhysRevB.{n:06d}"
        family = [(p.rsplit(" ", 1)[0], p.rsplit(" ", 1)[1]) for p in people]
        c.s2.append(
            S2Entry(
                t,
                people,
                arxiv_id=a,
                doi=f"10.9999/decoy.{n}",
                venue="Decoy Letters",
                venue_type="journal",
                journal={"name": "Decoy Letters", "volume": "1"},
                year=2022,
            )
        )
        c.crossref.append(
            CrossrefEntry(doi, "journal-article", t, family, ["Physical Review B"], 2022)
        )
        c.records.append(_record(n, a, t, people, arxiv_primary_class="cond-mat", doi=doi))
        c.expect[key] = Expected(
            "found",
            "crossref",
            f"doi:{doi}",
            {"container_title": "Physical Review B"},
            decoys=(f"10.9999/decoy.{n}", "Decoy Letters"),
        )
    elif kind == 16:  # a listing's record: no arXiv id, class "CL": DBLP by title
        c.dblp += [corr, DblpEntry(f"conf/emnlp/X{n}", t, people, "EMNLP", 2022)]
        c.records.append(
            _record(n, "", t, people, arxiv_primary_class="CL", issued=PartialDate(2021))
        )
        c.expect[key] = Expected(
            "found", "dblp", f"dblp:conf/emnlp/X{n}", {"container_title": "EMNLP"}
        )
    else:  # already published: untouched, nothing asked
        c.records.append(
            _record(n, "", t, people, type="paper-conference", container_title="ICML", doi="")
        )
        c.expect[key] = Expected("not-a-preprint", fields={"container_title": "ICML"})


# Requests the corpus needs, per block of 18: S2 ids (all but kinds 6, 16, 17)
# and one request for each record the batch leaves unresolved.
S2_IDS_PER_BLOCK = 15
UNRESOLVED_PER_BLOCK = 13  # kinds 3-5 and 7-16


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class Apis:
    s2: FakeS2
    dblp: FakeDblp
    crossref: FakeCrossref

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "BIBTOOLS_S2_API": self.s2.url,
            "BIBTOOLS_DBLP_API": self.dblp.url,
            "BIBTOOLS_CROSSREF_API": self.crossref.url,
            **extra,
        }

    @property
    def total(self) -> int:
        return self.s2.count() + self.dblp.count() + self.crossref.count()

    def reset(self) -> None:
        for api in (self.s2, self.dblp, self.crossref):
            api.reset_log()


@pytest.fixture
def apis_for() -> Iterator[object]:
    started: list[Apis] = []

    def start(corpus: Corpus) -> Apis:
        apis = Apis(FakeS2(corpus.s2), FakeDblp(corpus.dblp), FakeCrossref(corpus.crossref))
        for api in (apis.s2, apis.dblp, apis.crossref):
            api.start()
        started.append(apis)
        return apis

    yield start
    for apis in started:
        for api in (apis.s2, apis.dblp, apis.crossref):
            api.stop()


def run(
    records: list[Record],
    apis: Apis,
    clock: FakeClock,
    cache: Path | None = None,
    env: dict[str, str] | None = None,
    **http_kwargs: object,
):
    http = HttpClient(cache_dir=cache, clock=clock, rng=random.Random(3), **http_kwargs)  # type: ignore[arg-type]
    try:
        return enrich(records, http=http, sources=["published"], env=env or apis.env())
    finally:
        http.close()


# --------------------------------------------------------------------------
# Done when


@pytest.mark.slow
def test_corpus_every_published_version_found_no_decoy_within_the_request_bound(
    apis_for, clock: FakeClock
) -> None:
    blocks = 40  # 720 records, 600 of them in the S2 batch: two POSTs
    corpus = build_corpus(blocks)
    apis = apis_for(corpus)
    result = run(corpus.records, apis, clock)

    n = len(corpus.records)
    s2_ids = S2_IDS_PER_BLOCK * blocks
    unresolved = UNRESOLVED_PER_BLOCK * blocks
    assert apis.s2.batches == math.ceil(s2_ids / 500) == 2
    assert all(len(ids) <= 500 for ids in apis.s2.ids_asked())
    assert apis.dblp.count() + apis.crossref.count() == unresolved
    assert apis.total == math.ceil(s2_ids / 500) + unresolved
    assert apis.total <= math.ceil(n / 500) + unresolved
    assert result.requests_sent == apis.total
    assert clock.slept == 0  # loopback APIs are not paced

    for report, record, original in zip(
        result.reports, result.records, corpus.records, strict=True
    ):
        expected = corpus.expect[report.key]
        verdict = report.outcomes["published"]
        if expected.verdict == "found":
            assert verdict is Outcome.ENRICHED, (report.key, report.message)
            evidence = report.evidence[0]
            assert evidence["accepted"] and evidence["source"] == expected.source, report.key
            if expected.candidate:
                assert evidence["candidate"] == expected.candidate, report.key
            assert record.type in ("paper-conference", "article-journal")
            # The arXiv fields stay.
            assert record.arxiv_id == original.arxiv_id
            assert record.arxiv_primary_class == original.arxiv_primary_class
            assert record.title == original.title and record.authors == original.authors
        elif expected.verdict == "preprint-only":
            assert verdict is Outcome.UNCHANGED, (report.key, report.message)
            assert record is original and "preprint only" in report.message
        elif expected.verdict == "ambiguous":
            assert verdict is Outcome.AMBIGUOUS, (report.key, report.message)
            assert record is original and report.candidates and report.evidence
            assert not any(e["accepted"] for e in report.evidence if "Physical" in e["venue"])
        else:
            assert verdict is Outcome.UNCHANGED and record is original and not report.changes
        for name, value in expected.fields.items():
            assert getattr(record, name) == value, (report.key, name)
        shown = json.dumps(record.populated(), default=str)
        for decoy in expected.decoys:
            assert decoy not in shown, (report.key, decoy)

    counts = result.counts()
    assert counts[Outcome.ENRICHED] == corpus.count("found") == 12 * blocks
    assert counts[Outcome.AMBIGUOUS] == corpus.count("ambiguous") == 2 * blocks
    # The journal_ref kind was never sent anywhere.
    asked = {i for ids in apis.s2.ids_asked() for i in ids}
    assert not any(f"ARXIV:{r.arxiv_id}" in asked for r in corpus.records if r.journal_ref)


def test_the_resolver_counts_each_preprints_own_requests(apis_for, clock: FakeClock) -> None:
    corpus = build_corpus(1)
    apis = apis_for(corpus)
    twice = [*corpus.records, corpus.records[3].copy(key="again")]
    resolver = PublishedResolver.from_env(HttpClient(clock=clock), apis.env())
    verdicts = resolver.resolve(twice)
    per_record = [v.requests for v in verdicts]
    assert sum(per_record) == apis.dblp.count() + apis.crossref.count() == UNRESOLVED_PER_BLOCK
    assert per_record[:3] == [0, 0, 0] and per_record[3] == 1
    assert per_record[-1] == 0  # the same paper again: the first record's answer is reused
    assert verdicts[-1].verdict == "found" and verdicts[17].verdict == "not-a-preprint"


def test_ambiguous_report_names_both_versions(apis_for, clock: FakeClock) -> None:
    corpus = build_corpus(1)
    apis = apis_for(corpus)
    result = run(corpus.records, apis, clock)
    report = next(r for r in result.reports if r.key == "p0012")
    assert report.outcome is Outcome.AMBIGUOUS
    assert report.candidates == ["dblp:conf/icml/X12", "dblp:journals/tmlr/X12"]
    assert "2 published versions match equally" in report.message
    doc = result.to_json()["records"][12]
    assert [e["candidate"] for e in doc["evidence"]] == report.candidates
    # Refused near misses are evidence too, with the reason.
    retitled = result.to_json()["records"][14]
    assert retitled["outcome"] == "ambiguous"
    assert retitled["evidence"][0]["note"] == (
        'another title: "Entirely Different Findings on Magnetism 14"'
    )
    assert retitled["evidence"][0]["source"] == "semanticscholar"


def test_second_run_is_answered_from_the_cache_and_offline_makes_no_request(
    apis_for, clock: FakeClock, tmp_path: Path
) -> None:
    corpus = build_corpus(2)
    apis = apis_for(corpus)
    first = run(corpus.records, apis, clock, tmp_path)
    sent = apis.total
    assert sent == 1 + 2 * UNRESOLVED_PER_BLOCK  # one batch of 30 ids
    apis.reset()
    second = run(corpus.records, apis, clock, tmp_path)
    assert apis.total == 0 and second.requests_sent == 0 and second.from_cache == sent
    assert [r.outcome for r in second.reports] == [r.outcome for r in first.reports]
    assert second.records == first.records
    offline = run(corpus.records, apis, clock, tmp_path, offline=True)
    assert apis.total == 0
    assert offline.records == first.records


def test_offline_without_cache_skips(apis_for, clock: FakeClock, tmp_path: Path) -> None:
    corpus = build_corpus(1)
    apis = apis_for(corpus)
    result = run(corpus.records[:2], apis, clock, tmp_path, offline=True)
    assert apis.total == 0
    assert [r.outcome for r in result.reports] == [Outcome.SKIPPED_OFFLINE] * 2


def test_duplicate_records_share_their_requests(apis_for, clock: FakeClock) -> None:
    corpus = build_corpus(1)
    apis = apis_for(corpus)
    twice = [corpus.records[3], corpus.records[3].copy(key="again"), corpus.records[0]]
    result = run(twice, apis, clock)
    assert [r.outcome for r in result.reports] == [Outcome.ENRICHED] * 3
    assert apis.s2.batches == 1 and apis.s2.ids_asked()[0] == sorted(
        {f"ARXIV:{r.arxiv_id}" for r in twice}
    )
    assert apis.dblp.searches == 1


# --------------------------------------------------------------------------
# Faults


def _one_of_each(corpus: Corpus, *kinds: int) -> list[Record]:
    return [corpus.records[k] for k in kinds]


def test_dblp_429_with_html_body_is_retried_after_the_wait(apis_for, clock: FakeClock) -> None:
    corpus = build_corpus(1)
    apis = apis_for(corpus)
    apis.dblp.faults = ["429-html", "429-html"]
    apis.dblp.retry_after = "4"
    result = run(_one_of_each(corpus, 3), apis, clock)
    assert result.reports[0].outcome is Outcome.ENRICHED
    assert [r.status for r in apis.dblp.log] == [429, 429, 200]
    assert clock.sleeps.count(4.0) == 2  # Retry-After honoured, through the fake clock
    assert result.stats[apis.dblp.host].retries == 2


def test_dblp_throttling_for_good_falls_back_to_crossref(apis_for, clock: FakeClock) -> None:
    corpus = build_corpus(1)
    t = corpus.records[3].title
    people = _people(3)
    corpus.crossref.append(
        CrossrefEntry(
            "10.18653/v1/x3",
            "proceedings-article",
            t,
            [(p.rsplit(" ", 1)[0], p.rsplit(" ", 1)[1]) for p in people],
            ["Proceedings of ACL 2022"],
            2022,
        )
    )
    apis = apis_for(corpus)
    apis.dblp.always = "429-html"
    records = _one_of_each(corpus, 3, 10)
    result = run(records, apis, clock)
    found, unpublished = result.reports
    assert found.outcome is Outcome.ENRICHED and found.evidence[0]["source"] == "crossref"
    assert result.records[0].container_title == "Proceedings of ACL 2022"
    # DBLP gave up after its retries for the first record and failed fast for the second.
    assert apis.dblp.count() == 5
    assert unpublished.outcome is Outcome.FAILED
    assert unpublished.message.startswith(f"DBLP: {apis.dblp.host} unavailable: HTTP 429")
    assert result.records[1] is records[1]


def test_s2_5xx_then_answer(apis_for, clock: FakeClock) -> None:
    corpus = build_corpus(1)
    apis = apis_for(corpus)
    apis.s2.faults = ["503", "500"]
    result = run(_one_of_each(corpus, 0, 1), apis, clock)
    assert [r.outcome for r in result.reports] == [Outcome.ENRICHED] * 2
    assert [r.status for r in apis.s2.log] == [503, 500, 200]


def test_s2_down_every_preprint_still_gets_its_one_request(apis_for, clock: FakeClock) -> None:
    corpus = build_corpus(1)
    apis = apis_for(corpus)
    apis.s2.always = "502"
    records = _one_of_each(corpus, 3, 5, 10)
    result = run(records, apis, clock)
    assert apis.s2.count() == 5  # the first try and four retries, then S2 is down for the run
    assert [r.outcome for r in result.reports] == [
        Outcome.ENRICHED,
        Outcome.ENRICHED,
        Outcome.FAILED,  # DBLP said "CoRR only", but S2 could not be asked
    ]
    assert apis.dblp.count() + apis.crossref.count() == 3
    assert "Semantic Scholar" in result.reports[2].message


def test_a_maintenance_page_is_not_an_answer(apis_for, clock: FakeClock, tmp_path: Path) -> None:
    corpus = build_corpus(1)
    apis = apis_for(corpus)
    apis.dblp.faults = ["200-html"]
    records = _one_of_each(corpus, 10)
    first = run(records, apis, clock, tmp_path)
    assert first.reports[0].outcome is Outcome.FAILED
    assert apis.crossref.queries == 1  # DBLP could not be asked: Crossref instead
    # The page was not kept: the next run asks DBLP again and gets the real answer.
    second = run(records, apis, clock, tmp_path)
    assert second.reports[0].outcome is Outcome.UNCHANGED
    assert apis.dblp.count() == 2


def test_s2_null_entries_keep_their_position() -> None:
    with FakeS2([arxiv_only("2101.00001", "Known One", ["A B"], 2021)]) as s2:
        http = HttpClient(clock=FakeClock())
        client = SemanticScholarClient(http, api_url=s2.url)
        got = client.lookup(["ARXIV:2101.00002", "ARXIV:2101.00001", "DOI:10.1/x"])
        assert s2.batches == 1
        assert s2.ids_asked() == [["ARXIV:2101.00001", "ARXIV:2101.00002", "DOI:10.1/x"]]
        assert {k: v.status for k, v in got.items()} == {
            "ARXIV:2101.00002": "not-found",
            "ARXIV:2101.00001": "found",
            "DOI:10.1/x": "not-found",
        }
        paper = got["ARXIV:2101.00001"].paper
        assert paper is not None and paper.arxiv_id == "2101.00001"
        assert paper.journal_name == "ArXiv" and paper.journal_volume == "abs/2101.00001"


def test_s2_batches_hold_at_most_500_ids() -> None:
    with FakeS2() as s2:
        client = SemanticScholarClient(HttpClient(clock=FakeClock()), api_url=s2.url)
        ids = [f"ARXIV:2201.{10000 + i}" for i in range(1001)]
        got = client.lookup(reversed(ids))
        assert [len(b) for b in s2.ids_asked()] == [500, 500, 1]
        assert s2.ids_asked()[0] == sorted(ids)[:500]
        assert all(v.status == "not-found" for v in got.values()) and len(got) == 1001


def test_s2_answer_of_the_wrong_length_is_a_failure() -> None:
    with FakeS2() as s2:
        s2.faults = ["truncated"]
        client = SemanticScholarClient(HttpClient(clock=FakeClock()), api_url=s2.url)
        got = client.lookup(["ARXIV:2101.00001"])
        assert got["ARXIV:2101.00001"].status == "failed"
        assert "unexpected batch answer" in got["ARXIV:2101.00001"].message


def test_a_bad_s2_key_is_reported_without_the_key() -> None:
    with FakeS2(keys={"good"}) as s2:
        client = SemanticScholarClient(
            HttpClient(clock=FakeClock()), api_url=s2.url, api_key="s3cret-key"
        )
        got = client.lookup(["ARXIV:2101.00001"])["ARXIV:2101.00001"]
        assert got.status == "failed" and "S2_API_KEY" in got.message
        assert "s3cret" not in got.message and "s3cret" not in repr(client)


# --------------------------------------------------------------------------
# Secrets, the polite pool, pacing


def test_api_key_and_contact_travel_but_stay_out_of_reports_and_cache(
    apis_for, clock: FakeClock, tmp_path: Path
) -> None:
    corpus = build_corpus(1)
    apis = apis_for(corpus)
    env = apis.env(S2_API_KEY="s2-s3cret-key", BIBTOOLS_CONTACT_EMAIL="me@example.org")
    result = run(_one_of_each(corpus, 0, 5), apis, clock, tmp_path, env=env)
    assert [r.outcome for r in result.reports] == [Outcome.ENRICHED] * 2
    assert apis.s2.log[0].headers.get("x-api-key") == "s2-s3cret-key"
    assert apis.crossref.mailtos() == ["me@example.org"]
    assert "s3cret" not in json.dumps(result.to_json())
    with sqlite3.connect(tmp_path / "http-cache.sqlite") as db:
        blobs = b"".join(
            bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
            for table in ("responses", "redirects")
            for row in db.execute(f"SELECT * FROM {table}")
            for v in row
            if v is not None
        )
    assert b"s2-s3cret-key" not in blobs and b"me@example.org" not in blobs
    # The same requests without the secrets are the same cache entries.
    apis.reset()
    again = run(_one_of_each(corpus, 0, 5), apis, clock, tmp_path)
    assert apis.total == 0 and again.from_cache == 2


def test_host_policies_follow_the_documented_limits() -> None:
    http = HttpClient(clock=FakeClock())
    SemanticScholarClient(http)
    assert http.policy_for("api.semanticscholar.org").min_interval == 3.0
    SemanticScholarClient(http, api_key="k", delay=0.1)
    assert http.policy_for("api.semanticscholar.org").min_interval == 1.0  # never below
    DblpClient(http, delay=0)
    assert http.policy_for("dblp.org").min_interval == 2.0
    CrossrefClient(http)
    assert http.policy_for("api.crossref.org").min_interval == 1.0
    polite = CrossrefClient(http, contact="me@example.org")
    assert http.policy_for("api.crossref.org").min_interval == 0.34 and polite.polite
    policy = http.policy_for("api.crossref.org")
    assert policy.retries == 4 and policy.backoff_base == 0.34 and policy.backoff_cap == 60
    assert policy.expire_after == 30 * 86400
    # A loopback fake, or a mirror asked for, is as fast as asked.
    SemanticScholarClient(http, api_url="http://127.0.0.1:9/graph/v1")
    assert http.policy_for("127.0.0.1").min_interval == 0
    DblpClient(http, api_url="https://dblp.example.net", delay=0.5)
    assert http.policy_for("dblp.example.net").min_interval == 0.5


def test_real_hosts_are_paced_through_the_clock(clock: FakeClock) -> None:
    # Not sent anywhere: the HTTP layer paces before sending, and a fake clock says how long.
    corpus = build_corpus(1)
    with FakeDblp(corpus.dblp) as dblp:
        http = HttpClient(clock=clock)
        client = DblpClient(http, api_url=dblp.url, delay=2.0)
        client.search(["sparse", "robust", "causal"])
        assert dblp.searches == 3
        assert clock.sleeps == [2.0, 2.0]


def test_never_retry_a_400(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    from bibtools.sources import crossref as module

    with FakeCrossref() as cr:
        client = CrossrefClient(HttpClient(clock=clock), api_url=cr.url)
        assert client.search_one("x").status == "not-found" and cr.count() == 1
        # A field Crossref does not allow: 400, an answer, asked once.
        monkeypatch.setattr(module, "SELECT", (*module.SELECT, "not-a-field"))
        got = client.search_one("y")
        assert got.status == "failed" and "HTTP 400" in got.message and cr.count() == 2
        assert clock.sleeps == []


# --------------------------------------------------------------------------
# Parsing


def test_dblp_json_shapes() -> None:
    doc = {
        "result": {
            "hits": {
                "@total": "1",
                "hit": {
                    "info": {
                        "authors": {"author": {"@pid": "1/2", "text": "Wei Zhang 0002"}},
                        "title": "Why Not?.",
                        "venue": ["NeurIPS", "Workshop"],
                        "year": "2020",
                        "type": "Conference and Workshop Papers",
                        "key": "conf/nips/Z20",
                        "ee": ["https://openreview.net/x", "https://doi.org/10.5555/1.2"],
                    }
                },
            }
        }
    }
    parsed = parse_search(json.dumps(doc).encode())
    assert parsed is not None
    hits, total = parsed
    assert total == 1 and len(hits) == 1
    hit = hits[0]
    assert hit.authors == ("Wei Zhang",) and hit.title == "Why Not?"
    assert hit.venue == "NeurIPS" and hit.year == 2020 and hit.doi == "10.5555/1.2"
    assert not hit.is_corr
    assert parse_search(b"<html>429</html>") is None
    assert parse_search(b'{"result": {"hits": {"@total": "0"}}}') == ([], 0)


def test_dblp_record_xml_is_parsed_safely() -> None:
    entry = DblpEntry("conf/x/Y22", "Schrödinger's Title", ["Noël Núñez 0001"], "X", 2022)
    hit = parse_record_xml(entry.xml().encode())
    assert hit is not None and hit.title == "Schrödinger's Title"
    assert hit.authors == ("Noël Núñez",) and hit.type == CONFERENCE and hit.venue == "X"
    corr = parse_record_xml(corr_copy("2101.00001", "T", ["A B"], 2021).xml().encode())
    assert corr is not None and corr.is_corr
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE dblp [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        b'<dblp><article key="k"><title>&b;</title></article></dblp>'
    )
    assert parse_record_xml(bomb) is None
    assert parse_record_xml(b"<html/>") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Phys. Rev. D 76, 013009 (2007)", ("Phys. Rev. D", "76", "", "013009", "2007")),
        ("Nature 596(7873), 583--589 (2021)", ("Nature", "596", "7873", "583-589", "2021")),
        ("Phys. Lett. B 659 (2008) 703-706", ("Phys. Lett. B", "659", "", "703-706", "2008")),
        ("Astrophys.J. 620 (2005) 1-10.", ("Astrophys.J.", "620", "", "1-10", "2005")),
        ("NeurIPS 2021", None),
        ("Proceedings of ACL 12, 1-10 (2022)", None),
        ("Accepted to Phys. Rev. 12, 1 (2022)", None),
        ("JHEP 0801:012,2008", None),
        ("12 pages, 3 figures", None),
        ("", None),
    ],
)
def test_journal_ref_forms(text: str, expected: tuple[str, ...] | None) -> None:
    parsed = parse_journal_ref(text)
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        got = tuple(parsed[k] for k in ("journal", "volume", "issue", "pages", "year"))
        assert got == expected


def test_which_records_are_preprints() -> None:
    assert is_preprint(Record(type="article", title="T", arxiv_id="2101.00001"))
    assert is_preprint(Record(type="document", title="T", note="arXiv preprint arXiv:2101.00001"))
    assert is_preprint(
        Record(type="article-journal", title="T", container_title="CoRR", volume="abs/2101.00001")
    )
    assert is_preprint(Record(type="article", title="T", arxiv_primary_class="CL"))
    assert is_preprint(Record(type="document", title="T", doi="10.48550/arXiv.2101.00001"))
    assert not is_preprint(
        Record(type="paper-conference", title="T", container_title="ICML", arxiv_id="2101.00001")
    )
    assert not is_preprint(Record(type="article-journal", title="T", container_title="Nature"))
    assert not is_preprint(Record(type="book", title="T", arxiv_id="2101.00001"))
    assert not is_preprint(Record(type="document", title="T"))
    assert is_computer_science(Record(arxiv_primary_class="CL")) is True
    assert is_computer_science(Record(arxiv_categories=["math.PR", "stat.ML"])) is True
    assert is_computer_science(Record(arxiv_primary_class="hep-th")) is False
    assert is_computer_science(Record()) is None


# --------------------------------------------------------------------------
# The merge


def _version(**kwargs: object) -> Version:
    base: dict[str, object] = {
        "type": "paper-conference",
        "title": "A Title",
        "authors": [Name("Roe", "Jane")],
        "container_title": "ICML",
        "pages": "1-10",
        "doi": "10.5555/icml.1",
        "issued": PartialDate(2022),
        "source": "dblp",
        "ident": "dblp:conf/icml/Roe22",
    }
    base.update(kwargs)
    return Version(**base)  # type: ignore[arg-type]


def test_merge_replaces_the_preprint_identity_and_keeps_arxiv_fields() -> None:
    record = Record(
        type="article-journal",
        key="roe21",
        title="A Title",
        authors=[Name("Roe", "Jane")],
        container_title="CoRR",
        volume="abs/2101.00001",
        doi="10.48550/arXiv.2101.00001",
        issued=PartialDate(2021, 1, 4),
        arxiv_id="2101.00001",
        arxiv_version=2,
        arxiv_primary_class="cs.LG",
        journal_ref="ICML 2022",
        source_type="article",
        extra_format="bibtex",
    )
    updated, changes = merge_published(record, _version(), "roe21")
    assert updated.type == "paper-conference" and updated.source_type == "inproceedings"
    assert updated.container_title == "ICML" and updated.volume == ""
    assert updated.doi == "10.5555/icml.1" and updated.pages == "1-10"
    assert updated.issued == PartialDate(2022)
    assert (updated.arxiv_id, updated.arxiv_version, updated.journal_ref) == (
        "2101.00001",
        2,
        "ICML 2022",
    )
    assert record.container_title == "CoRR"  # the input is not mutated
    by_field = {c.field: c for c in changes}
    assert by_field["type"].old == "article-journal" and by_field["type"].note
    assert by_field["volume"].new is None and by_field["volume"].applied
    assert by_field["doi"].old == "10.48550/arXiv.2101.00001"
    assert all(c.source == "published:dblp" for c in changes)
    bib = _squeezed(dumps([updated], "bibtex"))
    assert bib.startswith("@inproceedings{roe21,")
    for line in ("booktitle = {ICML}", "eprint = {2101.00001v2}", "archiveprefix = {arXiv}"):
        assert line in bib
    assert "volume" not in bib and "CoRR" not in bib and "howpublished" not in bib


def _squeezed(text: str) -> str:
    """BibTeX output with the alignment spaces before ``=`` removed."""
    return re.sub(r" +=", " =", text)


def test_merge_drops_a_preprint_howpublished() -> None:
    record = Record(
        type="document",
        key="k",
        title="A Title",
        authors=[Name("Roe", "Jane")],
        arxiv_id="2101.00001",
        extra={"howpublished": "arXiv preprint arXiv:2101.00001", "keywords2": "kept"},
        extra_format="bibtex",
        source_type="misc",
    )
    updated, changes = merge_published(record, _version(), "k")
    assert updated.extra == {"keywords2": "kept"} and record.extra["howpublished"]
    assert [c.field for c in changes if c.new is None] == ["howpublished"]
    assert _squeezed(dumps([updated], "bibtex")).startswith("@inproceedings{k,")


_TEXT = st.sampled_from(["", "CoRR", "arXiv", "ICML", "abs/2101.00001", "12", "1-10", "Nature"])
_DOIS = st.sampled_from(["", "10.48550/arXiv.2101.00001", "10.5555/icml.1", "10.9999/other"])
_DATES = st.sampled_from(
    [PartialDate(), PartialDate(2021, 1, 4), PartialDate(2022), PartialDate(2024)]
)


@given(
    kind=st.sampled_from(["article", "document", "article-journal"]),
    container=_TEXT,
    volume=_TEXT,
    pages=_TEXT,
    publisher=_TEXT,
    doi=_DOIS,
    issued=_DATES,
    v_type=st.sampled_from(["paper-conference", "article-journal"]),
    v_container=_TEXT.filter(bool),
    v_volume=_TEXT,
    v_doi=_DOIS,
    v_issued=_DATES,
)
def test_merge_never_hides_a_change_and_keeps_the_arxiv_fields(
    kind: str,
    container: str,
    volume: str,
    pages: str,
    publisher: str,
    doi: str,
    issued: PartialDate,
    v_type: str,
    v_container: str,
    v_volume: str,
    v_doi: str,
    v_issued: PartialDate,
) -> None:
    record = Record(
        type=kind,
        key="k",
        title="A Title",
        authors=[Name("Roe", "Jane")],
        container_title=container,
        volume=volume,
        pages=pages,
        publisher=publisher,
        doi=doi,
        issued=issued,
        arxiv_id="2101.00001",
        arxiv_version=2,
        arxiv_primary_class="cs.LG",
        journal_ref="ICML 2022",
    )
    before = copy.deepcopy(record)
    version = _version(
        type=v_type, container_title=v_container, volume=v_volume, doi=v_doi, issued=v_issued
    )
    updated, changes = merge_published(record, version, "k")
    assert record == before  # the input is never mutated
    applied = {c.field for c in changes if c.applied}
    changed = {
        f.name
        for f in dataclass_fields(Record)
        if f.compare and getattr(updated, f.name) != getattr(record, f.name)
    }
    assert changed - {"source_type"} == applied  # every change is reported, and only those
    for name in ("title", "authors", "arxiv_id", "arxiv_version", "arxiv_primary_class"):
        assert getattr(updated, name) == getattr(record, name)
    assert updated.journal_ref == "ICML 2022"
    if not applied:
        assert updated is record
    else:
        assert updated.type == v_type
    # A value of the record's own (not a preprint's) is never replaced.
    for change in changes:
        if not change.applied:
            assert getattr(updated, change.field) == getattr(record, change.field)


def test_merge_refuses_what_the_record_already_says() -> None:
    record = Record(
        type="article",
        key="k",
        title="A Title",
        authors=[Name("Roe", "Jane")],
        pages="5-6",
        doi="10.9999/other",
        issued=PartialDate(2023),
        arxiv_id="2101.00001",
    )
    updated, changes = merge_published(record, _version(), "k")
    refused = {c.field for c in changes if not c.applied}
    assert refused == {"pages", "doi", "issued"}
    assert updated.pages == "5-6" and updated.doi == "10.9999/other"
    assert updated.issued == PartialDate(2023) and updated.container_title == "ICML"


def test_merge_of_what_is_already_there_changes_nothing() -> None:
    record = Record(
        type="paper-conference",
        title="A Title",
        container_title="ICML",
        pages="1--10",
        doi="10.5555/ICML.1",
        issued=PartialDate(2022, 7),
        source_type="inproceedings",
    )
    updated, changes = merge_published(record, _version(), "k")
    assert updated is record and changes == []


# --------------------------------------------------------------------------
# Edges of the resolver


def test_a_record_without_authors_is_never_upgraded(apis_for, clock: FakeClock) -> None:
    corpus = build_corpus(1)
    apis = apis_for(corpus)
    record = corpus.records[0].copy(authors=[], authors_truncated=False)
    result = run([record], apis, clock)
    report = result.reports[0]
    assert report.outcome is Outcome.AMBIGUOUS and result.records[0] is record
    assert report.evidence[0]["note"] == "the record has no authors to confirm"


def test_a_cs_paper_dblp_does_not_know_costs_a_crossref_query(apis_for, clock: FakeClock) -> None:
    corpus = build_corpus(1)
    people = _people(3)
    t = corpus.records[3].title
    corpus.dblp = [e for e in corpus.dblp if "X3" not in e.key and "10003" not in e.key]
    corpus.crossref.append(
        CrossrefEntry(
            "10.1109/tpami.3",
            "journal-article",
            t,
            [(p.rsplit(" ", 1)[0], p.rsplit(" ", 1)[1]) for p in people],
            ["IEEE Transactions on Pattern Analysis and Machine Intelligence"],
            2023,
        )
    )
    apis = apis_for(corpus)
    result = run([corpus.records[3]], apis, clock)
    assert result.reports[0].outcome is Outcome.ENRICHED
    assert result.reports[0].evidence[0]["candidate"] == "doi:10.1109/tpami.3"
    # The one case that costs two requests: DBLP knew nothing, Crossref was the last resort.
    assert (apis.s2.batches, apis.dblp.searches, apis.crossref.queries) == (1, 1, 1)


def test_unknown_everywhere_is_not_found(apis_for, clock: FakeClock) -> None:
    apis = apis_for(Corpus())
    record = Record(
        type="article",
        key="ghost",
        title="A Paper Nobody Has Heard Of",
        authors=[Name("Nobody", "Ann")],
        arxiv_id="2101.09999",
        arxiv_primary_class="math.PR",
    )
    result = run([record], apis, clock)
    assert result.reports[0].outcome is Outcome.NOT_FOUND
    assert "Semantic Scholar does not know it" in result.reports[0].message
    assert apis.total == 2  # the batch and one Crossref query


def test_published_runs_after_arxiv_and_keeps_what_arxiv_found(apis_for, clock: FakeClock) -> None:
    from fakes.arxiv_server import FakeArxiv, Paper

    assert "published" in SOURCES
    corpus = build_corpus(1)
    people = _people(0)
    listing = Record(  # what a listing gives: a title, the first author, no id
        type="article",
        key="k0",
        title=_title(0),
        authors=[parse_plain_name(people[0])],
        authors_truncated=True,
        source_type="listing",
    )
    paper = Paper(
        corpus.records[0].arxiv_id, _title(0), people, primary="cs.LG", version=3, comment="9 pages"
    )
    apis = apis_for(corpus)
    with FakeArxiv([paper]) as arxiv:
        env = apis.env(BIBTOOLS_ARXIV_API=arxiv.url, BIBTOOLS_ARXIV_DELAY="0")
        http = HttpClient(clock=clock)
        result = enrich([listing], http=http, sources=["published", "arxiv"], env=env)
    record, report = result.records[0], result.reports[0]
    assert report.outcomes == {"arxiv": Outcome.ENRICHED, "published": Outcome.ENRICHED}
    assert apis.s2.ids_asked() == [[f"ARXIV:{paper.arxiv_id}"]]  # the id arXiv found
    assert record.type == "paper-conference" and record.source_type == "inproceedings"
    assert record.container_title == "Knowledge Discovery and Data Mining"
    assert record.doi == "10.1145/3534678.0"  # not arXiv's DOI any more
    assert (record.arxiv_id, record.arxiv_version, record.arxiv_comment) == (
        paper.arxiv_id,
        3,
        "9 pages",
    )
    assert len(record.authors) == 3 and record.pdf_url.endswith(paper.arxiv_id)
    sources = {c.source for c in report.changes}
    assert sources == {"arxiv", "published:semanticscholar"}


# --------------------------------------------------------------------------
# The CLI


BIB = """\
@article{corr21,
  author = {Lindström, Åsa and others},
  title = {Sparse Graph Networks for Parsing: Benchmark 0},
  journal = {CoRR},
  volume = {abs/2101.10000},
  year = {2021},
  eprint = {2101.10000},
  archivePrefix = {arXiv},
  primaryClass = {cs.LG}
}
"""


def test_cli_enrich_sources_published(apis_for, tmp_path: Path) -> None:
    people = ["Åsa Lindström", "Wei Zhang"]
    title = "Sparse Graph Networks for Parsing: Benchmark 0"
    corpus = Corpus(
        s2=[
            S2Entry(
                title,
                people,
                arxiv_id="2101.10000",
                doi="10.1145/1.2",
                venue="Knowledge Discovery and Data Mining",
                venue_type="conference",
                journal={"name": "KDD '22", "pages": "1 - 9"},
                year=2022,
            )
        ]
    )
    apis = apis_for(corpus)
    source = tmp_path / "refs.bib"
    source.write_text(BIB, encoding="utf-8")
    env = apis.env(BIBTOOLS_CACHE_DIR=str(tmp_path / "cache"))
    runner = CliRunner()
    dry = runner.invoke(
        main, ["enrich", str(source), "--sources", "published", "--dry-run"], env=env
    )
    assert dry.exit_code == 0, dry.output
    assert "corr21: type: would set: 'article-journal' -> 'paper-conference'" in dry.output
    assert (
        "corr21: container_title: would set: 'CoRR' -> 'Knowledge Discovery and Data Mining'"
        in dry.output
    )
    assert "(published:semanticscholar) [the preprint's value]" in dry.output
    assert "1 enriched; 1 request, 0 from cache" in dry.output
    report = tmp_path / "report.json"
    out = tmp_path / "out.bib"
    done = runner.invoke(
        main,
        ["enrich", str(source), "--sources", "published", "-o", str(out), "--report", str(report)],
        env=env,
    )
    assert done.exit_code == 0, done.output
    text = _squeezed(out.read_text(encoding="utf-8"))
    assert text.startswith("@inproceedings{corr21,")
    assert "booktitle = {Knowledge Discovery and Data Mining}" in text
    assert "pages = {1--9}" in text and "doi = {10.1145/1.2}" in text
    assert "eprint = {2101.10000}" in text and "CoRR" not in text
    doc = json.loads(report.read_text(encoding="utf-8"))
    evidence = doc["records"][0]["evidence"][0]
    assert evidence["source"] == "semanticscholar" and evidence["matched_by"] == "arxiv id"
    assert evidence["accepted"] and 0 < evidence["confidence"] <= 1
    assert {"title", "arxiv id", "doi"} - set(evidence["agreed"]) == {"doi"}
