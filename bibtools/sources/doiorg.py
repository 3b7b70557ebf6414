"""doi.org content negotiation: any registered DOI's metadata as CSL-JSON.

``GET {resolver}/{doi}`` with ``Accept: application/vnd.citationstyles.csl+json``
is answered by the DOI's registration agency: doi.org redirects (302) to
Crossref's ``/works/{doi}/transform`` or to DataCite's content service, which
answer a CSL-JSON item.  One request (plus its redirect) per DOI; no batch
endpoint exists.  Observed answers (``tests/fixtures/doi``):

* 404 with an HTML page titled "Error: DOI Not Found" for a DOI nobody
  registered: the DOI does not exist.  doi.org is the one authority that can
  say so (Crossref alone cannot: a DataCite DOI is a 404 there), and only its
  own 404 counts: an agency's 404 after the redirect (registered, no
  metadata) is a failure, not proof of absence;
* Crossref's item is its REST work with CSL names (``title`` a string,
  ``container-title``, ``issued``...) plus Crossref's own members
  (``reference``, ``link``, ``subtitle`` as a list...), which a CSL reader
  keeps or ignores;
* DataCite's item writes the DOI upper-case and a data set's ``type`` may be
  ``article``.

``BIBTOOLS_DOI_RESOLVER`` (default ``https://doi.org``) names the resolver.
Paced 0.2 s on doi.org (none on loopback), retries on 429/5xx, 30-day cache
(doi.org's "not found" included, so a second run asks nothing).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote

from ..http import HttpClient, host_of
from ..ids import DOI_SHAPE
from .base import Lookup, SourceClient, json_or_none, one_line

DEFAULT_RESOLVER = "https://doi.org"
PUBLIC_HOST = "doi.org"
CSL_JSON = "application/vnd.citationstyles.csl+json"
DEFAULT_DELAY = 0.2
EXPIRE_AFTER = 30 * 86400.0

_TITLE = re.compile(r"<title>([^<]{1,200})</title>", re.I)

ProgressFn = Callable[[Sequence[str]], None]


class DoiOrgClient(SourceClient):
    """CSL-JSON for DOIs through the shared HTTP layer (see the module docstring)."""

    name = "doi.org"
    ENV = "BIBTOOLS_DOI_RESOLVER"
    DEFAULT_API = DEFAULT_RESOLVER
    PUBLIC_HOST = PUBLIC_HOST
    DEFAULT_DELAY = DEFAULT_DELAY
    EXPIRE_AFTER = EXPIRE_AFTER
    # doi.org's "DOI Not Found" is an answer too: kept, so a second run asks nothing.
    CACHE_STATUSES = (404, 410)

    def __init__(self, http: HttpClient, *, resolver: str | None = None, **kwargs: Any) -> None:
        super().__init__(http, api_url=resolver, **kwargs)

    def lookup(
        self, dois: Iterable[str], progress: ProgressFn | None = None
    ) -> dict[str, Lookup[dict[str, Any]]]:
        """The CSL-JSON item of each distinct DOI, keyed by the DOIs as given."""
        results: dict[str, Lookup[dict[str, Any]]] = {}
        for doi in dict.fromkeys(dois):
            results[doi] = self.lookup_one(doi)
            if progress:
                progress([doi])
        return results

    def lookup_one(self, doi: str) -> Lookup[dict[str, Any]]:
        """The CSL-JSON item for ``doi``; ``not-found`` only when doi.org says it does not exist."""
        doi = doi.strip()
        if not DOI_SHAPE.match(doi):
            return Lookup("not-found", message=f"{doi!r} is not a DOI")
        url = f"{self.api_url}/{quote(doi, safe='/:;()')}"
        reply = self.fetch(url, headers={"Accept": CSL_JSON})
        if isinstance(reply, Lookup):
            return reply
        if reply.status in (404, 410):
            if host_of(reply.url) not in ("", self.host):
                return Lookup("failed", message=f"{host_of(reply.url)}: HTTP {reply.status}")
            return Lookup(
                "not-found", message=f"{self.host}: {reply.status} {_page_title(reply.text)}"
            )
        if not reply.ok:
            return Lookup(
                "failed", message=f"{host_of(reply.url) or self.host}: HTTP {reply.status}"
            )
        item = json_or_none(reply.content)
        if isinstance(item, list) and len(item) == 1:
            item = item[0]
        if not isinstance(item, dict) or not any(k in item for k in ("DOI", "type", "title")):
            self.http.evict(reply)
            return Lookup(
                "failed", message=f"{host_of(reply.url) or self.host}: the answer is not CSL-JSON"
            )
        return Lookup("found", item)


def _page_title(html: str) -> str:
    m = _TITLE.search(html)
    return one_line(m.group(1), 200) if m else "DOI Not Found"
