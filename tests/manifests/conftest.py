"""Shared helpers for the manifest tests."""

from __future__ import annotations

import pytest
import yaml

from reconciler import yamlload


@pytest.fixture(params=["libyaml", "python"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with libyaml's parser and with PyYAML's pure-Python one."""
    if request.param == "libyaml":
        if not yaml.__with_libyaml__:
            pytest.skip("PyYAML was built without libyaml")
        monkeypatch.setattr(yamlload, "_Parser", yaml.CSafeLoader)
    else:
        monkeypatch.setattr(yamlload, "_Parser", yaml.SafeLoader)
    return str(request.param)
