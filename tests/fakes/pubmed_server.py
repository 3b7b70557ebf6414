"""A loopback NCBI E-utilities for PubMed: ``esummary.fcgi`` and ``efetch.fcgi`` (XML, as recorded).

:class:`FakePubMed` answers under ``/entrez/eutils/`` (its :attr:`~FakePubMed.url`),
by GET or by POST form, like eutils.ncbi.nlm.nih.gov:

* ``esummary.fcgi?db=pubmed&id=1,2``: ESummary v1 XML, one ``DocSum`` per
  known id in request order and ``<ERROR>UID=...: cannot get document
  summary</ERROR>`` for an unknown one (the message NCBI gives in JSON;
  the ``ERROR`` element is the recorded one); no ``id`` at all is the
  recorded error document.  ``retmode=json`` was never recorded with a
  real answer (only hand-written examples exist): it gets a 501 saying so;
* ``efetch.fcgi?db=pubmed&id=...&retmode=xml``: a ``PubmedArticleSet``
  (the recorded DTD 2024 shape) with the known ids; unknown ones are left
  out, and none known gives an empty set;
* the 429 body is NCBI's documented ``{"error":"API rate limit exceeded",...}``.

Recorded PubMed answers are served verbatim; other works with a PMID are
rendered into the recorded shapes (authors as ``Family Initials``, MEDLINE
page ranges like ``436-44``, a ``doi`` article id when the work has one,
``Retracted Publication`` in the publication types of retracted works).
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from functools import cache
from xml.sax.saxutils import escape

from .catalogue import Catalogue, Work, fixture_text
from .faulty import ScriptedApi
from .s2_server import Answer

ESUMMARY = "pubmed/biopython_esummary_pubmed_11850928_11482001.xml"
ESUMMARY_ERROR = "pubmed/biopython_esummary_error_no-id.xml"
EFETCH = "pubmed/eutils_efetch_pubmed_20412080.xml"
MON = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
XML = {"Content-Type": "text/xml; charset=UTF-8"}


def initials(given: str) -> str:
    return "".join(part[0] for part in re.split(r"[\s.\-]+", given) if part)


def medline_pages(page: str) -> str:
    """``436-444`` -> ``436-44`` (MEDLINE drops the leading digits the end page repeats)."""
    first, _, last = page.partition("-")
    if last == first:
        return first
    if not last or len(first) != len(last):
        return page
    i = 0
    while i < len(first) - 1 and first[i] == last[i]:
        i += 1
    return f"{first}-{last[i:]}"


def pub_date(w: Work) -> str:
    parts = list(w.issued)
    out = str(parts[0])
    if len(parts) > 1:
        out += f" {MON[parts[1] - 1]}"
    if len(parts) > 2:
        out += f" {parts[2]}"
    return out


def _title(w: Work) -> str:
    t = w.title or ""
    return t if t.endswith((".", "?", "!")) else t + "."


@cache
def _esummary_blocks() -> tuple[str, tuple[str, ...], str]:
    text = fixture_text(ESUMMARY)
    head, _, rest = text.partition("<eSummaryResult>\n")
    blocks = tuple(re.findall(r"<DocSum>.*?</DocSum>\n", rest, re.S))
    return head, blocks, "</eSummaryResult>\n"


def render_docsum(w: Work) -> str:
    """One ``<DocSum>`` of ESummary v1 for ``w``."""
    ref = w.recorded.get("esummary")
    if ref:
        return _esummary_blocks()[1][int(ref.partition("#")[2])]
    authors = [f"{p.family} {initials(p.given)}".strip() if p.family else p.name for p in w.authors]
    pubtypes = ["Journal Article"] + (["Retracted Publication"] if w.retracted else [])
    ids = [("pubmed", w.pmid)] + ([("doi", w.doi)] if w.doi else [])
    item = '\t<Item Name="{}" Type="{}">{}</Item>\n'
    so = f"{pub_date(w)};{w.volume}({w.issue}):{medline_pages(w.page)}"
    lines = [
        "<DocSum>\n",
        f"\t<Id>{w.pmid}</Id>\n",
        item.format("PubDate", "Date", escape(pub_date(w))),
        item.format("EPubDate", "Date", ""),
        item.format("Source", "String", escape(w.short_container or w.container)),
        '\t<Item Name="AuthorList" Type="List">\n',
        *(f'\t\t<Item Name="Author" Type="String">{escape(a)}</Item>\n' for a in authors),
        "\t</Item>\n",
        item.format("LastAuthor", "String", escape(authors[-1] if authors else "")),
        item.format("Title", "String", escape(_title(w))),
        item.format("Volume", "String", escape(w.volume)),
        item.format("Issue", "String", escape(w.issue)),
        item.format("Pages", "String", escape(medline_pages(w.page))),
        '\t<Item Name="LangList" Type="List">\n',
        '\t\t<Item Name="Lang" Type="String">English</Item>\n',
        "\t</Item>\n",
        item.format("NlmUniqueID", "String", ""),
        item.format("ISSN", "String", escape(w.issn[0] if w.issn else "")),
        item.format("ESSN", "String", escape(w.issn[1] if len(w.issn) > 1 else "")),
        '\t<Item Name="PubTypeList" Type="List">\n',
        *(f'\t\t<Item Name="PubType" Type="String">{t}</Item>\n' for t in pubtypes),
        "\t</Item>\n",
        item.format("RecordStatus", "String", "PubMed - indexed for MEDLINE"),
        item.format("PubStatus", "String", "ppublish"),
        '\t<Item Name="ArticleIds" Type="List">\n',
        *(f'\t\t<Item Name="{k}" Type="String">{escape(v)}</Item>\n' for k, v in ids),
        "\t</Item>\n",
        '\t<Item Name="History" Type="List">\n',
        "\t</Item>\n",
        '\t<Item Name="References" Type="List"></Item>\n',
        item.format("HasAbstract", "Integer", "1"),
        item.format("PmcRefCount", "Integer", "0"),
        item.format("FullJournalName", "String", escape(w.container)),
        item.format("ELocationID", "String", escape(f"doi: {w.doi}" if w.doi else "")),
        item.format("SO", "String", escape(so)),
        "</DocSum>\n",
    ]
    return "".join(lines)


@cache
def _efetch_parts() -> tuple[str, str]:
    text = fixture_text(EFETCH)
    head, _, rest = text.partition("<PubmedArticleSet>")
    article = rest[: rest.index("</PubmedArticleSet>")].strip()
    return head, article


def render_article(w: Work) -> str:
    """One ``<PubmedArticle>`` of EFetch for ``w``."""
    _head, article = _efetch_parts()
    if "efetch" in w.recorded:
        return article
    root = ET.fromstring(article)
    cit = root.find("MedlineCitation")
    assert cit is not None
    cit.find("PMID").text = w.pmid  # type: ignore[union-attr]
    art = cit.find("Article")
    assert art is not None
    journal = art.find("Journal")
    assert journal is not None
    issn = journal.find("ISSN")
    if w.issn and issn is not None:
        issn.text = w.issn[-1]
    elif issn is not None:
        journal.remove(issn)
    ji = journal.find("JournalIssue")
    assert ji is not None
    ji.find("Volume").text = w.volume  # type: ignore[union-attr]
    ji.find("Issue").text = w.issue  # type: ignore[union-attr]
    date = ji.find("PubDate")
    assert date is not None
    for child in list(date):
        date.remove(child)
    ET.SubElement(date, "Year").text = str(w.year)
    if len(w.issued) > 1:
        ET.SubElement(date, "Month").text = MON[w.issued[1] - 1]
    journal.find("Title").text = w.container  # type: ignore[union-attr]
    journal.find("ISOAbbreviation").text = w.short_container or w.container  # type: ignore[union-attr]
    art.find("ArticleTitle").text = _title(w)  # type: ignore[union-attr]
    pag = art.find("Pagination")
    assert pag is not None
    first, _, last = w.page.partition("-")
    pag.find("StartPage").text = first  # type: ignore[union-attr]
    pag.find("EndPage").text = last or first  # type: ignore[union-attr]
    pag.find("MedlinePgn").text = medline_pages(w.page)  # type: ignore[union-attr]
    loc = art.find("ELocationID")
    if w.doi and loc is not None:
        loc.text = w.doi
    elif loc is not None:
        art.remove(loc)
    abstract = art.find("Abstract")
    if abstract is not None:
        art.remove(abstract)
    authors = art.find("AuthorList")
    assert authors is not None
    model = copy.deepcopy(authors.find("Author"))
    for a in list(authors):
        authors.remove(a)
    for p in w.authors:
        a = copy.deepcopy(model)
        assert a is not None
        for child in list(a):
            a.remove(child)
        if p.family:
            ET.SubElement(a, "LastName").text = p.family
            ET.SubElement(a, "ForeName").text = p.given.replace(".", "").strip()
            ET.SubElement(a, "Initials").text = initials(p.given)
        else:
            ET.SubElement(a, "CollectiveName").text = p.name
        authors.append(a)
    types = art.find("PublicationTypeList")
    assert types is not None
    for t in list(types)[1:]:
        types.remove(t)
    if w.retracted:
        ET.SubElement(types, "PublicationType", UI="D016441").text = "Retracted Publication"
    adate = art.find("ArticleDate")
    if adate is not None:
        art.remove(adate)
    mesh = cit.find("MeshHeadingList")
    if mesh is not None:
        cit.remove(mesh)
    ids = root.find("PubmedData/ArticleIdList")
    assert ids is not None
    for child in list(ids):
        ids.remove(child)
    ET.SubElement(ids, "ArticleId", IdType="pubmed").text = w.pmid
    if w.doi:
        ET.SubElement(ids, "ArticleId", IdType="doi").text = w.doi
    return ET.tostring(root, encoding="unicode")


class FakePubMed(ScriptedApi):
    """``with FakePubMed(catalogue) as pm: ... pm.url`` (``.../entrez/eutils``)."""

    address = "127.0.0.10"
    rate_limit_body = ("application/json", b'{"error":"API rate limit exceeded","count":"11"}')

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__()
        self.catalogue = catalogue

    @property
    def url(self) -> str:
        return f"{self.base}/entrez/eutils"

    def ids_asked(self) -> list[list[str]]:
        return [[i for v in r.params.get("id", []) for i in v.split(",") if i] for r in self.log]

    def _work(self, pmid: str) -> Work | None:
        w = self.catalogue.by_pmid(pmid)
        return w if w is not None and w.knows("pubmed") else None

    def route(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        tool = path.rsplit("/", 1)[-1]
        if not path.startswith("/entrez/eutils/") or tool not in ("esummary.fcgi", "efetch.fcgi"):
            return 404, {"Content-Type": "text/html"}, b"<html><body>Not Found</body></html>"
        ids = [i.strip() for v in params.get("id", []) for i in v.split(",") if i.strip()]
        retmode = (params.get("retmode") or ["xml"])[0]
        if retmode != "xml":
            return (
                501,
                {"Content-Type": "text/plain"},
                (
                    f"fake: retmode={retmode} was never recorded with a real answer; use retmode=xml".encode()
                ),
            )
        if (params.get("db") or [""])[0] != "pubmed":
            return 501, {"Content-Type": "text/plain"}, b"fake: only db=pubmed is served"
        if tool == "esummary.fcgi":
            if not ids:
                return 200, XML, fixture_text(ESUMMARY_ERROR).encode()
            head, _, tail = _esummary_blocks()
            parts = [head, "<eSummaryResult>\n"]
            for i in ids:
                w = self._work(i)
                parts.append(
                    render_docsum(w) + "\n"
                    if w
                    else f"<ERROR>UID={escape(i)}: cannot get document summary</ERROR>\n"
                )
            parts.append(tail)
            return 200, XML, "".join(parts).encode()
        head, _ = _efetch_parts()
        found = [w for w in (self._work(i) for i in ids) if w is not None]
        inner = "\n".join(render_article(w) for w in found)
        text = (
            f"{head}<PubmedArticleSet>\n{inner}</PubmedArticleSet>"
            if found
            else f"{head}<PubmedArticleSet></PubmedArticleSet>"
        )
        return 200, XML, text.encode()
