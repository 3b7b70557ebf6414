"""Hostile files and an unlucky file system (issue 13, the file and command-line side).

Each test builds the attacker's (or the unlucky user's) files itself and
checks the promise of docs/reliability.md: one line per problem on stderr,
exit status 0, 1 or 2 (3 only for our own bugs), no input or existing output
lost, nothing a file says executed.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bibtools import files, limits
from bibtools.cli import main
from bibtools.convert import read_text
from bibtools.formats import bibtex as bibtex_format
from bibtools.formats import csljson, listing, ris

GOOD = "@article{good,\n  title = {A Good Title},\n  author = {Lee, Ann},\n  journal = {J},\n  year = {2020},\n}\n"
BROKEN = "@article{one,\n  title = {Unclosed\n\n@article{two, title =\n"
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def run(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), input=input, env=env)


def one_line_each(stderr: str) -> list[str]:
    """stderr's lines, each a diagnostic or a bibtools message: never a traceback."""
    lines = stderr.splitlines()
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    for line in lines:
        assert line.startswith("bibtools: ") or ": error: " in line or ": warning: " in line, line
    return lines


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (bibtools reads bibtools.toml / pyproject.toml from it)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------
# Item 3: a template named by a config file runs in a sandbox

ESCAPES = {
    "cycler globals": "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}",
    "str subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "lipsum globals": "{{ lipsum.__globals__['os'].system('touch PWNED') }}",
    "template context": "{{ self._TemplateReference__context }}",
    "mutating data": "{{ entries.append(1) }}",
    "a huge string": "{{ 'a' * 10**10 }}",
}


@pytest.mark.parametrize("config", ["pyproject.toml", "bibtools.toml"])
@pytest.mark.parametrize("escape", ESCAPES)
def test_a_config_template_cannot_run_code(here: Path, config: str, escape: str) -> None:
    table = "[tool.bibtools]\n" if config == "pyproject.toml" else ""
    (here / config).write_text(f'{table}template = "page.html.j2"\n', "utf-8")
    (here / "page.html.j2").write_text(f"<p>\n{ESCAPES[escape]}\n</p>\n", "utf-8")
    (here / "refs.bib").write_text(GOOD, "utf-8")
    result = run("format", "refs.bib", "-o", "page.html")
    assert result.exit_code == 2, result.output
    [line] = one_line_each(result.stderr)
    assert line.startswith("bibtools: error: page.html.j2:2: template "), line
    assert not (here / "PWNED").exists()
    assert not (here / "page.html").exists()


def test_build_with_a_hostile_template_keeps_the_references_and_runs_nothing(here: Path) -> None:
    (here / "pyproject.toml").write_text('[tool.bibtools]\ntemplate = "page.html.j2"\n', "utf-8")
    (here / "page.html.j2").write_text(ESCAPES["cycler globals"], "utf-8")
    (here / "refs.bib").write_text(GOOD, "utf-8")
    result = run("build", "refs.bib", "-o", "out", "-q")
    assert result.exit_code == 2, result.output
    assert "template refused" in one_line_each(result.stderr)[-1]
    assert not (here / "PWNED").exists()
    assert "A Good Title" in (here / "out" / "references.bib").read_text("utf-8")


def test_a_template_may_include_templates_but_not_other_files_beside_it(here: Path) -> None:
    (here / ".env").write_text("GITHUB_TOKEN=secret-token\n", "utf-8")
    (here / "_entry.html.j2").write_text("<li>{{ e.html }}</li>\n", "utf-8")
    (here / "page.html.j2").write_text(
        "{% for e in entries %}{% include '_entry.html.j2' %}{% endfor %}\n", "utf-8"
    )
    (here / "refs.bib").write_text(GOOD, "utf-8")
    result = run("format", "refs.bib", "--template", "page.html.j2")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<li>Lee, A. (2020). A Good Title.")

    (here / "page.html.j2").write_text("{% include '.env' %}\n", "utf-8")
    result = run("format", "refs.bib", "--template", "page.html.j2")
    assert result.exit_code == 2 and "secret-token" not in result.output
    assert "only template files beside the template may be included" in result.stderr


def test_a_template_link_cannot_carry_a_file_from_elsewhere_into_the_page(
    here: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    secret = tmp_path_factory.mktemp("home") / "id_rsa"
    secret.write_text("PRIVATE KEY\n", "utf-8")
    (here / "refs.bib").write_text(GOOD, "utf-8")
    (here / "page.html.j2").symlink_to(secret)
    (here / "zero.html.j2").symlink_to("/dev/zero")
    (here / "main.html.j2").write_text("{% include 'page.html.j2' %}\n", "utf-8")
    for template, line in (
        ("page.html.j2", "page.html.j2: cannot load the template: page.html.j2"),
        ("main.html.j2", "main.html.j2:1: template error: page.html.j2"),
        ("zero.html.j2", "zero.html.j2: no such template file"),
    ):
        result = run("format", "refs.bib", "--template", template)
        assert result.exit_code == 2 and "PRIVATE" not in result.output
        [message] = one_line_each(result.stderr)
        assert message.startswith(f"bibtools: error: {line}"), message


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("line one\n{% for %}\n", "page.html.j2:2: template syntax error: Expected an expression"),
        (
            "line one\nline two\n{{ nothing.here }}\n",
            "page.html.j2:3: template error: 'nothing' is undefined",
        ),
        ("{{ 1 / 0 }}\n", "page.html.j2:1: template error: division by zero"),
        (
            "{% for i in range(10**9) %}{% endfor %}\n",
            "page.html.j2:1: template error: Range too big",
        ),
    ],
)
def test_a_template_mistake_is_one_line_and_exit_status_2(
    here: Path, template: str, message: str
) -> None:
    (here / "page.html.j2").write_text(template, "utf-8")
    (here / "refs.bib").write_text(GOOD, "utf-8")
    result = run("format", "refs.bib", "--template", "page.html.j2")
    assert result.exit_code == 2, result.output
    [line] = one_line_each(result.stderr)
    assert line.startswith(f"bibtools: error: {message}"), line


def test_an_included_template_with_a_syntax_error_is_named(here: Path) -> None:
    (here / "page.html.j2").write_text("{% include 'part.html.j2' %}\n", "utf-8")
    (here / "part.html.j2").write_text("one\n{% if %}\n", "utf-8")
    (here / "refs.bib").write_text(GOOD, "utf-8")
    result = run("format", "refs.bib", "--template", "page.html.j2")
    assert result.exit_code == 2
    assert one_line_each(result.stderr) == [
        "bibtools: error: part.html.j2:2: template syntax error: "
        "Expected an expression, got 'end of statement block'"
    ]


# --------------------------------------------------------------------------
# Item 4: every file written passes the "not an input" guard


@pytest.fixture
def refs(here: Path) -> Path:
    path = here / "refs.bib"
    path.write_text(GOOD, "utf-8")
    return path


OVERWRITING = {
    "enrich --report": ["enrich", "refs.bib", "--dry-run", "--report", "refs.bib", "--offline"],
    "merge --key-map": ["merge", "refs.bib", "--key-map", "refs.bib"],
    "build into its input": ["build", "output/references.bib"],
    "build's pages": ["build", "output/publications.md", "-f", "bibtex"],
    "links -o": ["links", "refs.bib", "-o", "refs.bib", "--offline"],
    "format -o": ["format", "refs.bib", "-o", "refs.bib"],
    "format onto its link report": [
        "format",
        "refs.bib",
        "--link-report",
        "l.json",
        "-o",
        "l.json",
    ],
    "convert through a symbolic link": ["convert", "refs.bib", "-o", "link.bib"],
    "convert onto a hard link": ["convert", "refs.bib", "-o", "hard.bib"],
    "rekey the key map": ["rekey", "--map", "refs.bib", "refs.bib"],
}


@pytest.mark.parametrize("case", OVERWRITING)
def test_no_command_overwrites_an_input(here: Path, refs: Path, case: str) -> None:
    (here / "output").mkdir()
    for name in ("references.bib", "publications.md"):
        (here / "output" / name).write_text(GOOD, "utf-8")
    (here / "l.json").write_text('{"results": []}', "utf-8")
    (here / "link.bib").symlink_to("refs.bib")
    os.link(refs, here / "hard.bib")
    before = {p: p.read_bytes() for p in here.rglob("*") if p.is_file()}
    result = (
        run(*OVERWRITING[case], "--cache-dir", str(here / "cache"))
        if "--offline" in OVERWRITING[case]
        else run(*OVERWRITING[case])
    )
    assert result.exit_code == 2, result.output
    [line] = one_line_each(result.stderr)
    assert "is also an input; refusing to overwrite it" in line, line
    assert {p: p.read_bytes() for p in here.rglob("*") if p.is_file()} == before
    assert (here / "link.bib").is_symlink()


def test_two_outputs_in_one_file_are_refused_even_with_force(here: Path, refs: Path) -> None:
    result = run("merge", "refs.bib", "-o", "out.json", "--key-map", "out.json", "--force")
    assert result.exit_code == 2
    assert one_line_each(result.stderr) == [
        "bibtools: error: out.json: one file for two outputs; one would replace the other"
    ]
    assert not (here / "out.json").exists()


def test_force_lets_build_replace_its_input(here: Path) -> None:
    (here / "output").mkdir()
    (here / "output" / "references.bib").write_text(GOOD, "utf-8")
    result = run("build", "output/references.bib", "--force", "-q")
    assert result.exit_code == 0, result.output
    assert "@article{good," in (here / "output" / "references.bib").read_text("utf-8")
    assert (here / "output" / "publications.html").exists()


# --------------------------------------------------------------------------
# Item 5: nothing survived, nothing replaced


NOTHING_SURVIVES = {
    "convert": ["convert", "broken.bib", "-o", "refs.ris"],
    "merge": ["merge", "broken.bib", "-o", "refs.ris"],
    "format": ["format", "broken.bib", "-o", "refs.ris"],
    "enrich": ["enrich", "broken.bib", "-o", "refs.ris", "--offline"],
    "links": ["links", "broken.bib", "-o", "refs.ris", "--offline"],
    "build": ["build", "broken.bib", "-o", "."],
}


@pytest.mark.parametrize("command", NOTHING_SURVIVES)
def test_an_input_of_which_nothing_survives_replaces_no_output(here: Path, command: str) -> None:
    (here / "broken.bib").write_text(BROKEN, "utf-8")
    old = "TY  - JOUR\nTI  - Keep me\nER  - \n"
    for name in ("refs.ris", "references.bib", "references.ris", "references.json"):
        (here / name).write_text(old, "utf-8")
    args = NOTHING_SURVIVES[command]
    if "--offline" in args:
        args = [*args, "--cache-dir", str(here / "cache")]
    result = run(*args)
    assert result.exit_code == 2, result.output
    *errors, last = one_line_each(result.stderr)
    assert [e.split(": error: ")[0] for e in errors] == ["broken.bib:1", "broken.bib:4"]
    assert (
        last == "bibtools: error: no record could be read (2 skipped, see above); nothing written"
    )
    for name in ("refs.ris", "references.bib", "references.ris", "references.json"):
        assert (here / name).read_text("utf-8") == old
    assert not (here / "publications.md").exists()
    assert result.stdout == ""


def test_nothing_survives_on_standard_output_writes_nothing(here: Path) -> None:
    (here / "broken.bib").write_text(BROKEN, "utf-8")
    result = run("convert", "broken.bib", "-t", "csljson")
    assert result.exit_code == 2 and result.stdout == ""


def test_a_file_of_macros_only_is_still_written(here: Path) -> None:
    # Not "nothing survived": nothing was there to survive, and the macros are the content.
    (here / "abbrev.bib").write_text('@string{ieee = "IEEE"}\n', "utf-8")
    result = run("convert", "abbrev.bib", "-o", "out.bib")
    assert result.exit_code == 0, result.output
    assert "@string{ieee" in (here / "out.bib").read_text("utf-8")


# --------------------------------------------------------------------------
# Item 8: the world's faults are one line and exit status 1 or 2, never 3


def test_a_brace_in_a_url_under_plain_leaves_that_entry_out_not_the_list(here: Path) -> None:
    (here / "refs.bib").write_text(
        GOOD + "@misc{bad, title = {T}, author = {A, B}, year = 2020, url = {https://x/a}b}}\n",
        "utf-8",
    )
    result = run("format", "refs.bib", "--style", "plain", "-t", "text")
    assert result.exit_code in (0, 1), result.output
    one_line_each(result.stderr)
    assert "a good title" in result.stdout.lower()  # plain lowers the case
    if result.exit_code == 1:  # the engine could not format it: named, with file and line
        assert "refs.bib:7: error: bad: left out: " in result.stderr


@pytest.mark.parametrize("style", ["plain", "apa"])
def test_a_title_with_500_nested_braces_does_not_take_the_list_down(here: Path, style: str) -> None:
    deep = "{" * 500 + "Deep" + "}" * 500
    (here / "refs.bib").write_text(
        GOOD + f"@misc{{deep, title = {{{deep}}}, author = {{A, B}}, year = 2021}}\n", "utf-8"
    )
    result = run("format", "refs.bib", "--style", style, "-t", "text")
    assert result.exit_code in (0, 1), result.output
    one_line_each(result.stderr)
    assert "a good title" in result.stdout.lower()
    # Formatted, or named with its file and line (left out, or printed empty with a warning).
    assert "deep" in result.stdout.lower() or "refs.bib:7: " in result.stderr


def test_an_engine_failing_on_every_record_is_not_blamed_on_the_records(
    here: Path, refs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bibtools.diagnostics import UsageError
    from bibtools.render import csl as style

    def broken(*args: object, **kwargs: object) -> None:
        raise UsageError("pandoc failed: no pandoc here")

    monkeypatch.setattr(style, "_run_pandoc", broken)
    result = run("format", "refs.bib", "-t", "text")
    assert result.exit_code == 2
    assert one_line_each(result.stderr) == ["bibtools: error: pandoc failed: no pandoc here"]


def test_output_onto_a_directory(here: Path, refs: Path) -> None:
    (here / "out.ris").mkdir()
    result = run("convert", "refs.bib", "-o", "out.ris")
    assert result.exit_code == 2
    assert one_line_each(result.stderr) == ["bibtools: error: out.ris: is a directory"]


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB file system (root only): a real full disk, and read-only when remounted."""
    mount = tmp_path / "small"
    mount.mkdir()
    if (
        not ROOT
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
        ).returncode
    ):
        pytest.skip("needs root and permission to mount a tmpfs")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def _big_bib(n: int = 400) -> str:
    return "".join(
        f"@article{{k{i}, title = {{Title number {i} of a long list}}, author = {{Lee, Ann}},"
        f" journal = {{J}}, year = {{2020}}}}\n"
        for i in range(n)
    )


def test_a_full_disk_leaves_the_old_output_and_no_temporary_file(
    small_tmpfs: Path, tmp_path: Path
) -> None:
    source = tmp_path / "refs.bib"
    source.write_text(_big_bib(2000), "utf-8")  # about 200 KB of RIS
    target = small_tmpfs / "refs.ris"
    target.write_text("old\n", "utf-8")
    result = run("convert", str(source), "-o", str(target))
    assert result.exit_code == 2, result.output
    assert one_line_each(result.stderr) == [
        f"bibtools: error: {target}: cannot write (No space left on device; "
        "the existing file is unchanged)"
    ]
    assert target.read_text("utf-8") == "old\n"
    assert [p.name for p in small_tmpfs.iterdir()] == ["refs.ris"]


def test_a_read_only_directory(small_tmpfs: Path, refs: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    result = run("convert", str(refs), "-o", str(small_tmpfs / "refs.ris"))
    assert result.exit_code == 2
    assert one_line_each(result.stderr) == [
        f"bibtools: error: {small_tmpfs / 'refs.ris'}: cannot write (Read-only file system)"
    ]


def test_a_directory_we_may_not_write_to(
    here: Path, refs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As the file system says it (root ignores permission bits, so it is simulated here).
    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkstemp", refused)
    result = run("convert", "refs.bib", "-o", "locked/refs.ris")
    assert result.exit_code == 2
    assert one_line_each(result.stderr) == [
        "bibtools: error: locked/refs.ris: cannot write (Permission denied)"
    ]


def test_disk_full_in_the_middle_of_a_build_keeps_what_was_written(
    here: Path, refs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (here / "out").mkdir()
    (here / "out" / "references.json").write_text("old\n", "utf-8")
    real = files._chunks

    def fill_up(text: str | bytes) -> Iterator[bytes]:
        chunks = iter(real(text))
        first = next(chunks, b"")
        if first.lstrip().startswith(b"["):  # the CSL-JSON file, third of the build
            yield first[:10]
            raise OSError(errno.ENOSPC, "No space left on device")
        yield first
        yield from chunks

    monkeypatch.setattr(files, "_chunks", fill_up)
    result = run("build", "refs.bib", "-o", "out", "-q")
    assert result.exit_code == 2, result.output
    assert one_line_each(result.stderr) == [
        "bibtools: error: out/references.json: cannot write (No space left on device; "
        "the existing file is unchanged)"
    ]
    assert "@article{good," in (here / "out" / "references.bib").read_text("utf-8")
    assert "TI  - A Good Title" in (here / "out" / "references.ris").read_text("utf-8")
    assert (here / "out" / "references.json").read_text("utf-8") == "old\n"
    assert sorted(p.name for p in (here / "out").iterdir()) == [
        "references.bib",
        "references.json",
        "references.ris",
    ]


def _bibtools(*args: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bibtools.cli", *args], capture_output=True, timeout=60, **kwargs
    )


def test_output_onto_a_full_device_and_a_full_standard_output(refs: Path, tmp_path: Path) -> None:
    # As root, a device node of our own: were the device replaced by a regular
    # file (the bug this guards against), the system's /dev/full would be lost.
    full = tmp_path / "full"
    if ROOT:
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # what /dev/full is
    else:
        full = Path("/dev/full")  # a user cannot replace it
    result = _bibtools("convert", str(refs), "-o", str(full), "-t", "ris")
    assert result.returncode == 2
    assert result.stderr.decode() == (
        f"bibtools: error: {full}: cannot write (No space left on device)\n"
    )
    assert stat.S_ISCHR(full.stat().st_mode)
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "bibtools.cli", "convert", str(refs), "-t", "ris"],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "bibtools: error: <stdout>: cannot write (No space left on device)\n"
    )


def test_an_operating_system_error_anywhere_is_exit_status_2(
    here: Path, refs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bibtools.app
    import bibtools.stream

    def io_error(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EIO, "Input/output error", "/mnt/flaky")

    monkeypatch.setattr(bibtools.app, "write", io_error)
    monkeypatch.setattr(bibtools.stream, "convert_piece", io_error)  # the streamed path's write
    result = run("convert", "refs.bib", "-t", "ris")
    assert result.exit_code == 2
    assert one_line_each(result.stderr) == ["bibtools: error: /mnt/flaky: Input/output error"]


def test_a_real_bug_is_still_exit_status_3(
    here: Path, refs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bibtools.app
    import bibtools.stream

    def bug(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug of ours")

    monkeypatch.setattr(bibtools.app, "write", bug)
    monkeypatch.setattr(bibtools.stream, "convert_piece", bug)  # the streamed path's write
    result = run("convert", "refs.bib", "-t", "ris")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "bibtools: error: internal error: KeyError: 'a bug of ours' "
        "(a bug in bibtools; set BIBTOOLS_DEBUG=1 for the traceback)"
    ]
    debug = run("convert", "refs.bib", "-t", "ris", env={"BIBTOOLS_DEBUG": "1"})
    assert isinstance(debug.exception, KeyError)


# --------------------------------------------------------------------------
# Item 9: one bad CSL value does not take the list down

HOSTILE_CSL = {
    "a fractional year": {"issued": {"date-parts": [[2020.5]]}},
    "a year past any integer": {"issued": {"date-parts": [[10**30]]}},
    "a year as words": {"issued": {"date-parts": [["twenty"]]}},
    "a nested date": {"issued": {"date-parts": [[[2020]]]}},
    "a date that is a list": {"issued": [2020]},
    "a number for a literal date": {"issued": {"literal": 5}},
    "a name that is a number": {"author": [5]},
    "names in a string": {"author": "Ann Lee"},
    "a family name that is a list": {"author": [{"family": ["Lee"], "given": "Ann"}]},
    "a title that is a list": {"title": ["a", "b"]},
    "a title that is null": {"title": None},
    "a fractional volume": {"volume": 1.5},
    "an edition past any integer": {"edition": 10**30},
    "a page that is an object": {"page": {"first": 1}},
}


def _csl_file(path: Path) -> None:
    items = [
        {
            "id": "good",
            "type": "article-journal",
            "title": "A Good Title",
            "author": [{"family": "Lee", "given": "Ann"}],
            "issued": {"date-parts": [[2020]]},
        }
    ]
    for n, change in enumerate(HOSTILE_CSL.values()):
        items.append(
            {
                "id": f"bad{n}",
                "type": "article-journal",
                "title": f"Hostile {n}",
                "author": [{"family": "Roe", "given": "Rita"}],
                "container-title": "J",
                "issued": {"date-parts": [[2019]]},
                **change,
            }
        )
    path.write_text(json.dumps(items, indent=1), "utf-8")


@pytest.mark.parametrize("style", ["apa", "ieee"])
def test_hostile_csl_values_are_each_formatted_in_one_list(here: Path, style: str) -> None:
    _csl_file(here / "refs.json")
    result = run("format", "refs.json", "--style", style, "-t", "text")
    assert result.exit_code == 0, result.output
    one_line_each(result.stderr)
    assert "A Good Title" in result.stdout
    printed = [n for n in range(len(HOSTILE_CSL)) if f"Hostile {n}" in result.stdout]
    titled = [n for n, c in enumerate(HOSTILE_CSL.values()) if "title" not in c]
    assert set(titled) <= set(printed), result.stdout  # every entry whose title is text
    assert result.stdout.count("\n") == len(HOSTILE_CSL) + 1
    assert "2020.5" in result.stdout  # the bad date as the text it was


def test_build_writes_its_pages_despite_a_bad_csl_date(here: Path) -> None:
    _csl_file(here / "refs.json")
    result = run("build", "refs.json", "-o", "out", "-q")
    assert result.exit_code == 0, result.output
    page = (here / "out" / "publications.md").read_text("utf-8")
    assert "A Good Title" in page and "Hostile 0" in page
    assert "Hostile 0" in (here / "out" / "publications.html").read_text("utf-8")


def test_an_item_pandoc_still_refuses_is_left_out_and_named(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bibtools.render import csl as style

    # Without the sanitising step pandoc refuses the list; each refused item
    # is found and left out, and the others are formatted in one run.
    monkeypatch.setattr(style, "_readable", lambda item, problems: item)
    _csl_file(here / "refs.json")
    result = run("format", "refs.json", "--style", "ieee", "-t", "text")
    assert result.exit_code == 1, result.output
    errors = [line for line in one_line_each(result.stderr) if ": error: " in line]
    assert errors and all(": left out: pandoc failed: cannot read the items: " in e for e in errors)
    assert "refs.json:" in errors[0] and ": bad0: " in errors[0]
    assert "[1] A. Lee, “A Good Title,”" in result.stdout


# --------------------------------------------------------------------------
# Item 11: links, devices, endless inputs


def test_lint_fix_through_a_symbolic_link_edits_the_real_file(here: Path) -> None:
    (here / "real.bib").write_text(GOOD.replace("A Good Title", "Cats & Dogs"), "utf-8")
    (here / "link.bib").symlink_to("real.bib")
    result = run("lint", "--fix", "link.bib")
    assert "fixed good: title" in result.stdout, result.output
    assert (here / "link.bib").is_symlink()
    assert "Cats \\& Dogs" in (here / "real.bib").read_text("utf-8")


def test_rekey_through_a_symbolic_link_edits_the_real_file(here: Path) -> None:
    (here / "real.tex").write_text("\\cite{old} and \\cite{other}\n", "utf-8")
    (here / "link.tex").symlink_to("real.tex")
    (here / "map.json").write_text('{"old": "new"}', "utf-8")
    result = run("rekey", "--map", "map.json", "link.tex")
    assert result.exit_code == 0, result.output
    assert (here / "link.tex").is_symlink()
    assert (here / "real.tex").read_text("utf-8") == "\\cite{new} and \\cite{other}\n"
    assert (here / "link.tex.bak").read_text("utf-8") == "\\cite{old} and \\cite{other}\n"


def test_output_through_a_dangling_link_creates_its_target(here: Path, refs: Path) -> None:
    (here / "link.ris").symlink_to("target.ris")
    assert run("convert", "refs.bib", "-o", "link.ris").exit_code == 0
    assert (here / "link.ris").is_symlink()
    assert "TI  - A Good Title" in (here / "target.ris").read_text("utf-8")


def test_output_onto_a_fifo_is_written_into_it(here: Path, refs: Path) -> None:
    fifo = here / "pipe.ris"
    os.mkfifo(fifo)
    received: list[bytes] = []
    # A daemon: if the FIFO were replaced by a file, the reader would wait forever.
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run("convert", "refs.bib", "-o", str(fifo))
    reader.join(10)
    assert result.exit_code == 0, result.output
    assert received and b"TI  - A Good Title" in received[0]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.skipif(not ROOT, reason="making a device node needs root")
def test_output_onto_a_device_node_keeps_the_device(here: Path, refs: Path) -> None:
    node = here / "null"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is
    assert run("convert", "refs.bib", "-o", str(node), "-t", "ris").exit_code == 0
    assert stat.S_ISCHR(node.stat().st_mode)


def test_output_onto_proc_self_fd_1_goes_to_standard_output(refs: Path) -> None:
    if not os.path.exists("/proc/self/fd/1"):
        pytest.skip("no /proc")
    result = _bibtools("convert", str(refs), "-o", "/proc/self/fd/1", "-t", "ris")
    assert result.returncode == 0, result.stderr
    assert b"TI  - A Good Title" in result.stdout


def test_dev_zero_as_input_is_refused_at_once() -> None:
    result = _bibtools("convert", "/dev/zero", "-t", "ris")
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "bibtools: error: /dev/zero: binary data, not a bibliography (NUL bytes)\n"
    )


def test_an_endless_text_input_is_refused_at_the_size_limit() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bibtools.cli", "convert", "-", "-t", "ris"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "BIBTOOLS_MAX_INPUT": "1M"},
    )
    assert proc.stdin is not None
    entry = GOOD.encode() * 100
    try:
        while proc.poll() is None:
            proc.stdin.write(entry)
    except BrokenPipeError:
        pass
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and out == b""
    assert err.decode() == (
        "bibtools: error: <stdin>: larger than the input limit of 1 MiB "
        "(set BIBTOOLS_MAX_INPUT to raise it)\n"
    )


def test_the_input_limit_applies_to_files_and_is_checked(here: Path, refs: Path) -> None:
    result = run("convert", "refs.bib", "-t", "ris", env={"BIBTOOLS_MAX_INPUT": "50"})
    assert result.exit_code == 2
    assert one_line_each(result.stderr) == [
        "bibtools: error: refs.bib: larger than the input limit of 50 bytes "
        "(set BIBTOOLS_MAX_INPUT to raise it)"
    ]
    assert run("convert", "refs.bib", "-t", "ris", env={"BIBTOOLS_MAX_INPUT": "1K"}).exit_code == 0
    bad = run("convert", "refs.bib", "-t", "ris", env={"BIBTOOLS_MAX_INPUT": "lots"})
    assert bad.exit_code == 2 and "BIBTOOLS_MAX_INPUT='lots' is not a size" in bad.stderr


# --------------------------------------------------------------------------
# Item 12: one value is bounded in every reader


def test_every_reader_shares_one_value_limit() -> None:
    for module in (bibtex_format, ris, csljson, listing):
        assert module.MAX_VALUE is limits.MAX_VALUE  # type: ignore[attr-defined]


def _shrink_limit(monkeypatch: pytest.MonkeyPatch, size: int = 1000) -> None:
    for module in (bibtex_format, ris, csljson, listing, limits):
        monkeypatch.setattr(module, "MAX_VALUE", size)


LONG = "x" * 1001


@pytest.mark.parametrize(
    ("fmt", "text", "line", "message"),
    [
        (
            "ris",
            f"TY  - JOUR\nTI  - Long\nAB  - {LONG}\nER  - \nTY  - JOUR\nTI  - Kept\nER  - \n",
            3,
            "field AB: value of 1,001 characters is longer than the limit of 1,000; record skipped",
        ),
        (
            "ris",  # wrapped over lines: the sum counts
            f"TY  - JOUR\nTI  - Long\nAB  - {LONG[:600]}\n{LONG[:600]}\nER  - \n"
            "TY  - JOUR\nTI  - Kept\nER  - \n",
            3,
            "field AB: value of 1,200 characters is longer than the limit of 1,000; record skipped",
        ),
        (
            "csljson",
            json.dumps(
                [
                    {"id": "a", "type": "book", "title": LONG},
                    {"id": "b", "type": "book", "title": "Kept"},
                ]
            ),
            1,
            "item 0: value of 1,001 characters is longer than the limit of 1,000; skipped",
        ),
        (
            "listing",
            f"CLApr 24, 2022\nLongChuanyu Qin\n{LONG}\nCLApr 24, 2022\nKeptChuanyu Qin\nshort\n",
            3,
            "value of 1,001 characters is longer than the limit of 1,000; record skipped",
        ),
        (
            "bibtex",
            f"@misc{{a, title = {{{LONG}}}}}\n@misc{{b, title = {{Kept}}}}\n",
            1,
            "a: field 'title': value of 1,001 characters is longer than the limit of 1,000; "
            "entry skipped",
        ),
    ],
)
def test_a_value_past_the_limit_skips_its_record_only(
    monkeypatch: pytest.MonkeyPatch, fmt: str, text: str, line: int, message: str
) -> None:
    _shrink_limit(monkeypatch)
    result = read_text(text, fmt, source="big")
    assert [r.title for r in result.records] == ["Kept"]
    [error] = result.diagnostics.errors
    assert (error.file, error.line) == ("big", line)
    assert str(error).endswith(message), str(error)


def test_a_value_past_the_real_limit_costs_no_more_than_the_input(tmp_path: Path) -> None:
    import tracemalloc

    big = "lorem ipsum " * (limits.MAX_VALUE // 12 + 100)
    text = f"TY  - JOUR\nTI  - Big\nAB  - {big}\nER  - \nTY  - JOUR\nTI  - Kept\nER  - \n"
    tracemalloc.start()
    try:
        result = read_text(text, "ris", source="big.ris")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [r.title for r in result.records] == ["Kept"]
    assert peak < 1.5 * len(text), peak  # the lines once, not the value again


def test_a_page_of_which_no_entry_survives_replaces_no_page(here: Path) -> None:
    deep = "{" * 500 + "Deep" + "}" * 500
    (here / "refs.bib").write_text(f"@misc{{deep, title = {{{deep}}}, year = 2021}}\n", "utf-8")
    (here / "page.txt").write_text("old page\n", "utf-8")
    result = run("format", "refs.bib", "--style", "plain", "-t", "text", "-o", "page.txt")
    assert result.exit_code in (0, 2), result.output
    one_line_each(result.stderr)
    if result.exit_code == 2:  # the engine could not format the one record
        assert result.stderr.splitlines()[-1] == (
            "bibtools: error: no record could be formatted (see above); nothing written"
        )
        assert (here / "page.txt").read_text("utf-8") == "old page\n"


DEEP_JSON = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("args", "files_", "message"),
    [
        (
            ["format", "refs.bib", "--link-report", "deep.json"],
            {"deep.json": DEEP_JSON},
            "deep.json: not a JSON link report (nested too deeply)",
        ),
        (
            ["rekey", "--map", "deep.json", "paper.tex"],
            {"deep.json": DEEP_JSON, "paper.tex": "\\cite{a}\n"},
            "deep.json: not a key map (nested too deeply)",
        ),
        (
            ["format", "refs.bib"],
            {"bibtools.toml": "a = " + DEEP_JSON},
            "bibtools.toml: not valid TOML: nested too deeply",
        ),
    ],
)
def test_side_files_nested_too_deeply_are_one_line_and_exit_status_2(
    here: Path, refs: Path, args: list[str], files_: dict[str, str], message: str
) -> None:
    for name, text in files_.items():
        (here / name).write_text(text, "utf-8")
    result = run(*args)
    assert result.exit_code == 2
    assert one_line_each(result.stderr) == [f"bibtools: error: {message}"]


def test_output_below_a_file_is_one_line(here: Path, refs: Path) -> None:
    (here / "file").write_text("", "utf-8")
    result = run("convert", "refs.bib", "-o", "file/refs.ris")
    assert result.exit_code == 2
    assert one_line_each(result.stderr) == [
        "bibtools: error: file/refs.ris: cannot write (Not a directory)"
    ]


def test_an_internal_error_in_a_real_process_is_one_line_and_exit_status_3(
    here: Path, refs: Path
) -> None:
    """The installed entry point, in its own process: a pipeline step that is
    broken (here: not callable, so Python itself raises TypeError deep in the
    pipeline) ends with the one documented line, no traceback, status 3."""
    code = (
        "import sys, bibtools.app as app, bibtools.stream as stream\n"
        "app.write = stream.convert_piece = None\n"
        "from bibtools.cli import main\n"
        "sys.exit(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "convert", "refs.bib", "-t", "ris"],
        capture_output=True,
        text=True,
        cwd=here,
        env={**os.environ, "BIBTOOLS_DEBUG": ""},
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "bibtools: error: internal error: TypeError: 'NoneType' object is not callable "
        "(a bug in bibtools; set BIBTOOLS_DEBUG=1 for the traceback)"
    ]
