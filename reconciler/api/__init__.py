"""The only code that speaks HTTP: settings, transport, B2B and core endpoints.

``ApiClient.open(settings)`` gives one object holding the paced, retrying ``Http`` seam and the
two endpoint groups built on it::

    with ApiClient.open(settings) as client:
        companies, total = client.b2b.list_companies()
        groups = client.core.customer_group_ids()
        print(client.stats.to_json())

Where the docs allow more than one reading (b2b-api.md §9-§10), the request sent is the one that
is right under every reading, and the sandbox can behave each way (``reconciler/sandbox``
quirks, drawn by the chaos suite). Today: full order reads send ``minCreated=1``, never a ``0``
that may count as "no filter" (``b2b.EVERY_ORDER_SINCE``); Multi-Storefront is "off" only on a
403 that says "Multi storefront is not enabled" (``B2BApi.multi_storefront``); company and
order PUTs carry the complete extra-field set with the required fields (built by the planner,
sent here exactly as planned); a core price-list assignment over a group+channel that another
list holds deletes that assignment by id before the upsert (planned by the PriceListAssignment
kind, sent here as planned), right whether the upsert replaces or is refused.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from types import TracebackType

import httpx

from reconciler.api.b2b import B2BApi
from reconciler.api.core import CoreApi
from reconciler.api.pacing import Pacing
from reconciler.api.settings import ApiSettings, Secret
from reconciler.api.transport import Http, HttpStats, RetryPolicy
from reconciler.control import RunControl

__all__ = [
    "ApiClient",
    "ApiSettings",
    "B2BApi",
    "CoreApi",
    "Http",
    "HttpStats",
    "Pacing",
    "RetryPolicy",
    "RunControl",
    "Secret",
]


class ApiClient:
    """Both APIs over one paced, retrying HTTP client."""

    def __init__(self, http: Http) -> None:
        self.http = http
        self.b2b = B2BApi(http)
        self.core = CoreApi(http)

    @classmethod
    def open(
        cls,
        settings: ApiSettings,
        transport: httpx.BaseTransport | None = None,
        core_transport: httpx.BaseTransport | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        control: RunControl | None = None,
        notice: Callable[[str], None] | None = None,
        pacing: Pacing = "fair",
    ) -> ApiClient:
        """Connect (lazily) with these settings; ``transport`` replaces the network in tests.

        ``core_transport`` defaults to ``transport`` (one sandbox serves both APIs). ``control``
        carries the command's deadline and stop switch; ``notice`` hears about long waits;
        ``pacing`` picks how the B2B budget is shared (``reconciler.api.pacing``).
        """
        http = Http(
            settings,
            transport=transport,
            core_transport=core_transport,
            sleep=sleep,
            clock=clock,
            retry=retry,
            rng=rng,
            control=control,
            notice=notice,
            pacing=pacing,
        )
        return cls(http)

    @property
    def store_hash(self) -> str:
        """The store these calls go to."""
        return self.http.settings.store_hash

    @property
    def stats(self) -> HttpStats:
        """Requests, 429s, retries and sleeps so far (live counters)."""
        return self.http.stats

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ApiClient(store_hash={self.store_hash!r})"
