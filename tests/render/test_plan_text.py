"""The terminal rendering of plans."""

from __future__ import annotations

import re
from dataclasses import replace
from types import SimpleNamespace

import pytest

from reconciler.kinds import action_types
from reconciler.model import Action, FieldChange, Request
from reconciler.render import render_plan_text

ACTION_TYPES = action_types()

ANSI = re.compile("\x1b\\[[0-9;]*m")

SYMBOL = {
    "convert": "+",
    "create": "+",
    "update": "~",
    "setStatus": "~",
    "setCatalog": "~",
    "updateOrder": "~",
    "reassign": "→",
    "assign": "→",
    "createUser": "+",
    "updateUser": "~",
    "setPriceList": "~",
}


@pytest.mark.parametrize("kind", ACTION_TYPES)
@pytest.mark.parametrize("color", [False, True])
def test_every_action_type_renders(plans: SimpleNamespace, kind: str, color: bool) -> None:
    action: Action = plans.actions[kind]
    text = render_plan_text(plans.empty(actions=(action,)), color=color)
    plain = ANSI.sub("", text)
    assert f"  # {action.resource}" in plain
    assert f"  {SYMBOL[kind]} {kind} {action.id}" in plain
    assert f"{action.request.method} {action.request.path}" in plain
    for change in action.changes:
        assert change.path + ":" in plain
    assert ("\x1b[" in text) is color


def test_no_ansi_without_color(plans: SimpleNamespace) -> None:
    text = render_plan_text(plans.full(warnings=("look out",)), color=False)
    assert "\x1b" not in text


def test_colors_by_symbol(plans: SimpleNamespace) -> None:
    text = render_plan_text(plans.full(), color=True)
    assert "\x1b[32m\x1b[1m+\x1b[0m \x1b[32mconvert" in text
    assert "\x1b[33m\x1b[1m~\x1b[0m \x1b[33mupdate" in text
    assert "\x1b[36m\x1b[1m→\x1b[0m \x1b[36mreassign" in text
    assert "\x1b[31m\x1b[1m! irreversible:" in text


def test_header(plans: SimpleNamespace) -> None:
    text = render_plan_text(plans.three(), color=False)
    first, second = text.splitlines()[:2]
    assert first == "Store abc123 (companies behavior: dependent, Multi-Storefront: off)"
    assert second.startswith("Planned 2026-11-22T10:00:00Z from manifests sha256:000000000000")


def test_multistorefront_and_targets_in_header(plans: SimpleNamespace) -> None:
    store = replace(plans.store, multi_storefront=True, companies_behavior="independent")
    plan = replace(plans.three(), store=store, targets=("company/acme",))
    text = render_plan_text(plan, color=False)
    assert "(companies behavior: independent, Multi-Storefront: on)" in text
    assert "Targets: company/acme" in text


def test_three_action_plan_in_full(plans: SimpleNamespace) -> None:
    text = render_plan_text(plans.three(), color=False)
    assert "  # company/acme\n  + convert company/acme:convert\n" in text
    assert "      POST /customer-groups/12/companies\n" in text
    # field changes aligned on the longest path of the action
    assert '        companyName:  null -> "Acme"\n' in text
    assert '        companyEmail: null -> "a@acme.example"\n' in text
    assert "      ! irreversible: a customer group converted into a company" in text
    assert "      # note: customer group 12 becomes the company's group, one to one" in text
    assert "      depends on: company/acme:convert\n" in text
    assert '        uuid: "" -> "ERP-1"\n' in text
    assert (
        "  # orderassignment/acme-buyers\n  → reassign orderassignment/acme-buyers:reassign:400"
        in (text)
    )
    assert '        orders.5001.companyId: 1002 -> "company/acme"' in text
    assert "Unmanaged: 4 companies (left untouched)" in text
    assert "Warning: customer 402 has no orders yet" in text
    assert text.endswith(
        "Plan: 1 to convert, 1 to update, 1 customer's orders to reassign "
        "(10 API requests, ~5.0 s at 120 req/min)."
    )


def test_groups_keep_apply_order(plans: SimpleNamespace) -> None:
    text = render_plan_text(plans.full(), color=False)
    order = [line.strip() for line in text.splitlines() if line.startswith("  # ")]
    assert order == [
        "# company/acme",
        "# company/globex",
        "# company/initech",
        "# companyusers/acme-users",
        "# companyusers/globex-users",
        "# orderassignment/acme-buyers",
        "# order/po-5001",
        "# pricelistassignment/trade",
    ]


def test_summary_line_counts_every_type(plans: SimpleNamespace) -> None:
    text = render_plan_text(plans.full(), color=False)
    assert text.splitlines()[-1] == (
        "Plan: 1 to convert, 1 to create, 1 to update, 1 status to set, 1 catalog to set, "
        "1 user to create, 1 user to update, 1 customer's orders to reassign, "
        "1 customer's orders to assign, 1 order to update, 1 price list to set "
        "(26 API requests, ~13.0 s at 120 req/min)."
    )


def test_summary_plurals_and_long_estimates(plans: SimpleNamespace) -> None:
    store = replace(plans.store, requests_per_minute=1)
    updates = tuple(
        Action(
            id=f"order/o{i}:updateOrder",
            type="updateOrder",
            resource=f"order/o{i}",
            request=Request("PUT", f"/orders/{i}", {"poNumber": "x"}),
            bc_order_id=i,
        )
        for i in range(3)
    )
    text = render_plan_text(plans.empty(actions=updates, store=store), color=False)
    assert "Plan: 3 orders to update (4 API requests, ~4 min at 1 req/min)." in text


def test_placeholders_are_known_after_apply(plans: SimpleNamespace) -> None:
    action = Action(
        id="company/acme:setStatus",
        type="setStatus",
        resource="company/acme",
        request=Request("PUT", "/companies/{company/acme.companyId}/status", {"companyStatus": 1}),
        changes=(FieldChange("companyId", None, "{company/acme.companyId}"),),
    )
    text = render_plan_text(plans.empty(actions=(action,)), color=False)
    assert (
        "PUT /companies/{company/acme.companyId}/status  "
        "(company/acme.companyId: known after apply)"
    ) in text
    assert "companyId: null -> (known after apply)" in text


def test_long_bodies_are_pretty_printed(plans: SimpleNamespace) -> None:
    text = render_plan_text(plans.three(), color=False)
    assert '      body: {\n              "companyName": "Acme",\n' in text
    assert '      body: {"uuid": "ERP-1"}' in text


def test_empty_plan(plans: SimpleNamespace) -> None:
    for color in (False, True):
        text = ANSI.sub("", render_plan_text(plans.empty(), color=color))
        assert "No changes. The live store matches the manifests." in text
        assert "Plan:" not in text
        assert "Unmanaged: 4 companies (left untouched)" in text


def test_one_unmanaged_company(plans: SimpleNamespace) -> None:
    text = render_plan_text(plans.empty(unmanaged_companies=1), color=False)
    assert "Unmanaged: 1 company (left untouched)" in text


def test_live_values_cannot_drive_the_terminal(plans: SimpleNamespace) -> None:
    evil = "Acme\x1b[2J\x9b31m\u202eevil"
    action = Action(
        id="company/acme:update",
        type="update",
        resource="company/acme",
        request=Request("PUT", "/companies/1", {"companyName": evil}),
        changes=(FieldChange("companyName", evil, "Acme"),),
        side_effects=(f"renames {evil}",),
    )
    text = render_plan_text(plans.empty(actions=(action,), warnings=(evil,)), color=False)
    assert "\x1b" not in text
    assert "\x9b" not in text
    assert "\u202e" not in text
    assert "\\u001b[2J" in text  # JSON escape in values
    assert "\\x1b[2J" in text  # explicit escape in free text
    assert "\\u202e" in text
