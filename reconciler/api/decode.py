"""Turn every documented response variant into one clean shape (b2b-api.md §1, §3, §5, §7).

Rules:

- Ids are ints whether the API sends ``"147340"`` or ``147340``; an id that is not a positive
  integer (``"abc"``, ``"100.5"``, ``-3``, ``0`` where an object must be named) is a decode
  error, never read as "none".
- ``companyStatus`` ``"1"`` or ``1`` becomes its name (``approved``); 4 reads as ``deleted``.
- Timestamps (Unix seconds) are ints whether sent as strings or numbers; missing -> 0.
- Unset strings are ``""`` (the API sends ``""`` or ``null``); ``catalogId`` ``""``, int or string
  becomes a string.
- ``data`` may be an object or a one-element array (Get/Update an Order); both decode the same.
- A list's total comes from ``meta.pagination.totalCount`` or, for orders, a flat
  ``meta.totalCount``.
- Extra-field configs: ``listOfValue`` (companies, users) or ``listOfValues`` (orders);
  ``maximumLength``/``maximumValue`` as strings or numbers; ``isRequired`` as bool, 0/1 or text.
- Company ``extraFields`` (``[{fieldName, fieldValue}]``) becomes ``{name: str(value)}``.
- An order's ``companyId`` of ``null``, ``""`` or ``0`` means "no company" (``None``): ``0`` is
  what some stores send for B2C and guest orders (b2b-api.md §9.8), and no company has id 0.
- ``poNumber`` ``null`` becomes ``""``.
- A company's ``bcGroupId`` of ``0``/``""``/``null`` means "no customer group" (documented for
  Independent stores; the live reader refuses it on Dependent stores, where every company has
  its group); any other value that is not a positive integer is a decode error.
- A core price-list assignment's ``customer_group_id``/``channel_id`` of ``null``/``0`` means
  "none" (a list for every channel, or a channel's default list).

A value that cannot be decoded at all (an id that is not a number) raises ``ApiError``: the
answer is not one the docs describe, and guessing would corrupt a plan.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from reconciler.errors import ApiError
from reconciler.model import (
    COMPANY_STATUSES,
    ExtraFieldConfig,
    LiveCompany,
    LiveOrder,
    LivePriceListAssignment,
    LiveUser,
    PriceListAssignment,
    status_name,
)

ADDRESS_FIELDS = ("addressLine1", "addressLine2", "city", "state", "zipCode", "country")


class DecodeError(ApiError):
    """A response the docs do not describe."""

    def __init__(self, message: str) -> None:
        super().__init__(f"unexpected API response: {message}")


# ----------------------------------------------------------------------------- scalars


def opt_int(value: Any) -> int | None:
    """An int from ``12``, ``"12"``, ``12.0`` or ``" 12 "``; ``None``/``""`` -> ``None``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return None
            return int(number) if math.isfinite(number) and number.is_integer() else None
    return None


def req_int(value: Any, what: str) -> int:
    """Like ``opt_int`` but the value must be there."""
    out = opt_int(value)
    if out is None:
        raise DecodeError(f"{what} is {value!r}, not an integer")
    return out


def _id_value(value: Any) -> int | None:
    """A positive integer id from ``12``, ``12.0`` or ``"12"``; ``None`` for anything else."""
    if type(value) is int:  # the commonest answer, first (a bool is not an int here)
        return value if value > 0 else None
    if type(value) is str and value.isdigit() and value.isascii():  # "147340", the other one
        number = int(value)
        return number if number > 0 else None
    return _any_id(value)


def _any_id(value: Any) -> int | None:
    """``_id_value`` of any value, without its shortcuts for the commonest answers."""
    if type(value) is int:
        return value if value > 0 else None
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        value = int(text) if text.isascii() and text.isdigit() else None
    return value if isinstance(value, int) and value > 0 else None


def req_id(value: Any, what: str) -> int:
    """An id that must be a positive integer: ``"abc"``, ``"100.5"``, ``0``, ``-3`` are
    decode errors (guessing would name the wrong object)."""
    out = _id_value(value)
    if out is None:
        raise DecodeError(f"{what} is {value!r}, not a positive integer id")
    return out


def opt_id(value: Any, what: str) -> int | None:
    """An optional id: ``None``, ``""`` and ``0`` (the documented "none") -> ``None``; any
    other value must be a positive integer (else a decode error, never "none")."""
    if value is None or value == "" or value == 0 or value == "0":
        return None
    if isinstance(value, bool):
        raise DecodeError(f"{what} is {value!r}, not a positive integer id")
    return req_id(value, what)


_EXACT_FLOAT = 2**53
"""Integers below this in size survive ``int(float(n))`` unchanged."""
_EXACT_DIGITS = 16
"""Strings of fewer digits than this are numbers below ``_EXACT_FLOAT``."""


def timestamp(value: Any) -> int:
    """Unix seconds from a string or a number; missing or empty -> 0."""
    if type(value) is int and -_EXACT_FLOAT < value < _EXACT_FLOAT:
        return value  # what the float round trip below gives, without it
    if type(value) is str and len(value) < _EXACT_DIGITS and value.isdigit() and value.isascii():
        return int(value)  # "1699999999", as the companies' list sends it: exact, no float
    return _any_timestamp(value)


def _any_timestamp(value: Any) -> int:
    """``timestamp`` of any value, without its shortcuts for the commonest answers."""
    number = opt_number(value)
    return 0 if number is None else int(number)


def text(value: Any) -> str:
    """A clean string: ``None`` -> ``""``; numbers as their text; surrounding blanks kept."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def flag(value: Any) -> bool:
    """A bool from ``true``, ``1``, ``"1"``, ``"true"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return False


_STATUS_NAMES: dict[str | int, str] = {
    **{code: status_name(code) for code in range(len(COMPANY_STATUSES))},
    **{str(code): status_name(code) for code in range(len(COMPANY_STATUSES))},
}
"""The commonest ``companyStatus`` answers (``"1"``, ``1``) and their names."""


def status(value: Any) -> str:
    """``companyStatus`` ``"1"``/``1`` -> ``approved``."""
    if type(value) is str or type(value) is int:  # (not a bool or a float, though equal)
        name = _STATUS_NAMES.get(value)
        if name is not None:
            return name
    return status_name(req_int(value, "companyStatus"))


def opt_number(value: Any) -> float | None:
    """A float from a number or numeric string; ``None``/``""`` -> ``None``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and value.strip():
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


# ----------------------------------------------------------------------------- envelopes


def data(body: Any) -> Any:
    """The ``data`` of an envelope (the body itself when it has no envelope)."""
    if isinstance(body, Mapping) and "data" in body:
        return body["data"]
    return body


def one(body: Any, what: str) -> Mapping[str, Any]:
    """The single object of ``data``, sent as an object or a one-element array."""
    value = data(body)
    if isinstance(value, list):
        if len(value) != 1:
            raise DecodeError(f"{what}: expected one object, got a list of {len(value)}")
        value = value[0]
    if not isinstance(value, Mapping):
        raise DecodeError(f"{what}: expected an object, got {type(value).__name__}")
    return value


_ONLY_DICTS = frozenset({dict})


def items(body: Any, what: str) -> list[Mapping[str, Any]]:
    """The objects of a list response's ``data``."""
    value = data(body)
    if value is None:
        return []
    if isinstance(value, Mapping):
        for key in ("list", "items", "results"):
            if isinstance(value.get(key), list):
                value = value[key]
                break
        else:
            if not value:
                return []
    if not isinstance(value, list):
        raise DecodeError(f"{what}: expected a list, got {type(value).__name__}")
    if _ONLY_DICTS.issuperset(map(type, value)):  # what a JSON body holds: no check per row
        return list(value)
    out = [v for v in value if isinstance(v, Mapping)]
    if len(out) != len(value):
        raise DecodeError(f"{what}: expected a list of objects")
    return out


def total_count(body: Any) -> int | None:
    """``meta.pagination.totalCount``, or the flat ``meta.totalCount``."""
    if not isinstance(body, Mapping):
        return None
    meta = body.get("meta")
    if not isinstance(meta, Mapping):
        return None
    pagination = meta.get("pagination")
    if isinstance(pagination, Mapping):
        for key in ("totalCount", "total"):
            if key in pagination:
                return opt_int(pagination[key])
    for key in ("totalCount", "total"):
        if key in meta:
            return opt_int(meta[key])
    return None


def total_pages(body: Any) -> int | None:
    """Core V3 ``meta.pagination.total_pages``."""
    if not isinstance(body, Mapping):
        return None
    meta = body.get("meta")
    if not isinstance(meta, Mapping):
        return None
    pagination = meta.get("pagination")
    if isinstance(pagination, Mapping):
        return opt_int(pagination.get("total_pages"))
    return None


# ----------------------------------------------------------------------------- objects


def extra_values(value: Any) -> dict[str, str]:
    """``[{fieldName, fieldValue}]`` (or a ``{name: value}`` map) -> ``{name: str(value)}``."""
    out: dict[str, str] = {}
    if type(value) is not list:  # (the documented answer is a list: it goes first)
        if isinstance(value, Mapping):
            for key, inner in value.items():
                out[str(key)] = text(inner)
            return out
        if not isinstance(value, list):
            return out
    for item in value:
        if type(item) is not dict and not isinstance(item, Mapping):
            continue
        name = item.get("fieldName")
        if name is None or name == "":
            continue
        out[str(name)] = text(item.get("fieldValue"))
    return out


def price_list_assign(value: Any) -> tuple[PriceListAssignment, ...]:
    """``[{channelId, priceListId, ...}]`` -> pairs (entries without both ids are dropped)."""
    if not isinstance(value, list):
        return ()
    out: list[PriceListAssignment] = []
    for item in value:
        if not isinstance(item, Mapping):
            continue
        channel, price_list = opt_int(item.get("channelId")), opt_int(item.get("priceListId"))
        if channel is not None and price_list is not None:
            out.append(PriceListAssignment(channel_id=channel, price_list_id=price_list))
    return tuple(out)


def company(obj: Mapping[str, Any]) -> LiveCompany:
    """One company from a list item or a detail ``data``."""
    raw_group = obj.get("bcGroupId")
    if raw_group is None:
        raw_group = obj.get("customerGroupId")
    group = (
        raw_group if type(raw_group) is int and raw_group > 0 else opt_id(raw_group, "bcGroupId")
    )
    address = {k: text(obj[k]) for k in ADDRESS_FIELDS if k in obj and obj[k] is not None}
    return LiveCompany(
        company_id=req_id(obj.get("companyId", obj.get("id")), "companyId"),
        customer_group_id=group,
        company_name=text(obj.get("companyName")),
        company_email=text(obj.get("companyEmail")),
        company_phone=text(obj.get("companyPhone")),
        status=status(obj.get("companyStatus")),
        uuid=text(obj.get("uuid")),
        catalog_id=text(obj.get("catalogId")),
        price_list_assign=price_list_assign(obj.get("priceListAssign")),
        extra_fields=extra_values(obj.get("extraFields")),
        address=address,
        updated_at=timestamp(obj.get("updatedAt")),
    )


def order_company(value: Any) -> int | None:
    """An order's ``companyId``: ``null``, ``""`` and ``0`` (B2C and guest orders) -> ``None``."""
    return opt_id(value, "order companyId")


def order(obj: Mapping[str, Any]) -> LiveOrder:
    """One order from a list item or a detail ``data``."""
    raw, company = obj.get("bcOrderId"), obj.get("companyId")
    # the commonest answers (a positive int id; a positive int or null company) first
    return LiveOrder(
        bc_order_id=raw if type(raw) is int and raw > 0 else req_id(raw, "bcOrderId"),
        company_id=(
            company
            if company is None or (type(company) is int and company > 0)
            else order_company(company)
        ),
        po_number=text(obj.get("poNumber")),
        extra_fields=extra_values(obj.get("extraFields")),
        updated_at=timestamp(obj.get("updatedAt")),
        created_at=timestamp(obj.get("createdAt")),
    )


def order_if_wanted(obj: Mapping[str, Any], wanted: Collection[int]) -> LiveOrder | int:
    """``order(obj)`` when its id is ``wanted``; else its id, after the checks ``order`` makes
    (its id and company id; the other fields are never refused)."""
    raw = obj.get("bcOrderId")
    # The commonest answers first (a positive int id; a positive int or null company): a pass
    # over 500,000 orders checks every one of them. Anything else takes the full checks.
    bc_order_id = raw if type(raw) is int and raw > 0 else req_id(raw, "bcOrderId")
    if bc_order_id in wanted:
        return order(obj)
    company = obj.get("companyId")
    if company is not None and not (type(company) is int and company > 0):
        order_company(company)
    return bc_order_id


def extra_field_config(obj: Mapping[str, Any]) -> ExtraFieldConfig:
    """One extra-field config, from the company/user or the order spelling."""
    values = obj.get("listOfValues")
    if values is None:
        values = obj.get("listOfValue")
    if isinstance(values, str):
        values = [values] if values else []
    if not isinstance(values, Sequence):
        values = []
    max_length = opt_int(obj.get("maximumLength"))
    return ExtraFieldConfig(
        name=text(obj.get("fieldName")),
        field_type=opt_int(obj.get("fieldType")) or 0,
        required=flag(obj.get("isRequired")),
        max_length=max_length if max_length and max_length > 0 else None,
        maximum_value=opt_number(obj.get("maximumValue")),
        list_of_values=tuple(text(v) for v in values),
        unique=flag(obj.get("isUnique")),
        label=text(obj.get("labelName")),
    )


def price_list_assignment(obj: Mapping[str, Any]) -> LivePriceListAssignment:
    """A core assignment ``{id, price_list_id, customer_group_id, channel_id}``; a group or
    channel of ``null``, ``""`` or ``0`` means none; any other non-id is a decode error."""
    return LivePriceListAssignment(
        assignment_id=req_id(obj.get("id"), "price list assignment id"),
        price_list_id=req_id(obj.get("price_list_id"), "price_list_id"),
        customer_group_id=opt_id(obj.get("customer_group_id"), "customer_group_id"),
        channel_id=opt_id(obj.get("channel_id"), "channel_id"),
    )


def user(obj: Mapping[str, Any]) -> tuple[int, int | None, int]:
    """``(customerId, companyId, updatedAt)`` of a company user."""
    customer, company, updated = obj.get("customerId"), obj.get("companyId"), obj.get("updatedAt")
    if (  # the commonest answer, all positive ints: as they are (a pass lists every user)
        type(customer) is int
        and customer > 0
        and type(company) is int
        and company > 0
        and type(updated) is int
        and -_EXACT_FLOAT < updated < _EXACT_FLOAT
    ):
        return customer, company, updated
    return (
        req_id(customer, "customerId"),
        opt_id(company, "user companyId"),
        timestamp(updated),
    )


def live_user(obj: Mapping[str, Any]) -> LiveUser:
    """One ``userResponse``: ``channelList`` becomes channel ids; ``role`` 0..2 (a custom role's
    ``companyRoleId`` is kept beside it)."""
    company_id = opt_int(obj.get("companyId"))
    role = opt_int(obj.get("role"))
    channels: list[int] = []
    for entry in obj.get("channelList") or ():
        channel = opt_int(entry.get("channelId")) if isinstance(entry, Mapping) else None
        if channel is not None and channel not in channels:
            channels.append(channel)
    return LiveUser(
        user_id=req_int(obj.get("id"), "user id"),
        customer_id=req_int(obj.get("customerId"), "customerId"),
        company_id=None if company_id in (None, 0) else company_id,
        email=text(obj.get("email")),
        first_name=text(obj.get("firstName")),
        last_name=text(obj.get("lastName")),
        phone_number=text(obj.get("phoneNumber")),
        role=role if role in (0, 1, 2) else 2,
        company_role_id=opt_int(obj.get("companyRoleId")),
        uuid=text(obj.get("uuid")),
        channel_ids=tuple(channels),
        extra_fields=extra_values(obj["extraFields"]) if "extraFields" in obj else None,
        updated_at=timestamp(obj.get("updatedAt")),
        created_at=timestamp(obj.get("createdAt")),
    )


def created_user(value: Any) -> tuple[int, int]:
    """``(userId, bcId)`` of a ``POST /users`` answer (envelope or its ``data``)."""
    if isinstance(value, Mapping) and "data" in value and "userId" not in value:
        value = value["data"]
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, Mapping):
        raise DecodeError(f"created user: expected an object, got {type(value).__name__}")
    return req_int(value.get("userId"), "userId"), req_int(value.get("bcId"), "bcId")


def created_company_id(value: Any) -> int:
    """``data.companyId`` of a create/convert answer: string or int, object or one-element list.

    Accepts the whole envelope as well as its ``data``.
    """
    if isinstance(value, Mapping) and "data" in value and "companyId" not in value:
        value = value["data"]
    if isinstance(value, list):
        if len(value) != 1:
            raise DecodeError(f"created company: expected one object, got a list of {len(value)}")
        value = value[0]
    if not isinstance(value, Mapping):
        raise DecodeError(f"created company: expected an object, got {type(value).__name__}")
    return req_id(value.get("companyId", value.get("id")), "created companyId")
