"""``plan`` as users run it: the real CLI in its own process, against a store served by another.

    python -m bench.plan_process [--sizes 10k,50k] [--compress 100] [--repeats 7] [--json FILE]

For each store size (``10k``: 10,000 companies / 100,000 orders / 2,000 OrderAssignment
customers, as ``bench.plan_bench``; ``50k``: 50,000 / 500,000 / 10,000), a spawned process
seeds the sandbox from ``bench/scenario.py``, writes the manifests as YAML files (one per
document, as ``import`` lays them out) and serves the store on a loopback port with its rate
limits compressed in time (see ``bench/harness.py``). The benchmark then runs
``b2b-reconcile plan FOLDER --format json`` as a child process and takes from ``os.wait4`` its
CPU seconds (user + system) and its peak RSS (``ru_maxrss``). The requests are those the
sandbox logged; the lower bound is ``reconciler.live.lower_bound`` for the store's true sizes.
The plan must hold exactly the actions the scenario expects, else the benchmark stops.

With incremental refresh (``plan --refresh``): ``plan --refresh auto`` with no change, then
after a few outside changes, each checked against ``--refresh full``; then
``apply FOLDER --auto-approve`` (a child process too: its requests, and B2B requests per
action with its own read included), ``plan --refresh auto`` (it reads apply's own changes),
``plan --refresh auto`` again with no change, twice (see ``converge``: the first lists again
the apply's writes stamped within the 5-s margin before the plan it starts from; the second
is issue 17's target: at most 12 requests at 10k) and ``plan --refresh full`` on the converged
store, which must plan nothing. Every incremental plan must equal the full read's; its lower
bound is ``reconciler.incremental``'s cost model for what the store reports modified since the
snapshot.

Startup: ``b2b-reconcile --help``, ``validate`` on the example store and on the 10k manifests,
and ``python -c pass`` as the floor, each timed as a process (wall time), interleaved, the
median of ``--repeats`` runs.

``--baseline REV`` runs every ``plan`` twice, side by side: first the ``reconciler`` package of
the git revision REV (from ``git archive``, first on the child's ``PYTHONPATH``, with a cache
folder of its own, so its incremental plans read from its own snapshots), then this tree's; a
rate-limit window apart, against the same store (the plans before the apply: those after it
run alone, as their timing is what they measure). Its CPU seconds and peak RSS are reported
beside this tree's, and its plan must hold the same actions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import Budget, bytecode, count, peak_rss_mb, table
from bench.scenario import TOKEN, Scenario
from bench.store_process import StoreProcess

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "store"
SIZES = {"1k": 1_000, "10k": 10_000, "50k": 50_000}
"""1k: a quick check of the benchmark itself (not reported)."""
TARGETS = {"cpu10k": 3.0, "rss50k": 300.0, "help": 0.15}


def cli() -> list[str]:
    """The console script next to this interpreter (what users run), else ``-m reconciler``."""
    script = Path(sys.executable).parent / "b2b-reconcile"
    return [str(script)] if script.exists() else [sys.executable, "-m", "reconciler"]


def child_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("B2B_", "BIGCOMMERCE_"))}
    env["BIGCOMMERCE_ACCESS_TOKEN"] = TOKEN
    env["B2B_RECONCILE_CACHE_DIR"] = str(cache)
    env["NO_COLOR"] = "1"
    return env


def measured(argv: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Run ``argv`` to its end; its wall time, exit code, CPU seconds and peak RSS, with
    stdout and stderr kept in files (never in this process's memory while it runs)."""
    out_path, err_path = cwd / "stdout.txt", cwd / "stderr.txt"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "exit": proc.returncode,
        "wallSeconds": wall,
        "cpuSeconds": usage.ru_utime + usage.ru_stime,
        "userSeconds": usage.ru_utime,
        "systemSeconds": usage.ru_stime,
        "peakRssMB": usage.ru_maxrss / 1024.0,
        "stdout": out_path.read_text(encoding="utf-8", errors="replace"),
        "stderr": err_path.read_text(encoding="utf-8", errors="replace")[-2000:],
    }


def command_argv(store: StoreProcess, work: Path, command: str, extra: list[str]) -> list[str]:
    """``b2b-reconcile COMMAND FOLDER --format json`` against the store's URLs, then ``extra``."""
    url = store.info["url"]
    return [
        *cli(),
        command,
        str(work / "manifests"),
        "--format",
        "json",
        "--api-url",
        f"{url}/api/v3/io",
        "--core-api-url",
        url,
        *extra,
    ]


def run_command(store: StoreProcess, work: Path, command: str, extra: list[str]) -> dict[str, Any]:
    """One ``COMMAND FOLDER --format json`` process against the store; its costs, the requests
    the store logged while it ran, and its stdout (the JSON document)."""
    argv = command_argv(store, work, command, extra)
    store.log()  # clear
    run_since = since_of_snapshot(work / "cache")
    launcher_rss = peak_rss_mb()
    run = measured(argv, child_env(work / "cache"), work)
    run["requests"] = store.log()
    run["since"] = run_since
    run["launcherPeakRssMB"] = launcher_rss
    if run["exit"] != 0:
        raise SystemExit(f"{command} exited {run['exit']}:\n{run['stderr']}")
    return run


def since_of_snapshot(cache: Path) -> dict[str, int] | None:
    """Where an incremental read from the snapshot in ``cache`` starts its change listings,
    per API (``reconciler.incremental.since_of``); None without a usable snapshot."""
    from reconciler import incremental, snapshot
    from reconciler.model import LiveState

    found = sorted(cache.glob("snapshot-*.json"))
    if not found:
        return None
    data = json.loads(found[0].read_text())
    snap = snapshot.Snapshot(
        store_hash=str(data["storeHash"]),
        taken_at=int(data["takenAt"]),
        live=LiveState(store_hash=str(data["storeHash"])),
        store_clock=dict(data.get("storeClock", {})),
    )
    return {api: incremental.since_of(snap, api) for api in ("b2b", "core")}


BASELINE: dict[str, Any] = {}
"""``--baseline REV``: ``{"rev": REV, "env": {"PYTHONPATH": ...}, "pause": seconds}``."""


def baseline_plan(store: StoreProcess, work: Path, extra: list[str]) -> dict[str, Any]:
    """The same ``plan`` with the baseline revision's code and its own cache folder; its costs
    and its actions by type (the store's log of its requests is dropped)."""
    argv = command_argv(store, work, "plan", extra)
    env = {**child_env(work / "cache-baseline"), **BASELINE["env"]}
    run = measured(argv, env, work)
    store.log()  # its requests are not this tree's
    if run["exit"] != 0:
        raise SystemExit(f"plan ({BASELINE['rev']}) exited {run['exit']}:\n{run['stderr']}")
    actions = by_type(json.loads(run.pop("stdout"))["actions"])
    time.sleep(BASELINE["pause"])  # a fresh rate-limit window for this tree's plan
    keep = ("cpuSeconds", "userSeconds", "systemSeconds", "peakRssMB", "wallSeconds")
    return {"rev": BASELINE["rev"], **{k: run[k] for k in keep}, "actionsByType": actions}


def run_plan(
    store: StoreProcess, work: Path, extra: list[str], side: bool = True
) -> dict[str, Any]:
    """One ``plan --format json`` process against the store; its costs and the plan (with
    ``--baseline`` and ``side``, the baseline revision's run of the same plan first, under
    ``baseline``; the plans after the apply run alone, their timing is what they measure)."""
    before = baseline_plan(store, work, extra) if BASELINE.get("env") and side else None
    run = run_command(store, work, "plan", extra)
    if before is not None:
        run["baseline"] = before
    plan = json.loads(run.pop("stdout"))
    run["actions"] = plan["actions"]
    run["refresh"] = plan.get("refresh")
    run["counts"] = {k: v for k, v in plan["summary"].items() if isinstance(v, int) and v}
    if before is not None and before["actionsByType"] != by_type(plan["actions"]):
        raise SystemExit(
            f"the baseline planned {before['actionsByType']}, this tree {by_type(plan['actions'])}"
        )
    return run


def by_type(actions: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for action in actions:
        out[action["type"]] = out.get(action["type"], 0) + 1
    return out


def supports_refresh() -> bool:
    """Whether this CLI's ``plan`` takes ``--refresh`` (incremental refresh, issue 17 item 1)."""
    shown = subprocess.run([*cli(), "plan", "--help"], capture_output=True, text=True, check=False)
    return "--refresh" in shown.stdout


def outside_changes(scenario: Scenario) -> list[tuple[str, dict[str, Any]]]:
    """One managed company renamed, one OrderAssignment customer's orders moved to another
    company, one (unmanaged) company deleted: ``(reconciler.sandbox.outside function, args)``."""
    quiet = scenario.changed_companies()["deactivated"].stop + 5  # managed, otherwise unchanged
    customer = scenario.oa_customer_ids()[-1]  # all its orders in its own company
    home = scenario.assigned_company(customer - scenario.companies)
    gone = scenario.unmanaged_companies()[0]
    return [
        ("rename_company", {"company_id": scenario.company_id(quiet), "name": "Renamed outside"}),
        ("reassign_orders", {"customer_id": customer, "group_id": home % scenario.companies + 1}),
        ("delete_company", {"company_id": scenario.company_id(gone)}),
    ]


def _bound(
    store: StoreProcess, run: dict[str, Any], converged: bool = False
) -> dict[str, Any] | None:
    """The lower bound of the incremental read ``run`` made (``incremental_read_cost`` for the
    parts it served from the snapshot and what the store reports modified since). Once
    ``converged``, no managed group lacks its company: none is read on its own."""
    refresh = run.get("refresh") or {}
    if refresh.get("mode") != "incremental":
        return None
    parts = refresh.get("fromSnapshot", [])
    return dict(store.call("incremental_bound", run["since"], parts, converged))


def _progress(label: str, run: dict[str, Any]) -> None:
    req = run["requests"]
    print(
        f"  {label}: {req['b2b'] + req['core']:,} requests, {run['cpuSeconds']:.2f} CPU-s, "
        f"{run['peakRssMB']:.0f} MB, {run['wallSeconds']:.1f} s",
        file=sys.stderr,
    )


def measure_size(label: str, compress: float, incremental: bool) -> dict[str, Any]:
    n = SIZES[label]
    scenario = Scenario(companies=n, orders=10 * n, oa_customers=n // 5, buyers=n, unmanaged=10)
    budget = Budget(compress, scenario.requests_per_minute)
    BASELINE["pause"] = budget.b2b[1]
    work = Path(tempfile.mkdtemp(prefix=f"plan-process-{label}-"))
    try:
        print(f"{label}: seeding the store and writing the manifests ...", file=sys.stderr)
        store = StoreProcess(scenario.params(), compress, work / "manifests")
        try:
            info = store.info
            print(
                f"  {info['companies']:,} companies, {info['orders']:,} orders, "
                f"{info['users']:,} users; sandbox seeded in {info['seedSeconds']:.1f} s; "
                f"{info['documents']:,} manifest files written in {info['writeSeconds']:.1f} s",
                file=sys.stderr,
            )
            out: dict[str, Any] = {
                "size": label,
                "store": {k: info[k] for k in ("companies", "orders", "users", "documents")},
                "seedSeconds": info["seedSeconds"],
                "lowerBound": info["lowerBound"],
                "adminChecks": info["adminChecks"],
                "lowerBoundParts": info["lowerBoundParts"],
            }
            full_flag = ["--refresh", "full"] if incremental else []
            time.sleep(budget.b2b[1])  # a fresh window
            full = run_plan(store, work, full_flag)
            _progress("plan (full read)", full)
            expected = {k: v for k, v in info["expected"].items() if v}
            if by_type(full["actions"]) != expected:
                raise SystemExit(f"{label}: unexpected plan {by_type(full['actions'])}")
            out["full"] = {k: v for k, v in full.items() if k != "actions"}
            if not incremental:
                return out
            time.sleep(budget.b2b[1])
            same = run_plan(store, work, ["--refresh", "auto"])
            _progress("plan --refresh auto, no change", same)
            same_bound = _bound(store, same)  # before the changes: what changed since counts
            changes = outside_changes(scenario)
            for name, kwargs in changes:
                store.call("outside", name, kwargs)
            time.sleep(budget.b2b[1])
            after = run_plan(store, work, ["--refresh", "auto"])
            _progress("plan --refresh auto, after outside changes", after)
            time.sleep(budget.b2b[1])
            truth = run_plan(store, work, ["--refresh", "full"])
            _progress("plan --refresh full, after outside changes", truth)
            out["incremental"] = {
                "noChangeBound": same_bound,
                "afterChangesBound": _bound(store, after),
                "noChange": {k: v for k, v in same.items() if k != "actions"},
                "noChangeEqualsFull": same["actions"] == full["actions"],
                "changes": [{"change": name, **kwargs} for name, kwargs in changes],
                "afterChanges": {k: v for k, v in after.items() if k != "actions"},
                "fullAfterChanges": {k: v for k, v in truth.items() if k != "actions"},
                "afterChangesEqualsFull": after["actions"] == truth["actions"],
                "actionsAfterChanges": by_type(truth["actions"]),
            }
            out["converged"] = converge(store, work, budget, truth["actions"])
            return out
        finally:
            store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _apply_run(store: StoreProcess, work: Path, planned: list[dict[str, Any]]) -> dict[str, Any]:
    """``apply FOLDER --auto-approve --force`` (its own read, ``--refresh auto``, then the
    writes and their verification); its costs, and B2B requests per action of its plan."""
    # --force: the scenario changes more than maxChangePercent (30%) of the managed objects.
    run = run_command(store, work, "apply", ["--auto-approve", "--force"])
    report = json.loads(run.pop("stdout"))
    summary = report.get("summary", {})
    if not report.get("ok") or summary.get("applied") != len(planned):
        raise SystemExit(f"apply did not apply every action: {summary}")
    req = run["requests"]
    by_endpoint = req.get("byEndpoint", {})
    run["actions"] = len(planned)
    run["summary"] = summary
    run["writes"] = sum(n for e, n in by_endpoint.items() if not e.startswith("GET "))
    run["b2bPerAction"] = req["b2b"] / len(planned) if planned else 0.0
    return run


def converge(
    store: StoreProcess, work: Path, budget: Budget, planned: list[dict[str, Any]]
) -> dict[str, Any]:
    """After the outside changes: ``apply --auto-approve``, then ``plan --refresh auto`` (it
    reads apply's own changes), ``plan --refresh auto`` twice more with nothing changed, and
    ``plan --refresh full`` on the converged store. Every plan must be empty and the
    incremental ones equal to the full read's.

    The plan right after the apply starts within ``incremental.DATE_MARGIN`` (5 s, the store's
    clock) of the apply's last writes, so the next plan lists those writes again: a change
    made right after a read may be stamped up to the margin before it, so no reader can skip
    them (``tests/live/test_after_apply.py``). The budgets here are compressed 100x but the
    store's clock is not, so those 5 s hold every write of the apply; at the store's own pace
    they hold a few, and the apply's trailing verification reads already take the next plan
    past the margin. That second plan is reported as such (``withinMargin``); it starts once
    the store's clock is past the margin after the apply's end, so the third (``noChange``,
    issue 17's target: at most 12 requests at 10k) starts from a snapshot taken past it."""
    from reconciler.incremental import DATE_MARGIN

    time.sleep(budget.b2b[1])
    applied = _apply_run(store, work, planned)
    applied_end = time.time()  # the store runs on this machine's clock
    _progress(f"apply --auto-approve ({len(planned):,} actions)", applied)
    time.sleep(budget.b2b[1])
    after = run_plan(store, work, ["--refresh", "auto"], side=False)
    _progress("plan --refresh auto, after apply", after)
    after_bound = _bound(store, after, converged=True)
    past = applied_end + DATE_MARGIN + 1 - time.time()
    time.sleep(max(budget.b2b[1], past))
    within = run_plan(store, work, ["--refresh", "auto"], side=False)
    _progress("plan --refresh auto, no change, from the plan after the apply", within)
    within_bound = _bound(store, within, converged=True)
    # When the plan after the apply first reached the store, after the apply's end (the
    # store's clock is this machine's; the snapshot's clock is rounded up to the second).
    began = (within["since"] or {}).get("b2b")
    gap = None if began is None else began + DATE_MARGIN - applied_end
    time.sleep(budget.b2b[1])
    again = run_plan(store, work, ["--refresh", "auto"], side=False)
    _progress("plan --refresh auto, converged, no change", again)
    again_bound = _bound(store, again, converged=True)
    time.sleep(budget.b2b[1])
    truth = run_plan(store, work, ["--refresh", "full"], side=False)
    _progress("plan --refresh full, converged", truth)
    if truth["actions"]:
        raise SystemExit(f"apply did not converge: the full read plans {by_type(truth['actions'])}")
    return {
        "apply": applied,
        "afterApplyBound": after_bound,
        "afterApply": {k: v for k, v in after.items() if k != "actions"},
        "afterApplyEqualsFull": after["actions"] == truth["actions"],
        "withinMarginBound": within_bound,
        "withinMarginGapSeconds": gap,
        "withinMargin": {k: v for k, v in within.items() if k != "actions"},
        "withinMarginEqualsFull": within["actions"] == truth["actions"],
        "noChangeBound": again_bound,
        "noChange": {k: v for k, v in again.items() if k != "actions"},
        "noChangeEqualsFull": again["actions"] == truth["actions"],
        "full": {k: v for k, v in truth.items() if k != "actions"},
    }


# ----------------------------------------------------------------------------- startup


def startup(repeats: int) -> dict[str, Any]:
    """Wall time of short commands against ``python -c pass``, interleaved, medians."""
    work = Path(tempfile.mkdtemp(prefix="plan-process-startup-"))
    try:
        example = work / "example"
        shutil.copytree(
            EXAMPLE, example, ignore=shutil.ignore_patterns("sandbox-seed.yaml", "*.md")
        )
        big = work / "big"
        from bench.manifest_files import write_manifests

        write_manifests(Scenario(), big)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "b2b-reconcile --help": [*cli(), "--help"],
            "b2b-reconcile validate (example store, 6 documents)": [
                *cli(),
                "validate",
                str(example),
            ],
            "b2b-reconcile validate (10k manifests, 11,541 files)": [*cli(), "validate", str(big)],
        }
        env = child_env(work / "cache")
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeats):
            for name, argv in commands.items():
                run = measured(argv, env, work)
                if run["exit"] != 0:
                    raise SystemExit(f"{name} exited {run['exit']}: {run['stderr']}")
                times[name].append(run["wallSeconds"])
                cpu[name].append(run["cpuSeconds"])
        return {
            name: {
                "wallMedian": statistics.median(times[name]),
                "wallAll": times[name],
                "cpuMedian": statistics.median(cpu[name]),
            }
            for name in commands
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ----------------------------------------------------------------------------- report


def _row(size: str, what: str, run: dict[str, Any], bound: str, equal: str) -> tuple[Any, ...]:
    req = run["requests"]
    return (
        size,
        what,
        count(req["b2b"] + req["core"]),
        f"{req['b2b']:,} + {req['core']:,}",
        bound,
        req["b2b429"] + req["core429"],
        equal,
        f"{run['cpuSeconds']:.2f}",
        f"{run['peakRssMB']:.0f}",
        f"{run['wallSeconds']:.1f}",
    )


def _b(bound: dict[str, Any] | None, admin: int) -> str:
    return "(read in full)" if bound is None else f"{bound['total']:,} + {admin}"


def _asked(run: dict[str, Any], checks: int) -> int:
    """The admin e-mail checks an incremental plan asks: none when its users part came from the
    snapshot (which answers the e-mails it checked), else every one."""
    served = (run.get("refresh") or {}).get("fromSnapshot", [])
    return 0 if "users" in served else checks


def report(out: dict[str, Any]) -> str:
    rows = []
    for size in out["sizes"]:
        label = f"{size['size']} ({size['store']['companies']:,} / {size['store']['orders']:,})"
        bound = f"{size['lowerBound']:,} + {size['adminChecks']}"
        rows.append(_row(label, "full read", size["full"], bound, ""))
        inc = size.get("incremental")
        if inc:
            same = "yes" if inc["noChangeEqualsFull"] else "NO"
            after = "yes" if inc["afterChangesEqualsFull"] else "NO"
            no_change = _b(inc["noChangeBound"], _asked(inc["noChange"], size["adminChecks"]))
            changed = _b(inc["afterChangesBound"], _asked(inc["afterChanges"], size["adminChecks"]))
            rows.append(_row("", "incremental, no change", inc["noChange"], no_change, same))
            rows.append(
                _row("", "incremental, after outside changes", inc["afterChanges"], changed, after)
            )
            rows.append(
                _row("", "full read, after outside changes", inc["fullAfterChanges"], "", "")
            )
        conv = size.get("converged")
        if conv:
            admin = 0  # no company left to create: no admin e-mail to check
            applied = conv["apply"]
            what = (
                f"apply --auto-approve: {applied['actions']:,} actions, "
                f"{applied['b2bPerAction']:.2f} B2B requests per action (its read included)"
            )
            rows.append(_row("", what, applied, "", ""))
            after = "yes" if conv["afterApplyEqualsFull"] else "NO"
            same = "yes" if conv["noChangeEqualsFull"] else "NO"
            rows.append(
                _row(
                    "",
                    "incremental, after the apply",
                    conv["afterApply"],
                    _b(conv["afterApplyBound"], admin),
                    after,
                )
            )
            if "withinMargin" in conv:
                within = "yes" if conv["withinMarginEqualsFull"] else "NO"
                gap = conv.get("withinMarginGapSeconds")
                when = "" if gap is None else f" {gap:.0f} s after the apply's end"
                rows.append(
                    _row(
                        "",
                        f"incremental, no change, from the snapshot of the plan after the "
                        f"apply (its read began{when}: writes within 5 s before are listed "
                        "again)",
                        conv["withinMargin"],
                        _b(conv["withinMarginBound"], admin),
                        within,
                    )
                )
            rows.append(
                _row(
                    "",
                    "incremental, converged, no change",
                    conv["noChange"],
                    _b(conv["noChangeBound"], admin),
                    same,
                )
            )
            rows.append(_row("", "full read, converged (empty plan)", conv["full"], "", ""))
    lines = [
        table(
            (
                "store (companies / orders)",
                "plan",
                "requests",
                "B2B + core",
                "lower bound + admin e-mail checks",
                "429s",
                "plan equals the full read's",
                "plan process CPU-s",
                "peak RSS MB",
                "wall s",
            ),
            rows,
        )
    ]
    if out.get("startup"):
        base = out["startup"]["python -c pass"]["wallMedian"]
        lines += [
            "",
            table(
                ("command (a process each)", "wall s (median)", "minus `python -c pass`", "CPU-s"),
                [
                    (
                        f"`{name}`",
                        f"{s['wallMedian']:.3f}",
                        f"{s['wallMedian'] - base:+.3f}",
                        f"{s['cpuMedian']:.3f}",
                    )
                    for name, s in out["startup"].items()
                ],
            ),
        ]
    checks = []
    for size in out["sizes"]:
        full = size["full"]
        inc = size.get("incremental")
        if inc:
            equal = inc["noChangeEqualsFull"] and inc["afterChangesEqualsFull"]
            checks.append((f"{size['size']} incremental plans equal the full read's", equal))
        conv = size.get("converged")
        if conv:
            equal = conv["afterApplyEqualsFull"] and conv["noChangeEqualsFull"]
            equal = equal and conv.get("withinMarginEqualsFull", True)
            checks.append((f"{size['size']} plans after the apply equal the full read's", equal))
            per = conv["apply"]["b2bPerAction"]
            text = f"{size['size']} apply {per:.2f} B2B requests per action <= 1.2"
            checks.append((text, per <= 1.2))
        if size["size"] == "10k" and inc:
            req = inc["noChange"]["requests"]
            total = req["b2b"] + req["core"]
            checks.append((f"10k no-change plan {total} requests <= 12", total <= 12))
        if size["size"] == "10k" and conv:
            req = conv["noChange"]["requests"]
            total = req["b2b"] + req["core"]
            text = f"10k no-change plan after a converged apply {total} requests <= 12"
            checks.append((text, total <= 12))
        if size["size"] == "10k":
            cpu = full["cpuSeconds"]
            checks.append((f"10k plan process {cpu:.2f} CPU-s < 3", cpu < TARGETS["cpu10k"]))
        if size["size"] == "50k":
            rss = full["peakRssMB"]
            checks.append((f"50k plan process {rss:.0f} MB < 300", rss < TARGETS["rss50k"]))
    if out.get("startup"):
        helped = out["startup"]["b2b-reconcile --help"]["wallMedian"]
        checks.append((f"--help {helped:.3f} s < 0.15", helped < TARGETS["help"]))
    side = _side_by_side(out)
    if side:
        lines += ["", side]
    lines.append("")
    lines += [f"- {'met ' if ok else 'MISSED'} {text}" for text, ok in checks]
    return "\n".join(lines)


def _plans(size: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The plan runs of one size, labelled as in the report's first table."""
    out = [("full read", size["full"])]
    inc = size.get("incremental") or {}
    for key, label in (
        ("noChange", "incremental, no change"),
        ("afterChanges", "incremental, after outside changes"),
        ("fullAfterChanges", "full read, after outside changes"),
    ):
        if key in inc:
            out.append((label, inc[key]))
    conv = size.get("converged") or {}
    for key, label in (
        ("afterApply", "incremental, after the apply"),
        ("withinMargin", "incremental, within the margin"),
        ("noChange", "incremental, converged, no change"),
        ("full", "full read, converged (empty plan)"),
    ):
        if key in conv:
            out.append((label, conv[key]))
    return out


def _side_by_side(out: dict[str, Any]) -> str:
    """``--baseline``: each plan's CPU seconds and peak RSS, the baseline's and this tree's."""
    rows = []
    rev = ""
    for size in out["sizes"]:
        for label, run in _plans(size):
            base = run.get("baseline")
            if not base:
                continue
            rev = base["rev"]
            rows.append(
                (
                    size["size"],
                    label,
                    f"{base['cpuSeconds']:.2f}",
                    f"{run['cpuSeconds']:.2f}",
                    f"{run['cpuSeconds'] - base['cpuSeconds']:+.2f}",
                    f"{base['peakRssMB']:.0f}",
                    f"{run['peakRssMB']:.0f}",
                )
            )
    if not rows:
        return ""
    return table(
        (
            "size",
            "plan",
            f"CPU-s at {rev}",
            "CPU-s, this tree",
            "difference",
            f"peak RSS MB at {rev}",
            "peak RSS MB, this tree",
        ),
        rows,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.plan_process", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--sizes", default="10k,50k", help="comma-separated: 10k, 50k")
    parser.add_argument("--compress", type=float, default=100.0, help="time compression factor")
    parser.add_argument("--repeats", type=int, default=7, help="startup runs per command")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument(
        "--baseline", metavar="REV", help="also run every plan with this git revision's code"
    )
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}; one of: {', '.join(SIZES)}")
    out: dict[str, Any] = {"compress": args.compress, "sizes": []}
    bytecode(ROOT / "reconciler")
    if args.repeats > 0:
        print("startup: --help and validate against python -c pass ...", file=sys.stderr)
        out["startup"] = startup(args.repeats)
    incremental = supports_refresh()
    with tempfile.TemporaryDirectory(prefix="plan-process-baseline-") as old:
        if args.baseline:
            from bench.load_bench import baseline_code

            BASELINE.update(rev=args.baseline, env=baseline_code(args.baseline, Path(old)))
            out["baseline"] = args.baseline
        for label in sizes:
            out["sizes"].append(measure_size(label, args.compress, incremental))
    out["report"] = report(out)
    print(out["report"])
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
