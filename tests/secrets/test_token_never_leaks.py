"""The access token appears nowhere: every command, every verbosity, success and every error path.

A distinctive token is given through ``BIGCOMMERCE_ACCESS_TOKEN`` or ``--token-file`` to the real
CLI (``main``), which talks HTTP to a served sandbox on a loopback port. After each run the token
(and its distinctive tail, should anything print it truncated) is searched in stdout, stderr,
the log records of every level, every file the run wrote (plans, reports, imported manifests),
and the ``str``, ``repr`` and traceback of any exception that passed through the command, down
its whole ``__cause__``/``__context__`` chain.

Error paths: connection refused (a sandbox that was shut down), dropped connections, the API's
401 for a wrong token, 5xx after every retry, a stale saved plan, invalid manifests, a
store-hash mismatch, a corrupt plan file, a token pasted into an API URL, and an API that echoes
the token back in its error bodies.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler import cli
from reconciler.api import ApiClient, ApiSettings, Secret
from reconciler.errors import ReconcilerError
from reconciler.model import Request
from reconciler.sandbox import Sandbox
from reconciler.session import Session

pytestmark = pytest.mark.served

TOKEN = "tok-SECRET-8c1f4e2a9b7d3c6f"
TAIL = TOKEN[-12:]
"""Enough of the token to recognise it truncated or partly masked."""
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "store"
STORE_HASH = "demo01"

# --------------------------------------------------------------------------- the store


@dataclass
class Store:
    """A served sandbox seeded with the example store, and a work folder for the CLI."""

    sb: Sandbox
    url: str
    db: Path
    work: Path
    flags: list[str]
    shutdown: Callable[[], None]
    extra_env: dict[str, str] = field(default_factory=dict)

    def client(self) -> ApiClient:
        """A client of our own, to change the store behind the CLI's back."""
        settings = ApiSettings(
            store_hash=STORE_HASH,
            token=Secret(TOKEN),
            b2b_url=f"{self.url}/api/v3/io",
            core_url=self.url,
        )
        return ApiClient.open(settings, sleep=lambda _s: None)


def _seed(token: str) -> dict[str, Any]:
    seed = yaml.safe_load((EXAMPLE / "sandbox-seed.yaml").read_text(encoding="utf-8"))
    seed["store"]["accessToken"] = token
    return dict(seed)


@pytest.fixture(params=["env", "token-file"])
def token_source(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token_source: str) -> Iterator[Store]:
    """A served example store whose token is ``TOKEN``; the CLI gets it from env or a file."""
    for name in (
        "B2B_SANDBOX",
        "BIGCOMMERCE_STORE_HASH",
        "B2B_API_URL",
        "BIGCOMMERCE_API_URL",
        "BIGCOMMERCE_ACCESS_TOKEN",
        "GITHUB_ACTIONS",
    ):
        monkeypatch.delenv(name, raising=False)
    server = tmp_path / "server"
    server.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    sb = Sandbox(db=str(server / "store.db"), seed=_seed(TOKEN), rate_limit=(100_000, 60.0))
    served = sb.serve()
    flags = [
        "--api-url",
        served.b2b_url,
        "--core-api-url",
        served.core_url,
        "--store-hash",
        STORE_HASH,
    ]
    if token_source == "env":
        monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", TOKEN)
    else:
        secret = tmp_path / "secret"
        secret.mkdir()
        (secret / "token").write_text(TOKEN + "\n", encoding="utf-8")
        flags += ["--token-file", str(secret / "token")]
    yield Store(sb, served.url, server / "store.db", work, flags, served.shutdown)
    sb.close()


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries and pacing sleep for no time (the CLI opens its clients with the real sleep)."""
    original = ApiClient.open

    def open_fast(*args: Any, **kwargs: Any) -> ApiClient:
        kwargs["sleep"] = lambda _s: None
        return original(*args, **kwargs)

    monkeypatch.setattr(ApiClient, "open", open_fast)


# --------------------------------------------------------------------------- running the CLI


@dataclass
class Run:
    code: int
    out: str
    err: str
    errors: list[BaseException]


@pytest.fixture
def run(
    store: Store,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Run]:
    """``run(*argv, verbosity=...)``: the CLI with the store's flags; checks for the token."""
    caught: list[BaseException] = []
    dispatch = cli._dispatch

    def recording(*args: Any, **kwargs: Any) -> int:
        try:
            return dispatch(*args, **kwargs)
        except BaseException as exc:
            caught.append(exc)
            raise

    monkeypatch.setattr(cli, "_dispatch", recording)
    caplog.set_level(logging.DEBUG)

    def go(*argv: str, verbosity: str = "", flags: bool = True, expect: int | None = None) -> Run:
        caught.clear()
        caplog.clear()
        capsys.readouterr()
        args = list(argv)
        if flags:
            args += store.flags
        if verbosity == "-v":
            args = ["-v", *args]  # global options before the command ...
        elif verbosity == "-vv":
            args += ["-v", "-v"]  # ... and after it
        try:
            code = cli.main(args)
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        result = Run(code, captured.out, captured.err, list(caught))
        assert_no_token(result, store, caplog)
        unexpected = [e for e in caught if not isinstance(e, ReconcilerError)]
        assert not unexpected, unexpected  # an internal error: a bug, whatever it printed
        if expect is not None:
            assert code == expect, (code, captured.out[-2000:], captured.err[-2000:])
        return result

    return go


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]


def assert_no_token(result: Run, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    places: dict[str, str] = {"stdout": result.out, "stderr": result.err}
    for exc in result.errors:
        for i, link in enumerate(_chain(exc)):
            places[f"exception {i} {type(link).__name__}"] = f"{link!s}\n{link!r}\n" + "".join(
                traceback.format_exception(link)
            )
    for record in caplog.records:
        if not record.name.startswith("reconciler"):
            continue  # httpx logs the URLs it is given; the CLI never turns its logging on
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += "".join(traceback.format_exception(record.exc_info[1]))
        places[f"log {record.name}"] = text
    for path in sorted(store.work.rglob("*")):
        if path.is_file():
            places[f"file {path.relative_to(store.work)}"] = path.read_bytes().decode(
                "utf-8", "replace"
            )
    leaks = sorted(where for where, text in places.items() if TOKEN in text or TAIL in text)
    assert not leaks, f"the token leaked into: {leaks}"


VERBOSITY = pytest.mark.parametrize("verbosity", ["", "-v", "-vv"])


def manifests(store: Store) -> str:
    """A copy of the example manifests in the work folder."""
    target = store.work / "manifests"
    if not target.exists():
        shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("sandbox-seed.yaml", "*.md"))
    return str(target)


# --------------------------------------------------------------------------- success


@VERBOSITY
def test_every_command_succeeds_without_showing_the_token(
    run: Callable[..., Run], store: Store, verbosity: str
) -> None:
    m = manifests(store)
    plan_file = str(store.work / "plan.json")
    report = str(store.work / "report.json")
    run("validate", m, verbosity=verbosity, flags=False, expect=0)
    run("plan", m, verbosity=verbosity, expect=0)
    run("plan", m, "--format", "markdown", "--detailed-exitcode", verbosity=verbosity, expect=2)
    run("plan", m, "--format", "json", "--out", plan_file, verbosity=verbosity, expect=0)
    for fmt in ("text", "json", "markdown"):
        run("show", plan_file, "--format", fmt, verbosity=verbosity, flags=False, expect=0)
    run("schema", verbosity=verbosity, flags=False, expect=0)
    run("schema", "Company", "--from-store", verbosity=verbosity, expect=0)
    run(
        "import",
        "--out",
        str(store.work / "before"),
        "--with-orders",
        verbosity=verbosity,
        expect=0,
    )
    applied = run(
        "apply",
        m,
        "--plan",
        plan_file,
        "--auto-approve",
        "--report",
        report,
        "--format",
        "json",
        verbosity=verbosity,
        expect=0,
    )
    assert json.loads(Path(report).read_text())["ok"] is True, applied.out
    run("apply", m, "--auto-approve", "--report", report, verbosity=verbosity, expect=0)
    run("plan", m, "--detailed-exitcode", verbosity=verbosity, expect=0)
    run(
        "import", "--out", str(store.work / "after"), "--with-orders", verbosity=verbosity, expect=0
    )
    assert (store.work / "after" / "store.yaml").is_file()


@VERBOSITY
def test_a_fresh_apply_with_a_report_does_not_show_the_token(
    run: Callable[..., Run], store: Store, verbosity: str
) -> None:
    m = manifests(store)
    report = store.work / "fresh.json"
    run("apply", m, "--auto-approve", "--report", str(report), verbosity=verbosity, expect=0)
    assert json.loads(report.read_text())["ok"] is True


@VERBOSITY
def test_sandbox_dump_of_another_store_does_not_show_the_token(
    run: Callable[..., Run], store: Store, verbosity: str
) -> None:
    db = store.work / "local.db"
    seed = store.work / "seed.yaml"
    seed.write_text(yaml.safe_dump(_seed("a-local-sandbox-token")), encoding="utf-8")
    run(
        "sandbox",
        "init",
        "--db",
        str(db),
        "--seed",
        str(seed),
        verbosity=verbosity,
        flags=False,
        expect=0,
    )
    dumped = run("sandbox", "dump", "--db", str(db), verbosity=verbosity, flags=False, expect=0)
    assert json.loads(dumped.out)["store"]["hash"] == STORE_HASH


# --------------------------------------------------------------------------- error paths


@VERBOSITY
def test_connection_refused(run: Callable[..., Run], store: Store, verbosity: str) -> None:
    m = manifests(store)
    run("plan", m, "--out", str(store.work / "plan.json"), verbosity=verbosity, expect=0)
    store.shutdown()
    for argv in (
        ("plan", m),
        ("apply", m, "--auto-approve"),
        ("apply", m, "--plan", str(store.work / "plan.json"), "--auto-approve"),
        ("import", "--out", str(store.work / "imported")),
        ("schema", "--from-store"),
    ):
        result = run(*argv, verbosity=verbosity, expect=1)
        assert "Error:" in result.err


@VERBOSITY
def test_dropped_connections(run: Callable[..., Run], store: Store, verbosity: str) -> None:
    m = manifests(store)
    plan_file = str(store.work / "plan.json")
    report = store.work / "report.json"
    run("plan", m, "--out", plan_file, verbosity=verbosity, expect=0)
    store.sb.set_faults([{"method": "ANY", "path": "^/api/v3/io/", "action": "drop"}])
    run("plan", m, verbosity=verbosity, expect=1)
    store.sb.set_faults(
        [
            {"method": "PUT", "path": ".*", "action": "drop"},
            {"method": "POST", "path": ".*", "action": "commit-then-drop"},
        ]
    )
    run(
        "apply",
        m,
        "--plan",
        plan_file,
        "--auto-approve",
        "--report",
        str(report),
        verbosity=verbosity,
        expect=1,
    )
    outcome = json.loads(report.read_text())
    assert outcome["ok"] is False
    assert any(r["outcome"] == "failed" for r in outcome["results"])


@VERBOSITY
def test_wrong_token_is_refused_with_401(
    run: Callable[..., Run], store: Store, verbosity: str
) -> None:
    store.sb.load_seed({"store": {"accessToken": "the-right-token-is-different"}})
    m = manifests(store)
    for argv in (
        ("plan", m),
        ("apply", m, "--auto-approve"),
        ("import", "--out", str(store.work / "i")),
    ):
        result = run(*argv, verbosity=verbosity, expect=1)
        assert "401" in result.err or "credentials" in result.err, result.err
    assert any(e.status == 401 for e in store.sb.request_log)


@VERBOSITY
def test_server_errors_after_every_retry(
    run: Callable[..., Run], store: Store, verbosity: str
) -> None:
    m = manifests(store)
    plan_file = str(store.work / "plan.json")
    report = store.work / "report.json"
    run("plan", m, "--out", plan_file, verbosity=verbosity, expect=0)
    store.sb.set_faults([{"method": "ANY", "path": ".*", "status": 503}])
    run("plan", m, verbosity=verbosity, expect=1)
    run("schema", "--from-store", verbosity=verbosity, expect=1)
    store.sb.set_faults(
        [
            {"method": "PUT", "path": ".*", "status": 500},
            {"method": "POST", "path": ".*", "status": 502},
        ]
    )
    run(
        "apply",
        m,
        "--plan",
        plan_file,
        "--auto-approve",
        "--report",
        str(report),
        "--format",
        "json",
        verbosity=verbosity,
        expect=1,
    )
    assert json.loads(report.read_text())["ok"] is False


@VERBOSITY
def test_stale_plan(run: Callable[..., Run], store: Store, verbosity: str) -> None:
    m = manifests(store)
    plan_file = str(store.work / "plan.json")
    report = store.work / "report.json"
    run("plan", m, "--out", plan_file, verbosity=verbosity, expect=0)
    with store.client() as api:  # someone edits a company the plan touches
        api.b2b.send(Request("PUT", "/companies/1001", {"companyPhone": "0"}), idempotent=True)
    result = run(
        "apply",
        m,
        "--plan",
        plan_file,
        "--auto-approve",
        "--report",
        str(report),
        verbosity=verbosity,
        expect=1,
    )
    assert "stale" in result.err
    assert json.loads(report.read_text())["refused"]


@VERBOSITY
def test_invalid_manifests(run: Callable[..., Run], store: Store, verbosity: str) -> None:
    bad = Path(manifests(store))
    company = bad / "companies" / "northwind-supply.yaml"
    company.write_text(company.read_text() + "  catalgId: 7\n", encoding="utf-8")
    for argv, flags in (
        (("validate", str(bad)), False),
        (("validate", str(bad), "--format", "json"), False),
        (("plan", str(bad)), True),
        (("apply", str(bad), "--auto-approve"), True),
    ):
        result = run(*argv, verbosity=verbosity, flags=flags, expect=1)
        assert "catalgId" in result.out + result.err


@VERBOSITY
def test_store_hash_mismatch(run: Callable[..., Run], store: Store, verbosity: str) -> None:
    m = manifests(store)
    flags = list(store.flags)
    flags[flags.index("--store-hash") + 1] = "otherstore"
    for argv in (("plan", m), ("apply", m, "--auto-approve")):
        result = run(*argv, *flags, verbosity=verbosity, flags=False, expect=1)
        assert "refusing to guess" in result.err


@VERBOSITY
def test_corrupt_and_foreign_plan_files(
    run: Callable[..., Run], store: Store, verbosity: str
) -> None:
    m = manifests(store)
    corrupt = store.work / "corrupt.json"
    corrupt.write_text('{"formatVersion": 1, "actions": [', encoding="utf-8")
    foreign = store.work / "foreign.json"
    foreign.write_text(json.dumps({"formatVersion": 99}), encoding="utf-8")
    for plan_file in (corrupt, foreign):
        run("show", str(plan_file), verbosity=verbosity, flags=False, expect=1)
        run("apply", m, "--plan", str(plan_file), "--auto-approve", verbosity=verbosity, expect=1)


URLS_WITH_THE_TOKEN = {
    "userinfo": ("http://user:{token}@{host}/api/v3/io", "{url}"),
    "user": ("http://{token}@{host}/api/v3/io", "{url}"),
    "query": ("{url}/api/v3/io", "http://{host}/?token={token}"),
    "host": ("{url}/api/v3/io", "http://{token}.example"),
    "path": ("{url}/{token}/api/v3/io", "{url}"),
}


@pytest.mark.parametrize(
    "case",
    sorted(URLS_WITH_THE_TOKEN),
)
def test_a_token_pasted_into_an_api_url(run: Callable[..., Run], store: Store, case: str) -> None:
    m = manifests(store)
    host = store.url.removeprefix("http://")
    b2b, core = (u.format(token=TOKEN, host=host, url=store.url) for u in URLS_WITH_THE_TOKEN[case])
    run("plan", m, *with_urls(store, b2b, core), verbosity="-vv", flags=False, expect=1)


# --------------------------------------------------------------------------- a hostile API


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with the request's own token in the body (status per path)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _answer(self) -> None:
        token = self.headers.get("X-Auth-Token", "")
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        kind = self.server.kind  # type: ignore[attr-defined]
        if kind == "json-400":
            status, ctype = 400, "application/json"
            body = json.dumps(
                {
                    "code": 400,
                    "data": {"errMsg": f"bad token {token}"},
                    "meta": {"message": f"token {token} refused"},
                }
            )
        elif kind == "text-500":
            status, ctype, body = 500, "text/plain", f"upstream said: X-Auth-Token={token}"
        elif kind == "not-json-200":
            status, ctype, body = 200, "text/html", f"<html>hello {token}</html>"
        elif kind == "401":
            status, ctype = 401, "application/json"
            body = json.dumps({"title": f"Invalid token {token}", "status": 401})
        else:  # a redirect to a URL carrying the token
            status, ctype, body = 302, "text/plain", ""
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if kind == "redirect":
            self.send_header("Location", f"http://127.0.0.1:1/steal?token={token}")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _answer


@pytest.fixture(params=["json-400", "text-500", "not-json-200", "401", "redirect"])
def echo_url(request: pytest.FixtureRequest) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.kind = request.param  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def with_urls(store: Store, b2b_url: str, core_url: str) -> list[str]:
    """The store's flags with other API URLs."""
    flags = list(store.flags)
    flags[flags.index("--api-url") + 1] = b2b_url
    flags[flags.index("--core-api-url") + 1] = core_url
    return flags


def test_an_api_echoing_the_token_back(
    run: Callable[..., Run], store: Store, echo_url: str
) -> None:
    m = manifests(store)
    flags = with_urls(store, f"{echo_url}/api/v3/io", echo_url)
    for argv in (
        ("plan", m),
        ("import", "--out", str(store.work / "i")),
        ("schema", "--from-store"),
    ):
        run(*argv, *flags, verbosity="-vv", flags=False, expect=1)


# --------------------------------------------------------------------------- objects


def test_reprs_of_clients_and_settings_hide_the_token(store: Store) -> None:
    settings = ApiSettings(
        store_hash=STORE_HASH,
        token=Secret(TOKEN),
        b2b_url=f"{store.url}/api/v3/io",
        core_url=store.url,
    )
    with ApiClient.open(settings) as api:
        shown = [
            repr(settings),
            str(settings),
            f"{settings}",
            repr(settings.token),
            str(settings.token),
            f"{settings.token:>40}",
            repr(api),
            str(api),
            repr(api.http),
            repr(api.b2b),
            repr(api.core),
            repr(api.stats),
        ]
    for text in shown:
        assert TOKEN not in text, text
        assert TAIL not in text, text


def test_repr_of_a_session_hides_the_token(store: Store) -> None:
    settings = ApiSettings(
        store_hash=STORE_HASH,
        token=Secret(TOKEN),
        b2b_url=f"{store.url}/api/v3/io",
        core_url=store.url,
    )
    with Session(ApiClient.open(settings), STORE_HASH, [TOKEN]) as session:
        shown = repr(session)
    assert TOKEN not in shown, shown


def test_sandbox_dump_of_a_store_holding_the_token(
    run: Callable[..., Run], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", TOKEN)
    run("sandbox", "dump", "--db", str(store.db), flags=False, expect=0)
