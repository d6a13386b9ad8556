"""What a resource kind implements, and the context the generic stages hand it.

A kind owns everything specific to one kind of manifest document (octoDNS keeps a record type
this way, a Terraform provider a resource type): its spec type and JSON Schema, building the spec
from a checked document, the checks across documents, what it needs read from the store, how
desired and live compare and which actions that plans, how its actions are sent and verified, and
the document import writes for it. The stages (load, read, plan, apply, render, import) stay
generic: they walk the registry in `reconciler.kinds` and never name a spec type.

Kinds speak no HTTP: apply and verification hand them the API client as a value (typed here for
mypy only), and the import-linter layers keep ``reconciler.api`` above them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from reconciler.kinds.documents import Checked, Issues
from reconciler.model import (
    Action,
    Issue,
    LiveCompany,
    LiveState,
    Location,
    ManifestSet,
    ReadNeeds,
    Request,
    StoreSpec,
)

if TYPE_CHECKING:
    from reconciler.api import ApiClient

__all__ = ["ActionInfo", "ApplyRun", "Kind", "PlanContext", "Spec"]


class Spec(Protocol):
    """What every kind's spec type offers the stages."""

    @property
    def name(self) -> str:
        """``metadata.name``."""
        ...

    @property
    def resource(self) -> str:
        """``kind/name`` in lower case."""
        ...


S = TypeVar("S", bound=Spec)


@dataclass(frozen=True)
class ActionInfo:
    """One action type a kind plans, with the words and symbol the renderers use."""

    type: str
    symbol: str
    """``+`` creates, ``~`` changes in place, ``→`` moves."""
    phrases: tuple[str, str]
    """What follows the count in a summary, singular and plural (``2 orders to update``)."""
    irreversible: str = "the previous values cannot be restored by this tool"
    """Why an irreversible action of this type cannot be undone."""


@dataclass
class PlanContext:
    """What the kinds share while planning, in registry (dependency) order."""

    manifests: ManifestSet
    live: LiveState
    behavior: str
    msf: bool
    actions: list[Action] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    creating: dict[str, str] = field(default_factory=dict)
    """Resource -> id of the action that creates it (for other kinds to depend on)."""
    by_group: dict[int | None, list[LiveCompany]] = field(default_factory=dict)
    """Live companies per customer group, in read order (what ``company_for_group`` scans)."""
    by_id: dict[int, LiveCompany] = field(default_factory=dict)
    members: dict[str, tuple[str, str]] = field(default_factory=dict)
    """E-mail (lower case) -> (company resource, id of the action that makes that e-mail a user
    of the company): memberships this plan creates, for later kinds to depend on."""
    unmanaged_users: int | None = None
    """Users of companies that user documents name but do not list (None: no such document,
    so users are not counted)."""
    matched: dict[str, LiveCompany] = field(default_factory=dict)
    """``company/<name>`` -> the live company that Company document manages (identity is by
    customer group on Dependent stores, by id, uuid or name on Independent ones)."""

    def __post_init__(self) -> None:
        # Indexes, so that planning stays linear in the number of companies.
        for company in self.live.companies:
            self.by_group.setdefault(company.customer_group_id, []).append(company)
            self.by_id.setdefault(company.company_id, company)

    def company_for_group(self, group_id: int) -> LiveCompany | None:
        """The (first) live company of a customer group."""
        holders = self.by_group.get(group_id)
        return holders[0] if holders else None

    def issue(self, loc: Location | None, resource: str, message: str) -> None:
        """Report a problem that makes the plan impossible."""
        self.issues.append(Issue.at(loc, resource, message))


@dataclass
class ApplyRun:
    """What one apply shares with the kinds while it sends and verifies."""

    outputs: dict[str, int] = field(default_factory=dict)
    """``company/acme`` -> companyId, known before apply or learned from creations."""
    since: int | None = None
    """A time on the API's clock (Unix seconds) at or before every write of this apply (its
    start on our clock less a margin for skew and the one-second resolution of ``updatedAt``):
    a ``minModified=since`` listing shows what apply changed. None: read objects one by one."""
    fresh_since: int | None = None
    """A time on the API's clock from which a ``minModified`` listing shows every company that
    can have appeared since the last read that proved the plan's free groups empty (apply's
    staleness check, or the plan's own read when apply does not check). None: no such read."""
    read_since: int | None = None
    """The plan's staleness watermark: a time on the API's clock before its read looked at
    anything. A ``minModified=read_since`` listing shows every company and user that can have
    appeared since the read that proved a planned creation's name or e-mail free (``None``:
    no such read)."""
    live: LiveState | None = None
    """The live state the plan was made from (its recorded part, for a saved plan)."""
    actions: tuple[Action, ...] = ()
    """Every action of the plan, in order."""
    position: int = 0
    """Index in ``actions`` of the action being sent."""
    memo: dict[str, Any] = field(default_factory=dict)
    """Scratch space a kind keeps across its actions in this apply (by key)."""


class Kind(Generic[S]):
    """A resource kind. Subclasses set the class attributes and override what they need."""

    name: ClassVar[str]
    """The manifest ``kind`` (``Company``); its resources are ``company/<name>``."""
    spec_type: ClassVar[type[Any]]
    actions: ClassVar[tuple[ActionInfo, ...]] = ()
    needs_behavior: ClassVar[bool] = False
    """A document of this kind requires the Store's ``companiesBehavior``."""
    extra_field_set: ClassVar[str | None] = None
    """Whose store extra fields its ``spec.extraFields`` names (``company`` or ``order``)."""

    @property
    def action_types(self) -> tuple[str, ...]:
        """The action types this kind plans (each belongs to one kind)."""
        return tuple(a.type for a in self.actions)

    # -- documents

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of a document (``reconciler/schemas/<kind>.json`` by default)."""
        folder = resources.files("reconciler") / "schemas"
        text = (folder / f"{self.name.lower()}.json").read_text(encoding="utf-8")
        result: dict[str, Any] = json.loads(text)
        return result

    def check(self, doc: Checked, issues: Issues) -> None:
        """Checks of one document beyond its schema."""

    def check_across(
        self,
        docs: Sequence[Checked],
        every: Mapping[str, Sequence[Checked]],
        store: Checked | None,
        issues: Issues,
    ) -> None:
        """Checks that need other documents (``every``: documents by kind, this one included)."""

    def canonical(self, spec: dict[str, Any]) -> None:
        """Normalize a document's ``spec`` in place for the manifest digest.

        ``spec`` is a shallow copy of the document's: set or replace its keys, but never change
        a value inside it (a nested mapping or list is still the document's own)."""

    def build(self, doc: Checked) -> S:
        """The spec of a document that passed every check."""
        raise NotImplementedError

    # -- reading and planning

    def needs(self, specs: Sequence[S], store: StoreSpec | None) -> ReadNeeds:
        """What these documents need read from the store (merged across kinds by live.py)."""
        return ReadNeeds()

    def needs_in(self, specs: Sequence[S], manifests: ManifestSet) -> ReadNeeds:
        """Like ``needs``, for a kind whose needs depend on other documents (the Company a
        CompanyUsers document names)."""
        return self.needs(specs, manifests.store)

    def managed(self, specs: Sequence[S]) -> int:
        """Objects these documents manage (for maxChangePercent)."""
        return len(specs)

    def unmanaged(self, specs: Sequence[S], ctx: PlanContext) -> int:
        """Live objects of this kind that no document manages (called after ``plan``)."""
        return 0

    def plan(self, specs: Sequence[S], ctx: PlanContext) -> None:
        """Append this kind's actions, issues and warnings to the context."""

    # -- applying

    def apply_requests(
        self, actions: Sequence[Action], live: LiveState | None = None, every: Sequence[Action] = ()
    ) -> int:
        """Requests apply makes for these actions when nothing fails and nobody else writes:
        sending them, and any reads around them and in their verification (the writes alone
        by default). ``live``: the state the plan was made from; ``every``: all its actions."""
        return len(actions)

    def send(
        self, client: ApiClient, action: Action, request: Request, run: ApplyRun
    ) -> tuple[str, int | None]:
        """Send one action's request; return a message and the company id it created, if any."""
        client.b2b.send(request, idempotent=True)
        return "done", None

    def verify(self, client: ApiClient, actions: Sequence[Action], run: ApplyRun) -> list[str]:
        """Re-read what these applied actions touched; return inconsistencies."""
        return []
