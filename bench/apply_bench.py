"""Apply 1,000 actions against a time-compressed sandbox: achieved request rate against the
allowed rate, 429s, and convergence under injected 5xx.

    python -m bench.apply_bench [--compress 100] [--converts 100] [--updates 600]
                                [--reassigns 300] [--json FILE]

Two runs, each on a fresh store (2,000 companies, 20,000 orders; see ``bench/scenario.py``):

1. **clean**: plan (faults off), then ``apply_plan`` (its staleness check included) timed with
   real sleeps;
2. **5xx**: the same plan, applied while the sandbox fails 10% of B2B requests with 503
   (``{"method": "ANY", "path": "^/api/v3/io/", "status": 503, "probability": 0.1, "seed": 1}``);
   then faults off and plan again: the target is an empty plan (converged in one apply).

The Store manifest sets ``requestsPerMinute: 150``, so the client's share is the whole
allocation (``floor(150 * 150 / 150)``): the allowed rate is 150 per compressed window
(150/0.6 s = 250 requests/s at 100x). Achieved rate = B2B requests the sandbox saw during apply
÷ apply wall time. Client and sandbox share this process (in-process transport, no sockets), so
the sandbox's own service time counts against the achieved rate.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import replace
from typing import Any

from bench.harness import Budget, make_sandbox, open_client, settings, summarize, table
from bench.scenario import STORE_HASH, TOKEN, Scenario
from reconciler.api import ApiClient
from reconciler.executor import apply_plan
from reconciler.kinds import api_requests
from reconciler.live import read_live
from reconciler.model import ManifestSet, Plan
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox

FAULTS_5XX = [
    {"method": "ANY", "path": "^/api/v3/io/", "status": 503, "probability": 0.1, "seed": 1},
]
TARGET_RATIO = 0.9
TARGET_PER_ACTION = 1.2
"""B2B requests per action of a clean apply, the staleness check and verification included."""
MAX_APPLIES = 3


def scenario(args: argparse.Namespace) -> Scenario:
    """Converts, updates (name or extra field) and reassigns; nothing else."""
    companies = max(2_000, args.reassigns + args.updates + 1)
    return Scenario(
        companies=companies,
        orders=10 * companies,
        oa_customers=2 * args.reassigns,
        buyers=companies,
        converts=args.converts,
        renamed=args.updates - args.updates // 2,
        retiered=args.updates // 2,
        recataloged=0,
        deactivated=0,
        loose_customers=0,
        foreign_customers=args.reassigns,
        order_docs=0,
        changed_orders=0,
        requests_per_minute=150,
    )


def _client(sb: Sandbox, budget: Budget) -> ApiClient:
    api = settings(STORE_HASH, TOKEN, "http://localhost", budget.requests_per_minute)
    return open_client(api, budget, sb.transport())


def _plan(sb: Sandbox, manifests: ManifestSet, budget: Budget) -> Plan:
    """The plan ``apply`` without ``--plan`` makes: its own read, so its staleness check asks
    only what changed since (``Plan.own_read``)."""
    with _client(sb, budget) as client:
        live = read_live(client, manifests)
    plan = build_plan(manifests, live, created_at="2026-01-01T00:00:00Z")
    return replace(plan, own_read=True)


def one_run(
    name: str,
    sc: Scenario,
    seed: dict[str, Any],
    manifests: ManifestSet,
    budget: Budget,
    faults: list[dict[str, Any]],
) -> dict[str, Any]:
    sb = make_sandbox(seed, budget)
    plan = _plan(sb, manifests, budget)
    counts = {k: v for k, v in plan.counts().items() if v}
    time.sleep(budget.b2b[1])  # a fresh window: apply starts as a separate command would
    sb.set_faults(faults)
    sb.clear_log()
    with _client(sb, budget) as client:
        started = time.perf_counter()
        report = apply_plan(client, plan)  # checks the plan is fresh first, as the CLI does
        seconds = time.perf_counter() - started
        stats = client.stats.snapshot()
    log = summarize(sb.request_log)
    sb.set_faults([])
    time.sleep(budget.b2b[1])
    after = _plan(sb, manifests, budget)
    next_plan = len(after.actions)
    applies = 1
    while after.actions and applies < MAX_APPLIES:
        # Not converged in one apply: show what a second one (same faults) does.
        sb.set_faults(faults)
        with _client(sb, budget) as client:
            apply_plan(client, after)
        applies += 1
        sb.set_faults([])
        time.sleep(budget.b2b[1])
        after = _plan(sb, manifests, budget)
    sb.close()
    outcomes: dict[str, int] = {}
    for result in report.results:
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    rate = log.b2b / seconds
    # The fastest the fixed window allows: the last window's requests cost no waiting.
    minimum = (math.ceil(log.b2b / budget.share) - 1) * budget.b2b[1]
    return {
        "name": name,
        "actions": counts,
        "actionTotal": len(plan.actions),
        "outcomes": outcomes,
        "ok": report.ok,
        "verification": list(report.verification),
        "failures": [
            {"id": r.action_id, "outcome": r.outcome, "message": r.message}
            for r in report.results
            if r.outcome != "applied"
        ],
        "seconds": seconds,
        "log": log.to_json(),
        "client": stats.to_json(),
        "achievedRate": rate,
        "allowedRate": budget.b2b_rate,
        "ratio": rate / budget.b2b_rate,
        "minimumSeconds": minimum,
        "nextPlanActions": next_plan,
        "appliesToConverge": applies if not after.actions else None,
        "expectedPlanRequests": api_requests(plan),
    }


def _next_plan(run: dict[str, Any]) -> str:
    if run["nextPlanActions"] == 0:
        return "empty"
    text = f"{run['nextPlanActions']} action(s)"
    if run["appliesToConverge"]:
        text += f"; empty after apply #{run['appliesToConverge']}"
    return text


def report(runs: list[dict[str, Any]]) -> str:
    rows = []
    for r in runs:
        rows.append(
            (
                r["name"],
                f"{r['actionTotal']:,}",
                f"{r['outcomes'].get('applied', 0):,}",
                f"{r['log']['b2b']:,}",
                r["log"]["5xx"],
                r["client"]["retries"],
                r["log"]["b2b429"],
                f"{r['seconds']:.2f}",
                f"{r['achievedRate']:.0f}",
                f"{r['allowedRate']:.0f}",
                f"{r['ratio']:.2f}",
                f"{r['seconds'] / r['minimumSeconds']:.2f}" if r["minimumSeconds"] else "",
                _next_plan(r),
            )
        )
    out = table(
        (
            "run",
            "actions",
            "applied",
            "B2B requests",
            "5xx injected",
            "retries",
            "429s",
            "wall s",
            "achieved req/s",
            "allowed req/s",
            "achieved / allowed",
            "wall / fixed-window minimum",
            "next plan",
        ),
        rows,
    )
    clean = runs[0]
    per_action = clean["log"]["b2b"] / clean["actionTotal"]
    made = clean["log"]["b2b"] + clean["log"]["core"]
    checks = [
        (
            f"clean: achieved / allowed = {clean['ratio']:.2f}, 429s = {clean['log']['b2b429']}",
            clean["ratio"] >= TARGET_RATIO and clean["log"]["b2b429"] == 0,
        ),
        (
            f"clean: {per_action:.3f} B2B requests per action (target <= "
            f"{TARGET_PER_ACTION}), {clean['log']['core'] / clean['actionTotal']:.3f} core",
            per_action <= TARGET_PER_ACTION,
        ),
        (
            f"clean: apply made {made:,} requests, the plan's apiRequests said "
            f"{clean['expectedPlanRequests']:,}",
            made == clean["expectedPlanRequests"],
        ),
    ]
    for r in runs[1:]:
        checks.append(
            (
                f"{r['name']}: applied and verified = {r['ok']}, next plan "
                f"{r['nextPlanActions']} actions, 429s = {r['log']['b2b429']}",
                r["ok"] and r["nextPlanActions"] == 0 and r["log"]["b2b429"] == 0,
            )
        )
    lines = [out, ""] + [f"- {'met ' if ok else 'MISSED'} {text}" for text, ok in checks]
    for r in runs:
        for failure in r["failures"]:
            what = f"{failure['id']} {failure['outcome']}: {failure['message']}"
            lines.append(f"  - {r['name']}: {what}")
    lines.append("")
    lines.append(f"actions: {clean['actions']}")
    lines.append(
        "apply requests (clean): "
        + ", ".join(f"{k} {v}" for k, v in clean["client"]["byEndpoint"].items())
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.apply_bench", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--compress", type=float, default=100.0, help="time compression factor")
    parser.add_argument("--converts", type=int, default=100)
    parser.add_argument("--updates", type=int, default=600)
    parser.add_argument("--reassigns", type=int, default=300)
    parser.add_argument(
        "--fault-seed", type=int, action="append", help="seed of the 5xx rule (repeatable; 1)"
    )
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args(argv)
    sc = scenario(args)
    budget = Budget(args.compress, sc.requests_per_minute)
    seed = sc.seed()
    manifests = sc.manifests()
    print(
        f"store: {sc.companies:,} companies, {sc.orders:,} orders; budget B2B "
        f"{budget.b2b[0]}/{budget.b2b[1]:g} s, share {budget.share} ({budget.b2b_rate:g}/s)",
        flush=True,
    )
    runs = []
    fault_runs = [
        (f"10% 5xx (seed {n})", [{**FAULTS_5XX[0], "seed": n}]) for n in args.fault_seed or [1]
    ]
    for name, faults in [("clean", []), *fault_runs]:
        print(f"{name} ...", flush=True)
        runs.append(one_run(name, sc, seed, manifests, budget, faults))
    text = report(runs)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"runs": runs, "report": text}, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
