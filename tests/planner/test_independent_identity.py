"""Company identity on Independent stores (CONTRACT.md, issue 16): companyId, else a unique
uuid, else a unique companyName; create when nothing matches; a plan error asking for companyId
when more than one live company could match; customerGroupId an ordinary updatable field.
Pure: values in, a Plan (or the PlanError) out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.errors import PlanError
from reconciler.kinds.company import AdminSpec, CompanySpec
from reconciler.kinds.identity import match_company
from reconciler.kinds.order_assignment import OrderAssignmentSpec
from reconciler.model import LiveCompany, LiveCustomer, LiveOrder, LiveState, ManifestSet, StoreSpec
from reconciler.planner import build_plan

STORE = StoreSpec(name="store", store_hash="ind1", companies_behavior="independent")


def company(cid: int, name: str, group: int | None = 20, uuid: str = "") -> LiveCompany:
    return LiveCompany(
        company_id=cid,
        customer_group_id=group,
        company_name=name,
        company_email=f"{cid}@example.com",
        company_phone="1",
        status="approved",
        uuid=uuid,
        updated_at=1700000000,
    )


ALDER = company(2001, "Alder Tools", uuid="ERP-A")
BIRCH = company(2002, "Birch Hardware")
GROVE = company(2005, "Grove Retail")
SPEC = CompanySpec(
    name="alder",
    customer_group_id=20,
    company_name="Alder Tools",
    company_email="2001@example.com",
    company_phone="1",
    admin=AdminSpec(email="new@example.com", first_name="N", last_name="W"),
    address={"country": "US"},
)


def state(*companies: LiveCompany, **kw: object) -> LiveState:
    base = LiveState(
        store_hash="ind1",
        companies=companies,
        customer_groups=frozenset({20, 21}),
        read_at=1700001000,
        company_total=len(companies),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def plan_for(*specs: object, live: LiveState):  # type: ignore[no-untyped-def]
    return build_plan(ManifestSet(STORE, specs), live, created_at="2026-11-29T00:00:00Z")


def test_shared_group_company_found_by_name_plans_nothing() -> None:
    plan = plan_for(SPEC, live=state(ALDER, BIRCH, GROVE))
    assert plan.actions == ()
    assert plan.unmanaged_companies == 2


@pytest.mark.parametrize(
    ("spec", "found"),
    [
        (replace(SPEC, company_id=2002, company_name="Renamed"), 2002),  # id wins over name
        (replace(SPEC, uuid="ERP-A", company_name="Other"), 2001),  # unique uuid over name
        (replace(SPEC, uuid="ERP-NONE"), 2001),  # no uuid carrier: the unique name
        (replace(SPEC, company_name="  alder   TOOLS "), 2001),  # name without case/blanks
    ],
)
def test_the_first_rule_that_matches_decides(spec: CompanySpec, found: int) -> None:
    match = match_company(
        spec.company_id, spec.uuid, spec.company_name, (ALDER, BIRCH, GROVE), "ind1"
    )
    assert match.company is not None
    assert match.company.company_id == found
    plan = plan_for(spec, live=state(ALDER, BIRCH, GROVE))
    assert all(a.company_id == found for a in plan.actions)
    assert all(a.type != "create" for a in plan.actions)


def test_no_match_creates_in_the_shared_group() -> None:
    spec = replace(SPEC, company_name="Elm Academy")
    plan = plan_for(spec, live=state(ALDER, BIRCH))
    (create,) = plan.actions
    assert create.type == "create"
    assert create.request.path == "/companies"
    assert create.request.body["customerGroupId"] == 20
    assert ("customerGroupId", None, 20) in [(c.path, c.before, c.after) for c in create.changes]


@pytest.mark.parametrize(
    ("live_companies", "spec", "needle"),
    [
        (
            (ALDER, company(2009, "ALDER TOOLS", group=21)),
            SPEC,
            "spec.companyName: 2 live companies are named 'Alder Tools'",
        ),
        (
            (company(2001, "A", uuid="U"), company(2002, "B", uuid="U")),
            replace(SPEC, uuid="U"),
            "spec.uuid: 2 live companies carry uuid 'U'",
        ),
        ((ALDER,), replace(SPEC, company_id=999), "spec.companyId: company 999 does not exist"),
    ],
)
def test_ambiguous_or_missing_identity_is_a_plan_error(
    live_companies: tuple[LiveCompany, ...], spec: CompanySpec, needle: str
) -> None:
    """Nothing is planned (so nothing created) while a document could mean two companies."""
    with pytest.raises(PlanError) as caught:
        plan_for(spec, live=state(*live_companies))
    text = "\n".join(i.format() for i in caught.value.issues)
    assert needle in text
    if "does not exist" not in needle:
        assert "add companyId" in text


def test_two_documents_finding_one_company_is_a_plan_error() -> None:
    by_id = replace(SPEC, name="alder-by-id", company_id=2001, company_name="Alder Tools Inc")
    with pytest.raises(PlanError) as caught:
        plan_for(by_id, SPEC, live=state(ALDER, BIRCH))
    assert "which company/alder-by-id already manages" in str(caught.value.issues[0].message)


def test_a_group_change_is_an_update_that_says_who_moves() -> None:
    spec = replace(SPEC, name="birch", company_id=2002, company_name="Birch Hardware")
    spec = replace(spec, company_email="2002@example.com")
    spec = replace(spec, customer_group_id=21)
    plan = plan_for(spec, live=state(ALDER, BIRCH, company(2004, "Dogwood", group=21)))
    (update,) = plan.actions
    assert update.type == "update"
    assert update.request.path == "/companies/2002"
    assert update.request.body == {"customerGroupId": 21}
    assert [(c.path, c.before, c.after) for c in update.changes] == [("customerGroupId", 20, 21)]
    (effect,) = update.side_effects
    assert "users move from customer group 20 to 21" in effect
    assert "get the prices" in effect
    assert "1 other company is in that group now" in effect
    # the staleness check re-reads the group the company is in now
    assert update.customer_group_id == 20


def test_a_group_change_to_a_missing_group_is_a_plan_error() -> None:
    spec = replace(SPEC, customer_group_id=77)
    with pytest.raises(PlanError) as caught:
        plan_for(spec, live=state(ALDER))
    assert "customer group 77 does not exist" in caught.value.issues[0].message


def test_order_reassign_on_independent_says_what_to_do_instead() -> None:
    """Orders of a member sitting in another company could move only by reassign: Dependent
    only, so the plan says so and what the merchant can do instead."""
    spec = replace(SPEC, name="alder")
    assignment = OrderAssignmentSpec("alder-buyers", "alder", (600,))
    live = state(
        ALDER,
        BIRCH,
        customers={600: LiveCustomer(600, 2001, 1700000000, (9001,))},
        orders={9001: LiveOrder(9001, 2002)},
    )
    with pytest.raises(PlanError) as caught:
        plan_for(spec, assignment, live=live)
    (issue,) = caught.value.issues
    assert "only by reassign, which is Dependent-only" in issue.message
    assert "control panel" in issue.message
    assert "remove the customer" in issue.message


def test_assign_on_independent_targets_the_company_found_by_name() -> None:
    assignment = OrderAssignmentSpec("alder-buyers", "alder", (600,))
    live = state(
        BIRCH,
        ALDER,  # not the first company of group 20: identity is the name, not the group
        customers={600: LiveCustomer(600, 2001, 1700000000, (9001,))},
        orders={9001: LiveOrder(9001, None)},
    )
    (assign,) = plan_for(SPEC, assignment, live=live).actions
    assert assign.type == "assign"
    assert assign.company_id == 2001
