"""``b2b-reconcile sandbox init|serve|dump``: the functions the CLI calls.

User errors (missing or malformed files, a db that already holds a store or holds none, a bad
rate-limit string, a port in use) raise ``SandboxError`` with one clear message.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import stat
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

import yaml

from .errors import SandboxError
from .ratelimit import parse_rate_limit
from .sandbox import Sandbox
from .store import db_has_store

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""Largest seed or faults file read (a seed of 100,000 orders is about 25 MiB)."""


def _read_regular_file(path: str, what: str) -> bytes:
    """The bytes of a regular file of at most ``MAX_DOCUMENT_BYTES``; SandboxError otherwise.

    Opened without blocking and checked on the descriptor: a FIFO must not hang the command, a
    device or a huge file must not exhaust memory.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO, device or socket"
            raise SandboxError(f"{what} file {path} is {kind}, not a regular file")
        limit = MAX_DOCUMENT_BYTES
        if info.st_size > limit:
            raise SandboxError(
                f"{what} file {path} is too large ({info.st_size:,} bytes; the limit is 64 MiB)"
            )
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while we read it
            raise SandboxError(f"{what} file {path} is too large (over 64 MiB)")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_document(path: str, what: str) -> Any:
    """A JSON (``.json``) or YAML file's content; SandboxError naming the file otherwise."""
    file = Path(path)
    try:
        text = _read_regular_file(path, what).decode("utf-8")
    except FileNotFoundError:
        raise SandboxError(f"{what} file not found: {path}") from None
    except OSError as exc:
        raise SandboxError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SandboxError(f"{what} file {path} is not UTF-8 text") from None
    if file.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SandboxError(
                f"{path}:{exc.lineno}:{exc.colno}: invalid JSON in {what} file: {exc.msg}"
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else path
        problem = getattr(exc, "problem", None) or str(exc)
        raise SandboxError(f"{where}: invalid YAML in {what} file: {problem}") from None


def _require_store(db: str) -> str:
    if not os.path.exists(db):
        raise SandboxError(f"no sandbox database at {db}; create it with `sandbox init --db {db}`")
    store_hash = db_has_store(db)
    if store_hash is None:
        raise SandboxError(f"{db} holds no sandbox store; create one with `sandbox init --db {db}`")
    return store_hash


def _remove_db(db: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            os.remove(db + suffix)


def init(db: str, seed_path: str | None) -> None:
    """Create a sandbox store in ``db``, optionally from a seed file; never replaces a store."""
    if db != ":memory:" and os.path.exists(db):
        existing = db_has_store(db)
        if existing is not None:
            raise SandboxError(
                f"{db} already holds a sandbox store (hash {existing!r}); remove the file first"
            )
    seed = read_document(seed_path, "seed") if seed_path else None
    if seed is not None and not isinstance(seed, dict):
        raise SandboxError(f"{seed_path}: a seed must be a mapping (store, companies, ...)")
    if db != ":memory:" and not Path(db).resolve().parent.is_dir():
        raise SandboxError(f"cannot create {db}: its folder does not exist")
    created = db != ":memory:" and not os.path.exists(db)
    try:
        sandbox = Sandbox(db=db, seed=seed)
    except SandboxError as exc:
        if created:
            _remove_db(db)
        where = f"{seed_path}: " if seed_path else ""
        raise SandboxError(f"{where}{exc}") from None
    sandbox.close()


def parse_faults(raw: Any, path: str) -> list[Any]:
    if isinstance(raw, dict) and set(raw) == {"faults"}:
        raw = raw["faults"]
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SandboxError(f"{path}: expected a list of fault rules (or a mapping with `faults`)")
    return raw


def parse_quirks(pairs: list[str] | None) -> dict[str, Any]:
    """``NAME=VALUE`` switches (``true``/``false``, a number, or text) as a seed's ``quirks``."""
    out: dict[str, Any] = {}
    for pair in pairs or ():
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise SandboxError(
                f"--quirk {pair!r}: expected NAME=VALUE, e.g. extraFieldsReplace=true"
            )
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        out[name.strip()] = value
    return out


def serve(
    db: str,
    host: str,
    port: int,
    rate_limit: str = "150/60",
    faults_path: str | None = None,
    *,
    quirks: list[str] | None = None,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve the store in ``db`` until Ctrl-C (or ``stop`` is set), printing its URLs.

    ``quirks`` (``NAME=VALUE``) are stored in the store, as a seed's ``quirks`` would be.
    """
    _require_store(db)
    switches = parse_quirks(quirks)
    try:
        count, seconds = parse_rate_limit(rate_limit)
    except ValueError as exc:
        raise SandboxError(str(exc)) from None
    faults = None
    if faults_path:
        faults = parse_faults(read_document(faults_path, "faults"), faults_path)
    try:
        sandbox = Sandbox(db=db, rate_limit=(count, seconds), faults=faults)
    except SandboxError as exc:
        where = f"{faults_path}: " if faults_path else ""
        raise SandboxError(f"{where}{exc}") from None
    if switches:
        try:
            sandbox.load_seed({"quirks": switches})
        except SandboxError as exc:
            sandbox.close()
            raise SandboxError(f"--quirk: {exc}") from None
    try:
        try:
            served = sandbox.serve(host, port)
        except OSError as exc:
            raise SandboxError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        stream = out or sys.stdout
        print(f"Sandbox store {sandbox.store_hash!r} serving at {served.url}", file=stream)
        print(f"  B2B API:  {served.b2b_url}", file=stream)
        print(
            f"  core API: {served.core_url} (root; requests go to "
            f"{served.core_url}/stores/{sandbox.store_hash}/v2|v3/...)",
            file=stream,
        )
        print(f"  rate limit: {count} requests per {seconds:g} s; Ctrl-C stops", file=stream)
        print(export_lines(served.b2b_url, served.core_url, sandbox), file=stream)
        stream.flush()
        waiter = stop or threading.Event()
        try:
            while not waiter.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        sandbox.close()


def export_lines(b2b_url: str, core_url: str, sandbox: Sandbox) -> str:
    """Shell lines that point b2b-reconcile at a served sandbox, ready to paste.

    ``BIGCOMMERCE_API_URL`` is the core API's root: the client appends ``/stores/{hash}/...``
    itself. A seed's ``store.accessToken`` is never printed (it may be a real token).
    """
    lines = [
        "# Point b2b-reconcile at it (paste into another shell):",
        f"export B2B_API_URL={shlex.quote(b2b_url)}",
        f"export BIGCOMMERCE_API_URL={shlex.quote(core_url)}",
        f"export BIGCOMMERCE_STORE_HASH={shlex.quote(sandbox.store_hash)}",
    ]
    if sandbox.access_token:
        lines.append(
            "# and BIGCOMMERCE_ACCESS_TOKEN: the seed's store.accessToken (not printed here)"
        )
    else:
        lines.append("export BIGCOMMERCE_ACCESS_TOKEN=sandbox  # any non-empty token is accepted")
    return "\n".join(lines)


def dump(db: str) -> str:
    """The whole sandbox state in ``db`` as JSON text in the seed's shape."""
    _require_store(db)
    sandbox = Sandbox(db=db)
    try:
        return json.dumps(sandbox.dump(), indent=2, ensure_ascii=False)
    finally:
        sandbox.close()
