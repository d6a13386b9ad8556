"""The Company spec: what a Company document says, ``None`` meaning "not managed"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.model import (
    ExtraValue,
    FieldLocated,
    Location,
    PriceListAssignment,
)

if TYPE_CHECKING:
    pass


CREATED_STATUS = "approved"
"""The status a company gets when created through the API (convert or create)."""


@dataclass(frozen=True)
class AdminSpec:
    """The company admin, used only to create the company."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone_number: str | None = None


@dataclass(frozen=True)
class CompanySpec(FieldLocated):
    """A Company document. ``None`` means "not managed": the live value is left alone."""

    name: str
    customer_group_id: int
    company_name: str
    company_email: str
    company_phone: str
    company_id: int | None = None
    """Independent stores: pins the live company (``import`` writes it)."""
    address: Mapping[str, str] | None = None
    status: str | None = None
    uuid: str | None = None
    catalog_id: str | None = None
    price_list_assign: tuple[PriceListAssignment, ...] | None = None
    extra_fields: Mapping[str, ExtraValue] | None = None
    admin: AdminSpec | None = None
    user_extra_fields: Mapping[str, ExtraValue] | None = None
    send_welcome_email: bool = False
    loc: Location | None = None
    field_locs: Mapping[str, Location] = field(default_factory=dict)
    """Locations of spec fields by dotted path (``extraFields.licenseNo``, ``catalogId``)."""

    @property
    def resource(self) -> str:
        """``company/<name>``."""
        return f"company/{self.name}"
