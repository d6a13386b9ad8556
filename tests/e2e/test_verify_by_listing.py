"""Apply verifies by listing what it touched (issue 17, item 2).

After the writes, each kind reads back what it touched from one ``minModified`` listing of the
objects modified since apply started (less a margin), when that costs fewer requests than one
read per object; an object the listing misses is read on its own. These tests run the example
store (every kind of action) against the sandbox through the real client:

- a clean apply verifies companies, users and orders with one listing each (no per-object
  read), and makes exactly the requests the plan announced;
- a value someone changes between the write and the verification is caught from the listing,
  and also when the store's clock is an hour behind ours (far beyond the margin): the listing
  then misses every touched object, and each is read on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.executor import MODIFIED_MARGIN, apply_plan
from reconciler.kinds import api_requests
from reconciler.live import read_live
from reconciler.manifests import load
from reconciler.model import Plan
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox
from reconciler.sandbox.log import LogEntry

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "examples/store"


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Iterator[tuple[Sandbox, ApiClient, Plan]]:
    """The example store (quirks from the test's parameter), a client, and a fresh plan."""
    seed = yaml.safe_load((STORE / "sandbox-seed.yaml").read_text())
    seed.setdefault("store", {})["quirks"] = getattr(request, "param", {})
    with Sandbox(db=":memory:", seed=seed) as sb:
        token = (sb.dump().get("store") or {}).get("accessToken") or "tok"
        settings = ApiSettings(
            store_hash=sb.store_hash,
            token=Secret(token),
            b2b_url="http://localhost/api/v3/io",
            core_url="http://localhost",
        )
        found = load([STORE])
        with ApiClient.open(settings, sb.transport(), sleep=lambda _s: None) as api:
            plan = build_plan(found, read_live(api, found), created_at="2026-11-29T00:00:00Z")
            sb.clear_log()
            yield sb, api, plan


def _verification(log: list[LogEntry]) -> list[LogEntry]:
    """The requests after the last write: the verification."""
    last = max(i for i, e in enumerate(log) if e.method != "GET")
    return log[last + 1 :]


def _path(entry: LogEntry) -> str:
    return entry.path.removeprefix("/api/v3/io")


def test_a_clean_apply_verifies_each_collection_with_one_listing(
    store: tuple[Sandbox, ApiClient, Plan],
) -> None:
    sb, api, plan = store
    kinds = {a.type for a in plan.actions}
    assert {"update", "convert", "updateUser", "createUser", "reassign", "assign"} <= kinds
    assert "updateOrder" in kinds
    report = apply_plan(api, plan)
    assert report.ok, (report.results, report.verification)
    reads = _verification(list(sb.request_log))
    # Companies, users, moved orders, updated orders: one listing each, nothing one by one.
    assert [_path(e) for e in reads] == ["/companies", "/users", "/orders", "/orders"]
    assert all("minModified=" in e.query for e in reads)
    # The plan said how many requests apply would make: exactly these.
    assert sum(report.requests.values()) == len(sb.request_log) == api_requests(plan)


def _meddle(api: ApiClient, plan: Plan) -> Any:
    """Someone else changes one value of each kind right after apply wrote it."""
    after = {
        "company/northwind-supply:update": lambda: api.http.b2b(
            "PUT", "/companies/1001", json={"companyPhone": "555-0000"}
        ),
        "companyusers/northwind-users:updateUser:mei.tanaka@northwind-supply.example": (
            lambda: api.http.b2b("PUT", "/users/3", json={"phoneNumber": "555-0001"})
        ),
        "orderassignment/st-brigid-clinicians:reassign:405": lambda: api.http.b2b(
            "PUT", "/customers/405/orders/company", json={"bcGroupId": 14}
        ),
        "order/nw-5012:updateOrder": lambda: api.http.b2b(
            "PUT", "/orders/5012", json={"poNumber": "PO-MEDDLED"}
        ),
    }

    def progress(done: int, _total: int, _seconds: float) -> None:
        change = after.get(plan.actions[done - 1].id)
        if change is not None:
            change()

    return progress


@pytest.mark.parametrize(
    "store",
    [{}, {"clockSkew": -3600}, {"clockSkew": 3600}],
    ids=["same-clock", "store-an-hour-behind", "store-an-hour-ahead"],
    indirect=True,
)
def test_verification_catches_a_value_changed_after_the_write(
    store: tuple[Sandbox, ApiClient, Plan],
) -> None:
    sb, api, plan = store
    skew = sb.dump()["store"].get("quirks", {}).get("clockSkew", 0)
    assert -skew > MODIFIED_MARGIN or skew >= 0
    report = apply_plan(api, plan, progress=_meddle(api, plan))
    assert {r.outcome for r in report.results} == {"applied"}
    assert sorted(report.verification) == [
        "inconsistent result after apply: company/northwind-supply companyPhone is '555-0000', "
        "expected '+1 503 555 0199' (company/northwind-supply:update)",
        "inconsistent result after apply: companyusers/northwind-users "
        "mei.tanaka@northwind-supply.example phoneNumber is '555-0001', expected "
        "'+1 503 555 0131' (companyusers/northwind-users:updateUser:"
        "mei.tanaka@northwind-supply.example)",
        "inconsistent result after apply: order 5021 is not in company/st-brigid-health "
        "(orderassignment/st-brigid-clinicians:reassign:405)",
        "inconsistent result after apply: order/nw-5012 poNumber is 'PO-MEDDLED', expected "
        "'NW-PO-22817'",
    ]
    one_by_one = {
        _path(e) for e in _verification(list(sb.request_log)) if "minModified" not in e.query
    }
    if skew < 0:
        # The listings start at our clock less the margin: the store stamped every change an
        # hour earlier, so they miss all of them, and each object was read on its own.
        assert "/companies/1001" in one_by_one
        assert "/orders/5012" in one_by_one
    else:
        assert not one_by_one
