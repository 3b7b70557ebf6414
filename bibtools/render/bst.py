r"""BibTeX styles (``.bst`` files) run as BibTeX runs them.

:func:`find_bst` turns a style name into a ``.bst`` file: the four classic
styles shipped in ``bibtools/data/bst`` (``plain``, ``unsrt``, ``alpha``,
``abbrv``, unchanged copies from TeX Live), any style TeX finds
(``kpsewhich``: ``plainnat``, ``ieeetr``, ``apalike``, ``IEEEtran``...),
or a path to any ``.bst``.  :func:`run_bst` runs the style over BibTeX text
and returns the ``.bbl`` that ``bibtex`` would write, with bibtex's warnings
for each entry.

Two engines:

* ``pybtex`` (the default, pure Python): pybtex's interpreter of the BibTeX
  style language, with BibTeX's string functions replaced by
  :mod:`bibtools.bst_text`'s byte-exact ones and BibTeX's cross-reference
  rule (fields copied from the parent at READ).  The text runs as bytes
  (one character per UTF-8 byte, see :func:`bibtools.render.bst_text.to_bytestr`),
  as in ``bibtex``, and lines break where bibtex breaks them (pybtex's
  ``wrap``): a ``%`` in a field comments out the rest of *that* line.
* ``bibtex``: the ``bibtex`` program itself, in a temporary directory.

Both read the same ``.bib`` text and cite every entry (``\citation{*}``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..diagnostics import UsageError
from . import bst_text

DATA_DIR = Path(__file__).parent.parent / "data" / "bst"
SHIPPED = ("plain", "unsrt", "alpha", "abbrv")
ENGINES = ("pybtex", "bibtex")
# Seconds bibtex may take (a 50,000-entry file takes a few).
BIBTEX_TIMEOUT = 300
# bibtex's string sizes in TeX Live (entry.max$, global.max$).
ENTRY_MAX = 500
GLOBAL_MAX = 200_000


@dataclass(frozen=True, slots=True)
class BstMessage:
    """A warning or error of the style run; ``key`` is the entry it is about, or ""."""

    message: str
    key: str = ""
    level: str = "warning"  # or "error"


@dataclass(slots=True)
class BblRun:
    bbl: str  # the .bbl text (Unicode; bytes that are not UTF-8 as U+FFFD)
    messages: list[BstMessage] = field(default_factory=list)
    engine: str = "pybtex"


# --------------------------------------------------------------------------
# Finding styles


def is_bst_path(style: str) -> bool:
    """Whether ``style`` names a ``.bst`` file (``x.bst``, ``dir/x.bst``)."""
    return style.lower().endswith(".bst")


def shipped_bst(name: str) -> Path | None:
    path = DATA_DIR / f"{name}.bst"
    return path if name in SHIPPED and path.is_file() else None


@lru_cache(maxsize=64)
def kpsewhich(name: str) -> str | None:
    """The path TeX finds for the style ``name`` (``plainnat``), or None (no TeX, no style)."""
    exe = shutil.which("kpsewhich")
    if exe is None or not re.fullmatch(r"[A-Za-z0-9_.+-]+", name):
        return None
    try:
        done = subprocess.run(
            [exe, f"{name}.bst"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    path = done.stdout.strip()
    return path if done.returncode == 0 and path and os.path.isfile(path) else None


def find_bst(style: str) -> Path | None:
    """The ``.bst`` file for ``style``: a path, a shipped style, or one TeX finds; else None."""
    if is_bst_path(style) or os.sep in style or "/" in style:
        path = Path(style).expanduser()
        if path.is_file():
            return path
        if os.sep in style or "/" in style:
            return None
        style = style[: -len(".bst")]
    shipped = shipped_bst(style)
    if shipped:
        return shipped
    found = kpsewhich(style)
    return Path(found) if found else None


def bibtex_available() -> bool:
    return shutil.which("bibtex") is not None


# --------------------------------------------------------------------------
# Running a style


def run_bst(bib: str, bst_path: str | Path, engine: str = "pybtex") -> BblRun:
    """Run the style ``bst_path`` over the BibTeX text ``bib``, citing every entry.

    Raises :class:`~bibtools.diagnostics.UsageError` when the style cannot
    be read or run, or ``bibtex`` is asked for and not installed.
    """
    if engine == "bibtex":
        return _run_bibtex(bib, Path(bst_path))
    if engine != "pybtex":
        raise UsageError(f"--engine: {engine!r} is not one of {', '.join(ENGINES)}")
    return _run_pybtex(bib, Path(bst_path))


@lru_cache(maxsize=16)
def _parsed_bst(path: str, mtime: float) -> list[Any]:
    from pybtex.bibtex import bst
    from pybtex.scanner import PybtexSyntaxError

    try:
        raw = bst_text.bytes_to_bytestr(Path(path).read_bytes())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the style ({exc.strerror})") from None
    try:
        return list(bst.parse_string(raw))
    except PybtexSyntaxError as exc:
        raise UsageError(f"{path}: not a BibTeX style ({exc})") from None


def _run_pybtex(bib: str, bst_path: Path) -> BblRun:
    import pybtex.errors
    from pybtex.bibtex.exceptions import BibTeXError
    from pybtex.database.input.bibtex import Parser
    from pybtex.exceptions import PybtexError

    script = _parsed_bst(str(bst_path), bst_path.stat().st_mtime if bst_path.exists() else 0.0)
    raw = bst_text.to_bytestr(bib)

    class _Parser(Parser):  # reads our text, not files
        def parse_files(self, base_filenames: Any, file_suffix: Any = None) -> Any:
            self.parse_string(raw)
            return self.data

    interpreter = _Interpreter(_Parser, "ascii")
    with pybtex.errors.capture() as captured:
        try:
            out = interpreter.run(iter(script), ["*"], ["<bib>"], min_crossrefs=2)
        except (BibTeXError, PybtexError, RecursionError, ValueError, TypeError) as exc:
            raise UsageError(
                f"{bst_path.name}: the style failed under pybtex ({_text(str(exc))}); "
                "try --engine bibtex"
            ) from None
    messages = interpreter.messages
    keys = interpreter.known_keys()
    starts: list[tuple[int, str]] | None = None
    for error in captured:  # what pybtex's reader reported (a repeated key...)
        text = _text(str(error))
        key = _key_in(text, keys)
        line = re.search(r"\bline (\d+)", text)
        if not key and line:  # a syntax error: the entry it is in
            starts = starts if starts is not None else _entry_lines(bib)
            key = next((k for start, k in reversed(starts) if start <= int(line.group(1))), "")
        messages.append(BstMessage(text, key))
    return BblRun(bst_text.from_bytestr(out), messages, "pybtex")


def _text(raw: str) -> str:
    try:
        return bst_text.from_bytestr(raw)
    except UnicodeEncodeError:  # already Unicode
        return raw


def _key_in(message: str, keys: dict[str, str]) -> str:
    for word in re.findall(r'[^\s"\'`,;()]+', message):
        if word.lower() in keys:
            return keys[word.lower()]
    return ""


# BibTeX's string functions, byte-exact (see bibtools.render.bst_text).
def _builtins() -> dict[str, Callable[[Any], None]]:
    from pybtex.bibtex.interpreter import EntryString, Function, MissingField, String

    def change_case(it: Any) -> None:
        mode = it.pop()
        it.push(bst_text.change_case(it.pop(), mode))

    def purify(it: Any) -> None:
        it.push(bst_text.purify(it.pop()))

    def text_length(it: Any) -> None:
        it.push(bst_text.text_length(it.pop()))

    def text_prefix(it: Any) -> None:
        count = it.pop()
        it.push(bst_text.text_prefix(it.pop(), count))

    def add_period(it: Any) -> None:
        it.push(bst_text.add_period(it.pop()))

    def num_names(it: Any) -> None:
        it.push(bst_text.num_names(it.pop()))

    def format_name(it: Any) -> None:
        fmt = it.pop()
        index = it.pop()
        names = it.pop()
        warnings: list[str] = []
        it.push(bst_text.format_name(names, index, fmt, warnings, it.name_state))
        for w in dict.fromkeys(warnings):
            it.warn(f'name {index} of "{names}" {w}')

    def substring(it: Any) -> None:
        length = it.pop()
        start = it.pop()
        s = it.pop()
        if start > 0:
            it.push(s[start - 1 : start - 1 + max(length, 0)])
        elif start < 0:
            end = len(s) + start + 1
            it.push(s[max(end - length, 0) : max(end, 0)])
        else:
            it.push("")

    def chr_to_int(it: Any) -> None:
        s = it.pop()
        if len(s) != 1:
            it.warn(f'"{s}" isn\'t a single character')
            it.push(0)
            return
        code = ord(s)
        it.push(code - 0xDC00 if code >= 0xDC80 else code)

    def int_to_chr(it: Any) -> None:
        n = it.pop()
        if 0 <= n < 128:
            it.push(chr(n))
        else:  # bibtex: ASCII codes only
            it.warn(f"{n} isn't a valid ASCII code")
            it.push("")

    def call_type(it: Any) -> None:
        # Only a FUNCTION of the type's name formats it: @series is not the
        # series field, @school not the school field.
        entry_type = it.current_entry.type
        function = it.vars.get(entry_type)
        if not isinstance(function, Function):
            it.warn(f'entry type for "{it.current_entry_key}" isn\'t style-file defined')
            function = it.vars.get("default.type")
            if not isinstance(function, Function):
                return
        function.execute(it)

    def assign(it: Any) -> None:
        var = it.pop()
        value = it.pop()
        if isinstance(value, MissingField):
            # bibtex refuses to store a missing field; the variable keeps its value.
            it.warn(f"`{value.name}' is a missing field, not a string")
            return
        if isinstance(var, EntryString) and isinstance(value, str):
            # bibtex ends an entry string at DEL (its end-of-string mark) and
            # cuts it at entry.max$.
            value = value.split("\x7f", 1)[0]
            if len(value) > ENTRY_MAX:
                it.warn(
                    f"you've exceeded {ENTRY_MAX}, the entry-string-size, "
                    f"for entry {it.current_entry_key}"
                )
                value = value[:ENTRY_MAX]
        elif isinstance(var, String) and isinstance(value, str) and len(value) > GLOBAL_MAX:
            it.warn(f"you've exceeded {GLOBAL_MAX}, the global-string-size")
            value = value[:GLOBAL_MAX]
        var.set(value)

    def warning(it: Any) -> None:
        it.warn(it.pop())

    def empty(it: Any) -> None:
        s = it.pop()
        it.push(1 if not s.strip(" \t") else 0)

    return {
        "change.case$": change_case,
        "purify$": purify,
        "text.length$": text_length,
        "text.prefix$": text_prefix,
        "add.period$": add_period,
        "num.names$": num_names,
        "format.name$": format_name,
        "substring$": substring,
        "chr.to.int$": chr_to_int,
        "int.to.chr$": int_to_chr,
        "warning$": warning,
        "call.type$": call_type,
        ":=": assign,
        "empty$": empty,
    }


class _Builtin:
    def __init__(self, function: Callable[[Any], None]) -> None:
        self.f = function

    def execute(self, interpreter: Any) -> None:
        self.f(interpreter)


def _interpreter_class() -> type:
    from pybtex.bibtex.interpreter import Crossref, Field, Integer, Interpreter, MissingField

    class OwnField(Field):  # type: ignore[misc]
        """A field of the entry (crossref parents' fields are copied in at READ)."""

        def value(self) -> Any:
            fields = self.interpreter.current_entry.fields
            return fields[self.name] if self.name in fields else MissingField(self.name)

    class BibtexInterpreter(Interpreter):  # type: ignore[misc]
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            for name, function in _builtins().items():
                self.vars[name] = _Builtin(function)
            self.vars["entry.max$"] = Integer(ENTRY_MAX)
            self.vars["global.max$"] = Integer(GLOBAL_MAX)
            self.messages: list[BstMessage] = []
            self.current_entry_key = ""
            self.name_state = bst_text.NameState()

        def warn(self, message: str) -> None:
            key = getattr(self, "current_entry_key", "") or ""
            self.messages.append(BstMessage(_text(message), _text(key)))

        def known_keys(self) -> dict[str, str]:
            data = getattr(self, "bib_data", None)
            if data is None:
                return {}
            return {_text(k).lower(): _text(k) for k in data.entries}

        def command_entry(self, fields: Any, ints: Any, strings: Any) -> None:
            super().command_entry(fields, ints, strings)
            self.field_names = [ident.value() for ident in fields]
            for name in self.field_names:
                self.vars[name] = OwnField(self, name)
            self.vars["crossref"] = Crossref(self)

        def command_execute(self, command_: Any) -> None:
            self.current_entry_key = ""
            super().command_execute(command_)

        def command_read(self) -> None:
            super().command_read()
            self.current_entry_key = ""
            # bibtex's cross-references: in citation order, a field the entry
            # lacks is copied from its parent as the parent stands then (so a
            # parent that inherited earlier passes it on; a cycle ends).
            entries = self.bib_data.entries
            names = [n for n in getattr(self, "field_names", []) if n.lower() != "crossref"]
            for key in self.citations:
                entry = entries[key]
                parent_key = entry.fields.get("crossref")
                parent = entries.get(parent_key) if parent_key is not None else None
                if parent is None or parent is entry:
                    continue
                for name in names:
                    if name not in entry.fields and name in parent.fields:
                        entry.fields[name] = parent.fields[name]

    return BibtexInterpreter


class _LazyInterpreter:
    _cls: type | None = None

    def __call__(self, *args: Any) -> Any:
        if self._cls is None:
            type(self)._cls = _interpreter_class()
        assert self._cls is not None
        return self._cls(*args)


_Interpreter = _LazyInterpreter()


# --------------------------------------------------------------------------
# bibtex itself

_BLG_WARNING = re.compile(r"^Warning--(.*)$")
_BLG_ERROR_LINE = re.compile(r"---line (\d+) of file (\S+)")


def _run_bibtex(bib: str, bst_path: Path) -> BblRun:
    exe = shutil.which("bibtex")
    if exe is None:
        raise UsageError(
            "--engine bibtex: the bibtex program is not installed (use --engine pybtex)"
        )
    stem = bst_path.stem if re.fullmatch(r"[A-Za-z0-9_+-]+", bst_path.stem) else "style"
    with tempfile.TemporaryDirectory(prefix="bibtools-bst-") as work:
        try:
            shutil.copyfile(bst_path, os.path.join(work, f"{stem}.bst"))
        except OSError as exc:
            raise UsageError(f"{bst_path}: cannot read the style ({exc.strerror})") from None
        Path(work, "refs.bib").write_bytes(bib.encode("utf-8"))
        Path(work, "refs.aux").write_text(
            f"\\citation{{*}}\n\\bibstyle{{{stem}}}\n\\bibdata{{refs}}\n", encoding="ascii"
        )
        env = {**os.environ, "openout_any": "p", "openin_any": "a"}
        try:
            subprocess.run(
                [exe, "refs"],
                cwd=work,
                capture_output=True,
                timeout=BIBTEX_TIMEOUT,
                check=False,
                env=env,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise UsageError(f"bibtex could not run ({exc})") from None
        blg = (
            Path(work, "refs.blg").read_bytes().decode("utf-8", "replace")
            if Path(work, "refs.blg").exists()
            else ""
        )
        bbl_path = Path(work, "refs.bbl")
        if not bbl_path.exists():
            tail = " ".join(blg.strip().splitlines()[-3:])
            raise UsageError(f"bibtex wrote no .bbl with {bst_path.name}: {tail}")
        bbl = bbl_path.read_bytes().decode("utf-8", "replace")
    return BblRun(bbl, _blg_messages(blg, bib), "bibtex")


def _blg_messages(blg: str, bib: str) -> list[BstMessage]:
    """bibtex's warnings and errors from its log, each with the entry it names."""
    starts = _entry_lines(bib)
    keys = {k.lower(): k for _, k in starts}
    messages: list[BstMessage] = []
    for line in blg.splitlines():
        m = _BLG_WARNING.match(line)
        if m:
            text = m.group(1).strip()
            messages.append(BstMessage(text, _key_in(text, keys)))
            continue
        m = _BLG_ERROR_LINE.search(line)
        if m and m.group(2) == "refs.bib":
            number = int(m.group(1))
            key = ""
            for start, k in starts:
                if start <= number:
                    key = k
            text = line[: m.start()].strip() or line.strip()
            messages.append(BstMessage(f"{text} (bibtex could not read it)", key, "error"))
    return messages


def _entry_lines(bib: str) -> list[tuple[int, str]]:
    """(first line, key) of every entry of ``bib``, in order."""
    out = []
    for number, line in enumerate(bib.splitlines(), 1):
        m = re.match(r"\s*@\s*([A-Za-z]+)\s*[{(]\s*([^,\s]*)", line)
        if m and m.group(1).lower() not in ("string", "preamble", "comment"):
            out.append((number, m.group(2)))
    return out
