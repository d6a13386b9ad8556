"""The sandbox state in SQLite: schema, one shared connection, one lock.

Every request runs inside ``Store.transaction()``: the lock serialises requests (the emulator
favours simple, exact semantics over parallelism) and a failing handler rolls back whole.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from .quirks import DEFAULT_QUIRKS

# A company's extraFields as GET returns them (§3.3), joined with the company configs.
COMPANY_EXTRA_RENDER = (
    "CASE WHEN companies.extra_fields = '{}' THEN '[]' ELSE"
    " (SELECT json_group_array(json_object("
    "'fieldName', e.key, 'fieldValue', e.value,"
    " 'labelName', COALESCE(NULLIF(f.label_name, ''), e.key),"
    " 'isRequired', CASE WHEN f.is_required THEN '1' ELSE '0' END,"
    " 'dataType', CAST(COALESCE(f.field_type, 0) AS TEXT),"
    " 'fieldType', COALESCE(f.field_type, 0)))"
    " FROM json_each(companies.extra_fields) e"
    " LEFT JOIN extra_field_configs f ON f.kind = 'company' AND f.field_name = e.key) END"
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS store (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    hash TEXT NOT NULL,
    behavior TEXT NOT NULL,
    msf INTEGER NOT NULL,
    access_token TEXT,
    quirks TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS customer_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL DEFAULT '',
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    customer_group_id INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS customers_email ON customers(email COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS price_lists (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS price_list_assignments (
    id INTEGER PRIMARY KEY,
    price_list_id INTEGER NOT NULL,
    customer_group_id INTEGER,
    channel_id INTEGER
);
-- one price list per (group, channel); either may be absent (NULL), hence the COALESCE
CREATE UNIQUE INDEX IF NOT EXISTS price_list_assignments_pair
    ON price_list_assignments(COALESCE(customer_group_id, 0), COALESCE(channel_id, 0));
CREATE TABLE IF NOT EXISTS channels (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    platform TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    b2b_enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS companies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL DEFAULT 1,
    uuid TEXT NOT NULL DEFAULT '',
    catalog_id TEXT NOT NULL DEFAULT '',
    customer_group_id INTEGER,
    address TEXT NOT NULL DEFAULT '{}',
    extra_fields TEXT NOT NULL DEFAULT '{}',
    price_list_assign TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- extraFields as GET renders them (kept by the triggers below; never dumped)
    extra_rendered TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS companies_group ON companies(customer_group_id);
CREATE INDEX IF NOT EXISTS companies_updated ON companies(updated_at);
CREATE INDEX IF NOT EXISTS companies_created ON companies(created_at);
CREATE INDEX IF NOT EXISTS companies_name ON companies(name);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL UNIQUE,
    company_id INTEGER NOT NULL,
    role INTEGER NOT NULL DEFAULT 0,
    uuid TEXT NOT NULL DEFAULT '',
    extra_fields TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    channel_ids TEXT NOT NULL DEFAULT '[1]'
);
CREATE INDEX IF NOT EXISTS users_customer ON users(customer_id);
CREATE INDEX IF NOT EXISTS users_company ON users(company_id);
CREATE INDEX IF NOT EXISTS users_updated ON users(updated_at);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    bc_order_id INTEGER NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL DEFAULT 0,
    company_id INTEGER,
    po_number TEXT NOT NULL DEFAULT '',
    extra_fields TEXT NOT NULL DEFAULT '{}',
    channel_id INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'Pending',
    status_code INTEGER NOT NULL DEFAULT 1,
    total_inc_tax REAL NOT NULL DEFAULT 0,
    currency_code TEXT NOT NULL DEFAULT 'USD',
    items INTEGER NOT NULL DEFAULT 0,
    products TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    held INTEGER NOT NULL DEFAULT 3
);
CREATE INDEX IF NOT EXISTS orders_customer ON orders(customer_id);
CREATE INDEX IF NOT EXISTS orders_company ON orders(company_id);
CREATE INDEX IF NOT EXISTS orders_updated ON orders(updated_at, created_at);
CREATE INDEX IF NOT EXISTS orders_created ON orders(created_at, updated_at);
CREATE TABLE IF NOT EXISTS extra_field_configs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    field_name TEXT NOT NULL,
    field_type INTEGER NOT NULL DEFAULT 0,
    is_required INTEGER NOT NULL DEFAULT 0,
    is_unique INTEGER NOT NULL DEFAULT 0,
    visible_to_enduser INTEGER NOT NULL DEFAULT 1,
    config_type INTEGER NOT NULL DEFAULT 2,
    default_value TEXT NOT NULL DEFAULT '',
    label_name TEXT NOT NULL DEFAULT '',
    maximum_length INTEGER,
    number_of_rows INTEGER,
    maximum_value REAL,
    list_of_values TEXT NOT NULL DEFAULT '[]',
    uuid TEXT NOT NULL DEFAULT '',
    UNIQUE (kind, field_name)
);
CREATE TRIGGER IF NOT EXISTS companies_extra_insert AFTER INSERT ON companies BEGIN
    UPDATE companies SET extra_rendered = {render} WHERE id = NEW.id;
END;
CREATE TRIGGER IF NOT EXISTS companies_extra_update AFTER UPDATE OF extra_fields ON companies
BEGIN
    UPDATE companies SET extra_rendered = {render} WHERE id = NEW.id;
END;
CREATE TRIGGER IF NOT EXISTS configs_insert AFTER INSERT ON extra_field_configs
WHEN NEW.kind = 'company' BEGIN
    UPDATE companies SET extra_rendered = {render} WHERE extra_fields != '{{}}';
END;
CREATE TRIGGER IF NOT EXISTS configs_update AFTER UPDATE ON extra_field_configs BEGIN
    UPDATE companies SET extra_rendered = {render} WHERE extra_fields != '{{}}';
END;
CREATE TRIGGER IF NOT EXISTS configs_delete AFTER DELETE ON extra_field_configs BEGIN
    UPDATE companies SET extra_rendered = {render} WHERE extra_fields != '{{}}';
END;
CREATE TABLE IF NOT EXISTS faults (
    position INTEGER PRIMARY KEY,
    rule TEXT NOT NULL
);
"""

BEHAVIORS = ("dependent", "independent")

T = TypeVar("T")
#: bumped whenever SCHEMA changes; older files are brought up to date by MIGRATIONS
SCHEMA_VERSION = 3
MIGRATIONS: dict[int, str] = {
    # version 1 -> 2: users carry their channels (POST/PUT /users channelIds)
    1: "ALTER TABLE users ADD COLUMN channel_ids TEXT NOT NULL DEFAULT '[1]'",
    # version 2 -> 3: core and B2B Edition may each lose an order alone (orders.held)
    2: "ALTER TABLE orders ADD COLUMN held INTEGER NOT NULL DEFAULT 3",
}
HELD_CORE = 1
"""``orders.held`` bit: core (V2) has the order (``held`` 3: both sides; a row neither side
holds is deleted)."""
HELD_B2B = 2
"""``orders.held`` bit: B2B Edition has its record of the order."""
HELD_RECORDED = 4
"""``orders.held`` bit: B2B Edition made its record itself (``POST /orders``), so it knows the
order at once, whatever ``ordersSyncLag`` says (a seed or dump carries it as
``recordedByB2b: true``)."""


class SchemaMismatch(Exception):
    """The database file was written by an incompatible sandbox version."""


IDS_CACHE_SIZE = 16


@dataclass(frozen=True)
class Settings:
    """The store row: who the store is and how it behaves."""

    hash: str
    behavior: str
    msf: bool
    access_token: str | None
    quirks: dict[str, Any]

    @property
    def dependent(self) -> bool:
        return self.behavior == "dependent"


class Store:
    """One SQLite connection shared by all threads, guarded by one re-entrant lock."""

    def __init__(self, db: str) -> None:
        self.db = db
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        try:
            self._setup(db)
        except BaseException:
            self.conn.close()
            raise
        self._settings: Settings | None = None
        self._depth = 0
        #: bumped by every committed write; render caches key on it
        self.generation = 0
        self._cache: dict[Hashable, Any] = {}
        self._cache_generation = -1
        self._ids: OrderedDict[Hashable, list[int]] = OrderedDict()

    def _setup(self, db: str) -> None:
        if db != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        tables = self.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
        while tables and version in MIGRATIONS:
            self.conn.execute(MIGRATIONS[version])
            version += 1
            self.conn.execute(f"PRAGMA user_version = {version}")
        if tables and version != SCHEMA_VERSION:
            raise SchemaMismatch(
                f"{db} was made by another version of the sandbox (schema {version}, this one"
                f" uses {SCHEMA_VERSION}); dump it with that version or create a new one"
            )
        self.conn.executescript(
            SCHEMA.replace("{render}", COMPANY_EXTRA_RENDER).replace("{{}}", "{}")
        )
        if version != SCHEMA_VERSION:
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[None]:
        """Hold the lock and run the block in one transaction (nested blocks join it)."""
        with self.lock:
            if not write and not self._depth:
                # every access holds the lock, so plain reads need no transaction
                yield
                return
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._depth = 1
            self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
                if write:
                    self.generation += 1
            finally:
                self._depth = 0

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def row(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self.lock:
            row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
            return row

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        found = self.row(sql, params)
        return None if found is None else found[0]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.conn.execute(sql, params)

    def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        with self.lock:
            self.conn.executemany(sql, params)

    def next_id(self, table: str, start: int = 1) -> int:
        """One more than the largest id in ``table`` (``start`` when empty)."""
        top = self.scalar(f"SELECT MAX(id) FROM {table}")
        return start if top is None else max(int(top) + 1, start)

    # -- the store row ---------------------------------------------------------------------

    def has_store(self) -> bool:
        return self.row("SELECT 1 FROM store WHERE id = 1") is not None

    def ensure_store(self, now: int) -> None:
        """Create the default store (hash ``sandbox``, dependent, no MSF) and channel 1."""
        if self.has_store() and self.scalar("SELECT COUNT(*) FROM channels"):
            return  # nothing to write: a reader (``sandbox dump``) takes no write lock
        with self.transaction():
            if not self.has_store():
                self.execute(
                    "INSERT INTO store (id, hash, behavior, msf, access_token, quirks)"
                    " VALUES (1, 'sandbox', 'dependent', 0, NULL, '{}')"
                )
            if self.scalar("SELECT COUNT(*) FROM channels") == 0:
                self.execute(
                    "INSERT INTO channels (id, name, type, platform, status, b2b_enabled,"
                    " created_at, updated_at) VALUES (1, 'Default', 'storefront', 'bigcommerce',"
                    " 'active', 1, ?, ?)",
                    (now, now),
                )
        self._settings = None

    @property
    def settings(self) -> Settings:
        cached = self._settings
        if cached is None:
            row = self.row("SELECT hash, behavior, msf, access_token, quirks FROM store")
            if row is None:
                raise RuntimeError("the sandbox store is not initialised")
            quirks = dict(DEFAULT_QUIRKS)
            quirks.update(json.loads(row["quirks"]))
            cached = Settings(
                hash=row["hash"],
                behavior=row["behavior"],
                msf=bool(row["msf"]),
                access_token=row["access_token"],
                quirks=quirks,
            )
            self._settings = cached
        return cached

    def stored_quirks(self) -> dict[str, Any]:
        """Only the quirks set explicitly (what a dump carries)."""
        raw = self.scalar("SELECT quirks FROM store")
        return dict(json.loads(raw)) if raw else {}

    def _fresh(self) -> None:
        if self._cache_generation != self.generation:
            self._cache = {}
            self._ids.clear()
            self._cache_generation = self.generation

    def cached(self, key: Hashable, factory: Callable[[], T]) -> T:
        """A value computed once per generation (lookup tables)."""
        with self.lock:
            self._fresh()
            if key not in self._cache:
                self._cache[key] = factory()
            value: T = self._cache[key]
            return value

    def ordered_ids(self, sql: str, params: Sequence[Any]) -> list[int]:
        """The ids a list query selects, in order; kept per generation for the last few queries,
        so that paging with ``offset`` costs the page, not the offset."""
        key = (sql, tuple(params))
        with self.lock:
            self._fresh()
            ids = self._ids.get(key)
            if ids is None:
                ids = [row[0] for row in self.conn.execute(sql, params)]
                self._ids[key] = ids
                while len(self._ids) > IDS_CACHE_SIZE:
                    self._ids.popitem(last=False)
            else:
                self._ids.move_to_end(key)
            return ids

    def invalidate(self) -> None:
        self._settings = None
        self.generation += 1


def db_has_store(path: str) -> str | None:
    """The store hash kept in an existing sandbox file, or None (no file, or no store)."""
    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT hash FROM store WHERE id = 1").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return None if row is None else str(row[0])
