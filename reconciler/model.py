"""Frozen value types shared by every layer: the manifest set, live snapshots, plans, reports.

No I/O here. Identity is by key: a Company by ``customerGroupId``, an OrderAssignment entry by
customer id, an Order by ``bcOrderId``; manifests name resources ``kind/name`` in lower case.
Each kind's spec type lives with its kind (``reconciler.kinds``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, TypeVar

JSON = Any
T = TypeVar("T")
ExtraValue = str | int | float

API_VERSION = "b2b.reconciler/v1"
"""The manifest format version (``apiVersion`` of every document)."""

COMPANY_STATUSES: tuple[str, ...] = ("pending", "approved", "rejected", "inactive")
"""Company status names in the order of the API's integer codes 0..3."""


def status_code(name: str) -> int:
    """Return the API's integer for a status name."""
    return COMPANY_STATUSES.index(name)


def status_name(code: int) -> str:
    """Return the status name for the API's integer (4, deleted, reads as ``deleted``)."""
    return COMPANY_STATUSES[code] if 0 <= code < len(COMPANY_STATUSES) else "deleted"


# --------------------------------------------------------------------------- locations, issues


@dataclass(frozen=True, order=True, slots=True)
class Location:
    """Where a node sits in a manifest file (1-based line and column). Slotted: loading keeps
    one for every value and key of every manifest."""

    path: str
    line: int = 1
    col: int = 1


class FieldLocated:
    """``loc_of`` for a spec dataclass that carries ``loc`` (its document) and ``field_locs``
    (its fields by dotted path)."""

    loc: Location | None
    field_locs: Mapping[str, Location]

    def loc_of(self, path: str) -> Location | None:
        """Location of a spec field, falling back to the document."""
        return self.field_locs.get(path, self.loc)


@dataclass(frozen=True, order=True)
class Issue:
    """One problem, located: printed as ``path:line:col: kind/name: message``."""

    path: str
    line: int
    col: int
    resource: str
    message: str

    @classmethod
    def at(cls, loc: Location | None, resource: str, message: str) -> Issue:
        """Build an issue at a location (``<live>`` when there is none)."""
        if loc is None:
            return cls("<live>", 0, 0, resource, message)
        return cls(loc.path, loc.line, loc.col, resource, message)

    def format(self) -> str:
        """Render as one line."""
        where = f"{self.path}:{self.line}:{self.col}"
        return (
            f"{where}: {self.resource}: {self.message}"
            if self.resource
            else (f"{where}: {self.message}")
        )

    def to_json(self) -> dict[str, JSON]:
        """Render as a JSON object."""
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "resource": self.resource,
            "message": self.message,
        }


# --------------------------------------------------------------------------- desired state


@dataclass(frozen=True)
class StoreSpec:
    """The Store document (at most one per manifest set)."""

    name: str
    store_hash: str | None = None
    companies_behavior: Literal["dependent", "independent"] | None = None
    multi_storefront: bool = False
    requests_per_minute: int = 120
    max_change_percent: int = 30
    loc: Location | None = None


@dataclass(frozen=True)
class PriceListAssignment:
    """One ``{channelId, priceListId}`` pair of a company (Dependent with Multi-Storefront)."""

    channel_id: int
    price_list_id: int


@dataclass(frozen=True)
class ManifestSet:
    """Every document found under the given paths, validated.

    ``specs`` holds the spec of every document but the Store, of the kinds in registry order
    (``reconciler.kinds``) and by name within a kind; each kind picks its own with ``of``.
    """

    store: StoreSpec | None = None
    specs: tuple[Any, ...] = ()
    digest: str = ""
    """``sha256:<hex>`` over the canonical content of every document."""
    skipped: tuple[str, ...] = ()
    """Files named as PATHs but skipped as not manifests (``load(skip_other_yaml=True)``)."""

    def of(self, spec_type: type[T]) -> tuple[T, ...]:
        """The specs of one type, in order."""
        return tuple(s for s in self.specs if isinstance(s, spec_type))

    def named(self, resource: str) -> Any:
        """The spec of a resource (``company/acme``), or None."""
        return self._by_resource.get(resource)

    @cached_property
    def _by_resource(self) -> dict[str, Any]:
        """Every spec by resource, the first of a name kept (built once, on first use: a
        planner asks by name once per CompanyUsers document, and a scan cost all the specs)."""
        index: dict[str, Any] = {}
        for spec in self.specs:
            index.setdefault(spec.resource, spec)
        return index

    # Shorthands for code that reads one of the first three kinds by name (tests, the CLI); the
    # stages go through the registry and ``of`` instead.

    @property
    def companies(self) -> tuple[Any, ...]:
        """The Company specs."""
        return self._prefixed("company/")

    @property
    def assignments(self) -> tuple[Any, ...]:
        """The OrderAssignment specs."""
        return self._prefixed("orderassignment/")

    @property
    def orders(self) -> tuple[Any, ...]:
        """The Order specs."""
        return self._prefixed("order/")

    def company_named(self, name: str) -> Any:
        """The Company document with this ``metadata.name``, or None."""
        return self.named(f"company/{name}")

    def _prefixed(self, prefix: str) -> tuple[Any, ...]:
        return tuple(s for s in self.specs if s.resource.startswith(prefix))


@dataclass(frozen=True)
class ReadNeeds:
    """What a manifest set needs from the live store (each kind says its part; no I/O)."""

    groups: tuple[int, ...] = ()
    """Distinct customer groups of Company documents."""
    company_extra_fields: bool = False
    """Some Company document exists: every company PUT carries the required extra fields."""
    order_extra_fields: bool = False
    """Some Order document exists: every order update must carry the required order fields."""
    price_lists: bool = False
    """Some Company names a price list (``catalogId`` or ``priceListAssign``)."""
    channels: bool = False
    """Multi-Storefront, and some Company names channels in ``priceListAssign``."""
    customers: tuple[int, ...] = ()
    """Distinct customers of OrderAssignments."""
    user_groups: tuple[int, ...] = ()
    """Customer groups of the Companies that CompanyUsers documents name (their users)."""
    user_emails: tuple[str, ...] = ()
    """E-mails (lower case) CompanyUsers documents list: where each user is, if anywhere."""
    user_extra_fields: bool = False
    """Some CompanyUsers document exists: user extra-field configs."""
    order_docs: tuple[int, ...] = ()
    """Orders named by Order documents."""
    dependent: bool = True
    """Dependent behavior: one company per customer group."""
    every_company: bool = False
    """Read every company (Independent stores: a company is found by id, uuid or name, and a
    shared group's companies are counted)."""
    assignment_groups: tuple[int, ...] = ()
    """Customer groups whose core price-list assignments are read (PriceListAssignment)."""

    def __or__(self, other: ReadNeeds) -> ReadNeeds:
        """Both needs: ids in first-seen order, flags of either (``dependent`` of both)."""
        return ReadNeeds(
            groups=tuple(dict.fromkeys((*self.groups, *other.groups))),
            company_extra_fields=self.company_extra_fields or other.company_extra_fields,
            order_extra_fields=self.order_extra_fields or other.order_extra_fields,
            price_lists=self.price_lists or other.price_lists,
            channels=self.channels or other.channels,
            customers=tuple(dict.fromkeys((*self.customers, *other.customers))),
            user_groups=tuple(dict.fromkeys((*self.user_groups, *other.user_groups))),
            user_emails=tuple(dict.fromkeys((*self.user_emails, *other.user_emails))),
            user_extra_fields=self.user_extra_fields or other.user_extra_fields,
            order_docs=tuple(dict.fromkeys((*self.order_docs, *other.order_docs))),
            dependent=self.dependent and other.dependent,
            every_company=self.every_company or other.every_company,
            assignment_groups=tuple(
                dict.fromkeys((*self.assignment_groups, *other.assignment_groups))
            ),
        )


# --------------------------------------------------------------------------- live state


@dataclass(frozen=True)
class ExtraFieldConfig:
    """One extra-field config (company or order), decoded from either documented spelling."""

    name: str
    field_type: int  # 0 text, 1 multi-line text, 2 number, 3 dropdown
    required: bool = False
    max_length: int | None = None
    maximum_value: float | None = None
    list_of_values: tuple[str, ...] = ()
    unique: bool = False
    label: str = ""


@dataclass(frozen=True, slots=True)
class LiveCompany:
    """A company as read from the API, decoded to clean types (``""`` for unset strings)."""

    company_id: int
    customer_group_id: int | None
    company_name: str
    company_email: str
    company_phone: str
    status: str
    uuid: str = ""
    catalog_id: str = ""
    price_list_assign: tuple[PriceListAssignment, ...] = ()
    extra_fields: Mapping[str, str] = field(default_factory=dict)
    address: Mapping[str, str] = field(default_factory=dict)
    """Only the address fields the API returned (the documented responses return none)."""
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class LiveOrder:
    """B2B data of one order."""

    bc_order_id: int
    company_id: int | None
    po_number: str = ""
    extra_fields: Mapping[str, str] = field(default_factory=dict)
    updated_at: int = 0
    created_at: int = 0


USER_ROLES: tuple[str, ...] = ("admin", "senior-buyer", "junior-buyer")
"""Company user role names in the order of the API's codes 0..2."""


@dataclass(frozen=True, slots=True)
class LiveUser:
    """A B2B Edition company user (``userResponse``), decoded to clean types."""

    user_id: int
    customer_id: int
    company_id: int | None
    email: str
    first_name: str = ""
    last_name: str = ""
    phone_number: str = ""
    role: int = 2
    """0 admin, 1 senior buyer, 2 junior buyer (custom roles read as 2)."""
    company_role_id: int | None = None
    uuid: str = ""
    channel_ids: tuple[int, ...] = ()
    extra_fields: Mapping[str, str] | None = None
    """``None`` when the response left extra fields out (``GET /users`` without
    ``isIncludeExtraFields=1``)."""
    updated_at: int = 0
    created_at: int = 0


@dataclass(frozen=True, slots=True)
class LiveCustomer:
    """A BigCommerce customer named in an OrderAssignment, with membership and orders."""

    customer_id: int
    company_id: int | None
    """The company the customer is a user of (``None``: not a company user)."""
    user_updated_at: int | None = None
    order_ids: tuple[int, ...] = ()
    email: str | None = None
    """The customer's e-mail, read only when CompanyUsers documents might make a customer who
    is no company user a member."""


@dataclass(frozen=True)
class LivePriceListAssignment:
    """A core price-list assignment: the list a customer group uses on a channel (either may be
    absent: a group's list on every channel, or a channel's default list)."""

    assignment_id: int
    price_list_id: int
    customer_group_id: int | None
    channel_id: int | None


@dataclass(frozen=True)
class GroupsSeen:
    """What a customer-group check learned: the number of groups, the ids on the first page
    (250, by id), and whether each looked-up group exists (answers given after the count)."""

    count: int
    first_page: tuple[int, ...]
    known: Mapping[int, bool]


@dataclass(frozen=True)
class LiveState:
    """What the live reader fetched: only what the manifests need."""

    store_hash: str
    companies: tuple[LiveCompany, ...] = ()
    customer_groups: frozenset[int] = frozenset()
    price_lists: frozenset[int] = frozenset()
    channels: frozenset[int] = frozenset()
    company_field_configs: tuple[ExtraFieldConfig, ...] = ()
    order_field_configs: tuple[ExtraFieldConfig, ...] = ()
    user_field_configs: tuple[ExtraFieldConfig, ...] = ()
    users: tuple[LiveUser, ...] = ()
    """Company users CompanyUsers documents need: those of the named companies and those
    with a listed e-mail."""
    customers: Mapping[int, LiveCustomer] = field(default_factory=dict)
    orders: Mapping[int, LiveOrder] = field(default_factory=dict)
    """Orders named by Order documents and orders of customers in OrderAssignments."""
    core_only_orders: frozenset[int] = frozenset()
    """Orders of Order documents that core V2 has and B2B Edition lacks (not synced yet)."""
    requests: int = 0
    """API requests the read cost."""
    read_at: int = 0
    """Unix seconds when the read started (local clock)."""
    store_read_at: int | None = None
    """Unix seconds on the store's clock when the read's first B2B request reached it at the
    earliest (``Http.watch_store_clock``: that answer's ``Date`` less the exchange; ``None``: no
    readable ``Date``). The staleness watermark starts from it (``planner.watermark_of``)."""
    company_total: int | None = None
    """Companies in the store (``totalCount``); ``companies`` may hold only the managed ones."""
    admin_users: Mapping[str, int] = field(default_factory=dict)
    """Admin e-mails of companies to create (lower case) that already belong to a company
    user, and that user's company (``live.read_admin_users``)."""
    price_list_assignments: tuple[LivePriceListAssignment, ...] = ()
    """Core price-list assignments of the groups PriceListAssignment documents name."""

    def company_for_group(self, group_id: int) -> LiveCompany | None:
        """The (first) company of a customer group."""
        return next((c for c in self.companies if c.customer_group_id == group_id), None)

    def company_by_id(self, company_id: int) -> LiveCompany | None:
        """The company with this id."""
        return next((c for c in self.companies if c.company_id == company_id), None)


# --------------------------------------------------------------------------- plans

ActionType = str
"""An action type; each belongs to one kind, which declares it (``reconciler.kinds``)."""


@dataclass(frozen=True)
class FieldChange:
    """One field's before and after (``None`` before: not set / not existing)."""

    path: str
    before: JSON
    after: JSON

    def to_json(self) -> dict[str, JSON]:
        """Render as the contract's ``{path, before, after}``."""
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Request:
    """Exactly what apply sends. ``path`` may hold placeholders like
    ``{company/acme.companyId}`` that earlier actions resolve."""

    method: Literal["GET", "POST", "PUT", "DELETE"]
    path: str
    body: JSON = None

    def to_json(self) -> dict[str, JSON]:
        """Render as the contract's ``{method, path, body}``."""
        return {"method": self.method, "path": self.path, "body": self.body}


@dataclass(frozen=True)
class Action:
    """One API call of a plan, with what a reviewer and the executor need."""

    id: str
    type: ActionType
    resource: str
    request: Request
    depends_on: tuple[str, ...] = ()
    changes: tuple[FieldChange, ...] = ()
    irreversible: bool = False
    side_effects: tuple[str, ...] = ()
    # What the executor needs beyond the request (identity for recovery and verification).
    customer_group_id: int | None = None
    company_id: int | None = None
    """The live company id, when it exists at plan time."""
    customer_id: int | None = None
    bc_order_id: int | None = None
    target_company: str | None = None
    """For assign/reassign: the resource (``company/x``) the orders must end up in."""

    def to_json(self) -> dict[str, JSON]:
        """Render as the contract's action object."""
        out: dict[str, JSON] = {
            "id": self.id,
            "type": self.type,
            "resource": self.resource,
            "dependsOn": list(self.depends_on),
            "request": self.request.to_json(),
            "changes": [c.to_json() for c in self.changes],
            "irreversible": self.irreversible,
            "sideEffects": list(self.side_effects),
        }
        target: dict[str, JSON] = {}
        for key, value in (
            ("customerGroupId", self.customer_group_id),
            ("companyId", self.company_id),
            ("customerId", self.customer_id),
            ("bcOrderId", self.bc_order_id),
            ("company", self.target_company),
        ):
            if value is not None:
                target[key] = value
        if target:
            out["target"] = target
        return out


@dataclass(frozen=True)
class Preconditions:
    """What apply checks before its first write to refuse a stale plan.

    ``watermark`` is a Unix time a little before the live read began; anything the plan touches
    that the API reports as modified since then, with a fingerprint different from the recorded
    one, makes the plan stale.
    """

    watermark: int
    companies: Mapping[int, int] = field(default_factory=dict)
    """companyId -> updatedAt of every company the plan touches or depends on."""
    free_groups: tuple[int, ...] = ()
    """Customer groups that had no company at plan time and get one by this plan."""
    orders: Mapping[int, int] = field(default_factory=dict)
    """bcOrderId -> updatedAt of every order the plan touches (incl. orders that move)."""
    customers: Mapping[int, int | None] = field(default_factory=dict)
    """customerId -> user updatedAt (None: not a company user) for every customer that moves."""


@dataclass(frozen=True)
class StoreInfo:
    """The store a plan was made for."""

    hash: str
    companies_behavior: str
    multi_storefront: bool
    requests_per_minute: int = 120
    max_change_percent: int = 30


@dataclass(frozen=True)
class Refresh:
    """How the live state of a plan was read: in full, or from a snapshot of an earlier read
    plus what changed since (``reconciler.incremental``)."""

    mode: Literal["full", "incremental"]
    reason: str = ""
    """Why the read was full (no snapshot, too old, ``--refresh full``...)."""
    snapshot_taken_at: int | None = None
    """Unix seconds (our clock) when the snapshot's read started."""
    age: int | None = None
    """Seconds between the snapshot and this read."""
    from_snapshot: tuple[str, ...] = ()
    """Parts read as the changes since the snapshot."""
    read_in_full: tuple[str, ...] = ()
    """Parts read in full (each with its reason when the snapshot could not serve it)."""

    def to_json(self) -> dict[str, JSON]:
        """The plan JSON's additive ``refresh`` object."""
        out: dict[str, JSON] = {"mode": self.mode}
        if self.mode == "full":
            out["reason"] = self.reason
        else:
            out["snapshotTakenAt"] = self.snapshot_taken_at
            out["snapshotAgeSeconds"] = self.age
            out["fromSnapshot"] = list(self.from_snapshot)
            out["readInFull"] = list(self.read_in_full)
        return out


@dataclass(frozen=True)
class Plan:
    """A value listing typed actions in an order apply can follow."""

    created_at: str
    store: StoreInfo
    manifest_digest: str
    actions: tuple[Action, ...]
    preconditions: Preconditions
    unmanaged_companies: int = 0
    unmanaged_users: int | None = None
    """Users of companies CompanyUsers documents name that none lists (None: not counted,
    because no CompanyUsers document exists)."""
    managed_objects: int = 0
    warnings: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    live: LiveState | None = None
    """The live state the plan was built from (only what the planner looks at): a saved plan
    is applied only if the manifests and this state produce it again, and this state still
    matches the store."""
    refresh: Refresh | None = None
    """How ``live`` was read (None: not said, e.g. a rebuilt plan)."""
    own_read: bool = False
    """True when ``live`` is this process's own read, made for this apply (``apply`` without
    ``--plan``): it is believed, so the staleness check asks the store only what changed since
    the read (``changes_check``). False for a plan that is or may be saved (``plan``, ``apply
    --plan``): nothing in a file is believed, so the check reads every company of the groups the
    plan touches and compares it with the recorded one. Not part of the plan JSON."""

    @property
    def empty(self) -> bool:
        """True when there is nothing to do."""
        return not self.actions

    def counts(self) -> Counter[str]:
        """Actions per type (0 for a type the plan does not have)."""
        return Counter(action.type for action in self.actions)

    def changed_objects(self) -> int:
        """Distinct managed objects the plan changes (a company, a customer's orders, an order)."""
        return len(
            {
                (a.resource, a.customer_id) if a.customer_id is not None else a.resource
                for a in self.actions
            }
        )

    def change_limit_exceeded(self) -> str:
        """Why the plan is over ``maxChangePercent`` (of 10 or more managed objects), or ``""``."""
        managed = self.managed_objects
        changed = self.changed_objects()
        limit = self.store.max_change_percent
        if managed < 10 or changed * 100 <= limit * managed:
            return ""
        return (
            f"the plan changes {changed} of {managed} managed objects "
            f"({changed * 100 // managed}%), more than maxChangePercent {limit}%"
        )


COMPANY_LIST_PAGE = 250
USER_LIST_PAGE = 250
ORDER_LIST_PAGE = 200
"""Objects per page of ``GET /companies``, ``/users`` and ``/orders`` (the documented maxima)."""


def touched_groups(plan: Plan) -> tuple[int, ...]:
    """Customer groups whose companies the staleness check re-reads: the groups of the
    companies the plan touches and the groups it converts or creates a company for."""
    groups: set[int] = set(plan.preconditions.free_groups)
    for action in plan.actions:
        if action.company_id is not None and action.customer_group_id is not None:
            groups.add(action.customer_group_id)
    return tuple(sorted(groups))


def changes_check(plan: Plan) -> bool:
    """Does the staleness check read the touched groups' companies as the recorded ones plus
    what changed since the watermark? Only for the plan's own read (``Plan.own_read``) that
    knows the store's company total and the store's time (so the watermark is on the store's
    clock, before the read's first look): two requests, one count of the companies created before
    the watermark (equal to the recorded total: none was deleted, none is missing) and one
    ``GET /companies?minModified=`` listing (``executor.check_stale``), when reading the
    groups would cost more."""
    return (
        plan.own_read
        and plan.live is not None
        and plan.live.company_total is not None
        and plan.live.store_read_at is not None
        and group_check_requests(plan) > 2
    )


def company_check_requests(plan: Plan) -> int:
    """Requests of the company part of the staleness check: two for a ``changes_check``, else
    ``group_check_requests``."""
    return 2 if changes_check(plan) else group_check_requests(plan)


def group_check_requests(plan: Plan) -> int:
    """Requests of reading every company of the touched groups: the cheaper of one
    ``GET /companies?bcGroupId=g`` per group and a listing of every company."""
    groups = len(touched_groups(plan))
    if not groups:
        return 0
    total = plan.live.company_total if plan.live is not None else None
    pages = max(1, -(-(total or 0) // COMPANY_LIST_PAGE)) if total is not None else groups
    return min(groups, pages)


def groupless_companies(plan: Plan) -> tuple[int, ...]:
    """Companies the plan touches that had no customer group when it was made (Independent
    stores): no group read finds them, so the staleness check lists the companies modified
    since the watermark (one request) and compares these with the recorded ones."""
    if plan.live is None:
        return ()
    touched = plan.preconditions.companies
    return tuple(
        sorted(
            c.company_id
            for c in plan.live.companies
            if c.customer_group_id is None and c.company_id in touched
        )
    )


def assignment_groups(plan: Plan) -> tuple[int, ...]:
    """Customer groups whose core price-list assignments the plan changes."""
    groups = {
        a.customer_group_id
        for a in plan.actions
        if a.type == "setPriceList" and a.customer_group_id is not None
    }
    return tuple(sorted(groups))


ASSIGNMENT_GROUPS_PER_READ = 50
"""Groups per ``GET /v3/pricelists/assignments?customer_group_id:in=...``."""


def assignment_check_requests(plan: Plan) -> int:
    """One assignments read per 50 groups whose price lists the plan changes."""
    return -(-len(assignment_groups(plan)) // ASSIGNMENT_GROUPS_PER_READ)


def precondition_requests(plan: Plan) -> int:
    """The staleness check: the touched companies' groups (``company_check_requests``), then
    one list request each for group-less companies (none more when a ``changes_check`` listed
    the changed companies already), orders and company users when the plan touches them, and
    the assignments of the groups whose price lists it changes."""
    pre = plan.preconditions
    groupless = bool(groupless_companies(plan)) and not changes_check(plan)
    return (
        company_check_requests(plan)
        + sum(1 for part in (groupless, pre.orders, pre.customers) if part)
        + assignment_check_requests(plan)
    )


# --------------------------------------------------------------------------- apply reports

Outcome = Literal["applied", "failed", "skipped", "pending"]


@dataclass(frozen=True)
class ActionResult:
    """What happened to one action."""

    action_id: str
    outcome: Outcome
    message: str = ""
    seconds: float = 0.0
    requests: int = 0

    def to_json(self) -> dict[str, JSON]:
        """Render as a JSON object."""
        return {
            "id": self.action_id,
            "outcome": self.outcome,
            "message": self.message,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
        }


@dataclass(frozen=True)
class ApplyReport:
    """Per-action outcomes of an apply, plus verification findings."""

    results: tuple[ActionResult, ...]
    verification: tuple[str, ...] = ()
    requests: Mapping[str, int] = field(default_factory=dict)
    """Requests made by apply, per ``METHOD path-template``."""
    seconds: float = 0.0
    interrupted: bool = False
    refused: str = ""
    stopped: str = ""
    """Why apply stopped before the end (Ctrl-C, SIGTERM, --timeout, refused credentials)."""
    since: int | None = None
    """The time (Unix seconds) apply's verification listed changes from: every company apply
    converted or created was modified at or after it."""

    @property
    def ok(self) -> bool:
        """True when everything applied and verified."""
        return (
            not self.refused
            and not self.interrupted
            and not self.verification
            and all(r.outcome == "applied" for r in self.results)
        )

    def to_json(self) -> dict[str, JSON]:
        """Render as a JSON object."""
        counts = dict.fromkeys(("applied", "failed", "skipped", "pending"), 0)
        for r in self.results:
            counts[r.outcome] += 1
        return {
            "ok": self.ok,
            "summary": counts,
            "results": [r.to_json() for r in self.results],
            "verification": list(self.verification),
            "requests": dict(self.requests),
            "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted,
            "refused": self.refused,
            "stopped": self.stopped,
        }
