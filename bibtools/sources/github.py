"""GitHub: is a repository still there, where did it move, and what is it (stars, licence...).

:class:`GitHubClient` answers :meth:`~GitHubClient.check` for many
``owner/name`` slugs at once with one :class:`RepoInfo` each, spending as
little of GitHub's budget as it can.  All HTTP goes through
:class:`bibtools.http.HttpClient` (cache, retries, counters, clock).

**Without a token** (60 requests an hour per IP) every repository costs one
REST ``GET /repos/{owner}/{name}`` (a renamed or transferred one two: the
301 to ``/repositories/{id}`` and the answer it points to, both followed
and cached under the first URL).  The ``x-ratelimit-remaining`` and
``x-ratelimit-reset`` headers of every live answer are read; once the budget
is spent no further request goes to the API: a repository still in the
cache (even expired) is answered from it, the others get a ``HEAD`` of
``{web}/{owner}/{name}`` (live, missing, blocked or moved, without stars or
licence) or, when the web page does not answer either (or
``web_fallback=False``), the status ``rate-limited`` with the time until
the reset.  A reset less than ``max_wait`` seconds away is waited for
(through the HTTP client's clock) instead.

**With a token** (``GITHUB_TOKEN``, 5,000 an hour) repositories are asked
for in GraphQL queries of up to 50 aliased ``repository(owner:, name:)``
fields (``r0`` .. ``r49``; owner and name are variables, never spliced into
the query).  GraphQL resolves renamed repositories to their new name; such
a move is confirmed with one REST request.  A repository GraphQL reports as
``NOT_FOUND`` gets a ``HEAD`` of its web page before it is called missing
(renames GraphQL does not follow, takedowns), and a web redirect is again
confirmed by REST.  A token GitHub rejects (401) is dropped for the rest of
the run, with a warning, and the REST path takes over.

**Cache and conditional requests.**  Answers (200, and the definite 404,
410 and 451) are cached for ``expire_after`` (6 h).  An expired answer that carried an ``ETag`` is
revalidated with ``If-None-Match`` by the cache layer; GitHub's 304 costs
no budget.  Budget headers are read from live answers only (a cached
answer's are stale).

**Statuses** (:data:`RepoStatus`): ``live``; ``moved`` (GitHub answered 301
or the canonical ``full_name`` differs from the slug other than by case;
``new_url`` is ``https://github.com/{full_name}``); ``archived``;
``disabled``; ``missing`` (404/410); ``blocked`` (451, or a 403 with a
``block``); ``unreachable`` (timeouts, connection errors, 5xx after the
HTTP layer's retries, unexpected answers); ``rate-limited`` (not checked:
the budget is spent, or a secondary limit asked for a wait longer than
``max_wait``); ``not-checked`` (offline, and not in the cache).  A
repository is never ``missing`` because of a rate limit, a timeout or a
5xx: only a 404/410 from the API or the web page says so.  Secondary limits (403 or 429 with
``retry-after``, or a 403 whose message speaks of a rate limit) are waited
out when the wait is at most ``max_wait`` (429s by the HTTP layer, 403s
here) and reported otherwise.

**The token** is sent, as ``Authorization: Bearer``, only to the API's
origin (scheme, host and port of ``BIBTOOLS_GITHUB_API``); ``requests``
drops it on a redirect to another origin, the HTTP cache neither keys on
it nor stores it, and no message, warning or :class:`RepoInfo` contains it.

Environment (:meth:`GitHubClient.from_env`): ``BIBTOOLS_GITHUB_API``
(default ``https://api.github.com``), ``BIBTOOLS_GITHUB_WEB`` (default
``https://github.com``), ``GITHUB_TOKEN``.  Canonical URLs given out
(``url``, ``new_url``) are always ``https://github.com/...``, whatever the
web base used for checking.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from ..http import (
    HostPolicy,
    HttpClient,
    OfflineMiss,
    Reply,
    Unavailable,
    host_of,
    parse_retry_after,
)
from .base import as_int, base_url, one_line
from .base import json_or_none as _json

DEFAULT_API = "https://api.github.com"
DEFAULT_WEB = "https://github.com"
PUBLIC_WEB = "https://github.com"  # what records get, whatever web base was checked
API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"
EXPIRE_AFTER = 6 * 3600.0
MAX_BATCH = 50
MAX_WAIT = 300.0
SECONDARY_WAIT = 60.0  # GitHub's advice when a secondary limit names no wait
MAX_WEB_REDIRECTS = 5

RepoStatus = Literal[
    "live",
    "moved",
    "archived",
    "disabled",
    "missing",
    "blocked",
    "unreachable",
    "rate-limited",
    "not-checked",
]
# Statuses that are an answer about the repository (not "we could not ask").
DEFINITE: frozenset[str] = frozenset(
    {"live", "moved", "archived", "disabled", "missing", "blocked"}
)

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
# An SPDX short identifier (letters, digits, "." and "-"; "+" for "or later").
_SPDX = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,99}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

ProgressFn = Callable[[int, int], None]
"""``progress(done, total)``: repositories settled so far."""


@dataclass(slots=True)
class RepoInfo:
    """What is known about one repository after a check.

    ``via`` says what answered: ``rest``, ``graphql``, ``web`` (a page
    check: status only, no metadata) or ``""`` (nothing did).
    ``license`` is an SPDX id, empty when GitHub knows none or only
    ``NOASSERTION`` (then ``license_name`` is GitHub's name, e.g. "Other").
    """

    slug: str  # as asked
    status: RepoStatus
    http_status: int | None = None
    full_name: str = ""  # canonical owner/name, when known
    url: str = ""  # https://github.com/{full_name}
    new_url: str = ""  # moved only
    repo_id: int | None = None
    description: str = ""
    homepage: str = ""
    stars: int | None = None
    forks: int | None = None
    license: str = ""
    license_name: str = ""
    archived: bool = False
    disabled: bool = False
    fork: bool = False
    private: bool = False
    pushed_at: str = ""  # ISO 8601, "2024-09-12T10:47:45Z"
    via: str = ""
    from_cache: bool = False
    message: str = ""
    # Why a web-page check could still help ("budget", "not-found", "moved", "unavailable").
    web_check: str = field(default="", compare=False)

    @property
    def definite(self) -> bool:
        return self.status in DEFINITE

    @property
    def has_metadata(self) -> bool:
        return bool(self.full_name) and self.via in ("rest", "graphql")


@dataclass(slots=True)
class Budget:
    """One rate-limit window (``core`` for REST, ``graphql``) as the last live answer told it."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None  # epoch seconds

    def spent(self, reserve: int = 0) -> bool:
        return self.remaining is not None and self.remaining <= reserve


class GitHubClient:
    """Batched, budget-aware access to GitHub for repository checks (see the module docstring).

    ``reserve`` requests of each budget are left unspent (for other tools
    sharing the IP or token); ``max_wait`` bounds any wait for a limit;
    ``web_fallback=False`` reports ``rate-limited`` instead of asking the
    web page once the budget is spent.
    """

    name = "github"

    def __init__(
        self,
        http: HttpClient,
        *,
        api_url: str = DEFAULT_API,
        web_url: str = DEFAULT_WEB,
        token: str | None = None,
        batch_size: int = MAX_BATCH,
        reserve: int = 0,
        max_wait: float = MAX_WAIT,
        web_fallback: bool = True,
        expire_after: float | None = EXPIRE_AFTER,
        timeout: tuple[float, float] = (5.0, 15.0),
        retries: int = 3,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}")
        self.http = http
        self.api_url = api_url.rstrip("/")
        self.web_url = web_url.rstrip("/")
        self.graphql_url = _graphql_url(self.api_url)
        self._token = token or None
        self.batch_size = batch_size
        self.reserve = max(0, reserve)
        self.max_wait = max_wait
        self.web_fallback = web_fallback
        self.budgets: dict[str, Budget] = {"core": Budget(), "graphql": Budget()}
        self.counts: Counter[str] = Counter()  # rest/graphql/web x sent/cached, waits
        self.warnings: list[str] = []
        self._throttled = False  # a 403/429 made the HTTP layer give up on the API host
        web_host, api_host = host_of(self.web_url), host_of(self.api_url)
        # A repository's 404 is as stable an answer as its 200: a second run must not pay for it.
        stored = (200, 404, 410, 451)
        http.set_policy(
            web_host,
            HostPolicy(
                timeout=timeout,
                retries=2,
                expire_after=expire_after,
                fail_fast=False,
                cache_statuses=stored,
            ),
        )
        # Serial, as GitHub asks; a limit's wait longer than max_wait is reported, not sat out.
        http.set_policy(
            api_host,
            HostPolicy(
                timeout=timeout,
                retries=retries,
                max_retry_after=max_wait,
                expire_after=expire_after,
                cache_statuses=stored,
            ),
        )

    @classmethod
    def from_env(
        cls, http: HttpClient, env: Mapping[str, str] | None = None, **kwargs: Any
    ) -> GitHubClient:
        """``BIBTOOLS_GITHUB_API``, ``BIBTOOLS_GITHUB_WEB`` and ``GITHUB_TOKEN`` from ``env`` (default: os.environ)."""
        env = os.environ if env is None else env
        api = base_url(env, "BIBTOOLS_GITHUB_API", DEFAULT_API)
        web = base_url(env, "BIBTOOLS_GITHUB_WEB", DEFAULT_WEB)
        token = (env.get("GITHUB_TOKEN") or "").strip() or None
        return cls(http, api_url=api, web_url=web, token=token, **kwargs)

    def __repr__(self) -> str:
        # Never the token.
        auth = "token" if self._token else "no token"
        return f"GitHubClient({self.api_url!r}, {auth})"

    @property
    def authenticated(self) -> bool:
        return self._token is not None

    def web_page(self, slug: str) -> str:
        return f"{self.web_url}/{slug}"

    # -- the run -----------------------------------------------------------

    def check(
        self, slugs: Iterable[str], progress: ProgressFn | None = None
    ) -> dict[str, RepoInfo]:
        """One :class:`RepoInfo` per distinct slug (``owner/name``, compared case-insensitively).

        The result is keyed by the slugs as given (each spelling of a
        repository maps to the same answer).  Never raises for one
        repository's failure.
        """
        given = list(slugs)
        wanted: dict[str, str] = {}  # lower -> first spelling
        for slug in given:
            wanted.setdefault(slug.lower(), slug)
        settled: dict[str, RepoInfo] = {}
        total = len(wanted)

        def done(slug: str, info: RepoInfo) -> None:
            settled[slug.lower()] = info
            if progress:
                progress(len(settled), total)

        valid = []
        for slug in wanted.values():
            if _valid_slug(slug):
                valid.append(slug)
            else:
                done(
                    slug, RepoInfo(slug, "missing", message="not a possible GitHub repository name")
                )
        if self._token is not None:
            self._graphql_pass(valid, done)
        self._rest_pass([s for s in valid if s.lower() not in settled], done)
        if self.web_fallback:
            for key, info in list(settled.items()):
                if info.web_check:
                    settled[key] = self._web_pass(info)
        return {slug: settled[slug.lower()] for slug in given}

    # -- REST --------------------------------------------------------------

    def _rest_pass(self, slugs: Sequence[str], done: Callable[[str, RepoInfo], None]) -> None:
        for slug in slugs:
            done(slug, self.rest(slug))

    def rest(self, slug: str) -> RepoInfo:
        """``GET /repos/{slug}`` within the budget (the authority for moves)."""
        url = f"{self.api_url}/repos/{slug}"
        for attempt in range(3):
            if not self._may_spend("core"):
                return self._stale_or_spent(slug, url, "core")
            core = self.budgets["core"]
            # With one request left, a redirect could not be followed: stop at the 301.
            follow = core.remaining is None or core.remaining > self.reserve + 1
            try:
                reply = self.http.get(url, headers=self._headers(url), allow_redirects=follow)
            except OfflineMiss:
                return _offline(slug)
            except Unavailable as exc:
                return self._unavailable(slug, exc, "core")
            self._count("rest", reply)
            self._note_budget(reply, "core")
            if reply.status == 401 and self._drop_token(reply):
                continue
            limited = self._limit(reply)
            if limited == "primary":
                return self._stale_or_spent(slug, url, "core")
            if limited:
                wait = float(limited)
                if wait <= self.max_wait and attempt < 2:
                    self._wait(wait)
                    continue
                return _secondary(slug, reply.status, wait)
            info = self._from_rest(slug, reply)
            if info.http_status == 301 and follow and not reply.from_cache:
                self.counts["rest_redirects"] += 1  # the 301 was a request of its own
            return info
        return _secondary(slug, None, None)

    def _from_rest(self, slug: str, reply: Reply) -> RepoInfo:
        info = self._read_rest(slug, reply)
        info.from_cache = reply.from_cache
        return info

    def _read_rest(self, slug: str, reply: Reply) -> RepoInfo:
        status = reply.status
        if status == 200:
            body = _json(reply.content)
            if isinstance(body, dict) and "id" in body and _valid_slug(_rest_full_name(body)):
                return _info_from_rest(slug, body, reply.from_cache)
            self.http.evict(reply)
            # An error page or a broken body: the web page can still say whether it lives.
            return RepoInfo(
                slug, "unreachable", status, message=_unexpected(reply), web_check="unavailable"
            )
        if status in _REDIRECTS:
            # Not followed (budget): GitHub says it moved, the web page may say where.
            return RepoInfo(
                slug,
                "moved",
                status,
                via="rest",
                message="GitHub answered 301 (renamed or transferred)",
                web_check="moved",
            )
        message = _api_message(reply.content)
        if status in (404, 410):
            return RepoInfo(slug, "missing", status, via="rest", message=message or "Not Found")
        body = _json(reply.content)
        if status == 451 or (status == 403 and isinstance(body, dict) and "block" in body):
            return RepoInfo(slug, "blocked", status, via="rest", message=_block_message(body))
        return RepoInfo(
            slug, "unreachable", status, message=f"GitHub answered HTTP {status} {message}".strip()
        )

    # -- GraphQL -------------------------------------------------------------

    def _graphql_pass(self, slugs: Sequence[str], done: Callable[[str, RepoInfo], None]) -> None:
        # Sorted, so that the same set of repositories is the same queries (and cache keys).
        ordered = sorted(slugs, key=str.lower)
        for start in range(0, len(ordered), self.batch_size):
            batch = ordered[start : start + self.batch_size]
            answers = self._graphql_batch(batch)
            if answers is None:
                return  # the token was rejected: REST takes the rest
            for slug in batch:
                info = answers[slug]
                if info.status == "moved" and info.via == "graphql":
                    info = self._confirm_move(info)
                done(slug, info)

    def _graphql_batch(self, batch: Sequence[str]) -> dict[str, RepoInfo] | None:
        body = graphql_body(batch)
        for attempt in range(3):
            if not self._may_spend("graphql"):
                return self._graphql_spent(batch, body)
            try:
                reply = self.http.post(
                    self.graphql_url, data=body, headers=self._headers(self.graphql_url, json=True)
                )
            except OfflineMiss:
                return {s: _offline(s) for s in batch}
            except Unavailable as exc:
                return {s: self._unavailable(s, exc, "graphql") for s in batch}
            self._count("graphql", reply)
            self._note_budget(reply, "graphql")
            if reply.status == 401:
                self._drop_token(reply)
                return None
            limited = self._limit(reply)
            if limited == "primary":
                return self._graphql_spent(batch, body)
            if limited:
                wait = float(limited)
                if wait <= self.max_wait and attempt < 2:
                    self._wait(wait)
                    continue
                return {s: _secondary(s, reply.status, wait) for s in batch}
            return self._from_graphql(batch, reply)
        return {s: _secondary(s, None, None) for s in batch}

    def _graphql_spent(self, batch: Sequence[str], body: bytes) -> dict[str, RepoInfo]:
        try:
            reply = self.http.post(
                self.graphql_url,
                data=body,
                headers=self._headers(self.graphql_url, json=True),
                cache_only=True,
            )
        except (OfflineMiss, Unavailable):
            return {s: self._spent(s, "graphql") for s in batch}
        self._count("graphql", reply)
        return self._from_graphql(batch, reply)

    def _from_graphql(self, batch: Sequence[str], reply: Reply) -> dict[str, RepoInfo]:
        payload = _json(reply.content)
        if reply.status != 200 or not isinstance(payload, dict):
            self.http.evict(reply)
            return {
                s: RepoInfo(
                    s,
                    "unreachable",
                    reply.status,
                    message=_unexpected(reply),
                    web_check="unavailable",
                )
                for s in batch
            }
        data = payload.get("data")
        listed = payload.get("errors")
        errors = [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
        if not isinstance(data, dict) or not data:
            # The whole query failed: never keep that in the cache.
            self.http.evict(reply)
            if any(e.get("type") == "RATE_LIMITED" for e in errors):
                self.budgets["graphql"].remaining = 0
                return {s: self._spent(s, "graphql") for s in batch}
            why = one_line(errors[0].get("message"), 200) if errors else ""
            return {
                s: RepoInfo(s, "unreachable", 200, message=f"GitHub GraphQL error: {why}".strip())
                for s in batch
            }
        found = _errors_by_target(errors)
        out: dict[str, RepoInfo] = {}
        for i, slug in enumerate(batch):
            node = data.get(f"r{i}")
            if isinstance(node, dict) and _valid_slug(_str(node.get("nameWithOwner"))):
                out[slug] = _info_from_graphql(slug, node, reply.from_cache)
                continue
            if isinstance(node, dict) and node.get("nameWithOwner") is not None:
                # Validated as REST answers are: a name that is not owner/name is not a repository.
                self.http.evict(reply)
                out[slug] = RepoInfo(
                    slug,
                    "unreachable",
                    200,
                    message="GitHub GraphQL answered a repository name that is not owner/name",
                    web_check="unavailable",
                )
                continue
            error = found.get(f"r{i}") or found.get(slug.lower()) or {}
            message = one_line(error.get("message"), 200) or "GraphQL returned no repository"
            if error.get("type") == "NOT_FOUND":
                out[slug] = RepoInfo(
                    slug, "missing", 404, via="graphql", message=message, web_check="not-found"
                )
            else:
                # Not a "not found": the web page decides between live and missing.
                out[slug] = RepoInfo(
                    slug, "unreachable", 200, message=message, web_check="unavailable"
                )
        return out

    def _confirm_move(self, info: RepoInfo) -> RepoInfo:
        """REST is the authority for moves: ask it once; keep what we had if it cannot answer."""
        rest = self.rest(info.slug)
        if rest.definite and rest.web_check != "moved":
            return rest
        return replace(info, message=f"{info.message}; not confirmed by REST ({rest.message})")

    # -- the web page -------------------------------------------------------

    def _web_pass(self, info: RepoInfo) -> RepoInfo:
        """The API could not decide: what does ``{web}/{owner}/{name}`` say?"""
        seen: dict[str, None] = {}
        current = self.web_page(info.slug)
        first: int | None = None
        reply: Reply | None = None
        for _ in range(MAX_WEB_REDIRECTS + 1):
            seen[current] = None
            try:
                # A page, not the API: one that fails says nothing about the others.
                reply = self.http.request("HEAD", current, allow_redirects=False, fail_fast=False)
            except (OfflineMiss, Unavailable) as exc:
                return _with_web_note(info, f"the web page did not answer either ({exc})")
            self._count("web", reply)
            first = reply.status if first is None else first
            location = reply.headers.get("Location") or reply.headers.get("location") or ""
            if reply.status not in _REDIRECTS or not location:
                break
            target = urljoin(current, location).split("#", 1)[0]
            if not _same_origin(target, self.web_url) or target in seen:
                return _with_web_note(info, f"the web page redirects to {target}")
            current = target
        assert reply is not None
        status = reply.status
        if 200 <= status < 300:
            slug = _slug_of(current, self.web_url) or info.slug
            if not _valid_slug(slug):
                return _with_web_note(
                    info, "the web page redirects to a page that is no repository"
                )
            if slug.lower() != info.slug.lower():
                moved = RepoInfo(
                    info.slug,
                    "moved",
                    first,
                    full_name=slug,
                    url=f"{PUBLIC_WEB}/{slug}",
                    new_url=f"{PUBLIC_WEB}/{slug}",
                    via="web",
                    message=f"the web page redirects to {slug}",
                )
                return self._confirm_web_move(moved)
            return RepoInfo(
                info.slug,
                "live",
                status,
                full_name=info.full_name,
                url=f"{PUBLIC_WEB}/{info.slug}",
                via="web",
                message=f"checked on the web page only ({_reason(info)}): no stars or licence",
            )
        if status in (404, 410):
            return RepoInfo(
                info.slug,
                "missing",
                status,
                via="web",
                message=f"the web page answers {status} ({_reason(info)})",
            )
        if status == 451:
            return RepoInfo(
                info.slug, "blocked", status, via="web", message="the web page is blocked (451)"
            )
        return _with_web_note(info, f"the web page answered HTTP {status}")

    def _confirm_web_move(self, moved: RepoInfo) -> RepoInfo:
        if not self._may_spend("core", wait=False):
            return moved
        rest = self.rest(moved.slug)
        return rest if rest.definite and rest.web_check != "moved" else moved

    # -- budget, limits, token -----------------------------------------------

    def _headers(self, url: str, json: bool = False) -> dict[str, str]:
        headers = {"Accept": ACCEPT, "X-GitHub-Api-Version": API_VERSION}
        if json:
            headers["Content-Type"] = "application/json"
        if self._token is not None and _same_origin(url, self.api_url):
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _drop_token(self, reply: Reply) -> bool:
        if self._token is None:
            return False
        self._token = None
        why = _api_message(reply.content) or "rejected"
        self.warnings.append(
            f"GitHub did not accept GITHUB_TOKEN (HTTP 401: {why}); continuing without it"
        )
        return True

    def _note_budget(self, reply: Reply, resource: str) -> None:
        if reply.from_cache:
            return  # a cached answer's budget headers are history
        _update_budget(self.budgets, reply.headers, resource)

    def _limit(self, reply: Reply) -> str:
        """``""`` (no limit), ``"primary"`` (budget spent) or the secondary limit's wait in seconds."""
        if reply.status not in (403, 429):
            return ""
        headers = _lower(reply.headers)
        if headers.get("x-ratelimit-remaining", "").strip() == "0":
            return "primary"
        wait = parse_retry_after(headers.get("retry-after"), self.http.clock.time())
        if wait is not None:
            return str(wait)
        message = _api_message(reply.content).lower()
        if "rate limit" in message or "abuse" in message:
            return str(SECONDARY_WAIT)
        return ""

    def _may_spend(self, resource: str, wait: bool = True) -> bool:
        budget = self.budgets[resource]
        if not budget.spent(self.reserve):
            return True
        now = self.http.clock.time()
        if budget.reset is not None and budget.reset <= now:
            budget.remaining = None  # a new window
            return True
        if wait and budget.reset is not None and budget.reset - now <= self.max_wait:
            self._wait(budget.reset - now + 1)
            budget.remaining = None
            return True
        return False

    def _wait(self, seconds: float) -> None:
        self.counts["waited"] += round(seconds)
        self.http.clock.sleep(seconds)

    def _stale_or_spent(self, slug: str, url: str, resource: str) -> RepoInfo:
        """The budget is spent: an answer from the cache, however old, beats none."""
        try:
            reply = self.http.get(url, headers=self._headers(url), cache_only=True)
        except (OfflineMiss, Unavailable):
            return self._spent(slug, resource)
        self._count("rest", reply)
        info = self._from_rest(slug, reply)
        return replace(info, message=_join(info.message, "from the cache (API budget spent)"))

    def _spent(self, slug: str, resource: str) -> RepoInfo:
        return RepoInfo(
            slug, "rate-limited", message=self.spent_message(resource), web_check="budget"
        )

    def spent_message(self, resource: str = "core") -> str:
        """``not checked: the GitHub API budget is spent (60 an hour without a token); it resets in 38 min (14:05 UTC)``."""
        budget = self.budgets[resource]
        who = "with the token" if self._token else "without a token"
        limit = f"{budget.limit} an hour {who}" if budget.limit else who
        text = f"not checked: the GitHub API budget is spent ({limit})"
        if budget.reset is not None:
            text += f"; {self.reset_phrase(budget.reset)}"
        if not self._token:
            text += "; a GITHUB_TOKEN allows 5,000 an hour"
        return text

    def reset_phrase(self, reset: float) -> str:
        wait = max(0.0, reset - self.http.clock.time())
        clock = time.strftime("%H:%M", time.gmtime(reset))
        return f"it resets in {duration(wait)} ({clock} UTC)"

    @property
    def reset_at(self) -> float | None:
        """When the first spent budget comes back (epoch seconds), if one is spent."""
        resets = [b.reset for b in self.budgets.values() if b.spent(self.reserve) and b.reset]
        return min(resets) if resets else None

    def _unavailable(self, slug: str, exc: Unavailable, resource: str) -> RepoInfo:
        if exc.headers:
            _update_budget(self.budgets, exc.headers, resource)
        if exc.status in (403, 429):
            self._throttled = True
        if exc.status in (403, 429) or (exc.status is None and self._throttled):
            # The host is shut for the run because of a limit: later failures are the limit too.
            if self.budgets[resource].spent(self.reserve):
                return self._spent(slug, resource)
            return _secondary(slug, exc.status, None)
        return RepoInfo(slug, "unreachable", exc.status, message=str(exc), web_check="unavailable")

    def _count(self, kind: str, reply: Reply) -> None:
        self.counts[f"{kind}_{'cached' if reply.from_cache else 'sent'}"] += 1


# --------------------------------------------------------------------------
# GraphQL query

_FIELDS = (
    "databaseId nameWithOwner url description homepageUrl stargazerCount forkCount "
    "isArchived isDisabled isFork isPrivate pushedAt licenseInfo { spdxId name }"
)


def graphql_body(slugs: Sequence[str]) -> bytes:
    """The POST body asking for ``slugs`` as aliases ``r0``.. (owners and names as variables)."""
    params = ", ".join(f"$o{i}: String!, $n{i}: String!" for i in range(len(slugs)))
    fields = " ".join(
        f"r{i}: repository(owner: $o{i}, name: $n{i}) {{ ...R }}" for i in range(len(slugs))
    )
    query = (
        f"query({params}) {{ {fields} rateLimit {{ cost remaining resetAt }} }} "
        f"fragment R on Repository {{ {_FIELDS} }}"
    )
    variables: dict[str, str] = {}
    for i, slug in enumerate(slugs):
        owner, name = slug.split("/", 1)
        variables[f"o{i}"], variables[f"n{i}"] = owner, name
    return json.dumps(
        {"query": query, "variables": variables}, separators=(",", ":"), sort_keys=True
    ).encode()


# --------------------------------------------------------------------------
# Answers to RepoInfo


def _info_from_rest(slug: str, body: Mapping[str, Any], from_cache: bool) -> RepoInfo:
    license_ = _mapping(body.get("license"))
    stars = body.get("stargazers_count", body.get("watchers"))
    return _settle(
        RepoInfo(
            slug,
            "live",
            200,
            full_name=_rest_full_name(body),
            repo_id=_int(body.get("id")),
            description=one_line(body.get("description")),
            homepage=one_line(body.get("homepage")),
            stars=_int(stars),
            forks=_int(body.get("forks_count", body.get("forks"))),
            license=_spdx(license_.get("spdx_id")),
            license_name=one_line(license_.get("name"), 200),
            archived=body.get("archived") is True,
            disabled=body.get("disabled") is True,
            fork=body.get("fork") is True,
            private=body.get("private") is True,
            pushed_at=_timestamp(body.get("pushed_at")),
            via="rest",
            from_cache=from_cache,
        )
    )


def _info_from_graphql(slug: str, node: Mapping[str, Any], from_cache: bool) -> RepoInfo:
    license_ = _mapping(node.get("licenseInfo"))
    return _settle(
        RepoInfo(
            slug,
            "live",
            200,
            full_name=_str(node.get("nameWithOwner")),
            repo_id=_int(node.get("databaseId")),
            description=one_line(node.get("description")),
            homepage=one_line(node.get("homepageUrl")),
            stars=_int(node.get("stargazerCount")),
            forks=_int(node.get("forkCount")),
            license=_spdx(license_.get("spdxId")),
            license_name=one_line(license_.get("name"), 200),
            archived=node.get("isArchived") is True,
            disabled=node.get("isDisabled") is True,
            fork=node.get("isFork") is True,
            private=node.get("isPrivate") is True,
            pushed_at=_timestamp(node.get("pushedAt")),
            via="graphql",
            from_cache=from_cache,
        )
    )


def _settle(info: RepoInfo) -> RepoInfo:
    """The status from the flags; a disabled repository fails whatever else is true."""
    info.url = f"{PUBLIC_WEB}/{info.full_name}"
    moved = info.full_name.lower() != info.slug.lower()
    notes = []
    if moved:
        info.new_url = info.url
        info.http_status = 301
        notes.append(f"renamed or transferred to {info.full_name}")
    if info.archived:
        notes.append("archived (read-only)")
    if info.disabled:
        notes.append("disabled by GitHub")
    info.status = (
        "disabled"
        if info.disabled
        else "moved"
        if moved
        else "archived"
        if info.archived
        else "live"
    )
    info.message = "; ".join(notes)
    return info


def _rest_full_name(body: Mapping[str, Any]) -> str:
    full = body.get("full_name")
    if isinstance(full, str) and "/" in full:
        return full
    # 2012-era answers had no full_name.
    owner = body.get("owner")
    login = owner.get("login") if isinstance(owner, dict) else None
    name = body.get("name")
    if isinstance(login, str) and isinstance(name, str) and login and name:
        return f"{login}/{name}"
    return ""


def _offline(slug: str) -> RepoInfo:
    return RepoInfo(slug, "not-checked", message="not checked: offline and not in the cache")


def _secondary(slug: str, status: int | None, wait: float | None) -> RepoInfo:
    text = "not checked: GitHub's secondary rate limit"
    if wait is not None:
        text += f" asked to wait {duration(wait)}"
    return RepoInfo(slug, "rate-limited", status, message=text, web_check="budget")


def _with_web_note(info: RepoInfo, note: str) -> RepoInfo:
    return replace(info, message=_join(info.message, note), web_check="")


def _reason(info: RepoInfo) -> str:
    return {
        "budget": "API budget spent",
        "not-found": "GraphQL found no repository",
        "moved": "API budget spent",
        "unavailable": "the API did not answer",
    }.get(info.web_check, "API not asked")


_RESOLVE = re.compile(r"with the name '([^']+)'")


def _errors_by_target(errors: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """GraphQL errors by alias (``path``) and, failing that, by the ``owner/name`` they quote."""
    out: dict[str, Mapping[str, Any]] = {}
    for error in errors:
        path = error.get("path")
        if isinstance(path, list) and path:
            out.setdefault(str(path[0]), error)
        m = _RESOLVE.search(str(error.get("message", "")))
        if m:
            out.setdefault(m.group(1).lower(), error)
    return out


def _update_budget(budgets: dict[str, Budget], headers: Mapping[str, str], default: str) -> None:
    h = _lower(headers)
    remaining = _int(h.get("x-ratelimit-remaining"))
    if remaining is None:
        return
    resource = h.get("x-ratelimit-resource", "").strip() or default
    budget = budgets.setdefault(resource, Budget())
    budget.remaining = remaining
    budget.limit = _int(h.get("x-ratelimit-limit")) or budget.limit
    reset = _int(h.get("x-ratelimit-reset"))
    # A reset past year 2286 is nonsense that time.gmtime cannot even show.
    if reset is not None and reset < 10**10:
        budget.reset = float(reset)


# --------------------------------------------------------------------------
# Small helpers


def duration(seconds: float) -> str:
    """``45 s``, ``38 min``, ``2 h 05 min``."""
    whole = max(0, round(seconds))
    if whole < 90:
        return f"{whole} s"
    minutes = (whole + 59) // 60
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _valid_slug(slug: str) -> bool:
    parts = slug.split("/")
    return len(parts) == 2 and all(_NAME.fullmatch(p) and p not in (".", "..") for p in parts)


def _graphql_url(api: str) -> str:
    # GitHub Enterprise serves REST under /api/v3 and GraphQL under /api/graphql.
    if api.endswith("/api/v3"):
        return api[: -len("v3")] + "graphql"
    return f"{api}/graphql"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _same_origin(url: str, base: str) -> bool:
    return _origin(url) == _origin(base)


def _slug_of(url: str, base: str) -> str:
    prefix = urlsplit(base).path.rstrip("/")
    path = urlsplit(url).path
    if prefix and path.startswith(prefix):
        path = path[len(prefix) :]
    segments = [s for s in path.split("/") if s]
    return f"{segments[0]}/{segments[1]}" if len(segments) >= 2 else ""


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _api_message(content: bytes) -> str:
    body = _json(content)
    if isinstance(body, dict):
        return one_line(body.get("message"), 200)
    return ""


def _block_message(body: Any) -> str:
    reason = ""
    if isinstance(body, dict) and isinstance(body.get("block"), dict):
        reason = one_line(body["block"].get("reason"), 100)
    return f"access blocked ({reason})" if reason else "access blocked"


def _unexpected(reply: Reply) -> str:
    return f"GitHub answered something that is not a repository (HTTP {reply.status})"


def _spdx(value: Any) -> str:
    """An SPDX licence id (``MIT``, ``Apache-2.0``, ``LicenseRef-x``), or ``""`` for anything else."""
    if isinstance(value, str) and _SPDX.fullmatch(value) and value != "NOASSERTION":
        return value
    return ""


def _timestamp(value: Any) -> str:
    """GitHub's ``2024-05-01T12:00:00Z``, or ``""`` for anything else."""
    text = _str(value)
    return text if _TIMESTAMP.fullmatch(text) else ""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


_int = as_int


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)
