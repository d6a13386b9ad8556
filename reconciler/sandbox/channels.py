"""B2B ``GET /channels`` and ``/channels/{id}`` (§6.3): Multi-Storefront stores only."""

from __future__ import annotations

import sqlite3
from typing import Any

from .common import Ctx, ok
from .http import HttpError, Request, Response, json_response


def _msf_only(ctx: Ctx) -> None:
    if not ctx.settings.msf:
        message = "Multi storefront is not enabled"
        if ctx.quirks["channelsErrorInMeta"]:
            body: dict[str, Any] = {"code": 403, "data": {}, "meta": {"message": message}}
        else:
            body = {"code": 403, "message": message}
        raise HttpError(json_response(403, body))


def render_channel(row: sqlite3.Row, hash_: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "channelId": row["id"],
        "name": row["name"],
        "channelName": row["name"],
        "type": row["type"],
        "platform": row["platform"],
        "status": row["status"],
        "site": f"https://store-{hash_}-{row['id']}.mybigcommerce.com",
        "isVisible": True,
        "isEnabled": row["status"] == "active",
        "iconUrl": "",
        "b2bEnabled": bool(row["b2b_enabled"]),
        "allowGlobalLogins": False,
        "createdAt": str(row["created_at"]),
        "updatedAt": str(row["updated_at"]),
    }


def list_channels(ctx: Ctx, req: Request) -> Response:
    """GET /channels: 403 ``{"code": 403, "message": ...}`` on non-MSF stores."""
    _msf_only(ctx)
    rows = ctx.store.rows("SELECT * FROM channels ORDER BY id")
    return json_response(200, ok([render_channel(r, ctx.settings.hash) for r in rows]))


def get_channel(ctx: Ctx, req: Request, channel_id: str) -> Response:
    """GET /channels/{channelId}: 404 ``{"code": 404, "message": "Channel does not exist"}``."""
    _msf_only(ctx)
    row = ctx.store.row("SELECT * FROM channels WHERE id = ?", (int(channel_id),))
    if row is None:
        raise HttpError(json_response(404, {"code": 404, "message": "Channel does not exist"}))
    return json_response(200, ok(render_channel(row, ctx.settings.hash)))
