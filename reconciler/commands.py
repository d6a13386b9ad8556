"""One function per command: glue between manifests, the live store, the planner and renderers.

Each returns the exit code; output goes through the CLI's ``Console`` (redacted, coloured once).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from reconciler import kinds
from reconciler import manifests as manifest_io
from reconciler.errors import (
    ApplyRefusedError,
    ManifestError,
    PlanMismatchError,
    ReconcilerError,
    SafetyError,
    UsageError,
)
from reconciler.executor import apply_plan
from reconciler.live import read_live
from reconciler.model import ApplyReport, ManifestSet, Plan, StoreSpec
from reconciler.planfile import load_plan, save_plan
from reconciler.planner import build_plan
from reconciler.render import (
    format_progress,
    render_github_annotations,
    render_issues_json,
    render_issues_text,
    render_plan_json,
    render_plan_markdown,
    render_plan_text,
    render_report_json,
    render_report_text,
)
from reconciler.savedplan import check_saved_plan, paths_label
from reconciler.session import Session, open_session

if TYPE_CHECKING:
    from reconciler.cli import Console

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
PROGRESS_EVERY = 10.0


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _paths(args: argparse.Namespace) -> list[str]:
    return list(args.paths) or ["."]


def _load(args: argparse.Namespace, console: Console) -> ManifestSet:
    try:
        return manifest_io.load(_paths(args))
    except ManifestError as exc:
        if os.environ.get("GITHUB_ACTIONS") == "true":
            console.print(render_github_annotations(exc.issues))
        raise


# --------------------------------------------------------------------------- validate


def validate(args: argparse.Namespace, console: Console) -> int:
    """Check manifests offline; print every problem."""
    try:
        found = manifest_io.load(_paths(args))
    except ManifestError as exc:
        if args.format == "json":
            console.print(render_issues_json(exc.issues))
        else:
            console.print(render_issues_text(exc.issues))
        if os.environ.get("GITHUB_ACTIONS") == "true":
            console.print(render_github_annotations(exc.issues))
        console.note(f"{len(exc.issues)} problem(s) found.")
        return EXIT_ERROR
    if args.format == "json":
        console.print(render_issues_json([]))
    else:
        counts = [f"{1 if found.store else 0} Store"] + [
            f"{len(found.of(kind.spec_type))} {kind.name}" for kind in kinds.registry()
        ]
        console.print(f"Valid: {', '.join(counts)}.")
    return EXIT_OK


# --------------------------------------------------------------------------- plan


def _check_targets(found: ManifestSet, targets: Sequence[str]) -> None:
    known = {spec.resource for spec in found.specs}
    for target in targets:
        if target.lower() not in known:
            raise UsageError(
                f"--target {target}: no such resource in the manifests "
                "(use kind/name, e.g. company/acme)"
            )


def _make_plan(session: Session, found: ManifestSet, targets: Sequence[str]) -> Plan:
    live = read_live(session.client, found)
    return build_plan(found, live, created_at=_now_iso(), targets=targets)


def _render(plan: Plan, fmt: str, console: Console) -> str:
    if fmt == "json":
        return render_plan_json(plan)
    if fmt == "markdown":
        return render_plan_markdown(plan)
    return render_plan_text(plan, color=console.color)


def _stats(session: Session, console: Console) -> None:
    if console.verbose:
        stats = session.client.stats
        console.note(f"API requests: {stats.requests} ({stats.throttled} throttled, 429)")
        for endpoint, count in sorted(stats.by_endpoint.items()):
            console.note(f"  {count:6d}  {endpoint}")


def plan(args: argparse.Namespace, console: Console) -> int:
    """Read the live store and print the plan; send no write."""
    found = _load(args, console)
    _check_targets(found, args.target)
    with open_session(args, found.store) as session:
        console.secrets.extend(session.secrets)
        the_plan = _make_plan(session, found, args.target)
        _stats(session, console)
    if args.out:
        save_plan(the_plan, args.out)
    console.print(_render(the_plan, args.format, console))
    if args.out:
        console.note(
            f"Saved the plan to {args.out}; apply it with: "
            f"apply {' '.join(_paths(args))} --plan {args.out}"
        )
    if args.detailed_exitcode and not the_plan.empty:
        return EXIT_CHANGES
    return EXIT_OK


def show(args: argparse.Namespace, console: Console) -> int:
    """Render a saved plan."""
    console.print(_render(load_plan(args.file), args.format, console))
    return EXIT_OK


# --------------------------------------------------------------------------- apply


def changed_objects(plan: Plan) -> int:
    """Distinct managed objects the plan changes (a company, a customer's orders, an order)."""
    return len(
        {
            (a.resource, a.customer_id) if a.customer_id is not None else a.resource
            for a in plan.actions
        }
    )


def check_safety(plan: Plan, *, force: bool) -> None:
    """Refuse a plan changing more than maxChangePercent of 10 or more managed objects."""
    managed = plan.managed_objects
    changed = changed_objects(plan)
    limit = plan.store.max_change_percent
    if force or managed < 10 or changed * 100 <= limit * managed:
        return
    raise SafetyError(
        f"the plan changes {changed} of {managed} managed objects "
        f"({changed * 100 // managed}%), more than maxChangePercent {limit}%; nothing was sent. "
        "Review the plan and pass --force to apply it anyway"
    )


def _confirm(args: argparse.Namespace, console: Console) -> bool:
    if args.auto_approve:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            "apply needs a terminal to ask for confirmation; pass --auto-approve to apply "
            "without asking (for CI)"
        )
    console.print("\nDo you want to perform these actions? Only 'yes' will be accepted.")
    sys.stdout.write("  Enter a value: ")
    sys.stdout.flush()
    return sys.stdin.readline().strip() == "yes"


@contextmanager
def _interruptible() -> Iterator[list[bool]]:
    """Turn Ctrl-C into a flag: the request in flight finishes, then apply stops."""
    flag = [False]

    def handler(signum: int, frame: FrameType | None) -> None:
        flag[0] = True

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread (tests)
        yield flag
        return
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


class _Progress:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.tty = console.err.isatty()
        self.last = 0.0

    def __call__(self, done: int, total: int, elapsed: float) -> None:
        line = format_progress(done, total, elapsed)
        if self.tty:
            end = "\n" if done == total else ""
            self.console.err.write(f"\r{line}{end}")
            self.console.err.flush()
        elif elapsed - self.last >= PROGRESS_EVERY or done == total:
            self.last = elapsed
            self.console.note(line)


def _write_report(path: str | None, report: ApplyReport, plan: Plan) -> None:
    if not path:
        return
    try:
        Path(path).write_text(render_report_json(report, plan) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write --report {path}: {exc.strerror}") from None


def _saved_plan_args(args: argparse.Namespace) -> None:
    """``apply --plan`` applies a saved plan whole, checked against the manifests at PATH."""
    if args.target:
        raise UsageError(
            "--target cannot be used with --plan: a saved plan is applied whole, exactly as "
            "saved. Make a targeted plan (plan PATH --target KIND/NAME --out FILE) and apply that"
        )
    if not args.paths:
        raise UsageError(
            "apply --plan needs the manifests the plan was made from: apply PATH... --plan FILE "
            "(the plan is applied only if those manifests produce it)"
        )


def apply(args: argparse.Namespace, console: Console) -> int:
    """Apply a fresh plan (after confirmation) or exactly a saved one."""
    if args.plan:
        _saved_plan_args(args)
        the_plan = load_plan(args.plan)
        found = _load(args, console)
    else:
        found = _load(args, console)
        _check_targets(found, args.target)
    session = open_session(args, found.store)
    with session:
        console.secrets.extend(session.secrets)
        if args.plan:
            if the_plan.store.hash != session.store_hash:
                raise PlanMismatchError(
                    f"plan file '{args.plan}' was made for store {the_plan.store.hash!r}, but "
                    f"this apply is for store {session.store_hash!r}; nothing was sent. Apply "
                    "it to the store it was made for, or make a plan for this store"
                )
            check_saved_plan(the_plan, found, plan_file=args.plan, paths=paths_label(_paths(args)))
        if not args.plan:
            the_plan = _make_plan(session, found, args.target)
            console.print(render_plan_text(the_plan, color=console.color))
            if the_plan.empty:
                return EXIT_OK
            if not _confirm(args, console):
                console.print("Apply cancelled.")
                return EXIT_ERROR
        elif the_plan.empty:
            console.print("No changes in the saved plan.")
            return EXIT_OK
        try:
            check_safety(the_plan, force=args.force)
            with _interruptible() as stop:
                report = apply_plan(
                    session.client,
                    the_plan,
                    progress=_Progress(console),
                    should_stop=lambda: stop[0],
                    plan_file=args.plan or None,
                )
        except ReconcilerError as exc:
            _write_report(args.report, ApplyReport(results=(), refused=str(exc)), the_plan)
            raise
        _write_report(args.report, report, the_plan)
        if report.refused:
            raise ApplyRefusedError(report.refused)
        if args.format == "json":
            console.print(render_report_json(report, the_plan))
        else:
            console.print(render_report_text(report, the_plan, color=console.color))
        _stats(session, console)
    return EXIT_OK if report.ok else EXIT_ERROR


# --------------------------------------------------------------------------- schema, import


def schema(args: argparse.Namespace, console: Console) -> int:
    """Print the JSON Schema of one kind, or of all kinds."""
    if args.from_store:
        from reconciler.importer import store_schemas

        found = manifest_io.load(args.paths) if args.paths else ManifestSet(store=None)
        with open_session(args, found.store) as session:
            console.secrets.extend(session.secrets)
            schemas = store_schemas(session.client)
    else:
        schemas = {kind: manifest_io.schema_for(kind) for kind in manifest_io.kind_names()}
    if args.kind:
        match = {k.lower(): k for k in schemas}.get(args.kind.lower())
        if match is None:
            raise UsageError(
                f"unknown kind {args.kind!r}; expected one of {', '.join(manifest_io.kind_names())}"
            )
        schemas = {match: schemas[match]}
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for kind, body in schemas.items():
            (out / f"{kind.lower()}.json").write_text(json.dumps(body, indent=2) + "\n")
            console.note(f"wrote {out / (kind.lower() + '.json')}")
        return EXIT_OK
    console.print(json.dumps(next(iter(schemas.values())) if args.kind else schemas, indent=2))
    return EXIT_OK


def import_store(args: argparse.Namespace, console: Console) -> int:
    """Write manifests for the live store."""
    from reconciler.importer import import_manifests

    store = StoreSpec(
        name="store",
        companies_behavior=args.behavior,
        multi_storefront=bool(args.multi_storefront),
    )
    with open_session(args, store) as session:
        console.secrets.extend(session.secrets)
        written = import_manifests(
            session.client,
            Path(args.out),
            store_hash=session.store_hash,
            behavior=args.behavior or "dependent",
            multi_storefront=args.multi_storefront,
            groups=args.group,
            with_orders=args.with_orders,
            customers=args.customer,
            force=args.force,
        )
    for path in written:
        console.print(f"wrote {path}")
    console.note(f"Imported {len(written)} file(s). Run plan on {args.out}: it shows no changes.")
    return EXIT_OK


# --------------------------------------------------------------------------- sandbox


def sandbox(args: argparse.Namespace, console: Console) -> int:
    """init, serve or dump a sandbox store."""
    from reconciler.sandbox import SandboxError
    from reconciler.sandbox import commands as sandbox_commands

    try:
        if args.sandbox_command == "init":
            sandbox_commands.init(args.db, args.seed)
            console.note(f"created sandbox {args.db}")
        elif args.sandbox_command == "serve":
            sandbox_commands.serve(
                args.db, args.host, args.port, args.rate_limit, args.faults, quirks=args.quirk
            )
        else:
            console.print(sandbox_commands.dump(args.db))
    except SandboxError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK
