"""The snapshot of the last live read of a store: what an incremental refresh starts from.

``<cache-dir>/snapshot-<storeHash>.json`` (default cache folder ``.b2b-reconcile/``), written
atomically (a temporary file, then a rename) after every live read of ``plan`` and ``apply``.
It holds what that read found (the recorded-live shape of saved plans, ``planfile.live_to_json``,
with the companies, customers and orders as columns: ``livecolumns``) and what it learned about
the whole store when a part listed everything: every company, every user's company, every B2B
order id (packed columns: ``packed``), the core order count and highest id, and the core orders
B2B Edition had no record of yet. It holds no secret (no token, no header, no URL), so it is
safe to keep in a CI cache.

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
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any

from reconciler.errors import PlanFileError
from reconciler.jsontext import Lazy, compact
from reconciler.livecolumns import (
    ColumnError,
    companies_from,
    companies_json,
    customers_from,
    customers_json,
    orders_from,
    orders_json,
)
from reconciler.localfile import MIB, LocalFileProblem, read_capped
from reconciler.model import JSON, GroupsSeen, LiveState
from reconciler.packed import IdSet, UserRows, pack, unpack
from reconciler.planfile import live_from_json, live_to_json

FORMAT_VERSION = 2
"""1: every object a JSON object (read no more: such a snapshot means one full read); 2: the
big lists as columns and the ids packed (``livecolumns``, ``packed``)."""
MAX_SNAPSHOT_BYTES = 256 * MIB
"""Largest snapshot read (50,000 companies and 500,000 orders take about 9 MiB)."""
DEFAULT_MAX_AGE = 24 * 3600
"""Seconds after which a snapshot is not used (``--snapshot-max-age``)."""


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
    """customerId -> (companyId, updatedAt) of every company user (when the read listed them
    all)."""
    user_emails: frozenset[str] = frozenset()
    """The listed e-mails (lower case) whose users ``live.users`` holds, wherever they were."""
    order_ids: IdSet | None = None
    """Every B2B order id (500,000 take 4 MB in an IdSet, about 30 MB in a frozenset)."""
    core_count: int | None = None
    core_max_id: int | None = None
    unsynced: frozenset[int] | None = None
    """The core orders B2B Edition had no record of (``live.Reader.unsynced``: a late sync may
    bring their records with an old ``updatedAt``); None: not known."""
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


def _json_parts(snap: Snapshot) -> dict[str, Any]:
    """The snapshot file's object: the big lists as columns (``livecolumns``), the ids and
    user rows as packed columns (``packed``); the string and mapping columns are ``Lazy``,
    made as they are written."""
    live = snap.live
    light = live_to_json(replace(live, companies=(), customers={}, orders={}))
    light["companies"] = companies_json(live.companies)
    light["customers"] = customers_json([live.customers[k] for k in sorted(live.customers)])
    light["orders"] = orders_json([live.orders[k] for k in sorted(live.orders)])
    return {
        "formatVersion": FORMAT_VERSION,
        "storeHash": snap.store_hash,
        "takenAt": snap.taken_at,
        "needs": dict(snap.needs),
        "live": light,
        "companiesComplete": snap.companies_complete,
        "userRows": None if snap.user_rows is None else _rows_json(snap.user_rows),
        "userEmails": sorted(snap.user_emails),
        "orderIds": None if snap.order_ids is None else IdSet(snap.order_ids).packed(),
        "coreOrders": (
            None
            if snap.core_count is None or snap.core_max_id is None
            else {"count": snap.core_count, "maxId": snap.core_max_id}
        ),
        "unsyncedOrders": None if snap.unsynced is None else IdSet(snap.unsynced).packed(),
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


def _rows_json(rows: UserRows) -> dict[str, Any]:
    keys, companies, updated, nulls = UserRows.of(rows).columns()
    return {
        "count": len(keys),
        "customerId": pack(keys),
        "companyId": {"values": pack(companies), "nullAt": pack(nulls)},
        "updatedAt": pack(updated),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Lazy):
        return list(value)
    return value


def to_json(snap: Snapshot) -> dict[str, JSON]:
    """The snapshot file's JSON object."""
    return dict(_plain(_json_parts(snap)))


_CHUNK = 1_000
"""Items encoded at a time when the snapshot is streamed to its file."""


_dumps = compact
"""``json.dumps(value, separators=(",", ":"), ensure_ascii=False)`` (orjson's when the same)."""


def _write_list(items: Iterable[JSON], write: Callable[[str], object]) -> None:
    """A long JSON array written a chunk at a time (never held whole, neither as values nor
    as one string)."""
    write("[")
    rest = iter(items)
    sep = ""
    while chunk := list(islice(rest, _CHUNK)):
        write(sep + _dumps(chunk)[1:-1])
        sep = ","
    write("]")


def _write_value(value: Any, write: Callable[[str], object]) -> None:
    if isinstance(value, dict):
        write("{")
        sep = ""
        for key, item in value.items():
            write(sep + _dumps(key) + ":")
            sep = ","
            _write_value(item, write)
        write("}")
    elif isinstance(value, (list, Lazy)):
        _write_list(value, write)
    else:
        write(_dumps(value))


def write_json(snap: Snapshot, write: Callable[[str], object]) -> None:
    """Write the snapshot file's JSON object (exactly ``json.dumps(to_json(snap))``, compact)
    through ``write``, a chunk at a time: lists are encoded ``_CHUNK`` items at a time (the
    string and mapping columns made as they are), so the whole text is never held."""
    _write_value(_json_parts(snap), write)


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
    except OverflowError:  # packed columns hold 8-byte ints: no real id or time is larger
        return f"snapshot {target} not written: a number read does not fit in 8 bytes"
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


_VERSION_FIRST = re.compile(rb'\{\s*"formatVersion"\s*:\s*(-?\d+)\s*[,}]')
"""How every snapshot file starts (``formatVersion`` is written first)."""


def _read_json(path: Path) -> Any:
    """The snapshot file's JSON value. Neither its bytes nor its text outlive the parse. A
    file that says first that it is of another format version is not parsed at all (the
    35 MB of a format-1 snapshot of 50,000 companies parse into some 200 MB of objects)."""
    raw = read_capped(path, MAX_SNAPSHOT_BYTES)
    said = _VERSION_FIRST.match(raw[:64])
    if said is not None and int(said[1]) != FORMAT_VERSION:
        raise _Bad(f"format version {int(said[1])} (this version reads {FORMAT_VERSION})")
    try:
        text = raw.decode("utf-8")
        del raw
        return json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Bad(f"not valid JSON ({type(exc).__name__})") from None


def _parse(data: Any, store_hash: str) -> Snapshot:
    if not isinstance(data, dict):
        raise _Bad("not a snapshot (expected a JSON object)")
    version = data.get("formatVersion")
    if version != FORMAT_VERSION:
        raise _Bad(f"format version {version!r} (this version reads {FORMAT_VERSION})")
    if data.get("storeHash") != store_hash:
        raise _Bad(f"made for store {data.get('storeHash')!r}")
    try:
        return _build(data, store_hash)
    except (PlanFileError, ColumnError) as exc:
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


def _live(value: Any, store_hash: str) -> LiveState:
    """The kept live state: the big lists from their columns (``livecolumns``), the rest by
    the plan-file reader."""
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
    companies = companies_from(value.pop("companies"), "live.companies")
    same = {c.company_id: c.company_id for c in companies}
    orders = orders_from(value.pop("orders"), "live.orders", same)
    del same
    customers = customers_from(value.pop("customers"), "live.customers", orders)
    return replace(users, companies=companies, customers=customers, orders=orders)


def _user_rows(value: Any) -> UserRows | None:
    if value is None:
        return None
    if type(value) is not dict or type(value.get("count")) is not int:
        raise _Bad("userRows: expected the columns of the user rows")
    count = value["count"]
    companies = value["companyId"]
    if type(companies) is not dict:
        raise _Bad("userRows.companyId: expected {values, nullAt}")
    return UserRows.from_columns(
        unpack(value["customerId"], "userRows.customerId", count),
        unpack(companies["values"], "userRows.companyId", count),
        unpack(value["updatedAt"], "userRows.updatedAt", count),
        unpack(companies["nullAt"], "userRows.companyId.nullAt"),
    )


def _build(data: dict[str, Any], store_hash: str) -> Snapshot:
    taken = data["takenAt"]
    if not isinstance(taken, int) or isinstance(taken, bool) or taken < 0:
        raise _Bad("takenAt: expected a Unix time")
    live = _live(data.pop("live"), store_hash)
    rows = _user_rows(data.get("userRows"))
    raw_ids = data.get("orderIds")
    order_ids = (
        None if raw_ids is None else IdSet.of_sorted(unpack(raw_ids, "orderIds"), "orderIds")
    )
    core = data.get("coreOrders")
    if core is not None and not isinstance(core, dict):
        raise _Bad("coreOrders: expected an object")
    count, high = (None, None) if core is None else _ints([core["count"], core["maxId"]], "core")
    unsynced = data.get("unsyncedOrders")
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
        order_ids=order_ids,
        core_count=count,
        core_max_id=high,
        unsynced=None if unsynced is None else frozenset(unpack(unsynced, "unsyncedOrders")),
        needs=needs if isinstance(needs, dict) else {},
        store_clock=clock,
        admin_emails=admins,
        groups=groups,
    )


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise _Bad(f"expected a list, found {type(value).__name__}")
    return value


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
