"""Text, Markdown and JSON for plans, issues and apply reports.

Pure functions from values to strings: nothing here prints, reads the environment or decides
about colour (the CLI passes ``color``). Every string that came from the live store or from the
manifests is made inert before it reaches a terminal (control characters and bidirectional
overrides are shown escaped, so a company named with an escape sequence cannot repaint the
screen) or a pull request (values sit in code spans, ``|`` is escaped in tables, and ``@`` in free
text cannot mention anyone).

The JSON of a plan is built here too, in the very shape ``reconciler.planfile.plan_to_json``
writes: the import-linter layers keep render and planfile independent of each other, so neither
may import the other, and a test asserts that the two agree byte for byte.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence

from reconciler.kinds import action_info, action_types, api_requests, estimated_seconds
from reconciler.model import (
    JSON,
    Action,
    ActionResult,
    ApplyReport,
    FieldChange,
    Issue,
    LiveCompany,
    Plan,
    Refresh,
)
from reconciler.planfile import plan_text
from reconciler.snapshot import age_text

__all__ = [
    "format_progress",
    "render_github_annotations",
    "render_issues_json",
    "render_issues_text",
    "render_plan_json",
    "render_plan_json_chunks",
    "render_plan_markdown",
    "render_plan_text",
    "render_report_json",
    "render_report_text",
    "render_unmanaged",
]

NO_CHANGES = "No changes. The live store matches the manifests."

# --------------------------------------------------------------------------- shared vocabulary

_COLORS: Mapping[str, str] = {"+": "green", "~": "yellow", "→": "cyan"}

_IRREVERSIBLE_DEFAULT = "the previous values cannot be restored by this tool"

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9]*/[a-z0-9-]+)\.([A-Za-z]+)\}")
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

_ANSI: Mapping[str, str] = {
    "green": "\x1b[32m",
    "yellow": "\x1b[33m",
    "cyan": "\x1b[36m",
    "red": "\x1b[31m",
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
}
_RESET = "\x1b[0m"


class _Paint:
    """Wraps text in ANSI codes, or not."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        if not self.color or not styles or not text:
            return text
        return "".join(_ANSI[s] for s in styles) + text + _RESET


def _inert(text: str, *, multiline: bool = False) -> str:
    """Show control characters and direction overrides as escapes."""
    pattern = _UNSAFE if multiline else _UNSAFE_LINE
    return pattern.sub(lambda m: _escape_char(m.group()), text)


def _escape_char(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _value(value: JSON) -> str:
    """One JSON value on one line, placeholders shown as Terraform does."""
    if isinstance(value, str) and _PLACEHOLDER.fullmatch(value):
        return "(known after apply)"
    return _inert(json.dumps(value, ensure_ascii=False, sort_keys=False))


def _unmanaged(plan: Plan) -> str:
    """``3 companies``, and ``, 12 users`` once CompanyUsers documents count them."""
    text = _plural(plan.unmanaged_companies, "company", "companies")
    if plan.unmanaged_users is not None:
        text += ", " + _plural(plan.unmanaged_users, "user", "users")
    return text


def _placeholders(text: str) -> list[str]:
    return [m.group() for m in _PLACEHOLDER.finditer(text)]


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _summary_phrase(plan: Plan) -> str:
    counts = plan.counts()
    parts = []
    for kind in action_types():
        n = counts[kind]
        info = action_info(kind)
        if n and info is not None:
            one, many = info.phrases
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts)


def _cost(plan: Plan) -> str:
    requests = api_requests(plan)
    return (
        f"{_plural(requests, 'API request')}, ~{_duration(estimated_seconds(plan))} "
        f"at {plan.store.requests_per_minute} req/min"
    )


def _by_resource(plan: Plan) -> dict[str, list[Action]]:
    """Actions grouped by resource, groups in order of first appearance (apply order)."""
    groups: dict[str, list[Action]] = {}
    for action in plan.actions:
        groups.setdefault(action.resource, []).append(action)
    return groups


def _irreversible_reason(action: Action) -> str:
    info = action_info(action.type)
    return info.irreversible if info is not None else _IRREVERSIBLE_DEFAULT


def _symbol(action_type: str) -> str:
    info = action_info(action_type)
    return info.symbol if info is not None else "~"


def _short(digest: str) -> str:
    """``sha256:0123456789ab…``: enough to tell two manifest sets apart."""
    algo, sep, hexdigest = digest.partition(":")
    if sep and len(hexdigest) > 16:
        return f"{algo}:{hexdigest[:12]}…"
    return digest or "-"


def _behavior(plan: Plan) -> str:
    return plan.store.companies_behavior or "unknown"


def refresh_line(refresh: Refresh) -> str:
    """The header line saying how the live state was read: which parts came from the snapshot
    (and how old it is), which were read in full, or why the whole read was full."""
    if refresh.mode == "full":
        return f"Refresh: full ({refresh.reason})"
    taken = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(refresh.snapshot_taken_at or 0))
    parts = ", ".join(refresh.from_snapshot) or "nothing"
    line = (
        f"Refresh: incremental from a snapshot taken {taken} ({age_text(refresh.age or 0)} "
        f"ago): {parts} changed since"
    )
    if refresh.read_in_full:
        line += "; read in full: " + ", ".join(refresh.read_in_full)
    return line


# --------------------------------------------------------------------------- plan: text


def render_plan_text(plan: Plan, *, color: bool) -> str:
    """Render a plan for a terminal, like ``terraform plan``."""
    paint = _Paint(color)
    lines = [
        f"Store {paint(_inert(plan.store.hash), 'bold')} "
        f"(companies behavior: {_inert(_behavior(plan))}, "
        f"Multi-Storefront: {'on' if plan.store.multi_storefront else 'off'})",
        f"Planned {_inert(plan.created_at)} from manifests {_inert(_short(plan.manifest_digest))}",
    ]
    if plan.refresh is not None:
        lines.append(_inert(refresh_line(plan.refresh)))
    if plan.targets:
        lines.append("Targets: " + ", ".join(_inert(t) for t in plan.targets))
    lines.append("")

    if plan.empty:
        lines.append(paint(NO_CHANGES, "green", "bold"))
    else:
        lines.append("b2b-reconcile will make these API calls, in this order:")
        lines.append(
            "  "
            + "  ".join(
                paint(symbol, _COLORS[symbol]) + " " + meaning
                for symbol, meaning in (
                    ("+", "convert/create"),
                    ("~", "update"),
                    ("→", "move orders"),
                )
            )
        )
        for resource, actions in _by_resource(plan).items():
            lines.append("")
            lines.append(paint(f"  # {_inert(resource)}", "bold"))
            for action in actions:
                lines.extend(_action_text(action, paint))

    lines.append("")
    lines.append(f"Unmanaged: {_unmanaged(plan)} (left untouched)")
    if plan.warnings:
        lines.append("")
        for warning in plan.warnings:
            lines.append(paint("Warning:", "yellow", "bold") + " " + _inert(warning))
    if not plan.empty:
        lines.append("")
        lines.append(paint("Plan:", "bold") + f" {_summary_phrase(plan)} ({_cost(plan)}).")
    return "\n".join(lines)


def _action_text(action: Action, paint: _Paint) -> list[str]:
    symbol = _symbol(action.type)
    tint = _COLORS[symbol]
    head = f"  {paint(symbol, tint, 'bold')} {paint(action.type, tint)} {_inert(action.id)}"
    lines = [head]
    pad = "      "
    request = f"{action.request.method} {_inert(action.request.path)}"
    known_later = _placeholders(action.request.path)
    if known_later:
        request += paint(
            "  (" + ", ".join(p.strip("{}") for p in known_later) + ": known after apply)", "dim"
        )
    lines.append(pad + request)
    if action.depends_on:
        lines.append(pad + "depends on: " + ", ".join(_inert(d) for d in action.depends_on))
    lines.extend(_changes_text(action.changes, pad + "  ", paint))
    if action.request.body not in (None, {}, []):
        lines.extend(_body_text(action.request.body, pad))
    if action.irreversible:
        lines.append(pad + paint(f"! irreversible: {_irreversible_reason(action)}", "red", "bold"))
    for effect in action.side_effects:
        lines.append(pad + paint(f"# note: {_inert(effect)}", "dim"))
    return lines


def _changes_text(changes: Sequence[FieldChange], pad: str, paint: _Paint) -> list[str]:
    if not changes:
        return []
    width = max(len(_inert(c.path)) for c in changes) + 1
    out = []
    for change in changes:
        label = (_inert(change.path) + ":").ljust(width)
        before = _value(change.before)
        after = _value(change.after)
        out.append(f"{pad}{label} {paint(before, 'red')} -> {paint(after, 'green')}")
    return out


def _body_text(body: JSON, pad: str) -> list[str]:
    compact = _inert(json.dumps(body, ensure_ascii=False))
    if len(compact) <= 96:
        return [f"{pad}body: {compact}"]
    pretty = _inert(json.dumps(body, ensure_ascii=False, indent=2), multiline=True)
    rows = pretty.split("\n")
    return [f"{pad}body: {rows[0]}", *(f"{pad}      {row}" for row in rows[1:])]


def render_unmanaged(companies: Sequence[LiveCompany]) -> str:
    """The unmanaged companies, one per line: id, name, customer group."""
    lines = [f"Unmanaged companies ({len(companies)}, left untouched):"]
    for c in sorted(companies, key=lambda c: c.company_id):
        group = f"customer group {c.customer_group_id}" if c.customer_group_id else "no group"
        lines.append(f"  {c.company_id}  {_inert(c.company_name)}  ({group})")
    return "\n".join(lines)


# --------------------------------------------------------------------------- plan: markdown


MARKDOWN_BUDGET = 60_000
"""Characters a Markdown plan may take: GitHub cuts comments at 65,536, and a cut inside an
open ``<details>`` would hide the rest of the page. Resources past the budget are counted."""


IRREVERSIBLE_LISTED = 50
"""Irreversible actions named in the callout; the rest are counted (each keeps its own flag)."""


def render_plan_markdown(plan: Plan, *, compact: int | None = None) -> str:
    """Render a plan for a pull-request comment (GitHub Markdown).

    ``compact=N`` shows the summary table and the first N resources' details; the rest are
    counted. Whatever the mode, details stop before :data:`MARKDOWN_BUDGET` characters.
    """
    over = plan.change_limit_exceeded()
    out = [
        f"### b2b-reconcile plan for store {_md_code(plan.store.hash)}",
        "",
        f"Companies behavior: **{_md_text(_behavior(plan))}** · Multi-Storefront: "
        f"**{'on' if plan.store.multi_storefront else 'off'}** · manifests "
        f"{_md_code(_short(plan.manifest_digest))} · planned {_md_code(plan.created_at)}",
    ]
    if plan.refresh is not None:
        out += ["", _md_text(refresh_line(plan.refresh))]
    if plan.targets:
        out += ["", "Targets: " + ", ".join(_md_code(t) for t in plan.targets)]
    out.append("")
    if plan.empty:
        out.append(f"**No changes.** {NO_CHANGES.removeprefix('No changes. ')}")
    else:
        counts = plan.counts()
        out += [
            f"**{_plural(len(plan.actions), 'change')}**: {_md_text(_summary_phrase(plan))}. "
            f"Apply makes **{_plural(api_requests(plan), 'API request')}**, about "
            f"**{_duration(estimated_seconds(plan))}** at "
            f"{plan.store.requests_per_minute} req/min.",
            "",
            "| action type | count |",
            "| --- | ---: |",
            *(f"| {kind} | {counts[kind]} |" for kind in action_types() if counts[kind]),
            f"| **total** | **{len(plan.actions)}** |",
        ]
        if over:
            out += [
                "",
                f"> [!CAUTION]\n> **Over maxChangePercent:** {_md_text(over)}. "
                "`apply` refuses this plan unless given `--force`.",
            ]
        irreversible = [a for a in plan.actions if a.irreversible]
        if irreversible:
            listed = irreversible[: IRREVERSIBLE_LISTED if compact is None else compact]
            out += ["", f"> [!WARNING]\n> **{_plural(len(irreversible), 'irreversible action')}:**"]
            out += [f"> - {_md_code(a.id)}: {_md_text(_irreversible_reason(a))}" for a in listed]
            if len(listed) < len(irreversible):
                out += [f"> - and {len(irreversible) - len(listed)} more"]
    tail = [
        "",
        f"Unmanaged: {_unmanaged(plan)} (left untouched).",
    ]
    warnings = [w for w in plan.warnings if not (over and w.startswith(over))]
    if warnings:
        tail += ["", "**Warnings**", ""]
        tail += [f"- :warning: {_md_text(w)}" for w in warnings]
    out += _details_within_budget(plan, out, tail, compact)
    return "\n".join(out + tail)


def _details_within_budget(
    plan: Plan, head: Sequence[str], tail: Sequence[str], compact: int | None
) -> list[str]:
    """Whole ``<details>`` blocks while they fit (and, compact, the first N); the rest counted."""
    used = sum(len(line) + 1 for line in (*head, *tail)) + 400  # room for the count line
    shown: list[str] = []
    groups = list(_by_resource(plan).items())
    count = 0
    for resource, actions in groups:
        if compact is not None and count >= compact:
            break
        block = ["", *_resource_markdown(resource, actions)]
        size = sum(len(line) + 1 for line in block)
        if used + size > MARKDOWN_BUDGET:
            break
        shown += block
        used += size
        count += 1
    rest = groups[count:]
    if rest:
        hidden = sum(len(a) for _, a in rest)
        shown += [
            "",
            f"**{_plural(len(rest), 'more resource')}** ({_plural(hidden, 'action')}) not shown "
            "here: run `b2b-reconcile show PLAN_FILE` on the saved plan, or see the job log.",
        ]
    return shown


def _resource_markdown(resource: str, actions: Sequence[Action]) -> list[str]:
    kinds = ", ".join(dict.fromkeys(a.type for a in actions))
    flag = " ⚠️ irreversible" if any(a.irreversible for a in actions) else ""
    out = [
        "<details>",
        f"<summary><code>{_html(resource)}</code>: {_html(kinds)}{flag}</summary>",
    ]
    for action in actions:
        symbol = _symbol(action.type)
        request = f"{action.request.method} {action.request.path}"
        out += [
            "",
            f"#### {symbol} {_md_text(action.type)}: {_md_code(request)}",
            "",
            f"Action {_md_code(action.id)}"
            + (
                "; depends on " + ", ".join(_md_code(d) for d in action.depends_on)
                if action.depends_on
                else ""
            )
            + ".",
        ]
        known_later = _placeholders(action.request.path)
        if known_later:
            out[-1] += " " + ", ".join(_md_code(p) for p in known_later) + ": known after apply."
        if action.changes:
            out += ["", "| field | before | after |", "| --- | --- | --- |"]
            out += [
                f"| {_md_code(c.path, table=True)} | {_md_code(_value(c.before), table=True)} "
                f"| {_md_code(_value(c.after), table=True)} |"
                for c in action.changes
            ]
        if action.request.body not in (None, {}, []):
            body = json.dumps(action.request.body, ensure_ascii=False, indent=2)
            fence = "`" * max(3, _longest_run(body, "`") + 1)
            out += ["", "<sub>Request body</sub>", "", f"{fence}json", body, fence]
        if action.irreversible:
            out += ["", f"**⚠️ Irreversible:** {_md_text(_irreversible_reason(action))}"]
        if action.side_effects:
            out += ["", *(f"- Note: {_md_text(e)}" for e in action.side_effects)]
    out += ["", "</details>"]
    return out


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max((len(r) for r in runs), default=0)


def _md_code(text: str, *, table: bool = False) -> str:
    """A code span holding ``text`` literally (backticks in it included)."""
    text = _inert(text).replace("\n", " ")
    if not text:
        return "` `"
    fence = "`" * (_longest_run(text, "`") + 1)
    if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")):
        text = f" {text} "
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>#|~!])")
_MENTION = re.compile(r"(?<![\w.+-])@(?=\w)")


def _md_text(text: str) -> str:
    """Plain text that Markdown shows as is (no emphasis, links, HTML, mentions or table cuts)."""
    text = _inert(text).replace("\n", " ").replace("&", "&amp;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MENTION.sub("@\u200b", text)


def _html(text: str) -> str:
    return (
        _inert(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


# --------------------------------------------------------------------------- plan: JSON


def render_plan_json(plan: Plan) -> str:
    """Render the contract's Plan JSON, indented by 2 (the saved file's text)."""
    return "".join(plan_text(plan))


def render_plan_json_chunks(plan: Plan) -> Iterator[str]:
    """``render_plan_json(plan)`` in chunks, never whole (``planfile.plan_text``)."""
    return plan_text(plan)


# --------------------------------------------------------------------------- issues


def render_issues_text(issues: Sequence[Issue]) -> str:
    """One ``path:line:col: kind/name: message`` line per issue, sorted."""
    return "\n".join(_inert(issue.format()) for issue in sorted(issues))


def render_issues_json(issues: Sequence[Issue]) -> str:
    """``{"valid": bool, "issues": [...]}``, issues sorted."""
    payload = {"valid": not issues, "issues": [i.to_json() for i in sorted(issues)]}
    return json.dumps(payload, indent=2, ensure_ascii=False)


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github_annotations(issues: Sequence[Issue]) -> str:
    """One GitHub Actions ``::error`` workflow command per issue, sorted."""
    lines = []
    for issue in sorted(issues):
        props = []
        if issue.path and not issue.path.startswith("<"):
            props.append(f"file={_gh_property(issue.path)}")
            if issue.line > 0:
                props.append(f"line={issue.line}")
                if issue.col > 0:
                    props.append(f"col={issue.col}")
        message = f"{issue.resource}: {issue.message}" if issue.resource else issue.message
        head = "::error " + ",".join(props) if props else "::error"
        lines.append(f"{head}::{_gh_data(message)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- apply reports

_OUTCOME_STYLE: Mapping[str, tuple[str, str]] = {
    "applied": ("✓", "green"),
    "failed": ("✗", "red"),
    "skipped": ("-", "yellow"),
    "pending": ("…", "dim"),
}


def _results_in_order(report: ApplyReport, plan: Plan) -> list[tuple[ActionResult, Action | None]]:
    """Results in plan order; plan actions with no result are pending; strays come last."""
    by_id = {r.action_id: r for r in report.results}
    rows: list[tuple[ActionResult, Action | None]] = []
    for action in plan.actions:
        result = by_id.pop(action.id, None) or ActionResult(action.id, "pending")
        rows.append((result, action))
    rows += [(r, None) for r in report.results if r.action_id in by_id]
    return rows


def _counts(rows: Sequence[tuple[ActionResult, Action | None]]) -> dict[str, int]:
    counts = dict.fromkeys(_OUTCOME_STYLE, 0)
    for result, _ in rows:
        counts[result.outcome] += 1
    return counts


def _timing(result: ActionResult) -> str:
    parts = []
    if result.seconds:
        parts.append(f"{result.seconds:.2f} s")
    if result.requests:
        parts.append(_plural(result.requests, "request"))
    return f" ({', '.join(parts)})" if parts else ""


def _verification_line(finding: str) -> str:
    finding = _inert(finding)
    prefix = "inconsistent result after apply"
    return finding if finding.lower().startswith(prefix) else f"{prefix}: {finding}"


def render_report_text(report: ApplyReport, plan: Plan, *, color: bool) -> str:
    """Render what apply did, action by action, with verification and a final line."""
    paint = _Paint(color)
    rows = _results_in_order(report, plan)
    outcomes = {r.action_id: r.outcome for r, _ in rows}
    graph = {a.id: a.depends_on for a in plan.actions}
    lines: list[str] = []
    if report.refused:
        lines.append(paint("Apply refused:", "red", "bold") + " " + _inert(report.refused))
        return "\n".join(lines)
    for result, action in rows:
        symbol, tint = _OUTCOME_STYLE[result.outcome]
        head = f"  {paint(symbol, tint, 'bold')} {_inert(result.action_id)}: "
        if result.outcome == "applied":
            detail = paint("applied", tint) + _timing(result)
        elif result.outcome == "failed":
            detail = paint("failed", tint, "bold") + _timing(result)
            if result.message:
                detail += ": " + _inert(result.message)
        elif result.outcome == "skipped":
            reason = _inert(result.message) or _reason(action, outcomes, graph)
            detail = paint("skipped", tint) + (f": {reason}" if reason else "")
        else:
            reason = _inert(result.message) or (
                "not reached: apply was interrupted" if report.interrupted else "not reached"
            )
            detail = paint("pending", tint) + f": {reason}"
        lines.append(head + detail)
    if report.verification:
        lines.append("")
        lines += [
            paint("Error:", "red", "bold") + " " + _verification_line(f)
            for f in report.verification
        ]
    total = sum(report.requests.values())
    lines += ["", f"Requests made: {total} in {_duration(report.seconds)}"]
    lines += [f"  {_inert(key)}: {report.requests[key]}" for key in sorted(report.requests)]
    counts = _counts(rows)
    tally = f"{counts['applied']} applied, {counts['failed']} failed, {counts['skipped']} skipped"
    if counts["pending"]:
        tally += f", {counts['pending']} pending"
    lines.append("")
    if report.ok and counts["applied"] == len(rows):
        lines.append(paint("Apply complete:", "green", "bold") + f" {tally}.")
    else:
        extra = []
        if report.stopped:
            extra.append(f"stopped: {_inert(report.stopped)}")
        elif report.interrupted:
            extra.append("interrupted")
        if report.verification:
            extra.append(_plural(len(report.verification), "inconsistent result"))
        suffix = f" ({'; '.join(extra)})" if extra else ""
        lines.append(paint("Apply failed:", "red", "bold") + f" {tally}{suffix}.")
    return "\n".join(lines)


def _reason(
    action: Action | None,
    outcomes: Mapping[str, str],
    graph: Mapping[str, tuple[str, ...]],
) -> str:
    """Why an action was skipped: the failed action it waited on, through skipped ones."""
    if action is None:
        return ""
    seen: set[str] = set()
    queue = list(action.depends_on)
    while queue:
        dep = queue.pop(0)
        if dep in seen:
            continue
        seen.add(dep)
        if outcomes.get(dep) == "failed":
            return f"{dep} failed"
        queue.extend(graph.get(dep, ()))
    return ""


def render_report_json(report: ApplyReport, plan: Plan) -> str:
    """Render an apply report as JSON: results in plan order with type and resource.

    Plan actions the report has no result for are listed as ``pending``, as in the text.
    """
    payload = report.to_json()
    rows = _results_in_order(report, plan)
    results: list[dict[str, JSON]] = []
    for result, action in rows:
        row = result.to_json()
        if action is not None:
            row["type"] = action.type
            row["resource"] = action.resource
        results.append(row)
    counts = _counts(rows)
    payload["ok"] = report.ok and counts["applied"] == len(rows)
    payload["summary"] = counts
    payload["results"] = results
    payload["store"] = plan.store.hash
    payload["manifestDigest"] = plan.manifest_digest
    return json.dumps(payload, indent=2, ensure_ascii=False)


# --------------------------------------------------------------------------- progress


def format_progress(done: int, total: int, elapsed: float) -> str:
    """``[3/10] 12.0s elapsed, ETA 28.0s`` (ETA at the rate so far; ``--`` before the first)."""
    if done <= 0:
        eta = "--"
    else:
        remaining = max(0, total - done) * (elapsed / done)
        eta = f"{remaining:.1f}s"
    return f"[{done}/{total}] {elapsed:.1f}s elapsed, ETA {eta}"
