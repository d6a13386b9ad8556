"""Sharing the B2B budget with another integration: the 429s it gets, our requests and wall
time, with the old pacing (``burst``) and the new one (``fair``), side by side.

    python -m bench.pacing_bench [--compress 20] [--requests 1000] [--other 75]
                                 [--rpm 120] [--json FILE]

One store (``--requests`` companies, nothing else), in-process, with the B2B window
compressed (``150/60 s`` -> ``150/3 s`` at 20x). Our work: ``--requests`` B2B requests through
the client with real sleeps, ``GET /companies/{id}`` for every company one by one (what a
refresh one object at a time, or an apply's reads, look like to the budget: many small
requests, so the run is bound by the rate limit, not by the work). The other integration is a
thread that sends ``GET /companies?limit=1&integration=other`` ``--other`` times per window at
an even pace, from one window before our run until it ends; it never waits for the budget and
only counts its answers (as the integration in issue 17 did).

Runs, on the same store, each after a fresh window:

1. the other integration alone, for as long as the longest shared run: its own use never meets
   a 429 (so every 429 it gets below is caused by our requests);
2. our read alone, burst then fair: the wall-time ratio fair / burst;
3. our read shared with the other, burst then fair.

Whose 429s: the sandbox's request log replayed window by window (a fixed window starts at the
first request after the last one ended), counting in each window our requests, its requests and
its refusals. A 429 is "in a window holding ours" when our requests were counted in that window.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.harness import Budget, make_sandbox, open_client, settings, table
from bench.scenario import STORE_HASH, TOKEN
from reconciler.api import Pacing
from reconciler.sandbox import Sandbox
from reconciler.sandbox.log import LogEntry

OTHER_QUERY = "limit=1&integration=other"
B2B_PREFIX = "/api/v3/io"


@dataclass
class Other:
    """Another integration: ``per_window`` requests per window, evenly, until stopped."""

    sb: Sandbox
    per_window: int
    window: float
    statuses: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="other-integration", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        interval = self.window / self.per_window
        headers = {"X-Auth-Token": TOKEN, "X-Store-Hash": STORE_HASH}
        url = f"http://localhost{B2B_PREFIX}/companies?{OTHER_QUERY}"
        with httpx.Client(transport=self.sb.transport()) as client:
            due = time.perf_counter()
            while not self._stop.is_set():
                self.statuses.append(client.get(url, headers=headers).status_code)
                due += interval
                pause = due - time.perf_counter()
                if pause > 0 and self._stop.wait(pause):
                    break


def store_seed(companies: int) -> dict[str, Any]:
    """A Dependent store holding ``companies`` companies, each with its customer group."""
    return {
        "store": {"hash": STORE_HASH, "companiesBehavior": "dependent", "accessToken": TOKEN},
        "customerGroups": [{"id": i, "name": f"Group {i}"} for i in range(1, companies + 1)],
        "companies": [
            {
                "companyId": 100_000 + i,
                "customerGroupId": i,
                "companyName": f"Company {i}",
                "companyEmail": f"company{i}@example.com",
                "companyStatus": 1,
                "createdAt": 1_700_000_000,
                "updatedAt": 1_700_000_000,
            }
            for i in range(1, companies + 1)
        ],
    }


def replay(entries: list[LogEntry], count: int, window: float) -> list[dict[str, int]]:
    """The sandbox's fixed windows from its log: per window, our accepted requests, the other's
    accepted requests and the other's refusals."""
    windows: list[dict[str, int]] = []
    start: float | None = None
    for entry in sorted((e for e in entries if e.path.startswith(B2B_PREFIX)), key=lambda e: e.at):
        if start is None or entry.at >= start + window:
            start = entry.at
            windows.append({"ours": 0, "its": 0, "its429": 0, "ours429": 0})
        current = windows[-1]
        other = entry.query == OTHER_QUERY
        if entry.status == 429:
            current["its429" if other else "ours429"] += 1
        else:
            current["its" if other else "ours"] += 1
    return windows


def one_run(
    sb: Sandbox,
    company_ids: list[int],
    budget: Budget,
    pacing: Pacing | None,
    other_per_window: int,
    other_seconds: float = 0.0,
) -> dict[str, Any]:
    """``pacing=None``: the other integration alone for ``other_seconds``."""
    window = budget.b2b[1]
    time.sleep(window * 1.1)  # a fresh window
    sb.clear_log()
    other = Other(sb, other_per_window, window) if other_per_window else None
    if other is not None:
        other.start()
        time.sleep(window)  # the other integration is already at work when ours starts
    stats: dict[str, Any] = {}
    seconds = 0.0
    if pacing is None:
        time.sleep(other_seconds)
    else:
        api = settings(STORE_HASH, TOKEN, "http://localhost", budget.requests_per_minute)
        with open_client(api, budget, sb.transport(), pacing=pacing) as client:
            started = time.perf_counter()
            for company_id in company_ids:
                client.b2b.get_company(company_id)
            seconds = time.perf_counter() - started
            stats = client.stats.to_json()
    if other is not None:
        other.stop()
    windows = replay(sb.request_log, budget.b2b[0], window)
    its = other.statuses if other is not None else []
    its429 = its.count(429)
    in_ours = sum(w["its429"] for w in windows if w["ours"] > 0)
    return {
        "pacing": pacing,
        "shared": other is not None,
        "seconds": seconds,
        "ours": stats.get("b2bRequests", 0),
        "ours429": stats.get("throttled", 0),
        "its": len(its),
        "its429": its429,
        "its429InOurWindows": in_ours,
        "windows": windows,
        "client": stats,
    }


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else ""


def report(runs: list[dict[str, Any]], budget: Budget, other_per_window: int) -> str:
    window = budget.b2b[1]
    alone = {r["pacing"]: r for r in runs if r["pacing"] and not r["shared"]}
    rows = []
    for r in runs:
        if r["pacing"] is None:
            name = "the other alone"
        else:
            name = f"{r['pacing']}, {'shared' if r['shared'] else 'alone'}"
        full = [w for w in r["windows"][1:-1] if w["ours"]]  # whole windows of our run
        per_window = sum(w["ours"] for w in full) / len(full) if full else 0.0
        rows.append(
            (
                name,
                f"{r['ours']:,}" if r["pacing"] else "",
                r["ours429"] if r["pacing"] else "",
                f"{per_window:.0f}" if r["pacing"] else "",
                f"{r['its']:,}" if r["shared"] else "",
                f"{r['its429']:,}" if r["shared"] else "",
                f"{r['its429InOurWindows']:,}" if r["shared"] else "",
                f"{r['seconds']:.1f}" if r["pacing"] else "",
                f"{r['seconds'] * budget.compress / 60:.1f}" if r["pacing"] else "",
                _ratio(r["seconds"], alone[r["pacing"]]["seconds"]) if r["pacing"] in alone else "",
            )
        )
    out = table(
        (
            "run",
            "our B2B requests",
            "our 429s",
            "ours per whole window",
            "its requests",
            "its 429s",
            "of them in windows holding ours",
            "our wall s",
            "at the real budget, min",
            "wall / alone (same pacing)",
        ),
        rows,
    )
    control = next(r for r in runs if r["pacing"] is None)
    fair_shared = next(r for r in runs if r["pacing"] == "fair" and r["shared"])
    burst_shared = next(r for r in runs if r["pacing"] == "burst" and r["shared"])
    ratio = alone["fair"]["seconds"] / alone["burst"]["seconds"]
    checks = [
        (
            f"the other alone ({other_per_window} per {window:g} s window): "
            f"{control['its429']} 429s of {control['its']:,}",
            control["its429"] == 0,
        ),
        (
            f"fair, shared: the other got {fair_shared['its429']} 429s of "
            f"{fair_shared['its']:,} (burst: {burst_shared['its429']:,} of "
            f"{burst_shared['its']:,})",
            fair_shared["its429"] == 0,
        ),
        (
            f"alone, fair / burst wall time = {ratio:.2f}",
            ratio <= 1.1,
        ),
        (
            "our own 429s: "
            + ", ".join(
                f"{r['pacing']} {'shared' if r['shared'] else 'alone'} {r['ours429']}"
                for r in runs
                if r["pacing"]
            ),
            all(r["ours429"] == 0 for r in runs if r["pacing"]),
        ),
    ]
    lines = [out, ""] + [f"- {'met ' if ok else 'MISSED'} {text}" for text, ok in checks]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pacing_bench", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--compress", type=float, default=20.0, help="time compression factor")
    parser.add_argument("--requests", type=int, default=1_000, help="our B2B requests")
    parser.add_argument(
        "--other", type=int, default=75, help="the other integration's requests per window"
    )
    parser.add_argument("--rpm", type=int, default=120, help="our requestsPerMinute")
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args(argv)
    budget = Budget(args.compress, args.rpm)
    seed = store_seed(args.requests)
    company_ids = [int(c["companyId"]) for c in seed["companies"]]
    sb = make_sandbox(seed, budget)
    print(
        f"store: {len(company_ids):,} companies; budget B2B {budget.b2b[0]}/{budget.b2b[1]:g} s, "
        f"our share {budget.share}; the other integration: {args.other} per window",
        flush=True,
    )
    runs: list[dict[str, Any]] = []
    plan: list[tuple[Pacing, int]] = [
        ("burst", 0),
        ("fair", 0),
        ("burst", args.other),
        ("fair", args.other),
    ]
    for pacing, other in plan:
        print(f"{pacing}, {'shared' if other else 'alone'} ...", flush=True)
        runs.append(one_run(sb, company_ids, budget, pacing, other))
    longest = max(r["seconds"] for r in runs if r["shared"])
    print("the other alone ...", flush=True)
    runs.insert(0, one_run(sb, company_ids, budget, None, args.other, longest))
    sb.close()
    text = report(runs, budget, args.other)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"args": vars(args), "runs": runs, "report": text}, fh, indent=2)


if __name__ == "__main__":
    main()
