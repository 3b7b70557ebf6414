"""Metadata sources: one module per service (``arxiv``; later ``github``, ...).

A source module wraps one web API behind a small client class that

* receives a :class:`bibtools.http.HttpClient` and never builds its own
  session, cache, pacing or retry loop (it may register a
  :class:`bibtools.http.HostPolicy` for its host);
* batches: it takes *all* the lookups of a run at once and decides how to
  spread them over requests;
* returns one result per lookup key with a :data:`status` from
  :data:`STATUSES`, never raising for a single missing or failed item;
* parses what it receives defensively (untrusted input) and knows nothing
  about records' merge policy, which lives in :mod:`bibtools.enrich`.

Sources are imported lazily by :mod:`bibtools.enrich`, so importing
``bibtools`` does not import ``requests``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from ..diagnostics import UsageError

Status = Literal["found", "not-found", "failed", "offline"]
STATUSES: tuple[Status, ...] = ("found", "not-found", "failed", "offline")


def base_url(env: Mapping[str, str], name: str, default: str) -> str:
    """The API URL in ``env[name]`` (else ``default``), without a trailing slash.

    Anything but an http(s) URL with a host and a valid port is a usage
    error, said at once rather than as a failure of every request.
    """
    value = (env.get(name) or "").strip() or default
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or port == 0
        or any(ord(c) < 32 or ord(c) == 127 for c in value)
    ):
        raise UsageError(f"{name} must be an http(s) URL, not {value!r}")
    return value.rstrip("/")


# The environment variables naming each source's servers (``published`` asks three APIs).
API_VARIABLES = {
    "arxiv": ("BIBTOOLS_ARXIV_API",),
    "github": ("BIBTOOLS_GITHUB_API", "BIBTOOLS_GITHUB_WEB"),
    "published": ("BIBTOOLS_S2_API", "BIBTOOLS_DBLP_API", "BIBTOOLS_CROSSREF_API"),
}


def check_api_urls(sources: Iterable[str], env: Mapping[str, str]) -> None:
    """Raise the :func:`base_url` usage error for a bad URL of any of ``sources``, before any request."""
    for source in sources:
        for name in API_VARIABLES.get(source, ()):
            if (env.get(name) or "").strip():
                base_url(env, name, "")


def one_line(value: Any, limit: int = 2000) -> str:
    """Free text from a server (a comment, a description) as one line: for anything else, ``""``.

    Control characters become spaces, white space is collapsed and the text
    is cut at ``limit`` characters (with an ellipsis).  Braces, markup and
    HTML are left as sent: every writer escapes what it writes; what no
    writer can undo (a line break inside a table cell or a diagnostic, a
    10 MB "comment" copied into every output) stops here.
    """
    if not isinstance(value, str):
        return ""
    text = " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in value).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def as_int(value: Any) -> int | None:
    """An integer from untrusted JSON or XML: an int, or a string of ASCII digits; else None.

    ``str.isdigit`` alone accepts "¹" and "٣", which ``int`` refuses or reads
    differently (found by fuzzing).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None
