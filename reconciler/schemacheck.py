"""A fast yes-or-don't-know check of a document against a JSON Schema, compiled once per schema.

`load` checks every document against its kind's schema. jsonschema builds a validator object and
an error for every keyword it descends into, which made the check of 10,000 valid documents cost
more than a second. The check compiled here answers only one question, fast: is this document
certainly valid? ``True`` means jsonschema (as ``reconciler.manifests`` configures it) would report
no error; ``False`` means "not certain", and the caller then runs the full validator, which finds
and words the errors exactly as before. So a valid document costs a few dict lookups, and the
messages of an invalid one do not change.

It understands the keywords the manifest schemas use, with the semantics ``reconciler.manifests``
gives them (Draft 2020-12; ``integer`` excludes floats and booleans; ``pattern`` through the
given ``regex``, which decides what ``$`` means; ``format`` is an annotation, as without a format
checker). A schema holding any other keyword (``$ref``, ``oneOf``, ``prefixItems``...) compiles
to ``None``: no fast check, every document goes to the full validator. Where exact equality is
subtle (``enum`` and ``const`` values that are not strings, integers, booleans or null;
``uniqueItems`` over anything but all strings or all integers), the check answers ``False``.

How: the schema becomes the source of one Python function, each keyword a line or two of it
(a nested schema is inlined where it applies, a list's items in a ``for`` loop), compiled once
per schema. A first version made one closure per schema node and called it for every value:
those calls and their generic dispatch on the value's type were most of the cost (16 calls a
Company document). The source holds no value of the schema: every constant (a property name, a
bound, a compiled pattern, a set of literals) is passed to the function by name, so whatever a
schema says cannot become code.
"""

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
        return _Compiler(regex).function(schema)
    except _Unsupported:
        return None


def _literal_set(values: Any) -> frozenset[tuple[type, Any]]:
    if not isinstance(values, list):
        raise _Unsupported("enum")
    if not all(type(v) in _EXACT for v in values):
        raise _Unsupported("enum value")
    return frozenset((type(v), v) for v in values)


def _unique(items: list[Any]) -> bool:
    """No two items equal, when that is plain to see: all strings or all integers."""
    kinds = {type(v) for v in items}
    if kinds != {str} and kinds != {int}:
        return False  # equality of floats, booleans, lists: the full validator decides
    return len(set(items)) == len(items)


_MISSING = object()
"""What ``dict.get`` answers for a property the document does not have."""

Lines = list[str]
"""Statements of the function being written, indented relative to where they go; each ends
the function with ``return False`` when the value it checks is not certainly valid."""


def _indent(lines: Lines) -> Lines:
    return ["    " + line for line in lines]


class _Compiler:
    """Writes the check function of one schema."""

    def __init__(self, regex: Regex) -> None:
        self.regex = regex
        self.names: dict[str, Any] = {"_EXACT": _EXACT, "_MISSING": _MISSING}
        self.count = 0

    def constant(self, value: Any) -> str:
        """The name the function knows ``value`` by."""
        name = f"c{len(self.names)}"
        self.names[name] = value
        return name

    def variable(self) -> str:
        self.count += 1
        return f"v{self.count}"

    def function(self, schema: Any) -> Check:
        body = self.node(schema, "v0")
        source = "\n".join(["def check(v0):", *_indent(body), "    return True", ""])
        namespace = dict(self.names)
        try:
            exec(compile(source, "<schemacheck>", "exec"), namespace)
        except (SyntaxError, RecursionError, MemoryError) as exc:
            # A schema nested deeper than Python nests blocks (20 loops): not for the manifests.
            raise _Unsupported("nesting") from exc
        check: Check = namespace["check"]
        return check

    def node(self, schema: Any, v: str) -> Lines:
        """The statements that check the value named ``v`` against ``schema``."""
        if schema is True:
            return []
        if schema is False:
            return ["return False"]
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
        by_type: list[tuple[tuple[type, ...], Lines]] = [
            ((str,), self.string(schema, v)),
            ((int, float), self.number(schema, v)),
            ((list,), self.array(schema, v)),
            ((dict,), self.mapping(schema, v)),
        ]

        if literals is not None:
            # Only a literal of an allowed type passes both tests: one test does for both.
            literals = frozenset((kind, value) for kind, value in literals if kind in allowed)
            allowed = frozenset(kind for kind, _ in literals)
        guarded = [(types, lines) for types, lines in by_type if lines and allowed & set(types)]
        out: Lines = []
        if len(allowed) == 1 and all(allowed <= set(types) for types, _ in guarded):
            t = f"type({v})"  # one type, no test of it below: no variable
        else:
            t = self.variable()
            out.append(f"{t} = type({v})")
        if literals is not None and len(allowed) == 1:  # literals of one type: no pairs
            values = frozenset(value for _, value in literals)
            one = self.constant(next(iter(allowed)))
            out.append(f"if {t} is not {one} or {v} not in {self.constant(values)}: return False")
        elif literals is not None:
            out.append(f"if {t} not in _EXACT or ({t}, {v}) not in {self.constant(literals)}:")
            out.append("    return False")
        elif len(allowed) == 1:
            out.append(f"if {t} is not {self.constant(next(iter(allowed)))}: return False")
        else:
            out.append(f"if {t} not in {self.constant(allowed)}: return False")
        for types, lines in guarded:
            if allowed <= set(types):  # the type is already known: no test
                out += lines
            else:
                test = " or ".join(f"{t} is {self.constant(one)}" for one in types)
                out += [f"if {test}:", *_indent(lines)]
        return out

    def string(self, schema: Mapping[str, Any], v: str) -> Lines:
        if not any(k in schema for k in _STRING):
            return []
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        pattern = self.regex(schema["pattern"]) if "pattern" in schema else None
        if not isinstance(low, int) or not (high is None or isinstance(high, int)):
            raise _Unsupported("length")
        out: Lines = []
        tests = []
        if low > 0:
            tests.append(f"len({v}) < {self.constant(low)}")
        if high is not None:
            tests.append(f"len({v}) > {self.constant(high)}")
        if tests:
            out.append(f"if {' or '.join(tests)}: return False")
        if pattern is not None:
            out.append(f"if {self.constant(pattern.search)}({v}) is None: return False")
        return out

    def number(self, schema: Mapping[str, Any], v: str) -> Lines:
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is None and high is None:
            return []
        for bound in (low, high):
            if bound is not None and type(bound) not in (int, float):
                raise _Unsupported("bound")
        # jsonschema reports an error when ``value < minimum`` (or ``> maximum``): NaN passes.
        tests = []
        if low is not None:
            tests.append(f"{v} < {self.constant(low)}")
        if high is not None:
            tests.append(f"{v} > {self.constant(high)}")
        return [f"if {' or '.join(tests)}: return False"]

    def array(self, schema: Mapping[str, Any], v: str) -> Lines:
        if not any(k in schema for k in _ARRAY):
            return []
        item = self.variable()
        each = self.node(schema["items"], item) if "items" in schema else []
        low = schema.get("minItems", 0)
        unique = schema.get("uniqueItems", False)
        if not isinstance(low, int) or not isinstance(unique, bool):
            raise _Unsupported("array")
        out: Lines = []
        if low > 0:
            out.append(f"if len({v}) < {self.constant(low)}: return False")
        if each:
            out += [f"for {item} in {v}:", *_indent(each)]
        if unique:
            out.append(f"if len({v}) > 1 and not {self.constant(_unique)}({v}): return False")
        return out

    def mapping(self, schema: Mapping[str, Any], v: str) -> Lines:
        if not any(k in schema for k in _OBJECT):
            return []
        properties = schema.get("properties", {})
        if not isinstance(properties, dict):
            raise _Unsupported("properties")
        known: list[tuple[Any, str, Lines]] = []
        for key, sub in properties.items():
            item = self.variable()
            known.append((key, item, self.node(sub, item)))
        required = schema.get("required", [])
        if not isinstance(required, list) or not all(isinstance(k, str) for k in required):
            raise _Unsupported("required")
        extra_schema = schema.get("additionalProperties", True)
        key, item = self.variable(), self.variable()
        extra = [] if extra_schema is True else self.node(extra_schema, item)
        names_schema = schema.get("propertyNames", True)
        names = [] if names_schema is True else self.node(names_schema, key)

        out: Lines = []
        if required:
            out.append(f"if not {v}.keys() >= {self.constant(frozenset(required))}: return False")
        keys = self.constant(frozenset(properties))
        if extra == ["return False"] and not names:  # additionalProperties: false
            out.append(f"if not {v}.keys() <= {keys}: return False")
        elif extra or names:
            out.append(f"for {key}, {item} in {v}.items():")
            out += _indent(names)
            if extra:
                out += _indent([f"if {key} not in {keys}:", *_indent(extra)])
        for name, value, lines in known:
            if not lines:
                continue
            if name in required:  # there: tested above
                out += [f"{value} = {v}[{self.constant(name)}]", *lines]
            else:
                out.append(f"{value} = {v}.get({self.constant(name)}, _MISSING)")
                out += [f"if {value} is not _MISSING:", *_indent(lines)]
        return out
