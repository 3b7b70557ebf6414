"""Requests and wall time of arXiv enrichment, against the loopback arXiv.

    python benchmarks/enrich_requests.py [--ids 1000] [--titles 200]

Enriches N records that carry arXiv ids and M that carry only a title and a
truncated author list, three ways:

* bibtools with an empty cache (id batches of 100, 20 titles per query);
* bibtools again on the same cache (a second run);
* one request per record, the arxiv.py / betterbib pattern (``id_list=<one id>``
  or ``search_query=ti:"<title>"`` per record, no cache).

The server is tests/fakes/arxiv_server.py on 127.0.0.1 with no delay, so
wall time is our own overhead; the last column is what arXiv's required
3 s between requests would add (requests - 1) x 3 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakes.arxiv_server import FakeArxiv, Paper  # noqa: E402

from bibtools.changes import Outcome  # noqa: E402
from bibtools.enrich import enrich  # noqa: E402
from bibtools.http import HttpClient  # noqa: E402
from bibtools.model import Record  # noqa: E402
from bibtools.sources.arxiv import ArxivClient  # noqa: E402
from bibtools.text.names import parse_plain_name  # noqa: E402

WORDS = [
    "sparse",
    "causal",
    "robust",
    "federated",
    "spectral",
    "latent",
    "neural",
    "quantum",
    "adaptive",
    "implicit",
]
ARXIV_GAP = 3.0


def catalogue(n_ids: int, n_titles: int) -> tuple[list[Paper], list[Record]]:
    papers: list[Paper] = []
    records: list[Record] = []
    for n in range(n_ids):
        arxiv_id = f"2{n // 90000 + 1:03d}.{10000 + n % 90000}"
        papers.append(
            Paper(arxiv_id, f"Indexed study {n}", [f"Ada{n} Lovelace{n}", "Second Author"])
        )
        records.append(Record(key=f"id{n}", title=f"Indexed study {n}", arxiv_id=arxiv_id))
    for n in range(n_titles):
        title = f"On the {WORDS[n % 10]} {WORDS[(n // 10) % 10]} behaviour of benchmark item {n}"
        authors = [f"Grace{n} Hopper{n}", "Alan Turing", "Emmy Noether"]
        papers.append(Paper(f"2301.{20000 + n}", title, authors))
        records.append(
            Record(
                key=f"t{n}",
                title=title,
                authors=[parse_plain_name(authors[0])],
                authors_truncated=True,
            )
        )
    return papers, records


def bibtools_run(server: FakeArxiv, records: list[Record], cache: Path) -> tuple[int, float, int]:
    start_count = server.count
    started = time.perf_counter()
    with HttpClient(cache_dir=cache) as http:
        result = enrich(records, http=http, arxiv=ArxivClient(http, api_url=server.url, delay=0))
    elapsed = time.perf_counter() - started
    enriched = sum(1 for r in result.reports if r.outcome in (Outcome.ENRICHED, Outcome.UNCHANGED))
    return server.count - start_count, elapsed, enriched


def naive_run(server: FakeArxiv, records: list[Record]) -> tuple[int, float, int]:
    start_count = server.count
    found = 0
    started = time.perf_counter()
    with requests.Session() as session:
        for record in records:
            params: dict[str, str | int]
            if record.arxiv_id:
                params = {"id_list": record.arxiv_id, "max_results": 1}
            else:
                params = {"search_query": f'ti:"{record.title}"', "max_results": 10}
            reply = session.get(server.url, params=params, timeout=(5, 30))
            found += reply.content.count(b"<entry>") > 0
    elapsed = time.perf_counter() - started
    return server.count - start_count, elapsed, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=1000, help="records with an arXiv id")
    parser.add_argument("--titles", type=int, default=200, help="records with only a title")
    args = parser.parse_args()

    papers, records = catalogue(args.ids, args.titles)
    with_ids, without = records[: args.ids], records[args.ids :]
    rows: list[tuple[str, int, int, float, int]] = []
    with FakeArxiv(papers) as server, tempfile.TemporaryDirectory() as tmp:
        for label, subset in (
            (f"{args.ids} with ids", with_ids),
            (f"{args.titles} without", without),
        ):
            cache = Path(tmp) / label.replace(" ", "-")
            n, t, ok = bibtools_run(server, subset, cache)
            rows.append((f"bibtools, {label}, cold cache", len(subset), n, t, ok))
            n, t, ok = bibtools_run(server, subset, cache)
            rows.append((f"bibtools, {label}, second run", len(subset), n, t, ok))
            n, t, ok = naive_run(server, subset)
            rows.append((f"one request per record, {label}", len(subset), n, t, ok))
        cache = Path(tmp) / "all"
        n, t, ok = bibtools_run(server, records, cache)
        rows.append(("bibtools, all records, cold cache", len(records), n, t, ok))
        n, t, ok = naive_run(server, records)
        rows.append(("one request per record, all records", len(records), n, t, ok))

    header = ("scenario", "records", "requests", "wall (loopback)", "found", "+ arXiv 3 s gaps")
    print(
        f"{header[0]:<44} {header[1]:>7} {header[2]:>8} {header[3]:>15} {header[4]:>6} {header[5]:>16}"
    )
    for label, count, n, t, ok in rows:
        gaps = max(0, n - 1) * ARXIV_GAP
        projected = f"{gaps / 60:.1f} min" if gaps >= 60 else f"{gaps:.0f} s"
        print(f"{label:<44} {count:>7} {n:>8} {t:>13.2f} s {ok:>6} {projected:>16}")


if __name__ == "__main__":
    main()
