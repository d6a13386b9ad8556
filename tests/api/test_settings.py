"""Settings: the token hides itself, plain http:// only on loopback."""

from __future__ import annotations

import pickle

import pytest

from reconciler.api import ApiSettings, Secret
from reconciler.errors import UsageError

TOKEN = "tok-5e3c9b7a-very-secret"


def test_secret_never_shows_itself() -> None:
    secret = Secret(TOKEN)
    assert str(secret) == "***"
    assert repr(secret) == "'***'"
    assert f"{secret}" == "***"
    assert f"{secret!r}" == "'***'"
    assert secret.reveal() == TOKEN
    assert secret == Secret(TOKEN)
    assert secret != Secret("other")
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_settings_repr_hides_the_token() -> None:
    settings = ApiSettings(store_hash="abc123", token=Secret(TOKEN))
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert "***" in repr(settings)


def test_a_bare_string_token_is_wrapped() -> None:
    settings = ApiSettings(store_hash="abc123", token=TOKEN)  # type: ignore[arg-type]
    assert isinstance(settings.token, Secret)
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/api/v3/io",
        "http://localhost:8787/api/v3/io",
        "http://127.0.0.1:8787",
        "http://127.8.9.10",
        "http://[::1]:8787",
        "https://api-b2b.bigcommerce.com/api/v3/io",
    ],
)
def test_allowed_urls(url: str) -> None:
    settings = ApiSettings(store_hash="abc123", token=Secret(TOKEN), b2b_url=url, core_url=url)
    assert settings.b2b_url == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://api-b2b.bigcommerce.com/api/v3/io",
        "http://10.0.0.1",
        "http://localhost.evil.example",
        "http://128.0.0.1",
        "ftp://localhost",
        "localhost:8787",
        "https://user:pw@example.com",
    ],
)
def test_refused_urls(url: str) -> None:
    with pytest.raises(UsageError) as info:
        ApiSettings(store_hash="abc123", token=Secret(TOKEN), b2b_url=url)
    assert TOKEN not in str(info.value)
    assert "pw" not in str(info.value)
    with pytest.raises(UsageError):
        ApiSettings(store_hash="abc123", token=Secret(TOKEN), core_url=url)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"store_hash": "abc/../x"}, "store hash"),
        ({"token": Secret("")}, "access token"),
        ({"requests_per_minute": 0}, "requestsPerMinute"),
        ({"requests_per_minute": 151}, "requestsPerMinute"),
        ({"timeout": 0.0}, "timeout"),
    ],
)
def test_bad_settings(kwargs: dict[str, object], match: str) -> None:
    base: dict[str, object] = {"store_hash": "abc123", "token": Secret(TOKEN)}
    with pytest.raises(UsageError, match=match):
        ApiSettings(**{**base, **kwargs})  # type: ignore[arg-type]
