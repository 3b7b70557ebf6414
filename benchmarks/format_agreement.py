r"""How often each CSL engine agrees with citeproc-js, and how fast APA is on 10,000 entries.

    python benchmarks/format_agreement.py [--styles apa,ieee] [--details N]
        [--speed N] [--speed-input FILE.bib] [--pandoc-timeout SECONDS] [--no-node]

**Agreement.** The 200 real entries of ``tests/data/citeproc_js/`` (see
``benchmarks/citeproc_js/README.md``) are rendered as one bibliography per
style by

* ``pandoc``: pandoc 3's citeproc reading the BibTeX file and the CSL-JSON
  file itself (``pandoc --citeproc --bibliography entries.bib ...``): the bar;
* ``pandoc(our JSON)``: the same engine fed bibtools' CSL-JSON, unprepared;
* ``citeproc-py``: citeproc-py fed bibtools' CSL-JSON;
* ``bibtools``: :func:`bibtools.render.render`, what ``bibtools format`` prints;
* ``citeproc-js(our JSON)`` (needs node and ``npm install`` in
  ``benchmarks/citeproc_js``): the reference engine fed bibtools' CSL-JSON,
  which separates disagreements of the reader from those of the engine,

and every entry is compared with the stored citeproc-js rendering (citation-js
reading the same BibTeX file), after normalising whitespace, with italics,
bold, small caps and super/subscripts kept (``formatted``) and without
(``text``).  Links are not compared (citeproc-js makes none by default).

**pandoc 2.x CSL-JSON.** The 100 items of ``entries.pandoc2.json`` (pandoc
2.17's CSL-JSON of the BibTeX fixtures, ``"type": ""`` for ``@misc``) are a
file a user has: pandoc 3 and bibtools each read it as it is, and each entry
is compared with citeproc-js rendering the same file; an item a reader skips
counts as a disagreement.  Measured: APA pandoc 3 94/100, bibtools 95/100;
IEEE pandoc 3 84/100, bibtools 91/100.  The one entry where pandoc 3 agrees
and bibtools does not is a ``@misc`` read as ``document``, whose month APA
shows (docs/differences.md).

**Speed.** ``--speed N`` (default 10000) entries of the benchmark corpus are
written as CSL-JSON once; then pandoc 3 formats that file in APA in one run,
as ``pandoc --citeproc`` does, and bibtools formats the same records
(:func:`bibtools.render.render`, CSL-JSON writing included).  pandoc's time
grows faster than the list (it disambiguates every citation against every
other); ``--pandoc-timeout`` stops it, and the table then says "more than".

**Results** (2 cores; pandoc 3.9 from pypandoc-binary 1.17, citeproc-js
2.4.63 through citation-js 0.9.0, citeproc-py 0.11.1; styles as stored):

=======================  ==============  ==============
engine                   APA             IEEE
=======================  ==============  ==============
pandoc (its own reader)  155/200         107/200
pandoc (our JSON)        166/200         141/200
citeproc-py (our JSON)    28/200           0/200
**bibtools**             **171/200**     **179/200**
=======================  ==============  ==============

(each against citeproc-js fed the same CSL-JSON; against citation-js's own
BibTeX reading, whose reader leaves commands such as ``\TeX`` in the text,
pandoc agrees on 54 and 59, bibtools on 105 and 118.)  citeproc-py never
moves punctuation inside quotation marks, which IEEE titles always need.

Speed, APA, entries of ``real_10k.bib``: pandoc in one run takes 4 s for
500, 21 s for 1,000, 107 s for 2,000 and more than 50 minutes for 10,000
(stopped); bibtools formats the 10,000 in 27 s (split runs, see
:mod:`bibtools.render`).  On the same machine under a load of 10 (other
jobs running): 2,000 entries take pandoc 192 s and bibtools 12 s; 10,000
take bibtools 75-80 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bibtools import render as style  # noqa: E402
from bibtools.convert import read_file, write  # noqa: E402
from bibtools.render import csl  # noqa: E402
from bibtools.text.keys import assign_keys  # noqa: E402

DATA = ROOT / "tests" / "data" / "citeproc_js"
BENCH = Path("/work/shared/data/bench/real_10k.bib")


def load_records() -> list:
    records = read_file(str(DATA / "entries.bib")).records
    records += read_file(str(DATA / "entries.csl.json")).records
    assign_keys(records)
    return records


def reference(style_name: str, reading: str) -> dict[str, tuple[str, tuple]]:
    raw = json.loads((DATA / f"{style_name}.{reading}.json").read_text(encoding="utf-8"))
    return {key: style.inlines_from_html(html) for key, html in raw.items()}


def our_items(records: list) -> list[dict]:
    return json.loads(write(records, "csljson").text)


def run_ours(records: list, style_path: str) -> dict[str, tuple[str, tuple]]:
    result = style.render(records, style_path)
    return {e.key: (e.label, e.body) for e in result.entries}


def run_pandoc_native(style_path: str) -> dict[str, tuple[str, tuple]]:
    args = [
        style.pandoc_path(),
        "-f",
        "markdown",
        "-t",
        "json",
        "--citeproc",
        "--csl",
        style_path,
        "--bibliography",
        str(DATA / "entries.bib"),
        "--bibliography",
        str(DATA / "entries.csl.json"),
        "-M",
        "lang=en-US",
    ]
    proc = subprocess.run(args, input=csl._NOCITE_DOC, capture_output=True, text=True, check=True)
    doc = json.loads(proc.stdout)
    divs = next(b["c"][1] for b in doc["blocks"] if b["t"] == "Div" and b["c"][0][0] == "refs")
    return {k: (label, body) for k, label, body in map(csl._entry_from_div, divs)}


def run_pandoc_ours(items: list[dict], style_path: str) -> dict[str, tuple[str, tuple]]:
    """pandoc on our CSL-JSON as it is, with the style as it is (none of style.py's preparation)."""
    with tempfile.TemporaryDirectory() as work:
        divs = csl._run_pandoc(items, style_path, "en-US", work, "raw")
    return {k: (label, body) for k, label, body in map(csl._entry_from_div, divs)}


def run_citeproc_py(items: list[dict], style_path: str) -> dict[str, tuple[str, tuple]]:
    import warnings

    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source = CiteProcJSON(items)
        csl = CitationStylesStyle(style_path, validate=False)
        bib = CitationStylesBibliography(csl, source, formatter.html)
        for item in items:
            bib.register(Citation([CitationItem(str(item["id"]))]))
        out = {}
        for key, entry in zip(bib.keys, bib.bibliography(), strict=True):
            out[str(key)] = style.inlines_from_html(str(entry))
    return out


def compare(
    ref: dict[str, tuple[str, tuple]], got: dict[str, tuple[str, tuple]], formatting: bool
) -> tuple[int, list[tuple[str, str, str]]]:
    agree, diffs = 0, []
    for key, (label, body) in ref.items():
        want = style.comparable(label, body, formatting)
        have = style.comparable(*got[key], formatting) if key in got else "<missing>"
        if want == have:
            agree += 1
        else:
            diffs.append((key, want, have))
    return agree, diffs


# engine -> the reading (CSL-JSON) it is fed, whose citeproc-js rendering is its reference.
READS = {
    "pandoc": "pandoc",
    "pandoc(our JSON)": "bibtools",
    "citeproc-py(our JSON)": "bibtools",
    "bibtools": "bibtools",
}


def pandoc2_agreement(styles: list[str], details: int) -> None:
    """pandoc 2.x's CSL-JSON as a user has it: read as it is, by pandoc 3 and by bibtools.

    Both engines are compared, entry for entry, with citeproc-js rendering the
    same file (``STYLE.pandoc2.json``).  An item a reader skips is missing.
    """
    path = DATA / "entries.pandoc2.json"
    items = json.loads(path.read_text(encoding="utf-8"))
    result = read_file(str(path))
    records = result.records
    assign_keys(records)
    print(f"\npandoc 2.x CSL-JSON: {len(items)} items, {len(records)} read by bibtools")
    for name in styles:
        style_path = str(DATA / "styles" / f"{name}.csl")
        ref = reference(name, "pandoc2")
        engines = {
            "pandoc 3 (the file)": run_pandoc_ours(items, style_path),
            "bibtools": run_ours(records, style_path),
        }
        differ = {}
        for engine, got in engines.items():
            agree, diffs = compare(ref, got, True)
            differ[engine] = {key: (want, have) for key, want, have in diffs}
            print(f"  {name.upper():5} {engine:22} {agree:4d}/{len(ref)}")
        worse = sorted(set(differ["bibtools"]) - set(differ["pandoc 3 (the file)"]))
        print(f"    bibtools differs where pandoc 3 agrees: {len(worse)}")
        for key in worse[:details]:
            want, have = differ["bibtools"][key]
            print(f"    {key}\n      citeproc-js: {want}\n      bibtools:    {have}")


def agreement(styles: list[str], details: int) -> None:
    records = load_records()
    items = our_items(records)
    stored = json.loads((DATA / "items.bibtools.json").read_text(encoding="utf-8"))
    if items != stored:
        print(
            "note: bibtools' CSL-JSON differs from tests/data/citeproc_js/items.bibtools.json; "
            "run benchmarks/citeproc_js/regenerate.py",
            file=sys.stderr,
        )
    for name in styles:
        path = str(DATA / "styles" / f"{name}.csl")
        refs = {r: reference(name, r) for r in ("bibtools", "pandoc", "citationjs")}
        engines = {
            "pandoc": run_pandoc_native(path),
            "pandoc(our JSON)": run_pandoc_ours(items, path),
            "citeproc-py(our JSON)": _guard(run_citeproc_py, items, path),
            "bibtools": run_ours(records, path),
        }
        n = len(refs["bibtools"])
        print(f"\n{name.upper()}: entries (of {n}) rendered as citeproc-js renders them")
        print(f"  {'engine':24} {'same CSL-JSON':>15} {'text only':>10} {'vs citation-js':>15}")
        for engine, got in engines.items():
            same, diffs = compare(refs[READS[engine]], got, True)
            text, _ = compare(refs[READS[engine]], got, False)
            cjs, _ = compare(refs["citationjs"], got, True)
            print(f"  {engine:24} {same:11d}/{n} {text:6d}/{n} {cjs:11d}/{n}")
            if engine == "bibtools" and details:
                for key, want, have in diffs[:details]:
                    print(f"    {key}\n      citeproc-js: {want}\n      bibtools:    {have}")


def _guard(func, *args):
    try:
        return func(*args)
    except Exception as exc:  # an engine that crashes agrees on nothing
        print(f"  ({func.__name__} failed: {type(exc).__name__}: {exc})", file=sys.stderr)
        return {}


def speed(n: int, source: Path, timeout: float) -> None:
    records = read_file(str(source)).records[:n]
    assign_keys(records)
    path = str(DATA / "styles" / "apa.csl")
    with tempfile.TemporaryDirectory() as work:
        bib = os.path.join(work, "items.json")
        Path(bib).write_text(write(records, "csljson").text, encoding="utf-8")
        args = [style.pandoc_path(), "-f", "markdown", "-t", "html", "--citeproc"]
        args += ["--csl", path, "--bibliography", bib]
        start = time.perf_counter()
        try:
            subprocess.run(
                args,
                input=csl._NOCITE_DOC,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=True,
            )
            pandoc_time = f"{time.perf_counter() - start:8.1f} s"
        except subprocess.TimeoutExpired:
            pandoc_time = f"more than {timeout:.0f} s (stopped)"
    start = time.perf_counter()
    result = style.render(records, path)
    ours = time.perf_counter() - start
    print(f"\nSpeed: {len(records)} entries in APA ({os.cpu_count()} cores)")
    print(f"  pandoc 3 --citeproc, one run    {pandoc_time}")
    print(f"  bibtools (style.render)         {ours:8.1f} s  ({len(result.entries)} entries)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", default="apa,ieee")
    parser.add_argument("--details", type=int, default=0, help="bibtools disagreements to show")
    parser.add_argument("--speed", type=int, default=10000, help="entries for the timing (0: none)")
    parser.add_argument("--speed-input", type=Path, default=BENCH)
    parser.add_argument("--pandoc-timeout", type=float, default=3600)
    parser.add_argument("--no-agreement", action="store_true")
    args = parser.parse_args()
    if not args.no_agreement:
        agreement(args.styles.split(","), args.details)
        pandoc2_agreement(args.styles.split(","), args.details)
    if args.speed:
        speed(args.speed, args.speed_input, args.pandoc_timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
