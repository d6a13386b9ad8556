"""The example store: it loads cleanly, and its seed sets up what its README promises."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from reconciler import manifests, yamlload
from reconciler.model import Location, ManifestSet

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "store"
NOW = 1795478400  # 2026-11-24T00:00:00Z
YEAR = 365 * 24 * 3600


@pytest.fixture(scope="module")
def loaded() -> ManifestSet:
    return manifests.load([EXAMPLES])


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    (doc,) = yamlload.load_path(EXAMPLES / "sandbox-seed.yaml", "seed").documents
    value: dict[str, Any] = doc.value
    return value


def test_the_examples_load(loaded: ManifestSet) -> None:
    assert loaded.store is not None
    assert (loaded.store.store_hash, loaded.store.companies_behavior) == ("demo01", "dependent")
    assert loaded.store.multi_storefront is False
    assert sorted(c.customer_group_id for c in loaded.companies) == [11, 12, 13, 14, 15, 16]
    assert [a.name for a in loaded.assignments] == [
        "cascade-staff",
        "harbor-buyers",
        "northwind-buyers",
        "redline-fleet",
        "st-brigid-clinicians",
    ]
    assert [o.bc_order_id for o in loaded.orders] == [5010, 5012, 5020]
    assert loaded.digest.startswith("sha256:")
    assert len(loaded.digest) == len("sha256:") + 64


def test_the_companies_use_every_field_that_applies(loaded: ManifestSet) -> None:
    for company in loaded.companies:
        assert company.address
        assert company.address["country"] == "US"
        assert company.status in ("approved", "pending")
        assert company.catalog_id
        assert company.catalog_id.isdigit()
        assert company.price_list_assign is None  # Dependent without Multi-Storefront
        assert company.extra_fields
        assert set(company.extra_fields) == {
            "licenseNo",
            "region",
            "creditLimit",
        }
        assert company.admin
        assert company.admin.phone_number
        assert company.user_extra_fields is not None
        assert set(company.user_extra_fields) == {"jobTitle"}
    assert sum(1 for c in loaded.companies if c.uuid) == 5
    assert sum(1 for c in loaded.companies if c.send_welcome_email) == 1


def test_specs_carry_field_locations(loaded: ManifestSet) -> None:
    northwind = loaded.company_named("northwind-supply")
    assert northwind is not None
    path = str(EXAMPLES / "companies" / "northwind-supply.yaml")
    assert northwind.loc == Location(path, 3, 1)
    assert northwind.loc_of("companyPhone") == Location(path, 11, 3)
    assert northwind.loc_of("address.zipCode") == Location(path, 17, 5)
    assert northwind.loc_of("extraFields.region") == Location(path, 24, 5)
    assert northwind.loc_of("nonexistent") == northwind.loc
    buyers = next(a for a in loaded.assignments if a.name == "northwind-buyers")
    assert buyers.loc_of("customerIds.2") == Location(
        str(EXAMPLES / "order-assignments" / "northwind.yaml"), 12, 7
    )
    order = next(o for o in loaded.orders if o.bc_order_id == 5010)
    assert order.loc_of("extraFields.costCenter").line == 22  # type: ignore[union-attr]


def _all_docs() -> list[dict[str, Any]]:
    docs = []
    for file in sorted(EXAMPLES.rglob("*.yaml")):
        if file.name != "sandbox-seed.yaml":
            docs += [d.value for d in yamlload.load_path(file, str(file)).documents]
    return docs


def test_the_digest_ignores_layout_but_not_content(loaded: ManifestSet, tmp_path: Path) -> None:
    docs = _all_docs()
    manifests.write_manifest_file(tmp_path / "one" / "all.yaml", list(reversed(docs)))
    assert manifests.load([tmp_path / "one"]).digest == loaded.digest

    for doc in docs:
        if doc["kind"] == "Company":
            doc["spec"]["catalogId"] = int(doc["spec"]["catalogId"])  # same meaning
    manifests.write_manifest_file(tmp_path / "two" / "all.yaml", docs)
    assert manifests.load([tmp_path / "two"]).digest == loaded.digest

    docs[1]["spec"]["companyPhone"] = "+1 555 0000"
    manifests.write_manifest_file(tmp_path / "three" / "all.yaml", docs)
    assert manifests.load([tmp_path / "three"]).digest != loaded.digest


def test_a_copy_of_the_examples_loads_from_a_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo")
    again = manifests.load(["."])
    assert again.companies[0].loc == Location("companies/cascade-schools.yaml", 2, 1)


# --------------------------------------------------------------------------- the seed


def test_the_seed_describes_the_same_store(loaded: ManifestSet, seed: dict[str, Any]) -> None:
    assert seed["store"] == {
        "hash": "demo01",
        "companiesBehavior": "dependent",
        "multiStorefront": False,
    }
    groups = {g["id"] for g in seed["customerGroups"]}
    assert {11, 12, 13, 14, 15, 16} < groups
    customers = {c["id"]: c for c in seed["customers"]}
    assert all(i >= 400 for i in customers)
    for assignment in loaded.assignments:
        assert set(assignment.customer_ids) <= set(customers), assignment.name
    price_lists = {str(p["id"]) for p in seed["priceLists"]}
    configs = {c["fieldName"] for c in seed["extraFieldConfigs"]["company"]}
    for company in loaded.companies:
        assert company.catalog_id in price_lists
        assert set(company.extra_fields or {}) <= configs
    orders = {o["bcOrderId"] for o in seed["orders"]}
    assert all(o >= 5000 for o in orders)
    assert {o.bc_order_id for o in loaded.orders} <= orders
    order_configs = {c["fieldName"] for c in seed["extraFieldConfigs"]["order"]}
    assert order_configs == {"costCenter", "projectCode"}


def test_the_seed_sets_up_every_dependent_action(loaded: ManifestSet, seed: dict[str, Any]) -> None:
    companies = {c["customerGroupId"]: c for c in seed["companies"]}
    by_id = {c["companyId"]: c for c in seed["companies"]}
    users = {u["customerId"]: u["companyId"] for u in seed["users"]}
    orders = seed["orders"]
    # convert: groups with no company; the admin e-mails are existing customers
    assert 13 not in companies
    assert 16 not in companies
    emails = {c["email"] for c in seed["customers"]}
    for name in ("harbor-hospitality", "summit-labs"):
        company = loaded.company_named(name)
        assert company is not None
        assert company.admin is not None
        assert company.admin.email in emails
    # update, setStatus, setCatalog
    assert companies[11]["companyPhone"] != loaded.company_named("northwind-supply").company_phone  # type: ignore[union-attr]
    assert companies[12]["companyStatus"] == 0
    assert companies[14]["catalogId"] == "1"
    # unmanaged companies
    assert {c["customerGroupId"] for c in seed["companies"]} - {11, 12, 13, 14, 15, 16} == {20, 21}
    # assign: a member's company-less orders; reassign: a member's orders in another company
    assert users[401] == 1001
    assert {o["companyId"] for o in orders if o["customerId"] == 401} == {None}
    for customer, target in ((403, 1001), (405, 1002), (412, None)):
        assert customer in users
        sitting = {o["companyId"] for o in orders if o["customerId"] == customer}
        assert sitting
        assert target not in sitting
    # orders older than a year, which a plain order listing does not return
    old = {o["bcOrderId"] for o in orders if o["createdAt"] < NOW - YEAR}
    assert {5010, 5013, 5031} <= old
    assert by_id[1020]["companyName"] == "Legacy Buyers Co"


def ids_of(plan: dict[str, Any]) -> dict[str, Any]:
    return {a["id"]: a for a in plan["actions"]}


def test_planning_the_examples_against_the_seed_shows_every_action(tmp_path: Path) -> None:
    cli = pytest.importorskip("reconciler.cli")
    db = tmp_path / "demo.db"
    seed_file = str(EXAMPLES / "sandbox-seed.yaml")
    assert (
        cli.main(["sandbox", "init", "--db", str(db), "--seed", seed_file], out=io.StringIO()) == 0
    )
    out = io.StringIO()
    code = cli.main(["--sandbox", str(db), "plan", str(EXAMPLES), "--format", "json"], out=out)
    assert code == 0, out.getvalue()
    plan = json.loads(out.getvalue())
    assert plan["summary"] | {"apiRequests": 0, "estimatedSeconds": 0} == {
        "convert": 2,
        "create": 0,
        "update": 2,
        "setStatus": 2,
        "setCatalog": 1,
        "reassign": 3,
        "assign": 1,
        "updateOrder": 2,
        "createUser": 2,
        "updateUser": 2,
        "setPriceList": 0,
        "total": 17,
        "apiRequests": 0,
        "estimatedSeconds": 0,
    }
    assert plan["unmanaged"] == {"companies": 2, "users": 0}
    olivia = ids_of(plan)["companyusers/harbor-users:createUser:olivia.chen@harborvine.example"]
    assert olivia["request"]["body"]["companyId"] == "{company/harbor-hospitality.companyId}"
    assert olivia["dependsOn"] == ["company/harbor-hospitality:convert"]
    marco = ids_of(plan)["companyusers/harbor-users:updateUser:marco.bellini@harborvine.example"]
    assert marco["request"]["path"] == "/users/{company/harbor-hospitality.adminUserId}"
    nina = ids_of(plan)[
        "companyusers/northwind-users:createUser:nina.kowalski@northwind-supply.example"
    ]
    assert nina["request"]["body"]["companyId"] == 1001
    assert nina["request"]["body"]["role"] == 1
    mei = ids_of(plan)[
        "companyusers/northwind-users:updateUser:mei.tanaka@northwind-supply.example"
    ]
    assert mei["request"]["body"] == {
        "phoneNumber": "+1 503 555 0131",
        "extraFields": [{"fieldName": "jobTitle", "fieldValue": "Buyer"}],
    }
    ids = {a["id"]: a for a in plan["actions"]}
    assert ids["company/harbor-hospitality:update"]["dependsOn"] == [
        "company/harbor-hospitality:convert"
    ]
    assert ids["orderassignment/northwind-buyers:assign:401"]["type"] == "assign"
    assert ids["orderassignment/harbor-buyers:reassign:412"]["dependsOn"] == [
        "company/harbor-hospitality:convert"
    ]
