"""The in-process httpx transport: real HTTP semantics without a socket.

A ``drop`` fault surfaces as ``httpx.RemoteProtocolError`` raised from ``handle_request``, exactly
what httpx raises when a server closes the connection without answering. A ``delay`` longer than
the request's read timeout sleeps for the timeout and raises ``httpx.ReadTimeout`` (the request
is still performed, as a slow server would).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from .http import ClientTimedOut, ConnectionDropped

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
            content = b"".join(self.app(environ, start_response))
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
        except ClientTimedOut:
            raise httpx.ReadTimeout("timed out", request=request) from None
        return httpx.Response(
            started["status"], headers=started["headers"], content=content, request=request
        )
