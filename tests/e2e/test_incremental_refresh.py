"""Incremental refresh (issue 17): whatever changed outside since the snapshot, ``plan
--refresh auto`` plans exactly what ``plan --refresh full`` plans.

Hypothesis draws a store and valid manifests with the chaos suite's generator
(``tests/chaos/test_apply_under_faults.py``: Dependent and Independent stores, Multi-Storefront,
every sandbox quirk switch, extra-field configs, users, orders older than a year, sometimes
hundreds of unmanaged companies so that listings take several pages). The store is served on
a loopback port on a clock the test moves (starting at the real time: the snapshot takes its
time from our clock). The real CLI runs in-process against it with its own ``--cache-dir``:

1. ``plan --refresh auto`` with no snapshot yet (a full read; it writes the snapshot);
2. then one to three rounds of: one to six outside changes, with time passing between them
   (none: the same second as the snapshot's read; a second, a minute, hours), then
   ``plan --refresh auto`` and ``plan --refresh full`` in a drawn order (so an incremental read
   starts from an incremental snapshot or a full one, and sometimes from one taken a moment ago).

The outside changes are those ``reconciler.sandbox.outside`` makes, through the sandbox's own
API where B2B Edition has the endpoint: a company renamed, an extra field set, a status, a
catalog, a company deleted, created or converted from a group; a user created, promoted, moved to
another company or deleted; every order of a company user moved to another company; a PO number
edited; and, made in the store (no endpoint), orders placed at checkout, an order given to another
customer, orders deleted, and an order one side loses alone (B2B Edition's record gone, the core
order kept; or core first, B2B later: a deletion synced late). Three changes in four pick
something the manifests name (a managed company, a named customer's user or order; deletions of
companies half the time). Two changes aim at the side effects the docs do not say bump
``updatedAt`` (so the reader re-reads those orders as suspects): the company of an order the
plan reads deleted (the order loses its company), and a customer with company-less orders made
a company user, created or moved (``userCreateMovesOrders`` brings the orders along). A
change the sandbox refuses (422: a required extra field, the last user of a company, ...) is
skipped: another integration's failed call changes nothing.

Beyond the chaos generator's switches, every example draws the two that incremental refresh
added (``sideEffectsBumpUpdatedAt`` either way, ``clockSkew`` of -600, 0 or +600 s), and three
times in four 260 or 600 more unmanaged companies (with a user and an order each) so that every
listing takes several pages, where an incremental read differs most from a full one (with one
page, the companies part is read in full). Three times in four a padded store also gets one more
OrderAssignment (``_assigned``): four padding customers, so that the reads page every core and
B2B order and the orders parts are served from the snapshot (moved core orders, suspects and
the B2B-order total then decide the plan).

So that the test cannot silently become trivial, at least ``MIN_INTERESTING`` of the examples
must be interesting: the first plan succeeded, and after a round with a change to something the
manifests name, ``plan --refresh auto`` served at least one part from its snapshot
(``hypothesis.event`` reports the kinds of change, padding and parts served).

Random changes rarely reach some of the reader's paths with the orders parts served from the
snapshot (last session's hand mutations of the reader went unnoticed here), so
``test_each_reader_path`` draws each on its own (``FOCUSED``: suspects of both kinds, with
``sideEffectsBumpUpdatedAt`` off and on; core orders given to another customer; a B2B record
lost alone; a deletion B2B Edition syncs late; an order B2B Edition learns of after the
snapshot's read, with ``ordersSyncLag``, while it loses another record: the reader looks up
the orders it lacked then; its record stamped with the order's old ``updatedAt`` or with the
sync time, ``lateSyncStampsSyncTime`` each way), ``FOCUSED_EXAMPLES`` (2) examples each, every
one of them reaching its path (the auto plan runs first in each round, and its refresh note
and order look-ups show the path taken).

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
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from reconciler.cli import main
from reconciler.manifests import dump_documents
from reconciler.sandbox import Sandbox, SandboxError, outside
from tests.chaos.test_apply_under_faults import TOKEN, World, _extra_value, worlds

pytestmark = [pytest.mark.chaos, pytest.mark.served]

EXAMPLES = int(os.environ.get("INCREMENTAL_EXAMPLES", "0") or 0) or 15
_ORDER_BY_ID = re.compile(r"^/api/v3/io/orders/\d+$")
"""``GET /orders/{id}``: a B2B order looked up by id (the request log's path)."""
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
    "orderToCustomer",
    "deleteOrder",
    "loseB2bOrder",
    "coreDeletesOrder",
    "orderCompanyDeleted",
    "userBringsOrders",
)


def _pick(
    data: st.DataObject, hits: list[bool], items: list[Any], preferred: list[Any], odds: int = 3
) -> Any:
    """One of ``items``, ``odds`` times in four one the manifests name (when there is one): a
    change to those is what the plan must see. ``hits`` gets whether it is one of those."""
    if preferred and data.draw(st.integers(0, 3)) < odds:
        item = data.draw(st.sampled_from(preferred))
    else:
        item = data.draw(st.sampled_from(items))
    hits.append(item in preferred)
    return item


def _change(
    data: st.DataObject, sb: Sandbox, world: World, n: int, kind: str | None = None
) -> tuple[str, bool]:
    """Draw one outside change that fits the store as it is now, and make it; return its kind
    ("<kind> refused" when the sandbox refused it, "<kind> n/a" when nothing fits) and whether
    it was made to something the manifests name (a managed company, a named customer's user
    or order, a listed user)."""
    hits: list[bool] = []
    made = _make_change(data, sb, world, n, hits, kind)
    return made, made in KINDS and any(hits)


def _make_change(
    data: st.DataObject, sb: Sandbox, world: World, n: int, hits: list[bool], focus: str | None
) -> str:
    """``focus``: make that kind of change, always to something the manifests name (when
    there is one); else draw the kind."""
    state = sb.dump()
    kind = focus or data.draw(st.sampled_from(KINDS), label="change")

    def pick(items: list[Any], preferred: list[Any], odds: int = 3) -> Any:
        return _pick(data, hits, items, preferred, 4 if focus else odds)

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
    # Orders one side lost alone (``inCore``/``inB2b`` false in the dump) and those both hold.
    both = [o for o in orders if o.get("inCore", True) and o.get("inB2b", True)]
    in_b2b = [o for o in orders if o.get("inB2b", True)]
    core_gone = [o for o in orders if not o.get("inCore", True)]
    bump = bool(state["store"]["quirks"].get("sideEffectsBumpUpdatedAt", True))
    customers = [c["id"] for c in state["customers"]]
    named_customers = [c for c in customers if c in world.named_customers]
    try:
        if kind == "rename" and companies:
            names = [f"Outside {n}", *(c["companyName"] for c in state["companies"])]
            name = data.draw(st.sampled_from(names))
            outside.rename_company(sb, pick(companies, managed), name)
        elif kind == "extraField" and companies and state["extraFieldConfigs"]["company"]:
            config = data.draw(st.sampled_from(state["extraFieldConfigs"]["company"]))
            value = _extra_value(data.draw, config, prefix=f"X{n}-")
            target = pick(companies, managed)
            outside.set_extra_field(sb, target, config["fieldName"], str(value))
        elif kind == "status" and companies:
            status = data.draw(st.integers(0, 3))
            outside.set_status(sb, pick(companies, managed), status)
        elif kind == "catalog" and companies and dependent and not msf:
            lists = [str(p["id"]) for p in state["priceLists"]]
            catalog = data.draw(st.sampled_from(lists))
            outside.set_catalog(sb, pick(companies, managed), catalog)
        elif kind == "deleteCompany" and companies:
            # Half the time a managed one (not three in four): deleting it (and, Dependent, its
            # group) usually makes every later plan refuse, which leaves less to compare.
            outside.delete_company(sb, pick(companies, managed, odds=2))
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
            group = pick(free, [g for g in free if g in world.managed_groups])
            outside.convert_group(sb, group, f"Converted {n}", f"cv{n}@outside.example")
        elif kind == "createUser" and companies:
            role = data.draw(st.integers(0, 2))
            target = pick(companies, managed)
            outside.create_user(sb, target, f"u{n}@outside.example", role)
        elif kind == "promoteUser" and users:
            user = pick(users, named_users)
            outside.update_user(sb, user["id"], role=data.draw(st.integers(0, 2)))
        elif kind == "moveUser" and users and companies:
            user = pick(users, named_users)
            outside.move_user(sb, user["customerId"], pick(companies, managed))
        elif kind == "deleteUser" and users:
            outside.delete_user(sb, pick(users, named_users)["id"])
        elif kind == "reassign" and users and dependent and companies:
            user = pick(users, named_users)
            target = pick(companies, managed)
            group = next(
                c["customerGroupId"] for c in state["companies"] if c["companyId"] == target
            )
            outside.reassign_orders(sb, user["customerId"], group)
        elif kind == "poNumber" and orders:
            order = pick(orders, named_orders)
            outside.update_order(sb, order["bcOrderId"], poNumber=f"PO-OUT-{n}")
        elif kind == "addOrder" and customers:
            customer = pick(customers, named_customers)
            member = next((u["companyId"] for u in users if u["customerId"] == customer), None)
            top = max([o["bcOrderId"] for o in orders] or [9000])
            company = data.draw(st.sampled_from([member, None]))
            outside.add_orders(
                sb, [{"bcOrderId": top + 1, "customerId": customer, "companyId": company}]
            )
        elif kind == "orderToCustomer" and both and customers:
            # An order the merchant gave to another customer (no endpoint: in the store; the
            # seed's upsert keeps the order id and stamps updatedAt with the store's clock).
            order = pick(both, [o for o in named_orders if o in both])
            customer = pick(customers, named_customers)
            member = next((u["companyId"] for u in users if u["customerId"] == customer), None)
            company = data.draw(st.sampled_from([member, None]))
            outside.add_orders(
                sb,
                [{"bcOrderId": order["bcOrderId"], "customerId": customer, "companyId": company}],
            )
        elif kind == "deleteOrder" and orders:
            outside.delete_orders(sb, [pick(orders, named_orders)["bcOrderId"]])
        elif kind == "loseB2bOrder" and in_b2b:
            # B2B Edition loses its record alone (the core order stays): only the B2B orders
            # total shows it. Mostly the late half of a deletion core made before (when any).
            late = [o for o in core_gone if o in in_b2b]
            if late and data.draw(st.integers(0, 3)) > 0:
                order = pick(late, [o for o in late if o in named_orders])
                event("B2B deletion synced late")
            else:
                order = pick(in_b2b, [o for o in named_orders if o in in_b2b])
            outside.delete_b2b_orders(sb, [order["bcOrderId"]])
        elif kind == "coreDeletesOrder" and both:
            # Core deletes an order; B2B Edition keeps its record until a later loseB2bOrder.
            order = pick(both, [o for o in named_orders if o in both])
            outside.delete_core_orders(sb, [order["bcOrderId"]])
        elif kind == "orderCompanyDeleted" and named_orders:
            # The company of an order the plan reads is deleted: the order loses its company
            # as a side effect, with a new updatedAt or (sideEffectsBumpUpdatedAt off) without.
            # Mostly an unmanaged company: deleting a managed one usually makes both plans refuse.
            held = [o for o in named_orders if o["companyId"] is not None]
            if not held:
                return f"{kind} n/a"
            order = pick(held, [o for o in held if o["companyId"] not in managed])
            hits.append(True)
            outside.delete_company(sb, order["companyId"])
            if not bump:
                event("side effect unseen by minModified: orders of a deleted company")
        elif kind == "userBringsOrders" and companies:
            # A customer with company-less orders becomes a company user (created, or moved
            # from another company): userCreateMovesOrders brings those orders along, with a
            # new updatedAt or (sideEffectsBumpUpdatedAt off) without.
            loose = sorted({o["customerId"] for o in in_b2b if o["companyId"] is None} - {0})
            if not loose:
                return f"{kind} n/a"
            customer = pick(loose, [c for c in loose if c in named_customers])
            target = pick(companies, managed)
            if any(u["customerId"] == customer for u in users):
                outside.move_user(sb, customer, target)
            else:
                outside.create_user(sb, target, email[customer], data.draw(st.integers(0, 2)))
            moves = state["store"]["quirks"].get("userCreateMovesOrders", True)
            if moves and not bump:
                event("side effect unseen by minModified: orders a new user brought")
        else:
            return f"{kind} n/a"
    except SandboxError as exc:
        note(f"refused: {exc}")
        return f"{kind} refused"
    return kind


# --------------------------------------------------------------------------- the CLI


def plan(sb_url: str, folder: Path, refresh: str) -> tuple[int, Any]:
    """``b2b-reconcile plan --format json --refresh REFRESH`` in-process: (exit code, what to
    compare: the plan's actions, summary and unmanaged counts, or the error lines)."""
    code, compared, _ = plan_noted(sb_url, folder, refresh)
    return code, compared


def plan_noted(sb_url: str, folder: Path, refresh: str) -> tuple[int, Any, dict[str, Any]]:
    """``plan`` and the plan's ``refresh`` note (``{}`` when it refused)."""
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
        compared = {k: document[k] for k in ("actions", "summary", "unmanaged")}
        return code, compared, document.get("refresh") or {}
    lines = err.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Error")), len(lines))
    return code, lines[start:], {}


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


ASSIGNED = 4
"""Padding customers one more OrderAssignment names (when a Company document manages a live
company)."""


def _assigned(data: st.DataObject, world: World, seed: dict[str, Any], last: bool = False) -> World:
    """``world`` with ``ASSIGNED`` of ``seed``'s padding customers named in one more
    OrderAssignment. With them a read needs the core orders of at least three customers and
    B2B orders beyond the first page, so a full read pages every core and B2B order (the
    snapshot then holds them all) and an incremental read serves the orders parts from it:
    where moved core orders, suspects and the B2B-order total decide the plan.

    Each gets a second order, older than the padding's first page like its first. Independent:
    both already in the company (nothing to move). Dependent (reassign moves any company
    user's orders): the first there, the second in another padding company (half of them: its
    deletion is a side effect on an order the plan moves) or in none (the others: each also
    shares its company with a second user, so that it can be moved, bringing that order
    along). ``seed`` gets the changes in place."""
    pads = [c["id"] for c in seed["customers"] if c["id"] >= 70000]
    # Focused runs take the last ones: their users are on no first page of users, so a full
    # read lists every user and the snapshot knows each user's company (then only the orders
    # of a deleted company, or of a customer made a user since, are suspects).
    pads = pads[-2 * ASSIGNED :] if last else pads[: 2 * ASSIGNED]
    if len(pads) < 2 * ASSIGNED or not world.doc_company:
        return world
    base = pads[0] - 70000  # (padding customer 70000 + i: company 80000 + i, group 60000 + i)
    pads = pads[:ASSIGNED]
    doc = data.draw(st.sampled_from(sorted(world.doc_company)), label="assigned to")
    target = world.doc_company[doc]
    dependent = world.behavior == "dependent"
    old = int(time.time()) - 330 * 86400
    placed = {"companyId": target, "createdAt": old, "updatedAt": old}
    seed["orders"] = [{**o, **placed} if o["customerId"] in pads else o for o in seed["orders"]]
    for k, customer in enumerate(pads):
        company: int | None = target
        if dependent:
            company = 80000 + base + ASSIGNED + k if k % 2 == 0 else None
        if dependent and k % 2:
            seed["customers"].append(
                {
                    "id": 75000 + k,
                    "email": f"pad-mate{k}@pad.example",
                    "customerGroupId": 60000 + base + k,
                }
            )
            seed["users"].append(
                {"customerId": 75000 + k, "companyId": 80000 + base + k, "role": 0}
            )
        seed["orders"].append(
            {**placed, "bcOrderId": 95000 + k, "customerId": customer, "companyId": company}
        )
    assignment = {
        "apiVersion": "b2b.reconciler/v1",
        "kind": "OrderAssignment",
        "metadata": {"name": "buyers-padding"},
        "spec": {"company": doc, "customerIds": pads},
    }
    return replace(
        world, docs=[*world.docs, assignment], named_customers=world.named_customers | set(pads)
    )


def _write(world: World, folder: Path) -> None:
    (folder / "manifests").mkdir(parents=True)
    (folder / "manifests" / "m.yaml").write_text(dump_documents(world.docs), encoding="utf-8")
    (folder / "token").write_text(TOKEN, encoding="utf-8")


SEEN: list[bool] = []
"""One entry per example of the last run: whether it was interesting (see ``_interesting``)."""

MIN_INTERESTING = 0.1
"""The share of examples that must be interesting, else the generator has gone trivial (fixed
runs of 15 had 3 to 7, their draws depending a little on the store's state; random runs
average about 55%: 17 of 31)."""


def test_incremental_plan_equals_full_plan_after_outside_changes() -> None:
    """The property (``_property``), and that most examples exercised it: the first plan
    succeeded, and some incremental plan served a part from its snapshot after an outside
    change to what the manifests name."""
    SEEN.clear()
    _property()
    assert SEEN, "no example ran"
    share = sum(SEEN) / len(SEEN)
    assert share >= MIN_INTERESTING, (
        f"only {sum(SEEN)} of {len(SEEN)} examples were interesting: the generator went trivial"
    )


SETTINGS = settings(
    # The same draws every run (as far as the store's state allows: some draws depend on it):
    # a fixed run cannot flake under MIN_INTERESTING by chance; INCREMENTAL_EXAMPLES=N draws N
    # random examples instead.
    derandomize=not os.environ.get("INCREMENTAL_EXAMPLES"),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(SETTINGS, max_examples=EXAMPLES)
@given(world=worlds(), data=st.data())
def _property(world: World, data: st.DataObject) -> None:
    SEEN.append(_example(world, data))


Reached = Callable[[dict[str, Any], int, bool], bool]
"""Whether an auto plan reached a reader path: from its ``refresh`` note, the B2B orders it
looked up by id (``GET /orders/{id}``) and ``sideEffectsBumpUpdatedAt``."""


def _in_full_for(note: dict[str, Any], *reasons: str) -> bool:
    """Whether the B2B orders part was read in full for a reason ending with one of these."""
    return any(
        r.startswith("orders (") and r.endswith(tuple(f"{why})" for why in reasons))
        for r in note.get("readInFull") or []
    )


def _suspects_read(note: dict[str, Any], lookups: int, bump: bool) -> bool:
    """The suspects decided the B2B orders part: served from the snapshot with (the side
    effect unstamped) suspects looked up by id, stamped with the change listing holding them;
    or read in full because looking them all up would cost more (a deleted company's users
    go with it, so every company-less order named is a suspect too)."""
    if "orders" in (note.get("fromSnapshot") or []):
        return bump or lookups > 0
    return _in_full_for(note, " orders to look up")


def _core_served(note: dict[str, Any], lookups: int, bump: bool) -> bool:
    return "core orders" in (note.get("fromSnapshot") or [])


def _total_disagreed(note: dict[str, Any], lookups: int, bump: bool) -> bool:
    """The B2B orders read in full because their total disagreed with the snapshot's."""
    return _in_full_for(note, "orders were deleted")


def _lacked_read(note: dict[str, Any], lookups: int, bump: bool) -> bool:
    """The orders B2B Edition lacked at the snapshot's read looked up by id (the B2B orders
    served from the snapshot), or read in full because there were more of them (or of them
    and the suspects) than pages, or because the total still disagreed."""
    if "orders" in (note.get("fromSnapshot") or []):
        return lookups > 0
    return _in_full_for(
        note, " orders B2B lacked to look up", " orders to look up", "orders were deleted"
    )


FOCUSED: dict[str, tuple[tuple[str, ...], tuple[bool, ...], Reached]] = {
    # path of the reader: (the change of each round, in turn; sideEffectsBumpUpdatedAt values;
    # what the auto plan of a round with that change to a named object shows when it took it)
    "orders of a deleted company (suspects)": (
        ("orderCompanyDeleted",),
        (False, True),
        _suspects_read,
    ),
    "company-less orders a new user brings (suspects)": (
        ("userBringsOrders",),
        (False, True),
        _suspects_read,
    ),
    "core orders given to another customer": (("orderToCustomer",), (False,), _core_served),
    "a B2B record lost alone (B2B-order total)": (("loseB2bOrder",), (False,), _total_disagreed),
    "a deletion B2B Edition syncs late (B2B-order total)": (
        ("coreDeletesOrder", "loseB2bOrder"),
        (False,),
        _total_disagreed,
    ),
    # an order placed before the snapshot's read that B2B Edition learns of after it, with the
    # order's old updatedAt (ordersSyncLag, LAGGED), while it loses another record
    "a late sync and a B2B record lost (unsynced orders)": (
        ("addOrder", "loseB2bOrder"),
        (False, True),
        _lacked_read,
    ),
}
"""The reader's paths that a random change rarely reaches with its parts served from the
snapshot, each drawn on its own (``test_each_reader_path``)."""

LAGGED = {"a late sync and a B2B record lost (unsynced orders)": 3600}
"""``ordersSyncLag`` of the paths that need one (the rounds after the first then pause that
long, so that what the first placed reaches B2B Edition before the next plans)."""

STAMPS = {"a late sync and a B2B record lost (unsynced orders)": (False, True)}
"""``lateSyncStampsSyncTime`` of the paths with a late sync, each value in turn: the late
record carries the order's own old ``updatedAt`` (no change listing shows it; the reader looks
it up), or the sync time (the change listing shows it). Other paths: False."""

FOCUSED_EXAMPLES = int(os.environ.get("INCREMENTAL_FOCUSED_EXAMPLES", "0") or 0) or 2

FOCUSED_CASES = [
    (path, bump, stamps)
    for path, (_, bumps, _) in FOCUSED.items()
    for bump in bumps
    for stamps in STAMPS.get(path, (False,))
]


def _case_id(path: str, bump: bool, stamps: bool) -> str:
    return f"{path}-bump={bump}" + (f"-stamps={stamps}" if path in STAMPS else "")


@pytest.mark.parametrize(
    ("path", "bump", "stamps"), FOCUSED_CASES, ids=[_case_id(*case) for case in FOCUSED_CASES]
)
def test_each_reader_path(path: str, bump: bool, stamps: bool) -> None:
    """The property on a Dependent store with a padded OrderAssignment (``_assigned``: every
    core and B2B order paged, so the orders parts are served from the snapshot) where each
    round makes one or two changes of the kind that reaches ``path``, to what the manifests
    name; ``sideEffectsBumpUpdatedAt`` as given. The auto plan runs first in every round (a
    full read first would write a snapshot that already holds the change). Every example
    must reach ``path``: in some round, a change of its kind to what the manifests name, and
    an auto plan that shows it took the path (``FOCUSED``'s third column).
    ``lateSyncStampsSyncTime`` as ``stamps`` (``STAMPS``)."""
    kinds, _, reached = FOCUSED[path]
    seen: list[bool] = []

    @settings(SETTINGS, max_examples=FOCUSED_EXAMPLES)
    @given(world=worlds().filter(_focusable), data=st.data())
    def run(world: World, data: st.DataObject) -> None:
        hit = _example(world, data, kinds, bump, LAGGED.get(path, 0), reached, stamps)
        seen.append(hit)
        assert hit, f"this example did not reach {path}"

    run()
    assert seen, "no example ran"


def _age_companies(seed: dict[str, Any]) -> None:
    """Make the generated store's companies older than every padding company (in place), so
    that no first page of companies shows a managed one: the full read then lists every
    company (``live.Reader``: its managed groups would take as many pages), the snapshot holds
    them all and an incremental read knows which were deleted (their orders are the suspects,
    few enough to be looked up by id)."""
    old = int(time.time()) - 400 * 86400
    for company in seed["companies"]:
        if company["companyId"] < 80000:  # (the padding's ids start there)
            company["createdAt"] = min(company.get("createdAt", old), old)
            company["updatedAt"] = old


def _focusable(world: World) -> bool:
    """A Dependent store where a Company document manages a live company (``_assigned``)."""
    return world.behavior == "dependent" and bool(world.doc_company)


def _example(
    world: World,
    data: st.DataObject,
    focus: tuple[str, ...] = (),
    bump: bool | None = None,
    lag: int = 0,
    reached: Reached | None = None,
    stamps: bool = False,
) -> bool:
    """One example of the property; whether it was interesting. ``focus``: the kind of
    change of each round in turn (one or two each, ``bump`` for the side-effect switch, the
    padded OrderAssignment always, ``lag`` for ``ordersSyncLag``, each round after the first
    pausing that long before its changes, ``stamps`` for ``lateSyncStampsSyncTime``, the auto
    plan first); else everything is drawn (the chaos generator's switches).
    With ``focus``, interesting means that ``reached`` says a round's auto plan after a
    change to what the manifests name took the path."""
    clock = Clock()
    padding = 260 if focus else data.draw(st.sampled_from([260, 260, 600, 0]), label="padding")
    event(f"padding {padding}")
    seed = _padded(world.seed, padding)
    if focus:
        _age_companies(seed)
    if focus or (padding and data.draw(st.integers(0, 3), label="assign padding") > 0):
        world = _assigned(data, world, seed, last=bool(focus))
    # The switches incremental refresh added: whether side effects (a deleted company's orders,
    # orders a new user brings along) bump updatedAt, and the store's clock ahead of ours or
    # behind it (within the margin the snapshot allows).
    quirks = {
        **seed["store"].get("quirks", {}),
        "sideEffectsBumpUpdatedAt": (
            data.draw(st.booleans(), label="sideEffectsBump") if bump is None else bump
        ),
        "clockSkew": data.draw(st.sampled_from([0, -600, 600]), label="clockSkew"),
    }
    if focus:  # the paths, with the lag asked for; a new user brings its orders along
        quirks.update(ordersSyncLag=lag, userCreateMovesOrders=True, lateSyncStampsSyncTime=stamps)
    seed["store"] = {**seed["store"], "quirks": quirks}
    with (
        tempfile.TemporaryDirectory(prefix="incremental-") as tmp,
        Sandbox(seed=seed, clock=clock, rate_limit=(1_000_000, 60.0)) as sb,
        sb.serve() as served,
    ):
        folder = Path(tmp)
        _write(world, folder)
        first, _, _ = plan_noted(served.url, folder, "auto")  # a full read writes the snapshot
        event(f"first plan exit {first}")
        if focus:  # a path is reached only from a plan that succeeds
            assume(first == 0)
        n = 0
        interesting = False
        planned = False
        rounds = len(focus) if focus else data.draw(st.integers(1, 3), label="rounds")
        for _round in range(rounds):
            touched = False
            kind = focus[_round] if focus else None
            for _ in range(data.draw(st.integers(1, 2 if focus else 6), label="changes")):
                pause = lag if lag and _round else data.draw(st.sampled_from(PAUSES), label="pause")
                clock.advance(pause)
                n += 1
                made, named = _change(data, sb, world, n, kind)
                event(f"change {made}{' (named)' if named else ''}")
                note(f"change {n}: {made}{' (named)' if named else ''}")
                touched = touched or named
                if focus:  # the change that reaches the path, made to what the manifests name
                    assume(named)
            # Focused: the auto plan first, else a full read's snapshot already holds the change
            # and the auto plan misses the path it is there for.
            order = (
                ("auto", "full")
                if focus
                else data.draw(st.sampled_from([("auto", "full"), ("full", "auto")]))
            )
            outcomes: dict[str, tuple[int, Any, dict[str, Any]]] = {}
            lookups = 0
            for mode in order:
                sb.clear_log()
                outcomes[mode] = plan_noted(served.url, folder, mode)
                if mode == "auto":
                    lookups = sum(1 for e in sb.request_log if _ORDER_BY_ID.match(e.path))
            auto, full = outcomes["auto"][:2], outcomes["full"][:2]
            served_parts = outcomes["auto"][2].get("fromSnapshot") or []
            note(f"round {_round}: auto refresh {outcomes['auto'][2]}, {lookups} look-ups")
            for part in served_parts:
                event(f"from snapshot: {part}")
            if reached is not None:
                bumped = bool(quirks["sideEffectsBumpUpdatedAt"])
                served_ok = reached(outcomes["auto"][2], lookups, bumped)
            else:
                served_ok = bool(served_parts)
            interesting = interesting or (first == 0 and touched and served_ok)
            assert auto == full, f"--refresh auto planned {auto}, --refresh full {full}"
            planned = auto[0] == 0
        event("interesting" if interesting else "trivial")
        if focus:
            # The path shows only in a plan: when the last round's change made both plans
            # refuse (a managed company or an Order document's order gone), nothing can.
            assume(planned)
        return interesting
