"""Finding manifest files on `os.DirEntry` (no ``stat`` a file, no `pathlib` object a file) finds
the same files, in the same order, shown the same way, with the same issues, as e615e0c's walk
(kept below as the oracle), on generated trees of files, folders, hidden names, links to files
and folders, dangling links and FIFOs, given as every kind of PATH."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import manifests
from reconciler.kinds.documents import Issues
from reconciler.model import Location


def reference_find_files(
    paths: Sequence[str | Path], issues: Issues
) -> list[tuple[Path, str, bool]]:
    """`manifests._find_files` as it was at e615e0c."""
    found: list[tuple[Path, str, bool]] = []
    seen: set[str] = set()

    def unreadable(error: OSError) -> None:
        where = Location(str(error.filename or "."), 1, 1)
        issues.add(where, "", f"cannot read folder: {error.strerror or error}")

    def take(file: Path, explicit: bool, key: str | None = None) -> None:
        key = key or os.path.realpath(file)
        if key not in seen:
            seen.add(key)
            found.append((file, str(file), explicit))

    for given_path in paths:
        root = Path(given_path)
        if root.is_dir():
            files: list[tuple[tuple[str, ...], Path, str | None]] = []
            for folder, dirnames, filenames in os.walk(root, onerror=unreadable):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                names = [
                    f
                    for f in filenames
                    if f.endswith(manifests.YAML_SUFFIXES) and not f.startswith(".")
                ]
                if not names:
                    continue
                below = Path(folder).relative_to(root).parts
                real = os.path.realpath(folder)
                for name in names:
                    file = Path(folder, name)
                    key = None if file.is_symlink() else os.path.join(real, name)
                    files.append(((*below, name), file, key))
            for _parts, file, key in sorted(files, key=lambda entry: entry[0]):
                take(file, explicit=False, key=key)
        elif root.is_file():
            take(root, explicit=True)
        elif root.exists():
            issues.add(Location(str(given_path), 1, 1), "", "not a regular file or folder")
        else:
            issues.add(Location(str(given_path), 1, 1), "", "no such file or folder")
    return found


NAMES = st.sampled_from(
    [
        *("a", "b", "a.yaml", "b.yml", "a-b.yaml", "ab.yaml", "A.yaml", ".h.yaml", ".git"),
        *("x.txt", "\u00e9.yaml", "a b.yaml", "z.YAML", "a\0", "yaml"),
    ]
)
ENTRY_KINDS = st.sampled_from(
    ["file", "file", "file", "folder", "folder", "fifo", "link-file", "link-folder", "dangling"]
)
TREES = st.lists(
    st.tuples(st.lists(NAMES, min_size=1, max_size=3), ENTRY_KINDS), min_size=1, max_size=25
)


def _build(base: Path, entries: list[tuple[list[str], str]]) -> list[str]:
    """Create the entries that fit (a name holding NUL is skipped), return the relative paths
    made."""
    made: list[str] = []
    files: list[str] = []
    for parts, kind in entries:
        if any("\0" in p for p in parts):
            continue
        target = base.joinpath(*parts)
        if os.path.lexists(target):  # taken (writing to a FIFO there would wait forever)
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if kind == "file":
                target.write_text("a: 1\n", encoding="utf-8")
                files.append(str(target))
            elif kind == "folder":
                target.mkdir()
            elif kind == "fifo":
                os.mkfifo(target)
            elif kind == "link-file" and files:
                target.symlink_to(files[0])
            elif kind == "link-folder":
                target.symlink_to(target.parent if len(parts) > 1 else base)
            elif kind == "dangling":
                target.symlink_to(base / "nowhere")
            else:
                continue
        except OSError:  # a parent that is not a folder
            continue
        made.append(os.path.join(*parts))
    return made


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES, st.data())
def test_files_are_found_as_before(
    entries: list[tuple[list[str], str]], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary, "m")
        base.mkdir()
        Path(temporary, "top.yaml").write_text("a: 1\n", encoding="utf-8")  # shown as top.yaml
        made = _build(base, entries)
        choices = [".", "./", "m", "m/", "./m", "m/.", "m//", str(base), "missing", "m/missing"]
        choices += [f"m/{p}" for p in made] + [f"./m/{p}" for p in made]
        paths = data.draw(st.lists(st.sampled_from(choices), min_size=1, max_size=4))
        with contextlib.chdir(temporary):
            before_issues, after_issues = Issues(), Issues()
            before = reference_find_files(paths, before_issues)
            after = manifests._find_files(paths, after_issues)
        assert after == [(shown, explicit) for _file, shown, explicit in before]
        assert [str(file) for file, _, _ in before] == [shown for shown, _ in after]
        assert after_issues.items == before_issues.items


def test_a_folder_that_cannot_be_listed_is_an_issue_and_the_rest_is_read(tmp_path: Path) -> None:
    """As with `os.walk`: a folder that cannot be listed (here its path is longer than the
    system allows, which stops root too) is named, and every other file is read."""
    (tmp_path / "ok.yaml").write_text("a: 1\n", encoding="utf-8")
    (tmp_path / "z.yaml").write_text("a: 1\n", encoding="utf-8")
    folder = os.open(tmp_path, os.O_RDONLY)
    try:
        for _ in range(20):  # 20 x 250 characters: past PATH_MAX (4,096)
            os.mkdir("d" * 250, dir_fd=folder)
            deeper = os.open("d" * 250, os.O_RDONLY, dir_fd=folder)
            os.close(folder)
            folder = deeper
        os.close(os.open("deep.yaml", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=folder))
    finally:
        os.close(folder)
    before_issues, after_issues = Issues(), Issues()
    before = reference_find_files([tmp_path], before_issues)
    after = manifests._find_files([tmp_path], after_issues)
    assert after == [(str(tmp_path / "ok.yaml"), False), (str(tmp_path / "z.yaml"), False)]
    assert after == [(shown, explicit) for _file, shown, explicit in before]
    assert [i.message for i in after_issues.items] == ["cannot read folder: File name too long"]
    assert after_issues.items == before_issues.items
