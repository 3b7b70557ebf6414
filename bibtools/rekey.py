r"""Rewrite citation keys in LaTeX and Markdown sources from an old -> new key map.

``bibtools merge --key-map map.json`` writes the map; ``bibtools rekey --map
map.json FILE...`` applies it.  The CLI runs::

    key_map = load_key_map(Path(map_path).read_text("utf-8"), map_path)
    for path in files:
        done = rekey_file(path, key_map, dry_run=dry_run)  # writes PATH.bak first
        for r in done.replacements: print(r)             # "paper.tex:12: Vaswani2017 -> ..."
        print(done.summary())

What is rewritten:

* LaTeX (``.tex``, ``.ltx``, ``.sty``, ``.cls``, ``.bbx``, ``.cbx``; and raw
  LaTeX inside Markdown): the key arguments of every citation command, that is
  every command whose name contains ``cite`` (``\cite``, ``\citep*``,
  ``\citet``, ``\parencite``, ``\textcite``, ``\autocite``, ``\footcite``,
  ``\nocite``, ``\citeauthor``, ``\Cite``...) and ``\bibentry``, after any
  ``[..]`` optional arguments; the biblatex multicite forms (``\cites``,
  ``\parencites``..., with ``(..)`` and ``[..]`` notes) take every ``{..}``
  group.  Keys are the comma-separated items of the group, spaces kept.
  Commands that take no keys (``\citestyle``, ``\citeindextrue``...) are
  left alone.  Comments are rewritten too: a commented-out ``\cite`` should
  not point at a key that no longer exists.
* Markdown (``.md``, ``.markdown``, ``.qmd``, ``.rmd``; pandoc citation
  syntax): ``@key`` and ``@{key}`` wherever pandoc sees a citation, i.e. an
  ``@`` not preceded by a letter, digit or ``@`` (so e-mail addresses stay),
  outside code spans and fenced code blocks.  A key ends where pandoc's
  does: trailing punctuation is not part of it.

Only keys present in the map are touched, compared exactly (biber and
pandoc are case-sensitive).  Chains in the map (``a -> b``, ``b -> c``) are
followed; a cycle is an error.  Bytes that are not UTF-8 and line endings
are written back unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import InputError, UsageError
from .files import write_atomic

LATEX_SUFFIXES = frozenset({".tex", ".ltx", ".sty", ".cls", ".bbx", ".cbx", ".latex"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".qmd", ".rmd", ".mdx", ".pandoc"})

# Commands with "cite" in their name that take no keys.
_NOT_CITATIONS = frozenset(
    {
        "citestyle",
        "citeindextrue",
        "citeindexfalse",
        "citeindextype",
        "citereset",
        "citesetup",
        "DeclareCiteCommand",
        "citetrackertrue",
        "citetrackerfalse",
        "mancite",
    }
)
_COMMAND = re.compile(r"\\([A-Za-z]*[Cc]ite[A-Za-z]*|bibentry)(\*?)")
# Pandoc: a key starts with a letter, digit or _, and may contain internal
# punctuation from this set; trailing punctuation ends it.
_PANDOC_KEY = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_]|[:.#$%&\-+?<>~/](?=[A-Za-z0-9_]))*")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")


@dataclass(frozen=True, slots=True)
class Replacement:
    """One key rewritten: where, and from what to what."""

    file: str
    line: int
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.old} -> {self.new}"


@dataclass(slots=True)
class RekeyResult:
    """What :func:`rekey_file` did (or, with ``dry_run``, would do) to one file."""

    path: str
    replacements: list[Replacement] = field(default_factory=list)
    backup: str = ""  # the backup written before the file was changed, if any
    written: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.replacements)

    def summary(self) -> str:
        n = len(self.replacements)
        if not n:
            return f"{self.path}: no keys to change"
        what = f"{n} citation {'key' if n == 1 else 'keys'}"
        if not self.written:
            return f"{self.path}: would change {what}"
        return f"{self.path}: changed {what} (backup: {self.backup})"


def load_key_map(text: str, source: str = "<key map>", bib: str | None = None) -> dict[str, str]:
    """Read a key map, chains resolved: ``{"old": "new"}``.

    An entry may instead map an input file to the new key,
    ``{"old": {"coauthor.bib": "new"}}``: the old key still names another
    entry, so only documents citing that file's entry change.  Those apply
    when ``bib`` names the file (its path or file name); the others are left
    out.  Raises :class:`InputError` for anything else (not JSON, not an
    object of strings, empty keys, a cycle).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not a JSON key map ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise InputError(f'{source}: a key map is a JSON object {{"old": "new", ...}}')
    plain: dict[str, str] = {}
    for old, new in data.items():
        if isinstance(new, dict):
            if not old or not all(
                isinstance(k, str) and isinstance(v, str) and v for k, v in new.items()
            ):
                raise InputError(f"{source}: {old!r}: a per-file entry maps file names to new keys")
            chosen = _for_bib(new, bib)
            if chosen:
                plain[old] = chosen
            continue
        if not isinstance(new, str) or not old or not new:
            raise InputError(f"{source}: {old!r}: old and new keys must be non-empty strings")
        plain[old] = new
    return resolve_chains(plain, source)


def _for_bib(per_file: Mapping[str, str], bib: str | None) -> str:
    if not bib:
        return ""
    for name, new in per_file.items():
        if name == bib or Path(name).name == Path(bib).name:
            return new
    return ""


def resolve_chains(key_map: Mapping[str, str], source: str = "<key map>") -> dict[str, str]:
    """``{a: b, b: c}`` -> ``{a: c, b: c}``; identity entries dropped; a cycle is an error."""
    out: dict[str, str] = {}
    for old in key_map:
        seen = [old]
        new = key_map[old]
        while new in key_map and new != seen[-1]:
            if new in seen:
                raise InputError(f"{source}: the key map has a cycle: {' -> '.join([*seen, new])}")
            seen.append(new)
            new = key_map[new]
        if new != old:
            out[old] = new
    return out


def syntax_for(path: str) -> str:
    """``latex`` or ``markdown`` from the file name; UsageError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix in LATEX_SUFFIXES:
        return "latex"
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    raise UsageError(
        f"{path}: cannot tell whether this is LaTeX or Markdown "
        f"(expected {', '.join(sorted(LATEX_SUFFIXES | MARKDOWN_SUFFIXES))})"
    )


# --------------------------------------------------------------------------
# LaTeX


def _skip_space(text: str, i: int) -> int:
    # Arguments may follow on the next line, but not after a blank line.
    newlines = 0
    while i < len(text) and text[i] in " \t\r\n":
        if text[i] == "\n":
            newlines += 1
            if newlines > 1:
                break
        i += 1
    return i


def _group_end(text: str, i: int, opener: str, closer: str) -> int:
    """Index after the group that opens at ``i``; -1 when it never closes."""
    depth = 0
    j = i
    while j < len(text):
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == opener:
            depth += 1
        elif c == closer:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


def _escaped(text: str, i: int) -> bool:
    """Is the backslash at ``i`` the second half of ``\\\\`` (an odd run before it)?"""
    run = 0
    while i - run - 1 >= 0 and text[i - run - 1] == "\\":
        run += 1
    return run % 2 == 1


def _latex_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every key list (the inside of a ``{..}`` key argument)."""
    spans: list[tuple[int, int]] = []
    for m in _COMMAND.finditer(text):
        name = m.group(1)
        if name in _NOT_CITATIONS or _escaped(text, m.start()):
            continue
        multi = name.endswith("cites")
        i = m.end()
        while True:
            i = _skip_space(text, i)
            if i >= len(text):
                break
            c = text[i]
            if c in "[(":
                end = _group_end(text, i, c, "]" if c == "[" else ")")
                if end < 0:
                    break
                i = end
            elif c == "{":
                end = _group_end(text, i, "{", "}")
                if end < 0:
                    break
                spans.append((i + 1, end - 1))
                i = end
                if not multi:
                    break
            else:
                break
    return spans


def _rewrite_latex(text: str, key_map: Mapping[str, str]) -> list[tuple[int, int, str, str]]:
    edits: list[tuple[int, int, str, str]] = []
    for start, end in _latex_spans(text):
        pos = start
        for part in text[start:end].split(","):
            key = part.strip()
            if key in key_map:
                at = pos + part.index(key)
                edits.append((at, at + len(key), key, key_map[key]))
            pos += len(part) + 1
    return edits


# --------------------------------------------------------------------------
# Markdown


def _markdown_code(text: str) -> list[tuple[int, int]]:
    """Spans of fenced code blocks and inline code, where ``@`` is not a citation."""
    spans: list[tuple[int, int]] = []
    pos = 0
    fence = ""
    fence_start = 0
    for line in text.splitlines(keepends=True):
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                spans.append((fence_start, pos + len(line)))
                fence = ""
        elif m:
            fence, fence_start = m.group(1), pos
        pos += len(line)
    if fence:
        spans.append((fence_start, len(text)))
    i = 0
    while i < len(text):
        if text[i] == "`":
            run = len(text[i:]) - len(text[i:].lstrip("`"))
            ticks = "`" * run
            end = text.find(ticks, i + run)
            while end >= 0 and text.startswith("`", end + run):  # a longer run is not the closer
                end = text.find(ticks, end + run + 1)
            if end < 0:
                i += run
                continue
            spans.append((i, end + run))
            i = end + run
        else:
            i += 1
    return spans


def _rewrite_markdown(text: str, key_map: Mapping[str, str]) -> list[tuple[int, int, str, str]]:
    code = sorted(_markdown_code(text))
    edits: list[tuple[int, int, str, str]] = []

    def in_code(at: int) -> bool:
        return any(s <= at < e for s, e in code)

    i = text.find("@")
    while i >= 0:
        before = text[i - 1] if i > 0 else ""
        if not (before and (before.isalnum() or before in "@_")) and not in_code(i):
            if text.startswith("{", i + 1):
                end = text.find("}", i + 2)
                if end > 0:
                    key = text[i + 2 : end]
                    if key in key_map:
                        edits.append((i + 2, end, key, key_map[key]))
            else:
                m = _PANDOC_KEY.match(text, i + 1)
                if m and m.group(0) in key_map:
                    key = m.group(0)
                    new = key_map[key]
                    if not _PANDOC_KEY.fullmatch(new):
                        new = "{" + new + "}"  # pandoc's syntax for keys with other characters
                    edits.append((m.start(), m.end(), key, new))
        i = text.find("@", i + 1)
    return edits


# --------------------------------------------------------------------------
# Text and files


def rekey_text(
    text: str, key_map: Mapping[str, str], syntax: str, source: str = "<string>"
) -> tuple[str, list[Replacement]]:
    """The text with every cited key in ``key_map`` replaced, and the replacements.

    ``syntax`` is ``latex`` or ``markdown`` (Markdown files get both: pandoc
    passes raw LaTeX through).
    """
    if syntax not in ("latex", "markdown"):
        raise UsageError(f"unknown syntax {syntax!r} (latex or markdown)")
    edits = _rewrite_latex(text, key_map)
    if syntax == "markdown":
        taken = {(s, e) for s, e, _, _ in edits}
        edits += [e for e in _rewrite_markdown(text, key_map) if (e[0], e[1]) not in taken]
    edits.sort()
    out: list[str] = []
    replacements: list[Replacement] = []
    last = 0
    line, counted = 1, 0
    for start, end, old, new in edits:
        if start < last:  # overlapping matches cannot happen, but never corrupt the text
            continue
        line += text.count("\n", counted, start)
        counted = start
        out.append(text[last:start])
        out.append(new)
        last = end
        replacements.append(Replacement(source, line, old, new))
    out.append(text[last:])
    return "".join(out), replacements


def _backup_path(path: Path) -> Path:
    candidate = path.with_name(path.name + ".bak")
    n = 1
    while candidate.exists():  # never overwrite an earlier backup
        candidate = path.with_name(f"{path.name}.bak.{n}")
        n += 1
    return candidate


def rekey_file(
    path: str | Path,
    key_map: Mapping[str, str],
    *,
    syntax: str | None = None,
    dry_run: bool = False,
    backup: bool = True,
) -> RekeyResult:
    """Rewrite the citations in one file; first copy it to ``PATH.bak`` (or ``.bak.N``).

    Nothing is written when no key changes or with ``dry_run``.  Raises
    :class:`InputError` when the file cannot be read.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    # surrogateescape: bytes that are not UTF-8 come back out exactly as they were.
    text = data.decode("utf-8", errors="surrogateescape")
    new_text, replacements = rekey_text(text, key_map, syntax or syntax_for(str(p)), str(path))
    result = RekeyResult(str(path), replacements)
    if not replacements or dry_run:
        return result
    if backup:
        target = _backup_path(p)
        target.write_bytes(data)
        result.backup = str(target)
    write_atomic(p, new_text.encode("utf-8", errors="surrogateescape"))
    result.written = True
    return result
