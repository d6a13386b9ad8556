"""``Console.print_chunks`` writes exactly the bytes ``Console.print`` writes for the joined text
(secrets redacted, symbols and escapes for a stream that cannot encode the text), on every
encoding, while holding back only what it must."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.console import Console

ENCODINGS = ("utf-8", "ascii", "latin-1", "cp1252")


def console(out: io.TextIOBase, secrets: list[str]) -> Console:
    args = argparse.Namespace(verbose=0, no_color=True, timeout=None)
    made = Console(args, out, io.StringIO())  # type: ignore[arg-type]
    made.secrets.extend(secrets)
    return made


def written(encoding: str, secrets: list[str], chunks: list[str], whole: bool) -> bytes:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding=encoding, newline="\n", write_through=True)
    if whole:
        console(out, secrets).print("".join(chunks))
    else:
        console(out, secrets).print_chunks(iter(chunks))
    out.flush()
    return raw.getvalue()


# pieces of text: plain, symbols ``fit`` makes ASCII, other non-ASCII, a lone surrogate (no
# encoding can write it), and the secrets
alphabet = st.sampled_from(["a", "b", " ", '"', ",", "→", "·", "é", "✓", "\u4e2d", "\ud800", "xy"])
secret = st.sampled_from(["ab", "b,a", "→a", "\u4e2d\u4e2d", "zz"])
line = st.lists(alphabet | secret, max_size=8).map("".join)
chunked = st.lists(st.lists(line, min_size=1, max_size=3), min_size=0, max_size=6).map(
    lambda chunks: ["\n".join(c) for c in chunks]
)


def split_before_newlines(chunks: list[str]) -> list[str]:
    """As ``iter_indented`` cuts: every chunk but the first begins with a newline."""
    return [c if i == 0 else "\n" + c for i, c in enumerate(chunks)]


@settings(max_examples=400)
@given(
    st.sampled_from(ENCODINGS),
    st.lists(secret, max_size=2),
    chunked,
    st.booleans(),
)
def test_the_same_bytes_as_print(
    encoding: str, secrets: list[str], chunks: list[str], trailing: bool
) -> None:
    chunks = split_before_newlines(chunks)
    if trailing:
        chunks.append("\n")
    assert written(encoding, secrets, chunks, whole=False) == written(
        encoding, secrets, chunks, whole=True
    )


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_symbol_early_and_an_unencodable_character_late(encoding: str) -> None:
    # the first chunk holds "→" (written as is if all encodes), the last a lone surrogate:
    # print makes the whole text ASCII, so must print_chunks (it held the first chunk back)
    chunks = ['{"a": "x → y"', '\n, "b": "plain"', '\n, "c": "\ud800"', "\n}"]
    got = written(encoding, [], chunks, whole=False)
    assert got == written(encoding, [], chunks, whole=True)
    assert b"->" in got
    assert b"\\ud800" in got


@pytest.mark.parametrize(
    ("first", "seen"),
    [
        ('"item 0"', [b"", b'"item 0"', b'"item 0"\n"item 1"']),  # each written before the next
        ('"→ 0"', [b"", b"", b""]),  # held: a later chunk could make the whole text ASCII
    ],
)
def test_chunks_are_written_as_they_come_unless_they_must_wait(
    first: str, seen: list[bytes]
) -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", newline="\n", write_through=True)
    before_each: list[bytes] = []

    def chunks() -> Iterator[str]:
        for text in (first, '\n"item 1"', '\n"item 2"'):
            before_each.append(raw.getvalue())
            yield text

    console(out, ["s3cret"]).print_chunks(chunks())
    assert before_each == seen
    assert raw.getvalue() == (first + '\n"item 1"\n"item 2"\n').encode()


def test_a_secret_with_a_newline_is_redacted_from_the_whole_text() -> None:
    chunks = ['{"a": "to', 'k\nen"}']  # split where a secret with a newline spans the cut
    got = written("utf-8", ["tok\nen"], chunks, whole=False)
    assert got == b'{"a": "***"}\n'


def test_a_stream_without_an_encoding_gets_the_text_as_it_is() -> None:
    out = io.StringIO()
    console(out, ["ab"]).print_chunks(["x → ab", "\n\ud800"])
    assert out.getvalue() == "x → ***\n\ud800\n"
