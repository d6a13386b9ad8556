"""Answers are decoded by orjson where it reads exactly what ``json.loads`` reads
(`reconciler.api.jsonbody`): every body gives ``json.loads``'s value or a clean error.

The bodies are the sandbox's own answers, sent through the real client, with their bytes
rewritten on the way (a transport in front of the sandbox's): the answers orjson treats
differently from ``json`` (integers beyond 64 bits, ``NaN``, a byte order mark, UTF-16, lone
surrogates, numbers too large for a float, nesting deeper than orjson's limit).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.api import ApiClient, ApiSettings, Secret, jsonbody
from reconciler.errors import ApiError
from reconciler.sandbox import Sandbox

Rewrite = Callable[[bytes], bytes]


class _Rewritten(httpx.BaseTransport):
    """The sandbox, with the bytes of every ``GET /companies`` answer rewritten."""

    def __init__(self, sb: Sandbox, rewrite: Rewrite) -> None:
        self.inner = sb.transport()
        self.rewrite = rewrite
        self.bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith("/companies"):
            return response
        body = self.rewrite(response.read())
        self.bodies.append(body)
        headers = [(k, v) for k, v in response.headers.multi_items() if k != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=body)

    def close(self) -> None:
        self.inner.close()


def _read(
    sb: Sandbox, kit: Any, rewrite: Rewrite, call: Callable[[ApiClient], Any] | None = None
) -> tuple[Any, bytes]:
    """``GET /companies`` through the real client (or ``call``); what it gives, and the bytes
    of the answer."""
    transport = _Rewritten(sb, rewrite)
    settings_ = ApiSettings(
        store_hash=sb.store_hash,
        token=Secret(kit.TOKEN),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    with ApiClient.open(settings_, transport, sleep=lambda _s: None) as client:
        if call is None:
            value = client.http.b2b("GET", "/companies", params={"limit": 10})
        else:
            value = call(client)
    return value, transport.bodies[-1]


def _swap(key: str, new: bytes) -> Rewrite:
    """Replace the first value of ``key`` (a number or a string: the sandbox may send either)."""
    pattern = re.compile(b'"' + key.encode() + rb'":("[^"]*"|[^,}\]]+)')

    def rewrite(body: bytes) -> bytes:
        out, found = pattern.subn(lambda _m: f'"{key}":'.encode() + new, body, count=1)
        assert found, body[:200]
        return out

    return rewrite


BIG = 123456789012345678901234567890
"""An id orjson alone would read as the float 1.2345678901234568e+29 (another id)."""

SAME_VALUE: dict[str, Rewrite] = {
    "an id beyond 64 bits": _swap("companyId", str(BIG).encode()),
    "an integer just below -2**63": _swap("companyId", b"-9223372036854775809"),
    "2**64 - 1 (orjson's largest)": _swap("companyId", b"18446744073709551615"),
    "a fraction of 19 digits": _swap("companyId", b"0.1234567890123456789"),
    "NaN": _swap("updatedAt", b"NaN"),
    "-Infinity": _swap("updatedAt", b"-Infinity"),
    "a number too large for a float": _swap("updatedAt", b"1e400"),
    "a lone surrogate escape": _swap("companyName", b'"Acme\\ud800"'),
    "a duplicate key": _swap("companyName", b'"X","companyName":"Acme"'),
    "a UTF-8 byte order mark": lambda body: b"\xef\xbb\xbf" + body,
    "UTF-16 text": lambda body: body.decode("utf-8").encode("utf-16"),
    "UTF-32 text without a BOM": lambda body: body.decode("utf-8").encode("utf-32-le"),
}


def _compact(body: bytes) -> bytes:
    """The sandbox's answer re-encoded without spaces, so that ``_swap`` finds its bytes."""
    return json.dumps(json.loads(body), separators=(",", ":")).encode()


@pytest.mark.parametrize("name", sorted(SAME_VALUE))
def test_an_unusual_answer_gives_the_value_json_loads_gives(
    name: str, new_sandbox: Any, kit: Any
) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed())
    rewrite = SAME_VALUE[name]
    value, body = _read(sb, kit, lambda raw: rewrite(_compact(raw)))
    expected = json.loads(body)
    assert repr(value) == repr(expected)  # repr: NaN equals itself, and key order counts


def test_an_id_beyond_64_bits_is_kept_exact(new_sandbox: Any, kit: Any) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed())
    rewrite = SAME_VALUE["an id beyond 64 bits"]
    page, _ = _read(sb, kit, lambda raw: rewrite(_compact(raw)), lambda c: c.b2b.companies_page())
    ids = sorted(company.company_id for company in page.items)
    assert ids in ([1001, BIG], [1002, BIG])  # the newest first: the other one was rewritten


NOT_JSON: dict[str, Rewrite] = {
    "a byte that is not UTF-8": _swap("companyName", b'"Ac\xffme"'),
    "a cut body": lambda body: body[: len(body) // 2],
    "nesting deeper than Python's recursion limit": lambda body: b"[" * 100_000 + b"]" * 100_000,
    "text after the value": lambda body: body + b" x",
    "a raw control character": _swap("companyName", b'"Ac\x01me"'),
}


@pytest.mark.parametrize("name", sorted(NOT_JSON))
def test_an_answer_that_is_not_json_is_one_clean_error(
    name: str, new_sandbox: Any, kit: Any
) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed())
    rewrite = NOT_JSON[name]
    with pytest.raises(ApiError) as caught:
        _read(sb, kit, lambda raw: rewrite(_compact(raw)))
    message = str(caught.value)
    assert "not JSON" in message
    assert "GET /companies" in message
    assert "\n" not in message
    assert kit.TOKEN not in message


def test_nesting_past_orjsons_limit_is_read_as_json_loads_reads_it(
    new_sandbox: Any, kit: Any
) -> None:
    """1,100 levels: orjson stops at 1,024; Python's decoder reads them or not, by the
    interpreter's recursion limit (3.11 refuses, later versions may not). Its answer counts."""
    sb = new_sandbox(db=":memory:", seed=kit.seed())
    deep = b"[" * 1_100 + b"]" * 1_100
    try:
        expected: Any = json.loads(deep)
    except RecursionError:
        with pytest.raises(ApiError, match="not JSON"):
            _read(sb, kit, lambda _raw: deep)
    else:
        value, _ = _read(sb, kit, lambda _raw: deep)
        assert value == expected


# ----------------------------------------------------------------------------- property

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**62, max_value=2**66)
    | st.integers(min_value=-(2**66), max_value=-(2**62))
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=_values, ascii_only=st.booleans(), encoding=st.sampled_from(["utf-8", "utf-16"]))
def test_every_body_decodes_as_json_loads_decodes_it(
    value: Any, ascii_only: bool, encoding: str
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    try:
        body = text.encode(encoding)
    except UnicodeEncodeError:  # a lone surrogate, written raw: only its escape is sendable
        body = json.dumps(value, ensure_ascii=True).encode(encoding)
    assert repr(jsonbody.loads(body)) == repr(json.loads(body))
