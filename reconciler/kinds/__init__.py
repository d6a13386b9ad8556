"""The resource kinds, registered in one place, in dependency order.

A kind plans after the kinds it depends on (an OrderAssignment's moves wait for its Company's
creation), and the stages walk ``KINDS`` in this order: load checks and builds documents kind by
kind, the live reader merges their needs, the planner runs them over one shared context, apply
dispatches each action to the kind that declares its type, render words each type as its kind
says. Adding a kind is one module in this package and one entry here.

What a kind cannot add on its own: a new kind of read. ``ReadNeeds`` (what to read) and
``LiveState`` (what was read) are shared so that ``live.py`` can choose the cheapest strategy
across kinds; a kind that needs something no kind reads yet adds a field to each, the reader
in ``live.py`` (with its cost in ``plan_read_cost``), and the field to the saved plan's
recorded state in ``planfile.py``.
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds.base import ActionInfo, Kind, PlanContext, Spec
from reconciler.kinds.company import COMPANY
from reconciler.kinds.company_users import COMPANY_USERS
from reconciler.kinds.order import ORDER
from reconciler.kinds.order_assignment import ORDER_ASSIGNMENT
from reconciler.kinds.price_list_assignment import PRICE_LIST_ASSIGNMENT
from reconciler.model import ManifestSet, Plan, ReadNeeds, precondition_requests

__all__ = [
    "KINDS",
    "ActionInfo",
    "Kind",
    "PlanContext",
    "Spec",
    "action_info",
    "action_types",
    "api_requests",
    "estimated_seconds",
    "kind_named",
    "kind_of_action",
    "needs_of",
    "registry",
]

AnyKind = Kind[Any]

KINDS: tuple[AnyKind, ...] = (
    COMPANY,
    COMPANY_USERS,
    ORDER_ASSIGNMENT,
    ORDER,
    PRICE_LIST_ASSIGNMENT,
)
"""Every kind but the Store (whose settings every stage reads), in dependency order."""


def registry() -> tuple[AnyKind, ...]:
    """The registered kinds, in dependency order (read at call time)."""
    return KINDS


def kind_named(name: str) -> AnyKind | None:
    """The kind of a manifest ``kind`` (exact spelling), or None."""
    return next((k for k in KINDS if k.name == name), None)


def action_types() -> tuple[str, ...]:
    """Every action type, kind by kind."""
    return tuple(t for kind in KINDS for t in kind.action_types)


def kind_of_action(action_type: str) -> AnyKind | None:
    """The kind that declares an action type, or None."""
    return next((k for k in KINDS if action_type in k.action_types), None)


def action_info(action_type: str) -> ActionInfo | None:
    """How an action type is worded and drawn, or None for an unknown type."""
    for kind in KINDS:
        for info in kind.actions:
            if info.type == action_type:
                return info
    return None


def needs_of(manifests: ManifestSet) -> ReadNeeds:
    """What a manifest set needs from the live store: every kind's part, merged (no I/O)."""
    store = manifests.store
    needs = ReadNeeds(dependent=(store.companies_behavior if store else None) != "independent")
    for kind in KINDS:
        needs |= kind.needs_in(manifests.of(kind.spec_type), manifests)
    return needs


def api_requests(plan: Plan) -> int:
    """Requests apply will make when nothing fails: the staleness check, then what each kind
    sends, confirms and verifies for its actions."""
    if not plan.actions:
        return 0
    total = precondition_requests(plan)
    for kind in KINDS:
        mine = [a for a in plan.actions if a.type in kind.action_types]
        if mine:
            total += kind.apply_requests(mine, plan.live, plan.actions)
    return total


def estimated_seconds(plan: Plan) -> float:
    """Wall time of those requests at the store's configured rate."""
    rate = max(1, plan.store.requests_per_minute) / 60.0
    return round(api_requests(plan) / rate, 1)
