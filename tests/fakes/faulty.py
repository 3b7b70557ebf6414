"""Faults by path pattern, and gates: the misbehaviour the scholarly fakes share.

:class:`ScriptedApi` is a :class:`fakes.s2_server.LoopbackApi` (request log,
the queue of upcoming faults, :attr:`~LoopbackApi.always`) that also answers
``HEAD`` and takes rules keyed on a regular expression, searched in the
request's *target*: ``METHOD path?query`` with the path and the query
percent-decoded (``GET /works/10.1002/(SICI)...?rows=5``).  Each rule fires
for ``times`` matching requests (``None``: all of them, until
:meth:`ScriptedApi.clear_faults`):

* :meth:`~ScriptedApi.fail` with ``"503"``, ``"500"``, ``"502"``,
  ``"429"`` (the source's own rate-limit body, ``Retry-After`` when given:
  seconds or an HTTP date), ``"429-html"``, ``"200-html"`` (a maintenance
  page with status 200), ``"truncated"`` (the real answer cut in half) or
  ``"reset"`` (the connection is closed without an answer);
* :meth:`~ScriptedApi.hold` returns a :class:`Gate`: matching requests wait,
  inside the server, until the test calls :meth:`Gate.release` (or the
  server stops).  A slow service, without a sleep: the test decides when
  the answer comes, and can first wait for the requests to arrive
  (:meth:`Gate.wait_for`), e.g. to let its client's read timeout fire.

Every request, faulted or not, is in :attr:`~LoopbackApi.log`
(:class:`fakes.s2_server.Logged`: method, path, decoded query parameters,
body, headers, status, fault); :meth:`ScriptedApi.requests` filters it with
the same kind of pattern.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from .loopback import QuietHandler
from .s2_server import Answer, Logged, LoopbackApi

FAULTS = frozenset({"500", "502", "503", "429", "429-html", "200-html", "truncated", "reset"})


class Gate:
    """Requests held until :meth:`release`; :meth:`wait_for` waits for them to arrive."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._arrived = threading.Condition()
        self.arrivals = 0

    def _hold(self) -> None:
        with self._arrived:
            self.arrivals += 1
            self._arrived.notify_all()
        self._open.wait()

    def wait_for(self, n: int = 1, timeout: float = 10.0) -> bool:
        """True once ``n`` requests have reached the gate (False after ``timeout`` seconds)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self.arrivals >= n, timeout)

    def release(self) -> None:
        self._open.set()

    @property
    def released(self) -> bool:
        return self._open.is_set()


@dataclass
class Rule:
    pattern: re.Pattern[str]
    fault: str  # one of FAULTS, or "hold"
    times: int | None  # matching requests left; None = every one
    retry_after: str | None = None
    gate: Gate | None = None
    fired: int = 0

    def matches(self, target: str) -> bool:
        return (self.times is None or self.times > 0) and bool(self.pattern.search(target))


@dataclass(frozen=True)
class Request(Logged):
    """A logged request with its decoded target (``METHOD path?query``)."""

    target: str = ""
    rule: str = field(default="", compare=False)


class ScriptedApi(LoopbackApi):
    """A loopback API with faults and gates chosen per path pattern; subclasses implement ``route``."""

    #: what this source sends with a 429 (content type, body); sources override it
    rate_limit_body: tuple[str, bytes] = ("text/plain", b"Too Many Requests")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Cooperative: ``class ScriptedS2(ScriptedApi, FakeS2)`` passes FakeS2's arguments on.
        super().__init__(*args, **kwargs)
        self.rules: list[Rule] = []

    def make_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_ScriptedHandler,), {"fake": self})

    # -- scripting -----------------------------------------------------------

    def fail(
        self, pattern: str, fault: str, times: int | None = 1, *, retry_after: str | None = None
    ) -> Rule:
        """The next ``times`` requests whose target matches ``pattern`` get ``fault``."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {sorted(FAULTS)}")
        rule = Rule(re.compile(pattern), fault, times, retry_after)
        with self._lock:
            self.rules.append(rule)
        return rule

    def rate_limit(self, pattern: str = "", times: int | None = 1, retry_after: str = "1") -> Rule:
        """429 with ``Retry-After`` for the next ``times`` matching requests."""
        return self.fail(pattern, "429", times, retry_after=retry_after)

    def hold(self, pattern: str = "", times: int | None = None) -> Gate:
        """Matching requests wait until the returned gate is released."""
        gate = Gate()
        with self._lock:
            self.rules.append(Rule(re.compile(pattern), "hold", times, gate=gate))
        return gate

    def clear_faults(self) -> None:
        """Forget every rule (held requests are let go) and the queued faults."""
        with self._lock:
            rules, self.rules = self.rules, []
            self.faults.clear()
            self.always = ""
        for rule in rules:
            if rule.gate is not None:
                rule.gate.release()

    def release(self) -> None:
        for rule in list(self.rules):
            if rule.gate is not None:
                rule.gate.release()

    # -- the log -------------------------------------------------------------

    def requests(self, pattern: str = "") -> list[Request]:
        """Logged requests whose target matches ``pattern`` (all of them by default)."""
        rx = re.compile(pattern)
        with self._lock:
            return [r for r in self.log if isinstance(r, Request) and rx.search(r.target)]

    def targets(self, pattern: str = "") -> list[str]:
        return [r.target for r in self.requests(pattern)]

    # -- serving -------------------------------------------------------------

    def serve(
        self,
        method: str,
        raw_path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        """Log one request and answer it: a rule's fault, a queued fault, or :meth:`route`."""
        target = describe(method, raw_path, params)
        with self._lock:
            rule = next((r for r in self.rules if r.matches(target)), None)
            if rule is not None:
                rule.fired += 1
                if rule.times is not None:
                    rule.times -= 1
                fault = rule.fault
            else:
                fault = self.faults.pop(0) if self.faults else self.always
        if fault == "hold":
            assert rule is not None and rule.gate is not None
            rule.gate._hold()
            fault = ""
        if fault in ("", "truncated"):
            status, out, data = self.route(method, raw_path, params, body, headers)
            if fault == "truncated":
                data = data[: len(data) // 2]
        elif fault == "reset":
            status, out, data = 0, {}, b""
        elif fault == "429":
            kind, text = self.rate_limit_body
            out = {"Content-Type": kind}
            retry = rule.retry_after if rule is not None else self.retry_after
            if retry:
                out["Retry-After"] = retry
            status, data = 429, text
        else:
            status, out, data = self._fault(fault)
        with self._lock:
            self.log.append(
                Request(
                    method,
                    raw_path,
                    params,
                    body,
                    headers,
                    status,
                    fault if rule is None or rule.fault != "hold" else "hold",
                    target,
                    rule.pattern.pattern if rule is not None else "",
                )
            )
        return status, out, data

    def answer(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        return self.serve(method, path, params, body, headers)


def describe(method: str, raw_path: str, params: dict[str, list[str]]) -> str:
    """``METHOD path?query``, decoded: what fault patterns are matched against."""
    query = "&".join(f"{k}={v}" for k, vs in params.items() for v in vs)
    return f"{method} {unquote(raw_path)}" + (f"?{query}" if query else "")


def encode_params(params: dict[str, Iterable[str]]) -> str:
    return urlencode([(k, v) for k, vs in params.items() for v in vs])


class _ScriptedHandler(QuietHandler):
    fake: ScriptedApi

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def _serve(self, method: str) -> None:
        body = self.read_body()
        parts = urlsplit(self.path)
        params = parse_qs(parts.query, keep_blank_values=True)
        if method == "POST" and "form-urlencoded" in (self.headers.get("Content-Type") or ""):
            for k, vs in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
                params.setdefault(k, []).extend(vs)
        status, headers, data = self.fake.serve(
            method, parts.path, params, body, dict(self.headers.items())
        )
        if status == 0:  # "reset": no answer at all
            self.close_connection = True
            return
        self.reply(status, headers.items(), data, send_body=method != "HEAD")
