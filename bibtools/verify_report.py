"""The ``verify`` report: JSON, Markdown, HTML (everything escaped) and a rich table.

:class:`Report` holds the verdicts, the ``--tex`` audit and the ``--fix``
changes; each renderer is a pure function of it (deterministic: no dates,
no timings).  The JSON is the contract of issue 15: an object whose
``results`` has one object per record with ``key``, ``verdict``,
``fields``, ``retracted`` and the evidence.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .changes import Change
from .citations import Audit
from .verify import VERDICTS, Verdict, counts

SCHEMA_VERSION = 1
LABELS = {
    "verified": "verified",
    "mismatch": "MISMATCH",
    "wrong-id": "WRONG ID",
    "phantom-id": "PHANTOM ID",
    "not-found": "NOT FOUND",
    "unchecked": "unchecked",
}


@dataclass(slots=True)
class Report:
    verdicts: list[Verdict]
    requests: int = 0  # sent over the network this run
    from_cache: int = 0
    audit: Audit | None = None
    changes: list[Change] = field(default_factory=list)
    fixed_file: str = ""

    def summary(self) -> str:
        """``62 records: 31 verified, 9 mismatch, ...; 3 retracted; 23 requests, 0 from cache``."""
        c = counts(self.verdicts)
        n = len(self.verdicts)
        parts = [f"{c[v]} {v}" for v in VERDICTS if c[v]]
        text = f"{n} {'record' if n == 1 else 'records'}: " + (", ".join(parts) or "none")
        retracted = sum(1 for v in self.verdicts if v.retracted)
        if retracted:
            text += f"; {retracted} retracted"
        if self.audit is not None:
            a = self.audit
            text += (
                f"; citations: {len(a.missing)} missing, {len(a.uncited)} never cited, "
                f"{len(a.same_work)} cited twice"
            )
        if self.fixed_file:
            text += f"; {len(self.changes)} fixes written to {self.fixed_file}"
        return f"{text}; {self.requests} requests, {self.from_cache} from cache"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": SCHEMA_VERSION,
            "summary": {
                "records": len(self.verdicts),
                **counts(self.verdicts),
                "retracted": sum(1 for v in self.verdicts if v.retracted),
                "requests": self.requests,
                "from_cache": self.from_cache,
            },
            "results": [v.as_dict() for v in self.verdicts],
        }
        if self.audit is not None:
            out["citations"] = self.audit.as_dict()
        if self.fixed_file:
            out["fixes"] = {"file": self.fixed_file, "changes": [c.as_dict() for c in self.changes]}
        return out


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def _detail(v: Verdict) -> str:
    """One line: what is wrong and what the sources say (plain text)."""
    text = v.message
    if v.verdict == "verified" and v.evidence:
        w = v.evidence[0]
        text = text or f"{w.source} {w.id}"
    return text


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _md(text: str) -> str:
    # A table cell: no pipe, no line break, no markup the reader did not write.
    out = " ".join(str(text).split())
    for ch in "\\|`*_[]<>#":
        out = out.replace(ch, "\\" + ch)
    return out


def render_markdown(report: Report) -> str:
    lines = ["# Reference check", "", report.summary(), ""]
    lines += [
        "| key | title | verdict | fields | retracted | details |",
        "|---|---|---|---|---|---|",
    ]
    for v in report.verdicts:
        lines.append(
            f"| {_md(v.key)} | {_md(_short(v.title))} | {v.verdict} | {_md(', '.join(v.fields))} | "
            f"{'**yes**' if v.retracted else ''} | {_md(_detail(v))} |"
        )
    if report.audit is not None:
        a = report.audit
        lines += ["", "## Citations", ""]
        lines.append(f"- cited but not in the bibliography: {_md(', '.join(a.missing)) or 'none'}")
        lines.append(f"- never cited: {_md(', '.join(a.uncited)) or 'none'}")
        for x, y, why in a.same_work:
            lines.append(f"- {_md(x)} and {_md(y)} are one work ({_md(why)})")
        if not a.same_work:
            lines.append("- cited twice under two keys: none")
    if report.fixed_file:
        lines += ["", f"## Fixes written to {_md(report.fixed_file)}", ""]
        for c in report.changes:
            lines.append(
                f"- {_md(c.record_key)}: {_md(c.field)} {_md(json.dumps(c.old, ensure_ascii=False))}"
                f" -> {_md(json.dumps(c.new, ensure_ascii=False))} ({_md(c.source)})"
            )
        if not report.changes:
            lines.append("- nothing to fix that an id confirms")
    return "\n".join(lines) + "\n"


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top;text-align:left}"
    ".verified{color:#176f2c}.unchecked{color:#666}.mismatch,.wrong-id,.phantom-id,"
    ".not-found{color:#b00020;font-weight:bold}.retracted{color:#b00020}"
)


def render_html(report: Report) -> str:
    e = html.escape
    rows = []
    for v in report.verdicts:
        link = ""
        if v.evidence and v.evidence[0].url.startswith(("https://", "http://")):
            w = v.evidence[0]
            link = f' <a href="{e(w.url)}" rel="noreferrer">{e(w.source)}</a>'
        rows.append(
            f"<tr><td><code>{e(v.key)}</code></td><td>{e(_short(v.title, 80))}</td>"
            f'<td class="{e(v.verdict)}">{e(v.verdict)}</td>'
            f"<td>{e(', '.join(v.fields))}</td>"
            f'<td class="retracted">{"retracted" if v.retracted else ""}</td>'
            f"<td>{e(_detail(v))}{link}</td></tr>"
        )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Reference check</title>',
        f"<style>{_CSS}</style></head><body>",
        "<h1>Reference check</h1>",
        f"<p>{e(report.summary())}</p>",
        "<table><thead><tr><th>key</th><th>title</th><th>verdict</th><th>fields</th><th>retracted</th>"
        "<th>details</th></tr></thead><tbody>",
        *rows,
        "</tbody></table>",
    ]
    if report.audit is not None:
        a = report.audit
        parts.append("<h2>Citations</h2><ul>")
        parts.append(
            f"<li>cited but not in the bibliography: {e(', '.join(a.missing)) or 'none'}</li>"
        )
        parts.append(f"<li>never cited: {e(', '.join(a.uncited)) or 'none'}</li>")
        for x, y, why in a.same_work:
            parts.append(f"<li>{e(x)} and {e(y)} are one work ({e(why)})</li>")
        parts.append("</ul>")
    if report.fixed_file:
        parts.append(f"<h2>Fixes written to {e(report.fixed_file)}</h2><ul>")
        for c in report.changes:
            parts.append(
                f"<li>{e(c.record_key)}: {e(c.field)} {e(json.dumps(c.old, ensure_ascii=False))}"
                f" &rarr; {e(json.dumps(c.new, ensure_ascii=False))} ({e(c.source)})</li>"
            )
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_table(report: Report) -> Any:
    """A rich renderable (table, then the citation audit and fixes as text)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    styles = {
        "verified": "green",
        "unchecked": "dim",
        "mismatch": "bold yellow",
        "wrong-id": "bold red",
        "phantom-id": "bold red",
        "not-found": "bold red",
    }
    table = Table(title="Reference check", caption=report.summary())
    for name in ("key", "verdict", "fields", "retracted", "details"):
        table.add_column(name, overflow="fold")
    for v in report.verdicts:
        table.add_row(
            Text(v.key),
            Text(v.verdict, style=styles[v.verdict]),
            Text(", ".join(v.fields)),
            Text("RETRACTED" if v.retracted else "", style="bold red"),
            Text(_detail(v)),
        )
    extra: list[Any] = [table]
    lines: list[str] = []
    if report.audit is not None:
        a = report.audit
        lines.append(f"cited but not in the bibliography: {', '.join(a.missing) or 'none'}")
        lines.append(f"never cited: {', '.join(a.uncited) or 'none'}")
        lines += [f"{x} and {y} are one work ({why})" for x, y, why in a.same_work]
    if report.fixed_file:
        lines.append(f"fixes written to {report.fixed_file}:")
        lines += [
            f"  {c.record_key}: {c.field} {json.dumps(c.old, ensure_ascii=False)}"
            f" -> {json.dumps(c.new, ensure_ascii=False)} ({c.source})"
            for c in report.changes
        ] or ["  nothing that an id confirms"]
    if lines:
        extra.append(Text("\n".join(lines)))
    return Group(*extra)


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "html":
        return render_html(report)
    return render_markdown(report)


def verdict_lines(verdicts: Sequence[Verdict]) -> list[str]:
    """``FILE:LINE: key: verdict: details`` for the bad ones (stderr, CI logs)."""
    return [f"{v.location}: {v.key}: {v.verdict}: {_detail(v)}" for v in verdicts if v.bad]
