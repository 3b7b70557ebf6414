"""The listing reader: the real sample read exactly, and the grammar's other cases."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bibtools.formats import ReadOptions, listing
from bibtools.formats.listing import CATEGORIES, split_title_authors

HERE = Path(__file__).parent
SAMPLE = HERE / "fixtures" / "listing" / "listing_sample.txt"
AS_OF = dt.date(2026, 11, 26)


def read(text: str, as_of: dt.date = AS_OF):
    return listing.read(text, ReadOptions(source="t.txt", as_of=as_of))


def test_sample_reads_every_record_exactly():
    expected = json.loads(
        (HERE / "data" / "listing_sample.expected.json").read_text(encoding="utf-8")
    )
    result = read(SAMPLE.read_text(encoding="utf-8"), dt.date.fromisoformat(expected["as_of"]))
    assert result.detected == 24
    assert list(result.diagnostics) == []
    got = [
        {
            "line": r.origin_line,
            "title": r.title,
            "authors": [[a.given, a.family] for a in r.authors],
            "et_al": r.authors_truncated,
            "date": r.issued.iso(),
            "category": r.arxiv_primary_class,
            "code_flag": r.code_announced,
            "affiliations": r.affiliations,
            "code_urls": [c.url for c in r.code_links],
        }
        for r in result.records
    ]
    assert got == expected["records"]


def test_sample_spot_checks_written_by_hand():
    records = read(SAMPLE.read_text(encoding="utf-8")).records
    by_title = {r.title: r for r in records}
    rlvr = by_title["Learning to Solve, Forgetting to Retain: Correct-Set Turnover in RLVR"]
    assert [(a.given, a.family) for a in rlvr.authors] == [
        ("Chuanyu", "Qin"),
        ("Chenxu", "Yang"),
        ("Qingyi", "Si"),
    ]
    assert rlvr.issued.iso() == "2026-06-02" and rlvr.arxiv_primary_class == "cs.LG"
    assert rlvr.authors_truncated and not rlvr.code_announced
    easy = by_title["EasyVideoR1: Easier RL for Video Understanding"]
    assert easy.code_announced and easy.code_links == [] and easy.issued.iso() == "2026-04-18"
    fact = by_title["Are Large Language Models Table-based Fact-Checkers?"]
    assert fact.authors[0].given == "Hanwen" and fact.issued.iso() == "2024-02-04"
    tamt = records[0]
    assert [c.url for c in tamt.code_links] == ["https://github.com/llyx97/TAMT"]
    assert tamt.affiliations == ["pku", "tsinghua"]
    blink = by_title["Blink: Dynamic Visual Token Resolution for Enhanced Multimodal Understanding"]
    assert blink.issued.iso() == "2025-12-11"  # a full date is never moved by --as-of


@pytest.mark.parametrize(
    ("line", "title", "authors", "et_al", "affiliations"),
    [
        (
            "A Survey of NERJohn Smith, Jane Doe",
            "A Survey of NER",
            ["John Smith", "Jane Doe"],
            False,
            [],
        ),
        ("Scaling to 13BMary K. Smith et al.", "Scaling to 13B", ["Mary K. Smith"], True, []),
        (
            "One MRI ScanÅsa Noël Núñez, Zoë Ödegaard",
            "One MRI Scan",
            ["Åsa Noël Núñez", "Zoë Ödegaard"],
            False,
            [],
        ),
        (
            "learning in lower caseJean-Luc Picard · starfleet",
            "learning in lower case",
            ["Jean-Luc Picard"],
            False,
            ["starfleet"],
        ),
        (
            "Hello, World: A TitleAnna Smith-Jones, Pat O'Brien et al. · mit, cmu",
            "Hello, World: A Title",
            ["Anna Smith-Jones", "Pat O'Brien"],
            True,
            ["mit", "cmu"],
        ),
        ("What Is It?Hanwen Zhang", "What Is It?", ["Hanwen Zhang"], False, []),
        (
            "Deep Nets (DNNs)Yann LeCun, Mary McDonald",
            "Deep Nets (DNNs)",
            ["Yann LeCun", "Mary McDonald"],
            False,
            [],
        ),
        (
            "A Study of TransformersLudwig van Beethoven",
            "A Study of Transformers",
            ["Ludwig van Beethoven"],
            False,
            [],
        ),
        (
            "Fine-TuningMing-Wei Chang, Kenton Lee",
            "Fine-Tuning",
            ["Ming-Wei Chang", "Kenton Lee"],
            False,
            [],
        ),
        (
            "Pretraining at ScaleJ. R. Smith and Bo Li",
            "Pretraining at Scale",
            ["J. R. Smith", "Bo Li"],
            False,
            [],
        ),
        ("A · B Test for LLMsAnn Lee", "A · B Test for LLMs", ["Ann Lee"], False, []),
    ],
)
def test_title_author_split(line, title, authors, et_al, affiliations):
    assert split_title_authors(line) == (title, authors, et_al, affiliations)


def test_documented_ambiguity_inner_capital_given_name():
    # Nothing tells "TrainingJo" + "Ann" from "Training" + "JoAnn": we split at
    # the last capital that starts a lower-case run, as the spec says.
    title, authors, _, _ = split_title_authors("Mask TrainingJoAnn Smith")
    assert (title, authors[0]) == ("Mask TrainingJo", "Ann Smith")


def test_names_are_split_into_given_and_family():
    rec = read("CLJan 3, 2024\nA TitleMary K. Smith, Ludwig van Beethoven\nAbstract.\n").records[0]
    assert [(a.given, a.particle, a.family) for a in rec.authors] == [
        ("Mary K.", "", "Smith"),
        ("Ludwig", "van", "Beethoven"),
    ]


@pytest.mark.parametrize(
    ("header", "as_of", "expected"),
    [
        ("CLJun 2", dt.date(2026, 11, 26), "2026-06-02"),
        ("CLDec 3", dt.date(2026, 11, 26), "2025-12-03"),
        ("CLNov 26", dt.date(2026, 11, 26), "2026-11-26"),
        ("CLNov 27", dt.date(2026, 11, 26), "2025-11-27"),
        ("CLFeb 29", dt.date(2026, 11, 26), "2024-02-29"),
        ("CLApr 24, 2022Code", dt.date(2026, 11, 26), "2022-04-24"),
    ],
)
def test_dates_without_year_resolve_against_as_of(header, as_of, expected):
    rec = read(f"{header}\nA TitleAnn Lee\nx\n", as_of).records[0]
    assert rec.issued.iso() == expected


def test_categories_map_through_an_explicit_table():
    assert CATEGORIES["CL"] == "cs.CL"
    assert CATEGORIES["IV"] == "eess.IV"
    assert CATEGORIES["SD"] == "cs.SD"
    assert CATEGORIES["AS"] == "eess.AS"
    assert CATEGORIES["ML"] == "stat.ML"


def test_unknown_category_is_kept_with_a_warning():
    result = read("ZZJan 3, 2024\nA TitleAnn Lee\nx\n")
    assert result.records[0].arxiv_primary_class == "ZZ"
    [warning] = result.diagnostics
    assert warning.level.value == "warning" and warning.line == 1 and "ZZ" in warning.message


def test_blank_lines_crlf_bom_and_missing_final_newline():
    text = "\ufeffCLJan 3, 2024\r\nA TitleAnn Lee\r\nOne.\r\n\r\n\r\nCVFeb 4, 2023Code\r\nB TitleBo Li\r\nTwo https://github.com/o/r)."
    result = read(text)
    assert [r.title for r in result.records] == ["A Title", "B Title"]
    assert result.records[1].code_links[0].url == "https://github.com/o/r"
    assert result.records[1].origin_line == 6


def test_records_without_blank_lines_between_them():
    text = "CLJan 3, 2024\nA TitleAnn Lee\nOne.\nCVFeb 4, 2023\nB TitleBo Li\nTwo.\n"
    assert [r.origin_line for r in read(text).records] == [1, 4]


def test_code_urls_lose_trailing_punctuation_but_keep_balanced_parentheses():
    abstract = (
        "See https://github.com/a/b. Also (https://github.com/c/d), https://x.org/wiki/Foo_(bar), "
        "and https://gitlab.com/e/f; done"
    )
    rec = read(f"CLJan 3, 2024Code\nA TitleAnn Lee\n{abstract}\n").records[0]
    assert [c.url for c in rec.code_links] == [
        "https://github.com/a/b",
        "https://github.com/c/d",
        "https://x.org/wiki/Foo_(bar)",
        "https://gitlab.com/e/f",
    ]


def test_abstract_latex_is_decoded_but_math_kept():
    rec = read(
        'CLJan 3, 2024\nA TitleAnn Lee\nWe use $k$ and \\textbf{bold} at ~50% of M\\"uller\n'
    ).records[0]
    assert rec.abstract == "We use $k$ and \\textbf{bold} at ~50% of Müller"


def test_bad_records_are_reported_with_their_line_and_do_not_take_others_down():
    text = (
        "CLJan 3, 2024\nGood TitleAnn Lee\nOne.\n"
        "Orphan TitleCy Wu\nOrphan abstract.\n"
        "CLJan 4, 2024\nno capital letters here at all\nTwo.\n"
        "CLJan 5, 2024\nThird TitleBo Li\nThree.\n"
        "CLFeb 30, 2024\nBad DateCy Wu\nFour.\n"
        "CLJan 6, 2024\n"
    )
    result = read(text)
    assert [r.title for r in result.records] == ["Good Title", "Third Title"]
    errors = [(d.line, d.message.split()[0]) for d in result.diagnostics.errors]
    assert [line for line, _ in errors] == [4, 7, 12, 15]
    assert result.detected == 6  # 2 written + 4 reported
    assert "no header" in result.diagnostics.errors[0].message


def test_extra_lines_after_the_abstract_are_joined_with_a_warning():
    result = read("CLJan 3, 2024\nA TitleAnn Lee\nFirst half\nsecond half\n")
    assert result.records[0].abstract == "First half second half"
    assert result.diagnostics[0].line == 4


def test_sniff():
    assert listing.sniff("\n\nCLApr 24, 2022Code\nx")
    assert not listing.sniff("@article{x,}")


# --------------------------------------------------------------------------
# Hostile sizes (issue 13, item 10): the reader is linear in a line's length.


def _glue_split_reference(word: str) -> int | None:
    """The first implementation: every tail tested afresh (right, but quadratic)."""
    for i in range(1, len(word)):
        if word[i].isupper() and not word[i - 1].isspace() and listing.is_given_token(word[i:]):
            return i
    return None


@pytest.mark.slow
@settings(max_examples=3000)
@given(st.text(alphabet="AaBbÉéǅ-'\u2019._1 ", max_size=16))
def test_glue_split_finds_the_same_split_as_testing_every_tail(word: str) -> None:
    assert listing._glue_split(word) == _glue_split_reference(word)


@pytest.mark.parametrize(
    "word",
    ["RLVRChuanyu", "TrainingJean-Luc", "NERO'Brien", "ScanJ.R.", "Scan\u00c5sa", "ABCD", "x"],
)
def test_glue_split_on_real_shapes(word: str) -> None:
    assert listing._glue_split(word) == _glue_split_reference(word)


def _argument_volume(text: str) -> int:
    """Characters handed to the listing reader's own functions while it reads ``text``.

    Work counted, not timed: a reader that tests every tail of a long word
    (``word[i:]`` for each ``i``) hands over a quadratic number of characters.
    """
    total = 0
    code_file = listing.__file__

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal total
        if event == "call" and frame.f_code.co_filename == code_file:
            code = frame.f_code
            for name in code.co_varnames[: code.co_argcount]:
                value = frame.f_locals.get(name)
                if isinstance(value, str):
                    total += len(value)

    sys.setprofile(profile)
    try:
        result = read(text)
    finally:
        sys.setprofile(None)
    assert len(result.records) == 1, result.diagnostics
    return total


# Title shapes that made the first reader quadratic: many capitals (each a
# candidate start of the given name), initials, hyphens, apostrophes.
LONG_TITLES = {
    "capitals": lambda n: "AbCd" * (n // 4),
    "initials": lambda n: "A." * (n // 2),
    "hyphens": lambda n: "Ab-" * (n // 3) + "Ab",
    "apostrophes": lambda n: "O'B" * (n // 3),
    "upper case": lambda n: "A" * n,
}


def _listing_with_title(title: str) -> str:
    return f"CLApr 24, 2022\n{title}Chuanyu Qin, Bo Li\nAn abstract.\n"


@pytest.mark.parametrize("shape", LONG_TITLES)
def test_reading_a_long_title_line_is_linear_work(shape: str) -> None:
    make = LONG_TITLES[shape]
    small = _argument_volume(_listing_with_title(make(2_000)))
    large = _argument_volume(_listing_with_title(make(20_000)))
    assert large <= 12 * small, (small, large)  # 10x the line: about 10x the work


@pytest.mark.slow
def test_the_work_counter_sees_a_quadratic_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "_glue_split", _glue_split_reference)
    small = _argument_volume(_listing_with_title(LONG_TITLES["capitals"](2_000)))
    large = _argument_volume(_listing_with_title(LONG_TITLES["capitals"](20_000)))
    assert large > 50 * small, (small, large)


@pytest.mark.slow
def test_many_authors_are_read_in_linear_work() -> None:
    line = "A TitleAnn Lee" + ", Bo Li" * 2_000
    small = _argument_volume(f"CLJan 3, 2024\n{line}\nx\n")
    large = _argument_volume(f"CLJan 3, 2024\n{line + ', Bo Li' * 18_000}\nx\n")
    assert large <= 12 * small, (small, large)
