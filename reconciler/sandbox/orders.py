"""Orders (§5): list (365-day default window), detail, update, create, products, configs,
reassign (Dependent only) and assign."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .common import (
    Ctx,
    choice_arg,
    fragments,
    int_arg,
    json_object_sql,
    num_arg,
    pagination,
    paging,
    parse_int,
    spliced,
    sql_text,
    text_field,
)
from .extrafields import check_values, configs, extra_field_error, parse_submitted
from .http import HttpError, Request, Response, b2b_error, param_error
from .store import HELD_B2B, HELD_CORE, HELD_RECORDED, Store
from .users import config_page

YEAR = 365 * 24 * 3600
MONEY = {
    "currencyLocation": "left",
    "currencyToken": "$",
    "decimalToken": ".",
    "decimalPlaces": 2,
    "thousandsToken": ",",
}
LEGACY = (
    *(f"extraInt{i}" for i in range(1, 6)),
    *(f"extraStr{i}" for i in range(1, 6)),
    "extraText",
)
DATE_FILTERS = (
    ("minModified", "updated_at", ">="),
    ("maxModified", "updated_at", "<="),
    ("minCreated", "created_at", ">="),
    ("maxCreated", "created_at", "<="),
)


def order_not_found(message: str) -> HttpError:
    return b2b_error(404, message)


def user_missing(message: str) -> HttpError:
    return b2b_error(404, message)


def order_error(message: str) -> HttpError:
    """422 in the orders shape (message repeated in ``data.errMsg``)."""
    return extra_field_error("order", message)


_MONEY_SQL = "json(" + sql_text(json.dumps([MONEY], separators=(",", ":"))) + ")"
_ORDER_EXTRA_FIELDS = (
    "json((SELECT json_group_array(json_object('fieldName', e.key, 'fieldValue', e.value))"
    " FROM json_each(o.extra_fields) e))"
)


def order_sql(ctx: Ctx, *, detail: bool, extra: bool) -> str:
    """``SELECT <order JSON>, o.id`` for the ids bound as a JSON array (§5.3, integer ids)."""
    company = "COALESCE(o.company_id, 0)" if ctx.quirks["ordersNoCompanyAsZero"] else "o.company_id"
    pairs = [
        ("id", "o.id"),
        ("bcOrderId", "o.bc_order_id"),
        ("totalIncTax", "o.total_inc_tax"),
        ("poNumber", "o.po_number"),
        ("status", "o.status"),
        ("customStatus", "o.status"),
        ("cartId", "''"),
        ("items", "o.items"),
        ("usdIncTax", "o.total_inc_tax"),
        ("companyId", company),
        ("currencyCode", "o.currency_code"),
        ("money", _MONEY_SQL),
        ("statusCode", "o.status_code"),
        ("isArchived", "json('false')"),
        ("channelId", "o.channel_id"),
        ("channelName", "COALESCE(ch.name, '')"),
    ]
    if extra and not detail:
        pairs += [(name, "NULL") for name in LEGACY]
    if extra or detail:
        pairs += [("extraInfo", "json('[]')"), ("extraFields", _ORDER_EXTRA_FIELDS)]
    if detail:
        pairs += [
            ("isInvoiceOrder", "0"),
            ("invoiceId", "NULL"),
            ("invoiceNumber", "NULL"),
            ("invoiceStatus", "NULL"),
        ]
    pairs += [("createdAt", "o.created_at"), ("updatedAt", b2b_updated(ctx, "o."))]
    return (
        f"SELECT {json_object_sql(pairs)}, o.id FROM orders o"
        " LEFT JOIN channels ch ON ch.id = o.channel_id"
        " WHERE o.id IN (SELECT value FROM json_each(?))"
    )


def render_order(ctx: Ctx, row: sqlite3.Row, *, detail: bool, extra: bool) -> str:
    """One order as JSON text."""
    return fragments(ctx.store, order_sql(ctx, detail=detail, extra=extra), [int(row["id"])])[0]


def _message_body(ctx: Ctx, data: str) -> Response:
    """Orders' write responses: top-level ``message`` or ``meta.message`` (quirk)."""
    if ctx.quirks["ordersTopLevelMessage"]:
        return spliced(data, {}, {"message": "SUCCESS"})
    return spliced(data, {"message": "SUCCESS"})


def _detail(ctx: Ctx, row: sqlite3.Row) -> str:
    data = render_order(ctx, row, detail=True, extra=True)
    return f"[{data}]" if ctx.quirks["orderDetailAsArray"] else data


IN_B2B = f"held & {HELD_B2B}"
"""SQL: B2B Edition holds a record of the order (the merchant may have lost one side alone)."""
SYNCED = f"(created_at <= ? OR held & {HELD_RECORDED})"
"""SQL, bound to ``synced_before``: B2B Edition has learned of the order (synced after
``ordersSyncLag``, or recorded through ``POST /orders``)."""


def synced_before(ctx: Ctx) -> int:
    """Orders created after this time are in core only: B2B has not synced them yet (quirk
    ``ordersSyncLag``; with no lag every order is known to B2B)."""
    lag = int(ctx.quirks["ordersSyncLag"])
    return ctx.now - lag if lag else 2**62


def b2b_updated(ctx: Ctx, table: str = "") -> str:
    """SQL: the order's ``updatedAt`` as B2B Edition shows, filters and sorts it (``table``:
    the alias and its dot). With ``ordersSyncLag`` and ``lateSyncStampsSyncTime`` a record
    B2B Edition made when it learned of the order (at ``createdAt + ordersSyncLag``) carries
    that time when the order's own ``updatedAt`` is older; one it made itself (``POST
    /orders``) carries its own. Otherwise, and in core, the order's own."""
    own = f"{table}updated_at"
    lag = int(ctx.quirks["ordersSyncLag"])
    if not lag or not ctx.quirks["lateSyncStampsSyncTime"]:
        return own
    synced = f"MAX({own}, {table}created_at + {lag})"
    return f"(CASE WHEN {table}held & {HELD_RECORDED} THEN {own} ELSE {synced} END)"


def _order(ctx: Ctx, bc_order_id: str, message: str) -> sqlite3.Row:
    row = ctx.store.row(
        f"SELECT * FROM orders WHERE bc_order_id = ? AND {SYNCED} AND {IN_B2B}",
        (int(bc_order_id), synced_before(ctx)),
    )
    if row is None:
        raise order_not_found(message)
    return row


def list_orders(ctx: Ctx, req: Request) -> Response:
    """GET /orders (§5.2); without date filters only the last 365 days (§7.4)."""
    limit, offset = paging(ctx, req, 200)
    where: list[str] = [SYNCED, IN_B2B]
    params: list[Any] = [synced_before(ctx)]
    dated = False
    updated = b2b_updated(ctx)
    for name, column, op in DATE_FILTERS:
        value = num_arg(req, name)
        if value == 0 and ctx.quirks["zeroDateIsAbsent"]:
            continue  # 0 read as "no filter given"
        if value is not None:
            dated = True
            where.append(f"{updated if column == 'updated_at' else column} {op} ?")
            params.append(value)
    if not dated:
        since = ctx.now - YEAR
        where.append(f"(created_at >= ? OR {updated} >= ?)")
        params.extend([since, since])
    company_id = int_arg(req, "companyId")
    if company_id is not None:
        where.append("company_id = ?")
        params.append(company_id)
    bc_order_id = int_arg(req, "bcOrderId")
    if bc_order_id is not None:
        where.append("bc_order_id = ?")
        params.append(bc_order_id)
    channels: list[int] = []
    for raw in ",".join(req.args("channelIds[]", "channelIds")).split(","):
        if raw.strip():
            value = parse_int(raw)
            if value is None:
                raise param_error({"channelIds": [f'"{raw}" is not a valid integer.']})
            channels.append(value)
    if channels:
        where.append(f"channel_id IN ({','.join('?' * len(channels))})")
        params.extend(channels)
    sort = choice_arg(req, "sortBy", ("createdAt", "updatedAt"), "updatedAt")
    direction = choice_arg(req, "orderBy", ("ASC", "DESC"), "DESC")
    show_extra = (req.arg("showExtra") or "").lower() in ("true", "1")
    column = "created_at" if sort == "createdAt" else updated
    clause = " WHERE " + " AND ".join(where)
    ids = ctx.store.ordered_ids(
        f"SELECT id FROM orders{clause} ORDER BY {column} {direction}, id {direction}", params
    )
    sql = order_sql(ctx, detail=False, extra=show_extra)
    data = "[" + ",".join(fragments(ctx.store, sql, ids[offset : offset + limit])) + "]"
    page = pagination(len(ids), limit, offset)
    meta: dict[str, Any] = {"message": "SUCCESS"}
    if ctx.quirks["ordersMetaFlat"]:
        meta.update(page)
    else:
        meta["pagination"] = page
    return spliced(data, meta)


def get_order(ctx: Ctx, req: Request, bc_order_id: str) -> Response:
    """GET /orders/{bcOrderId} (§5.1)."""
    row = _order(ctx, bc_order_id, "Order Does Not Exist.")
    return spliced(_detail(ctx, row), {"message": "SUCCESS"})


def _submitted_extras(ctx: Ctx, body: dict[str, Any], stored: dict[str, str]) -> dict[str, str]:
    """Validate an order's ``extraFields``; required fields must be in the array sent."""
    cfgs = configs(ctx.store, "order")
    raw = body.get("extraFields")
    if raw is None:
        check_values("order", cfgs, {}, {}, require=True)
        return stored
    submitted = parse_submitted(raw)
    check_values("order", cfgs, submitted, submitted, require=True)
    kept = {} if ctx.quirks["extraFieldsReplace"] else stored
    return {**kept, **submitted}


def update_order(ctx: Ctx, req: Request, bc_order_id: str) -> Response:
    """PUT /orders/{bcOrderId} (§5.4): poNumber and/or extraFields."""
    row = _order(ctx, bc_order_id, "Not Found Error")
    body = req.json_object()
    if body.get("poNumber") is None and body.get("extraFields") is None:
        raise order_error("At least one of poNumber or extraFields is required.")
    po_number = text_field(body, "poNumber")
    extras = _submitted_extras(ctx, body, json.loads(row["extra_fields"]))
    ctx.store.execute(
        "UPDATE orders SET po_number = ?, extra_fields = ?, updated_at = ? WHERE id = ?",
        (
            row["po_number"] if po_number is None else po_number,
            json.dumps(extras),
            ctx.now,
            row["id"],
        ),
    )
    fresh = _order(ctx, bc_order_id, "Not Found Error")
    return _message_body(ctx, _detail(ctx, fresh))


def create_order(ctx: Ctx, req: Request) -> Response:
    """POST /orders (§5.1): record B2B data for a BigCommerce order."""
    body = req.json_object()
    errors: dict[str, list[str]] = {}
    values: dict[str, int] = {}
    for key in ("bcOrderId", "customerId"):
        if body.get(key) is None:
            errors[key] = ["This field is required."]
            continue
        value = parse_int(body[key])
        if value is None:
            errors[key] = ["A valid integer is required."]
        else:
            values[key] = value
    if errors:
        raise param_error(errors)
    store, now = ctx.store, ctx.now
    held = store.scalar("SELECT held FROM orders WHERE bc_order_id = ?", (values["bcOrderId"],))
    known = store.scalar(
        f"SELECT 1 FROM orders WHERE bc_order_id = ? AND {SYNCED} AND {IN_B2B}",
        (values["bcOrderId"], synced_before(ctx)),
    )
    if known is not None:
        raise b2b_error(400, "The order already exists.")
    po_number = text_field(body, "poNumber") or ""
    extras = _submitted_extras(ctx, body, {})
    company_id = store.scalar(
        "SELECT company_id FROM users WHERE customer_id = ?", (values["customerId"],)
    )
    if held is not None:  # a core order B2B lost its record of, or has not synced: recorded
        store.execute(
            "UPDATE orders SET customer_id = ?, company_id = ?, po_number = ?, extra_fields = ?,"
            " held = held | ?, updated_at = ? WHERE bc_order_id = ?",
            (
                values["customerId"],
                company_id,
                po_number,
                json.dumps(extras),
                HELD_B2B | HELD_RECORDED,
                now,
                values["bcOrderId"],
            ),
        )
    else:
        _insert_order(store, values, company_id, po_number, extras, now)
    # Recorded through B2B, so B2B knows it at once (HELD_RECORDED: whatever ordersSyncLag says).
    row = store.row("SELECT * FROM orders WHERE bc_order_id = ?", (values["bcOrderId"],))
    assert row is not None  # written just above
    return spliced(render_order(ctx, row, detail=False, extra=True), {"message": "SUCCESS"})


def _insert_order(
    store: Store,
    values: dict[str, int],
    company_id: int | None,
    po_number: str,
    extras: dict[str, str],
    now: int,
) -> None:
    store.execute(
        "INSERT INTO orders (id, bc_order_id, customer_id, company_id, po_number, extra_fields,"
        " channel_id, created_at, updated_at, held) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
        (
            store.next_id("orders"),
            values["bcOrderId"],
            values["customerId"],
            company_id,
            po_number,
            json.dumps(extras),
            now,
            now,
            HELD_CORE | HELD_B2B | HELD_RECORDED,
        ),
    )


def order_products(ctx: Ctx, req: Request, bc_order_id: str) -> Response:
    """GET /orders/{bcOrderId}/products (§5.1); ``[]`` when none are recorded."""
    row = _order(ctx, bc_order_id, "The order does not exist.")
    return _message_body(ctx, row["products"])


def order_extra_fields(ctx: Ctx, req: Request) -> Response:
    """GET /orders/extra-fields (§5.7)."""
    return config_page(ctx, req, "order", 200)


REASSIGN_404 = "User does not exist or action not supported for this user"
ASSIGN_404 = "User does not exist or action not support for this user."


def reassign_orders(ctx: Ctx, req: Request, customer_id: str) -> Response:
    """PUT /customers/{customerId}/orders/company (§5.5): Dependent stores only.

    On an Independent store the documented 404 ("... action not supported ...") is returned.
    """
    body = req.json_object()
    if body.get("bcGroupId") is None:
        raise param_error({"bcGroupId": ["This field is required."]})
    group_id = parse_int(body["bcGroupId"])
    if group_id is None:
        raise param_error({"bcGroupId": ["A valid integer is required."]})
    if not ctx.settings.dependent:
        raise user_missing(REASSIGN_404)
    store, now = ctx.store, ctx.now
    cid = int(customer_id)
    if store.row("SELECT 1 FROM users WHERE customer_id = ?", (cid,)) is None:
        raise user_missing(REASSIGN_404)
    target = store.scalar(
        "SELECT id FROM companies WHERE customer_group_id = ? ORDER BY id LIMIT 1", (group_id,)
    )
    if target is None:
        raise user_missing(REASSIGN_404)
    moved = store.execute(
        "UPDATE orders SET company_id = ?, updated_at = ?"
        f" WHERE customer_id = ? AND {SYNCED} AND {IN_B2B}",
        (target, now, cid, synced_before(ctx)),
    ).rowcount
    return _message_body(ctx, f'{{"total":{moved}}}')


def assign_orders(ctx: Ctx, req: Request, customer_id: str) -> Response:
    """PUT /customers/{customerId}/orders/b2b (§5.6): attach company-less orders."""
    req.json()
    store, now = ctx.store, ctx.now
    company_id = store.scalar(
        "SELECT company_id FROM users WHERE customer_id = ?", (int(customer_id),)
    )
    if company_id is None:
        raise user_missing(ASSIGN_404)
    moved = store.execute(
        "UPDATE orders SET company_id = ?, updated_at = ?"
        f" WHERE customer_id = ? AND company_id IS NULL AND {SYNCED} AND {IN_B2B}",
        (company_id, now, int(customer_id), synced_before(ctx)),
    ).rowcount
    return _message_body(ctx, f'{{"total":{moved}}}')
