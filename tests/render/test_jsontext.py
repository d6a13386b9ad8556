"""``jsontext.dumps_indented`` writes the text of ``json.dumps(indent=2, ensure_ascii=False,
allow_nan=False)``, byte for byte, and refuses what it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.jsontext import dumps_indented


def reference(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)


finite = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | st.integers() | finite | st.text()
keys = st.text() | st.integers() | st.booleans() | st.none() | finite
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_the_same_text_as_json_dumps(value: Any) -> None:
    assert dumps_indented(value) == reference(value)


@pytest.mark.parametrize(
    "value",
    [float("nan"), [float("inf")], {"a": -float("inf")}, {float("nan"): 1}, {(1,): 2}, {1}, b"x"],
)
def test_refuses_what_json_dumps_refuses(value: Any) -> None:
    with pytest.raises((TypeError, ValueError)) as expected:
        reference(value)
    with pytest.raises(expected.type, match="^" + expected.value.args[0].replace("(", r"\(")):
        dumps_indented(value)
