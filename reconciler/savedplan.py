"""Is a saved plan what the manifests produce? Rebuild it and compare, action for action.

A plan file is JSON that anyone in a pipeline can edit between ``plan --out`` and
``apply --plan``. It is applied only when the manifests at the given paths, planned against the
live state recorded in the file, produce the very same plan: the same store, the same actions in
the same order (ids, types, requests and bodies, dependencies, changes, targets), the same
preconditions and the same recorded state. The recorded state is then checked against the store
before the first write (``executor.check_stale``), so an edit of the recorded state that changes
no action is caught there. The manifests are the trust anchor; nothing in the file is believed
because the file says so.

The manifest digest is not compared: other manifests that produce the identical plan apply the
identical calls. When it differs, the refusal says so, since it is the likely reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.errors import PlanError, PlanMismatchError
from reconciler.model import JSON, ManifestSet, Plan
from reconciler.planfile import plan_to_json
from reconciler.planner import build_plan

_ORDER = (
    "formatVersion",
    "store",
    "targets",
    "actions",
    "summary",
    "preconditions",
    "live",
    "unmanaged",
    "managedObjects",
    "warnings",
)
_SHOWN = 80
"""Characters of a value shown in a message."""


def check_saved_plan(saved: Plan, manifests: ManifestSet, *, plan_file: str, paths: str) -> None:
    """Raise ``PlanMismatchError`` unless the manifests rebuild exactly ``saved``."""
    where = f"plan file '{plan_file}'"
    if saved.live is None:
        raise PlanMismatchError(
            f"{where} records no live state (made by an older b2b-reconcile), so it cannot be "
            "checked against the manifests; nothing was sent. Make the plan again with plan --out"
        )
    try:
        rebuilt = build_plan(
            manifests, saved.live, created_at=saved.created_at, targets=saved.targets
        )
    except PlanError as exc:
        first = exc.issues[0].format() if exc.issues else str(exc)
        raise PlanMismatchError(
            f"{where} is not what the manifests at {paths} produce: planning them against the "
            f"state recorded in the file fails ({first}); nothing was sent"
        ) from None
    difference = first_difference(plan_to_json(saved), plan_to_json(rebuilt))
    if difference is None:
        return
    hint = ""
    if saved.manifest_digest != rebuilt.manifest_digest:
        hint = (
            f" The plan was made from other manifests than those at {paths} "
            "(the manifest digest differs)."
        )
    raise PlanMismatchError(
        f"{where} is not what the manifests at {paths} produce, nothing was sent: {difference}."
        f"{hint} Make the plan again from these manifests (plan --out) and apply that"
    )


def first_difference(saved: dict[str, JSON], rebuilt: dict[str, JSON]) -> str | None:
    """The first place where two Plan JSON objects differ, in words; ``None`` if none."""
    keys = [k for k in _ORDER if k in saved or k in rebuilt]
    keys += sorted(k for k in set(saved) | set(rebuilt) if k not in _ORDER and k not in _IGNORED)
    for key in keys:
        if key == "actions":
            found = _actions(saved.get(key), rebuilt.get(key))
        else:
            found = _value(key, saved.get(key, _MISSING), rebuilt.get(key, _MISSING))
        if found is not None:
            return found
    return None


_IGNORED = frozenset({"createdAt", "manifestDigest", "refresh"})
"""Not compared: when and from what the plan was made, and how its live state was read."""


class _Missing:
    def __repr__(self) -> str:
        return "nothing"


_MISSING = _Missing()


def _actions(saved: JSON, rebuilt: JSON) -> str | None:
    if not isinstance(saved, list) or not isinstance(rebuilt, list):
        return _value("actions", saved, rebuilt)
    for index in range(max(len(saved), len(rebuilt))):
        mine = saved[index] if index < len(saved) else None
        theirs = rebuilt[index] if index < len(rebuilt) else None
        if mine is None:
            return f"the manifests produce {_label(theirs)} as actions[{index}], the file has none"
        if theirs is None:
            return (
                f"actions[{index}] {_label(mine)} is not produced by the manifests "
                f"(they produce {len(rebuilt)} action(s))"
            )
        if _id(mine) != _id(theirs):
            return (
                f"actions[{index}] is {_label(mine)} in the file but {_label(theirs)} from the "
                "manifests"
            )
        found = _value(f"actions[{index}] ({_id(mine)})", mine, theirs)
        if found is not None:
            return found
    return None


def _id(action: JSON) -> str:
    return str(action.get("id")) if isinstance(action, dict) else repr(action)


def _label(action: JSON) -> str:
    if not isinstance(action, dict):
        return _show(action)
    request = action.get("request")
    call = ""
    if isinstance(request, dict):
        call = f" ({request.get('method')} {request.get('path')})"
    return f"{_id(action)}{call}"


def _value(at: str, mine: object, theirs: object) -> str | None:
    """The first differing leaf under ``at``."""
    if type(mine) is type(theirs) and isinstance(mine, dict) and isinstance(theirs, dict):
        for key in list(mine) + [k for k in theirs if k not in mine]:
            found = _value(f"{at}.{key}", mine.get(key, _MISSING), theirs.get(key, _MISSING))
            if found is not None:
                return found
        return None
    if type(mine) is type(theirs) and isinstance(mine, list) and isinstance(theirs, list):
        for index in range(max(len(mine), len(theirs))):
            found = _value(
                f"{at}[{index}]",
                mine[index] if index < len(mine) else _MISSING,
                theirs[index] if index < len(theirs) else _MISSING,
            )
            if found is not None:
                return found
        return None
    if type(mine) is type(theirs) and mine == theirs:
        return None
    return f"{at} is {_show(mine)} in the file but {_show(theirs)} from the manifests"


def _show(value: object) -> str:
    text = repr(value) if not isinstance(value, _Missing) else "absent"
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def paths_label(paths: Sequence[str]) -> str:
    """How a message names the manifest paths: ``manifests/`` or ``a, b``."""
    return ", ".join(paths)


__all__ = ["check_saved_plan", "first_difference", "paths_label"]
