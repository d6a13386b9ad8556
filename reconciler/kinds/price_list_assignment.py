"""PriceListAssignment: the price list a customer group uses on a channel (Independent stores).

On an Independent store a company's prices come from its customer group's core price-list
assignment (``/v3/pricelists/assignments``), not from the company, and every company sharing
the group gets them: the plan says how many. Identity: (``customerGroupId``, ``channelId``).
On a Dependent store the document is a validate-time error (the Company's ``catalogId`` or
``priceListAssign`` is the lever there).

Changing a group's list is ``setPriceList``. Whether an upsert (``PUT /v3/pricelists/{id}/
assignments``) over a group and channel that another list holds replaces it or is refused is
open (b2b-api.md §9.16); the plan is right under both readings: when the pair holds another
list, one ``setPriceList`` deletes that assignment by its id (``DELETE /v3/pricelists/
assignments?id=N``), and the next, depending on it, upserts the new list. When the pair has
no list, the upsert alone. Both are idempotent. Between the two calls the group has no list
on that channel; the plan says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.kinds.base import ActionInfo, ApplyRun, Kind, PlanContext
from reconciler.kinds.documents import Checked, Issues, field_locs, first_at
from reconciler.model import (
    API_VERSION,
    ASSIGNMENT_GROUPS_PER_READ,
    Action,
    FieldChange,
    FieldLocated,
    LivePriceListAssignment,
    LiveState,
    Location,
    ReadNeeds,
    Request,
    StoreSpec,
)

if TYPE_CHECKING:
    from reconciler.api import ApiClient

__all__ = [
    "PRICE_LIST_ASSIGNMENT",
    "PriceListAssignmentKind",
    "PriceListAssignmentSpec",
    "assignment_requests",
]

ASSIGNMENTS = "/v3/pricelists/assignments"
DEFAULT_CHANNEL = 1


@dataclass(frozen=True)
class PriceListAssignmentSpec(FieldLocated):
    """A PriceListAssignment document."""

    name: str
    customer_group_id: int
    price_list_id: int
    channel_id: int = DEFAULT_CHANNEL
    loc: Location | None = None
    field_locs: Mapping[str, Location] = field(default_factory=dict)

    @property
    def resource(self) -> str:
        """``pricelistassignment/<name>``."""
        return f"pricelistassignment/{self.name}"


def assignment_requests(
    price_list_id: int,
    customer_group_id: int,
    channel_id: int,
    held: LivePriceListAssignment | None,
) -> tuple[Request, ...]:
    """The core calls that give a group ``price_list_id`` on a channel, right under both
    readings of an upsert over a pair another list holds (§9.16): delete that assignment by id,
    then upsert. Nothing when the pair already has this list."""
    if held is not None and held.price_list_id == price_list_id:
        return ()
    upsert = Request(
        "PUT",
        f"/v3/pricelists/{price_list_id}/assignments",
        {"customer_group_id": customer_group_id, "channel_id": channel_id},
    )
    if held is None:
        return (upsert,)
    return (Request("DELETE", f"{ASSIGNMENTS}?id={held.assignment_id}", None), upsert)


class PriceListAssignmentKind(Kind[PriceListAssignmentSpec]):
    """The PriceListAssignment kind."""

    name = "PriceListAssignment"
    spec_type = PriceListAssignmentSpec
    actions = (ActionInfo("setPriceList", "~", ("price list to set", "price lists to set")),)
    needs_behavior = True

    def check_across(
        self,
        docs: Sequence[Checked],
        every: Mapping[str, Sequence[Checked]],
        store: Checked | None,
        issues: Issues,
    ) -> None:
        """One document per group and channel; Independent stores only."""
        behavior = store.field("companiesBehavior") if store else None
        seen: dict[tuple[int, int], Checked] = {}
        for doc in docs:
            if behavior == "dependent":
                issues.add(
                    doc.doc.key_loc(("kind",)),
                    doc.resource,
                    "PriceListAssignment is for stores with companiesBehavior: independent; on "
                    "this Dependent store a company's prices come from its catalogId (or "
                    "priceListAssign with Multi-Storefront): set them on the Company and "
                    "remove this document",
                )
                continue
            group, channel = doc.field("customerGroupId"), doc.field("channelId")
            if not isinstance(group, int):
                continue
            pair = (group, channel if isinstance(channel, int) else DEFAULT_CHANNEL)
            first = seen.setdefault(pair, doc)
            if first is not doc:
                there, here = first.at("customerGroupId"), doc.at("customerGroupId")
                issues.add(
                    here,
                    doc.resource,
                    f"spec.customerGroupId: customer group {pair[0]} on channel {pair[1]} is "
                    f"already set by {first.resource} ({first_at(there, here)}); a group has "
                    "one price list per channel",
                )

    def canonical(self, spec: dict[str, Any]) -> None:
        """A missing ``channelId`` is channel 1."""
        spec.setdefault("channelId", DEFAULT_CHANNEL)

    def build(self, doc: Checked) -> PriceListAssignmentSpec:
        """The spec of a checked document."""
        spec = doc.spec()
        return PriceListAssignmentSpec(
            name=doc.name or "",
            customer_group_id=spec["customerGroupId"],
            price_list_id=spec["priceListId"],
            channel_id=spec.get("channelId", DEFAULT_CHANNEL),
            loc=doc.doc.start,
            field_locs=field_locs(doc.doc),
        )

    def needs(self, specs: Sequence[PriceListAssignmentSpec], store: StoreSpec | None) -> ReadNeeds:
        """The groups' assignments, their companies (to say who shares the prices) and
        existence, the price lists, and the channels when one other than 1 is named."""
        if not specs:
            return ReadNeeds()
        groups = tuple(dict.fromkeys(s.customer_group_id for s in specs))
        return ReadNeeds(
            groups=groups,
            assignment_groups=groups,
            price_lists=True,
            channels=any(s.channel_id != DEFAULT_CHANNEL for s in specs),
        )

    def plan(self, specs: Sequence[PriceListAssignmentSpec], ctx: PlanContext) -> None:
        """A ``setPriceList`` (or a delete then one) for each group whose list differs."""
        held = {(a.customer_group_id, a.channel_id): a for a in ctx.live.price_list_assignments}
        for spec in specs:
            _plan_one(ctx, spec, held.get((spec.customer_group_id, spec.channel_id)))

    def apply_requests(
        self, actions: Sequence[Action], live: LiveState | None = None, every: Sequence[Action] = ()
    ) -> int:
        """Each write, and one verification read of the upserted groups' assignments per 50
        groups (the staleness check's read is counted with the preconditions)."""
        groups = {a.customer_group_id for a in actions if a.request.method == "PUT"}
        return len(actions) + -(-len(groups) // ASSIGNMENT_GROUPS_PER_READ)

    def send(
        self, client: ApiClient, action: Action, request: Request, run: ApplyRun
    ) -> tuple[str, int | None]:
        """Send the core call (both are idempotent and may be retried)."""
        client.core.send((request.method, request.path, request.body))
        if request.method == "DELETE":
            return "the group's previous assignment was deleted", None
        return "price list assigned", None

    def verify(self, client: ApiClient, actions: Sequence[Action], run: ApplyRun) -> list[str]:
        """Read the touched groups' assignments once: each pair must have the planned list."""
        wanted: dict[tuple[int, int], tuple[int, str]] = {}
        for action in actions:
            body = action.request.body
            if action.request.method == "PUT" and isinstance(body, dict):
                pair = (int(body["customer_group_id"]), int(body["channel_id"]))
                price_list = int(action.request.path.split("/")[3])
                wanted[pair] = (price_list, action.id)
        if not wanted:
            return []
        found = client.core.price_list_assignments(
            customer_group_ids=sorted({g for g, _ in wanted})
        )
        have = {(a.customer_group_id, a.channel_id): a.price_list_id for a in found}
        problems = []
        for (group, channel), (price_list, action_id) in sorted(wanted.items()):
            if have.get((group, channel)) != price_list:
                problems.append(
                    f"inconsistent result after apply: customer group {group} on channel "
                    f"{channel} has price list {have.get((group, channel))}, expected "
                    f"{price_list} ({action_id})"
                )
        return problems

    def document(self, name: str, assignment: LivePriceListAssignment) -> dict[str, Any]:
        """The PriceListAssignment manifest ``import`` writes for a live assignment."""
        return {
            "apiVersion": API_VERSION,
            "kind": self.name,
            "metadata": {"name": name},
            "spec": {
                "customerGroupId": assignment.customer_group_id,
                "channelId": assignment.channel_id,
                "priceListId": assignment.price_list_id,
            },
        }


def _plan_one(
    ctx: PlanContext, spec: PriceListAssignmentSpec, held: LivePriceListAssignment | None
) -> None:
    res, group, channel = spec.resource, spec.customer_group_id, spec.channel_id
    store = ctx.live.store_hash
    problems = []
    if group not in ctx.live.customer_groups:
        problems.append(("customerGroupId", f"customer group {group} does not exist in {store}"))
    if spec.price_list_id not in ctx.live.price_lists:
        problems.append(
            ("priceListId", f"price list {spec.price_list_id} does not exist in {store}")
        )
    if channel != DEFAULT_CHANNEL and channel not in ctx.live.channels:
        problems.append(("channelId", f"channel {channel} does not exist in {store}"))
    for path, message in problems:
        ctx.issue(spec.loc_of(path), res, f"spec.{path}: {message}; create it or fix the id")
    if problems:
        return
    requests = assignment_requests(spec.price_list_id, group, channel, held)
    if not requests:
        return
    before = held.price_list_id if held is not None else None
    sharing = _sharing(ctx, group, channel)
    after: tuple[str, ...] = ()
    if len(requests) == 2:
        assert held is not None
        unassign = f"{res}:setPriceList:unassign"
        ctx.actions.append(
            Action(
                id=unassign,
                type="setPriceList",
                resource=res,
                request=requests[0],
                changes=(FieldChange("priceListId", before, None),),
                side_effects=(
                    f"deletes assignment {held.assignment_id} (price list {before}) so that the "
                    "next call is right whether an upsert over another list replaces it or is "
                    "refused (b2b-api.md §9.16); until it runs, the group has no price list on "
                    f"channel {channel} and its buyers see the next price in BigCommerce's order "
                    "(the group's list for every channel, group discounts, the channel's list, "
                    "the catalog)",
                ),
                customer_group_id=group,
            )
        )
        after = (unassign,)
    ctx.actions.append(
        Action(
            id=f"{res}:setPriceList",
            type="setPriceList",
            resource=res,
            request=requests[-1],
            depends_on=after,
            changes=(FieldChange("priceListId", before, spec.price_list_id),),
            side_effects=(sharing,),
            customer_group_id=group,
        )
    )


def _sharing(ctx: PlanContext, group: int, channel: int) -> str:
    """Who gets the new prices: every company in the group (managed or not), now and after the
    Company actions planned before this kind (moves in or out, creations)."""
    companies = ctx.by_group.get(group, [])
    moves = [
        change
        for action in ctx.actions
        for change in action.changes
        if change.path == "customerGroupId" and group in (change.before, change.after)
    ]
    joining = sum(1 for c in moves if c.after == group)
    leaving = sum(1 for c in moves if c.before == group)
    later = ""
    if joining or leaving:
        after = len(companies) + joining - leaving
        later = f"; after this plan {after} ({joining} joining, {leaving} leaving)"
    if not companies:
        return (
            f"no company is in customer group {group} now{later}; every customer of the group "
            f"gets these prices on channel {channel}"
        )
    names = ", ".join(repr(c.company_name) for c in companies[:5])
    more = f" and {len(companies) - 5} more" if len(companies) > 5 else ""
    count = f"{len(companies)} compan{'y' if len(companies) == 1 else 'ies'}"
    return (
        f"customer group {group} is shared by {count} ({names}{more}){later}: the prices of all "
        f"of their buyers on channel {channel} change"
    )


PRICE_LIST_ASSIGNMENT = PriceListAssignmentKind()
"""The PriceListAssignment kind."""
