"""How a Company spec and a live company compare: projections onto the fields the spec names,
normalized as ``reconciler.diff`` describes, and the live value at a change path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reconciler.diff import changes, extra_text, price_list_json, same_extra
from reconciler.model import (
    ExtraFieldConfig,
    FieldChange,
    LiveCompany,
)

if TYPE_CHECKING:
    pass
from reconciler.kinds.company.spec import CompanySpec


def _project_company(
    spec: CompanySpec,
    live: LiveCompany | None,
    configs: Mapping[str, ExtraFieldConfig],
    independent: bool,
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
    if independent:  # an ordinary field there; the identity on Dependent stores
        want["customerGroupId"] = spec.customer_group_id
        if live is not None:
            have["customerGroupId"] = live.customer_group_id
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
    spec: CompanySpec,
    live: LiveCompany | None,
    configs: Mapping[str, ExtraFieldConfig],
    *,
    independent: bool = False,
) -> tuple[FieldChange, ...]:
    """Field changes that make ``live`` match ``spec`` (every named field when live is None);
    on Independent stores ``customerGroupId`` is one of the fields."""
    want, have = _project_company(spec, live, configs, independent)
    if live is None:
        have = {}
    return changes(want, have)


def company_field(live: LiveCompany, path: str) -> Any:
    """The live value at a change path, in the same shape as the planned ``after``."""
    head, _, rest = path.partition(".")
    match head:
        case "companyName":
            return live.company_name
        case "customerGroupId":
            return live.customer_group_id
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
