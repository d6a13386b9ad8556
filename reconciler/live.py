"""Read the live state the manifests need, with the fewest requests.

Each part of the read picks, from what it has learned so far, the cheaper of a paged listing and
per-object look-ups. A listing's first page costs one request and tells the total, so it doubles
as the count that the choice needs; when that page already is the whole list, nothing more is
sent.

Strategy and cost, per part (``P(n, s) = max(1, ceil(n / s))`` is the requests for a listing of
``n`` objects in pages of ``s``; ``found`` counts what a first page already answered):

- **companies** (any Company document; ``G`` distinct managed customer groups, ``C`` companies):
  first page of ``GET /companies?isIncludeExtraFields=1&limit=250``; if more pages follow, either
  the rest of them (``P(C,250) - 1``) or ``GET /companies?bcGroupId=g`` per managed group not yet
  resolved (``G - found``; on Dependent stores a group seen on the first page is resolved, since
  group and company are one to one). Cost ``1 + min(P(C,250) - 1, G - found)``, i.e.
  ``min(P(C,250), G + 1)`` when ``found`` is 0 (a tie pages everything, which also counts the
  unmanaged companies).
  On Independent stores every company is read, ``P(C,250)``: a document finds its company by
  id, uuid or name, and shared groups hold companies no document names.
- **company extra-field configs** (any Company document: every company PUT carries the
  required fields, b2b-api.md §9.12): ``P(F,250)``. **Order configs** (some Order document):
  ``P(F,200)``.
- **customer groups** (only the ``M`` managed groups without a company need their existence
  checked; groups of live companies exist): ``M = 0``: 0; ``M = 1``: ``GET
  /v2/customer_groups/{id}``; ``M >= 2``: the first page of 250, then, if it was full, the count
  (``GET /v2/customer_groups/count``, so that the next incremental read can prove the answers
  unchanged with two requests) and per-group look-ups of those not on it:
  ``1 + (0 if groups < 250 else 1 + M - found)``.
- **price-list assignments** of the ``A`` groups PriceListAssignment documents name (core):
  ``ceil(A / 50)`` (``customer_group_id:in`` carries 50 ids; a group has one assignment per
  channel, so a page of 250 holds 50 groups' on up to five channels).
- **price lists** (some Company sets ``catalogId`` or ``priceListAssign``): ``P(L,250)``;
  **channels** (Multi-Storefront and some ``priceListAssign``): ``P(H,250)``.
- **membership** of the ``N`` customers of OrderAssignments: ``N <= 1``: ``N`` look-ups
  (``GET /users/customer/{id}``); else the first page of ``GET /users?limit=250``, then the
  cheaper of the rest (``P(U,250) - 1``) and per-customer look-ups of those not on it
  (``N - found``): ``1 + min(P(U,250) - 1, N - found)``.
- **company users** (any CompanyUsers document; ``E`` listed e-mails, ``K`` live companies the
  documents name, ``u_k`` users of each, ``U`` users in the store): the first page of
  ``GET /users?isIncludeExtraFields=1&limit=250``; if more pages follow, either the rest of them
  (``P(U,250) - 1``) or ``GET /users?companyId=k`` per named company and then one
  ``GET /users?q=<e-mail>`` per listed e-mail found in none of those (``X``): the rest when
  ``P(U,250) - 1 <= K + (E - found)``. Cost ``1 + min-by-that-rule(P(U,250) - 1,
  sum(P(u_k,250)) + X)``. **User extra-field configs**: ``P(F,250)``. **E-mails of the
  OrderAssignment customers** who are no company user (``n``; only with CompanyUsers
  documents, which may make them members): ``GET /v3/customers?id:in=...``, ``ceil(n/50)``.
- **their orders** (core; ``k_c`` orders of customer ``c``, ``O`` orders in the store): per
  customer, ``GET /v2/orders?customer_id=c&limit=250``, ``floor(k_c / 250) + 1`` each (the last
  page is short, or a 204), ``S = sum(floor(k_c / 250) + 1)`` in all, at least ``N``; or one
  ``GET /v2/orders/count`` and then every order of the store in pages of 250 by ascending id,
  mapped to customers by ``customer_id``: ``1 + ceil(O / 250)``. With ``N <= 2`` paging cannot
  win (it costs at least 2), so no count is asked: ``S``. Else the count comes first, and paging
  is chosen when ``ceil(O / 250) <= N`` (then it costs no more than ``S >= N``):
  ``1 + (ceil(O / 250) if ceil(O / 250) <= N else S)``.
- **the B2B side of the ``K`` orders** (those orders plus the ones Order documents name):
  ``K <= 1``: ``K`` (``GET /orders/{id}``); else the first page of
  ``GET /orders?minCreated=1&limit=200``, then ``1 + min(P(O,200) - 1, K - found)``.
  Then each order of an Order document that B2B Edition lacks is looked up in core
  (``GET /v2/orders/{id}``, ``D`` requests): known there, it is one B2B has not synced yet
  (b2b-api.md §9.13), a warning rather than an error.

The total is ``lower_bound``: the fewest requests that can establish the same facts for this
store once the sizes above are known. Only a reader that knew the sizes in advance could do
better, and by one request at most per part (the first page, or the core orders count, used as a
probe when per-object look-ups would have been cheaper; see ``plan_read_cost``).
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import cast

from reconciler import kinds
from reconciler.api import ApiClient
from reconciler.api.b2b import (
    COMPANY_PAGE,
    ORDER_CONFIG_PAGE,
    ORDER_PAGE,
    USER_PAGE,
    Page,
    pages_for,
)
from reconciler.api.core import IDS_PER_FILTER, V2_PAGE, V3_PAGE
from reconciler.api.decode import DecodeError
from reconciler.errors import NotFoundError
from reconciler.model import (
    ExtraFieldConfig,
    GroupsSeen,
    LiveCompany,
    LiveCustomer,
    LiveOrder,
    LivePriceListAssignment,
    LiveState,
    LiveUser,
    ManifestSet,
    ReadNeeds,
)
from reconciler.packed import IdSet, UserRows, ids_or_none, listed_rows_or_none, rows_or_none

CONFIG_PAGE = 250

__all__ = [
    "ReadCost",
    "ReadCounts",
    "ReadNeeds",
    "Reader",
    "lower_bound",
    "plan_read_cost",
    "read_live",
    "read_needs",
    "run_reader",
]


# ----------------------------------------------------------------------------- what is needed


def read_needs(manifests: ManifestSet) -> ReadNeeds:
    """What a manifest set needs from the live store: every kind's part, merged (no I/O)."""
    return kinds.needs_of(manifests)


def _distinct(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(values))


# ----------------------------------------------------------------------------- cost model


@dataclass(frozen=True)
class ReadCounts:
    """The store's sizes that decide the cost of a read (learned by the read, or from a seed).

    The ``*_first_page`` fields count what a first page already answered; they only matter when
    that listing has more than one page (leave them 0 for a worst case).
    """

    companies: int = 0
    groups_on_first_page: int = 0
    """Managed groups whose company is on the first companies page (used on Dependent stores)."""
    missing_groups: int = 0
    """Managed groups with no company (their existence must be checked)."""
    customer_groups: int = 0
    missing_groups_on_first_page: int = 0
    company_extra_fields: int = 0
    order_extra_fields: int = 0
    price_lists: int = 0
    channels: int = 0
    users: int = 0
    customers_on_first_page: int = 0
    """Customers of OrderAssignments found on the first users page."""
    user_extra_fields: int = 0
    users_of_companies: tuple[int, ...] = ()
    """Users of each live company that CompanyUsers documents name."""
    listed_users_on_first_page: int = 0
    """Listed e-mails whose user is on the first users page."""
    listed_users_elsewhere: int = 0
    """Listed e-mails on neither the first users page nor in a named company's users (each
    is looked up when the reader lists per company)."""
    customers_not_users: int = 0
    """OrderAssignment customers who are no company user (their e-mails are read when
    CompanyUsers documents exist)."""
    orders_per_customer: Mapping[int, int] = field(default_factory=dict)
    """Core orders of each customer of the OrderAssignments."""
    core_orders: int = 0
    """Core orders in the store (``GET /v2/orders/count``; guest orders included)."""
    orders_to_read: int = 0
    """Distinct orders whose B2B side is needed (customers' orders and Order documents)."""
    orders: int = 0
    """B2B orders in the store (all of them, B2C and guest orders included)."""
    orders_on_first_page: int = 0
    """Orders to read that are on the first orders page."""
    order_docs_missing: int = 0
    """Orders of Order documents that B2B Edition lacks (each is looked up in core)."""


@dataclass(frozen=True)
class ReadCost:
    """Requests per part of the read."""

    companies: int = 0
    company_extra_fields: int = 0
    order_extra_fields: int = 0
    customer_groups: int = 0
    price_lists: int = 0
    channels: int = 0
    users: int = 0
    user_extra_fields: int = 0
    company_users: int = 0
    customer_emails: int = 0
    customer_orders: int = 0
    orders: int = 0
    core_order_checks: int = 0
    price_list_assignments: int = 0

    @property
    def total(self) -> int:
        """All requests."""
        return sum(getattr(self, f.name) for f in fields(self))


def _probe_then_cheaper(wanted: int, total: int, page: int, found: int) -> int:
    """Nothing for 0 wanted, one look-up for 1; else a first page, then the cheaper of the
    remaining pages and look-ups of what the first page did not answer."""
    if wanted <= 1:
        return max(0, wanted)
    rest = pages_for(total, page) - 1
    if rest == 0:
        return 1
    return 1 + min(rest, max(0, wanted - found))


def _company_users_cost(needs: ReadNeeds, counts: ReadCounts) -> int:
    if not needs.user_emails:
        return 0
    rest = pages_for(counts.users, USER_PAGE) - 1
    if rest == 0:
        return 1
    unlocated = max(0, len(needs.user_emails) - counts.listed_users_on_first_page)
    if rest <= len(counts.users_of_companies) + unlocated:
        return 1 + rest
    per_company = sum(pages_for(u, USER_PAGE) for u in counts.users_of_companies)
    return 1 + per_company + counts.listed_users_elsewhere


EMAILS_PER_REQUEST = 50
"""Customer ids per ``GET /v3/customers?id:in=`` (the core filter takes at most 50)."""


def _customer_emails_cost(needs: ReadNeeds, counts: ReadCounts) -> int:
    if not (needs.user_emails and needs.customers):
        return 0
    return -(-counts.customers_not_users // EMAILS_PER_REQUEST)


PAGING_MIN_CUSTOMERS = 3
"""Below this many customers, per-customer order lists are never dearer than count + paging."""


def _order_pages(core_orders: int) -> int:
    """Requests to page through every core order once their count is known (0 for none)."""
    return -(-max(0, core_orders) // V2_PAGE)


def _pages_win(customers: int, core_orders: int) -> bool:
    """After the count: paging every order costs no more than per-customer lists (>= N)."""
    return _order_pages(core_orders) <= customers


def _customer_orders_cost(customers: tuple[int, ...], counts: ReadCounts) -> int:
    per_customer = sum(counts.orders_per_customer.get(c, 0) // V2_PAGE + 1 for c in customers)
    if len(customers) < PAGING_MIN_CUSTOMERS:
        return per_customer
    if _pages_win(len(customers), counts.core_orders):
        return 1 + _order_pages(counts.core_orders)
    return 1 + per_customer


def plan_read_cost(needs: ReadNeeds, counts: ReadCounts) -> ReadCost:
    """The requests ``read_live`` makes for these needs on a store of these sizes."""
    companies = 0
    if needs.every_company:
        companies = pages_for(counts.companies, COMPANY_PAGE)
    elif needs.groups:
        rest = pages_for(counts.companies, COMPANY_PAGE) - 1
        found = counts.groups_on_first_page if needs.dependent else 0
        companies = 1 + min(rest, max(0, len(needs.groups) - found))
    configs_needed = needs.company_extra_fields or (bool(needs.groups) and counts.missing_groups)
    missing = counts.missing_groups if needs.groups else 0
    if missing <= 1:
        groups = missing
    else:
        full = counts.customer_groups >= V2_PAGE
        groups = 1 + (1 + max(0, missing - counts.missing_groups_on_first_page) if full else 0)
    users = _probe_then_cheaper(
        len(needs.customers), counts.users, USER_PAGE, counts.customers_on_first_page
    )
    orders = _probe_then_cheaper(
        counts.orders_to_read, counts.orders, ORDER_PAGE, counts.orders_on_first_page
    )
    return ReadCost(
        companies=companies,
        company_extra_fields=(
            pages_for(counts.company_extra_fields, CONFIG_PAGE) if configs_needed else 0
        ),
        order_extra_fields=(
            pages_for(counts.order_extra_fields, ORDER_CONFIG_PAGE)
            if needs.order_extra_fields
            else 0
        ),
        customer_groups=groups,
        price_lists=pages_for(counts.price_lists, V3_PAGE) if needs.price_lists else 0,
        channels=pages_for(counts.channels, V3_PAGE) if needs.channels else 0,
        users=users,
        user_extra_fields=(
            pages_for(counts.user_extra_fields, CONFIG_PAGE) if needs.user_extra_fields else 0
        ),
        company_users=_company_users_cost(needs, counts),
        customer_emails=_customer_emails_cost(needs, counts),
        customer_orders=_customer_orders_cost(needs.customers, counts),
        orders=orders,
        core_order_checks=counts.order_docs_missing if needs.order_docs else 0,
        price_list_assignments=-(-len(needs.assignment_groups) // IDS_PER_FILTER),
    )


def lower_bound(needs: ReadNeeds, counts: ReadCounts) -> int:
    """The fewest requests that read what ``needs`` asks of a store of these sizes."""
    return plan_read_cost(needs, counts).total


# ----------------------------------------------------------------------------- the reader


def read_live(
    client: ApiClient,
    manifests: ManifestSet,
    *,
    wall_clock: Callable[[], float] = time.time,
) -> LiveState:
    """Fetch what the manifests need (see the module doc for the strategy and its cost)."""
    return run_reader(Reader(client, read_needs(manifests)), client, wall_clock)


def run_reader(reader: Reader, client: ApiClient, wall_clock: Callable[[], float]) -> LiveState:
    """Run a reader; the live state it found, with its cost and start time."""
    read_at = int(wall_clock())
    start = client.stats.requests
    clock = client.http.watch_store_clock()
    state = reader.read()
    return LiveState(
        store_hash=client.store_hash,
        companies=state.companies,
        customer_groups=state.customer_groups,
        price_lists=state.price_lists,
        channels=state.channels,
        company_field_configs=state.company_configs,
        order_field_configs=state.order_configs,
        user_field_configs=state.user_configs,
        users=state.users,
        customers=state.customers,
        orders=state.orders,
        core_only_orders=state.core_only_orders,
        requests=client.stats.requests - start,
        read_at=read_at,
        store_read_at=clock.get("b2b"),
        company_total=reader.company_total,
        price_list_assignments=state.price_list_assignments,
    )


AdminHolder = tuple[int, int] | None
"""The user holding an e-mail: ``(customerId, companyId)``, or None when no company user has it."""


def read_admin_users(
    client: ApiClient,
    manifests: ManifestSet,
    live: LiveState,
    *,
    known: Mapping[str, AdminHolder] | None = None,
    record: dict[str, AdminHolder] | None = None,
) -> LiveState:
    """``live`` with the admin e-mails of companies to create that a company user already has.

    B2B Edition keeps user e-mails unique across companies, so creating a company whose admin
    e-mail is taken fails with 422 at apply; this finds it at plan time. One
    ``GET /users?email=`` per Company document that names an admin and has no live company yet
    (usually none: imported manifests carry no admin), outside ``lower_bound``. A row counts
    only when its e-mail matches, so an API that ignored the filter cannot raise a false alarm.
    ``known``: e-mails (lower case) whose holder is proved already (``reconciler.incremental``:
    from the snapshot and the users modified since), not asked again; ``record`` receives the
    holder of every e-mail checked.
    """
    existing = {c.customer_group_id for c in live.companies} | {
        c.company_id for c in live.companies
    }
    start = client.stats.requests
    taken: dict[str, int] = {}
    asked: set[str] = set()
    for spec in manifests.companies:
        admin = spec.admin
        if admin is None or not admin.email or spec.customer_group_id in existing:
            continue
        if getattr(spec, "company_id", None) in existing:
            continue
        email = admin.email.lower()
        if email in asked:
            continue
        asked.add(email)
        if known is not None and email in known:
            held = known[email]
        else:
            page = client.b2b.company_users_page(email=admin.email, limit=USER_PAGE)
            user = next((u for u in page.items if u.email.lower() == email and u.company_id), None)
            held = (
                None
                if user is None or user.company_id is None
                else (user.customer_id, user.company_id)
            )
        if record is not None:
            record[email] = held
        if held is not None and not _created_meanwhile(client, held[1], spec.customer_group_id):
            taken[email] = held[1]
    if not asked:
        return live
    return replace(live, admin_users=taken, requests=live.requests + client.stats.requests - start)


def _created_meanwhile(client: ApiClient, company_id: int, group: int) -> bool:
    """The admin's company is the one this document describes, created since the read (another
    apply won a race): not a conflict; the staleness check and the create's confirm read
    deal with it."""
    try:
        company = client.b2b.get_company(company_id)
    except NotFoundError:
        return False
    return company.customer_group_id == group


@dataclass
class _Found:
    companies: tuple[LiveCompany, ...] = ()
    customer_groups: frozenset[int] = frozenset()
    price_lists: frozenset[int] = frozenset()
    channels: frozenset[int] = frozenset()
    company_configs: tuple[ExtraFieldConfig, ...] = ()
    order_configs: tuple[ExtraFieldConfig, ...] = ()
    user_configs: tuple[ExtraFieldConfig, ...] = ()
    users: tuple[LiveUser, ...] = ()
    customers: dict[int, LiveCustomer] = field(default_factory=dict)
    orders: dict[int, LiveOrder] = field(default_factory=dict)
    core_only_orders: frozenset[int] = frozenset()
    price_list_assignments: tuple[LivePriceListAssignment, ...] = ()


class Reader:
    """The full reader. Besides the state, it keeps what it learned about the whole store
    when a part listed everything (for the snapshot of ``reconciler.incremental``)."""

    def __init__(self, client: ApiClient, needs: ReadNeeds) -> None:
        self.b2b = client.b2b
        self.core = client.core
        self.needs = needs
        self.company_total: int | None = None
        self.all_companies: list[LiveCompany] | None = None
        """Every company in the store, in read order (when the read listed them all)."""
        self.user_rows: UserRows | None = None
        """customerId -> (companyId, updatedAt) of every user (when the read listed them all)."""
        self.order_ids: IdSet | None = None
        """Every B2B order id (when the read listed them all)."""
        self.core_count: int | None = None
        self.core_max_id: int | None = None
        """The core order count and the highest order id (when the read paged every order)."""
        self.core_ids: array[int] | None = None
        """Every core order id (when the read paged every order; 8 bytes an id), until the
        B2B orders part is read (``_note_unsynced``)."""
        self.unsynced: frozenset[int] | None = None
        """The core orders B2B Edition had no record of at this read (when the read paged
        every core order and listed every B2B order: ``order_ids``): the only orders whose B2B
        record may appear later with an ``updatedAt`` older than the read (a late sync,
        b2b-api.md §9.13), which no ``minModified`` listing shows."""
        self.groups: GroupsSeen | None = None
        """What the customer-group check learned (when it listed groups)."""

    def read(self) -> _Found:
        needs = self.needs
        out = _Found()
        if needs.groups or needs.every_company:
            out.companies = self._companies()
            if needs.dependent:
                for company in out.companies:
                    if company.customer_group_id is None:
                        raise DecodeError(
                            f"company {company.company_id} ({company.company_name!r}) has no "
                            "customer group (bcGroupId 0 or empty), which a store with "
                            "Dependent behavior cannot have; check companiesBehavior in the "
                            "Store manifest"
                        )
        live_groups = {c.customer_group_id for c in out.companies}
        missing = [g for g in needs.groups if g not in live_groups]
        if needs.company_extra_fields or missing:
            out.company_configs = self.b2b.company_extra_fields()
        if needs.order_extra_fields:
            out.order_configs = self.b2b.order_extra_fields()
        known = {g for g in live_groups if g is not None}
        out.customer_groups = frozenset(known | self._groups(missing))
        if needs.price_lists:
            out.price_lists = self.core.price_list_ids()
        if needs.channels:
            out.channels = self.core.channel_ids()
        if needs.user_extra_fields:
            out.user_configs = self.b2b.user_extra_fields()
        if needs.user_emails:
            out.users = self._company_users(out.companies)
        if needs.assignment_groups:
            out.price_list_assignments = self.core.price_list_assignments(
                customer_group_ids=needs.assignment_groups
            )
        membership = self._membership(needs.customers)
        emails: dict[int, str] = {}
        if needs.user_emails:
            outside = [c for c in needs.customers if membership.get(c, (None, None))[0] is None]
            emails = self.core.customer_emails(outside)
        order_ids = self._customer_orders(needs.customers)
        out.customers = {
            c: LiveCustomer(
                customer_id=c,
                company_id=membership.get(c, (None, None))[0],
                user_updated_at=membership.get(c, (None, None))[1],
                order_ids=order_ids[c],
                email=emails.get(c),
            )
            for c in needs.customers
        }
        wanted = _distinct([o for c in needs.customers for o in order_ids[c]] + [*needs.order_docs])
        out.orders = self._orders(wanted)
        self._note_unsynced()
        out.core_only_orders = frozenset(
            o for o in needs.order_docs if o not in out.orders and self.core.order_exists(o)
        )
        return out

    # -- companies

    def _companies(self) -> tuple[LiveCompany, ...]:
        return self._companies_after(self.b2b.companies_page())

    def _companies_after(self, first: Page[LiveCompany]) -> tuple[LiveCompany, ...]:
        """The companies the needs ask for, continuing after the first page."""
        self.company_total = first.total
        if first.last:
            self.all_companies = list(first.items)
            return tuple(first.items)
        total = first.total if first.total is not None else first.offset + first.raw_count + 1
        rest = pages_for(total, COMPANY_PAGE) - 1
        todo = self._groups_to_find(first)
        if self.needs.every_company or first.total is None or len(todo) >= rest:
            companies, _ = self.b2b.rest_of_companies(first)
            self.all_companies = list(companies)
            return tuple(companies)
        found = {c.company_id: c for c in first.items}
        for group in todo:
            companies, _ = self.b2b.list_companies(bc_group_id=group)
            found.update((c.company_id, c) for c in companies)
        return tuple(found.values())

    def _groups_to_find(self, first: Page[LiveCompany]) -> list[int]:
        """Managed groups a per-group read would list (on Dependent stores, those whose company
        the first page did not show)."""
        todo = list(self.needs.groups)
        if self.needs.dependent:
            seen = {c.customer_group_id for c in first.items}
            todo = [g for g in todo if g not in seen]
        return todo

    # -- customer groups

    def _groups(self, missing: list[int]) -> frozenset[int]:
        if not missing:
            return frozenset()
        if len(missing) == 1:
            group = missing[0]
            return frozenset({group}) if self.core.customer_group_exists(group) else frozenset()
        first = self.core.customer_groups_page(1)
        found = set(first)
        if len(first) < V2_PAGE:
            self.groups = GroupsSeen(len(first), tuple(first), {g: g in found for g in missing})
            return frozenset(found)
        # The count before the look-ups: what they answer is then the state of that count
        # (an incremental read proves it unchanged by the count and the groups created since).
        count = self.core.customer_group_count()
        known: dict[int, bool] = {}
        for group in missing:
            if group not in found:
                known[group] = self.core.customer_group_exists(group)
                if known[group]:
                    found.add(group)
        self.groups = GroupsSeen(count, tuple(first), known)
        return frozenset(found)

    # -- users

    def _membership(self, customers: tuple[int, ...]) -> dict[int, tuple[int | None, int | None]]:
        """customerId -> (companyId, user updatedAt); customers that are no user are left out."""
        if not customers:
            return {}
        if len(customers) == 1:
            return {customers[0]: self.b2b.user_by_customer(customers[0])}
        wanted = set(customers)
        first = self.b2b.users_page()
        out: dict[int, tuple[int | None, int | None]] = {
            cid: (company, updated) for cid, company, updated in first.items if cid in wanted
        }
        if first.last:
            self.user_rows = listed_rows_or_none(first.items)
            return out
        todo = [c for c in customers if c not in out]
        total = first.total
        if total is not None and len(todo) <= pages_for(total, USER_PAGE) - 1:
            for cid in todo:
                company, updated = self.b2b.user_by_customer(cid)
                if company is not None or updated is not None:
                    out[cid] = (company, updated)
            return out
        users, _ = self.b2b.rest_of_users(first)
        self.user_rows = listed_rows_or_none(users)
        for cid, company, updated in users:
            if cid in wanted:
                out[cid] = (company, updated)
        return out

    def _company_users(self, companies: tuple[LiveCompany, ...]) -> tuple[LiveUser, ...]:
        """The users of the companies CompanyUsers documents name, and the users with a listed
        e-mail wherever they are (see the module doc for the strategy)."""
        groups = set(self.needs.user_groups)
        ids = [c.company_id for c in companies if c.customer_group_id in groups]
        wanted = set(self.needs.user_emails)

        def relevant(user: LiveUser) -> bool:
            return user.company_id in ids or user.email.lower() in wanted

        first = self.b2b.company_users_page()
        found = {u.user_id: u for u in first.items}
        if first.last:
            self._all_users(first.items)
        else:
            located = {u.email.lower() for u in first.items} & wanted
            rest = pages_for(first.total, USER_PAGE) - 1 if first.total is not None else None
            if rest is None or rest <= len(ids) + len(wanted - located):
                users, _ = self.b2b.rest_of_company_users(first)
                found.update((u.user_id, u) for u in users)
                self._all_users(users)
            else:
                for company_id in ids:
                    users, _ = self.b2b.list_company_users(company_id=company_id)
                    found.update((u.user_id, u) for u in users)
                    located |= {u.email.lower() for u in users} & wanted
                for email in sorted(wanted - located):
                    users, _ = self.b2b.list_company_users(query=email)
                    found.update((u.user_id, u) for u in users if u.email.lower() == email)
        return tuple(u for _, u in sorted(found.items()) if relevant(u))

    def _all_users(self, users: Iterable[LiveUser]) -> None:
        self.user_rows = rows_or_none({u.customer_id: (u.company_id, u.updated_at) for u in users})

    # -- core orders of customers

    def _customer_orders(self, customers: tuple[int, ...]) -> dict[int, tuple[int, ...]]:
        """customerId -> order ids: per-customer lists, or one pass over every order."""
        if len(customers) >= PAGING_MIN_CUSTOMERS:
            count = self.core.order_count()
            if _pages_win(len(customers), count):
                return self._every_order(customers, count)
        return {c: self.core.order_ids_for_customer(c) for c in customers}

    def _every_order(self, customers: tuple[int, ...], count: int) -> dict[int, tuple[int, ...]]:
        """One pass over every core order (``count`` of them), mapped to ``customers``."""
        found: dict[int, list[int]] = {c: [] for c in customers}
        high = 0
        ids: array[int] | None = array("q")
        for order_id, customer in self.core.each_order_customer(count=count):
            high = max(high, order_id)
            if ids is not None:
                try:
                    ids.append(order_id)
                except OverflowError:  # no real id: what B2B lacks is then not known
                    ids = None
            if customer in found:
                found[customer].append(order_id)
        self.core_count, self.core_max_id, self.core_ids = count, high, ids
        return {c: tuple(sorted(set(ids))) for c, ids in found.items()}

    # -- orders

    def _note_unsynced(self) -> None:
        """``unsynced`` from the core order ids and the B2B order ids, when both are known."""
        core, b2b = self.core_ids, self.order_ids
        self.core_ids = None
        if core is not None and b2b is not None:
            self.unsynced = frozenset(b2b.lacking(core))

    def _orders(self, wanted: tuple[int, ...]) -> dict[int, LiveOrder]:
        if not wanted:
            return {}
        if len(wanted) == 1:
            order = self.b2b.get_order(wanted[0])
            return {} if order is None else {order.bc_order_id: order}
        want = set(wanted)
        first = self.b2b.orders_page()
        out = {o.bc_order_id: o for o in first.items if o.bc_order_id in want}
        if first.last:
            self.order_ids = ids_or_none(o.bc_order_id for o in first.items)
            return out
        todo = [o for o in wanted if o not in out]
        total = first.total
        if total is not None and len(todo) <= pages_for(total, ORDER_PAGE) - 1:
            for bc_order_id in todo:
                order = self.b2b.get_order(bc_order_id)
                if order is not None:
                    out[order.bc_order_id] = order
            return out
        ids: set[Hashable] = set()  # every order's id (the snapshot's), only wanted orders held
        orders, _ = self.b2b.rest_of_orders(first, wanted=want, ids=ids)
        self.order_ids = ids_or_none(cast("set[int]", ids))  # bc_order_id keys: ints
        out.update((o.bc_order_id, o) for o in orders)
        return out
