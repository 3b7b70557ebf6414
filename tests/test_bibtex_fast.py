"""The BibTeX reader's fast paths (issue 18) give what the general paths give."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bibtools.diagnostics import Diagnostics
from bibtools.formats import bibtex
from bibtools.text import markup

# Text made of what the patterns and the brace counting look at.
_MARKS = st.text(alphabet=st.sampled_from('{}#"\\ a1\n'), max_size=24)


@settings(max_examples=500)
@given(_MARKS)
def test_a_plain_braced_value_evaluates_to_its_inside(raw: str) -> None:
    raw = raw.strip()
    if bibtex._plain_braced(raw):
        undefined: list[str] = []
        assert bibtex._evaluate(raw, {}, undefined, bibtex.Expansion()) == raw[1:-1]
        assert undefined == []


def test_the_fast_path_takes_braced_values_with_a_hash_inside() -> None:
    assert bibtex._plain_braced("{https://x.org/#frag}")
    assert bibtex._plain_braced(r"{a \# b}")
    assert not bibtex._plain_braced("{a} # {b}")
    assert not bibtex._plain_braced("{a}b} # {c}")
    assert not bibtex._plain_braced('"a"')


_STARTS = st.lists(
    st.sampled_from(["@", "\n", " ", "\t", "a", "b-c", "{", "(", ",", "}", "=", '"', "@misc"]),
    max_size=30,
).map("".join)


@settings(max_examples=1000)
@given(_STARTS)
def test_odd_starts_are_the_regex_matches(text: str) -> None:
    def spans(matches):
        return [(m.start(), m.end(), m.groups()) for m in matches]

    # (padded: a text this short is dense in "@", which takes the regex's own scan)
    padded = text + " " * 64 * text.count("@")
    assert spans(bibtex._odd_starts(padded)) == spans(bibtex._ODD_START.finditer(padded))


class _Everything:
    def __contains__(self, name: object) -> bool:
        return True


# Written out (not only taken from _MAPPED) so that a name missing there is tried.
_NAMES = sorted(
    bibtex._MAPPED.union(
        "title author editor journal booktitle number issue pages school institution type doi url "
        "keywords urldate crossref code affiliation location year date month day eprint "
        "archiveprefix primaryclass code_stars address publisher note volume isbn".split(),
        ["bibdate", "Title", "ISSUE", "foo", "acknowledgement"],
    )
)
_VALUES = st.sampled_from(
    ["", "2020", "x", "{A} and B", "arXiv", "1--2", r"\url{http://a.b}", "Smith, J.", "jan", "10"]
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    etype=st.sampled_from(["article", "book", "inproceedings", "misc", "phdthesis", "odd"]),
    fields=st.lists(st.tuples(st.sampled_from(_NAMES), _VALUES), max_size=8),
)
def test_unmapped_fields_skip_the_branches_with_the_same_record(
    etype: str, fields: list[tuple[str, str]]
) -> None:
    fast_diags, general_diags = Diagnostics(), Diagnostics()
    fast = bibtex.entry_to_record(etype, "k", fields, "t.bib", 1, fast_diags)
    mapped = bibtex._MAPPED
    bibtex._MAPPED = _Everything()  # type: ignore[assignment]
    try:
        general = bibtex.entry_to_record(etype, "k", fields, "t.bib", 1, general_diags)
    finally:
        bibtex._MAPPED = mapped
    assert fast == general
    assert list(fast_diags) == list(general_diags)


def test_every_field_the_mapping_names_is_mapped() -> None:
    import inspect

    source = inspect.getsource(bibtex._values_to_record)
    loop = source[source.index("for name, value in values.items()") : source.index("# BibLaTeX's")]
    named = set(re.findall(r'name == "(\w+)"', loop))
    for group in re.findall(r"name in \(([^)]*)\)", loop):
        named |= set(re.findall(r'"(\w+)"', group))
    assert named <= bibtex._MAPPED


@given(st.text(alphabet=st.sampled_from("{}a\\"), max_size=20))
def test_balanced_counts_braces_as_the_character_loop_does(text: str) -> None:
    depth, ok = 0, True
    for ch in text:
        depth += (ch == "{") - (ch == "}")
        ok = ok and depth >= 0
    assert markup._balanced(text) == (ok and depth == 0)


def test_a_name_copy_has_every_field_and_its_own_extra() -> None:
    from dataclasses import fields, replace

    from bibtools.model import Name
    from bibtools.text.names import _copy

    name = Name(**{f.name: f"v{i}" for i, f in enumerate(fields(Name)) if f.name != "extra"})
    name.extra["x"] = 1
    copy = _copy(name)
    assert copy == replace(name, extra=dict(name.extra))
    assert copy is not name and copy.extra is not name.extra


_NAME_LISTS = st.lists(
    st.sampled_from(
        ["Smith, J.", "Jane Doe", "{ACME Corp}", "van Gogh, V.", "others", "", " ", r"M{\"u}ller"]
    ),
    max_size=4,
).map(" and ".join)


@given(_NAME_LISTS)
def test_a_cached_name_list_is_the_parsed_one_and_not_shared(value: str) -> None:
    from bibtools.text import names

    parsed = names._parse_names(value)
    first, truncated = names.parse_bibtex_names(value)
    assert (tuple(first), truncated) == parsed
    for name in first:
        name.family += "changed"
        name.extra["x"] = 1
    again, _ = names.parse_bibtex_names(value)
    assert (tuple(again), truncated) == parsed


@settings(max_examples=1000)
@given(st.lists(st.sampled_from(["%", "\n", " ", "\t", "a", "%%", "\r"]), max_size=20).map("".join))
def test_a_percent_line_is_found_where_the_pattern_finds_it(text: str) -> None:
    assert bibtex._has_percent_line(text) == (bibtex._PERCENT_LINE.search(text) is not None)


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from("0123456789-\u2013 ~{}\\a"), max_size=12))
def test_pages_and_years_take_the_general_paths_result(value: str) -> None:
    general_pages = bibtex._PAGE_DASH.sub("-", bibtex.plain_value(value))
    assert bibtex.normalise_pages(value) == general_pages
    if value.isdigit() and value.isascii() and len(value) <= 4:
        assert bibtex._parse_year(value) == bibtex._parse_any_year(value)


@given(st.text(alphabet=st.sampled_from("ab \\{}$<"), max_size=10))
def test_markup_without_marks_is_returned_as_it_is(text: str) -> None:
    if not any(ch in text for ch in "\\{}$"):
        assert markup.to_plain(text) == text and markup.to_csl(text) == text
    else:
        assert markup._RENDER_MARK.search(text)


@settings(max_examples=1000)
@given(st.text(alphabet=st.sampled_from(" a\t\n\r\f\v\u00a0\u2028\x1c\x85b"), max_size=12))
def test_collapse_ws_is_the_pattern_and_strip(text: str) -> None:
    assert markup.collapse_ws(text) == markup._WS.sub(" ", text).strip()


def _field_comments_by_every_line(text: str) -> tuple[str, list[int]]:
    """The reader's first implementation of _field_comments, which walked every line."""
    if bibtex._PERCENT_LINE.search(text) is None:
        return text, []
    lines = text.split("\n")
    content = [bool(x.strip()) and not x.lstrip().startswith("%") for x in lines]
    before: list[str] = []
    last = ""
    for line, has in zip(lines, content, strict=True):
        before.append(last)
        if has:
            last = line
    emptied: list[int] = []
    cut: dict[int, int] = {}
    following = ""
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if content[i]:
            if "%" in line and bibtex._FIELD_START.match(following):
                at = bibtex._trailing_comment(line)
                if at >= 0:
                    cut[i] = at
            following = line
        elif line.lstrip().startswith("%") and (
            before[i].rstrip().endswith((",", "{", "(")) and bibtex._FIELD_START.match(following)
        ):
            emptied.append(i + 1)
    if not emptied and not cut:
        return text, []
    for number in emptied:
        lines[number - 1] = ""
    for i, at in cut.items():
        lines[i] = lines[i][:at].rstrip()
        emptied.append(i + 1)
    return "\n".join(lines), sorted(emptied)


_LINES = st.lists(
    st.sampled_from(
        [
            "",
            "  ",
            "\r",
            "% a comment",
            "  %% more, {",
            "@article{k,",
            "  title = {A},",
            "  title = {A}, % why",
            "  note = {50% off},",
            "  year = 1990 % or 1991",
            "  pages = {1--2}",
            "}",
            "a%b",
            "%",
        ]
    ),
    max_size=14,
).map("\n".join)


@settings(max_examples=1500)
@given(_LINES)
def test_field_comments_are_found_as_by_walking_every_line(text: str) -> None:
    assert bibtex._field_comments(text) == _field_comments_by_every_line(text)


def _read_entry_by_evaluate(entry, macros, diags):
    """The reader's first _read_entry: every value through evaluate, then entry_to_record."""
    fields, line = [], entry.line
    try:
        for key, raw, field_line in entry.fields:
            if bibtex._MISSING_COMMA.search(raw):
                message = (
                    f"field {key!r} runs into the next field: a comma is missing after its value"
                )
                diags.warn("t.bib", field_line, message, entry.key)
            undefined: list[str] = []
            fields.append((key, bibtex.evaluate(raw, macros, undefined, bibtex.Expansion())))
            for name in undefined:
                if key.lower() != "month":
                    message = f"field {key!r} uses undefined macro {name!r}"
                    diags.warn("t.bib", line, message, entry.key)
    except bibtex.ValueTooLong as exc:
        diags.error("t.bib", line, f"field {key!r}: {exc}; entry skipped", entry.key)
        return None
    return bibtex.entry_to_record(entry.entry_type, entry.key, fields, "t.bib", line, diags)


_RAWS = st.sampled_from(
    ["{A}", "{a # b}", "{a} # {b}", '"q"', "jan", "zz", "1990", "{x}}#{y}", "{T}\n  f = {x}", ""]
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(["title", "Title", "month", "note", "year", "x"]), _RAWS),
        max_size=6,
    )
)
def test_an_entry_reads_as_through_evaluate_and_entry_to_record(fields) -> None:
    from bibtools.formats.bibtex_split import EntryBlock

    entry = EntryBlock("article", "k", tuple((n, r, 3 + i) for i, (n, r) in enumerate(fields)), 2)
    fast_diags, general_diags = Diagnostics(), Diagnostics()
    macros = dict(bibtex.DEFAULT_MACROS)
    fast = bibtex._read_entry(entry, macros, "t.bib", fast_diags, bibtex.Expansion(), False)
    general = _read_entry_by_evaluate(entry, macros, general_diags)
    assert (fast is None) == (general is None)
    if fast is not None:
        assert fast == general
    assert list(fast_diags) == list(general_diags)  # the same, in the same order
