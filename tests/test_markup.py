"""Markup conversions: LaTeX in and out, CSL rich text in and out, case protection."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bibtools.text.markup import (
    from_csl,
    from_latex,
    from_plain,
    protect_case,
    to_csl,
    to_latex,
    to_plain,
)


@pytest.mark.parametrize(
    ("latex", "markup"),
    [
        (r"M{\"u}ller and J\"org", "Müller and Jörg"),
        (r"{\"O}zg{\"u}r \c{c}a \v{S}koda \H{o} Na\"{\i}ve", "Özgür ça Škoda ő Naïve"),
        (r"Stra{\ss}e \o{} \aa", "Straße ø å"),
        (r"{BERT} is \emph{great} \& cheap", r"{BERT} is \emph{great} & cheap"),
        (r"{\em Old} style and {\bf bold}", r"\emph{Old} style and \textbf{bold}"),
        (r"Price \$5 and $x^2$ math", r"Price \$5 and $x^2$ math"),
        (r"pages 12--34 --- dash ``quoted''", "pages 12\u201334 \u2014 dash \u201cquoted\u201d"),
        ("a~b", "a\u00a0b"),
        (r"\url{http://x.org/~a_b}", r"\url{http://x.org/~a_b}"),
        (r"50\% of \_x \#1", "50% of _x #1"),
        (r"\method{} is new", r"\method{} is new"),
        (r"The {\TeX}book and \LaTeX{}", r"The {\TeX}book and \LaTeX{}"),
        ("spread\n   over  lines", "spread over lines"),
        (r"{\TeX{}}{\-}niques", r"{\TeX{}}niques"),
        ("unbalanced }", r"unbalanced \}"),
    ],
)
def test_from_latex(latex, markup):
    assert from_latex(latex) == markup


def test_to_latex_escapes_only_outside_math_and_keeps_commands():
    assert to_latex(
        r"R&D 50% #1 a_b $x_1 & y$ \emph{e}"
    ) == r"R\&D 50\% #1 a\_b $x_1 & y$ \emph{e}".replace("#1", r"\#1")
    assert (
        to_latex("a\u00a0b \u2013 \u201cq\u201d ~ ^")
        == r"a~b -- ``q'' \textasciitilde{} \textasciicircum{}"
    )
    assert to_latex(r"\{ \} \$ \\") == r"\textbraceleft{} \textbraceright{} \$ \textbackslash{}"
    assert to_latex("a--b") == "a-{}-b"


def test_to_latex_ascii_writes_braced_accent_commands():
    assert to_latex("Café Müller ß", ascii_only=True) == r"Caf{\'e} M{\"u}ller {\ss}"
    assert to_latex("Café") == "Café"


def test_plain_and_csl_renderings():
    markup = r"{BERT} and \emph{it} $\times$ \textbf{b} \textsc{sc} H\textsubscript{2}O x\textsuperscript{2} \$5"
    assert to_plain(markup) == "BERT and it × b sc H2O x2 $5"
    assert to_csl(markup) == (
        '<span class="nocase">BERT</span> and <i>it</i> × <b>b</b> '
        '<span style="font-variant:small-caps;">sc</span> H<sub>2</sub>O x<sup>2</sup> $5'
    )


def test_from_csl_escapes_literals_and_reads_tags():
    assert from_csl('<i>Homo</i> {x} $5 <span class="nocase">iPhone</span> a < b') == (
        r"\textit{Homo} \{x\} \$5 {iPhone} a < b"
    )


@pytest.mark.parametrize(
    ("title", "protected"),
    [
        ("Learning BERT via LoRA", "Learning {BERT} via {LoRA}"),
        ("EasyVideoR1: Easier RL", "{EasyVideoR1}: Easier {RL}"),
        ("Light-PEFT: (OOD) iPhone GPT-3", "{Light-PEFT}: ({OOD}) {iPhone} {GPT-3}"),
        ("Co-Evolving Task-agnostic A Study", "Co-Evolving Task-agnostic A Study"),
        ("{BERT} and $O(N^2)$ and \\emph{GPT}", "{BERT} and $O(N^2)$ and \\emph{GPT}"),
        ("Mask R-CNN", "Mask {R-CNN}"),
    ],
)
def test_protect_case(title, protected):
    assert protect_case(title) == protected
    assert protect_case(protected) == protected  # idempotent, never double-braced


# Not ">": plain text that spells a tag ("<b>") is read as markup by every
# CSL processor; we do not escape what CSL itself cannot.
TEXT = st.text(alphabet="abcXYZ &%#_$\\{}~^éß–“”'`-<", max_size=40)


@given(TEXT)
def test_plain_text_survives_latex_round_trip(text):
    markup = from_plain(" ".join(text.split()))
    assert from_latex(to_latex(markup)) == markup
    assert from_latex(to_latex(markup, ascii_only=True)) == markup


@given(TEXT)
def test_plain_text_survives_csl_round_trip(text):
    markup = from_plain(text)
    assert from_csl(to_csl(markup)) == markup
    assert to_plain(markup) == text


# --------------------------------------------------------------------------
# Class 1 of issue 12: LaTeX the decoder does not turn into Unicode is printed
# as LaTeX prints it, and written back to BibTeX as LaTeX that still compiles.

DATA = Path(__file__).parent / "data"
FIXTURES = Path(__file__).parent / "fixtures" / "bibtex"


@pytest.mark.parametrize(
    ("latex", "plain", "csl_title"),
    [
        # The issue's own examples (from TeX Live .bib files).
        (r"{\relax Yu}", "Yu", '<span class="nocase">Yu</span>'),
        (r"Dante{\space}Alighieri", "Dante Alighieri", "Dante Alighieri"),
        (r"\noop{h}Hello", "Hello", "Hello"),
        (r"{\noopsort{1973b}}1973", "1973", "1973"),
        (
            r"On {\VAN{Dijk}{Van}{van}} Dijk",
            "On van Dijk",
            'On <span class="nocase">van</span> Dijk',
        ),
        (
            r"\mbox{G-Animal's} Journal",
            "G-Animal's Journal",
            '<span class="nocase">G-Animal\'s</span> Journal',
        ),
        (r"The \LaTeX\-pedia", "The LaTeXpedia", "The LaTeXpedia"),
        (r"\LaTeX\ and friends", "LaTeX and friends", "LaTeX and friends"),
        (r"hy\-phen\-ation", "hyphenation", "hyphenation"),
        (r"{\TeX{}}{\-}niques", "TeXniques", '<span class="nocase">TeX</span>niques'),
        (
            r"{GRAP}\emdash {A} Language",
            "GRAP\u2014A Language",
            '<span class="nocase">GRAP</span>\u2014<span class="nocase">A</span> Language',
        ),
        (r"{{BERT}} and {2}", "BERT and 2", '<span class="nocase">BERT</span> and 2'),
    ],
)
def test_unknown_latex_prints_as_latex_would(latex: str, plain: str, csl_title: str) -> None:
    markup = from_latex(latex)
    assert to_plain(markup) == plain
    assert to_csl(markup) == csl_title
    assert "nocase" not in to_csl(markup, protect=False)
    # Written back to BibTeX it decodes to the same markup, and no command
    # is glued to the letters after it (\LaTeX\-pedia is not \LaTeXpedia).
    for ascii_only in (False, True):
        written = to_latex(markup, ascii_only=ascii_only)
        assert from_latex(written) == markup
        assert "LaTeXpedia" not in written


def test_names_show_commands_without_arguments_but_not_commands_with_them() -> None:
    assert to_plain(from_latex(r"{\acro{TUG} Board}"), keep_unknown=True) == "TUG Board"
    assert to_plain(from_latex(r"{The \Thanh{} Team}"), keep_unknown=True) == "The Thanh Team"
    # A font switch at the start of a group is no word.
    assert to_plain(from_latex(r"{TUG {\sltt DVI} Team}"), keep_unknown=True) == "TUG DVI Team"


def _entries(path: Path) -> dict[str, Any]:
    from bibtools.convert import read_file

    return {r.key: r for r in read_file(str(path), "bibtex").records}


def test_real_entries_print_what_latex_prints() -> None:
    # Verbatim entries of real_10k.bib (TeX Live bibliographies), see the file's header.
    recs = _entries(DATA / "latex_constructs.bib")
    authors = {k: [n.display() for n in r.authors] for k, r in recs.items()}
    assert authors["Prop-c0-3618"] == ["Sextus Aurelius Propertius"]  # {\relax Sex}tus
    assert authors["Board:TB37-2-240-c0-56"] == ["TUG Board"]  # {\acro{TUG} Board}
    assert authors["Board:TB36-3-179-c0-615"] == ["TUG Board"]  # \TUG\ Board
    assert authors["TDDSC:TB13-1-54-c0-1400"] == ["TUG DVI Driver Standards Committee"]
    assert authors["TT:TB21-1-16-c0-1636"] == ["The TUGboat Team"]  # {The \TUB{} Team}
    titles = {k: to_plain(r.title) for k, r in recs.items()}
    assert titles["Veytsman:TB37-1-91-c0-2289"] == "LaTeX for Administrative Work by Nicola Talbot"
    assert "sur LaTeX sans jamais" in titles["Thomas:TB37-1-93-c0-6749"]
    assert titles["solymosi2010question-c0-4106"] == "On a question\u00a0of Erd\u0151s and Ulam"
    assert titles["Bentley:grap-c0-171"] == "GRAP\u2014A Language for typesetting graphs"
    assert titles["TT:TB21-1-16-c0-1636"] == "TeX Live 5 and the TeX Catalogue"
    assert to_plain(recs["Hoare:DCC91-c0-6"].publisher) == "Addison-Wesley"  # Ad{\-d}i{\-s}on
    for rec in recs.values():
        for markup in (rec.title, rec.publisher, rec.container_title):
            assert from_latex(to_latex(markup)) == markup
    # xampl.bib (TeX Live): \mbox and \noopsort.
    xampl = _entries(FIXTURES / "texlive" / "xampl.bib")
    assert to_plain(xampl["article-full"].container_title) == "G-Animal's Journal"


# --------------------------------------------------------------------------
# Class 6: what pdflatex cannot typeset from UTF-8 is written as LaTeX


def test_spaces_and_combining_accents_become_latex() -> None:
    assert to_latex("a\u2009b") == r"a\,b" and from_latex(r"a\,b") == "a\u2009b"
    assert to_latex("a\u2006b\u202fc") == r"a\,b\,c"
    assert to_latex("a\u2003b") == r"a\quad{}b" and from_latex(r"a\quad{}b") == "a\u2003b"
    for ascii_only in (False, True):
        assert to_latex("P\u0304ot", ascii_only) == r"{\={P}}ot"
        assert to_latex("Ji\u0159i\u0301", ascii_only).endswith(r"{\'{\i}}")
        assert to_latex("o\u0304\u0301", ascii_only) == r"{\'{\={o}}}"
    # A mark LaTeX has no accent for is left alone rather than guessed.
    assert to_latex("a\u0361b") == "a\u0361b"


def test_pandoc_csl_json_names_and_thin_spaces_write_as_latex() -> None:
    # pandoc's CSL-JSON of xampl.bib and of a TUGboat entry (tests/data/citeproc_js):
    # {\={P}}ot comes out as P + U+0304, \, as U+2006.
    items = {
        item["id"]: item
        for item in json.loads((DATA / "citeproc_js" / "items.pandoc.json").read_text("utf-8"))
    }
    (pot,) = [n for n in items["unpublished-minimal-2"]["author"] if n["family"].startswith("P")]
    assert to_latex(from_plain(pot["family"])) == r"{\={P}}ot"
    title = items["Anonymous:TB20-3-160-c0-1532"]["title"]
    assert "\u2006" in title and r"TUG\,\textquoteright" not in to_latex(from_plain(title))
    assert r"TUG\," in to_latex(from_plain(title))


_PDFLATEX = shutil.which("pdflatex")


@pytest.mark.skipif(_PDFLATEX is None, reason="pdflatex is not installed")
def test_pdflatex_typesets_what_to_latex_writes(tmp_path: Path) -> None:
    text = "x\u2009y\u2006z\u202f\u2002\u2003\u2004\u2005\u2007\u2008\u200a\u200b\u205f\u2060\u3000 P\u0304ot Ji\u0159i\u0301 o\u0304\u0301 \u0301"
    # A precomposed letter outside pdflatex's tables (U+1E53) only with --ascii.
    body = to_latex(text) + r"\par " + to_latex(text + " \u1e53", ascii_only=True)
    tex = tmp_path / "t.tex"
    tex.write_text(
        "\\documentclass{article}\\usepackage[T1]{fontenc}\\begin{document}"
        + body
        + "\\end{document}\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [_PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]


@given(st.text(alphabet="ab \u2009\u2003\u00a0\u0304\u0301i&{}\\", max_size=30))
def test_spaces_and_accents_survive_latex_round_trip(text: str) -> None:
    import unicodedata

    from bibtools.text.markup import collapse_ws

    markup = from_plain(text)
    for ascii_only in (False, True):
        written = to_latex(markup, ascii_only=ascii_only)
        assert not any(ch in written for ch in "\u2009\u2003\u0304\u0301")
        # Accent commands decode to composed letters: the same text, NFC.
        if not re.search(r"(^|[^abi])[\u0304\u0301]", markup):  # no mark without a letter
            assert from_latex(written) == unicodedata.normalize("NFC", collapse_ws(markup))
