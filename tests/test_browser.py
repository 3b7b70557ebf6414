"""The standalone publications page in headless Chromium (Debian's chromium, driven by Playwright).

Needs ``/usr/bin/chromium`` (``apt-get install -y chromium``) and the
``playwright`` Python package (the ``test`` extra); no browser download.
The page is built from the bundled example plus two records of other types,
loaded from a file: URL, and used as a person would: search, filters, links.
A screenshot is kept in ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from bibtools.convert import read_text
from bibtools.pages import FormatOptions, format_records
from bibtools.text.keys import assign_keys

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

EXTRA = r"""
@book{roe2021,
  author = {Richard Roe and Ashish Vaswani},
  title = {Learning from {Data}: <script>alert(1)</script>},
  publisher = {Example Press},
  year = {2021},
  doi = {10.1000/book.2021},
  url = {javascript:alert(1)},
}
@inproceedings{doe2019,
  author = {Jane Doe},
  title = {Zebra crossings considered},
  booktitle = {Proceedings of the Conference on Things},
  year = {2019},
  pdf = {https://example.org/doe2019.pdf},
}
"""

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is missing: pip install -e '.[test]'"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    text = (files("bibtools") / "data" / "example.listing").read_text(encoding="utf-8")
    records = read_text(text, "listing", as_of=dt.date(2025, 1, 1)).records
    records += read_text(EXTRA, "bibtex").records
    assign_keys(records)
    # As enrich --sources github leaves it: the stars on the code link.
    records[0].code_links[0] = replace(records[0].code_links[0], stars=1234)
    result = format_records(
        records,
        FormatOptions(
            style="apa",
            output="html",
            standalone=True,
            group_by="year",
            sort="date-desc",
            highlight=["Ashish Vaswani"],
            title="Lab publications",
        ),
    )
    path = tmp_path_factory.mktemp("page") / "publications.html"
    path.write_text(result.text, encoding="utf-8")
    return path, result


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser: Any, built: tuple[Path, Any]) -> Iterator[tuple[Any, list[str], Any]]:
    path, result = built
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    # Nothing may be fetched: the page is self-contained.
    pg.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort(),
    )
    pg.goto(path.as_uri())
    try:
        yield pg, errors, result
    finally:
        context.close()


def visible_ids(pg: Any) -> list[str]:
    return pg.eval_on_selector_all(".csl-entry", "els => els.filter(e => !e.hidden).map(e => e.id)")


@pytest.mark.slow
def test_page_loads_without_errors_and_shows_everything(page: tuple[Any, list[str], Any]) -> None:
    pg, errors, result = page
    assert errors == []
    assert pg.title() == "Lab publications"
    assert visible_ids(pg) == [e.key for e in result.entries]
    assert pg.inner_text("#bt-status") == f"{len(result.entries)} of {len(result.entries)} shown"
    assert pg.locator("b.highlight").count() >= 2  # Vaswani on the Transformer paper and the book
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "publications.png"), full_page=True)
    assert (ARTIFACTS / "publications.png").stat().st_size > 10_000


def test_search_box_filters_entries(page: tuple[Any, list[str], Any]) -> None:
    pg, errors, result = page
    pg.fill("#bt-search", "zebra")
    assert visible_ids(pg) == ["doe2019"]
    pg.fill("#bt-search", "attention need")  # every word, in any order
    shown = visible_ids(pg)
    assert shown and all("attention" in e.text.lower() for e in result.entries if e.key in shown)
    pg.fill("#bt-search", "Vaswani")  # names too, accents and case folded
    assert set(visible_ids(pg)) == {e.key for e in result.entries if "Vaswani" in e.text}
    pg.fill("#bt-search", "no such words anywhere")
    assert visible_ids(pg) == []
    assert pg.inner_text("#bt-status").startswith("0 of ")
    assert pg.locator("section.bt-group:visible").count() == 0  # empty year headings hide
    pg.fill("#bt-search", "")
    assert len(visible_ids(pg)) == len(result.entries)
    assert errors == []


@pytest.mark.slow
def test_year_type_and_code_filters(page: tuple[Any, list[str], Any]) -> None:
    pg, errors, result = page
    pg.select_option("#bt-year", "2021")
    assert visible_ids(pg) == [e.key for e in result.entries if e.year == "2021"]
    assert pg.locator("section.bt-group:visible h2").all_inner_texts() == ["2021"]
    pg.select_option("#bt-type", "book")
    assert visible_ids(pg) == ["roe2021"]
    pg.select_option("#bt-year", "")
    pg.select_option("#bt-type", "paper-conference")
    assert visible_ids(pg) == ["doe2019"]
    pg.select_option("#bt-type", "")
    pg.check("#bt-code")
    with_code = [e.key for e in result.entries if e.has_code]
    assert visible_ids(pg) == with_code and 0 < len(with_code) < len(result.entries)
    pg.uncheck("#bt-code")
    assert len(visible_ids(pg)) == len(result.entries)
    assert errors == []


def test_every_link_has_the_right_href(page: tuple[Any, list[str], Any]) -> None:
    pg, _, result = page
    hrefs = pg.eval_on_selector_all("a", "els => els.map(a => a.getAttribute('href'))")
    expected: list[str] = []
    for e in result.entries:
        expected += [b.href for b in e.badges if b.href]
    assert hrefs, "no links at all"
    assert all(h.startswith(("https://", "http://")) for h in hrefs), hrefs
    assert "javascript:alert(1)" not in hrefs
    # Every badge link is there, pointing where the record says.
    for href in expected:
        assert href in hrefs
    badge = pg.locator("#doe2019 a.badge-pdf")
    assert badge.get_attribute("href") == "https://example.org/doe2019.pdf"
    assert (
        pg.locator("#roe2021 a.badge-doi").get_attribute("href")
        == "https://doi.org/10.1000/book.2021"
    )
    first_code = next(
        e for e in result.entries if e.record and any(c.stars for c in e.record.code_links)
    )
    code = pg.locator(f"[id='{first_code.key}'] a.badge-code")
    assert code.inner_text() == "[Code ★ 1.2k]"
    assert code.get_attribute("href") == first_code.record.code_links[0].url
    assert pg.locator("script").count() == 1  # ours; the record's <script> is text
    assert "<script>alert(1)</script>" in pg.inner_text("#roe2021")


@pytest.mark.slow
def test_readable_on_a_phone(browser: Any, built: tuple[Path, Any]) -> None:
    path, _ = built
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2)
    pg = context.new_page()
    pg.goto(path.as_uri())
    overflow = pg.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert pg.locator("#bt-search").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "publications-phone.png"))
    context.close()
