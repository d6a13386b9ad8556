"""Normalize desired and live values, then compare them field by field.

Only fields a spec names are compared (a field left out of a spec is not managed). Both sides are
projected onto one clean shape before comparing, so the documented type noise of the API never
shows up as a change on a converged store:

- ids, codes and timestamps are already ints in the live model (the API client decodes string or
  int); company status compares by name (``"1"``, ``1`` and ``approved`` are one value);
- unset strings are ``""`` on both sides: ``uuid: ""`` in a manifest matches a live ``""``;
- ``catalogId`` compares as a string of digits (``7`` and ``"7"`` are one value);
- ``priceListAssign`` compares as a set of ``(channelId, priceListId)`` pairs: order is noise;
- extra-field values are strings on the wire; a number in a manifest compares by its text
  (``42`` matches ``"42"``), and for number-typed fields by numeric value (``"1.50"`` matches
  ``1.5``); only the extra fields a spec names are compared, others are left alone;
- ``address`` is compared only for the fields the live API actually returned (the documented
  responses return none, so an address is then used only to create);
- ``poNumber`` unset live is ``""``; an order extra field set to ``""`` matches an absent one
  (whether the API keeps an empty value or drops it is not documented).

deepdiff finds which normalized paths differ; before/after are read back from the projections so
every change is reported as ``(path, before, after)`` in manifest terms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deepdiff import DeepDiff

from reconciler.model import (
    CompanySpec,
    ExtraFieldConfig,
    ExtraValue,
    FieldChange,
    LiveCompany,
    LiveOrder,
    OrderSpec,
    PriceListAssignment,
)

NUMBER_FIELD = 2
PER_KEY = ("extraFields", "address")


def extra_text(value: ExtraValue) -> str:
    """The wire text of a manifest extra-field value (``3`` -> ``"3"``, ``1.5`` -> ``"1.5"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _same_extra(desired: str, live: str, config: ExtraFieldConfig | None) -> bool:
    if desired == live:
        return True
    if config is not None and config.field_type == NUMBER_FIELD:
        try:
            return float(desired) == float(live)
        except ValueError:
            return False
    return False


def price_list_json(pairs: Sequence[PriceListAssignment]) -> list[dict[str, int]]:
    """Canonical JSON of a price-list assignment list (sorted, as the API body takes it)."""
    return [
        {"channelId": p.channel_id, "priceListId": p.price_list_id}
        for p in sorted(pairs, key=lambda p: (p.channel_id, p.price_list_id))
    ]


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
                if seen is not None and _same_extra(value, seen, configs.get(key)):
                    want_extra[key] = seen  # equal once normalized: keep the live spelling
            have["extraFields"] = have_extra
        want["extraFields"] = want_extra
    if spec.address and live is not None and live.address:
        want_addr = {k: v for k, v in spec.address.items() if k in live.address}
        if want_addr:
            want["address"] = want_addr
            have["address"] = {k: live.address[k] for k in want_addr}
    return want, have


def _changes(want: dict[str, Any], have: dict[str, Any]) -> tuple[FieldChange, ...]:
    """Changed leaf paths between two projections, as manifest-level FieldChanges."""
    if want == have:
        return ()
    paths: set[tuple[str, ...]] = set()
    if not have:  # nothing live: every desired field is a change
        for key, value in want.items():
            if key in PER_KEY:
                paths.update((key, sub) for sub in value)
            else:
                paths.add((key,))
    else:
        diff = DeepDiff(have, want, view="tree")
        for level in diff.tree.values():
            for item in level:
                keys = [str(k) for k in item.path(output_format="list")]
                # Sets and lists are one field; maps (extraFields, address) compare per key.
                paths.add(tuple(keys[:2]) if keys and keys[0] in PER_KEY else tuple(keys[:1]))
    out = []
    for path in sorted(paths):
        before: Any = have
        after: Any = want
        for key in path:
            before = before.get(key) if isinstance(before, dict) else None
            after = after.get(key) if isinstance(after, dict) else None
        out.append(FieldChange(".".join(path), _jsonable(before), _jsonable(after)))
    return tuple(out)


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset):
        return price_list_json([PriceListAssignment(c, p) for c, p in value])
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def company_changes(
    spec: CompanySpec, live: LiveCompany | None, configs: Mapping[str, ExtraFieldConfig]
) -> tuple[FieldChange, ...]:
    """Field changes that make ``live`` match ``spec`` (every named field when live is None)."""
    want, have = _project_company(spec, live, configs)
    if live is None:
        have = {}
    return _changes(want, have)


def order_changes(
    spec: OrderSpec, live: LiveOrder, configs: Mapping[str, ExtraFieldConfig]
) -> tuple[FieldChange, ...]:
    """Field changes that make the live order's B2B data match ``spec``."""
    want: dict[str, Any] = {}
    have: dict[str, Any] = {}
    if spec.po_number is not None:
        want["poNumber"] = spec.po_number
        have["poNumber"] = live.po_number
    if spec.extra_fields:
        want_extra = {k: extra_text(v) for k, v in spec.extra_fields.items()}
        have_extra = {k: live.extra_fields.get(k) for k in want_extra}
        for key, value in want_extra.items():
            seen = have_extra[key]
            if seen is not None and _same_extra(value, seen, configs.get(key)):
                want_extra[key] = seen
            elif value == "" and seen is None:
                have_extra[key] = ""  # empty and absent read the same
        want["extraFields"] = want_extra
        have["extraFields"] = have_extra
    return _changes(want, have)


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


def same_value(after: Any, have: Any) -> bool:
    """Whether a re-read value satisfies a planned ``after`` (normalized as in the diff)."""
    if after == have:
        return True
    if isinstance(after, list) and isinstance(have, list):
        return sorted(map(repr, after)) == sorted(map(repr, have))
    if after is None or have is None:
        return False
    a, h = extra_text(after), extra_text(have)
    if a == h:
        return True
    try:
        return float(a) == float(h)
    except ValueError:
        return False
