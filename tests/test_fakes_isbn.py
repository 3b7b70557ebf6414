"""The loopback Open Library (Books API) and Google Books: ISBN-10/13, hyphens, unknown ISBNs, one-service books, faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fakes.catalogue import Catalogue, normalize_isbn
from fakes.isbn_server import FakeGoogleBooks, FakeOpenLibrary

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


@pytest.fixture
def ol(catalogue: Catalogue) -> Iterator[FakeOpenLibrary]:
    with FakeOpenLibrary(catalogue) as fake:
        yield fake


@pytest.fixture
def gb(catalogue: Catalogue) -> Iterator[FakeGoogleBooks]:
    with FakeGoogleBooks(catalogue) as fake:
        yield fake


def books(ol: FakeOpenLibrary, *keys: str, fmt: str | None = "json") -> requests.Response:
    params = {"bibkeys": ",".join(keys), "jscmd": "data"}
    if fmt:
        params["format"] = fmt
    return requests.get(ol.url + "/api/books", params=params, timeout=5)


def test_isbn_normalisation() -> None:
    assert normalize_isbn("0-316-03057-0") == normalize_isbn("978-0-316-03057-1") == "9780316030571"
    assert normalize_isbn("0-201-13447-0") == "9780201134476"
    assert normalize_isbn("not an isbn") == ""


def test_open_library_recorded_answer_keyed_as_sent(ol: FakeOpenLibrary) -> None:
    recorded = json.loads(
        (FIXTURES / "isbn/openlib_openlibrary_books_isbn_9780316030571.json").read_text()
    )
    r = books(ol, "ISBN:9780316030571")
    assert r.status_code == 200 and r.json() == recorded
    by10 = books(ol, "ISBN:0316030570", "ISBN:978-0-262-03561-3").json()
    assert set(by10) == {"ISBN:0316030570", "ISBN:978-0-262-03561-3"}  # the keys as sent
    assert by10["ISBN:0316030570"] == recorded["ISBN:9780316030571"]
    book = by10["ISBN:978-0-262-03561-3"]
    assert set(book) <= set(recorded["ISBN:9780316030571"])
    assert (book["title"], [a["name"] for a in book["authors"]], book["publish_date"]) == (
        "Deep Learning",
        ["Ian Goodfellow", "Yoshua Bengio", "Aaron Courville"],
        "November 18, 2016",
    )
    assert book["identifiers"]["isbn_13"] == ["9780262035613"]
    assert ol.bibkeys_asked() == [
        ["ISBN:9780316030571"],
        ["ISBN:0316030570", "ISBN:978-0-262-03561-3"],
    ]


def test_open_library_unknown_and_other_services_books(ol: FakeOpenLibrary) -> None:
    r = books(ol, "ISBN:9780000000002", "ISBN:9780099560432")  # unknown; a Google-only book
    assert (r.status_code, r.json()) == (200, {})
    js = books(ol, "ISBN:9780316030571", fmt=None)
    assert js.text.startswith("var _OLBookInfo = {") and js.text.endswith("};")
    assert requests.get(ol.url + "/isbn/9780316030571.json", timeout=5).status_code == 501
    assert (
        requests.get(
            ol.url + "/api/books", params={"bibkeys": "ISBN:1", "jscmd": "details"}, timeout=5
        ).status_code
        == 501
    )


def test_google_books_recorded_and_rendered(gb: FakeGoogleBooks) -> None:
    recorded = json.loads(
        (FIXTURES / "isbn/citationjs_googlebooks_volumes_isbn_9780099560432.json").read_text()
    )
    for q in ("isbn:9780099560432", "isbn:0099560437", "isbn:978-0-09-956043-2"):
        r = requests.get(gb.url + "/books/v1/volumes", params={"q": q}, timeout=5)
        assert r.json() == recorded, q
    r = requests.get(
        gb.url + "/books/v1/volumes", params={"q": "isbn:0387310738"}, timeout=5
    ).json()
    info = r["items"][0]["volumeInfo"]
    assert (r["totalItems"], info["title"], info["authors"], info["publishedDate"]) == (
        1,
        "Pattern Recognition and Machine Learning",
        ["Christopher M. Bishop"],
        "2006-08-17",
    )
    assert {"type": "ISBN_10", "identifier": "0387310738"} in info["industryIdentifiers"]
    assert set(r["items"][0]) <= set(recorded["items"][0])


def test_google_books_unknown_is_zero_items(gb: FakeGoogleBooks) -> None:
    for q in ("isbn:9780000000002", "isbn:9780316030571"):  # unknown; an Open-Library-only book
        r = requests.get(gb.url + "/books/v1/volumes", params={"q": q}, timeout=5)
        assert (r.status_code, r.json()) == (200, {"kind": "books#volumes", "totalItems": 0})
    assert (
        requests.get(
            gb.url + "/books/v1/volumes", params={"q": "intitle:deep"}, timeout=5
        ).status_code
        == 501
    )


def test_faults(ol: FakeOpenLibrary, gb: FakeGoogleBooks) -> None:
    ol.rate_limit("", retry_after="2")
    r = books(ol, "ISBN:9780316030571")
    assert r.status_code == 429 and r.json()["status"] == 429 and r.headers["Retry-After"] == "2"
    assert books(ol, "ISBN:9780316030571").status_code == 200
    gb.fail("isbn:", "429")
    r = requests.get(gb.url + "/books/v1/volumes", params={"q": "isbn:0099560437"}, timeout=5)
    assert r.status_code == 429 and r.json()["error"]["errors"][0]["reason"] == "rateLimitExceeded"
    gb.fail("", "200-html")
    r = requests.get(gb.url + "/books/v1/volumes", params={"q": "isbn:0099560437"}, timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html"
