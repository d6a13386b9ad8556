"""Fixtures for the API client tests: a seeded sandbox and a client speaking to it over HTTP."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from reconciler.api import ApiClient, ApiSettings, Pacing, RetryPolicy, Secret
from reconciler.sandbox import Sandbox

TOKEN = "sandbox-token-7f3a91c2"
B2B_URL = "http://localhost/api/v3/io"
CORE_URL = "http://localhost"

BASE_SEED: dict[str, Any] = {
    "store": {
        "hash": "abc123",
        "companiesBehavior": "dependent",
        "multiStorefront": False,
        "accessToken": TOKEN,
    },
    "customerGroups": [{"id": 12, "name": "Acme"}, {"id": 13, "name": "Globex"}],
    "customers": [
        {"id": 321, "email": "a@acme.example", "firstName": "A", "lastName": "B"},
        {"id": 322, "email": "c@globex.example", "firstName": "C", "lastName": "D"},
        {"id": 400, "email": "loner@example.com", "firstName": "E", "lastName": "F"},
    ],
    "priceLists": [{"id": 7, "name": "Wholesale"}],
    "companies": [
        {
            "companyId": 1001,
            "customerGroupId": 12,
            "companyName": "Acme",
            "companyEmail": "a@acme.example",
            "companyPhone": "555",
            "companyStatus": 1,
            "uuid": "",
            "catalogId": "7",
            "priceListAssign": [],
            "address": {"country": "US"},
            "extraFields": {"licenseNo": "42"},
            "createdAt": 1700000000,
            "updatedAt": 1700000100,
        },
        {
            "companyId": 1002,
            "customerGroupId": 13,
            "companyName": "Globex",
            "companyEmail": "c@globex.example",
            "companyPhone": "556",
            "companyStatus": 0,
            "address": {"country": "US"},
            "createdAt": 1700000000,
            "updatedAt": 1700000200,
        },
    ],
    "users": [
        {
            "customerId": 321,
            "companyId": 1001,
            "role": 0,
            "createdAt": 1700000000,
            "updatedAt": 1700000000,
        },
        {
            "customerId": 322,
            "companyId": 1002,
            "role": 0,
            "createdAt": 1700000000,
            "updatedAt": 1700000000,
        },
    ],
    "orders": [
        {
            "bcOrderId": 5001,
            "customerId": 321,
            "companyId": None,
            "poNumber": "",
            "createdAt": 1500000000,
            "updatedAt": 1500000000,
        },
        {
            "bcOrderId": 5002,
            "customerId": 321,
            "companyId": 1001,
            "poNumber": "PO-1",
            "extraFields": {"costCenter": "CC-9"},
            "createdAt": 1700000000,
            "updatedAt": 1700000050,
        },
        {
            "bcOrderId": 5003,
            "customerId": 322,
            "companyId": 1002,
            "createdAt": 1700000000,
            "updatedAt": 1700000000,
        },
    ],
    "extraFieldConfigs": {
        "company": [
            {
                "fieldName": "licenseNo",
                "fieldType": 0,
                "isRequired": False,
                "maximumLength": 50,
                "listOfValue": [],
            }
        ],
        "order": [
            {
                "fieldName": "costCenter",
                "fieldType": 0,
                "isRequired": False,
                "maximumLength": 20,
                "listOfValues": [],
            }
        ],
    },
}


def seed(**changes: Any) -> dict[str, Any]:
    """A deep copy of the base seed with top-level keys replaced."""
    out = copy.deepcopy(BASE_SEED)
    out.update(copy.deepcopy(changes))
    return out


class Sleeps:
    """An injected ``sleep`` that records and does not wait (or advances a fake clock)."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.calls: list[float] = []
        self.clock = clock

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)

    @property
    def total(self) -> float:
        return sum(self.calls)


class FakeClock:
    """A clock shared by the sandbox and the client: time passes only when someone sleeps."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def settings(sb: Sandbox, *, token: str = TOKEN, rpm: int = 120) -> ApiSettings:
    return ApiSettings(
        store_hash=sb.store_hash,
        token=Secret(token),
        b2b_url=B2B_URL,
        core_url=CORE_URL,
        requests_per_minute=rpm,
        timeout=5.0,
    )


ClientFactory = Callable[..., ApiClient]


@pytest.fixture
def make_client() -> Iterator[ClientFactory]:
    """``make_client(sb, sleep=..., clock=..., rpm=..., token=..., retry=..., pacing=...)``;
    closed after the test."""
    opened: list[ApiClient] = []

    def factory(
        sb: Sandbox,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        rpm: int = 120,
        token: str = TOKEN,
        retry: RetryPolicy | None = None,
        pacing: Pacing = "fair",
    ) -> ApiClient:
        kwargs: dict[str, Any] = {"sleep": sleep or Sleeps(), "retry": retry, "pacing": pacing}
        if clock is not None:
            kwargs["clock"] = clock
        client = ApiClient.open(settings(sb, token=token, rpm=rpm), sb.transport(), **kwargs)
        opened.append(client)
        return client

    yield factory
    for client in opened:
        client.close()


@pytest.fixture
def kit() -> SimpleNamespace:
    """The helpers above, for test modules (conftest cannot be imported under importlib mode)."""
    return SimpleNamespace(TOKEN=TOKEN, seed=seed, Sleeps=Sleeps, FakeClock=FakeClock)
