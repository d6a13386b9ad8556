"""The pull-request (GitHub Markdown) rendering of plans."""

from __future__ import annotations

import re
from dataclasses import replace
from types import SimpleNamespace

import pytest

from reconciler.kinds import action_types
from reconciler.model import Action, FieldChange, Request
from reconciler.render import render_plan_markdown

ACTION_TYPES = action_types()


def _tricky_action() -> Action:
    value = "A|B `tick` ``two`` <b>bold</b> *star* @octocat"
    return Action(
        id="company/acme:update",
        type="update",
        resource="company/acme",
        request=Request("PUT", "/companies/1", {"companyName": value, "note": "```"}),
        changes=(
            FieldChange("companyName", "Old|Name", value),
            FieldChange("extraFields.a|b", "`", None),
        ),
        side_effects=("mentions @octocat and *emphasis* | pipes <script>",),
    )


def test_title_summary_table_and_cost(plans: SimpleNamespace) -> None:
    md = render_plan_markdown(plans.full())
    assert md.startswith("### b2b-reconcile plan for store `abc123`\n")
    assert "| action type | count |\n| --- | ---: |\n" in md
    for kind in ACTION_TYPES:
        assert f"| {kind} | 1 |" in md
    assert "| **total** | **11** |" in md
    assert "**26 API requests**" in md
    assert "**13.0 s** at 120 req/min" in md


def test_only_present_types_in_the_table(plans: SimpleNamespace) -> None:
    md = render_plan_markdown(plans.three())
    rows = re.findall(r"^\| (\w+) \| \d+ \|$", md, flags=re.MULTILINE)
    assert rows == ["convert", "update", "reassign"]


@pytest.mark.parametrize("kind", ACTION_TYPES)
def test_every_action_type_renders(plans: SimpleNamespace, kind: str) -> None:
    action: Action = plans.actions[kind]
    md = render_plan_markdown(plans.empty(actions=(action,)))
    assert f"<summary><code>{action.resource}</code>: {kind}" in md
    assert re.search(rf"^#### [+~→] {kind}: `", md, flags=re.MULTILINE)
    assert f"`{action.request.method} {action.request.path}`" in md
    assert f"Action `{action.id}`" in md
    if action.changes:
        assert "| field | before | after |" in md
        for change in action.changes:
            assert f"| `{change.path}` |" in md
    assert md.count("<details>") == md.count("</details>") == 1


def test_details_per_resource(plans: SimpleNamespace) -> None:
    md = render_plan_markdown(plans.full())
    assert md.count("<details>") == 8
    assert md.count("</details>") == 8
    # GitHub renders Markdown inside <details> only after a blank line
    assert md.count("</summary>\n\n") == 8
    assert md.count("\n\n</details>") == 8


def test_changes_table_and_request(plans: SimpleNamespace) -> None:
    md = render_plan_markdown(plans.three())
    assert '| `companyName` | `null` | `"Acme"` |' in md
    assert '| `orders.5001.companyId` | `1002` | `"company/acme"` |' in md
    assert "#### + convert: `POST /customer-groups/12/companies`" in md
    assert "Action `company/acme:update`; depends on `company/acme:convert`." in md
    assert "`{company/acme.companyId}`: known after apply." in md
    assert '```json\n{\n  "companyName": "Acme",' in md


def test_irreversible_and_side_effects_called_out(plans: SimpleNamespace) -> None:
    md = render_plan_markdown(plans.three())
    assert "> [!WARNING]\n> **1 irreversible action:**\n> - `company/acme:convert`:" in md
    assert "**⚠️ Irreversible:**" in md
    assert "<summary><code>company/acme</code>: convert, update ⚠️ irreversible</summary>" in md
    assert "- Note: customer group 12 becomes the company's group, one to one" in md
    assert "- :warning: customer 402 has no orders yet" in md
    assert "Unmanaged: 4 companies (left untouched)." in md


def test_empty_plan_says_so(plans: SimpleNamespace) -> None:
    md = render_plan_markdown(plans.empty())
    assert "**No changes.** The live store matches the manifests." in md
    assert "<details>" not in md
    assert "| action type |" not in md


def test_values_are_escaped_for_tables(plans: SimpleNamespace) -> None:
    md = render_plan_markdown(plans.empty(actions=(_tricky_action(),)))
    rows = [line for line in md.splitlines() if line.startswith("| `")]
    assert len(rows) == 2
    for row in rows:
        # exactly four unescaped pipes: the row has three cells
        assert len(re.findall(r"(?<!\\)\|", row)) == 4
    # backticks inside a value get a longer fence
    assert '```"A\\|B `tick` ``two`` <b>bold</b> *star* @octocat"```' in rows[0]
    assert '| ``"`"`` |' in rows[1]
    # a body with a backtick fence inside gets a longer fence
    assert "````json" in md


def test_free_text_is_inert(plans: SimpleNamespace) -> None:
    md = render_plan_markdown(plans.empty(actions=(_tricky_action(),), warnings=("@team *now*",)))
    assert "<script>" not in md
    assert "\\<script\\>" in md
    assert "@\u200boctocat" in md
    assert "\\*emphasis\\*" in md
    assert "\\| pipes" in md
    assert "@\u200bteam \\*now\\*" in md


def test_markdown_parses_as_intended(plans: SimpleNamespace) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    md = render_plan_markdown(plans.empty(actions=(_tricky_action(),)))
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(md)
    cells = re.findall(r"<td>(<code>.*?)</td>", html)
    assert len(cells) == 6
    assert cells[2] == (
        "<code>&quot;A|B `tick` ``two`` &lt;b&gt;bold&lt;/b&gt; *star* @octocat&quot;</code>"
    )
    assert cells[4] == "<code>&quot;`&quot;</code>"
    assert "<em>" not in html


def test_multistorefront_and_targets(plans: SimpleNamespace) -> None:
    store = replace(plans.store, multi_storefront=True)
    md = render_plan_markdown(replace(plans.three(), store=store, targets=("company/acme",)))
    assert "Multi-Storefront: **on**" in md
    assert "Targets: `company/acme`" in md
