"""The HTTP/1.1 client under ``BoundedTransport`` (``network.py``, ``http11.py``) against real
loopback servers that send scripted bytes.

Where HTTP/1.1 leaves no choice, the answer is what httpx over httpcore/h11 (the client this one
replaced) made of the same bytes: the same status, headers and body, or the same exception
class, and the same number of connections (keep-alive reuse). Where this client is deliberately
stricter (bytes past the end of an answer) the test says why.
"""

from __future__ import annotations

import gzip
import random
import time
import zlib
from collections.abc import Callable

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.api.network import KEEPALIVE_EXPIRY, BoundedTransport
from reconciler.errors import TransportError, UncertainWriteError
from reconciler.model import Request
from tests.api.wireserver import Answer, WireServer, always, in_turn

pytestmark = pytest.mark.served

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
Outcome = tuple[int, str, list[tuple[str, str]], bytes] | str


def ours() -> httpx.Client:
    return httpx.Client(transport=BoundedTransport(lambda: None, time.monotonic), timeout=5)


def httpcore_client() -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(), timeout=5)


def exchange(
    make: Callable[[], httpx.Client], answer: Answer, calls: list[str]
) -> tuple[list[Outcome], int]:
    """Each call (a method) against a fresh server; what came back, and connections made."""
    results: list[Outcome] = []
    with WireServer(answer) as server, make() as client:
        for method in calls:
            try:
                r = client.request(method, server.url + "/x")
                results.append((r.status_code, r.reason_phrase, r.headers.multi_items(), r.content))
            except httpx.HTTPError as exc:
                results.append(type(exc).__name__)
        return results, server.connections


def chunked(*parts: bytes, head: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + head + b"\r\n" + b"".join(parts)


HUGE = b"X-Big: " + b"a" * (200 * 1024) + b"\r\n"

# name -> (answer, calls, expected outcome of each call by both clients: a body or an error)
SAME: dict[str, tuple[Answer, list[str], list[bytes | str]]] = {
    "content-length, reused": (always(OK), ["GET", "GET"], [b"ok", b"ok"]),
    "chunked with extensions and trailers": (
        always(chunked(b"5;a=b\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n")),
        ["GET", "GET"],
        [b"hello0123456789", b"hello0123456789"],
    ),
    "chunked then length win over content-length": (
        always(chunked(b"2\r\nok\r\n0\r\n\r\n", head=b"Content-Length: 99\r\n")),
        ["GET"],
        [b"ok"],
    ),
    "bad chunk size": (always(chunked(b"zz\r\nok\r\n0\r\n\r\n")), ["GET"], ["RemoteProtocolError"]),
    "chunk size of 21 digits": (
        always(chunked(b"0" * 21 + b"\r\n\r\n")),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "a chunk-size line without an end": (
        always(chunked(b"1;" + b"x" * (200 * 1024))),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "chunk without its CRLF": (
        always(chunked(b"2\r\nokXX0\r\n\r\n")),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "chunked cut short": (
        always(chunked(b"5\r\nhel"), close=True),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "chunked without the last chunk": (
        always(chunked(b"2\r\nok\r\n"), close=True),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "malformed trailer": (
        always(chunked(b"2\r\nok\r\n0\r\nBad Trailer\r\n\r\n")),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "content-length cut short": (
        always(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", close=True),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "equal content-lengths": (
        always(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok"),
        ["GET", "GET"],
        [b"ok", b"ok"],
    ),
    "conflicting content-lengths": (
        always(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "content-length not a number": (
        always(b"HTTP/1.1 200 OK\r\nContent-Length: two\r\n\r\nok"),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "a transfer coding other than chunked": (
        always(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok"),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "HTTP/1.0 without a length: the body ends at the close": (
        always(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", close=True),
        ["GET", "GET"],
        [b"all of it", b"all of it"],
    ),
    "HTTP/1.0 with a length: not kept alive": (
        always(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", close=True),
        ["GET", "GET"],
        [b"ok", b"ok"],
    ),
    "Connection: close": (
        always(b"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok"),
        ["GET", "GET"],
        [b"ok", b"ok"],
    ),
    "1xx answers before the answer": (
        always(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK),
        ["GET", "GET"],
        [b"ok", b"ok"],
    ),
    "HEAD, 204 and 304 have no body": (
        in_turn(
            (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", False),
            (b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", False),
            (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", False),
            (OK, False),
        ),
        ["HEAD", "GET", "GET", "GET"],
        [b"", b"", b"", b"ok"],
    ),
    "closed without an answer": (always(None), ["GET"], ["RemoteProtocolError"]),
    "closed in the middle of the head": (
        always(b"HTTP/1.1 200 OK\r\nContent-Le", close=True),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "headers larger than 100 KiB": (
        always(b"HTTP/1.1 200 OK\r\n" + HUGE + b"Content-Length: 2\r\n\r\nok"),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "not HTTP at all": (always(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"), ["GET"], ["RemoteProtocolError"]),
    "a blank line before the status line": (
        always(b"\r\n" + OK),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "a malformed header line": (
        always(b"HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 2\r\n\r\nok"),
        ["GET"],
        ["RemoteProtocolError"],
    ),
    "bare LF line ends, folded header, no reason, spaces around values": (
        always(b"HTTP/1.1 200\nX-A:  one \n\t two\nContent-Length: 2\n\nok"),
        ["GET", "GET"],
        [b"ok", b"ok"],
    ),
    "an unasked protocol switch": (
        always(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"),
        ["GET"],
        ["RemoteProtocolError"],
    ),
}


@pytest.mark.parametrize("name", list(SAME))
def test_the_answer_is_what_httpcore_made_of_the_same_bytes(name: str) -> None:
    answer, calls, expected = SAME[name]
    got, connections = exchange(ours, answer, calls)
    theirs, their_connections = exchange(httpcore_client, answer, calls)
    assert got == theirs
    assert connections == their_connections
    assert [r if isinstance(r, str) else r[3] for r in got] == expected


@pytest.mark.parametrize(
    "reply",
    [
        chunked(b"5;a=b\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n"),
        b"HTTP/1.1 100 Continue\r\n\r\n" + OK,
    ],
    ids=["chunked", "1xx"],
)
def test_answers_arriving_byte_by_byte_are_read_as_a_whole(reply: bytes) -> None:
    with WireServer(always(reply), trickle=0.001) as server, ours() as client:
        first = client.get(server.url)
        second = client.get(server.url)
        expected = b"hello0123456789" if b"chunked" in reply else b"ok"
        assert first.content == second.content == expected
        assert server.connections == 1


def _drawn_answer(rng: random.Random) -> bytes:
    """An answer with random framing (length, chunks of random sizes with extensions and
    trailers, or until the close), line ends, status and headers; half of them then have a
    byte or two changed, dropped or added anywhere."""
    body = rng.randbytes(rng.randrange(300))
    eol = b"\r\n" if rng.random() < 0.8 else b"\n"
    status = b"HTTP/1.%d %d %s" % (
        rng.choice([0, 1]),
        rng.choice([200, 201, 204, 304, 404, 500]),
        rng.choice([b"OK", b"", b"Weird  Reason"]),
    )
    headers = [b"Content-Type: application/json", b"X-A: \t spaced value \t"]
    if rng.random() < 0.2:
        headers.append(b"Connection: close")
    framing = rng.choice(["length", "chunked", "eof"])
    payload = body
    if framing == "length":
        headers.append(b"Content-Length: %d" % len(body))
    elif framing == "chunked":
        headers.append(b"Transfer-Encoding: " + rng.choice([b"chunked", b"Chunked"]))
        parts, at = [], 0
        while at < len(body):
            piece = body[at : at + rng.randrange(1, 60)]
            at += len(piece)
            size = (b"%x" if rng.random() < 0.5 else b"%X") % len(piece)
            size = b"0" * rng.randrange(3) + size + rng.choice([b"", b";a=b", b"; x"])
            parts.append(size + b"\r\n" + piece + b"\r\n")
        parts.append(b"0\r\n" + rng.choice([b"", b"X-T: 1\r\n"]) + b"\r\n")
        payload = b"".join(parts)
    rng.shuffle(headers)
    raw = bytearray(eol.join([status, *headers]) + eol + eol + payload)
    if rng.random() < 0.5:
        for _ in range(rng.randrange(1, 3)):
            at = rng.randrange(len(raw))
            swap = rng.choice(b"\r\n :;0aZ\x00\t")
            change = rng.random()
            if change < 0.4:
                raw[at] = swap
            elif change < 0.7:
                del raw[at]
            else:
                raw[at:at] = bytes([swap])
    return bytes(raw)


@settings(max_examples=60, deadline=None)
@given(rng=st.randoms(use_true_random=False), method=st.sampled_from(["GET", "HEAD", "POST"]))
def test_drawn_and_damaged_answers_read_as_httpcore_read_them(
    rng: random.Random, method: str
) -> None:
    raw = _drawn_answer(rng)
    answer = always(raw, close=True)
    assert exchange(ours, answer, [method]) == exchange(httpcore_client, answer, [method])


def test_keep_alive_uses_one_connection_and_close_opens_another() -> None:
    _, reused = exchange(ours, always(OK), ["GET"] * 3)
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    _, fresh = exchange(ours, always(closing, close=True), ["GET"] * 3)
    assert (reused, fresh) == (1, 3)


def test_bytes_past_the_end_of_an_answer_do_not_frame_the_next_one() -> None:
    """A server that sends two answers to one request: the first is the answer; the second
    must not become the answer to the next request (httpcore would hand it over), so the
    connection is not reused."""
    stale = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"
    answer = in_turn(
        (OK + stale, False), (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh", False)
    )
    got, connections = exchange(ours, answer, ["GET", "GET"])
    assert [r if isinstance(r, str) else r[3] for r in got] == [b"ok", b"fresh"]
    assert connections == 2


@pytest.mark.parametrize(
    ("method", "content"), [("GET", None), ("POST", b'{"a":1}'), ("PUT", b""), ("DELETE", None)]
)
def test_the_request_bytes_are_httpcores(method: str, content: bytes | None) -> None:
    with WireServer(always(OK)) as server:
        for make in (ours, httpcore_client):
            with make() as client:
                client.request(
                    method,
                    server.url + "/api/v3/io/a%20b/%C3%BC?q=1&x=%2F",
                    content=content,
                    headers={"X-Auth-Token": "t0k", "Content-Type": "application/json"},
                )
        sent = server.requests
    assert sent[0] == sent[1]
    assert sent[0].startswith(method.encode() + b" /api/v3/io/a%20b/%C3%BC?q=1&x=%2F HTTP/1.1\r\n")


@pytest.mark.parametrize("value", ["tok\nen", "tok\ren", " token", "tok\x00en"])
def test_a_header_http_cannot_carry_is_refused_without_showing_it(value: str) -> None:
    with WireServer(always(OK)) as server, ours() as client:
        with pytest.raises(httpx.LocalProtocolError) as caught:
            client.get(server.url, headers={"X-Auth-Token": value})
        assert server.connections == 0
    assert "X-Auth-Token" in str(caught.value)
    assert "tok" not in str(caught.value).replace("X-Auth-Token", "")


def test_an_idle_connection_the_server_closed_is_not_used() -> None:
    """The server closes the connection after answering (its idle timeout passed): the next
    request sees the close while the connection is idle and opens a new one instead of failing."""
    with WireServer(always(OK, close=True)) as server, ours() as client:
        first = client.get(server.url)
        deadline = time.monotonic() + 10
        while server.closed < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        second = client.get(server.url)
        assert (first.content, second.content) == (b"ok", b"ok")
        assert server.connections == 2


def test_an_idle_connection_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("reconciler.api.network.time.monotonic", lambda: clock[0])
    with WireServer(always(OK)) as server, ours() as client:
        client.get(server.url)
        clock[0] += KEEPALIVE_EXPIRY / 2
        client.get(server.url)
        assert server.connections == 1
        clock[0] += KEEPALIVE_EXPIRY + 1
        client.get(server.url)
        assert server.connections == 2


# ------------------------------------------------------------------------ through the client

TOKEN = "wire-token-5be1"


def api_client(url: str) -> ApiClient:
    settings = ApiSettings(
        store_hash="abc123", token=Secret(TOKEN), b2b_url=url + "/api/v3/io", core_url=url
    )
    return ApiClient.open(settings, sleep=lambda _s: None)


def json_answer(body: bytes, coding: str = "") -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    if coding:
        head += b"Content-Encoding: " + coding.encode() + b"\r\n"
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.parametrize("coding", ["gzip", "deflate", "GZIP", "identity"])
def test_coded_answers_are_decoded_and_accept_encoding_is_as_before(coding: str) -> None:
    body = b'{"data": {"companyId": 7, "companyName": "Acme"}}'
    coded = {"gzip": gzip.compress, "deflate": zlib.compress}.get(coding.lower(), bytes)(body)
    with WireServer(always(json_answer(coded, coding))) as server, api_client(server.url) as c:
        got = c.http.b2b("GET", "/companies/7")
    assert got == {"data": {"companyId": 7, "companyName": "Acme"}}
    assert b"\r\nAccept-Encoding: gzip, deflate\r\n" in server.requests[0]


def test_a_dropped_get_is_sent_again_on_a_new_connection() -> None:
    answer = in_turn((None, True), (json_answer(b"{}"), False))
    with WireServer(answer) as server, api_client(server.url) as client:
        assert client.http.b2b("GET", "/companies") == {}
    assert (len(server.requests), server.connections) == (2, 2)


def test_a_post_dropped_after_it_was_sent_is_uncertain_and_not_resent() -> None:
    with WireServer(always(None)) as server, api_client(server.url) as client:
        post = Request("POST", "/companies", {"companyName": "Dropped"})
        with pytest.raises(UncertainWriteError) as caught:
            client.b2b.send(post, idempotent=False)
    assert len(server.requests) == 1
    assert "RemoteProtocolError" in str(caught.value)


def test_oversized_headers_are_one_clear_error_without_the_token() -> None:
    huge = b"HTTP/1.1 200 OK\r\nX-Echo: " + TOKEN.encode() * 20000 + b"\r\n\r\n"
    with (
        WireServer(always(huge)) as server,
        api_client(server.url) as client,
        pytest.raises(TransportError) as caught,
    ):
        client.http.b2b("GET", "/companies")
    message = str(caught.value)
    assert "no answer after" in message
    assert "larger than 100 KiB" in message
    assert TOKEN not in message


def test_a_refused_connection_is_a_connect_error() -> None:
    with WireServer(always(OK)) as server:
        url = server.url
    with ours() as client, pytest.raises(httpx.ConnectError):
        client.get(url)


def test_a_coded_answer_comes_back_decoded_without_its_transfer_headers() -> None:
    body = b'{"data": []}'
    with (
        WireServer(always(json_answer(gzip.compress(body), "gzip"))) as server,
        api_client(server.url) as client,
    ):
        response = client.http._exchange("GET", server.url + "/x", None, None, {})
    assert response.content == body
    assert response.headers["content-type"] == "application/json"
    assert "content-encoding" not in response.headers
    assert "content-length" not in response.headers
    assert response.request.url == server.url + "/x"


@pytest.mark.parametrize("proxy_env", ["HTTP_PROXY", "ALL_PROXY", "http_proxy"])
def test_the_environments_proxy_is_not_taken_by_the_network_client(
    proxy_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As with httpcore's pool before: a client given its transport takes no proxy from the
    environment; the request goes straight to the API's host."""
    monkeypatch.setenv(proxy_env, "http://proxy.invalid:3128")
    with WireServer(always(json_answer(b"{}"))) as server, api_client(server.url) as client:
        assert client.http.b2b("GET", "/companies") == {}
    assert server.requests[0].startswith(b"GET /api/v3/io/companies HTTP/1.1\r\n")
