"""Exports for the site generators researchers publish with: al-folio, Hugo Blox, academicpages.

:func:`export` turns records (keys assigned) and the ``references.bib`` text
written from them into exactly the files the generator reads, as paths
relative to the site's root::

    result = export(records, "al-folio", bibtex_text)
    for f in result.files: write_atomic(root / f.path, f.text)

What each generator reads, and why each choice below, is in
``docs/site-exports.md`` (read from the generators' repositories):

``al-folio``
    ``_bibliography/papers.bib``: the entries as ``references.bib`` has
    them, plus the fields its ``bib.liquid`` turns into badges and buttons
    (``abbr``, ``selected``, ``arxiv``, ``code``, ``pdf``, ``html``,
    ``bibtex_show``, ``abstract``).  Every such field is braced and on one
    line, because al-folio hides them from the shown BibTeX line by line.
``hugo-blox``
    ``content/publications/<slug>/index.md`` (YAML front matter: the
    current template's folder, which its home page lists) and ``cite.bib``
    beside it (the Cite button).  Identifiers go to ``hugoblox.ids``, links
    to ``links``; no deprecated ``url_*`` field, no ``publishDate`` (the
    importer's "now" would make the export depend on the clock).
``academicpages``
    ``_publications/YYYY-MM-DD-<slug>.md`` with a ``category`` the shipped
    ``publication_category`` lists (its own generators omit it, and the
    publications page then hides the paper); values printed as raw HTML are
    escaped.

Pure: no file is written here.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from .diagnostics import Diagnostics, UsageError
from .model import Record
from .pages import code_url, entry_type
from .publication import (
    abstract_text,
    author_names,
    bibtex_entries,
    category,
    is_selected,
    project_url,
    title_text,
    truncated,
    venue_inlines,
)
from .render import html_escape, plain_text, safe_href, to_html, to_markdown
from .text.markup import to_plain

SITES = ("al-folio", "hugo-blox", "academicpages")


@dataclass(frozen=True, slots=True)
class SiteFile:
    path: str  # relative to the site's root, "/"-separated
    text: str


@dataclass(slots=True)
class SiteExport:
    site: str
    files: list[SiteFile] = field(default_factory=list)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)


def export(records: Sequence[Record], site: str, bibtex_text: str) -> SiteExport:
    """The files ``site`` reads for ``records``; ``bibtex_text`` is references.bib as written."""
    if site not in SITES:
        raise UsageError(f"--site: {site!r} is not one of {', '.join(SITES)}")
    result = SiteExport(site)
    if site == "al-folio":
        text = alfolio_bib(records, bibtex_text, result.diagnostics)
        result.files.append(SiteFile("_bibliography/papers.bib", text))
        for rec in records:
            if not rec.issued.year:
                result.diagnostics.warn(
                    rec.origin_file,
                    rec.origin_line,
                    "no year: al-folio's publications page groups by year and shows it under none",
                    rec.key,
                )
        return result
    entries = bibtex_entries(bibtex_text)
    writer = _hugoblox_bundle if site == "hugo-blox" else _academicpages_file
    used: set[str] = set()
    for rec in records:
        made = writer(rec, entries.get(rec.key, ""), used)
        if made is None:
            result.diagnostics.warn(
                rec.origin_file,
                rec.origin_line,
                f"left out of the {site} export: no publication date (the file name needs one)",
                rec.key,
            )
            continue
        result.files.extend(made)
    return result


# --------------------------------------------------------------------------
# Shared pieces


def slug(text: str) -> str:
    """``a-z0-9`` words joined by ``-`` (the academic importer's and Jekyll's safe form)."""
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-") or "paper"


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}-{n}", n + 1
    used.add(candidate)
    return candidate


def _date(rec: Record) -> str:
    d = rec.issued
    if d.year is None:
        return ""
    return f"{d.year:04d}-{d.month or 1:02d}-{d.day or 1:02d}"


def short_venue(rec: Record) -> str:
    """A venue abbreviation for a badge: ``NeurIPS`` from ``NeurIPS 2017`` or ``... (NeurIPS)``.

    ``arXiv`` for a preprint; ``""`` when no abbreviation is written anywhere
    (we do not invent one).
    """
    for text in (rec.journal_ref, to_plain(rec.container_title)):
        m = re.search(r"\(([A-Z][A-Za-z&-]*[A-Z][A-Za-z]*)\)", text) or re.match(
            r"\s*([A-Z][A-Za-z&-]*[A-Z][A-Za-z]*)\b", text
        )
        if m and len(m.group(1)) <= 12:
            return m.group(1)
    if rec.arxiv_id and not rec.container_title and not rec.journal_ref:
        return "arXiv"
    return ""


def _venue_text(rec: Record) -> str:
    # academicpages prints "Published in <venue>, <year>" itself.
    return plain_text(venue_inlines(rec, with_year=False)).removeprefix("In ")


def _links(rec: Record) -> list[tuple[str, str]]:
    """(kind, URL): pdf, code, project, in the page's order."""
    out = []
    pdf = safe_href(rec.pdf_url)
    if pdf:
        out.append(("pdf", pdf))
    code = code_url(rec)
    if code:
        out.append(("code", safe_href(code)))
    project = project_url(rec)
    if project:
        out.append(("project", project))
    return out


def _bare_doi(doi: str) -> str:
    return re.sub(r"(?i)^(https?://(dx\.)?doi\.org/|doi:)", "", doi.strip())


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------
# al-folio


def _braced_ok(value: str) -> bool:
    depth = 0
    for i, ch in enumerate(value):
        if ch in "{}" and i and value[i - 1] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _alfolio_value(text: str) -> str:
    """A braced one-line BibTeX value; braces that do not balance are dropped."""
    text = _one_line(text)
    if not _braced_ok(text):
        text = text.replace("{", "").replace("}", "")
    return "{" + text + "}"


def _alfolio_fields(rec: Record, have: set[str]) -> list[tuple[str, str]]:
    add: list[tuple[str, str]] = []

    def put(name: str, value: str) -> None:
        if value and name not in have:
            add.append((name, _alfolio_value(value)))

    put("abbr", short_venue(rec))
    if is_selected(rec):
        put("selected", "true")
    if rec.arxiv_id:
        put("arxiv", rec.arxiv_id)
    for kind, url in _links(rec):
        put({"pdf": "pdf", "code": "code", "project": "html"}[kind], url)
    put("bibtex_show", "true")
    put("abstract", abstract_text(rec))
    return add


# Fields al-folio hides from its [Bib] block line by line: one line each.
_ALFOLIO_ONE_LINE = frozenset(
    "abbr abstract additional_info altmetric annotation arxiv award award_name bibtex_show "
    "blog code dimensions eprint google_scholar_id hal html inspirehep_id pdf pmid poster "
    "preview selected slides supp video website".split()
)


_TAG_LIKE = re.compile(r"<\s*[A-Za-z/!?]")
_EVENT_ATTR = re.compile(r"(?i)\b(on[a-z]+)(\s*)=")


def _alfolio_safe(
    fields: list[tuple[str, str]], key: str, rec: Record | None, diagnostics: Diagnostics
) -> list[tuple[str, str]]:
    """bib.liquid prints values unescaped: HTML-like text is escaped, javascript: URLs dropped.

    Each change is reported; other values stay as references.bib has them.
    """
    out = []
    file, line = (rec.origin_file, rec.origin_line) if rec else ("", 0)
    for name, raw in fields:
        if re.search(r"(?i)javascript:", raw):
            diagnostics.warn(
                file, line, f"al-folio: {name} left out (a javascript: URL would run)", key
            )
            continue
        safe = raw
        if _TAG_LIKE.search(safe):
            safe = safe.replace("<", "&lt;").replace(">", "&gt;")
        safe = _EVENT_ATTR.sub(lambda m: m.group(1) + m.group(2) + "&#61;", safe)
        if safe != raw:
            diagnostics.warn(
                file, line, f"al-folio: HTML in {name} escaped (bib.liquid prints it as is)", key
            )
        out.append((name, safe))
    return out


def alfolio_bib(
    records: Sequence[Record], bibtex_text: str, diagnostics: Diagnostics | None = None
) -> str:
    """``_bibliography/papers.bib``: references.bib's blocks and entries, plus al-folio's fields."""
    diagnostics = Diagnostics() if diagnostics is None else diagnostics
    from .formats.bibtex_split import EntryBlock, TextBetween, split

    by_key = {r.key: r for r in records}
    lines = bibtex_text.splitlines()
    blocks = sorted(split(bibtex_text, gaps=True), key=lambda b: b.line)
    out: list[str] = []
    for i, block in enumerate(blocks):
        end = blocks[i + 1].line - 1 if i + 1 < len(blocks) else len(lines)
        chunk = "\n".join(lines[block.line - 1 : end]).rstrip()
        if not isinstance(block, EntryBlock):
            # @string/@preamble/@comment as written; text between blocks is left
            # out (bibtex-ruby reads an "@" in it as an entry).
            if not isinstance(block, TextBetween):
                out.append(chunk)
            continue
        rec = by_key.get(block.key)
        fields = [(name, raw) for name, raw, _ in block.fields]
        have = {name.lower() for name, _ in fields}
        if rec is not None:
            fields += _alfolio_fields(rec, have)
        code = safe_href(code_url(rec)) if rec is not None else ""
        fields = [
            # bib.liquid links `code` as written: one URL, not our list of them.
            (name, "{" + code + "}" if name.lower() == "code" and code else raw)
            for name, raw in fields
        ]
        fields = [
            (name, _one_line(raw) if name.lower() in _ALFOLIO_ONE_LINE else raw)
            for name, raw in fields
        ]
        fields = _alfolio_safe(fields, block.key, rec, diagnostics)
        width = max((len(n) for n, _ in fields), default=0)
        body = [f"@{block.entry_type}{{{block.key},"]
        body += [f"  {name.ljust(width)} = {raw}," for name, raw in fields]
        body.append("}")
        out.append("\n".join(body))
    return "---\n---\n\n" + "\n\n".join(out) + "\n"


# --------------------------------------------------------------------------
# YAML front matter (written by hand: strings JSON-quoted, which YAML reads as
# double-quoted scalars, with the characters YAML treats as line breaks or
# forbids escaped)

_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def yaml_str(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", quoted)


def _yaml(data: dict[str, object], indent: str = "") -> list[str]:
    """Block YAML for str, bool, lists of str, mappings and lists of mappings."""
    out = []
    for key, value in data.items():
        if isinstance(value, bool):
            out.append(f"{indent}{key}: {'true' if value else 'false'}")
        elif isinstance(value, str):
            out.append(f"{indent}{key}: {yaml_str(value)}")
        elif isinstance(value, dict):
            out.append(f"{indent}{key}:")
            out += _yaml(value, indent + "  ")
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value) and value:
            out.append(f"{indent}{key}:")
            for item in value:
                lines = _yaml(item, indent + "  ")
                out.append(indent + "- " + lines[0][len(indent) + 2 :])
                out += lines[1:]
        elif isinstance(value, list):
            if not value:
                out.append(f"{indent}{key}: []")
                continue
            out.append(f"{indent}{key}:")
            out += [f"{indent}- {yaml_str(str(v))}" for v in value]
        else:
            raise TypeError(f"{key}: cannot write {type(value).__name__} as YAML")
    return out


def _front_matter(data: dict[str, object]) -> str:
    return "---\n" + "\n".join(_yaml(data)) + "\n---\n"


# --------------------------------------------------------------------------
# Hugo Blox


def _csl_type(rec: Record) -> str:
    """Hugo Blox's ``publication_types``: one CSL type (a preprint is ``article``)."""
    typ = entry_type(rec)
    if typ == "preprint":
        return "article"
    return rec.type if rec.type and rec.type != "document" else "article"


def _hugoblox_bundle(rec: Record, bib: str, used: set[str]) -> list[SiteFile] | None:
    date = _date(rec)
    if not date:
        return None
    name = _unique(slug(rec.key or title_text(rec)), used)
    authors = author_names(rec) + (["et al."] if truncated(rec) else [])
    data: dict[str, object] = {
        "title": title_text(rec),
        "authors": authors,
        "date": date,
        "publication_types": [_csl_type(rec)],
        # The citation view prints the year of `date` itself.
        "publication": to_markdown(venue_inlines(rec, with_year=False)),
    }
    short = short_venue(rec)
    if short:
        data["publication_short"] = short
    abstract = abstract_text(rec)
    if abstract:
        data["abstract"] = abstract
    if rec.keywords:
        data["tags"] = [k for k in rec.keywords if k.strip()]
    data["featured"] = is_selected(rec)
    ids: dict[str, object] = {}
    if rec.arxiv_id:
        ids["arxiv"] = rec.arxiv_id
    doi = _bare_doi(rec.doi)
    if doi and re.match(r"^10\.\d{4,9}/\S+$", doi):
        ids["doi"] = doi
    if ids:
        data["hugoblox"] = {"ids": ids}
    links = [{"type": kind, "url": url} for kind, url in _links(rec)]
    if links:
        data["links"] = links
    body = _front_matter(data)
    files = [SiteFile(f"content/publications/{name}/index.md", body)]
    if bib:
        files.append(SiteFile(f"content/publications/{name}/cite.bib", bib + "\n"))
    return files


# --------------------------------------------------------------------------
# academicpages


def _ap_category(rec: Record) -> str:
    """A key of academicpages' shipped ``publication_category``."""
    typ = entry_type(rec)
    if typ == "paper-conference":
        return "conferences"
    if typ in ("book", "chapter", "collection"):
        return "books"
    return "manuscripts"


def _citation_html(rec: Record) -> str:
    names = author_names(rec)
    who = (", ".join(names) + (", et al." if truncated(rec) else "")).rstrip(".")
    venue = to_html(venue_inlines(rec))  # ends with the year
    title = html_escape(title_text(rec)).rstrip(".")
    return f"{html_escape(who)}. &quot;{title}.&quot; {venue}."


def _academicpages_file(rec: Record, bib: str, used: set[str]) -> list[SiteFile] | None:
    date = _date(rec)
    if not date:
        return None
    stem = _unique(f"{date}-{slug(rec.key or title_text(rec))}", used)
    paper = safe_href(rec.pdf_url) or (
        f"https://arxiv.org/abs/{rec.arxiv_id}" if rec.arxiv_id else ""
    )
    doi = _bare_doi(rec.doi)
    if not paper and doi:
        paper = safe_href("https://doi.org/" + doi)
    data: dict[str, object] = {
        "title": html_escape(title_text(rec)),
        "collection": "publications",
        "category": _ap_category(rec),
        "permalink": f"/publication/{stem}",
    }
    abstract = abstract_text(rec)
    if abstract:
        data["excerpt"] = html_escape(abstract)
    data["date"] = date
    data["venue"] = html_escape(_venue_text(rec) or category(rec) or "Unpublished")
    if paper:
        data["paperurl"] = paper
    data["citation"] = _citation_html(rec)
    body_lines = []
    links = [("arXiv", f"https://arxiv.org/abs/{rec.arxiv_id}")] if rec.arxiv_id else []
    links += [(kind.capitalize() if kind != "pdf" else "PDF", url) for kind, url in _links(rec)]
    if links:
        body_lines.append(" | ".join(f"[{label}]({url})" for label, url in links))
    if bib:
        body_lines.append("```bibtex\n" + bib.replace("```", "` ` `") + "\n```")
    text = _front_matter(data) + ("\n" + "\n\n".join(body_lines) + "\n" if body_lines else "")
    return [SiteFile(f"_publications/{stem}.md", text)]
