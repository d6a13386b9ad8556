"""B2B Edition endpoints (b2b-api.md §3-§5), returning the model's clean types.

Page sizes are the documented maxima: 250 for companies, users and extra-field configs, 200 for
orders (a larger ``limit`` is a 413 on some stores and silently clamped on others). Paging stops
when the reported total is reached, at a short or empty page, or at a page that brings nothing
new; a listing that changes while it is read is read again (see ``B2BApi._rest``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping
from typing import Any, Generic, TypeVar, cast

from reconciler.api import decode
from reconciler.api.transport import Http
from reconciler.errors import AuthError, NotFoundError, StoreChangedError, UsageError
from reconciler.model import ExtraFieldConfig, LiveCompany, LiveOrder, LiveUser, Request

COMPANY_PAGE = 250
USER_PAGE = 250
ORDER_PAGE = 200
CONFIG_PAGE = 250
ORDER_CONFIG_PAGE = 200
"""Order extra-field configs share the orders API, whose documented maximum is 200."""
EVERY_ORDER_SINCE = 1
"""``minCreated`` of a full order read. Without a date filter ``GET /orders`` shows only the last
year (b2b-api.md §7.4); whether ``0`` counts as a filter is not documented (§9.11), so the
earliest real date is sent: it means "every order" under every reading."""
NEWEST_FIRST = {"sortBy": "updatedAt", "orderBy": "DESC"}
"""Sent with every company and order listing: both are documented parameters, and updatedAt
descending is the documented default of ``sortBy``, but company.yaml's description of Get All
Companies says companyId descending. Sent, the order is the same under both readings, and the
first page of a listing holds the objects modified most recently (``reconciler.incremental``
uses that: a first page whose oldest object is older than its change point holds every change)."""
MSF_OFF = "multi storefront is not enabled"
"""The documented body of B2B ``GET /channels`` on a store without Multi-Storefront."""
READ_ATTEMPTS = 3
"""Passes over a paged listing that keeps changing under the reader, before giving up."""

T = TypeVar("T")
Row = Mapping[str, Any]
UserRow = tuple[int, int | None, int]
"""``(customerId, companyId, updatedAt)``."""


class Page(Generic[T]):
    """One page of a list: its decoded items and the total the API reported (if any)."""

    __slots__ = ("items", "limit", "offset", "raw_count", "total")

    def __init__(
        self, items: list[T], total: int | None, offset: int, limit: int, raw_count: int
    ) -> None:
        self.items = items
        self.total = total
        self.offset = offset
        self.limit = limit
        self.raw_count = raw_count
        """Objects the API sent on this page (before any filtering)."""

    @property
    def last(self) -> bool:
        """True when no page follows this one."""
        end = self.offset + self.raw_count
        if self.raw_count == 0:
            return True
        if self.total is not None:
            return end >= self.total
        return self.raw_count < self.limit


def pages_for(total: int, page_size: int) -> int:
    """Requests needed to list ``total`` objects with totals known: at least one."""
    return max(1, -(-total // page_size))


class B2BApi:
    """The B2B Edition management API (``/api/v3/io``)."""

    def __init__(self, http: Http) -> None:
        self.http = http

    # -- paging machinery

    def _page(
        self,
        path: str,
        params: Mapping[str, Any],
        offset: int,
        limit: int,
        convert: Callable[[Row], T],
        what: str,
    ) -> Page[T]:
        body = self.http.b2b("GET", path, params={**params, "limit": limit, "offset": offset})
        rows = decode.items(body, what)
        return Page([convert(r) for r in rows], decode.total_count(body), offset, limit, len(rows))

    def _rest(
        self,
        first: Page[T],
        path: str,
        params: Mapping[str, Any],
        convert: Callable[[Row], T],
        what: str,
        key: Callable[[T], Hashable],
        keep: Callable[[T], bool] | None = None,
        keys: set[Hashable] | None = None,
    ) -> tuple[list[T], int]:
        """Every item (``keep``: only those it keeps), continuing after ``first``; and the total.
        ``keys`` receives the key of every item of the pass that succeeded, kept or not.

        Offset paging is only right while the list holds still. A read that sees the total
        change, an object twice, or fewer objects than the total (one vanished) starts again
        from the first page, at most ``READ_ATTEMPTS`` times in all; then it fails with
        ``StoreChangedError``. Paging stops at the reported total, at a short or empty page,
        and at a page that brings nothing new (a listing that does not advance).
        """
        page = first
        direct = keys is not None and not keys  # fill the caller's empty set: no copy at the end
        for attempt in range(READ_ATTEMPTS):
            if attempt:
                page = self._page(path, params, first.offset, first.limit, convert, what)
            seen: set[Hashable] = set()
            if direct and keys is not None:
                keys.clear()  # what a failed pass saw does not count
                seen = keys
            found = self._walk(page, path, params, convert, what, key, keep, seen)
            if found is not None:
                if keys is not None and not direct:
                    keys |= seen
                return found
        raise StoreChangedError(
            f"the store changed during the read of {what} (tried {READ_ATTEMPTS} times); run again",
            method="GET",
            path=path,
        )

    def _walk(
        self,
        first: Page[T],
        path: str,
        params: Mapping[str, Any],
        convert: Callable[[Row], T],
        what: str,
        key: Callable[[T], Hashable],
        keep: Callable[[T], bool] | None = None,
        seen: set[Hashable] | None = None,
    ) -> tuple[list[T], int] | None:
        """One pass over the pages; ``None`` when the list changed under it. Every item is
        decoded and counted; only those ``keep`` keeps are held (a pass over 500,000 orders
        for the few hundred a plan needs holds those few hundred)."""
        seen = set() if seen is None else seen
        out: list[T] = []
        read = 0
        page = first
        while True:
            new = 0
            for item in page.items:
                marker = key(item)
                if marker in seen:
                    continue
                seen.add(marker)
                if keep is None or keep(item):
                    out.append(item)
                new += 1
            if page is not first:
                if page.total != first.total:
                    return None  # the total changed between pages
                if page.raw_count and not new:
                    raise decode.DecodeError(
                        f"{what}: the page at offset {page.offset} repeats objects already "
                        "read; the listing does not advance"
                    )
            read += new
            if new != page.raw_count:
                return None  # an object appeared twice: the list shifted
            if page.last:
                break
            page = self._page(
                path, params, page.offset + page.raw_count, first.limit, convert, what
            )
        total = first.total
        if total is not None and first.offset + read != total:
            return None  # fewer (or more) objects than the total: one vanished or appeared
        return out, total if total is not None else first.offset + read

    # -- companies

    @staticmethod
    def _company_params(
        min_modified: int | None, bc_group_id: int | None, q: str | None = None
    ) -> dict[str, Any]:
        return {
            "isIncludeExtraFields": 1,
            "minModified": min_modified,
            "bcGroupId": bc_group_id,
            "q": q,
            **NEWEST_FIRST,
        }

    def companies_page(
        self,
        *,
        offset: int = 0,
        limit: int = COMPANY_PAGE,
        min_modified: int | None = None,
        bc_group_id: int | None = None,
        q: str | None = None,
    ) -> Page[LiveCompany]:
        """One page of ``GET /companies`` with extra fields (``q``: name contains)."""
        params = self._company_params(min_modified, bc_group_id, q)
        return self._page("/companies", params, offset, limit, decode.company, "companies")

    def rest_of_companies(
        self,
        first: Page[LiveCompany],
        *,
        min_modified: int | None = None,
        bc_group_id: int | None = None,
        q: str | None = None,
        known: Mapping[int, LiveCompany] | None = None,
    ) -> tuple[list[LiveCompany], int]:
        """Every company after ``first`` was read (same filters), and the total. ``known``: a
        company read equal to the one of its id there is returned as that object, and the one
        read let go at once (an incremental read that lists every company again holds one copy
        of the unchanged ones, not two)."""
        params = self._company_params(min_modified, bc_group_id, q)
        convert: Callable[[Row], LiveCompany] = decode.company
        if known is not None:
            kept = known

            def convert(row: Row) -> LiveCompany:
                return known_or(kept, decode.company(row))

        return self._rest(first, "/companies", params, convert, "companies", _company_key)

    def list_companies(
        self,
        *,
        min_modified: int | None = None,
        bc_group_id: int | None = None,
        q: str | None = None,
        limit: int = COMPANY_PAGE,
    ) -> tuple[list[LiveCompany], int]:
        """Every company (with extra fields) matching the filters, and the API's total; ``q``
        finds companies whose name contains it ("partial and exact matches")."""
        first = self.companies_page(
            limit=limit, min_modified=min_modified, bc_group_id=bc_group_id, q=q
        )
        return self.rest_of_companies(
            first, min_modified=min_modified, bc_group_id=bc_group_id, q=q
        )

    def count_companies(self, *, max_created: int | None = None) -> int:
        """How many companies the store has, or (``max_created``) has that were created at or
        before that time (one ``limit=1`` request)."""
        return self._count("/companies", {} if max_created is None else {"maxCreated": max_created})

    def count_users(self) -> int:
        """How many company users the store has (one ``limit=1`` request)."""
        return self._count("/users", {})

    def count_orders(self) -> int:
        """How many orders B2B Edition has, all of them (``minCreated=1``, one request)."""
        return self._count("/orders", {"minCreated": EVERY_ORDER_SINCE})

    def _count(self, path: str, params: Mapping[str, Any]) -> int:
        body = self.http.b2b("GET", path, params={**params, "limit": 1, "offset": 0})
        total = decode.total_count(body)
        if total is None:
            raise decode.DecodeError(f"GET {path}: no totalCount in meta")
        return total

    def get_company(self, company_id: int) -> LiveCompany:
        """One company (``NotFoundError`` when it does not exist)."""
        body = self.http.b2b("GET", f"/companies/{int(company_id)}")
        return decode.company(decode.one(body, "company"))

    def _configs(self, path: str, limit: int, what: str) -> tuple[ExtraFieldConfig, ...]:
        first = self._page(path, {}, 0, limit, decode.extra_field_config, what)
        found, _ = self._rest(first, path, {}, decode.extra_field_config, what, _config_key)
        return tuple(found)

    def company_extra_fields(self) -> tuple[ExtraFieldConfig, ...]:
        """Every company extra-field config."""
        return self._configs("/companies/extra-fields", CONFIG_PAGE, "company extra fields")

    def order_extra_fields(self) -> tuple[ExtraFieldConfig, ...]:
        """Every order extra-field config."""
        return self._configs("/orders/extra-fields", ORDER_CONFIG_PAGE, "order extra fields")

    def multi_storefront(self) -> bool:
        """Whether Multi-Storefront is on: B2B ``GET /channels`` answers 403 with the documented
        "Multi storefront is not enabled" when it is off.

        Any other 403 (missing OAuth scopes, platform limits: the status-code page lists those
        too, b2b-api.md §9.14) says nothing about Multi-Storefront and is an error saying so.
        """
        try:
            self.http.b2b("GET", "/channels")
        except AuthError as exc:
            if exc.status != 403:
                raise
            if MSF_OFF in exc.api_message.lower():
                return False
            raise UsageError(
                "cannot tell whether Multi-Storefront is on: B2B GET /channels was refused (403)"
                f"{f' ({exc.api_message})' if exc.api_message else ''} without saying "
                '"Multi storefront is not enabled"; check that the token has the B2B Edition '
                "scopes, or state it with --multi-storefront or --no-multi-storefront"
            ) from None
        return True

    # -- users

    def user_by_customer(self, customer_id: int) -> tuple[int | None, int | None]:
        """``(companyId, updatedAt)`` of the customer's company user; ``(None, None)`` if none."""
        try:
            body = self.http.b2b("GET", f"/users/customer/{int(customer_id)}")
        except NotFoundError:
            return None, None
        _, company_id, updated_at = decode.user(
            {"customerId": customer_id, **decode.one(body, "user")}
        )
        return company_id, updated_at

    def get_user(self, user_id: int) -> LiveUser | None:
        """One company user with extra fields (``GET /users/{userId}``); ``None`` on 404."""
        try:
            body = self.http.b2b("GET", f"/users/{int(user_id)}")
        except NotFoundError:
            return None
        return decode.live_user(decode.one(body, "user"))

    def user_of_customer(self, customer_id: int) -> LiveUser | None:
        """The company user of a BigCommerce customer, with extra fields; ``None`` if none."""
        try:
            body = self.http.b2b("GET", f"/users/customer/{int(customer_id)}")
        except NotFoundError:
            return None
        return decode.live_user({"customerId": customer_id, **decode.one(body, "user")})

    @staticmethod
    def _user_params(
        company_id: int | None,
        email: str | None,
        query: str | None,
        min_modified: int | None = None,
    ) -> dict[str, Any]:
        return {
            "companyId": company_id,
            "email": email,
            "q": query,
            "minModified": min_modified,
            "isIncludeExtraFields": "1",
        }

    def company_users_page(
        self,
        *,
        company_id: int | None = None,
        email: str | None = None,
        query: str | None = None,
        min_modified: int | None = None,
        offset: int = 0,
        limit: int = USER_PAGE,
    ) -> Page[LiveUser]:
        """One page of ``GET /users`` with extra fields (of one company, or all; ``email`` is
        the exact-match filter, ``query`` the ``q`` search)."""
        params = self._user_params(company_id, email, query, min_modified)
        return self._page("/users", params, offset, limit, decode.live_user, "users")

    def rest_of_company_users(
        self,
        first: Page[LiveUser],
        *,
        company_id: int | None = None,
        email: str | None = None,
        query: str | None = None,
        min_modified: int | None = None,
    ) -> tuple[list[LiveUser], int]:
        """Every user after ``first`` was read (same filters), and the total."""
        params = self._user_params(company_id, email, query, min_modified)
        return self._rest(first, "/users", params, decode.live_user, "users", _live_user_key)

    def list_company_users(
        self,
        *,
        company_id: int | None = None,
        email: str | None = None,
        query: str | None = None,
        min_modified: int | None = None,
    ) -> tuple[list[LiveUser], int]:
        """Every user (with extra fields) of one company, or of all (``min_modified``: those
        modified since), and the API's total."""
        first = self.company_users_page(
            company_id=company_id, email=email, query=query, min_modified=min_modified
        )
        return self.rest_of_company_users(
            first, company_id=company_id, email=email, query=query, min_modified=min_modified
        )

    def user_extra_fields(self) -> tuple[ExtraFieldConfig, ...]:
        """Every user extra-field config (``GET /users/extra-fields``)."""
        return self._configs("/users/extra-fields", CONFIG_PAGE, "user extra fields")

    def create_user(self, body: Mapping[str, Any]) -> tuple[int, int]:
        """``POST /users`` (``userPost``); ``(userId, customerId)`` of the new user."""
        data = self.send(Request("POST", "/users", dict(body)), idempotent=False)
        return decode.created_user(data)

    def update_user(self, user_id: int, body: Mapping[str, Any]) -> LiveUser:
        """``PUT /users/{userId}`` with only the fields to change; the user as it is now."""
        data = self.send(Request("PUT", f"/users/{int(user_id)}", dict(body)), idempotent=True)
        return decode.live_user(decode.one({"data": data}, "user"))

    def users_page(
        self, *, offset: int = 0, limit: int = USER_PAGE, min_modified: int | None = None
    ) -> Page[UserRow]:
        """One page of ``GET /users``: ``(customerId, companyId, updatedAt)`` rows."""
        params = {"minModified": min_modified}
        return self._page("/users", params, offset, limit, decode.user, "users")

    def rest_of_users(
        self, first: Page[UserRow], *, min_modified: int | None = None
    ) -> tuple[list[UserRow], int]:
        """Every user after ``first`` was read, and the total."""
        params = {"minModified": min_modified}
        return self._rest(first, "/users", params, decode.user, "users", _user_key)

    def list_users(self, *, min_modified: int | None = None) -> list[UserRow]:
        """Every company user as ``(customerId, companyId, updatedAt)``."""
        first = self.users_page(min_modified=min_modified)
        return self.rest_of_users(first, min_modified=min_modified)[0]

    # -- orders

    @staticmethod
    def _order_params(
        min_created: int | None, min_modified: int | None, company_id: int | None
    ) -> dict[str, Any]:
        if min_created is None and min_modified is None:
            # Without a date filter the API hides orders older than a year (b2b-api.md §7.4).
            min_created = EVERY_ORDER_SINCE
        return {
            "minCreated": min_created,
            "minModified": min_modified,
            "companyId": company_id,
            "showExtra": "true",
            **NEWEST_FIRST,
        }

    def orders_page(
        self,
        *,
        offset: int = 0,
        limit: int = ORDER_PAGE,
        min_created: int | None = EVERY_ORDER_SINCE,
        min_modified: int | None = None,
        company_id: int | None = None,
    ) -> Page[LiveOrder]:
        """One page of ``GET /orders`` (always with a date filter)."""
        params = self._order_params(min_created, min_modified, company_id)
        return self._page("/orders", params, offset, limit, decode.order, "orders")

    def rest_of_orders(
        self,
        first: Page[LiveOrder],
        *,
        min_created: int | None = EVERY_ORDER_SINCE,
        min_modified: int | None = None,
        company_id: int | None = None,
        keep: Callable[[LiveOrder], bool] | None = None,
        ids: set[Hashable] | None = None,
        wanted: Collection[int] | None = None,
    ) -> tuple[list[LiveOrder], int]:
        """Every order after ``first`` was read (same filters; ``keep``: only the orders it
        keeps, though every one is read and checked; ``ids`` receives every order's id), and
        the total. ``wanted``: only the orders with these ids, and only those are built (the
        others are checked as ``decode.order`` checks them, then dropped: a pass over 500,000
        orders for a few thousand builds a few thousand)."""
        params = self._order_params(min_created, min_modified, company_id)
        if wanted is None:
            return self._rest(
                first, "/orders", params, decode.order, "orders", _order_key, keep, ids
            )

        def convert(row: Row) -> LiveOrder | int:
            return decode.order_if_wanted(row, wanted)

        def held(item: LiveOrder | int) -> bool:
            if isinstance(item, int):
                return False
            return item.bc_order_id in wanted and (keep is None or keep(item))

        found, total = self._rest(
            cast("Page[LiveOrder | int]", first),
            "/orders",
            params,
            convert,
            "orders",
            _order_or_id_key,
            held,
            ids,
        )
        return cast("list[LiveOrder]", found), total

    def list_orders(
        self,
        *,
        min_created: int | None = EVERY_ORDER_SINCE,
        min_modified: int | None = None,
        company_id: int | None = None,
    ) -> list[LiveOrder]:
        """Every order matching the filters (``minCreated=1`` by default: all of them)."""
        first = self.orders_page(
            min_created=min_created, min_modified=min_modified, company_id=company_id
        )
        found, _ = self.rest_of_orders(
            first, min_created=min_created, min_modified=min_modified, company_id=company_id
        )
        return list({o.bc_order_id: o for o in found}.values())

    def get_order(self, bc_order_id: int) -> LiveOrder | None:
        """The B2B data of one order, by BigCommerce order id; ``None`` when B2B lacks it."""
        try:
            body = self.http.b2b("GET", f"/orders/{int(bc_order_id)}")
        except NotFoundError:
            return None
        return decode.order(decode.one(body, "order"))

    # -- writes

    def send(self, request: Request, *, idempotent: bool) -> Any:
        """Send a planned write exactly as planned; return the decoded ``data``."""
        if "{" in request.path or "}" in request.path:
            raise UsageError(f"unresolved placeholder in request path {request.path!r}")
        company = request.body.get("companyId") if isinstance(request.body, Mapping) else None
        if isinstance(company, str):
            raise UsageError(f"unresolved placeholder in request body: companyId {company!r}")
        body = self.http.b2b(
            request.method,
            request.path,
            json=request.body if request.method != "GET" else None,
            idempotent=idempotent,
        )
        return decode.data(body)

    @staticmethod
    def created_company_id(data: Any) -> int:
        """The new company's id from a convert/create answer (string or int, object or list)."""
        return decode.created_company_id(data)


def _company_key(company: LiveCompany) -> Hashable:
    return company.company_id


def _config_key(config: ExtraFieldConfig) -> Hashable:
    return config.name


def _user_key(row: UserRow) -> Hashable:
    return row[0]


def _live_user_key(user: LiveUser) -> Hashable:
    return user.user_id


def known_or(known: Mapping[int, LiveCompany], company: LiveCompany) -> LiveCompany:
    """``company``, or the equal object ``known`` holds for its id (one copy of it kept)."""
    same = known.get(company.company_id)
    return same if same is not None and same == company else company


def _order_or_id_key(item: LiveOrder | int) -> Hashable:
    return item if isinstance(item, int) else item.bc_order_id


def _order_key(order: LiveOrder) -> Hashable:
    return order.bc_order_id
