"""One function per command: glue between manifests, the live store, the planner and renderers.

Each returns the exit code; output goes through the ``Console`` (redacted, coloured once).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler import kinds, managed, snapshot
from reconciler import manifests as manifest_io
from reconciler.console import Console
from reconciler.errors import (
    ApplyRefusedError,
    IssuesError,
    ManifestError,
    PlanError,
    PlanMismatchError,
    ReconcilerError,
    SafetyError,
    UsageError,
)
from reconciler.model import ApplyReport, Issue, ManifestSet, Plan, StoreSpec
from reconciler.planfile import load_plan, save_plan
from reconciler.planner import build_plan
from reconciler.render import (
    format_progress,
    render_github_annotations,
    render_issues_json,
    render_issues_text,
    render_plan_json_chunks,
    render_plan_markdown,
    render_plan_text,
    render_report_json,
    render_report_text,
    render_unmanaged,
)
from reconciler.savedplan import check_saved_plan, paths_label
from reconciler.session import Session, open_session

if TYPE_CHECKING:
    from reconciler.incremental import Refreshed

# The live reader and the executor (and with them the HTTP stack) are imported by the commands
# that talk to a store: validate, schema and show start without them.

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
PROGRESS_EVERY = 10.0


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _paths(args: argparse.Namespace) -> list[str]:
    return list(args.paths) or ["."]


def _annotate(exc: IssuesError, console: Console) -> None:
    """GitHub annotations at the manifest lines, on stderr (stdout may hold a JSON document)."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        console.note(render_github_annotations(exc.issues))


def _nothing_found(found: ManifestSet) -> bool:
    return found.store is None and not found.specs


def _no_manifests(args: argparse.Namespace) -> ManifestError:
    message = (
        "no manifests found (looked for *.yaml and *.yml files with apiVersion "
        "b2b.reconciler/v1); check the PATH, or run import to write manifests for a store"
    )
    # Located at each PATH, 1:1, so that every issue line keeps the path:line:col shape.
    return ManifestError([Issue(path, 1, 1, "", message) for path in _paths(args)])


def _load(args: argparse.Namespace, console: Console) -> ManifestSet:
    try:
        found = manifest_io.load(_paths(args))
        if _nothing_found(found):
            raise _no_manifests(args)
    except ManifestError as exc:
        _annotate(exc, console)
        raise
    return found


def check_output(path: str | None, flag: str, *, folder: bool = False) -> None:
    """Refuse, before the first request, an output path that cannot be written."""
    if not path:
        return
    target = Path(path)
    if folder:
        probe = target
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        if not probe.is_dir():
            raise UsageError(f"cannot write to {flag} {path}: {probe} is not a folder")
        if not os.access(probe, os.W_OK):
            raise UsageError(f"cannot write to {flag} {path}: {probe} is not writable")
        return
    if target.is_dir():
        raise UsageError(f"cannot write {flag} {path}: it is a folder; name a file")
    parent = target.parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {flag} {path}: folder {parent} does not exist")
    if not os.access(target if target.exists() else parent, os.W_OK):
        raise UsageError(f"cannot write {flag} {path}: permission denied")


# --------------------------------------------------------------------------- validate


def validate(args: argparse.Namespace, console: Console) -> int:
    """Check manifests offline; print every problem."""
    try:
        found = manifest_io.load(_paths(args), skip_other_yaml=args.skip_other_yaml)
        # A commit that changes only other YAML gives the changed-files hook nothing to check.
        if _nothing_found(found) and not found.skipped:
            raise _no_manifests(args)
    except ManifestError as exc:
        if args.format == "json":
            console.print(render_issues_json(exc.issues))
        else:
            console.print(render_issues_text(exc.issues))
        _annotate(exc, console)
        console.note(f"{len(exc.issues)} problem(s) found.")
        return EXIT_ERROR
    for skipped in found.skipped:
        console.note(f"{skipped}: skipped, not a b2b-reconciler manifest")
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


def _make_plan(
    session: Session, found: ManifestSet, args: argparse.Namespace, console: Console
) -> tuple[Plan, managed.Managed]:
    got = _read(session, found, args, console)
    live = got.live  # with the admin e-mails taken (incremental.read)
    try:
        the_plan = build_plan(found, live, created_at=_now_iso(), targets=args.target)
    except PlanError as exc:
        _annotate(exc, console)
        raise
    the_plan = replace(the_plan, refresh=got.refresh)
    # Name what the manifests managed at the last apply and no longer do (see managed.py).
    record = managed.Managed(
        managed.key(session.store_hash, _paths(args)), managed.managed_now(found, live.companies)
    )
    previous = managed.previously_managed(_cache_dir(args), record.key)
    notes = managed.no_longer_managed(previous, record.now, found)
    if notes:
        the_plan = replace(the_plan, warnings=(*the_plan.warnings, *notes))
    return the_plan, record


def _read(
    session: Session, found: ManifestSet, args: argparse.Namespace, console: Console
) -> Refreshed:
    """The live read: from the store's snapshot and what changed since (``--refresh auto``,
    when the snapshot is usable), else in full; then the snapshot of this read is saved."""
    cache = _cache_dir(args)
    mode = getattr(args, "refresh", None) or "auto"
    snap: snapshot.Snapshot | None = None
    reason = "--refresh full"
    if mode == "auto":
        max_age = getattr(args, "snapshot_max_age", None)
        if max_age is None:
            max_age = snapshot.DEFAULT_MAX_AGE
        snap, reason = snapshot.load(
            cache, session.store_hash, now=int(time.time()), max_age=int(max_age)
        )
    from reconciler import incremental

    got = incremental.read(session.client, found, snapshot=snap, reason=reason)
    problem = snapshot.save(cache, got.snapshot)
    if problem:
        console.note(f"note: {problem}")
    return got


def _cache_dir(args: argparse.Namespace) -> str:
    return (
        getattr(args, "cache_dir", None)
        or os.environ.get("B2B_RECONCILE_CACHE_DIR")
        or managed.CACHE_DIR
    )


def _record_managed(
    args: argparse.Namespace,
    session: Session,
    found: ManifestSet,
    record: managed.Managed,
    since: int | None = None,
) -> None:
    """After an apply: remember the companies the manifests manage (new ones included).

    The companies apply converted or created were modified at or after ``since`` (its
    verification's start): a listing of those (a page or two) finds them, where listing every
    company cost total/250 requests. Only when one is still missing is every company listed."""
    now = record.now
    if managed.missing(found, now) and since is not None:
        changed, _ = session.client.b2b.list_companies(min_modified=since)
        now = {**now, **managed.managed_now(found, changed)}
    if managed.missing(found, now):
        companies, _ = session.client.b2b.list_companies()  # pick up companies just created
        now = managed.managed_now(found, companies)
    managed.record(_cache_dir(args), record.key, now)


def _unmanaged_list(
    args: argparse.Namespace, session: Session, found: ManifestSet, console: Console
) -> str:
    """``--show-unmanaged`` / ``-v``: the unmanaged companies by id and name (one more read)."""
    if not (args.show_unmanaged or console.verbose):
        return ""
    companies, _ = session.client.b2b.list_companies()
    groups = {spec.customer_group_id for spec in found.companies}
    return render_unmanaged([c for c in companies if c.customer_group_id not in groups])


def _print_plan(plan: Plan, fmt: str, console: Console, compact: int | None = None) -> None:
    if fmt == "json":  # a chunk at a time: the JSON of a large plan is never held whole
        console.print_chunks(render_plan_json_chunks(plan))
    elif fmt == "markdown":
        console.print(render_plan_markdown(plan, compact=compact))
    else:
        console.print(render_plan_text(plan, color=console.color))


_CONNECTION_FLAGS = (
    ("sandbox", "--sandbox"),
    ("api_url", "--api-url"),
    ("core_api_url", "--core-api-url"),
    ("store_hash", "--store-hash"),
    ("token_file", "--token-file"),
)


def apply_command(args: argparse.Namespace, plan_file: str) -> str:
    """The command line that applies a saved plan, with the connection options this run had."""
    words = ["b2b-reconcile"]
    for attr, flag in _CONNECTION_FLAGS:
        value = getattr(args, attr, None)
        if value:
            words += [flag, str(value)]
    words += ["apply", *_paths(args), "--plan", plan_file]
    return shlex.join(words)


def _stats(session: Session, console: Console) -> None:
    if console.verbose:
        stats = session.client.stats
        console.note(f"API requests: {stats.requests} ({stats.throttled} throttled, 429)")
        for endpoint, count in sorted(stats.by_endpoint.items()):
            console.note(f"  {count:6d}  {endpoint}")


def plan(args: argparse.Namespace, console: Console) -> int:
    """Read the live store and print the plan; send no write."""
    check_output(args.out, "--out")
    found = _load(args, console)
    _check_targets(found, args.target)
    with open_session(args, found.store, control=console.control, notice=console.note) as session:
        console.secrets.extend(session.secrets)
        the_plan, _ = _make_plan(session, found, args, console)
        unmanaged = _unmanaged_list(args, session, found, console)
        _stats(session, console)
    if args.out:
        save_plan(the_plan, args.out)
    _print_plan(the_plan, args.format, console, args.compact)
    if unmanaged:  # stdout holds one JSON document or the Markdown comment: the list goes aside
        (console.print if args.format == "text" else console.note)(unmanaged)
    if args.out:
        console.note(
            f"Saved the plan to {args.out}; apply it with: {apply_command(args, args.out)}"
        )
    if args.detailed_exitcode and not the_plan.empty:
        return EXIT_CHANGES
    return EXIT_OK


def show(args: argparse.Namespace, console: Console) -> int:
    """Render a saved plan."""
    _print_plan(load_plan(args.file), args.format, console, args.compact)
    return EXIT_OK


# --------------------------------------------------------------------------- apply


def check_safety(plan: Plan, *, force: bool) -> None:
    """Refuse a plan changing more than maxChangePercent of 10 or more managed objects."""
    over = plan.change_limit_exceeded()
    if force or not over:
        return
    raise SafetyError(
        f"{over}; nothing was sent. Review the plan and pass --force to apply it anyway"
    )


def _confirm(args: argparse.Namespace, console: Console) -> bool:
    if args.auto_approve:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            "apply needs a terminal to ask for confirmation; pass --auto-approve to apply "
            "without asking (for CI)"
        )
    prompt = (
        "\nDo you want to perform these actions? Only 'yes' will be accepted.\n  Enter a value: "
    )
    if args.format == "json":  # stdout holds only the JSON report
        console.ask(prompt)
    else:
        console.out.write(prompt)
        console.out.flush()
    return sys.stdin.readline().strip() == "yes"


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
    """Write the report file; an apply that started writes one whatever its end."""
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


def _finish_empty(args: argparse.Namespace, console: Console, plan: Plan) -> int:
    """Nothing to apply: still write --report, and the JSON document for --format json."""
    report = ApplyReport(results=())
    _write_report(args.report, report, plan)
    if args.format == "json":
        console.print(render_report_json(report, plan))
    return EXIT_OK


def _refuse_unsafe(args: argparse.Namespace, plan: Plan) -> None:
    try:
        check_safety(plan, force=args.force)
    except SafetyError as exc:
        _write_report(args.report, ApplyReport(results=(), refused=str(exc)), plan)
        raise


def apply(args: argparse.Namespace, console: Console) -> int:
    """Apply a fresh plan (after confirmation) or exactly a saved one."""
    check_output(args.report, "--report")
    # With --format json, stdout holds only the report: the plan and prompt go to stderr.
    show_plan = console.note if args.format == "json" else console.print
    if args.plan:
        _saved_plan_args(args)
        the_plan = load_plan(args.plan)
        found = _load(args, console)
    else:
        found = _load(args, console)
        _check_targets(found, args.target)
    session = open_session(args, found.store, control=console.control, notice=console.note)
    with session:
        console.secrets.extend(session.secrets)
        if args.plan:
            if the_plan.store.hash != session.store_hash:
                raise PlanMismatchError(
                    f"plan file '{args.plan}' was made for store {the_plan.store.hash!r}, but "
                    f"this apply is for store {session.store_hash!r}; nothing was sent. Apply "
                    "it to the store it was made for, or make a plan for this store"
                )
            planned = replace(the_plan, warnings=managed.without_notes(the_plan.warnings))
            check_saved_plan(planned, found, plan_file=args.plan, paths=paths_label(_paths(args)))
            record = managed.Managed(
                managed.key(session.store_hash, _paths(args)),
                managed.managed_now(found, the_plan.live.companies if the_plan.live else ()),
            )
        if not args.plan:
            the_plan, record = _make_plan(session, found, args, console)
            # This process read the live state just now: the staleness check may believe it.
            the_plan = replace(the_plan, own_read=True)
            color = console.err_color if args.format == "json" else console.color
            show_plan(render_plan_text(the_plan, color=color))
            if the_plan.empty:
                _record_managed(args, session, found, record)
                return _finish_empty(args, console, the_plan)
            _refuse_unsafe(args, the_plan)  # before asking: a "yes" must not be wasted
            if not _confirm(args, console):
                show_plan("Apply cancelled.")
                return EXIT_ERROR
        elif the_plan.empty:
            show_plan("No changes in the saved plan.")
            _record_managed(args, session, found, record)
            return _finish_empty(args, console, the_plan)
        from reconciler.executor import apply_plan

        try:
            check_safety(the_plan, force=args.force)
            report = apply_plan(
                session.client,
                the_plan,
                progress=_Progress(console),
                plan_file=args.plan or None,
            )
        except ReconcilerError as exc:
            _write_report(args.report, ApplyReport(results=(), refused=str(exc)), the_plan)
            raise
        _write_report(args.report, report, the_plan)
        if not report.refused and not report.stopped:  # stopped: send nothing more
            _record_managed(args, session, found, record, report.since)
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
    check_output(args.out, "--out", folder=True)
    if args.from_store:
        from reconciler.importer import store_schemas

        found = manifest_io.load(args.paths) if args.paths else ManifestSet(store=None)
        with open_session(
            args, found.store, control=console.control, notice=console.note
        ) as session:
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

    check_output(args.out, "--out", folder=True)
    existing = _existing_repository(args)
    store = (existing.store if existing else None) or StoreSpec(
        name="store",
        companies_behavior=args.behavior,
        multi_storefront=bool(args.multi_storefront),
    )
    with open_session(args, store, control=console.control, notice=console.note) as session:
        console.secrets.extend(session.secrets)
        written = import_manifests(
            session.client,
            Path(args.out),
            store_hash=session.store_hash,
            behavior=args.behavior,
            multi_storefront=args.multi_storefront,
            groups=args.group,
            with_orders=args.with_orders,
            customers=args.customer,
            force=args.force,
            existing=existing,
        )
        _record_import(args, session, Path(args.out))
    for path in written:
        console.print(f"wrote {path}")
    added = " into the existing manifests" if existing else ""
    console.note(
        f"Imported {len(written)} file(s){added}. Run plan on {args.out}: it shows no changes."
    )
    return EXIT_OK


def _record_import(args: argparse.Namespace, session: Session, out: Path) -> None:
    """Imported companies are managed from now on: record them (see managed.py)."""
    try:
        found = manifest_io.load([out])
    except ManifestError:  # --force over other files: the record is only a convenience
        return
    companies, _ = session.client.b2b.list_companies()
    now = managed.managed_now(found, companies)
    managed.record(_cache_dir(args), managed.key(session.store_hash, [str(out)]), now)


def _existing_repository(args: argparse.Namespace) -> ManifestSet | None:
    """With ``--group``, the manifests already under ``--out`` (None when there are none)."""
    if not args.group or not Path(args.out).is_dir():
        return None
    found = manifest_io.load([args.out])
    return None if _nothing_found(found) else found


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
