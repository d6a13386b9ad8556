"""``Sandbox``: the emulator's front door (state, WSGI app, transport, server, log, faults)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from . import seed as seeding
from .app import SandboxApp
from .errors import SandboxError
from .faults import Faults
from .log import LogEntry, RequestLog
from .ratelimit import FixedWindow
from .server import ServedSandbox
from .store import HELD_B2B, HELD_CORE, SchemaMismatch, Store
from .transport import SandboxTransport

SIDES = {"both": HELD_CORE | HELD_B2B, "core": HELD_CORE, "b2b": HELD_B2B}
"""What ``Sandbox.delete_orders`` may delete: the order, its core side, its B2B record."""


class Sandbox:
    """An emulated BigCommerce B2B Edition store (plus the core endpoints the reconciler reads).

    ``db`` is a SQLite file (kept across runs) or ``":memory:"``. ``faults`` replaces the active
    fault rules (the seed's, or those stored in ``db``) without storing them. ``clock`` drives
    timestamps, the rate-limit windows, fault periods and the orders' 365-day window.
    """

    def __init__(
        self,
        db: str = ":memory:",
        seed: Mapping[str, Any] | None = None,
        rate_limit: tuple[int, float] = (150, 60.0),
        faults: Sequence[Mapping[str, Any]] | None = None,
        clock: Callable[[], float] = time.time,
        core_rate_limit: tuple[int, float] = (450, 30.0),
    ) -> None:
        self._clock = clock
        try:
            self._store = Store(db)
        except SchemaMismatch as exc:
            raise SandboxError(str(exc)) from None
        except (sqlite3.Error, OSError) as exc:
            raise SandboxError(f"cannot open sandbox database {db!r}: {exc}") from None
        self._log = RequestLog()
        self._faults = Faults(clock, started=clock())
        self._b2b_limit = FixedWindow(150, 60.0, clock)
        self._core_limit = FixedWindow(450, 30.0, clock)
        self._served: list[ServedSandbox] = []
        try:
            # An invalid seed, fault rule or rate limit must not leave the database open.
            self._store.ensure_store(int(clock()))
            self.set_rate_limit(*rate_limit)
            self.set_core_rate_limit(*core_rate_limit)
            self._faults.set(seeding.stored_faults(self._store))
            if seed is not None:
                self.load_seed(seed)
            if faults is not None:
                self.set_faults(faults)
        except BaseException:
            self._store.close()
            raise
        self.app = SandboxApp(
            self._store,
            clock=clock,
            log=self._log,
            faults=self._faults,
            b2b_limit=self._b2b_limit,
            core_limit=self._core_limit,
        )

    # -- state -----------------------------------------------------------------------------

    @property
    def store_hash(self) -> str:
        return self._store.settings.hash

    @property
    def access_token(self) -> str | None:
        """The token the store demands (None: any non-empty token is accepted)."""
        return self._store.settings.access_token

    def load_seed(self, seed: Mapping[str, Any]) -> None:
        """Add or replace state from a seed (the contract's shape); faults given are stored."""
        top = seeding.validate_seed(seed)
        if top.get("faults") is not None:
            Faults(self._clock, 0.0).set(top["faults"])  # validate before writing anything
        seeding.load_seed(self._store, top, int(self._clock()))
        if top.get("faults") is not None:
            self._faults.set(top["faults"])

    def delete_orders(self, bc_order_ids: Iterable[int], side: str = "both") -> int:
        """Delete orders as the merchant does in the control panel (no B2B endpoint does it):
        neither API lists or finds them afterwards. Returns how many the side held.

        ``side="b2b"``: only B2B Edition loses its record (core keeps the order: ``GET
        /orders/{id}`` 404s, B2B lists and totals leave it out, core lists and counts it);
        ``side="core"``: only core deletes it, B2B Edition keeps its record until a later
        ``side="b2b"`` (the deletion synced late). Nothing's ``updatedAt`` changes. An order
        neither side holds any more is gone."""
        if side not in SIDES:
            raise SandboxError(f"delete_orders: side must be one of {', '.join(SIDES)}")
        bit = SIDES[side]
        ids = json.dumps([int(i) for i in bc_order_ids])
        chosen = "bc_order_id IN (SELECT value FROM json_each(?))"
        with self._store.transaction():
            held = self._store.execute(
                f"UPDATE orders SET held = held & ? WHERE {chosen} AND held & ?",
                (7 & ~bit, ids, bit),
            ).rowcount
            self._store.execute(f"DELETE FROM orders WHERE {chosen} AND held & 3 = 0", (ids,))
        return int(held)

    def dump(self) -> dict[str, Any]:
        """The whole state in the seed's shape, with the active fault rules."""
        out = seeding.dump(self._store)
        out["faults"] = self._faults.raw()
        return out

    # -- HTTP ------------------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        """An in-process transport for ``httpx.Client(transport=..., base_url=...)``."""
        return SandboxTransport(self.app)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> ServedSandbox:
        """Serve from a background thread; ``.url``, ``.shutdown()``; a context manager."""
        served = ServedSandbox(self.app, host, port, store_hash=self.store_hash)
        self._served.append(served)
        return served

    @property
    def request_log(self) -> list[LogEntry]:
        return self._log.entries()

    def clear_log(self) -> None:
        self._log.clear()

    def set_faults(self, rules: Sequence[Mapping[str, Any]] | None) -> None:
        """Replace the active fault rules (counters restart); not stored in the db."""
        self._faults.set(list(rules or []))

    def set_rate_limit(self, count: int, seconds: float) -> None:
        """The B2B budget: ``count`` requests per ``seconds`` (fixed window, restarts now)."""
        try:
            self._b2b_limit.configure(int(count), float(seconds))
        except ValueError as exc:
            raise SandboxError(str(exc)) from exc

    def set_core_rate_limit(self, count: int, seconds: float) -> None:
        """The core API budget (``X-Rate-Limit-*``), 450 per 30 s by default."""
        try:
            self._core_limit.configure(int(count), float(seconds))
        except ValueError as exc:
            raise SandboxError(str(exc)) from exc

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every server started by ``serve`` and close the database."""
        for served in self._served:
            served.shutdown()
        self._served.clear()
        self._store.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
