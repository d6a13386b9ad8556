"""The manifest digest: computed without a deep copy, yet the same digest as before, and the
documents it reads are left exactly as written."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import kinds, manifests, yamlload
from reconciler.kinds.documents import Checked, Issues

ROOT = Path(__file__).resolve().parents[2]

SPELLINGS = """\
apiVersion: b2b.reconciler/v1
kind: Store
metadata: {name: s}
spec: {companiesBehavior: dependent}
---
apiVersion: b2b.reconciler/v1
kind: Company
metadata: {name: acme}
spec:
  customerGroupId: 7
  companyName: Acme
  companyEmail: buyer@acme.example
  companyPhone: "555"
  catalogId: 5
---
apiVersion: b2b.reconciler/v1
kind: CompanyUsers
metadata: {name: acme-users}
spec:
  company: acme
  users:
    - {email: Dana.Okafor@Acme.example, firstName: Dana, lastName: Okafor, role: admin}
"""
PRICE_LIST = """\
---
apiVersion: b2b.reconciler/v1
kind: PriceListAssignment
metadata: {name: tier}
spec: {customerGroupId: 7, priceListId: 2}
"""


def _checked(paths: list[Path]) -> list[Checked]:
    issues = Issues()
    out = []
    for file in paths:
        for doc in yamlload.load_path(file, str(file)).documents:
            checked = manifests._check_document(doc, issues)
            assert checked is not None
            out.append(checked)
    assert not issues.items
    return out


def _digest_by_deep_copy(docs: list[Checked]) -> str:
    """The digest as it was computed before: a deep copy of each document, normalized in place."""
    values = []
    for checked in sorted(docs, key=lambda c: (c.kind or "", c.name or "")):
        value: Any = copy.deepcopy(checked.value)
        kind = kinds.kind_named(checked.kind) if checked.kind else None
        if kind is not None and isinstance(value.get("spec"), dict):
            kind.canonical(value["spec"])
        values.append(value)
    text = json.dumps(
        values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_digest_is_unchanged_and_leaves_the_documents_as_written(tmp_path: Path) -> None:
    file = tmp_path / "spellings.yaml"
    file.write_text(SPELLINGS + PRICE_LIST, encoding="utf-8")  # each checked on its own
    examples = sorted((ROOT / "examples").rglob("*.yaml"))
    paths = [file, *(p for p in examples if "seed" not in p.name and "ci" not in p.parts)]
    docs = _checked(paths)
    written = copy.deepcopy([c.value for c in docs])
    digest = manifests._digest(docs)
    assert [c.value for c in docs] == written  # nothing normalized in place
    assert docs[1].value["spec"]["catalogId"] == 5
    assert docs[2].value["spec"]["users"][0]["email"] == "Dana.Okafor@Acme.example"
    assert "channelId" not in docs[3].value["spec"]
    assert digest == _digest_by_deep_copy(docs)


def test_equal_spellings_give_one_digest(tmp_path: Path) -> None:
    """What the kinds normalize (catalogId 5 or "5", e-mail case) does not change the digest;
    the normalization reaches nested values (the users' e-mails)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "m.yaml").write_text(SPELLINGS, encoding="utf-8")
    other = SPELLINGS.replace("catalogId: 5", 'catalogId: "5"').replace(
        "Dana.Okafor@Acme.example", "dana.okafor@acme.example"
    )
    (tmp_path / "b" / "m.yaml").write_text(other, encoding="utf-8")
    one = manifests.load([tmp_path / "a"]).digest
    assert one == manifests.load([tmp_path / "b"]).digest
    (tmp_path / "b" / "m.yaml").write_text(other.replace("Okafor,", "Okafor2,"), encoding="utf-8")
    assert one != manifests.load([tmp_path / "b"]).digest


# The digests the examples had before loading changed (main at 96acfc2): a saved plan records
# the digest of its manifests, and ``apply --plan`` refuses a plan whose digest differs.
PINNED = {
    "examples/store": "sha256:086dfd272b06a78641f5671d53e9e4ada08397915dc71c8c297607c2c1e6f867",
    "examples/independent-store": (
        "sha256:8874c3d263dad007f6316904c595dfb666f09ee85375ed1171ea7d909d8b5877"
    ),
    "examples/ci": "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945",
}


def test_the_examples_keep_the_digests_saved_plans_hold() -> None:
    assert {folder: manifests.load([ROOT / folder]).digest for folder in PINNED} == PINNED


def test_the_digest_is_hashed_a_document_at_a_time_as_the_whole_list_was(tmp_path: Path) -> None:
    """The same bytes as ``json.dumps`` of the whole list, with one document, many and none."""
    file = tmp_path / "spellings.yaml"
    file.write_text(SPELLINGS + PRICE_LIST, encoding="utf-8")
    docs = _checked([file])
    for some in (docs[:1], docs, docs * 3, []):
        assert manifests._digest(some) == _digest_by_deep_copy(some)


def test_building_the_specs_lets_each_document_go(tmp_path: Path) -> None:
    """Specs and documents are not all held at once: each document's values are dropped once
    its spec is built, and the specs are those of every document, in registry and name order."""
    examples = ROOT / "examples" / "store"
    docs = _checked(sorted(p for p in examples.rglob("*.yaml") if "seed" not in p.name))
    others = [c for c in docs if c.kind != "Store"]
    held = [c.doc for c in others]
    expected = [
        kind.build(c)
        for kind in kinds.registry()
        for c in sorted(others, key=lambda c: c.name or "")
        if c.kind == kind.name
    ]
    specs = manifests._build_specs(docs)
    assert list(specs) == expected
    assert docs == []
    assert all(doc.value is None for doc in held)


# --------------------------------------------------------------------------- orjson or json

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # beyond 64 bits too: orjson refuses those
    st.sampled_from([2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e-05, 1e-07, 1.5e-07, 1e-4, 1e16, 1e22, 5e-324, -0.0, 2.5]),  # orjson:
    # 0.00001, 1e-7 and 1.5e-7 where json.dumps writes 1e-05, 1e-07 and 1.5e-07
    st.text(),  # control characters, U+2028, astral characters, quotes and backslashes
    st.sampled_from(["a:1.5", "[1e5", "é", "\x7f", "\u2028", "\x00\x1f", '"\\/']),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=10,
)
KIND_NAMES = st.sampled_from([None, *manifests.kind_names()])


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(KIND_NAMES, st.none() | st.text(max_size=4), VALUES | st.just({})),
        max_size=6,
    )
)
def test_the_digest_is_the_standard_librarys_json_whatever_the_values(
    drawn: list[tuple[str | None, str | None, Any]],
) -> None:
    """orjson writes most documents; whatever it would write differently (floats) or refuses
    (ints beyond 64 bits) goes through ``json`` as before: the digest never changes."""
    docs = []
    for kind, name, spec in drawn:
        value = {"apiVersion": "b2b.reconciler/v1", "kind": kind, "spec": spec}
        docs.append(Checked(None, value, kind, name))  # type: ignore[arg-type]  # no document
    assert manifests._digest(docs) == _digest_by_deep_copy(docs)


def test_documents_over_many_batches_one_with_a_float_keep_their_digest() -> None:
    """Documents are encoded a thousand at a time: over three batches, a float in the second,
    the digest is the one ``json.dumps`` of the whole list gives."""
    docs = []
    for n in range(2500):
        spec = {"n": n, "x": 1e-05 if n == 1500 else n}
        docs.append(Checked(None, {"spec": spec}, "Order", f"o{n:05}"))  # type: ignore[arg-type]
    assert manifests._digest(docs) == _digest_by_deep_copy(docs)
