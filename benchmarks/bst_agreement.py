r"""How often ``bibtools format --style plain`` (and alpha, ...) reads exactly as bibtex.

    python benchmarks/bst_agreement.py [--styles plain,alpha] [--engine pybtex]
        [--details N] [--json FILE] [DIR_OR_FILE ...]

The inputs (default: every ``.bib`` under ``tests/fixtures/bibtex``; give
directories or files, ``.bib.gz`` too, e.g. ``/usr/share/texlive/texmf-dist``
and ``/usr/share/doc/texlive-doc`` for the held-out TeX Live files) are read
once each (identical files once), and for every style every entry is
rendered three ways and compared with ``bibtex``'s own ``.bbl``:

``end to end``
    what ``bibtools format FILE --style S -t text`` prints (the records as
    ``bibtools convert -t bibtex`` writes them, run through the ``.bst``)
    against ``bibtex`` run on the original file: what a thesis prints.
``same .bib``
    the same output against ``bibtex`` run on the ``.bib`` bibtools wrote:
    the style engine and the ``.bbl`` reading alone, whatever the writer
    changed.
``original .bib``
    bibtools' engine run on the original file against ``bibtex`` on it: what
    end to end becomes once the writer keeps every value as written.

``--styles pybtex-plain`` measures pybtex's Python version of ``plain`` (what
``--style plain`` ran before issue 20) end to end against ``plain.bst``.

An entry agrees when its text is the same: the ``.bbl``'s LaTeX turned into
text (:mod:`bibtools.render.bbl`; the same reading for both sides), whitespace and
labels ignored.  ``.bbl identical`` counts entries whose LaTeX itself is
identical (whitespace aside) in the ``original .bib`` comparison.  Entries
where bibtex writes bytes that are not UTF-8 (it cuts a UTF-8 character in
two when it abbreviates ``Émile`` or builds the label of ``Šklovskij``;
bibtools keeps the character whole) are counted apart, as is every entry
bibtools prints empty while bibtex does not.  bibtex must be installed.

Results: ``benchmarks/RESULTS.md``, "BibTeX styles against bibtex".
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bibtools import render as style
from bibtools.convert import read_text, write
from bibtools.files import decode
from bibtools.formats import WriteOptions
from bibtools.render import bbl, bst, to_text

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent / "tests" / "fixtures" / "bibtex"
COMPARISONS = ("end to end", "same .bib", "original .bib")


def bib_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(
                f for f in p.rglob("*") if f.is_file() and f.name.endswith((".bib", ".bib.gz"))
            )
        elif p.is_file():
            out.append(p)
    return out


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


_SPACE = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def norm(text: str) -> str:
    return unicodedata.normalize("NFC", _SPACE.sub(" ", text)).strip()


def texts(bbl_text: str) -> dict[str, str]:
    """key (lower case) -> the entry's text, as bibtools reads a .bbl."""
    return {
        item.key.lower(): norm(to_text(item.body))
        for item in bbl.render_items(bbl.parse_bbl(bbl_text))
    }


def latex(bbl_text: str) -> dict[str, str]:
    return {item.key.lower(): norm(item.body) for item in bbl.parse_bbl(bbl_text).items}


@dataclass
class Tally:
    entries: int = 0
    totals: Counter[str] = field(default_factory=Counter)
    agree: Counter[str] = field(default_factory=Counter)
    invalid_utf8: Counter[str] = field(
        default_factory=Counter
    )  # disagreements where bibtex wrote bad bytes
    empty: Counter[str] = field(default_factory=Counter)  # bibtools empty, bibtex not
    bbl_identical: int = 0
    files: int = 0
    seconds: float = 0.0
    examples: dict[str, list[tuple[str, str, str, str]]] = field(default_factory=dict)

    def count(self, name: str, key: str, ref: str, ours: str | None, where: str) -> None:
        self.totals[name] += 1
        if ours == ref:
            self.agree[name] += 1
            return
        if "\ufffd" in ref:
            self.invalid_utf8[name] += 1
        if not ours and ref:
            self.empty[name] += 1
        self.examples.setdefault(name, []).append((where, key, ref, ours or "<missing>"))


def measure(files: list[Path], style_name: str, engine: str) -> Tally:
    spec = style.resolve_style(style_name)
    baseline = spec.engine == "pybtex"  # pybtex's Python style, against the .bst of its name
    if baseline:
        spec = style.resolve_style(spec.name.removeprefix(style.PYBTEX_PREFIX))
    if spec.engine != "bst":
        raise SystemExit(f"{style_name} is not a BibTeX style")
    tally = Tally()
    seen: set[str] = set()
    start = time.perf_counter()
    for path in files:
        data = read_bytes(path)
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        try:
            text, _ = decode(data, path.name)
        except Exception:
            continue
        result = read_text(text, "bibtex", source=str(path))
        if not result.records:
            continue
        try:
            reference = bst.run_bst(text, spec.path, "bibtex").bbl
        except Exception as exc:  # bibtex cannot read the file at all
            print(f"{path}: bibtex: {exc}", file=sys.stderr)
            continue
        tally.files += 1
        records = [r.copy() for r in result.records]
        # As `bibtools format` does it (style.render assigns keys on copies).
        rendered = style.render(records, style_name, engine=engine, blocks=result.blocks)
        ours = {e.key.lower(): norm(e.text()) for e in rendered.entries}
        # bibtex's key -> the key bibtools gave the record (the same unless it was
        # missing, duplicated or invalid; bibtex keeps the first of duplicates).
        by_original: dict[str, str] = {}
        for original, copy in zip(result.records, rendered.records, strict=True):
            by_original.setdefault(original.key.lower(), copy.key.lower())
        written = write(
            [r.copy() for r in rendered.records], "bibtex", WriteOptions(blocks=result.blocks)
        ).text
        ref_orig = texts(reference)
        if baseline:
            for key, ref in ref_orig.items():
                tally.entries += 1
                tally.count("end to end", key, ref, ours.get(by_original.get(key, key)), str(path))
            continue
        ref_written = texts(bst.run_bst(written, spec.path, "bibtex").bbl)
        original_run = bst.run_bst(text, spec.path, engine).bbl
        ours_orig = texts(original_run)
        identical = latex(original_run)
        ref_latex = latex(reference)
        for key, ref in ref_orig.items():
            tally.entries += 1
            tally.count("end to end", key, ref, ours.get(by_original.get(key, key)), str(path))
            tally.count("original .bib", key, ref, ours_orig.get(key), str(path))
            tally.bbl_identical += identical.get(key) == ref_latex.get(key)
        for key, ref in ref_written.items():
            tally.count("same .bib", key, ref, ours.get(key), str(path))
    tally.seconds = time.perf_counter() - start
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", type=Path, help="directories or .bib files")
    parser.add_argument("--styles", default="plain,alpha")
    parser.add_argument("--engine", default="pybtex", choices=("pybtex", "bibtex"))
    parser.add_argument("--details", type=int, default=0, help="show N disagreements per style")
    parser.add_argument("--json", type=Path, help="write the numbers here")
    args = parser.parse_args(argv)
    if not bst.bibtex_available():
        print("bibtex is not installed: nothing to compare with", file=sys.stderr)
        return 2
    files = bib_files(args.inputs or [DEFAULT_CORPUS])
    print(f"{len(files)} files; engine {args.engine}")
    report = {}
    for name in args.styles.split(","):
        tally = measure(files, name, args.engine)
        print(f"\n{name}: {tally.files} files, {tally.entries} entries, {tally.seconds:.0f} s")
        print(f"  {'comparison':<16}{'agree':>16}{'share':>9}{'bad UTF-8':>11}{'empty':>7}")
        row = {}
        for comp in COMPARISONS:
            total = tally.totals[comp]
            if not total:
                continue
            share = tally.agree[comp] / total if total else 0.0
            print(
                f"  {comp:<16}{tally.agree[comp]:>8,} / {total:<6,}{share:>8.2%}"
                f"{tally.invalid_utf8[comp]:>11}{tally.empty[comp]:>7}"
            )
            row[comp] = {
                "agree": tally.agree[comp],
                "entries": total,
                "share": round(share, 5),
                "bibtex_invalid_utf8": tally.invalid_utf8[comp],
                "bibtools_empty": tally.empty[comp],
            }
        if tally.totals["original .bib"]:
            print(f"  .bbl identical (original .bib): {tally.bbl_identical:,} / {tally.entries:,}")
        row["bbl_identical"] = tally.bbl_identical
        row["files"] = tally.files
        report[name] = row
        for comp in COMPARISONS:
            for where, key, ref, ours in tally.examples.get(comp, [])[: args.details]:
                print(
                    f"  [{comp}] {where} {key}\n    bibtex:   {ref[:300]}\n    bibtools: {ours[:300]}"
                )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
