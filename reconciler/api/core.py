"""Core BigCommerce endpoints the reconciler reads (b2b-api.md §6).

V2 answers are bare JSON arrays, paged with ``page``/``limit`` and ended by a short page; an
empty V2 list may come back as ``204 No Content`` with no body. V3 answers carry ``data`` and
``meta.pagination.total_pages``.

Price-list assignments (``price_lists.v3.yml``): the list a customer group uses on a channel,
which on Independent stores is where a company's prices come from. Whether an upsert for a
group and channel that already use another list replaces it or is refused is open (b2b-api.md
§9.16); the PriceListAssignment kind plans the requests that are right under both readings
(``reconciler.kinds.price_list_assignment``) and ``send`` sends them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from reconciler.api import decode
from reconciler.api.transport import Http, Method
from reconciler.errors import NotFoundError
from reconciler.model import LivePriceListAssignment

V2_PAGE = 250
V3_PAGE = 250
ASSIGNMENTS = "/v3/pricelists/assignments"
ASSIGNMENT_BATCH = 25
"""Most assignments one ``POST /v3/pricelists/assignments`` may carry (the spec's batch limit)."""
IDS_PER_FILTER = 50
"""Ids per ``:in`` filter, so that a query string stays short."""
MAX_PAGES = 10_000
"""A listing that claims more pages than this is not believed."""

CoreCall = tuple[Method, str, Any]
"""``(method, path with query, JSON body)`` of one core write, as a plan shows it."""


def upsert_call(price_list_id: int, customer_group_id: int, channel_id: int) -> CoreCall:
    """``PUT /v3/pricelists/{id}/assignments`` for one group on one channel."""
    body = {"customer_group_id": int(customer_group_id), "channel_id": int(channel_id)}
    return ("PUT", f"/v3/pricelists/{int(price_list_id)}/assignments", body)


def rfc2822(unix: int) -> str:
    """A Unix time as the RFC 2822 date the V2 date filters take (``Thu, 20 Apr 2017 11:32:00
    +0000``; orders.v2.oas2.yml accepts RFC 2822 or ISO 8601)."""
    return format_datetime(datetime.fromtimestamp(int(unix), UTC))


def v2_date(value: object) -> int | None:
    """Unix seconds of a V2 date (RFC 2822, or ISO 8601; no zone is UTC); None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = parsedate_to_datetime(value) if "," in value else datetime.fromisoformat(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return int(when.timestamp())
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None


def _chunks(values: Collection[int], size: int) -> Iterator[list[int]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


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

    def customer_group_count(self) -> int:
        """How many customer groups the store has (``GET /v2/customer_groups/count``)."""
        body = self.http.core("GET", "/v2/customer_groups/count")
        count = body.get("count") if isinstance(body, Mapping) else None
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise decode.DecodeError('customer groups count: expected {"count": <integer>}')
        return count

    def customer_groups_created_since(self, unix: int) -> list[int] | None:
        """Ids of the groups created at or after ``unix`` (``date_created:min``, one page of
        250, each row's ``date_created`` checked too: the filter may be coarser than a second);
        None when the page is full or a row's date cannot be read (then it cannot tell)."""
        params = {"date_created:min": rfc2822(unix), "limit": V2_PAGE, "page": 1}
        rows = _v2_rows(self.http.core("GET", "/v2/customer_groups", params=params), "groups")
        if len(rows) >= V2_PAGE:
            return None
        out: list[int] = []
        for row in rows:
            created = v2_date(row.get("date_created"))
            if created is None:
                return None
            if created >= unix:
                out.append(decode.req_id(row.get("id"), "customer group id"))
        return out

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
        for order_id, customer in self.each_order_customer(count=count):
            if customer in found:
                found[customer].add(order_id)
        return {c: tuple(sorted(ids)) for c, ids in found.items()}

    def order_customers(
        self, *, count: int | None = None, modified_since: int | None = None
    ) -> list[tuple[int, int | None]]:
        """``(orderId, customerId)`` of every order (or of those modified since a Unix time,
        ``min_date_modified`` in RFC 2822), by ascending id, in pages of 250 each starting after
        the last id seen (``min_id``). ``count`` ends the pass once that many were seen."""
        return list(self.each_order_customer(count=count, modified_since=modified_since))

    def each_order_customer(
        self, *, count: int | None = None, modified_since: int | None = None
    ) -> Iterator[tuple[int, int | None]]:
        """``order_customers`` a page at a time: a pass over 500,000 orders that keeps only a
        few of them never holds the 500,000 pairs."""
        seen = 0
        after = 0
        while count is None or seen < count:
            params: dict[str, Any] = {
                "min_id": after + 1,
                "sort": "id:asc",
                "limit": V2_PAGE,
                "page": 1,
            }
            if modified_since is not None:
                params["min_date_modified"] = rfc2822(modified_since)
            rows = _v2_rows(self.http.core("GET", "/v2/orders", params=params), "orders")
            last = after
            page: list[tuple[int, int | None]] = []
            for row in rows:
                raw, customer = row.get("id"), row.get("customer_id")
                # a positive int id and an int customer: the commonest answer, checked inline
                order_id = raw if type(raw) is int and raw > 0 else decode.req_id(raw, "order id")
                if type(customer) is not int:
                    customer = decode.opt_int(customer)
                page.append((order_id, customer))
                if order_id > last:
                    last = order_id
            seen += len(page)
            yield from page
            if len(rows) < V2_PAGE:
                break
            if last <= after:
                raise decode.DecodeError("orders: min_id did not advance the listing")
            after = last

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

    def customer_emails(self, customer_ids: Collection[int]) -> dict[int, str]:
        """customerId -> e-mail (``GET /v3/customers?id:in=``, 50 ids a request); customers
        that do not exist are left out."""
        out: dict[int, str] = {}
        for chunk in _chunks(sorted(set(customer_ids)), IDS_PER_FILTER):
            params = {"id:in": ",".join(map(str, chunk)), "limit": V3_PAGE}
            for row in self._v3_rows("/v3/customers", params, "customers"):
                customer_id = decode.opt_int(row.get("id"))
                if customer_id is not None and isinstance(row.get("email"), str):
                    out[customer_id] = row["email"]
        return out

    # -- V3 price-list assignments

    def price_list_assignments(
        self,
        *,
        customer_group_ids: Collection[int] | None = None,
        channel_ids: Collection[int] | None = None,
    ) -> tuple[LivePriceListAssignment, ...]:
        """Assignments, optionally only of these groups and channels (``:in`` filters, at most
        50 ids each), ordered by id; paged by ``page`` (so only ``meta.pagination`` comes back)
        until ``total_pages``; a repeat seen across pages counts once."""
        if customer_group_ids is not None and not customer_group_ids:
            return ()
        if channel_ids is not None and not channel_ids:
            return ()
        groups: list[list[int] | None] = [None]
        if customer_group_ids is not None:
            groups = list(_chunks(customer_group_ids, IDS_PER_FILTER))
        found: dict[int, LivePriceListAssignment] = {}
        for chunk in groups:
            params: dict[str, Any] = {"limit": V3_PAGE}
            if chunk is not None:
                params["customer_group_id:in"] = ",".join(map(str, chunk))
            if channel_ids is not None:
                params["channel_id:in"] = ",".join(map(str, sorted(set(channel_ids))))
            for row in self._v3_rows(ASSIGNMENTS, params, "price list assignments"):
                item = decode.price_list_assignment(row)
                found[item.assignment_id] = item
        return tuple(found[k] for k in sorted(found))

    def _v3_rows(
        self, path: str, params: Mapping[str, Any], what: str
    ) -> Iterator[Mapping[str, Any]]:
        page = 1
        while True:
            body = self.http.core("GET", path, params={**params, "page": page})
            rows = decode.items(body, what)
            yield from rows
            pages = decode.total_pages(body)
            if pages is not None and pages > MAX_PAGES:
                raise decode.DecodeError(f"{what}: {pages} pages is not believable")
            if not rows or (page >= pages if pages is not None else len(rows) < V3_PAGE):
                return
            if page >= MAX_PAGES:
                raise decode.DecodeError(f"{what}: the listing does not end")
            page += 1

    def upsert_price_list_assignment(
        self, price_list_id: int, customer_group_id: int, channel_id: int
    ) -> LivePriceListAssignment:
        """``PUT /v3/pricelists/{id}/assignments``; the assignment the API answers with."""
        method, path, body = upsert_call(price_list_id, customer_group_id, channel_id)
        answer = self.http.core(method, path, json=body)
        return decode.price_list_assignment(decode.one(answer, "price list assignment"))

    def create_price_list_assignments(
        self, items: Sequence[tuple[int, int | None, int | None]]
    ) -> None:
        """``POST /v3/pricelists/assignments`` with ``(price_list_id, customer_group_id,
        channel_id)`` items, 25 per request (a ``None`` group or channel is left out)."""
        for start in range(0, len(items), ASSIGNMENT_BATCH):
            batch = []
            for price_list_id, group, channel in items[start : start + ASSIGNMENT_BATCH]:
                entry: dict[str, int] = {"price_list_id": int(price_list_id)}
                if group is not None:
                    entry["customer_group_id"] = int(group)
                if channel is not None:
                    entry["channel_id"] = int(channel)
                batch.append(entry)
            self.http.core("POST", ASSIGNMENTS, json=batch)

    def delete_price_list_assignments(
        self,
        *,
        assignment_id: int | None = None,
        price_list_id: int | None = None,
        customer_group_id: int | None = None,
        channel_id: int | None = None,
    ) -> None:
        """``DELETE /v3/pricelists/assignments`` with these filters (combined; at least one, so
        that a call can never mean "every assignment")."""
        params = {
            key: int(value)
            for key, value in (
                ("id", assignment_id),
                ("price_list_id", price_list_id),
                ("customer_group_id", customer_group_id),
                ("channel_id", channel_id),
            )
            if value is not None
        }
        if not params:
            raise ValueError("deleting price list assignments needs at least one filter")
        self.http.core("DELETE", ASSIGNMENTS, params=params)

    def send(self, call: CoreCall) -> Any:
        """Send one planned core write exactly as planned; return the decoded body."""
        method, path, body = call
        if "{" in path or "}" in path:
            raise ValueError(f"unresolved placeholder in request path {path!r}")
        return self.http.core(method, path, json=body)
