"""axe-core in Playwright with Debian's Chromium: accessibility checks for pages.

axe-core (npm, MPL-2.0) is pinned in ``tests/a11y/package.json`` and its
lock file; ``npm ci --prefix tests/a11y`` puts it in
``tests/a11y/node_modules`` (git-ignored). Nothing is downloaded at test
time: the helper reads ``axe.min.js`` from there and injects it into the page.

Usage in a browser test::

    from browser_a11y import axe_skip_reason, new_context, serious_violations

    reason = axe_skip_reason()
    if reason:
        pytest.skip(reason)
    context = new_context(browser)          # bypass_csp: a page's CSP cannot block axe
    page = context.new_page()
    page.goto(path.as_uri())
    assert serious_violations(page) == [], format_violations(...)
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
AXE_DIR = Path(__file__).parent / "a11y"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What "no serious violation" means in issue 17: axe's two highest impacts.
SERIOUS = ("serious", "critical")
# WCAG 2.0/2.1/2.2 A and AA plus axe's best practices: the rule set axe runs
# when no tags are given, named here so a test can narrow it explicitly.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_skip_reason() -> str | None:
    """Why the axe checks cannot run here, or None when they can."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: apt-get install -y chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is missing: pip install -e '.[test]'"
    if not AXE_JS.is_file():
        if shutil.which("npm") is None or shutil.which("node") is None:
            return "axe-core is not installed and node/npm are missing (apt-get install -y npm)"
        return f"axe-core is not installed: npm ci --prefix {AXE_DIR}"
    return None


def launch(playwright: Any) -> Any:
    """Debian's Chromium through Playwright, offline-friendly flags."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)


def new_context(browser: Any, **options: Any) -> Any:
    """A browser context in which axe can be injected whatever the page's CSP."""
    options.setdefault("bypass_csp", True)
    return browser.new_context(**options)


def run_axe(page: Any, *, tags: list[str] | None = None, context: Any = None) -> dict:
    """Inject axe-core (once per document) and return axe.run's result object.

    ``tags`` limits the rules (e.g. WCAG_AA); ``context`` is axe's include /
    exclude context (a selector string or {"include": [...], "exclude": [...]}).
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if tags:
        options["runOnly"] = {"type": "tag", "values": tags}
    return page.evaluate(
        "([ctx, opts]) => axe.run(ctx === null ? document : ctx, opts)", [context, options]
    )


def serious_violations(page: Any, **kwargs: Any) -> list[dict]:
    """The serious and critical violations on the page, each as a small dict:
    ``{"id", "impact", "help", "helpUrl", "targets": [css selectors], "html": [snippets]}``,
    sorted by rule id so failures read the same on every run."""
    result = run_axe(page, **kwargs)
    found = []
    for v in result["violations"]:
        if v.get("impact") not in SERIOUS:
            continue
        found.append(
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "helpUrl": v["helpUrl"],
                "targets": [" ".join(map(str, n["target"])) for n in v["nodes"]],
                "html": [n["html"] for n in v["nodes"]],
            }
        )
    return sorted(found, key=lambda v: v["id"])


def format_violations(violations: list[dict]) -> str:
    """One line per violation, for assertion messages."""
    return "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['targets'])}" for v in violations
    )
