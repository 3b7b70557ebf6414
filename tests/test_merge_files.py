"""Merging real files (issue 19): an identical copy is the plainest duplicate.

Properties over every real file in tests/fixtures/bibtex and over generated
files: merge(F, F) == merge(F); merge(F, G) and merge(G, F) form the same
groups; a file without duplicates comes out as convert writes it; no entry
with identical content survives twice; every key that went away is in the key
map.  Plus the blocks (@string, @preamble, @comment), --keep-apart, --dry-run,
and the idempotence of lint --fix and rekey.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bibtools.cli import main
from bibtools.convert import read_inputs, write
from bibtools.dedupe import identity, merge
from bibtools.lint import Source, lint
from bibtools.rekey import load_key_map, rekey_text

FIXTURES = Path(__file__).parent / "fixtures" / "bibtex"
BIB_FILES = sorted(FIXTURES.rglob("*.bib"))


def merged_text(*paths: Path, keep_apart=()) -> tuple[str, object]:
    result = read_inputs([str(p) for p in paths])
    merged = merge(result.records, keep_apart=keep_apart)
    out = write(merged.records, "bibtex", result.write_options())
    return out.text, merged


def keys(records) -> set[str]:
    return {r.key for r in records if r.key}


def readable(path: Path) -> bool:
    try:
        result = read_inputs([str(path)])
    except Exception:
        return False
    return bool(result.records)


READABLE = [p for p in BIB_FILES if readable(p)]


@pytest.mark.parametrize("path", READABLE, ids=lambda p: p.name)
def test_merging_a_file_with_a_copy_of_itself_changes_nothing(path, tmp_path):
    copy = tmp_path / f"copy-{path.name}"
    shutil.copy(path, copy)
    alone, merged_alone = merged_text(path)
    twice, merged_twice = merged_text(path, copy)
    assert twice == alone
    assert len(merged_twice.records) == len(merged_alone.records)
    assert merged_twice.key_map == merged_alone.key_map
    # Every record of the copy went into the record it is a copy of.
    assert all("identical" in g.reasons for g in merged_twice.groups if len(g.members) == 2)


@pytest.mark.parametrize("path", READABLE, ids=lambda p: p.name)
def test_no_identical_entry_survives_twice_and_every_lost_key_is_mapped(path):
    result = read_inputs([str(path)])
    merged = merge(result.records)
    identities = [identity(r.copy(key="")) for r in merged.records]
    assert len(identities) == len(set(identities))
    gone = {r.key for r in result.records if r.key} - keys(merged.records)
    assert gone <= set(merged.key_map)


def test_a_file_without_duplicates_comes_out_as_convert_writes_it():
    checked = 0
    for path in READABLE:
        result = read_inputs([str(path)])
        merged = merge(result.records)
        if merged.groups:
            continue
        converted = write(result.records, "bibtex", result.write_options()).text
        assert write(merged.records, "bibtex", result.write_options()).text == converted, path
        checked += 1
    assert checked > 100


def _groups(merged) -> set[frozenset[str]]:
    return {
        frozenset(
            f"{merged.inputs[i].origin_file}:{merged.inputs[i].origin_line}" for i in g.members
        )
        for g in merged.groups
    }


@pytest.mark.parametrize(
    ("a", "b"),
    list(itertools.islice(itertools.combinations(READABLE[::9], 2), 0, None, 7)),
    ids=lambda p: p.name,
)
def test_merge_groups_do_not_depend_on_the_order_of_the_files(a, b):
    _, ab = merged_text(a, b)
    _, ba = merged_text(b, a)
    assert _groups(ab) == _groups(ba)


def test_two_files_sharing_entries_merge_to_the_union(tmp_path):
    # The case: two files whose shared entries are byte-identical, same keys.
    source = (FIXTURES / "texlive" / "xampl.bib").read_text(encoding="utf-8")
    entries = source.split("\n@")
    first = tmp_path / "first.bib"
    second = tmp_path / "second.bib"
    first.write_text("\n@".join(entries[: len(entries) * 2 // 3]), encoding="utf-8")
    second.write_text(
        entries[0] + "\n@" + "\n@".join(entries[len(entries) // 3 :]), encoding="utf-8"
    )
    text, merged = merged_text(first, second)
    alone, whole = merged_text(FIXTURES / "texlive" / "xampl.bib")
    # The shared third merges away entirely: the result is the whole file merged.
    assert merged.key_map == whole.key_map
    assert not [d for d in merged.diagnostics if "names different entries" in d.message]
    assert text.count("@preamble") == 1
    assert keys(merged.records) == keys(whole.records)
    assert text.count("\n@") == alone.count("\n@")


# --------------------------------------------------------------------------
# Generated files


_TITLES = st.sampled_from(["", "Deep Learning", "Attention Is All You Need", "On {BERT}"])
_YEARS = st.sampled_from(["", "2017", "2019", "{2020}"])


@st.composite
def bib_file(draw) -> str:
    entries = []
    for n in range(draw(st.integers(1, 6))):
        etype = draw(st.sampled_from(["misc", "article", "book"]))
        key = draw(st.sampled_from(["a", "b", "c", "web", f"k{n}"]))
        fields = []
        if title := draw(_TITLES):
            fields.append(f"title = {{{title}}}")
        if year := draw(_YEARS):
            fields.append(f"year = {year}")
        if draw(st.booleans()):
            fields.append(
                f"note = {{{draw(st.sampled_from(['personal communication', 'in press']))}}}"
            )
        if draw(st.booleans()):
            fields.append(
                f"author = {{{draw(st.sampled_from(['Smith, J.', 'Doe, A. and Roe, B.']))}}}"
            )
        entries.append(f"@{etype}{{{key},\n  " + ",\n  ".join(fields) + "\n}")
    if draw(st.booleans()):
        entries.insert(0, '@string{acm = "ACM"}\n@preamble{"\\newcommand{\\noop}[1]{}"}')
    return "\n\n".join(entries) + "\n"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bib_file())
def test_generated_files_merged_with_themselves_do_not_change(tmp_path, text):
    one = tmp_path / "one.bib"
    two = tmp_path / "two.bib"
    one.write_text(text, encoding="utf-8")
    two.write_text(text, encoding="utf-8")
    alone, m1 = merged_text(one)
    twice, m2 = merged_text(one, two)
    assert twice == alone
    assert m2.key_map == m1.key_map


# --------------------------------------------------------------------------
# Keys, blocks, vetoes


def test_same_key_different_content_is_kept_renamed_and_mapped_for_its_file(tmp_path):
    a = tmp_path / "thesis.bib"
    b = tmp_path / "coauthor.bib"
    a.write_text("@misc{SmithDA01, title = {Web page}, year = 2001}\n", encoding="utf-8")
    b.write_text("@misc{SmithDA01, title = {Another page}, year = 2003}\n", encoding="utf-8")
    _text, merged = merged_text(a, b)
    assert sorted(keys(merged.records)) == ["SmithDA01", "SmithDA01a"]
    assert merged.key_map == {"SmithDA01": {str(b): "SmithDA01a"}}
    (message,) = [d.message for d in merged.diagnostics if "SmithDA01" in d.message]
    assert "title" in message and "year" in message and "key map" in message
    # rekey applies it only to documents that cited coauthor.bib.
    mapping = json.dumps(merged.key_map)
    assert load_key_map(mapping) == {}
    assert load_key_map(mapping, bib="coauthor.bib") == {"SmithDA01": "SmithDA01a"}


def test_identical_blocks_once_and_conflicting_strings_reported(tmp_path):
    a = tmp_path / "a.bib"
    b = tmp_path / "b.bib"
    a.write_text(
        '@preamble{"\\newcommand{\\x}{}"}\n@string{j = {J. A}}\n@article{x, title={T}, journal=j, year=2000}\n',
        encoding="utf-8",
    )
    b.write_text(
        '@preamble{"\\newcommand{\\x}{}"}\n@string{j = {J. B}}\n@article{y, title={U}, journal=j, year=2001}\n',
        encoding="utf-8",
    )
    result = read_inputs([str(a), str(b)])
    written = write(merge(result.records).records, "bibtex", result.write_options())
    assert written.text.count("@preamble") == 1
    assert written.text.count("@string") == 1
    warning = next(d for d in written.diagnostics if "@string j" in d.message)
    assert warning.file == str(b) and warning.line == 2 and f"{a}:2" in warning.message
    assert "journal = {J. B}" in written.text  # y still prints its own journal


def test_keep_apart_vetoes_a_group(tmp_path):
    a = tmp_path / "a.bib"
    a.write_text(
        "@misc{one, title = {Same}, note = {x}}\n@misc{two, title = {Same}, note = {x}}\n",
        encoding="utf-8",
    )
    _, merged = merged_text(a)
    assert len(merged.records) == 1
    _, apart = merged_text(a, keep_apart=[["one", "two"]])
    assert keys(apart.records) == {"one", "two"}


def test_dry_run_says_why_each_group_was_formed(tmp_path):
    a = tmp_path / "a.bib"
    a.write_text(
        "@misc{one, note = {personal communication}}\n"
        "@misc{two, note = {personal communication}}\n"
        "@article{p, title = {X}, doi = {10.1/abc}}\n@article{q, title = {X}, doi = {10.1/ABC}, year = 2000}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(main, ["merge", str(a), "--dry-run"])
    assert res.exit_code == 0, res.stderr
    assert "(identical)" in res.stdout and "same DOI 10.1/abc" in res.stdout
    res = CliRunner().invoke(main, ["merge", str(a), "--dry-run", "--keep-apart", "one,two"])
    assert "(identical)" not in res.stdout


# --------------------------------------------------------------------------
# Idempotence of the other rewriting commands


@pytest.mark.parametrize("path", READABLE[::5], ids=lambda p: p.name)
def test_lint_fix_twice_changes_nothing_the_second_time(path):
    source = Source.from_file(str(path))
    if source.text is None:
        pytest.skip("not BibTeX")
    once = lint([source], fix=True).fixed.get(source.name, source.text)
    again = lint([Source.from_text(once, source.name, "bibtex")], fix=True).fixed
    assert again.get(source.name, once) == once


def test_rekey_twice_changes_nothing_the_second_time():
    key_map = load_key_map(json.dumps({"a": "b", "c": "d", "b": "e"}))
    text = "See \\cite{a,c} and \\citep[p.~2]{b}; also @a in Markdown."
    once, _ = rekey_text(text, key_map, "latex")
    twice, replacements = rekey_text(once, key_map, "latex")
    assert once == "See \\cite{e,d} and \\citep[p.~2]{e}; also @a in Markdown."
    assert twice == once and not replacements
