"""Issue 13 items 8 and 11: no manifests is an error; a removed Company document is named in the
plan as no longer managed; unmanaged companies can be listed by name."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from reconciler.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/store"
SEED = EXAMPLE / "sandbox-seed.yaml"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "store.db")
    assert run("sandbox", "init", "--db", path, "--seed", str(SEED))[0] == 0
    return path


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    copy = tmp_path / "manifests"
    shutil.copytree(EXAMPLE, copy)
    (copy / "sandbox-seed.yaml").unlink()
    (copy / "README.md").unlink()
    return copy


def test_no_manifests_is_an_error(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.yaml").write_text("just: some yaml\n")  # not a manifest
    code, out = run("validate", str(empty))
    assert code == 1  # used to say "Valid"
    assert "no manifests found" in out
    code, out = run("validate", str(empty), "--format", "json")
    assert code == 1
    assert json.loads(out)["valid"] is False
    assert run("--sandbox", db, "plan", str(empty))[0] == 1  # used to plan "No changes"
    assert "no manifests found" in capsys.readouterr().err
    assert run("--sandbox", db, "apply", str(empty), "--auto-approve")[0] == 1


def _warnings(db: str, path: Path) -> list[str]:
    code, out = run("--sandbox", db, "plan", str(path), "--format", "json")
    assert code == 0
    return list(json.loads(out)["warnings"])


def test_removed_company_document_is_named_until_the_next_apply(db: str, manifests: Path) -> None:
    assert run("--sandbox", db, "apply", str(manifests), "--auto-approve")[0] == 0
    assert not any("no longer managed" in w for w in _warnings(db, manifests))
    (manifests / "companies/summit-labs.yaml").unlink()  # created by that apply
    (manifests / "companies/redline-auto.yaml").unlink()  # existed before it
    (manifests / "order-assignments/redline.yaml").unlink()
    notes = [w for w in _warnings(db, manifests) if "no longer managed" in w]
    assert len(notes) == 2  # used to be only "Unmanaged: 4 companies"
    assert any(n.startswith("company/summit-labs (companyId ") for n in notes)
    assert any(n.startswith("company/redline-auto (companyId 1005)") for n in notes)
    text = run("--sandbox", db, "plan", str(manifests))[1]
    assert "company/redline-auto (companyId 1005) is no longer managed (left as is)" in text
    # The next apply records the new set: the note goes; nothing was deleted.
    assert run("--sandbox", db, "apply", str(manifests), "--auto-approve")[0] == 0
    assert not any("no longer managed" in w for w in _warnings(db, manifests))
    listed = run("--sandbox", db, "plan", str(manifests), "--show-unmanaged")[1]
    assert "1005  Redline Auto Parts Co." in listed


def test_imported_companies_are_recorded(db: str, tmp_path: Path) -> None:
    out = tmp_path / "imported"
    assert run("--sandbox", db, "import", "--out", str(out), "--behavior", "dependent")[0] == 0
    removed = sorted((out / "companies").iterdir())[0]
    name = removed.stem
    removed.unlink()
    (out / "company-users" / f"{name}-users.yaml").unlink(missing_ok=True)  # names the company
    notes = [w for w in _warnings(db, out) if "no longer managed" in w]
    assert len(notes) == 1
    assert notes[0].startswith(f"company/{name} ")


def test_unmanaged_companies_listed_by_name(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run("--sandbox", db, "plan", str(EXAMPLE), "--show-unmanaged")
    assert code == 0
    assert "Legacy Buyers Co" in text  # used to be only a count
    assert "Pinecrest Florists" in text
    code, text = run("--sandbox", db, "-v", "plan", str(EXAMPLE))
    assert "Pinecrest Florists" in text
    code, out = run("--sandbox", db, "plan", str(EXAMPLE), "--show-unmanaged", "--format", "json")
    json.loads(out)  # the list goes to stderr, the JSON stays whole
    assert "Pinecrest Florists" in capsys.readouterr().err


def test_a_saved_plan_apply_records_too(db: str, manifests: Path, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert run("--sandbox", db, "plan", str(manifests), "--out", str(saved))[0] == 0
    code, _ = run("--sandbox", db, "apply", str(manifests), "--plan", str(saved), "--auto-approve")
    assert code == 0
    (manifests / "companies/summit-labs.yaml").unlink()  # created by that apply
    notes = [w for w in _warnings(db, manifests) if "no longer managed" in w]
    assert len(notes) == 1
    assert notes[0].startswith("company/summit-labs (companyId ")
