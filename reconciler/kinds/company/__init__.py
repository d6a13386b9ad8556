"""Company: a B2B company, identified by its customer group (``customerGroupId``) on Dependent
stores, and by ``companyId``, else a unique ``uuid``, else a unique ``companyName`` on Independent
ones (``reconciler.kinds.identity``), where ``customerGroupId`` is an ordinary field: changing it
is an ``update`` that moves the company's users to that group and its prices.

A missing company is converted from its group (Dependent without Multi-Storefront) or created
for it (Independent). Every field a spec names is enforced with the fewest calls: one ``update``
with only the changed fields, then ``setStatus`` and ``setCatalog`` which have endpoints of their
own. ``uuid`` cannot be set at creation, so a new company with a ``uuid`` gets a follow-up
``update``.

Creation is never sent blindly twice: right before the POST one read confirms the group has no
company (one found with the planned name is adopted); when the outcome is uncertain (no answer,
5xx, or "Convert failed" because the group already has a company) the group's company is re-read;
if it exists and carries the planned name, the action succeeded; if it does not exist, the POST
demonstrably did not happen and is sent again (at most ``POST_ATTEMPTS`` times). After the POST
one read confirms the returned company is the group's.
"""

from reconciler.kinds.company.compare import company_changes, company_field
from reconciler.kinds.company.kind import COMPANY, CompanyKind
from reconciler.kinds.company.spec import CREATED_STATUS, AdminSpec, CompanySpec

__all__ = [
    "COMPANY",
    "CREATED_STATUS",
    "AdminSpec",
    "CompanyKind",
    "CompanySpec",
    "company_changes",
    "company_field",
]
