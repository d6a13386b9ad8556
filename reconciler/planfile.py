"""Saved plans: the contract's Plan JSON, read back strictly.

A plan file is written by this tool and read by ``apply --plan`` and ``show``. Reading is strict:
the ``formatVersion`` must be one this version writes, every key must be known, every value must
have its type, the summary must agree with the actions, and every ``dependsOn`` must name an
earlier action. A file that fails any of these is refused with a message naming the file and the
place in it, never a traceback: applying a plan that was edited by hand or written by another
version is worse than refusing it.

``plan_to_json`` is the one producer of the shape; ``plan_from_json(plan_to_json(p)) == p``.
Maps keyed by integers (preconditions) become objects keyed by decimal strings, sorted by number,
so the same plan always serializes to the same bytes.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

from reconciler.errors import PlanFileError
from reconciler.jsontext import Lazy, iter_indented
from reconciler.kinds import action_types, api_requests, estimated_seconds
from reconciler.localfile import MIB, LocalFileProblem, read_capped
from reconciler.model import (
    JSON,
    Action,
    ExtraFieldConfig,
    FieldChange,
    LiveCompany,
    LiveCustomer,
    LiveOrder,
    LivePriceListAssignment,
    LiveState,
    LiveUser,
    Plan,
    Preconditions,
    PriceListAssignment,
    Refresh,
    Request,
    StoreInfo,
)

FORMAT_VERSION = 1
"""The plan file format this version writes and reads."""
MAX_PLAN_BYTES = 64 * MIB
"""Largest plan file read (a plan of 50,000 actions is about 30 MiB)."""

_METHODS = ("GET", "POST", "PUT", "DELETE")

_TOP_KEYS = (
    "formatVersion",
    "createdAt",
    "store",
    "manifestDigest",
    "summary",
    "actions",
    "unmanaged",
    "warnings",
    "preconditions",
    "managedObjects",
    "targets",
    "live",
    "refresh",
)
_OPTIONAL_TOP_KEYS = frozenset({"managedObjects", "targets", "live", "refresh"})
_STORE_KEYS = (
    "hash",
    "companiesBehavior",
    "multiStorefront",
    "requestsPerMinute",
    "maxChangePercent",
)
_SUMMARY_TOTALS = ("total", "apiRequests", "estimatedSeconds")
_ACTION_KEYS = (
    "id",
    "type",
    "resource",
    "dependsOn",
    "request",
    "changes",
    "irreversible",
    "sideEffects",
    "target",
)
_TARGET_KEYS = ("customerGroupId", "companyId", "customerId", "bcOrderId", "company")
_PRECONDITION_KEYS = ("watermark", "companies", "freeGroups", "orders", "customers")
_LIVE_KEYS = (
    "readAt",
    "companyTotal",
    "companies",
    "customerGroups",
    "priceLists",
    "channels",
    "companyExtraFieldConfigs",
    "orderExtraFieldConfigs",
    "customers",
    "orders",
    "users",
    "userExtraFieldConfigs",
    "priceListAssignments",
    "storeReadAt",
)
_OPTIONAL_LIVE_KEYS = ("users", "userExtraFieldConfigs", "priceListAssignments", "storeReadAt")
"""Written only when CompanyUsers documents made them read, or (``storeReadAt``) when the store
told its time; older files lack them."""
_USER_KEYS = (
    "userId",
    "customerId",
    "companyId",
    "email",
    "firstName",
    "lastName",
    "phoneNumber",
    "role",
    "companyRoleId",
    "uuid",
    "channelIds",
    "extraFields",
    "updatedAt",
    "createdAt",
)
_ASSIGNMENT_KEYS = ("id", "priceListId", "customerGroupId", "channelId")
_COMPANY_KEYS = (
    "companyId",
    "customerGroupId",
    "companyName",
    "companyEmail",
    "companyPhone",
    "status",
    "uuid",
    "catalogId",
    "priceListAssign",
    "extraFields",
    "address",
    "updatedAt",
)
_CONFIG_KEYS = (
    "fieldName",
    "fieldType",
    "isRequired",
    "maximumLength",
    "maximumValue",
    "listOfValues",
    "isUnique",
    "labelName",
)
_CUSTOMER_KEYS = ("customerId", "companyId", "userUpdatedAt", "orderIds", "email")
_ORDER_KEYS = ("bcOrderId", "companyId", "poNumber", "extraFields", "updatedAt", "createdAt")


# --------------------------------------------------------------------------- writing


def plan_to_json(plan: Plan) -> dict[str, JSON]:
    """Return the contract's Plan JSON object for a plan."""
    return _plan_json(plan, lazy=False)


def _plan_json(plan: Plan, *, lazy: bool) -> dict[str, Any]:
    """The Plan JSON object; with ``lazy``, the live state's long lists are ``jsontext.Lazy``
    (their items made only as they are written)."""
    counts = plan.counts()
    summary: dict[str, JSON] = {kind: counts[kind] for kind in action_types()}
    summary["total"] = len(plan.actions)
    summary["apiRequests"] = api_requests(plan)
    summary["estimatedSeconds"] = estimated_seconds(plan)
    pre = plan.preconditions
    return {
        "formatVersion": FORMAT_VERSION,
        "createdAt": plan.created_at,
        "store": {
            "hash": plan.store.hash,
            "companiesBehavior": plan.store.companies_behavior,
            "multiStorefront": plan.store.multi_storefront,
            "requestsPerMinute": plan.store.requests_per_minute,
            "maxChangePercent": plan.store.max_change_percent,
        },
        "manifestDigest": plan.manifest_digest,
        "summary": summary,
        "actions": [action.to_json() for action in plan.actions],
        "unmanaged": {
            "companies": plan.unmanaged_companies,
            **({"users": plan.unmanaged_users} if plan.unmanaged_users is not None else {}),
        },
        "warnings": list(plan.warnings),
        "preconditions": {
            "watermark": pre.watermark,
            "companies": _int_keyed(pre.companies),
            "freeGroups": list(pre.free_groups),
            "orders": _int_keyed(pre.orders),
            "customers": _int_keyed(pre.customers),
        },
        "managedObjects": plan.managed_objects,
        "targets": list(plan.targets),
        **({"live": _live_json(plan.live, lazy=lazy)} if plan.live is not None else {}),
        **({"refresh": plan.refresh.to_json()} if plan.refresh is not None else {}),
    }


def live_to_json(live: LiveState) -> dict[str, JSON]:
    """The recorded live state of a plan (``Plan.live``) as JSON, deterministic."""
    return _live_json(live, lazy=False)


def _each(make: Callable[[T], JSON], items: Collection[T], lazy: bool) -> Any:
    """``[make(i) for i in items]``, or with ``lazy`` the same list made as it is written."""
    return Lazy(items, make) if lazy else [make(i) for i in items]


def _live_json(live: LiveState, *, lazy: bool) -> dict[str, Any]:
    customers, orders = live.customers, live.orders
    return {
        "readAt": live.read_at,
        **({"storeReadAt": live.store_read_at} if live.store_read_at is not None else {}),
        "companyTotal": live.company_total,
        "companies": _each(company_json, live.companies, lazy),
        "customerGroups": sorted(live.customer_groups),
        "priceLists": sorted(live.price_lists),
        "channels": sorted(live.channels),
        "companyExtraFieldConfigs": [_config_json(c) for c in live.company_field_configs],
        "orderExtraFieldConfigs": [_config_json(c) for c in live.order_field_configs],
        "customers": _each(lambda k: customer_json(customers[k]), sorted(customers), lazy),
        "orders": _each(lambda k: order_json(orders[k]), sorted(orders), lazy),
        **(
            {
                "users": [_user_json(u) for u in sorted(live.users, key=lambda u: u.user_id)],
                "userExtraFieldConfigs": [_config_json(c) for c in live.user_field_configs],
            }
            if live.users or live.user_field_configs
            else {}
        ),
        **(
            {
                "priceListAssignments": [
                    {
                        "id": a.assignment_id,
                        "priceListId": a.price_list_id,
                        "customerGroupId": a.customer_group_id,
                        "channelId": a.channel_id,
                    }
                    for a in live.price_list_assignments
                ]
            }
            if live.price_list_assignments
            else {}
        ),
    }


def customer_json(c: LiveCustomer) -> dict[str, JSON]:
    """One entry of ``live.customers`` in the plan's JSON."""
    return {
        "customerId": c.customer_id,
        "companyId": c.company_id,
        "userUpdatedAt": c.user_updated_at,
        "orderIds": list(c.order_ids),
        **({"email": c.email} if c.email is not None else {}),
    }


def order_json(o: LiveOrder) -> dict[str, JSON]:
    """One entry of ``live.orders`` in the plan's JSON."""
    return {
        "bcOrderId": o.bc_order_id,
        "companyId": o.company_id,
        "poNumber": o.po_number,
        "extraFields": dict(o.extra_fields),
        "updatedAt": o.updated_at,
        "createdAt": o.created_at,
    }


def _user_json(u: LiveUser) -> dict[str, JSON]:
    return {
        "userId": u.user_id,
        "customerId": u.customer_id,
        "companyId": u.company_id,
        "email": u.email,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "phoneNumber": u.phone_number,
        "role": u.role,
        "companyRoleId": u.company_role_id,
        "uuid": u.uuid,
        "channelIds": list(u.channel_ids),
        "extraFields": None if u.extra_fields is None else dict(u.extra_fields),
        "updatedAt": u.updated_at,
        "createdAt": u.created_at,
    }


def company_json(c: LiveCompany) -> dict[str, JSON]:
    return {
        "companyId": c.company_id,
        "customerGroupId": c.customer_group_id,
        "companyName": c.company_name,
        "companyEmail": c.company_email,
        "companyPhone": c.company_phone,
        "status": c.status,
        "uuid": c.uuid,
        "catalogId": c.catalog_id,
        "priceListAssign": [
            {"channelId": p.channel_id, "priceListId": p.price_list_id} for p in c.price_list_assign
        ],
        "extraFields": dict(c.extra_fields),
        "address": dict(c.address),
        "updatedAt": c.updated_at,
    }


def _config_json(c: ExtraFieldConfig) -> dict[str, JSON]:
    return {
        "fieldName": c.name,
        "fieldType": c.field_type,
        "isRequired": c.required,
        "maximumLength": c.max_length,
        "maximumValue": c.maximum_value,
        "listOfValues": list(c.list_of_values),
        "isUnique": c.unique,
        "labelName": c.label,
    }


def _int_keyed(mapping: Mapping[int, Any]) -> dict[str, Any]:
    return {str(key): mapping[key] for key in sorted(mapping)}


def plan_text(plan: Plan) -> Iterator[str]:
    """The text of ``dump_plan(plan)`` but its final newline, in chunks (``jsontext.iter_indented``
    over the Plan JSON, the live state's items made as they are written): a large plan is never
    held whole, neither as values nor as text. Each chunk but the last ends right before a
    newline of the text."""
    try:
        yield from iter_indented(_plan_json(plan, lazy=True))  # json.dumps(indent=2), leaner
    except (TypeError, ValueError) as exc:
        raise PlanFileError(f"plan cannot be written as JSON: {exc}") from exc


def dump_plan(plan: Plan) -> str:
    """Return the saved-file text of a plan: JSON, indent 2, deterministic, newline-terminated."""
    return "".join(plan_text(plan)) + "\n"


def save_plan(plan: Plan, path: str | os.PathLike[str]) -> None:
    """Write a plan file atomically (a temporary file beside it, then a rename), a chunk at a
    time."""
    target = Path(path)
    tmp_name: str | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for chunk in plan_text(plan):
                handle.write(chunk)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PlanFileError(f"plan file '{target}': cannot write: {reason}") from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


# --------------------------------------------------------------------------- reading


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """Read a plan file; ``PlanFileError`` naming the file on anything wrong."""
    source = Path(path)
    where = f"plan file '{source}'"
    try:
        raw = read_capped(source, MAX_PLAN_BYTES)
    except FileNotFoundError as exc:
        raise PlanFileError(f"{where}: not found") from exc
    except IsADirectoryError as exc:
        raise PlanFileError(f"{where}: is a directory, not a plan file") from exc
    except OSError as exc:
        raise PlanFileError(f"{where}: cannot read: {exc.strerror or exc}") from exc
    except LocalFileProblem as exc:
        raise PlanFileError(f"{where}: {exc}; give the file that plan --out wrote") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanFileError(f"{where}: not a plan file (not UTF-8 text)") from exc
    return loads_plan(text, where=where)


def loads_plan(text: str, *, where: str = "plan") -> Plan:
    """Parse plan-file text; ``PlanFileError`` prefixed with ``where`` on anything wrong."""
    if not text.strip():
        raise PlanFileError(f"{where}: empty, not a plan file")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip())
        hint = " (the file looks truncated)" if truncated else ""
        raise PlanFileError(
            f"{where}: not valid JSON{hint}: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except ValueError as exc:  # duplicate keys, NaN/Infinity
        raise PlanFileError(f"{where}: not valid plan JSON: {exc}") from exc
    return plan_from_json(data, where=where)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def live_from_json(data: object, store_hash: str, *, where: str) -> LiveState:
    """A recorded live state (``live_to_json``'s shape), checked as strictly as a plan's;
    ``PlanFileError`` prefixed with ``where`` on anything wrong."""
    return _Reader(where).live(data, store_hash)


def plan_from_json(data: object, *, where: str = "plan") -> Plan:
    """Build a Plan from Plan JSON, checking it strictly; ``PlanFileError`` on anything wrong."""
    reader = _Reader(where)
    return reader.plan(data)


# --------------------------------------------------------------------------- strict reader

T = TypeVar("T")


class _Reader:
    """Validates Plan JSON, naming the place of the first problem (``actions[2].request``)."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, at: str, message: str) -> NoReturn:
        place = f"{self.where}: {at}: " if at else f"{self.where}: "
        raise PlanFileError(place + message)

    # ----------------------------------------------------------------- primitives

    def obj(
        self,
        value: object,
        at: str,
        keys: tuple[str, ...],
        optional: frozenset[str] | tuple[str, ...] = (),
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(at, f"expected an object, found {_kind(value)}")
        unknown = [k for k in value if k not in keys]
        if unknown:
            self.fail(at, f"unknown key {unknown[0]!r}")
        missing = [k for k in keys if k not in value and k not in optional]
        if missing:
            self.fail(at, f"missing key {missing[0]!r}")
        return cast(dict[str, Any], value)

    def str_(self, value: object, at: str, *, nonempty: bool = False) -> str:
        if not isinstance(value, str):
            self.fail(at, f"expected a string, found {_kind(value)}")
        if nonempty and not value:
            self.fail(at, "must not be empty")
        return value

    def int_(self, value: object, at: str, *, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(at, f"expected an integer, found {_kind(value)}")
        if minimum is not None and value < minimum:
            self.fail(at, f"must be at least {minimum}, found {value}")
        return value

    def opt_int(self, value: object, at: str) -> int | None:
        return None if value is None else self.int_(value, at)

    def number(self, value: object, at: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(at, f"expected a number, found {_kind(value)}")
        if not math.isfinite(value):
            self.fail(at, "must be a finite number")
        return float(value)

    def bool_(self, value: object, at: str) -> bool:
        if not isinstance(value, bool):
            self.fail(at, f"expected true or false, found {_kind(value)}")
        return value

    def list_(self, value: object, at: str, item: Callable[[object, str], T]) -> tuple[T, ...]:
        if not isinstance(value, list):
            self.fail(at, f"expected a list, found {_kind(value)}")
        return tuple(item(v, f"{at}[{i}]") for i, v in enumerate(value))

    def int_map(self, value: object, at: str, item: Callable[[object, str], T]) -> dict[int, T]:
        if not isinstance(value, dict):
            self.fail(at, f"expected an object, found {_kind(value)}")
        out: dict[int, T] = {}
        for key, raw in value.items():
            if not isinstance(key, str) or not (key.isascii() and key.isdigit()):
                self.fail(at, f"key {key!r} is not a decimal id")
            if len(key) > 1 and key[0] == "0":
                self.fail(at, f"key {key!r} is not a decimal id")
            out[int(key)] = item(raw, f"{at}.{key}")
        return out

    def json_value(self, value: object, at: str) -> JSON:
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, float):
            return self.number(value, at)
        if isinstance(value, list):
            return [self.json_value(v, f"{at}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            out: dict[str, JSON] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    self.fail(at, f"object key {key!r} is not a string")
                out[key] = self.json_value(item, f"{at}.{key}")
            return out
        self.fail(at, f"not a JSON value: {_kind(value)}")

    # ----------------------------------------------------------------- the shape

    def plan(self, data: object) -> Plan:
        if not isinstance(data, dict):
            self.fail("", f"not a plan (expected a JSON object, found {_kind(data)})")
        if "formatVersion" not in data:
            self.fail("", "not a plan (no formatVersion)")
        version = data["formatVersion"]
        if isinstance(version, bool) or not isinstance(version, int):
            self.fail("formatVersion", f"expected an integer, found {_kind(version)}")
        if version != FORMAT_VERSION:
            self.fail(
                "formatVersion",
                f"version {version} is not supported (this b2b-reconcile reads version "
                f"{FORMAT_VERSION}); make the plan again with this version",
            )
        top = self.obj(data, "", _TOP_KEYS, _OPTIONAL_TOP_KEYS)

        store = self.store(top["store"])
        actions = self.list_(top["actions"], "actions", self.action)
        self.check_order(actions)
        self.check_summary(top["summary"], actions)
        unmanaged = self.obj(top["unmanaged"], "unmanaged", ("companies", "users"), ("users",))
        return Plan(
            created_at=self.str_(top["createdAt"], "createdAt"),
            store=store,
            manifest_digest=self.str_(top["manifestDigest"], "manifestDigest"),
            actions=actions,
            preconditions=self.preconditions(top["preconditions"]),
            unmanaged_companies=self.int_(unmanaged["companies"], "unmanaged.companies", minimum=0),
            unmanaged_users=(
                self.int_(unmanaged["users"], "unmanaged.users", minimum=0)
                if "users" in unmanaged
                else None
            ),
            managed_objects=self.int_(top.get("managedObjects", 0), "managedObjects", minimum=0),
            warnings=self.list_(top["warnings"], "warnings", self.str_),
            targets=self.list_(top.get("targets", []), "targets", self.str_),
            live=self.live(top["live"], store.hash) if "live" in top else None,
            refresh=self.refresh(top["refresh"]) if "refresh" in top else None,
        )

    def refresh(self, value: object) -> Refresh:
        at = "refresh"
        keys = ("mode", "reason", "snapshotTakenAt", "snapshotAgeSeconds")
        obj = self.obj(
            value,
            at,
            (*keys, "fromSnapshot", "readInFull"),
            (*keys[1:], "fromSnapshot", "readInFull"),
        )
        mode = obj["mode"]
        if mode not in ("full", "incremental"):
            self.fail(f"{at}.mode", f"expected full or incremental, found {mode!r}")
        return Refresh(
            mode=mode,
            reason=self.str_(obj.get("reason", ""), f"{at}.reason"),
            snapshot_taken_at=self.opt_int(obj.get("snapshotTakenAt"), f"{at}.snapshotTakenAt"),
            age=self.opt_int(obj.get("snapshotAgeSeconds"), f"{at}.snapshotAgeSeconds"),
            from_snapshot=self.list_(obj.get("fromSnapshot", []), f"{at}.fromSnapshot", self.str_),
            read_in_full=self.list_(obj.get("readInFull", []), f"{at}.readInFull", self.str_),
        )

    def live(self, value: object, store_hash: str) -> LiveState:
        at = "live"
        obj = self.obj(value, at, _LIVE_KEYS, _OPTIONAL_LIVE_KEYS)
        customers = self.list_(obj["customers"], f"{at}.customers", self.customer)
        orders = self.list_(obj["orders"], f"{at}.orders", self.order)
        return LiveState(
            store_hash=store_hash,
            companies=self.list_(obj["companies"], f"{at}.companies", self.company),
            customer_groups=frozenset(
                self.list_(obj["customerGroups"], f"{at}.customerGroups", self.int_)
            ),
            price_lists=frozenset(self.list_(obj["priceLists"], f"{at}.priceLists", self.int_)),
            channels=frozenset(self.list_(obj["channels"], f"{at}.channels", self.int_)),
            company_field_configs=self.list_(
                obj["companyExtraFieldConfigs"], f"{at}.companyExtraFieldConfigs", self.config
            ),
            order_field_configs=self.list_(
                obj["orderExtraFieldConfigs"], f"{at}.orderExtraFieldConfigs", self.config
            ),
            customers={c.customer_id: c for c in customers},
            orders={o.bc_order_id: o for o in orders},
            users=self.list_(obj.get("users", []), f"{at}.users", self.user),
            user_field_configs=self.list_(
                obj.get("userExtraFieldConfigs", []), f"{at}.userExtraFieldConfigs", self.config
            ),
            read_at=self.int_(obj["readAt"], f"{at}.readAt", minimum=0),
            store_read_at=(
                None
                if obj.get("storeReadAt") is None
                else self.int_(obj["storeReadAt"], f"{at}.storeReadAt", minimum=0)
            ),
            company_total=self.opt_int(obj["companyTotal"], f"{at}.companyTotal"),
            price_list_assignments=tuple(
                self.list_(
                    obj.get("priceListAssignments", []),
                    f"{at}.priceListAssignments",
                    self.assignment,
                )
            ),
        )

    def assignment(self, value: object, at: str) -> LivePriceListAssignment:
        obj = self.obj(value, at, _ASSIGNMENT_KEYS)
        return LivePriceListAssignment(
            assignment_id=self.int_(obj["id"], f"{at}.id", minimum=1),
            price_list_id=self.int_(obj["priceListId"], f"{at}.priceListId", minimum=1),
            customer_group_id=self.opt_int(obj["customerGroupId"], f"{at}.customerGroupId"),
            channel_id=self.opt_int(obj["channelId"], f"{at}.channelId"),
        )

    def str_map(self, value: object, at: str) -> dict[str, str]:
        if not isinstance(value, dict):
            self.fail(at, f"expected an object, found {_kind(value)}")
        return {str(k): self.str_(v, f"{at}.{k}") for k, v in value.items()}

    def company(self, value: object, at: str) -> LiveCompany:
        obj = self.obj(value, at, _COMPANY_KEYS)
        pairs = self.list_(obj["priceListAssign"], f"{at}.priceListAssign", self.price_pair)
        return LiveCompany(
            company_id=self.int_(obj["companyId"], f"{at}.companyId", minimum=1),
            customer_group_id=self.opt_int(obj["customerGroupId"], f"{at}.customerGroupId"),
            company_name=self.str_(obj["companyName"], f"{at}.companyName"),
            company_email=self.str_(obj["companyEmail"], f"{at}.companyEmail"),
            company_phone=self.str_(obj["companyPhone"], f"{at}.companyPhone"),
            status=self.str_(obj["status"], f"{at}.status"),
            uuid=self.str_(obj["uuid"], f"{at}.uuid"),
            catalog_id=self.str_(obj["catalogId"], f"{at}.catalogId"),
            price_list_assign=pairs,
            extra_fields=self.str_map(obj["extraFields"], f"{at}.extraFields"),
            address=self.str_map(obj["address"], f"{at}.address"),
            updated_at=self.int_(obj["updatedAt"], f"{at}.updatedAt"),
        )

    def price_pair(self, value: object, at: str) -> PriceListAssignment:
        obj = self.obj(value, at, ("channelId", "priceListId"))
        return PriceListAssignment(
            channel_id=self.int_(obj["channelId"], f"{at}.channelId"),
            price_list_id=self.int_(obj["priceListId"], f"{at}.priceListId"),
        )

    def config(self, value: object, at: str) -> ExtraFieldConfig:
        obj = self.obj(value, at, _CONFIG_KEYS)
        maximum = obj["maximumValue"]
        return ExtraFieldConfig(
            name=self.str_(obj["fieldName"], f"{at}.fieldName"),
            field_type=self.int_(obj["fieldType"], f"{at}.fieldType"),
            required=self.bool_(obj["isRequired"], f"{at}.isRequired"),
            max_length=self.opt_int(obj["maximumLength"], f"{at}.maximumLength"),
            maximum_value=None if maximum is None else self.number(maximum, f"{at}.maximumValue"),
            list_of_values=self.list_(obj["listOfValues"], f"{at}.listOfValues", self.str_),
            unique=self.bool_(obj["isUnique"], f"{at}.isUnique"),
            label=self.str_(obj["labelName"], f"{at}.labelName"),
        )

    def customer(self, value: object, at: str) -> LiveCustomer:
        obj = self.obj(value, at, _CUSTOMER_KEYS, ("email",))
        email = obj.get("email")
        return LiveCustomer(
            customer_id=self.int_(obj["customerId"], f"{at}.customerId"),
            company_id=self.opt_int(obj["companyId"], f"{at}.companyId"),
            user_updated_at=self.opt_int(obj["userUpdatedAt"], f"{at}.userUpdatedAt"),
            order_ids=self.list_(obj["orderIds"], f"{at}.orderIds", self.int_),
            email=None if email is None else self.str_(email, f"{at}.email"),
        )

    def user(self, value: object, at: str) -> LiveUser:
        obj = self.obj(value, at, _USER_KEYS)
        extra = obj["extraFields"]
        return LiveUser(
            user_id=self.int_(obj["userId"], f"{at}.userId"),
            customer_id=self.int_(obj["customerId"], f"{at}.customerId"),
            company_id=self.opt_int(obj["companyId"], f"{at}.companyId"),
            email=self.str_(obj["email"], f"{at}.email"),
            first_name=self.str_(obj["firstName"], f"{at}.firstName"),
            last_name=self.str_(obj["lastName"], f"{at}.lastName"),
            phone_number=self.str_(obj["phoneNumber"], f"{at}.phoneNumber"),
            role=self.int_(obj["role"], f"{at}.role", minimum=0),
            company_role_id=self.opt_int(obj["companyRoleId"], f"{at}.companyRoleId"),
            uuid=self.str_(obj["uuid"], f"{at}.uuid"),
            channel_ids=self.list_(obj["channelIds"], f"{at}.channelIds", self.int_),
            extra_fields=None if extra is None else self.str_map(extra, f"{at}.extraFields"),
            updated_at=self.int_(obj["updatedAt"], f"{at}.updatedAt"),
            created_at=self.int_(obj["createdAt"], f"{at}.createdAt"),
        )

    def order(self, value: object, at: str) -> LiveOrder:
        obj = self.obj(value, at, _ORDER_KEYS)
        return LiveOrder(
            bc_order_id=self.int_(obj["bcOrderId"], f"{at}.bcOrderId"),
            company_id=self.opt_int(obj["companyId"], f"{at}.companyId"),
            po_number=self.str_(obj["poNumber"], f"{at}.poNumber"),
            extra_fields=self.str_map(obj["extraFields"], f"{at}.extraFields"),
            updated_at=self.int_(obj["updatedAt"], f"{at}.updatedAt"),
            created_at=self.int_(obj["createdAt"], f"{at}.createdAt"),
        )

    def store(self, value: object) -> StoreInfo:
        at = "store"
        obj = self.obj(value, at, _STORE_KEYS, ("requestsPerMinute", "maxChangePercent"))
        return StoreInfo(
            hash=self.str_(obj["hash"], f"{at}.hash", nonempty=True),
            companies_behavior=self.str_(obj["companiesBehavior"], f"{at}.companiesBehavior"),
            multi_storefront=self.bool_(obj["multiStorefront"], f"{at}.multiStorefront"),
            requests_per_minute=self.int_(
                obj.get("requestsPerMinute", 120), f"{at}.requestsPerMinute", minimum=1
            ),
            max_change_percent=self.int_(
                obj.get("maxChangePercent", 30), f"{at}.maxChangePercent", minimum=0
            ),
        )

    def action(self, value: object, at: str) -> Action:
        obj = self.obj(value, at, _ACTION_KEYS, ("target",))
        kind = self.str_(obj["type"], f"{at}.type")
        if kind not in action_types():
            self.fail(f"{at}.type", f"{kind!r} is not one of {', '.join(action_types())}")
        resource = self.str_(obj["resource"], f"{at}.resource")
        if "/" not in resource or resource != resource.lower():
            self.fail(f"{at}.resource", f"{resource!r} is not kind/name in lower case")
        target = self.obj(obj.get("target", {}), f"{at}.target", _TARGET_KEYS, _TARGET_KEYS)
        company = target.get("company")
        if company is not None:
            company = self.str_(company, f"{at}.target.company")
        return Action(
            id=self.str_(obj["id"], f"{at}.id", nonempty=True),
            type=kind,
            resource=resource,
            request=self.request(obj["request"], f"{at}.request"),
            depends_on=self.list_(obj["dependsOn"], f"{at}.dependsOn", self.str_),
            changes=self.list_(obj["changes"], f"{at}.changes", self.change),
            irreversible=self.bool_(obj["irreversible"], f"{at}.irreversible"),
            side_effects=self.list_(obj["sideEffects"], f"{at}.sideEffects", self.str_),
            customer_group_id=self.opt_int(
                target.get("customerGroupId"), f"{at}.target.customerGroupId"
            ),
            company_id=self.opt_int(target.get("companyId"), f"{at}.target.companyId"),
            customer_id=self.opt_int(target.get("customerId"), f"{at}.target.customerId"),
            bc_order_id=self.opt_int(target.get("bcOrderId"), f"{at}.target.bcOrderId"),
            target_company=company,
        )

    def request(self, value: object, at: str) -> Request:
        obj = self.obj(value, at, ("method", "path", "body"))
        method = self.str_(obj["method"], f"{at}.method")
        if method not in _METHODS:
            self.fail(f"{at}.method", f"{method!r} is not one of {', '.join(_METHODS)}")
        path = self.str_(obj["path"], f"{at}.path")
        if not path.startswith("/"):
            self.fail(f"{at}.path", f"{path!r} does not start with '/'")
        return Request(
            method=cast(Any, method), path=path, body=self.json_value(obj["body"], f"{at}.body")
        )

    def change(self, value: object, at: str) -> FieldChange:
        obj = self.obj(value, at, ("path", "before", "after"))
        return FieldChange(
            path=self.str_(obj["path"], f"{at}.path", nonempty=True),
            before=self.json_value(obj["before"], f"{at}.before"),
            after=self.json_value(obj["after"], f"{at}.after"),
        )

    def preconditions(self, value: object) -> Preconditions:
        at = "preconditions"
        obj = self.obj(value, at, _PRECONDITION_KEYS)
        return Preconditions(
            watermark=self.int_(obj["watermark"], f"{at}.watermark"),
            companies=self.int_map(obj["companies"], f"{at}.companies", self.int_),
            free_groups=self.list_(obj["freeGroups"], f"{at}.freeGroups", self.int_),
            orders=self.int_map(obj["orders"], f"{at}.orders", self.int_),
            customers=self.int_map(obj["customers"], f"{at}.customers", self.opt_int),
        )

    # ----------------------------------------------------------------- consistency

    def check_order(self, actions: tuple[Action, ...]) -> None:
        seen: set[str] = set()
        ids = {a.id for a in actions}
        for i, action in enumerate(actions):
            if action.id in seen:
                self.fail(f"actions[{i}].id", f"duplicate action id {action.id!r}")
            for dep in action.depends_on:
                if dep not in ids:
                    self.fail(f"actions[{i}].dependsOn", f"names no action of this plan: {dep!r}")
                if dep not in seen:
                    self.fail(
                        f"actions[{i}].dependsOn",
                        f"{dep!r} comes after {action.id!r}; apply could not follow this order",
                    )
            seen.add(action.id)

    def check_summary(self, value: object, actions: tuple[Action, ...]) -> None:
        at = "summary"
        obj = self.obj(value, at, (*action_types(), *_SUMMARY_TOTALS))
        counts = Counter(action.type for action in actions)
        for kind in action_types():
            found = self.int_(obj[kind], f"{at}.{kind}", minimum=0)
            if found != counts[kind]:
                self.fail(
                    f"{at}.{kind}",
                    f"says {found} but the plan has {counts[kind]} {kind} action(s)",
                )
        total = self.int_(obj["total"], f"{at}.total", minimum=0)
        if total != len(actions):
            self.fail(f"{at}.total", f"says {total} but the plan has {len(actions)} action(s)")
        self.int_(obj["apiRequests"], f"{at}.apiRequests", minimum=0)
        self.number(obj["estimatedSeconds"], f"{at}.estimatedSeconds")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
