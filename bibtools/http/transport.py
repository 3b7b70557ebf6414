"""The ``requests`` side: a bounded adapter (a deadline and a size cap per
answer), redirects that never carry credentials to another origin, and
one-line descriptions of what went wrong on the wire."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Timeout

from .policy import (
    CREDENTIAL_NAMES,
    CREDENTIAL_WORDS,
    MAX_REDIRECTS,
    HostPolicy,
    shown_url,
    url_problem,
)


def reason_phrase(response: requests.Response) -> str:
    """The reason phrase, as printable text of at most 60 characters (it reaches terminals)."""
    text = "".join(c if c.isprintable() else " " for c in str(response.reason or ""))
    return " ".join(text.split())[:60]


def rebuild_auth(
    session: requests.Session, prepared: requests.PreparedRequest, response: requests.Response
) -> None:
    """``Session.rebuild_auth`` that drops every credential header, not only ``Authorization``.

    Called by requests for each redirect it follows.  Another origin (host,
    port or scheme, except http to https on the default ports, as requests
    decides it) gets no API key, token or cookie header we set for the first.
    """
    type(session).rebuild_auth(session, prepared, response)
    try:
        elsewhere = session.should_strip_auth(response.request.url or "", prepared.url or "")
    except ValueError:  # a Location with a bad port: the request fails next; send nothing
        elsewhere = True
    if elsewhere:
        for name in [n for n in prepared.headers if is_credential(n)]:
            del prepared.headers[name]


def redirect_target(session: requests.Session, response: requests.Response) -> str | None:
    """``Session.get_redirect_target`` that does not follow a Location we cannot ask.

    requests would raise whatever its URL parser raises (``ValueError`` for
    ``http://[::1``) or look for a ``file://`` adapter; returning None ends
    the redirects there, and the client reports the 3xx (:func:`refused_redirect`).
    """
    target = type(session).get_redirect_target(session, response)
    if target is None or _redirect_problem(response, target):
        return None
    return target


def _redirect_problem(response: requests.Response, target: str) -> str:
    try:
        absolute = urljoin(response.url or "", target.strip())
    except ValueError as exc:
        return f"malformed URL ({exc})"
    return url_problem(absolute.replace(" ", "%20"))


def refused_redirect(response: requests.Response) -> str:
    location = response.headers.get("Location", "")
    why = _redirect_problem(response, location) or "malformed URL"
    return f"HTTP {response.status_code} redirects to {shown_url(location, 80)!r}: {why}"


def is_credential(name: str) -> bool:
    if name.lower() == "proxy-authorization":
        return False  # for the proxy, not the origin: requests sets it again for every hop
    return name.lower() in CREDENTIAL_NAMES or bool(CREDENTIAL_WORDS.search(name))


def cannot_connect(exc: BaseException) -> bool:
    """Did the request fail before the server said anything (refused, DNS, connect timeout, TLS)?

    Such a failure holds for every request to the origin; one after the
    connection was made (a reset, a read timeout) may be the page's own.
    """
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        import urllib3.exceptions as u3

        cause = exc.args[0]
        return isinstance(getattr(cause, "reason", cause), u3.NewConnectionError)
    return False


def describe(exc: BaseException) -> str:
    if isinstance(exc, (TooSlow, TooLarge)):
        return str(exc)
    if isinstance(exc, requests.TooManyRedirects):
        return f"more than {MAX_REDIRECTS} redirects (a redirect loop?)"
    if isinstance(exc, (requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema)):
        return "redirected to a URL that is not http(s)"
    if isinstance(exc, (requests.exceptions.InvalidURL, ValueError)):
        return "redirected to a malformed URL"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "the answer cannot be decompressed (a broken Content-Encoding)"
    if isinstance(exc, requests.exceptions.SSLError):
        reason = (
            "certificate verify failed" if "CERTIFICATE_VERIFY_FAILED" in str(exc) else "TLS error"
        )
        return f"TLS certificate not accepted ({reason}); --insecure (or BIBTOOLS_INSECURE=1) skips the check"
    if isinstance(exc, requests.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.Timeout):
        return "no answer within the read timeout"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    if isinstance(exc, requests.exceptions.InvalidHeader):
        return "broken answer (an invalid header)"
    return f"broken answer ({type(exc).__name__})"


# --------------------------------------------------------------------------
# Limits on one answer


class TooSlow(requests.RequestException):
    """The answer did not arrive in full within the host's deadline (retried like a timeout)."""


class TooLarge(requests.RequestException):
    """The answer is larger than the host's ``max_bytes`` (not retried)."""


class Limits(Timeout):
    """urllib3's (connect, read) timeout, carrying the host's deadline and size limit.

    requests hands a :class:`urllib3.util.Timeout` to the adapter unchanged,
    which is how the limits reach :class:`BoundedAdapter` through
    requests-cache.
    """

    def __init__(self, policy: HostPolicy) -> None:
        connect, read = policy.timeout
        super().__init__(connect=connect, read=read)
        self.deadline = policy.deadline
        self.max_bytes = policy.max_bytes


class BoundedAdapter(HTTPAdapter):
    """Reads answers itself, so that a deadline and a size limit apply to the whole body.

    The per-read timeout of ``requests`` restarts with every byte: a server
    sending one byte a second keeps a plain client forever.  The deadline
    is real time (the socket's), not the client's injectable clock.
    """

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        limits = kwargs.get("timeout")
        if not isinstance(limits, Limits) or kwargs.get("stream"):
            return super().send(request, **kwargs)
        deadline = None if limits.deadline is None else time.monotonic() + limits.deadline
        kwargs["stream"] = True
        response = super().send(request, **kwargs)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in _chunks(response):
                chunks.append(chunk)
                size += len(chunk)
                if limits.max_bytes is not None and size > limits.max_bytes:
                    raise TooLarge(
                        f"answer larger than {limits.max_bytes / 2**20:.0f} MB", request=request
                    )
                if deadline is not None and time.monotonic() > deadline:
                    raise TooSlow(
                        f"answer not complete after {limits.deadline:g} s", request=request
                    )
        except BaseException:
            response.close()
            raise
        response._content = b"".join(chunks)
        response._content_consumed = True
        return response


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives, one network read at a time.

    ``iter_content`` fills every chunk before handing it over, so a server
    dripping one byte at a time would be seen only once per 64 KB; ``read1``
    returns what one read got.  urllib3's errors become requests' own, as
    ``iter_content`` does it.
    """
    raw = response.raw
    read1 = getattr(raw, "read1", None)
    if read1 is None:  # urllib3 < 2
        yield from response.iter_content(64 * 1024)
        return
    import urllib3.exceptions as u3

    try:
        while chunk := read1(64 * 1024, decode_content=True):
            yield chunk
    except u3.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except u3.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except u3.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(
            exc
        ) from exc  # iter_content says ConnectionError: less true
    except u3.SSLError as exc:
        raise requests.exceptions.SSLError(exc) from exc


# --------------------------------------------------------------------------
# The cache database shared with other processes
