"""Order: the B2B data (PO number, extra fields) of one BigCommerce order, by ``bcOrderId``.

An Order is never created: a missing one is an issue, or a warning when core has it and B2B
Edition has not synced it yet (b2b-api.md §9.13). One ``updateOrder`` PUT carries the changed
fields and the order's complete extra-field set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.diff import changes, extra_text, same_extra, same_value
from reconciler.kinds.base import ActionInfo, ApplyRun, Kind, PlanContext
from reconciler.kinds.documents import Checked, Issues, extras, field_locs, unique_field
from reconciler.kinds.extrafields import check_extra_fields, complete_extras, lost_extras
from reconciler.kinds.listing import listing_cheaper, pages, read_listed
from reconciler.model import (
    ORDER_LIST_PAGE,
    Action,
    ExtraFieldConfig,
    ExtraValue,
    FieldChange,
    FieldLocated,
    LiveOrder,
    LiveState,
    Location,
    ReadNeeds,
    Request,
    StoreSpec,
)

if TYPE_CHECKING:
    from reconciler.api import ApiClient

__all__ = ["ORDER", "OrderKind", "OrderSpec", "order_changes"]


@dataclass(frozen=True)
class OrderSpec(FieldLocated):
    """B2B data of one order."""

    name: str
    bc_order_id: int
    po_number: str | None = None
    extra_fields: Mapping[str, ExtraValue] | None = None
    loc: Location | None = None
    field_locs: Mapping[str, Location] = field(default_factory=dict)

    @property
    def resource(self) -> str:
        """``order/<name>``."""
        return f"order/{self.name}"


def order_changes(
    spec: OrderSpec, live: LiveOrder, configs: Mapping[str, ExtraFieldConfig]
) -> tuple[FieldChange, ...]:
    """Field changes that make the live order's B2B data match ``spec``."""
    want: dict[str, Any] = {}
    have: dict[str, Any] = {}
    if spec.po_number is not None:
        want["poNumber"] = spec.po_number
        have["poNumber"] = live.po_number
    if spec.extra_fields:
        want_extra = {k: extra_text(v) for k, v in spec.extra_fields.items()}
        have_extra = {k: live.extra_fields.get(k) for k in want_extra}
        for key, value in want_extra.items():
            seen = have_extra[key]
            if seen is not None and same_extra(value, seen, configs.get(key)):
                want_extra[key] = seen
            elif value == "" and seen is None:
                have_extra[key] = ""  # empty and absent read the same
        want["extraFields"] = want_extra
        have["extraFields"] = have_extra
    return changes(want, have)


class OrderKind(Kind[OrderSpec]):
    """The Order kind."""

    name = "Order"
    spec_type = OrderSpec
    actions = (ActionInfo("updateOrder", "~", ("order to update", "orders to update")),)
    extra_field_set = "order"

    def check_across(
        self,
        docs: Sequence[Checked],
        every: Mapping[str, Sequence[Checked]],
        store: Checked | None,
        issues: Issues,
    ) -> None:
        """One document per order."""
        unique_field(docs, "bcOrderId", "order {} is already described by", issues)

    def build(self, doc: Checked) -> OrderSpec:
        """The spec of a checked document."""
        spec = doc.spec()
        return OrderSpec(
            name=doc.name or "",
            bc_order_id=spec["bcOrderId"],
            po_number=spec.get("poNumber"),
            extra_fields=extras(spec.get("extraFields")),
            loc=doc.doc.start,
            field_locs=field_locs(doc.doc),
        )

    def needs(self, specs: Sequence[OrderSpec], store: StoreSpec | None) -> ReadNeeds:
        """The named orders and, for their updates, the order extra-field configs."""
        return ReadNeeds(
            order_extra_fields=bool(specs),
            order_docs=tuple(dict.fromkeys(o.bc_order_id for o in specs)),
        )

    def plan(self, specs: Sequence[OrderSpec], ctx: PlanContext) -> None:
        """One ``updateOrder`` per order whose B2B data differs."""
        configs = {c.name: c for c in ctx.live.order_field_configs}
        for spec in specs:
            _plan_order(ctx, spec, configs)

    def apply_requests(
        self, actions: Sequence[Action], live: LiveState | None = None, every: Sequence[Action] = ()
    ) -> int:
        """Each update; in verification, the updated orders: one listing of the orders
        modified since apply started when that is cheaper than one read per order."""
        touched = len({a.bc_order_id for a in actions})
        if listing_cheaper(touched, touched, ORDER_LIST_PAGE):
            return len(actions) + pages(touched, ORDER_LIST_PAGE)
        return len(actions) + touched

    def verify(self, client: ApiClient, actions: Sequence[Action], run: ApplyRun) -> list[str]:
        """Read each updated order (from one listing of the orders modified since apply
        started, when that is cheaper; one by one otherwise, and for any the listing misses):
        every changed and every carried field."""
        problems: list[str] = []
        ids = {a.bc_order_id for a in actions if a.bc_order_id is not None}
        listed: dict[int, LiveOrder] = {}
        since = run.since
        if since is not None:
            listed = read_listed(
                ids,
                len(ids),
                ORDER_LIST_PAGE,
                lambda: client.b2b.orders_page(min_created=None, min_modified=since),
                lambda first: client.b2b.rest_of_orders(
                    first, min_created=None, min_modified=since
                )[0],
                lambda o: o.bc_order_id,
            )
        for action in actions:
            if action.bc_order_id is None:
                continue
            order = listed.get(action.bc_order_id) or client.b2b.get_order(action.bc_order_id)
            if order is not None:
                problems += lost_extras(action.resource, (action,), order.extra_fields)
            for change in action.changes:
                head, _, rest = change.path.partition(".")
                have: Any
                if order is None:
                    have = None
                elif head == "poNumber":
                    have = order.po_number
                else:
                    have = order.extra_fields.get(rest)
                if not same_value(change.after, have):
                    problems.append(
                        f"inconsistent result after apply: {action.resource} {change.path} "
                        f"is {have!r}, expected {change.after!r}"
                    )
        return problems


def _plan_order(ctx: PlanContext, spec: OrderSpec, configs: Mapping[str, ExtraFieldConfig]) -> None:
    live = ctx.live.orders.get(spec.bc_order_id)
    if live is None and spec.bc_order_id in ctx.live.core_only_orders:
        ctx.warnings.append(
            f"{spec.resource}: order {spec.bc_order_id} is in BigCommerce but not (yet) in B2B "
            "Edition, so nothing is planned for it now; B2B Edition syncs new orders with a "
            "delay: plan again later (if this stays, check the order in the B2B Edition "
            "control panel)"
        )
        return
    if live is None:
        ctx.issue(
            spec.loc_of("bcOrderId"),
            spec.resource,
            f"spec.bcOrderId: order {spec.bc_order_id} does not exist in B2B Edition",
        )
        return
    if spec.extra_fields:
        check_extra_fields(
            ctx,
            spec.extra_fields,
            configs,
            creating=False,
            resource=spec.resource,
            loc_of=spec.loc_of,
            what="order",
        )
    found = order_changes(spec, live, configs)
    if not found:
        return
    body: dict[str, object] = {}
    extra: dict[str, ExtraValue] = {}
    for change in found:
        head, _, rest = change.path.partition(".")
        if head == "extraFields":
            extra[rest] = change.after
        else:
            body[head] = change.after
    # The complete set, required fields included, on every update (even poNumber-only).
    sent = complete_extras(
        ctx,
        extra,
        configs,
        live.extra_fields,
        resource=spec.resource,
        loc=lambda: spec.loc_of("extraFields"),
        what="order",
    )
    if sent is None:
        return
    if sent:
        body["extraFields"] = sent
    ctx.actions.append(
        Action(
            id=f"{spec.resource}:updateOrder",
            type="updateOrder",
            resource=spec.resource,
            request=Request("PUT", f"/orders/{spec.bc_order_id}", body),
            changes=found,
            bc_order_id=spec.bc_order_id,
        )
    )


ORDER = OrderKind()
"""The Order kind."""
