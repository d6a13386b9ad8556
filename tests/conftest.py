"""Fixtures shared by every test folder.

Every test keeps the record of managed companies (reconciler.managed) in its own folder, and
closes the sandboxes it opens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from reconciler.sandbox import Sandbox

# No timed assertions on shared, noisy machines: hypothesis's per-example deadline and its
# "input generation is slow" check are timings, and fail under load (seen with 8 runnable
# processes on 2 cores). A test's own @settings still override the rest of this profile.
settings.register_profile(
    "shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("shared-machine")


@pytest.fixture(autouse=True)
def _own_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B2B_RECONCILE_CACHE_DIR", str(tmp_path / "b2b-cache"))


@pytest.fixture
def new_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """``new_sandbox(**kwargs)``: ``Sandbox(**kwargs)``, closed after the test.

    Every sandbox holds a SQLite connection; Python 3.13 warns about one left open when it is
    collected, and the warning fails the test (warnings are errors here).
    """
    made: list[Sandbox] = []

    def make(**kwargs: Any) -> Sandbox:
        sb = Sandbox(**kwargs)
        made.append(sb)
        return sb

    yield make
    for sb in made:
        sb.close()
