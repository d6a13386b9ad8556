"""Companies (§3): list, detail, create, update, delete, status, catalog, convert, configs."""

from __future__ import annotations

import hashlib
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
    ok,
    pagination,
    paging,
    parse_int,
    spliced,
    text_field,
)
from .extrafields import FieldConfig, check_values, configs, extra_field_error, parse_submitted
from .http import HttpError, Request, Response, b2b_error, json_response, param_error
from .orders import IN_B2B, SYNCED, synced_before
from .users import EMAIL_RE, add_admin, check_admin_free, config_page

ADDRESS_KEYS = ("addressLine1", "addressLine2", "city", "state", "zipCode", "country")
#: body key -> (label used in messages, maximum length)
LIMITS: dict[str, tuple[str, int]] = {
    "companyName": ("company name", 200),
    "companyEmail": ("company email", 200),
    "companyPhone": ("company phone", 50),
    "addressLine1": ("address line 1", 200),
    "addressLine2": ("address line 2", 200),
    "city": ("city", 100),
    "state": ("state", 50),
    "zipCode": ("zip code", 50),
    "country": ("country", 200),
    "adminFirstName": ("admin first name", 100),
    "adminLastName": ("admin last name", 100),
    "adminEmail": ("admin email", 100),
    "adminPhoneNumber": ("admin phone number", 100),
}
COMPANY_KEYS = ("companyName", "companyEmail", "companyPhone", *ADDRESS_KEYS)
CREATE_REQUIRED = (
    "companyName",
    "companyEmail",
    "companyPhone",
    "country",
    "adminFirstName",
    "adminLastName",
    "adminEmail",
)
CONVERT_REQUIRED = (
    "companyName",
    "companyPhone",
    "companyEmail",
    "country",
    "adminEmail",
    "adminPhoneNumber",
)
SELECT = (
    "SELECT c.*, g.name AS group_name FROM companies c"
    " LEFT JOIN customer_groups g ON g.id = c.customer_group_id"
)


def not_found() -> HttpError:
    """The documented company 404 (``ERROR_404_Data``)."""
    return b2b_error(404, "This resource is not found.")


def convert_failed() -> HttpError:
    return b2b_error(400, "Convert failed for the API call.")


# -- rendering -----------------------------------------------------------------------------
#
# Companies are rendered to JSON by SQLite (json_object) so that 250-item pages stay cheap.

_PRICE_LIST_ASSIGN = (
    "CASE WHEN c.price_list_assign = '[]' THEN json('[]') ELSE"
    " json((SELECT json_group_array(json_object("
    "'channelId', json_extract(p.value, '$.channelId'),"
    " 'priceListId', json_extract(p.value, '$.priceListId'),"
    " 'priceListName', COALESCE(pl.name, ''), 'channelName', COALESCE(ch.name, '')))"
    " FROM json_each(c.price_list_assign) p"
    " LEFT JOIN price_lists pl ON pl.id = json_extract(p.value, '$.priceListId')"
    " LEFT JOIN channels ch ON ch.id = json_extract(p.value, '$.channelId'))) END"
)
_CATALOG_NAME = (
    "CASE WHEN c.catalog_id = '' THEN '' ELSE"
    " COALESCE((SELECT name FROM price_lists WHERE c.catalog_id NOT GLOB '*[^0-9]*'"
    " AND id = CAST(c.catalog_id AS INTEGER)), '') END"
)


def company_sql(ctx: Ctx, *, detail: bool, extra: bool) -> str:
    """``SELECT <company JSON>, c.id`` for the ids bound as a JSON array (docs:v0 style, §3.3)."""
    strings = bool(ctx.quirks["companyIdsAsStrings"])

    def text(expr: str, as_text: bool = strings) -> str:
        return f"CAST({expr} AS TEXT)" if as_text else expr

    group = "COALESCE(c.customer_group_id, 0)"
    pairs = [
        ("companyId", text("c.id")),
        ("companyName", "c.name"),
        ("companyEmail", "c.email"),
        ("companyPhone", "c.phone"),
        ("companyStatus", text("c.status")),
        ("bcGroupId", text(group, strings and detail)),
        ("bcGroupName", "COALESCE(g.name, '')"),
        ("uuid", "c.uuid"),
        ("catalogId", "c.catalog_id"),
        ("catalogName", _CATALOG_NAME),
        ("priceListAssign", _PRICE_LIST_ASSIGN),
        ("createdAt", text("c.created_at")),
        ("updatedAt", text("c.updated_at")),
    ]
    if extra:
        pairs.append(("extraFields", "json(c.extra_rendered)"))
    if ctx.quirks["companyAddressInResponses"]:
        pairs += [(k, f"COALESCE(json_extract(c.address, '$.{k}'), '')") for k in ADDRESS_KEYS]
    return (
        f"SELECT {json_object_sql(pairs)}, c.id FROM companies c"
        " LEFT JOIN customer_groups g ON g.id = c.customer_group_id"
        " WHERE c.id IN (SELECT value FROM json_each(?))"
    )


# -- reads ---------------------------------------------------------------------------------


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_companies(ctx: Ctx, req: Request) -> Response:
    """GET /companies (§3.2)."""
    limit, offset = paging(ctx, req, 250)
    where: list[str] = []
    params: list[Any] = []
    for name, column, op in (
        ("minModified", "c.updated_at", ">="),
        ("maxModified", "c.updated_at", "<="),
        ("minCreated", "c.created_at", ">="),
        ("maxCreated", "c.created_at", "<="),
    ):
        value = num_arg(req, name)
        if value is not None:
            where.append(f"{column} {op} ?")
            params.append(value)
    status = int_arg(req, "companyStatus")
    if status is not None:
        if status not in (0, 1, 2, 3, 4):
            raise param_error({"companyStatus": [f'"{status}" is not a valid choice.']})
        where.append("c.status = ?")
        params.append(status)
    q = req.arg("q")
    if q:
        where.append("c.name LIKE ? ESCAPE '\\'")
        params.append(_like(q))
    group = int_arg(req, "bcGroupId")
    if group is not None:
        where.append("COALESCE(c.customer_group_id, 0) = ?")
        params.append(group)
    customer = int_arg(req, "customerId")
    if customer is not None:
        where.append("c.id IN (SELECT company_id FROM users WHERE customer_id = ?)")
        params.append(customer)
    for key in ("bcOrderId", "orderId"):
        order = int_arg(req, key)
        if order is not None:
            where.append(
                "c.id IN (SELECT company_id FROM orders"
                f" WHERE bc_order_id = ? AND {SYNCED} AND {IN_B2B})"
            )
            params.extend([order, synced_before(ctx)])
    filter_type = choice_arg(req, "extraFieldFilterType", ("search", "exact-match"), "search")
    for raw in req.args("extraFields", "extraFields[]"):
        name, sep, wanted = raw.partition(":")
        if not sep or not name:
            raise param_error({"extraFields": [f'"{raw}" is not of the form name:value.']})
        path = '$."' + name.replace('"', '\\"') + '"'
        if filter_type == "exact-match":
            where.append("json_extract(c.extra_fields, ?) = ?")
            params.extend([path, wanted])
        else:
            where.append("json_extract(c.extra_fields, ?) LIKE ? ESCAPE '\\'")
            params.extend([path, _like(wanted)])
    by_id = ctx.settings.quirks["companiesSortedByIdByDefault"] and not req.arg("sortBy")
    sort = choice_arg(req, "sortBy", ("companyName", "updatedAt"), "updatedAt")
    direction = choice_arg(req, "orderBy", ("ASC", "DESC"), "DESC")
    extra = choice_arg(req, "isIncludeExtraFields", ("0", "1"), "0") == "1"
    column = "c.name" if sort == "companyName" else "c.updated_at"
    if by_id:
        column = "c.id"
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    ids = ctx.store.ordered_ids(
        f"SELECT c.id FROM companies c{clause} ORDER BY {column} {direction}, c.id {direction}",
        params,
    )
    page = fragments(
        ctx.store, company_sql(ctx, detail=False, extra=extra), ids[offset : offset + limit]
    )
    meta = {"message": "SUCCESS", "pagination": pagination(len(ids), limit, offset)}
    return spliced("[" + ",".join(page) + "]", meta)


def _company(ctx: Ctx, company_id: str) -> sqlite3.Row:
    row = ctx.store.row(SELECT + " WHERE c.id = ?", (int(company_id),))
    if row is None:
        raise not_found()
    return row


def get_company(ctx: Ctx, req: Request, company_id: str) -> Response:
    """GET /companies/{companyId} (§3.3): extra fields always included."""
    row = _company(ctx, company_id)
    found = fragments(ctx.store, company_sql(ctx, detail=True, extra=True), [int(row["id"])])
    return spliced(found[0], {"message": "SUCCESS"})


def company_extra_fields(ctx: Ctx, req: Request) -> Response:
    """GET /companies/extra-fields (§3.7)."""
    return config_page(ctx, req, "company", 250)


# -- validation helpers --------------------------------------------------------------------


def _texts(
    body: dict[str, Any], keys: tuple[str, ...], required: tuple[str, ...]
) -> dict[str, str]:
    """The string fields in ``keys`` (checked for presence and length)."""
    out: dict[str, str] = {}
    for key in keys:
        value = text_field(body, key)
        label, maximum = LIMITS[key]
        if key in required and not (value or "").strip():
            raise b2b_error(422, f"The {label} is required.")
        if value is None:
            continue
        if len(value) > maximum:
            raise b2b_error(422, f"The {label} must be at most {maximum} characters.")
        if key in ("companyEmail", "adminEmail") and value and not EMAIL_RE.match(value):
            raise b2b_error(422, f"The {label} is not a valid email address.")
        out[key] = value
    return out


def _unique_taken(ctx: Ctx, cfgs: list[FieldConfig], exclude: int | None) -> dict[str, set[str]]:
    names = [c.name for c in cfgs if c.unique]
    if not names:
        return {}
    taken: dict[str, set[str]] = {n: set() for n in names}
    for row in ctx.store.rows("SELECT id, extra_fields FROM companies"):
        if row["id"] == exclude:
            continue
        values = json.loads(row["extra_fields"])
        for name in names:
            if values.get(name):
                taken[name].add(values[name])
    return taken


def _company_extras(
    ctx: Ctx, body: dict[str, Any], stored: dict[str, str] | None, exclude: int | None
) -> dict[str, str] | None:
    """Validate ``extraFields``; the values to store, or None when not sent (quirks:
    ``companyPutRequiresExtraFields``, ``extraFieldsReplace``, ``emptyExtraFieldRefused``)."""
    cfgs = configs(ctx.store, "company")
    strict = stored is not None and bool(ctx.quirks["companyPutRequiresExtraFields"])
    if "extraFields" not in body or body["extraFields"] is None:
        if stored is None:
            check_values("company", cfgs, {}, {}, require=True)
            return {}
        if strict:
            check_values("company", cfgs, {}, {}, require=True)
        return None
    submitted = parse_submitted(body["extraFields"])
    if ctx.quirks["emptyExtraFieldRefused"]:
        for name, value in submitted.items():
            if value == "":
                raise extra_field_error("company", f"{name} may not be blank")
    kept = {} if stored is None or ctx.quirks["extraFieldsReplace"] else stored
    merged = {**kept, **submitted}
    check_values(
        "company",
        cfgs,
        submitted,
        submitted if strict else merged,
        require=True,
        unique_taken=_unique_taken(ctx, cfgs, exclude),
    )
    return merged


def _user_extras(ctx: Ctx, body: dict[str, Any]) -> dict[str, str]:
    cfgs = configs(ctx.store, "user")
    raw = body.get("userExtraFields")
    submitted = {} if raw is None else parse_submitted(raw, "userExtraFields")
    check_values("user", cfgs, submitted, submitted, require=True)
    return submitted


def _price_list_exists(ctx: Ctx, catalog: str) -> bool:
    return catalog.isdigit() and (
        ctx.store.row("SELECT 1 FROM price_lists WHERE id = ?", (int(catalog),)) is not None
    )


def _catalog(ctx: Ctx, body: dict[str, Any], required: bool) -> str:
    raw = body.get("catalogId")
    if raw is None or raw == "" or raw == 0:
        if required:
            raise b2b_error(422, "The catalog id is required.")
        return ""
    catalog = str(raw) if parse_int(raw) is not None else None
    if catalog is None:
        raise param_error({"catalogId": ["A valid integer is required."]})
    if not _price_list_exists(ctx, catalog):
        raise b2b_error(422, f"The catalog {catalog} does not exist.")
    return catalog


def _price_list_assign(ctx: Ctx, raw: object) -> list[dict[str, int]]:
    if not isinstance(raw, list):
        raise param_error({"priceListAssign": ["Expected a list of items."]})
    out: list[dict[str, int]] = []
    for index, item in enumerate(raw):
        channel = parse_int(item.get("channelId")) if isinstance(item, dict) else None
        price_list = parse_int(item.get("priceListId")) if isinstance(item, dict) else None
        if channel is None or price_list is None:
            raise param_error(
                {"priceListAssign": {str(index): ["channelId and priceListId are required."]}}
            )
        if ctx.store.row("SELECT 1 FROM channels WHERE id = ?", (channel,)) is None:
            raise b2b_error(422, f"The channel {channel} does not exist.")
        if ctx.store.row("SELECT 1 FROM price_lists WHERE id = ?", (price_list,)) is None:
            raise b2b_error(422, f"The price list {price_list} does not exist.")
        out.append({"channelId": channel, "priceListId": price_list})
    return out


def _group_exists(ctx: Ctx, group_id: int) -> bool:
    return ctx.store.row("SELECT 1 FROM customer_groups WHERE id = ?", (group_id,)) is not None


def _independent_group(ctx: Ctx, raw: object, on_create: bool) -> int | None:
    """Independent ``customerGroupId``: 0 -> no group; omitted -> the default group (create)."""
    if raw is None:
        if not on_create:
            raise AssertionError("caller checks presence")
        default = ctx.store.scalar(
            "SELECT id FROM customer_groups WHERE is_default = 1 ORDER BY id LIMIT 1"
        )
        return None if default is None else int(default)
    group_id = parse_int(raw)
    if group_id is None:
        raise param_error({"customerGroupId": ["A valid integer is required."]})
    if group_id == 0:
        return None
    if not _group_exists(ctx, group_id):
        raise b2b_error(422, f"The customer group {group_id} does not exist.")
    return group_id


def _group_name_for(ctx: Ctx, name: str, exclude: int | None = None) -> str:
    """The company name, or it plus a short deterministic suffix when a group has it."""
    candidate, attempt = name, 0
    while True:
        clash = ctx.store.row(
            "SELECT id FROM customer_groups WHERE name = ? COLLATE NOCASE AND id IS NOT ?",
            (candidate, exclude),
        )
        if clash is None:
            return candidate
        attempt += 1
        digest = hashlib.sha1(f"{name}:{attempt}".encode()).hexdigest()[:6]
        candidate = f"{name}_{digest}"


def _new_group(ctx: Ctx, name: str) -> int:
    group_id = ctx.store.next_id("customer_groups")
    ctx.store.execute(
        "INSERT INTO customer_groups (id, name, is_default, created_at, updated_at)"
        " VALUES (?, ?, 0, ?, ?)",
        (group_id, _group_name_for(ctx, name), ctx.now, ctx.now),
    )
    return group_id


def _insert_company(
    ctx: Ctx,
    texts: dict[str, str],
    *,
    group_id: int | None,
    catalog: str,
    assign: list[dict[str, int]],
    extras: dict[str, str],
) -> int:
    company_id = ctx.store.next_id("companies")
    address = {k: texts[k] for k in ADDRESS_KEYS if texts.get(k)}
    ctx.store.execute(
        "INSERT INTO companies (id, name, email, phone, status, uuid, catalog_id,"
        " customer_group_id, address, extra_fields, price_list_assign, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, 1, '', ?, ?, ?, ?, ?, ?, ?)",
        (
            company_id,
            texts["companyName"],
            texts["companyEmail"],
            texts["companyPhone"],
            catalog,
            group_id,
            json.dumps(address),
            json.dumps(extras),
            json.dumps(assign),
            ctx.now,
            ctx.now,
        ),
    )
    return company_id


# -- writes --------------------------------------------------------------------------------


def create_company(ctx: Ctx, req: Request) -> Response:
    """POST /companies (§3.4); ``uuid`` is ignored (it cannot be set on creation)."""
    body = req.json_object()
    settings = ctx.settings
    texts = _texts(body, tuple(LIMITS), CREATE_REQUIRED)
    extras = _company_extras(ctx, body, None, None) or {}
    user_extras = _user_extras(ctx, body)
    group_id: int | None = None
    catalog = ""
    assign: list[dict[str, int]] = []
    if settings.dependent:
        if settings.msf:
            if body.get("priceListAssign") is not None:
                assign = _price_list_assign(ctx, body["priceListAssign"])
        else:
            catalog = _catalog(ctx, body, required=True)
    else:
        group_id = _independent_group(ctx, body.get("customerGroupId"), on_create=True)
    check_admin_free(ctx, texts["adminEmail"])
    if settings.dependent:
        group_id = _new_group(ctx, texts["companyName"])
    company_id = _insert_company(
        ctx, texts, group_id=group_id, catalog=catalog, assign=assign, extras=extras
    )
    customer_id = add_admin(
        ctx,
        company_id=company_id,
        group_id=group_id,
        email=texts["adminEmail"],
        first_name=texts.get("adminFirstName", ""),
        last_name=texts.get("adminLastName", ""),
        phone=texts.get("adminPhoneNumber", ""),
        extra_fields=user_extras,
    )
    data = {"companyId": company_id, "customerId": customer_id, "customerGroupId": group_id or 0}
    return json_response(200, ok(data))


def convert_group(ctx: Ctx, req: Request, group_id: str) -> Response:
    """POST /customer-groups/{id}/companies (§3.6): Dependent, non-MSF stores only."""
    settings = ctx.settings
    if not settings.dependent or settings.msf:
        raise convert_failed()
    gid = int(group_id)
    if not _group_exists(ctx, gid):
        raise not_found()
    if ctx.store.row("SELECT 1 FROM companies WHERE customer_group_id = ?", (gid,)) is not None:
        raise convert_failed()
    body = req.json_object()
    texts = _texts(body, tuple(LIMITS), CONVERT_REQUIRED)
    extras = _company_extras(ctx, body, None, None) or {}
    user_extras = _user_extras(ctx, body)
    catalog = _catalog(ctx, body, required=False)
    check_admin_free(ctx, texts["adminEmail"])
    company_id = _insert_company(
        ctx, texts, group_id=gid, catalog=catalog, assign=[], extras=extras
    )
    add_admin(
        ctx,
        company_id=company_id,
        group_id=gid,
        email=texts["adminEmail"],
        first_name=texts.get("adminFirstName", ""),
        last_name=texts.get("adminLastName", ""),
        phone=texts.get("adminPhoneNumber", ""),
        extra_fields=user_extras,
    )
    strings = bool(ctx.quirks["companyIdsAsStrings"])
    return json_response(200, ok({"companyId": str(company_id) if strings else company_id}))


def _updated(company_id: int) -> Response:
    """``RESPONSE_200_UPDATE``: ``{"companyId": int}``."""
    return json_response(200, ok({"companyId": company_id}))


def update_company(ctx: Ctx, req: Request, company_id: str) -> Response:
    """PUT /companies/{companyId} (§3.5): a partial update."""
    row = _company(ctx, company_id)
    cid = int(row["id"])
    body = req.json_object()
    settings = ctx.settings
    texts = _texts(body, COMPANY_KEYS, ())
    for key in ("companyName", "companyEmail"):
        if key in texts and not texts[key].strip():
            raise b2b_error(422, f"The {LIMITS[key][0]} is required.")
    sets: dict[str, Any] = {}
    for key, column in (
        ("companyName", "name"),
        ("companyEmail", "email"),
        ("companyPhone", "phone"),
    ):
        if key in texts:
            sets[column] = texts[key]
    address = json.loads(row["address"])
    if any(k in texts for k in ADDRESS_KEYS):
        for key in ADDRESS_KEYS:
            if key in texts:
                address[key] = texts[key]
        sets["address"] = json.dumps({k: v for k, v in address.items() if v})
    uuid = text_field(body, "uuid")
    if uuid is not None:
        sets["uuid"] = uuid
    extras = _company_extras(ctx, body, json.loads(row["extra_fields"]), cid)
    if extras is not None:
        sets["extra_fields"] = json.dumps(extras)
    if settings.dependent and settings.msf and body.get("priceListAssign") is not None:
        sets["price_list_assign"] = json.dumps(_price_list_assign(ctx, body["priceListAssign"]))
    if not settings.dependent and "customerGroupId" in body and body["customerGroupId"] is not None:
        group_id = _independent_group(ctx, body["customerGroupId"], on_create=False)
        sets["customer_group_id"] = group_id
        ctx.store.execute(
            "UPDATE customers SET customer_group_id = ?, updated_at = ?"
            " WHERE id IN (SELECT customer_id FROM users WHERE company_id = ?)",
            (group_id, ctx.now, cid),
        )
    if settings.dependent and "name" in sets and row["customer_group_id"] is not None:
        # Dependent: B2B keeps the company's own group named after it (b2b-api.md §6.1).
        gid = int(row["customer_group_id"])
        ctx.store.execute(
            "UPDATE customer_groups SET name = ?, updated_at = ? WHERE id = ?",
            (_group_name_for(ctx, sets["name"], exclude=gid), ctx.now, gid),
        )
    sets["updated_at"] = ctx.now
    assignments = ", ".join(f"{column} = ?" for column in sets)
    ctx.store.execute(f"UPDATE companies SET {assignments} WHERE id = ?", [*sets.values(), cid])
    return _updated(cid)


def delete_company(ctx: Ctx, req: Request, company_id: str) -> Response:
    """DELETE /companies/{companyId} (§3.6): Dependent stores delete the group too."""
    row = _company(ctx, company_id)
    remove_company(ctx, int(row["id"]))
    return json_response(200, ok({}))


def remove_company(ctx: Ctx, cid: int) -> None:
    """Delete a company as ``DELETE /companies/{id}`` does (a missing one is no error)."""
    store, now = ctx.store, ctx.now
    row = store.row("SELECT customer_group_id FROM companies WHERE id = ?", (cid,))
    if row is None:
        return
    group_id = row["customer_group_id"]
    customers = [
        r["customer_id"]
        for r in store.rows("SELECT customer_id FROM users WHERE company_id = ?", (cid,))
    ]
    store.execute("DELETE FROM users WHERE company_id = ?", (cid,))
    store.execute(
        "UPDATE orders SET company_id = NULL, updated_at = CASE WHEN ? THEN ? ELSE updated_at END"
        " WHERE company_id = ?",
        (bool(ctx.quirks["sideEffectsBumpUpdatedAt"]), now, cid),
    )
    store.execute("DELETE FROM companies WHERE id = ?", (cid,))
    if ctx.settings.dependent and group_id is not None:
        store.execute("DELETE FROM customer_groups WHERE id = ?", (group_id,))
        store.execute(
            "UPDATE customers SET customer_group_id = NULL, updated_at = ?"
            " WHERE customer_group_id = ?",
            (now, group_id),
        )
    elif customers:
        marks = ",".join("?" * len(customers))
        store.execute(
            f"UPDATE customers SET customer_group_id = NULL, updated_at = ? WHERE id IN ({marks})",
            [now, *customers],
        )


def set_status(ctx: Ctx, req: Request, company_id: str) -> Response:
    """PUT /companies/{companyId}/status (§3.1): ``{"companyStatus": 0..3}``."""
    row = _company(ctx, company_id)
    body = req.json_object()
    if body.get("companyStatus") is None:
        raise param_error({"companyStatus": ["This field is required."]})
    status = parse_int(body["companyStatus"])
    if status not in (0, 1, 2, 3):
        raise param_error({"companyStatus": [f'"{body["companyStatus"]}" is not a valid choice.']})
    ctx.store.execute(
        "UPDATE companies SET status = ?, updated_at = ? WHERE id = ?", (status, ctx.now, row["id"])
    )
    return _updated(int(row["id"]))


def set_catalog(ctx: Ctx, req: Request, company_id: str) -> Response:
    """PUT /companies/{companyId}/catalogs (§3.6): 405 on Independent stores."""
    if not ctx.settings.dependent:
        raise b2b_error(405, "Method Not Allowed")
    row = _company(ctx, company_id)
    body = req.json_object()
    raw = body.get("catalogId")
    if raw is None:
        raise param_error({"catalogId": ["This field is required."]})
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise param_error({"catalogId": ["Not a valid string."]})
    catalog = str(raw)
    if catalog and not _price_list_exists(ctx, catalog):
        raise b2b_error(422, f"The catalog {catalog} does not exist.")
    ctx.store.execute(
        "UPDATE companies SET catalog_id = ?, updated_at = ? WHERE id = ?",
        (catalog, ctx.now, row["id"]),
    )
    return _updated(int(row["id"]))
