"""Writing manifests (for import): readable YAML that reads back as exactly what was written."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import manifests, yamlload
from reconciler.errors import UsageError

COMPANY: dict[str, Any] = {
    "apiVersion": "b2b.reconciler/v1",
    "kind": "Company",
    "metadata": {"name": "acme"},
    "spec": {
        "customerGroupId": 12,
        "companyName": "Acme",
        "companyEmail": "buyer@acme.example",
        "companyPhone": "5550100",
        "address": {"zipCode": "01234", "country": "NO"},
        "uuid": "",
        "catalogId": "7",
        "extraFields": {"licenseNo": "yes", "creditLimit": 1000, "since": "2024-01-01"},
    },
}
STORE: dict[str, Any] = {
    "apiVersion": "b2b.reconciler/v1",
    "kind": "Store",
    "metadata": {"name": "main"},
    "spec": {"companiesBehavior": "dependent"},
}


def read_back(text: str) -> list[Any]:
    loaded = yamlload.load_text(text, "t.yaml")
    assert loaded.problems == []
    for doc in loaded.documents:
        assert not doc.problems
    return [d.value for d in loaded.documents]


def test_block_style_key_order_and_indented_lists() -> None:
    text = manifests.dump_documents(
        [{"kind": "OrderAssignment", "spec": {"company": "acme", "customerIds": [400, 401]}}]
    )
    assert text == (
        "kind: OrderAssignment\nspec:\n  company: acme\n  customerIds:\n    - 400\n    - 401\n"
    )


def test_strings_that_look_like_other_things_are_quoted() -> None:
    text = manifests.dump_documents([COMPANY])
    for line in (
        "  companyPhone: '5550100'",
        "    zipCode: '01234'",
        "    country: 'NO'",
        "  uuid: ''",
        "  catalogId: '7'",
        "    licenseNo: 'yes'",
        "    creditLimit: 1000",
        "    since: '2024-01-01'",
    ):
        assert line in text.splitlines()
    assert read_back(text) == [COMPANY]
    assert list(yaml.safe_load_all(text)) == [COMPANY]  # YAML 1.1 readers agree


@pytest.mark.parametrize(
    "text",
    ["0o17", "0x1F", "1e3", ".inf", "-.5", "~", "null", "TRUE", "on", "Off", "1_000", "1:20", "+1"],
)
def test_every_lookalike_reads_back_as_a_string(text: str) -> None:
    dumped = manifests.dump_documents([{"v": text}])
    assert read_back(dumped) == [{"v": text}]
    assert yaml.safe_load(dumped) == {"v": text}


def test_multi_line_strings_use_literal_blocks() -> None:
    doc = {"note": "line one\nline two\n", "tail": "no newline\nat end"}
    text = manifests.dump_documents([doc])
    assert "note: |\n  line one\n  line two\n" in text
    assert "tail: |-\n" in text
    assert read_back(text) == [doc]


def test_documents_are_separated_and_mappings_of_any_kind_are_accepted() -> None:
    from types import MappingProxyType

    text = manifests.dump_documents([STORE, MappingProxyType({"a": (1, 2)})])
    assert text.count("---") == 1
    assert read_back(text) == [STORE, {"a": [1, 2]}]
    assert manifests.dump_documents([]) == ""


def test_shared_objects_are_written_out_not_aliased() -> None:
    shared = {"x": 1}
    text = manifests.dump_documents([{"a": shared, "b": shared}])
    assert "&" not in text
    assert "*" not in text


def test_write_manifest_file(tmp_path: Path) -> None:
    target = tmp_path / "companies" / "acme.yaml"
    written = manifests.write_manifest_file(
        target, [STORE, COMPANY], header_comment="Imported from store abc123\n\non 2026-11-24"
    )
    assert written == target
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Imported from store abc123\n#\n# on 2026-11-24\napiVersion: ")
    assert manifests.load([tmp_path]).company_named("acme") is not None
    assert sorted(p.name for p in target.parent.iterdir()) == ["acme.yaml"]

    with pytest.raises(UsageError, match=r"acme.yaml already exists \(use --force to overwrite\)"):
        manifests.write_manifest_file(target, [STORE])
    assert target.read_text(encoding="utf-8") == text

    manifests.write_manifest_file(target, [STORE], force=True)
    assert read_back(target.read_text(encoding="utf-8")) == [STORE]


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["yes", "NO", "0o17", "2024-01-01", "1_000", "~", "", "- x", "a: b", "#"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=12), values, min_size=1, max_size=5), max_size=3))
def test_anything_json_like_reads_back_unchanged(docs: list[dict[str, Any]]) -> None:
    text = manifests.dump_documents(docs)
    assert read_back(text) == docs


def test_infinities_read_back() -> None:
    assert read_back(manifests.dump_documents([{"a": math.inf, "b": -math.inf}])) == [
        {"a": math.inf, "b": -math.inf}
    ]
