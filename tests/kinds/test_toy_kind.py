"""Adding a kind is one module and one registry line: a toy kind, registered here, goes through
validate, plan, a saved plan, apply against the sandbox and the empty plan after it, with no
stage knowing it."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler import kinds
from reconciler.cli import main
from reconciler.kinds import ActionInfo, Kind, PlanContext
from reconciler.model import Action, ReadNeeds, Request, StoreSpec
from reconciler.sandbox import Sandbox

SEED = Path(__file__).resolve().parents[2] / "examples/store/sandbox-seed.yaml"
SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "b2b.reconciler/v1"},
        "kind": {"const": "Freeze"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["customerGroupId"],
            "properties": {"customerGroupId": {"type": "integer"}},
        },
    },
}


# ---- the toy kind: the company of a customer group is kept inactive --------------------------
@dataclass(frozen=True)
class FreezeSpec:
    name: str
    group: int

    @property
    def resource(self) -> str:
        return f"freeze/{self.name}"


class Freeze(Kind[FreezeSpec]):
    name, spec_type = "Freeze", FreezeSpec
    actions = (ActionInfo("freeze", "~", ("company to freeze", "companies to freeze")),)

    def schema(self) -> dict[str, Any]:
        return SCHEMA

    def build(self, doc: Any) -> FreezeSpec:
        return FreezeSpec(doc.name or "", doc.spec()["customerGroupId"])

    def needs(self, specs: Any, store: StoreSpec | None) -> ReadNeeds:
        return ReadNeeds(groups=tuple(s.group for s in specs))

    def plan(self, specs: Any, ctx: PlanContext) -> None:
        for spec in specs:
            live = ctx.company_for_group(spec.group)
            if live is not None and live.status != "inactive":
                put = Request("PUT", f"/companies/{live.company_id}/status", {"companyStatus": 3})
                ctx.actions.append(Action(f"{spec.resource}:freeze", "freeze", spec.resource, put))


# ---- end of the toy kind ----------------------------------------------------------------------


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kinds, "KINDS", (*kinds.KINDS, Freeze()))  # the one registry line


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_a_toy_kind_goes_through_every_stage(registered: None, tmp_path: Path) -> None:
    db = str(tmp_path / "store.db")
    assert run("sandbox", "init", "--db", db, "--seed", str(SEED))[0] == 0
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "freeze.yaml").write_text(
        "apiVersion: b2b.reconciler/v1\nkind: Freeze\nmetadata: {name: northwind}\n"
        "spec: {customerGroupId: 11}\n"
    )
    assert run("validate", str(manifests)) == (
        0,
        "Valid: 0 Store, 0 Company, 0 CompanyUsers, 0 OrderAssignment, 0 Order, "
        "0 PriceListAssignment, 1 Freeze.\n",
    )

    plan_file = tmp_path / "plan.json"
    code, text = run("--sandbox", db, "plan", str(manifests), "--out", str(plan_file))
    assert code == 0
    assert "~ freeze freeze/northwind:freeze" in text
    assert "1 company to freeze" in text
    saved = json.loads(plan_file.read_text())
    assert saved["summary"]["freeze"] == 1
    assert [a["type"] for a in saved["actions"]] == ["freeze"]

    code, _ = run(
        "--sandbox", db, "apply", str(manifests), "--plan", str(plan_file), "--auto-approve"
    )
    assert code == 0
    with Sandbox(db=db) as sb:
        companies = sb.dump()["companies"]
    assert [c["companyStatus"] for c in companies if c["customerGroupId"] == 11] == [3]

    code, text = run("--sandbox", db, "plan", str(manifests), "--detailed-exitcode")
    assert code == 0, text


def test_a_document_of_an_unregistered_kind_is_refused(tmp_path: Path) -> None:
    (tmp_path / "freeze.yaml").write_text(
        "apiVersion: b2b.reconciler/v1\nkind: Freeze\nmetadata: {name: northwind}\n"
        "spec: {customerGroupId: 11}\n"
    )
    code, text = run("validate", str(tmp_path))
    assert code == 1
    assert (
        "unknown kind 'Freeze' (expected one of Store, Company, CompanyUsers, "
        "OrderAssignment, Order, PriceListAssignment)" in text
    )
