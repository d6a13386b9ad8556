"""Product bugs the chaos suite found, each reduced to its smallest store.

Each test states what the contract promises. For the planner: a plan that succeeds is a plan
apply can carry out ("every problem that would make apply fail is found here, all at once,
before anything is sent", ``reconciler/planner.py``): either the plan refuses, or its apply
succeeds. For the executor: ``apply_plan`` reports failures, it does not raise them.

Fixed bugs pass; open ones are strict xfails (remove the marker, and the matching allowance in
``test_apply_under_faults.py``, when one is fixed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.errors import PlanError
from reconciler.executor import apply_plan
from reconciler.live import read_live
from reconciler.manifests import load
from reconciler.model import ApplyReport, Plan
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox

STORE_HASH = "bugs01"
TOKEN = "bugs-token-0d5e7a"
STORE_DOC = {
    "apiVersion": "b2b.reconciler/v1",
    "kind": "Store",
    "metadata": {"name": "store"},
    "spec": {"storeHash": STORE_HASH, "companiesBehavior": "dependent"},
}


def plan_and_apply(
    tmp_path: Path, seed: dict[str, Any], docs: list[dict[str, Any]]
) -> tuple[Plan, ApplyReport]:
    """Plan the documents against a sandbox seeded with ``seed``, then apply the plan."""
    (tmp_path / "m.yaml").write_text(yaml.safe_dump_all([STORE_DOC, *docs]), encoding="utf-8")
    found = load([tmp_path])
    sb = Sandbox(seed={"store": {"hash": STORE_HASH, "companiesBehavior": "dependent"}, **seed})
    settings = ApiSettings(
        store_hash=STORE_HASH,
        token=Secret(TOKEN),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    with sb, ApiClient.open(settings, sb.transport(), sleep=lambda _s: None) as api:
        plan = build_plan(found, read_live(api, found), created_at="2026-11-24T00:00:00Z")
        return plan, apply_plan(api, plan)


def assert_planned_or_refused(
    tmp_path: Path, seed: dict[str, Any], docs: list[dict[str, Any]]
) -> None:
    """Either the plan refuses (PlanError) or its apply succeeds: never a plan that fails."""
    try:
        plan, report = plan_and_apply(tmp_path, seed, docs)
    except PlanError:
        return
    failures = [(r.action_id, r.message) for r in report.results if r.outcome != "applied"]
    assert report.ok, (failures, [a.request.to_json() for a in plan.actions])


def test_po_number_update_on_a_store_with_a_required_order_field(tmp_path: Path) -> None:
    seed = {
        "customers": [{"id": 1, "email": "a@buyer.example"}],
        "orders": [
            {
                "bcOrderId": 5001,
                "customerId": 1,
                "companyId": None,
                "poNumber": "",
                "extraFields": {"costCenter": "CC-1"},  # the required field has a value
            }
        ],
        "extraFieldConfigs": {
            "order": [
                {"fieldName": "costCenter", "fieldType": 0, "isRequired": True, "maximumLength": 20}
            ]
        },
    }
    order = {
        "apiVersion": "b2b.reconciler/v1",
        "kind": "Order",
        "metadata": {"name": "po-5001"},
        "spec": {"bcOrderId": 5001, "poNumber": "PO-1"},
    }
    assert_planned_or_refused(tmp_path, seed, [order])


def test_company_update_when_the_live_company_lacks_a_required_field(tmp_path: Path) -> None:
    seed = {
        "customerGroups": [{"id": 11, "name": "Acme"}],
        "companies": [
            {
                "companyId": 1001,
                "customerGroupId": 11,
                "companyName": "Acme",
                "companyEmail": "a@acme.example",
                "companyPhone": "1",
                "extraFields": {},  # predates the required field
            }
        ],
        "extraFieldConfigs": {
            "company": [
                {"fieldName": "licenseNo", "fieldType": 0, "isRequired": True, "maximumLength": 20},
                {"fieldName": "region", "fieldType": 0, "maximumLength": 20},
            ]
        },
    }
    company = {
        "apiVersion": "b2b.reconciler/v1",
        "kind": "Company",
        "metadata": {"name": "acme"},
        "spec": {
            "customerGroupId": 11,
            "companyName": "Acme",
            "companyEmail": "a@acme.example",
            "companyPhone": "1",
            "extraFields": {"region": "North"},
        },
    }
    assert_planned_or_refused(tmp_path, seed, [company])


def test_apply_plan_reports_a_staleness_check_that_cannot_read(tmp_path: Path) -> None:
    seed = {
        "customerGroups": [{"id": 11, "name": "Acme"}],
        "companies": [
            {
                "companyId": 1001,
                "customerGroupId": 11,
                "companyName": "Acme",
                "companyEmail": "a@acme.example",
                "companyPhone": "1",
            }
        ],
    }
    company = {
        "apiVersion": "b2b.reconciler/v1",
        "kind": "Company",
        "metadata": {"name": "acme"},
        "spec": {
            "customerGroupId": 11,
            "companyName": "Acme",
            "companyEmail": "a@acme.example",
            "companyPhone": "2",
        },
    }
    (tmp_path / "m.yaml").write_text(yaml.safe_dump_all([STORE_DOC, company]), encoding="utf-8")
    found = load([tmp_path])
    sb = Sandbox(seed={"store": {"hash": STORE_HASH, "companiesBehavior": "dependent"}, **seed})
    settings = ApiSettings(
        store_hash=STORE_HASH,
        token=Secret(TOKEN),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    with sb, ApiClient.open(settings, sb.transport(), sleep=lambda _s: None) as api:
        plan = build_plan(found, read_live(api, found), created_at="2026-11-24T00:00:00Z")
        assert [a.type for a in plan.actions] == ["update"]
        sb.set_faults([{"method": "GET", "path": "^/api/v3/io/companies$", "status": 503}])
        report = apply_plan(api, plan)  # must not raise
    assert report.refused
    assert not report.ok
    assert not [e for e in sb.request_log if e.method in ("POST", "PUT")]
