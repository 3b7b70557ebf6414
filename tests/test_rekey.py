r"""Rekey: \cite-family commands and pandoc @key citations rewritten from a key map, with backups."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bibtools.dedupe import merge
from bibtools.diagnostics import InputError, UsageError
from bibtools.formats import ReadOptions, bibtex
from bibtools.rekey import load_key_map, rekey_file, rekey_text, resolve_chains, syntax_for

MAP = {"old": "new", "Vaswani2017": "vaswani2017attention", "a:b": "c:d"}


def latex(text: str, key_map: dict[str, str] = MAP) -> str:
    return rekey_text(text, key_map, "latex")[0]


def markdown(text: str, key_map: dict[str, str] = MAP) -> str:
    return rekey_text(text, key_map, "markdown")[0]


# --------------------------------------------------------------------------
# LaTeX


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (r"\cite{old}", r"\cite{new}"),
        (
            r"\citep[see][p.~3]{old, other,Vaswani2017}",
            r"\citep[see][p.~3]{new, other,vaswani2017attention}",
        ),
        (r"\citet*{old}", r"\citet*{new}"),
        (r"\parencite[12]{old}", r"\parencite[12]{new}"),
        (r"\Textcite{old}", r"\Textcite{new}"),
        (r"\autocite{ old }", r"\autocite{ new }"),
        (r"\footcite{a:b}", r"\footcite{c:d}"),
        (r"\nocite{old}", r"\nocite{new}"),
        (r"\citeauthor{old} and \citeyear{old}", r"\citeauthor{new} and \citeyear{new}"),
        (r"\bibentry{old}", r"\bibentry{new}"),
        (
            r"\cites(pre)(post)[1]{old}[2]{Vaswani2017}",
            r"\cites(pre)(post)[1]{new}[2]{vaswani2017attention}",
        ),
        ("\\cite\n  {old}", "\\cite\n  {new}"),  # arguments on the next line
        ("% \\cite{old} commented out", "% \\cite{new} commented out"),
    ],
)
def test_citation_commands(before, after):
    assert latex(before) == after


@pytest.mark.parametrize(
    "text",
    [
        r"\citestyle{old}",  # takes a style, not keys
        r"\ref{old} \label{old} {old}",  # not citations
        r"\cite{older} \cite{Old}",  # keys match exactly
        r"\\cite{old}",  # a line break, then the word "cite"
        r"\cite[old]{other}",  # an optional argument is not a key
        "\\cite\n\n{old}",  # a blank line ends the command's arguments
        r"\cite{old",  # never closed
        r"\cite{x}{old}",  # a second group after a single citation is text
    ],
)
def test_what_is_not_a_citation_stays(text):
    assert latex(text) == text


def test_replacements_name_file_and_line():
    text = "\\section{A}\n\\cite{old}\n\n\\citep{x,\n  Vaswani2017}\n"
    new, done = rekey_text(text, MAP, "latex", "paper.tex")
    assert [str(r) for r in done] == [
        "paper.tex:2: old -> new",
        "paper.tex:5: Vaswani2017 -> vaswani2017attention",
    ]
    assert new == "\\section{A}\n\\cite{new}\n\n\\citep{x,\n  vaswani2017attention}\n"


# --------------------------------------------------------------------------
# Markdown (pandoc)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("[@old]", "[@new]"),
        ("[see @old, p. 33; @Vaswani2017]", "[see @new, p. 33; @vaswani2017attention]"),
        ("@old says so.", "@new says so."),  # the final dot is not part of the key
        ("[-@old]", "[-@new]"),
        ("@{old}", "@{new}"),
        ("[@a:b]", "[@c:d]"),
        ("As \\citet{old} showed", "As \\citet{new} showed"),  # raw LaTeX in pandoc Markdown
    ],
)
def test_pandoc_citations(before, after):
    assert markdown(before) == after


@pytest.mark.parametrize(
    "text",
    [
        "mail me at someone@old.org",  # an e-mail address
        "`@old` in code",
        "``code with ` and @old``",
        "```\n@old\n```\n",
        "~~~ python\nx = '@old'\n~~~\n",
        "@older and @Old",
    ],
)
def test_what_pandoc_does_not_cite_stays(text):
    assert markdown(text) == text


def test_new_keys_pandoc_cannot_spell_bare_get_braces():
    assert markdown("[@old]", {"old": "new key"}) == "[@{new key}]"


def test_latex_files_do_not_get_markdown_rewrites():
    assert latex("@old and mail@old") == "@old and mail@old"


# --------------------------------------------------------------------------
# Key maps


def test_key_map_chains_are_followed():
    assert load_key_map(json.dumps({"a": "b", "b": "c", "x": "x"})) == {"a": "c", "b": "c"}
    assert resolve_chains({"a": "b"}) == {"a": "b"}


@pytest.mark.parametrize(
    "text",
    ["not json", "[1, 2]", '{"a": 1}', '{"": "b"}', '{"a": ""}', '{"a": "b", "b": "a"}'],
)
def test_bad_key_maps_are_refused(text):
    with pytest.raises(InputError):
        load_key_map(text, "map.json")


def test_syntax_from_the_file_name():
    assert syntax_for("paper.tex") == "latex"
    assert syntax_for("notes.QMD") == "markdown"
    with pytest.raises(UsageError):
        syntax_for("paper.docx")
    with pytest.raises(UsageError):
        rekey_text("", {}, "rst")


# --------------------------------------------------------------------------
# Files


def test_rekey_file_writes_a_backup_first(tmp_path):
    path = tmp_path / "paper.tex"
    original = "\\cite{old}\r\nCaf\xe9 \\cite{other}\r\n".encode("latin-1")  # CRLF, not UTF-8
    path.write_bytes(original)
    result = rekey_file(path, MAP)
    assert result.written and result.changed
    assert result.backup == str(tmp_path / "paper.tex.bak")
    assert (tmp_path / "paper.tex.bak").read_bytes() == original
    assert path.read_bytes() == original.replace(b"{old}", b"{new}")
    assert result.summary() == f"{path}: changed 1 citation key (backup: {result.backup})"
    path.write_bytes(b"\\cite{Vaswani2017}")
    second = rekey_file(path, MAP)
    assert second.backup.endswith("paper.tex.bak.1")  # the first backup is never overwritten
    assert (tmp_path / "paper.tex.bak").read_bytes() == original


def test_rekey_file_without_changes_or_in_a_dry_run_writes_nothing(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("[@old] and [@other]\n", "utf-8")
    dry = rekey_file(path, MAP, dry_run=True)
    assert not dry.written and len(dry.replacements) == 1
    assert dry.summary() == f"{path}: would change 1 citation key"
    assert path.read_text("utf-8") == "[@old] and [@other]\n"
    assert not (tmp_path / "notes.md.bak").exists()
    none = rekey_file(path, {"zzz": "y"})
    assert not none.changed and none.summary() == f"{path}: no keys to change"
    assert list(tmp_path.iterdir()) == [path]


def test_rekey_file_that_cannot_be_read(tmp_path):
    with pytest.raises(InputError):
        rekey_file(tmp_path / "missing.tex", MAP)


def test_merge_key_map_fixes_a_paper(tmp_path):
    records = bibtex.read(
        r"""
        @inproceedings{Vaswani2017, author = {Vaswani, Ashish}, title = {Attention is All you Need},
          booktitle = {Advances in Neural Information Processing Systems 30}, year = {2017}}
        @article{vaswani2017attention, author = {Vaswani, Ashish and Shazeer, Noam},
          title = {Attention is all you need}, journal = {arXiv preprint arXiv:1706.03762}, year = {2017}}
        """,
        ReadOptions(source="refs.bib"),
    ).records
    result = merge(records)
    tex = tmp_path / "paper.tex"
    tex.write_text("\\cite{vaswani2017attention} and \\citep{Vaswani2017}\n", "utf-8")
    key_map = load_key_map(result.key_map_json())
    rekey_file(tex, key_map)
    assert tex.read_text("utf-8") == "\\cite{Vaswani2017} and \\citep{Vaswani2017}\n"


# --------------------------------------------------------------------------
# Properties

# Keys, braces, brackets, backslashes, but never a citation command or an "@".
_TEXT = st.text(alphabet=st.sampled_from(list("ab \n{}[]()%,;.\\-:_`~")), max_size=80)


@given(_TEXT, st.sampled_from(["latex", "markdown"]))
def test_text_without_citations_is_never_changed(text, syntax):
    assert rekey_text(text, {"a": "zz", "b": "yy"}, syntax) == (text, [])


@given(
    st.lists(st.sampled_from(["old", "other", "Vaswani2017", "x"]), min_size=1, max_size=5),
    st.sampled_from(["\\cite{%s}", "\\citep[p.~1]{%s}", "[@%s]"]),
)
def test_rewriting_twice_is_rewriting_once(keys, template):
    syntax = "markdown" if template.startswith("[") else "latex"
    joined = ", ".join(keys) if syntax == "latex" else "; @".join(keys)
    text = "Before " + template % joined + " after."
    once, done = rekey_text(text, MAP, syntax)
    assert rekey_text(once, MAP, syntax)[0] == once
    assert len(done) == sum(k in MAP for k in keys)
    for key in keys:
        assert MAP.get(key, key) in once
