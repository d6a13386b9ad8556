"""The laws under every reading of the docs at once (b2b-api.md §9-§10), through the real CLI.

Each scenario's seed gets every sandbox switch set to the reading that is not the default:
``extraFieldsReplace``, ``companyPutRequiresExtraFields``, ``emptyExtraFieldRefused``,
``zeroDateIsAbsent``, ``channelsErrorInMeta``, ``userExtraFieldsReplace``,
``userPutRequiresExtraFields``, ``userCreateMovesOrders``, and an ``ordersSyncLag`` that hides
the newest orders from B2B Edition (the records of the older ones stamped with the time B2B
Edition learned of them: ``lateSyncStampsSyncTime``). Then: apply then plan is empty, import
then plan is empty, and no extra-field value that the manifests do not name changes.
"""

from __future__ import annotations

import copy
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.cli import main
from reconciler.executor import apply_plan
from reconciler.live import read_live
from reconciler.manifests import load
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox

HERE = Path(__file__).parent
SCENARIOS = {
    "example-store": (HERE.parents[1] / "examples/store/sandbox-seed.yaml", "examples/store"),
    "independent": (HERE / "scenarios/independent/seed.yaml", "independent"),
    "dependent-msf": (HERE / "scenarios/dependent-msf/seed.yaml", "dependent-msf"),
    "extra-fields": (HERE / "scenarios/extra-fields/seed.yaml", "extra-fields"),
}
IMPORT_FLAGS = {
    "example-store": ["--behavior", "dependent"],
    "independent": ["--behavior", "independent"],
    "dependent-msf": ["--behavior", "dependent", "--multi-storefront"],
    "extra-fields": ["--behavior", "dependent"],
}
EVERY_OTHER_READING: dict[str, Any] = {
    "extraFieldsReplace": True,
    "companyPutRequiresExtraFields": True,
    "emptyExtraFieldRefused": True,
    "zeroDateIsAbsent": True,
    "channelsErrorInMeta": True,
    "userExtraFieldsReplace": True,
    "userPutRequiresExtraFields": True,
    "userCreateMovesOrders": False,
    "lateSyncStampsSyncTime": True,
}


def manifests_of(name: str) -> Path:
    where = SCENARIOS[name][1]
    return HERE.parents[1] / where if "/" in where else HERE / "scenarios" / where / "manifests"


def other_readings(seed: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """The seed with every switch on; the lag hides the newest orders from B2B Edition."""
    out = copy.deepcopy(seed)
    created = [o["createdAt"] for o in out.get("orders", []) if "createdAt" in o]
    lag = int(time.time()) - max(created) + 3600 if created else 3600
    quirks = {**EVERY_OTHER_READING, "ordersSyncLag": lag, **overrides}
    out.setdefault("store", {})["quirks"] = {**out["store"].get("quirks", {}), **quirks}
    return out


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def seeded(tmp_path: Path, name: str, **overrides: Any) -> str:
    seed = other_readings(yaml.safe_load(SCENARIOS[name][0].read_text()), **overrides)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(seed))
    db = str(tmp_path / f"{name}.db")
    assert run("sandbox", "init", "--db", db, "--seed", str(path))[0] == 0
    return db


def dump(db: str) -> dict[str, Any]:
    with Sandbox(db=db) as sb:
        return sb.dump()


def unnamed_extras_unchanged(name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    """No extra-field value the manifests do not name changes ("" and absent are one value)."""
    found = load([str(manifests_of(name))])
    named = {c.customer_group_id: set(c.extra_fields or ()) for c in found.companies}
    named_orders = {o.bc_order_id: set(o.extra_fields or ()) for o in found.orders}
    now = {c["companyId"]: c for c in after["companies"]}
    for company in before["companies"]:
        kept = named.get(company["customerGroupId"], set())
        for field, value in company.get("extraFields", {}).items():
            if field not in kept:
                seen = now[company["companyId"]].get("extraFields", {}).get(field, "")
                assert seen == value, (company["companyId"], field)
    orders_now = {o["bcOrderId"]: o for o in after["orders"]}
    for order in before["orders"]:
        kept = named_orders.get(order["bcOrderId"], set())
        for field, value in order.get("extraFields", {}).items():
            if field not in kept:
                seen = orders_now[order["bcOrderId"]].get("extraFields", {}).get(field, "")
                assert seen == value, (order["bcOrderId"], field)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_apply_then_plan_is_empty_under_every_reading(tmp_path: Path, name: str) -> None:
    db = seeded(tmp_path, name)
    manifests = str(manifests_of(name))
    before = dump(db)
    code, text = run("--sandbox", db, "apply", manifests, "--auto-approve")
    assert code == 0, text
    assert "Apply complete" in text
    code, text = run("--sandbox", db, "plan", manifests, "--detailed-exitcode")
    assert code == 0, text
    assert "No changes" in text
    unnamed_extras_unchanged(name, before, dump(db))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_import_then_plan_is_empty_under_every_reading(tmp_path: Path, name: str) -> None:
    db = seeded(tmp_path, name)
    out = tmp_path / "imported"
    code, text = run("--sandbox", db, "import", "--out", str(out), "--with-orders",
                     *IMPORT_FLAGS[name])  # fmt: skip
    assert code == 0, text
    assert run("validate", str(out))[0] == 0
    code, text = run("--sandbox", db, "plan", str(out), "--detailed-exitcode")
    assert code == 0, text


def test_the_newest_orders_are_warnings_and_left_out_of_import(tmp_path: Path) -> None:
    """§9.13: orders core has and B2B Edition lacks: a plan warning, an import comment."""
    db = seeded(tmp_path, "example-store")
    code, text = run("--sandbox", db, "plan", str(manifests_of("example-store")))
    assert code == 0, text
    assert "order(s) 5041 of customer 409 are in BigCommerce but not (yet) in B2B" in text
    out = tmp_path / "imported"
    code, text = run("--sandbox", db, "import", "--out", str(out), "--with-orders",
                     "--behavior", "dependent")  # fmt: skip
    assert code == 0, text
    store = (out / "store.yaml").read_text()
    assert "Not imported (their orders are in BigCommerce but not yet in B2B" in store
    assert "customer 409 of " in store
    assert "(orders 5041)" in store
    imported = yaml.safe_load_all(
        "\n---\n".join(p.read_text() for p in (out / "order-assignments").glob("*.yaml"))
    )
    assert all(409 not in doc["spec"]["customerIds"] for doc in imported if doc)


def test_a_403_that_does_not_say_msf_is_off_stops_import(tmp_path: Path) -> None:
    """§9.14: only the documented body means "off"; a scope 403 asks for the flag."""
    seed = yaml.safe_load(SCENARIOS["extra-fields"][0].read_text())
    seed["faults"] = [{"method": "GET", "path": "/channels$", "status": 403}]
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    db = str(tmp_path / "scopes.db")
    assert run("sandbox", "init", "--db", db, "--seed", str(path))[0] == 0
    out = tmp_path / "imported"
    code, _ = run("--sandbox", db, "import", "--out", str(out), "--behavior", "dependent")
    assert code == 1
    assert not out.exists()
    code, text = run("--sandbox", db, "import", "--out", str(out), "--behavior", "dependent",
                     "--no-multi-storefront")  # fmt: skip
    assert code == 0, text


def test_verification_reads_back_every_extra_field_sent(tmp_path: Path) -> None:
    """A value sent unchanged that does not read back is an inconsistency, not only a changed
    one: here someone edits it between the write and the verification."""
    seed = yaml.safe_load(SCENARIOS["extra-fields"][0].read_text())
    found = load([str(manifests_of("extra-fields"))])
    with Sandbox(db=":memory:", seed=seed) as sb:
        settings = ApiSettings(
            store_hash=sb.store_hash,
            token=Secret("t"),
            b2b_url="http://localhost/api/v3/io",
            core_url="http://localhost",
        )
        with ApiClient.open(settings, sb.transport(), sleep=lambda _s: None) as api:
            plan = build_plan(found, read_live(api, found), created_at="2026-11-24T00:00:00Z")
            update = next(a for a in plan.actions if a.id == "company/one:update")
            assert {"fieldName": "region", "fieldValue": "Pacific NW"} in (
                update.request.body["extraFields"]  # type: ignore[index]
            )

            def meddle(done: int, _total: int, _seconds: float) -> None:
                if plan.actions[done - 1].id == "company/one:update":
                    sent = [{"fieldName": "region", "fieldValue": "Gulf"}]
                    api.http.b2b("PUT", "/companies/5001", json={"extraFields": sent})

            report = apply_plan(api, plan, progress=meddle)
    assert [r.outcome for r in report.results] == ["applied"] * len(plan.actions)
    assert report.verification == (
        "inconsistent result after apply: company/one extraFields.region is 'Gulf', expected "
        "'Pacific NW' (sent unchanged by company/one:update)",
    )


def test_import_leaves_empty_company_extra_fields_out(tmp_path: Path) -> None:
    """An empty live value is not written (plan refuses company "" values): import then plan is
    still empty."""
    seed = yaml.safe_load(SCENARIOS["extra-fields"][0].read_text())
    seed["companies"][0]["extraFields"]["notes"] = ""
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    db = str(tmp_path / "empty.db")
    assert run("sandbox", "init", "--db", db, "--seed", str(path))[0] == 0
    out = tmp_path / "imported"
    code, text = run("--sandbox", db, "import", "--out", str(out), "--behavior", "dependent")
    assert code == 0, text
    company = yaml.safe_load((out / "companies" / "one.yaml").read_text())
    assert company["spec"]["extraFields"] == {"region": "Pacific NW", "seats": "10", "tier": "Gold"}
    code, text = run("--sandbox", db, "plan", str(out), "--detailed-exitcode")
    assert code == 0, text
