"""The texts of loaded manifest files, kept compressed many to a block, for the locations that
are found only when asked for (`yamlload._Source`).

Compressing each file alone cost more than reading it: zlib sets up a stream per call (about
8 µs for a manifest of a few hundred bytes, 0.09 CPU-s over the 11,531 files of the 10k
benchmark), and saved little (450 bytes packed to 275). So the texts are put on a `Shelf`, and
each block of about 64 KB is compressed as one stream once full: a fraction of the CPU, and
manifests side by side compress to a fraction of the size. The newest block stays as it is until
it fills. A text comes back by decompressing its block (about 0.1 ms); the last block
decompressed is kept for the next text (they are usually asked for in the order loaded).
"""

from __future__ import annotations

import threading
import zlib
from array import array
from itertools import accumulate

BLOCK = 64 * 1024
"""Characters of text compressed together."""


def pack(data: bytes) -> bytes:
    """``zlib.compress(data, 1)``, with the window and hash table fitted to the data (setting up
    zlib's largest ones, about 256 KB, costs more than compressing a few KB). The same bytes come
    back from ``zlib.decompress`` (a zlib stream names its window)."""
    bits = min(15, max(9, (len(data) - 1).bit_length()))
    packer = zlib.compressobj(1, zlib.DEFLATED, bits, max(1, min(8, bits - 7)))
    return packer.compress(data) + packer.flush()


class Block:
    """Texts kept together: as they are while the block fills, compressed once it is full."""

    __slots__ = ("_ends", "_packed", "_size", "_texts")

    def __init__(self) -> None:
        self._texts: list[str] | None = []
        self._size = 0
        self._packed = b""
        self._ends = array("L")

    @property
    def sealed(self) -> bool:
        """Full, and compressed."""
        return self._texts is None

    def text(self, index: int) -> str:
        """The text kept at ``index``."""
        if self._texts is not None:
            return self._texts[index]
        whole = _unpacked(self)
        return whole[self._ends[index - 1] if index else 0 : self._ends[index]]

    def _add(self, text: str) -> int:
        assert self._texts is not None
        self._texts.append(text)
        self._size += len(text)
        return len(self._texts) - 1

    def _seal(self) -> None:
        texts = self._texts
        assert texts is not None
        self._ends = array("L", accumulate(map(len, texts)))
        self._packed = pack("".join(texts).encode("utf-8"))
        self._texts = None


_recent: tuple[Block | None, str] = (None, "")
"""The last block decompressed, and its text."""


def _unpacked(block: Block) -> str:
    global _recent
    last, whole = _recent
    if last is not block:
        whole = zlib.decompress(block._packed).decode("utf-8")
        _recent = (block, whole)
    return whole


class Shelf:
    """Where texts are kept: the block filling now, sealed when it holds ``block`` characters."""

    def __init__(self, block: int = BLOCK) -> None:
        self._block_size = block
        self._open = Block()
        self._lock = threading.Lock()

    def keep(self, text: str) -> tuple[Block, int]:
        """Keep a text: the block that holds it, and its index there (`Block.text`)."""
        with self._lock:
            block = self._open
            index = block._add(text)
            if block._size >= self._block_size:
                block._seal()
                self._open = Block()
            return block, index
