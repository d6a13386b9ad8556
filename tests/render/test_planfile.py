"""Plan JSON: the contract's shape, strict reading, exact round trips, saved files."""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import PlanFileError
from reconciler.kinds import action_types, api_requests, estimated_seconds
from reconciler.model import (
    Action,
    FieldChange,
    Plan,
    Preconditions,
    Request,
    StoreInfo,
)
from reconciler.planfile import (
    dump_plan,
    load_plan,
    loads_plan,
    plan_from_json,
    plan_to_json,
    save_plan,
)
from reconciler.render import render_plan_json

TOP_KEYS = {
    "formatVersion",
    "createdAt",
    "store",
    "manifestDigest",
    "summary",
    "actions",
    "unmanaged",
    "warnings",
}
ACTION_TYPES = action_types()
SUMMARY_KEYS = {*ACTION_TYPES, "total", "apiRequests", "estimatedSeconds"}
ACTION_KEYS = {
    "id",
    "type",
    "resource",
    "dependsOn",
    "request",
    "changes",
    "irreversible",
    "sideEffects",
}


# --------------------------------------------------------------------------- the shape


def test_plan_json_has_the_contract_shape(plans: SimpleNamespace) -> None:
    plan = plans.full()
    data = plan_to_json(plan)
    assert set(data) >= TOP_KEYS
    assert set(data) - TOP_KEYS <= {"preconditions", "managedObjects", "targets"}
    assert data["formatVersion"] == 1
    assert data["createdAt"] == "2026-11-22T10:00:00Z"
    assert {"hash", "companiesBehavior", "multiStorefront"} <= set(data["store"])
    assert data["store"]["hash"] == "abc123"
    assert data["store"]["companiesBehavior"] == "dependent"
    assert data["store"]["multiStorefront"] is False
    assert data["manifestDigest"].startswith("sha256:")
    assert set(data["summary"]) == SUMMARY_KEYS
    for kind in ACTION_TYPES:
        assert data["summary"][kind] == 1
    assert data["summary"]["total"] == 11
    assert data["summary"]["apiRequests"] == api_requests(plan)
    assert data["summary"]["estimatedSeconds"] == estimated_seconds(plan)
    assert data["unmanaged"] == {"companies": 4}
    assert data["warnings"] == []
    for action in data["actions"]:
        assert set(action) - {"target"} == ACTION_KEYS
        assert set(action["request"]) == {"method", "path", "body"}
        for change in action["changes"]:
            assert set(change) == {"path", "before", "after"}


def test_contract_example_action(plans: SimpleNamespace) -> None:
    action = plan_to_json(plans.three())["actions"][0]
    assert action["id"] == "company/acme:convert"
    assert action["type"] == "convert"
    assert action["resource"] == "company/acme"
    assert action["dependsOn"] == []
    assert action["request"]["method"] == "POST"
    assert action["request"]["path"] == "/customer-groups/12/companies"
    assert action["request"]["body"]["companyName"] == "Acme"
    assert action["changes"][0] == {"path": "companyName", "before": None, "after": "Acme"}
    assert action["irreversible"] is True
    assert action["sideEffects"] == ["customer group 12 becomes the company's group, one to one"]


def test_summary_counts_zeros_too(plans: SimpleNamespace) -> None:
    summary = plan_to_json(plans.empty())["summary"]
    expected: dict[str, float] = dict.fromkeys(ACTION_TYPES, 0)
    assert summary == {
        **expected,
        "total": 0,
        "apiRequests": 0,
        "estimatedSeconds": 0.0,
    }


def test_preconditions_use_string_keys_sorted(plans: SimpleNamespace) -> None:
    plan = plans.full(
        preconditions=Preconditions(
            watermark=5, companies={20: 2, 3: 1}, customers={9: None, 1: 7}, orders={}
        )
    )
    pre = plan_to_json(plan)["preconditions"]
    assert pre == {
        "watermark": 5,
        "companies": {"3": 1, "20": 2},
        "freeGroups": [],
        "orders": {},
        "customers": {"1": 7, "9": None},
    }
    assert list(pre["companies"]) == ["3", "20"]
    assert plan_from_json(json.loads(json.dumps(plan_to_json(plan)))) == plan


def test_render_plan_json_matches_planfile(plans: SimpleNamespace) -> None:
    for plan in (plans.empty(), plans.three(), plans.full(targets=("company/acme",))):
        assert render_plan_json(plan) == json.dumps(plan_to_json(plan), indent=2)
        assert render_plan_json(plan) + "\n" == dump_plan(plan)
        assert json.loads(render_plan_json(plan)) == plan_to_json(plan)


def test_round_trip_of_hand_built_plans(plans: SimpleNamespace) -> None:
    for plan in (plans.empty(), plans.three(), plans.full(warnings=("w1", "w2"))):
        assert plan_from_json(plan_to_json(plan)) == plan
        assert loads_plan(dump_plan(plan)) == plan


# --------------------------------------------------------------------------- generated plans

_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
names = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
ids = st.integers(min_value=0, max_value=10**12)


@st.composite
def generated_plans(draw: st.DrawFn) -> Plan:
    count = draw(st.integers(min_value=0, max_value=6))
    actions: list[Action] = []
    for index in range(count):
        kind = draw(st.sampled_from(ACTION_TYPES))
        resource = f"{draw(st.sampled_from(('company', 'orderassignment', 'order')))}/{draw(names)}"
        earlier = [a.id for a in actions]
        actions.append(
            Action(
                id=f"{resource}:{kind}:{index}",
                type=kind,
                resource=resource,
                request=Request(
                    draw(st.sampled_from(("GET", "POST", "PUT"))),
                    "/" + draw(st.text(max_size=20)),
                    draw(json_values),
                ),
                depends_on=tuple(
                    draw(st.lists(st.sampled_from(earlier), unique=True, max_size=2))
                    if earlier
                    else ()
                ),
                changes=tuple(
                    draw(
                        st.lists(
                            st.builds(
                                FieldChange,
                                st.text(min_size=1, max_size=10),
                                json_values,
                                json_values,
                            ),
                            max_size=3,
                        )
                    )
                ),
                irreversible=draw(st.booleans()),
                side_effects=tuple(draw(st.lists(st.text(max_size=20), max_size=2))),
                customer_group_id=draw(st.none() | ids),
                company_id=draw(st.none() | ids),
                customer_id=draw(st.none() | ids),
                bc_order_id=draw(st.none() | ids),
                target_company=draw(st.none() | names.map(lambda n: f"company/{n}")),
            )
        )
    return Plan(
        created_at=draw(st.text(max_size=25)),
        store=StoreInfo(
            hash=draw(st.text(min_size=1, max_size=10)),
            companies_behavior=draw(st.sampled_from(("dependent", "independent"))),
            multi_storefront=draw(st.booleans()),
            requests_per_minute=draw(st.integers(min_value=1, max_value=150)),
            max_change_percent=draw(st.integers(min_value=0, max_value=100)),
        ),
        manifest_digest=draw(st.text(max_size=20)),
        actions=tuple(actions),
        preconditions=Preconditions(
            watermark=draw(st.integers(min_value=0, max_value=2**40)),
            companies=draw(st.dictionaries(ids, ids, max_size=3)),
            free_groups=tuple(draw(st.lists(ids, max_size=3))),
            orders=draw(st.dictionaries(ids, ids, max_size=3)),
            customers=draw(st.dictionaries(ids, st.none() | ids, max_size=3)),
        ),
        unmanaged_companies=draw(st.integers(min_value=0, max_value=1000)),
        managed_objects=draw(st.integers(min_value=0, max_value=1000)),
        warnings=tuple(draw(st.lists(st.text(max_size=20), max_size=2))),
        targets=tuple(draw(st.lists(names, max_size=2))),
    )


@settings(suppress_health_check=[HealthCheck.too_slow])  # shared, loaded CI machines
@given(generated_plans())
def test_round_trip_through_json_objects(plan: Plan) -> None:
    assert plan_from_json(plan_to_json(plan)) == plan


@settings(suppress_health_check=[HealthCheck.too_slow])  # shared, loaded CI machines
@given(generated_plans())
def test_render_json_is_the_plan_file_json(plan: Plan) -> None:
    assert render_plan_json(plan) + "\n" == dump_plan(plan)


@settings(suppress_health_check=[HealthCheck.too_slow])  # shared, loaded CI machines
@given(generated_plans())
def test_round_trip_through_text(plan: Plan) -> None:
    text = dump_plan(plan)
    assert loads_plan(text) == plan
    assert dump_plan(loads_plan(text)) == text  # stable bytes


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(generated_plans())
def test_round_trip_through_a_file(plan: Plan) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.json"
        save_plan(plan, path)
        assert load_plan(path) == plan
        assert os.listdir(tmp) == ["plan.json"]  # no temporary file left behind


# --------------------------------------------------------------------------- files


def test_save_writes_indented_json_and_replaces(plans: SimpleNamespace, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text("old content")
    save_plan(plans.three(), path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n  "formatVersion": 1,\n')
    assert text.endswith("}\n")
    assert json.loads(text) == plan_to_json(plans.three())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_save_into_missing_directory_names_the_file(plans: SimpleNamespace, tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "plan.json"
    with pytest.raises(PlanFileError, match=r"plan\.json.*cannot write"):
        save_plan(plans.three(), path)


def test_save_refuses_values_json_cannot_hold(plans: SimpleNamespace, tmp_path: Path) -> None:
    bad = Action(
        id="order/x:updateOrder",
        type="updateOrder",
        resource="order/x",
        request=Request("PUT", "/orders/1", {"n": float("nan")}),
    )
    with pytest.raises(PlanFileError, match="cannot be written"):
        save_plan(plans.empty(actions=(bad,)), tmp_path / "p.json")
    assert not (tmp_path / "p.json").exists()


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "saved.plan"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_load_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(PlanFileError, match=r"absent\.json.*not found"):
        load_plan(path)


def test_load_directory(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match=str(tmp_path.name)):
        load_plan(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("this is not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        ("[1, 2, 3]", "expected a JSON object, found a list"),
        ('"plan"', "found a string"),
        ("{}", "no formatVersion"),
        ('{"formatVersion": 2}', "version 2 is not supported"),
        ('{"formatVersion": "1"}', "formatVersion: expected an integer"),
        ('{"formatVersion": true}', "formatVersion: expected an integer"),
        ('{"formatVersion": 1, "formatVersion": 1}', "duplicate key"),
        ('{"formatVersion": NaN}', "NaN is not a JSON number"),
    ],
)
def test_load_garbage(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(PlanFileError) as caught:
        load_plan(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_load_truncated_json(plans: SimpleNamespace, tmp_path: Path) -> None:
    text = dump_plan(plans.three())
    path = _write(tmp_path, text[: len(text) // 2])
    with pytest.raises(PlanFileError) as caught:
        load_plan(path)
    assert str(path) in str(caught.value)
    assert "truncated" in str(caught.value)


def test_load_wrong_version_names_the_file(plans: SimpleNamespace, tmp_path: Path) -> None:
    data = plan_to_json(plans.three())
    data["formatVersion"] = 7
    path = _write(tmp_path, json.dumps(data))
    with pytest.raises(PlanFileError, match=r"saved\.plan.*version 7 is not supported"):
        load_plan(path)


def test_load_accepts_a_utf8_bom(plans: SimpleNamespace, tmp_path: Path) -> None:
    path = _write(tmp_path, "\ufeff" + dump_plan(plans.three()))
    assert load_plan(path) == plans.three()


# --------------------------------------------------------------------------- strictness


def _mutated(plans: SimpleNamespace, edit: Any) -> dict[str, Any]:
    data = copy.deepcopy(plan_to_json(plans.full()))
    edit(data)
    return data


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def edit(data: dict[str, Any]) -> None:
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _delete(path: tuple[Any, ...]) -> Any:
    def edit(data: dict[str, Any]) -> None:
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set(("extra",), 1), "unknown key 'extra'"),
        (_delete(("store",)), "missing key 'store'"),
        (_delete(("actions",)), "missing key 'actions'"),
        (_set(("store", "hash"), ""), "store.hash: must not be empty"),
        (_set(("store", "multiStorefront"), "no"), "store.multiStorefront: expected true or false"),
        (_set(("store", "requestsPerMinute"), 0), "store.requestsPerMinute: must be at least 1"),
        (_set(("createdAt",), 5), "createdAt: expected a string"),
        (_set(("actions",), {}), "actions: expected a list"),
        (_set(("actions", 0, "type"), "delete"), "actions[0].type: 'delete' is not one of"),
        (_set(("actions", 2, "request", "method"), "PATCH"), "actions[2].request.method"),
        (_set(("actions", 2, "request", "path"), "companies"), "does not start with '/'"),
        (_delete(("actions", 1, "request", "body")), "actions[1].request: missing key 'body'"),
        (_set(("actions", 1, "irreversible"), 0), "actions[1].irreversible: expected true"),
        (_set(("actions", 1, "resource"), "Company/Acme"), "not kind/name in lower case"),
        (_set(("actions", 1, "changes", 0, "extra"), 1), "changes[0]: unknown key 'extra'"),
        (_set(("actions", 0, "target", "customerGroupId"), "12"), "target.customerGroupId"),
        (_set(("actions", 0, "target", "owner"), 1), "target: unknown key 'owner'"),
        (_set(("actions", 1, "dependsOn"), ["company/nope:convert"]), "names no action"),
        (_set(("actions", 0, "dependsOn"), ["company/acme:update"]), "comes after"),
        (_set(("actions", 1, "id"), "company/acme:convert"), "duplicate action id"),
        (_set(("summary", "update"), 5), "summary.update: says 5 but the plan has 1"),
        (_set(("summary", "total"), 1), "summary.total: says 1"),
        (_delete(("summary", "apiRequests")), "summary: missing key 'apiRequests'"),
        (_set(("summary", "estimatedSeconds"), "fast"), "summary.estimatedSeconds"),
        (_set(("unmanaged",), {"companies": -1}), "unmanaged.companies: must be at least 0"),
        (_set(("warnings",), [1]), "warnings[0]: expected a string"),
        (_delete(("preconditions",)), "missing key 'preconditions'"),
        (_set(("preconditions", "companies"), {"x1": 1}), "key 'x1' is not a decimal id"),
        (_set(("preconditions", "companies"), {"01": 1}), "key '01' is not a decimal id"),
        (_set(("preconditions", "orders"), {"1": None}), "preconditions.orders.1: expected an"),
        (_set(("preconditions", "freeGroups"), [True]), "freeGroups[0]: expected an integer"),
        (_set(("preconditions", "watermark"), 1.5), "watermark: expected an integer"),
    ],
)
def test_strict_reading(plans: SimpleNamespace, edit: Any, message: str) -> None:
    data = _mutated(plans, edit)
    with pytest.raises(PlanFileError) as caught:
        plan_from_json(data)
    assert message in str(caught.value)


def test_optional_keys_default(plans: SimpleNamespace) -> None:
    data = plan_to_json(plans.three())
    for key in ("managedObjects", "targets"):
        del data[key]
    for key in ("requestsPerMinute", "maxChangePercent"):
        del data["store"][key]
    for action in data["actions"]:
        action.pop("target", None)
    plan = plan_from_json(data)
    assert plan.managed_objects == 0
    assert plan.targets == ()
    assert plan.store.requests_per_minute == 120
    assert plan.store.max_change_percent == 30
    assert plan.actions[0].customer_group_id is None


def test_not_a_plan_at_all() -> None:
    with pytest.raises(PlanFileError, match="not a plan"):
        plan_from_json(None)
    with pytest.raises(PlanFileError, match="not a plan"):
        plan_from_json({"hello": "world"})


@settings(suppress_health_check=[HealthCheck.too_slow])  # shared, loaded CI machines
@given(generated_plans())
def test_the_plan_file_text_is_json_dumps_indented_by_two(plan: Plan) -> None:
    expected = json.dumps(plan_to_json(plan), indent=2, ensure_ascii=False, allow_nan=False)
    assert dump_plan(plan) == expected + "\n"
