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
    # Every company PUT must carry the required company extra fields in the `extraFields` array
    # it sends, whether or not they changed (company.yaml, Update a Company: "you must include
    # the field's name and value in the extraFields array"). Default: a PUT without
    # `extraFields` passes, and a sent array may rely on values the company already has.
    "companyPutRequiresExtraFields": False,
    # A company or order PUT's `extraFields` array replaces the object's whole set: fields not
    # sent are removed (b2b-api.md §9.3; the specs do not say). Default: merge by fieldName.
    "extraFieldsReplace": False,
    # A company extra-field value "" is refused with 422 (company.yaml declares fieldValue
    # `minLength: 1`). Default: accepted, the field is then empty.
    "emptyExtraFieldRefused": False,
    # GET /orders: a date filter of 0 counts as "not provided", so the one-year default window
    # applies (order.yaml: the window applies when no date filter is given; 0 is not discussed).
    "zeroDateIsAbsent": False,
    # Seconds before B2B Edition learns of an order created in core (about/index.mdx at
    # 2d7d2a49 warns of sync latency): a younger order is in core V2 only (B2B 404s it, lists
    # leave it out, assign/reassign do not move it). 0: always in step.
    "ordersSyncLag": 0,
    # The `updatedAt` of a B2B record that B2B Edition made when it learned of an order late
    # (ordersSyncLag): the docs do not say. False: the order's own (older than the sync, so no
    # minModified listing shows the record). True: the sync time, `createdAt + ordersSyncLag`,
    # when the order's own is older: rendered, filtered (minModified/maxModified) and sorted so;
    # `createdAt` stays the order's. A record B2B made itself (POST /orders) keeps its stamp.
    "lateSyncStampsSyncTime": False,
    # B2B GET /channels on a store without Multi-Storefront: the 403 carries its message in
    # `meta.message` (with `data: {}`, as other B2B errors do) instead of a top-level `message`.
    "channelsErrorInMeta": False,
    # Core PUT /v3/pricelists/{id}/assignments (and the batch POST) for a customer group and
    # channel that already use another price list (b2b-api.md §9.16; price_lists.v3.yml does not
    # say): False replaces that list; True refuses with 409 until the old assignment is deleted.
    "priceListUpsertRefused": False,
    # PUT /users/{userId} `extraFields` replaces the user's whole set: fields not sent are gone
    # (user.yaml declares the array and says nothing of merging). Default: merge by fieldName.
    "userExtraFieldsReplace": False,
    # Every user PUT must carry every required user extra field in the `extraFields` array it
    # sends (user.yaml, extraFieldDetail.isRequired: "requires a value when creating or updating
    # the user account"). Default: a PUT without `extraFields` passes, and a sent array may rely
    # on values the user already has.
    "userPutRequiresExtraFields": False,
    # POST /users for the e-mail of an existing customer moves that customer's company-less
    # orders into the company (user.yaml, Create A Company User: "This migrates the user's
    # existing orders to the Company's Buyer Portal"). False: they stay where they are until an
    # assign (the migration may be asynchronous, or not happen through the API).
    "userCreateMovesOrders": True,
    # companyId of company-less (B2C/guest) orders: null (default) or 0 (b2b-api.md §9.8).
    "ordersNoCompanyAsZero": False,
    # Seconds the store's clock is ahead of the client's (negative: behind): every createdAt /
    # updatedAt it writes and every "now" it compares with. The docs promise nothing about the
    # API's clock; a client that lists by minModified must not trust its own.
    "clockSkew": 0,
    # Seconds the `Date` header of every answer is ahead of the clock that stamps updatedAt
    # (negative: behind). Both come from the store, but from two servers maybe (an edge in
    # front of the app); the client assumes they agree within a few seconds
    # (reconciler.incremental.DATE_MARGIN). 0: one clock.
    "dateHeaderSkew": 0,
    # GET /companies without `sortBy`: company.yaml's parameter says the default is updatedAt
    # (descending), its description of the endpoint "sorted by companyId from highest to lowest
    # by default". False: updatedAt; True: companyId. A `sortBy` sent is honoured either way.
    "companiesSortedByIdByDefault": False,
    # Side effects bump the updatedAt of what they change: deleting a company clears its
    # orders' companyId, and POST /users may bring the customer's orders into the company
    # (userCreateMovesOrders). Whether the real API bumps those orders' (and customers')
    # updatedAt is not documented; False: they change without a new updatedAt.
    "sideEffectsBumpUpdatedAt": True,
    # Every answer carries the HTTP `Date` header, on the store's clock (RFC 9110 §6.6.1: an
    # origin server with a clock sends it). False: none does (a proxy that strips it); a client
    # that needs the store's time must then fall back on its own clock.
    "dateHeader": True,
}

_CHOICES: dict[str, tuple[str, ...]] = {"limitAboveMax": ("413", "clamp")}
_SECONDS = ("ordersSyncLag",)
_SIGNED_SECONDS = ("clockSkew", "dateHeaderSkew")


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
        if key in _SIGNED_SECONDS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise SandboxError(f"{where}.{key}: must be a whole number of seconds")
            out[key] = value
        elif key in _SECONDS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SandboxError(f"{where}.{key}: must be a whole number of seconds >= 0")
            out[key] = value
        elif key in _CHOICES:
            text = str(value)
            if text not in _CHOICES[key]:
                raise SandboxError(f"{where}.{key}: must be one of {', '.join(_CHOICES[key])}")
            out[key] = text
        else:
            if not isinstance(value, bool):
                raise SandboxError(f"{where}.{key}: must be true or false")
            out[key] = value
    return out
