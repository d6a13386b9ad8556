"""Issue 13: what a new user trips on in the first hour (streams, safety, paths, help, colour).

Each test drives the real CLI against the embedded sandbox (or a served one) and failed before
the change it names.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reconciler.cli import build_parser, main
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


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    copy = tmp_path / "manifests"
    shutil.copytree(EXAMPLE, copy)
    (copy / "sandbox-seed.yaml").unlink()
    (copy / "README.md").unlink()
    return copy


def dump(path: str) -> dict[str, object]:
    with Sandbox(db=path) as sb:
        state = sb.dump()
    state.pop("faults", None)
    return state


def strict_store(manifests: Path) -> None:
    store = manifests / "store.yaml"
    store.write_text(store.read_text().replace("maxChangePercent: 60", "maxChangePercent: 10"))


# --------------------------------------------------------------------------- 3: one JSON document


def test_apply_json_stdout_is_one_document(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run("--sandbox", db, "apply", str(EXAMPLE), "--auto-approve", "--format", "json")
    assert code == 0
    assert json.loads(out)["ok"] is True  # the text plan used to come first
    assert "will make these API calls" in capsys.readouterr().err


def test_apply_json_with_nothing_to_do_is_still_one_document(db: str) -> None:
    assert run("--sandbox", db, "apply", str(EXAMPLE), "--auto-approve")[0] == 0
    code, out = run("--sandbox", db, "apply", str(EXAMPLE), "--auto-approve", "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True
    assert report["results"] == []


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_github_annotations_stay_off_json_stdout(
    command: str,
    manifests: Path,
    db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    company = manifests / "companies/northwind-supply.yaml"
    company.write_text(company.read_text().replace("companyPhone:", "companyPhon:", 1))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out = run("--sandbox", db, command, str(manifests), "--format", "json")
    assert code == 1
    assert "::error" not in out
    if out.strip():
        json.loads(out)
    assert "::error file=" in capsys.readouterr().err


# --------------------------------------------------------------------------- 4: maxChangePercent


def test_max_change_percent_shown_at_plan_time(manifests: Path, db: str) -> None:
    strict_store(manifests)
    code, text = run("--sandbox", db, "plan", str(manifests))
    assert code == 0
    assert re.search(r"Warning:.*more than maxChangePercent 10%.*--force", text)
    body = json.loads(run("--sandbox", db, "plan", str(manifests), "--format", "json")[1])
    assert any("maxChangePercent 10%" in w for w in body["warnings"])
    md = run("--sandbox", db, "plan", str(manifests), "--format", "markdown")[1]
    assert "> [!CAUTION]" in md
    assert "maxChangePercent 10%" in md
    # Under the limit: no such warning.
    body = json.loads(run("--sandbox", db, "plan", str(EXAMPLE), "--format", "json")[1])
    assert not any("maxChangePercent" in w for w in body["warnings"])


def test_max_change_percent_checked_before_the_prompt(
    manifests: Path, db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    strict_store(manifests)
    asked: list[str] = []

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

        def readline(self, size: int | None = -1) -> str:
            asked.append("read")
            return "yes\n"

    monkeypatch.setattr(sys, "stdin", Terminal())
    before = dump(db)
    code, out = run("--sandbox", db, "apply", str(manifests))
    assert code == 1
    assert asked == []  # refused before asking: a typed "yes" is never wasted
    assert "Enter a value" not in out
    assert "maxChangePercent" in capsys.readouterr().err
    assert dump(db) == before


# --------------------------------------------------------------------------- 6: output paths


def test_unwritable_report_is_refused_before_any_request(db: str, tmp_path: Path) -> None:
    before = dump(db)
    report = tmp_path / "no-such-folder" / "report.json"
    code, _ = run("--sandbox", db, "apply", str(EXAMPLE), "--auto-approve", "--report", str(report))
    assert code == 1
    assert dump(db) == before  # used to apply everything, then fail to write the report
    code, _ = run(
        "--sandbox", db, "apply", str(EXAMPLE), "--auto-approve", "--report", str(tmp_path)
    )
    assert code == 1
    assert dump(db) == before


def test_unwritable_plan_out_is_refused_before_reading(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run("--sandbox", db, "plan", str(EXAMPLE), "--out", str(tmp_path / "x" / "p.json"))
    assert code == 1
    assert out == ""  # no plan was read or printed
    assert "--out" in capsys.readouterr().err


def test_import_out_under_a_file_is_refused_first(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _ = run("--sandbox", db, "import", "--out", str(blocker / "manifests"))
    assert code == 1
    assert "not a folder" in capsys.readouterr().err


# --------------------------------------------------------------------------- 9: ASCII streams


def test_ascii_stream_falls_back_to_ascii_symbols(db: str, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONIOENCODING="ascii", NO_COLOR="1")
    env.pop("B2B_SANDBOX", None)
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "--sandbox", db, "plan", str(EXAMPLE)],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode("ascii")  # every byte is ASCII
    assert "Internal error" not in result.stderr.decode("ascii")
    assert "->" in text
    assert "reassign" in text


# --------------------------------------------------------------------------- 11: polish


def test_every_option_has_help_and_the_epilog_names_env_and_exit_codes() -> None:
    parser = build_parser()
    seen = []

    def walk(p: object) -> None:
        import argparse

        assert isinstance(p, argparse.ArgumentParser)
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    walk(child)
                continue
            seen.append(action.dest)
            assert action.help, f"{p.prog} {action.option_strings or action.dest}: no help"

    walk(parser)
    assert len(seen) > 40
    text = parser.format_help()
    for word in ("BIGCOMMERCE_ACCESS_TOKEN", "BIGCOMMERCE_API_URL", "NO_COLOR", "exit codes"):
        assert word in text
    plan_help = build_parser()._subparsers._group_actions[0].choices["plan"].format_help()  # type: ignore[union-attr]
    assert "--detailed-exitcode" in plan_help
    assert "exit codes" in plan_help


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell: str) -> None:
    code, text = run("completion", shell)
    assert code == 0
    for word in ("plan", "apply", "import", "detailed-exitcode", "auto-approve"):
        assert word in text
    if shell == "bash" and shutil.which("bash"):
        check = subprocess.run(
            ["bash", "-c", text + "\ncomplete -p b2b-reconcile"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert check.returncode == 0, check.stderr
        probe = subprocess.run(
            [
                "bash",
                "-c",
                text + "\nCOMP_WORDS=(b2b-reconcile plan --det); COMP_CWORD=2; _b2b_reconcile; "
                'printf "%s\\n" "${COMPREPLY[@]}"',
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert probe.stdout.split() == ["--detailed-exitcode"], probe.stderr


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def _plan_colour(db: str, monkeypatch: pytest.MonkeyPatch, out: io.StringIO, **env: str) -> bool:
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["--sandbox", db, "plan", str(EXAMPLE)], out=out) == 0
    return bool(ANSI.search(out.getvalue()))


def test_colour_follows_no_color_and_force_color(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _plan_colour(db, monkeypatch, _Tty())
    assert _plan_colour(db, monkeypatch, _Tty(), NO_COLOR="")  # empty: does not disable
    assert not _plan_colour(db, monkeypatch, _Tty(), NO_COLOR="1")
    assert not _plan_colour(db, monkeypatch, _Pipe())
    assert _plan_colour(db, monkeypatch, _Pipe(), FORCE_COLOR="1")
    assert not _plan_colour(db, monkeypatch, _Pipe(), FORCE_COLOR="")
    assert not _plan_colour(db, monkeypatch, _Pipe(), FORCE_COLOR="1", NO_COLOR="1")


def test_demo_honours_no_color(tmp_path: Path) -> None:
    if not shutil.which("bash"):
        pytest.skip("no bash")
    env = dict(os.environ, DEMO_OUT=str(tmp_path / "demo"), NO_COLOR="1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        ["bash", str(ROOT / "examples/demo.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "$ b2b-reconcile validate" in result.stdout
    assert not ANSI.search(result.stdout + result.stderr)  # the banners used to be bold always


def test_out_hint_names_the_program_and_options(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    assert run("--sandbox", db, "plan", str(EXAMPLE), "--out", str(saved))[0] == 0
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "apply it with" in x)
    command = line.split("apply it with: ", 1)[1]
    assert command.startswith(f"b2b-reconcile --sandbox {db} apply")
    assert f"--plan {saved}" in command
    args = command.split()[1:]
    assert run(*args, "--auto-approve")[0] == 0  # the hint works as printed


def test_empty_plan_still_writes_the_report(db: str, tmp_path: Path) -> None:
    assert run("--sandbox", db, "apply", str(EXAMPLE), "--auto-approve")[0] == 0
    report = tmp_path / "report.json"
    assert (
        run("--sandbox", db, "apply", str(EXAMPLE), "--auto-approve", "--report", str(report))[0]
        == 0
    )
    body = json.loads(report.read_text())
    assert body["ok"] is True
    assert body["results"] == []


def test_readme_reliability_figures_agree_with_docs() -> None:
    readme = (ROOT / "README.md").read_text()
    docs = (ROOT / "docs/reliability.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| apply under faults"))
    figures = re.findall(r"\b\d{1,3}(?:,\d{3})+\b|\b\d{2,}\b", row)
    assert len(figures) >= 5
    for figure in figures:  # README used to say 4,856 faults and 1,669 stores; the docs 4,130
        assert re.search(rf"(?<!\d)(?<!\d,){figure}(?!\d|,\d)", docs), figure


# --------------------------------------------------------------------------- 13: compact Markdown


def _details_balanced(md: str) -> bool:
    depth = 0
    for line in md.splitlines():
        depth += line.count("<details>") - line.count("</details>")
        if depth < 0:
            return False
    return depth == 0


def test_compact_markdown_shows_the_first_resources_and_counts_the_rest(db: str) -> None:
    code, full = run("--sandbox", db, "plan", str(EXAMPLE), "--format", "markdown")
    assert code == 0
    resources = full.count("<details>")
    assert resources > 3
    code, md = run("--sandbox", db, "plan", str(EXAMPLE), "--format", "markdown", "--compact", "2")
    assert code == 0
    assert md.count("<details>") == 2  # the option did not exist
    assert f"**{resources - 2} more resources**" in md
    assert "| **total** |" in md  # the summary table stays
    assert _details_balanced(md)


def test_huge_markdown_never_ends_inside_details(db: str) -> None:
    from dataclasses import replace

    from reconciler.planfile import load_plan
    from reconciler.render import render_plan_markdown

    saved = Path(db).with_suffix(".plan.json")
    assert run("--sandbox", db, "plan", str(EXAMPLE), "--out", str(saved))[0] == 0
    plan = load_plan(str(saved))
    many = tuple(
        replace(a, resource=f"{a.resource}-{i}", id=f"{a.id}-{i}")
        for i in range(400)
        for a in plan.actions
    )
    big = replace(plan, actions=many)
    md = render_plan_markdown(big)
    assert len(md) < 65_536  # GitHub's comment limit; it used to be far larger
    assert _details_balanced(md)
    assert "more resources** (" in md
    assert md.rstrip().endswith("(left untouched).")


# --------------------------------------------------------------------------- 5: serve exports


def _serve_exports(db: str) -> tuple[dict[str, str], str, threading.Event, threading.Thread]:
    from reconciler.sandbox import commands as sandbox_commands

    out, stop = io.StringIO(), threading.Event()
    thread = threading.Thread(
        target=sandbox_commands.serve,
        args=(db, "127.0.0.1", 0),
        kwargs={"out": out, "stop": stop},
    )
    thread.start()
    for _ in range(500):
        if "BIGCOMMERCE_STORE_HASH" in out.getvalue():
            break
        stop.wait(0.01)
    text = out.getvalue()
    exports = {}
    for line in text.splitlines():
        if line.startswith("export "):
            name, _, value = shlex.split(line, comments=True)[1].partition("=")
            exports[name] = value
    return exports, text, stop, thread


@pytest.mark.served
def test_serve_prints_exports_that_work(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    exports, text, stop, thread = _serve_exports(db)
    try:
        assert set(exports) == {
            "B2B_API_URL",
            "BIGCOMMERCE_API_URL",
            "BIGCOMMERCE_STORE_HASH",
            "BIGCOMMERCE_ACCESS_TOKEN",
        }, text  # there were none; "core API" was a URL that 404s as BIGCOMMERCE_API_URL
        monkeypatch.delenv("B2B_SANDBOX", raising=False)
        for name, value in exports.items():
            monkeypatch.setenv(name, value)
        code, out = run("plan", str(EXAMPLE), "--detailed-exitcode")
        assert code == 2, capsys.readouterr().err
        assert "convert" in out
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


@pytest.mark.served
def test_serve_never_prints_the_seeds_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        SEED.read_text().replace(
            "store: {hash: demo01,", "store: {accessToken: tok-Secret-42, hash: demo01,", 1
        )
    )
    db = str(tmp_path / "tok.db")
    assert run("sandbox", "init", "--db", db, "--seed", str(seed))[0] == 0
    exports, text, stop, thread = _serve_exports(db)
    try:
        assert "tok-Secret-42" not in text
        assert "BIGCOMMERCE_ACCESS_TOKEN" not in exports
        monkeypatch.delenv("B2B_SANDBOX", raising=False)
        for name, value in exports.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", "tok-Secret-42")
        assert run("plan", str(EXAMPLE))[0] == 0
    finally:
        stop.set()
        thread.join(10)


# --------------------------------------------------------------------------- 12: plan-time checks


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_store_dependent_plan_errors_are_annotated_at_the_manifest_line(
    manifests: Path, db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    company = manifests / "companies/harbor-hospitality.yaml"
    company.write_text(company.read_text().replace('catalogId: "6"', 'catalogId: "99"'))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out = run("--sandbox", db, "plan", str(manifests), "--format", "json")
    assert code == 1
    assert out == ""
    err = capsys.readouterr().err
    line = _line_of(company, "catalogId")
    # Schema errors had annotations; plan-time errors from the store had none.
    assert re.search(
        rf"^::error file=[^,]*harbor-hospitality\.yaml,line={line},col=\d+::.*price list 99",
        err,
        re.M,
    ), err


def test_admin_email_of_an_existing_company_user_is_caught_at_plan_time(
    manifests: Path, db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    company = manifests / "companies/harbor-hospitality.yaml"
    taken = "dana.okafor@northwind-supply.example"  # a user of company 1001 in the seed
    company.write_text(company.read_text().replace("marco.bellini@harborvine.example", taken))
    before = dump(db)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, _ = run("--sandbox", db, "plan", str(manifests))
    assert code == 1  # the plan used to succeed and apply to fail with 422
    err = capsys.readouterr().err
    assert f"{taken} is already a user of company 1001" in err
    line = _line_of(company, taken)
    assert re.search(rf"^::error file=[^,]*harbor-hospitality\.yaml,line={line},", err, re.M)
    assert run("--sandbox", db, "apply", str(manifests), "--auto-approve")[0] == 1
    assert dump(db) == before
    # Upper case in the manifest is the same e-mail.
    company.write_text(company.read_text().replace(taken, taken.upper()))
    assert run("--sandbox", db, "plan", str(manifests))[0] == 1


# --------------------------------------------------------------------------- 10: -v and -vv


def test_verbose_shows_requests_and_very_verbose_the_retries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "tok-Verbose-7731"
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        SEED.read_text().replace(
            "store: {hash: demo01,", f"store: {{accessToken: {token}, hash: demo01,", 1
        )
        + '\nfaults:\n  - {method: GET, path: "/api/v3/io/companies", status: 503, times: 1}\n'
    )
    db = str(tmp_path / "v.db")
    assert run("sandbox", "init", "--db", db, "--seed", str(seed))[0] == 0
    capsys.readouterr()
    assert run("--sandbox", db, "-v", "plan", str(EXAMPLE))[0] == 0
    err = capsys.readouterr().err
    # -v used to show only request counts: now each request, with status and time.
    assert re.search(r"^GET /companies -> 503 in \d+ ms$", err, re.M), err
    assert re.search(r"^GET /companies -> 200 in \d+ ms$", err, re.M), err
    assert re.search(r"^GET /v2/orders -> \d{3} in \d+ ms$", err, re.M), err
    assert "retrying in" not in err
    assert token not in err
    with Sandbox(db=db) as sb:
        sb.set_faults(
            [{"method": "GET", "path": "/api/v3/io/companies", "status": 503, "times": 1}]
        )
    assert run("--sandbox", db, "-vv", "plan", str(EXAMPLE))[0] == 0
    err = capsys.readouterr().err
    assert re.search(r"^retrying in \d+\.\d\d s: GET /companies answered 503$", err, re.M), err
    assert token not in err


def test_out_hint_without_paths_names_the_folder(
    db: str, manifests: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(manifests)
    assert run("--sandbox", db, "plan", "--out", "plan.json")[0] == 0
    err = capsys.readouterr().err
    command = err.split("apply it with: ", 1)[1].splitlines()[0]
    assert command == f"b2b-reconcile --sandbox {db} apply . --plan plan.json"
    assert run(*shlex.split(command)[1:], "--auto-approve")[0] == 0


def test_show_compact_and_schema_out_checked(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    assert run("--sandbox", db, "plan", str(EXAMPLE), "--out", str(saved))[0] == 0
    code, md = run("show", str(saved), "--format", "markdown", "--compact", "1")
    assert code == 0
    assert md.count("<details>") == 1
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert run("schema", "--out", str(blocker / "schemas"))[0] == 1
    assert "not a folder" in capsys.readouterr().err


def test_readme_command_table_names_every_option() -> None:
    import argparse

    readme = (ROOT / "README.md").read_text()
    rows: dict[str, str] = {}
    for m in re.finditer(r"^\| `(\w+)[ `][^|]*\|.*$", readme, re.M):
        rows.setdefault(m.group(1), m.group(0))  # the command table comes first
    parser = build_parser()
    glob = {o for a in parser._actions for o in a.option_strings}

    def commands(p: argparse.ArgumentParser, prefix: str = "") -> dict[str, object]:
        found: dict[str, object] = {}
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    found[prefix + name] = child
                    found.update(commands(child, prefix + name + " "))
        return found

    for name, child in commands(parser).items():
        assert isinstance(child, argparse.ArgumentParser)
        row = rows.get(name.split()[0], "")
        assert row, f"README's command table has no row for {name}"
        options = {
            o
            for a in child._actions
            if a.help != argparse.SUPPRESS
            for o in a.option_strings
            if o.startswith("--")
        } - glob
        for option in sorted(options):
            shown = option in row or option.replace("--no-", "--[no-]") in row
            shown = shown or "--[no-]" + option.removeprefix("--") in row
            assert shown, f"{name} {option} is missing from the README's command table"
