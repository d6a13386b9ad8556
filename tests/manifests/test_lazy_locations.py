"""Locations of a valid manifest are found when first asked for, not held for every value.

Loading keeps no `Location` per value and key of a file that loads without a problem and
without anchors (most of the memory of a large repository); asked for, they are found by loading
the file again, and they are exactly the ones recorded while loading. A file with a problem or
an anchor records them while loading, as before. A plan without issues asks for none.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from reconciler import manifests, textshelf, yamlload
from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.kinds.documents import FieldLocs
from reconciler.live import read_live
from reconciler.model import Location
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "store"
NORTHWIND = EXAMPLE / "companies" / "northwind-supply.yaml"


def _recorded(file: Path) -> list[yamlload.Document]:
    text = file.read_text(encoding="utf-8")
    loaded = yamlload._load_text(text, str(file), record=True)
    assert loaded is not None
    return loaded.documents


def test_a_valid_file_records_no_locations_until_asked() -> None:
    loaded = yamlload.load_path(NORTHWIND, str(NORTHWIND))
    (doc,) = loaded.documents
    assert doc._locs is None
    assert doc._key_locs is None
    # Asked for: exactly what loading with recording gives, and the real place in the file.
    (recorded,) = _recorded(NORTHWIND)
    assert doc.locs == recorded.locs
    assert doc.key_locs == recorded.key_locs
    lines = NORTHWIND.read_text(encoding="utf-8").splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("  companyName:"))
    assert doc.key_loc(("spec", "companyName")) == Location(str(NORTHWIND), row + 1, 3)
    assert doc.loc(("spec", "companyName")) == Location(str(NORTHWIND), row + 1, 16)


def test_every_example_document_finds_the_recorded_locations() -> None:
    for file in sorted(ROOT.glob("examples/**/*.yaml")):
        lazy = yamlload.load_path(file, str(file)).documents
        recorded = _recorded(file)
        assert [(d.locs, d.key_locs) for d in lazy] == [(d.locs, d.key_locs) for d in recorded], (
            file
        )


@pytest.mark.parametrize(
    "text",
    [
        "a: &x {b: 1}\nc: *x\n",  # an anchor: aliases need the locations while loading
        "a: 1\na: 2\n",  # a duplicate key: a problem, located
        "a: !!binary aGk=\n",  # a refused tag
        "a: [1\n",  # a syntax error after nothing
    ],
)
def test_a_file_with_an_anchor_or_a_problem_records_them_while_loading(
    tmp_path: Path, text: str
) -> None:
    file = tmp_path / "m.yaml"
    file.write_text(text, encoding="utf-8")
    loaded = yamlload.load_path(file, str(file))
    assert all(d._locs is not None for d in loaded.documents)
    assert loaded.problems or any(d.problems for d in loaded.documents) or "&x" in text


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    seed = yaml.safe_load((EXAMPLE / "sandbox-seed.yaml").read_text(encoding="utf-8"))
    with Sandbox(db=":memory:", seed=seed) as sandbox:
        yield sandbox


def test_a_plan_without_issues_asks_for_no_location(sb: Sandbox) -> None:
    found = manifests.load([EXAMPLE])
    settings = ApiSettings(
        store_hash=sb.store_hash,
        token=Secret(sb.access_token or "sandbox"),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    with ApiClient.open(settings, sb.transport(), sleep=lambda _s: None) as api:
        plan = build_plan(
            found, read_live(api, found), created_at="2026-11-24T00:00:00Z"
        )  # no issue: it would raise PlanError
    assert plan.actions
    field_locs = [getattr(spec, "field_locs", None) for spec in found.specs]
    assert all(isinstance(f, FieldLocs) for f in field_locs)
    assert [f for f in field_locs if isinstance(f, FieldLocs) and f._found is not None] == []
    # Asked for, a spec's field locations are still there, at the key.
    company = found.companies[0]
    assert company.loc_of("companyName") == company.field_locs["companyName"]
    assert company.loc_of("companyName") != company.loc


def test_field_names_and_short_values_are_one_object_across_documents(tmp_path: Path) -> None:
    """A large repository repeats the same field names and short values (``approved``, ``US``)
    in every document: they are held once, not once per document."""
    file = tmp_path / "m.yaml"
    long = "x" * 40
    file.write_text(
        f"kind: Company\nstatus: approved\nnote: {long}\n---\n"
        f"kind: Company\nstatus: approved\nnote: {long}\n",
        encoding="utf-8",
    )
    first, second = (d.value for d in yamlload.load_path(file, str(file)).documents)
    assert first == second
    assert all(a is b for a, b in zip(first, second, strict=True))  # the field names
    assert first["status"] is second["status"]
    assert first["note"] == second["note"]


def test_a_valid_files_text_is_held_compressed(tmp_path: Path) -> None:
    """What a plan keeps of a loaded file to find locations later is its text compressed (with
    other files' texts, a block of `textshelf.BLOCK` characters at a time: this file fills one);
    the locations found from it are still the recorded ones (above) and the spec keeps no
    document."""
    text = "".join(
        f"---\nkind: Company\nmetadata: {{name: c{n}}}\nspec: {{companyName: Company {n}}}\n"
        for n in range(1500)
    )
    assert len(text) > textshelf.BLOCK
    file = tmp_path / "m.yaml"
    file.write_text(text, encoding="utf-8")
    docs = yamlload.load_path(file, str(file)).documents
    source, index = docs[7].location_source()
    assert index == 7
    assert isinstance(source, yamlload._Source)
    assert source._block.sealed
    assert len(source._block._packed) * 5 < len(text.encode("utf-8"))
    assert source.text == text
    locs, _key_locs = source.tables(7)
    assert locs[("metadata", "name")] == Location(str(file), 4 * 7 + 3, 18)
