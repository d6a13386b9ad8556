"""The CLI stops on what cannot get better: --timeout, refused credentials, day-long rate limits.

The real CLI (``main``) talks HTTP to a served sandbox seeded with the example store. Every run
happens in a thread joined with a generous bound (a hang fails the test), and the sandbox's own
request log is the witness for "nothing more was sent".
"""

from __future__ import annotations

import io
import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.api import ApiClient
from reconciler.cli import main
from reconciler.sandbox import Sandbox

pytestmark = pytest.mark.served

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "store"
TOKEN = "stops-token-41d9c0"
BOUND = 30.0
WRITES = ("POST", "PUT")


@dataclass
class Store:
    sb: Sandbox
    flags: list[str]
    manifests: str
    work: Path

    def writes(self) -> list[str]:
        return [f"{e.method} {e.path}" for e in self.sb.request_log if e.method in WRITES]


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("B2B_SANDBOX", "BIGCOMMERCE_STORE_HASH", "B2B_API_URL", "BIGCOMMERCE_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", TOKEN)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    seed = yaml.safe_load((EXAMPLE / "sandbox-seed.yaml").read_text(encoding="utf-8"))
    seed["store"]["accessToken"] = TOKEN
    sb = Sandbox(db=":memory:", seed=seed, rate_limit=(100_000, 60.0))
    try:
        served = sb.serve()
        manifests = tmp_path / "manifests"
        shutil.copytree(
            EXAMPLE, manifests, ignore=shutil.ignore_patterns("sandbox-seed.yaml", "*.md")
        )
        flags = ["--api-url", served.b2b_url, "--core-api-url", served.core_url]
        yield Store(sb, flags, str(manifests), tmp_path)
    finally:
        sb.close()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str, float]:
    """The CLI in a thread: exit code, stdout, stderr and seconds taken; fails if it hangs."""
    result: dict[str, int] = {}
    out = io.StringIO()

    def target() -> None:
        try:
            result["code"] = main(argv, out=out)
        except SystemExit as exc:  # argparse refuses a bad option this way
            result["code"] = int(exc.code or 0)

    started = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(BOUND)
    assert not thread.is_alive(), f"the command hung: {argv}"
    took = time.monotonic() - started
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "Internal error" not in err
    assert TOKEN not in err + out.getvalue()
    return result["code"], out.getvalue(), err, took


def apply_args(store: Store, report: Path, *extra: str) -> list[str]:
    return [
        *extra,
        "apply",
        store.manifests,
        "--auto-approve",
        "--report",
        str(report),
        *store.flags,
    ]


def converges(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    """With the faults gone, apply finishes the job and the plan is then empty."""
    store.sb.set_faults([])
    code, _, err, _ = run(apply_args(store, store.work / "again.json"), capsys)
    assert code == 0, err
    code, out, err, _ = run(["plan", store.manifests, "--detailed-exitcode", *store.flags], capsys)
    assert code == 0, out + err


# --------------------------------------------------------------------------- --timeout


def test_timeout_ends_plan_on_a_stalled_server(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    store.sb.set_faults([{"method": "GET", "path": "/companies$", "action": "stall"}])
    code, _, err, took = run(["plan", store.manifests, "--timeout", "2", *store.flags], capsys)
    assert code == 1
    assert "Error: the --timeout of 2 s passed; the request in flight (GET /companies)" in err
    assert took < 15.0  # the request's own deadline is 30 s, and it would be tried twice
    assert len(err.strip().splitlines()) == 1


def test_timeout_during_apply_reports_what_was_done(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nine updates of 1 s each cannot fit in 4 s; reading and planning take well under that.
    store.sb.set_faults([{"method": "PUT", "path": ".", "delay": 1.0}])
    report_file = store.work / "report.json"
    code, out, _, took = run(apply_args(store, report_file, "--timeout", "4"), capsys)
    assert code == 1
    assert took < 15.0
    report = json.loads(report_file.read_text())
    assert report["stopped"] == "the --timeout of 4 s passed"
    assert report["interrupted"] is True
    assert report["summary"]["pending"] >= 1
    pending = [r for r in report["results"] if r["outcome"] == "pending"]
    assert all(r["message"] == "not sent: the --timeout of 4 s passed" for r in pending)
    assert "stopped: the --timeout of 4 s passed" in out
    # The update cut at the deadline is still being served (a slow server finishes what it
    # received): once the sandbox has answered every PUT sent, the store holds still.
    sent = sum(n for key, n in report["requests"].items() if key.startswith("PUT "))
    deadline = time.monotonic() + BOUND
    while sum(1 for e in store.sb.request_log if e.method == "PUT") < sent:
        assert time.monotonic() < deadline, "the sandbox never finished the abandoned update"
        time.sleep(0.05)
    converges(store, capsys)


def test_timeout_must_be_a_positive_number(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    for bad in ("0", "-1", "soon", "inf", "nan"):
        code, _, err, _ = run(["--timeout", bad, "plan", store.manifests, *store.flags], capsys)
        assert code == 1
        assert "--timeout: expected a positive number of seconds" in err
    assert store.sb.request_log == []


# --------------------------------------------------------------------------- credentials


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_end_apply_at_once(
    store: Store, capsys: pytest.CaptureFixture[str], status: int
) -> None:
    """The first write refused for the credentials is the last request sent."""
    store.sb.set_faults(
        [
            {"method": "PUT", "path": ".", "status": status},
            {"method": "POST", "path": ".", "status": status},
        ]
    )
    report_file = store.work / "report.json"
    code, out, _, _ = run(apply_args(store, report_file), capsys)
    assert code == 1
    assert len(store.writes()) == 1, store.writes()
    report = json.loads(report_file.read_text())
    assert report["summary"]["failed"] == 1
    assert report["summary"]["applied"] == 0
    assert report["summary"]["pending"] == len(report["results"]) - 1
    assert report["stopped"].startswith(f"the API refused the credentials ({status})")
    assert "check the token and its scopes" in out
    converges(store, capsys)


# --------------------------------------------------------------------------- rate-limit waits


def test_a_day_long_rate_limit_is_announced_and_not_slept(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """X-Requests-Allocated: 1 times/86400 s: one announced wait of 60 s at most, then a clear
    error instead of sleeping a day (the clients' sleeps are recorded, not slept)."""
    slept: list[float] = []
    original = ApiClient.open

    def open_recording(*args: Any, **kwargs: Any) -> ApiClient:
        kwargs["sleep"] = slept.append
        return original(*args, **kwargs)

    monkeypatch.setattr(ApiClient, "open", open_recording)
    store.sb.set_rate_limit(1, 86400.0)
    code, _, err, _ = run(["plan", store.manifests, *store.flags], capsys)
    assert code == 1
    assert "Waiting 60 s for the B2B rate limit (1 requests per 86400 s" in err
    assert "the API asks to wait" in err
    assert "run again later" in err
    assert slept
    assert max(slept) <= 60.1
