"""The planner is pure: desired + live values in, a Plan out. Tested with values only."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.errors import PlanError
from reconciler.kinds.company import AdminSpec, CompanySpec
from reconciler.kinds.order import OrderSpec
from reconciler.kinds.order_assignment import OrderAssignmentSpec
from reconciler.model import (
    ExtraFieldConfig,
    LiveCompany,
    LiveCustomer,
    LiveOrder,
    LiveState,
    Location,
    ManifestSet,
    PriceListAssignment,
    StoreSpec,
)
from reconciler.planner import build_plan

LOC = Location("companies/acme.yaml", 1, 1)
STORE = StoreSpec(name="store", store_hash="abc123", companies_behavior="dependent")
ACME = CompanySpec(
    name="acme",
    customer_group_id=12,
    company_name="Acme",
    company_email="buyers@acme.example",
    company_phone="555-0100",
    address={"country": "US", "city": "Austin"},
    status="approved",
    uuid="ERP-1",
    catalog_id="7",
    extra_fields={"licenseNo": 42},
    admin=AdminSpec(email="a@acme.example", first_name="A", last_name="B", phone_number="1"),
    loc=LOC,
    field_locs={"extraFields.licenseNo": Location("companies/acme.yaml", 14, 16)},
)
LIVE_ACME = LiveCompany(
    company_id=1001,
    customer_group_id=12,
    company_name="Acme",
    company_email="buyers@acme.example",
    company_phone="555-0100",
    status="approved",
    uuid="ERP-1",
    catalog_id="7",
    extra_fields={"licenseNo": "42"},
    updated_at=1700000000,
)
CONFIGS = (ExtraFieldConfig("licenseNo", 0, max_length=10),)


def live(**kw: object) -> LiveState:
    base = LiveState(
        store_hash="abc123",
        companies=(LIVE_ACME,),
        customer_groups=frozenset({12, 13}),
        price_lists=frozenset({7, 8}),
        company_field_configs=CONFIGS,
        read_at=1700001000,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def plan_for(manifests: ManifestSet, state: LiveState):  # type: ignore[no-untyped-def]
    return build_plan(manifests, state, created_at="2026-11-24T00:00:00Z")


def test_converged_store_plans_nothing() -> None:
    plan = plan_for(ManifestSet(STORE, (ACME,)), live())
    assert plan.actions == ()
    assert plan.empty


def test_number_and_string_extra_values_are_one_value() -> None:
    spec = replace(ACME, extra_fields={"licenseNo": "42"})
    assert plan_for(ManifestSet(STORE, (spec,)), live()).empty


def test_update_sends_only_changed_fields() -> None:
    spec = replace(ACME, company_name="Acme Corp", extra_fields={"licenseNo": "43"})
    plan = plan_for(ManifestSet(STORE, (spec,)), live())
    (action,) = plan.actions
    assert action.type == "update"
    assert action.request.method == "PUT"
    assert action.request.path == "/companies/1001"
    assert action.request.body == {
        "companyName": "Acme Corp",
        "extraFields": [{"fieldName": "licenseNo", "fieldValue": "43"}],
    }
    assert [(c.path, c.before, c.after) for c in action.changes] == [
        ("companyName", "Acme", "Acme Corp"),
        ("extraFields.licenseNo", "42", "43"),
    ]
    assert plan.preconditions.companies == {1001: 1700000000}


def test_status_and_catalog_have_their_own_calls() -> None:
    spec = replace(ACME, status="inactive", catalog_id="8")
    plan = plan_for(ManifestSet(STORE, (spec,)), live())
    by_type = {a.type: a for a in plan.actions}
    assert by_type["setStatus"].request.body == {"companyStatus": 3}
    assert by_type["setStatus"].request.path == "/companies/1001/status"
    assert by_type["setCatalog"].request.body == {"catalogId": "8"}
    assert by_type["setStatus"].side_effects


def test_convert_then_uuid_update_depends_on_it() -> None:
    spec = replace(ACME, customer_group_id=13, name="newco", company_name="NewCo")
    plan = plan_for(ManifestSet(STORE, (ACME, spec)), live())
    convert, uuid = plan.actions
    assert convert.type == "convert"
    assert convert.irreversible
    assert convert.request.path == "/customer-groups/13/companies"
    assert convert.request.body["catalogId"] == "7"
    assert convert.request.body["adminEmail"] == "a@acme.example"
    assert "uuid" not in convert.request.body
    assert uuid.type == "update"
    assert uuid.request.path == "/companies/{company/newco.companyId}"
    # Every company PUT carries the complete extra-field set (b2b-api.md §9.3, §9.12).
    assert uuid.request.body == {
        "uuid": "ERP-1",
        "extraFields": [{"fieldName": "licenseNo", "fieldValue": "42"}],
    }
    assert uuid.depends_on == ("company/newco:convert",)
    assert plan.preconditions.free_groups == (13,)


def test_independent_store_creates_with_group() -> None:
    store = replace(STORE, companies_behavior="independent")
    spec = replace(ACME, customer_group_id=13, catalog_id=None, uuid=None)
    plan = plan_for(ManifestSet(store, (spec,)), live(companies=()))
    (create,) = plan.actions
    assert create.type == "create"
    assert create.request.path == "/companies"
    assert create.request.body["customerGroupId"] == 13
    assert not create.irreversible


def test_plan_time_errors_are_all_reported_with_locations() -> None:
    bad = replace(
        ACME,
        customer_group_id=99,
        name="ghost",
        catalog_id="404",
        extra_fields={"licenseNo": "x" * 11, "nope": "1"},
        admin=None,
    )
    with pytest.raises(PlanError) as caught:
        plan_for(ManifestSet(STORE, (bad,)), live())
    messages = [i.format() for i in caught.value.issues]
    text = "\n".join(messages)
    assert "price list 404 does not exist" in text
    assert (
        "companies/acme.yaml:14:16: company/ghost: spec.extraFields.licenseNo: 11 characters"
        in text
    )
    assert "no company extra field named 'nope'" in text
    assert "customer group 99 does not exist" in text


def test_required_extra_field_needed_only_to_create() -> None:
    configs = (*CONFIGS, ExtraFieldConfig("region", 3, required=True, list_of_values=("N", "S")))
    spec = replace(ACME, customer_group_id=13, name="newco")
    with pytest.raises(PlanError) as caught:
        plan_for(ManifestSet(STORE, (ACME, spec)), live(company_field_configs=configs))
    (issue,) = caught.value.issues
    assert issue.resource == "company/newco"
    assert "spec.extraFields.region: required by the store" in issue.message


def test_convert_refused_on_multi_storefront() -> None:
    store = replace(STORE, multi_storefront=True)
    spec = replace(ACME, customer_group_id=13, catalog_id=None, name="newco")
    with pytest.raises(PlanError, match="cannot plan"):
        plan_for(ManifestSet(store, (spec,)), live(companies=()))


def _orders_state(member_of: int | None, companies: dict[int, int | None]) -> LiveState:
    other = replace(LIVE_ACME, company_id=2002, customer_group_id=20, company_name="Other")
    return live(
        companies=(LIVE_ACME, other),
        customers={400: LiveCustomer(400, member_of, 1700000000, tuple(companies))},
        orders={o: LiveOrder(o, c, updated_at=1700000000 + o) for o, c in companies.items()},
    )


def _assignment() -> ManifestSet:
    return ManifestSet(STORE, (ACME, OrderAssignmentSpec("acme-buyers", "acme", (400,), LOC)))


def test_member_with_loose_orders_gets_assign() -> None:
    plan = plan_for(_assignment(), _orders_state(1001, {5001: None, 5002: 1001}))
    (action,) = plan.actions
    assert action.type == "assign"
    assert action.id == "orderassignment/acme-buyers:assign:400"
    assert action.request.path == "/customers/400/orders/b2b"
    assert [c.path for c in action.changes] == ["orders.5001.companyId"]


def test_orders_in_another_company_get_reassign_by_group() -> None:
    plan = plan_for(_assignment(), _orders_state(2002, {5001: 2002, 5002: None}))
    (action,) = plan.actions
    assert action.type == "reassign"
    assert action.request.body == {"bcGroupId": 12}
    assert "2 order(s) of customer 400 move to company/acme" in action.side_effects[0]
    assert plan.preconditions.orders == {5001: 1700005001, 5002: 1700005002}
    assert plan.preconditions.customers == {400: 1700000000}


def test_orders_already_in_place_plan_nothing() -> None:
    assert plan_for(_assignment(), _orders_state(1001, {5001: 1001})).empty


def test_customer_not_a_company_user_is_an_error() -> None:
    with pytest.raises(PlanError) as caught:
        plan_for(_assignment(), _orders_state(None, {5001: None}))
    assert "customer 400 is not a company user" in caught.value.issues[0].message


def test_reassign_refused_on_independent() -> None:
    manifests = replace(_assignment(), store=replace(STORE, companies_behavior="independent"))
    manifests = replace(manifests, specs=(replace(ACME, catalog_id=None), *manifests.assignments))
    with pytest.raises(PlanError, match="cannot plan"):
        plan_for(manifests, _orders_state(2002, {5001: 2002}))


def test_reassign_to_converting_company_waits_for_convert() -> None:
    spec = replace(ACME, customer_group_id=13, name="newco", uuid=None)
    manifests = ManifestSet(
        STORE, (spec, OrderAssignmentSpec("newco-buyers", "newco", (400,), LOC))
    )
    state = _orders_state(1001, {5001: 1001})
    plan = plan_for(manifests, state)
    convert, reassign = plan.actions
    assert reassign.type == "reassign"
    assert reassign.depends_on == (convert.id,)
    assert reassign.request.body == {"bcGroupId": 13}


def test_update_order_carries_required_fields() -> None:
    configs = (
        ExtraFieldConfig("costCenter", 0, required=True),
        ExtraFieldConfig("project", 0),
    )
    order = OrderSpec("po-5001", 5001, po_number="PO-1", extra_fields={"project": "X"}, loc=LOC)
    state = live(
        order_field_configs=configs,
        orders={5001: LiveOrder(5001, 1001, "", {"costCenter": "CC1"}, 1700000000)},
    )
    (action,) = plan_for(ManifestSet(STORE, (order,)), state).actions
    assert action.type == "updateOrder"
    assert action.request.body == {
        "poNumber": "PO-1",
        "extraFields": [
            {"fieldName": "costCenter", "fieldValue": "CC1"},
            {"fieldName": "project", "fieldValue": "X"},
        ],
    }


def test_price_list_assign_order_is_noise() -> None:
    store = replace(STORE, multi_storefront=True)
    pairs = (PriceListAssignment(1, 7), PriceListAssignment(2, 8))
    spec = replace(ACME, catalog_id=None, price_list_assign=pairs)
    state = live(companies=(replace(LIVE_ACME, price_list_assign=pairs[::-1]),))
    assert plan_for(ManifestSet(store, (spec,)), state).empty


def test_a_price_list_moved_between_channels_is_a_change() -> None:
    """Channel 1's list 2 wanted, channel 2's list 1 live: the plan updates the company (the
    diff on deepdiff saw no change here; tests/planner/test_diff_paths.py says why)."""
    store = replace(STORE, multi_storefront=True)
    spec = replace(ACME, catalog_id=None, price_list_assign=(PriceListAssignment(1, 2),))
    moved = replace(LIVE_ACME, price_list_assign=(PriceListAssignment(2, 1),))
    state = live(companies=(moved,), price_lists=frozenset({1, 2, 7, 8}))
    plan = plan_for(ManifestSet(store, (spec,)), state)
    changed = [c for a in plan.actions for c in a.changes if c.path == "priceListAssign"]
    assert [(c.before, c.after) for c in changed] == [
        ([{"channelId": 2, "priceListId": 1}], [{"channelId": 1, "priceListId": 2}])
    ]


def test_targets_keep_dependencies() -> None:
    spec = replace(ACME, customer_group_id=13, name="newco", uuid=None)
    manifests = ManifestSet(
        STORE,
        (
            replace(ACME, company_name="Changed"),
            spec,
            OrderAssignmentSpec("newco-buyers", "newco", (400,), LOC),
        ),
    )
    plan = build_plan(
        manifests,
        _orders_state(1001, {5001: 1001}),
        created_at="x",
        targets=["orderassignment/newco-buyers"],
    )
    assert [a.type for a in plan.actions] == ["convert", "reassign"]


def test_a_group_shared_by_two_companies_is_ambiguous() -> None:
    twin = replace(LIVE_ACME, company_id=1002, company_name="Acme Twin")
    with pytest.raises(PlanError) as caught:
        plan_for(ManifestSet(STORE, (ACME,)), live(companies=(LIVE_ACME, twin)))
    assert "customer group 12 has 2 companies (1001, 1002)" in caught.value.issues[0].message


def test_a_customer_with_nothing_is_a_warning_not_a_change() -> None:
    state = live(customers={400: LiveCustomer(400, None, None, ())})
    plan = plan_for(_assignment(), state)
    assert plan.empty
    assert plan.warnings == (
        "orderassignment/acme-buyers: customer 400 has no orders and is not a company user; "
        "nothing to move (check the id if you expected orders)",
    )


# --------------------------------------------------------------------------- every reading


WIDE_CONFIGS = (
    ExtraFieldConfig("licenseNo", 0, max_length=10),
    ExtraFieldConfig("region", 3, required=True, list_of_values=("N", "S")),
    ExtraFieldConfig("notes", 1),
)
WIDE_ACME = replace(
    LIVE_ACME, extra_fields={"licenseNo": "42", "region": "N", "notes": "", "retired": "x"}
)


def test_company_put_sends_the_complete_extra_field_set() -> None:
    """§9.3: under "extraFields replaces the set" a changed field alone would erase the others,
    so the PUT carries every live value with the manifest's over it (empty and unconfigured
    fields left out)."""
    spec = replace(ACME, extra_fields={"licenseNo": "43"})
    state = live(companies=(WIDE_ACME,), company_field_configs=WIDE_CONFIGS)
    (action,) = plan_for(ManifestSet(STORE, (spec,)), state).actions
    assert action.request.body == {
        "extraFields": [
            {"fieldName": "licenseNo", "fieldValue": "43"},
            {"fieldName": "region", "fieldValue": "N"},
        ]
    }
    assert [c.path for c in action.changes] == ["extraFields.licenseNo"]


def test_phone_only_company_put_carries_the_required_fields() -> None:
    """§9.12: a store with required company fields may want them in every PUT."""
    spec = replace(ACME, company_phone="555-0199", extra_fields=None)
    state = live(companies=(WIDE_ACME,), company_field_configs=WIDE_CONFIGS)
    (action,) = plan_for(ManifestSet(STORE, (spec,)), state).actions
    assert action.request.body == {
        "companyPhone": "555-0199",
        "extraFields": [
            {"fieldName": "licenseNo", "fieldValue": "42"},
            {"fieldName": "region", "fieldValue": "N"},
        ],
    }


def test_required_field_without_a_value_anywhere_is_a_plan_error() -> None:
    spec = replace(ACME, company_phone="555-0199", extra_fields=None)
    company = replace(LIVE_ACME, extra_fields={"licenseNo": "42"})
    state = live(companies=(company,), company_field_configs=WIDE_CONFIGS)
    with pytest.raises(PlanError) as caught:
        plan_for(ManifestSet(STORE, (spec,)), state)
    (issue,) = caught.value.issues
    assert "spec.extraFields.region: required by the store, so every company update" in (
        issue.message
    )


def test_carried_value_the_store_now_refuses_is_a_plan_error() -> None:
    spec = replace(ACME, company_phone="555-0199", extra_fields=None)
    company = replace(LIVE_ACME, extra_fields={"licenseNo": "42", "region": "Q"})
    state = live(companies=(company,), company_field_configs=WIDE_CONFIGS)
    with pytest.raises(PlanError) as caught:
        plan_for(ManifestSet(STORE, (spec,)), state)
    (issue,) = caught.value.issues
    assert "spec.extraFields.region: the company's current value 'Q' is not one of" in (
        issue.message
    )


def test_clearing_a_company_extra_field_is_refused_at_plan_time() -> None:
    """§9.15: company fieldValue is minLength: 1, so "" is never sent."""
    spec = replace(ACME, extra_fields={"licenseNo": ""})
    with pytest.raises(PlanError) as caught:
        plan_for(ManifestSet(STORE, (spec,)), live())
    (issue,) = caught.value.issues
    assert issue.message.startswith("spec.extraFields.licenseNo: an empty value cannot be sent")
    assert "remove the field" in issue.message


def test_order_put_sends_the_complete_extra_field_set() -> None:
    """A poNumber-only order update carries every live value: under "replace" none is lost."""
    configs = (ExtraFieldConfig("costCenter", 0), ExtraFieldConfig("project", 0))
    order = OrderSpec("po-5001", 5001, po_number="PO-2", loc=LOC)
    state = live(
        order_field_configs=configs,
        orders={5001: LiveOrder(5001, 1001, "PO-1", {"costCenter": "CC1", "project": "P"}, 1)},
    )
    (action,) = plan_for(ManifestSet(STORE, (order,)), state).actions
    assert action.request.body == {
        "poNumber": "PO-2",
        "extraFields": [
            {"fieldName": "costCenter", "fieldValue": "CC1"},
            {"fieldName": "project", "fieldValue": "P"},
        ],
    }
    # Clearing an order field is allowed: order.yaml sets no minimum length.
    clear = OrderSpec("po-5001", 5001, extra_fields={"project": ""}, loc=LOC)
    (action,) = plan_for(ManifestSet(STORE, (clear,)), state).actions
    assert action.request.body == {
        "extraFields": [
            {"fieldName": "costCenter", "fieldValue": "CC1"},
            {"fieldName": "project", "fieldValue": ""},
        ]
    }


def test_empty_order_field_matches_an_absent_one() -> None:
    """Whether the API keeps "" or drops the field, a cleared order field has converged."""
    configs = (ExtraFieldConfig("costCenter", 0), ExtraFieldConfig("project", 0))
    clear = OrderSpec("po-5001", 5001, extra_fields={"project": ""}, loc=LOC)
    state = live(
        order_field_configs=configs,
        orders={5001: LiveOrder(5001, 1001, "PO-1", {"costCenter": "CC1"}, 1)},
    )
    assert plan_for(ManifestSet(STORE, (clear,)), state).empty


def test_orders_core_has_and_b2b_lacks_are_warnings() -> None:
    """§9.13: an order in core V2 that B2B Edition has not synced is a warning naming it."""
    state = replace(
        _orders_state(1001, {5001: 1001}),
        customers={400: LiveCustomer(400, 1001, 1700000000, (5001, 5009))},
        core_only_orders=frozenset({5010}),
    )
    order = OrderSpec("po-5010", 5010, po_number="X", loc=LOC)
    plan = plan_for(replace(_assignment(), specs=(*_assignment().specs, order)), state)
    assert plan.empty
    first, second = plan.warnings
    assert first.startswith("orderassignment/acme-buyers: order(s) 5009 of customer 400 are in ")
    assert "not (yet) in B2B Edition" in first
    assert "plan again later" in first
    assert second.startswith("order/po-5010: order 5010 is in BigCommerce but not (yet) in B2B")
    # An order neither API knows is still an error (a typo, most likely).
    with pytest.raises(PlanError) as caught:
        plan_for(
            replace(_assignment(), specs=(*_assignment().specs, replace(order, bc_order_id=5011))),
            state,
        )
    (issue,) = caught.value.issues
    assert "order 5011 does not exist in B2B Edition" in issue.message


class _Named:
    """A spec that counts how often its resource name is asked."""

    asked = 0

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def resource(self) -> str:
        _Named.asked += 1
        return f"company/{self.name}"


def test_a_spec_is_found_by_name_without_a_scan() -> None:
    """``ManifestSet.named`` asks each spec its name once, however many lookups (a planner
    looks a company up per CompanyUsers document: a scan per lookup cost 570,000 name
    builds at 10,000 companies); the first spec of a name wins, as before."""
    specs = (*(_Named(f"c{i}") for i in range(200)), _Named("c5"))
    found = ManifestSet(specs=specs)
    _Named.asked = 0
    for i in range(200):
        assert found.named(f"company/c{i}") is specs[i]
    assert found.named("company/none") is None
    assert found.named("company/c5") is specs[5]
    assert _Named.asked == len(specs)
