"""``bibtools verify``: does every reference describe a work that exists?"""

from __future__ import annotations

import os
import sys

import click

SOURCE_NAMES = ("crossref", "openalex", "doi.org", "arxiv")


def _formats(report_format: str | None, output: str | None) -> str:
    if report_format:
        return report_format
    if output:
        lower = output.lower()
        if lower.endswith(".json"):
            return "json"
        if lower.endswith((".html", ".htm")):
            return "html"
        return "markdown"
    return "table" if sys.stdout.isatty() else "markdown"


def _sources(value: str) -> tuple[str, ...]:
    from ..diagnostics import UsageError

    wanted = tuple(dict.fromkeys(s.strip().lower() for s in value.split(",") if s.strip()))
    wanted = tuple("doi.org" if s in ("doi", "doiorg") else s for s in wanted)
    bad = [s for s in wanted if s not in SOURCE_NAMES]
    if bad or not wanted:
        raise UsageError(
            f"--sources: unknown source {', '.join(bad) or '(none)'}; choose from {', '.join(SOURCE_NAMES)}"
        )
    return wanted


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--tex",
    "tex_files",
    multiple=True,
    metavar="FILE",
    help="A .tex or .aux file: report cited keys missing from the bibliography, entries "
    "never cited and two keys cited for one work (repeatable).",
)
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["table", "markdown", "json", "html"]),
    help="Report format [default: table on a terminal, else from -o, else markdown].",
)
@click.option("-o", "--output", metavar="PATH", help="Write the report here (atomically).")
@click.option(
    "--fix",
    "fix_output",
    metavar="OUT.bib",
    help="Write a corrected BibTeX file: only changes an id-confirmed match backs, each reported.",
)
@click.option(
    "--sources",
    default=",".join(SOURCE_NAMES),
    show_default=True,
    help="Comma-separated sources to ask.",
)
@click.option("--force", is_flag=True, help="Allow an output to overwrite one of the inputs.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no warnings.")
@click.option("--offline", is_flag=True, help="Answer from the cache only; make no request.")
@click.option("--refresh", is_flag=True, help="Ignore cached answers (they are still updated).")
@click.option(
    "--cache-dir",
    metavar="DIR",
    help="HTTP cache directory [default: $BIBTOOLS_CACHE_DIR or the user cache dir].",
)
@click.option(
    "-f", "--from", "from_format", metavar="FORMAT", help="Input format [default: detected]."
)
def verify(
    inputs: tuple[str, ...],
    tex_files: tuple[str, ...],
    report_format: str | None,
    output: str | None,
    fix_output: str | None,
    sources: str,
    force: bool,
    quiet: bool,
    offline: bool,
    refresh: bool,
    cache_dir: str | None,
    from_format: str | None,
) -> None:
    """Check that every reference in INPUT describes a work that exists.

    Each record gets one verdict: verified, mismatch (the work exists but
    title, authors, year, venue, volume, pages or DOI differ), wrong-id
    (the DOI or arXiv id names another work), phantom-id (the id does not
    exist), not-found (no id, and no source has the work) or unchecked (a
    source failed, offline, or a kind of work no source covers); retracted
    works are flagged. A failure of ours is never not-found. DOIs are
    looked up 50 a request (Crossref, OpenAlex), arXiv ids 100 a request;
    answers are cached, so a second run makes no request.

    \b
    Environment: BIBTOOLS_CROSSREF_API, BIBTOOLS_OPENALEX_API,
    BIBTOOLS_DOI_RESOLVER, BIBTOOLS_ARXIV_API, BIBTOOLS_CONTACT_EMAIL,
    BIBTOOLS_CACHE_DIR.

    Exit status 1 when a record is mismatch, wrong-id, phantom-id or
    not-found, or a cited key is missing (--tex); 0 otherwise; 2 for usage
    errors and unreadable input.
    """
    from ..citations import audit, cited_keys
    from ..convert import read_inputs, write
    from ..diagnostics import UsageError
    from ..files import read_input, write_atomic
    from ..formats import WriteOptions
    from ..http import HttpClient, total
    from ..sources.base import base_url
    from ..text.keys import assign_keys
    from ..verify import exit_status, judge, matched_works, suggest
    from ..verify_fetch import Clients, gather, search_for
    from ..verify_fix import fix, splice
    from ..verify_report import Report, render, render_table, verdict_lines

    if offline and refresh:
        raise UsageError("--offline and --refresh exclude each other")
    fmt = _formats(report_format, output)
    if fmt == "table" and output:
        raise UsageError("--format table is for the terminal; use markdown, json or html with -o")
    wanted = _sources(sources)
    for name in (
        "BIBTOOLS_CROSSREF_API",
        "BIBTOOLS_OPENALEX_API",
        "BIBTOOLS_DOI_RESOLVER",
        "BIBTOOLS_ARXIV_API",
    ):
        if (os.environ.get(name) or "").strip():
            base_url(os.environ, name, "")  # a bad URL is exit 2 before any request
    outputs = [o for o in (output, fix_output) if o]
    _guard(outputs, [*inputs, *tex_files], force)
    result = read_inputs(list(inputs), from_format)
    if not result.records:
        raise UsageError("no records to verify") if not result.skipped else _unreadable(result)
    if not quiet:
        for d in result.diagnostics:
            click.echo(str(d), err=True)
    for d in assign_keys(result.records):
        if not quiet:
            click.echo(str(d), err=True)
    citations = []
    for path in tex_files:
        text, _ = read_input(path)
        citations.append(cited_keys(text))
    with HttpClient.from_env(cache_dir=cache_dir, offline=offline, refresh=refresh) as http:
        before = http.snapshot()
        clients = Clients.from_env(http, wanted)
        evidence = gather(result.records, clients)
        verdicts = [judge(r, e) for r, e in zip(result.records, evidence, strict=True)]
        wrong = [i for i, v in enumerate(verdicts) if v.verdict == "wrong-id"]
        for i, works in search_for(result.records, wrong, clients).items():
            suggest(result.records[i], verdicts[i], works)
        stats = total({h: s for h, s in http.stats.items()})
        start = total(before)
    report = Report(
        verdicts,
        requests=stats.sent - start.sent,
        from_cache=stats.from_cache - start.from_cache,
        audit=audit(citations, result.records, matched_works(verdicts)) if tex_files else None,
    )
    if fix_output:
        fixed, changes = fix(result.records, verdicts)
        text = None
        if len(inputs) == 1 and inputs[0] != "-" and result.sources[0].endswith("(bibtex)"):
            # Only the corrected entries are rewritten; the rest of the file stays byte for byte.
            original, encoding = read_input(inputs[0])
            replacements = {
                (new.origin_line, new.key): write([new], "bibtex", WriteOptions()).text
                for old, new in zip(result.records, fixed, strict=True)
                if new is not old
            }
            text = splice(original, replacements)
            if text is not None and encoding.lower() not in ("utf-8", "utf-8-sig", "ascii"):
                text = None  # a legacy encoding: the writer below says what it does
        if text is None:
            text = write(
                fixed, "bibtex", WriteOptions(blocks=result.blocks, files=result.files)
            ).text
        write_atomic(fix_output, text)
        report.changes, report.fixed_file = changes, fix_output
    if fmt == "table":
        from rich.console import Console

        Console().print(render_table(report))
    else:
        text = render(report, fmt)
        if output:
            write_atomic(output, text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    if not quiet and fmt != "table":
        for line in verdict_lines(verdicts):
            click.echo(line, err=True)
    click.echo(report.summary(), err=True)
    problems = exit_status(verdicts) or (1 if report.audit and report.audit.missing else 0)
    sys.exit(problems or (1 if result.skipped else 0))


def _unreadable(result: object) -> Exception:
    from ..diagnostics import InputError

    return InputError("no record could be read; nothing checked")


def _guard(outputs: list[str], inputs: list[str], force: bool) -> None:
    from ..diagnostics import UsageError
    from ..files import same_file

    for i, out in enumerate(outputs):
        for other in outputs[:i]:
            if same_file(out, other):
                raise UsageError(f"{out}: one file for two outputs")
        if force:
            continue
        for path in inputs:
            if path and path != "-" and same_file(out, path):
                raise UsageError(f"{out}: is also an input; refusing to overwrite it (use --force)")
