"""What every loopback fake shares: a real HTTP server in a thread, and a quiet request handler.

:class:`LoopbackServer` listens on :attr:`~LoopbackServer.address` (a
loopback address, an ephemeral port; where only 127.0.0.1 can be bound,
that is used instead) and serves with the handler class that
:meth:`~LoopbackServer.make_handler` returns.  URLs name
:attr:`~LoopbackServer.host_name` when it is set (``localhost`` and
``127.0.0.1`` are two hosts for the HTTP client), else the address.
:meth:`~LoopbackServer.release` is called first thing on :meth:`stop`, for
fakes that hold answers back (slow answers, gates): a stopping server must
not wait for them.

:class:`QuietHandler` is ``BaseHTTPRequestHandler`` speaking HTTP/1.1
without Nagle's delay and without logging, with :meth:`QuietHandler.reply`
to send a whole answer to a client that may have given up already.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LoopbackServer:
    """``with Fake() as fake: ... fake.base ... fake.port``; subclasses implement :meth:`make_handler`."""

    address = "127.0.0.1"
    host_name = ""

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None

    def make_handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> Self:
        handler = self.make_handler()
        try:
            self._server = ThreadingHTTPServer((self.address, 0), handler)
        except OSError:
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def release(self) -> None:
        """Let go of answers held back (called when the server stops)."""

    def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def host(self) -> str:
        """The address listened on."""
        assert self._server is not None, "server not started"
        return str(self._server.server_address[0])

    @property
    def base(self) -> str:
        return f"http://{self.host_name or self.host}:{self.port}"


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's
        # algorithm and delayed ACKs add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(
        self,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        *,
        send_body: bool = True,
    ) -> None:
        """Status, headers, ``Content-Length`` and (unless ``send_body`` is False) the body."""
        try:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
        except OSError:
            pass  # the client gave up (its read timeout): nothing to tell it

    def log_message(self, format: str, *args: object) -> None:
        pass  # tests read the fakes' request logs, not stderr
