"""Commands that never talk to a store start without the HTTP stack or the sandbox.

Each command runs in a fresh interpreter (the real CLI entry, ``reconciler.cli.main``), which then
lists the heavy modules it ended up importing. A behaviour test, not a timing test: what matters
is that ``--help``, ``validate``, ``schema`` and ``completion`` do not import httpx,
``reconciler.api`` or ``reconciler.sandbox`` (nor deepdiff, only the tests' oracle), whatever
the machine's speed. ``bench/load_bench.py`` measures the wall time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "store"

HEAVY = ("httpx", "reconciler.api", "reconciler.sandbox", "reconciler.live", "deepdiff")

PROBE = """
import json, sys
from reconciler.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print("\\nPROBE " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def imported_by(*argv: str) -> tuple[int, set[str]]:
    """Run the CLI with ``argv`` in a fresh interpreter: (exit code, every module imported)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    line = done.stdout.rsplit("\nPROBE ", 1)[-1]
    probe = json.loads(line)
    return probe["code"], set(probe["modules"])


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        ("--version",),
        ("validate", "--help"),
        ("plan", "--help"),
        ("validate", str(EXAMPLE)),
        ("validate", "--format", "json", str(EXAMPLE)),
        ("validate", str(ROOT / "no-such-folder")),
        ("schema",),
        ("schema", "company"),
        ("completion", "bash"),
    ],
    ids=lambda argv: " ".join(a.removeprefix(str(ROOT) + "/") for a in argv),
)
def test_offline_commands_import_no_http_stack_nor_sandbox(argv: tuple[str, ...]) -> None:
    code, modules = imported_by(*argv)
    assert code in (0, 1)
    assert code == (1 if "no-such-folder" in argv[-1] else 0)
    loaded = [m for m in HEAVY if m in modules]
    assert loaded == [], f"{' '.join(argv)} imported {loaded}"


def test_the_probe_sees_the_http_stack_when_a_command_uses_it(tmp_path: Path) -> None:
    """The probe is not blind: a plan against a sandbox does import httpx and the sandbox."""
    seed = ROOT / "examples" / "store" / "sandbox-seed.yaml"
    db = tmp_path / "store.db"
    code, _ = imported_by("sandbox", "init", "--db", str(db), "--seed", str(seed))
    assert code == 0
    code, modules = imported_by("--sandbox", str(db), "plan", str(EXAMPLE))
    assert code == 0
    assert {"httpx", "reconciler.api", "reconciler.sandbox"} <= modules


def test_httpx_command_line_client_is_never_imported(tmp_path: Path) -> None:
    """httpx imports click, rich and pygments for its own command line whenever they are
    installed (they are here: import-linter and pytest bring them); a plan never does."""
    seed = ROOT / "examples" / "store" / "sandbox-seed.yaml"
    db = tmp_path / "store.db"
    assert imported_by("sandbox", "init", "--db", str(db), "--seed", str(seed))[0] == 0
    code, modules = imported_by("--sandbox", str(db), "plan", str(EXAMPLE))
    assert code == 0
    assert "httpx" in modules
    assert not {"click", "rich", "pygments"} & modules
