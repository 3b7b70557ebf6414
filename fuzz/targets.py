"""Fuzz targets: what each one runs on an input, and what outcomes it accepts.

A target turns fuzzer bytes into a call of one reader or parser and checks
the outcome against the reliability contract (docs/reliability.md):

* **readers** (``listing``, ``bibtex``, ``ris``, ``csljson``) return
  records, or raise a :class:`bibtools.diagnostics.BibtoolsError` whose
  one-line message names the input.  Every diagnostic names the input and a
  line inside it; records written + records reported as skipped = records
  detected; the records can be written in every output format;
* **the Atom parser** (:func:`bibtools.sources.arxiv.parse_feed`) returns a
  feed or raises one of its documented :class:`ArxivError` subclasses; the
  entries it returns can be merged into a record;
* **the GitHub JSON readers** (REST body, GraphQL batch, rate-limit
  headers) return one :class:`RepoInfo` per repository asked for and never
  raise;
* **the BibTeX splitter** (:mod:`bibtools.formats.bibtex_split`, when it
  exists) gives bibtexparser's blocks, block for block.

Any other exception is a *crash*; a call that takes more than
:data:`CPU_LIMIT` seconds of CPU on an input of at most :data:`MAX_LEN`
bytes is *slow*; one whose Python allocations peak above
:data:`MEMORY_FACTOR` times the input size plus :data:`MEMORY_ALLOWANCE`
(what a reader needs for an almost empty input) is a *memory* finding.
All three raise :class:`Finding` (crashes are wrapped by
:func:`classify`), which ``fuzz/run.py`` records and the regression tests
replay.

This module is loaded by path (``fuzz/`` is not a package), by
``fuzz/run.py`` and by ``tests/test_fuzz_regressions.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import json
import logging
import re
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
DICTS = Path(__file__).resolve().parent / "dicts"

MAX_LEN = 10 * 1024  # the "10 KB input"
CPU_LIMIT = 1.0  # seconds of CPU for one input of at most MAX_LEN bytes
MEMORY_FACTOR = 50  # "memory blow-up (> 50x input size)"
# What any input may use on top: parser objects and caches that fill up on
# first use (compiled patterns, lru_caches).  Over the seeds, after a warm-up
# run, no target allocates more than 0.4 MiB above 50x its input.
MEMORY_ALLOWANCE = 1024 * 1024
SOURCE = "fuzz-input"
AS_OF = dt.date(2026, 1, 15)
WRITERS = ("bibtex", "ris", "csljson")

logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)


class Finding(Exception):
    """An outcome outside the contract; ``kind`` is crash, slow, memory or contract."""

    def __init__(self, kind: str, message: str, signature: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.signature = signature or f"{kind}: {message[:80]}"


@dataclass
class Target:
    name: str
    description: str
    run: Callable[[bytes], Any]  # raises on a contract violation
    seeds: Callable[[], Iterator[tuple[str, bytes]]]
    dictionary: str = ""  # a libFuzzer dictionary in fuzz/dicts
    instrument: tuple[str, ...] = ("bibtools",)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------
# Budgets


@dataclass
class Usage:
    cpu: float = 0.0  # seconds of this thread's CPU
    peak: int = 0  # bytes, peak of Python allocations above the start


_memory_checks = True


@contextlib.contextmanager
def memory_off() -> Iterator[None]:
    """Measure CPU time only (tracemalloc makes a reader 4-10 times slower)."""
    global _memory_checks
    before, _memory_checks = _memory_checks, False
    try:
        yield
    finally:
        _memory_checks = before


def measured(fn: Callable[[], Any], *, memory: bool = True) -> tuple[Any, Usage]:
    """Run ``fn``; its CPU time and, if ``memory``, its peak of Python allocations."""
    usage = Usage()
    memory = memory and _memory_checks
    own_trace = memory and not tracemalloc.is_tracing()
    if own_trace:
        tracemalloc.start()
    try:
        if memory:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
        start = time.thread_time()
        try:
            result = fn()
        finally:
            usage.cpu = time.thread_time() - start
            if memory:
                usage.peak = max(0, tracemalloc.get_traced_memory()[1] - base)
    finally:
        if own_trace:
            tracemalloc.stop()
    return result, usage


def memory_budget(size: int) -> int:
    return MEMORY_FACTOR * size + MEMORY_ALLOWANCE


def check_budget(usage: Usage, size: int, cpu_limit: float = CPU_LIMIT) -> None:
    # The time limit is stated for inputs of MAX_LEN bytes; longer inputs
    # (regression files, hand-made cases) get a proportional budget.
    allowed = cpu_limit * max(1.0, size / MAX_LEN)
    if usage.cpu > allowed:
        raise Finding("slow", f"{usage.cpu:.2f} s of CPU for {size} bytes (limit {allowed:.2f} s)")
    if usage.peak > memory_budget(size):
        raise Finding(
            "memory",
            f"{usage.peak / 2**20:.1f} MiB allocated for {size} bytes "
            f"(limit {memory_budget(size) / 2**20:.1f} MiB)",
        )


def classify(exc: BaseException) -> Finding:
    """An exception from a target as a finding, with a signature to deduplicate on."""
    if isinstance(exc, Finding):
        return exc
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/bibtools/" in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].name}" if ours else "?"
    if isinstance(exc, AssertionError):
        return Finding("contract", f"{exc}", f"contract: {where}: {str(exc)[:60]}")
    text = f"{type(exc).__name__}: {exc}"
    return Finding("crash", f"{text[:300]} at {where}", f"crash: {type(exc).__name__} at {where}")


def input_id(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:16]


# --------------------------------------------------------------------------
# Readers


def as_text(data: bytes) -> str:
    """Fuzzer bytes as the text a reader gets (after the CLI's decoding)."""
    return data.decode("utf-8", errors="replace")


def _lines(text: str) -> int:
    # Generous: whichever way a reader counts lines (\n, \r, Unicode breaks).
    return len(text.splitlines()) + 1


def check_read_result(fmt: str, text: str, result: Any) -> None:
    """The contract of a reader's result (the accounting invariant included)."""
    from bibtools.diagnostics import Level
    from bibtools.model import Record

    last = _lines(text)
    for d in result.diagnostics:
        assert d.file == SOURCE, f"diagnostic without the input's name: {d}"
        assert 0 <= d.line <= last, f"diagnostic line {d.line} outside the input (1..{last}): {d}"
        assert d.message and "\n" not in d.message.strip(), f"message not one line: {d!r}"
    errors = [d for d in result.diagnostics if d.level is Level.ERROR]
    assert all(isinstance(r, Record) for r in result.records), "a reader returned a non-record"
    if result.detected == 0:
        assert not result.records, f"{len(result.records)} records but none detected"
        return
    assert len(result.records) + len(errors) == result.detected, (
        f"accounting: {len(result.records)} written + {len(errors)} skipped "
        f"!= {result.detected} detected"
    )
    assert all(e.line > 0 for e in errors), "a skipped record without a line"


def read_checked(fmt: str, text: str) -> Any:
    """Read ``text`` as ``fmt`` and check the result; None for a (documented) refusal."""
    from bibtools.convert import get_format
    from bibtools.diagnostics import BibtoolsError
    from bibtools.formats import ReadOptions

    module = get_format(fmt)
    module.sniff(text)
    try:
        result = module.read(text, ReadOptions(source=SOURCE, as_of=AS_OF))
    except BibtoolsError as exc:
        message = str(exc)
        assert message.startswith(SOURCE), f"error without the input's name: {message!r}"
        assert "\n" not in message, f"error message not one line: {message!r}"
        return None
    check_read_result(fmt, text, result)
    return result


def write_all(result: Any) -> int:
    """Write the records in every output format, as ``bibtools convert`` would; bytes written."""
    from bibtools.convert import write
    from bibtools.formats import WriteOptions

    size = 0
    for out in WRITERS:
        options = WriteOptions(blocks=result.blocks)
        written = write([r.copy() for r in result.records], out, options)
        assert isinstance(written.text, str)
        size += len(written.text.encode("utf-8", "surrogatepass"))
    return size


def read_and_write(fmt: str, text: str) -> Any:
    result = read_checked(fmt, text)
    if result is not None:
        write_all(result)
    return result


def reader_target(fmt: str) -> Callable[[bytes], Any]:
    """Reading is held to the budget of its input; writing to that of input and output.

    An output may be much larger than its input (a RIS title of 10,000
    braces becomes 10,000 ``\\textbraceleft{}`` in BibTeX), and a writer's
    memory follows what it writes.
    """

    def run(data: bytes) -> Any:
        text = as_text(data)
        result, usage = measured(lambda: read_checked(fmt, text))
        check_budget(usage, len(data))
        if result is not None:
            size, usage = measured(lambda: write_all(result))
            check_budget(usage, len(data) + size)
        return result

    run.__name__ = f"read_{fmt}"
    return run


# --------------------------------------------------------------------------
# The arXiv Atom parser


def parse_atom(data: bytes) -> Any:
    from bibtools.enrich import merge_arxiv
    from bibtools.model import Record
    from bibtools.sources.arxiv import ArxivError, parse_feed

    try:
        feed = parse_feed(data)
    except ArxivError as exc:
        assert str(exc) and "\n" not in str(exc), f"error message not one line: {exc!r}"
        return None
    for entry in feed.entries:
        entry.published_date()
        assert isinstance(entry.title_markup, str)
        assert isinstance(entry.normalized_title, str)
        merged, changes = merge_arxiv(Record(title="A title", key="k"), entry, "k")
        assert isinstance(merged, Record) and isinstance(changes, list)
    return feed


def atom_target(data: bytes) -> Any:
    result, usage = measured(lambda: parse_atom(data))
    check_budget(usage, len(data))
    return result


# --------------------------------------------------------------------------
# GitHub's JSON answers


class _FixedClock:
    def monotonic(self) -> float:
        return 1000.0

    def time(self) -> float:
        return 1_780_000_000.0

    def sleep(self, seconds: float) -> None:
        raise AssertionError("a parser must not sleep")


_HTTP: Any = None
BATCH = ("octo/hello", "Owner/Name-2", "a/b")
_STATUS_LINE = re.compile(rb"^(rest|graphql)\s+(\d{3})$")


def _http() -> Any:
    global _HTTP
    if _HTTP is None:
        from bibtools.http import HttpClient

        _HTTP = HttpClient(cache_dir=None, clock=_FixedClock())
    return _HTTP


def split_github_input(data: bytes) -> tuple[str, int, dict[str, str], bytes]:
    """``rest 200\\nHeader: value\\n\\nbody`` -> (mode, status, headers, body).

    Without a first line of that form the whole input is a REST 200 body.
    """
    head, sep, body = data.partition(b"\n\n")
    lines = head.split(b"\n")
    m = _STATUS_LINE.match(lines[0].strip()) if sep else None
    if m is None:
        return "rest", 200, {}, data
    headers: dict[str, str] = {}
    for raw in lines[1:]:
        name, colon, value = raw.decode("latin-1").partition(":")
        if colon and name.strip():
            headers[name.strip()] = value.strip()
    return m.group(1).decode(), int(m.group(2)), headers, body


def parse_github(data: bytes) -> Any:
    from bibtools.http import Reply
    from bibtools.sources.github import GitHubClient, RepoInfo

    mode, status, headers, body = split_github_input(data)
    client = GitHubClient(_http(), api_url="https://api.github.test", token="t0ken")
    url = f"https://api.github.test/{'graphql' if mode == 'graphql' else 'repos/' + BATCH[0]}"
    reply = Reply("POST" if mode == "graphql" else "GET", url, status, headers, body, False)
    resource = "graphql" if mode == "graphql" else "core"
    client._note_budget(reply, resource)
    limited = client._limit(reply)
    assert isinstance(limited, str)
    if limited and limited != "primary":
        float(limited)
    message = client.spent_message(resource)
    assert "t0ken" not in message
    if client.reset_at is not None:
        client.reset_phrase(client.reset_at)
    if mode == "graphql":
        infos = client._from_graphql(list(BATCH), reply)
        assert set(infos) == set(BATCH), f"GraphQL answers for {sorted(infos)}"
        values = list(infos.values())
    else:
        values = [client._from_rest(BATCH[0], reply)]
    for info in values:
        assert isinstance(info, RepoInfo) and info.status, f"not a RepoInfo: {info!r}"
        assert "t0ken" not in repr(info)
    return values


def github_target(data: bytes) -> Any:
    result, usage = measured(lambda: parse_github(data))
    check_budget(usage, len(data))
    return result


# --------------------------------------------------------------------------
# The fast BibTeX splitter against bibtexparser's


def split_blocks(text: str) -> list[tuple[Any, ...]]:
    from bibtools.formats.bibtex_split import (
        CommentBlock,
        EntryBlock,
        FailedBlock,
        PreambleBlock,
        StringBlock,
        split,
    )

    out: list[tuple[Any, ...]] = []
    for block in split(text):
        if isinstance(block, EntryBlock):
            out.append(("entry", block.entry_type, block.key, block.fields, block.line))
        elif isinstance(block, StringBlock):
            out.append(("string", block.key, block.raw_value, block.line))
        elif isinstance(block, PreambleBlock):
            out.append(("preamble", block.raw_value, block.line))
        elif isinstance(block, CommentBlock):
            out.append(("comment", block.text, block.line))
        else:
            assert isinstance(block, FailedBlock), f"unknown block {block!r}"
            assert block.message, "a failed block without a reason"
            out.append(("failed", block.raw, block.line))
    return out


def reference_blocks(text: str) -> list[tuple[Any, ...]]:
    """bibtexparser's Splitter, in the splitter's terms (the reference it promises to match)."""
    from bibtexparser import model as bpm
    from bibtexparser.splitter import Splitter

    out: list[tuple[Any, ...]] = []
    for block in Splitter(text).split().blocks:
        if isinstance(block, (bpm.DuplicateBlockKeyBlock, bpm.DuplicateFieldKeyBlock)):
            block = block.ignore_error_block
        line = block.start_line + 1
        if isinstance(block, bpm.Entry):
            fields = tuple((f.key, f.value, f.start_line + 1) for f in block.fields)
            out.append(("entry", block.entry_type, block.key, fields, line))
        elif isinstance(block, bpm.String):
            out.append(("string", block.key, block.value, line))
        elif isinstance(block, bpm.Preamble):
            out.append(("preamble", block.value, line))
        elif isinstance(block, bpm.ExplicitComment):
            entry = _commented_entry(block, line)
            out.append(entry or ("comment", block.comment, line))
        elif isinstance(block, bpm.ParsingFailedBlock):
            out.append(("failed", block.raw, line))
        else:
            assert isinstance(block, bpm.ImplicitComment), f"unknown block {block!r}"
    return out


def _commented_entry(block: Any, line: int) -> tuple[Any, ...] | None:
    """``@commented{k, ...}`` is an entry for BibTeX, a comment for bibtexparser.

    The splitter follows BibTeX there (its one deliberate difference): the
    reference is bibtexparser's reading of the same block under a type that
    does not start with "comment".
    """
    import re

    from bibtexparser import model as bpm
    from bibtexparser.splitter import Splitter

    m = re.match(r"@(comment\w+)(?=[ \t]*\{)", block.raw or "", re.I)
    if m is None:
        return None
    blocks = Splitter("@x" + block.raw[2:]).split().blocks
    if len(blocks) != 1 or not isinstance(blocks[0], bpm.Entry):
        return None
    entry = blocks[0]
    fields = tuple((f.key, f.value, f.start_line + line) for f in entry.fields)
    return ("entry", m.group(1).lower(), entry.key, fields, line)


def quote_in_braces_in_quotes(text: str) -> bool:
    """Might a quoted value hold a quote inside braces (``"a{"b}c"``)?

    There the splitter follows BibTeX (the value goes on) and bibtexparser
    does not (it ends the value), so the two are not compared.  Errs on the
    side of yes: braces are counted over the whole text.
    """
    if '"' not in text or "{" not in text:
        return False
    depth, opened_at, escaped = 0, -1, False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"':
            if opened_at < 0:
                opened_at = depth
            elif depth == opened_at:
                opened_at = -1
            else:
                return True
    return False


def split_target(data: bytes) -> Any:
    text = as_text(data)
    ours, usage = measured(lambda: split_blocks(text))
    check_budget(usage, len(data))
    if quote_in_braces_in_quotes(text):
        return ours  # a deliberate difference (bibtex_split's docstring)
    try:
        expected = reference_blocks(text)
    except Exception:
        return ours
    if ours != expected:
        for i, (want, have) in enumerate(zip(expected, ours, strict=False)):
            if want != have:
                raise Finding(
                    "contract",
                    f"block {i} differs from bibtexparser: {have!r:.150} != {want!r:.150}",
                    f"contract: splitter differs on a {want[0]} block",
                )
        raise Finding(
            "contract",
            f"{len(ours)} blocks, bibtexparser has {len(expected)}",
            "contract: splitter block count",
        )
    return ours


# --------------------------------------------------------------------------
# Seeds: the fixtures, cut into pieces of at most MAX_LEN bytes


def _decoded(path: Path) -> str | None:
    from bibtools.diagnostics import InputError
    from bibtools.files import decode

    try:
        return decode(path.read_bytes(), path.name)[0]
    except InputError:
        return None


def _pieces(text: str, start: re.Pattern[str]) -> Iterator[str]:
    """``text`` cut at matches of ``start`` into pieces of at most MAX_LEN UTF-8 bytes."""
    cuts = [m.start() for m in start.finditer(text) if m.start() > 0]
    bounds = [0, *cuts, len(text)]
    piece = ""
    for a, b in itertools.pairwise(bounds):
        part = text[a:b]
        if len((piece + part).encode()) > MAX_LEN and piece:
            yield piece
            piece = ""
        piece += part
        while len(piece.encode()) > MAX_LEN:
            cut = piece.encode()[:MAX_LEN].decode("utf-8", "ignore")
            yield cut
            piece = piece[len(cut) :]
    if piece:
        yield piece


def _text_seeds(paths: list[Path], start: str) -> Iterator[tuple[str, bytes]]:
    pattern = re.compile(start, re.M)
    for path in paths:
        text = _decoded(path)
        if text is None:
            continue
        for i, piece in enumerate(_pieces(text, pattern)):
            yield f"{path.stem}.{i}", piece.encode()


def _csl_seeds(paths: list[Path]) -> Iterator[tuple[str, bytes]]:
    for path in paths:
        data = path.read_bytes()
        if len(data) <= MAX_LEN:
            yield path.stem, data
            continue
        try:
            items = json.loads(data)
        except ValueError:
            continue
        if isinstance(items, dict):
            items = items.get("items") or [items]
        chunk: list[Any] = []
        n = 0
        for item in items if isinstance(items, list) else []:
            trial = json.dumps([*chunk, item], indent=2, ensure_ascii=False).encode()
            if len(trial) > MAX_LEN and chunk:
                yield f"{path.stem}.{n}", json.dumps(chunk, indent=2, ensure_ascii=False).encode()
                chunk, n = [], n + 1
            chunk.append(item)
        if chunk:
            data = json.dumps(chunk, indent=2, ensure_ascii=False).encode()
            yield f"{path.stem}.{n}", data[:MAX_LEN]


def _files(folder: str, *patterns: str) -> list[Path]:
    out: list[Path] = []
    for pattern in patterns:
        out.extend(sorted((FIXTURES / folder).rglob(pattern)))
    return [p for p in out if ".expected." not in p.name]


def bibtex_seeds() -> Iterator[tuple[str, bytes]]:
    yield from _text_seeds(_files("bibtex", "*.bib"), r"^\s*@")


def ris_seeds() -> Iterator[tuple[str, bytes]]:
    yield from _text_seeds(_files("ris", "*.ris"), r"^TY  -")


def csl_seeds() -> Iterator[tuple[str, bytes]]:
    yield from _csl_seeds([*_files("csl", "*.json"), *_files("bibtex/citationjs", "*.json")])


def listing_seeds() -> Iterator[tuple[str, bytes]]:
    header = r"^\s*[A-Z]{2,}\s*(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d"
    paths = [*_files("listing", "*.txt"), ROOT / "bibtools" / "data" / "example.listing"]
    yield from _text_seeds([p for p in paths if p.exists()], header)


def atom_seeds() -> Iterator[tuple[str, bytes]]:
    for path in _files("arxiv", "*.xml"):
        data = path.read_bytes()
        if len(data) <= MAX_LEN:
            yield path.stem, data
            continue
        # Keep the feed's head and as many whole entries as fit, then close it.
        head, _, rest = data.partition(b"<entry>")
        entries = rest.split(b"<entry>")
        body = head
        for e in entries:
            piece = b"<entry>" + e.split(b"</entry>")[0] + b"</entry>\n"
            if len(body) + len(piece) + 8 > MAX_LEN:
                break
            body += piece
        yield path.stem, body + b"</feed>\n"
    from bibtools.sources.arxiv import ATOM

    yield "minimal", f'<feed xmlns="{ATOM}"></feed>'.encode()


def github_seeds() -> Iterator[tuple[str, bytes]]:
    folder = FIXTURES / "github"
    for meta_path in sorted(folder.glob("*.meta.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        body_file = meta.get("body_file")
        body = (folder / body_file).read_bytes() if body_file else b""
        mode = "graphql" if meta_path.name.startswith("graphql") else "rest"
        keep = ("x-ratelimit", "retry-after", "content-type", "location")
        headers = [f"{k}: {v}" for k, v in meta["headers"] if k.lower().startswith(keep)]
        head = "\n".join([f"{mode} {meta['status']}", *headers]).encode()
        data = head + b"\n\n" + body
        yield meta_path.name.removesuffix(".meta.json"), data[:MAX_LEN]
    node = {
        "nameWithOwner": "octo/hello",
        "databaseId": 1,
        "stargazerCount": 3,
        "licenseInfo": {"spdxId": "MIT", "name": "MIT License"},
    }
    answer = {
        "data": {"r0": node, "r1": None, "r2": {**node, "nameWithOwner": "x/y"}},
        "errors": [{"type": "NOT_FOUND", "path": ["r1"], "message": "Could not resolve"}],
    }
    yield (
        "graphql_batch",
        b"graphql 200\nx-ratelimit-remaining: 10\n\n" + json.dumps(answer).encode(),
    )


def dictionary_tokens(name: str) -> list[bytes]:
    """The tokens of a libFuzzer dictionary in fuzz/dicts (``"..."`` lines, ``\\xNN`` escapes)."""
    if not name:
        return []
    tokens = []
    for line in (DICTS / name).read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r'\s*(?:\w+=)?"(.*)"\s*', line)
        if m:
            raw = re.sub(r"\\x([0-9a-fA-F]{2})", lambda h: chr(int(h.group(1), 16)), m.group(1))
            tokens.append(raw.replace('\\"', '"').replace("\\\\", "\\").encode("utf-8"))
    return tokens


def mutate(data: bytes, rng: Any, tokens: list[bytes], others: list[bytes]) -> bytes:
    """One to four random edits of ``data`` (a seed): the fallback engine's mutator.

    ``rng`` is a :class:`random.Random` (hypothesis' ``st.randoms()`` in tests).
    """
    for _ in range(rng.randint(1, 4)):
        n = len(data)
        i = rng.randint(0, n)
        j = min(n, i + rng.choice((1, 2, 8, 64, 512)))
        op = rng.randrange(9)
        if op == 0:
            data = data[:i] + data[j:]
        elif op == 1:
            data = data[:j] + data[i:j] + data[j:]
        elif op == 2 and tokens:
            data = data[:i] + rng.choice(tokens) + data[i:]
        elif op == 3:
            data = data[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + data[i:]
        elif op == 4 and n:
            k = min(n - 1, i)
            data = data[:k] + bytes([rng.randrange(256)]) + data[k + 1 :]
        elif op == 5 and others:
            other = rng.choice(others)
            a = rng.randint(0, len(other))
            data = data[:i] + other[a : a + rng.randint(1, 2000)] + data[j:]
        elif op == 6:
            data = data[:i]
        elif op == 7:
            # Deep or long structures: the same few bytes many times over.
            data = data[:i] + data[i:j] * rng.randint(2, 400) + data[j:]
        else:
            token = rng.choice(tokens) if tokens else b"{"
            data = data[:i] + token * rng.randint(2, 300) + data[i:]
    return data[:MAX_LEN]


def split_seeds() -> Iterator[tuple[str, bytes]]:
    yield from bibtex_seeds()


def has_splitter() -> bool:
    return (ROOT / "bibtools" / "formats" / "bibtex_split.py").exists()


TARGETS: dict[str, Target] = {
    "listing": Target(
        "listing", "listing reader, then every writer", reader_target("listing"), listing_seeds
    ),
    "bibtex": Target(
        "bibtex",
        "BibTeX reader, then every writer",
        reader_target("bibtex"),
        bibtex_seeds,
        "bibtex.dict",
        ("bibtools", "bibtexparser"),
    ),
    "ris": Target(
        "ris", "RIS reader, then every writer", reader_target("ris"), ris_seeds, "ris.dict"
    ),
    "csljson": Target(
        "csljson",
        "CSL-JSON reader, then every writer",
        reader_target("csljson"),
        csl_seeds,
        "json.dict",
    ),
    "atom": Target(
        "atom", "arXiv Atom parser and merge into a record", atom_target, atom_seeds, "atom.dict"
    ),
    "github": Target(
        "github",
        "GitHub REST/GraphQL answers and rate-limit headers",
        github_target,
        github_seeds,
        "json.dict",
    ),
}
if has_splitter():
    TARGETS["bibtex_split"] = Target(
        "bibtex_split",
        "fast BibTeX splitter, differential against bibtexparser",
        split_target,
        split_seeds,
        "bibtex.dict",
        ("bibtools", "bibtexparser"),
    )
READERS = ("listing", "bibtex", "ris", "csljson")
