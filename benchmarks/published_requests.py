"""Requests of ``enrich --sources published`` for a corpus of preprints, against loopback APIs.

    python benchmarks/published_requests.py [--blocks 112]

The corpus is the one of tests/test_published.py (18 kinds of record per
block: published versions S2 knows, ones only DBLP or Crossref knows,
journal_refs, DBLP keys and DOIs from S2, unpublished preprints, decoys,
a listing record without an id, an already published record).  It is
enriched twice on one cache, and the counts are compared with

* the issue's bound: ceil(preprints / 500) batch requests plus one request
  per preprint the batch left unresolved;
* one request per preprint and source asked (S2's ``GET /paper/{id}``
  for each, then DBLP or Crossref for the unresolved): what a client
  without the batch endpoint needs (computed, not sent).

The servers are tests/fakes on 127.0.0.1-3 with no pacing, so the wall time
is our own overhead; the last line is what the documented pacing (S2 3 s
without a key, DBLP 2 s, Crossref 1 s public / 0.34 s polite) would add.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakes import FakeClock  # noqa: E402
from fakes.crossref_server import FakeCrossref  # noqa: E402
from fakes.dblp_server import FakeDblp  # noqa: E402
from fakes.s2_server import FakeS2  # noqa: E402
from test_published import build_corpus  # noqa: E402

from bibtools.enrich import enrich  # noqa: E402
from bibtools.http import HttpClient  # noqa: E402
from bibtools.preprint import is_preprint  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=112, help="blocks of 18 records")
    args = parser.parse_args()

    corpus = build_corpus(args.blocks)
    records = corpus.records
    preprints = sum(1 for r in records if is_preprint(r))
    apis = (FakeS2(corpus.s2), FakeDblp(corpus.dblp), FakeCrossref(corpus.crossref))
    for api in apis:
        api.start()
    s2, dblp, crossref = apis
    env = {
        "BIBTOOLS_S2_API": s2.url,
        "BIBTOOLS_DBLP_API": dblp.url,
        "BIBTOOLS_CROSSREF_API": crossref.url,
    }
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rows = []
            for label in ("empty cache", "second run"):
                for api in apis:
                    api.reset_log()
                started = time.perf_counter()
                with HttpClient(cache_dir=Path(tmp), clock=FakeClock()) as http:
                    result = enrich(records, http=http, sources=["published"], env=env)
                elapsed = time.perf_counter() - started
                counts = (s2.batches, dblp.count(), crossref.count())
                asked = sum(len(ids) for ids in s2.ids_asked())
                rows.append((label, counts, asked, result, elapsed))
    finally:
        for api in apis:
            api.stop()

    _, (s2_batches, dblp_n, crossref_n), s2_ids, first, _ = rows[0]
    verdicts = Counter(report.outcomes["published"].value for report in first.reports)
    unresolved = dblp_n + crossref_n
    bound = math.ceil(preprints / 500) + unresolved
    print(
        f"{len(records)} records, {preprints} preprints; outcomes: {dict(sorted(verdicts.items()))}"
    )
    print(f"{'run':<12} {'S2 batches':>10} {'DBLP':>6} {'Crossref':>9} {'total':>6} {'wall s':>7}")
    for label, (b, d, c), _asked, _result, elapsed in rows:
        print(f"{label:<12} {b:>10} {d:>6} {c:>9} {b + d + c:>6} {elapsed:>7.2f}")
    print(
        f"bound: ceil({preprints}/500) + {unresolved} unresolved = {bound}; "
        f"measured {s2_batches + unresolved} ({s2_ids} ids in {s2_batches} batches)"
    )
    print(f"without the batch endpoint (one S2 request per id): {s2_ids + unresolved} requests")
    paced = s2_batches * 3.0 + dblp_n * 2.0
    print(
        f"the documented pacing would add ~{paced + crossref_n * 1.0:.0f} s "
        f"(public Crossref pool) or ~{paced + crossref_n * 0.34:.0f} s (polite pool)"
    )


if __name__ == "__main__":
    main()
