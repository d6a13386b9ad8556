"""What users see of the package: one version everywhere, the license, classifiers and URLs.

The installed metadata is read back (``importlib.metadata``), so these check what the build
backend made of pyproject.toml, not only the file.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import reconciler
from reconciler.cli import main

ROOT = Path(__file__).resolve().parents[2]
DIST = "b2b-reconciler"
SUPPORTED = ("3.11", "3.12", "3.13")


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_one_version_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    """pyproject.toml is the one place the version is written; everything else reads it."""
    version = pyproject()["project"]["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc|\.dev)\d+)?", version)
    assert metadata.version(DIST) == version, "reinstall: the installed metadata is stale"
    assert reconciler.__version__ == version
    assert not re.search(
        r"__version__\s*=\s*[\"']\d+\.", (ROOT / "reconciler/__init__.py").read_text()
    )
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"b2b-reconcile {version}\n"
    module = subprocess.run(
        [sys.executable, "-m", "reconciler", "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert module.stdout == f"b2b-reconcile {version}\n"


def test_the_changelog_has_a_section_for_this_version() -> None:
    version = pyproject()["project"]["version"]
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(version)}\] - ", text, re.M)


def test_license_is_mit_as_an_spdx_expression() -> None:
    project = pyproject()["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    # PEP 639: a license expression and License :: classifiers must not both be given.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]
    # 77 is the first setuptools that reads `license` as an SPDX expression.
    assert pyproject()["build-system"]["requires"] == ["setuptools>=77"]
    meta = metadata.metadata(DIST)
    assert meta["License-Expression"] == "MIT"
    assert "LICENSE" in (meta.get_all("License-File") or [])


def test_classifiers_name_the_supported_pythons() -> None:
    project = pyproject()["project"]
    versions = tuple(
        c.rsplit(" :: ", 1)[1]
        for c in project["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    assert versions == SUPPORTED
    assert project["requires-python"] == f">={SUPPORTED[0]}"
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in SUPPORTED
    classifiers = metadata.metadata(DIST).get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.13" in classifiers
    assert "Typing :: Typed" in classifiers


def test_project_urls() -> None:
    urls = pyproject()["project"]["urls"]
    assert set(urls) >= {"Homepage", "Source", "Issues", "Changelog"}
    assert all(url.startswith("https://") for url in urls.values())
    installed = metadata.metadata(DIST).get_all("Project-URL") or []
    assert {entry.split(",", 1)[0] for entry in installed} >= {"Homepage", "Changelog"}
