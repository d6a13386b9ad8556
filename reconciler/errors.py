"""The exception tree of b2b-reconciler.

Every error a user can meet is one of these; the CLI turns them into one line and an exit code in
exactly one place (``cli.main``). Lower-level failures (httpx, yaml, OSError) are translated at the
boundary that meets them and chained with ``raise ... from``.

    ReconcilerError                 exit 1; base of everything below
    ├── UsageError                  bad flags, missing credentials, store hash mismatch
    ├── ManifestError               invalid manifests; carries every Issue found
    ├── PlanError                   plan-time problems against the live store; carries Issues
    ├── PlanFileError               a saved plan that cannot be read or does not fit
    │   └── PlanMismatchError       a saved plan the manifests do not produce (edited, foreign)
    ├── StalePlanError              a saved plan whose objects changed since planning
    ├── ApplyRefusedError           apply sent nothing: stale plan, or freshness unknowable
    ├── SafetyError                 maxChangePercent exceeded without --force
    ├── StoppedError                the run stopped sending: --timeout passed, Ctrl-C, SIGTERM
    └── ApiError                    the remote API failed us (after retries where allowed)
        ├── AuthError               401/403 from either API
        ├── NotFoundError           404
        ├── RateLimitedError        429 after the retry budget ran out
        ├── TransportError          connection refused/dropped, timeouts (no HTTP answer)
        ├── StoreChangedError       a paged read saw the store change under it (run again)
        └── UncertainWriteError     a non-idempotent write whose outcome is unknown

Messages never contain the access token: ``ApiError`` carries only method, path, status and the
API's own message, and ``cli`` runs a last redaction pass on everything it prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.model import Issue


class ReconcilerError(Exception):
    """Base of every error the CLI reports as one clean message."""

    exit_code = 1


class UsageError(ReconcilerError):
    """The command line or environment is wrong."""


class IssuesError(ReconcilerError):
    """An error made of located issues, all reported at once."""

    def __init__(self, issues: Sequence[Issue], headline: str) -> None:
        self.issues = tuple(issues)
        super().__init__(f"{headline}: {len(self.issues)} problem(s)")


class ManifestError(IssuesError):
    """The manifests are invalid."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        super().__init__(issues, "invalid manifests")


class PlanError(IssuesError):
    """The manifests cannot be planned against this live store."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        super().__init__(issues, "cannot plan")


class PlanFileError(ReconcilerError):
    """A saved plan file is unreadable or does not match."""


class PlanMismatchError(PlanFileError):
    """A saved plan is not what the manifests produce: edited, foreign, or from other files."""


class StalePlanError(ReconcilerError):
    """Objects the saved plan touches changed since it was made."""


class ApplyRefusedError(ReconcilerError):
    """Apply refused before its first write (the report says why)."""


class SafetyError(ReconcilerError):
    """The plan changes more than maxChangePercent of managed objects."""


class StoppedError(ReconcilerError):
    """The run must not send more: its ``--timeout`` passed, or a stop was asked for."""


class ApiError(ReconcilerError):
    """The remote API answered with an error or not at all."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        api_message: str = "",
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.api_message = api_message
        where = f"{method} {path}".strip()
        parts = [message]
        if where:
            parts.append(f"({where}")
            parts[-1] += f" -> {status})" if status is not None else ")"
        if api_message:
            parts.append(f"API says: {api_message}")
        super().__init__(" ".join(parts))


_CREDENTIAL_WORDS = ("token", "credential", "scope", "auth", "permission", "api account")


class AuthError(ApiError):
    """The API refused our credentials."""

    @property
    def about_credentials(self) -> bool:
        """True when no later request can succeed: a 401, or a 403 about the token.

        A 403 is documented for missing OAuth scopes, a changed store owner, a platform limit or
        a wrong route (docs:status), and for a feature that is off ("Multi storefront is not
        enabled"). It is taken to be about the token unless the API's message names another
        cause: an empty or generic message, or one naming the token, credentials, scopes,
        authentication or permissions, is.
        """
        if self.status == 401:
            return True
        message = self.api_message.strip().lower()
        if message in ("", "forbidden", "403 forbidden"):
            return True
        return any(word in message for word in _CREDENTIAL_WORDS)


class NotFoundError(ApiError):
    """The API answered 404."""


class RateLimitedError(ApiError):
    """429 kept coming after the retry budget ran out."""


class TransportError(ApiError):
    """No HTTP answer: connection refused or dropped, or a timeout."""


class StoreChangedError(ApiError):
    """A paged listing kept changing under the reader (total, repeats, vanished objects)."""


class UncertainWriteError(ApiError):
    """A non-idempotent write may or may not have happened."""
