"""Nothing lost, nothing silent: every record a reader sees is written or reported.

For every reader and any input, the records it returns plus the records it
reports as skipped (one error diagnostic each, with a line) equal the
records it detected. Checked on every fixture and on mutated fixtures.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bibtools.convert import get_format
from bibtools.diagnostics import Level
from bibtools.files import decode
from bibtools.formats import ReadOptions

FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = {
    "bibtex": sorted((FIXTURES / "bibtex").rglob("*.bib")),
    "ris": sorted((FIXTURES / "ris").rglob("*.ris")),
    "csljson": sorted((FIXTURES / "csl").rglob("*.json"))
    + sorted((FIXTURES / "bibtex" / "citationjs").glob("*.json")),
    "listing": sorted((FIXTURES / "listing").glob("*.txt")),
}
CASES = [(fmt, path) for fmt, paths in SOURCES.items() for path in paths]


def _text(path: Path) -> str | None:
    try:
        return decode(path.read_bytes(), path.name)[0]
    except Exception:
        return None


def check_accounting(fmt: str, text: str) -> None:
    result = get_format(fmt).read(text, ReadOptions(source="in", as_of=dt.date(2026, 11, 26)))
    errors = [d for d in result.diagnostics if d.level is Level.ERROR]
    assert all(d.file == "in" for d in result.diagnostics)
    assert all(d.line >= 0 for d in result.diagnostics)
    if result.detected == 0:
        # Nothing recognisable at all: the CLI refuses the input (exit 2).
        assert result.records == []
        return
    assert len(result.records) + len(errors) == result.detected, [str(e) for e in errors]
    assert all(e.line > 0 for e in errors)  # a skipped record is named by its line


@pytest.mark.parametrize(("fmt", "path"), CASES, ids=[f"{f}:{p.name}" for f, p in CASES])
def test_fixture_accounting(fmt, path):
    text = _text(path)
    if text is None:
        pytest.skip("not decodable: refused before reading")
    check_accounting(fmt, text)


@st.composite
def mutated(draw):
    fmt, path = draw(st.sampled_from([c for c in CASES if _text(c[1]) is not None]))
    text = _text(path) or ""
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        j = draw(st.integers(i, min(len(text), i + 200)))
        op = draw(st.sampled_from(["delete", "duplicate", "insert"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            junk = draw(st.text(alphabet='@{}()",=#%\\\n TY-ERCL:Jan 1', max_size=20))
            text = text[:i] + junk + text[i:]
    return fmt, text


@settings(
    max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@pytest.mark.slow
@given(mutated())
def test_mutated_inputs_keep_the_accounting(case):
    fmt, text = case
    check_accounting(fmt, text)
