"""Orders (b2b-api.md §5) against the in-process sandbox."""

from __future__ import annotations

from typing import Any

import httpx


def _orders(api: httpx.Client, **params: Any) -> list[int]:
    response = api.get("/orders", params=params)
    assert response.status_code == 200, response.text
    return [o["bcOrderId"] for o in response.json()["data"]]


def test_list_shape_and_types(api: httpx.Client) -> None:
    """§5.2, §5.3: meta.pagination, integer ids/timestamps, null companyId, "" poNumber."""
    body = api.get("/orders").json()
    assert body["code"] == 200
    assert body["meta"] == {
        "message": "SUCCESS",
        "pagination": {"totalCount": 3, "limit": 10, "offset": 0},
    }
    first = body["data"][0]
    assert first["bcOrderId"] == 5003  # default: updatedAt DESC
    for key in ("id", "bcOrderId", "companyId", "createdAt", "updatedAt", "statusCode", "items"):
        assert isinstance(first[key], int), key
    assert first["money"][0]["currencyLocation"] == "left"
    assert "extraFields" not in first
    orphan = next(o for o in body["data"] if o["bcOrderId"] == 5001)
    assert orphan["companyId"] is None
    assert orphan["poNumber"] == ""


def test_default_one_year_window(api: httpx.Client, kit: Any, clock: Any) -> None:
    """§5.1, §7.4: without date filters only orders created or updated in the last 365 days."""
    assert 4000 not in _orders(api)
    assert 4000 in _orders(api, minCreated=0)
    assert _orders(api, maxCreated=kit.NOW - 365 * kit.DAY) == [4000]
    assert 4000 in _orders(api, minModified=0)
    clock.advance(360.5 * kit.DAY)  # 5001 (5 days old) falls out of the window; 5002 stays
    assert _orders(api) == [5003, 5002]


def test_limits(make_sandbox: Any, kit: Any) -> None:
    """§1.2, §5.2: limit default 10, max 200 -> 413; offset past the end."""
    seed = kit.seed()
    seed["orders"] += [
        {"bcOrderId": 6000 + i, "customerId": 400, "createdAt": kit.NOW - i} for i in range(12)
    ]
    with kit.client(make_sandbox(seed)) as api:
        assert len(_orders(api)) == 10
        assert len(_orders(api, limit=200)) == 15
        assert _orders(api, offset=100) == []
        response = api.get("/orders", params={"limit": 201})
        assert response.status_code == 413
        assert response.json()["meta"]["message"] == "Request Entity Too Large"


def test_sort_and_filters(api: httpx.Client) -> None:
    """§5.2: sortBy, orderBy, companyId, bcOrderId, showExtra."""
    assert _orders(api, sortBy="createdAt", orderBy="ASC") == [5001, 5002, 5003]
    assert _orders(api, companyId=1001) == [5002]
    assert _orders(api, bcOrderId=5003) == [5003]
    assert _orders(api, **{"channelIds[]": "1"}) == [5003, 5002, 5001]
    assert _orders(api, **{"channelIds[]": "2"}) == []
    extra = api.get("/orders", params={"showExtra": "true", "bcOrderId": 5002}).json()["data"][0]
    assert extra["extraFields"] == [{"fieldName": "costCenter", "fieldValue": "CC1"}]
    assert extra["extraInt1"] is None
    assert extra["extraText"] is None
    assert api.get("/orders", params={"sortBy": "poNumber"}).status_code == 422


def test_get_order(api: httpx.Client) -> None:
    """§5.1, §5.3, §7.6: Get an Order: data is an object (detail fields), by bcOrderId."""
    body = api.get("/orders/5002").json()
    data = body["data"]
    assert body["meta"]["message"] == "SUCCESS"
    assert data["bcOrderId"] == 5002
    assert data["poNumber"] == "PO-2"
    assert data["isInvoiceOrder"] == 0
    assert data["invoiceId"] is None
    assert data["extraFields"] == [{"fieldName": "costCenter", "fieldValue": "CC1"}]


def test_get_order_404(api: httpx.Client) -> None:
    """§1.3: Order 404 "Order Does Not Exist."."""
    response = api.get("/orders/9999")
    assert response.status_code == 404
    assert response.json() == {
        "code": 404,
        "data": {},
        "meta": {"message": "Order Does Not Exist."},
    }


def test_update_order(api: httpx.Client, clock: Any) -> None:
    """§5.4: poNumber and/or extraFields; top-level message; updatedAt bumped."""
    clock.advance(30)
    response = api.put("/orders/5001", json={"poNumber": "PO-1"})
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "SUCCESS"
    assert "meta" not in body
    assert body["data"]["poNumber"] == "PO-1"
    assert body["data"]["updatedAt"] == int(clock.now)
    fields = {"extraFields": [{"fieldName": "costCenter", "fieldValue": "CC9"}]}
    assert api.put("/orders/5001", json=fields).status_code == 200
    data = api.get("/orders/5001").json()["data"]
    assert data["poNumber"] == "PO-1"
    assert data["extraFields"] == [{"fieldName": "costCenter", "fieldValue": "CC9"}]


def test_update_order_errors(api: httpx.Client) -> None:
    """§1.3, §5.4: 404 "Not Found Error"; at least one field; extra-field problems -> 422."""
    missing = api.put("/orders/9999", json={"poNumber": "x"})
    assert missing.status_code == 404
    assert missing.json()["meta"]["message"] == "Not Found Error"
    assert api.put("/orders/5001", json={}).status_code == 422
    unknown = api.put(
        "/orders/5001", json={"extraFields": [{"fieldName": "nope", "fieldValue": "1"}]}
    )
    assert unknown.status_code == 422
    assert unknown.json()["data"]["errMsg"] == unknown.json()["meta"]["message"]
    too_long = api.put(
        "/orders/5001", json={"extraFields": [{"fieldName": "costCenter", "fieldValue": "x" * 21}]}
    )
    assert too_long.status_code == 422


def test_update_order_required_extra_field(make_sandbox: Any, kit: Any) -> None:
    """§1.3, §5.4: with a required order extra field, the array must carry it."""
    seed = kit.seed()
    seed["extraFieldConfigs"]["order"][0]["isRequired"] = True
    with kit.client(make_sandbox(seed)) as api:
        response = api.put("/orders/5001", json={"poNumber": "x"})
        assert response.status_code == 422
        message = "costCenter is a required extra field"
        assert response.json() == {
            "code": 422,
            "data": {"errMsg": message},
            "meta": {"message": message},
        }
        fields = [{"fieldName": "costCenter", "fieldValue": "A1"}]
        assert api.put("/orders/5001", json={"poNumber": "x", "extraFields": fields}).is_success


def test_create_order(api: httpx.Client) -> None:
    """§5.1: POST /orders; 400 "The order already exists."; required fields."""
    response = api.post("/orders", json={"bcOrderId": 7001, "customerId": 322, "poNumber": "N"})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["bcOrderId"] == 7001
    assert data["companyId"] == 1002  # the customer's company
    again = api.post("/orders", json={"bcOrderId": 7001, "customerId": 322})
    assert again.status_code == 400
    assert again.json() == {
        "code": 400,
        "data": {},
        "meta": {"message": "The order already exists."},
    }
    assert api.post("/orders", json={"bcOrderId": 7002}).status_code == 422
    guest = api.post("/orders", json={"bcOrderId": 7003, "customerId": 400}).json()["data"]
    assert guest["companyId"] is None


def test_order_products(api: httpx.Client) -> None:
    """§5.1: products may be []; top-level message; 404 "The order does not exist."."""
    body = api.get("/orders/5001/products").json()
    assert body == {"code": 200, "data": [], "message": "SUCCESS"}
    missing = api.get("/orders/9999/products")
    assert missing.status_code == 404
    assert missing.json()["meta"]["message"] == "The order does not exist."


def test_order_extra_field_configs(api: httpx.Client) -> None:
    """§5.7: listOfValues (plural), numeric maximumLength, booleans."""
    body = api.get("/orders/extra-fields").json()
    assert body["meta"]["pagination"]["totalCount"] == 1
    config = body["data"][0]
    assert config["fieldName"] == "costCenter"
    assert config["maximumLength"] == 20
    assert config["listOfValues"] == []
    assert "listOfValue" not in config
    assert config["isRequired"] is False


def test_reassign(api: httpx.Client, clock: Any) -> None:
    """§5.5: moves ALL the customer's orders to the group's company; data.total; bumps."""
    clock.advance(10)
    response = api.put("/customers/321/orders/company", json={"bcGroupId": 13})
    assert response.status_code == 200
    assert response.json() == {"code": 200, "data": {"total": 2}, "message": "SUCCESS"}
    moved = api.get("/orders", params={"companyId": 1002}).json()["data"]
    assert sorted(o["bcOrderId"] for o in moved) == [5001, 5002, 5003]
    assert all(o["updatedAt"] == int(clock.now) for o in moved if o["bcOrderId"] != 5003)
    # the user stays where it was
    assert api.get("/users/customer/321").json()["data"]["companyId"] == 1001


def test_reassign_errors(api: httpx.Client) -> None:
    """§5.5: 404 for a non-user customer or a group without a company; bcGroupId required."""
    message = "User does not exist or action not supported for this user"
    for customer, group in ((400, 13), (321, 20), (321, 77)):
        response = api.put(f"/customers/{customer}/orders/company", json={"bcGroupId": group})
        assert response.status_code == 404
        assert response.json() == {"code": 404, "data": {}, "meta": {"message": message}}
    assert api.put("/customers/321/orders/company", json={}).status_code == 422


def test_reassign_dependent_only(make_sandbox: Any, kit: Any) -> None:
    """§5.5, §3.8: reassign is Dependent-only; Independent stores get the documented 404."""
    with kit.client(make_sandbox(kit.seed(companiesBehavior="independent"))) as api:
        response = api.put("/customers/321/orders/company", json={"bcGroupId": 13})
        assert response.status_code == 404
        assert api.get("/orders/5001").json()["data"]["companyId"] is None


def test_assign(api: httpx.Client, clock: Any) -> None:
    """§5.6: attaches the customer's company-less orders to their company; data.total."""
    clock.advance(10)
    response = api.put("/customers/321/orders/b2b", json={})
    assert response.json() == {"code": 200, "data": {"total": 1}, "message": "SUCCESS"}
    data = api.get("/orders/5001").json()["data"]
    assert data["companyId"] == 1001
    assert data["updatedAt"] == int(clock.now)
    assert api.put("/customers/321/orders/b2b").json()["data"] == {"total": 0}
    missing = api.put("/customers/400/orders/b2b", json={})
    assert missing.status_code == 404
    assert missing.json()["meta"]["message"] == (
        "User does not exist or action not support for this user."
    )


def test_quirks_orders(make_sandbox: Any, kit: Any) -> None:
    """§7.5, §7.6, §9.4, §9.8: orderDetailAsArray, ordersMetaFlat, ordersTopLevelMessage,
    ordersNoCompanyAsZero all switched to their other variant."""
    quirks = {
        "orderDetailAsArray": True,
        "ordersMetaFlat": True,
        "ordersTopLevelMessage": False,
        "ordersNoCompanyAsZero": True,
    }
    with kit.client(make_sandbox(kit.seed(quirks=quirks))) as api:
        listing = api.get("/orders").json()
        assert listing["meta"] == {"message": "SUCCESS", "totalCount": 3, "limit": 10, "offset": 0}
        detail = api.get("/orders/5001").json()["data"]
        assert isinstance(detail, list)
        assert detail[0]["companyId"] == 0
        updated = api.put("/orders/5001", json={"poNumber": "Z"}).json()
        assert updated["meta"] == {"message": "SUCCESS"}
        assert "message" not in updated
        assert updated["data"][0]["poNumber"] == "Z"
        assigned = api.put("/customers/321/orders/b2b").json()
        assert assigned == {"code": 200, "data": {"total": 1}, "meta": {"message": "SUCCESS"}}
