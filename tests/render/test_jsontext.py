"""``jsontext.dumps_indented`` writes the text of ``json.dumps(indent=2, ensure_ascii=False,
allow_nan=False)``, byte for byte, and refuses what it refuses; ``iter_indented`` writes the same
text in chunks that split no line, making ``Lazy`` items only as it writes them."""

from __future__ import annotations

import enum
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.jsontext import Lazy, _fast, compact, dumps_indented, iter_indented


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


# -- the orjson path (``_fast``): the same text for every value, or the standard library decides


class Text(str):
    pass


class Number(int):
    pass


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


# every character, lone surrogates included, and the escapes where encoders tend to differ
characters = st.characters(exclude_categories=()) | st.sampled_from(
    ["\x00", "\x1f", "\x7f", "\x80", "\u2028", "\u2029", "\ufeff", '"', "\\", "/", "\n", "\t"]
)
strings = st.text(characters, max_size=8)
awkward_floats = st.sampled_from(
    [1e16, 1e15, 1e-5, 1e-4, 1e22, -0.0, 0.0, 5e-324, 1.7976931348623157e308, 0.1, 1.5]
)
wide_ints = st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30])
good_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | wide_ints
    | finite
    | awkward_floats
    | strings
    | strings.map(Text)
    | st.integers().map(Number)
    | st.just(Level.HIGH)
)
bad_scalars = st.sampled_from(
    [float("nan"), float("inf"), -float("inf"), Colour.RED, uuid.UUID(int=1), b"x", {1}]
)
good_keys = strings | strings.map(Text) | st.integers() | st.booleans() | st.none() | finite
bad_keys = st.sampled_from([(1,), float("nan"), frozenset()])


def trees(scalars: st.SearchStrategy[Any], keys: st.SearchStrategy[Any]) -> Any:
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=5)
            | st.lists(inner, max_size=5).map(tuple)
            | st.lists(inner, max_size=5).map(lambda items: Lazy(items, lambda item: item))
            | st.dictionaries(keys, inner, max_size=5)
        ),
        max_leaves=40,
    )


def materialized(value: Any) -> Any:
    """``value`` with every ``Lazy`` made a list (what ``json.dumps`` can be given)."""
    if isinstance(value, Lazy):
        return [materialized(item) for item in value]
    if type(value) is dict:
        return {key: materialized(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(materialized(item) for item in value)
    return value


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(trees(good_scalars, good_keys), st.integers(min_value=1, max_value=200))
def test_every_value_is_written_as_json_dumps_writes_it(value: Any, size: int) -> None:
    expected = reference(materialized(value))
    assert dumps_indented(value) == expected
    chunks = list(iter_indented(value, size))
    assert "".join(chunks) == expected
    assert all(chunk.startswith("\n") for chunk in chunks[1:])


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(trees(good_scalars | bad_scalars, good_keys | bad_keys))
def test_a_bad_value_anywhere_is_refused_as_json_dumps_refuses_it(value: Any) -> None:
    try:
        expected = reference(materialized(value))
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            dumps_indented(value)
        with pytest.raises(type(exc)):
            "".join(iter_indented(value, 50))
    else:
        assert dumps_indented(value) == expected
        assert "".join(iter_indented(value, 50)) == expected


@pytest.mark.parametrize(
    "value",
    [
        [1e-5],  # orjson writes 0.00001, json.dumps 1e-05
        {"a": float("nan")},  # orjson writes null, json.dumps refuses it
        [Colour.RED],  # orjson writes "red", json.dumps refuses it
        {"id": uuid.UUID(int=1)},  # orjson writes the UUID, json.dumps refuses it
        [Text("x")],
        [Number(3)],
        {Text("k"): 1},
        {1: "one"},
        ["\ud800"],
        [2**64],
        [[[1]], Lazy([1], int)],
    ],
)
def test_orjson_is_not_trusted_where_its_text_may_differ(value: Any) -> None:
    assert _fast(value) is None


def test_orjson_writes_plain_containers() -> None:
    # the fast path is taken for what plans are made of (else the tests above prove nothing)
    value = [{"id": 1, "name": "é\u2028\x1f\x7f", "tags": ("a", None, True), "more": {}}, []]
    fast = _fast(value)
    assert fast is not None
    assert fast.decode() == reference(value)


def test_the_streamed_levels_stay_streamed_where_orjson_could_write_them_whole() -> None:
    value = [{f"key{i}": i for i in range(300)}, Lazy(range(300), lambda i: {"n": i})]
    chunks = list(iter_indented(value, 200))
    assert "".join(chunks) == reference([value[0], [{"n": i} for i in range(300)]])
    assert max(len(c) for c in chunks) < 300  # the dict of the top list, an item at a time


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(trees(good_scalars | bad_scalars, good_keys | bad_keys))
def test_compact_is_json_dumps_compact(value: Any) -> None:
    # the snapshot's form: NaN allowed (json.dumps's default there), anything else as refused
    plain = materialized(value)
    try:
        expected = json.dumps(plain, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            compact(plain)
    else:
        assert compact(plain) == expected


def test_compact_takes_orjson_for_plain_containers() -> None:
    value = {"a": ["é\u2028", None, True, 2**63], "b": {}}
    assert _fast(value, 0) is not None
    assert compact(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_deep_nesting_is_written_as_deep_as_before() -> None:
    # one _encode call a level (orjson refuses the float, so every level is made in Python)
    value: Any = [1.5]
    for _ in range(400):
        value = [value]
    assert dumps_indented(value) == reference(value)
