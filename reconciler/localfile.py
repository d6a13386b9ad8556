"""Read a small local input (token file, saved plan) safely: a regular file, size-capped.

A FIFO, a device or a socket given where a file is expected would block ``open`` or ``read``
forever (a FIFO with no writer) or stream without end (``/dev/zero``); a file of gigabytes would
end in ``MemoryError``. The file is opened without blocking (``O_NONBLOCK`` makes opening a FIFO
return at once and is ignored for regular files), checked on the open descriptor (no race
between the check and the read), and read up to one byte past the cap.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

KIB = 1024
MIB = 1024 * KIB


class LocalFileProblem(Exception):
    """The path is not a regular file, or it is larger than allowed; the text says which."""


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def size_text(size: int) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    if size < KIB:
        return f"{size} bytes"
    if size < MIB:
        return f"{size / KIB:.1f} KiB".replace(".0 ", " ")
    return f"{size / MIB:.1f} MiB".replace(".0 ", " ")


def read_capped(
    path: str | os.PathLike[str], limit: int, too_large: Callable[[int], str] | None = None
) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    ``OSError`` when it cannot be opened or read; ``LocalFileProblem`` when it is not a regular
    file or is larger than ``limit`` (``too_large(size)``: the text for a file that says so).
    """
    fd = os.open(path, _FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
            raise LocalFileProblem(f"is {kind}, not a regular file")
        if info.st_size > limit:
            raise LocalFileProblem(
                too_large(info.st_size)
                if too_large is not None
                else f"is too large ({size_text(info.st_size)}; the limit is {size_text(limit)})"
            )
        known = info.st_size
        chunks: list[bytes] = []
        size = 0
        if 0 < known < MIB:  # the common case, one read: the size fstat gave and a byte more
            chunk = os.read(fd, known + 1)
            if len(chunk) == known:  # short of what was asked, at that size: the end
                return chunk
            chunks.append(chunk)  # it shrank or grew: read on
            size = len(chunk)
        while size <= limit:
            want = min(limit + 1 - size, MIB)
            if size < known:
                # Up to one byte past the size fstat gave, not a MiB: allocating a MiB for a
                # file of a few hundred bytes cost more than reading it (11,531 manifests).
                want = min(want, known - size + 1)
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size == known and len(chunk) < want:
                break  # short of what was asked, at the size fstat gave: the end of the file
        if size > limit:  # it grew while we read it
            raise LocalFileProblem(f"is too large (over {size_text(limit)})")
        return b"".join(chunks)
    finally:
        os.close(fd)
