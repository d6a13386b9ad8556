"""Fixtures for the live-reader tests: seeds of any size, manifests built as values, a client."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.kinds.company import CompanySpec
from reconciler.kinds.order import OrderSpec
from reconciler.kinds.order_assignment import OrderAssignmentSpec
from reconciler.model import ManifestSet, StoreSpec
from reconciler.sandbox import Sandbox

TOKEN = "sandbox-token-live-55aa"
NOW = 1_760_000_000


def company(cid: int, group: int, name: str, updated: int, **extra: Any) -> dict[str, Any]:
    return {
        "companyId": cid,
        "customerGroupId": group,
        "companyName": name,
        "companyEmail": f"{name.lower().replace(' ', '')}@example.com",
        "companyPhone": "555",
        "companyStatus": 1,
        "address": {"country": "US"},
        "createdAt": 1700000000,
        "updatedAt": updated,
        **extra,
    }


def base_seed() -> dict[str, Any]:
    """A small Dependent store: two companies, a free group, users, orders, configs."""
    return {
        "store": {
            "hash": "live01",
            "companiesBehavior": "dependent",
            "multiStorefront": False,
            "accessToken": TOKEN,
        },
        "customerGroups": [
            {"id": 12, "name": "Acme"},
            {"id": 13, "name": "Globex"},
            {"id": 14, "name": "Initech"},
        ],
        "customers": [
            {"id": 321, "email": "a@acme.example", "firstName": "A", "lastName": "B"},
            {"id": 322, "email": "c@globex.example", "firstName": "C", "lastName": "D"},
            {"id": 400, "email": "loner@example.com", "firstName": "E", "lastName": "F"},
        ],
        "priceLists": [{"id": 7, "name": "Wholesale"}],
        "companies": [
            company(1001, 12, "Acme", 1700000100, catalogId="7", extraFields={"licenseNo": "42"}),
            company(1002, 13, "Globex", 1700000200),
        ],
        "users": [
            {"customerId": 321, "companyId": 1001, "role": 0, "createdAt": 1700000000,
             "updatedAt": 1700000000},
            {"customerId": 322, "companyId": 1002, "role": 0, "createdAt": 1700000000,
             "updatedAt": 1700000000},
        ],
        "orders": [
            {"bcOrderId": 5001, "customerId": 321, "companyId": None, "createdAt": 1500000000,
             "updatedAt": 1500000000},
            {"bcOrderId": 5002, "customerId": 321, "companyId": 1001, "poNumber": "PO-1",
             "extraFields": {"costCenter": "CC-9"}, "createdAt": 1700000000,
             "updatedAt": 1700000050},
            {"bcOrderId": 5003, "customerId": 322, "companyId": 1002, "createdAt": 1700000000,
             "updatedAt": 1700000000},
            {"bcOrderId": 5004, "customerId": 400, "companyId": None, "createdAt": 1700000000,
             "updatedAt": 1700000000},
        ],
        "extraFieldConfigs": {
            "company": [{"fieldName": "licenseNo", "fieldType": 0, "isRequired": False,
                         "maximumLength": 50, "listOfValue": []}],
            "order": [{"fieldName": "costCenter", "fieldType": 0, "isRequired": False,
                       "maximumLength": 20, "listOfValues": []}],
        },
    }  # fmt: skip


def big_seed(*, companies: int, users: int, orders: int) -> dict[str, Any]:
    """A Dependent store with many objects. The managed ones are the oldest: they sort last
    (companies and orders by updatedAt, descending) or were inserted last (users), so no first
    page ever holds them."""
    seed = base_seed()
    seed["customerGroups"] = [{"id": 12, "name": "Acme"}, {"id": 13, "name": "Globex"}]
    seed["customerGroups"] += [{"id": 1000 + i, "name": f"G{i}"} for i in range(companies)]
    seed["companies"] = [
        company(3000 + i, 1000 + i, f"Filler {i}", 1710000000 + i) for i in range(companies)
    ] + [company(1001, 12, "Acme", 1600000000), company(1002, 13, "Globex", 1600000001)]
    seed["customers"] = [
        {"id": 10000 + i, "email": f"u{i}@example.com", "firstName": "U", "lastName": "V"}
        for i in range(users)
    ] + seed["customers"]
    seed["users"] = [
        {"customerId": 10000 + i, "companyId": 3000 + (i % max(1, companies)), "role": 2}
        for i in range(users)
    ] + seed["users"]
    seed["orders"] = [
        {"bcOrderId": 90000 + i, "customerId": 10000 + (i % max(1, users)),
         "companyId": None, "createdAt": 1700000000, "updatedAt": 1710000000 + i}
        for i in range(orders)
    ] + [
        {"bcOrderId": 5001, "customerId": 321, "companyId": None, "createdAt": 1500000000,
         "updatedAt": 1500000000},
        {"bcOrderId": 5002, "customerId": 321, "companyId": 1001, "createdAt": 1500000000,
         "updatedAt": 1500000001},
        {"bcOrderId": 5003, "customerId": 322, "companyId": 1002, "createdAt": 1500000000,
         "updatedAt": 1500000002},
    ]  # fmt: skip
    return seed


def spec(name: str, group: int, **fields: Any) -> CompanySpec:
    return CompanySpec(
        name=name,
        customer_group_id=group,
        company_name=fields.pop("company_name", name.title()),
        company_email=fields.pop("company_email", f"{name}@example.com"),
        company_phone=fields.pop("company_phone", "555"),
        **fields,
    )


def manifests(
    companies: tuple[CompanySpec, ...] = (),
    assignments: tuple[OrderAssignmentSpec, ...] = (),
    orders: tuple[OrderSpec, ...] = (),
    *,
    behavior: str = "dependent",
    msf: bool = False,
) -> ManifestSet:
    return ManifestSet(
        store=StoreSpec(
            name="store",
            companies_behavior=behavior,  # type: ignore[arg-type]
            multi_storefront=msf,
        ),
        specs=(*companies, *assignments, *orders),
    )


def with_quirks(seed: dict[str, Any], quirks: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(seed)
    out["quirks"] = quirks
    return out


@pytest.fixture
def kit() -> SimpleNamespace:
    """The helpers above, for test modules (conftest cannot be imported under importlib mode)."""
    return SimpleNamespace(
        TOKEN=TOKEN,
        base_seed=base_seed,
        big_seed=big_seed,
        spec=spec,
        manifests=manifests,
        with_quirks=with_quirks,
    )


@pytest.fixture
def open_client() -> Iterator[Callable[[Sandbox], ApiClient]]:
    """``open_client(sb)``: a client on the sandbox's in-process transport, never sleeping."""
    opened: list[ApiClient] = []

    def factory(sb: Sandbox) -> ApiClient:
        settings = ApiSettings(
            store_hash=sb.store_hash,
            token=Secret(TOKEN),
            b2b_url="http://localhost/api/v3/io",
            core_url="http://localhost",
        )
        client = ApiClient.open(settings, sb.transport(), sleep=lambda _s: None)
        opened.append(client)
        return client

    yield factory
    for client in opened:
        client.close()
