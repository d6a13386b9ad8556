"""Creating a company without ever creating two: confirm, send, re-read when uncertain, adopt.

Converts (Dependent stores) come in runs: a plan converting many groups lists their converts one
after another. Right before a run (at most ``CONVERTS_PER_LOOK`` converts) one listing of the
companies modified since the free groups were last proved empty (``ApplyRun.fresh_since``: the
staleness check, or the plan's read) stands for one read per group, when it is cheaper: a
company made in one of those groups since that proof was modified since then, so it is in the
listing, and it is adopted (or the convert fails) exactly as a per-group read would decide.
Why that keeps "never two companies for one group":

- the listing is made after every earlier action finished, so the run's POSTs follow it as the
  single read followed one POST, only by up to ``CONVERTS_PER_LOOK`` requests more;
- B2B Edition refuses to convert a group that already has a company (company.yaml, Convert: it
  "cannot convert a group that already has a company"), so a company made in that short window
  (or one the listing misses: a store clock further behind than the margin) makes the POST
  fail, and a refused POST is followed by a read of that group before anything else (adopted
  when it carries the planned name, never sent again otherwise);
- a POST is re-sent only after a read of its group proved the company absent, as before.

After the POST, one read confirms the company the API named is the group's before any later
action uses its id; when no later action names it, verification (which reads every touched
company, and checks a converted company's group) confirms it instead.
Independent creates (identity by name) come in runs too: right before a run (at most
``CONVERTS_PER_LOOK`` creates) one listing of the companies modified since the plan's read
(``ApplyRun.read_since``) stands for one read of each name, when it is cheaper: the plan's read
(every company, on an Independent store) proved the names free, and a company given one since
was modified since, so it is in the listing and adopted as a read by name would. The API does
not guard names, but it guards the admin e-mail every create carries (B2B Edition keeps user
e-mails unique): another run of this plan creating the company after the listing makes our POST
fail, and the read by name after a refused POST adopts it, as for converts. The read after a
create follows the same rule as a convert's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from reconciler.errors import ApiError, UncertainWriteError
from reconciler.kinds.base import ApplyRun
from reconciler.kinds.identity import name_key
from reconciler.kinds.listing import listing_cheaper, pages
from reconciler.model import (
    COMPANY_LIST_PAGE,
    Action,
    LiveCompany,
    Request,
)

if TYPE_CHECKING:
    from reconciler.api import ApiClient


POST_ATTEMPTS = 5
"""Sends of one convert/create at most, each after a read proved the company absent."""
CONVERTS_PER_LOOK = 25
"""Converts sent after one listing at most (about 10 s at 150 requests a minute)."""
COMPANY_TYPES = ("convert", "create", "update", "setStatus", "setCatalog")


def touched_before(actions: Sequence[Action], position: int) -> int:
    """Companies the Company actions before ``position`` touch (what a listing since apply
    started holds, when nobody else writes)."""
    return len({a.resource for a in actions[:position] if a.type in COMPANY_TYPES})


def used_later(actions: Sequence[Action], position: int) -> bool:
    """True when an action after ``position`` names the id ``actions[position]`` creates."""
    marker = f"{{{actions[position].resource}.companyId}}"
    for later in actions[position + 1 :]:
        body = later.request.body
        if marker in later.request.path or (
            isinstance(body, dict) and body.get("companyId") == marker
        ):
            return True
    return False


def convert_chunk(actions: Sequence[Action], position: int) -> tuple[int, int]:
    """``[start, end)`` of the converts one look stands for, around ``actions[position]``:
    the run of consecutive converts holding it, cut into chunks of ``CONVERTS_PER_LOOK``."""
    return _chunk(actions, position, "convert")


def _chunk(actions: Sequence[Action], position: int, kind: str) -> tuple[int, int]:
    """``[start, end)`` of the run of consecutive ``kind`` actions holding ``position``, cut
    into chunks of ``CONVERTS_PER_LOOK``."""
    first = position
    while first > 0 and actions[first - 1].type == kind:
        first -= 1
    start = first + (position - first) // CONVERTS_PER_LOOK * CONVERTS_PER_LOOK
    end = start
    while end < len(actions) and actions[end].type == kind and end - start < CONVERTS_PER_LOOK:
        end += 1
    return start, end


def _look_cheaper(actions: Sequence[Action], start: int, end: int) -> bool:
    """One listing costs fewer requests than one read per group of the chunk."""
    return listing_cheaper(end - start, touched_before(actions, start), COMPANY_LIST_PAGE)


def creation_reads(actions: Sequence[Action]) -> int:
    """Reads around the converts and creates of a plan's ``actions`` when nothing fails: per
    chunk of converts (or of Independent creates), one listing or one read per group (per
    name), the cheaper, and one confirm read per convert or create whose id a later action
    names (``create_company``)."""
    total = 0
    for position, action in enumerate(actions):
        if action.type not in ("convert", "create"):
            continue
        total += used_later(actions, position)
        start, end = _chunk(actions, position, action.type)
        if not _look_cheaper(actions, start, end):
            total += 1
        elif position == start:
            total += pages(touched_before(actions, start), COMPANY_LIST_PAGE)
    return total


def create_company(
    client: ApiClient, action: Action, request: Request, run: ApplyRun
) -> tuple[int, str]:
    """Convert or create a company at most once per proven absence; return its id and what
    happened.

    Right before the POST a read (one listing for a run of converts, see the module) confirms
    the group still has no company: a company found there (made since planning, or by a run
    that was cut off) is adopted when it carries the planned name, never duplicated. After the
    POST one read confirms the company the API named is the group's, before any later action
    uses its id.
    """
    group = action.customer_group_id
    assert group is not None
    wanted = (request.body or {}).get("companyName") if isinstance(request.body, dict) else None
    if action.type == "create":
        name = str(wanted or "")
        return _create_by_name(
            client,
            request,
            name,
            _confirm_now(run, action),
            _named_in_look(client, run, action, name),
        )
    existing = _company_before_convert(client, run, action)
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

    def confirm(company_id: int) -> None:
        if _confirm_now(run, action):
            _confirm_created(client, group, company_id)

    return _send_once_per_absence(client, request, confirm, look_after)


def _company_before_convert(client: ApiClient, run: ApplyRun, action: Action) -> LiveCompany | None:
    """The company of the convert's group right before it (None: it has none), from the
    listing made for this chunk of converts, or from a read of the group."""
    group = action.customer_group_id
    assert group is not None
    since = run.fresh_since
    if since is None or not _in_run(run) or run.actions[run.position] != action:
        return _company_of_group(client, group)
    look = run.memo.get("convert-look")
    position = run.position
    if isinstance(look, tuple) and look[0] <= position < look[1]:
        found: LiveCompany | None = look[2].get(group)
        return found
    start, end = convert_chunk(run.actions, position)
    if position != start or not _look_cheaper(run.actions, start, end):
        return _company_of_group(client, group)
    companies, _ = client.b2b.list_companies(min_modified=since)
    by_group: dict[int | None, LiveCompany] = {}
    for company in companies:
        by_group.setdefault(company.customer_group_id, company)
    run.memo["convert-look"] = (start, end, by_group)
    return by_group.get(group)


def _named_in_look(
    client: ApiClient, run: ApplyRun, action: Action, wanted: str
) -> list[LiveCompany] | None:
    """The companies carrying the name right before an Independent create, from the listing
    of the companies modified since the plan's read (``ApplyRun.read_since``) made for this
    chunk of creates; ``None``: read them by name instead (no listing, or a lone create).

    The plan's read proved the name free (Independent plans read every company); a company
    given the name since was modified since, so it is in the listing. One made after the
    listing by another run of this plan carries its admin e-mail, which B2B Edition keeps
    unique: our POST is refused and the read after a refused POST adopts it (the module doc).
    """
    since = run.read_since
    if since is None or not _in_run(run) or run.actions[run.position] != action:
        return None
    start, end = _chunk(run.actions, run.position, "create")
    look = run.memo.get("create-look")
    if isinstance(look, tuple) and look[0] == start:
        companies: list[LiveCompany] = look[1]
    elif run.position == start and _look_cheaper(run.actions, start, end):
        companies, _ = client.b2b.list_companies(min_modified=since)
        run.memo["create-look"] = (start, companies)
    else:
        return None
    key = name_key(wanted)
    return [c for c in companies if name_key(c.company_name) == key and c.status != "deleted"]


def _confirm_now(run: ApplyRun, action: Action) -> bool:
    """True when the id a convert or create answers must be confirmed right after it: a later
    action uses it (or the action is not sent from a plan's apply). Otherwise verification,
    which reads the company by that id, confirms it (its name and group)."""
    if not _in_run(run) or run.actions[run.position] != action:
        return True
    return used_later(run.actions, run.position)


def _in_run(run: ApplyRun) -> bool:
    """True when the action being sent is ``run.actions[run.position]`` (a plan's apply)."""
    return 0 <= run.position < len(run.actions)


def _create_by_name(
    client: ApiClient,
    request: Request,
    wanted: str,
    confirm_now: bool,
    looked: list[LiveCompany] | None = None,
) -> tuple[int, str]:
    """Independent create: the identity is the name (the group may hold other companies).

    Right before the POST one read (``q=<name>``) confirms no company carries the name: one
    that does (made since planning, or by a run that was cut off) is adopted, two are refused;
    after the POST, when a later action uses its id (``confirm_now``), one read confirms the
    company the API named carries it (else verification does). A POST whose outcome is uncertain
    is sent again only after a read shows no company with the name."""

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

    existing = named() if looked is None else looked
    if existing:
        return adopt(existing, "(made since planning)")

    def confirm(company_id: int) -> None:
        if not confirm_now:
            return  # verification reads the company and checks its name and group
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
