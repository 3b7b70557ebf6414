"""The fast BibTeX splitter gives bibtexparser's Splitter results, block for block."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fuzzing import load_targets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bibtools.files import decode
from bibtools.formats import bibtex_split
from bibtools.formats.bibtex_split import (
    EntryBlock,
    FailedBlock,
    split,
)

HERE = Path(__file__).parent
BIB_FILES = sorted((HERE / "fixtures" / "bibtex").rglob("*.bib"))
REAL_10K = HERE.parent.parent / "shared" / "data" / "bench" / "real_10k.bib"

logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)


# The same comparison the fuzz target makes: bibtexparser's blocks and ours
# as tuples (lines 1-based).
_TARGETS = load_targets()
reference = _TARGETS.reference_blocks
ours = _TARGETS.split_blocks


def assert_same(text: str) -> None:
    if _TARGETS.quote_in_braces_in_quotes(text):
        return  # where the splitter follows BibTeX, not bibtexparser (its docstring)
    expected = reference(text)
    got = ours(text)
    if got != expected:  # the first difference, readable
        for want, have in zip(expected, got, strict=False):
            assert have == want
    assert got == expected


# --------------------------------------------------------------------------
# Real files


@pytest.mark.parametrize("path", BIB_FILES, ids=lambda p: p.name)
def test_real_files_split_as_bibtexparser_does(path):
    text, _ = decode(path.read_bytes(), path.name)
    assert_same(text)


@pytest.mark.slow
@pytest.mark.skipif(not REAL_10K.exists(), reason="benchmark corpus not available")
def test_benchmark_corpus_splits_as_bibtexparser_does(monkeypatch):
    text = REAL_10K.read_text(encoding="utf-8")
    expected = reference(text)
    assert len(expected) == 10_000
    monkeypatch.setattr(bibtex_split, "_fallback", no_fallback)  # and fast all the way
    assert ours(text) == expected


# --------------------------------------------------------------------------
# Cases worth naming


@pytest.mark.parametrize(
    "text",
    [
        '@article{k, title = {A {nested} title}, year = 2020, month = jan # "~1"}',
        '@article{k,\r\n  title = "Quoted {"} here",\r\n  note = {x}\r\n}\r\n',
        "@article(k, title = {paren (entry)}, note = {a) b})",
        "@string{acm = {ACM}}\n@preamble{ {\\newcommand{\\x}{y}} }\n@comment{free {text}}",
        "junk @ here\n@misc{a, title = {LeQua @ {CLEF}}}\ntrailing junk",
        "@article{a, title = {unclosed\n@article{b, title = {fine}}",
        '@article{a, title = "unclosed\n@article{b, title = {fine}}',
        "@article{a, title = {x}, title = {y}}\n@article{a, year = 1}",
        "@article{a, title = {line one\\\nline two}, year = 2}",
        "@article{a, title = {\\{ escaped}, note = x\\,y}",
        "@article{a, title = {x},, year = 1}\n@book{b, year = 2}",
        "@article{a, title = {x}, dangling}\n@book{b, year = 2}",
        "@article{a title = {x}}\n@book{b, year = 2}",
        "@article{a}\n@book{b,}",
        "@article{a, t = {" + "{" * 12 + "deep" + "}" * 12 + "}}",
        '@comment(a (b) c)\n@string(x = {y})\n@preamble("p")',
        "\ufeff@article{bom, year = 1}",
        "x@book{inline, year = 1} @misc{two, year = 2}",
    ],
)
def test_named_cases(text):
    assert_same(text)


def test_recovery_duplicates_and_line_numbers_spelled_out():
    text = (
        "@article{a, title = {unclosed\n"
        "@Article{b,\n  title = {x},\n  title = {y},\n}\n"
        "@misc{b, note = {one\\\ntwo}, year = 2}\n"
    )
    blocks = list(split(text))
    assert isinstance(blocks[0], FailedBlock)
    assert blocks[0].line == 1
    assert blocks[0].raw == "@article{a, title = {unclosed"
    assert blocks[1] == EntryBlock("article", "b", (("title", "{x}", 3), ("title", "{y}", 4)), 2)
    # The newline after a backslash does not count (bibtexparser's quirk, kept).
    assert blocks[2] == EntryBlock("misc", "b", (("note", "{one\\\ntwo}", 6), ("year", "2", 6)), 6)
    assert len(blocks) == 3


def no_fallback(*args):
    raise AssertionError("the fallback was used")


def test_split_is_a_generator_that_yields_before_reading_on(monkeypatch):
    monkeypatch.setattr(bibtex_split, "_fallback", no_fallback)
    blocks = split("@misc{a, year = 1}\n" + "@misc{b, title = {x}}\n" * 1000 + "@misc(c)\n")
    first = next(blocks)
    assert first == EntryBlock("misc", "a", (("year", "1", 1),), 1)
    assert next(blocks).key == "b"  # the unusual last block is not looked at yet


def test_ordinary_blocks_take_the_fast_path(monkeypatch):
    text = (HERE / "fixtures" / "bibtex" / "texlive" / "xampl.bib").read_text(encoding="utf-8")
    expected = reference(text)
    monkeypatch.setattr(bibtex_split, "_fallback", no_fallback)
    assert ours(text) == expected
    assert {b[0] for b in expected} == {"entry", "string", "preamble"}


def test_blocks_are_frozen_dataclasses_with_slots():
    block = next(split("@misc{a, year = 1}"))
    assert not hasattr(block, "__dict__")
    with pytest.raises(AttributeError):
        block.key = "b"  # type: ignore[misc]


def test_a_splitter_crash_in_the_fallback_becomes_a_failed_block(monkeypatch):
    class Broken:
        def __init__(self, text: str) -> None:
            pass

        def split(self):
            raise RuntimeError("boom")

    monkeypatch.setattr("bibtexparser.splitter.Splitter", Broken)
    blocks = list(split("@article(a, year = 1)\n@misc{b, year = 2}"))
    assert isinstance(blocks[0], FailedBlock)
    assert "boom" in blocks[0].message
    assert blocks[0].line == 1
    assert blocks[1] == EntryBlock("misc", "b", (("year", "2", 2),), 2)


# --------------------------------------------------------------------------
# Generated BibTeX

_WORD = st.text(alphabet="abcXYZ019 .:-'~", min_size=0, max_size=8)
_SPECIAL = st.sampled_from(
    [
        *("{", "}", '"', ",", "=", "#", "@", "\\", "\n", "\r\n", "(", ")", '{"}', "\\{", "\\}"),
        *('\\"', "\\\n", "\\\\", " @misc{", "\n@book{", "\n  @x(", "%", "\t"),
    ]
)


@st.composite
def braced(draw, depth: int = 0) -> str:
    parts = draw(
        st.lists(
            _WORD | st.sampled_from(['\\"o', "@", ",", "=", '"', "#", "\n", "\\\\ ", " @ {x}"]),
            max_size=4,
        )
    )
    if depth < 3 and draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), draw(braced(depth + 1)))
    return "{" + "".join(parts) + "}"


@st.composite
def quoted(draw) -> str:
    inner = draw(st.lists(_WORD | st.sampled_from(["{x}", '{"}', ",", "\\\n", "{a,}"]), max_size=4))
    return '"' + "".join(inner) + '"'


_ATOM = braced() | quoted() | st.sampled_from(["2020", "7", "jan", "acm", "x"])
_VALUE = st.lists(_ATOM, min_size=1, max_size=3).map(" # ".join)
_SPACE = st.sampled_from(["", " ", "\n", "\n  ", "\r\n\t", " \n "])


@st.composite
def entry(draw) -> str:
    paren = draw(st.integers(0, 5)) == 0
    opening, closing = ("(", ")") if paren else ("{", "}")
    etype = draw(st.sampled_from(["article", "Book", "misc", "inProceedings", ""]))
    key = draw(st.sampled_from(["a", "Key:2020", "x_y-z", "K9"]))
    names = draw(st.lists(st.sampled_from(["title", "author", "year", "Note", "x-y"]), max_size=5))
    sp = draw(_SPACE)
    fields = [f"{sp}{name}{draw(_SPACE)}={draw(_SPACE)}{draw(_VALUE)}" for name in names]
    trailing = "," if fields and draw(st.booleans()) else ""
    return f"@{etype}{opening}{key},{','.join(fields)}{trailing}{draw(_SPACE)}{closing}"


@st.composite
def other_block(draw) -> str:
    kind = draw(st.sampled_from(["string", "String", "comment", "preamble", "stringx"]))
    if kind.lower().startswith("string"):
        body = f"{draw(_WORD)} = {draw(_VALUE)}"
    elif kind == "comment":
        body = draw(st.text(alphabet="ab {}\n,=@\"'", max_size=15))
    else:
        body = draw(_VALUE)
    if draw(st.integers(0, 4)) == 0:
        return f"@{kind}({body})"
    return f"@{kind}{{{body}}}"


_JUNK = st.text(alphabet="ab @{}()\n=,%", max_size=12)


@st.composite
def bibtex_text(draw) -> str:
    blocks = draw(st.lists(entry() | other_block() | _JUNK, max_size=6))
    seps = [draw(st.sampled_from(["\n", "\n\n", " ", "", "\r\n", "\n  "])) for _ in blocks]
    text = "".join(b + s for b, s in zip(blocks, seps, strict=True))
    # Break it here and there: unclosed braces and quotes, stray characters.
    for _ in range(draw(st.integers(0, 3))):
        if not text:
            break
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()) and at < len(text):
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + draw(_SPECIAL) + text[at:]
    return text


@pytest.mark.slow
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(bibtex_text())
def test_generated_bibtex_splits_as_bibtexparser_does(text):
    assert_same(text)


@pytest.mark.slow
@settings(max_examples=100)
@given(st.lists(entry(), min_size=1, max_size=4).map("\n".join))
def test_well_formed_entries_split_as_bibtexparser_does(text):
    assert_same(text)
    assert all(b[0] == "entry" for b in ours(text))


# --------------------------------------------------------------------------
# Arbitrary text


@settings(max_examples=600)
@given(st.text(alphabet='@{}()",=#\\\n\r \tab%', max_size=60))
def test_structural_noise_splits_as_bibtexparser_does(text):
    assert_same(text)


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_never_raises_on_arbitrary_text(text):
    blocks = list(split(text))
    assert all(b.line >= 1 for b in blocks)
    assert all(isinstance(b, bibtex_split.Block) for b in blocks)
