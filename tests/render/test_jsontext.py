"""``jsontext.dumps_indented`` writes the text of ``json.dumps(indent=2, ensure_ascii=False,
allow_nan=False)``, byte for byte, and refuses what it refuses; ``iter_indented`` writes the same
text in chunks that split no line, making ``Lazy`` items only as it writes them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.jsontext import Lazy, dumps_indented, iter_indented


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


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(values, st.integers(min_value=1, max_value=40))
def test_the_chunks_join_to_the_same_text_and_split_no_line(value: Any, size: int) -> None:
    chunks = list(iter_indented(value, size))
    assert "".join(chunks) == reference(value)
    assert all(chunks)
    # every chunk but the first begins with a newline: no line (so no string) is split
    assert all(chunk.startswith("\n") for chunk in chunks[1:])


def test_a_large_document_comes_in_many_chunks_of_about_the_size() -> None:
    # the document's own values are written an item at a time (deeper lists only when Lazy)
    value = {"companies": [{"id": i, "name": f"c{i}"} for i in range(3000)]}
    chunks = list(iter_indented(value, 1000))
    assert "".join(chunks) == reference(value)
    assert len(chunks) > 50
    assert max(len(c) for c in chunks) < 1100  # never the whole text at once


def test_lazy_items_are_made_only_as_they_are_written() -> None:
    made: list[int] = []

    def make(i: int) -> dict[str, int]:
        made.append(i)
        return {"id": i, "double": 2 * i}

    value = {"head": 1, "items": Lazy(range(1000), make), "empty": Lazy([], make), "tail": []}
    chunks = iter_indented(value, 200)
    first = next(chunks)
    assert first.startswith('{\n  "head": 1,')
    assert 0 < len(made) < 20  # the first chunk made only the items it holds
    rest = "".join(chunks)
    expected = {**value, "items": [make(i) for i in range(1000)], "empty": []}
    assert first + rest == reference(expected)
    assert dumps_indented(value) == reference(expected)  # also encoded as a list whole


def test_iter_indented_refuses_what_json_dumps_refuses() -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        "".join(iter_indented({"a": [1, 2], "b": Lazy([1.0, float("nan")], float)}))
    with pytest.raises(TypeError, match="not JSON serializable"):
        "".join(iter_indented([{1}]))
