"""Same bytes before and after a performance change: `bibtools convert` of this
checkout against the one of an earlier commit, on every input given.

    python benchmarks/same_bytes.py --rev 2f621e9 ../shared/data/bench/real_10k.bib tests/fixtures

For every BibTeX, RIS and CSL-JSON file (folders are searched: ``.bib``,
``.ris``, and the ``.json`` files that are top-level arrays; the other JSON
in the fixtures goes the whole-file way before and after, and would take
most of the time) and every output format, both versions convert it in a
whole process (this checkout with ``--jobs 1`` and with ``--jobs 2``); the
output bytes, the standard error and the exit status must be the same.  The
earlier commit is exported with ``git archive`` into a temporary directory
and run with this environment's packages.  Prints one line per difference
and a count; exit status 1 if any.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = ("csljson", "ris", "bibtex")
RUN = "import sys; from bibtools.cli import main; sys.argv[0] = 'bibtools'; main()"


def _is_array(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")


def inputs(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.suffix in (".bib", ".ris") or (p.suffix == ".json" and _is_array(p))
            )
        else:
            found.append(path)
    return found


def convert(code: Path, src: Path, fmt: str, out: Path, jobs: str | None) -> tuple[bytes, str, int]:
    cmd = [sys.executable, "-c", RUN, "convert", str(src), "-t", fmt, "-o", str(out)]
    if jobs:
        cmd += ["--jobs", jobs]
    env = {"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin", "BIBTOOLS_JOBS_MIN_BYTES": "0"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=code)
    data = out.read_bytes() if out.exists() else b""
    out.unlink(missing_ok=True)
    return data, done.stderr, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rev", required=True, help="the earlier commit")
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args()
    files = inputs(args.paths)
    differences = compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        before.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.rev], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
        for src in files:
            src = src.resolve()
            for fmt in OUTPUTS:
                old = convert(before, src, fmt, Path(tmp) / f"old.{fmt}", None)
                for jobs in ("1", "2"):
                    new = convert(ROOT, src, fmt, Path(tmp) / f"new.{fmt}", jobs)
                    compared += 1
                    if new != old:
                        differences += 1
                        what = [
                            n
                            for n, a, b in zip(
                                ("output", "stderr", "status"), old, new, strict=True
                            )
                            if a != b
                        ]
                        print(f"DIFFERENT ({', '.join(what)}): {src} -> {fmt}, --jobs {jobs}")
    print(
        f"{compared} conversions compared, {differences} different ({len(files)} inputs, {args.rev})"
    )
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
