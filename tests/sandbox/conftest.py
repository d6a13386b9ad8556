"""Fixtures for the sandbox conformance tests: a fake clock, seeds and clients."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox

NOW = 1_760_000_000
DAY = 86_400
HASH = "abc123"
TOKEN = "sandbox-token"
ROOT = "http://sandbox.local"
B2B = ROOT + "/api/v3/io"
CORE = f"{ROOT}/stores/{HASH}"


class FakeClock:
    """An injectable clock that only moves when told to."""

    def __init__(self, start: float = NOW) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


BASE_SEED: dict[str, Any] = {
    "store": {
        "hash": HASH,
        "companiesBehavior": "dependent",
        "multiStorefront": False,
        "accessToken": TOKEN,
    },
    "customerGroups": [
        {"id": 12, "name": "Acme"},
        {"id": 13, "name": "Beta"},
        {"id": 20, "name": "Loose group"},
    ],
    "customers": [
        {
            "id": 321,
            "email": "a@acme.example",
            "firstName": "A",
            "lastName": "B",
            "customerGroupId": 12,
        },
        {
            "id": 322,
            "email": "b@beta.example",
            "firstName": "C",
            "lastName": "D",
            "customerGroupId": 13,
        },
        {"id": 400, "email": "solo@example.com", "firstName": "S", "lastName": "O"},
    ],
    "priceLists": [{"id": 7, "name": "Wholesale"}, {"id": 8, "name": "Retail"}],
    "companies": [
        {
            "companyId": 1001,
            "customerGroupId": 12,
            "companyName": "Acme",
            "companyEmail": "a@acme.example",
            "companyPhone": "555",
            "companyStatus": 1,
            "uuid": "",
            "catalogId": "",
            "priceListAssign": [],
            "address": {"country": "US"},
            "extraFields": {"licenseNo": "42"},
            "createdAt": NOW - 100 * DAY,
            "updatedAt": NOW - 50 * DAY,
        },
        {
            "companyId": 1002,
            "customerGroupId": 13,
            "companyName": "Beta",
            "companyEmail": "b@beta.example",
            "companyPhone": "556",
            "companyStatus": 0,
            "createdAt": NOW - 90 * DAY,
            "updatedAt": NOW - 10 * DAY,
        },
    ],
    "users": [
        {"customerId": 321, "companyId": 1001, "role": 0},
        {"customerId": 322, "companyId": 1002, "role": 1},
    ],
    "orders": [
        {
            "bcOrderId": 5001,
            "customerId": 321,
            "companyId": None,
            "poNumber": "",
            "createdAt": NOW - 5 * DAY,
            "updatedAt": NOW - 5 * DAY,
        },
        {
            "bcOrderId": 5002,
            "customerId": 321,
            "companyId": 1001,
            "poNumber": "PO-2",
            "extraFields": {"costCenter": "CC1"},
            "createdAt": NOW - 4 * DAY,
            "updatedAt": NOW - 4 * DAY,
        },
        {
            "bcOrderId": 5003,
            "customerId": 322,
            "companyId": 1002,
            "poNumber": "",
            "createdAt": NOW - 3 * DAY,
            "updatedAt": NOW - 2 * DAY,
        },
        {
            "bcOrderId": 4000,
            "customerId": 322,
            "companyId": 1002,
            "poNumber": "OLD",
            "createdAt": NOW - 400 * DAY,
            "updatedAt": NOW - 380 * DAY,
        },
    ],
    "extraFieldConfigs": {
        "company": [
            {
                "fieldName": "licenseNo",
                "fieldType": 0,
                "isRequired": False,
                "maximumLength": 10,
                "listOfValue": [],
            },
            {
                "fieldName": "tier",
                "fieldType": 3,
                "isRequired": False,
                "listOfValue": ["Gold", "Silver"],
            },
            {"fieldName": "employees", "fieldType": 2, "isRequired": False, "maximumValue": 1000},
        ],
        "order": [
            {
                "fieldName": "costCenter",
                "fieldType": 0,
                "isRequired": False,
                "maximumLength": 20,
                "listOfValues": [],
            },
        ],
    },
}

AUTH = {"X-Auth-Token": TOKEN, "X-Store-Hash": HASH}


def seed(**store: Any) -> dict[str, Any]:
    """A deep copy of the base seed, with ``store`` settings overridden."""
    out = copy.deepcopy(BASE_SEED)
    out["store"].update(store)
    return out


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


MakeSandbox = Callable[..., Sandbox]


@pytest.fixture
def make_sandbox(clock: FakeClock) -> Iterator[MakeSandbox]:
    """Build sandboxes on the fake clock (base seed by default); all closed afterwards."""
    made: list[Sandbox] = []

    def make(seed_: dict[str, Any] | None = None, **kwargs: Any) -> Sandbox:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("rate_limit", (100_000, 60.0))
        sb = Sandbox(seed=copy.deepcopy(BASE_SEED) if seed_ is None else seed_, **kwargs)
        made.append(sb)
        return sb

    yield make
    for sb in made:
        sb.close()


@pytest.fixture
def sb(make_sandbox: MakeSandbox) -> Sandbox:
    return make_sandbox()


def client_for(sb: Sandbox, base: str = B2B, **kwargs: Any) -> httpx.Client:
    headers = kwargs.pop("headers", AUTH)
    return httpx.Client(transport=sb.transport(), base_url=base, headers=headers, **kwargs)


@pytest.fixture
def api(sb: Sandbox) -> Iterator[httpx.Client]:
    """A B2B client on the base-seed sandbox (Dependent, no MSF)."""
    with client_for(sb) as client:
        yield client


@pytest.fixture
def core(sb: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sb, CORE, headers={"X-Auth-Token": TOKEN}) as client:
        yield client


NEW_COMPANY: dict[str, Any] = {
    "companyName": "Gamma",
    "companyEmail": "g@gamma.example",
    "companyPhone": "557",
    "country": "US",
    "adminFirstName": "G",
    "adminLastName": "H",
    "adminEmail": "g@gamma.example",
    "catalogId": 7,
}


@pytest.fixture
def kit() -> SimpleNamespace:
    """Constants and helpers for the tests (importable test modules are awkward here)."""
    return SimpleNamespace(
        NOW=NOW,
        DAY=DAY,
        HASH=HASH,
        TOKEN=TOKEN,
        ROOT=ROOT,
        B2B=B2B,
        CORE=CORE,
        AUTH=AUTH,
        seed=seed,
        client=client_for,
        new_company=lambda **kw: {**copy.deepcopy(NEW_COMPANY), **kw},
    )
