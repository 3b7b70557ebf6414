"""Fuzz the readers and parsers: ``python fuzz/run.py --minutes N [--target NAME]``.

Without ``--target`` every target runs, each in its own process, all at
once (``--jobs`` limits how many at a time); each gets ``--minutes`` of
wall time.  The engine is atheris (coverage-guided libFuzzer) when it is
installed, else a mutation fuzzer seeded from the fixtures and driven by
``random`` (``--engine mutate`` forces it).

What a run leaves in ``fuzz/out`` (git-ignored):

* ``corpus/NAME/``: the seeds (cut from ``tests/fixtures``) and every
  input libFuzzer found new coverage with; a later run starts from it;
* ``findings/NAME/KIND-SHA.bin`` and ``.txt``: one input per distinct
  finding (crash, slow, memory, contract) and what happened;
* ``NAME.json``: iterations, wall and CPU time, findings;
* ``NAME.log``: libFuzzer's own output.

``--replay FILE...`` runs inputs through a target without instrumentation
(triage: is a "slow" finding real or the instrumentation's cost?);
``--summary`` prints the last runs as the Markdown table of RESULTS.md.
Findings worth keeping go to ``tests/data/fuzz/NAME/`` (``--keep``), where
``tests/test_fuzz_regressions.py`` replays them.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import targets as T  # noqa: E402 - fuzz/ is not a package

OUT = HERE / "out"
KEPT = T.ROOT / "tests" / "data" / "fuzz"
STATS_EVERY = 10.0  # seconds between stats files
# What the instrumented targets import: everything must be imported inside
# atheris' instrumentation block to be coverage-guided.
MODULES = (
    "bibtools.convert",
    "bibtools.formats.listing",
    "bibtools.formats.bibtex",
    "bibtools.formats.ris",
    "bibtools.formats.csljson",
    "bibtools.text.markup",
    "bibtools.text.names",
    "bibtools.text.dates",
    "bibtools.text.keys",
    "bibtools.ids",
    "bibtools.text.urls",
    "bibtools.enrich",
    "bibtools.sources.arxiv",
    "bibtools.sources.github",
    "bibtools.http",
    "bibtexparser",
    "bibtexparser.splitter",
    "bibtexparser.middlewares.names",
)


def have_atheris() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------
# One target, in this process


class Session:
    """Counts iterations, keeps one input per distinct finding, writes the stats file."""

    def __init__(self, target: T.Target, engine: str, minutes: float, memory_every: int) -> None:
        self.target = target
        self.engine = engine
        self.minutes = minutes
        self.memory_every = max(1, memory_every)
        self.findings_dir = OUT / "findings" / target.name
        self.findings_dir.mkdir(parents=True, exist_ok=True)
        self.stats_path = OUT / f"{target.name}.json"
        self.iterations = 0
        self.findings: dict[str, dict[str, Any]] = {}
        self.started = time.time()
        self.cpu_start = time.process_time()
        self.last_write = 0.0

    def one(self, data: bytes) -> None:
        self.iterations += 1
        memory = self.iterations % self.memory_every == 0
        try:
            if memory:
                self.target.run(data)
            else:
                with T.memory_off():
                    self.target.run(data)
        except Exception as exc:
            self.record(data, T.classify(exc))
        now = time.time()
        if now - self.last_write > STATS_EVERY:
            self.write_stats()

    def record(self, data: bytes, finding: T.Finding) -> None:
        entry = self.findings.get(finding.signature)
        if entry is not None:
            entry["count"] += 1
            # The smallest input is the one to keep.
            if len(data) >= entry["size"]:
                return
        if entry is not None:
            for suffix in (".bin", ".txt"):
                (self.findings_dir / entry["file"]).with_suffix(suffix).unlink(missing_ok=True)
        name = f"{finding.kind}-{T.input_id(data)}"
        (self.findings_dir / f"{name}.bin").write_bytes(data)
        (self.findings_dir / f"{name}.txt").write_text(
            f"{finding.signature}\n{finding}\n", encoding="utf-8"
        )
        self.findings[finding.signature] = {
            "kind": finding.kind,
            "message": str(finding)[:300],
            "file": f"{name}.bin",
            "size": len(data),
            "count": (entry or {}).get("count", 0) + 1,
        }
        self.write_stats()

    def write_stats(self, done: bool = False) -> None:
        self.last_write = time.time()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        stats = {
            "target": self.target.name,
            "engine": self.engine,
            "minutes_asked": self.minutes,
            "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started)),
            "wall_seconds": round(self.last_write - self.started, 1),
            "cpu_seconds": round(time.process_time() - self.cpu_start, 1),
            "iterations": self.iterations,
            "memory_checked_every": self.memory_every,
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "done": done,
            "findings": self.findings,
        }
        tmp = self.stats_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.stats_path)


def prepare_corpus(target: T.Target) -> Path:
    corpus = OUT / "corpus" / target.name
    corpus.mkdir(parents=True, exist_ok=True)
    for _name, data in target.seeds():
        path = corpus / f"seed-{T.input_id(data)}"
        if not path.exists():
            path.write_bytes(data)
    return corpus


def warm_up(target: T.Target, seeds: list[bytes]) -> None:
    """Run the seeds once unchecked: first-use costs (imports, caches) are not the input's."""
    for data in seeds[:50]:
        with contextlib.suppress(Exception):
            target.run(data)


def run_atheris(target: T.Target, minutes: float, memory_every: int) -> None:
    import atheris

    with atheris.instrument_imports(include=list(target.instrument)):
        for module in MODULES:
            if module.split(".")[0] in target.instrument:
                importlib.import_module(module)
        if target.name == "bibtex_split":
            importlib.import_module("bibtools.formats.bibtex_split")
    session = Session(target, "atheris", minutes, memory_every)
    corpus = prepare_corpus(target)
    warm_up(target, [p.read_bytes() for p in sorted(corpus.iterdir())])
    session.started, session.cpu_start = time.time(), time.process_time()
    args = [
        sys.argv[0],
        f"-max_total_time={max(1, int(minutes * 60))}",
        f"-max_len={T.MAX_LEN}",
        "-timeout=60",  # a real hang; slow inputs are caught (and kept) by the target
        "-rss_limit_mb=4096",
        "-print_final_stats=1",
        f"-artifact_prefix={session.findings_dir}/",
        str(corpus),
    ]
    if target.dictionary:
        args.insert(1, f"-dict={HERE / 'dicts' / target.dictionary}")
    atexit_stats(session)
    atheris.Setup(args, session.one)
    atheris.Fuzz()


def atexit_stats(session: Session) -> None:
    import atexit

    atexit.register(lambda: session.write_stats(done=True))


def sweep(target: T.Target) -> None:
    """Every input of the corpus once more, uninstrumented, with the memory check on each.

    The fuzzing loop measures allocations on one input in ``--memory-every``
    (tracemalloc makes a reader 4-10 times slower); the corpus holds one input
    per coverage feature libFuzzer found, so this pass checks them all.
    """
    session = Session(target, "sweep", 0, 1)
    session.stats_path = OUT / f"{target.name}.sweep.json"
    corpus = prepare_corpus(target)
    files = sorted(corpus.iterdir())
    warm_up(target, [p.read_bytes() for p in files])
    for path in files:
        session.one(path.read_bytes())
    session.write_stats(done=True)


def run_mutate(target: T.Target, minutes: float, memory_every: int, seed: int) -> None:
    """The fallback: random edits of the seeds and of inputs that were kept, without coverage."""
    session = Session(target, "mutate", minutes, memory_every)
    seeds = [data for _name, data in target.seeds()]
    warm_up(target, seeds)
    tokens = T.dictionary_tokens(target.dictionary)
    rng = random.Random(seed)
    session.started, session.cpu_start = time.time(), time.process_time()
    deadline = session.started + minutes * 60
    pool = list(seeds)
    while time.time() < deadline:
        data = T.mutate(rng.choice(pool), rng, tokens, pool)
        session.one(data)
        if rng.random() < 0.01 and len(pool) < 5000:
            pool.append(data)  # mutations of mutations reach deeper
    session.write_stats(done=True)


# --------------------------------------------------------------------------
# Many targets, one process each


def spawn_all(names: list[str], minutes: float, jobs: int, engine: str, memory_every: int) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    pending = list(names)
    running: dict[str, subprocess.Popen[bytes]] = {}
    while pending or running:
        while pending and len(running) < jobs:
            name = pending.pop(0)
            log = (OUT / f"{name}.log").open("wb")
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                "--target",
                name,
                "--minutes",
                str(minutes),
                "--engine",
                engine,
                "--memory-every",
                str(memory_every),
            ]
            running[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
            print(f"started {name} (pid {running[name].pid})", flush=True)
        time.sleep(2)
        for name, proc in list(running.items()):
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == 0:
                continue
            code = os.waitstatus_to_exitcode(status)
            finish_stats(name, usage.ru_utime + usage.ru_stime)
            print(f"finished {name} (exit {code}); checking its corpus", flush=True)
            del running[name]
            with (OUT / f"{name}.log").open("ab") as log:
                subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--sweep", "--target", name],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    check=False,
                )
    print(summary(names))
    return 0


def finish_stats(name: str, cpu: float) -> None:
    """The child's final CPU time (from the kernel) and iteration count (from libFuzzer)."""
    path = OUT / f"{name}.json"
    if not path.exists():
        return
    stats = json.loads(path.read_text())
    lib = libfuzzer_stats(name)
    stats["cpu_seconds"] = round(cpu, 1)
    if lib.get("number_of_executed_units"):
        stats["iterations"] = int(lib["number_of_executed_units"])
    if lib.get("done_seconds"):
        stats["wall_seconds"] = float(lib["done_seconds"])
    stats["done"] = True
    path.write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")


def libfuzzer_stats(name: str) -> dict[str, str]:
    log = OUT / f"{name}.log"
    out: dict[str, str] = {}
    if log.exists():
        for line in log.read_text(errors="replace").splitlines():
            done = re.match(r"Done (\d+) runs in (\d+) second", line)
            if done:
                out["done_seconds"] = done.group(2)
            if line.startswith("stat::"):
                key, _, value = line[len("stat::") :].partition(":")
                out[key.strip()] = value.strip()
    return out


def summary(names: list[str]) -> str:
    rows = [
        "| target | engine | wall (min) | CPU (min) | iterations | exec/s (CPU) | corpus checked "
        "for memory | findings |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name in names:
        path = OUT / f"{name}.json"
        if not path.exists():
            rows.append(f"| {name} | - | - | - | - | - | not run |")
            continue
        stats = json.loads(path.read_text())
        lib = libfuzzer_stats(name)
        iterations = int(lib.get("number_of_executed_units") or stats["iterations"])
        cpu = stats["cpu_seconds"]
        findings = dict(stats["findings"])
        swept = "-"
        sweep_path = OUT / f"{name}.sweep.json"
        if sweep_path.exists():
            sweep_stats = json.loads(sweep_path.read_text())
            swept = f"{sweep_stats['iterations']:,}"
            findings.update(sweep_stats["findings"])
        kinds = sorted({f["kind"] for f in findings.values()})
        found = f"{len(findings)} ({', '.join(kinds)})" if kinds else "none"
        rows.append(
            f"| {name} | {stats['engine']} | {stats['wall_seconds'] / 60:.1f} | {cpu / 60:.1f} "
            f"| {iterations:,} | {iterations / max(cpu, 1e-9):.0f} | {swept} | {found} |"
        )
    return "\n".join(rows)


# --------------------------------------------------------------------------
# Triage


def replay(target: T.Target, files: list[Path]) -> int:
    seeds = [data for _n, data in target.seeds()]
    warm_up(target, seeds)
    bad = 0
    for path in files:
        data = path.read_bytes()
        try:
            _, usage = T.measured(lambda data=data: target.run(data))
        except Exception as exc:
            bad += 1
            finding = T.classify(exc)
            print(f"{path.name}: {finding.kind}: {finding}")
        else:
            print(f"{path.name}: ok ({usage.cpu:.3f} s CPU, {usage.peak / 2**20:.2f} MiB)")
    return 1 if bad else 0


def keep(target: T.Target, files: list[Path]) -> None:
    folder = KEPT / target.name
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        data = path.read_bytes()
        dest = folder / f"{path.stem.split('-')[0]}-{T.input_id(data)}.bin"
        dest.write_bytes(data)
        print(f"kept {dest.relative_to(T.ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="wall time per target")
    parser.add_argument("--target", action="append", choices=sorted(T.TARGETS), help="repeatable")
    parser.add_argument("--jobs", type=int, default=0, help="targets at once [all]")
    parser.add_argument(
        "--engine", choices=("auto", "atheris", "mutate"), default="auto", help="[auto]"
    )
    parser.add_argument(
        "--memory-every",
        type=int,
        default=10,
        metavar="N",
        help="measure allocations on every N-th input (tracemalloc costs time) [10]",
    )
    parser.add_argument("--seed", type=int, default=0, help="mutate engine: random seed")
    parser.add_argument("--replay", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--keep", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--summary", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sweep", action="store_true", help="check the corpus only")
    args, _libfuzzer = parser.parse_known_args(argv)
    names = args.target or list(T.TARGETS)
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if have_atheris() else "mutate"
    if args.summary:
        print(summary(names))
        return 0
    if args.replay or args.keep:
        if len(names) != 1:
            parser.error("--replay and --keep need one --target")
        target = T.TARGETS[names[0]]
        if args.keep:
            keep(target, args.keep)
            return 0
        return replay(target, args.replay)
    if args.child or args.sweep:
        target = T.TARGETS[names[0]]
        OUT.mkdir(parents=True, exist_ok=True)
        if args.sweep:
            sweep(target)
        elif engine == "atheris":
            run_atheris(target, args.minutes, args.memory_every)
        else:
            run_mutate(target, args.minutes, args.memory_every, args.seed)
        return 0
    return spawn_all(names, args.minutes, args.jobs or len(names), engine, args.memory_every)


if __name__ == "__main__":
    sys.exit(main())
