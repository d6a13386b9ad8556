"""Code that the benchmarks run in child processes (importable by name, for ``spawn``)."""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

from bench.harness import Budget, high_water_mb, open_client, peak_rss_mb, settings
from bench.scenario import STORE_HASH, TOKEN, Scenario
from reconciler.live import read_live
from reconciler.planner import build_plan


def plan_once(
    url: str, params: dict[str, Any], compress: float, repeats: int = 3
) -> dict[str, Any]:
    """``plan`` as the tool runs it (manifests, live read, diff + plan), measured.

    The manifests are built in this process (the tool would load YAML), the live read goes to the
    served sandbox, and ``build_plan`` is timed with ``time.process_time`` alone, ``repeats``
    times on the same snapshot (the first run is the one reported; the rest show the spread).
    """
    rss_start = peak_rss_mb()
    scenario = Scenario(**params)
    manifests = scenario.manifests()
    assert manifests.store is not None
    rpm = manifests.store.requests_per_minute
    budget = Budget(compress, rpm)
    with open_client(settings(STORE_HASH, TOKEN, url, rpm), budget) as client:
        started = time.perf_counter()
        live = read_live(client, manifests)
        read_seconds = time.perf_counter() - started
        stats = client.stats.snapshot()
    cpu: list[float] = []
    wall: list[float] = []
    plan = None
    for _ in range(max(1, repeats)):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        plan = build_plan(manifests, live, created_at="2026-01-01T00:00:00Z")
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - wall_start)
    assert plan is not None
    return {
        "rssAfterImportsMB": round(rss_start, 1),
        "peakRssMB": round(peak_rss_mb(), 1),
        "vmHwmMB": high_water_mb(),
        "readSeconds": read_seconds,
        "requests": stats.to_json(),
        "planCpuSeconds": cpu[0],
        "planCpuMedian": statistics.median(cpu),
        "planCpuAll": cpu,
        "planWallSeconds": wall[0],
        "actions": plan.counts(),
        "liveCompanies": len(live.companies),
        "liveOrders": len(live.orders),
        "liveRequests": live.requests,
    }


def naive_read(
    url: str, params: dict[str, Any], compress: float, fraction: float
) -> dict[str, Any]:
    """Refresh every managed object one by one, as a Terraform provider does.

    ``GET /companies/{id}`` per managed company in the state (those that exist),
    ``GET /users/customer/{id}`` and core ``GET /v2/orders?customer_id=`` per OrderAssignment
    customer, then ``GET /orders/{id}`` per order found and per Order document, and
    ``GET /users?email=`` per listed user. With
    ``fraction`` < 1, the first ``ceil(fraction * n)`` objects of each list only.
    """
    scenario = Scenario(**params)
    manifests = scenario.manifests()
    assert manifests.store is not None
    rpm = manifests.store.requests_per_minute
    budget = Budget(compress, rpm)

    def part(items: list[Any]) -> list[Any]:
        return items[: math.ceil(len(items) * fraction)]

    existing = [s.customer_group_id for s in manifests.companies]
    company_ids = [scenario.company_id(g) for g in existing if g <= scenario.companies]
    customers = [c for a in manifests.assignments for c in a.customer_ids]
    docs = [o.bc_order_id for o in manifests.orders]
    emails = [u.email for s in manifests.specs if hasattr(s, "users") for u in s.users]
    sampled = {
        "companies": part(company_ids),
        "customers": part(customers),
        "docs": part(docs),
        "users": part(emails),
    }
    with open_client(settings(STORE_HASH, TOKEN, url, rpm), budget) as client:
        started = time.perf_counter()
        for company_id in sampled["companies"]:
            client.b2b.get_company(company_id)
        orders: dict[int, None] = {}
        for customer in sampled["customers"]:
            client.b2b.user_by_customer(customer)
            orders.update(dict.fromkeys(client.core.order_ids_for_customer(customer)))
        orders.update(dict.fromkeys(sampled["docs"]))
        for order_id in orders:
            client.b2b.get_order(order_id)
        for email in sampled["users"]:
            client.b2b.list_company_users(email=str(email))
        seconds = time.perf_counter() - started
        stats = client.stats.snapshot()
    return {
        "fraction": fraction,
        "seconds": seconds,
        "requests": stats.to_json(),
        "sampled": {k: len(v) for k, v in sampled.items()},
        "ordersRead": len(orders),
    }
