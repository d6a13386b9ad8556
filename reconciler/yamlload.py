"""Load YAML manifest files safely, keeping the line and column of every node.

PyYAML's constructors drop positions, silently keep the last of two equal mapping keys, expand
aliases without limit and turn ``2024-01-01`` into a ``date``. So this module reads the parser's
event stream (libyaml when available, the pure-Python parser otherwise, both the ``SafeLoader``
parser), composes the same ``yaml.nodes`` that ``yaml.compose_all`` would, and converts them to
plain JSON-like values itself, recording a `Location` for every value and every mapping key.
Composing from events (rather than calling ``compose_all``) is what lets a too-deep document be
refused *before* PyYAML's recursive composer would recurse into it, and lets an alias loop be
refused where it appears.

Most files hold nothing unusual, and a large repository holds tens of thousands of documents:
such a file is loaded first the quick way (`_quick_documents`: values straight from the events,
no nodes, no paths, no locations), and only a file with something unusual in it (an anchor, an
explicit tag, a problem of any kind, a non-finite number) is loaded again recording everything.
The locations and raw texts of a quickly loaded document are found when first asked for, by
loading its file's text again (`_Source`).

The rules, all reported as located problems, never as exceptions:

- A file larger than ``MAX_FILE_BYTES`` (5 MiB) is refused from its size alone, before reading;
  so is anything but a regular file (a FIFO named ``*.yaml`` would block the read forever).
- The file must be UTF-8 text (a BOM is allowed): NUL bytes mean a binary file; invalid UTF-8
  and control characters other than tab, CR and LF are refused, with their position.
- YAML syntax errors are reported at the parser's own line and column. Documents before the
  error are still checked; the rest of the file is not read.
- Empty files and empty documents (nothing, or only comments, between ``---`` markers) are
  ignored: a trailing ``---`` or a file emptied on purpose is not an error.
- Scalars follow the **YAML 1.2 core schema**: only ``true``/``false`` (any of 3 casings) are
  booleans, so ``country: NO`` stays a string; ``2024-01-01`` and ``1:20`` stay strings
  (never ``datetime``); ``0o17``/``0x1F`` are integers, ``010`` is the integer 10. Explicit tags
  other than the core ones (``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``, ``!!map``,
  ``!!seq``) are refused (``!!timestamp``, ``!!binary``, ``!!set``, ``!python/...``, ``!custom``).
- Mapping keys must be scalars and are taken as the text written (``1: x`` has the key ``"1"``).
  A key written twice in one mapping is an error at the second one; the first value is kept.
  Merge keys (``<<``) are not supported.
- Nesting deeper than ``MAX_DEPTH`` (64) collections is refused (and stops reading the file).
  Flow collections (``[[[...``) are measured by a scan of our own *before* the parser runs:
  libyaml looks ahead far enough to hit its own nesting limit (1,000, with its own message)
  before the composer sees the 65th level, and the message must be ours on every PyYAML and
  libyaml. A parser's own nesting error, should one still come first, is reported as ours too.
- Anchors and aliases are allowed, but an alias may not refer to a node that contains it, and
  nodes reached through aliases may not exceed ``MAX_ALIAS_NODES`` (10,000) per file, which
  refuses "billion laughs" documents in milliseconds.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.localfile import LocalFileProblem, read_capped
from reconciler.model import Location
from reconciler.textshelf import Shelf
from reconciler.yamlfast import BlockReader, Root

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_NODES = 10_000
MAX_INT_DIGITS = 64
SHARED_TEXT = 16
_TOO_DEEP = f"nesting deeper than {MAX_DEPTH} levels; the rest of the file was not read"

NodePath = tuple[str | int, ...]
"""A JSON-pointer-like path: mapping keys and list indexes from the document root."""

_Parser: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_YAML = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_YAML + t for t in ("str", "int", "float", "bool", "null"))
MAP, SEQ = _YAML + "map", _YAML + "seq"

_INT10 = re.compile(r"[-+]?[0-9]+")
_INT8 = re.compile(r"0o[0-7]+")
_INT16 = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUES = frozenset({"true", "True", "TRUE"})
_FALSES = frozenset({"false", "False", "FALSE"})
_FLOW_TOKEN = re.compile(r"[\[\]{}'\"#]")
_VALUE_START = re.compile(r"[ \t]*(?:[-?][ \t]+)*(?:[^'\"#\n]*?:[ \t]+)?")
"""Where a value can start on a line in block context: after indentation, block-sequence or
complex-key indicators and at most one ``key: ``."""
_INDENT = re.compile(r"[ ]*")


def _flow_too_deep(text: str) -> int | None:
    """The offset where flow collections nest deeper than ``MAX_DEPTH``, if they do.

    Linear in the text. Brackets inside quoted scalars, block scalars and comments do not
    count; in block context a bracket counts only where a value starts (a plain scalar such as
    ``x [y`` may hold one). A file with at most ``MAX_DEPTH`` brackets is not scanned at all.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    pos, size = 0, len(text)
    while pos < size:  # one line of block context per turn
        value = _VALUE_START.match(text, pos)
        at = value.end() if value else pos
        char = text[at : at + 1]
        next_line = text.find("\n", at)
        if char in ("[", "{"):
            deep, pos = _scan_flow(text, at)
            if deep is not None:
                return deep
            next_line = text.find("\n", pos)
        elif char in ("'", '"'):
            next_line = text.find("\n", _quoted_end(text, at))
        elif char in ("|", ">"):
            pos = _block_scalar_end(text, pos, at)
            continue
        pos = size if next_line < 0 else next_line + 1
    return None


def _scan_flow(text: str, start: int) -> tuple[int | None, int]:
    """Scan the flow collection opening at ``start``: (offset too deep or None, offset past it)."""
    depth, pos = 0, start
    while (match := _FLOW_TOKEN.search(text, pos)) is not None:
        i = match.start()
        char = text[i]
        pos = i + 1
        before = text[i - 1] if i else "\n"
        if char == "#":
            if before in " \t\n":
                end = text.find("\n", i)
                pos = len(text) if end < 0 else end
        elif char in "'\"":
            if before in " \t\n[{,:":
                pos = _quoted_end(text, i)
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return i, pos
        elif depth == 1:
            return None, pos
        else:
            depth -= 1
    return None, len(text)


def _block_scalar_end(text: str, line_start: int, start: int) -> int:
    """The offset of the first line after the block scalar (``|`` or ``>``) opening at ``start``.

    Its content is every following line that is blank or indented more than the line that
    opens it.
    """
    indent = _INDENT.match(text, line_start)
    own = indent.end() - line_start if indent else 0
    pos = text.find("\n", start)
    while pos >= 0:
        nxt = pos + 1
        lead = _INDENT.match(text, nxt)
        width = (lead.end() - nxt) if lead else 0
        rest = text[nxt + width : nxt + width + 1]
        if rest not in ("", "\n", "\r") and width <= own:
            return nxt
        pos = text.find("\n", nxt)
    return len(text)


def _quoted_end(text: str, start: int) -> int:
    """The offset just past the quoted scalar opening at ``start`` (the end of text if open)."""
    quote = text[start]
    i = start + 1
    while True:
        end = text.find(quote, i)
        if end < 0:
            return len(text)
        if quote == '"' and (end - i - len(text[i:end].rstrip("\\"))) % 2:
            i = end + 1  # an escaped quote
        elif quote == "'" and text.startswith("''", end):
            i = end + 2
        else:
            return end + 1


_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def dotted(path: NodePath) -> str:
    """Render a node path as ``spec.customerIds.2``."""
    return ".".join(str(part) for part in path)


def field_name(path: NodePath) -> str:
    """A node path for a message: like `dotted`, long or unprintable keys shortened and escaped."""
    parts = []
    for part in path:
        text = str(part)
        if len(text) > 60:
            text = text[:57] + "..."
        parts.append(text if text.isprintable() else repr(text))
    return ".".join(parts)


def short_tag(tag: str) -> str:
    """Render a tag the way it is usually written (``!!timestamp``)."""
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


_NOT_STR_START = frozenset("0123456789+-.~nNtTfF")
"""Every first character of a plain scalar that may resolve to anything but a string (nulls,
booleans, numbers; the empty scalar is null)."""


def resolve_plain(text: str) -> str:
    """Return the YAML 1.2 core-schema tag of a plain (unquoted) scalar."""
    if text and text[0] not in _NOT_STR_START:
        return STR  # most text: no pattern can match
    if text in _NULLS:
        return NULL
    if text in _TRUES or text in _FALSES:
        return BOOL
    if _INT10.fullmatch(text) or _INT8.fullmatch(text) or _INT16.fullmatch(text):
        return INT
    if _FLOAT.fullmatch(text) or _INF.fullmatch(text) or _NAN.fullmatch(text):
        return FLOAT
    return STR


class _Refused(Exception):
    """A node that cannot become a value; the message says why."""

    def __init__(self, loc: Location, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def _construct_scalar(tag: str, text: str, loc: Location) -> Any:
    """Turn a scalar's text into a value of its (core) tag."""
    if tag == STR:
        return text
    if tag == NULL and text in _NULLS:
        return None
    if tag == BOOL and (text in _TRUES or text in _FALSES):
        return text in _TRUES
    if tag in (INT, FLOAT):
        int_form = _INT10.fullmatch(text) or _INT8.fullmatch(text) or _INT16.fullmatch(text)
        if int_form and len(text.lstrip("+-")) > MAX_INT_DIGITS:
            raise _Refused(loc, f"number {text[:20]}... is too large")
        if _INT10.fullmatch(text):
            return int(text) if tag == INT else float(text)
        if _INT8.fullmatch(text) or _INT16.fullmatch(text):
            number = int(text[2:], 8 if text[1] == "o" else 16)
            return number if tag == INT else float(number)
        if tag == FLOAT:
            if _FLOAT.fullmatch(text):
                return float(text)
            if _INF.fullmatch(text):
                return -math.inf if text.startswith("-") else math.inf
            if _NAN.fullmatch(text):
                return math.nan
    raise _Refused(loc, f"{text!r} is not a valid {short_tag(tag)}")


LocationTables = tuple[dict[NodePath, Location], dict[NodePath, Location]]
"""Where each value of a document starts, and where the key of each mapping entry starts."""

_Recorded = tuple[dict[NodePath, Location], dict[NodePath, Location], dict[NodePath, str]]
"""What loading with ``record`` finds for one document: `LocationTables` and `Document.raw`."""


class TableSource(Protocol):
    """Where the location tables of a file's documents are found (`Document.location_source`)."""

    def tables(self, index: int) -> LocationTables:
        """(`Document.locs`, `Document.key_locs`) of document ``index``."""
        ...


class _Held:
    """The tables of a document that recorded them while loading."""

    __slots__ = ("found",)

    def __init__(self, found: LocationTables) -> None:
        self.found = found

    def tables(self, index: int) -> LocationTables:
        return self.found


class _Source:
    """The text of one file whose documents loaded without a problem and without anchors: their
    locations are found when first asked for, by loading the text again (recording them this
    time), and kept. Most documents never need theirs, and holding a `Location` for every value
    and key of every manifest was most of the memory of a large repository. The text is kept
    compressed with other files' texts (`reconciler.textshelf`): a plan holds it for as long as
    it runs."""

    __slots__ = ("_block", "_found", "_index", "path")

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self._block, self._index = _SHELF.keep(text)
        self._found: dict[int, _Recorded] | None = None

    @property
    def text(self) -> str:
        """The file's text (as loaded: checked, BOM removed)."""
        return self._block.text(self._index)

    def recorded(self, index: int) -> _Recorded:
        """The locations and raw texts of document ``index``, found on first use."""
        if self._found is None:
            again = _load_text(self.text, self.path, record=True)
            assert again is not None
            self._found = {d.index: (d.locs, d.key_locs, d.raw) for d in again.documents}
        return self._found[index]

    def tables(self, index: int) -> LocationTables:
        locs, key_locs, _raw = self.recorded(index)
        return locs, key_locs


_SHELF = Shelf()
"""Where the texts of the files loaded the quick ways are kept."""


_NO_PROBLEMS: tuple[tuple[Location, str], ...] = ()
_NO_PATHS: frozenset[NodePath] = frozenset()


@dataclass(slots=True, eq=False)
class Document:
    """One YAML document of a file, converted to plain values, with locations.

    Slotted, and a document that loaded without a problem (the common case) shares empty
    `problems`, `broken` and `incomplete` and finds its locations and `raw` only when asked
    (`lazy`): a large repository holds tens of thousands of these at once."""

    path: str
    index: int
    value: Any
    start: Location
    _locs: dict[NodePath, Location] | None = None
    _key_locs: dict[NodePath, Location] | None = None
    _source: _Source | None = None
    _raw: dict[NodePath, str] | None = None
    problems: Sequence[tuple[Location, str]] = _NO_PROBLEMS
    """Problems found while loading (duplicate keys, refused tags), messages naming the field."""
    broken: AbstractSet[NodePath] = _NO_PATHS
    """Paths whose value could not be loaded (held as ``None``): checks below them are noise."""
    incomplete: AbstractSet[NodePath] = _NO_PATHS
    """Mappings that lost an entry (a merge key, a list as key): a missing field there is noise."""

    @property
    def lazy(self) -> bool:
        """Loaded without recording (no problem, no anchor, every number finite): locations and
        `raw` are found when first asked for."""
        return self._source is not None

    @property
    def raw(self) -> dict[NodePath, str]:
        """The text of plain scalars that became a non-string (``NO``, ``01234``), for hints."""
        if self._raw is None:
            assert self._source is not None
            self._raw = self._source.recorded(self.index)[2]
        return self._raw

    def tables(self) -> LocationTables:
        """(`locs`, `key_locs`), found now if they were not recorded while loading."""
        if self._locs is None or self._key_locs is None:
            assert self._source is not None
            self._locs, self._key_locs = self._source.tables(self.index)
        return self._locs, self._key_locs

    def location_source(self) -> tuple[TableSource, int]:
        """Where `tables` are found, and this document's index there: what a spec keeps to find
        its locations later without keeping the document (its values) alive."""
        if self._source is not None:
            return self._source, self.index
        return _Held(self.tables()), self.index

    @property
    def locs(self) -> dict[NodePath, Location]:
        """Where each value starts."""
        return self.tables()[0]

    @property
    def key_locs(self) -> dict[NodePath, Location]:
        """Where the key of each mapping entry starts (keyed by the entry's path)."""
        return self.tables()[1]

    def loc(self, path: NodePath) -> Location:
        """Where a value starts, or its nearest ancestor, or the document."""
        for end in range(len(path), -1, -1):
            found = self.locs.get(path[:end])
            if found is not None:
                return found
        return self.start

    def key_loc(self, path: NodePath) -> Location:
        """Where the key naming a value starts (the value itself for list items and the root)."""
        return self.key_locs.get(path) or self.loc(path)

    def is_broken(self, path: NodePath) -> bool:
        """True when the value at path, or above it, could not be loaded."""
        broken = self.broken
        return bool(broken) and any(path[:end] in broken for end in range(len(path) + 1))


@dataclass
class LoadedFile:
    """The documents of one file, and the problems that stopped (part of) it from loading."""

    path: str
    documents: list[Document] = field(default_factory=list)
    problems: list[tuple[Location, str]] = field(default_factory=list)


def _offset_loc(path: str, text: str | bytes, offset: int) -> Location:
    """Line and column (1-based) of a character offset."""
    newline: Any = b"\n" if isinstance(text, bytes) else "\n"
    line = text.count(newline, 0, offset) + 1
    col = offset - (text.rfind(newline, 0, offset) + 1) + 1
    return Location(path, line, col)


def load_path(file: str | Path, display: str) -> LoadedFile:
    """Read and load one file, naming it ``display`` in every location. Only a regular file is
    read: a FIFO (which would block the read forever), a device or a socket is refused, checked
    on the open descriptor as for the token and plan files (`reconciler.localfile`)."""
    try:  # one stat, on the open descriptor (the size and the kind of file: read_capped)
        data = read_capped(file, MAX_FILE_BYTES, _too_large)
    except LocalFileProblem as exc:
        return _refuse(display, f"file {exc}")
    except OSError as exc:
        return _refuse(display, f"cannot read file: {exc.strerror or exc}")
    return load_bytes(data, display)


def _too_large(size: int) -> str:
    return f"is too large ({size:,} bytes; the limit is 5 MiB)"


def _refuse(display: str, message: str, loc: Location | None = None) -> LoadedFile:
    return LoadedFile(display, problems=[(loc or Location(display, 1, 1), message)])


def load_bytes(data: bytes, path: str) -> LoadedFile:
    """Load YAML from bytes, which must be UTF-8 text."""
    if len(data) > MAX_FILE_BYTES:
        return _refuse(path, f"file is too large ({len(data):,} bytes; the limit is 5 MiB)")
    nul = data.find(b"\0")
    if nul >= 0:
        return _refuse(
            path, "binary file (contains NUL bytes), not YAML", _offset_loc(path, data, nul)
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        message = f"not UTF-8 text (invalid byte 0x{bad:02x}); save the file as UTF-8"
        return _refuse(path, message, _offset_loc(path, data, exc.start))
    return load_text(text.removeprefix("\ufeff"), path)


def load_text(text: str, path: str) -> LoadedFile:
    """Load every document of a YAML text."""
    out = LoadedFile(path)
    bad = _BAD_CHARS.search(text)
    if bad is not None:
        char = bad.group()
        out.problems.append(
            (
                _offset_loc(path, text, bad.start()),
                f"unacceptable character U+{ord(char):04X} (control characters are not allowed)",
            )
        )
        return out
    quick = _load_text(text, path, record=False)
    if quick is not None:
        return quick
    loaded = _load_text(text, path, record=True)
    assert loaded is not None
    return loaded


_UNRECORDED = Location("<not recorded>", 1, 1)


class _Relocate(Exception):
    """Loading without recording locations met something that needs them (a problem, an
    anchor): the file is loaded again, recording them."""


def _load_text(text: str, path: str, *, record: bool) -> LoadedFile | None:
    """Load the documents of a text (checked for bad characters). Without ``record``, locations
    are found later (`_Source`) and ``None`` means: load again with ``record``."""
    deep = _flow_too_deep(text)
    if not record:
        if deep is not None:
            return None
        try:
            roots = _BLOCKS.roots(text)
            if roots is not None:
                return LoadedFile(path, _line_documents(roots, text, path))
            return LoadedFile(path, _quick_documents(text, path))
        except (_Relocate, _Refused, yaml.YAMLError):
            return None
    out = LoadedFile(path)
    if deep is not None:
        # Parse only up to the bracket that goes too deep: the composer then refuses at the
        # first level past the limit (block levels count too), as it would on the whole text.
        text = text[: deep + 1]
    converter = _Converter(path)
    try:
        for index, (root, anchored) in enumerate(_compose(text, path)):
            doc = converter.document(root, index, anchored)
            if doc is not None:
                out.documents.append(doc)
    except _Refused as exc:
        out.problems.append((exc.loc, exc.message))
    except yaml.MarkedYAMLError as exc:
        mark: Any = exc.problem_mark or exc.context_mark
        at = (mark.line, mark.column) if mark is not None else (0, 0)
        message = f"YAML syntax error: {exc.problem or exc.context}"
        if "nesting" in str(exc.problem) and "depth" in str(exc.problem):
            message = _TOO_DEEP  # the parser's own limit, in our words
        elif exc.context and exc.problem:
            message += f" ({exc.context}"
            context = exc.context_mark
            if context is not None and (context.line, context.column) != at:
                message += f" started at line {context.line + 1}, column {context.column + 1}"
            message += ")"
        loc = Location(path, at[0] + 1, at[1] + 1)
        if deep is not None:  # the cut text ended before the composer refused: say why
            loc, message = _offset_loc(path, text, deep), _TOO_DEEP
        out.problems.append((loc, message))
    except yaml.reader.ReaderError as exc:  # pragma: no cover - _BAD_CHARS catches these first
        out.problems.append((_offset_loc(path, text, exc.position), f"YAML syntax error: {exc}"))
    except yaml.YAMLError as exc:  # pragma: no cover - every parser error is one of the above
        out.problems.append((Location(path, 1, 1), f"YAML syntax error: {exc}"))
    return out


def _plain_scalar(text: str) -> Any:
    """The value of a plain scalar without a tag, as the quick load and the line reader take it:
    raises `_Relocate` for a non-finite number and `_Refused` for one too large (the recording
    load reports those)."""
    if text and text[0] not in _NOT_STR_START:
        return text  # most text (`resolve_plain`'s own first test)
    if text.isdigit() and text.isascii() and len(text) <= MAX_INT_DIGITS:
        return int(text)  # ids: the commonest non-string
    tag = resolve_plain(text)
    if tag == STR:
        return text
    value = _construct_scalar(tag, text, _UNRECORDED)
    if tag == FLOAT and not math.isfinite(value):
        raise _Relocate
    return value


_BLOCKS = BlockReader(_plain_scalar, MAX_DEPTH, SHARED_TEXT)
"""The fastest tier: plain block YAML read line by line (`reconciler.yamlfast`)."""

_IN_LIST: Any = object()
"""The pending key of an open list (an open mapping's is ``None`` or the key awaiting its
value)."""


def _line_documents(roots: list[Root], text: str, path: str) -> list[Document]:
    """The documents `BlockReader.roots` read (the fastest way: no parser at all)."""
    source = _Source(path, text)
    return [
        Document(path, index, value, Location(path, line, col), _source=source)
        for index, value, line, col in roots
    ]


def _quick_documents(text: str, path: str) -> list[Document]:
    """The documents of a text, built straight from the parser's events without nodes, paths or
    locations: the fast way for the common file (no anchor, no explicit tag, nothing refused).

    It gives exactly the values `_Converter` gives, or raises `_Relocate` (or the parser's own
    error) at anything it leaves to the recording load: an anchor or alias, an explicit tag
    other than ``!``, a key that is not a scalar, a merge key, a duplicate key, a scalar that
    cannot be read, a non-finite number, nesting deeper than ``MAX_DEPTH``.
    """
    source = _Source(path, text)
    documents: list[Document] = []
    texts: dict[str, str] = {}
    intern = sys.intern
    scalar_event, mapping_start = yaml.ScalarEvent, yaml.MappingStartEvent
    sequence_start, document_end = yaml.SequenceStartEvent, yaml.DocumentEndEvent
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    stack: list[Any] = []  # the open mappings and lists
    keys: list[Any] = []  # for each: the key awaiting its value, None, or _IN_LIST
    root: Any = None
    start: Any = None  # the root's start mark; None: the document is empty so far
    index = 0
    loader = _Parser(text)
    get_event = loader.get_event
    try:
        while (event := get_event()) is not None:
            kind = type(event)
            if kind is scalar_event:
                if event.anchor is not None:
                    raise _Relocate
                key = keys[-1] if stack else _IN_LIST
                value = event.value
                if key is None:  # a mapping key: its text, whatever it resolves to
                    if event.tag is not None and event.tag != "!":
                        raise _Relocate
                    key = intern(value)
                    if (key == "<<" and not event.style) or key in stack[-1]:
                        raise _Relocate
                    keys[-1] = key
                    continue
                tag = event.tag
                if tag is None and not event.style and event.implicit[0]:
                    value = _plain_scalar(value)
                    if value is None:
                        tag = NULL
                elif tag is not None and tag != "!":
                    raise _Relocate
                if type(value) is str and len(value) <= SHARED_TEXT:
                    value = texts.setdefault(value, value)
                if not stack:
                    if tag != NULL:  # a document that is only null is empty
                        root, start = value, event.start_mark
                elif key is _IN_LIST:
                    stack[-1].append(value)
                else:
                    stack[-1][key] = value
                    keys[-1] = None
            elif kind is mapping_start or kind is sequence_start:
                if event.anchor is not None or event.tag not in (None, "!"):
                    raise _Relocate
                if len(stack) >= MAX_DEPTH:
                    raise _Relocate
                new: Any = {} if kind is mapping_start else []
                if not stack:
                    root, start = new, event.start_mark
                else:
                    key = keys[-1]
                    if key is None:  # a mapping or list as a key
                        raise _Relocate
                    if key is _IN_LIST:
                        stack[-1].append(new)
                    else:
                        stack[-1][key] = new
                        keys[-1] = None
                stack.append(new)
                keys.append(None if kind is mapping_start else _IN_LIST)
            elif kind in ends:
                stack.pop()
                keys.pop()
            elif kind is document_end:
                if start is not None:
                    at = Location(path, start.line + 1, start.column + 1)
                    documents.append(Document(path, index, root, at, _source=source))
                index += 1
                root = start = None
            elif kind is yaml.AliasEvent:
                raise _Relocate
    finally:
        loader.dispose()
    return documents


def _mark(path: str, mark: Any) -> Location:
    return Location(path, mark.line + 1, mark.column + 1)


def _compose(text: str, path: str) -> Iterator[tuple[Node | None, set[int]]]:
    """Yield the root node (``None``: empty) of each document, composed from parser events, with
    the ids of its anchored nodes (the only ones an alias can reach again).

    This is ``yaml.composer.Composer`` made iterative, with a depth limit, alias-loop detection
    and YAML 1.2 core-schema tag resolution. Events are told apart by their exact class, the
    commonest first: this loop runs once per event of every manifest.
    """
    stack: list[Node] = []
    in_seq: list[bool] = []
    pending_key: list[Node | None] = []
    anchors: dict[str, Node] = {}
    anchored: set[int] = set()
    root: Node | None = None

    def add(node: Node) -> None:
        nonlocal root
        if not stack:
            root = node
        elif in_seq[-1]:
            stack[-1].value.append(node)
        elif pending_key[-1] is None:
            pending_key[-1] = node
        else:
            stack[-1].value.append((pending_key[-1], node))
            pending_key[-1] = None

    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    document_start, document_end = yaml.DocumentStartEvent, yaml.DocumentEndEvent
    events: Iterator[Any] = yaml.parse(text, Loader=_Parser)  # told apart by type(), not narrowed
    for event in events:
        kind = type(event)
        if kind is scalar_event:
            tag = event.tag
            style = event.style
            if tag is None or tag == "!":
                plain = not style and event.implicit[0] and tag is None
                tag = resolve_plain(event.value) if plain else STR
            node: Node = ScalarNode(
                tag, event.value, event.start_mark, event.end_mark, style=style or None
            )
            if event.anchor is not None:
                anchors[event.anchor] = node
                anchored.add(id(node))
            if stack and not in_seq[-1]:  # inlined add(): a mapping's key or value
                key = pending_key[-1]
                if key is None:
                    pending_key[-1] = node
                else:
                    stack[-1].value.append((key, node))
                    pending_key[-1] = None
            else:
                add(node)
        elif kind is mapping_start or kind is sequence_start:
            if len(stack) >= MAX_DEPTH:
                raise _Refused(
                    _mark(path, event.start_mark),
                    _TOO_DEEP,
                )
            is_seq = kind is sequence_start
            default = SEQ if is_seq else MAP
            tag = default if event.tag in (None, "!") else event.tag
            cls = SequenceNode if is_seq else MappingNode
            node = cls(tag, [], event.start_mark, event.end_mark, flow_style=event.flow_style)
            if event.anchor is not None:
                anchors[event.anchor] = node
                anchored.add(id(node))
            add(node)
            stack.append(node)
            in_seq.append(is_seq)
            pending_key.append(None)
        elif kind is mapping_end or kind is sequence_end:
            stack.pop().end_mark = event.end_mark
            in_seq.pop()
            pending_key.pop()
        elif kind is alias_event:
            target = anchors.get(event.anchor or "")
            if target is None:
                raise _Refused(_mark(path, event.start_mark), f"undefined alias '*{event.anchor}'")
            if any(target is open_node for open_node in stack):
                raise _Refused(
                    _mark(path, event.start_mark),
                    f"alias '*{event.anchor}' refers to a node that contains it",
                )
            add(target)
        elif kind is document_start:
            anchors, root, stack, in_seq, pending_key = {}, None, [], [], []
            anchored = set()
        elif kind is document_end:
            yield root, anchored


def _nearest_key(doc: Document, path: NodePath) -> Location:
    """The key naming a value or its nearest ancestor: where an alias's use is best shown."""
    for end in range(len(path), 0, -1):
        found = doc.key_locs.get(path[:end])
        if found is not None:
            return found
    return doc.start


def _prefix(path: NodePath) -> str:
    """``spec.x: `` before a message about the value at path (nothing at the root)."""
    where = field_name(path)
    return f"{where}: " if where else ""


class _Converter:
    """Turn composed nodes into plain values, recording locations, problems and raw texts."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.alias_nodes = 0
        self.seen: set[int] = set()
        self.anchored: set[int] = set()
        self.locs: dict[NodePath, Location] = {}
        self.key_locs: dict[NodePath, Location] = {}
        self.raw: dict[NodePath, str] = {}
        self.problems: list[tuple[Location, str]] = []
        self.broken: set[NodePath] = set()
        self.incomplete: set[NodePath] = set()
        self.texts: dict[str, str] = {}

    def document(self, root: Node | None, index: int, anchored: set[int]) -> Document | None:
        if root is None or (isinstance(root, ScalarNode) and root.tag == NULL):
            return None  # an empty document
        self.seen = set()  # node ids are only meaningful within one document
        self.anchored = anchored
        self.locs, self.key_locs, self.raw = {}, {}, {}
        self.problems, self.broken, self.incomplete = [], set(), set()
        doc = Document(
            self.path,
            index,
            None,
            _mark(self.path, root.start_mark),
            _locs=self.locs,
            _key_locs=self.key_locs,
            _raw=self.raw,
            problems=self.problems,
            broken=self.broken,
            incomplete=self.incomplete,
        )
        doc.value = self.value(doc, root, (), alias=None)
        return doc

    def value(self, doc: Document, node: Node, path: NodePath, alias: Location | None) -> Any:
        """Convert a node; ``alias`` is where the alias that led here is used, if one did."""
        mark = node.start_mark
        loc = self.locs[path] = Location(self.path, mark.line + 1, mark.column + 1)
        if alias is None and id(node) in self.anchored:
            # Only an anchored node can be reached twice other than below an alias already.
            if id(node) in self.seen:
                alias = _nearest_key(doc, path)
            self.seen.add(id(node))
        if alias is not None:
            self.alias_nodes += 1
            if self.alias_nodes > MAX_ALIAS_NODES:
                raise _Refused(
                    alias,
                    f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes "
                    "(an alias bomb?); the rest of the file was not read",
                )
        if len(path) > MAX_DEPTH:
            raise _Refused(
                alias or loc, f"nesting deeper than {MAX_DEPTH} levels (through aliases)"
            )
        if isinstance(node, ScalarNode):
            tag = node.tag
            if tag == STR:
                text = node.value  # the commonest case, first
                if len(text) <= SHARED_TEXT:  # "approved", "US", "1": one object per file
                    return self.texts.setdefault(text, text)
                return text
            try:
                result = _construct_scalar(tag, node.value, loc)
            except _Refused as exc:
                if node.tag in (STR, INT, FLOAT, BOOL, NULL):
                    message = exc.message
                else:
                    message = f"tag '{short_tag(node.tag)}' is not allowed (only plain YAML values)"
                self.problems.append((loc, _prefix(path) + message))
                self.broken.add(path)
                return None
            if not isinstance(result, str) and node.style is None:
                self.raw[path] = node.value
            return result
        if node.tag not in (MAP, SEQ) or (node.tag == MAP) != isinstance(node, MappingNode):
            message = f"tag '{short_tag(node.tag)}' is not allowed (only plain YAML values)"
            self.problems.append((loc, _prefix(path) + message))
            self.broken.add(path)
            return None
        if isinstance(node, SequenceNode):
            return [self.value(doc, item, (*path, i), alias) for i, item in enumerate(node.value)]
        return self.mapping(doc, node, path, alias)

    def mapping(self, doc: Document, node: Node, path: NodePath, alias: Location | None) -> Any:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            mark = key_node.start_mark
            key_loc = Location(self.path, mark.line + 1, mark.column + 1)
            if not isinstance(key_node, ScalarNode):
                kind = "a list" if isinstance(key_node, SequenceNode) else "a mapping"
                problem = f"{_prefix(path)}a key must be a plain string, not {kind}"
                self.problems.append((key_loc, problem))
                self.incomplete.add(path)
                continue
            key = sys.intern(key_node.value)  # one object per field name, not per document
            if key == "<<" and key_node.style is None:
                self.problems.append(
                    (
                        key_loc,
                        f"{_prefix(path)}merge keys ('<<') are not supported; write the fields out",
                    )
                )
                self.incomplete.add(path)
                continue
            child = (*path, key)
            if key in out:
                first = self.key_locs[child]
                where = f"line {first.line}"
                if first.line == key_loc.line:
                    where += f", column {first.col}"
                self.problems.append(
                    (key_loc, f"{field_name(child)}: duplicate key (first at {where})")
                )
                continue
            self.key_locs[child] = key_loc
            out[key] = self.value(doc, value_node, child, alias)
        return out
