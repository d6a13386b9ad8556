"""How long and how much memory the real CLI spends against hostile servers (issue 12 part B).

Each scenario runs ``python -m reconciler`` as a process against a served sandbox seeded with the
example store and measures wall time (to the exit, or from the signal to the exit), the exit
code, the child's peak RSS and the writes the sandbox saw::

    python -m bench.hostile_servers          # all scenarios (~3 min: two of them wait 60 s)
    python -m bench.hostile_servers --quick  # skip the two 60-s scenarios
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from reconciler.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "store"
TOKEN = "bench-hostile-token"
WRITES = ("POST", "PUT")


def _seed() -> dict[str, Any]:
    seed = yaml.safe_load((EXAMPLE / "sandbox-seed.yaml").read_text(encoding="utf-8"))
    seed["store"]["accessToken"] = TOKEN
    return dict(seed)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("B2B_", "BIGCOMMERCE_"))}
    env["BIGCOMMERCE_ACCESS_TOKEN"] = TOKEN
    return env


def scenario(
    name: str,
    faults: list[dict[str, Any]],
    argv: list[str],
    *,
    rate_limit: tuple[int, float] = (100_000, 60.0),
    signals: tuple[int, ...] = (),
) -> dict[str, Any]:
    """Run one command against a fresh served store; return what it cost."""
    work = Path(tempfile.mkdtemp(prefix="hostile-"))
    manifests = work / "manifests"
    shutil.copytree(EXAMPLE, manifests, ignore=shutil.ignore_patterns("sandbox-seed.yaml", "*.md"))
    sb = Sandbox(db=":memory:", seed=_seed(), rate_limit=rate_limit)
    try:
        served = sb.serve()
        flags = ["--api-url", served.b2b_url, "--core-api-url", served.core_url]
        words = [w.replace("MANIFESTS", str(manifests)) for w in argv]
        sb.set_faults(faults)
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", *words, *flags],
            cwd=work,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if signals:
            while not any(e.method in WRITES for e in sb.request_log):
                time.sleep(0.02)
            started = time.monotonic()
            for number in signals:
                proc.send_signal(number)
                time.sleep(0.2)
        out, err = proc.communicate()
        took = time.monotonic() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        writes = sum(1 for e in sb.request_log if e.method in WRITES)
        report = work / "report.json"
        stopped = json.loads(report.read_text())["stopped"] if report.exists() else ""
        last = (err.strip().splitlines() or [""])[-1]
        return {
            "scenario": name,
            "seconds": round(took, 1),
            "exit": proc.returncode,
            "peakRssMiB": round(peak / 1024),  # the largest child so far (ru_maxrss, KiB)
            "writes": writes,
            "stopped": stopped,
            "lastLine": last[:160],
            "traceback": "Traceback" in err,
            "stdoutBytes": len(out),
        }
    finally:
        sb.close()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    quick = "--quick" in sys.argv
    stall = {"method": "GET", "path": "/companies$", "action": "stall"}
    trickle = {"method": "GET", "path": "/companies$", "action": "trickle", "interval": 3}
    plan = ["plan", "MANIFESTS"]
    apply = ["apply", "MANIFESTS", "--auto-approve", "--report", "report.json"]
    runs = []
    if not quick:
        runs.append(scenario("never answers, plan", [stall], plan))
        runs.append(scenario("trickles 1 byte / 3 s, plan", [trickle], plan))
    runs += [
        scenario("never answers, plan --timeout 10", [stall], ["--timeout", "10", *plan]),
        scenario("trickles 1 byte / 3 s, plan --timeout 10", [trickle], ["--timeout", "10", *plan]),
        scenario(
            "endless body, plan",
            [{"method": "GET", "path": "/companies$", "action": "endless"}],
            plan,
        ),
        scenario("1 times/86400 s, plan", [], plan, rate_limit=(1, 86400.0)),
        scenario(
            "401 on every write, apply",
            [{"method": m, "path": ".", "status": 401} for m in WRITES],
            apply,
        ),
        scenario(
            "SIGTERM during apply (writes 0.4 s each)",
            [{"method": m, "path": ".", "delay": 0.4} for m in WRITES],
            apply,
            signals=(signal.SIGTERM,),
        ),
        scenario(
            "Ctrl-C on a stalled write",
            [{"method": m, "path": ".", "action": "stall"} for m in WRITES],
            apply,
            signals=(signal.SIGINT,),
        ),
    ]
    for run in runs:
        print(json.dumps(run))


if __name__ == "__main__":
    main()
