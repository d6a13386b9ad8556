"""A loopback HTTP/1.1 server that answers with scripted bytes, for the wire tests.

Each request (head and ``Content-Length`` body) is recorded as it arrived; ``answer(index,
raw)`` gives the bytes to send back and whether to close the connection after them (``None``:
close without a byte). Connections accepted are counted, so that a test sees keep-alive reuse.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from types import TracebackType

Answer = Callable[[int, bytes], tuple[bytes | None, bool]]


class WireServer:
    def __init__(
        self, answer: Answer, tls: ssl.SSLContext | None = None, *, trickle: float = 0.0
    ) -> None:
        """``trickle``: send each answer byte by byte, this many seconds apart."""
        self._answer = answer
        self._tls = tls
        self._trickle = trickle
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self.requests: list[bytes] = []
        self.connections = 0
        self.closed = 0
        """Connections this server has closed."""
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, raw_conn: socket.socket) -> None:
        conn = raw_conn
        try:
            conn.settimeout(10)
            if self._tls is not None:
                conn = self._tls.wrap_socket(raw_conn, server_side=True)
                with self._lock:
                    self._open.append(conn)
            buffer = b""
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                raw = head + b"\r\n\r\n" + buffer[:length]
                buffer = buffer[length:]
                with self._lock:
                    index = len(self.requests)
                    self.requests.append(raw)
                reply, close = self._answer(index, raw)
                if reply and self._trickle:
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    for at in range(len(reply)):
                        conn.sendall(reply[at : at + 1])
                        time.sleep(self._trickle)
                elif reply:
                    conn.sendall(reply)
                if close or reply is None:
                    return
        except (OSError, ValueError):
            return
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
            with self._lock:
                self.closed += 1

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._accepting.join(5)
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> WireServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def always(reply: bytes | None, close: bool = False) -> Answer:
    """The same answer to every request."""
    return lambda _index, _raw: (reply, close)


def in_turn(*replies: tuple[bytes | None, bool]) -> Answer:
    """One answer per request, in order (the last one repeated)."""
    return lambda index, _raw: replies[min(index, len(replies) - 1)]
