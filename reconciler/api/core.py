"""Core BigCommerce endpoints the reconciler reads (b2b-api.md §6).

V2 answers are bare JSON arrays, paged with ``page``/``limit`` and ended by a short page; an
empty V2 list may come back as ``204 No Content`` with no body. V3 answers carry ``data`` and
``meta.pagination.total_pages``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from reconciler.api import decode
from reconciler.api.transport import Http
from reconciler.errors import NotFoundError

V2_PAGE = 250
V3_PAGE = 250


def _v2_rows(body: Any, what: str) -> list[Mapping[str, Any]]:
    if body is None:
        return []
    if not isinstance(body, list):
        raise decode.DecodeError(f"{what}: expected a JSON array, got {type(body).__name__}")
    return [row for row in body if isinstance(row, Mapping)]


def _ids(rows: list[Mapping[str, Any]], what: str) -> list[int]:
    return [decode.req_id(row.get("id"), f"{what} id") for row in rows]


class CoreApi:
    """The store's core API (``/stores/{hash}/v2`` and ``/v3``)."""

    def __init__(self, http: Http) -> None:
        self.http = http

    # -- V2 lists

    def customer_groups_page(self, page: int = 1) -> list[int]:
        """Ids on one page of ``GET /v2/customer_groups`` (a short page is the last one)."""
        body = self.http.core("GET", "/v2/customer_groups", params={"page": page, "limit": V2_PAGE})
        return _ids(_v2_rows(body, "customer groups"), "customer group")

    def customer_group_ids(self) -> frozenset[int]:
        """Every customer group id (pages of 250 until a short page)."""
        out: set[int] = set()
        page = 1
        while True:
            ids = self.customer_groups_page(page)
            out.update(ids)
            if len(ids) < V2_PAGE:
                return frozenset(out)
            page += 1

    def customer_group_exists(self, group_id: int) -> bool:
        """True when ``GET /v2/customer_groups/{id}`` finds the group."""
        try:
            self.http.core("GET", f"/v2/customer_groups/{int(group_id)}")
        except NotFoundError:
            return False
        return True

    def order_ids_for_customer(self, customer_id: int) -> tuple[int, ...]:
        """The BigCommerce order ids of one customer, ascending (204 means none)."""
        out: list[int] = []
        page = 1
        while True:
            body = self.http.core(
                "GET",
                "/v2/orders",
                params={"customer_id": int(customer_id), "limit": V2_PAGE, "page": page},
            )
            rows = _v2_rows(body, "orders")
            out.extend(_ids(rows, "order"))
            if len(rows) < V2_PAGE:
                return tuple(sorted(set(out)))
            page += 1

    def order_exists(self, order_id: int) -> bool:
        """True when core ``GET /v2/orders/{id}`` finds the order."""
        try:
            self.http.core("GET", f"/v2/orders/{int(order_id)}")
        except NotFoundError:
            return False
        return True

    def order_count(self) -> int:
        """Every order of the store, as ``GET /v2/orders/count`` reports it."""
        body = self.http.core("GET", "/v2/orders/count")
        if not isinstance(body, Mapping):
            raise decode.DecodeError("orders count: expected a JSON object")
        return decode.req_int(body.get("count"), "orders count")

    def order_ids_by_customer(
        self, customers: Collection[int], count: int
    ) -> dict[int, tuple[int, ...]]:
        """The order ids of each of ``customers`` (ascending), from one pass over every order.

        Pages of 250 by ascending id, each starting after the last id seen (``min_id``), so an
        order created or deleted meanwhile shifts nothing. ``count`` (from ``order_count``) ends
        the pass once that many orders were seen, sparing the empty page after a full last one:
        ``ceil(count / 250)`` requests when the store did not change.
        """
        wanted = set(customers)
        found: dict[int, set[int]] = {c: set() for c in wanted}
        seen = 0
        after = 0
        while seen < count:
            body = self.http.core(
                "GET",
                "/v2/orders",
                params={"min_id": after + 1, "sort": "id:asc", "limit": V2_PAGE, "page": 1},
            )
            rows = _v2_rows(body, "orders")
            last = after
            for row in rows:
                order_id = decode.req_id(row.get("id"), "order id")
                customer = decode.opt_int(row.get("customer_id"))
                if customer in found:
                    found[customer].add(order_id)
                last = max(last, order_id)
            seen += len(rows)
            if len(rows) < V2_PAGE:
                break
            if last <= after:
                raise decode.DecodeError("orders: min_id did not advance the listing")
            after = last
        return {c: tuple(sorted(ids)) for c, ids in found.items()}

    # -- V3 lists

    def _v3_ids(self, path: str, what: str) -> frozenset[int]:
        out: set[int] = set()
        page = 1
        while True:
            body = self.http.core("GET", path, params={"page": page, "limit": V3_PAGE})
            rows = decode.items(body, what)
            out.update(_ids(rows, what))
            pages = decode.total_pages(body)
            if not rows or (page >= pages if pages is not None else len(rows) < V3_PAGE):
                return frozenset(out)
            page += 1

    def price_list_ids(self) -> frozenset[int]:
        """Every price list id (``GET /v3/pricelists``)."""
        return self._v3_ids("/v3/pricelists", "price lists")

    def channel_ids(self) -> frozenset[int]:
        """Every channel id (``GET /v3/channels``)."""
        return self._v3_ids("/v3/channels", "channels")
