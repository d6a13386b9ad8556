"""One folder per failure mode under fixtures/, each with the exact issues it must produce.

``expected.txt`` holds the formatted issues (``path:line:col: kind/name: message``) of loading
the folder as ``.``; an empty file means the folder is valid. Where PyYAML's pure-Python parser
words a syntax error differently from libyaml, ``expected.python.txt`` holds its version (the
locations are the same).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from reconciler import manifests, yamlload
from reconciler.errors import ManifestError
from reconciler.model import Issue

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "store"


def issues_text(paths: Sequence[str | Path]) -> str:
    """Every issue `load` reports, formatted one per line ("" when the manifests are valid)."""
    try:
        manifests.load(paths)
    except ManifestError as exc:
        return "".join(issue.format() + "\n" for issue in exc.issues)
    return ""


CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())

REQUIRED_MODES = {
    "binary-file",
    "empty-file",
    "yaml-syntax-error",
    "list-not-mapping",
    "deep-nesting",
    "alias-bomb",
    "wrong-apiversion",
    "unknown-kind",
    "unknown-field",
    "duplicate-key",
    "duplicate-name",
    "duplicate-group",
    "duplicate-order",
    "unknown-company-ref",
    "customer-in-two-assignments",
    "two-stores",
    "behavior-missing",
    "catalog-on-msf",
    "pricelist-on-nonmsf",
    "bad-email",
    "missing-required",
}


def test_every_failure_mode_has_a_fixture() -> None:
    assert set(CASES) >= REQUIRED_MODES
    for case in CASES:
        assert (FIXTURES / case / "expected.txt").is_file(), case


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = FIXTURES / case
    expected = folder / "expected.txt"
    if backend == "python" and (folder / "expected.python.txt").exists():
        expected = folder / "expected.python.txt"
    monkeypatch.chdir(folder)
    assert issues_text(["."]) == expected.read_text(encoding="utf-8")


def test_issues_are_values_with_locations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "bad-email")
    with pytest.raises(ManifestError) as caught:
        manifests.load(["."])
    assert caught.value.issues[0] == Issue(
        "acme.yaml", 7, 17, "company/acme", "spec.companyEmail: 'x' is not a valid email"
    )
    assert str(caught.value) == "invalid manifests: 3 problem(s)"


def test_huge_file_is_refused_from_its_size(tmp_path: Path) -> None:
    big = tmp_path / "huge.yaml"
    line = b"# " + b"x" * 1021 + b"\n"
    with big.open("wb") as handle:
        for _ in range(50 * 1024):
            handle.write(line)
    started = time.monotonic()
    text = issues_text([big])
    assert text == f"{big}:1:1: file is too large (52,428,800 bytes; the limit is 5 MiB)\n"
    assert time.monotonic() - started < 5  # generous: it reads nothing


def test_bytes_over_the_limit_are_refused_without_parsing() -> None:
    loaded = yamlload.load_bytes(b"a: 1\n" * (yamlload.MAX_FILE_BYTES // 5 + 1), "big.yaml")
    assert loaded.documents == []
    assert loaded.problems[0][1].startswith("file is too large (5,242,885 bytes")


def test_a_path_that_does_not_exist_is_an_issue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "bad-email")
    text = issues_text(["nowhere", "nowhere/store.yaml", "store.yaml"])
    assert text == (
        "nowhere:1:1: no such file or folder\nnowhere/store.yaml:1:1: no such file or folder\n"
    )


def test_paths_are_shown_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    assert issues_text(["duplicate-order"]).startswith("duplicate-order/orders.yaml:10:14: ")
    assert issues_text(["./duplicate-order/"]).startswith("duplicate-order/orders.yaml:10:14: ")
    absolute = FIXTURES / "duplicate-order"
    assert issues_text([absolute]).startswith(f"{absolute}/orders.yaml:10:14: ")
    assert issues_text([Path("duplicate-order/orders.yaml")]).startswith(
        "duplicate-order/orders.yaml:10:14: "
    )


def test_a_single_path_string_is_one_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    assert issues_text("duplicate-order") == issues_text(["duplicate-order"])


def test_no_paths_means_the_current_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "duplicate-order")
    assert issues_text([]) == (FIXTURES / "duplicate-order" / "expected.txt").read_text()


def test_a_file_reached_twice_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLES)
    loaded = manifests.load([".", "companies", "companies/redline-auto.yaml"])
    assert len(loaded.companies) == 6


def test_a_file_reached_through_links_is_read_once(tmp_path: Path) -> None:
    """Links to a file or a folder already read add nothing (each file is known by its real
    path, found once per folder for the files that are not links)."""
    store = tmp_path / "store"
    shutil.copytree(EXAMPLES, store)
    (store / "companies" / "again.yaml").symlink_to(store / "companies" / "redline-auto.yaml")
    (tmp_path / "link").symlink_to(store, target_is_directory=True)
    loaded = manifests.load([store, tmp_path / "link", tmp_path / "link" / "companies"])
    assert len(loaded.companies) == 6


def test_problems_of_every_file_are_reported_in_file_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(FIXTURES)
    text = issues_text(["duplicate-order", "bad-email/acme.yaml", "nowhere"])
    paths = [line.split(":")[0] for line in text.splitlines()]
    assert paths == [
        "nowhere",
        "duplicate-order/orders.yaml",
        "bad-email/acme.yaml",
        "bad-email/acme.yaml",
        "bad-email/acme.yaml",
        "bad-email/acme.yaml",
    ]
    assert text.splitlines()[2] == (
        "bad-email/acme.yaml:1:1: company/acme: no Store document sets "
        "spec.companiesBehavior, which is required once any Company, OrderAssignment or "
        "PriceListAssignment exists "
        "(add a Store document with companiesBehavior: dependent or independent)"
    )


def test_a_seed_or_other_yaml_is_skipped_when_walking_but_checked_when_named() -> None:
    assert issues_text([EXAMPLES]) == ""
    named = issues_text([EXAMPLES / "sandbox-seed.yaml"])
    assert "sandbox-seed.yaml:4:1: apiVersion: required field missing" in named


def test_a_file_looking_like_a_manifest_is_never_skipped(tmp_path: Path) -> None:
    (tmp_path / "ci.yaml").write_text("jobs: {plan: {runs-on: ubuntu-latest}}\n")
    assert issues_text([tmp_path]) == ""
    (tmp_path / "typo.yaml").write_text("Kind: Store\nMetadata: {name: main}\n")
    assert issues_text([tmp_path]) == (
        f"{tmp_path}/typo.yaml:1:1: Kind: unknown field (did you mean 'kind'?)\n"
        f"{tmp_path}/typo.yaml:1:1: apiVersion: required field missing\n"
        f"{tmp_path}/typo.yaml:1:1: kind: required field missing\n"
        f"{tmp_path}/typo.yaml:1:1: metadata: required field missing\n"
        f"{tmp_path}/typo.yaml:1:1: spec: required field missing\n"
        f"{tmp_path}/typo.yaml:2:1: Metadata: unknown field (did you mean 'metadata'?)\n"
    )


OTHER_YAML = {
    "workflow.yml": "name: plan\non: [pull_request]\njobs: {plan: {runs-on: ubuntu-latest}}\n",
    "deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n",
    "hooks.yaml": "- id: check\n  entry: check\n",
    "empty.yaml": "",
    "anchors.yml": "base: &b {a: 1}\nuse:\n  <<: *b\n  c: 2\n",
}


def test_named_other_yaml_is_skipped_only_when_asked(tmp_path: Path) -> None:
    """``skip_other_yaml`` (the changed-files pre-commit hook): named files that are plainly
    not manifests are skipped; without it, a named file is always checked."""
    for name, text in OTHER_YAML.items():
        (tmp_path / name).write_text(text)
    named = [tmp_path / name for name in OTHER_YAML] + [EXAMPLES / "sandbox-seed.yaml"]
    found = manifests.load(named, skip_other_yaml=True)
    assert found.skipped == tuple(str(p) for p in named)
    assert (found.store, found.companies) == (None, ())
    for path in named:
        if path.name != "empty.yaml":
            assert issues_text([path]) != "", path
    manifest = EXAMPLES / "companies" / "northwind-supply.yaml"
    together = manifests.load([*named, EXAMPLES / "store.yaml", manifest], skip_other_yaml=True)
    assert together.skipped == found.skipped
    assert together.store is not None
    assert together.companies


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "apiVersion: b2b.reconciler/v2\nkind: Store\nmetadata: {name: main}\nspec: {}\n",
            "x.yaml:1:13: store/main: apiVersion: must be 'b2b.reconciler/v1'",
        ),
        (
            "apiVersion: apps/v1\nkind: Company\nmetadata: {name: acme}\nspec: {}\n",
            "x.yaml:1:13: company/acme: apiVersion: must be 'b2b.reconciler/v1' (got 'apps/v1')",
        ),
        ("Kind: Store\nMetadata: {name: main}\n", "x.yaml:1:1: Kind: unknown field"),
        ("kind: Store\nmetadata: {name: main}\nspec: {}\n", "apiVersion: required field missing"),
        ("apiVersion: b2b.reconciler/v1\nkind: [", "x.yaml:3:1: YAML syntax error"),
    ],
    ids=["other-version", "our-kind", "typo", "no-apiversion", "syntax-error"],
)
def test_a_named_file_meant_as_a_manifest_is_never_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("x.yaml").write_text(text)
    with pytest.raises(ManifestError) as caught:
        manifests.load(["x.yaml"], skip_other_yaml=True)
    assert expected in "".join(issue.format() + "\n" for issue in caught.value.issues)


def test_only_yaml_files_and_no_hidden_ones_are_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.yaml").write_text("a: [")
    (tmp_path / ".draft.yaml").write_text("a: [")
    (tmp_path / "notes.txt").write_text("a: [")
    (tmp_path / "README.md").write_text("a: [")
    assert issues_text([tmp_path]) == ""
    (tmp_path / "real.yml").write_text("a: [")
    assert issues_text([tmp_path]).startswith(f"{tmp_path}/real.yml:2:1: YAML syntax error: ")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files")
def test_an_unreadable_file_is_an_issue(tmp_path: Path) -> None:  # pragma: no cover - not root
    secret = tmp_path / "secret.yaml"
    secret.write_text("a: 1")
    secret.chmod(0)
    assert issues_text([tmp_path]) == f"{secret}:1:1: cannot read file: Permission denied\n"


def test_a_fifo_or_device_is_named_never_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # read, it would block validate forever (no writer)
    expected = f"{fifo}:1:1: file is a FIFO (named pipe), not a regular file\n"
    assert issues_text([tmp_path]) == expected  # it was skipped silently while walking
    assert issues_text([fifo]) == f"{fifo}:1:1: not a regular file or folder\n"
    fifo.unlink()
    device = tmp_path / "zero.yaml"
    device.symlink_to("/dev/zero")  # endless: it would be read up to the 5 MiB cap
    expected = f"{device}:1:1: file is a character device, not a regular file\n"
    assert issues_text([tmp_path]) == expected
    device.unlink()
    dangling = tmp_path / "gone.yaml"
    dangling.symlink_to(tmp_path / "nowhere.yaml")
    expected = f"{dangling}:1:1: cannot read file: No such file or directory\n"
    assert issues_text([tmp_path]) == expected


def test_empty_files_and_documents_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "empty-file")
    loaded = manifests.load(["."])
    assert loaded.store is not None
    assert loaded.store.name == "main"
    assert (loaded.companies, loaded.assignments, loaded.orders) == ((), (), ())


def test_yaml_12_scalars_keep_their_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "dates-and-yaml12")
    (company,) = manifests.load(["."]).companies
    assert company.customer_group_id == 12
    assert company.company_name == "2024-01-01"
    assert company.company_phone == "1:20"
    assert company.address == {"country": "NO", "state": "on"}
    assert company.uuid == "yes"
    assert company.catalog_id == "7"
    assert company.extra_fields == {"since": "2024-01-01T10:00:00Z", "count": 10}


def test_aliases_within_a_document_are_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "aliases-allowed")
    (company,) = manifests.load(["."]).companies
    assert company.admin is not None
    assert company.admin.email == company.company_email == "buyer@acme.example"
    assert company.admin.phone_number == "555 0100"
    assert (
        company.user_extra_fields == company.extra_fields == {"licenseNo": "A-1", "region": "West"}
    )
    assert company.extra_fields is not company.user_extra_fields


def test_explicit_core_tags_are_allowed(tmp_path: Path) -> None:
    (tmp_path / "o.yaml").write_text(
        "apiVersion: !!str b2b.reconciler/v1\nkind: Order\nmetadata: {name: po-1}\n"
        "spec: !!map {bcOrderId: !!int '5001', poNumber: !!str 12, extraFields: {a: !!float 1}}\n"
    )
    (order,) = manifests.load([tmp_path]).orders
    assert (order.bc_order_id, order.po_number, order.extra_fields) == (5001, "12", {"a": 1.0})
