"""Extra-field configs (company, user, order) and the validation of submitted values (§3.7, §5.7).

Company and user configs are rendered with ``listOfValue`` and string limits; order configs with
``listOfValues`` and numeric limits, exactly as the two specs disagree (b2b-api.md §7.7).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .http import HttpError, json_response, param_error
from .store import Store

KINDS = ("company", "user", "order")
FIELD_TYPES = (0, 1, 2, 3)


@dataclass(frozen=True)
class FieldConfig:
    """One extra-field configuration."""

    id: int
    kind: str
    name: str
    field_type: int
    required: bool
    unique: bool
    visible: bool
    config_type: int
    default: str
    label: str
    maximum_length: int | None
    number_of_rows: int | None
    maximum_value: float | None
    values: tuple[str, ...]
    uuid: str


def configs(store: Store, kind: str) -> list[FieldConfig]:
    """The configs of one kind, in id order."""
    rows = store.rows("SELECT * FROM extra_field_configs WHERE kind = ? ORDER BY id", (kind,))
    return [
        FieldConfig(
            id=row["id"],
            kind=row["kind"],
            name=row["field_name"],
            field_type=row["field_type"],
            required=bool(row["is_required"]),
            unique=bool(row["is_unique"]),
            visible=bool(row["visible_to_enduser"]),
            config_type=row["config_type"],
            default=row["default_value"],
            label=row["label_name"] or row["field_name"],
            maximum_length=row["maximum_length"],
            number_of_rows=row["number_of_rows"],
            maximum_value=row["maximum_value"],
            values=tuple(json.loads(row["list_of_values"])),
            uuid=row["uuid"],
        )
        for row in rows
    ]


def _num(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _str(value: float | None) -> str:
    number = _num(value)
    return "" if number is None else str(number)


def render_config(cfg: FieldConfig) -> dict[str, Any]:
    """A config as ``GET /companies|users|orders/extra-fields`` returns it."""
    if cfg.kind == "order":
        return {
            "id": cfg.id,
            "uuid": int(cfg.uuid) if cfg.uuid.isdigit() else cfg.id,
            "fieldName": cfg.name,
            "fieldType": cfg.field_type,
            "isRequired": cfg.required,
            "isUnique": cfg.unique,
            "visibleToEnduser": cfg.visible,
            "configType": cfg.config_type,
            "defaultValue": cfg.default,
            "labelName": cfg.label,
            "maximumLength": cfg.maximum_length,
            "numberOfRows": cfg.number_of_rows,
            "maximumValue": _num(cfg.maximum_value),
            "listOfValues": list(cfg.values),
        }
    return {
        "id": cfg.id,
        "uuid": cfg.uuid,
        "fieldName": cfg.name,
        "fieldType": cfg.field_type,
        "isRequired": cfg.required,
        "isUnique": cfg.unique,
        "visibleToEnduser": cfg.visible,
        "configType": cfg.config_type,
        "defaultValue": cfg.default,
        "maximumLength": "" if cfg.maximum_length is None else str(cfg.maximum_length),
        "numberOfRows": "" if cfg.number_of_rows is None else str(cfg.number_of_rows),
        "maximumValue": _str(cfg.maximum_value),
        "listOfValue": list(cfg.values),
    }


def render_values(
    values: Mapping[str, str], cfgs: Mapping[str, FieldConfig], detailed: bool
) -> list[dict[str, Any]]:
    """Stored values as response ``extraFields``: company style (detailed) or ``{name, value}``."""
    out: list[dict[str, Any]] = []
    for name, value in values.items():
        if not detailed:
            out.append({"fieldName": name, "fieldValue": value})
            continue
        cfg = cfgs.get(name)
        field_type = cfg.field_type if cfg else 0
        out.append(
            {
                "fieldName": name,
                "fieldValue": value,
                "labelName": cfg.label if cfg else name,
                "isRequired": "1" if cfg and cfg.required else "0",
                "dataType": str(field_type),
                "fieldType": field_type,
            }
        )
    return out


def value_text(value: object) -> str | None:
    """A submitted field value as the string the API keeps (None when unacceptable)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def parse_submitted(raw: object, key: str = "extraFields") -> dict[str, str]:
    """``[{fieldName, fieldValue}, ...]`` -> ordered mapping; 422 on a malformed list."""
    if not isinstance(raw, list):
        raise param_error({key: [f'Expected a list of items but got type "{_kind(raw)}".']})
    out: dict[str, str] = {}
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("fieldName"), str):
            raise param_error({key: {str(index): {"fieldName": ["This field is required."]}}})
        text = value_text(item.get("fieldValue"))
        if text is None:
            raise param_error({key: {str(index): {"fieldValue": ["A valid string is required."]}}})
        out[item["fieldName"]] = text
    return out


def _kind(value: object) -> str:
    return {dict: "dict", str: "str", int: "int", float: "float", bool: "bool"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def extra_field_error(kind: str, message: str) -> HttpError:
    """422 in the documented shape: orders repeat the text in ``data.errMsg`` (§1.3)."""
    data: dict[str, Any] = {"errMsg": message} if kind == "order" else {}
    return HttpError(json_response(422, {"code": 422, "data": data, "meta": {"message": message}}))


def check_values(
    kind: str,
    cfgs: list[FieldConfig],
    submitted: Mapping[str, str],
    merged: Mapping[str, str],
    *,
    require: bool,
    unique_taken: Mapping[str, set[str]] | None = None,
    error: Callable[[str], HttpError] | None = None,
) -> None:
    """Validate ``submitted``; with ``require``, every required field must be set in ``merged``.

    ``error`` builds the 422 from a message (default: the kind's documented shape)."""

    def fail(message: str) -> HttpError:
        return error(message) if error is not None else extra_field_error(kind, message)

    by_name = {cfg.name: cfg for cfg in cfgs}
    for name, value in submitted.items():
        cfg = by_name.get(name)
        if cfg is None:
            raise fail(f"{name} is not a valid extra field")
        if value == "":
            continue
        if cfg.field_type == 2:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise fail(f"{name} must be a number")
            if cfg.maximum_value is not None and number > cfg.maximum_value:
                raise fail(f"{name} must be less than or equal to {_str(cfg.maximum_value)}")
        too_long = cfg.maximum_length is not None and len(value) > cfg.maximum_length
        if cfg.field_type in (0, 1) and too_long:
            raise fail(f"{name} must be at most {cfg.maximum_length} characters")
        rows = cfg.number_of_rows
        if cfg.field_type == 1 and rows is not None and len(value.splitlines()) > rows:
            raise fail(f"{name} must be at most {rows} rows")
        if cfg.field_type == 3 and value not in cfg.values:
            raise fail(f"{value} is not a valid choice for {name}")
        if cfg.unique and unique_taken is not None and value in unique_taken.get(name, set()):
            raise fail(f"{name} must be unique; {value} is already used")
    if require:
        for cfg in cfgs:
            if cfg.required and not merged.get(cfg.name):
                raise fail(f"{cfg.name} is a required extra field")
