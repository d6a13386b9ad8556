"""The line reader (`reconciler.yamlfast`, the fastest tier of loading) gives exactly what the
parser's quick load gives (values compared with their types, document indexes, starts, the
sharing of short texts), or leaves the file to the parser; and ``load_text`` is unchanged by it.

The texts come from a grammar mixing what the reader takes (block mappings and lists, plain and
quoted scalars, comments, markers) with everything it must leave alone (flow nesting, block
scalars, anchors, tags, escapes, continuation lines, tabs, duplicate and merge keys...), then
randomly perturbed: a character inserted, deleted or a line moved.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from bench.load_bench import documents, scenario_for
from bench.manifest_files import write_manifests
from bench.scenario import Scenario
from reconciler import manifests, yamlfast, yamlload
from tests.manifests.test_quick_load import typed

ROOT = Path(__file__).resolve().parents[2]
NOT_MANIFESTS = {"sandbox-seed.yaml"}  # loaded by the sandbox, with PyYAML, not by yamlload


def fast(text: str) -> list[yamlfast.Root] | None:
    """The line reader's documents, or None where it leaves the text to the parser (also when
    the scalar resolution it shares with the parser refuses a value)."""
    try:
        return yamlload._BLOCKS.roots(text)
    except (yamlload._Relocate, yamlload._Refused):
        return None


def scalars(value: Any) -> list[Any]:
    """The scalar values in a value (not the keys)."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in scalars(v)]
    if isinstance(value, list):
        return [s for v in value for s in scalars(v)]
    return [value]


def containers(value: Any) -> list[Any]:
    if isinstance(value, dict | list):
        inner = value.values() if isinstance(value, dict) else value
        return [value, *(c for v in inner for c in containers(v))]
    return []


def agrees(text: str) -> bool:
    """The line reader gives what the quick load gives (True), or leaves the text (False)."""
    roots = fast(text)
    if roots is None:
        return False
    quick = yamlload._quick_documents(text, "t.yaml")  # raises if the reader took a bad text
    assert [(i, typed(v), line, col) for i, v, line, col in roots] == [
        (d.index, typed(d.value), d.start.line, d.start.col) for d in quick
    ]
    again = fast(text)  # read again: now from remembered lines
    assert again is not None
    assert [(i, typed(v)) for i, v, _l, _c in again] == [(i, typed(v)) for i, v, _l, _c in roots]
    values = [v for _i, v, _l, _c in roots]
    shared: dict[str, str] = {}
    for item in scalars(values):
        if type(item) is str and len(item) <= yamlload.SHARED_TEXT:
            assert shared.setdefault(item, item) is item  # one object per short text
    for key in (k for v in values for c in containers(v) if isinstance(c, dict) for k in c):
        assert sys.intern(key) is key
    ids = [id(c) for v in [*values, *(a for a, *_ in again)] for c in containers(v)]
    assert len(ids) == len(set(ids))  # no container shared, not even by remembered lines
    return True


def loads_as_before(text: str) -> None:
    """``load_text`` gives what it gave without the line reader: documents, problems, locations."""
    with mock.patch.object(yamlload._BLOCKS, "roots", return_value=None):
        before = yamlload.load_text(text, "t.yaml")
    after = yamlload.load_text(text, "t.yaml")
    assert after.problems == before.problems
    assert [(d.index, d.start, typed(d.value), d.lazy, d.problems) for d in after.documents] == [
        (d.index, d.start, typed(d.value), d.lazy, d.problems) for d in before.documents
    ]
    for new, old in zip(after.documents, before.documents, strict=True):
        assert (new.locs, new.key_locs, new.raw) == (old.locs, old.key_locs, old.raw)


# ------------------------------------------------------------------------------ the grammar

KEYS = [
    *["name", "spec", "status", "catalogId", "a", "b", "x_y", "a.b", "a-b", "K9", "1", "0x1F"],
    *["true", "~", "null", "NO", "é", "東京", "a b", "a:b", "a,b", "a#b", "a'b", "a[0]", "a]"],
]
"""Keys the line reader takes."""
ODD_KEYS = [
    *["<<", "-x", "?x", ":x", "a #b", "'q'", '"d"', "[a]", "{a}", "&a", "*a", "!t", "%p"],
    *["@a", "`a", "", "...", "---", "a ", "k" * 1030, "a\tb", "|", ">", "a:", "- a", "? a"],
]
SCALARS = [
    *["x", "approved", "Company 1", "admin@example.com", "555-0100", "1", "01", "010", "-7"],
    *["+3", "0x1F", "0o17", "0o8", "1e3", ".5", "2.", "1.0", "-1.5e-3", "1_000", "true", "True"],
    *["TRUE", "tRUE", "false", "yes", "NO", "~", "null", "Null", "NULL", "2024-01-01", "1:20"],
    *["a:b", "a#b", "-x", "--", "---", "...", "x[y", "x]", "x}", "a, b", "=", "é", "東京 ✓"],
    *["a  b", "a'b", 'a"b', "x#", "a #b", "x #", "1" * 64, "-" + "9" * 64, "http://x/y"],
    *["'q'", "'it''s'", "''", "' x '", "'#'", "'a: b'", "'a' #c", "'[a]'", "'&a'", "'010'"],
    *['"d"', '""', '"x: y"', '"it\'s"', '"a" #c', '"{a}"', '"1.0"', '"true"', '"a # b"'],
    *["[]", "{}", "[1, 2]", "[a, 'b', \"c\"]", "{a: 1, b: x}", "[-1, -x]", "{1: a}", "[1] #c"],
    *["[~, null, true, 010, 0x1F, 1e3]", "{a: 'x y', b: \"z\"}", "[ a ,b ]", "{ k:  v }"],
]
"""Scalars (as written) the line reader takes."""
ODD_SCALARS = [
    *[".inf", "-.Inf", ".nan", "a: b", "#x", "- x", "-", "? x", "?x", ":x", "x:", "x::", "[a]x"],
    *["&a x", "*a", "!t x", "!!str 1", "! 1", "|", ">", "|-", "%x", "@x", "`x", "<<", "'a"],
    *["'a' b", "'a''", '"a\\"b"', '"a\\nb"', '"a', '"\\u00e9"', "1" * 70, "a\tb", "[a, [b]]"],
    *["{a: {b: 1}}", "[a, b,]", "[a, , b]", "{a, b: 1}", "{a: 1, a: 2}", "{<<: 1}", "[a:b]"],
    *["{'k': v}", "{a: 'x, y'}", "[a #b]", "[?a]", "[a?b]", "{a: }", "[.inf]", "{x: .nan}"],
    *["[" + "9" * 70 + "]", "[a", "{a: 1", "[a] ]", "[-]", "['a]", "{a:b}"],
]
"""Scalars (as written) the line reader leaves to the parser, or that the parser refuses."""
MARKERS = ["--- ", "---  # doc", "--- x", "...", "%YAML 1.2\n---", "---x", " ---", "--- |"]
PERTURBATIONS = "\t :#-'\"[]{}&*!|>%@`,?\n\r\\x.~\ufeff\u2028\x85"


class Grammar:
    """Random YAML texts: clean ones (only what the line reader takes), ones with exactly one odd
    choice somewhere (so that nothing else hides it), and ones with odd choices at a random rate
    (``spice``) then perturbed."""

    def __init__(self, r: random.Random) -> None:
        self.r = r
        mode = r.random()
        self.spice = 0.0 if mode < 0.6 else r.choice([0.03, 0.1, 0.2, 0.4])
        self.odd_at = r.randrange(12) if 0.2 <= mode < 0.6 else -1
        self.choices = 0

    @property
    def clean(self) -> bool:
        """Nothing odd was chosen."""
        return not self.spice and self.odd_at >= self.choices

    def odd(self) -> bool:
        self.choices += 1
        return self.choices - 1 == self.odd_at or self.r.random() < self.spice

    def scalar(self) -> str:
        return self.r.choice(ODD_SCALARS if self.odd() else SCALARS)

    def tail(self) -> str:
        """What may follow a line: nothing, spaces, a comment."""
        return self.r.choice(["", "", "", "", " ", "   ", " # c", "  #: x", " #"])

    def entry(self, depth: int, indent: int, head: str, in_list: bool) -> list[str]:
        """The lines of one mapping entry or list item whose first line starts with ``head``."""
        r = self.r
        pad = " " * indent
        step = r.choice([1, 2, 2, 2, 3, 4])
        form = r.random()
        if form < 0.5 or depth > 4:
            return [f"{pad}{head} {self.scalar()}{self.tail()}"]
        if form < 0.56:
            return [f"{pad}{head}{self.tail()}"]  # null, or more indented lines follow
        if form < 0.74:
            return [f"{pad}{head}{self.tail()}", *self.block(depth + 1, indent + step, "map")]
        if form < 0.88:
            same = not in_list and r.random() < 0.5  # ``key:`` then ``- x`` at the same indent
            inner = indent if same else indent + step
            return [f"{pad}{head}", *self.block(depth + 1, inner, "seq")]
        if not self.odd():
            if not in_list:
                return [f"{pad}{head} {self.scalar()}"]
            step = max(step, 2)  # ``- key: value`` and the mapping's other keys below it
            lines = self.block(depth + 1, indent + step, "map")
            return [f"{pad}-{' ' * (step - 1)}{lines[0].lstrip(' ')}", *lines[1:]]
        if r.random() < 0.3:  # the same key twice
            if in_list:
                return [f"{pad}- a: 1", f"{pad}  a: 2"]
            return [f"{pad}{head} 1", f"{pad}{head} 2"]
        # continuation lines, block scalars, quoted or flow scalars over lines, comments between
        first = r.choice(["a", "|", ">", "", "'a", '"a', "[a,", "x #", "- a", "&a", "!t"])
        then = r.choice(["b", "# c", "k: v", "- z", "]", "c'", 'c"', "*a"])
        return [f"{pad}{head} {first}", " " * (indent + r.choice([0, 1, step])) + then]

    def block(self, depth: int, indent: int, kind: str) -> list[str]:
        lines: list[str] = []
        keys = self.r.sample(KEYS, 4)  # no key twice, unless an odd one comes back
        for number in range(self.r.randint(1, 4)):
            if self.r.random() < 0.08:
                lines.append(self.r.choice(["", " ", f"{' ' * self.r.randint(0, 6)}# comment"]))
            if kind == "map":
                key = self.r.choice(ODD_KEYS + keys[:number]) if self.odd() else keys[number]
                lines += self.entry(depth, indent, key + ":", in_list=False)
            else:
                lines += self.entry(depth, indent, "-", in_list=True)
        return lines

    def text(self) -> str:
        """A YAML text from the grammar, then perhaps perturbed."""
        r = self.r
        lines: list[str] = []
        if r.random() < 0.2:
            lines.append("# header")
        for number in range(r.randint(1, 3)):
            if number or r.random() < 0.3:
                lines.append(r.choice(MARKERS) if self.odd() else "---")
            form = r.random()
            if form < 0.75:
                lines += self.block(1, r.choice([0, 0, 0, 1, 2]), "map")
            elif form < 0.92:
                lines += self.block(1, 0, "seq")
            elif self.odd():
                lines.append(self.scalar())
            # else: an empty document
        text = "\n".join(lines) + r.choice(["\n", "", "\n\n"])
        for _ in range(r.choice([0, 0, 0, 1, 2]) if self.spice else 0):
            at = r.randrange(len(text) + 1)
            change = r.random()
            if change < 0.5:
                text = text[:at] + r.choice(PERTURBATIONS) + text[at:]
            elif change < 0.75:
                text = text[:at] + text[at + 1 :]
            else:
                parts = text.split("\n")
                parts.insert(r.randrange(len(parts) + 1), r.choice(parts))
                text = "\n".join(parts)
        return text


# ------------------------------------------------------------------------------ properties


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(r=st.randoms(use_true_random=False))
def test_the_line_reader_agrees_with_the_quick_load_or_leaves_the_text(r: random.Random) -> None:
    grammar = Grammar(r)
    text = grammar.text()
    note(repr(text))
    if yamlload._BAD_CHARS.search(text) is None:  # refused before any tier runs
        taken = agrees(text)
        assert taken or not grammar.clean  # nothing odd in it: the reader must take it
        loads_as_before(text)


def test_the_grammar_reaches_both_outcomes() -> None:
    """The property above is not vacuous: the grammar makes texts the reader takes and texts it
    leaves, in good numbers (seeded: the same texts every run)."""
    taken = left = 0
    for seed in range(400):
        text = Grammar(random.Random(seed)).text()
        if yamlload._BAD_CHARS.search(text) is None:
            if agrees(text):
                taken += 1
            else:
                left += 1
    assert taken >= 80
    assert left >= 80


MANIFEST = """\
# a company
apiVersion: b2b.reconciler/v1
kind: Company
metadata:
  name: acme-1
spec:
  companyName: 'Acme''s Tools' # c
  catalogId: "7"
  tags: [a, 'b c', 3]
  address: {city: Tacoma, zip: "98402"}
  users:
  - email: a@x.example
    role: admin
  -   email: b@x.example
  extraFields:
    tier: Gold
    n: 010
---
kind: Order
spec:
  ids:
    - 1
    -
"""


@pytest.mark.parametrize("char", [*"\t\r\x85\u2028\u2029\ufeff \n#:-'\"[]{}&*!|>%@`,?\\.~0"])
def test_a_character_inserted_anywhere_is_read_right_or_left(char: str) -> None:
    """Each character that means something to YAML, at every place of a manifest the reader
    takes: it reads the result as the quick load does, or leaves it."""
    assert agrees(MANIFEST)
    for at in range(len(MANIFEST) + 1):
        text = MANIFEST[:at] + char + MANIFEST[at:]
        if yamlload._BAD_CHARS.search(text) is None:
            agrees(text)


def test_a_character_deleted_anywhere_is_read_right_or_left() -> None:
    for at in range(len(MANIFEST)):
        agrees(MANIFEST[:at] + MANIFEST[at + 1 :])


_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=24)
    | st.sampled_from(SCALARS + ODD_SCALARS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(_VALUES, min_size=1, max_size=3), ours=st.booleans())
def test_dumped_documents_load_the_same(docs: list[Any], ours: bool) -> None:
    """What ``import`` (our dumper) and libyaml's emitter write, whatever the values."""
    if ours:
        text = manifests.dump_documents([{"v": d} for d in docs])
    else:
        dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump_all(docs, Dumper=dumper, default_flow_style=False, allow_unicode=True)
    if yamlload._BAD_CHARS.search(text) is None:
        agrees(text)
        loads_as_before(text)


# ------------------------------------------------------------------------------ the real files


def _texts(files: list[Path]) -> list[tuple[Path, str]]:
    return [(f, f.read_bytes().decode("utf-8").removeprefix("\ufeff")) for f in files]


EXAMPLES = [f for f in sorted(ROOT.glob("examples/**/*.yaml")) if f.name not in NOT_MANIFESTS]


@pytest.mark.parametrize("file", EXAMPLES, ids=lambda f: str(f.relative_to(ROOT)))
def test_every_example_manifest_takes_the_line_reader(file: Path) -> None:
    ((_, text),) = _texts([file])
    assert agrees(text)
    loads_as_before(text)


@pytest.mark.parametrize("per_document", [True, False])
def test_the_benchmark_manifests_take_the_line_reader(tmp_path: Path, per_document: bool) -> None:
    scenario = Scenario(companies=300, orders=3_000, oa_customers=60, buyers=300)
    write_manifests(scenario, tmp_path, per_document=per_document)
    files = sorted(tmp_path.rglob("*.yaml"))
    assert len(files) > (300 if per_document else 3)
    for file, text in _texts(files):
        assert agrees(text), file
        loads_as_before(text)


def test_the_load_benchmark_manifests_take_the_line_reader() -> None:
    text = manifests.dump_documents(documents(scenario_for(200)))
    assert agrees(text)
    loads_as_before(text)


# ------------------------------------------------------------------------------ examples


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n# only comments\n  # indented\n",
        "---\n",
        "---\n---\n",
        "a: 1\n---\n",
        "# c\n---\na: 1\n--- \n\n---\nb: 2\n",
        "a: 1\nb:\nc: x\n",  # an empty value is null
        "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
        "users:\n- a\n- b\nnext: 1\n",  # a list at its key's indent
        "users:\n  - a\n  -   b\n",
        "- a: 1\n  b: 2\n- c\n-\n- d:\n  - x\n  e: 3\n",
        "-\n  a: 1\n-\n  - x\n- -5\n",
        "-   a: 1\n    b:\n    - z\n",
        "  a: 1\n  b: 2\n",  # the root indented
        "a: 'it''s'\nb: ''\nc: ' x '\nd: '#' # c\ne: \"x: y\"\n",
        "a: x#y\nb: x # comment\nc: 'q'   # c\nd:   # c\n  e: 1\n",
        "a: 1   \nb: text with  spaces   \n",  # trailing spaces
        "n: 010\nh: 0x1F\no: 0o17\nf: 1e3\ng: .5\nt: True\nz: ~\ns: NO\nd: 2024-01-01\n",
        "a:b: c\nurl: http://x/y\nk: a:b\n",
        "1: a\ntrue: b\n~: c\n",  # keys are the text written
        "a: ---\nb: ...\nc: --x\n",
        'l: [404, 405]\nm: {city: Tacoma, zip: "98402"}\ne: []\nf: {}\n',
        "- [a, 'b c', -1]\n- {k: v}  # c\n- k: {x: 1}\n",
        "u: Grüße, 東京 ✓\nv: a, b]\n",
    ],
)
def test_texts_the_line_reader_takes(text: str) -> None:
    assert agrees(text)
    loads_as_before(text)


@pytest.mark.parametrize(
    "text",
    [
        "a:\tb\n",  # tabs
        "a: 1\r\nb: 2\r\n",  # CR
        "a: 1\u2028",
        "a: &x 1\n",  # anchors, aliases, tags
        "a: *x\n",
        "a: !!str 1\n",
        "a: ! 1\n",
        "a: |\n  text\n",  # block scalars
        "a: >\n  text\n",
        "a: b\n  c\n",  # a continuation line
        "a: b\n\n  c\n",
        "- b\n  c\n",
        "a: 'b\n  c'\n",
        'a: "b\\"c"\n',  # escapes
        'a: "b\\nc"\n',
        "? a\n: b\n",  # a complex key
        "<<: {a: 1}\n",  # a merge key
        "a: 1\na: 2\n",  # a duplicate key
        "a: {b: 1, b: 2}\n",
        "'a': 1\n",  # a quoted key
        "%YAML 1.2\n---\na: 1\n",  # a directive
        "a: 1\n...\n",  # a document end
        "--- a: 1\n",  # content after a marker
        "plain scalar\n",  # a scalar as the whole document
        "- - x\n",
        "a: [b, [c]]\n",  # nested flow
        "a: [b,\n  c]\n",  # flow over lines
        "a: [b, c,]\n",
        "a: b: c\n",
        "a: b:\n",
        "a #x: b\n",
        "a:\n    b: 1\n  c: 2\n",  # between two levels
        "  a: 1\nb: 2\n",  # less indented than the root
        "a: 1\n- b\n",
        "- a\nb: 1\n",
        "a: .inf\n",  # not finite: the recording load checks it
        "a: " + "9" * 70 + "\n",  # too large: the recording load refuses it
        "k" * 1001 + ": 1\n",
        "".join(f"{' ' * i}k{i}:\n" for i in range(70)) + " " * 70 + "x: 1\n",  # too deep
        "".join(f"{' ' * i}k{i}:\n" for i in range(63)) + " " * 63 + "x: [1]\n",
        "\ufeffa: 1\n",
    ],
)
def test_texts_the_line_reader_leaves_to_the_parser(text: str) -> None:
    assert fast(text) is None
    loads_as_before(text)


def test_nesting_up_to_the_limit_is_read() -> None:
    text = "".join(f"{' ' * i}k{i}:\n" for i in range(63)) + " " * 63 + "x: 1\n"
    assert agrees(text)
    flow = "".join(f"{' ' * i}k{i}:\n" for i in range(62)) + " " * 62 + "x: [1]\n"
    assert agrees(flow)


def test_remembered_lines_are_forgotten_when_there_are_too_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(yamlfast, "_MAX_LINES", 4)
    reader = yamlfast.BlockReader(yamlload._plain_scalar, yamlload.MAX_DEPTH, 16)
    text = "a: 1\nb: two\nc: [x]\nd:\n- e: 3\n"
    first = reader.roots(text)
    assert len(reader.lines) == 5
    second = reader.roots(text)  # emptied first, then read again
    assert len(reader.lines) == 5
    assert first == second == [(0, {"a": 1, "b": "two", "c": ["x"], "d": [{"e": 3}]}, 1, 1)]
    assert first is not None
    assert second is not None
    assert first[0][1]["c"] is not second[0][1]["c"]
