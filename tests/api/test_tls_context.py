"""The network transport verifies certificates and host names, with one TLS context.

``BoundedTransport`` replaces the pool ``httpx.HTTPTransport`` builds; the context it hands
both is made once (loading the CA certificates is about 25 ms of CPU, paid by every command
that talks to a store).
"""

from __future__ import annotations

import ssl
import time
from typing import Any

import httpx
import pytest

from reconciler.api import network


def test_the_transport_verifies_with_one_context(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[ssl.SSLContext] = []
    real = httpx.create_ssl_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = real(*args, **kwargs)
        if context not in made:
            made.append(context)
        return context

    monkeypatch.setattr(httpx, "create_ssl_context", counted)
    monkeypatch.setattr("httpx._transports.default.create_ssl_context", counted)
    transport = network.BoundedTransport(lambda: None, time.monotonic)
    try:
        assert len(made) == 1
        context = transport._pool._ssl_context
        assert context is made[0]
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname
    finally:
        transport.close()
