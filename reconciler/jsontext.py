"""``json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)``, the same text, faster
and leaner.

With ``indent`` the standard library encodes in pure Python through nested generators and
collects every small piece (a key, a ``": "``, a number) in one list before joining: a plan
with the recorded live state of 50,000 companies makes millions of pieces. Here each container
is joined as soon as its items are encoded (strings by the C ``encode_basestring``), so the
pieces alive at once are those of one container per level. The text is the same, byte for
byte (tested against ``json.dumps`` on plans and on generated values).
"""

from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any

_INFINITY = float("inf")


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
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[" + inner + ("," + inner).join([_encode(v, inner) for v in value]) + pad + "]"
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")
