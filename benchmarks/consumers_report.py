r"""bibtools' files under the real consumers, over any folder of .bib files (issue 12).

    python benchmarks/consumers_report.py [FOLDER_OR_FILE ...] [--checks bibtex,biber,pandoc2,citeproc]
        [--show N] [--jobs N] [--render-sample N]

Default folder: ``tests/fixtures/bibtex``.  Prints the figures
``tests/test_consumers.py`` asserts on the fixtures, so the same bar can be
measured on files the tests have never seen (e.g. every .bib of a TeX Live
installation):

* ``bibtex``: ``bibtools convert X.bib -t bibtex`` and X.bib typeset by
  ``bibtex`` in plain, plainnat and ieeetr (``\citation{*}``): printed entries
  that keep every word of the original in order, keys lost or added, files
  with more bibtex warnings or errors (issue 12's bar: 99.5%, 0, 0);
* ``biber``: ``biber --tool --validate-datamodel`` on X.bib and on
  ``bibtools convert`` (as written, and with ``--dialect biblatex``): entries biber reads the same
  (type and every field), keys lost, files with more biber warnings or errors;
* ``pandoc2``: Debian's pandoc 2.x writes CSL-JSON of each file; how much of it
  bibtools reads, and how often ``bibtools format`` and pandoc 3 render it in
  APA and IEEE as citeproc-js does (one bibliography of at most
  ``--render-sample`` items, evenly spread: pandoc's time grows faster than the list);
* ``citeproc``: citeproc-js renders bibtools' CSL-JSON of each file: items
  with an error or an empty entry.

Needs what ``.ci/run`` installs: bibtex (texlive-base, texlive-latex-base),
biber, pandoc 2.x, node with ``npm ci`` in ``benchmarks/citeproc_js``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import consumers  # noqa: E402


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:5.1f}%" if d else "    -"


def collect(paths: list[str]) -> list[tuple[str, Path]]:
    out = []
    for p in map(Path, paths):
        base = p if p.is_dir() else p.parent
        out += [(f.relative_to(base).as_posix(), f) for f in consumers.bib_files(p)]
    return out


def missing(*names: str) -> str:
    gone = [consumers.tool(n).missing for n in names if consumers.tool(n).missing]
    return "; ".join(gone)


def report_bibtex(files, work: Path, jobs: int, shows: list[str]) -> None:
    print("\nBibTeX -> BibTeX: bibtools convert X.bib -t bibtex; bibtex \\citation{*} on both")
    if why := missing("bibtex"):
        print(f"  skipped: {why}")
        return
    results = consumers.each(lambda f: (f[0], consumers.bibtex_round_trip(f[1], work)), files, jobs)
    failed = sum(rt.convert_status >= 2 for _, rt in results)
    print(f"  {len(files)} files; bibtools convert exit status >= 2 on {failed}")
    head = ("style", "entries", "keep every word", "identical", "keys lost", "keys added")
    print("  {:9} {:>8} {:>22} {:>10} {:>10} {:>11} {:>17}".format(*head, "files warn more"))
    total: Counter = Counter()
    harm_classes: Counter = Counter()
    for style in consumers.BIBTEX_STYLES:
        t: Counter = Counter()
        for file, rt in results:
            c = rt.styles[style]
            t.update(
                entries=c.entries,
                kept=c.kept,
                identical=c.identical,
                lost=len(c.lost_keys),
                added=len(c.added_keys),
                worse=c.warns_more,
                new_errors=max(0, c.new_errors - c.orig_errors),
            )
            shows += [f"HARM {file} {h}" for h in c.harmed]
            shows += [f"LOST {file} [{style}] {k}" for k in c.lost_keys]
            if c.warns_more:
                shows.append(
                    f"WARNS MORE {file} [{style}] warnings {c.orig_warnings}->{c.new_warnings}, "
                    f"errors {c.orig_errors}->{c.new_errors}"
                )
            harm_classes.update(h.lost for h in c.harmed)
        total.update(t)
        _bibtex_row(style, t)
    _bibtex_row("all", total)
    files_harmed = sum(
        any(c.harmed or c.lost_keys or c.warns_more for c in rt.styles.values())
        for _, rt in results
    )
    print(f"  files with any harm (a word, a key or a warning): {files_harmed}/{len(files)}")
    print(f"  new bibtex errors: {total['new_errors']}")


def _bibtex_row(style: str, t: Counter) -> None:
    kept = f"{t['kept']} ({pct(t['kept'], t['entries'])})"
    print(
        f"  {style:9} {t['entries']:8} {kept:>22} {t['identical']:10} {t['lost']:10}"
        f" {t['added']:11} {t['worse']:17}"
    )


def report_biber(files, work: Path, jobs: int, shows: list[str]) -> None:
    print("\nbiber: the original and bibtools convert (as written; --dialect biblatex)")
    if why := missing("biber"):
        print(f"  skipped: {why}")
        return
    results = consumers.each(lambda f: (f[0], consumers.biber_round_trip(f[1], work)), files, jobs)
    head = ("dialect", "entries", "read the same", "keys lost", "files warn more")
    print("  {:9} {:>8} {:>20} {:>10} {:>16}".format(*head))
    for dialect in ("as-written", "biblatex"):
        t: Counter = Counter()
        for file, by_dialect in results:
            c = by_dialect[dialect]
            t.update(entries=c.entries, same=c.same, lost=len(c.lost_keys), worse=c.warns_more)
            shows += [f"BIBER {dialect} {file}: {x}" for x in c.changed]
            if c.warns_more:
                shows.append(
                    f"BIBER WARNS MORE {dialect} {file}: warnings {c.orig_warnings}->"
                    f"{c.new_warnings}, errors {c.orig_errors}->{c.new_errors}"
                )
        same = f"{t['same']} ({pct(t['same'], t['entries'])})"
        print(f"  {dialect:10} {t['entries']:8} {same:>20} {t['lost']:10} {t['worse']:16}")


def report_pandoc2(files, work: Path, jobs: int, shows: list[str], sample: int) -> None:
    print("\npandoc 2.x as a producer: pandoc -f bibtex -t csljson X.bib, read by bibtools")
    if why := missing("pandoc2"):
        print(f"  skipped: {why}")
        return
    print(f"  {consumers.tool('pandoc2').version}")
    produced = consumers.each(lambda f: (f[0], consumers.pandoc2_csljson(f[1])), files, jobs)
    groups = [(file, p.items) for file, p in produced if p.items]
    rejected = sum(p.items is None for _, p in produced)
    given = written = losing = typeless = 0
    for file, items in groups:
        path = work / "pandoc2" / (file.replace("/", "__") + ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        read = consumers.bibtools_reads_csljson(path, work)
        given, written = given + read.given, written + read.written
        typeless += sum(item.get("type") == "" for item in items)
        if read.written != read.given:
            losing += 1
            shows.append(f"PANDOC2 {file}: bibtools wrote {read.written}/{read.given}")
    print(
        f"  {len(files)} files, pandoc 2.x rejects {rejected}; {given} items "
        f'({typeless} with "type": ""); bibtools reads {written} ({pct(written, given)}); '
        f"{losing} files lose items"
    )
    if why := missing("citeproc", "pandoc3"):
        print(f"  rendering skipped: {why}")
        return
    items = consumers.unique_ids(groups)
    if sample and len(items) > sample:
        step = len(items) / sample
        items = [items[int(i * step)] for i in range(sample)]
        print(f"  rendering an even spread of {sample} items")
    agreement = consumers.render_agreement(items, work)
    print("  rendered as citeproc-js renders the same JSON, entry for entry:")
    print(f"  {'style':6} {'entries':>8} {'bibtools format':>18} {'pandoc 3':>16}")
    for style, a in agreement.items():
        ours = f"{a.agree['bibtools']} ({pct(a.agree['bibtools'], a.items)})"
        bar = f"{a.agree['pandoc3']} ({pct(a.agree['pandoc3'], a.items)})"
        print(f"  {style:6} {a.items:8} {ours:>18} {bar:>16}")
        print(
            f"         not rendered: bibtools {a.missing['bibtools']}, pandoc 3 {a.missing['pandoc3']}"
        )
        shows += [f"RENDER {style} {d}" for d in a.differ["bibtools"]]


def report_citeproc(files, work: Path, jobs: int, shows: list[str]) -> None:
    print("\nciteproc-js as a consumer: bibtools convert X.bib -t csljson, rendered in APA, IEEE")
    if why := missing("citeproc"):
        print(f"  skipped: {why}")
        return
    print(f"  {consumers.tool('citeproc').version}")
    results = consumers.citeproc_consumer([path for _, path in files], work)
    t: Counter = Counter()
    for (file, _), c in zip(files, results, strict=True):
        t.update(items=c.items, errors=len(c.errors), everywhere=len(c.empty_everywhere()))
        t.update(f"empty {s}" for where in c.empty.values() for s in where)
        t.update(no_output=bool(c.no_output), nothing=c.nothing_to_render)
        shows += [f"CITEPROC {file} {k}: {v}" for k, v in c.errors.items()]
        shows += [f"EMPTY {file} {k}: in {', '.join(v)}" for k, v in c.empty.items()]
        if c.no_output and not c.nothing_to_render:
            shows.append(f"NO-CSL {file}: {c.no_output}")
    fine = t["items"] - t["errors"] - t["everywhere"]
    print(
        f"  {t['items']} items: {fine} render ({pct(fine, t['items'])}); {t['errors']} with an "
        f"error, {t['everywhere']} empty in every style; empty in one: "
        + ", ".join(f"{s} {t['empty ' + s]}" for s in consumers.CSL_STYLES)
    )
    print(
        f"  files without CSL-JSON: {t['no_output']} "
        f"(of which without entries, exit status 2: {t['nothing']})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(consumers.FIXTURES)])
    parser.add_argument("--checks", default="bibtex,biber,pandoc2,citeproc")
    parser.add_argument("--show", type=int, default=0, help="examples of each kind to print")
    parser.add_argument("--jobs", type=int, default=0, help="files at once [default: cores, <= 4]")
    parser.add_argument("--render-sample", type=int, default=1500)
    args = parser.parse_args()
    files = collect(args.paths)
    checks = args.checks.split(",")
    shows: list[str] = []
    print(f"{len(files)} .bib files under {', '.join(args.paths)}")
    with tempfile.TemporaryDirectory(prefix="consumers-") as tmp:
        work = Path(tmp)
        if "bibtex" in checks:
            report_bibtex(files, work, args.jobs, shows)
        if "biber" in checks:
            report_biber(files, work, args.jobs, shows)
        if "pandoc2" in checks:
            report_pandoc2(files, work, args.jobs, shows, args.render_sample)
        if "citeproc" in checks:
            report_citeproc(files, work, args.jobs, shows)
    if args.show and shows:
        print(f"\nExamples ({args.show} of each kind, chosen at random with a fixed seed):")
        rng = random.Random(12)
        kinds: dict[str, list[str]] = {}
        for s in shows:
            kinds.setdefault(s.split(" ", 1)[0], []).append(s)
        for items in kinds.values():
            for s in rng.sample(items, min(args.show, len(items))):
                print(f"  {s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
