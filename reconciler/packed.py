"""Integers kept compactly: sets of ids and rows of user facts in arrays, and their text form.

A snapshot of 50,000 companies holds every B2B order id (500,000) and every user's company and
modification time (100,000 users). As Python ints in a frozenset or a dict of tuples those take
about 30 and 20 MB, and reading them from JSON lists builds an int object per number first.
Here they are machine integers in ``array('q')`` (8 bytes each):

- ``IdSet``: a set of ints, sorted, membership by bisection;
- ``UserRows``: customerId -> (companyId or None, updatedAt), keyed by a sorted id array;
- ``ids_or_none`` / ``rows_or_none``: either, or None when a value does not fit in 8 bytes
  (no real id or time; an answer that has one is kept out of the snapshot);
- ``pack`` / ``unpack``: a column of ints as text: the differences between successive values
  as little-endian 8-byte integers, zlib-compressed, in base64 (sorted ids and close
  timestamps shrink to a few bytes each), so a JSON file carries the column as one string and
  reading it makes no int object per number.
"""

from __future__ import annotations

import base64
import binascii
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from itertools import accumulate, islice, pairwise
from operator import sub
from typing import Any

_BIG_ENDIAN = sys.byteorder == "big"
_LEVEL = 4
"""zlib's level for a packed column: at a 10k store's snapshot a sixth of level 6's time for
0.3 % more bytes (level 3 and below leave runs of equal differences, sorted ids, 4x longer).
Any level reads back the same: a column written at another one is read as it always was."""


def _ints(values: Iterable[int]) -> array[int]:
    """``array('q')`` of the values (OverflowError beyond 8 bytes, TypeError for a non-int)."""
    return values if isinstance(values, array) and values.typecode == "q" else array("q", values)


def pack(values: Iterable[int]) -> str:
    """A column of ints as text (see the module doc); OverflowError when a value or the
    difference of two successive values does not fit in 8 signed bytes."""
    ints = _ints(values)
    deltas = array("q", [ints[0]]) if ints else array("q")
    if len(ints) > 1:
        # differences computed from machine ints one at a time (no list of them all), in C
        deltas.extend(map(sub, islice(ints, 1, None), ints))
    if _BIG_ENDIAN:  # pragma: no cover - the file is little-endian everywhere
        deltas.byteswap()
    return base64.b64encode(zlib.compress(deltas.tobytes(), _LEVEL)).decode("ascii")


def unpack(text: Any, what: str, count: int | None = None) -> array[int]:
    """The column ``pack`` made (with exactly ``count`` values, when given); ValueError naming
    ``what`` when it is not one."""
    if type(text) is not str:
        raise ValueError(f"{what}: expected a packed column (a string)")
    try:
        raw = zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True))
    except (binascii.Error, zlib.error, UnicodeEncodeError):
        raise ValueError(f"{what}: not a packed column") from None
    if len(raw) % 8 or (count is not None and len(raw) != 8 * count):
        expected = "a whole number of" if count is None else str(count)
        raise ValueError(f"{what}: {len(raw) / 8:g} values where {expected} were expected")
    deltas = array("q")
    deltas.frombytes(raw)
    del raw
    if _BIG_ENDIAN:  # pragma: no cover
        deltas.byteswap()
    try:
        return array("q", accumulate(deltas))
    except OverflowError:
        raise ValueError(f"{what}: a value out of range") from None


_BLOCK = 256
"""Values ``IdSet.lacking`` compares at a time."""


class IdSet(AbstractSet[int]):
    """A set of ints held as one sorted ``array('q')`` (8 bytes an id, against about 60 in a
    frozenset): membership by bisection, iteration in ascending order."""

    __slots__ = ("_ids",)

    def __init__(self, ids: Iterable[int] = ()) -> None:
        if isinstance(ids, IdSet):
            self._ids: array[int] = ids._ids
            return
        self._ids = array("q", sorted(ids if isinstance(ids, set | frozenset) else set(ids)))

    @classmethod
    def of_sorted(cls, ids: array[int], what: str) -> IdSet:
        """An IdSet of ``ids``, already strictly ascending (ValueError naming ``what`` if not;
        the array is kept, not copied)."""
        if any(a >= b for a, b in pairwise(ids)):
            raise ValueError(f"{what}: ids not in strictly ascending order")
        return cls._wrap(ids)

    @classmethod
    def _wrap(cls, ids: array[int]) -> IdSet:
        out = cls.__new__(cls)
        out._ids = ids
        return out

    def __contains__(self, value: object) -> bool:
        if type(value) is not int:
            return False
        ids = self._ids
        i = bisect_left(ids, value)
        return i < len(ids) and ids[i] == value

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        return f"IdSet({len(self._ids)} ids)"

    def with_ids(self, more: Iterable[int]) -> IdSet:
        """This set and ``more``, as a new IdSet (this one unchanged)."""
        extra = sorted({i for i in more if i not in self})
        ids = self._ids
        if not extra:
            return self
        merged = array("q")
        start = 0
        for value in extra:
            at = bisect_left(ids, value, start)
            merged.extend(ids[start:at])
            merged.append(value)
            start = at
        merged.extend(ids[start:])
        return IdSet._wrap(merged)

    def lacking(self, ids: Iterable[int]) -> list[int]:
        """The values of ``ids`` this set lacks, in their order. Ascending ``ids`` that mostly
        agree with this set (the core order ids against the B2B ones) are compared a block
        at a time; a value out of order is looked up on its own."""
        mine = self._ids
        theirs = ids._ids if isinstance(ids, IdSet) else _ints(ids)
        out: list[int] = []
        i = j = 0
        last: int | None = None
        block = _BLOCK
        while i < len(theirs):
            if theirs[i : i + block] == mine[j : j + block] and i + block <= len(theirs):
                last = theirs[i + block - 1]
                i, j = i + block, j + block
                continue
            for value in theirs[i : i + block]:  # one block value by value
                if last is not None and value <= last:
                    if value not in self:
                        out.append(value)
                    continue
                j = bisect_left(mine, value, j)
                if j < len(mine) and mine[j] == value:
                    j += 1
                else:
                    out.append(value)
                last = value
            i += block
        return out

    def packed(self) -> str:
        """The ids as a packed column (``pack``)."""
        return pack(self._ids)


UserRow = tuple[int | None, int]
"""(companyId, updatedAt) of a company user."""


class UserRows(Mapping[int, UserRow]):
    """customerId -> (companyId or None, updatedAt) of every company user, in three arrays
    (24 bytes a user, against about 200 in a dict of tuples of ints), keyed by the sorted
    customer ids; the few users of no company are a set of their customer ids."""

    __slots__ = ("_companies", "_keys", "_no_company", "_updated")

    def __init__(self, rows: Mapping[int, UserRow] | None = None) -> None:
        keys = sorted(rows or ())
        got = rows or {}
        self._keys: array[int] = array("q", keys)
        self._companies: array[int] = array("q", (got[k][0] or 0 for k in keys))
        self._updated: array[int] = array("q", (got[k][1] for k in keys))
        self._no_company: frozenset[int] = frozenset(k for k in keys if got[k][0] is None)

    @classmethod
    def of_rows(cls, rows: Sequence[tuple[int, int | None, int]]) -> UserRows:
        """Rows from ``(customerId, companyId, updatedAt)`` triples (a listing's), with no dict
        of them all in between; a customer listed twice keeps its last row."""
        ordered = sorted(range(len(rows)), key=lambda i: rows[i][0])
        keys = array("q", (rows[i][0] for i in ordered))
        if any(a >= b for a, b in pairwise(keys)):
            return cls({r[0]: (r[1], r[2]) for r in rows})
        out = cls.__new__(cls)
        out._keys = keys
        out._companies = array("q", (rows[i][1] or 0 for i in ordered))
        out._updated = array("q", (rows[i][2] for i in ordered))
        out._no_company = frozenset(r[0] for r in rows if r[1] is None)
        return out

    @classmethod
    def of(cls, rows: Mapping[int, UserRow]) -> UserRows:
        """The rows of a mapping (a UserRows is returned as it is)."""
        return rows if isinstance(rows, UserRows) else cls(rows)

    @classmethod
    def from_columns(
        cls, keys: array[int], companies: array[int], updated: array[int], null_at: Iterable[int]
    ) -> UserRows:
        """Rows from their columns (``columns``); ValueError when the keys are not strictly
        ascending, the columns differ in length or an index of no company is out of range."""
        if not len(keys) == len(companies) == len(updated):
            raise ValueError("user rows: columns of different lengths")
        if any(a >= b for a, b in pairwise(keys)):
            raise ValueError("user rows: customer ids not in strictly ascending order")
        nulls = list(null_at)
        if any(not 0 <= i < len(keys) for i in nulls):
            raise ValueError("user rows: an index of no company out of range")
        out = cls.__new__(cls)
        out._keys, out._companies, out._updated = keys, companies, updated
        out._no_company = frozenset(keys[i] for i in nulls)
        return out

    def columns(self) -> tuple[array[int], array[int], array[int], list[int]]:
        """customer ids (ascending), companies (0 where none), updatedAt, and the indexes of
        the users of no company (ascending)."""
        nulls = sorted(self._index(c) for c in self._no_company)
        return self._keys, self._companies, self._updated, nulls

    def _index(self, key: object) -> int:
        if type(key) is not int:
            return -1
        keys = self._keys
        i = bisect_left(keys, key)
        return i if i < len(keys) and keys[i] == key else -1

    def __getitem__(self, key: int) -> UserRow:
        i = self._index(key)
        if i < 0:
            raise KeyError(key)
        return (None if key in self._no_company else self._companies[i], self._updated[i])

    def __contains__(self, key: object) -> bool:
        return self._index(key) >= 0

    def __iter__(self) -> Iterator[int]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"UserRows({len(self._keys)} users)"

    def updated(self, changes: Mapping[int, UserRow]) -> UserRows:
        """These rows with ``changes`` applied (new customers added), as new rows."""
        if any(c not in self for c in changes):
            merged = dict(self.items())
            merged.update(changes)
            return UserRows(merged)
        companies, updated = array("q", self._companies), array("q", self._updated)
        none = set(self._no_company)
        for customer, (company, at) in changes.items():
            i = self._index(customer)
            companies[i], updated[i] = company or 0, at
            if company is None:
                none.add(customer)
            else:
                none.discard(customer)
        out = UserRows.__new__(UserRows)
        out._keys, out._companies, out._updated = self._keys, companies, updated
        out._no_company = frozenset(none)
        return out


def ids_or_none(ids: Iterable[int]) -> IdSet | None:
    """An IdSet of ``ids``; None when one does not fit in 8 bytes (then the snapshot does not
    hold them, and the next read lists them again)."""
    try:
        return IdSet(ids)
    except OverflowError:
        return None


def rows_or_none(rows: Mapping[int, UserRow]) -> UserRows | None:
    """UserRows of ``rows``; None when a value does not fit in 8 bytes (as ``ids_or_none``)."""
    try:
        return UserRows(rows)
    except OverflowError:
        return None


def listed_rows_or_none(rows: Sequence[tuple[int, int | None, int]]) -> UserRows | None:
    """``UserRows.of_rows``; None when a value does not fit in 8 bytes (as ``ids_or_none``)."""
    try:
        return UserRows.of_rows(rows)
    except OverflowError:
        return None
