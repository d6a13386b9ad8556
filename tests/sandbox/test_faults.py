"""Fault rules (CONTRACT.md "Sandbox seed and dump": faults) in-process."""

from __future__ import annotations

import random
import time
from typing import Any

import httpx
import pytest

from reconciler.sandbox import SandboxError

COMPANY_PUT = r"^/api/v3/io/companies/\d+$"


def _statuses(api: httpx.Client, n: int, path: str = "/orders") -> list[int]:
    return [api.get(path).status_code for _ in range(n)]


def test_status_first_times(make_sandbox: Any, kit: Any) -> None:
    """times: N -> the first N matches fail with the default error envelope."""
    sb = make_sandbox(faults=[{"method": "PUT", "path": COMPANY_PUT, "status": 503, "times": 2}])
    with kit.client(sb) as api:
        first = api.put("/companies/1001", json={"companyPhone": "1"})
        assert first.status_code == 503
        assert first.json() == {"code": 503, "data": {}, "meta": {"message": "Service Unavailable"}}
        assert "X-Requests-Remaining" in first.headers
        assert api.put("/companies/1001", json={"companyPhone": "2"}).status_code == 503
        assert api.put("/companies/1001", json={"companyPhone": "3"}).status_code == 200
        assert api.get("/companies/1001").status_code == 200  # GET does not match
        assert api.get("/companies/1001").json()["data"]["companyPhone"] == "3"
    assert [e.status for e in sb.request_log] == [503, 503, 200, 200, 200]


def test_every_nth(make_sandbox: Any, kit: Any) -> None:
    """every: N -> every Nth match."""
    sb = make_sandbox(
        faults=[{"method": "GET", "path": "^/api/v3/io/orders", "status": 429, "every": 3}]
    )
    with kit.client(sb) as api:
        assert _statuses(api, 7) == [200, 200, 429, 200, 200, 429, 200]


def test_probability_is_seeded(make_sandbox: Any, kit: Any) -> None:
    """probability: p with seed: s -> a per-rule seeded RNG (reproducible)."""
    rule = {"method": "ANY", "path": "/orders", "status": 500, "probability": 0.3, "seed": 7}
    rng = random.Random(7)
    expected = [500 if rng.random() < 0.3 else 200 for _ in range(30)]
    with kit.client(make_sandbox(faults=[rule])) as api:
        assert _statuses(api, 30) == expected
    assert 500 in expected
    assert 200 in expected


def test_times_caps_every(make_sandbox: Any, kit: Any) -> None:
    """times with every: at most N firings."""
    rule = {"path": "/orders", "status": 502, "every": 2, "times": 2}
    with kit.client(make_sandbox(faults=[rule])) as api:
        assert _statuses(api, 8) == [200, 502, 200, 502, 200, 200, 200, 200]


def test_period(make_sandbox: Any, kit: Any, clock: Any) -> None:
    """period: {start, end} seconds since the sandbox started."""
    rule = {"path": "/orders", "status": 503, "period": {"start": 10, "end": 20}}
    with kit.client(make_sandbox(faults=[rule])) as api:
        assert _statuses(api, 1) == [200]
        clock.advance(10)
        assert _statuses(api, 2) == [503, 503]
        clock.advance(10)
        assert _statuses(api, 1) == [200]


def test_delay_only(make_sandbox: Any, kit: Any) -> None:
    """A rule with only delay delays, then serves normally."""
    sb = make_sandbox(faults=[{"method": "GET", "path": "/companies$", "delay": 0.05}])
    with kit.client(sb) as api:
        started = time.perf_counter()
        assert api.get("/companies").status_code == 200
        assert time.perf_counter() - started >= 0.05
    assert sb.request_log[-1].elapsed >= 0.05


def test_delay_beyond_read_timeout(make_sandbox: Any, kit: Any) -> None:
    """In-process, a delay longer than the read timeout raises httpx.ReadTimeout."""
    sb = make_sandbox(faults=[{"method": "PUT", "path": COMPANY_PUT, "delay": 5}])
    with kit.client(sb, timeout=0.05) as api, pytest.raises(httpx.ReadTimeout):
        api.put("/companies/1001", json={"companyPhone": "late"})
    sb.set_faults([])
    with kit.client(sb) as api:  # the slow server still did the work
        assert api.get("/companies/1001").json()["data"]["companyPhone"] == "late"


def test_commit_then_fail_commits(make_sandbox: Any, kit: Any) -> None:
    """commit-then-fail performs the request for real, then answers the status."""
    rule = {"method": "POST", "path": "/companies$", "action": "commit-then-fail", "status": 502}
    sb = make_sandbox(faults=[rule])
    with kit.client(sb) as api:
        response = api.post("/companies", json=kit.new_company())
        assert response.status_code == 502
        assert response.json()["code"] == 502
        names = [c["companyName"] for c in api.get("/companies").json()["data"]]
        assert "Gamma" in names


def test_drop_raises_transport_error(make_sandbox: Any, kit: Any) -> None:
    """drop: no response; in-process httpx raises RemoteProtocolError; logged with status 0."""
    sb = make_sandbox(faults=[{"method": "PUT", "path": COMPANY_PUT, "action": "drop", "times": 1}])
    with kit.client(sb) as api:
        with pytest.raises(httpx.RemoteProtocolError):
            api.put("/companies/1001", json={"companyPhone": "dropped"})
        assert api.get("/companies/1001").json()["data"]["companyPhone"] == "555"  # not done
        assert api.put("/companies/1001", json={"companyPhone": "ok"}).status_code == 200
    assert [e.status for e in sb.request_log] == [0, 200, 200]


def test_commit_then_drop_commits(make_sandbox: Any, kit: Any) -> None:
    """commit-then-drop: the write happens, the answer is lost."""
    rule = {"method": "PUT", "path": COMPANY_PUT, "action": "commit-then-drop", "times": 1}
    sb = make_sandbox(faults=[rule])
    with kit.client(sb) as api:
        with pytest.raises(httpx.RemoteProtocolError):
            api.put("/companies/1001", json={"companyPhone": "done"})
        assert api.get("/companies/1001").json()["data"]["companyPhone"] == "done"


def test_core_fault_uses_core_shape(make_sandbox: Any, kit: Any) -> None:
    """A fault on a core path answers in the core error shape."""
    sb = make_sandbox(faults=[{"path": "/v2/customer_groups", "status": 500, "times": 1}])
    with kit.client(sb, kit.CORE, headers={"X-Auth-Token": kit.TOKEN}) as core:
        response = core.get("/v2/customer_groups")
        assert response.status_code == 500
        assert response.json() == [{"status": 500, "message": "Internal Server Error"}]


def test_faults_from_seed_and_set_faults(make_sandbox: Any, kit: Any) -> None:
    """Seed faults apply and dump; set_faults replaces the active rules."""
    seed = kit.seed()
    seed["faults"] = [{"method": "GET", "path": "/orders", "status": 500}]
    sb = make_sandbox(seed)
    with kit.client(sb) as api:
        assert _statuses(api, 2) == [500, 500]
        assert sb.dump()["faults"] == seed["faults"]
        sb.set_faults([])
        assert _statuses(api, 1) == [200]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"method": "FETCH", "path": "x", "status": 500}, "method"),
        ({"path": "(", "status": 500}, "regular expression"),
        ({"path": "x", "status": 99}, "status"),
        ({"path": "x", "action": "explode"}, "action"),
        ({"path": "x"}, "status, an action or a delay"),
        ({"path": "x", "status": 500, "oops": 1}, "unknown key 'oops'"),
        ({"path": "x", "status": 500, "probability": 2}, "probability"),
        ({"path": "x", "status": 500, "every": 0}, "every"),
    ],
)
def test_invalid_rules(make_sandbox: Any, rule: dict[str, Any], message: str) -> None:
    """Bad rules are user errors naming the rule and key."""
    with pytest.raises(SandboxError, match=message):
        make_sandbox(faults=[rule])


def test_stall_in_process_times_out_without_serving(make_sandbox: Any, kit: Any) -> None:
    """stall: never answers; in-process the client's read timeout passes, nothing is done."""
    sb = make_sandbox(faults=[{"method": "PUT", "path": COMPANY_PUT, "action": "stall"}])
    with kit.client(sb, timeout=0.05) as api, pytest.raises(httpx.ReadTimeout):
        api.put("/companies/1001", json={"companyPhone": "never"})
    sb.set_faults([])
    with kit.client(sb) as api:
        assert api.get("/companies/1001").json()["data"]["companyPhone"] != "never"


def test_trickle_in_process_sends_the_real_answer_byte_by_byte(make_sandbox: Any, kit: Any) -> None:
    """trickle: the request is performed; the body comes one byte at a time."""
    rule = {"method": "GET", "path": "/companies/1001$", "action": "trickle", "interval": 0.001}
    sb = make_sandbox(faults=[rule])
    with kit.client(sb) as api:
        plain_sb = make_sandbox()
        with kit.client(plain_sb) as plain:
            expected = plain.get("/companies/1001").content
        with api.stream("GET", "/companies/1001") as response:
            chunks = list(response.iter_raw())
    assert b"".join(chunks) == expected
    assert {len(chunk) for chunk in chunks} == {1}


def test_endless_in_process_never_ends(make_sandbox: Any, kit: Any) -> None:
    """endless: a 200 whose JSON body keeps coming as long as the client reads."""
    sb = make_sandbox(faults=[{"method": "GET", "path": "/companies$", "action": "endless"}])
    with kit.client(sb) as api, api.stream("GET", "/companies") as response:
        assert response.status_code == 200
        assert "Content-Length" not in response.headers
        read = 0
        for chunk in response.iter_raw():
            read += len(chunk)
            if read > 4 * 1024 * 1024:
                break
    assert read > 4 * 1024 * 1024


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"path": "x", "action": "trickle", "interval": 0}, "interval"),
        ({"path": "x", "action": "stall", "interval": 1}, "interval"),
    ],
)
def test_invalid_slow_rules(make_sandbox: Any, rule: dict[str, Any], message: str) -> None:
    """interval is positive and belongs to trickle."""
    with pytest.raises(SandboxError, match=message):
        make_sandbox(faults=[rule])
