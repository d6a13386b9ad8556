"""Two applies at once against one served sandbox, through the real CLI in two threads.

Variants: both apply the same saved plan (``apply --plan``), or both plan afresh and apply
(``apply MANIFESTS --auto-approve``). The threads start together (a barrier), and each round
adds a different sprinkle of tiny delays so that the requests of the two interleave differently.

After each round:

- no customer group has two companies (``sb.dump()``);
- no update was lost: a fresh plan is empty;
- each run either converged (exit 0, its report ok) or was refused as stale (exit 1, its report
  says why) having sent no write: every POST/PUT the sandbox logged is one that a converged
  run's report counts (the log cannot tell the two clients apart, as both send the same
  User-Agent, so the writes are matched against the reports);
- at least one run converged.
"""

from __future__ import annotations

import io
import json
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
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
SCENARIOS = ROOT / "tests" / "e2e" / "scenarios"
TOKEN = "concurrency-token-5b2e"
ROUNDS = 6


@dataclass(frozen=True)
class Case:
    seed: Path
    manifests: Path


CASES = {
    "example-store": Case(EXAMPLE / "sandbox-seed.yaml", EXAMPLE),
    "independent": Case(SCENARIOS / "independent/seed.yaml", SCENARIOS / "independent/manifests"),
    "extra-fields": Case(
        SCENARIOS / "extra-fields/seed.yaml", SCENARIOS / "extra-fields/manifests"
    ),
}


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real sleeping in the clients (retries and pacing); credentials for the CLI."""
    original = ApiClient.open

    def open_fast(*args: Any, **kwargs: Any) -> ApiClient:
        kwargs["sleep"] = lambda _s: None
        return original(*args, **kwargs)

    monkeypatch.setattr(ApiClient, "open", open_fast)
    for name in ("B2B_SANDBOX", "BIGCOMMERCE_STORE_HASH", "B2B_API_URL", "BIGCOMMERCE_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", TOKEN)


@dataclass
class Store:
    sb: Sandbox
    flags: list[str]
    manifests: str
    work: Path
    seed_companies: list[dict[str, Any]]


@contextmanager
def open_store(case: Case, work: Path) -> Iterator[Store]:
    """A fresh served sandbox seeded for ``case``, and a copy of its manifests in ``work``."""
    seed = yaml.safe_load(case.seed.read_text(encoding="utf-8"))
    seed["store"]["accessToken"] = TOKEN
    sb = Sandbox(db=":memory:", seed=seed, rate_limit=(100_000, 60.0))
    try:
        served = sb.serve()
        manifests = work / "manifests"
        shutil.copytree(
            case.manifests, manifests, ignore=shutil.ignore_patterns("sandbox-seed.yaml", "*.md")
        )
        flags = ["--api-url", served.b2b_url, "--core-api-url", served.core_url]
        flags += ["--store-hash", sb.store_hash]
        yield Store(sb, flags, str(manifests), work, sb.dump()["companies"])
    finally:
        sb.close()


@dataclass
class Outcome:
    code: int
    out: str
    report: dict[str, Any] | None
    error: BaseException | None = None


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def together(runs: list[list[str]], reports: list[Path]) -> list[Outcome]:
    """Run the command lines in threads released at the same moment."""
    barrier = threading.Barrier(len(runs))
    outcomes: list[Outcome | None] = [None] * len(runs)

    def worker(i: int) -> None:
        barrier.wait()
        out = io.StringIO()
        try:
            code = main(runs[i], out=out)
        except BaseException as exc:  # reported below, with the other thread's outcome
            outcomes[i] = Outcome(-1, out.getvalue(), None, exc)
            return
        report = json.loads(reports[i].read_text()) if reports[i].exists() else None
        outcomes[i] = Outcome(code, out.getvalue(), report)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(runs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "an apply hung"
    return [o for o in outcomes if o is not None]


def writes_in(report: dict[str, Any] | None) -> int:
    if report is None:
        return 0
    return sum(n for key, n in report["requests"].items() if key.split()[0] in ("POST", "PUT"))


def check_round(store: Store, outcomes: list[Outcome], writes_logged: int) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for outcome in outcomes:
        assert outcome.error is None, repr(outcome.error)
        report = outcome.report
        if outcome.code == 0:
            assert report is None or report["ok"] is True, outcome.out
            kinds["converged"] += 1
        else:
            assert outcome.code == 1, outcome.out
            assert report is not None, outcome.out
            assert report["refused"], ("a run failed without being refused", report)
            refused = report["refused"]
            # A saved plan is "stale"; a fresh plan+apply that lost the race says the store
            # changed since planning.
            assert "is stale" in refused or "the store changed since planning" in refused, refused
            assert writes_in(report) == 0, report
            kinds["refused as stale"] += 1
    assert kinds["converged"] >= 1
    # Every write the sandbox saw is counted by a converged run: the refused sent none.
    assert writes_logged == sum(writes_in(o.report) for o in outcomes if o.report is not None)
    companies = Counter(c["customerGroupId"] for c in store.sb.dump()["companies"])
    before = Counter(c["customerGroupId"] for c in store.seed_companies)
    for group, n in companies.items():
        assert n <= max(1, before[group]), f"customer group {group} has {n} companies"
    code, text = cli("plan", store.manifests, *store.flags, "--detailed-exitcode")
    assert code == 0, text  # nothing lost: the store matches the manifests
    return kinds


def delays(round_no: int) -> list[dict[str, Any]]:
    """A different interleaving per round: tiny delays on some requests (none in round 0)."""
    if round_no == 0:
        return []
    return [
        {"method": "ANY", "path": ".*", "delay": 0.002, "probability": 0.3, "seed": round_no},
    ]


def writes_logged(sb: Sandbox) -> int:
    return sum(1 for e in sb.request_log if e.method in ("POST", "PUT"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_two_applies_of_one_saved_plan(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tally: Counter[str] = Counter()
    for round_no in range(ROUNDS):
        with open_store(CASES[case], tmp_path / f"round{round_no}") as store:
            plan_file = str(store.work / "plan.json")
            code, text = cli("plan", store.manifests, *store.flags, "--out", plan_file)
            assert code == 0, text
            reports = [store.work / "a.json", store.work / "b.json"]
            runs = [
                [
                    "apply",
                    store.manifests,
                    "--plan",
                    plan_file,
                    "--auto-approve",
                    "--report",
                    str(r),
                    *store.flags,
                ]
                for r in reports
            ]
            store.sb.set_faults(delays(round_no))
            store.sb.clear_log()
            outcomes = together(runs, reports)
            writes = writes_logged(store.sb)
            store.sb.set_faults([])
            tally += check_round(store, outcomes, writes)
            assert "Internal error" not in capsys.readouterr().err
    print(f"{case}: {dict(tally)}")  # shown with -s
    assert tally["converged"] >= ROUNDS, tally


@pytest.mark.parametrize("case", sorted(CASES))
def test_two_fresh_plan_and_apply_runs(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tally: Counter[str] = Counter()
    for round_no in range(ROUNDS):
        with open_store(CASES[case], tmp_path / f"round{round_no}") as store:
            reports = [store.work / "a.json", store.work / "b.json"]
            runs = [
                ["apply", store.manifests, "--auto-approve", "--report", str(r), *store.flags]
                for r in reports
            ]
            store.sb.set_faults(delays(round_no))
            store.sb.clear_log()
            outcomes = together(runs, reports)
            writes = writes_logged(store.sb)
            store.sb.set_faults([])
            tally += check_round(store, outcomes, writes)
            assert "Internal error" not in capsys.readouterr().err
    print(f"{case}: {dict(tally)}")  # shown with -s
    assert tally["converged"] >= ROUNDS, tally
