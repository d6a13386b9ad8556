"""The snapshot's compact forms: packed int columns, ``IdSet``, ``UserRows`` and the live lists
as columns (``reconciler.packed``, ``reconciler.livecolumns``): each reads back exactly what
was written, behaves as the set or mapping it replaces, and a damaged column is refused with a
message naming it."""

from __future__ import annotations

import base64
import json
import zlib
from array import array
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reconciler import snapshot
from reconciler.livecolumns import (
    ColumnError,
    companies_from,
    companies_json,
    customers_from,
    customers_json,
    orders_from,
    orders_json,
)
from reconciler.model import (
    LiveCompany,
    LiveCustomer,
    LiveOrder,
    LiveState,
    PriceListAssignment,
)
from reconciler.packed import (
    IdSet,
    UserRows,
    ids_or_none,
    listed_rows_or_none,
    pack,
    rows_or_none,
    unpack,
)

INT64 = st.integers(min_value=-(2**62), max_value=2**62 - 1)
"""Values whose every difference fits in 8 signed bytes (2**62 - -(2**62) would be 2**63)."""


@given(st.lists(INT64, max_size=300))
@example([-(2**62), 2**62 - 1])  # the widest difference: 2**63 - 1
@settings(max_examples=200)
def test_a_packed_column_reads_back_exactly(values: list[int]) -> None:
    text = pack(values)
    assert text.isascii()
    assert list(unpack(text, "col", len(values))) == values
    assert list(unpack(text, "col")) == values


@pytest.mark.parametrize("level", [1, 6, 9])
def test_a_column_packed_at_any_zlib_level_reads_back_the_same(level: int) -> None:
    # snapshots written before (level 6) read as they always did
    values = [7, 7, 10**12, -3, *range(50, 90)]
    deltas = array("q", [values[0]] + [b - a for a, b in pairwise(values)])
    text = base64.b64encode(zlib.compress(deltas.tobytes(), level)).decode("ascii")
    assert list(unpack(text, "col", len(values))) == values


def test_sorted_ids_pack_small() -> None:
    ids = range(1_000_001, 1_500_001)
    assert len(pack(ids)) < 20_000  # 500,000 ids; 4 MB as machine ints, ~4 MB of JSON digits


@pytest.mark.parametrize(
    ("text", "count", "message"),
    [
        (7, 1, "col: expected a packed column (a string)"),
        ("not base64!", 1, "col: not a packed column"),
        ("aGVsbG8=", 1, "col: not a packed column"),  # base64, not zlib
        (pack([1, 2, 3]), 2, "col: 3 values where 2 were expected"),
        ("é", 1, "col: not a packed column"),
    ],
)
def test_a_damaged_column_is_refused(text: Any, count: int, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        unpack(text, "col", count)


def test_a_column_whose_sum_overflows_is_refused() -> None:
    text = pack([2**62, 2**62])  # deltas 2**62, 0: fine
    assert list(unpack(text, "col")) == [2**62, 2**62]
    with pytest.raises(OverflowError):
        pack([-(2**62), 2**62 + 2**61])  # the difference does not fit in 8 bytes


@given(st.sets(st.integers(min_value=-(2**40), max_value=2**40), max_size=200), st.data())
@settings(max_examples=200)
def test_an_id_set_is_the_set_it_replaces(ids: set[int], data: st.DataObject) -> None:
    got = IdSet(ids)
    assert len(got) == len(ids)
    assert list(got) == sorted(ids)
    assert got == frozenset(ids)
    assert frozenset(ids) == got
    probes = data.draw(st.lists(st.integers(min_value=-(2**40), max_value=2**40), max_size=20))
    for probe in [*probes, *list(ids)[:20]]:
        assert (probe in got) == (probe in ids)
    assert "1" not in got
    assert 1.0 not in got
    more = data.draw(st.lists(st.integers(min_value=-(2**40), max_value=2**40), max_size=30))
    merged = got.with_ids(more)
    assert list(merged) == sorted(ids | set(more))
    assert list(got) == sorted(ids)  # unchanged
    assert IdSet.of_sorted(unpack(got.packed(), "ids"), "ids") == got


@given(
    st.sets(st.integers(min_value=0, max_value=3000), max_size=1500),
    st.sets(st.integers(min_value=0, max_value=3000), max_size=40),
    st.sets(st.integers(min_value=0, max_value=3000), max_size=40),
    st.booleans(),
)
@settings(max_examples=200)
def test_lacking_is_the_difference(
    ids: set[int], dropped: set[int], added: set[int], shuffled: bool
) -> None:
    """``IdSet.lacking``: the values of another list (mostly the same ids, ascending, with a
    few dropped and a few added: the core orders against the B2B ones; or in any order) that
    the set lacks, whichever block comparisons it skips."""
    have = IdSet(ids - dropped)
    theirs = sorted((ids | added) - (dropped & added))
    if shuffled:
        theirs = theirs[::2] + theirs[1::2]
    expected = [v for v in theirs if v not in ids - dropped]
    assert have.lacking(theirs) == expected
    assert have.lacking(array("q", theirs)) == expected
    assert have.lacking(IdSet(theirs)) == sorted(expected)


def test_ids_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="ids not in strictly ascending order"):
        IdSet.of_sorted(array("q", [1, 3, 2]), "ids")
    with pytest.raises(ValueError, match="ids not in strictly ascending order"):
        IdSet.of_sorted(array("q", [1, 1]), "ids")


ROWS = st.dictionaries(
    st.integers(min_value=1, max_value=10_000),
    st.tuples(st.none() | st.integers(min_value=0, max_value=500), st.integers(0, 2**40)),
    max_size=80,
)


@given(ROWS, ROWS)
@settings(max_examples=200)
def test_user_rows_are_the_mapping_they_replace(
    rows: dict[int, tuple[int | None, int]], changes: dict[int, tuple[int | None, int]]
) -> None:
    got = UserRows(rows)
    assert got == rows
    assert dict(got.items()) == rows
    assert len(got) == len(rows)
    assert list(got) == sorted(rows)
    for key in [*rows, 0, 10_001, "1"]:
        assert (key in got) == (key in rows)
        assert got.get(key) == rows.get(key)  # type: ignore[call-overload]
    keys, companies, updated, nulls = got.columns()
    back = UserRows.from_columns(keys, companies, updated, nulls)
    assert back == rows
    after = got.updated(changes)
    assert after == {**rows, **changes}
    assert got == rows  # unchanged
    existing = {k: v for k, v in changes.items() if k in rows}
    assert got.updated(existing) == {**rows, **existing}


def test_user_rows_columns_are_checked() -> None:
    with pytest.raises(ValueError, match="columns of different lengths"):
        UserRows.from_columns(array("q", [1, 2]), array("q", [1]), array("q", [1, 2]), [])
    with pytest.raises(ValueError, match="not in strictly ascending order"):
        UserRows.from_columns(array("q", [2, 1]), array("q", [1, 1]), array("q", [1, 2]), [])
    with pytest.raises(ValueError, match="index of no company out of range"):
        UserRows.from_columns(array("q", [1]), array("q", [0]), array("q", [1]), [1])


def _companies() -> list[LiveCompany]:
    return [
        LiveCompany(
            company_id=100 + i,
            customer_group_id=None if i == 3 else i,
            company_name=f"Company {i} ✓",
            company_email=f"a{i}@example.com",
            company_phone="555-0100",
            status="approved" if i % 2 else "pending",
            uuid="u-1" if i == 2 else "",
            catalog_id="1",
            price_list_assign=(PriceListAssignment(1, 7),) if i == 4 else (),
            extra_fields={"tier": "Gold", "licenseNo": f"L{i}"} if i % 3 else {},
            address={"city": "Austin"} if i == 1 else {},
            updated_at=1_700_000_000 - i,
        )
        for i in range(6)
    ]


def _orders() -> list[LiveOrder]:
    return [
        LiveOrder(
            bc_order_id=5000 + i,
            company_id=None if i % 4 == 0 else 100 + i % 6,
            po_number="PO-1" if i == 5 else "",
            extra_fields={"note": "x"} if i == 6 else {},
            updated_at=1_700_000_000 + i,
            created_at=1_600_000_000 + i,
        )
        for i in range(9)
    ]


def _customers() -> list[LiveCustomer]:
    return [
        LiveCustomer(customer_id=1, company_id=101, user_updated_at=5, order_ids=(5001, 5002)),
        LiveCustomer(customer_id=2, company_id=None, user_updated_at=None, order_ids=()),
        LiveCustomer(customer_id=3, company_id=None, order_ids=(5003, 9999), email="c@x.org"),
    ]


def _through_json(value: dict[str, Any]) -> Any:
    plain = {k: list(v) if hasattr(v, "make") else v for k, v in value.items()}
    return json.loads(json.dumps(plain))


def test_the_live_lists_read_back_from_their_columns() -> None:
    companies, orders, customers = _companies(), _orders(), _customers()
    back = companies_from(_through_json(companies_json(companies)), "c")
    assert back == tuple(companies)
    same = {c.company_id: c.company_id for c in back}
    got_orders = orders_from(_through_json(orders_json(orders)), "o", same)
    assert got_orders == {o.bc_order_id: o for o in orders}
    got_customers = customers_from(_through_json(customers_json(customers)), "u", got_orders)
    assert got_customers == {c.customer_id: c for c in customers}
    # shared, not one more object each: repeated strings, empty mappings, the company's int
    assert back[0].company_phone is back[1].company_phone
    assert back[0].extra_fields is back[3].extra_fields == {}
    assert back[1].extra_fields["tier"] is back[2].extra_fields["tier"]
    order = got_orders[5001]
    assert order.company_id is next(c.company_id for c in back if c.company_id == 101)
    assert got_customers[1].order_ids[0] is order.bc_order_id


def test_no_columns_no_objects() -> None:
    assert companies_from(_through_json(companies_json([])), "c") == ()
    assert orders_from(_through_json(orders_json([])), "o") == {}
    assert customers_from(_through_json(customers_json([])), "u") == {}


def _spoiled(change: Any) -> dict[str, Any]:
    data = _through_json(orders_json(_orders()))
    change(data)
    return dict(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("updatedAt"), "o.updatedAt: missing"),
        (lambda d: d.update(extra=1), "o: unknown column 'extra'"),
        (lambda d: d.update(count="9"), "o.count: expected a count"),
        (lambda d: d.update(companyId=pack([1])), "o.companyId: expected {values, nullAt}"),
        (lambda d: d.update(poNumber=[[99, "x"]]), "o.poNumber: index 99 out of range"),
        (lambda d: d.update(poNumber=[[1, 5]]), r"o.poNumber\[1\]: expected a string, found int"),
        (lambda d: d.update(poNumber={"1": "x"}), "o.poNumber: expected"),
        (lambda d: d.update(extraFields=[[1, {"a": 1}]]), "o.extraFields\\[1\\].a: expected a"),
        (lambda d: d.update(bcOrderId=pack([1] * 9)), "o.bcOrderId: order 1 twice"),
        (
            lambda d: d.update(companyId={"values": pack([1] * 9), "nullAt": pack([9])}),
            "o.companyId.nullAt: an index out of range",
        ),
    ],
)
def test_a_damaged_list_is_refused_naming_the_column(change: Any, message: str) -> None:
    with pytest.raises(ColumnError, match=message):
        orders_from(_spoiled(change), "o")


def test_a_damaged_company_column_is_refused() -> None:
    data = _through_json(companies_json(_companies()))
    data["priceListAssign"] = [[0, [[1, "7"]]]]
    with pytest.raises(ColumnError, match=r"c.priceListAssign\[0\]: expected \[\[channelId"):
        companies_from(data, "c")
    data = _through_json(companies_json(_companies()))
    data["status"] = data["status"][:-1]
    with pytest.raises(ColumnError, match=r"c\.status: expected 6 strings"):
        companies_from(data, "c")


def test_a_number_beyond_8_bytes_keeps_its_part_out_of_the_snapshot(tmp_path: Path) -> None:
    """No real id or time needs more than 8 bytes; an answer with one is read as it is, but
    the snapshot does not hold it (the next read lists that part again), and a snapshot that
    cannot be packed is not written, with the reason."""
    assert ids_or_none([1, 2**63]) is None
    assert ids_or_none([1, 2**63 - 1]) == {1, 2**63 - 1}
    assert rows_or_none({1: (None, 2**64)}) is None
    assert rows_or_none({1: (None, 5)}) == {1: (None, 5)}
    rows = UserRows({1: (2, 3)})
    with pytest.raises(OverflowError):
        rows.updated({1: (2, 2**70)})
    with pytest.raises(OverflowError):
        IdSet([1]).with_ids([2**70])
    order = LiveOrder(bc_order_id=1, company_id=None, updated_at=2**70)
    snap = snapshot.Snapshot(
        store_hash="s1", taken_at=1, live=LiveState(store_hash="s1", orders={1: order})
    )
    reason = snapshot.save(str(tmp_path), snap)
    assert reason.endswith("not written: a number read does not fit in 8 bytes"), reason
    assert not list(tmp_path.iterdir())  # no file, no temporary left


@given(st.lists(st.tuples(st.integers(1, 50), st.none() | st.integers(1, 9), st.integers(0, 99))))
def test_rows_from_a_listing_keep_the_last_row_of_a_customer(
    listed: list[tuple[int, int | None, int]],
) -> None:
    expected = {c: (company, at) for c, company, at in listed}
    assert UserRows.of_rows(listed) == expected
    assert listed_rows_or_none(listed) == expected
    assert listed_rows_or_none([(1, None, 2**63)]) is None
