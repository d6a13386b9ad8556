"""The same app over a real loopback socket (marked ``served``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.served

PATHS = (
    "/companies?isIncludeExtraFields=1",
    "/companies/1001",
    "/companies/999",
    "/orders?limit=2&offset=1",
    "/orders/5002",
    "/users/customer/321",
    "/users/customer/400",
    "/channels",
    "/companies/extra-fields",
)


def test_served_bodies_match_in_process(sb: Any, kit: Any) -> None:
    """Served and in-process answers are the same bodies and statuses."""
    with sb.serve() as served:
        assert served.url.startswith("http://127.0.0.1:")
        assert served.b2b_url == served.url + "/api/v3/io"
        with (
            httpx.Client(base_url=served.b2b_url, headers=kit.AUTH) as real,
            kit.client(sb) as local,
        ):
            for path in PATHS:
                over_tcp, in_process = real.get(path), local.get(path)
                assert over_tcp.status_code == in_process.status_code, path
                assert over_tcp.json() == in_process.json(), path
                assert over_tcp.headers["X-Requests-Allocated"] == "100000 times/60 s"
                # one Date header, the store's (not the HTTP server's own as well)
                assert over_tcp.headers.get_list("Date") == in_process.headers.get_list("Date")
                assert len(over_tcp.headers.get_list("Date")) == 1
            created = real.post("/companies", json=kit.new_company())
            assert created.status_code == 200
            assert local.get(f"/companies/{created.json()['data']['companyId']}").is_success
        with httpx.Client(base_url=served.url, headers={"X-Auth-Token": kit.TOKEN}) as core:
            empty = core.get(f"/stores/{kit.HASH}/v2/orders", params={"customer_id": 400})
            assert empty.status_code == 204
            assert empty.content == b""
            groups = core.get(f"/stores/{kit.HASH}/v2/customer_groups")
            assert [g["id"] for g in groups.json()][:3] == [12, 13, 20]
        with httpx.Client(base_url=served.b2b_url) as anonymous:
            assert anonymous.get("/companies").status_code == 401
    assert any(e.path == "/api/v3/io/companies/1001" for e in sb.request_log)


def test_served_drop_closes_the_socket(make_sandbox: Any, kit: Any) -> None:
    """drop: the server closes the connection without a byte; the client sees it."""
    rule = {"method": "GET", "path": "/orders$", "action": "drop", "times": 1}
    sb = make_sandbox(faults=[rule])
    with (
        sb.serve() as served,
        httpx.Client(base_url=served.b2b_url, headers=kit.AUTH) as real,
    ):
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            real.get("/orders")
        assert real.get("/orders").status_code == 200  # a fresh connection works
    assert [e.status for e in sb.request_log] == [0, 200]


def test_served_delay_times_out_client(make_sandbox: Any, kit: Any) -> None:
    """delay: a slow answer; a client with a shorter timeout gives up."""
    sb = make_sandbox(faults=[{"method": "GET", "path": "/companies$", "delay": 0.5, "times": 1}])
    with (
        sb.serve() as served,
        httpx.Client(base_url=served.b2b_url, headers=kit.AUTH, timeout=0.1) as real,
        pytest.raises(httpx.ReadTimeout),
    ):
        real.get("/companies")


def test_shutdown_stops_listening(sb: Any, kit: Any) -> None:
    """shutdown() closes the port; close() stops servers it started."""
    served = sb.serve()
    url = served.b2b_url
    with httpx.Client(base_url=url, headers=kit.AUTH) as real:
        assert real.get("/companies").status_code == 200
    served.shutdown()
    served.shutdown()  # idempotent
    with httpx.Client(base_url=url, headers=kit.AUTH) as real, pytest.raises(httpx.ConnectError):
        real.get("/companies")


def test_served_concurrent_clients(sb: Any, kit: Any) -> None:
    """Threads hammering the served store: every request answered, writes all applied."""

    def work(n: int) -> list[int]:
        with httpx.Client(base_url=served.b2b_url, headers=kit.AUTH) as real:
            codes = [real.get("/companies", params={"limit": 5}).status_code for _ in range(5)]
            body = {"poNumber": f"T{n}"}
            codes.append(real.put(f"/orders/{5001 + n % 3}", json=body).status_code)
            codes.append(
                real.post("/orders", json={"bcOrderId": 9000 + n, "customerId": 400}).status_code
            )
            return codes

    with sb.serve() as served, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(16)))
    assert all(code == 200 for codes in results for code in codes)
    assert len([o for o in sb.dump()["orders"] if o["bcOrderId"] >= 9000]) == 16
    assert len(sb.request_log) == 16 * 7


def test_served_stall_holds_the_connection_silent(make_sandbox: Any, kit: Any) -> None:
    """stall: the server accepts the request and never answers, until the client gives up."""
    sb = make_sandbox(faults=[{"method": "GET", "path": "/orders$", "action": "stall"}])
    with (
        sb.serve() as served,
        httpx.Client(base_url=served.b2b_url, headers=kit.AUTH, timeout=0.3) as real,
    ):
        with pytest.raises(httpx.ReadTimeout):
            real.get("/orders")
        sb.set_faults([])
        assert real.get("/orders").status_code == 200
    assert [e.status for e in sb.request_log] == [0, 200]


def test_served_trickle_sends_status_headers_and_body_byte_by_byte(
    make_sandbox: Any, kit: Any
) -> None:
    """trickle: served, even the status line trickles; a per-read timeout never fires."""
    rule = {"method": "GET", "path": "/companies/1001$", "action": "trickle", "interval": 0.002}
    sb = make_sandbox(faults=[rule])
    with (
        sb.serve() as served,
        httpx.Client(base_url=served.b2b_url, headers=kit.AUTH, timeout=0.5) as real,
    ):
        slow = real.get("/companies/1001")
        sb.set_faults([])
        fast = real.get("/companies/1001")
    assert slow.status_code == 200
    assert slow.json() == fast.json()


def test_served_endless_streams_until_the_client_stops(make_sandbox: Any, kit: Any) -> None:
    """endless: chunked, never ends; the client can stop reading and close."""
    sb = make_sandbox(faults=[{"method": "GET", "path": "/companies$", "action": "endless"}])
    with (
        sb.serve() as served,
        httpx.Client(base_url=served.b2b_url, headers=kit.AUTH) as real,
        real.stream("GET", "/companies") as response,
    ):
        assert response.headers["Transfer-Encoding"] == "chunked"
        read = 0
        for chunk in response.iter_raw():
            read += len(chunk)
            if read > 4 * 1024 * 1024:
                break
    assert read > 4 * 1024 * 1024
