"""Hand-built plans shared by the render tests (pure values, no HTTP), offered as fixtures."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from reconciler.model import (
    Action,
    FieldChange,
    Plan,
    Preconditions,
    Request,
    StoreInfo,
)

STORE = StoreInfo(hash="abc123", companies_behavior="dependent", multi_storefront=False)


def empty_plan(**kw: object) -> Plan:
    """A plan with nothing to do."""
    base: dict[str, object] = {
        "created_at": "2026-11-22T10:00:00Z",
        "store": STORE,
        "manifest_digest": "sha256:" + "0" * 64,
        "actions": (),
        "preconditions": Preconditions(watermark=1_700_000_000),
        "unmanaged_companies": 4,
    }
    base.update(kw)
    return Plan(**base)  # type: ignore[arg-type]


CONVERT = Action(
    id="company/acme:convert",
    type="convert",
    resource="company/acme",
    request=Request(
        "POST",
        "/customer-groups/12/companies",
        {
            "companyName": "Acme",
            "companyEmail": "a@acme.example",
            "companyPhone": "555",
            "country": "US",
            "adminEmail": "a@acme.example",
            "adminPhoneNumber": "555",
            "acceptCreationEmail": False,
        },
    ),
    changes=(
        FieldChange("companyName", None, "Acme"),
        FieldChange("companyEmail", None, "a@acme.example"),
        FieldChange("companyPhone", None, "555"),
    ),
    irreversible=True,
    side_effects=("customer group 12 becomes the company's group, one to one",),
    customer_group_id=12,
)
UPDATE = Action(
    id="company/acme:update",
    type="update",
    resource="company/acme",
    request=Request("PUT", "/companies/{company/acme.companyId}", {"uuid": "ERP-1"}),
    depends_on=("company/acme:convert",),
    changes=(FieldChange("uuid", "", "ERP-1"),),
    customer_group_id=12,
)
SET_STATUS = Action(
    id="company/globex:setStatus",
    type="setStatus",
    resource="company/globex",
    request=Request("PUT", "/companies/1002/status", {"companyStatus": 3}),
    changes=(FieldChange("status", "approved", "inactive"),),
    side_effects=("users of a inactive company can no longer log in to the Buyer Portal",),
    customer_group_id=13,
    company_id=1002,
)
SET_CATALOG = Action(
    id="company/globex:setCatalog",
    type="setCatalog",
    resource="company/globex",
    request=Request("PUT", "/companies/1002/catalogs", {"catalogId": "7"}),
    changes=(FieldChange("catalogId", "", "7"),),
    customer_group_id=13,
    company_id=1002,
)
CREATE = Action(
    id="company/initech:create",
    type="create",
    resource="company/initech",
    request=Request("POST", "/companies", {"companyName": "Initech", "customerGroupId": 14}),
    changes=(FieldChange("companyName", None, "Initech"),),
    customer_group_id=14,
)
REASSIGN = Action(
    id="orderassignment/acme-buyers:reassign:400",
    type="reassign",
    resource="orderassignment/acme-buyers",
    request=Request("PUT", "/customers/400/orders/company", {"bcGroupId": 12}),
    depends_on=("company/acme:convert",),
    changes=(
        FieldChange("orders.5001.companyId", 1002, "company/acme"),
        FieldChange("orders.5002.companyId", None, "company/acme"),
    ),
    side_effects=("2 order(s) of customer 400 move to company/acme",),
    customer_group_id=12,
    customer_id=400,
    target_company="company/acme",
)
ASSIGN = Action(
    id="orderassignment/acme-buyers:assign:401",
    type="assign",
    resource="orderassignment/acme-buyers",
    request=Request("PUT", "/customers/401/orders/b2b", {}),
    changes=(FieldChange("orders.5003.companyId", None, "company/acme"),),
    customer_group_id=12,
    company_id=1001,
    customer_id=401,
    target_company="company/acme",
)
UPDATE_ORDER = Action(
    id="order/po-5001:updateOrder",
    type="updateOrder",
    resource="order/po-5001",
    request=Request("PUT", "/orders/5001", {"poNumber": "PO-5001"}),
    changes=(FieldChange("poNumber", "", "PO-5001"),),
    bc_order_id=5001,
)

CREATE_USER = Action(
    id="companyusers/acme-users:createUser:ann@acme.example",
    type="createUser",
    resource="companyusers/acme-users",
    request=Request(
        "POST",
        "/users",
        {
            "firstName": "Ann",
            "lastName": "Lee",
            "email": "ann@acme.example",
            "companyId": "{company/acme.companyId}",
            "role": 0,
            "channelIds": [1],
            "acceptWelcomeEmail": False,
        },
    ),
    depends_on=("company/acme:convert",),
    changes=(
        FieldChange("email", None, "ann@acme.example"),
        FieldChange("firstName", None, "Ann"),
        FieldChange("lastName", None, "Lee"),
        FieldChange("role", None, "admin"),
    ),
    side_effects=("no welcome e-mail is sent (sendWelcomeEmail: false)",),
    customer_group_id=12,
    target_company="company/acme",
)
UPDATE_USER = Action(
    id="companyusers/globex-users:updateUser:bob@globex.example",
    type="updateUser",
    resource="companyusers/globex-users",
    request=Request("PUT", "/users/77", {"role": 1}),
    changes=(FieldChange("role", "junior-buyer", "senior-buyer"),),
    customer_group_id=13,
    company_id=1002,
    target_company="company/globex",
)
SET_PRICE_LIST = Action(
    id="pricelistassignment/trade:setPriceList",
    type="setPriceList",
    resource="pricelistassignment/trade",
    request=Request(
        "PUT", "/v3/pricelists/8/assignments", {"customer_group_id": 20, "channel_id": 1}
    ),
    changes=(FieldChange("priceListId", None, 8),),
    side_effects=("customer group 20 is shared by 2 companies ('A', 'B'): ...",),
    customer_group_id=20,
)

ALL_ACTIONS = (
    CONVERT,
    UPDATE,
    SET_STATUS,
    SET_CATALOG,
    CREATE,
    CREATE_USER,
    UPDATE_USER,
    REASSIGN,
    ASSIGN,
    UPDATE_ORDER,
    SET_PRICE_LIST,
)


def full_plan(**kw: object) -> Plan:
    """A plan with one action of every type."""
    pre = Preconditions(
        watermark=1_700_000_000,
        companies={1002: 1_700_000_100},
        free_groups=(12, 14),
        orders={5001: 1_700_000_000, 5002: 1_700_000_001, 5003: 1_700_000_002},
        customers={400: 1_700_000_050, 401: None},
    )
    base: dict[str, object] = {"actions": ALL_ACTIONS, "preconditions": pre, "managed_objects": 9}
    base.update(kw)
    return empty_plan(**base)


def three_action_plan() -> Plan:
    """Convert, then update, then a reassign that waits for the convert."""
    return empty_plan(
        actions=(CONVERT, UPDATE, REASSIGN),
        preconditions=Preconditions(
            watermark=1_700_000_000,
            free_groups=(12,),
            orders={5001: 1_700_000_000, 5002: 1_700_000_001},
            customers={400: 1_700_000_050},
        ),
        managed_objects=3,
        warnings=("customer 402 has no orders yet",),
    )


@pytest.fixture
def plans() -> SimpleNamespace:
    """The builders and actions above."""
    return SimpleNamespace(
        empty=empty_plan,
        full=full_plan,
        three=three_action_plan,
        actions={a.type: a for a in ALL_ACTIONS},
        all_actions=ALL_ACTIONS,
        store=STORE,
    )
