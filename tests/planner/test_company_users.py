"""The CompanyUsers kind in the planner: values in, actions and plan-time errors out."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reconciler.errors import PlanError
from reconciler.kinds.company import AdminSpec, CompanySpec
from reconciler.kinds.company_users import CompanyUsersSpec, UserSpec
from reconciler.kinds.order_assignment import OrderAssignmentSpec
from reconciler.model import (
    ExtraFieldConfig,
    LiveCompany,
    LiveCustomer,
    LiveOrder,
    LiveState,
    LiveUser,
    Location,
    ManifestSet,
    Plan,
    StoreSpec,
)
from reconciler.planfile import loads_plan, plan_to_json
from reconciler.planner import build_plan

LOC = Location("users.yaml", 1, 1)
STORE = StoreSpec(name="store", store_hash="abc123", companies_behavior="dependent")
ACME = CompanySpec(
    name="acme",
    customer_group_id=12,
    company_name="Acme",
    company_email="buyers@acme.example",
    company_phone="555",
)
LIVE_ACME = LiveCompany(1001, 12, "Acme", "buyers@acme.example", "555", "approved")
LIVE_BETA = LiveCompany(1002, 13, "Beta", "b@beta.example", "556", "approved")
ANN = LiveUser(
    user_id=50,
    customer_id=321,
    company_id=1001,
    email="Ann@Acme.example",
    first_name="Ann",
    last_name="Lee",
    role=0,
    uuid="U-1",
    channel_ids=(1,),
    extra_fields={"department": "Ops", "badge": "B1"},
    updated_at=1700000000,
)
BOB = LiveUser(60, 322, 1001, "bob@acme.example", "Bob", "Roe", role=2, extra_fields={})
EVE = LiveUser(70, 323, 1002, "eve@beta.example", "Eve", "Fox", role=0, extra_fields={})
CONFIGS = (
    ExtraFieldConfig("department", 0, max_length=10),
    ExtraFieldConfig("badge", 0),
    ExtraFieldConfig("level", 3, list_of_values=("A", "B")),
)


def users(*entries: UserSpec, company: str = "acme", name: str = "acme-users") -> Any:
    return CompanyUsersSpec(
        name=name,
        company=company,
        users=entries,
        loc=LOC,
        field_locs={f"users.{i}": Location("users.yaml", 10 + i, 7) for i in range(len(entries))},
    )


def user(email: str = "ann@acme.example", **kw: Any) -> UserSpec:
    base: dict[str, Any] = {"first_name": "Ann", "last_name": "Lee", "role": "admin"}
    base.update(kw)
    return UserSpec(email=email, **base)


def state(**kw: Any) -> LiveState:
    base = LiveState(
        store_hash="abc123",
        companies=(LIVE_ACME, LIVE_BETA),
        customer_groups=frozenset({12, 13, 14}),
        users=(ANN, BOB, EVE),
        user_field_configs=CONFIGS,
        read_at=1700001000,
    )
    return replace(base, **kw)


def plan(*specs: Any, live: LiveState | None = None, store: StoreSpec = STORE) -> Plan:
    manifests = ManifestSet(store, (ACME, *specs))
    return build_plan(manifests, live or state(), created_at="2026-11-24T00:00:00Z")


def errors(*specs: Any, live: LiveState | None = None, store: StoreSpec = STORE) -> list[str]:
    with pytest.raises(PlanError) as info:
        plan(*specs, live=live, store=store)
    return [i.message for i in info.value.issues]


def test_listed_users_in_sync_plan_nothing_and_unlisted_are_counted() -> None:
    """Identity is the e-mail without case; Bob is not listed: unmanaged, untouched."""
    result = plan(users(user(uuid="U-1", extra_fields={"department": "Ops"})))
    assert result.actions == ()
    assert result.unmanaged_users == 1
    assert plan_to_json(result)["unmanaged"] == {"companies": 1, "users": 1}


def test_update_sends_only_what_changed_and_every_extra_field() -> None:
    """Only changed fields, plus the complete extra-field set (right whether the PUT's array
    merges or replaces, and whether every PUT must carry the required ones)."""
    result = plan(users(user(first_name="Anne", role="senior-buyer", extra_fields={"level": "A"})))
    (action,) = result.actions
    assert action.id == "companyusers/acme-users:updateUser:ann@acme.example"
    assert action.request.method == "PUT"
    assert action.request.path == "/users/50"
    assert action.request.body == {
        "firstName": "Anne",
        "role": 1,
        "extraFields": [
            {"fieldName": "badge", "fieldValue": "B1"},
            {"fieldName": "department", "fieldValue": "Ops"},
            {"fieldName": "level", "fieldValue": "A"},
        ],
    }
    assert {c.path: (c.before, c.after) for c in action.changes} == {
        "firstName": ("Ann", "Anne"),
        "role": ("admin", "senior-buyer"),
        "extraFields.level": (None, "A"),
    }


def test_create_sends_user_post() -> None:
    """userPost: names, e-mail, companyId, role code, channelIds (default [1]), optional
    phone, uuid and extra fields, acceptWelcomeEmail; the side effects are disclosed."""
    new = user(
        "cy@acme.example",
        first_name="Cy",
        last_name="Do",
        role="junior-buyer",
        phone_number="555-1",
        uuid="ERP-U-9",
        extra_fields={"department": "Buying"},
        send_welcome_email=True,
    )
    result = plan(users(user(), new))
    (action,) = result.actions
    assert action.type == "createUser"
    assert action.request.body == {
        "firstName": "Cy",
        "lastName": "Do",
        "email": "cy@acme.example",
        "companyId": 1001,
        "role": 2,
        "channelIds": [1],
        "phoneNumber": "555-1",
        "uuid": "ERP-U-9",
        "extraFields": [{"fieldName": "department", "fieldValue": "Buying"}],
        "acceptWelcomeEmail": True,
    }
    effects = " ".join(action.side_effects)
    assert "a welcome e-mail is sent to cy@acme.example" in effects
    assert "existing orders move to the Buyer Portal of company/acme" in effects
    assert result.unmanaged_users == 1


def test_users_of_a_company_being_created_use_its_placeholder() -> None:
    """The companyId of a company this plan converts is a placeholder; the create waits for
    it; the admin creation makes is updated right after, found by e-mail."""
    groups = frozenset({12, 13, 14})
    company = replace(
        ACME,
        customer_group_id=14,
        address={"country": "US"},
        admin=AdminSpec("boss@acme.example", "Bo", "Ss", "1"),
    )
    spec = users(
        user("boss@acme.example", first_name="Bo", last_name="Ss"), user("new@acme.example")
    )
    manifests = ManifestSet(STORE, (company, spec))
    result = build_plan(manifests, state(customer_groups=groups), created_at="2026-11-24T00:00:00Z")
    by_id = {a.id: a for a in result.actions}
    admin = by_id["companyusers/acme-users:updateUser:boss@acme.example"]
    assert admin.request.path == "/users/{company/acme.adminUserId}"
    assert admin.depends_on == ("company/acme:convert",)
    assert admin.request.body == {"firstName": "Bo", "lastName": "Ss", "role": 0}
    create = by_id["companyusers/acme-users:createUser:new@acme.example"]
    assert create.request.body["companyId"] == "{company/acme.companyId}"
    assert create.depends_on == ("company/acme:convert",)
    # the plan survives its own file format
    assert plan_to_json(loads_plan(__import__("json").dumps(plan_to_json(result)))) == (
        plan_to_json(result)
    )


def test_plan_time_errors_come_all_at_once() -> None:
    """Another company's user, unknown and invalid extra fields, a required one missing on
    creation: every problem, located, nothing planned."""
    configs = (*CONFIGS, ExtraFieldConfig("costCode", 0, required=True))
    found = errors(
        users(
            user("eve@beta.example", first_name="Eve", last_name="Fox"),
            user("new@acme.example", extra_fields={"nope": "x", "level": "Z"}),
        ),
        live=state(user_field_configs=configs),
    )
    assert any(
        "eve@beta.example is already a user of company 'Beta' (1002), and the API cannot move" in m
        for m in found
    )
    assert any(
        "spec.users.1.extraFields.nope: the store has no user extra field" in m for m in found
    )
    assert any("spec.users.1.extraFields.level: 'Z' is not one of 'A', 'B'" in m for m in found)
    assert any(
        "spec.users.1.extraFields.costCode: required by the store to create a user" in m
        for m in found
    )


def test_unknown_channel_on_multi_storefront() -> None:
    msf = replace(STORE, multi_storefront=True)
    found = errors(
        users(user(channel_ids=(1, 9), uuid="U-1")),
        live=state(channels=frozenset({1, 2})),
        store=msf,
    )
    assert found == ["spec.users.0.channelIds: channel 9 does not exist in store abc123"]


def test_channels_are_enforced_only_on_multi_storefront() -> None:
    assert plan(users(user(channel_ids=(2,)))).actions == ()
    msf = replace(STORE, multi_storefront=True)
    result = plan(
        users(user(channel_ids=(1, 2))), live=state(channels=frozenset({1, 2})), store=msf
    )
    (action,) = result.actions
    assert action.request.body == {
        "channelIds": [1, 2],
        "extraFields": [
            {"fieldName": "badge", "fieldValue": "B1"},
            {"fieldName": "department", "fieldValue": "Ops"},
        ],
    }


def test_demoting_the_last_admin_is_a_warning() -> None:
    result = plan(users(user(role="junior-buyer")))
    assert any(
        "company/acme would have no admin left; a company without an admin cannot buy" in w
        for w in result.warnings
    )
    assert not plan(
        users(
            user(role="junior-buyer"), user("bob@acme.example", first_name="Bob", last_name="Roe")
        )
    ).warnings


def test_a_customer_joining_by_company_users_gets_assign_after_the_create() -> None:
    """An OrderAssignment customer who is no company user no longer fails the plan when a
    CompanyUsers document makes them a member: the assign depends on the createUser."""
    spec = users(user(), user("solo@example.com", first_name="So", last_name="Lo"))
    assignment = OrderAssignmentSpec("acme-buyers", "acme", (400,))
    live = state(
        customers={400: LiveCustomer(400, None, order_ids=(9001,), email="SOLO@example.com")},
        orders={9001: LiveOrder(9001, None)},
    )
    result = plan(spec, assignment, live=live)
    by_id = {a.id: a for a in result.actions}
    assign = by_id["orderassignment/acme-buyers:assign:400"]
    assert assign.depends_on == ("companyusers/acme-users:createUser:solo@example.com",)
    ids = [a.id for a in result.actions]
    assert ids.index("companyusers/acme-users:createUser:solo@example.com") < ids.index(assign.id)
    alone = errors(assignment, live=live)
    assert any("customer 400 is not a company user" in m for m in alone)


@pytest.mark.parametrize("made_during_the_read", [True, False])
def test_a_user_of_a_company_made_during_the_read(made_during_the_read: bool) -> None:
    """A concurrent run converted the group while this one read: the companies read missed the
    company, the users read saw its admin. Not an error (apply's staleness check refuses the
    convert); a user of an unknown company from before the read still is one."""
    company = replace(
        ACME,
        customer_group_id=14,
        address={"country": "US"},
        admin=AdminSpec("boss@acme.example", "Bo", "Ss", "1"),
    )
    created = 1700001000 + 5 if made_during_the_read else 1600000000
    boss = LiveUser(90, 330, 1099, "boss@acme.example", "Bo", "Ss", created_at=created)
    live = state(users=(ANN, BOB, EVE, boss))
    manifests = ManifestSet(STORE, (company, users(user("boss@acme.example"))))
    if made_during_the_read:
        result = build_plan(manifests, live, created_at="2026-11-24T00:00:00Z")
        assert [a.id for a in result.actions] == [
            "company/acme:convert",
            "companyusers/acme-users:updateUser:boss@acme.example",
        ]
    else:
        with pytest.raises(PlanError) as info:
            build_plan(manifests, live, created_at="2026-11-24T00:00:00Z")
        (issue,) = info.value.issues
        assert "boss@acme.example is already a user of company 1099" in issue.message
