"""The console: stdout and stderr for one command, with colour decided once and the access token
redacted from everything written.

Its own module so that the CLI (which makes it) and the commands (which write through it) both
import it, and not each other.
"""

from __future__ import annotations

import argparse
import os
from typing import TextIO

from reconciler.control import RunControl

__all__ = ["Console", "fit"]


def _env_flag(name: str) -> bool:
    """A variable that counts only when set and non-empty (no-color.org, force-color.org)."""
    return os.environ.get(name, "") != ""


_ASCII = str.maketrans(
    {
        "→": "->",
        "…": "...",
        "✓": "+",
        "✗": "x",
        "⚠": "!",
        "\ufe0f": "",
        "·": "-",
        "\u2013": "-",
        "—": "-",
        "\u00d7": "x",
        "÷": "/",
        "≤": "<=",
        "≥": ">=",
    }
)


def fit(text: str, stream: TextIO) -> str:
    """``text`` as ``stream`` can encode it: ASCII symbols, then escapes, when it cannot."""
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return text
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        text = text.translate(_ASCII)
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        return text
    return text


class Console:
    """stdout/stderr with colour decided once and the token redacted from everything."""

    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self.verbose: int = args.verbose or 0
        no_color = args.no_color or _env_flag("NO_COLOR")
        force = _env_flag("FORCE_COLOR")
        self.color = not no_color and (force or out.isatty())
        self.err_color = not no_color and (force or err.isatty())
        self.secrets: list[str] = []
        self.control = RunControl(getattr(args, "timeout", None))
        """The command's deadline (``--timeout``) and stop switch, for every API client."""

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def print(self, text: str = "") -> None:
        """Write to stdout."""
        text = self._clean(text) + ("" if text.endswith("\n") else "\n")
        self.out.write(fit(text, self.out))
        self.out.flush()

    def note(self, text: str) -> None:
        """Write to stderr."""
        self.err.write(fit(self._clean(text) + "\n", self.err))
        self.err.flush()

    def ask(self, text: str) -> None:
        """A prompt on stderr (stdout may be holding a JSON document)."""
        self.err.write(fit(text, self.err))
        self.err.flush()
