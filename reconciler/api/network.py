"""The network under httpx, with every socket wait bounded by the request's cutoff.

httpx's timeouts are per operation: a read timeout of 30 s allows a server that sends one byte
every 29 s to hold a request for hours, and a blocked read does not notice Ctrl-C. This backend
gives httpcore streams whose ``read`` waits in short slices (``SLICE``) until data comes, the
operation's own timeout passes, or the cutoff passes (the request's deadline, the command's
``--timeout``, or the grace after a stop: ``cutoff()`` is asked again at every slice). Writes,
connects and TLS handshakes are bounded by the cutoff too, in one piece.

httpx offers no parameter for the network backend, so ``BoundedTransport`` builds the same
connection pool as ``httpx.HTTPTransport`` does, over this backend.
"""

from __future__ import annotations

import ssl
import typing
from collections.abc import Callable, Iterable

import httpcore
import httpx

SLICE = 0.1
"""Longest single socket wait: how soon a new cutoff (a stop) is noticed."""

Cutoff = Callable[[], float | None]
"""The moment (on ``clock``) after which I/O of the request in flight is abandoned."""


class _Bounds:
    def __init__(self, cutoff: Cutoff, clock: Callable[[], float]) -> None:
        self.cutoff = cutoff
        self.clock = clock

    def left(self, timeout: float | None, started: float) -> float | None:
        """Seconds this operation may still wait (None: no bound)."""
        now = self.clock()
        bounds = []
        if timeout is not None:
            bounds.append(started + timeout - now)
        cutoff = self.cutoff()
        if cutoff is not None:
            bounds.append(cutoff - now)
        return min(bounds) if bounds else None


class BoundedStream(httpcore.NetworkStream):
    """An httpcore stream whose waits end at the cutoff, noticed within ``SLICE``."""

    def __init__(self, inner: httpcore.NetworkStream, bounds: _Bounds) -> None:
        self._inner = inner
        self._bounds = bounds

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        started = self._bounds.clock()
        while True:
            left = self._bounds.left(timeout, started)
            if left is not None and left <= 0:
                raise httpcore.ReadTimeout("no answer before the request's deadline")
            wait = SLICE if left is None else min(SLICE, left)
            try:
                return self._inner.read(max_bytes, wait)
            except httpcore.ReadTimeout:
                continue  # nothing was read in this slice; look at the bounds again

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        left = self._bounds.left(timeout, self._bounds.clock())
        if left is not None and left <= 0:
            raise httpcore.WriteTimeout("the request's deadline passed")
        self._inner.write(buffer, left)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = self._bounds.left(timeout, self._bounds.clock())
        if left is not None and left <= 0:
            raise httpcore.ConnectTimeout("the request's deadline passed")
        return BoundedStream(
            self._inner.start_tls(ssl_context, server_hostname, left), self._bounds
        )

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class BoundedBackend(httpcore.NetworkBackend):
    """``httpcore.SyncBackend`` whose streams are ``BoundedStream``."""

    def __init__(self, cutoff: Cutoff, clock: Callable[[], float]) -> None:
        self._inner = httpcore.SyncBackend()
        self._bounds = _Bounds(cutoff, clock)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = self._bounds.left(timeout, self._bounds.clock())
        if left is not None and left <= 0:
            raise httpcore.ConnectTimeout("the request's deadline passed")
        stream = self._inner.connect_tcp(host, port, left, local_address, socket_options)
        return BoundedStream(stream, self._bounds)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:  # pragma: no cover - the API is never on a unix socket
        stream = self._inner.connect_unix_socket(path, timeout, socket_options)
        return BoundedStream(stream, self._bounds)

    def sleep(self, seconds: float) -> None:  # pragma: no cover - used by httpcore retries only
        self._inner.sleep(seconds)


class BoundedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` over ``BoundedBackend`` (default limits, TLS verified)."""

    def __init__(self, cutoff: Cutoff, clock: Callable[[], float]) -> None:
        ssl_context = httpx.create_ssl_context()  # once: loading the CA certificates costs
        super().__init__(verify=ssl_context)  # ~25 ms of CPU (the pool it builds is replaced)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=BoundedBackend(cutoff, clock),
        )
