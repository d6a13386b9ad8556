"""Adopt a live store: write manifests that plan to nothing, and schemas naming its extra fields.

Import reads through the same live reader as plan, so "import then plan is empty" holds by
construction: every field written is one the differ compares, with the live value. Fields the
API cannot read back (address, admin, welcome e-mail) are left out with a comment saying why.
With ``--with-orders``, a company's users become an OrderAssignment; a customer whose orders do
not all sit in their company is left out (with a comment), since listing them would plan moves.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.api import ApiClient
from reconciler.errors import UsageError
from reconciler.kinds import registry
from reconciler.kinds.company import COMPANY
from reconciler.kinds.company_users import COMPANY_USERS
from reconciler.kinds.order_assignment import ORDER_ASSIGNMENT
from reconciler.kinds.price_list_assignment import PRICE_LIST_ASSIGNMENT
from reconciler.live import read_live
from reconciler.manifests import EMAIL_PATTERN, kind_names, schema_for, write_manifest_file
from reconciler.model import (
    API_VERSION,
    ExtraFieldConfig,
    LiveCompany,
    LiveUser,
    ManifestSet,
    StoreSpec,
)

COMPANY_NOTE = (
    "Imported from the live store. address, admin, userExtraFields and sendWelcomeEmail are\n"
    "used only to create a company and the API does not return them, so they are left out."
)


def slug(text: str, taken: set[str]) -> str:
    """A valid, unique ``metadata.name`` made from a display name."""
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:55].strip("-") or "company"
    name, n = base, 2
    while name in taken:
        name = f"{base}-{n}"
        n += 1
    taken.add(name)
    return name


def shared_groups(companies: Sequence[LiveCompany]) -> dict[int, list[int]]:
    """Customer groups held by more than one company (possible on Independent stores)."""
    by_group: dict[int, list[int]] = {}
    for company in companies:
        if company.customer_group_id:
            by_group.setdefault(company.customer_group_id, []).append(company.company_id)
    return {g: ids for g, ids in by_group.items() if len(ids) > 1}


def shared_group_reason(group: int, company_ids: Sequence[int]) -> str:
    """Why a shared group cannot be managed."""
    return (
        f"customer group {group} has {len(company_ids)} companies "
        f"({', '.join(map(str, company_ids))}); a Company manifest is identified by its "
        "customer group, so these companies cannot be managed"
    )


def guess_behavior(companies: Sequence[LiveCompany]) -> tuple[str, str]:
    """The Companies behavior the live companies show, and the evidence (b2b-api.md 3.8).

    A company without a customer group, or a group holding two companies, proves Independent
    (Dependent keeps group and company one to one). Two or more companies each with a group of
    its own point to Dependent, not conclusively. Fewer cannot tell: UsageError asking for
    ``--behavior``.
    """
    for company in companies:
        if not company.customer_group_id:
            return "independent", (
                f"company {company.company_id} has no customer group, which only Independent allows"
            )
    shared = shared_groups(companies)
    if shared:
        group, ids = next(iter(sorted(shared.items())))
        return "independent", (
            f"customer group {group} holds {len(ids)} companies "
            f"({', '.join(map(str, ids))}), which only Independent allows"
        )
    if len(companies) >= 2:
        return "dependent", (
            f"each of the {len(companies)} companies has a customer group of its own, as "
            "Dependent requires (not conclusive: an Independent store can look the same)"
        )
    raise UsageError(
        f"cannot tell the store's Companies behavior from {len(companies)} "
        f"compan{'y' if len(companies) == 1 else 'ies'} (no API reveals it); pass "
        "--behavior dependent or --behavior independent (B2B Edition control panel: Settings)"
    )


def _existing_names(existing: ManifestSet) -> set[str]:
    return {c.name for c in existing.companies} | {a.name for a in existing.assignments}


def _refuse_managed(existing: ManifestSet, groups: Sequence[int]) -> None:
    """``--group`` into a repository that already manages that group is refused."""
    for spec in existing.companies:
        if spec.customer_group_id in groups:
            where = spec.loc_of("customerGroupId")
            at = f" ({where.path}:{where.line})" if where else ""
            raise UsageError(
                f"--group {spec.customer_group_id}: already managed by {spec.resource}{at}; "
                "nothing was written"
            )


def import_manifests(
    client: ApiClient,
    out: Path,
    *,
    store_hash: str,
    behavior: str | None,
    multi_storefront: bool | None,
    groups: Sequence[int] = (),
    with_orders: bool = False,
    customers: Sequence[int] = (),
    force: bool = False,
    existing: ManifestSet | None = None,
) -> list[Path]:
    """Write manifests for the live store under ``out``; return the files written.

    ``existing``: the manifests already in ``out`` (with ``groups``): only the companies of
    those groups are added, with the repository's Store settings; its files are left as they are.
    """
    if existing is not None:
        _refuse_managed(existing, groups)
        if existing.store is not None:
            behavior = existing.store.companies_behavior or behavior
            multi_storefront = existing.store.multi_storefront
    everything, _total = client.b2b.list_companies()
    companies = [c for c in everything if c.customer_group_id]
    groupless = [c for c in everything if not c.customer_group_id and c.status != "deleted"]
    if behavior:
        mode = behavior
        behavior_note = "companiesBehavior was given on the command line (--behavior)."
    else:
        mode, evidence = guess_behavior(everything)
        behavior_note = (
            f"companiesBehavior {mode} was guessed (no API reveals it): {evidence}. Check it."
        )
    # Dependent: a Company is its group, so a shared group cannot be managed. Independent:
    # every company is written with its companyId, shared groups included.
    shared = shared_groups(companies) if mode != "independent" else {}
    if groups:
        missing = sorted(set(groups) - {c.customer_group_id for c in companies})
        if missing:
            raise UsageError(f"--group: no company for customer group(s) {missing}")
        for group in groups:
            if group in shared:
                raise UsageError(f"--group {group}: {shared_group_reason(group, shared[group])}")
        companies = [c for c in companies if c.customer_group_id in set(groups)]
    skipped = [c for c in companies if c.customer_group_id in shared]
    companies = [c for c in companies if c.customer_group_id not in shared]
    msf_note = "multiStorefront was given on the command line."
    if multi_storefront is None:  # B2B GET /channels answers 403 without Multi-Storefront
        multi_storefront = client.b2b.multi_storefront()
        msf_note = "multiStorefront was read from the API (GET /channels)."
    taken: set[str] = _existing_names(existing) if existing is not None else set()
    names = {c.company_id: slug(c.company_name, taken) for c in companies}
    files: dict[Path, tuple[list[dict[str, Any]], str]] = {}
    store_doc = {
        "apiVersion": API_VERSION,
        "kind": "Store",
        "metadata": {"name": slug(store_hash, set())},
        "spec": {
            "storeHash": store_hash,
            "companiesBehavior": mode,
            "multiStorefront": multi_storefront,
        },
    }
    note = f"Imported from the live store. {behavior_note}\n{msf_note}"
    for group in sorted({c.customer_group_id for c in skipped if c.customer_group_id}):
        note += "\nNot imported: " + shared_group_reason(group, shared[group])
    if groupless and not groups:
        note += (
            "\nNot imported (no customer group, which a Company manifest requires): "
            + ", ".join(f"{c.company_id} ({c.company_name})" for c in groupless)
        )
    if existing is None or existing.store is None:
        files[out / "store.yaml"] = ([store_doc], note)
    for company in companies:
        doc = COMPANY.document(
            company, names[company.company_id], behavior=mode, multi_storefront=multi_storefront
        )
        files[out / "companies" / f"{names[company.company_id]}.yaml"] = ([doc], COMPANY_NOTE)
    for path, docs, note in _company_users(client, out, companies, names, multi_storefront):
        files[path] = (docs, note)
    if mode == "independent" and companies:
        files.update(
            _price_lists(
                client,
                out,
                companies,
                files.get(out / "store.yaml"),
            )
        )
    if with_orders or customers:
        unsynced: list[str] = []
        found = _assignments(client, out, companies, names, customers, mode, unsynced)
        for path, docs, note in found:
            files[path] = (docs, note)
        if unsynced:
            # The Store file's note; when adding to an existing repository, the company's.
            where = out / "store.yaml"
            if where not in files:
                where = next(p for p in files if p.parent.name == "companies")
            docs, note = files[where]
            files[where] = (
                docs,
                note + "\nNot imported (their orders are in BigCommerce but not yet in B2B "
                "Edition, which syncs with a delay; import again later): " + "; ".join(unsynced),
            )
    clashes = [p for p in files if p.exists()]
    if clashes and not force:
        raise UsageError(
            f"{len(clashes)} file(s) already exist (first: {clashes[0]}); "
            "pass --force to overwrite them"
        )
    for path, (docs, note) in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_manifest_file(path, docs, header_comment=note, force=True)
    return list(files)


USERS_NOTE = (
    "Imported: every user of the company. sendWelcomeEmail is used only to create a user and\n"
    "is left out; users not listed here would be left alone."
)


def _company_users(
    client: ApiClient,
    out: Path,
    companies: Sequence[LiveCompany],
    names: Mapping[int, str],
    multi_storefront: bool,
) -> list[tuple[Path, list[dict[str, Any]], str]]:
    """One CompanyUsers file per imported company with users. A user a manifest cannot
    describe (no first or last name, an e-mail the schema refuses) is left out, with a note."""
    if not companies:
        return []
    users, _ = client.b2b.list_company_users()
    by_company: dict[int, list[LiveUser]] = {}
    for user in users:
        if user.company_id is not None and user.company_id in names:
            by_company.setdefault(user.company_id, []).append(user)
    email = re.compile(EMAIL_PATTERN)
    result = []
    for company_id, members in sorted(by_company.items()):
        keep = [u for u in members if u.first_name and u.last_name and email.match(u.email)]
        left = sorted(u.email or f"user {u.user_id}" for u in members if u not in keep)
        note = USERS_NOTE
        if left:
            note += "\nLeft out (no first or last name, or an unusable e-mail): " + ", ".join(left)
        if not keep:
            continue
        name = f"{names[company_id]}-users"
        doc = COMPANY_USERS.document(
            name, names[company_id], keep, multi_storefront=multi_storefront
        )
        result.append((out / "company-users" / f"{name}.yaml", [doc], note))
    return result


def _assignments(
    client: ApiClient,
    out: Path,
    companies: Sequence[LiveCompany],
    names: Mapping[int, str],
    only: Sequence[int],
    behavior: str,
    unsynced: list[str],
) -> list[tuple[Path, list[dict[str, Any]], str]]:
    """OrderAssignment files; customers with orders B2B Edition lacks go to ``unsynced``."""
    by_company: dict[int, list[int]] = {}
    for customer_id, company_id, _ in client.b2b.list_users():
        if company_id is not None and company_id in names and (not only or customer_id in only):
            by_company.setdefault(company_id, []).append(customer_id)
    if not by_company:
        return []
    probe = ManifestSet(
        store=StoreSpec(name="import", companies_behavior=behavior),  # type: ignore[arg-type]
        specs=tuple(
            ORDER_ASSIGNMENT.spec_for(f"{names[c]}-buyers", names[c], sorted(ids))
            for c, ids in by_company.items()
        ),
    )
    live = read_live(client, probe)
    result = []
    for company_id, ids in sorted(by_company.items()):
        keep, left = [], []
        for customer_id in sorted(ids):
            customer = live.customers.get(customer_id)
            order_ids = customer.order_ids if customer else ()
            lagging = [o for o in order_ids if o not in live.orders]
            orders = [live.orders[o] for o in order_ids if o in live.orders]
            if lagging:  # core has them, B2B Edition not yet (b2b-api.md §9.13)
                unsynced.append(
                    f"customer {customer_id} of {names[company_id]} "
                    f"(orders {', '.join(map(str, lagging))})"
                )
            elif orders and all(o.company_id == company_id for o in orders):
                keep.append(customer_id)
            elif orders:
                left.append(customer_id)
        if not keep:
            continue
        name = f"{names[company_id]}-buyers"
        note = "Imported: customers whose orders all belong to this company."
        if left:
            note += (
                f"\nLeft out (some of their orders sit elsewhere; adding them plans moves): "
                f"{', '.join(map(str, left))}"
            )

        doc = ORDER_ASSIGNMENT.document(name, names[company_id], keep)
        result.append((out / "order-assignments" / f"{name}.yaml", [doc], note))
    return result


def _price_lists(
    client: ApiClient,
    out: Path,
    companies: Sequence[LiveCompany],
    store_file: tuple[list[dict[str, Any]], str] | None,
) -> dict[Path, tuple[list[dict[str, Any]], str]]:
    """Independent stores: a PriceListAssignment per price-list assignment of the imported
    companies' groups (one per group and channel); one without a channel (the group's list on
    every channel) cannot be written as one and is named in the Store file's note instead."""
    groups = sorted({c.customer_group_id for c in companies if c.customer_group_id})
    found = client.core.price_list_assignments(customer_group_ids=groups)
    files: dict[Path, tuple[list[dict[str, Any]], str]] = {}
    left: list[str] = []
    note = (
        "Imported: the price list this customer group uses on this channel. Every company in "
        "the group gets these prices."
    )
    for assignment in found:
        group, channel = assignment.customer_group_id, assignment.channel_id
        if group is None or group not in groups:
            continue
        if channel is None:
            left.append(
                f"assignment {assignment.assignment_id} (price list {assignment.price_list_id} "
                f"for customer group {group} on every channel)"
            )
            continue
        name = f"group-{group}" + (f"-channel-{channel}" if channel != 1 else "")
        doc = PRICE_LIST_ASSIGNMENT.document(name, assignment)
        files[out / "price-lists" / f"{name}.yaml"] = ([doc], note)
    if left and store_file is not None:
        docs, text = store_file
        files[out / "store.yaml"] = (
            docs,
            text + "\nNot imported (a PriceListAssignment names one channel): " + "; ".join(left),
        )
    return files


# --------------------------------------------------------------------------- schemas


def _extra_schema(config: ExtraFieldConfig) -> dict[str, Any]:
    label = config.label or config.name
    prop: dict[str, Any] = {"description": f"{label} (store extra field, {config.field_type})"}
    if config.field_type == 2:
        prop["type"] = ["number", "string"]
        prop["pattern"] = r"^-?[0-9]+(\.[0-9]+)?$"
        if config.maximum_value is not None:
            prop["maximum"] = config.maximum_value
    elif config.field_type == 3 and config.list_of_values:
        prop["enum"] = list(config.list_of_values)
    else:
        prop["type"] = ["string", "number"]
        if config.max_length is not None:
            prop["maxLength"] = config.max_length
    prop["description"] = f"{label}: {_TYPES.get(config.field_type, 'text')} extra field" + (
        ", required by the store to create" if config.required else ""
    )
    return prop


_TYPES = {0: "text", 1: "multi-line text", 2: "number", 3: "dropdown"}


def _with_extras(
    schema: dict[str, Any], configs: Sequence[ExtraFieldConfig], *, require: bool
) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    extra = out["properties"]["spec"]["properties"].get("extraFields")
    if extra is None:
        return out
    extra["type"] = "object"
    extra["properties"] = {c.name: _extra_schema(c) for c in configs}
    extra["additionalProperties"] = False
    if require:
        required = [c.name for c in configs if c.required]
        if required:
            extra["required"] = required
    return out


def store_schemas(client: ApiClient) -> dict[str, dict[str, Any]]:
    """Schemas of every kind in which the store's extra fields are named and typed."""
    schemas = {kind: schema_for(kind) for kind in kind_names()}
    configs = {
        "company": client.b2b.company_extra_fields(),
        "order": client.b2b.order_extra_fields(),
    }
    for kind in registry():
        if kind.extra_field_set is not None:
            schemas[kind.name] = _with_extras(
                schemas[kind.name], configs[kind.extra_field_set], require=True
            )
    return schemas
