"""Core price-list assignments (price_lists.v3.yml; b2b-api.md §6.2, §9.16) and Independent
stores with shared customer groups (§3.8)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, SandboxError

ASSIGNMENTS = [
    {"priceListId": 7, "customerGroupId": 12, "channelId": 1},
    {"priceListId": 8, "customerGroupId": 13, "channelId": 1},
    {"priceListId": 7, "customerGroupId": 13, "channelId": 2},
    {"priceListId": 8, "customerGroupId": None, "channelId": 2},
]


def independent(kit: Any, **quirks: Any) -> dict[str, Any]:
    """The base seed as an Independent store with two channels, four assignments and a group
    (20) shared by two companies."""
    seed = kit.seed(companiesBehavior="independent")
    seed["channels"] = [{"id": 1, "name": "Default"}, {"id": 2, "name": "Wholesale site"}]
    seed["priceListAssignments"] = copy.deepcopy(ASSIGNMENTS)
    for company_id, name, customer in ((1003, "Delta", 401), (1004, "Epsilon", 402)):
        seed["customers"].append(
            {"id": customer, "email": f"{name.lower()}@example.com", "customerGroupId": 20}
        )
        seed["companies"].append(
            {
                "companyId": company_id,
                "customerGroupId": 20,
                "companyName": name,
                "companyEmail": f"x@{name.lower()}.example",
                "companyPhone": "1",
            }
        )
        seed["users"].append({"customerId": customer, "companyId": company_id, "role": 0})
    if quirks:
        seed["quirks"] = quirks
    return seed


@pytest.fixture
def store(make_sandbox: Any, kit: Any) -> Sandbox:
    sb: Sandbox = make_sandbox(independent(kit))
    return sb


@pytest.fixture
def core(store: Sandbox, kit: Any) -> Iterator[httpx.Client]:
    with kit.client(store, kit.CORE, headers={"X-Auth-Token": kit.TOKEN}) as client:
        yield client


def pairs(client: httpx.Client, **params: Any) -> list[tuple[Any, ...]]:
    response = client.get("/v3/pricelists/assignments", params=params)
    assert response.status_code == 200, response.text
    return [
        (a["price_list_id"], a["customer_group_id"], a["channel_id"])
        for a in response.json()["data"]
    ]


def test_list_and_filters(core: httpx.Client) -> None:
    """GET with every documented filter; the assignment object has exactly the four ids."""
    body = core.get("/v3/pricelists/assignments").json()
    assert body["data"][0] == {
        "id": 1,
        "price_list_id": 7,
        "customer_group_id": 12,
        "channel_id": 1,
    }
    assert len(body["data"]) == 4
    assert pairs(core, customer_group_id=13) == [(8, 13, 1), (7, 13, 2)]
    assert pairs(core, price_list_id=7) == [(7, 12, 1), (7, 13, 2)]
    assert pairs(core, channel_id=2) == [(7, 13, 2), (8, None, 2)]
    assert pairs(core, id=2) == [(8, 13, 1)]
    assert pairs(core, **{"customer_group_id:in": "12,13", "channel_id": 1}) == [
        (7, 12, 1),
        (8, 13, 1),
    ]
    assert pairs(core, **{"price_list_id:in": "8", "channel_id:in": "1,2"}) == [
        (8, 13, 1),
        (8, None, 2),
    ]
    assert pairs(core, **{"id:in": "1,4,99"}) == [(7, 12, 1), (8, None, 2)]
    assert pairs(core, customer_group_id=99) == []
    bad = core.get("/v3/pricelists/assignments", params={"customer_group_id:in": "1,x"})
    assert bad.status_code == 422
    assert bad.json()["status"] == 422


def test_paging_by_page_and_by_cursor(core: httpx.Client) -> None:
    """``page`` -> only meta.pagination; cursors -> only meta.cursor_pagination; neither (or only
    ``limit``) -> both (CollectionMeta)."""
    first = core.get("/v3/pricelists/assignments", params={"limit": 3}).json()
    assert set(first["meta"]) == {"pagination", "cursor_pagination"}
    assert first["meta"]["pagination"]["total_pages"] == 2
    paged = core.get("/v3/pricelists/assignments", params={"limit": 3, "page": 2}).json()
    assert set(paged["meta"]) == {"pagination"}
    assert [a["id"] for a in paged["data"]] == [4]
    assert paged["meta"]["pagination"]["current_page"] == 2
    end = first["meta"]["cursor_pagination"]["end_cursor"]
    after = core.get("/v3/pricelists/assignments", params={"limit": 3, "after": end}).json()
    assert set(after["meta"]) == {"cursor_pagination"}
    assert [a["id"] for a in after["data"]] == [4]
    assert "next" not in after["meta"]["cursor_pagination"]["links"]
    start = after["meta"]["cursor_pagination"]["start_cursor"]
    before = core.get("/v3/pricelists/assignments", params={"limit": 2, "before": start}).json()
    assert [a["id"] for a in before["data"]] == [2, 3]
    for params in ({"page": 1, "after": end}, {"after": end, "before": end}, {"after": "zz"}):
        assert core.get("/v3/pricelists/assignments", params=params).status_code == 422


def test_upsert_creates_and_reassigns(core: httpx.Client, store: Sandbox) -> None:
    """PUT /v3/pricelists/{id}/assignments: a new pair is created; the same list again is a
    no-op; another list for a held pair replaces it (the default reading of §9.16)."""
    created = core.put(
        "/v3/pricelists/8/assignments", json={"customer_group_id": 20, "channel_id": 1}
    )
    assert created.status_code == 200
    data = created.json()["data"]
    assert data == {"id": 5, "price_list_id": 8, "customer_group_id": 20, "channel_id": 1}
    again = core.put(
        "/v3/pricelists/8/assignments", json={"customer_group_id": 20, "channel_id": 1}
    )
    assert again.json()["data"] == data
    moved = core.put(
        "/v3/pricelists/8/assignments", json={"customer_group_id": 12, "channel_id": 1}
    )
    assert moved.status_code == 200
    assert moved.json()["data"]["price_list_id"] == 8
    assert pairs(core, customer_group_id=12) == [(8, 12, 1)]
    assert len(store.dump()["priceListAssignments"]) == 5


def test_upsert_refused_reading(make_sandbox: Any, kit: Any) -> None:
    """Quirk priceListUpsertRefused: a held pair is refused (409) until it is deleted."""
    sb = make_sandbox(independent(kit, priceListUpsertRefused=True))
    with kit.client(sb, kit.CORE, headers={"X-Auth-Token": kit.TOKEN}) as core:
        body = {"customer_group_id": 12, "channel_id": 1}
        refused = core.put("/v3/pricelists/8/assignments", json=body)
        assert refused.status_code == 409
        assert "already has price list 7" in refused.json()["title"]
        assert pairs(core, customer_group_id=12) == [(7, 12, 1)]
        same = core.put("/v3/pricelists/7/assignments", json=body)
        assert same.status_code == 200  # the list it already has is not a conflict
        gone = core.delete(
            "/v3/pricelists/assignments", params={"customer_group_id": 12, "channel_id": 1}
        )
        assert gone.status_code == 204
        assert core.put("/v3/pricelists/8/assignments", json=body).status_code == 200
        assert pairs(core, customer_group_id=12) == [(8, 12, 1)]


def test_upsert_errors(core: httpx.Client, store: Sandbox) -> None:
    """Both body fields are required; a missing price list, group or channel is 404."""
    before = store.dump()["priceListAssignments"]
    for path, body, status in (
        ("/v3/pricelists/8/assignments", {"customer_group_id": 20}, 422),
        ("/v3/pricelists/8/assignments", {"channel_id": 1}, 422),
        ("/v3/pricelists/8/assignments", {"customer_group_id": "20", "channel_id": 1}, 422),
        ("/v3/pricelists/8/assignments", [], 422),
        ("/v3/pricelists/99/assignments", {"customer_group_id": 20, "channel_id": 1}, 404),
        ("/v3/pricelists/8/assignments", {"customer_group_id": 99, "channel_id": 1}, 404),
        ("/v3/pricelists/8/assignments", {"customer_group_id": 20, "channel_id": 9}, 404),
    ):
        response = core.put(path, json=body)
        assert response.status_code == status, (body, response.text)
    assert core.put("/v3/pricelists/8/assignments", content=b"{").status_code == 400
    assert store.dump()["priceListAssignments"] == before


def test_batch_create(core: httpx.Client, store: Sandbox) -> None:
    """POST: at most 25; valid items are saved, the 422 lists the others and saved_records."""
    ok = core.post(
        "/v3/pricelists/assignments",
        json=[{"price_list_id": 8, "customer_group_id": 20, "channel_id": 2}],
    )
    assert ok.status_code == 200
    assert ok.content == b""
    assert pairs(core, customer_group_id=20) == [(8, 20, 2)]
    mixed = core.post(
        "/v3/pricelists/assignments",
        json=[
            {"price_list_id": 7, "customer_group_id": 20, "channel_id": 1},
            {"customer_group_id": 20, "channel_id": 1},
            {"price_list_id": 99, "customer_group_id": 12, "channel_id": 2},
            {"price_list_id": 8, "customer_group_id": 20, "channel_id": 1},
            {"price_list_id": 7, "channel_id": 1},
        ],
    )
    assert mixed.status_code == 422
    body = mixed.json()
    assert body["meta"] == {"saved_records": 2}
    assert sorted(body["errors"]) == ["1", "2", "3"]
    assert pairs(core, channel_id=1) == [(7, 12, 1), (8, 13, 1), (7, 20, 1), (7, None, 1)]
    too_many = [{"price_list_id": 7, "customer_group_id": 12, "channel_id": 1}] * 26
    assert core.post("/v3/pricelists/assignments", json=too_many).status_code == 413
    assert core.post("/v3/pricelists/assignments", json={"a": 1}).status_code == 422


def test_batch_create_under_the_refused_reading(make_sandbox: Any, kit: Any) -> None:
    sb = make_sandbox(independent(kit, priceListUpsertRefused=True))
    with kit.client(sb, kit.CORE, headers={"X-Auth-Token": kit.TOKEN}) as core:
        response = core.post(
            "/v3/pricelists/assignments",
            json=[{"price_list_id": 8, "customer_group_id": 12, "channel_id": 1}],
        )
        assert response.status_code == 422
        assert "already has price list 7" in response.json()["errors"]["0"]
        assert pairs(core, customer_group_id=12) == [(7, 12, 1)]


def test_delete_by_filters(core: httpx.Client) -> None:
    """DELETE needs at least one documented filter; filters combine; 204."""
    assert core.delete("/v3/pricelists/assignments").status_code == 422
    unknown = core.delete("/v3/pricelists/assignments", params={"customer_group_id:in": "12"})
    assert unknown.status_code == 422
    assert len(pairs(core)) == 4
    gone = core.delete(
        "/v3/pricelists/assignments", params={"customer_group_id": 13, "channel_id": 2}
    )
    assert gone.status_code == 204
    assert pairs(core, customer_group_id=13) == [(8, 13, 1)]
    assert core.delete("/v3/pricelists/assignments", params={"id": 1}).status_code == 204
    assert core.delete("/v3/pricelists/assignments", params={"id": 1}).status_code == 204
    assert (
        core.delete("/v3/pricelists/assignments", params={"channel_id:in": "2"}).status_code == 204
    )
    assert pairs(core) == [(8, 13, 1)]


def test_assignments_spend_the_core_budget(make_sandbox: Any, kit: Any) -> None:
    """Assignment calls are core calls: X-Rate-Limit-* headers, the core window, 429 when spent;
    the B2B budget is untouched."""
    sb = make_sandbox(independent(kit), core_rate_limit=(2, 30.0))
    with kit.client(sb, kit.CORE, headers={"X-Auth-Token": kit.TOKEN}) as core:
        first = core.get("/v3/pricelists/assignments")
        assert first.headers["X-Rate-Limit-Requests-Left"] == "1"
        assert first.headers["X-Rate-Limit-Requests-Quota"] == "2"
        body = {"customer_group_id": 20, "channel_id": 1}
        assert core.put("/v3/pricelists/8/assignments", json=body).status_code == 200
        throttled = core.get("/v3/pricelists/assignments")
        assert throttled.status_code == 429
        assert "X-Rate-Limit-Time-Reset-Ms" in throttled.headers
    with kit.client(sb) as api:
        assert api.get("/companies").headers["X-Requests-Remaining"].startswith("99999")


def test_seed_and_dump(store: Sandbox, clock: Any) -> None:
    """priceListAssignments round-trip; a re-seed upserts by pair (or by id)."""
    dumped = store.dump()
    assert dumped["priceListAssignments"] == [{"id": i + 1, **a} for i, a in enumerate(ASSIGNMENTS)]
    with Sandbox(seed=copy.deepcopy(dumped), clock=clock) as again:
        assert again.dump() == dumped
    store.load_seed(
        {"priceListAssignments": [{"priceListId": 8, "customerGroupId": 12, "channelId": 1}]}
    )
    after = store.dump()["priceListAssignments"]
    assert after[0] == {"id": 1, "priceListId": 8, "customerGroupId": 12, "channelId": 1}
    assert len(after) == 4


@pytest.mark.parametrize(
    ("assignments", "message"),
    [
        ([{"priceListId": 99, "customerGroupId": 12, "channelId": 1}], "priceListId 99"),
        ([{"priceListId": 7, "customerGroupId": 99, "channelId": 1}], "customerGroupId 99"),
        ([{"priceListId": 7, "customerGroupId": 12, "channelId": 9}], "channelId 9"),
        ([{"customerGroupId": 12, "channelId": 1}], "priceListId is required"),
        ([{"priceListId": 7, "channel": 1}], "unknown key 'channel'"),
        (
            [
                {"priceListId": 7, "customerGroupId": 12, "channelId": 1},
                {"priceListId": 8, "customerGroupId": 12, "channelId": 1},
            ],
            r"already assigned by priceListAssignments\[0\]",
        ),
    ],
)
def test_invalid_assignment_seeds(
    store: Sandbox, assignments: list[dict[str, Any]], message: str
) -> None:
    before = store.dump()
    with pytest.raises(SandboxError, match=message):
        store.load_seed({"priceListAssignments": assignments})
    assert store.dump() == before


def test_shared_group_and_group_change(store: Sandbox, kit: Any) -> None:
    """Independent (§3.8): many companies per group; PUT customerGroupId moves one company and
    its users' core customers, leaving the other companies of the group and the group's price
    lists where they were."""
    with kit.client(store) as api:
        shared = api.get("/companies", params={"bcGroupId": 20}).json()["data"]
        assert sorted(c["companyName"] for c in shared) == ["Delta", "Epsilon"]
        assert {c["bcGroupId"] for c in shared} == {20}
        assert api.put("/companies/1003", json={"customerGroupId": 13}).status_code == 200
        assert api.get("/companies/1003").json()["data"]["bcGroupId"] == "13"
        left = api.get("/companies", params={"bcGroupId": 20}).json()["data"]
        assert [c["companyName"] for c in left] == ["Epsilon"]
        joined = api.get("/companies", params={"bcGroupId": 13}).json()["data"]
        assert sorted(c["companyName"] for c in joined) == ["Beta", "Delta"]
    with kit.client(store, kit.CORE, headers={"X-Auth-Token": kit.TOKEN}) as core:
        groups = {
            c["id"]: c["customer_group_id"]
            for c in core.get("/v3/customers", params={"id:in": "401,402"}).json()["data"]
        }
        assert groups == {401: 13, 402: 20}
        assert pairs(core, customer_group_id=13) == [(8, 13, 1), (7, 13, 2)]
    dumped = store.dump()
    assert {c["companyId"]: c["customerGroupId"] for c in dumped["companies"]}[1004] == 20


def test_group_change_to_the_same_group_is_harmless(store: Sandbox, kit: Any) -> None:
    with kit.client(store) as api:
        assert api.put("/companies/1004", json={"customerGroupId": 20}).status_code == 200
        assert len(api.get("/companies", params={"bcGroupId": 20}).json()["data"]) == 2
