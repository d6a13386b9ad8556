"""Company: a B2B company, identified by its customer group (``customerGroupId``).

A missing company is converted from its group (Dependent without Multi-Storefront) or created
for it (Independent). Every field a spec names is enforced with the fewest calls: one ``update``
with only the changed fields, then ``setStatus`` and ``setCatalog`` which have endpoints of their
own. ``uuid`` cannot be set at creation, so a new company with a ``uuid`` gets a follow-up
``update``.

Creation is never sent blindly twice: right before the POST one read confirms the group has no
company (one found with the planned name is adopted); when the outcome is uncertain (no answer,
5xx, or "Convert failed" because the group already has a company) the group's company is re-read;
if it exists and carries the planned name, the action succeeded; if it does not exist, the POST
demonstrably did not happen and is sent again (at most ``POST_ATTEMPTS`` times). After the POST
one read confirms the returned company is the group's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.diff import changes, extra_text, price_list_json, same_extra, same_value
from reconciler.errors import ApiError, UncertainWriteError
from reconciler.kinds.base import ActionInfo, Kind, PlanContext
from reconciler.kinds.documents import (
    Checked,
    Issues,
    extras,
    field_locs,
    first_at,
    int_or_none,
    opt_str,
    unique_field,
)
from reconciler.kinds.extrafields import (
    check_extra_fields,
    complete_extras,
    extra_list,
    lost_extras,
    texts,
)
from reconciler.model import (
    API_VERSION,
    Action,
    ActionType,
    ExtraFieldConfig,
    ExtraValue,
    FieldChange,
    LiveCompany,
    LiveState,
    Location,
    PriceListAssignment,
    ReadNeeds,
    Request,
    StoreSpec,
    status_code,
)

if TYPE_CHECKING:
    from reconciler.api import ApiClient

__all__ = [
    "COMPANY",
    "CREATED_STATUS",
    "AdminSpec",
    "CompanyKind",
    "CompanySpec",
    "company_changes",
    "company_field",
]

CREATED_STATUS = "approved"
"""The status a company gets when created through the API (convert or create)."""
POST_ATTEMPTS = 5
"""Sends of one convert/create at most, each after a read proved the company absent."""


@dataclass(frozen=True)
class AdminSpec:
    """The company admin, used only to create the company."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone_number: str | None = None


@dataclass(frozen=True)
class CompanySpec:
    """A Company document. ``None`` means "not managed": the live value is left alone."""

    name: str
    customer_group_id: int
    company_name: str
    company_email: str
    company_phone: str
    address: Mapping[str, str] | None = None
    status: str | None = None
    uuid: str | None = None
    catalog_id: str | None = None
    price_list_assign: tuple[PriceListAssignment, ...] | None = None
    extra_fields: Mapping[str, ExtraValue] | None = None
    admin: AdminSpec | None = None
    user_extra_fields: Mapping[str, ExtraValue] | None = None
    send_welcome_email: bool = False
    loc: Location | None = None
    field_locs: Mapping[str, Location] = field(default_factory=dict)
    """Locations of spec fields by dotted path (``extraFields.licenseNo``, ``catalogId``)."""

    @property
    def resource(self) -> str:
        """``company/<name>``."""
        return f"company/{self.name}"

    def loc_of(self, path: str) -> Location | None:
        """Location of a spec field, falling back to the document."""
        return self.field_locs.get(path, self.loc)


class CompanyKind(Kind[CompanySpec]):
    """The Company kind."""

    name = "Company"
    spec_type = CompanySpec
    actions = (
        ActionInfo(
            "convert",
            "+",
            ("to convert", "to convert"),
            "a customer group converted into a company cannot be turned back into a plain "
            "group; the company can only be deactivated",
        ),
        ActionInfo(
            "create",
            "+",
            ("to create", "to create"),
            "this tool never deletes companies; removing it is a manual step",
        ),
        ActionInfo("update", "~", ("to update", "to update")),
        ActionInfo("setStatus", "~", ("status to set", "statuses to set")),
        ActionInfo("setCatalog", "~", ("catalog to set", "catalogs to set")),
    )
    needs_behavior = True
    extra_field_set = "company"

    def check(self, doc: Checked, issues: Issues) -> None:
        """A channel may have one price list."""
        _check_price_lists(doc, issues)

    def check_across(
        self,
        docs: Sequence[Checked],
        every: Mapping[str, Sequence[Checked]],
        store: Checked | None,
        issues: Issues,
    ) -> None:
        """One company per customer group; companiesBehavior decides catalogId vs
        priceListAssign."""
        unique_field(docs, "customerGroupId", "customer group {} is already used by", issues)
        behavior = store.field("companiesBehavior") if store else None
        msf = store.field("multiStorefront") if store else None
        msf = False if msf is None else msf
        if behavior not in ("dependent", "independent") or not isinstance(msf, bool):
            return
        for company in docs:
            spec = company.spec()
            if "catalogId" in spec and (behavior == "independent" or msf):
                reason = (
                    "not allowed with companiesBehavior: independent (the price list comes from "
                    "the customer group)"
                    if behavior == "independent"
                    else "only for stores without Multi-Storefront; this store has "
                    "multiStorefront: true, so use priceListAssign"
                )
                issues.add(company.at("catalogId"), company.resource, f"spec.catalogId: {reason}")
            if "priceListAssign" in spec and (behavior == "independent" or not msf):
                reason = (
                    "not allowed with companiesBehavior: independent (the price list comes from "
                    "the customer group)"
                    if behavior == "independent"
                    else "only for stores with Multi-Storefront (multiStorefront: true); this "
                    "store uses catalogId"
                )
                issues.add(
                    company.at("priceListAssign"),
                    company.resource,
                    f"spec.priceListAssign: {reason}",
                )

    def canonical(self, spec: dict[str, Any]) -> None:
        """``catalogId: 5`` and ``"5"`` are the same."""
        if "catalogId" in spec:
            spec["catalogId"] = str(spec["catalogId"])

    def build(self, doc: Checked) -> CompanySpec:
        """The spec of a checked document."""
        spec = doc.spec()
        admin = spec.get("admin")
        assign = spec.get("priceListAssign")
        address = spec.get("address")
        return CompanySpec(
            name=doc.name or "",
            customer_group_id=spec["customerGroupId"],
            company_name=spec["companyName"],
            company_email=spec["companyEmail"],
            company_phone=spec["companyPhone"],
            address=dict(address) if isinstance(address, dict) else None,
            status=spec.get("status"),
            uuid=spec.get("uuid"),
            catalog_id=opt_str(spec.get("catalogId")),
            price_list_assign=(
                tuple(PriceListAssignment(p["channelId"], p["priceListId"]) for p in assign)
                if isinstance(assign, list)
                else None
            ),
            extra_fields=extras(spec.get("extraFields")),
            admin=(
                AdminSpec(
                    email=admin["email"],
                    first_name=admin.get("firstName"),
                    last_name=admin.get("lastName"),
                    phone_number=admin.get("phoneNumber"),
                )
                if isinstance(admin, dict)
                else None
            ),
            user_extra_fields=extras(spec.get("userExtraFields")),
            send_welcome_email=bool(spec.get("sendWelcomeEmail", False)),
            loc=doc.doc.start,
            field_locs=field_locs(doc.doc),
        )

    def needs(self, specs: Sequence[CompanySpec], store: StoreSpec | None) -> ReadNeeds:
        """The companies of the managed groups, their configs, price lists and channels."""
        msf = bool(store and store.multi_storefront)
        return ReadNeeds(
            groups=tuple(dict.fromkeys(c.customer_group_id for c in specs)),
            company_extra_fields=bool(specs),
            price_lists=any(bool(c.catalog_id) or bool(c.price_list_assign) for c in specs),
            channels=msf and any(bool(c.price_list_assign) for c in specs),
        )

    def unmanaged(self, specs: Sequence[CompanySpec], live: LiveState) -> int:
        """Companies in the store outside the managed customer groups."""
        managed_groups = {c.customer_group_id for c in specs}
        managed_live = sum(1 for c in live.companies if c.customer_group_id in managed_groups)
        total = live.company_total if live.company_total is not None else len(live.companies)
        return max(0, total - managed_live)

    def plan(self, specs: Sequence[CompanySpec], ctx: PlanContext) -> None:
        """Convert or create missing companies, then update what differs."""
        configs = {c.name: c for c in ctx.live.company_field_configs}
        for spec in specs:
            _plan_company(ctx, spec, configs)

    def send(self, client: ApiClient, action: Action, request: Request) -> tuple[str, int | None]:
        """Send a PUT; a convert/create at most once per proven absence of the company."""
        if action.type in ("convert", "create"):
            company_id, message = _create(client, action, request)
            return message, company_id
        return super().send(client, action, request)

    def verify(
        self, client: ApiClient, actions: Sequence[Action], outputs: Mapping[str, int]
    ) -> list[str]:
        """Re-read each touched company once: every change and every carried extra field."""
        problems: list[str] = []
        by_company: dict[str, list[Action]] = {}
        for action in actions:
            by_company.setdefault(action.resource, []).append(action)
        for resource, touched in by_company.items():
            company = client.b2b.get_company(outputs[resource])
            for action in touched:
                for change in action.changes:
                    have = company_field(company, change.path)
                    if not same_value(change.after, have):
                        problems.append(
                            f"inconsistent result after apply: {resource} {change.path} is "
                            f"{have!r}, expected {change.after!r} ({action.id})"
                        )
            problems += lost_extras(resource, touched, company.extra_fields)
        return problems

    def document(
        self, company: LiveCompany, name: str, *, behavior: str, multi_storefront: bool
    ) -> dict[str, Any]:
        """The Company manifest that matches a live company exactly."""
        spec: dict[str, Any] = {
            "customerGroupId": company.customer_group_id,
            "companyName": company.company_name,
            "companyEmail": company.company_email,
            "companyPhone": company.company_phone,
            "status": company.status if company.status != "deleted" else None,
        }
        if company.uuid:
            spec["uuid"] = company.uuid
        if behavior == "dependent" and not multi_storefront and company.catalog_id:
            spec["catalogId"] = company.catalog_id
        if behavior == "dependent" and multi_storefront and company.price_list_assign:
            spec["priceListAssign"] = [
                {"channelId": p.channel_id, "priceListId": p.price_list_id}
                for p in company.price_list_assign
            ]
        # An empty value is left out: it reads the same as no value, and a company extra field
        # cannot be set to "" (fieldValue is minLength: 1, so plan refuses it).
        extras = {k: v for k, v in sorted(company.extra_fields.items()) if v != ""}
        if extras:
            spec["extraFields"] = extras
        spec = {k: v for k, v in spec.items() if v is not None}
        return {
            "apiVersion": API_VERSION,
            "kind": self.name,
            "metadata": {"name": name},
            "spec": spec,
        }


def _project_company(
    spec: CompanySpec, live: LiveCompany | None, configs: Mapping[str, ExtraFieldConfig]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Project desired and live onto the fields the spec names, normalized."""
    want: dict[str, Any] = {
        "companyName": spec.company_name,
        "companyEmail": spec.company_email,
        "companyPhone": spec.company_phone,
    }
    have: dict[str, Any] = {}
    if live is not None:
        have = {
            "companyName": live.company_name,
            "companyEmail": live.company_email,
            "companyPhone": live.company_phone,
        }
    if spec.status is not None:
        want["status"] = spec.status
        if live is not None:
            have["status"] = live.status
    if spec.uuid is not None:
        want["uuid"] = spec.uuid
        if live is not None:
            have["uuid"] = live.uuid
    if spec.catalog_id is not None:
        want["catalogId"] = str(spec.catalog_id)
        if live is not None:
            have["catalogId"] = live.catalog_id
    if spec.price_list_assign is not None:
        want["priceListAssign"] = frozenset(
            (p.channel_id, p.price_list_id) for p in spec.price_list_assign
        )
        if live is not None:
            have["priceListAssign"] = frozenset(
                (p.channel_id, p.price_list_id) for p in live.price_list_assign
            )
    if spec.extra_fields:
        want_extra = {k: extra_text(v) for k, v in spec.extra_fields.items()}
        if live is not None:
            have_extra = {k: live.extra_fields.get(k) for k in want_extra}
            for key, value in want_extra.items():
                seen = have_extra[key]
                if seen is not None and same_extra(value, seen, configs.get(key)):
                    want_extra[key] = seen  # equal once normalized: keep the live spelling
            have["extraFields"] = have_extra
        want["extraFields"] = want_extra
    if spec.address and live is not None and live.address:
        want_addr = {k: v for k, v in spec.address.items() if k in live.address}
        if want_addr:
            want["address"] = want_addr
            have["address"] = {k: live.address[k] for k in want_addr}
    return want, have


def company_changes(
    spec: CompanySpec, live: LiveCompany | None, configs: Mapping[str, ExtraFieldConfig]
) -> tuple[FieldChange, ...]:
    """Field changes that make ``live`` match ``spec`` (every named field when live is None)."""
    want, have = _project_company(spec, live, configs)
    if live is None:
        have = {}
    return changes(want, have)


def company_field(live: LiveCompany, path: str) -> Any:
    """The live value at a change path, in the same shape as the planned ``after``."""
    head, _, rest = path.partition(".")
    match head:
        case "companyName":
            return live.company_name
        case "companyEmail":
            return live.company_email
        case "companyPhone":
            return live.company_phone
        case "status":
            return live.status
        case "uuid":
            return live.uuid
        case "catalogId":
            return live.catalog_id
        case "priceListAssign":
            return price_list_json(live.price_list_assign)
        case "extraFields":
            return live.extra_fields.get(rest)
        case "address":
            return live.address.get(rest)
    return None


def _check_price_lists(company: Checked, issues: Issues) -> None:
    """A channel may have one price list."""
    items = company.field("priceListAssign")
    if not isinstance(items, list):
        return
    first: dict[int, int] = {}
    for index, item in enumerate(items):
        channel = int_or_none(item.get("channelId")) if isinstance(item, dict) else None
        if channel is None:
            continue
        if channel in first:
            earlier = company.at("priceListAssign", first[channel], "channelId")
            here = company.at("priceListAssign", index, "channelId")
            issues.add(
                here,
                company.resource,
                f"spec.priceListAssign.{index}.channelId: channel {channel} is listed twice "
                f"(first at {first_at(earlier, here)})",
            )
        else:
            first[channel] = index


def _plan_company(
    ctx: PlanContext, spec: CompanySpec, configs: Mapping[str, ExtraFieldConfig]
) -> None:
    live = ctx.company_for_group(spec.customer_group_id)
    res = spec.resource
    holders = [c.company_id for c in ctx.by_group.get(spec.customer_group_id, ())]
    if len(holders) > 1:
        ctx.issue(
            spec.loc_of("customerGroupId"),
            res,
            f"spec.customerGroupId: customer group {spec.customer_group_id} has "
            f"{len(holders)} companies ({', '.join(map(str, holders))}); a Company is "
            "identified by its customer group, so this one is ambiguous. Move all but one "
            "company to another group, or leave this group unmanaged",
        )
        return
    _check_prices(ctx, spec)
    if spec.extra_fields is not None or live is None:
        check_extra_fields(
            ctx,
            spec.extra_fields or {},
            configs,
            creating=live is None,
            resource=res,
            loc_of=spec.loc_of,
            what="company",
        )
    if live is None:
        _plan_creation(ctx, spec, configs)
        return
    changes = company_changes(spec, live, configs)
    _plan_company_updates(ctx, spec, live, changes, configs, after=None)


def _plan_creation(
    ctx: PlanContext, spec: CompanySpec, configs: Mapping[str, ExtraFieldConfig]
) -> None:
    res = spec.resource
    group = spec.customer_group_id
    if group not in ctx.live.customer_groups:
        ctx.issue(
            spec.loc_of("customerGroupId"),
            res,
            f"spec.customerGroupId: customer group {group} does not exist in store "
            f"{ctx.live.store_hash}; create the group in BigCommerce first or fix the id",
        )
        return
    if ctx.behavior == "dependent" and ctx.msf:
        ctx.issue(
            spec.loc_of("customerGroupId"),
            res,
            f"no company exists for customer group {group}, and converting a group is not "
            "supported on Multi-Storefront stores; create the company in the B2B Edition "
            "control panel, then plan again",
        )
        return
    admin = spec.admin
    missing = [
        name
        for name, ok in (
            ("spec.address.country", bool(spec.address and spec.address.get("country"))),
            ("spec.admin.email", bool(admin and admin.email)),
            ("spec.admin.phoneNumber", bool(admin and admin.phone_number)),
        )
        if not ok
    ]
    if ctx.behavior == "independent":
        missing = [m for m in missing if m != "spec.admin.phoneNumber"]
        if admin is not None:
            missing += [
                f"spec.admin.{k}"
                for k, v in (("firstName", admin.first_name), ("lastName", admin.last_name))
                if not v
            ]
    if missing:
        ctx.issue(
            spec.loc,
            res,
            f"{', '.join(missing)}: required to create the company for customer group {group}"
            " (no company exists for it yet)",
        )
        return
    assert admin is not None
    holder = ctx.live.admin_users.get(admin.email.lower())
    if holder is not None:
        ctx.issue(
            spec.loc_of("admin.email"),
            res,
            f"spec.admin.email: {admin.email} is already a user of company {holder}; B2B "
            "Edition keeps user e-mails unique across companies, so creating this company "
            "would be refused (422). Name another admin e-mail",
        )
        return
    body: dict[str, object] = {
        "companyName": spec.company_name,
        "companyEmail": spec.company_email,
        "companyPhone": spec.company_phone,
    }
    for key, value in (spec.address or {}).items():
        body[key] = value
    body["adminEmail"] = admin.email
    for key, maybe in (
        ("adminFirstName", admin.first_name),
        ("adminLastName", admin.last_name),
        ("adminPhoneNumber", admin.phone_number),
    ):
        if maybe:
            body[key] = maybe
    if spec.extra_fields:
        body["extraFields"] = extra_list(spec.extra_fields)
    if spec.user_extra_fields:
        body["userExtraFields"] = extra_list(spec.user_extra_fields)
    body["acceptCreationEmail"] = spec.send_welcome_email
    kind: ActionType
    if ctx.behavior == "dependent":
        kind = "convert"
        if spec.catalog_id is not None:
            body["catalogId"] = str(spec.catalog_id)
        request = Request("POST", f"/customer-groups/{group}/companies", body)
    else:
        kind = "create"
        body["customerGroupId"] = group
        request = Request("POST", "/companies", body)
    created = {"companyName", "companyEmail", "companyPhone", "extraFields", "catalogId"}
    all_changes = company_changes(spec, None, {})
    effects = [
        f"the admin e-mail {admin.email} links the existing BigCommerce customer with that "
        "e-mail, or a new customer is created",
    ]
    if spec.send_welcome_email:
        effects.append(f"a welcome e-mail will be sent to {admin.email}")
    else:
        effects.append("no welcome e-mail is sent (sendWelcomeEmail: false)")
    if kind == "convert":
        effects.append(f"customer group {group} becomes the company's group, one to one")
    action_id = f"{res}:{kind}"
    ctx.actions.append(
        Action(
            id=action_id,
            type=kind,
            resource=res,
            request=request,
            changes=tuple(c for c in all_changes if c.path.split(".")[0] in created),
            irreversible=kind == "convert",
            side_effects=tuple(effects),
            customer_group_id=group,
        )
    )
    ctx.creating[res] = action_id
    # What creation cannot set is set right after it.
    rest = tuple(c for c in all_changes if c.path.split(".")[0] not in created)
    rest = tuple(c for c in rest if not (c.path == "status" and c.after == CREATED_STATUS))
    _plan_company_updates(ctx, spec, None, rest, configs, after=action_id)


def _plan_company_updates(
    ctx: PlanContext,
    spec: CompanySpec,
    live: LiveCompany | None,
    changes: Sequence[FieldChange],
    configs: Mapping[str, ExtraFieldConfig],
    *,
    after: str | None,
) -> None:
    res = spec.resource
    company_path = f"/companies/{live.company_id}" if live else f"/companies/{{{res}.companyId}}"

    def add(
        kind: ActionType,
        body: dict[str, object],
        suffix: str,
        changed: Sequence[FieldChange],
        effects: tuple[str, ...] = (),
    ) -> None:
        ctx.actions.append(
            Action(
                id=f"{res}:{kind}",
                type=kind,
                resource=res,
                request=Request("PUT", company_path + suffix, body),
                depends_on=(after,) if after else (),
                changes=tuple(changed),
                side_effects=effects,
                customer_group_id=spec.customer_group_id,
                company_id=live.company_id if live else None,
            )
        )

    update = [c for c in changes if c.path.split(".")[0] not in ("status", "catalogId")]
    if update:
        body: dict[str, object] = {}
        extra: dict[str, ExtraValue] = {}
        for change in update:
            head, _, rest = change.path.partition(".")
            if head == "extraFields":
                extra[rest] = change.after
            elif head == "address":
                body[rest] = change.after
            elif head == "priceListAssign":
                body["priceListAssign"] = change.after
            else:
                body[head] = change.after
        # A new company holds what its creation sent; a live one what was read.
        before = live.extra_fields if live else texts(spec.extra_fields or {})
        extras = complete_extras(
            ctx,
            extra,
            configs,
            before,
            resource=res,
            loc=spec.loc_of("extraFields"),
            what="company",
            required=live is not None,  # creation already demands every required field
        )
        if extras is None:
            return
        if extras:
            body["extraFields"] = extras
        add("update", body, "", update)
    for change in changes:
        if change.path == "status":
            body = {"companyStatus": status_code(change.after)}
            add("setStatus", body, "/status", (change,), _status_effects(change.after))
        elif change.path == "catalogId":
            if ctx.behavior != "dependent" or ctx.msf:
                ctx.issue(
                    spec.loc_of("catalogId"),
                    res,
                    "spec.catalogId: a company's catalog can be set only on Dependent stores "
                    "without Multi-Storefront; remove catalogId",
                )
                continue
            effect = "the company's buyers see the prices of the new price list"
            add("setCatalog", {"catalogId": str(change.after)}, "/catalogs", (change,), (effect,))


def _status_effects(status: str) -> tuple[str, ...]:
    if status in ("inactive", "rejected"):
        return (f"users of a {status} company can no longer log in to the Buyer Portal",)
    return ()


def _check_prices(ctx: PlanContext, spec: CompanySpec) -> None:
    if spec.catalog_id is not None and spec.catalog_id != "":
        try:
            known = int(spec.catalog_id) in ctx.live.price_lists
        except ValueError:
            known = False
        if not known:
            ctx.issue(
                spec.loc_of("catalogId"),
                spec.resource,
                f"spec.catalogId: price list {spec.catalog_id} does not exist in store "
                f"{ctx.live.store_hash}; create it in BigCommerce or fix the id",
            )
    for i, pair in enumerate(spec.price_list_assign or ()):
        if pair.price_list_id not in ctx.live.price_lists:
            ctx.issue(
                spec.loc_of(f"priceListAssign.{i}"),
                spec.resource,
                f"spec.priceListAssign[{i}].priceListId: price list {pair.price_list_id} does "
                f"not exist in store {ctx.live.store_hash}",
            )
        if ctx.live.channels and pair.channel_id not in ctx.live.channels:
            ctx.issue(
                spec.loc_of(f"priceListAssign.{i}"),
                spec.resource,
                f"spec.priceListAssign[{i}].channelId: channel {pair.channel_id} does not "
                f"exist in store {ctx.live.store_hash}",
            )


def _create(client: ApiClient, action: Action, request: Request) -> tuple[int, str]:
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
    existing = _company_of_group(client, group)
    if existing is not None:
        return _adopt(existing, group, wanted), (
            f"company {existing.company_id} already existed in customer group {group} "
            "(made since planning); adopted it, nothing was created"
        )
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
            _confirm_created(client, group, company_id)
            return company_id, f"company {company_id} created"
        # The outcome is uncertain: look before sending again.
        existing = _company_of_group(client, group)
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


COMPANY = CompanyKind()
"""The Company kind."""
