"""``json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)``, the same text, faster
and leaner.

With ``indent`` the standard library encodes in pure Python through nested generators and
collects every small piece (a key, a ``": "``, a number) in one list before joining: a plan
with the recorded live state of 50,000 companies makes millions of pieces. Here each container
is joined as soon as its items are encoded (strings by the C ``encode_basestring``), so the
pieces alive at once are those of one container per level. The text is the same, byte for
byte (tested against ``json.dumps`` on plans and on generated values).

``iter_indented`` yields the same text in chunks, for a document too large to hold twice (a
plan with the live state of 50,000 companies on its way to stdout or a file): the outer levels
and every ``Lazy`` list are written an item at a time, and a ``Lazy`` list makes its items (the
JSON of one live company, say) only as they are written, so neither the values nor the text
are ever whole in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from json.encoder import encode_basestring
from typing import Any, Generic, TypeVar

_INFINITY = float("inf")
T = TypeVar("T")

CHUNK = 1 << 16
"""About how many characters ``iter_indented`` gathers before it yields."""
_STREAMED_LEVELS = 2
"""Containers this shallow (the document, its values) are written an item at a time."""


class Lazy(Generic[T]):
    """A JSON array whose items are made from ``items`` by ``make`` only as they are encoded
    (``[make(i) for i in items]``, never built whole)."""

    __slots__ = ("items", "make")

    def __init__(self, items: Collection[T], make: Callable[[T], Any]) -> None:
        self.items = items
        self.make = make

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Any]:
        return map(self.make, self.items)


def dumps_indented(value: Any) -> str:
    """``value`` as JSON, indented by 2, non-ASCII kept, NaN and infinities refused (ValueError),
    other types refused (TypeError): the text of ``json.dumps`` with those options."""
    return _encode(value, "\n")


def _float(value: float) -> str:
    if value != value or value == _INFINITY or value == -_INFINITY:
        raise ValueError("Out of range float values are not JSON compliant: " + repr(value))
    return float.__repr__(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, float):
        return encode_basestring(_float(key))
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return '"' + int.__repr__(key) + '"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def _encode(value: Any, pad: str) -> str:
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    inner = pad + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [_key(k) + ": " + _encode(v, inner) for k, v in value.items()]
        return "{" + inner + ("," + inner).join(items) + pad + "}"
    if isinstance(value, (list, tuple, Lazy)):
        if not len(value):
            return "[]"
        return "[" + inner + ("," + inner).join([_encode(v, inner) for v in value]) + pad + "]"
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def iter_indented(value: Any, size: int | None = None) -> Iterator[str]:
    """The text of ``dumps_indented(value)`` in chunks of about ``size`` (``CHUNK``) characters.
    Each chunk but the last ends right before a newline of the text: no string of the document
    (nor any run of characters without a newline) is split between two chunks."""
    out = _Chunks(size or CHUNK)
    yield from _stream(value, "\n", out, 0)
    if out.parts:
        yield "".join(out.parts)


class _Chunks:
    """The pieces gathered since the last chunk was yielded."""

    __slots__ = ("length", "parts", "size")

    def __init__(self, size: int) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.size = size

    def add(self, piece: str) -> None:
        self.parts.append(piece)
        self.length += len(piece)

    def full(self) -> bool:
        return self.length >= self.size

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        self.length = 0
        return text


def _stream(value: Any, pad: str, out: _Chunks, level: int) -> Iterator[str]:
    """Add ``value``'s text to ``out``, yielding a chunk whenever ``out`` is full at a place
    right before a newline (where an item of a streamed container begins or it closes)."""
    streamed = isinstance(value, Lazy) or (
        level < _STREAMED_LEVELS and isinstance(value, (dict, list, tuple))
    )
    if not streamed or not len(value):
        out.add(_encode(value, pad))
        return
    inner = pad + "  "
    keyed = isinstance(value, dict)
    pairs = value.items() if keyed else ((None, item) for item in value)
    out.add("{" if keyed else "[")
    for index, (key, item) in enumerate(pairs):
        if index:
            out.add(",")
        if out.full():
            yield out.take()
        out.add(inner + _key(key) + ": " if keyed else inner)
        yield from _stream(item, inner, out, level + 1)
    if out.full():
        yield out.take()
    out.add(pad + ("}" if keyed else "]"))
