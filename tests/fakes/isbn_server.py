"""Loopback ISBN services: the Open Library Books API and Google Books' volume search.

:class:`FakeOpenLibrary` answers ``GET /api/books?bibkeys=ISBN:a,ISBN:b&format=json&jscmd=data``
like openlibrary.org: an object keyed by each bibkey *as sent*, the keys it
does not know simply absent (``{}`` when none is known, HTTP 200); without
``format=json`` the same object as ``var _OLBookInfo = {...};``.  Only
``jscmd=data`` was recorded (other ``jscmd`` values, and ``/isbn/{isbn}.json``,
answer 501 saying so).  Its 429 body is the one documented in openlibrary#11611.

:class:`FakeGoogleBooks` answers ``GET /books/v1/volumes?q=isbn:...`` like
googleapis.com: ``{"kind": "books#volumes", "totalItems": 1, "items":
[...]}``, or ``totalItems`` 0 and no ``items`` for an unknown ISBN.  Other
queries answer 501 (not recorded).

ISBN-10 and -13 find the same book; hyphens and spaces are ignored.  A book
answers only from the services its work lists (``openlibrary``,
``googlebooks``), so a test can have one service know a book the other
does not.  Recorded books are served verbatim, the others in the recorded
shape with their values (:func:`render_openlibrary`, :func:`render_volume`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .catalogue import Catalogue, Work, fixture_json
from .faulty import ScriptedApi
from .s2_server import Answer, json_answer

OL_TEMPLATE = "isbn/openlib_openlibrary_books_isbn_9780316030571.json#ISBN:9780316030571"
GB_TEMPLATE = "isbn/citationjs_googlebooks_volumes_isbn_9780099560432.json"
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip


def _slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")


def _isbns(w: Work) -> tuple[list[str], list[str]]:
    return [i for i in w.isbn if len(i) == 10], [i for i in w.isbn if len(i) == 13]


def render_openlibrary(w: Work) -> dict[str, Any]:
    """The Books API (``jscmd=data``) record for ``w``."""
    if "openlibrary" in w.recorded:
        doc = fixture_json(w.recorded["openlibrary"])
        return next(iter(doc.values()))
    doc = fixture_json(OL_TEMPLATE)
    olid = f"OL{10000000 + w.numeric_id % 9999999}M"
    title = w.title or ""
    doc["authors"] = [
        {
            "name": p.display,
            "url": f"https://openlibrary.org/authors/OL{1000000 + hash_name(p.display)}A/{_slug(p.display)}",
        }
        for p in w.authors
    ]
    cover = 2000000 + w.numeric_id % 999999
    doc["cover"] = {
        size: f"https://covers.openlibrary.org/b/id/{cover}-{size[0].upper()}.jpg"
        for size in ("large", "medium", "small")
    }
    doc.pop("ebooks", None)
    isbn10, isbn13 = _isbns(w)
    doc["identifiers"] = {"isbn_10": isbn10, "isbn_13": isbn13, "openlibrary": [olid]}
    doc["key"] = f"/books/{olid}"
    if w.pages_total:
        doc["number_of_pages"] = w.pages_total
    else:
        doc.pop("number_of_pages", None)
    if len(w.issued) >= 3:
        doc["publish_date"] = f"{MONTHS[w.issued[1] - 1]} {w.issued[2]}, {w.issued[0]}"
    else:
        doc["publish_date"] = str(w.year)
    doc["publishers"] = [{"name": w.publisher}] if w.publisher else []
    doc.pop("subject_people", None)
    doc["subjects"] = []
    doc["title"] = title
    doc["url"] = f"https://openlibrary.org/books/{olid}/{_slug(title)}"
    return doc


def hash_name(name: str) -> int:
    return sum(ord(c) * (i + 1) for i, c in enumerate(name)) % 999999


def render_volume(w: Work) -> dict[str, Any]:
    """Google Books' volume for ``w`` (one item of a ``books#volumes`` list)."""
    if "googlebooks" in w.recorded:
        return fixture_json(w.recorded["googlebooks"])["items"][0]
    vol = fixture_json(GB_TEMPLATE)["items"][0]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    n = w.numeric_id
    vid = "".join(alphabet[(n >> (6 * i)) % 64] for i in range(12))
    vol["id"] = vid
    vol["etag"] = vid[:11]
    vol["selfLink"] = f"https://www.googleapis.com/books/v1/volumes/{vid}"
    info = vol["volumeInfo"]
    info["title"] = w.title
    info["authors"] = [p.display for p in w.authors]
    info["publisher"] = w.publisher
    info["publishedDate"] = "-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(w.issued))
    info.pop("description", None)
    isbn10, isbn13 = _isbns(w)
    info["industryIdentifiers"] = [{"type": "ISBN_13", "identifier": i} for i in isbn13] + [
        {"type": "ISBN_10", "identifier": i} for i in isbn10
    ]
    if w.pages_total:
        info["pageCount"] = w.pages_total
    else:
        info.pop("pageCount", None)
    info["categories"] = []
    info.pop("averageRating", None)
    info.pop("ratingsCount", None)
    for link in ("smallThumbnail", "thumbnail"):
        info["imageLinks"][link] = info["imageLinks"][link].replace("4zugGMReN3cC", vid)
    q = f"isbn:{isbn13[0] if isbn13 else ''}"
    info["previewLink"] = f"http://books.google.nl/books?id={vid}&dq={q}&hl=&cd=1&source=gbs_api"
    info["infoLink"] = f"http://books.google.nl/books?id={vid}&dq={q}&hl=&source=gbs_api"
    info["canonicalVolumeLink"] = (
        f"https://books.google.com/books/about/{_slug(w.title or '')}.html?hl=&id={vid}"
    )
    vol["accessInfo"]["webReaderLink"] = (
        f"http://play.google.com/books/reader?id={vid}&hl=&source=gbs_api"
    )
    vol.pop("searchInfo", None)
    return vol


class FakeOpenLibrary(ScriptedApi):
    """``with FakeOpenLibrary(catalogue) as ol: ... ol.url``."""

    address = "127.0.0.8"
    rate_limit_body = (
        "application/json",
        b'{"status":429,"message":"Too Many Requests. Consider using https://openlibrary.org/developers/dumps."}',
    )

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__()
        self.catalogue = catalogue

    @property
    def url(self) -> str:
        return self.base

    def bibkeys_asked(self) -> list[list[str]]:
        return [
            [k for v in r.params.get("bibkeys", []) for k in v.split(",") if k]
            for r in self.log
            if r.path == "/api/books"
        ]

    def route(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        if path.startswith("/isbn/"):
            return (
                501,
                {"Content-Type": "text/plain"},
                (
                    b"fake: /isbn/{isbn}.json was never recorded; use /api/books?bibkeys=ISBN:...&format=json&jscmd=data"
                ),
            )
        if path != "/api/books":
            return 404, {"Content-Type": "text/html"}, b"<html><body>Not Found</body></html>"
        jscmd = (params.get("jscmd") or ["viewapi"])[0]
        if jscmd != "data":
            return (
                501,
                {"Content-Type": "text/plain"},
                f"fake: jscmd={jscmd} was never recorded".encode(),
            )
        out: dict[str, Any] = {}
        for key in (k.strip() for v in params.get("bibkeys", []) for k in v.split(",")):
            kind, _, value = key.partition(":")
            if kind.upper() != "ISBN":
                continue
            w = self.catalogue.by_isbn(value)
            if w is not None and w.knows("openlibrary"):
                out[key] = render_openlibrary(w)
        text = json.dumps(out, ensure_ascii=False)
        if (params.get("format") or [""])[0] == "json":
            return 200, {"Content-Type": "application/json"}, text.encode()
        return 200, {"Content-Type": "text/javascript"}, f"var _OLBookInfo = {text};".encode()


class FakeGoogleBooks(ScriptedApi):
    """``with FakeGoogleBooks(catalogue) as gb: ... gb.url``."""

    address = "127.0.0.9"
    rate_limit_body = (
        "application/json",
        json.dumps(
            {
                "error": {
                    "code": 429,
                    "message": "Quota exceeded for quota metric 'Queries' and limit 'Queries per day'",
                    "errors": [
                        {
                            "message": "Queries per day",
                            "domain": "global",
                            "reason": "rateLimitExceeded",
                        }
                    ],
                }
            }
        ).encode(),
    )

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__()
        self.catalogue = catalogue

    @property
    def url(self) -> str:
        return self.base

    def route(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        if path != "/books/v1/volumes":
            return json_answer(404, {"error": {"code": 404, "message": "Not Found"}})
        q = (params.get("q") or [""])[0].strip()
        if not q.lower().startswith("isbn:"):
            return 501, {"Content-Type": "text/plain"}, b"fake: only q=isbn:... was recorded"
        w = self.catalogue.by_isbn(q[5:])
        if w is None or not w.knows("googlebooks"):
            return json_answer(200, {"kind": "books#volumes", "totalItems": 0})
        return json_answer(
            200, {"kind": "books#volumes", "totalItems": 1, "items": [render_volume(w)]}
        )
