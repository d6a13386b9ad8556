"""The network transport verifies certificates and host names, with one TLS context; over a
loopback TLS server with a self-signed certificate it keeps connections alive and bounds waits.

``BoundedTransport`` replaces the pool ``httpx.HTTPTransport`` builds; the context it hands
both is made once (loading the CA certificates is about 25 ms of CPU, paid by every command
that talks to a store).
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.api import network
from tests.api.wireserver import WireServer, always, in_turn


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


# ------------------------------------------------------------------------ a loopback TLS server


def _certificate(folder: Path, name: str, alt_names: str) -> tuple[Path, Path]:
    """A self-signed certificate and its key (made by the ``openssl`` command)."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert),
            "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName={alt_names}",
            "-addext", "basicConstraints=critical,CA:TRUE",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    return {
        "loopback": _certificate(folder, "localhost", "DNS:localhost,IP:127.0.0.1"),
        "elsewhere": _certificate(folder, "other.example", "DNS:other.example"),
    }


def _server_context(pair: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*pair)
    return context


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"


def test_https_verifies_and_keeps_the_connection_alive(
    certificates: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates["loopback"][0]))
    tls = _server_context(certificates["loopback"])
    answer = in_turn((OK, False), (CHUNKED, False))
    transport = network.BoundedTransport(lambda: None, time.monotonic)
    with WireServer(answer, tls=tls) as server, httpx.Client(transport=transport) as client:
        first = client.get(server.url + "/a")
        second = client.get(server.url + "/b")
        assert (first.content, second.content) == (b"ok", b"abc")
        assert server.connections == 1
        assert first.extensions["http_version"] == b"HTTP/1.1"


@pytest.mark.parametrize(
    ("trusted", "served"), [("", "loopback"), ("elsewhere", "elsewhere")], ids=["unknown", "name"]
)
def test_an_untrusted_certificate_or_another_name_is_a_connect_error(
    trusted: str,
    served: str,
    certificates: dict[str, tuple[Path, Path]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A certificate no authority vouches for, or one for another host, is refused before a
    byte of the request is sent (``ConnectError``: the request provably never left)."""
    if trusted:
        monkeypatch.setenv("SSL_CERT_FILE", str(certificates[trusted][0]))
    else:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    tls = _server_context(certificates[served])
    transport = network.BoundedTransport(lambda: None, time.monotonic)
    with WireServer(always(OK), tls=tls) as server, httpx.Client(transport=transport) as client:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            client.get(server.url)
        assert server.requests == []


def test_a_stalled_tls_answer_ends_at_the_cutoff(
    certificates: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request's cutoff bounds the wait for an answer over TLS too, in slices."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates["loopback"][0]))
    tls = _server_context(certificates["loopback"])
    stalled = threading.Event()

    def stall(_index: int, _raw: bytes) -> tuple[bytes | None, bool]:
        stalled.wait(10)
        return None, True

    cutoff = [time.monotonic() + 0.5]
    transport = network.BoundedTransport(lambda: cutoff[0], time.monotonic)
    try:
        with WireServer(stall, tls=tls) as server, httpx.Client(transport=transport) as client:
            with pytest.raises(httpx.ReadTimeout):
                client.get(server.url)
            assert len(server.requests) == 1
    finally:
        stalled.set()
