"""Companies (b2b-api.md §3) against the in-process sandbox."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest


def _company(api: httpx.Client, company_id: int | str) -> dict[str, Any]:
    response = api.get(f"/companies/{company_id}")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()["data"]
    return data


def test_list_shape_and_types(api: httpx.Client) -> None:
    """§1.1, §3.3: envelope, meta.pagination, docs:v0 types, extraFields omitted by default."""
    response = api.get("/companies")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == 200
    assert body["meta"] == {
        "message": "SUCCESS",
        "pagination": {"totalCount": 2, "limit": 10, "offset": 0},
    }
    first = body["data"][0]
    assert first["companyId"] == "1002"  # default sort: updatedAt DESC
    assert first["companyStatus"] == "0"
    assert first["bcGroupId"] == 13  # integer in the list
    assert first["bcGroupName"] == "Beta"
    assert first["uuid"] == ""
    assert first["catalogId"] == ""
    assert first["catalogName"] == ""
    assert isinstance(first["createdAt"], str)
    assert first["createdAt"].isdigit()
    assert first["priceListAssign"] == []
    assert "extraFields" not in first
    for absent in ("customerGroupId", "addressLine1", "country", "zipCode"):
        assert absent not in first


def test_list_extra_fields_only_when_asked(api: httpx.Client) -> None:
    """§3.2: isIncludeExtraFields=1 adds extraFields in the §3.3 item shape."""
    data = api.get("/companies", params={"isIncludeExtraFields": "1"}).json()["data"]
    acme = next(c for c in data if c["companyId"] == "1001")
    assert acme["extraFields"] == [
        {
            "fieldName": "licenseNo",
            "fieldValue": "42",
            "labelName": "licenseNo",
            "isRequired": "0",
            "dataType": "0",
            "fieldType": 0,
        }
    ]
    assert api.get("/companies", params={"isIncludeExtraFields": "2"}).status_code == 422


def test_pagination_edges(make_sandbox: Any, kit: Any) -> None:
    """§1.2: limit default 10, max 250 -> 413 with the documented body, offset past the end."""
    seed = kit.seed()
    seed["companies"] += [
        {"companyId": 2000 + i, "companyName": f"Co {i:02d}", "updatedAt": kit.NOW - i}
        for i in range(11)
    ]
    with kit.client(make_sandbox(seed)) as api:
        page = api.get("/companies").json()
        assert len(page["data"]) == 10
        assert page["meta"]["pagination"] == {"totalCount": 13, "limit": 10, "offset": 0}
        tail = api.get("/companies", params={"offset": 10}).json()
        assert len(tail["data"]) == 3
        past = api.get("/companies", params={"offset": 50}).json()
        assert past["data"] == []
        assert past["meta"]["pagination"] == {"totalCount": 13, "limit": 10, "offset": 50}
        assert len(api.get("/companies", params={"limit": 250}).json()["data"]) == 13
        too_many = api.get("/companies", params={"limit": 251})
        assert too_many.status_code == 413
        assert too_many.json() == {
            "code": 413,
            "meta": {"message": "Request Entity Too Large"},
            "data": {},
        }
        assert api.get("/companies", params={"limit": 0}).status_code == 422
        assert api.get("/companies", params={"limit": "ten"}).status_code == 422


def test_sorting_and_filters(api: httpx.Client, kit: Any) -> None:
    """§3.2: sortBy/orderBy, q, companyStatus, bcGroupId, customerId, dates, extraFields."""

    def ids(**params: Any) -> list[str]:
        response = api.get("/companies", params=params)
        assert response.status_code == 200, response.text
        return [c["companyId"] for c in response.json()["data"]]

    assert ids() == ["1002", "1001"]
    assert ids(orderBy="ASC") == ["1001", "1002"]
    assert ids(sortBy="companyName", orderBy="ASC") == ["1001", "1002"]
    assert ids(sortBy="companyName") == ["1002", "1001"]
    assert ids(q="cm") == ["1001"]
    assert ids(q="BET") == ["1002"]
    assert ids(companyStatus=0) == ["1002"]
    assert ids(bcGroupId=12) == ["1001"]
    assert ids(customerId=322) == ["1002"]
    assert ids(customerId=400) == []
    assert ids(minModified=kit.NOW - 20 * kit.DAY) == ["1002"]
    assert ids(maxModified=kit.NOW - 20 * kit.DAY) == ["1001"]
    assert ids(minCreated=kit.NOW - 95 * kit.DAY) == ["1002"]
    assert ids(extraFields="licenseNo:4") == ["1001"]
    assert ids(extraFields="licenseNo:4", extraFieldFilterType="exact-match") == []
    assert ids(extraFields="licenseNo:42", extraFieldFilterType="exact-match") == ["1001"]
    assert ids(bcOrderId=5003) == ["1002"]
    assert api.get("/companies", params={"sortBy": "companyId"}).status_code == 422


def test_detail(api: httpx.Client) -> None:
    """§3.3: the detail has bcGroupId as a string and always includes extraFields."""
    data = _company(api, 1001)
    assert data["companyId"] == "1001"
    assert data["bcGroupId"] == "12"
    assert data["companyName"] == "Acme"
    assert data["extraFields"][0]["fieldValue"] == "42"
    assert "country" not in data


def test_detail_404(api: httpx.Client) -> None:
    """§1.3: the company 404 body (ERROR_404_Data)."""
    response = api.get("/companies/999")
    assert response.status_code == 404
    assert response.json() == {
        "code": 404,
        "data": {},
        "meta": {"message": "This resource is not found."},
    }
    assert api.put("/companies/999", json={"companyName": "X"}).status_code == 404


def test_create_dependent(api: httpx.Client, kit: Any) -> None:
    """§3.4, §3.8: Dependent create makes a group named after the company; customerGroupId
    is ignored; uuid cannot be set; the admin becomes a new customer and company user."""
    body = kit.new_company(customerGroupId=20, uuid="ERP-1")
    response = api.post("/companies", json=body)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert response.json()["meta"] == {"message": "SUCCESS"}
    assert all(isinstance(data[k], int) for k in ("companyId", "customerId", "customerGroupId"))
    assert data["customerGroupId"] not in (12, 13, 20)
    detail = _company(api, data["companyId"])
    assert detail["bcGroupName"] == "Gamma"
    assert detail["bcGroupId"] == str(data["customerGroupId"])
    assert detail["uuid"] == ""
    assert detail["catalogId"] == "7"
    assert detail["catalogName"] == "Wholesale"
    user = api.get(f"/users/customer/{data['customerId']}").json()["data"]
    assert user["companyId"] == data["companyId"]
    assert user["role"] == 0


def test_create_dependent_group_name_suffix(api: httpx.Client, kit: Any) -> None:
    """§3.3 bcGroupName: the company name, or it plus a random string when taken."""
    response = api.post("/companies", json=kit.new_company(companyName="Acme"))
    assert response.status_code == 200, response.text
    detail = _company(api, response.json()["data"]["companyId"])
    assert detail["bcGroupName"].startswith("Acme")
    assert detail["bcGroupName"] != "Acme"


def test_create_links_existing_customer(api: httpx.Client, kit: Any) -> None:
    """§3.4: adminEmail of an existing customer links that customer."""
    body = kit.new_company(adminEmail="SOLO@example.com")
    data = api.post("/companies", json=body).json()["data"]
    assert data["customerId"] == 400
    taken = api.post(
        "/companies", json=kit.new_company(companyName="Z", adminEmail="a@acme.example")
    )
    assert taken.status_code == 422
    assert taken.json()["meta"]["message"] == "Email already exists. ['a@acme.example']"


def test_create_validation(api: httpx.Client, kit: Any) -> None:
    """§1.3, §3.4: 422 {"code": 422, "data": {}, "meta": {"message": ...}} for bad bodies."""
    missing = api.post("/companies", json=kit.new_company(companyName=""))
    assert missing.status_code == 422
    assert missing.json() == {
        "code": 422,
        "data": {},
        "meta": {"message": "The company name is required."},
    }
    for key in ("companyEmail", "companyPhone", "country", "adminEmail", "adminFirstName"):
        body = kit.new_company()
        del body[key]
        assert api.post("/companies", json=body).status_code == 422, key
    long_name = api.post("/companies", json=kit.new_company(companyName="x" * 201))
    assert long_name.status_code == 422
    bad_email = api.post("/companies", json=kit.new_company(companyEmail="nope"))
    assert bad_email.status_code == 422
    no_catalog = kit.new_company()
    del no_catalog["catalogId"]
    response = api.post("/companies", json=no_catalog)
    assert response.status_code == 422  # Dependent without MSF: catalogId required
    assert api.post("/companies", json=kit.new_company(catalogId=99)).status_code == 422
    assert api.post("/companies", content=b"{nope").status_code == 400
    assert api.get("/companies").json()["meta"]["pagination"]["totalCount"] == 2


def test_create_independent_groups(make_sandbox: Any, kit: Any) -> None:
    """§3.4, §3.8: Independent: customerGroupId given / omitted (default group) / 0."""
    seed = kit.seed(companiesBehavior="independent")
    seed["customerGroups"].append({"id": 30, "name": "Default B2B", "isDefault": True})
    sb = make_sandbox(seed)
    with kit.client(sb) as api:
        given = api.post("/companies", json=kit.new_company(customerGroupId=20)).json()["data"]
        assert given["customerGroupId"] == 20
        omitted = api.post("/companies", json=kit.new_company(adminEmail="x@x.example"))
        assert omitted.json()["data"]["customerGroupId"] == 30
        zero = api.post(
            "/companies", json=kit.new_company(customerGroupId=0, adminEmail="y@y.example")
        ).json()["data"]
        assert zero["customerGroupId"] == 0
        assert _company(api, zero["companyId"])["bcGroupId"] == "0"
        missing = api.post(
            "/companies", json=kit.new_company(customerGroupId=77, adminEmail="z@z.example")
        )
        assert missing.status_code == 422
        # no group was created in Independent mode
        with kit.client(sb, kit.CORE, headers={"X-Auth-Token": kit.TOKEN}) as c:
            assert [g["id"] for g in c.get("/v2/customer_groups").json()] == [12, 13, 20, 30]


def test_update_partial_and_bumps_updated_at(api: httpx.Client, clock: Any, kit: Any) -> None:
    """§3.5: partial update; response {"companyId": int}; updatedAt bumped; uuid settable."""
    clock.advance(60)
    response = api.put("/companies/1001", json={"companyPhone": "999", "uuid": "ERP-9"})
    assert response.status_code == 200
    assert response.json() == {
        "code": 200,
        "data": {"companyId": 1001},
        "meta": {"message": "SUCCESS"},
    }
    data = _company(api, 1001)
    assert data["companyPhone"] == "999"
    assert data["uuid"] == "ERP-9"
    assert data["companyName"] == "Acme"
    assert data["companyEmail"] == "a@acme.example"
    assert data["updatedAt"] == str(int(clock.now))
    assert api.put("/companies/1001", json={"companyName": ""}).status_code == 422


def test_update_dependent_ignores_customer_group(api: httpx.Client) -> None:
    """§3.5, §7.9: Dependent stores silently ignore customerGroupId on PUT."""
    assert api.put("/companies/1001", json={"customerGroupId": 20}).status_code == 200
    assert _company(api, 1001)["bcGroupId"] == "12"


def test_update_dependent_renames_group(api: httpx.Client, kit: Any) -> None:
    """§6.1 (docs:v0): in Dependent mode the company's group follows the company."""
    assert api.put("/companies/1001", json={"companyName": "Acme Corp"}).status_code == 200
    assert _company(api, 1001)["bcGroupName"] == "Acme Corp"


def test_update_independent_customer_group(make_sandbox: Any, kit: Any) -> None:
    """§3.5: Independent applies customerGroupId (0 removes it); priceListAssign ignored."""
    sb = make_sandbox(kit.seed(companiesBehavior="independent"))
    with kit.client(sb) as api:
        assert api.put("/companies/1001", json={"customerGroupId": 20}).status_code == 200
        assert _company(api, 1001)["bcGroupId"] == "20"
        assert api.put("/companies/1001", json={"customerGroupId": 0}).status_code == 200
        assert _company(api, 1001)["bcGroupId"] == "0"
        assert api.put("/companies/1001", json={"customerGroupId": 77}).status_code == 422
        assignment = {"priceListAssign": [{"channelId": 1, "priceListId": 7}]}
        assert api.put("/companies/1001", json=assignment).status_code == 200
        assert _company(api, 1001)["priceListAssign"] == []
    customers = {c["id"]: c for c in sb.dump()["customers"]}
    assert customers[321]["customerGroupId"] is None  # the company's users follow


def test_update_price_list_assign_dependent_msf(make_sandbox: Any, kit: Any) -> None:
    """§3.5, §6.3: Dependent + MSF: priceListAssign is applied and rendered with names."""
    seed = kit.seed(multiStorefront=True)
    seed["channels"] = [
        {"id": 1, "name": "Default", "type": "storefront", "platform": "bigcommerce"},
        {"id": 2, "name": "EU", "type": "storefront", "platform": "bigcommerce"},
    ]
    with kit.client(make_sandbox(seed)) as api:
        body = {"priceListAssign": [{"channelId": 2, "priceListId": 8}]}
        assert api.put("/companies/1001", json=body).status_code == 200
        assert _company(api, 1001)["priceListAssign"] == [
            {"channelId": 2, "priceListId": 8, "priceListName": "Retail", "channelName": "EU"}
        ]
        bad = {"priceListAssign": [{"channelId": 2, "priceListId": 99}]}
        assert api.put("/companies/1001", json=bad).status_code == 422
        # MSF: catalogId is not required on create
        body2 = {k: v for k, v in kit.new_company().items() if k != "catalogId"}
        assert api.post("/companies", json=body2).status_code == 200


def test_extra_field_validation(api: httpx.Client, kit: Any) -> None:
    """§3.7: unknown field, too long, not numeric, not in the dropdown -> 422; merge by name."""

    def put(fields: list[dict[str, Any]]) -> httpx.Response:
        return api.put("/companies/1001", json={"extraFields": fields})

    for bad in (
        [{"fieldName": "nope", "fieldValue": "1"}],
        [{"fieldName": "licenseNo", "fieldValue": "x" * 11}],
        [{"fieldName": "employees", "fieldValue": "many"}],
        [{"fieldName": "employees", "fieldValue": "1001"}],
        [{"fieldName": "tier", "fieldValue": "Bronze"}],
    ):
        response = put(bad)
        assert response.status_code == 422, bad
        assert response.json()["data"] == {}
        assert response.json()["meta"]["message"]
    assert (
        put(
            [
                {"fieldName": "tier", "fieldValue": "Gold"},
                {"fieldName": "employees", "fieldValue": 12},
            ]
        ).status_code
        == 200
    )
    values = {f["fieldName"]: f["fieldValue"] for f in _company(api, 1001)["extraFields"]}
    assert values == {"licenseNo": "42", "tier": "Gold", "employees": "12"}


def test_required_extra_field_on_create(make_sandbox: Any, kit: Any) -> None:
    """§3.4: a required company extra field must be sent on create."""
    seed = kit.seed()
    seed["extraFieldConfigs"]["company"][0]["isRequired"] = True
    with kit.client(make_sandbox(seed)) as api:
        response = api.post("/companies", json=kit.new_company())
        assert response.status_code == 422
        assert response.json()["meta"]["message"] == "licenseNo is a required extra field"
        ok = kit.new_company(extraFields=[{"fieldName": "licenseNo", "fieldValue": "7"}])
        assert api.post("/companies", json=ok).status_code == 200
        # PUT without extraFields stays allowed by default (quirk companyPutRequiresExtraFields)
        assert api.put("/companies/1002", json={"companyPhone": "1"}).status_code == 200


def test_company_put_requires_extra_fields_quirk(make_sandbox: Any, kit: Any) -> None:
    """§3.5 strict reading: required extra fields must be in every PUT (quirk on)."""
    seed = kit.seed(quirks={"companyPutRequiresExtraFields": True})
    seed["extraFieldConfigs"]["company"][0]["isRequired"] = True
    with kit.client(make_sandbox(seed)) as api:
        assert api.put("/companies/1001", json={"companyPhone": "1"}).status_code == 422
        fields = [{"fieldName": "licenseNo", "fieldValue": "42"}]
        assert api.put("/companies/1001", json={"extraFields": fields}).status_code == 200


def test_status(api: httpx.Client, clock: Any) -> None:
    """§3.1: PUT /companies/{id}/status with an integer 0..3."""
    clock.advance(5)
    response = api.put("/companies/1001/status", json={"companyStatus": 3})
    assert response.json() == {
        "code": 200,
        "data": {"companyId": 1001},
        "meta": {"message": "SUCCESS"},
    }
    data = _company(api, 1001)
    assert data["companyStatus"] == "3"
    assert data["updatedAt"] == str(int(clock.now))
    assert api.put("/companies/1001/status", json={"companyStatus": 7}).status_code == 422
    assert api.put("/companies/1001/status", json={}).status_code == 422
    assert api.put("/companies/999/status", json={"companyStatus": 1}).status_code == 404


def test_catalogs(api: httpx.Client, make_sandbox: Any, kit: Any) -> None:
    """§3.6: PUT /companies/{id}/catalogs (Dependent); 405 on Independent stores."""
    assert api.put("/companies/1001/catalogs", json={"catalogId": "8"}).status_code == 200
    data = _company(api, 1001)
    assert data["catalogId"] == "8"
    assert data["catalogName"] == "Retail"
    assert api.put("/companies/1001/catalogs", json={"catalogId": "99"}).status_code == 422
    assert api.put("/companies/1001/catalogs", json={}).status_code == 422
    with kit.client(make_sandbox(kit.seed(companiesBehavior="independent"))) as ind:
        assert ind.put("/companies/1001/catalogs", json={"catalogId": "8"}).status_code == 405


def _convert_body(**kw: Any) -> dict[str, Any]:
    body = {
        "companyName": "Loose Co",
        "companyPhone": "1",
        "companyEmail": "l@loose.example",
        "country": "US",
        "adminEmail": "l@loose.example",
        "adminPhoneNumber": "2",
        "uuid": "ignored",
    }
    body.update(kw)
    return body


def test_convert(api: httpx.Client) -> None:
    """§3.6: convert a group (Dependent, no MSF): companyId as a string; uuid ignored."""
    response = api.post("/customer-groups/20/companies", json=_convert_body())
    assert response.status_code == 200, response.text
    company_id = response.json()["data"]["companyId"]
    assert isinstance(company_id, str)
    data = _company(api, company_id)
    assert data["bcGroupId"] == "20"
    assert data["bcGroupName"] == "Loose group"
    assert data["uuid"] == ""
    again = api.post("/customer-groups/20/companies", json=_convert_body(adminEmail="o@o.example"))
    assert again.status_code == 400
    assert again.json() == {
        "code": 400,
        "data": {},
        "meta": {"message": "Convert failed for the API call."},
    }
    assert api.post("/customer-groups/12/companies", json=_convert_body()).status_code == 400
    assert api.post("/customer-groups/77/companies", json=_convert_body()).status_code == 404


def test_convert_required_fields(api: httpx.Client) -> None:
    """§3.6: companyName, companyPhone, companyEmail, country, adminEmail, adminPhoneNumber."""
    for key in (
        "companyName",
        "companyPhone",
        "companyEmail",
        "country",
        "adminEmail",
        "adminPhoneNumber",
    ):
        body = _convert_body()
        del body[key]
        assert api.post("/customer-groups/20/companies", json=body).status_code == 422, key


def test_convert_refused_on_independent_and_msf(make_sandbox: Any, kit: Any) -> None:
    """§3.6, §6.3: convert is not supported on Independent or Multi-Storefront stores."""
    for store in ({"companiesBehavior": "independent"}, {"multiStorefront": True}):
        with kit.client(make_sandbox(kit.seed(**store))) as api:
            response = api.post("/customer-groups/20/companies", json=_convert_body())
            assert response.status_code == 400
            assert response.json()["meta"]["message"] == "Convert failed for the API call."


def test_delete(api: httpx.Client, core: httpx.Client) -> None:
    """§3.6: delete; on Dependent stores the group goes too."""
    response = api.delete("/companies/1002")
    assert response.json() == {"code": 200, "data": {}, "meta": {"message": "SUCCESS"}}
    assert api.get("/companies/1002").status_code == 404
    assert core.get("/v2/customer_groups/13").status_code == 404
    assert api.get("/users/customer/322").status_code == 404


def test_extra_field_configs(api: httpx.Client) -> None:
    """§3.7: listOfValue (singular), maximumLength as a string, paginated."""
    body = api.get("/companies/extra-fields").json()
    assert body["meta"]["pagination"] == {"totalCount": 3, "limit": 10, "offset": 0}
    license_no, tier, employees = body["data"]
    assert license_no["fieldName"] == "licenseNo"
    assert license_no["maximumLength"] == "10"
    assert license_no["isRequired"] is False
    assert tier["listOfValue"] == ["Gold", "Silver"]
    assert "listOfValues" not in tier
    assert employees["maximumValue"] == "1000"
    assert api.get("/companies/extra-fields", params={"limit": 1, "offset": 2}).json()["data"] == [
        employees
    ]


def test_quirk_integer_ids(make_sandbox: Any, kit: Any) -> None:
    """§7.2, §9.1: companyIdsAsStrings=false gives integers everywhere."""
    with kit.client(make_sandbox(kit.seed(quirks={"companyIdsAsStrings": False}))) as api:
        item = api.get("/companies").json()["data"][0]
        assert item["companyId"] == 1002
        assert item["companyStatus"] == 0
        assert isinstance(item["createdAt"], int)
        assert item["bcGroupId"] == 13
        detail = _company(api, 1001)
        assert detail["bcGroupId"] == 12
        assert detail["updatedAt"] == kit.NOW - 50 * kit.DAY
        converted = api.post("/customer-groups/20/companies", json=_convert_body())
        assert converted.json()["data"]["companyId"] == 1003


def test_quirk_address_in_responses(make_sandbox: Any, kit: Any) -> None:
    """§3.3, §9.2: companyAddressInResponses=true adds the address fields."""
    with kit.client(make_sandbox(kit.seed(quirks={"companyAddressInResponses": True}))) as api:
        detail = _company(api, 1001)
        assert detail["country"] == "US"
        assert detail["addressLine1"] == ""
        api.put("/companies/1001", json={"city": "Austin"})
        assert _company(api, 1001)["city"] == "Austin"


def test_quirk_clock_skew(make_sandbox: Any, kit: Any) -> None:
    """clockSkew moves the store's clock: what it stamps and what minModified compares with."""
    with kit.client(make_sandbox(kit.seed(quirks={"clockSkew": -3600}))) as api:
        api.put("/companies/1001", json={"companyPhone": "555-0101"})
        assert int(_company(api, 1001)["updatedAt"]) == kit.NOW - 3600
        since = {"minModified": kit.NOW - 300}
        assert api.get("/companies", params=since).json()["data"] == []
        since = {"minModified": kit.NOW - 3600}
        assert [c["companyId"] for c in api.get("/companies", params=since).json()["data"]] == [
            "1001"
        ]


@pytest.mark.parametrize(("skew", "date_skew"), [(0, 0), (-3600, 0), (600, -3), (-600, 3)])
def test_every_answer_carries_the_store_clock_in_its_date_header(
    make_sandbox: Any, kit: Any, skew: int, date_skew: int
) -> None:
    """``Date`` follows ``clockSkew`` (the store's clock), moved by ``dateHeaderSkew``: on
    B2B and core answers, errors included."""
    quirks = {"clockSkew": skew, "dateHeaderSkew": date_skew}
    sb = make_sandbox(kit.seed(quirks=quirks))
    with (
        kit.client(sb) as api,
        kit.client(sb, kit.CORE, headers={"X-Auth-Token": kit.TOKEN}) as core,
    ):
        answers = (
            api.get("/companies/1001"),
            api.get("/companies/999"),
            core.get("/v2/orders/count"),
        )
        assert [a.status_code for a in answers] == [200, 404, 200]
        for response in answers:
            assert parsedate_to_datetime(response.headers["Date"]).timestamp() == (
                kit.NOW + skew + date_skew
            )
        api.put("/companies/1001", json={"companyPhone": "555-0101"})
        assert int(_company(api, 1001)["updatedAt"]) == kit.NOW + skew


@pytest.mark.parametrize("by_id", [False, True])
def test_quirk_companies_sorted_by_id_by_default(make_sandbox: Any, kit: Any, by_id: bool) -> None:
    """company.yaml: ``sortBy`` defaults to updatedAt, the endpoint description says companyId
    (descending both). The switch picks the default; a ``sortBy`` sent is honoured either way."""
    quirks = {"companiesSortedByIdByDefault": by_id}
    with kit.client(make_sandbox(kit.seed(quirks=quirks))) as api:
        api.put("/companies/1001", json={"companyPhone": "555-0101"})  # now the newest

        def ids(**params: Any) -> list[str]:
            return [c["companyId"] for c in api.get("/companies", params=params).json()["data"]]

        assert ids() == (["1002", "1001"] if by_id else ["1001", "1002"])
        assert ids(sortBy="updatedAt", orderBy="DESC") == ["1001", "1002"]
        assert ids(sortBy="updatedAt", orderBy="ASC") == ["1002", "1001"]
