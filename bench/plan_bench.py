"""Plan on a large store: requests against the lower bound and a naive reader, 429s, wall time
against the budget, CPU of diff+plan, peak RSS of the planning process.

    python -m bench.plan_bench [--companies 10000] [--orders 100000] [--oa-customers 2000]
                               [--compress 100] [--naive-fraction 1.0] [--json FILE]

The sandbox (10,000 companies, 100,000 orders, 20,000 company users) is served on a loopback
port by this process, with its rate limits compressed in time (``150/60 s`` -> ``150/0.6 s`` at
100x; core ``450/30 s`` -> ``450/0.3 s``). The manifests manage every company (a few hundred
changed, 20 to convert), OrderAssignments for 2,000 customers (300 with misplaced orders) and 500
Order documents (100 changed), and CompanyUsers documents for 20 companies (every user listed,
5 promoted, 10 new); see ``bench/scenario.py``.

Each reader runs in its own spawned process, so the peak RSS and CPU time measured are the
planning process's, not the sandbox's:

1. **ours**: ``read_live`` + ``build_plan`` (``time.process_time`` around ``build_plan`` only);
2. **naive**: what a Terraform provider's refresh does: ``GET /companies/{id}`` per company,
   ``GET /users/customer/{id}`` and core ``GET /v2/orders?customer_id=`` per customer, then
   ``GET /orders/{id}`` per order, one by one, through the same paced client. With
   ``--naive-fraction F`` it reads the first F of each list, and its time is extrapolated
   linearly to the full request count (which is exact: it is computed from the seed).

The lower bound is ``reconciler.live.lower_bound`` for the store's true sizes (from the seed).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.harness import (
    Budget,
    Child,
    count,
    make_sandbox,
    serve,
    settings,
    summarize,
    table,
)
from bench.scenario import STORE_HASH, TOKEN, Scenario
from bench.workers import naive_read, plan_once
from reconciler.api import ApiClient
from reconciler.api.core import V2_PAGE
from reconciler.live import ReadCounts, lower_bound, plan_read_cost, read_needs
from reconciler.model import ManifestSet
from reconciler.sandbox import Sandbox

TARGETS = {
    "ratio_to_lower_bound": 1.1,
    "fewer_than_naive": 20.0,
    "cpu_seconds": 5.0,
    "rss_mb": 500.0,
}


# ----------------------------------------------------------------------------- ground truth


@dataclass(frozen=True)
class FirstPages:
    """What the first page of each listing holds, as the reader will see it."""

    groups: frozenset[int]
    customers: frozenset[int]
    orders: frozenset[int]
    emails: frozenset[str]
    """E-mails (lower case) of the users on the first page of ``GET /users``."""


def first_pages(sb: Sandbox, store_hash: str, token: str) -> FirstPages:
    """Ask the sandbox (in-process, outside the measured runs) for the first pages the reader
    asks for, with the reader's own calls."""
    api = settings(store_hash, token, "http://localhost", 150)
    with ApiClient.open(api, sb.transport(), sleep=lambda _s: None) as client:
        companies = client.b2b.companies_page()
        users = client.b2b.users_page()
        orders = client.b2b.orders_page()
        people = client.b2b.company_users_page()
    return FirstPages(
        groups=frozenset(c.customer_group_id for c in companies.items if c.customer_group_id),
        customers=frozenset(cid for cid, _company, _updated in users.items),
        orders=frozenset(o.bc_order_id for o in orders.items),
        emails=frozenset(u.email.lower() for u in people.items),
    )


def true_counts(seed: dict[str, Any], manifests: ManifestSet, first: FirstPages) -> ReadCounts:
    """The store's sizes, from the seed, and what of the managed objects the first pages hold."""
    needs = read_needs(manifests)
    live_groups = {c["customerGroupId"] for c in seed["companies"]}
    missing = [g for g in needs.groups if g not in live_groups]
    first_groups = {g["id"] for g in sorted(seed["customerGroups"], key=lambda g: g["id"])[:250]}
    per_customer = Counter(o["customerId"] for o in seed["orders"])
    wanted = {o["bcOrderId"] for o in seed["orders"] if o["customerId"] in set(needs.customers)}
    wanted |= set(needs.order_docs)
    group_of = {c["companyId"]: c["customerGroupId"] for c in seed["companies"]}
    per_company = Counter(group_of.get(u["companyId"]) for u in seed["users"])
    email_of = {c["id"]: c["email"].lower() for c in seed["customers"]}
    in_named = {
        email_of[u["customerId"]]
        for u in seed["users"]
        if group_of.get(u["companyId"]) in set(needs.user_groups)
    }
    listed = set(needs.user_emails)
    return ReadCounts(
        companies=len(seed["companies"]),
        groups_on_first_page=len(set(needs.groups) & first.groups),
        missing_groups=len(missing),
        customer_groups=len(seed["customerGroups"]),
        missing_groups_on_first_page=sum(1 for g in missing if g in first_groups),
        company_extra_fields=len(seed["extraFieldConfigs"]["company"]),
        order_extra_fields=len(seed["extraFieldConfigs"]["order"]),
        price_lists=len(seed["priceLists"]),
        users=len(seed["users"]),
        customers_on_first_page=len(set(needs.customers) & first.customers),
        orders_per_customer={c: per_customer.get(c, 0) for c in needs.customers},
        core_orders=len(seed["orders"]),
        orders_to_read=len(wanted),
        orders=len(seed["orders"]),
        orders_on_first_page=len(wanted & first.orders),
        user_extra_fields=len(seed["extraFieldConfigs"].get("user", [])),
        users_of_companies=tuple(
            per_company[g] for g in needs.user_groups if g in set(group_of.values())
        ),
        listed_users_on_first_page=len(listed & first.emails),
        listed_users_elsewhere=len(listed - first.emails - in_named),
    )


def naive_requests(seed: dict[str, Any], manifests: ManifestSet) -> tuple[int, int]:
    """(B2B, core) requests of the naive refresh, from the seed."""
    live_groups = {c["customerGroupId"] for c in seed["companies"]}
    companies = sum(1 for c in manifests.companies if c.customer_group_id in live_groups)
    customers = [c for a in manifests.assignments for c in a.customer_ids]
    per_customer = Counter(o["customerId"] for o in seed["orders"])
    core = sum(per_customer.get(c, 0) // V2_PAGE + 1 for c in customers)
    wanted = {o["bcOrderId"] for o in seed["orders"] if o["customerId"] in set(customers)}
    wanted |= {o.bc_order_id for o in manifests.orders}
    listed = len(read_needs(manifests).user_emails)  # one GET /users?email= per listed user
    return companies + len(customers) + len(wanted) + listed, core


# ----------------------------------------------------------------------------- the run


def run(args: argparse.Namespace) -> dict[str, Any]:
    scenario = Scenario(
        companies=args.companies,
        orders=args.orders,
        oa_customers=args.oa_customers,
        buyers=max(args.oa_customers, args.companies),
    )
    params = scenario.params()
    budget = Budget(args.compress, scenario.requests_per_minute)
    ours_child, naive_child = Child(), Child()  # before the sandbox makes this process big
    started = time.perf_counter()
    seed = scenario.seed()
    manifests = scenario.manifests()
    sb = make_sandbox(seed, budget)
    customers = len(read_needs(manifests).customers)
    print(
        f"store: {len(seed['companies']):,} companies, {len(seed['orders']):,} orders, "
        f"{len(seed['users']):,} users; {len(manifests.companies):,} Company, "
        f"{len(manifests.assignments):,} OrderAssignment ({customers:,} customers), "
        f"{len(manifests.orders):,} Order documents; seeded in "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    print(
        f"budget: B2B {budget.b2b[0]}/{budget.b2b[1]:g} s (our share {budget.share}, "
        f"{budget.b2b_rate:g}/s), core {budget.core[0]}/{budget.core[1]:g} s",
        file=sys.stderr,
    )
    needs = read_needs(manifests)
    counts = true_counts(seed, manifests, first_pages(sb, STORE_HASH, TOKEN))
    bound = lower_bound(needs, counts)
    cost = plan_read_cost(needs, counts)
    naive_b2b, naive_core = naive_requests(seed, manifests)
    expected = scenario.expected_actions()
    del seed
    out: dict[str, Any] = {
        "scenario": params,
        "budget": {
            "compress": args.compress,
            "b2b": list(budget.b2b),
            "core": list(budget.core),
            "share": budget.share,
        },
        "lowerBound": {"total": bound, "parts": vars(cost)},
    }
    time.sleep(budget.b2b[1])  # a fresh window for the measured runs
    with serve(sb) as served:
        print("ours: read + plan in a child process ...", file=sys.stderr)
        sb.clear_log()
        ours = ours_child.run(plan_once, served.url, params, args.compress, args.plan_repeats)
        ours["log"] = summarize(sb.request_log).to_json()
        out["ours"] = ours
        print(f"  {ours['readSeconds']:.1f} s", file=sys.stderr)
        fraction = args.naive_fraction
        print(f"naive: one by one, fraction {fraction:g} ...", file=sys.stderr)
        time.sleep(budget.b2b[1])  # a fresh window, as ours had
        sb.clear_log()
        naive = naive_child.run(naive_read, served.url, params, args.compress, fraction)
        naive["log"] = summarize(sb.request_log).to_json()
        naive["computedRequests"] = {"b2b": naive_b2b, "core": naive_core}
        out["naive"] = naive
        print(f"  {naive['seconds']:.1f} s", file=sys.stderr)
    sb.close()
    ours_child.close()
    naive_child.close()
    if ours["actions"] != {**dict.fromkeys(ours["actions"], 0), **expected}:
        raise SystemExit(f"unexpected plan: {ours['actions']} (expected {expected})")
    out["report"] = report(out, budget)
    return out


def _ideal(b2b: float, core: float, budget: Budget) -> float:
    """Seconds that these requests take at the allowed rates (B2B share, whole core budget)."""
    return b2b / budget.b2b_rate + core / (budget.core[0] / budget.core[1])


def _window_minimum(b2b: int, budget: Budget) -> float:
    """The least time a fixed window lets ``b2b`` requests take: full windows of our share, the
    last one sent at once."""
    return (math.ceil(b2b / budget.share) - 1) * budget.b2b[1]


def report(out: dict[str, Any], budget: Budget) -> str:
    ours, naive = out["ours"], out["naive"]
    o_b2b, o_core = ours["requests"]["b2bRequests"], ours["requests"]["coreRequests"]
    n_b2b_meas, n_core_meas = naive["requests"]["b2bRequests"], naive["requests"]["coreRequests"]
    n_b2b, n_core = naive["computedRequests"]["b2b"], naive["computedRequests"]["core"]
    scale = (n_b2b + n_core) / max(1, n_b2b_meas + n_core_meas)
    n_seconds = naive["seconds"] * scale
    bound = out["lowerBound"]["total"]
    parts = out["lowerBound"]["parts"]
    b2b_parts = (
        "companies",
        "company_extra_fields",
        "order_extra_fields",
        "users",
        "user_extra_fields",
        "company_users",
        "orders",
    )
    lb_b2b = sum(parts[p] for p in b2b_parts)
    lb_core = bound - lb_b2b
    ours_total = o_b2b + o_core
    o_ideal, n_ideal, lb_ideal = (
        _ideal(o_b2b, o_core, budget),
        _ideal(n_b2b, n_core, budget),
        _ideal(lb_b2b, lb_core, budget),
    )
    c = budget.compress
    o_min, n_min, lb_min = (_window_minimum(n, budget) for n in (o_b2b, n_b2b, lb_b2b))
    extrapolated = naive["fraction"] < 1
    naive_label = (
        f"naive (ran {naive['fraction']:.0%}, extrapolated)" if extrapolated else "naive (ran all)"
    )
    rows = [
        (
            "ours",
            count(ours_total),
            f"{o_b2b:,} + {o_core:,}",
            ours["log"]["b2b429"] + ours["log"]["core429"],
            f"{ours['readSeconds']:.2f}",
            f"{o_ideal:.2f}",
            f"{ours['readSeconds'] / o_ideal:.2f}",
            f"{o_min:.2f}",
            _minutes(o_ideal * c),
        ),
        (
            "lower bound",
            count(bound),
            f"{lb_b2b:,} + {lb_core:,}",
            "",
            "",
            f"{lb_ideal:.2f}",
            "",
            f"{lb_min:.2f}",
            _minutes(lb_ideal * c),
        ),
        (
            naive_label,
            count(n_b2b + n_core),
            f"{n_b2b:,} + {n_core:,}",
            naive["log"]["b2b429"] + naive["log"]["core429"],
            f"{n_seconds:.1f}" + (" (ext.)" if extrapolated else ""),
            f"{n_ideal:.1f}",
            f"{n_seconds / n_ideal:.2f}",
            f"{n_min:.1f}",
            _minutes(n_ideal * c),
        ),
    ]
    requests_table = table(
        (
            "reader",
            "requests",
            "B2B + core",
            "429s",
            "wall s",
            "requests / allowed rate, s",
            "wall / that",
            "B2B fixed-window minimum, s",
            "at the real budget",
        ),
        rows,
    )
    cpu_all = ", ".join(f"{x:.2f}" for x in ours["planCpuAll"])
    plan_table = table(
        ("measure (planning process)", "value", "target"),
        [
            ("diff+plan CPU s (`build_plan`)", f"{ours['planCpuSeconds']:.2f} ({cpu_all})", "< 5"),
            ("peak RSS MB (`ru_maxrss`)", f"{ours['peakRssMB']:.0f}", "< 500"),
            ("peak RSS MB (`VmHWM`)", _mb(ours.get("vmHwmMB")), ""),
            ("RSS after imports MB", f"{ours['rssAfterImportsMB']:.0f}", ""),
            ("actions planned", f"{sum(ours['actions'].values()):,}", ""),
        ],
    )
    ratio = ours_total / bound
    fewer = (n_b2b + n_core) / ours_total
    throttled = (
        ours["log"]["b2b429"]
        + ours["log"]["core429"]
        + naive["log"]["b2b429"]
        + naive["log"]["core429"]
    )
    checks = [
        (f"requests / lower bound = {ratio:.3f}", ratio <= TARGETS["ratio_to_lower_bound"]),
        (f"naive / ours = {fewer:.1f}x fewer", fewer >= TARGETS["fewer_than_naive"]),
        (f"429s = {throttled}", throttled == 0),
        (f"CPU = {ours['planCpuSeconds']:.2f} s", ours["planCpuSeconds"] < TARGETS["cpu_seconds"]),
        (f"peak RSS = {ours['peakRssMB']:.0f} MB", ours["peakRssMB"] < TARGETS["rss_mb"]),
    ]
    lines = [requests_table, "", plan_table, ""]
    lines += [f"- {'met ' if ok else 'MISSED'} {text}" for text, ok in checks]
    by_endpoint = ", ".join(f"{k} {v}" for k, v in ours["requests"]["byEndpoint"].items())
    lines += ["", f"ours by endpoint: {by_endpoint}"]
    return "\n".join(lines)


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def _minutes(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.plan_bench", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--oa-customers", type=int, default=2_000)
    parser.add_argument("--compress", type=float, default=100.0, help="time compression factor")
    parser.add_argument(
        "--naive-fraction",
        type=float,
        default=1.0,
        help="share of each list the naive reader reads (its time is extrapolated)",
    )
    parser.add_argument("--plan-repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args(argv)
    if not 0 < args.naive_fraction <= 1:
        parser.error("--naive-fraction must be in (0, 1]")
    out = run(args)
    print(out["report"])
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
