"""bibtools add (issue 16) against the loopback fakes: every id form, duplicates, phantoms,
pasted references, the file's bytes, key style and dialect, failures that add nothing."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fakes.scholarly import Scholarly, scholarly_fakes
from hypothesis import given
from hypothesis import strategies as st

from bibtools.add import (
    Clients,
    Target,
    add,
    append_to,
    detect_dialect,
    detect_key_style,
    parse_inputs,
    read_target,
)
from bibtools.cli import main
from bibtools.diagnostics import UsageError
from bibtools.formats import ReadOptions, bibtex
from bibtools.http import HttpClient

HERE = Path(__file__).parent
DATA = HERE / "data" / "add"
THESIS = (DATA / "thesis.bib").read_bytes()
SICI = "10.1002/(SICI)1097-0258(19970228)16:4<385::AID-SIM380>3.0.CO;2-3"


@pytest.fixture(scope="module")
def scores() -> Iterator[Any]:
    """benchmarks/add_scores.py: the field checks the benchmark reports."""
    spec = importlib.util.spec_from_file_location(
        "add_scores", HERE.parent / "benchmarks" / "add_scores.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["add_scores"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["add_scores"]


@pytest.fixture
def sch() -> Iterator[Scholarly]:
    with scholarly_fakes() as fakes:
        yield fakes


@pytest.fixture
def http() -> Iterator[HttpClient]:
    with HttpClient() as client:
        yield client


def lines(name: str) -> list[tuple[str, str]]:
    text = (DATA / name).read_text("utf-8")
    return [(f"<stdin>:{i}", line) for i, line in enumerate(text.splitlines(), 1)]


def run_add(
    sch: Scholarly,
    http: HttpClient,
    items: list[tuple[str, str]],
    target: Target | None = None,
    **kw: Any,
):
    return add(parse_inputs(items), Clients(http, sch.env), target, **kw)


def cli(sch: Scholarly, tmp_path: Path, *args: str, stdin: str | None = None):
    env = {**sch.env, "BIBTOOLS_CACHE_DIR": str(tmp_path / "cache")}
    return CliRunner(env=env).invoke(main, ["add", *args], input=stdin)


# --------------------------------------------------------------------------
# The identifier set: every form, outcome and field


def test_every_id_form_outcome_and_field(sch: Scholarly, http: HttpClient, scores: Any) -> None:
    truth = json.loads((DATA / "ids.truth.json").read_text("utf-8"))["ids"]
    result = run_add(sch, http, lines("ids.txt"), read_target(THESIS.decode(), "thesis.bib"))
    assert [o.status for o in result.outcomes] == [t["outcome"] for t in truth]
    for o, t in zip(result.outcomes, truth, strict=True):
        if t["outcome"] == "duplicate":
            assert o.duplicate_of == t["duplicate_of"].replace("line ", "<stdin>:"), t["input"]
        if t["outcome"] == "added":
            checks = scores.field_checks(o.record, t["expect"])
            assert checks and all(checks.values()), (t["input"], checks)
    # The written entries carry the same values (the arXiv ones as eprint/archivePrefix/primaryClass).
    written = bibtex.read(result.text, ReadOptions()).records
    assert [r.key for r in written] == [r.key for r in result.records]
    devlin = next(r for r in written if r.arxiv_id == "1810.04805")
    fields = dict(devlin.source.fields)
    assert (fields["eprint"], fields["archiveprefix"], fields["primaryclass"]) == (
        "{1810.04805}",
        "{arXiv}",
        "{cs.CL}",
    )
    # One request per DOI to doi.org, one batch for arXiv, one for Open Library, one for PubMed.
    assert len(sch.doi.log) == 9  # 10 DOI lines: one is a duplicate of another
    assert sch.arxiv.count == 2  # one batch, and arXiv's silent drop asked again
    assert len(sch.openlibrary.log) == 1 and len(sch.pubmed.log) == 1


def test_sici_doi_plain_and_percent_encoded_are_one_work(sch: Scholarly, http: HttpClient) -> None:
    pct = "https://doi.org/10.1002/%28SICI%291097-0258%2819970228%2916%3A4%3C385%3A%3AAID-SIM380%3E3.0.CO%3B2-3"
    result = run_add(sch, http, [("a", SICI), ("b", pct)])
    assert [o.status for o in result.outcomes] == ["added", "duplicate"]
    assert result.records[0].doi == SICI
    assert f"doi       = {{{SICI}}}" in result.text
    assert len(sch.doi.log) == 1


def test_unknown_ids_are_named_with_the_services_answer(sch: Scholarly, http: HttpClient) -> None:
    items = [
        ("1", "10.1145/3292500.9999999"),
        ("2", "arXiv:2310.99999"),
        ("3", "9780000000002"),
        ("4", "PMID:99999999"),
    ]
    result = run_add(sch, http, items)
    assert [o.status for o in result.outcomes] == ["not-found"] * 4
    messages = [o.message for o in result.outcomes]
    assert "404 Error: DOI Not Found" in messages[0]
    assert "arXiv has no paper 2310.99999" in messages[1]
    assert "Open Library" in messages[2] and "totalItems 0" in messages[2]
    assert "PubMed has no article 99999999" in messages[3]
    assert result.records == [] and result.text == ""


def test_datacite_data_set_and_arxiv_published_doi(sch: Scholarly, http: HttpClient) -> None:
    result = run_add(sch, http, [("1", "10.5281/zenodo.8242099"), ("2", "arXiv:2304.05376")])
    zenodo, chemcrow = result.records
    assert zenodo.doi == "10.5281/zenodo.8242099"  # DataCite's upper-case DOI, written as asked
    assert (zenodo.publisher, zenodo.issued.year) == ("Zenodo", 2023)
    assert "@misc{willighagen2023shield," in result.text
    assert chemcrow.doi == "10.1038/s42256-024-00832-8" and chemcrow.arxiv_id == "2304.05376"
    assert "{ChemCrow}" in result.text  # acronyms protected in new titles


def test_books_from_either_isbn_service(sch: Scholarly, http: HttpClient) -> None:
    result = run_add(sch, http, [("1", "978-0-316-03057-1"), ("2", "0099560437")])
    banks, cline = result.records
    assert (banks.type, banks.title, banks.publisher, banks.isbn) == (
        "book",
        "Use of Weapons",
        "Orbit",
        "9780316030571",
    )
    assert (cline.title, cline.authors[0].family, cline.issued.year) == (
        "Ready Player One",
        "Cline",
        2012,
    )
    assert len(sch.googlebooks.log) == 1  # only the ISBN Open Library did not know


def test_record_without_title_or_author_is_added_and_said(sch: Scholarly, http: HttpClient) -> None:
    result = run_add(sch, http, [("1", "10.1007/s40278-023-41815-2")])
    (o,) = result.outcomes
    assert o.status == "added" and not o.record.title and not o.record.authors
    assert o.warnings == ["the source gives no title", "the source gives no author"]


def test_pmid_whose_doi_is_in_the_file_is_a_duplicate(sch: Scholarly, http: HttpClient) -> None:
    target = read_target("@article{x, title={T}, doi={10.1162/NECO.1997.9.8.1735}}\n", "refs.bib")
    result = run_add(sch, http, [("1", "PMID: 9377276")], target)
    assert result.outcomes[0].status == "duplicate"
    assert result.outcomes[0].duplicate_of == "refs.bib:x"


def test_arxiv_doi_is_the_eprint_the_file_has(sch: Scholarly, http: HttpClient) -> None:
    target = read_target(THESIS.decode(), "thesis.bib")
    result = run_add(sch, http, [("1", "10.48550/arXiv.1706.03762"), ("2", "1706.03762v7")], target)
    assert [o.duplicate_of for o in result.outcomes] == ["thesis.bib:vaswani2017attention"] * 2
    assert sch.total_requests() == 0  # known from the file: nothing asked


# --------------------------------------------------------------------------
# Pasted references


def test_pasted_list_of_ten_with_one_matching_nothing(
    sch: Scholarly, http: HttpClient, scores: Any
) -> None:
    truth = json.loads((DATA / "pasted.truth.json").read_text("utf-8"))["lines"]
    result = run_add(sch, http, lines("pasted.txt"))
    assert [o.status for o in result.outcomes] == ["added"] * 9 + ["unmatched"]
    for o, t in zip(result.outcomes[:9], truth, strict=False):
        assert o.record.doi.lower() == t["doi"].lower()
        assert o.confidence is not None and o.confidence >= 0.6
        expect = {k: t[k] for k in ("title", "authors", "year")}
        assert all(scores.field_checks(o.record, expect).values()), t["text"]
    last = result.outcomes[9]
    assert last.candidates and not any(c.guard for c in last.candidates)
    assert "shares a family name" in last.message


def test_pasted_reference_the_file_has_without_a_doi(sch: Scholarly, http: HttpClient) -> None:
    """Watson & Crick are in thesis.bib without a DOI: same title, year and authors."""
    target = read_target(THESIS.decode(), "thesis.bib")
    items = lines("pasted.txt")[4:5]
    result = run_add(sch, http, items, target)
    assert result.outcomes[0].duplicate_of == "thesis.bib:watson1953molecular"


def test_a_reference_naming_its_doi_is_looked_up_by_it(sch: Scholarly, http: HttpClient) -> None:
    ref = "Breiman L. Random forests. Mach Learn. 2001;45(1):5-32. doi:10.1023/A:1010933404324."
    result = run_add(sch, http, [("1", ref)])
    assert result.records[0].doi == "10.1023/A:1010933404324"
    assert len(sch.crossref.requests("query")) == 0


# --------------------------------------------------------------------------
# Failures add nothing


def test_network_failure_adds_nothing_partial(sch: Scholarly, tmp_path: Path) -> None:
    bib = tmp_path / "thesis.bib"
    bib.write_bytes(THESIS)
    sch.pubmed.fail("", "503", times=None)
    result = cli(
        sch, tmp_path, "-", "--to", str(bib), stdin="10.1145/3292500.3330701\nPMID:20412080\n"
    )
    assert result.exit_code == 1
    assert "lookup failed" in result.stderr and "nothing added" in result.stderr
    assert bib.read_bytes() == THESIS
    assert result.stdout == ""


def test_bad_id_is_a_one_line_usage_error(sch: Scholarly, tmp_path: Path) -> None:
    result = cli(sch, tmp_path, "10.1145/3292500.3330701", "0-201-13447-1")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "bibtools: error: argument 2: '0-201-13447-1': an ISBN with a wrong check digit"
    ]
    assert sch.total_requests() == 0
    with pytest.raises(UsageError, match="not a DOI"):
        parse_inputs([("x", "doi:10.12/x")])


# --------------------------------------------------------------------------
# The file: bytes, keys, dialect


def test_cli_appends_and_keeps_the_file_byte_for_byte(sch: Scholarly, tmp_path: Path) -> None:
    bib = tmp_path / "thesis.bib"
    bib.write_bytes(THESIS)
    stdin = (DATA / "ids.txt").read_text("utf-8")
    result = cli(sch, tmp_path, "-", "--to", str(bib), stdin=stdin)
    assert result.exit_code == 1  # four ids resolve to nothing
    after = bib.read_bytes()
    assert after.startswith(THESIS) and len(after) > len(THESIS)
    assert after[len(THESIS) :].startswith(b"\n@")  # one blank line between
    assert "already there as thesis.bib:lecun2015deep" in result.stderr
    assert "not found: 127.0.0.6: 404 Error: DOI Not Found" in result.stderr
    assert "Appended 19 entries" in result.stderr
    records = bibtex.read(after.decode(), ReadOptions()).records
    keys = [r.key.lower() for r in records]
    assert len(keys) == len(set(keys)) == 3 + 19
    # Again: everything is a duplicate now, the file stays as it is.
    again = cli(sch, tmp_path, "-", "--to", str(bib), stdin=stdin)
    assert bib.read_bytes() == after
    assert "Nothing to add" in again.stderr


def test_dry_run_and_stdout_write_no_file(sch: Scholarly, tmp_path: Path) -> None:
    bib = tmp_path / "thesis.bib"
    bib.write_bytes(THESIS)
    dry = cli(sch, tmp_path, "arXiv:1810.04805", "--to", str(bib), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.startswith("@misc{devlin2018bert,") and "Would append 1 entry" in dry.stderr
    assert bib.read_bytes() == THESIS
    out = cli(sch, tmp_path, "https://arxiv.org/pdf/1412.6980v9")
    assert out.exit_code == 0 and out.stdout.startswith("@misc{kingma2014adam,")


def test_new_file_is_created(sch: Scholarly, tmp_path: Path) -> None:
    bib = tmp_path / "new.bib"
    result = cli(sch, tmp_path, "doi:10.1038/nature14539", "--to", str(bib))
    assert result.exit_code == 0, result.stderr
    assert bib.read_text("utf-8").startswith("@article{lecun2015deep,")


def test_keys_follow_the_files_style(sch: Scholarly, http: HttpClient) -> None:
    file = (
        "@article{LeCun2015, author={LeCun, Yann}, title={Deep learning}, year={2015}}\n"
        "@article{Watson1953, author={Watson, J. D.}, title={Molecular structure}, year={1953}}\n"
        "@article{He2016, author={He, Kaiming}, title={Other}, year={2016}}\n"
    )
    target = read_target(file, "refs.bib")
    assert detect_key_style(target.records).name == "authoryear"
    result = run_add(
        sch,
        http,
        [("1", "10.1109/CVPR.2016.90"), ("2", "10.1162/neco.1997.9.8.1735")],
        target,
    )
    assert [r.key for r in result.records] == ["He2016a", "Hochreiter1997"]
    bbt = read_target(
        "@book{goodfellowDeepLearning2016, author={Goodfellow, Ian}, title={Deep Learning}, year={2016}}\n",
        "b.bib",
    )
    assert detect_key_style(bbt.records).name == "bbt"
    forced = run_add(sch, http, [("1", "10.1162/neco.1997.9.8.1735")], bbt, key_style="scholar")
    assert forced.records[0].key == "hochreiter1997long"


def test_dialect_follows_a_biblatex_file(sch: Scholarly, http: HttpClient) -> None:
    file = "@article{a, author={A, B}, title={T}, journaltitle={J}, date={2020-01-02}}\n"
    target = read_target(file, "refs.bib")
    assert detect_dialect(target.records) == "biblatex"
    result = run_add(sch, http, [("1", "10.1162/neco.1997.9.8.1735"), ("2", "1810.04805")], target)
    assert "journaltitle = {Neural Computation}" in result.text
    assert "date         = {1997-11-01}" in result.text
    assert "eprinttype  = {arxiv}" in result.text
    assert detect_dialect(read_target(THESIS.decode(), "t.bib").records) == "bibtex"


def test_append_keeps_line_endings_and_encoding() -> None:
    entry = "@misc{x,\n  title = {T},\n}\n"
    assert append_to(b"", "utf-8", entry) == entry.encode()
    assert append_to(b"@misc{a}", "utf-8", entry) == b"@misc{a}\n\n" + entry.encode()
    assert append_to(b"@misc{a}\n\n", "utf-8", entry) == b"@misc{a}\n\n" + entry.encode()
    crlf = append_to(b"@misc{a}\r\n", "utf-8", entry)
    assert crlf == b"@misc{a}\r\n\r\n" + entry.replace("\n", "\r\n").encode()
    latin = "@misc{a, author={M\xfcller}}\n".encode("latin-1")
    assert append_to(latin, "latin-1", entry).startswith(latin)


@pytest.mark.slow
def test_new_entries_compile_under_bibtex_plain_without_warnings(
    sch: Scholarly, http: HttpClient, tmp_path: Path
) -> None:
    import consumers

    if consumers.tool("bibtex").missing:
        pytest.skip(consumers.tool("bibtex").missing)
    items = lines("ids.txt") + lines("heldout_ids.txt") + lines("pasted.txt")
    items += lines("heldout_pasted.txt")
    # Renumbered: the same line number in two sets would be one input named twice.
    items = [(f"input {i}", text) for i, (_, text) in enumerate(items, 1)]
    result = run_add(sch, http, items, read_target(THESIS.decode(), "thesis.bib"))
    # The one record a source gave no title and no author: bibtex must say so (issue 16 keeps it).
    keep = [o.record for o in result.outcomes if o.record is not None and o.record.title]
    assert len(keep) == len(result.records) - 1 >= 30
    bib = tmp_path / "new.bib"
    bib.write_text(bibtex.write(keep, bibtex_options()).text, encoding="utf-8")
    run = consumers.run_bibtex(bib, "plain", tmp_path)
    assert (run.errors, run.warnings) == (0, 0), run.blg
    assert len(run.items) == len(keep)


def bibtex_options() -> Any:
    from bibtools.formats import WriteOptions

    return WriteOptions(dialect="bibtex")


def test_cli_pasted_list_reports_confidence_and_candidates(sch: Scholarly, tmp_path: Path) -> None:
    stdin = (DATA / "pasted.txt").read_text("utf-8")
    result = cli(sch, tmp_path, "-", stdin=stdin)
    assert result.exit_code == 1  # one reference matched nothing
    err = result.stderr.splitlines()
    assert (
        "<stdin>:2: added he2016deep: Deep Residual Learning for Image Recognition (matched, confidence 1.00)"
        in err
    )
    unmatched = [i for i, line in enumerate(err) if line.startswith("<stdin>:10: no match for")]
    assert unmatched and "nothing added" in err[unmatched[0]]
    assert err[unmatched[0] + 1].startswith("    candidate 0.")
    assert result.stdout.count("\n@") == 8 and "Okonkwo" not in result.stdout


@given(
    st.binary(max_size=200),
    st.sampled_from(["utf-8", "latin-1", "cp1252"]),
    st.text(alphabet="@{}=,abc \n", max_size=40),
)
def test_append_never_touches_the_original_bytes(
    original: bytes, encoding: str, entry: str
) -> None:
    out = append_to(original, encoding, entry)
    assert out.startswith(original)
    assert (out == original) == (entry == "")


def test_cli_dialect_and_key_style_options(sch: Scholarly, tmp_path: Path) -> None:
    result = cli(
        sch, tmp_path, "10.1109/CVPR.2016.90", "--dialect", "biblatex", "--key-style", "authoryear"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("@inproceedings{He2016,")
    assert "date      = {2016-06}" in result.stdout
    bad = cli(sch, tmp_path, "10.1109/CVPR.2016.90", "--key-style", "fancy")
    assert bad.exit_code == 2 and sch.total_requests() == 2  # doi.org + its redirect, once


def test_a_reference_naming_its_arxiv_id_is_looked_up_by_it(sch: Scholarly, tmp_path: Path) -> None:
    ref = "A. Vaswani et al. Attention is all you need. arXiv preprint arXiv:1706.03762, 2017."
    result = cli(sch, tmp_path, "-", stdin=ref + "\n")
    assert result.exit_code == 0, result.stderr
    assert "(by the arXiv id the reference names)" in result.stderr
    assert "eprint        = {1706.03762}" in result.stdout
    assert len(sch.crossref.requests("query")) == 0


def test_latin1_file_gets_ascii_entries(sch: Scholarly, tmp_path: Path) -> None:
    bib = tmp_path / "old.bib"
    original = "% Encoding: ISO8859_1\n@misc{mueller, author={M\xfcller, J\xfcrgen}, title={\xc4rger}}\n".encode(
        "latin-1"
    )
    bib.write_bytes(original)
    result = cli(sch, tmp_path, "10.1162/neco.1997.9.8.1735", "--to", str(bib))
    assert result.exit_code == 0, result.stderr
    after = bib.read_bytes()
    assert after.startswith(original)
    added = after[len(original) :]
    assert added.isascii() and b'Schmidhuber, J{\\"u}rgen' in added


def test_transient_errors_are_retried(sch: Scholarly, http: HttpClient) -> None:
    sch.doi.fail("", "503", times=1)
    sch.arxiv.fail("", "429", times=1, retry_after="0")
    sch.openlibrary.fail("", "502", times=1)
    sch.pubmed.fail("", "500", times=1)
    items = [
        ("1", "10.1109/CVPR.2016.90"),
        ("2", "1810.04805"),
        ("3", "9780262035613"),
        ("4", "PMID:20412080"),
    ]
    result = run_add(sch, http, items)
    assert [o.status for o in result.outcomes] == ["added"] * 4
    assert len(sch.doi.requests()) == 2 and len(sch.pubmed.requests()) == 2
