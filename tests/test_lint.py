"""Lint: one test (or more) per check, the safe fixes, hostile inputs, and every shared fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bibtools.diagnostics import BibtoolsError, Level, UsageError
from bibtools.files import decode
from bibtools.formats import ReadOptions, bibtex
from bibtools.lint import (
    CHECKS,
    Source,
    lint,
    lint_records,
    lint_text,
    render_json,
    render_text,
    unescaped_chars,
)
from bibtools.model import Name, PartialDate, Record

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
BIB_FILES = sorted((FIXTURES / "bibtex").rglob("*.bib"))
SHARED = sorted(
    p for d in ("bibtex", "ris", "csl", "listing") for p in (FIXTURES / d).rglob("*") if p.is_file()
)


def entry(**changes: str | None) -> str:
    """A complete, clean article with fields replaced (a value), added, or removed (None):
    checks are tested by breaking one thing at a time."""
    fields = {
        "author": "{Smith, Ann and Jones, Bob}",
        "title": "{A Clean Title about {BERT}}",
        "journal": "{Journal of Things}",
        "volume": "{3}",
        "pages": "{12--34}",
        "year": "{2019}",
        "doi": "{10.1000/xyz}",
    }
    etype = changes.pop("type", None) or "article"
    key = changes.pop("key", None) or "clean"
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    body = ",\n".join(f"  {name} = {value}" for name, value in fields.items())
    return f"@{etype}{{{key},\n{body},\n}}\n"


def codes(text: str, **kwargs) -> list[str]:
    return [f.code for f in lint_text(text, "t.bib", **kwargs).findings]


def only(text: str, code: str):
    findings = [f for f in lint_text(text, "t.bib").findings if f.code == code]
    assert len(findings) == 1, [str(f) for f in lint_text(text, "t.bib").findings]
    return findings[0]


def fixed(text: str, **kwargs) -> str:
    result = lint_text(text, "t.bib", fix=True, **kwargs)
    return result.fixed.get("t.bib", text)


def test_the_clean_entry_is_clean():
    result = lint_text(entry(), "t.bib", fix=True)
    assert result.findings == [] and result.fixed == {} and result.exit_code == 0
    assert (
        result.summary() == "1 records in 1 file: 0 errors, 0 warnings; 0 fixed, 0 left (0 errors)"
    )


# --------------------------------------------------------------------------
# Raw-value checks and their fixes


def test_unescaped_characters_in_a_printed_field_are_an_error():
    text = entry(title="{R&D on 50% of C# and snake_case}")
    finding = only(text, "unescaped-char")
    assert finding.level is Level.ERROR and finding.line == 3 and finding.key == "clean"
    assert "unescaped # % & _" in finding.message
    assert "title = {{R\\&D} on 50\\% of C\\# and snake\\_case}" in fixed(text)


@pytest.mark.parametrize(
    "value",
    [
        r"{Already \& escaped \% \# \_}",
        r"{Math $a_b$ and \(c_d\) and \[e_f\]}",
        r"{See \url{http://x.org/a_b?c=1&d=2#e} and \href{http://y_z}{text}}",
        r"{A \cite{key_with_underscore} and \ref{fig_1}}",
        r"{\verb|a_b|}",
    ],
)
def test_escaped_math_and_url_characters_are_fine(value):
    assert "unescaped-char" not in codes(entry(title=value))


def test_unescaped_characters_outside_printed_fields():
    abstract = only(entry(abstract="{Improves by 50%}"), "unescaped-char")
    assert abstract.level is Level.WARNING and abstract.fix is not None  # LaTeX may print it
    unknown = only(entry(mynote="{a & b}"), "unescaped-char")
    assert unknown.level is Level.WARNING and unknown.fix is None  # not lint's to change
    for name in ("url", "doi", "file", "sorttitle", "keywords", "urldate", "biburl"):
        assert "unescaped-char" not in codes(entry(**{name: "{a_b&c%d#e}"})), name


def test_unescaped_character_positions():
    assert unescaped_chars(r"a & b \& $c_d$ e_f \url{g_h} 100%") == [2, 16, 32]


def test_unprotected_acronyms_are_protected():
    text = entry(title="{BERT and LoRA: Pre-training of GPT-3 for {SQuAD}}")
    finding = only(text, "unprotected-acronym")
    assert finding.level is Level.WARNING
    assert "BERT, LoRA, GPT-3" in finding.message
    assert "title = {{BERT} and {LoRA}: Pre-training of {GPT-3} for {SQuAD}}" in fixed(text)
    assert "unprotected-acronym" not in codes(entry(title="{{Fully Protected TITLE}}"))
    assert "unprotected-acronym" not in codes(entry(booktitle="{Proceedings of ACL}"))


def test_acronyms_in_a_value_built_with_macros_are_reported_not_fixed():
    text = '@string{pre = "BERT "}\n' + entry(title='pre # "explained"')
    finding = only(text, "unprotected-acronym")
    assert finding.fix is None
    assert fixed(text) == text


def test_fixes_of_one_field_compose():
    text = entry(title="{BERT & GPT: 100% of NLP}")
    result = lint_text(text, "t.bib", fix=True)
    assert [c.source for c in result.changes] == ["lint:unprotected-acronym", "lint:unescaped-char"]
    assert result.changes[0].new == result.changes[1].old  # the second fix saw the first's result
    assert "title = {{BERT} \\& {GPT}: 100\\% of {NLP}}" in result.fixed["t.bib"]
    assert result.remaining == []


def test_et_al_in_an_author_list():
    text = entry(author="{Vaswani, Ashish and Shazeer, Noam et al.}")
    finding = only(text, "et-al")
    assert (
        finding.fix is not None
        and finding.fix.new == "{Vaswani, Ashish and Shazeer, Noam and others}"
    )
    result = lint_text(text, "t.bib", fix=True)
    assert [f.code for f in result.remaining] == ["truncated-authors"]  # cut short, still
    assert only(entry(author="{A. Smith et al. and B. Jones}"), "et-al").fix is None


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        ("{12-34}", "{12--34}"),
        ('"12 - 34"', '"12--34"'),
        ("{12\u201334}", "{12--34}"),
        ("{12---34}", "{12--34}"),
        ("{pp. 12-34}", "{12--34}"),
        ("{p. 7}", "{7}"),
        ("{1-3, 5-7}", "{1--3, 5--7}"),
        ("{S12-S34}", "{S12--S34}"),
    ],
)
def test_page_dashes_are_normalised(pages, expected):
    text = entry(pages=pages)
    assert only(text, "page-dash").fix is not None
    assert f"pages = {expected}" in fixed(text)


@pytest.mark.parametrize("pages", ["{12--34}", "{e1234}", "{xviii}", "{12}", "{579 ff.}", "12"])
def test_good_pages_are_left_alone(pages):
    found = codes(entry(pages=pages))
    assert "page-dash" not in found and "malformed-pages" not in found


@pytest.mark.parametrize("pages", ["{Description}", "{34--12}", "{n/a}"])
def test_malformed_pages(pages):
    assert only(entry(pages=pages), "malformed-pages").level is Level.WARNING


@pytest.mark.parametrize(
    ("doi", "expected"),
    [
        ("{https://doi.org/10.1000/XYZ}", "{10.1000/XYZ}"),
        ("{http://dx.doi.org/10.1000/xyz}", "{10.1000/xyz}"),
        ("{http://doi.acm.org/10.1145/1137627.1137631}", "{10.1145/1137627.1137631}"),
        ("{doi:10.1000/xyz}", "{10.1000/xyz}"),
        ("{10.1000/a\\_b}", "{10.1000/a_b}"),
    ],
)
def test_doi_prefixes_are_removed(doi, expected):
    text = entry(doi=doi)
    assert only(text, "doi-format").fix is not None
    assert f"doi = {expected}" in fixed(text)


@pytest.mark.parametrize("doi", ["{11.2/x}", "{10.1000/a b}", "{not a doi}", "{10.12/x}"])
def test_malformed_dois_are_errors(doi):
    finding = only(entry(doi=doi), "malformed-doi")
    assert finding.level is Level.ERROR and finding.fix is None


def test_fix_changes_only_the_values_it_fixes():
    text = (
        "% my comments stay\n"
        "@string{jt = {Journal of Things}}\n\n"
        "@Article{ weird ,\n"
        "     TITLE={BERT},   Author = {Smith, Ann},\n"
        '\tjournal = jt, year=2019, pages ="1-2", doi={10.1/x}}\n'
        "trailing text\r\n"
    )
    out = fixed(text)
    assert out == text.replace("{BERT}", "{{BERT}}").replace('"1-2"', '"1--2"')
    again = lint_text(out, "t.bib", fix=True)
    assert again.fixed == {} and all(f.fix is None for f in again.findings)


def test_ignored_checks_are_neither_reported_nor_fixed():
    text = entry(title="{BERT & co}")
    result = lint_text(text, "t.bib", fix=True, ignore=["unprotected-acronym"])
    assert [f.code for f in result.findings] == ["unescaped-char"]
    assert "title = {BERT \\& co}" in result.fixed["t.bib"]
    assert codes(text, select=["unprotected-acronym"]) == ["unprotected-acronym"]
    with pytest.raises(UsageError):
        lint_text(text, ignore=["no-such-check"])


# --------------------------------------------------------------------------
# Record checks


def test_parse_errors_and_reader_warnings():
    assert codes("@article{a, title = {unclosed, year = 2020}\n") == ["parse-error"]
    dup = only(entry(title="{A}", note="{x}").replace("note", "title"), "read-warning")
    assert "given twice" in dup.message


def test_truncated_author_lists():
    finding = only(entry(author="{Smith, Ann and others}"), "truncated-authors")
    assert "after 1 name" in finding.message and finding.fix is None


def test_published_preprints():
    preprint = entry(
        type="misc",
        key="p",
        journal=None,
        volume=None,
        pages=None,
        doi=None,
        eprint="{1810.04805}",
        archiveprefix="{arXiv}",
        journal_ref="{NAACL-HLT 2019}",
    )
    assert "NAACL-HLT 2019" in only(preprint, "published-preprint").message
    with_doi = preprint.replace("journal_ref = {NAACL-HLT 2019}", "doi = {10.18653/v1/N19-1423}")
    assert "10.18653" in only(with_doi, "published-preprint").message
    arxiv_doi = preprint.replace(
        "journal_ref = {NAACL-HLT 2019}", "doi = {10.48550/arXiv.1810.04805}"
    )
    assert "published-preprint" not in codes(arxiv_doi)
    google = entry(journal="{arXiv preprint arXiv:1810.04805}", doi="{10.18653/v1/N19-1423}")
    assert "published-preprint" in codes(google)


def test_missing_doi_where_one_is_likely():
    assert only(entry(doi=None), "missing-doi").level is Level.WARNING
    assert "missing-doi" not in codes(entry(doi=None, year="{1999}"))
    assert "missing-doi" not in codes(entry(doi=None, journal="{CoRR}"))
    assert "missing-doi" not in codes(entry(type="book", doi=None, publisher="{P}", journal=None))


def test_missing_required_fields():
    finding = only(entry(journal=None), "missing-field")
    assert finding.level is Level.ERROR and finding.message == "@article needs journal"
    book = codes(entry(type="book", journal=None, author=None))
    assert book.count("missing-field") == 2  # author or editor; publisher
    assert "missing-field" not in codes(entry(type="misc", journal=None, author=None, year=None))
    assert "missing-field" not in codes(
        entry(journal=None, journaltitle="{J}", year=None, date="{2020}")
    )


def test_crossref_parents_supply_required_fields():
    text = (
        "@inproceedings{child, author = {Smith, Ann}, title = {A Paper}, crossref = {proc}}\n"
        "@proceedings{proc, title = {Proceedings of Things}, year = {2020}}\n"
    )
    assert "missing-field" not in codes(text)
    assert (
        codes(text.replace("crossref = {proc}", "crossref = {nothing}")).count("missing-field") == 2
    )


@pytest.mark.parametrize("key", ["", "has space", "a,b"])
def test_invalid_keys(key):
    text = f"@misc{{{key}, title = {{T}}}}\n" if "," not in key else "@misc{a{b, title = {T}}\n"
    assert "invalid-key" in codes(text) or "parse-error" in codes(text)


def test_duplicate_keys_across_inputs():
    a = Source.from_text(entry(key="Smith2019"), "a.bib")
    b = Source.from_text(
        entry(key="smith2019", title="{Another Paper}", doi="{10.1/other}"), "b.bib"
    )
    result = lint([a, b])
    finding = next(f for f in result.findings if f.code == "duplicate-key")
    assert (finding.file, finding.key, finding.level) == ("b.bib", "smith2019", Level.ERROR)
    assert "a.bib:1" in finding.message
    assert result.exit_code == 1


def test_duplicate_entries_use_the_merge_rules():
    text = entry() + entry(key="other", doi="{https://doi.org/10.1000/XYZ}")
    finding = only(text, "duplicate-entry")
    assert finding.key == "other" and "same DOI 10.1000/xyz" in finding.message
    decoy = entry() + entry(key="decoy", title="{A Clean Title about {BERT} Revisited}", doi=None)
    assert "duplicate-entry" not in codes(decoy)


def test_identifier_conflicts_are_reported():
    text = entry() + entry(key="chapter", title="{Something Else Entirely}")
    assert only(text, "shared-identifier").key == "chapter"
    chain = (
        entry(key="conf", doi="{10.1000/conf}")
        + entry(key="pre", doi=None, journal="{arXiv preprint}")
        + entry(key="jour", doi="{10.1000/jour}", year="{2020}")
    )
    assert only(chain, "ambiguous-duplicates").level is Level.WARNING


def test_venue_spellings():
    text = (
        entry(key="a", journal="{Journal of Things}")
        + entry(key="b", journal="{Journal of Things}", title="{B}", doi="{10.1/b}")
        + entry(key="c", journal="{journal of the things}", title="{C}", doi="{10.1/c}")
        + entry(key="d", journal="{J. Other}", title="{D}", doi="{10.1/d}")
    )
    finding = only(text, "venue-spelling")
    assert finding.key == "c" and "'Journal of Things' in a" in finding.message


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"year": "{in press}"}, True),
        ({"month": "{Smarch}"}, True),
        ({"day": "{32}", "month": "jan"}, True),
        ({"date": "{2020-13-45}", "year": None}, True),
        ({"month": "{Jul/Aug}"}, False),
        ({"month": "{Fall}"}, False),
        ({"month": "sep"}, False),
        ({"date": "{2019/2020}", "year": None}, False),
    ],
)
def test_malformed_dates(fields, bad):
    assert ("malformed-date" in codes(entry(**fields))) is bad


# --------------------------------------------------------------------------
# Records from anywhere, several sources, output


def test_records_of_other_formats():
    listing = Record(
        type="article",
        title="Attention Is All You Need",
        authors=[Name("Vaswani", "Ashish")],
        authors_truncated=True,
        issued=PartialDate(2017),
    )
    ris = Record(
        type="article-journal",
        key="r1",
        title="SOME TITLE",
        container_title="J",
        issued=PartialDate(2019),
        doi="https://doi.org/10.1000/x",
        authors=[Name("Smith", "A")],
    )
    result = lint_records([listing, ris], "mixed")
    assert [(f.key, f.code) for f in result.findings] == [
        ("#1", "truncated-authors"),
        ("r1", "doi-format"),
    ]
    assert all(f.fix is None for f in result.findings)


def test_records_read_from_bibtex_without_their_text():
    records = bibtex.read(entry(title="{About BERT}"), ReadOptions(source="t.bib")).records
    assert [f.code for f in lint_records(records).findings] == ["unprotected-acronym"]


def test_text_and_json_output():
    text = entry(title="{BERT & co}", journal=None)
    result = lint_text(text, "t.bib")
    lines = render_text(result).splitlines()
    assert lines[0] == (
        "t.bib:3: warning: clean: title: BERT would be lowercased by styles that change the "
        "case of titles; protect with braces [unprotected-acronym] (fixable)"
    )
    assert lines[-1] == "1 records in 1 file: 2 errors, 1 warning; 2 fixable with --fix"
    data = json.loads(render_json(result))
    assert data["summary"]["by_code"] == {
        "unescaped-char": 1,
        "unprotected-acronym": 1,
        "missing-field": 1,
    }
    assert data["findings"][0]["fix"]["field"] == "title"
    assert result.exit_code == 1
    fixed_result = lint_text(text, "t.bib", fix=True)
    assert fixed_result.exit_code == 1  # the missing journal cannot be fixed
    assert [f.code for f in fixed_result.remaining] == ["missing-field"]
    fixed_lines = render_text(fixed_result).splitlines()
    assert fixed_lines[0] == (
        "fixed clean: title: {BERT & co} -> {{BERT} & co} (unprotected-acronym)"
    )
    assert fixed_lines[2] == "t.bib:1: error: clean: @article needs journal [missing-field]"
    assert fixed_lines[-1].endswith("2 fixed, 1 left (1 errors)")
    assert lint_text(entry(doi=None), "t.bib").exit_code == 0  # warnings only


def test_every_check_is_documented():
    import bibtools.lint as module

    assert module.__doc__ is not None
    for code in CHECKS:
        assert code in module.__doc__


def test_pre_commit_hooks_run_lint_on_bibtex_files():
    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load((HERE.parent / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert {h["id"]: h["entry"] for h in hooks} == {
        "bibtools-lint": "bibtools lint",
        "bibtools-lint-fix": "bibtools lint --fix",
    }
    import re

    for hook in hooks:
        assert hook["language"] == "python" and hook["require_serial"] is True
        assert re.search(hook["files"], "refs/thesis.bib") and not re.search(hook["files"], "a.tex")


def test_source_from_file(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_bytes(entry(title="{Caf\xe9 BERT}").encode("cp1252"))
    source = Source.from_file(str(path))
    assert source.format == "bibtex" and source.encoding != "utf-8"
    result = lint([source], fix=True)
    assert "{{BERT}}" not in result.fixed[str(path)] and "{Café {BERT}}" in result.fixed[str(path)]


# --------------------------------------------------------------------------
# Hostile inputs and the shared fixtures

HOSTILE = {
    "deep braces": "@article{a, title = {" + "{" * 5000 + "BERT" + "}" * 5000 + "}}",
    "unbalanced": "@article{a, title = {BERT {x}, year = 2020}\n@article{b, title={ok}}",
    "only an at": "@",
    "open entry": "@article{",
    "nul bytes": "@article{a, title = {A\x00B & C}}",
    "trailing backslash": "@article{a, title = {ends with \\}}",
    "crlf": "@article{a,\r\n  title = {BERT & co},\r\n  pages = {1-2}\r\n}\r\n",
    "byte order mark": "\ufeff@article{a, title = {BERT}, pages={1-2}}",
    "macro cycle": "@string{a = b # c}\n@string{b = a}\n@article{x, title = a # {BERT}}",
    "parentheses": "@article(x, title = {BERT & co} )",
    "quotes and hashes": '@article{x, title = "C# and " # "F#", pages = "1 - 2"}',
    "garbage": "}}}{{{@@@ @x{ ,,,= }",
    "unclosed math": "@article{x, title = {$a_b$ and $unclosed_}}",
    "two on a line": "@article{a, title={BERT}} @article{a, title={GPT & co}}",
    "same text earlier": "@misc{x, note = {see @article{a, title={BERT}}}}\n@article{a, title={BERT}}",
    "huge": "@article{a, title = {" + "BERT & x " * 20000 + "}}",
    "unicode digits": "@article{a, pages = {\u00b2-\u00b9}, month = {\u0663}, year = {\u0662\u0660}}",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_inputs(name):
    text = HOSTILE[name]
    result = lint_text(text, "h.bib", fix=True)
    assert all(f.code in CHECKS for f in result.findings)
    assert all(f.fix is None for f in result.remaining)
    out = result.fixed.get("h.bib", text)
    assert lint_text(out, "h.bib", fix=True).fixed == {}


def test_fixing_a_value_whose_text_also_appears_earlier():
    out = fixed(HOSTILE["same text earlier"])
    assert out == "@misc{x, note = {see @article{a, title={BERT}}}}\n@article{a, title={{BERT}}}"


def test_a_percent_sign_does_not_comment_out_an_entry():
    # BibTeX has no comments: "%" before an entry does not hide it, so it is linted and fixed.
    out = fixed("% @article{a, title={BERT}}\n")
    assert out == "% @article{a, title={{BERT}}}\n"


_BIBTEX_ISH = st.text(
    alphabet=st.sampled_from(list('@{}()",=#%&_$\\ \nabBE-RT12pges')), max_size=120
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_BIBTEX_ISH)
def test_lint_never_crashes_and_its_fixes_converge(text):
    result = lint_text(text, "h.bib", fix=True)
    out = result.fixed.get("h.bib", text)
    assert all(f.fix is None for f in lint_text(out, "h.bib").findings)


@settings(max_examples=100)
@given(
    st.lists(
        st.sampled_from(
            ["BERT", "&", "%", "_", "#", "$x_y$", "{GPT}", "and", "\\&", "12-34", "LoRA"]
        ),
        max_size=10,
    )
)
def test_fixed_titles_pass_their_own_lint(words):
    text = entry(title="{" + " ".join(words) + "}")
    result = lint_text(text, "t.bib", fix=True)
    assert result.remaining == lint_text(result.fixed.get("t.bib", text), "t.bib").findings
    assert not {"unescaped-char", "unprotected-acronym"} & {f.code for f in result.remaining}


def _read(path: Path) -> str | None:
    try:
        return decode(path.read_bytes(), path.name)[0]
    except BibtoolsError:  # the UTF-16 fixtures without a BOM: refused, not guessed
        return None


@pytest.mark.parametrize("path", BIB_FILES, ids=lambda p: p.name)
def test_fix_output_passes_its_own_lint_on_every_bibtex_fixture(path):
    text = _read(path)
    if text is None:
        pytest.skip("undecodable by design")
    result = lint_text(text, path.name, fix=True)
    out = result.fixed.get(path.name, text)
    again = lint_text(out, path.name, fix=True)
    assert again.fixed == {}, [str(f) for f in again.findings if f.fix]
    assert again.findings == result.remaining
    unfixable = {(f.code, f.key) for f in result.findings if f.level is Level.ERROR and not f.fix}
    assert {(f.code, f.key) for f in again.errors} <= unfixable
    before = bibtex.read(text, ReadOptions(source=path.name))
    after = bibtex.read(out, ReadOptions(source=path.name))
    assert len(after.records) == len(before.records)
    assert [r.key for r in after.records] == [r.key for r in before.records]


@pytest.mark.slow
def test_lint_runs_on_every_shared_fixture():
    linted = refused = 0
    by_code: dict[str, int] = {}
    for path in SHARED:
        try:
            source = Source.from_file(str(path))
        except BibtoolsError:  # not a bibliography, or undecodable: a clear error, no crash
            refused += 1
            continue
        result = lint([source], fix=True)
        linted += 1
        for code, n in result.counts().items():
            by_code[code] = by_code.get(code, 0) + n
    assert linted >= 300 and refused <= 5
    for code in (
        "unprotected-acronym",
        "unescaped-char",
        "page-dash",
        "duplicate-entry",
        "missing-field",
    ):
        assert by_code.get(code, 0) > 0, code
