"""The quick load (values straight from the parser's events, no nodes, no locations) gives exactly
the values, document indexes and starts of the recording load, or leaves the file to it.

Compared with types: ``1``, ``1.0``, ``True`` and ``"1"`` must never be taken for one another.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import manifests, yamlload

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob("examples/**/*.yaml"), *ROOT.glob("tests/manifests/fixtures/**/*.yaml")])


def typed(value: Any) -> Any:
    """The value with each scalar's type beside it (``==`` alone says ``1 == 1.0 == True``)."""
    if isinstance(value, dict):
        return ("map", [(type(k).__name__, k, typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [typed(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def both(text: str) -> tuple[yamlload.LoadedFile | None, yamlload.LoadedFile]:
    quick = yamlload._load_text(text, "t.yaml", record=False)
    recorded = yamlload._load_text(text, "t.yaml", record=True)
    assert recorded is not None
    return quick, recorded


def same(text: str) -> bool:
    """The quick load equals the recording load (True), or left the file to it (False)."""
    quick, recorded = both(text)
    if quick is None:
        return False
    assert not recorded.problems
    assert all(not d.problems for d in recorded.documents)
    assert [(d.index, d.start, typed(d.value)) for d in quick.documents] == [
        (d.index, d.start, typed(d.value)) for d in recorded.documents
    ]
    for lazy, found in zip(quick.documents, recorded.documents, strict=True):
        assert lazy.lazy
        assert not found.lazy
        assert (lazy.locs, lazy.key_locs, lazy.raw) == (found.locs, found.key_locs, found.raw)
    return True


@pytest.mark.parametrize("file", FILES, ids=lambda f: str(f.relative_to(ROOT)))
def test_every_example_and_fixture_loads_the_same(file: Path) -> None:
    data = file.read_bytes()
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return  # refused before either load
    if yamlload._BAD_CHARS.search(text) is None:
        same(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "---\n",
        "---\n---\n",
        "# only a comment\n",
        "~\n",
        "null\n---\na: 1\n---\n\n---\nb: 2\n",
        "'null'\n",
        "''\n",
        "plain text\n",
        "12\n",
        "[1, 2.5, true, false, null, ~, '', x]\n",
        "{a: 1, b: [], c: {}, d: [[], {}]}\n",
        "a: 0x1F\nb: 0o17\nc: 010\nd: -7\ne: +3\nf: 1e3\ng: .5\nh: 2.\n",
        "a: NO\nb: yes\nc: 2024-01-01\nd: 1:20\ne: True\nf: FALSE\ng: Null\n",
        "a: ! 12\nb: !  true\n",
        "1: a\ntrue: b\n~: c\n'x': d\n'': e\n",
        "? plain\n: value\n? 'q'\n",
        "m: {'<<': 1}\n",
        'a: "double \\" quoted"\nb: >\n  folded\n  text\nc: |\n  literal\n',
        "list:\n- a: 1\n  b: [x, {y: z}]\n- - nested\n  - list\n-\n",
        "s: " + "x" * 200 + "\n",
        "u: Grüße, 東京 ✓\n",
        "a: approved\nb: approved\n",
    ],
)
def test_tricky_texts_load_the_same(text: str) -> None:
    assert same(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: 2\n",  # an anchor
        "a: &x [1]\nb: *x\n",  # an alias
        "a: !!str 1\n",  # an explicit tag, even an allowed one
        "a: !!map {b: 1}\n",
        "!!str k: 1\n",  # on a key too
        "m:\n  <<: {x: 1}\n",  # a merge key
        "a: 1\na: 2\n",  # a duplicate key
        "? [a]\n: 1\n",  # a list as key
        "? {a: 1}\n: 1\n",  # a mapping as key
        "v: 1" + "0" * 64 + "\n",  # a number too large
        "v: !!int abc\n",
        "v: .inf\n",  # not finite: the document is checked where it is recorded
        "v: -.Inf\n",
        "v: .nan\n",
        "a: [1\n",  # a syntax error
        "".join(f"{' ' * 2 * i}k{i}:\n" for i in range(70)) + " " * 140 + "x: 1\n",  # too deep
        "[" * 70 + "]" * 70 + "\n",
    ],
)
def test_what_needs_recording_is_left_to_the_recording_load(text: str) -> None:
    quick, recorded = both(text)
    assert quick is None
    full = yamlload.load_text(text, "t.yaml")  # the public entry: same as recording
    assert [(d.index, d.start, typed(d.value)) for d in full.documents] == [
        (d.index, d.start, typed(d.value)) for d in recorded.documents
    ]
    assert full.problems == recorded.problems


def test_a_non_finite_number_is_still_refused_by_load(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        "apiVersion: b2b.reconciler/v1\nkind: Order\nmetadata: {name: o}\n"
        "spec: {bcOrderId: 5, extraFields: {x: .inf}}\n",
        encoding="utf-8",
    )
    with pytest.raises(manifests.ManifestError) as caught:
        manifests.load([tmp_path])
    assert any("must be a finite number" in i.message for i in caught.value.issues)


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=24)
    | st.sampled_from(["NO", "yes", "0x1F", "0o17", "010", "~", "null", "1:20", "2024-01-01"])
    | st.sampled_from(["true", "False", ".5", "1e3", "<<", "-", "? x", "a: b", "#x", "'q'"])
)
_KEYS = st.text(max_size=12) | st.sampled_from(["<<", "1", "true", "~", "", "a b", "-x"])
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    docs=st.lists(_VALUES, min_size=1, max_size=3),
    flow=st.sampled_from([False, True, None]),
    ours=st.booleans(),
)
def test_random_documents_load_the_same(docs: list[Any], flow: bool | None, ours: bool) -> None:
    if ours:
        text = manifests.dump_documents([{"v": d} for d in docs])
    else:
        dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump_all(docs, Dumper=dumper, default_flow_style=flow, allow_unicode=True)
    if yamlload._BAD_CHARS.search(text) is None:
        same(text)
