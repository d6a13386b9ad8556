"""The two laws, through the real CLI against the embedded sandbox, for every scenario.

apply then plan is empty; import then plan is empty.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from reconciler.cli import main

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent / "scenarios"
SCENARIOS = {
    "example-store": (ROOT / "examples/store/sandbox-seed.yaml", ROOT / "examples/store"),
    "independent-store": (
        ROOT / "examples/independent-store/sandbox-seed.yaml",
        ROOT / "examples/independent-store",
    ),
    "independent": (HERE / "independent/seed.yaml", HERE / "independent/manifests"),
    "dependent-msf": (HERE / "dependent-msf/seed.yaml", HERE / "dependent-msf/manifests"),
    "extra-fields": (HERE / "extra-fields/seed.yaml", HERE / "extra-fields/manifests"),
}
IMPORT_FLAGS = {
    "example-store": ["--behavior", "dependent"],
    "independent-store": ["--behavior", "independent"],
    "independent": ["--behavior", "independent"],
    "dependent-msf": ["--behavior", "dependent", "--multi-storefront"],
    "extra-fields": ["--behavior", "dependent"],
}


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def seeded(tmp_path: Path, name: str) -> str:
    seed, _ = SCENARIOS[name]
    db = str(tmp_path / f"{name}.db")
    assert run("sandbox", "init", "--db", db, "--seed", str(seed))[0] == 0
    return db


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_apply_then_plan_is_empty(tmp_path: Path, name: str) -> None:
    db = seeded(tmp_path, name)
    manifests = str(SCENARIOS[name][1])
    code, text = run("--sandbox", db, "plan", manifests, "--detailed-exitcode")
    assert code == 2, text
    code, text = run("--sandbox", db, "apply", manifests, "--auto-approve")
    assert code == 0, text
    assert "Apply complete" in text
    code, text = run("--sandbox", db, "plan", manifests, "--detailed-exitcode")
    assert code == 0, text
    assert "No changes" in text


def test_saved_plan_applies_exactly_and_converges(tmp_path: Path) -> None:
    db = seeded(tmp_path, "example-store")
    manifests = str(SCENARIOS["example-store"][1])
    plan_file = tmp_path / "plan.json"
    report = tmp_path / "report.json"
    assert run("--sandbox", db, "plan", manifests, "--out", str(plan_file))[0] == 0
    saved = json.loads(plan_file.read_text())
    code, text = run(
        "--sandbox", db, "apply", manifests, "--plan", str(plan_file), "--auto-approve",
        "--report", str(report),
    )  # fmt: skip
    assert code == 0, text
    outcome = json.loads(report.read_text())
    assert outcome["ok"] is True
    assert [r["id"] for r in outcome["results"]] == [a["id"] for a in saved["actions"]]
    assert {r["outcome"] for r in outcome["results"]} == {"applied"}
    # The plan told the reviewer how many requests apply would make; it made exactly that many.
    assert sum(outcome["requests"].values()) == saved["summary"]["apiRequests"]
    assert run("--sandbox", db, "plan", manifests, "--detailed-exitcode")[0] == 0


def test_example_plan_shows_every_dependent_action_type(tmp_path: Path) -> None:
    db = seeded(tmp_path, "example-store")
    code, text = run(
        "--sandbox", db, "plan", str(SCENARIOS["example-store"][1]), "--format", "json"
    )
    assert code == 0, text
    plan = json.loads(text)
    summary = plan["summary"]
    for kind in ("convert", "update", "setStatus", "setCatalog", "reassign", "assign"):
        assert summary[kind] >= 1, kind
    assert summary["updateOrder"] >= 1
    assert summary["total"] == len(plan["actions"])
    assert plan["unmanaged"]["companies"] >= 1
    convert = next(a for a in plan["actions"] if a["type"] == "convert")
    assert convert["irreversible"] is True
    assert convert["request"]["method"] == "POST"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_import_then_plan_is_empty(tmp_path: Path, name: str) -> None:
    db = seeded(tmp_path, name)
    out = tmp_path / "imported"
    code, text = run("--sandbox", db, "import", "--out", str(out), "--with-orders",
                     *IMPORT_FLAGS[name])  # fmt: skip
    assert code == 0, text
    assert (out / "store.yaml").is_file()
    assert run("validate", str(out))[0] == 0
    code, text = run("--sandbox", db, "plan", str(out), "--detailed-exitcode")
    assert code == 0, text


def test_import_after_apply_then_plan_is_empty(tmp_path: Path) -> None:
    db = seeded(tmp_path, "example-store")
    manifests = str(SCENARIOS["example-store"][1])
    assert run("--sandbox", db, "apply", manifests, "--auto-approve")[0] == 0
    out = tmp_path / "imported"
    assert run("--sandbox", db, "import", "--out", str(out), "--with-orders")[0] == 0
    assert run("--sandbox", db, "plan", str(out), "--detailed-exitcode")[0] == 0


def test_import_refuses_to_overwrite(tmp_path: Path) -> None:
    db = seeded(tmp_path, "independent")
    out = tmp_path / "imported"
    flags = IMPORT_FLAGS["independent"]
    assert run("--sandbox", db, "import", "--out", str(out), *flags)[0] == 0
    before = (out / "store.yaml").read_text()
    assert run("--sandbox", db, "import", "--out", str(out), *flags)[0] == 1
    assert (out / "store.yaml").read_text() == before
    assert run("--sandbox", db, "import", "--out", str(out), "--force", *flags)[0] == 0


def test_import_one_group(tmp_path: Path) -> None:
    db = seeded(tmp_path, "independent")
    out = tmp_path / "one"
    assert run("--sandbox", db, "import", "--out", str(out), "--group", "2",
               *IMPORT_FLAGS["independent"])[0] == 0  # fmt: skip
    names = sorted(p.name for p in (out / "companies").iterdir())
    assert names == ["north-supply.yaml"]
    assert run("--sandbox", db, "plan", str(out), "--detailed-exitcode")[0] == 0


def test_import_writes_a_shared_group_on_independent_stores(tmp_path: Path) -> None:
    """Issue 16: on an Independent store a group shared by two companies is imported, each
    company with its companyId; import then plan is empty."""
    db = seeded(tmp_path, "independent")
    out = tmp_path / "shared"
    code, _ = run("--sandbox", db, "import", "--out", str(out), "--group", "1",
                  *IMPORT_FLAGS["independent"])  # fmt: skip
    assert code == 0
    docs = [yaml.safe_load(p.read_text()) for p in sorted((out / "companies").iterdir())]
    assert sorted((d["spec"]["companyId"], d["spec"]["customerGroupId"]) for d in docs) == [
        (3002, 1),
        (3003, 1),
    ]
    assert run("--sandbox", db, "plan", str(out), "--detailed-exitcode")[0] == 0


def test_import_skips_a_shared_group_on_dependent_stores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = seeded(tmp_path, "independent")
    out = tmp_path / "shared"
    code, _ = run("--sandbox", db, "import", "--out", str(out), "--group", "1",
                  "--behavior", "dependent")  # fmt: skip
    assert code == 1
    assert "customer group 1 has 2 companies" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(("name", "msf"), [("dependent-msf", True), ("example-store", False)])
def test_import_reads_multi_storefront_from_the_api(tmp_path: Path, name: str, msf: bool) -> None:
    db = seeded(tmp_path, name)
    out = tmp_path / "imported"
    assert run("--sandbox", db, "import", "--out", str(out), "--behavior", "dependent")[0] == 0
    store = yaml.safe_load((out / "store.yaml").read_text())
    assert store["spec"]["multiStorefront"] is msf
    assert run("--sandbox", db, "plan", str(out), "--detailed-exitcode")[0] == 0


def test_independent_import_writes_every_company_and_the_groups_price_lists(
    tmp_path: Path,
) -> None:
    """Issue 16: on the Independent example (after apply, and before it) import writes every
    company with its companyId, shared groups included, and a PriceListAssignment per managed
    group that has one; plan on them is empty."""
    db = seeded(tmp_path, "independent-store")
    for round_ in ("before", "after"):
        if round_ == "after":
            manifests = str(SCENARIOS["independent-store"][1])
            assert run("--sandbox", db, "apply", manifests, "--auto-approve")[0] == 0
        out = tmp_path / round_
        assert run("--sandbox", db, "import", "--out", str(out), "--with-orders",
                   *IMPORT_FLAGS["independent-store"])[0] == 0  # fmt: skip
        companies = [yaml.safe_load(p.read_text()) for p in (out / "companies").iterdir()]
        groups = sorted(d["spec"]["customerGroupId"] for d in companies)
        assert all("companyId" in d["spec"] for d in companies)
        prices = {
            (d["spec"]["customerGroupId"], d["spec"]["channelId"]): d["spec"]["priceListId"]
            for d in (yaml.safe_load(p.read_text()) for p in (out / "price-lists").iterdir())
        }
        if round_ == "before":
            assert groups == [20, 20, 20, 21, 21, 21]
            assert prices == {(20, 1): 2, (21, 1): 2}
        else:
            assert groups == [20, 20, 21, 21, 21, 21, 22]
            assert prices == {(20, 1): 3, (21, 1): 2, (22, 1): 4}
        code, text = run("--sandbox", db, "plan", str(out), "--detailed-exitcode")
        assert code == 0, text
