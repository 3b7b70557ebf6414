"""The layout docs/architecture.md draws is the layout of the code.

The allowed import direction is read from the document's table (each
module's layer number), so the picture and the test cannot drift apart.
"""

from __future__ import annotations

import ast
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bibtools"
DOC = ROOT / "docs" / "architecture.md"


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, str, int]]:
    """(imported module, imported name, line) for every bibtools import, at any depth."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("bibtools"):
                continue
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if full in known:
                    out.append((full, "", node.lineno))
                else:
                    out.append((target, alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("bibtools"):
                    out.append((alias.name, "", node.lineno))
    return out


def layers() -> dict[str, int]:
    """Module -> layer from the document's table rows: | `module` | layer | role |."""
    table: dict[str, int] = {}
    for m in re.finditer(r"^\| `(bibtools[\w.]*)` \| (\d+) \|", DOC.read_text("utf-8"), re.M):
        table[m.group(1)] = int(m.group(2))
    return table


def layer_of(module: str, table: dict[str, int]) -> int | None:
    while module:
        if module in table:
            return table[module]
        module = module.rpartition(".")[0]
    return None


def test_every_module_is_in_the_document() -> None:
    table = layers()
    missing = sorted(m for m in modules() if m not in table)
    assert not missing, f"docs/architecture.md does not list: {missing}"
    stale = sorted(m for m in table if m not in modules())
    assert not stale, f"docs/architecture.md lists modules that do not exist: {stale}"


@pytest.mark.slow
def test_imports_go_down_the_layers_only() -> None:
    """A module imports only from its own layer's package or lower layers."""
    table = layers()
    known = modules()
    wrong = []
    for name, path in known.items():
        mine = layer_of(name, table)
        for target, _, line in imports(name, path, known):
            theirs = layer_of(target, table)
            if target in (name, "bibtools") or mine is None or theirs is None:
                continue
            if theirs > mine:
                wrong.append(
                    f"{path.relative_to(ROOT)}:{line}: layer {mine} imports {target} (layer {theirs})"
                )
    assert not wrong, "\n".join(wrong)


@pytest.mark.slow
def test_no_import_cycle() -> None:
    known = modules()
    edges = {
        name: {
            t
            for t, _, _ in imports(name, path, known)
            if t in known and t not in (name, "bibtools")
        }
        for name, path in known.items()
    }
    # A package's __init__ re-exporting its own children is not a cycle of interest.
    for name in edges:
        edges[name] = {t for t in edges[name] if not t.startswith(name + ".")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert not cycles, cycles


@pytest.mark.slow
def test_no_module_imports_private_names_of_another() -> None:
    known = modules()
    private = [
        f"{path.relative_to(ROOT)}:{line}: {target}.{what}"
        for name, path in known.items()
        for target, what, line in imports(name, path, known)
        if what.startswith("_") and not what.startswith("__") and target != name
    ]
    assert not private, "\n".join(private)


def test_importing_bibtools_changes_no_global_state() -> None:
    """No logger levels, no warnings filters, no heavy imports on `import bibtools`."""
    code = (
        "import logging, sys, warnings\n"
        "before = (logging.getLogger('bibtexparser').level, len(warnings.filters))\n"
        "import bibtools, bibtools.convert, bibtools.lint, bibtools.formats.bibtex\n"
        "after = (logging.getLogger('bibtexparser').level, len(warnings.filters))\n"
        "assert before == after, (before, after)\n"
        "import bibtools.cli\n"
        "heavy = sorted(m for m in ('requests', 'requests_cache', 'rich', 'jinja2') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr


def test_reading_bibtex_leaves_the_bibtexparser_logger_as_it_was() -> None:
    from bibtools.convert import loads

    logger = logging.getLogger("bibtexparser")
    before = logger.level
    logger.setLevel(logging.INFO)
    try:
        assert loads("@article{a, title={T}, year=2020\n@article{b, title={U}}\n", "bibtex")
        assert logger.level == logging.INFO
    finally:
        logger.setLevel(before)


def test_writers_never_change_the_records_they_are_given() -> None:
    """Empty and repeated keys, crossrefs and dialect mapping are all done on copies."""
    import copy

    import bibtools

    result = bibtools.read(
        "@string{j = {Journal}}\n"
        "@inproceedings{, author = {A. Author}, title = {No Key}, booktitle = {Proc}, year = 2020}\n"
        "@article{dup, author = {B. Bee}, title = {One}, journal = j, year = 2021}\n"
        "@article{dup, author = {C. Sea}, title = {Two}, journal = j, year = 2022}\n"
        "@inproceedings{child, title = {Child}, crossref = {parent}}\n"
        "@proceedings{parent, title = {Parent Proceedings}, year = 2019}\n"
    )
    before = copy.deepcopy(result.records)
    keys = [r.key for r in result.records]
    for fmt in ("bibtex", "ris", "csljson"):
        for dialect in ("", "bibtex", "biblatex"):
            assert bibtools.write(result, fmt, dialect=dialect if fmt == "bibtex" else "")
    assert [r.key for r in result.records] == keys
    assert result.records == before
    assert [r.source for r in result.records] == [r.source for r in before]


def test_every_registered_format_keeps_the_format_contract() -> None:
    from bibtools.convert import FORMATS, get_format
    from bibtools.formats import Reader, Writer

    for name in FORMATS:
        assert isinstance(get_format(name), Reader), name
    writers = sorted(n for n in FORMATS if isinstance(get_format(n), Writer))
    assert writers == ["bibtex", "csljson", "ris"]
