"""Outside changes (``reconciler.sandbox.outside``): each one sent through the sandbox's own API
(logged, stamped with the sandbox clock, with the endpoint's side effects), or made directly
where B2B Edition has no endpoint; and the endpoint they needed, ``DELETE /users/{userId}``."""

from __future__ import annotations

import sqlite3
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


def _b2b_total(api: Any) -> int:
    meta = api.get("/orders", params={"minCreated": 1, "limit": 1}).json()["meta"]
    return int(meta["pagination"]["totalCount"])


def test_a_b2b_record_lost_alone_leaves_the_core_order(sb: Sandbox, kit: Any) -> None:
    """B2B Edition loses its record of 5003 (core keeps the order): the B2B API neither lists,
    counts, finds nor moves it; core lists, counts and finds it; nothing's updatedAt moves."""
    before = order(sb, 5003)
    with kit.client(sb) as api, kit.client(sb, kit.CORE) as core:
        total, core_count = _b2b_total(api), core.get("/v2/orders/count").json()["count"]
        outside.delete_b2b_orders(sb, [5003])
        assert api.get("/orders/5003").status_code == 404
        assert api.put("/orders/5003", json={"poNumber": "X"}).status_code == 404
        listed = api.get("/orders", params={"minCreated": 1, "limit": 250}).json()["data"]
        assert 5003 not in {o["bcOrderId"] for o in listed}
        assert _b2b_total(api) == total - 1
        by_order = api.get("/companies", params={"bcOrderId": 5003}).json()["data"]
        assert by_order == []
        assert core.get("/v2/orders/count").json()["count"] == core_count
        assert core.get("/v2/orders/5003").status_code == 200
        mine = core.get("/v2/orders", params={"customer_id": 322}).json()
        assert 5003 in {o["id"] for o in mine}
        moved = api.put("/customers/322/orders/company", json={"bcGroupId": 12}).json()
        assert moved["data"] == {"total": 1}  # 4000 only: B2B has no record of 5003
    lost = order(sb, 5003)
    assert lost == {**(before or {}), "inB2b": False}
    assert sb.delete_orders([5003], side="b2b") == 0  # B2B had already lost it


def test_a_lost_b2b_record_is_recorded_again_by_post(sb: Sandbox, kit: Any, clock: Any) -> None:
    sb.delete_orders([5003], side="b2b")
    clock.advance(60)
    with kit.client(sb) as api:
        made = api.post("/orders", json={"bcOrderId": 5003, "customerId": 322, "poNumber": "P"})
        again = api.post("/orders", json={"bcOrderId": 5003, "customerId": 322})
        assert made.status_code == 200
        assert again.status_code == 400  # B2B holds it now
        found = api.get("/orders/5003").json()["data"]
    assert found["poNumber"] == "P"
    assert found["companyId"] == 1002
    assert found["updatedAt"] == clock.now
    assert "inB2b" not in (order(sb, 5003) or {})


def test_a_core_deletion_reaches_b2b_late(sb: Sandbox, kit: Any) -> None:
    """Core deletes 5003 first (B2B keeps its record: the deletion not synced yet), B2B
    later: then the order is gone."""
    assert sb.delete_orders([5003], side="core") == 1
    with kit.client(sb) as api, kit.client(sb, kit.CORE) as core:
        assert core.get("/v2/orders/5003").status_code == 404
        counted = core.get("/v2/orders/count", params={"customer_id": 322}).json()["count"]
        assert counted == 1  # 4000
        assert api.get("/orders/5003").status_code == 200
        assert (order(sb, 5003) or {}).get("inCore") is False
        total = _b2b_total(api)
        outside.delete_b2b_orders(sb, [5003])
        assert _b2b_total(api) == total - 1
    assert order(sb, 5003) is None
    assert sb.delete_orders([5003], side="core") == 0


def test_one_sided_orders_survive_dump_and_seed(sb: Sandbox, kit: Any, clock: Any) -> None:
    outside.delete_core_orders(sb, [5001])
    outside.delete_b2b_orders(sb, [5002])
    dumped = sb.dump()
    with Sandbox(seed={**dumped, "faults": []}, clock=clock) as copy:
        assert copy.dump()["orders"] == dumped["orders"]
    with pytest.raises(SandboxError, match=r"orders\[0\]: inCore and inB2b are both false"):
        sb.load_seed({"orders": [{"bcOrderId": 5003, "inCore": False, "inB2b": False}]})
    with pytest.raises(SandboxError, match=r"orders\[0\]\.inB2b: expected true or false"):
        sb.load_seed({"orders": [{"bcOrderId": 5003, "inB2b": "no"}]})
    with pytest.raises(SandboxError, match="side must be one of both, core, b2b"):
        sb.delete_orders([5003], side="neither")
    assert sb.dump() == dumped


def test_version_two_db_files_are_migrated(tmp_path: Any, kit: Any, clock: Any) -> None:
    """A file made before an order could lose one side: every order is held by both."""
    db = str(tmp_path / "v2.db")
    with Sandbox(db=db, seed=kit.seed(), clock=clock) as made:
        orders = made.dump()["orders"]
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE orders DROP COLUMN held")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with Sandbox(db=db, clock=clock) as again:
        assert again.dump()["orders"] == orders
        assert again.delete_orders([5003], side="b2b") == 1


def test_times_a_seed_leaves_out_are_the_stores_clock(
    make_sandbox: Any, kit: Any, clock: Any
) -> None:
    """With ``clockSkew`` the store's clock is off the sandbox's; an order placed at checkout
    (``add_orders``, a seed) is stamped by the store's clock, as every API write is, so that a
    ``minModified`` listing from the store's ``Date`` sees it."""
    seed = kit.seed()
    seed["store"]["quirks"] = {"clockSkew": 600}
    sb = make_sandbox(seed)
    outside.add_orders(sb, [{"bcOrderId": 7001, "customerId": 322, "companyId": 1002}])
    placed = order(sb, 7001) or {}
    assert placed["createdAt"] == placed["updatedAt"] == clock.now + 600
    sb.load_seed({"quirks": {"clockSkew": -60}, "orders": [{"bcOrderId": 7002}]})
    assert (order(sb, 7002) or {})["updatedAt"] == clock.now - 60  # the seed's own skew
    with kit.client(sb) as api:
        listed = api.get("/orders", params={"minModified": clock.now - 60, "limit": 200})
    assert {7001, 7002} <= {o["bcOrderId"] for o in listed.json()["data"]}
