"""Publication lists: output formats, grouping, sorting, numbering, highlighting, badges,
templates, configuration, and escaping of hostile records."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bibtools import pages
from bibtools.convert import read_text
from bibtools.diagnostics import UsageError
from bibtools.model import CodeLink
from bibtools.pages import CodeStatus, FormatOptions, format_records
from bibtools.text.keys import assign_keys

BIB = r"""
@article{si2023vqa,
  author = {Si, Qingyi and Lin, Zheng and Wang, Weiping},
  title = {Combining {BERT} and {VQA} for robust answers},
  journal = {Journal of Multimodal Learning},
  year = {2023}, month = {mar}, volume = {5}, number = {2}, pages = {11--29},
  doi = {10.1000/jml.2023.5},
}
@inproceedings{si2022lora,
  author = {Qingyi Si and Jane Doe},
  title = {Towards {LoRA} adapters for question answering},
  booktitle = {Proceedings of the 60th Annual Meeting of the ACL},
  year = {2022},
  url = {https://github.com/qingyi/lora-qa},
}
@misc{doe2024pre,
  author = {Doe, Jane and Si, Q.},
  title = {A preprint about retrieval},
  year = {2024},
  eprint = {2401.01234}, archiveprefix = {arXiv}, primaryclass = {cs.CL},
}
@book{roe2021,
  author = {Richard Roe},
  title = {Learning from Data},
  publisher = {Example Press},
  year = {2021},
}
@misc{undated,
  author = {Anne Other},
  title = {Notes without a date},
}
"""

HOSTILE = r"""
@article{evil,
  author = {Mallory, Eve},
  title = {<script>alert(1)</script> and \input{/etc/passwd} and <img src=x onerror=alert(2)> *bold* [x](javascript:alert(3)) 100\% \$x\$},
  journal = {J. <b>Hostile</b>},
  year = {2020},
  url = {javascript:alert(4)},
  doi = {10.1/"><script>alert(5)</script>},
}
@misc{evil2,
  author = {Mallory, Eve},
  title = {Data link},
  year = {2019},
  url = {data:text/html;base64,PHNjcmlwdD5hbGVydCg2KTwvc2NyaXB0Pg==},
}
"""


def load(text: str = BIB) -> list:
    recs = read_text(text, "bibtex").records
    assign_keys(recs)
    return recs


@pytest.fixture(scope="module")
def recs() -> list:
    out = load()
    out[0].code_links = [CodeLink("https://github.com/qingyi/vqa", stars=1234)]
    return out


def fmt(records: list, **kw: object) -> pages.FormatResult:
    return format_records(records, FormatOptions(**kw))  # type: ignore[arg-type]


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def tags(html: str) -> list[tuple[str, dict[str, str]]]:
    p = _Collect()
    p.feed(html)
    return p.tags


# --------------------------------------------------------------------------
# Output formats


def test_html_fragment_has_one_csl_entry_per_record_with_the_key_as_id(recs: list) -> None:
    html = fmt(recs, output="html").text
    entries = [a for t, a in tags(html) if "csl-entry" in a.get("class", "").split()]
    assert sorted(a["id"] for a in entries) == sorted(r.key for r in recs)
    assert "<html" not in html and "<script" not in html
    assert "Combining BERT and VQA for robust answers" in html  # acronyms kept in sentence case


@pytest.mark.parametrize("output", ["text", "markdown", "html", "latex"])
@pytest.mark.parametrize("style_name", ["apa", "ieee", "plain", "alpha"])
def test_every_output_format_and_engine_renders_every_record(
    recs: list, output: str, style_name: str
) -> None:
    result = fmt(recs, style=style_name, output=output)
    assert len(result.entries) == len(recs)
    # A BibTeX style's LaTeX is the .bbl's, where {BERT} is how LaTeX keeps case.
    bbl_latex = output == "latex" and style_name in ("plain", "alpha")
    for leak in ("nocase", "\\textsc{nocase") if bbl_latex else ("nocase", "{BERT}", "{LoRA}"):
        assert leak not in result.text
    assert "BERT" in result.text and "LoRA" in result.text
    if output == "latex":
        assert r"\begin{itemize}" in result.text and r"\item" in result.text
    if output == "markdown":
        assert all(line.startswith("- ") for line in result.text.splitlines() if line.strip())


def test_text_output_is_plain(recs: list) -> None:
    text = fmt(recs, output="text", links=False).text
    assert "<" not in text and "*" not in text and "\\" not in text
    assert "Si, Q., Lin, Z., & Wang, W. (2023). Combining BERT and VQA for robust answers." in text


def test_markdown_output_formats_italics_and_links(recs: list) -> None:
    md = fmt(recs, output="markdown").text
    assert "*Journal of Multimodal Learning*" in md
    assert "[\\[DOI\\]](https://doi.org/10.1000/jml.2023.5)" in md


def test_standalone_page_is_a_whole_document_with_filters(recs: list) -> None:
    html = fmt(recs, output="html", standalone=True, group_by="year").text
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html
    assert 'name="viewport"' in html
    ids = {a.get("id") for _, a in tags(html)}
    assert {"bt-search", "bt-year", "bt-type", "bt-code", "bt-status"} <= ids
    assert "http://" not in html.split("<body>")[0].replace("http-equiv", "")  # no CDN
    years = re.findall(r'<option value="(\d{4}|undated)">', html)
    assert years == ["2024", "2023", "2022", "2021", "undated"]


def test_standalone_needs_html() -> None:
    with pytest.raises(UsageError, match="standalone"):
        format_records([], FormatOptions(output="markdown", standalone=True))


def test_bad_option_values_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="group-by"):
        format_records([], FormatOptions(group_by="month"))


# --------------------------------------------------------------------------
# Grouping, sorting, numbering


def test_group_by_year_newest_first_undated_last_with_anchors(recs: list) -> None:
    result = fmt(recs, output="html", group_by="year")
    assert [g.title for g in result.groups] == ["2024", "2023", "2022", "2021", "Undated"]
    assert [g.anchor for g in result.groups][:2] == ["year-2024", "year-2023"]
    assert '<h2 id="year-2023">2023</h2>' in result.text
    md = fmt(recs, output="markdown", group_by="year").text
    assert '<a id="year-2022"></a>\n## 2022' in md


def test_group_by_type_in_a_fixed_order(recs: list) -> None:
    result = fmt(recs, output="text", group_by="type")
    assert [g.title for g in result.groups] == [
        "Journal articles",
        "Conference papers",
        "Preprints",
        "Books",
        "Other",
    ]
    assert [e.key for e in result.groups[2].entries] == ["doe2024pre"]


@pytest.mark.slow
def test_sort_orders(recs: list) -> None:
    def keys(sort: str) -> list[str]:
        return [e.key for e in fmt(recs, output="text", sort=sort).entries]

    assert keys("date-desc") == ["doe2024pre", "si2023vqa", "si2022lora", "roe2021", "undated"]
    assert keys("date-asc") == ["roe2021", "si2022lora", "si2023vqa", "doe2024pre", "undated"]
    assert keys("none") == [r.key for r in recs]
    assert keys("title")[0] == "doe2024pre"  # "A preprint..."
    assert keys("author")[0] == "doe2024pre"  # Doe
    assert keys("style") == ["doe2024pre", "undated", "roe2021", "si2022lora", "si2023vqa"]  # APA


def test_numbering_overall_and_per_group(recs: list) -> None:
    overall = fmt(recs, output="text", group_by="year", numbering="overall")
    assert [e.label for e in overall.entries] == ["1.", "2.", "3.", "4.", "5."]
    per_group = fmt(recs, output="text", group_by="year", numbering="group", style="ieee")
    assert [e.label for e in per_group.entries] == ["[1]"] * 5
    auto = fmt(recs, output="text", sort="date-desc", style="ieee")
    assert [e.label for e in auto.entries] == ["[1]", "[2]", "[3]", "[4]", "[5]"]
    assert auto.text.splitlines()[0].startswith("[1] J. Doe and Q. Si,")
    none = fmt(recs, output="text", style="ieee", numbering="none")
    assert all(e.label == "" for e in none.entries)
    alpha = fmt(recs, output="text", style="alpha")
    assert "[SLW23]" in alpha.text


# --------------------------------------------------------------------------
# Highlighting


def test_name_variants_cover_the_forms_styles_print() -> None:
    variants = pages.name_variants("Qingyi Si")
    for form in ("Qingyi Si", "Si, Qingyi", "Q. Si", "Si, Q.", "Si Q", "Q Si"):
        assert form in variants
    assert set(pages.name_variants("Si, Qingyi")) == set(variants)
    assert "Si, Q." in pages.name_variants("Q. Si") and "Qingyi Si" not in pages.name_variants(
        "Si, Q."
    )
    assert "J.-P. Sartre" in pages.name_variants("Jean-Paul Sartre")
    assert "van Gogh, V." in pages.name_variants("Vincent van Gogh")


@pytest.mark.parametrize(
    ("style_name", "rendered"),
    [
        ("apa", "Si, Q."),
        ("ieee", "Q. Si"),
        ("chicago-author-date", "Si, Qingyi"),
        ("modern-language-association", "Si, Qingyi"),
        ("vancouver", "Si Q"),
        ("plain", "Qingyi Si"),
    ],
)
@pytest.mark.parametrize("given", ["Qingyi Si", "Si, Qingyi"])
def test_highlight_bolds_the_person_in_whatever_form_the_style_prints(
    recs: list, style_name: str, rendered: str, given: str
) -> None:
    result = fmt(recs[:2], style=style_name, output="html", highlight=[given])
    for e in result.entries:
        assert f'<b class="highlight">{rendered}</b>' in e.html, e.html
        assert e.html.count('class="highlight"') == 1  # Lin, Wang and Doe stay as they are


def test_highlight_with_initials_matches_initial_forms_only(recs: list) -> None:
    result = fmt([recs[2]], style="apa", output="markdown", highlight=["Si, Q."])
    assert "**Si, Q\\.**" in result.text or "**Si, Q.**" in result.text


def test_highlight_several_people_and_no_false_matches(recs: list) -> None:
    result = fmt(recs, style="apa", output="html", highlight=["Jane Doe", "Richard Roe"])
    html = result.text
    assert '<b class="highlight">Doe, J.</b>' in html
    assert '<b class="highlight">Roe, R.</b>' in html
    assert "Si, Q.</b>" not in html


def test_highlight_in_latex_and_text(recs: list) -> None:
    latex = fmt(recs[:1], output="latex", highlight=["Qingyi Si"]).text
    assert r"\textbf{Si, Q.}" in latex
    text = fmt(recs[:1], output="text", highlight=["Qingyi Si"]).text
    assert "Si, Q., Lin" in text  # plain text has no bold


# --------------------------------------------------------------------------
# Badges


def test_badges_arxiv_pdf_doi_code_with_stars(recs: list) -> None:
    recs[2].pdf_url = "https://arxiv.org/pdf/2401.01234"
    by_key = {e.key: e for e in fmt(recs, output="html").entries}
    assert [b.label for b in by_key["si2023vqa"].badges] == ["DOI", "Code \u2605 1.2k"]
    assert [b.label for b in by_key["doe2024pre"].badges] == ["arXiv", "PDF"]
    assert by_key["doe2024pre"].badges[0].href == "https://arxiv.org/abs/2401.01234"
    assert [b.label for b in by_key["si2022lora"].badges] == ["Code"]  # url is a code link
    assert by_key["si2023vqa"].has_code and not by_key["roe2021"].has_code
    html = str(by_key["si2023vqa"].html)
    assert (
        '<a href="https://github.com/qingyi/vqa" class="badge badge-code">[Code ★ 1.2k]</a>' in html
    )
    assert not fmt(recs, output="html", links=False).entries[0].badges


def test_stars_mapping_and_link_report(recs: list) -> None:
    stars = {"https://github.com/qingyi/lora-qa": 56789}
    status = {
        "https://github.com/qingyi/vqa": CodeStatus("moved", "https://github.com/new/vqa"),
    }
    by_key = {e.key: e for e in fmt(recs, output="html", stars=stars, code_status=status).entries}
    assert by_key["si2022lora"].badges[-1].label == "Code \u2605 57k"
    moved = by_key["si2023vqa"].badges[-1]
    assert (moved.label, moved.href) == ("Code: moved", "https://github.com/new/vqa")
    gone = fmt(recs, output="html", code_status={"https://github.com/qingyi/vqa": "missing"})
    badge = gone.entries[-1].badges[-1] if gone.entries[-1].key == "si2023vqa" else None
    badge = next(e for e in gone.entries if e.key == "si2023vqa").badges[-1]
    assert (badge.label, badge.href) == ("Code: unavailable", "")
    assert "[Code: unavailable]" in gone.text


def test_code_status_from_a_link_report_json() -> None:
    report = {
        "results": [
            {
                "url": "https://github.com/a/b",
                "status": "moved",
                "new_url": "https://github.com/c/b",
                "stars": 12,
            },
            {"url": "https://gitlab.com/x/y", "status": "missing"},
        ]
    }
    got = pages.code_status_from_report(report)
    assert got["https://github.com/a/b"] == CodeStatus("moved", "https://github.com/c/b", 12)
    assert got["https://gitlab.com/x/y"].status == "missing"


@pytest.mark.parametrize(
    ("n", "shown"),
    [(0, "0"), (999, "999"), (1000, "1k"), (1234, "1.2k"), (12345, "12k"), (1_500_000, "1.5M")],
)
def test_star_counts_as_github_shows_them(n: int, shown: str) -> None:
    assert pages.format_stars(n) == shown


# --------------------------------------------------------------------------
# Escaping hostile records


@pytest.fixture(scope="module")
def hostile() -> list:
    return load(HOSTILE)


@pytest.mark.parametrize("style_name", ["apa", "plain"])
def test_hostile_html_is_shown_as_text(hostile: list, style_name: str) -> None:
    for standalone in (False, True):
        html = fmt(hostile, style=style_name, output="html", standalone=standalone).text
        body = html.split("<main>")[-1].split("<script>\n(function")[0]
        assert "<script>alert" not in body and "<img" not in body and "<b>Hostile" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        hrefs = [a["href"] for t, a in tags(body) if t == "a"]
        assert all(h.startswith(("https://", "http://")) for h in hrefs), hrefs
        assert "javascript:" not in " ".join(hrefs) and "data:" not in " ".join(hrefs)
        attrs = " ".join(v for _, a in tags(body) for k, v in a.items() if k.startswith("on"))
        assert attrs == ""


def test_hostile_latex_is_escaped(hostile: list) -> None:
    latex = fmt(hostile, output="latex").text
    assert "\\input{" not in latex and "\\input " not in latex
    assert r"\textbackslash{}input" in latex or "/etc/passwd" in latex
    assert not re.search(r"(?<!\\)%", latex.split("\n", 1)[1])  # the header comment aside
    assert "\\href{javascript" not in latex and "\\href{data" not in latex


def test_hostile_markdown_is_escaped(hostile: list) -> None:
    md = fmt(hostile, output="markdown").text
    assert not re.search(r"(?<!\\)\]\((javascript|data):", md)
    assert not re.search(r"(?<!\\)<", md)  # every < escaped
    assert r"\*bold\*" in md
    assert re.search(
        r"J\. \\<[bB]\\>Hostile\\</b\\>", md
    )  # text, not bold (title case may touch it)


def test_hostile_key_cannot_break_out_of_the_id_attribute(recs: list) -> None:
    rec = recs[3].copy(key='x" onmouseover="alert(1)')
    html = fmt([rec], output="html").text
    entry = next(a for t, a in tags(html) if "csl-entry" in a.get("class", ""))
    assert "onmouseover" not in entry and '"' not in entry["id"]
    assert rec.key == 'x" onmouseover="alert(1)'  # the caller's record is left alone


# --------------------------------------------------------------------------
# Templates and configuration


def test_custom_template_gets_entries_groups_and_escaping(tmp_path: Path, recs: list) -> None:
    template = tmp_path / "mine.html"
    template.write_text(
        "<h1>{{ title }}</h1>{% for g in groups %}<h2>{{ g.title }}</h2>"
        "{% for e in g.entries %}<p id='{{ e.key }}'>{{ e.html }}|{{ e.record.title | plain }}</p>"
        "{% endfor %}{% endfor %}",
        encoding="utf-8",
    )
    out = fmt(recs, output="html", group_by="year", template=str(template), title="<Lab>").text
    assert out.startswith("<h1>&lt;Lab&gt;</h1><h2>2024</h2>")
    assert "<i>Journal of Multimodal Learning</i>" in out  # pre-rendered entry kept as HTML
    assert "|Combining BERT and VQA for robust answers</p>" in out


def test_missing_template_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such template"):
        format_records([], FormatOptions(template=str(tmp_path / "none.j2")))


def test_default_templates_are_package_data() -> None:
    from importlib.resources import files

    names = {p.name for p in (files("bibtools") / "templates").iterdir()}
    assert set(pages.TEMPLATES.values()) | {pages.STANDALONE_TEMPLATE} <= names


def test_config_from_bibtools_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bibtools]\nstyle = "ieee"\ngroup-by = "type"\n', encoding="utf-8"
    )
    config, source = pages.load_config(tmp_path)
    assert config == {"style": "ieee", "group_by": "type"}
    assert source.endswith("pyproject.toml")
    (tmp_path / "bibtools.toml").write_text(
        'style = "apa"\nhighlight = ["Qingyi Si"]\n[format]\nsort = "date-desc"\n', encoding="utf-8"
    )
    config, source = pages.load_config(tmp_path)
    assert source.endswith("bibtools.toml")
    options = pages.options_from_config(config, source=source)
    assert (options.style, options.sort, tuple(options.highlight)) == (
        "apa",
        "date-desc",
        ("Qingyi Si",),
    )


def test_config_errors(tmp_path: Path) -> None:
    assert pages.load_config(tmp_path) == ({}, "")
    (tmp_path / "bibtools.toml").write_text("style = [", encoding="utf-8")
    with pytest.raises(UsageError, match="not valid TOML"):
        pages.load_config(tmp_path)
    with pytest.raises(UsageError, match="standalone must be true or false"):
        pages.options_from_config({"standalone": "yes"})
    with pytest.raises(UsageError, match="sort"):
        pages.options_from_config({"sort": "random"})


@pytest.mark.parametrize("style_name", ["apa", "ieee", "chicago-author-date", "plain"])
def test_case_protection_and_math_never_leak_markup(style_name: str) -> None:
    rec = load(
        r"""@article{m, author={Doe, Jane}, title={{{BERT}} meets $\alpha$-{LoRA} on {\em Things} in {NLP}},
        journal={J}, year=2020}"""
    )
    for output in ("text", "markdown", "html"):
        text = fmt(rec, style=style_name, output=output, links=False).text
        assert "bert meets α-lora on" in text.replace("\\-", "-").replace("*", "").lower(), text
        assert "NLP" in text
        for leak in ("{", "}", "nocase", "$", "\\alpha", "\\em"):
            assert leak not in text, (output, text)


def test_records_without_keys_get_them_and_keep_input_order(recs: list) -> None:
    keyless = [r.copy(key="") for r in reversed(recs)]
    result = fmt(keyless, output="html", sort="none")
    assert [e.record.title for e in result.entries] == [r.title for r in keyless]
    assert all(e.key for e in result.entries) and all(r.key == "" for r in keyless)
