"""The same records through each site-generator export, checked against the generators' rules.

The checkers (tests/sites.py) restate what al-folio's bib.liquid and
bibtex-ruby, Hugo Blox's templates and academicpages' Jekyll collection read
(docs/site-exports.md); here bibtools' own exports must pass them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sites import check_academicpages, check_alfolio, check_hugoblox

from bibtools.cli import main
from bibtools.convert import read_text, write
from bibtools.sites import SITES, export, slug, yaml_str
from bibtools.text.keys import assign_keys

EXTRA = r"""
@article{si2023vqa,
  author = {Si, Qingyi and Lin, Zheng and Wang, Weiping},
  title = {Combining {BERT} and {VQA}: Robust answers},
  journal = {Journal of Multimodal Learning (JML)},
  year = {2023}, month = may,
  doi = {10.1234/jml.2023.5},
  code = {https://github.com/qingyi/vqa},
  selected = {true},
  abstract = {First line.
    Second line, with "quotes" and a colon: here.},
}
@inproceedings{doe2019,
  author = {Jane Doe},
  title = {Zebra crossings <script>alert(1)</script>},
  booktitle = {Proceedings of the Conference on Things},
  year = {2019},
  pdf = {https://example.org/doe2019.pdf},
}
@book{roe2021,
  author = {Richard Roe},
  title = {Learning from Data},
  publisher = {Example Press},
  year = {2021},
  url = {javascript:alert(1)},
}
@misc{roe2024pre,
  author = {Roe, Richard and others},
  title = {A preprint},
  year = {2024},
  eprint = {2401.01234}, archiveprefix = {arXiv}, primaryclass = {cs.LG},
}
"""


@pytest.fixture(scope="module")
def records() -> list:
    text = (files("bibtools") / "data" / "example.listing").read_text(encoding="utf-8")
    recs = read_text(text, "listing", as_of=dt.date(2025, 1, 1)).records
    recs += read_text(EXTRA, "bibtex").records
    assign_keys(recs)
    recs[0].code_links[0] = replace(recs[0].code_links[0], stars=1234)
    return recs


def materialise(records: list, site: str, root: Path) -> list[str]:
    made = export(records, site, write(records, "bibtex").text)
    for f in made.files:
        path = root / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.text, encoding="utf-8")
    return [f.path for f in made.files]


def test_al_folio_accepts_the_export(records: list, tmp_path: Path) -> None:
    assert materialise(records, "al-folio", tmp_path) == ["_bibliography/papers.bib"]
    bib = (tmp_path / "_bibliography" / "papers.bib").read_text(encoding="utf-8")
    assert check_alfolio(bib) == []
    bib = re.sub(r" +=", " =", bib)  # field names are padded to the longest in the entry
    # Every paper is there, with the fields bib.liquid turns into buttons.
    assert bib.count("\n@") == len(records)
    si = bib[bib.index("@article{si2023vqa") :].split("\n}\n")[0]
    for line in (
        "abbr = {JML}",
        "selected = {true}",
        "code = {https://github.com/qingyi/vqa}",
        "bibtex_show = {true}",
    ):
        assert line in si
    assert "abstract = {First line. Second line" in si  # one line: al-folio hides it
    pre = bib[bib.index("@misc{roe2024pre") :].split("\n}\n")[0]
    assert "arxiv = {2401.01234}" in pre and "abbr = {arXiv}" in pre
    doe = bib[bib.index("@inproceedings{doe2019") :].split("\n}\n")[0]
    assert "pdf = {https://example.org/doe2019.pdf}" in doe
    # bib.liquid prints values unescaped: HTML is escaped, javascript: dropped, both said.
    assert "title = {Zebra crossings &lt;script&gt;alert(1)&lt;/script&gt;}" in doe
    roe = bib[bib.index("@book{roe2021") :].split("\n}\n")[0]
    assert "javascript" not in roe
    made = export(records, "al-folio", write(records, "bibtex").text)
    said = [str(d) for d in made.diagnostics]
    assert any("doe2019" in d and "HTML in title escaped" in d for d in said)
    assert any("roe2021" in d and "url left out" in d for d in said)


def test_hugo_blox_accepts_the_export(records: list, tmp_path: Path) -> None:
    paths = materialise(records, "hugo-blox", tmp_path)
    assert len(paths) == 2 * len(records)  # index.md and cite.bib per paper
    assert all(p.startswith("content/publications/") for p in paths)
    assert check_hugoblox(tmp_path, strict=True) == []
    fm = yaml.safe_load(
        (tmp_path / "content/publications/si2023vqa/index.md").read_text().split("---")[1]
    )
    assert fm["authors"] == ["Qingyi Si", "Zheng Lin", "Weiping Wang"]
    assert fm["date"] == "2023-05-01" and fm["publication_types"] == ["article-journal"]
    assert fm["publication"] == "*Journal of Multimodal Learning (JML)*"  # year: from date
    assert fm["publication_short"] == "JML"
    assert fm["featured"] is True and fm["hugoblox"] == {"ids": {"doi": "10.1234/jml.2023.5"}}
    assert fm["links"] == [{"type": "code", "url": "https://github.com/qingyi/vqa"}]
    assert fm["abstract"] == 'First line. Second line, with "quotes" and a colon: here.'
    pre = yaml.safe_load(
        (tmp_path / "content/publications/roe2024pre/index.md").read_text().split("---")[1]
    )
    assert pre["authors"] == ["Richard Roe", "et al."]  # never a silent cut
    assert pre["hugoblox"]["ids"]["arxiv"] == "2401.01234"
    cite = (tmp_path / "content/publications/roe2021/cite.bib").read_text()
    assert cite.startswith("@book{roe2021,") and "javascript" in cite  # as references.bib
    book = (tmp_path / "content/publications/roe2021/index.md").read_text()
    assert "links" not in book  # a javascript: URL is no link


def test_academicpages_accepts_the_export(records: list, tmp_path: Path) -> None:
    paths = materialise(records, "academicpages", tmp_path)
    assert len(paths) == len(records)
    assert check_academicpages(tmp_path) == []
    doe = (tmp_path / "_publications" / "2019-01-01-doe2019.md").read_text()
    fm = yaml.safe_load(doe.split("---")[1])
    assert fm["category"] == "conferences" and fm["permalink"] == "/publication/2019-01-01-doe2019"
    assert fm["title"] == "Zebra crossings &lt;script&gt;alert(1)&lt;/script&gt;"
    assert fm["paperurl"] == "https://example.org/doe2019.pdf"
    assert fm["venue"] == "Proceedings of the Conference on Things"  # "Published in ..., 2019"
    assert "<i>Proceedings of the Conference on Things</i>" in fm["citation"]
    book = yaml.safe_load(
        (tmp_path / "_publications" / "2021-01-01-roe2021.md").read_text().split("---")[1]
    )
    assert book["category"] == "books"


def test_undated_records_are_named_not_dropped_silently(records: list) -> None:
    undated = read_text("@misc{nodate, title = {No date}, author = {A. B.}}", "bibtex").records
    made = export(undated, "academicpages", write(undated, "bibtex").text)
    assert made.files == [] and "no publication date" in str(made.diagnostics[0])
    assert "nodate" in str(made.diagnostics[0])


def test_yaml_strings_read_back_as_written() -> None:
    for text in ['a: "b" # c', "line\nbreak", "\u2028sep\x85", "é ü 中文", "- [x]", "null", "true"]:
        assert yaml.safe_load(f"k: {yaml_str(text)}") == {"k": text}


def test_slugs() -> None:
    assert slug("vaswani2017attention") == "vaswani2017attention"
    assert slug("O'Sullivan-Hale:2005") == "o-sullivan-hale-2005"
    assert slug("Ærø_ü") == "r-u" or slug("Ærø_ü").replace("-", "").isalnum()


@pytest.mark.parametrize("site", SITES)
def test_build_site_writes_the_files(site: str, tmp_path: Path) -> None:
    src = tmp_path / "refs.bib"
    src.write_text(EXTRA, encoding="utf-8")
    out = tmp_path / "site"
    result = CliRunner().invoke(main, ["build", str(src), "-o", str(out), "--site", site])
    assert result.exit_code == 0, result.output
    checks = {
        "al-folio": lambda: check_alfolio((out / "_bibliography/papers.bib").read_text()),
        "hugo-blox": lambda: check_hugoblox(out, strict=True),
        "academicpages": lambda: check_academicpages(out),
    }
    assert checks[site]() == []
    assert (out / "publications.html").is_file()
