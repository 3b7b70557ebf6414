"""A loopback web server for plain-link checks: HEAD/GET answers, redirects, errors, slow pages.

:class:`FakeWeb` answers from a table of :class:`Route` by path; anything
else is a 404.  Helpers build redirect chains (:meth:`FakeWeb.chain`) and
loops (:meth:`FakeWeb.loop`).  A route can refuse HEAD (405, 403, 501),
fail a few times before answering (503 then 200), answer only after a
delay longer than the client's read timeout (released at once when the
server stops), or wait at a *gate* until a number of gated requests are in
flight at once (concurrency tests without timing).  Every request is
logged with its headers; :attr:`FakeWeb.max_in_flight` is the largest
number of requests the server was answering at the same time.

``host_name`` is the name URLs use (the server always listens on
127.0.0.1): ``localhost`` and ``127.0.0.1`` are two hosts for the client.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from .loopback import LoopbackServer, QuietHandler


@dataclass
class Route:
    status: int = 200
    head: int | None = None  # HEAD answers this status instead (405, 403, 501)
    location: str = ""  # 3xx target: an absolute URL or a path on this server
    body: bytes = b"<html><body>ok</body></html>"
    headers: dict[str, str] = field(default_factory=dict)
    slow: float = 0.0  # answer only after this many seconds (or when the server stops)
    fail: list[int] = field(default_factory=list)  # statuses answered first, one per request
    gate: bool = False  # wait until FakeWeb.gate_target gated requests are in flight


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    headers: dict[str, str]
    status: int


class FakeWeb(LoopbackServer):
    """``with FakeWeb({"/ok": Route()}) as web: web.url("/ok") ... web.count("/ok")``."""

    def __init__(
        self, routes: dict[str, Route] | None = None, *, host_name: str = "127.0.0.1"
    ) -> None:
        super().__init__()
        self.routes: dict[str, Route] = dict(routes or {})
        self.host_name = host_name
        self.log: list[Logged] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.gate_target = 4
        self.gate_timeout = 2.0
        self._gated = 0
        self._gate = threading.Condition()
        self._lock = threading.Lock()
        self._release = threading.Event()

    # -- routes ------------------------------------------------------------

    def route(self, path: str, **kwargs: object) -> str:
        self.routes[path] = Route(**kwargs)  # type: ignore[arg-type]
        return self.url(path)

    def chain(self, prefix: str, hops: int, final: str, status: int = 301) -> str:
        """``prefix/0`` -> ``prefix/1`` -> ... -> ``final`` in ``hops`` redirects."""
        for i in range(hops):
            target = f"{prefix}/{i + 1}" if i + 1 < hops else final
            self.routes[f"{prefix}/{i}"] = Route(status=status, location=target)
        return self.url(f"{prefix}/0")

    def loop(self, a: str, b: str, status: int = 302) -> str:
        self.routes[a] = Route(status=status, location=b)
        self.routes[b] = Route(status=status, location=a)
        return self.url(a)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    # -- lifecycle ---------------------------------------------------------

    def make_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"fake": self})

    def release(self) -> None:
        self._release.set()
        with self._gate:
            self._gate.notify_all()

    # -- counts ------------------------------------------------------------

    def count(self, path: str | None = None, method: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self.log
                if (path is None or r.path == path) and (method is None or r.method == method)
            )

    def methods(self, path: str) -> list[str]:
        with self._lock:
            return [r.method for r in self.log if r.path == path]

    def headers_seen(self) -> Iterable[dict[str, str]]:
        with self._lock:
            return [r.headers for r in self.log]

    # -- answers -------------------------------------------------------------

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _wait_at_gate(self) -> None:
        with self._gate:
            self._gated += 1
            self._gate.notify_all()
            self._gate.wait_for(
                lambda: self._gated >= self.gate_target or self._release.is_set(),
                timeout=self.gate_timeout,
            )

    def answer(
        self, method: str, path: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        route = self.routes.get(path)
        if route is None:
            status, out, body = 404, {"Content-Type": "text/html"}, b"<html>Not Found</html>"
        else:
            if route.gate:
                self._wait_at_gate()
            if route.slow:
                self._release.wait(route.slow)
            status, out, body = self._route(route, method)
        with self._lock:
            self.log.append(Logged(method, path, dict(headers), status))
        return status, out, body

    def _route(self, route: Route, method: str) -> tuple[int, dict[str, str], bytes]:
        out = {"Content-Type": "text/html; charset=utf-8", **route.headers}
        with self._lock:
            failing = route.fail.pop(0) if route.fail else None
        if failing is not None:
            return failing, out, b"<html>error</html>"
        if method == "HEAD" and route.head is not None:
            return route.head, out, b""
        if route.location:
            location = route.location
            if location.startswith("/"):
                location = self.url(location)
            return route.status, {**out, "Location": location}, b""
        return route.status, out, route.body


class _Handler(QuietHandler):
    fake: FakeWeb

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def _serve(self, method: str) -> None:
        self.fake._enter()
        try:
            status, headers, body = self.fake.answer(
                method, urlsplit(self.path).path, dict(self.headers.items())
            )
        finally:
            self.fake._leave()
        self.reply(status, headers.items(), body, send_body=method != "HEAD")
