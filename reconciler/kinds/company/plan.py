"""Planning one Company: convert or create a missing company (with what creation cannot set
right after it), else one ``update`` with the changed fields, then ``setStatus`` and
``setCatalog``; every problem apply would meet is an issue, all at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from reconciler.kinds.base import PlanContext
from reconciler.kinds.extrafields import (
    check_extra_fields,
    complete_extras,
    extra_list,
    texts,
)
from reconciler.model import (
    Action,
    ActionType,
    ExtraFieldConfig,
    ExtraValue,
    FieldChange,
    LiveCompany,
    Request,
    status_code,
)

if TYPE_CHECKING:
    pass
from reconciler.kinds.company.compare import company_changes
from reconciler.kinds.company.spec import CREATED_STATUS, CompanySpec
from reconciler.kinds.identity import match_company


def plan_independent(
    ctx: PlanContext, specs: Sequence[CompanySpec], configs: Mapping[str, ExtraFieldConfig]
) -> None:
    """Match every document first (identity, CONTRACT.md), then plan: a company matched by two
    documents, or a document with more than one candidate, is a plan error and nothing is
    created while it stands."""
    owner: dict[int, CompanySpec] = {}
    for spec in specs:
        found = match_company(
            spec.company_id, spec.uuid, spec.company_name, ctx.live.companies, ctx.live.store_hash
        )
        if found.problem is not None:
            ctx.issue(spec.loc_of(found.field), spec.resource, found.problem)
            continue
        company = found.company
        if company is not None:
            first = owner.setdefault(company.company_id, spec)
            if first is not spec:
                ctx.issue(
                    spec.loc_of(found.by or "companyName"),
                    spec.resource,
                    f"spec.{found.by}: finds company {company.company_id} "
                    f"({company.company_name!r}), which {first.resource} already manages; give "
                    "each document its own companyId",
                )
                continue
            ctx.matched[spec.resource] = company
        plan_company(ctx, spec, configs, company)


def plan_company(
    ctx: PlanContext,
    spec: CompanySpec,
    configs: Mapping[str, ExtraFieldConfig],
    live: LiveCompany | None,
) -> None:
    res = spec.resource
    holders = [c.company_id for c in ctx.by_group.get(spec.customer_group_id, ())]
    if ctx.behavior != "independent" and len(holders) > 1:
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
    moving = live.customer_group_id != spec.customer_group_id
    unknown = spec.customer_group_id not in ctx.live.customer_groups
    if ctx.behavior == "independent" and moving and unknown:
        ctx.issue(
            spec.loc_of("customerGroupId"),
            res,
            f"spec.customerGroupId: customer group {spec.customer_group_id} does not exist in "
            f"store {ctx.live.store_hash}; create the group in BigCommerce first or fix the id",
        )
        return
    independent = ctx.behavior == "independent"
    changes = company_changes(spec, live, configs, independent=independent)
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
        why = (
            "(no live company matches it by companyId, uuid or companyName)"
            if ctx.behavior == "independent"
            else "(no company exists for it yet)"
        )
        ctx.issue(
            spec.loc,
            res,
            f"{', '.join(missing)}: required to create the company for customer group {group} "
            + why,
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
    created = {
        "companyName",
        "companyEmail",
        "companyPhone",
        "extraFields",
        "catalogId",
        "customerGroupId",
    }
    all_changes = company_changes(spec, None, {}, independent=kind == "create")
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
    # The staleness check re-reads the companies of this group: the one it is in now.
    group = live.customer_group_id if live is not None else spec.customer_group_id

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
                customer_group_id=group,
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
            loc=lambda: spec.loc_of("extraFields"),
            what="company",
            required=live is not None,  # creation already demands every required field
        )
        if extras is None:
            return
        if extras:
            body["extraFields"] = extras
        add("update", body, "", update, _group_effects(ctx, update))
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


def _group_effects(ctx: PlanContext, update: Sequence[FieldChange]) -> tuple[str, ...]:
    """What a change of customer group does on an Independent store."""
    for change in update:
        if change.path == "customerGroupId":
            after = change.after
            others = len(ctx.by_group.get(after, ()))
            return (
                f"the company's users move from customer group {change.before} to {after} "
                "(their BigCommerce customer accounts follow the company) and so get the prices "
                f"of group {after}'s price list; {others} other compan"
                f"{'y is' if others == 1 else 'ies are'} in that group now",
            )
    return ()


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
