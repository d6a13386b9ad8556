"""The network under httpx: a small HTTP/1.1 client whose every socket wait is bounded by the
request's cutoff.

httpx's timeouts are per operation: a read timeout of 30 s allows a server that sends one byte
every 29 s to hold a request for hours, and a blocked read does not notice Ctrl-C. Here every
read waits in short slices (``SLICE``) until data comes, the operation's own timeout passes, or
the cutoff passes (the request's deadline, the command's ``--timeout``, or the grace after a
stop: ``cutoff()`` is asked again at every slice). Writes, connects and TLS handshakes are
bounded by the cutoff too, in one piece.

Why not httpcore under ``httpx.HTTPTransport``: its HTTP/1.1 state machine (h11) parses each
answer event by event in Python, half the CPU of an exchange. ``BoundedTransport`` writes a
request in one ``sendall``, reads the head in one buffer split in C (``http11.py`` owns the
message rules) and streams the body by its framing, over keep-alive connections per origin
(the client sends one request at a time). What httpcore did is kept: the same exception classes
(a failed connect or TLS handshake is ``ConnectError``/``ConnectTimeout``, the request provably
unsent; a dead connection after the request went is ``ReadError`` or ``RemoteProtocolError``),
one TLS context verifying certificates and host names (ALPN ``http/1.1``), idle connections
dropped after ``KEEPALIVE_EXPIRY`` or when the server closed them (readable while idle), and a
connection reused only after an answer read in full that did not ask to close it. Answers that
carry bytes past their end are not trusted to frame the next one: their connection is closed.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Callable, Iterator

import httpx

from reconciler.api.http11 import (
    MAX_HEAD,
    Framing,
    body_framing,
    check_trailers,
    chunk_size,
    find_end_of_head,
    parse_head,
    request_bytes,
)

SLICE = 0.1
"""Longest single socket wait: how soon a new cutoff (a stop) is noticed."""
READ_SIZE = 64 * 1024
"""Bytes asked of the socket per read (httpcore's size)."""
KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept (httpx's default limits)."""
MAX_IDLE = 20
"""Idle connections kept at most (httpx's default limits)."""

Cutoff = Callable[[], float | None]
"""The moment (on ``clock``) after which I/O of the request in flight is abandoned."""
Origin = tuple[bytes, bytes, int]


class _Bounds:
    def __init__(self, cutoff: Cutoff, clock: Callable[[], float]) -> None:
        self.cutoff = cutoff
        self.clock = clock

    def left(self, timeout: float | None, started: float) -> float | None:
        """Seconds this operation may still wait (None: no bound)."""
        now = self.clock()
        cutoff = self.cutoff()
        if timeout is None:
            return None if cutoff is None else cutoff - now
        left = started + timeout - now
        return left if cutoff is None else min(left, cutoff - now)


class _Connection:
    """One socket to an origin."""

    __slots__ = ("_poll", "_timeout", "bounds", "expires", "sock")

    def __init__(self, sock: socket.socket, bounds: _Bounds) -> None:
        self.sock = sock
        self.bounds = bounds
        self.expires = 0.0
        self._timeout: float | None = sock.gettimeout()
        self._poll = select.poll()
        self._poll.register(sock, select.POLLIN)

    def _wait(self, seconds: float | None) -> None:
        if seconds != self._timeout:
            self.sock.settimeout(seconds)
            self._timeout = seconds

    def recv(self, request: httpx.Request, timeout: float | None) -> bytes:
        """The next bytes from the server (``b""``: it closed), waiting in slices."""
        bounds = self.bounds
        started = bounds.clock()
        while True:
            left = bounds.left(timeout, started)
            if left is not None and left <= 0:
                raise httpx.ReadTimeout("no answer before the request's deadline", request=request)
            self._wait(SLICE if left is None or left > SLICE else left)
            try:
                return self.sock.recv(READ_SIZE)
            except TimeoutError:
                continue  # nothing was read in this slice; look at the bounds again
            except OSError as exc:
                raise httpx.ReadError(_text(exc), request=request) from exc

    def send(self, data: bytes, request: httpx.Request, timeout: float | None) -> None:
        """Write ``data`` in one piece within the cutoff. A failed write is not an error here,
        as in httpcore: the answer (or its absence) read next tells what happened."""
        bounds = self.bounds
        left = bounds.left(timeout, bounds.clock())
        if left is not None and left <= 0:
            raise httpx.WriteTimeout("the request's deadline passed", request=request)
        self._wait(left)
        try:
            self.sock.sendall(data)
        except TimeoutError as exc:
            raise httpx.WriteTimeout(_text(exc), request=request) from exc
        except OSError:
            pass

    def idle_usable(self, now: float) -> bool:
        """Whether this idle connection may carry the next request: not expired, and the
        server sent nothing meanwhile (a close, or bytes no request asked for)."""
        if now > self.expires or self._poll.poll(0):
            return False
        return not (isinstance(self.sock, ssl.SSLSocket) and self.sock.pending())

    def close(self) -> None:
        self.sock.close()


def _text(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class _Pool:
    """Idle keep-alive connections per origin, and new ones."""

    def __init__(self, ssl_context: ssl.SSLContext, bounds: _Bounds) -> None:
        self._ssl_context = ssl_context
        self._bounds = bounds
        self._idle: dict[Origin, list[_Connection]] = {}

    def take(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.idle_usable(now):
                return conn
            conn.close()
        return None

    def give(self, origin: Origin, conn: _Connection) -> None:
        conn.expires = time.monotonic() + KEEPALIVE_EXPIRY
        self._idle.setdefault(origin, []).append(conn)
        if sum(len(v) for v in self._idle.values()) > MAX_IDLE:
            oldest = min((c for v in self._idle.values() for c in v), key=lambda c: c.expires)
            for conns in self._idle.values():
                if oldest in conns:
                    conns.remove(oldest)
            oldest.close()

    def connect(self, request: httpx.Request, origin: Origin, timeout: float | None) -> _Connection:
        """A new connection (TLS for https), bounded by the cutoff."""
        bounds = self._bounds
        scheme, host, port = origin
        name = host.decode("ascii")
        left = bounds.left(timeout, bounds.clock())
        if left is not None and left <= 0:
            raise httpx.ConnectTimeout("the request's deadline passed", request=request)
        try:
            sock = socket.create_connection((name, port), left)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(_text(exc), request=request) from exc
        except OSError as exc:
            raise httpx.ConnectError(_text(exc), request=request) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == b"https":
                left = bounds.left(timeout, bounds.clock())
                if left is not None and left <= 0:
                    raise httpx.ConnectTimeout("the request's deadline passed", request=request)
                sock.settimeout(left)
                sock = self._ssl_context.wrap_socket(sock, server_hostname=name)
        except TimeoutError as exc:
            sock.close()
            raise httpx.ConnectTimeout(_text(exc), request=request) from exc
        except OSError as exc:
            sock.close()
            raise httpx.ConnectError(_text(exc), request=request) from exc
        except BaseException:
            sock.close()
            raise
        return _Connection(sock, bounds)

    def close(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()


class _Body(httpx.SyncByteStream):
    """An answer's body as it arrives, by its framing; closing it gives the connection back to
    the pool when the answer was read in full and the connection may carry another."""

    def __init__(
        self,
        pool: _Pool,
        origin: Origin,
        conn: _Connection,
        request: httpx.Request,
        timeout: float | None,
        framing: Framing,
        buffered: bytes,
        reusable: bool,
    ) -> None:
        self._pool = pool
        self._origin = origin
        self._conn = conn
        self._request = request
        self._timeout = timeout
        self._framing = framing
        self._buffered = buffered
        self._reusable = reusable
        self._complete = framing == ("length", 0)
        if self._complete and buffered:
            self._reusable = False  # bytes past the end of an empty body
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        kind, length = self._framing
        if kind == "length":
            yield from self._by_length(length)
        elif kind == "chunked":
            yield from self._chunked()
        else:
            yield from self._until_close()
        self._complete = True

    def _more(self, what: str) -> bytes:
        data = self._conn.recv(self._request, self._timeout)
        if not data:
            raise httpx.RemoteProtocolError(
                f"peer closed connection without sending complete message body ({what})",
                request=self._request,
            )
        return data

    def _by_length(self, length: int) -> Iterator[bytes]:
        remaining = length
        data, self._buffered = self._buffered, b""
        while remaining:
            if not data:
                data = self._more(f"received {length - remaining} bytes, expected {length}")
            if len(data) > remaining:
                self._reusable = False  # bytes past the end: they frame nothing we asked for
                data = data[:remaining]
            remaining -= len(data)
            yield data
            data = b""
        if data:
            self._reusable = False

    def _chunked(self) -> Iterator[bytes]:
        what = "incomplete chunked read"
        buffer, pos = self._buffered, 0
        self._buffered = b""
        while True:
            eol = buffer.find(b"\r\n", pos)
            while eol < 0:
                if len(buffer) - pos > MAX_HEAD:
                    raise httpx.RemoteProtocolError(
                        "the answer has a chunk-size line without an end", request=self._request
                    )
                buffer, pos = buffer[pos:] + self._more(what), 0
                eol = buffer.find(b"\r\n")
            size = chunk_size(buffer[pos:eol])
            pos = eol + 2
            if size == 0:
                break
            while size:
                if pos >= len(buffer):
                    buffer, pos = self._more(what), 0
                end = min(len(buffer), pos + size)
                yield buffer if pos == 0 and end == len(buffer) else buffer[pos:end]
                size -= end - pos
                pos = end
            while len(buffer) - pos < 2:
                buffer, pos = buffer[pos:] + self._more(what), 0
            if buffer[pos : pos + 2] != b"\r\n":
                raise httpx.RemoteProtocolError(
                    "the answer has a chunk not followed by CRLF", request=self._request
                )
            pos += 2
        # Trailer lines, up to a blank line (at once: no trailers).
        while True:
            if buffer.startswith(b"\r\n", pos):
                pos += 2
                break
            if buffer.startswith(b"\n", pos):
                pos += 1
                break
            end = find_end_of_head(buffer, pos)
            if end >= 0:
                check_trailers(buffer[pos:end])
                pos = end
                break
            if len(buffer) - pos > MAX_HEAD:
                raise httpx.RemoteProtocolError(
                    "the answer's trailers have no end", request=self._request
                )
            buffer, pos = buffer[pos:] + self._more(what), 0
        if pos < len(buffer):
            self._reusable = False

    def _until_close(self) -> Iterator[bytes]:
        data, self._buffered = self._buffered, b""
        if data:
            yield data
        while True:
            data = self._conn.recv(self._request, self._timeout)
            if not data:
                return
            yield data

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._complete and self._reusable:
            self._pool.give(self._origin, self._conn)
        else:
            self._conn.close()


class BoundedTransport(httpx.BaseTransport):
    """An ``httpx`` transport over HTTP/1.1 connections whose waits end at the cutoff
    (TLS verified with one context; keep-alive as httpx's default limits)."""

    def __init__(self, cutoff: Cutoff, clock: Callable[[], float]) -> None:
        ssl_context = httpx.create_ssl_context()  # once: loading the CA certificates costs
        ssl_context.set_alpn_protocols(["http/1.1"])  # ~25 ms of CPU
        self._pool = _Pool(ssl_context, _Bounds(cutoff, clock))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        if scheme not in (b"http", b"https"):
            raise httpx.UnsupportedProtocol(
                f"the URL's scheme is {scheme.decode('ascii', 'replace')!r}, not http or https",
                request=request,
            )
        if not url.raw_host:
            raise httpx.UnsupportedProtocol("the URL has no host", request=request)
        origin = (scheme, url.raw_host, url.port or (443 if scheme == b"https" else 80))
        timeouts = request.extensions.get("timeout", {})
        data = request_bytes(request)
        pool = self._pool
        conn = pool.take(origin) or pool.connect(request, origin, timeouts.get("connect"))
        try:
            conn.send(data, request, timeouts.get("write"))
            read_timeout = timeouts.get("read")
            buffer = b""
            while True:
                searched = 0
                while (end := find_end_of_head(buffer, searched)) < 0:
                    if len(buffer) > MAX_HEAD:
                        raise httpx.RemoteProtocolError(
                            f"the answer's head (status line and headers) is larger than "
                            f"{MAX_HEAD // 1024} KiB",
                            request=request,
                        )
                    searched = max(0, len(buffer) - 2)
                    more = conn.recv(request, read_timeout)
                    if not more:
                        raise httpx.RemoteProtocolError(
                            "Server disconnected without sending a response.", request=request
                        )
                    buffer += more
                head = parse_head(buffer[:end])
                buffer = buffer[end:]
                if head.status >= 200:
                    break
                if head.status == 101:
                    raise httpx.RemoteProtocolError(
                        "the server switched protocols (101) unasked", request=request
                    )
                # 100 Continue, 103 Early Hints ...: the answer follows.
            framing = body_framing(request.method, head)
            body = _Body(
                pool,
                origin,
                conn,
                request,
                read_timeout,
                framing,
                buffer,
                reusable=not head.close and framing[0] != "eof",
            )
        except BaseException:
            conn.close()
            raise
        return httpx.Response(
            head.status,
            headers=head.headers,
            stream=body,
            extensions={"http_version": b"HTTP/" + head.version, "reason_phrase": head.reason},
        )

    def close(self) -> None:
        self._pool.close()
