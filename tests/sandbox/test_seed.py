"""Seed and dump (CONTRACT.md "Sandbox seed and dump")."""

from __future__ import annotations

import copy
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.sandbox import DEFAULT_QUIRKS, Sandbox, SandboxError

CONTRACT_SEED = """
store: {hash: abc123, companiesBehavior: dependent, multiStorefront: false,
        accessToken: sandbox-token}
customerGroups: [{id: 12, name: Acme}]
customers: [{id: 321, email: a@acme.example, firstName: A, lastName: B, customerGroupId: 12}]
priceLists: [{id: 7, name: Wholesale}]
companies: [{companyId: 1001, customerGroupId: 12, companyName: Acme, companyEmail: a@acme.example,
             companyPhone: "555", companyStatus: 1, uuid: "", catalogId: "", priceListAssign: [],
             address: {country: US}, extraFields: {licenseNo: "42"}, createdAt: 1700000000,
             updatedAt: 1700000000}]
users: [{customerId: 321, companyId: 1001, role: 0}]
orders: [{bcOrderId: 5001, customerId: 321, companyId: null, poNumber: "", extraFields: {},
          createdAt: 1700000000, updatedAt: 1700000000}]
extraFieldConfigs:
  company: [{fieldName: licenseNo, fieldType: 0, isRequired: false, maximumLength: 50,
             listOfValue: []}]
  order: [{fieldName: costCenter, fieldType: 0, isRequired: false, maximumLength: 20,
           listOfValues: []}]
faults:
  - {method: PUT, path: "^/api/v3/io/companies/\\\\d+$", status: 503, times: 2}
  - {method: GET, path: "^/api/v3/io/orders", status: 429, every: 5}
  - {method: POST, path: "/companies$", action: commit-then-fail, status: 502, times: 1}
  - {method: ANY, path: ".*", delay: 0.05, probability: 0.1, seed: 7}
"""


def _subset(small: Any, big: Any) -> bool:
    """Every key of ``small`` is in ``big`` with the same value (recursively)."""
    if isinstance(small, dict):
        return isinstance(big, dict) and all(
            k in big and _subset(v, big[k]) for k, v in small.items()
        )
    if isinstance(small, list):
        return (
            isinstance(big, list)
            and len(small) == len(big)
            and all(_subset(a, b) for a, b in zip(small, big, strict=True))
        )
    return bool(small == big)


def test_contract_seed_round_trips(clock: Any) -> None:
    """The contract's example seed loads; dump keeps every value; dump -> seed -> dump is stable."""
    seed = yaml.safe_load(CONTRACT_SEED)
    with Sandbox(seed=seed, clock=clock) as sb:
        dumped = sb.dump()
    assert _subset(seed, dumped)
    assert dumped["faults"] == seed["faults"]
    with Sandbox(seed=copy.deepcopy(dumped), clock=clock) as again:
        assert again.dump() == dumped


def test_round_trip_with_quirks_and_state_changes(make_sandbox: Any, kit: Any, clock: Any) -> None:
    """Quirks and API-made state survive the round trip."""
    seed = kit.seed(quirks={"companyIdsAsStrings": False, "limitAboveMax": "clamp"})
    sb = make_sandbox(seed)
    with kit.client(sb) as api:
        assert api.post("/companies", json=kit.new_company()).status_code == 200
        assert api.put("/orders/5001", json={"poNumber": "P"}).status_code == 200
    dumped = sb.dump()
    assert dumped["store"]["quirks"] == {"companyIdsAsStrings": False, "limitAboveMax": "clamp"}
    copy_ = Sandbox(seed=copy.deepcopy(dumped), clock=clock)
    try:
        assert copy_.dump() == dumped
        with kit.client(copy_) as api:
            assert api.get("/companies", params={"limit": 999}).status_code == 200  # clamp
    finally:
        copy_.close()


def test_defaults(clock: Any) -> None:
    """Defaults: hash sandbox, Dependent, no MSF, no token, channel 1 "Default"."""
    with Sandbox(clock=clock) as sb:
        dumped = sb.dump()
    assert sb.store_hash == "sandbox"
    assert dumped["store"] == {
        "hash": "sandbox",
        "companiesBehavior": "dependent",
        "multiStorefront": False,
        "accessToken": None,
        "quirks": {},
    }
    assert [{k: c[k] for k in ("id", "name", "type", "platform")} for c in dumped["channels"]] == [
        {"id": 1, "name": "Default", "type": "storefront", "platform": "bigcommerce"}
    ]
    assert dumped["companies"] == []
    assert dumped["faults"] == []


def test_load_seed_adds_and_replaces(sb: Sandbox, kit: Any) -> None:
    """load_seed upserts: by companyId, by customerId for users, by bcOrderId for orders."""
    sb.load_seed(
        {
            "companies": [{"companyId": 1001, "companyName": "Acme 2", "customerGroupId": 12}],
            "orders": [{"bcOrderId": 5001, "customerId": 321, "poNumber": "NEW"}],
            "users": [{"customerId": 321, "companyId": 1002, "role": 1}],
            "store": {"multiStorefront": True},
        }
    )
    dumped = sb.dump()
    names = {c["companyId"]: c["companyName"] for c in dumped["companies"]}
    assert names == {1001: "Acme 2", 1002: "Beta"}
    assert next(o for o in dumped["orders"] if o["bcOrderId"] == 5001)["poNumber"] == "NEW"
    users = {u["customerId"]: (u["id"], u["companyId"]) for u in dumped["users"]}
    assert users[321] == (1, 1002)  # same B2B user id, new company
    assert dumped["store"]["multiStorefront"] is True
    assert dumped["store"]["hash"] == kit.HASH


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ({"nope": []}, "unknown key 'nope'"),
        ({"store": {"companiesBehavior": "both"}}, "companiesBehavior"),
        ({"store": {"hash": "a/b"}}, "store.hash"),
        ({"store": {"quirks": {"bogus": True}}}, "unknown quirk 'bogus'"),
        ({"quirks": {"limitAboveMax": "ignore"}}, "limitAboveMax"),
        ({"quirks": {"retryAfterHeader": "yes"}}, "retryAfterHeader"),
        ({"companies": [{"companyId": 1}]}, "companyName is required"),
        ({"companies": [{"companyName": "X", "companyStatus": 9}]}, "companyStatus"),
        ({"companies": [{"companyName": "X", "colour": 1}]}, "unknown key 'colour'"),
        ({"customers": [{"id": "x"}]}, "expected an integer"),
        ({"users": [{"customerId": 999, "companyId": 1001}]}, "customerId 999"),
        ({"users": [{"customerId": 400, "companyId": 9}]}, "companyId 9"),
        ({"companies": [{"companyName": "X", "customerGroupId": 99}]}, "customerGroupId 99"),
        ({"orders": [{"bcOrderId": 1, "customerId": 999}]}, "customerId 999"),
        ({"orders": [{"bcOrderId": 1, "companyId": 999}]}, "companyId 999"),
        ({"extraFieldConfigs": {"company": [{"fieldName": "a", "fieldType": 7}]}}, "fieldType"),
        ({"extraFieldConfigs": {"address": []}}, "unknown key 'address'"),
        ({"faults": [{"path": "x", "status": 1000}]}, "status"),
        ("not a mapping", "expected a mapping"),
    ],
)
def test_invalid_seeds(sb: Sandbox, seed: Any, message: str) -> None:
    """Bad seeds are SandboxErrors naming the place; nothing is half-applied."""
    before = sb.dump()
    with pytest.raises(SandboxError, match=message):
        sb.load_seed(seed)
    assert sb.dump() == before


def test_file_db_persists(tmp_path: Path, kit: Any, clock: Any) -> None:
    """A file db keeps state (and faults) across Sandbox instances."""
    db = str(tmp_path / "store.db")
    seed = kit.seed()
    seed["faults"] = [{"path": "/orders", "status": 500, "times": 1}]
    with Sandbox(db=db, seed=seed, clock=clock) as first:
        dumped = first.dump()
    with Sandbox(db=db, clock=clock) as second:
        assert second.dump() == dumped
        assert second.store_hash == kit.HASH


def test_default_quirks_exported() -> None:
    """The quirk switches and their defaults (b2b-api.md §7, §8)."""
    assert DEFAULT_QUIRKS == {
        "companyIdsAsStrings": True,
        "orderDetailAsArray": False,
        "ordersMetaFlat": False,
        "ordersTopLevelMessage": True,
        "limitAboveMax": "413",
        "retryAfterHeader": False,
        "companyAddressInResponses": False,
        "companyPutRequiresExtraFields": False,
        "ordersNoCompanyAsZero": False,
        "extraFieldsReplace": False,
        "emptyExtraFieldRefused": False,
        "zeroDateIsAbsent": False,
        "ordersSyncLag": 0,
        "lateSyncStampsSyncTime": False,
        "channelsErrorInMeta": False,
        "priceListUpsertRefused": False,
        "userExtraFieldsReplace": False,
        "userPutRequiresExtraFields": False,
        "userCreateMovesOrders": True,
        "clockSkew": 0,
        "dateHeaderSkew": 0,
        "companiesSortedByIdByDefault": False,
        "sideEffectsBumpUpdatedAt": True,
        "dateHeader": True,
    }


def test_db_file_errors(tmp_path: Path) -> None:
    """A file that is not a sandbox db, or one of another schema version, is a user error."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SandboxError, match="cannot open sandbox database"):
        Sandbox(db=str(junk))
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.execute("CREATE TABLE store (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(SandboxError, match="another version of the sandbox"):
        Sandbox(db=str(old))


@pytest.mark.parametrize(
    "bad",
    [
        {"seed": {"nope": 1}},
        {"seed": {"customerGroups": [{"id": "twelve"}]}},
        {"faults": [{"method": "GET", "path": "(", "status": 500}]},
        {"rate_limit": (0, 60.0)},
    ],
    ids=["unknown-key", "bad-group", "bad-fault", "bad-rate-limit"],
)
def test_a_refused_sandbox_closes_its_database(
    bad: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sandbox.__init__ refusing its arguments leaves no SQLite connection open behind it."""
    opened: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def tracking_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        opened.append(conn)
        return conn

    monkeypatch.setattr(sqlite3, "connect", tracking_connect)
    with pytest.raises(SandboxError):
        Sandbox(db=str(tmp_path / "store.db"), **bad)
    assert opened, "the sandbox opened its database before refusing"
    for conn in opened:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            conn.execute("SELECT 1")


_names = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=20)
_values = st.dictionaries(st.sampled_from(["licenseNo", "tier", "x y"]), _names, max_size=3)


@st.composite
def _seeds(draw: st.DrawFn) -> dict[str, Any]:
    groups = draw(st.lists(st.integers(1, 50), unique=True, max_size=5))
    companies = [
        {
            "companyId": cid,
            "companyName": draw(_names),
            "customerGroupId": draw(st.sampled_from([None, *groups])),
            "companyStatus": draw(st.integers(0, 3)),
            "uuid": draw(_names),
            "extraFields": draw(_values),
            "address": draw(st.dictionaries(st.sampled_from(["city", "country"]), _names)),
            "createdAt": draw(st.integers(0, 2**31)),
        }
        for cid in draw(st.lists(st.integers(1, 10**6), unique=True, max_size=6))
    ]
    orders = [
        {
            "bcOrderId": oid,
            "companyId": draw(st.sampled_from([None] + [c["companyId"] for c in companies])),
            "poNumber": draw(_names),
            "extraFields": draw(_values),
            "totalIncTax": draw(st.floats(0, 10**6, allow_nan=False)),
        }
        for oid in draw(st.lists(st.integers(1, 10**9), unique=True, max_size=8))
    ]
    return {
        "store": {"quirks": {"ordersMetaFlat": draw(st.booleans())}},
        "customerGroups": [{"id": g, "name": draw(_names)} for g in groups],
        "companies": companies,
        "orders": orders,
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_seeds())
def test_round_trip_property(seed: dict[str, Any]) -> None:
    """Any valid seed: dump keeps what was seeded, and dump -> seed -> dump is the identity."""
    with Sandbox(seed=seed, clock=lambda: 1_700_000_000.0) as sb:
        dumped = sb.dump()
    for company in seed["companies"]:
        got = next(c for c in dumped["companies"] if c["companyId"] == company["companyId"])
        wanted = {**company, "address": {k: v for k, v in company["address"].items() if v}}
        assert _subset(wanted, got)
    with Sandbox(seed=copy.deepcopy(dumped), clock=lambda: 1_800_000_000.0) as again:
        assert again.dump() == dumped
