"""Switches for the places where the B2B docs contradict themselves (b2b-api.md §7, §9).

The defaults follow the guidance of b2b-api.md §8; every switch selects the other documented (or
plausible) variant so that clients can be tested against both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import SandboxError

DEFAULT_QUIRKS: dict[str, Any] = {
    # Company GET/convert responses: companyId, companyStatus, createdAt/updatedAt and detail
    # bcGroupId as strings (docs:v0 examples). False: integers everywhere (strict schema).
    "companyIdsAsStrings": True,
    # Get/Update an Order `data`: an object (docs:v0, fusionary). True: a one-element array.
    "orderDetailAsArray": False,
    # Orders list: meta.pagination (schema). True: totalCount/limit/offset directly under meta.
    "ordersMetaFlat": False,
    # Update order, order products, assign, reassign: top-level `message` (current docs).
    # False: meta.message (docs:v0).
    "ordersTopLevelMessage": True,
    # A `limit` above the endpoint maximum: "413" (documented status) or "clamp".
    "limitAboveMax": "413",
    # 429 carries a Retry-After header (undocumented for B2B).
    "retryAfterHeader": False,
    # Company GET responses include addressLine1..zipCode (claimed by one unverified client).
    "companyAddressInResponses": False,
    # Company PUT without `extraFields` is refused while required company extra fields exist
    # (strict reading of the PUT description). Default: only checked when extraFields is sent.
    "companyPutRequiresExtraFields": False,
    # companyId of company-less (B2C/guest) orders: null (default) or 0 (b2b-api.md §9.8).
    "ordersNoCompanyAsZero": False,
}

_CHOICES: dict[str, tuple[str, ...]] = {"limitAboveMax": ("413", "clamp")}


def validate_quirks(raw: object, where: str = "quirks") -> dict[str, Any]:
    """Return the quirks in ``raw`` checked and normalised (only the keys given)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SandboxError(f"{where}: expected a mapping of quirk switches")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in DEFAULT_QUIRKS:
            known = ", ".join(sorted(DEFAULT_QUIRKS))
            raise SandboxError(f"{where}: unknown quirk {key!r} (known: {known})")
        if key in _CHOICES:
            text = str(value)
            if text not in _CHOICES[key]:
                raise SandboxError(f"{where}.{key}: must be one of {', '.join(_CHOICES[key])}")
            out[key] = text
        else:
            if not isinstance(value, bool):
                raise SandboxError(f"{where}.{key}: must be true or false")
            out[key] = value
    return out
