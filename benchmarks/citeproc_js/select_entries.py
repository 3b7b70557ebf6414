"""Pick the 200 real entries of the formatting fidelity set (tests/data/citeproc_js/).

    python benchmarks/citeproc_js/select_entries.py [--bench /work/shared/data/bench/real_10k.bib]

Writes ``entries.bib`` (180 BibTeX entries: 90 from the BibTeX fixtures, 90
from the 10k benchmark corpus, raw text as the sources spell it, keys made
unique) and ``entries.csl.json`` (20 CSL-JSON items from the CSL fixtures).
An entry is taken only when it is self-contained (no crossref, no undefined
@string macro), has a title and a person or a date, and parses alone in
bibtools, pandoc and citation-js.  The choice is deterministic: candidates
are the first of each entry type, then evenly spaced picks in file order, so
the set has the real mix of types and the rare ones too.
Run ``node render.js`` afterwards to store the citeproc-js renderings.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUT = ROOT / "tests" / "data" / "citeproc_js"
FIXTURES = ROOT / "tests" / "fixtures"
N_FIXTURE, N_BENCH, N_CSL = 90, 90, 20
_ENTRY_HEAD = re.compile(r"@\s*([A-Za-z]+)\s*[{(]\s*([^,\s]*)\s*,")


def raw_entries(text: str) -> list[tuple[str, str]]:
    """(type, raw text) of every entry, split at top-level ``@``; comments and strings skipped."""
    import bibtexparser

    lib = bibtexparser.parse_string(text)  # failed blocks are skipped: the rest is usable
    return [(e.entry_type.lower(), e.raw) for e in lib.entries]


def usable(raw: str) -> bool:
    from bibtools.convert import read_text

    if re.search(r"^\s*crossref\s*=", raw, re.M | re.I):
        return False
    result = read_text(raw, "bibtex", source="x.bib")
    if len(result.records) != 1 or result.diagnostics.errors:
        return False
    rec = result.records[0]
    # Undefined macros come out empty in some readers and as the name in others.
    if any(
        "undefined" in d.message.lower() or "macro" in d.message.lower() for d in result.diagnostics
    ):
        return False
    return bool(rec.title) and bool(rec.authors or rec.editors or rec.issued)


def clean_key(key: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9:_-]+", "-", key).strip("-") or "entry"
    out, n = base, 1
    while out.lower() in used:
        n += 1
        out = f"{base}-{n}"
    used.add(out.lower())
    return out


def spread(cands: list[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    """The first entry of each type (at most a third of ``n``), then an even sample of the rest.

    Evenly spaced picks keep the real mix of types (mostly articles, papers
    and books); the first third makes sure the rarer types are there too.
    """
    firsts: dict[str, int] = {}
    for i, (typ, _) in enumerate(cands):
        firsts.setdefault(typ, i)
    chosen = sorted(firsts.values())[: n // 3]
    rest = [i for i in range(len(cands)) if i not in set(chosen)]
    want = n - len(chosen)
    if rest and want > 0:
        step = len(rest) / want
        chosen += [rest[int(k * step)] for k in range(min(want, len(rest)))]
    return [cands[i] for i in sorted(chosen)]


def head(raw: str) -> tuple[str, str]:
    m = _ENTRY_HEAD.match(raw)
    assert m is not None
    return m.group(1).lower(), m.group(2)


def rekey(raw: str, used: set[str]) -> str:
    m = _ENTRY_HEAD.match(raw.lstrip())
    assert m is not None
    key = clean_key(m.group(2), used)
    body = raw.lstrip()
    return body[: m.start(2)] + key + body[m.end(2) :]


def pandoc_ids(bib: str) -> set[str]:
    import pypandoc

    with tempfile.NamedTemporaryFile("w", suffix=".bib", encoding="utf-8", delete=False) as f:
        f.write(bib)
    out = subprocess.run(
        [pypandoc.get_pandoc_path(), "-f", "bibtex", "-t", "csljson", f.name],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return {item["id"] for item in json.loads(out)}


def citationjs_ids(raws: list[str]) -> set[str]:
    out = subprocess.run(
        ["node", str(HERE / "render.js"), "--ids"],
        input=json.dumps(raws),
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE,
        timeout=300,
    ).stdout
    return set(json.loads(out))


def candidates(paths: list[Path]) -> list[tuple[str, str]]:
    out = []
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        out.extend((t, r) for t, r in raw_entries(text) if usable(r))
    return out


def csl_items(n: int) -> list[dict]:
    items = []
    for path in sorted((FIXTURES / "csl").rglob("*.json")):
        if "schema" in path.parts or path.name.endswith(".expected.json"):
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        found = data["input"] if isinstance(data, dict) and "input" in data else data
        for i, item in enumerate(found if isinstance(found, list) else [found]):
            has_person = item.get("author") or item.get("editor")
            if item.get("title") and has_person and item.get("issued"):
                item = dict(item)
                item["id"] = f"csl-{path.stem.split('_', 1)[1][:40]}-{i + 1}"
                items.append(item)
    return items[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=Path("/work/shared/data/bench/real_10k.bib"))
    args = parser.parse_args()
    used: set[str] = set()
    fixture_paths = sorted((FIXTURES / "bibtex").rglob("*.bib"))
    chosen: list[str] = []
    for paths, n in ((fixture_paths, N_FIXTURE), ([args.bench], N_BENCH)):
        pool = spread(candidates(paths), n * 2)
        pool_raw = [rekey(raw, used) for _, raw in pool]
        bib = "\n\n".join(pool_raw)
        ok = pandoc_ids(bib) & citationjs_ids(pool_raw)
        picked = [(head(r)[0], r) for r in pool_raw if head(r)[1] in ok]
        chosen.extend(raw for _, raw in spread(picked, n))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "entries.bib").write_text("\n\n".join(chosen) + "\n", encoding="utf-8")
    items = csl_items(N_CSL)
    (OUT / "entries.csl.json").write_text(
        json.dumps(items, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"{len(chosen)} BibTeX entries and {len(items)} CSL items in {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
