"""Seed and dump, one shape (CONTRACT.md "Sandbox seed and dump"); every key optional.

``load_seed`` validates the whole seed first, writes it in one transaction (upserting by id:
groups, customers, price lists, channels and companies by ``id``/``companyId``, users by
``customerId``, orders by ``bcOrderId``, extra-field configs by kind and ``fieldName``, price-list
assignments by ``id`` or by their (customer group, channel) pair), then
checks references and rolls everything back on the first dangling one. ``dump`` returns the
same shape, so seed -> dump -> seed is the identity on state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .errors import SandboxError
from .extrafields import KINDS, value_text
from .quirks import validate_quirks
from .store import BEHAVIORS, HELD_B2B, HELD_CORE, HELD_RECORDED, Store

TOP_KEYS = (
    "store",
    "quirks",
    "customerGroups",
    "customers",
    "priceLists",
    "channels",
    "companies",
    "users",
    "orders",
    "extraFieldConfigs",
    "priceListAssignments",
    "faults",
)
STORE_KEYS = ("hash", "companiesBehavior", "multiStorefront", "accessToken", "quirks")
ADDRESS_KEYS = ("addressLine1", "addressLine2", "city", "state", "zipCode", "country")
HASH_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MISSING = object()


# -- field readers -------------------------------------------------------------------------


def _mapping(raw: object, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise SandboxError(f"{where}: expected a mapping")
    return raw


def _list(raw: object, where: str) -> Sequence[Any]:
    if raw is None:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise SandboxError(f"{where}: expected a list")
    return raw


def _check_keys(item: Mapping[str, Any], where: str, allowed: Sequence[str]) -> None:
    for key in item:
        if key not in allowed:
            raise SandboxError(f"{where}: unknown key {key!r} (known: {', '.join(allowed)})")


def _int(
    item: Mapping[str, Any],
    key: str,
    where: str,
    default: object = _MISSING,
    *,
    nullable: bool = False,
) -> Any:
    """An integer field; ``default`` when absent (required when no default is given)."""
    value = item.get(key, _MISSING)
    if value is _MISSING or (value is None and not nullable):
        if default is _MISSING:
            raise SandboxError(f"{where}: {key} is required")
        return default
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SandboxError(f"{where}.{key}: expected an integer, got {value!r}")
    return value


def _num(item: Mapping[str, Any], key: str, where: str, default: object) -> Any:
    value = item.get(key, default)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise SandboxError(f"{where}.{key}: expected a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SandboxError(f"{where}.{key}: expected a number, got {value!r}")
    return value


def _str(item: Mapping[str, Any], key: str, where: str, default: object = "") -> Any:
    value = item.get(key, default)
    if value is _MISSING:
        raise SandboxError(f"{where}: {key} is required")
    if value is None and default is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise SandboxError(f"{where}.{key}: expected a string, got {value!r}")
    return value


def _bool(item: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        raise SandboxError(f"{where}.{key}: expected true or false, got {value!r}")
    return value


def _values(raw: object, where: str) -> dict[str, str]:
    """Extra-field values: a mapping name -> value, or ``[{fieldName, fieldValue}]``."""
    if raw is None:
        return {}
    pairs: list[tuple[object, object]]
    if isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        pairs = []
        for i, item in enumerate(raw):
            entry = _mapping(item, f"{where}[{i}]")
            pairs.append((entry.get("fieldName"), entry.get("fieldValue")))
    else:
        raise SandboxError(f"{where}: expected a mapping of fieldName to value")
    out: dict[str, str] = {}
    for name, value in pairs:
        text = value_text(value)
        if not isinstance(name, str) or not name or text is None:
            raise SandboxError(f"{where}: {name!r} needs a string or number value")
        out[name] = text
    return out


def _times(item: Mapping[str, Any], where: str, now: int) -> tuple[int, int]:
    created = _int(item, "createdAt", where, now)
    updated = _int(item, "updatedAt", where, created)
    return created, updated


# -- loading -------------------------------------------------------------------------------


def validate_seed(seed: object) -> Mapping[str, Any]:
    """Check the top level (a mapping of known keys)."""
    if seed is None:
        return {}
    top = _mapping(seed, "seed")
    for key in top:
        if key not in TOP_KEYS:
            raise SandboxError(f"seed: unknown key {key!r} (known: {', '.join(TOP_KEYS)})")
    return top


def load_seed(store: Store, seed: object, now: int) -> None:
    """Add or replace state from ``seed`` (faults are applied by the caller)."""
    top = validate_seed(seed)
    writes: list[Callable[[], None]] = []
    writes.append(_store_writer(store, top))
    now += _clock_skew(store, top)  # a time a seed leaves out is the store's now
    writes.append(_simple(store, top, "customerGroups", _group_row, "customer_groups", now))
    writes.append(_simple(store, top, "customers", _customer_row, "customers", now))
    writes.append(_simple(store, top, "priceLists", _price_list_row, "price_lists", now))
    writes.append(_simple(store, top, "channels", _channel_row, "channels", now))
    writes.append(_companies(store, top, now))
    writes.append(_users(store, top, now))
    writes.append(_orders(store, top, now))
    writes.append(_configs(store, top))
    writes.append(_assignments(store, top))
    if top.get("faults") is not None:
        rules = json.loads(json.dumps(_list(top["faults"], "faults")))
        writes.append(lambda: _write_faults(store, rules))
    with store.transaction():
        for write in writes:
            write()
        _check_references(store)
    store.invalidate()


def _clock_skew(store: Store, top: Mapping[str, Any]) -> int:
    """The store's ``clockSkew`` once ``top`` is loaded (its store section already checked)."""
    quirks = store.stored_quirks() if store.has_store() else {}
    if top.get("store") is not None:
        quirks.update(validate_quirks(top["store"].get("quirks"), "store.quirks"))
    quirks.update(validate_quirks(top.get("quirks"), "quirks"))
    return int(quirks.get("clockSkew", 0))


def _write_faults(store: Store, rules: list[Any]) -> None:
    store.execute("DELETE FROM faults")
    store.executemany(
        "INSERT INTO faults (position, rule) VALUES (?, ?)",
        [(i, json.dumps(rule)) for i, rule in enumerate(rules)],
    )


def _store_writer(store: Store, top: Mapping[str, Any]) -> Callable[[], None]:
    sets: dict[str, Any] = {}
    quirks: dict[str, Any] = {}
    if top.get("store") is not None:
        section = _mapping(top["store"], "store")
        _check_keys(section, "store", STORE_KEYS)
        if "hash" in section:
            value = section["hash"]
            if not isinstance(value, str) or not HASH_RE.match(value):
                raise SandboxError("store.hash: expected letters, digits, '-' or '_' (1-64)")
            sets["hash"] = value
        if "companiesBehavior" in section:
            value = section["companiesBehavior"]
            if value not in BEHAVIORS:
                raise SandboxError("store.companiesBehavior: must be dependent or independent")
            sets["behavior"] = value
        if "multiStorefront" in section:
            sets["msf"] = int(_bool(section, "multiStorefront", "store", False))
        if "accessToken" in section:
            token = _str(section, "accessToken", "store", None)
            sets["access_token"] = token or None
        quirks.update(validate_quirks(section.get("quirks"), "store.quirks"))
    quirks.update(validate_quirks(top.get("quirks"), "quirks"))

    def write() -> None:
        if sets:
            assignments = ", ".join(f"{column} = ?" for column in sets)
            store.execute(f"UPDATE store SET {assignments} WHERE id = 1", list(sets.values()))
        if quirks:
            merged = {**store.stored_quirks(), **quirks}
            store.execute("UPDATE store SET quirks = ? WHERE id = 1", (json.dumps(merged),))

    return write


RowMaker = Callable[[Mapping[str, Any], str, int], tuple[Any, ...]]


def _group_row(item: Mapping[str, Any], where: str, now: int) -> tuple[Any, ...]:
    _check_keys(item, where, ("id", "name", "isDefault", "createdAt", "updatedAt"))
    created, updated = _times(item, where, now)
    return (
        _int(item, "id", where),
        _str(item, "name", where, _MISSING),
        int(_bool(item, "isDefault", where, False)),
        created,
        updated,
    )


def _customer_row(item: Mapping[str, Any], where: str, now: int) -> tuple[Any, ...]:
    _check_keys(
        item,
        where,
        (
            "id",
            "email",
            "firstName",
            "lastName",
            "phone",
            "customerGroupId",
            "createdAt",
            "updatedAt",
        ),
    )
    created, updated = _times(item, where, now)
    group = _int(item, "customerGroupId", where, None, nullable=True)
    return (
        _int(item, "id", where),
        _str(item, "email", where),
        _str(item, "firstName", where),
        _str(item, "lastName", where),
        _str(item, "phone", where),
        group or None,
        created,
        updated,
    )


def _price_list_row(item: Mapping[str, Any], where: str, now: int) -> tuple[Any, ...]:
    _check_keys(item, where, ("id", "name", "active", "createdAt", "updatedAt"))
    created, updated = _times(item, where, now)
    return (
        _int(item, "id", where),
        _str(item, "name", where, _MISSING),
        int(_bool(item, "active", where, True)),
        created,
        updated,
    )


def _channel_row(item: Mapping[str, Any], where: str, now: int) -> tuple[Any, ...]:
    _check_keys(
        item,
        where,
        ("id", "name", "type", "platform", "status", "b2bEnabled", "createdAt", "updatedAt"),
    )
    created, updated = _times(item, where, now)
    return (
        _int(item, "id", where),
        _str(item, "name", where, _MISSING),
        _str(item, "type", where, "storefront"),
        _str(item, "platform", where, "bigcommerce"),
        _str(item, "status", where, "active"),
        int(_bool(item, "b2bEnabled", where, True)),
        created,
        updated,
    )


_SIMPLE_COLUMNS = {
    "customer_groups": "id, name, is_default, created_at, updated_at",
    "customers": (
        "id, email, first_name, last_name, phone, customer_group_id, created_at, updated_at"
    ),
    "price_lists": "id, name, active, created_at, updated_at",
    "channels": "id, name, type, platform, status, b2b_enabled, created_at, updated_at",
}


def _simple(
    store: Store, top: Mapping[str, Any], key: str, make: RowMaker, table: str, now: int
) -> Callable[[], None]:
    items = _list(top.get(key), key)
    rows = [make(_mapping(item, f"{key}[{i}]"), f"{key}[{i}]", now) for i, item in enumerate(items)]
    columns = _SIMPLE_COLUMNS[table]
    marks = ",".join("?" * len(columns.split(",")))

    def write() -> None:
        store.executemany(f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({marks})", rows)

    return write


COMPANY_KEYS = (
    "companyId",
    "customerGroupId",
    "companyName",
    "companyEmail",
    "companyPhone",
    "companyStatus",
    "uuid",
    "catalogId",
    "priceListAssign",
    "address",
    "extraFields",
    "createdAt",
    "updatedAt",
)


def _companies(store: Store, top: Mapping[str, Any], now: int) -> Callable[[], None]:
    items = _list(top.get("companies"), "companies")
    rows: list[list[Any]] = []
    for i, raw in enumerate(items):
        where = f"companies[{i}]"
        item = _mapping(raw, where)
        _check_keys(item, where, COMPANY_KEYS)
        status = _int(item, "companyStatus", where, 1)
        if status not in (0, 1, 2, 3, 4):
            raise SandboxError(f"{where}.companyStatus: must be 0..4")
        address = _mapping(item.get("address") or {}, f"{where}.address")
        _check_keys(address, f"{where}.address", ADDRESS_KEYS)
        assign = []
        for j, entry in enumerate(_list(item.get("priceListAssign"), f"{where}.priceListAssign")):
            spot = f"{where}.priceListAssign[{j}]"
            entry = _mapping(entry, spot)
            _check_keys(entry, spot, ("channelId", "priceListId"))
            assign.append(
                {
                    "channelId": _int(entry, "channelId", spot),
                    "priceListId": _int(entry, "priceListId", spot),
                }
            )
        created, updated = _times(item, where, now)
        group = _int(item, "customerGroupId", where, None, nullable=True)
        rows.append(
            [
                _int(item, "companyId", where, None, nullable=True),
                _str(item, "companyName", where, _MISSING),
                _str(item, "companyEmail", where),
                _str(item, "companyPhone", where),
                status,
                _str(item, "uuid", where),
                _str(item, "catalogId", where),
                group or None,
                json.dumps(
                    {k: _str(address, k, f"{where}.address") for k in address if address[k]}
                ),
                json.dumps(_values(item.get("extraFields"), f"{where}.extraFields")),
                json.dumps(assign),
                created,
                updated,
            ]
        )

    def write() -> None:
        next_id = max([store.next_id("companies")] + [r[0] + 1 for r in rows if r[0] is not None])
        for row in rows:
            if row[0] is None:
                row[0], next_id = next_id, next_id + 1
        store.executemany(
            "INSERT OR REPLACE INTO companies (id, name, email, phone, status, uuid, catalog_id,"
            " customer_group_id, address, extra_fields, price_list_assign, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )

    return write


USER_KEYS = (
    "id",
    "customerId",
    "companyId",
    "role",
    "uuid",
    "extraFields",
    "channelIds",
    "createdAt",
    "updatedAt",
)


def _channel_ids(raw: object, where: str) -> list[int] | None:
    """A user's ``channelIds``: a non-empty list of channel ids (None when absent)."""
    if raw is None:
        return None
    out: list[int] = []
    for i, value in enumerate(_list(raw, where)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SandboxError(f"{where}[{i}]: expected a channel id, got {value!r}")
        if value not in out:
            out.append(value)
    if not out:
        raise SandboxError(f"{where}: a company user needs at least one channel")
    return out


def _users(store: Store, top: Mapping[str, Any], now: int) -> Callable[[], None]:
    items = _list(top.get("users"), "users")
    rows: list[list[Any]] = []
    for i, raw in enumerate(items):
        where = f"users[{i}]"
        item = _mapping(raw, where)
        _check_keys(item, where, USER_KEYS)
        role = _int(item, "role", where, 0)
        if role < 0:
            raise SandboxError(f"{where}.role: must be 0 (admin), 1 (senior) or 2 (junior buyer)")
        created, updated = _times(item, where, now)
        rows.append(
            [
                _int(item, "id", where, None, nullable=True),
                _int(item, "customerId", where),
                _int(item, "companyId", where),
                role,
                _str(item, "uuid", where),
                json.dumps(_values(item.get("extraFields"), f"{where}.extraFields")),
                created,
                updated,
                _channel_ids(item.get("channelIds"), f"{where}.channelIds"),
            ]
        )

    def write() -> None:
        existing = {
            r["customer_id"]: r["id"] for r in store.rows("SELECT id, customer_id FROM users")
        }
        # a user seeded without channels is on every B2B-enabled channel (as company admins are)
        every = json.dumps(
            [r["id"] for r in store.rows("SELECT id FROM channels WHERE b2b_enabled = 1")]
        )
        for row in rows:
            row[8] = every if row[8] is None else json.dumps(row[8])
        next_id = max([store.next_id("users")] + [r[0] + 1 for r in rows if r[0] is not None])
        for row in rows:
            if row[0] is None:
                if row[1] in existing:
                    row[0] = existing[row[1]]
                else:
                    row[0], next_id = next_id, next_id + 1
        store.executemany(
            "INSERT OR REPLACE INTO users (id, customer_id, company_id, role, uuid, extra_fields,"
            " created_at, updated_at, channel_ids) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )

    return write


ORDER_KEYS = (
    "id",
    "bcOrderId",
    "customerId",
    "companyId",
    "poNumber",
    "extraFields",
    "channelId",
    "status",
    "statusCode",
    "totalIncTax",
    "currencyCode",
    "items",
    "products",
    "createdAt",
    "updatedAt",
    "inCore",
    "inB2b",
    "recordedByB2b",
)


def _orders(store: Store, top: Mapping[str, Any], now: int) -> Callable[[], None]:
    items = _list(top.get("orders"), "orders")
    rows: list[list[Any]] = []
    allowed = frozenset(ORDER_KEYS)
    for i, raw in enumerate(items):
        where = f"orders[{i}]"
        item = _mapping(raw, where)
        if not allowed.issuperset(item):
            _check_keys(item, where, ORDER_KEYS)
        extra = item.get("extraFields")
        products = item.get("products")
        created, updated = _times(item, where, now)
        rows.append(
            [
                _int(item, "id", where, None, nullable=True),
                _int(item, "bcOrderId", where),
                _int(item, "customerId", where, 0),
                _int(item, "companyId", where, None, nullable=True),
                _str(item, "poNumber", where),
                json.dumps(_values(extra, f"{where}.extraFields")) if extra else "{}",
                _int(item, "channelId", where, 1),
                _str(item, "status", where, "Pending"),
                _int(item, "statusCode", where, 1),
                float(_num(item, "totalIncTax", where, 0.0)),
                _str(item, "currencyCode", where, "USD"),
                _int(item, "items", where, 0),
                json.dumps(_list(products, f"{where}.products")) if products else "[]",
                created,
                updated,
                _held(item, where),
            ]
        )

    def write() -> None:
        existing: dict[int, int] = {}
        if store.scalar("SELECT COUNT(*) FROM orders"):
            existing = {r[0]: r[1] for r in store.rows("SELECT bc_order_id, id FROM orders")}
        next_id = max([store.next_id("orders")] + [r[0] + 1 for r in rows if r[0] is not None])
        for row in rows:
            if row[0] is None:
                found = existing.get(row[1])
                if found is not None:
                    row[0] = found
                else:
                    row[0], next_id = next_id, next_id + 1
        store.executemany(
            "INSERT OR REPLACE INTO orders (id, bc_order_id, customer_id, company_id, po_number,"
            " extra_fields, channel_id, status, status_code, total_inc_tax, currency_code, items,"
            " products, created_at, updated_at, held) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )

    return write


def _held(item: Mapping[str, Any], where: str) -> int:
    """``orders.held`` from ``inCore``/``inB2b`` (both true by default): an order one side
    deleted alone (``Sandbox.delete_orders(side=...)``); ``recordedByB2b`` (default false): B2B
    Edition made its record itself (``POST /orders``), so it knows the order whatever
    ``ordersSyncLag`` says and its ``updatedAt`` is its own (``lateSyncStampsSyncTime``)."""
    held = (HELD_CORE if _bool(item, "inCore", where, True) else 0) | (
        HELD_B2B if _bool(item, "inB2b", where, True) else 0
    )
    if not held:
        raise SandboxError(f"{where}: inCore and inB2b are both false (leave the order out)")
    return held | (HELD_RECORDED if _bool(item, "recordedByB2b", where, False) else 0)


CONFIG_KEYS = (
    "id",
    "fieldName",
    "fieldType",
    "isRequired",
    "isUnique",
    "visibleToEnduser",
    "configType",
    "defaultValue",
    "labelName",
    "maximumLength",
    "numberOfRows",
    "maximumValue",
    "listOfValue",
    "listOfValues",
    "uuid",
)


def _limit(item: Mapping[str, Any], key: str, where: str) -> int | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    number = _num(item, key, where, None)
    if number is None or number < 0 or not float(number).is_integer():
        raise SandboxError(f"{where}.{key}: expected a whole number")
    return int(number)


def _configs(store: Store, top: Mapping[str, Any]) -> Callable[[], None]:
    raw = top.get("extraFieldConfigs")
    rows: list[list[Any]] = []
    if raw is not None:
        section = _mapping(raw, "extraFieldConfigs")
        _check_keys(section, "extraFieldConfigs", KINDS)
        for kind in KINDS:
            for i, entry in enumerate(_list(section.get(kind), f"extraFieldConfigs.{kind}")):
                where = f"extraFieldConfigs.{kind}[{i}]"
                item = _mapping(entry, where)
                _check_keys(item, where, CONFIG_KEYS)
                field_type = _int(item, "fieldType", where, 0)
                if field_type not in (0, 1, 2, 3):
                    raise SandboxError(f"{where}.fieldType: must be 0 (text), 1, 2 or 3")
                values = item.get("listOfValues", item.get("listOfValue")) or []
                if not isinstance(values, list) or any(value_text(v) is None for v in values):
                    raise SandboxError(f"{where}.listOfValues: expected a list of strings")
                maximum_value = _num(item, "maximumValue", where, None)
                rows.append(
                    [
                        _int(item, "id", where, None, nullable=True),
                        kind,
                        _str(item, "fieldName", where, _MISSING),
                        field_type,
                        int(_bool(item, "isRequired", where, False)),
                        int(_bool(item, "isUnique", where, False)),
                        int(_bool(item, "visibleToEnduser", where, True)),
                        _int(item, "configType", where, 2),
                        _str(item, "defaultValue", where),
                        _str(item, "labelName", where),
                        _limit(item, "maximumLength", where),
                        _limit(item, "numberOfRows", where),
                        None if maximum_value is None else float(maximum_value),
                        json.dumps([value_text(v) for v in values]),
                        _str(item, "uuid", where),
                    ]
                )

    def write() -> None:
        existing = {
            (r["kind"], r["field_name"]): r["id"]
            for r in store.rows("SELECT id, kind, field_name FROM extra_field_configs")
        }
        next_id = max(
            [store.next_id("extra_field_configs")] + [r[0] + 1 for r in rows if r[0] is not None]
        )
        for row in rows:
            if row[0] is None:
                found = existing.get((row[1], row[2]))
                if found is not None:
                    row[0] = found
                else:
                    row[0], next_id = next_id, next_id + 1
        store.executemany(
            "INSERT OR REPLACE INTO extra_field_configs (id, kind, field_name, field_type,"
            " is_required, is_unique, visible_to_enduser, config_type, default_value, label_name,"
            " maximum_length, number_of_rows, maximum_value, list_of_values, uuid)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )

    return write


ASSIGNMENT_KEYS = ("id", "priceListId", "customerGroupId", "channelId")


def _assignments(store: Store, top: Mapping[str, Any]) -> Callable[[], None]:
    """``priceListAssignments``: core price-list assignments (absent group/channel: none)."""
    items = _list(top.get("priceListAssignments"), "priceListAssignments")
    rows: list[list[Any]] = []
    pairs: dict[tuple[Any, Any], int] = {}
    for i, raw in enumerate(items):
        where = f"priceListAssignments[{i}]"
        item = _mapping(raw, where)
        _check_keys(item, where, ASSIGNMENT_KEYS)
        group = _int(item, "customerGroupId", where, None, nullable=True)
        channel = _int(item, "channelId", where, None, nullable=True)
        if (group, channel) in pairs:
            raise SandboxError(
                f"{where}: customer group {group} on channel {channel} is already assigned by"
                f" priceListAssignments[{pairs[(group, channel)]}] (one price list per pair)"
            )
        pairs[(group, channel)] = i
        rows.append(
            [
                _int(item, "id", where, None, nullable=True),
                _int(item, "priceListId", where),
                group,
                channel,
            ]
        )

    def write() -> None:
        existing = {
            (r["customer_group_id"], r["channel_id"]): r["id"]
            for r in store.rows("SELECT * FROM price_list_assignments")
        }
        next_id = max(
            [store.next_id("price_list_assignments")] + [r[0] + 1 for r in rows if r[0] is not None]
        )
        for row in rows:
            if row[0] is None:
                found = existing.get((row[2], row[3]))
                if found is not None:
                    row[0] = found
                else:
                    row[0], next_id = next_id, next_id + 1
        # INSERT OR REPLACE also drops a stored row holding the same pair under another id
        store.executemany(
            "INSERT OR REPLACE INTO price_list_assignments (id, price_list_id, customer_group_id,"
            " channel_id) VALUES (?,?,?,?)",
            rows,
        )

    return write


_REFERENCES = (
    (
        "users: customerId {0} is not among customers",
        "SELECT u.customer_id FROM users u LEFT JOIN customers c ON c.id = u.customer_id"
        " WHERE c.id IS NULL LIMIT 1",
    ),
    (
        "users: companyId {0} is not among companies",
        "SELECT u.company_id FROM users u LEFT JOIN companies c ON c.id = u.company_id"
        " WHERE c.id IS NULL LIMIT 1",
    ),
    (
        "users: channelId {0} is not among channels",
        "SELECT j.value FROM users u, json_each(u.channel_ids) j"
        " WHERE j.value NOT IN (SELECT id FROM channels) LIMIT 1",
    ),
    (
        "companies: customerGroupId {0} is not among customerGroups",
        "SELECT c.customer_group_id FROM companies c LEFT JOIN customer_groups g"
        " ON g.id = c.customer_group_id WHERE c.customer_group_id IS NOT NULL AND g.id IS NULL"
        " LIMIT 1",
    ),
    (
        "customers: customerGroupId {0} is not among customerGroups",
        "SELECT c.customer_group_id FROM customers c LEFT JOIN customer_groups g"
        " ON g.id = c.customer_group_id WHERE c.customer_group_id IS NOT NULL AND g.id IS NULL"
        " LIMIT 1",
    ),
    (
        "orders: companyId {0} is not among companies",
        "SELECT o.company_id FROM orders o LEFT JOIN companies c ON c.id = o.company_id"
        " WHERE o.company_id IS NOT NULL AND c.id IS NULL LIMIT 1",
    ),
    (
        "orders: customerId {0} is not among customers (use 0 for guest orders)",
        "SELECT o.customer_id FROM orders o LEFT JOIN customers c ON c.id = o.customer_id"
        " WHERE o.customer_id != 0 AND c.id IS NULL LIMIT 1",
    ),
    (
        "orders: channelId {0} is not among channels",
        "SELECT o.channel_id FROM orders o LEFT JOIN channels c ON c.id = o.channel_id"
        " WHERE c.id IS NULL LIMIT 1",
    ),
    (
        "priceListAssignments: priceListId {0} is not among priceLists",
        "SELECT a.price_list_id FROM price_list_assignments a LEFT JOIN price_lists p"
        " ON p.id = a.price_list_id WHERE p.id IS NULL LIMIT 1",
    ),
    (
        "priceListAssignments: customerGroupId {0} is not among customerGroups",
        "SELECT a.customer_group_id FROM price_list_assignments a LEFT JOIN customer_groups g"
        " ON g.id = a.customer_group_id WHERE a.customer_group_id IS NOT NULL AND g.id IS NULL"
        " LIMIT 1",
    ),
    (
        "priceListAssignments: channelId {0} is not among channels",
        "SELECT a.channel_id FROM price_list_assignments a LEFT JOIN channels c"
        " ON c.id = a.channel_id WHERE a.channel_id IS NOT NULL AND c.id IS NULL LIMIT 1",
    ),
)


def _check_references(store: Store) -> None:
    for message, sql in _REFERENCES:
        found = store.row(sql)
        if found is not None:
            raise SandboxError(message.format(found[0]))


# -- dumping -------------------------------------------------------------------------------


def _loads(text: str) -> Any:
    return json.loads(text)


def dump(store: Store) -> dict[str, Any]:
    """The whole state in the seed's shape (faults are added by the caller)."""
    with store.lock:
        settings = store.settings
        out: dict[str, Any] = {
            "store": {
                "hash": settings.hash,
                "companiesBehavior": settings.behavior,
                "multiStorefront": settings.msf,
                "accessToken": settings.access_token,
                "quirks": store.stored_quirks(),
            }
        }
        out["customerGroups"] = [
            {
                "id": r["id"],
                "name": r["name"],
                **({"isDefault": True} if r["is_default"] else {}),
                "createdAt": r["created_at"],
                "updatedAt": r["updated_at"],
            }
            for r in store.rows("SELECT * FROM customer_groups ORDER BY id")
        ]
        out["customers"] = [
            {
                "id": r["id"],
                "email": r["email"],
                "firstName": r["first_name"],
                "lastName": r["last_name"],
                "phone": r["phone"],
                "customerGroupId": r["customer_group_id"],
                "createdAt": r["created_at"],
                "updatedAt": r["updated_at"],
            }
            for r in store.rows("SELECT * FROM customers ORDER BY id")
        ]
        out["priceLists"] = [
            {
                "id": r["id"],
                "name": r["name"],
                "active": bool(r["active"]),
                "createdAt": r["created_at"],
                "updatedAt": r["updated_at"],
            }
            for r in store.rows("SELECT * FROM price_lists ORDER BY id")
        ]
        out["channels"] = [
            {
                "id": r["id"],
                "name": r["name"],
                "type": r["type"],
                "platform": r["platform"],
                "status": r["status"],
                "b2bEnabled": bool(r["b2b_enabled"]),
                "createdAt": r["created_at"],
                "updatedAt": r["updated_at"],
            }
            for r in store.rows("SELECT * FROM channels ORDER BY id")
        ]
        out["companies"] = [
            {
                "companyId": r["id"],
                "customerGroupId": r["customer_group_id"],
                "companyName": r["name"],
                "companyEmail": r["email"],
                "companyPhone": r["phone"],
                "companyStatus": r["status"],
                "uuid": r["uuid"],
                "catalogId": r["catalog_id"],
                "priceListAssign": _loads(r["price_list_assign"]),
                "address": _loads(r["address"]),
                "extraFields": _loads(r["extra_fields"]),
                "createdAt": r["created_at"],
                "updatedAt": r["updated_at"],
            }
            for r in store.rows("SELECT * FROM companies ORDER BY id")
        ]
        out["users"] = [
            {
                "id": r["id"],
                "customerId": r["customer_id"],
                "companyId": r["company_id"],
                "role": r["role"],
                "uuid": r["uuid"],
                "extraFields": _loads(r["extra_fields"]),
                "channelIds": _loads(r["channel_ids"]),
                "createdAt": r["created_at"],
                "updatedAt": r["updated_at"],
            }
            for r in store.rows("SELECT * FROM users ORDER BY id")
        ]
        orders = []
        for r in store.rows("SELECT * FROM orders ORDER BY id"):
            order = {
                "id": r["id"],
                "bcOrderId": r["bc_order_id"],
                "customerId": r["customer_id"],
                "companyId": r["company_id"],
                "poNumber": r["po_number"],
                "extraFields": _loads(r["extra_fields"]),
                "channelId": r["channel_id"],
                "status": r["status"],
                "statusCode": r["status_code"],
                "totalIncTax": r["total_inc_tax"],
                "currencyCode": r["currency_code"],
                "items": r["items"],
                "createdAt": r["created_at"],
                "updatedAt": r["updated_at"],
            }
            if r["products"] != "[]":
                order["products"] = _loads(r["products"])
            if not r["held"] & HELD_CORE:
                order["inCore"] = False
            if not r["held"] & HELD_B2B:
                order["inB2b"] = False
            if r["held"] & HELD_RECORDED:
                order["recordedByB2b"] = True
            orders.append(order)
        out["orders"] = orders
        configs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
        for r in store.rows("SELECT * FROM extra_field_configs ORDER BY id"):
            entry: dict[str, Any] = {
                "id": r["id"],
                "fieldName": r["field_name"],
                "fieldType": r["field_type"],
                "isRequired": bool(r["is_required"]),
                "isUnique": bool(r["is_unique"]),
                "visibleToEnduser": bool(r["visible_to_enduser"]),
                "configType": r["config_type"],
                "defaultValue": r["default_value"],
                "labelName": r["label_name"],
                "maximumLength": r["maximum_length"],
                "numberOfRows": r["number_of_rows"],
                "maximumValue": r["maximum_value"],
                ("listOfValues" if r["kind"] == "order" else "listOfValue"): _loads(
                    r["list_of_values"]
                ),
                "uuid": r["uuid"],
            }
            configs[r["kind"]].append(entry)
        out["extraFieldConfigs"] = configs
        out["priceListAssignments"] = [
            {
                "id": r["id"],
                "priceListId": r["price_list_id"],
                "customerGroupId": r["customer_group_id"],
                "channelId": r["channel_id"],
            }
            for r in store.rows("SELECT * FROM price_list_assignments ORDER BY id")
        ]
        return out


def stored_faults(store: Store) -> list[Any]:
    return [json.loads(r["rule"]) for r in store.rows("SELECT rule FROM faults ORDER BY position")]
