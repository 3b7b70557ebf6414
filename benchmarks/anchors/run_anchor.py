"""Run one of issue 15's anchors against the loopback fakes and print its verdicts in our terms.

    ANCHOR_HOSTS='{"api.crossref.org": "http://127.0.0.3:PORT", ...}' \\
        /path/to/anchors-venv/bin/python benchmarks/anchors/run_anchor.py bibguard refs.bib

Runs in the anchors' own environment (``pip install bibguard scholarcheck``
in a separate venv: they are not bibtools dependencies).  Before the tool is
imported, every way it reaches the network is pointed at the fakes:
``requests`` (bibguard), ``urllib.request`` and the ``curl`` it runs
(scholarcheck); a host with no fake (DBLP, Europe PMC, arxiv.org pages)
goes to a closed port, i.e. that service is down.  ``time.sleep`` is made
a no-op (bibguard sleeps 1-3 s per source per reference to be polite).

The tool's statuses are mapped to our verdicts (tests/data/verify/ANCHORS.md
lists them); what a tool cannot say (scholarcheck has no mismatch or wrong
id) it does not say.  Output: ``{"results": [{"key", "verdict", "retracted",
"raw"}]}`` on stdout, for benchmarks/verify_scores.py.
"""

from __future__ import annotations

import json
import os
import sys
import time
from urllib.parse import urlsplit, urlunsplit

HOSTS: dict[str, str] = json.loads(os.environ.get("ANCHOR_HOSTS", "{}"))
DEAD = "http://127.0.0.1:9"


def rewrite(url: str) -> str:
    parts = urlsplit(url)
    if parts.hostname in (None, "127.0.0.1", "localhost") or (parts.hostname or "").startswith(
        "127."
    ):
        return url
    base = HOSTS.get(parts.hostname or "", DEAD)
    b = urlsplit(base)
    path = parts.path
    if parts.hostname == "export.arxiv.org":
        path = b.path.rstrip("/") if b.path else path
    return urlunsplit((b.scheme, b.netloc, path, parts.query, parts.fragment))


def patch() -> None:
    time.sleep = lambda seconds: None  # type: ignore[assignment]
    try:
        import requests

        original = requests.Session.request

        def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
            return original(self, method, rewrite(url), *args, **kwargs)

        requests.Session.request = request  # type: ignore[method-assign]
    except ImportError:
        pass
    import urllib.request

    opener_open = urllib.request.OpenerDirector.open

    def open_(self, fullurl, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(fullurl, str):
            fullurl = rewrite(fullurl)
        else:
            fullurl.full_url = rewrite(fullurl.full_url)
        return opener_open(self, fullurl, *args, **kwargs)

    urllib.request.OpenerDirector.open = open_  # type: ignore[method-assign]
    import subprocess

    run = subprocess.run

    def run_(cmd, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(cmd, list) and cmd and cmd[0] == "curl":
            cmd = [rewrite(c) if c.startswith(("http://", "https://")) else c for c in cmd]
        return run(cmd, *args, **kwargs)

    subprocess.run = run_  # type: ignore[assignment]


def bibguard(bib: str) -> list[dict[str, object]]:
    from bibguard.core import verify_bib

    results, _ = verify_bib(bib, tex_path=None, verbose=False, workers=1)
    out = []
    for r in results:
        checks = r.checks
        fields = {c["field"] for c in checks if c["status"] in ("FAIL", "WARN")}
        retracted = any(c["field"] == "retraction" and c["status"] == "FAIL" for c in checks)
        if r.overall == "OK" or fields <= {"retraction"}:
            verdict = "verified"
        elif fields & {"phantom_doi", "phantom_arxiv"}:
            verdict = "phantom-id"
        elif "verification" in fields:
            verdict = "not-found" if r.overall == "FAIL" else "unchecked"
        else:
            verdict = "mismatch"
        out.append(
            {
                "key": r.key,
                "verdict": verdict,
                "retracted": retracted,
                "raw": r.overall,
                "checks": sorted(fields),
            }
        )
    return out


def scholarcheck(bib: str) -> list[dict[str, object]]:
    from scholarcheck import cli

    with open(bib, encoding="utf-8") as fh:
        refs = cli.parse_refs(fh.read())
    out = []
    for ref in refs:
        state, detail = cli.audit_ref(ref)
        has_id = bool(ref.get("doi") or ref.get("arxiv"))
        verdict = {"OK": "verified", "UNCHECKED": "unchecked"}.get(
            state, "phantom-id" if has_id else "not-found"
        )
        out.append(
            {
                "key": ref["key"],
                "verdict": verdict,
                "retracted": False,
                "raw": state,
                "detail": detail,
            }
        )
    return out


def main() -> int:
    tool, bib = sys.argv[1], sys.argv[2]
    patch()
    results = {"bibguard": bibguard, "scholarcheck": scholarcheck}[tool](bib)
    json.dump({"tool": tool, "results": results}, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
