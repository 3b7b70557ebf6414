"""A loopback GitHub for tests and benchmarks: the REST and GraphQL API, and the web pages.

:class:`FakeGitHub` runs two real HTTP servers on 127.0.0.1: the API (URLs
name the host ``127.0.0.1``) and the web pages (URLs name ``localhost``,
so that the two are different hosts, as api.github.com and github.com are,
for the HTTP layer's per-host state and for token checks).

It serves the recorded answers in ``tests/fixtures/github`` with their
headers (``NAME.json`` + ``NAME.meta.json``): the repository bodies of the
recorded 200s (:func:`recorded_repos`), the recorded 301s for transferred
or renamed repositories with ``Location: {api}/repositories/{id}``
(:data:`RECORDED_MOVES`) and the bodies they lead to, the recorded 404,
500, 502, 304, primary (403) and secondary (403 + ``Retry-After``) limits.
:func:`synthetic_repo` makes more repositories from a recorded body (same
shape, another name, id, stars, licence, flags).  Not recorded anywhere,
hence built from GitHub's documentation: the 451 body, the current 429,
GraphQL answers for aliased ``repository`` fields (derived from the REST
bodies; a missing one is ``null`` with an ``errors[]`` entry of type
``NOT_FOUND``) and the web pages.

**Budget.** Each identity (no token; the token; GraphQL with the token)
has a window of ``limit`` requests that resets an hour after it began
(read from ``clock``, a :class:`fakes.FakeClock`, so tests move time).
Every API answer carries ``x-ratelimit-*`` headers; a 304 (``If-None-Match``
matching the ETag) and a refused request cost nothing; an exhausted window
answers 403 (or ``primary_status``) with ``x-ratelimit-remaining: 0``.
:attr:`FakeGitHub.secondary` queues secondary-limit answers (403 or 429,
with or without ``retry-after``) for the next API requests.

Every request is logged (:attr:`FakeGitHub.log`: server, method, path,
headers, body, status), so tests assert on counts and on which headers
reached which host.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from .loopback import LoopbackServer, QuietHandler

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "github"

# Recorded 200 answers for GET /repos/{owner}/{name} (or the same schema).
RECORDED_REPOS = (
    "g3_repo_archived_github_developer.github.com_from_list",
    "g3_repo_archived_testgh3py_i-have-been-archived",
    "g3_repo_fork_jnewland_gmond_python_modules",
    "g3_repo_qiskit-community_qiskit-qec",
    "g3_repo_sigmavirus24_github3.py",
    "repo_JLLeitschuh_security-research_cc0",
    "repo_PyGithub_PyGithub_2024",
    "repo_actions_hello-world-docker-action",
    "repo_fork_matt-davis27_PyGithub_2025",
    "repo_legacy_2012_jacquev6_PyGithub",
    "repo_openframeworks_2018",
    "repo_stellarcarbon_sorocarbon_2025",
    "repo_twbs_bootstrap_2025",
)
# Recorded moves: (old owner/name, the recorded 301, the recorded answer it led to).
RECORDED_MOVES = (
    (
        "kennethreitz/requests",
        "g3_repo_301_kennethreitz_requests",
        "g3_repo_301_kennethreitz_requests_followed",
    ),
    (
        "sigmavirus24/betamax",
        "g3_repo_301_sigmavirus24_betamax",
        "g3_repo_301_sigmavirus24_betamax_followed",
    ),
    (
        "ReDASers/Phishing-Detection",
        "repo_301_ReDASers_Phishing-Detection",
        "repo_301_ReDASers_Phishing-Detection_followed",
    ),
    ("protoncoin/protoncoin", "repo_301_protoncoin", "repo_301_protoncoin_followed"),
    ("EnricoMi/test", "repo_301_EnricoMi_test", "repo_301_EnricoMi_test_followed"),
)
# Headers that describe one transfer or one window, not the answer: set per answer here.
_DROP = {
    "content-length",
    "transfer-encoding",
    "connection",
    "status",
    "content-encoding",
    "date",
    "etag",
    "location",
    "keep-alive",
}
_RATE = re.compile(r"^x-ratelimit-", re.IGNORECASE)
_ALIAS = re.compile(r"\b(r\d+)\s*:\s*repository\(\s*owner:\s*\$(\w+)\s*,\s*name:\s*\$(\w+)\s*\)")
_DOCS = "https://docs.github.com/rest/repos/repos#get-a-repository"


class Clock(Protocol):
    def time(self) -> float: ...


@dataclass(frozen=True)
class Recorded:
    name: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes | None

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")


def recorded(name: str) -> Recorded:
    """One recorded answer: status, headers (as recorded, in order), body bytes."""
    meta = json.loads((FIXTURES / f"{name}.meta.json").read_text(encoding="utf-8"))
    body_file = meta.get("body_file")
    body = (FIXTURES / body_file).read_bytes() if body_file else None
    return Recorded(name, int(meta["status"]), [(k, v) for k, v in meta["headers"]], body)


@dataclass
class Repo:
    """A repository the fake knows; ``body`` is what GET /repos answers (bytes as served)."""

    full_name: str
    id: int
    body: bytes
    etag: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    blocked: str = ""  # "dmca" or "tos": 451 from the API and the web page
    errors: list[int] = field(default_factory=list)  # statuses answered first (500, 502, 410...)

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.body)


def _full_name(data: dict[str, Any]) -> str:
    if data.get("full_name"):
        return str(data["full_name"])
    return f"{data['owner']['login']}/{data['name']}"


def repo_from_recorded(name: str) -> Repo:
    rec = recorded(name)
    data = rec.json
    etag = rec.header("etag") or f'W/"{hashlib.sha1(rec.body or b"").hexdigest()}"'
    return Repo(_full_name(data), int(data["id"]), rec.body or b"", etag, _kept(rec.headers))


def recorded_repos() -> list[Repo]:
    """The recorded repositories, as GitHub answered them (13, one archived via PATCH)."""
    return [repo_from_recorded(n) for n in RECORDED_REPOS]


def synthetic_repo(
    full_name: str,
    repo_id: int,
    *,
    stars: int = 10,
    license: str | None = "MIT",
    archived: bool = False,
    disabled: bool = False,
    description: str = "",
    pushed_at: str = "2025-08-06T12:18:38Z",
    template: str = "repo_stellarcarbon_sorocarbon_2025",
) -> Repo:
    """A repository in the shape of a recorded 2025 answer, with other values."""
    rec = recorded(template)
    data = rec.json
    owner, name = full_name.split("/", 1)
    data.update(
        id=repo_id,
        name=name,
        full_name=full_name,
        html_url=f"https://github.com/{full_name}",
        url=f"https://api.github.com/repos/{full_name}",
        description=description or f"Code for {name}",
        stargazers_count=stars,
        watchers_count=stars,
        watchers=stars,
        archived=archived,
        disabled=disabled,
        pushed_at=pushed_at,
    )
    data["owner"] = {**data["owner"], "login": owner}
    data["license"] = (
        None
        if license is None
        else {
            "key": license.lower(),
            "name": license,
            "spdx_id": license,
            "url": f"https://api.github.com/licenses/{license.lower()}",
            "node_id": "MDc6TGljZW5zZTEz",
        }
    )
    body = json.dumps(data).encode()
    etag = f'W/"{hashlib.sha256(body).hexdigest()}"'
    return Repo(full_name, repo_id, body, etag, _kept(rec.headers))


def hostile_repo(full_name: str, repo_id: int, /, **fields: Any) -> Repo:
    """A repository found under ``full_name`` whose answers say ``fields`` instead (any shape).

    REST answers the body with ``fields`` merged in (``full_name``,
    ``license``, ``description``, ``pushed_at``...); GraphQL nodes are
    derived from that body, so ``nameWithOwner`` and ``licenseInfo`` carry
    them too.  For tests of what bibtools does with a hostile server.
    """
    repo = synthetic_repo(full_name, repo_id)
    data = {**repo.data, **fields}
    body = json.dumps(data).encode()
    return Repo(full_name, repo_id, body, f'W/"{hashlib.sha256(body).hexdigest()}"', repo.headers)


def _kept(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in _DROP and not _RATE.match(k)]


@dataclass
class Window:
    limit: int
    remaining: int
    reset: float

    def roll(self, now: float) -> None:
        if now >= self.reset:
            self.remaining, self.reset = self.limit, now + 3600


@dataclass(frozen=True)
class Logged:
    server: str  # "api" or "web"
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    status: int = 0
    costly: bool = False  # counted against a budget


@dataclass
class Secondary:
    status: int = 403
    retry_after: str | None = "60"


class FakeGitHub:
    """``with FakeGitHub(repos, clock=clock, token="t") as gh: ... gh.env() ... gh.count()``."""

    def __init__(
        self,
        repos: Iterable[Repo] = (),
        *,
        clock: Clock | None = None,
        limit: int = 60,
        token: str | None = None,
        token_limit: int = 5000,
        graphql_limit: int = 5000,
        primary_status: int = 403,
        graphql_follows_renames: bool = True,
        reset_in: float = 3600.0,
    ) -> None:
        self.clock = clock
        self.repos: dict[str, Repo] = {}
        self.by_id: dict[int, Repo] = {}
        self.moves: dict[str, int] = {}  # old full_name (lower) -> repository id
        self.move_answers: dict[str, Recorded] = {}
        self.redirect_elsewhere: dict[str, str] = {}  # full_name (lower) -> any URL (a 301)
        self.web_statuses: list[int] = []  # the web pages answer these first, one per request
        self.token = token
        self.primary_status = primary_status
        self.graphql_follows_renames = graphql_follows_renames
        now = self.now()
        self.windows = {
            "anon": Window(limit, limit, now + reset_in),
            "token": Window(token_limit, token_limit, now + reset_in),
            "graphql": Window(graphql_limit, graphql_limit, now + reset_in),
        }
        self.secondary: list[Secondary] = []
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._servers: dict[str, _Role] = {}
        for repo in repos:
            self.add(repo)

    def now(self) -> float:
        return self.clock.time() if self.clock is not None else time.time()

    # -- catalogue ---------------------------------------------------------

    def add(self, repo: Repo) -> Repo:
        self.repos[repo.full_name.lower()] = repo
        self.by_id[repo.id] = repo
        return repo

    def move(self, old: str, target: Repo, recorded_as: str | None = None) -> None:
        """``old`` now answers 301 to ``target`` (with a recorded 301's body and headers)."""
        self.add(target)
        self.moves[old.lower()] = target.id
        self.move_answers[old.lower()] = recorded(recorded_as or "repo_301_protoncoin")

    def add_recorded_moves(self) -> list[tuple[str, Repo]]:
        out = []
        for old, answer, followed in RECORDED_MOVES:
            target = repo_from_recorded(followed)
            self.move(old, target, answer)
            out.append((old, target))
        return out

    def block(self, full_name: str, reason: str = "dmca") -> Repo:
        repo = synthetic_repo(full_name, 900_000_000 + len(self.repos))
        repo.blocked = reason
        return self.add(repo)

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> FakeGitHub:
        for role, name in (("api", "127.0.0.1"), ("web", "localhost")):
            self._servers[role] = _Role(self, role, name).start()
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        return self._servers["api"].base

    @property
    def web_url(self) -> str:
        return self._servers["web"].base

    def env(self, token: bool = False, **extra: str) -> dict[str, str]:
        out = {"BIBTOOLS_GITHUB_API": self.api_url, "BIBTOOLS_GITHUB_WEB": self.web_url}
        if token and self.token:
            out["GITHUB_TOKEN"] = self.token
        return {**out, **extra}

    @contextmanager
    def api_down(self) -> Iterator[str]:
        """The API URL with nothing listening (the API server stopped for the block)."""
        url = self.api_url
        self._servers.pop("api").stop()
        yield url

    # -- counts ------------------------------------------------------------

    def count(self, server: str = "api", prefix: str = "", method: str = "") -> int:
        with self._lock:
            return sum(
                1
                for r in self.log
                if r.server == server
                and r.path.startswith(prefix)
                and (not method or r.method == method)
            )

    def spent(self) -> int:
        """Requests that were counted against any budget."""
        with self._lock:
            return sum(1 for r in self.log if r.costly)

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()

    # -- answers -------------------------------------------------------------

    def answer(
        self, role: str, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        with self._lock:
            if role == "web":
                status, out, data = self._web(method, path)
                costly = False
            else:
                status, out, data, costly = self._api(method, path, headers, body)
            self.log.append(Logged(role, method, path, dict(headers), body, status, costly))
        return status, out, data

    def _identity(self, headers: dict[str, str]) -> str | None:
        auth = _get(headers, "authorization")
        if not auth:
            return "anon"
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("bearer", "token") and self.token and value == self.token:
            return "token"
        return None

    def _api(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes, bool]:
        if not _get(headers, "user-agent"):
            rec = recorded("auth_403_bad_user_agent")
            return 403, _kept(rec.headers), rec.body or b"", False
        who = self._identity(headers)
        if who is None:
            doc = b'{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}'
            return 401, [("Content-Type", "application/json; charset=utf-8")], doc, False
        graphql = path == "/graphql"
        if graphql and who == "anon":
            doc = b'{"message":"This endpoint requires you to be authenticated.","documentation_url":"https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql","status":"401"}'
            return 401, [("Content-Type", "application/json; charset=utf-8")], doc, False
        window = self.windows["graphql" if graphql else who]
        window.roll(self.now())
        resource = "graphql" if graphql else "core"
        if self.secondary:
            return (*self._secondary(window, resource), False)
        if window.remaining <= 0:
            return (*self._primary(window, resource, graphql), False)
        if graphql and method == "POST":
            window.remaining -= 1
            status, out, data = self._graphql(body)
            return status, out + _rate(window, resource), data, True
        status, out, data = self._rest(method, path, headers)
        if status == 304:
            return status, out + _rate(window, resource), data, False
        window.remaining -= 1
        return status, out + _rate(window, resource), data, True

    def _secondary(self, window: Window, resource: str) -> tuple[int, list[tuple[str, str]], bytes]:
        fault = self.secondary.pop(0)
        rec = recorded("ratelimit_403_secondary_abuse_2018")
        out = [("Content-Type", "application/json; charset=utf-8")]
        if fault.retry_after is not None:
            out.append(("Retry-After", fault.retry_after))
        return fault.status, out + _rate(window, resource), rec.body or b""

    def _primary(
        self, window: Window, resource: str, graphql: bool
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if graphql:
            doc = {
                "errors": [
                    {"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}
                ]
            }
            out = [("Content-Type", "application/json; charset=utf-8")]
            return 200, out + _rate(window, resource), json.dumps(doc).encode()
        rec = recorded("ratelimit_403_primary_unauthenticated_2013")
        return self.primary_status, _kept(rec.headers) + _rate(window, resource), rec.body or b""

    def _rest(
        self, method: str, path: str, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)", path)
        repo: Repo | None = None
        if m:
            full = f"{unquote(m.group(1))}/{unquote(m.group(2))}".lower()
            if full in self.redirect_elsewhere:
                return 301, [("Location", self.redirect_elsewhere[full])], b""
            if full in self.moves:
                rec = self.move_answers[full]
                location = f"{self.api_url}/repositories/{self.moves[full]}"
                return 301, [*_kept(rec.headers), ("Location", location)], rec.body or b""
            repo = self.repos.get(full)
        else:
            m = re.fullmatch(r"/repositories/(\d+)", path)
            if m:
                repo = self.by_id.get(int(m.group(1)))
        if repo is None:
            rec = recorded("repo_404_jacquev6_Xxx")
            return 404, _kept(rec.headers), rec.body or b""
        if repo.errors:
            status = repo.errors.pop(0)
            if status in (500, 502):
                rec = recorded("repo_502_bad_gateway" if status == 502 else "repo_500_server_error")
                return status, _kept(rec.headers), rec.body or b""
            doc = json.dumps({"message": f"HTTP {status}", "documentation_url": _DOCS}).encode()
            return status, [("Content-Type", "application/json; charset=utf-8")], doc
        if repo.blocked:
            doc = {
                "message": "Repository access blocked",
                "block": {
                    "reason": repo.blocked,
                    "created_at": "2024-05-01T00:00:00Z",
                    "html_url": f"https://github.com/github/dmca/blob/master/{repo.full_name}.md",
                },
            }
            return (
                451,
                [("Content-Type", "application/json; charset=utf-8")],
                json.dumps(doc).encode(),
            )
        if _get(headers, "if-none-match") == repo.etag:
            rec = recorded("repo_304_not_modified")
            return 304, [*_kept(rec.headers), ("ETag", repo.etag)], b""
        return 200, [*repo.headers, ("ETag", repo.etag)], repo.body

    def _resolve(self, owner: str, name: str) -> Repo | None:
        full = f"{owner}/{name}".lower()
        if full in self.moves:
            return self.by_id.get(self.moves[full]) if self.graphql_follows_renames else None
        repo = self.repos.get(full)
        return None if repo is None or repo.blocked else repo

    def _graphql(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        out = [("Content-Type", "application/json; charset=utf-8")]
        try:
            request = json.loads(body)
            query, variables = request["query"], request.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return 400, out, b'{"errors":[{"message":"Problems parsing JSON"}]}'
        data: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for line, (alias, o, n) in enumerate(_ALIAS.findall(query), 1):
            owner, name = str(variables.get(o, "")), str(variables.get(n, ""))
            repo = self._resolve(owner, name)
            if repo is None:
                data[alias] = None
                errors.append(
                    {
                        "type": "NOT_FOUND",
                        "path": [alias],
                        "locations": [{"line": 1, "column": line}],
                        "message": f"Could not resolve to a Repository with the name '{owner}/{name}'.",
                    }
                )
            else:
                data[alias] = _graphql_node(repo.data)
        window = self.windows["graphql"]
        data["rateLimit"] = {
            "cost": 1,
            "remaining": window.remaining,
            "resetAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(window.reset)),
        }
        doc: dict[str, Any] = {"data": data}
        if errors:
            doc["errors"] = errors
        return 200, out, json.dumps(doc).encode()

    def _web(self, method: str, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        html = [("Content-Type", "text/html; charset=utf-8")]
        if self.web_statuses:
            return self.web_statuses.pop(0), html, b"<html>busy</html>"
        parts = [p for p in path.split("/") if p]
        if len(parts) < 2:
            return 404, html, b"<html>Not Found</html>"
        full = f"{unquote(parts[0])}/{unquote(parts[1])}".lower()
        rest = "/".join(parts[2:])
        if full in self.moves:
            target = self.by_id[self.moves[full]]
            location = f"{self.web_url}/{target.full_name}" + (f"/{rest}" if rest else "")
            return 301, [*html, ("Location", location)], b""
        repo = self.repos.get(full)
        if repo is None:
            return 404, html, b"<html>Not Found</html>"
        if repo.blocked:
            return 451, html, b"<html>Repository unavailable due to DMCA takedown.</html>"
        return 200, html, f"<html>{repo.full_name}</html>".encode()


def _graphql_node(data: dict[str, Any]) -> dict[str, Any]:
    license_ = data.get("license") or None
    return {
        "databaseId": data["id"],
        "nameWithOwner": _full_name(data),
        "url": data.get("html_url"),
        "description": data.get("description"),
        "homepageUrl": data.get("homepage"),
        "stargazerCount": data.get("stargazers_count", data.get("watchers", 0)),
        "forkCount": data.get("forks_count", data.get("forks", 0)),
        "isArchived": bool(data.get("archived")),
        "isDisabled": bool(data.get("disabled")),
        "isFork": bool(data.get("fork")),
        "isPrivate": bool(data.get("private")),
        "pushedAt": data.get("pushed_at"),
        "licenseInfo": None
        if license_ is None
        else {"spdxId": license_.get("spdx_id"), "name": license_.get("name")},
    }


def _rate(window: Window, resource: str) -> list[tuple[str, str]]:
    return [
        ("X-RateLimit-Limit", str(window.limit)),
        ("X-RateLimit-Remaining", str(max(0, window.remaining))),
        ("X-RateLimit-Reset", str(int(window.reset))),
        ("X-RateLimit-Used", str(window.limit - max(0, window.remaining))),
        ("X-RateLimit-Resource", resource),
    ]


def _get(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "")


class _Role(LoopbackServer):
    """One of the fake's two servers: the API, or the web pages."""

    def __init__(self, fake: FakeGitHub, role: str, host_name: str) -> None:
        super().__init__()
        self.fake, self.role, self.host_name = fake, role, host_name

    def make_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"fake": self.fake, "role": self.role})


class _Handler(QuietHandler):
    fake: FakeGitHub
    role: str

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        body = self.read_body()
        path = urlsplit(self.path).path
        status, headers, data = self.fake.answer(
            self.role, method, path, dict(self.headers.items()), body
        )
        self.reply(status, headers, data, send_body=method != "HEAD" and status != 304)
