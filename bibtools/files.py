"""File I/O at the edges: decoding input bytes, atomic output."""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import sys
import tempfile
from pathlib import Path

from .diagnostics import InputError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


_DECLARED = re.compile(rb"(?:^%\s*Encoding:\s*|coding[:=]\s*)([-\w.]+)", re.I | re.M)
# Characters a Western European windows-1252 file plausibly contains.
_CP1252_OK = set(
    "\u00a0\u00a1\u00a3\u00a7\u00a9\u00ab\u00ae\u00b0\u00b1\u00b2\u00b3\u00b4\u00b5\u00b7\u00b9"
    "\u00ba\u00bb\u00bc\u00bd\u00be\u00bf\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2026"
    "\u20ac\u2022\u2122\u0160\u0161\u017d\u017e\u0152\u0153\u0178"
)
# When a legacy CJK file carries no language evidence, the likelier encoding.
_CJK_PREFERENCE = ("gb18030", "gbk", "gb2312", "cp932", "shift_jis", "big5", "cp949", "euc_kr")


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) / 2
    for zeros, other, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros > 0.3 * half and other == 0:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def _plausible_cp1252(data: bytes) -> str | None:
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    for ch in text:
        if (
            ord(ch) > 127
            and ch not in _CP1252_OK
            and not ("\u00c0" <= ch <= "\u00ff" and ch not in "\u00d7\u00f7")
        ):
            return None
    return text


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Bytes -> (text, encoding).

    UTF-8 (with or without BOM) and UTF-16/32 with a BOM are taken as they
    are.  Otherwise, in order: UTF-16 without a BOM (recognised by its zero
    bytes), an encoding the file declares (JabRef's ``% Encoding:``, Emacs'
    ``coding:``), windows-1252 when every non-ASCII character it yields is a
    Western European letter or symbol, and finally charset-normalizer's
    guess.  Binary data and undetectable encodings are refused: a wrong guess
    silently corrupts every accented name.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{name}: not valid {encoding} despite its byte-order mark ({exc.reason})"
                ) from None
    if b"\x00" in data[:8192]:
        text16 = _utf16_without_bom(data)
        if text16 is not None:
            return text16, "utf-16"
        raise InputError(f"{name}: binary data, not a bibliography (NUL bytes)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    declared = _DECLARED.search(data[:2048])
    if declared:
        encoding = declared.group(1).decode("ascii", "replace")
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            pass  # a wrong declaration (JabRef writes "UTF-8" on cp1252 files)
    text = _plausible_cp1252(data)
    if text is not None:
        return text, "windows-1252"
    from charset_normalizer import from_bytes

    matches = [m for m in from_bytes(data) if m.encoding and m.chaos < 0.2]
    best = None
    if matches and matches[0].coherence > 0:
        best = matches[0]
    else:
        for preferred in _CJK_PREFERENCE:
            best = next((m for m in matches if m.encoding == preferred), None)
            if best:
                break
        if best is None and matches:
            best = matches[0]
    if best is None:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise InputError(
            f"{name}:{line}: not UTF-8 and the encoding could not be detected; "
            "convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)"
        )
    return str(best), best.encoding


def read_input(path: str) -> tuple[str, str]:
    """Read ``path`` (``-`` for stdin) -> (text, encoding)."""
    if path == "-":
        data = sys.stdin.buffer.read()
        return decode(data, "<stdin>")
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    return decode(data, path)


_SLICE = 1 << 20  # characters encoded at a time


def write_atomic(path: str | os.PathLike[str], text: str | bytes) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one.

    The temporary file lives in the target's directory, so ``os.replace``
    is a rename on one file system; a crash leaves at most a stray
    ``.tmp`` file, never a half-written output.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        # Text is written as UTF-8; bytes as they are (a source file that is
        # not UTF-8 must come back byte for byte).
        with os.fdopen(fd, "wb") as fh:
            if isinstance(text, bytes):
                fh.write(text)
            else:
                # In slices: one encoded copy of a large output would double its memory.
                for i in range(0, len(text), _SLICE):
                    fh.write(text[i : i + _SLICE].encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
