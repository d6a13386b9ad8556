"""Reading back what apply touched: one ``minModified`` listing, or one read per object.

Apply verifies by re-reading every object it touched. One read per object costs one request
each; a listing of everything modified since apply started (``minModified``, see
``ApplyRun.since``) costs one request per page, whatever it touched. ``read_listed`` takes the
listing only where it is cheaper, and stops paging as soon as reading the objects still missing
one by one would be cheaper (a listing swollen by other writers). It returns the touched objects
the listing holds; the caller reads the rest one by one, so an object the listing misses (a
clock skewed beyond the margin, an API that does not move ``updatedAt``) is still checked.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from reconciler.api.b2b import Page

__all__ = ["listing_cheaper", "pages", "read_listed"]

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def pages(objects: int, page: int) -> int:
    """Requests of one listing of ``objects`` objects: at least one."""
    return max(1, -(-objects // page))


def listing_cheaper(touched: int, listed: int, page: int) -> bool:
    """True when one listing of ``listed`` objects costs fewer requests than ``touched``
    reads, one per object."""
    return pages(listed, page) < touched


def read_listed(
    touched: Collection[K],
    listed: int,
    page: int,
    first: Callable[[], Page[T]],
    rest: Callable[[Page[T]], Sequence[T]],
    key: Callable[[T], K],
    each: Callable[[set[K]], int] = len,
) -> dict[K, T]:
    """The touched objects one listing holds, by key (``{}`` when reading each is cheaper).

    ``listed``: how many objects the listing is expected to hold (what apply touched);
    ``first`` reads its first page, ``rest`` every object of it after that page; ``each``:
    the requests that read some touched objects without the listing (one per object).
    """
    wanted = set(touched)
    if pages(listed, page) >= each(wanted):
        return {}
    head = first()
    found = {key(o): o for o in head.items if key(o) in wanted}
    if head.last or len(found) == len(wanted):
        return found
    missing = wanted - found.keys()
    if head.total is not None and pages(head.total, page) - 1 >= each(missing):
        return found  # others changed so much that reading the rest without it is cheaper
    return {key(o): o for o in rest(head) if key(o) in wanted}
