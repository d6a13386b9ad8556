"""Apply a Plan: refuse stale plans, run actions in dependency order, recover, verify.

Failures are data: each action ends ``applied``, ``failed`` (with the API's message), ``skipped``
(naming the failed action it depended on) or ``pending`` (not reached: interrupted). Independent
actions go on after a failure.

Retries without harm: PUTs are idempotent and the client retries them. A convert or create (POST)
is never re-sent blindly: when its outcome is uncertain (no answer, 5xx, or "Convert failed"
because the group already has a company) the group's company is re-read; if it exists and carries
the planned name, the action succeeded; if it does not exist, the POST demonstrably did not
happen and is sent again (at most ``POST_ATTEMPTS`` times). No sequence of faults can create two
companies for one group: a second POST is only sent after a read showed the group has none.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.api import ApiClient
from reconciler.diff import company_field, same_value
from reconciler.errors import ApiError, NotFoundError, StalePlanError, UncertainWriteError
from reconciler.model import (
    Action,
    ActionResult,
    ApplyReport,
    LiveCompany,
    LiveOrder,
    Plan,
    Request,
    company_check_requests,
    touched_groups,
)

POST_ATTEMPTS = 5
"""Sends of one convert/create at most, each after a read proved the company absent."""
PLACEHOLDER = re.compile(r"\{([a-z]+/[a-z0-9-]+)\.companyId\}")

Progress = Callable[[int, int, float], None]


@dataclass
class _Run:
    client: ApiClient
    plan: Plan
    outputs: dict[str, int] = field(default_factory=dict)
    """``company/acme`` -> companyId, known before apply or learned from creations."""
    results: dict[str, ActionResult] = field(default_factory=dict)


def check_stale(client: ApiClient, plan: Plan, *, plan_file: str | None = None) -> None:
    """Raise StalePlanError if anything the plan touches differs from what it recorded.

    Companies: every company of each customer group the plan touches (and of each group it
    converts or creates a company for) is read, whatever its ``updatedAt`` says, and must be
    exactly the recorded one, field for field; a group that had no company must still have
    none. So a change in the very second of the plan's read (``updatedAt`` has a resolution of
    one second) counts, and so does a recorded state that was edited in the file. Orders and
    company users modified since the watermark must carry their recorded content.
    """
    pre = plan.preconditions
    live = plan.live
    changed: list[str] = []
    groups = touched_groups(plan)
    if groups:
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


def _order_content(order: LiveOrder) -> tuple[object, ...]:
    return (order.company_id, order.po_number, dict(order.extra_fields), order.updated_at)


def _companies_of_groups(
    client: ApiClient, groups: tuple[int, ...], plan: Plan
) -> dict[int, dict[int, LiveCompany]]:
    """The live companies of these groups: one read per group, or one listing of every company
    when that costs fewer requests (``company_check_requests`` counts the same way)."""
    out: dict[int, dict[int, LiveCompany]] = {}
    wanted = set(groups)
    if company_check_requests(plan) < len(groups):
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
) -> ApplyReport:
    """Check the plan is fresh, run every action and verify the result.

    Never raises for an API failure or a stale plan: a refusal is reported in ``refused`` with
    no write sent, and the report counts every request apply made, the staleness check included.
    """
    start = clock()
    before = client.stats.snapshot()
    if check_fresh:
        try:
            check_stale(client, plan, plan_file=plan_file)
        except (StalePlanError, ApiError) as exc:
            reason = str(exc)
            if not isinstance(exc, StalePlanError):
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
    run = _Run(client, plan)
    for action in plan.actions:
        if action.company_id is not None and action.resource.startswith("company/"):
            run.outputs[action.resource] = action.company_id
        if action.company_id is not None and action.target_company:
            run.outputs[action.target_company] = action.company_id
    interrupted = False
    total = len(plan.actions)
    for index, action in enumerate(plan.actions):
        if should_stop():
            interrupted = True
            break
        run.results[action.id] = _run_action(run, action, clock)
        if progress is not None:
            progress(index + 1, total, clock() - start)
    results = [
        run.results.get(a.id) or ActionResult(a.id, "pending", "not reached: apply was interrupted")
        for a in plan.actions
    ]
    verification: tuple[str, ...] = ()
    if not interrupted:
        verification = _verify(run)
    return ApplyReport(
        results=tuple(results),
        verification=verification,
        requests=_requests_since(before.by_endpoint, client.stats.by_endpoint),
        seconds=clock() - start,
        interrupted=interrupted,
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
    try:
        request = _resolve(run, action.request)
        if action.type in ("convert", "create"):
            company_id, message = _create(run, action, request)
            run.outputs[action.resource] = company_id
        else:
            data = run.client.b2b.send(request, idempotent=True)
            message = _summary(action, data)
    except ApiError as exc:
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


def _summary(action: Action, data: Any) -> str:
    if action.type in ("assign", "reassign") and isinstance(data, Mapping) and "total" in data:
        return f"{data['total']} order(s) moved"
    return "done"


def _resolve(run: _Run, request: Request) -> Request:
    def value(match: re.Match[str]) -> str:
        resource = match.group(1)
        if resource not in run.outputs:
            raise ApiError(f"{resource} has no company id yet")
        return str(run.outputs[resource])

    return Request(request.method, PLACEHOLDER.sub(value, request.path), request.body)


def _create(run: _Run, action: Action, request: Request) -> tuple[int, str]:
    """Convert or create a company at most once per proven absence; return its id and what
    happened.

    Right before the POST one read confirms the group still has no company: a company found
    there (made since planning, or by a run that was cut off) is adopted when it carries the
    planned name, never duplicated. After the POST one read confirms the company the API named
    is the group's, before any later action uses its id.
    """
    group = action.customer_group_id
    assert group is not None
    wanted = (request.body or {}).get("companyName") if isinstance(request.body, dict) else None
    existing = _company_of_group(run.client, group)
    if existing is not None:
        return _adopt(existing, group, wanted), (
            f"company {existing.company_id} already existed in customer group {group} "
            "(made since planning); adopted it, nothing was created"
        )
    last: ApiError | None = None
    for _ in range(POST_ATTEMPTS):
        try:
            data = run.client.b2b.send(request, idempotent=False)
            company_id = run.client.b2b.created_company_id(data)
        except UncertainWriteError as exc:
            last = exc
        except ApiError as exc:
            # A refusal may mean another run created it meanwhile ("Convert failed" 400, a 409,
            # or 422 "Email already exists" for the admin): look before reporting a failure.
            if exc.status is None or exc.status in (401, 403):
                raise
            last = exc
        else:
            _confirm_created(run.client, group, company_id)
            return company_id, f"company {company_id} created"
        # The outcome is uncertain: look before sending again.
        existing = _company_of_group(run.client, group)
        if existing is not None:
            try:
                return _adopt(existing, group, wanted), (
                    f"company {existing.company_id} is in customer group {group} after a POST "
                    "whose outcome was uncertain or refused; taken as this action's, not "
                    "created twice"
                )
            except ApiError as exc:
                raise exc from last
        if last.status is not None and last.status < 500:
            raise last  # refused for another reason, and nothing was created
    assert last is not None
    raise last


def _adopt(existing: LiveCompany, group: int, wanted: object) -> int:
    """The id of a company found in the group, if it is the planned one (its name)."""
    if wanted is None or existing.company_name == wanted:
        return existing.company_id
    raise ApiError(
        f"customer group {group} already has company {existing.company_id} "
        f"({existing.company_name!r}), not the planned one; nothing was created. Run plan again"
    )


def _confirm_created(client: ApiClient, group: int, company_id: int) -> None:
    """The company the API named after a convert/create must be one of the group's."""
    companies, _ = client.b2b.list_companies(bc_group_id=group)
    ids = [c.company_id for c in companies if c.customer_group_id == group]
    if company_id not in ids:
        holders = ", ".join(map(str, ids)) or "none"
        raise ApiError(
            f"the API answered company {company_id} for customer group {group}, but the "
            f"group's companies are: {holders}; its id is not used. Run plan again"
        )


def _company_of_group(client: ApiClient, group_id: int) -> LiveCompany | None:
    companies, _ = client.b2b.list_companies(bc_group_id=group_id)
    return next((c for c in companies if c.customer_group_id == group_id), None)


def _sent_extras(action: Action) -> dict[str, str]:
    """The ``extraFields`` an action's request sent (every value the object holds)."""
    body = action.request.body
    sent = body.get("extraFields") if isinstance(body, Mapping) else None
    out: dict[str, str] = {}
    for item in sent if isinstance(sent, list) else ():
        if isinstance(item, Mapping) and isinstance(item.get("fieldName"), str):
            out[item["fieldName"]] = str(item.get("fieldValue", ""))
    return out


def _lost_extras(resource: str, actions: Sequence[Action], have: Mapping[str, str]) -> list[str]:
    """Every extra field the object's writes sent must read back, not only the changed ones:
    a value the API dropped (say, an ``extraFields`` that replaced the set) is reported."""
    changed = {c.path for a in actions for c in a.changes}
    problems = []
    for action in actions:
        for name, value in _sent_extras(action).items():
            if f"extraFields.{name}" in changed:
                continue  # compared as a change already
            seen = have.get(name)
            if not same_value(value, seen) and not (value == "" and seen is None):
                problems.append(
                    f"inconsistent result after apply: {resource} extraFields.{name} is "
                    f"{seen!r}, expected {value!r} (sent unchanged by {action.id})"
                )
    return problems


def _verify(run: _Run) -> tuple[str, ...]:
    """Re-read what was touched and compare it with the plan's after-state."""
    problems: list[str] = []
    applied = [a for a in run.plan.actions if run.results[a.id].outcome == "applied"]
    by_company: dict[str, list[Action]] = {}
    moved: dict[str, list[Action]] = {}
    for action in applied:
        if action.resource.startswith("company/"):
            by_company.setdefault(action.resource, []).append(action)
        elif action.type in ("assign", "reassign") and action.target_company:
            moved.setdefault(action.target_company, []).append(action)
    try:
        for resource, actions in by_company.items():
            company = run.client.b2b.get_company(run.outputs[resource])
            for action in actions:
                for change in action.changes:
                    have = company_field(company, change.path)
                    if not same_value(change.after, have):
                        problems.append(
                            f"inconsistent result after apply: {resource} {change.path} is "
                            f"{have!r}, expected {change.after!r} ({action.id})"
                        )
            problems += _lost_extras(resource, actions, company.extra_fields)
        for resource, actions in moved.items():
            company_id = run.outputs.get(resource)
            in_company = {o.bc_order_id for o in run.client.b2b.list_orders(company_id=company_id)}
            for action in actions:
                for change in action.changes:
                    order_id = int(change.path.split(".")[1])
                    if order_id not in in_company:
                        problems.append(
                            f"inconsistent result after apply: order {order_id} is not in "
                            f"{resource} ({action.id})"
                        )
        for action in applied:
            if action.type == "updateOrder" and action.bc_order_id is not None:
                order = run.client.b2b.get_order(action.bc_order_id)
                if order is not None:
                    problems += _lost_extras(action.resource, (action,), order.extra_fields)
                for change in action.changes:
                    head, _, rest = change.path.partition(".")
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
    except NotFoundError as exc:
        problems.append(f"inconsistent result after apply: {exc}")
    except ApiError as exc:
        problems.append(f"could not verify the result after apply: {exc}")
    return tuple(problems)
