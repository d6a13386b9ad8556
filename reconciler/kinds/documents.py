"""A checked manifest document as the kinds see it, the issue collector, and their small helpers."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.model import Issue, Location
from reconciler.yamlload import Document, TableSource, dotted

__all__ = [
    "Checked",
    "Issues",
    "extras",
    "field_locs",
    "first_at",
    "int_or_none",
    "opt_str",
    "suggest",
    "unique_field",
]


@dataclass(slots=True)
class Checked:
    """A document that is a mapping, with what the cross-document checks need (slotted: a large
    repository holds one per document until its spec is built)."""

    doc: Document
    value: dict[str, Any]
    kind: str | None
    name: str | None

    @property
    def resource(self) -> str:
        """``kind/name`` in lower case (``company/acme``), or ``""`` without a known kind and a
        usable name. Made when asked for: most documents are never named in a message."""
        kind, name = self.kind, self.name
        return f"{kind.lower()}/{name}" if kind and name else ""

    def spec(self) -> dict[str, Any]:
        """The ``spec`` mapping (empty when it is missing or not a mapping)."""
        spec = self.value.get("spec")
        return spec if isinstance(spec, dict) else {}

    def field(self, *path: str | int) -> Any:
        """The value at ``spec.<path>``, or None."""
        node: Any = self.value.get("spec")
        if not isinstance(node, dict):
            return None if path else {}
        for part in path:
            if isinstance(node, dict) and isinstance(part, str):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return None
        return node

    def at(self, *path: str | int) -> Location:
        """Where ``spec.<path>`` is named."""
        return self.doc.key_loc(("spec", *path))


class Issues:
    """Collects issues, once each."""

    def __init__(self) -> None:
        self.items: list[Issue] = []
        self._seen: set[Issue] = set()

    def add(self, loc: Location, resource: str, message: str) -> None:
        """Add one issue (a repeat of one already added is dropped)."""
        issue = Issue(loc.path, max(loc.line, 1), max(loc.col, 1), resource, message)
        if issue not in self._seen:
            self._seen.add(issue)
            self.items.append(issue)


def int_or_none(value: Any) -> int | None:
    """The value if it is an integer (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def suggest(word: str, choices: Sequence[str]) -> str:
    """A " (did you mean 'x'?)" hint, or nothing."""
    lowered = {c.lower(): c for c in choices}
    match = lowered.get(word.lower())
    if match is None:
        close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
        match = close[0] if close else None
    return f" (did you mean '{match}'?)" if match else ""


def first_at(first: Location, second: Location) -> str:
    """Name where the first of two duplicates is: ``file:line`` (``:col`` too on one line)."""
    same_line = (first.path, first.line) == (second.path, second.line)
    return f"{first.path}:{first.line}" + (f":{first.col}" if same_line else "")


def unique_field(docs: Sequence[Checked], field: str, message: str, issues: Issues) -> None:
    """Report every document whose integer ``spec.<field>`` an earlier document already has."""
    seen: dict[int, Checked] = {}
    for checked in docs:
        value = int_or_none(checked.field(field))
        if value is None:
            continue
        first = seen.setdefault(value, checked)
        if first is not checked:
            there = first.doc.loc(("spec", field))
            owner = first.resource or "another document"
            issues.add(
                checked.doc.loc(("spec", field)),
                checked.resource,
                f"spec.{field}: {message.format(value)} {owner} ({there.path}:{there.line})",
            )


class FieldLocs(Mapping[str, Location]):
    """Locations of every spec field by dotted path, at the key for mapping entries: found when
    first asked for (a plan asks only to locate an issue), without keeping the document."""

    __slots__ = ("_found", "_index", "_source")

    def __init__(self, source: TableSource, index: int) -> None:
        self._source = source
        self._index = index
        self._found: dict[str, Location] | None = None

    def _all(self) -> dict[str, Location]:
        if self._found is None:
            locs, key_locs = self._source.tables(self._index)
            self._found = {
                dotted(path[1:]): key_locs.get(path, loc)
                for path, loc in locs.items()
                if len(path) > 1 and path[0] == "spec"
            }
        return self._found

    def __getitem__(self, path: str) -> Location:
        return self._all()[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return f"FieldLocs({self._all()!r})"


def field_locs(doc: Document) -> Mapping[str, Location]:
    """Locations of every spec field by dotted path, at the key for mapping entries."""
    return FieldLocs(*doc.location_source())


def extras(value: Any) -> dict[str, str | int | float] | None:
    """An ``extraFields`` mapping, or None when not given."""
    return dict(value) if isinstance(value, dict) else None


def opt_str(value: Any) -> str | None:
    """The value as a string, None staying None."""
    return None if value is None else str(value)
