"""PubMed through NCBI E-utilities: articles by PMID, many to a request.

``GET {api}/efetch.fcgi?db=pubmed&id=1,2&retmode=xml`` answers a
``PubmedArticleSet`` with one ``PubmedArticle`` per PMID it knows; unknown
PMIDs are left out (none known: an empty set).  What is read, from the DTD
2024 shape (``tests/fixtures/pubmed``): ``MedlineCitation/PMID``,
``Article/ArticleTitle`` (MEDLINE ends it with a period, which is dropped;
inline tags are kept as text), ``Journal/Title`` and ``ISOAbbreviation``,
``JournalIssue`` (``Volume``, ``Issue``, ``PubDate`` as ``Year``/``Month``/
``Day`` or ``MedlineDate``), ``Pagination/MedlinePgn`` (``436-44``: the end
page written out again, ``436-444``), ``AuthorList/Author`` (``LastName``,
``ForeName``, ``Suffix``, or ``CollectiveName``) and the DOI
(``ELocationID EIdType="doi"`` or ``ArticleId IdType="doi"``).  ESummary is
not used: its authors are ``Family Initials Suffix`` in one string.

The answer is parsed with ``defusedxml`` (its DOCTYPE names an external DTD,
which is never fetched).  :func:`csl_item` gives a CSL-JSON item.
``BIBTOOLS_PUBMED_API`` (default ``https://eutils.ncbi.nlm.nih.gov/entrez/eutils``);
0.34 s between requests on ncbi.nlm.nih.gov (3 a second without an API
key), none on loopback; 30-day cache.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from ..text.dates import parse_month
from .base import Lookup, SourceClient, one_line

DEFAULT_API = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
PUBLIC_HOST = "ncbi.nlm.nih.gov"
DEFAULT_DELAY = 0.34
EXPIRE_AFTER = 30 * 86400.0
BATCH = 200
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


class PubMedClient(SourceClient):
    name = "pubmed"
    ENV = "BIBTOOLS_PUBMED_API"
    DEFAULT_API = DEFAULT_API
    PUBLIC_HOST = PUBLIC_HOST
    DEFAULT_DELAY = DEFAULT_DELAY
    EXPIRE_AFTER = EXPIRE_AFTER

    def lookup(self, pmids: Iterable[str]) -> dict[str, Lookup[dict[str, Any]]]:
        """A CSL-JSON item per PMID (digits), ``BATCH`` PMIDs to a request."""
        wanted = list(dict.fromkeys(pmids))
        results: dict[str, Lookup[dict[str, Any]]] = {}
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start : start + BATCH]
            # Sorted: the same set of PMIDs is the same request (and cache key).
            params = {
                "db": "pubmed",
                "id": ",".join(sorted(batch)),
                "retmode": "xml",
                "tool": "bibtools",
            }
            reply = self.fetch(f"{self.api_url}/efetch.fcgi", params=params)
            if isinstance(reply, Lookup):
                results.update({p: Lookup(reply.status, message=reply.message) for p in batch})
                continue
            articles = parse_articles(reply.content) if reply.ok else None
            if articles is None:
                if reply.ok:
                    self.http.evict(reply)
                problem = (
                    f"HTTP {reply.status}"
                    if not reply.ok
                    else "the answer is not a PubmedArticleSet"
                )
                results.update(
                    {p: Lookup("failed", message=f"{self.host}: {problem}") for p in batch}
                )
                continue
            for pmid in batch:
                item = articles.get(pmid)
                if item is None:
                    results[pmid] = Lookup(
                        "not-found", message=f"PubMed has no article {pmid} (efetch left it out)"
                    )
                else:
                    results[pmid] = Lookup("found", item)
        return results


def parse_articles(data: bytes) -> dict[str, dict[str, Any]] | None:
    """CSL-JSON items by PMID from an efetch answer; None when it is no PubmedArticleSet."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError, LookupError):
        return None
    if root.tag != "PubmedArticleSet":
        return None
    out: dict[str, dict[str, Any]] = {}
    for article in root.findall("PubmedArticle"):
        item = csl_item(article)
        if item is not None:
            out[item["PMID"]] = item
    return out


def _text(node: Element | None) -> str:
    # itertext: titles may hold <i>, <sup>...; their text is kept, the tags are not.
    return one_line("".join(node.itertext()), 2000) if node is not None else ""


def expand_pages(pages: str) -> str:
    """MEDLINE's ``436-44`` as ``436-444``; anything else as given."""
    m = re.fullmatch(r"(\d+)-(\d+)", pages)
    if m is None:
        return pages
    first, last = m.groups()
    if len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return f"{first}-{last}"


def _date(issue: Element | None) -> list[int]:
    date = issue.find("PubDate") if issue is not None else None
    if date is None:
        return []
    year = _text(date.find("Year"))
    if not year:
        m = re.search(r"\b(\d{4})\b(?:\s+([A-Za-z]{3}))?", _text(date.find("MedlineDate")))
        if m is None:
            return []
        month = parse_month(m.group(2)) if m.group(2) else None
        return [int(m.group(1))] + ([month] if month else [])
    if not year.isdigit():
        return []
    parts = [int(year)]
    month = parse_month(_text(date.find("Month")))
    if month:
        parts.append(month)
        day = _text(date.find("Day"))
        if day.isdigit() and 1 <= int(day) <= 31:
            parts.append(int(day))
    return parts


def _author(node: Element) -> dict[str, str] | None:
    collective = _text(node.find("CollectiveName"))
    if collective:
        return {"literal": collective}
    family = _text(node.find("LastName"))
    if not family:
        return None
    name = {
        "family": family,
        "given": _text(node.find("ForeName")) or _text(node.find("Initials")),
        "suffix": _text(node.find("Suffix")),
    }
    return {k: v for k, v in name.items() if v}


def csl_item(article: Element) -> dict[str, Any] | None:
    """The CSL-JSON item of one ``PubmedArticle``; None without a PMID."""
    citation = article.find("MedlineCitation")
    pmid = _text(citation.find("PMID")) if citation is not None else ""
    if citation is None or not pmid.isdigit():
        return None
    art = citation.find("Article")
    item: dict[str, Any] = {"type": "article-journal", "PMID": pmid}
    if art is None:
        return item
    title = _text(art.find("ArticleTitle"))
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1]  # MEDLINE's convention, not part of the title
    if title:
        item["title"] = title
    journal = art.find("Journal")
    if journal is not None:
        for var, tag in (
            ("container-title", "Title"),
            ("container-title-short", "ISOAbbreviation"),
        ):
            value = _text(journal.find(tag))
            if value:
                item[var] = value
        issue = journal.find("JournalIssue")
        if issue is not None:
            for var, tag in (("volume", "Volume"), ("issue", "Issue")):
                value = _text(issue.find(tag))
                if value:
                    item[var] = value
        date = _date(issue)
        if date:
            item["issued"] = {"date-parts": [date]}
    pages = _text(art.find("Pagination/MedlinePgn"))
    if pages:
        item["page"] = expand_pages(pages)
    authors = [a for a in (_author(n) for n in art.findall("AuthorList/Author")) if a]
    if authors:
        item["author"] = authors
    doi = ""
    for loc in art.findall("ELocationID"):
        if loc.get("EIdType") == "doi":
            doi = _text(loc)
            break
    if not doi:
        for aid in article.findall("PubmedData/ArticleIdList/ArticleId"):
            if aid.get("IdType") == "doi":
                doi = _text(aid)
                break
    if _DOI.match(doi):
        item["DOI"] = doi
    pmc = next(
        (
            _text(a)
            for a in article.findall("PubmedData/ArticleIdList/ArticleId")
            if a.get("IdType") == "pmc"
        ),
        "",
    )
    if pmc:
        item["PMCID"] = pmc
    return item
