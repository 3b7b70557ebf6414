"""The site-generator checkers (tests/sites.py) against the generators' own examples.

Each checker must accept the example publications the generator ships
(tests/data/sites/, see SOURCES.md there) and reject the broken exports a
converter could plausibly write. The contracts are in docs/site-exports.md.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sites import (
    check_academicpages,
    check_alfolio,
    check_hugoblox,
)

DATA = Path(__file__).parent / "data" / "sites"
ALFOLIO_BIB = (DATA / "al-folio" / "papers.bib").read_text(encoding="utf-8")

# What a good export to al-folio looks like: every custom field bibtools
# would write, on one line each, with the marks al-folio understands.
ALFOLIO_EXPORT = r"""
@inproceedings{vaswani2017attention,
  abbr = {NeurIPS},
  bibtex_show = {true},
  selected = {true},
  title = {Attention Is All You Need},
  author = {Vaswani*, Ashish and Shazeer*, Noam and Parmar, Niki},
  booktitle = {Advances in Neural Information Processing Systems},
  year = {2017},
  arxiv = {1706.03762},
  pdf = {https://arxiv.org/pdf/1706.03762},
  code = {https://github.com/tensorflow/tensor2tensor},
  annotation = {* Equal contribution},
  abstract = {The dominant sequence transduction models are based on complex recurrent networks.},
}
@article{doe2020,
  title = {A journal paper},
  author = {Jane Doe},
  journal = {Journal of Things},
  year = 2020,
  month = may,
  doi = {10.1000/xyz123},
}
"""


def test_alfolio_accepts_its_own_example_bibliography() -> None:
    assert "inspirehep_id" in ALFOLIO_BIB and "Einstein*†" in ALFOLIO_BIB  # the real file
    assert check_alfolio(ALFOLIO_BIB) == []


def test_alfolio_accepts_a_complete_export() -> None:
    assert check_alfolio(ALFOLIO_EXPORT) == []


@pytest.mark.parametrize(
    ("bib", "expected"),
    [
        ("@article{title = {X}, year = {2020}}", "without a citation key"),
        ("@article(k1, title = {X}, year = {2020})", "not followed by '{'"),
        (
            "@article{k1, title = {X}, year = {2020}}\n% mail me@example.org\n",
            "not followed by '{'",
        ),
        ("@article{k1, title = {X {Y}, year = {2020}", "unbalanced braces"),
        ("@article{k1, title = {X}, year = {2020}", "not followed by ',' or '}'"),
        (
            "@article{k1, title = {X}, year = {2020}}\n@misc{k1, title = {Y}, year = {2021}}",
            "key already used",
        ),
        ("@article{k1, title = {X}, year = {2020}, selected = {yes}}", "only understands {true}"),
        ("@article{k1, title = {X}, year = {2020}, bibtex_show = {false}}", "even false"),
        ("@article{k1, title = {X}, year = {2020}, selected = true}", "bare word"),
        (
            "@article{k1, title = {X}, year = {2020}, arxiv = {https://arxiv.org/abs/1706.03762}}",
            "bare arXiv id",
        ),
        ("@article{k1, title = {X}, year = {2020}, doi = {https://doi.org/10.1000/x}}", "bare DOI"),
        (
            "@article{k1, title = {X}, year = {2020}, code = {github.com/a/b}}",
            "absolute http(s) URL",
        ),
        (
            "@article{k1, title = {X}, year = {2020}, annotation = {* Equal\n  contribution}}",
            "spans lines",
        ),
        (
            "@article{k1, title = {X}, year = {2020}, author = {Einstein, A.*}}",
            "must end the last name",
        ),
        ("@article{k1, title = {X}, year = {2020}, author = {Einstein∗, A.}}", "U+2217"),
        ("@article{k1, title = {X}, year = {2020}, publisher = acm}", "undefined @string"),
        ("@article{k1, title = {X <script>alert(1)</script>}, year = {2020}}", "script-like"),
        ("@article{k1, title = {X}}", "no year"),
        ("@article{k1, title = {X}, year = 2020a}", "mixes digits and letters"),
        ("@article{k1, title = {X}, year = {2020}, title = {Y}}", "given twice"),
        ("% nothing here\n", "no entry"),
    ],
)
def test_alfolio_rejects_broken_bibliographies(bib: str, expected: str) -> None:
    problems = check_alfolio(bib)
    assert any(expected in p for p in problems), problems


def test_alfolio_lexer_drop_names_the_line_and_keeps_later_entries() -> None:
    bib = "@article(k0, title={X})\n\n@article{k1, title = {X}, year = {2020}}\n"
    problems = check_alfolio(bib)
    assert len(problems) == 1 and problems[0].startswith("line 1:"), problems
    assert "silently vanishes" in problems[0]


# --------------------------------------------------------------------------
# Hugo Blox
# --------------------------------------------------------------------------


def test_hugoblox_accepts_the_academic_cv_template_publications() -> None:
    assert check_hugoblox(DATA / "hugo-blox") == []


def test_hugoblox_accepts_the_academic_importer_output() -> None:
    folder = DATA / "hugo-blox-academic-cli"
    assert check_hugoblox(folder) == []
    assert check_hugoblox(folder, strict=True) == []


def test_hugoblox_strict_mode_reports_what_the_template_leaves_empty() -> None:
    problems = check_hugoblox(DATA / "hugo-blox", strict=True)
    assert any("preprint: no cite.bib" in p for p in problems)
    assert any("empty url" in p for p in problems)


@pytest.fixture()
def hugo_site(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "hugo-blox", tmp_path / "site")
    return tmp_path / "site"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


JOURNAL = Path("content/publications/journal-article")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'publication_types: ["article-journal"]',
            'publication_types: ["2"]',
            "Wowchemy <= 5 code",
        ),
        (
            'publication_types: ["article-journal"]',
            "publication_types: article-journal",
            "list of one CSL type",
        ),
        (
            'publication_types: ["article-journal"]',
            'publication_types: ["journal"]',
            "not a CSL type",
        ),
        ('date: "2015-09-01T00:00:00Z"', 'date: "September 2015"', "is not a date"),
        ('date: "2015-09-01T00:00:00Z"\n', "", "date: missing"),
        ("featured: false", "featured: 'false'", "featured: must be true or false"),
        ("featured: false", "featured: no", "featured: must be true or false"),
        (
            "authors:\n- me\n- Robert Ford",
            "authors: me and Robert Ford",
            "authors: missing or not a list",
        ),
        ('title: "An example journal article"', "title: An: example", "not valid YAML"),
        ("arxiv: 1512.04133v1", "arxiv: https://arxiv.org/abs/1512.04133v1", "not a bare arXiv id"),
        ("arxiv: 1512.04133v1", "arxive: 1512.04133v1", "unknown identifier"),
        ("  - type: pdf\n", "  - type: paper\n", "unknown and has no label"),
        ("author_notes:\n", "author_notes:\n- extra\n", "more notes than authors"),
    ],
)
def test_hugoblox_rejects_broken_front_matter(
    hugo_site: Path, old: str, new: str, expected: str
) -> None:
    _edit(hugo_site / JOURNAL / "index.md", old, new)
    problems = check_hugoblox(hugo_site)
    assert any(expected in p and "journal-article" in p for p in problems), problems


def test_hugoblox_rejects_broken_bundles(hugo_site: Path) -> None:
    section = hugo_site / "content" / "publications"
    (section / "journal-article").rename(section / "Journal Article")
    (section / "preprint" / "index.md").rename(section / "preprint" / "_index.md")
    (section / "conference-paper" / "cite.bib").write_text(
        "@misc{a, title={A}}\n@misc{b, title={B}}\n", encoding="utf-8"
    )
    problems = check_hugoblox(hugo_site)
    assert any("Journal Article: folder name is not a slug" in p for p in problems), problems
    assert any("branch bundle" in p for p in problems), problems
    assert any("exactly one entry (has 2)" in p for p in problems), problems
    assert check_hugoblox(hugo_site / "content" / "nothing-here") != []


def test_hugoblox_reads_toml_front_matter_and_flags_deprecated_fields_when_strict(
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "content" / "publication" / "doe-2020"
    bundle.mkdir(parents=True)
    (bundle / "index.md").write_text(
        '+++\ntitle = "A paper"\ndate = 2020-05-01\nauthors = ["Jane Doe"]\n'
        'publication_types = ["article-journal"]\ndoi = "10.1000/xyz"\n'
        'url_pdf = "https://example.org/a.pdf"\n+++\n',
        encoding="utf-8",
    )
    (bundle / "cite.bib").write_text("@article{doe2020, title={A paper}}\n", encoding="utf-8")
    assert check_hugoblox(tmp_path) == []
    strict = check_hugoblox(tmp_path, strict=True)
    assert sorted(p.split(": ")[1] for p in strict) == ["doi", "url_pdf"], strict
    (bundle / "index.md").write_text('+++\ntitle = "A paper\n+++\n', encoding="utf-8")
    assert any("not valid TOML" in p for p in check_hugoblox(tmp_path))


# --------------------------------------------------------------------------
# academicpages
# --------------------------------------------------------------------------


def test_academicpages_accepts_its_example_publications_but_one(tmp_path: Path) -> None:
    # Upstream's fifth example copies the fourth's permalink: Jekyll writes both
    # pages to one file. That is the only thing wrong with the examples.
    problems = check_academicpages(DATA / "academicpages")
    assert len(problems) == 1, problems
    assert "2025-06-08-paper-title-number-5.md: permalink" in problems[0]
    pubs = tmp_path / "_publications"
    shutil.copytree(DATA / "academicpages" / "_publications", pubs)
    (pubs / "2025-06-08-paper-title-number-5.md").unlink()
    assert check_academicpages(tmp_path) == []


@pytest.fixture()
def ap_site(tmp_path: Path) -> Path:
    pubs = tmp_path / "_publications"
    pubs.mkdir()
    shutil.copy(
        DATA / "academicpages" / "_publications" / "2009-10-01-paper-title-number-1.md", pubs
    )
    return tmp_path


AP_FIRST = "_publications/2009-10-01-paper-title-number-1.md"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("category: manuscripts\n", "", "is not one of"),
        ("category: manuscripts", "category: journal", "is not one of"),
        ("date: 2009-10-01", "date: October 2009", "not a date"),
        ("venue: 'Journal 1'", "venue: ''", "venue: missing"),
        ('title: "Paper Title Number 1"', 'title: "Paper "Title" 1"', "not valid YAML"),
        (
            "permalink: /publication/",
            "permalink: publication/",
            "permalink: missing or not a site path",
        ),
        ("paperurl: 'http://", "paperurl: 'www.", "paperurl: must be an http(s) URL"),
        ("citation: 'Your Name", "citation: '<script>x</script> Your Name", "script-like"),
        ("---\ntitle", "title", "no front matter"),
    ],
)
def test_academicpages_rejects_broken_files(
    ap_site: Path, old: str, new: str, expected: str
) -> None:
    _edit(ap_site / AP_FIRST, old, new)
    problems = check_academicpages(ap_site)
    assert any(expected in p for p in problems), problems


def test_academicpages_file_names_and_sites_without_categories(ap_site: Path) -> None:
    src = ap_site / AP_FIRST
    src.rename(src.with_name("Paper Title 1.md"))
    problems = check_academicpages(ap_site)
    assert len(problems) == 1 and "YYYY-MM-DD-slug.md" in problems[0], problems
    src.with_name("Paper Title 1.md").rename(src)
    _edit(src, "category: manuscripts\n", "")
    assert check_academicpages(ap_site, categories=None) == []
    assert check_academicpages(ap_site) != []
