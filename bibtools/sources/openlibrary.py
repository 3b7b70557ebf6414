"""Open Library's Books API: a book's metadata by ISBN, many ISBNs to a request.

``GET {api}/api/books?bibkeys=ISBN:a,ISBN:b&format=json&jscmd=data`` answers
an object keyed by each bibkey *as sent*; ISBNs it does not know are simply
absent (``{}`` when none is known, HTTP 200).  A book (``jscmd=data``) has
``title`` (and sometimes ``subtitle``), ``authors`` (``[{"name": "Iain M.
Banks", "url": ...}]``), ``publishers`` and ``publish_places``
(``[{"name": ...}]``), ``publish_date`` as free text (``"July 28, 2008"``,
``"2016"``), ``number_of_pages`` and ``identifiers`` (``isbn_10``,
``isbn_13``...) (``tests/fixtures/isbn``).

:func:`csl_item` turns a book into a CSL-JSON item, so that one reader maps
every source onto the record model.  ``BIBTOOLS_OPENLIBRARY_API`` (default
``https://openlibrary.org``); 1 s between requests on openlibrary.org (its
documented limit for unidentified clients), none on loopback; 30-day cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..text.dates import parse_free_date
from .base import Lookup, SourceClient, csl_name, json_or_none, one_line

DEFAULT_API = "https://openlibrary.org"
PUBLIC_HOST = "openlibrary.org"
DEFAULT_DELAY = 1.0
EXPIRE_AFTER = 30 * 86400.0
BATCH = 50


class OpenLibraryClient(SourceClient):
    name = "openlibrary"
    ENV = "BIBTOOLS_OPENLIBRARY_API"
    DEFAULT_API = DEFAULT_API
    PUBLIC_HOST = PUBLIC_HOST
    DEFAULT_DELAY = DEFAULT_DELAY
    EXPIRE_AFTER = EXPIRE_AFTER

    def lookup(self, isbns: Iterable[str]) -> dict[str, Lookup[dict[str, Any]]]:
        """A CSL-JSON item per ISBN (as given: digits only, ISBN-13 preferred), ``BATCH`` to a request."""
        wanted = list(dict.fromkeys(isbns))
        results: dict[str, Lookup[dict[str, Any]]] = {}
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start : start + BATCH]
            params = {
                "bibkeys": ",".join(f"ISBN:{i}" for i in batch),
                "format": "json",
                "jscmd": "data",
            }
            reply = self.fetch(f"{self.api_url}/api/books", params=params)
            if isinstance(reply, Lookup):
                results.update({i: Lookup(reply.status, message=reply.message) for i in batch})
                continue
            doc = json_or_none(reply.content) if reply.ok else None
            if not isinstance(doc, dict):
                if reply.ok:
                    self.http.evict(reply)
                problem = f"HTTP {reply.status}" if not reply.ok else "the answer is not JSON"
                results.update(
                    {i: Lookup("failed", message=f"{self.host}: {problem}") for i in batch}
                )
                continue
            for isbn in batch:
                book = doc.get(f"ISBN:{isbn}")
                item = csl_item(book, isbn) if isinstance(book, dict) else None
                if item is None:
                    results[isbn] = Lookup(
                        "not-found", message=f"Open Library does not know ISBN {isbn}"
                    )
                else:
                    results[isbn] = Lookup("found", item)
        return results


def _names(values: Any) -> list[str]:
    if not isinstance(values, list):
        return []
    out = [one_line(v.get("name"), 300) for v in values if isinstance(v, dict)]
    return [n for n in out if n]


def csl_item(book: Mapping[str, Any], isbn: str) -> dict[str, Any] | None:
    """The CSL-JSON item of an Open Library book (``jscmd=data``); None without a title."""
    title = one_line(book.get("title"), 1000)
    if not title:
        return None
    item: dict[str, Any] = {"type": "book", "title": title}
    subtitle = one_line(book.get("subtitle"), 1000)
    if subtitle:
        item["title"] = f"{title}: {subtitle}"
    authors = [csl_name(n) for n in _names(book.get("authors"))]
    if authors:
        item["author"] = authors
    date = parse_free_date(one_line(book.get("publish_date"), 100))
    if date:
        item["issued"] = {"date-parts": [date]}
    publishers = _names(book.get("publishers"))
    if publishers:
        item["publisher"] = publishers[0]
    places = _names(book.get("publish_places"))
    if places:
        item["publisher-place"] = places[0]
    pages = book.get("number_of_pages")
    if isinstance(pages, int) and not isinstance(pages, bool) and pages > 0:
        item["number-of-pages"] = str(pages)
    item["ISBN"] = isbn
    return item
