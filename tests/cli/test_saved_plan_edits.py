"""A saved plan is only what the manifests produce (issue 12 item 1, issue 13 item 1).

A plan file is JSON that anyone between ``plan --out`` and ``apply --plan`` can edit. Every edit
the issue lists is made to a real plan of the example store, and ``apply MANIFESTS --plan FILE``
must refuse it with exit 1 and no write (the sandbox's state is compared whole); a hypothesis
property edits random fields and asserts refusal with no write, or a plan identical to the saved
one. Planning options that a saved plan cannot honour are refused.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import main
from reconciler.planfile import load_plan, plan_to_json
from reconciler.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/store"
SEED = EXAMPLE / "sandbox-seed.yaml"
INDEPENDENT = ROOT / "tests/e2e/scenarios/independent"

Edit = Callable[[dict[str, Any]], None]


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def dump(path: str) -> dict[str, Any]:
    with Sandbox(db=path) as sb:
        state = sb.dump()
    state.pop("faults", None)
    return state


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A sandbox of the example store and the plan it gets (made once, copied per test)."""
    work = tmp_path_factory.mktemp("template")
    db = work / "store.db"
    assert run("sandbox", "init", "--db", str(db), "--seed", str(SEED))[0] == 0
    plan_file = work / "plan.json"
    assert run("--sandbox", str(db), "plan", str(EXAMPLE), "--out", str(plan_file))[0] == 0
    return db, json.loads(plan_file.read_text(encoding="utf-8"))


def fresh(template: tuple[Path, dict[str, Any]], where: Path) -> tuple[str, dict[str, Any]]:
    db, plan = template
    copy = where / "store.db"
    shutil.copyfile(db, copy)
    return str(copy), json.loads(json.dumps(plan))


def apply_edited(
    db: str, plan: dict[str, Any], where: Path, *paths: str
) -> tuple[int, str, dict[str, Any]]:
    plan_file = where / "edited.json"
    plan_file.write_text(json.dumps(plan, indent=2), encoding="utf-8")
    report = where / "report.json"
    code, _ = run(
        "--sandbox",
        db,
        "apply",
        *(paths or (str(EXAMPLE),)),
        "--plan",
        str(plan_file),
        "--auto-approve",
        "--report",
        str(report),
    )
    return code, str(plan_file), dump(db)


def action(plan: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(a for a in plan["actions"] if a["id"].startswith(prefix))


def _recount(plan: dict[str, Any]) -> None:
    """Keep the summary consistent with the actions, as a careful attacker would."""
    counts = {
        k: 0 for k in plan["summary"] if k not in ("total", "apiRequests", "estimatedSeconds")
    }
    for a in plan["actions"]:
        counts[a["type"]] += 1
    plan["summary"].update(counts, total=len(plan["actions"]))


def path_to_unmanaged(plan: dict[str, Any]) -> None:
    action(plan, "company/northwind-supply:update")["request"]["path"] = "/companies/1020"


def appended_put(plan: dict[str, Any]) -> None:
    plan["actions"].append(
        {
            "id": "company/pwned:update",
            "type": "update",
            "resource": "company/pwned",
            "dependsOn": [],
            "request": {
                "method": "PUT",
                "path": "/companies/1021",
                "body": {"companyName": "PWNED"},
            },
            "changes": [{"path": "companyName", "before": "Pinecrest Florists", "after": "PWNED"}],
            "irreversible": False,
            "sideEffects": [],
            "target": {"companyId": 1021, "customerGroupId": 21},
        }
    )
    _recount(plan)


def reassign_unmanaged_customer(plan: dict[str, Any]) -> None:
    plan["actions"].append(
        {
            "id": "orderassignment/northwind:reassign:430",
            "type": "reassign",
            "resource": "orderassignment/northwind",
            "dependsOn": [],
            "request": {
                "method": "PUT",
                "path": "/customers/430/orders/company",
                "body": {"bcGroupId": 11},
            },
            "changes": [],
            "irreversible": False,
            "sideEffects": [],
            "target": {"customerId": 430, "customerGroupId": 11, "company": "company/northwind"},
        }
    )
    _recount(plan)


def convert_unmanaged_group(plan: dict[str, Any]) -> None:
    plan["actions"].append(
        {
            "id": "company/vip:convert",
            "type": "convert",
            "resource": "company/vip",
            "dependsOn": [],
            "request": {
                "method": "POST",
                "path": "/customer-groups/30/companies",
                "body": {
                    "companyName": "VIP",
                    "companyEmail": "vip@mail.example",
                    "companyPhone": "555",
                    "country": "US",
                    "adminEmail": "vip.buyer@mail.example",
                    "adminPhoneNumber": "555",
                },
            },
            "changes": [],
            "irreversible": True,
            "sideEffects": [],
            "target": {"customerGroupId": 30},
        }
    )
    _recount(plan)


def body_and_after(plan: dict[str, Any]) -> None:
    update = action(plan, "company/northwind-supply:update")
    update["request"]["body"]["companyPhone"] = "PWNED"
    for change in update["changes"]:
        if change["path"] == "companyPhone":
            change["after"] = "PWNED"


ATTACKS: dict[str, Edit] = {
    "request path pointed at unmanaged company 1020": path_to_unmanaged,
    "appended PUT /companies/1021 PWNED": appended_put,
    "reassign of an unmanaged customer's orders": reassign_unmanaged_customer,
    "convert of an unmanaged group": convert_unmanaged_group,
    "body edited together with changes[].after": body_and_after,
}


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
def test_each_edit_of_the_issue_is_refused_with_no_write(
    attack: str,
    template: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db, plan = fresh(template, tmp_path)
    before = dump(db)
    ATTACKS[attack](plan)
    code, plan_file, after = apply_edited(db, plan, tmp_path)
    err = capsys.readouterr().err
    assert code == 1
    assert after == before, "an edited plan wrote to the store"
    assert f"plan file '{plan_file}' is not what the manifests at {EXAMPLE} produce" in err
    assert "nothing was sent" in err
    assert "actions[" in err, "the first difference is named"


def test_the_message_names_the_first_difference(
    template: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, plan = fresh(template, tmp_path)
    path_to_unmanaged(plan)
    index = next(
        i for i, a in enumerate(plan["actions"]) if a["id"] == "company/northwind-supply:update"
    )
    assert apply_edited(db, plan, tmp_path)[0] == 1
    err = capsys.readouterr().err
    assert (
        f"actions[{index}] (company/northwind-supply:update).request.path is '/companies/1020' "
        "in the file but '/companies/1001' from the manifests"
    ) in err


def test_an_edit_of_the_recorded_state_that_matches_the_actions_is_stale(
    template: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every place that says 1001 says 1021 (unmanaged): the plan rebuilds, the store does not
    agree."""
    db, plan = fresh(template, tmp_path)
    text = json.dumps(plan)
    assert "1021" not in text
    edited = json.loads(
        text.replace('"/companies/1001', '"/companies/1021')
        .replace('"companyId": 1001', '"companyId": 1021')
        .replace('"1001":', '"1021":')
        .replace("(1001)", "(1021)")
    )
    before = dump(db)
    code, plan_file, after = apply_edited(db, edited, tmp_path)
    err = capsys.readouterr().err
    assert code == 1
    assert after == before
    assert f"the saved plan '{plan_file}' is stale" in err
    assert "company 1001 ('Northwind Industrial Supply')" in err


def test_another_stores_plan_names_the_plan_file(
    template: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = fresh(template, tmp_path)
    other = tmp_path / "other.db"
    foreign = tmp_path / "foreign.json"
    assert (
        run("sandbox", "init", "--db", str(other), "--seed", str(INDEPENDENT / "seed.yaml"))[0] == 0
    )
    manifests = str(INDEPENDENT / "manifests")
    assert run("--sandbox", str(other), "plan", manifests, "--out", str(foreign))[0] == 0
    before = dump(db)
    code, _ = run("--sandbox", db, "apply", str(EXAMPLE), "--plan", str(foreign), "--auto-approve")
    err = capsys.readouterr().err
    assert code == 1
    assert f"plan file '{foreign}' was made for store 'indep1'" in err
    assert dump(db) == before
    # The same plan with its store.hash edited to this store's: refused, nothing written.
    plan = json.loads(foreign.read_text(encoding="utf-8"))
    plan["store"]["hash"] = before["store"]["hash"]
    code, plan_file, after = apply_edited(db, plan, tmp_path)
    assert code == 1
    assert after == before
    assert f"plan file '{plan_file}' is not what the manifests" in capsys.readouterr().err


def test_a_plan_from_other_manifests_is_refused(
    template: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, plan = fresh(template, tmp_path)
    other = tmp_path / "other"
    shutil.copytree(EXAMPLE, other)
    (other / "companies" / "summit-labs.yaml").unlink()
    before = dump(db)
    code, _, after = apply_edited(db, plan, tmp_path, str(other))
    err = capsys.readouterr().err
    assert code == 1
    assert after == before
    assert "company/summit-labs:convert" in err
    assert "the manifest digest differs" in err


def test_the_unedited_plan_applies(template: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    db, plan = fresh(template, tmp_path)
    code, _, _ = apply_edited(db, plan, tmp_path)
    assert code == 0
    assert run("--sandbox", db, "plan", str(EXAMPLE), "--detailed-exitcode")[0] == 0


def test_target_with_a_saved_plan_is_refused(
    template: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, plan = fresh(template, tmp_path)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    before = dump(db)
    argv = ["--sandbox", db, "apply", str(EXAMPLE), "--plan", str(plan_file), "--auto-approve"]
    assert run(*argv, "--target", "company/northwind-supply")[0] == 1
    assert "--target cannot be used with --plan" in capsys.readouterr().err
    assert dump(db) == before


def test_a_saved_plan_needs_the_manifests(
    template: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, plan = fresh(template, tmp_path)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    before = dump(db)
    assert run("--sandbox", db, "apply", "--plan", str(plan_file), "--auto-approve")[0] == 1
    assert "apply --plan needs the manifests the plan was made from" in capsys.readouterr().err
    assert dump(db) == before


# --------------------------------------------------------------------------- random edits


def _leaves(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*at, k))] or [at]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*at, i))] or [at]
    return [at]


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def _calls(plan_json: dict[str, Any]) -> dict[str, Any]:
    """What decides the requests apply sends: the store, the actions (requests, bodies,
    dependencies, changes, targets) and the preconditions apply checks. An edit of the recorded
    state that leaves all of these as the manifests produce them (say, the label of an extra
    field, or an order the plan does not touch) makes apply send the very same calls."""
    return {key: plan_json[key] for key in ("store", "targets", "actions", "preconditions")}


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=5000),
    st.sampled_from(["", "PWNED", "/companies/1020", "company/acme", "approved", "1001"]),
    st.lists(st.integers(min_value=0, max_value=2000), max_size=2),
)


EDITS = int(os.environ.get("PLAN_EDITS", "0") or 0) or 40
"""Random edits per run; ``PLAN_EDITS=300 pytest tests/cli/test_saved_plan_edits.py -s`` prints
how they ended."""
TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _print_tally() -> Iterator[None]:
    yield
    if TALLY:
        print("\nrandom plan edits:", dict(sorted(TALLY.items())))  # shown with -s


@settings(
    max_examples=EDITS,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_edits_are_refused_with_no_write_or_change_nothing(
    data: st.DataObject,
    template: tuple[Path, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    where = tmp_path_factory.mktemp("edit")
    db, plan = fresh(template, where)
    original = _calls(plan_to_json(load_plan(_write(where / "original.json", plan))))
    paths = _leaves(plan)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3), label="edits")):
        path = data.draw(st.sampled_from(paths), label="field")
        _set(plan, path, data.draw(VALUES, label="value"))
    before = dump(db)
    code, plan_file, after = apply_edited(db, plan, where)
    if code == 0:  # accepted: it must make the very calls of the plan the manifests produce
        assert _calls(plan_to_json(load_plan(plan_file))) == original
        TALLY["accepted, the same calls"] += 1
    else:
        assert code == 1
        assert after == before, "a refused plan wrote to the store"
        TALLY["refused, no write"] += 1


def _write(path: Path, plan: dict[str, Any]) -> Path:
    path.write_text(json.dumps(plan), encoding="utf-8")
    return path
