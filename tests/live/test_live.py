"""The live reader against seeded sandboxes: what it reads, that every documented variant reads
the same, and that it makes exactly the computed fewest requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from reconciler.api import ApiClient
from reconciler.kinds.order import OrderSpec
from reconciler.kinds.order_assignment import OrderAssignmentSpec
from reconciler.live import (
    ReadCost,
    ReadCounts,
    ReadNeeds,
    lower_bound,
    plan_read_cost,
    read_live,
    read_needs,
)
from reconciler.model import LiveCustomer, LiveState, PriceListAssignment
from reconciler.sandbox import Sandbox

NewSandbox = Callable[..., Sandbox]  # the new_sandbox fixture (tests/conftest.py)

Kit = Any  # the ``kit`` fixture of conftest.py
OpenClient = Callable[[Sandbox], ApiClient]

QUIRKS: list[dict[str, Any]] = [
    {"companyIdsAsStrings": False},
    {"orderDetailAsArray": True},
    {"ordersMetaFlat": True},
    {"ordersTopLevelMessage": False},
    {"limitAboveMax": "clamp"},
    {"retryAfterHeader": True},
    {"ordersNoCompanyAsZero": True},
    {"companyAddressInResponses": True},
    {"zeroDateIsAbsent": True},  # the full order read sends minCreated=1, a real date
    {
        "zeroDateIsAbsent": True,
        "extraFieldsReplace": True,
        "companyPutRequiresExtraFields": True,
        "emptyExtraFieldRefused": True,
        "channelsErrorInMeta": True,
        "companyIdsAsStrings": False,
        "orderDetailAsArray": True,
        "ordersMetaFlat": True,
        "ordersTopLevelMessage": False,
        "limitAboveMax": "clamp",
        "ordersNoCompanyAsZero": True,
    },
]


def full_manifests(kit: Kit) -> Any:
    """Everything at once: extra fields, a price list, a company to create, two customers (one
    not a company user), an Order document."""
    return kit.manifests(
        companies=(
            kit.spec("acme", 12, catalog_id="7", extra_fields={"licenseNo": "42"}),
            kit.spec("initech", 14),
        ),
        assignments=(
            OrderAssignmentSpec(name="acme-buyers", company="acme", customer_ids=(321, 400)),
        ),
        orders=(OrderSpec(name="po-5003", bc_order_id=5003, extra_fields={"costCenter": "X"}),),
    )


def read(sb: Sandbox, open_client: OpenClient, manifests: Any) -> LiveState:
    return read_live(open_client(sb), manifests, wall_clock=lambda: 1_760_000_000.0)


def test_reads_what_the_manifests_need(
    kit: Kit, open_client: OpenClient, new_sandbox: NewSandbox
) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.base_seed())
    state = read(sb, open_client, full_manifests(kit))
    assert state.store_hash == "live01"
    assert state.read_at == 1_760_000_000
    assert {c.company_id for c in state.companies} == {1001, 1002}
    acme = state.company_for_group(12)
    assert acme is not None
    assert (acme.company_id, acme.catalog_id, acme.status) == (1001, "7", "approved")
    assert acme.extra_fields == {"licenseNo": "42"}
    assert state.company_for_group(14) is None
    assert state.customer_groups == frozenset({12, 13, 14})
    assert state.price_lists == frozenset({7})
    assert state.channels == frozenset()
    assert [c.name for c in state.company_field_configs] == ["licenseNo"]
    assert [c.name for c in state.order_field_configs] == ["costCenter"]
    assert state.customers[321] == LiveCustomer(
        customer_id=321,
        company_id=1001,
        user_updated_at=state.customers[321].user_updated_at,
        order_ids=(5001, 5002),
    )
    assert state.customers[321].user_updated_at is not None
    assert state.customers[400] == LiveCustomer(400, None, None, (5004,))
    assert set(state.orders) == {5001, 5002, 5003, 5004}
    assert state.orders[5001].company_id is None
    assert state.orders[5002].company_id == 1001
    assert state.orders[5002].po_number == "PO-1"
    assert state.orders[5003].company_id == 1002


@pytest.mark.parametrize("quirks", QUIRKS, ids=lambda q: ",".join(f"{k}={v}" for k, v in q.items()))
def test_every_quirk_reads_the_same_state(
    kit: Kit, open_client: OpenClient, quirks: dict[str, Any], new_sandbox: NewSandbox
) -> None:
    plain = read(new_sandbox(db=":memory:", seed=kit.base_seed()), open_client, full_manifests(kit))
    seed = kit.with_quirks(kit.base_seed(), quirks)
    quirky = read(new_sandbox(db=":memory:", seed=seed), open_client, full_manifests(kit))
    if quirks.get("companyAddressInResponses"):
        # The one documented difference: address fields appear when the API returns them.
        assert all(c.address for c in quirky.companies)
        quirky = replace(quirky, companies=tuple(replace(c, address={}) for c in quirky.companies))
    # read_at (and the store's time) are clocks at the start of each read: two reads may
    # straddle a second.
    assert replace(quirky, read_at=0, store_read_at=None) == replace(
        plain, read_at=0, store_read_at=None
    )


def test_nothing_to_read_costs_nothing(
    kit: Kit, open_client: OpenClient, new_sandbox: NewSandbox
) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.base_seed())
    state = read(sb, open_client, kit.manifests())
    assert state.requests == 0
    assert sb.request_log == []
    assert lower_bound(read_needs(kit.manifests()), ReadCounts()) == 0


def test_small_store_makes_exactly_the_lower_bound(
    kit: Kit, open_client: OpenClient, new_sandbox: NewSandbox
) -> None:
    seed = kit.base_seed()
    sb = new_sandbox(db=":memory:", seed=seed)
    found = full_manifests(kit)
    state = read(sb, open_client, found)
    counts = ReadCounts(
        companies=len(seed["companies"]),
        missing_groups=1,  # group 14 has no company yet
        customer_groups=len(seed["customerGroups"]),
        company_extra_fields=1,
        order_extra_fields=1,
        price_lists=1,
        users=len(seed["users"]),
        orders_per_customer={321: 2, 400: 1},
        orders_to_read=4,  # 5001, 5002, 5004 (customers) and 5003 (Order document)
        orders=len(seed["orders"]),
    )
    cost = plan_read_cost(read_needs(found), counts)
    assert cost == ReadCost(
        companies=1,  # one page holds every company
        company_extra_fields=1,
        order_extra_fields=1,
        customer_groups=1,  # one group to check: GET /v2/customer_groups/14
        price_lists=1,
        users=1,  # one page of users answers both customers
        customer_orders=2,
        orders=1,  # one page of orders holds all four
    )
    assert (
        state.requests
        == len(sb.request_log)
        == cost.total
        == lower_bound(read_needs(found), counts)
    )


def test_large_store_per_object_lookups(
    kit: Kit, open_client: OpenClient, new_sandbox: NewSandbox
) -> None:
    """900 companies, 800 users, 700 orders, few managed objects: the first pages tell the
    totals, and look-ups of the few managed objects beat paging through the rest."""
    seed = kit.big_seed(companies=900, users=800, orders=700)
    sb = new_sandbox(db=":memory:", seed=seed)
    found = kit.manifests(
        companies=(kit.spec("acme", 12), kit.spec("globex", 13)),
        assignments=(OrderAssignmentSpec(name="buyers", company="acme", customer_ids=(321, 322)),),
    )
    state = read(sb, open_client, found)
    counts = ReadCounts(
        companies=902,
        customer_groups=902,
        users=802,
        orders_per_customer={321: 2, 322: 1},
        orders_to_read=3,
        orders=703,
    )
    cost = plan_read_cost(read_needs(found), counts)
    assert cost == ReadCost(
        companies=1 + 2, company_extra_fields=1, users=1 + 2, customer_orders=2, orders=1 + 3
    )
    assert state.requests == len(sb.request_log) == lower_bound(read_needs(found), counts)
    groups = [e.query for e in sb.request_log if "bcGroupId=" in e.query]
    assert len(groups) == 2
    assert sum("/users/customer/" in e.path for e in sb.request_log) == 2
    assert sum(e.path.endswith("/orders/5001") for e in sb.request_log) == 1
    assert {c.company_id for c in state.companies} >= {1001, 1002}
    assert state.customers[321].company_id == 1001
    assert state.customers[322].company_id == 1002
    assert {o: state.orders[o].company_id for o in state.orders} == {
        5001: None,
        5002: 1001,
        5003: 1002,
    }


def test_large_store_paging_beats_lookups(
    kit: Kit, open_client: OpenClient, new_sandbox: NewSandbox
) -> None:
    """Many managed objects on a mid-sized store: the remaining pages are cheaper."""
    seed = kit.big_seed(companies=300, users=300, orders=250)
    sb = new_sandbox(db=":memory:", seed=seed)
    specs = tuple(kit.spec(f"filler-{i}", 1000 + i) for i in range(5))
    customers = (321, 322, 10000, 10001, 10002)
    found = kit.manifests(
        companies=(kit.spec("acme", 12), *specs),
        assignments=(OrderAssignmentSpec(name="buyers", company="acme", customer_ids=customers),),
    )
    state = read(sb, open_client, found)
    per_customer = {321: 2, 322: 1, 10000: 1, 10001: 1, 10002: 1}
    counts = ReadCounts(
        companies=302,
        groups_on_first_page=0,
        customer_groups=302,
        users=302,
        # users are listed by id: the three fillers are on the first page
        customers_on_first_page=3,
        orders_per_customer=per_customer,
        core_orders=253,
        orders_to_read=6,
        orders=253,
    )
    cost = plan_read_cost(read_needs(found), counts)
    # companies: 2 pages < 1 + 6 look-ups; users: 2 pages = 1 + min(1, 2); orders: 2 pages;
    # customers' orders: count + 2 pages of every core order < 5 per-customer lists
    assert cost == ReadCost(
        companies=2, company_extra_fields=1, users=2, customer_orders=1 + 2, orders=2
    )
    assert state.requests == len(sb.request_log) == lower_bound(read_needs(found), counts)
    assert len(state.companies) == 302
    assert state.customers[10000].company_id == 3000
    assert set(state.orders) == {5001, 5002, 5003, 90000, 90001, 90002}


def _orders_of(seed: dict[str, Any], customer: int) -> tuple[int, ...]:
    return tuple(sorted(o["bcOrderId"] for o in seed["orders"] if o["customerId"] == customer))


def _core_order_requests(sb: Sandbox) -> list[str]:
    return [
        f"{e.path}?{e.query}" for e in sb.request_log if e.path.endswith(("/v2/orders", "/count"))
    ]


def test_customer_orders_paging_every_order_wins(
    kit: Kit, open_client: OpenClient, new_sandbox: NewSandbox
) -> None:
    """40 customers, 500 core orders: one count and 2 pages of every order (the count ends the
    pass, so no empty third page) beat 40 per-customer lists."""
    seed = kit.big_seed(companies=3, users=60, orders=497)
    seed["orders"].append(  # a guest order is listed too, and maps to no one
        {"bcOrderId": 99999, "customerId": 0, "companyId": None, "createdAt": 1700000000,
         "updatedAt": 1700000000}
    )  # fmt: skip
    seed["orders"] = [o for o in seed["orders"] if o["bcOrderId"] != 90496]  # 500 in all
    sb = new_sandbox(db=":memory:", seed=seed)
    customers = (321, 322, *range(10000, 10038))
    found = kit.manifests(
        companies=(kit.spec("acme", 12),),
        assignments=(OrderAssignmentSpec(name="buyers", company="acme", customer_ids=customers),),
    )
    state = read(sb, open_client, found)
    assert len(seed["orders"]) == 500
    per_customer = {c: len(_orders_of(seed, c)) for c in customers}
    wanted = sum(per_customer.values())
    counts = ReadCounts(
        companies=5,
        users=62,
        orders_per_customer=per_customer,
        core_orders=500,
        orders_to_read=wanted,
        orders=500,
    )
    cost = plan_read_cost(read_needs(found), counts)
    assert cost == ReadCost(
        companies=1, company_extra_fields=1, users=1, customer_orders=1 + 2, orders=1 + 2
    )
    assert state.requests == len(sb.request_log) == lower_bound(read_needs(found), counts)
    assert len(_core_order_requests(sb)) == 3
    for c in customers:
        assert state.customers[c].order_ids == _orders_of(seed, c), c
    assert state.customers[321].order_ids == (5001, 5002)


def test_customer_orders_count_then_per_customer(
    kit: Kit, open_client: OpenClient, new_sandbox: NewSandbox
) -> None:
    """3 customers on a store of 1,003 orders: after the count, 5 pages would be dearer than 3
    per-customer lists, so the count is the one request spent on the choice."""
    seed = kit.big_seed(companies=3, users=10, orders=1000)
    sb = new_sandbox(db=":memory:", seed=seed)
    customers = (321, 322, 10001)
    found = kit.manifests(
        companies=(kit.spec("acme", 12),),
        assignments=(OrderAssignmentSpec(name="buyers", company="acme", customer_ids=customers),),
    )
    state = read(sb, open_client, found)
    per_customer = {c: len(_orders_of(seed, c)) for c in customers}
    counts = ReadCounts(
        companies=5,
        users=12,
        orders_per_customer=per_customer,
        core_orders=1003,
        orders_to_read=sum(per_customer.values()),
        orders=1003,
    )
    cost = plan_read_cost(read_needs(found), counts)
    assert cost.customer_orders == 1 + 3
    assert state.requests == len(sb.request_log) == lower_bound(read_needs(found), counts)
    assert sum("customer_id=" in q for q in _core_order_requests(sb)) == 3
    for c in customers:
        assert state.customers[c].order_ids == _orders_of(seed, c)


@pytest.mark.parametrize(("customers", "orders", "expected"), [
    (0, 10_000, 0),
    (1, 10_000, 1),
    (2, 0, 2),  # no count asked below 3 customers
    (3, 0, 1),  # the count says there is nothing to list
    (3, 750, 1 + 3),  # 3 pages = 3 customers: paging (never dearer)
    (3, 751, 1 + 3),  # 4 pages > 3: per-customer after the count
    (2_000, 100_000, 1 + 400),
])  # fmt: skip
def test_customer_orders_cost_model(customers: int, orders: int, expected: int) -> None:
    needs = ReadNeeds(customers=tuple(range(1, customers + 1)))
    counts = ReadCounts(core_orders=orders)
    assert plan_read_cost(needs, counts).customer_orders == expected


def test_heavy_customers_make_paging_cheaper() -> None:
    """A customer with 600 orders costs 3 per-customer requests; pages are chosen regardless of
    the split, since they can only be cheaper once ``ceil(O / 250) <= N``."""
    needs = ReadNeeds(customers=(1, 2, 3))
    counts = ReadCounts(orders_per_customer={1: 600}, core_orders=700)
    assert plan_read_cost(needs, counts).customer_orders == 1 + 3
    two = ReadNeeds(customers=(1, 2))
    assert plan_read_cost(two, counts).customer_orders == 3 + 1


def test_independent_store_pages_every_company(
    kit: Kit, open_client: OpenClient, new_sandbox: NewSandbox
) -> None:
    """On Independent stores a document finds its company by id, uuid or name, anywhere in the
    store, and shared groups hold companies no document names: every company is read
    (issue 16; before it, each managed group was queried)."""
    seed = kit.big_seed(companies=600, users=0, orders=0)
    seed["store"]["companiesBehavior"] = "independent"
    with new_sandbox(db=":memory:", seed=seed) as sb:
        found = kit.manifests(companies=(kit.spec("acme", 12),), behavior="independent")
        state = read(sb, open_client, found)
        cost = plan_read_cost(read_needs(found), ReadCounts(companies=602))
        assert cost.companies == 3
        # companies, then the company extra-field configs (every company PUT carries the
        # required fields, so they are read whenever a Company document exists)
        assert state.requests == len(sb.request_log) == 3 + 1
        assert len(state.companies) == 602
        assert state.company_for_group(12) is not None


def test_several_free_groups_are_checked_with_one_page(
    kit: Kit, open_client: OpenClient, new_sandbox: NewSandbox
) -> None:
    seed = kit.base_seed()
    seed["customerGroups"].append({"id": 15, "name": "Hooli"})
    sb = new_sandbox(db=":memory:", seed=seed)
    found = kit.manifests(
        companies=(kit.spec("initech", 14), kit.spec("hooli", 15), kit.spec("ghost", 99))
    )
    state = read(sb, open_client, found)
    assert state.customer_groups == frozenset({12, 13, 14, 15})
    counts = ReadCounts(companies=2, missing_groups=3, customer_groups=4, company_extra_fields=1)
    cost = plan_read_cost(read_needs(found), counts)
    assert cost == ReadCost(companies=1, company_extra_fields=1, customer_groups=1)
    assert state.requests == len(sb.request_log) == cost.total


def test_channels_only_for_multi_storefront_price_lists(
    kit: Kit, open_client: OpenClient, new_sandbox: NewSandbox
) -> None:
    seed = kit.base_seed()
    seed["store"]["multiStorefront"] = True
    sb = new_sandbox(db=":memory:", seed=seed)
    pair = (PriceListAssignment(channel_id=1, price_list_id=7),)
    found = kit.manifests(companies=(kit.spec("acme", 12, price_list_assign=pair),), msf=True)
    state = read(sb, open_client, found)
    assert 1 in state.channels
    assert state.price_lists == frozenset({7})
    assert state.requests == 4  # companies, company field configs, price lists, channels
    assert [c.name for c in state.company_field_configs] == ["licenseNo"]


def test_read_survives_faults(kit: Kit, open_client: OpenClient, new_sandbox: NewSandbox) -> None:
    faults = [
        {"method": "GET", "path": "^/api/v3/io/", "status": 429, "every": 3},
        {"method": "GET", "path": "/v2/orders", "action": "drop", "times": 1},
        {"method": "GET", "path": "/users", "status": 503, "times": 1},
    ]
    plain = read(new_sandbox(db=":memory:", seed=kit.base_seed()), open_client, full_manifests(kit))
    sb = new_sandbox(db=":memory:", seed=kit.base_seed(), faults=faults)
    faulty = read(sb, open_client, full_manifests(kit))
    assert faulty.requests > plain.requests
    assert replace(faulty, requests=plain.requests) == plain
