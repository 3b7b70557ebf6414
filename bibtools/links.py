"""Links in records: find them, check them, report them, and fill records from GitHub.

**Finding** (:func:`find_links`, pure): URLs in ``code_links``, ``url``,
``howpublished`` (``Record.extra`` of BibTeX records, LaTeX decoded), the
abstract, the note and the arXiv comment, found with
:func:`bibtools.text.urls.find_urls` (sentence punctuation trimmed, balanced
parentheses kept), without fragments, ``.git`` or repeats within a record.
Links into a code host (:func:`bibtools.text.urls.repository`: GitHub, GitLab
with subgroups, Bitbucket, Codeberg, Hugging Face models/datasets/spaces,
SourceForge; ``/tree/main/src`` belongs to its repository) are repository
links; every other URL is a plain link.  Only valid http(s) URLs are
fetched; other schemes and invalid URLs (a port of 99999) are listed in
:attr:`LinkReport.skipped`.

**Checking** (:func:`check_links`): every distinct target is checked once,
however many records cite it.  GitHub repositories go to
:class:`bibtools.sources.github.GitHubClient` (REST or GraphQL within the
budget, cache, web fallback: see that module).  Other repositories (their
root page) and plain links are probed with :func:`probe`: ``HEAD``, then
``GET`` (with ``Range: bytes=0-0``) when ``HEAD`` is refused or denied
(403, 404, 405, 410, 501: many servers mishandle ``HEAD``, so a link is
never missing on its word alone); redirects followed by hand, at most ``max_redirects`` (10), loops
detected, the final URL reported; at most ``per_host`` (4) requests in
flight per host and ``overall`` (16) in all, on threads.  The HTTP layer
retries timeouts, connection errors and 5xx (``retries`` times) and caches
200 answers for ``expire_after`` (1 h).  A failure is remembered per
origin (scheme, host, port) and only when no connection could be made:
a page answering 500 says nothing about the other pages of its site, nor
about another port of the same host.

**Statuses** (:class:`LinkStatus`, the JSON ``status``): ``live``; ``moved``
(GitHub answered 301 or names the repository differently; for other links,
permanent redirects (301/308) that lead somewhere materially different,
or a repository page that redirects to another repository: ``new_url``
says where); ``archived``; ``disabled``; ``missing`` (404/410; a code-host
page that redirects to a login page); ``blocked`` (451); ``unreachable``
(timeouts, DNS and connection errors, 5xx after retries, 401/403 to both
HEAD and GET, redirect loops or too many redirects); ``rate-limited`` (not
checked: a budget ran out, or the site answered 429 after retries);
``not-checked`` (offline and not in the cache: it says nothing about the
link, and is not a failure by default); ``announced-no-link`` (the record's source
announced code, ``Record.code_announced``, and no link was found).  A link
is never ``missing`` because of a timeout, a 5xx or a rate limit.

**Output**: :class:`LinkReport` (rows in record order, then link order),
rendered by the pure functions :func:`render_json`, :func:`render_markdown`
and :func:`render_table` (rich); :func:`exit_status` applies ``--fail-on``
(:func:`parse_fail_on`; default :data:`DEFAULT_FAIL_ON`).  A CLI uses it
like this::

    http = HttpClient.from_env(cache_dir=opt_cache_dir, offline=opt_offline, refresh=opt_refresh)
    report = check_links(records, http=http, progress=bar_update)   # records with keys assigned
    out.write(render_json(report) if fmt == "json" else render_markdown(report))
    # or rich.console.Console().print(render_table(report)) on a terminal
    print(report.summary(), file=sys.stderr)
    exit_code = exit_status(report, parse_fail_on(opt_fail_on) if opt_fail_on else DEFAULT_FAIL_ON)

and ``enrich --sources github`` like this::

    report = check_links(records, http=http, only_github=True)
    records, changes = enrich_github(records, report)

:func:`enrich_github` fills, on the code links into each record's first
GitHub repository with metadata, the :class:`~bibtools.model.CodeLink`
fields ``stars``, ``license`` (SPDX id), ``description``, ``archived`` and
``pushed`` (date of the last push); a moved repository's links in ``code_links`` are rewritten to the
new URL (sub-path kept), and repositories found elsewhere in the record are
added to ``code_links`` under their canonical URL.  ``url`` is never
rewritten: a moved repository there is reported as a refused change.
Every change is a :class:`bibtools.changes.Change` (source ``github``).
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from .changes import Change
from .diagnostics import UsageError
from .http import HostPolicy, HttpClient, HttpError, Unavailable, host_of, stats_delta
from .model import CodeLink, Record
from .text.markup import from_latex
from .text.urls import Repository, find_urls, repository, trim_url

if TYPE_CHECKING:
    from rich.table import Table

    from .http import HostStats, HttpClient, Reply
    from .sources.github import GitHubClient, RepoInfo


class LinkStatus(StrEnum):
    LIVE = "live"
    MOVED = "moved"
    ARCHIVED = "archived"
    DISABLED = "disabled"
    MISSING = "missing"
    BLOCKED = "blocked"
    UNREACHABLE = "unreachable"
    RATE_LIMITED = "rate-limited"
    NOT_CHECKED = "not-checked"
    ANNOUNCED_NO_LINK = "announced-no-link"


DEFAULT_FAIL_ON = frozenset(
    {LinkStatus.MISSING, LinkStatus.BLOCKED, LinkStatus.DISABLED, LinkStatus.UNREACHABLE}
)
KIND_LINK = "link"  # a plain link
KIND_ANNOUNCED = "announced"  # the row of an announced-no-link record
ProgressFn = Callable[[int, int, str], None]
"""``progress(done, total, description)``: distinct targets checked so far (called from
worker threads too, one call at a time)."""

# Where links are looked for, in this order (the first mention of a target names it).
FIELDS = ("code_links", "url", "howpublished", "abstract", "note", "arxiv_comment")
# HEAD answers that GET may contradict: servers that refuse or mishandle HEAD are
# common, and a link is not called missing on the word of a HEAD alone.
_REFUSED_HEAD = frozenset({403, 404, 405, 410, 501})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_LOGIN = re.compile(r"/(users/)?(sign_in|login|signin)\b", re.IGNORECASE)
_BARE_HOST = re.compile(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}/")
# LaTeX escapes of URL characters, left as written inside \url{} and \href{}.
_URL_ESCAPE = re.compile(r"\\([_%#&~$])")


# --------------------------------------------------------------------------
# Finding


@dataclass(frozen=True, slots=True)
class FoundLink:
    """One link of one record: ``url`` as found (cleaned), ``origin`` the field it came from."""

    index: int  # the record's position
    record: str  # its key, or "#N"
    url: str
    origin: str
    repo: Repository | None = None

    @property
    def kind(self) -> str:
        """``github``, ``gitlab``, ..., ``huggingface-dataset``, or ``link``."""
        if self.repo is None:
            return KIND_LINK
        if self.repo.host == "huggingface":
            return f"huggingface-{self.repo.kind}"
        return self.repo.host

    @property
    def target(self) -> tuple[str, ...]:
        """What is checked: the same target in several records is checked once."""
        if self.repo is None:
            return ("link", _url_key(self.url))
        repo = self.repo
        # Hugging Face names are case-sensitive; the other hosts' are not.
        fold = (lambda s: s) if repo.host == "huggingface" else str.lower
        return ("repo", repo.host, repo.kind, fold(repo.owner), fold(repo.name))


@dataclass(frozen=True, slots=True)
class Skipped:
    record: str
    url: str
    origin: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {
            "record": self.record,
            "url": self.url,
            "origin": self.origin,
            "reason": self.reason,
        }


def record_key(record: Record, index: int) -> str:
    return record.key or f"#{index + 1}"


def find_links(records: Sequence[Record]) -> tuple[list[FoundLink], list[Skipped]]:
    """Every link of every record (in record order, then :data:`FIELDS` order), and what was skipped."""
    found: list[FoundLink] = []
    skipped: list[Skipped] = []
    for index, record in enumerate(records):
        key = record_key(record, index)
        seen: set[tuple[str, ...]] = set()
        for origin, raw in _candidates(record):
            url = clean_url(raw)
            problem = _url_problem(url)
            if problem:
                skipped.append(Skipped(key, raw, origin, problem))
                continue
            link = FoundLink(index, key, url, origin, repository(url))
            if link.target not in seen:
                seen.add(link.target)
                found.append(link)
    return found, skipped


def _candidates(record: Record) -> Iterable[tuple[str, str]]:
    """(origin, raw URL) for each URL-ish value of the record."""
    for link in record.code_links:
        yield from _field_value("code_links", link.url)
    yield from _field_value("url", record.url)
    if record.extra_format == "bibtex":
        for name, value in record.extra.items():
            if str(name).lower() == "howpublished" and isinstance(value, str):
                for url in _urls_in(from_latex(value)):
                    yield "howpublished", url
    for origin, text in (
        ("abstract", record.abstract),
        ("note", record.note),
        ("arxiv_comment", record.arxiv_comment),
    ):
        # Markup keeps \url{...} and \href{...}{...} as written: their braces end the URL.
        for url in _urls_in(text):
            yield origin, url


def _urls_in(text: str) -> list[str]:
    return find_urls(_URL_ESCAPE.sub(r"\1", text))


def _field_value(origin: str, value: str) -> Iterable[tuple[str, str]]:
    value = value.strip()
    if not value:
        return
    urls = find_urls(value)
    if urls:
        for url in urls:
            yield origin, url
    elif _BARE_HOST.match(value):
        yield origin, "https://" + value
    else:
        yield origin, value  # not http(s): skipped, and said so


def clean_url(url: str) -> str:
    """Sentence punctuation, the fragment and a repository's ``.git`` removed."""
    url = trim_url(url.strip()).split("#", 1)[0]
    if url.lower().endswith(".git") and repository(url) is not None:
        url = url[:-4]
    return url


def _url_problem(url: str) -> str:
    """Why ``url`` is not checked (``""``: it is): not http(s), or not a valid URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a port of 99999, "http://[::1"
        return f"not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return "only http(s) URLs are checked"
    if not parts.hostname or port == 0 or any(ord(c) < 32 or ord(c) == 127 for c in url):
        return "not a valid URL"
    return ""


def _url_key(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and port != {"http": 80, "https": 443}.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", parts.query, ""))


# --------------------------------------------------------------------------
# Results


@dataclass(slots=True)
class LinkResult:
    """One row of the report: one link of one record (or one announced-no-link record)."""

    record: str
    url: str
    kind: str
    status: LinkStatus
    http_status: int | None = None
    final_url: str = ""
    new_url: str = ""
    stars: int | None = None
    license: str = ""
    pushed_at: str = ""
    message: str = ""
    origin: str = ""  # the field the link was found in
    index: int = field(default=-1, compare=False)  # the record's position
    repo: RepoInfo | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "url": self.url,
            "kind": self.kind,
            "status": self.status.value,
            "http_status": self.http_status,
            "final_url": self.final_url or None,
            "new_url": self.new_url or None,
            "stars": self.stars,
            "license": self.license or None,
            "pushed_at": self.pushed_at or None,
            "message": self.message,
            "origin": self.origin,
        }


@dataclass(slots=True)
class LinkReport:
    results: list[LinkResult]
    skipped: list[Skipped] = field(default_factory=list)
    stats: dict[str, HostStats] = field(default_factory=dict)  # this run's HTTP counters
    warnings: list[str] = field(default_factory=list)
    github: dict[str, int] = field(default_factory=dict)  # GitHub requests by kind
    github_api_host: str = ""
    reset_message: str = ""  # "it resets in 38 min (14:05 UTC)" when a GitHub budget is spent
    targets: int = 0  # distinct targets checked

    def counts(self) -> Counter[LinkStatus]:
        return Counter(r.status for r in self.results)

    def failing(self, fail_on: Collection[LinkStatus] = DEFAULT_FAIL_ON) -> list[LinkResult]:
        return [r for r in self.results if r.status in fail_on]

    @property
    def api_requests(self) -> int:
        """HTTP requests to the GitHub API over the network (followed 301s and 304s included)."""
        return (
            self.github.get("rest_sent", 0)
            + self.github.get("rest_redirects", 0)
            + self.github.get("graphql_sent", 0)
        )

    def summary(self) -> str:
        """``84 links: 61 live, 6 moved, 4 missing; GitHub API: 60 requests ...; 31 other requests, 12 from cache``."""
        counts = self.counts()
        announced = counts.pop(LinkStatus.ANNOUNCED_NO_LINK, 0)
        links = sum(counts.values())
        parts = [f"{counts[s]} {s.value}" for s in LinkStatus if counts[s]]
        text = f"{links} {'link' if links == 1 else 'links'}"
        if parts:
            text += ": " + ", ".join(parts)
        if announced:
            text += f"; {announced} announced code without a link"
        if self.skipped:
            # Not http(s), or not a valid URL (a port of 99999): not checked, and said so.
            text += f"; {len(self.skipped)} skipped ({_skip_reasons(self.skipped)})"
        if self.github:
            text += f"; GitHub API: {self.api_requests} requests"
            if self.reset_message:
                text += f" (budget spent, {self.reset_message})"
        other = sum(s.sent for h, s in self.stats.items() if h != self.github_api_host)
        cached = sum(s.from_cache for s in self.stats.values())
        return f"{text}; {other} other requests, {cached} from cache"

    def to_json(self) -> dict[str, Any]:
        """The report as JSON data: deterministic for the same records and answers."""
        counts = self.counts()
        return {
            "summary": {"links": len(self.results), **{s.value: counts[s] for s in LinkStatus}},
            "links": [r.as_dict() for r in self.results],
            "skipped": [s.as_dict() for s in self.skipped],
            "warnings": list(self.warnings),
        }


def _skip_reasons(skipped: Sequence[Skipped]) -> str:
    reasons = Counter(
        "not http(s)" if s.reason.startswith("only") else "not a valid URL" for s in skipped
    )
    if len(reasons) == 1:
        return next(iter(reasons))
    return ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))


# --------------------------------------------------------------------------
# Checking plain links


@dataclass(frozen=True, slots=True)
class Probe:
    status: LinkStatus
    http_status: int | None = None
    final_url: str = ""  # where the redirects ended, when they did not end where they began
    new_url: str = ""  # moved only
    message: str = ""


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """How plain links and non-GitHub repositories are checked.

    ``hosts`` maps a code host's domain to another base URL to ask instead
    (a mirror, or a test server): ``{"gitlab.com": "http://127.0.0.1:8080"}``;
    answers are reported under the real domain.
    """

    per_host: int = 4
    overall: int = 16
    max_redirects: int = 10
    timeout: tuple[float, float] = (5.0, 15.0)
    retries: int = 2
    expire_after: float | None = 3600.0
    hosts: Mapping[str, str] = field(default_factory=dict)


def probe(http: HttpClient, url: str, options: LinkOptions | None = None) -> Probe:
    """Where does ``url`` lead, and does it answer there?  Never raises."""
    try:
        return _probe(http, url, options or LinkOptions())
    except Exception as exc:  # an unusable URL (bad port, IDNA): a verdict, not a crash
        return Probe(LinkStatus.UNREACHABLE, message=f"cannot be fetched ({type(exc).__name__})")


def _probe(http: HttpClient, url: str, options: LinkOptions) -> Probe:

    chain = [url]
    current, method = url, "HEAD"
    permanent_to = ""  # where the unbroken run of permanent redirects from the start ends
    permanent = True
    while True:
        problem = _url_problem(current)
        if problem:
            what = "a URL that is not http(s)" if problem.startswith("only") else "an invalid URL"
            return Probe(LinkStatus.UNREACHABLE, None, current, message=f"redirects to {what}")
        _ensure_policy(http, current, options)
        headers = {"Range": "bytes=0-0"} if method == "GET" else {}
        try:
            # A page that fails says nothing about its neighbours: the HTTP layer
            # remembers only an origin that could not be connected to.
            reply = http.request(
                method, current, headers=headers, allow_redirects=False, fail_fast=False
            )
        except Unavailable as exc:
            status = LinkStatus.RATE_LIMITED if exc.status == 429 else LinkStatus.UNREACHABLE
            return Probe(status, exc.status, _final(url, current), message=str(exc))
        except HttpError:  # OfflineMiss
            return Probe(
                LinkStatus.NOT_CHECKED, None, message="not checked: offline and not in the cache"
            )
        if method == "HEAD" and reply.status in _REFUSED_HEAD:
            method = "GET"
            continue
        if reply.status in _REDIRECTS:
            location = _header(reply, "location")
            if not location:
                return Probe(
                    LinkStatus.UNREACHABLE,
                    reply.status,
                    _final(url, current),
                    message=f"HTTP {reply.status} without a Location",
                )
            try:
                target = urljoin(current, location.strip()).split("#", 1)[0]
            except ValueError:  # "http://[::1"
                target = location
            if target in chain:
                loop = " -> ".join([*chain[chain.index(target) :], target])
                return Probe(
                    LinkStatus.UNREACHABLE,
                    reply.status,
                    _final(url, current),
                    message=f"redirect loop: {loop}",
                )
            if len(chain) > options.max_redirects:
                return Probe(
                    LinkStatus.UNREACHABLE,
                    reply.status,
                    _final(url, current),
                    message=f"more than {options.max_redirects} redirects",
                )
            permanent = permanent and reply.status in _PERMANENT
            if permanent:
                permanent_to = target
            chain.append(target)
            current = target
            continue
        return _verdict(reply, url, current, len(chain) - 1, permanent_to)


def _verdict(reply: Reply, url: str, final: str, hops: int, permanent_to: str) -> Probe:
    status = reply.status
    final_url = _final(url, final)
    redirected = f"redirected {hops} time{'s' if hops > 1 else ''}" if hops else ""
    if 200 <= status < 300 or status in (304, 416):
        if permanent_to and not _same_place(url, permanent_to):
            note = f"permanently redirected to {permanent_to}"
            return Probe(LinkStatus.MOVED, status, final_url, permanent_to, note)
        return Probe(LinkStatus.LIVE, status, final_url, message=redirected)
    if status in (404, 410):
        return Probe(
            LinkStatus.MISSING, status, final_url, message=_join(f"HTTP {status}", redirected)
        )
    if status == 451:
        return Probe(
            LinkStatus.BLOCKED, status, final_url, message="unavailable for legal reasons (451)"
        )
    if status == 429:
        return Probe(
            LinkStatus.RATE_LIMITED, status, final_url, message="the site is rate limiting"
        )
    if status in (401, 403):
        return Probe(
            LinkStatus.UNREACHABLE, status, final_url, message=f"access refused (HTTP {status})"
        )
    return Probe(LinkStatus.UNREACHABLE, status, final_url, message=f"HTTP {status}")


def _final(url: str, current: str) -> str:
    return current if current != url else ""


def _same_place(a: str, b: str) -> bool:
    """Equal but for http/https, ``www.``, the port and a trailing slash (not worth calling a move)."""

    def norm(u: str) -> tuple[str, str, str]:
        p = urlsplit(u)
        host = (p.hostname or "").lower().removeprefix("www.")
        return host, p.path.rstrip("/"), p.query

    return norm(a) == norm(b)


def _header(reply: Reply, name: str) -> str:
    return next((v for k, v in reply.headers.items() if k.lower() == name), "")


def _ensure_policy(http: HttpClient, url: str, options: LinkOptions) -> None:
    """Give a host nobody configured the link checker's policy (several at once, no fail-fast)."""

    host = host_of(url)
    if http.policy_for(host) is http.default_policy:
        http.set_policy(
            host,
            HostPolicy(
                timeout=options.timeout,
                retries=options.retries,
                backoff_cap=30.0,
                expire_after=options.expire_after,
                concurrency=options.per_host,
                fail_fast=False,
            ),
        )


def _width(http: HttpClient, url: str, options: LinkOptions) -> int:

    policy = http.policy_for(host_of(url))
    width = policy.concurrency if policy.min_interval <= 0 else 1
    return max(1, min(options.per_host, width))


def probe_all(
    http: HttpClient,
    urls: Mapping[tuple[str, ...], str],
    options: LinkOptions | None = None,
    progress: Callable[[], None] | None = None,
) -> dict[tuple[str, ...], Probe]:
    """:func:`probe` every URL on threads: at most ``per_host`` per host, ``overall`` in all."""

    options = options or LinkOptions()
    queues: dict[str, deque[tuple[tuple[str, ...], str]]] = defaultdict(deque)
    for key, url in urls.items():
        _ensure_policy(http, url, options)
        queues[host_of(url)].append((key, url))
    width = {host: _width(http, q[0][1], options) for host, q in queues.items()}
    active: Counter[str] = Counter()
    results: dict[tuple[str, ...], Probe] = {}
    overall = max(1, options.overall)
    with ThreadPoolExecutor(max_workers=overall, thread_name_prefix="bibtools-links") as pool:
        running: dict[Future[Probe], tuple[str, tuple[str, ...]]] = {}

        def fill() -> None:
            for host, queue in queues.items():
                while queue and active[host] < width[host] and len(running) < overall:
                    key, url = queue.popleft()
                    active[host] += 1
                    running[pool.submit(probe, http, url, options)] = (host, key)

        fill()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                host, key = running.pop(future)
                active[host] -= 1
                results[key] = future.result()
                if progress:
                    progress()
            fill()
    return results


# --------------------------------------------------------------------------
# The run


def check_links(
    records: Sequence[Record],
    *,
    http: HttpClient | None = None,
    env: Mapping[str, str] | None = None,
    options: LinkOptions | None = None,
    github: GitHubClient | None = None,
    only_github: bool = False,
    progress: ProgressFn | None = None,
) -> LinkReport:
    """Find and check the links of ``records``; see the module docstring.

    ``http`` carries cache/offline/refresh (default: :meth:`HttpClient.from_env`,
    closed at the end); ``env`` replaces ``os.environ`` for the
    ``BIBTOOLS_GITHUB_*``/``GITHUB_TOKEN`` variables; ``github`` replaces the
    client built from them.  ``only_github`` checks GitHub repositories and
    nothing else (for ``enrich --sources github``).  Records should have
    their keys assigned (rows name them).
    """
    from .sources.github import GitHubClient

    options = options or LinkOptions()
    own = http is None
    client = http if http is not None else HttpClient.from_env(env)
    try:
        gh = github or GitHubClient.from_env(client, env)
        before = client.snapshot()
        found, skipped = find_links(records)
        if only_github:
            found = [f for f in found if f.kind == "github"]
        slugs: dict[tuple[str, ...], str] = {}
        others: dict[tuple[str, ...], str] = {}
        for f in found:
            if f.repo is not None and f.repo.host == "github":
                slugs.setdefault(f.target, f.repo.slug)
            else:
                others.setdefault(f.target, _probe_url(f, options))
        total = len(slugs) + len(others)
        done = [0]
        ticking = threading.Lock()

        def tick(description: str) -> None:
            with ticking:
                done[0] += 1
                if progress:
                    progress(done[0], total, description)

        if progress:
            progress(0, total, "checking links")
        # Plain links run on the pool while GitHub, serial as it asks, runs here.
        with ThreadPoolExecutor(max_workers=1) as runner:
            pending = runner.submit(probe_all, client, others, options, lambda: tick("links"))
            infos = gh.check(slugs.values(), lambda _d, _t: tick("GitHub")) if slugs else {}
            probes = pending.result()
        stats = stats_delta(client.snapshot(), before)
        warnings = [*client.warnings, *gh.warnings]
        reset = gh.reset_at
    finally:
        if own:
            client.close()
    results: list[LinkResult] = []
    by_record: dict[int, list[FoundLink]] = defaultdict(list)
    for link in found:
        by_record[link.index].append(link)
    for index, record in enumerate(records):
        for link in by_record.get(index, []):
            if link.target in slugs:
                results.append(_github_row(link, infos[slugs[link.target]]))
            else:
                results.append(_probe_row(link, _unmapped(probes[link.target], options)))
        if record.code_announced and not by_record.get(index) and not only_github:
            results.append(
                LinkResult(
                    record_key(record, index),
                    "",
                    KIND_ANNOUNCED,
                    LinkStatus.ANNOUNCED_NO_LINK,
                    message="the source announced code, but the record has no link",
                    index=index,
                )
            )
    return LinkReport(
        results,
        skipped,
        stats,
        warnings,
        dict(sorted(gh.counts.items())),
        host_of(gh.api_url),
        gh.reset_phrase(reset) if reset is not None else "",
        total,
    )


def _probe_url(link: FoundLink, options: LinkOptions) -> str:
    if link.repo is None:
        return link.url
    url = link.repo.url
    parts = urlsplit(url)
    base = options.hosts.get(parts.hostname or "")
    return base.rstrip("/") + parts.path if base else url


def _unmapped(found: Probe, options: LinkOptions) -> Probe:
    """A probe of a mapped code host, reported under the host's real domain."""

    def back(url: str) -> str:
        for domain, base in options.hosts.items():
            base = base.rstrip("/")
            if url == base or url.startswith(base + "/"):
                return f"https://{domain}{url[len(base) :]}"
        return url

    if not options.hosts:
        return found
    return replace(found, final_url=back(found.final_url), new_url=back(found.new_url))


def _github_row(link: FoundLink, info: RepoInfo) -> LinkResult:
    return LinkResult(
        link.record,
        link.url,
        link.kind,
        LinkStatus(info.status),
        info.http_status,
        info.new_url,
        info.new_url,
        info.stars,
        info.license or info.license_name,
        info.pushed_at,
        info.message,
        link.origin,
        link.index,
        info,
    )


def _probe_row(link: FoundLink, found: Probe) -> LinkResult:
    status, new_url, message = found.status, found.new_url, found.message
    if link.repo is not None:
        status, new_url, message = _repository_verdict(link.repo, found)
    return LinkResult(
        link.record,
        link.url,
        link.kind,
        status,
        found.http_status,
        found.final_url,
        new_url,
        message=message,
        origin=link.origin,
        index=link.index,
    )


def _repository_verdict(repo: Repository, found: Probe) -> tuple[LinkStatus, str, str]:
    """A code host's page: a redirect to another repository is a move, to a login page a miss."""
    if found.status not in (LinkStatus.LIVE, LinkStatus.MOVED) or not found.final_url:
        return found.status, found.new_url, found.message
    if _LOGIN.search(urlsplit(found.final_url).path):
        return LinkStatus.MISSING, "", "redirects to a login page: private or deleted"
    landed = repository(found.final_url)
    if landed is not None and _repo_id(landed) != _repo_id(repo):
        return LinkStatus.MOVED, landed.url, f"redirects to {landed.url}"
    return LinkStatus.LIVE, "", found.message


def _repo_id(repo: Repository) -> tuple[str, ...]:
    fold = (lambda s: s) if repo.host == "huggingface" else str.lower
    return (repo.host, repo.kind, fold(repo.owner), fold(repo.name))


# --------------------------------------------------------------------------
# Output


def parse_fail_on(text: str) -> frozenset[LinkStatus]:
    """``missing,blocked`` -> statuses; ``none`` -> none; an unknown name is a usage error."""
    names = [n for n in re.split(r"[\s,]+", text.strip().lower()) if n]
    if names == ["none"]:
        return frozenset()
    if names == ["all"]:
        return frozenset(LinkStatus)
    out = set()
    for name in names:
        try:
            out.add(LinkStatus(name))
        except ValueError:
            valid = ", ".join(s.value for s in LinkStatus)
            raise UsageError(
                f"unknown link status {name!r} (choose from {valid}, or none)"
            ) from None
    return frozenset(out)


def exit_status(report: LinkReport, fail_on: Collection[LinkStatus] = DEFAULT_FAIL_ON) -> int:
    """0 when no link has a failing status, 1 otherwise (usage errors, 2, are the CLI's)."""
    return 1 if report.failing(fail_on) else 0


def render_json(report: LinkReport) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def _status_cell(row: LinkResult) -> str:
    return f"{row.status.value} -> {row.new_url}" if row.new_url else row.status.value


def _note(row: LinkResult) -> str:
    parts = [row.message]
    if row.final_url and row.kind == KIND_LINK and row.status is not LinkStatus.MOVED:
        parts.append(f"ends at {row.final_url}")
    return "; ".join(p for p in parts if p)


def _cells(row: LinkResult) -> list[str]:
    return [
        row.record,
        row.url,
        row.kind,
        _status_cell(row),
        "" if row.stars is None else f"{row.stars:,}",
        row.license,
        row.pushed_at[:10],
        _note(row),
    ]


HEADERS = ["Record", "Link", "Kind", "Status", "Stars", "Licence", "Last push", "Note"]


def render_markdown(report: LinkReport) -> str:
    """A summary line and a GitHub-flavoured Markdown table, one row per link.

    Everything that came from the records or from a server (keys, URLs,
    messages, licence names) is escaped: it shows as the text it is, never
    as HTML, a link or emphasis.  The link is an autolink when it is a
    plain http(s) URL, else text.
    """
    lines = [_counts_line(report), ""]
    lines.append("| " + " | ".join(HEADERS) + " |")
    lines.append("|---|---|---|---|--:|---|---|---|")
    for row in report.results:
        status = row.status.value
        if row.new_url:
            status += " -> " + markdown_text(row.new_url)
        cells = [
            markdown_text(row.record),
            _markdown_link(row.url),
            markdown_text(row.kind),
            status,
            "" if row.stars is None else f"{row.stars:,}",
            markdown_text(row.license),
            markdown_text(row.pushed_at[:10]),
            markdown_text(_note(row)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# What may start Markdown (GFM) inline syntax: links, emphasis, code,
# strikethrough and the table's own cell separator get a backslash; HTML and
# entities ("<", ">", "&") become entities, which no renderer reads as markup
# (pandoc's bare-URL autolinks swallow a backslash before "<": an entity holds).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MARKDOWN_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_AUTOLINK = re.compile(r"https?://[^\s<>\x00-\x1f\x7f\\`]+", re.IGNORECASE)


def _one_line(text: str) -> str:
    """Control characters (a terminal escape, a line break) as spaces, white space collapsed."""
    return " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in text).split())


def markdown_text(text: str) -> str:
    """``text`` as literal text in a Markdown table cell."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _one_line(text)).translate(_MARKDOWN_ENTITIES)


def _markdown_link(url: str) -> str:
    url = _one_line(url)
    if _AUTOLINK.fullmatch(url):
        return "<" + url.replace("|", "\\|") + ">"
    return markdown_text(url)


def _counts_line(report: LinkReport) -> str:
    counts = report.counts()
    parts = [f"{counts[s]} {s.value}" for s in LinkStatus if counts[s]]
    return f"{len(report.results)} rows: {', '.join(parts) or 'no links'}."


_STYLES = {
    LinkStatus.LIVE: "green",
    LinkStatus.MOVED: "yellow",
    LinkStatus.ARCHIVED: "yellow",
    LinkStatus.DISABLED: "bold red",
    LinkStatus.MISSING: "bold red",
    LinkStatus.BLOCKED: "bold red",
    LinkStatus.UNREACHABLE: "magenta",
    LinkStatus.RATE_LIMITED: "cyan",
    LinkStatus.NOT_CHECKED: "dim",
    LinkStatus.ANNOUNCED_NO_LINK: "blue",
}


def render_table(report: LinkReport) -> Table:
    """A rich Table for a terminal (print it with ``rich.console.Console().print``)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Links", caption=_counts_line(report), show_lines=False)
    for name in HEADERS:
        table.add_column(name, justify="right" if name == "Stars" else "left", overflow="fold")
    for row in report.results:
        # No terminal escape from a server reaches the terminal.
        cells: list[Any] = [Text(_one_line(c)) for c in _cells(row)]
        cells[3] = Text(_one_line(_status_cell(row)), style=_STYLES[row.status])
        table.add_row(*cells)
    return table


# --------------------------------------------------------------------------
# Enrichment from GitHub


def enrich_github(
    records: Sequence[Record], report: LinkReport
) -> tuple[list[Record], list[Change]]:
    """Records completed from the GitHub rows of ``report``, and every change (applied or refused).

    The input is not mutated; a record nothing changed in is returned as
    the same object.  See the module docstring for what is filled.
    """
    rows: dict[int, list[LinkResult]] = defaultdict(list)
    for row in report.results:
        if row.kind == "github" and row.repo is not None and row.repo.definite:
            rows[row.index].append(row)
    out: list[Record] = []
    changes: list[Change] = []
    for index, record in enumerate(records):
        if index not in rows:
            out.append(record)
            continue
        updated, mine = _enrich_one(record, record_key(record, index), rows[index])
        out.append(updated)
        changes.extend(mine)
    return out, changes


def _enrich_one(record: Record, key: str, rows: list[LinkResult]) -> tuple[Record, list[Change]]:
    changes: list[Change] = []
    links = list(record.code_links)
    for row in rows:
        info = row.repo
        assert info is not None
        canonical = info.new_url or info.url
        if info.new_url:
            links = [
                CodeLink(_rehome(c.url, info.new_url), c.origin) if _points_into(c.url, row) else c
                for c in links
            ]
            if _points_into(record.url, row):
                changes.append(
                    Change(
                        key,
                        "url",
                        record.url,
                        _rehome(record.url, info.new_url),
                        "github",
                        applied=False,
                        note="the repository moved; the url field is kept as written",
                    )
                )
        if (
            canonical
            and info.status not in ("missing", "blocked")
            and not any(_points_into(c.url, row) or _same_repo(c.url, canonical) for c in links)
        ):
            links.append(CodeLink(canonical, row.origin))
    if [c.url for c in links] != [c.url for c in record.code_links]:
        changes.append(
            Change(
                key,
                "code_links",
                [c.url for c in record.code_links] or None,
                [c.url for c in links],
                "github",
            )
        )
    primary = next((r for r in rows if r.repo is not None and r.repo.has_metadata), None)
    if primary is not None and primary.repo is not None:
        links = _with_metadata(links, primary, key, changes)
    if not any(c.applied for c in changes):
        return record, changes
    return replace(record, code_links=links), changes


def _with_metadata(
    links: list[CodeLink], row: LinkResult, key: str, changes: list[Change]
) -> list[CodeLink]:
    """Put what GitHub says about the repository of ``row`` on the links into it."""
    info = row.repo
    assert info is not None
    values: dict[str, Any] = {
        "stars": info.stars,
        "license": info.license,
        "description": info.description,
        "archived": info.archived,
        "pushed": info.pushed_at[:10],
    }
    canonical = info.new_url or info.url
    out = []
    for index, link in enumerate(links):
        if not (_points_into(link.url, row) or (canonical and _same_repo(link.url, canonical))):
            out.append(link)
            continue
        updates = {}
        for name, value in values.items():
            old = getattr(link, name)
            if value in (None, "") or old == value:
                continue
            updates[name] = value
            changes.append(
                Change(
                    key, f"code_links[{index}].{name}", old if old != "" else None, value, "github"
                )
            )
        out.append(replace(link, **updates) if updates else link)
    return out


def _points_into(url: str, row: LinkResult) -> bool:
    """Does ``url`` point into the repository of ``row`` (as the record cited it)?"""
    if not url:
        return False
    found, cited = repository(clean_url(url)), repository(row.url)
    return found is not None and cited is not None and _repo_id(found) == _repo_id(cited)


def _same_repo(url: str, canonical: str) -> bool:
    a, b = repository(clean_url(url)), repository(canonical)
    return a is not None and b is not None and _repo_id(a) == _repo_id(b)


def _rehome(url: str, new_root: str) -> str:
    """``https://github.com/old/name/tree/main/src`` under ``https://github.com/new/name``."""
    parts = urlsplit(clean_url(url))
    rest = [s for s in parts.path.split("/") if s][2:]
    return new_root + ("/" + "/".join(rest) if rest else "")


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)
