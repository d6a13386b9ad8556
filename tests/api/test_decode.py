"""Every documented response variant (b2b-api.md §1, §3, §5, §7) decodes to the same clean value.

These are the pure decoding rules, fed the documented example bodies; the same reads against
the sandbox under each quirk switch are in ``test_client.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.api import decode
from reconciler.api.pacing import parse_allocation, parse_number
from reconciler.api.transport import api_message
from reconciler.errors import ApiError
from reconciler.model import ExtraFieldConfig, LiveCompany, LiveOrder, PriceListAssignment

V0_COMPANY: dict[str, Any] = {
    "companyId": "147340",
    "companyName": "Glam Squad",
    "bcGroupName": "salons",
    "companyStatus": "1",
    "companyEmail": "support@bundleb2b.net",
    "companyPhone": "123456789",
    "uuid": "",
    "catalogId": "",
    "catalogName": "",
    "updatedAt": "1618794615",
    "createdAt": "1618787774",
    "extraFields": [
        {
            "dataType": "2",
            "fieldType": 2,
            "fieldName": "extraStr1",
            "fieldValue": "extra_text",
            "isRequired": "0",
            "labelName": "Enter your license",
        }
    ],
    "bcGroupId": "1",
}

STRICT_COMPANY: dict[str, Any] = {
    **V0_COMPANY,
    "companyId": 147340,
    "companyStatus": 1,
    "updatedAt": 1618794615,
    "createdAt": 1618787774,
    "bcGroupId": 1,
    "uuid": None,
    "catalogId": None,
}

EXPECTED_COMPANY = LiveCompany(
    company_id=147340,
    customer_group_id=1,
    company_name="Glam Squad",
    company_email="support@bundleb2b.net",
    company_phone="123456789",
    status="approved",
    uuid="",
    catalog_id="",
    extra_fields={"extraStr1": "extra_text"},
    updated_at=1618794615,
)


@pytest.mark.parametrize("obj", [V0_COMPANY, STRICT_COMPANY], ids=["strings", "integers"])
def test_company_variants_decode_the_same(obj: dict[str, Any]) -> None:
    assert decode.company(obj) == EXPECTED_COMPANY


def test_company_status_codes_and_deleted() -> None:
    names = [decode.company({**V0_COMPANY, "companyStatus": s}).status for s in "01234"]
    assert names == ["pending", "approved", "rejected", "inactive", "deleted"]


def test_company_catalog_and_price_lists() -> None:
    obj = {
        **V0_COMPANY,
        "catalogId": 7,
        "priceListAssign": [
            {"channelId": "1", "priceListId": 7, "priceListName": "W", "channelName": "S"},
            {"channelId": 2, "priceListId": "8"},
        ],
    }
    company = decode.company(obj)
    assert company.catalog_id == "7"
    assert company.price_list_assign == (
        PriceListAssignment(channel_id=1, price_list_id=7),
        PriceListAssignment(channel_id=2, price_list_id=8),
    )


def test_company_without_group_and_with_address() -> None:
    obj = {**V0_COMPANY, "bcGroupId": 0, "addressLine1": "1 Main St", "country": "US"}
    company = decode.company(obj)
    assert company.customer_group_id is None
    assert company.address == {"addressLine1": "1 Main St", "country": "US"}
    assert decode.company({**V0_COMPANY, "bcGroupId": ""}).customer_group_id is None


def test_company_extra_values_numbers_become_text() -> None:
    obj = {**V0_COMPANY, "extraFields": [{"fieldName": "n", "fieldValue": 42}]}
    assert decode.company(obj).extra_fields == {"n": "42"}
    assert decode.extra_values({"a": 1.0, "b": None}) == {"a": "1", "b": ""}


def test_bad_company_id_is_an_api_error() -> None:
    with pytest.raises(ApiError, match="companyId"):
        decode.company({**V0_COMPANY, "companyId": "abc"})


ORDER_LIST_ITEM: dict[str, Any] = {
    "id": 12345,
    "bcOrderId": 123,
    "totalIncTax": 2210.47,
    "poNumber": "04152025-0002",
    "status": "Awaiting Payment",
    "companyId": 12345,
    "currencyCode": "USD",
    "statusCode": 7,
    "extraFields": [{"fieldName": "costCenter", "fieldValue": "CC-1"}],
    "createdAt": 1574999690,
    "updatedAt": 1574999691,
}


def test_order_detail_object_or_array() -> None:
    as_object = {"code": 200, "data": ORDER_LIST_ITEM, "meta": {"message": "SUCCESS"}}
    as_array = {"code": 200, "data": [ORDER_LIST_ITEM], "message": "SUCCESS"}
    expected = LiveOrder(
        bc_order_id=123,
        company_id=12345,
        po_number="04152025-0002",
        extra_fields={"costCenter": "CC-1"},
        updated_at=1574999691,
        created_at=1574999690,
    )
    assert decode.order(decode.one(as_object, "order")) == expected
    assert decode.order(decode.one(as_array, "order")) == expected


@pytest.mark.parametrize("value", [None, 0, "0", ""])
def test_order_without_company(value: object) -> None:
    order = decode.order({**ORDER_LIST_ITEM, "companyId": value, "poNumber": None})
    assert order.company_id is None
    assert order.po_number == ""


def test_list_totals_nested_or_flat() -> None:
    nested = {"data": [], "meta": {"pagination": {"totalCount": 989, "limit": 10, "offset": 1}}}
    flat = {"data": [], "meta": {"totalCount": 989, "limit": 10, "offset": 1}}
    assert decode.total_count(nested) == decode.total_count(flat) == 989
    assert decode.total_count({"data": []}) is None


def test_extra_field_config_spellings() -> None:
    company_style = {
        "id": 1,
        "uuid": "x",
        "fieldName": "tier",
        "fieldType": 3,
        "isRequired": True,
        "isUnique": False,
        "labelName": "Tier",
        "maximumLength": "100",
        "maximumValue": "",
        "listOfValue": ["gold", "silver"],
    }
    order_style = {
        **{k: v for k, v in company_style.items() if k != "listOfValue"},
        "uuid": 1,
        "maximumLength": 100,
        "maximumValue": None,
        "listOfValues": ["gold", "silver"],
    }
    expected = ExtraFieldConfig(
        name="tier",
        field_type=3,
        required=True,
        max_length=100,
        list_of_values=("gold", "silver"),
        label="Tier",
    )
    assert decode.extra_field_config(company_style) == expected
    assert decode.extra_field_config(order_style) == expected
    numeric = decode.extra_field_config({"fieldName": "n", "fieldType": 2, "maximumValue": "9.5"})
    assert numeric.maximum_value == 9.5
    assert numeric.max_length is None


@pytest.mark.parametrize(
    "data",
    [
        {"companyId": "147340"},
        {"companyId": 147340},
        [{"companyId": "147340"}],
        {"code": 200, "data": {"companyId": 147340, "customerId": 1}, "meta": {}},
    ],
)
def test_created_company_id(data: object) -> None:
    assert decode.created_company_id(data) == 147340


def test_user_row() -> None:
    row = {"id": 9, "customerId": "321", "companyId": 1001, "updatedAt": 1700000000}
    assert decode.user(row) == (321, 1001, 1700000000)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"code": 404, "data": {}, "meta": {"message": "This resource is not found."}},
            "This resource is not found.",
        ),
        (
            {
                "code": 422,
                "meta": {"message": "Parameter Error"},
                "data": {
                    "errMsg": {
                        "email": ["Enter a valid email address."],
                        "role": ['The value "5" is not a valid role.'],
                    }
                },
            },
            'email: Enter a valid email address.; role: The value "5" is not a valid role.',
        ),
        (
            {
                "code": 422,
                "meta": {"message": "Parameter Error"},
                "data": {"errMsg": {"roles": {"0": ['"99" is not a valid choice.']}}},
            },
            'roles.0: "99" is not a valid choice.',
        ),
        (
            {
                "code": 422,
                "meta": {"message": "Processing data contains logical errors"},
                "data": {"errMsg": "The last user in company can not be deleted."},
            },
            "The last user in company can not be deleted.",
        ),
        (
            {
                "status": 404,
                "title": "Parameter Error.",
                "errors": {"1": "Company does not exist."},
            },
            "Company does not exist.",
        ),
        (
            {"code": 403, "message": "Multi storefront is not enabled"},
            "Multi storefront is not enabled",
        ),
        (
            [{"status": 400, "message": "The field 'name' is invalid."}],
            "The field 'name' is invalid.",
        ),
        ({"title": "Not Found"}, "Not Found"),
        (
            {
                "code": 409,
                "data": {"errors": [{"id": "42", "_detail": "duplicate name"}]},
                "meta": {"message": "Company was in conflict with another company."},
            },
            "Company was in conflict with another company. (42: duplicate name)",
        ),
        (None, ""),
    ],
)
def test_api_message_shapes(body: object, message: str) -> None:
    assert api_message(body) == message


def test_header_values() -> None:
    assert parse_allocation("150 times/60 s") == (150, 60.0)
    assert parse_allocation("150 times/6 s") == (150, 6.0)
    assert parse_allocation("10 times/1.5 s") == (10, 1.5)
    assert parse_allocation("garbage") is None
    assert parse_number("12 times") == 12
    assert parse_number("0.3973509933774834 s") == pytest.approx(0.397, abs=0.001)
    assert parse_number(None) is None
