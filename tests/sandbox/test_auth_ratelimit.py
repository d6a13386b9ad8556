"""Authentication (b2b-api.md §0) and the B2B rate limit (§2)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

UNAUTHORIZED = {
    "code": 401,
    "data": {"errMsg": "Invalid token header. No credentials provided."},
    "meta": {"message": "Invalid token header. No credentials provided."},
}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Store-Hash": "abc123"},
        {"X-Auth-Token": "sandbox-token"},
        {"X-Auth-Token": "wrong", "X-Store-Hash": "abc123"},
        {"X-Auth-Token": "sandbox-token", "X-Store-Hash": "other"},
        {"X-Auth-Token": "", "X-Store-Hash": "abc123"},
    ],
)
def test_401(sb: Any, kit: Any, headers: dict[str, str]) -> None:
    """§0: missing or wrong token, missing or wrong hash -> the documented 401 body."""
    with kit.client(sb, headers=headers) as api:
        response = api.get("/companies")
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED
    assert sb.request_log[-1].status == 401


def test_any_token_without_seeded_token(make_sandbox: Any, kit: Any) -> None:
    """Contract "Credentials": any non-empty token when the seed sets none."""
    seed = kit.seed(accessToken=None)
    with kit.client(
        make_sandbox(seed), headers={"X-Auth-Token": "x", "X-Store-Hash": kit.HASH}
    ) as api:
        assert api.get("/companies").status_code == 200


def test_rate_limit_window(make_sandbox: Any, kit: Any, clock: Any) -> None:
    """§2: fixed window (here 5 per 1 s on the fake clock), headers with units, 429 body."""
    sb = make_sandbox(rate_limit=(5, 1.0))
    with kit.client(sb) as api:
        first = api.get("/companies")
        assert first.headers["X-Requests-Allocated"] == "5 times/1 s"
        assert first.headers["X-Requests-Remaining"] == "4 times"
        assert first.headers["X-Requests-Window-Length"] == "1 times"
        assert first.headers["X-Request-Window-Resets-After"] == "1.0 s"
        clock.advance(0.25)
        for _ in range(4):
            assert api.get("/orders").status_code == 200
        limited = api.get("/companies")
        assert limited.status_code == 429
        assert limited.json() == {"code": 429, "data": {}, "meta": {"message": "Too Many Requests"}}
        assert limited.headers["X-Requests-Remaining"] == "0 times"
        assert limited.headers["X-Request-Window-Resets-After"] == "0.75 s"
        assert "Retry-After" not in limited.headers
        clock.advance(0.75)
        again = api.get("/companies")
        assert again.status_code == 200
        assert again.headers["X-Requests-Remaining"] == "4 times"
    assert [e.status for e in sb.request_log] == [200] * 5 + [429, 200]
    sb.set_rate_limit(1, 60)
    with kit.client(sb) as api:
        assert api.get("/companies").status_code == 200
        assert api.get("/companies").status_code == 429


def test_rate_limit_retry_after_quirk(make_sandbox: Any, kit: Any, clock: Any) -> None:
    """§2: retryAfterHeader=true adds Retry-After (whole seconds) to 429s."""
    sb = make_sandbox(kit.seed(quirks={"retryAfterHeader": True}), rate_limit=(1, 10.0))
    with kit.client(sb) as api:
        api.get("/companies")
        clock.advance(2.5)
        limited = api.get("/companies")
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "8"


def test_unauthenticated_requests_do_not_spend_budget(make_sandbox: Any, kit: Any) -> None:
    """§2: the window counts authenticated requests of the store."""
    sb = make_sandbox(rate_limit=(1, 60.0))
    with kit.client(sb, headers={}) as anon:
        assert anon.get("/companies").status_code == 401
    with kit.client(sb) as api:
        assert api.get("/companies").status_code == 200


def test_request_log(sb: Any, kit: Any) -> None:
    """Every request is logged with method, path, query, status, elapsed and time."""
    with kit.client(sb) as api:
        api.get("/companies", params={"limit": 300})
        api.get("/orders/9999")
    first, second = sb.request_log
    assert (first.method, first.path, first.query, first.status) == (
        "GET",
        "/api/v3/io/companies",
        "limit=300",
        413,
    )
    assert second.status == 404
    assert first.elapsed >= 0
    assert first.at == kit.NOW
    sb.clear_log()
    assert sb.request_log == []


def test_updated_at_bumped_by_every_write(api: httpx.Client, clock: Any) -> None:
    """§3.3, §5.3: writes bump updatedAt (company PUT, status, catalog; order PUT)."""
    for path, body in (
        ("/companies/1002", {"companyPhone": "1"}),
        ("/companies/1002/status", {"companyStatus": 1}),
        ("/companies/1002/catalogs", {"catalogId": "7"}),
    ):
        clock.advance(7)
        assert api.put(path, json=body).status_code == 200
        assert api.get("/companies/1002").json()["data"]["updatedAt"] == str(int(clock.now))
