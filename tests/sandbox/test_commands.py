"""``sandbox init|serve|dump`` (CONTRACT.md "Commands")."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.sandbox import SandboxError, commands


def _write_seed(tmp_path: Path, seed: Any, name: str = "seed.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(seed) if name.endswith(".yaml") else json.dumps(seed))
    return str(path)


def test_init_and_dump(tmp_path: Path, kit: Any) -> None:
    """init creates the store from a YAML or JSON seed; dump prints it as JSON."""
    db = str(tmp_path / "s.db")
    commands.init(db, _write_seed(tmp_path, kit.seed()))
    dumped = json.loads(commands.dump(db))
    assert dumped["store"]["hash"] == kit.HASH
    assert [c["companyId"] for c in dumped["companies"]] == [1001, 1002]
    db2 = str(tmp_path / "j.db")
    commands.init(db2, _write_seed(tmp_path, kit.seed(), "seed.json"))
    assert json.loads(commands.dump(db2))["companies"] == dumped["companies"]
    empty = str(tmp_path / "empty.db")
    commands.init(empty, None)
    assert json.loads(commands.dump(empty))["store"]["hash"] == "sandbox"


def test_init_refuses_an_existing_store(tmp_path: Path, kit: Any) -> None:
    """init never replaces a store silently; the message names the file and hash."""
    db = str(tmp_path / "s.db")
    commands.init(db, _write_seed(tmp_path, kit.seed()))
    with pytest.raises(SandboxError, match=r"already holds a sandbox store \(hash 'abc123'\)"):
        commands.init(db, None)


def test_init_user_errors(tmp_path: Path) -> None:
    """Missing seed, YAML/JSON errors, invalid content: one message, no db left behind."""
    db = tmp_path / "s.db"
    with pytest.raises(SandboxError, match="seed file not found"):
        commands.init(str(db), str(tmp_path / "missing.yaml"))
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("store: {hash: [\n")
    with pytest.raises(SandboxError, match=r"bad\.yaml:\d+:\d+: invalid YAML"):
        commands.init(str(db), str(bad_yaml))
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{")
    with pytest.raises(SandboxError, match=r"bad\.json:1:2: invalid JSON"):
        commands.init(str(db), str(bad_json))
    invalid = _write_seed(tmp_path, {"companies": [{"companyId": 1}]})
    with pytest.raises(SandboxError, match="companyName is required"):
        commands.init(str(db), invalid)
    assert not db.exists()
    with pytest.raises(SandboxError, match="folder does not exist"):
        commands.init(str(tmp_path / "no" / "s.db"), None)


def test_dump_and_serve_need_a_store(tmp_path: Path) -> None:
    """dump/serve on a missing db, or a bad rate-limit string, are user errors."""
    missing = str(tmp_path / "none.db")
    with pytest.raises(SandboxError, match="no sandbox database"):
        commands.dump(missing)
    with pytest.raises(SandboxError, match="no sandbox database"):
        commands.serve(missing, "127.0.0.1", 0)
    db = str(tmp_path / "s.db")
    commands.init(db, None)
    for bad in ("150", "x/60", "0/60", "10/0"):
        with pytest.raises(SandboxError, match="invalid rate limit"):
            commands.serve(db, "127.0.0.1", 0, rate_limit=bad)
    faults = tmp_path / "faults.yaml"
    faults.write_text("- {path: x, status: 1000}\n")
    with pytest.raises(SandboxError, match=r"faults\.yaml: faults\[0\]\.status"):
        commands.serve(db, "127.0.0.1", 0, faults_path=str(faults))


@pytest.mark.served
def test_serve_prints_urls_and_serves(tmp_path: Path, kit: Any) -> None:
    """serve prints the URL and base URLs, applies --rate-limit and --faults, and stops."""
    db = str(tmp_path / "s.db")
    commands.init(db, _write_seed(tmp_path, kit.seed()))
    faults = tmp_path / "faults.yaml"
    faults.write_text(yaml.safe_dump({"faults": [{"path": "/orders$", "status": 503, "times": 1}]}))
    out, stop = io.StringIO(), threading.Event()
    thread = threading.Thread(
        target=commands.serve,
        args=(db, "127.0.0.1", 0, "3/60", str(faults)),
        kwargs={"out": out, "stop": stop},
    )
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while "B2B API" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        text = out.getvalue()
        b2b = text.split("B2B API:")[1].split()[0]
        assert b2b.endswith("/api/v3/io")
        assert f"/stores/{kit.HASH}" in text
        assert kit.TOKEN not in text
        with httpx.Client(base_url=b2b, headers=kit.AUTH) as api:
            assert api.get("/orders").status_code == 503  # a fault spends no budget
            assert api.get("/orders").status_code == 200
            assert api.get("/orders").headers["X-Requests-Allocated"] == "3 times/60 s"
            assert api.get("/orders").status_code == 200
            assert api.get("/orders").status_code == 429
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


@pytest.mark.served
def test_serve_sets_quirks(tmp_path: Path, kit: Any) -> None:
    """serve --quirk NAME=VALUE stores the reading switches, as a seed's quirks would."""
    db = str(tmp_path / "q.db")
    commands.init(db, _write_seed(tmp_path, kit.seed()))
    stop = threading.Event()
    stop.set()  # serve, print, and stop at once
    quirks = ["extraFieldsReplace=true", "ordersSyncLag=3600", "limitAboveMax=clamp"]
    commands.serve(db, "127.0.0.1", 0, quirks=quirks, out=io.StringIO(), stop=stop)
    stored = json.loads(commands.dump(db))["store"]["quirks"]
    assert stored == {"extraFieldsReplace": True, "ordersSyncLag": 3600, "limitAboveMax": "clamp"}
    for bad, message in (
        (["extraFieldsReplace"], "expected NAME=VALUE"),
        (["noSuchSwitch=true"], "unknown quirk 'noSuchSwitch'"),
        (["ordersSyncLag=soon"], "ordersSyncLag: must be a whole number of seconds"),
    ):
        with pytest.raises(SandboxError, match=message):
            commands.serve(db, "127.0.0.1", 0, quirks=bad, out=io.StringIO(), stop=stop)
