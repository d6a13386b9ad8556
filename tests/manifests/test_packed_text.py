"""A file's text kept for its error locations (`yamlload._Source`) comes back exactly, packed
with a zlib window fitted to its size."""

from __future__ import annotations

import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import yamlload


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=5000) | st.sampled_from([b"", b"a", b"x" * 512, b"y" * 513]))
def test_packed_bytes_come_back(data: bytes) -> None:
    packed = yamlload._pack(data)
    assert zlib.decompress(packed) == data


def test_a_large_text_is_packed_as_small_as_with_the_largest_window() -> None:
    text = "".join(f"key{i}: value {i % 97}\n" for i in range(20_000)).encode()
    assert len(yamlload._pack(text)) <= len(zlib.compress(text, 1))


def test_a_documents_locations_come_from_its_packed_text() -> None:
    text = "apiVersion: b2b.reconciler/v1\nkind: Company\nmetadata:\n  name: acme\n"
    loaded = yamlload.load_text(text, "acme.yaml")
    (doc,) = loaded.documents
    source = doc._source
    assert source is not None
    assert source.text == text
