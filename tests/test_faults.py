"""Network faults: every case ends with the records written and a one-line message, in time.

A :class:`FaultServer` (raw sockets on 127.0.0.1) stands in front of the
loopback fakes and breaks the answers the way networks and servers do:
refused connections, resets in the middle of a body, bodies shorter than
announced, truncated XML and JSON, wrong content types, HTML error pages
with status 200, 10 MB bodies, answers dripped a byte at a time
(slow-loris), stalls, redirects to other hosts, and TLS with a self-signed
certificate.  Time is a :class:`fakes.FakeClock` (backoff and pacing never
sleep); only the socket timeouts of the slow cases are real, and they are
configured small.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import shutil
import socket
import socketserver
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from fakes import FakeClock
from fakes.arxiv_server import FakeArxiv, Paper, feed
from fakes.github_server import FakeGitHub, synthetic_repo

from bibtools.changes import Outcome
from bibtools.cli import main
from bibtools.convert import read_text, write
from bibtools.enrich import enrich
from bibtools.http import HostPolicy, HttpClient, host_of
from bibtools.model import Name, Record
from bibtools.sources.arxiv import ArxivClient

PAPERS = [
    Paper(
        "1605.08386",
        "Heat-bath random walks with Markov bases",
        ["Caprice Stanley", "Tobias Windisch"],
        journal_ref="Adv. Appl. Math. 92 (2018)",
    ),
    Paper("1706.03762", "Attention Is All You Need", ["Ashish Vaswani", "Noam Shazeer"]),
]
TOKEN = "ghp_FAULTSUITE0123456789"
# Small, so that the slow cases take about a second of real time each.
TIMEOUT = (0.5, 0.5)
DEADLINE = 1.0


# --------------------------------------------------------------------------
# The fault server


@dataclass
class Logged:
    method: str
    path: str
    headers: dict[str, str]


Handler = Callable[["_Connection", str, str, dict[str, str], bytes], bool]


@dataclass
class FaultServer:
    """Answers each request with the next fault of ``plan``, then forwards to ``upstream``.

    A fault is a function writing (or not) an answer on the raw socket; it
    returns False when the connection is finished with.  Without an
    upstream, a request past the plan gets a 404.
    """

    upstream: str = ""
    tls: ssl.SSLContext | None = None
    plan: list[Handler] = field(default_factory=list)
    repeat: Handler | None = None  # answers every request once the plan is spent
    log: list[Logged] = field(default_factory=list)
    host_name: str = "127.0.0.1"

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        outer = self

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        class RequestHandler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock = self.request
                if outer.tls is not None:
                    try:
                        sock = outer.tls.wrap_socket(sock, server_side=True)
                    except (ssl.SSLError, OSError):
                        return  # the client refused our certificate
                _Connection(outer, sock).serve()

        self._server = Server(("127.0.0.1", 0), RequestHandler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    @property
    def base(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host_name}:{self._server.server_address[1]}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def next_handler(self) -> Handler | None:
        with self._lock:
            if self.plan:
                return self.plan.pop(0)
            return self.repeat

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Connection:
    def __init__(self, server: FaultServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.file = sock.makefile("rb")

    def serve(self) -> None:
        try:
            while not self.server.stopping.is_set():
                request = self._read_request()
                if request is None:
                    return
                method, path, headers, body = request
                with self.server._lock:
                    self.server.log.append(Logged(method, path, headers))
                handler = self.server.next_handler() or forward
                if not handler(self, method, path, headers, body):
                    return
        except OSError:
            return  # the client went away (its timeout): nothing to tell it
        finally:
            with contextlib.suppress(OSError):
                self.sock.close()

    def _read_request(self) -> tuple[str, str, dict[str, str], bytes] | None:
        line = self.file.readline(65537)
        if not line:
            return None
        method, path, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            raw = self.file.readline(65537)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip()] = value.strip()
        length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
        return method, path, headers, self.file.read(length) if length else b""

    def send_head(self, status: int, headers: dict[str, str]) -> None:
        lines = [f"HTTP/1.1 {status} {http.client.responses.get(status, 'X')}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def answer(self, status: int, body: bytes, content_type: str, **extra: str) -> None:
        self.send_head(
            status, {"Content-Type": content_type, "Content-Length": str(len(body)), **extra}
        )
        self.sock.sendall(body)


# -- faults (each returns whether the connection may serve another request) --


def forward(
    conn: _Connection, method: str, path: str, headers: dict[str, str], body: bytes
) -> bool:
    if not conn.server.upstream:
        conn.answer(404, b"not found", "text/plain")
        return True
    parts = urlsplit(conn.server.upstream)
    upstream = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
    upstream.request(method, path, body=body or None, headers=sent)
    reply = upstream.getresponse()
    data = reply.read()
    kept = {
        k: v
        for k, v in reply.getheaders()
        if k.lower() not in ("content-length", "transfer-encoding", "connection")
    }
    upstream.close()
    conn.send_head(reply.status, {**kept, "Content-Length": str(len(data))})
    if method != "HEAD":
        conn.sock.sendall(data)
    return True


def refuse_after_accept(conn: _Connection, *_: object) -> bool:
    return False  # close without a word: "connection aborted"


def reset_mid_body(conn: _Connection, *_: object) -> bool:
    conn.send_head(200, {"Content-Type": "application/atom+xml", "Content-Length": "100000"})
    conn.sock.sendall(b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'>" * 20)
    # SO_LINGER with a zero timeout: close() sends a RST, not a FIN.
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return False


def short_body(conn: _Connection, *_: object) -> bool:
    conn.send_head(200, {"Content-Type": "application/json", "Content-Length": "5000"})
    conn.sock.sendall(b'{"id": 1, "full_name": "a/b", "name": ')
    return False


def answer(status: int, body: bytes, content_type: str, **headers: str) -> Handler:
    def handler(conn: _Connection, *_: object) -> bool:
        conn.answer(status, body, content_type, **headers)
        return True

    return handler


def drip(conn: _Connection, *_: object) -> bool:
    """Slow-loris: a byte every 50 ms, each well within the read timeout."""
    conn.send_head(200, {"Content-Type": "application/atom+xml", "Content-Length": "1000000"})
    while not conn.server.stopping.wait(0.05):
        conn.sock.sendall(b" ")
    return False


def stall(conn: _Connection, *_: object) -> bool:
    conn.send_head(200, {"Content-Type": "application/json", "Content-Length": "100"})
    conn.server.stopping.wait(10)
    return False


def redirect(location: str, status: int = 301) -> Handler:
    def handler(conn: _Connection, *_: object) -> bool:
        conn.answer(status, b"", "text/html", Location=location)
        return True

    return handler


def redirect_to_itself(conn: _Connection, method: str, path: str, *_: object) -> bool:
    conn.answer(302, b"", "text/html", Location=path)
    return True


def reason_with_escapes(conn: _Connection, *_: object) -> bool:
    """A 503 whose reason phrase clears the terminal and retitles its window."""
    conn.sock.sendall(b"HTTP/1.1 503 \x1b[2J\x1b]0;pwned\x07Busy\r\nContent-Length: 0\r\n\r\n")
    return True


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# arXiv behind the fault server


@pytest.fixture
def arxiv() -> Iterator[FakeArxiv]:
    with FakeArxiv(PAPERS) as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def records() -> list[Record]:
    return [
        Record(
            key="stanley2016",
            title="Heat-bath random walks with {Markov} bases",
            authors=[Name("Stanley", "Caprice")],
            arxiv_id="1605.08386",
            origin_file="refs.bib",
            origin_line=1,
        ),
        Record(
            key="vaswani2017",
            title="Attention is all you need",
            authors=[Name("Vaswani", "Ashish")],
            origin_file="refs.bib",
            origin_line=7,
        ),
    ]


def arxiv_run(
    api: str, clock: FakeClock, *, insecure: bool = False, retries: int = 2
) -> tuple[object, HttpClient, float]:
    """enrich() over arXiv at ``api``; (result, client, real seconds)."""
    http = HttpClient(clock=clock, rng=random.Random(1), insecure=insecure)
    client = ArxivClient(http, api_url=api, delay=0, timeout=TIMEOUT, retries=retries)
    host = host_of(api)
    http.set_policy(host, replace(http.policy_for(host), deadline=DEADLINE))
    started = time.monotonic()
    result = enrich(records(), http=http, sources=("arxiv",), arxiv=client)
    return result, http, time.monotonic() - started


def assert_records_and_one_line_messages(result: object, *, failed: bool) -> list[str]:
    """Every record comes back and can be written; every problem is one line naming a record."""
    recs = result.records  # type: ignore[attr-defined]
    assert [r.key for r in recs] == ["stanley2016", "vaswani2017"]
    text = write([r.copy() for r in recs], "bibtex").text
    assert text.count("@") == 2
    messages = [str(d) for d in result.diagnostics]  # type: ignore[attr-defined]
    assert all("\n" not in m and "Traceback" not in m for m in messages)
    outcomes = {r.key: r.outcome for r in result.reports}  # type: ignore[attr-defined]
    if failed:
        assert set(outcomes.values()) == {Outcome.FAILED}, outcomes
        assert len([m for m in messages if "not enriched (failed)" in m]) == 2
        assert all(m.startswith("refs.bib:") for m in messages)
    else:
        assert set(outcomes.values()) == {Outcome.ENRICHED}, (outcomes, messages)
    return messages


def bound(retries: int) -> float:
    """Real seconds a failing run may take: every attempt of both queries at its deadline, and slack."""
    return 2 * (retries + 1) * (TIMEOUT[0] + DEADLINE) + 5.0


@pytest.mark.parametrize(
    ("name", "fault", "problem"),
    [
        ("closed after accept", refuse_after_accept, "connection failed"),
        ("reset mid-body", reset_mid_body, "broken answer"),
        ("body shorter than announced", short_body, "broken answer"),
        (
            "truncated XML",
            answer(200, feed([], "", "", 0, 10, 0).encode()[:300], "application/atom+xml"),
            "not well-formed",
        ),
        (
            "HTML error page with 200",
            answer(
                200,
                b"<html><body><h1>Rate exceeded.</h1><p>Try later<br></body></html>",
                "text/html",
            ),
            "not an Atom feed",
        ),
        (
            "10 MB of HTML with 200",
            answer(200, b"<html>" + b"<p>busy</p>" * 950_000 + b"</html>", "text/html"),
            "not an Atom feed",
        ),
        ("slow-loris", drip, "not complete after 1 s"),
        ("stall", stall, "no answer within the read timeout"),
    ],
)
@pytest.mark.slow
def test_arxiv_faults_end_with_the_records_and_one_line_per_record(
    name: str, fault: Handler, problem: str, clock: FakeClock
) -> None:
    with FaultServer(repeat=fault) as server:
        result, _http, seconds = arxiv_run(server.url("/api/query"), clock)
    messages = assert_records_and_one_line_messages(result, failed=True)
    assert any(problem in m for m in messages), messages
    assert seconds < bound(2), f"{name}: {seconds:.1f} s"
    # A broken transport is retried (its backoffs asked of the fake clock, never
    # slept for real); an answer that came whole but is not a feed is not.
    refused = problem in ("not well-formed", "not an Atom feed")
    assert len(clock.sleeps) == (0 if refused else 2), clock.sleeps


def test_connection_refused(clock: FakeClock) -> None:
    result, http, seconds = arxiv_run(f"http://127.0.0.1:{closed_port()}/api/query", clock)
    messages = assert_records_and_one_line_messages(result, failed=True)
    assert any("connection failed (after 3 attempts)" in m for m in messages), messages
    # The host failed once; the second query failed fast without a new attempt.
    stats = next(iter(http.stats.values()))
    assert stats.sent == 3 and stats.failures == 2
    assert seconds < bound(2)


@pytest.mark.parametrize(
    "fault",
    [reset_mid_body, short_body, refuse_after_accept, drip],
    ids=["reset", "short body", "closed", "slow-loris"],
)
@pytest.mark.slow
def test_one_fault_then_a_good_answer_is_retried_and_enriched(
    fault: Handler, arxiv: FakeArxiv, clock: FakeClock
) -> None:
    with FaultServer(upstream=arxiv.url, plan=[fault]) as server:
        result, _http, _ = arxiv_run(server.url("/api/query"), clock)
    assert_records_and_one_line_messages(result, failed=False)
    assert len(clock.sleeps) == 1  # one backoff, on the clock


def test_wrong_content_type_is_not_a_reason_to_refuse_a_feed(
    arxiv: FakeArxiv, clock: FakeClock
) -> None:
    status, body = arxiv.search({"id_list": "1605.08386", "max_results": "1"})
    plan = [answer(status, body.encode(), "application/json")]
    with FaultServer(upstream=arxiv.url, plan=plan) as server:
        result, _http, _ = arxiv_run(server.url("/api/query"), clock)
    assert_records_and_one_line_messages(result, failed=False)


@pytest.mark.slow
def test_a_10_mb_feed_is_read(clock: FakeClock) -> None:
    big = [replace(PAPERS[0], abstract="Markov bases. " * 750_000), PAPERS[1]]
    with FakeArxiv(big) as fake:
        result, _http, _ = arxiv_run(fake.url, clock)
    assert_records_and_one_line_messages(result, failed=False)
    assert len(result.records[0].abstract) > 10_000_000  # type: ignore[attr-defined]


def test_an_answer_over_the_size_limit_is_refused_at_once(clock: FakeClock) -> None:
    body = b"<html>" + b"x" * 3_000_000 + b"</html>"
    with FaultServer(repeat=answer(200, body, "text/html")) as server:
        http = HttpClient(clock=clock, rng=random.Random(1))
        http.set_policy("127.0.0.1", HostPolicy(timeout=TIMEOUT, max_bytes=2 * 2**20))
        client = ArxivClient(http, api_url=server.url("/api/query"), delay=0, timeout=TIMEOUT)
        http.set_policy("127.0.0.1", replace(http.policy_for("127.0.0.1"), max_bytes=2 * 2**20))
        result = enrich(records(), http=http, sources=("arxiv",), arxiv=client)
        assert len(server.log) == 1  # not retried: the same answer would come again
    messages = assert_records_and_one_line_messages(result, failed=True)
    assert any("answer larger than 2 MB" in m for m in messages)


# --------------------------------------------------------------------------
# TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, cert


@pytest.fixture
def https_arxiv(arxiv: FakeArxiv, certificate: tuple[Path, Path]) -> Iterator[FaultServer]:
    key, cert = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with FaultServer(upstream=arxiv.url, tls=context) as server:
        yield server


def test_a_self_signed_certificate_is_refused_at_once(
    https_arxiv: FaultServer, clock: FakeClock
) -> None:
    result, http, _ = arxiv_run(https_arxiv.url("/api/query"), clock)
    messages = assert_records_and_one_line_messages(result, failed=True)
    assert any("TLS certificate not accepted (certificate verify failed)" in m for m in messages)
    assert any("BIBTOOLS_INSECURE=1" in m for m in messages)
    stats = next(iter(http.stats.values()))
    assert stats.sent == 1 and stats.retries == 0  # retrying cannot fix a certificate
    assert clock.sleeps == []
    assert https_arxiv.log == []  # the handshake failed: no request was ever sent


def test_insecure_accepts_it_and_says_so_once(https_arxiv: FaultServer, clock: FakeClock) -> None:
    result, http, _ = arxiv_run(https_arxiv.url("/api/query"), clock, insecure=True)
    assert_records_and_one_line_messages(result, failed=False)
    tls = [w for w in http.warnings if "TLS certificates are not checked" in w]
    assert len(tls) == 1 and len(result.warnings) == 1  # type: ignore[attr-defined]


def test_bibtools_insecure_from_the_environment() -> None:
    assert HttpClient.from_env({"BIBTOOLS_INSECURE": "1"}, no_cache=True).insecure
    assert HttpClient.from_env({"BIBTOOLS_INSECURE": "yes"}, no_cache=True).insecure
    assert not HttpClient.from_env({"BIBTOOLS_INSECURE": "0"}, no_cache=True).insecure
    assert not HttpClient.from_env({}, no_cache=True).insecure
    assert not HttpClient.from_env(
        {"BIBTOOLS_INSECURE": "1"}, no_cache=True, insecure=False
    ).insecure


# --------------------------------------------------------------------------
# GitHub behind the fault server


@pytest.fixture
def gh(clock: FakeClock) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(
        [synthetic_repo("lab/tool", 101, stars=7), synthetic_repo("lab/other", 102, stars=3)],
        clock=clock,
        token=TOKEN,
    )
    with fake:
        yield fake


def code_records() -> list[Record]:
    return [
        Record(
            key="a",
            title="Tool",
            url="https://github.com/lab/tool",
            origin_file="r.bib",
            origin_line=1,
        ),
        Record(
            key="b",
            title="Other",
            url="https://github.com/lab/other",
            origin_file="r.bib",
            origin_line=5,
        ),
    ]


def github_run(api: str, gh: FakeGitHub, clock: FakeClock, token: bool = False) -> object:
    http = HttpClient(clock=clock, rng=random.Random(1))
    env = {"BIBTOOLS_GITHUB_API": api, "BIBTOOLS_GITHUB_WEB": gh.web_url}
    if token:
        env["GITHUB_TOKEN"] = TOKEN
    return enrich(code_records(), http=http, sources=("github",), env=env)


def assert_github_records(result: object) -> list[str]:
    recs = result.records  # type: ignore[attr-defined]
    assert [r.key for r in recs] == ["a", "b"]
    assert write([r.copy() for r in recs], "csljson").text.count('"id"') == 2
    messages = [str(d) for d in result.diagnostics]  # type: ignore[attr-defined]
    assert all("\n" not in m and TOKEN not in m for m in messages)
    return messages


@pytest.mark.parametrize(
    "fault",
    [
        reset_mid_body,
        short_body,
        answer(200, b'{"id": 101, "full_name": "lab/to', "application/json"),
        answer(
            200, b"<html><body>Unicorn! This page is taking too long</body></html>", "text/html"
        ),
        answer(200, b'{"padding": "' + b"x" * 10_000_000 + b'"}', "application/json"),
        answer(200, b"<?xml version='1.0'?><repo/>", "application/xml"),
        answer(200, b"[" * 100_000 + b"]" * 100_000, "application/json"),
    ],
    ids=[
        "reset",
        "short body",
        "truncated JSON",
        "HTML 200",
        "10 MB JSON",
        "XML",
        "100k-deep JSON",
    ],
)
def test_github_faults_end_with_the_records_and_a_web_check(
    fault: Handler, gh: FakeGitHub, clock: FakeClock
) -> None:
    with FaultServer(upstream=gh.api_url, repeat=fault) as server:
        result = github_run(server.base, gh, clock)
    assert_github_records(result)
    # The API gave nothing usable; the web page still says the repositories exist.
    assert gh.count("web") >= 2
    # Only the link found in the url field is added, and each record says the API failed it.
    for report in result.reports:  # type: ignore[attr-defined]
        assert [c.field for c in report.changes if c.applied] in ([], ["code_links"])
    messages = [d.message for d in result.diagnostics]  # type: ignore[attr-defined]
    assert len(messages) == 2 and all("web page only" in m for m in messages), messages


def test_github_api_refused_falls_back_on_the_web_page(gh: FakeGitHub, clock: FakeClock) -> None:
    result = github_run(f"http://127.0.0.1:{closed_port()}", gh, clock)
    assert_github_records(result)
    assert gh.count("web") == 2


def test_github_answers_after_a_reset(gh: FakeGitHub, clock: FakeClock) -> None:
    with FaultServer(upstream=gh.api_url, plan=[reset_mid_body]) as server:
        result = github_run(server.base, gh, clock)
    assert_github_records(result)
    stars = [link.stars for r in result.records for link in r.code_links]  # type: ignore[attr-defined]
    assert stars == [7, 3]


@pytest.mark.parametrize("status", [301, 307, 308])
@pytest.mark.parametrize("elsewhere", ["127.0.0.1", "localhost"], ids=["other port", "other host"])
def test_the_token_does_not_follow_a_redirect_to_another_host(
    status: int, elsewhere: str, gh: FakeGitHub, clock: FakeClock
) -> None:
    with FaultServer(upstream=gh.api_url, host_name=elsewhere) as other:
        # GraphQL (POST) and REST (GET) both get sent elsewhere.
        plan = [
            redirect(other.url("/graphql"), status),
            redirect(other.url("/repos/lab/tool"), status),
            redirect(other.url("/repos/lab/other"), status),
        ]
        with FaultServer(upstream=gh.api_url, plan=plan) as api:
            result = github_run(api.base, gh, clock, token=True)
            first = api.log[0]
    assert first.headers.get("Authorization") == f"Bearer {TOKEN}"  # it was sent to the API
    assert other.log, "the redirect was not followed"
    for request in other.log:
        assert "Authorization" not in request.headers
        assert TOKEN not in repr(request.headers)
    assert_github_records(result)


# --------------------------------------------------------------------------
# The command line: the same faults, as a user sees them


BIB = """\
@article{stanley2016,
  title = {Heat-bath random walks with {Markov} bases},
  author = {Stanley, Caprice},
  eprint = {1605.08386},
  archiveprefix = {arXiv},
}

@article{vaswani2017,
  title = {Attention is all you need},
  author = {Vaswani, Ashish},
  year = {2017},
}
"""


@pytest.fixture
def no_real_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The CLI builds its own HttpClient on the system clock: make its sleeps fake."""
    sleeps: list[float] = []
    monkeypatch.setattr("bibtools.http.SystemClock.sleep", lambda self, s: sleeps.append(s))
    return sleeps


def cli_enrich(tmp_path: Path, api: str, *args: str, **env: str) -> tuple[object, str]:
    source = tmp_path / "refs.bib"
    source.write_text(BIB, encoding="utf-8")
    out = tmp_path / "out.bib"
    environment = {
        "BIBTOOLS_ARXIV_API": api,
        "BIBTOOLS_ARXIV_DELAY": "0",
        "BIBTOOLS_CACHE_DIR": str(tmp_path / "cache"),
        **env,
    }
    result = CliRunner(env=environment).invoke(
        main, ["enrich", str(source), "-o", str(out), "--force", *args]
    )
    return result, out.read_text(encoding="utf-8") if out.exists() else ""


def assert_one_line_each(stderr: str) -> list[str]:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert lines and all(line.strip() for line in lines)
    return lines


@pytest.mark.parametrize(
    "fault", [reset_mid_body, short_body, refuse_after_accept], ids=["reset", "short", "closed"]
)
def test_cli_enrich_survives_the_fault_and_writes_every_record(
    fault: Handler, tmp_path: Path, no_real_sleep: list[float]
) -> None:
    with FaultServer(repeat=fault) as server:
        result, written = cli_enrich(tmp_path, server.url("/api/query"))
    assert result.exit_code == 1, result.stderr  # type: ignore[attr-defined]
    lines = assert_one_line_each(result.stderr)  # type: ignore[attr-defined]
    assert len([line for line in lines if "not enriched (failed)" in line]) == 2
    assert lines[-1].startswith("0 enriched, 2 failed")
    assert len(read_text(written, "bibtex").records) == 2
    assert no_real_sleep  # backoff happened, without waiting


def test_cli_tls_refused_then_insecure(
    https_arxiv: FaultServer, tmp_path: Path, no_real_sleep: list[float]
) -> None:
    url = https_arxiv.url("/api/query")
    refused, written = cli_enrich(tmp_path, url)
    assert refused.exit_code == 1  # type: ignore[attr-defined]
    assert "certificate verify failed" in refused.stderr  # type: ignore[attr-defined]
    assert len(read_text(written, "bibtex").records) == 2
    accepted, written = cli_enrich(tmp_path, url, BIBTOOLS_INSECURE="1")
    assert accepted.exit_code == 0, accepted.stderr  # type: ignore[attr-defined]
    lines = assert_one_line_each(accepted.stderr)  # type: ignore[attr-defined]
    assert len([line for line in lines if "TLS certificates are not checked" in line]) == 1
    assert "Stanley, Caprice and Windisch, Tobias" in written


def test_cli_insecure_flag_is_the_environment_variable(
    https_arxiv: FaultServer, tmp_path: Path, no_real_sleep: list[float]
) -> None:
    accepted, written = cli_enrich(tmp_path, https_arxiv.url("/api/query"), "--insecure")
    assert accepted.exit_code == 0, accepted.stderr  # type: ignore[attr-defined]
    lines = assert_one_line_each(accepted.stderr)  # type: ignore[attr-defined]
    assert len([line for line in lines if "TLS certificates are not checked" in line]) == 1
    assert "Stanley, Caprice and Windisch, Tobias" in written


@pytest.mark.parametrize(
    ("variable", "source"),
    [
        ("BIBTOOLS_ARXIV_API", "arxiv"),
        ("BIBTOOLS_GITHUB_API", "github"),
        ("BIBTOOLS_GITHUB_WEB", "github"),
        ("BIBTOOLS_S2_API", "published"),
        ("BIBTOOLS_DBLP_API", "published"),
        ("BIBTOOLS_CROSSREF_API", "published"),
    ],
)
@pytest.mark.parametrize(
    "value", ["ftp://x", "file:///etc/passwd", "http://127.0.0.1:99999/api", "http://[::1/api"]
)
def test_cli_an_api_url_that_is_not_http_is_a_usage_error_before_any_request(
    variable: str, source: str, value: str, tmp_path: Path, no_real_sleep: list[float]
) -> None:
    with FaultServer() as server:  # where every other source is sent: nothing may arrive
        others = {
            name: server.url("/api")
            for name in (
                "BIBTOOLS_ARXIV_API",
                "BIBTOOLS_GITHUB_API",
                "BIBTOOLS_GITHUB_WEB",
                "BIBTOOLS_S2_API",
                "BIBTOOLS_DBLP_API",
                "BIBTOOLS_CROSSREF_API",
            )
        }
        result, written = cli_enrich(
            tmp_path,
            server.url("/api/query"),
            "--sources",
            "arxiv,github,published",
            **{**others, variable: value},
        )
    assert result.exit_code == 2, result.stderr  # type: ignore[attr-defined]
    assert assert_one_line_each(result.stderr) == [  # type: ignore[attr-defined]
        f"bibtools: error: {variable} must be an http(s) URL, not {value!r}"
    ]
    assert server.log == [] and written == ""


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        (redirect_to_itself, "more than 10 redirects (a redirect loop?)"),
        (redirect("file:///etc/passwd", 302), "redirects to 'file:///etc/passwd'"),
        (redirect("http://[::1/api", 307), "malformed URL (Invalid IPv6 URL)"),
        (redirect("http://127.0.0.1:99999/api", 301), "malformed URL (Port out of range"),
        (
            answer(
                200,
                b"\x1f\x8b\x08 not gzip",
                "application/atom+xml",
                **{"Content-Encoding": "gzip"},
            ),
            "cannot be decompressed",
        ),
    ],
    ids=["redirect loop", "file Location", "malformed Location", "port 99999", "bad gzip"],
)
def test_cli_enrich_an_unusable_answer_is_one_line_per_record_and_exit_1(
    fault: Handler, problem: str, tmp_path: Path, no_real_sleep: list[float]
) -> None:
    with FaultServer(repeat=fault) as server:
        result, written = cli_enrich(tmp_path, server.url("/api/query"))
    assert result.exit_code == 1, result.stderr  # type: ignore[attr-defined]
    lines = assert_one_line_each(result.stderr)  # type: ignore[attr-defined]
    failed = [line for line in lines if "not enriched (failed)" in line]
    assert len(failed) == 2 and all(problem in line for line in failed), lines
    assert len(read_text(written, "bibtex").records) == 2  # the records are kept
    assert no_real_sleep == []  # not retried: the same answer would come again


def test_a_reason_phrase_cannot_write_to_the_terminal(clock: FakeClock) -> None:
    with FaultServer(repeat=reason_with_escapes) as server:
        result, _http, _ = arxiv_run(server.url("/api/query"), clock)
    messages = assert_records_and_one_line_messages(result, failed=True)
    assert any("HTTP 503 [2J ]0;pwned Busy" in m for m in messages), messages
    assert not any("\x1b" in m or "\x07" in m for m in messages)


def test_the_s2_key_does_not_follow_a_redirect_to_another_host(clock: FakeClock) -> None:
    from fakes.s2_server import FakeS2, arxiv_only

    from bibtools.sources.semanticscholar import SemanticScholarClient

    key = "S2-SECRET-KEY-0123456789"
    with FakeS2([arxiv_only("1706.03762", "Attention", ["Ashish Vaswani"], 2017)]) as s2:
        elsewhere = s2.url.replace(s2.host, "localhost") if s2.host == "127.0.0.1" else s2.url
        # The "S2 endpoint" answers 307 (POST kept, body kept) to another host.
        plan = [redirect(f"{elsewhere}/paper/batch?fields=title", 307)]
        with FaultServer(plan=plan) as api:
            http = HttpClient(clock=clock, rng=random.Random(1))
            client = SemanticScholarClient(http, api_url=api.url("/graph/v1"), api_key=key)
            found = client.lookup(["ARXIV:1706.03762"])
            first = api.log[0]
        arrived = list(s2.log)
    assert first.headers.get("x-api-key") == key  # sent to the endpoint it is for
    assert arrived, "the redirect was not followed"
    assert all(key not in repr(r.headers) for r in arrived)
    assert found["ARXIV:1706.03762"].status == "found"  # the answer still counts


def test_100k_deep_json_from_the_published_apis_is_an_unusable_answer(clock: FakeClock) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with FaultServer(repeat=answer(200, deep, "application/json")) as server:
        env = {
            "BIBTOOLS_S2_API": server.url("/graph/v1"),
            "BIBTOOLS_DBLP_API": server.base,
            "BIBTOOLS_CROSSREF_API": server.base,
            "BIBTOOLS_CONTACT_EMAIL": "tests@example.org",
        }
        http = HttpClient(clock=clock, rng=random.Random(1))
        result = enrich(records(), http=http, sources=("published",), env=env)
        asked = {r.path.split("?")[0].split("/")[1] for r in server.log}
    assert asked == {"graph", "search", "works"}  # S2, DBLP and Crossref all answered it
    messages = [str(d) for d in result.diagnostics]  # type: ignore[attr-defined]
    assert [r.key for r in result.records] == ["stanley2016", "vaswani2017"]  # type: ignore[attr-defined]
    (failed,) = [m for m in messages if "not enriched (failed)" in m]
    assert "unexpected batch answer" in failed and "not DBLP's JSON" in failed
    assert "not a work list" in failed and "\n" not in failed
