"""The served mode: the same WSGI app behind a threaded HTTP/1.1 server on a loopback port.

A small WSGI bridge on ``http.server`` (rather than ``wsgiref``) keeps connections alive and
lets a ``drop`` fault close the socket without writing a byte, a ``stall`` hold it silent, a
``trickle`` send an answer byte by byte and an ``endless`` answer stream chunks until the client
stops reading.
"""

from __future__ import annotations

import contextlib
import io
import logging
import select
import socket
import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from .http import STREAM_KEY, TRICKLE_KEY, ClientTimedOut, ConnectionDropped, Stalled
from .transport import WsgiApp

logger = logging.getLogger("reconciler.sandbox")

HOLD_POLL = 0.05
"""Seconds between two looks, while a ``stall`` holds a connection, for a client gone away."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "b2b-sandbox"
    sys_version = ""
    timeout = 30
    disable_nagle_algorithm = True  # else each response waits for the client's delayed ACK
    server: _Server

    def send_response(self, code: int, message: str | None = None) -> None:
        """As the base class, less its own ``Date`` header: the app sends the store's."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())

    def log_message(self, format: str, *args: Any) -> None:
        """The sandbox keeps its own request log."""

    def _serve(self) -> None:
        self.server.track(self.connection, add=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ["HTTP_" + key] = value

        started: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            started["status"], started["headers"] = status, headers

        try:
            result = self.server.app(environ, start_response)
            content = b"" if environ.get(STREAM_KEY) else b"".join(result)
        except Stalled:
            self._hold()
            return
        except (ConnectionDropped, ClientTimedOut):
            self._drop()
            return
        code, _, phrase = started["status"].partition(" ")
        if environ.get(TRICKLE_KEY):
            self._trickle(int(code), phrase, started["headers"], content, environ[TRICKLE_KEY])
            return
        self.send_response(int(code), phrase)
        for name, value in started["headers"]:
            self.send_header(name, value)
        if environ.get(STREAM_KEY):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._stream(result)
            return
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    def _drop(self) -> None:
        """Close the connection without a byte."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _hold(self) -> None:
        """The ``stall`` fault: say nothing until the client leaves or the server stops."""
        self.close_connection = True
        conn = self.connection
        while not self.server.stopping.wait(HOLD_POLL):
            try:
                readable, _, _ = select.select([conn], [], [], 0)
                if readable and not conn.recv(1, socket.MSG_PEEK):
                    break  # the client closed its end
            except (OSError, ValueError):
                break
        self._drop()

    def _trickle(
        self,
        code: int,
        phrase: str,
        headers: list[tuple[str, str]],
        content: bytes,
        interval: float,
    ) -> None:
        """The ``trickle`` fault: status line, headers and body, one byte every ``interval`` s."""
        self.close_connection = True
        head = [f"{self.protocol_version} {code} {phrase}", "Connection: close"]
        head += [f"{name}: {value}" for name, value in headers]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + content
        for index in range(len(raw)):
            if index and self.server.stopping.wait(interval):
                break
            try:
                self.wfile.write(raw[index : index + 1])
            except OSError:
                break  # the client gave up
        self._drop()

    def _stream(self, chunks: Iterable[bytes]) -> None:
        """Send an answer of unknown length (``endless``) in chunks, while the client reads."""
        self.close_connection = True
        try:
            for chunk in chunks:
                if self.server.stopping.is_set():
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # the client stopped reading and closed the connection
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        self._drop()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: WsgiApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.stopping = threading.Event()
        """Set on shutdown: stalls, trickles and endless answers end."""
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (timeout, reset) is routine; anything else is logged."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        logger.error("sandbox server error for %s", client_address, exc_info=error)

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._open.add(conn)
            else:
                self._open.discard(conn)

    def close_all(self) -> None:
        with self._lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class ServedSandbox:
    """A running server: ``.url``, ``.b2b_url``, ``.core_url``, ``.shutdown()``."""

    def __init__(
        self, app: WsgiApp, host: str = "127.0.0.1", port: int = 0, store_hash: str = ""
    ) -> None:
        self._server = _Server((host, port), app)
        bound_host, bound_port = self._server.server_address[:2]
        host_text = bound_host.decode() if isinstance(bound_host, bytes) else str(bound_host)
        shown = f"[{host_text}]" if ":" in host_text else host_text
        self.url = f"http://{shown}:{bound_port}"
        self.b2b_url = self.url + "/api/v3/io"
        self.core_url = self.url
        self.store_hash = store_hash
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._closed = False

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def shutdown(self) -> None:
        """Stop serving, close open connections and the listening socket (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._server.stopping.set()
        self._server.shutdown()
        self._server.close_all()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ServedSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()
