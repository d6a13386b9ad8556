"""What every handler shares: the request context, query parsing, pagination and envelopes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .http import (
    HttpError,
    Request,
    Response,
    dumps,
    json_response,
    param_error,
    raw_json_response,
)
from .store import Settings, Store


@dataclass(frozen=True)
class Ctx:
    """One request's view of the sandbox."""

    store: Store
    settings: Settings
    now: int

    @property
    def quirks(self) -> dict[str, Any]:
        return self.settings.quirks


def ok(data: object, **meta: object) -> dict[str, Any]:
    """The success envelope ``{"code": 200, "data", "meta": {"message": "SUCCESS", ...}}``."""
    return {"code": 200, "data": data, "meta": {"message": "SUCCESS", **meta}}


def parse_int(value: object) -> int | None:
    """An int from JSON or query text ("12", 12); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def int_arg(req: Request, name: str) -> int | None:
    """An integer query parameter; absent or empty -> None; malformed -> 422."""
    raw = req.arg(name)
    if raw is None or raw == "":
        return None
    value = parse_int(raw)
    if value is None:
        raise param_error({name: ["A valid integer is required."]})
    return value


def num_arg(req: Request, name: str) -> float | None:
    """A number query parameter (Unix timestamps may be sent as numbers)."""
    raw = req.arg(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise param_error({name: ["A valid number is required."]})
    return value


def choice_arg(req: Request, name: str, choices: tuple[str, ...], default: str) -> str:
    raw = req.arg(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise param_error({name: [f'"{raw}" is not a valid choice.']})
    return raw


def paging(ctx: Ctx, req: Request, maximum: int, default: int = 10) -> tuple[int, int]:
    """``(limit, offset)``; a limit above ``maximum`` is 413 or clamped (quirk limitAboveMax)."""
    limit = int_arg(req, "limit")
    offset = int_arg(req, "offset")
    if limit is None:
        limit = default
    if offset is None:
        offset = 0
    if limit < 1:
        raise param_error({"limit": ["Ensure this value is greater than or equal to 1."]})
    if offset < 0:
        raise param_error({"offset": ["Ensure this value is greater than or equal to 0."]})
    if limit > maximum:
        if ctx.quirks["limitAboveMax"] == "clamp":
            limit = maximum
        else:
            raise too_large()
    return limit, offset


def too_large() -> HttpError:
    """The documented 413 body (b2b-api.md §1.2)."""
    return HttpError(
        json_response(
            413, {"code": 413, "meta": {"message": "Request Entity Too Large"}, "data": {}}
        )
    )


def pagination(total: int, limit: int, offset: int) -> dict[str, int]:
    return {"totalCount": total, "limit": limit, "offset": offset}


def text_field(body: dict[str, Any], key: str) -> str | None:
    """A string body field; numbers are accepted as their text (DRF CharField behaviour)."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, (bool, dict | list)):
        raise param_error({key: ["Not a valid string."]})
    return str(value)


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def json_object_sql(pairs: list[tuple[str, str]]) -> str:
    """``json_object('key', <expr>, ...)``: objects rendered by SQLite, keys in this order."""
    return "json_object(" + ", ".join(f"{sql_text(k)}, {v}" for k, v in pairs) + ")"


def fragments(store: Store, select_sql: str, ids: list[int]) -> list[str]:
    """JSON texts for ``ids`` in that order; ``select_sql`` selects ``(json, id)`` filtered by
    ``id IN (SELECT value FROM json_each(?))``."""
    if not ids:
        return []
    found = {row[1]: row[0] for row in store.rows(select_sql, (json.dumps(ids),))}
    return [found[i] for i in ids if i in found]


def spliced(data: str, meta: dict[str, Any], extra: dict[str, Any] | None = None) -> Response:
    """A 200 body around already-rendered JSON ``data`` (no re-encoding of big lists)."""
    tail = "".join(f",{json.dumps(k)}:{dumps(v).decode()}" for k, v in (extra or {}).items())
    meta_text = dumps(meta).decode() if meta else ""
    body = '{"code":200,"data":' + data + (',"meta":' + meta_text if meta else "") + tail + "}"
    return raw_json_response(200, body.encode("utf-8"))
