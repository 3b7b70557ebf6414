"""The publication page of issue 17 in Debian's Chromium (Playwright): as a reader uses it.

Screenshots at 1280 and 390 px (light and dark) go to ``tests/artifacts/``
(git-ignored); the search box and every filter must change the shown count
to exactly the papers that match; the copy button must put the entry, as
``references.bib`` has it, on the clipboard; axe-core must find no serious
or critical violation; with JavaScript off every paper is listed; the
filters work from the keyboard alone.  Needs ``/usr/bin/chromium`` and
playwright; the axe test also needs ``npm ci --prefix tests/a11y``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from browser_a11y import (
    CHROMIUM,
    LAUNCH_ARGS,
    axe_skip_reason,
    format_violations,
    serious_violations,
)

from bibtools.convert import read_text, write
from bibtools.pages import FormatOptions, format_records
from bibtools.publication import bibtex_entries, incomplete
from bibtools.text.keys import assign_keys

ARTIFACTS = Path(__file__).parent / "artifacts"

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
  selected = {true},
}
"""

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is missing: pip install -e '.[test]'"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, dict[str, str]]:
    text = (files("bibtools") / "data" / "example.listing").read_text(encoding="utf-8")
    records = read_text(text, "listing", as_of=dt.date(2025, 1, 1)).records
    records += read_text(EXTRA, "bibtex").records
    assign_keys(records)
    records[0].code_links[0] = replace(records[0].code_links[0], stars=1234)
    bib = bibtex_entries(write(records, "bibtex").text)
    result = format_records(
        records,
        FormatOptions(
            output="html",
            standalone=True,
            group_by="year",
            sort="date-desc",
            highlight=["Ashish Vaswani"],
            title="Lab publications",
            bibtex=bib,
            built="2026-12-04",
            incomplete=incomplete(records),
        ),
    )
    path = tmp_path_factory.mktemp("page") / "publications.html"
    path.write_text(result.text, encoding="utf-8")
    return path, result, bib


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


def open_page(browser: Any, path: Path, **context_options: Any) -> tuple[Any, Any, list[str]]:
    context_options.setdefault("viewport", {"width": 1280, "height": 900})
    context = browser.new_context(**context_options)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    # Self-contained: nothing but the file itself may load.
    pg.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    pg.goto(path.as_uri())
    return context, pg, errors


@pytest.fixture()
def page(browser: Any, built: tuple[Path, Any, dict[str, str]]) -> Iterator[tuple[Any, list[str]]]:
    context, pg, errors = open_page(browser, built[0])
    try:
        yield pg, errors
    finally:
        context.close()


def shown(pg: Any) -> list[str]:
    return pg.eval_on_selector_all(
        "article.bt-paper", "els => els.filter(e => e.offsetParent !== null).map(e => e.id)"
    )


def count_text(pg: Any) -> str:
    return pg.inner_text("#bt-status")


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_without_overflow(
    browser: Any, built: tuple[Path, Any, dict[str, str]], width: int, scheme: str
) -> None:
    context, pg, errors = open_page(
        browser, built[0], viewport={"width": width, "height": 900}, color_scheme=scheme
    )
    try:
        overflow = pg.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow}px wider than a {width}px screen"
        pg.click("#doe2019 .bt-bibtex summary")  # an open BibTeX must not widen the page
        assert (
            pg.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            <= 0
        )
        pg.click("#doe2019 .bt-bibtex summary")
        pg.evaluate("window.scrollTo(0, 0)")
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"publications-{width}-{scheme}.png"
        pg.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        background = pg.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(18, 18, 18)")
        assert errors == []
    finally:
        context.close()


@pytest.mark.slow
def test_every_paper_shows_authors_venue_and_links(
    page: tuple[Any, list[str]], built: tuple[Path, Any, dict[str, str]]
) -> None:
    pg, errors = page
    _, result, _ = built
    assert shown(pg) == [e.key for e in result.entries]
    assert count_text(pg) == f"{len(result.entries)} of {len(result.entries)} shown"
    for e in result.entries:
        assert pg.locator(f"[id='{e.key}'] .bt-authors").inner_text().strip()
        assert pg.locator(f"[id='{e.key}'] .bt-venue").inner_text().strip()
    assert pg.locator("[id='vaswani2017attention'] .bt-authors").inner_text() == (
        "Ashish Vaswani, Noam Shazeer, Niki Parmar, et al."
    )
    assert (
        pg.locator("[id='vaswani2017attention'] .bt-authors b.highlight").inner_text()
        == "Ashish Vaswani"
    )
    code = pg.locator("[id='vaswani2017attention'] a.badge-code")
    assert code.inner_text() == "[Code ★ 1.2k]"
    assert "<script>alert(1)</script>" in pg.inner_text("#roe2021 .bt-title")
    assert pg.locator("script").count() == 1
    assert "Built on 2026-12-04" in pg.inner_text("footer")
    assert errors == []


@pytest.mark.slow
def test_search_box_and_each_filter_change_the_shown_count(
    page: tuple[Any, list[str]], built: tuple[Path, Any, dict[str, str]]
) -> None:
    pg, errors = page
    entries = built[1].entries
    total = len(entries)

    def expect(keys: list[str]) -> None:
        assert shown(pg) == keys
        assert count_text(pg) == f"{len(keys)} of {total} shown"

    pg.fill("#bt-search", "zebra")
    expect(["doe2019"])
    pg.fill("#bt-search", "transformer")
    with_word = [e.key for e in entries if "transformer" in (e.text + " " + e.abstract).lower()]
    assert len(with_word) > 1
    expect(with_word)
    pg.fill("#bt-search", "primaryclass")  # a BibTeX field name is not what a reader sees
    expect([])
    pg.fill("#bt-search", "vaswani")  # authors, case folded
    expect([e.key for e in entries if "Vaswani" in e.text])
    pg.fill("#bt-search", "")
    expect([e.key for e in entries])
    pg.select_option("#bt-year", "2021")
    expect([e.key for e in entries if e.year == "2021"])
    pg.select_option("#bt-type", "book")
    expect(["roe2021"])
    pg.select_option("#bt-year", "")
    pg.select_option("#bt-type", "preprint")
    expect([e.key for e in entries if e.type == "preprint"])
    pg.select_option("#bt-type", "")
    pg.check("#bt-code")
    with_code = [e.key for e in entries if e.has_code]
    assert 0 < len(with_code) < total
    expect(with_code)
    pg.uncheck("#bt-code")
    expect([e.key for e in entries])
    assert errors == []


@pytest.mark.slow
def test_copy_button_puts_the_entry_on_the_clipboard(
    browser: Any, built: tuple[Path, Any, dict[str, str]]
) -> None:
    path, _, bib = built
    context, pg, errors = open_page(
        browser, path, permissions=["clipboard-read", "clipboard-write"]
    )
    try:
        pg.click("#doe2019 .bt-bibtex summary")
        pg.click("#doe2019 .bt-copy")
        pg.wait_for_function(
            "document.querySelector('#doe2019 .bt-copied').textContent === 'Copied'"
        )
        assert pg.evaluate("navigator.clipboard.readText()") == bib["doe2019"]
        assert bib["doe2019"].startswith("@inproceedings{doe2019,")
        assert errors == []
    finally:
        context.close()


def test_without_javascript_every_paper_is_listed(
    browser: Any, built: tuple[Path, Any, dict[str, str]]
) -> None:
    path, result, bib = built
    context, pg, _ = open_page(browser, path, java_script_enabled=False)
    try:
        assert shown(pg) == [e.key for e in result.entries]
        assert pg.locator(".bt-copy:visible").count() == 0  # nothing that cannot work
        pg.click("#doe2019 .bt-bibtex summary")  # <details> opens without script
        assert pg.inner_text("#doe2019 .bt-bibtex code") == bib["doe2019"]
        first = result.entries[0].key
        pg.click(f"[id='{first}'] .bt-abstract summary")
        assert pg.locator(f"[id='{first}'] .bt-abstract p").is_visible()
    finally:
        context.close()


def test_filters_work_from_the_keyboard_alone(
    page: tuple[Any, list[str]], built: tuple[Path, Any, dict[str, str]]
) -> None:
    pg, errors = page
    entries = built[1].entries
    years = sorted({e.year for e in entries if e.year}, reverse=True)
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.id") == "bt-search"
    pg.keyboard.type("zebra")
    assert shown(pg) == ["doe2019"]
    for _ in range(5):
        pg.keyboard.press("Backspace")
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.id") == "bt-year"
    pg.keyboard.press("ArrowDown")  # the newest year
    assert shown(pg) == [e.key for e in entries if e.year == years[0]]
    pg.keyboard.press("ArrowUp")
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.id") == "bt-type"
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.id") == "bt-code"
    pg.keyboard.press("Space")
    assert shown(pg) == [e.key for e in entries if e.has_code]
    pg.keyboard.press("Space")
    assert len(shown(pg)) == len(entries)
    # Onwards into the list: the first paper's links and toggles take the focus.
    pg.keyboard.press("Tab")
    tag = pg.evaluate("document.activeElement.tagName")
    assert tag in ("A", "SUMMARY")
    assert errors == []


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violation(
    browser: Any, built: tuple[Path, Any, dict[str, str]], scheme: str
) -> None:
    reason = axe_skip_reason()
    if reason:
        pytest.skip(reason)
    context, pg, _ = open_page(browser, built[0], color_scheme=scheme, bypass_csp=True)
    try:
        pg.click("#doe2019 .bt-bibtex summary")
        pg.click("#doe2019 .bt-cite summary")
        found = serious_violations(pg)
        assert found == [], format_violations(found)
    finally:
        context.close()


def test_printable(page: tuple[Any, list[str]]) -> None:
    pg, _ = page
    pg.emulate_media(media="print")
    assert not pg.locator("#bt-filters").is_visible()
    assert not pg.locator(".bt-bibtex").first.is_visible()
    assert pg.locator("article.bt-paper").first.is_visible()
    background = pg.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(255, 255, 255)"
