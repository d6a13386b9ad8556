"""Incremental refresh (reconciler.incremental): the plan from a snapshot plus what changed since
is the plan a full read makes now, for every kind of outside change, through the real client
over the sandbox's HTTP; and a no-change read costs a few requests, whatever the store's size."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from reconciler import incremental, snapshot
from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.api.b2b import pages_for
from reconciler.errors import PlanError
from reconciler.kinds.company.spec import AdminSpec
from reconciler.kinds.company_users import CompanyUsersSpec, UserSpec
from reconciler.kinds.order import OrderSpec
from reconciler.kinds.order_assignment import OrderAssignmentSpec
from reconciler.live import ReadCounts, read_needs
from reconciler.model import JSON, ManifestSet
from reconciler.planfile import live_to_json, plan_to_json
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox, outside

Change = Callable[[Sandbox, httpx.Client], None]


def the_manifests(kit: SimpleNamespace, behavior: str = "dependent") -> ManifestSet:
    """Two companies, an OrderAssignment of three customers (one no user yet), two Order
    documents, and Acme's users (one to create)."""
    found: ManifestSet = kit.manifests(
        (kit.spec("acme", 12, company_name="Acme"), kit.spec("globex", 13, company_name="Globex")),
        (OrderAssignmentSpec(name="acme-buyers", company="acme", customer_ids=(321, 322, 400)),),
        (
            OrderSpec(name="po-5001", bc_order_id=5001, po_number="PO-9"),
            OrderSpec(name="po-5004", bc_order_id=5004, po_number="PO-4"),
        ),
        behavior=behavior,
    )
    users = CompanyUsersSpec(
        name="acme-users",
        company="acme",
        users=(
            UserSpec("a@acme.example", "A", "B", "admin"),
            UserSpec("new@acme.example", "N", "U", "junior-buyer"),
        ),
    )
    return replace(found, specs=(*found.specs, users))


def comparable(client: ApiClient, manifests: ManifestSet, got: incremental.Refreshed) -> JSON:
    """The live state read and its plan JSON, without what only the time of reading changes
    (or the problems that make the plan impossible)."""
    state = live_to_json(got.live)
    state.pop("readAt")
    state.pop("storeReadAt", None)
    try:
        body = plan_to_json(build_plan(manifests, got.live, created_at="t"))
    except PlanError as exc:
        return {"live": state, "issues": [issue.format() for issue in exc.issues]}
    body["live"].pop("readAt")
    body["live"].pop("storeReadAt", None)
    body["preconditions"].pop("watermark")
    return {"live": state, "plan": body}


def http(sb: Sandbox) -> httpx.Client:
    return httpx.Client(
        transport=sb.transport(),
        base_url="http://sandbox.local/api/v3/io",
        headers={"X-Auth-Token": "sandbox-token-live-55aa", "X-Store-Hash": sb.store_hash},
    )


def sql(sb: Sandbox, statement: str, *params: Any) -> None:
    """An outside change the API cannot make (deleting an order or a user, moving an order to
    another customer): straight into the sandbox's store."""
    store = sb._store
    with store.transaction(write=True):
        store.execute(statement, params)
    store.invalidate()


def ok(response: httpx.Response) -> None:
    assert response.status_code in (200, 204), response.text


def now() -> int:
    """The time an outside change made through SQL is stamped with (when it is made)."""
    return int(time.time())


def recreate_user(sb: Sandbox, api: httpx.Client, customer_id: int) -> None:
    """Move a user "to the company it is in", the only way the API moves one: delete it and
    create it again with the same e-mail. Its company and the users total are as they were,
    but the creation brings the customer's company-less orders into the company."""
    user = api.get(f"/users/customer/{customer_id}")
    ok(user)
    data = user.json()["data"]
    sql(sb, "DELETE FROM users WHERE id = ?", data["id"])  # (the API keeps a company's last)
    body = {
        "firstName": data["firstName"] or "F",
        "lastName": data["lastName"] or "L",
        "email": data["email"],
        "companyId": data["companyId"],
        "role": data["role"],
        "channelIds": [1],
    }
    ok(api.post("/users", json=body))


CHANGES: dict[str, Change] = {
    "nothing": lambda sb, api: None,
    "rename": lambda sb, api: ok(api.put("/companies/1001", json={"companyName": "Acme Two"})),
    "extra field": lambda sb, api: ok(
        api.put(
            "/companies/1001",
            json={"extraFields": [{"fieldName": "licenseNo", "fieldValue": "77"}]},
        )
    ),
    "status": lambda sb, api: ok(api.put("/companies/1002/status", json={"companyStatus": 3})),
    "company deleted": lambda sb, api: ok(api.delete("/companies/1002")),
    "company created": lambda sb, api: sb.load_seed(
        {
            "customerGroups": [{"id": 14, "name": "Initech"}],
            "companies": [
                {
                    "companyId": 1003,
                    "customerGroupId": 14,
                    "companyName": "Initech",
                    "companyEmail": "i@initech.example",
                    "companyPhone": "1",
                    "companyStatus": 1,
                }
            ],
        }
    ),
    "user created": lambda sb, api: ok(
        api.post(
            "/users",
            json={
                "firstName": "E",
                "lastName": "F",
                "email": "loner@example.com",
                "companyId": 1001,
                "role": 2,
                "channelIds": [1],
            },
        )
    ),
    "user moved": lambda sb, api: sql(
        sb, "UPDATE users SET company_id = 1002, updated_at = ? WHERE customer_id = 321", now()
    ),
    "user deleted": lambda sb, api: sql(sb, "DELETE FROM users WHERE customer_id = 322"),
    "user created again in its company": lambda sb, api: recreate_user(sb, api, 321),
    # (Independent stores answer the documented 404: then nothing changed)
    "orders reassigned": lambda sb, api: (
        None
        if api.put("/customers/322/orders/company", json={"bcGroupId": 12}).status_code
        in (200, 404)
        else pytest.fail("reassign refused")
    ),
    "orders assigned": lambda sb, api: ok(api.put("/customers/321/orders/b2b", json={})),
    "new order": lambda sb, api: sb.load_seed(
        {"orders": [{"bcOrderId": 5010, "customerId": 322, "companyId": None}]}
    ),
    "order deleted": lambda sb, api: sql(sb, "DELETE FROM orders WHERE bc_order_id = 5003"),
    # B2B Edition loses its record, core keeps the order: no listing sees it, only the total
    "B2B record of an order lost": lambda sb, api: outside.delete_b2b_orders(sb, [5003]),
    "order of another customer": lambda sb, api: sql(
        sb, "UPDATE orders SET customer_id = 400, updated_at = ? WHERE bc_order_id = 5003", now()
    ),
    "PO number edited": lambda sb, api: ok(api.put("/orders/5001", json={"poNumber": "PO-X"})),
}


def big(kit: SimpleNamespace, size: int, companies: int | None = None) -> dict[str, Any]:
    """``kit.big_seed`` with order 5004 of customer 400 and every user last modified long ago."""
    seed: dict[str, Any] = kit.big_seed(
        companies=size if companies is None else companies, users=size, orders=size
    )
    seed["orders"].append(
        {"bcOrderId": 5004, "customerId": 400, "companyId": None, "createdAt": 1700000000,
         "updatedAt": 1700000000}
    )  # fmt: skip
    for user in seed["users"]:
        user.setdefault("createdAt", 1700000000)
        user.setdefault("updatedAt", 1700000000)
    return seed


def _seed(kit: SimpleNamespace, size: int, bump: bool, behavior: str) -> dict[str, Any]:
    seed = big(kit, 300, companies=size) if size else kit.base_seed()
    seed["store"]["companiesBehavior"] = behavior
    return kit.with_quirks(seed, {"sideEffectsBumpUpdatedAt": bump})


STORES = {
    "one-page": (0, True, "dependent"),
    "one-page-no-bump": (0, False, "dependent"),
    "many-pages": (300, True, "dependent"),
    "many-pages-no-bump": (300, False, "dependent"),
    "independent-many-pages": (300, True, "independent"),
    # 1000 companies (300 users and orders): a full read lists the two managed groups'
    # companies one group at a time, so the snapshot does not hold every company and company
    # deletions are not known
    "per-group-no-bump": (1000, False, "dependent"),
}


@pytest.mark.parametrize("store", sorted(STORES))
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_incremental_plan_equals_the_full_plan(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    change: str,
    store: str,
) -> None:
    size, bump, behavior = STORES[store]
    sb = new_sandbox(seed=_seed(kit, size, bump, behavior))
    client = open_client(sb)
    manifests = the_manifests(kit, behavior)
    earlier = incremental.read(client, manifests)
    with http(sb) as api:
        CHANGES[change](sb, api)
    incr = incremental.read(client, manifests, snapshot=earlier.snapshot)
    full = incremental.read(client, manifests)
    assert incr.refresh.mode == "incremental"
    assert comparable(client, manifests, incr) == comparable(client, manifests, full)
    # and the snapshot written by the incremental read serves the next one as well
    again = incremental.read(client, manifests, snapshot=incr.snapshot)
    assert comparable(client, manifests, again) == comparable(client, manifests, full)


@pytest.mark.parametrize("size", [300, 700])
def test_a_no_change_read_costs_ten_requests_whatever_the_size(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    size: int,
) -> None:
    """Companies: the first page (newest first: it holds every change); configs: company,
    order and user; users: changed + total; the e-mail of the customer who is no user; core
    orders: count + changed; B2B orders: the first page of every order (the same)."""
    sb = new_sandbox(seed=big(kit, size))
    client = open_client(sb)
    manifests = the_manifests(kit)
    earlier = incremental.read(client, manifests)
    assert earlier.live.requests > 10
    incr = incremental.read(client, manifests, snapshot=earlier.snapshot)
    assert incr.live.requests == 10
    assert incr.refresh.from_snapshot == ("companies", "users", "orders", "core orders")
    assert incr.refresh.read_in_full == ()


SKEWS = [(-600, 0), (600, 0), (-3600, 3), (3600, -3), (0, -3), (0, 3)]
"""(clockSkew, dateHeaderSkew): the store's clock off ours by 10 minutes or an hour either way;
its ``Date`` header off its ``updatedAt`` clock by up to 3 s either way."""


def recent(seed: dict[str, Any], skew: int) -> dict[str, Any]:
    """``seed`` with every company, user and order modified in the last 12 minutes on the
    store's clock (ours + ``skew``), in the seed's order, as a converged apply leaves a store."""
    at = int(time.time()) + skew - 5
    for kind in ("companies", "users", "orders"):
        items = sorted(seed[kind], key=lambda i: -i.get("updatedAt", 0))
        assert len(items) < 700
        for rank, item in enumerate(items):
            item["updatedAt"] = at - rank
    return seed


@pytest.mark.parametrize(("skew", "date_skew"), SKEWS)
@pytest.mark.parametrize("size", [300, 600])
def test_a_no_change_read_right_after_many_writes_costs_ten_requests(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    size: int,
    skew: int,
    date_skew: int,
) -> None:
    """Every object written a minute before the earlier read (as an apply leaves the store):
    the next read does not list them again, since its change listings start from the store's
    clock at the earlier read (its ``Date`` header), not 15 minutes before ours."""
    quirks = {"clockSkew": skew, "dateHeaderSkew": date_skew}
    sb = new_sandbox(seed=kit.with_quirks(recent(big(kit, size), skew), quirks))
    client = open_client(sb)
    manifests = the_manifests(kit)
    earlier = incremental.read(client, manifests)
    assert earlier.snapshot.store_clock.keys() == {"b2b", "core"}
    incr = incremental.read(client, manifests, snapshot=earlier.snapshot)
    assert incr.live.requests == 10
    assert incr.refresh.from_snapshot == ("companies", "users", "orders", "core orders")
    full = incremental.read(client, manifests)
    assert comparable(client, manifests, incr) == comparable(client, manifests, full)


@pytest.mark.parametrize(("skew", "date_skew"), SKEWS)
def test_clock_skew_changes_nothing(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    skew: int,
    date_skew: int,
) -> None:
    """The store's clock off ours, its ``Date`` header a little off its ``updatedAt``: a change
    it stamps right after the earlier read (the same second, mostly) is still seen."""
    quirks = {"clockSkew": skew, "dateHeaderSkew": date_skew}
    sb = new_sandbox(seed=kit.with_quirks(kit.big_seed(companies=300, users=0, orders=0), quirks))
    client = open_client(sb)
    manifests = kit.manifests((kit.spec("acme", 12, company_name="Acme"),))
    earlier = incremental.read(client, manifests)
    with http(sb) as api:
        ok(api.put("/companies/1001", json={"companyName": "Acme Skewed"}))
    incr = incremental.read(client, manifests, snapshot=earlier.snapshot)
    full = incremental.read(client, manifests)
    assert "companies" in incr.refresh.from_snapshot
    assert comparable(client, manifests, incr) == comparable(client, manifests, full)
    assert incr.live.company_for_group(12).company_name == "Acme Skewed"  # type: ignore[union-attr]


class NoDate(httpx.BaseTransport):
    """A transport whose answers carry no ``Date`` header."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        del response.headers["Date"]
        return response


@pytest.mark.parametrize("skew", [-600, 600])
def test_without_a_date_header_changes_are_listed_from_our_clock_less_the_margin(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    skew: int,
) -> None:
    """No ``Date`` header: the snapshot has no store clock, and the change listings start 15
    minutes before our clock at the earlier read (the fallback, right for a skew inside it)."""
    sb = new_sandbox(seed=kit.with_quirks(big(kit, 300), {"clockSkew": skew}))
    settings = ApiSettings(
        store_hash=sb.store_hash,
        token=Secret(kit.TOKEN),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    with ApiClient.open(settings, NoDate(sb.transport()), sleep=lambda _s: None) as client:
        manifests = the_manifests(kit)
        earlier = incremental.read(client, manifests)
        assert earlier.snapshot.store_clock == {}
        since = earlier.snapshot.taken_at - incremental.MARGIN
        assert incremental.since_of(earlier.snapshot, "b2b") == since
        assert incremental.since_of(earlier.snapshot, "core") == since
        with http(sb) as api:
            ok(api.put("/companies/1001", json={"companyName": "Acme Undated"}))
        incr = incremental.read(client, manifests, snapshot=earlier.snapshot)
        full = incremental.read(client, manifests)
        assert "companies" in incr.refresh.from_snapshot
        assert comparable(client, manifests, incr) == comparable(client, manifests, full)
        listed = [
            e.query
            for e in sb.request_log
            if e.path.endswith("/users") and "minModified" in e.query
        ]
        assert listed
        assert all(f"minModified={since}" in q for q in listed)


def test_the_snapshot_holds_no_secret_and_reads_back(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    tmp_path: Path,
) -> None:
    sb = new_sandbox(seed=big(kit, 300))
    client = open_client(sb)
    manifests = the_manifests(kit)
    got = incremental.read(client, manifests)
    assert snapshot.save(str(tmp_path), got.snapshot) == ""
    text = snapshot.path_for(str(tmp_path), sb.store_hash).read_text()
    assert kit.TOKEN not in text
    assert "X-Auth-Token" not in text
    assert "http" not in text
    back, reason = snapshot.load(str(tmp_path), sb.store_hash, now=got.snapshot.taken_at)
    assert reason == ""
    assert back == got.snapshot
    assert back.companies_complete
    assert back.order_ids
    assert back.user_rows


@pytest.mark.parametrize("size", [300, 700])
def test_the_cost_model_tells_the_requests_of_an_incremental_read(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    size: int,
) -> None:
    sb = new_sandbox(seed=big(kit, size))
    client = open_client(sb)
    manifests = the_manifests(kit)
    counts = ReadCounts(company_extra_fields=1, order_extra_fields=1, customers_not_users=1)
    needs = read_needs(manifests)
    earlier = incremental.read(client, manifests)
    quiet = incremental.read(client, manifests, snapshot=earlier.snapshot)
    parts = quiet.refresh.from_snapshot
    cost = incremental.incremental_read_cost(needs, counts, incremental.Changes(), parts)
    assert cost.total == quiet.live.requests == 10
    with http(sb) as api:
        ok(api.put("/companies/1001", json={"companyName": "Acme Two"}))
        ok(api.put("/orders/5001", json={"poNumber": "PO-X"}))
    sql(sb, "UPDATE users SET updated_at = ?", int(time.time()))
    busy = incremental.read(client, manifests, snapshot=quiet.snapshot)
    changes = incremental.Changes(companies=1, users=size + 2, core_orders=1, orders=1)
    cost = incremental.incremental_read_cost(needs, counts, changes, busy.refresh.from_snapshot)
    assert busy.refresh.from_snapshot == parts
    assert cost.total == busy.live.requests == 10 + (size + 2) // 250
    # every company and order modified: more than a first page holds, so listed by minModified
    sql(sb, "UPDATE companies SET updated_at = ?", now())
    sql(sb, "UPDATE orders SET updated_at = ?", now())
    many = incremental.read(client, manifests, snapshot=busy.snapshot)
    changes = modified_since(sb, busy.snapshot)
    assert changes.companies == size + 2
    assert changes.orders == changes.core_orders == size + 4
    cost = incremental.incremental_read_cost(needs, counts, changes, many.refresh.from_snapshot)
    assert many.refresh.from_snapshot == parts
    assert cost.total == many.live.requests
    assert many.live.requests >= 10 + pages_for(size + 2, 250) + pages_for(size + 4, 200)
    full = incremental.read(client, manifests)
    assert comparable(client, manifests, many) == comparable(client, manifests, full)


def modified_since(sb: Sandbox, snap: snapshot.Snapshot) -> incremental.Changes:
    """What the store reports modified since the point an incremental read from ``snap``
    lists from (the totals of its own listings)."""
    since, core_since = incremental.since_of(snap, "b2b"), incremental.since_of(snap, "core")
    with http(sb) as api:

        def total(path: str, **params: Any) -> int:
            meta = api.get(path, params={**params, "limit": 1}).json()["meta"]
            return int(meta.get("pagination", meta)["totalCount"])

        when = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(core_since))
        core = api.get(
            f"http://sandbox.local/stores/{sb.store_hash}/v2/orders/count",
            params={"min_date_modified": when},
        )
        return incremental.Changes(
            companies=total("/companies", minModified=since),
            users=total("/users", minModified=since),
            orders=total("/orders", minModified=since),
            core_orders=int(core.json()["count"]),
        )


@pytest.mark.parametrize("chunk", [1, 7, 1_000])
def test_the_snapshot_is_streamed_in_chunks_and_is_the_same_json(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
) -> None:
    sb = new_sandbox(seed=big(kit, 300))
    client = open_client(sb)
    got = incremental.read(client, the_manifests(kit))
    snap = got.snapshot
    assert snap.order_ids
    assert snap.user_rows
    assert snap.live.companies
    assert snap.live.orders
    monkeypatch.setattr(snapshot, "_CHUNK", chunk)
    whole = json.dumps(snapshot.to_json(snap), separators=(",", ":"), ensure_ascii=False)
    pieces: list[str] = []
    snapshot.write_json(snap, pieces.append)
    assert "".join(pieces) == whole
    if chunk < 10:
        assert max(map(len, pieces)) < len(whole) // 20  # never the whole text at once
    assert snapshot.save(str(tmp_path), snap) == ""
    assert snapshot.path_for(str(tmp_path), sb.store_hash).read_text() == whole + "\n"


@pytest.mark.parametrize("by_id", [False, True])
def test_either_default_order_of_companies_changes_nothing(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    by_id: bool,
) -> None:
    """company.yaml gives GET /companies two default orders (``sortBy``: updatedAt; the
    endpoint's description: companyId). The reader sends ``sortBy=updatedAt&orderBy=DESC``, so
    the first page is the newest companies either way and a change beyond it is still seen."""
    quirks = {"companiesSortedByIdByDefault": by_id}
    sb = new_sandbox(seed=kit.with_quirks(big(kit, 300), quirks))
    client = open_client(sb)
    manifests = the_manifests(kit)
    earlier = incremental.read(client, manifests)
    quiet = incremental.read(client, manifests, snapshot=earlier.snapshot)
    assert quiet.live.requests == 10
    with http(sb) as api:
        ok(api.put("/companies/1001", json={"companyName": "Acme Renamed"}))
    incr = incremental.read(client, manifests, snapshot=quiet.snapshot)
    full = incremental.read(client, manifests)
    assert comparable(client, manifests, incr) == comparable(client, manifests, full)
    assert incr.live.company_for_group(12).company_name == "Acme Renamed"  # type: ignore[union-attr]


def test_a_first_page_holds_every_change_only_when_sorted_and_older_at_its_end() -> None:
    """``newest_since``: the page's changes when its last object is older than ``since`` and
    it is newest first; None (list the changes) when it is not sorted so, or when its last
    object is as new as ``since`` (more may follow on the next page), or when it is empty."""

    def page(*stamps: int) -> list[SimpleNamespace]:
        return [SimpleNamespace(updated_at=t) for t in stamps]

    found = incremental.newest_since(page(30, 20, 20, 9), 20)
    assert found is not None
    assert [o.updated_at for o in found] == [30, 20, 20]
    assert incremental.newest_since(page(30, 20, 9), 31) == []
    assert incremental.newest_since(page(30, 20, 20), 20) is None
    assert incremental.newest_since(page(20, 30, 9), 20) is None
    assert incremental.newest_since([], 20) is None


ADMIN_CHANGES: dict[str, Change] = {
    "nothing": lambda sb, api: None,
    "a free e-mail taken": lambda sb, api: ok(
        api.post(
            "/users",
            json={
                "firstName": "B",
                "lastName": "C",
                "email": "boss3@new.example",
                "companyId": 1001,
                "role": 2,
                "channelIds": [1],
            },
        )
    ),
    "the holder moved": lambda sb, api: sql(
        sb, "UPDATE users SET company_id = 1002, updated_at = ? WHERE customer_id = 10005", now()
    ),
    "the holder deleted": lambda sb, api: sql(sb, "DELETE FROM users WHERE customer_id = 10005"),
}


@pytest.mark.parametrize("change", sorted(ADMIN_CHANGES))
def test_admin_e_mails_of_converts_are_answered_from_the_snapshot(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    change: str,
) -> None:
    """20 companies to convert, each with an admin e-mail (one held by a user already): the
    no-change read asks none of them again (the snapshot and the users modified since answer);
    after a change to who holds one, the answers are a full read's."""
    seed = big(kit, 600)
    seed["customerGroups"] += [{"id": 5000 + i, "name": f"New {i}"} for i in range(20)]
    sb = new_sandbox(seed=seed)
    client = open_client(sb)
    base = the_manifests(kit)
    emails = [f"boss{i}@new.example" for i in range(19)] + ["u5@example.com"]
    converts = tuple(
        kit.spec(f"new{i}", 5000 + i, admin=AdminSpec(email=email, first_name="B", last_name="C"))
        for i, email in enumerate(emails)
    )
    manifests = replace(base, specs=(*base.specs, *converts))
    earlier = incremental.read(client, manifests)
    assert earlier.live.admin_users == {"u5@example.com": 3005}
    assert earlier.snapshot.admin_emails["u5@example.com"] == (10005, 3005)
    assert earlier.snapshot.admin_emails["boss3@new.example"] is None
    with http(sb) as api:
        ADMIN_CHANGES[change](sb, api)
    sb.clear_log()
    incr = incremental.read(client, manifests, snapshot=earlier.snapshot)
    asked = [e for e in sb.request_log if e.path.endswith("/users") and "email=" in e.query]
    full = incremental.read(client, manifests)
    assert incr.live.admin_users == full.live.admin_users
    assert comparable(client, manifests, incr) == comparable(client, manifests, full)
    if change == "the holder deleted":  # users deleted: the users part is read in full
        assert len(asked) == 20
    else:
        assert asked == []
        assert "users" in incr.refresh.from_snapshot
    again = incremental.read(client, manifests, snapshot=incr.snapshot)
    assert again.live.admin_users == full.live.admin_users


GROUP_CHANGES: dict[str, Change] = {
    "nothing": lambda sb, api: None,
    "a free group deleted": lambda sb, api: sql(sb, "DELETE FROM customer_groups WHERE id = 5003"),
    "a group created": lambda sb, api: sb.load_seed(
        {"customerGroups": [{"id": 7000, "name": "Later"}]}
    ),
    "one created, one deleted": lambda sb, api: (
        sb.load_seed({"customerGroups": [{"id": 7000, "name": "Later"}]}),
        sql(sb, "DELETE FROM customer_groups WHERE id = 5004"),
    ),
    "an unrelated group deleted": lambda sb, api: sql(
        sb, "DELETE FROM customer_groups WHERE id = 1299"
    ),
}


def converts(kit: SimpleNamespace, size: int = 600) -> tuple[dict[str, Any], ManifestSet]:
    """A store of ``size`` companies (a full first page of groups) and 20 free groups, and
    manifests that convert them, each with an admin e-mail (one held by a user already)."""
    seed = big(kit, size)
    seed["customerGroups"] += [{"id": 5000 + i, "name": f"New {i}"} for i in range(20)]
    for group in seed["customerGroups"]:
        group.update(createdAt=1700000000, updatedAt=1700000000)  # made long ago
    base = the_manifests(kit)
    emails = [f"boss{i}@new.example" for i in range(19)] + ["u5@example.com"]
    specs = tuple(
        kit.spec(f"new{i}", 5000 + i, admin=AdminSpec(email=email, first_name="B", last_name="C"))
        for i, email in enumerate(emails)
    )
    return seed, replace(base, specs=(*base.specs, *specs))


@pytest.mark.parametrize("change", sorted(GROUP_CHANGES))
def test_pending_converts_cost_two_requests_for_their_groups(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    change: str,
) -> None:
    """With 20 converts pending, a no-change read costs 12: the ten of any no-change read, the
    company extra-field configs (a company is created) and the groups' count and creations
    since; no group and no admin e-mail is looked up again (the one e-mail a user holds costs
    the read of that user's company, as in a full read: 13 here). A group created or deleted since
    makes the groups' part a full one, and the plan is a full read's."""
    seed, manifests = converts(kit)
    sb = new_sandbox(seed=seed)
    client = open_client(sb)
    earlier = incremental.read(client, manifests)
    assert earlier.snapshot.groups is not None
    with http(sb) as api:
        GROUP_CHANGES[change](sb, api)
    sb.clear_log()
    incr = incremental.read(client, manifests, snapshot=earlier.snapshot)
    looked_up = [e for e in sb.request_log if "/v2/customer_groups/" in e.path]
    full = incremental.read(client, manifests)
    assert comparable(client, manifests, incr) == comparable(client, manifests, full)
    if change == "nothing":
        assert incr.live.requests == 13
        assert [e.path for e in looked_up] == [f"/stores/{sb.store_hash}/v2/customer_groups/count"]
        assert "customer groups" in incr.refresh.from_snapshot
    else:
        assert "customer groups" not in incr.refresh.from_snapshot
    again = incremental.read(client, manifests, snapshot=incr.snapshot)
    assert comparable(client, manifests, again) == comparable(client, manifests, full)


@pytest.mark.parametrize("store", sorted(STORES))
def test_a_deletion_b2b_edition_syncs_late(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    store: str,
) -> None:
    """Core deleted order 5001 (an Order document's) before the snapshot's read, B2B Edition
    drops its record only after it: the core count is the same at both reads, and no listing
    shows the B2B side going; only the B2B orders total does."""
    size, bump, behavior = STORES[store]
    sb = new_sandbox(seed=_seed(kit, size, bump, behavior))
    client = open_client(sb)
    manifests = the_manifests(kit, behavior)
    outside.delete_core_orders(sb, [5001])
    earlier = incremental.read(client, manifests)
    outside.delete_b2b_orders(sb, [5001])
    incr = incremental.read(client, manifests, snapshot=earlier.snapshot)
    full = incremental.read(client, manifests)
    assert incr.refresh.mode == "incremental"
    assert comparable(client, manifests, incr) == comparable(client, manifests, full)


class _Clock:
    """The real time plus an offset the test moves forward (the sandbox's clock)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.mark.parametrize("stamps", [False, True], ids=["own-updatedAt", "sync-time"])
def test_a_late_sync_and_a_b2b_loss_balance_the_total(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    stamps: bool,
) -> None:
    """B2B Edition learns of order 5010 a day late (``ordersSyncLag``) with the updatedAt it had
    in core, an hour before the snapshot's read, so no minModified listing shows it; meanwhile
    it loses its record of 5003 (a customer's order; core keeps it). The B2B total is what
    the snapshot had; the snapshot knows 5010 was in core only (``Snapshot.unsynced``), so the
    incremental read finds its record, counts it, sees the total one short and reads the B2B
    orders in full, as a full read finds them (5003 missing). The same when its record is
    stamped at the sync time (``lateSyncStampsSyncTime``: then the change listing shows it).
    Variants: test_late_sync.py."""
    clock = _Clock()
    quirks = {"ordersSyncLag": 86400, "lateSyncStampsSyncTime": stamps}
    seed = kit.with_quirks(kit.base_seed(), quirks)
    hour_ago = int(time.time()) - 3600
    seed["orders"].append(
        {"bcOrderId": 5010, "customerId": 0, "companyId": None, "createdAt": hour_ago,
         "updatedAt": hour_ago}
    )  # fmt: skip
    sb = new_sandbox(seed=seed, clock=clock)
    client = open_client(sb)
    manifests = the_manifests(kit)
    earlier = incremental.read(client, manifests)
    assert earlier.snapshot.unsynced == {5010}
    clock.offset += 86400  # 5010 reaches B2B Edition
    outside.delete_b2b_orders(sb, [5003])
    incr = incremental.read(client, manifests, snapshot=earlier.snapshot)
    full = incremental.read(client, manifests)
    assert "orders (orders were deleted)" in incr.refresh.read_in_full
    assert comparable(client, manifests, incr) == comparable(client, manifests, full)
    assert incr.snapshot.unsynced == {5003}  # core still has it: B2B may record it again


def test_companies_read_again_in_full_share_the_snapshot_s_unchanged_ones(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
) -> None:
    """A deletion makes the read list every company again: each company equal to the
    snapshot's is the snapshot's object (one copy held, not two); a changed one is the one
    read now; and the state is still the full read's."""
    sb = new_sandbox(seed=big(kit, 600))
    client = open_client(sb)
    manifests = the_manifests(kit)
    earlier = incremental.read(client, manifests)
    with http(sb) as api:
        ok(api.delete("/companies/1002"))
        ok(api.put("/companies/1001", json={"companyName": "Acme Renamed"}))
    incr = incremental.read(client, manifests, snapshot=earlier.snapshot)
    assert "companies (companies were deleted)" in incr.refresh.read_in_full
    then = {c.company_id: c for c in earlier.snapshot.live.companies}
    now = {c.company_id: c for c in incr.snapshot.live.companies}
    assert len(now) == len(then) - 1 > 500
    shared = [i for i, c in now.items() if c is then.get(i)]
    assert len(shared) == len(now) - 1
    assert now[1001] is not then[1001]
    assert now[1001].company_name == "Acme Renamed"
    full = incremental.read(client, manifests)
    assert comparable(client, manifests, incr) == comparable(client, manifests, full)
