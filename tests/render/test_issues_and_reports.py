"""Issues (text, JSON, GitHub annotations), apply reports and the progress line."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from reconciler.model import ActionResult, ApplyReport, Issue, Outcome
from reconciler.render import (
    format_progress,
    render_github_annotations,
    render_issues_json,
    render_issues_text,
    render_report_json,
    render_report_text,
)

ANSI = re.compile("\x1b\\[[0-9;]*m")

ISSUES = (
    Issue("b.yaml", 3, 1, "company/beta", "spec.companyName: required"),
    Issue("a.yaml", 10, 5, "company/acme", "spec.status: 'open' is not one of ..."),
    Issue("a.yaml", 2, 7, "order/po-1", "spec.bcOrderId: must be an integer"),
)

# --------------------------------------------------------------------------- issues


def test_issues_text_sorted_one_per_line() -> None:
    assert render_issues_text(ISSUES).splitlines() == [
        "a.yaml:2:7: order/po-1: spec.bcOrderId: must be an integer",
        "a.yaml:10:5: company/acme: spec.status: 'open' is not one of ...",
        "b.yaml:3:1: company/beta: spec.companyName: required",
    ]
    assert render_issues_text(()) == ""


def test_issues_json() -> None:
    data = json.loads(render_issues_json(ISSUES))
    assert data["valid"] is False
    assert [i["path"] for i in data["issues"]] == ["a.yaml", "a.yaml", "b.yaml"]
    assert set(data["issues"][0]) == {"path", "line", "col", "resource", "message"}
    assert json.loads(render_issues_json([])) == {"valid": True, "issues": []}


def test_annotations_basic() -> None:
    lines = render_github_annotations(ISSUES).splitlines()
    assert lines[0] == (
        "::error file=a.yaml,line=2,col=7::order/po-1: spec.bcOrderId: must be an integer"
    )
    assert len(lines) == 3
    assert render_github_annotations([]) == ""


def test_annotations_escaping() -> None:
    issue = Issue("dir,x/a:b%.yaml", 4, 2, "company/acme", "100% wrong\r\nsecond line, really")
    line = render_github_annotations([issue])
    assert line == (
        "::error file=dir%2Cx/a%3Ab%25.yaml,line=4,col=2::"
        "company/acme: 100%25 wrong%0D%0Asecond line, really"
    )
    assert "\n" not in line


def test_annotations_without_a_location() -> None:
    issue = Issue.at(None, "company/acme", "the live company 1001 has no customer group")
    assert render_github_annotations([issue]) == (
        "::error::company/acme: the live company 1001 has no customer group"
    )
    no_resource = Issue("a.yaml", 1, 0, "", "not YAML")
    assert render_github_annotations([no_resource]) == "::error file=a.yaml,line=1::not YAML"


# --------------------------------------------------------------------------- reports

CONVERT = "company/acme:convert"
UPDATE = "company/acme:update"
REASSIGN = "orderassignment/acme-buyers:reassign:400"


def _applied(action_id: str) -> ActionResult:
    return ActionResult(action_id, "applied", seconds=0.25, requests=1)


def test_report_all_applied(plans: SimpleNamespace) -> None:
    report = ApplyReport(
        results=tuple(_applied(i) for i in (CONVERT, UPDATE, REASSIGN)),
        requests={"POST /customer-groups/{id}/companies": 1, "PUT /companies/{id}": 1},
        seconds=2.5,
    )
    text = render_report_text(report, plans.three(), color=False)
    assert f"  ✓ {CONVERT}: applied (0.25 s, 1 request)" in text
    assert "Requests made: 2 in 2.5 s" in text
    assert "  PUT /companies/{id}: 1" in text
    assert text.splitlines()[-1] == "Apply complete: 3 applied, 0 failed, 0 skipped."
    data = json.loads(render_report_json(report, plans.three()))
    assert data["ok"] is True
    assert data["summary"] == {"applied": 3, "failed": 0, "skipped": 0, "pending": 0}
    assert data["results"][0]["type"] == "convert"
    assert data["results"][0]["resource"] == "company/acme"
    assert data["store"] == "abc123"


def test_report_failure_and_skips(plans: SimpleNamespace) -> None:
    report = ApplyReport(
        results=(
            ActionResult(CONVERT, "failed", "API says: Convert failed for the API call.", 0.4, 1),
            ActionResult(UPDATE, "skipped"),
            ActionResult(REASSIGN, "skipped", "waits for company/acme:convert"),
        ),
        requests={"POST /customer-groups/{id}/companies": 1},
        seconds=0.4,
    )
    text = render_report_text(report, plans.three(), color=False)
    assert (
        f"  ✗ {CONVERT}: failed (0.40 s, 1 request): API says: Convert failed for the API call."
    ) in text
    assert f"  - {UPDATE}: skipped: {CONVERT} failed" in text
    assert f"  - {REASSIGN}: skipped: waits for company/acme:convert" in text
    assert text.splitlines()[-1] == "Apply failed: 0 applied, 1 failed, 2 skipped."
    data = json.loads(render_report_json(report, plans.three()))
    assert data["ok"] is False
    assert data["summary"]["failed"] == 1


def test_skip_reason_follows_skipped_dependencies(plans: SimpleNamespace) -> None:
    plan = plans.full()
    report = ApplyReport(
        results=(
            ActionResult(CONVERT, "failed", "boom"),
            ActionResult(UPDATE, "skipped"),
            *(ActionResult(a.id, "applied") for a in plan.actions[2:]),
        )
    )
    text = render_report_text(report, plan, color=False)
    assert f"{UPDATE}: skipped: {CONVERT} failed" in text


def test_report_interrupted(plans: SimpleNamespace) -> None:
    report = ApplyReport(results=(_applied(CONVERT),), interrupted=True, seconds=1.0)
    text = render_report_text(report, plans.three(), color=False)
    assert f"  … {UPDATE}: pending: not reached: apply was interrupted" in text
    assert f"  … {REASSIGN}: pending: not reached: apply was interrupted" in text
    assert text.splitlines()[-1] == (
        "Apply failed: 1 applied, 0 failed, 0 skipped, 2 pending (interrupted)."
    )
    data = json.loads(render_report_json(report, plans.three()))
    assert data["summary"]["pending"] == 2
    assert [r["outcome"] for r in data["results"]] == ["applied", "pending", "pending"]


def test_report_verification_findings(plans: SimpleNamespace) -> None:
    report = ApplyReport(
        results=tuple(_applied(i) for i in (CONVERT, UPDATE, REASSIGN)),
        verification=(
            'company/acme: uuid is "" after apply, expected "ERP-1"',
            "inconsistent result after apply: order 5001 is in company 1002",
        ),
    )
    text = render_report_text(report, plans.three(), color=False)
    assert (
        'Error: inconsistent result after apply: company/acme: uuid is "" after apply, '
        'expected "ERP-1"'
    ) in text
    assert "Error: inconsistent result after apply: order 5001 is in company 1002" in text
    assert text.splitlines()[-1] == (
        "Apply failed: 3 applied, 0 failed, 0 skipped (2 inconsistent results)."
    )
    assert json.loads(render_report_json(report, plans.three()))["ok"] is False


def test_report_refused(plans: SimpleNamespace) -> None:
    report = ApplyReport(results=(), refused="the plan is stale: company 1002 changed")
    text = render_report_text(report, plans.three(), color=False)
    assert text == "Apply refused: the plan is stale: company 1002 changed"
    assert json.loads(render_report_json(report, plans.three()))["refused"].startswith("the plan")


def test_report_stray_results_are_kept(plans: SimpleNamespace) -> None:
    report = ApplyReport(results=(_applied("company/other:update"),))
    text = render_report_text(report, plans.empty(), color=False)
    assert "company/other:update: applied" in text
    assert text.splitlines()[-1] == "Apply complete: 1 applied, 0 failed, 0 skipped."


@pytest.mark.parametrize("outcome", ["applied", "failed", "skipped", "pending"])
def test_report_colors(plans: SimpleNamespace, outcome: Outcome) -> None:
    results = tuple(ActionResult(i, outcome, "msg \x1b[31m") for i in (CONVERT, UPDATE, REASSIGN))
    report = ApplyReport(results=results)
    colored = render_report_text(report, plans.three(), color=True)
    plain = render_report_text(report, plans.three(), color=False)
    assert "\x1b[" in colored
    assert "\x1b" not in plain
    assert ANSI.sub("", colored).replace("\\x1b", "") == plain.replace("\\x1b", "")
    assert outcome in plain


# --------------------------------------------------------------------------- progress


def test_progress() -> None:
    assert format_progress(3, 10, 12.0) == "[3/10] 12.0s elapsed, ETA 28.0s"
    assert format_progress(0, 10, 0.5) == "[0/10] 0.5s elapsed, ETA --"
    assert format_progress(10, 10, 7.25) == "[10/10] 7.2s elapsed, ETA 0.0s"
    assert format_progress(1, 3, 2.0) == "[1/3] 2.0s elapsed, ETA 4.0s"
