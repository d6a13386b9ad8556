"""Extra fields, as companies and orders share them: checks against the store's configs, the
complete set every PUT carries, and reading back what was sent."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from reconciler.diff import extra_text, same_value
from reconciler.kinds.base import PlanContext
from reconciler.model import Action, ExtraFieldConfig, ExtraValue, Location

__all__ = ["check_extra_fields", "complete_extras", "extra_list", "lost_extras", "texts"]


def complete_extras(
    ctx: PlanContext,
    changed: Mapping[str, ExtraValue],
    configs: Mapping[str, ExtraFieldConfig],
    before: Mapping[str, str],
    *,
    resource: str,
    loc: Callable[[], Location | None],
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
    no request would be right. ``None``: such an error was reported. ``loc`` gives where to
    point an issue (asked only for one: locations are found on demand).
    """
    full = {k: v for k, v in before.items() if v != "" and k in configs and k not in changed}
    ok = True
    for name, value in sorted(full.items()):
        problem = value_problem(configs[name], value)
        if problem:
            ok = False
            ctx.issue(
                loc(),
                resource,
                f"spec.extraFields.{name}: the {what}'s current value {value!r} {problem} now, "
                f"and every {what} update must send it back; set a valid value here",
            )
    full.update(texts(changed))
    for config in configs.values() if required else ():
        if config.required and not full.get(config.name):
            ok = False
            ctx.issue(
                loc(),
                resource,
                f"spec.extraFields.{config.name}: required by the store, so every {what} update "
                f"must carry it, and the {what} has no value; add a value",
            )
    if not ok:
        return None
    return [{"fieldName": k, "fieldValue": full[k]} for k in sorted(full)]


def texts(values: Mapping[str, ExtraValue]) -> dict[str, str]:
    return {k: extra_text(v) for k, v in values.items()}


def extra_list(values: Mapping[str, ExtraValue]) -> list[dict[str, str]]:
    return [{"fieldName": k, "fieldValue": extra_text(v)} for k, v in values.items()]


def value_problem(config: ExtraFieldConfig, text: str) -> str | None:
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


def check_extra_fields(
    ctx: PlanContext,
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
        field = f"extraFields.{name}"
        config = configs.get(name)
        prefix = f"spec.extraFields.{name}"
        if config is None:
            known = ", ".join(sorted(configs)) or "none"
            ctx.issue(
                loc_of(field),
                resource,
                f"{prefix}: the store has no {what} extra field named {name!r} "
                f"(configured: {known}); add it in B2B Edition settings or remove it",
            )
            continue
        text = extra_text(value)
        if text == "" and what == "company":
            # company.yaml declares fieldValue `minLength: 1` (b2b-api.md §9.15): "" may be
            # refused, and no documented request clears a value under every reading.
            ctx.issue(
                loc_of(field),
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
                ctx.issue(
                    loc_of(field), resource, f"{prefix}: must be a number (field type number)"
                )
                continue
            if config.maximum_value is not None and number > config.maximum_value:
                ctx.issue(
                    loc_of(field),
                    resource,
                    f"{prefix}: {text} exceeds the maximum {config.maximum_value:g}",
                )
        elif config.field_type == 3 and config.list_of_values and text not in config.list_of_values:
            allowed = ", ".join(repr(v) for v in config.list_of_values)
            ctx.issue(loc_of(field), resource, f"{prefix}: {text!r} is not one of {allowed}")
        if config.max_length is not None and len(text) > config.max_length:
            ctx.issue(
                loc_of(field),
                resource,
                f"{prefix}: {len(text)} characters, the store allows at most {config.max_length}",
            )
    if creating:
        for config in configs.values():
            if config.required and config.name not in values:
                ctx.issue(
                    loc_of("extraFields"),
                    resource,
                    f"spec.extraFields.{config.name}: required by the store to create a {what}; "
                    "add a value",
                )


def sent_extras(action: Action) -> dict[str, str]:
    """The ``extraFields`` an action's request sent (every value the object holds)."""
    body = action.request.body
    sent = body.get("extraFields") if isinstance(body, Mapping) else None
    out: dict[str, str] = {}
    for item in sent if isinstance(sent, list) else ():
        if isinstance(item, Mapping) and isinstance(item.get("fieldName"), str):
            out[item["fieldName"]] = str(item.get("fieldValue", ""))
    return out


def lost_extras(resource: str, actions: Sequence[Action], have: Mapping[str, str]) -> list[str]:
    """Every extra field the object's writes sent must read back, not only the changed ones:
    a value the API dropped (say, an ``extraFields`` that replaced the set) is reported."""
    changed = {c.path for a in actions for c in a.changes}
    problems = []
    for action in actions:
        for name, value in sent_extras(action).items():
            if f"extraFields.{name}" in changed:
                continue  # compared as a change already
            seen = have.get(name)
            if not same_value(value, seen) and not (value == "" and seen is None):
                problems.append(
                    f"inconsistent result after apply: {resource} extraFields.{name} is "
                    f"{seen!r}, expected {value!r} (sent unchanged by {action.id})"
                )
    return problems
