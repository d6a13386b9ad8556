"""Core BigCommerce endpoints (b2b-api.md §6) under /stores/{hash}."""

from __future__ import annotations

from typing import Any

import httpx


def test_customer_groups(core: httpx.Client) -> None:
    """§6.1: a bare JSON array; page/limit; count; the core 404 body."""
    response = core.get("/v2/customer_groups")
    assert response.status_code == 200
    groups = response.json()
    assert [g["id"] for g in groups] == [12, 13, 20]
    assert groups[0]["name"] == "Acme"
    assert groups[0]["is_default"] is False
    assert isinstance(groups[0]["date_created"], str)
    page2 = core.get("/v2/customer_groups", params={"page": 2, "limit": 2}).json()
    assert [g["id"] for g in page2] == [20]
    assert core.get("/v2/customer_groups", params={"limit": 1000}).status_code == 200
    assert core.get("/v2/customer_groups/count").json() == {"count": 3}
    assert core.get("/v2/customer_groups/13").json()["name"] == "Beta"
    missing = core.get("/v2/customer_groups/99")
    assert missing.status_code == 404
    assert missing.json() == [{"status": 404, "message": "The requested resource was not found."}]
    empty = core.get("/v2/customer_groups", params={"page": 9})
    assert empty.status_code == 204
    assert empty.content == b""


def test_orders_by_customer(core: httpx.Client) -> None:
    """§5.3, §6: GET /v2/orders?customer_id=N -> bare array; 204 with no body when empty."""
    orders = core.get("/v2/orders", params={"customer_id": 321}).json()
    assert [o["id"] for o in orders] == [5001, 5002]
    assert orders[0]["customer_id"] == 321
    assert orders[0]["date_created"].endswith("+0000")
    assert orders[0]["status"] == "Pending"
    empty = core.get("/v2/orders", params={"customer_id": 400})
    assert empty.status_code == 204
    assert empty.content == b""
    assert "content-type" not in empty.headers
    page = core.get("/v2/orders", params={"customer_id": 322, "limit": 1, "page": 2}).json()
    assert [o["id"] for o in page] == [5003]


def test_price_lists(core: httpx.Client) -> None:
    """§6.2: the V3 envelope with meta.pagination; id:in filter."""
    body = core.get("/v3/pricelists").json()
    assert [p["id"] for p in body["data"]] == [7, 8]
    pagination = body["meta"]["pagination"]
    assert pagination["total"] == 2
    assert pagination["count"] == 2
    assert pagination["current_page"] == 1
    assert pagination["total_pages"] == 1
    assert "per_page" in pagination
    only = core.get("/v3/pricelists", params={"id:in": "8,99"}).json()
    assert [p["name"] for p in only["data"]] == ["Retail"]
    page2 = core.get("/v3/pricelists", params={"limit": 1, "page": 2}).json()
    assert [p["id"] for p in page2["data"]] == [8]
    assert page2["meta"]["pagination"]["total_pages"] == 2


def test_channels(core: httpx.Client) -> None:
    """§6.3: core channels always include the default channel 1."""
    data = core.get("/v3/channels").json()["data"]
    assert data[0]["id"] == 1
    assert data[0]["type"] == "storefront"
    assert data[0]["platform"] == "bigcommerce"


def test_core_auth_and_hash(sb: Any, kit: Any) -> None:
    """Contract "Credentials": core needs X-Auth-Token; the hash in the path must match."""
    with kit.client(sb, kit.ROOT, headers={"X-Auth-Token": kit.TOKEN}) as root:
        assert root.get("/stores/other/v2/customer_groups").status_code == 404
        assert root.get(f"/stores/{kit.HASH}/v2/customer_groups").status_code == 200
        assert root.get(f"/stores/{kit.HASH}/v2/nothing").status_code == 404
        wrong = root.get(f"/stores/{kit.HASH}/v3/pricelists", headers={"X-Auth-Token": "nope"})
        assert wrong.status_code == 401
        none = root.get(f"/stores/{kit.HASH}/v2/orders", headers={"X-Auth-Token": ""})
        assert none.status_code == 401


def test_core_rate_limit_headers(make_sandbox: Any, kit: Any) -> None:
    """docs:core-ratelimits: X-Rate-Limit-* headers; a separate, settable budget."""
    sb = make_sandbox(core_rate_limit=(2, 30.0))
    with kit.client(sb, kit.CORE, headers={"X-Auth-Token": kit.TOKEN}) as core:
        first = core.get("/v3/pricelists")
        assert first.headers["X-Rate-Limit-Requests-Quota"] == "2"
        assert first.headers["X-Rate-Limit-Requests-Left"] == "1"
        assert first.headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
        assert int(first.headers["X-Rate-Limit-Time-Reset-Ms"]) <= 30000
        assert core.get("/v3/pricelists").status_code == 200
        assert core.get("/v3/pricelists").status_code == 429
    with kit.client(sb) as api:  # the B2B budget is separate
        assert api.get("/companies").status_code == 200
