"""The line-tracking loader on its own."""

from __future__ import annotations

import math
from typing import Any

import pytest

from reconciler import yamlload
from reconciler.model import Location


def one(text: str) -> yamlload.Document:
    loaded = yamlload.load_text(text, "t.yaml")
    assert loaded.problems == []
    (doc,) = loaded.documents
    return doc


def problems(text: str) -> list[tuple[int, int, str]]:
    loaded = yamlload.load_text(text, "t.yaml")
    found = [(loc.line, loc.col, msg) for loc, msg in loaded.problems]
    for doc in loaded.documents:
        found += [(loc.line, loc.col, msg) for loc, msg in doc.problems]
    return found


def test_every_value_and_key_has_a_location(backend: str) -> None:
    doc = one("a: 1\nb:\n  - x\n  - {c: d, e: [f]}\n")
    assert doc.value == {"a": 1, "b": ["x", {"c": "d", "e": ["f"]}]}
    assert doc.start == Location("t.yaml", 1, 1)
    assert doc.locs[("a",)] == Location("t.yaml", 1, 4)
    assert doc.key_locs[("a",)] == Location("t.yaml", 1, 1)
    assert doc.locs[("b", 1, "e", 0)] == Location("t.yaml", 4, 16)
    assert doc.key_locs[("b", 1, "e")] == Location("t.yaml", 4, 12)
    assert doc.key_loc(("b", 0)) == Location("t.yaml", 3, 5)  # list items: the item itself
    assert doc.loc(("b", 1, "missing")) == Location("t.yaml", 4, 5)  # nearest ancestor


def test_documents_are_numbered_and_empty_ones_skipped() -> None:
    loaded = yamlload.load_text("---\n---\na: 1\n--- ~\n---\n# c\n---\nb: 2\n...\n", "t.yaml")
    assert [(d.index, d.value, d.start.line) for d in loaded.documents] == [
        (1, {"a": 1}, 3),
        (4, {"b": 2}, 8),
    ]
    assert yamlload.load_text("--- ''\n", "t").documents[0].value == ""


def test_crlf_and_bom() -> None:
    loaded = yamlload.load_bytes(b"\xef\xbb\xbfa: 1\r\nb: x\r\n", "t.yaml")
    (doc,) = loaded.documents
    assert doc.value == {"a": 1, "b": "x"}
    assert doc.locs[("b",)] == Location("t.yaml", 2, 4)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"),
        ("NO", "NO"),
        ("on", "on"),
        ("true", True),
        ("True", True),
        ("FALSE", False),
        ("tRUE", "tRUE"),
        ("~", None),
        ("", None),
        ("Null", None),
        ("12", 12),
        ("-12", -12),
        ("+12", 12),
        ("010", 10),
        ("0o17", 15),
        ("0x1F", 31),
        ("0b101", "0b101"),
        ("1_000", "1_000"),
        ("1.5", 1.5),
        ("-.5", -0.5),
        ("1e3", 1000.0),
        ("1.", 1.0),
        (".inf", math.inf),
        ("-.Inf", -math.inf),
        ("2024-01-01", "2024-01-01"),
        ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"),
        ("12:30", "12:30"),
        ("'12'", "12"),
        ('"true"', "true"),
        ("! 12", "12"),
        ("!!str 12", "12"),
        ("!!int '12'", 12),
        ("!!int 0x10", 16),
        ("!!float 1", 1.0),
        ("!!float 0o10", 8.0),
        ("!!bool 'true'", True),
        ("!!null ''", None),
    ],
)
def test_scalars_follow_the_yaml_12_core_schema(text: str, value: Any) -> None:
    got = one(f"v: {text}\n").value["v"]
    assert got == value
    assert type(got) is type(value)


def test_nan() -> None:
    assert math.isnan(one("v: .NaN").value["v"])


def test_plain_non_strings_keep_their_text_for_hints() -> None:
    doc = one("a: 01234\nb: '01234'\nc: true\nd:\n")
    assert doc.raw == {("a",): "01234", ("c",): "true", ("d",): ""}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("v: !!int abc", "v: 'abc' is not a valid !!int"),
        ("v: !!bool yes", "v: 'yes' is not a valid !!bool"),
        ("v: !!float x", "v: 'x' is not a valid !!float"),
        ("v: !!null 0", "v: '0' is not a valid !!null"),
        (
            "v: !!timestamp 2024-01-01",
            "v: tag '!!timestamp' is not allowed (only plain YAML values)",
        ),
        ("v: !!binary aGk=", "v: tag '!!binary' is not allowed (only plain YAML values)"),
        ("v: !!omap [a: 1]", "v: tag '!!omap' is not allowed (only plain YAML values)"),
        ("v: !!str [a]", "v: tag '!!str' is not allowed (only plain YAML values)"),
        ("v: !!seq {a: 1}", "v: tag '!!seq' is not allowed (only plain YAML values)"),
        ("v: !Ref x", "v: tag '!Ref' is not allowed (only plain YAML values)"),
        ("v: 1" + "0" * 64, "v: number 10000000000000000000... is too large"),
    ],
)
def test_refused_scalars_and_tags(text: str, message: str) -> None:
    loaded = yamlload.load_text(text, "t.yaml")
    (doc,) = loaded.documents
    assert [m for _, m in doc.problems] == [message]
    assert doc.value == {"v": None}
    assert doc.broken == {("v",)}
    assert doc.is_broken(("v", "deeper"))


def test_keys_are_their_text_and_must_be_scalars() -> None:
    assert one("1: a\ntrue: b\n~: c\n'x': d\n").value == {"1": "a", "true": "b", "~": "c", "x": "d"}
    assert problems("? [a]\n: 1\nb: 2\n") == [(1, 3, "a key must be a plain string, not a list")]
    assert problems("x:\n  ? {a: 1}\n  : 1\n") == [
        (2, 5, "x: a key must be a plain string, not a mapping")
    ]


def test_duplicate_keys_keep_the_first_value() -> None:
    loaded = yamlload.load_text("a: 1\nb: 2\na: 3\n", "t.yaml")
    (doc,) = loaded.documents
    assert doc.value == {"a": 1, "b": 2}
    assert [(loc.line, m) for loc, m in doc.problems] == [(3, "a: duplicate key (first at line 1)")]
    assert problems("{a: 1, 'a': 2}") == [(1, 8, "a: duplicate key (first at line 1, column 2)")]


def test_merge_keys_are_refused_and_mark_the_mapping_incomplete() -> None:
    loaded = yamlload.load_text("base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n", "t.yaml")
    (doc,) = loaded.documents
    assert doc.value == {"base": {"x": 1}, "m": {"y": 2}}
    assert doc.incomplete == {("m",)}
    assert problems("m: {'<<': 1}") == []  # a quoted "<<" is an ordinary key


def test_aliases_expand_and_share_locations() -> None:
    doc = one("a: &x {b: [1, 2]}\nc: *x\n")
    assert doc.value == {"a": {"b": [1, 2]}, "c": {"b": [1, 2]}}
    assert doc.value["a"] is not doc.value["c"]
    assert doc.locs[("c", "b", 1)] == doc.locs[("a", "b", 1)]
    assert doc.key_locs[("c",)] == Location("t.yaml", 2, 1)


def _laughs(levels: int) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_a_few_thousand_aliased_nodes_are_fine() -> None:
    assert len(one(_laughs(4)).value["l3"]) == 9  # 9 + 90 + 900 + ... < 10,000


def test_billion_laughs_are_refused() -> None:
    found = problems(_laughs(9) + "after: 1\n---\nnext: doc\n")
    assert found == [
        (
            5,
            1,
            "aliases expand to more than 10,000 nodes (an alias bomb?); the rest of the file "
            "was not read",
        )
    ]


def test_alias_loops_and_undefined_aliases_are_refused(backend: str) -> None:
    assert problems("a: &x [1, *x]\n") == [(1, 11, "alias '*x' refers to a node that contains it")]
    assert problems("a: &x {b: {c: *x}}\n") == [
        (1, 15, "alias '*x' refers to a node that contains it")
    ]
    assert problems("a: *nope\n") == [(1, 4, "undefined alias '*nope'")]
    assert problems("a: &x 1\n---\nb: *x\n") == [(3, 4, "undefined alias '*x'")]


def test_depth_64_is_fine_and_65_is_refused(backend: str) -> None:
    doc = one("a: " + "[" * 63 + "]" * 63)  # the mapping and 63 lists: 64 levels
    node: Any = doc.value["a"]
    lists = 1
    while node:
        node = node[0]
        lists += 1
    assert lists == 63
    assert problems("a: " + "[" * 64 + "]" * 64) == [
        (1, 67, "nesting deeper than 64 levels; the rest of the file was not read")
    ]


def test_depth_through_aliases_is_refused() -> None:
    deep = "[" * 40 + "]" * 40
    text = f"a: &d {deep}\nb: {'[' * 30}*d{']' * 30}\n"
    assert problems(text) == [(2, 1, "nesting deeper than 64 levels (through aliases)")]


TOO_DEEP = "nesting deeper than 64 levels; the rest of the file was not read"


@pytest.mark.parametrize(
    ("start", "opening"), [("a: ", "["), ("a: ", "{"), ("a: ", "[a, "), ("a:\n  - ", "[")]
)
def test_deep_flow_nesting_is_refused_in_our_words(backend: str, start: str, opening: str) -> None:
    # libyaml looks ahead far enough to hit its own limit (1,000 levels, its own message) before
    # the composer sees level 65: our scan must come first, on every parser.
    found = problems(start + opening * 2_000_000)
    assert [message for _, _, message in found] == [TOO_DEEP]


def test_the_parsers_own_nesting_error_is_reported_in_our_words(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlload, "_flow_too_deep", lambda text: None)
    found = problems("a: " + "[" * 20_000)
    assert [message for _, _, message in found] == [TOO_DEEP]


@pytest.mark.parametrize(
    "text",
    [
        "a: '" + "[" * 100 + "'\n",
        'a: "' + "{" * 100 + '"\n',
        'a: "x\\\\" \nb: "' + "[" * 100 + '"\n',
        "a: it's [" + "[" * 100 + "\n",
        "# " + "[" * 100 + "\nb: 1\n",
        "a: |\n  " + "[" * 100 + "\n\n  " + "{" * 100 + "\nb: 2\n",
        "- >-\n    " + "[" * 100 + "\n- 3\n",
        "a: [x, '" + "[" * 100 + "', y]\n",
    ],
)
def test_brackets_in_scalars_and_comments_are_not_nesting(backend: str, text: str) -> None:
    loaded = yamlload.load_text(text, "t.yaml")
    assert loaded.problems == []
    assert len(loaded.documents) == 1


def test_a_syntax_error_keeps_the_documents_before_it(backend: str) -> None:
    loaded = yamlload.load_text("a: 1\n---\nb: [1, 2\n", "t.yaml")
    assert [d.value for d in loaded.documents] == [{"a": 1}]
    ((loc, message),) = loaded.problems
    assert (loc.line, loc.col) == (4, 1)
    assert message.startswith("YAML syntax error: ")
    assert message.endswith("(while parsing a flow sequence started at line 3, column 4)")


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        (b"a: 1\nb: \x00", (2, 4), "binary file (contains NUL bytes), not YAML"),
        (
            b"a: 1\nb: \xff\xfe",
            (2, 4),
            "not UTF-8 text (invalid byte 0xff); save the file as UTF-8",
        ),
        (
            b"a: '\x07'",
            (1, 5),
            "unacceptable character U+0007 (control characters are not allowed)",
        ),
        (
            "a: '\u0085\u0086'".encode(),
            (1, 6),
            "unacceptable character U+0086 (control characters are not allowed)",
        ),
        (
            b"a: '\xef\xbf\xbf'",
            (1, 5),
            "unacceptable character U+FFFF (control characters are not allowed)",
        ),
    ],
)
def test_binary_and_non_text_files_are_refused(
    data: bytes, where: tuple[int, int], message: str
) -> None:
    loaded = yamlload.load_bytes(data, "t.yaml")
    assert loaded.documents == []
    assert [((loc.line, loc.col), m) for loc, m in loaded.problems] == [(where, message)]


def test_escaped_control_characters_in_quoted_strings_are_values() -> None:
    assert one('a: "\\x07\\0"').value == {"a": "\x07\x00"}


def test_field_name_shortens_and_escapes() -> None:
    assert yamlload.field_name(("spec", "customerIds", 2)) == "spec.customerIds.2"
    assert yamlload.field_name(("x" * 100,)) == "x" * 57 + "..."
    assert yamlload.field_name(("a\x1bb",)) == "'a\\x1bb'"
    assert yamlload.dotted(("a\x1bb", 1)) == "a\x1bb.1"
