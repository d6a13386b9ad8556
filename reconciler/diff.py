"""Normalize desired and live values, then compare them field by field.

Only fields a spec names are compared (a field left out of a spec is not managed). Both sides are
projected onto one clean shape before comparing, so the documented type noise of the API never
shows up as a change on a converged store:

- ids, codes and timestamps are already ints in the live model (the API client decodes string or
  int); company status compares by name (``"1"``, ``1`` and ``approved`` are one value);
- unset strings are ``""`` on both sides: ``uuid: ""`` in a manifest matches a live ``""``;
- ``catalogId`` compares as a string of digits (``7`` and ``"7"`` are one value);
- ``priceListAssign`` compares as a set of ``(channelId, priceListId)`` pairs: order is noise;
- extra-field values are strings on the wire; a number in a manifest compares by its text
  (``42`` matches ``"42"``), and for number-typed fields by numeric value (``"1.50"`` matches
  ``1.5``); only the extra fields a spec names are compared, others are left alone;
- ``address`` is compared only for the fields the live API actually returned (the documented
  responses return none, so an address is then used only to create);
- ``poNumber`` unset live is ``""``; an order extra field set to ``""`` matches an absent one
  (whether the API keeps an empty value or drops it is not documented).

``changes`` finds which normalized paths differ (as deepdiff did: values of different types
differ, lists compare in order; `tests/planner/test_diff_paths.py` holds it to deepdiff's
answers); before/after are read back from the projections so every change is reported as
``(path, before, after)`` in manifest terms. Each kind projects its
spec and live object (``reconciler.kinds``); this module compares the projections.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.model import ExtraFieldConfig, ExtraValue, FieldChange, PriceListAssignment

NUMBER_FIELD = 2
PER_KEY = ("extraFields", "address")


def extra_text(value: ExtraValue) -> str:
    """The wire text of a manifest extra-field value (``3`` -> ``"3"``, ``1.5`` -> ``"1.5"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def same_extra(desired: str, live: str, config: ExtraFieldConfig | None) -> bool:
    if desired == live:
        return True
    if config is not None and config.field_type == NUMBER_FIELD:
        try:
            return float(desired) == float(live)
        except ValueError:
            return False
    return False


def price_list_json(pairs: Sequence[PriceListAssignment]) -> list[dict[str, int]]:
    """Canonical JSON of a price-list assignment list (sorted, as the API body takes it)."""
    return [
        {"channelId": p.channel_id, "priceListId": p.price_list_id}
        for p in sorted(pairs, key=lambda p: (p.channel_id, p.price_list_id))
    ]


def changes(want: dict[str, Any], have: dict[str, Any]) -> tuple[FieldChange, ...]:
    """Changed leaf paths between two projections, as manifest-level FieldChanges."""
    if want == have:
        return ()
    paths: set[tuple[str, ...]] = set()
    if not have:  # nothing live: every desired field is a change
        for key, value in want.items():
            if key in PER_KEY:
                paths.update((key, sub) for sub in value)
            else:
                paths.add((key,))
    else:
        # Sets and lists are one field; maps (extraFields, address) compare per key.
        for key in want.keys() | have.keys():
            if key not in want or key not in have:
                paths.add((str(key),))
                continue
            wanted, held = want[key], have[key]
            if key in PER_KEY and type(wanted) is dict and type(held) is dict:
                for sub in wanted.keys() | held.keys():
                    if sub not in wanted or sub not in held or _differ(wanted[sub], held[sub]):
                        paths.add((str(key), str(sub)))
            elif _differ(wanted, held):
                paths.add((str(key),))
    out = []
    for path in sorted(paths):
        before: Any = have
        after: Any = want
        for key in path:
            before = before.get(key) if isinstance(before, dict) else None
            after = after.get(key) if isinstance(after, dict) else None
        out.append(FieldChange(".".join(path), _jsonable(before), _jsonable(after)))
    return tuple(out)


def _differ(a: Any, b: Any, in_list: bool = False) -> bool:
    """Whether two projected values differ, as deepdiff (this module's engine until it cost
    0.1 s a plan) told them apart: values of different types differ even when ``==`` holds
    (``1``, ``1.0`` and ``True``), except two scalars in a list or tuple, which deepdiff
    compares by value; lists and tuples compare in order, item by item."""
    if in_list and not isinstance(a, _CONTAINERS) and not isinstance(b, _CONTAINERS):
        return bool(a != b)
    if type(a) is not type(b):
        return True
    if isinstance(a, dict):
        return a.keys() != b.keys() or any(_differ(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) != len(b) or any(_differ(x, y, True) for x, y in zip(a, b, strict=True))
    return bool(a != b)


_CONTAINERS = (dict, list, tuple, set, frozenset)


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset):
        return price_list_json([PriceListAssignment(c, p) for c, p in value])
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def same_value(after: Any, have: Any) -> bool:
    """Whether a re-read value satisfies a planned ``after`` (normalized as in the diff)."""
    if after == have:
        return True
    if isinstance(after, list) and isinstance(have, list):
        return sorted(map(repr, after)) == sorted(map(repr, have))
    if after is None or have is None:
        return False
    a, h = extra_text(after), extra_text(have)
    if a == h:
        return True
    try:
        return float(a) == float(h)
    except ValueError:
        return False
