"""Users (b2b-api.md §4) and B2B channels (§6.3)."""

from __future__ import annotations

from typing import Any

import httpx


def test_user_by_customer(api: httpx.Client) -> None:
    """§4: GET /users/customer/{customerId} -> data.companyId as an integer."""
    body = api.get("/users/customer/321").json()
    user = body["data"]
    assert body["meta"]["message"] == "SUCCESS"
    assert user["companyId"] == 1001
    assert user["customerId"] == 321
    assert user["email"] == "a@acme.example"
    assert user["role"] == 0
    assert isinstance(user["createdAt"], int)
    assert isinstance(user["id"], int)


def test_user_by_customer_404(api: httpx.Client) -> None:
    """§1.3, §4: the Users 404 body."""
    response = api.get("/users/customer/400")
    assert response.status_code == 404
    assert response.json() == {
        "code": 404,
        "meta": {"message": "Not Found Error"},
        "data": {"errMsg": "User matching query does not exist."},
    }


def test_list_users(api: httpx.Client, kit: Any) -> None:
    """§4: GET /users: pagination, companyId, dates, limit max 250."""
    body = api.get("/users").json()
    assert body["meta"]["pagination"] == {"totalCount": 2, "limit": 10, "offset": 0}
    assert [u["customerId"] for u in api.get("/users?companyId=1002").json()["data"]] == [322]
    assert api.get("/users", params={"minModified": kit.NOW + 1}).json()["data"] == []
    assert "extraFields" not in body["data"][0]
    with_extra = api.get("/users", params={"isIncludeExtraFields": "1"}).json()["data"][0]
    assert with_extra["extraFields"] == []
    assert api.get("/users", params={"limit": 250}).status_code == 200
    assert api.get("/users", params={"limit": 251}).status_code == 413
    assert [u["role"] for u in api.get("/users", params={"roles": "1"}).json()["data"]] == [1]


def test_channels_need_msf(api: httpx.Client, make_sandbox: Any, kit: Any) -> None:
    """§1.3, §6.3: GET /channels is 403 on non-MSF stores, the list otherwise."""
    response = api.get("/channels")
    assert response.status_code == 403
    assert response.json() == {"code": 403, "message": "Multi storefront is not enabled"}
    with kit.client(make_sandbox(kit.seed(multiStorefront=True))) as msf:
        data = msf.get("/channels").json()["data"]
        assert data[0]["channelId"] == 1
        assert data[0]["type"] == "storefront"
        assert data[0]["b2bEnabled"] is True
        missing = msf.get("/channels/99")
        assert missing.status_code == 404
        assert missing.json() == {"code": 404, "message": "Channel does not exist"}


def test_unknown_paths_and_methods(api: httpx.Client) -> None:
    """§1.3 default: unknown paths 404, wrong methods 405, both in the default envelope."""
    missing = api.get("/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"code": 404, "data": {}, "meta": {"message": "Not Found"}}
    wrong = api.patch("/companies")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == 405
    assert api.put("/companies", json={}).status_code == 405  # §3.1: PUT on the collection
    assert api.get("/companies/abc").status_code == 404


def test_handler_crash_is_a_500(sb: Any, api: httpx.Client, caplog: Any) -> None:
    """Errors inside the app never crash it: a 500 in the default envelope, then business as
    usual."""

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    route = next(r for r in sb.app.b2b_routes.routes if r.pattern.pattern == "^/users$")
    route.methods["GET"] = boom
    response = api.get("/users")
    assert response.status_code == 500
    assert response.json() == {
        "code": 500,
        "data": {},
        "meta": {"message": "Internal Server Error"},
    }
    assert "bug" in caplog.text
    assert api.get("/companies").status_code == 200
