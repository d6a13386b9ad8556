"""Turn desired resources and a live snapshot into a Plan. Pure: no I/O.

Companies are matched to live companies by ``customerGroupId``. A missing company is converted
from its group (Dependent without Multi-Storefront) or created for it (Independent). Every field a
spec names is enforced with the fewest calls: one ``update`` with only the changed fields, then
``setStatus`` and ``setCatalog`` which have endpoints of their own. ``uuid`` cannot be set at
creation, so a new company with a ``uuid`` gets a follow-up ``update``.

Orders of customers in OrderAssignments: a member's company-less orders, to be in the member's own
company, are attached with ``assign``; orders sitting in another company are moved with
``reassign`` (Dependent only; it moves every order of the customer to the group's company).

Every problem that would make apply fail is found here, all at once, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from reconciler.diff import company_changes, extra_text, order_changes, price_list_json
from reconciler.errors import PlanError
from reconciler.model import (
    Action,
    ActionType,
    CompanySpec,
    ExtraFieldConfig,
    ExtraValue,
    FieldChange,
    Issue,
    LiveCompany,
    LiveCustomer,
    LiveState,
    Location,
    ManifestSet,
    OrderAssignmentSpec,
    OrderSpec,
    Plan,
    Preconditions,
    Request,
    StoreInfo,
    status_code,
)

CREATED_STATUS = "approved"
"""The status a company gets when created through the API (convert or create)."""
WATERMARK_MARGIN = 300
"""Seconds subtracted from the read time to absorb clock skew between us and the API."""
FIELD_TYPES = {0: "text", 1: "multi-line text", 2: "number", 3: "dropdown"}


@dataclass
class _Builder:
    manifests: ManifestSet
    live: LiveState
    behavior: str
    msf: bool
    actions: list[Action] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    creating: dict[str, str] = field(default_factory=dict)
    """Company resource -> id of the action that creates it."""
    by_group: dict[int | None, list[LiveCompany]] = field(default_factory=dict)
    """Live companies per customer group, in read order (what ``company_for_group`` scans)."""
    by_id: dict[int, LiveCompany] = field(default_factory=dict)
    specs: dict[str, CompanySpec] = field(default_factory=dict)
    """Company documents by ``metadata.name`` (the first of a name, as ``company_named``)."""

    def __post_init__(self) -> None:
        # Indexes, so that planning stays linear in the number of companies.
        for company in self.live.companies:
            self.by_group.setdefault(company.customer_group_id, []).append(company)
            self.by_id.setdefault(company.company_id, company)
        for spec in self.manifests.companies:
            self.specs.setdefault(spec.name, spec)

    def company_for_group(self, group_id: int) -> LiveCompany | None:
        """The (first) live company of a customer group."""
        holders = self.by_group.get(group_id)
        return holders[0] if holders else None

    def issue(self, loc: Location | None, resource: str, message: str) -> None:
        self.issues.append(Issue.at(loc, resource, message))


def build_plan(
    manifests: ManifestSet,
    live: LiveState,
    *,
    created_at: str,
    targets: Sequence[str] = (),
) -> Plan:
    """Plan the calls that make the live store match the manifests; raise PlanError if it can't."""
    store = manifests.store
    behavior = (store.companies_behavior if store else None) or "dependent"
    msf = bool(store and store.multi_storefront)
    b = _Builder(manifests, live, behavior, msf)
    company_configs = {c.name: c for c in live.company_field_configs}
    order_configs = {c.name: c for c in live.order_field_configs}
    for spec in manifests.companies:
        _plan_company(b, spec, company_configs)
    for assignment in manifests.assignments:
        _plan_assignment(b, assignment)
    for order in manifests.orders:
        _plan_order(b, order, order_configs)
    if b.issues:
        raise PlanError(sorted(b.issues))
    recorded = recorded_live(manifests, live)
    actions = _select_targets(b.actions, targets)
    managed_groups = {c.customer_group_id for c in manifests.companies}
    managed_live = sum(1 for c in live.companies if c.customer_group_id in managed_groups)
    total = live.company_total if live.company_total is not None else len(live.companies)
    unmanaged = max(0, total - managed_live)
    managed = (
        len(manifests.companies)
        + sum(len(a.customer_ids) for a in manifests.assignments)
        + len(manifests.orders)
    )
    return Plan(
        created_at=created_at,
        store=StoreInfo(
            hash=live.store_hash,
            companies_behavior=behavior,
            multi_storefront=msf,
            requests_per_minute=store.requests_per_minute if store else 120,
            max_change_percent=store.max_change_percent if store else 30,
        ),
        manifest_digest=manifests.digest,
        actions=tuple(actions),
        preconditions=_preconditions(actions, recorded, b.by_id),
        unmanaged_companies=unmanaged,
        managed_objects=managed,
        warnings=tuple(b.warnings),
        targets=tuple(targets),
        live=recorded,
    )


def recorded_live(manifests: ManifestSet, live: LiveState) -> LiveState:
    """The part of ``live`` the planner looks at for these manifests, kept in a saved plan.

    ``build_plan(manifests, recorded_live(manifests, live))`` is the same plan as
    ``build_plan(manifests, live)``: the companies of managed groups (all of them, in read
    order) and those holding orders or users the plan names; the managed groups' existence;
    every price list, channel, extra-field config, customer and order that was read; the total
    of companies (for the unmanaged count) and the read time (for the watermark).
    """
    groups = {c.customer_group_id for c in manifests.companies}
    held = {o.company_id for o in live.orders.values()} | {
        c.company_id for c in live.customers.values()
    }
    companies = tuple(
        c for c in live.companies if c.customer_group_id in groups or c.company_id in held
    )
    total = live.company_total if live.company_total is not None else len(live.companies)
    return replace(
        live,
        companies=companies,
        customer_groups=frozenset(g for g in live.customer_groups if g in groups),
        requests=0,
        company_total=total,
    )


# --------------------------------------------------------------------------- companies


def _plan_company(b: _Builder, spec: CompanySpec, configs: Mapping[str, ExtraFieldConfig]) -> None:
    live = b.company_for_group(spec.customer_group_id)
    res = spec.resource
    holders = [c.company_id for c in b.by_group.get(spec.customer_group_id, ())]
    if len(holders) > 1:
        b.issue(
            spec.loc_of("customerGroupId"),
            res,
            f"spec.customerGroupId: customer group {spec.customer_group_id} has "
            f"{len(holders)} companies ({', '.join(map(str, holders))}); a Company is "
            "identified by its customer group, so this one is ambiguous. Move all but one "
            "company to another group, or leave this group unmanaged",
        )
        return
    _check_prices(b, spec)
    if spec.extra_fields is not None or live is None:
        _check_extra_fields(
            b,
            spec.extra_fields or {},
            configs,
            creating=live is None,
            resource=res,
            loc_of=spec.loc_of,
            what="company",
        )
    if live is None:
        _plan_creation(b, spec, configs)
        return
    changes = company_changes(spec, live, configs)
    _plan_company_updates(b, spec, live, changes, configs, after=None)


def _plan_creation(b: _Builder, spec: CompanySpec, configs: Mapping[str, ExtraFieldConfig]) -> None:
    res = spec.resource
    group = spec.customer_group_id
    if group not in b.live.customer_groups:
        b.issue(
            spec.loc_of("customerGroupId"),
            res,
            f"spec.customerGroupId: customer group {group} does not exist in store "
            f"{b.live.store_hash}; create the group in BigCommerce first or fix the id",
        )
        return
    if b.behavior == "dependent" and b.msf:
        b.issue(
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
    if b.behavior == "independent":
        missing = [m for m in missing if m != "spec.admin.phoneNumber"]
        if admin is not None:
            missing += [
                f"spec.admin.{k}"
                for k, v in (("firstName", admin.first_name), ("lastName", admin.last_name))
                if not v
            ]
    if missing:
        b.issue(
            spec.loc,
            res,
            f"{', '.join(missing)}: required to create the company for customer group {group}"
            " (no company exists for it yet)",
        )
        return
    assert admin is not None
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
        body["extraFields"] = _extra_list(spec.extra_fields)
    if spec.user_extra_fields:
        body["userExtraFields"] = _extra_list(spec.user_extra_fields)
    body["acceptCreationEmail"] = spec.send_welcome_email
    kind: ActionType
    if b.behavior == "dependent":
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
    b.actions.append(
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
    b.creating[res] = action_id
    # What creation cannot set is set right after it.
    rest = tuple(c for c in all_changes if c.path.split(".")[0] not in created)
    rest = tuple(c for c in rest if not (c.path == "status" and c.after == CREATED_STATUS))
    _plan_company_updates(b, spec, None, rest, configs, after=action_id)


def _plan_company_updates(
    b: _Builder,
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
        b.actions.append(
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
        before = live.extra_fields if live else _texts(spec.extra_fields or {})
        extras = _complete_extras(
            b,
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
            if b.behavior != "dependent" or b.msf:
                b.issue(
                    spec.loc_of("catalogId"),
                    res,
                    "spec.catalogId: a company's catalog can be set only on Dependent stores "
                    "without Multi-Storefront; remove catalogId",
                )
                continue
            effect = "the company's buyers see the prices of the new price list"
            add("setCatalog", {"catalogId": str(change.after)}, "/catalogs", (change,), (effect,))


def _complete_extras(
    b: _Builder,
    changed: Mapping[str, ExtraValue],
    configs: Mapping[str, ExtraFieldConfig],
    before: Mapping[str, str],
    *,
    resource: str,
    loc: Location | None,
    what: str,
    required: bool = True,
) -> list[dict[str, str]] | None:
    """The ``extraFields`` of a company or order PUT: the complete set, or ``[]`` for none.

    Two readings of the docs decide this (b2b-api.md §9.3, §9.12): a PUT's ``extraFields`` may
    merge into the object's set or replace it, and the store's required fields may have to be in
    every PUT ("you must include the field's name and value in the extraFields array"). What is
    right under all of them: every PUT sends every value the object has (its live values, with
    the manifest's over them), so that nothing is lost when the array replaces the set and the
    required fields are always there. Left out: empty values (company ``fieldValue`` is
    ``minLength: 1``, and an empty field reads the same whether kept or dropped) and values of
    fields the store no longer configures (the API would refuse them). A carried value the
    store's configs now refuse, or a required field with no value anywhere, is a plan error:
    no request would be right. ``None``: such an error was reported.
    """
    full = {k: v for k, v in before.items() if v != "" and k in configs and k not in changed}
    ok = True
    for name, value in sorted(full.items()):
        problem = _value_problem(configs[name], value)
        if problem:
            ok = False
            b.issue(
                loc,
                resource,
                f"spec.extraFields.{name}: the {what}'s current value {value!r} {problem} now, "
                f"and every {what} update must send it back; set a valid value here",
            )
    full.update(_texts(changed))
    for config in configs.values() if required else ():
        if config.required and not full.get(config.name):
            ok = False
            b.issue(
                loc,
                resource,
                f"spec.extraFields.{config.name}: required by the store, so every {what} update "
                f"must carry it, and the {what} has no value; add a value",
            )
    if not ok:
        return None
    return [{"fieldName": k, "fieldValue": full[k]} for k in sorted(full)]


def _texts(values: Mapping[str, ExtraValue]) -> dict[str, str]:
    return {k: extra_text(v) for k, v in values.items()}


def _status_effects(status: str) -> tuple[str, ...]:
    if status in ("inactive", "rejected"):
        return (f"users of a {status} company can no longer log in to the Buyer Portal",)
    return ()


def _check_prices(b: _Builder, spec: CompanySpec) -> None:
    if spec.catalog_id is not None and spec.catalog_id != "":
        try:
            known = int(spec.catalog_id) in b.live.price_lists
        except ValueError:
            known = False
        if not known:
            b.issue(
                spec.loc_of("catalogId"),
                spec.resource,
                f"spec.catalogId: price list {spec.catalog_id} does not exist in store "
                f"{b.live.store_hash}; create it in BigCommerce or fix the id",
            )
    for i, pair in enumerate(spec.price_list_assign or ()):
        if pair.price_list_id not in b.live.price_lists:
            b.issue(
                spec.loc_of(f"priceListAssign.{i}"),
                spec.resource,
                f"spec.priceListAssign[{i}].priceListId: price list {pair.price_list_id} does "
                f"not exist in store {b.live.store_hash}",
            )
        if b.live.channels and pair.channel_id not in b.live.channels:
            b.issue(
                spec.loc_of(f"priceListAssign.{i}"),
                spec.resource,
                f"spec.priceListAssign[{i}].channelId: channel {pair.channel_id} does not "
                f"exist in store {b.live.store_hash}",
            )


def _extra_list(values: Mapping[str, ExtraValue]) -> list[dict[str, str]]:
    return [{"fieldName": k, "fieldValue": extra_text(v)} for k, v in values.items()]


def _value_problem(config: ExtraFieldConfig, text: str) -> str | None:
    """Why the store would refuse ``text`` for this field (as the API would: 422), or None."""
    if config.field_type == 2:
        try:
            number = float(text)
        except ValueError:
            return "is not a number (field type number)"
        if config.maximum_value is not None and number > config.maximum_value:
            return f"exceeds the maximum {config.maximum_value:g}"
    elif config.field_type == 3 and config.list_of_values and text not in config.list_of_values:
        allowed = ", ".join(repr(v) for v in config.list_of_values)
        return f"is not one of {allowed}"
    if config.max_length is not None and len(text) > config.max_length:
        return f"has {len(text)} characters, the store allows at most {config.max_length}"
    return None


def _check_extra_fields(
    b: _Builder,
    values: Mapping[str, ExtraValue],
    configs: Mapping[str, ExtraFieldConfig],
    *,
    creating: bool,
    resource: str,
    loc_of: Callable[[str], Location | None],
    what: str,
) -> None:
    """Check extra-field values against the store's configs, as the API would (422)."""
    for name, value in values.items():
        loc = loc_of(f"extraFields.{name}")
        config = configs.get(name)
        prefix = f"spec.extraFields.{name}"
        if config is None:
            known = ", ".join(sorted(configs)) or "none"
            b.issue(
                loc,
                resource,
                f"{prefix}: the store has no {what} extra field named {name!r} "
                f"(configured: {known}); add it in B2B Edition settings or remove it",
            )
            continue
        text = extra_text(value)
        if text == "" and what == "company":
            # company.yaml declares fieldValue `minLength: 1` (b2b-api.md §9.15): "" may be
            # refused, and no documented request clears a value under every reading.
            b.issue(
                loc,
                resource,
                f"{prefix}: an empty value cannot be sent (the API requires company extra-field "
                "values of at least one character, so it cannot clear one); remove the field "
                "to leave it unmanaged, or clear it in the B2B Edition control panel",
            )
            continue
        if text == "":
            continue  # clearing an order field: order.yaml sets no minimum length
        if config.field_type == 2:
            try:
                number = float(text)
            except ValueError:
                b.issue(loc, resource, f"{prefix}: must be a number (field type number)")
                continue
            if config.maximum_value is not None and number > config.maximum_value:
                b.issue(
                    loc, resource, f"{prefix}: {text} exceeds the maximum {config.maximum_value:g}"
                )
        elif config.field_type == 3 and config.list_of_values and text not in config.list_of_values:
            allowed = ", ".join(repr(v) for v in config.list_of_values)
            b.issue(loc, resource, f"{prefix}: {text!r} is not one of {allowed}")
        if config.max_length is not None and len(text) > config.max_length:
            b.issue(
                loc,
                resource,
                f"{prefix}: {len(text)} characters, the store allows at most {config.max_length}",
            )
    if creating:
        for config in configs.values():
            if config.required and config.name not in values:
                b.issue(
                    loc_of("extraFields"),
                    resource,
                    f"spec.extraFields.{config.name}: required by the store to create a {what}; "
                    "add a value",
                )


# --------------------------------------------------------------------------- orders


def _plan_assignment(b: _Builder, spec: OrderAssignmentSpec) -> None:
    company_spec = b.specs.get(spec.company)
    if company_spec is None:  # validate catches this; keep the planner total
        b.issue(spec.loc_of("company"), spec.resource, f"spec.company: no Company {spec.company!r}")
        return
    target_res = company_spec.resource
    group = company_spec.customer_group_id
    target = b.company_for_group(group)
    converting = b.creating.get(target_res)
    if target is None and converting is None:
        return  # the company could not be planned; its issue is already reported
    for i, customer_id in enumerate(spec.customer_ids):
        customer = b.live.customers.get(customer_id)
        loc = spec.loc_of(f"customerIds.{i}")
        if customer is None:
            b.issue(loc, spec.resource, f"spec.customerIds[{i}]: customer {customer_id} not found")
            continue
        unsynced = [o for o in customer.order_ids if o not in b.live.orders]
        if unsynced:
            b.warnings.append(
                f"{spec.resource}: order(s) {', '.join(map(str, unsynced))} of customer "
                f"{customer_id} are in BigCommerce but not (yet) in B2B Edition, so they cannot "
                "be checked or moved now; B2B Edition syncs new orders with a delay: plan "
                "again later (if this stays, check them in the B2B Edition control panel)"
            )
        if customer.company_id is None and not customer.order_ids:
            b.warnings.append(
                f"{spec.resource}: customer {customer_id} has no orders and is not a company "
                "user; nothing to move (check the id if you expected orders)"
            )
        _plan_customer(b, spec, customer, target, target_res, converting, group, loc, i)


def _plan_customer(
    b: _Builder,
    spec: OrderAssignmentSpec,
    customer: LiveCustomer,
    target: LiveCompany | None,
    target_res: str,
    converting: str | None,
    group: int,
    loc: Location | None,
    index: int,
) -> None:
    target_id = target.company_id if target else None
    orders = [b.live.orders[o] for o in customer.order_ids if o in b.live.orders]
    misplaced = [o for o in orders if target_id is None or o.company_id != target_id]
    if not misplaced:
        return
    cid = customer.customer_id
    field_name = f"spec.customerIds[{index}]"
    if customer.company_id is None:
        b.issue(
            loc,
            spec.resource,
            f"{field_name}: customer {cid} is not a company user, so B2B Edition cannot move "
            f"their orders; add them as a user of {target_res} (or any company) first",
        )
        return
    loose = [o for o in misplaced if o.company_id is None]
    foreign = [o for o in misplaced if o.company_id is not None]
    member_of_target = target_id is not None and customer.company_id == target_id
    kind: ActionType
    if member_of_target and not foreign:
        kind = "assign"
        request = Request("PUT", f"/customers/{cid}/orders/b2b", {})
        moved = loose
    elif b.behavior != "dependent":
        where = sorted({o.company_id for o in foreign if o.company_id is not None})
        b.issue(
            loc,
            spec.resource,
            f"{field_name}: orders of customer {cid} sit in company {where or customer.company_id}"
            " and can be moved only by reassign, which Independent stores do not support; "
            "move them in the B2B Edition control panel or remove the customer here",
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
        src = "no company" if o.company_id is None else f"company {_company_label(b, o.company_id)}"
        sources[src] = sources.get(src, 0) + 1
    effects = [
        f"{len(moved)} order(s) of customer {cid} move to {target_res}: "
        + ", ".join(f"{n} from {src}" for src, n in sorted(sources.items()))
    ]
    if kind == "reassign":
        effects.append(
            f"reassign moves every order of customer {cid}, including orders placed after "
            "this plan; the customer stays a user of their current company"
        )
    b.actions.append(
        Action(
            id=f"{spec.resource}:{kind}:{cid}",
            type=kind,
            resource=spec.resource,
            request=request,
            depends_on=(converting,) if converting else (),
            changes=changes,
            side_effects=tuple(effects),
            customer_group_id=group,
            company_id=target_id,
            customer_id=cid,
            target_company=target_res,
        )
    )


def _company_label(b: _Builder, company_id: int) -> str:
    live = b.by_id.get(company_id)
    return f"{live.company_name!r} ({company_id})" if live else str(company_id)


def _plan_order(b: _Builder, spec: OrderSpec, configs: Mapping[str, ExtraFieldConfig]) -> None:
    live = b.live.orders.get(spec.bc_order_id)
    if live is None and spec.bc_order_id in b.live.core_only_orders:
        b.warnings.append(
            f"{spec.resource}: order {spec.bc_order_id} is in BigCommerce but not (yet) in B2B "
            "Edition, so nothing is planned for it now; B2B Edition syncs new orders with a "
            "delay: plan again later (if this stays, check the order in the B2B Edition "
            "control panel)"
        )
        return
    if live is None:
        b.issue(
            spec.loc_of("bcOrderId"),
            spec.resource,
            f"spec.bcOrderId: order {spec.bc_order_id} does not exist in B2B Edition",
        )
        return
    if spec.extra_fields:
        _check_extra_fields(
            b,
            spec.extra_fields,
            configs,
            creating=False,
            resource=spec.resource,
            loc_of=spec.loc_of,
            what="order",
        )
    changes = order_changes(spec, live, configs)
    if not changes:
        return
    body: dict[str, object] = {}
    extra: dict[str, ExtraValue] = {}
    for change in changes:
        head, _, rest = change.path.partition(".")
        if head == "extraFields":
            extra[rest] = change.after
        else:
            body[head] = change.after
    # The complete set, required fields included, on every update (even poNumber-only).
    extras = _complete_extras(
        b,
        extra,
        configs,
        live.extra_fields,
        resource=spec.resource,
        loc=spec.loc_of("extraFields"),
        what="order",
    )
    if extras is None:
        return
    if extras:
        body["extraFields"] = extras
    b.actions.append(
        Action(
            id=f"{spec.resource}:updateOrder",
            type="updateOrder",
            resource=spec.resource,
            request=Request("PUT", f"/orders/{spec.bc_order_id}", body),
            changes=changes,
            bc_order_id=spec.bc_order_id,
        )
    )


# --------------------------------------------------------------------------- plan assembly


def _select_targets(actions: list[Action], targets: Sequence[str]) -> list[Action]:
    """Keep the actions of the targeted resources and everything they depend on."""
    if not targets:
        return actions
    wanted = {t.lower() for t in targets}
    by_id = {a.id: a for a in actions}
    keep: set[str] = set()
    stack = [a.id for a in actions if a.resource in wanted]
    while stack:
        current = stack.pop()
        if current in keep:
            continue
        keep.add(current)
        stack.extend(by_id[current].depends_on)
    return [a for a in actions if a.id in keep]


def _preconditions(
    actions: Iterable[Action], live: LiveState, by_id: Mapping[int, LiveCompany]
) -> Preconditions:
    companies: dict[int, int] = {}
    orders: dict[int, int] = {}
    customers: dict[int, int | None] = {}
    free: set[int] = set()
    for action in actions:
        if action.type in ("convert", "create") and action.customer_group_id is not None:
            free.add(action.customer_group_id)
        if action.company_id is not None:
            company = by_id.get(action.company_id)
            if company is not None:
                companies[company.company_id] = company.updated_at
        if action.bc_order_id is not None and action.bc_order_id in live.orders:
            orders[action.bc_order_id] = live.orders[action.bc_order_id].updated_at
        if action.customer_id is not None:
            customer = live.customers[action.customer_id]
            customers[customer.customer_id] = customer.user_updated_at
            for order_id in customer.order_ids:
                if order_id in live.orders:
                    orders[order_id] = live.orders[order_id].updated_at
    return Preconditions(
        watermark=max(0, live.read_at - WATERMARK_MARGIN),
        companies=companies,
        free_groups=tuple(sorted(free)),
        orders=orders,
        customers=customers,
    )


__all__ = ["CREATED_STATUS", "build_plan", "price_list_json", "recorded_live"]
