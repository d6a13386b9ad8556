"""The race that two concurrent applies hit, replayed deterministically (in-process sandbox).

Run A and run B hold the same plan and both passed the staleness check (it reads, then apply
writes: no API offers a conditional write, so both can pass before either writes). A applies;
then B applies. B must not create a second company, and it should end as the threaded runs
in ``test_two_applies.py`` are required to: converged, its report ok, the company found as
planned.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.executor import apply_plan, check_stale
from reconciler.live import read_live
from reconciler.manifests import load
from reconciler.model import ApplyReport
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
CASES = {
    "dependent": (ROOT / "examples/store/sandbox-seed.yaml", ROOT / "examples/store"),
    "independent": (
        ROOT / "tests/e2e/scenarios/independent/seed.yaml",
        ROOT / "tests/e2e/scenarios/independent/manifests",
    ),
}


def client(sb: Sandbox) -> ApiClient:
    settings = ApiSettings(
        store_hash=sb.store_hash,
        token=Secret(sb.access_token or "sandbox"),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    return ApiClient.open(settings, sb.transport(), sleep=lambda _s: None)


def race(case: str) -> tuple[Sandbox, ApplyReport, ApplyReport]:
    seed, manifests = CASES[case]
    sb = Sandbox(seed=yaml.safe_load(seed.read_text(encoding="utf-8")))
    try:
        found = load([manifests])
        with client(sb) as api:
            plan = build_plan(found, read_live(api, found), created_at="2026-11-24T00:00:00Z")
        assert plan.counts()["convert"] + plan.counts()["create"] >= 1
        with client(sb) as a, client(sb) as b:
            check_stale(a, plan)
            check_stale(b, plan)  # both pass: nothing has been written yet
            first = apply_plan(a, plan, check_fresh=False)
            second = apply_plan(b, plan, check_fresh=False)  # B checked before A wrote
    except BaseException:
        sb.close()  # the caller closes it only when it gets it
        raise
    return sb, first, second


def test_a_convert_raced_by_another_run_converges() -> None:
    sb, first, second = race("dependent")
    with sb:
        assert first.ok
        assert (
            Counter(c["customerGroupId"] for c in sb.dump()["companies"]).most_common(1)[0][1] == 1
        )
        failures = [(r.action_id, r.message) for r in second.results if r.outcome != "applied"]
        assert second.ok, failures


def test_a_create_raced_by_another_run_converges() -> None:
    sb, first, second = race("independent")
    with sb:
        assert first.ok
        companies = Counter(c["customerGroupId"] for c in sb.dump()["companies"])
        assert companies[3] == 1  # the group the plan creates a company for: still one
        failures = [(r.action_id, r.message) for r in second.results if r.outcome != "applied"]
        assert second.ok, failures
