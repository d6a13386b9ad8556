"""Late syncs (b2b-api.md §9.13): B2B Edition learns of a core order after a read, and its record
carries the order's old ``updatedAt``, so no ``minModified`` listing shows it. The snapshot keeps
the core orders B2B Edition lacked (``Snapshot.unsynced``); the next read looks their records
up (or finds them on the first page of orders), counts them in the B2B orders total, and serves
them when wanted. The docs do not say which ``updatedAt`` the late record carries: every test
runs under the other reading too (``lateSyncStampsSyncTime``: the sync time, so the change
listing shows the record and nothing is looked up). Whatever happens beside the late sync (a
B2B record lost, an order deleted on either side or both, a record made again through B2B), the
incremental plan is the full plan.

Through the real client over the sandbox's HTTP (``ordersSyncLag``), on the store shapes of
``test_incremental`` (one page or many, ``sideEffectsBumpUpdatedAt`` on or off, Independent,
per-group reads)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from reconciler import incremental, snapshot
from reconciler.api import ApiClient
from reconciler.sandbox import Sandbox, outside
from tests.live.test_incremental import STORES, _seed, comparable, the_manifests

LAG = 86400
"""``ordersSyncLag``: B2B Edition learns of an order a day after it was placed."""


class Clock:
    """The real time plus an offset the test moves forward (the sandbox's clock)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def recorded_again(sb: Sandbox, order: int, customer: int) -> None:
    """Another integration records a B2B order whose record was lost (``POST /orders``: a new
    record, stamped now)."""
    outside.request(sb, "POST", "/orders", {"bcOrderId": order, "customerId": customer})


def recorded_again_and_another_lost(sb: Sandbox) -> None:
    recorded_again(sb, 5004, 400)
    outside.delete_b2b_orders(sb, [5003])


def made_through_b2b(sb: Sandbox) -> None:
    """Another integration records order 5020 of customer 322 through ``POST /orders``: B2B
    Edition knows it at once (and so does core, in the sandbox), stamped now."""
    outside.request(sb, "POST", "/orders", {"bcOrderId": 5020, "customerId": 322})


def made_through_b2b_and_lost(sb: Sandbox) -> None:
    made_through_b2b(sb)
    outside.delete_b2b_orders(sb, [5003])


def backdated(sb: Sandbox) -> None:
    """An order of customer 322 that core gets after the snapshot's read with times two hours
    before it (as an import of old orders might), B2B Edition at once with them: no change
    listing shows it on either side; only the core count (then every core order is paged)."""
    two_hours_ago = int(time.time()) - 7200  # (our clock: the sandbox's is a day ahead now)
    outside.add_orders(
        sb,
        [{"bcOrderId": 5011, "customerId": 322, "companyId": None,
          "createdAt": two_hours_ago, "updatedAt": two_hours_ago}],
    )  # fmt: skip


def backdated_and_lost(sb: Sandbox) -> None:
    backdated(sb)
    outside.delete_b2b_orders(sb, [5003])


BESIDE: dict[str, Callable[[Sandbox], None]] = {
    # what else happens while order 5010 reaches B2B Edition
    "nothing": lambda sb: None,
    "a B2B record lost": lambda sb: outside.delete_b2b_orders(sb, [5003]),
    "an order deleted on both sides": lambda sb: outside.delete_orders(sb, [5003]),
    "an order deleted in core only": lambda sb: outside.delete_core_orders(sb, [5003]),
    "a lost record made again": lambda sb: recorded_again(sb, 5004, 400),
    "a lost record made again and another lost": recorded_again_and_another_lost,
    "an order backdated in core": backdated,
    "a new record made through B2B": made_through_b2b,
    "a new record made through B2B and another lost": made_through_b2b_and_lost,
    "an order backdated in core and a record lost": backdated_and_lost,
}
"""The B2B orders total against the snapshot's: one more (5010) with nothing beside or core
alone deleting 5003; the same with a record lost or an order deleted on both sides; two more
with 5004's record made again (listed: modified since), one more when 5003's is lost as well;
two more with a backdated order (found by paging the core orders) or a new record made
through B2B (listed), one more with a loss.
Before ``Snapshot.unsynced`` the reader kept 5003 where the total balanced."""

SERVED = {
    "nothing",
    "an order deleted in core only",
    "a lost record made again",
    "an order backdated in core",
    "a new record made through B2B",
}
"""Where nothing B2B had at the snapshot's read is gone: the B2B orders part is served."""


@pytest.fixture(params=[False, True], ids=["own-updatedAt", "sync-time"])
def stamps(request: pytest.FixtureRequest) -> bool:
    """``lateSyncStampsSyncTime``: the record of a late sync carries the order's own (old)
    ``updatedAt``, or the sync time (then a change listing shows it). Every test runs under
    both readings (b2b-api.md §9.13, §10)."""
    return bool(request.param)


def late_seed(kit: SimpleNamespace, store: str, owner: int, stamps: bool) -> dict[str, Any]:
    """The store shape with ``ordersSyncLag`` (and ``lateSyncStampsSyncTime`` as
    ``stamps``) and order 5010 of customer ``owner`` (a customer
    of the OrderAssignment, or 0: a guest order no manifest names) placed an hour ago, so B2B
    Edition lacks it at the first read and has it a day later. On stores of many pages, every
    filler order was modified after 5010, so the first page of orders (newest first) does not
    show it."""
    size, bump, behavior = STORES[store]
    seed = _seed(kit, size, bump, behavior)
    seed["quirks"] = {
        **seed.get("quirks", {}),
        "ordersSyncLag": LAG,
        "lateSyncStampsSyncTime": stamps,
    }
    hour_ago = int(time.time()) - 3600
    for i, order in enumerate(seed["orders"]):
        if order["bcOrderId"] >= 90000:
            order["updatedAt"] = hour_ago + 60 + i
    seed["orders"].append(
        {"bcOrderId": 5010, "customerId": owner, "companyId": None, "createdAt": hour_ago,
         "updatedAt": hour_ago}
    )  # fmt: skip
    return seed


@pytest.mark.parametrize("owner", [322, 0], ids=["a-customers-order", "a-guest-order"])
@pytest.mark.parametrize("beside", sorted(BESIDE))
@pytest.mark.parametrize("store", sorted(STORES))
def test_a_late_sync_is_counted_whatever_happens_beside_it(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    stamps: bool,
    store: str,
    beside: str,
    owner: int,
) -> None:
    clock = Clock()
    seed = late_seed(kit, store, owner, stamps)
    sb = new_sandbox(seed=seed, clock=clock)
    lacked = {5010}
    if "made again" in beside:
        outside.delete_b2b_orders(sb, [5004])  # (before the snapshot's read: core keeps it)
        lacked.add(5004)
    client = open_client(sb)
    manifests = the_manifests(kit, STORES[store][2])
    earlier = incremental.read(client, manifests)
    assert earlier.snapshot.unsynced == lacked
    clock.offset += LAG  # 5010 reaches B2B Edition, with its old updatedAt
    BESIDE[beside](sb)
    incr = incremental.read(client, manifests, snapshot=earlier.snapshot)
    full = incremental.read(client, manifests)
    assert comparable(client, manifests, incr) == comparable(client, manifests, full)
    assert 5010 in full.live.orders or owner == 0
    if "made through B2B" in beside:
        assert 5020 in full.live.orders
    if beside in SERVED:
        assert "orders" in incr.refresh.from_snapshot
    else:
        assert "orders (orders were deleted)" in incr.refresh.read_in_full
    # the snapshot written by the incremental read serves the next one as well
    again = incremental.read(client, manifests, snapshot=incr.snapshot)
    assert comparable(client, manifests, again) == comparable(client, manifests, full)
    assert again.snapshot.unsynced == full.snapshot.unsynced


@pytest.mark.parametrize("bump", [True, False])
def test_a_late_sync_costs_one_look_up_and_then_nothing(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    stamps: bool,
    bump: bool,
) -> None:
    """On a store of many pages where the first page of orders does not show 5010 before its
    sync: the read after its late sync costs the no-change read's 10 requests and one ``GET
    /orders/5010`` when its record carries the order's old ``updatedAt``; stamped at the sync
    time, it is the newest order, on the first page with the changes: 10, no look-up. The
    next read, 10 (nothing left that B2B lacks)."""
    clock = Clock()
    seed = late_seed(kit, "many-pages" if bump else "many-pages-no-bump", 322, stamps)
    sb = new_sandbox(seed=seed, clock=clock)
    client = open_client(sb)
    manifests = the_manifests(kit)
    earlier = incremental.read(client, manifests)
    assert earlier.snapshot.unsynced == {5010}
    still = incremental.read(client, manifests, snapshot=earlier.snapshot)
    assert still.live.requests == 11  # 5010 looked up: 404, B2B still lacks it
    assert still.snapshot.unsynced == {5010}
    clock.offset += LAG
    sb.clear_log()
    incr = incremental.read(client, manifests, snapshot=still.snapshot)
    looked_up = [e.path for e in sb.request_log if e.path.endswith("/orders/5010")]
    assert looked_up == ([] if stamps else ["/api/v3/io/orders/5010"])
    assert incr.live.requests == (10 if stamps else 11)
    assert 5010 in incr.live.orders
    assert 5010 in incr.live.customers[322].order_ids
    assert incr.snapshot.unsynced == frozenset()
    full = incremental.read(client, manifests)
    assert comparable(client, manifests, incr) == comparable(client, manifests, full)
    quiet = incremental.read(client, manifests, snapshot=incr.snapshot)
    assert quiet.live.requests == 10


def test_a_record_lost_of_an_order_core_still_has_is_looked_up_until_it_comes_back(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    stamps: bool,
) -> None:
    """B2B loses 5003's record, core keeps the order: the read that sees the total one short
    asks core whether it still has 5003 (yes: a sync may bring the record back with its old
    ``updatedAt``), so later reads look it up; a record lost of an order core deleted first
    (the deletion synced late) is not looked up again."""
    seed = late_seed(kit, "many-pages-no-bump", 322, stamps)
    sb = new_sandbox(seed=seed)
    client = open_client(sb)
    manifests = the_manifests(kit)
    outside.delete_core_orders(sb, [5002])
    earlier = incremental.read(client, manifests)
    outside.delete_b2b_orders(sb, [5003, 5002])
    sb.clear_log()
    lost = incremental.read(client, manifests, snapshot=earlier.snapshot)
    asked = sorted(e.path for e in sb.request_log if "/v2/orders/50" in e.path)
    assert asked == [f"/stores/{sb.store_hash}/v2/orders/{o}" for o in (5002, 5003)]
    assert lost.snapshot.unsynced == {5003, 5010}
    full = incremental.read(client, manifests)
    assert comparable(client, manifests, lost) == comparable(client, manifests, full)
    next_read = incremental.read(client, manifests, snapshot=lost.snapshot)
    assert next_read.live.requests == 12  # 10, and 5003 and 5010 looked up (both 404)
    assert "orders" in next_read.refresh.from_snapshot


def test_more_lost_records_than_core_pages_make_the_next_read_page_every_core_order(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    stamps: bool,
) -> None:
    """Checking each lost record in core costs more than a pass over every core order (two
    pages here): the snapshot does not know what B2B lacks, so the next read pages every core
    order and reads the B2B orders in full. Then four orders B2B lacks are more to look up
    than the listing of every order takes pages (two): the B2B orders are read in full."""
    seed = late_seed(kit, "many-pages-no-bump", 322, stamps)
    sb = new_sandbox(seed=seed)
    client = open_client(sb)
    manifests = the_manifests(kit)
    earlier = incremental.read(client, manifests)
    outside.delete_b2b_orders(sb, [90001, 90002, 90003])
    lost = incremental.read(client, manifests, snapshot=earlier.snapshot)
    assert lost.snapshot.unsynced is None
    relearn = incremental.read(client, manifests, snapshot=lost.snapshot)
    why = "the snapshot does not know which orders B2B lacked"
    assert f"core orders ({why})" in relearn.refresh.read_in_full
    assert f"orders ({why})" in relearn.refresh.read_in_full
    assert relearn.snapshot.unsynced == {5010, 90001, 90002, 90003}
    full = incremental.read(client, manifests)
    assert comparable(client, manifests, relearn) == comparable(client, manifests, full)
    listed = incremental.read(client, manifests, snapshot=relearn.snapshot)
    assert "orders (4 orders B2B lacked to look up)" in listed.refresh.read_in_full
    assert comparable(client, manifests, listed) == comparable(client, manifests, full)


def test_a_snapshot_of_an_earlier_version_learns_what_b2b_lacked_once(
    kit: SimpleNamespace,
    new_sandbox: Callable[..., Sandbox],
    open_client: Callable[[Sandbox], ApiClient],
    stamps: bool,
    tmp_path: Path,
) -> None:
    """A snapshot without ``unsyncedOrders`` (written before it existed): the core orders and
    the B2B orders are read in full once; the next read costs the no-change 10 again."""
    seed = late_seed(kit, "many-pages", 322, stamps)
    del seed["orders"][-1]  # no order B2B lacks
    sb = new_sandbox(seed=seed)
    client = open_client(sb)
    manifests = the_manifests(kit)
    earlier = incremental.read(client, manifests)
    assert earlier.snapshot.unsynced == frozenset()
    assert snapshot.save(str(tmp_path), earlier.snapshot) == ""
    path = snapshot.path_for(str(tmp_path), sb.store_hash)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data.pop("unsyncedOrders"), str)  # a packed column
    path.write_text(json.dumps(data), encoding="utf-8")
    old, why = snapshot.load(str(tmp_path), sb.store_hash, now=int(time.time()))
    assert old is not None, why
    assert old.unsynced is None
    once = incremental.read(client, manifests, snapshot=old)
    assert {p.split(" (")[0] for p in once.refresh.read_in_full} == {"core orders", "orders"}
    assert once.snapshot.unsynced == frozenset()
    assert incremental.read(client, manifests, snapshot=once.snapshot).live.requests == 10
