"""The axe-core helper (tests/browser_a11y.py) finds what it must and nothing else.

Two static pages in tests/data/a11y/: ``bad.html`` has an image without alt
text and text at about 1.7:1 contrast; ``good.html`` is the same content made
accessible. Needs Debian's chromium, playwright and ``npm ci --prefix
tests/a11y`` (axe-core); skips, saying which is missing, otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_a11y import (
    WCAG_AA,
    axe_skip_reason,
    format_violations,
    launch,
    new_context,
    serious_violations,
)

PAGES = Path(__file__).parent / "data" / "a11y"

_reason = axe_skip_reason()
if _reason:
    pytest.skip(_reason, allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as p:
        b = launch(p)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def open_page(browser: Any) -> Iterator[Any]:
    context = new_context(browser, viewport={"width": 1100, "height": 800})
    # Offline: nothing but the file itself may load.
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(("file:", "data:")) else route.abort()
        ),
    )

    def go(name: str) -> Any:
        page = context.new_page()
        page.goto((PAGES / name).as_uri())
        return page

    try:
        yield go
    finally:
        context.close()


@pytest.mark.slow
def test_finds_missing_alt_text_and_low_contrast(open_page: Any) -> None:
    found = serious_violations(open_page("bad.html"))
    by_id = {v["id"]: v for v in found}
    assert set(by_id) == {"image-alt", "color-contrast"}, format_violations(found)
    assert by_id["image-alt"]["impact"] == "critical"
    assert by_id["image-alt"]["targets"] == ["#logo"]
    assert by_id["color-contrast"]["impact"] == "serious"
    assert by_id["color-contrast"]["targets"] == ["#venue"]


@pytest.mark.slow
def test_clean_page_has_no_serious_violation(open_page: Any) -> None:
    page = open_page("good.html")
    assert serious_violations(page) == []
    # Run twice on one document: axe is injected once and gives the same answer.
    assert serious_violations(page, tags=WCAG_AA) == []


@pytest.mark.slow
def test_rules_can_be_narrowed_to_a_part_of_the_page(open_page: Any) -> None:
    page = open_page("bad.html")
    assert [v["id"] for v in serious_violations(page, context="#venue")] == ["color-contrast"]
