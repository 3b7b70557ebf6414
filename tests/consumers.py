r"""The real consumers and producers of bibtools' files, run as a user runs them.

* ``bibtex`` (classic styles ``plain``, ``plainnat``, ``ieeetr``): an ``.aux``
  with ``\citation{*}``, ``\bibstyle{STYLE}`` and ``\bibdata{FILE}`` gives the
  ``.bbl`` LaTeX would print and the ``.blg`` with BibTeX's warnings and errors;
* ``biber --tool --validate-datamodel``: what biber reads of every entry
  (its tool-mode output, fields after its BibTeX->biblatex mapping) and its
  warnings and errors;
* Debian's pandoc 2.x as a *producer* (``pandoc -f bibtex -t csljson``: the
  CSL-JSON most Linux users get), and pandoc 3 (pypandoc-binary) as a bar;
* citeproc-js (the CSL processor of Zotero and Mendeley, through node and
  ``tests/citeproc_render.js``) as a consumer of CSL-JSON.

Used by ``tests/test_consumers.py`` and ``benchmarks/consumers_report.py``:
the functions take files and a working folder and return plain data, so the
test asserts and the report prints the same figures.  bibtools itself is
run through its command line, as a user would.  Nothing here imports pytest.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar, TypeVar

T, U = TypeVar("T"), TypeVar("U")
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "bibtex"
CSL_STYLE_DIR = ROOT / "tests" / "data" / "citeproc_js" / "styles"
NODE_MODULES = Path(
    os.environ.get("BIBTOOLS_NODE_MODULES", ROOT / "benchmarks" / "citeproc_js" / "node_modules")
)
RENDER_JS = ROOT / "tests" / "citeproc_render.js"
BIBTEX_STYLES = ("plain", "plainnat", "ieeetr")
CSL_STYLES = ("apa", "ieee")
TIMEOUT = 600


def bib_files(folder: Path) -> list[Path]:
    """Every ``.bib`` file under ``folder``, sorted (a file is a folder of one)."""
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.rglob("*.bib") if p.is_file())


# --------------------------------------------------------------------------
# The tools


@dataclass(frozen=True)
class Tool:
    name: str
    argv: tuple[str, ...] = ()
    missing: str = ""  # why it cannot run; empty when it can
    version: str = ""


def _first_line(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run([*argv, "--version"], capture_output=True, text=True, timeout=60)
    except OSError:
        return ""
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""


@functools.cache
def tool(name: str) -> Tool:
    """Find one of bibtex, biber, pandoc2, pandoc3, citeproc, bibtools."""
    if name == "bibtex":
        exe = shutil.which("bibtex")
        if not exe:
            return Tool(name, missing="bibtex not found (Debian: texlive-base)")
        kpse = shutil.which("kpsewhich")
        for bst in BIBTEX_STYLES:
            found = kpse and subprocess.run([kpse, f"{bst}.bst"], capture_output=True, text=True)
            if not found or not found.stdout.strip():
                return Tool(name, missing=f"{bst}.bst not found (Debian: texlive-latex-base)")
        return Tool(name, (exe,), version=_first_line([exe]))
    if name == "biber":
        exe = shutil.which("biber")
        if not exe:
            return Tool(name, missing="biber not found (Debian: biber)")
        return Tool(name, (exe,), version=_first_line([exe]))
    if name == "pandoc2":
        exe = os.environ.get("BIBTOOLS_PANDOC2") or shutil.which("pandoc")
        version = _first_line([exe]) if exe else ""
        if not re.match(r"pandoc(\.exe)? 2\.", version):
            return Tool(name, missing=f"pandoc 2.x not found (Debian: pandoc); have {version!r}")
        return Tool(name, (exe,), version=version)  # type: ignore[arg-type]
    if name == "pandoc3":
        from bibtools.render import pandoc_path

        try:
            exe = pandoc_path()
        except Exception as exc:
            return Tool(name, missing=f"pandoc 3 not found: {exc}")
        version = _first_line([exe])
        if not re.match(r"pandoc(\.exe)? [3-9]\.", version):
            return Tool(name, missing=f"pandoc 3 not found; have {version!r}")
        return Tool(name, (exe,), version=version)
    if name == "citeproc":
        exe = shutil.which("node")
        if not exe:
            return Tool(name, missing="node not found (Debian: nodejs)")
        if not (NODE_MODULES / "citeproc" / "package.json").exists():
            return Tool(
                name,
                missing=f"citeproc-js not installed in {NODE_MODULES} "
                "(cd benchmarks/citeproc_js && npm ci)",
            )
        meta = json.loads((NODE_MODULES / "citeproc" / "package.json").read_text("utf-8"))
        return Tool(name, (exe, str(RENDER_JS)), version=f"citeproc-js {meta.get('version')}")
    if name == "bibtools":
        script = Path(sys.executable).parent / "bibtools"
        if script.exists():
            return Tool(name, (str(script),))
        import importlib.util

        if importlib.util.find_spec("bibtools") is None:
            return Tool(name, missing=f"bibtools is not installed for {sys.executable}")
        return Tool(name, (sys.executable, "-c", "from bibtools.cli import main; main()"))
    raise ValueError(name)


def run(
    argv: Sequence[str], cwd: Path | None = None, timeout: float = TIMEOUT, **kw
) -> subprocess.CompletedProcess:
    """Run a tool; one that does not finish in ``timeout`` seconds has failed (status -9)."""
    try:
        return subprocess.run(
            list(argv), cwd=cwd, capture_output=True, text=True, errors="replace",
            timeout=timeout, **kw,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, -9, "", f"did not finish in {timeout:.0f} s")


def each(func: Callable[[T], U], items: Iterable[T], jobs: int = 0) -> list[U]:
    """``[func(x) for x in items]``, on ``jobs`` threads (default: the cores,
    at most 4): the work is in the tools' processes."""
    jobs = jobs or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(func, items))


def bibtools(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``bibtools ARGS``: the installed command line."""
    return run([*tool("bibtools").argv, *args], cwd=cwd)


def _workdir(parent: Path, prefix: str) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


# --------------------------------------------------------------------------
# What a .bbl prints, as words


def _latex_to_text_converter():
    from pylatexenc import latexwalker, macrospec
    from pylatexenc.latex2text import (
        LatexNodes2Text,
        MacroTextSpec,
        get_default_latex_context_db,
    )

    # pylatexenc drops the argument of macros it parses but has no text for
    # (\mbox{G-Animal's} would print nothing) and knows no logos.
    parsing = latexwalker.get_default_latex_context_db()
    parsing.add_context_category(
        "bbl",
        prepend=True,
        macros=[
            macrospec.MacroSpec(name, "{")
            for name in ("mbox", "hbox", "natexlab", "etalchar", "textnormal", "textup", "text")
        ],
    )
    texts = get_default_latex_context_db()
    texts.add_context_category(
        "bbl",
        prepend=True,
        macros=[
            *(
                MacroTextSpec(name, "%s")
                for name in ("mbox", "hbox", "natexlab", "etalchar", "textnormal", "textup", "text")
            ),
            MacroTextSpec("TeX", "TeX"),
            MacroTextSpec("LaTeX", "LaTeX"),
            MacroTextSpec("LaTeXe", "LaTeX2e"),
            MacroTextSpec("BibTeX", "BibTeX"),
            MacroTextSpec("newblock", " "),
            MacroTextSpec("relax", ""),
            MacroTextSpec("space", " "),
            MacroTextSpec("slash", "/"),
        ],
    )
    l2t = LatexNodes2Text(latex_context=texts, math_mode="verbatim", strict_latex_spaces=True)
    return functools.partial(l2t.latex_to_text, latex_context=parsing)


_to_text = None
# \url{...} and friends are verbatim: a % in them is printed, not a comment.
_VERBATIM = re.compile(r"\\(?:url|nolinkurl|path|doi)\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_COMMENT = re.compile(r"(?<!\\)%[^\n]*(?:\n[ \t]*)?")
_PENALTY = re.compile(r"\\penalty\s*-?\d+")
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def latex_to_text(tex: str) -> str:
    """What LaTeX prints of ``tex``, near enough to compare two renderings:
    accents and dashes resolved, braces and formatting dropped, math and URLs
    as written, unknown commands dropped with their arguments printed."""
    global _to_text
    if _to_text is None:
        _to_text = _latex_to_text_converter()
    out = []
    for n, part in enumerate(_VERBATIM.split(tex)):
        if n % 2:  # a URL: bibtex's "%<newline>" line breaks are not in it
            out.append(" " + re.sub(r"%\n\s*", "", part) + " ")
            continue
        part = _PENALTY.sub("", _COMMENT.sub("", part))
        try:
            out.append(_to_text(part))
        except Exception:  # pylatexenc gives up on some broken LaTeX: strip it crudely
            out.append(re.sub(r"\\[A-Za-z]+|[{}]", "", part))
    text = unicodedata.normalize("NFC", "".join(out))
    return _SPACES.sub(" ", text).strip()


_TOKEN = re.compile(r"[^\s()\[\]]+")
_EDGE = ",.;:\"'`“”‘’„«»"


def printed_words(tex: str) -> list[str]:
    """The words LaTeX prints of ``tex``, without the punctuation and quotes
    around them: a field added after a word turns its "." into "," (IEEE:
    ``Cope.”`` -> ``Cope,”``), and a year filled into a natbib label,
    ``Name()`` -> ``Name(1998)``, adds a word; neither loses one."""
    words = (t.strip(_EDGE) for t in _TOKEN.findall(latex_to_text(tex)))
    return [w for w in words if w]


def first_lost_word(orig: Sequence[str], new: Sequence[str]) -> int | None:
    """Index of the first word of ``orig`` not printed, in order, in ``new``;
    None when every word is (words may be added: a crossref'd field filled in)."""
    j = 0
    for i, word in enumerate(orig):
        while j < len(new) and new[j] != word:
            j += 1
        if j == len(new):
            return i
        j += 1
    return None


# --------------------------------------------------------------------------
# bibtex


@dataclass
class BblRun:
    items: dict[str, str]  # citation key -> LaTeX of its \bibitem (natbib label + text)
    warnings: int
    errors: int
    log: str = ""
    warned: list[str | None] = field(default_factory=list)  # the entry of each warning, if named

    @property
    def ok(self) -> bool:
        return self.errors == 0


def bibitems(bbl: str) -> dict[str, str]:
    r"""``{key: label + text}`` of every ``\bibitem[label]{key} text`` of a .bbl.

    natbib labels nest brackets and braces: ``\bibitem[Knuth({\noopsort{1973a}}...)]{k}``."""
    end = bbl.find("\\end{thebibliography}")
    if end < 0:
        end = len(bbl)
    starts = [m.start() for m in re.finditer(r"\\bibitem(?![A-Za-z])", bbl[:end])]
    items: dict[str, str] = {}
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else end
        chunk = bbl[start + len("\\bibitem") : stop]
        i = len(chunk) - len(chunk.lstrip())
        label = ""
        if chunk[i : i + 1] == "[":
            braces = brackets = 0
            for k in range(i, len(chunk)):
                c = chunk[k]
                if c == "{":
                    braces += 1
                elif c == "}":
                    braces -= 1
                elif c == "[" and braces == 0:
                    brackets += 1
                elif c == "]" and braces == 0:
                    brackets -= 1
                    if brackets == 0:
                        label, i = chunk[i + 1 : k], k + 1
                        break
        m = re.match(r"\s*\{([^{}]*)\}", chunk[i:])
        if not m:
            continue
        items[m.group(1)] = f"{label} {chunk[i + m.end() :]}".strip()
    return items


_BLG_COUNT = re.compile(r"^\(There (?:was|were) (\d+|one) (warning|error message)s?\)", re.M)


def blg_counts(blg: str) -> tuple[int, int]:
    """(warnings, errors) of a .blg, from BibTeX's own summary lines; a fatal
    error (no .bbl) counts as one error more."""
    warnings = errors = 0
    for number, kind in _BLG_COUNT.findall(blg):
        count = 1 if number == "one" else int(number)
        if kind == "warning":
            warnings += count
        else:
            errors += count
    if "(That was a fatal error)" in blg:
        errors += 1
    return warnings, errors


_WARNING_KEY = re.compile(r"^Warning--(?:.* in (\S+)|need .* for (\S+) to crossref .*)$")


def blg_warnings(blg: str) -> list[str | None]:
    """The entry each ``Warning--`` of a .blg names (None: it names none, as
    "string name ... is undefined", which gives a line instead)."""
    out: list[str | None] = []
    for line in blg.splitlines():
        if line.startswith("Warning--"):
            m = _WARNING_KEY.match(line)
            out.append((m.group(1) or m.group(2)) if m else None)
    return out


_DECLARED = re.compile(rb"(?:% *Encoding: *|-\*-.*coding: *)([A-Za-z0-9_.-]+)")


def source_encoding(data: bytes) -> str:
    """The encoding a document must declare to print this .bib as its author
    meant: UTF-8; else what the file declares (JabRef, Emacs); else
    windows-1252 if that gives only letters; else GB18030 if that gives CJK;
    else charset-normalizer's guess (which takes Latin-1 for Shift-JIS)."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    declared = _DECLARED.search(data[:2048])
    for encoding in [declared.group(1).decode("ascii")] if declared else []:
        try:
            data.decode(encoding)
            return encoding
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        if all(c.isalpha() or c in "\u00a0§°«»´·¿¡" for c in data.decode("cp1252") if ord(c) > 127):
            return "cp1252"
    except UnicodeDecodeError:
        pass
    try:
        if re.search("[\u4e00-\u9fff]", data.decode("gb18030")):
            return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return best.encoding if best else "latin-1"


def run_bibtex(bib: Path, style: str, work: Path, encoding: str | None = None) -> BblRun:
    """bibtex on ``bib`` with ``\\citation{*}`` in ``style``; the .bbl is read in
    ``encoding`` (default: the .bib's own)."""
    d = _workdir(work, f"bibtex-{style}-")
    data = Path(bib).read_bytes()
    (d / "db.bib").write_bytes(data)
    (d / "job.aux").write_text(
        f"\\relax\n\\citation{{*}}\n\\bibstyle{{{style}}}\n\\bibdata{{db}}\n", encoding="ascii"
    )
    run([*tool("bibtex").argv, "job"], cwd=d)
    blg = (
        (d / "job.blg").read_bytes().decode("utf-8", "replace") if (d / "job.blg").exists() else ""
    )
    warnings, errors = blg_counts(blg)
    if not (d / "job.bbl").exists():
        return BblRun({}, warnings, max(errors, 1), blg, blg_warnings(blg))
    raw = (d / "job.bbl").read_bytes()
    try:
        # Bytes bibtex cut out of a character (substring$ counts bytes) stay
        # visible as U+FFFD: LaTeX would stop on them.
        text = raw.decode(encoding or source_encoding(data), errors="replace")
    except LookupError:
        text = raw.decode("latin-1")
    shutil.rmtree(d, ignore_errors=True)
    return BblRun(bibitems(text), warnings, errors, blg, blg_warnings(blg))


@dataclass
class Harm:
    style: str
    key: str
    orig: str  # printed text of the original entry
    new: str  # printed text of bibtools' entry
    lost: str  # the first word no longer printed

    def __str__(self) -> str:
        return (
            f"[{self.style}] {self.key}: lost {self.lost!r}\n"
            f"      original: {self.orig[:300]}\n      bibtools: {self.new[:300]}"
        )


@dataclass
class StyleCompare:
    style: str
    entries: int = 0  # entries the original prints
    kept: int = 0  # of which every printed word is still printed, in order
    identical: int = 0  # of which the printed text is the same
    harmed: list[Harm] = field(default_factory=list)
    lost_keys: list[str] = field(default_factory=list)
    added_keys: list[str] = field(default_factory=list)
    orig_warnings: int = 0
    new_warnings: int = 0
    orig_errors: int = 0
    new_errors: int = 0

    @property
    def warns_more(self) -> bool:
        return self.new_warnings > self.orig_warnings or self.new_errors > self.orig_errors


@dataclass
class BibtexRoundTrip:
    """``bibtools convert SRC -t bibtex`` typeset by bibtex next to SRC itself."""

    source: Path
    convert_status: int
    convert_stderr: str
    styles: dict[str, StyleCompare]


def compare_bbl(style: str, orig: BblRun, new: BblRun) -> StyleCompare:
    """Entry for entry; warnings about entries the original does not print
    (bibtex stopped on them, bibtools' output reads) are not counted."""

    def counted(run: BblRun) -> int:
        return sum(key is None or key in orig.items for key in run.warned)

    result = StyleCompare(
        style,
        orig_warnings=counted(orig),
        new_warnings=counted(new),
        orig_errors=orig.errors,
        new_errors=new.errors,
    )
    for key, tex in orig.items.items():
        result.entries += 1
        if key not in new.items:
            result.lost_keys.append(key)
            continue
        before, after = printed_words(tex), printed_words(new.items[key])
        lost = first_lost_word(before, after)
        if lost is None:
            result.kept += 1
            result.identical += latex_to_text(tex) == latex_to_text(new.items[key])
        else:
            shown = latex_to_text(tex), latex_to_text(new.items[key])
            result.harmed.append(Harm(style, key, *shown, before[lost]))
    result.added_keys = [k for k in new.items if k not in orig.items]
    return result


def bibtex_round_trip(
    source: Path, work: Path, styles: Iterable[str] = BIBTEX_STYLES
) -> BibtexRoundTrip:
    d = _workdir(work, "roundtrip-")
    out = d / "bibtools.bib"
    proc = bibtools("convert", str(source), "-t", "bibtex", "-o", str(out))
    encoding = source_encoding(Path(source).read_bytes())
    # The document that printed the original declares its encoding; the output
    # is read the same way (bibtools writes a legacy encoding back as it was),
    # except a UTF-16 original, which no document could use: UTF-8 then.
    unreadable = encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32"))
    output_encoding = "utf-8" if unreadable else encoding
    compared = {}
    for style in styles:
        orig = run_bibtex(source, style, d, encoding)
        new = run_bibtex(out, style, d, output_encoding) if out.exists() else BblRun({}, 0, 1)
        compared[style] = compare_bbl(style, orig, new)
    shutil.rmtree(d, ignore_errors=True)
    return BibtexRoundTrip(Path(source), proc.returncode, proc.stderr, compared)


# --------------------------------------------------------------------------
# biber


@dataclass
class BiberRun:
    entries: dict[str, tuple[str, dict[str, str]]]  # key -> (type, fields as biber reads them)
    warnings: int
    errors: int
    log: str = ""
    warned: list[str | None] = field(default_factory=list)  # the entry of each warning, if named


_BIBER_ENTRY = re.compile(r"[Ee]ntry '([^']*)'")


def run_biber(bib: Path, work: Path) -> BiberRun:
    """``biber --tool --validate-datamodel``: biber's reading of every entry (its
    tool-mode output), and its warnings and errors."""
    import bibtexparser

    d = _workdir(work, "biber-")
    shutil.copy(bib, d / "db.bib")
    args = ["--tool", "--validate-datamodel", "--nolog", "--output-file", "read.bib", "db.bib"]
    proc = run([*tool("biber").argv, *args], cwd=d)
    log = proc.stdout + proc.stderr
    warned = [
        m.group(1) if (m := _BIBER_ENTRY.search(line)) else None
        for line in log.splitlines()
        if line.startswith("WARN - ")
    ]
    warnings = len(warned)
    errors = len(re.findall(r"^ERROR - ", log, re.M))
    entries: dict[str, tuple[str, dict[str, str]]] = {}
    if (d / "read.bib").exists():
        library = bibtexparser.parse_string((d / "read.bib").read_text("utf-8", "replace"))
        for e in library.entries:
            fields = {f.key.lower(): str(f.value) for f in e.fields}
            entries[e.key] = (e.entry_type.lower(), fields)
    elif proc.returncode != 0 and not errors:
        errors = 1
    shutil.rmtree(d, ignore_errors=True)
    return BiberRun(entries, warnings, errors, log, warned)


@dataclass
class BiberCompare:
    dialect: str
    convert_status: int
    entries: int = 0  # entries biber reads in the original
    same: int = 0  # of which biber reads bibtools' entry the same (type and every field)
    lost_keys: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # key: what differs
    orig_warnings: int = 0
    new_warnings: int = 0
    orig_errors: int = 0
    new_errors: int = 0
    new_log: str = ""

    @property
    def warns_more(self) -> bool:
        return self.new_warnings > self.orig_warnings or self.new_errors > self.orig_errors


def compare_biber(dialect: str, status: int, orig: BiberRun, new: BiberRun) -> BiberCompare:
    """Entry for entry; warnings about entries biber does not read in the
    original (it stopped on them, bibtools' output reads) are not counted."""

    def counted(run: BiberRun) -> int:
        return sum(key is None or key in orig.entries for key in run.warned)

    result = BiberCompare(
        dialect,
        status,
        orig_warnings=counted(orig),
        new_warnings=counted(new),
        orig_errors=orig.errors,
        new_errors=new.errors,
        new_log=new.log,
    )
    for key, (typ, fields) in orig.entries.items():
        result.entries += 1
        if key not in new.entries:
            result.lost_keys.append(key)
            continue
        new_typ, new_fields = new.entries[key]
        diff = [f"type {typ}->{new_typ}"] if new_typ != typ else []
        diff += [
            f"{name}: {fields.get(name)!r:.60} -> {new_fields.get(name)!r:.60}"
            for name in sorted(set(fields) | set(new_fields))
            if fields.get(name) != new_fields.get(name)
        ]
        if diff:
            result.changed.append(f"{key}: {'; '.join(diff)}")
        else:
            result.same += 1
    return result


def biber_round_trip(
    source: Path, work: Path, dialects: Iterable[str] = ("as-written", "biblatex")
) -> dict[str, BiberCompare]:
    """biber's reading of SRC next to that of ``bibtools convert SRC -t bibtex``
    as written (each entry keeps its own dialect) and with ``--dialect biblatex``.

    (``--dialect bibtex`` maps entries for classic .bst styles, not for biber:
    ``@collection`` becomes ``@book``, which changes biber's inheritance rules.)
    """
    d = _workdir(work, "biber-rt-")
    orig = run_biber(source, d)
    out = {}
    for dialect in dialects:
        target = d / f"bibtools-{dialect}.bib"
        flags = [] if dialect == "as-written" else ["--dialect", dialect]
        proc = bibtools("convert", str(source), "-t", "bibtex", *flags, "-o", str(target))
        new = run_biber(target, d) if target.exists() else BiberRun({}, 0, 1)
        out[dialect] = compare_biber(dialect, proc.returncode, orig, new)
    shutil.rmtree(d, ignore_errors=True)
    return out


# --------------------------------------------------------------------------
# pandoc as a producer


@dataclass
class Produced:
    source: Path
    items: list[dict] | None  # None: the producer rejected the file
    message: str = ""


def pandoc2_csljson(source: Path) -> Produced:
    """``pandoc -f bibtex -t csljson SRC`` with Debian's pandoc 2.x (which loops
    on a crossref cycle: half a minute is plenty)."""
    proc = run([*tool("pandoc2").argv, "-f", "bibtex", "-t", "csljson", str(source)], timeout=30)
    if proc.returncode != 0:
        return Produced(Path(source), None, proc.stderr.strip()[:300])
    try:
        items = json.loads(proc.stdout or "[]")
    except ValueError as exc:
        return Produced(Path(source), None, f"not JSON: {exc}")
    return Produced(Path(source), items, proc.stderr.strip()[:300])


def pandoc_bibtex(source: Path, to: str = "biblatex", which: str = "pandoc2") -> str | None:
    """``pandoc -f bibtex -t bibtex|biblatex SRC``: pandoc writing BibTeX."""
    proc = run([*tool(which).argv, "-f", "bibtex", "-t", to, str(source)], timeout=30)
    return proc.stdout if proc.returncode == 0 else None


@dataclass
class CsljsonRead:
    given: int  # items in the file
    written: int  # items in bibtools' CSL-JSON of it
    status: int
    skipped: list[str]  # bibtools' messages about items it did not write


def bibtools_reads_csljson(path: Path, work: Path) -> CsljsonRead:
    """``bibtools convert FILE.json -t csljson``: does every item come through?"""
    d = _workdir(work, "csl-read-")
    out = d / "back.json"
    proc = bibtools("convert", str(path), "-t", "csljson", "-o", str(out))
    given = len(json.loads(Path(path).read_text("utf-8")))
    written = len(json.loads(out.read_text("utf-8"))) if out.exists() else 0
    skipped = [line for line in proc.stderr.splitlines() if "error" in line or "skipped" in line]
    shutil.rmtree(d, ignore_errors=True)
    return CsljsonRead(given, written, proc.returncode, skipped)


def bibtools_reads_bibtex(text: str, work: Path) -> CsljsonRead:
    """``bibtools convert FILE.bib -t csljson`` of BibTeX another program wrote:
    does every entry come through?"""
    d = _workdir(work, "bib-read-")
    (d / "in.bib").write_text(text, encoding="utf-8")
    out = d / "items.json"
    proc = bibtools("convert", str(d / "in.bib"), "-t", "csljson", "-o", str(out))
    given = len(re.findall(r"^@(?!(?:string|preamble|comment)\b)", text, re.M | re.I))
    written = len(json.loads(out.read_text("utf-8"))) if out.exists() else 0
    skipped = [line for line in proc.stderr.splitlines() if "error" in line or "skipped" in line]
    shutil.rmtree(d, ignore_errors=True)
    return CsljsonRead(given, written, proc.returncode, skipped)


def unique_ids(groups: Iterable[tuple[str, list[dict]]]) -> list[dict]:
    """The items of several files as one list, a repeated id made unique
    (``id-2``, a valid key; BibTeX keys differ in more than case): one
    bibliography for every engine, entry for entry."""
    seen: set[str] = set()
    out = []
    for _, items in groups:
        for item in items:
            item = dict(item)
            base = str(item.get("id", "")) or "item"
            new, n = base, 1
            while new.lower() in seen:
                n += 1
                new = f"{base}-{n}"
            seen.add(new.lower())
            item["id"] = new
            out.append(item)
    return out


# --------------------------------------------------------------------------
# Rendering CSL-JSON: citeproc-js, pandoc 3, bibtools format


@dataclass
class Rendered:
    entries: dict[str, str]  # id -> comparable text of the entry (label + body, markup kept)
    errors: dict[str, str] = field(default_factory=dict)  # id -> why it did not render


def citeproc_render(jobs: Sequence[tuple[str, Path, list[dict]]]) -> dict[str, Rendered]:
    """citeproc-js on each (name, style file, items): one node run for all."""
    t = tool("citeproc")
    payload = [
        {"name": name, "style": str(style), "locale": "en-US", "items": items}
        for name, style, items in jobs
    ]
    env = dict(os.environ, NODE_PATH=str(NODE_MODULES))
    proc = run(t.argv, input=json.dumps(payload), env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"citeproc-js failed: {proc.stderr.strip()[-1000:]}")
    out = {}
    for job in json.loads(proc.stdout):
        entries = {key: comparable(value) for key, value in job["entries"].items()}
        out[job["name"]] = Rendered(entries, job["errors"])
    return out


def pandoc3_render(items_json: Path, style: Path) -> Rendered:
    """pandoc 3's citeproc on a CSL-JSON file (every item cited)."""
    args = [*tool("pandoc3").argv, "-f", "markdown", "-t", "html", "--citeproc"]
    args += ["--csl", str(style), "--bibliography", str(items_json), "-M", "lang=en-US"]
    proc = run(args, input="---\nnocite: '@*'\n---\n")
    if proc.returncode != 0:
        return Rendered({}, {"*": proc.stderr.strip()[:300]})
    return Rendered({re.sub(r"^ref-", "", k): v for k, v in html_entries(proc.stdout).items()})


def bibtools_format(items_json: Path, style: Path, to_html: Path) -> Rendered:
    """``bibtools format FILE --style STYLE.csl -t html --no-links``."""
    proc = bibtools(
        "format", str(items_json), "--style", str(style), "-t", "html", "--no-links",
        "-o", str(to_html),
    )  # fmt: skip
    if not to_html.exists():
        return Rendered({}, {"*": proc.stderr.strip()[:300]})
    return Rendered(html_entries(to_html.read_text("utf-8")))


class _Entries(HTMLParser):
    """Each ``csl-entry`` element of an HTML bibliography as comparable text:
    its label (``csl-left-margin``) and body, italics, bold, small caps and
    super/subscripts kept as <i> <b> <sc> <sup> <sub>, links and all else dropped."""

    MARKS: ClassVar[dict[str, str]] = {
        "i": "i",
        "em": "i",
        "b": "b",
        "strong": "b",
        "sup": "sup",
        "sub": "sub",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.entries: dict[str, str] = {}
        self.stack: list[tuple[str, str]] = []  # (tag, what closing it ends)
        self.key: str | None = None
        self.depth = 0
        self.label: list[str] = []
        self.body: list[str] = []
        self.in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if self.key is None:
            if "csl-entry" in classes:
                self.key = a.get("id") or a.get("data-csl-entry-id") or ""
                self.depth, self.label, self.body = 1, [], []
            return
        if tag in ("br", "img", "hr", "wbr"):
            return
        self.depth += 1
        role = ""
        if "csl-left-margin" in classes:
            self.in_label += 1
            role = "label"
        elif tag in self.MARKS:
            role = self.MARKS[tag]
        elif "small-caps" in a.get("style", "").replace(" ", ""):
            role = "sc"
        if role and role != "label":
            self._out(f"<{role}>")
        self.stack.append((tag, role))

    def handle_endtag(self, tag: str) -> None:
        if self.key is None or tag in ("br", "img", "hr", "wbr"):
            return
        self.depth -= 1
        if self.depth == 0:
            label = " ".join("".join(self.label).split())
            body = "".join(self.body)
            self.entries[self.key] = _normalise(f"{label} {body}" if label else body)
            self.key = None
            self.stack = []
            return
        _, role = self.stack.pop() if self.stack else ("", "")
        if role == "label":
            self.in_label -= 1
        elif role:
            self._out(f"</{role}>")

    def handle_data(self, data: str) -> None:
        if self.key is not None:
            (self.label if self.in_label else self.body).append(data)

    def _out(self, mark: str) -> None:
        (self.label if self.in_label else self.body).append(mark)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", _SPACES.sub(" ", text)).strip()
    for _ in range(3):
        text = re.sub(r"<(i|b|sc|sup|sub)>(\s*)</\1>", r"\2", text)  # empty marks
        text = re.sub(r"<(i|b|sc|sup|sub)>(\s+)", r"\2<\1>", text)  # edge spaces go outside
        text = re.sub(r"(\s+)</(i|b|sc|sup|sub)>", r"</\2>\1", text)
        text = re.sub(r"</(i|b|sc|sup|sub)>(\s?)<\1>", r"\2", text)  # <i>a</i> <i>b</i>
    return _SPACES.sub(" ", text).strip()


def html_entries(page: str) -> dict[str, str]:
    parser = _Entries()
    parser.feed(page)
    parser.close()
    return parser.entries


def comparable(entry_html: str) -> str:
    """One entry's HTML (a ``csl-entry`` element) as comparable text."""
    found = html_entries(entry_html)
    if found:
        return next(iter(found.values()))
    return _normalise(html.unescape(re.sub(r"<[^>]*>", "", entry_html)))


@dataclass
class Agreement:
    style: str
    items: int  # entries citeproc-js rendered
    agree: dict[str, int]  # engine -> entries rendered as citeproc-js renders them
    missing: dict[str, int]  # engine -> entries it did not render at all
    differ: dict[str, list[str]]  # engine -> "id: citeproc-js | engine" for the disagreements


# IEEE's "[12]" is the place in the list: one entry not rendered renumbers all
# that follow, which says nothing about how they are rendered.
_NUMBER = re.compile(r"^\[\d+\] ")


def render_agreement(
    items: list[dict], work: Path, styles: Iterable[str] = CSL_STYLES, pandoc3: bool = True
) -> dict[str, Agreement]:
    """The same CSL-JSON rendered by citeproc-js (the reference), ``bibtools
    format`` and (for the bar) pandoc 3, entry for entry."""
    d = _workdir(work, "render-")
    path = d / "items.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    styles = list(styles)
    reference = citeproc_render([(s, CSL_STYLE_DIR / f"{s}.csl", items) for s in styles])
    out = {}
    for s in styles:
        style = CSL_STYLE_DIR / f"{s}.csl"
        engines = {"bibtools": bibtools_format(path, style, d / f"{s}.html")}
        if pandoc3:
            engines["pandoc3"] = pandoc3_render(path, style)
        ref = {k: _NUMBER.sub("", v) for k, v in reference[s].entries.items()}
        agree, missing, differ = {}, {}, {}
        for name, rendered in engines.items():
            got = Rendered({k: _NUMBER.sub("", v) for k, v in rendered.entries.items()})
            agree[name] = sum(got.entries.get(k) == v for k, v in ref.items())
            missing[name] = sum(k not in got.entries for k in ref)
            differ[name] = [
                f"{k}:\n      citeproc-js: {v}\n      {name}: {got.entries.get(k, '<missing>')}"
                for k, v in ref.items()
                if got.entries.get(k) != v
            ]
        out[s] = Agreement(s, len(ref), agree, missing, differ)
    shutil.rmtree(d, ignore_errors=True)
    return out


# --------------------------------------------------------------------------
# citeproc-js as a consumer of bibtools' CSL-JSON


def bibtools_csljson(source: Path, work: Path) -> tuple[list[dict] | None, str]:
    """``bibtools convert SRC -t csljson``: the items, or None and why."""
    d = _workdir(work, "to-csl-")
    out = d / "items.json"
    proc = bibtools("convert", str(source), "-t", "csljson", "-o", str(out))
    items = json.loads(out.read_text("utf-8")) if out.exists() else None
    shutil.rmtree(d, ignore_errors=True)
    return items, proc.stderr.strip()[-300:]


_ENTRY = re.compile(
    rb"^[ \t]*@[ \t]*(?!(?:string|preamble|comment)\b)[A-Za-z][^\s{(,=#%\"]*[ \t]*[{(]", re.M | re.I
)


def entries_in(bib: Path) -> int:
    """Entries of a .bib file (lines that open one), counted without any parser."""
    data = Path(bib).read_bytes().replace(b"\r", b"\n")
    data = data.replace(b"\xef\xbb\xbf", b"").replace(b"\xff\xfe", b"").replace(b"\xfe\xff", b"")
    if b"\x00@" in data or b"@\x00" in data:
        data = data.replace(b"\x00", b"")  # UTF-16: its ASCII bytes are enough to count
    return len(_ENTRY.findall(data))


@dataclass
class CiteprocConsumed:
    """citeproc-js on bibtools' CSL-JSON of one .bib file, in every CSL style."""

    source: Path
    items: int
    no_output: str = ""  # why bibtools wrote no CSL-JSON ("" when it did)
    errors: dict[str, str] = field(default_factory=dict)  # id -> citeproc-js error, any style
    empty: dict[str, list[str]] = field(default_factory=dict)  # id -> styles rendering nothing

    @property
    def nothing_to_render(self) -> bool:
        """No CSL-JSON, and rightly: the file has no entry (only comments, @string)."""
        return bool(self.no_output) and entries_in(self.source) == 0

    def empty_everywhere(self, styles: Sequence[str] = CSL_STYLES) -> list[str]:
        return [k for k, where in self.empty.items() if len(where) == len(styles)]


def citeproc_consumer(
    sources: Sequence[Path], work: Path, styles: Sequence[str] = CSL_STYLES
) -> list[CiteprocConsumed]:
    """``bibtools convert SRC -t csljson`` rendered by citeproc-js: every item
    without error, and none empty (an entry IEEE prints nothing of, such as a
    @misc with only a note, is empty there only: counted apart)."""
    converted = each(lambda s: bibtools_csljson(s, work), sources)
    jobs = [
        (f"{n} {style}", CSL_STYLE_DIR / f"{style}.csl", items)
        for n, (items, _) in enumerate(converted)
        if items
        for style in styles
    ]
    rendered = citeproc_render(jobs) if jobs else {}
    out = []
    for n, (source, (items, why)) in enumerate(zip(sources, converted, strict=True)):
        result = CiteprocConsumed(Path(source), len(items or []), "" if items is not None else why)
        for style in styles if items else []:
            for key, message in rendered[f"{n} {style}"].errors.items():
                if message == "empty entry":
                    result.empty.setdefault(key, []).append(style)
                else:
                    result.errors[key] = f"[{style}] {message}"
        out.append(result)
    return out
