"""``json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)``, the same text, faster
and leaner.

With ``indent`` the standard library encodes in pure Python through nested generators and
collects every small piece (a key, a ``": "``, a number) in one list before joining: a plan
with the recorded live state of 50,000 companies makes millions of pieces. Here each container
is joined as soon as its items are encoded (strings by the C ``encode_basestring``), so the
pieces alive at once are those of one container per level. The text is the same, byte for
byte (tested against ``json.dumps`` on plans and on generated values).

Most containers are encoded by orjson instead (a locked dependency, about twenty times faster),
its text indented to its place with one ``bytes.replace``: only when that text is sure to be
``json.dumps``'s (``_fast``: orjson refused nothing, and the container holds only strings, ints,
bools, None, dicts, lists and tuples, no float and no subclass); anything else is encoded here
in Python as before, so the text, and the error for a value JSON cannot hold, are the same.

``iter_indented`` yields the same text in chunks, for a document too large to hold twice (a
plan with the live state of 50,000 companies on its way to stdout or a file): the outer levels
and every ``Lazy`` list are written an item at a time, and a ``Lazy`` list makes its items (the
JSON of one live company, say) only as they are written, so neither the values nor the text
are ever whole in memory. The items of a list below the streamed levels go to orjson in
batches of about what fits in the chunk being gathered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator
from itertools import islice
from json.encoder import encode_basestring
from typing import Any, Generic, TypeVar

import orjson

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


_FAST_OPTIONS = (
    orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)
"""A subclass (of str, int, dict, list), a dataclass or a date is refused, not encoded
(``json.dumps`` encodes a subclass as its base type and refuses the others)."""


def compact(value: Any) -> str:
    """``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``: orjson's text when it
    is sure to be the same (as ``_fast``), else that call's text, or error."""
    kind = type(value)
    if kind is dict or kind is list or kind is tuple:
        fast = _fast(value, 0)
        if fast is not None:
            return fast.decode()
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _fast(value: Any, indent: int = orjson.OPT_INDENT_2) -> bytes | None:
    """orjson's text of a container (``indent``: ``OPT_INDENT_2``, no pad; or 0, compact) when
    it is ``json.dumps``'s (``indent=2``, or compact separators), byte for byte; None when it
    may not be: the standard library's encoder decides.

    orjson refuses (``JSONEncodeError``) what would differ among non-str keys, ints beyond 64
    bits, strings with lone surrogates, subclasses, nesting beyond 255 levels (so a container
    that holds itself) and types it does not know. It escapes a string as ``json.dumps`` does
    with ``ensure_ascii=False`` (``\\n``, ``\\u001f``; U+007F and U+2028 as they are). What it
    encodes differently without refusing is caught by ``_plain``: floats (``1e-05`` is its
    ``0.00001``; NaN and infinities, which must be refused, are its ``null``), and the types it
    encodes that ``json.dumps`` refuses (UUIDs, enums)."""
    try:
        text = orjson.dumps(value, option=_FAST_OPTIONS | indent)
    except orjson.JSONEncodeError:
        return None
    return text if _plain(value) else None


def _plain(value: dict[Any, Any] | list[Any] | tuple[Any, ...]) -> bool:
    """Whether ``value`` holds only strings, ints, bools, None, dicts, lists and tuples (exact
    types, keys aside). Called only on what orjson encoded: a finite tree, so this ends."""
    stack: list[Any] = [value]
    pop, push = stack.pop, stack.append
    while stack:
        container = pop()
        for item in container.values() if type(container) is dict else container:
            kind = type(item)
            if kind is str or kind is int or item is None or kind is bool:
                continue
            if kind is dict or kind is list or kind is tuple:
                if item:  # (an empty one holds nothing to check)
                    push(item)
                continue
            return False
    return True


def _encode(value: Any, pad: str) -> str:
    """``value``'s text, its lines after the first indented by ``pad`` (a newline and spaces),
    or the error of ``json.dumps``. A container's is orjson's when it is sure to be the same
    (``_fast``); else it is made here, each container inside given to ``_encode`` again (one
    float in a plan leaves the rest to orjson). One call a level, as before orjson came in:
    nesting fails at the same depth."""
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
    kind = type(value)
    if (kind is dict or kind is list or kind is tuple) and value:
        fast = _fast(value)
        if fast is not None:
            return fast.replace(b"\n", pad.encode()).decode()
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

    __slots__ = ("length", "parts", "size", "total")

    def __init__(self, size: int) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.size = size
        self.total = 0
        """Characters added in all."""

    def add(self, piece: str) -> None:
        self.parts.append(piece)
        self.length += len(piece)
        self.total += len(piece)

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
    if isinstance(value, dict):
        out.add("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.add(",")
            if out.full():
                yield out.take()
            out.add(inner + _key(key) + ": ")
            yield from _stream(item, inner, out, level + 1)
        if out.full():
            yield out.take()
        out.add(pad + "}")
        return
    out.add("[")
    alone = level + 1 < _STREAMED_LEVELS  # the items are streamed too: one at a time
    first = True
    for batch in _batches(iter(value), out, 1 if alone else _BATCH):
        if not first:
            out.add(",")
        first = False
        if out.full():
            yield out.take()
        fast = None if alone else _fast(batch)
        if fast is not None:  # "[" + the items, each after a newline and pad + "  ", + "\n]"
            out.add(fast[1:-2].replace(b"\n", pad.encode()).decode())
            continue
        for index, item in enumerate(batch):  # each as it would be alone (one may be Lazy)
            if index:
                out.add(",")
                if out.full():
                    yield out.take()
            out.add(inner)
            yield from _stream(item, inner, out, level + 1)
    if out.full():
        yield out.take()
    out.add(pad + "]")


_BATCH = 256
"""Most items of a list below the streamed levels encoded at once."""


def _batches(items: Iterator[Any], out: _Chunks, most: int) -> Iterator[list[Any]]:
    """The items in lists of about as many as fit in what is left of ``out``'s chunk (judged
    by the length of the items before), one at least and at most ``most``."""
    count = 1
    while batch := list(islice(items, count)):
        before = out.total
        yield batch
        written = out.total - before
        room = out.size - out.length if out.length < out.size else out.size
        each = written // len(batch) + 1
        count = max(1, min(most, room // each))
