"""The verdicts of `bibtools verify` as pure functions: records and hand-made answers in, verdicts out.

The anchors' false alarms (tests/data/verify/ANCHORS.md) each have a case
here: initials, accents, particles, author order, a preprint year, a
subtitle, title case and LaTeX, a DataCite DOI, a failure that is not a miss.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bibtools.citations import audit, cited_keys
from bibtools.convert import loads
from bibtools.model import Name, PartialDate, Record
from bibtools.verify import (
    Answer,
    Evidence,
    Found,
    compare,
    judge,
    pages_agree,
    same_title,
    search_text,
    suggest,
    uncovered,
    venues_agree,
)
from bibtools.verify_fix import fix


def bib(text: str) -> Record:
    (record,) = loads(text, "bibtex")
    return record


LECUN = """@article{lecun2015deep,
  author = {LeCun, Yann and Bengio, Yoshua and Hinton, Geoffrey},
  title = {Deep learning},
  journal = {Nature}, volume = {521}, pages = {436--444}, year = {2015},
  doi = {10.1038/nature14539},
}"""


def work(**kw: object) -> Found:
    defaults: dict[str, object] = {
        "source": "crossref",
        "id": "10.1038/nature14539",
        "url": "https://doi.org/10.1038/nature14539",
        "title": "Deep learning",
        "authors": [Name("LeCun", "Yann"), Name("Bengio", "Yoshua"), Name("Hinton", "Geoffrey")],
        "years": (2015,),
        "venues": ("Nature",),
        "volume": "521",
        "pages": "436-444",
        "doi": "10.1038/nature14539",
    }
    defaults.update(kw)
    return Found(**defaults)  # type: ignore[arg-type]


def by_doi(*answers: Answer) -> Evidence:
    return Evidence(doi=list(answers))


# --------------------------------------------------------------------------
# Fields


@pytest.mark.parametrize(
    ("ours", "theirs", "subtitle"),
    [
        (
            "{BERT}: Pre-training of Deep Bidirectional Transformers",
            "BERT: pre-training of deep bidirectional transformers",
            "",
        ),
        ("The Human Phenotype Ontology", "The human phenotype ontology.", ""),
        (
            "Ileal-lymphoid-nodular hyperplasia in children",
            "RETRACTED: Ileal-lymphoid-nodular hyperplasia in children",
            "",
        ),
        (
            "The Structure of Ordinary Water",
            "The Structure of Ordinary Water",
            "New data and interpretations",
        ),
        (
            "Vector Quotient Filters: Overcoming the Time/Space Trade-Off",
            "Vector Quotient Filters",
            "",
        ),
        (
            "A novel lipid in \\textit{Streptococcus agalactiae}",
            "A novel lipid in <i>Streptococcus agalactiae</i>".replace("<i>", "").replace(
                "</i>", ""
            ),
            "",
        ),
    ],
)
def test_harmless_title_differences(ours: str, theirs: str, subtitle: str) -> None:
    record = bib(f"@article{{k, title = {{{ours}}}}}")
    assert same_title(record.title, work(title=theirs, subtitle=subtitle))


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (
            "Deep Residual Learning for Speech Recognition",
            "Deep Residual Learning for Image Recognition",
        ),
        ("Random Forests for Quantum Chemistry", "Random Forests"),
        ("Generative Adversarial Nets", "Generative adversarial networks"),
        ("Deep learning", "Deep learning II"),
    ],
)
def test_other_titles_are_other_titles(ours: str, theirs: str) -> None:
    record = bib(f"@article{{k, title = {{{ours}}}}}")
    assert not same_title(record.title, work(title=theirs))


def test_venue_abbreviations_agree_and_other_journals_do_not() -> None:
    assert venues_agree(
        "Proc. Natl. Acad. Sci. U.S.A.", ["Proceedings of the National Academy of Sciences"]
    )
    assert venues_agree(
        "Proceedings of NAACL-HLT 2019",
        ["Proceedings of the 2019 Conference of the North American Chapter"],
    )
    assert venues_agree("Machine Learning", ["Communications of the ACM"]) is False
    assert venues_agree("arXiv preprint", ["Nature"]) is None
    assert venues_agree("Nature", []) is None


def test_pages() -> None:
    assert pages_agree("1735--1780", "1735-1780")
    assert pages_agree("1735--80", "1735\u20131780")
    assert pages_agree("269--272", "269-271") is False
    assert pages_agree("e33693", "e33693")
    assert pages_agree("", "1-2") is None


def test_initials_accents_particles_and_order_are_the_same_authors() -> None:
    record = bib(
        "@article{k, title={T}, author={van der Walt, St{\\'e}fan J. and Rosenbluth, Marshall N. "
        "and Rosenbluth, Arianna W. and Farach-Colton, Mart{\\'\\i}n and Shannon, Claude E.}}"
    )
    theirs = [
        Name("Rosenbluth", "A. W."),
        Name("Rosenbluth", "M. N."),
        Name("Walt", "Stéfan J. van der"),
        Name("Farach-Colton", "Mart\u0131\u0301n"),
        Name("Shannon", "C. E."),
    ]
    assert "author" not in compare(record, [work(authors=theirs, title="T")])


def test_an_invented_coauthor_and_a_missing_one_are_author_mismatches() -> None:
    record = bib(LECUN.replace("Hinton, Geoffrey", "Hinton, Geoffrey and Smith, John"))
    assert compare(record, [work()])["author"]["value"] == [
        "LeCun, Yann",
        "Bengio, Yoshua",
        "Hinton, Geoffrey",
    ]
    record = bib(LECUN.replace(" and Hinton, Geoffrey", ""))
    assert "author" in compare(record, [work()])
    # "and others": only the listed ones are checked.
    record = bib(LECUN.replace("Hinton, Geoffrey", "others"))
    assert "author" not in compare(record, [work()])


def test_a_field_disagrees_only_when_no_source_agrees() -> None:
    record = bib(LECUN.replace("2015", "2014"))
    online_first = work(source="openalex", years=(2014,))
    assert "year" not in compare(record, [work(), online_first])
    assert compare(record, [work()])["year"] == {
        "value": 2015,
        "source": "crossref",
        "id": "10.1038/nature14539",
    }


def test_the_preprint_year_is_allowed_only_when_the_record_gives_the_arxiv_id() -> None:
    adam = (
        "@inproceedings{k, title={Adam}, author={Kingma, D. P.}, booktitle={ICLR}, year={2015}%s}"
    )
    preprint = work(
        source="arxiv",
        years=(2014,),
        preprint=True,
        title="Adam",
        authors=[Name("Kingma", "Diederik P.")],
        venues=(),
    )
    assert "year" not in compare(bib(adam % ", eprint={1412.6980}"), [preprint])
    assert "year" in compare(bib(adam % ""), [preprint])
    assert "year" in compare(bib(adam.replace("2015", "2019") % ", eprint={1412.6980}"), [preprint])


# --------------------------------------------------------------------------
# Verdicts


def test_verified_and_retracted() -> None:
    v = judge(bib(LECUN), by_doi(Answer("crossref", "found", [work(retracted=True)])))
    assert (v.verdict, v.fields, v.retracted, v.id_confirmed) == ("verified", [], True, True)


def test_mismatch_names_the_fields_and_the_values_found() -> None:
    record = bib(LECUN.replace("{521}", "{52}").replace("436--444", "436--445"))
    v = judge(record, by_doi(Answer("crossref", "found", [work()])))
    assert v.verdict == "mismatch"
    assert v.fields == ["volume", "pages"]
    assert v.found["volume"]["value"] == "521"


def test_a_doi_of_another_work_is_wrong_id() -> None:
    other = work(
        title="Long Short-Term Memory",
        authors=[Name("Hochreiter", "Sepp")],
        years=(1997,),
        id="10.1162/x",
    )
    v = judge(bib(LECUN), by_doi(Answer("crossref", "found", [other])))
    assert (v.verdict, v.fields) == ("wrong-id", ["doi"])
    assert v.found["doi"]["title"] == "Long Short-Term Memory"


def test_the_same_work_under_another_title_is_a_title_mismatch_not_a_wrong_id() -> None:
    v = judge(
        bib(LECUN.replace("Deep learning", "Neural networks: a review")),
        by_doi(Answer("crossref", "found", [work()])),
    )
    assert (v.verdict, v.fields) == ("mismatch", ["title"])


def test_phantom_only_on_the_authority_word_and_never_overridden() -> None:
    record = bib(LECUN)
    crossref_404 = Answer("crossref", "not-found")
    assert judge(record, by_doi(crossref_404)).verdict == "unchecked"  # a DataCite DOI
    gone = Answer("doi.org", "not-found", message="DOI not found", authority=True)
    assert judge(record, by_doi(crossref_404, gone)).verdict == "phantom-id"
    # A title search that finds the work changes nothing.
    ev = by_doi(crossref_404, gone)
    ev.search = [Answer("openalex", "found", [work()])]
    assert judge(record, ev).verdict == "phantom-id"


@pytest.mark.parametrize("status", ["failed", "offline"])
def test_a_failure_of_ours_is_unchecked_never_not_found(status: str) -> None:
    record = bib(LECUN.replace("  doi = {10.1038/nature14539},\n", ""))
    ev = Evidence(
        search=[Answer("openalex", status, message="HTTP 503"), Answer("crossref", "not-found")]
    )
    v = judge(record, ev)
    assert v.verdict == "unchecked"
    assert "HTTP 503" in v.message or status in v.message
    ev = Evidence(search=[Answer("openalex", "not-found"), Answer("crossref", "not-found")])
    assert judge(record, ev).verdict == "not-found"
    assert (
        judge(
            bib(LECUN),
            by_doi(Answer("crossref", status), Answer("doi.org", status, authority=True)),
        ).verdict
        == "unchecked"
    )


def test_title_search_needs_a_shared_author_or_it_is_a_chimera_or_nothing() -> None:
    record = bib(LECUN.replace("  doi = {10.1038/nature14539},\n", ""))
    ok = judge(record, Evidence(search=[Answer("openalex", "found", [work(source="openalex")])]))
    assert (ok.verdict, ok.id_confirmed) == ("verified", False)
    strangers = [Name("Minsky", "Marvin"), Name("Papert", "Seymour")]
    chimera = record.copy(authors=strangers, title="Deep learning for everything")
    real = work(source="openalex", title="Deep learning for everything")
    v = judge(chimera, Evidence(search=[Answer("openalex", "found", [real])]))
    assert (v.verdict, v.fields) == ("mismatch", ["author"])
    assert v.found["author"]["value"][0] == "LeCun, Yann"
    # Same title, other authors, other year and venue: not this work.
    other = work(
        source="openalex", title="Deep learning for everything", years=(2020,), venues=("Science",)
    )
    v = judge(chimera, Evidence(search=[Answer("openalex", "found", [other])]))
    assert v.verdict == "not-found"


def test_web_pages_software_and_theses_without_id_are_unchecked() -> None:
    for text in (
        "@misc{k, title={The Python Reference}, howpublished={\\url{https://docs.python.org}}}",
        "@manual{k, title={R: A Language}, organization={R Foundation}}",
        "@phdthesis{k, title={Topological methods}, author={Moreau, C.}, school={Lyon}}",
    ):
        record = bib(text)
        assert uncovered(record)
        assert judge(record, Evidence()).verdict == "unchecked"
    assert not uncovered(bib(LECUN))


def test_search_text_drops_a_subtitle_of_its_own() -> None:
    assert (
        search_text(bib("@article{k, title={Vector Quotient Filters: Overcoming Trade-Offs}}"))
        == "Vector Quotient Filters"
    )
    assert search_text(bib("@article{k, title={Deep: learning}}")) == "Deep: learning"


# --------------------------------------------------------------------------
# --fix and --tex


def test_fix_applies_only_id_confirmed_mismatches() -> None:
    record = bib(LECUN.replace("{521}", "{52}"))
    by_id = judge(record, by_doi(Answer("crossref", "found", [work()])))
    records, changes = fix([record], [by_id])
    assert records[0].volume == "521" and records[0] is not record
    assert [(c.field, c.old, c.new, c.source) for c in changes] == [
        ("volume", "52", "521", "crossref:10.1038/nature14539")
    ]
    no_doi = record.copy(doi="")
    by_title = judge(
        no_doi, Evidence(search=[Answer("openalex", "found", [work(source="openalex")])])
    )
    assert by_title.verdict == "mismatch"
    records, changes = fix([no_doi], [by_title])
    assert records[0] is no_doi and changes == []


def test_fix_year() -> None:
    record = bib(LECUN.replace("2015", "2016"))
    v = judge(record, by_doi(Answer("crossref", "found", [work()])))
    (fixed,), (change,) = fix([record], [v])
    assert fixed.issued == PartialDate(2015) and (change.old, change.new) == ("2016", "2015")


def test_cited_keys_from_tex_and_aux() -> None:
    tex = r"""
    \citep[see][p.~3]{a,b} and \textcite{c}% \cite{commented}
    \parencite*{d} \nocite{e} \cite{a}
    """
    assert cited_keys(tex).keys == ["a", "b", "c", "d", "e"]
    aux = "\\citation{x}\n\\citation{y,z}\n\\abx@aux@cite{0}{w}\n"
    assert cited_keys(aux).keys == ["x", "y", "z", "w"]
    assert cited_keys("\\nocite{*}").everything


def test_audit_missing_uncited_and_one_work_under_two_keys() -> None:
    one = bib(LECUN)
    two = one.copy(key="lecun2015again")
    three = bib("@article{other, title={Something else entirely}, author={X, Y}}")
    result = audit([cited_keys("\\cite{lecun2015deep,lecun2015again,missing}")], [one, two, three])
    assert result.missing == ["missing"]
    assert result.uncited == ["other"]
    assert result.same_work[0][:2] == ("lecun2015deep", "lecun2015again")


def test_a_single_date_source_alone_cannot_call_a_year_one_off_a_mismatch() -> None:
    # OpenAlex has one year for an article that was online in 2014 and in print in 2015.
    record = bib(LECUN)
    openalex = work(source="openalex", years=(2014,), dates_complete=False)
    v = judge(record, by_doi(Answer("crossref", "failed"), Answer("openalex", "found", [openalex])))
    assert v.verdict == "unchecked" and "one year off" in v.message
    far = work(source="openalex", years=(2012,), dates_complete=False)
    v = judge(record, by_doi(Answer("openalex", "found", [far])))
    assert (v.verdict, v.fields) == ("mismatch", ["year"])
    # With the source that has every date, the year one off is a mismatch again.
    crossref = work(years=(2014,))
    v = judge(
        record,
        by_doi(Answer("crossref", "found", [crossref]), Answer("openalex", "found", [openalex])),
    )
    assert (v.verdict, v.fields) == ("mismatch", ["year"])


def test_two_subtitles_of_one_long_main_title_are_one_title() -> None:
    record = bib(
        "@article{k, title={Host reactions to home state engagement policies: Rethinking sovereignty}}"
    )
    other = work(title="Host reactions to home state engagement policies: limits of governance")
    assert same_title(record.title, other)
    short = bib("@article{k, title={Deep learning: a survey}}")
    assert not same_title(short.title, work(title="Deep learning: a review"))


def test_a_book_without_doi_that_no_source_has_is_unchecked_not_missing() -> None:
    book = bib("@book{knuth1984, title={The TeXbook}, author={Knuth, Donald E.}, year={1984}}")
    nothing = Evidence(search=[Answer("openalex", "not-found"), Answer("crossref", "not-found")])
    assert judge(book, nothing).verdict == "unchecked"
    found = Evidence(
        search=[
            Answer(
                "openalex",
                "found",
                [
                    work(
                        title="The TeXbook",
                        authors=[Name("Knuth", "D. E.")],
                        years=(1984,),
                        venues=(),
                        volume="",
                        pages="",
                    )
                ],
            )
        ]
    )
    assert judge(book, found).verdict == "verified"


# --------------------------------------------------------------------------
# Properties: a source that says what the record says never raises an alarm


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéüøß", min_size=2, max_size=9)


@given(
    title=st.lists(_WORD, min_size=1, max_size=12).map(" ".join),
    families=st.lists(_WORD, min_size=1, max_size=6, unique=True),
    year=st.integers(1900, 2030),
    venue=st.lists(_WORD, min_size=1, max_size=5).map(" ".join),
    volume=st.integers(1, 999).map(str),
    first=st.integers(1, 5000),
)
def test_a_source_that_agrees_verifies(
    title: str, families: list[str], year: int, venue: str, volume: str, first: int
) -> None:
    pages = f"{first}-{first + 9}"
    record = Record(
        type="article-journal",
        key="k",
        title=title,
        authors=[Name(f.capitalize(), "A.") for f in families],
        issued=PartialDate(year),
        container_title=venue,
        volume=volume,
        pages=pages,
        doi="10.1234/x",
    )
    same = work(
        title=title.upper(),
        authors=[Name(f.capitalize(), "Alice") for f in reversed(families)],
        years=(year,),
        venues=(venue,),
        volume=volume,
        pages=pages.replace("-", "\u2013"),
        doi="10.1234/x",
    )
    assert compare(record, [same]) == {}
    assert judge(record, by_doi(Answer("crossref", "found", [same]))).verdict == "verified"


def test_a_wrong_id_is_told_which_work_the_title_and_authors_describe() -> None:
    other = work(
        title="Long Short-Term Memory",
        authors=[Name("Hochreiter", "Sepp")],
        years=(1997,),
        id="10.1162/x",
        doi="10.1162/x",
    )
    v = judge(bib(LECUN), by_doi(Answer("crossref", "found", [other])))
    stranger = work(source="openalex", doi="10.9/other", authors=[Name("Nobody", "N.")])
    suggest(bib(LECUN), v, [other, stranger, work(source="openalex")])
    assert v.found["doi"]["suggested"] == {"value": "10.1038/nature14539", "source": "openalex"}
    assert "10.1038/nature14539" in v.message
    assert fix([bib(LECUN)], [v])[1] == []  # a suggestion is never applied
