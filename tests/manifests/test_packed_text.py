"""A file's text kept for its error locations (`yamlload._Source`) comes back exactly: kept on a
shelf (`reconciler.textshelf`), many texts compressed to a block with a zlib window fitted to its
size."""

from __future__ import annotations

import random
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import textshelf, yamlload


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=5000) | st.sampled_from([b"", b"a", b"x" * 512, b"y" * 513]))
def test_packed_bytes_come_back(data: bytes) -> None:
    packed = textshelf.pack(data)
    assert zlib.decompress(packed) == data


def test_a_large_text_is_packed_as_small_as_with_the_largest_window() -> None:
    text = "".join(f"key{i}: value {i % 97}\n" for i in range(20_000)).encode()
    assert len(textshelf.pack(text)) <= len(zlib.compress(text, 1))


def test_a_documents_locations_come_from_its_packed_text() -> None:
    text = "apiVersion: b2b.reconciler/v1\nkind: Company\nmetadata:\n  name: acme\n"
    loaded = yamlload.load_text(text, "acme.yaml")
    (doc,) = loaded.documents
    source = doc._source
    assert source is not None
    assert source.text == text


@settings(max_examples=100, deadline=None)
@given(
    texts=st.lists(st.text(max_size=300) | st.sampled_from(["", "a: 1\n", "é\u6771\U0001f600"])),
    block=st.integers(min_value=1, max_value=2000),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_texts_on_a_shelf_come_back_exactly(texts: list[str], block: int, seed: int) -> None:
    shelf = textshelf.Shelf(block)
    kept = [shelf.keep(text) for text in texts]
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)  # asked for in any order, sealed blocks or the open one
    for i in order:
        where, index = kept[i]
        assert where.text(index) == texts[i]
    for where, _index in kept:
        assert where.sealed == (sum(len(t) for t in where_texts(kept, texts, where)) >= block)


def where_texts(
    kept: list[tuple[textshelf.Block, int]], texts: list[str], block: object
) -> list[str]:
    return [text for (where, _i), text in zip(kept, texts, strict=True) if where is block]


def test_many_files_share_a_compressed_block() -> None:
    texts = [
        f"apiVersion: b2b.reconciler/v1\nkind: Company\nmetadata:\n  name: c-{i}\n"
        for i in range(3000)
    ]
    loaded = [yamlload.load_text(text, f"c-{i}.yaml") for i, text in enumerate(texts)]
    sources = [file.documents[0]._source for file in loaded]
    assert all(source is not None for source in sources)
    blocks = {id(source._block) for source in sources if source is not None}
    assert len(blocks) < 10  # 3,000 files, a few blocks
    assert sum(1 for source in sources if source is not None and source._block.sealed) > 2000
    for text, source in zip(texts, sources, strict=True):
        assert source is not None
        assert source.text == text
    assert loaded[1234].documents[0].key_loc(("metadata", "name")).line == 4
