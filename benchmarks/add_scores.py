"""How right ``bibtools add`` is on the ground-truth sets of tests/data/add, against the loopback fakes.

    python benchmarks/add_scores.py [--set dev|heldout|all] [--json]

Starts every scholarly fake (tests/fakes/scholarly.py), then for each set:

* identifiers (``ids.txt``, ``heldout_ids.txt``): ``bibtools add - --to
  COPY_OF_thesis.bib`` with the ids on stdin; the outcome of each line
  (added / duplicate / not-found, read from stderr) is compared with the
  truth, the file's original bytes must still be its first bytes, and each
  added entry (read back from the file) is scored field by field;
* pasted references (``pasted.txt``, ``heldout_pasted.txt``): ``bibtools add -``
  (stdout); a matched line must be added with the right DOI, an unmatched
  one must add nothing.

Fields scored, as the truth's README says: title (braces, case of the
first letter and a final period ignored), all authors in order (family
names after accent folding, given names by initials), year, DOI (case
ignored), eprint / archivePrefix / primaryClass for arXiv ids, ISBN,
publisher for data sets and books, PMID.  Each set runs on a fresh cache, then once more on
that cache (the requests of the second run are reported too).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "add"
sys.path.insert(0, str(ROOT / "tests"))

SETS = {"dev": ("ids", "pasted"), "heldout": ("heldout_ids", "heldout_pasted")}
_ADDED = re.compile(r"^<stdin>:(\d+): added (\S+):")
_DUP = re.compile(r"^<stdin>:(\d+): .*: already there as (\S+); not added")
_NOT_FOUND = re.compile(r"^<stdin>:(\d+): .*: not found: (.*)$")
_UNMATCHED = re.compile(r"^<stdin>:(\d+): no match for ")


def _fold(text: str) -> str:
    from anyascii import anyascii

    return re.sub(r"[^a-z0-9]", "", anyascii(text).lower())


def _initials(given: str) -> str:
    return "".join(p[0] for p in re.split(r"[\s.\-]+", given) if p).lower()


def same_author(expected: str, name: Any) -> bool:
    family, _, given = expected.partition(",")
    ours_family = f"{name.particle}{name.family}" if not name.literal else name.literal
    if _fold(family) != _fold(ours_family):
        return False
    return not given.strip() or _initials(given) == _initials(name.given)


def _title(text: str) -> str:
    return _fold(text.rstrip(". "))


def field_checks(record: Any, expect: dict[str, Any]) -> dict[str, bool]:
    """Field -> right? for one new record against the truth's ``expect``."""
    from bibtools.text.markup import to_plain

    out: dict[str, bool] = {}
    if "title" in expect:
        want = expect["title"]
        out["title"] = (
            not record.title if want is None else _title(to_plain(record.title)) == _title(want)
        )
    if "authors" in expect:
        want = expect["authors"]
        out["authors"] = len(want) == len(record.authors) and all(
            same_author(w, n) for w, n in zip(want, record.authors, strict=False)
        )
    if "year" in expect:
        out["year"] = record.issued.year == expect["year"]
    if "doi" in expect and not str(expect["doi"]).lower().startswith("10.48550/"):
        out["doi"] = record.doi.lower() == str(expect["doi"]).lower()
    if "eprint" in expect:
        out["eprint"] = record.arxiv_id == expect["eprint"]
        out["primaryClass"] = record.arxiv_primary_class == expect.get("primaryClass")
    if "isbn" in expect:
        out["isbn"] = record.isbn.replace("-", "") == expect["isbn"]
    if "publisher" in expect:
        out["publisher"] = to_plain(record.publisher) == expect["publisher"]
    if "pmid" in expect:
        out["pmid"] = str(record.extra.get("pmid", "")) == expect["pmid"]
    return out


def _new_records(text: str) -> dict[str, Any]:
    from bibtools.formats import ReadOptions, bibtex

    result = bibtex.read(text, ReadOptions(source="new"))
    for rec in result.records:
        # the written archivePrefix is checked here: the reader folds it into arxiv_id
        if rec.arxiv_id and "archiveprefix" not in {n.lower() for n, _ in rec.source.fields}:
            rec.arxiv_primary_class = ""
    return {r.key: r for r in result.records}


def _statuses(stderr: str) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    for line in stderr.splitlines():
        for status, rx in (
            ("added", _ADDED),
            ("duplicate", _DUP),
            ("not-found", _NOT_FOUND),
            ("unmatched", _UNMATCHED),
        ):
            m = rx.match(line)
            if m:
                out[int(m.group(1))] = (status, m.group(2) if m.groups()[1:] else "")
                break
    return out


def _run(args: list[str], stdin: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", "from bibtools.cli import main; main()", "add", *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, timeout=600)


def score_ids(stem: str, env: dict[str, str], work: Path) -> dict[str, Any]:
    truth = json.loads((DATA / f"{stem}.truth.json").read_text("utf-8"))
    original = (DATA / "thesis.bib").read_bytes()
    (work / stem).mkdir(exist_ok=True)
    target = work / stem / "thesis.bib"  # duplicates are named "thesis.bib:KEY"
    target.write_bytes(original)
    proc = _run(["-", "--to", str(target)], (DATA / f"{stem}.txt").read_text("utf-8"), env)
    after = target.read_bytes()
    records = _new_records(after[len(original) :].decode("utf-8"))
    statuses = _statuses(proc.stderr)
    fields: dict[str, list[bool]] = {}
    outcome_right = 0
    wrong: list[str] = []
    for item in truth["ids"]:
        status, detail = statuses.get(item["line"], ("missing", ""))
        right = status == item["outcome"]
        if right and status == "duplicate":
            want = item["duplicate_of"].replace("line ", "<stdin>:")
            right = detail == want
        if right and status == "added":
            checks = field_checks(records[detail], item["expect"])
            for name, ok in checks.items():
                fields.setdefault(name, []).append(ok)
                if not ok:
                    wrong.append(f"line {item['line']} {item['input']}: {name}")
        outcome_right += right
        if not right:
            wrong.append(f"line {item['line']} {item['input']}: {status} (want {item['outcome']})")
    return {
        "set": stem,
        "lines": len(truth["ids"]),
        "outcomes_right": outcome_right,
        "fields": {k: f"{sum(v)}/{len(v)}" for k, v in fields.items()},
        "file_untouched": after.startswith(original),
        "exit_status": proc.returncode,
        "wrong": wrong,
    }


def score_pasted(stem: str, env: dict[str, str]) -> dict[str, Any]:
    truth = json.loads((DATA / f"{stem}.truth.json").read_text("utf-8"))
    proc = _run(["-"], (DATA / f"{stem}.txt").read_text("utf-8"), env)
    records = _new_records(proc.stdout)
    statuses = _statuses(proc.stderr)
    right = 0
    fields: dict[str, list[bool]] = {}
    wrong: list[str] = []
    for item in truth["lines"]:
        status, key = statuses.get(item["line"], ("missing", ""))
        if item["match"] is None:
            ok = status == "unmatched"
        else:
            ok = status == "added" and records[key].doi.lower() == item["doi"].lower()
            if status == "added":
                expect = {k: item[k] for k in ("title", "authors", "year", "doi") if k in item}
                for name, good in field_checks(records[key], expect).items():
                    fields.setdefault(name, []).append(good)
        right += ok
        if not ok:
            wrong.append(f"line {item['line']}: {status} (want {item['match'] or 'no match'})")
    return {
        "set": stem,
        "lines": len(truth["lines"]),
        "right": right,
        "fields": {k: f"{sum(v)}/{len(v)}" for k, v in fields.items()},
        "exit_status": proc.returncode,
        "wrong": wrong,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=["dev", "heldout", "all"], default="all")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    args = parser.parse_args(argv)
    from fakes.scholarly import start_scholarly

    chosen = ["dev", "heldout"] if args.set == "all" else [args.set]
    results = []
    with start_scholarly() as fakes, tempfile.TemporaryDirectory() as tmp:
        for name in chosen:
            ids_stem, pasted_stem = SETS[name]
            for stem, scorer in ((ids_stem, "ids"), (pasted_stem, "pasted")):
                env = {**os.environ, **fakes.env, "BIBTOOLS_CACHE_DIR": str(Path(tmp) / stem)}
                fakes.reset_logs()
                if scorer == "ids":
                    result = score_ids(stem, env, Path(tmp))
                else:
                    result = score_pasted(stem, env)
                result["requests"] = fakes.total_requests()
                # The same input again on the same cache: only what was not found is asked again.
                fakes.reset_logs()
                if scorer == "ids":
                    score_ids(stem, env, Path(tmp))
                else:
                    score_pasted(stem, env)
                result["requests_second_run"] = fakes.total_requests()
                results.append(result)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        head = (
            f"{r['set']}: outcomes {r['outcomes_right']}/{r['lines']}"
            if "outcomes_right" in r
            else f"{r['set']}: lines right {r['right']}/{r['lines']}"
        )
        extra = f", file untouched: {r['file_untouched']}" if "file_untouched" in r else ""
        fields = ", ".join(f"{k} {v}" for k, v in r["fields"].items())
        print(
            f"{head}; {fields}; exit {r['exit_status']}, {r['requests']} requests "
            f"({r['requests_second_run']} on a second run){extra}"
        )
        for w in r["wrong"]:
            print(f"    wrong: {w}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
