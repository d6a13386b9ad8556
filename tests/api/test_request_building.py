"""The client builds each request as ``httpx.Client.build_request`` would and sends it to the
transport itself (`Http.build_request`, `Http._exchange`): the same URL, headers, body, timeout
and cookies on the wire, without httpx's per-request wrappers. Answers are read from the
transport's stream, and decoded by httpx when a ``Content-Encoding`` names a coding."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.api.transport import _query
from reconciler.sandbox import Sandbox

B2B = "http://localhost/api/v3/io"


def _client(sb: Sandbox, kit: Any, transport: httpx.BaseTransport | None = None) -> ApiClient:
    settings_ = ApiSettings(
        store_hash=sb.store_hash, token=Secret(kit.TOKEN), b2b_url=B2B, core_url="http://localhost"
    )
    return ApiClient.open(settings_, transport or sb.transport(), sleep=lambda _s: None)


_values = (
    st.none()
    | st.integers()
    | st.booleans()
    | st.text(max_size=12)
    | st.lists(st.text(max_size=6) | st.integers(), max_size=3)
)


@settings(max_examples=150, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    path=st.sampled_from(["/companies", "/users/customer/321", "/orders/5001", "/a b/ü"]),
    params=st.dictionaries(st.sampled_from(["q", "limit", "minModified", "a b", "ü"]), _values),
    body=st.none() | st.binary(max_size=40),
    cookie=st.none() | st.text(alphabet="abcdef0123", min_size=1, max_size=8),
)
def test_requests_are_built_as_httpx_builds_them(
    method: str, path: str, params: dict[str, Any], body: bytes | None, cookie: str | None
) -> None:
    with Sandbox(db=":memory:") as sb, _client(sb, _Kit()) as client:
        http = client.http
        if cookie is not None:
            http._client.cookies.set("lb", cookie, domain="localhost")
        query = _query(params)
        headers = {"X-Auth-Token": "t", "X-Store-Hash": "h"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        timeout = httpx.Timeout(12.5)
        ours = http.build_request(method, B2B + path, query, body, headers, timeout)
        theirs = http._client.build_request(
            method, B2B + path, params=query, content=body, headers=headers, timeout=timeout
        )
        assert ours.method == theirs.method
        for part in ("raw_scheme", "raw_host", "port", "raw_path"):
            assert getattr(ours.url, part) == getattr(theirs.url, part)
        assert str(ours.url) == str(theirs.url)
        assert ours.headers.raw == theirs.headers.raw
        assert ours.read() == theirs.read()
        assert ours.extensions == theirs.extensions


class _Kit:
    TOKEN = "sandbox-token-7f3a91c2"


class _SetsCookie(httpx.BaseTransport):
    """The sandbox, answering its first request with a load balancer's cookie; every request's
    ``Cookie`` header is kept."""

    def __init__(self, sb: Sandbox) -> None:
        self.inner = sb.transport()
        self.cookies: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.cookies.append(request.headers.get("cookie"))
        response = self.inner.handle_request(request)
        if len(self.cookies) == 1:
            response.headers["set-cookie"] = "AWSALB=sticky1; Path=/"
        return response

    def close(self) -> None:
        self.inner.close()


def test_a_cookie_the_api_sets_is_sent_back(new_sandbox: Any, kit: Any) -> None:
    """As httpx's client did: a load balancer's stickiness cookie goes back to it."""
    sb = new_sandbox(db=":memory:", seed=kit.seed())
    transport = _SetsCookie(sb)
    with _client(sb, kit, transport) as client:
        client.b2b.companies_page()
        client.b2b.companies_page()
    assert transport.cookies == [None, "AWSALB=sticky1"]


@pytest.mark.parametrize("proxy_env", ["HTTP_PROXY", "ALL_PROXY"])
def test_the_environments_proxy_is_not_taken(
    proxy_env: str, new_sandbox: Any, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As before: httpx takes no proxy from the environment for a client given its transport
    (the network's, bounded; or the sandbox's), and the request goes to that transport."""
    monkeypatch.setenv(proxy_env, "http://proxy.invalid:3128")
    sb = new_sandbox(db=":memory:", seed=kit.seed())
    with _client(sb, kit) as client:
        page = client.b2b.companies_page()
    assert page.total == 2


class _Coded(httpx.BaseTransport):
    """The sandbox, its answers sent in a content coding."""

    def __init__(self, sb: Sandbox, coding: str) -> None:
        self.inner = sb.transport()
        self.coding = coding

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        body = response.read()
        if self.coding.lower() == "gzip":
            body = gzip.compress(body)
        elif self.coding.lower() == "deflate":
            body = zlib.compress(body)
        headers = [(k, v) for k, v in response.headers.multi_items() if k != "content-length"]
        headers.append(("Content-Encoding", self.coding))
        return httpx.Response(response.status_code, headers=headers, content=body)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("coding", ["gzip", "deflate", "identity", "GZIP"])
def test_coded_answers_are_decoded(coding: str, new_sandbox: Any, kit: Any) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed())
    with _client(sb, kit) as plain:
        expected = plain.b2b.companies_page()
    with _client(sb, kit, _Coded(sb, coding)) as coded:
        page = coded.b2b.companies_page()
    assert (page.items, page.total) == (expected.items, expected.total)
    assert len(page.items) == 2


@pytest.mark.parametrize(
    "path", ["/companies?sortBy=id", "/companies#top", "/companies?", "/companies", "/a b/ü"]
)
def test_the_url_is_the_joined_text_parsed(path: str) -> None:
    """The query joins a URL parsed once and kept (a URL holding a query or fragment of its own
    is parsed whole): the URL is the parse of the joined text, as before, each time."""
    with Sandbox(db=":memory:") as sb, _client(sb, _Kit()) as client:
        http = client.http
        timeout = httpx.Timeout(5.0)
        for params in ({"limit": 5, "q": "a b&ü"}, None, {"offset": 10}):
            query = _query(params)
            ours = http.build_request("GET", B2B + path, query, None, {}, timeout)
            joined = f"{B2B + path}?{query}" if query else B2B + path
            assert str(ours.url) == str(httpx.URL(joined))
            assert ours.url.raw_path == httpx.URL(joined).raw_path
            assert ours.url == httpx.URL(joined)
