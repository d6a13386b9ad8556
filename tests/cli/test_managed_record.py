"""Issue 13 items 8 and 11: no manifests is an error; a removed Company document is named in the
plan as no longer managed; unmanaged companies can be listed by name."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
import yaml

from reconciler.cli import main
from reconciler.sandbox import Sandbox

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


def test_apply_finds_the_companies_it_made_in_a_listing_of_what_changed(
    tmp_path: Path, manifests: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the writes, the companies apply converted are recorded from one ``minModified``
    listing (a page or two), not a listing of every company (total/250 requests: 201 at 50k);
    the record is right all the same (a removed document is named as no longer managed)."""
    token = "record-token-7c1e"
    for name in ("B2B_SANDBOX", "BIGCOMMERCE_STORE_HASH", "B2B_API_URL", "BIGCOMMERCE_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", token)
    seed = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    seed["store"]["accessToken"] = token
    cache = ["--cache-dir", str(tmp_path / "cache")]
    with Sandbox(db=":memory:", seed=seed, rate_limit=(100_000, 60.0)) as sb, sb.serve() as srv:
        flags = ["--api-url", srv.b2b_url, "--core-api-url", srv.core_url, *cache]
        assert run("apply", str(manifests), "--auto-approve", *flags)[0] == 0
        log = sb.request_log
        last_write = max(i for i, e in enumerate(log) if e.method in ("POST", "PUT"))
        converts = [e for e in log if e.method == "POST" and e.path.endswith("/companies")]
        after = [e for e in log[last_write + 1 :] if e.path.endswith("/companies")]
        assert converts  # the example store converts two groups
        assert after
        assert all("minModified=" in e.query for e in after), [e.query for e in after]
        (manifests / "companies/summit-labs.yaml").unlink()  # converted by that apply
        code, out = run("plan", str(manifests), "--format", "json", *flags)
    assert code == 0
    notes = [w for w in json.loads(out)["warnings"] if "no longer managed" in w]
    assert len(notes) == 1
    assert notes[0].startswith("company/summit-labs (companyId ")
