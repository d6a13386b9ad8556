"""A large Dependent store and the manifests that manage it, built deterministically in Python.

``Scenario(...)`` describes the shape; ``seed()`` gives the sandbox seed and ``manifests()`` the
``ManifestSet``, both derived from the same numbering, so that a separate process can rebuild the
manifests from the parameters alone (the planning process does, as ``plan`` would load YAML).

Numbering (``C`` companies, ``B`` buyers):

- company ``i`` (1..C): ``companyId = 100000 + i``, customer group ``i``, admin customer ``i``;
- free customer groups ``C+1 .. C+converts`` (to be converted into companies);
- buyer ``j`` (1..B): customer ``C + j``, a user (junior buyer) of company ``assigned_company(j)``;
  the first ``2 * (oa_customers // 2)`` buyers are the OrderAssignment customers, two per
  company for the first ``oa_customers // 2`` companies;
- orders ``1_000_001 ..``: ``orders_per_oa_customer`` per OrderAssignment customer, the rest spread
  over admins, other buyers and guests (customer 0).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

from reconciler.kinds.company import AdminSpec, CompanySpec
from reconciler.kinds.company_users import CompanyUsersSpec, UserSpec
from reconciler.kinds.order import OrderSpec
from reconciler.kinds.order_assignment import OrderAssignmentSpec
from reconciler.model import ManifestSet, StoreSpec

STORE_HASH = "bench1"
TOKEN = "bench-token"
ORDER_BASE = 1_000_000
COMPANY_BASE = 100_000
YEAR = 365 * 86_400
EPOCH = 1_700_000_000
"""Seeded objects were created and last modified before this time (long before any run)."""


@dataclass(frozen=True)
class Scenario:
    """The shape of the store and of the change the manifests ask for."""

    companies: int = 10_000
    orders: int = 100_000
    oa_customers: int = 2_000
    buyers: int = 10_000
    """Company users besides the admins (the OrderAssignment customers are among them)."""
    orders_per_oa_customer: int = 10
    converts: int = 20
    """Customer groups without a company that the manifests turn into companies."""
    renamed: int = 100
    retiered: int = 100
    recataloged: int = 50
    deactivated: int = 50
    loose_customers: int = 150
    """OrderAssignment customers with 2 company-less orders (planned as ``assign``)."""
    foreign_customers: int = 150
    """OrderAssignment customers with 1 order in another company (planned as ``reassign``)."""
    order_docs: int = 500
    changed_orders: int = 100
    user_docs: int = 20
    """Companies (the last ones, untouched otherwise) with a CompanyUsers document listing
    every user they have."""
    promoted: int = 5
    """Listed users whose role changes (``updateUser``)."""
    new_users: int = 10
    """Listed users who do not exist yet (``createUser``), spread over those companies."""
    unmanaged: int = 0
    """Companies (just before the CompanyUsers ones) that no document names."""
    guest_share: float = 0.05
    rng_seed: int = 42
    requests_per_minute: int = 120

    def params(self) -> dict[str, Any]:
        """The parameters alone (what another process needs to rebuild everything)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # ------------------------------------------------------------------ numbering

    @staticmethod
    def company_id(i: int) -> int:
        return COMPANY_BASE + i

    def buyer(self, j: int) -> int:
        return self.companies + j

    def assigned_company(self, j: int) -> int:
        """The company (1..C) buyer ``j`` is a user of."""
        pairs = self.oa_customers // 2
        if j <= 2 * pairs:
            return (j + 1) // 2
        return 1 + (j * 7919) % self.companies

    def oa_pairs(self) -> Iterator[tuple[int, tuple[int, int]]]:
        """``(company, (customer, customer))`` for each OrderAssignment."""
        for k in range(1, self.oa_customers // 2 + 1):
            yield k, (self.buyer(2 * k - 1), self.buyer(2 * k))

    def oa_customer_ids(self) -> list[int]:
        return [c for _, pair in self.oa_pairs() for c in pair]

    def changed_companies(self) -> dict[str, range]:
        """Which companies (1..C) get which change: consecutive blocks after the OA companies."""
        start = self.oa_customers // 2 + 1
        out: dict[str, range] = {}
        for name, size in (
            ("renamed", self.renamed),
            ("retiered", self.retiered),
            ("recataloged", self.recataloged),
            ("deactivated", self.deactivated),
        ):
            out[name] = range(start, start + size)
            start += size
        return out

    def user_doc_companies(self) -> range:
        """The companies (1..C) with a CompanyUsers document."""
        return range(max(1, self.companies - self.user_docs + 1), self.companies + 1)

    def unmanaged_companies(self) -> range:
        """The companies (1..C) without a Company document."""
        end = self.user_doc_companies().start
        out = range(max(1, end - self.unmanaged), end)
        if self.unmanaged and out.start < self.changed_companies()["deactivated"].stop:
            raise ValueError("too few companies for this many unmanaged ones")
        return out

    def users_of(self) -> dict[int, list[tuple[int, str]]]:
        """``company -> [(customer, e-mail)]`` of the companies with a CompanyUsers document:
        the admin, then the buyers."""
        wanted = set(self.user_doc_companies())
        out: dict[int, list[tuple[int, str]]] = {i: [(i, f"admin{i}@example.com")] for i in wanted}
        for j in range(1, self.buyers + 1):
            company = self.assigned_company(j)
            if company in wanted:
                out[company].append((self.buyer(j), f"buyer{j}@example.com"))
        return out

    # ------------------------------------------------------------------ orders

    def order_rows(self) -> list[dict[str, Any]]:
        """Every order of the seed (deterministic)."""
        return self._orders[0]

    def order_doc_ids(self) -> list[int]:
        """The orders that Order documents name."""
        return self._orders[1]

    @cached_property
    def _orders(self) -> tuple[list[dict[str, Any]], list[int]]:
        rng = random.Random(self.rng_seed)
        rows: list[dict[str, Any]] = []
        next_id = ORDER_BASE + 1

        def add(customer: int, company: int | None) -> None:
            nonlocal next_id
            created = EPOCH - rng.randrange(YEAR)
            rows.append(
                {
                    "bcOrderId": next_id,
                    "customerId": customer,
                    "companyId": None if company is None else self.company_id(company),
                    "poNumber": "",
                    "extraFields": {},
                    "createdAt": created,
                    "updatedAt": created + rng.randrange(86_400),
                }
            )
            next_id += 1

        oa = self.oa_customer_ids()
        loose = set(oa[: self.loose_customers])
        foreign = set(oa[self.loose_customers : self.loose_customers + self.foreign_customers])
        for customer in oa:
            j = customer - self.companies
            home = self.assigned_company(j)
            for n in range(self.orders_per_oa_customer):
                if customer in loose and n < 2:
                    add(customer, None)
                elif customer in foreign and n == 0:
                    add(customer, home % self.companies + 1)  # the next company
                else:
                    add(customer, home)
        others = self.orders - len(rows)
        oa_set = set(oa)
        for _ in range(max(0, others)):
            roll = rng.random()
            if roll < self.guest_share:
                add(0, None)
            elif roll < 0.5:
                i = rng.randrange(1, self.companies + 1)
                add(i, i)
            else:
                j = rng.randrange(1, self.buyers + 1)
                while self.buyer(j) in oa_set:
                    j = rng.randrange(1, self.buyers + 1)
                add(self.buyer(j), self.assigned_company(j))
        # Order documents: the first ``order_docs`` orders of non-OA customers carry B2B data.
        docs = [r for r in rows if r["customerId"] not in oa_set][: self.order_docs]
        for row in docs:
            row["poNumber"] = f"PO-{row['bcOrderId']}"
            row["extraFields"] = {"costCenter": "CC-1"}
        return rows, [r["bcOrderId"] for r in docs]

    # ------------------------------------------------------------------ seed

    def _tier(self, i: int) -> str:
        return "Gold" if i % 3 else "Silver"

    def seed(self) -> dict[str, Any]:
        """The sandbox seed (contract shape)."""
        c = self.companies
        seed: dict[str, Any] = {
            "store": {
                "hash": STORE_HASH,
                "companiesBehavior": "dependent",
                "multiStorefront": False,
                "accessToken": TOKEN,
            },
            "priceLists": [{"id": 1, "name": "Retail"}, {"id": 2, "name": "Wholesale"}],
            "extraFieldConfigs": {
                "company": [
                    {"fieldName": "licenseNo", "fieldType": 0, "maximumLength": 50},
                    {"fieldName": "tier", "fieldType": 3, "listOfValue": ["Gold", "Silver"]},
                ],
                "order": [{"fieldName": "costCenter", "fieldType": 0, "maximumLength": 20}],
            },
        }
        seed["customerGroups"] = [
            {"id": g, "name": f"Group {g}"} for g in range(1, c + self.converts + 1)
        ]
        customers = [
            {
                "id": i,
                "email": f"admin{i}@example.com",
                "firstName": "Admin",
                "lastName": str(i),
                "customerGroupId": i,
            }
            for i in range(1, c + 1)
        ]
        customers += [
            {
                "id": self.buyer(j),
                "email": f"buyer{j}@example.com",
                "firstName": "Buyer",
                "lastName": str(j),
                "customerGroupId": self.assigned_company(j),
            }
            for j in range(1, self.buyers + 1)
        ]
        seed["customers"] = customers
        seed["companies"] = [
            {
                "companyId": self.company_id(i),
                "customerGroupId": i,
                "companyName": f"Company {i}",
                "companyEmail": f"admin{i}@example.com",
                "companyPhone": "555-0100",
                "companyStatus": 1,
                "catalogId": "1",
                "address": {"country": "US"},
                "extraFields": {"licenseNo": f"L{i}", "tier": self._tier(i)},
                "createdAt": EPOCH - YEAR - i,
                "updatedAt": EPOCH - i,
            }
            for i in range(1, c + 1)
        ]
        since = {"createdAt": EPOCH - YEAR, "updatedAt": EPOCH - YEAR}
        seed["users"] = [
            {"customerId": i, "companyId": self.company_id(i), "role": 0, **since}
            for i in range(1, c + 1)
        ] + [
            {
                "customerId": self.buyer(j),
                "companyId": self.company_id(self.assigned_company(j)),
                "role": 2,
                **since,
            }
            for j in range(1, self.buyers + 1)
        ]
        seed["orders"] = self.order_rows()
        return seed

    # ------------------------------------------------------------------ manifests

    def manifests(self) -> ManifestSet:
        """Every company managed (a few hundred changed), OrderAssignments, Order documents."""
        changed = self.changed_companies()
        specs: list[CompanySpec] = []
        unmanaged = set(self.unmanaged_companies())
        for i in range(1, self.companies + 1):
            if i in unmanaged:
                continue
            name = f"Company {i}"
            tier = self._tier(i)
            catalog = "1"
            status = "approved"
            if i in changed["renamed"]:
                name = f"Company {i} Ltd"
            if i in changed["retiered"]:
                tier = "Silver" if tier == "Gold" else "Gold"
            if i in changed["recataloged"]:
                catalog = "2"
            if i in changed["deactivated"]:
                status = "inactive"
            specs.append(
                CompanySpec(
                    name=f"company-{i}",
                    customer_group_id=i,
                    company_name=name,
                    company_email=f"admin{i}@example.com",
                    company_phone="555-0100",
                    status=status,
                    catalog_id=catalog,
                    extra_fields={"licenseNo": f"L{i}", "tier": tier},
                )
            )
        for g in range(self.companies + 1, self.companies + self.converts + 1):
            specs.append(
                CompanySpec(
                    name=f"company-{g}",
                    customer_group_id=g,
                    company_name=f"New company {g}",
                    company_email=f"new{g}@example.com",
                    company_phone="555-0199",
                    address={"addressLine1": "1 Main St", "city": "Austin", "country": "US"},
                    catalog_id="1",
                    extra_fields={"licenseNo": f"N{g}", "tier": "Gold"},
                    admin=AdminSpec(
                        email=f"new{g}@example.com",
                        first_name="New",
                        last_name=str(g),
                        phone_number="555-0199",
                    ),
                )
            )
        assignments = tuple(
            OrderAssignmentSpec(name=f"buyers-{k}", company=f"company-{k}", customer_ids=pair)
            for k, pair in self.oa_pairs()
        )
        users = self._user_specs()
        docs = self.order_doc_ids()
        orders = tuple(
            OrderSpec(
                name=f"po-{oid}",
                bc_order_id=oid,
                po_number=f"PO-{oid}-B" if n < self.changed_orders else f"PO-{oid}",
                extra_fields={"costCenter": "CC-1"},
            )
            for n, oid in enumerate(docs)
        )
        return ManifestSet(
            store=StoreSpec(
                name="store",
                store_hash=STORE_HASH,
                companies_behavior="dependent",
                requests_per_minute=self.requests_per_minute,
            ),
            specs=(*specs, *users, *assignments, *orders),
            digest="sha256:bench",
        )

    def _user_specs(self) -> tuple[CompanyUsersSpec, ...]:
        """Every user of the CompanyUsers companies; the first ``promoted`` buyers become
        senior buyers; ``new_users`` new e-mails, round robin over the companies."""
        companies = list(self.user_doc_companies())
        listed: dict[int, list[UserSpec]] = {i: [] for i in companies}
        promoted = 0
        for company, members in self.users_of().items():
            for customer, email in members:
                role = "admin" if customer == company else "junior-buyer"
                if role != "admin" and promoted < self.promoted:
                    role, promoted = "senior-buyer", promoted + 1
                first, last = ("Admin", str(customer)) if role == "admin" else ("Buyer", "")
                if role != "admin":
                    last = email.removeprefix("buyer").split("@")[0]
                listed[company].append(UserSpec(email, first, last, role))
        for n in range(self.new_users):
            company = companies[n % len(companies)]
            listed[company].append(UserSpec(f"new{n}@users.example", "New", str(n), "junior-buyer"))
        return tuple(
            CompanyUsersSpec(name=f"users-{i}", company=f"company-{i}", users=tuple(listed[i]))
            for i in companies
        )

    def expected_actions(self) -> dict[str, int]:
        """What the plan must hold, by type."""
        oa = 2 * (self.oa_customers // 2)
        return {
            "convert": self.converts,
            "update": self.renamed + self.retiered,
            "setStatus": self.deactivated,
            "setCatalog": self.recataloged,
            "assign": min(self.loose_customers, oa),
            "reassign": min(self.foreign_customers, max(0, oa - self.loose_customers)),
            "updateOrder": min(self.changed_orders, self.order_docs),
            "createUser": self.new_users if self.user_docs else 0,
            "updateUser": self.promoted if self.user_docs else 0,
        }
