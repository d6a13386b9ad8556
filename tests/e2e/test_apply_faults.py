"""apply under faults, against the sandbox over real HTTP semantics (in-process transport).

Each test plans on a clean store, then turns faults on for the apply only, and checks: one apply
converges (the next plan is empty), no group has two companies, and the report agrees with the
sandbox's own request log.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.commands import check_safety
from reconciler.errors import SafetyError, StalePlanError
from reconciler.executor import apply_plan, check_stale
from reconciler.live import read_live
from reconciler.manifests import load
from reconciler.model import ManifestSet, Plan, Request
from reconciler.planfile import load_plan, save_plan
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/store"
CONVERT = re.compile(r"^/api/v3/io/customer-groups/\d+/companies$")


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    """The example store's sandbox, closed after the test."""
    seed = yaml.safe_load((EXAMPLE / "sandbox-seed.yaml").read_text())
    with Sandbox(db=":memory:", seed=seed) as sandbox:
        yield sandbox


def client(sb: Sandbox) -> ApiClient:
    token = (sb.dump().get("store") or {}).get("accessToken") or "sandbox"
    settings = ApiSettings(
        store_hash=sb.store_hash,
        token=Secret(token),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    return ApiClient.open(settings, sb.transport(), sleep=lambda _s: None)


def make_plan(sb: Sandbox, manifests: ManifestSet | None = None) -> Plan:
    found = manifests or load([EXAMPLE])
    with client(sb) as api:
        return build_plan(found, read_live(api, found), created_at="2026-11-24T00:00:00Z")


def companies_per_group(sb: Sandbox) -> Counter[int]:
    return Counter(c["customerGroupId"] for c in sb.dump()["companies"])


def writes(sb: Sandbox) -> list[Any]:
    return [e for e in sb.request_log if e.method in ("POST", "PUT")]


FAULTS = {
    "429-bursts": [{"method": "ANY", "path": "^/api/v3/io/", "status": 429, "every": 3}],
    "5xx-on-writes": [
        {"method": "PUT", "path": "^/api/v3/io/", "status": 503, "times": 4},
        {"method": "POST", "path": "/companies$", "status": 502, "times": 1},
    ],
    "dropped-connections": [
        {
            "method": "ANY",
            "path": "^/api/v3/io/(companies|customers|customer-groups)",
            "action": "drop",
            "every": 4,
        },
    ],
    "commit-then-fail-convert": [
        {
            "method": "POST",
            "path": "/customer-groups/\\d+/companies$",
            "action": "commit-then-fail",
            "status": 502,
            "times": 2,
        },
    ],
    "commit-then-fail-every-write": [
        {
            "method": "ANY",
            "path": "^/api/v3/io/(companies|customers|orders|customer-groups)/",
            "action": "commit-then-fail",
            "status": 500,
            "every": 2,
        },
    ],
    "random-mix": [
        {"method": "ANY", "path": ".*", "status": 503, "probability": 0.15, "seed": 11},
        {"method": "ANY", "path": ".*", "action": "drop", "probability": 0.05, "seed": 12},
    ],
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_faults_still_converge_in_one_apply(name: str, sb: Sandbox) -> None:
    plan = make_plan(sb)
    assert plan.counts()["convert"] >= 1
    sb.set_faults(FAULTS[name])
    sb.clear_log()
    with client(sb) as api:
        report = apply_plan(api, plan)
    failures = [r for r in report.results if r.outcome != "applied"]
    assert report.ok, (failures, report.verification)
    log = list(sb.request_log)
    sb.set_faults([])
    assert make_plan(sb).empty
    assert max(companies_per_group(sb).values()) == 1
    converted = {a.customer_group_id for a in plan.actions if a.type == "convert"}
    for group in converted:
        posts = [e for e in log if e.method == "POST" and e.path.endswith(f"/{group}/companies")]
        assert posts, group
    # The report counts exactly what the sandbox saw.
    assert sum(report.requests.values()) == len(log)


def test_commit_then_fail_convert_is_never_sent_twice(sb: Sandbox) -> None:
    plan = make_plan(sb)
    sb.set_faults(FAULTS["commit-then-fail-convert"])
    sb.clear_log()
    with client(sb) as api:
        report = apply_plan(api, plan)
    assert report.ok
    converts = [e for e in sb.request_log if e.method == "POST" and CONVERT.match(e.path)]
    assert len(converts) == plan.counts()["convert"]  # one POST per group, despite the 502s


def test_stale_saved_plan_sends_zero_writes(tmp_path: Path, sb: Sandbox) -> None:
    plan = make_plan(sb)
    save_plan(plan, tmp_path / "plan.json")
    touched = next(a for a in plan.actions if a.type == "update" and a.company_id)
    with client(sb) as api:  # someone edits the company in the control panel meanwhile
        api.b2b.send(
            Request("PUT", f"/companies/{touched.company_id}", {"companyPhone": "0"}),
            idempotent=True,
        )
    sb.clear_log()
    saved = load_plan(tmp_path / "plan.json")
    with client(sb) as api, pytest.raises(StalePlanError, match=f"company {touched.company_id}"):
        check_stale(api, saved)
    assert writes(sb) == []


def test_fresh_plan_is_not_stale(sb: Sandbox) -> None:
    plan = make_plan(sb)
    sb.clear_log()
    with client(sb) as api:
        check_stale(api, plan)
    assert writes(sb) == []
    assert 1 <= len(sb.request_log) <= 3


def test_a_group_converted_meanwhile_makes_the_plan_stale(sb: Sandbox) -> None:
    plan = make_plan(sb)
    convert = next(a for a in plan.actions if a.type == "convert")
    with client(sb) as api:
        api.b2b.send(convert.request, idempotent=False)
    with client(sb) as api, pytest.raises(StalePlanError, match="now has company"):
        check_stale(api, plan)


def test_safety_threshold_refuses_large_plans(sb: Sandbox) -> None:
    plan = make_plan(sb)
    assert plan.managed_objects >= 10
    strict = replace(plan, store=replace(plan.store, max_change_percent=5))
    with pytest.raises(SafetyError, match="maxChangePercent 5%"):
        check_safety(strict, force=False)
    check_safety(strict, force=True)


def test_partial_failure_skips_only_dependents(sb: Sandbox) -> None:
    plan = make_plan(sb)
    convert = next(a for a in plan.actions if a.type == "convert")
    group = convert.customer_group_id
    sb.set_faults(
        [{"method": "POST", "path": f"/customer-groups/{group}/companies$", "status": 422}]
    )
    with client(sb) as api:
        report = apply_plan(api, plan)
    outcome = {r.action_id: r for r in report.results}
    assert outcome[convert.id].outcome == "failed"
    assert "422" in outcome[convert.id].message
    dependents = {a.id for a in plan.actions if convert.id in a.depends_on}
    for action in plan.actions:
        expected = (
            "failed" if action.id == convert.id
            else "skipped" if action.id in dependents
            else "applied"
        )  # fmt: skip
        assert outcome[action.id].outcome == expected, action.id
        if expected == "skipped":
            assert convert.id in outcome[action.id].message
    assert not report.ok
    sb.set_faults([])
    remaining = make_plan(sb)
    assert {a.id for a in remaining.actions} == {convert.id} | dependents


def test_interrupted_apply_leaves_the_rest_pending(sb: Sandbox) -> None:
    plan = make_plan(sb)
    calls = []

    def stop_after_two() -> bool:
        calls.append(1)
        return len(calls) > 2

    with client(sb) as api:
        report = apply_plan(api, plan, should_stop=stop_after_two)
    assert report.interrupted
    assert not report.ok
    assert [r.outcome for r in report.results[:2]] == ["applied", "applied"]
    assert {r.outcome for r in report.results[2:]} == {"pending"}
    assert len(make_plan(sb).actions) < len(plan.actions)


def test_apply_refuses_a_stale_plan_and_counts_its_reads(sb: Sandbox) -> None:
    plan = make_plan(sb)
    touched = next(a for a in plan.actions if a.type == "update" and a.company_id)
    with client(sb) as api:
        api.b2b.send(
            Request("PUT", f"/companies/{touched.company_id}", {"companyPhone": "0"}),
            idempotent=True,
        )
    sb.clear_log()
    with client(sb) as api:
        report = apply_plan(api, plan)
    # A plan made moments ago (fresh apply) lost a race: the store changed since planning.
    assert report.refused.startswith("the store changed since planning, nothing was sent")
    assert "saved plan" not in report.refused
    assert not report.ok
    assert {r.outcome for r in report.results} == {"pending"}
    assert writes(sb) == []
    assert sum(report.requests.values()) == len(sb.request_log) >= 1
