"""The JSON Schemas: well-formed, documented, closed, and in step with the loader."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler import manifests, yamlload
from reconciler.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "store"
FILES = {kind: f"{kind.lower()}.json" for kind in manifests.kind_names()}


def _subschemas(schema: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, dict):
        yield where, schema
        for key, value in schema.items():
            if key == "properties":
                for name, sub in value.items():
                    yield from _subschemas(sub, f"{where}.{name}")
            elif isinstance(value, dict):
                yield from _subschemas(value, f"{where}/{key}")


def _example_documents() -> list[dict[str, Any]]:
    docs = []
    for file in sorted(EXAMPLES.rglob("*.yaml")):
        if file.name == "sandbox-seed.yaml":
            continue
        docs += [d.value for d in yamlload.load_path(file, str(file)).documents]
    return docs


@pytest.mark.parametrize("kind", manifests.kind_names())
def test_schema_file_is_a_draft_2020_12_schema_with_an_id(kind: str) -> None:
    schema = json.loads((ROOT / "reconciler" / "schemas" / FILES[kind]).read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://b2b-reconciler.dev/schemas/v1/{kind.lower()}.json"
    assert schema["properties"]["apiVersion"]["const"] == manifests.API_VERSION
    assert schema["properties"]["kind"]["const"] == kind
    name = schema["properties"]["metadata"]["properties"]["name"]
    assert (name["pattern"], name["maxLength"]) == (manifests.NAME_PATTERN, 63)
    assert schema["required"] == ["apiVersion", "kind", "metadata", "spec"]


@pytest.mark.parametrize("kind", manifests.kind_names())
def test_every_property_has_a_description_and_every_object_is_closed(kind: str) -> None:
    schema = manifests.schema_for(kind)
    for where, sub in _subschemas(schema):
        if where:
            assert sub.get("description"), f"{kind}{where} has no description"
        if sub.get("type") == "object":
            if "properties" in sub:
                assert sub.get("additionalProperties") is False, f"{kind}{where} is open"
            else:  # a map of names to values: the values are described and typed
                values = sub["additionalProperties"]
                assert values["description"], where
                assert values["type"] == ["string", "number"], where


def test_the_schemas_ship_in_the_package_and_the_root_folder_links_to_them() -> None:
    folder = resources.files("reconciler") / "schemas"
    for kind, name in FILES.items():
        packaged = json.loads((folder / name).read_text(encoding="utf-8"))
        assert packaged == manifests.schema_for(kind)
        assert (ROOT / "schemas" / name).read_text() == (folder / name).read_text()


def test_schema_for_accepts_any_case_and_refuses_unknown_kinds() -> None:
    assert manifests.schema_for("orderassignment") == manifests.schema_for("OrderAssignment")
    with pytest.raises(UsageError, match=r"unknown kind 'Compnay' \(expected one of Store, "):
        manifests.schema_for("Compnay")


def test_schema_for_returns_a_copy() -> None:
    manifests.schema_for("Order")["properties"].clear()
    assert manifests.schema_for("Order")["properties"]


def test_the_combined_schema_validates_any_document() -> None:
    combined = manifests.schema_for(None)
    Draft202012Validator.check_schema(combined)
    validator = Draft202012Validator(combined)
    docs = _example_documents()
    assert len(docs) == 17
    for doc in docs:
        assert list(validator.iter_errors(doc)) == [], doc["metadata"]
    company = next(d for d in docs if d["kind"] == "Company")
    broken = {**company, "spec": {k: v for k, v in company["spec"].items() if k != "companyName"}}
    assert [e.message for e in validator.iter_errors(broken)] == [
        "'companyName' is a required property"
    ]
    assert not validator.is_valid({**company, "kind": "Compnay"})
    assert not validator.is_valid({"kind": "Store", "metadata": {"name": "x"}})


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("buyer@acme.example", True),
        ("first.last+tag@sub.acme.co.uk", True),
        ("o'brien@acme.example", True),
        ("x", False),
        ("buyer@acme", False),
        ("buyer at acme.example", False),
        ("buyer@@acme.example", False),
        ("buyer@acme..example", False),
        ("buyer@-acme.example", False),
        ("buyer@acme.example\n", False),
        ("", False),
    ],
)
def test_email_pattern(email: str, valid: bool) -> None:
    schema = manifests.schema_for("Company")["properties"]["spec"]["properties"]["companyEmail"]
    assert schema["pattern"] == manifests.EMAIL_PATTERN
    validator = manifests._Validator(schema)
    assert validator.is_valid(email) is valid
