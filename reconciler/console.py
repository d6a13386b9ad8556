"""The console: stdout and stderr for one command, with colour decided once and the access token
redacted from everything written.

Its own module so that the CLI (which makes it) and the commands (which write through it) both
import it, and not each other.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterable
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

_SYMBOL = re.compile("[" + re.escape("".join(map(chr, _ASCII))) + "]")
"""A character ``fit`` would change if the text it is in could not be encoded."""


def fit(text: str, stream: TextIO) -> str:
    """``text`` as ``stream`` can encode it: ASCII symbols, then escapes, when it cannot."""
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return text
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return _made_ascii(text, encoding)
    except LookupError:
        return text
    return text


def _made_ascii(text: str, encoding: str) -> str:
    """``text`` with ASCII symbols, then escapes for what ``encoding`` still cannot encode."""
    return text.translate(_ASCII).encode(encoding, "backslashreplace").decode(encoding)


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

    def print_chunks(self, chunks: Iterable[str]) -> None:
        """Write ``"".join(chunks)`` to stdout, exactly as ``print`` would, a chunk at a time
        (a large plan's JSON is never held whole). Each chunk but the last must end right
        before a newline of the text (``jsontext.iter_indented``'s do), so that no secret (a
        run of characters without a newline) is split between two chunks.

        ``fit`` decides for the whole text: if any part cannot be encoded, every symbol is made
        ASCII. A chunk that encodes and holds no such symbol reads the same either way and is
        written at once; from the first one that holds a symbol on, chunks are held until a
        chunk that cannot be encoded (then all are made ASCII) or the end (then none is)."""
        if any("\n" in secret for secret in self.secrets):
            self.print("".join(chunks))
            return
        encoding: str = getattr(self.out, "encoding", None) or ""
        ascii_only: bool | None = None if encoding else False  # None: not known yet
        held: list[str] = []
        last = ""
        for chunk in chunks:
            if not chunk:
                continue
            last = chunk
            chunk = self._clean(chunk)
            if ascii_only is None:
                try:
                    chunk.encode(encoding)
                except UnicodeEncodeError:
                    ascii_only = True
                except LookupError:
                    ascii_only = False
                else:  # (an ASCII chunk holds no symbol: the search is the slower test)
                    if held or (not chunk.isascii() and _SYMBOL.search(chunk)):
                        held.append(chunk)
                        continue
                    self.out.write(chunk)
                    continue
                for kept in held:
                    self.out.write(_made_ascii(kept, encoding) if ascii_only else kept)
                held.clear()
            self.out.write(_made_ascii(chunk, encoding) if ascii_only else chunk)
        for kept in held:  # nothing failed to encode: as they are
            self.out.write(kept)
        if not last.endswith("\n"):
            self.out.write("\n")
        self.out.flush()

    def note(self, text: str) -> None:
        """Write to stderr."""
        self.err.write(fit(self._clean(text) + "\n", self.err))
        self.err.flush()

    def ask(self, text: str) -> None:
        """A prompt on stderr (stdout may be holding a JSON document)."""
        self.err.write(fit(text, self.err))
        self.err.flush()
