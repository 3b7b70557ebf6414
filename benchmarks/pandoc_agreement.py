"""How often bibtools' BibTeX -> CSL-JSON agrees with pandoc's own conversion.

    python benchmarks/pandoc_agreement.py [FILE.bib ...] [--details N]

For every entry and every field pandoc writes among title, names, dates,
container, volume, issue, pages, DOI, publisher and type, the two values are
compared after light normalisation (case and markup in titles, dash style in
pages, the doi.org prefix).  Prints the agreement per field and overall, and
the most common disagreements, so deliberate differences can be listed in
docs/differences.md.  Needs pandoc (the pypandoc-binary wheel or PATH).
"""

from __future__ import annotations

import argparse
import collections
import html
import json
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INPUTS = sorted((ROOT / "tests" / "fixtures" / "bibtex").rglob("*.bib"))
FIELDS = (
    "title",
    "author",
    "editor",
    "issued",
    "container-title",
    "volume",
    "issue",
    "page",
    "DOI",
    "publisher",
    "type",
)


def pandoc_path() -> str | None:
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError):
        return shutil.which("pandoc")


def norm_text(value: str) -> str:
    value = re.sub(r"<[^>]+>", "", value)
    value = html.unescape(value)
    value = unicodedata.normalize("NFC", value).casefold()
    # Soft hyphens ({\-}) are invisible; pandoc keeps them, we drop them.
    value = value.replace("\u2019", "'").replace("\u00a0", " ").replace("\u00ad", "")
    return " ".join(value.split())


def norm_names(names: list[dict]) -> list[str]:
    out = []
    for n in names:
        if n.get("literal") == "others":
            continue  # pandoc's spelling of "and others"; we keep a flag instead
        if "literal" in n:
            out.append(norm_text(n["literal"]))
            continue
        family = " ".join(
            p
            for p in (n.get("dropping-particle"), n.get("non-dropping-particle"), n.get("family"))
            if p
        )
        out.append(norm_text(f"{n.get('given', '')}|{family}|{n.get('suffix', '')}"))
    return out


def norm(field: str, value):
    if field in ("author", "editor"):
        return norm_names(value)
    if field == "issued":
        parts = value.get("date-parts") or []
        return (
            [[int(x) for x in p] for p in parts]
            if parts
            else value.get("literal") or value.get("raw")
        )
    if field == "page":
        return re.sub(r"\s*[-\u2013\u2014]+\s*", "-", str(value))
    if field == "DOI":
        return re.sub(r"^https?://(dx\.)?doi\.org/", "", str(value)).lower()
    return norm_text(str(value))


def ours(paths: list[Path]) -> dict[str, dict]:
    from bibtools.convert import read_file, write

    records = []
    for path in paths:
        records.extend(read_file(str(path), "bibtex").records)
    items = json.loads(write(records, "csljson").text)
    return {item["id"]: item for item in items}


def theirs(pandoc: str, paths: list[Path]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for path in paths:
        try:
            proc = subprocess.run(
                [pandoc, "-f", "bibtex", "-t", "csljson", str(path)],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except subprocess.TimeoutExpired:
            # pandoc 3.9 loops forever on crossref cycles (seen on two fixtures).
            print(f"pandoc timed out on {path.name}", file=sys.stderr)
            continue
        if proc.returncode != 0:
            print(f"pandoc failed on {path.name}: {proc.stderr.strip()[:200]}", file=sys.stderr)
            continue
        for item in json.loads(proc.stdout or "[]"):
            out.setdefault(item["id"], item)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="*", type=Path)
    parser.add_argument("--details", type=int, default=5, help="disagreements to show per field")
    args = parser.parse_args()
    pandoc = pandoc_path()
    if not pandoc:
        print("pandoc not found: pip install pypandoc-binary", file=sys.stderr)
        return 2
    paths = args.inputs or DEFAULT_INPUTS
    # Keys repeat across files: compare file by file so ids stay unique.
    agree: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    examples: dict[str, list[str]] = collections.defaultdict(list)
    missing = 0
    for path in paths:
        try:
            mine, pan = ours([path]), theirs(pandoc, [path])
        except Exception as exc:  # an unreadable file counts against us
            print(f"{path.name}: {exc}", file=sys.stderr)
            continue
        for key, theirs_item in pan.items():
            mine_item = mine.get(key)
            if mine_item is None:
                missing += 1
                continue
            for field in FIELDS:
                if field not in theirs_item or theirs_item[field] in ("", [], None):
                    continue
                total[field] += 1
                a, b = norm(field, mine_item.get(field, "")), norm(field, theirs_item[field])
                if a == b:
                    agree[field] += 1
                elif len(examples[field]) < args.details:
                    examples[field].append(f"{path.name}:{key}: ours={a!r} pandoc={b!r}")
    print(f"{'field':16} {'agree':>7} {'of':>7} {'rate':>7}")
    for field in FIELDS:
        if total[field]:
            print(
                f"{field:16} {agree[field]:7d} {total[field]:7d} {agree[field] / total[field]:7.1%}"
            )
    all_agree, all_total = sum(agree.values()), sum(total.values())
    print(f"{'overall':16} {all_agree:7d} {all_total:7d} {all_agree / max(all_total, 1):7.1%}")
    print(f"entries pandoc wrote that we did not: {missing}")
    for field, lines in examples.items():
        print(f"\n{field}:")
        for line in lines:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
