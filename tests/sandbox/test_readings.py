"""The switches for readings the docs leave open (b2b-api.md §9-§10), each way."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, SandboxError


def _company_extras(api: httpx.Client, company_id: int) -> dict[str, str]:
    data = api.get(f"/companies/{company_id}").json()["data"]
    return {f["fieldName"]: f["fieldValue"] for f in data["extraFields"]}


def _order_extras(api: httpx.Client, bc_order_id: int) -> dict[str, str]:
    data = api.get(f"/orders/{bc_order_id}").json()["data"]
    return {f["fieldName"]: f["fieldValue"] for f in data["extraFields"]}


def _orders(api: httpx.Client, **params: Any) -> list[int]:
    response = api.get("/orders", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return sorted(o["bcOrderId"] for o in response.json()["data"])


@pytest.mark.parametrize("replace", [False, True])
def test_extra_fields_merge_or_replace(make_sandbox: Any, kit: Any, replace: bool) -> None:
    """§9.3: a PUT's extraFields merges by name (default) or replaces the whole set."""
    seed = kit.seed(quirks={"extraFieldsReplace": replace})
    with kit.client(make_sandbox(seed)) as api:
        sent = [{"fieldName": "tier", "fieldValue": "Gold"}]
        assert api.put("/companies/1001", json={"extraFields": sent}).status_code == 200
        kept = {} if replace else {"licenseNo": "42"}
        assert _company_extras(api, 1001) == {**kept, "tier": "Gold"}
        # Without extraFields nothing changes under either reading.
        assert api.put("/companies/1001", json={"companyPhone": "1"}).status_code == 200
        assert _company_extras(api, 1001) == {**kept, "tier": "Gold"}
        assert api.put("/orders/5002", json={"poNumber": "X"}).status_code == 200
        assert _order_extras(api, 5002) == {"costCenter": "CC1"}
        sent = [{"fieldName": "costCenter", "fieldValue": "CC2"}]
        assert api.put("/orders/5003", json={"extraFields": sent}).status_code == 200
        assert _order_extras(api, 5003) == {"costCenter": "CC2"}


def test_company_put_requires_required_fields_in_the_array_sent(
    make_sandbox: Any, kit: Any
) -> None:
    """§9.12 strict: a required field already set on the company must still be sent."""
    seed = kit.seed(quirks={"companyPutRequiresExtraFields": True})
    seed["extraFieldConfigs"]["company"][0]["isRequired"] = True
    with kit.client(make_sandbox(seed)) as api:
        tier = [{"fieldName": "tier", "fieldValue": "Gold"}]
        refused = api.put("/companies/1001", json={"extraFields": tier})
        assert refused.status_code == 422
        assert refused.json()["meta"]["message"] == "licenseNo is a required extra field"
        both = [*tier, {"fieldName": "licenseNo", "fieldValue": "42"}]
        assert api.put("/companies/1001", json={"extraFields": both}).status_code == 200
    lenient = kit.seed()
    lenient["extraFieldConfigs"]["company"][0]["isRequired"] = True
    with kit.client(make_sandbox(lenient)) as api:
        tier = [{"fieldName": "tier", "fieldValue": "Gold"}]
        assert api.put("/companies/1001", json={"extraFields": tier}).status_code == 200


@pytest.mark.parametrize("refused", [False, True])
def test_empty_company_extra_field_value(make_sandbox: Any, kit: Any, refused: bool) -> None:
    """§9.15: fieldValue "" against minLength: 1 is refused, or clears the value."""
    with kit.client(make_sandbox(kit.seed(quirks={"emptyExtraFieldRefused": refused}))) as api:
        empty = [{"fieldName": "licenseNo", "fieldValue": ""}]
        response = api.put("/companies/1001", json={"extraFields": empty})
        assert response.status_code == (422 if refused else 200)
        assert _company_extras(api, 1001) == {"licenseNo": "42" if refused else ""}


@pytest.mark.parametrize("absent", [False, True])
def test_zero_date_filter(api: httpx.Client, make_sandbox: Any, kit: Any, absent: bool) -> None:
    """§9.11: minCreated=0 is a filter (default) or "not provided" (the one-year window)."""
    with kit.client(make_sandbox(kit.seed(quirks={"zeroDateIsAbsent": absent}))) as client:
        assert (4000 in _orders(client, minCreated=0)) is not absent
        assert 4000 in _orders(client, minCreated=1)  # a real date under every reading
        assert 4000 in _orders(client, minModified=1)


def test_orders_sync_lag(make_sandbox: Any, kit: Any, clock: Any) -> None:
    """§9.13: an order younger than the lag is in core V2 only; B2B learns of it later."""
    seed = kit.seed(quirks={"ordersSyncLag": 4 * kit.DAY + 60})
    sb = make_sandbox(seed)
    with (
        kit.client(sb) as api,
        kit.client(sb, kit.CORE, headers={"X-Auth-Token": kit.TOKEN}) as core,
    ):
        # 5003 (3 days) and 5002 (4 days) are too young; 5001 (5 days) is synced.
        assert _orders(api, minCreated=1) == [4000, 5001]
        assert api.get("/orders/5002").status_code == 404
        assert api.put("/orders/5002", json={"poNumber": "X"}).status_code == 404
        assert core.get("/v2/orders/5002").status_code == 200
        # nor does B2B find a company by an order it does not know
        assert _company_ids(api, bcOrderId=5002) == []
        assert _company_ids(api, bcOrderId=5001) == []  # (company-less)
        moved = api.put("/customers/322/orders/company", json={"bcGroupId": 12}).json()
        assert moved["data"] == {"total": 1}  # 4000 only; 5003 is unknown to B2B
        clock.advance(2 * kit.DAY)
        assert _orders(api, minCreated=1) == [4000, 5001, 5002, 5003]
        assert _company_ids(api, bcOrderId=5002) == [1001]


def test_an_order_recorded_through_b2b_is_known_at_once(
    make_sandbox: Any, kit: Any, clock: Any
) -> None:
    """§9.13: ``POST /orders`` makes the B2B record itself, so B2B Edition knows the order at
    once whatever ``ordersSyncLag`` says: a new order, or one it had not synced yet (not "The
    order already exists"); once known, a second POST is refused."""
    sb = make_sandbox(kit.seed(quirks={"ordersSyncLag": 4 * kit.DAY + 60}))
    with kit.client(sb) as api:
        assert _orders(api, minCreated=1) == [4000, 5001]
        made = api.post("/orders", json={"bcOrderId": 6000, "customerId": 321})
        assert made.status_code == 200, made.text
        synced = api.post("/orders", json={"bcOrderId": 5002, "customerId": 321})
        assert synced.status_code == 200, synced.text
        assert _orders(api, minCreated=1) == [4000, 5001, 5002, 6000]
        assert api.get("/orders/6000").status_code == 200
        assert api.post("/orders", json={"bcOrderId": 6000, "customerId": 321}).status_code == 400
        sb.delete_orders([6000], side="b2b")  # lost again: a new POST records it again
        assert api.get("/orders/6000").status_code == 404
        assert api.post("/orders", json={"bcOrderId": 6000, "customerId": 321}).status_code == 200
        assert api.get("/orders/6000").status_code == 200


def _company_ids(api: httpx.Client, **params: Any) -> list[int]:
    response = api.get("/companies", params=params)
    assert response.status_code == 200, response.text
    return sorted(int(c["companyId"]) for c in response.json()["data"])


@pytest.mark.parametrize("stamps", [False, True], ids=["own-updatedAt", "sync-time"])
def test_a_record_made_through_b2b_survives_a_dump(
    make_sandbox: Any, kit: Any, clock: Any, stamps: bool
) -> None:
    """A record B2B Edition made itself (``POST /orders``) before the order's sync is known at
    once and keeps its own ``updatedAt``; a dump carries that (``recordedByB2b``, only when
    true), so the store seeded from it answers the same, under either reading of §9.13."""
    quirks = {"ordersSyncLag": 4 * kit.DAY + 60, "lateSyncStampsSyncTime": stamps}
    sb = make_sandbox(kit.seed(quirks=quirks))
    with kit.client(sb) as api:
        made = api.post("/orders", json={"bcOrderId": 5003, "customerId": 322})
        assert made.status_code == 200, made.text
        before = _stamps(api, minCreated=1)
    dumped = sb.dump()
    flags = {o["bcOrderId"]: o.get("recordedByB2b") for o in dumped["orders"]}
    assert flags == {5001: None, 5002: None, 5003: True, 4000: None}
    sb.delete_orders([5003], side="b2b")  # the record lost: the flag stays (a POST made it)
    assert {o["bcOrderId"]: o for o in sb.dump()["orders"]}[5003]["recordedByB2b"] is True
    again = make_sandbox(dumped)
    with kit.client(again) as api:
        assert _stamps(api, minCreated=1) == before
        assert list(before) == [5003, 5001, 4000]
    assert again.dump()["orders"] == dumped["orders"]


def _stamps(api: httpx.Client, **params: Any) -> dict[int, tuple[int, int]]:
    """bcOrderId -> (createdAt, updatedAt), in the listing's order."""
    response = api.get("/orders", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return {o["bcOrderId"]: (o["createdAt"], o["updatedAt"]) for o in response.json()["data"]}


@pytest.mark.parametrize("stamps", [False, True], ids=["own-updatedAt", "sync-time"])
def test_a_late_sync_stamps_the_order_s_own_updated_at_or_the_sync_time(
    make_sandbox: Any, kit: Any, clock: Any, stamps: bool
) -> None:
    """§9.13: the ``updatedAt`` of a record B2B Edition makes when it learns of an order late is
    not documented: the order's own (default: no ``minModified`` listing shows it), or the
    sync time, ``createdAt + ordersSyncLag`` when the order's own is older
    (``lateSyncStampsSyncTime``): rendered, filtered, sorted and counted in the one-year window
    so; ``createdAt`` and core's ``date_modified`` stay the order's, and a record B2B made
    itself (``POST /orders``) keeps the time it made it."""
    day, now, lag = kit.DAY, kit.NOW, 4 * kit.DAY + 60
    seed = kit.seed(quirks={"ordersSyncLag": lag, "lateSyncStampsSyncTime": stamps})
    seed["orders"].append(  # synced 362 days ago: in the one-year window only by its stamp
        {"bcOrderId": 4001, "customerId": 322, "companyId": 1002,
         "createdAt": now - 366 * day, "updatedAt": now - 366 * day}
    )  # fmt: skip
    sb = make_sandbox(seed)
    with (
        kit.client(sb) as api,
        kit.client(sb, kit.CORE, headers={"X-Auth-Token": kit.TOKEN}) as core,
    ):
        made = api.post("/orders", json={"bcOrderId": 5003, "customerId": 322})  # not synced yet
        assert made.status_code == 200, made.text
        assert made.json()["data"]["updatedAt"] == now
        clock.advance(2 * day)  # every order synced: 5001 at now - 1 day + 60, 5002 at now + 60
        synced = {5001: now - day + 60, 5002: now + 60, 4001: now - 362 * day + 60}
        own = {5001: now - 5 * day, 5002: now - 4 * day, 4001: now - 366 * day}
        shown = synced if stamps else own
        listed = _stamps(api, minCreated=1)  # updatedAt descending
        assert listed == {
            5002: (now - 4 * day, shown[5002]),
            5003: (now - 3 * day, now),  # recorded through B2B: its own stamp
            5001: (now - 5 * day, shown[5001]),
            4001: (now - 366 * day, shown[4001]),
            4000: (now - 400 * day, now - 380 * day),  # synced long before its last change
        }
        order = [5002, 5003, 5001, 4001, 4000] if stamps else [5003, 5002, 5001, 4001, 4000]
        assert list(listed) == order
        ascending = _stamps(api, minCreated=1, sortBy="updatedAt", orderBy="ASC")
        assert list(ascending) == order[::-1]
        detail = api.get("/orders/5002").json()["data"]
        assert (detail["createdAt"], detail["updatedAt"]) == (now - 4 * day, shown[5002])
        assert list(_stamps(api, minModified=now)) == ([5002, 5003] if stamps else [5003])
        before = _stamps(api, maxModified=now - 1)
        assert list(before) == ([5001, 4001, 4000] if stamps else [5002, 5001, 4001, 4000])
        assert sorted(_stamps(api)) == ([4001, 5001, 5002, 5003] if stamps else [5001, 5002, 5003])
        assert list(_stamps(api, minCreated=now - 4 * day, sortBy="createdAt")) == [5003, 5002]
        core_order = core.get("/v2/orders/5002").json()
        assert parsedate_to_datetime(core_order["date_modified"]).timestamp() == own[5002]
        # a later change stamps the record with its own time under both readings
        clock.advance(day)
        assert api.put("/orders/5001", json={"poNumber": "X"}).status_code == 200
        assert _stamps(api, minModified=now + 3 * day) == {5001: (now - 5 * day, now + 3 * day)}


@pytest.mark.parametrize("in_meta", [False, True])
def test_channels_403_body(make_sandbox: Any, kit: Any, in_meta: bool) -> None:
    """§9.14: the non-MSF 403 says "Multi storefront is not enabled", top-level or in meta."""
    with kit.client(make_sandbox(kit.seed(quirks={"channelsErrorInMeta": in_meta}))) as api:
        response = api.get("/channels")
        assert response.status_code == 403
        message = "Multi storefront is not enabled"
        if in_meta:
            assert response.json() == {"code": 403, "data": {}, "meta": {"message": message}}
        else:
            assert response.json() == {"code": 403, "message": message}


@pytest.mark.parametrize("bad", [-1, True, "10", 1.5])
def test_sync_lag_must_be_seconds(kit: Any, bad: object) -> None:
    with pytest.raises(SandboxError, match="ordersSyncLag: must be a whole number of seconds"):
        Sandbox(seed=kit.seed(quirks={"ordersSyncLag": bad}))
