"""The CI examples (examples/ci) and the pre-commit hooks stay true to the real command line.

Every ``b2b-reconcile ...`` command in every GitHub workflow, the GitLab pipeline and the
pre-commit hooks is extracted the way a shell would see it and parsed with the real
``reconciler.cli.build_parser()``; the workflows are checked for the triggers, permissions,
concurrency and secret handling that examples/ci/README.md promises.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "examples" / "ci"
GITHUB = CI / "github"
PLAN_WF = GITHUB / "b2b-plan.yml"
APPLY_WF = GITHUB / "b2b-apply.yml"
DRIFT_WF = GITHUB / "b2b-drift.yml"
WORKFLOWS = (PLAN_WF, APPLY_WF, DRIFT_WF)
GITLAB = CI / "gitlab" / ".gitlab-ci.yml"
PRECOMMIT_EXAMPLE = CI / "pre-commit-config.yaml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
README = CI / "README.md"
CHANGELOG = ROOT / "CHANGELOG.md"
YAML_FILES = (*WORKFLOWS, GITLAB, PRECOMMIT_EXAMPLE, HOOKS)
ALL_FILES = (*YAML_FILES, README)

PLAN_MARKER = "<!-- b2b-reconcile-plan -->"
PLACEHOLDER = "PLACEHOLDER"
COMMAND = "b2b-reconcile"
# GitLab keys that are not jobs.
GITLAB_RESERVED = {
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
}
SHELL_OPERATORS = {";", ";;", "&", "&&", "|", "||", "|&", "(", ")"}
REDIRECTIONS = {">", ">>", "<", ">&", "<&", "&>", "&>>", ">|", "<>", "<<", "<<<"}


def load(path: Path) -> Any:
    """A YAML file, parsed safely."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """A workflow's ``on:`` (YAML 1.1 reads the bare key ``on`` as the boolean True)."""
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    assert isinstance(on, dict)
    return on


# --------------------------------------------------------------------------- shell extraction


def _substitute_commands(text: str, found: list[str]) -> str:
    """Replace each ``$(...)`` and backquoted command by a placeholder; collect its inside."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$((", i):  # arithmetic, not a command
            end = text.find("))", i)
            out.append(PLACEHOLDER)
            i = len(text) if end < 0 else end + 2
        elif text.startswith("$(", i):
            depth, j, quote = 1, i + 2, ""
            while j < len(text) and depth:
                ch = text[j]
                if quote:
                    quote = "" if ch == quote else quote
                elif ch in "'\"":
                    quote = ch
                elif ch == "(":
                    depth += 1
                elif ch == ")":
                    depth -= 1
                j += 1
            found.append(_substitute_commands(text[i + 2 : j - 1], found))
            out.append(PLACEHOLDER)
            i = j
        elif text[i] == "`":
            end = text.find("`", i + 1)
            end = len(text) if end < 0 else end
            found.append(_substitute_commands(text[i + 1 : end], found))
            out.append(PLACEHOLDER)
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _replace_expressions(text: str) -> str:
    """``${{ ... }}``, ``${VAR}``, ``$VAR``, ``$?`` and the like become one placeholder word."""
    text = re.sub(r"\$\{\{.*?\}\}", PLACEHOLDER, text, flags=re.DOTALL)
    text = re.sub(r"\$\{[^}]*\}", PLACEHOLDER, text)
    return re.sub(r"\$(?:[A-Za-z_][A-Za-z0-9_]*|[0-9?#@*!$-])", PLACEHOLDER, text)


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def _simple_commands(tokens: list[str]) -> Iterator[list[str]]:
    """Split at shell operators; drop redirections and their targets."""
    current: list[str] = []
    skip_next = False
    for token in tokens:
        if skip_next:
            skip_next = False
        elif token in SHELL_OPERATORS:
            yield current
            current = []
        elif token in REDIRECTIONS:
            skip_next = True
        else:
            current.append(token)
    yield current


def commands_in_script(script: str) -> list[list[str]]:
    """Every ``b2b-reconcile`` argv (without the program name) in a shell script."""
    script = script.replace("\\\r\n", " ").replace("\\\n", " ")
    texts: list[str] = []
    logical: list[str] = []
    pending = ""
    for raw in script.splitlines():
        pending = f"{pending}\n{raw}" if pending else raw
        try:
            shlex.split(_replace_expressions(pending), comments=True)
        except ValueError:  # an open quote: the command goes on on the next line
            continue
        logical.append(pending)
        pending = ""
    if pending:
        logical.append(pending)
    for line in logical:
        texts.append(_substitute_commands(line, texts))
    found: list[list[str]] = []
    for text in texts:
        # "2>&1", "2> err": the digit is a file descriptor, not an argument.
        text = re.sub(r"(?<![\w/.-])\d+(?=[<>])", " ", _replace_expressions(text))
        for words in _simple_commands(_tokens(text)):
            for i, word in enumerate(words):
                if word == COMMAND or word.endswith("/" + COMMAND):
                    found.append(words[i + 1 :])
                    break
                if word == "-m" and i + 1 < len(words) and words[i + 1] == "reconciler":
                    found.append(words[i + 2 :])
                    break
    return found


@dataclass(frozen=True)
class Script:
    """One shell script of a CI file and where it is."""

    where: str
    text: str


def github_scripts(path: Path) -> list[Script]:
    """Every ``run:`` of a workflow (``with: script:`` of github-script is JavaScript)."""
    workflow = load(path)
    return [
        Script(f"{path.name}:{job_id}:{step.get('name', step.get('uses', index))}", step["run"])
        for job_id, job in workflow["jobs"].items()
        for index, step in enumerate(job.get("steps", []))
        if "run" in step
    ]


def gitlab_scripts(path: Path) -> list[Script]:
    """Every ``script``/``before_script``/``after_script`` of the pipeline, default included."""
    pipeline = load(path)
    found: list[Script] = []
    for name, job in pipeline.items():
        if not isinstance(job, dict) or (name in GITLAB_RESERVED and name != "default"):
            continue
        for key in ("before_script", "script", "after_script"):
            lines = job.get(key)
            if lines is None:
                continue
            for index, line in enumerate([lines] if isinstance(lines, str) else lines):
                assert isinstance(line, str), f"{name}.{key}[{index}] is not a string"
                found.append(Script(f"{path.name}:{name}:{key}[{index}]", line))
    return found


def all_scripts() -> list[Script]:
    """The shell of every CI file."""
    return [s for wf in WORKFLOWS for s in github_scripts(wf)] + gitlab_scripts(GITLAB)


def parse(argv: list[str], where: str) -> argparse.Namespace:
    """Parse with the real parser; fail the test (not exit) on a usage error."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{where}: `b2b-reconcile {shlex.join(argv)}` does not parse (exit {exc.code})")


def parsed(scripts: list[Script]) -> list[argparse.Namespace]:
    """Every b2b-reconcile command in these scripts, parsed."""
    return [parse(argv, s.where) for s in scripts for argv in commands_in_script(s.text)]


def find(
    namespaces: list[argparse.Namespace], command: str, **expected: object
) -> argparse.Namespace:
    """The first parsed command with these values."""
    for ns in namespaces:
        if ns.command == command and all(getattr(ns, k, None) == v for k, v in expected.items()):
            return ns
    pytest.fail(f"no `{command}` with {expected} among {namespaces}")


# --------------------------------------------------------------------------- the extractor itself


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("b2b-reconcile validate manifests/", [["validate", "manifests/"]]),
        (
            "b2b-reconcile plan manifests/ \\\n  --out plan.json \\\n  --detailed-exitcode",
            [["plan", "manifests/", "--out", "plan.json", "--detailed-exitcode"]],
        ),
        (
            'b2b-reconcile show plan.json --format markdown >> "$GITHUB_STEP_SUMMARY" 2>&1',
            [["show", "plan.json", "--format", "markdown"]],
        ),
        (
            "b2b-reconcile show p.json --format json | python -c 'import sys' > r.json",
            [["show", "p.json", "--format", "json"]],
        ),
        (
            "rc=0; b2b-reconcile plan m/ --detailed-exitcode || rc=$?\nexit $rc",
            [["plan", "m/", "--detailed-exitcode"]],
        ),
        (
            'count="$(b2b-reconcile show "${PLAN}" --format json | jq .summary.total)"',
            [["show", PLACEHOLDER, "--format", "json"]],
        ),
        (
            "b2b-reconcile --store-hash ${{ secrets.HASH }} plan # b2b-reconcile nope",
            [["--store-hash", PLACEHOLDER, "plan"]],
        ),
        ("python -m reconciler schema Company", [["schema", "Company"]]),
        ('pip install "b2b-reconciler==${VERSION}"; echo "b2b-reconcile plan"', []),
        ("if b2b-reconcile validate .; then echo ok; fi", [["validate", "."]]),
    ],
)
def test_extractor_reads_commands_as_a_shell_would(script: str, expected: list[list[str]]) -> None:
    assert commands_in_script(script) == expected


def test_the_real_parser_rejects_a_bad_command() -> None:
    with pytest.raises(pytest.fail.Exception):
        parse(["plan", "--format", "yaml"], "self-check")


# --------------------------------------------------------------------------- every file


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_yaml_parses(path: Path) -> None:
    assert path.is_file(), path
    assert load(path), f"{path} is empty"


def test_readme_exists_and_names_every_file() -> None:
    text = README.read_text(encoding="utf-8")
    for name in ("b2b-plan.yml", "b2b-apply.yml", "b2b-drift.yml", ".gitlab-ci.yml"):
        assert name in text
    for name in ("pre-commit-config.yaml", "BIGCOMMERCE_STORE_HASH", "BIGCOMMERCE_ACCESS_TOKEN"):
        assert name in text
    assert PLAN_MARKER in text
    assert ".github/workflows/" in text


@pytest.mark.parametrize("script", all_scripts(), ids=lambda s: s.where)
def test_every_command_line_parses(script: Script) -> None:
    for argv in commands_in_script(script.text):
        parse(argv, script.where)


def test_readme_commands_parse() -> None:
    text = README.read_text(encoding="utf-8")
    spans = [s for s in re.findall(r"`([^`\n]+)`", text) if s.startswith(COMMAND + " ")]
    assert len(spans) >= 5
    for span in spans:
        for argv in commands_in_script(span):
            parse(argv, f"README: {span}")


@pytest.mark.parametrize(
    ("path", "count"),
    [(PLAN_WF, 3), (APPLY_WF, 4), (DRIFT_WF, 1), (GITLAB, 8)],
    ids=lambda v: v.name if isinstance(v, Path) else str(v),
)
def test_every_command_is_found(path: Path, count: int) -> None:
    """As many commands as a reader counts: none is lost to the extraction."""
    scripts = gitlab_scripts(path) if path == GITLAB else github_scripts(path)
    assert sum(len(commands_in_script(s.text)) for s in scripts) == count


# --------------------------------------------------------------------------- GitHub


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _permissions(workflow: dict[str, Any]) -> list[dict[str, str]]:
    found = [workflow.get("permissions") or {}]
    found += [job.get("permissions") or {} for job in workflow["jobs"].values()]
    return found


def test_plan_workflow() -> None:
    workflow = load(PLAN_WF)
    on = triggers(workflow)
    assert "pull_request" in on
    assert "pull_request_target" not in on, "would hand the secrets to forks' code"
    assert any("manifests/" in p for p in on["pull_request"]["paths"])
    assert workflow["permissions"] == {"contents": "read"}
    assert any(p.get("pull-requests") == "write" for p in _permissions(workflow))
    for perms in _permissions(workflow):
        assert set(perms) <= {"contents", "pull-requests"}
        assert perms.get("contents", "read") == "read"
    steps = _steps(workflow)
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in steps)
    # Python comes with the tool: the action sets up its own (action.yml).
    assert any(s.get("uses", "").startswith(TOOL_REPO + "@") for s in steps)
    script_steps = [s for s in steps if s.get("uses", "").startswith("actions/github-script@")]
    assert script_steps
    assert PLAN_MARKER in script_steps[0]["with"]["script"]
    assert "updateComment" in script_steps[0]["with"]["script"]
    assert "createComment" in script_steps[0]["with"]["script"]
    assert "b2b-reconciler==" not in PLAN_WF.read_text(encoding="utf-8"), "no index has it"

    commands = parsed(github_scripts(PLAN_WF))
    find(commands, "validate", paths=["manifests/"])
    find(commands, "plan", out="plan.json", detailed_exitcode=True)
    find(commands, "show", file="plan.json", format="markdown")
    plan_run = next(s["run"] for s in steps if "b2b-reconcile plan" in s.get("run", ""))
    assert "set +e" in plan_run, "exit 2 (changes) must not stop the step"
    assert "GITHUB_STEP_SUMMARY" in PLAN_WF.read_text(encoding="utf-8")


def test_apply_workflow() -> None:
    workflow = load(APPLY_WF)
    on = triggers(workflow)
    assert on["push"]["branches"] == ["main"]
    assert any("manifests/" in p for p in on["push"]["paths"])
    concurrency = workflow.get("concurrency") or next(
        job["concurrency"] for job in workflow["jobs"].values() if "concurrency" in job
    )
    assert concurrency["group"].startswith("b2b-apply-")
    assert concurrency["cancel-in-progress"] is False
    (job,) = workflow["jobs"].values()
    assert job["environment"] == "production"

    commands = parsed(github_scripts(APPLY_WF))
    plan = find(commands, "plan", out="plan.json")
    apply = find(commands, "apply", plan="plan.json", auto_approve=True, report="report.json")
    assert "--auto-approve" in APPLY_WF.read_text(encoding="utf-8")
    assert not apply.force, "the change-size guard stays on in CI"
    assert not plan.detailed_exitcode

    uploads = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads
    assert uploads[0]["if"] == "always()"
    assert "report.json" in uploads[0]["with"]["path"]


def test_drift_workflow() -> None:
    workflow = load(DRIFT_WF)
    on = triggers(workflow)
    assert on["schedule"][0]["cron"]
    assert "workflow_dispatch" in on
    assert "--detailed-exitcode" in DRIFT_WF.read_text(encoding="utf-8")
    find(parsed(github_scripts(DRIFT_WF)), "plan", detailed_exitcode=True, format="markdown")
    for perms in _permissions(workflow):
        assert set(perms) <= {"contents", "issues"}
    scripts = [
        s["with"]["script"] for s in _steps(workflow) if "github-script" in s.get("uses", "")
    ]
    assert any(
        "b2b-drift" in s and "issues.create(" in s and "issues.update(" in s for s in scripts
    )
    plan_step = next(s for s in _steps(workflow) if "b2b-reconcile plan" in s.get("run", ""))
    assert "set +e" in plan_step["run"]
    assert "exit 1" in plan_step["run"], "a failing plan fails the job"


# The tool's repository as the examples name it, and the forms a pin may take.
TOOL_REPO = "your-org/b2b-reconciler"
PIN = re.compile(r"v(\d+\.\d+\.\d+)|[0-9a-f]{40}")


def assert_pinned(ref: str, where: str) -> None:
    """A release tag that CHANGELOG.md has a section for, or a full commit SHA."""
    match = PIN.fullmatch(ref)
    assert match, f"{where}: {ref!r} is neither a release tag nor a full commit SHA"
    if match.group(1):
        released = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", CHANGELOG.read_text("utf-8"), re.M)
        assert match.group(1) in released, f"{where}: {ref} has no section in CHANGELOG.md"


def example_pins() -> dict[str, str]:
    """Every place an example pins the tool, and the ref it pins."""
    pins = {
        f"{wf.name}:{job_id}": step["uses"].split("@", 1)[1]
        for wf in WORKFLOWS
        for job_id, job in load(wf)["jobs"].items()
        for step in job.get("steps", [])
        if step.get("uses", "").startswith(TOOL_REPO + "@")
    }
    pins[".gitlab-ci.yml"] = load(GITLAB)["variables"]["B2B_RECONCILER_REF"]
    for repo in load(PRECOMMIT_EXAMPLE)["repos"]:
        if repo["repo"].endswith(TOOL_REPO):
            pins["pre-commit-config.yaml"] = repo["rev"]
    commented = re.search(r"git\+https://\S+@(\S+?)\"", PRECOMMIT_EXAMPLE.read_text("utf-8"))
    assert commented
    pins["pre-commit-config.yaml (local hook)"] = commented.group(1)
    return pins


def test_every_example_pins_the_same_release() -> None:
    pins = example_pins()
    assert len(pins) == 7, pins
    for where, ref in pins.items():
        assert_pinned(ref, where)
    assert len(set(pins.values())) == 1, pins


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_install_the_tool_with_the_action(path: Path) -> None:
    """Each job that runs b2b-reconcile first installs it with the repository's action, at a
    pinned ref; nothing installs it from a package index."""
    for job_id, job in load(path)["jobs"].items():
        steps = job.get("steps", [])
        uses_tool = [i for i, s in enumerate(steps) if "run" in s and commands_in_script(s["run"])]
        if not uses_tool:
            continue
        installs = [i for i, s in enumerate(steps) if s.get("uses", "").startswith(TOOL_REPO + "@")]
        assert len(installs) == 1, f"{path.name}:{job_id}: install once"
        assert installs[0] < uses_tool[0], f"{path.name}:{job_id}: install before use"
    assert "pip install" not in path.read_text(encoding="utf-8")


def test_gitlab_installs_from_git_at_the_pinned_ref() -> None:
    pipeline = load(GITLAB)
    assert pipeline["variables"]["B2B_RECONCILER_GIT"] == f"https://github.com/{TOOL_REPO}"
    install = pipeline["default"]["before_script"]
    assert install == [
        'python -m pip install --quiet "b2b-reconciler @ '
        'git+${B2B_RECONCILER_GIT}@${B2B_RECONCILER_REF}"'
    ]
    assert "slim" not in pipeline["default"]["image"], "pip needs git for a Git URL"
    assert "b2b-reconciler==" not in GITLAB.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- GitLab


def test_gitlab_pipeline() -> None:
    pipeline = load(GITLAB)
    jobs = {k: v for k, v in pipeline.items() if k not in GITLAB_RESERVED}
    plan_job, apply_job, drift_job = jobs["b2b-plan"], jobs["b2b-apply"], jobs["b2b-drift"]

    assert "merge_request_event" in str(plan_job["rules"])
    assert plan_job["artifacts"]["reports"]["terraform"] == "plan-report.json"
    assert "plan.json" in plan_job["artifacts"]["paths"]
    plan_cmds = parsed(gitlab_scripts(GITLAB))
    find(plan_cmds, "validate", paths=["manifests/"])
    find(plan_cmds, "plan", out="plan.json", detailed_exitcode=True)
    find(plan_cmds, "show", file="plan.json", format="json")
    find(plan_cmds, "show", file="plan.json", format="markdown")

    assert apply_job["resource_group"] == "b2b-apply"
    assert "CI_DEFAULT_BRANCH" in str(apply_job["rules"])
    apply_cmds = parsed([Script("b2b-apply", line) for line in apply_job["script"]])
    find(apply_cmds, "apply", plan="plan.json", auto_approve=True, report="report.json")
    assert apply_job["artifacts"]["when"] == "always"

    assert "schedule" in str(drift_job["rules"])
    drift_cmds = parsed([Script("b2b-drift", line) for line in drift_job["script"]])
    find(drift_cmds, "plan", detailed_exitcode=True)
    assert drift_job["allow_failure"]["exit_codes"] == [2]


def test_gitlab_terraform_report_counts(tmp_path: Path) -> None:
    """The report line, fed a plan summary, writes the widget's create/update/delete counts."""
    line = next(s for s in load(GITLAB)["b2b-plan"]["script"] if "plan-report.json" in s)
    assert line.startswith("b2b-reconcile show plan.json --format json")
    summary = {
        "convert": 1,
        "create": 2,
        "update": 3,
        "setStatus": 1,
        "setCatalog": 1,
        "reassign": 4,
        "assign": 2,
        "updateOrder": 1,
        "total": 15,
        "apiRequests": 20,
        "estimatedSeconds": 10.0,
    }
    fake = tmp_path / "b2b-reconcile"
    fake.write_text(
        f"#!{sys.executable}\nimport json\nprint(json.dumps({{'summary': {summary!r}}}))\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    python = tmp_path / "python"
    python.symlink_to(sys.executable)
    subprocess.run(
        ["/bin/sh", "-ec", line],
        cwd=tmp_path,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
        check=True,
    )
    report = yaml.safe_load((tmp_path / "plan-report.json").read_text(encoding="utf-8"))
    assert report == {"create": 3, "update": 12, "delete": 0}


# --------------------------------------------------------------------------- secrets

TOKEN_SHAPES = (
    re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[a-zA-Z])[A-Za-z0-9]{24,}"),
    re.compile(r"\b(?:ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{10,}"),
    re.compile(r"\bglpat-[A-Za-z0-9_-]{10,}"),
    re.compile(r"\bAKIA[0-9A-Z]{12,}"),
)
SECRET_KEY = re.compile(r"token|secret|password|passwd|api_?key|access_?key", re.IGNORECASE)
SECRET_REFERENCE = re.compile(
    r"\$\{\{\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?"
)


def _token_looking(text: str) -> list[str]:
    return [m.group(0) for shape in TOKEN_SHAPES for m in shape.finditer(text)]


def test_the_token_detector_works() -> None:
    fake = "a1b2" * 8  # built here so that no file, this one included, holds one literally
    assert _token_looking(f"BIGCOMMERCE_ACCESS_TOKEN: {fake}")
    assert _token_looking("token: glpat-" + "x" * 20)
    assert not _token_looking("uses: actions/upload-artifact@v6 b2b-reconcile-validate-files")


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_literal_tokens(path: Path) -> None:
    assert _token_looking(path.read_text(encoding="utf-8")) == []


def _mappings(node: object) -> Iterator[dict[Any, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _mappings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _mappings(value)


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_secrets_are_only_referenced(path: Path) -> None:
    for mapping in _mappings(load(path)):
        for key, value in mapping.items():
            if isinstance(key, str) and SECRET_KEY.search(key) and isinstance(value, str | int):
                assert SECRET_REFERENCE.fullmatch(str(value)), f"{path.name}: {key}: {value!r}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_github_credentials_come_from_secrets_into_env(path: Path) -> None:
    workflow = load(path)
    text = path.read_text(encoding="utf-8")
    for mapping in _mappings(workflow):
        for name in ("BIGCOMMERCE_ACCESS_TOKEN", "BIGCOMMERCE_STORE_HASH"):
            if name in mapping:
                assert mapping[name] == "${{ secrets." + name + " }}"
    assert "secrets.BIGCOMMERCE_ACCESS_TOKEN" in text
    # `secrets.` only inside `${{ }}`, and never pasted into a shell script.
    assert text.count("secrets.") == len(re.findall(r"\$\{\{\s*secrets\.\w+\s*\}\}", text))
    for script in github_scripts(path):
        assert "secrets." not in script.text, script.where
        assert "BIGCOMMERCE_ACCESS_TOKEN" not in script.text, script.where
        assert not re.search(r"set\s+-\w*x", script.text), f"{script.where}: set -x echoes"
    for step in _steps(workflow):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_gitlab_credentials_are_ci_variables() -> None:
    pipeline = load(GITLAB)
    for mapping in _mappings(pipeline):
        assert "BIGCOMMERCE_ACCESS_TOKEN" not in mapping
        assert "BIGCOMMERCE_STORE_HASH" not in mapping
    for script in gitlab_scripts(GITLAB):
        assert "BIGCOMMERCE_ACCESS_TOKEN" not in script.text, script.where
        assert not re.search(r"set\s+-\w*x", script.text), f"{script.where}: set -x echoes"


# --------------------------------------------------------------------------- pre-commit


def test_pre_commit_hooks() -> None:
    hooks = {hook["id"]: hook for hook in load(HOOKS)}
    assert {"b2b-reconcile-validate", "b2b-reconcile-validate-files"} <= set(hooks)
    assert hooks["b2b-reconcile-validate"]["pass_filenames"] is False
    assert hooks["b2b-reconcile-validate-files"]["pass_filenames"] is True
    for hook_id, hook in hooks.items():
        assert hook["language"] == "python"
        assert hook["entry"].startswith("b2b-reconcile validate")
        files = re.compile(hook["files"])
        assert files.search("manifests/acme.yaml")
        assert files.search("companies.yml")
        assert not files.search("plan.json")
        entry = shlex.split(hook["entry"])
        assert entry[0] == COMMAND
        argv = entry[1:] + list(hook.get("args", []))
        ns = parse(argv, hook_id)
        assert ns.command == "validate"
        if hook["pass_filenames"]:
            ns = parse([*argv, "manifests/a.yaml", "manifests/b.yml"], hook_id)
            assert ns.paths == ["manifests/a.yaml", "manifests/b.yml"]
            # Every changed YAML file is passed: those that are not manifests must not fail it.
            assert ns.skip_other_yaml is True


def _run_hook(hook_id: str, files: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run an offered hook as pre-commit does: entry, then args, then the file names."""
    hook = {hook["id"]: hook for hook in load(HOOKS)}[hook_id]
    argv = shlex.split(hook["entry"])[1:] + list(hook.get("args", []))
    if hook["pass_filenames"]:
        argv += files
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *argv],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_changed_files_hook_skips_yaml_that_is_not_manifests(tmp_path: Path) -> None:
    """A commit that changes a manifest, a workflow, the sandbox seed and the hooks file: the
    changed-files hook checks the manifest and skips the rest; a broken manifest still fails."""
    (tmp_path / "manifests").mkdir()
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "manifests" / "store.yaml").write_text(MANIFEST, encoding="utf-8")
    (tmp_path / ".github" / "workflows" / "b2b-plan.yml").write_bytes(PLAN_WF.read_bytes())
    (tmp_path / "sandbox-seed.yaml").write_text(SEED, encoding="utf-8")
    (tmp_path / ".pre-commit-hooks.yaml").write_bytes(HOOKS.read_bytes())
    changed = [
        "manifests/store.yaml",
        ".github/workflows/b2b-plan.yml",
        "sandbox-seed.yaml",
        ".pre-commit-hooks.yaml",
    ]
    done = _run_hook("b2b-reconcile-validate-files", changed, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Valid: 1 Store, 1 Company, "), done.stdout
    assert done.stderr.splitlines() == [
        f"{name}: skipped, not a b2b-reconciler manifest" for name in changed[1:]
    ]

    # A commit that changes no manifest at all: nothing to check, not "no manifests found".
    done = _run_hook("b2b-reconcile-validate-files", changed[1:], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr

    broken = MANIFEST.replace("companyPhone:", "companyPhon:")
    (tmp_path / "manifests" / "store.yaml").write_text(broken, encoding="utf-8")
    done = _run_hook("b2b-reconcile-validate-files", changed, tmp_path)
    assert done.returncode == 1
    assert "manifests/store.yaml:13:3: company/acme: spec.companyPhon: unknown field" in done.stdout


def test_pre_commit_example_uses_the_offered_hooks() -> None:
    offered = {hook["id"]: hook for hook in load(HOOKS)}
    config = load(PRECOMMIT_EXAMPLE)
    used = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert used
    for hook in used:
        assert hook["id"] in offered
        argv = shlex.split(offered[hook["id"]]["entry"])[1:] + list(hook.get("args", []))
        ns = parse(argv, f"pre-commit-config: {hook['id']}")
        assert ns.paths == ["manifests/"]
        assert re.compile(hook["files"]).search("manifests/companies/acme.yaml")


# --------------------------------------------------------------------------- run for real

SEED = """\
store: {hash: abc123, companiesBehavior: dependent, multiStorefront: false}
customerGroups: [{id: 12, name: Acme}]
customers: [{id: 321, email: a@acme.example, firstName: A, lastName: B, customerGroupId: 12}]
"""
MANIFEST = """\
apiVersion: b2b.reconciler/v1
kind: Store
metadata: {name: main}
spec: {storeHash: abc123, companiesBehavior: dependent}
---
apiVersion: b2b.reconciler/v1
kind: Company
metadata: {name: acme}
spec:
  customerGroupId: 12
  companyName: Acme
  companyEmail: a@acme.example
  companyPhone: "555"
  address: {country: US}
  admin: {email: a@acme.example, phoneNumber: "555"}
"""


@dataclass
class Workspace:
    """A checkout of a manifests repository, with the tool on PATH and a sandbox store."""

    root: Path
    env: dict[str, str]
    token: str
    logs: list[str]

    def run(self, script: str) -> subprocess.CompletedProcess[str]:
        """Run a step's shell as GitHub (bash -eo pipefail) and GitLab's runner do."""
        done = subprocess.run(
            ["/bin/bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.logs += [done.stdout, done.stderr]
        return done

    def output(self, name: str) -> str:
        """The last value a step wrote to $GITHUB_OUTPUT."""
        lines = Path(self.env["GITHUB_OUTPUT"]).read_text(encoding="utf-8").splitlines()
        return [line.split("=", 1)[1] for line in lines if line.startswith(name + "=")][-1]


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """manifests/ with one company to convert, against an embedded sandbox store."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / COMMAND
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reconciler "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    root = tmp_path / "repo"
    (root / "manifests").mkdir(parents=True)
    (root / "manifests" / "store.yaml").write_text(MANIFEST, encoding="utf-8")
    (tmp_path / "seed.yaml").write_text(SEED, encoding="utf-8")
    db = tmp_path / "store.db"
    subprocess.run(
        [str(shim), "sandbox", "init", "--db", str(db), "--seed", str(tmp_path / "seed.yaml")],
        check=True,
        capture_output=True,
    )
    token = "tok" + "9f8e7d6c5b4a" * 2  # must never show up anywhere
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "B2B_SANDBOX": str(db),
        "BIGCOMMERCE_STORE_HASH": "abc123",
        "BIGCOMMERCE_ACCESS_TOKEN": token,
        "NO_COLOR": "1",
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
        "CI": "true",
    }
    return Workspace(root=root, env=env, token=token, logs=[])


def github_step(path: Path, name: str) -> str:
    """The shell of the step with this name."""
    return next(s["run"] for s in _steps(load(path)) if s.get("name") == name)


def _assert_token_nowhere(ws: Workspace) -> None:
    assert all(ws.token not in log for log in ws.logs)
    for path in ws.root.parent.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".md", ""}:
            assert ws.token not in path.read_text(encoding="utf-8", errors="replace"), path


def test_github_workflows_run_against_the_sandbox(workspace: Workspace) -> None:
    ws = workspace
    # b2b-plan: exit 2 (changes) is captured, not a failure; plan.md is rendered and summarised.
    assert ws.run(github_step(PLAN_WF, "Plan")).returncode == 0
    assert ws.output("exitcode") == "2"
    assert (ws.root / "plan.json").is_file()
    assert ws.run(github_step(PLAN_WF, "Render the plan")).returncode == 0
    plan_md = (ws.root / "plan.md").read_text(encoding="utf-8")
    assert plan_md.startswith("### b2b-reconcile plan")
    assert plan_md.strip() in Path(ws.env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")

    # b2b-drift before the apply: drift (2), which the issue step acts on.
    assert ws.run(github_step(DRIFT_WF, "Plan")).returncode == 0
    assert ws.output("exitcode") == "2"
    assert "company/acme" in (ws.root / "drift.md").read_text(encoding="utf-8")

    # b2b-apply: validate, plan --out, apply exactly that plan with a report.
    for name in ("Validate", "Plan", "Apply"):
        done = ws.run(github_step(APPLY_WF, name))
        assert done.returncode == 0, f"{name}: {done.stderr}"
    report = json.loads((ws.root / "report.json").read_text(encoding="utf-8"))
    assert report["ok"] is True

    # b2b-drift after the apply: no drift (0), which closes the issue.
    assert ws.run(github_step(DRIFT_WF, "Plan")).returncode == 0
    assert ws.output("exitcode") == "0"
    _assert_token_nowhere(ws)


def test_github_steps_fail_on_errors(workspace: Workspace) -> None:
    ws = workspace
    broken = MANIFEST.replace("companyPhone:", "companyPhon:")
    (ws.root / "manifests" / "store.yaml").write_text(broken, encoding="utf-8")
    validate = ws.run(github_step(PLAN_WF, "Validate"))
    assert validate.returncode == 1
    # On stderr since issue 13 (stdout may be a JSON document or a Markdown file); the Actions
    # runner reads workflow commands from both streams.
    assert "::error" in validate.stderr, "annotations on the pull request's lines"
    assert ws.run(github_step(PLAN_WF, "Plan")).returncode == 1
    assert ws.output("exitcode") == "1"
    assert ws.run(github_step(DRIFT_WF, "Plan")).returncode == 1
    assert ws.run(github_step(APPLY_WF, "Plan")).returncode == 1
    _assert_token_nowhere(ws)


def test_gitlab_jobs_run_against_the_sandbox(workspace: Workspace) -> None:
    ws = workspace
    pipeline = load(GITLAB)

    def job(name: str) -> subprocess.CompletedProcess[str]:
        return ws.run("\n".join(pipeline[name]["script"]))

    assert job("b2b-validate").returncode == 0
    done = job("b2b-plan")
    assert done.returncode == 0, done.stderr
    report = json.loads((ws.root / "plan-report.json").read_text(encoding="utf-8"))
    assert report == {"create": 1, "update": 0, "delete": 0}
    assert (ws.root / "plan.md").read_text(encoding="utf-8").startswith("### b2b-reconcile plan")
    assert job("b2b-drift").returncode == 2, "drift: an allowed failure, shown as a warning"
    done = job("b2b-apply")
    assert done.returncode == 0, done.stderr
    assert json.loads((ws.root / "report.json").read_text(encoding="utf-8"))["ok"] is True
    assert job("b2b-drift").returncode == 0
    _assert_token_nowhere(ws)
