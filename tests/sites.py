"""Contracts of the site generators researchers publish with, as checkers.

Each checker returns the problems of an export against what the generator's
own templates and parsers read (empty list: accepted). The contracts, and the
exact files and commits they were read from, are in docs/site-exports.md:

- ``check_alfolio(bib_text)``: al-folio's ``_bibliography/papers.bib`` as
  jekyll-scholar 7.3 / bibtex-ruby 6.2 read it and ``_layouts/bib.liquid``
  renders it (custom fields, the ``filtered_bibtex_keywords`` filter, author
  marks).
- ``check_hugoblox(folder)``: Hugo Blox page bundles
  ``content/publications/<slug>/index.md`` (+ ``cite.bib``) as
  ``modules/blox`` renders them; ``content/publication/`` (singular, what the
  academic-file-converter writes) is read too.
- ``check_academicpages(folder)``: academicpages ``_publications/*.md`` as
  Jekyll reads them and ``_pages/publications.html`` lists them.

No generator can be run here (no RubyGems, no Hugo modules), so the checkers
re-state the generators' rules; tests/test_sites_contract.py shows each one
accepts the generators' own example publications.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import bibtexparser
import yaml

__all__ = [
    "ACADEMICPAGES_CATEGORIES",
    "ALFOLIO_FILTERED_KEYWORDS",
    "CSL_TYPES",
    "HUGOBLOX_DERIVED_IDS",
    "HUGOBLOX_LINK_TYPES",
    "check_academicpages",
    "check_alfolio",
    "check_hugoblox",
]

# --------------------------------------------------------------------------
# al-folio (jekyll-scholar + bibtex-ruby)
# --------------------------------------------------------------------------

# al-folio _config.yml `filtered_bibtex_keywords` (alshedivat/al-folio@3e2b8f78):
# lines holding these fields are cut from the BibTeX shown by the [Bib] button.
ALFOLIO_FILTERED_KEYWORDS = (
    "abbr abstract additional_info altmetric annotation arxiv award award_name "
    "bibtex_show blog code dimensions eprint google_scholar_id hal html "
    "inspirehep_id pdf pmid poster preview selected slides supp video website"
).split()

# bib.liquid strips these from last names and shows them as superscripts;
# hide-custom-bibtex.rb strips all but U+2217 from the shown `author =` line.
_AUTHOR_MARKS = "*∗†‡§¶‖&^"
_MARKS_STRIPPED_FROM_SHOWN_BIBTEX = "*†‡§¶‖&^"

# bibtex-ruby lexer patterns (lib/bibtex/lexer.rb), restated: [[:alpha:][:digit:]]
# is Unicode-aware in Ruby, which [^\W_] is in Python.
_AN = r"[^\W_]"
_RB_ENTRY_TYPE = re.compile(r"[a-z\d:_!.$%&*-]+", re.I)
_RB_KEY = re.compile(rf"\s*(?:{_AN}|[ /:_!$?.%+;&*'\"{{}}-])+,")
_RB_NAME = re.compile(rf"(?:{_AN}|[/:_!$?.%+&*-])+")
_RB_NUMBER = re.compile(r"\d+")

# Fields bib.liquid uses as an href exactly as written (no prefix is added).
_ALFOLIO_ABSOLUTE_URL_FIELDS = ("code", "website", "blog")
# Fields bib.liquid resolves under /assets/... unless they contain '://'.
_ALFOLIO_FILE_OR_URL_FIELDS = ("pdf", "html", "supp", "poster", "slides", "preview")
_ARXIV_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_MONTH_MACROS = {m for m in "jan feb mar apr may jun jul aug sep oct nov dec".split()}


@dataclass
class _BibValue:
    parts: list[tuple[str, str]]  # (kind, text); kind in brace, quote, number, macro

    @property
    def text(self) -> str:
        return "".join(t for _, t in self.parts)


@dataclass
class _BibEntry:
    type: str
    key: str
    line: int
    fields: dict[str, _BibValue] = field(default_factory=dict)
    field_lines: dict[str, int] = field(default_factory=dict)


class _RubyBibScanner:
    """Reads a .bib the way bibtex-ruby 6 (strict lexer, racc grammar) does.

    Two kinds of failure matter, and messages say which: a lexer error turns
    the object into a BibTeX::Error that jekyll-scholar silently drops (the
    paper vanishes from the page, a WARN in the build log); a parser error
    raises BibTeX::ParseError and the whole site build fails.
    """

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.problems: list[str] = []
        self.entries: list[_BibEntry] = []
        self.strings: set[str] = set()

    def line(self, pos: int | None = None) -> int:
        return self.s.count("\n", 0, self.i if pos is None else pos) + 1

    def dropped(self, start: int, why: str) -> None:
        self.problems.append(
            f"line {self.line(start)}: {why}; bibtex-ruby's lexer drops this object "
            "(the entry silently vanishes from the al-folio page)"
        )

    def fatal(self, start: int, why: str) -> None:
        self.problems.append(
            f"line {self.line(start)}: {why}; bibtex-ruby raises ParseError "
            "(the whole Jekyll build fails)"
        )

    def skip_ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def resync(self) -> None:
        # After a lexer error bibtex-ruby goes back to meta mode: the next '@'
        # (strict mode: anywhere) starts the next object.
        nxt = self.s.find("@", self.i)
        self.i = len(self.s) if nxt < 0 else nxt

    def run(self) -> None:
        while True:
            at = self.s.find("@", self.i)
            if at < 0:
                return
            self.i = at + 1
            while self.i < len(self.s) and self.s[self.i] in " \t":
                self.i += 1
            self.object(at)

    def object(self, start: int) -> None:
        rest = self.s[self.i :]
        low = rest.lower()
        if low.startswith("string"):
            self.i += 6
            self.string_object(start)
        elif re.match(r"preamble\b", low) or re.match(r"comment\b", low):
            word = 8 if low.startswith("preamble") else 7
            self.i += word
            self.skip_ws()
            if not self.s.startswith("{", self.i):
                self.dropped(start, "@comment/@preamble must use braces")
                self.resync()
                return
            end = self.balanced(self.i)
            if end is None:
                self.dropped(start, "unbalanced braces")
                self.i = len(self.s)
                return
            self.i = end
        else:
            m = _RB_ENTRY_TYPE.match(self.s, self.i)
            if not m:
                self.dropped(
                    start,
                    "'@' outside an entry (the strict lexer starts an object at any '@', "
                    "even in a '%' comment line)",
                )
                self.resync()
                return
            self.i = m.end()
            self.entry(start, m.group(0).lower())

    def balanced(self, open_pos: int) -> int | None:
        depth = 0
        for j in range(open_pos, len(self.s)):
            c = self.s[j]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return j + 1
        return None

    def string_object(self, start: int) -> None:
        self.skip_ws()
        if not self.s.startswith("{", self.i):
            self.dropped(start, "@string must use braces")
            self.resync()
            return
        self.i += 1
        self.skip_ws()
        m = _RB_NAME.match(self.s, self.i)
        if not m:
            self.fatal(start, "@string without a name")
            self.resync()
            return
        name = m.group(0).lower()
        self.i = m.end()
        self.skip_ws()
        if not self.s.startswith("=", self.i):
            self.fatal(start, "@string without '='")
            self.resync()
            return
        self.i += 1
        value = self.value(start)
        if value is None:
            return
        self.skip_ws()
        if not self.s.startswith("}", self.i):
            self.fatal(start, "@string not closed by '}'")
            self.resync()
            return
        self.i += 1
        self.strings.add(name)

    def entry(self, start: int, etype: str) -> None:
        self.skip_ws()
        if not self.s.startswith("{", self.i):
            self.dropped(
                start,
                f"'@{etype}' is not followed by '{{' (bibtex-ruby reads no '(' delimiters, and "
                "its strict lexer starts an object at any '@', even in a '%' comment line)",
            )
            self.resync()
            return
        self.i += 1
        m = _RB_KEY.match(self.s, self.i)
        if not m:
            self.fatal(start, f"@{etype} without a citation key bibtex-ruby accepts")
            self.resync()
            return
        key = m.group(0)[:-1].strip()
        self.i = m.end()
        entry = _BibEntry(etype, key, self.line(start))
        while True:
            self.skip_ws()
            if self.s.startswith("}", self.i):
                self.i += 1
                self.entries.append(entry)
                return
            fstart = self.i
            m = _RB_NAME.match(self.s, self.i)
            if not m:
                what = self.s[self.i : self.i + 1] or "end of file"
                self.dropped(fstart, f"entry {key}: unexpected {what!r} where a field name belongs")
                self.resync()
                return
            name = m.group(0).lower()
            self.i = m.end()
            self.skip_ws()
            if not self.s.startswith("=", self.i):
                self.fatal(fstart, f"entry {key}: field {name} without '='")
                self.resync()
                return
            self.i += 1
            value = self.value(fstart)
            if value is None:
                return
            if name in entry.fields:
                self.problems.append(
                    f"line {self.line(fstart)}: entry {key}: field {name} given twice; "
                    "bibtex-ruby keeps the last silently"
                )
            entry.fields[name] = value
            entry.field_lines[name] = self.line(fstart)
            self.skip_ws()
            if self.s.startswith(",", self.i):
                self.i += 1
            elif not self.s.startswith("}", self.i):
                self.fatal(fstart, f"entry {key}: field {name} not followed by ',' or '}}'")
                self.resync()
                return

    def value(self, start: int) -> _BibValue | None:
        parts: list[tuple[str, str]] = []
        while True:
            self.skip_ws()
            c = self.s[self.i : self.i + 1]
            if c == "{":
                end = self.balanced(self.i)
                if end is None:
                    self.dropped(start, "unbalanced braces")
                    self.i = len(self.s)
                    return None
                parts.append(("brace", self.s[self.i + 1 : end - 1]))
                self.i = end
            elif c == '"':
                j, depth = self.i + 1, 0
                while j < len(self.s) and not (self.s[j] == '"' and depth == 0):
                    depth += {"{": 1, "}": -1}.get(self.s[j], 0)
                    if depth < 0:
                        break
                    j += 1
                if j >= len(self.s) or depth < 0:
                    self.dropped(start, "unterminated or unbalanced quoted value")
                    self.resync()
                    return None
                parts.append(("quote", self.s[self.i + 1 : j]))
                self.i = j + 1
            elif (m := _RB_NUMBER.match(self.s, self.i)) and not _RB_NAME.match(self.s, m.end()):
                parts.append(("number", m.group(0)))
                self.i = m.end()
            elif m := _RB_NAME.match(self.s, self.i):
                if m.group(0)[0].isdigit():
                    self.fatal(start, f"bare value {m.group(0)!r} mixes digits and letters")
                    self.resync()
                    return None
                parts.append(("macro", m.group(0).lower()))
                self.i = m.end()
            else:
                self.dropped(start, f"unexpected {c or 'end of file'!r} where a value belongs")
                self.resync()
                return None
            self.skip_ws()
            if self.s.startswith("#", self.i):
                if parts[-1][0] == "number":
                    self.fatal(start, "a bare number cannot be joined with '#'")
                    self.resync()
                    return None
                self.i += 1
                continue
            return _BibValue(parts)


def _last_and_first(name: str) -> tuple[str, str]:
    """A BibTeX name's last and first parts, enough to find author marks."""
    name = " ".join(name.split())
    if "," in name:
        last, _, first = name.partition(",")
        return last.strip(), first.strip()
    words = name.split(" ")
    return words[-1], " ".join(words[:-1])


def _split_names(value: str) -> list[str]:
    out, depth, cur = [], 0, []
    tokens = re.split(r"(\{|\}|\s+and\s+)", value)
    for tok in tokens:
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        if depth == 0 and re.fullmatch(r"\s+and\s+", tok or ""):
            out.append("".join(cur))
            cur = []
        else:
            cur.append(tok)
    out.append("".join(cur))
    return [n.strip() for n in out if n.strip()]


_UNSAFE_HTML = re.compile(r"<\s*script|javascript:|\bon[a-z]+\s*=", re.I)


def check_alfolio(
    bib_text: str, filtered_keywords: Iterable[str] = ALFOLIO_FILTERED_KEYWORDS
) -> list[str]:
    """Problems of an al-folio ``_bibliography/papers.bib`` (empty: accepted)."""
    scanner = _RubyBibScanner(bib_text)
    scanner.run()
    problems = list(scanner.problems)
    filtered = {k.lower() for k in filtered_keywords}
    if not scanner.entries:
        problems.append("no entry that jekyll-scholar would list")
    seen: dict[str, int] = {}
    for e in scanner.entries:
        where = f"line {e.line}: entry {e.key}"
        if e.key in seen:
            problems.append(
                f"{where}: key already used on line {seen[e.key]}; bibtex-ruby renames the "
                "second one (String#succ), so links to it break"
            )
        seen.setdefault(e.key, e.line)
        for name in ("title", "year"):
            if name not in e.fields or not e.fields[name].text.strip():
                problems.append(f"{where}: no {name} (bib.liquid and the year groups need it)")
        for name, value in e.fields.items():
            fl = f"line {e.field_lines[name]}: entry {e.key}: {name}"
            for kind, text in value.parts:
                if (
                    kind == "macro"
                    and text not in scanner.strings
                    and not (name == "month" and text in _MONTH_MACROS)
                ):
                    problems.append(f"{fl}: undefined @string {text!r} is printed as its name")
            text = value.text
            if name in filtered:
                if "\n" in text:
                    problems.append(
                        f"{fl}: value spans lines; hideCustomBibtex removes only the first "
                        "line, the rest shows in the [Bib] block"
                    )
                if any(k == "macro" for k, _ in value.parts):
                    problems.append(
                        f"{fl}: bare word; bibtex-ruby writes it without braces and "
                        "hideCustomBibtex (which needs '= {{') does not hide it"
                    )
            if _UNSAFE_HTML.search(text):
                problems.append(f"{fl}: script-like HTML (bib.liquid prints fields unescaped)")
        for name in ("selected", "bibtex_show"):
            if name in e.fields and e.fields[name].text.strip() != "true":
                problems.append(
                    f"line {e.field_lines[name]}: entry {e.key}: {name} = "
                    f"{{{e.fields[name].text}}}: al-folio only understands {{true}} "
                    "(selected: the query is [selected=true]; bibtex_show: any value shows "
                    "the button, even false)"
                )
        if "arxiv" in e.fields and not _ARXIV_ID.match(e.fields["arxiv"].text.strip()):
            problems.append(
                f"line {e.field_lines['arxiv']}: entry {e.key}: arxiv must be a bare arXiv id "
                "(bib.liquid prefixes http://arxiv.org/abs/)"
            )
        if "doi" in e.fields and not _DOI.match(e.fields["doi"].text.strip()):
            problems.append(
                f"line {e.field_lines['doi']}: entry {e.key}: doi must be a bare DOI "
                "(bib.liquid prefixes https://doi.org/)"
            )
        for name in _ALFOLIO_ABSOLUTE_URL_FIELDS:
            if name in e.fields and not re.match(r"^https?://\S+$", e.fields[name].text.strip()):
                problems.append(
                    f"line {e.field_lines[name]}: entry {e.key}: {name} is used as the link "
                    "as written: it needs an absolute http(s) URL"
                )
        for name in _ALFOLIO_FILE_OR_URL_FIELDS:
            v = e.fields[name].text.strip() if name in e.fields else None
            if v is not None and (
                not v or re.search(r"\s", v) or v.lower().startswith("javascript:")
            ):
                problems.append(
                    f"line {e.field_lines[name]}: entry {e.key}: {name} must be a URL with "
                    "'://' or a file name under /assets/"
                )
        for role in ("author", "editor"):
            if role not in e.fields:
                continue
            for person in _split_names(e.fields[role].text):
                last, first = _last_and_first(person)
                core = last.rstrip(_AUTHOR_MARKS)
                if any(c in _AUTHOR_MARKS for c in core) or any(c in _AUTHOR_MARKS for c in first):
                    problems.append(
                        f"line {e.field_lines[role]}: entry {e.key}: marks in {person!r} must "
                        "end the last name (bib.liquid superscripts only those; elsewhere they "
                        "break the highlight of the lab member)"
                    )
                elif any(c not in _MARKS_STRIPPED_FROM_SHOWN_BIBTEX for c in last[len(core) :]):
                    problems.append(
                        f"line {e.field_lines[role]}: entry {e.key}: mark '∗' (U+2217) in "
                        f"{person!r} is not removed from the shown BibTeX; use '*'"
                    )
    return problems


# --------------------------------------------------------------------------
# Hugo Blox (modules/blox) and the academic-file-converter
# --------------------------------------------------------------------------

_CSL_SCHEMA = Path(__file__).parent / "fixtures" / "csl" / "schema" / "csl-data.json"
CSL_TYPES = frozenset(
    json.loads(_CSL_SCHEMA.read_text(encoding="utf-8"))["items"]["properties"]["type"]["enum"]
)
# Wowchemy <= 5.x codes (data/publication_types.toml before HugoBlox commit 60baebf4).
_LEGACY_PUB_TYPES = {
    "0": "(uncategorized)",
    "1": "paper-conference",
    "2": "article-journal",
    "3": "article",
    "4": "report",
    "5": "book",
    "6": "chapter",
    "7": "thesis",
    "8": "patent",
}
# modules/blox/data/link_types.yaml (HugoBlox/hugo-blox-builder@a139f742)
HUGOBLOX_LINK_TYPES = frozenset(
    "pdf preprint doi code dataset model slides video poster project site source bibtex "
    "canonical crosspost discussion event calendar registration demo".split()
)
HUGOBLOX_DERIVED_IDS = frozenset(
    "doi arxiv openreview acl_id hal dblp isbn osf zenodo kaggle_dataset kaggle_competition "
    "openalex semanticscholar pwc huggingface_model huggingface_dataset huggingface_space".split()
)
_HUGOBLOX_DEPRECATED = (
    "doi",
    "external_link",
    *(f"url_{t}" for t in "pdf preprint code dataset poster project slides source video".split()),
)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


def _front_matter(text: str) -> tuple[dict | None, str, str | None]:
    """(data, body, error) of a Markdown file with YAML, TOML or JSON front matter."""
    if text.startswith("---\n") or text.startswith("---\r\n"):
        m = re.match(r"---\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", text, re.S | re.M)
        if not m:
            return None, text, "YAML front matter is not closed by a '---' line"
        try:
            data = yaml.safe_load(m.group(1))
        except yaml.YAMLError as exc:
            return None, text, f"front matter is not valid YAML: {exc}".replace("\n", " ")
        body = text[m.end() :]
    elif text.startswith("+++"):
        m = re.match(r"\+\+\+\r?\n(.*?)^\+\+\+[ \t]*(?:\r?\n|\Z)", text, re.S | re.M)
        if not m:
            return None, text, "TOML front matter is not closed by a '+++' line"
        try:
            data = tomllib.loads(m.group(1))
        except tomllib.TOMLDecodeError as exc:
            return None, text, f"front matter is not valid TOML: {exc}"
        body = text[m.end() :]
    elif text.startswith("{"):
        try:
            data, end = json.JSONDecoder().raw_decode(text)
        except json.JSONDecodeError as exc:
            return None, text, f"front matter is not valid JSON: {exc}"
        body = text[end:]
    else:
        return None, text, "no front matter (the file must start with '---')"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, body, "front matter is not a mapping"
    return data, body, None


def _is_date(value: object) -> bool:
    if isinstance(value, dt.date):  # datetime is a date too
        return True
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            dt.date.fromisoformat(value.strip()[:10])
            return True
        except ValueError:
            return False
    return False


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _hugoblox_sections(folder: Path) -> list[Path]:
    content = folder / "content"
    if content.is_dir():
        return [content / s for s in ("publications", "publication") if (content / s).is_dir()]
    return [folder]


def _check_cite_bib(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    lib = bibtexparser.parse_string(text)
    problems = [f"{path}: unreadable BibTeX block" for _ in lib.failed_blocks]
    if len(lib.entries) != 1:
        problems.append(f"{path}: must hold exactly one entry (has {len(lib.entries)})")
    return problems


def check_hugoblox(folder: str | Path, *, strict: bool = False) -> list[str]:
    """Problems of a Hugo Blox publication export (empty: accepted).

    ``folder`` is a site root holding ``content/publications/`` (Hugo Blox
    templates) and/or ``content/publication/`` (academic-file-converter), or a
    section folder of page bundles. ``strict`` adds what bibtools' own export
    promises beyond the generator: a ``cite.bib`` in every bundle, no field the
    theme reports as deprecated, no empty link.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder}: not a folder"]
    sections = _hugoblox_sections(folder)
    if not sections:
        return [f"{folder}: no content/publications/ or content/publication/ folder"]
    problems: list[str] = []
    bundles = 0
    for section in sections:
        for child in sorted(section.iterdir()):
            if child.is_file():
                if child.name != "_index.md" and child.suffix == ".md" and strict:
                    problems.append(
                        f"{child}: a single-file page, not a bundle: no cite.bib beside it"
                    )
                continue
            bundles += 1
            if not _SLUG.match(child.name):
                problems.append(
                    f"{child}: folder name is not a slug (a-z, 0-9, '-', as the "
                    "academic importer makes them)"
                )
            index = child / "index.md"
            if not index.is_file():
                what = (
                    "_index.md (a branch bundle)"
                    if (child / "_index.md").exists()
                    else "no index.md"
                )
                problems.append(f"{child}: {what}; a publication is a leaf bundle with index.md")
                continue
            problems += _check_hugoblox_page(index, strict)
            cite = child / "cite.bib"
            if cite.is_file():
                problems += _check_cite_bib(cite)
            elif strict:
                problems.append(f"{child}: no cite.bib (the Cite button needs it)")
    if bundles == 0:
        problems.append(f"{folder}: no publication bundle")
    return problems


def _check_hugoblox_page(path: Path, strict: bool) -> list[str]:
    text = path.read_text(encoding="utf-8")
    fm, _, error = _front_matter(text)
    if error:
        return [f"{path}: {error}"]
    assert fm is not None
    p: list[str] = []
    if not isinstance(fm.get("title"), str) or not fm["title"].strip():
        p.append("title: missing or not a string")
    if "date" not in fm:
        p.append("date: missing (the citation view prints the year of .Date)")
    for key in ("date", "publishDate", "lastmod"):
        if key in fm and not _is_date(fm[key]):
            p.append(f"{key}: {fm[key]!r} is not a date (YYYY-MM-DD or RFC 3339)")
    authors = fm.get("authors")
    if not _str_list(authors) or not authors:
        p.append("authors: missing or not a list of names (it is a Hugo taxonomy)")
    types = fm.get("publication_types")
    if not isinstance(types, list) or len(types) != 1 or not isinstance(types[0], str):
        p.append("publication_types: must be a list of one CSL type, e.g. ['article-journal']")
    elif types[0] in _LEGACY_PUB_TYPES:
        p.append(
            f"publication_types: {types[0]!r} is a Wowchemy <= 5 code; Hugo Blox reads CSL "
            f"types (here {_LEGACY_PUB_TYPES[types[0]]})"
        )
    elif types[0] not in CSL_TYPES:
        p.append(f"publication_types: {types[0]!r} is not a CSL type")
    for key in ("publication", "publication_short", "abstract", "summary", "slides"):
        if (
            key in fm
            and not isinstance(fm[key], str)
            and not (key == "slides" and _str_list(fm[key]))
        ):
            p.append(f"{key}: must be a string")
    for key in ("tags", "projects", "categories"):
        if key in fm and not (
            isinstance(fm[key], list) and all(isinstance(v, str) for v in fm[key])
        ):
            p.append(f"{key}: must be a list of strings")
    if "featured" in fm and (
        not isinstance(fm["featured"], bool)
        or not re.search(r"^featured:\s*(?:true|false)\s*(?:#.*)?$", text, re.M | re.I)
    ):
        p.append("featured: must be true or false (the collection filter compares == true)")
    notes = fm.get("author_notes")
    if notes is not None:
        if not (isinstance(notes, list) and all(isinstance(v, str) for v in notes)):
            p.append("author_notes: must be a list of strings")
        elif _str_list(authors) and len(notes) > len(authors):
            p.append("author_notes: more notes than authors (notes pair with authors by position)")
    ids = (fm.get("hugoblox") or {}).get("ids") if isinstance(fm.get("hugoblox"), dict) else None
    if "hugoblox" in fm and not isinstance(fm["hugoblox"], dict):
        p.append("hugoblox: must be a mapping")
    if ids is not None:
        if not isinstance(ids, dict):
            p.append("hugoblox.ids: must be a mapping")
        else:
            for k, v in ids.items():
                if k not in HUGOBLOX_DERIVED_IDS:
                    p.append(f"hugoblox.ids.{k}: unknown identifier, no link is made")
                elif (
                    not isinstance(v, str | int | float)
                    or isinstance(v, bool)
                    or not str(v).strip()
                ):
                    p.append(f"hugoblox.ids.{k}: must be a non-empty string")
                elif k == "doi" and not _DOI.match(str(v)):
                    p.append(
                        f"hugoblox.ids.doi: {v!r} is not a bare DOI (https://doi.org/ is added)"
                    )
                elif k == "arxiv" and not _ARXIV_ID.match(str(v)):
                    p.append(f"hugoblox.ids.arxiv: {v!r} is not a bare arXiv id")
    links = fm.get("links")
    if links is not None:
        if not isinstance(links, list):
            p.append("links: must be a list")
        else:
            for i, link in enumerate(links):
                if not isinstance(link, dict):
                    p.append(f"links[{i}]: must be a mapping with type and url")
                    continue
                ltype = link.get("type", "custom")
                label = link.get("label") or link.get("name")
                if ltype not in HUGOBLOX_LINK_TYPES and not label:
                    p.append(f"links[{i}]: type {ltype!r} is unknown and has no label")
                url = link.get("url")
                if url is not None and not isinstance(url, str):
                    p.append(f"links[{i}].url: must be a string")
                elif not url and not link.get("id"):
                    if strict:
                        p.append(f"links[{i}]: empty url (the button would point at the site root)")
                elif isinstance(url, str) and _UNSAFE_HTML.search(url):
                    p.append(f"links[{i}].url: javascript: URL")
    for key in _HUGOBLOX_DEPRECATED:
        if key in fm:
            if not isinstance(fm[key], str):
                p.append(f"{key}: must be a string")
            elif strict and fm[key]:
                p.append(
                    f"{key}: deprecated in Hugo Blox (build_links.html warns); use links/hugoblox.ids"
                )
    if "image" in fm and not isinstance(fm["image"], dict):
        p.append("image: must be a mapping (caption, focal_point, preview_only)")
    return [f"{path}: {m}" for m in p]


# --------------------------------------------------------------------------
# academicpages (Jekyll collection `publications`)
# --------------------------------------------------------------------------

# _config.yml `publication_category` (academicpages/academicpages.github.io@2f67ec16):
# with it set, _pages/publications.html lists only documents whose category is a key.
ACADEMICPAGES_CATEGORIES = ("books", "manuscripts", "conferences")
_AP_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-([A-Za-z0-9][A-Za-z0-9_-]*)\.md$")
_AP_URL_FIELDS = ("paperurl", "slidesurl", "bibtexurl")


def check_academicpages(
    folder: str | Path, categories: Iterable[str] | None = ACADEMICPAGES_CATEGORIES
) -> list[str]:
    """Problems of academicpages ``_publications/*.md`` files (empty: accepted).

    ``folder`` is the site root (holding ``_publications/``) or that folder.
    ``categories``: the keys of ``publication_category`` in the site's
    _config.yml, or None for a site without it (then every document is listed).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder}: not a folder"]
    pubs = folder / "_publications" if (folder / "_publications").is_dir() else folder
    files = sorted(
        f for f in pubs.iterdir() if f.is_file() and f.suffix in (".md", ".markdown", ".html")
    )
    if not files:
        return [f"{pubs}: no publication file"]
    allowed = None if categories is None else set(categories)
    problems: list[str] = []
    permalinks: dict[str, Path] = {}
    for path in files:
        p: list[str] = []
        m = _AP_NAME.match(path.name)
        if not m:
            p.append("file name must be YYYY-MM-DD-slug.md (slug: letters, digits, '-', '_')")
        else:
            try:
                dt.date.fromisoformat(m.group(1))
            except ValueError:
                p.append(f"file name date {m.group(1)} is not a date")
        text = path.read_text(encoding="utf-8")
        if not re.match(r"---[ \t]*\r?\n", text):
            problems.append(f"{path}: no front matter; Jekyll copies it as a static file, unlisted")
            continue
        fm, _, error = _front_matter(text)
        if error:
            problems.append(f"{path}: {error}")
            continue
        assert fm is not None
        for key in ("title", "venue"):
            if not isinstance(fm.get(key), str) or not fm[key].strip():
                p.append(f"{key}: missing or not a string")
        if "date" not in fm:
            p.append("date: missing (the list prints its year; Jekyll would use the file name's)")
        elif not _is_date(fm["date"]):
            p.append(f"date: {fm['date']!r} is not a date Jekyll can parse")
        link = fm.get("permalink")
        if not isinstance(link, str) or not link.startswith("/"):
            p.append("permalink: missing or not a site path starting with '/'")
        elif link in permalinks:
            p.append(
                f"permalink: {link} is also {permalinks[link].name}'s; Jekyll writes both "
                "to one file and one page is lost"
            )
        else:
            permalinks[link] = path
        if allowed is not None:
            cat = fm.get("category")
            if cat not in allowed:
                p.append(
                    f"category: {cat!r} is not one of {sorted(allowed)}; "
                    "_pages/publications.html does not list it"
                )
        for key in ("excerpt", "citation", "collection"):
            if key in fm and not isinstance(fm[key], str):
                p.append(f"{key}: must be a string")
        for key in _AP_URL_FIELDS:
            if key in fm and not (
                isinstance(fm[key], str) and re.match(r"^(?:https?://\S+|/\S*)$", fm[key])
            ):
                p.append(f"{key}: must be an http(s) URL or a site path")
        for key in ("title", "venue", "citation", "excerpt"):
            if isinstance(fm.get(key), str) and _UNSAFE_HTML.search(fm[key]):
                p.append(f"{key}: script-like HTML (the templates print it unescaped)")
        problems += [f"{path}: {msg}" for msg in p]
    return problems
