"""Independent identity against the sandbox (issue 16): a name two live companies carry is
refused at plan time and nothing is sent; a document pinned by companyId converges; a create
into a shared group confirms by name and never duplicates."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.cli import main
from reconciler.errors import PlanError
from reconciler.executor import apply_plan
from reconciler.kinds import api_requests
from reconciler.live import read_live
from reconciler.manifests import load
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox

SEED: dict[str, Any] = {
    "store": {"hash": "twins1", "companiesBehavior": "independent", "accessToken": "tok"},
    "customerGroups": [{"id": 20, "name": "Trade"}, {"id": 21, "name": "Trade B"}],
    "companies": [
        {"companyId": cid, "customerGroupId": group, "companyName": name,
         "companyEmail": f"{cid}@x.example", "companyPhone": "1",
         "createdAt": 1700000000, "updatedAt": 1700000000}
        for cid, group, name in ((3001, 20, "Acme"), (3002, 21, "ACME "), (3003, 20, "Beta"))
    ],
}  # fmt: skip
MANIFESTS = """\
apiVersion: b2b.reconciler/v1
kind: Store
metadata: {name: twins1}
spec: {storeHash: twins1, companiesBehavior: independent}
---
apiVersion: b2b.reconciler/v1
kind: Company
metadata: {name: acme}
spec:
  customerGroupId: 20
  companyName: Acme
  companyEmail: new@acme.example
  companyPhone: "9"
  address: {country: US}
  admin: {email: admin@acme.example, firstName: A, lastName: B}
"""


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def client(sb: Sandbox) -> ApiClient:
    settings = ApiSettings(
        store_hash=sb.store_hash,
        token=Secret("tok"),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    return ApiClient.open(settings, sb.transport(), sleep=lambda _s: None)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "all.yaml").write_text(MANIFESTS)
    return tmp_path / "m"


def test_an_ambiguous_name_is_refused_and_nothing_is_sent(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox(db=":memory:", seed=SEED) as sb, client(sb) as api:
        found = load([folder])
        with pytest.raises(PlanError) as caught:
            build_plan(found, read_live(api, found), created_at="2026-11-29T00:00:00Z")
        (issue,) = caught.value.issues
        assert "2 live companies are named 'Acme': 3001 ('Acme'), 3002 ('ACME ')" in issue.message
        assert "add companyId" in issue.message
        assert {e.method for e in sb.request_log} == {"GET"}
    db = str(tmp_path / "twins.db")
    (tmp_path / "seed.yaml").write_text(yaml.safe_dump(SEED))
    assert run("sandbox", "init", "--db", db, "--seed", str(tmp_path / "seed.yaml"))[0] == 0
    with Sandbox(db=db) as before:
        dumped = before.dump()
    code, _ = run("--sandbox", db, "apply", str(folder), "--auto-approve")
    assert code == 1
    assert "add companyId to say which one" in capsys.readouterr().err
    with Sandbox(db=db) as after:
        assert after.dump() == dumped


def test_companyid_settles_it_and_converges(folder: Path) -> None:
    text = MANIFESTS.replace(
        "  customerGroupId: 20\n", "  companyId: 3002\n  customerGroupId: 20\n"
    )
    (folder / "all.yaml").write_text(text)
    with Sandbox(db=":memory:", seed=SEED) as sb, client(sb) as api:
        found = load([folder])
        plan = build_plan(found, read_live(api, found), created_at="2026-11-29T00:00:00Z")
        (update,) = plan.actions
        assert update.request.path == "/companies/3002"
        assert update.request.body["customerGroupId"] == 20
        assert update.request.body["companyName"] == "Acme"
        assert apply_plan(api, plan).ok
        again = build_plan(found, read_live(api, found), created_at="2026-11-29T00:00:01Z")
        assert again.empty
        companies = {c["companyId"]: c for c in sb.dump()["companies"]}
        assert len(companies) == 3
        assert companies[3002]["customerGroupId"] == 20


@pytest.mark.parametrize("uuid", [False, True], ids=["id-unused", "id-used-by-an-update"])
def test_create_into_a_shared_group_confirms_by_name(folder: Path, uuid: bool) -> None:
    """One read of the name before the POST; one after it when a later action (the update
    that sets the uuid) uses the new id, else verification confirms the company."""
    text = MANIFESTS.replace("companyName: Acme", "companyName: Gamma")
    if uuid:
        text = text.replace('companyPhone: "9"', 'companyPhone: "9"\n  uuid: ERP-9')
    (folder / "all.yaml").write_text(text)
    with Sandbox(db=":memory:", seed=SEED) as sb, client(sb) as api:
        found = load([folder])
        plan = build_plan(found, read_live(api, found), created_at="2026-11-29T00:00:00Z")
        assert [a.type for a in plan.actions] == ["create", "update"] if uuid else ["create"]
        sb.clear_log()
        report = apply_plan(api, plan)
        assert report.ok, report
        confirms = [e for e in sb.request_log if "q=Gamma" in e.query]
        assert len(confirms) == (2 if uuid else 1)  # before the POST (and after it)
        assert len(sb.request_log) == api_requests(plan)
        group = [c for c in sb.dump()["companies"] if c["customerGroupId"] == 20]
        assert sorted(c["companyName"] for c in group) == ["Acme", "Beta", "Gamma"]
        assert build_plan(found, read_live(api, found), created_at="2026-11-29T00:00:01Z").empty


def test_validate_checks_identity_across_documents(tmp_path: Path) -> None:
    """Independent: two documents without companyId may not share a name (or a uuid), and a
    companyId is named once; Dependent: companyId is refused (the group is the identity)."""
    twin = MANIFESTS.split("---\n", 1)[1].replace("name: acme}", "name: acme-2}")
    pinned = twin.replace("name: acme-2}", "name: acme-3}").replace(
        "  customerGroupId: 20\n", "  companyId: 7\n  customerGroupId: 20\n"
    )
    (tmp_path / "all.yaml").write_text(
        MANIFESTS + "---\n" + twin + "---\n" + pinned + "---\n" + pinned.replace("acme-3", "acme-4")
    )
    code, text = run("validate", str(tmp_path))
    assert code == 1
    assert (
        "company/acme-2: spec.companyName: 'Acme' is also the companyName of company/acme" in text
    )
    assert "company/acme-4: spec.companyId: company 7 is already named by company/acme-3" in text
    assert "acme-3: spec.companyName" not in text  # pinned documents need no unique name
    dependent = MANIFESTS.replace("independent", "dependent")
    dependent = dependent.replace(
        "  customerGroupId: 20\n", "  companyId: 7\n  customerGroupId: 20\n"
    )
    (tmp_path / "all.yaml").write_text(dependent)
    code, text = run("validate", str(tmp_path))
    assert code == 1
    assert "spec.companyId: only for companiesBehavior: independent" in text
