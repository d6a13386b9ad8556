"""A store that changes under the reader, and answers that lie about identity (issue 12).

- Item 2: ten unmanaged companies deleted between page 1 and page 2 of ``GET /companies`` must
  not hide ten managed ones: no duplicate on Independent stores, no convert sent (and reported
  applied) on Dependent ones. Right before a convert/create one read confirms the group has no
  company; a found company is adopted, never duplicated. Paging stops at a page that brings
  nothing new; a listing that keeps changing fails with "the store changed during the read".
- Item 3: a convert answer naming another company is not used; ids that are not positive
  integers are decode errors.
- Item 4: a change in the same second as the plan's read makes the plan stale.

Everything runs against the sandbox in-process; a small proxy transport plays the hostile
server where the sandbox is honest.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.errors import ApiError, StoreChangedError
from reconciler.executor import apply_plan
from reconciler.kinds import api_requests
from reconciler.kinds.company import AdminSpec, CompanySpec
from reconciler.live import read_live
from reconciler.manifests import load
from reconciler.model import ManifestSet, Plan, Request, StoreSpec
from reconciler.planner import build_plan
from reconciler.sandbox import Sandbox

N = 300
"""Companies in the store: two pages of 250."""
MANAGED = range(40, 50)
"""The managed companies (ids 1040-1049): the first ten of page 2 (the list is newest first)."""
NOW = 1_790_000_000


def seed(behavior: str) -> dict[str, Any]:
    return {
        "store": {"hash": "pages1", "companiesBehavior": behavior, "accessToken": "tok"},
        "customerGroups": [{"id": g, "name": f"Group {g}"} for g in range(1, N + 2)],
        "companies": [
            {
                "companyId": 1000 + i,
                "customerGroupId": i + 1,
                "companyName": f"Company {i}",
                "companyEmail": f"c{i}@example.com",
                "companyPhone": "555",
                "companyStatus": 1,
                "address": {"country": "US"},
                "createdAt": NOW - 1000,
                "updatedAt": NOW - 1000,
            }
            for i in range(N)
        ],
    }


def spec(i: int) -> CompanySpec:
    return CompanySpec(
        name=f"co-{i}",
        customer_group_id=i + 1,
        company_name=f"Company {i}",
        company_email=f"c{i}@example.com",
        company_phone="555",
        address={"country": "US"},
        admin=AdminSpec(
            email=f"admin{i}@example.com", first_name="A", last_name="B", phone_number="1"
        ),
    )


def manifests(behavior: str, positions: range | list[int] = MANAGED) -> ManifestSet:
    store = StoreSpec(name="store", companies_behavior=behavior)  # type: ignore[arg-type]
    return ManifestSet(store=store, specs=tuple(spec(i) for i in positions))


Hook = Callable[[httpx.Request, httpx.Response], httpx.Response]


class Proxy(httpx.BaseTransport):
    """The sandbox behind a hook that may rewrite requests and answers (a hostile server)."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        request: Callable[[httpx.Request], httpx.Request] | None = None,
        response: Hook | None = None,
    ) -> None:
        self.inner = inner
        self.on_request = request
        self.on_response = response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.on_request is not None:
            request = self.on_request(request)
        answer = self.inner.handle_request(request)
        if self.on_response is None:
            return answer
        answer.read()
        return self.on_response(request, answer)

    def close(self) -> None:
        self.inner.close()


def rewritten(answer: httpx.Response, body: Any) -> httpx.Response:
    headers = [(k, v) for k, v in answer.headers.items() if k.lower() != "content-length"]
    return httpx.Response(answer.status_code, headers=headers, content=json.dumps(body).encode())


def client(sb: Sandbox, transport: httpx.BaseTransport | None = None) -> ApiClient:
    settings = ApiSettings(
        store_hash=sb.store_hash,
        token=Secret("tok"),
        b2b_url="http://localhost/api/v3/io",
        core_url="http://localhost",
    )
    return ApiClient.open(settings, transport or sb.transport(), sleep=lambda _s: None)


def plan_for(api: ApiClient, found: ManifestSet) -> Plan:
    return build_plan(found, read_live(api, found), created_at="2026-11-29T00:00:00Z")


def per_group(sb: Sandbox) -> Counter[int]:
    return Counter(c["customerGroupId"] for c in sb.dump()["companies"])


def posts(sb: Sandbox) -> list[Any]:
    return [e for e in sb.request_log if e.method == "POST"]


DELETE_BETWEEN_PAGES = {
    "method": "GET",
    "path": "^/api/v3/io/companies$",
    "query": "offset=250",
    "action": "delete-companies",
    "companyIds": list(range(1290, 1300)),  # ten unmanaged companies of page 1
    "times": 1,
}


# --------------------------------------------------------------------------- item 2


@pytest.mark.parametrize("behavior", ["independent", "dependent"])
def test_companies_deleted_between_pages_hide_nothing(behavior: str) -> None:
    with Sandbox(db=":memory:", seed=seed(behavior)) as sb:
        found = manifests(behavior)
        sb.set_faults([DELETE_BETWEEN_PAGES])
        with client(sb) as api:
            plan = plan_for(api, found)
            assert [a.type for a in plan.actions] == [], "managed companies were hidden"
            report = apply_plan(api, plan)
        assert report.ok
        assert posts(sb) == []
        firsts = [
            e for e in sb.request_log if e.path.endswith("/companies") and "offset=0" in e.query
        ]
        assert len(firsts) == 2, "the listing changed under the reader and was read again"
        counts = per_group(sb)
        assert all(counts[i + 1] == 1 for i in MANAGED)
        assert max(counts.values()) == 1


@pytest.mark.parametrize("behavior", ["independent", "dependent"])
def test_a_listing_that_keeps_changing_fails_and_sends_nothing(behavior: str) -> None:
    with Sandbox(db=":memory:", seed=seed(behavior)) as sb:
        found = manifests(behavior)
        # Every page 2 deletes the lowest company: the total never holds still.
        sb.set_faults([{**DELETE_BETWEEN_PAGES, "companyIds": [], "count": 1, "times": None}])
        with client(sb) as api, pytest.raises(StoreChangedError) as caught:
            plan_for(api, found)
        assert "the store changed during the read" in str(caught.value)
        assert "run again" in str(caught.value)
        pages = [e for e in sb.request_log if e.path.endswith("/companies")]
        assert len(pages) == 6, "three passes of two pages, then it gives up"
        assert posts(sb) == []


def test_paging_stops_at_a_page_that_brings_nothing_new() -> None:
    with Sandbox(db=":memory:", seed=seed("dependent")) as sb:

        def ignore_offset(request: httpx.Request) -> httpx.Request:
            params = dict(request.url.params)
            params.pop("offset", None)
            return httpx.Request(
                request.method, request.url.copy_with(params=params), headers=request.headers
            )

        with client(sb, Proxy(sb.transport(), request=ignore_offset)) as api:
            with pytest.raises(ApiError, match="repeats objects already read"):
                api.b2b.list_companies()
            assert api.stats.requests == 2


@pytest.mark.parametrize(
    ("behavior", "kind"), [("independent", "create"), ("dependent", "convert")]
)
def test_a_company_made_since_planning_is_adopted_not_duplicated(behavior: str, kind: str) -> None:
    with Sandbox(db=":memory:", seed=seed(behavior)) as sb:
        with client(sb) as api:
            api.b2b.send(
                Request("PUT", "/companies/1255", {"companyName": "Company 255"}), idempotent=True
            )
        # Group 301 has no company: the plan converts/creates one for it.
        found = ManifestSet(store=manifests(behavior).store, specs=(spec(300),))
        with client(sb) as api:
            plan = plan_for(api, found)
            assert [a.type for a in plan.actions] == [kind]
            # Another client makes the company after the plan (and after apply's staleness
            # check: apply_plan is told not to check, so only the confirm read can see it).
            other = (
                Request("POST", "/customer-groups/301/companies", _body(300))
                if kind == "convert"
                else Request("POST", "/companies", {**_body(300), "customerGroupId": 301})
            )
            api.b2b.send(other, idempotent=False)
            sb.clear_log()
            report = apply_plan(api, plan, check_fresh=False)
        assert report.ok, report
        (result,) = report.results
        assert result.outcome == "applied"
        assert "adopted it, nothing was created" in result.message
        assert posts(sb) == []
        assert per_group(sb)[301] == 1


def test_a_different_company_in_the_group_fails_the_convert_and_sends_nothing() -> None:
    with Sandbox(db=":memory:", seed=seed("dependent")) as sb:
        found = ManifestSet(store=manifests("dependent").store, specs=(spec(300),))
        with client(sb) as api:
            plan = plan_for(api, found)
            body = {**_body(300), "companyName": "Someone Else", "adminEmail": "x@example.com"}
            api.b2b.send(Request("POST", "/customer-groups/301/companies", body), idempotent=False)
            sb.clear_log()
            report = apply_plan(api, plan, check_fresh=False)
        (result,) = report.results
        assert result.outcome == "failed"
        assert "already has company" in result.message
        assert "not the planned one" in result.message
        assert posts(sb) == []


def _body(i: int) -> dict[str, Any]:
    return {
        "companyName": f"Company {i}",
        "companyEmail": f"c{i}@example.com",
        "companyPhone": "555",
        "country": "US",
        "adminEmail": f"admin{i}@example.com",
        "adminFirstName": "A",
        "adminLastName": "B",
        "adminPhoneNumber": "1",
    }


# --------------------------------------------------------------------------- item 3


def test_a_convert_answer_naming_another_company_is_not_used() -> None:
    with Sandbox(db=":memory:", seed=seed("dependent")) as sb:
        desired = spec(300)
        found = ManifestSet(
            store=manifests("dependent").store,
            specs=(CompanySpec(**{**desired.__dict__, "uuid": "ERP-300"}),),
        )

        def lie(request: httpx.Request, answer: httpx.Response) -> httpx.Response:
            if request.method == "POST" and answer.status_code == 200:
                return rewritten(answer, {"code": 200, "data": {"companyId": "1000"}, "meta": {}})
            return answer

        with client(sb, Proxy(sb.transport(), response=lie)) as api:
            plan = plan_for(api, found)
            assert [a.type for a in plan.actions] == ["convert", "update"]
            report = apply_plan(api, plan)
        convert, update = report.results
        assert convert.outcome == "failed"
        assert "answered company 1000 for customer group 301" in convert.message
        assert update.outcome == "skipped"
        assert not [e for e in sb.request_log if e.method == "PUT"], "company 1000 was written"
        assert sb.dump()["companies"][0]["uuid"] == ""


@pytest.mark.parametrize("bad", ["abc", "100.5", -3, True, "1e3"])
def test_a_group_id_that_is_not_a_positive_integer_is_a_decode_error(bad: object) -> None:
    with Sandbox(db=":memory:", seed=seed("dependent")) as sb:

        def garble(request: httpx.Request, answer: httpx.Response) -> httpx.Response:
            if request.url.path.endswith("/companies") and request.method == "GET":
                body = answer.json()
                body["data"][0]["bcGroupId"] = bad
                return rewritten(answer, body)
            return answer

        hostile = Proxy(sb.transport(), response=garble)
        with client(sb, hostile) as api, pytest.raises(ApiError, match="not a positive integer id"):
            plan_for(api, manifests("dependent", [0]))
        assert posts(sb) == []


def test_a_company_without_group_on_a_dependent_store_is_refused() -> None:
    with Sandbox(db=":memory:", seed=seed("dependent")) as sb:

        def zero(request: httpx.Request, answer: httpx.Response) -> httpx.Response:
            if request.url.path.endswith("/companies") and request.method == "GET":
                body = answer.json()
                body["data"][0]["bcGroupId"] = 0
                return rewritten(answer, body)
            return answer

        hostile = Proxy(sb.transport(), response=zero)
        with client(sb, hostile) as api, pytest.raises(ApiError, match="has no customer group"):
            plan_for(api, manifests("dependent", [0]))


# --------------------------------------------------------------------------- item 4


def test_a_change_in_the_same_second_as_the_read_makes_the_plan_stale() -> None:
    clock = [float(NOW)]
    with Sandbox(db=":memory:", seed=seed("dependent"), clock=lambda: clock[0]) as sb:
        found = manifests("dependent", [5])
        wanted = CompanySpec(**{**spec(5).__dict__, "company_phone": "999"})
        found = ManifestSet(store=found.store, specs=(wanted,))
        with client(sb) as api:
            # A write at second T, the plan's read at T, another write at T: updatedAt is T
            # throughout (one-second resolution), only the content tells.
            api.b2b.send(
                Request("PUT", "/companies/1005", {"companyEmail": "a@example.com"}),
                idempotent=True,
            )
            live = read_live(api, found, wall_clock=lambda: clock[0])
            plan = build_plan(found, live, created_at="2026-11-29T00:00:00Z")
            api.b2b.send(
                Request("PUT", "/companies/1005", {"companyEmail": "b@example.com"}),
                idempotent=True,
            )
            assert sb.dump()["companies"][5]["updatedAt"] == NOW
            sb.clear_log()
            report = apply_plan(api, plan, plan_file="plan.json")
        assert report.refused.startswith("the saved plan 'plan.json' is stale")
        assert "company 1005 ('Company 5') changed" in report.refused
        assert not [e for e in sb.request_log if e.method == "PUT"]


# --------------------------------------------------------------------------- the estimate


@pytest.mark.parametrize(
    "scenario", ["example", "independent-store", "independent", "extra-fields", "dependent-msf"]
)
def test_the_plan_counts_every_request_a_clean_apply_makes(scenario: str) -> None:
    """``apiRequests`` covers the staleness reads, the confirm reads around each convert or
    create, the writes and the verification: exactly what a clean apply sends."""
    root = Path(__file__).resolve().parents[2]
    if scenario == "example":
        seed_file, paths = root / "examples/store/sandbox-seed.yaml", [root / "examples/store"]
    elif scenario == "independent-store":
        folder = root / "examples/independent-store"
        seed_file, paths = folder / "sandbox-seed.yaml", [folder]
    else:
        folder = root / "tests/e2e/scenarios" / scenario
        seed_file, paths = folder / "seed.yaml", [folder / "manifests"]
    with Sandbox(db=":memory:", seed=yaml.safe_load(seed_file.read_text())) as sb:
        token = (sb.dump().get("store") or {}).get("accessToken") or "tok"
        settings = ApiSettings(
            store_hash=sb.store_hash,
            token=Secret(token),
            b2b_url="http://localhost/api/v3/io",
            core_url="http://localhost",
        )
        found = load(paths)
        with ApiClient.open(settings, sb.transport(), sleep=lambda _s: None) as api:
            plan = plan_for(api, found)
            assert plan.actions
            sb.clear_log()
            report = apply_plan(api, plan)
        assert report.ok
        assert sum(report.requests.values()) == len(sb.request_log) == api_requests(plan)


# --------------------------------------------------------------------------- runs of converts


def _free_groups_seed(quirks: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Dependent store with groups 301-304 free (positions 300-303 convert them)."""
    data = seed("dependent")
    data["customerGroups"] += [{"id": g, "name": f"Group {g}"} for g in range(302, 305)]
    data["store"]["quirks"] = quirks or {}
    return data


@pytest.mark.parametrize("skew", [0, -3600], ids=["same-clock", "store-an-hour-behind"])
def test_a_run_of_converts_looks_once_and_still_never_converts_a_group_twice(skew: int) -> None:
    """Four converts in a row: one listing of the companies modified since the plan's read
    stands for four group reads. A company another client made since planning in one of the
    groups is adopted from that listing; when the store's clock is an hour behind ours the
    listing misses it, B2B Edition refuses the convert (one company per group), and the read
    after the refusal adopts it. Either way each group ends with one company."""
    with Sandbox(db=":memory:", seed=_free_groups_seed({"clockSkew": skew})) as sb:
        found = manifests("dependent", positions=range(300, 304))
        with client(sb) as api:
            plan = plan_for(api, found)
            assert [a.type for a in plan.actions] == ["convert"] * 4
            api.b2b.send(
                Request("POST", "/customer-groups/303/companies", _body(302)), idempotent=False
            )
            sb.clear_log()
            report = apply_plan(api, plan, check_fresh=False)  # the plan's read is the proof
        assert report.ok, (report.results, report.verification)
        adopted = "adopted it, nothing was created" if skew == 0 else "not created twice"
        assert adopted in report.results[2].message
        assert (
            per_group(sb)[301]
            == per_group(sb)[302]
            == per_group(sb)[303]
            == per_group(sb)[304]
            == 1
        )
        before_first_post = sb.request_log[: sb.request_log.index(posts(sb)[0])]
        assert [(e.path, "minModified=" in e.query) for e in before_first_post] == [
            ("/api/v3/io/companies", True)
        ]
        raced = [e for e in posts(sb) if e.path.endswith("/303/companies")]
        group_reads = [e for e in sb.request_log if "bcGroupId=" in e.query]
        if skew == 0:
            assert raced == []
            assert group_reads == []
            assert len(sb.request_log) == 1 + 3 + 1  # the look, three POSTs, verification
        else:  # refused, then the group read found the company
            assert [e.status for e in raced] == [400]
            assert len(group_reads) == 1
            assert "bcGroupId=303" in group_reads[0].query


@pytest.mark.parametrize(
    ("behavior", "kind"), [("dependent", "convert"), ("independent", "create")]
)
def test_a_creation_whose_id_nothing_uses_is_confirmed_by_verification(
    behavior: str, kind: str
) -> None:
    """No later action names the new company's id, so no read follows the POST; a wrong id in
    the answer is still caught, by verification (the company is not in the group, or has
    another name)."""
    with Sandbox(db=":memory:", seed=seed(behavior)) as sb:
        found = manifests(behavior, positions=[300])

        def lie(request: httpx.Request, answer: httpx.Response) -> httpx.Response:
            if request.method == "POST" and answer.status_code == 200:
                return rewritten(answer, {"code": 200, "data": {"companyId": "1000"}, "meta": {}})
            return answer

        with client(sb, Proxy(sb.transport(), response=lie)) as api:
            plan = plan_for(api, found)
            assert [a.type for a in plan.actions] == [kind]
            sb.clear_log()
            report = apply_plan(api, plan)
        assert [r.outcome for r in report.results] == ["applied"]
        after_post = sb.request_log[sb.request_log.index(posts(sb)[0]) + 1 :]
        assert all("bcGroupId" not in e.query and "q=" not in e.query for e in after_post)
        if kind == "convert":
            assert (
                "inconsistent result after apply: company/co-300 is company 1000 in customer "
                "group 1, expected customer group 301 (company/co-300:convert)"
            ) in report.verification
        else:
            assert (
                "inconsistent result after apply: company/co-300 companyName is 'Company 0', "
                "expected 'Company 300' (company/co-300:create)"
            ) in report.verification
        assert not [e for e in sb.request_log if e.method == "PUT"]


def test_the_plan_counts_the_look_before_a_run_of_converts() -> None:
    """apiRequests stays exact with converts in a run: the staleness check, one look, the
    POSTs, no confirm read (nothing uses the ids), one verification listing."""
    with Sandbox(db=":memory:", seed=_free_groups_seed()) as sb:
        found = manifests("dependent", positions=range(300, 304))
        with client(sb) as api:
            plan = plan_for(api, found)
            sb.clear_log()
            report = apply_plan(api, plan)
        assert report.ok, (report.results, report.verification)
        assert sum(report.requests.values()) == len(sb.request_log) == api_requests(plan)
        assert sum(1 for e in sb.request_log if e.method == "GET") == len(sb.request_log) - 4
