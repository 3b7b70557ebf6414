"""What bibtools writes, read by the programs that read it (issue 12).

Over every file of ``tests/fixtures/bibtex``, run as a user runs them:

* BibTeX -> BibTeX: ``bibtools convert X.bib -t bibtex`` and X.bib itself are
  typeset by ``bibtex`` in ``plain``, ``plainnat`` and ``ieeetr``; every printed
  word of each original entry must still be printed, in order, under the same
  key, and no file may get more bibtex warnings or errors (at least 99.5% of
  entries overall; every entry outside ``DELIBERATE``);
* biber reads every converted file (``--dialect bibtex`` and ``biblatex``)
  with no more errors or warnings than the original, and no key lost;
* pandoc 2.x (Debian's) as a producer: all of its CSL-JSON is read, and
  ``bibtools format`` renders it in APA and IEEE as citeproc-js does at
  least as often as pandoc 3 does;
* citeproc-js renders every item of bibtools' CSL-JSON, none empty.

The tools come from Debian packages and npm (``.ci/run`` installs them).
Locally a missing tool skips the tests that need it, with the reason; in CI
(``CI`` set) it fails them.  ``python benchmarks/consumers_report.py`` prints
the same figures for any folder of .bib files.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import consumers
import pytest
from consumers import FIXTURES

FILES = consumers.bib_files(FIXTURES)
ROOT = Path(__file__).resolve().parents[1]

# Differences made on purpose, mirrored in docs/differences.md ("Real consumers").
# "CHECK:FILE" or "CHECK:FILE#KEY" -> why; CHECK is bibtex, biber, pandoc2 or
# citeproc, FILE is relative to tests/fixtures/bibtex.  An entry here that no
# longer occurs fails the test too, so the list stays true.
DELIBERATE: dict[str, str] = {
    # Mirrored in docs/differences.md, "Real consumers: deliberate differences".
    "bibtex:bibtexparser/bibtexparser_empty.bib": "no entry at all: convert exits 2 and "
    "writes no file (README), so bibtex finds no database",
    "biber:bibtexparser/bibtexparser_empty.bib": "the same: no file written",
    "bibtex:citationjs/citationjs_different-delimiters.bib#b": "an entry opened with '{' and "
    "closed with ')': bibtexparser's splitter, which ours follows, refuses it (reported, exit 1)",
    "bibtex:citationjs/citationjs_different-delimiters.bib#a": "the same file: without b, "
    "plainnat's label of a has no year suffix ('2021' for '2021a')",
    "biber:citationjs/citationjs_different-delimiters.bib": "the same entry",
    "bibtex:jabref/jabref_encoding-utf-16BE-with-header.bib": "UTF-16, which bibtex cannot "
    "read: the UTF-8 output prints the entries (and bibtex's warnings about them)",
    "bibtex:jabref/jabref_encoding-utf-16BE-without-header.bib": "the same",
    "biber:jabref/jabref_encoding-utf-16BE-with-header.bib": "the same: biber reads the "
    "converted file, whose empty key it refuses as it refuses the original's",
    "biber:jabref/jabref_encoding-utf-16BE-without-header.bib": "the same",
    "bibtex:zotero/zotero_bib_09_extbackslash-extbackslash.bib#BibTeXEscapeTest1": "a value "
    "whose braces balance "
    "only if '\\{' is not a brace (bibtexparser) while bibtex counts it: encoded anew, balanced",
}

KEEP_EVERY_WORD = 0.995  # of printed entries, over every file and style (issue 12)


def name(path: Path) -> str:
    return path.relative_to(FIXTURES).as_posix()


def need(tool: str) -> consumers.Tool:
    found = consumers.tool(tool)
    if found.missing:
        if os.environ.get("CI", "") not in ("", "0", "false"):
            pytest.fail(f"{found.missing}; CI must have it (.ci/run installs it)")
        pytest.skip(found.missing)
    return found


def deliberate(check: str, path: Path, key: str | None = None) -> bool:
    file = f"{check}:{name(path)}"
    return file in DELIBERATE or (key is not None and f"{file}#{key}" in DELIBERATE)


def assert_none_stale(check: str, seen: set[str]) -> None:
    """Every DELIBERATE entry of ``check`` still happens: ``seen`` holds
    "CHECK:FILE" for every file with a problem and "CHECK:FILE#KEY" for
    every entry with one."""
    stale = {e for e in DELIBERATE if e.startswith(f"{check}:") and e not in seen}
    assert not stale, f"listed in DELIBERATE but no longer seen: {sorted(stale)}"


@pytest.fixture(scope="session")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("consumers")


# --------------------------------------------------------------------------
# The harness itself (no external tool needed)


def test_bibitems_of_a_real_bbl() -> None:
    """The .bbl real BibTeX made of xampl.bib in alpha (pybtex's test data)."""
    bbl = (FIXTURES / "pybtex" / "pybtex_xampl_alpha.bibtex.bbl").read_text("utf-8")
    items = consumers.bibitems(bbl)
    assert len(items) == bbl.count("\\bibitem")
    assert items["article-full"].startswith("Aam86b ")
    assert consumers.printed_words(items["article-full"])[:4] == ["Aam86b", "L", "eslie", "A"]
    assert "Journal, 41(7):73+, July 1986." in consumers.latex_to_text(items["article-full"])


def test_bibitems_natbib_labels_nest_brackets_and_braces() -> None:
    bbl = (
        "\\begin{thebibliography}{36}\n\\providecommand{\\natexlab}[1]{#1}\n\n"
        "\\bibitem[Knuth({\\noopsort{1973a}}{\\switchargs{--90}{1968}})]{whole-set}\n"
        "Donald~E. Knuth.\n\\newblock \\emph{The Art of Computer Programming}.\n\n"
        "\\bibitem[{[}Anon{]}(1986{\\natexlab{a}})]{a:b-c}\nAnon.\n\n"
        "\\end{thebibliography}\n"
    )
    items = consumers.bibitems(bbl)
    assert list(items) == ["whole-set", "a:b-c"]
    assert consumers.latex_to_text(items["whole-set"]).endswith(
        "Donald E. Knuth. The Art of Computer Programming."
    )
    assert consumers.latex_to_text(items["a:b-c"]) == "[Anon](1986a) Anon."
    assert consumers.printed_words(items["a:b-c"]) == ["Anon", "1986a", "Anon"]


def test_words_added_are_not_words_lost() -> None:
    """A year filled into a natbib label, a field added after the last one."""
    before = consumers.printed_words(r"Almendro et~al.()Almendro \newblock Signalhorn.")
    after = consumers.printed_words(r"Almendro et~al.(1998)Almendro \newblock Signalhorn, 1998.")
    assert consumers.first_lost_word(before, after) is None
    assert consumers.first_lost_word(after, before) == 3
    before = consumers.printed_words("A, ``The rhetoric of Aristotle by Cope.''")
    after = consumers.printed_words("A, ``The rhetoric of Aristotle by Cope,'' 1877.")
    assert consumers.first_lost_word(before, after) is None
    assert before[-1] == "Cope"


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"{\relax Yu} and Dante{\space}Alighieri", "Yu and Dante Alighieri"),
        (r"\LaTeX\ and \mbox{G-Animal's} Journal", "LaTeX and G-Animal's Journal"),
        (r"\LaTeX and", "LaTeXand"),  # TeX's rule: the space ends the command
        (r"41\penalty0 (7):\penalty0 73--90, July%" + "\n  1986", "41 (7): 73–90, July1986"),
        (r"\url{http://x.org/a%20b_c} \doi{10.1/x_y}", "http://x.org/a%20b_c 10.1/x_y"),
        (r"{\"u}ber \'{e}t\'e~\$5 $x^2$ 50\%", "über été $5 $x^2$ 50%"),
    ],
)
def test_latex_to_text(tex: str, text: str) -> None:
    assert consumers.latex_to_text(tex) == text


def test_flattened_latex_is_a_lost_word() -> None:
    """The constructs of issue 12, class 1, as the word check sees them."""
    for orig, flat in [
        (r"{\relax Yu}", "relaxYu"),
        (r"Dante{\space}Alighieri", "DantespaceAlighieri"),
        (r"\LaTeX\ and", r"\LaTeX and"),
        (r"dis\-cre\-tion", "discretion"),
        (r"\mbox{Dijk}", "mboxDijk"),
    ]:
        before, after = consumers.printed_words(orig), consumers.printed_words(flat)
        assert consumers.first_lost_word(before, after) == 0, (orig, flat)


def test_entries_in_counts_entries_not_strings_or_comments() -> None:
    assert consumers.entries_in(FIXTURES / "texlive" / "amsj.bib") == 0  # only @string
    assert consumers.entries_in(FIXTURES / "bibtexparser" / "bibtexparser_empty.bib") == 0
    assert consumers.entries_in(FIXTURES / "texlive" / "xampl.bib") == 36
    assert consumers.entries_in(FIXTURES / "jabref" / "jabref_tiny-BE-noBOM.bib") == 1
    utf16_cr = FIXTURES / "jabref" / "jabref_encoding-utf-16BE-with-header.bib"  # \r lines
    assert consumers.entries_in(utf16_cr) == 1
    assert consumers.entries_in(FIXTURES / "bibtexparser" / "bibtexparser_book_bom.bib") == 1


def test_first_lost_word() -> None:
    assert consumers.first_lost_word("a b c".split(), "a x b c y".split()) is None
    assert consumers.first_lost_word("a b c".split(), "a c b".split()) == 2
    assert consumers.first_lost_word("a b".split(), []) == 0
    assert consumers.first_lost_word([], []) is None


def test_blg_counts() -> None:
    blg = "Warning--empty year in x\n(There were 7 warnings)\n"
    assert consumers.blg_counts(blg) == (7, 0)
    assert consumers.blg_warnings(blg) == ["x"]
    blg = "I was expecting a `,' or a `}'---line 3 of file db.bib\n(There was 1 error message)\n"
    assert consumers.blg_counts(blg) == (0, 1)
    assert consumers.blg_counts("(There were 2 error messages)\n(That was a fatal error)\n") == (
        0,
        3,
    )
    blg = (
        'Warning--string name "ieee_j_edl" is undefined\n--line 4 of file db.bib\n'
        "Warning--need editor, key, or series for r1 to crossref r2\n"
    )
    assert consumers.blg_warnings(blg) == [None, "r1"]


def test_html_entries_of_each_engine_compare_equal() -> None:
    citeproc_js = (
        '<div class="csl-entry">\n    <div class="csl-left-margin">[1]</div>'
        '<div class="csl-right-inline">L. A. Aamport, \u201cThe gnats,\u201d <i> Journal</i>,'
        " 1986.</div>\n  </div>"
    )
    pandoc3 = (
        '<div id="ref-a" class="csl-entry" role="listitem">\n<div class="csl-left-margin">[1]'
        ' </div><div class="csl-right-inline">L.\nA. Aamport, <span>\u201cThe gnats,\u201d'
        "</span><em> Journal</em>, 1986.</div>\n</div>"
    )
    ours = (
        '<div class="csl-entry" id="a" role="listitem" data-year="1986">'
        '<span class="csl-left-margin">[1]</span> <span class="csl-right-inline">'
        "L. A. Aamport, \u201cThe gnats,\u201d<i> Journal</i>, 1986.</span></div>"
    )
    want = "[1] L. A. Aamport, \u201cThe gnats,\u201d <i>Journal</i>, 1986."
    assert consumers.comparable(citeproc_js) == want
    assert consumers.html_entries(pandoc3) == {"ref-a": want}
    assert consumers.html_entries(ours) == {"a": want}
    assert consumers.comparable(ours.replace("<i> Journal</i>", " Journal")) != want


def _documented() -> set[str]:
    text = (ROOT / "docs" / "differences.md").read_text("utf-8")
    section = text.split("## Real consumers: deliberate differences", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^- `((?:bibtex|biber|pandoc2|citeproc):[^`]+)`", section, re.M))


def test_deliberate_differences_are_documented() -> None:
    assert _documented() == set(DELIBERATE)
    for entry, reason in DELIBERATE.items():
        file = entry.split(":", 1)[1].split("#", 1)[0]
        assert (FIXTURES / file).is_file(), entry
        assert reason.strip(), entry


def test_deliberate_entries_excuse_and_must_still_happen(monkeypatch) -> None:
    xampl = FIXTURES / "texlive" / "xampl.bib"
    listed = {"bibtex:texlive/xampl.bib#whole-set": "why", "citeproc:texlive/xampl.bib": "why"}
    monkeypatch.setattr(sys.modules[__name__], "DELIBERATE", listed)
    assert deliberate("bibtex", xampl, "whole-set")
    assert not deliberate("bibtex", xampl, "book-full") and not deliberate("bibtex", xampl)
    assert deliberate("citeproc", xampl) and deliberate("citeproc", xampl, "any")
    assert_none_stale("citeproc", {"citeproc:texlive/xampl.bib"})
    with pytest.raises(AssertionError, match="no longer seen"):
        assert_none_stale("bibtex", {"bibtex:texlive/xampl.bib#book-full"})


# --------------------------------------------------------------------------
# The harness sees harm through real bibtex


SMALL = """@string{ieee = "IEEE"}
@article{yu2020,
  author = {{\\relax Yu}, Li and Dante{\\space}Alighieri},
  title = {The {\\LaTeX}\\ and {BERT} Book},
  journal = ieee # " Trans.",
  year = 2020, month = {30 nov.},
}
"""


def test_harness_sees_a_lost_word_and_a_new_warning(tmp_path: Path) -> None:
    need("bibtex")
    orig = tmp_path / "orig.bib"
    orig.write_text(SMALL, encoding="utf-8")
    flat = tmp_path / "flat.bib"
    flat.write_text(SMALL.replace("{\\relax Yu}", "relaxYu"), encoding="utf-8")
    undated = tmp_path / "undated.bib"
    undated.write_text(SMALL.replace("year = 2020, ", ""), encoding="utf-8")
    for style in consumers.BIBTEX_STYLES:
        before = consumers.run_bibtex(orig, style, tmp_path)
        assert list(before.items) == ["yu2020"]
        assert "30 nov." in consumers.latex_to_text(before.items["yu2020"])
        same = consumers.compare_bbl(style, before, consumers.run_bibtex(orig, style, tmp_path))
        assert (same.kept, same.identical, same.warns_more) == (1, 1, False)
        harmed = consumers.compare_bbl(style, before, consumers.run_bibtex(flat, style, tmp_path))
        assert harmed.kept == 0 and harmed.harmed[0].lost.startswith("Yu")
        worse = consumers.compare_bbl(style, before, consumers.run_bibtex(undated, style, tmp_path))
        assert worse.warns_more and worse.new_warnings > worse.orig_warnings


@pytest.mark.slow
def test_citeproc_render_entry_for_entry() -> None:
    """APA lists no personal communication (citeproc-js says it has no rendered
    form) and prints nothing of a legal case without fields (it says nothing):
    the other entries still belong to their own items."""
    need("citeproc")
    items = [
        {"id": "a", "type": "book", "title": "Alpha", "author": [{"family": "Aa"}]},
        {"id": "letter", "type": "personal_communication", "title": "A letter"},
        {"id": "m", "type": "book", "title": "Mu", "author": [{"family": "Mm"}]},
        {"id": "case", "type": "legal_case"},
        {"id": "z", "type": "book", "title": "Omega", "author": [{"family": "Zz"}]},
    ]
    jobs = [(s, consumers.CSL_STYLE_DIR / f"{s}.csl", items) for s in consumers.CSL_STYLES]
    apa, ieee = (consumers.citeproc_render(jobs)[s] for s in consumers.CSL_STYLES)
    assert apa.errors == {"letter": "empty entry", "case": "empty entry"}
    assert apa.entries == {
        "a": "Aa. (n.d.). <i>Alpha</i>.",
        "m": "Mm. (n.d.). <i>Mu</i>.",
        "z": "Zz. (n.d.). <i>Omega</i>.",
    }
    assert ieee.errors == {"case": "empty entry"} and ieee.entries["letter"].startswith("[2] ")


# --------------------------------------------------------------------------
# BibTeX -> BibTeX under bibtex

_ROUND_TRIPS: dict[Path, consumers.BibtexRoundTrip] = {}


def round_trip(path: Path, work: Path) -> consumers.BibtexRoundTrip:
    if path not in _ROUND_TRIPS:
        _ROUND_TRIPS[path] = consumers.bibtex_round_trip(path, work)
    return _ROUND_TRIPS[path]


def problems(rt: consumers.BibtexRoundTrip) -> Iterator[str]:
    """What is wrong with one file's round trip, outside DELIBERATE."""
    for style, c in rt.styles.items():
        lost = [k for k in c.lost_keys if not deliberate("bibtex", rt.source, k)]
        if lost:
            yield f"[{style}] keys no longer printed: {lost[:10]}"
        # An entry the original does not print is a repair when bibtex stopped
        # on the original (an encoding it cannot read); else a key renamed or
        # a comment turned into an entry.
        added = [k for k in c.added_keys if not deliberate("bibtex", rt.source, k)]
        if added and not c.orig_errors:
            yield f"[{style}] entries printed that the original does not print: {added[:10]}"
        if c.warns_more and not deliberate("bibtex", rt.source):
            yield (
                f"[{style}] bibtex warnings {c.orig_warnings} -> {c.new_warnings}, "
                f"errors {c.orig_errors} -> {c.new_errors}"
            )
        for harm in c.harmed:
            if not deliberate("bibtex", rt.source, harm.key):
                yield str(harm)


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=name)
def test_bibtex_prints_every_word_of_the_original(path: Path, work: Path) -> None:
    """Every entry of this file, in the three styles: every printed word kept
    in order, the same keys, no more bibtex warnings or errors."""
    need("bibtex")
    rt = round_trip(path, work)
    found = list(problems(rt))
    assert not found, f"{name(path)}: {len(found)} problems\n" + "\n".join(found[:12])
    stale = [
        entry
        for entry in DELIBERATE
        if entry == f"bibtex:{name(path)}" or entry.startswith(f"bibtex:{name(path)}#")
    ]
    happens = {f"bibtex:{name(path)}#{h.key}" for c in rt.styles.values() for h in c.harmed}
    happens |= {
        f"bibtex:{name(path)}#{k}" for c in rt.styles.values() for k in c.lost_keys + c.added_keys
    }
    if any(c.warns_more for c in rt.styles.values()):
        happens.add(f"bibtex:{name(path)}")
    assert set(stale) <= happens, f"listed in DELIBERATE but no longer seen: {set(stale) - happens}"


@pytest.mark.slow
def test_bibtex_totals(work: Path) -> None:
    """Issue 12's bar: 99.5% of printed entries keep every word, no key lost,
    no file warns more; over every fixture and the three styles."""
    need("bibtex")
    todo = [p for p in FILES if p not in _ROUND_TRIPS]
    _ROUND_TRIPS.update(
        zip(todo, consumers.each(lambda p: consumers.bibtex_round_trip(p, work), todo), strict=True)
    )
    entries = kept = lost = 0
    warns_more: list[str] = []
    for path in FILES:
        rt = _ROUND_TRIPS[path]
        for style, c in rt.styles.items():
            entries += c.entries
            kept += c.kept + sum(deliberate("bibtex", path, h.key) for h in c.harmed)
            lost += sum(not deliberate("bibtex", path, k) for k in c.lost_keys)
            if c.warns_more and not deliberate("bibtex", path):
                warns_more.append(f"{name(path)} [{style}]")
    share = kept / max(entries, 1)
    summary = (
        f"{kept}/{entries} printed entries keep every word ({100 * share:.1f}%), "
        f"{lost} keys lost, {len(warns_more)} file-styles warn more: {warns_more[:10]}"
    )
    assert entries > 2000, summary  # the fixtures print 801 entries in each style
    assert share >= KEEP_EVERY_WORD and lost == 0 and not warns_more, summary


# --------------------------------------------------------------------------
# biber

_BIBER: dict[Path, dict[str, consumers.BiberCompare]] = {}


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["as-written", "biblatex"])
def test_biber_reads_converted_files_as_well_as_the_originals(dialect: str, work: Path) -> None:
    need("biber")
    if not _BIBER:
        _BIBER.update(
            zip(
                FILES,
                consumers.each(lambda p: consumers.biber_round_trip(p, work), FILES),
                strict=True,
            )
        )
    found, seen = [], set()
    for path in FILES:
        for c in _BIBER[path].values():  # a difference may concern one dialect only
            seen |= {f"biber:{name(path)}#{k}" for k in c.lost_keys}
            if c.warns_more or c.lost_keys:
                seen.add(f"biber:{name(path)}")
        c = _BIBER[path][dialect]
        if deliberate("biber", path):
            continue
        if c.warns_more:
            new = [line for line in c.new_log.splitlines() if line.startswith(("WARN", "ERROR"))]
            found.append(
                f"{name(path)}: warnings {c.orig_warnings} -> {c.new_warnings}, errors "
                f"{c.orig_errors} -> {c.new_errors}; e.g. {new[:2]}"
            )
        lost = [k for k in c.lost_keys if not deliberate("biber", path, k)]
        if lost:
            found.append(f"{name(path)}: keys biber no longer reads: {lost[:10]}")
    assert not found, f"--dialect {dialect}: {len(found)} problems\n" + "\n".join(found[:20])
    assert_none_stale("biber", seen)


# --------------------------------------------------------------------------
# pandoc 2.x as a producer of CSL-JSON

_PANDOC2: dict[Path, consumers.Produced] = {}


def pandoc2_items() -> list[tuple[str, list[dict]]]:
    """pandoc 2.x's CSL-JSON of every fixture it reads (name, items)."""
    if not _PANDOC2:
        _PANDOC2.update(zip(FILES, consumers.each(consumers.pandoc2_csljson, FILES), strict=True))
    return [(name(p), _PANDOC2[p].items) for p in FILES if _PANDOC2[p].items]


@pytest.mark.slow
def test_pandoc2_csljson_is_read_whole(work: Path) -> None:
    """pandoc 2.x writes ``"type": ""`` for @misc: bibtools reads every item."""
    need("pandoc2")
    found, given = [], 0
    listed = {e for e in DELIBERATE if e.startswith("pandoc2:")}
    for file, items in pandoc2_items():
        if f"pandoc2:{file}" in listed:
            listed.discard(f"pandoc2:{file}")
            continue
        path = work / "pandoc2" / (file.replace("/", "__") + ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        read = consumers.bibtools_reads_csljson(path, work)
        given += read.given
        if read.written != read.given:
            found.append(f"{file}: {read.written}/{read.given} items; {read.skipped[:2]}")
    assert given > 500, given
    assert not found, f"{len(found)} files lose items\n" + "\n".join(found[:20])
    assert not listed, f"listed in DELIBERATE but not a file pandoc 2.x reads: {sorted(listed)}"


@pytest.mark.slow
@pytest.mark.parametrize("to", ["bibtex", "biblatex"])
def test_pandoc2_bibtex_is_read_whole(to: str, work: Path) -> None:
    """pandoc 2.x as a producer of BibTeX and BibLaTeX: bibtools reads every entry."""
    need("pandoc2")
    written = consumers.each(lambda p: consumers.pandoc_bibtex(p, to), FILES)
    found, given = [], 0
    for path, text in zip(FILES, written, strict=True):
        if not text or deliberate("pandoc2", path):
            continue
        read = consumers.bibtools_reads_bibtex(text, work)
        given += read.given
        if read.written != read.given:
            found.append(f"{name(path)}: {read.written}/{read.given} entries; {read.skipped[:2]}")
    assert given > 500, given
    assert not found, f"{len(found)} files lose entries\n" + "\n".join(found[:20])


@pytest.mark.slow
@pytest.mark.parametrize("style", consumers.CSL_STYLES)
def test_pandoc2_csljson_renders_as_citeproc_js_does(style: str, work: Path) -> None:
    """``bibtools format`` of pandoc 2.x's CSL-JSON agrees with citeproc-js
    entry for entry at least as often as pandoc 3 does on the same JSON."""
    for tool in ("pandoc2", "citeproc", "pandoc3"):
        need(tool)
    items = consumers.unique_ids(pandoc2_items())
    a = consumers.render_agreement(items, work, [style])[style]
    summary = (
        f"{style}: {a.items} entries; as citeproc-js: bibtools {a.agree['bibtools']} "
        f"(not rendered {a.missing['bibtools']}), pandoc 3 {a.agree['pandoc3']}\n"
        + "\n".join(a.differ["bibtools"][:8])
    )
    assert a.items >= len(items) * 0.95, summary
    assert a.agree["bibtools"] >= a.agree["pandoc3"], summary


# --------------------------------------------------------------------------
# citeproc-js as a consumer of bibtools' CSL-JSON


@pytest.mark.slow
def test_citeproc_js_renders_every_item_of_bibtools_csljson(work: Path) -> None:
    """Without an error, and none empty in every style."""
    need("citeproc")
    failed, total, seen = [], 0, set()
    for c in consumers.citeproc_consumer(FILES, work):
        total += c.items
        keys = set(c.errors) | set(c.empty_everywhere())
        seen |= {f"citeproc:{name(c.source)}#{k}" for k in keys}
        if keys or (c.no_output and not c.nothing_to_render):
            seen.add(f"citeproc:{name(c.source)}")
        if c.no_output and deliberate("citeproc", c.source):
            continue
        if c.no_output and not c.nothing_to_render:
            failed.append(f"{name(c.source)}: no CSL-JSON ({c.no_output})")
        bad = {k: v for k, v in c.errors.items() if not deliberate("citeproc", c.source, k)}
        bad |= {
            k: "empty in every style"
            for k in c.empty_everywhere()
            if not deliberate("citeproc", c.source, k)
        }
        if bad:
            failed.append(
                f"{name(c.source)}: {len(bad)}/{c.items} items: {sorted(bad.items())[:3]}"
            )
    assert total > 700, total
    assert not failed, f"{len(failed)} problems\n" + "\n".join(failed[:20])
    assert_none_stale("citeproc", seen)
