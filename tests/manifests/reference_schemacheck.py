"""The compiled schema check as it was at e615e0c (one closure per schema node), kept verbatim below
this docstring as the oracle of tests/manifests/test_schemacheck_equivalence.py: the check
compiled to one function must answer exactly as this one did, for every schema and value."""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Check", "compile_check"]

Check = Callable[[Any], bool]
"""``True``: certainly valid; ``False``: maybe not (run the full validator)."""

Regex = Callable[[str], re.Pattern[str]]

_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}
"""Exact Python types per JSON type (``type(True)`` is ``bool``, never ``int``)."""
_ANY = frozenset(t for types in _TYPES.values() for t in types)
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "format"}
)
_STRING = ("minLength", "maxLength", "pattern")
_NUMBER = ("minimum", "maximum")
_ARRAY = ("items", "minItems", "uniqueItems")
_OBJECT = ("properties", "additionalProperties", "required", "propertyNames")
_OTHER = ("type", "enum", "const")
_KNOWN = frozenset((*_STRING, *_NUMBER, *_ARRAY, *_OBJECT, *_OTHER)) | _ANNOTATIONS
_EXACT = (str, int, bool, type(None))
"""Value types whose equality under jsonschema is plain ``==`` between values of one type."""


class _Unsupported(Exception):
    """The schema uses something this module does not compile."""


def compile_check(schema: Any, regex: Regex) -> Check | None:
    """The fast check of ``schema``, or ``None`` when the schema uses what it does not know."""
    try:
        return _compile(schema, regex)
    except _Unsupported:
        return None


def _always(_value: Any) -> bool:
    return True


def _never(_value: Any) -> bool:
    return False


def _literal_set(values: Any) -> frozenset[tuple[type, Any]]:
    if not isinstance(values, list):
        raise _Unsupported("enum")
    if not all(type(v) in _EXACT for v in values):
        raise _Unsupported("enum value")
    return frozenset((type(v), v) for v in values)


def _compile(schema: Any, regex: Regex) -> Check:
    if schema is True:
        return _always
    if schema is False:
        return _never
    if not isinstance(schema, dict) or not set(schema) <= _KNOWN:
        raise _Unsupported(schema)

    allowed = _ANY
    if "type" in schema:
        names = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        if not isinstance(names, list) or not all(n in _TYPES for n in names):
            raise _Unsupported("type")
        allowed = frozenset(t for n in names for t in _TYPES[n])
    literals: frozenset[tuple[type, Any]] | None = None
    if "enum" in schema:
        literals = _literal_set(schema["enum"])
    if "const" in schema:
        const = _literal_set([schema["const"]])
        literals = const if literals is None else literals & const
    string = _string_check(schema, regex)
    number = _number_check(schema)
    array = _array_check(schema, regex)
    mapping = _object_check(schema, regex)

    def check(value: Any) -> bool:
        kind = type(value)
        if kind not in allowed:
            return False
        if literals is not None and (kind not in _EXACT or (kind, value) not in literals):
            return False
        if kind is str:
            return string is None or string(value)
        if kind is dict:
            return mapping is None or mapping(value)
        if kind is list:
            return array is None or array(value)
        if kind is int or kind is float:
            return number is None or number(value)
        return True

    return check


def _string_check(schema: Mapping[str, Any], regex: Regex) -> Check | None:
    if not any(k in schema for k in _STRING):
        return None
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    pattern = regex(schema["pattern"]) if "pattern" in schema else None
    if not isinstance(low, int) or not (high is None or isinstance(high, int)):
        raise _Unsupported("length")

    def check(value: str) -> bool:
        size = len(value)
        if size < low or (high is not None and size > high):
            return False
        return pattern is None or pattern.search(value) is not None

    return check


def _number_check(schema: Mapping[str, Any]) -> Check | None:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is None and high is None:
        return None
    for bound in (low, high):
        if bound is not None and type(bound) not in (int, float):
            raise _Unsupported("bound")

    def check(value: float) -> bool:
        # jsonschema reports an error when ``value < minimum`` (or ``> maximum``): NaN passes.
        return not ((low is not None and value < low) or (high is not None and value > high))

    return check


def _array_check(schema: Mapping[str, Any], regex: Regex) -> Check | None:
    if not any(k in schema for k in _ARRAY):
        return None
    item = _compile(schema["items"], regex) if "items" in schema else None
    low = schema.get("minItems", 0)
    unique = schema.get("uniqueItems", False)
    if not isinstance(low, int) or not isinstance(unique, bool):
        raise _Unsupported("array")

    def check(value: list[Any]) -> bool:
        if len(value) < low:
            return False
        if item is not None and not all(item(v) for v in value):
            return False
        if unique and len(value) > 1:
            kinds = {type(v) for v in value}
            if kinds != {str} and kinds != {int}:
                return False  # equality of floats, booleans, lists: the full validator decides
            return len(set(value)) == len(value)
        return True

    return check


def _object_check(schema: Mapping[str, Any], regex: Regex) -> Check | None:
    if not any(k in schema for k in _OBJECT):
        return None
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        raise _Unsupported("properties")
    checks = {key: _compile(sub, regex) for key, sub in properties.items()}
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(k, str) for k in required):
        raise _Unsupported("required")
    extra_schema = schema.get("additionalProperties", True)
    extra = None if extra_schema is True else _compile(extra_schema, regex)
    names_schema = schema.get("propertyNames", True)
    names = None if names_schema is True else _compile(names_schema, regex)

    def check(value: dict[str, Any]) -> bool:
        for key in required:
            if key not in value:
                return False
        for key, item in value.items():
            if names is not None and not names(key):
                return False
            sub = checks.get(key)
            if sub is None:
                sub = extra
                if sub is None:
                    continue
            if not sub(item):
                return False
        return True

    return check
