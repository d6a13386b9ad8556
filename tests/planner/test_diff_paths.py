"""`diff.changes` names the fields deepdiff named, on any pair of projections.

deepdiff was `reconciler.diff`'s engine; it cost about 0.1 s of a plan with changes (and its
import). The comparison is now written out; deepdiff stays the oracle here: the old code, kept
below, and the new one must find the same changes on every generated pair.

Pairs as the kinds make them: both sides project the same fields, and a map (``extraFields``,
``address``) the same keys. (On dicts that share under a third of their keys, deepdiff 7 and
later report the whole dict as one change: the old code then named a field ``""``. No
projection pair is like that.) One deepdiff mistake is corrected in the oracle: it hashes the
pairs of a set without their order, so a price list moved between channels (channel 1's list 2
becoming channel 2's list 1) was no change to it; a plan now updates it.
"""

from __future__ import annotations

from typing import Any

from deepdiff import DeepDiff
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.diff import PER_KEY, _jsonable, changes
from reconciler.model import FieldChange


def deepdiff_changes(want: dict[str, Any], have: dict[str, Any]) -> tuple[FieldChange, ...]:
    """`diff.changes` as it was, on deepdiff."""
    if want == have:
        return ()
    paths: set[tuple[str, ...]] = set()
    if not have:
        for key, value in want.items():
            if key in PER_KEY:
                paths.update((key, sub) for sub in value)
            else:
                paths.add((key,))
    else:
        diff = DeepDiff(have, want, view="tree")
        for level in diff.tree.values():
            for item in level:
                keys = [str(k) for k in item.path(output_format="list")]
                paths.add(tuple(keys[:2]) if keys and keys[0] in PER_KEY else tuple(keys[:1]))
        # deepdiff's one mistake here (the old code's bug): in a set, (1, 2) and (2, 1) hash
        # alike, so a price list moved between channels went unnoticed. Sets compare by ==.
        for key, value in want.items():
            held = have.get(key)
            if isinstance(value, frozenset) and isinstance(held, frozenset) and value != held:
                paths.add((key,))
    out = []
    for path in sorted(paths):
        before: Any = have
        after: Any = want
        for key in path:
            before = before.get(key) if isinstance(before, dict) else None
            after = after.get(key) if isinstance(after, dict) else None
        out.append(FieldChange(".".join(path), _jsonable(before), _jsonable(after)))
    return tuple(out)


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-2, max_value=2)
    | st.sampled_from([0.0, 1.0, 1.5, -0.0])
    | st.sampled_from(["", "a", "b", "1", "1.0", "Gold"])
)
_pairs = st.frozensets(
    st.tuples(st.integers(min_value=1, max_value=3), st.integers(min_value=1, max_value=3)),
    max_size=3,
)
_maps = st.dictionaries(st.sampled_from(["x", "y", "z"]), _scalars, max_size=3)
_values = (
    _scalars
    | _pairs
    | _maps
    | st.lists(_scalars, max_size=3)
    | st.tuples(_scalars, _scalars)
    | st.lists(_maps, max_size=2)
)
_keys = st.sampled_from(["companyName", "status", "channelIds", "priceListAssign"])
_projections = st.fixed_dictionaries({}, optional={"extraFields": _maps, "address": _maps}).flatmap(
    lambda maps: st.dictionaries(_keys, _values, min_size=0 if maps else 1, max_size=4).map(
        lambda fields: {**fields, **maps}
    )
)
"""A projection names at least one field (each kind's names the fields its spec names, and
compares nothing else); ``extraFields`` and ``address`` are maps."""


def _live_side(data: Any, want: dict[str, Any]) -> dict[str, Any]:
    """A live projection for ``want``: the same fields (each kind projects both sides onto
    the fields the spec names), each kept or drawn anew; a map kept as a map keeps its keys."""
    have: dict[str, Any] = {}
    for key, value in want.items():
        choice = data.draw(st.sampled_from(["same", "other"]))
        if choice == "same":
            have[key] = value
        elif key in PER_KEY:  # the same keys, each value kept or drawn anew
            have[key] = {sub: data.draw(_scalars | st.just(v)) for sub, v in value.items()}
        else:
            have[key] = data.draw(_values)
    return have


@settings(max_examples=1500, deadline=None)
@given(want=_projections, data=st.data())
def test_changes_are_deepdiffs(want: dict[str, Any], data: Any) -> None:
    have = _live_side(data, want)
    assert changes(want, have) == deepdiff_changes(want, have)


@settings(max_examples=300, deadline=None)
@given(want=_projections)
def test_with_nothing_live_every_named_field_changes(want: dict[str, Any]) -> None:
    assert changes(want, {}) == deepdiff_changes(want, {})


def test_type_changes_are_changes() -> None:
    """As deepdiff said: 1, 1.0 and True are three values, though == holds between them."""
    assert [c.path for c in changes({"a": 1}, {"a": 1.0, "b": 0})] == ["a", "b"]
    assert [c.path for c in changes({"a": True}, {"a": 1, "b": 0})] == ["a", "b"]
    found = changes({"extraFields": {"x": 1}}, {"extraFields": {"x": 1.0, "y": "2"}})
    assert [c.path for c in found] == ["extraFields.x", "extraFields.y"]


def test_deepdiff_missed_a_price_list_moved_between_channels() -> None:
    """The bug the written-out comparison fixes: deepdiff 9 finds nothing between channel 1's
    list 2 and channel 2's list 1 (its set hashing ignores the order inside a pair)."""
    want = {"priceListAssign": frozenset({(1, 2)})}
    have = {"priceListAssign": frozenset({(2, 1)})}
    assert DeepDiff(have, want) == {}  # the old engine saw no change
    (change,) = changes(want, have)
    assert change.path == "priceListAssign"
    assert change.before == [{"channelId": 2, "priceListId": 1}]
    assert change.after == [{"channelId": 1, "priceListId": 2}]
