"""The API client against the sandbox over real HTTP (in-process transport; one test served).

Reads decode the same under every quirk switch; pacing keeps a burst free of 429s; 429s, 5xx
and dropped connections are waited out or retried where that is safe; failures surface as the
error tree with method, path, status and the API's message, and never the token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.api import ApiClient, ApiSettings, Pacing, RetryPolicy, Secret
from reconciler.errors import (
    ApiError,
    AuthError,
    NotFoundError,
    RateLimitedError,
    TransportError,
    UncertainWriteError,
    UsageError,
)
from reconciler.model import LiveCompany, PriceListAssignment, Request
from reconciler.sandbox import Sandbox

NewSandbox = Callable[..., Sandbox]  # the new_sandbox fixture (tests/conftest.py)

ClientFactory = Callable[..., ApiClient]
Kit = Any  # the ``kit`` fixture of conftest.py
TOKEN = "sandbox-token-7f3a91c2"

QUIRKS: list[dict[str, Any]] = [
    {},
    {"companyIdsAsStrings": False},
    {"orderDetailAsArray": True},
    {"ordersMetaFlat": True},
    {"ordersTopLevelMessage": False},
    {"limitAboveMax": "clamp"},
    {"retryAfterHeader": True},
    {"ordersNoCompanyAsZero": True},
    {"zeroDateIsAbsent": True},
    {"channelsErrorInMeta": True},
    {
        "zeroDateIsAbsent": True,
        "channelsErrorInMeta": True,
        "extraFieldsReplace": True,
        "companyPutRequiresExtraFields": True,
        "emptyExtraFieldRefused": True,
        "companyIdsAsStrings": False,
        "orderDetailAsArray": True,
        "ordersMetaFlat": True,
        "ordersTopLevelMessage": False,
        "limitAboveMax": "clamp",
        "ordersNoCompanyAsZero": True,
    },
]


def every_read(client: ApiClient) -> dict[str, Any]:
    b2b, core = client.b2b, client.core
    return {
        "companies": b2b.list_companies(),
        "group12": b2b.list_companies(bc_group_id=12),
        "count": b2b.count_companies(),
        "company": b2b.get_company(1001),
        "companyConfigs": b2b.company_extra_fields(),
        "orderConfigs": b2b.order_extra_fields(),
        "user": b2b.user_by_customer(321),
        "nonUser": b2b.user_by_customer(400),
        "users": sorted(b2b.list_users()),
        "orders": sorted(b2b.list_orders(), key=lambda o: o.bc_order_id),
        "order": b2b.get_order(5002),
        "looseOrder": b2b.get_order(5001),
        "missingOrder": b2b.get_order(999999),
        "groups": core.customer_group_ids(),
        "group": core.customer_group_exists(12),
        "noGroup": core.customer_group_exists(99),
        "msf": b2b.multi_storefront(),
        "priceLists": core.price_list_ids(),
        "orders321": core.order_ids_for_customer(321),
        "orders400": core.order_ids_for_customer(400),
    }


def test_reads_decode_to_clean_values(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    client = make_client(new_sandbox(db=":memory:", seed=kit.seed()))
    reads = every_read(client)
    companies, total = reads["companies"]
    assert total == 2
    assert reads["count"] == 2
    acme = next(c for c in companies if c.company_id == 1001)
    assert reads["company"] == acme
    assert acme == LiveCompany(
        company_id=1001,
        customer_group_id=12,
        company_name="Acme",
        company_email="a@acme.example",
        company_phone="555",
        status="approved",
        catalog_id="7",
        price_list_assign=(),
        extra_fields={"licenseNo": "42"},
        updated_at=1700000100,
    )
    assert [c.company_id for c in reads["group12"][0]] == [1001]
    assert [c.name for c in reads["companyConfigs"]] == ["licenseNo"]
    assert reads["companyConfigs"][0].max_length == 50
    assert [c.name for c in reads["orderConfigs"]] == ["costCenter"]
    assert reads["user"][0] == 1001
    assert reads["nonUser"] == (None, None)
    assert [(u[0], u[1]) for u in reads["users"]] == [(321, 1001), (322, 1002)]
    # The order created in 2017 is there: list_orders always sends a date filter.
    assert [o.bc_order_id for o in reads["orders"]] == [5001, 5002, 5003]
    assert reads["order"].company_id == 1001
    assert reads["order"].po_number == "PO-1"
    assert reads["order"].extra_fields == {"costCenter": "CC-9"}
    assert reads["looseOrder"].company_id is None
    assert reads["missingOrder"] is None
    assert reads["groups"] == frozenset({12, 13})
    assert reads["group"] is True
    assert reads["noGroup"] is False
    assert reads["priceLists"] == frozenset({7})
    assert reads["orders321"] == (5001, 5002)
    assert reads["orders400"] == ()


@pytest.mark.parametrize(
    "quirks", QUIRKS[1:], ids=lambda q: ",".join(f"{k}={v}" for k, v in q.items())
)
def test_every_quirk_decodes_the_same(
    kit: Kit, make_client: ClientFactory, quirks: dict[str, Any], new_sandbox: NewSandbox
) -> None:
    plain = every_read(make_client(new_sandbox(db=":memory:", seed=kit.seed())))
    quirky = every_read(make_client(new_sandbox(db=":memory:", seed=kit.seed(quirks=quirks))))
    assert quirky == plain


def test_orders_without_a_date_filter_hide_old_orders(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    """Why list_orders always sends minCreated: the API's default one-year window."""
    client = make_client(new_sandbox(db=":memory:", seed=kit.seed()))
    body = client.http.b2b("GET", "/orders", params={"limit": 200})
    ids = {o["bcOrderId"] for o in body["data"]}
    assert 5001 not in ids
    assert 5001 in {o.bc_order_id for o in client.b2b.list_orders()}


def test_full_order_reads_send_a_real_date(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    """§9.11: minCreated=0 may count as "no filter" (one-year window); minCreated=1 never does."""
    sb = new_sandbox(db=":memory:", seed=kit.seed(quirks={"zeroDateIsAbsent": True}))
    client = make_client(sb)
    assert 5001 in {o.bc_order_id for o in client.b2b.list_orders()}  # created in 2017
    assert "minCreated=1&" in sb.request_log[-1].query + "&"


def test_a_403_that_is_not_about_multi_storefront_is_an_error(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    """§9.14: only the documented body means "off"; a scope 403 says what to check."""
    sb = new_sandbox(db=":memory:", seed=kit.seed())
    sb.set_faults([{"method": "GET", "path": "/channels$", "status": 403}])
    client = make_client(sb)
    with pytest.raises(UsageError) as caught:
        client.b2b.multi_storefront()
    text = str(caught.value)
    assert "cannot tell whether Multi-Storefront is on" in text
    assert "scopes" in text
    assert "--multi-storefront or --no-multi-storefront" in text
    assert TOKEN not in text


def test_core_orders_204_with_no_body(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed())
    client = make_client(sb)
    assert client.core.order_ids_for_customer(400) == ()
    entry = sb.request_log[-1]
    assert entry.path.endswith("/v2/orders")
    assert entry.status == 204


def test_paging_many_companies_and_users(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    companies = [
        {
            "companyId": 2000 + i,
            "customerGroupId": 100 + i,
            "companyName": f"Company {i}",
            "companyEmail": f"c{i}@example.com",
            "companyPhone": "1",
            "companyStatus": 1,
            "createdAt": 1700000000,
            "updatedAt": 1700000000 + i,
        }
        for i in range(260)
    ]
    groups = [{"id": 100 + i, "name": f"G{i}"} for i in range(260)]
    sb = new_sandbox(
        db=":memory:",
        seed=kit.seed(companies=companies, customerGroups=groups, users=[], orders=[]),
    )
    client = make_client(sb)
    found, total = client.b2b.list_companies()
    assert total == 260
    assert sorted(c.company_id for c in found) == [2000 + i for i in range(260)]
    assert client.stats.by_endpoint["GET /companies"] == 2
    assert len(client.core.customer_group_ids()) == 260
    assert client.stats.by_endpoint["GET /v2/customer_groups"] == 2


def test_writes_send_exactly_the_planned_request(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed())
    client = make_client(sb)
    data = client.b2b.send(
        Request("PUT", "/companies/1001", {"companyPhone": "999", "uuid": "ERP-1"}),
        idempotent=True,
    )
    assert client.b2b.created_company_id(data) == 1001
    assert client.b2b.get_company(1001).uuid == "ERP-1"
    client.b2b.send(Request("PUT", "/companies/1002/status", {"companyStatus": 1}), idempotent=True)
    assert client.b2b.get_company(1002).status == "approved"
    with pytest.raises(NotFoundError) as info:
        client.b2b.send(Request("PUT", "/companies/9999", {"companyPhone": "1"}), idempotent=True)
    assert info.value.status == 404
    assert info.value.path == "/companies/9999"
    assert "This resource is not found." in str(info.value)
    assert client.stats.by_endpoint["PUT /companies/{id}"] == 2
    assert client.stats.by_endpoint["PUT /companies/{id}/status"] == 1


CONVERT_INITECH = Request(
    "POST",
    "/customer-groups/14/companies",
    {
        "companyName": "Initech",
        "companyPhone": "1",
        "companyEmail": "i@initech.example",
        "country": "US",
        "adminEmail": "loner@example.com",
        "adminPhoneNumber": "1",
        "adminFirstName": "E",
        "adminLastName": "F",
        "catalogId": "7",
    },
)
"""Convert customer group 14 (which the tests add to the kit's seed) into a company."""


def test_convert_returns_the_new_company_id(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    groups = [*kit.seed()["customerGroups"], {"id": 14, "name": "Initech"}]
    sb = new_sandbox(db=":memory:", seed=kit.seed(customerGroups=groups))
    client = make_client(sb)
    data = client.b2b.send(CONVERT_INITECH, idempotent=False)
    new_id = client.b2b.created_company_id(data)
    assert client.b2b.get_company(new_id).customer_group_id == 14


def test_unresolved_placeholder_is_refused(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    client = make_client(new_sandbox(db=":memory:", seed=kit.seed()))
    with pytest.raises(ApiError.__mro__[1]):  # UsageError, a ReconcilerError
        client.b2b.send(Request("PUT", "/companies/{company/acme.companyId}", {}), idempotent=True)
    assert client.stats.requests == 0


def test_422_message_prefers_errmsg(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed())
    client = make_client(sb)
    with pytest.raises(ApiError) as info:
        client.http.b2b("GET", "/users", params={"limit": "many"})
    assert info.value.status == 422
    assert "limit" in info.value.api_message
    assert "Parameter Error" not in info.value.api_message


# ----------------------------------------------------------------------------- pacing


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.parametrize(("rpm", "share"), [(120, 8), (150, 10), (30, 2)])
def test_pacing_adopts_the_server_window_and_keeps_our_share(
    kit: Kit, make_client: ClientFactory, rpm: int, share: int, new_sandbox: NewSandbox
) -> None:
    clock = kit.FakeClock()
    sleeps = kit.Sleeps(clock)
    sb = new_sandbox(db=":memory:", seed=kit.seed(), rate_limit=(10, 1.0), clock=clock)
    client = make_client(sb, sleep=sleeps, clock=clock, rpm=rpm)
    for _ in range(40):
        client.b2b.count_companies()
    assert client.http.b2b_pacer.window == 1.0
    assert client.http.b2b_pacer.share == share
    assert [e.status for e in sb.request_log] == [200] * 40
    assert client.stats.throttled == 0
    assert _max_in_window([e.at for e in sb.request_log], 1.0) <= share
    assert client.stats.paced_seconds == pytest.approx(sleeps.total)
    assert sleeps.total >= 40 / share - 1.5


@pytest.mark.parametrize("pacing", ["burst", "fair"])
def test_pacing_leaves_the_others_their_part(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox, pacing: Pacing
) -> None:
    """Another integration spent 5 of 10: we stop at the 2 others may still use."""
    clock = kit.FakeClock()
    start = clock()
    sleeps = kit.Sleeps(clock)
    sb = new_sandbox(db=":memory:", seed=kit.seed(), rate_limit=(10, 1.0), clock=clock)
    other = make_client(sb, clock=clock, sleep=kit.Sleeps(clock), rpm=150)
    for _ in range(5):
        other.b2b.count_companies()
    client = make_client(sb, sleep=sleeps, clock=clock, rpm=120, pacing=pacing)
    for _ in range(4):
        client.b2b.count_companies()
    assert all(e.status == 200 for e in sb.request_log)
    ours = [e.at for e in sb.request_log][5:]
    # 5 + 3 = 8 used, 2 left (= 10 - share): the 4th request waited for the reset.
    assert ours[2] < start + 1.0 <= ours[3]
    if pacing == "burst":
        assert len(sleeps.calls) == 1  # the first three at once
    else:
        assert ours[0] < ours[1] < ours[2]  # the others are busy: ours are spread


def test_pacing_real_short_window_burst_sees_no_429(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed(), rate_limit=(10, 0.5))
    client = make_client(sb, sleep=time.sleep, rpm=120)
    started = time.monotonic()
    for _ in range(20):
        client.b2b.count_companies()
    elapsed = time.monotonic() - started
    assert [e.status for e in sb.request_log] == [200] * 20
    assert client.stats.throttled == 0
    assert elapsed >= 0.9  # 20 requests at 8 per 0.5 s need two waits
    assert _max_in_window([e.at for e in sb.request_log], 0.5) <= 8


@pytest.mark.parametrize("retry_after", [False, True])
def test_429_is_waited_out(
    kit: Kit, make_client: ClientFactory, retry_after: bool, new_sandbox: NewSandbox
) -> None:
    faults = [{"method": "GET", "path": "/companies$", "status": 429, "times": 2}]
    sb = new_sandbox(
        db=":memory:", seed=kit.seed(quirks={"retryAfterHeader": retry_after}), faults=faults
    )
    sleeps = kit.Sleeps()
    client = make_client(sb, sleep=sleeps)
    companies, _ = client.b2b.list_companies()
    assert len(companies) == 2
    assert [e.status for e in sb.request_log] == [429, 429, 200]
    assert client.stats.throttled == 2
    assert client.stats.retries == 2
    assert len(sleeps.calls) == 2
    if retry_after:
        assert all(s >= 1.0 for s in sleeps.calls)  # the sandbox's Retry-After is whole seconds
    assert client.stats.backoff_seconds == pytest.approx(sleeps.total)


def test_post_is_resent_after_429(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    groups = [*kit.seed()["customerGroups"], {"id": 14, "name": "Initech"}]
    faults = [{"method": "POST", "path": "/companies$", "status": 429, "times": 1}]
    sb = new_sandbox(db=":memory:", seed=kit.seed(customerGroups=groups), faults=faults)
    client = make_client(sb)
    data = client.b2b.send(CONVERT_INITECH, idempotent=False)
    assert client.b2b.created_company_id(data) > 0
    assert [e.status for e in sb.request_log if e.method == "POST"] == [429, 200]


def test_429_forever_is_rate_limited_error(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    faults = [{"method": "GET", "path": "/companies$", "status": 429}]
    sb = new_sandbox(db=":memory:", seed=kit.seed(), faults=faults)
    client = make_client(sb, retry=RetryPolicy(max_throttled=3))
    with pytest.raises(RateLimitedError) as info:
        client.b2b.count_companies()
    assert info.value.status == 429
    assert len(sb.request_log) == 4


# ----------------------------------------------------------------------------- retries


@pytest.mark.parametrize(
    "fault",
    [
        {"method": "GET", "path": "/companies$", "status": 503, "times": 2},
        {"method": "GET", "path": "/companies$", "status": 500, "times": 1},
        {"method": "GET", "path": "/companies$", "action": "drop", "times": 2},
        {"method": "GET", "path": "/v2/orders$", "status": 502, "times": 2},
        {"method": "GET", "path": "/v2/orders$", "action": "drop", "times": 1},
        {"method": "PUT", "path": "/companies/1001$", "status": 503, "times": 2},
        {"method": "PUT", "path": "/companies/1001$", "action": "drop", "times": 2},
    ],
)
def test_idempotent_calls_are_retried(
    kit: Kit, make_client: ClientFactory, fault: dict[str, Any], new_sandbox: NewSandbox
) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed(), faults=[fault])
    sleeps = kit.Sleeps()
    client = make_client(sb, sleep=sleeps)
    if fault["method"] == "PUT":
        client.b2b.send(Request("PUT", "/companies/1001", {"companyPhone": "9"}), idempotent=True)
    elif "v2" in fault["path"]:
        assert client.core.order_ids_for_customer(321) == (5001, 5002)
    else:
        assert client.b2b.count_companies() == 2
    times = fault["times"]
    assert client.stats.retries == times
    assert len(sb.request_log) == times + 1
    assert len(sleeps.calls) == times
    assert all(0 < s <= 8.0 for s in sleeps.calls)


def test_retries_run_out_with_a_clear_error(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    faults = [{"method": "GET", "path": "/companies/1001$", "status": 503}]
    sb = new_sandbox(db=":memory:", seed=kit.seed(), faults=faults)
    sleeps = kit.Sleeps()
    client = make_client(sb, sleep=sleeps)
    with pytest.raises(ApiError) as info:
        client.b2b.get_company(1001)
    err = info.value
    assert type(err) is ApiError
    assert (err.method, err.path, err.status) == ("GET", "/companies/1001", 503)
    assert err.api_message == "Service Unavailable"
    text = str(err)
    assert "GET /companies/1001" in text
    assert "503" in text
    assert "Service Unavailable" in text
    assert "localhost" not in text
    assert len(sb.request_log) == 5
    assert len(sleeps.calls) == 4
    assert sleeps.calls == sorted(sleeps.calls) or max(sleeps.calls) <= 8.0


def test_drops_run_out_as_transport_error(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    faults = [{"method": "GET", "path": "/companies$", "action": "drop"}]
    sb = new_sandbox(db=":memory:", seed=kit.seed(), faults=faults)
    client = make_client(sb)
    with pytest.raises(TransportError) as info:
        client.b2b.count_companies()
    assert info.value.path == "/companies"
    assert "RemoteProtocolError" in str(info.value)
    assert len(sb.request_log) == 5


@pytest.mark.parametrize(
    "fault",
    [
        {"method": "POST", "path": "/companies$", "status": 502, "times": 1},
        {"method": "POST", "path": "/companies$", "action": "drop", "times": 1},
        {"method": "POST", "path": "/companies$", "action": "commit-then-fail", "status": 500},
        {"method": "POST", "path": "/companies$", "action": "commit-then-drop", "times": 1},
    ],
)
def test_post_on_5xx_or_drop_is_uncertain_and_not_resent(
    kit: Kit, make_client: ClientFactory, fault: dict[str, Any], new_sandbox: NewSandbox
) -> None:
    groups = [*kit.seed()["customerGroups"], {"id": 14, "name": "Initech"}]
    sb = new_sandbox(db=":memory:", seed=kit.seed(customerGroups=groups), faults=[fault])
    client = make_client(sb)
    body = {
        "companyName": "Initech",
        "companyPhone": "1",
        "companyEmail": "i@initech.example",
        "country": "US",
        "adminEmail": "loner@example.com",
        "adminPhoneNumber": "1",
        "adminFirstName": "E",
        "adminLastName": "F",
        "catalogId": "7",
    }
    with pytest.raises(UncertainWriteError) as info:
        client.b2b.send(Request("POST", "/customer-groups/14/companies", body), idempotent=False)
    assert info.value.method == "POST"
    assert info.value.path == "/customer-groups/14/companies"
    assert [e.method for e in sb.request_log] == ["POST"]
    assert client.stats.retries == 0


# ----------------------------------------------------------------------------- auth and secrets


def test_401_is_auth_error_without_the_token(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed())
    wrong = "wrong-token-0d5e1f"
    client = make_client(sb, token=wrong)
    with pytest.raises(AuthError) as info:
        client.b2b.count_companies()
    assert info.value.status == 401
    assert info.value.api_message == "Invalid token header. No credentials provided."
    assert wrong not in str(info.value)
    assert wrong not in repr(info.value)
    with pytest.raises(AuthError) as core_info:
        client.core.price_list_ids()
    assert wrong not in str(core_info.value)
    assert len(sb.request_log) == 2  # no retries on 401


def test_the_token_is_in_no_error_and_no_log_line(
    kit: Kit, make_client: ClientFactory, caplog: pytest.LogCaptureFixture, new_sandbox: NewSandbox
) -> None:
    caplog.set_level(logging.DEBUG)
    faults = [
        {"method": "GET", "path": "/companies$", "status": 503},
        {"method": "GET", "path": "/orders$", "action": "drop"},
        {"method": "POST", "path": ".*", "status": 500},
    ]
    sb = new_sandbox(db=":memory:", seed=kit.seed(), faults=faults)
    client = make_client(sb)
    errors: list[BaseException] = []
    calls = [
        client.b2b.count_companies,
        client.b2b.list_orders,
        lambda: client.b2b.get_company(4242),
        lambda: client.b2b.send(Request("POST", "/companies", {}), idempotent=False),
        lambda: client.http.b2b("GET", "/users", params={"limit": "x"}),
        lambda: make_client(sb, token=TOKEN + "x").b2b.get_company(1001),
    ]
    for call in calls:
        with pytest.raises(ApiError) as info:
            call()
        errors.append(info.value)
    texts = [caplog.text, repr(client), repr(client.http), repr(client.http.settings)]
    for err in errors:
        chain: BaseException | None = err
        while chain is not None:
            texts += [str(chain), repr(chain)]
            chain = chain.__cause__ or chain.__context__
    assert all(TOKEN not in t for t in texts)
    assert "GET /companies" in str(errors[0])


def test_plain_http_to_a_remote_host_is_refused() -> None:
    from reconciler.errors import UsageError

    with pytest.raises(UsageError, match="loopback"):
        ApiSettings(
            store_hash="abc123", token=Secret(TOKEN), b2b_url="http://example.com/api/v3/io"
        )


# ----------------------------------------------------------------------------- accounting


def test_stats_count_per_endpoint_template(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    client = make_client(new_sandbox(db=":memory:", seed=kit.seed()))
    client.b2b.user_by_customer(321)
    client.b2b.user_by_customer(400)
    client.b2b.get_company(1001)
    client.core.order_ids_for_customer(321)
    stats = client.stats.to_json()
    assert stats["byEndpoint"] == {
        "GET /companies/{id}": 1,
        "GET /users/customer/{id}": 2,
        "GET /v2/orders": 1,
    }
    assert stats["requests"] == 4
    assert stats["b2bRequests"] == 3
    assert stats["coreRequests"] == 1
    snapshot = client.stats.snapshot()
    client.b2b.get_company(1001)
    assert snapshot.requests == 4
    assert client.stats.requests == 5


def test_price_list_assign_and_msf(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    store = {**kit.seed()["store"], "multiStorefront": True}
    companies = kit.seed()["companies"]
    companies[0]["priceListAssign"] = [{"channelId": 1, "priceListId": 7}]
    companies[0]["catalogId"] = ""
    sb = new_sandbox(db=":memory:", seed=kit.seed(store=store, companies=companies))
    client = make_client(sb)
    company = client.b2b.get_company(1001)
    assert company.price_list_assign == (PriceListAssignment(channel_id=1, price_list_id=7),)
    assert 1 in client.core.channel_ids()


# ----------------------------------------------------------------------------- over a socket


@pytest.mark.served
def test_served_sandbox_over_loopback(kit: Kit, new_sandbox: NewSandbox) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed())
    server = sb.serve(port=0)
    try:
        url = server.url.rstrip("/")
        settings = ApiSettings(
            store_hash=sb.store_hash,
            token=Secret(TOKEN),
            b2b_url=f"{url}/api/v3/io",
            core_url=url,
            timeout=5.0,
        )
        with ApiClient.open(settings) as client:
            companies, total = client.b2b.list_companies()
            assert total == len(companies) == 2
            assert client.core.order_ids_for_customer(400) == ()
            assert client.b2b.get_order(5002) is not None
            assert client.stats.requests == 3
    finally:
        server.shutdown()


def test_core_budget_pauses_until_reset(
    kit: Kit, make_client: ClientFactory, new_sandbox: NewSandbox
) -> None:
    clock = kit.FakeClock()
    sleeps = kit.Sleeps(clock)
    sb = new_sandbox(db=":memory:", seed=kit.seed(), core_rate_limit=(5, 1.0), clock=clock)
    client = make_client(sb, sleep=sleeps, clock=clock)
    for _ in range(12):
        client.core.customer_group_exists(12)
    assert [e.status for e in sb.request_log] == [200] * 12
    assert len(sleeps.calls) == 2  # after the 5th and the 10th request
    assert client.stats.paced_seconds == pytest.approx(sleeps.total)


def test_a_post_that_never_connected_is_resent_then_transport_error(kit: Kit) -> None:
    """Connection refused proves the request never left: resending even a POST is safe."""
    settings = ApiSettings(
        store_hash="abc123",
        token=Secret(TOKEN),
        b2b_url="http://127.0.0.1:9/api/v3/io",  # discard port: nothing listens
        core_url="http://127.0.0.1:9",
        timeout=2.0,
    )
    sleeps = kit.Sleeps()
    with ApiClient.open(settings, sleep=sleeps) as client, pytest.raises(TransportError) as info:
        client.b2b.send(Request("POST", "/companies", {"companyName": "X"}), idempotent=False)
    assert not isinstance(info.value, UncertainWriteError)
    assert info.value.path == "/companies"
    assert "ConnectError" in str(info.value)
    assert client.stats.requests == 5
    assert len(sleeps.calls) == 4
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(
    "quirks",
    [{}, {"ordersTopLevelMessage": False}, {"orderDetailAsArray": True}],
    ids=["top-level-message", "meta-message", "detail-array"],
)
def test_order_writes_decode_under_every_envelope(
    kit: Kit, make_client: ClientFactory, quirks: dict[str, Any], new_sandbox: NewSandbox
) -> None:
    sb = new_sandbox(db=":memory:", seed=kit.seed(quirks=quirks))
    client = make_client(sb)
    data = client.b2b.send(Request("PUT", "/orders/5002", {"poNumber": "PO-2"}), idempotent=True)
    order = data[0] if isinstance(data, list) else data
    assert order["bcOrderId"] == 5002
    assert client.b2b.get_order(5002).po_number == "PO-2"  # type: ignore[union-attr]
    moved = client.b2b.send(Request("PUT", "/customers/321/orders/b2b", {}), idempotent=True)
    assert moved == {"total": 1}
    assert client.b2b.get_order(5001).company_id == 1001  # type: ignore[union-attr]
    with pytest.raises(NotFoundError) as info:
        client.b2b.send(Request("PUT", "/customers/400/orders/b2b", {}), idempotent=True)
    assert info.value.api_message == "User does not exist or action not support for this user."
