"""Seed a big sandbox and measure list requests per second, in-process and over loopback.

    python -m bench.sandbox_lists [--companies 10000] [--orders 200000] [--seconds 2]

Seeds 10,000 companies and 200,000 orders (timed), then pages through
``GET /companies?limit=250&isIncludeExtraFields=1&offset=...`` and
``GET /orders?limit=200&minCreated=0&offset=...`` with the rate limit set out of the way.
Offsets cycle through the whole list; rates are shown with the body only read, and with the
client also decoding the JSON (which for 250 companies costs about as much as serving them).
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from reconciler.sandbox import Sandbox

NOW = 1_760_000_000
YEAR = 365 * 86_400


def make_seed(companies: int, orders: int) -> dict[str, Any]:
    """A Dependent store: one group, one admin customer per company, orders spread over them."""
    rng = random.Random(42)
    seed: dict[str, Any] = {
        "store": {"hash": "bench", "companiesBehavior": "dependent", "accessToken": "t"},
        "priceLists": [{"id": 1, "name": "Wholesale"}],
        "extraFieldConfigs": {
            "company": [
                {"fieldName": "licenseNo", "fieldType": 0, "maximumLength": 50},
                {"fieldName": "tier", "fieldType": 3, "listOfValue": ["Gold", "Silver"]},
            ],
            "order": [{"fieldName": "costCenter", "fieldType": 0, "maximumLength": 20}],
        },
    }
    seed["customerGroups"] = [{"id": i, "name": f"Company {i}"} for i in range(1, companies + 1)]
    seed["customers"] = [
        {
            "id": i,
            "email": f"buyer{i}@example.com",
            "firstName": "B",
            "lastName": str(i),
            "customerGroupId": i,
        }
        for i in range(1, companies + 1)
    ]
    seed["companies"] = [
        {
            "companyId": i,
            "customerGroupId": i,
            "companyName": f"Company {i}",
            "companyEmail": f"buyer{i}@example.com",
            "companyPhone": "555",
            "catalogId": "1",
            "extraFields": {"licenseNo": f"L{i}", "tier": rng.choice(["Gold", "Silver"])},
            "createdAt": NOW - rng.randrange(YEAR),
            "updatedAt": NOW - rng.randrange(YEAR // 2),
        }
        for i in range(1, companies + 1)
    ]
    seed["users"] = [{"customerId": i, "companyId": i, "role": 0} for i in range(1, companies + 1)]
    rows = []
    for n in range(orders):
        customer = rng.randrange(1, companies + 1)
        created = NOW - rng.randrange(YEAR)
        rows.append(
            {
                "bcOrderId": 100_000 + n,
                "customerId": customer,
                "companyId": customer if n % 10 else None,
                "poNumber": f"PO-{n}" if n % 3 else "",
                "createdAt": created,
                "updatedAt": created + rng.randrange(86_400),
            }
        )
    seed["orders"] = rows
    return seed


def _measure(send: Callable[[], httpx.Response], seconds: float, decode: bool) -> tuple[int, float]:
    count, started = 0, time.perf_counter()
    while True:
        response = send()
        if response.status_code != 200:
            raise SystemExit(f"unexpected {response.status_code}: {response.text[:200]}")
        if decode:
            response.json()
        count += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return count, elapsed


def _cycle(values: list[int]) -> Iterator[int]:
    while True:
        yield from values


def run(companies: int, orders: int, seconds: float) -> None:
    started = time.perf_counter()
    seed = make_seed(companies, orders)
    built = time.perf_counter() - started
    started = time.perf_counter()
    sb = Sandbox(seed=seed, rate_limit=(10**9, 60.0), clock=lambda: float(NOW))
    seeded = time.perf_counter() - started
    del seed  # a 200k-dict heap would slow every garbage collection during the measurement
    gc.collect()
    print(
        f"seed built in {built:.2f} s; {companies:,} companies + {orders:,} orders seeded in "
        f"{seeded:.2f} s"
    )
    headers = {"X-Auth-Token": "t", "X-Store-Hash": "bench"}
    company_offsets = _cycle(list(range(0, companies, 250)))
    order_offsets = _cycle(list(range(0, orders, 200)))
    rows: list[tuple[str, str, float, float]] = []
    served = sb.serve()
    try:
        for mode, base in (("in-process", "http://sandbox.local"), ("loopback", served.url)):
            transport = sb.transport() if mode == "in-process" else None
            with httpx.Client(
                base_url=base + "/api/v3/io", headers=headers, transport=transport, timeout=30
            ) as client:

                def companies_page(c: httpx.Client = client) -> httpx.Response:
                    return c.get(
                        "/companies",
                        params={
                            "limit": 250,
                            "isIncludeExtraFields": 1,
                            "offset": next(company_offsets),
                        },
                    )

                def orders_page(c: httpx.Client = client) -> httpx.Response:
                    return c.get(
                        "/orders",
                        params={"limit": 200, "minCreated": 0, "offset": next(order_offsets)},
                    )

                for name, send in (
                    ("companies limit=250", companies_page),
                    ("orders limit=200", orders_page),
                ):
                    count, elapsed = _measure(send, seconds, decode=False)
                    decoded, decode_elapsed = _measure(send, seconds, decode=True)
                    rows.append((mode, name, count / elapsed, decoded / decode_elapsed))
    finally:
        served.shutdown()
        sb.close()
    print()
    print(f"{'mode':<12} {'request':<22} {'req/s':>8} {'ms/req':>8} {'req/s with .json()':>19}")
    for mode, name, rate, decoded_rate in rows:
        print(f"{mode:<12} {name:<22} {rate:>8.0f} {1000 / rate:>8.2f} {decoded_rate:>19.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    run(args.companies, args.orders, args.seconds)


if __name__ == "__main__":
    main()
