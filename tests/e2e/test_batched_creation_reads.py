"""One look before a run of createUsers, and before a run of Independent creates (issue 17).

Before, apply read each e-mail (``GET /users?q=``) right before each ``createUser`` and each
name (``GET /companies?q=``) right before each Independent ``create``. Now one listing of what
changed since the plan's read stands for a run of them (up to 25), when it is cheaper, as it
does for a run of converts. Never twice still holds: a user or company made since planning is
in the listing and adopted; one made after the listing (another run of the same plan) carries
an e-mail B2B Edition keeps unique, so our POST is refused and the read after a refused POST
adopts it. Everything runs against the sandbox in-process.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.executor import apply_plan
from reconciler.kinds import api_requests
from reconciler.live import read_live
from reconciler.manifests import load
from reconciler.model import ApplyReport, Plan
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox, outside

TOKEN = "tok"
NEW_USERS = [f"new{i}@acme.example" for i in range(5)]
NEW_COMPANIES = [f"Newco {i}" for i in range(4)]

USERS_SEED: dict[str, Any] = {
    "store": {"hash": "looks01", "companiesBehavior": "dependent", "accessToken": TOKEN},
    "customerGroups": [{"id": 12, "name": "Acme"}],
    "customers": [{"id": 321, "email": "ann@acme.example", "firstName": "Ann", "lastName": "Lee"}],
    "priceLists": [{"id": 7, "name": "Wholesale"}],
    "companies": [
        {"companyId": 1001, "customerGroupId": 12, "companyName": "Acme",
         "companyEmail": "a@acme.example", "companyPhone": "555", "catalogId": "7"},
    ],
    "users": [{"customerId": 321, "companyId": 1001, "role": 0}],
}  # fmt: skip

USERS_MANIFESTS = """\
apiVersion: b2b.reconciler/v1
kind: Store
metadata: {name: store}
spec: {storeHash: looks01, companiesBehavior: dependent}
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
    - {email: ann@acme.example, firstName: Ann, lastName: Lee, role: admin}
""" + "".join(
    f"    - {{email: {e}, firstName: N, lastName: U{i}, role: junior-buyer}}\n"
    for i, e in enumerate(NEW_USERS)
)

CREATES_SEED: dict[str, Any] = {
    "store": {"hash": "looks02", "companiesBehavior": "independent", "accessToken": TOKEN},
    "customerGroups": [{"id": 1, "name": "Retail"}],
    "priceLists": [{"id": 3, "name": "Wholesale"}],
    "companies": [
        {"companyId": 3001, "customerGroupId": 1, "companyName": "Old Co",
         "companyEmail": "ops@old.example", "companyPhone": "555", "companyStatus": 1,
         "createdAt": 1700000000, "updatedAt": 1700000000},
    ],
}  # fmt: skip

CREATES_MANIFESTS = """\
apiVersion: b2b.reconciler/v1
kind: Store
metadata: {name: store}
spec: {storeHash: looks02, companiesBehavior: independent}
""" + "".join(
    f"""---
apiVersion: b2b.reconciler/v1
kind: Company
metadata: {{name: newco-{i}}}
spec:
  customerGroupId: 1
  companyName: {name}
  companyEmail: hq{i}@newco.example
  companyPhone: "555-01{i}"
  address: {{country: US}}
  admin: {{email: admin{i}@newco.example, firstName: A, lastName: D{i}, phoneNumber: "1"}}
"""
    for i, name in enumerate(NEW_COMPANIES)
)

Hook = Callable[[httpx.Request], None]


class Before(httpx.BaseTransport):
    """The sandbox, with ``hook`` called before each request is served (another run acting
    at that very moment)."""

    def __init__(self, sb: Sandbox, hook: Hook) -> None:
        self.inner = sb.transport()
        self.hook = hook

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.hook(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def client(sb: Sandbox, transport: httpx.BaseTransport | None = None) -> ApiClient:
    settings = ApiSettings(
        store_hash=sb.store_hash,
        token=Secret(TOKEN),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    return ApiClient.open(settings, transport or sb.transport(), sleep=lambda _s: None)


def planned(sb: Sandbox, text: str, tmp_path: Path) -> Plan:
    folder = tmp_path / "manifests"
    folder.mkdir(exist_ok=True)
    (folder / "all.yaml").write_text(text, encoding="utf-8")
    found = load([folder])
    with client(sb) as api:
        return build_plan(found, read_live(api, found), created_at="2026-11-29T00:00:00Z")


def apply(sb: Sandbox, plan: Plan, hook: Hook | None = None) -> ApplyReport:
    sb.clear_log()
    transport = Before(sb, hook) if hook is not None else None
    with client(sb, transport) as api:
        return apply_plan(api, plan)


def reads_before_first(sb: Sandbox, method: str, path: str) -> list[str]:
    """The GET queries to ``path`` sent before the first ``method path``."""
    out = []
    for entry in sb.request_log:
        if entry.method == method and entry.path == path:
            break
        if entry.method == "GET" and entry.path == path:
            out.append(entry.query)
    return out


def user_emails(sb: Sandbox) -> Counter[str]:
    state = sb.dump()
    emails = {c["id"]: c["email"] for c in state["customers"]}
    return Counter(emails[u["customerId"]] for u in state["users"])


def company_names(sb: Sandbox) -> Counter[str]:
    return Counter(c["companyName"] for c in sb.dump()["companies"])


def test_a_run_of_create_users_looks_once(tmp_path: Path) -> None:
    with Sandbox(db=":memory:", seed=USERS_SEED) as sb:
        plan = planned(sb, USERS_MANIFESTS, tmp_path)
        assert plan.counts()["createUser"] == len(NEW_USERS)
        report = apply(sb, plan)
        assert report.ok, [r.message for r in report.results]
        assert sum(report.requests.values()) == len(sb.request_log) == api_requests(plan)
        looks = reads_before_first(sb, "POST", "/api/v3/io/users")
        assert len(looks) == 1, looks
        assert f"minModified={plan.preconditions.watermark}" in looks[0]
        assert not [e for e in sb.request_log if e.path == "/api/v3/io/users" and "q=" in e.query]
        assert all(user_emails(sb)[e] == 1 for e in NEW_USERS)


def test_a_user_made_since_planning_is_adopted_from_the_look(tmp_path: Path) -> None:
    with Sandbox(db=":memory:", seed=USERS_SEED) as sb:
        plan = planned(sb, USERS_MANIFESTS, tmp_path)
        outside.create_user(sb, 1001, NEW_USERS[2], role=2, firstName="N", lastName="U2")
        report = apply(sb, plan)
        assert report.ok, [r.message for r in report.results]
        message = next(r.message for r in report.results if r.action_id.endswith(NEW_USERS[2]))
        assert "already existed (made since planning); adopted" in message
        assert user_emails(sb)[NEW_USERS[2]] == 1
        posts = [e for e in sb.request_log if e.method == "POST" and e.path.endswith("/users")]
        assert len(posts) == len(NEW_USERS) - 1


def test_a_user_made_after_the_look_is_refused_by_the_api_and_adopted(tmp_path: Path) -> None:
    """Another run creates the fourth user between our look and our POST: B2B Edition refuses
    a second user with that e-mail, and the read after the refusal adopts the first."""
    with Sandbox(db=":memory:", seed=USERS_SEED) as sb:
        plan = planned(sb, USERS_MANIFESTS, tmp_path)
        email = NEW_USERS[3]
        raced: list[bool] = []

        def other_run(request: httpx.Request) -> None:
            posting = request.method == "POST" and request.url.path.endswith("/users")
            if posting and not raced and json.loads(request.content).get("email") == email:
                raced.append(True)
                outside.create_user(sb, 1001, email, role=2, firstName="N", lastName="U3")

        report = apply(sb, plan, other_run)
        assert raced
        assert report.ok, [r.message for r in report.results]
        message = next(r.message for r in report.results if r.action_id.endswith(email))
        assert "adopted" in message
        assert user_emails(sb)[email] == 1


def test_a_run_of_independent_creates_looks_once(tmp_path: Path) -> None:
    with Sandbox(db=":memory:", seed=CREATES_SEED) as sb:
        plan = planned(sb, CREATES_MANIFESTS, tmp_path)
        assert plan.counts()["create"] == len(NEW_COMPANIES)
        report = apply(sb, plan)
        assert report.ok, [r.message for r in report.results]
        assert sum(report.requests.values()) == len(sb.request_log) == api_requests(plan)
        looks = [q for q in reads_before_first(sb, "POST", "/api/v3/io/companies") if "minM" in q]
        assert len(looks) == 1, looks
        assert f"minModified={plan.preconditions.watermark}" in looks[0]
        assert not [e for e in sb.request_log if "q=" in e.query]
        assert all(company_names(sb)[n] == 1 for n in NEW_COMPANIES)


def test_a_company_made_before_the_look_is_adopted_from_it(tmp_path: Path) -> None:
    """Another run creates the second company after our staleness check (which would refuse
    a company new in the group) and right before our look: the look holds it, it is adopted."""
    with Sandbox(db=":memory:", seed=CREATES_SEED) as sb:
        plan = planned(sb, CREATES_MANIFESTS, tmp_path)
        made: list[int] = []

        def other_run(request: httpx.Request) -> None:
            looking = request.method == "GET" and "minModified" in str(request.url.query)
            if looking and request.url.path.endswith("/companies") and not made:
                data = outside.create_company(
                    sb, NEW_COMPANIES[1], "admin1@newco.example", customerGroupId=1, catalogId="3"
                )
                made.append(int(data["companyId"]))

        report = apply(sb, plan, other_run)
        assert made
        message = next(r.message for r in report.results if r.action_id == "company/newco-1:create")
        assert f"company {made[0]} named 'Newco 1' already existed (made since planning)" in message
        assert company_names(sb)[NEW_COMPANIES[1]] == 1
        assert report.requests["POST /companies"] == len(NEW_COMPANIES) - 1


def test_a_company_made_after_the_look_by_another_run_is_adopted(tmp_path: Path) -> None:
    """Another run of the same plan creates the third company (same name, same admin e-mail)
    between our look and our POST: the admin e-mail is taken, so our POST is refused, and the
    read by name after the refusal adopts it: one company of that name."""
    with Sandbox(db=":memory:", seed=CREATES_SEED) as sb:
        plan = planned(sb, CREATES_MANIFESTS, tmp_path)
        name = NEW_COMPANIES[2]
        raced: list[bool] = []

        def other_run(request: httpx.Request) -> None:
            posting = request.method == "POST" and request.url.path.endswith("/companies")
            if posting and not raced and json.loads(request.content).get("companyName") == name:
                raced.append(True)
                outside.create_company(
                    sb, name, "admin2@newco.example", customerGroupId=1, catalogId="3"
                )

        report = apply(sb, plan, other_run)
        assert raced
        message = next(r.message for r in report.results if r.action_id == "company/newco-2:create")
        assert "adopted" in message, message
        assert company_names(sb)[name] == 1
