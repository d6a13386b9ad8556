"""Outside changes: what a merchant or another integration does to the store behind the
reconciler's back (issue 17: an incremental read must see every one of them).

Each change goes through the sandbox's own HTTP API where B2B Edition has the endpoint, sent as
another integration would send it (in-process transport, the store's token): it is logged, it
spends the rate budget, it stamps ``updatedAt`` with the sandbox clock, and it has every side
effect the endpoint has (a deleted Dependent company takes its customer group, its users and
its orders' company with it). Changes without an endpoint are made in the store directly:
orders placed at checkout (``add_orders``: core knows them at once, B2B after
``ordersSyncLag``), orders deleted by the merchant (``delete_orders``), and an order one side
loses alone (``delete_b2b_orders``: the B2B record gone, the core order kept;
``delete_core_orders``: the core order gone, the B2B record kept until it syncs).

Every function takes the ``Sandbox`` first and returns the answer's ``data`` (``None`` for the
direct ones); a refused change raises ``SandboxError`` with the status and the answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from .errors import SandboxError

if TYPE_CHECKING:
    from .sandbox import Sandbox

OUTSIDE_TOKEN = "outside-integration-token"
"""Sent when the store demands no particular token (any non-empty one is accepted)."""


def request(sb: Sandbox, method: str, path: str, body: Any = None) -> Any:
    """One B2B request (``path`` below ``/api/v3/io``) as another integration sends it."""
    headers = {
        "X-Auth-Token": sb.access_token or OUTSIDE_TOKEN,
        "X-Store-Hash": sb.store_hash,
        "Accept": "application/json",
    }
    with httpx.Client(
        transport=sb.transport(), base_url="http://sandbox.local/api/v3/io", headers=headers
    ) as client:
        answer = client.request(method, path, json=body)
    try:
        payload = answer.json()
    except ValueError:
        payload = answer.text
    if answer.status_code >= 300:
        raise SandboxError(f"outside {method} {path}: {answer.status_code} {payload}")
    return payload.get("data") if isinstance(payload, dict) else payload


# -- companies ------------------------------------------------------------------------------


def update_company(sb: Sandbox, company_id: int, **fields: Any) -> Any:
    """``PUT /companies/{id}`` with ``fields`` as sent (``companyName=...``,
    ``extraFields=[{"fieldName": ..., "fieldValue": ...}]``, ...)."""
    return request(sb, "PUT", f"/companies/{company_id}", fields)


def rename_company(sb: Sandbox, company_id: int, name: str) -> Any:
    return update_company(sb, company_id, companyName=name)


def set_extra_field(sb: Sandbox, company_id: int, name: str, value: str) -> Any:
    """One company extra field (merged or replacing the set, as quirk ``extraFieldsReplace``
    says; a store that demands its required fields on every PUT may refuse it)."""
    return update_company(sb, company_id, extraFields=[{"fieldName": name, "fieldValue": value}])


def set_status(sb: Sandbox, company_id: int, status: int) -> Any:
    """``PUT /companies/{id}/status``: 0 pending, 1 approved, 2 rejected, 3 inactive."""
    return request(sb, "PUT", f"/companies/{company_id}/status", {"companyStatus": status})


def set_catalog(sb: Sandbox, company_id: int, catalog_id: str) -> Any:
    return request(sb, "PUT", f"/companies/{company_id}/catalogs", {"catalogId": catalog_id})


def delete_company(sb: Sandbox, company_id: int) -> Any:
    """``DELETE /companies/{id}`` (Dependent: its customer group goes too)."""
    return request(sb, "DELETE", f"/companies/{company_id}")


def _company_body(name: str, admin_email: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "companyName": name,
        "companyEmail": admin_email,
        "companyPhone": "555-0000",
        "adminFirstName": "Outside",
        "adminLastName": "Admin",
        "adminEmail": admin_email,
        "adminPhoneNumber": "555-0000",
        "country": "US",
        **fields,
    }


def create_company(sb: Sandbox, name: str, admin_email: str, **fields: Any) -> Any:
    """``POST /companies`` (Dependent: a new customer group; ``catalogId`` defaults to the
    store's first price list there, which the endpoint requires)."""
    body = _company_body(name, admin_email, fields)
    if "catalogId" not in body:
        first = sb.dump().get("priceLists") or [{"id": 1}]
        body["catalogId"] = str(first[0]["id"])
    return request(sb, "POST", "/companies", body)


def convert_group(sb: Sandbox, group_id: int, name: str, admin_email: str, **fields: Any) -> Any:
    """``POST /customer-groups/{id}/companies`` (Dependent, without Multi-Storefront)."""
    body = _company_body(name, admin_email, fields)
    return request(sb, "POST", f"/customer-groups/{group_id}/companies", body)


# -- users ----------------------------------------------------------------------------------


def create_user(sb: Sandbox, company_id: int, email: str, role: int = 2, **fields: Any) -> Any:
    """``POST /users``: ``data: {userId, bcId}``."""
    body = {
        "companyId": company_id,
        "email": email,
        "firstName": "Outside",
        "lastName": "User",
        "role": role,
        "channelIds": [1],
        **fields,
    }
    return request(sb, "POST", "/users", body)


def update_user(sb: Sandbox, user_id: int, **fields: Any) -> Any:
    """``PUT /users/{id}`` (``role=1``, ``firstName=...``, ...)."""
    return request(sb, "PUT", f"/users/{user_id}", fields)


def delete_user(sb: Sandbox, user_id: int) -> Any:
    """``DELETE /users/{id}`` (the customer stays; the last user of a company cannot go)."""
    return request(sb, "DELETE", f"/users/{user_id}")


def user_id_of(sb: Sandbox, customer_id: int) -> int:
    """The B2B user id of a customer (``GET /users/customer/{id}``)."""
    return int(request(sb, "GET", f"/users/customer/{customer_id}")["id"])


def move_user(sb: Sandbox, customer_id: int, company_id: int, role: int = 2) -> Any:
    """Move a user to another company the only way the API allows: delete the user, then
    create one with the same e-mail there (the customer keeps its id)."""
    user = request(sb, "GET", f"/users/customer/{customer_id}")
    delete_user(sb, int(user["id"]))
    return create_user(
        sb,
        company_id,
        user["email"],
        role,
        firstName=user.get("firstName") or "Outside",
        lastName=user.get("lastName") or "User",
    )


# -- orders ---------------------------------------------------------------------------------


def reassign_orders(sb: Sandbox, customer_id: int, group_id: int) -> Any:
    """``PUT /customers/{id}/orders/company``: every order of a company user moves to the
    company of customer group ``group_id`` (Dependent stores)."""
    return request(sb, "PUT", f"/customers/{customer_id}/orders/company", {"bcGroupId": group_id})


def assign_orders(sb: Sandbox, customer_id: int) -> Any:
    """``PUT /customers/{id}/orders/b2b``: a user's company-less orders join the company."""
    return request(sb, "PUT", f"/customers/{customer_id}/orders/b2b", {})


def update_order(sb: Sandbox, bc_order_id: int, **fields: Any) -> Any:
    """``PUT /orders/{id}`` (``poNumber=...``, ``extraFields=[...]``)."""
    return request(sb, "PUT", f"/orders/{bc_order_id}", fields)


def add_orders(sb: Sandbox, orders: Iterable[Mapping[str, Any]]) -> None:
    """Orders placed at checkout (no B2B endpoint creates a core order): seed rows
    (``bcOrderId``, ``customerId``, ``companyId``, ...; ``createdAt``/``updatedAt`` default
    to the sandbox clock's now)."""
    sb.load_seed({"orders": [dict(o) for o in orders]})


def delete_orders(sb: Sandbox, bc_order_ids: Iterable[int]) -> None:
    """Orders the merchant deleted: neither API lists or finds them afterwards."""
    sb.delete_orders(bc_order_ids)


def delete_b2b_orders(sb: Sandbox, bc_order_ids: Iterable[int]) -> None:
    """B2B Edition loses its records of these orders, core keeps them (nothing's ``updatedAt``
    changes): B2B lists, totals and ``GET /orders/{id}`` leave them out; core V2 still lists
    them. Also the late half of a deletion core made first (``delete_core_orders``)."""
    sb.delete_orders(bc_order_ids, side="b2b")


def delete_core_orders(sb: Sandbox, bc_order_ids: Iterable[int]) -> None:
    """Core deletes these orders, B2B Edition keeps its records (the deletion not synced yet)
    until ``delete_b2b_orders``."""
    sb.delete_orders(bc_order_ids, side="core")


def describe(change: Mapping[str, Any]) -> str:
    """A one-line description of a change record (for test and benchmark output)."""
    return json.dumps(dict(change), sort_keys=True, default=str)
