"""Users writes (user.yaml): POST /users, PUT /users/{userId}, their 422 shapes and readings."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, SandboxError

PARAM = "Parameter Error"
LOGICAL = "Processing data contains logical errors"
NO_CHANNEL = "At least one B2B storefront needs to be enabled for a Company user."


def user_seed(kit: Any, **quirks: Any) -> dict[str, Any]:
    """The base seed plus user extra-field configs, a B2C order of customer 400, quirks."""
    seed: dict[str, Any] = kit.seed(quirks=quirks)
    seed["extraFieldConfigs"]["user"] = [
        {"fieldName": "department", "fieldType": 0, "isRequired": False, "maximumLength": 12},
        {"fieldName": "level", "fieldType": 3, "listOfValue": ["A", "B"]},
        {"fieldName": "badge", "fieldType": 0, "isUnique": True},
    ]
    seed["orders"].append(
        {"bcOrderId": 6001, "customerId": 400, "companyId": None, "createdAt": kit.NOW - 9}
    )
    return seed


def new_user(**overrides: Any) -> dict[str, Any]:
    body = {
        "firstName": "Ann",
        "lastName": "Lee",
        "email": "ann@acme.example",
        "companyId": 1001,
        "role": 2,
        "channelIds": [1],
    }
    body.update(overrides)
    return body


def errmsg(response: httpx.Response, message: str = PARAM) -> Any:
    """``data.errMsg`` of a documented Users 422, after checking the envelope."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == 422
    assert body["meta"] == {"message": message}
    return body["data"]["errMsg"]


@pytest.fixture
def users(make_sandbox: Any, kit: Any) -> Any:
    with kit.client(make_sandbox(user_seed(kit))) as client:
        yield client


def test_create_user_makes_a_customer(make_sandbox: Any, kit: Any) -> None:
    """userPost -> data {userId, bcId}; the new customer joins the company's group."""
    sb = make_sandbox(user_seed(kit))
    with kit.client(sb) as users:
        created, _ = _create_and_read(users)
    customer = next(c for c in sb.dump()["customers"] if c["id"] == created["bcId"])
    assert customer["email"] == "ann@acme.example"
    assert (customer["customerGroupId"], customer["phone"]) == (12, "555-0101")


def _create_and_read(users: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    body = new_user(
        phoneNumber="555-0101",
        uuid="ERP-U-17",
        extraFields=[{"fieldName": "department", "fieldValue": "Buying"}],
        acceptWelcomeEmail=False,
    )
    response = users.post("/users", json=body)
    assert response.status_code == 200, response.text
    created = response.json()["data"]
    user = users.get(f"/users/{created['userId']}").json()["data"]
    assert user["id"] == created["userId"]
    assert user["customerId"] == created["bcId"]
    assert (user["firstName"], user["lastName"], user["email"]) == ("Ann", "Lee", body["email"])
    assert (user["phoneNumber"], user["uuid"], user["role"]) == ("555-0101", "ERP-U-17", 2)
    assert user["companyId"] == 1001
    assert user["extraFields"] == [{"fieldName": "department", "fieldValue": "Buying"}]
    assert [c["channelId"] for c in user["channelList"]] == [1]
    assert users.get(f"/users/customer/{created['bcId']}").json()["data"]["id"] == user["id"]
    return created, user


def test_create_links_an_existing_customer_and_moves_orders(make_sandbox: Any, kit: Any) -> None:
    """An e-mail of an existing B2C customer links it; its company-less orders move (spec)."""
    sb = make_sandbox(user_seed(kit))
    with kit.client(sb) as api:
        response = api.post("/users", json=new_user(email="SOLO@example.com", firstName="So"))
        assert response.json()["data"]["bcId"] == 400
        assert api.get("/orders/6001").json()["data"]["companyId"] == 1001
    customer = next(c for c in sb.dump()["customers"] if c["id"] == 400)
    assert customer["customerGroupId"] == 12
    assert customer["firstName"] == "So"
    assert len(sb.dump()["customers"]) == 3


def test_orders_stay_under_the_other_reading(make_sandbox: Any, kit: Any) -> None:
    """Quirk userCreateMovesOrders=false: the B2C orders stay company-less until an assign."""
    with kit.client(make_sandbox(user_seed(kit, userCreateMovesOrders=False))) as api:
        assert api.post("/users", json=new_user(email="solo@example.com")).status_code == 200
        assert api.get("/orders/6001").json()["data"]["companyId"] is None
        assert api.put("/customers/400/orders/b2b", json={}).status_code == 200
        assert api.get("/orders/6001").json()["data"]["companyId"] == 1001


def test_emails_are_unique_across_b2b(users: httpx.Client) -> None:
    """Email Conflict: a logical 422 with the e-mail in a string errMsg, any case."""
    response = users.post("/users", json=new_user(email="A@Acme.Example", companyId=1002))
    assert errmsg(response, LOGICAL) == "Email already exists. ['A@Acme.Example']"
    assert users.get("/users").json()["meta"]["pagination"]["totalCount"] == 2


@pytest.mark.parametrize(
    ("body", "message", "expected"),
    [
        (
            {"role": 1, "channelIds": [1]},
            PARAM,
            {
                "firstName": ["This field may not be null."],
                "lastName": ["This field may not be null."],
                "email": ["This field may not be null."],
                "companyId": ["This field may not be null."],
            },
        ),
        (new_user(role=None), PARAM, {"non_field_errors": ["User must have a role."]}),
        (new_user(email="not-an-email"), PARAM, {"email": ["Email is not correct."]}),
        (new_user(role=5), PARAM, {"role": ['"5" is not a valid choice']}),
        (
            new_user(companyId=9999),
            PARAM,
            {"companyId": ['Invalid pk "9999" - object does not exist.']},
        ),
        (new_user(channelIds=[]), LOGICAL, NO_CHANNEL),
        (new_user(channelIds=None), LOGICAL, NO_CHANNEL),
        (
            new_user(channelIds=[7]),
            PARAM,
            {"channelIds": ['Invalid pk "7" - object does not exist.']},
        ),
        (
            new_user(extraFields=[{"fieldName": "nope", "fieldValue": "x"}]),
            PARAM,
            {"extraFields": ["nope is not a valid extra field"]},
        ),
        (
            new_user(extraFields=[{"fieldName": "level", "fieldValue": "Z"}]),
            PARAM,
            {"extraFields": ["Z is not a valid choice for level"]},
        ),
        (
            new_user(extraFields=[{"fieldName": "department", "fieldValue": "x" * 13}]),
            PARAM,
            {"extraFields": ["department must be at most 12 characters"]},
        ),
    ],
)
def test_create_422_shapes(users: httpx.Client, body: Any, message: str, expected: Any) -> None:
    """post422: the documented shapes (Missing Required Fields, Missing Role, Invalid Data,
    Missing Channel Assignments); nothing is created."""
    assert errmsg(users.post("/users", json=body), message) == expected
    assert users.get("/users").json()["meta"]["pagination"]["totalCount"] == 2


def test_required_and_unique_user_extra_fields(make_sandbox: Any, kit: Any) -> None:
    """A required user extra field must be sent on create; a unique one must be unique."""
    seed = user_seed(kit)
    seed["extraFieldConfigs"]["user"][0]["isRequired"] = True
    with kit.client(make_sandbox(seed)) as api:
        missing = api.post("/users", json=new_user())
        assert errmsg(missing) == {"extraFields": ["department is a required extra field"]}
        fields = [
            {"fieldName": "department", "fieldValue": "Ops"},
            {"fieldName": "badge", "fieldValue": "B1"},
        ]
        assert api.post("/users", json=new_user(extraFields=fields)).status_code == 200
        again = api.post("/users", json=new_user(email="bob@acme.example", extraFields=fields))
        assert errmsg(again) == {"extraFields": ["badge must be unique; B1 is already used"]}


def _make(api: httpx.Client, **overrides: Any) -> int:
    response = api.post("/users", json=new_user(**overrides))
    assert response.status_code == 200, response.text
    return int(response.json()["data"]["userId"])


def test_update_is_partial(users: httpx.Client) -> None:
    """PUT changes what it sends; companyId and originChannelId are read-only (ignored)."""
    uid = _make(
        users, phoneNumber="1", uuid="U1", extraFields=[{"fieldName": "level", "fieldValue": "A"}]
    )
    response = users.put(
        f"/users/{uid}",
        json={"firstName": "Anne", "role": 0, "companyId": 1002, "originChannelId": 3},
    )
    assert response.status_code == 200, response.text
    user = response.json()["data"]
    assert (user["firstName"], user["lastName"], user["role"]) == ("Anne", "Lee", 0)
    assert (user["companyId"], user["phoneNumber"], user["uuid"]) == (1001, "1", "U1")
    assert user["extraFields"] == [{"fieldName": "level", "fieldValue": "A"}]
    assert users.get(f"/users/{uid}").json()["data"] == user


def test_update_channels_and_email(make_sandbox: Any, kit: Any) -> None:
    """channelIds replace the user's channels; a new e-mail must be free (any case)."""
    seed = user_seed(kit)
    seed["store"]["multiStorefront"] = True
    seed["channels"] = [{"id": 1, "name": "Default"}, {"id": 2, "name": "EU"}]
    for user in seed["users"]:
        user["channelIds"] = [1]
    with kit.client(make_sandbox(seed)) as api:
        uid = _make(api, channelIds=[1, 2])
        assert [c["channelId"] for c in api.get(f"/users/{uid}").json()["data"]["channelList"]] == [
            1,
            2,
        ]
        assert [u["id"] for u in api.get("/users", params={"channelId": 2}).json()["data"]] == [uid]
        user = api.put(f"/users/{uid}", json={"channelIds": [2]}).json()["data"]
        assert user["channelList"] == [{"channelId": 2, "channelName": "EU", "iconUrl": ""}]
        assert errmsg(api.put(f"/users/{uid}", json={"channelIds": []}), LOGICAL) == NO_CHANNEL
        taken = api.put(f"/users/{uid}", json={"email": "B@beta.example"})
        assert errmsg(taken, LOGICAL) == "Email already exists. ['B@beta.example']"
        customer = api.put(f"/users/{uid}", json={"email": "solo@example.com"})
        assert errmsg(customer, LOGICAL) == "Email already exists. ['solo@example.com']"
        same = api.put(f"/users/{uid}", json={"email": "ANN@acme.example"})
        assert same.json()["data"]["email"] == "ANN@acme.example"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"email": "nope"}, {"email": ["Enter a valid email address."]}),
        ({"role": 5}, {"role": ['The value "5" is not a valid role.']}),
        ({"firstName": ""}, {"firstName": ["This field may not be blank."]}),
        ({"lastName": None}, {"lastName": ["This field may not be null."]}),
        (
            {"extraFields": [{"fieldName": "x", "fieldValue": "1"}]},
            {"extraFields": ["x is not a valid extra field"]},
        ),
    ],
)
def test_update_422_shapes(users: httpx.Client, body: Any, expected: Any) -> None:
    """PUT 422: errMsg maps each bad field to its messages; nothing changes."""
    uid = _make(users)
    before = users.get(f"/users/{uid}").json()["data"]
    assert errmsg(users.put(f"/users/{uid}", json=body)) == expected
    assert users.get(f"/users/{uid}").json()["data"] == before


def test_update_unknown_user_is_the_documented_404(users: httpx.Client) -> None:
    response = users.put("/users/9999", json={"firstName": "X"})
    assert response.status_code == 404
    assert response.json()["data"] == {"errMsg": "User matching query does not exist."}


@pytest.mark.parametrize("replace", [False, True])
def test_put_extra_fields_merge_or_replace(make_sandbox: Any, kit: Any, replace: bool) -> None:
    """Quirk userExtraFieldsReplace: a PUT's extraFields merge by name, or replace the set."""
    with kit.client(make_sandbox(user_seed(kit, userExtraFieldsReplace=replace))) as api:
        both = [
            {"fieldName": "department", "fieldValue": "Ops"},
            {"fieldName": "level", "fieldValue": "A"},
        ]
        uid = _make(api, extraFields=both)
        sent = [{"fieldName": "level", "fieldValue": "B"}]
        data = api.put(f"/users/{uid}", json={"extraFields": sent}).json()["data"]
        expected = sent if replace else [both[0], sent[0]]
        assert data["extraFields"] == expected
        complete = [both[0], sent[0]]
        data = api.put(f"/users/{uid}", json={"extraFields": complete}).json()["data"]
        assert data["extraFields"] == complete  # the complete set is right under both


@pytest.mark.parametrize("strict", [False, True])
def test_put_required_extra_fields(make_sandbox: Any, kit: Any, strict: bool) -> None:
    """Quirk userPutRequiresExtraFields: every PUT must carry the required user fields."""
    seed = user_seed(kit, userPutRequiresExtraFields=strict)
    seed["extraFieldConfigs"]["user"][0]["isRequired"] = True
    with kit.client(make_sandbox(seed)) as api:
        uid = _make(api, extraFields=[{"fieldName": "department", "fieldValue": "Ops"}])
        bare = api.put(f"/users/{uid}", json={"firstName": "Anne"})
        partial = api.put(
            f"/users/{uid}", json={"extraFields": [{"fieldName": "level", "fieldValue": "A"}]}
        )
        required = {"extraFields": ["department is a required extra field"]}
        if strict:
            assert errmsg(bare) == required
            assert errmsg(partial) == required
        else:
            assert bare.status_code == 200
            assert partial.status_code == 200
        carried = [
            {"fieldName": "department", "fieldValue": "Ops"},
            {"fieldName": "level", "fieldValue": "B"},
        ]
        ok = api.put(f"/users/{uid}", json={"firstName": "Ann", "extraFields": carried})
        assert ok.status_code == 200, ok.text


def test_list_filters(users: httpx.Client) -> None:
    """GET /users: companyId, email (exact, any case), q, roles, paging; extra fields on ask."""
    uid = _make(users, extraFields=[{"fieldName": "level", "fieldValue": "B"}])
    listed = users.get("/users", params={"companyId": 1001, "limit": 1, "offset": 1}).json()
    assert listed["meta"]["pagination"] == {"totalCount": 2, "limit": 1, "offset": 1}
    assert [u["id"] for u in listed["data"]] == [uid]
    found = users.get("/users", params={"email": "ANN@ACME.EXAMPLE", "isIncludeExtraFields": "1"})
    assert [(u["id"], u["extraFields"]) for u in found.json()["data"]] == [
        (uid, [{"fieldName": "level", "fieldValue": "B"}])
    ]
    assert users.get("/users", params={"email": "ann@acme"}).json()["data"] == []
    assert [u["id"] for u in users.get("/users", params={"roles": "2"}).json()["data"]] == [uid]


def test_user_extra_field_configs(users: httpx.Client) -> None:
    """GET /users/extra-fields: extraFieldDetail (listOfValue, string limits), paginated."""
    page = users.get("/users/extra-fields", params={"limit": 2}).json()
    assert page["meta"]["pagination"] == {"totalCount": 3, "limit": 2, "offset": 0}
    first, second = page["data"]
    assert (first["fieldName"], first["maximumLength"], first["isRequired"]) == (
        "department",
        "12",
        False,
    )
    assert second["listOfValue"] == ["A", "B"]
    rest = users.get("/users/extra-fields", params={"limit": 2, "offset": 2}).json()["data"]
    assert [c["fieldName"] for c in rest] == ["badge"]
    assert rest[0]["isUnique"] is True


def test_seed_and_dump_carry_user_fields(make_sandbox: Any, kit: Any) -> None:
    """Users may carry id, uuid, channelIds and extraFields; dump -> seed is the identity."""
    seed = user_seed(kit)
    seed["store"]["multiStorefront"] = True
    seed["channels"] = [{"id": 1, "name": "Default"}, {"id": 2, "name": "EU"}]
    seed["users"][0].update(
        {"id": 77, "uuid": "U-77", "channelIds": [2], "extraFields": {"level": "A"}}
    )
    sb = make_sandbox(seed)
    dumped = sb.dump()
    first = dumped["users"][0]
    assert (first["id"], first["uuid"], first["channelIds"]) == (77, "U-77", [2])
    assert first["extraFields"] == {"level": "A"}
    assert dumped["users"][1]["channelIds"] == [1, 2]  # none given: every B2B channel
    with kit.client(sb) as api:
        user = api.get("/users/77").json()["data"]
        assert user["channelList"] == [{"channelId": 2, "channelName": "EU", "iconUrl": ""}]
    assert make_sandbox(dumped).dump() == dumped


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channelIds": [9]}, "users: channelId 9 is not among channels"),
        ({"channelIds": []}, "needs at least one channel"),
        ({"channelIds": ["x"]}, r"channelIds\[0\]: expected a channel id"),
    ],
)
def test_seed_refuses_bad_user_channels(sb: Sandbox, change: Any, message: str) -> None:
    before = sb.dump()
    with pytest.raises(SandboxError, match=message):
        sb.load_seed({"users": [{"customerId": 321, "companyId": 1001, **change}]})
    assert sb.dump() == before


def test_version_one_db_files_are_migrated(tmp_path: Path, kit: Any, clock: Any) -> None:
    """A file made before users had channels is brought up to date, users on channel 1."""
    db = str(tmp_path / "old.db")
    with Sandbox(db=db, seed=kit.seed(), clock=clock):
        pass
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE users DROP COLUMN channel_ids")
    conn.execute("ALTER TABLE orders DROP COLUMN held")  # added by version 3
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Sandbox(db=db, clock=clock) as again:
        assert [u["channelIds"] for u in again.dump()["users"]] == [[1], [1]]
