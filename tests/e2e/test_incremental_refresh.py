"""Incremental refresh (issue 17): whatever changed outside since the snapshot, ``plan
--refresh auto`` plans exactly what ``plan --refresh full`` plans.

Hypothesis draws a store and valid manifests with the chaos suite's generator
(``tests/chaos/test_apply_under_faults.py``: Dependent and Independent stores, Multi-Storefront,
every sandbox quirk switch, extra-field configs, users, orders older than a year, sometimes
hundreds of unmanaged companies so that listings take several pages). The store is served on
a loopback port on a clock the test moves (starting at the real time: the snapshot takes its
time from our clock). The real CLI runs in-process against it with its own ``--cache-dir``:

1. ``plan --refresh auto`` with no snapshot yet (a full read; it writes the snapshot);
2. then one to three rounds of: zero to five outside changes, with time passing between them
   (none: the same second as the snapshot's read; a second, a minute, hours), then
   ``plan --refresh auto`` and ``plan --refresh full`` in a drawn order (so an incremental read
   starts from an incremental snapshot or a full one, and sometimes from one taken a moment ago).

The outside changes are those ``reconciler.sandbox.outside`` makes, through the sandbox's own
API where B2B Edition has the endpoint: a company renamed, an extra field set, a status, a
catalog, a company deleted, created or converted from a group; a user created, promoted, moved to
another company or deleted; every order of a company user moved to another company; a PO number
edited; and, made in the store (no endpoint), orders placed at checkout and orders deleted. A
change the sandbox refuses (422: a required extra field, the last user of a company, ...) is
skipped: another integration's failed call changes nothing.

Beyond the chaos generator's switches, every example draws the two that incremental refresh
added (``sideEffectsBumpUpdatedAt``, ``clockSkew`` of -600, 0 or +600 s), and sometimes 260 or
600 more unmanaged companies (with a user and an order each) so that every listing takes several
pages, where an incremental read differs most from a full one.

The law: both plans have the same outcome. The same exit code; for a plan, the same actions
(the JSON ``actions`` array, whole), summary and unmanaged counts; for a refusal, the same
error. Marked ``chaos`` (``-m "not chaos"`` leaves it out); ``INCREMENTAL_EXAMPLES=200`` runs
more examples than the default.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import main
from reconciler.manifests import dump_documents
from reconciler.sandbox import Sandbox, SandboxError, outside
from tests.chaos.test_apply_under_faults import TOKEN, World, _extra_value, worlds

pytestmark = [pytest.mark.chaos, pytest.mark.served]

EXAMPLES = int(os.environ.get("INCREMENTAL_EXAMPLES", "0") or 0) or 8
PAUSES = (0, 0, 1, 59, 3600, 6 * 3600)
"""Seconds the store's clock moves before a change: 0 lands in the snapshot read's second."""


class Clock:
    """The real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


# --------------------------------------------------------------------------- outside changes

KINDS = (
    "rename",
    "extraField",
    "status",
    "catalog",
    "deleteCompany",
    "createCompany",
    "convert",
    "createUser",
    "promoteUser",
    "moveUser",
    "deleteUser",
    "reassign",
    "poNumber",
    "addOrder",
    "deleteOrder",
)


def _pick(data: st.DataObject, items: list[Any], preferred: list[Any]) -> Any:
    """One of ``items``, half the time one the manifests name (when there is one): a change
    to those is what the plan must see."""
    if preferred and data.draw(st.booleans()):
        return data.draw(st.sampled_from(preferred))
    return data.draw(st.sampled_from(items))


def _change(data: st.DataObject, sb: Sandbox, world: World, n: int) -> str:
    """Draw one outside change that fits the store as it is now, and make it; return its kind
    ("<kind> refused" when the sandbox refused it, "<kind> n/a" when nothing fits)."""
    state = sb.dump()
    kind = data.draw(st.sampled_from(KINDS), label="change")
    dependent = state["store"]["companiesBehavior"] == "dependent"
    msf = bool(state["store"]["multiStorefront"])
    companies = [c["companyId"] for c in state["companies"]]
    managed = [
        c["companyId"]
        for c in state["companies"]
        if c["companyId"] in world.doc_company.values()
        or c["customerGroupId"] in world.managed_groups
    ]
    email = {c["id"]: c["email"].lower() for c in state["customers"]}
    users = state["users"]
    named_users = [
        u
        for u in users
        if u["customerId"] in world.named_customers
        or email.get(u["customerId"]) in world.listed_users
    ]
    orders = state["orders"]
    named_orders = [
        o
        for o in orders
        if o["bcOrderId"] in world.named_orders or o["customerId"] in world.named_customers
    ]
    customers = [c["id"] for c in state["customers"]]
    named_customers = [c for c in customers if c in world.named_customers]
    try:
        if kind == "rename" and companies:
            names = [f"Outside {n}", *(c["companyName"] for c in state["companies"])]
            name = data.draw(st.sampled_from(names))
            outside.rename_company(sb, _pick(data, companies, managed), name)
        elif kind == "extraField" and companies and state["extraFieldConfigs"]["company"]:
            config = data.draw(st.sampled_from(state["extraFieldConfigs"]["company"]))
            value = _extra_value(data.draw, config, prefix=f"X{n}-")
            target = _pick(data, companies, managed)
            outside.set_extra_field(sb, target, config["fieldName"], str(value))
        elif kind == "status" and companies:
            status = data.draw(st.integers(0, 3))
            outside.set_status(sb, _pick(data, companies, managed), status)
        elif kind == "catalog" and companies and dependent and not msf:
            lists = [str(p["id"]) for p in state["priceLists"]]
            catalog = data.draw(st.sampled_from(lists))
            outside.set_catalog(sb, _pick(data, companies, managed), catalog)
        elif kind == "deleteCompany" and companies:
            outside.delete_company(sb, _pick(data, companies, managed))
        elif kind == "createCompany":
            fields: dict[str, Any] = {}
            if not dependent:
                groups = [g["id"] for g in state["customerGroups"]]
                fields["customerGroupId"] = data.draw(st.sampled_from(groups))
            elif msf:
                fields["catalogId"] = ""
            outside.create_company(sb, f"Outside Co {n}", f"co{n}@outside.example", **fields)
        elif kind == "convert" and dependent and not msf:
            taken = {c["customerGroupId"] for c in state["companies"]}
            free = [g["id"] for g in state["customerGroups"] if g["id"] not in taken]
            if not free:
                return f"{kind} n/a"
            group = _pick(data, free, [g for g in free if g in world.managed_groups])
            outside.convert_group(sb, group, f"Converted {n}", f"cv{n}@outside.example")
        elif kind == "createUser" and companies:
            role = data.draw(st.integers(0, 2))
            target = _pick(data, companies, managed)
            outside.create_user(sb, target, f"u{n}@outside.example", role)
        elif kind == "promoteUser" and users:
            user = _pick(data, users, named_users)
            outside.update_user(sb, user["id"], role=data.draw(st.integers(0, 2)))
        elif kind == "moveUser" and users and companies:
            user = _pick(data, users, named_users)
            outside.move_user(sb, user["customerId"], _pick(data, companies, managed))
        elif kind == "deleteUser" and users:
            outside.delete_user(sb, _pick(data, users, named_users)["id"])
        elif kind == "reassign" and users and dependent and companies:
            user = _pick(data, users, named_users)
            target = _pick(data, companies, managed)
            group = next(
                c["customerGroupId"] for c in state["companies"] if c["companyId"] == target
            )
            outside.reassign_orders(sb, user["customerId"], group)
        elif kind == "poNumber" and orders:
            order = _pick(data, orders, named_orders)
            outside.update_order(sb, order["bcOrderId"], poNumber=f"PO-OUT-{n}")
        elif kind == "addOrder" and customers:
            customer = _pick(data, customers, named_customers)
            member = next((u["companyId"] for u in users if u["customerId"] == customer), None)
            top = max([o["bcOrderId"] for o in orders] or [9000])
            company = data.draw(st.sampled_from([member, None]))
            outside.add_orders(
                sb, [{"bcOrderId": top + 1, "customerId": customer, "companyId": company}]
            )
        elif kind == "deleteOrder" and orders:
            outside.delete_orders(sb, [_pick(data, orders, named_orders)["bcOrderId"]])
        else:
            return f"{kind} n/a"
    except SandboxError:
        return f"{kind} refused"
    return kind


# --------------------------------------------------------------------------- the CLI


def plan(sb_url: str, folder: Path, refresh: str) -> tuple[int, Any]:
    """``b2b-reconcile plan --format json --refresh REFRESH`` in-process: (exit code, what to
    compare: the plan's actions, summary and unmanaged counts, or the error lines)."""
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "plan",
        str(folder / "manifests"),
        "--format",
        "json",
        "--api-url",
        f"{sb_url}/api/v3/io",
        "--core-api-url",
        sb_url,
        "--token-file",
        str(folder / "token"),
        "--cache-dir",
        str(folder / "cache"),
        "--refresh",
        refresh,
    ]
    with contextlib.redirect_stderr(err):
        code = main(argv, out=out)
    if code == 0:
        document = json.loads(out.getvalue())
        return code, {k: document[k] for k in ("actions", "summary", "unmanaged")}
    lines = err.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Error")), len(lines))
    return code, lines[start:]


def _padded(seed: dict[str, Any], count: int) -> dict[str, Any]:
    """``seed`` with ``count`` more unmanaged companies, each with a customer group, an admin
    user and an order, so that listings take several pages (where an incremental read differs
    most from a full one)."""
    out = {**seed, "faults": []}
    now = int(time.time())
    dependent = seed["store"]["companiesBehavior"] == "dependent"
    out["customerGroups"] = [
        *seed["customerGroups"],
        *({"id": 60000 + k, "name": f"Pad {k}"} for k in range(count)),
    ]
    out["customers"] = [
        *seed["customers"],
        *(
            {"id": 70000 + k, "email": f"pad{k}@pad.example", "customerGroupId": 60000 + k}
            for k in range(count)
        ),
    ]
    out["companies"] = [
        *seed["companies"],
        *(
            {
                "companyId": 80000 + k,
                "customerGroupId": 60000 + k if dependent or k % 2 else 60000,
                "companyName": f"Pad Co {k}",
                "companyEmail": f"pad{k}@pad.example",
                "companyPhone": "555-0000",
                "createdAt": now - 100 * 86400,
                "updatedAt": now - (k % 50 + 1) * 86400,
            }
            for k in range(count)
        ),
    ]
    out["users"] = [
        *seed["users"],
        *({"customerId": 70000 + k, "companyId": 80000 + k, "role": 0} for k in range(count)),
    ]
    out["orders"] = [
        *seed["orders"],
        *(
            {
                "bcOrderId": 90000 + k,
                "customerId": 70000 + k,
                "companyId": 80000 + k,
                "createdAt": now - (k % 300 + 1) * 86400,
                "updatedAt": now - (k % 300 + 1) * 86400,
            }
            for k in range(count)
        ),
    ]
    return out


def _write(world: World, folder: Path) -> None:
    (folder / "manifests").mkdir(parents=True)
    (folder / "manifests" / "m.yaml").write_text(dump_documents(world.docs), encoding="utf-8")
    (folder / "token").write_text(TOKEN, encoding="utf-8")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(world=worlds(), data=st.data())
def test_incremental_plan_equals_full_plan_after_outside_changes(
    world: World, data: st.DataObject
) -> None:
    clock = Clock()
    seed = _padded(world.seed, data.draw(st.sampled_from([0, 260, 600]), label="padding"))
    # The switches incremental refresh added: whether side effects (a deleted company's orders,
    # orders a new user brings along) bump updatedAt, and the store's clock ahead of ours or
    # behind it (within the margin the snapshot allows).
    seed["store"] = {
        **seed["store"],
        "quirks": {
            **seed["store"].get("quirks", {}),
            "sideEffectsBumpUpdatedAt": data.draw(st.booleans(), label="sideEffectsBump"),
            "clockSkew": data.draw(st.sampled_from([0, -600, 600]), label="clockSkew"),
        },
    }
    with (
        tempfile.TemporaryDirectory(prefix="incremental-") as tmp,
        Sandbox(seed=seed, clock=clock, rate_limit=(1_000_000, 60.0)) as sb,
        sb.serve() as served,
    ):
        folder = Path(tmp)
        _write(world, folder)
        plan(served.url, folder, "auto")  # no snapshot yet: a full read writes it
        n = 0
        for _round in range(data.draw(st.integers(1, 3), label="rounds")):
            for _ in range(data.draw(st.integers(0, 5), label="changes")):
                clock.advance(data.draw(st.sampled_from(PAUSES), label="pause"))
                n += 1
                _change(data, sb, world, n)
            order = data.draw(st.sampled_from([("auto", "full"), ("full", "auto")]))
            outcomes = {mode: plan(served.url, folder, mode) for mode in order}
            assert outcomes["auto"] == outcomes["full"], (
                f"--refresh auto planned {outcomes['auto']}, --refresh full {outcomes['full']}"
            )
