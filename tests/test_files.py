"""Input decoding and atomic output."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from bibtools.diagnostics import InputError
from bibtools.files import OutputError, decode, read_bytes, read_input, same_file, write_atomic

FIX = Path(__file__).parent / "fixtures" / "bibtex"


@pytest.mark.parametrize(
    ("name", "encoding", "needle"),
    [
        ("bibtexparser/bibtexparser_gbk_test.bib", "gb18030", "凯撒"),
        ("jabref/jabref_encoding-windows-1252-with-header.bib", "windows-1252", "25° C"),
        ("jabref/jabref_encoding-windows-1252-without-header.bib", "windows-1252", "25° C"),
        (
            "jabref/jabref_encoding-windows-1252-but-utf-8-declared--decoding-fails.bib",
            "windows-1252",
            "Test\u00a0I.",
        ),
        ("jabref/jabref_encoding-utf-16BE-with-header.bib", "utf-16", "Ü ist ein Umlaut"),
        ("jabref/jabref_tiny-LE-noBOM.bib", "utf-16", "@"),
        ("jabref/jabref_tiny-BE-noBOM.bib", "utf-16", "@"),
        ("texlive/jbtest.bib", "windows-1252", "Abschluß"),
        ("bibtexparser/bibtexparser_article_start_with_bom.bib", "utf-8-sig", "@"),
    ],
)
def test_legacy_encodings_are_detected(name, encoding, needle):
    text, found = decode((FIX / name).read_bytes(), name)
    assert found == encoding
    assert needle in text


def test_latin1_text_is_decoded():
    text, encoding = decode("@misc{k, author = {Müller, Jörg}}".encode("latin-1"), "x.bib")
    assert "Müller" in text and encoding == "windows-1252"


def test_binary_and_undetectable_input_is_refused_with_one_line():
    with pytest.raises(InputError, match="binary data"):
        decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "img.bib")
    with pytest.raises(InputError, match=r"x\.bib:\d+: not UTF-8"):
        decode(bytes(range(128, 256)) * 4, "x.bib")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_input(str(tmp_path / "nope.bib"))
    with pytest.raises(InputError, match="is a directory"):
        read_input(str(tmp_path))


def test_write_atomic_replaces_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "out" / "refs.bib"
    write_atomic(target, "one\n")
    os.chmod(target, 0o640)
    write_atomic(target, "two\n")
    assert target.read_text() == "two\n"
    assert (target.stat().st_mode & 0o777) == 0o640  # permissions of the old file are kept
    assert sorted(p.name for p in target.parent.iterdir()) == ["refs.bib"]


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "refs.bib"
    target.write_text("old\n")

    def boom(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OutputError, match=r"refs\.bib: cannot write \(No space left on device"):
        write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["refs.bib"]


def test_write_atomic_follows_a_symbolic_link_and_keeps_it(tmp_path):
    real = tmp_path / "real" / "refs.bib"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "link.bib"
    link.symlink_to(real)
    write_atomic(link, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"
    # The temporary file was made beside the real file (one file system), and is gone.
    assert sorted(p.name for p in real.parent.iterdir()) == ["refs.bib"]


def test_write_atomic_refuses_a_directory_in_one_line(tmp_path):
    with pytest.raises(OutputError, match=r"^\S+: is a directory$"):
        write_atomic(tmp_path, "x")


def test_read_bytes_reads_files_whose_size_the_kernel_does_not_know():
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc")
    assert read_bytes("/proc/self/status").startswith(b"Name:")  # st_size is 0


def test_read_bytes_checks_the_size_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.bib"
    with open(big, "wb") as fh:
        fh.truncate(3 * 1024**3)  # 3 GiB of nothing on disk: refused without reading it
    with pytest.raises(InputError, match="larger than the input limit of 1 GiB"):
        read_bytes(str(big))
    monkeypatch.setenv("BIBTOOLS_MAX_INPUT", "2")
    with pytest.raises(InputError, match="larger than the input limit of 2 bytes"):
        read_bytes(str(FIX / "bibtexparser" / "bibtexparser_gbk_test.bib"))


def test_same_file_sees_links_and_inodes(tmp_path):
    a = tmp_path / "a.bib"
    a.write_text("x")
    (tmp_path / "soft.bib").symlink_to(a)
    os.link(a, tmp_path / "hard.bib")
    assert same_file(a, tmp_path / "soft.bib") and same_file(a, tmp_path / "hard.bib")
    assert same_file(tmp_path / "new.bib", tmp_path / "sub" / ".." / "new.bib")
    assert not same_file(a, tmp_path / "new.bib")
