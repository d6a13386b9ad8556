"""Outside changes (``reconciler.sandbox.outside``): each one sent through the sandbox's own API
(logged, stamped with the sandbox clock, with the endpoint's side effects), or made directly
where B2B Edition has no endpoint; and the endpoint they needed, ``DELETE /users/{userId}``."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sandbox import Sandbox, SandboxError, outside


def company(sb: Sandbox, company_id: int) -> dict[str, Any] | None:
    return next((c for c in sb.dump()["companies"] if c["companyId"] == company_id), None)


def user_of(sb: Sandbox, customer_id: int) -> dict[str, Any] | None:
    return next((u for u in sb.dump()["users"] if u["customerId"] == customer_id), None)


def order(sb: Sandbox, bc_order_id: int) -> dict[str, Any] | None:
    return next((o for o in sb.dump()["orders"] if o["bcOrderId"] == bc_order_id), None)


def test_company_changes_go_through_the_api_and_stamp_the_clock(sb: Sandbox, clock: Any) -> None:
    clock.advance(3600)
    outside.rename_company(sb, 1001, "Acme Renamed")
    outside.set_extra_field(sb, 1001, "tier", "Gold")
    outside.set_status(sb, 1002, 3)
    outside.set_catalog(sb, 1001, "8")
    acme, beta = company(sb, 1001), company(sb, 1002)
    assert acme is not None
    assert beta is not None
    assert acme["companyName"] == "Acme Renamed"
    assert acme["extraFields"] == {"licenseNo": "42", "tier": "Gold"}
    assert acme["catalogId"] == "8"
    assert acme["updatedAt"] == clock.now
    assert beta["companyStatus"] == 3
    assert beta["updatedAt"] == clock.now
    writes = [(e.method, e.path) for e in sb.request_log]
    assert writes == [
        ("PUT", "/api/v3/io/companies/1001"),
        ("PUT", "/api/v3/io/companies/1001"),
        ("PUT", "/api/v3/io/companies/1002/status"),
        ("PUT", "/api/v3/io/companies/1001/catalogs"),
    ]


def test_delete_create_and_convert(sb: Sandbox) -> None:
    outside.delete_company(sb, 1002)
    assert company(sb, 1002) is None
    assert 13 not in {g["id"] for g in sb.dump()["customerGroups"]}  # Dependent: group gone
    created = outside.create_company(sb, "Gamma", "g@gamma.example")
    converted = outside.convert_group(sb, 20, "Loose", "l@loose.example")
    gamma = company(sb, int(created["companyId"]))
    loose = company(sb, int(converted["companyId"]))
    assert gamma is not None
    assert gamma["companyName"] == "Gamma"
    assert loose is not None
    assert loose["customerGroupId"] == 20


def test_a_refused_change_raises_with_the_answer(sb: Sandbox) -> None:
    with pytest.raises(SandboxError, match="404"):
        outside.rename_company(sb, 9999, "Nobody")
    with pytest.raises(SandboxError, match="422"):
        outside.create_user(sb, 1001, "not-an-email")


def test_users_created_updated_moved_and_deleted(sb: Sandbox) -> None:
    made = outside.create_user(sb, 1001, "new@acme.example", role=1)
    customer = int(made["bcId"])
    assert (user_of(sb, customer) or {})["role"] == 1
    outside.update_user(sb, int(made["userId"]), role=2)
    assert (user_of(sb, customer) or {})["role"] == 2
    moved = outside.move_user(sb, 321, 1002)  # Acme keeps its new user
    assert int(moved["bcId"]) == 321
    assert (user_of(sb, 321) or {})["companyId"] == 1002
    outside.delete_user(sb, outside.user_id_of(sb, 321))  # Beta keeps customer 322
    assert user_of(sb, 321) is None
    assert 321 in {c["id"] for c in sb.dump()["customers"]}  # the BigCommerce customer stays
    with pytest.raises(SandboxError, match="last user in company"):
        outside.move_user(sb, customer, 1002)  # Acme's last user
    assert (user_of(sb, customer) or {})["companyId"] == 1001


def test_the_last_user_of_a_company_cannot_be_deleted(sb: Sandbox, kit: Any) -> None:
    with kit.client(sb) as api:
        only = api.get("/users/customer/322").json()["data"]["id"]
        refused = api.delete(f"/users/{only}")
        missing = api.delete("/users/987654")
    assert refused.status_code == 422
    assert refused.json() == {
        "code": 422,
        "meta": {"message": "Processing data contains logical errors"},
        "data": {"errMsg": "The last user in company can not be deleted."},
    }
    assert missing.status_code == 404
    assert user_of(sb, 322) is not None


def test_orders_reassigned_edited_added_and_deleted(sb: Sandbox, clock: Any) -> None:
    outside.reassign_orders(sb, 321, 13)
    assert (order(sb, 5002) or {})["companyId"] == 1002
    outside.update_order(sb, 5003, poNumber="PO-OUT")
    assert (order(sb, 5003) or {})["poNumber"] == "PO-OUT"
    outside.add_orders(sb, [{"bcOrderId": 7001, "customerId": 322, "companyId": 1002}])
    assert (order(sb, 7001) or {})["createdAt"] == clock.now
    outside.delete_orders(sb, [5001, 7001, 123456])
    assert order(sb, 5001) is None
    assert order(sb, 7001) is None


def test_deleted_orders_are_gone_from_both_apis(sb: Sandbox, kit: Any) -> None:
    assert sb.delete_orders([5003]) == 1
    with kit.client(sb) as api, kit.client(sb, kit.CORE) as core:
        assert api.get("/orders/5003").status_code == 404
        listed = api.get("/orders", params={"limit": 250}).json()["data"]
        core_listed = core.get("/v2/orders", params={"limit": 250}).json()
    assert 5003 not in {o["bcOrderId"] for o in listed}
    assert 5003 not in {o["id"] for o in core_listed}
    assert sb.delete_orders([5003]) == 0
