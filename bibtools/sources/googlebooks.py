"""Google Books: a book's metadata by ISBN (``q=isbn:...``), one ISBN per request.

``GET {api}/books/v1/volumes?q=isbn:9780099560432`` answers ``{"kind":
"books#volumes", "totalItems": N, "items": [...]}`` (``totalItems`` 0 and no
``items`` for an ISBN it does not know).  A volume's ``volumeInfo`` has
``title``, ``subtitle``, ``authors`` (plain ``Given Family`` strings),
``publisher``, ``publishedDate`` (``2012``, ``2012-05``, ``2012-05-03``),
``pageCount`` and ``industryIdentifiers`` (``tests/fixtures/isbn``).  A
search may answer volumes of other ISBNs: only one listing the asked ISBN
is taken.

:func:`csl_item` turns a volume into a CSL-JSON item.  ``BIBTOOLS_GOOGLEBOOKS_API``
(default ``https://www.googleapis.com``); 1 s between requests on
googleapis.com without a key, none on loopback; 30-day cache.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..text.dates import parse_free_date
from .base import Lookup, SourceClient, as_int, csl_name, json_or_none, one_line

DEFAULT_API = "https://www.googleapis.com"
PUBLIC_HOST = "googleapis.com"
DEFAULT_DELAY = 1.0
EXPIRE_AFTER = 30 * 86400.0


class GoogleBooksClient(SourceClient):
    name = "googlebooks"
    ENV = "BIBTOOLS_GOOGLEBOOKS_API"
    DEFAULT_API = DEFAULT_API
    PUBLIC_HOST = PUBLIC_HOST
    DEFAULT_DELAY = DEFAULT_DELAY
    EXPIRE_AFTER = EXPIRE_AFTER

    def lookup(self, isbns: Iterable[str]) -> dict[str, Lookup[dict[str, Any]]]:
        """A CSL-JSON item per ISBN (digits, as given), one request each."""
        return {isbn: self.lookup_one(isbn) for isbn in dict.fromkeys(isbns)}

    def lookup_one(self, isbn: str) -> Lookup[dict[str, Any]]:
        reply = self.fetch(f"{self.api_url}/books/v1/volumes", params={"q": f"isbn:{isbn}"})
        if isinstance(reply, Lookup):
            return reply
        doc = json_or_none(reply.content) if reply.ok else None
        if not isinstance(doc, dict):
            if reply.ok:
                self.http.evict(reply)
            problem = f"HTTP {reply.status}" if not reply.ok else "the answer is not JSON"
            return Lookup("failed", message=f"{self.host}: {problem}")
        items = doc.get("items")
        for volume in items if isinstance(items, list) else []:
            info = volume.get("volumeInfo") if isinstance(volume, dict) else None
            if isinstance(info, dict) and _lists_isbn(info, isbn):
                item = csl_item(info, isbn)
                if item is not None:
                    return Lookup("found", item)
        total = as_int(doc.get("totalItems"))
        return Lookup(
            "not-found", message=f"Google Books does not know ISBN {isbn} (totalItems {total or 0})"
        )


def _isbn10(isbn13: str) -> str:
    if not (len(isbn13) == 13 and isbn13.startswith("978")):
        return ""
    core = isbn13[3:12]
    check = (11 - sum((10 - i) * int(c) for i, c in enumerate(core)) % 11) % 11
    return core + ("X" if check == 10 else str(check))


def _lists_isbn(info: Mapping[str, Any], isbn: str) -> bool:
    ids = info.get("industryIdentifiers")
    if not isinstance(ids, list):
        return False
    listed = {
        re.sub(r"[^0-9X]", "", str(i.get("identifier", "")).upper())
        for i in ids
        if isinstance(i, dict)
    }
    return isbn in listed or (_isbn10(isbn) in listed and bool(_isbn10(isbn)))


def csl_item(info: Mapping[str, Any], isbn: str) -> dict[str, Any] | None:
    """The CSL-JSON item of a Google Books ``volumeInfo``; None without a title."""
    title = one_line(info.get("title"), 1000)
    if not title:
        return None
    subtitle = one_line(info.get("subtitle"), 1000)
    item: dict[str, Any] = {"type": "book", "title": f"{title}: {subtitle}" if subtitle else title}
    authors = info.get("authors")
    names = [one_line(a, 300) for a in authors] if isinstance(authors, list) else []
    if any(names):
        item["author"] = [csl_name(n) for n in names if n]
    date = parse_free_date(one_line(info.get("publishedDate"), 100))
    if date:
        item["issued"] = {"date-parts": [date]}
    publisher = one_line(info.get("publisher"), 300)
    if publisher:
        item["publisher"] = publisher
    pages = as_int(info.get("pageCount"))
    if pages:
        item["number-of-pages"] = str(pages)
    item["ISBN"] = isbn
    return item
