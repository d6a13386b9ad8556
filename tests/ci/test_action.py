"""action.yml, the composite GitHub Action: its structure, and its command step run for real.

The structure is what GitHub requires of a composite action plus our own rules: inputs reach
shell scripts only through ``env`` (no ``${{ }}`` inside a script, so no input can inject shell),
every expression names a declared input or an earlier step's output, and the tool is installed
from the action's own checkout (``$GITHUB_ACTION_PATH``, the ref named in ``uses:``).

The command step is then run with bash as the runner runs it, its ``env`` and
``working-directory`` taken from action.yml with the expressions filled in, against an embedded
sandbox store. (The install step needs the network; it is run by hand, see CHANGELOG/README.)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
EXAMPLE = ROOT / "examples" / "store"
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
INPUT_REF = re.compile(r"\binputs\.([A-Za-z0-9_-]+)")
STEP_REF = re.compile(r"\bsteps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")


def action() -> dict[str, Any]:
    loaded = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def steps() -> list[dict[str, Any]]:
    return list(action()["runs"]["steps"])


def step(step_id: str) -> dict[str, Any]:
    return next(s for s in steps() if s.get("id") == step_id)


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


# --------------------------------------------------------------------------- structure


def test_metadata_and_inputs() -> None:
    meta = action()
    assert meta["name"] == "b2b-reconcile"
    assert meta["description"].strip()
    assert meta["runs"]["using"] == "composite"
    inputs = meta["inputs"]
    assert set(inputs) == {"command", "allowed-exit-codes", "working-directory", "python-version"}
    for name, spec in inputs.items():
        assert spec["description"].strip(), name
        assert spec["required"] is False, name
        assert isinstance(spec["default"], str), f"{name}: inputs are strings"
    assert inputs["command"]["default"] == "", "no command: only install"
    assert inputs["allowed-exit-codes"]["default"] == "0"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    supported = f"Programming Language :: Python :: {inputs['python-version']['default']}"
    assert supported in project["classifiers"]
    assert set(meta["outputs"]) == {"exitcode", "version"}


def test_every_expression_names_a_declared_input_or_an_earlier_output() -> None:
    meta = action()
    declared = set(meta["inputs"])
    earlier: dict[str, set[str]] = {}
    for index, item in enumerate(meta["runs"]["steps"]):
        texts = _strings({k: v for k, v in item.items() if k != "if"})
        expressions = [e for text in texts for e in EXPRESSION.findall(text)]
        expressions += [str(item["if"])] if "if" in item else []
        for expression in expressions:
            assert set(INPUT_REF.findall(expression)) <= declared, (index, expression)
            for step_id, _ in STEP_REF.findall(expression):
                assert step_id in earlier, f"step {index}: {step_id} is not an earlier step"
        if "id" in item:
            earlier[item["id"]] = set()
    for name, output in meta["outputs"].items():
        (step_id, _), *_ = STEP_REF.findall(output["value"])
        assert step_id in earlier, name
    # The outputs a later step or the action's outputs read are the ones the step writes.
    written = {
        item["id"]: set(re.findall(r'echo "([a-z]+)=', item.get("run", "")))
        for item in meta["runs"]["steps"]
        if "id" in item
    }
    for text in _strings(meta["outputs"]) + _strings(meta["runs"]["steps"]):
        for step_id, name in STEP_REF.findall(text):
            if step_id != "python":  # actions/setup-python's own output
                assert name in written[step_id], f"{step_id}.outputs.{name} is never written"


def test_scripts_take_inputs_only_through_env() -> None:
    """``${{ inputs.x }}`` pasted into a script would let an input run shell; env cannot."""
    scripts = [s for s in steps() if "run" in s]
    assert len(scripts) == 2
    for item in scripts:
        assert item["shell"] == "bash", item["name"]
        assert "${{" not in item["run"], item["name"]


def test_python_is_set_up_without_touching_the_jobs_own() -> None:
    setup = step("python")
    assert re.fullmatch(r"actions/setup-python@v\d+", setup["uses"])
    assert setup["with"]["update-environment"] is False
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"


def test_the_tool_is_installed_from_the_actions_own_ref() -> None:
    install = step("install")
    assert install["env"]["B2B_PYTHON"] == "${{ steps.python.outputs.python-path }}"
    script = install["run"]
    assert '-m venv "$venv"' in script, "a virtual environment of its own"
    assert re.search(r'-m pip install [^\n]*"\$GITHUB_ACTION_PATH"', script)
    assert '"$GITHUB_PATH"' in script, "later steps find b2b-reconcile on PATH"
    assert "b2b-reconciler==" not in ACTION.read_text(encoding="utf-8"), "no index has it"


def test_the_command_runs_only_when_given() -> None:
    assert step("run")["if"] == "inputs.command != ''"


# --------------------------------------------------------------------------- the command step


@dataclass
class Runner:
    """Runs the action's command step as the GitHub runner does."""

    workspace: Path
    env: dict[str, str]

    def run(self, **inputs: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
        spec = action()["inputs"]
        values = {
            name: inputs.get(name.replace("-", "_"), s["default"]) for name, s in spec.items()
        }
        outputs = {"install": {"bin": str(Path(sys.executable).parent)}}

        def fill(text: str) -> str:
            def value(match: re.Match[str]) -> str:
                expression = match.group(1).strip()
                if found := STEP_REF.fullmatch(expression):
                    return outputs[found.group(1)][found.group(2)]
                found_input = INPUT_REF.fullmatch(expression)
                assert found_input, expression
                return values[found_input.group(1)]

            return EXPRESSION.sub(value, text)

        command = step("run")
        output_file = self.workspace.parent / "github-output"
        output_file.write_text("", encoding="utf-8")
        env = {**self.env, "GITHUB_OUTPUT": str(output_file)}
        env |= {name: fill(str(text)) for name, text in command["env"].items()}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", command["run"]],
            cwd=self.workspace / fill(command["working-directory"]),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        lines = output_file.read_text(encoding="utf-8").splitlines()
        return done, dict(line.split("=", 1) for line in lines)


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    """A checkout with the example manifests, and an embedded sandbox store of its seed."""
    workspace = tmp_path / "repo"
    shutil.copytree(EXAMPLE, workspace / "manifests", ignore=shutil.ignore_patterns("*.md"))
    db = tmp_path / "store.db"
    seed = yaml.safe_load((EXAMPLE / "sandbox-seed.yaml").read_text(encoding="utf-8"))
    with Sandbox(db=str(db), seed=seed):
        pass
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "B2B_SANDBOX": str(db), "NO_COLOR": "1"}
    return Runner(workspace, env)


def test_a_command_runs_and_its_exit_code_is_the_output(runner: Runner) -> None:
    done, outputs = runner.run(command="validate manifests/")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Valid: 1 Store, ")
    assert outputs == {"exitcode": "0"}


def test_allowed_exit_codes_do_not_fail_the_step(runner: Runner) -> None:
    plan = "plan manifests/ --detailed-exitcode --out plan.json"
    for allowed in ("0 2", "0,2", "0, 2"):
        done, outputs = runner.run(command=plan, allowed_exit_codes=allowed)
        assert done.returncode == 0, done.stderr
        assert outputs == {"exitcode": "2"}, "the example store has changes to make"
        assert (runner.workspace / "plan.json").is_file()
    done, outputs = runner.run(command=plan)
    assert done.returncode == 2
    assert outputs == {"exitcode": "2"}
    assert "::error title=b2b-reconcile::exit code 2 (allowed: 0)" in done.stdout


def test_a_failing_command_fails_the_step(runner: Runner) -> None:
    done, outputs = runner.run(command="validate nowhere/")
    assert done.returncode == 1
    assert outputs == {"exitcode": "1"}
    assert "nowhere/:1:1: no such file or folder" in done.stdout


def test_the_command_is_split_like_words_but_never_run_by_a_shell(runner: Runner) -> None:
    (runner.workspace / "manifests").rename(runner.workspace / "my manifests")
    done, _ = runner.run(command="validate 'my manifests'")
    assert done.returncode == 0, done.stdout + done.stderr
    done, outputs = runner.run(command="validate $(touch pwned) `touch pwned2`; touch pwned3")
    assert outputs == {"exitcode": "1"}
    assert not [p.name for p in runner.workspace.iterdir() if p.name.startswith("pwned")]


def test_working_directory(runner: Runner) -> None:
    done, outputs = runner.run(command="validate .", working_directory="manifests")
    assert done.returncode == 0, done.stderr
    assert outputs == {"exitcode": "0"}
