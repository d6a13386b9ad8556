"""Incremental refresh: read only what changed since the snapshot of an earlier read.

The law: the state read this way is the state a full read (``live.Reader``) would return now,
part for part, so the plan is the same plan, action for action. When the snapshot cannot prove
that for a part, that part is read in full.

``since``, per API (B2B: companies, users, B2B orders; core: core orders), is taken from the
store's own clock: ``storeClock - DATE_MARGIN``, where ``storeClock`` is the ``Date`` header of
the earlier read's first answer from that API less the whole exchange, rounded up to the second
(``Http.watch_store_clock``). Every later request of that read was sent after that answer, so
it saw every change stamped before it; the first request's own reads happened during the
exchange. The margin (5 s) covers the second resolution of ``Date`` and of ``updatedAt``, a
``minModified`` that may be exclusive, and a ``Date`` header stamped by a clock up to 3 s off the
one that stamps ``updatedAt`` (the assumption: both are the store's servers, kept in step;
the sandbox's ``dateHeaderSkew`` models a difference). Our own clock plays no part, so any skew
between us and the store is fine (``clockSkew``). When the earlier read saw no readable ``Date``
header from an API, ``since = takenAt - MARGIN``: ``takenAt`` is our wall clock when the earlier
read started, and the margin (15 minutes) covers clock skew between us and the store as well.
The assumption in both cases: an object the API reports as modified at ``t`` (``updatedAt``,
``date_modified``) changed at ``t``, and an object appears in a listing with a time no older
than that.

Per part (each independently; the plan header names which came from the snapshot):

- **companies** (the snapshot holds every company): the first page of ``GET /companies`` (the
  total, and the page a full read would start with; sorted by ``updatedAt`` descending, so when
  its oldest company is older than ``since`` it holds every change: ``newest_since``), else
  also ``GET /companies?minModified=since``.
  ``total == companies then + created`` proves no deletion; a first-page company that differs
  from the snapshot without being reported changed disproves the snapshot. Otherwise the rest of
  the listing is read (as a full read would) and the deleted ids are known. The companies a full
  read returns (every one, or the first page and the managed groups') are then picked the same
  way from the merged list, in the API's default order (``updatedAt`` descending).
- **users** (the snapshot holds every user's company): ``GET /users?minModified=since`` with
  extra fields and the users total (``limit=1``); the same total check. It serves both the
  membership of OrderAssignment customers and the users CompanyUsers documents need (a user of
  a named company that the snapshot did not keep is read by customer id).
- **core orders of customers** (the snapshot holds each customer's order ids, the order count
  and the highest id): ``GET /v2/orders/count`` and ``GET /v2/orders?min_date_modified=since``
  (which also sees an order moved to another customer); ``count == count then + orders above
  the highest id`` proves no deletion, else the part is read in full.
- **B2B orders** (the snapshot holds every order id, and the core orders B2B Edition lacked at
  its read: ``unsynced``): the first page of every order (``minCreated=1``, ``updatedAt``
  descending: the total, and every change when its oldest order is older than ``since``), else
  also ``GET /orders?minModified=since``. B2B Edition may learn of a core order late
  (b2b-api.md §9.13), its record carrying the order's old ``updatedAt``: no listing of what
  changed shows it, yet the total counts it, and it could balance a lost record. So each order
  of ``unsynced``, and each core order this read found that B2B did not have then (created
  since), that the first page does not show is looked up (``GET /orders/{id}``; none when
  that page is the last; more than the listing of every order takes pages: read in full), and
  ``total == orders then + created + found late`` proves no record lost. ``unsynced`` is every
  core order the read paged that B2B lacked; after a read that served the core orders part
  (no core order deleted), the earlier ``unsynced`` and the core orders created since that B2B
  still lacks, plus, when B2B lost records, those core still has (each asked in core; more than
  a pass over every core order takes pages: not known). Not known (core orders read per
  customer or not at all, or an older snapshot): the B2B orders are read in full, and the core
  orders too when they could have been served, so that the next read knows.
  An order wanted now that the snapshot did not keep is read by id; so are the suspects:
  orders of a deleted company (deleting a company clears its orders' ``companyId``) and
  company-less orders when a user was created, moved, deleted or created again in the same
  company (a new user may bring its orders into the company), since whether these side
  effects bump ``updatedAt`` is not documented.
- **customer groups** of companies to convert (two or more, on a store with a full first page
  of groups; the snapshot holds the group count, the first page's ids and each looked-up
  group's answer, all given after that count): ``GET /v2/customer_groups/count`` and the
  groups created since (``date_created:min``, each row's date checked). None created and the
  same count prove that no group was deleted either: the snapshot's answers stand.
- **admin e-mails** of companies to create (``live.read_admin_users``; the snapshot holds the
  user that held each e-mail it checked): when the users part came from the snapshot, a user
  modified since with that e-mail holds it now, else the holder then unless that user was
  modified since (its e-mail or company changed), else no one (a new user would be listed).
  B2B Edition keeps e-mails unique among users. E-mails the snapshot did not check are asked.
- Everything else (configs, customer groups the snapshot did not look up, price lists,
  channels, price-list assignments, the core check of unsynced Order documents) is read as a
  full read does: small, and without a change feed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Protocol, TypeVar

from reconciler.api import ApiClient
from reconciler.api.b2b import COMPANY_PAGE, ORDER_PAGE, USER_PAGE, Page, known_or, pages_for
from reconciler.api.core import V2_PAGE
from reconciler.live import (
    PAGING_MIN_CUSTOMERS,
    AdminHolder,
    ReadCost,
    ReadCounts,
    Reader,
    plan_read_cost,
    read_admin_users,
    read_needs,
    run_reader,
)
from reconciler.model import (
    JSON,
    GroupsSeen,
    LiveCompany,
    LiveOrder,
    LiveState,
    LiveUser,
    ManifestSet,
    ReadNeeds,
    Refresh,
)
from reconciler.packed import UserRows
from reconciler.snapshot import Snapshot

MARGIN = 900
"""Seconds before the snapshot's read (our clock) that a change listing starts from, when the
earlier read saw no ``Date`` header."""
DATE_MARGIN = 5
"""Seconds before the earlier read's first request reached the store (the store's clock, by its
``Date`` header) that a change listing starts from."""


def since_of(snap: Snapshot, api: str) -> int:
    """Where the change listings of ``api`` (``"b2b"`` or ``"core"``) start: see the module
    doc."""
    at = snap.store_clock.get(api)
    if at is None:
        return max(0, snap.taken_at - MARGIN)
    return max(0, at - DATE_MARGIN)


PARTS = ("companies", "users", "orders", "core orders", "customer groups")


class _Stamped(Protocol):
    @property
    def updated_at(self) -> int: ...


S = TypeVar("S", bound=_Stamped)


def newest_since(page: Sequence[S], since: int) -> list[S] | None:
    """The objects of a listing's first page modified at or after ``since``, when that page
    provably holds every such object of the listing: it is in ``updatedAt`` descending order
    (asked for: ``b2b.NEWEST_FIRST``; checked, not trusted) and its last object is older than
    ``since``. None otherwise (then the changes are listed by ``minModified``)."""
    if not page or page[-1].updated_at >= since:
        return None
    if any(a.updated_at < b.updated_at for a, b in pairwise(page)):
        return None
    return [o for o in page if o.updated_at >= since]


@dataclass
class _UserChanges:
    changed: dict[int, LiveUser]
    """customerId -> the user, for users modified since."""
    rows: UserRows
    """customerId -> (companyId, updatedAt) of every user now."""


@dataclass
class Refreshed:
    """What ``read`` returns: the state, the snapshot to save, and how it was read."""

    live: LiveState
    snapshot: Snapshot
    refresh: Refresh
    notes: list[str] = field(default_factory=list)


class IncrementalReader(Reader):
    """A full reader whose big parts start from a snapshot (see the module doc)."""

    def __init__(self, client: ApiClient, needs: ReadNeeds, snap: Snapshot) -> None:
        super().__init__(client, needs)
        self.snap = snap
        self.since = since_of(snap, "b2b")
        self.core_since = since_of(snap, "core")
        self.incremental: list[str] = []
        self.in_full: dict[str, str] = {}
        self.deleted_companies: set[int] | None = None
        """Companies deleted since the snapshot (None: not known)."""
        self.companies_now: set[int] = set()
        """Companies this read found (they exist)."""
        self.moved_customers: set[int] | None = None
        """Customers whose user was created, moved or deleted since (None: not known)."""
        self.customer_orders: dict[int, tuple[int, ...]] = {}
        self.core_new: list[int] | None = None
        """Core orders created since (the core orders part served from the snapshot)."""
        self.orders_served = False
        """Whether the B2B orders part was served from the snapshot."""
        self._users: _UserChanges | None = None
        self._users_tried = False

    def _full(self, part: str, why: str) -> None:
        self.in_full.setdefault(part, why)

    # -- companies

    def _companies(self) -> tuple[LiveCompany, ...]:
        found = self._companies_now()
        self.companies_now = {c.company_id for c in found}
        return found

    def _companies_now(self) -> tuple[LiveCompany, ...]:
        snap = self.snap
        if not snap.companies_complete:
            self._full("companies", "the snapshot does not hold every company")
            self.deleted_companies = None
            return super()._companies()
        first = self.b2b.companies_page()
        if first.last or first.total is None:
            self._full("companies", "one page holds them all")
            companies = super()._companies_after(first)
            self._deleted_from(companies)
            return companies
        changed = newest_since(first.items, self.since)
        if changed is None:
            changed, _ = self.b2b.list_companies(min_modified=self.since)
        fresh = {c.company_id: c for c in changed}
        then = {c.company_id: c for c in snap.live.companies}
        # a company equal to the snapshot's is held as that object (the rest, if listed, too)
        first.items[:] = [known_or(then, c) for c in first.items]
        now = dict(then)
        now.update(fresh)
        now.update((c.company_id, c) for c in first.items)
        created = now.keys() - then.keys()
        stale = [
            c
            for c in first.items
            if c.company_id not in fresh and then.get(c.company_id) not in (None, c)
        ]
        if first.total != len(then) + len(created) or stale:
            why = "a company changed unseen" if stale else "companies were deleted"
            self._full("companies", why)
            everything, _ = self.b2b.rest_of_companies(first, known=then)
            self.deleted_companies = then.keys() - {c.company_id for c in everything}
        else:
            self.incremental.append("companies")
            self.deleted_companies = set()
            everything = sorted(now.values(), key=lambda c: (c.updated_at, c.company_id))
            everything.reverse()  # the order asked for (b2b.NEWEST_FIRST): updatedAt descending
        self.company_total = first.total
        self.all_companies = list(everything)
        return self._as_full_read(first, everything)

    def _deleted_from(self, companies: Iterable[LiveCompany]) -> None:
        if self.all_companies is None:
            self.deleted_companies = None
            return
        ids = {c.company_id for c in companies}
        self.deleted_companies = {c.company_id for c in self.snap.live.companies} - ids

    def _as_full_read(
        self, first: Page[LiveCompany], everything: list[LiveCompany]
    ) -> tuple[LiveCompany, ...]:
        """What a full read returns now: every company, or the first page and the companies
        of the managed groups it would list one group at a time."""
        rest = pages_for(first.total or 0, COMPANY_PAGE) - 1
        todo = self._groups_to_find(first)
        if self.needs.every_company or len(todo) >= rest:
            return tuple(everything)
        found = {c.company_id: c for c in first.items}
        by_group: dict[int | None, list[LiveCompany]] = {}
        for company in everything:
            by_group.setdefault(company.customer_group_id, []).append(company)
        for group in todo:
            found.update((c.company_id, c) for c in by_group.get(group, ()))
        return tuple(found.values())

    # -- customer groups

    def _groups(self, missing: list[int]) -> frozenset[int]:
        seen = self.snap.groups
        if len(missing) < 2 or seen is None or seen.count < V2_PAGE:
            return super()._groups(missing)  # one look-up, or one page: as cheap in full
        if any(g not in seen.known for g in missing):
            self._full("customer groups", "the snapshot did not look these groups up")
            return super()._groups(missing)
        count = self.core.customer_group_count()
        created = self.core.customer_groups_created_since(self.core_since)
        if created != [] or count != seen.count:
            self._full("customer groups", "groups were created or deleted")
            return super()._groups(missing)
        self.groups = GroupsSeen(count, seen.first_page, {g: seen.known[g] for g in missing})
        self.incremental.append("customer groups")
        return frozenset(seen.first_page) | {g for g in missing if seen.known[g]}

    # -- users

    def _user_changes(self) -> _UserChanges | None:
        """Users modified since, and every user's company now; None when the snapshot cannot
        tell (then the users parts are read in full)."""
        if self._users_tried:
            return self._users
        self._users_tried = True
        rows_then = self.snap.user_rows
        if rows_then is None:
            self._full("users", "the snapshot does not hold every user")
            self.moved_customers = None
            return None
        changed, _ = self.b2b.list_company_users(min_modified=self.since)
        total = self.b2b.count_users()
        fresh = {u.customer_id: u for u in changed}
        created = [c for c in fresh if c not in rows_then]
        if total != len(rows_then) + len(created):
            self._full("users", "users were deleted")
            self.moved_customers = None
            return None
        moved: set[int] = set()
        for cid, user in fresh.items():
            before = rows_then.get(cid)
            if before is None or before[0] != user.company_id or self._created_since(user):
                moved.add(cid)
        try:
            rows = rows_then.updated({c: (u.company_id, u.updated_at) for c, u in fresh.items()})
        except OverflowError:  # no real time: such an answer is kept out of the snapshot
            self._full("users", "a user's time out of range")
            self.moved_customers = None
            return None
        self.moved_customers = moved
        self.user_rows = rows
        self.incremental.append("users")
        self._users = _UserChanges(fresh, rows)
        return self._users

    def _membership(self, customers: tuple[int, ...]) -> dict[int, tuple[int | None, int | None]]:
        if not customers:
            return {}
        if len(customers) <= 2 and not self.needs.user_emails:
            self._full("users", "as cheap in full")
            self.moved_customers = None
            return super()._membership(customers)
        users = self._user_changes()
        if users is None:
            found = super()._membership(customers)
            self._moved_from_rows()
            return found
        return {c: users.rows[c] for c in customers if c in users.rows}

    def _company_users(self, companies: tuple[LiveCompany, ...]) -> tuple[LiveUser, ...]:
        wanted = set(self.needs.user_emails)
        if self.snap.user_rows is not None and not wanted <= self.snap.user_emails:
            self._full("users", "new e-mails are listed")
            self.moved_customers = None
            found = super()._company_users(companies)
            self._moved_from_rows()
            return found
        users = self._user_changes()
        if users is None:
            found = super()._company_users(companies)
            self._moved_from_rows()
            return found
        groups = set(self.needs.user_groups)
        ids = {c.company_id for c in companies if c.customer_group_id in groups}

        def relevant(user: LiveUser) -> bool:
            return user.company_id in ids or user.email.lower() in wanted

        kept = {u.customer_id: u for u in self.snap.live.users}
        unknown = {
            cid
            for cid, (company, _) in users.rows.items()
            if company in ids and cid not in users.changed and cid not in kept
        }
        if len(unknown) > pages_for(len(users.rows), USER_PAGE):
            self._full("company users", f"{len(unknown)} users of newly named companies")
            return super()._company_users(companies)
        out: dict[int, LiveUser] = {}
        for cid in users.rows:
            user = users.changed.get(cid) or kept.get(cid)
            if user is None and cid in unknown:
                user = self.b2b.user_of_customer(cid)
            if user is not None and relevant(user):
                out[user.user_id] = user
        return tuple(out[k] for k in sorted(out))

    def known_admins(self) -> dict[str, AdminHolder] | None:
        """The holders of the admin e-mails the snapshot's read checked, proved without asking:
        when the users part came from the snapshot (no user deleted; every user created or
        modified since listed with its e-mail), an e-mail's holder is a listed user with it,
        else, unless that holder was listed (with another e-mail, or no company now), the
        holder then. None when the users part was read in full."""
        users = self._users
        if users is None:
            return None
        now = {
            u.email.lower(): (u.customer_id, u.company_id)
            for u in users.changed.values()
            if u.company_id
        }
        known: dict[str, AdminHolder] = {}
        for email, held in self.snap.admin_emails.items():
            if email in now:
                known[email] = now[email]
            elif held is None or held[0] in users.changed:
                known[email] = None
            else:
                known[email] = held
        return known

    def _moved_from_rows(self) -> None:
        """After a full users read that listed every user: who was created, moved or deleted."""
        then, now = self.snap.user_rows, self.user_rows
        if then is None or now is None:
            self.moved_customers = None
            return
        # Any difference counts, the modification time too: a user deleted and created again
        # in the same company (the only way the API moves one) is a creation.
        self.moved_customers = {c for c in then.keys() | now.keys() if then.get(c) != now.get(c)}

    def _created_since(self, user: LiveUser) -> bool:
        """Whether ``user`` may be a user created since (not known when the answer gives no
        ``createdAt``): deleting a user and creating it again in the same company leaves its
        company and the users total as they were, yet the creation may bring the customer's
        company-less orders into the company without bumping their ``updatedAt``."""
        return user.created_at == 0 or user.created_at >= self.since

    # -- core orders of customers

    def _customer_orders(self, customers: tuple[int, ...]) -> dict[int, tuple[int, ...]]:
        found = self._customer_orders_now(customers)
        self.customer_orders = found
        return found

    def _customer_orders_now(self, customers: tuple[int, ...]) -> dict[int, tuple[int, ...]]:
        snap = self.snap
        if not customers:
            return {}
        if snap.core_count is None or snap.core_max_id is None:
            self._full("core orders", "the snapshot does not hold every order's customer")
            return super()._customer_orders(customers)
        if len(customers) < PAGING_MIN_CUSTOMERS:
            self._full("core orders", "as cheap in full")
            return super()._customer_orders(customers)
        kept = snap.live.customers
        if any(c not in kept for c in customers):
            self._full("core orders", "new customers are named")
            return super()._customer_orders(customers)
        if snap.unsynced is None and snap.order_ids is not None:
            # (a snapshot of an earlier version, or B2B Edition lost more records than can be
            # checked in core one by one): every order, so that the B2B orders part learns it
            self._full("core orders", "the snapshot does not know which orders B2B lacked")
            return super()._customer_orders(customers)
        count = self.core.order_count()
        changed = self.core.order_customers(modified_since=self.core_since)
        new = [order_id for order_id, _ in changed if order_id > snap.core_max_id]
        if count != snap.core_count + len(new):
            self._full("core orders", "orders were deleted")
            return super()._customer_orders(customers)
        self.core_new = new
        moved = dict(changed)
        # Each customer's own orders looked up in ``moved``: a set minus ``moved.keys()`` walked
        # every changed order once per customer (100,000 x 2,000 at 10k).
        found = {c: {o for o in kept[c].order_ids if o not in moved} for c in customers}
        for order_id, customer in changed:
            if customer in found:
                found[customer].add(order_id)
        self.core_count = count
        self.core_max_id = max([snap.core_max_id, *moved])
        self.incremental.append("core orders")
        return {c: tuple(sorted(ids)) for c, ids in found.items()}

    # -- B2B orders

    def _orders(self, wanted: tuple[int, ...]) -> dict[int, LiveOrder]:
        snap = self.snap
        if len(wanted) <= 1:
            return super()._orders(wanted)  # one look-up at most: cheaper than any listing
        if snap.order_ids is None:
            self._full("orders", "the snapshot does not hold every order id")
            return super()._orders(wanted)
        late = self._late_candidates()
        if late is None:
            why = "the snapshot does not know which orders B2B lacked"
            self._full("orders", why if snap.unsynced is None else "core orders read per customer")
            return super()._orders(wanted)
        suspects = self._order_suspects(wanted)
        head = self.b2b.orders_page()  # every order, the most recently modified first
        listed = newest_since(head.items, self.since) if head.total is not None else None
        if listed is None:
            listed = self.b2b.list_orders(min_created=None, min_modified=self.since)
        changed = {o.bc_order_id: o for o in listed}
        total = head.total if head.total is not None else self.b2b.count_orders()
        created = [o for o in changed if o not in snap.order_ids]
        appeared = self._synced_late(late, head, changed, total)
        if appeared is None:
            return super()._orders(wanted)
        if total != len(snap.order_ids) + len(created) + len(appeared):
            self._full("orders", "orders were deleted")
            return super()._orders(wanted)
        try:
            ids_now = snap.order_ids.with_ids([*created, *appeared])
        except OverflowError:  # no real id: such an answer is kept out of the snapshot
            self._full("orders", "an order id out of range")
            return super()._orders(wanted)
        kept = snap.live.orders
        out: dict[int, LiveOrder] = {}
        lookups: list[int] = []
        for order_id in wanted:
            if order_id in changed:
                out[order_id] = changed[order_id]
            elif order_id in appeared:
                out[order_id] = appeared[order_id]
            elif order_id in suspects or (order_id not in kept and order_id in ids_now):
                lookups.append(order_id)
            elif order_id in kept:
                out[order_id] = kept[order_id]
        if len(lookups) > pages_for(total, ORDER_PAGE):
            self._full("orders", f"{len(lookups)} orders to look up")
            return super()._orders(wanted)
        for order_id in lookups:
            order = self.b2b.get_order(order_id)
            if order is not None:
                out[order_id] = order
        self.order_ids = ids_now
        self.orders_served = True
        self.incremental.append("orders")
        return out

    def _late_candidates(self) -> list[int] | None:
        """The orders whose B2B record may have come since with an ``updatedAt`` older than
        ``since`` (a late sync): those B2B lacked at the snapshot's read, and the core orders
        this read found that B2B did not have then (every one when it paged the core orders,
        those created since when it served them). None when not known."""
        then, ids_then = self.snap.unsynced, self.snap.order_ids
        if then is None or ids_then is None:
            return None
        if self.core_ids is not None:
            found: Iterable[int] = self.core_ids
        elif self.core_new is not None:
            found = self.core_new
        else:
            return None
        return sorted(then.union(ids_then.lacking(found)))

    def _synced_late(
        self,
        candidates: list[int],
        head: Page[LiveOrder],
        changed: Mapping[int, LiveOrder],
        total: int,
    ) -> dict[int, LiveOrder] | None:
        """The records B2B Edition has now of the ``candidates`` (``_late_candidates``: a late
        sync brings them with the order's old ``updatedAt``, so no listing of what changed
        shows them, yet the total counts them): found on the first page (all of them when it
        is the last), or looked up one by one. None (then the part is read in full) when more
        are to be looked up than the listing of every order takes pages."""
        ids_then = self.snap.order_ids
        late = [
            o for o in candidates if o not in changed and (ids_then is None or o not in ids_then)
        ]
        on_head = {o.bc_order_id: o for o in head.items}
        appeared = {o: on_head[o] for o in late if o in on_head}
        todo = [] if head.last else [o for o in late if o not in on_head]
        if len(todo) > pages_for(total, ORDER_PAGE):
            self._full("orders", f"{len(todo)} orders B2B lacked to look up")
            return None
        for order_id in todo:
            order = self.b2b.get_order(order_id)
            if order is not None:
                appeared[order_id] = order
        return appeared

    def _note_unsynced(self) -> None:
        """``unsynced`` of this read: from every core order when the core orders part was read
        in full; else, when it was served from the snapshot (no core order deleted), the
        snapshot's and the core orders created since, less those B2B has now, plus the
        records B2B lost (read in full: those of the snapshot's ids it lacks now) that core
        still has (each asked in core, unless more than a pass over every core order takes
        pages: then not known, and the next read pages every core order)."""
        then, now = self.snap.unsynced, self.order_ids
        if self.core_ids is not None or now is None or then is None or self.core_new is None:
            super()._note_unsynced()
            return
        lacked = {o for o in then if o not in now} | {o for o in self.core_new if o not in now}
        if not self.orders_served and self.snap.order_ids is not None:
            lost = now.lacking(self.snap.order_ids)
            if len(lost) > pages_for(self.core_count or 0, V2_PAGE):
                return
            lacked.update(o for o in lost if self.core.order_exists(o))
        self.unsynced = frozenset(lacked)

    def _order_suspects(self, wanted: tuple[int, ...]) -> set[int]:
        """Kept orders that a side effect without a change feed may have changed: those of a
        deleted company (when deletions are not known, of a company this read did not find:
        one it found exists), and company-less
        ones that a created or moved user may have brought into its company (all of them when
        the users' changes are not known)."""
        kept = self.snap.live.orders
        if (
            self.moved_customers is None
            and self.snap.user_rows is not None
            and not self._users_tried
        ) and sum(1 for o in wanted if o in kept and kept[o].company_id is None) > 2:
            self._user_changes()  # two requests that may spare many look-ups
        deleted, moved = self.deleted_companies, self.moved_customers
        of_customers = {o for ids in self.customer_orders.values() for o in ids}
        of_moved = {o for c in (moved or ()) for o in self.customer_orders.get(c, ())}
        suspects: set[int] = set()
        for order_id in wanted:
            order = kept.get(order_id)
            if order is None:
                continue
            if order.company_id is not None:
                if deleted is None and order.company_id not in self.companies_now:
                    suspects.add(order_id)  # its company may be gone: no one read it now
                elif deleted is not None and order.company_id in deleted:
                    suspects.add(order_id)
            elif moved is None or order_id in of_moved or (moved and order_id not in of_customers):
                suspects.add(order_id)
        return suspects


# ----------------------------------------------------------------------------- cost model


@dataclass(frozen=True)
class Changes:
    """What changed since the snapshot: the sizes that decide an incremental read's cost."""

    companies: int = 0
    """Companies modified since (``GET /companies?minModified=``)."""
    users: int = 0
    """Users modified since."""
    core_orders: int = 0
    """Core orders modified since (``min_date_modified``)."""
    orders: int = 0
    """B2B orders modified since."""
    lookups: int = 0
    """Orders and users read by id (suspects, wanted ones the snapshot did not keep, and the
    orders B2B Edition lacked at the snapshot's read that the first page of orders does not
    show)."""


def _beyond_first_page(changed: int, page: int) -> int:
    """Requests of a change listing after the listing's first page (``newest_since``): none
    when fewer objects changed than the page holds, else the whole ``minModified`` listing."""
    return 0 if changed < page else pages_for(changed, page)


def incremental_read_cost(
    needs: ReadNeeds, counts: ReadCounts, changes: Changes, parts: Collection[str] = PARTS
) -> ReadCost:
    """The requests of an incremental read that serves ``parts`` from the snapshot (the rest
    as ``plan_read_cost`` says). Per part: companies and B2B orders, the first page of the whole
    listing (its total, and every change when fewer changed than it holds), else also the
    ``minModified`` listing; users, that listing and the total; core orders, the count and the
    listing; customer groups, the count and the groups created since. It is also the lower
    bound: no reader can learn what changed and that nothing was deleted with fewer requests,
    one total per part and the changes beyond what the total's answer can hold (users and core
    orders cannot be sorted by modification: their listing is a request of its own)."""
    full = plan_read_cost(needs, counts)
    listed = replace(full, users=0, company_users=0) if "users" in parts else full
    users_needed = bool(needs.customers or needs.user_emails)
    return replace(
        listed,
        companies=(1 + _beyond_first_page(changes.companies, COMPANY_PAGE))
        if "companies" in parts and (needs.groups or needs.every_company)
        else full.companies,
        users=(pages_for(changes.users, USER_PAGE) + 1)
        if "users" in parts and users_needed
        else listed.users,
        customer_orders=(1 + pages_for(changes.core_orders, V2_PAGE))
        if "core orders" in parts and needs.customers
        else full.customer_orders,
        orders=(1 + _beyond_first_page(changes.orders, ORDER_PAGE) + changes.lookups)
        if "orders" in parts
        else full.orders,
        customer_groups=2 if "customer groups" in parts else full.customer_groups,
    )


# ----------------------------------------------------------------------------- entry points


def snapshot_of(
    reader: Reader,
    live: LiveState,
    needs: ReadNeeds,
    store_clock: Mapping[str, int] | None = None,
    admin_emails: Mapping[str, AdminHolder] | None = None,
) -> Snapshot:
    """The snapshot of a finished read (what the next read may start from); ``store_clock``:
    when its first request to each API reached the store (``Http.watch_store_clock``);
    ``admin_emails``: its admin e-mail answers (kept when it knew every user's company)."""
    everything = reader.all_companies
    kept_live = LiveState(
        store_hash=live.store_hash,
        companies=live.companies if everything is None else tuple(everything),
        users=live.users,
        customers=live.customers,
        orders=live.orders,
        read_at=live.read_at,
        company_total=live.company_total,
    )
    core_ok = reader.core_count is not None and reader.core_max_id is not None
    return Snapshot(
        store_hash=live.store_hash,
        taken_at=live.read_at,
        live=kept_live,
        companies_complete=everything is not None,
        user_rows=reader.user_rows,
        user_emails=frozenset(needs.user_emails) if reader.user_rows is not None else frozenset(),
        order_ids=reader.order_ids,
        unsynced=reader.unsynced if reader.order_ids is not None else None,
        core_count=reader.core_count if core_ok else None,
        core_max_id=reader.core_max_id if core_ok else None,
        needs=_needs_json(needs),
        store_clock=dict(store_clock or {}),
        admin_emails=dict(admin_emails or {}) if reader.user_rows is not None else {},
        groups=reader.groups,
    )


def _needs_json(needs: ReadNeeds) -> dict[str, JSON]:
    return {
        "groups": len(needs.groups),
        "customers": len(needs.customers),
        "userEmails": len(needs.user_emails),
        "orderDocs": len(needs.order_docs),
        "everyCompany": needs.every_company,
        "dependent": needs.dependent,
    }


def read(
    client: ApiClient,
    manifests: ManifestSet,
    *,
    snapshot: Snapshot | None = None,
    reason: str = "",
    wall_clock: Callable[[], float] = time.time,
) -> Refreshed:
    """Read the live state: from ``snapshot`` plus what changed since when given, else in
    full (``reason`` says why), with the admin e-mails of companies to create already taken
    (``live.read_admin_users``; those the snapshot and the users modified since answer are not
    asked again). Returns the state, the snapshot of this read and the note."""
    needs = read_needs(manifests)
    now = int(wall_clock())
    admins: dict[str, AdminHolder] = {}
    if snapshot is None:
        full = Reader(client, needs)
        clock = client.http.watch_store_clock()
        live = run_reader(full, client, wall_clock)
        live = read_admin_users(client, manifests, live, record=admins)
        note = Refresh(mode="full", reason=reason or "--refresh full")
        return Refreshed(live, snapshot_of(full, live, needs, clock, admins), note)
    reader = IncrementalReader(client, needs, snapshot)
    clock = client.http.watch_store_clock()
    live = run_reader(reader, client, wall_clock)
    known = reader.known_admins()
    live = read_admin_users(client, manifests, live, known=known, record=admins)
    note = Refresh(
        mode="incremental",
        snapshot_taken_at=snapshot.taken_at,
        age=max(0, now - snapshot.taken_at),
        from_snapshot=tuple(p for p in PARTS if p in reader.incremental),
        read_in_full=tuple(f"{p} ({why})" for p, why in reader.in_full.items()),
    )
    return Refreshed(live, snapshot_of(reader, live, needs, clock, admins), note)
