"""Every test keeps the record of managed companies (reconciler.managed) in its own folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B2B_RECONCILE_CACHE_DIR", str(tmp_path / "b2b-cache"))
