"""The PriceListAssignment kind (issue 16, CONTRACT.md): setPriceList with the exact core
request, right under both readings of an upsert over a held pair (b2b-api.md §9.16), disclosing
how many companies share the group; a validate-time error on Dependent stores."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from reconciler.cli import main
from reconciler.errors import PlanError
from reconciler.kinds.price_list_assignment import PriceListAssignmentSpec, assignment_requests
from reconciler.model import (
    LiveCompany,
    LivePriceListAssignment,
    LiveState,
    ManifestSet,
    Request,
    StoreSpec,
)
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox

STORE = StoreSpec(name="store", store_hash="ind1", companies_behavior="independent")
SPEC = PriceListAssignmentSpec(name="trade", customer_group_id=20, price_list_id=3)
ROOT = Path(__file__).resolve().parents[2] / "examples/independent-store"


def company(cid: int, group: int) -> LiveCompany:
    return LiveCompany(cid, group, f"Co {cid}", "e@x.example", "1", "approved")


def state(*held: LivePriceListAssignment, **kw: object) -> LiveState:
    base = LiveState(
        store_hash="ind1",
        companies=(company(1, 20), company(2, 20), company(3, 21)),
        customer_groups=frozenset({20, 21}),
        price_lists=frozenset({2, 3}),
        price_list_assignments=held,
        read_at=1700001000,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def plan_for(*specs: object, live: LiveState):  # type: ignore[no-untyped-def]
    return build_plan(ManifestSet(STORE, specs), live, created_at="2026-11-29T00:00:00Z")


def test_a_group_without_a_list_gets_one_upsert() -> None:
    (action,) = plan_for(SPEC, live=state()).actions
    assert action.id == "pricelistassignment/trade:setPriceList"
    assert action.type == "setPriceList"
    assert action.request == Request(
        "PUT", "/v3/pricelists/3/assignments", {"customer_group_id": 20, "channel_id": 1}
    )
    assert [(c.path, c.before, c.after) for c in action.changes] == [("priceListId", None, 3)]
    (effect,) = action.side_effects
    assert "customer group 20 is shared by 2 companies ('Co 1', 'Co 2')" in effect


def test_a_held_pair_is_deleted_by_id_then_upserted() -> None:
    """Right whether the upsert replaces (the delete is redundant) or is refused (it is
    needed): the plan deletes the held assignment by id first, and the upsert waits for it."""
    held = LivePriceListAssignment(41, 2, 20, 1)
    unassign, upsert = plan_for(SPEC, live=state(held)).actions
    assert unassign.request == Request("DELETE", "/v3/pricelists/assignments?id=41", None)
    assert unassign.type == upsert.type == "setPriceList"
    assert upsert.depends_on == (unassign.id,)
    assert [(c.path, c.before, c.after) for c in upsert.changes] == [("priceListId", 2, 3)]
    assert "no price list on channel 1" in unassign.side_effects[0]
    assert plan_for(SPEC, live=state(LivePriceListAssignment(41, 3, 20, 1))).empty
    # a list of another channel, or of the group on every channel, is not this pair
    other = (LivePriceListAssignment(5, 2, 20, 2), LivePriceListAssignment(6, 2, 20, None))
    (only,) = plan_for(SPEC, live=state(*other)).actions
    assert only.request.method == "PUT"


def test_requests_helper_is_what_the_plan_sends() -> None:
    held = LivePriceListAssignment(41, 2, 20, 1)
    assert [r.method for r in assignment_requests(3, 20, 1, held)] == ["DELETE", "PUT"]
    assert assignment_requests(2, 20, 1, held) == ()


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        (replace(SPEC, price_list_id=9), "spec.priceListId: price list 9 does not exist"),
        (replace(SPEC, customer_group_id=77), "spec.customerGroupId: customer group 77"),
        (replace(SPEC, channel_id=5), "spec.channelId: channel 5 does not exist"),
    ],
)
def test_missing_objects_are_plan_errors(spec: PriceListAssignmentSpec, needle: str) -> None:
    with pytest.raises(PlanError) as caught:
        plan_for(spec, live=state(channels=frozenset({1, 2})))
    assert needle in caught.value.issues[0].message


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_validate_refuses_dependent_stores_and_repeated_pairs(tmp_path: Path) -> None:
    doc = (
        "apiVersion: b2b.reconciler/v1\nkind: PriceListAssignment\nmetadata: {name: %s}\n"
        "spec: {customerGroupId: 20, priceListId: 3%s}\n"
    )
    store = (
        "apiVersion: b2b.reconciler/v1\nkind: Store\nmetadata: {name: s}\n"
        "spec: {storeHash: s1, companiesBehavior: %s}\n"
    )
    text = "---\n".join([store % "independent", doc % ("a", ""), doc % ("b", ", channelId: 1")])
    (tmp_path / "m.yaml").write_text(text)
    code, out = run("validate", str(tmp_path))
    assert code == 1
    assert "pricelistassignment/b: spec.customerGroupId: customer group 20 on channel 1" in out
    (tmp_path / "m.yaml").write_text("---\n".join([store % "dependent", doc % ("a", "")]))
    code, out = run("validate", str(tmp_path))
    assert code == 1
    assert "PriceListAssignment is for stores with companiesBehavior: independent" in out


@pytest.mark.parametrize("refused", [False, True])
def test_the_example_converges_under_both_upsert_readings(tmp_path: Path, refused: bool) -> None:
    seed = yaml.safe_load((ROOT / "sandbox-seed.yaml").read_text())
    seed["quirks"] = {"priceListUpsertRefused": refused}
    (tmp_path / "seed.yaml").write_text(yaml.safe_dump(seed))
    db = str(tmp_path / "s.db")
    assert run("sandbox", "init", "--db", db, "--seed", str(tmp_path / "seed.yaml"))[0] == 0
    assert run("--sandbox", db, "apply", str(ROOT), "--auto-approve")[0] == 0
    assert run("--sandbox", db, "plan", str(ROOT), "--detailed-exitcode")[0] == 0
    with Sandbox(db=db) as sb:
        pairs = {
            (a["customerGroupId"], a["channelId"]): a["priceListId"]
            for a in sb.dump()["priceListAssignments"]
        }
    assert pairs == {(20, 1): 3, (21, 1): 2, (22, 1): 4}


def test_an_assignment_changed_since_planning_makes_the_plan_stale() -> None:
    from reconciler.api import ApiClient, ApiSettings, Secret
    from reconciler.executor import apply_plan
    from reconciler.live import read_live
    from reconciler.manifests import load

    seed = yaml.safe_load((ROOT / "sandbox-seed.yaml").read_text())
    with Sandbox(db=":memory:", seed=seed) as sb:
        settings = ApiSettings(
            store_hash=sb.store_hash,
            token=Secret("tok"),
            b2b_url="http://localhost/api/v3/io",
            core_url="http://localhost",
        )
        with ApiClient.open(settings, sb.transport(), sleep=lambda _s: None) as api:
            found = load([ROOT])
            plan = build_plan(found, read_live(api, found), created_at="2026-11-29T00:00:00Z")
            sb.load_seed(
                {
                    "priceListAssignments": [
                        {"priceListId": 1, "customerGroupId": 20, "channelId": 1}
                    ]
                }
            )
            sb.clear_log()
            report = apply_plan(api, plan)
        assert report.refused is not None
        assert "price-list assignments of customer group 20 changed" in report.refused
        assert {e.method for e in sb.request_log} == {"GET"}
