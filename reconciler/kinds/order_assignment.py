"""OrderAssignment: every order of each listed customer belongs to one Company.

A member's company-less orders, to be in the member's own company, are attached with ``assign``;
orders sitting in another company are moved with ``reassign`` (Dependent only; it moves every
order of the customer to the group's company). Actions depend on the creation of their company.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.kinds.base import ActionInfo, ApplyRun, Kind, PlanContext
from reconciler.kinds.company import CompanySpec
from reconciler.kinds.documents import Checked, Issues, field_locs, int_or_none, suggest
from reconciler.kinds.listing import pages, read_listed
from reconciler.model import (
    API_VERSION,
    ORDER_LIST_PAGE,
    Action,
    ActionType,
    FieldChange,
    FieldLocated,
    LiveCompany,
    LiveCustomer,
    LiveOrder,
    LiveState,
    Location,
    ReadNeeds,
    Request,
    StoreSpec,
)

if TYPE_CHECKING:
    from reconciler.api import ApiClient

__all__ = ["ORDER_ASSIGNMENT", "OrderAssignmentKind", "OrderAssignmentSpec"]


@dataclass(frozen=True)
class OrderAssignmentSpec(FieldLocated):
    """Every order of each listed customer belongs to ``company``."""

    name: str
    company: str
    customer_ids: tuple[int, ...]
    loc: Location | None = None
    field_locs: Mapping[str, Location] = field(default_factory=dict)

    @property
    def resource(self) -> str:
        """``orderassignment/<name>``."""
        return f"orderassignment/{self.name}"


class OrderAssignmentKind(Kind[OrderAssignmentSpec]):
    """The OrderAssignment kind."""

    name = "OrderAssignment"
    spec_type = OrderAssignmentSpec
    actions = (
        ActionInfo(
            "reassign",
            "→",
            ("customer's orders to reassign", "customers' orders to reassign"),
            "the orders' previous companies are not recorded anywhere; moving them back is manual",
        ),
        ActionInfo(
            "assign",
            "→",
            ("customer's orders to assign", "customers' orders to assign"),
            "the orders' previous state is not recorded anywhere; undoing it is manual",
        ),
    )
    needs_behavior = True

    def check_across(
        self,
        docs: Sequence[Checked],
        every: Mapping[str, Sequence[Checked]],
        store: Checked | None,
        issues: Issues,
    ) -> None:
        """The company is a Company document; a customer is in one OrderAssignment."""
        company_names = [c.name for c in every.get("Company", ()) if c.name]
        known = set(company_names)  # a lookup per document, not a scan of every company
        owners: dict[int, tuple[Checked, int]] = {}
        for assignment in docs:
            ref = assignment.field("company")
            if isinstance(ref, str) and ref not in known:
                issues.add(
                    assignment.doc.loc(("spec", "company")),
                    assignment.resource,
                    f"spec.company: no Company named {ref!r}{suggest(ref, company_names)}",
                )
            customer_ids = assignment.field("customerIds")
            for index, customer in enumerate(
                customer_ids if isinstance(customer_ids, list) else []
            ):
                if int_or_none(customer) is None:
                    continue
                owner = owners.setdefault(customer, (assignment, index))
                if owner[0] is not assignment:
                    there = owner[0].doc.loc(("spec", "customerIds", owner[1]))
                    issues.add(
                        assignment.doc.loc(("spec", "customerIds", index)),
                        assignment.resource,
                        f"spec.customerIds.{index}: customer {customer} is already in "
                        f"{owner[0].resource or 'another OrderAssignment'} "
                        f"({there.path}:{there.line})",
                    )

    def build(self, doc: Checked) -> OrderAssignmentSpec:
        """The spec of a checked document."""
        spec = doc.spec()
        return OrderAssignmentSpec(
            name=doc.name or "",
            company=spec["company"],
            customer_ids=tuple(spec["customerIds"]),
            loc=doc.doc.start,
            field_locs=field_locs(doc.doc),
        )

    def needs(self, specs: Sequence[OrderAssignmentSpec], store: StoreSpec | None) -> ReadNeeds:
        """Membership and orders of every listed customer."""
        return ReadNeeds(customers=tuple(dict.fromkeys(c for a in specs for c in a.customer_ids)))

    def managed(self, specs: Sequence[OrderAssignmentSpec]) -> int:
        """Each listed customer counts once."""
        return sum(len(a.customer_ids) for a in specs)

    def plan(self, specs: Sequence[OrderAssignmentSpec], ctx: PlanContext) -> None:
        """Assign or reassign the misplaced orders of each customer."""
        companies: dict[str, CompanySpec] = {}
        for company in ctx.manifests.of(CompanySpec):
            companies.setdefault(company.name, company)
        for spec in specs:
            _plan_assignment(ctx, spec, companies)

    def apply_requests(
        self, actions: Sequence[Action], live: LiveState | None = None, every: Sequence[Action] = ()
    ) -> int:
        """Each move; in verification, one listing of the orders modified since apply started
        (every order of a reassigned customer, the moved ones of an assigned customer) when
        that is cheaper, else one order listing per company that receives orders (a first
        page; a company with more than 200 orders costs more)."""
        targets = len({a.target_company for a in actions})
        listed = pages(_orders_moved(actions, live), ORDER_LIST_PAGE)
        return len(actions) + min(listed, targets)

    def send(
        self, client: ApiClient, action: Action, request: Request, run: ApplyRun
    ) -> tuple[str, int | None]:
        """Move the orders; say how many moved."""
        data = client.b2b.send(request, idempotent=True)
        if isinstance(data, Mapping) and "total" in data:
            return f"{data['total']} order(s) moved", None
        return "done", None

    def verify(self, client: ApiClient, actions: Sequence[Action], run: ApplyRun) -> list[str]:
        """Every moved order must be in its receiving company: read from one listing of the
        orders modified since apply started when that is cheaper, else (and for any order the
        listing misses) from one listing of each receiving company's orders."""
        problems: list[str] = []
        moved: dict[str, list[Action]] = {}
        target_of: dict[int, str] = {}
        for action in actions:
            if action.target_company:
                moved.setdefault(action.target_company, []).append(action)
                for order_id in _moved_ids(action):
                    target_of[order_id] = action.target_company
        listed: dict[int, LiveOrder] = {}
        since = run.since
        if since is not None:
            listed = read_listed(
                set(target_of),
                _orders_moved(actions, run.live),
                ORDER_LIST_PAGE,
                lambda: client.b2b.orders_page(min_created=None, min_modified=since),
                lambda first: client.b2b.rest_of_orders(
                    first, min_created=None, min_modified=since
                )[0],
                lambda o: o.bc_order_id,
                each=lambda ids: len({target_of[i] for i in ids}),
            )
        for resource, moves in moved.items():
            company_id = run.outputs.get(resource)
            wanted = {i for a in moves for i in _moved_ids(a)}
            in_company = {i for i in wanted if i in listed and listed[i].company_id == company_id}
            if any(i not in listed for i in wanted):
                in_company |= {o.bc_order_id for o in client.b2b.list_orders(company_id=company_id)}
            for action in moves:
                for order_id in sorted(_moved_ids(action)):
                    if order_id not in in_company:
                        problems.append(
                            f"inconsistent result after apply: order {order_id} is not in "
                            f"{resource} ({action.id})"
                        )
        return problems

    def spec_for(self, name: str, company: str, customer_ids: Sequence[int]) -> OrderAssignmentSpec:
        """A spec import reads through (the live reader takes specs)."""
        return OrderAssignmentSpec(name, company, tuple(customer_ids))

    def document(self, name: str, company: str, customer_ids: Sequence[int]) -> dict[str, Any]:
        """The OrderAssignment manifest import writes."""
        return {
            "apiVersion": API_VERSION,
            "kind": self.name,
            "metadata": {"name": name},
            "spec": {"company": company, "customerIds": list(customer_ids)},
        }


def _plan_assignment(
    ctx: PlanContext, spec: OrderAssignmentSpec, companies: Mapping[str, CompanySpec]
) -> None:
    company_spec = companies.get(spec.company)
    if company_spec is None:  # validate catches this; keep the planner total
        ctx.issue(
            spec.loc_of("company"), spec.resource, f"spec.company: no Company {spec.company!r}"
        )
        return
    target_res = company_spec.resource
    group = company_spec.customer_group_id
    target = ctx.matched.get(target_res)
    converting = ctx.creating.get(target_res)
    if target is None and converting is None:
        return  # the company could not be planned; its issue is already reported
    for i, customer_id in enumerate(spec.customer_ids):
        customer = ctx.live.customers.get(customer_id)
        if customer is None:
            ctx.issue(
                spec.loc_of(f"customerIds.{i}"),
                spec.resource,
                f"spec.customerIds[{i}]: customer {customer_id} not found",
            )
            continue
        unsynced = [o for o in customer.order_ids if o not in ctx.live.orders]
        if unsynced:
            ctx.warnings.append(
                f"{spec.resource}: order(s) {', '.join(map(str, unsynced))} of customer "
                f"{customer_id} are in BigCommerce but not (yet) in B2B Edition, so they cannot "
                "be checked or moved now; B2B Edition syncs new orders with a delay: plan "
                "again later (if this stays, check them in the B2B Edition control panel)"
            )
        if customer.company_id is None and not customer.order_ids:
            ctx.warnings.append(
                f"{spec.resource}: customer {customer_id} has no orders and is not a company "
                "user; nothing to move (check the id if you expected orders)"
            )
        _plan_customer(ctx, spec, customer, target, target_res, converting, group, i)


def _plan_customer(
    ctx: PlanContext,
    spec: OrderAssignmentSpec,
    customer: LiveCustomer,
    target: LiveCompany | None,
    target_res: str,
    converting: str | None,
    group: int,
    index: int,
) -> None:
    target_id = target.company_id if target else None
    orders = [ctx.live.orders[o] for o in customer.order_ids if o in ctx.live.orders]
    misplaced = [o for o in orders if target_id is None or o.company_id != target_id]
    if not misplaced:
        return
    cid = customer.customer_id
    field_name = f"spec.customerIds[{index}]"
    joining = ctx.members.get(customer.email.lower()) if customer.email else None
    if customer.company_id is None and joining is None:
        ctx.issue(
            spec.loc_of(f"customerIds.{index}"),
            spec.resource,
            f"{field_name}: customer {cid} is not a company user, so B2B Edition cannot move "
            f"their orders; add them as a user of {target_res} (or any company) first",
        )
        return
    loose = [o for o in misplaced if o.company_id is None]
    foreign = [o for o in misplaced if o.company_id is not None]
    after = converting
    if joining is not None:  # a CompanyUsers document makes the customer a member first
        member_of_target = joining[0] == target_res
        after = joining[1]
    else:
        member_of_target = target_id is not None and customer.company_id == target_id
    kind: ActionType
    if member_of_target and not foreign:
        kind = "assign"
        request = Request("PUT", f"/customers/{cid}/orders/b2b", {})
        moved = loose
    elif ctx.behavior != "dependent":
        where = sorted({o.company_id for o in foreign if o.company_id is not None})
        ctx.issue(
            spec.loc_of(f"customerIds.{index}"),
            spec.resource,
            f"{field_name}: orders of customer {cid} sit in company {where or customer.company_id}"
            f" and can be moved to {target_res} only by reassign, which is Dependent-only (B2B"
            " Edition documents it as not for Independent stores); instead move the orders in"
            " the B2B Edition control panel, or remove the customer from this OrderAssignment",
        )
        return
    else:
        kind = "reassign"
        request = Request("PUT", f"/customers/{cid}/orders/company", {"bcGroupId": group})
        moved = misplaced
    changes = tuple(
        FieldChange(f"orders.{o.bc_order_id}.companyId", o.company_id, target_res)
        for o in sorted(moved, key=lambda o: o.bc_order_id)
    )
    sources: dict[str, int] = {}
    for o in moved:
        src = (
            "no company" if o.company_id is None else f"company {_company_label(ctx, o.company_id)}"
        )
        sources[src] = sources.get(src, 0) + 1
    effects = [
        f"{len(moved)} order(s) of customer {cid} move to {target_res}: "
        + ", ".join(f"{n} from {src}" for src, n in sorted(sources.items()))
    ]
    if joining is not None:
        effects.append(
            f"customer {cid} first becomes a user of {joining[0]} ({joining[1]}), which may "
            "already move these orders; then this moves nothing"
        )
    if kind == "reassign":
        effects.append(
            f"reassign moves every order of customer {cid}, including orders placed after "
            "this plan; the customer stays a user of their current company"
        )
    ctx.actions.append(
        Action(
            id=f"{spec.resource}:{kind}:{cid}",
            type=kind,
            resource=spec.resource,
            request=request,
            depends_on=(after,) if after else (),
            changes=changes,
            side_effects=tuple(effects),
            customer_group_id=group,
            company_id=target_id,
            customer_id=cid,
            target_company=target_res,
        )
    )


def _order_of(path: str) -> int | None:
    """The order id of a change path ``orders.<bcOrderId>.companyId`` (None for another path:
    a hand-built plan's)."""
    parts = path.split(".")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _moved_ids(action: Action) -> set[int]:
    """The orders an action moves (its change paths name them)."""
    return {i for i in (_order_of(c.path) for c in action.changes) if i is not None}


def _orders_moved(actions: Sequence[Action], live: LiveState | None) -> int:
    """Orders whose ``updatedAt`` these moves bump: every (synced) order of a reassigned
    customer, since reassign moves them all; the moved orders of an assigned customer."""
    seen: set[int] = set()
    for action in actions:
        seen |= _moved_ids(action)
        customer = live.customers.get(action.customer_id) if live and action.customer_id else None
        if action.type == "reassign" and customer is not None and live is not None:
            seen |= {o for o in customer.order_ids if o in live.orders}
    return len(seen)


def _company_label(ctx: PlanContext, company_id: int) -> str:
    live = ctx.by_id.get(company_id)
    return f"{live.company_name!r} ({company_id})" if live else str(company_id)


ORDER_ASSIGNMENT = OrderAssignmentKind()
"""The OrderAssignment kind."""
