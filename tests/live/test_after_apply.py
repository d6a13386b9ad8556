"""No-change plans after an apply (issue 17): what the ``Date`` margin costs, and why.

A change listing starts ``incremental.DATE_MARGIN`` (5) seconds before the earlier read first
reached the store (``incremental.since_of``): a change made just after that read saw an object
may be stamped that much earlier (the ``Date`` and ``updatedAt`` clocks up to 3 s apart, both to
the second, ``minModified`` maybe exclusive). So when a plan starts within the margin after an
apply's last writes, the plan after it lists those writes again, however late it runs: no stamp
tells them apart from a change made right after the earlier plan saw them (the second test makes
one). That listing is the sound minimum; it is free while it fits the first pages every
incremental read asks for anyway. A plan whose earlier read started past the margin lists
nothing again.

Through the real client over the sandbox's in-process transport, on a store clock the test
moves: frozen (every write of the apply in one second), or paced as the store's own budgets
allow (each B2B request 60/150 s, each core request 30/450 s: what a real apply leaves).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from reconciler import incremental
from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.executor import apply_plan
from reconciler.kinds.company_users import CompanyUsersSpec, UserSpec
from reconciler.kinds.order import OrderSpec
from reconciler.kinds.order_assignment import OrderAssignmentSpec
from reconciler.model import JSON, ManifestSet
from reconciler.planfile import live_to_json, plan_to_json
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox, outside

ASSIGNED = tuple(range(10000, 10100))
"""Customers an OrderAssignment gives to Acme: 300 company-less orders, more than a page."""
PARTS = ("companies", "users", "orders", "core orders")


class Clock:
    """The store's clock: a whole second of now, moved only by the test (and ``Paced``)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Paced(httpx.BaseTransport):
    """The sandbox's transport, the store's clock moving as its budgets allow per request."""

    def __init__(self, inner: httpx.BaseTransport, clock: Clock) -> None:
        self.inner, self.clock = inner, clock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        b2b = request.url.path.startswith("/api/v3/io")
        self.clock.advance(60 / 150 if b2b else 30 / 450)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def the_manifests(kit: SimpleNamespace) -> ManifestSet:
    """Acme renamed, 100 customers' orders given to it, a user to create, PO numbers to set."""
    found: ManifestSet = kit.manifests(
        (
            kit.spec("acme", 12, company_name="Acme Renamed"),
            kit.spec("globex", 13, company_name="Globex"),
        ),
        (OrderAssignmentSpec(name="acme-buyers", company="acme", customer_ids=ASSIGNED),),
        (
            OrderSpec(name="po-5001", bc_order_id=5001, po_number="PO-1"),
            OrderSpec(name="po-5004", bc_order_id=5004, po_number="PO-4"),
        ),
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


def the_seed(kit: SimpleNamespace, quirks: dict[str, Any]) -> dict[str, Any]:
    """300 companies, users and customers, 900 orders (three per customer, none in a company)
    and order 5004 of customer 400, who is no company user yet."""
    seed: dict[str, Any] = kit.big_seed(companies=300, users=300, orders=900)
    seed["orders"].append(
        {"bcOrderId": 5004, "customerId": 400, "companyId": None, "createdAt": 1700000000,
         "updatedAt": 1700000000}
    )  # fmt: skip
    return kit.with_quirks(seed, quirks)


@pytest.fixture
def store(
    kit: SimpleNamespace, request: pytest.FixtureRequest
) -> Iterator[Callable[..., tuple[Sandbox, ApiClient, Clock]]]:
    """``store(quirks, paced=False)``: a sandbox on a test clock and a client (closed after)."""
    opened: list[tuple[Sandbox, ApiClient]] = []

    def make(quirks: dict[str, Any], paced: bool = False) -> tuple[Sandbox, ApiClient, Clock]:
        clock = Clock()
        sb = Sandbox(
            seed=the_seed(kit, quirks),
            clock=clock,
            rate_limit=(1_000_000, 60.0),
            core_rate_limit=(1_000_000, 30.0),
        )
        settings = ApiSettings(
            store_hash=sb.store_hash,
            token=Secret(kit.TOKEN),
            b2b_url="http://localhost/api/v3/io",
            core_url="http://localhost",
        )
        transport = Paced(sb.transport(), clock) if paced else sb.transport()
        client = ApiClient.open(settings, transport, sleep=lambda _s: None)
        opened.append((sb, client))
        return sb, client, clock

    yield make
    for sb, client in opened:
        client.close()
        sb.close()


def comparable(found: ManifestSet, got: incremental.Refreshed) -> JSON:
    """The live state read and its plan, without what only the time of reading changes."""
    state = live_to_json(got.live)
    for key in ("readAt", "storeReadAt"):
        state.pop(key, None)
    body = plan_to_json(build_plan(found, got.live, created_at="t"))
    body.pop("live")
    body["preconditions"].pop("watermark")
    return {"live": state, "plan": body}


def read(
    sb: Sandbox, client: ApiClient, found: ManifestSet, earlier: incremental.Refreshed | None
) -> tuple[incremental.Refreshed, int]:
    """A read (from ``earlier``'s snapshot when given) and the requests the store saw."""
    sb.clear_log()
    got = incremental.read(client, found, snapshot=None if earlier is None else earlier.snapshot)
    return got, len(sb.request_log)


def apply(
    sb: Sandbox, client: ApiClient, found: ManifestSet
) -> tuple[incremental.Refreshed, incremental.Refreshed]:
    """A full plan, then ``apply`` as the CLI runs it: its own read from that plan's snapshot
    (the snapshot apply leaves), the plan, the writes and their verification. Returns the
    full read and apply's read."""
    first, _ = read(sb, client, found, None)
    own, _ = read(sb, client, found, first)
    plan = replace(build_plan(found, own.live, created_at="t"), own_read=True)
    assert len(plan.actions) > 100
    report = apply_plan(client, plan)
    assert report.ok
    return first, own


def no_change_cost(sb: Sandbox, client: ApiClient, clock: Clock, found: ManifestSet) -> int:
    """What an incremental read costs when nothing changed since its snapshot's read began
    more than the margin after the last write: two reads, the clock moved past the margin."""
    clock.advance(incremental.DATE_MARGIN + 1)
    settled, _ = read(sb, client, found, None)
    clock.advance(incremental.DATE_MARGIN + 1)
    _, cost = read(sb, client, found, settled)
    return cost


def test_a_plan_within_the_margin_of_the_writes_leaves_them_to_the_next_plan(
    kit: SimpleNamespace, store: Callable[..., tuple[Sandbox, ApiClient, Clock]]
) -> None:
    """Every write of the apply in one second: the plan right after lists them (from apply's
    snapshot), and so does every plan whose snapshot was taken within the margin, however
    late it runs; the first whose snapshot was taken past the margin lists nothing again."""
    sb, client, clock = store({})
    found = the_manifests(kit)
    _, own = apply(sb, client, found)
    after, listed = read(sb, client, found, own)  # the same second as the writes
    again, relisted = read(sb, client, found, after)
    clock.advance(incremental.DATE_MARGIN + 10)
    late, late_cost = read(sb, client, found, again)  # its snapshot: taken within the margin
    settled, settled_cost = read(sb, client, found, late)  # its snapshot: past the margin
    full, _ = read(sb, client, found, None)
    assert build_plan(found, full.live, created_at="t").actions == ()
    for got in (after, again, late, settled):
        assert got.refresh.from_snapshot == PARTS
        assert comparable(found, got) == comparable(found, full)
    floor = no_change_cost(sb, client, clock, found)
    # 300 orders, 300 core orders and a company changed: beyond the first pages
    assert listed == relisted == late_cost > floor + 2
    assert settled_cost == floor <= 12


SKEWS = [(0, 0, True), (0, 0, False), (600, 3, False), (-600, -3, True), (3600, 3, True)]
"""(clockSkew, dateHeaderSkew, sideEffectsBumpUpdatedAt)."""


@pytest.mark.parametrize(("skew", "date_skew", "bump"), SKEWS)
def test_a_change_right_after_a_plan_within_the_margin_is_seen_by_the_next(
    kit: SimpleNamespace,
    store: Callable[..., tuple[Sandbox, ApiClient, Clock]],
    skew: int,
    date_skew: int,
    bump: bool,
) -> None:
    """Why the listing within the margin is the minimum: in the second of the apply's writes,
    just after the plan that saw them, Acme is renamed again (the same ``updatedAt`` as the
    apply's rename) and customer 400 becomes its user, bringing order 5004 along (with
    ``sideEffectsBumpUpdatedAt`` off, unstamped). The next plan, made once the clock has
    moved past the margin, sees both, as a full read does."""
    quirks = {"clockSkew": skew, "dateHeaderSkew": date_skew, "sideEffectsBumpUpdatedAt": bump}
    sb, client, clock = store(quirks)
    found = the_manifests(kit)
    _, own = apply(sb, client, found)
    after, _ = read(sb, client, found, own)
    outside.rename_company(sb, 1001, "Acme Again")
    outside.create_user(sb, 1001, "loner@example.com")
    clock.advance(incremental.DATE_MARGIN + 10)
    late, _ = read(sb, client, found, after)
    full, _ = read(sb, client, found, None)
    assert late.refresh.from_snapshot == PARTS
    assert comparable(found, late) == comparable(found, full)
    assert late.live.company_for_group(12).company_name == "Acme Again"  # type: ignore[union-attr]
    assert late.live.orders[5004].company_id == 1001


@pytest.mark.parametrize(("skew", "date_skew"), [(0, 0), (600, 3), (-600, -3)])
def test_at_the_stores_pace_the_plan_after_the_next_lists_nothing_again(
    kit: SimpleNamespace,
    store: Callable[..., tuple[Sandbox, ApiClient, Clock]],
    skew: int,
    date_skew: int,
) -> None:
    """What a user sees: paced as the store's budgets allow, the apply's writes take minutes
    and its verification reads seconds; the plan right after it lists its changes, and the
    no-change plan right after that costs the no-change minimum (the few writes within the
    margin fit the first pages read anyway)."""
    quirks = {"clockSkew": skew, "dateHeaderSkew": date_skew}
    sb, client, clock = store(quirks, paced=True)
    found = the_manifests(kit)
    _, own = apply(sb, client, found)
    after, listed = read(sb, client, found, own)
    again, cost = read(sb, client, found, after)
    full, _ = read(sb, client, found, None)
    for got in (after, again):
        assert got.refresh.from_snapshot == PARTS
        assert comparable(found, got) == comparable(found, full)
    floor = no_change_cost(sb, client, clock, found)
    assert listed > floor
    assert cost == floor <= 12
