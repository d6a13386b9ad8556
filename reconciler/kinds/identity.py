"""Which live company a Company document means on an Independent store (CONTRACT.md, Company).

There many companies may share a customer group and a company may change group, so the group
cannot be the identity. A document finds its company by the first of:

1. ``companyId`` when given (``import`` writes it): that company, or a plan error if the store
   has none with that id (creating one would never carry that id, so the plan could not settle);
2. else ``uuid`` when given and exactly one live company carries it;
3. else ``companyName`` when exactly one live company carries it (compared without case and
   surrounding blanks, so "ACME " and "Acme" are one candidate, never a reason to create).

Nothing matches: the company is created. More than one candidate (two companies carry the uuid,
or the name): a plan error asking for ``companyId``, and nothing is created while it stands.
Deleted companies (status 4) are no candidates. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.model import LiveCompany

__all__ = ["Match", "match_company", "name_key"]


def name_key(name: str) -> str:
    """A company name as identity compares it: case-folded, blanks collapsed."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Match:
    """The outcome of matching one document: the live company (None: create it), or why the
    document cannot be matched (``field`` names the spec field to point at)."""

    company: LiveCompany | None = None
    problem: str | None = None
    field: str = "companyName"
    by: str = ""
    """How it was found: ``companyId``, ``uuid`` or ``companyName`` ("" when not found)."""


def _ids(companies: Sequence[LiveCompany]) -> str:
    ordered = sorted(companies, key=lambda c: c.company_id)
    return ", ".join(f"{c.company_id} ({c.company_name!r})" for c in ordered)


def match_company(
    company_id: int | None,
    uuid: str | None,
    company_name: str,
    companies: Sequence[LiveCompany],
    store_hash: str,
) -> Match:
    """Find the live company a document means (see the module doc)."""
    if company_id is not None:
        found = next((c for c in companies if c.company_id == company_id), None)
        if found is None:
            return Match(
                problem=f"spec.companyId: company {company_id} does not exist in store "
                f"{store_hash}; fix the id, or remove companyId to find the company by uuid or "
                "name (and create it when none matches)",
                field="companyId",
            )
        return Match(found, by="companyId")
    candidates = [c for c in companies if c.status != "deleted"]
    if uuid:
        carriers = [c for c in candidates if c.uuid == uuid]
        if len(carriers) == 1:
            return Match(carriers[0], by="uuid")
        if carriers:
            return Match(
                problem=f"spec.uuid: {len(carriers)} live companies carry uuid {uuid!r}: "
                f"{_ids(carriers)}; add companyId to say which one this document means "
                "(nothing is created or changed while it is ambiguous)",
                field="uuid",
            )
    key = name_key(company_name)
    carriers = [c for c in candidates if name_key(c.company_name) == key]
    if len(carriers) == 1:
        return Match(carriers[0], by="companyName")
    if carriers:
        return Match(
            problem=f"spec.companyName: {len(carriers)} live companies are named "
            f"{company_name!r}: {_ids(carriers)}; add companyId to say which one this document "
            "means (nothing is created or changed while it is ambiguous)",
        )
    return Match()
