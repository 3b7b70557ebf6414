"""Requests and wall time of GitHub link checks, against the loopback GitHub.

    python benchmarks/links_requests.py [--repos 85] [--records 120]

Records cite R repositories (some by several records, in several fields):
R - 7 synthetic repositories, the 5 recorded moves (301 to
/repositories/{id}) and 2 that do not exist.  Checked five ways:

* bibtools without a token (REST, 60 requests an hour, web-page fallback
  once the budget is spent), empty cache, then a second run on the cache;
* bibtools with a token (GraphQL, 50 repositories a query, REST only to
  confirm moves), empty cache, then a second run;
* one REST request per link per record, no cache, redirects followed
  (the naive pattern), without and with a token.

Columns: HTTP requests to the API (followed 301s and 304s included),
budget spent (what GitHub counts: 304s and refused requests do not),
requests to the web pages, rows that are right (compared with the truth
the fake knows; a web-page check of a live repository counts as right),
rows with no answer (rate-limited), and wall time (loopback, no delay).
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

from fakes import FakeClock  # noqa: E402
from fakes.github_server import FakeGitHub, synthetic_repo  # noqa: E402

from bibtools.http import USER_AGENT, HttpClient  # noqa: E402
from bibtools.links import LinkStatus, check_links  # noqa: E402
from bibtools.model import CodeLink, Record  # noqa: E402

TOKEN = "ghp_benchmark"


def world(fake: FakeGitHub, n_repos: int, n_records: int) -> tuple[list[Record], dict[str, str]]:
    """The records, and the right status of each repository URL."""
    truth: dict[str, str] = {}
    for i in range(n_repos - 7):
        repo = fake.add(synthetic_repo(f"lab{i}/tool{i}", 60_000 + i, stars=i))
        truth[f"https://github.com/{repo.full_name}"] = "live"
    for old, _ in fake.add_recorded_moves():
        truth[f"https://github.com/{old}"] = "moved"
    truth["https://github.com/nobody/nothing"] = "missing"
    truth["https://github.com/ghost/gone"] = "missing"
    urls = list(truth)
    records = []
    for i in range(n_records):
        url = urls[i % len(urls)]
        if i % 3 == 0:
            records.append(Record(key=f"r{i}", code_links=[CodeLink(url, "code")]))
        else:
            records.append(Record(key=f"r{i}", abstract=f"Our code is at {url}/tree/main."))
    return records, truth


def row_url(url: str) -> str:
    return url.removesuffix("/tree/main")


def bibtools_run(
    fake: FakeGitHub, records: list[Record], truth: dict[str, str], cache: Path, token: bool
) -> tuple[int, int, int, int, int, float]:
    fake.reset_log()
    budget_before = _remaining(fake)
    started = time.perf_counter()
    with HttpClient(cache_dir=cache, clock=fake.clock) as http:  # type: ignore[arg-type]
        report = check_links(records, http=http, env=fake.env(token=token))
    elapsed = time.perf_counter() - started
    right = sum(r.status.value == truth[row_url(r.url)] for r in report.results)
    limited = sum(r.status is LinkStatus.RATE_LIMITED for r in report.results)
    spent = budget_before - _remaining(fake)
    return fake.count("api"), spent, fake.count("web"), right, limited, elapsed


def naive_run(
    fake: FakeGitHub, records: list[Record], truth: dict[str, str], token: bool
) -> tuple[int, int, int, int, int, float]:
    """One GET /repos per link per record; anything but a 200 is taken for a missing repository."""
    fake.reset_log()
    budget_before = _remaining(fake)
    headers = {"Accept": "application/vnd.github+json", "User-Agent": USER_AGENT}
    if token:
        headers["Authorization"] = f"Bearer {TOKEN}"
    right = limited = 0
    started = time.perf_counter()
    with requests.Session() as session:
        for record in records:
            url = record.code_links[0].url if record.code_links else record.abstract.split()[-1]
            slug = "/".join(row_url(url.rstrip(".")).split("/")[3:5])
            reply = session.get(f"{fake.api_url}/repos/{slug}", headers=headers, timeout=(5, 15))
            if reply.status_code == 200:
                moved = reply.json()["full_name"].lower() != slug.lower()
                status = "moved" if moved else "live"
            else:
                status = "missing"
                limited += reply.status_code in (403, 429)
            right += status == truth[f"https://github.com/{slug}"]
    elapsed = time.perf_counter() - started
    spent = budget_before - _remaining(fake)
    return fake.count("api"), spent, fake.count("web"), right, limited, elapsed


def _remaining(fake: FakeGitHub) -> int:
    return sum(w.remaining for w in fake.windows.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=85, help="distinct repositories (>= 8)")
    parser.add_argument("--records", type=int, default=120, help="records citing them")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for token in (False, True):
            who = "token" if token else "no token"
            clock = FakeClock()
            with FakeGitHub(clock=clock, limit=60, token=TOKEN) as fake:
                records, truth = world(fake, args.repos, args.records)
                cache = Path(tmp) / who
                rows.append(
                    (
                        f"bibtools, {who}, empty cache",
                        *bibtools_run(fake, records, truth, cache, token),
                    )
                )
                rows.append(
                    (
                        f"bibtools, {who}, second run",
                        *bibtools_run(fake, records, truth, cache, token),
                    )
                )
            with FakeGitHub(clock=FakeClock(), limit=60, token=TOKEN) as fake:
                records, truth = world(fake, args.repos, args.records)
                rows.append(
                    (f"one REST request per link, {who}", *naive_run(fake, records, truth, token))
                )

    print(f"{args.records} records citing {args.repos} repositories (5 moved, 2 missing)\n")
    header = ("scenario", "API req", "budget", "web req", "right", "no answer", "wall")
    print(
        f"{header[0]:<36} {header[1]:>7} {header[2]:>7} {header[3]:>7} {header[4]:>6} {header[5]:>9} {header[6]:>8}"
    )
    for label, api, spent, web, right, limited, elapsed in rows:
        print(
            f"{label:<36} {api:>7} {spent:>7} {web:>7} {right:>3}/{args.records:<3}"
            f"{limited:>8} {elapsed:>7.2f}s"
        )


if __name__ == "__main__":
    main()
