"""Identifiers as users paste them (bibtools add): every form, check digits, what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bibtools.ids import Identifier, identifier_problem, isbn13, parse_doi, parse_identifier

DATA = Path(__file__).parent / "data" / "add"
SICI = "10.1002/(SICI)1097-0258(19970228)16:4<385::AID-SIM380>3.0.CO;2-3"


@pytest.mark.parametrize(
    ("text", "kind", "value", "version"),
    [
        ("10.1145/3292500.3330701", "doi", "10.1145/3292500.3330701", None),
        ("doi:10.1038/nature14539", "doi", "10.1038/nature14539", None),
        ("DOI: 10.1038/nature14539", "doi", "10.1038/nature14539", None),
        ("https://doi.org/10.1162/neco.1997.9.8.1735", "doi", "10.1162/neco.1997.9.8.1735", None),
        ("https://dx.doi.org/10.1109/CVPR.2016.90", "doi", "10.1109/CVPR.2016.90", None),
        (
            "http://dx.doi.org/10.1126/science.169.3946.635",
            "doi",
            "10.1126/science.169.3946.635",
            None,
        ),
        (SICI, "doi", SICI, None),
        (
            "https://doi.org/10.1002/%28SICI%291097-0258%2819970228%2916%3A4%3C385%3A%3AAID-SIM380%3E3.0.CO%3B2-3",
            "doi",
            SICI,
            None,
        ),
        (
            "https://doi.org/10.1016/0022-2836(70)90057-4",
            "doi",
            "10.1016/0022-2836(70)90057-4",
            None,
        ),
        ("arXiv:1706.03762", "arxiv", "1706.03762", None),
        ("arXiv: 1706.03762", "arxiv", "1706.03762", None),
        ("1810.04805v2", "arxiv", "1810.04805", 2),
        ("https://arxiv.org/abs/1605.08386", "arxiv", "1605.08386", None),
        ("https://arxiv.org/pdf/1412.6980v9", "arxiv", "1412.6980", 9),
        ("https://arxiv.org/pdf/1412.6980v9.pdf", "arxiv", "1412.6980", 9),
        ("http://arxiv.org/abs/astro-ph/0601001v1", "arxiv", "astro-ph/0601001", 1),
        ("math.GT/0309136", "arxiv", "math/0309136", None),
        ("10.48550/arXiv.1706.03762", "arxiv", "1706.03762", None),
        ("https://doi.org/10.48550/arXiv.2304.05376", "arxiv", "2304.05376", None),
        ("978-0-316-03057-1", "isbn", "9780316030571", None),
        ("0099560437", "isbn", "9780099560432", None),
        ("0-201-13447-0", "isbn", "9780201134476", None),
        ("ISBN 978-0-262-03561-3", "isbn", "9780262035613", None),
        ("ISBN-10: 0-8044-2957-X", "isbn", "9780804429573", None),
        ("PMID:20412080", "pmid", "20412080", None),
        ("pmid:11850928", "pmid", "11850928", None),
        ("PMID: 9377276", "pmid", "9377276", None),
        ("https://pubmed.ncbi.nlm.nih.gov/2231712/", "pmid", "2231712", None),
    ],
)
def test_every_pasted_form(text: str, kind: str, value: str, version: int | None) -> None:
    assert parse_identifier(text) == Identifier(kind, value, version)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0-201-13447-1", "check digit"),
        ("9780262035614", "check digit"),
        ("12345", "PMID:"),
        ("doi:11.1000/x", "not a DOI"),
        ("arXiv:17.0376", "not an arXiv id"),
        ("hello", "not a DOI, arXiv id, ISBN or PMID"),
    ],
)
def test_refused_forms_say_why(text: str, why: str) -> None:
    assert parse_identifier(text) is None
    assert why in identifier_problem(text)


def test_every_line_of_the_test_sets_is_an_identifier_of_its_kind() -> None:
    for name in ("ids", "heldout_ids"):
        truth = json.loads((DATA / f"{name}.truth.json").read_text("utf-8"))
        for item in truth["ids"]:
            found = parse_identifier(item["input"])
            assert found is not None, item["input"]
            kind = "arxiv" if item["input"].lower().startswith("10.48550/") else item["kind"]
            assert found.kind == kind, item["input"]


def test_dedupe_key_ignores_doi_case_and_arxiv_version() -> None:
    a, b = (
        parse_identifier("10.1038/S41586-020-2649-2"),
        parse_identifier("doi:10.1038/s41586-020-2649-2"),
    )
    assert a is not None and b is not None and a.dedupe_key == b.dedupe_key
    c, d = parse_identifier("1706.03762v5"), parse_identifier("https://arxiv.org/abs/1706.03762")
    assert c is not None and d is not None and c.dedupe_key == d.dedupe_key


def test_parse_doi_leaves_other_text_alone() -> None:
    assert parse_doi("see 10.1000/x") is None
    assert parse_doi("https://example.org/10.1000/x") is None


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_isbn10_and_13_agree(core: str) -> None:
    total = sum((10 - i) * int(c) for i, c in enumerate(core))
    check = (11 - total % 11) % 11
    isbn10 = core + ("X" if check == 10 else str(check))
    thirteen = isbn13(isbn10)
    assert thirteen is not None and thirteen.startswith("978" + core)
    assert isbn13(thirteen) == thirteen
    hyphenated = f"{thirteen[:3]}-{thirteen[3]}-{thirteen[4:8]}-{thirteen[8:12]}-{thirteen[12]}"
    assert isbn13(hyphenated) == thirteen
    wrong = thirteen[:12] + str((int(thirteen[12]) + 1) % 10)
    assert isbn13(wrong) is None
