"""Hostile manifests through the real command line (``main(["validate", ...])``).

``tests/manifests/test_fuzz.py`` already drives ``manifests.load`` with random text, bytes and
mutated examples. What it cannot see is what a user sees: exit codes, what reaches the terminal,
the JSON and GitHub-annotation renderings, and ``plan`` refusing invalid manifests. Here
Hypothesis writes documents as YAML text (so that it can say what a dumper cannot: duplicate
keys, anchors and aliases, unquoted YAML 1.1 look-alikes, tags, escapes for control, bidi and
line-separator characters, deep nesting, huge strings and numbers) into files with awkward
names, and checks:

- the exit code is 0 or 1, and no exception escapes ``main`` or is reported by it as an
  internal error;
- for an invalid set, every stdout line of ``validate`` is ``path:line:col: message`` and so is
  every issue line ``plan`` writes to stderr;
- no raw control, bidi-override or line-separator character reaches the terminal;
- ``--format json`` is JSON whose ``valid`` agrees with the exit code, with 1-based positions;
- with ``GITHUB_ACTIONS=true`` every extra line is one ``::error`` workflow command.

Examples stay small, so each document is answered quickly (no timing assertions).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reconciler.cli import main

EXAMPLES = int(os.environ.get("CHAOS_EXAMPLES", "0") or 0) or 120
HOSTILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    # capsys and monkeypatch are used per example on purpose: output is read (and so reset)
    # after every run, and the environment is the same for every example.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
ISSUE_LINE = re.compile(r"^.+:\d+:\d+: ")
RAW_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
"""What must never reach a terminal unescaped (newline aside)."""

# --------------------------------------------------------------------------- documents as text


def q(text: str) -> str:
    """A YAML double-quoted scalar; non-ASCII and control characters become escapes."""
    return json.dumps(text, ensure_ascii=True)


NASTY_TEXT = st.sampled_from(
    [
        "\u202eevil\u202c",
        "\u2067rtl\u2069",
        "\u200f\u05e9\u05dc\u05d5\u05dd",
        "مرحبا",
        "line\nbreak",
        "carriage\rreturn",
        "nel\x85here",
        "sep\u2028arator",
        "bell\x07",
        "nul\x00byte",
        "esc\x1b[31mred",
        "tab\there",
        "\ufeffbom",
        "zero\u200bwidth",
        "e\u0301",
        "😀",
        "",
        " ",
        "acme",
        "Acme Corp",
        "x" * 5000,
        "é" * 400,
    ]
)
STRINGS = NASTY_TEXT | st.text(max_size=24)
COMPANY_NAMES = st.sampled_from(
    [
        "\u202eevil\u202c",
        "\u200f\u05e9\u05dc\u05d5\u05dd",
        "line\nbreak",
        "nel\x85here",
        "bell\x07",
        "😀",
        "é" * 200,
    ]
)
"""Valid company names (1 to 200 characters of anything)."""
PLAIN_LOOKALIKES = st.sampled_from(
    [
        "yes",
        "No",
        "on",
        "OFF",
        "~",
        "null",
        "Null",
        "0o17",
        "017",
        "0x1F",
        "1e3",
        "1_000",
        "+12",
        "2024-01-01",
        "12:30:00",
        ".inf",
        "-.Inf",
        ".NaN",
        "!!binary aGVsbG8=",
        "!!python/object:os.system x",
        "!!python/name:os.system",
        "!!str 5",
        "!!int '7'",
        "!!float 1",
        "!!timestamp 2024-01-01",
        "!custom x",
        "*undefined",
        "&dangling x",
        "@reserved",
        "`tick",
        "%percent",
        "|",
        ">-",
        "? complex",
        "- item",
        "#comment",
        "'unterminated",
        '"unterminated',
    ]
)
NUMBERS = st.sampled_from(
    ["0", "-1", "12", "2147483647", "2147483648", "9" * 400, "1.5", "-0.0", "12.0", "1e400"]
)


@st.composite
def node(draw: st.DrawFn, depth: int = 0) -> str:
    """One flow-style YAML node: hostile scalars, collections, nesting, anchors and aliases."""
    kinds = ["string", "plain", "number", "huge"] + (
        ["mapping", "list", "deep", "alias"] if depth < 2 else []
    )
    kind = draw(st.sampled_from(kinds))
    if kind == "string":
        return q(draw(STRINGS))
    if kind == "plain":
        return draw(PLAIN_LOOKALIKES)
    if kind == "number":
        return draw(NUMBERS)
    if kind == "huge":
        return q(draw(st.sampled_from(["a", "é", "\u202e", "0"])) * draw(st.integers(1000, 20000)))
    if kind == "mapping":
        pairs = draw(st.lists(st.tuples(STRINGS.map(q), node(depth + 1)), max_size=3))
        if pairs and draw(st.booleans()):
            pairs.append(pairs[0])  # a duplicate key
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    if kind == "list":
        return "[" + ", ".join(draw(st.lists(node(depth + 1), max_size=3))) + "]"
    if kind == "deep":
        n = draw(st.integers(10, 300))
        return draw(st.sampled_from(["[" * n + "]" * n, "{a: " * n + "1" + "}" * n]))
    inner = draw(node(depth + 1))
    return f"&x {inner}" if draw(st.booleans()) else f"[&y {inner}, *y, *y]"


def _company(name: str, group: int) -> dict[str, str]:
    return {
        "customerGroupId": str(group),
        "companyName": q(f"{name.title()} Inc"),
        "companyEmail": q(f"buy@{name}.example"),
        "companyPhone": q("555-0100"),
        "status": "approved",
        "extraFields": "{licenseNo: " + q("L-1") + "}",
    }


BASES: dict[str, tuple[str, dict[str, str]]] = {
    "Store": ("shop", {"storeHash": "abc123", "companiesBehavior": "dependent"}),
    "Company": ("acme", _company("acme", 12)),
    "OrderAssignment": ("acme-buyers", {"company": "acme", "customerIds": "[321, 322]"}),
    "Order": ("po-5001", {"bcOrderId": "5001", "poNumber": q("PO-1")}),
}
SPEC_KEYS = st.sampled_from(
    ["customerGroupId", "companyName", "catalogId", "extraFields", "customerIds", "poNumber"]
)


@st.composite
def document(draw: st.DrawFn, kind: str, *, mutate: bool = True) -> str:
    """A document of ``kind``, possibly mutated, as block-style YAML text."""
    name, base = BASES[kind]
    spec = dict(base)
    if kind == "Company":  # any text is a valid name: the set stays valid
        spec["companyName"] = q(draw(COMPANY_NAMES))
    top: list[tuple[str, str]] = [
        ("apiVersion", "b2b.reconciler/v1"),
        ("kind", kind),
        ("metadata", "{name: " + name + "}"),
    ]
    for _ in range(draw(st.integers(0, 3)) if mutate else 0):
        where = draw(st.sampled_from(["spec", "spec", "new-key", "top", "name", "dup", "anchor"]))
        if where == "spec":
            spec[draw(st.sampled_from(sorted(spec)))] = draw(node())
        elif where == "new-key":
            spec[draw(SPEC_KEYS | STRINGS.map(q))] = draw(node())
        elif where == "top":
            i = draw(st.integers(0, len(top) - 1))
            top[i] = (top[i][0], draw(node()))
        elif where == "name":
            top[2] = ("metadata", "{name: " + draw(node()) + "}")
        elif where == "dup":
            top.append(draw(st.sampled_from(top)))  # a duplicate top-level key
        else:
            top[2] = ("metadata", "&meta {name: " + name + "}")
            spec["extraFields"] = "*meta"
    body = "{" + ", ".join(f"{k}: {v}" for k, v in spec.items()) + "}"
    if draw(st.booleans()):
        inner = "".join(f"  {k}: {v}\n" for k, v in spec.items())
        return "".join(f"{k}: {v}\n" for k, v in top) + "spec:\n" + inner
    return "".join(f"{k}: {v}\n" for k, v in top) + f"spec: {body}\n"


FILE_NAMES = st.sampled_from(
    [
        "m.yaml",
        "space name.yaml",
        "ünïcödé.yaml",
        "\u05e9\u05dc\u05d5\u05dd.yaml",
        "a:1:2.yaml",
        "comma,and=equals.yml",
        "percent%0A.yaml",
        "--flag.yaml",
    ]
)


@st.composite
def manifest_files(draw: st.DrawFn, names: st.SearchStrategy[str] = FILE_NAMES) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    if draw(st.integers(0, 2)) == 0:  # a valid set, written in one of several ways
        name = draw(names)
        docs = [draw(document(kind, mutate=False)) for kind in sorted(BASES)]
        text = "---\n".join(docs)
        encoding = draw(st.sampled_from(["plain", "crlf", "bom"]))
        text = {"crlf": text.replace("\n", "\r\n"), "bom": "\ufeff" + text}.get(encoding, text)
        return {name: text.encode("utf-8")}
    for name in draw(st.lists(names, min_size=1, max_size=3, unique=True)):
        kinds = draw(st.lists(st.sampled_from(sorted(BASES)), min_size=1, max_size=3))
        text = "---\n".join(draw(document(kind)) for kind in kinds)
        encoding = draw(st.sampled_from(["plain", "crlf", "bom", "tabs", "truncated"]))
        if encoding == "crlf":
            text = text.replace("\n", "\r\n")
        elif encoding == "bom":
            text = "\ufeff" + text
        elif encoding == "tabs":
            text = text.replace("  ", "\t", 1)
        elif encoding == "truncated":
            text = text[: draw(st.integers(0, len(text)))]
        files[name] = text.encode("utf-8")
    return files


# --------------------------------------------------------------------------- running the CLI


@contextmanager
def written(files: dict[str, bytes]) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        for name, data in files.items():
            (folder / name).write_bytes(data)
        yield folder
    finally:
        shutil.rmtree(folder)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI; an exception escaping ``main``, or one it reports as a bug of its own
    ("Internal error"), fails the test."""
    capsys.readouterr()
    out = io.StringIO()
    code = main(list(argv), out=out)
    err = capsys.readouterr().err
    assert "Internal error" not in err, err
    return code, out.getvalue(), err


def assert_terminal_safe(text: str, where: str) -> None:
    found = RAW_UNSAFE.search(text)
    assert found is None, f"raw {found.group()!r} in {where}: {text[:400]!r}"


@pytest.fixture
def plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_ACTIONS", "B2B_SANDBOX", "BIGCOMMERCE_STORE_HASH"):
        monkeypatch.delenv(name, raising=False)


@HOSTILE
@given(files=manifest_files())
def test_validate_answers_every_document_with_located_lines(
    files: dict[str, bytes], capsys: pytest.CaptureFixture[str], plain_env: None
) -> None:
    with written(files) as folder:
        code, out, err = cli(capsys, "validate", str(folder))
    event(f"validate exit {code}")
    assert code in (0, 1), (code, out, err)
    assert_terminal_safe(out, "stdout")
    assert_terminal_safe(err, "stderr")
    if code == 0:
        assert out.startswith("Valid: "), out
        return
    lines = out.splitlines()
    assert lines, err
    for line in lines:
        assert ISSUE_LINE.match(line), line
    assert err.strip().endswith("problem(s) found."), err


@HOSTILE
@given(files=manifest_files())
def test_validate_json_agrees_with_the_exit_code(
    files: dict[str, bytes], capsys: pytest.CaptureFixture[str], plain_env: None
) -> None:
    with written(files) as folder:
        code, out, _ = cli(capsys, "validate", str(folder), "--format", "json")
    assert code in (0, 1)
    payload = json.loads(out)
    assert payload["valid"] is (code == 0)
    assert bool(payload["issues"]) is (code == 1)
    for issue in payload["issues"]:
        assert issue["path"].startswith(str(folder)), issue
        assert issue["line"] >= 1, issue
        assert issue["col"] >= 1, issue
        assert issue["message"], issue


@HOSTILE
@given(files=manifest_files())
def test_github_annotations_are_one_workflow_command_per_line(
    files: dict[str, bytes], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    with written(files) as folder:
        code, out, err = cli(capsys, "validate", str(folder))
    assert code in (0, 1)
    assert_terminal_safe(out, "stdout")
    assert_terminal_safe(err, "stderr")
    if code == 0:
        return
    lines = out.splitlines()
    # Annotations go to stderr (issue 13): each issue once as text on stdout, once annotated.
    annotations = [line for line in err.splitlines() if line.startswith("::error ")]
    assert annotations
    assert len(annotations) == len(lines), (lines, annotations)
    for line in lines:
        assert ISSUE_LINE.match(line), line
    for line in annotations:  # "no manifests found" is located at the folder, without a line
        assert re.match(r"^::error file=[^:]+(,line=\d+,col=\d+)?::", line), line


@HOSTILE
@given(files=manifest_files(names=st.just("m.yaml")))
def test_plan_refuses_invalid_manifests_with_located_lines(
    files: dict[str, bytes], capsys: pytest.CaptureFixture[str], plain_env: None
) -> None:
    """plan validates first and sends nothing: no store is configured, so only exit 1 can come."""
    with written(files) as folder:
        code, out, err = cli(capsys, "plan", str(folder), "--sandbox", str(folder / "none.db"))
    assert code == 1, (out, err)
    assert_terminal_safe(err, "stderr")
    lines = err.splitlines()
    assert lines[0].startswith("Error: "), err
    if lines[0].startswith("Error: invalid manifests"):
        for line in lines[1:]:
            assert ISSUE_LINE.match(line), line
    else:  # valid: refused for the missing sandbox, after validation
        assert "sandbox" in lines[0], err


@pytest.mark.parametrize("name", ["new\nline.yaml", "\u202eevil.yaml"])
def test_plan_escapes_hostile_file_names_like_validate(
    name: str, capsys: pytest.CaptureFixture[str], plain_env: None
) -> None:
    files = {name: b"apiVersion: b2b.reconciler/v1\nkind: Company\nmetadata: {name: acme}\n"}
    with written(files) as folder:
        code, shown, _ = cli(capsys, "validate", str(folder))
        assert code == 1
        assert_terminal_safe(shown, "validate's stdout")  # validate escapes them
        code, _, err = cli(capsys, "plan", str(folder), "--sandbox", str(folder / "none.db"))
    assert code == 1
    assert_terminal_safe(err, "plan's stderr")
    for line in err.splitlines()[1:]:
        assert ISSUE_LINE.match(line), line
