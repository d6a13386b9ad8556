"""The command line as users and CI meet it: exit codes, messages, formats, refusals.

Every test drives ``reconciler.cli.main`` against the embedded sandbox (a SQLite file) and checks
the store itself when "nothing was sent" is the claim.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/store"
SEED = EXAMPLE / "sandbox-seed.yaml"
ANSI = re.compile(r"\x1b\[")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "store.db")
    assert run("sandbox", "init", "--db", path, "--seed", str(SEED))[0] == 0
    return path


def dump(path: str) -> dict[str, object]:
    with Sandbox(db=path) as sb:
        state = sb.dump()
    state.pop("faults", None)
    return state


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    copy = tmp_path / "manifests"
    shutil.copytree(EXAMPLE, copy)
    (copy / "sandbox-seed.yaml").unlink()
    (copy / "README.md").unlink()
    return copy


# --------------------------------------------------------------------------- validate


def test_validate_examples_is_clean() -> None:
    code, text = run("validate", str(EXAMPLE))
    assert code == 0
    assert text.startswith("Valid: 1 Store, 6 Company")


def test_validate_reports_every_problem_with_location(
    manifests: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    company = manifests / "companies/northwind-supply.yaml"
    text = company.read_text()
    company.write_text(text.replace("companyPhone:", "companyPhon:", 1))
    code, out = run("validate", str(manifests))
    assert code == 1
    lines = out.strip().splitlines()
    assert lines
    assert all(re.match(r"^.+:\d+:\d+: ", line) for line in lines), lines
    assert any(
        "northwind-supply.yaml" in line and "company/northwind-supply" in line for line in lines
    )
    assert any("companyPhon" in line for line in lines)


def test_validate_json_and_github_annotations(
    manifests: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    company = manifests / "companies/northwind-supply.yaml"
    company.write_text(company.read_text().replace("companyPhone:", "companyPhon:", 1))
    code, out = run("validate", str(manifests), "--format", "json")
    assert code == 1
    body = json.loads(out)
    assert body["valid"] is False
    assert body["issues"][0]["line"] >= 1
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    capsys.readouterr()
    code, out = run("validate", str(manifests))
    assert code == 1
    # Annotations go to stderr (issue 13: stdout may hold a JSON document); the runner reads both.
    err = capsys.readouterr().err
    assert re.search(r"^::error file=.+northwind-supply\.yaml,line=\d+,col=\d+::", err, re.M)
    assert "::error" not in out


def test_invalid_manifests_stop_plan_before_any_request(manifests: Path, db: str) -> None:
    (manifests / "broken.yaml").write_text("apiVersion: b2b.reconciler/v1\nkind: Compnay\n")
    before = dump(db)
    assert run("--sandbox", db, "plan", str(manifests))[0] == 1
    assert run("--sandbox", db, "apply", str(manifests), "--auto-approve")[0] == 1
    assert dump(db) == before


# --------------------------------------------------------------------------- plan


def test_plan_exit_codes(db: str) -> None:
    assert run("--sandbox", db, "plan", str(EXAMPLE))[0] == 0
    assert run("--sandbox", db, "plan", str(EXAMPLE), "--detailed-exitcode")[0] == 2


def test_plan_sends_no_write(db: str) -> None:
    before = dump(db)
    assert run("--sandbox", db, "plan", str(EXAMPLE), "--format", "json")[0] == 0
    assert dump(db) == before


def test_plan_formats(db: str) -> None:
    code, text = run("--sandbox", db, "plan", str(EXAMPLE), "--format", "markdown")
    assert code == 0
    assert "| action type | count |" in text
    code, text = run("--sandbox", db, "plan", str(EXAMPLE), "--no-color")
    assert "Plan: " in text
    assert not ANSI.search(text)


def test_plan_json_matches_the_contract(db: str) -> None:
    code, text = run("--sandbox", db, "plan", str(EXAMPLE), "--format", "json")
    assert code == 0
    plan = json.loads(text)
    for key in (
        "formatVersion", "createdAt", "store", "manifestDigest", "summary", "actions",
        "unmanaged", "warnings",
    ):  # fmt: skip
        assert key in plan, key
    assert plan["formatVersion"] == 1
    assert set(plan["store"]) >= {"hash", "companiesBehavior", "multiStorefront"}
    assert set(plan["summary"]) >= {
        "convert", "create", "update", "setStatus", "setCatalog", "reassign", "assign",
        "updateOrder", "total", "apiRequests", "estimatedSeconds",
    }  # fmt: skip
    ids = [a["id"] for a in plan["actions"]]
    for action in plan["actions"]:
        assert set(action) >= {
            "id", "type", "resource", "dependsOn", "request", "changes", "irreversible",
            "sideEffects",
        }  # fmt: skip
        assert all(ids.index(dep) < ids.index(action["id"]) for dep in action["dependsOn"])
        assert action["resource"] == action["resource"].lower()
    moves = [a for a in plan["actions"] if a["type"] in ("assign", "reassign")]
    assert all(re.match(r"^orderassignment/[a-z0-9-]+:(re)?assign:\d+$", a["id"]) for a in moves)
    placeholders = [a for a in plan["actions"] if "{company/" in a["request"]["path"]]
    assert placeholders
    assert plan["manifestDigest"].startswith("sha256:")


class Writes(io.StringIO):
    """stdout that keeps each write apart."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_plan_json_is_streamed_to_stdout_and_equals_the_saved_file(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reconciler.jsontext.CHUNK", 256)  # the example's plan in many chunks
    saved = tmp_path / "plan.json"
    out = Writes()
    argv = ["--sandbox", db, "plan", str(EXAMPLE), "--format", "json", "--out", str(saved)]
    assert main(argv, out=out) == 0
    assert out.getvalue() == saved.read_text(encoding="utf-8")  # byte for byte
    assert len(out.writes) > 10
    assert max(len(w) for w in out.writes) < len(out.getvalue()) // 4  # never held whole
    assert json.loads(out.getvalue())["live"]["companies"]
    code, shown = run("show", str(saved), "--format", "json")
    assert (code, shown) == (0, out.getvalue())


def test_plan_target_keeps_dependencies(db: str) -> None:
    code, text = run(
        "--sandbox", db, "plan", str(EXAMPLE), "--format", "json",
        "--target", "orderassignment/harbor-buyers",
    )  # fmt: skip
    assert code == 0
    types = [a["type"] for a in json.loads(text)["actions"]]
    assert types == ["convert", "reassign"]
    assert run("--sandbox", db, "plan", str(EXAMPLE), "--target", "company/nope")[0] == 1


def test_plan_time_errors_name_file_line_and_field(
    manifests: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    company = manifests / "companies/summit-labs.yaml"
    company.write_text(company.read_text().replace("customerGroupId: 16", "customerGroupId: 99"))
    before = dump(db)
    code, _ = run("--sandbox", db, "plan", str(manifests))
    err = capsys.readouterr().err
    assert code == 1
    assert re.search(
        r"summit-labs\.yaml:\d+:\d+: company/summit-labs: spec\.customerGroupId: customer group 99 "
        r"does not exist",
        err,
    ), err
    assert dump(db) == before


def test_global_options_after_the_command(db: str) -> None:
    assert run("plan", str(EXAMPLE), "--sandbox", db, "--no-color")[0] == 0


def test_verbose_reports_requests(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("-v", "--sandbox", db, "plan", str(EXAMPLE))[0] == 0
    assert re.search(r"API requests: \d+", capsys.readouterr().err)


def test_store_hash_mismatch_is_refused(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BIGCOMMERCE_STORE_HASH", "other")
    assert run("--sandbox", db, "plan", str(EXAMPLE))[0] == 1
    assert "not 'other'" in capsys.readouterr().err


def test_no_token_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BIGCOMMERCE_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("B2B_SANDBOX", raising=False)
    assert run("plan", str(EXAMPLE))[0] == 1
    assert "no access token" in capsys.readouterr().err


def test_plain_http_is_refused_off_loopback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", "tok-abcdef123456")
    code, _ = run("--api-url", "http://api.example.com/api/v3/io", "plan", str(EXAMPLE))
    assert code == 1
    assert "http://" in capsys.readouterr().err


def test_usage_errors_exit_1_not_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["plan", "--no-such-flag"])
    assert exited.value.code == 1


def test_missing_sandbox_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--sandbox", str(tmp_path / "none.db"), "plan", str(EXAMPLE))[0] == 1
    assert "sandbox init" in capsys.readouterr().err


# --------------------------------------------------------------------------- show, schema


def test_show_renders_a_saved_plan(db: str, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert run("--sandbox", db, "plan", str(EXAMPLE), "--out", str(saved))[0] == 0
    code, text = run("show", str(saved), "--format", "json")
    assert code == 0
    assert json.loads(text) == json.loads(saved.read_text())
    assert "Plan: " in run("show", str(saved))[1]
    assert "| action type | count |" in run("show", str(saved), "--format", "markdown")[1]


def test_show_refuses_garbage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text("{not json")
    assert run("show", str(bad))[0] == 1
    assert "plan.json" in capsys.readouterr().err


def test_schema_command() -> None:
    code, text = run("schema")
    assert code == 0
    schemas = json.loads(text)
    assert set(schemas) == {
        "Store",
        "Company",
        "CompanyUsers",
        "OrderAssignment",
        "Order",
        "PriceListAssignment",
    }
    code, text = run("schema", "company")
    assert json.loads(text)["$id"].endswith("company.json")
    assert run("schema", "nope")[0] == 1


def test_schema_from_store_names_extra_fields(tmp_path: Path) -> None:
    db = str(tmp_path / "xf.db")
    seed = ROOT / "tests/e2e/scenarios/extra-fields/seed.yaml"
    assert run("sandbox", "init", "--db", db, "--seed", str(seed))[0] == 0
    code, text = run("--sandbox", db, "schema", "company", "--from-store")
    assert code == 0
    extra = json.loads(text)["properties"]["spec"]["properties"]["extraFields"]
    assert extra["properties"]["tier"]["enum"] == ["Gold", "Silver"]
    assert extra["required"] == ["tier"]
    assert extra["additionalProperties"] is False


# --------------------------------------------------------------------------- apply


def test_apply_without_terminal_needs_auto_approve(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    before = dump(db)
    assert run("--sandbox", db, "apply", str(EXAMPLE))[0] == 1
    assert "--auto-approve" in capsys.readouterr().err
    assert dump(db) == before


def test_apply_stale_saved_plan_refused_with_report(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    report = tmp_path / "report.json"
    assert run("--sandbox", db, "plan", str(EXAMPLE), "--out", str(saved))[0] == 0
    # Someone else converges one company meanwhile.
    assert (
        run(
            "--sandbox",
            db,
            "apply",
            str(EXAMPLE),
            "--auto-approve",
            "--target",
            "company/northwind-supply",
        )[0]
        == 0
    )
    before = dump(db)
    code, _ = run(
        "--sandbox",
        db,
        "apply",
        str(EXAMPLE),
        "--plan",
        str(saved),
        "--auto-approve",
        "--report",
        str(report),
    )
    assert code == 1
    assert "stale" in capsys.readouterr().err
    assert dump(db) == before
    assert "stale" in json.loads(report.read_text())["refused"]


def test_apply_refuses_above_max_change_percent(
    manifests: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = manifests / "store.yaml"
    store.write_text(store.read_text().replace("maxChangePercent: 60", "maxChangePercent: 10"))
    before = dump(db)
    assert run("--sandbox", db, "apply", str(manifests), "--auto-approve")[0] == 1
    assert "maxChangePercent" in capsys.readouterr().err
    assert dump(db) == before
    assert run("--sandbox", db, "apply", str(manifests), "--auto-approve", "--force")[0] == 0
    assert run("--sandbox", db, "plan", str(manifests), "--detailed-exitcode")[0] == 0


def test_apply_json_report(db: str) -> None:
    code, text = run("--sandbox", db, "apply", str(EXAMPLE), "--auto-approve", "--format", "json")
    assert code == 0
    report = json.loads(text)  # stdout holds only the report (issue 13)
    assert report["ok"] is True
    assert report["summary"]["applied"] == len(report["results"])


def test_apply_empty_plan_is_a_no_op(db: str) -> None:
    assert run("--sandbox", db, "apply", str(EXAMPLE), "--auto-approve")[0] == 0
    before = dump(db)
    code, text = run("--sandbox", db, "apply", str(EXAMPLE), "--auto-approve")
    assert code == 0
    assert "No changes" in text
    assert dump(db) == before


def test_an_internal_error_is_one_line_without_traceback(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_args: object, **_kw: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr("reconciler.commands.build_plan", broken)
    assert run("--sandbox", db, "plan", str(EXAMPLE))[0] == 1
    err = capsys.readouterr().err
    assert "Internal error: KeyError: 'boom'" in err
    assert "Traceback" not in err
    assert run("-vv", "--sandbox", db, "plan", str(EXAMPLE))[0] == 1
    assert "Traceback" in capsys.readouterr().err
