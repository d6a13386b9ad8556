"""Users (§4) writes: ``POST /users`` and ``PUT /users/{userId}`` as user.yaml documents them.

A created user links the BigCommerce customer with its e-mail (or creates one), joins the
company's customer group and, when that customer already existed (a B2C account), brings its
company-less orders into the company (quirk ``userCreateMovesOrders``). E-mails are unique
across B2B Edition. Errors use the documented shapes: DRF field maps under ``data.errMsg`` with
``meta.message`` "Parameter Error", and logical errors with a string ``errMsg`` and
"Processing data contains logical errors".
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .common import Ctx, ok, parse_int
from .extrafields import FieldConfig, check_values, configs, parse_submitted
from .http import HttpError, Request, Response, json_response, param_error
from .orders import IN_B2B, SYNCED, synced_before
from .users import EMAIL_RE, USER_SELECT, find_customer, render_user, user_not_found

ROLES = (0, 1, 2)
NAMES = ("firstName", "lastName")
LOGICAL = "Processing data contains logical errors"
NO_CHANNEL = "At least one B2B storefront needs to be enabled for a Company user."


def logical_error(message: str) -> HttpError:
    """422 with a string ``errMsg`` (Missing Channel Assignments, Email Conflict)."""
    return HttpError(
        json_response(422, {"code": 422, "meta": {"message": LOGICAL}, "data": {"errMsg": message}})
    )


def email_taken(email: str) -> HttpError:
    return logical_error(f"Email already exists. ['{email}']")


def field_error(message: str) -> HttpError:
    """An extra-field problem, in the Users API's field-map shape."""
    return param_error({"extraFields": [message]})


def _text(body: dict[str, Any], key: str, *, blank_ok: bool) -> str | None:
    """A string field that was sent (None when absent); 422 when null, blank or not text."""
    if key not in body:
        return None
    value = body[key]
    if value is None:
        raise param_error({key: ["This field may not be null."]})
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise param_error({key: ["Not a valid string."]})
    text = str(value)
    if not blank_ok and not text.strip():
        raise param_error({key: ["This field may not be blank."]})
    return text


def _email(body: dict[str, Any], message: str) -> str | None:
    email = _text(body, "email", blank_ok=False)
    if email is not None and not EMAIL_RE.match(email):
        raise param_error({"email": [message]})
    return email


def _role(body: dict[str, Any], message: str) -> int | None:
    """``companyRoleId`` overrides ``role`` when present (user.yaml); built-in codes only."""
    for key in ("companyRoleId", "role"):
        if body.get(key) is None:
            continue
        role = parse_int(body[key])
        if role not in ROLES:
            raise param_error({key: [message.format(body[key])]})
        return role
    return None


def _channels(ctx: Ctx, raw: object) -> list[int]:
    """``channelIds``: known channels, at least one of them B2B-enabled."""
    if raw is None or raw == []:
        raise logical_error(NO_CHANNEL)
    if not isinstance(raw, list):
        raise param_error({"channelIds": ['Expected a list of items but got type "str".']})
    out: list[int] = []
    for index, item in enumerate(raw):
        channel = parse_int(item)
        if channel is None:
            raise param_error({"channelIds": {str(index): ["A valid integer is required."]}})
        if ctx.store.row("SELECT 1 FROM channels WHERE id = ?", (channel,)) is None:
            raise param_error({"channelIds": [f'Invalid pk "{channel}" - object does not exist.']})
        if channel not in out:
            out.append(channel)
    marks = ",".join("?" * len(out))
    enabled = ctx.store.row(
        f"SELECT 1 FROM channels WHERE b2b_enabled = 1 AND id IN ({marks})", out
    )
    if enabled is None:
        raise logical_error(NO_CHANNEL)
    return out


def _unique_taken(ctx: Ctx, cfgs: list[FieldConfig], exclude: int | None) -> dict[str, set[str]]:
    names = [c.name for c in cfgs if c.unique]
    taken: dict[str, set[str]] = {n: set() for n in names}
    if not names:
        return taken
    for row in ctx.store.rows("SELECT id, extra_fields FROM users"):
        if row["id"] == exclude:
            continue
        values = json.loads(row["extra_fields"])
        for name in names:
            if values.get(name):
                taken[name].add(values[name])
    return taken


def _email_free(ctx: Ctx, email: str, exclude_customer: int | None) -> sqlite3.Row | None:
    """The customer with ``email`` (None if none); 422 when it is another B2B user's."""
    customer = find_customer(ctx, email)
    if customer is None or customer["id"] == exclude_customer:
        return customer
    if ctx.store.row("SELECT 1 FROM users WHERE customer_id = ?", (customer["id"],)) is not None:
        raise email_taken(email)
    return customer


def create_user(ctx: Ctx, req: Request) -> Response:
    """POST /users (user.yaml ``userPost``): ``data: {userId, bcId}``."""
    body = req.json_object()
    missing = {
        key: ["This field may not be null."]
        for key in ("firstName", "lastName", "email", "companyId")
        if body.get(key) is None
    }
    if missing:
        raise param_error(missing)
    if body.get("role") is None and body.get("companyRoleId") is None:
        raise param_error({"non_field_errors": ["User must have a role."]})
    first, last = (_text(body, k, blank_ok=False) or "" for k in NAMES)
    email = _email(body, "Email is not correct.") or ""
    role = _role(body, '"{}" is not a valid choice')
    phone = _text(body, "phoneNumber", blank_ok=True) or ""
    uuid = _text(body, "uuid", blank_ok=True) or ""
    company_id = parse_int(body["companyId"])
    company = (
        None
        if company_id is None
        else ctx.store.row(
            "SELECT id, customer_group_id FROM companies WHERE id = ?", (company_id,)
        )
    )
    if company is None:
        raise param_error(
            {"companyId": [f'Invalid pk "{body["companyId"]}" - object does not exist.']}
        )
    channels = _channels(ctx, body.get("channelIds"))
    cfgs = configs(ctx.store, "user")
    raw_extra = body.get("extraFields")
    extras = {} if raw_extra is None else parse_submitted(raw_extra)
    check_values(
        "user",
        cfgs,
        extras,
        extras,
        require=True,
        unique_taken=_unique_taken(ctx, cfgs, None),
        error=field_error,
    )
    customer = _email_free(ctx, email, None)
    store, now = ctx.store, ctx.now
    group_id = company["customer_group_id"]
    if customer is None:
        customer_id = store.next_id("customers")
        store.execute(
            "INSERT INTO customers (id, email, first_name, last_name, phone, customer_group_id,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (customer_id, email, first, last, phone, group_id, now, now),
        )
    else:
        customer_id = int(customer["id"])
        store.execute(
            "UPDATE customers SET first_name = ?, last_name = ?, phone = ?,"
            " customer_group_id = ?, updated_at = ? WHERE id = ?",
            (first, last, phone or customer["phone"], group_id, now, customer_id),
        )
        if ctx.quirks["userCreateMovesOrders"]:
            store.execute(
                "UPDATE orders SET company_id = ?,"
                " updated_at = CASE WHEN ? THEN ? ELSE updated_at END"
                f" WHERE customer_id = ? AND company_id IS NULL AND {SYNCED} AND {IN_B2B}",
                (
                    company_id,
                    bool(ctx.quirks["sideEffectsBumpUpdatedAt"]),
                    now,
                    customer_id,
                    synced_before(ctx),
                ),
            )
    user_id = store.next_id("users")
    store.execute(
        "INSERT INTO users (id, customer_id, company_id, role, uuid, extra_fields, channel_ids,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            user_id,
            customer_id,
            company_id,
            role,
            uuid,
            json.dumps(extras),
            json.dumps(channels),
            now,
            now,
        ),
    )
    return json_response(200, ok({"userId": user_id, "bcId": customer_id}))


def update_user(ctx: Ctx, req: Request, user_id: str) -> Response:
    """PUT /users/{userId} (user.yaml ``userStrict`` + ``channelIds``): a partial update.

    ``companyId`` and ``originChannelId`` are read-only and ignored (DRF read-only fields).
    Extra fields merge by name (quirk ``userExtraFieldsReplace``); required ones are checked
    when ``extraFields`` is sent (quirk ``userPutRequiresExtraFields``: on every PUT).
    """
    row = ctx.store.row(USER_SELECT + " WHERE u.id = ?", (int(user_id),))
    if row is None:
        raise user_not_found()
    uid, customer_id = int(row["id"]), int(row["customer_id"])
    body = req.json_object()
    customer_sets: dict[str, Any] = {}
    for key, column in (("firstName", "first_name"), ("lastName", "last_name")):
        value = _text(body, key, blank_ok=False)
        if value is not None:
            customer_sets[column] = value
    phone = _text(body, "phoneNumber", blank_ok=True)
    if phone is not None:
        customer_sets["phone"] = phone
    email = _email(body, "Enter a valid email address.")
    if email is not None:
        own = email.lower() == (row["email"] or "").lower()
        if not own and _email_free(ctx, email, customer_id) is not None:
            raise email_taken(email)  # another customer (not a B2B user) has it
        customer_sets["email"] = email
    sets: dict[str, Any] = {}
    role = _role(body, 'The value "{}" is not a valid role.')
    if role is not None:
        sets["role"] = role
    uuid = _text(body, "uuid", blank_ok=True)
    if uuid is not None:
        sets["uuid"] = uuid
    if "channelIds" in body:
        sets["channel_ids"] = json.dumps(_channels(ctx, body["channelIds"]))
    extras = _extras(ctx, body, json.loads(row["extra_fields"]), uid)
    if extras is not None:
        sets["extra_fields"] = json.dumps(extras)
    store, now = ctx.store, ctx.now
    if customer_sets:
        customer_sets["updated_at"] = now
        assignments = ", ".join(f"{column} = ?" for column in customer_sets)
        store.execute(
            f"UPDATE customers SET {assignments} WHERE id = ?",
            [*customer_sets.values(), customer_id],
        )
    sets["updated_at"] = now
    assignments = ", ".join(f"{column} = ?" for column in sets)
    store.execute(f"UPDATE users SET {assignments} WHERE id = ?", [*sets.values(), uid])
    fresh = store.row(USER_SELECT + " WHERE u.id = ?", (uid,))
    assert fresh is not None
    return json_response(200, ok(render_user(ctx, fresh, extra=True)))


def _extras(
    ctx: Ctx, body: dict[str, Any], stored: dict[str, str], user_id: int
) -> dict[str, str] | None:
    """The user's extra fields after this PUT; None when it leaves them alone."""
    cfgs = configs(ctx.store, "user")
    strict = bool(ctx.quirks["userPutRequiresExtraFields"])
    if body.get("extraFields") is None:
        if strict:
            check_values("user", cfgs, {}, {}, require=True, error=field_error)
        return None
    submitted = parse_submitted(body["extraFields"])
    kept = {} if ctx.quirks["userExtraFieldsReplace"] else stored
    merged = {**kept, **submitted}
    check_values(
        "user",
        cfgs,
        submitted,
        submitted if strict else merged,
        require=True,
        unique_taken=_unique_taken(ctx, cfgs, user_id),
        error=field_error,
    )
    return merged


def delete_user(ctx: Ctx, req: Request, user_id: str) -> Response:
    """DELETE /users/{userId} (user.yaml ``companies_user_delete``): the B2B user goes, the
    BigCommerce customer stays. The docs say nothing of its customer group or its orders: both
    are left as they are. The last user of a company cannot be deleted (422 Last User Error);
    deleting every admin is allowed."""
    row = ctx.store.row("SELECT id, company_id FROM users WHERE id = ?", (int(user_id),))
    if row is None:
        raise user_not_found()
    uid, company_id = int(row["id"]), int(row["company_id"])
    others = ctx.store.scalar(
        "SELECT COUNT(*) FROM users WHERE company_id = ? AND id != ?", (company_id, uid)
    )
    if not others:
        raise logical_error("The last user in company can not be deleted.")
    ctx.store.execute("DELETE FROM users WHERE id = ?", (uid,))
    return json_response(200, ok({"userId": uid}))
