"""``--refresh auto|full`` and the snapshot file through the real CLI and the embedded sandbox:
the header says how the state was read, a snapshot that cannot serve means a full read with a
one-line reason (never an error), and the snapshot holds no secret."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from reconciler import snapshot
from reconciler.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples/store/sandbox-seed.yaml"
MANIFESTS = str(ROOT / "examples/store")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(list(argv), out=out)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "store.db")
    assert run("sandbox", "init", "--db", path, "--seed", str(SEED))[0] == 0
    return path


def cache(tmp_path: Path) -> Path:
    return tmp_path / "b2b-cache"


def the_snapshot(tmp_path: Path) -> Path:
    found = sorted(cache(tmp_path).glob("snapshot-*.json"))
    assert len(found) == 1, found
    return found[0]


def plan(db: str, *extra: str) -> tuple[int, str, str]:
    return run("--sandbox", db, "plan", MANIFESTS, "--detailed-exitcode", *extra)


def test_the_second_plan_is_incremental_and_says_so(tmp_path: Path, db: str) -> None:
    code, first, _ = plan(db)
    assert code == 2
    assert "Refresh: full (no snapshot yet" in first
    body = json.loads(the_snapshot(tmp_path).read_text())
    assert body["formatVersion"] == 2
    assert body["storeHash"]
    code, second, _ = plan(db)
    assert code == 2
    assert "Refresh: incremental from a snapshot taken " in second
    assert first.split("\n", 3)[3] == second.split("\n", 3)[3]  # the same plan below the header
    code, text, _ = plan(db, "--format", "json")
    refresh = json.loads(text)["refresh"]
    assert refresh["mode"] == "incremental"
    assert isinstance(refresh["snapshotTakenAt"], int)
    assert set(refresh) == {"mode", "snapshotTakenAt", "snapshotAgeSeconds", "fromSnapshot",
                            "readInFull"}  # fmt: skip


def test_refresh_full_reads_everything_and_still_writes_the_snapshot(
    tmp_path: Path, db: str
) -> None:
    plan(db)
    path = the_snapshot(tmp_path)
    path.write_text(path.read_text().replace('"takenAt":', '"takenAt":1,"x":0,"was":'))
    code, text, _ = plan(db, "--refresh", "full")
    assert code == 2
    assert "Refresh: full (--refresh full)" in text
    assert json.loads(path.read_text())["takenAt"] > 1_700_000_000  # written afresh


def _corrupt(path: Path) -> None:
    path.write_text('{"formatVersion": 2, "storeHash": ')


def _foreign(path: Path) -> None:
    body = json.loads(path.read_text())
    body["storeHash"] = "other1"
    path.write_text(json.dumps(body))


def _old(path: Path) -> None:
    body = json.loads(path.read_text())
    body["takenAt"] -= 25 * 3600
    path.write_text(json.dumps(body))


def _future(path: Path) -> None:
    body = json.loads(path.read_text())
    body["takenAt"] += 3600
    path.write_text(json.dumps(body))


def _version(path: Path) -> None:
    body = json.loads(path.read_text())
    body["formatVersion"] = 99
    path.write_text(json.dumps(body))


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _wrong_shape(path: Path) -> None:
    body = json.loads(path.read_text())
    body["live"]["companies"]["companyName"][0] = 7
    path.write_text(json.dumps(body))


def _bad_column(path: Path) -> None:
    body = json.loads(path.read_text())
    body["live"]["orders"]["bcOrderId"] = "x"
    path.write_text(json.dumps(body))


def _short_column(path: Path) -> None:
    body = json.loads(path.read_text())
    body["live"]["orders"]["count"] += 1
    path.write_text(json.dumps(body))


def _first_format(path: Path) -> None:
    """A snapshot an earlier version wrote (format 1: every object a JSON object)."""
    body = json.loads(path.read_text())
    body["formatVersion"] = 1
    body["live"]["companies"] = [{"companyId": 1}]
    path.write_text(json.dumps(body))


SPOILERS = {
    "corrupt": (_corrupt, "not valid JSON"),
    "foreign": (_foreign, "made for store 'other1'"),
    "old": (_old, "older than 24 h"),
    "future": (_future, "taken in the future"),
    "version": (_version, "format version 99"),
    "directory": (_directory, "is a directory, not a regular file"),
    "fifo": (_fifo, "is a FIFO (named pipe), not a regular file"),
    "wrong shape": (_wrong_shape, "live.companies.companyName[0]: expected a string, found int"),
    "bad column": (_bad_column, "live.orders.bcOrderId: not a packed column"),
    "short column": (_short_column, "live.orders.bcOrderId: 14 values where 15 were expected"),
    "format 1": (_first_format, "format version 1 (this version reads 2)"),
}


@pytest.mark.parametrize("name", sorted(SPOILERS))
def test_an_unusable_snapshot_means_a_full_read_with_the_reason(
    tmp_path: Path, db: str, name: str
) -> None:
    if name == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    expected_code, expected, _ = plan(db)
    spoil, reason = SPOILERS[name]
    spoil(the_snapshot(tmp_path))
    code, text, err = plan(db)
    assert code == expected_code, err
    assert "Traceback" not in text + err
    line = next(line for line in text.splitlines() if line.startswith("Refresh:"))
    assert line.startswith("Refresh: full (snapshot "), line
    assert reason in line
    assert expected.split("\n", 3)[3] == text.split("\n", 3)[3]


def test_an_oversized_snapshot_is_not_read(
    tmp_path: Path, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan(db)
    monkeypatch.setattr(snapshot, "MAX_SNAPSHOT_BYTES", 100)
    code, text, _ = plan(db)
    assert code == 2
    assert "is too large" in text
    assert "Refresh: full (snapshot " in text


def test_snapshot_max_age(tmp_path: Path, db: str) -> None:
    plan(db)
    _old(the_snapshot(tmp_path))
    _, text, _ = plan(db, "--snapshot-max-age", "2d")
    assert "Refresh: incremental" in text
    _old(the_snapshot(tmp_path))
    _code, text, _ = plan(db, "--snapshot-max-age", "1h")
    assert "Refresh: full (snapshot " in text
    assert "older than 1 h" in text
    with pytest.raises(SystemExit) as stopped:
        plan(db, "--snapshot-max-age", "soon")
    assert stopped.value.code == 1


def test_apply_with_a_saved_plan_reads_nothing_and_writes_no_snapshot(
    tmp_path: Path, db: str
) -> None:
    plan_file = tmp_path / "plan.json"
    assert plan(db)[0] == 2  # full: the snapshot is written
    code, _, err = plan(db, "--out", str(plan_file))  # incremental
    assert code == 2, err
    saved = json.loads(plan_file.read_text())
    assert saved["refresh"]["mode"] == "incremental"
    the_snapshot(tmp_path).unlink()
    code, text, err = run("--sandbox", db, "apply", MANIFESTS, "--plan", str(plan_file),
                          "--auto-approve")  # fmt: skip
    assert code == 0, text + err
    assert not list(cache(tmp_path).glob("snapshot-*.json"))
    code, text, _ = plan(db)
    assert code == 0
    assert "No changes" in text
    assert "Refresh: full (no snapshot yet" in text


def test_apply_then_an_incremental_plan_is_empty(tmp_path: Path, db: str) -> None:
    code, text, err = run("--sandbox", db, "apply", MANIFESTS, "--auto-approve")
    assert code == 0, text + err
    code, text, _ = plan(db)
    assert code == 0
    assert "No changes" in text
    assert "Refresh: incremental" in text


def test_an_unwritable_cache_is_a_note_not_an_error(tmp_path: Path, db: str) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    code, _text, err = run("--sandbox", db, "plan", MANIFESTS, "--cache-dir", str(blocker / "c"))
    assert code == 0, err
    assert "not written" in err
