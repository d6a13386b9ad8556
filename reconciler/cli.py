"""The command line: the only place that prints and exits.

Every ``ReconcilerError`` becomes one message on stderr and its exit code here; nothing else in the
package prints. All output passes a last redaction pass that removes the access token.
"""

from __future__ import annotations

import argparse
import gc
import logging
import math
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn, TextIO

from reconciler.console import Console
from reconciler.errors import IssuesError, ReconcilerError
from reconciler.session import known_secrets

# Only what every command needs is imported here: ``--help``, ``validate``, ``schema`` and
# ``completion`` must start fast, without the HTTP stack or the sandbox (commands import what
# they use).

# httpx imports its own command line client (``httpx._main``: click, rich and pygments, about
# 0.15 CPU-s) whenever those happen to be installed beside it, as in any environment that also
# holds common developer tools. This program never runs httpx's command line: httpx then
# defines the stub it defines when they are missing.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

EXIT_ERROR = 1


class _Version(argparse.Action):
    """``--version``: the installed version, read only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show program's version number and exit",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> NoReturn:
        from reconciler import __version__

        sys.stdout.write(f"{parser.prog} {__version__}\n")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """argparse that exits 1 on usage errors (2 means "changes present" for plan)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


EPILOG = """\
environment:
  BIGCOMMERCE_STORE_HASH    the store hash (else --store-hash or the Store manifest)
  BIGCOMMERCE_ACCESS_TOKEN  the API token (else --token-file); never printed
  B2B_API_URL               B2B API base, default https://api-b2b.bigcommerce.com/api/v3/io
  BIGCOMMERCE_API_URL       core API root (paths /stores/HASH/v2|v3/... go below it),
                            default https://api.bigcommerce.com
  B2B_SANDBOX               embedded sandbox file, as --sandbox
  B2B_RECONCILE_CACHE_DIR   default of --cache-dir (default .b2b-reconcile)
  NO_COLOR                  non-empty: no colours;  FORCE_COLOR non-empty: colours even
                            when not on a terminal (--no-color and NO_COLOR win)

exit codes:
  0  success (plan: no changes, or changes without --detailed-exitcode)
  1  error, invalid manifests, refusal or failed apply (usage errors too)
  2  plan --detailed-exitcode: changes present
"""


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (``--timeout``)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Options accepted before and after the command (defaults live on the top parser)."""
    default = argparse.SUPPRESS if suppress else None
    g = parser.add_argument_group("global options")
    g.add_argument(
        "--sandbox",
        metavar="FILE",
        default=default,
        help="run against the embedded sandbox store in FILE (no network; env B2B_SANDBOX)",
    )
    g.add_argument(
        "--api-url", metavar="URL", default=default, help="B2B API base URL (env B2B_API_URL)"
    )
    g.add_argument(
        "--core-api-url",
        metavar="URL",
        default=default,
        help="core API root, without /stores/HASH (env BIGCOMMERCE_API_URL)",
    )
    g.add_argument(
        "--store-hash",
        metavar="HASH",
        default=default,
        help="store hash (env BIGCOMMERCE_STORE_HASH; else the Store manifest)",
    )
    g.add_argument(
        "--token-file",
        metavar="FILE",
        default=default,
        help="file holding the access token (else env BIGCOMMERCE_ACCESS_TOKEN)",
    )
    g.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        default=default,
        help="deadline for the whole command: then it stops sending, reports and exits 1",
    )
    g.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS if suppress else 0,
        help="-v: each API request on stderr; -vv: also retries and waits, and why",
    )
    g.add_argument(
        "--no-color",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="no ANSI colours (also a non-empty NO_COLOR)",
    )


def _age(text: str) -> int:
    """A duration: seconds, or a number with s, m, h or d (``--snapshot-max-age``)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    raw = text.strip().lower()
    scale = units.get(raw[-1:], 0)
    number = raw[:-1] if scale else raw
    try:
        value = float(number) * (scale or 1)
    except ValueError:
        value = math.nan
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(
            f"expected a duration such as 3600, 90m, 24h or 2d, got {text!r}"
        )
    return int(value)


def _refresh_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--refresh",
        choices=("auto", "full"),
        default="auto",
        help="auto (default): start from the snapshot of the last read kept in --cache-dir and "
        "read only what changed since, where the API can show that; full: read everything "
        "(the snapshot is still written)",
    )
    p.add_argument(
        "--snapshot-max-age",
        type=_age,
        metavar="DURATION",
        help="ignore a snapshot older than this (default 24h; e.g. 3600, 90m, 24h, 2d)",
    )


_FORMAT_HELP = "output format (json: stdout holds exactly one JSON document)"
_COMPACT_HELP = (
    "markdown: a summary table and the first N resources (default 20); the rest are counted "
    "(for pull-request comments)"
)
_CACHE_HELP = (
    "where the snapshot of the last live read (per store) and the record of the companies the "
    "manifests managed at the last apply are kept (default: env B2B_RECONCILE_CACHE_DIR, "
    "else .b2b-reconcile)"
)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = _Parser(
        prog="b2b-reconcile",
        description="Terraform-style plan/apply for BigCommerce B2B Edition.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    _global_options(parser, suppress=False)
    common = _Parser(add_help=False)
    _global_options(common, suppress=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            parents=[common],
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    paths_help = "manifest files or folders, searched recursively (default: .)"
    target_help = "plan only this resource and what it depends on (repeatable)"

    p = command("validate", "check manifests offline")
    p.add_argument("paths", nargs="*", metavar="PATH", help=paths_help)
    p.add_argument("--format", choices=("text", "json"), default="text", help=_FORMAT_HELP)
    p.add_argument(
        "--skip-other-yaml",
        action="store_true",
        help="skip named files that are plainly not manifests (workflows, seeds, other tools' "
        "YAML) instead of reporting them; for pre-commit's changed-files hook",
    )

    p = command("plan", "show the calls that would be made; send no write")
    p.add_argument("paths", nargs="*", metavar="PATH", help=paths_help)
    p.add_argument("--out", metavar="FILE", help="save the plan for apply --plan")
    p.add_argument(
        "--format", choices=("text", "json", "markdown"), default="text", help=_FORMAT_HELP
    )
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when changes exist")
    p.add_argument("--target", action="append", default=[], metavar="KIND/NAME", help=target_help)
    p.add_argument(
        "--show-unmanaged",
        action="store_true",
        help="list the unmanaged companies by id and name (also with -v)",
    )
    p.add_argument("--cache-dir", metavar="DIR", help=_CACHE_HELP)
    _refresh_options(p)
    p.add_argument(
        "--compact",
        type=int,
        nargs="?",
        const=20,
        default=None,
        metavar="N",
        help=_COMPACT_HELP,
    )

    p = command("apply", "make the calls")
    p.add_argument("paths", nargs="*", metavar="PATH", help=paths_help)
    p.add_argument("--plan", metavar="FILE", help="apply exactly this saved plan")
    p.add_argument("--auto-approve", action="store_true", help="do not ask (needed off a terminal)")
    p.add_argument("--force", action="store_true", help="override maxChangePercent")
    p.add_argument("--format", choices=("text", "json"), default="text", help=_FORMAT_HELP)
    p.add_argument("--report", metavar="FILE", help="write the apply report (JSON) here")
    p.add_argument("--target", action="append", default=[], metavar="KIND/NAME", help=target_help)
    p.add_argument("--cache-dir", metavar="DIR", help=_CACHE_HELP)
    _refresh_options(p)

    p = command("import", "write manifests for the live store")
    p.add_argument(
        "--out",
        metavar="DIR",
        default=".",
        help="folder to write into (default: .); with --group, an existing repository to add "
        "the company to",
    )
    p.add_argument(
        "--group",
        action="append",
        type=int,
        default=[],
        metavar="ID",
        help="import only the company of this customer group (repeatable)",
    )
    p.add_argument(
        "--with-orders",
        action="store_true",
        help="also write an OrderAssignment per company for its users whose orders all sit in it",
    )
    p.add_argument(
        "--customer",
        action="append",
        type=int,
        default=[],
        metavar="ID",
        help="write OrderAssignments for these customers only (repeatable; implies --with-orders)",
    )
    p.add_argument(
        "--behavior",
        choices=("dependent", "independent"),
        help="the store's Companies behavior (no API reveals it; default: guessed from the "
        "companies, or refused when they cannot tell)",
    )
    p.add_argument(
        "--multi-storefront",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="default: read from the API",
    )
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument("--cache-dir", metavar="DIR", help=_CACHE_HELP)

    p = command("show", "render a saved plan")
    p.add_argument("file", metavar="FILE", help="a plan saved by plan --out")
    p.add_argument(
        "--format", choices=("text", "json", "markdown"), default="text", help=_FORMAT_HELP
    )
    p.add_argument(
        "--compact", type=int, nargs="?", const=20, default=None, metavar="N", help=_COMPACT_HELP
    )

    p = command("schema", "print the JSON Schema of a kind")
    p.add_argument("kind", nargs="?", metavar="KIND", help="one kind (default: all)")
    p.add_argument("--from-store", action="store_true", help="name the store's extra fields")
    p.add_argument("paths", nargs="*", default=[], metavar="PATH", help=argparse.SUPPRESS)
    p.add_argument("--out", metavar="DIR", help="write one file per kind here")

    p = command("completion", "print a shell completion script")
    p.add_argument(
        "shell",
        choices=("bash", "zsh", "fish"),
        help='e.g. eval "$(b2b-reconcile completion bash)" in ~/.bashrc',
    )

    p = command("sandbox", "the local emulator")
    sb = p.add_subparsers(dest="sandbox_command", metavar="SUBCOMMAND", parser_class=_Parser)
    sb.required = True
    db_help = "the sandbox store (a SQLite file)"
    q = sb.add_parser("init", parents=[common], help="create a sandbox store")
    q.add_argument("--db", required=True, metavar="FILE", help=db_help)
    q.add_argument("--seed", metavar="FILE", help="seed (YAML or JSON) to fill it from")
    q = sb.add_parser(
        "serve",
        parents=[common],
        help="serve a sandbox store over HTTP",
        description="Serve a sandbox store over HTTP and print the export lines that point "
        "b2b-reconcile at it: B2B_API_URL (the B2B base, .../api/v3/io), BIGCOMMERCE_API_URL "
        "(the core root: the client adds /stores/HASH/...), BIGCOMMERCE_STORE_HASH and "
        "BIGCOMMERCE_ACCESS_TOKEN.",
    )
    q.add_argument("--db", required=True, metavar="FILE", help=db_help)
    q.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    q.add_argument("--port", type=int, default=8787, help="port (default: 8787; 0 picks one)")
    q.add_argument(
        "--rate-limit",
        default="150/60",
        metavar="COUNT/SECONDS",
        help="B2B rate limit (default: 150/60)",
    )
    q.add_argument("--faults", metavar="FILE", help="fault rules (the seed's faults shape)")
    q.add_argument(
        "--quirk",
        action="append",
        metavar="NAME=VALUE",
        help="set a sandbox switch (repeatable), e.g. extraFieldsReplace=true",
    )
    q = sb.add_parser("dump", parents=[common], help="print the sandbox state as JSON")
    q.add_argument("--db", required=True, metavar="FILE", help=db_help)
    return parser


class _LogHandler(logging.Handler):
    """Log records as lines on stderr, through the console's redaction."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.console.note(self.format(record))
        except Exception:  # logging must never break a command
            self.handleError(record)


@contextmanager
def _logging(console: Console) -> Iterator[None]:
    """-v: INFO (each request) on stderr; -vv: DEBUG (retries, waits, their reasons)."""
    if not console.verbose:
        yield
        return
    logger = logging.getLogger("reconciler")
    handler = _LogHandler(console)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if console.verbose == 1 else logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    console = Console(args, out or sys.stdout, sys.stderr)
    console.secrets.extend(known_secrets(args))
    try:
        with _logging(console), _sigterm_as_ctrl_c(), _few_collections():
            return _dispatch(args, console)
    except IssuesError as exc:
        from reconciler.render import render_issues_text

        console.note(f"Error: {exc}")
        console.note(render_issues_text(exc.issues))
        return exc.exit_code
    except ReconcilerError as exc:
        console.note(f"Error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        console.note("Interrupted.")
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except Exception as exc:  # a bug of ours: one clean line, the traceback only with -vv
        console.note(f"Internal error: {type(exc).__name__}: {exc}")
        if console.verbose >= 2:
            console.note("".join(traceback.format_exception(exc)))
        else:
            console.note("This is a bug in b2b-reconcile; run with -vv for the traceback.")
        return EXIT_ERROR


COLLECTION_THRESHOLDS = (10_000, 50, 1_000)
"""The cyclic garbage collector's thresholds while a command runs (Python's: 700, 10, 10)."""


@contextmanager
def _few_collections() -> Iterator[None]:
    """Run the cyclic garbage collector seldom while the command runs; the old thresholds after.

    A command builds millions of objects that live until it ends (manifests, the live state,
    the plan), and with Python's thresholds the collector looked at them again and again:
    about 1,100 collections and 0.4 CPU-s of a 4.5-CPU-s plan at 10,000 companies, for some
    60,000 objects of cyclic garbage (per-request HTTP objects). A young collection every
    10,000 new objects still frees that garbage; full collections, which walk everything
    alive, wait for 50,000 times as many. Memory is what refcounting frees.
    """
    previous = gc.get_threshold()
    gc.set_threshold(*COLLECTION_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (what CI sends on cancel) behaves as Ctrl-C, here as everywhere in a command.

    While a command talks to the API its session turns both into a graceful stop (see
    ``Session``); elsewhere both end the command with "Interrupted." and exit 1.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _dispatch(args: argparse.Namespace, console: Console) -> int:
    from reconciler import commands

    if args.command == "completion":
        from reconciler.completion import script

        console.print(script(build_parser(), args.shell))
        return 0
    handler = {
        "validate": commands.validate,
        "plan": commands.plan,
        "apply": commands.apply,
        "import": commands.import_store,
        "show": commands.show,
        "schema": commands.schema,
        "sandbox": commands.sandbox,
    }[args.command]
    return handler(args, console)


__all__ = ["build_parser", "main"]
