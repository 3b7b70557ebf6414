r"""BibTeX styles run as BibTeX runs them: the shipped .bst files, style lookup, the
byte-exact string functions, the .bbl reader, and entry-by-entry agreement with the
``bibtex`` program on real files (skipped, with the reason, where TeX is missing)."""

from __future__ import annotations

import hashlib
import random
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from bibtools import render as style
from bibtools.cli import main
from bibtools.convert import read_text, write
from bibtools.diagnostics import UsageError
from bibtools.formats import WriteOptions
from bibtools.pages import FormatOptions, format_records
from bibtools.render import Node, bbl, bst, bst_text, to_html, to_text
from bibtools.text.keys import assign_keys

FIXTURES = Path(__file__).parent / "fixtures" / "bibtex"
HAS_BIBTEX = bst.bibtex_available()
needs_bibtex = pytest.mark.skipif(not HAS_BIBTEX, reason="the bibtex program is not installed")

BIB = r"""
@preamble{"\newcommand{\noopsort}[1]{}"}
@article{si2023,
  author = {Si, Qingyi and Lin, Zheng and Wang, Weiping},
  title = {Combining {BERT} and {VQA}: Robust Answers},
  journal = {Journal of Multimodal Learning},
  year = {2023}, volume = {5}, number = {2}, pages = {11--29},
}
@book{knuth,
  author = {Donald E. Knuth},
  title = {The {\TeX}book},
  publisher = {Addison-Wesley},
  year = {{\noopsort{1984}}1984},
}
@inproceedings{doe2022,
  author = {Jane Doe and {\'E}mile Zola},
  title = {Towards {LoRA} adapters},
  booktitle = {Proceedings of the ACL},
  year = {2022},
}
"""


def records(text: str = BIB) -> tuple[list, list[str]]:
    result = read_text(text, "bibtex")
    assign_keys(result.records)
    return result.records, result.blocks


# --------------------------------------------------------------------------
# The shipped styles and finding styles

SHIPPED_SHA256 = {
    "plain": "19f2cf88686b86aaa8e65d5f0313a92499815761e04b42e84ea2c3dc3685ada9",
    "unsrt": "45fc82fb4c7916334714dfa2dd393841ef18a7267f023688d18bc502d3138443",
    "alpha": "95e0b35ce728b91a136480717dc52cbafa046268f607e22a701633a8d923ea2e",
    "abbrv": "953eb24c7474246b3154cf3b1585d6afde6aa4d3a4bc86e9481f74cc34e147f8",
}


@pytest.mark.parametrize("name", sorted(SHIPPED_SHA256))
def test_shipped_styles_are_unmodified_copies(name: str) -> None:
    # Their licence allows copies only if unmodified (bibtools/data/bst/README.md).
    path = bst.DATA_DIR / f"{name}.bst"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHIPPED_SHA256[name]
    readme = (bst.DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert f"`{name}.bst`" in readme and SHIPPED_SHA256[name] in readme


def test_style_names_resolve_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = style.resolve_style("plain")
    assert (plain.engine, Path(plain.path)) == ("bst", bst.DATA_DIR / "plain.bst")
    assert style.resolve_style("apa").engine == "csl"
    assert style.resolve_style("vancouver").engine == "csl"  # the CSL style wins a shared name
    assert style.resolve_style("pybtex-plain").engine == "pybtex"
    mine = tmp_path / "my-style.bst"
    shutil.copyfile(bst.DATA_DIR / "plain.bst", mine)
    assert style.resolve_style(str(mine)) == style.StyleSpec("my-style", "bst", str(mine))
    with pytest.raises(UsageError, match="no such BibTeX style file"):
        style.resolve_style(str(tmp_path / "missing.bst"))
    with pytest.raises(UsageError, match="no-such-style-anywhere"):
        style.resolve_style("no-such-style-anywhere")
    # Without TeX, the shipped styles still resolve; others do not.
    monkeypatch.setenv("PATH", str(tmp_path))
    bst.kpsewhich.cache_clear()
    try:
        assert style.resolve_style("alpha").engine == "bst"
        with pytest.raises(UsageError, match="unknown style 'plainnat'"):
            style.resolve_style("plainnat")
    finally:
        bst.kpsewhich.cache_clear()


@pytest.mark.skipif(not bst.kpsewhich("plainnat"), reason="TeX (kpsewhich, natbib) not installed")
def test_styles_tex_has_are_found_with_kpsewhich() -> None:
    spec = style.resolve_style("plainnat")
    assert spec.engine == "bst" and spec.path.endswith("plainnat.bst")


# --------------------------------------------------------------------------
# BibTeX's string functions on bytes


def b(text: str) -> str:
    return bst_text.to_bytestr(text)


def u(raw: str) -> str:
    return bst_text.from_bytestr(raw)


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        ("Donald E. Knuth", "{ff~}{vv~}{ll}{, jj}", "Donald~E. Knuth"),
        ("Donald E. Knuth", "{f.~}{vv~}{ll}{, jj}", "D.~E. Knuth"),
        ("Ke Sun", "{ff~}{vv~}{ll}{, jj}", "Ke~Sun"),  # a short first part keeps its tie
        (
            "Charles Louis Xavier Joseph de la Vall{\\'e}e Poussin",
            "{vv~}{ll}{, jj}{, f.}",
            "de~la Vall{\\'e}e~Poussin, C. L. X.~J.",  # btxdoc's example, as bibtex prints it
        ),
        ("Jean-Pierre Hansen", "{f.~}{vv~}{ll}", "J.-P. Hansen"),
        ("Brinch Hansen, Per", "{vv~}{ll}{, ff}", "Brinch~Hansen, Per"),
        ("{\\'E}mile Zola", "{f.~}{ll}", "{\\'E}.~Zola"),
        # UTF-8: É is two bytes, so "Émile" is lower case to bibtex (a von part).
        ("Émile Zola", "{vv~}{ll}", "Émile Zola"),
        ("潇 于", "{ff~}{ll}", "潇 于"),  # three bytes: long enough for a space
        ("ÆGIR Þór", "{f.~}{ll}", "Æ.~Þór"),  # the abbreviated character stays whole
        ("Ægir Þór", "{f.~}{ll}", "Þór"),  # "Ægir" is a von part to bibtex
        ("Doe, Jr., John", "{ff~}{vv~}{ll}{, jj}", "John Doe, Jr."),
    ],
)
def test_format_name_as_bibtex(name: str, fmt: str, expected: str) -> None:
    assert u(bst_text.format_name(b(name), 1, fmt)) == expected


def test_name_lists_split_at_and_between_spaces_outside_braces() -> None:
    assert bst_text.num_names(b("A and B AND C and {D and E} and")) == 4
    assert bst_text.num_names(b("Anderson, Andrea and Sandy Rand")) == 2
    assert bst_text.num_names("") == 0


@pytest.mark.parametrize(
    ("text", "mode", "expected"),
    [
        ("The {BERT} Model: A Study", "t", "The {BERT} model: A study"),
        ("A {\\em Homo} {\\emph{Sapiens}} Y", "t", "A {\\em homo} {\\emph{sapiens}} y"),
        ("{\\AE}sop {\\ss} x", "u", "{\\AE}SOP {SS} X"),
        ("Über ÉTUDE", "l", "Über Étude"),  # only ASCII letters change, as in bibtex
        ("Молибден Рябиноосе", "t", "Молибден Рябиноосе"),
    ],
)
def test_change_case_as_bibtex(text: str, mode: str, expected: str) -> None:
    assert u(bst_text.change_case(b(text), mode)) == expected


def test_lengths_prefixes_and_purify_count_bytes() -> None:
    assert bst_text.text_length(b("de la Vall{\\'e}e")) == 12
    assert bst_text.text_length(b("Šk")) == 3
    assert u(bst_text.text_prefix(b("Šklovskij"), 3)) == "Šk"
    assert u(bst_text.text_prefix(b("Il’inskaja"), 3)) == "Il’"  # never half a character
    assert bst_text.text_length(bst_text.text_prefix(b("Il’inskaja"), 3)) == 3
    assert u(bst_text.text_prefix(b("ab{cd}e"), 3)) == "ab{c}"
    assert u(bst_text.purify(b("{\\noopsort{1973a}}Knuth-Ö {\\ss}"))) == "1973aKnuth Ö ss"
    assert bst_text.add_period("x}}") == "x}}." and bst_text.add_period("x?}") == "x?}"
    assert bst_text.add_period("}}") == "}}."  # pybtex's own fails here


# A deterministic "fuzz" corpus: names and titles built from the pieces that
# bibtex treats specially, run through a probe style by bibtex and by pybtex.
PROBE = r"""
ENTRY { author title } {} { }
INTEGERS { n i }
STRINGS { s f }
FUNCTION {fmt}
{ 'f := 's :=
  s num.names$ 'n :=
  #1 'i :=
  { i n #1 + < }
  { s i f format.name$ write$ "|" write$ i #1 + 'i := }
  while$
  "@@" write$
}
FUNCTION {each}
{ "\bibitem{" cite$ * "}" * write$
  author missing$ 'skip$
  { author num.names$ int.to.str$ "@@" * write$
    author "{ff~}{vv~}{ll}{, jj}" fmt
    author "{f.~}{vv~}{ll}{, jj}" fmt
    author "{vv~}{ll}{, jj}{, f.}" fmt
    author "{v{}}{l{}}" fmt
    author "{vv }{ll}{ jj}{ f{~}}" fmt }
  if$
  title missing$ 'skip$
  { title "t" change.case$ "@@" * write$
    title "u" change.case$ "@@" * write$
    title purify$ "@@" * write$
    title text.length$ int.to.str$ "@@" * write$
    title #4 text.prefix$ "@@" * write$
    title add.period$ "@@" * write$ }
  if$
  newline$
}
READ
ITERATE {each}
"""

PIECES = [
    "Jean", "de", "la", "van", "Der", "von", "Jr.", "{\\'E}mile", "{\\\"O}zge", "{\\ss}",
    "{\\aa}ke", "{Ch}ristopher", "Émile", "Çelik", "Ægir", "ab", "X.", "A.-B.", "Mc{G}ee",
    "{\\relax Ch}ris", "O'Neil", "{van der}", "d'Alembert", "{\\v{S}}krob", "{\\OE}uvre", "Ö",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "~", "-", ", "]
TITLE_PIECES = [
    "The", "A", "study:", "{BERT}", "{\\em Homo}", "{\\emph{Sapiens}}", "über", "ÉTUDE",
    "{\\'E}t{\\'e}", "$x^2$", "--", "Mc{Donald}", "{\\AE}sop", "{\\ss}", "Wörter", "x:", " ",
    "{\\TeX}book", "{{nested} Braces}", "\\LaTeX", "Q&A", "100\\%", "i.e.", "Zoë", "?", "!",
]  # fmt: skip


def _fuzz_bib(seed: int, count: int) -> str:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        names = []
        for _ in range(rng.randint(1, 4)):
            words = [rng.choice(PIECES) for _ in range(rng.randint(1, 4))]
            name = words[0]
            for w in words[1:]:
                name += rng.choice(SEPARATORS) + w
            names.append(name.strip(", "))
        title = " ".join(rng.choice(TITLE_PIECES) for _ in range(rng.randint(1, 8)))
        out.append(
            f"@misc{{k{n},\n  author = {{{' and '.join(names)}}},\n  title = {{{title}}},\n}}"
        )
    return "\n".join(out)


def _items(bbl_text: str) -> dict[str, str]:
    text = re.sub(r"\s*@@\s*", "@@", " ".join(bbl_text.split()))
    found = re.finditer(r"\\bibitem\{([^}]*)\}(.*?)(?=\\bibitem|$)", text)
    return {m.group(1): m.group(2) for m in found}


@pytest.mark.slow
@needs_bibtex
def test_string_functions_agree_with_bibtex_on_generated_names_and_titles(tmp_path: Path) -> None:
    probe = tmp_path / "probe.bst"
    probe.write_text(PROBE, encoding="ascii")
    bib = _fuzz_bib(seed=20, count=500)
    reference = _items(bst.run_bst(bib, probe, "bibtex").bbl)
    ours = _items(bst.run_bst(bib, probe, "pybtex").bbl)
    assert len(reference) == 500
    compared = 0
    differ = []
    for key, value in reference.items():
        mine = ours.get(key, "").split("@@")
        for n, segment in enumerate(value.split("@@")):
            # The names of a list are compared one by one ("|"); bibtex writes
            # an invalid byte where it cuts a UTF-8 character (bibtools keeps it).
            theirs_names = segment.split("|")
            ours_names = mine[n].split("|") if n < len(mine) else []
            for m, name in enumerate(theirs_names):
                if "\ufffd" in name:
                    continue
                compared += 1
                if m >= len(ours_names) or ours_names[m] != name:
                    differ.append((key, n, name, ours_names[m] if m < len(ours_names) else None))
    assert differ == []
    assert compared > 10_000


# --------------------------------------------------------------------------
# The .bbl reader


def render(latex: str, preamble: str = "", cites: dict[str, str] | None = None) -> tuple:
    return bbl.Renderer(preamble, cites).render(latex)


def test_bbl_commands_become_the_inline_tree() -> None:
    body, kept = render(
        r"L.~A. Aamport. \newblock The {\em gnats} and \emph{gnus}, \textbf{41}(7):73--80."
        r" \newblock {\it Journal\/} \url{https://x.org/a~b%20c} \href{https://y.org}{here}"
        r" \c{c}a {\"o} \ss{} ``q'' $^{+}$ \TeX\ \BIBentryALTinterwordspacing x\penalty0 y"
    )
    assert kept == []
    assert to_text(body) == (
        "L.\u00a0A. Aamport. The gnats and gnus, 41(7):73\u201380. Journal "
        "https://x.org/a~b%20c here ça ö ß \u201cq\u201d + TeX x y"
    )
    html = to_html(body)
    assert "<i>gnats</i>" in html and "<i>gnus</i>" in html and "<b>41</b>" in html
    assert '<a href="https://x.org/a~b%20c">https://x.org/a~b%20c</a>' in html
    assert '<a href="https://y.org">here</a>' in html and "<sup>+</sup>" in html


def test_bbl_preamble_macros_and_link_definitions() -> None:
    preamble = (
        "\\newcommand{\\noopsort}[1]{} \\newcommand{\\switchargs}[2]{#2#1}\n"
        "\\providecommand{\\natexlab}[1]{#1}\n\\providecommand{\\url}[1]{\\texttt{#1}}\n"
        "\\expandafter\\ifx\\csname urlstyle\\endcsname\\relax\n"
        "  \\providecommand{\\doi}[1]{doi: #1}\\else\n"
        "  \\providecommand{\\doi}{doi: \\begingroup \\urlstyle{rm}\\Url}\\fi\n"
        "\\providecommand{\\BIBentryALTinterwordspacing}{\\spaceskip=\\fontdimen2\\font plus}\n"
    )
    body, kept = render(
        r"{\noopsort{1973a}}{\switchargs{--90}{1968}}, 1986{\natexlab{b}}. \doi{10.1/x_y}"
        r" \url{http://e.org} \BIBentryALTinterwordspacing z",
        preamble,
    )
    assert kept == []
    assert to_text(body) == "1968\u201390, 1986b. doi: 10.1/x_y http://e.org z"
    links = [n for n in body if isinstance(n, Node) and n.tag == "a"]
    assert [n.href for n in links] == ["https://doi.org/10.1/x_y", "http://e.org"]


def test_unknown_commands_are_kept_visibly_and_named() -> None:
    body, kept = render(r"A \mkbibacro{IBICT} and \input{/etc/passwd} b")
    assert to_text(body) == r"A \mkbibacro{IBICT} and \input{/etc/passwd} b"
    assert kept == ["\\mkbibacro", "\\input"]


def test_items_labels_and_cites_of_each_style_family() -> None:
    text = (
        "\\begin{thebibliography}{10}\n\\providecommand{\\natexlab}[1]{#1}\n\n"
        "\\bibitem[Aamport(1986{\\natexlab{a}})]{a}\nAamport. \\newblock See \\citet{b}.\n\n"
        '\\bibitem[{\\"U}NP88]{b}\nU. \\newblock In \\cite{a}.\n\n'
        "\\bibitem{c}\nC.\n\n"
        "\\harvarditem[Knuth et~al.]{Knuth, Larrabee and Roberts}{1989}{d}\n"
        "Knuth \\harvardyearleft 1989\\harvardyearright.\n\n"
        "\\bibitem[\\protect\\citeauthoryear{Doe}{Doe}{2020}]{e}\nE.\n"
        "\\end{thebibliography}\n"
    )
    parsed = bbl.parse_bbl(text)
    kinds = [i.kind for i in parsed.items]
    assert kinds == [bbl.AUTHOR_YEAR, bbl.ALPHA, bbl.NUMERIC, bbl.AUTHOR_YEAR, bbl.AUTHOR_YEAR]
    items = bbl.render_items(parsed)
    assert [(i.key, i.label) for i in items] == [
        ("a", ""),
        ("b", "[ÜNP88]"),
        ("c", "[1]"),
        ("d", ""),
        ("e", ""),
    ]
    assert to_text(items[0].body) == "Aamport. See [ÜNP88]."
    assert to_text(items[1].body) == "U. In Aamport (1986a)."
    assert to_text(items[3].body) == "Knuth (1989)."
    assert "\\begin{thebibliography}" not in parsed.preamble
    assert "\\providecommand{\\natexlab}" in parsed.preamble


def test_macros_that_never_end_and_deep_braces_do_not_hang() -> None:
    body, kept = render(r"x \bomb y", r"\def\bomb{\bomb\bomb}")
    assert "\\bomb (expands without end)" in kept
    assert to_text(body).startswith("x")
    deep = "{" * 5000 + "deep" + "}" * 5000
    body, _ = render(deep)
    assert "deep" in to_text(body)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab \\{}$~%#&^_-'`[]\n\"emphurlbibitem", max_size=60))
def test_any_latex_renders_without_raising(latex: str) -> None:
    body, kept = render(latex)
    assert isinstance(to_html(body), str) and isinstance(kept, list)


# --------------------------------------------------------------------------
# Through bibtools: render, pages, the CLI


def test_plain_renders_the_real_bst() -> None:
    recs, preambles = records()
    result = style.render(recs, "plain", blocks=preambles)
    assert result.numbered
    by_key = {e.key: e for e in result.entries}
    # plain sorts by author and lower-cases titles, but for the first word and after ": ".
    assert [e.key for e in result.entries] == ["doe2022", "knuth", "si2023"]
    assert by_key["si2023"].text() == (
        "Qingyi Si, Zheng Lin, and Weiping Wang. Combining BERT and VQA: Robust answers. "
        "Journal of Multimodal Learning, 5(2):11\u201329, 2023."
    )
    assert by_key["knuth"].text() == "Donald\u00a0E. Knuth. The TeXbook. Addison-Wesley, 1984."
    assert by_key["knuth"].label == "[2]"
    assert "\\newblock" in by_key["knuth"].latex
    assert "\\newcommand{\\noopsort}" in result.latex_preamble


def test_alpha_labels_and_unrendered_macros_are_reported() -> None:
    recs, _ = records()
    result = style.render(recs, "alpha")  # the @preamble is not given: \noopsort unknown
    assert not result.numbered
    assert {e.key: e.label for e in result.entries} == {
        "doe2022": "[DZ22]",
        "knuth": "[Knu84]",
        "si2023": "[SLW23]",
    }
    knuth = next(e for e in result.entries if e.key == "knuth")
    assert "\\noopsort{1984}1984" in knuth.text()
    assert any(
        d.key == "knuth" and "\\noopsort" in d.message and d.line > 0 for d in result.diagnostics
    )


def test_bibtex_warnings_name_the_entry_and_no_entry_is_silently_empty() -> None:
    recs, _ = records(
        "@article{nojournal, author={A. Uthor}, title={T}, year=2000}\n@misc{nothing}"
    )
    result = style.render(recs, "plain")
    messages = {(d.key, d.message) for d in result.diagnostics}
    assert ("nojournal", "plain.bst: empty journal in nojournal") in messages
    assert ("nothing", "plain.bst printed nothing for this entry") in messages
    assert sorted(e.key for e in result.entries) == ["nojournal", "nothing"]


def test_a_bst_given_as_a_path_is_run(tmp_path: Path) -> None:
    mine = tmp_path / "journal.bst"
    source = (bst.DATA_DIR / "plain.bst").read_text(encoding="ascii")
    pages = '{ "pages" pages n.dashify'
    assert pages in source
    mine.write_text(source.replace(pages, '{ "pp." pages n.dashify'), encoding="ascii")
    recs, _ = records(
        "@inproceedings{p, author={A. Uthor}, title={T}, booktitle={B}, year=2000, pages={1--2}}"
    )
    result = style.render(recs, str(mine))
    assert result.entries[0].text() == "A.\u00a0Uthor. T. In B, pp. 1\u20132, 2000."
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB, encoding="utf-8")
    done = CliRunner().invoke(main, ["format", str(bib), "--style", str(mine), "-t", "text"])
    assert done.exit_code == 0, done.output
    assert "Donald\u00a0E. Knuth. The TeXbook" in done.output


def test_html_of_a_bst_style_escapes_the_records() -> None:
    recs, _ = records(
        "@misc{evil, author={Eve <b>Mallory</b>}, title={<script>alert(1)</script> \\input{x}},"
        " howpublished={\\href{javascript:alert(2)}{click}}, year=2020}"
    )
    html = format_records(recs, FormatOptions(style="plain", output="html")).text
    assert "<script>alert" not in html and "<b>Mallory" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html


def test_pages_highlight_badges_grouping_and_latex_with_a_bst_style() -> None:
    recs, preambles = records()
    recs[0].doi = "10.1000/jml.5"
    options = FormatOptions(
        style="plain", group_by="year", highlight=["Qingyi Si"], blocks=preambles
    )
    html = format_records(recs, options)
    assert [g.title for g in html.groups] == ["2023", "2022", "1984"]
    si = next(e for e in html.entries if e.key == "si2023")
    assert '<b class="highlight">Qingyi Si</b>' in si.html
    assert '<a href="https://doi.org/10.1000/jml.5" class="badge badge-doi">[DOI]</a>' in si.html
    options.output = "latex"
    latex = format_records(recs, options).text
    assert "\\textbf{Qingyi Si}" in latex
    assert "\\providecommand{\\newblock}" in latex and "\\newcommand{\\noopsort}" in latex
    assert "\\newblock" in latex.split("\\begin{itemize}", 1)[1]


def test_engine_bibtex_without_the_program_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB, encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path))
    done = CliRunner().invoke(
        main, ["format", str(bib), "--style", "plain", "--engine", "bibtex", "-t", "text"]
    )
    assert done.exit_code == 2
    assert "bibtex program is not installed" in done.output


# --------------------------------------------------------------------------
# Against bibtex itself, entry by entry

FILES = [
    "texlive/xampl.bib",
    "texlive/btxdoc.bib",
    "texlive/biblatex-examples.bib",
    "pybtex/pybtex_cyrillic.bib",
    "pybtex/pybtex_IEEEtran.bib",
    "citationjs/citationjs_nameparts.bib",
    "jabref/jabref_testbib_complex.bib",
    "zotero/zotero_bib_05_non-braking-space-accented-characters-an.bib",
]
STYLES = ["plain", "unsrt", "alpha", "abbrv", "plainnat", "ieeetr", "apalike"]


def _style_or_skip(name: str) -> None:
    if name not in bst.SHIPPED and not bst.kpsewhich(name):
        pytest.skip(f"{name}.bst: TeX does not have it (kpsewhich)")


def _texts(bbl_text: str) -> dict[str, str]:
    return {
        item.key: " ".join(to_text(item.body).split())
        for item in bbl.render_items(bbl.parse_bbl(bbl_text))
    }


@pytest.mark.slow
@needs_bibtex
@pytest.mark.parametrize("name", STYLES)
def test_bibtools_prints_what_bibtex_prints(name: str) -> None:
    """bibtools format (pybtex engine) against bibtex run on the .bib bibtools feeds the style."""
    _style_or_skip(name)
    spec = style.resolve_style(name)
    compared = 0
    for rel in FILES:
        result = read_text((FIXTURES / rel).read_text(encoding="utf-8"), "bibtex")
        rendered = style.render(result.records, name, blocks=result.blocks)
        written = write(
            [r.copy() for r in rendered.records], "bibtex", WriteOptions(blocks=result.blocks)
        ).text
        reference = _texts(bst.run_bst(written, spec.path, "bibtex").bbl)
        ours = {e.key: " ".join(e.text().split()) for e in rendered.entries}
        assert list(ours) == list(reference), rel  # same entries, same order
        # Where bibtex cuts a UTF-8 character in two (it abbreviates "Édouard"
        # byte by byte), bibtools keeps the character: those entries differ.
        differ = {
            k: (v, ours[k]) for k, v in reference.items() if ours[k] != v and "\ufffd" not in v
        }
        assert differ == {}, rel
        compared += sum("\ufffd" not in v for v in reference.values())
    assert compared > 150


@needs_bibtex
@pytest.mark.parametrize("name", STYLES)
def test_the_engine_writes_the_bbl_bibtex_writes(name: str) -> None:
    """The original files through both engines: the same .bbl, entry for entry."""
    _style_or_skip(name)
    path = style.resolve_style(name).path
    for rel in FILES:
        text = (FIXTURES / rel).read_text(encoding="utf-8")
        ours = bbl.parse_bbl(bst.run_bst(text, path, "pybtex").bbl)
        theirs = bbl.parse_bbl(bst.run_bst(text, path, "bibtex").bbl)
        assert [i.key for i in ours.items] == [i.key for i in theirs.items], rel
        for mine, ref in zip(ours.items, theirs.items, strict=True):
            if "\ufffd" in ref.body + ref.label:
                continue  # bibtex cut a UTF-8 character in two; bibtools keeps it whole
            assert " ".join(mine.body.split()) == " ".join(ref.body.split()), (rel, ref.key)
            assert mine.label.split() == ref.label.split(), (rel, ref.key)


@needs_bibtex
def test_engine_bibtex_gives_the_same_entries_and_its_warnings() -> None:
    recs, preambles = records(
        BIB + "\n@article{nojournal, author={A. Uthor}, title={T}, year=2000}"
    )
    ours = style.render(recs, "plain", blocks=preambles)
    theirs = style.render(recs, "plain", engine="bibtex", blocks=preambles)
    assert [(e.key, e.text()) for e in ours.entries] == [(e.key, e.text()) for e in theirs.entries]
    assert ("nojournal", "plain.bst: empty journal in nojournal") in {
        (d.key, d.message) for d in theirs.diagnostics
    }


def test_an_unreadable_entry_is_named_by_both_engines() -> None:
    bib = "@misc{good, title={Fine}}\n\n@misc{broken, title={Never {closed}\n"
    engines = ["pybtex", "bibtex"] if HAS_BIBTEX else ["pybtex"]
    for engine in engines:
        run = bst.run_bst(bib, bst.DATA_DIR / "plain.bst", engine)
        assert "Fine" in run.bbl
        assert any(m.key == "broken" for m in run.messages), (engine, run.messages)
