"""The fastest way to load a manifest file: plain block YAML read line by line, no parser.

Most manifest files (all that ``import`` writes, most that people write) hold only ``key: value``
lines, nested block mappings, ``- `` block sequences (of scalars and of mappings), plain and
one-line quoted scalars, comments, blank lines and ``---`` document separators. `BlockReader`
reads such a text with string methods and one regular expression, and gives the root value,
document index and start of each non-empty document: exactly what `yamlload._quick_documents`
finds from libyaml's events (same values and types), several times faster. At the first thing
it does not fully understand it says "not mine" (``None``) and the parser's tiers load the file
as before: tabs, CR and the other line breaks, a BOM, flow collections, block scalars, anchors,
aliases, tags, double-quoted escapes, directives, ``...``, complex keys, merge keys, duplicate
keys, quoted keys, a plain scalar that could go on over the next line (a more indented line after
a value), ``- - x``, a scalar as a whole document, nesting deeper than ``max_depth``, and
whatever ``plain`` refuses (a number too large or not finite: the recording load reports it).

Plain scalars are resolved by ``plain`` (`yamlload`'s YAML 1.2 core-schema resolution, shared
with the parser's tiers), so the tiers can never disagree on what ``010`` or ``NO`` is.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

Root = tuple[int, Any, int, int]
"""(document index, root value, line, column) of a non-empty document; line and column 1-based."""

_NOT_OURS = re.compile("[\t\r\x85\u2028\u2029\ufeff]")
"""Characters that make whitespace or line breaks mean more than a space and ``\\n`` do."""
_KEY_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
"""First characters of a key left to the parser (indicators, quotes)."""
_VALUE_START = frozenset("?:,[]{}#&*!|>%@`")
"""First characters of a value that is no plain scalar (quotes and ``-`` are looked at apart)."""
_SIMPLE = re.compile(r"( *)([A-Za-z0-9_][A-Za-z0-9_.-]{0,998}): ([^-?:,\[\]{}#&*!|>'\"%@` ][^#:]*)")
"""The commonest line, ``key: value`` with a word for key and a plain value holding no ``#`` and
no ``:`` (so no comment, nothing that could start a mapping): read by one match."""
_SINGLE = re.compile(r"'((?:[^']|'')*)'")
_DOUBLE = re.compile(r'"([^"\\]*)"')
_MAX_KEY = 1000
"""A longer key is left to the parser (libyaml refuses a simple key over 1,024 characters)."""
_MAX_LINES = 1024
"""How many lines `BlockReader` remembers (emptied when full, between files; the frequent lines
come back at once): a few hundred KB. More only holds more names and e-mails read once, and was
slower (0.17 CPU-s at 8,192 lines against 0.15 at 1,024 over the 10k benchmark's files)."""

# What one line is (the first field of a `_Line`):
_SKIP, _MARKER, _ENTRY, _FLOW_ENTRY, _ITEM, _OPEN_ITEM, _ITEM_ENTRY = range(7)
_Line = tuple[int, int, int, str, Any]
"""(what, indent, column of the key, key, value) of one line read alone: ``key: value``
(`_ENTRY`; `_FLOW_ENTRY` if the value is a `_Flow`), ``- value`` (`_ITEM`), ``-``
(`_OPEN_ITEM`), ``- key: value`` (`_ITEM_ENTRY`), ``---`` (`_MARKER`), blank or comment
(`_SKIP`). The value of ``key:`` is `_OPEN`."""
_OPEN: Any = object()
"""The value of ``key:`` with nothing after it: null, or the collection on the next lines."""
_SKIPPED: _Line = (_SKIP, 0, 0, "", None)
_IN_LIST: Any = object()
"""The key of a pending list item (a pending mapping entry's is its key)."""
_Open = tuple[int, Any, bool, bool]
"""An open collection: (indent, the mapping or list, is a list, is a list at its key's indent)."""
_NONE: _Open = (-1, None, True, False)
"""The top of an empty stack."""


_FLOW_STOP = frozenset(":#?,[]{}")
"""Characters a plain scalar inside a flow collection may not hold here (where they end it, or
where libyaml and PyYAML's own scanner disagree)."""


class _Flow(tuple[Any, ...]):
    """A flow collection written on one line, of scalars: what a remembered line keeps (a
    container would be shared by every document with that line); `build` makes the value."""

    __slots__ = ()

    def build(self) -> Any:
        raise NotImplementedError


class _FlowList(_Flow):
    __slots__ = ()

    def build(self) -> Any:
        return list(self)


class _FlowMap(_Flow):
    """Holds (key, value) pairs."""

    __slots__ = ()

    def build(self) -> Any:
        return dict(self)


class _NotOurs(Exception):
    """Something this tier does not read: the file goes to the parser's tiers."""


class BlockReader:
    """Reads plain block-YAML texts, remembering the lines it has read (manifests repeat most of
    their lines: ``spec:``, ``  status: approved``; a line's key and value are immutable)."""

    def __init__(self, plain: Callable[[str], Any], max_depth: int, shared: int) -> None:
        """``plain`` turns a plain scalar's text into its value (it may raise to refuse it: the
        caller of `roots` catches that); equal strings of at most ``shared`` characters are one
        object, keys are interned; nesting deeper than ``max_depth`` collections is not ours."""
        self.plain = plain
        self.max_depth = max_depth
        self.shared = shared
        self.lines: dict[str, _Line] = {}
        self.texts: dict[str, str] = {}

    def roots(self, text: str) -> list[Root] | None:
        """The non-empty documents of a text, or ``None`` if it holds anything but plain block
        YAML."""
        if _NOT_OURS.search(text) is not None:
            return None
        if len(self.lines) >= _MAX_LINES:
            self.lines.clear()
            self.texts.clear()
        try:
            return self._documents(text)
        except _NotOurs:
            return None

    def _documents(self, text: str) -> list[Root]:
        """Put the lines of a text together, with a stack of the open collections."""
        roots: list[Root] = []
        index = 0
        in_doc = False  # a document is open (explicitly, or by content)
        root: Any = None
        start = (0, 0)
        stack: list[_Open] = []
        top = _NONE  # always stack[-1], or _NONE
        slot: Any = None  # the container awaiting a value on a later line (``key:`` or ``-``)
        slot_key: Any = None  # its key, or _IN_LIST
        known, read, max_depth = self.lines.get, self._read, self.max_depth
        for number, line in enumerate(text.split("\n"), 1):
            what, indent, col, key, value = known(line) or read(line)
            if what == _ENTRY and indent == top[0] and slot is None and not top[2]:
                mapping = top[1]  # the commonest line: the next entry of the same mapping
            else:
                if what <= _MARKER:
                    if what == _SKIP:
                        continue
                    if in_doc:
                        if slot is not None:
                            _fill(slot, slot_key, None)
                        if root is not None:
                            roots.append((index, root, *start))
                        index += 1
                    in_doc, root, stack, top, slot = True, None, [], _NONE, None
                    continue
                in_doc = True
                item = what >= _ITEM
                if not stack:
                    if root is not None:
                        raise _NotOurs  # less indented than the root
                    root = [] if item else {}
                    start = (number, indent + 1)
                    top = (indent, root, item, False)
                    stack.append(top)
                else:
                    if slot is not None:  # the line after ``key:`` or ``-``
                        if indent > top[0] or (indent == top[0] and item and not top[2]):
                            if len(stack) >= max_depth:
                                raise _NotOurs
                            new: Any = [] if item else {}
                            _fill(slot, slot_key, new)
                            top = (indent, new, item, indent == top[0])
                            stack.append(top)
                        else:
                            _fill(slot, slot_key, None)
                        slot = None
                    while top[0] > indent:
                        stack.pop()
                        if not stack:
                            raise _NotOurs  # less indented than the root
                        top = stack[-1]
                    if top[0] != indent:
                        raise _NotOurs  # between two levels, or a value going on
                    if top[3] and not item:  # the end of a list written at its key's indent
                        stack.pop()
                        top = stack[-1]
                if isinstance(value, _Flow):
                    if len(stack) >= max_depth - (what == _ITEM_ENTRY):
                        raise _NotOurs
                    value = value.build()
                if top[2]:
                    if what == _ITEM:
                        top[1].append(value)
                        continue
                    if what == _OPEN_ITEM:
                        slot, slot_key = top[1], _IN_LIST
                        continue
                    if what != _ITEM_ENTRY or len(stack) >= max_depth:
                        raise _NotOurs
                    mapping = {}
                    top[1].append(mapping)
                    top = (col, mapping, False, False)
                    stack.append(top)
                elif item:
                    raise _NotOurs  # an item where a key belongs
                else:
                    mapping = top[1]
            if key in mapping:
                raise _NotOurs  # a duplicate key: the recording load reports it
            if value is _OPEN:
                slot, slot_key = mapping, key
            else:
                mapping[key] = value
        if slot is not None:
            _fill(slot, slot_key, None)
        if in_doc and root is not None:
            roots.append((index, root, *start))
        return roots

    def _read(self, line: str) -> _Line:
        """What one line is (raises `_NotOurs` if it is nothing this tier reads), remembered."""
        simple = _SIMPLE.fullmatch(line)
        if simple is not None and line[-1] != " ":
            indent, key, text = simple.groups()  # a plain value: no quote, comment or ``:``
            value = self.plain(text)
            if type(value) is str and len(value) <= self.shared:
                value = self.texts.setdefault(value, value)
            found: _Line = (_ENTRY, len(indent), len(indent), sys.intern(key), value)
        else:
            body = line.lstrip(" ")
            if not body or body[0] == "#":
                return _SKIPPED  # blank or a comment
            indent_width = len(line) - len(body)
            if body[-1] == " ":
                body = body.rstrip(" ")
            if indent_width == 0 and body[:3] in ("---", "..."):
                if body != "---":
                    raise _NotOurs  # content after a marker, ``...``, or ``---x``
                found = (_MARKER, 0, 0, "", None)
            elif body[0] == "-" and (len(body) == 1 or body[1] == " "):
                rest = body[1:].lstrip(" ")
                if not rest or rest[0] == "#":
                    found = (_OPEN_ITEM, indent_width, 0, "", None)
                elif rest[0] == "-" and (len(rest) == 1 or rest[1] == " "):
                    raise _NotOurs  # ``- - x``
                elif rest[0] in "[{" or not _is_entry(rest):
                    found = (_ITEM, indent_width, 0, "", self._value(rest))
                else:
                    col = indent_width + len(body) - len(rest)
                    found = (_ITEM_ENTRY, indent_width, col, *self._entry(rest))
            else:
                key, value = self._entry(body)
                what = _FLOW_ENTRY if isinstance(value, _Flow) else _ENTRY
                found = (what, indent_width, indent_width, key, value)
        self.lines[line] = found
        return found

    def _entry(self, body: str) -> tuple[str, Any]:
        """The key and value of ``key: value`` or ``key:`` (value `_OPEN`)."""
        colon = body.find(": ")
        if colon < 0:
            if body[-1] != ":":
                raise _NotOurs  # a scalar where a key belongs
            key, value = body[:-1], ""
        else:
            key, value = body[:colon], body[colon + 2 :].lstrip(" ")
        if (
            not key
            or key[0] in _KEY_START
            or key[-1] == " "
            or " #" in key
            or len(key) > _MAX_KEY
            or key == "<<"
        ):
            raise _NotOurs
        if not value or value[0] == "#":
            return sys.intern(key), _OPEN
        return sys.intern(key), self._value(value)

    def _value(self, text: str) -> Any:
        """The value of a scalar written on one line (``text`` starts it, trailing spaces gone)."""
        first = text[0]
        if first == "[" or first == "{":
            return self._flow(text)
        if first == "'" or first == '"':
            match = (_SINGLE if first == "'" else _DOUBLE).match(text)
            if match is None:
                raise _NotOurs  # escapes, or more than one line
            after = text[match.end() :]
            if after and (after[0] != " " or after.lstrip(" ")[0] != "#"):
                raise _NotOurs
            value: Any = match.group(1)
            if first == "'" and "''" in value:
                value = value.replace("''", "'")
        else:
            if first in _VALUE_START or (first == "-" and (len(text) == 1 or text[1] == " ")):
                raise _NotOurs
            comment = text.find(" #")
            if comment >= 0:
                text = text[:comment].rstrip(" ")
            if ": " in text or text[-1] == ":":
                raise _NotOurs
            value = self.plain(text)
        if type(value) is str and len(value) <= self.shared:
            value = self.texts.setdefault(value, value)
        return value

    def _flow(self, text: str) -> _Flow:
        """A flow collection of scalars on one line, without nesting: ``[404, 405]``,
        ``{city: Tacoma, zipCode: "98402"}``. The parts between commas must each be whole: a
        quoted scalar holding a comma or a bracket, a trailing comma, nesting: not ours."""
        end = text.find("]" if text[0] == "[" else "}")
        if end < 0:
            raise _NotOurs  # more than one line (or nested)
        inner = text[1:end]
        after = text[end + 1 :]
        if after and (after[0] != " " or after.lstrip(" ")[0] != "#"):
            raise _NotOurs
        if "[" in inner or "]" in inner or "{" in inner or "}" in inner:
            raise _NotOurs
        parts = [part.strip(" ") for part in inner.split(",")]
        if parts == [""]:
            return _FlowList() if text[0] == "[" else _FlowMap()
        if text[0] == "[":
            return _FlowList(self._flow_scalar(part) for part in parts)
        pairs: dict[str, Any] = {}
        for part in parts:
            colon = part.find(": ")
            if colon < 0:
                raise _NotOurs  # a key without a value, or ``a:b``
            key = part[:colon]
            if not _plain_in_flow(key) or key == "<<" or key in pairs:
                raise _NotOurs
            pairs[sys.intern(key)] = self._flow_scalar(part[colon + 2 :].lstrip(" "))
        return _FlowMap(pairs.items())

    def _flow_scalar(self, text: str) -> Any:
        """The value of a scalar inside a flow collection (spaces around it gone)."""
        if not text:
            raise _NotOurs  # an empty entry (``[a, , b]``, a trailing comma)
        first = text[0]
        if first == "'" or first == '"':
            match = (_SINGLE if first == "'" else _DOUBLE).fullmatch(text)
            if match is None:
                raise _NotOurs
            value: Any = match.group(1)
            if first == "'" and "''" in value:
                value = value.replace("''", "'")
        elif _plain_in_flow(text):
            value = self.plain(text)
        else:
            raise _NotOurs
        if type(value) is str and len(value) <= self.shared:
            value = self.texts.setdefault(value, value)
        return value


def _plain_in_flow(text: str) -> bool:
    """A plain scalar inside a flow collection, read the same by every scanner."""
    if not text or text[-1] == " ":
        return False
    if text[0] in _KEY_START and not (text[0] == "-" and text[1:2] not in ("", " ")):
        return False
    return not any(char in _FLOW_STOP for char in text)


def _is_entry(text: str) -> bool:
    """Whether a list item's text is ``key: value`` or ``key:`` (a mapping starts there): the
    ``: `` or final ``:`` must come before any comment. A quoted scalar is no key here (a quoted
    key is left to the parser: `_value` refuses what follows the quotes)."""
    if text[0] == "'" or text[0] == '"':
        return False
    comment = text.find(" #")
    if comment >= 0:
        text = text[:comment]
    return ": " in text or text[-1] == ":"


def _fill(container: Any, key: Any, value: Any) -> None:
    if key is _IN_LIST:
        container.append(value)
    else:
        container[key] = value
