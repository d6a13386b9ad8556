"""Core price-list assignments through the real client against the sandbox (price_lists.v3.yml,
b2b-api.md §6.2, §9.16): reads with filters and paging, upsert, batch create, delete, the calls
that change a group's list under both readings of the upsert, and the core budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reconciler.api import ApiClient
from reconciler.api.decode import DecodeError, price_list_assignment
from reconciler.errors import ApiError, NotFoundError
from reconciler.kinds.price_list_assignment import assignment_requests
from reconciler.model import LivePriceListAssignment
from reconciler.sandbox import Sandbox

ClientFactory = Callable[..., ApiClient]
Kit = Any


def store_seed(kit: Kit, groups: int = 3, **quirks: Any) -> dict[str, Any]:
    """An Independent store with ``groups`` groups (1..N), two channels, lists 7 and 8, and
    group 1 on list 7 on channel 1."""
    seed = kit.seed(
        customerGroups=[{"id": i, "name": f"G{i}"} for i in range(1, groups + 1)],
        customers=[],
        companies=[],
        users=[],
        orders=[],
        priceLists=[{"id": 7, "name": "Wholesale"}, {"id": 8, "name": "Retail"}],
        channels=[{"id": 1, "name": "Default"}, {"id": 2, "name": "B2B site"}],
        priceListAssignments=[{"priceListId": 7, "customerGroupId": 1, "channelId": 1}],
    )
    seed["store"]["companiesBehavior"] = "independent"
    if quirks:
        seed["quirks"] = quirks
    return seed


def assignment(aid: int, pl: int, group: int | None, channel: int | None) -> Any:
    return LivePriceListAssignment(aid, pl, group, channel)


def test_read_filter_and_decode(kit: Kit, make_client: ClientFactory) -> None:
    seed = store_seed(kit)
    seed["priceListAssignments"] += [
        {"priceListId": 8, "customerGroupId": 2, "channelId": 2},
        {"priceListId": 8, "channelId": 2},
    ]
    with Sandbox(seed=seed) as sb:
        client = make_client(sb)
        every = client.core.price_list_assignments()
        assert every == (
            assignment(1, 7, 1, 1),
            assignment(2, 8, 2, 2),
            assignment(3, 8, None, 2),
        )
        sb.clear_log()
        assert client.core.price_list_assignments(customer_group_ids=[2, 1]) == every[:2]
        assert client.core.price_list_assignments(channel_ids=[2]) == every[1:]
        assert client.core.price_list_assignments(customer_group_ids=[]) == ()
        [first, *_] = sb.request_log
        assert first.path == f"/stores/{sb.store_hash}/v3/pricelists/assignments"
        assert "customer_group_id%3Ain=1%2C2" in first.query
        assert len(sb.request_log) == 2  # the empty filter sent nothing


def test_decode_variants() -> None:
    """Ids as strings or numbers; a null or 0 group/channel is none; a missing id is an error."""
    raw = {"id": "4", "price_list_id": 7.0, "customer_group_id": 0, "channel_id": None}
    assert price_list_assignment(raw) == assignment(4, 7, None, None)
    with pytest.raises(DecodeError, match="price_list_id"):
        price_list_assignment({"id": 4, "customer_group_id": 1, "channel_id": 1})
    with pytest.raises(DecodeError, match="customer_group_id"):
        price_list_assignment({"id": 4, "price_list_id": 7, "customer_group_id": -2})


def test_many_groups_are_chunked_and_paged(kit: Kit, make_client: ClientFactory) -> None:
    """300 groups: ``customer_group_id:in`` carries at most 50 ids; pages of 250 follow
    ``total_pages``."""
    seed = store_seed(kit, groups=300)
    seed["priceListAssignments"] = [
        {"priceListId": 7 if i % 2 else 8, "customerGroupId": i, "channelId": 1}
        for i in range(1, 301)
    ]
    with Sandbox(seed=seed) as sb:
        client = make_client(sb)
        assert len(client.core.price_list_assignments()) == 300
        assert [e.query.count("page=") for e in sb.request_log] == [1, 1]
        sb.clear_log()
        found = client.core.price_list_assignments(customer_group_ids=range(1, 301))
        assert [a.customer_group_id for a in found] == list(range(1, 301))
        assert len(sb.request_log) == 6
        assert all(len(e.query) < 400 for e in sb.request_log)


@pytest.mark.parametrize("refused", [False, True])
def test_change_calls_are_right_under_both_readings(
    kit: Kit, make_client: ClientFactory, refused: bool
) -> None:
    """``assignment_requests`` (what the plan sends): delete the held assignment by id, then
    upsert; the group ends on the new list whichever reading the store follows. The upsert
    alone fails when refused."""
    seed = store_seed(kit, priceListUpsertRefused=refused)
    with Sandbox(seed=seed) as sb:
        client = make_client(sb)
        [held] = client.core.price_list_assignments(customer_group_ids=[1])
        calls = [(r.method, r.path, r.body) for r in assignment_requests(8, 1, 1, held)]
        assert calls == [
            ("DELETE", "/v3/pricelists/assignments?id=1", None),
            ("PUT", "/v3/pricelists/8/assignments", {"customer_group_id": 1, "channel_id": 1}),
        ]
        if refused:
            with pytest.raises(ApiError) as caught:
                client.core.send(calls[1])
            assert caught.value.status == 409
        for call in calls:
            client.core.send(call)
        [now] = client.core.price_list_assignments(customer_group_ids=[1])
        assert (now.price_list_id, now.customer_group_id, now.channel_id) == (8, 1, 1)
        assert assignment_requests(8, 1, 1, now) == ()
        (fresh,) = assignment_requests(7, 2, 2, None)
        client.core.send((fresh.method, fresh.path, fresh.body))
        assert client.core.price_list_assignments(customer_group_ids=[2])[0].price_list_id == 7


def test_upsert_returns_the_assignment(kit: Kit, make_client: ClientFactory) -> None:
    with Sandbox(seed=store_seed(kit)) as sb:
        client = make_client(sb)
        made = client.core.upsert_price_list_assignment(8, 2, 1)
        assert made == assignment(2, 8, 2, 1)
        with pytest.raises(NotFoundError):
            client.core.upsert_price_list_assignment(8, 99, 1)


def test_batch_create_sends_25_per_request(kit: Kit, make_client: ClientFactory) -> None:
    with Sandbox(seed=store_seed(kit, groups=40)) as sb:
        client = make_client(sb)
        sb.clear_log()
        client.core.create_price_list_assignments(
            [(8, g, 2) for g in range(1, 31)] + [(7, None, 2)]
        )
        posts = [e for e in sb.request_log if e.method == "POST"]
        assert len(posts) == 2
        assert len(client.core.price_list_assignments(channel_ids=[2])) == 31
        with pytest.raises(ApiError) as caught:
            client.core.create_price_list_assignments([(99, 1, 2)])
        assert caught.value.status == 422


def test_delete_needs_a_filter_and_deletes_by_id(kit: Kit, make_client: ClientFactory) -> None:
    with Sandbox(seed=store_seed(kit)) as sb:
        client = make_client(sb)
        client.core.upsert_price_list_assignment(8, 2, 1)
        sb.clear_log()
        with pytest.raises(ValueError, match="at least one filter"):
            client.core.delete_price_list_assignments()
        assert sb.request_log == []
        client.core.delete_price_list_assignments(assignment_id=1)
        assert client.core.price_list_assignments() == (assignment(2, 8, 2, 1),)
        client.core.delete_price_list_assignments(customer_group_id=2, channel_id=1)
        assert client.core.price_list_assignments() == ()


def test_assignments_are_paced_on_the_core_budget(kit: Kit, make_client: ClientFactory) -> None:
    """Core calls pause on ``X-Rate-Limit-Requests-Left`` and never touch the B2B budget."""
    clock = kit.FakeClock()
    sleeps = kit.Sleeps(clock)
    with Sandbox(seed=store_seed(kit), core_rate_limit=(3, 30.0), clock=clock) as sb:
        client = make_client(sb, sleep=sleeps, clock=clock)
        for group in (1, 2, 3):
            client.core.upsert_price_list_assignment(8, group, 2)
            client.core.price_list_assignments(customer_group_ids=[group])
        assert [e.status for e in sb.request_log] == [200] * 6
        assert len(sleeps.calls) == 1  # after the third request
        assert client.stats.throttled == 0
        assert client.stats.to_json()["coreRequests"] == 6
        assert client.stats.to_json()["b2bRequests"] == 0
