"""The publication page's view of each paper (issue 17): authors, venue, links, toggles, footer."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from bibtools.cli import main
from bibtools.convert import read_text
from bibtools.model import CodeLink, Name, PartialDate, Record
from bibtools.pages import FormatOptions, format_records
from bibtools.publication import (
    Incomplete,
    author_inlines,
    bibtex_entries,
    incomplete,
    is_selected,
    venue_inlines,
)
from bibtools.render import plain_text
from bibtools.text.keys import assign_keys

BIB = r"""
@article{si2023vqa,
  author = {Si, Qingyi and Lin, Zheng and Wang, Weiping},
  title = {Combining {BERT} and {VQA}},
  journal = {Journal of Multimodal Learning},
  volume = {5}, number = {2}, pages = {11--29},
  year = {2023},
  doi = {10.1234/jml.2023.5},
  code = {https://github.com/qingyi/vqa},
  selected = {true},
}
@inproceedings{doe2019,
  author = {Jane Doe and Si, Qingyi},
  title = {Zebra crossings considered},
  booktitle = {Proceedings of the Conference on Things},
  year = {2019},
  pdf = {https://example.org/doe2019.pdf},
  website = {https://example.org/zebra},
}
@misc{roe2024pre,
  author = {Roe, Richard and others},
  title = {A preprint <script>alert(1)</script>},
  year = {2024},
  eprint = {2401.01234}, archiveprefix = {arXiv}, primaryclass = {cs.LG},
  abstract = {We show that <img src=x onerror=alert(2)> is text.},
}
"""


def records() -> list[Record]:
    recs = read_text(BIB, "bibtex").records
    assign_keys(recs)
    return recs


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def page(recs: list[Record], **options: object) -> str:
    base = FormatOptions(output="html", standalone=True, group_by="year", sort="date-desc")
    for k, v in options.items():
        setattr(base, k, v)
    return format_records(recs, base).text


def test_venue_lines() -> None:
    by_key = {r.key: r for r in records()}
    venue = {k: plain_text(venue_inlines(r)) for k, r in by_key.items()}
    assert venue["si2023vqa"] == "Journal of Multimodal Learning, 5(2), 11–29, 2023"
    assert venue["doe2019"] == "In Proceedings of the Conference on Things, 2019"
    assert venue["roe2024pre"] == "arXiv preprint arXiv:2401.01234 [cs.LG], 2024"
    ref = Record(type="article", title="T", journal_ref="NAACL 2022", issued=PartialDate(2022))
    assert plain_text(venue_inlines(ref)) == "NAACL 2022"  # the year is in it already
    listing = Record(
        type="article", title="T", arxiv_primary_class="cs.CL", issued=PartialDate(2017)
    )
    assert plain_text(venue_inlines(listing)) == "Preprint [cs.CL], 2017"


def test_full_author_list_and_et_al_only_when_the_source_cut_it() -> None:
    names = [Name("Vaswani", "Ashish"), Name("Shazeer", "Noam"), Name("Parmar", "Niki")]
    full = Record(title="T", authors=list(names))
    assert plain_text(author_inlines(full)) == "Ashish Vaswani, Noam Shazeer, and Niki Parmar"
    cut = Record(title="T", authors=list(names), authors_truncated=True)
    assert plain_text(author_inlines(cut)) == "Ashish Vaswani, Noam Shazeer, Niki Parmar, et al."
    two = Record(title="T", authors=names[:2])
    assert plain_text(author_inlines(two)) == "Ashish Vaswani and Noam Shazeer"


def test_each_paper_shows_title_authors_venue_links_and_toggles() -> None:
    html = page(records(), highlight=["Qingyi Si"])
    article = html[html.index('id="si2023vqa"') :]
    article = article[: article.index("</article>")]
    assert '<h3 class="bt-title">Combining BERT and VQA</h3>' in article
    assert '<b class="highlight">Qingyi Si</b>, Zheng Lin, and Weiping Wang' in article
    assert "<i>Journal of Multimodal Learning</i>, 5(2), 11–29, 2023" in article
    assert "[DOI]</a>" in article and 'class="badge badge-code">[Code]</a>' in article
    assert '<details class="bt-bibtex"><summary>BibTeX</summary>' in article
    doe = html[html.index('id="doe2019"') :]
    doe = doe[: doe.index("</article>")]
    assert re.search(r'href="https://example.org/doe2019.pdf" class="badge badge-pdf">\[PDF\]', doe)
    assert 'href="https://example.org/zebra" class="badge badge-project">[Project]</a>' in doe
    assert 'Jane Doe and <b class="highlight">Qingyi Si</b>' in doe


def test_links_in_a_fixed_order() -> None:
    rec = Record(
        type="article-journal",
        key="k",
        title="T",
        arxiv_id="2401.01234",
        pdf_url="https://example.org/k.pdf",
        doi="10.1/x",
        url="https://example.org/project",
        code_links=[CodeLink("https://github.com/a/b", stars=1500)],
    )
    entry = format_records([rec], FormatOptions(output="html", standalone=True)).entries[0]
    assert [b.label for b in entry.badges] == ["arXiv", "PDF", "DOI", "Code \u2605 1.5k", "Project"]


def test_everything_from_the_records_is_escaped() -> None:
    html = page(records())
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    parser = Tags()
    parser.feed(html)
    assert [t for t, _ in parser.tags].count("script") == 1  # ours
    assert [t for t, _ in parser.tags if t == "img"] == []


def test_page_is_self_contained() -> None:
    parser = Tags()
    parser.feed(page(records()))
    for tag, attrs in parser.tags:
        assert tag not in ("link", "iframe", "img"), tag
        if tag == "script":
            assert "src" not in attrs
    assert "@import" not in page(records()) and "url(" not in page(records())


def test_selected_papers_first_when_asked() -> None:
    recs = records()
    assert [r.key for r in recs if is_selected(r)] == ["si2023vqa"]
    result = format_records(
        recs, FormatOptions(output="html", standalone=True, sort="date-desc", selected_first=True)
    )
    assert [g.title for g in result.groups] == ["Selected publications", "Other publications"]
    assert [e.key for e in result.entries] == ["si2023vqa", "roe2024pre", "doe2019"]
    without = format_records(recs, FormatOptions(output="html", standalone=True, sort="date-desc"))
    assert [e.key for e in without.entries] == ["roe2024pre", "si2023vqa", "doe2019"]


@pytest.mark.slow
def test_footer_says_when_built_and_what_is_incomplete() -> None:
    recs = records()
    missing = incomplete(recs, [("doe2019", "arXiv: not found")])
    assert missing == [  # in input order
        Incomplete("doe2019", "arXiv: not found"),
        Incomplete("roe2024pre", "author list cut by the source"),
    ]
    html = page(recs, built="2026-12-04", incomplete=missing)
    footer = html[html.index("<footer>") : html.index("</footer>")]
    assert "Built on 2026-12-04" in footer and "2 records could not be completed" in footer
    assert '<a href="#roe2024pre">roe2024pre</a>: author list cut by the source' in footer
    assert "Built on" not in page(recs) and "could not be completed" not in page(recs)


@pytest.fixture
def built(tmp_path: Path) -> Path:
    src = tmp_path / "refs.bib"
    src.write_text(BIB, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["build", str(src), "-o", str(out), "--as-of", "2026-12-04", "--highlight", "Qingyi Si"],
    )
    assert result.exit_code == 0, result.output
    return out


def test_build_shows_each_entry_exactly_as_references_bib_has_it(built: Path) -> None:
    import html as htmllib

    bib = (built / "references.bib").read_text(encoding="utf-8")
    page_html = (built / "publications.html").read_text(encoding="utf-8")
    shown = [htmllib.unescape(m) for m in re.findall(r"<code>(.*?)</code>", page_html, re.S)]
    entries = bibtex_entries(bib)
    assert len(shown) == len(entries) == 3
    assert sorted(shown) == sorted(entries.values())
    for text in entries.values():
        assert text in bib  # verbatim slices of the file
    assert "Built on 2026-12-04" in page_html
    assert '<b class="highlight">Qingyi Si</b>' in page_html


def test_build_help_names_the_publication_files_and_has_examples() -> None:
    text = CliRunner().invoke(main, ["build", "--help"]).output
    assert "publications.html" in text and "publications.md" in text
    assert "Examples:" in text and "bibtools build refs.bib --site al-folio" in text
    assert "--highlight NAME" in text and "--site [al-folio|hugo-blox|academicpages]" in text


def test_default_date_is_not_needed_for_a_page() -> None:
    # format --standalone has no build date unless one is given: nothing depends on today.
    html = page(records())
    assert str(dt.date.today().year) + "-" not in html.split("<footer>")[1]


LISTING = """\
CLJun 12, 2017Code
Attention Is All You NeedAshish Vaswani, Noam Shazeer, Niki Parmar et al.
The code is at https://github.com/tensorflow/tensor2tensor.
CVMar 20, 2017Code
Mask R-CNNKaiming He, Georgia Gkioxari, Piotr Dollár, Ross Girshick
Code: https://github.com/facebookresearch/Detectron-gone.
"""


def test_build_enrich_completes_the_page_and_shows_every_code_status(tmp_path: Path) -> None:
    from fakes.arxiv_server import FakeArxiv, Paper
    from fakes.github_server import FakeGitHub, synthetic_repo

    authors = ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit", "Llion Jones"]
    papers = [Paper("1706.03762", "Attention Is All You Need", authors, primary="cs.CL")]
    src = tmp_path / "papers.txt"
    src.write_text(LISTING, encoding="utf-8")
    with (
        FakeArxiv(papers) as arxiv,
        FakeGitHub([synthetic_repo("tensorflow/tensor2tensor", 1, stars=16000)]) as github,
    ):
        env = {
            **github.env(),
            "BIBTOOLS_ARXIV_API": arxiv.url,
            "BIBTOOLS_ARXIV_DELAY": "0",
            "BIBTOOLS_CACHE_DIR": str(tmp_path / "cache"),
        }
        result = CliRunner(env=env).invoke(
            main,
            ["build", str(src), "-o", str(tmp_path / "out"), "--enrich", "--as-of", "2026-12-04"],
        )
    assert result.exit_code == 1  # Mask R-CNN: not on this arXiv, its repository gone
    html = (tmp_path / "out" / "publications.html").read_text(encoding="utf-8")
    assert "Ashish Vaswani, Noam Shazeer, Niki Parmar, Jakob Uszkoreit, and Llion Jones" in html
    assert "<i>arXiv preprint arXiv:1706.03762 [cs.CL]</i>, 2017" in html
    assert 'href="https://arxiv.org/abs/1706.03762" class="badge badge-arxiv">[arXiv]' in html
    assert "[Code \u2605 16k]</a>" in html and "[Code: unavailable]" in html
    footer = html[html.index("<footer>") :]
    assert "Built on 2026-12-04" in footer and '<a href="#he2017mask">he2017mask</a>' in footer
    assert "vaswani2017attention" not in footer


def test_footer_names_records_that_could_not_be_read_without_local_paths(tmp_path: Path) -> None:
    src = tmp_path / "papers.txt"
    src.write_text(
        "CLJun 12, 2017\nAttention Is All You NeedAshish Vaswani, Noam Shazeer\nAbstract.\n"
        "GNJan 9, 2025\nAn Approach to Testing Firm ConductYoungjin Hong, Kyoo il Kim\nAbstract.\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["build", str(src), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    html = (tmp_path / "out" / "publications.html").read_text(encoding="utf-8")
    footer = html[html.index("<footer>") : html.index("</footer>")]
    assert "<li>papers.txt:5: cannot find where the title ends" in footer
    assert str(tmp_path) not in html
