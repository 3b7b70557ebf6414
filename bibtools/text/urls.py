"""URLs in free text: finding them, trimming what is not theirs, recognising code hosts.

Abstracts end sentences with URLs ("... at https://github.com/o/r."), wrap
them in parentheses and follow them with commas; the URL grammar allows all
of these characters, so the trimming rules are ours: trailing ``. , ; : ! ?``
and quotes never end a URL, a closing ``)`` or ``]`` only when it balances
an opening one inside the URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_URL = re.compile(r"""(?:https?://|www\.)[^\s<>"'{}\\^`|]+""", re.IGNORECASE)
_TRAILING = ".,;:!?\"'\u201d\u2019*"
_PAIRS = {")": "(", "]": "[", "}": "{"}
# A LaTeX command glued to the end of a URL in an abstract: "...repo}\footnote".
_LATEX_TAIL = re.compile(r"\\[A-Za-z]+$")

CODE_HOSTS = {
    "github.com": "github",
    "gitlab.com": "gitlab",
    "bitbucket.org": "bitbucket",
    "codeberg.org": "codeberg",
    "huggingface.co": "huggingface",
    "sourceforge.net": "sourceforge",
}
# First path segments that are the site's own pages, not an owner.
_SITE = {"about", "explore", "features", "marketplace", "orgs", "settings", "sponsors", "topics"}
_SITE_BY_HOST = {
    "github": _SITE
    | {"apps", "collections", "customer-stories", "enterprise", "join", "login", "pricing"}
    | {"notifications", "pulls", "readme", "search", "security", "site", "trending", "users"},
    "gitlab": _SITE | {"-", "dashboard", "groups", "help", "search", "users"},
}
# GitLab sub-pages of a project written without the ``/-/`` separator (older links).
_GITLAB_PAGES = {"blob", "tree", "raw", "commits", "issues", "merge_requests", "wikis", "releases"}


def trim_url(url: str) -> str:
    """Strip punctuation that belongs to the sentence, not the URL."""
    while url:
        url = _LATEX_TAIL.sub("", url)
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in _PAIRS:
            if url.count(last) > url.count(_PAIRS[last]):
                url = url[:-1]
            else:
                break
        else:
            break
    return url


def find_urls(text: str) -> list[str]:
    """Every http(s) URL in ``text``, trimmed, in order, without repeats."""
    seen: dict[str, None] = {}
    for m in _URL.finditer(text):
        url = trim_url(m.group(0))
        if url.lower().startswith("www."):
            url = "https://" + url
        if len(url) > len("https://x.y"):
            seen.setdefault(url, None)
    return list(seen)


@dataclass(frozen=True, slots=True)
class Repository:
    host: str  # "github"
    owner: str
    name: str
    kind: str = "repo"  # huggingface: "model", "dataset", "space"

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def url(self) -> str:
        domain = next(d for d, h in CODE_HOSTS.items() if h == self.host)
        if self.host == "huggingface":
            prefix = {"dataset": "datasets/", "space": "spaces/"}.get(self.kind, "")
            return f"https://{domain}/{prefix}{self.slug}"
        if self.host == "sourceforge":
            return f"https://{domain}/projects/{self.name}"
        return f"https://{domain}/{self.slug}"


def repository(url: str) -> Repository | None:
    """The repository a URL points into (``/tree/main/src`` belongs to ``owner/repo``)."""
    try:
        parts = urlsplit(url if "://" in url else "https://" + url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    kind = CODE_HOSTS.get(host)
    if kind is None:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if kind == "sourceforge":
        if len(segments) >= 2 and segments[0] in ("projects", "p"):
            return Repository(kind, "", segments[1])
        return None
    if kind == "huggingface":
        sub = "model"
        if segments and segments[0] in ("datasets", "spaces"):
            sub = segments[0][:-1]
            segments = segments[1:]
        if len(segments) < 2 or segments[0] in ("papers", "docs", "blog", "api", "models"):
            return None
        return Repository(kind, segments[0], _strip_git(segments[1]), sub)
    if len(segments) < 2 or segments[0] in _SITE_BY_HOST.get(kind, _SITE):
        return None
    if kind == "gitlab":
        return _gitlab(segments)
    return Repository(kind, segments[0], _strip_git(segments[1]))


def _gitlab(segments: list[str]) -> Repository | None:
    """GitLab projects sit in nested groups: ``group/sub/project/-/tree/main`` is ``group/sub/project``."""
    if "-" in segments:
        segments = segments[: segments.index("-")]
    else:
        cut = next((i for i, s in enumerate(segments) if i >= 2 and s in _GITLAB_PAGES), None)
        if cut is not None:
            segments = segments[:cut]
    if len(segments) < 2:
        return None
    return Repository("gitlab", "/".join(segments[:-1]), _strip_git(segments[-1]))


def _strip_git(name: str) -> str:
    return name[:-4] if name.lower().endswith(".git") else name


def is_code_url(url: str) -> bool:
    return repository(url) is not None
