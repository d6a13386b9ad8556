"""Turn desired resources and a live snapshot into a Plan. Pure: no I/O.

The kinds plan in registry order (``reconciler.kinds``) over one shared context: the live
snapshot, and the actions of the kinds before them to depend on (an OrderAssignment's moves wait
for the creation of its Company). What each kind plans is written in its module.

Every problem that would make apply fail is found here, all at once, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from reconciler import kinds
from reconciler.errors import PlanError
from reconciler.kinds.base import PlanContext
from reconciler.model import (
    Action,
    LiveCompany,
    LiveState,
    ManifestSet,
    Plan,
    Preconditions,
    StoreInfo,
)

WATERMARK_MARGIN = 300
"""Seconds subtracted from our read time when the store's is not known (no ``Date`` header): room
for clock skew between us and the API. A store clock further behind ours than this would let a
change made since planning pass, so the store's own time is used whenever it told it."""
STORE_CLOCK_MARGIN = 5
"""Seconds subtracted from the store's time at the read (``LiveState.store_read_at``: the
``Date`` of its first B2B answer less that whole exchange, so no earlier than anything the read
saw): the one-second resolution of ``Date`` and ``updatedAt``, a ``minModified`` that may be
exclusive, and a ``Date`` stamped up to 3 s off the clock that stamps ``updatedAt`` (as
``incremental.DATE_MARGIN``)."""


def watermark_of(live: LiveState) -> int:
    """The staleness watermark of a read: a store time no later than the read's first look at
    anything, so every change made since has an ``updatedAt`` at or after it, whatever the
    skew between the store's clock and ours (on our clock less 300 s when the store's time is
    not known)."""
    if live.store_read_at is not None:
        return max(0, live.store_read_at - STORE_CLOCK_MARGIN)
    return max(0, live.read_at - WATERMARK_MARGIN)


def build_plan(
    manifests: ManifestSet,
    live: LiveState,
    *,
    created_at: str,
    targets: Sequence[str] = (),
) -> Plan:
    """Plan the calls that make the live store match the manifests; raise PlanError if it can't."""
    store = manifests.store
    behavior = (store.companies_behavior if store else None) or "dependent"
    msf = bool(store and store.multi_storefront)
    ctx = PlanContext(manifests, live, behavior, msf)
    unmanaged = managed = 0
    for kind in kinds.registry():
        specs = manifests.of(kind.spec_type)
        kind.plan(specs, ctx)
        unmanaged += kind.unmanaged(specs, ctx)
        managed += kind.managed(specs)
    if ctx.issues:
        raise PlanError(sorted(ctx.issues))
    actions = _select_targets(ctx.actions, targets)
    recorded = recorded_live(manifests, live)
    plan = Plan(
        created_at=created_at,
        store=StoreInfo(
            hash=live.store_hash,
            companies_behavior=behavior,
            multi_storefront=msf,
            requests_per_minute=store.requests_per_minute if store else 120,
            max_change_percent=store.max_change_percent if store else 30,
        ),
        manifest_digest=manifests.digest,
        actions=tuple(actions),
        preconditions=_preconditions(actions, recorded, ctx.by_id, set(ctx.creating.values())),
        unmanaged_companies=unmanaged,
        unmanaged_users=ctx.unmanaged_users,
        managed_objects=managed,
        warnings=tuple(ctx.warnings),
        targets=tuple(targets),
        live=recorded,
    )
    over = plan.change_limit_exceeded()
    if over:  # shown at plan time; apply refuses it without --force
        warning = f"{over}: apply will refuse this plan unless given --force"
        plan = replace(plan, warnings=(*plan.warnings, warning))
    return plan


def recorded_live(manifests: ManifestSet, live: LiveState) -> LiveState:
    """The part of ``live`` the planner looks at for these manifests, kept in a saved plan.

    ``build_plan(manifests, recorded_live(manifests, live))`` is the same plan as
    ``build_plan(manifests, live)``: every company on an Independent store (identity looks at
    all of them), else the companies of managed groups (all of them, in read order) and those
    holding orders or users the plan names; the managed groups' existence; every price list,
    channel, price-list assignment, extra-field config, customer and order that was read; the
    total of companies (for the unmanaged count) and the read time (for the watermark).
    """
    needs = kinds.needs_of(manifests)
    groups = set(needs.groups)
    held = {o.company_id for o in live.orders.values()} | {
        c.company_id for c in live.customers.values()
    }
    companies = tuple(
        c
        for c in live.companies
        if needs.every_company or c.customer_group_id in groups or c.company_id in held
    )
    total = live.company_total if live.company_total is not None else len(live.companies)
    return replace(
        live,
        companies=companies,
        customer_groups=frozenset(g for g in live.customer_groups if g in groups),
        requests=0,
        company_total=total,
    )


def _select_targets(actions: list[Action], targets: Sequence[str]) -> list[Action]:
    """Keep the actions of the targeted resources and everything they depend on."""
    if not targets:
        return actions
    wanted = {t.lower() for t in targets}
    by_id = {a.id: a for a in actions}
    keep: set[str] = set()
    stack = [a.id for a in actions if a.resource in wanted]
    while stack:
        current = stack.pop()
        if current in keep:
            continue
        keep.add(current)
        stack.extend(by_id[current].depends_on)
    return [a for a in actions if a.id in keep]


def _preconditions(
    actions: Iterable[Action],
    live: LiveState,
    by_id: Mapping[int, LiveCompany],
    creating: set[str],
) -> Preconditions:
    """What apply checks first: the recorded state of everything the actions touch, and the
    customer groups that must still have no company (``creating``: ids of creating actions)."""
    companies: dict[int, int] = {}
    orders: dict[int, int] = {}
    customers: dict[int, int | None] = {}
    free: set[int] = set()
    for action in actions:
        if action.id in creating and action.customer_group_id is not None:
            free.add(action.customer_group_id)
        if action.company_id is not None:
            company = by_id.get(action.company_id)
            if company is not None:
                companies[company.company_id] = company.updated_at
        if action.bc_order_id is not None and action.bc_order_id in live.orders:
            orders[action.bc_order_id] = live.orders[action.bc_order_id].updated_at
        if action.customer_id is not None:
            customer = live.customers[action.customer_id]
            customers[customer.customer_id] = customer.user_updated_at
            for order_id in customer.order_ids:
                if order_id in live.orders:
                    orders[order_id] = live.orders[order_id].updated_at
    return Preconditions(
        watermark=watermark_of(live),
        companies=companies,
        free_groups=tuple(sorted(free)),
        orders=orders,
        customers=customers,
    )


__all__ = ["build_plan", "recorded_live"]
