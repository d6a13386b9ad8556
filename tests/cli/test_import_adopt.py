"""Issue 13 items 2 and 7: import guesses the Companies behavior honestly, and adds one company
to an existing repository without touching its files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from reconciler.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests/e2e/scenarios"
EXAMPLE_SEED = ROOT / "examples/store/sandbox-seed.yaml"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def seeded(tmp_path: Path, seed: Path | dict[str, object], name: str = "store") -> str:
    if isinstance(seed, dict):
        path = tmp_path / f"{name}-seed.yaml"
        path.write_text(yaml.safe_dump(seed))
        seed = path
    db = str(tmp_path / f"{name}.db")
    assert run("sandbox", "init", "--db", db, "--seed", str(seed))[0] == 0
    return db


def store_doc(out: Path) -> tuple[dict[str, object], str]:
    text = (out / "store.yaml").read_text()
    return yaml.safe_load(text), text


# --------------------------------------------------------------------------- 2: behavior


def test_a_shared_group_is_guessed_independent(tmp_path: Path) -> None:
    db = seeded(tmp_path, SCENARIOS / "independent/seed.yaml")
    out = tmp_path / "imported"
    assert run("--sandbox", db, "import", "--out", str(out))[0] == 0
    doc, text = store_doc(out)
    assert doc["spec"]["companiesBehavior"] == "independent"  # used to be "dependent"
    assert "guessed" in text
    assert "customer group 1 holds 2 companies" in text
    assert "given on the command line" not in text.split("multiStorefront")[0]
    assert run("--sandbox", db, "plan", str(out), "--detailed-exitcode")[0] == 0


def test_one_group_per_company_is_guessed_dependent_and_says_so(tmp_path: Path) -> None:
    db = seeded(tmp_path, EXAMPLE_SEED)
    out = tmp_path / "imported"
    assert run("--sandbox", db, "import", "--out", str(out))[0] == 0
    doc, text = store_doc(out)
    assert doc["spec"]["companiesBehavior"] == "dependent"
    assert "was guessed" in text
    assert "not conclusive" in text
    assert "companiesBehavior was given on the command line" not in text


def test_given_behavior_says_so(tmp_path: Path) -> None:
    db = seeded(tmp_path, EXAMPLE_SEED)
    out = tmp_path / "imported"
    assert run("--sandbox", db, "import", "--out", str(out), "--behavior", "independent")[0] == 0
    doc, text = store_doc(out)
    assert doc["spec"]["companiesBehavior"] == "independent"
    assert "given on the command line (--behavior)" in text
    assert "guessed" not in text


def test_too_few_companies_to_tell_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = {
        "store": {"hash": "one01", "companiesBehavior": "independent"},
        "customerGroups": [{"id": 5, "name": "Only"}],
        "companies": [
            {
                "companyId": 1,
                "customerGroupId": 5,
                "companyName": "Only Co",
                "companyEmail": "a@only.example",
                "companyPhone": "555",
                "companyStatus": 1,
            }
        ],
    }
    db = seeded(tmp_path, seed)
    out = tmp_path / "imported"
    assert run("--sandbox", db, "import", "--out", str(out))[0] == 1
    assert "--behavior" in capsys.readouterr().err
    assert not out.exists()


# --------------------------------------------------------------------------- 7: existing repo


def test_group_into_an_existing_repository_adds_just_that_company(tmp_path: Path) -> None:
    db = seeded(tmp_path, EXAMPLE_SEED)
    repo = tmp_path / "repo"
    assert run("--sandbox", db, "import", "--out", str(repo), "--group", "11",
               "--behavior", "dependent")[0] == 0  # fmt: skip
    store = repo / "store.yaml"
    edited = store.read_text().replace(
        "spec:\n", "# our own comment: keep me\nspec:\n  requestsPerMinute: 90\n", 1
    )
    store.write_text(edited)
    before = {p: p.read_text() for p in repo.rglob("*.yaml")}

    code, text = run("--sandbox", db, "import", "--out", str(repo), "--group", "12")
    assert code == 0, text  # used to refuse: store.yaml exists
    after = {p: p.read_text() for p in repo.rglob("*.yaml")}
    assert {p: after[p] for p in before} == before  # store.yaml and its comment untouched
    added = sorted(set(after) - set(before))
    assert [p.parent.name for p in added] == ["companies", "company-users"]
    assert yaml.safe_load(after[added[0]])["spec"]["customerGroupId"] == 12
    assert yaml.safe_load(after[added[1]])["kind"] == "CompanyUsers"
    assert run("validate", str(repo))[0] == 0
    assert run("--sandbox", db, "plan", str(repo), "--detailed-exitcode")[0] == 0


def test_group_already_managed_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = seeded(tmp_path, EXAMPLE_SEED)
    repo = tmp_path / "repo"
    assert run("--sandbox", db, "import", "--out", str(repo), "--group", "11",
               "--behavior", "dependent")[0] == 0  # fmt: skip
    before = {p: p.read_text() for p in repo.rglob("*") if p.is_file()}
    for extra in ([], ["--force"]):
        code, _ = run("--sandbox", db, "import", "--out", str(repo), "--group", "11", *extra)
        assert code == 1
        assert "already managed by company/" in capsys.readouterr().err
        assert {p: p.read_text() for p in repo.rglob("*") if p.is_file()} == before
