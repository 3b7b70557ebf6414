"""Time and memory of `bibtools convert` on hostile sizes (issue 13, items 10 and 12).

* a listing whose title line, glued to its first author, is 16k, 32k, 64k and
  400k characters of capitals (each a candidate start of the given name: the
  first reader tested every tail, 0.8 / 2.6 / 10 s and over 300 s);
* one value just under the 16 MiB limit (`bibtools.limits.MAX_VALUE`) in
  each input format: read and written;
* one value of `--big` MB (default 200) in each format: refused with a
  one-line error naming its line, the other record written (it needed 4.1 GB).

Every row is a whole `bibtools convert FILE -t bibtex` process; wall time and
the peak resident memory of that process (os.wait4).  Usage:

    python benchmarks/hostile_inputs.py [--big 200] [--work DIR]
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

MiB = 1024 * 1024
LIMIT = 16 * MiB
OTHER = {
    "bib": "@misc{kept, title = {Kept}}\n",
    "ris": "TY  - JOUR\nTI  - Kept\nER  - \n",
    "listing.txt": "CLApr 24, 2022\nKeptChuanyu Qin, Bo Li\nShort.\n",
}


def run(path: Path) -> tuple[float, float, int, str]:
    """(seconds, peak MB, exit status, last stderr line) of one convert process."""
    cmd = [sys.executable, "-m", "bibtools.cli", "convert", str(path), "-t", "bibtex"]
    cmd += ["--as-of", "2026-11-26"] if path.name.endswith(".txt") else []
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    last = err.strip().splitlines()[-1] if err.strip() else ""
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), last


def value_file(work: Path, ext: str, size: int) -> Path:
    """A file of one record whose abstract has ``size`` characters, and one small record."""
    value = ("lorem ipsum " * (size // 12 + 1))[:size]
    path = work / f"value_{size}.{ext}"
    with open(path, "w", encoding="utf-8") as f:
        if ext == "bib":
            f.write("@article{big, title = {Big}, author = {Lee, Ann}, year = 2020, abstract = {")
            f.write(value)
            f.write("}}\n" + OTHER["bib"])
        elif ext == "ris":
            f.write(f"TY  - JOUR\nTI  - Big\nAU  - Lee, Ann\nAB  - {value}\nER  - \n")
            f.write(OTHER["ris"])
        elif ext == "json":
            items = [
                {"id": "big", "type": "article-journal", "title": "Big", "abstract": value},
                {"id": "kept", "type": "book", "title": "Kept"},
            ]
            json.dump(items, f)
        else:
            f.write(f"CLApr 24, 2022\nBigChuanyu Qin, Bo Li\n{value}\n" + OTHER["listing.txt"])
    return path


def listing_file(work: Path, n: int) -> Path:
    path = work / f"title_{n}.listing.txt"
    title = "AbCd" * (n // 4)
    path.write_text(f"CLApr 24, 2022\n{title}Chuanyu Qin, Bo Li\nAn abstract.\n", "utf-8")
    return path


def make(kind: str, size: int, work: Path) -> Path:
    """The input, written by a child process: a parent holding a 200 MB string would
    lend its resident memory to every child it forks (ru_maxrss counts it)."""
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "import hostile_inputs as h; "
        "p = h.listing_file(Path(sys.argv[4]), int(sys.argv[3])) if sys.argv[2] == 'title' "
        "else h.value_file(Path(sys.argv[4]), sys.argv[2], int(sys.argv[3])); print(p)"
    )
    here = str(Path(__file__).parent)
    out = subprocess.run(
        [sys.executable, "-c", code, here, kind, str(size), str(work)],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", type=int, default=200, help="MB of the refused value")
    parser.add_argument("--work", type=Path, help="where the inputs go [default: a temp dir]")
    args = parser.parse_args()
    rows: list[tuple[str, str, int]] = []
    for n in (16_000, 32_000, 64_000, 400_000):
        rows.append((f"listing, title line of {n:,} characters", "title", n))
    for ext in ("bib", "ris", "json", "listing.txt"):
        rows.append((f"{ext}: one value of 16 MiB - 1 KiB (read)", ext, LIMIT - 1024))
    for ext in ("bib", "ris", "json", "listing.txt"):
        rows.append((f"{ext}: one value of {args.big} MB (refused)", ext, args.big * 10**6))
    with tempfile.TemporaryDirectory(prefix="bibtools-hostile-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        print("| input | wall s | peak MB | peak / input | exit | last message |")
        print("|---|---:|---:|---:|---:|---|")
        for label, kind, size in rows:
            path = make(kind, size, work)
            seconds, peak, code, last = run(path)
            ratio = peak * MiB / path.stat().st_size
            last = last.replace(str(path), path.name)
            print(
                f"| {label} | {seconds:.2f} | {peak:.0f} | {ratio:.1f}x | {code} | {last[:80]} |",
                flush=True,
            )
            path.unlink()


if __name__ == "__main__":
    main()
