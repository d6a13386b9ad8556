"""Whatever a file holds, `load` returns a ManifestSet or raises ManifestError with located issues.

Inputs: random YAML-ish text and bytes, and copies of the examples mutated both as values
(deleted keys, wrong types, huge strings, unicode) and as text (aliases, alias bombs, duplicated
lines, deep nesting, truncation, stray bytes).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import manifests, yamlload
from reconciler.errors import ManifestError
from reconciler.model import Issue, ManifestSet

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "store"
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_counter = itertools.count()


def _example_docs() -> list[dict[str, Any]]:
    docs = []
    for file in sorted(EXAMPLES.rglob("*.yaml")):
        if file.name != "sandbox-seed.yaml":
            docs += [d.value for d in yamlload.load_path(file, str(file)).documents]
    return docs


DOCS = _example_docs()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _check_issues(root: Path, issues: tuple[Issue, ...]) -> None:
    assert issues
    for issue in issues:
        assert issue.path.startswith(str(root)), issue
        assert issue.line >= 1, issue
        assert issue.col >= 1, issue
        assert issue.message, issue
        assert "\n" not in issue.format(), issue


def check(folder: Path, files: dict[str, bytes]) -> ManifestSet | None:
    """Write the files to a fresh folder under ``folder`` and load it; check the outcome."""
    root = folder / f"case{next(_counter)}"
    root.mkdir()
    for name, data in files.items():
        (root / name).write_bytes(data)
    try:
        result = manifests.load([root])
    except ManifestError as exc:
        _check_issues(root, exc.issues)
        return None
    for company in result.companies:
        assert type(company.customer_group_id) is int
        assert isinstance(company.company_name, str)
    for assignment in result.assignments:
        assert all(type(c) is int for c in assignment.customer_ids)
        assert result.company_named(assignment.company) is not None
    assert result.digest.startswith("sha256:")
    return result


# --------------------------------------------------------------------------- random text

YAML_BITS = st.sampled_from(
    [
        "apiVersion: b2b.reconciler/v1\n",
        "kind: Company\n",
        "kind: Store\n",
        "kind: Order\n",
        "metadata: {name: acme}\n",
        "spec:\n",
        "  customerGroupId: 12\n",
        "  bcOrderId: 5001\n",
        "  companiesBehavior: dependent\n",
        "---\n",
        "- ",
        ": ",
        "? ",
        "&a ",
        "*a ",
        "!!binary ",
        "!tag ",
        "<<: *a\n",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "'",
        '"',
        "|\n",
        ">-\n",
        "# comment\n",
        "\t",
        "  ",
        "\n",
        "%YAML 1.2\n",
        "...\n",
        "\ufeff",
        "é",
        "\u2028",
        "\x85",
        "0o17 ",
        ".inf ",
        "2024-01-01 ",
    ]
)


@FUZZ
@given(st.lists(YAML_BITS | st.text(max_size=8), max_size=40))
def test_random_yaml_text(workdir: Path, parts: list[str]) -> None:
    check(workdir, {"a.yaml": "".join(parts).encode("utf-8", "surrogatepass")})


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(workdir: Path, data: bytes) -> None:
    check(workdir, {"a.yaml": data})


# --------------------------------------------------------------------------- mutated examples

ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(
        [
            "x" * 5000,
            "é" * 300,
            "\u202e\u0000\x07",
            "0" * 80,
            "2024-01-01",
            "NO",
            "buyer@acme.example",
            "acme",
            "dependent",
            "pending",
            -1,
            0,
            2**31,
            2**200,
            12.0,
            [],
            {},
            [1, 1],
            {"channelId": 1, "priceListId": 2},
            [{"channelId": 1}],
        ]
    ),
    st.lists(st.integers(min_value=-5, max_value=500), max_size=4),
    st.dictionaries(st.text(max_size=6), st.integers() | st.text(max_size=6), max_size=3),
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _mutate(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        op = data.draw(st.sampled_from(["delete", "replace", "add", "nest"]))
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = copy.deepcopy(data.draw(ODD_VALUES))
        elif op == "add" and isinstance(parent, dict):
            parent[data.draw(st.sampled_from(["catalgId", "extra", "spec", "kind", "é"]))] = (
                copy.deepcopy(data.draw(ODD_VALUES))
            )
        elif op == "nest":
            depth = data.draw(st.integers(min_value=1, max_value=80))
            wrapped: Any = parent[path[-1]]
            for _ in range(depth):
                wrapped = [wrapped]
            parent[path[-1]] = wrapped
    return doc


TEXT_EDITS = ["none", "duplicate-line", "alias", "bomb", "deep", "truncate", "insert"]


def _edit(text: str, data: st.DataObject) -> str:
    lines = text.splitlines(keepends=True)
    edit = data.draw(st.sampled_from(TEXT_EDITS))
    if edit == "duplicate-line" and lines:
        i = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
        lines.insert(i, lines[i])
    elif edit == "alias":
        lines += ["extra: &shared {a: [1, 2]}\n", "again: *shared\n", "loop: &l [*l]\n"]
    elif edit == "bomb":
        lines.append('x0: &x0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n')
        for i in range(1, 8):
            lines.append(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 9) + "]\n")
    elif edit == "deep":
        lines.append("deep: " + "[" * 100 + "]" * 100 + "\n")
    elif edit == "truncate" and text:
        return text[: data.draw(st.integers(min_value=0, max_value=len(text)))]
    elif edit == "insert" and text:
        at = data.draw(st.integers(min_value=0, max_value=len(text)))
        bit = data.draw(YAML_BITS | st.text(max_size=3))
        return text[:at] + bit + text[at:]
    return "".join(lines)


@FUZZ
@given(st.data())
def test_mutated_examples(workdir: Path, data: st.DataObject) -> None:
    count = data.draw(st.integers(min_value=1, max_value=4))
    docs = [_mutate(data.draw(st.sampled_from(DOCS)), data) for _ in range(count)]
    text = _edit(manifests.dump_documents(docs), data)
    check(workdir, {"m.yaml": text.encode("utf-8", "surrogatepass")})


@FUZZ
@given(st.data())
def test_examples_with_one_file_mutated(workdir: Path, data: st.DataObject) -> None:
    files = {f"d{i}.yaml": manifests.dump_documents([d]).encode() for i, d in enumerate(DOCS)}
    target = data.draw(st.sampled_from(sorted(files)))
    text = files[target].decode()
    files[target] = _edit(text, data).encode("utf-8", "surrogatepass")
    check(workdir, files)


def test_the_unmutated_examples_load(workdir: Path) -> None:
    files = {f"d{i}.yaml": manifests.dump_documents([d]).encode() for i, d in enumerate(DOCS)}
    result = check(workdir, files)
    assert result is not None
    assert result.digest == manifests.load([EXAMPLES]).digest
