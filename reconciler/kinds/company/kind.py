"""The Company kind: document checks, read needs, planning, sending, verification, import."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.diff import same_value
from reconciler.kinds.base import ActionInfo, ApplyRun, Kind, PlanContext
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
    lost_extras,
)
from reconciler.kinds.listing import listing_cheaper, pages, read_listed
from reconciler.model import (
    API_VERSION,
    COMPANY_LIST_PAGE,
    Action,
    LiveCompany,
    LiveState,
    PriceListAssignment,
    ReadNeeds,
    Request,
    StoreSpec,
)

if TYPE_CHECKING:
    from reconciler.api import ApiClient
from reconciler.kinds.company.compare import company_field
from reconciler.kinds.company.create import create_company, creation_reads
from reconciler.kinds.company.plan import plan_company, plan_independent
from reconciler.kinds.company.spec import AdminSpec, CompanySpec
from reconciler.kinds.identity import name_key


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
        """Dependent: one company per customer group. Independent: one document per companyId,
        and documents without one must not find the same company by uuid or name.
        companiesBehavior decides catalogId vs priceListAssign."""
        behavior = store.field("companiesBehavior") if store else None
        if behavior == "independent":
            _check_independent_identity(docs, issues)
        else:
            unique_field(docs, "customerGroupId", "customer group {} is already used by", issues)
            for company in docs:
                if "companyId" in company.spec() and behavior == "dependent":
                    issues.add(
                        company.at("companyId"),
                        company.resource,
                        "spec.companyId: only for companiesBehavior: independent; on a "
                        "Dependent store a company is identified by its customerGroupId, so "
                        "remove companyId",
                    )
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
            company_id=spec.get("companyId"),
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
        independent = bool(store and store.companies_behavior == "independent")
        return ReadNeeds(
            every_company=independent and bool(specs),
            groups=tuple(dict.fromkeys(c.customer_group_id for c in specs)),
            company_extra_fields=bool(specs),
            price_lists=any(bool(c.catalog_id) or bool(c.price_list_assign) for c in specs),
            channels=msf and any(bool(c.price_list_assign) for c in specs),
        )

    def unmanaged(self, specs: Sequence[CompanySpec], ctx: PlanContext) -> int:
        """Companies in the store that no document manages: outside the managed customer
        groups (Dependent), or matched by no document (Independent)."""
        live = ctx.live
        total = live.company_total if live.company_total is not None else len(live.companies)
        if ctx.behavior == "independent":
            return max(0, total - len({c.company_id for c in ctx.matched.values()}))
        managed_groups = {c.customer_group_id for c in specs}
        managed_live = sum(1 for c in live.companies if c.customer_group_id in managed_groups)
        return max(0, total - managed_live)

    def plan(self, specs: Sequence[CompanySpec], ctx: PlanContext) -> None:
        """Convert or create missing companies, then update what differs."""
        configs = {c.name: c for c in ctx.live.company_field_configs}
        if ctx.behavior == "independent":
            plan_independent(ctx, specs, configs)
            return
        for spec in specs:
            live = ctx.company_for_group(spec.customer_group_id)
            if live is not None:
                ctx.matched[spec.resource] = live
            plan_company(ctx, spec, configs, live)

    def apply_requests(
        self, actions: Sequence[Action], live: LiveState | None = None, every: Sequence[Action] = ()
    ) -> int:
        """Each write; the reads around converts and creates (``creation_reads``: right before
        them, that the company is still absent, one listing for a run of converts when that is
        cheaper; right after, that the API named the right company, where a later action uses
        its id); in verification, the touched companies: one listing of those modified since
        apply started when that is cheaper than one read per company."""
        touched = len({a.resource for a in actions})
        reads = creation_reads(every or actions)
        return len(actions) + reads + _verify_requests(touched)

    def send(
        self, client: ApiClient, action: Action, request: Request, run: ApplyRun
    ) -> tuple[str, int | None]:
        """Send a PUT; a convert/create at most once per proven absence of the company."""
        if action.type in ("convert", "create"):
            company_id, message = create_company(client, action, request, run)
            return message, company_id
        return super().send(client, action, request, run)

    def verify(self, client: ApiClient, actions: Sequence[Action], run: ApplyRun) -> list[str]:
        """Read each touched company once (from one listing of the companies modified since
        apply started, when that is cheaper; one by one otherwise, and for any the listing
        misses): every change and every carried extra field."""
        problems: list[str] = []
        by_company: dict[str, list[Action]] = {}
        for action in actions:
            by_company.setdefault(action.resource, []).append(action)
        ids = {resource: run.outputs[resource] for resource in by_company}
        listed: dict[int, LiveCompany] = {}
        since = run.since
        if since is not None:
            listed = read_listed(
                set(ids.values()),
                len(ids),
                COMPANY_LIST_PAGE,
                lambda: client.b2b.companies_page(min_modified=since),
                lambda first: client.b2b.rest_of_companies(first, min_modified=since)[0],
                lambda c: c.company_id,
            )
        for resource, touched in by_company.items():
            company = listed.get(ids[resource]) or client.b2b.get_company(ids[resource])
            for action in touched:
                group = action.customer_group_id
                if action.type == "convert" and company.customer_group_id != group:
                    # A convert's id is confirmed here when no later action used it.
                    problems.append(
                        f"inconsistent result after apply: {resource} is company "
                        f"{company.company_id} in customer group {company.customer_group_id}, "
                        f"expected customer group {group} ({action.id})"
                    )
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
            "companyId": company.company_id if behavior == "independent" else None,
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
        values = {k: v for k, v in sorted(company.extra_fields.items()) if v != ""}
        if values:
            spec["extraFields"] = values
        spec = {k: v for k, v in spec.items() if v is not None}
        return {
            "apiVersion": API_VERSION,
            "kind": self.name,
            "metadata": {"name": name},
            "spec": spec,
        }


def _verify_requests(companies: int) -> int:
    """Reads of ``companies`` touched companies in verification (``read_listed``)."""
    if listing_cheaper(companies, companies, COMPANY_LIST_PAGE):
        return pages(companies, COMPANY_LIST_PAGE)
    return companies


def _check_independent_identity(docs: Sequence[Checked], issues: Issues) -> None:
    """Independent stores: each companyId is named once, and documents without one must not
    find the same company by uuid or by name (two such documents would manage one company, or
    create two that no document could tell apart)."""
    unique_field(docs, "companyId", "company {} is already named by", issues)
    seen: dict[tuple[str, str], Checked] = {}
    for company in docs:
        if company.field("companyId") is not None:
            continue
        for key in ("uuid", "companyName"):
            value = company.field(key)
            if not isinstance(value, str) or not value.strip():
                continue
            first = seen.setdefault((key, name_key(value)), company)
            if first is not company:
                there = first.doc.loc(("spec", key))
                issues.add(
                    company.at(key),
                    company.resource,
                    f"spec.{key}: {value!r} is also the {key} of {first.resource} "
                    f"({there.path}:{there.line}); without companyId both would find the same "
                    "company (or create two alike); give them their companyId",
                )


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


COMPANY = CompanyKind()
"""The Company kind."""
