"""The staleness check of a plan read by the apply itself, by what changed (issue 17).

``apply`` without ``--plan`` reads the store, plans and checks before its first write that
nothing the plan touches changed since its read. It believes its own read, so the companies of
the touched groups are the recorded ones updated by one ``GET /companies?minModified=`` listing,
after one count (``maxCreated``) proves that no company the read saw has gone; a saved plan
still reads every company of those groups (nothing in a file is believed). Both must refuse
the very same outside changes with the very same words, and the watermark they list from is
the store's own time at the read (the ``Date`` header), so no clock skew lets a change pass.

Everything runs against the sandbox in-process, with outside changes sent as another
integration would send them (``reconciler.sandbox.outside``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.errors import PlanFileError, PlanMismatchError
from reconciler.executor import apply_plan
from reconciler.kinds import api_requests
from reconciler.kinds.company import AdminSpec, CompanySpec
from reconciler.live import read_live
from reconciler.manifests import load
from reconciler.model import ApplyReport, ManifestSet, Plan, StoreSpec, changes_check
from reconciler.planfile import plan_from_json, plan_to_json
from reconciler.planner import STORE_CLOCK_MARGIN, WATERMARK_MARGIN, build_plan
from reconciler.sandbox import Sandbox, outside
from reconciler.savedplan import check_saved_plan

N = 800
"""Companies in the store: four pages of 250, so reading ten groups costs four requests."""
MANAGED = range(40, 50)
FREE = 801
"""A customer group with no company, which the plan converts."""
NOW = 1_790_000_000
EXAMPLE = Path(__file__).resolve().parents[2] / "examples/store"


def seed(quirks: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "store": {
            "hash": "stale1",
            "companiesBehavior": "dependent",
            "accessToken": "tok",
            "quirks": quirks or {},
        },
        "customerGroups": [{"id": g, "name": f"Group {g}"} for g in range(1, FREE + 1)],
        "priceLists": [{"id": 1, "name": "Retail"}],
        "companies": [
            {
                "companyId": 1000 + i,
                "customerGroupId": i + 1,
                "companyName": f"Company {i}",
                "companyEmail": f"c{i}@example.com",
                "companyPhone": "555",
                "companyStatus": 1,
                "address": {"country": "US"},
                "createdAt": NOW - 100_000,
                "updatedAt": NOW - 100_000,
            }
            for i in range(N)
        ],
    }


def spec(i: int, phone: str = "556") -> CompanySpec:
    return CompanySpec(
        name=f"co-{i}",
        customer_group_id=i + 1,
        company_name=f"Company {i}",
        company_email=f"c{i}@example.com",
        company_phone=phone,
        address={"country": "US"},
        admin=AdminSpec(
            email=f"admin{i}@example.com", first_name="A", last_name="B", phone_number="1"
        ),
    )


def manifests() -> ManifestSet:
    """Ten phone changes and one convert: eleven touched groups."""
    store = StoreSpec(name="store", companies_behavior="dependent")
    specs = [spec(i) for i in MANAGED] + [spec(FREE - 1)]
    return ManifestSet(store=store, specs=tuple(specs))


def client(sb: Sandbox, token: str = "tok") -> ApiClient:
    settings = ApiSettings(
        store_hash=sb.store_hash,
        token=Secret(token),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    return ApiClient.open(settings, sb.transport(), sleep=lambda _s: None)


def plan_of(api: ApiClient, found: ManifestSet, *, own: bool) -> Plan:
    plan = build_plan(found, read_live(api, found), created_at="2026-11-29T00:00:00Z")
    return replace(plan, own_read=own)


def writes(sb: Sandbox) -> list[Any]:
    return [e for e in sb.request_log if e.method in ("POST", "PUT", "DELETE")]


def company_reads_before_writes(sb: Sandbox) -> list[str]:
    """The ``GET /companies`` queries apply sent before its first write."""
    out = []
    for entry in sb.request_log:
        if entry.method != "GET":
            continue
        if entry.path == "/api/v3/io/companies":
            out.append(entry.query)
    return out


Change = Callable[[Sandbox], object]
CHANGES: dict[str, Change] = {
    "a touched company renamed": lambda sb: outside.rename_company(sb, 1040, "Renamed"),
    "a touched company's status": lambda sb: outside.set_status(sb, 1041, 3),
    "a touched company deleted": lambda sb: outside.delete_company(sb, 1042),
    "the free group converted": lambda sb: outside.convert_group(
        sb, FREE, "Someone Else", "else@example.com"
    ),
    "an untouched company deleted": lambda sb: outside.delete_company(sb, 1500),
    "an untouched company renamed": lambda sb: outside.rename_company(sb, 1600, "Other"),
    "a company created elsewhere": lambda sb: outside.create_company(
        sb, "Newcomer", "new@example.com"
    ),
}
HARMLESS = ("an untouched company deleted", "an untouched company renamed", "a company created")


def apply_after(
    change: Change | None, *, own: bool, quirks: dict[str, Any] | None = None
) -> tuple[Plan, ApplyReport, Sandbox]:
    sb = Sandbox(db=":memory:", seed=seed(quirks))
    with client(sb) as api:
        plan = plan_of(api, manifests(), own=own)
        if change is not None:
            change(sb)
        sb.clear_log()
        report = apply_plan(api, plan)
    return plan, report, sb


@pytest.fixture
def sandboxes() -> Iterator[list[Sandbox]]:
    opened: list[Sandbox] = []
    yield opened
    for sb in opened:
        sb.close()


def test_the_own_read_is_checked_with_two_company_requests(sandboxes: list[Sandbox]) -> None:
    plan, report, sb = apply_after(None, own=True)
    sandboxes.append(sb)
    assert changes_check(plan)
    assert report.ok, report
    assert sum(report.requests.values()) == len(sb.request_log) == api_requests(plan)
    first_write = next(i for i, e in enumerate(sb.request_log) if e.method != "GET")
    reads = [
        e.query
        for e in sb.request_log[:first_write]
        if e.method == "GET" and e.path == "/api/v3/io/companies"
    ]
    watermark = plan.preconditions.watermark
    assert len(reads) == 2, reads
    assert f"maxCreated={watermark - 1}" in reads[0]
    assert "limit=1" in reads[0]
    assert f"minModified={watermark}" in reads[1]
    assert not [q for q in reads if "bcGroupId" in q]
    # A saved plan of the same store reads every company (four pages) instead.
    saved, saved_report, saved_sb = apply_after(None, own=False)
    sandboxes.append(saved_sb)
    assert saved_report.ok
    assert api_requests(saved) == api_requests(plan) + 2
    assert sum(saved_report.requests.values()) == api_requests(saved)


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_an_outside_change_is_judged_as_a_saved_plans_check_judges_it(
    name: str, sandboxes: list[Sandbox]
) -> None:
    """Each change made after the read: the own-read check refuses exactly what reading the
    groups refuses, with the same words, and sends nothing; a harmless one applies."""
    _, own, own_sb = apply_after(CHANGES[name], own=True)
    _, saved, saved_sb = apply_after(CHANGES[name], own=False)
    sandboxes.extend((own_sb, saved_sb))
    assert own.refused == saved.refused
    if name.startswith(HARMLESS):
        assert own.ok, (own.refused, own.verification)
        assert saved.ok
    else:
        assert own.refused.startswith("the store changed since planning, nothing was sent")
        assert not writes(own_sb)


def test_a_deleted_company_the_plan_does_not_touch_costs_the_group_reads(
    sandboxes: list[Sandbox],
) -> None:
    """The count differs, so no deletion can be ruled out: the groups are read (four pages
    more than the estimate) and the plan, still fresh, applies."""
    plan, report, sb = apply_after(CHANGES["an untouched company deleted"], own=True)
    sandboxes.append(sb)
    assert report.ok
    assert sum(report.requests.values()) == api_requests(plan) + 4


def test_a_change_in_the_same_second_as_the_read_is_stale() -> None:
    clock = [float(NOW)]
    with Sandbox(db=":memory:", seed=seed(), clock=lambda: clock[0]) as sb:
        with client(sb) as api:
            outside.update_company(sb, 1040, companyEmail="a@example.com")
            plan = plan_of(api, manifests(), own=True)
            outside.update_company(sb, 1040, companyEmail="b@example.com")
            assert sb.dump()["companies"][40]["updatedAt"] == NOW
            sb.clear_log()
            report = apply_plan(api, plan)
        assert changes_check(plan)
        assert "company 1040 ('Company 40') changed" in report.refused
        assert not writes(sb)


@pytest.mark.parametrize("skew", [-3600, -600, 600, 3600])
@pytest.mark.parametrize("own", [True, False])
def test_the_watermark_is_the_stores_time_under_any_skew(skew: int, own: bool) -> None:
    """The store's clock an hour or ten minutes off ours: the watermark is its own time at
    the read less 5 s, and a change made since planning is seen."""
    with Sandbox(db=":memory:", seed=seed({"clockSkew": skew})) as sb:
        with client(sb) as api:
            plan = plan_of(api, manifests(), own=own)
            assert plan.live is not None
            assert plan.live.store_read_at is not None
            assert abs(plan.live.store_read_at - (plan.live.read_at + skew)) <= 2
            assert plan.preconditions.watermark == plan.live.store_read_at - STORE_CLOCK_MARGIN
            outside.rename_company(sb, 1043, "Renamed")
            sb.clear_log()
            report = apply_plan(api, plan)
        assert "company 1043 ('Renamed') changed" in report.refused
        assert not writes(sb)


@pytest.mark.parametrize("skew", [-3600, -600, 600, 3600])
@pytest.mark.parametrize("what", ["order", "user"])
def test_orders_and_users_changed_under_skew_are_stale(skew: int, what: str) -> None:
    """The order and company-user parts list since the same watermark: with the store's clock
    an hour behind ours, a watermark on our clock (less 300 s) lay in the store's future and
    let these changes pass."""
    found = load([EXAMPLE])
    data = yaml.safe_load((EXAMPLE / "sandbox-seed.yaml").read_text(encoding="utf-8"))
    data.setdefault("store", {}).setdefault("quirks", {})["clockSkew"] = skew
    with Sandbox(db=":memory:", seed=data) as sb:
        token = sb.access_token or "tok"
        with client(sb, token) as api:
            plan = plan_of(api, found, own=True)
            if what == "order":
                outside.update_order(sb, 5010, poNumber="CHANGED")
                expected = "order 5010 changed"
            else:
                outside.move_user(sb, 401, 1002)
                expected = "company user for customer 401 changed"
            sb.clear_log()
            report = apply_plan(api, plan)
        assert expected in report.refused
        assert not writes(sb)


def test_without_a_date_header_the_groups_are_read_and_our_clock_is_used(
    sandboxes: list[Sandbox],
) -> None:
    plan, report, sb = apply_after(
        CHANGES["a touched company renamed"], own=True, quirks={"dateHeader": False}
    )
    sandboxes.append(sb)
    assert plan.live is not None
    assert plan.live.store_read_at is None
    assert plan.preconditions.watermark == plan.live.read_at - WATERMARK_MARGIN
    assert not changes_check(plan)
    assert "company 1040 ('Renamed') changed" in report.refused
    reads = company_reads_before_writes(sb)
    assert not [q for q in reads if "maxCreated" in q]


def test_saved_plans_record_the_stores_time_and_older_files_still_load() -> None:
    """``live.storeReadAt`` is an additive key: written when the store told its time, read
    back, and a file without it (an older b2b-reconcile) keeps its watermark on our clock and
    still rebuilds; an edited ``storeReadAt`` moves the rebuilt watermark and is refused."""
    with Sandbox(db=":memory:", seed=seed()) as sb, client(sb) as api:
        plan = plan_of(api, manifests(), own=False)
    assert plan.live is not None
    data = plan_to_json(plan)
    assert data["live"]["storeReadAt"] == plan.live.store_read_at
    assert plan_from_json(data) == plan
    check_saved_plan(plan_from_json(data), manifests(), plan_file="new.json", paths="m")
    older = copy.deepcopy(data)
    del older["live"]["storeReadAt"]
    older["preconditions"]["watermark"] = older["live"]["readAt"] - WATERMARK_MARGIN
    loaded = plan_from_json(older)
    assert loaded.live is not None
    assert loaded.live.store_read_at is None
    check_saved_plan(loaded, manifests(), plan_file="old.json", paths="m")
    edited = copy.deepcopy(data)
    edited["live"]["storeReadAt"] += 3600
    with pytest.raises(PlanMismatchError, match=r"preconditions\.watermark"):
        check_saved_plan(plan_from_json(edited), manifests(), plan_file="edited.json", paths="m")
    edited["live"]["storeReadAt"] = -1
    with pytest.raises(PlanFileError, match=r"live\.storeReadAt: must be at least 0"):
        plan_from_json(edited)
