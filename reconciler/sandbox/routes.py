"""The route tables: which handler serves which method and path (B2B and core)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from . import channels, companies, core, orders, pricelists, user_writes, users
from .http import Response

Handler = Callable[..., Response]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    methods: dict[str, Handler]


class Router:
    """Paths as regexes with named groups; the first matching pattern owns the path."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, path: str, **methods: Handler) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>\\d{1,18})", path)
        self.routes.append(Route(re.compile(f"^{regex}$"), methods))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | list[str] | None:
        """``(handler, params)``; the allowed methods when only the method is wrong; None."""
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            handler = route.methods.get(method)
            if handler is None:
                return sorted(route.methods)
            return handler, found.groupdict()
        return None


def b2b_router() -> Router:
    r = Router()
    r.add("/companies", GET=companies.list_companies, POST=companies.create_company)
    r.add("/companies/extra-fields", GET=companies.company_extra_fields)
    r.add(
        "/companies/{company_id}",
        GET=companies.get_company,
        PUT=companies.update_company,
        DELETE=companies.delete_company,
    )
    r.add("/companies/{company_id}/status", PUT=companies.set_status)
    r.add("/companies/{company_id}/catalogs", PUT=companies.set_catalog)
    r.add("/customer-groups/{group_id}/companies", POST=companies.convert_group)
    r.add("/users", GET=users.list_users, POST=user_writes.create_user)
    r.add("/users/extra-fields", GET=users.user_extra_fields)
    r.add("/users/customer/{customer_id}", GET=users.get_user_by_customer)
    r.add(
        "/users/{user_id}",
        GET=users.get_user,
        PUT=user_writes.update_user,
        DELETE=user_writes.delete_user,
    )
    r.add("/orders", GET=orders.list_orders, POST=orders.create_order)
    r.add("/orders/extra-fields", GET=orders.order_extra_fields)
    r.add("/orders/{bc_order_id}", GET=orders.get_order, PUT=orders.update_order)
    r.add("/orders/{bc_order_id}/products", GET=orders.order_products)
    r.add("/customers/{customer_id}/orders/company", PUT=orders.reassign_orders)
    r.add("/customers/{customer_id}/orders/b2b", PUT=orders.assign_orders)
    r.add("/channels", GET=channels.list_channels)
    r.add("/channels/{channel_id}", GET=channels.get_channel)
    return r


def core_router() -> Router:
    r = Router()
    r.add("/v2/customer_groups", GET=core.list_groups)
    r.add("/v2/customer_groups/count", GET=core.count_groups)
    r.add("/v2/customer_groups/{group_id}", GET=core.get_group)
    r.add("/v2/orders", GET=core.list_core_orders)
    r.add("/v2/orders/count", GET=core.count_core_orders)
    r.add("/v2/orders/{order_id}", GET=core.get_core_order)
    r.add("/v3/pricelists", GET=core.list_price_lists)
    r.add(
        "/v3/pricelists/assignments",
        GET=pricelists.list_assignments,
        POST=pricelists.create_assignments,
        DELETE=pricelists.delete_assignments,
    )
    r.add("/v3/pricelists/{price_list_id}/assignments", PUT=pricelists.upsert_assignment)
    r.add("/v3/channels", GET=core.list_core_channels)
    r.add("/v3/customers", GET=core.list_customers)
    return r
