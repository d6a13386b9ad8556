"""What the manifests managed last time: so that a deleted Company document is named, not lost.

The API cannot tell a company that a manifest used to describe from one nobody ever managed, so
this tool remembers. ``apply`` (and ``import``) record, per store and per set of manifest PATHs,
the live companies the manifests matched, in ``CACHE_DIR/managed.json`` (default
``.b2b-reconcile/`` in the current folder). ``plan`` and ``apply`` then name every recorded
company that the manifests no longer match as "no longer managed (left as is)": nothing is
deleted or changed; the next apply records the new set and the note goes away.

The record is a local convenience, not state that decides anything: without it (a fresh CI
checkout, say) the plan only counts such a company among the unmanaged ones. Keep the folder
between CI runs (a cache) to get the note there too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.model import LiveCompany, ManifestSet

CACHE_DIR = ".b2b-reconcile"
FILE_NAME = "managed.json"
FORMAT_VERSION = 1
NOTE_MARK = " is no longer managed (left as is): "


@dataclass
class Managed:
    """The companies a plan found the manifests managing, and where that set is recorded."""

    key: str
    now: dict[int, str] = field(default_factory=dict)


def key(store_hash: str, paths: Sequence[str]) -> str:
    """One record per store and per set of manifest PATHs (planning a subset is not a removal)."""
    resolved = sorted(str(Path(p).resolve()) for p in paths)
    return store_hash + "|" + "|".join(resolved)


def managed_now(found: ManifestSet, companies: Sequence[LiveCompany]) -> dict[int, str]:
    """Live company id -> ``company/name`` for the companies the manifests match."""
    by_group = {spec.customer_group_id: spec.resource for spec in found.companies}
    return {
        c.company_id: by_group[c.customer_group_id]
        for c in companies
        if c.customer_group_id in by_group
    }


def missing(found: ManifestSet, now: Mapping[int, str]) -> bool:
    """Whether a company the manifests declare is not in ``now`` (``managed_now``'s mapping).
    One set of the recorded names, not a scan of ``now``'s values per company: that was
    quadratic, 22 of an apply's 31 CPU-s at 50,000 companies."""
    recorded = set(now.values())
    return any(spec.resource not in recorded for spec in found.companies)


def _path(cache_dir: str) -> Path:
    return Path(cache_dir) / FILE_NAME


def _read_all(cache_dir: str) -> dict[str, dict[str, str]]:
    try:
        body = json.loads(_path(cache_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(body, dict) or body.get("formatVersion") != FORMAT_VERSION:
        return {}
    records = body.get("records")
    if not isinstance(records, dict):
        return {}
    return {
        k: {str(i): str(r) for i, r in v.items()}
        for k, v in records.items()
        if isinstance(k, str) and isinstance(v, dict)
    }


def previously_managed(cache_dir: str, record_key: str) -> dict[int, str]:
    """The recorded companies (id -> resource), or nothing when there is no usable record."""
    record = _read_all(cache_dir).get(record_key, {})
    return {int(i): r for i, r in record.items() if i.isdigit()}


def no_longer_managed(
    previous: Mapping[int, str], now: Mapping[int, str], found: ManifestSet
) -> list[str]:
    """Plan warnings naming each recorded company the manifests no longer manage."""
    resources = {spec.resource for spec in found.companies}
    notes = []
    for company_id, resource in sorted(previous.items()):
        if company_id in now:
            continue
        why = (
            "its document was removed from the manifests"
            if resource not in resources
            else "its document now names another customer group"
        )
        notes.append(
            f"{resource} (companyId {company_id}){NOTE_MARK}{why}; "
            "this tool never deletes companies. The next apply records this."
        )
    return notes


def without_notes(warnings: Sequence[str]) -> tuple[str, ...]:
    """The warnings the planner made: a saved plan is checked against a rebuild, which has no
    record to compare with (the notes change no request)."""
    return tuple(w for w in warnings if NOTE_MARK not in w)


def record(cache_dir: str, record_key: str, now: Mapping[int, str]) -> None:
    """Save the managed set; a cache that cannot be written is skipped (it decides nothing)."""
    records = _read_all(cache_dir)
    records[record_key] = {str(i): r for i, r in sorted(now.items())}
    body = {"formatVersion": FORMAT_VERSION, "records": records}
    path = _path(cache_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        return
