"""A command runs with the cyclic garbage collector's thresholds raised (`cli._few_collections`),
and hands Python's back when it ends, however it ends.

The plan at 10,000 companies made about 1,100 collections over the millions of objects that
live until it ends (0.4 of its 4.5 CPU-s); these tests hold the mechanism, `bench.plan_process`
measures what it saves.
"""

from __future__ import annotations

import gc
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler import commands
from reconciler.cli import COLLECTION_THRESHOLDS, main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/store"


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    """Python's thresholds around the test, whatever it does."""
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_a_command_runs_with_few_collections_and_restores_them(
    thresholds: tuple[int, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, ...]] = []
    real = commands.validate

    def validate(args: Any, console: Any) -> int:
        seen.append(gc.get_threshold())
        return real(args, console)

    monkeypatch.setattr(commands, "validate", validate)
    assert main(["validate", str(EXAMPLE)], out=io.StringIO()) == 0
    assert seen == [COLLECTION_THRESHOLDS]
    assert COLLECTION_THRESHOLDS[0] > thresholds[0]
    assert gc.get_threshold() == thresholds


def test_the_thresholds_come_back_after_a_failing_command(
    thresholds: tuple[int, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, ...]] = []

    def broken(args: Any, console: Any) -> int:
        seen.append(gc.get_threshold())
        raise RuntimeError("a bug")

    monkeypatch.setattr(commands, "validate", broken)
    assert main(["validate", str(EXAMPLE)], out=io.StringIO()) == 1  # "Internal error"
    assert seen == [COLLECTION_THRESHOLDS]
    assert gc.get_threshold() == thresholds
