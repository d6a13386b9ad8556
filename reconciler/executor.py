"""Apply a Plan: refuse stale plans, run actions in dependency order, recover, verify.

Failures are data: each action ends ``applied``, ``failed`` (with the API's message), ``skipped``
(naming the failed action it depended on) or ``pending`` (not reached: interrupted). Independent
actions go on after a failure.

Each action is sent by the kind that declares its type (``reconciler.kinds``), and each kind
verifies what its applied actions touched. Retries without harm: PUTs are idempotent and the
client retries them; a creating POST is re-sent only after a read proved it did not happen (see
``reconciler.kinds.company``), so no sequence of faults can create two companies for one group.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reconciler import kinds
from reconciler.api import ApiClient
from reconciler.api.decode import DecodeError
from reconciler.errors import ApiError, AuthError, NotFoundError, StalePlanError, StoppedError
from reconciler.kinds.base import ApplyRun
from reconciler.model import (
    Action,
    ActionResult,
    ApplyReport,
    LiveCompany,
    LiveOrder,
    LivePriceListAssignment,
    Plan,
    Request,
    assignment_groups,
    changes_check,
    group_check_requests,
    groupless_companies,
    touched_groups,
)

PLACEHOLDER = re.compile(r"\{([a-z]+/[a-z0-9-]+)\.companyId\}")
MODIFIED_MARGIN = 300
"""Seconds before apply's start (on our clock) from which its ``minModified`` listings start:
room for clock skew between us and the API and for the one-second resolution of
``updatedAt``. An object apply touched that a listing misses anyway (a larger skew, or an API
that does not move ``updatedAt``) is read on its own, so the margin decides cost, never
correctness."""

Progress = Callable[[int, int, float], None]


@dataclass
class _Run:
    client: ApiClient
    plan: Plan
    state: ApplyRun
    results: dict[str, ActionResult] = field(default_factory=dict)

    @property
    def outputs(self) -> dict[str, int]:
        return self.state.outputs


def check_stale(client: ApiClient, plan: Plan, *, plan_file: str | None = None) -> None:
    """Raise StalePlanError if anything the plan touches differs from what it recorded.

    Companies: every company of each customer group the plan touches (and of each group it
    converts or creates a company for) must be exactly the recorded one, field for field; a
    group that had no company must still have none. For a saved plan (or any plan not read by
    this process) they are read, whatever their ``updatedAt`` says, so a recorded state that
    was edited in the file counts. For the plan's own read (``changes_check``) they are the
    recorded ones updated by ``GET /companies?minModified=watermark``, once a count proves that
    no company the read saw has gone (``_companies_by_changes``). Either way a change in the
    very second of the plan's read (``updatedAt`` has a resolution of one second) counts: the
    watermark is 5 s before the read's first request reached the store, on the store's own clock
    (``planner.watermark_of``). Companies without a group (Independent stores), orders and
    company users modified since the watermark must carry their recorded content.
    """
    pre = plan.preconditions
    live = plan.live
    changed: list[str] = []
    groups = touched_groups(plan)
    modified: list[LiveCompany] | None = None
    if groups:
        found: dict[int, dict[int, LiveCompany]] | None = None
        if changes_check(plan):
            found, modified = _companies_by_changes(client, groups, plan)
        if found is None:
            found = _companies_of_groups(client, groups, plan)
        if live is not None:
            changed += _company_changes(groups, found, live.companies, pre.free_groups)
        else:  # a hand-built plan: only the recorded updatedAt of touched companies
            for companies in found.values():
                for company_id, company in companies.items():
                    recorded_at = pre.companies.get(company_id)
                    if recorded_at is not None and company.updated_at != recorded_at:
                        changed.append(f"company {company_id} ({company.company_name!r}) changed")
                    elif company.customer_group_id in pre.free_groups and recorded_at is None:
                        changed.append(
                            f"customer group {company.customer_group_id} now has company "
                            f"{company_id} ({company.company_name!r})"
                        )
    groupless = groupless_companies(plan)
    if groupless and live is not None:
        recorded = {c.company_id: c for c in live.companies if c.company_id in groupless}
        if modified is None:
            modified, _ = client.b2b.list_companies(min_modified=pre.watermark)
        for company in modified:
            before = recorded.get(company.company_id)
            if before is not None and company != before:
                changed.append(f"company {company.company_id} ({company.company_name!r}) changed")
    if pre.orders:
        orders = live.orders if live is not None else {}
        for order in client.b2b.list_orders(min_created=None, min_modified=pre.watermark):
            recorded_at = pre.orders.get(order.bc_order_id)
            if recorded_at is None:
                continue
            recorded_order = orders.get(order.bc_order_id)
            if order.updated_at != recorded_at or (
                recorded_order is not None
                and _order_content(order) != _order_content(recorded_order)
            ):
                changed.append(f"order {order.bc_order_id} changed")
    if pre.customers:
        customers = live.customers if live is not None else {}
        for customer_id, member_of, user_updated_at in client.b2b.list_users(
            min_modified=pre.watermark
        ):
            if customer_id not in pre.customers:
                continue
            before_customer = customers.get(customer_id)
            if pre.customers[customer_id] != user_updated_at or (
                before_customer is not None and before_customer.company_id != member_of
            ):
                changed.append(f"company user for customer {customer_id} changed")
    groups_priced = assignment_groups(plan)
    if groups_priced:
        changed += _assignment_changes(client, plan, groups_priced)
    if changed:
        what = "; ".join(sorted(set(changed)))
        if plan_file is not None:
            raise StalePlanError(
                f"the saved plan '{plan_file}' is stale, nothing was sent: {what}. Run plan again."
            )
        raise StalePlanError(
            f"the store changed since planning, nothing was sent: {what}. Run apply again "
            "(it plans afresh)."
        )


def _company_changes(
    groups: tuple[int, ...],
    found: Mapping[int, Mapping[int, LiveCompany]],
    recorded_companies: tuple[LiveCompany, ...],
    free_groups: tuple[int, ...],
) -> list[str]:
    """Each group must hold exactly the recorded companies, each exactly as recorded."""
    recorded: dict[int, dict[int, LiveCompany]] = {g: {} for g in groups}
    for company in recorded_companies:
        if company.customer_group_id in recorded:
            recorded[company.customer_group_id][company.company_id] = company
    changed: list[str] = []
    for group in groups:
        want, have = recorded[group], found.get(group, {})
        for company_id, company in sorted(have.items()):
            before = want.get(company_id)
            label = f"company {company_id} ({company.company_name!r})"
            if before is None and group in free_groups and not want:
                changed.append(f"customer group {group} now has {label}")
            elif before is None:
                changed.append(f"customer group {group} now also has {label}")
            elif company != before:
                changed.append(f"{label} changed")
        for company_id, before in sorted(want.items()):
            if company_id not in have:
                changed.append(
                    f"company {company_id} ({before.company_name!r}) is no longer in customer "
                    f"group {group}"
                )
    return changed


def _assignment_changes(client: ApiClient, plan: Plan, groups: tuple[int, ...]) -> list[str]:
    """The price-list assignments of the groups whose lists the plan changes must be the
    recorded ones (same id, same list); none may have appeared or gone."""
    recorded = plan.live.price_list_assignments if plan.live is not None else ()
    wanted = set(groups)

    def key(a: LivePriceListAssignment) -> tuple[int, int, int | None, int | None]:
        return (a.assignment_id, a.price_list_id, a.customer_group_id, a.channel_id)

    before = {key(a) for a in recorded if a.customer_group_id in wanted}
    now = {
        key(a)
        for a in client.core.price_list_assignments(customer_group_ids=groups)
        if a.customer_group_id in wanted
    }
    if plan.live is None or before == now:
        return []
    moved = sorted({k[2] for k in before ^ now if k[2] is not None})
    return [f"the price-list assignments of customer group {g} changed" for g in moved]


def _order_content(order: LiveOrder) -> tuple[object, ...]:
    return (order.company_id, order.po_number, dict(order.extra_fields), order.updated_at)


def _companies_by_changes(
    client: ApiClient, groups: tuple[int, ...], plan: Plan
) -> tuple[dict[int, dict[int, LiveCompany]] | None, list[LiveCompany]]:
    """The live companies of these groups as the recorded ones plus what changed since the
    watermark, and the changed companies; ``None`` for the groups when the count cannot prove
    that no company the read saw was deleted (then the caller reads the groups).

    The proof: every company that existed at the read and was made before the watermark is
    counted in the recorded total; the companies made at or before the watermark less a second
    are counted now (``maxCreated``, one ``limit=1`` request). A company made since cannot be
    in that count, so the two are equal only when none of those the read counted has gone and
    none of them was made at or after the watermark. Under an exclusive reading of
    ``maxCreated`` the count can only be lower: the groups are read, never a deletion missed.
    Every other change (an edit, a move between groups, a company made in a group) sets the
    company's ``updatedAt`` at or after the watermark, so the listing shows it.
    """
    live = plan.live
    assert live is not None
    assert live.company_total is not None
    watermark = plan.preconditions.watermark
    try:
        made_before = client.b2b.count_companies(max_created=watermark - 1)
    except DecodeError:  # no total in the answer: the groups are read instead
        made_before = None
    modified, _ = client.b2b.list_companies(min_modified=watermark)
    if made_before != live.company_total:
        return None, modified
    wanted = set(groups)
    now = {c.company_id: c for c in live.companies if c.customer_group_id in wanted}
    now.update((c.company_id, c) for c in modified)
    out: dict[int, dict[int, LiveCompany]] = {}
    for company in now.values():
        if company.customer_group_id in wanted:
            out.setdefault(company.customer_group_id, {})[company.company_id] = company
    return out, modified


def _companies_of_groups(
    client: ApiClient, groups: tuple[int, ...], plan: Plan
) -> dict[int, dict[int, LiveCompany]]:
    """The live companies of these groups: one read per group, or one listing of every company
    when that costs fewer requests (``group_check_requests`` counts the same way)."""
    out: dict[int, dict[int, LiveCompany]] = {}
    wanted = set(groups)
    if group_check_requests(plan) < len(groups):
        companies, _ = client.b2b.list_companies()
    else:
        companies = []
        for group in groups:
            found, _ = client.b2b.list_companies(bc_group_id=group)
            companies.extend(found)
    for company in companies:
        if company.customer_group_id in wanted:
            out.setdefault(company.customer_group_id, {})[company.company_id] = company
    return out


def apply_plan(
    client: ApiClient,
    plan: Plan,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
    check_fresh: bool = True,
    plan_file: str | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> ApplyReport:
    """Check the plan is fresh, run every action and verify the result.

    Never raises for an API failure or a stale plan: a refusal is reported in ``refused`` with
    no write sent, and the report counts every request apply made, the staleness check included.
    """
    start = clock()
    since = max(0, int(wall_clock()) - MODIFIED_MARGIN)
    before = client.stats.snapshot()
    if check_fresh:
        try:
            check_stale(client, plan, plan_file=plan_file)
        except (StalePlanError, ApiError, StoppedError) as exc:
            reason = str(exc)
            if isinstance(exc, StoppedError):
                reason = f"stopped before the first write, nothing was sent: {reason}"
            elif not isinstance(exc, StalePlanError):
                reason = f"could not check that the plan is fresh, nothing was sent: {reason}"
            return ApplyReport(
                results=tuple(
                    ActionResult(a.id, "pending", "not sent: the plan was refused")
                    for a in plan.actions
                ),
                requests=_requests_since(before.by_endpoint, client.stats.by_endpoint),
                seconds=clock() - start,
                refused=reason,
            )
    # The free groups were last proved empty by the staleness check (after ``since``), or,
    # when apply does not check, by the plan's own read.
    fresh_since: int | None = since
    if not check_fresh:
        fresh_since = None if plan.live is None else max(0, plan.live.read_at - MODIFIED_MARGIN)
    read_since = plan.preconditions.watermark if plan.live is not None else None
    state = ApplyRun(
        since=since,
        fresh_since=fresh_since,
        read_since=read_since,
        live=plan.live,
        actions=plan.actions,
    )
    run = _Run(client, plan, state)
    for action in plan.actions:
        if action.company_id is not None:  # the company an action's resource is or moves to
            run.outputs[action.target_company or action.resource] = action.company_id
    control = client.http.control
    stopped = ""
    total = len(plan.actions)
    for index, action in enumerate(plan.actions):
        stopped = control.reason() or ("interrupted" if should_stop() else "")
        if stopped:
            break
        run.state.position = index
        try:
            run.results[action.id] = _run_action(run, action, clock)
        finally:
            control.end_action()
        if progress is not None:
            progress(index + 1, total, clock() - start)
    else:
        stopped = control.reason() or ""  # a stop during the last action skips verification
    pending = f"not sent: {stopped}" if stopped else "not reached"
    results = [
        run.results.get(a.id) or ActionResult(a.id, "pending", pending) for a in plan.actions
    ]
    verification: tuple[str, ...] = ()
    if not stopped:
        verification = _verify(run)
    return ApplyReport(
        results=tuple(results),
        verification=verification,
        requests=_requests_since(before.by_endpoint, client.stats.by_endpoint),
        seconds=clock() - start,
        interrupted=bool(stopped),
        stopped=stopped,
        since=since,
    )


def _requests_since(before: Mapping[str, int], now: Mapping[str, int]) -> dict[str, int]:
    return {k: n - before.get(k, 0) for k, n in sorted(now.items()) if n - before.get(k, 0)}


def _run_action(run: _Run, action: Action, clock: Callable[[], float]) -> ActionResult:
    for dep in action.depends_on:
        outcome = run.results.get(dep)
        if outcome is None or outcome.outcome != "applied":
            return ActionResult(action.id, "skipped", f"skipped because {dep} did not apply")
    begin = clock()
    before = run.client.stats.requests
    writes_before = _writes_sent(run.client)
    run.client.http.control.begin_action()
    try:
        request = _resolve(run, action.request)
        kind = kinds.kind_of_action(action.type)
        if kind is None:  # a saved plan is checked on load; keep apply total
            raise ApiError(f"unknown action type {action.type!r}")
        message, company_id = kind.send(run.client, action, request, run.state)
        if company_id is not None:
            run.outputs[action.resource] = company_id
    except StoppedError as exc:
        if _writes_sent(run.client) == writes_before:  # at most a read went out: not begun
            return ActionResult(action.id, "pending", f"not sent: {exc}")
        return ActionResult(
            action.id,
            "failed",
            f"stopped before it finished ({exc}); it may or may not have been applied: the next "
            "plan shows what remains",
            seconds=clock() - begin,
            requests=run.client.stats.requests - before,
        )
    except ApiError as exc:
        if isinstance(exc, AuthError) and exc.about_credentials:
            # Nothing later can succeed with these credentials: stop now, send nothing more.
            run.client.http.control.request_stop(
                f"the API refused the credentials ({exc.status}), so nothing more was sent; "
                "check the token and its scopes",
                at_once=True,
            )
        return ActionResult(
            action.id,
            "failed",
            str(exc),
            seconds=clock() - begin,
            requests=run.client.stats.requests - before,
        )
    return ActionResult(
        action.id,
        "applied",
        message,
        seconds=clock() - begin,
        requests=run.client.stats.requests - before,
    )


def _writes_sent(client: ApiClient) -> int:
    """POST and PUT requests sent so far (every attempt)."""
    return sum(
        count
        for endpoint, count in client.stats.by_endpoint.items()
        if endpoint.startswith(("POST ", "PUT "))
    )


def _resolve(run: _Run, request: Request) -> Request:
    def value(match: re.Match[str]) -> str:
        resource = match.group(1)
        if resource not in run.outputs:
            raise ApiError(f"{resource} has no company id yet")
        return str(run.outputs[resource])

    body = request.body
    company = body.get("companyId") if isinstance(body, dict) else None
    if isinstance(company, str) and PLACEHOLDER.fullmatch(company):
        # a createUser's companyId: the id of a company this plan creates
        body = {**body, "companyId": int(PLACEHOLDER.sub(value, company))}
    return Request(request.method, PLACEHOLDER.sub(value, request.path), body)


def _verify(run: _Run) -> tuple[str, ...]:
    """Re-read what was touched and compare it with the plan's after-state, kind by kind."""
    problems: list[str] = []
    applied = [a for a in run.plan.actions if run.results[a.id].outcome == "applied"]
    try:
        for kind in kinds.registry():
            mine = [a for a in applied if a.type in kind.action_types]
            if mine:
                problems += kind.verify(run.client, mine, run.state)
    except NotFoundError as exc:
        problems.append(f"inconsistent result after apply: {exc}")
    except (ApiError, StoppedError) as exc:
        problems.append(f"could not verify the result after apply: {exc}")
    return tuple(problems)
