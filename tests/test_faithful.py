"""Faithful by default: BibTeX -> BibTeX keeps what the source wrote (issue 12).

Each class of harm seen on real files has a test on a real file from
``tests/fixtures/bibtex`` (TeX Live, pybtex, bibtexparser, citation-js...).
What bibtex itself prints from these files is checked in test_consumers.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bibtools.cli import main
from bibtools.convert import read_inputs, write
from bibtools.files import decode
from bibtools.formats import ReadOptions, WriteOptions, bibtex
from bibtools.formats.bibtex_split import EntryBlock, split
from bibtools.model import Name, Record
from bibtools.text.keys import base_key, new_keys

FIXTURES = Path(__file__).parent / "fixtures" / "bibtex"
BIB_FILES = sorted(FIXTURES.rglob("*.bib"))
TEXLIVE = FIXTURES / "texlive"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def convert(*paths: Path, **options: object) -> str:
    result = read_inputs([str(p) for p in paths])
    return write(result.records, "bibtex", result.write_options(**options)).text


def entries(text: str) -> dict[str, EntryBlock]:
    return {b.key: b for b in split(text) if isinstance(b, EntryBlock)}


# --------------------------------------------------------------------------
# The rule, over every real file: each field as the source wrote it


def _unbalanced_for_bibtex(raw: str) -> bool:
    depth = 0
    for ch in raw:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return True
    return depth != 0


@pytest.mark.parametrize("path", BIB_FILES, ids=lambda p: p.name)
def test_every_field_of_every_real_file_is_written_as_the_source_wrote_it(path):
    text, _ = decode(path.read_bytes(), path.name)
    result = bibtex.read(text, ReadOptions(source=path.name))
    out = write(result.records, "bibtex", WriteOptions(blocks=result.blocks)).text
    written = bibtex.read(out, ReadOptions()).records
    assert len(written) == len(result.records)
    for rec, again in zip(result.records, written, strict=True):
        assert rec.source is not None and again.source is not None
        assert again.source.key == rec.source.key  # empty ones too
        assert again.source.entry_type == rec.source.entry_type
        got = {name.lower(): raw for name, raw in again.source.fields}
        for name, raw in rec.source.fields:
            if ("\\{" in raw or "\\}" in raw) and _unbalanced_for_bibtex(raw):
                continue  # bibtexparser's splitter and BibTeX disagree: re-encoded
            assert got.get(name.lower()) == raw, (rec.key, name)


def test_text_between_entries_stays_where_it_was():
    out = convert(TEXLIVE / "xampl.bib")
    assert out.startswith("% Copyright (C) 1988, 2010 Oren Patashnik.")
    before = out.index("The KEY field is here to override")
    assert out.index("@article{article-minimal,") < before < out.index("@inbook{")


def test_a_changed_slot_rewrites_only_its_own_field_in_place():
    text = (TEXLIVE / "xampl.bib").read_text(encoding="utf-8")
    result = bibtex.read(text, ReadOptions(source="xampl.bib"))
    rec = next(r for r in result.records if r.key == "article-full")
    rec.doi = "10.1000/xyz"
    rec.pages = "73-85"
    out = entries(bibtex.write([rec], WriteOptions()).text)["article-full"]
    fields = {n: v for n, v, _ in out.fields}
    assert fields["pages"] == "{73--85}" and fields["doi"] == "{10.1000/xyz}"
    # Everything else as written, month macro and all, in the source's order.
    source = dict(rec.source.fields)
    for name, raw in source.items():
        if name.lower() != "pages":
            assert fields[name.lower()] == raw
    names = [n for n, _, _ in out.fields]
    assert names[: len(source)] == [n.lower() for n in source]
    assert names[-1] == "doi"


# --------------------------------------------------------------------------
# Class 1: LaTeX the decoder does not know


def test_unknown_latex_and_noopsort_survive_a_round_trip():
    out = convert(TEXLIVE / "xampl.bib")
    assert "@preamble{" in out and "\\newcommand{\\noopsort}" in out
    assert "{\\noopsort{1973c}}1981" in out
    text = "@misc{k, author = {{\\relax Yu}, Dante{\\space}Alighieri}, title = {The \\LaTeX\\-pedia \\mbox{of} \\noop{h}X}}"
    result = bibtex.read(text, ReadOptions())
    out = bibtex.write(result.records, WriteOptions()).text
    assert "{{\\relax Yu}, Dante{\\space}Alighieri}" in out
    assert "{The \\LaTeX\\-pedia \\mbox{of} \\noop{h}X}" in out


# --------------------------------------------------------------------------
# Class 2: values the author chose


def test_months_keep_the_form_the_author_wrote():
    forms = ['"Spring"', "{2}", '"jan"', '"8~" # jul', '"may 14"', '"2 sep"', "{December}", "jun"]
    text = "\n".join(
        f"@misc{{k{i}, title={{T}}, year=2000, month={m}}}" for i, m in enumerate(forms)
    )
    result = bibtex.read(text, ReadOptions())
    out = entries(bibtex.write(result.records, WriteOptions()).text)
    assert [
        dict((n, v) for n, v, _ in out[f"k{i}"].fields)["month"] for i in range(len(forms))
    ] == forms


def test_titles_are_not_given_braces_and_howpublished_url_stays():
    text = "@misc{k, title = {BERT and LoRA}, howpublished = {\\url{https://x.org/a_b}}}"
    out = bibtex.write(bibtex.read(text, ReadOptions()).records, WriteOptions()).text
    assert "title        = {BERT and LoRA}," in out
    assert "howpublished = {\\url{https://x.org/a_b}}," in out
    assert "url " not in out


def test_unknown_types_keep_journal():
    text = "@map{k, title = {Atlas}, journal = {J}, year = 1990}"
    out = bibtex.write(bibtex.read(text, ReadOptions()).records, WriteOptions()).text
    assert out.startswith("@map{k,") and "journal = {J}" in out and "booktitle" not in out


def test_percent_comments_inside_entries_are_read_as_biber_reads_them():
    result = read_inputs([str(TEXLIVE / "biblatex-iso690-examples.bib")])
    assert not result.diagnostics.errors
    recs = {r.key: r for r in result.records}
    assert recs["dewachter2006macro"].issn == "0022-2879, 1538-4616"
    assert recs["macbeth1948welles"].publisher == "Republic Pictures"
    assert any("read as comments" in d.message for d in result.diagnostics)
    out = write(result.records, "bibtex", result.write_options()).text
    assert "% ISSN (ISSN-L), e-ISSN" not in out
    assert "  issn      = {0022-2879, 1538-4616}," in out


# --------------------------------------------------------------------------
# Class 3: entry types the reader does not know


@pytest.mark.parametrize(
    ("path", "key", "etype"),
    [
        ("pybtex/pybtex_IEEEtran.bib", "IEEEexample:BSTcontrol", "ieeetranbstctl"),
        ("texlive/jbtest.bib", "erm", "commented"),
        ("texlive/jurabib-comment.bib", "palandt", "commented"),
        ("texlive/IEEEexample.bib", "IEEEexample:BSTcontrol", "ieeetranbstctl"),
    ],
)
def test_unknown_entry_types_are_kept(path, key, etype):
    out = entries(convert(FIXTURES / path))
    assert out[key].entry_type == etype


def test_jurabib_commented_entries_are_entries_not_comments():
    result = read_inputs([str(TEXLIVE / "jurabib-comment.bib")])
    assert {r.key for r in result.records} >= {"erm", "mueko", "palandt", "soergel"}


# --------------------------------------------------------------------------
# Class 4: @string macros of another file


def test_ieee_abbreviations_resolve_across_files_and_stay_macros():
    result = read_inputs([str(TEXLIVE / "IEEEabrv.bib"), str(TEXLIVE / "IEEEexample.bib")])
    assert not [d for d in result.diagnostics if "undefined macro" in d.message]
    edl = next(r for r in result.records if r.key == "IEEEexample:article_typical")
    assert (
        edl.container_title == "{IEEE} Electron Device Lett."
    )  # the macro's value, for other formats
    out = write(result.records, "bibtex", result.write_options()).text
    first_use = re.search(r"^@(?!string|preamble|comment)\w+\{", out, re.M).start()
    assert out.index("@string{IEEE_J_AC") < first_use  # definitions come first
    assert "journal = IEEE_J_EDL," in out or "journal  = IEEE_J_EDL," in out.replace("  ", " ")
    assert "IEEE\\_J\\_" not in out


def test_a_macro_defined_nowhere_stays_a_macro_with_a_warning():
    result = read_inputs([str(TEXLIVE / "IEEEexample.bib")])
    assert any("undefined macro 'IEEE_J_" in d.message for d in result.diagnostics)
    out = write(result.records, "bibtex", result.write_options()).text
    assert re.search(r"journal\s+= IEEE_J_EDL,", out)
    assert "{IEEE_J_EDL}" not in out and "IEEE\\_J" not in out


def test_a_file_of_macros_alone_is_an_input(tmp_path):
    res = run("convert", str(TEXLIVE / "IEEEabrv.bib"), "-t", "bibtex")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.count("@string{") > 200


# --------------------------------------------------------------------------
# Class 5: keys


def test_keys_bibtex_and_biber_accept_are_kept():
    records = [Record(key="O'Sullivan-hale2005"), Record(key="a~b!c"), Record(key="x:y/z")]
    keys, diags = new_keys(records)
    assert keys == ["O'Sullivan-hale2005", "a~b!c", "x:y/z"] and not list(diags)


def test_keys_no_reader_accepts_are_replaced():
    records = [Record(key="a b", authors=[Name("Smith")], title="Title")]
    keys, diags = new_keys(records)
    assert keys == ["smithtitle"] and "invalid" in next(iter(diags)).message


@pytest.mark.parametrize(
    ("family", "particle", "expected"),
    [
        ("O'Sullivan-Hale", "", "osullivanhale2005pixel"),
        ("Berg", "van der", "vanderberg2005pixel"),
        ("d’Alembert", "", "dalembert2005pixel"),
    ],
)
def test_generated_keys_read_well(family, particle, expected):
    from bibtools.model import PartialDate

    rec = Record(
        authors=[Name(family, "C.", particle)], title="Pixel art", issued=PartialDate(2005)
    )
    assert base_key(rec) == expected


def test_a_repeated_key_stays_as_written_in_bibtex_and_is_reported():
    path = FIXTURES / "citationjs" / "citationjs_mapping_biblatex-output.bib"
    result = read_inputs([str(path)])
    written = write(result.records, "bibtex", result.write_options())
    assert any("used before" in d.message for d in written.diagnostics)
    keys = [b.key for b in split(written.text) if isinstance(b, EntryBlock)]
    assert keys == [r.key for r in result.records]  # nothing renamed
    csl = write(result.records, "csljson")
    assert len(set(re.findall(r'"id": "([^"]+)"', csl.text))) == len(result.records)


def test_an_empty_key_stays_empty_in_bibtex_and_gets_one_elsewhere():
    path = FIXTURES / "jabref" / "jabref_LNCS-minimal.bib"
    result = read_inputs([str(path)])
    written = write(result.records, "bibtex", result.write_options())
    assert written.text.startswith("@inproceedings{,")
    assert any("empty citation key kept" in d.message for d in written.diagnostics)
    assert write(result.records, "bibtex", rekey=True).text.startswith("@inproceedings{lastname")
    assert '"id": "lastname' in write(result.records, "csljson").text


def test_writing_does_not_change_the_callers_records():
    records = [Record(title="Attention", authors=[Name("Vaswani")])]
    write(records, "bibtex")
    write(records, "csljson")
    assert records[0].key == ""


# --------------------------------------------------------------------------
# Dialects: kept per entry, mapped when asked


def test_biblatex_entries_keep_their_fields_unless_a_dialect_is_asked_for():
    path = TEXLIVE / "biblatex-examples.bib"
    kept = entries(convert(path))
    assert {n for n, _, _ in kept["aksin"].fields} >= {"journaltitle", "date"}
    mapped = entries(convert(path, dialect="bibtex"))
    names = {n for n, _, _ in mapped["aksin"].fields}
    assert "journal" in names and "year" in names and not names & {"journaltitle", "date"}
    raw = dict((n, v) for n, v, _ in kept["aksin"].fields)
    assert dict((n, v) for n, v, _ in mapped["aksin"].fields)["journal"] == raw["journaltitle"]


def test_ascii_rewrites_only_the_non_ascii_characters_of_raw_values():
    text = '@misc{k, author = {M{\\"u}ller and Gödel}, title = {Über \\emph{Größe}}}'
    out = bibtex.write(bibtex.read(text, ReadOptions()).records, WriteOptions(ascii=True)).text
    assert out.isascii()
    assert 'M{\\"u}ller and G' in out and "\\emph{Gr" in out


# --------------------------------------------------------------------------
# What comes back from elsewhere is escaped and balanced (issue 13, item 2)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", 'https://x/a}}@preamble{"\\input{/etc/hostname}"}@misc{p,note={'),
        ("doi", '10.1/x}}@preamble{"\\input{/etc/hostname}"}'),
        ("note", 'a}}@preamble{"\\input{/etc/hostname}"}@misc{p,note={'),
    ],
)
def test_values_from_other_formats_cannot_close_their_entry(field, value):
    rec = Record(key="k", title="T")
    setattr(rec, field, value)
    out = bibtex.write([rec], WriteOptions()).text
    blocks = list(split(out))
    assert [type(b).__name__ for b in blocks] == ["EntryBlock"]
    assert "@preamble" not in [b for b in out.split() if b.startswith("@preamble")]
    depth = 0
    for ch in out:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0


# --------------------------------------------------------------------------
# Hostile macros (issue 13, item 1)


def test_a_string_bomb_is_refused_with_its_line_and_the_rest_kept():
    lines = ['@string{s1 = "xx"}'] + [
        f"@string{{s{i} = s{i - 1} # s{i - 1}}}" for i in range(2, 41)
    ]
    text = "\n".join(lines) + "\n@misc{bomb, title = s40}\n@misc{fine, title = {Fine}}\n"
    result = bibtex.read(text, ReadOptions(source="bomb.bib"))
    assert [r.key for r in result.records] == ["fine"]
    errors = [str(d) for d in result.diagnostics.errors]
    assert any(e.startswith("bomb.bib:25: error: @string s25") and "limit" in e for e in errors)
    assert any(e.startswith("bomb.bib:41:") and "'s40'" in e for e in errors)
    assert len(errors) == 2  # not one per macro built on the first that overflowed
