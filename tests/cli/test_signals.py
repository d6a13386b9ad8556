"""SIGTERM and Ctrl-C on a real process: ``python -m reconciler`` against a served sandbox.

- SIGTERM (what CI sends on cancel) during apply: the request in flight finishes, nothing new is
  sent, the report is written, exit 1, no traceback; the next apply converges.
- Ctrl-C during a stalled write: the run ends within the stop's grace (1.5 s), not the request's
  30 s deadline times its retries; the report says what happened.
- A second Ctrl-C exits at once, even while the first one waits for a request that cannot be
  cut (an in-process sandbox stall sleeps in the sandbox itself).

The bounds asserted (10 s) are generous multiples of the 1.5 s grace: they prove a bound, not
the machine's speed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from reconciler.sandbox import Sandbox

pytestmark = [
    pytest.mark.served,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "store"
TOKEN = "signals-token-77ab3e"
BOUND = 10.0
WRITES = ("POST", "PUT")


@dataclass
class Store:
    sb: Sandbox
    flags: list[str]
    manifests: Path
    work: Path
    env: dict[str, str]

    def writes(self) -> int:
        return sum(1 for e in self.sb.request_log if e.method in WRITES)

    def puts(self) -> int:
        return sum(1 for e in self.sb.request_log if e.method == "PUT")


def _seed() -> dict[str, object]:
    seed = yaml.safe_load((EXAMPLE / "sandbox-seed.yaml").read_text(encoding="utf-8"))
    seed["store"]["accessToken"] = TOKEN
    return seed


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("B2B_", "BIGCOMMERCE_"))}
    env["BIGCOMMERCE_ACCESS_TOKEN"] = TOKEN
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _manifests(work: Path) -> Path:
    manifests = work / "manifests"
    shutil.copytree(EXAMPLE, manifests, ignore=shutil.ignore_patterns("sandbox-seed.yaml", "*.md"))
    return manifests


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    sb = Sandbox(db=":memory:", seed=_seed(), rate_limit=(100_000, 60.0))
    try:
        served = sb.serve()
        flags = ["--api-url", served.b2b_url, "--core-api-url", served.core_url]
        yield Store(sb, flags, _manifests(tmp_path), tmp_path, _env())
    finally:
        sb.close()


def start(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition: Callable[[], bool], what: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the process ended before {what}: {proc.returncode}\n{out}\n{err}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def finish(proc: subprocess.Popen[str], since: float) -> tuple[int, str, str, float]:
    """Wait for the process (killing it past a generous bound); code, out, err, seconds."""
    try:
        out, err = proc.communicate(timeout=BOUND + 50)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the process did not end after the signal\n{out}\n{err}")
    took = time.monotonic() - since
    assert "Traceback" not in err, err
    assert "Internal error" not in err, err
    assert TOKEN not in out + err
    return proc.returncode, out, err, took


def apply_argv(store: Store, report: Path) -> list[str]:
    return ["apply", str(store.manifests), "--auto-approve", "--report", str(report), *store.flags]


def converges(store: Store) -> None:
    store.sb.set_faults([])
    proc = start(apply_argv(store, store.work / "again.json"), store.env, store.work)
    code, out, err, _ = finish(proc, time.monotonic())
    assert code == 0, out + err
    proc = start(
        ["plan", str(store.manifests), "--detailed-exitcode", *store.flags], store.env, store.work
    )
    code, out, err, _ = finish(proc, time.monotonic())
    assert code == 0, out + err


def test_sigterm_during_apply_finishes_the_request_writes_the_report_and_exits_1(
    store: Store,
) -> None:
    # Slow updates (one PUT per action; the converts come first): the signal lands while an
    # update is in flight, or between two actions.
    store.sb.set_faults([{"method": "PUT", "path": ".", "delay": 0.4}])
    report_file = store.work / "report.json"
    proc = start(apply_argv(store, report_file), store.env, store.work)
    wait_until(lambda: store.puts() >= 1, "the first update", proc)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code, out, err, took = finish(proc, sent)
    assert code == 1
    assert took < BOUND
    assert "Stopping (SIGTERM)" in err
    report = json.loads(report_file.read_text())
    assert report["stopped"] == "interrupted (SIGTERM)"
    assert report["interrupted"] is True
    counts = report["summary"]
    assert counts["applied"] >= 1
    assert counts["pending"] >= 1
    assert counts["failed"] == 0  # the request in flight finished: nothing half-done
    # Nothing was sent after the stop: every write logged belongs to an applied action.
    applied = sum(r["requests"] for r in report["results"] if r["outcome"] == "applied")
    assert store.writes() <= applied
    assert all(r["requests"] == 0 for r in report["results"] if r["outcome"] == "pending")
    assert "stopped: interrupted (SIGTERM)" in out
    converges(store)


def test_ctrl_c_cuts_a_stalled_write_within_the_grace(store: Store) -> None:
    store.sb.set_faults(
        [
            {"method": "PUT", "path": ".", "action": "stall"},
            {"method": "POST", "path": ".", "action": "stall"},
        ]
    )
    report_file = store.work / "report.json"
    proc = start(apply_argv(store, report_file), store.env, store.work)
    wait_until(lambda: store.writes() >= 1, "the stalled write", proc)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    code, _, err, took = finish(proc, sent)
    assert code == 1
    assert took < BOUND  # the stop's grace is 1.5 s; the request's own deadline is 30 s
    assert "Stopping (SIGINT)" in err
    report = json.loads(report_file.read_text())
    assert report["stopped"] == "interrupted (SIGINT)"
    first = report["results"][0]
    assert first["outcome"] == "failed"
    assert "may or may not have been applied" in first["message"]
    assert {r["outcome"] for r in report["results"][1:]} == {"pending"}
    assert store.writes() == 1
    converges(store)


def test_a_second_ctrl_c_exits_at_once(tmp_path: Path) -> None:
    """In-process sandbox (--sandbox FILE): its stall sleeps 30 s in the sandbox itself, which
    the first Ctrl-C cannot cut; the second one ends the process at once."""
    seed = _seed()
    seed["faults"] = [
        {"method": "PUT", "path": ".", "action": "stall"},
        {"method": "POST", "path": ".", "action": "stall"},
    ]
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed), encoding="utf-8")
    db = tmp_path / "store.db"
    env = _env()
    init = subprocess.run(
        [
            sys.executable,
            "-m",
            "reconciler",
            "sandbox",
            "init",
            "--db",
            str(db),
            "--seed",
            str(seed_file),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    manifests = _manifests(tmp_path)
    proc = start(["--sandbox", str(db), "apply", str(manifests), "--auto-approve"], env, tmp_path)
    assert proc.stdout is not None
    for line in proc.stdout:  # the plan is printed before the first write
        if line.startswith("Plan:"):
            break
    time.sleep(1.0)  # the staleness reads, then the first write stalls
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    code, _, err, took = finish(proc, sent)
    assert code == 1
    assert took < BOUND
    assert "Stopping (SIGINT)" in err
    assert "Interrupted." in err
