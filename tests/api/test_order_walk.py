"""A full pass over the B2B order list holds only the orders the reader keeps.

The live reader lists every order when that is cheaper than fetching the wanted ones one by one,
and then needs a few hundred of them: ``rest_of_orders(keep=...)`` reads and checks every page
as before (same requests, same total, same detection of a list that shifts) but holds only what
``keep`` keeps, so a pass over 500,000 orders does not hold 500,000 objects; with
``wanted`` (ids) it does not even build them, though it still checks each one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.api import ApiClient, ApiSettings, Secret, decode
from reconciler.sandbox import Sandbox

NewSandbox = Callable[..., Sandbox]
ClientFactory = Callable[..., ApiClient]


def _orders(count: int) -> list[dict[str, Any]]:
    return [
        {
            "bcOrderId": 7001 + i,
            "customerId": 321,
            "companyId": None,
            "poNumber": f"PO-{i}",
            "createdAt": 1500000000 + i,
            "updatedAt": 1500000000 + i,
        }
        for i in range(count)
    ]


def test_rest_of_orders_holds_only_what_keep_keeps(
    new_sandbox: NewSandbox, make_client: ClientFactory, kit: Any
) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed(orders=_orders(130)))
    client = make_client(sb)
    first = client.b2b.orders_page(limit=50)
    every, total = client.b2b.rest_of_orders(first)
    requests = client.stats.requests

    def keep(order: Any) -> bool:
        return bool(order.bc_order_id % 7 == 0)

    kept, kept_total = client.b2b.rest_of_orders(first, keep=keep)
    assert total == kept_total == 130
    assert len(every) == 130  # the first page's orders too
    assert kept == [o for o in every if keep(o)]
    assert 0 < len(kept) < len(every)
    assert client.stats.requests - requests == requests - 1  # the same pages, read again


def test_rest_of_orders_gives_every_id_while_holding_the_kept(
    new_sandbox: NewSandbox, make_client: ClientFactory, kit: Any
) -> None:
    """The snapshot needs every order's id (to see deletions) from the same pass."""
    sb = new_sandbox(db=":memory:", seed=kit.seed(orders=_orders(130)))
    client = make_client(sb)
    first = client.b2b.orders_page(limit=50)
    ids: set[Any] = set()
    kept, total = client.b2b.rest_of_orders(first, keep=lambda o: False, ids=ids)
    assert kept == []
    assert total == 130
    assert ids == {7001 + i for i in range(130)}


class _DeleteBeforePageTwo(httpx.BaseTransport):
    """The sandbox, where another client deletes order 7001 just before page 2 is first read."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb, self.inner, self.done = sb, sb.transport(), False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        page_two = request.url.path.endswith("/orders") and "offset=50" in str(request.url.query)
        if page_two and not self.done:
            self.done = True
            self.sb.delete_orders([7001])
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_the_ids_are_those_of_the_pass_that_succeeded(new_sandbox: NewSandbox, kit: Any) -> None:
    """A pass that saw the list change is read again; the ids it saw (7001, deleted since) are
    not reported: the caller's set is filled in place, and emptied before each new pass."""
    sb = new_sandbox(db=":memory:", seed=kit.seed(orders=_orders(130)))
    settings = ApiSettings(
        store_hash=sb.store_hash,
        token=Secret(kit.TOKEN),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    with ApiClient.open(settings, _DeleteBeforePageTwo(sb), sleep=lambda _s: None) as client:
        first = client.b2b.orders_page(limit=50)
        ids: set[Any] = set()
        kept, total = client.b2b.rest_of_orders(first, keep=lambda o: o.bc_order_id < 7010, ids=ids)
    assert total == 129
    assert ids == {7002 + i for i in range(129)}
    assert sorted(o.bc_order_id for o in kept) == list(range(7002, 7010))


def test_wanted_builds_only_the_wanted_orders(
    new_sandbox: NewSandbox, make_client: ClientFactory, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed(orders=_orders(130)))
    client = make_client(sb)
    first = client.b2b.orders_page(limit=50)
    every, total = client.b2b.rest_of_orders(first)
    wanted = {7003, 7060, 7100, 7130, 9999}  # 9999: none has it
    built: list[int] = []
    real = decode.order

    def counted(obj: Any) -> Any:
        built.append(obj["bcOrderId"])
        return real(obj)

    monkeypatch.setattr(decode, "order", counted)
    requests = client.stats.requests
    ids: set[Any] = set()
    kept, kept_total = client.b2b.rest_of_orders(first, wanted=wanted, ids=ids)
    assert kept_total == total == 130
    assert kept == [o for o in every if o.bc_order_id in wanted]
    assert ids == {o.bc_order_id for o in every}  # every id still seen
    on_first_page = {o.bc_order_id for o in first.items}
    assert 0 < len(built) < 5
    assert sorted(built) == sorted(wanted - on_first_page - {9999})  # only what was wanted
    assert client.stats.requests - requests == requests - 1  # the same pages as a full pass
    also_kept, _ = client.b2b.rest_of_orders(
        first, wanted=wanted, keep=lambda o: o.bc_order_id > 7100
    )
    assert sorted(o.bc_order_id for o in also_kept) == [7130]


class _BadCompanyId(httpx.BaseTransport):
    """The sandbox, with order 7070's ``companyId`` spelled as no id can be."""

    def __init__(self, sb: Sandbox) -> None:
        self.inner = sb.transport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith("/orders"):
            return response
        body = json.loads(response.read())
        for row in body.get("data", []):
            if row.get("bcOrderId") == 7070:
                row["companyId"] = "abc"
        return httpx.Response(response.status_code, headers=response.headers, json=body)

    def close(self) -> None:
        self.inner.close()


def test_an_order_that_is_not_wanted_is_still_checked(new_sandbox: NewSandbox, kit: Any) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed(orders=_orders(130)))
    settings = ApiSettings(
        store_hash=sb.store_hash,
        token=Secret(kit.TOKEN),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    with ApiClient.open(settings, _BadCompanyId(sb), sleep=lambda _s: None) as client:
        first = client.b2b.orders_page(limit=50)
        with pytest.raises(decode.DecodeError, match="order companyId is 'abc'"):
            client.b2b.rest_of_orders(first, wanted={7001})


def test_the_pass_over_every_core_order_comes_a_page_at_a_time(
    new_sandbox: NewSandbox, make_client: ClientFactory, kit: Any
) -> None:
    """The live reader maps every core order to its customer and keeps a few: the pairs come
    a page (250) at a time, so the pass never holds all of them (500,000 at 50k)."""
    sb = new_sandbox(db=":memory:", seed=kit.seed(orders=_orders(600)))
    client = make_client(sb)
    every = client.core.order_customers(count=600)
    assert [order_id for order_id, _ in every] == sorted(o["bcOrderId"] for o in _orders(600))
    assert {customer for _, customer in every} == {321}
    start = client.stats.requests
    pairs = client.core.each_order_customer(count=600)
    first = [next(pairs) for _ in range(250)]
    assert client.stats.requests - start == 1  # one page asked for the first page's pairs
    rest = list(pairs)
    assert client.stats.requests - start == 3  # and the count spares the empty fourth page
    assert first + rest == every
