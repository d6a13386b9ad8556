"""``managed.missing``: after an apply, whether a declared company is not yet in the record.

It looked each declared company up in ``now.values()`` (a scan per company): quadratic, 22 of
an apply's 31 CPU-s at 50,000 companies (``bench.plan_process``). One set of the names now."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler import managed, manifests

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "store"


class CountingDict(dict[int, str]):
    """A dict that counts how often its values are asked for."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.asked = 0

    def values(self) -> Any:
        self.asked += 1
        return super().values()


def test_missing_says_whether_a_declared_company_is_not_recorded() -> None:
    found = manifests.load([EXAMPLE])
    names = [spec.resource for spec in found.companies]
    assert len(names) >= 2
    everyone = {100 + i: name for i, name in enumerate(names)}
    assert not managed.missing(found, everyone)
    assert managed.missing(found, {})
    for gone in everyone:
        assert managed.missing(found, {i: n for i, n in everyone.items() if i != gone})
    # a name recorded under some other id still counts; an extra unknown name changes nothing
    assert not managed.missing(found, {**{7: names[0]}, **everyone, 999: "company/other"})


def test_missing_reads_the_recorded_names_once() -> None:
    found = manifests.load([EXAMPLE])
    now = CountingDict({100 + i: spec.resource for i, spec in enumerate(found.companies)})
    assert not managed.missing(found, now)
    assert now.asked == 1  # not once per declared company
