"""The snapshot of the last live read of a store: what an incremental refresh starts from.

``<cache-dir>/snapshot-<storeHash>.json`` (default cache folder ``.b2b-reconcile/``), written
atomically (a temporary file, then a rename) after every live read of ``plan`` and ``apply``.
It holds what that read found (the recorded-live shape of saved plans, ``planfile.live_to_json``)
and what it learned about the whole store when a part listed everything: every company, every
user's company, every B2B order id, the core order count and highest id. It holds no secret (no
token, no header, no URL), so it is safe to keep in a CI cache.

It is a cache and decides nothing on its own: anything wrong with it (missing, not a regular
file, too large, not JSON, another format version or store, taken in the future or longer ago
than the age bound) makes the read a full one, with a one-line reason; never an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reconciler.errors import PlanFileError
from reconciler.localfile import MIB, LocalFileProblem, read_capped
from reconciler.model import (
    JSON,
    GroupsSeen,
    LiveCompany,
    LiveCustomer,
    LiveOrder,
    LiveState,
    PriceListAssignment,
)
from reconciler.planfile import (
    company_json,
    customer_json,
    live_from_json,
    live_to_json,
    order_json,
)

FORMAT_VERSION = 1
MAX_SNAPSHOT_BYTES = 256 * MIB
"""Largest snapshot read (50,000 companies and 500,000 orders take about 30 MiB)."""
DEFAULT_MAX_AGE = 24 * 3600
"""Seconds after which a snapshot is not used (``--snapshot-max-age``)."""

UserRows = Mapping[int, tuple[int | None, int]]
"""customerId -> (companyId, updatedAt) of every company user."""


@dataclass(frozen=True)
class Snapshot:
    """What one live read found, and what it learned about the whole store."""

    store_hash: str
    taken_at: int
    """Unix seconds, our clock, when the read started."""
    live: LiveState
    """What the read found (every company when ``companies_complete``)."""
    companies_complete: bool = False
    user_rows: UserRows | None = None
    user_emails: frozenset[str] = frozenset()
    """The listed e-mails (lower case) whose users ``live.users`` holds, wherever they were."""
    order_ids: AbstractSet[int] | None = None
    """Every B2B order id (the read's own set, not copied: 500,000 ids take about 30 MB)."""
    core_count: int | None = None
    core_max_id: int | None = None
    needs: Mapping[str, JSON] = field(default_factory=dict)
    """The read's needs, for information."""
    groups: GroupsSeen | None = None
    """What the read's customer-group check learned (``live.GroupsSeen``)."""
    admin_emails: Mapping[str, tuple[int, int] | None] = field(default_factory=dict)
    """Admin e-mail (lower case) -> the user holding it, ``(customerId, companyId)``, or None:
    the read's answers to ``live.read_admin_users`` (kept only when the read listed every
    user's company: ``user_rows``)."""
    store_clock: Mapping[str, int] = field(default_factory=dict)
    """``"b2b"``/``"core"`` -> Unix seconds on the store's clock when the read's first request
    to that API reached it at the earliest (``Http.watch_store_clock``); absent when its
    answers had no readable ``Date`` header."""


def file_name(store_hash: str) -> str:
    """``snapshot-<storeHash>.json`` (characters other than letters, digits, ``-`` and ``_``
    become ``_``)."""
    return f"snapshot-{re.sub(r'[^A-Za-z0-9_-]', '_', store_hash)}.json"


def path_for(cache_dir: str, store_hash: str) -> Path:
    """Where the snapshot of a store is kept."""
    return Path(cache_dir) / file_name(store_hash)


# --------------------------------------------------------------------------- writing


def to_json(snap: Snapshot) -> dict[str, JSON]:
    """The snapshot file's JSON object."""
    return {
        "formatVersion": FORMAT_VERSION,
        "storeHash": snap.store_hash,
        "takenAt": snap.taken_at,
        "needs": dict(snap.needs),
        "live": live_to_json(snap.live),
        "companiesComplete": snap.companies_complete,
        "userRows": (
            None
            if snap.user_rows is None
            else [[c, *snap.user_rows[c]] for c in sorted(snap.user_rows)]
        ),
        "userEmails": sorted(snap.user_emails),
        "orderIds": None if snap.order_ids is None else sorted(snap.order_ids),
        "coreOrders": (
            None
            if snap.core_count is None or snap.core_max_id is None
            else {"count": snap.core_count, "maxId": snap.core_max_id}
        ),
        "storeClock": {k: snap.store_clock[k] for k in sorted(snap.store_clock)},
        "customerGroups": (
            None
            if snap.groups is None
            else {
                "count": snap.groups.count,
                "firstPage": list(snap.groups.first_page),
                "known": [[g, snap.groups.known[g]] for g in sorted(snap.groups.known)],
            }
        ),
        "adminEmails": {
            k: None if v is None else list(v) for k, v in sorted(snap.admin_emails.items())
        },
    }


_CHUNK = 1_000
"""Items encoded at a time when the snapshot is streamed to its file."""


def _dumps(value: JSON) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class _Stream:
    """A long JSON array written a chunk at a time (never held whole, neither as values nor
    as one string)."""

    def __init__(self, items: Iterable[JSON]) -> None:
        self.items = items

    def write(self, write: Callable[[str], object]) -> None:
        write("[")
        chunk: list[JSON] = []
        sep = ""
        for item in self.items:
            chunk.append(item)
            if len(chunk) == _CHUNK:
                write(sep + _dumps(chunk)[1:-1])
                sep, chunk = ",", []
        if chunk:
            write(sep + _dumps(chunk)[1:-1])
        write("]")


def _write_object(parts: Iterable[tuple[str, Any]], write: Callable[[str], object]) -> None:
    write("{")
    sep = ""
    for key, value in parts:
        write(sep + _dumps(key) + ":")
        sep = ","
        if isinstance(value, _Stream):
            value.write(write)
        elif key == "live":
            _write_object(value.items(), write)
        else:
            write(_dumps(value))
    write("}")


def _live_parts(live: LiveState) -> dict[str, Any]:
    light = live_to_json(replace(live, companies=(), customers={}, orders={}))
    streamed = {
        "companies": _Stream(company_json(c) for c in live.companies),
        "customers": _Stream(customer_json(live.customers[k]) for k in sorted(live.customers)),
        "orders": _Stream(order_json(live.orders[k]) for k in sorted(live.orders)),
    }
    return {k: streamed.get(k, v) for k, v in light.items()}


def write_json(snap: Snapshot, write: Callable[[str], object]) -> None:
    """Write the snapshot file's JSON object (exactly ``json.dumps(to_json(snap))``, compact)
    through ``write``, a chunk at a time: the large lists (companies, customers, orders, user
    rows, order ids) are encoded ``_CHUNK`` items at a time, so the whole text is never held."""
    rows = snap.user_rows
    empty = LiveState(store_hash=snap.store_hash)
    parts: dict[str, Any] = dict(to_json(replace(snap, live=empty, user_rows=None, order_ids=None)))
    parts["live"] = _live_parts(snap.live)
    if rows is not None:
        parts["userRows"] = _Stream([c, *rows[c]] for c in sorted(rows))
    if snap.order_ids is not None:
        parts["orderIds"] = _Stream(sorted(snap.order_ids))
    _write_object(parts.items(), write)


def save(cache_dir: str, snap: Snapshot) -> str:
    """Write the snapshot atomically; ``""``, or why it could not be written (a cache that
    cannot be written is skipped: the next read is a full one)."""
    target = path_for(cache_dir, snap.store_hash)
    tmp_name: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            write_json(snap, handle.write)
            handle.write("\n")
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        return f"snapshot {target} not written: {exc.strerror or exc}"
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
    return ""


# --------------------------------------------------------------------------- reading


class _Bad(Exception):
    """Why a snapshot cannot be used (the message completes "full read: ...")."""


def load(
    cache_dir: str, store_hash: str, *, now: int, max_age: int = DEFAULT_MAX_AGE
) -> tuple[Snapshot | None, str]:
    """The usable snapshot of this store, or None and why not (one line)."""
    path = path_for(cache_dir, store_hash)
    try:
        data = _read_json(path)
    except FileNotFoundError:
        return None, f"no snapshot yet ({path})"
    except OSError as exc:
        return None, f"snapshot {path} cannot be read: {exc.strerror or exc}"
    except LocalFileProblem as exc:
        return None, f"snapshot {path} {exc}"
    except _Bad as exc:
        return None, f"snapshot {path} not used: {exc}"
    try:
        snap = _parse(data, store_hash)
    except _Bad as exc:
        return None, f"snapshot {path} not used: {exc}"
    age = now - snap.taken_at
    if age < 0:
        return None, f"snapshot {path} was taken in the future (clock moved back?)"
    if age > max_age:
        return None, (
            f"snapshot {path} is {age_text(age)} old, older than {age_text(max_age)} "
            "(--snapshot-max-age)"
        )
    return snap, ""


def _read_json(path: Path) -> Any:
    """The snapshot file's JSON value. Neither its bytes nor its text outlive the parse (each
    is 35 MB at 50,000 companies, beside what is built from them)."""
    try:
        text = read_capped(path, MAX_SNAPSHOT_BYTES).decode("utf-8")
        return json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Bad(f"not valid JSON ({type(exc).__name__})") from None


def _parse(data: Any, store_hash: str) -> Snapshot:
    if not isinstance(data, dict):
        raise _Bad("not a snapshot (expected a JSON object)")
    if data.get("formatVersion") != FORMAT_VERSION:
        raise _Bad(f"format version {data.get('formatVersion')!r} (this version reads 1)")
    if data.get("storeHash") != store_hash:
        raise _Bad(f"made for store {data.get('storeHash')!r}")
    try:
        return _build(data, store_hash)
    except PlanFileError as exc:
        raise _Bad(str(exc)) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise _Bad(f"malformed ({type(exc).__name__})") from None


def _ints(value: Any, what: str) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise _Bad(f"{what}: expected a list of integers")
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise _Bad(f"expected an integer, found {type(value).__name__}")
    return value


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _Bad(f"expected a string, found {type(value).__name__}")
    return value


def _str_map(value: Any) -> dict[str, str]:
    if type(value) is not dict:
        raise _Bad(f"expected an object, found {type(value).__name__}")
    for item in value.values():
        _str(item)
    return value


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise _Bad(f"expected a list, found {type(value).__name__}")
    return value


def _company(c: dict[str, Any]) -> LiveCompany:
    return LiveCompany(
        company_id=_int(c["companyId"]),
        customer_group_id=_opt_int(c["customerGroupId"]),
        company_name=_str(c["companyName"]),
        company_email=_str(c["companyEmail"]),
        company_phone=_str(c["companyPhone"]),
        status=_str(c["status"]),
        uuid=_str(c["uuid"]),
        catalog_id=_str(c["catalogId"]),
        price_list_assign=tuple(
            PriceListAssignment(_int(p["channelId"]), _int(p["priceListId"]))
            for p in _list(c["priceListAssign"])
        ),
        extra_fields=_str_map(c["extraFields"]),
        address=_str_map(c["address"]),
        updated_at=_int(c["updatedAt"]),
    )


def _order(o: dict[str, Any]) -> LiveOrder:
    return LiveOrder(
        bc_order_id=_int(o["bcOrderId"]),
        company_id=_opt_int(o["companyId"]),
        po_number=_str(o["poNumber"]),
        extra_fields=_str_map(o["extraFields"]),
        updated_at=_int(o["updatedAt"]),
        created_at=_int(o["createdAt"]),
    )


def _customer(c: dict[str, Any]) -> LiveCustomer:
    email = c.get("email")
    return LiveCustomer(
        customer_id=_int(c["customerId"]),
        company_id=_opt_int(c["companyId"]),
        user_updated_at=_opt_int(c["userUpdatedAt"]),
        order_ids=tuple(_int(o) for o in _list(c["orderIds"])),
        email=None if email is None else _str(email),
    )


def _live(value: Any, store_hash: str) -> LiveState:
    """The kept live state: the big lists built directly (a snapshot of 50,000 companies is
    read in a fraction of the strict plan-file reader's time), the users by that reader."""
    if type(value) is not dict:
        raise _Bad("live: expected an object")
    users = live_from_json(
        {
            "readAt": value["readAt"],
            "companyTotal": value["companyTotal"],
            "companies": [],
            "customerGroups": [],
            "priceLists": [],
            "channels": [],
            "companyExtraFieldConfigs": [],
            "orderExtraFieldConfigs": [],
            "customers": [],
            "orders": [],
            "users": value.get("users", []),
        },
        store_hash,
        where="live",
    )
    # each parsed list is taken out of ``value`` as it is built: freed once built, not at the end
    customers = [_customer(c) for c in _list(value.pop("customers"))]
    orders = [_order(o) for o in _list(value.pop("orders"))]
    return replace(
        users,
        companies=tuple(_company(c) for c in _list(value.pop("companies"))),
        customers={c.customer_id: c for c in customers},
        orders={o.bc_order_id: o for o in orders},
    )


def _build(data: dict[str, Any], store_hash: str) -> Snapshot:
    taken = data["takenAt"]
    if not isinstance(taken, int) or isinstance(taken, bool) or taken < 0:
        raise _Bad("takenAt: expected a Unix time")
    live = _live(data["live"], store_hash)
    rows: dict[int, tuple[int | None, int]] | None = None
    if data.get("userRows") is not None:
        rows = {}
        for row in data["userRows"]:
            if not isinstance(row, list) or len(row) != 3:
                raise _Bad("userRows: expected [customerId, companyId, updatedAt] rows")
            customer, company, updated = row
            _ints([customer, updated] + ([] if company is None else [company]), "userRows")
            rows[customer] = (company, updated)
    order_ids = data.get("orderIds")
    core = data.get("coreOrders")
    if core is not None and not isinstance(core, dict):
        raise _Bad("coreOrders: expected an object")
    count, high = (None, None) if core is None else _ints([core["count"], core["maxId"]], "core")
    emails = data.get("userEmails", [])
    if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
        raise _Bad("userEmails: expected a list of strings")
    needs = data.get("needs", {})
    clock = data.get("storeClock", {})
    if not isinstance(clock, dict) or not clock.keys() <= {"b2b", "core"}:
        raise _Bad("storeClock: expected an object with b2b and core times")
    _ints(list(clock.values()), "storeClock")
    groups: GroupsSeen | None = None
    raw_groups = data.get("customerGroups")
    if raw_groups is not None:
        if not isinstance(raw_groups, dict):
            raise _Bad("customerGroups: expected an object")
        known: dict[int, bool] = {}
        for row in _list(raw_groups["known"]):
            if not isinstance(row, list) or len(row) != 2 or not isinstance(row[1], bool):
                raise _Bad("customerGroups.known: expected [groupId, true|false] rows")
            known[_int(row[0])] = row[1]
        first_page = tuple(_ints(raw_groups["firstPage"], "customerGroups.firstPage"))
        groups = GroupsSeen(_int(raw_groups["count"]), first_page, known)
    admins: dict[str, tuple[int, int] | None] = {}
    raw_admins = data.get("adminEmails", {})
    if not isinstance(raw_admins, dict):
        raise _Bad("adminEmails: expected an object")
    for email, held in raw_admins.items():
        if held is None:
            admins[email] = None
            continue
        pair = _ints(held, "adminEmails")
        if len(pair) != 2:
            raise _Bad("adminEmails: expected [customerId, companyId] or null")
        admins[email] = (pair[0], pair[1])
    complete = data.get("companiesComplete", False)
    if not isinstance(complete, bool):
        raise _Bad("companiesComplete: expected true or false")
    return Snapshot(
        store_hash=store_hash,
        taken_at=taken,
        live=live,
        companies_complete=complete,
        user_rows=rows,
        user_emails=frozenset(emails),
        order_ids=None if order_ids is None else frozenset(_ints(order_ids, "orderIds")),
        core_count=count,
        core_max_id=high,
        needs=needs if isinstance(needs, dict) else {},
        store_clock=clock,
        admin_emails=admins,
        groups=groups,
    )


def age_text(seconds: int) -> str:
    """``45 s``, ``12 min``, ``3.5 h``, ``2 days``."""
    if seconds and seconds % 86400 == 0:
        return f"{seconds // 86400} days" if seconds > 86400 else "24 h"
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    return f"{seconds // 86400} days"
