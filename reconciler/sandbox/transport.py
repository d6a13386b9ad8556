"""The in-process httpx transport: real HTTP semantics without a socket.

A ``drop`` fault surfaces as ``httpx.RemoteProtocolError`` raised from ``handle_request``, exactly
what httpx raises when a server closes the connection without answering. A ``delay`` longer than
the request's read timeout sleeps for the timeout and raises ``httpx.ReadTimeout`` (the request
is still performed, as a slow server would); a ``stall`` does the same without performing it. A
``trickle`` answer's body comes one byte per interval, an ``endless`` one never ends: both are
streams produced while the client reads them.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx

from .http import STREAM_KEY, TRICKLE_KEY, ClientTimedOut, ConnectionDropped, Stalled

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SandboxTransport(httpx.BaseTransport):
    """Calls the WSGI app directly for every request."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        url = request.url
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": url.path.encode("utf-8").decode("latin-1"),
            "QUERY_STRING": url.query.decode("ascii", "replace"),
            "SERVER_NAME": url.host or "sandbox.local",
            "SERVER_PORT": str(url.port or (443 if url.scheme == "https" else 80)),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in request.headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ["HTTP_" + key] = value
        timeout = request.extensions.get("timeout", {}).get("read")
        if timeout is not None:
            environ["sandbox.read_timeout"] = float(timeout)

        started: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            started["status"] = int(status.split(" ", 1)[0])
            started["headers"] = headers

        try:
            result = self.app(environ, start_response)
            if environ.get(STREAM_KEY):
                return httpx.Response(
                    started["status"],
                    headers=started["headers"],
                    stream=_Stream(iter(result)),
                    request=request,
                )
            content = b"".join(result)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
        except (ClientTimedOut, Stalled):
            raise httpx.ReadTimeout("timed out", request=request) from None
        interval = environ.get(TRICKLE_KEY)
        if interval:
            sleep = getattr(self.app, "sleep", time.sleep)
            return httpx.Response(
                started["status"],
                headers=started["headers"],
                stream=_Stream(_trickle(content, float(interval), sleep)),
                request=request,
            )
        return httpx.Response(
            started["status"], headers=started["headers"], content=content, request=request
        )


class _Stream(httpx.SyncByteStream):
    """A response body produced while it is read (trickled or endless)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


def _trickle(content: bytes, interval: float, sleep: Callable[[float], None]) -> Iterator[bytes]:
    for index in range(len(content)):
        if index:
            sleep(interval)
        yield content[index : index + 1]
