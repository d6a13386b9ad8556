"""CompanyUsers: the users (buyers) of one Company, each identified by e-mail (without case).

A listed user missing from the store is created (``POST /users``, body per ``userPost``); a
listed user whose fields differ is updated (``PUT /users/{userId}``, only what changed, with the
complete extra-field set). Users of the company that no document lists are counted as unmanaged
and never touched; nothing is deleted.

What the API cannot do is a plan-time error, all at once: moving a user between companies (PUT
ignores ``companyId``), an e-mail listed twice, unknown or invalid user extra fields, a required
one missing on creation, an unknown channel on Multi-Storefront stores. Demoting the last admin
of a company is a warning (the spec allows it; the company can then not buy).

Creation is never sent blindly twice: right before the POST one read (``GET /users?q=<e-mail>``)
confirms no user has the e-mail (one in the planned company is adopted); when the outcome is
uncertain the same read tells whether it happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.diff import changes, extra_text, same_extra, same_value
from reconciler.errors import ApiError, UncertainWriteError
from reconciler.kinds.base import ActionInfo, ApplyRun, Kind, PlanContext
from reconciler.kinds.company import CompanySpec
from reconciler.kinds.documents import Checked, Issues, extras, field_locs, first_at, suggest
from reconciler.kinds.extrafields import texts, value_problem
from reconciler.kinds.listing import listing_cheaper, pages, read_listed
from reconciler.model import (
    API_VERSION,
    USER_LIST_PAGE,
    Action,
    ExtraFieldConfig,
    ExtraValue,
    FieldChange,
    FieldLocated,
    LiveCompany,
    LiveState,
    LiveUser,
    Location,
    ManifestSet,
    ReadNeeds,
    Request,
)

if TYPE_CHECKING:
    from reconciler.api import ApiClient

__all__ = ["COMPANY_USERS", "CompanyUsersKind", "CompanyUsersSpec", "UserSpec", "user_key"]

ROLE_CODES: dict[str, int] = {"admin": 0, "senior-buyer": 1, "junior-buyer": 2}
ROLE_NAMES: dict[int, str] = {code: name for name, code in ROLE_CODES.items()}
DEFAULT_CHANNELS = (1,)
"""``channelIds`` of a created user when the manifest names none (the contract's default)."""
POST_ATTEMPTS = 3
USERS_PER_LOOK = 25
"""createUser actions one listing of the users modified since the plan's read stands for at
most (``_user_before_create``)."""
_USER_TYPES = ("createUser", "updateUser")
"""Sends of one createUser at most, each after a read proved the e-mail free."""


def user_key(email: str) -> str:
    """A user's identity: the e-mail, compared without case."""
    return email.strip().lower()


@dataclass(frozen=True)
class UserSpec:
    """One listed user. ``None`` means "not managed": the live value is left alone."""

    email: str
    first_name: str
    last_name: str
    role: str
    phone_number: str | None = None
    uuid: str | None = None
    extra_fields: Mapping[str, ExtraValue] | None = None
    channel_ids: tuple[int, ...] | None = None
    send_welcome_email: bool = False


@dataclass(frozen=True)
class CompanyUsersSpec(FieldLocated):
    """A CompanyUsers document: the users of the Company named ``company``."""

    name: str
    company: str
    users: tuple[UserSpec, ...]
    loc: Location | None = None
    field_locs: Mapping[str, Location] = field(default_factory=dict)

    @property
    def resource(self) -> str:
        """``companyusers/<name>``."""
        return f"companyusers/{self.name}"


class CompanyUsersKind(Kind[CompanyUsersSpec]):
    """The CompanyUsers kind."""

    name = "CompanyUsers"
    spec_type = CompanyUsersSpec
    actions = (
        ActionInfo(
            "createUser",
            "+",
            ("user to create", "users to create"),
            "this tool never deletes users; removing one is a manual step in B2B Edition",
        ),
        ActionInfo("updateUser", "~", ("user to update", "users to update")),
    )

    def check_across(
        self,
        docs: Sequence[Checked],
        every: Mapping[str, Sequence[Checked]],
        store: Checked | None,
        issues: Issues,
    ) -> None:
        """The company is a Company document; an e-mail is listed once across documents."""
        company_names = [c.name for c in every.get("Company", ()) if c.name]
        known = set(company_names)  # a lookup per document, not a scan of every company
        seen: dict[str, tuple[Checked, int]] = {}
        for checked in docs:
            ref = checked.field("company")
            if isinstance(ref, str) and ref not in known:
                issues.add(
                    checked.at("company"),
                    checked.resource,
                    f"spec.company: no Company named {ref!r}{suggest(ref, company_names)}",
                )
            users = checked.field("users")
            for index, user in enumerate(users if isinstance(users, list) else []):
                email = user.get("email") if isinstance(user, dict) else None
                if not isinstance(email, str):
                    continue
                first = seen.setdefault(user_key(email), (checked, index))
                if first != (checked, index):
                    there = first[0].doc.loc(("spec", "users", first[1], "email"))
                    here = checked.doc.loc(("spec", "users", index, "email"))
                    issues.add(
                        here,
                        checked.resource,
                        f"spec.users.{index}.email: {email} is already listed "
                        f"({first[0].resource}, {first_at(there, here)}); B2B Edition keeps "
                        "e-mails unique across companies, so a user is listed once",
                    )

    def canonical(self, spec: dict[str, Any]) -> None:
        """E-mails compare without case."""
        users = spec.get("users")
        if isinstance(users, list):
            spec["users"] = [
                {**user, "email": user_key(user["email"])}
                if isinstance(user, dict) and isinstance(user.get("email"), str)
                else user
                for user in users
            ]

    def build(self, doc: Checked) -> CompanyUsersSpec:
        """The spec of a checked document."""
        spec = doc.spec()
        users = tuple(
            UserSpec(
                email=u["email"],
                first_name=u["firstName"],
                last_name=u["lastName"],
                role=u["role"],
                phone_number=u.get("phoneNumber"),
                uuid=u.get("uuid"),
                extra_fields=extras(u.get("extraFields")),
                channel_ids=tuple(u["channelIds"]) if "channelIds" in u else None,
                send_welcome_email=bool(u.get("sendWelcomeEmail", False)),
            )
            for u in spec["users"]
        )
        return CompanyUsersSpec(
            name=doc.name or "",
            company=spec["company"],
            users=users,
            loc=doc.doc.start,
            field_locs=field_locs(doc.doc),
        )

    def needs_in(self, specs: Sequence[CompanyUsersSpec], manifests: ManifestSet) -> ReadNeeds:
        """The users of the named companies and of every listed e-mail; the user configs;
        channels on Multi-Storefront stores."""
        if not specs:
            return ReadNeeds()
        store = manifests.store
        groups = []
        for spec in specs:
            company = manifests.named(f"company/{spec.company}")
            if isinstance(company, CompanySpec):
                groups.append(company.customer_group_id)
        return ReadNeeds(
            user_groups=tuple(dict.fromkeys(groups)),
            user_emails=tuple(dict.fromkeys(user_key(u.email) for s in specs for u in s.users)),
            user_extra_fields=True,
            channels=bool(store and store.multi_storefront),
        )

    def managed(self, specs: Sequence[CompanyUsersSpec]) -> int:
        """Each listed user counts once."""
        return sum(len(s.users) for s in specs)

    def plan(self, specs: Sequence[CompanyUsersSpec], ctx: PlanContext) -> None:
        """Create the missing users and update those that differ, company by company."""
        configs = {c.name: c for c in ctx.live.user_field_configs}
        if specs:
            ctx.unmanaged_users = ctx.unmanaged_users or 0
        by_email = {user_key(u.email): u for u in ctx.live.users}
        for spec in specs:
            company = ctx.manifests.named(f"company/{spec.company}")
            if not isinstance(company, CompanySpec):  # validate catches this
                ctx.issue(
                    spec.loc_of("company"),
                    spec.resource,
                    f"spec.company: no Company {spec.company!r}",
                )
                continue
            _plan_users(ctx, spec, company, configs, by_email)

    def apply_requests(
        self, actions: Sequence[Action], live: LiveState | None = None, every: Sequence[Action] = ()
    ) -> int:
        """The writes; before the createUsers, per chunk (``user_chunk``) one listing of the
        users modified since the plan's read or one read per e-mail (the cheaper), and one read
        before each update of the admin a company creation made (their user id); in
        verification, one listing of the users modified since apply started when that is
        cheaper, else one user listing per company whose users are touched (a first page of
        250)."""
        looked_up = sum(1 for a in actions if "{" in a.request.path)
        looked_up += create_user_reads(every or actions)
        targets = len({a.target_company for a in actions})
        listed = pages(len({_email_of(a) for a in actions}), USER_LIST_PAGE)
        return len(actions) + looked_up + min(listed, targets)

    def send(
        self, client: ApiClient, action: Action, request: Request, run: ApplyRun
    ) -> tuple[str, int | None]:
        """Create a user at most once per proven absence of its e-mail; update in place."""
        if action.type == "createUser":
            return _create(client, action, request, run), None
        target = request.path.rsplit("/", 1)[1]
        if not target.isdigit():  # the admin a company creation made: find them by e-mail
            email = _email_of(action)
            found = _find(client, email)
            if found is None:
                raise ApiError(f"{email} is not a user after the company was created")
            target = str(found.user_id)
        user = client.b2b.update_user(int(target), request.body or {})
        return f"user {user.user_id} updated", None

    def verify(self, client: ApiClient, actions: Sequence[Action], run: ApplyRun) -> list[str]:
        """Every changed and every sent field must read back: from one listing of the users
        modified since apply started when that is cheaper, else (and for any user the listing
        misses) from one listing of each company's users."""
        problems: list[str] = []
        by_company: dict[str, list[Action]] = {}
        company_of: dict[str, str] = {}
        for action in actions:
            by_company.setdefault(action.target_company or "", []).append(action)
            company_of[_email_of(action)] = action.target_company or ""
        listed: dict[str, LiveUser] = {}
        since = run.since
        if since is not None:
            listed = read_listed(
                set(company_of),
                len(company_of),
                USER_LIST_PAGE,
                lambda: client.b2b.company_users_page(min_modified=since),
                lambda first: client.b2b.rest_of_company_users(first, min_modified=since)[0],
                lambda u: user_key(u.email),
                each=lambda emails: len({company_of[e] for e in emails}),
            )
        for company_res, touched in by_company.items():
            company_id = run.outputs.get(company_res)
            found = {
                e: u
                for e, u in listed.items()
                if company_of[e] == company_res and u.company_id == company_id
            }
            if any(_email_of(a) not in found for a in touched):
                users, _ = client.b2b.list_company_users(company_id=company_id)
                found = {user_key(u.email): u for u in users}
            for action in touched:
                email = _email_of(action)
                user = found.get(email)
                if user is None:
                    problems.append(
                        f"inconsistent result after apply: {email} is not a user of "
                        f"{company_res} ({action.id})"
                    )
                    continue
                for change in action.changes:
                    have = user_field(user, change.path)
                    if not same_value(change.after, have):
                        problems.append(
                            f"inconsistent result after apply: {action.resource} {email} "
                            f"{change.path} is {have!r}, expected {change.after!r} ({action.id})"
                        )
                problems += _lost_extras(action, user, email)
        return problems

    def document(
        self, name: str, company: str, users: Sequence[LiveUser], *, multi_storefront: bool
    ) -> dict[str, Any]:
        """The CompanyUsers manifest that matches these live users exactly."""
        listed = []
        for user in sorted(users, key=lambda u: user_key(u.email)):
            entry: dict[str, Any] = {
                "email": user.email,
                "firstName": user.first_name,
                "lastName": user.last_name,
                "role": ROLE_NAMES.get(user.role, "junior-buyer"),
            }
            if user.phone_number:
                entry["phoneNumber"] = user.phone_number
            if user.uuid:
                entry["uuid"] = user.uuid
            values = {k: v for k, v in (user.extra_fields or {}).items() if v != ""}
            if values:
                entry["extraFields"] = dict(sorted(values.items()))
            if multi_storefront and user.channel_ids:
                entry["channelIds"] = sorted(user.channel_ids)
            listed.append(entry)
        return {
            "apiVersion": API_VERSION,
            "kind": self.name,
            "metadata": {"name": name},
            "spec": {"company": company, "users": listed},
        }


# ----------------------------------------------------------------------------- planning


def live_company_of(ctx: PlanContext, company: CompanySpec) -> LiveCompany | None:
    """The live company a Company document describes, as the Company kind matched it (by
    customer group on Dependent stores; by id, uuid or name on Independent ones)."""
    return ctx.matched.get(company.resource)


def _plan_users(
    ctx: PlanContext,
    spec: CompanyUsersSpec,
    company: CompanySpec,
    configs: Mapping[str, ExtraFieldConfig],
    by_email: Mapping[str, LiveUser],
) -> None:
    target = live_company_of(ctx, company)
    creating = ctx.creating.get(company.resource)
    if target is None and creating is None:
        return  # the company could not be planned; its issue is already reported
    admins_before = {
        user_key(u.email)
        for u in by_email.values()
        if target is not None and u.company_id == target.company_id and u.role == 0
    }
    admins_after = set(admins_before)
    demoted: list[str] = []
    admin_email = user_key(company.admin.email) if company.admin else None
    for index, user in enumerate(spec.users):
        key = user_key(user.email)
        live = by_email.get(key)
        if live is not None and target is None and _made_during_the_read(ctx, live):
            live = None  # a concurrent run created the company meanwhile: apply re-checks
        if live is not None and (target is None or live.company_id != target.company_id):
            _elsewhere(ctx, spec, company, index, user, live)
            continue
        creation_admin = live is None and creating is not None and key == admin_email
        _check_user(ctx, spec, index, user, configs, creating=live is None and not creation_admin)
        if live is None and creating is not None and key == admin_email:
            _creation_admin(ctx, spec, company, creating, index, user, configs)
            admins_after.add(key)
            continue
        if live is None:
            _plan_create(ctx, spec, company, target, creating, index, user, configs)
        else:
            _plan_update(ctx, spec, company, target, index, user, live, configs)
        if user.role == "admin":
            admins_after.add(key)
        elif key in admins_after:
            admins_after.discard(key)
            demoted.append(user.email)
    if target is not None:
        listed = {user_key(u.email) for u in spec.users}
        ctx.unmanaged_users = (ctx.unmanaged_users or 0) + sum(
            1
            for u in by_email.values()
            if u.company_id == target.company_id and user_key(u.email) not in listed
        )
    if admins_before and not admins_after:
        ctx.warnings.append(
            f"{spec.resource}: {', '.join(demoted)} would no longer be admin, and "
            f"{company.resource} would have no admin left; a company without an admin cannot "
            "buy. Keep one admin (role: admin), or add one"
        )


RECENT = 300
"""Seconds of clock skew allowed when telling whether a user was made during the read."""


def _made_during_the_read(ctx: PlanContext, live: LiveUser) -> bool:
    """A user of a company the companies read did not see, made while the store was read: the
    company was created concurrently (for a company this plan would create, apply's staleness
    check and the read before each POST settle it; nothing is sent blindly)."""
    return live.company_id not in ctx.by_id and live.created_at >= ctx.live.read_at - RECENT


def _elsewhere(
    ctx: PlanContext,
    spec: CompanyUsersSpec,
    company: CompanySpec,
    index: int,
    user: UserSpec,
    live: LiveUser,
) -> None:
    holder = ctx.by_id.get(live.company_id) if live.company_id is not None else None
    label = (
        f"company {holder.company_name!r} ({live.company_id})"
        if holder
        else f"company {live.company_id}"
    )
    ctx.issue(
        spec.loc_of(f"users.{index}.email"),
        spec.resource,
        f"spec.users.{index}.email: {user.email} is already a user of {label}, and the API "
        f"cannot move a user to another company (B2B Edition keeps e-mails unique). Delete the "
        f"user from that company in the B2B Edition control panel and plan again, or list them "
        f"under that company's CompanyUsers instead of {company.resource}",
    )


def _check_user(
    ctx: PlanContext,
    spec: CompanyUsersSpec,
    index: int,
    user: UserSpec,
    configs: Mapping[str, ExtraFieldConfig],
    *,
    creating: bool,
) -> None:
    """Extra fields against the user configs (and required ones on creation); channels."""
    prefix = f"spec.users.{index}"
    for name, value in (user.extra_fields or {}).items():
        field = f"users.{index}.extraFields.{name}"  # located only for an issue
        config = configs.get(name)
        if config is None:
            known = ", ".join(sorted(configs)) or "none"
            ctx.issue(
                spec.loc_of(field),
                spec.resource,
                f"{prefix}.extraFields.{name}: the store has no user extra field named "
                f"{name!r} (configured: {known}); add it in B2B Edition settings or remove it",
            )
            continue
        text = extra_text(value)
        problem = value_problem(config, text) if text else None
        if problem:
            ctx.issue(
                spec.loc_of(field),
                spec.resource,
                f"{prefix}.extraFields.{name}: {text!r} {problem}",
            )
    if creating:
        given = user.extra_fields or {}
        for config in configs.values():
            if config.required and not extra_text(given.get(config.name, "")):
                ctx.issue(
                    spec.loc_of(f"users.{index}"),
                    spec.resource,
                    f"{prefix}.extraFields.{config.name}: required by the store to create a "
                    f"user ({user.email}); add a value",
                )
    if ctx.msf and ctx.live.channels:
        for channel in user.channel_ids or ():
            if channel not in ctx.live.channels:
                ctx.issue(
                    spec.loc_of(f"users.{index}.channelIds"),
                    spec.resource,
                    f"{prefix}.channelIds: channel {channel} does not exist in store "
                    f"{ctx.live.store_hash}",
                )


def _creation_admin(
    ctx: PlanContext,
    spec: CompanyUsersSpec,
    company: CompanySpec,
    creating: str,
    index: int,
    user: UserSpec,
    configs: Mapping[str, ExtraFieldConfig],
) -> None:
    """The admin that creating the company makes: every field the document names is set by
    one update right after the creation. Creation may link an existing customer, which may keep
    its own names and phone (the docs do not say), so what creation leaves is not assumed; the
    user's id is looked up by e-mail when the update is sent."""
    want = _desired(user, ctx.msf)
    found = changes(want, {})
    carried = texts(company.user_extra_fields or {})
    sent = _complete_extras(ctx, spec, index, texts(user.extra_fields or {}), configs, carried)
    if sent is None:
        return
    body: dict[str, object] = {k: v for k, v in want.items() if k != "extraFields"}
    body["role"] = ROLE_CODES[user.role]
    if sent:
        body["extraFields"] = sent
    ctx.actions.append(
        Action(
            id=_action_id(spec, "updateUser", user.email),
            type="updateUser",
            resource=spec.resource,
            request=Request("PUT", f"/users/{{{company.resource}.adminUserId}}", body),
            depends_on=(creating,),
            changes=found,
            side_effects=(
                f"{user.email} is the admin that {creating} makes; their fields are set right "
                "after it (an existing customer it links may keep its own names and phone)",
            ),
            customer_group_id=company.customer_group_id,
            target_company=company.resource,
        )
    )


def _desired(user: UserSpec, msf: bool) -> dict[str, Any]:
    want: dict[str, Any] = {
        "firstName": user.first_name,
        "lastName": user.last_name,
        "role": user.role,
    }
    if user.phone_number is not None:
        want["phoneNumber"] = user.phone_number
    if user.uuid is not None:
        want["uuid"] = user.uuid
    if msf and user.channel_ids is not None:
        want["channelIds"] = sorted(user.channel_ids)
    if user.extra_fields:
        want["extraFields"] = texts(user.extra_fields)
    return want


def user_changes(
    user: UserSpec, live: LiveUser | None, configs: Mapping[str, ExtraFieldConfig], msf: bool
) -> tuple[FieldChange, ...]:
    """Field changes that make ``live`` match ``user`` (every named field when live is None)."""
    want = _desired(user, msf)
    if live is None:
        return changes({"email": user.email, **want}, {})
    have: dict[str, Any] = {
        "firstName": live.first_name,
        "lastName": live.last_name,
        "role": ROLE_NAMES.get(live.role, "junior-buyer"),
    }
    if "phoneNumber" in want:
        have["phoneNumber"] = live.phone_number
    if "uuid" in want:
        have["uuid"] = live.uuid
    if "channelIds" in want:
        have["channelIds"] = sorted(live.channel_ids)
    if "extraFields" in want:
        live_extra = live.extra_fields or {}
        have_extra = {k: live_extra.get(k) for k in want["extraFields"]}
        for key, value in want["extraFields"].items():
            seen = have_extra[key]
            if seen is not None and same_extra(value, seen, configs.get(key)):
                want["extraFields"][key] = seen
            elif value == "" and seen is None:
                have_extra[key] = ""
        have["extraFields"] = have_extra
    return changes(want, have)


def user_field(user: LiveUser, path: str) -> Any:
    """The live value at a change path, in the shape of the planned ``after``."""
    head, _, rest = path.partition(".")
    match head:
        case "email":
            return user.email
        case "firstName":
            return user.first_name
        case "lastName":
            return user.last_name
        case "role":
            return ROLE_NAMES.get(user.role, "junior-buyer")
        case "phoneNumber":
            return user.phone_number
        case "uuid":
            return user.uuid
        case "channelIds":
            return sorted(user.channel_ids)
        case "extraFields":
            return (user.extra_fields or {}).get(rest)
    return None


def _action_id(spec: CompanyUsersSpec, kind: str, email: str) -> str:
    return f"{spec.resource}:{kind}:{user_key(email)}"


def _plan_create(
    ctx: PlanContext,
    spec: CompanyUsersSpec,
    company: CompanySpec,
    target: LiveCompany | None,
    creating: str | None,
    index: int,
    user: UserSpec,
    configs: Mapping[str, ExtraFieldConfig],
) -> None:
    company_id: object = (
        target.company_id if target is not None else f"{{{company.resource}.companyId}}"
    )
    body: dict[str, object] = {
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email,
        "companyId": company_id,
        "role": ROLE_CODES[user.role],
        "channelIds": list(user.channel_ids or DEFAULT_CHANNELS),
    }
    if user.phone_number is not None:
        body["phoneNumber"] = user.phone_number
    if user.uuid is not None:
        body["uuid"] = user.uuid
    if user.extra_fields:
        body["extraFields"] = [
            {"fieldName": k, "fieldValue": v} for k, v in sorted(texts(user.extra_fields).items())
        ]
    body["acceptWelcomeEmail"] = user.send_welcome_email
    effects = [
        f"{user.email} links the existing BigCommerce customer with that e-mail, or a new "
        f"customer is created; it joins the customer group of {company.resource}",
        f"if {user.email} is a B2C customer, their existing orders move to the Buyer Portal "
        f"of {company.resource} (B2B Edition migrates them when the user is created)",
        f"a welcome e-mail is sent to {user.email}"
        if user.send_welcome_email
        else "no welcome e-mail is sent (sendWelcomeEmail: false)",
    ]
    action_id = _action_id(spec, "createUser", user.email)
    ctx.actions.append(
        Action(
            id=action_id,
            type="createUser",
            resource=spec.resource,
            request=Request("POST", "/users", body),
            depends_on=(creating,) if creating else (),
            changes=user_changes(user, None, configs, ctx.msf),
            side_effects=tuple(effects),
            customer_group_id=company.customer_group_id,
            company_id=target.company_id if target is not None else None,
            target_company=company.resource,
        )
    )
    ctx.members[user_key(user.email)] = (company.resource, action_id)


def _plan_update(
    ctx: PlanContext,
    spec: CompanyUsersSpec,
    company: CompanySpec,
    target: LiveCompany | None,
    index: int,
    user: UserSpec,
    live: LiveUser,
    configs: Mapping[str, ExtraFieldConfig],
) -> None:
    found = user_changes(user, live, configs, ctx.msf)
    if not found:
        return
    body: dict[str, object] = {}
    changed: dict[str, ExtraValue] = {}
    for change in found:
        head, _, rest = change.path.partition(".")
        if head == "extraFields":
            changed[rest] = change.after
        elif head == "role":
            body["role"] = ROLE_CODES[change.after]
        else:
            body[head] = change.after
    sent = _complete_extras(ctx, spec, index, changed, configs, live.extra_fields or {})
    if sent is None:
        return
    if sent:
        body["extraFields"] = sent
    effects: tuple[str, ...] = ()
    if "role" in body:
        effects = (f"{user.email}'s permissions change to those of {user.role}",)
    ctx.actions.append(
        Action(
            id=_action_id(spec, "updateUser", user.email),
            type="updateUser",
            resource=spec.resource,
            request=Request("PUT", f"/users/{live.user_id}", body),
            changes=found,
            side_effects=effects,
            customer_group_id=company.customer_group_id,
            company_id=target.company_id if target is not None else None,
            target_company=company.resource,
        )
    )


def _complete_extras(
    ctx: PlanContext,
    spec: CompanyUsersSpec,
    index: int,
    changed: Mapping[str, ExtraValue],
    configs: Mapping[str, ExtraFieldConfig],
    before: Mapping[str, str],
) -> list[dict[str, str]] | None:
    """The ``extraFields`` of a user PUT: the complete set (``[]`` for none), right whether the
    array merges or replaces and whether every PUT must carry the required fields (the sandbox
    switches ``userExtraFieldsReplace``, ``userPutRequiresExtraFields``). ``None``: an issue
    was reported (a carried value the store now refuses, a required field with no value)."""
    full = {k: v for k, v in before.items() if v != "" and k in configs and k not in changed}
    ok = True
    where = f"users.{index}"  # located only for an issue
    for name, value in sorted(full.items()):
        problem = value_problem(configs[name], value)
        if problem:
            ok = False
            ctx.issue(
                spec.loc_of(where),
                spec.resource,
                f"spec.users.{index}.extraFields.{name}: the user's current value {value!r} "
                f"{problem} now, and every user update must send it back; set a valid value",
            )
    full.update(texts(changed))
    for config in configs.values():
        if config.required and not full.get(config.name):
            ok = False
            ctx.issue(
                spec.loc_of(where),
                spec.resource,
                f"spec.users.{index}.extraFields.{config.name}: required by the store, so every "
                "user update must carry it, and the user has no value; add a value",
            )
    if not ok:
        return None
    return [{"fieldName": k, "fieldValue": full[k]} for k in sorted(full)]


# ----------------------------------------------------------------------------- applying


def _email_of(action: Action) -> str:
    return action.id.rsplit(":", 1)[1]


def _find(client: ApiClient, email: str) -> LiveUser | None:
    """The user with this e-mail, wherever it is (``q`` search, compared without case: whether
    the ``email`` filter ignores case is not documented)."""
    users, _ = client.b2b.list_company_users(query=email)
    return next((u for u in users if user_key(u.email) == user_key(email)), None)


def user_chunk(actions: Sequence[Action], position: int) -> tuple[int, ...]:
    """Positions of the createUsers one listing stands for, around ``actions[position]``: the
    createUsers of the stretch of CompanyUsers actions holding it, in chunks of
    ``USERS_PER_LOOK``."""
    first = last = position
    while first > 0 and actions[first - 1].type in _USER_TYPES:
        first -= 1
    while last + 1 < len(actions) and actions[last + 1].type in _USER_TYPES:
        last += 1
    creates = [i for i in range(first, last + 1) if actions[i].type == "createUser"]
    at = creates.index(position) // USERS_PER_LOOK * USERS_PER_LOOK
    return tuple(creates[at : at + USERS_PER_LOOK])


def _users_before(actions: Sequence[Action], start: int) -> int:
    """Users a listing since apply started holds at ``start`` when nobody else writes: those
    the CompanyUsers actions before it touched and the admins the creations before it made."""
    emails = {_email_of(a) for a in actions[:start] if a.type in _USER_TYPES}
    return len(emails) + sum(1 for a in actions[:start] if a.type in ("convert", "create"))


def _look_cheaper(actions: Sequence[Action], chunk: tuple[int, ...]) -> bool:
    return listing_cheaper(len(chunk), _users_before(actions, chunk[0]), USER_LIST_PAGE)


def create_user_reads(actions: Sequence[Action]) -> int:
    """Reads before the createUsers of a plan's ``actions`` when nothing fails: per chunk, the
    pages of one listing or one read per e-mail, the cheaper."""
    total = 0
    for position, action in enumerate(actions):
        if action.type != "createUser":
            continue
        chunk = user_chunk(actions, position)
        if not _look_cheaper(actions, chunk):
            total += 1
        elif position == chunk[0]:
            total += pages(_users_before(actions, chunk[0]), USER_LIST_PAGE)
    return total


def _user_before_create(client: ApiClient, action: Action, run: ApplyRun | None) -> LiveUser | None:
    """The user with the createUser's e-mail right before the POST (None: there is none),
    from the listing of the users modified since the plan's read made for this chunk of
    createUsers (``ApplyRun.read_since``), or from a read of the e-mail.

    The plan's read proved the e-mail free; a user given it since was modified since, so it is
    in the listing. One made after the listing (by another run of this plan) makes our POST
    fail, since B2B Edition keeps user e-mails unique, and the read after a refused POST adopts
    it, as for one read right before: no user is ever created twice."""
    email = _email_of(action)
    if run is None or run.read_since is None or not 0 <= run.position < len(run.actions):
        return _find(client, email)
    if run.actions[run.position] != action:
        return _find(client, email)
    chunk = user_chunk(run.actions, run.position)
    look = run.memo.get("user-look")
    if isinstance(look, tuple) and look[0] == chunk[0]:
        found: LiveUser | None = look[1].get(user_key(email))
        return found
    if run.position != chunk[0] or not _look_cheaper(run.actions, chunk):
        return _find(client, email)
    users, _ = client.b2b.list_company_users(min_modified=run.read_since)
    by_email = {user_key(u.email): u for u in users}
    run.memo["user-look"] = (chunk[0], by_email)
    return by_email.get(user_key(email))


def _create(
    client: ApiClient, action: Action, request: Request, run: ApplyRun | None = None
) -> str:
    email = _email_of(action)
    body = request.body if isinstance(request.body, dict) else {}
    company_id = body.get("companyId")
    existing = _user_before_create(client, action, run)
    if existing is not None:
        return _adopt(existing, company_id, "made since planning")
    last: ApiError | None = None
    for _ in range(POST_ATTEMPTS):
        try:
            user_id, _ = client.b2b.create_user(body)
        except UncertainWriteError as exc:
            last = exc
        except ApiError as exc:
            if exc.status is None or exc.status in (401, 403):
                raise
            last = exc
        else:
            return f"user {user_id} created"
        existing = _find(client, email)
        if existing is not None:
            return _adopt(existing, company_id, "after a POST whose outcome was uncertain")
        if last.status is not None and last.status < 500:
            raise last
    assert last is not None
    raise last


def _adopt(existing: LiveUser, company_id: object, how: str) -> str:
    if existing.company_id == company_id:
        return f"user {existing.user_id} ({existing.email}) already existed ({how}); adopted"
    raise ApiError(
        f"{existing.email} is a user of company {existing.company_id}, not of company "
        f"{company_id}; nothing was created. Run plan again"
    )


def _lost_extras(action: Action, user: LiveUser, email: str) -> list[str]:
    """Every extra field the request sent must read back, not only the changed ones."""
    body = action.request.body
    sent = body.get("extraFields") if isinstance(body, Mapping) else None
    changed = {c.path for c in action.changes}
    problems = []
    for item in sent if isinstance(sent, list) else ():
        name, value = str(item.get("fieldName")), str(item.get("fieldValue", ""))
        if f"extraFields.{name}" in changed:
            continue
        seen = (user.extra_fields or {}).get(name)
        if not same_value(value, seen):
            problems.append(
                f"inconsistent result after apply: {action.resource} {email} "
                f"extraFields.{name} is {seen!r}, expected {value!r} (sent unchanged by "
                f"{action.id})"
            )
    return problems


COMPANY_USERS = CompanyUsersKind()
"""The CompanyUsers kind."""
