"""The command line: the only place that prints and exits.

Every ``ReconcilerError`` becomes one message on stderr and its exit code here; nothing else in the
package prints. All output passes a last redaction pass that removes the access token.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn, TextIO

from reconciler import __version__
from reconciler.errors import IssuesError, ReconcilerError
from reconciler.render import render_issues_text
from reconciler.session import known_secrets

EXIT_ERROR = 1


class _Parser(argparse.ArgumentParser):
    """argparse that exits 1 on usage errors (2 means "changes present" for plan)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Options accepted before and after the command (defaults live on the top parser)."""
    default = argparse.SUPPRESS if suppress else None
    g = parser.add_argument_group("global options")
    g.add_argument("--sandbox", metavar="FILE", default=default, help="embedded sandbox store")
    g.add_argument("--api-url", default=default, help="B2B API base URL")
    g.add_argument("--core-api-url", default=default, help="core API base URL")
    g.add_argument("--store-hash", default=default, help="store hash")
    g.add_argument("--token-file", metavar="FILE", default=default, help="file holding the token")
    g.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS if suppress else 0,
        help="more detail on stderr",
    )
    g.add_argument(
        "--no-color",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="no ANSI colours (also NO_COLOR)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = _Parser(
        prog="b2b-reconcile",
        description="Terraform-style plan/apply for BigCommerce B2B Edition.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _global_options(parser, suppress=False)
    common = _Parser(add_help=False)
    _global_options(common, suppress=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("validate", parents=[common], help="check manifests offline")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = sub.add_parser("plan", parents=[common], help="show the calls that would be made")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--out", metavar="FILE", help="save the plan for apply --plan")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when changes exist")
    p.add_argument("--target", action="append", default=[], metavar="KIND/NAME")

    p = sub.add_parser("apply", parents=[common], help="make the calls")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--plan", metavar="FILE", help="apply exactly this saved plan")
    p.add_argument("--auto-approve", action="store_true", help="do not ask")
    p.add_argument("--force", action="store_true", help="override maxChangePercent")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--report", metavar="FILE", help="write the apply report (JSON) here")
    p.add_argument("--target", action="append", default=[], metavar="KIND/NAME")

    p = sub.add_parser("import", parents=[common], help="write manifests for the live store")
    p.add_argument("--out", metavar="DIR", default=".")
    p.add_argument("--group", action="append", type=int, default=[], metavar="ID")
    p.add_argument("--with-orders", action="store_true", help="also write OrderAssignments")
    p.add_argument("--customer", action="append", type=int, default=[], metavar="ID")
    p.add_argument("--behavior", choices=("dependent", "independent"))
    p.add_argument(
        "--multi-storefront",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="default: read from the API",
    )
    p.add_argument("--force", action="store_true", help="overwrite existing files")

    p = sub.add_parser("show", parents=[common], help="render a saved plan")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    p = sub.add_parser("schema", parents=[common], help="print the JSON Schema of a kind")
    p.add_argument("kind", nargs="?", metavar="KIND")
    p.add_argument("--from-store", action="store_true", help="name the store's extra fields")
    p.add_argument("paths", nargs="*", default=[], metavar="PATH", help=argparse.SUPPRESS)
    p.add_argument("--out", metavar="DIR", help="write one file per kind here")

    p = sub.add_parser("sandbox", parents=[common], help="the local emulator")
    sb = p.add_subparsers(dest="sandbox_command", metavar="SUBCOMMAND", parser_class=_Parser)
    sb.required = True
    q = sb.add_parser("init", parents=[common], help="create a sandbox store")
    q.add_argument("--db", required=True, metavar="FILE")
    q.add_argument("--seed", metavar="FILE")
    q = sb.add_parser("serve", parents=[common], help="serve a sandbox store over HTTP")
    q.add_argument("--db", required=True, metavar="FILE")
    q.add_argument("--host", default="127.0.0.1")
    q.add_argument("--port", type=int, default=8787)
    q.add_argument("--rate-limit", default="150/60", metavar="COUNT/SECONDS")
    q.add_argument("--faults", metavar="FILE")
    q.add_argument(
        "--quirk",
        action="append",
        metavar="NAME=VALUE",
        help="set a sandbox switch (repeatable), e.g. extraFieldsReplace=true",
    )
    q = sb.add_parser("dump", parents=[common], help="print the sandbox state as JSON")
    q.add_argument("--db", required=True, metavar="FILE")
    return parser


class Console:
    """stdout/stderr with colour decided once and the token redacted from everything."""

    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self.verbose: int = args.verbose or 0
        no_color = args.no_color or "NO_COLOR" in os.environ
        self.color = not no_color and out.isatty()
        self.err_color = not no_color and err.isatty()
        self.secrets: list[str] = []

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def print(self, text: str = "") -> None:
        """Write to stdout."""
        self.out.write(self._clean(text) + ("" if text.endswith("\n") else "\n"))
        self.out.flush()

    def note(self, text: str) -> None:
        """Write to stderr."""
        self.err.write(self._clean(text) + "\n")
        self.err.flush()


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    console = Console(args, out or sys.stdout, sys.stderr)
    console.secrets.extend(known_secrets(args))
    try:
        return _dispatch(args, console)
    except IssuesError as exc:
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


def _dispatch(args: argparse.Namespace, console: Console) -> int:
    from reconciler import commands

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


__all__ = ["Console", "build_parser", "main"]
