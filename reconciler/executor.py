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
from reconciler.model import Action, ActionResult, ApplyReport, LiveCompany, Plan, Request

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


def check_stale(client: ApiClient, plan: Plan) -> None:
    """Raise StalePlanError if anything the plan touches changed since it was made."""
    pre = plan.preconditions
    changed: list[str] = []
    if pre.companies or pre.free_groups:
        companies, _ = client.b2b.list_companies(min_modified=pre.watermark)
        for company in companies:
            recorded = pre.companies.get(company.company_id)
            if recorded is not None and company.updated_at != recorded:
                changed.append(f"company {company.company_id} ({company.company_name!r}) changed")
            elif company.customer_group_id in pre.free_groups and recorded is None:
                changed.append(
                    f"customer group {company.customer_group_id} now has company "
                    f"{company.company_id} ({company.company_name!r})"
                )
    if pre.orders:
        for order in client.b2b.list_orders(min_created=None, min_modified=pre.watermark):
            recorded = pre.orders.get(order.bc_order_id)
            if recorded is not None and order.updated_at != recorded:
                changed.append(f"order {order.bc_order_id} changed")
    if pre.customers:
        for customer_id, _company_id, updated_at in client.b2b.list_users(
            min_modified=pre.watermark
        ):
            if customer_id in pre.customers and pre.customers[customer_id] != updated_at:
                changed.append(f"company user for customer {customer_id} changed")
    if changed:
        raise StalePlanError(
            "the saved plan is stale, nothing was sent: "
            + "; ".join(sorted(set(changed)))
            + ". Run plan again."
        )


def apply_plan(
    client: ApiClient,
    plan: Plan,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
    check_fresh: bool = True,
) -> ApplyReport:
    """Check the plan is fresh, run every action and verify the result.

    Never raises for an API failure or a stale plan: a refusal is reported in ``refused`` with
    no write sent, and the report counts every request apply made, the staleness check included.
    """
    start = clock()
    before = client.stats.snapshot()
    if check_fresh:
        try:
            check_stale(client, plan)
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
            company_id = _create(run, action, request)
            run.outputs[action.resource] = company_id
            message = f"company {company_id} created"
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


def _create(run: _Run, action: Action, request: Request) -> int:
    """Send a convert/create POST at most once per proven absence of the company."""
    assert action.customer_group_id is not None
    last: ApiError | None = None
    for _ in range(POST_ATTEMPTS):
        try:
            data = run.client.b2b.send(request, idempotent=False)
            return run.client.b2b.created_company_id(data)
        except UncertainWriteError as exc:
            last = exc
        except ApiError as exc:
            # A refusal may mean another run created it meanwhile ("Convert failed" 400, a 409,
            # or 422 "Email already exists" for the admin): look before reporting a failure.
            if exc.status is None or exc.status in (401, 403):
                raise
            last = exc
        # The outcome is uncertain: look before sending again.
        existing = _company_of_group(run.client, action.customer_group_id)
        if existing is not None:
            wanted = (request.body or {}).get("companyName")
            if wanted is None or existing.company_name == wanted:
                return existing.company_id
            raise ApiError(
                f"customer group {action.customer_group_id} already has company "
                f"{existing.company_id} ({existing.company_name!r}), not the planned one"
            ) from last
        if last.status is not None and last.status < 500:
            raise last  # refused for another reason, and nothing was created
    assert last is not None
    raise last


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
