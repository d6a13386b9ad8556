"""Small name tables the renderers need, cached per store generation."""

from __future__ import annotations

from dataclasses import dataclass

from .extrafields import FieldConfig, configs
from .store import Store


@dataclass(frozen=True)
class Lookups:
    price_lists: dict[int, str]
    channels: dict[int, str]
    company_fields: dict[str, FieldConfig]
    user_fields: dict[str, FieldConfig]


def lookups(store: Store) -> Lookups:
    def build() -> Lookups:
        return Lookups(
            price_lists={
                r["id"]: r["name"] for r in store.rows("SELECT id, name FROM price_lists")
            },
            channels={r["id"]: r["name"] for r in store.rows("SELECT id, name FROM channels")},
            company_fields={c.name: c for c in configs(store, "company")},
            user_fields={c.name: c for c in configs(store, "user")},
        )

    return store.cached("lookups", build)
