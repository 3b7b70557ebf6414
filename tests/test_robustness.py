"""Robustness: atomic outputs under ``kill -9``, a cache that is locked or shared, huge inputs.

* Outputs: a child process is stopped in the middle of :func:`bibtools.files.write_atomic`
  (by a hook that writes part of the data, says ``ready`` on stdout and waits on stdin),
  then killed with SIGKILL; the target must still hold its old bytes.
* Cache: another process holding the SQLite write lock costs ``cache_lock_wait``
  and one warning, not the answer; two ``bibtools enrich`` runs sharing one cache leave
  it intact and complete.
* Input limits: a 10 MB field, 100,000 authors, braces nested 100,000 deep, a CSL-JSON
  document nested 100,000 deep: read (or refused with one diagnostic) in bounded memory,
  never a RecursionError.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import select
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes import FakeClock
from fakes.arxiv_server import FakeArxiv, Paper

from bibtools.cli import main
from bibtools.convert import load, read_text, write
from bibtools.diagnostics import Level
from bibtools.http import CACHE_FILE, HostPolicy, HttpClient
from bibtools.text.markup import to_plain

FIXTURES = Path(__file__).parent / "fixtures"
BIB_INPUT = FIXTURES / "bibtex" / "texlive" / "biblatex-examples.bib"
# How long a child may take to reach the point under test (imports on a busy machine).
STARTUP = 60.0
MiB = 2**20

# -- outputs are written atomically ---------------------------------------------

# Run as ``python -c CHILD STAGE MODE ARGS...``.  The hook replaces the ``os`` that
# bibtools.files sees (and only that one): at STAGE it says "ready" and waits for a
# line on stdin, so the parent acts at a known point without sleeping.
#   mid-write:     half of the first chunk is in the temp file, the rest is not;
#   before-rename: all of it is written and flushed, os.replace has not run.
# MODE "library" calls write_atomic(TARGET, SIZE bytes of text); "cli" runs main(ARGS).
CHILD = r"""
import os, sys, types
import bibtools.files as files

stage, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]


def pause():
    print("ready", flush=True)
    sys.stdin.readline()


class Stalling:
    def __init__(self, fh):
        self._fh, self._stalled = fh, False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._fh.__exit__(*exc)

    def write(self, data):
        if self._stalled:
            return self._fh.write(data)
        self._stalled = True
        half = len(data) // 2
        written = self._fh.write(data[:half])
        self._fh.flush()
        pause()
        return written + self._fh.write(data[half:])

    def __getattr__(self, name):
        return getattr(self._fh, name)


class HookedOs(types.ModuleType):
    def __getattr__(self, name):
        return getattr(os, name)


hooked = HookedOs("os")
if stage == "mid-write":
    hooked.fdopen = lambda fd, *a, **k: Stalling(os.fdopen(fd, *a, **k))
else:
    def fsync(fd):
        pause()
        os.fsync(fd)
    hooked.fsync = fsync
files.os = hooked

if mode == "library":
    target, size = args[0], int(args[1])
    files.write_atomic(target, ("new data " * (size // 9 + 1))[:size])
else:
    from bibtools.cli import main
    main(args)
"""


def _start_writer(stage: str, mode: str, *args: str | Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, stage, mode, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_ready(child: subprocess.Popen[bytes]) -> None:
    """Block until the child is paused inside write_atomic (it says so on stdout)."""
    assert child.stdout is not None
    readable, _, _ = select.select([child.stdout], [], [], STARTUP)
    line = child.stdout.readline() if readable else b""
    if line != b"ready\n":
        child.kill()
        _, err = child.communicate()
        pytest.fail(f"the writer never paused: {line!r}\n{err.decode(errors='replace')}")


def _kill(child: subprocess.Popen[bytes]) -> None:
    child.kill()  # SIGKILL: no finally blocks, no cleanup
    assert child.wait(STARTUP) == -9


def _release(child: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, err = child.communicate(b"\n", timeout=STARTUP)
    return child.returncode, err.decode(errors="replace")


def _temp_files(directory: Path, target: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.name not in (target.name, BIB_INPUT.name)]


def _assert_only_hidden_temps(directory: Path, target: Path) -> None:
    """Whatever else a kill left behind is a hidden ``.NAME.*.tmp``, never the target."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\..+\.tmp")
    for leftover in _temp_files(directory, target):
        assert pattern.fullmatch(leftover.name), leftover.name


@pytest.mark.parametrize("stage", ["mid-write", "before-rename"])
def test_write_atomic_killed_leaves_the_old_file(tmp_path: Path, stage: str) -> None:
    target = tmp_path / "out.txt"
    old = b"old content\n" * 100
    target.write_bytes(old)
    size = 3 * MiB  # several of write_atomic's 1 MiB slices
    child = _start_writer(stage, "library", target, size)
    try:
        _wait_ready(child)
        # Paused: the new data is in a temp file next to the target, not in it.
        assert target.read_bytes() == old
        [temp] = _temp_files(tmp_path, target)
        written = temp.stat().st_size
        if stage == "mid-write":
            assert 0 < written < size
        else:
            assert written == size
    finally:
        _kill(child)
    assert target.read_bytes() == old
    _assert_only_hidden_temps(tmp_path, target)


def test_write_atomic_released_replaces_the_file_and_keeps_its_mode(tmp_path: Path) -> None:
    # The control for the test above: the same hook, let go, does write the new file.
    target = tmp_path / "out.txt"
    target.write_bytes(b"old content\n")
    target.chmod(0o640)
    child = _start_writer("mid-write", "library", target, 3 * MiB)
    _wait_ready(child)
    assert target.read_bytes() == b"old content\n"
    code, err = _release(child)
    assert code == 0, err
    new = target.read_bytes()
    assert len(new) == 3 * MiB and new.startswith(b"new data new data")
    assert target.stat().st_mode & 0o777 == 0o640
    assert _temp_files(tmp_path, target) == []


def _convert_args(output: Path) -> list[str | Path]:
    return ["convert", BIB_INPUT, "-t", "csljson", "-o", output, "--force"]


@pytest.mark.parametrize("stage", ["mid-write", "before-rename"])
def test_cli_convert_killed_mid_write_leaves_the_old_output(tmp_path: Path, stage: str) -> None:
    output = tmp_path / "OUT.json"
    old = b'[{"id": "old", "type": "book", "title": "The old output"}]\n'
    output.write_bytes(old)
    child = _start_writer(stage, "cli", *_convert_args(output))
    try:
        _wait_ready(child)
        assert output.read_bytes() == old
        [temp] = _temp_files(tmp_path, output)
        assert temp.stat().st_size > 0  # the new output was on its way
    finally:
        _kill(child)
    assert output.read_bytes() == old
    _assert_only_hidden_temps(tmp_path, output)


def test_cli_convert_released_writes_the_whole_output(tmp_path: Path) -> None:
    output = tmp_path / "OUT.json"
    output.write_bytes(b"[]\n")
    child = _start_writer("mid-write", "cli", *_convert_args(output))
    _wait_ready(child)
    assert output.read_bytes() == b"[]\n"
    code, err = _release(child)
    assert code == 0, err
    items = json.loads(output.read_text(encoding="utf-8"))
    assert len(items) == len(load(str(BIB_INPUT))) > 50
    assert _temp_files(tmp_path, output) == []


# -- the cache: locked by another process ------------------------------------------

PAPER = Paper(
    "1605.08386", "Heat-bath random walks with Markov bases", ["Caprice Stanley", "Tobias Windisch"]
)
FAST = HostPolicy(min_interval=0, timeout=(2.0, 2.0), retries=1)
LOCK_WAIT = 0.2
# Far below the 5 s default wait for a lock, far above LOCK_WAIT plus a loopback request.
PROMPT = 3.0

HOLD_LOCK = r"""
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
con.execute("ROLLBACK")
"""


@pytest.fixture
def server() -> Iterator[FakeArxiv]:
    with FakeArxiv([PAPER]) as fake:
        yield fake


def _client(cache_dir: Path) -> HttpClient:
    c = HttpClient(
        cache_dir=cache_dir, cache_lock_wait=LOCK_WAIT, clock=FakeClock(), rng=random.Random(1)
    )
    c.set_policy("127.0.0.1", FAST)
    return c


def _ask(c: HttpClient, server: FakeArxiv):  # type: ignore[no-untyped-def]
    return c.get(server.url, params={"id_list": PAPER.arxiv_id, "max_results": 1})


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """A cache directory whose database exists (as after an earlier run)."""
    directory = tmp_path / "cache"
    with _client(directory) as c:
        assert c.cached
    assert (directory / CACHE_FILE).is_file()
    return directory


@contextmanager
def _lock_held(database: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding ``BEGIN EXCLUSIVE`` on ``database`` for the block."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        readable, _, _ = select.select([holder.stdout], [], [], STARTUP)
        assert readable and holder.stdout.readline() == "locked\n"
        yield holder
    finally:
        if holder.returncode is None:
            holder.communicate("\n", timeout=STARTUP)


@pytest.fixture
def locked(cache_dir: Path) -> Iterator[subprocess.Popen[str]]:
    with _lock_held(cache_dir / CACHE_FILE) as holder:
        yield holder


def _one_cache_warning(c: HttpClient) -> None:
    assert len(c.warnings) == 1, c.warnings
    assert "cache" in c.warnings[0] and "continuing without a cache" in c.warnings[0]
    assert "locked" in c.warnings[0]  # says why


def test_cache_locked_by_another_process_degrades_promptly(
    server: FakeArxiv, cache_dir: Path, locked: subprocess.Popen[str]
) -> None:
    started = time.monotonic()
    with _client(cache_dir) as c:
        reply = _ask(c, server)
        assert time.monotonic() - started < PROMPT
        assert reply.ok and not reply.from_cache and b"Heat-bath random walks" in reply.content
        assert not c.cached
        _one_cache_warning(c)
        assert _ask(c, server).ok  # later requests neither wait nor warn again
        _one_cache_warning(c)


def test_cache_usable_again_once_the_lock_is_released(
    server: FakeArxiv, cache_dir: Path, locked: subprocess.Popen[str]
) -> None:
    # The control: it was the lock, not the directory, that made the client give up.
    with _client(cache_dir) as c:
        assert not c.cached
    locked.communicate("\n", timeout=STARTUP)
    with _client(cache_dir) as c:
        assert c.cached and c.warnings == []
        assert not _ask(c, server).from_cache
        assert _ask(c, server).from_cache


@pytest.fixture
def open_then_locked(cache_dir: Path) -> Iterator[HttpClient]:
    """A client that opened its cache, after which another process took the write lock."""
    with _client(cache_dir) as c:
        assert c.cached
        with _lock_held(cache_dir / CACHE_FILE):
            yield c


def test_cache_locked_mid_run_keeps_the_answer_with_one_warning(
    server: FakeArxiv, open_then_locked: HttpClient
) -> None:
    c = open_then_locked
    started = time.monotonic()
    reply = _ask(c, server)
    assert time.monotonic() - started < PROMPT
    assert reply.ok and b"Heat-bath random walks" in reply.content
    assert not c.cached
    _one_cache_warning(c)
    assert _ask(c, server).ok
    _one_cache_warning(c)


def test_cache_locked_mid_run_sends_the_request_once(
    server: FakeArxiv, open_then_locked: HttpClient
) -> None:
    c = open_then_locked
    assert _ask(c, server).ok
    assert [r.params["id_list"] for r in server.requests] == [PAPER.arxiv_id]


# -- the cache: shared by two processes --------------------------------------------

# Title lookups are OR-ed 20 to a query (ArxivClient.titles_per_query), in input order:
# with 40 title-only records per input, the union's queries are exactly those of the
# two runs, so an offline run over the union can be answered from the cache alone.
# The id-only records are the same in both inputs: both runs store the same entry.
TITLES_PER_INPUT = 40
SHARED_IDS = [f"2401.{n:05d}" for n in range(1, 6)]


def _title(n: int) -> str:
    return f"Robust caching experiment number {n} on shared databases"


def _shared_papers() -> list[Paper]:
    papers = [
        Paper(f"2402.{n:05d}", _title(n), [f"Ada Author{n}", "Bo Coauthor"])
        for n in range(2 * TITLES_PER_INPUT)
    ]
    papers += [
        Paper(arxiv_id, f"A paper known by its identifier {arxiv_id}", ["Cy Idholder"])
        for arxiv_id in SHARED_IDS
    ]
    return papers


def _bib(numbers: range) -> str:
    entries = [
        f"@article{{t{n},\n  title = {{{_title(n)}}},\n  author = {{Author{n}, Ada}},\n"
        f"  year = {{2024}}\n}}\n"
        for n in numbers
    ]
    entries += [
        f"@misc{{id{i},\n  title = {{Known by id}},\n  author = {{Idholder, Cy}},\n"
        f"  eprint = {{{arxiv_id}}},\n  archiveprefix = {{arXiv}}\n}}\n"
        for i, arxiv_id in enumerate(SHARED_IDS)
    ]
    return "\n".join(entries)


def _enrich(env: dict[str, str], *args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bibtools.cli", "enrich", *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_two_processes_share_one_cache(tmp_path: Path) -> None:
    inputs = [tmp_path / "a.bib", tmp_path / "b.bib"]
    inputs[0].write_text(_bib(range(TITLES_PER_INPUT)), encoding="utf-8")
    inputs[1].write_text(_bib(range(TITLES_PER_INPUT, 2 * TITLES_PER_INPUT)), encoding="utf-8")
    cache = tmp_path / "cache"
    with FakeArxiv(_shared_papers()) as arxiv:
        env = {
            **os.environ,
            "BIBTOOLS_ARXIV_API": arxiv.url,
            "BIBTOOLS_ARXIV_DELAY": "0",
        }
        env.pop("BIBTOOLS_CACHE_DIR", None)
        outputs = [tmp_path / "a.out.bib", tmp_path / "b.out.bib"]
        runs = [
            _enrich(env, src, "-o", out, "--cache-dir", cache)
            for src, out in zip(inputs, outputs, strict=True)
        ]
        for run, out in zip(runs, outputs, strict=True):
            _, stderr = run.communicate(timeout=STARTUP)
            assert run.returncode in (0, 1), stderr
            # The cache's warning ("http cache: warning: HTTP cache ... cannot be used").
            assert "http cache" not in stderr.lower(), stderr
            assert "Traceback" not in stderr
            assert out.read_text(encoding="utf-8").count("@") == TITLES_PER_INPUT + len(SHARED_IDS)
            assert f"{TITLES_PER_INPUT + len(SHARED_IDS)} enriched" in stderr
        sent = arxiv.count
        assert sent >= 5  # 2 title queries each, the id query at least once

        with sqlite3.connect(cache / CACHE_FILE) as con:
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert con.execute("SELECT count(*) FROM responses").fetchone()[0] >= 5
        con.close()

        report = tmp_path / "offline.json"
        union = tmp_path / "union.bib"
        offline = _enrich(
            env, *inputs, "-o", union, "--offline", "--cache-dir", cache, "--report", report
        )
        _, stderr = offline.communicate(timeout=STARTUP)
        assert offline.returncode == 0, stderr
        assert arxiv.count == sent  # nothing went over the network
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    assert summary["skipped-offline"] == 0 and summary["offline_misses"] == 0, summary
    assert summary["sent"] == 0 and summary["from_cache"] == summary["requests"] >= 5
    assert summary["enriched"] == 2 * (TITLES_PER_INPUT + len(SHARED_IDS))
    assert "skipped (offline)" not in stderr
    assert union.read_text(encoding="utf-8").count("Author0, Ada and Coauthor, Bo") == 1


# -- input limits -----------------------------------------------------------------


def _entry(**fields: str) -> str:
    """One BibTeX entry: a title, an author and a year unless ``fields`` replace them."""
    values = {"title": "A title", "author": "Doe, Jane", "year": "2020", **fields}
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in values.items())
    return f"@article{{x,\n{body}\n}}\n"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _traced_peak(func, *args, **kwargs):  # type: ignore[no-untyped-def]
    """(result, peak bytes traced while ``func`` ran)."""
    tracemalloc.start()
    try:
        result = func(*args, **kwargs)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def ten_mb_abstract() -> str:
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit "
    return (words * (10 * MiB // len(words) + 1))[: 10 * MiB - 3] + "end"


@pytest.mark.slow
def test_ten_mb_bibtex_field_survives_in_bounded_memory(ten_mb_abstract: str) -> None:
    text = _entry(abstract=ten_mb_abstract)
    result, peak = _traced_peak(read_text, text, "bibtex", source="big.bib")
    assert [str(d) for d in result.diagnostics] == []
    [record] = result.records
    assert record.abstract == ten_mb_abstract
    assert peak < 20 * len(text), f"peak {peak / len(text):.1f}x the input"

    csl = write(result.records, "csljson")
    [item] = json.loads(csl.text)
    assert len(item["abstract"]) == len(ten_mb_abstract)
    assert _sha(item["abstract"]) == _sha(ten_mb_abstract)
    bib = write(result.records, "bibtex")
    assert "{" + ten_mb_abstract + "}" in bib.text


def test_ten_mb_ris_line_survives_in_bounded_memory(ten_mb_abstract: str) -> None:
    text = (
        f"TY  - JOUR\nTI  - A title\nAU  - Doe, Jane\nPY  - 2020\nAB  - {ten_mb_abstract}\nER  - \n"
    )
    result, peak = _traced_peak(read_text, text, "ris", source="big.ris")
    assert [str(d) for d in result.diagnostics] == []
    [record] = result.records
    assert _sha(record.abstract) == _sha(ten_mb_abstract)
    assert peak < 20 * len(text), f"peak {peak / len(text):.1f}x the input"
    assert f"AB  - {ten_mb_abstract}\n" in write(result.records, "ris").text


# Read and written in a child process: tracemalloc makes reading 100,000 names five
# times slower (20 s here), so memory is the growth of the child's peak RSS instead,
# which counts more than tracemalloc does (allocator slack included).
MANY_AUTHORS = r"""
import gc, json, resource, sys
from bibtools.convert import read_file, write

def peak_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

gc.collect()
base = peak_kib()
result = read_file(sys.argv[1], "bibtex")
read_peak = peak_kib()
written = write(result.records, "csljson")
write_peak = peak_kib()
[record] = result.records
[item] = json.loads(written.text)
print(json.dumps({
    "diagnostics": [str(d) for d in result.diagnostics] + [str(d) for d in written.diagnostics],
    "authors": [[a.given, a.family] for a in record.authors],
    "truncated": record.authors_truncated,
    "csl_authors": [[a.get("given"), a.get("family")] for a in item["author"]],
    "read_kib": read_peak - base,
    "write_kib": write_peak - base,
}))
"""


@pytest.mark.slow
def test_hundred_thousand_authors(tmp_path: Path) -> None:
    n = 100_000
    names = " and ".join(f"A{i} Family{i}" for i in range(n))
    source = tmp_path / "many.bib"
    source.write_text(_entry(author=names), "utf-8")
    size = source.stat().st_size
    child = subprocess.run(
        [sys.executable, "-c", MANY_AUTHORS, str(source)],
        capture_output=True,
        text=True,
        timeout=300,  # a hang, not a measurement: no timing is asserted
    )
    assert child.returncode == 0, child.stderr
    out = json.loads(child.stdout)
    assert out["diagnostics"] == []
    expected = [[f"A{i}", f"Family{i}"] for i in range(n)]
    assert out["authors"] == expected and not out["truncated"]
    assert out["csl_authors"] == expected
    assert out["read_kib"] * 1024 < 50 * size, f"read peak {out['read_kib'] * 1024 / size:.0f}x"
    # Not in the requirement; a loose bound that still catches a quadratic writer.
    assert out["write_kib"] * 1024 < 100 * size, f"write peak {out['write_kib'] * 1024 / size:.0f}x"


DEEP = 100_000


def _deep_title(depth: int = DEEP) -> str:
    return "{" * depth + "Deep" + "}" * depth


def test_braces_nested_100000_deep_are_read_and_written() -> None:
    result = read_text(_entry(title=_deep_title()), "bibtex")
    assert result.detected == 1 and result.diagnostics == []
    [record] = result.records
    assert to_plain(record.title) == "Deep"
    for fmt in ("csljson", "bibtex", "ris"):
        written = write(result.records, fmt)
        assert "Deep" in written.text and not written.diagnostics.errors, fmt


def test_braces_nested_100000_deep_in_names_and_quoted_values() -> None:
    text = (
        '@article{q,\n  title = "' + _deep_title() + '",\n'
        "  author = {" + "{" * DEEP + "Doe, Jane" + "}" * DEEP + "},\n  year = 2020\n}\n"
    )
    result = read_text(text, "bibtex")
    [record] = result.records
    assert to_plain(record.title) == "Deep"
    assert [to_plain(a.literal or a.family) for a in record.authors] == ["Doe, Jane"]
    for fmt in ("csljson", "bibtex", "ris"):
        assert "Deep" in write(result.records, fmt).text, fmt


def test_unbalanced_braces_are_one_error_with_a_line() -> None:
    text = (
        "@article{first,\n  title = {Fine},\n  year = {2020}\n}\n\n"
        "@article{open,\n  title = {" + "{" * DEEP + "Open,\n  year = {2020}\n}\n\n"
    )
    result = read_text(text, "bibtex", source="open.bib")
    assert result.detected == 2
    assert [r.key for r in result.records] == ["first"]
    [error] = result.diagnostics
    assert error.level is Level.ERROR and error.file == "open.bib" and error.line == 6
    assert "\n" not in str(error) and len(str(error)) < 300


def test_unbalanced_braces_through_the_cli(tmp_path: Path) -> None:
    source = tmp_path / "open.bib"
    source.write_text("@article{open,\n  title = {" + "{" * DEEP + "Open\n}\n", "utf-8")
    result = CliRunner().invoke(main, ["convert", str(source), "-t", "csljson"])
    assert result.exit_code == 2, result.output  # its one record was skipped: nothing left
    line, summary = result.stderr.splitlines()
    assert line.startswith(f"{source}:1: error: ") and "unbalanced" in line, line
    assert (
        summary
        == "bibtools: error: no record could be read (1 skipped, see above); nothing written"
    )
    assert result.stdout == ""


@pytest.mark.parametrize("fmt", ["csljson", "ris"])
def test_braces_nested_deep_inside_math_are_written(fmt: str) -> None:
    title = "Deep $" + "{" * 1000 + "x" + "}" * 1000 + "$ math"
    result = read_text(_entry(title=title), "bibtex")
    [record] = result.records
    assert record.title.count("$") == 2  # read as math, braces and all
    assert "x" in write(result.records, fmt).text


@pytest.mark.parametrize(
    "text",
    [
        "[" * DEEP + "]" * DEEP,
        "[" * DEEP,
        '[{"id": "a", "type": "book", "title": ' + "[" * DEEP + "]" * DEEP + "}]",
        "[" + '{"a": ' * DEEP + "1" + "}" * DEEP + "]",
    ],
    ids=["balanced", "unbalanced", "in-a-field", "objects"],
)
def test_csljson_nested_100000_deep_is_a_clean_error(text: str) -> None:
    result = read_text(text, "csljson", source="deep.json")
    assert result.records == []
    [error] = result.diagnostics
    assert error.level is Level.ERROR and error.file == "deep.json" and error.line >= 1
    assert "\n" not in str(error) and len(str(error)) < 300


def test_csljson_nested_100000_deep_through_the_cli(tmp_path: Path) -> None:
    source = tmp_path / "deep.json"
    source.write_text("[" * DEEP + "]" * DEEP, "utf-8")
    result = CliRunner().invoke(main, ["convert", str(source), "-t", "bibtex"])
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("bibtools: error: ") and "deep.json" in line, line
