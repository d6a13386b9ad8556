"""Chaos suite plumbing: every test in this folder is marked ``chaos``; figures are printed.

The tests add their figures (stores generated, faults injected, applies needed, violations) to
one session-wide collector through the ``chaos_figures`` fixture; ``pytest_terminal_summary``
prints them at the end of the run. Nothing is written to disk.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).parent

FIGURES: Counter[str] = Counter()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.chaos)


@pytest.fixture(scope="session")
def chaos_figures() -> Counter[str]:
    """The session's figures; tests add to them."""
    return FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("chaos figures")
    for key in sorted(FIGURES):
        terminalreporter.write_line(f"{key:<56} {FIGURES[key]}")
