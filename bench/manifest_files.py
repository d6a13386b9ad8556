"""The scenario's manifests as YAML files, laid out as ``import`` writes them (one file per
document), so that the real CLI can load them as a user's repository.

``write_manifests(scenario, folder)`` turns each spec of ``scenario.manifests()`` back into its
document (camelCase keys, fields left unset left out). The benchmark checks the round trip the
strongest way it can: the plan the CLI makes from these files must hold exactly the actions the
scenario expects.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bench.scenario import Scenario
from reconciler.kinds.company import CompanySpec
from reconciler.kinds.company_users import CompanyUsersSpec
from reconciler.kinds.order import OrderSpec
from reconciler.kinds.order_assignment import OrderAssignmentSpec

API_VERSION = "b2b.reconciler/v1"
SKIPPED = {"name", "loc", "field_locs"}
FOLDERS = {
    CompanySpec: ("Company", "companies"),
    CompanyUsersSpec: ("CompanyUsers", "company-users"),
    OrderAssignmentSpec: ("OrderAssignment", "order-assignments"),
    OrderSpec: ("Order", "orders"),
}


_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_documents(docs: list[dict[str, Any]]) -> str:
    """Block-style YAML (libyaml's emitter: ``import``'s pure-Python one takes ~1.5 ms a
    document, minutes for 50,000 companies)."""
    return yaml.dump_all(docs, Dumper=_DUMPER, sort_keys=False, default_flow_style=False)


def _camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def _value(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    if isinstance(value, Mapping):
        return {str(k): _value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    return value


def _fields(spec: Any) -> dict[str, Any]:
    """The fields a document would carry: unset ones (None, a default False) left out."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if f.name in SKIPPED or value is None or value is False:
            continue
        out[_camel(f.name)] = _value(value)
    return out


def spec_document(spec: Any) -> dict[str, Any]:
    kind, _folder = FOLDERS[type(spec)]
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": {"name": spec.name},
        "spec": _fields(spec),
    }


def write_manifests(scenario: Scenario, folder: Path, *, per_document: bool = True) -> int:
    """Write the scenario's manifests under ``folder``; return the number of documents.

    ``per_document``: one file per document in a folder per kind (as ``import`` writes them);
    else one multi-document file per kind."""
    manifests = scenario.manifests()
    store = manifests.store
    assert store is not None
    folder.mkdir(parents=True, exist_ok=True)
    store_doc = {
        "apiVersion": API_VERSION,
        "kind": "Store",
        "metadata": {"name": store.name},
        "spec": {
            "storeHash": store.store_hash,
            "companiesBehavior": store.companies_behavior,
            "requestsPerMinute": store.requests_per_minute,
        },
    }
    (folder / "store.yaml").write_text(dump_documents([store_doc]), encoding="utf-8")
    by_folder: dict[str, list[dict[str, Any]]] = {}
    for spec in manifests.specs:
        by_folder.setdefault(FOLDERS[type(spec)][1], []).append(spec_document(spec))
    for sub, docs in by_folder.items():
        if per_document:
            (folder / sub).mkdir(exist_ok=True)
            for doc in docs:
                path = folder / sub / f"{doc['metadata']['name']}.yaml"
                path.write_text(dump_documents([doc]), encoding="utf-8")
        else:
            (folder / f"{sub}.yaml").write_text(dump_documents(docs), encoding="utf-8")
    return 1 + len(manifests.specs)
