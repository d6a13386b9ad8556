"""The staleness check covers companies without a customer group (Independent stores).

``touched_groups`` re-reads the companies of every customer group the plan touches; a company
with no group is in none of them, so it was not re-read before apply. Now the check lists the
companies modified since the plan's watermark (one request) and compares each group-less company
the plan touches with the recorded one, field for field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.executor import apply_plan
from reconciler.kinds import api_requests
from reconciler.live import read_live
from reconciler.manifests import load
from reconciler.model import ManifestSet, Plan, Request
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox

SEED: dict[str, Any] = {
    "store": {"hash": "loose1", "companiesBehavior": "independent", "accessToken": "tok"},
    "customerGroups": [{"id": 10, "name": "Wholesale"}],
    "companies": [
        {
            "companyId": 2001,
            "customerGroupId": None,
            "companyName": "Loose Ltd",
            "companyEmail": "loose@example.com",
            "companyPhone": "555",
            "companyStatus": 1,
            "address": {"country": "US"},
        },
        {
            "companyId": 2002,
            "customerGroupId": 10,
            "companyName": "Grouped Ltd",
            "companyEmail": "grouped@example.com",
            "companyPhone": "555",
            "companyStatus": 1,
            "address": {"country": "US"},
        },
    ],
}
DOCS = [
    {
        "apiVersion": "b2b.reconciler/v1",
        "kind": "Store",
        "metadata": {"name": "store"},
        "spec": {"storeHash": "loose1", "companiesBehavior": "independent"},
    },
    {
        "apiVersion": "b2b.reconciler/v1",
        "kind": "Company",
        "metadata": {"name": "loose"},
        "spec": {
            "companyId": 2001,
            "customerGroupId": 10,
            "companyName": "Loose Ltd",
            "companyEmail": "loose@example.com",
            "companyPhone": "999",
        },
    },
]


def manifests(folder: Path) -> ManifestSet:
    (folder / "m.yaml").write_text(yaml.safe_dump_all(DOCS), encoding="utf-8")
    return load([folder])


def client(sb: Sandbox) -> ApiClient:
    settings = ApiSettings(
        store_hash="loose1",
        token=Secret("tok"),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    return ApiClient.open(settings, sb.transport(), sleep=lambda _s: None)


def plan_for(api: ApiClient, found: ManifestSet) -> Plan:
    plan = build_plan(found, read_live(api, found), created_at="2026-11-29T00:00:00Z")
    assert [(a.type, a.company_id, a.customer_group_id) for a in plan.actions] == [
        ("update", 2001, None)  # it moves into group 10; the check looks where it is now
    ]
    return plan


def test_a_groupless_company_changed_since_planning_makes_the_plan_stale(
    tmp_path: Path,
) -> None:
    found = manifests(tmp_path)
    with Sandbox(db=":memory:", seed=SEED) as sb, client(sb) as api:
        plan = plan_for(api, found)
        other = Request("PUT", "/companies/2001", {"companyEmail": "changed@example.com"})
        api.b2b.send(other, idempotent=True)  # another client, between plan and apply
        sb.clear_log()
        report = apply_plan(api, plan)
        company = next(c for c in sb.dump()["companies"] if c["companyId"] == 2001)
    assert report.refused.startswith("the store changed since planning, nothing was sent")
    assert "company 2001 ('Loose Ltd') changed" in report.refused
    assert [e.method for e in sb.request_log] == ["GET"]  # the listing, no write
    assert "minModified=" in sb.request_log[0].query
    assert (company["customerGroupId"], company["companyPhone"]) == (None, "555")


def test_a_fresh_plan_for_a_groupless_company_applies_with_the_requests_it_counts(
    tmp_path: Path,
) -> None:
    found = manifests(tmp_path)
    with Sandbox(db=":memory:", seed=SEED) as sb, client(sb) as api:
        plan = plan_for(api, found)
        sb.clear_log()
        report = apply_plan(api, plan)
        company = next(c for c in sb.dump()["companies"] if c["companyId"] == 2001)
    assert report.ok, (report.results, report.verification)
    assert sum(report.requests.values()) == len(sb.request_log) == api_requests(plan)
    assert (company["customerGroupId"], company["companyPhone"]) == (10, "999")
