"""Users (§4) reads: list, by customer id, by id, extra-field configs; company admins on create.

The writes (``POST /users``, ``PUT /users/{userId}``) are in ``user_writes``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from .common import Ctx, choice_arg, int_arg, num_arg, ok, pagination, paging
from .extrafields import configs, render_config, render_values
from .http import HttpError, Request, Response, b2b_error, json_response, param_error
from .lookups import lookups
from .store import Store

ROLE_NAMES = {0: "Admin", 1: "Senior Buyer", 2: "Junior Buyer"}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

USER_SELECT = (
    "SELECT u.*, c.email, c.first_name, c.last_name, c.phone"
    " FROM users u LEFT JOIN customers c ON c.id = u.customer_id"
)


def user_not_found() -> HttpError:
    """The documented Users 404 (b2b-api.md §1.3, §4)."""
    return HttpError(
        json_response(
            404,
            {
                "code": 404,
                "meta": {"message": "Not Found Error"},
                "data": {"errMsg": "User matching query does not exist."},
            },
        )
    )


def render_user(ctx: Ctx, row: sqlite3.Row, extra: bool) -> dict[str, Any]:
    lk = lookups(ctx.store)
    role = int(row["role"])
    out: dict[str, Any] = {
        "id": row["id"],
        "companyId": row["company_id"],
        "customerId": row["customer_id"],
        "firstName": row["first_name"] or "",
        "lastName": row["last_name"] or "",
        "email": row["email"] or "",
        "phoneNumber": row["phone"] or "",
        "role": role if role in ROLE_NAMES else 2,
        "companyRoleId": role,
        "companyRoleName": ROLE_NAMES.get(role, "Junior Buyer"),
        "uuid": row["uuid"],
        "channelList": [
            {"channelId": cid, "channelName": lk.channels.get(cid, ""), "iconUrl": ""}
            for cid in json.loads(row["channel_ids"])
        ],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }
    if extra:
        out["extraFields"] = render_values(
            json.loads(row["extra_fields"]), lk.user_fields, detailed=False
        )
    return out


def list_users(ctx: Ctx, req: Request) -> Response:
    """GET /users (§4)."""
    limit, offset = paging(ctx, req, 250)
    where: list[str] = []
    params: list[Any] = []
    company_id = int_arg(req, "companyId")
    if company_id is not None:
        where.append("u.company_id = ?")
        params.append(company_id)
    for name, column, op in (
        ("minModified", "u.updated_at", ">="),
        ("maxModified", "u.updated_at", "<="),
        ("minCreated", "u.created_at", ">="),
        ("maxCreated", "u.created_at", "<="),
    ):
        value = num_arg(req, name)
        if value is not None:
            where.append(f"{column} {op} ?")
            params.append(value)
    roles = req.args("roles", "roles[]", "role[]")
    if roles:
        wanted: list[int] = []
        for index, raw in enumerate(",".join(roles).split(",")):
            if raw.strip() not in ("0", "1", "2"):
                raise param_error({"roles": {str(index): [f'"{raw}" is not a valid choice.']}})
            wanted.append(int(raw))
        where.append(f"u.role IN ({','.join('?' * len(wanted))})")
        params.extend(wanted)
    channel = int_arg(req, "channelId")
    if channel is not None:
        where.append("EXISTS (SELECT 1 FROM json_each(u.channel_ids) j WHERE j.value = ?)")
        params.append(channel)
    email = req.arg("email")
    if email:
        where.append("c.email = ? COLLATE NOCASE")
        params.append(email)
    q = req.arg("q")
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            "(c.email LIKE ? ESCAPE '\\' OR c.first_name LIKE ? ESCAPE '\\'"
            " OR c.last_name LIKE ? ESCAPE '\\' OR u.company_id IN"
            " (SELECT id FROM companies WHERE name LIKE ? ESCAPE '\\'))"
        )
        params.extend([like] * 4)
    extra = choice_arg(req, "isIncludeExtraFields", ("0", "1"), "0") == "1"
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    store = ctx.store
    total = store.scalar(
        "SELECT COUNT(*) FROM users u LEFT JOIN customers c ON c.id = u.customer_id" + clause,
        params,
    )
    rows = store.rows(
        USER_SELECT + clause + " ORDER BY u.id LIMIT ? OFFSET ?", [*params, limit, offset]
    )
    body = ok(
        [render_user(ctx, r, extra) for r in rows], pagination=pagination(total, limit, offset)
    )
    return json_response(200, body)


def get_user_by_customer(ctx: Ctx, req: Request, customer_id: str) -> Response:
    """GET /users/customer/{customerId} (§4)."""
    row = ctx.store.row(USER_SELECT + " WHERE u.customer_id = ?", (int(customer_id),))
    if row is None:
        raise user_not_found()
    return json_response(200, ok(render_user(ctx, row, extra=True)))


def get_user(ctx: Ctx, req: Request, user_id: str) -> Response:
    """GET /users/{userId} (§4)."""
    row = ctx.store.row(USER_SELECT + " WHERE u.id = ?", (int(user_id),))
    if row is None:
        raise user_not_found()
    return json_response(200, ok(render_user(ctx, row, extra=True)))


def user_extra_fields(ctx: Ctx, req: Request) -> Response:
    """GET /users/extra-fields (§3.7: same shape as the company configs)."""
    return config_page(ctx, req, "user", 250)


def config_page(ctx: Ctx, req: Request, kind: str, maximum: int) -> Response:
    limit, offset = paging(ctx, req, maximum)
    cfgs = configs(ctx.store, kind)
    page = [render_config(c) for c in cfgs[offset : offset + limit]]
    return json_response(200, ok(page, pagination=pagination(len(cfgs), limit, offset)))


# -- company admins ------------------------------------------------------------------------


def admin_email_taken(email: str) -> HttpError:
    return b2b_error(422, f"Email already exists. ['{email}']")


def find_customer(ctx: Ctx, email: str) -> sqlite3.Row | None:
    return ctx.store.row(
        "SELECT * FROM customers WHERE email = ? COLLATE NOCASE ORDER BY id LIMIT 1", (email,)
    )


def check_admin_free(ctx: Ctx, email: str) -> sqlite3.Row | None:
    """The existing customer with this email (None if none); 422 if already a company user."""
    customer = find_customer(ctx, email)
    if customer is not None:
        busy = ctx.store.row("SELECT 1 FROM users WHERE customer_id = ?", (customer["id"],))
        if busy is not None:
            raise admin_email_taken(email)
    return customer


def add_admin(
    ctx: Ctx,
    *,
    company_id: int,
    group_id: int | None,
    email: str,
    first_name: str,
    last_name: str,
    phone: str,
    extra_fields: dict[str, str],
) -> int:
    """Link the customer with ``email`` (or create one) as the company's admin; its id."""
    store, now = ctx.store, ctx.now
    customer = check_admin_free(ctx, email)
    if customer is None:
        customer_id = store.next_id("customers")
        store.execute(
            "INSERT INTO customers (id, email, first_name, last_name, phone, customer_group_id,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (customer_id, email, first_name, last_name, phone, group_id, now, now),
        )
    else:
        customer_id = int(customer["id"])
        store.execute(
            "UPDATE customers SET customer_group_id = ?, updated_at = ? WHERE id = ?",
            (group_id, now, customer_id),
        )
    store.execute(
        "INSERT INTO users (id, customer_id, company_id, role, uuid, extra_fields, channel_ids,"
        " created_at, updated_at) VALUES (?, ?, ?, 0, '', ?, ?, ?, ?)",
        (
            store.next_id("users"),
            customer_id,
            company_id,
            json.dumps(extra_fields),
            json.dumps(b2b_channels(store)),
            now,
            now,
        ),
    )
    return customer_id


def b2b_channels(store: Store) -> list[int]:
    """The ids of the channels B2B Edition is enabled on (a company admin is on all of them)."""
    return [int(r["id"]) for r in store.rows("SELECT id FROM channels WHERE b2b_enabled = 1")]
