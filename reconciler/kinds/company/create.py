"""Creating a company without ever creating two: confirm, send, re-read when uncertain, adopt."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from reconciler.errors import ApiError, UncertainWriteError
from reconciler.kinds.identity import name_key
from reconciler.model import (
    Action,
    LiveCompany,
    Request,
)

if TYPE_CHECKING:
    from reconciler.api import ApiClient


POST_ATTEMPTS = 5
"""Sends of one convert/create at most, each after a read proved the company absent."""


def create_company(client: ApiClient, action: Action, request: Request) -> tuple[int, str]:
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
    if action.type == "create":
        return _create_by_name(client, request, str(wanted or ""))
    existing = _company_of_group(client, group)
    if existing is not None:
        return _adopt(existing, group, wanted), (
            f"company {existing.company_id} already existed in customer group {group} "
            "(made since planning); adopted it, nothing was created"
        )

    def look_after(last: ApiError) -> tuple[int, str] | None:
        existing = _company_of_group(client, group)
        if existing is None:
            return None
        try:
            return _adopt(existing, group, wanted), (
                f"company {existing.company_id} is in customer group {group} after a POST "
                "whose outcome was uncertain or refused; taken as this action's, not "
                "created twice"
            )
        except ApiError as exc:
            raise exc from last

    return _send_once_per_absence(
        client, request, lambda company_id: _confirm_created(client, group, company_id), look_after
    )


def _create_by_name(client: ApiClient, request: Request, wanted: str) -> tuple[int, str]:
    """Independent create: the identity is the name (the group may hold other companies).

    Right before the POST one read (``q=<name>``) confirms no company carries the name: one
    that does (made since planning, or by a run that was cut off) is adopted, two are refused;
    after the POST one read confirms the company the API named carries it. A POST whose outcome
    is uncertain is sent again only after a read shows no company with the name."""

    def named() -> list[LiveCompany]:
        companies, _ = client.b2b.list_companies(q=wanted)
        key = name_key(wanted)
        return [c for c in companies if name_key(c.company_name) == key and c.status != "deleted"]

    def adopt(found: list[LiveCompany], when: str) -> tuple[int, str]:
        if len(found) > 1:
            ids = ", ".join(str(c.company_id) for c in found)
            raise ApiError(
                f"{len(found)} companies are named {wanted!r} ({ids}) {when}; nothing was "
                "created. Run plan again (it asks for companyId)"
            )
        return found[0].company_id, (
            f"company {found[0].company_id} named {wanted!r} already existed {when}; adopted "
            "it, nothing was created"
        )

    existing = named()
    if existing:
        return adopt(existing, "(made since planning)")

    def confirm(company_id: int) -> None:
        ids = [c.company_id for c in named()]
        if company_id not in ids:
            raise ApiError(
                f"the API answered company {company_id}, but the companies named "
                f"{wanted!r} are: {', '.join(map(str, ids)) or 'none'}; its id is not "
                "used. Run plan again"
            )

    def look_after(last: ApiError) -> tuple[int, str] | None:
        existing = named()
        if not existing:
            return None
        try:
            return adopt(existing, "after a POST whose outcome was uncertain or refused")
        except ApiError as exc:
            raise exc from last

    return _send_once_per_absence(client, request, confirm, look_after)


def _send_once_per_absence(
    client: ApiClient,
    request: Request,
    confirm: Callable[[int], None],
    look_after: Callable[[ApiError], tuple[int, str] | None],
) -> tuple[int, str]:
    """POST a convert or create; after an uncertain or refused POST, look before sending again.

    ``confirm`` checks the id the API answered before it is used; ``look_after`` reads whether
    the company exists after all (its id and what happened, adopted) or not (None).
    """
    last: ApiError | None = None
    for _ in range(POST_ATTEMPTS):
        try:
            data = client.b2b.send(request, idempotent=False)
            company_id = client.b2b.created_company_id(data)
        except UncertainWriteError as exc:
            last = exc
        except ApiError as exc:
            # A refusal may mean another run created it meanwhile ("Convert failed" 400, a 409,
            # or 422 "Email already exists" for the admin): look before reporting a failure.
            if exc.status is None or exc.status in (401, 403):
                raise
            last = exc
        else:
            confirm(company_id)
            return company_id, f"company {company_id} created"
        found = look_after(last)
        if found is not None:
            return found
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
