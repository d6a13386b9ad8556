"""What CompanyUsers documents make the live reader read, and that it costs exactly the
computed fewest requests (pages of every user, or per company plus per e-mail look-ups)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.api import ApiClient
from reconciler.kinds.company_users import CompanyUsersSpec, UserSpec
from reconciler.kinds.order_assignment import OrderAssignmentSpec
from reconciler.live import ReadCounts, lower_bound, plan_read_cost, read_live, read_needs
from reconciler.model import LiveState
from reconciler.sandbox import Sandbox

Kit = Any
OpenClient = Callable[[Sandbox], ApiClient]


def listing(company: str, *emails: str) -> CompanyUsersSpec:
    return CompanyUsersSpec(
        name=f"{company}-users",
        company=company,
        users=tuple(UserSpec(e, "F", "L", "junior-buyer") for e in emails),
    )


def read(sb: Sandbox, open_client: OpenClient, manifests: Any) -> LiveState:
    return read_live(open_client(sb), manifests, wall_clock=lambda: 1_760_000_000.0)


def test_small_store_one_page_answers_everything(kit: Kit, open_client: OpenClient) -> None:
    """One page of users holds the company's users and the listed e-mail found elsewhere; the
    user configs are one more request; the unlisted users of other companies are dropped."""
    with Sandbox(db=":memory:", seed=kit.base_seed()) as sb:
        found = kit.manifests(
            companies=(kit.spec("acme", 12),),
            assignments=(),
        )
        found = type(found)(found.store, (*found.specs, listing("acme", "C@globex.example")))
        state = read(sb, open_client, found)
        assert [(u.customer_id, u.company_id) for u in state.users] == [(321, 1001), (322, 1002)]
        assert state.users[0].extra_fields == {}
        counts = ReadCounts(companies=2, users=2, listed_users_on_first_page=1)
        cost = plan_read_cost(read_needs(found), counts)
        assert (cost.company_users, cost.user_extra_fields) == (1, 1)
        assert state.requests == len(sb.request_log) == lower_bound(read_needs(found), counts)


def test_large_store_reads_per_company_and_looks_up_the_rest(
    kit: Kit, open_client: OpenClient
) -> None:
    """2000 users: the company's own users and a look-up for each listed e-mail neither showed
    beat paging through every user."""
    seed = kit.big_seed(companies=900, users=2000, orders=10)
    with Sandbox(db=":memory:", seed=seed) as sb:
        found = kit.manifests(companies=(kit.spec("acme", 12),))
        found = type(found)(
            found.store,
            (*found.specs, listing("acme", "a@acme.example", "c@globex.example", "x@new.example")),
        )
        state = read(sb, open_client, found)
        assert {u.email for u in state.users} == {"a@acme.example", "c@globex.example"}
        counts = ReadCounts(
            companies=902,
            groups_on_first_page=0,
            customer_groups=902,
            users=2002,
            users_of_companies=(1,),
            listed_users_elsewhere=2,  # c@globex (the last page) and x@new (nowhere)
        )
        cost = plan_read_cost(read_needs(found), counts)
        assert cost.company_users == 1 + 1 + 2
        assert state.requests == len(sb.request_log) == lower_bound(read_needs(found), counts)
        assert sum("q=" in e.query for e in sb.request_log) == 2


def test_many_listed_e_mails_page_through_every_user(kit: Kit, open_client: OpenClient) -> None:
    """When look-ups would cost more than the remaining pages, every user is paged."""
    seed = kit.big_seed(companies=5, users=300, orders=10)
    with Sandbox(db=":memory:", seed=seed) as sb:
        found = kit.manifests(companies=(kit.spec("acme", 12),))
        emails = [f"u{i}@example.com" for i in range(260, 300)]
        found = type(found)(found.store, (*found.specs, listing("acme", *emails)))
        state = read(sb, open_client, found)
        assert len(state.users) == 1 + 40
        counts = ReadCounts(companies=7, customer_groups=7, users=302)
        assert plan_read_cost(read_needs(found), counts).company_users == 2
        assert state.requests == len(sb.request_log) == lower_bound(read_needs(found), counts)


def test_customer_e_mails_are_read_for_those_who_may_join(
    kit: Kit, open_client: OpenClient
) -> None:
    """With CompanyUsers documents, OrderAssignment customers who are no company user get
    their e-mail read (one ``id:in`` request), so that a createUser can make them members."""
    with Sandbox(db=":memory:", seed=kit.base_seed()) as sb:
        base = kit.manifests(
            companies=(kit.spec("acme", 12),),
            assignments=(OrderAssignmentSpec("buyers", "acme", (321, 400)),),
        )
        found = type(base)(base.store, (*base.specs, listing("acme", "loner@example.com")))
        state = read(sb, open_client, found)
        assert state.customers[400].email == "loner@example.com"
        assert state.customers[321].email is None  # a member already: not needed
        counts = ReadCounts(
            companies=2,
            users=2,
            customers_on_first_page=1,
            orders_per_customer={321: 2, 400: 1},
            orders_to_read=3,
            orders=4,
            customers_not_users=1,
        )
        cost = plan_read_cost(read_needs(found), counts)
        assert cost.customer_emails == 1
        assert state.requests == len(sb.request_log) == lower_bound(read_needs(found), counts)
        without = read(sb, open_client, base)
        assert without.customers[400].email is None
