"""BibTeX/BibLaTeX: reading real files, every feature of the grammar, writing, round trips."""

from __future__ import annotations

import re
from pathlib import Path

import bibtexparser
import pybtex.database
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pybtex import errors

from bibtools.files import decode
from bibtools.formats import ReadOptions, WriteOptions, bibtex
from bibtools.model import CodeLink, Name, PartialDate, Record
from bibtools.text.keys import assign_keys
from bibtools.text.markup import protect_case

HERE = Path(__file__).parent
BIB_FILES = sorted((HERE / "fixtures" / "bibtex").rglob("*.bib"))


def read(text: str, source: str = "t.bib"):
    return bibtex.read(text, ReadOptions(source=source))


def write(records, **options) -> str:
    assign_keys(records)
    return bibtex.write(records, WriteOptions(**options)).text


def one(text: str) -> Record:
    result = read(text)
    assert len(result.records) == 1, [str(d) for d in result.diagnostics]
    return result.records[0]


# --------------------------------------------------------------------------
# Real files


@pytest.mark.parametrize("path", BIB_FILES, ids=lambda p: p.name)
def test_every_real_file_reads_and_rewrites_to_a_fixpoint(path):
    try:
        text, _ = decode(path.read_bytes(), path.name)
    except Exception as exc:  # only the two UTF-16 files without BOM may be refused
        pytest.fail(f"{path.name}: {exc}")
    result = read(text, path.name)
    assert len(result.records) + len(result.diagnostics.errors) >= result.detected
    out = write(result.records)
    again = read(out)
    assert len(again.records) == len(result.records)
    assert not again.diagnostics.errors
    assert write(again.records) == out


@pytest.mark.slow
def test_written_bibtex_parses_in_pybtex_and_bibtexparser():
    records, blocks = [], []
    for path in BIB_FILES:
        text, _ = decode(path.read_bytes(), path.name)
        result = read(text, path.name)
        records.extend(result.records)
        blocks.extend(result.blocks)
    assert len(records) > 700
    out = write(records, blocks=blocks, files=[p.name for p in BIB_FILES])
    lib = bibtexparser.parse_string(out)
    # Two files define @string foo and jams differently: the first definition is
    # written once and the other file's uses are written out (no redefinition).
    assert not lib.failed_blocks
    # bibtexparser reads jurabib's @commented entries as comments (BibTeX does not).
    # Nor does it read a type with a hyphen (btxdoc's @FAKE-ENTRY, as BibTeX does).
    commented = [
        r
        for r in records
        if r.source and (r.source.entry_type == "commented" or "-" in r.source.entry_type)
    ]
    assert len(commented) == 9
    assert len(lib.entries) == len(records) - len(commented)
    # Two jabref files write @preamble{preamble}, an undefined macro, and so
    # does the output, as written: pybtex's strict mode would stop there.
    errors.set_strict_mode(False)
    try:
        data = pybtex.database.parse_string(out, "bibtex")
    finally:
        errors.set_strict_mode(True)
    assert len(data.entries) == len(records)


# --------------------------------------------------------------------------
# The grammar


def test_string_macros_concatenation_and_month_macros():
    rec = one(
        """
        @string{acm = "ACM"}
        @String{conf = acm # " Conference on " # {Things}}
        @inproceedings{k, title = {T}, booktitle = conf, month = jul # "~12", year = 2001}
        """
    )
    assert rec.container_title == "ACM Conference on Things"
    assert (rec.issued.year, rec.issued.month, rec.issued.day) == (2001, 7, 12)


def test_macro_names_are_case_insensitive_and_undefined_ones_reported():
    result = read('@string{CoOl = "x"}\n@misc{k, note = cool # undefinedmacro}')
    assert result.records[0].note == "xundefinedmacro"
    assert any("undefinedmacro" in d.message for d in result.diagnostics.warnings)


def test_strings_comments_and_preambles_are_written_back_where_they_stood():
    text = (
        '@preamble{"\\newcommand{\\noop}[1]{}"}\n@comment{jabref-meta: x;}\n'
        "@string{acm = {ACM}}\n@misc{k, title={T}, publisher = acm}\n"
        "@string{ieee = {IEEE}}\n@misc{l, publisher = ieee # { Press}}\n@comment{end}"
    )
    result = read(text)
    assert result.preambles == ["\\newcommand{\\noop}[1]{}"]
    assert [b.kind for b in result.blocks] == ["preamble", "comment", "string", "string", "comment"]
    out = bibtex.write(result.records, WriteOptions(blocks=result.blocks)).text
    assert [line.split("{")[0] for line in out.split("\n") if line.startswith("@")] == [
        "@preamble",
        "@comment",
        "@string",
        "@misc",
        "@string",
        "@misc",
        "@comment",
    ]
    assert "publisher = acm," in out and "publisher = ieee # { Press}," in out
    assert '@preamble{"\\newcommand{\\noop}[1]{}"}' in out


def test_latex_accents_decode_to_unicode_and_case_protection_stays():
    rec = one(
        r"@article{k, title = {{BERT} for M{\"u}ller's {\v{S}}koda \& Co.}, author = {G{\'e}rard, Fran{\c{c}}ois}}"
    )
    assert rec.title == "{BERT} for Müller's Škoda & Co."
    assert (rec.authors[0].family, rec.authors[0].given) == ("Gérard", "François")


def test_unclosed_brace_loses_only_its_own_entry():
    text = "@article{a, title = {One}}\n@article{b, title = {Two,\n  year = 2020,\n\n@article{c, title = {Three}}\n"
    result = read(text)
    assert [r.key for r in result.records] == ["a", "c"]
    [error] = result.diagnostics.errors
    assert error.line == 2 and "@article{b" in error.message
    assert result.detected == 3


def test_duplicate_keys_and_fields_are_kept_and_reported():
    result = read("@misc{k, title={A}, title={B}}\n@misc{k, title={C}}")
    assert [r.title for r in result.records] == ["A", "C"]
    diags = assign_keys(result.records)
    assert [r.key for r in result.records] == ["k", "ka"]
    assert any("renamed" in d.message for d in diags)


def test_crossref_is_kept_for_bibtex():
    result = read(
        "@inproceedings{child, title={C}, crossref={parent}}\n@proceedings{parent, title={The Book}, year=1999, publisher={P}}"
    )
    child = result.records[0]
    assert child.crossref == "parent" and not child.container_title
    assert "crossref = {parent}" in write(result.records).replace("  ", " ").replace("  ", " ")


def test_arxiv_fields_doi_and_pages():
    rec = one(
        "@misc{k, title={T}, eprint={2204.12345v2}, archivePrefix={arXiv}, primaryClass={cs.CL},"
        " doi={https://doi.org/10.48550/arXiv.2204.12345}, pages={12--34}}"
    )
    assert (rec.arxiv_id, rec.arxiv_version, rec.arxiv_primary_class) == ("2204.12345", 2, "cs.CL")
    assert rec.doi == "10.48550/arXiv.2204.12345" and rec.pages == "12-34"
    assert rec.type == "article"


def test_biblatex_fields_are_read():
    rec = one(
        "@article{k, journaltitle={J}, date={2020-05/2020-06}, location={Paris}, eprinttype={arxiv}, eprint={hep-th/9901001}}"
    )
    assert rec.container_title == "J" and rec.publisher_place == "Paris"
    assert rec.issued.iso() == "2020-05" and rec.issued.end and rec.issued.end.iso() == "2020-06"
    assert rec.arxiv_id == "hep-th/9901001"


def test_unknown_fields_round_trip_verbatim():
    text = (
        r"@article{k, title = {T}, bibsource = {http://x/y.bib}, acknowledgement = {Thanks {\"O}}}"
    )
    out = write(read(text).records)
    assert "bibsource       = {http://x/y.bib}" in out
    assert r"acknowledgement = {Thanks {\"O}}" in out


# --------------------------------------------------------------------------
# Writing


def preprint(**changes) -> Record:
    rec = Record(
        type="article",
        title="Learning BERT via LoRA: a 2D Study of Co-Evolving GPT-3",
        authors=[Name("Liu", "Yuanxin"), Name("Meng", "Fandong")],
        authors_truncated=True,
        issued=PartialDate(2022, 4, 24),
        arxiv_primary_class="cs.CL",
        code_links=[CodeLink("https://github.com/llyx97/TAMT", "abstract")],
    )
    return rec.copy(**changes)


def test_generated_keys_are_scholar_like_and_unique():
    recs = [preprint(), preprint(), preprint(authors=[Name("Dollár", "Piotr")], title="The Mask")]
    assign_keys(recs)
    assert [r.key for r in recs] == ["liu2022learning", "liu2022learninga", "dollar2022mask"]


def test_titles_protect_acronyms_and_inner_capitals_but_not_the_whole_title():
    out = write([preprint()])
    assert (
        "title        = {Learning {BERT} via {LoRA}: a {2D} Study of Co-Evolving {GPT-3}}," in out
    )
    assert "{{" not in out


def test_preprint_without_id_gets_primaryclass_and_a_note():
    out = write([preprint()])
    assert out.startswith("@misc{liu2022learning,")
    assert "primaryclass = {cs.CL}" in out and "note         = {arXiv preprint (cs.CL)}" in out
    assert "author       = {Liu, Yuanxin and Meng, Fandong and others}" in out
    assert "code         = {https://github.com/llyx97/TAMT}" in out


def test_preprint_with_id_gets_eprint_fields_in_both_dialects():
    rec = preprint(arxiv_id="2204.12345", arxiv_version=1)
    out = write([rec])
    assert "eprint        = {2204.12345v1}" in out and "archiveprefix = {arXiv}" in out
    assert "primaryclass  = {cs.CL}" in out
    blx = bibtex.write([rec], WriteOptions(dialect="biblatex")).text
    assert "eprinttype  = {arxiv}" in blx and "date        = {2022-04-24}" in blx


def test_biblatex_dialect_uses_date_and_journaltitle():
    rec = Record(
        type="article-journal",
        key="k",
        title="T",
        container_title="Journal",
        issued=PartialDate(2020, 5),
    )
    out = bibtex.write([rec], WriteOptions(dialect="biblatex")).text
    assert "journaltitle = {Journal}" in out and "date         = {2020-05}" in out
    assert "year" not in out


def test_special_characters_are_escaped_outside_math_only():
    rec = Record(type="article-journal", key="k", title="R&D at 50% for #1 in a_b with $x_1 & y$")
    out = write([rec])
    assert "{R\\&D} at 50\\% for \\#1 in a\\_b with $x_1 & y$" in out


def test_unicode_by_default_and_accent_commands_with_ascii():
    rec = Record(type="article-journal", key="k", title="Café", authors=[Name("Müller", "Jörg")])
    assert "Müller, Jörg" in write([rec])
    out = write([rec], ascii=True)
    assert out.isascii()
    assert 'M{\\"u}ller, J{\\"o}rg' in out and "Caf{\\'e}" in out


# --------------------------------------------------------------------------
# Round trips as properties

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéüßøñç", min_size=1, max_size=8)
CAP = st.builds(lambda w: w[:1].upper() + w[1:], WORD)
PUNCT = st.sampled_from(
    ["&", "%", "#", "_", ":", ",", "?", "-", "'", "(", ")", "“x”", "—", "~", "^"]
)
TOKEN = st.one_of(
    WORD,
    CAP,
    PUNCT,
    st.builds(lambda w: "{" + w.upper() + "}", WORD),
    st.sampled_from(
        ["$x^2$", "$\\alpha$", "\\emph{word}", "\\textbf{B}", "\\{", "\\}", "\\$", "--"]
    ),
)
MARKUP = st.lists(TOKEN, min_size=1, max_size=8).map(" ".join)
NAME = st.one_of(
    st.builds(lambda f, g: Name(family=f, given=g), CAP, CAP),
    st.builds(
        lambda f, g, p: Name(family=f, given=g, particle=p),
        CAP,
        CAP,
        st.sampled_from(["van", "de la", "von"]),
    ),
    st.builds(lambda f, g: Name(family=f, given=g, suffix="Jr."), CAP, CAP),
    st.builds(lambda f: Name(literal=f + " and Co"), CAP),
)
PLAIN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)


@st.composite
def records(draw) -> Record:
    kind = draw(
        st.sampled_from(
            [
                "article-journal",
                "paper-conference",
                "book",
                "chapter",
                "thesis",
                "report",
                "article",
            ]
        )
    )
    rec = Record(
        type=kind,
        title=draw(MARKUP),
        authors=draw(st.lists(NAME, max_size=4)),
        authors_truncated=draw(st.booleans()),
        issued=draw(
            st.one_of(
                st.builds(PartialDate, st.integers(1000, 2100)),
                st.builds(
                    PartialDate, st.integers(1000, 2100), st.integers(1, 12), st.integers(1, 28)
                ),
            )
        ),
        volume=draw(st.one_of(st.just(""), PLAIN)),
        pages=draw(st.sampled_from(["", "12-34", "e1234", "S12-S15"])),
        doi=draw(st.one_of(st.just(""), PLAIN.map(lambda s: "10.1000/" + s))),
        url=draw(
            st.one_of(st.just(""), PLAIN.map(lambda s: "https://example.org/" + s + "_x%20y"))
        ),
        abstract=draw(st.one_of(st.just(""), MARKUP)),
        note=draw(st.one_of(st.just(""), MARKUP)),
        keywords=draw(st.lists(WORD, max_size=3, unique=True)),
        code_links=[
            CodeLink(u, "code")
            for u in draw(
                st.lists(PLAIN.map(lambda s: "https://github.com/o/" + s), max_size=2, unique=True)
            )
        ],
    )
    if rec.code_links and draw(st.booleans()):
        first = rec.code_links[0]
        first.stars = draw(st.integers(0, 10**6))
        first.license = draw(st.sampled_from(["", "MIT", "Apache-2.0"]))
        first.description = draw(st.text(alphabet="ab &%_{}$\\é", max_size=12)).strip()
        first.description = " ".join(first.description.split())
        first.archived = draw(st.sampled_from([None, True, False]))
        first.pushed = draw(st.sampled_from(["", "2024-05-01"]))
    if kind in ("article-journal", "paper-conference", "chapter"):
        rec.container_title = draw(MARKUP)
    if kind == "article-journal":
        rec.issue = draw(st.one_of(st.just(""), PLAIN))
    elif kind in ("book", "chapter", "paper-conference"):
        rec.collection_number = draw(st.one_of(st.just(""), PLAIN))
    elif kind == "report":
        rec.number = draw(st.one_of(st.just(""), PLAIN))
    if kind in ("book", "chapter", "report"):
        rec.publisher = draw(MARKUP)
    if kind in ("thesis", "report"):
        rec.institution = draw(MARKUP)
    if kind == "article":
        rec.arxiv_id = draw(st.sampled_from(["2204.12345", "hep-th/9901001", "1706.03762"]))
        rec.arxiv_version = draw(st.sampled_from([None, 1, 3]))
        rec.arxiv_primary_class = "cs.CL"
        rec.arxiv_categories = ["cs.CL"]
        rec.journal_ref = draw(st.sampled_from(["", "ACL 2022, pp. 1-10"]))
        rec.arxiv_comment = draw(st.one_of(st.just(""), MARKUP))
        rec.pdf_url = "https://arxiv.org/pdf/" + rec.arxiv_id
    return rec


CARRIED = (
    "type",
    "authors",
    "authors_truncated",
    "issued",
    "container_title",
    "volume",
    "issue",
    "number",
    "collection_number",
    "pages",
    "publisher",
    "institution",
    "doi",
    "url",
    "arxiv_id",
    "arxiv_version",
    "arxiv_primary_class",
    "abstract",
    "note",
    "keywords",
    "code_links",
    "journal_ref",
    "arxiv_comment",
    "pdf_url",
)


@pytest.mark.slow
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(records(), st.sampled_from(["bibtex", "biblatex"]), st.booleans())
def test_record_to_bibtex_to_record_keeps_every_field(rec, dialect, ascii_only):
    rec.key = "k"
    text = bibtex.write([rec], WriteOptions(dialect=dialect, ascii=ascii_only)).text
    back = one(text)
    for name in CARRIED:
        assert getattr(back, name) == getattr(rec, name), name
    assert back.title == protect_case(rec.title)
    assert back.key == "k"


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_bibtex_output_is_a_fixpoint(rec):
    rec.key = "k"
    first = bibtex.write([rec], WriteOptions()).text
    second = bibtex.write(read(first).records, WriteOptions()).text
    assert first == second


@settings(max_examples=200)
@given(st.text(alphabet='@{}()",=#%\\ \nabcdeAZ09', max_size=300))
def test_reader_never_raises(text):
    result = read(text)
    assert len(result.records) <= result.detected


def test_written_keys_fields_and_values_stay_balanced():
    rec = preprint(title="Unbalanced \\{ brace and \\$ sign", note="back\\\\slash")
    out = write([rec])
    for line in (ln for ln in out.splitlines() if ln.startswith("  ")):
        depth = 0
        for ch in re.sub(r"\\.", "", line):
            depth += (ch == "{") - (ch == "}")
            assert depth >= 0
        assert depth == 0, line
    assert one(out).title == protect_case(rec.title)


def test_a_macro_takes_effect_where_its_string_stands() -> None:
    # As in BibTeX: a use before the @string is undefined, a redefinition
    # changes only the entries after it.
    text = (
        "@article{early, title={A}, journal=jn}\n"
        "@string{jn = {First Journal}}\n"
        "@article{mid, title={B}, journal=jn}\n"
        "@string{jn = {Second Journal}}\n"
        "@article{late, title={C}, journal=jn}\n"
    )
    result = bibtex.read(text, ReadOptions(source="m.bib"))
    journals = {r.key: r.container_title for r in result.records}
    assert journals == {"early": "jn", "mid": "First Journal", "late": "Second Journal"}
    undefined = [d for d in result.diagnostics if "undefined macro 'jn'" in d.message]
    assert [(d.line, d.key) for d in undefined] == [(1, "early")]
