"""How complete `bibtools build --enrich` makes the publication page, on real papers (issue 17).

    python benchmarks/page_completeness.py [--xml FILE] [--start 50] [--count 40] [--keep DIR]

The papers are real: the entries of a recorded arXiv answer
(``/work/shared/fixtures/arxiv/arxivpy_q_testing_s0_m100.xml`` by default,
see fixtures/SOURCES.md), entries ``start`` to ``start + count`` whose
primary category a listing can abbreviate (it names ``ST`` for math.ST
and q-fin.ST alike; the reader takes q-fin.ST).  From each the script writes what a lab
page shows (the listing format: category and date, the title glued to the
first three authors and "et al.", the abstract), serves the full records
from the loopback arXiv (tests/fakes/arxiv_server.py) and every GitHub
repository an abstract names from the loopback GitHub (one of them missing),
runs ``bibtools build --enrich`` and reads ``publications.html`` back:

* full authors: the page lists exactly the arXiv record's authors, no "et al.";
* venue line: present; says "arXiv preprint arXiv:<id> [<primary category>]";
* arXiv link: ``https://arxiv.org/abs/<id>``;
* code: every code badge shows stars or "unavailable";
* escaping: each title as the page shows it (HTML parsed) is the arXiv title.

Nothing here touches the network beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
import tempfile
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from click.testing import CliRunner  # noqa: E402
from fakes.arxiv_server import FakeArxiv, Paper  # noqa: E402
from fakes.github_server import FakeGitHub, synthetic_repo  # noqa: E402

from bibtools.cli import main  # noqa: E402
from bibtools.formats.listing import CATEGORIES  # noqa: E402

XML = Path("/work/shared/fixtures/arxiv/arxivpy_q_testing_s0_m100.xml")
NS = {"a": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom"}
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
GITHUB = re.compile(r"https?://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+[A-Za-z0-9_-]")


def one_line(text: str) -> str:
    return " ".join(text.split())


def papers_from(xml: Path, start: int, count: int) -> list[Paper]:
    entries = ET.parse(xml).getroot().findall("a:entry", NS)
    out = []
    for e in entries[start:]:
        primary = e.find("arxiv:primary_category", NS).get("term")  # type: ignore[union-attr]
        code = primary.split(".")[-1]
        if code not in CATEGORIES:  # the listing cannot name it (hep-ph, quant-ph...)
            continue
        arxiv_id = re.sub(r"v\d+$", "", e.findtext("a:id", "", NS).rsplit("/abs/", 1)[-1])
        version = re.search(r"v(\d+)$", e.findtext("a:id", "", NS))
        out.append(
            Paper(
                arxiv_id,
                one_line(e.findtext("a:title", "", NS)),
                [one_line(a.findtext("a:name", "", NS)) for a in e.findall("a:author", NS)],
                abstract=one_line(e.findtext("a:summary", "", NS)),
                version=int(version.group(1)) if version else 1,
                primary=primary,
                categories=[
                    c.get("term", "")
                    for c in e.findall("a:category", NS)
                    if c.get("term") != primary
                ],
                published=e.findtext("a:published", "", NS),
                updated=e.findtext("a:updated", "", NS),
                comment=one_line(e.findtext("arxiv:comment", "", NS)),
                journal_ref=one_line(e.findtext("arxiv:journal_ref", "", NS)),
                doi=one_line(e.findtext("arxiv:doi", "", NS)),
            )
        )
        if len(out) == count:
            break
    return out


def listing(papers: list[Paper]) -> str:
    """What a lab page shows: category, date, title glued to three authors "et al.", abstract."""
    blocks = []
    for p in papers:
        y, m, d = (int(x) for x in p.published[:10].split("-"))
        code = " Code" if GITHUB.search(p.abstract) else ""
        names = ", ".join(p.authors[:3]) + (" et al." if len(p.authors) > 3 else "")
        blocks.append(
            f"{p.primary.split('.')[-1]}{MONTHS[m - 1]} {d}, {y}{code.strip()}\n"
            f"{p.title}{names}\n{p.abstract}\n"
        )
    return "\n".join(blocks)


class Page(HTMLParser):
    """Per article: title, authors, venue text, hrefs and badge texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.papers: dict[str, dict[str, object]] = {}
        self.current: dict[str, object] | None = None
        self.field = ""
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "article":
            self.current = {"title": "", "authors": "", "venue": "", "links": [], "linktext": ""}
            self.papers[a.get("id") or ""] = self.current
        elif self.current is not None:
            for name in ("title", "authors", "venue"):
                if f"bt-{name}" in cls.split():
                    self.field, self.depth = name, 0
            if self.field:
                self.depth += 1
            if "bt-links" in cls.split():
                self.field = "linktext"
            if tag == "a" and "badge" in cls:
                self.current["links"].append([a.get("href") or "", ""])  # type: ignore[union-attr]

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self.current = None
        if self.field and tag in ("h2", "h3", "p"):
            self.field = ""

    def handle_data(self, data: str) -> None:
        if self.current is None or not self.field:
            return
        self.current[self.field] = str(self.current[self.field]) + data


def author_list(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return ", ".join(names[:-1]) + ", and " + names[-1]


def run(papers: list[Paper], keep: Path, extra: list[str]) -> dict[str, int]:
    repos = sorted(
        {m.group(0) for p in papers for m in GITHUB.finditer(p.abstract + " " + p.comment)}
    )
    # Every repository exists but the last one, so both code statuses are measured.
    present = repos[:-1] if len(repos) > 1 else repos
    fakes = [
        synthetic_repo(u.split("github.com/")[1], 1000 + i, stars=10 * (i + 1) ** 3)
        for i, u in enumerate(present)
    ]
    work = keep
    work.mkdir(parents=True, exist_ok=True)
    src = work / "papers.listing"
    src.write_text(listing(papers), encoding="utf-8")
    out = work / "out"
    with FakeArxiv(papers) as arxiv, FakeGitHub(fakes) as github:
        env = {
            **github.env(),
            "BIBTOOLS_ARXIV_API": arxiv.url,
            "BIBTOOLS_ARXIV_DELAY": "0",
            "BIBTOOLS_CACHE_DIR": str(work / "cache"),
        }
        result = CliRunner(env=env).invoke(
            main,
            ["build", str(src), "-o", str(out), "--enrich", "--as-of", "2026-12-04", *extra],
        )
        requests = len(arxiv.requests), len(github.log)
    print(result.stderr.strip().splitlines()[-3:] if result.stderr else "", file=sys.stderr)
    page = Page()
    page.feed((out / "publications.html").read_text(encoding="utf-8"))
    by_title = {one_line(str(p["title"])): p for p in page.papers.values()}
    n = dict.fromkeys(
        ["papers", "on page", "full authors", "venue line", "arXiv link", "title exact"], 0
    )
    n["papers"] = len(papers)
    n["code links"] = n["code with status"] = 0
    misses: list[str] = []
    for p in papers:
        shown = by_title.get(p.title)
        if shown is None:
            misses.append(f"{p.arxiv_id}: title not found on the page")
            continue
        n["on page"] += 1
        n["title exact"] += 1
        if one_line(str(shown["authors"])) == author_list(p.authors):
            n["full authors"] += 1
        else:
            misses.append(f"{p.arxiv_id}: authors {shown['authors']!r}")
        venue = one_line(str(shown["venue"]))
        if venue.startswith(f"arXiv preprint arXiv:{p.arxiv_id} [{p.primary}]") or (
            p.journal_ref and venue.startswith(p.journal_ref)
        ):
            n["venue line"] += 1
        else:
            misses.append(f"{p.arxiv_id}: venue {venue!r}")
        links = shown["links"]
        if any(h == f"https://arxiv.org/abs/{p.arxiv_id}" for h, _ in links):  # type: ignore[misc]
            n["arXiv link"] += 1
        for label in re.findall(r"\[Code[^\]]*\]", str(shown["linktext"])):
            if label:
                n["code links"] += 1
                if "★" in label or "unavailable" in label or "moved" in label:
                    n["code with status"] += 1
                else:
                    misses.append(f"{p.arxiv_id}: code badge {label!r}")
    page_text = (out / "publications.html").read_text(encoding="utf-8")
    n["raw <script> from data"] = page_text.count("<script") - 1
    n["exit status"] = result.exit_code
    n["arXiv requests"], n["GitHub requests"] = requests
    for m in misses:
        print("  miss:", html.unescape(m))
    print(f"  page: {out / 'publications.html'}")
    return n


def screenshot(page: Path, png: Path) -> None:
    """The top of the page at 1280 x 900 (Debian's Chromium)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
        )
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        pg.goto(page.as_uri())
        pg.screenshot(path=str(png))
        browser.close()


def main_() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--xml", type=Path, default=XML)
    ap.add_argument("--start", type=int, default=50)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--keep", type=Path, help="Keep the listing and the build here.")
    ap.add_argument("--highlight", action="append", default=[], help="Passed to build.")
    ap.add_argument("--screenshot", type=Path, help="Save a 1280 px screenshot of the page here.")
    args = ap.parse_args()
    os.environ.pop("GITHUB_TOKEN", None)
    papers = papers_from(args.xml, args.start, args.count)
    keep = args.keep or Path(tempfile.mkdtemp(prefix="page-completeness-"))
    extra = [a for name in args.highlight for a in ("--highlight", name)]
    counts = run(papers, keep, extra)
    if args.screenshot:
        screenshot(keep / "out" / "publications.html", args.screenshot)
    width = max(len(k) for k in counts)
    for k, v in counts.items():
        print(f"{k.ljust(width)}  {v}")


if __name__ == "__main__":
    main_()
