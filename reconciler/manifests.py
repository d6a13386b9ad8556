"""Find, parse and check manifests; write manifests for import.

`load` reads every ``*.yaml``/``*.yml`` file under the given paths (see `reconciler.yamlload`
for the YAML rules), checks each document against the JSON Schema of its kind
(``reconciler/schemas/*.json``, Draft 2020-12) and then across documents, and either returns
a `ManifestSet` or raises `ManifestError` carrying *every* problem found, each located at the
offending key or value (a missing field at the mapping that lacks it) and worded for people:
``spec.companyEmail: 'x' is not a valid email``, ``spec.catalgId: unknown field (did you mean
'catalogId'?)``.

Which files: ``*.yaml``/``*.yml`` under each folder, recursively and sorted, hidden files and
folders (``.git``) skipped; a file named as a PATH is read whatever its name; a file reached twice
is read once; a PATH that does not exist is an issue, and so is a ``*.yaml`` entry that is not a
regular file (a FIFO, a device, a dangling link): it is named, never read. While walking a
folder, a YAML file none of whose documents has any envelope key (``apiVersion``, ``kind``,
``metadata``, ``spec``, in any case) is not a manifest and is skipped: the sandbox seed and CI
configs can live beside manifests. A file named as a PATH is checked as a manifest unless
``skip_other_yaml`` is set (the pre-commit hook that passes changed files): then a named file that
parses and plainly belongs to something else is skipped too (see `_plainly_other`). Issues are
sorted by file (in the order found), line and column.

Schema semantics differ from stock jsonschema in two places, both to match what users mean:
``integer`` does not accept ``12.0``, and a ``pattern`` ending in ``$`` does not match before a
trailing newline (ECMA-262 semantics, which editors use; Python's ``$`` would).

A document is first checked by a check compiled from its schema (`reconciler.schemacheck`) that
only says "certainly valid" or "not sure"; only the second goes through jsonschema, which finds
and words the errors. Valid documents, the common case, cost a few lookups each.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import operator
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import orjson
import yaml

from reconciler import kinds, yamlload
from reconciler.errors import ManifestError, UsageError
from reconciler.kinds.documents import Checked, Issues, first_at, suggest
from reconciler.model import API_VERSION, Location, ManifestSet, StoreSpec
from reconciler.schemacheck import Check, compile_check
from reconciler.yamlload import Document, NodePath
from reconciler.yamlload import field_name as _name

if TYPE_CHECKING:
    from jsonschema import ValidationError

__all__ = [
    "API_VERSION",
    "dump_documents",
    "kind_names",
    "load",
    "schema_for",
    "write_manifest_file",
]

SCHEMA_BASE = "https://b2b-reconciler.dev/schemas/v1/"
YAML_SUFFIXES = (".yaml", ".yml")

NAME_PATTERN = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
EMAIL_PATTERN = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
DIGITS_PATTERN = "^[0-9]+$"
STORE_HASH_PATTERN = "^[A-Za-z0-9_-]+$"

_PATTERN_MESSAGES = {
    NAME_PATTERN: "{got} is not a valid name (use lower-case letters, digits and '-', "
    "starting and ending with a letter or digit)",
    EMAIL_PATTERN: "{got} is not a valid email",
    DIGITS_PATTERN: "must be a price list id made of digits (got {got})",
    STORE_HASH_PATTERN: "must contain only letters, digits, '-' and '_' (got {got})",
}
_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


# --------------------------------------------------------------------------- schemas


def kind_names() -> tuple[str, ...]:
    """Every manifest ``kind``: the Store, then the registered kinds in order."""
    return tuple(_kinds_by_name(kinds.registry()))


@functools.cache
def _kinds_by_name(registered: tuple[kinds.Kind[Any], ...]) -> dict[str, kinds.Kind[Any] | None]:
    """Every manifest ``kind`` in `kind_names` order, and its registered kind (None: the Store);
    made once per registry, not once per document."""
    return {"Store": None} | {k.name: k for k in registered}


def _kind_list() -> str:
    return ", ".join(kind_names())


def _store_schema() -> dict[str, Any]:
    text = (resources.files("reconciler") / "schemas" / "store.json").read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


@functools.cache
def _schemas_of(registered: tuple[kinds.Kind[Any], ...]) -> dict[str, dict[str, Any]]:
    out = {"Store": _store_schema()}
    out.update((kind.name, kind.schema()) for kind in registered)
    return out


def _schemas() -> dict[str, dict[str, Any]]:
    return _schemas_of(kinds.registry())


def _canonical_kind(kind: str) -> str:
    for known in kind_names():
        if known.lower() == kind.lower():
            return known
    raise UsageError(f"unknown kind {kind!r} (expected one of {_kind_list()})")


def schema_for(kind: str | None) -> dict[str, Any]:
    """Return the JSON Schema of one kind (any case), or of any document when kind is None."""
    if kind is not None:
        return copy.deepcopy(_schemas()[_canonical_kind(kind)])
    by_kind = {k: copy.deepcopy(s) for k, s in _schemas().items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_BASE + "manifest.json",
        "title": "b2b-reconciler manifest",
        "description": "Any b2b-reconciler manifest document; its kind selects the schema.",
        "type": "object",
        "required": ["kind"],
        "properties": {
            "kind": {"enum": list(by_kind), "description": "The kind of resource described."}
        },
        "allOf": [
            {
                "if": {
                    "properties": {"kind": {"const": k, "description": f"A {k} document."}},
                    "required": ["kind"],
                },
                "then": {"$ref": s["$id"]},
            }
            for k, s in by_kind.items()
        ],
        "$defs": by_kind,
    }


def _ecma_regex(pattern: str) -> re.Pattern[str]:
    """Compile a schema pattern so that a final ``$`` means end of string, as in ECMA-262."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


_regex = functools.cache(_ecma_regex)


def _pattern_keyword(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    from jsonschema import ValidationError

    if isinstance(instance, str) and not _regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _is_integer(_checker: Any, instance: object) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


@functools.cache
def _validator_class() -> Any:
    """Draft 2020-12 with our ``integer`` and ``pattern`` (jsonschema is imported on first use:
    valid documents never need it, see `_fast_check`)."""
    import jsonschema
    from jsonschema import Draft202012Validator

    extend: Any = jsonschema.validators.extend
    return extend(
        Draft202012Validator,
        validators={"pattern": _pattern_keyword},
        type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
    )


def __getattr__(name: str) -> Any:
    if name == "_Validator":  # the validator class, made on first use
        return _validator_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _schema_of(kind: str | None) -> dict[str, Any]:
    """The schema a document is checked against; ``None``: the envelope only, for a document of
    unknown kind."""
    if kind is not None:
        return _schemas()[kind]
    envelope = copy.deepcopy(_schemas()["Store"])
    envelope["properties"]["kind"] = {"type": "string"}
    envelope["properties"]["spec"] = {"type": "object"}
    return envelope


@functools.cache
def _validator(kind: str | None) -> Any:
    """The full validator of a kind (every error, for the messages)."""
    return _validator_class()(_schema_of(kind))


@functools.cache
def _fast_check(kind: str | None) -> Check | None:
    """The compiled check that says quickly that a document is valid (`reconciler.schemacheck`):
    only a document it is not sure of goes through the full validator."""
    return compile_check(_schema_of(kind), _regex)


# --------------------------------------------------------------------------- messages


def _show(value: Any) -> str:
    """Render a value for a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, int | float):
        return repr(value)
    return "a list" if isinstance(value, list) else "a mapping"


def _got(doc: Document, path: NodePath, value: Any, expected: Sequence[str]) -> str:
    """The "(got ...)" part of a type error, with a hint where YAML surprised the writer."""
    raw = doc.raw.get(path)
    if raw == "" and value is None:
        return " (the value is empty)"
    if raw is not None and "string" in expected:
        reads = {bool: "true/false", type(None): "null"}.get(type(value), "a number")
        return f" (got {raw}, which YAML reads as {reads}; quote it: '{raw}')"
    if isinstance(value, str) and "integer" in expected and value.strip().isdigit():
        return f" (got the string {_show(value)}; remove the quotes)"
    return f" (got {_show(value)})"


def _value_loc(doc: Document, path: NodePath, value: Any) -> Location:
    """Where to point for a bad value: the value if it is a scalar written out, else its key."""
    if value is None or isinstance(value, dict | list):
        return doc.key_loc(path)
    return doc.loc(path)


def _where(path: NodePath) -> str:
    return f"{_name(path)}: " if path else ""


def _explain(doc: Document, err: ValidationError) -> Iterator[tuple[Location, str]]:
    """Turn one jsonschema error into located, human messages."""
    path: NodePath = tuple(err.absolute_path)
    keyword: Any = err.validator
    expected: Any = err.validator_value
    value: Any = err.instance
    schema: Any = err.schema
    where = _where(path)
    if "propertyNames" in err.schema_path:
        yield (
            doc.key_loc((*path, value)),
            f"{where}field name {_show(value)} must be 1 to 100 characters",
        )
    elif keyword == "required":
        if path in doc.incomplete or not isinstance(value, dict):
            return
        for key in expected:
            if key not in value:
                yield doc.key_loc(path), f"{_name((*path, key))}: required field missing"
    elif keyword == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        for key in value:
            if key not in allowed:
                child = (*path, key)
                hint = suggest(key, allowed)
                yield doc.key_loc(child), f"{_name(child)}: unknown field{hint}"
    elif keyword == "type":
        types = [expected] if isinstance(expected, str) else list(expected)
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in types)
        got = _got(doc, path, value, types)
        yield _value_loc(doc, path, value), f"{where}must be {words}{got}"
    elif keyword == "enum":
        choices = ", ".join(str(c) for c in expected)
        got = _show(value)
        yield _value_loc(doc, path, value), f"{where}must be one of {choices} (got {got})"
    elif keyword == "const":
        got = _show(value)
        yield _value_loc(doc, path, value), f"{where}must be {_show(expected)} (got {got})"
    elif keyword == "pattern":
        template = _PATTERN_MESSAGES.get(expected, "{got} does not match " + repr(expected))
        yield doc.loc(path), where + template.format(got=_show(value))
    elif keyword == "minLength":
        text = "must not be empty" if expected == 1 else f"must be at least {expected} characters"
        yield doc.loc(path), where + text
    elif keyword == "maxLength":
        length = len(value)
        yield doc.loc(path), f"{where}must be at most {expected} characters (got {length})"
    elif keyword in ("minimum", "maximum"):
        bound = "least" if keyword == "minimum" else "most"
        yield doc.loc(path), f"{where}must be at {bound} {expected} (got {_show(value)})"
    elif keyword == "minItems":
        yield doc.key_loc(path), f"{where}must not be empty"
    elif keyword == "uniqueItems":
        yield from _duplicate_items(doc, path, value)
    else:  # pragma: no cover - every keyword the schemas use is handled above
        yield doc.loc(path), f"{where}{err.message}"


def _duplicate_items(
    doc: Document, path: NodePath, items: list[Any]
) -> Iterator[tuple[Location, str]]:
    first: dict[tuple[str, Any], int] = {}
    what = "customer " if path[-1:] == ("customerIds",) else ""
    for index, item in enumerate(items):
        try:
            key = (type(item).__name__, item)
            hash(key)
        except TypeError:
            continue
        if key in first:
            here = doc.loc((*path, index))
            earlier = doc.loc((*path, first[key]))
            yield (
                here,
                f"{_name((*path, index))}: {what}{_show(item)} is listed twice "
                f"(first at {first_at(earlier, here)})",
            )
        else:
            first[key] = index


# --------------------------------------------------------------------------- documents


def _usable_name(name: Any) -> str | None:
    if isinstance(name, str) and 0 < len(name) <= 253 and name.isprintable() and " " not in name:
        return name
    return None


def _check_document(
    doc: Document, issues: Issues, by_name: Mapping[str, kinds.Kind[Any] | None] | None = None
) -> Checked | None:
    """Check one document on its own: shape, envelope, schema (``by_name``: `_kinds_by_name`,
    looked up once a load rather than once a document)."""
    value = doc.value
    if not isinstance(value, dict):
        for loc, message in doc.problems:
            issues.add(loc, "", message)
        if not doc.is_broken(()):
            got = _show(value) if not isinstance(value, list) else "a list"
            issues.add(
                doc.start,
                "",
                "a manifest document must be a mapping with apiVersion, kind, metadata and "
                f"spec (got {got})",
            )
        return None
    kind_value = value.get("kind")
    if by_name is None:
        by_name = _kinds_by_name(kinds.registry())
    kind = kind_value if isinstance(kind_value, str) and kind_value in by_name else None
    metadata = value.get("metadata")
    name = _usable_name(metadata.get("name")) if isinstance(metadata, dict) else None
    checked = Checked(doc, value, kind, name)
    for loc, message in doc.problems:
        issues.add(loc, checked.resource, message)
    if isinstance(kind_value, str) and kind is None:
        issues.add(
            doc.loc(("kind",)),
            "",
            f"kind: unknown kind {kind_value!r} (expected one of {_kind_list()})",
        )
    fast = _fast_check(kind)
    if fast is None or not fast(value):
        for err in _validator(kind).iter_errors(value):
            if doc.is_broken(tuple(err.absolute_path)):
                continue
            for loc, message in _explain(doc, err):
                issues.add(loc, checked.resource, message)
    if not doc.lazy:  # a lazy document holds finite numbers only (`yamlload`)
        for path, number in _non_finite(value, ()):
            message = f"{_name(path)}: must be a finite number (got {number})"
            issues.add(doc.loc(path), checked.resource, message)
    registered = by_name[kind] if kind else None
    if registered is not None:
        registered.check(checked, issues)
    return checked


def _non_finite(value: Any, path: NodePath) -> Iterator[tuple[NodePath, float]]:
    if isinstance(value, float) and not math.isfinite(value):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, (*path, index))


# --------------------------------------------------------------------------- cross-document


def _check_across(docs: list[Checked], issues: Issues) -> None:
    """Checks that need every document: uniqueness, references, store-wide rules."""
    by_kind: dict[str, list[Checked]] = {kind: [] for kind in kind_names()}
    for checked in docs:
        if checked.kind is not None:
            by_kind[checked.kind].append(checked)

    names: dict[tuple[str, str], Checked] = {}
    for checked in docs:
        if checked.kind is None or checked.name is None:
            continue
        key = (checked.kind, checked.name)
        first = names.setdefault(key, checked)
        if first is not checked:
            there = first.doc.loc(("metadata", "name"))
            issues.add(
                checked.doc.loc(("metadata", "name")),
                checked.resource,
                f"metadata.name: duplicate {checked.kind} name '{checked.name}' "
                f"(first at {there.path}:{there.line})",
            )

    stores = by_kind["Store"]
    store = stores[0] if stores else None
    for kind in kinds.registry():
        kind.check_across(by_kind[kind.name], by_kind, store, issues)
    for extra in stores[1:]:
        first_loc = stores[0].doc.start
        issues.add(
            extra.doc.start,
            extra.resource,
            f"only one Store document is allowed (first at {first_loc.path}:{first_loc.line})",
        )
    _check_behavior(store, by_kind, issues)


def _check_behavior(
    store: Checked | None, by_kind: dict[str, list[Checked]], issues: Issues
) -> None:
    """companiesBehavior is required once a document of a kind that needs it exists."""
    needing = [k.name for k in kinds.registry() if k.needs_behavior]
    found = [d for name in needing for d in by_kind[name]]
    if not found:
        return
    which = " or ".join([", ".join(needing[:-1]), needing[-1]] if len(needing) > 1 else needing)
    if store is None:
        first = found[0]
        issues.add(
            first.doc.start,
            first.resource,
            f"no Store document sets spec.companiesBehavior, which is required once any {which} "
            "exists (add a Store document with companiesBehavior: dependent or independent)",
        )
    elif store.field("companiesBehavior") is None and not store.doc.is_broken(
        ("spec", "companiesBehavior")
    ):
        loc = store.doc.key_loc(("spec",)) if "spec" in store.value else store.doc.start
        issues.add(
            loc,
            store.resource,
            f"spec.companiesBehavior: required once any {which} exists (dependent or independent)",
        )


# --------------------------------------------------------------------------- building specs


def _build_store(checked: Checked) -> StoreSpec:
    spec = checked.spec()
    behavior = spec.get("companiesBehavior")
    return StoreSpec(
        name=checked.name or "",
        store_hash=spec.get("storeHash"),
        companies_behavior=cast(Literal["dependent", "independent"] | None, behavior),
        multi_storefront=bool(spec.get("multiStorefront", False)),
        requests_per_minute=int(spec.get("requestsPerMinute", 120)),
        max_change_percent=int(spec.get("maxChangePercent", 30)),
        loc=checked.doc.start,
    )


def _canonical(checked: Checked, by_name: Mapping[str, kinds.Kind[Any] | None]) -> dict[str, Any]:
    """The document as the digest sees it (its kind normalizes equal spellings). Copied only as
    deep as the kind's normalization writes: the document and its spec, not every value."""
    value = checked.value
    spec = value.get("spec")
    kind = by_name[checked.kind] if checked.kind else None
    if kind is not None and isinstance(spec, dict):
        spec = dict(spec)
        kind.canonical(spec)
        value = {**value, "spec": spec}
    return value


_DIGEST_JSON = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
_DIGEST_ORJSON = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)
_DIGEST_BATCH = 1_000
"""Documents encoded at once: a few hundred KB of text, never the whole list."""


def _digest(docs: list[Checked]) -> str:
    """``sha256:`` of the JSON list of every document's canonical form, ordered by kind and
    name, as ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` writes
    it. Hashed a thousand documents at a time: the same bytes as the whole list's text (``[``,
    the documents joined by ``,``, ``]``), never held at once."""
    ordered = sorted(docs, key=lambda c: (c.kind or "", c.name or ""))
    by_name = _kinds_by_name(kinds.registry())
    hasher = hashlib.sha256(b"[")
    for start in range(0, len(ordered), _DIGEST_BATCH):
        if start:
            hasher.update(b",")
        batch = [_canonical(c, by_name) for c in ordered[start : start + _DIGEST_BATCH]]
        hasher.update(_json_items(batch))
    hasher.update(b"]")
    return "sha256:" + hasher.hexdigest()


def _json_items(values: list[dict[str, Any]]) -> bytes:
    """The digest's JSON of the values, joined by ``,`` (a list's text without its brackets).

    orjson writes it (about five times faster) when its text is surely ``json.dumps``'s: it
    refuses (and ``json`` then writes) non-str keys, ints beyond 64 bits, lone surrogates,
    subclasses and nesting past 255 levels; it escapes strings as ``json.dumps`` does with
    ``ensure_ascii=False`` and sorts keys by code point as it does. What it writes differently
    is floats (``1e-05`` is its ``0.00001``; NaN, its ``null``, cannot reach the digest: a
    non-finite number is an issue), so text that may hold a float goes to ``json`` too."""
    try:
        text = orjson.dumps(values, option=_DIGEST_ORJSON)
    except orjson.JSONEncodeError:
        text = None
    if text is None or _maybe_float(text):
        text = _DIGEST_JSON(values).encode("utf-8")
    return text[1:-1]


def _maybe_float(text: bytes) -> bool:
    """Whether JSON text may hold a float. orjson writes a finite float as
    ``-?[0-9]+(\\.[0-9]+)?(e[-+][0-9]+)?``, with a point or an exponent or both: a digit before
    a ``.``, or a digit and ``e`` before a ``+`` or ``-``, is in the text of every float (and
    now and then in a string, such as ``v1.2``: only slower, never wrong). Found by searching
    for those single characters, far rarer than digits: a scan for every digit took longer
    than orjson's writing of the text."""
    at = text.find(b".")
    while at >= 0:
        if at and 48 <= text[at - 1] <= 57:  # an ASCII digit
            return True
        at = text.find(b".", at + 1)
    for sign in (b"+", b"-"):
        at = text.find(sign)
        while at >= 0:
            if at > 1 and text[at - 1] in (69, 101) and 48 <= text[at - 2] <= 57:  # [0-9][Ee]
                return True
            at = text.find(sign, at + 1)
    return False


def _build_specs(checked: list[Checked]) -> tuple[Any, ...]:
    """The spec of every document but the Store: of the kinds in registry order, by name within
    a kind. Each document's values are let go as soon as its spec is built, so that the specs
    and the documents are not all held at once (``checked`` is emptied)."""
    by_kind: dict[str, list[Checked]] = {kind.name: [] for kind in kinds.registry()}
    for one in sorted(checked, key=lambda c: c.name or ""):
        if one.kind in by_kind:
            by_kind[one.kind].append(one)
    checked.clear()
    specs: list[Any] = []
    for kind in kinds.registry():
        docs = by_kind.pop(kind.name)
        built = []
        while docs:  # from the end: each document is dropped from the list once built
            one = docs.pop()
            built.append(kind.build(one))
            one.doc.value = None
            one.value = {}
        specs.extend(reversed(built))
    return tuple(specs)


# --------------------------------------------------------------------------- finding files


def _find_files(paths: Sequence[str | Path], issues: Issues) -> list[tuple[str, bool]]:
    """Every manifest file under the paths as (path as shown, named explicitly), once each."""
    found: list[tuple[str, bool]] = []
    seen: set[str] = set()

    def take(file: str, explicit: bool, key: str | None = None) -> None:
        key = key or os.path.realpath(file)
        if key not in seen:
            seen.add(key)
            found.append((file, explicit))

    for given in paths:
        root = Path(given)
        if root.is_dir():
            for _order, file, key in sorted(_yaml_below(str(root), issues), key=_first):
                # not a regular file (a FIFO): an issue, never read
                take(file, explicit=False, key=key)
        elif root.is_file():
            take(str(root), explicit=True)
        elif root.exists():
            issues.add(Location(str(given), 1, 1), "", "not a regular file or folder")
        else:
            issues.add(Location(str(given), 1, 1), "", "no such file or folder")
    return found


_first = operator.itemgetter(0)
"""The sort key (unique): strings compared alone sort faster than the tuples holding them."""


def _yaml_below(root: str, issues: Issues) -> list[tuple[str, str, str | None]]:
    """Every YAML file below a folder, hidden ones and those in hidden folders left out, as
    (sort key, path as shown, real path unless it is a link).

    The walk is `os.walk`'s, top-down and without following links to folders, but on the
    `os.DirEntry` of each file, which knows without a ``stat`` whether it is a link. The sort key
    is the path below the root with NUL between its parts: file names hold no NUL, and NUL sorts
    before every other character, so keys sort as the tuples of parts do, which is the order
    files are read in (a folder's files and subfolders together by name)."""
    out: list[tuple[str, str, str | None]] = []
    # (folder, its path as shown, its sort key prefix); a stack in reverse: os.walk's order
    pending = [(root, root, "")]
    while pending:
        folder, shown, prefix = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as error:
            where = Location(str(error.filename or "."), 1, 1)
            issues.add(where, "", f"cannot read folder: {error.strerror or error}")
            continue
        subfolders = []
        real: str | None = None  # with a separator at its end, as `os.path.join` would put
        below = "" if shown == "." else shown if shown.endswith(os.sep) else shown + os.sep
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if name.startswith("."):
                continue
            if is_dir:
                try:
                    link = entry.is_symlink()
                except OSError:
                    link = True
                if not link:
                    subfolders.append(entry)
            elif name.endswith(YAML_SUFFIXES):
                if real is None:
                    real = os.path.join(os.path.realpath(folder), "")  # once a folder
                try:
                    link = entry.is_symlink()
                except OSError:
                    link = True
                out.append((prefix + name, below + name, None if link else real + name))
        for entry in reversed(subfolders):
            pending.append((entry.path, below + entry.name, prefix + entry.name + "\0"))
    return out


_ENVELOPE = frozenset({"apiversion", "kind", "metadata", "spec"})


def _foreign(loaded: yamlload.LoadedFile) -> bool:
    """True for a file that is YAML but plainly not manifests (a sandbox seed, a CI config):
    every document is a mapping without any of the envelope's keys, in any case (keys are
    strings: `yamlload`)."""
    if loaded.problems or not loaded.documents:
        return False
    for doc in loaded.documents:
        value = doc.value
        if not isinstance(value, dict) or not _ENVELOPE.isdisjoint(map(str.lower, value)):
            return False
    return True


def _ours(value: object) -> bool:
    """A document that is, or is meant to be, a b2b-reconciler manifest: it names our apiVersion
    (any version: a wrong one is an error to report) or one of our kinds, or it has envelope keys
    but no apiVersion at all (``Kind: Store``, a forgotten apiVersion)."""
    if not isinstance(value, dict):
        return False
    keys = {str(k).lower(): v for k, v in value.items()}
    if not _ENVELOPE & keys.keys():
        return False
    if "apiversion" not in keys:
        return True
    api_version, kind = keys["apiversion"], keys.get("kind")
    return (isinstance(api_version, str) and "b2b.reconciler" in api_version.lower()) or (
        isinstance(kind, str) and kind.lower() in {k.lower() for k in kind_names()}
    )


def _plainly_other(loaded: yamlload.LoadedFile) -> bool:
    """True for a named file that parses and none of whose documents is ours: a workflow, a
    seed, a Kubernetes manifest (another apiVersion, another kind), a list, an empty file. A
    file that does not parse is never plainly other: it may be a broken manifest."""
    return not loaded.problems and not any(_ours(d.value) for d in loaded.documents)


# --------------------------------------------------------------------------- load


def load(paths: Sequence[str | Path], *, skip_other_yaml: bool = False) -> ManifestSet:
    """Load and check every manifest under the paths; raise ManifestError with every problem.

    ``skip_other_yaml``: files named as PATHs that are plainly not manifests are skipped (and
    listed in ``ManifestSet.skipped``) instead of being checked as manifests.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    if not paths:
        paths = ["."]
    issues = Issues()
    files = _find_files(paths, issues)
    rank = {str(p): i for i, p in enumerate(paths)}
    rank |= {display: len(paths) + i for i, (display, _) in enumerate(files)}
    skipped: list[str] = []
    checked = _check_files(files, skip_other_yaml, skipped, issues)
    _check_across(checked, issues)
    if issues.items:
        ordered = sorted(issues.items, key=lambda i: (rank.get(i.path, len(rank)), i.line, i.col))
        raise ManifestError(ordered)
    stores = [_build_store(c) for c in checked if c.kind == "Store"]
    digest = _digest(checked)
    return ManifestSet(
        store=stores[0] if stores else None,
        specs=_build_specs(checked),
        digest=digest,
        skipped=tuple(skipped),
    )


def _check_files(
    files: list[tuple[str, bool]], skip_other_yaml: bool, skipped: list[str], issues: Issues
) -> list[Checked]:
    """Load and check each file's documents on their own (a file's text and nodes are let go
    before the next file is read)."""
    checked: list[Checked] = []
    by_name = _kinds_by_name(kinds.registry())
    for display, explicit in files:
        loaded = yamlload.load_path(display, display)
        if not explicit and _foreign(loaded):
            continue
        if explicit and skip_other_yaml and _plainly_other(loaded):
            skipped.append(display)
            continue
        for doc in loaded.documents:
            result = _check_document(doc, issues, by_name)
            if result is not None:
                checked.append(result)
        for loc, message in loaded.problems:
            issues.add(loc, "", message)
    return checked


# --------------------------------------------------------------------------- writing


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, no anchors."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style: str | None = None
    if any(c in data for c in "\x85\u2028\u2029"):
        style = '"'  # YAML line breaks: only double quotes escape them
    elif "\n" in data.rstrip("\n") and data == data.rstrip(" "):
        style = "|"
    elif yamlload.resolve_plain(data) != yamlload.STR:
        style = "'"  # would read back as a number, bool or null (YAML 1.2); 1.1 is PyYAML's job
    return dumper.represent_scalar(yamlload.STR, data, style=style)


_Dumper.add_representer(str, _represent_str)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def dump_documents(docs: Sequence[Mapping[str, Any]]) -> str:
    """Render documents as multi-document YAML: block style, key order kept, safe quoting."""
    if not docs:
        return ""
    return yaml.dump_all(
        [_plain(d) for d in docs],
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
    )


def write_manifest_file(
    path: str | Path,
    docs: Sequence[Mapping[str, Any]],
    header_comment: str = "",
    force: bool = False,
) -> Path:
    """Write documents to a manifest file (refusing to overwrite unless force); return its path."""
    target = Path(path)
    if target.exists() and not force:
        raise UsageError(f"{target} already exists (use --force to overwrite)")
    header = "".join(f"# {line}".rstrip() + "\n" for line in header_comment.splitlines())
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(header + dump_documents(docs), encoding="utf-8")
    os.replace(temporary, target)
    return target
