"""The one exception the sandbox raises at its users (the CLI turns it into a message)."""

from __future__ import annotations


class SandboxError(Exception):
    """A user error: bad seed, bad db file, bad rate-limit string, bad fault rule."""
