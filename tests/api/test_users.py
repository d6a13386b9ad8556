"""The Users part of the API client against the sandbox: reads, configs, create and update."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reconciler.api import ApiClient
from reconciler.errors import ApiError
from reconciler.model import LiveUser
from reconciler.sandbox import Sandbox

ClientFactory = Callable[..., ApiClient]
Kit = Any

USER_CONFIGS = [
    {"fieldName": "department", "fieldType": 0, "isRequired": True, "maximumLength": 20},
    {"fieldName": "level", "fieldType": 3, "listOfValue": ["A", "B"]},
]


def users_seed(kit: Kit, **quirks: Any) -> dict[str, Any]:
    out: dict[str, Any] = kit.seed(quirks=quirks)
    out["extraFieldConfigs"]["user"] = USER_CONFIGS
    out["users"][0].update({"id": 50, "uuid": "U-1", "extraFields": {"department": "Ops"}})
    return out


@pytest.fixture
def sandbox(kit: Kit) -> Iterator[Sandbox]:
    with Sandbox(db=":memory:", seed=users_seed(kit)) as sb:
        yield sb


def test_user_reads(sandbox: Sandbox, make_client: ClientFactory) -> None:
    """By id, by customer and by company decode to the same LiveUser; configs decode."""
    b2b = make_client(sandbox).b2b
    ann = b2b.get_user(50)
    assert ann == LiveUser(
        user_id=50,
        customer_id=321,
        company_id=1001,
        email="a@acme.example",
        first_name="A",
        last_name="B",
        role=0,
        company_role_id=0,
        uuid="U-1",
        channel_ids=(1,),
        extra_fields={"department": "Ops"},
        updated_at=1700000000,
        created_at=1700000000,
    )
    assert b2b.user_of_customer(321) == ann
    assert b2b.user_of_customer(400) is None
    assert b2b.get_user(999) is None
    found, total = b2b.list_company_users(company_id=1001)
    assert (found, total) == ([ann], 1)
    assert b2b.list_company_users(email="A@ACME.example")[0] == [ann]
    configs = b2b.user_extra_fields()
    assert [(c.name, c.required, c.max_length) for c in configs] == [
        ("department", True, 20),
        ("level", False, None),
    ]
    assert configs[1].list_of_values == ("A", "B")


def test_create_and_update(sandbox: Sandbox, make_client: ClientFactory) -> None:
    """create_user sends userPost and returns (userId, bcId); update_user returns the user."""
    client = make_client(sandbox)
    b2b = client.b2b
    body = {
        "firstName": "Eve",
        "lastName": "F",
        "email": "loner@example.com",
        "companyId": 1002,
        "role": 1,
        "channelIds": [1],
        "extraFields": [{"fieldName": "department", "fieldValue": "Buying"}],
        "acceptWelcomeEmail": False,
    }
    user_id, customer_id = b2b.create_user(body)
    assert customer_id == 400  # the existing customer with that e-mail is linked
    updated = b2b.update_user(user_id, {"role": 2, "uuid": "ERP-9"})
    assert (updated.role, updated.uuid, updated.company_id) == (2, "ERP-9", 1002)
    assert updated.extra_fields == {"department": "Buying"}
    assert b2b.get_user(user_id) == updated
    assert client.stats.by_endpoint["POST /users"] == 1
    assert client.stats.by_endpoint["PUT /users/{id}"] == 1
    with pytest.raises(ApiError) as info:
        b2b.create_user({**body, "email": "LONER@example.com"})
    assert info.value.status == 422
    assert "Email already exists" in info.value.api_message
    with pytest.raises(ApiError) as missing:
        b2b.create_user({**body, "email": "new@example.com", "extraFields": []})
    assert "department is a required extra field" in missing.value.api_message


def test_paging_every_user(kit: Kit, make_client: ClientFactory) -> None:
    """More users than a page: two requests of 250, every user once, the total."""
    customers = [
        {"id": 1000 + i, "email": f"u{i}@example.com", "firstName": "U", "lastName": str(i)}
        for i in range(260)
    ]
    users = [{"customerId": 1000 + i, "companyId": 1001, "role": 2} for i in range(260)]
    seed = kit.seed(customers=customers, users=users, orders=[])
    with Sandbox(db=":memory:", seed=seed) as sb:
        client = make_client(sb)
        found, total = client.b2b.list_company_users(company_id=1001)
        assert total == 260
        assert sorted(u.customer_id for u in found) == [1000 + i for i in range(260)]
        assert client.stats.by_endpoint["GET /users"] == 2


@pytest.mark.parametrize(
    "quirks",
    [
        {"limitAboveMax": "clamp", "companyIdsAsStrings": False},
        {"userExtraFieldsReplace": True, "userPutRequiresExtraFields": True},
    ],
)
def test_user_reads_are_the_same_under_every_reading(
    kit: Kit, make_client: ClientFactory, quirks: dict[str, Any]
) -> None:
    def reads(sb: Sandbox) -> Any:
        b2b = make_client(sb).b2b
        return b2b.list_company_users(), b2b.get_user(50), b2b.user_extra_fields()

    with (
        Sandbox(db=":memory:", seed=users_seed(kit)) as plain,
        Sandbox(db=":memory:", seed=users_seed(kit, **quirks)) as quirky,
    ):
        assert reads(quirky) == reads(plain)
