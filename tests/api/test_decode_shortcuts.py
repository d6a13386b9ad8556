"""The decoders' shortcuts for the commonest answers (an int or a string of digits for an id or
a time, ``"1"`` for a status, a plain list of plain objects) give what the full checks give,
for every value: the same result or the same error. Hostile values are drawn at random."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.api import decode
from reconciler.model import COMPANY_STATUSES, status_name

digit_strings = st.text(st.sampled_from("0123456789"), min_size=0, max_size=24)
hostile = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**53 - 3, max_value=2**53 + 3).flatmap(
        lambda n: st.sampled_from([n, -n, str(n)])
    )
    | st.floats()
    | digit_strings
    | digit_strings.map(lambda s: f" {s} ")
    | digit_strings.map(lambda s: "-" + s)
    | st.sampled_from(["", " ", "1.5", "1e3", "٣", "²", "1_000", "+7", "0x10", "nan", "inf"])
    | st.text(max_size=6)
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=2), st.integers(), max_size=2)
)


def outcome(call: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "value", call(*args)
    except decode.DecodeError as exc:
        return "error", str(exc)


@settings(max_examples=1000)
@given(hostile)
def test_timestamps_and_ids_are_what_the_full_checks_make_of_them(value: Any) -> None:
    assert outcome(decode.timestamp, value) == outcome(decode._any_timestamp, value)
    assert outcome(decode._id_value, value) == outcome(decode._any_id, value)


@settings(max_examples=1000)
@given(hostile | st.sampled_from([*range(-1, len(COMPANY_STATUSES) + 1), "1", "4", " 1", "01"]))
def test_statuses_are_what_the_full_checks_make_of_them(value: Any) -> None:
    assert outcome(decode.status, value) == outcome(
        lambda v: status_name(decode.req_int(v, "companyStatus")), value
    )


@settings(max_examples=1000)
@given(hostile, hostile, st.sampled_from([frozenset(), frozenset({5, 12})]))
def test_orders_check_their_ids_as_req_id_and_order_company_do(
    order_id: Any, company: Any, wanted: frozenset[int]
) -> None:
    row = {"bcOrderId": order_id, "companyId": company}
    expected_id = outcome(decode.req_id, order_id, "bcOrderId")
    expected_company = outcome(decode.order_company, company)
    got = outcome(decode.order, row)
    if expected_id[0] == "error":
        assert got == expected_id
    elif expected_company[0] == "error":
        assert got == expected_company
    else:
        assert got[0] == "value"
        assert (got[1].bc_order_id, got[1].company_id) == (expected_id[1], expected_company[1])
    listed = outcome(decode.order_if_wanted, row, wanted)
    if got[0] == "error":
        assert listed == got
    else:
        assert listed == ("value", got[1] if got[1].bc_order_id in wanted else got[1].bc_order_id)


@settings(max_examples=1000)
@given(hostile, hostile, hostile)
def test_user_rows_are_what_the_full_checks_make_of_them(
    customer: Any, company: Any, updated: Any
) -> None:
    row = {"customerId": customer, "companyId": company, "updatedAt": updated}
    expected = [
        outcome(decode.req_id, customer, "customerId"),
        outcome(decode.opt_id, company, "user companyId"),
        outcome(decode._any_timestamp, updated),
    ]
    error = next((got for got in expected if got[0] == "error"), None)
    full = error or ("value", tuple(got[1] for got in expected))
    assert outcome(decode.user, row) == full


def test_the_documented_answers_take_the_shortcuts() -> None:
    # (else the equalities above would prove nothing about the shortcuts)
    assert decode.timestamp("1618794615") == 1618794615
    assert decode._id_value("147340") == 147340
    assert decode.status("1") == decode.status(1) == "approved"
    company = decode.company({"companyId": "147340", "companyStatus": "1", "bcGroupId": 7})
    assert (company.company_id, company.customer_group_id) == (147340, 7)
    assert company.status == "approved"


@pytest.mark.parametrize(
    "data",
    [[{"a": 1}, {"b": 2}], [], [{"a": 1}, [1]], [{"a": 1}, None], [{"a": 1}, "x"]],
)
def test_items_keeps_a_list_of_objects_and_refuses_anything_else(data: list[Any]) -> None:
    if all(isinstance(row, dict) for row in data):
        assert decode.items({"data": data}, "things") == data
    else:
        with pytest.raises(decode.DecodeError, match="things: expected a list of objects"):
            decode.items({"data": data}, "things")
