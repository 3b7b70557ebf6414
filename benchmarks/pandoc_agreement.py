"""How often bibtools' BibTeX -> CSL-JSON agrees with pandoc's own conversion.

    python benchmarks/pandoc_agreement.py [FILE.bib ...] [--details N]

For every entry and every field pandoc writes among title, names, dates,
container, volume, issue, pages, DOI, publisher and type, the two values are
compared after light normalisation (case and markup in titles, dash style in
pages, the doi.org prefix).  Prints the agreement per field and overall, how
many disagreements belong to a class docs/differences.md lists (recognised
mechanically by :func:`deliberate`), and the other disagreements, so that
new deliberate differences can be listed and bugs found.  Needs pandoc (the pypandoc-binary wheel or PATH).
"""

from __future__ import annotations

import argparse
import collections
import difflib
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
        # A DOI given as a resolver URL (doi.org, dx.doi.org, ACM's doi.acm.org): we
        # write the DOI, pandoc the URL as given; the same identifier.
        return re.sub(r"^(https?://(dx\.)?doi\.(acm\.)?org/|doi:\s*)", "", str(value)).lower()
    return norm_text(str(value))


def _only_drops(ours_text: str, theirs_text: str) -> bool:
    """Whether pandoc's text is ours with parts left out, or a dash it dropped a space.

    (pandoc prints nothing for what it does not know, and a space where it
    dropped \\emdash or after \\slash.)
    """
    matcher = difflib.SequenceMatcher(None, ours_text, theirs_text, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("insert", "replace") and (
            theirs_text[j1:j2].strip() or not set(ours_text[i1:i2]) <= set(" \u2014\u2013-")
        ):
            return False
    return True


def deliberate(field: str, mine: dict, theirs: dict, a, b) -> str | None:
    """The class of docs/differences.md a disagreement belongs to, if it is a listed one.

    Only mechanical tests: what they do not recognise stays unexplained.
    """
    if field == "issue" and isinstance(b, str) and b.startswith(f"{a}, "):
        return "number, issue: pandoc joins both"
    if mine.get("type") == "periodical" and field in ("type", "container-title"):
        return "@periodical: a periodical, not an article in itself"
    if field == "issued" and b in (None, [[0]]) and a:
        return "dates pandoc cannot read: ranges, 19xx, 1994 (to appear)"
    if (
        field == "issued"
        and isinstance(a, list)
        and isinstance(b, list)
        and len(a) == len(b)
        and all(x[: len(y)] == y for x, y in zip(a, b, strict=True))
    ):
        return "months (and days) pandoc drops"
    if field in ("author", "editor") and isinstance(b, list):
        text = " ".join(b)
        if "\u0131" in text:
            return "names: pandoc's dotless i with a combining accent"
        if "(" in text:
            return "names: a part in parentheses"
        if " and " in text:
            return "names: AND in capitals separates names"
        if (
            isinstance(a, list)
            and len(a) == len(b)
            and all(x == y or _only_drops(x, y) for x, y in zip(a, b, strict=True))
        ):
            return "text pandoc drops: unknown commands and their arguments, logos, dashes"
        return None
    if not isinstance(a, str) or not isinstance(b, str):
        return None
    if (
        field in ("title", "container-title", "volume")
        and mine.get("container-title")
        and (
            norm_text(str(mine.get("container-title"))) == norm(field, theirs.get("title", ""))
            or "." in b
        )
    ):
        # A volume of a multi-volume work: pandoc's title is the main title, its volume "7.2".
        return "multi-volume works: the volume's own title, the main title as container"
    if a.replace("\u2009", "\u2006") == b:
        return "\\, is a thin space U+2009 for us, a six-per-em space U+2006 for pandoc"
    if "$" in b or "\\" in b:
        return "math and commands: pandoc writes TeX verbatim"
    if field == "publisher" and not a and re.match(r"https?://", b):
        return "howpublished: a URL is the URL (as Zotero reads it), not the publisher"
    if field == "publisher" and "; " in b and a in b.split("; "):
        return "publisher: pandoc joins organization, institution, publisher"
    if a and _only_drops(a, b):
        return "text pandoc drops: unknown commands and their arguments, logos, dashes"
    return None


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
                # pandoc 3.9 loops forever on crossref cycles; big files take time.
                timeout=30 + path.stat().st_size / 20_000,
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
    listed: collections.Counter[str] = collections.Counter()  # per field
    classes: collections.Counter[str] = collections.Counter()
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
                    continue
                why = deliberate(field, mine_item, theirs_item, a, b)
                if why:
                    listed[field] += 1
                    classes[why] += 1
                elif len(examples[field]) < args.details:
                    examples[field].append(f"{path.name}:{key}: ours={a!r} pandoc={b!r}")
    # "listed": disagreements of a class docs/differences.md lists (see deliberate()).
    print(f"{'field':16} {'agree':>7} {'of':>7} {'rate':>7} {'listed':>7} {'+listed':>8}")
    for field in FIELDS:
        if total[field]:
            rate, with_listed = agree[field] / total[field], (agree[field] + listed[field])
            print(
                f"{field:16} {agree[field]:7d} {total[field]:7d} {rate:7.1%} "
                f"{listed[field]:7d} {with_listed / total[field]:8.1%}"
            )
    all_agree, all_total = sum(agree.values()), max(sum(total.values()), 1)
    all_listed = sum(listed.values())
    print(
        f"{'overall':16} {all_agree:7d} {all_total:7d} {all_agree / all_total:7.1%} "
        f"{all_listed:7d} {(all_agree + all_listed) / all_total:8.1%}"
    )
    print(f"entries pandoc wrote that we did not: {missing}")
    print("\nlisted differences by class:")
    for why, n in classes.most_common():
        print(f"  {n:6d}  {why}")
    for field, lines in examples.items():
        print(f"\n{field} (not a listed class):")
        for line in lines:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
