"""Pick the 100 CSL-JSON items written by pandoc 2.x of the formatting fidelity set.

    python benchmarks/citeproc_js/select_pandoc2.py [--pandoc /usr/bin/pandoc]

pandoc 2.x is still what Debian and Ubuntu ship, so its CSL-JSON is what many
users hand to other tools.  This runs it (``pandoc -f bibtex -t csljson``)
over every BibTeX fixture (``tests/fixtures/bibtex/**``) and writes
``tests/data/citeproc_js/entries.pandoc2.json``: 100 of its items as it wrote
them, ids prefixed ``p2-`` so they cannot clash with the other entries.  An
item is taken when it has a title and a person or a date, as in
``select_entries.py``; the choice is deterministic (the first item of each
type, ``""`` included, then evenly spaced picks).  Run ``regenerate.py``
afterwards.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "tests" / "data" / "citeproc_js" / "entries.pandoc2.json"
N = 100
sys.path.insert(0, str(HERE))

from select_entries import spread  # noqa: E402


def pandoc_items(pandoc: str, path: Path) -> list[dict]:
    try:
        proc = subprocess.run(
            [pandoc, "-f", "bibtex", "-t", "csljson", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:  # pandoc loops on crossref cycles
        return []
    if proc.returncode != 0:
        return []
    return json.loads(proc.stdout or "[]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pandoc", default="/usr/bin/pandoc", help="a pandoc 2.x binary")
    args = parser.parse_args()
    version = subprocess.run([args.pandoc, "--version"], capture_output=True, text=True).stdout
    if not version.startswith("pandoc 2."):
        print(f"{args.pandoc} is not pandoc 2.x: {version.splitlines()[:1]}", file=sys.stderr)
        return 2
    candidates: list[tuple[str, str]] = []
    items: dict[str, dict] = {}
    for path in sorted((ROOT / "tests" / "fixtures" / "bibtex").rglob("*.bib")):
        for item in pandoc_items(args.pandoc, path):
            ident = f"p2-{item['id']}"
            has_person = item.get("author") or item.get("editor")
            if ident in items or not item.get("title") or not (has_person or item.get("issued")):
                continue
            items[ident] = {**item, "id": ident}
            candidates.append((item.get("type", ""), ident))
    chosen = [items[ident] for _, ident in spread(candidates, N)]
    OUT.write_text(json.dumps(chosen, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    types = sum(1 for item in chosen if item.get("type") == "")
    print(f"{len(chosen)} items ({types} with type '') in {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
