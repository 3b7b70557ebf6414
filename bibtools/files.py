"""File I/O at the edges: bounded reading and decoding of inputs, atomic output."""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from .diagnostics import BibtoolsError, InputError, UsageError
from .limits import MAX_INPUT_ENV, describe_size, max_input


class OutputError(BibtoolsError):
    """An output that cannot be written: a directory, read-only, a full disk (exit status 2)."""


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


def _utf16_guess(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the zero bytes of the first 4 KB say so."""
    sample = data[:4096]
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) / 2
    for zeros, other, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros > 0.3 * half and other == 0:
            return encoding
    return None


def _utf16_without_bom(data: bytes) -> str | None:
    encoding = _utf16_guess(data)
    if encoding is None:
        return None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _binary(head: bytes) -> bool:
    """NUL bytes in the first 8 KB of a file without a BOM that is not UTF-16: binary data."""
    return (
        b"\x00" in head[:8192]
        and not any(head.startswith(bom) for bom, _ in _BOMS)
        and _utf16_guess(head) is None
    )


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
        raise _binary_error(name)
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


def _binary_error(name: str) -> InputError:
    return InputError(f"{name}: binary data, not a bibliography (NUL bytes)")


def too_large(name: str, limit: int) -> InputError:
    return InputError(
        f"{name}: larger than the input limit of {describe_size(limit)} "
        f"(set {MAX_INPUT_ENV} to raise it)"
    )


_CHUNK = 1 << 20  # bytes read at a time from a stream


def _read_stream(fh: BinaryIO, name: str, limit: int) -> bytes:
    """At most ``limit`` bytes of a pipe, terminal or device: an endless one is refused.

    Binary data is refused as soon as its first 8 KB show it (``/dev/zero``
    fails at once, not after a gigabyte).
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = fh.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if len(chunks) == 1 and (len(chunk) >= 8192 or size > limit) and _binary(chunk):
            raise _binary_error(name)
        if size > limit:
            raise too_large(name, limit)
    return b"".join(chunks)


def read_bytes(path: str) -> bytes:
    """The bytes of ``path`` (``-`` for stdin), at most :func:`bibtools.limits.max_input`.

    Raises :class:`InputError` with a one-line message for a missing,
    unreadable, binary or too large input, and for a directory.
    """
    limit = max_input()
    if path == "-":
        return _read_stream(sys.stdin.buffer, "<stdin>", limit)
    try:
        with open(path, "rb") as fh:
            info = os.fstat(fh.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise InputError(f"{path}: is a directory")
            if stat.S_ISREG(info.st_mode) and info.st_size > 0:
                # /proc files say 0 and are streams: only a real size is trusted.
                if info.st_size > limit:
                    raise too_large(path, limit)
                data = fh.read(limit + 1)
                if len(data) > limit:  # grew while we read it
                    raise too_large(path, limit)
                return data
            return _read_stream(fh, path, limit)  # type: ignore[arg-type]
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_input(path: str) -> tuple[str, str]:
    """Read ``path`` (``-`` for stdin) -> (text, encoding); see :func:`read_bytes`."""
    return decode(read_bytes(path), "<stdin>" if path == "-" else path)


_SLICE = 1 << 20  # characters encoded at a time


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` name one file: the same path once links are resolved, or
    (when both exist) the same inode, so a hard link or a bind mount counts too."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def output_error(path: str | os.PathLike[str], exc: OSError, atomic: bool) -> OutputError:
    reason = exc.strerror or str(exc)
    if atomic and os.path.isfile(path):
        reason += "; the existing file is unchanged"
    return OutputError(f"{os.fspath(path)}: cannot write ({reason})")


def _chunks(text: str | bytes) -> list[bytes] | Iterator[bytes]:
    # Text is written as UTF-8; bytes as they are (a source file that is not
    # UTF-8 must come back byte for byte).  In slices: one encoded copy of a
    # large output would double its memory.
    if isinstance(text, bytes):
        return [text]
    return (text[i : i + _SLICE].encode("utf-8") for i in range(0, len(text), _SLICE))


def write_atomic(path: str | os.PathLike[str], text: str | bytes) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one.

    The temporary file lives in the target's directory, so ``os.replace``
    is a rename on one file system; a crash leaves at most a stray
    ``.tmp`` file, never a half-written output.  A symbolic link is
    followed: the file it points to is replaced and the link stays.  A
    device, FIFO or terminal (``/dev/stdout``, ``/proc/self/fd/1``) cannot
    be renamed over: it is written in place.  Any failure (a directory, a
    read-only file system, a full disk) raises :class:`OutputError` with a
    one-line message; an existing regular file is then left as it was.
    """
    atomic = True
    try:
        try:
            info = os.stat(path)  # follows links
        except FileNotFoundError:
            info = None
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise OutputError(f"{os.fspath(path)}: is a directory")
        if info is not None and not stat.S_ISREG(info.st_mode):
            atomic = False
            _write_in_place(path, text)
            return
        target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
        _replace(target, text)
    except OSError as exc:
        raise output_error(path, exc, atomic) from None


def _write_in_place(path: str | os.PathLike[str], text: str | bytes) -> None:
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "wb") as fh:
        for chunk in _chunks(text):
            fh.write(chunk)


def _replace(target: Path, text: str | bytes) -> None:
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in _chunks(text):
                fh.write(chunk)
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


def guard_outputs(
    outputs: Sequence[str | None],
    inputs: Sequence[str | None],
    force: bool = False,
    hint: str = " (use --force)",
) -> None:
    """Every file a command writes passes here before anything is read or written.

    An output that is also an input is refused unless ``force`` (--force);
    two outputs that are one file are always refused (one would overwrite
    the other).  Files are compared after resolving links, and by inode.
    """
    wanted = [o for o in outputs if o and o != "-"]
    for i, out in enumerate(wanted):
        for other in wanted[:i]:
            if same_file(out, other):
                both = out if out == other else f"{other} and {out}"
                raise UsageError(f"{both}: one file for two outputs; one would replace the other")
        if force:
            continue
        for path in inputs:
            if path and path != "-" and same_file(out, path):
                raise UsageError(f"{out}: is also an input; refusing to overwrite it{hint}")
