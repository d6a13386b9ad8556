"""The live state's big lists (companies, customers, orders) as columns: their form in the
snapshot file (``reconciler.snapshot``).

A list of 100,000 orders as JSON objects is 100,000 dicts and half a million keys and numbers
to parse before a single ``LiveOrder`` is built (the snapshot of a 50,000-company store took
about 180 MB to read and 124 MB to hold). As columns, each list is one JSON object: a
``count``, and per field either a packed column of ints (``packed.pack``: one string), a list
of strings, or, for fields that are mostly empty, ``[[index, value], ...]`` of the others.
An int field that may be null is ``{"values": packed, "nullAt": packed indexes}``. Reading
builds the live objects straight from the columns, with repeated strings and empty mappings
shared (the objects are frozen) and an order's or a customer's company id the very int of the
company.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain
from operator import attrgetter
from typing import Any, TypeVar, cast

from reconciler.jsontext import Lazy
from reconciler.model import LiveCompany, LiveCustomer, LiveOrder, PriceListAssignment
from reconciler.packed import pack, unpack

T = TypeVar("T")


class ColumnError(ValueError):
    """A column that is not what its list needs (the message names it)."""


# --------------------------------------------------------------------------- writing


def _optional(values: Iterable[int | None]) -> dict[str, str]:
    ints = list(values)
    nulls = [i for i, value in enumerate(ints) if value is None]
    for i in nulls:
        ints[i] = 0
    return {"values": pack(cast("list[int]", ints)), "nullAt": pack(nulls)}


def _sparse(values: Iterable[Any], plain: Callable[[Any], Any] | None = None) -> list[list[Any]]:
    """``[[index, value], ...]`` of the values that are not empty (``plain``: made JSON)."""
    if plain is None:
        return [[i, value] for i, value in enumerate(values) if value]
    return [[i, plain(value)] for i, value in enumerate(values) if value]


def _each(items: Sequence[T], value: Callable[[T], Any]) -> Lazy[T]:
    return Lazy(items, value)


def _pairs(assigned: Iterable[PriceListAssignment]) -> list[list[int]]:
    return [[p.channel_id, p.price_list_id] for p in assigned]


def _extra_fields(company: LiveCompany) -> dict[str, str]:
    return dict(company.extra_fields)


def companies_json(companies: Sequence[LiveCompany]) -> dict[str, Any]:
    """The companies as columns (the string and mapping lists made as they are written)."""
    return {
        "count": len(companies),
        "companyId": pack(map(attrgetter("company_id"), companies)),
        "customerGroupId": _optional(map(attrgetter("customer_group_id"), companies)),
        "companyName": _each(companies, attrgetter("company_name")),
        "companyEmail": _each(companies, attrgetter("company_email")),
        "companyPhone": _each(companies, attrgetter("company_phone")),
        "status": _each(companies, attrgetter("status")),
        "uuid": _sparse(map(attrgetter("uuid"), companies)),
        "catalogId": _each(companies, attrgetter("catalog_id")),
        "priceListAssign": _sparse(map(attrgetter("price_list_assign"), companies), _pairs),
        "extraFields": _each(companies, _extra_fields),
        "address": _sparse(map(attrgetter("address"), companies), dict),
        "updatedAt": pack(map(attrgetter("updated_at"), companies)),
    }


def customers_json(customers: Sequence[LiveCustomer]) -> dict[str, Any]:
    """The customers as columns, their order ids one packed column (``orderCount`` each)."""
    return {
        "count": len(customers),
        "customerId": pack(map(attrgetter("customer_id"), customers)),
        "companyId": _optional(map(attrgetter("company_id"), customers)),
        "userUpdatedAt": _optional(map(attrgetter("user_updated_at"), customers)),
        "orderCount": pack(len(c.order_ids) for c in customers),
        "orderIds": pack(chain.from_iterable(map(attrgetter("order_ids"), customers))),
        "email": [[i, c.email] for i, c in enumerate(customers) if c.email is not None],
    }


def orders_json(orders: Sequence[LiveOrder]) -> dict[str, Any]:
    """The orders as columns."""
    return {
        "count": len(orders),
        "bcOrderId": pack(map(attrgetter("bc_order_id"), orders)),
        "companyId": _optional(map(attrgetter("company_id"), orders)),
        "poNumber": _sparse(map(attrgetter("po_number"), orders)),
        "extraFields": _sparse(map(attrgetter("extra_fields"), orders), dict),
        "updatedAt": pack(map(attrgetter("updated_at"), orders)),
        "createdAt": pack(map(attrgetter("created_at"), orders)),
    }


# --------------------------------------------------------------------------- reading


class _Columns:
    """One list's columns, read field by field with errors that name the field."""

    def __init__(self, data: Any, what: str) -> None:
        if type(data) is not dict:
            raise ColumnError(f"{what}: expected an object of columns")
        count = data.get("count")
        if type(count) is not int or count < 0:
            raise ColumnError(f"{what}.count: expected a count")
        self.data, self.what, self.count = data, what, count
        self.pool: dict[str, str] = {}
        self.empty: dict[str, str] = {}

    def _get(self, name: str) -> Any:
        if name not in self.data:
            raise ColumnError(f"{self.what}.{name}: missing")
        return self.data.pop(name)  # each parsed column let go once its objects are built

    def ints(self, name: str, count: int | None = None) -> Iterator[int]:
        n = self.count if count is None else count
        try:
            return iter(unpack(self._get(name), f"{self.what}.{name}", n))
        except ValueError as exc:
            raise ColumnError(str(exc)) from None

    def optional(self, name: str) -> Iterator[int | None]:
        value = self._get(name)
        where = f"{self.what}.{name}"
        if type(value) is not dict or value.keys() != {"values", "nullAt"}:
            raise ColumnError(f"{where}: expected {{values, nullAt}}")
        try:
            ints = unpack(value["values"], where, self.count)
            nulls = set(unpack(value["nullAt"], f"{where}.nullAt"))
        except ValueError as exc:
            raise ColumnError(str(exc)) from None
        if nulls and not 0 <= min(nulls) <= max(nulls) < self.count:
            raise ColumnError(f"{where}.nullAt: an index out of range")
        return (None if i in nulls else v for i, v in enumerate(ints))

    def strings(self, name: str, *, shared: bool = False) -> list[str]:
        value = self._get(name)
        where = f"{self.what}.{name}"
        if type(value) is not list or len(value) != self.count:
            raise ColumnError(f"{where}: expected {self.count} strings")
        for i, item in enumerate(value):
            if type(item) is not str:
                raise ColumnError(f"{where}[{i}]: expected a string, found {type(item).__name__}")
            if shared:
                value[i] = self.pool.setdefault(item, item)
        return value

    def maps(self, name: str) -> list[Mapping[str, str]]:
        """A dense list of string-to-string objects (the empty ones shared, values pooled)."""
        value = self._get(name)
        where = f"{self.what}.{name}"
        if type(value) is not list or len(value) != self.count:
            raise ColumnError(f"{where}: expected {self.count} objects")
        for i, item in enumerate(value):
            value[i] = self._map(item, f"{where}[{i}]")
        return value

    def _map(self, item: Any, where: str) -> dict[str, str]:
        if type(item) is not dict:
            raise ColumnError(f"{where}: expected an object, found {type(item).__name__}")
        if not item:
            return self.empty
        pool = self.pool
        for key, text in item.items():
            if type(text) is not str:
                raise ColumnError(f"{where}.{key}: expected a string, found {type(text).__name__}")
            item[key] = pool.setdefault(text, text)
        return item

    def sparse(self, name: str, check: Callable[[Any, str], T]) -> dict[int, T]:
        value = self._get(name)
        where = f"{self.what}.{name}"
        if type(value) is not list:
            raise ColumnError(f"{where}: expected [[index, value], ...]")
        out: dict[int, T] = {}
        for row in value:
            if type(row) is not list or len(row) != 2 or type(row[0]) is not int:
                raise ColumnError(f"{where}: expected [[index, value], ...]")
            if not 0 <= row[0] < self.count or row[0] in out:
                raise ColumnError(f"{where}: index {row[0]} out of range or repeated")
            out[row[0]] = check(row[1], f"{where}[{row[0]}]")
        return out

    def sparse_strings(self, name: str) -> dict[int, str]:
        return self.sparse(name, _string)

    def sparse_maps(self, name: str) -> dict[int, Mapping[str, str]]:
        return self.sparse(name, self._map)

    def done(self) -> None:
        extra = sorted(k for k in self.data if k != "count")
        if extra:
            raise ColumnError(f"{self.what}: unknown column {extra[0]!r}")


def _string(value: Any, where: str) -> str:
    if type(value) is not str:
        raise ColumnError(f"{where}: expected a string, found {type(value).__name__}")
    return value


def _assignments(value: Any, where: str) -> tuple[PriceListAssignment, ...]:
    if type(value) is not list or not all(
        type(p) is list and len(p) == 2 and all(type(n) is int for n in p) for p in value
    ):
        raise ColumnError(f"{where}: expected [[channelId, priceListId], ...]")
    return tuple(PriceListAssignment(p[0], p[1]) for p in value)


def companies_from(data: Any, what: str) -> tuple[LiveCompany, ...]:
    """The companies of ``companies_json``; ColumnError naming the column when it is not."""
    cols = _Columns(data, what)
    ids = cols.ints("companyId")
    groups = cols.optional("customerGroupId")
    names = cols.strings("companyName")
    emails = cols.strings("companyEmail")
    phones = cols.strings("companyPhone", shared=True)
    statuses = cols.strings("status", shared=True)
    uuids = cols.sparse_strings("uuid")
    catalogs = cols.strings("catalogId", shared=True)
    assigned = cols.sparse("priceListAssign", _assignments)
    extra = cols.maps("extraFields")
    address = cols.sparse_maps("address")
    updated = cols.ints("updatedAt")
    cols.done()
    empty = cols.empty
    return tuple(
        LiveCompany(
            company_id=company_id,
            customer_group_id=group,
            company_name=name,
            company_email=email,
            company_phone=phone,
            status=status,
            uuid=uuids.get(i, ""),
            catalog_id=catalog,
            price_list_assign=assigned.get(i, ()),
            extra_fields=fields,
            address=address.get(i, empty),
            updated_at=at,
        )
        for i, (company_id, group, name, email, phone, status, catalog, fields, at) in enumerate(
            zip(ids, groups, names, emails, phones, statuses, catalogs, extra, updated, strict=True)
        )
    )


def orders_from(
    data: Any, what: str, companies: Mapping[int, int] | None = None
) -> dict[int, LiveOrder]:
    """The orders of ``orders_json`` by id; ``companies``: company id -> the same int, so that
    each order's company id is the company's own int object rather than one more."""
    cols = _Columns(data, what)
    ids = cols.ints("bcOrderId")
    owners = cols.optional("companyId")
    po_numbers = cols.sparse_strings("poNumber")
    extra = cols.sparse_maps("extraFields")
    updated = cols.ints("updatedAt")
    created = cols.ints("createdAt")
    cols.done()
    same = companies or {}
    empty = cols.empty
    out: dict[int, LiveOrder] = {}
    for i, (order_id, owner, at, made) in enumerate(
        zip(ids, owners, updated, created, strict=True)
    ):
        if order_id in out:
            raise ColumnError(f"{what}.bcOrderId: order {order_id} twice")
        out[order_id] = LiveOrder(
            bc_order_id=order_id,
            company_id=owner if owner is None else same.get(owner, owner),
            po_number=po_numbers.get(i, ""),
            extra_fields=extra.get(i, empty),
            updated_at=at,
            created_at=made,
        )
    return out


def customers_from(
    data: Any, what: str, orders: Mapping[int, LiveOrder] | None = None
) -> dict[int, LiveCustomer]:
    """The customers of ``customers_json`` by id; an order id that ``orders`` holds is that
    order's own int object."""
    cols = _Columns(data, what)
    ids = cols.ints("customerId")
    owners = cols.optional("companyId")
    stamps = cols.optional("userUpdatedAt")
    counts = list(cols.ints("orderCount"))
    if any(n < 0 for n in counts):
        raise ColumnError(f"{what}.orderCount: a negative count")
    order_ids = cols.ints("orderIds", sum(counts))
    emails = cols.sparse_strings("email")
    cols.done()
    known = orders or {}
    out: dict[int, LiveCustomer] = {}
    for i, (customer_id, owner, at, n) in enumerate(zip(ids, owners, stamps, counts, strict=True)):
        if customer_id in out:
            raise ColumnError(f"{what}.customerId: customer {customer_id} twice")
        mine = []
        for _ in range(n):
            order_id = next(order_ids)
            order = known.get(order_id)
            mine.append(order_id if order is None else order.bc_order_id)
        out[customer_id] = LiveCustomer(
            customer_id=customer_id,
            company_id=owner,
            user_updated_at=at,
            order_ids=tuple(mine),
            email=emails.get(i),
        )
    return out
