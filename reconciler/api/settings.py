"""Connection settings for both APIs, and the ``Secret`` that keeps the token out of every text.

The token is wrapped as soon as it is read: ``str``, ``repr`` and ``format`` of a ``Secret`` give
``***``, so no error message, log line or ``repr`` of the settings can carry it. Only the
transport calls ``reveal()``, to set the ``X-Auth-Token`` header.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from reconciler.errors import UsageError

DEFAULT_B2B_URL = "https://api-b2b.bigcommerce.com/api/v3/io"
DEFAULT_CORE_URL = "https://api.bigcommerce.com"

_STORE_HASH = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Secret:
    """A value that never shows itself: ``str``/``repr`` give ``***``; ``reveal()`` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the wrapped value (for the one header that needs it)."""
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, what: str) -> str:
    """Return ``url`` without a trailing slash; refuse anything but https (http on loopback)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise UsageError(f"{what} must be an https:// URL, got {_shown(url)!r}")
    if parts.scheme == "http" and not is_loopback(host):
        raise UsageError(
            f"{what} {_shown(url)!r} uses plain http://, which is allowed only on a loopback "
            "host (localhost, 127.0.0.0/8, ::1); use https://"
        )
    if parts.query or parts.fragment:
        raise UsageError(f"{what} must not carry a query or fragment: {_shown(url)!r}")
    if parts.username or parts.password:
        raise UsageError(f"{what} must not carry credentials")
    return url.rstrip("/")


def _shown(url: str) -> str:
    """The URL without any userinfo, for messages."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return parts._replace(netloc=netloc).geturl()
    return url


@dataclass(frozen=True)
class ApiSettings:
    """Where and as whom to connect, and this tool's share of the store's B2B budget."""

    store_hash: str
    token: Secret
    b2b_url: str = DEFAULT_B2B_URL
    core_url: str = DEFAULT_CORE_URL
    requests_per_minute: int = 120
    timeout: float = 30.0
    """Seconds one request may take in all: connect, headers and the whole body."""
    max_response_bytes: int = 16 * 1024 * 1024
    """Largest answer read (a page of 250 orders is well under 2 MiB); past it, reading stops."""

    def __post_init__(self) -> None:
        token: object = self.token
        if isinstance(token, str):  # be forgiving, but never keep a bare string around
            object.__setattr__(self, "token", Secret(token))
        elif not isinstance(token, Secret):
            raise UsageError("the access token must be a string")
        if not self.token.reveal():
            raise UsageError("no access token: set BIGCOMMERCE_ACCESS_TOKEN or use --token-file")
        if not _STORE_HASH.match(self.store_hash):
            raise UsageError(f"invalid store hash {self.store_hash!r}")
        refused = ""
        try:
            object.__setattr__(self, "b2b_url", check_base_url(self.b2b_url, "the B2B API URL"))
            object.__setattr__(self, "core_url", check_base_url(self.core_url, "the core API URL"))
        except UsageError as exc:
            refused = str(exc)
        if refused:  # raised outside the handler: no chained exception keeps the raw text
            # A token pasted into a URL must not come back in the message.
            raise UsageError(refused.replace(self.token.reveal(), "***"))
        if not 1 <= self.requests_per_minute <= 150:
            raise UsageError(
                f"requestsPerMinute must be between 1 and 150, got {self.requests_per_minute}"
            )
        if not self.timeout > 0:
            raise UsageError(f"timeout must be positive, got {self.timeout}")
