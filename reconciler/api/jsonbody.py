"""The API's answers as Python values: ``json.loads``'s values, found faster.

Reading a store means decoding every page of every list (about 120 MB of JSON for 10,000
companies and 100,000 orders), and the standard library's decoder was the largest single cost
of a whole ``plan``. ``orjson`` decodes the same text three to four times faster, and gives the
same values for every body it accepts, with one exception: an integer beyond 64 bits (below
-2**63 or above 2**64-1) comes back as a float, rounded, where ``json.loads`` keeps it exact (an
id of 20 digits would silently become another id). So:

- a body with a run of 19 or more digits (the shortest integer that can fall outside orjson's
  range, or a long fraction) is decoded by ``json.loads``;
- so is every body orjson refuses: ``json.loads`` then decides, as it always did, between a
  value (``NaN`` and ``Infinity``, a UTF-8 byte order mark, UTF-16 or UTF-32 text, a lone
  ``\\ud800`` escape, a number too large for a float: all values there) and an error.

Either way the value, or the error, is exactly ``json.loads``'s. Nesting too deep for Python's
own decoder (orjson stops at 1,024 levels, ``json.loads`` at the recursion limit) is an error
too (``ValueError``), where it used to escape as a ``RecursionError``.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_DIGIT_OR_NOT = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x2E for byte in range(256))
"""``bytes.translate`` table: every digit becomes ``0``, every other byte ``.``."""
_LONG_RUN = b"0" * 19
"""19 digits in a row: the shortest integer that orjson may not keep exact."""


def loads(body: bytes) -> Any:
    """The value of a JSON body, as ``json.loads(body)`` gives it; ``ValueError`` (a
    ``json.JSONDecodeError``, a ``UnicodeDecodeError`` or nesting too deep) when it is not one."""
    if _LONG_RUN not in body.translate(_DIGIT_OR_NOT):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # the standard decoder decides: a value it reads, or its error
    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
