"""CompanyUsers through the real CLI against the sandbox: a customer who joins gets their
orders assigned under both readings of the order migration, a user is never created twice,
a user who appeared elsewhere since planning is refused, and nothing unlisted is touched."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cli import main
from reconciler.sandbox import Sandbox

SEED: dict[str, Any] = {
    "store": {"hash": "users01", "companiesBehavior": "dependent", "multiStorefront": False},
    "customerGroups": [{"id": 12, "name": "Acme"}, {"id": 13, "name": "Beta"}],
    "customers": [
        {"id": 321, "email": "ann@acme.example", "firstName": "Ann", "lastName": "Lee"},
        {"id": 322, "email": "bob@acme.example", "firstName": "Bob", "lastName": "Roe"},
        {"id": 323, "email": "eve@beta.example", "firstName": "Eve", "lastName": "Fox"},
        {"id": 400, "email": "solo@example.com", "firstName": "So", "lastName": "Lo"},
    ],
    "priceLists": [{"id": 7, "name": "Wholesale"}],
    "companies": [
        {"companyId": 1001, "customerGroupId": 12, "companyName": "Acme",
         "companyEmail": "a@acme.example", "companyPhone": "555", "catalogId": "7"},
        {"companyId": 1002, "customerGroupId": 13, "companyName": "Beta",
         "companyEmail": "b@beta.example", "companyPhone": "556", "catalogId": "7"},
    ],
    "users": [
        {"customerId": 321, "companyId": 1001, "role": 0, "extraFields": {"dept": "Ops"}},
        {"customerId": 322, "companyId": 1001, "role": 2},
        {"customerId": 323, "companyId": 1002, "role": 0},
    ],
    "orders": [
        {"bcOrderId": 9001, "customerId": 400, "companyId": None, "createdAt": 1700000000},
        {"bcOrderId": 9002, "customerId": 400, "companyId": None, "createdAt": 1700000001},
    ],
    "extraFieldConfigs": {
        "user": [
            {"fieldName": "dept", "fieldType": 0, "isRequired": True, "listOfValue": []},
            {"fieldName": "level", "fieldType": 3, "listOfValue": ["A", "B"]},
        ]
    },
}  # fmt: skip

MANIFESTS = """\
apiVersion: b2b.reconciler/v1
kind: Store
metadata: {name: store}
spec: {storeHash: users01, companiesBehavior: dependent}
---
apiVersion: b2b.reconciler/v1
kind: Company
metadata: {name: acme}
spec: {customerGroupId: 12, companyName: Acme, companyEmail: a@acme.example,
       companyPhone: "555", catalogId: "7"}
---
apiVersion: b2b.reconciler/v1
kind: CompanyUsers
metadata: {name: acme-users}
spec:
  company: acme
  users:
    - {email: ANN@acme.example, firstName: Ann, lastName: Lee, role: admin,
       extraFields: {level: B}}
    - {email: solo@example.com, firstName: So, lastName: Lo, role: junior-buyer,
       extraFields: {dept: Sales}}
    - {email: new@acme.example, firstName: Nu, lastName: Ser, role: senior-buyer,
       uuid: ERP-U-1, extraFields: {dept: Ops}}
---
apiVersion: b2b.reconciler/v1
kind: OrderAssignment
metadata: {name: acme-buyers}
spec: {company: acme, customerIds: [400]}
"""


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def setup(tmp_path: Path, **quirks: Any) -> tuple[str, str]:
    seed = json.loads(json.dumps(SEED))
    seed["store"]["quirks"] = quirks
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed))
    db = str(tmp_path / "store.db")
    assert run("sandbox", "init", "--db", db, "--seed", str(seed_file))[0] == 0
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "all.yaml").write_text(MANIFESTS)
    return db, str(manifests)


def users_of(db: str) -> dict[str, dict[str, Any]]:
    with Sandbox(db=db) as sb:
        state = sb.dump()
    emails = {c["id"]: c["email"] for c in state["customers"]}
    return {emails[u["customerId"]]: u for u in state["users"]}


@pytest.mark.parametrize("moves", [True, False])
def test_a_customer_who_joins_gets_their_orders_under_both_readings(
    tmp_path: Path, moves: bool
) -> None:
    """The createUser of a B2C customer comes first and the assign depends on it; whether
    the API moved the orders with the create (userCreateMovesOrders) or not, they end up in
    the company; apply then plan is empty; Bob, unlisted, and Beta's Eve are untouched."""
    db, manifests = setup(tmp_path, userCreateMovesOrders=moves, userExtraFieldsReplace=True,
                          userPutRequiresExtraFields=True)  # fmt: skip
    before = users_of(db)
    code, text = run("--sandbox", db, "plan", manifests, "--format", "json")
    assert code == 0, text
    plan = json.loads(text)
    ids = [a["id"] for a in plan["actions"]]
    assert ids == [
        "companyusers/acme-users:updateUser:ann@acme.example",
        "companyusers/acme-users:createUser:solo@example.com",
        "companyusers/acme-users:createUser:new@acme.example",
        "orderassignment/acme-buyers:assign:400",
    ]
    assert plan["actions"][3]["dependsOn"] == [ids[1]]
    assert plan["unmanaged"] == {"companies": 1, "users": 1}
    assert plan["actions"][0]["request"]["body"] == {
        "extraFields": [
            {"fieldName": "dept", "fieldValue": "Ops"},
            {"fieldName": "level", "fieldValue": "B"},
        ]
    }
    code, text = run("--sandbox", db, "apply", manifests, "--auto-approve")
    assert code == 0, text
    after = users_of(db)
    assert after["bob@acme.example"] == before["bob@acme.example"]
    assert after["eve@beta.example"] == before["eve@beta.example"]
    assert after["solo@example.com"]["customerId"] == 400  # the customer was linked
    assert after["ann@acme.example"]["extraFields"] == {"dept": "Ops", "level": "B"}
    with Sandbox(db=db) as sb:
        orders = {o["bcOrderId"]: o["companyId"] for o in sb.dump()["orders"]}
    assert orders == {9001: 1001, 9002: 1001}
    code, text = run("--sandbox", db, "plan", manifests, "--detailed-exitcode")
    assert code == 0, text


def test_a_create_whose_answer_is_lost_is_not_sent_twice(tmp_path: Path) -> None:
    """POST /users commits and the answer is lost: the read before resending finds the user
    in the planned company and takes it as the action's; one user, and plan is then empty."""
    db, manifests = setup(tmp_path)
    with Sandbox(db=db) as sb:  # stored faults (set_faults lasts one Sandbox object)
        sb.load_seed(
            {"faults": [{"method": "POST", "path": "/users$", "action": "commit-then-fail",
                         "status": 502, "times": 2}]}
        )  # fmt: skip
    report = tmp_path / "report.json"
    code, text = run("--sandbox", db, "apply", manifests, "--auto-approve", "--report", str(report))
    assert code == 0, text
    outcome = json.loads(report.read_text())
    messages = {r["id"]: r["message"] for r in outcome["results"]}
    assert "adopted" in messages["companyusers/acme-users:createUser:new@acme.example"]
    assert outcome["requests"]["POST /users"] == 2  # one per user, none resent
    with Sandbox(db=db) as sb:
        sb.load_seed({"faults": []})
        emails = [c["email"] for c in sb.dump()["customers"]]
    assert emails.count("new@acme.example") == 1
    assert run("--sandbox", db, "plan", manifests, "--detailed-exitcode")[0] == 0


def test_a_user_who_appears_in_another_company_after_planning_is_refused(
    tmp_path: Path,
) -> None:
    """Between plan and apply someone adds new@acme.example to Beta: the create is refused
    (the API cannot move users), nothing is created in Acme."""
    db, manifests = setup(tmp_path)
    plan_file = tmp_path / "plan.json"
    assert run("--sandbox", db, "plan", manifests, "--out", str(plan_file))[0] == 0
    with Sandbox(db=db) as sb, _client(sb) as api:
        response = api.post(
            "/users",
            json={"firstName": "Nu", "lastName": "Ser", "email": "NEW@acme.example",
                  "companyId": 1002, "role": 2, "channelIds": [1],
                  "extraFields": [{"fieldName": "dept", "fieldValue": "X"}]},
        )  # fmt: skip
        assert response.status_code == 200, response.text
    code, text = run("--sandbox", db, "apply", manifests, "--plan", str(plan_file),
                     "--auto-approve")  # fmt: skip
    assert code == 1
    assert "is a user of company 1002, not of company 1001" in text
    assert users_of(db)["NEW@acme.example"]["companyId"] == 1002


def _client(sb: Sandbox) -> httpx.Client:
    return httpx.Client(
        transport=sb.transport(),
        base_url="http://sandbox.local/api/v3/io",
        headers={"X-Auth-Token": "t", "X-Store-Hash": sb.store_hash},
    )
