"""The streamed conversion (bibtools.stream) writes what the whole-file path writes.

Same bytes, same diagnostics in the same order, whatever the pieces and the
number of worker processes: on every BibTeX, RIS and CSL-JSON fixture, cut at
every place the cutter allows (pieces of one character), into every output
format.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bibtools import stream
from bibtools.cli import main
from bibtools.convert import read_inputs, write
from bibtools.diagnostics import BibtoolsError
from bibtools.formats import WriteOptions

FIXTURES = Path(__file__).parent / "fixtures"
INPUTS = sorted(
    p for p in [*FIXTURES.rglob("*.bib"), *FIXTURES.rglob("*.ris")] if p.stat().st_size < 2_000_000
)
OUTPUTS = ("csljson", "ris", "bibtex")


def _is_array(path: Path) -> bool:
    return path.read_bytes().lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")


# CSL-JSON: the arrays among the fixtures and the test data (most fixture .json
# files are objects, which are read the whole-file way).
DATA = Path(__file__).parent / "data"
JSON_INPUTS = sorted(p for p in [*FIXTURES.rglob("*.json"), *DATA.rglob("*.json")] if _is_array(p))


def whole_file(paths: list[str], out: str, rekey: bool = False) -> tuple[bytes, list[str]] | str:
    """What `bibtools convert` writes the whole-file way: (output, diagnostics), or the error."""
    try:
        result = read_inputs(paths)
    except BibtoolsError as exc:
        return str(exc)
    options = WriteOptions(blocks=result.blocks, files=result.files)
    written = write(result.records, out, options, rekey=rekey)
    diags = [str(d) for d in result.diagnostics] + [str(d) for d in written.diagnostics]
    return written.text.encode("utf-8"), diags


def streamed(
    paths: list[str], out: str, tmp_path: Path, piece_chars: int = 1, jobs: int = 1, rekey=False
) -> tuple[bytes, list[str]] | str | None:
    """The same through bibtools.stream; None when it hands over to the whole-file path."""
    plan = stream.streamable(paths, None)
    assert plan is not None
    target = tmp_path / f"out.{out}"
    try:
        done = stream.convert(
            plan,
            out,
            str(target),
            options=WriteOptions(),
            rekey=rekey,
            jobs=jobs,
            piece_chars=piece_chars,
        )
    except stream.WholeFile:
        return None
    except BibtoolsError as exc:
        return str(exc)
    done.commit()
    diags = [str(d) for d in done.read_diagnostics] + [str(d) for d in done.write_diagnostics]
    return target.read_bytes(), diags


@pytest.mark.parametrize("out", OUTPUTS)
def test_every_fixture_streams_to_the_same_bytes(out: str, tmp_path: Path) -> None:
    streamed_files = 0
    for path in INPUTS:
        expected = whole_file([str(path)], out)
        got = streamed([str(path)], out, tmp_path)
        if got is None:
            continue
        streamed_files += 1
        assert got == expected, path
    # Most fixtures stream (the rest: other encodings, crossrefs into CSL-JSON or RIS).
    assert streamed_files > len(INPUTS) * 0.7


def test_several_inputs_share_macros_and_keys(tmp_path: Path) -> None:
    macros = tmp_path / "abbrev.bib"
    macros.write_text('@string{ieee = "IEEE Transactions"}\n@comment{shared}\n')
    paper = tmp_path / "paper.bib"
    paper.write_text(
        "@article{a, title={One}, journal=ieee, year=2001}\n"
        "@string{acm = {ACM}}\n"
        "@article{A, title={Two}, journal=acm, year=2002}\n"
        "@article{, title={No key}, author={Doe, Jane}, year=2003}\n"
    )
    ris = tmp_path / "more.ris"
    ris.write_text("TY  - JOUR\nID  - a\nTI  - Three\nER  - \n\nTY  - BOOK\nTI  - Four\nER  - \n")
    paths = [str(macros), str(paper), str(ris)]
    for out in OUTPUTS:
        for rekey in (False, True):
            expected = whole_file(paths, out, rekey)
            assert streamed(paths, out, tmp_path, rekey=rekey) == expected, (out, rekey)
            assert "IEEE Transactions" in expected[0].decode()


def test_a_made_up_key_that_a_later_record_has_goes_the_whole_file_way(tmp_path: Path) -> None:
    bib = tmp_path / "a.bib"
    # The first entry has no key; the key bibtools makes for it is the second's.
    bib.write_text(
        "@article{ , author={Doe, Jane}, title={Word}, year=2001}\n"
        "@article{doe2001word, author={Roe, Jim}, title={Other}, year=2001}\n"
    )
    assert streamed([str(bib)], "csljson", tmp_path) is None
    result = CliRunner().invoke(main, ["convert", str(bib), "-t", "csljson", "-j", "1"])
    expected = whole_file([str(bib)], "csljson")
    assert result.stdout_bytes == expected[0]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.integers(min_value=1, max_value=6000),
    picks=st.lists(st.sampled_from(INPUTS[:40]), min_size=1, max_size=3),
)
def test_any_piece_size_gives_the_same_bytes(size: int, picks: list[Path], tmp_path: Path) -> None:
    paths = [str(p) for p in picks]
    for out in ("csljson", "bibtex"):
        got = streamed(paths, out, tmp_path, piece_chars=size)
        if got is not None:
            assert got == whole_file(paths, out)


@pytest.fixture
def big_bib(tmp_path: Path) -> Path:
    """Every BibTeX fixture that streams, one after another: about a megabyte."""
    parts = []
    for path in INPUTS:
        if path.suffix == ".bib" and stream.streamable([str(path)], None):
            data = path.read_bytes()
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            parts.append(data.decode("utf-8").lstrip("\ufeff"))
    path = tmp_path / "all.bib"
    path.write_text("\n".join(parts))
    return path


@pytest.mark.parametrize("out", OUTPUTS)
def test_jobs_change_nothing(out: str, big_bib: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(stream, "PIECE_CHARS", 20_000)
    runner = CliRunner()
    one = runner.invoke(main, ["convert", str(big_bib), "-t", out, "-j", "1"])
    two = runner.invoke(main, ["convert", str(big_bib), "-t", out, "-j", "2"])
    assert one.exit_code == two.exit_code
    assert one.stdout_bytes == two.stdout_bytes
    assert one.stderr == two.stderr
    assert len(one.stdout_bytes) > 100_000
    assert one.stderr.count("\n") > 10  # the fixtures are chosen to be hard: diagnostics


def test_strict_writes_nothing_and_an_existing_output_stays(tmp_path: Path) -> None:
    bib = tmp_path / "a.bib"
    bib.write_text("@article{a, title={One}}\n@article{b, title={Two\n")
    out = tmp_path / "out.json"
    out.write_text("old")
    result = CliRunner().invoke(main, ["convert", str(bib), "-o", str(out), "--strict"])
    assert result.exit_code == 1
    assert out.read_text() == "old"
    assert not list(tmp_path.glob(".out.json.*"))  # no temporary file left
    result = CliRunner().invoke(main, ["convert", str(bib), "-o", str(out)])
    assert result.exit_code == 1
    assert '"id": "a"' in out.read_text()


def test_jobs_must_be_a_positive_number(tmp_path: Path) -> None:
    bib = tmp_path / "a.bib"
    bib.write_text("@article{a, title={One}}\n")
    result = CliRunner().invoke(main, ["convert", str(bib), "-t", "ris", "--jobs", "0"])
    assert result.exit_code == 2
    assert "--jobs" in result.output


def test_crossrefs_into_csl_json_go_the_whole_file_way(tmp_path: Path) -> None:
    bib = tmp_path / "a.bib"
    bib.write_text(
        "@inproceedings{child, title={Paper}, crossref={proc}}\n"
        "@proceedings{proc, title={Proceedings}, publisher={ACM}, year=2001}\n"
    )
    assert streamed([str(bib)], "csljson", tmp_path) is None
    assert streamed([str(bib)], "bibtex", tmp_path) == whole_file([str(bib)], "bibtex")
    result = CliRunner().invoke(main, ["convert", str(bib), "-t", "csljson"])
    assert result.stdout_bytes == whole_file([str(bib)], "csljson")[0]
    assert '"publisher": "ACM"' in result.stdout  # the child inherited it


def test_memory_does_not_follow_the_input(tmp_path: Path) -> None:
    """Pieces in flight are bounded: the reader never holds the file, only a piece."""
    entry = "@article{k{n}, title={Title {n}}, author={Doe, Jane}, year=2001}\n"
    bib = tmp_path / "big.bib"
    with bib.open("w") as fh:
        for n in range(3000):
            fh.write(entry.replace("{n}", str(n)))
    pieces = list(stream._pieces(str(bib), "bibtex", 10_000))
    assert len(pieces) > 10
    assert max(len(p.text) for p in pieces) < 10_000 + 200
    assert (
        "".join(
            p.text[: len(p.text) - (len(p.text.splitlines(True)[-1]) if p.stop_line else 0)]
            for p in pieces
        )
        == bib.read_text()
    )


def test_the_collector_settings_are_put_back(tmp_path: Path) -> None:
    # convert collects less often while it runs (stream.GC_GEN0); a caller in
    # the same process gets its own settings back.
    import gc

    src = tmp_path / "a.ris"
    src.write_text("TY  - JOUR\nTI  - One\nER  - \n", encoding="utf-8")
    before = gc.get_threshold()
    assert isinstance(streamed([str(src)], "csljson", tmp_path), tuple)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


# --------------------------------------------------------------------------
# CSL-JSON


def test_csl_json_arrays_are_among_the_inputs() -> None:
    assert len(JSON_INPUTS) >= 8


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("out", OUTPUTS)
def test_every_csl_json_array_streams_to_the_same_bytes(
    out: str, jobs: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "PARALLEL_MIN_BYTES", 0)
    for path in JSON_INPUTS:
        expected = whole_file([str(path)], out)
        got = streamed([str(path)], out, tmp_path, jobs=jobs)
        assert got is not None, path  # arrays stream
        assert got == expected, path


def _items(path: Path) -> list:
    import json

    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def csl_items() -> list:
    """Items from several arrays: different tools' layouts and variables."""
    items: list = []
    for path in JSON_INPUTS:
        if "citeproc_js" in str(path) or "pandoc2" in str(path):
            items += _items(path)
    assert len(items) > 100
    return items


def _layouts(items: list) -> dict[str, str]:
    import json

    one_per_line = "[\n" + ",\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n]\n"
    return {
        "indent2.json": json.dumps(items, indent=2, ensure_ascii=False),
        "tabs_crlf.json": json.dumps(items, indent="\t").replace("\n", "\r\n"),
        "minified.json": json.dumps(items, separators=(",", ":")),
        "one_per_line.json": one_per_line,
        "bom_blank_lines.json": "\ufeff"
        + json.dumps(items, indent=2).replace("\n  },\n  {", "\n  },\n\n  \n  {"),
        # Items not indented: the inner lines look like item starts to the cutter's
        # guess, and the pieces' check finds it out.
        "flat.json": "[\n  " + ",\n  ".join(json.dumps(i, indent=2) for i in items) + "]",
    }


@pytest.mark.parametrize("out", OUTPUTS)
def test_csl_json_layouts_stream_at_any_piece_size(
    out: str, csl_items: list, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "PARALLEL_MIN_BYTES", 0)
    for name, text in _layouts(csl_items).items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        expected = whole_file([str(path)], out)
        assert isinstance(expected, tuple) and expected[1]  # some diagnostics
        for size, jobs in ((1, 1), (5000, 1), (20_000, 2), (1 << 20, 1)):
            got = streamed([str(path)], out, tmp_path, piece_chars=size, jobs=jobs)
            if name == "flat.json" and size < len(text):
                assert got is None, size
            else:
                assert got == expected, (name, size, jobs)


def test_csl_json_pieces_are_bounded(csl_items: list, tmp_path: Path) -> None:
    for name, text in _layouts(csl_items * 3).items():
        if name == "flat.json":
            continue
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        pieces = list(stream._pieces(str(path), "csljson", 10_000))
        assert len(pieces) > 10, name
        assert max(len(p.text) for p in pieces) < 20_000, name
        assert "".join(p.text for p in pieces) == text.lstrip("\ufeff")
        assert sum(p.items for p in pieces[:-1]) == pieces[-1].first_item
        assert pieces[-1].last and not any(p.last for p in pieces[:-1])


def _hostile(tmp_path: Path) -> dict[str, str]:
    """Odd and broken CSL-JSON, as text."""
    import json

    item = '{"id": "%s", "type": "book", "title": "T%s", "issued": {"date-parts": [[2001]]}}'
    many = [item % (f"k{n}", n) for n in range(60)]
    deep = '{"id": "deep", "type": "book", "note": ' + "[" * 150 + "]" * 150 + "}"
    long = "n" * 200
    return {
        # ids: repeated; numeric; one item's id is another's citation-key (in another piece)
        "ids.json": "[\n  "
        + ",\n  ".join(
            [
                *many[:10],
                '{"id": "k1", "type": "book", "title": "again"}',
                '{"id": 7, "type": "book", "title": "number"}',
                '{"id": "7", "type": "book", "title": "text"}',
                '{"id": "k20", "citation-key": "other", "type": "book"}',
                *many[15:30],
                '{"id": "x", "citation-key": "k20", "type": "book"}',
                '{"id": "other", "type": "book"}',
                '{"id": "k2", "citation-key": "k2", "type": "book"}',
                '{"id": "", "type": "book", "title": "No id"}',
                '{"type": "book", "title": "No id"}',
            ]
        )
        + "\n]\n",
        "surrogates.json": "[\n  "
        + ",\n  ".join([*many[:5], '{"id": "s", "type": "book", "title": "a\\ud800b"}', *many[5:9]])
        + "\n]\n",
        "not_objects.json": "[\n  "
        + ",\n  ".join([*many[:5], "null", "3", '"text"', "[]", *many[5:9]])
        + "\n]",
        "bad_items.json": "[\n  "
        + ",\n  ".join(
            [
                *many[:5],
                '{"id": "t"}',
                '{"id": "u", "type": 5}',
                '{"id": "v", "type": "nonsense"}',
                *many[5:9],
            ]
        )
        + "\n]",
        "invalid_late.json": "[\n  "
        + ",\n  ".join([*many[:40], '{"id": "bad", "type": "book",}', *many[40:]])
        + "\n]\n",
        "unterminated.json": "[\n  " + ",\n  ".join(many[:30]) + ',\n  {"id": "cut',
        "trailing_comma.json": "[\n  " + ",\n  ".join(many[:30]) + ",\n]\n",
        "extra_data.json": "[\n  " + ",\n  ".join(many[:30]) + "\n]\n[]\n",
        "deep.json": "[\n  " + ",\n  ".join([*many[:10], deep, *many[10:20]]) + "\n]\n",
        "huge.json": "[\n  "
        + ",\n  ".join([*many[:10], item % ("long", "x" * 40), *many[10:20]])
        + "\n]\n",
        # Lines inside items that look like item starts to the cutter's guess: its
        # count of items is checked (the item numbers in the warnings depend on it).
        "inner_lines.json": "[\n  "
        + ",\n  ".join(
            f'{{"keyword": [\n  "x",\n  "y"], "id": "m{n}", "type": "nonsense", "note": "{n}{long}"}}'
            for n in range(40)
        )
        + "\n]\n",
        "empty.json": "[ ]\n",
        "empty_file.json": "",
        "object.json": json.dumps({"id": "one", "type": "book", "title": "One"}),
        "zotero_wrapper.json": json.dumps({"items": [{"id": "a", "type": "book"}]}),
        "number.json": "42",
        "two_boms.json": "\ufeff\ufeff[\n  " + ",\n  ".join(many[:5]) + "\n]",
        "nan.json": '[\n  {"id": "n", "type": "book", "volume": NaN, "page": 1e999},\n  '
        + many[0]
        + "\n]",
        "crossref.json": '[\n  {"id": "c", "type": "chapter", "custom": {"crossref": "p"}},\n  '
        '{"id": "p", "type": "book", "publisher": "P"}\n]',
    }


@pytest.mark.parametrize("out", OUTPUTS)
def test_hostile_csl_json_gives_the_same_bytes_or_goes_the_whole_file_way(
    out: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bibtools.formats import csljson

    monkeypatch.setattr(stream, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(csljson, "MAX_VALUE", 30)  # "huge" values: titles past 30 characters
    runner = CliRunner()
    whole = 0
    for name, text in _hostile(tmp_path).items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        expected = whole_file([str(path)], out)
        if name == "huge.json":
            assert "item 10: value of 41 characters is longer than the limit" in str(expected)
        for size, jobs in ((1, 1), (1, 2), (300, 2), (333, 1), (1 << 20, 1)):
            got = streamed([str(path)], out, tmp_path, piece_chars=size, jobs=jobs)
            if got is None:
                whole += 1
            else:
                assert got == expected, (name, size, jobs)
        # The CLI: the same output, messages and exit status as the whole-file read
        monkeypatch.setattr(stream, "PIECE_CHARS", 200)
        one = runner.invoke(main, ["convert", str(path), "-t", out, "-j", "2"])
        monkeypatch.setattr(stream, "run", lambda *a, **k: None)
        two = runner.invoke(main, ["convert", str(path), "-t", out])
        monkeypatch.undo()
        monkeypatch.setattr(stream, "PARALLEL_MIN_BYTES", 0)
        monkeypatch.setattr(csljson, "MAX_VALUE", 30)
        assert (one.exit_code, one.stdout_bytes, one.stderr) == (
            two.exit_code,
            two.stdout_bytes,
            two.stderr,
        ), name
    assert whole >= 4 * 8  # the invalid ones, objects, deep nesting, crossrefs


def test_invalid_csl_json_part_way_says_what_the_whole_file_read_says(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(_hostile(tmp_path)["invalid_late.json"], encoding="utf-8")
    result = CliRunner().invoke(main, ["convert", str(path), "-t", "ris", "-j", "1"])
    assert result.exit_code == 2
    assert "no csljson records found (not valid JSON: Expecting property name" in result.stderr
    assert "(column 32)" in result.stderr
    assert result.stdout == ""


def test_ids_taken_in_an_earlier_piece_are_made_unique(tmp_path: Path) -> None:
    path = tmp_path / "ids.json"
    path.write_text(_hostile(tmp_path)["ids.json"], encoding="utf-8")
    expected = whole_file([str(path)], "csljson")
    for size in (1, 200, 1000):
        assert streamed([str(path)], "csljson", tmp_path, piece_chars=size, jobs=2) == expected
    assert b'"id": "k20-2"' in expected[0]  # an earlier item had this key as its id


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(size=st.integers(min_value=1, max_value=20_000), pick=st.sampled_from(JSON_INPUTS))
def test_any_csl_json_piece_size_gives_the_same_bytes(
    size: int, pick: Path, tmp_path: Path
) -> None:
    for out in ("csljson", "bibtex"):
        got = streamed([str(pick)], out, tmp_path, piece_chars=size)
        assert got == whole_file([str(pick)], out)


def test_csl_json_among_other_inputs_shares_keys_and_ids(tmp_path: Path) -> None:
    bib = tmp_path / "a.bib"
    bib.write_text("@book{smith, title={One}, year=2001}\n@book{jones, title={Two}, year=2002}\n")
    csl = tmp_path / "b.json"
    csl.write_text(
        "[\n  "
        + ",\n  ".join(
            [
                '{"id": "smith", "citation-key": "other", "type": "book"}',  # a BibTeX key as id
                '{"id": "jones", "type": "book", "title": "Three"}',  # a BibTeX key
                '{"id": 5, "type": "book"}',
                '{"id": "5", "type": "book"}',
            ]
        )
        + "\n]\n",
        encoding="utf-8",
    )
    paths = [str(bib), str(csl)]
    for out in OUTPUTS:
        expected = whole_file(paths, out)
        for size, jobs in ((1, 1), (1, 2), (40, 2)):
            assert streamed(paths, out, tmp_path, piece_chars=size, jobs=jobs) == expected
    written = whole_file(paths, "csljson")[0]
    assert b'"id": "other"' in written and b'"id": 5,' in written and b'"id": "5a"' in written
