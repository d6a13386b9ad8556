"""The core BigCommerce endpoints the reconciler reads (§6): customer groups (V2), orders by
customer (V2), price lists, channels and customers (V3).

V2 answers bare JSON arrays and **204 with no body** for an empty page; V3 answers
``{"data", "meta": {"pagination"}}``.
"""

from __future__ import annotations

import math
import sqlite3
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from .common import Ctx, parse_int
from .http import HttpError, Request, Response, json_response
from .store import HELD_CORE

V3_ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
MAX_LIMIT = 250


def v2_error(status: int, message: str) -> HttpError:
    return HttpError(json_response(status, [{"status": status, "message": message}]))


def v3_error(status: int, title: str) -> HttpError:
    return HttpError(
        json_response(
            status, {"status": status, "title": title, "type": V3_ERROR_TYPE, "errors": {}}
        )
    )


def core_error(path: str, status: int, message: str) -> HttpError:
    """An error in the shape of the API version the path belongs to."""
    return v2_error(status, message) if "/v2/" in path else v3_error(status, message)


def iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def rfc2822(ts: int) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(ts))


def _page(req: Request, path: str, default_limit: int = 50) -> tuple[int, int]:
    """``(page, limit)``; core clamps a limit above 250."""
    out = []
    for name, default in (("page", 1), ("limit", default_limit)):
        raw = req.arg(name)
        value = default if raw in (None, "") else parse_int(raw)
        if value is None or value < 1:
            raise core_error(path, 400, f"The field '{name}' is invalid.")
        out.append(value)
    return out[0], min(out[1], MAX_LIMIT)


def _v2_list(items: list[dict[str, Any]]) -> Response:
    return Response(204) if not items else json_response(200, items)


def _v3_list(items: list[dict[str, Any]], total: int, page: int, limit: int) -> Response:
    pages = max(1, math.ceil(total / limit)) if total else 0
    meta = {
        "pagination": {
            "total": total,
            "count": len(items),
            "per_page": limit,
            "current_page": page,
            "total_pages": pages,
            "links": {"current": f"?page={page}&limit={limit}"},
        }
    }
    return json_response(200, {"data": items, "meta": meta})


def _in_list(req: Request, name: str, path: str) -> list[int] | None:
    raw = req.arg(name)
    if raw is None or raw == "":
        return None
    out = []
    for part in raw.split(","):
        value = parse_int(part)
        if value is None:
            raise core_error(path, 422, f"The field '{name}' is invalid.")
        out.append(value)
    return out


# -- customer groups (V2) ------------------------------------------------------------------


def render_group(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "is_default": bool(row["is_default"]),
        "category_access": {"type": "all"},
        "discount_rules": [],
        "date_created": iso(row["created_at"]),
        "date_modified": iso(row["updated_at"]),
        "is_group_for_guests": False,
    }


def _group_filter(req: Request) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if req.arg("name"):
        where.append("name = ?")
        params.append(req.arg("name"))
    if req.arg("name:like"):
        where.append("name LIKE ?")
        params.append(f"%{req.arg('name:like')}%")
    if req.arg("is_default") in ("true", "false"):
        where.append("is_default = ?")
        params.append(1 if req.arg("is_default") == "true" else 0)
    for name, column, op in (
        ("date_created:min", "created_at", ">="),
        ("date_created:max", "created_at", "<="),
        ("date_modified:min", "updated_at", ">="),
        ("date_modified:max", "updated_at", "<="),
    ):
        raw = req.arg(name)
        if raw:
            where.append(f"{column} {op} ?")
            params.append(parse_date(name, raw))
    return ((" WHERE " + " AND ".join(where)) if where else ""), params


def list_groups(ctx: Ctx, req: Request) -> Response:
    """GET /v2/customer_groups: a bare array; 204 when the page is empty."""
    page, limit = _page(req, req.path)
    clause, params = _group_filter(req)
    rows = ctx.store.rows(
        f"SELECT * FROM customer_groups{clause} ORDER BY id LIMIT ? OFFSET ?",
        [*params, limit, (page - 1) * limit],
    )
    return _v2_list([render_group(r) for r in rows])


def count_groups(ctx: Ctx, req: Request) -> Response:
    clause, params = _group_filter(req)
    count = ctx.store.scalar(f"SELECT COUNT(*) FROM customer_groups{clause}", params)
    return json_response(200, {"count": count})


def get_group(ctx: Ctx, req: Request, group_id: str) -> Response:
    row = ctx.store.row("SELECT * FROM customer_groups WHERE id = ?", (int(group_id),))
    if row is None:
        raise v2_error(404, "The requested resource was not found.")
    return json_response(200, render_group(row))


# -- orders (V2) ---------------------------------------------------------------------------


def render_core_order(row: sqlite3.Row) -> dict[str, Any]:
    total = f"{float(row['total_inc_tax']):.4f}"
    return {
        "id": row["bc_order_id"],
        "customer_id": row["customer_id"],
        "date_created": rfc2822(row["created_at"]),
        "date_modified": rfc2822(row["updated_at"]),
        "status_id": row["status_code"],
        "status": row["status"],
        "subtotal_inc_tax": total,
        "total_inc_tax": total,
        "items_total": row["items"],
        "currency_code": row["currency_code"],
        "channel_id": row["channel_id"],
        "order_source": "www",
        "is_deleted": False,
    }


IN_CORE = f"held & {HELD_CORE}"
"""SQL: core has the order (B2B Edition may still hold a record of one core deleted)."""


def _order_filter(req: Request) -> tuple[str, list[Any]]:
    where: list[str] = [IN_CORE]
    params: list[Any] = []
    for name, column, op in (
        ("customer_id", "customer_id", "="),
        ("status_id", "status_code", "="),
        ("min_id", "bc_order_id", ">="),
        ("max_id", "bc_order_id", "<="),
        ("channel_id", "channel_id", "="),
    ):
        raw = req.arg(name)
        if raw is None or raw == "":
            continue
        value = parse_int(raw)
        if value is None:
            raise v2_error(400, f"The field '{name}' is invalid.")
        where.append(f"{column} {op} ?")
        params.append(value)
    for name, column, op in (
        ("min_date_created", "created_at", ">="),
        ("max_date_created", "created_at", "<="),
        ("min_date_modified", "updated_at", ">="),
        ("max_date_modified", "updated_at", "<="),
    ):
        raw = req.arg(name)
        if raw is None or raw == "":
            continue
        where.append(f"{column} {op} ?")
        params.append(parse_date(name, raw))
    return " WHERE " + " AND ".join(where), params


def parse_date(name: str, raw: str) -> int:
    """A V2 date filter: RFC 2822 (``Thu, 20 Apr 2017 11:32:00 -0400``) or ISO 8601
    (``2017-04-20T11:32:00.000-04:00``), as orders.v2.oas2.yml documents; a date without a zone
    is UTC. Anything else is the V2 400."""
    try:
        when = parsedate_to_datetime(raw) if "," in raw else None
    except (TypeError, ValueError):
        when = None
    if when is None:
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise v2_error(400, f"The field '{name}' is invalid.") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return math.floor(when.timestamp())


def list_core_orders(ctx: Ctx, req: Request) -> Response:
    """GET /v2/orders (e.g. ``?customer_id=N``): a bare array; 204 when empty."""
    page, limit = _page(req, req.path)
    clause, params = _order_filter(req)
    direction = "DESC" if (req.arg("sort") or "").endswith(":desc") else "ASC"
    rows = ctx.store.rows(
        f"SELECT * FROM orders{clause} ORDER BY bc_order_id {direction} LIMIT ? OFFSET ?",
        [*params, limit, (page - 1) * limit],
    )
    return _v2_list([render_core_order(r) for r in rows])


def count_core_orders(ctx: Ctx, req: Request) -> Response:
    clause, params = _order_filter(req)
    count = ctx.store.scalar(f"SELECT COUNT(*) FROM orders{clause}", params)
    return json_response(200, {"count": count})


def get_core_order(ctx: Ctx, req: Request, order_id: str) -> Response:
    row = ctx.store.row(
        f"SELECT * FROM orders WHERE bc_order_id = ? AND {IN_CORE}", (int(order_id),)
    )
    if row is None:
        raise v2_error(404, "The requested resource was not found.")
    return json_response(200, render_core_order(row))


# -- V3 ------------------------------------------------------------------------------------


def _v3_query(ctx: Ctx, req: Request, table: str, filters: dict[str, str], render: Any) -> Response:
    page, limit = _page(req, req.path)
    where: list[str] = []
    params: list[Any] = []
    for name, column in filters.items():
        values = _in_list(req, name, req.path)
        if values is not None:
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    total = ctx.store.scalar(f"SELECT COUNT(*) FROM {table}{clause}", params)
    rows = ctx.store.rows(
        f"SELECT * FROM {table}{clause} ORDER BY id LIMIT ? OFFSET ?",
        [*params, limit, (page - 1) * limit],
    )
    return _v3_list([render(r) for r in rows], int(total), page, limit)


def render_price_list(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "active": bool(row["active"]),
        "date_created": iso(row["created_at"]),
        "date_modified": iso(row["updated_at"]),
    }


def list_price_lists(ctx: Ctx, req: Request) -> Response:
    """GET /v3/pricelists (``id:in``, ``page``, ``limit``)."""
    return _v3_query(ctx, req, "price_lists", {"id:in": "id"}, render_price_list)


def render_core_channel(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "type": row["type"],
        "platform": row["platform"],
        "status": row["status"],
        "is_listable_from_ui": True,
        "is_visible": True,
        "is_enabled": row["status"] == "active",
        "external_id": "",
        "icon_url": "",
        "date_created": iso(row["created_at"]),
        "date_modified": iso(row["updated_at"]),
    }


def list_core_channels(ctx: Ctx, req: Request) -> Response:
    """GET /v3/channels (always includes channel 1)."""
    return _v3_query(ctx, req, "channels", {"id:in": "id"}, render_core_channel)


def render_customer(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "email": row["email"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "phone": row["phone"],
        "customer_group_id": row["customer_group_id"] or 0,
        "date_created": iso(row["created_at"]),
        "date_modified": iso(row["updated_at"]),
    }


def list_customers(ctx: Ctx, req: Request) -> Response:
    """GET /v3/customers (``id:in``, ``customer_group_id:in``)."""
    return _v3_query(
        ctx,
        req,
        "customers",
        {"id:in": "id", "customer_group_id:in": "customer_group_id"},
        render_customer,
    )
