"""File I/O at the edges: decoding input bytes, atomic output."""

from __future__ import annotations

import codecs
import os
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


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Bytes -> (text, encoding).

    UTF-8 (with or without BOM) and UTF-16/32 with a BOM are taken as they
    are; anything else is detected with charset-normalizer and accepted
    only when it is confident, because a wrong guess silently corrupts
    every accented name.  Binary data is refused.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise InputError(f"{name}: not valid {encoding} despite its byte-order mark ({exc.reason})") from None
    if b"\x00" in data[:8192]:
        raise InputError(f"{name}: binary data, not a bibliography (NUL bytes)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None or best.chaos > 0.3:
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


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
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
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
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
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
