"""The compiled schema check never calls a document valid that the full validator would refuse,
and it does accept the valid documents it is there to speed up.

"The full validator" is the jsonschema validator `reconciler.manifests` checks documents with
(Draft 2020-12, ``integer`` without floats, ECMA-262 ``$``).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import manifests, yamlload
from reconciler.schemacheck import compile_check

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [ROOT / "examples" / "store", ROOT / "examples" / "independent-store"]
KINDS = manifests.kind_names()


def _docs() -> list[dict[str, Any]]:
    docs = []
    for folder in EXAMPLES:
        for file in sorted(folder.rglob("*.yaml")):
            if "seed" not in file.name:
                docs += [d.value for d in yamlload.load_path(file, str(file)).documents]
    return docs


DOCS = _docs()


def full_is_valid(schema: Any, value: Any) -> bool:
    return bool(manifests._Validator(schema).is_valid(value))


def fast(schema: Any) -> Any:
    check = compile_check(schema, manifests._regex)
    assert check is not None, "the manifest schemas use only keywords the check compiles"
    return check


def test_every_kind_schema_compiles_and_accepts_the_examples() -> None:
    """The fast path is taken: every valid example document is accepted without jsonschema."""
    kinds_seen = set()
    for doc in DOCS:
        kind = doc["kind"]
        kinds_seen.add(kind)
        schema = manifests.schema_for(kind)
        assert full_is_valid(schema, doc)
        assert fast(schema)(doc), doc["metadata"]["name"]
    assert kinds_seen == set(KINDS)


def test_schemas_with_other_keywords_get_no_fast_check() -> None:
    regex = manifests._regex
    assert compile_check({"type": "object", "oneOf": [{}]}, regex) is None
    assert compile_check({"properties": {"a": {"$ref": "#/x"}}}, regex) is None
    assert compile_check({"prefixItems": [{}]}, regex) is None
    assert compile_check({"enum": [1.5]}, regex) is None  # float equality: not compiled
    assert compile_check({"type": "decimal"}, regex) is None
    assert compile_check({"type": "string", "title": "t", "format": "email"}, regex) is not None


SCHEMA_CASES: list[tuple[dict[str, Any], Any, bool]] = [
    ({"type": "integer"}, 12, True),
    ({"type": "integer"}, 12.0, False),  # ours: 12.0 is not an integer
    ({"type": "integer"}, True, False),
    ({"type": "number"}, True, False),
    ({"type": "number"}, math.nan, True),
    ({"type": ["string", "null"]}, None, True),
    ({"type": "number", "minimum": 1}, math.nan, True),  # jsonschema: nan < 1 is false
    ({"type": "number", "minimum": 1}, 0.5, False),
    ({"type": "integer", "maximum": 5}, 6, False),
    ({"type": "string", "pattern": "^[a-z]+$"}, "abc\n", False),  # ECMA-262 $
    ({"type": "string", "pattern": "^[a-z]+$"}, "abc", True),
    ({"type": "string", "minLength": 1, "maxLength": 3}, "", False),
    ({"type": "string", "minLength": 1, "maxLength": 3}, "abcd", False),
    ({"type": "string", "minLength": 1, "maxLength": 3}, "\U0001f600", True),
    ({"enum": ["a", "b"]}, "a", True),
    ({"enum": ["a", "b"]}, "c", False),
    ({"enum": [1, "a"]}, True, False),
    ({"enum": [1]}, 1.0, False),  # jsonschema says equal: the fast check is not sure
    ({"const": False}, 0, False),
    ({"const": "x"}, ["x"], False),
    ({"type": "array", "uniqueItems": True}, [1, 1.0], False),
    ({"type": "array", "uniqueItems": True}, [1, True], False),
    ({"type": "array", "uniqueItems": True}, [1, 2], True),
    ({"type": "array", "uniqueItems": True}, ["a", "a"], False),
    ({"type": "array", "minItems": 1, "items": {"type": "integer"}}, [], False),
    ({"type": "array", "items": {"type": "integer"}}, [1, "2"], False),
    ({"items": {"type": "integer"}}, "not a list", True),
    ({"type": "object", "required": ["a"]}, {}, False),
    ({"required": ["a"]}, [], True),
    ({"type": "object", "additionalProperties": False, "properties": {"a": {}}}, {"b": 1}, False),
    ({"type": "object", "additionalProperties": {"type": "string"}}, {"b": 1}, False),
    ({"type": "object", "additionalProperties": {"type": "string"}}, {"b": "1"}, True),
    ({"type": "object", "propertyNames": {"maxLength": 2}}, {"abc": 1}, False),
    ({"properties": {"a": False}}, {"a": 1}, False),
    ({"properties": {"a": True}}, {"a": 1}, True),
]


@pytest.mark.parametrize(("schema", "value", "expected"), SCHEMA_CASES)
def test_fast_check_agrees_where_it_is_sure(
    schema: dict[str, Any], value: Any, expected: bool
) -> None:
    result = fast(schema)(value)
    assert result is expected
    if result:
        assert full_is_valid(schema, value)


# --------------------------------------------------------------------------- mutated documents

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "x\n", "dependent", "approved", "admin", "12", "a@b.example", "-", "A"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*path, index))
    return out


def _mutate(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(doc)[1:]
        path = data.draw(st.sampled_from(paths))
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        action = data.draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if action == "replace":
            parent[path[-1]] = data.draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=8))] = data.draw(VALUES)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
    return doc


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_mutated_documents_are_never_wrongly_accepted(data: st.DataObject) -> None:
    original = data.draw(st.sampled_from(DOCS))
    doc = _mutate(original, data)
    kind = data.draw(st.sampled_from([original["kind"]] * 3 + list(KINDS)))
    schema = manifests.schema_for(kind)
    if fast(schema)(doc):
        assert full_is_valid(schema, doc)
