"""Run the README's "Adopt an existing store" guide, command by command, as a user would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def guide_commands() -> list[tuple[str, int]]:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- guide:adopt -->", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.strip().splitlines():
        expected = re.search(r"#\s*exit (\d+)", line)
        commands.append((line, int(expected.group(1)) if expected else 0))
    return commands


def test_the_guide_runs(tmp_path: Path) -> None:
    (tmp_path / "examples/store").mkdir(parents=True)
    shutil.copy(ROOT / "examples/store/sandbox-seed.yaml", tmp_path / "examples/store")
    env = dict(os.environ, NO_COLOR="1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("B2B_SANDBOX", None)
    commands = guide_commands()
    assert len(commands) == 8
    outputs = []
    for line, expected in commands:
        done = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == expected, (line, done.stdout, done.stderr)
        outputs.append(done.stdout)
    # The plan after the edit shows exactly that one field.
    changed = outputs[5]
    assert "companyPhone" in changed
    assert "Plan: 1 to update" in changed
    assert changed.count(" -> ") == 1
