"""doi.org content negotiation: does this DOI exist, whoever registered it, and what is it?

``GET {root}/{doi}`` with ``Accept: application/vnd.citationstyles.csl+json``
is redirected by doi.org to the registration agency (Crossref, DataCite,
mEDRA...), which answers CSL-JSON.  doi.org itself answers 404 (an HTML
"DOI Not Found" page) for a DOI nobody registered: the one authority that
can say a DOI does not exist.  Crossref alone cannot (a DataCite DOI, Zenodo's
or arXiv's, is a 404 there).

One request per DOI (doi.org has no batch): callers ask only for the DOIs
the batched sources did not know.  The HTTP layer follows the redirect,
caches the answer (404s included) and retries 429/5xx.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from ..http import HttpClient, HttpError, OfflineMiss, host_of
from .base import Lookup, base_url, json_or_none, pacing, policy

DEFAULT_ROOT = "https://doi.org"
PUBLIC_HOST = "doi.org"
DELAY = 0.2
EXPIRE_AFTER = 30 * 86400.0
CSL = "application/vnd.citationstyles.csl+json"


class DoiOrgClient:
    name = "doi.org"

    def __init__(
        self,
        http: HttpClient,
        *,
        root: str = DEFAULT_ROOT,
        delay: float | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        retries: int = 4,
        expire_after: float = EXPIRE_AFTER,
    ) -> None:
        self.http = http
        self.root = root.rstrip("/")
        self.host = host_of(self.root)
        self.delay = pacing(self.host, PUBLIC_HOST, DELAY, delay)
        # "DOI Not Found" is an answer too: kept, so a second run asks nothing.
        http.set_policy(
            self.host,
            replace(
                policy(self.delay, timeout, retries, expire_after),
                cache_statuses=(200, 404, 410),
            ),
        )

    @classmethod
    def from_env(
        cls, http: HttpClient, env: Mapping[str, str] | None = None, **kwargs: Any
    ) -> DoiOrgClient:
        import os

        env = os.environ if env is None else env
        return cls(http, root=base_url(env, "BIBTOOLS_DOI_RESOLVER", DEFAULT_ROOT), **kwargs)

    def __repr__(self) -> str:
        return f"DoiOrgClient({self.root!r})"

    def csl(self, doi: str) -> Lookup[dict[str, Any]]:
        """The CSL-JSON item for ``doi``; ``not-found`` only when doi.org says the DOI does not exist."""
        doi = doi.strip()
        url = f"{self.root}/{quote(doi, safe='/:;()')}"
        try:
            reply = self.http.get(url, headers={"Accept": CSL})
        except OfflineMiss:
            return Lookup("offline", message="not in the cache (offline)")
        except HttpError as exc:
            return Lookup("failed", message=str(exc))
        if reply.status in (404, 410):
            # The resolver's own "DOI Not Found"; an agency's 404 after a
            # redirect (registered, no metadata) is not proof of absence.
            if host_of(reply.url) == self.host:
                return Lookup("not-found", message="DOI not found")
            return Lookup("failed", message=f"{host_of(reply.url)}: HTTP {reply.status}")
        if not reply.ok:
            return Lookup("failed", message=f"{host_of(reply.url)}: HTTP {reply.status}")
        doc = json_or_none(reply.content)
        if not isinstance(doc, dict):
            self.http.evict(reply)
            return Lookup("failed", message=f"{host_of(reply.url)}: the answer is not CSL-JSON")
        return Lookup("found", doc)
