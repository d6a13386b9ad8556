"""Core price-list assignments (``price_lists.v3.yml``, b2b-api.md §6.2): which price list a
customer group uses on a channel. On Independent stores this is where a company's prices come
from (its group's assignment), since ``catalogId``/``priceListAssign`` are read-only there.

- ``GET /v3/pricelists/assignments``: filters ``id``, ``price_list_id``, ``customer_group_id``,
  ``channel_id`` and their ``:in`` variants; ``page``/``limit`` (only ``meta.pagination``),
  ``before``/``after`` cursors (only ``meta.cursor_pagination``), or neither (both).
- ``POST /v3/pricelists/assignments``: a batch of at most 25 ``{price_list_id, customer_group_id,
  channel_id}`` (only ``price_list_id`` required); 200 with no content; a 422 lists the errors
  by item and ``meta.saved_records`` (the valid items are saved).
- ``PUT /v3/pricelists/{price_list_id}/assignments``: upsert one ``{customer_group_id,
  channel_id}`` (both required); 404 when the price list, group or channel is missing.
- ``DELETE /v3/pricelists/assignments``: by ``id``, ``price_list_id``, ``customer_group_id``,
  ``channel_id``, ``channel_id:in`` (at least one; the filters combine); 204.

At most one assignment exists per (customer group, channel) pair, either of which may be
absent (the multi-storefront guide: "Only one price list can apply at any given time"). An
upsert or create for a pair that already uses *another* list is the open reading (b2b-api.md
§9.16): replaced (default) or refused with 409 (quirk ``priceListUpsertRefused``).
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from typing import Any

from .common import Ctx, parse_int
from .core import MAX_LIMIT, v3_error
from .http import HttpError, Request, Response, json_response

BATCH_LIMIT = 25
DEFAULT_LIMIT = 50
LIST_FILTERS = {
    "id": "id",
    "price_list_id": "price_list_id",
    "customer_group_id": "customer_group_id",
    "channel_id": "channel_id",
}
DELETE_FILTERS = ("id", "price_list_id", "customer_group_id", "channel_id", "channel_id:in")
_PAIR = "customer_group_id IS ? AND channel_id IS ?"


def render(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "price_list_id": row["price_list_id"],
        "customer_group_id": row["customer_group_id"],
        "channel_id": row["channel_id"],
    }


def _int_list(req: Request, name: str) -> list[int] | None:
    raw = req.arg(name)
    if raw is None or raw == "":
        return None
    out = []
    for part in raw.split(","):
        value = parse_int(part)
        if value is None:
            raise v3_error(422, f"The field '{name}' is invalid.")
        out.append(value)
    return out


def _where(req: Request, names: dict[str, str]) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for name, column in names.items():
        for key in (name, f"{name}:in"):
            values = _int_list(req, key)
            if values is None:
                continue
            if key == name and len(values) != 1:
                raise v3_error(422, f"The field '{name}' is invalid.")
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    return where, params


def _cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"assignment:{row_id}".encode()).decode().rstrip("=")


def _uncursor(text: str, name: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    prefix, _, number = raw.partition(":")
    value = parse_int(number)
    if prefix != "assignment" or value is None:
        raise v3_error(422, f"The field '{name}' is invalid.")
    return value


def _limit(req: Request) -> int:
    raw = req.arg("limit")
    value = DEFAULT_LIMIT if raw in (None, "") else parse_int(raw)
    if value is None or value < 1:
        raise v3_error(400, "The field 'limit' is invalid.")
    return min(value, MAX_LIMIT)


def list_assignments(ctx: Ctx, req: Request) -> Response:
    """GET /v3/pricelists/assignments."""
    where, params = _where(req, LIST_FILTERS)
    limit = _limit(req)
    raw_page, after, before = req.arg("page"), req.arg("after"), req.arg("before")
    if after and before:
        raise v3_error(422, "'before' cannot be used with 'after'.")
    if raw_page not in (None, "") and (after or before):
        raise v3_error(422, "'before' and 'after' cannot be used with 'page'.")
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    ids = [
        int(r[0])
        for r in ctx.store.rows(
            f"SELECT id FROM price_list_assignments{clause} ORDER BY id", params
        )
    ]
    if after or before:
        if after:
            start = _uncursor(after, "after")
            chosen = [i for i in ids if i > start][:limit]
        else:
            end = _uncursor(before or "", "before")
            chosen = [i for i in ids if i < end][-limit:]
        return _answer(ctx, chosen, _cursor_meta(ids, chosen, limit))
    page = 1 if raw_page in (None, "") else parse_int(raw_page)
    if page is None or page < 1:
        raise v3_error(400, "The field 'page' is invalid.")
    chosen = ids[(page - 1) * limit : page * limit]
    meta: dict[str, Any] = {"pagination": _page_meta(len(ids), len(chosen), page, limit)}
    if raw_page in (None, ""):
        meta.update(_cursor_meta(ids, chosen, limit))
    return _answer(ctx, chosen, meta)


def _answer(ctx: Ctx, chosen: list[int], meta: dict[str, Any]) -> Response:
    rows = {
        r["id"]: r
        for r in ctx.store.rows(
            "SELECT * FROM price_list_assignments WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(chosen),),
        )
    }
    return json_response(200, {"data": [render(rows[i]) for i in chosen], "meta": meta})


def _page_meta(total: int, count: int, page: int, limit: int) -> dict[str, Any]:
    pages = -(-total // limit) if total else 0
    links: dict[str, str] = {"current": f"?page={page}&limit={limit}"}
    if page > 1:
        links["previous"] = f"?page={page - 1}&limit={limit}"
    if page < pages:
        links["next"] = f"?page={page + 1}&limit={limit}"
    return {
        "total": total,
        "count": count,
        "per_page": limit,
        "current_page": page,
        "total_pages": pages,
        "links": links,
    }


def _cursor_meta(ids: list[int], chosen: list[int], limit: int) -> dict[str, Any]:
    out: dict[str, Any] = {"count": len(chosen), "per_page": limit}
    links: dict[str, str] = {}
    if chosen:
        first, last = chosen[0], chosen[-1]
        out["start_cursor"] = _cursor(first)
        out["end_cursor"] = _cursor(last)
        links["current"] = f"?limit={limit}&after={_cursor(first - 1)}"
        if ids and ids[0] < first:
            links["previous"] = f"?limit={limit}&before={_cursor(first)}"
        if ids and ids[-1] > last:
            links["next"] = f"?limit={limit}&after={_cursor(last)}"
    out["links"] = links
    return {"cursor_pagination": out}


# -- writes --------------------------------------------------------------------------------


def _exists(ctx: Ctx, table: str, row_id: int | None) -> bool:
    if row_id is None:
        return True
    return ctx.store.row(f"SELECT 1 FROM {table} WHERE id = ?", (row_id,)) is not None


def _holder(ctx: Ctx, group: int | None, channel: int | None) -> sqlite3.Row | None:
    return ctx.store.row(f"SELECT * FROM price_list_assignments WHERE {_PAIR}", (group, channel))


def conflict(group: int | None, channel: int | None, price_list: int) -> str:
    return (
        f"Customer group {group} already has price list {price_list} on channel {channel};"
        " delete that assignment first."
    )


def _assign(ctx: Ctx, price_list: int, group: int | None, channel: int | None) -> int:
    """Store one assignment (replacing or refusing a pair held by another list); its id."""
    held = _holder(ctx, group, channel)
    if held is not None:
        if held["price_list_id"] == price_list:
            return int(held["id"])
        if ctx.quirks["priceListUpsertRefused"]:
            raise v3_error(409, conflict(group, channel, int(held["price_list_id"])))
        ctx.store.execute(
            "UPDATE price_list_assignments SET price_list_id = ? WHERE id = ?",
            (price_list, held["id"]),
        )
        return int(held["id"])
    row_id = ctx.store.next_id("price_list_assignments")
    ctx.store.execute(
        "INSERT INTO price_list_assignments (id, price_list_id, customer_group_id, channel_id)"
        " VALUES (?, ?, ?, ?)",
        (row_id, price_list, group, channel),
    )
    return row_id


def _body(req: Request) -> object:
    if not req.body.strip():
        return None
    try:
        return json.loads(req.body)
    except (ValueError, UnicodeDecodeError):
        raise v3_error(400, "The request body is not valid JSON.") from None


def _field(item: dict[str, Any], key: str, required: bool) -> int | None:
    """An id field of a request item; None when absent or null (and not required)."""
    raw = item.get(key)
    if raw is None:
        if required:
            raise ValueError(f"{key} is required")
        return None
    value = parse_int(raw) if not isinstance(raw, str) else None
    if value is None or value < 1:
        raise ValueError(f"{key} must be a positive integer")
    return value


def upsert_assignment(ctx: Ctx, req: Request, price_list_id: str) -> Response:
    """PUT /v3/pricelists/{price_list_id}/assignments."""
    body = _body(req)
    if not isinstance(body, dict):
        raise v3_error(422, "The request body must be an object.")
    try:
        group = _field(body, "customer_group_id", True)
        channel = _field(body, "channel_id", True)
    except ValueError as exc:
        raise v3_error(422, str(exc)) from None
    price_list = int(price_list_id)
    for table, value, what in (
        ("price_lists", price_list, "price list"),
        ("customer_groups", group, "customer group"),
        ("channels", channel, "channel"),
    ):
        if not _exists(ctx, table, value):
            raise v3_error(404, f"The {what} {value} was not found.")
    row_id = _assign(ctx, price_list, group, channel)
    row = ctx.store.row("SELECT * FROM price_list_assignments WHERE id = ?", (row_id,))
    assert row is not None
    return json_response(200, {"data": render(row), "meta": {}})


def create_assignments(ctx: Ctx, req: Request) -> Response:
    """POST /v3/pricelists/assignments: a batch; valid items are saved even when others fail."""
    body = _body(req)
    if not isinstance(body, list):
        raise v3_error(422, "The request body must be an array of assignments.")
    if len(body) > BATCH_LIMIT:
        raise v3_error(413, f"The batch limit for price list assignments is {BATCH_LIMIT}.")
    errors: dict[str, str] = {}
    saved = 0
    seen: set[tuple[int | None, int | None]] = set()
    for index, item in enumerate(body):
        try:
            if not isinstance(item, dict):
                raise ValueError("must be an object")
            price_list = _field(item, "price_list_id", True)
            group = _field(item, "customer_group_id", False)
            channel = _field(item, "channel_id", False)
            assert price_list is not None
            for table, value, key in (
                ("price_lists", price_list, "price_list_id"),
                ("customer_groups", group, "customer_group_id"),
                ("channels", channel, "channel_id"),
            ):
                if not _exists(ctx, table, value):
                    raise ValueError(f"{key} {value} does not exist")
            if (group, channel) in seen:
                raise ValueError("the customer group and channel are repeated in this batch")
            seen.add((group, channel))
            _assign(ctx, price_list, group, channel)
            saved += 1
        except ValueError as exc:
            errors[str(index)] = str(exc)
        except HttpError as exc:
            errors[str(index)] = json.loads(exc.response.body)["title"]
    if errors:
        return json_response(
            422,
            {
                "status": 422,
                "title": "Some price list assignments were not saved.",
                "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
                "errors": errors,
                "meta": {"saved_records": saved},
            },
        )
    return Response(200)


def delete_assignments(ctx: Ctx, req: Request) -> Response:
    """DELETE /v3/pricelists/assignments: at least one documented filter; 204."""
    unknown = sorted(k for k in req.query if k not in DELETE_FILTERS)
    if unknown:
        raise v3_error(422, f"Unknown filter {unknown[0]!r} (use {', '.join(DELETE_FILTERS)}).")
    where, params = _where(req, LIST_FILTERS)  # the :in variants left are documented ones
    if not where:
        raise v3_error(422, "At least one filter is required to delete price list assignments.")
    ctx.store.execute(f"DELETE FROM price_list_assignments WHERE {' AND '.join(where)}", params)
    return Response(204)
