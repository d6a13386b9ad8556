"""The schema check compiled to one function answers exactly as the closures it replaced did
(`reference_schemacheck`, e615e0c's code): the same schemas compile, and every value gets the
same answer, on generated schemas and values (invalid ones most of all) and on the kinds'
schemas with mutated documents. Where it says "certainly valid", the full validator agrees."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import manifests
from reconciler.schemacheck import compile_check
from tests.manifests import reference_schemacheck as reference
from tests.manifests.test_schemacheck import DOCS, KINDS, VALUES, _mutate, full_is_valid

REGEX = manifests._regex
TYPE_NAMES = ["string", "integer", "number", "boolean", "object", "array", "null"]
PATTERNS = [manifests.NAME_PATTERN, manifests.DIGITS_PATTERN, "^a", "b$", "x", "^[a-z]*$"]
LITERALS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.sampled_from(["", "a", "b", "1", "dependent"]),
)
KEYS = st.sampled_from(["a", "b", "c", "name", "", "1"])
BOUNDS = st.one_of(st.integers(min_value=-2, max_value=5), st.floats(-2, 5), st.just(True))


KEYWORDS: dict[str, Any] = {
    "type": st.sampled_from(TYPE_NAMES)
    | st.lists(st.sampled_from(TYPE_NAMES), min_size=1, max_size=3)
    | st.just("decimal"),
    "enum": st.lists(LITERALS, max_size=4) | st.just([1.5]),
    "const": LITERALS,
    "minLength": st.integers(min_value=-1, max_value=3) | st.just(True) | st.just(1.5),
    "maxLength": st.integers(min_value=0, max_value=4),
    "pattern": st.sampled_from(PATTERNS),
    "minimum": BOUNDS,
    "maximum": BOUNDS | st.just("5"),
    "minItems": st.integers(min_value=-1, max_value=3) | st.just(1.5),
    "uniqueItems": st.booleans() | st.just(1),
    "required": st.lists(KEYS, max_size=3) | st.just([1]),
    "description": st.text(max_size=3),
    "format": st.just("email"),
    "$ref": st.just("#/x"),
}
NESTED = ("items", "properties", "additionalProperties", "propertyNames")


@st.composite
def schemas(draw: st.DrawFn, depth: int = 0) -> Any:
    """A schema of a few keywords (the check's and now and then one it does not know), nested
    at most four deep."""
    if depth >= 4 or (depth and draw(st.integers(0, 2)) == 0):
        return draw(st.booleans() | st.just({}))
    names = draw(st.lists(st.sampled_from([*KEYWORDS, *NESTED]), max_size=4, unique=True))
    schema: dict[str, Any] = {}
    for name in names:
        if name == "properties":
            schema[name] = draw(st.dictionaries(KEYS, schemas(depth + 1), max_size=3))
        elif name in NESTED:
            schema[name] = draw(schemas(depth + 1))
        else:
            schema[name] = draw(KEYWORDS[name])
    return schema


STRINGS = st.sampled_from(["", "a", "ab", "abc", "abcd", "a-b", "1", "12", "x\n", "A", "b"])


@st.composite
def near(draw: st.DrawFn, schema: Any, depth: int = 0) -> Any:
    """A value made for the schema: valid or nearly (one bound, literal or field off), where a
    difference in the checks shows."""
    if not isinstance(schema, dict) or depth > 5 or draw(st.integers(0, 9)) == 0:
        return draw(PYTHON_VALUES)
    literals = [*schema.get("enum", []), *([schema["const"]] if "const" in schema else [])]
    if literals and draw(st.booleans()):
        return draw(st.sampled_from(literals))
    types = schema.get("type", TYPE_NAMES)
    kind = draw(st.sampled_from(types if isinstance(types, list) else [types]))
    if kind == "string":
        return draw(STRINGS)
    if kind in ("integer", "number"):
        bound = draw(st.sampled_from([schema.get("minimum"), schema.get("maximum"), 0]))
        bound = bound if type(bound) in (int, float) else 0
        return draw(st.sampled_from([bound, bound - 1, bound + 1, bound + 0.5, float(bound)]))
    if kind == "array":
        items = schema.get("items", True)
        made = draw(st.lists(near(items, depth + 1), max_size=3))
        if made and draw(st.booleans()):
            made.append(made[0])
        return made
    if kind == "object":
        out = {}
        properties = schema.get("properties")
        for key, sub in properties.items() if isinstance(properties, dict) else ():
            if draw(st.integers(0, 4)):
                out[key] = draw(near(sub, depth + 1))
        if draw(st.booleans()):
            extra = schema.get("additionalProperties", True)
            out[draw(KEYS | STRINGS)] = draw(near(extra, depth + 1))
        return out
    return draw(LITERALS)


PYTHON_VALUES = st.recursive(
    VALUES | st.sampled_from([math.inf, -0.0, 1.0, (1,), frozenset(), b"a"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.one_of(KEYS, st.integers(0, 2), st.booleans()), inner, max_size=4)
    ),
    max_leaves=8,
)
"""Values YAML gives (scalars, lists, mappings with any scalar keys) and a few it never does."""


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_generated_schemas_and_values_are_answered_as_before(data: st.DataObject) -> None:
    schema = data.draw(schemas(), label="schema")
    before = reference.compile_check(schema, REGEX)
    after = compile_check(schema, REGEX)
    assert (after is None) == (before is None)
    if after is None or before is None:
        return
    values = data.draw(st.lists(near(schema), min_size=1, max_size=8), label="values")
    for value in values:
        answer = after(value)
        assert answer is before(value), value
        if answer and isinstance(schema, dict):
            assert full_is_valid(schema, value)


CORNERS: list[tuple[Any, Any]] = [
    # additionalProperties: false alone is one test of the keys; with propertyNames, a loop
    ({"additionalProperties": False, "properties": {"a": {}}, "propertyNames": False}, {"a": 1}),
    ({"additionalProperties": False, "properties": {"a": {}}}, {"a": 1, "b": 2}),
    ({"type": "string", "enum": [1, "a"]}, 1),  # a literal of a type not allowed never passes
    ({"type": ["string", "integer"], "const": "a"}, "a"),
    ({"enum": []}, None),
    ({"type": "integer", "minimum": 0.5}, 0),
    ({"type": "array", "uniqueItems": True, "items": {"type": "integer"}}, [1, 2, 1]),
    ({"required": ["a", "a"]}, {"a": 1}),
    ({"properties": {"a": {"type": "array", "items": {"required": ["b"]}}}}, {"a": [{}, 1]}),
]


@pytest.mark.parametrize(("schema", "value"), CORNERS)
def test_corners_are_answered_as_before(schema: Any, value: Any) -> None:
    after = compile_check(schema, REGEX)
    assert after is not None
    assert after(value) is reference.compile_check(schema, REGEX)(value)


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_mutated_documents_are_answered_as_before(data: st.DataObject) -> None:
    original = data.draw(st.sampled_from(DOCS))
    doc = data.draw(st.sampled_from([original, _mutate(original, data)]))
    kind = data.draw(st.sampled_from([original["kind"]] * 3 + list(KINDS)))
    for schema in (manifests.schema_for(kind), manifests._schema_of(None)):
        before = reference.compile_check(schema, REGEX)
        after = compile_check(schema, REGEX)
        assert before is not None
        assert after is not None
        assert after(doc) is before(doc)


def _nested_lists(depth: int) -> tuple[dict[str, Any], Any]:
    schema: dict[str, Any] = {"type": "integer"}
    value: Any = 1
    for _ in range(depth):
        schema, value = {"type": "array", "items": schema}, [value]
    return schema, value


def test_a_schema_nested_past_what_python_compiles_gets_no_fast_check() -> None:
    """Nested lists are loops nested in the check's source, and Python compiles only so many
    nested blocks (20 loops in a function on 3.11 and 3.12, 21 on 3.13): up to that depth the
    fast check is right, past it there is none (the full validator decides, as for any schema
    the check does not know)."""
    depths = range(1, 65)
    deepest = max(d for d in depths if compile_check(_nested_lists(d)[0], REGEX) is not None)
    assert 20 <= deepest < 64  # far deeper than any manifest schema, and bounded
    schema, value = _nested_lists(deepest)
    check = compile_check(schema, REGEX)
    assert check is not None
    assert check(value)
    assert not check([[value]])
    deeper, value = _nested_lists(deepest + 1)
    assert compile_check(deeper, REGEX) is None
    assert reference.compile_check(deeper, REGEX) is not None
    assert full_is_valid(deeper, value)


def test_the_source_holds_no_value_of_the_schema() -> None:
    """A property name or a literal is passed to the function, never written into its code."""
    hostile = "'); import os; os._exit(1); ('"
    schema = {
        "type": "object",
        "required": [hostile],
        "properties": {hostile: {"const": hostile, "pattern": "^'"}},
    }
    check = compile_check(schema, REGEX)
    assert check is not None
    assert check({hostile: hostile})
    assert not check({hostile: "x"})
    assert not check({})
