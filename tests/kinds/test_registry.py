"""The registry: apply dispatches by action type, so each type belongs to exactly one kind."""

from __future__ import annotations

from reconciler import kinds
from reconciler.kinds.company import COMPANY
from reconciler.kinds.order_assignment import ORDER_ASSIGNMENT


def test_each_action_type_belongs_to_exactly_one_kind() -> None:
    types = kinds.action_types()
    assert len(types) == len(set(types))
    for kind in kinds.registry():
        for action_type in kind.action_types:
            assert kinds.kind_of_action(action_type) is kind


def test_a_kind_comes_after_the_kinds_it_depends_on() -> None:
    order = kinds.registry()
    assert order.index(COMPANY) < order.index(ORDER_ASSIGNMENT)


def test_kind_names_are_distinct_and_found_by_name() -> None:
    names = [kind.name for kind in kinds.registry()]
    assert len(names) == len(set(names))
    assert all(kinds.kind_named(name) is not None for name in names)
    assert kinds.kind_named("Store") is None
