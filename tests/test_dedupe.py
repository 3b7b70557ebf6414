"""Merge and dedupe: the bundled example against a BibTeX export, the rules, the merge policy,
the key map, and properties (no record lost, idempotent, order-independent, no false merge)."""

from __future__ import annotations

import datetime as dt
import json
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bibtools.convert import read_text, write
from bibtools.dedupe import (
    describe,
    find_duplicates,
    merge,
    merge_group,
    same_title,
    titles_compatible,
)
from bibtools.formats import ReadOptions, bibtex
from bibtools.ids import clean_doi, normalize_doi
from bibtools.model import Name, PartialDate, Record

HERE = Path(__file__).parent
EXPORT = HERE / "data" / "dedupe" / "export.bib"


def listing_records() -> list[Record]:
    text = files("bibtools").joinpath("data", "example.listing").read_text("utf-8")
    return read_text(text, "listing", source="example.listing", as_of=dt.date(2024, 1, 1)).records


def export_records() -> list[Record]:
    result = bibtex.read(EXPORT.read_text("utf-8"), ReadOptions(source="export.bib"))
    assert not result.diagnostics
    return result.records


def bib(text: str) -> list[Record]:
    result = bibtex.read(text, ReadOptions(source="t.bib"))
    assert not result.diagnostics.errors
    return result.records


def person(family: str, given: str = "A.") -> Name:
    return Name(family=family, given=given)


def paper(title: str, *families: str, year: int = 2020, key: str = "", **fields) -> Record:
    return Record(
        type=fields.pop("type", "paper-conference"),
        key=key,
        title=title,
        authors=[person(f) for f in families],
        issued=PartialDate(year),
        **fields,
    )


# --------------------------------------------------------------------------
# The bundled example and an export of the same papers


@pytest.fixture(scope="module")
def example_merge():
    inputs = listing_records() + export_records()
    return inputs, merge(inputs)


def by_key(result, key: str) -> Record:
    return next(r for r in result.records if r.key == key)


def test_example_and_export_give_one_entry_per_paper(example_merge):
    inputs, result = example_merge
    assert len(inputs) == 18 + 23
    # 18 papers of the listing + 6 decoys; 12 papers are in both inputs.
    assert len(result.records) == 24
    assert len(result.groups) == 12
    assert result.merged_away == 17
    assert len({r.key for r in result.records}) == 24
    normalized = sorted(r.title.lower().replace("{", "").replace("}", "") for r in result.records)
    assert len(set(normalized)) == 24  # no paper twice, none lost
    assert result.summary() == "41 records in, 24 out: 12 groups merged 17 records; 10 keys changed"


def test_example_key_map_names_every_dropped_key(example_merge):
    _, result = example_merge
    # The listing comes first, so its (generated) keys win.
    assert result.key_map == {
        "He_2016_CVPR": "he2015deep",
        "Vaswani2017": "vaswani2017attention",
        "devlin-etal-2019-bert": "devlin2018bert",
        "goodfellow2014nips": "goodfellow2014generative",
        "he2016resnet": "he2015deep",
        "kingma2014autoencoding": "kingma2013auto",
        "kingma2015adam": "kingma2014adam",
        "rombach2022high": "rombach2021high",
        "ronneberger2015unet": "ronneberger2015u",
        "wei2022cot": "wei2022chain",
    }
    output_keys = {r.key for r in result.records}
    for group in result.groups:
        for i in group.members:
            key = result.inputs[i].key
            assert not key or key in output_keys or result.key_map[key] == group.kept_key
    assert json.loads(result.key_map_json()) == result.key_map


def test_example_decoys_stay_apart(example_merge):
    _, result = example_merge
    decoys = [
        "mikolov2013distributed",  # same authors and year as word2vec
        "he2016identity",  # same authors as ResNet, a year later
        "gal2022image",  # "An Image is Worth ..." like ViT
        "nichol2021improved",  # contains "Denoising Diffusion Probabilistic Models"
        "song2021denoising",  # "Denoising Diffusion ... Models"
        "ke2023segment",  # contains "Segment Anything", same year
    ]
    for key in decoys:
        record = by_key(result, key)
        assert all(key not in (result.inputs[i].key for i in g.members) for g in result.groups)
        assert record.key == key


def test_example_published_version_wins_and_keeps_arxiv_fields(example_merge):
    _, result = example_merge
    bert = by_key(result, "devlin2018bert")
    assert bert.type == "paper-conference"
    assert bert.doi == "10.18653/v1/N19-1423"
    assert bert.pages == "4171-4186"
    assert bert.issued.year == 2019
    assert bert.container_title.startswith("Proceedings of the 2019 Conference of the North")
    assert bert.arxiv_id == "1810.04805"
    assert bert.arxiv_primary_class == "cs.CL"
    assert bert.abstract.startswith("Introduces BERT")  # from the listing: the union of fields

    resnet = by_key(result, "he2015deep")
    assert resnet.doi == "10.1109/CVPR.2016.90"  # the prefix of he2016resnet's DOI is not kept
    assert resnet.pages == "770-778"
    assert resnet.arxiv_id == "1512.03385"  # from Google Scholar's "arXiv preprint arXiv:..."
    assert "arXiv" not in resnet.container_title

    attention = by_key(result, "vaswani2017attention")
    assert attention.container_title == "Advances in Neural Information Processing Systems 30"
    assert attention.pages == "5998-6008"
    assert attention.volume == "30"
    assert attention.arxiv_id == "1706.03762"
    assert len(attention.authors) == 8 and not attention.authors_truncated

    gan = by_key(result, "goodfellow2014generative")
    assert gan.title == "Generative Adversarial Nets"  # the published title
    assert (gan.arxiv_id, gan.arxiv_version, gan.arxiv_primary_class) == ("1406.2661", 1, "stat.ML")
    assert gan.pages == "2672-2680"

    unet = by_key(result, "ronneberger2015u")
    assert unet.doi == "10.1007/978-3-319-24574-4_28"
    assert (unet.volume, unet.collection_title) == ("9351", "Lecture Notes in Computer Science")


def test_example_complete_author_lists_beat_truncated_ones(example_merge):
    _, result = example_merge
    lora = by_key(result, "hu2021lora")  # the listing cut it at three, the export has eight
    assert [a.family for a in lora.authors][-1] == "Chen" and not lora.authors_truncated
    mask = by_key(result, "he2017mask")  # the export cut it at two, the listing has four
    assert [a.family for a in mask.authors] == ["He", "Gkioxari", "Dollár", "Girshick"]
    assert not mask.authors_truncated
    assert mask.container_title.endswith("(ICCV)")  # while the venue is the export's
    sam = by_key(result, "kirillov2023segment")  # truncated in both: the longer list
    assert sam.authors_truncated and len(sam.authors) == 3


def test_example_merged_output_writes_and_reads_back(example_merge):
    _, result = example_merge
    out = write([r.copy() for r in result.records], "bibtex")
    assert not out.diagnostics  # keys were final: nothing renamed on writing
    again = bibtex.read(out.text, ReadOptions(source="merged.bib")).records
    assert [r.key for r in again] == [r.key for r in result.records]
    assert "eprint        = {1810.04805}" in out.text
    assert merge(again).groups == []


def test_example_dry_run_lists_groups_and_fields(example_merge):
    _, result = example_merge
    text = describe(result)
    assert text.count("\ngroup ") + text.startswith("group ") == 12
    assert "group 2: 3 records -> devlin2018bert" in text
    assert "kept   devlin2018bert  example.listing:5" in text
    assert "merged devlin-etal-2019-bert  export.bib:27" in text
    assert "doi                  10.18653/v1/N19-1423" in text
    assert "  devlin-etal-2019-bert -> devlin2018bert" in text
    assert text.endswith(result.summary() + "\n")


def test_example_report_as_json(example_merge):
    _, result = example_merge
    data = json.loads(json.dumps(result.to_json()))
    assert data["summary"] == {
        "records_in": 41,
        "records_out": 24,
        "groups": 12,
        "merged_away": 17,
        "keys_changed": 10,
    }
    bert = data["groups"][1]
    assert bert["keys"] == ["devlin2018bert", "devlin-etal-2019-bert", "devlin2018bert"]
    assert bert["kept_key"] == "devlin2018bert" and bert["dropped_keys"] == [
        "devlin-etal-2019-bert"
    ]
    assert bert["locations"][0] == "example.listing:5"
    taken = {c["field"]: c for c in bert["changes"] if c["applied"]}
    # The kept entry (the listing's preprint) gains the published version's venue.
    assert taken["doi"]["new"] == "10.18653/v1/N19-1423"
    assert taken["doi"]["source"] == "merge:devlin-etal-2019-bert"
    assert taken["type"]["new"] == "paper-conference"


def test_merge_does_not_touch_its_input(example_merge):
    inputs, _ = example_merge
    fresh = listing_records() + export_records()
    assert inputs == fresh
    assert [r.key for r in inputs] == [r.key for r in fresh]


# --------------------------------------------------------------------------
# When two records are one paper


def test_same_doi_case_and_prefix_insensitive():
    a = paper("A Study", "Smith", doi="10.1000/ABC.1")
    b = paper("A study.", "Jones", doi="https://doi.org/10.1000/abc.1", year=2015)
    groups = find_duplicates([a, b]).groups
    assert [g.members for g in groups] == [[0, 1]]
    assert groups[0].reasons == ["same DOI 10.1000/abc.1"]


def test_doi_cleaning():
    assert clean_doi("https://doi.org/10.1109/CVPR.2016.90") == "10.1109/CVPR.2016.90"
    assert clean_doi("http://doi.acm.org/10.1145/1137627.1137631") == "10.1145/1137627.1137631"
    assert clean_doi("doi: 10.1000/a\\_b") == "10.1000/a_b"
    assert clean_doi("not a doi") == "not a doi"
    assert normalize_doi("DOI:10.1000/ABC") == "10.1000/abc"


def test_arxiv_id_in_any_version_and_any_field():
    records = bib(
        r"""
        @misc{v1, title = {Some Title}, eprint = {2101.00001v1}, archivePrefix = {arXiv}}
        @misc{v3, title = {Some title, revised}, eprint = {2101.00001v3}, archivePrefix = {arXiv}}
        @article{gs, title = {Some title}, journal = {arXiv preprint arXiv:2101.00001}}
        @misc{doi, title = {Some title}, doi = {10.48550/arXiv.2101.00001}}
        @misc{url, title = {Some title}, url = {https://arxiv.org/abs/2101.00001v2}}
        """
    )
    result = merge(records)
    assert [g.members for g in result.groups] == [[0, 1, 2, 3, 4]]
    merged = result.records[0]
    assert (merged.key, merged.arxiv_id, merged.arxiv_version) == ("v1", "2101.00001", 3)
    assert set(result.key_map) == {"v3", "gs", "doi", "url"}


def test_title_authors_and_year_together():
    base = paper("Learning to Rank", "Smith", "Jones", year=2010)
    same = paper("Learning to rank.", "Jones", year=2011)
    assert [g.members for g in find_duplicates([base, same]).groups] == [[0, 1]]
    for other in (
        paper("Learning to Rank Fairly", "Smith", "Jones", year=2010),  # a longer title
        paper("Learning to Rank", "Brown", year=2010),  # other authors
        paper("Learning to Rank", "Smith", "Jones", year=2013),  # years apart
        paper("Learning to Rank"),  # no authors: the title alone
        Record(title="Learning to Rank", authors=[person("Smith")]),  # no year
    ):
        assert find_duplicates([base, other]).groups == [], other


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Language Models are Few-Shot Learners GPT-2",
            "Language Models are Few-Shot Learners GPT-3",
        ),
        ("Reinforcement Learning Part I", "Reinforcement Learning Part II"),
        ("Phototypesetting with the URW hz-program", "Phototypesetting with the URW Kq-program"),
        ("Deep RL for Robotic Grasping", "Deep ML for Robotic Grasping"),
        ("Attention", "Attention Is All You Need"),
    ],
)
def test_near_duplicate_titles_are_different_papers(a, b):
    x = paper(a, "Smith", year=2020)
    y = paper(b, "Smith", year=2020)
    assert find_duplicates([x, y]).groups == []


def test_small_typos_are_the_same_title():
    assert same_title(
        "deep residual learning for image recognition",
        "deep residual learning for image recognitoin",
    )
    x = paper("Deep Residual Learning for Image Recognition", "He", year=2016)
    y = paper("Deep Residual Learing for Image Recognition", "He", year=2016)
    assert [g.members for g in find_duplicates([x, y]).groups] == [[0, 1]]


def test_a_doi_on_a_different_title_is_not_trusted():
    book = paper("The Handbook of Things", "Editor", doi="10.1000/book", type="book")
    chapter = paper("On Bolts and Nuts", "Author", doi="10.1000/book", type="chapter")
    found = find_duplicates([book, chapter])
    assert found.groups == []
    assert [d.code for d in found.diagnostics] == ["shared-identifier"]
    assert titles_compatible("generative adversarial nets", "generative adversarial networks")


def test_different_dois_are_different_publications():
    conference = paper("Fast Things", "Smith", year=2019, doi="10.1000/conf")
    journal = paper("Fast Things", "Smith", year=2020, doi="10.1000/journal")
    assert find_duplicates([conference, journal]).groups == []


def test_a_title_chain_between_different_dois_merges_nothing():
    conference = paper("Fast Things", "Smith", year=2019, doi="10.1000/conf")
    journal = paper("Fast Things", "Smith", year=2020, doi="10.1000/journal")
    preprint = paper("Fast things", "Smith", year=2019, type="article")
    found = find_duplicates([conference, preprint, journal])
    assert found.groups == []
    assert [d.code for d in found.diagnostics] == ["ambiguous-duplicates"]
    assert "#1" in found.diagnostics[0].message and "#3" in found.diagnostics[0].message


def test_same_venue_other_volume_is_another_item():
    editorials = [
        paper("Endpapers", "Hosek", year=1994 + n, container_title="Serif", volume=str(n + 1))
        for n in range(3)
    ]
    assert find_duplicates(editorials).groups == []


def test_grouping_is_transitive_and_in_input_order():
    published = paper("Graph Things", "Li", "Wang", year=2021, doi="10.1/g", container_title="J")
    arxiv = paper("Graph things", "Li", year=2020, arxiv_id="2001.00002", type="article")
    listing = paper("Graph Things", "Li", year=2020, type="article")
    other = paper("Other Things", "Li", year=2020)
    groups = find_duplicates([other, listing, published, arxiv]).groups
    assert [g.members for g in groups] == [[1, 2, 3]]


# --------------------------------------------------------------------------
# How a group is merged


def test_corr_venue_fields_do_not_leak_into_the_published_version():
    records = bib(
        r"""
        @article{corr, author = {Smith, Ann and Jones, Bob}, title = {Fast Things},
          journal = {CoRR}, volume = {abs/2001.00001}, year = {2020},
          eprint = {2001.00001}, archivePrefix = {arXiv}, biburl = {https://dblp.org/x}}
        @inproceedings{conf, author = {Smith, Ann and Jones, Bob}, title = {Fast Things},
          booktitle = {Proceedings of Things}, pages = {1--10}, year = {2021}}
        """
    )
    merged = merge(records).records[0]
    assert merged.key == "corr"  # the first input's key
    assert merged.container_title == "Proceedings of Things"
    assert merged.volume == ""  # CoRR's "abs/..." is not the proceedings' volume
    assert merged.pages == "1-10"
    assert merged.issued.year == 2021
    assert merged.arxiv_id == "2001.00001"
    assert merged.extra["biburl"] == "https://dblp.org/x"  # not venue information: kept
    assert merged.source_type == "inproceedings"


def test_merge_group_is_order_free_except_for_the_key():
    records = bib(
        r"""
        @misc{a, author = {Smith, Ann and others}, title = {Fast Things}, year = {2020},
          eprint = {2001.00001v2}, archivePrefix = {arXiv}, keywords = {x, y}}
        @article{b, author = {Smith, Ann and Jones, Bob and Li, Chen}, title = {Fast {Things}},
          journal = {Journal of Things}, volume = {3}, pages = {1--10}, year = {2021},
          doi = {10.1000/x}, keywords = {y, z}}
        @misc{c, author = {Smith, Ann and Jones, Bob}, title = {Fast things}, year = {2020},
          eprint = {2001.00001v1}, archivePrefix = {arXiv}, note = {arXiv preprint}}
        """
    )
    one = merge_group(records)
    other = merge_group(list(reversed(records)))
    assert one.key == "a" and other.key == "c"
    assert one == other.copy(key="a")
    assert one.doi == "10.1000/x" and one.arxiv_version == 2
    assert [a.family for a in one.authors] == ["Smith", "Jones", "Li"]
    assert one.keywords == ["y", "z", "x"]  # the union, the published version's first
    assert one.note == ""  # the preprint's "arXiv preprint" note describes the version that lost


def test_changes_report_what_was_taken_and_what_lost():
    records = bib(
        r"""
        @misc{pre, author = {Smith, Ann}, title = {Fast Things}, year = {2020},
          eprint = {2001.00001}, archivePrefix = {arXiv}}
        @article{pub, author = {Smith, Ann}, title = {Fast Things}, year = {2021},
          journal = {Journal of Things}, doi = {10.1000/x}}
        """
    )
    group = merge(records).groups[0]
    taken = {c.field: c for c in group.changes if c.applied}
    assert taken["doi"].new == "10.1000/x" and taken["doi"].source == "merge:pub"
    assert taken["issued"].old == "2020" and taken["issued"].new == "2021"
    assert taken["container_title"].new == "Journal of Things"
    assert all(c.record_key == "pre" for c in group.changes)
    assert group.kept == 0 and group.kept_key == "pre" and group.dropped_keys == ["pub"]


def test_a_dropped_key_that_names_another_paper_is_not_mapped():
    records = [
        paper("Fast Things", "Smith", key="x", doi="10.1/a"),
        paper("Fast Things", "Smith", key="y", doi="10.1/a"),
        paper("Slow Things", "Jones", key="y"),  # the input used "y" twice
    ]
    result = merge(records)
    assert result.key_map == {}
    assert [r.key for r in result.records] == ["x", "y"]  # "y" now means Slow Things only
    assert any(d.code == "key-map" and "'y'" in d.message for d in result.diagnostics)


def test_keyless_groups_get_a_generated_key():
    records = [paper("Fast Things", "Smith", year=2020), paper("Fast things", "Smith", year=2020)]
    result = merge(records)
    assert [r.key for r in result.records] == ["smith2020fast"]
    assert result.key_map == {}


def test_merge_without_assigning_keys():
    records = [paper("Fast Things", "Smith", key="a", doi="10.1/a"), paper("Other", "Jones")]
    result = merge(records, assign=False)
    assert [r.key for r in result.records] == ["a", ""]


def test_merge_of_nothing_and_of_hostile_values():
    assert merge([]).records == []
    odd = Record(title="{{{", doi="10.", extra={"eprint": "}}}", "n": 3}, arxiv_id="???")
    result = merge([odd, odd.copy()])
    assert len(result.records) + result.merged_away == 2
    with pytest.raises(ValueError):
        merge_group([])


# --------------------------------------------------------------------------
# Properties

TITLES = [
    "Attention Is All You Need",
    "Deep Residual Learning for Image Recognition",
    "Adam: A Method for Stochastic Optimization",
    "Generative Adversarial Networks",
    "Learning to Rank",
    "Auto-Encoding Variational Bayes",
    "Segment Anything",
    "Mask R-CNN",
]
DECOY_WORDS = ["Fairly", "Revisited", "Efficiently", "Online"]
FAMILIES = ["Smith", "Jones", "Li", "Wang", "García", "Müller", "Okafor", "Tanaka"]


@st.composite
def corpora(draw) -> tuple[list[Record], list[int]]:
    """Versions of a few papers (and decoys: same authors, one word more), with the paper
    each record is a version of."""
    n = draw(st.integers(1, 4))
    bases = draw(st.lists(st.sampled_from(range(len(TITLES))), min_size=n, max_size=n, unique=True))
    papers = []
    for pid, t in enumerate(bases):
        authors = draw(st.lists(st.sampled_from(FAMILIES), min_size=1, max_size=4, unique=True))
        papers.append((TITLES[t], authors, 2010 + t, f"10.1000/p{pid}", f"2{pid:03d}.0000{t}"))
        if draw(st.booleans()):  # a decoy of this paper
            word = draw(st.sampled_from(DECOY_WORDS))
            papers.append(
                (f"{TITLES[t]} {word}", authors, 2010 + t, f"10.2000/d{pid}", f"2{pid:03d}.1000{t}")
            )
    records: list[Record] = []
    truth: list[int] = []
    for pid, (title, authors, year, doi, arxiv) in enumerate(papers):
        for _ in range(draw(st.integers(1, 3))):
            published = draw(st.booleans())
            cut = draw(st.integers(1, len(authors)))
            shown = draw(
                st.sampled_from([title, title.lower(), title.upper() + ".", f"{{{title}}}"])
            )
            rec = Record(
                type="paper-conference" if published else "article",
                key=draw(st.sampled_from(["", f"k{pid}", f"v{pid}", "shared"])),
                title=shown,
                authors=[Name(family=f, given="A.") for f in authors[:cut]],
                authors_truncated=cut < len(authors),
                issued=PartialDate(year + (draw(st.integers(0, 1)) if published else 0)),
                container_title=f"Proceedings of Venue {pid}" if published else "",
                pages="1-10" if published and draw(st.booleans()) else "",
                doi=doi if published and draw(st.booleans()) else "",
                arxiv_id="" if published and draw(st.booleans()) else arxiv,
                arxiv_version=draw(st.sampled_from([None, 1, 2])),
                keywords=draw(st.lists(st.sampled_from(["a", "b", "c"]), max_size=2, unique=True)),
            )
            records.append(rec)
            truth.append(pid)
    order = draw(st.permutations(range(len(records))))
    return [records[i] for i in order], [truth[i] for i in order]


def _content(records: list[Record]) -> list[str]:
    """The records as compared, key aside (origins are not compared either)."""
    return sorted(
        repr(sorted((k, repr(v)) for k, v in r.populated().items() if k != "key")) for r in records
    )


@pytest.mark.slow
@settings(max_examples=150)
@given(corpora())
def test_no_record_is_ever_lost(corpus):
    records, _ = corpus
    result = merge(records)
    assert len(records) == len(result.records) + result.merged_away
    members = [i for g in result.groups for i in g.members]
    assert len(members) == len(set(members))
    assert len(result.records) == len(records) - len(members) + len(result.groups)
    for group in result.groups:  # every merged-away record is named in its group
        assert len(group.members) >= 2 and group.record in result.records


@pytest.mark.slow
@settings(max_examples=150)
@given(corpora())
def test_no_false_merge_and_every_paper_in_one_record(corpus):
    records, truth = corpus
    result = merge(records)
    for group in result.groups:
        assert len({truth[i] for i in group.members}) == 1, [
            records[i].title for i in group.members
        ]
    assert len(result.records) == len(set(truth))


@pytest.mark.slow
@settings(max_examples=150)
@given(corpora())
def test_merging_is_idempotent(corpus):
    records, _ = corpus
    once = merge(records)
    twice = merge(once.records)
    assert twice.groups == []
    assert twice.records == once.records
    assert twice.key_map == {}


@pytest.mark.slow
@settings(max_examples=100)
@given(corpora(), st.randoms(use_true_random=False))
def test_merging_is_order_independent_up_to_keys(corpus, random):
    records, _ = corpus
    shuffled = list(records)
    random.shuffle(shuffled)
    assert _content(merge(records).records) == _content(merge(shuffled).records)
