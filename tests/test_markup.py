"""Markup conversions: LaTeX in and out, CSL rich text in and out, case protection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bibtools.markup import (
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
