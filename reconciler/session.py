"""Resolve credentials and endpoints, and open the API client (real store or embedded sandbox).

Precedence follows the contract's table: flag, then environment, then the Store manifest. A
Store manifest whose ``storeHash`` differs from the one given by flag or environment is refused
rather than guessed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from reconciler.errors import UsageError
from reconciler.localfile import KIB, LocalFileProblem, read_capped

if TYPE_CHECKING:  # imported where a session is opened: the CLI imports this module for every
    # command, and --help, validate and schema need neither the HTTP stack nor the sandbox
    from reconciler.api import ApiClient
    from reconciler.control import RunControl
    from reconciler.model import StoreSpec
    from reconciler.sandbox import Sandbox

DEFAULT_B2B_URL = "https://api-b2b.bigcommerce.com/api/v3/io"
DEFAULT_CORE_URL = "https://api.bigcommerce.com"
SANDBOX_ROOT = "http://localhost"
MAX_TOKEN_FILE_BYTES = 64 * KIB
"""A token is a few dozen characters; anything near this is not a token file."""


@dataclass
class Session:
    """An open client for one store, and what is needed to close it.

    While the session is entered (``with``), SIGINT and SIGTERM ask the run to stop: the
    request in flight may finish (for ``STOP_GRACE`` seconds at most), nothing new is sent, and
    the command reports what was done; a second signal exits at once (``KeyboardInterrupt``).
    """

    client: ApiClient
    store_hash: str
    secrets: list[str] = field(default_factory=list, repr=False)
    sandbox: Sandbox | None = None
    _previous: dict[int, Any] = field(default_factory=dict, repr=False)

    @property
    def control(self) -> RunControl:
        """The run's deadline and stop switch."""
        return self.client.http.control

    def close(self) -> None:
        """Close the client (and the embedded sandbox)."""
        self.client.close()
        if self.sandbox is not None:
            self.sandbox.close()

    def __enter__(self) -> Session:
        self._catch_signals()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)
            self._previous.clear()
        finally:
            self.close()

    def _catch_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach the main thread only (tests run commands in threads)
        control = self.control
        seen: list[int] = []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            seen.append(signum)
            if len(seen) > 1:
                raise KeyboardInterrupt  # the second signal: exit at once
            name = signal.Signals(signum).name
            control.request_stop(f"interrupted ({name})")
            with contextlib.suppress(OSError):  # os.write: never re-enters a buffered stream
                os.write(
                    2,
                    f"\nStopping ({name}): the request in flight may finish, nothing new is "
                    "sent. Press Ctrl-C again to exit at once.\n".encode(),
                )

        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, on_signal)


def known_secrets(args: argparse.Namespace) -> list[str]:
    """Every token this run may know of, to redact from all output from the first line on."""
    found = [os.environ.get("BIGCOMMERCE_ACCESS_TOKEN", "").strip()]
    token_file = getattr(args, "token_file", None)
    if token_file:
        with contextlib.suppress(OSError, UnicodeDecodeError, LocalFileProblem):
            found.append(read_capped(token_file, MAX_TOKEN_FILE_BYTES).decode("utf-8").strip())
    return [token for token in found if token]


def read_token_file(token_file: str) -> str:
    """The token in ``token_file``: a regular UTF-8 file of at most 64 KiB."""
    where = f"--token-file {token_file}"
    try:
        raw = read_capped(token_file, MAX_TOKEN_FILE_BYTES)
    except FileNotFoundError:
        raise UsageError(f"{where}: no such file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {where}: {exc.strerror or exc}") from None
    except LocalFileProblem as exc:
        raise UsageError(f"{where} {exc}; write the token alone into a small file") from None
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise UsageError(f"{where} is not UTF-8 text; write the token alone into it") from None


def _read_token(args: argparse.Namespace) -> str:
    token_file = getattr(args, "token_file", None)
    if token_file:
        token = read_token_file(token_file)
        if not token:
            raise UsageError(f"--token-file {token_file} is empty")
        return token
    token = os.environ.get("BIGCOMMERCE_ACCESS_TOKEN", "").strip()
    if not token:
        raise UsageError(
            "no access token: set BIGCOMMERCE_ACCESS_TOKEN or pass --token-file FILE "
            "(or use --sandbox FILE to run against a local sandbox)"
        )
    return token


def _pick_hash(given: str | None, store: StoreSpec | None, where: str) -> str:
    manifest_hash = store.store_hash if store else None
    if given and manifest_hash and given != manifest_hash:
        raise UsageError(
            f"the Store manifest says storeHash {manifest_hash!r} but {where} says {given!r}; "
            "refusing to guess which store is meant"
        )
    found = given or manifest_hash
    if not found:
        raise UsageError(
            "no store hash: set BIGCOMMERCE_STORE_HASH, pass --store-hash, or set "
            "spec.storeHash in the Store manifest"
        )
    return found


def open_session(
    args: argparse.Namespace,
    store: StoreSpec | None,
    *,
    control: RunControl | None = None,
    notice: Callable[[str], None] | None = None,
) -> Session:
    """Open a client for the store the arguments, environment and manifests name.

    ``control`` carries the command's deadline (``--timeout``); ``notice`` hears about long
    waits (rate limits).
    """
    from reconciler.api import ApiClient, ApiSettings, Secret

    rpm = store.requests_per_minute if store else 120
    sandbox_file = getattr(args, "sandbox", None) or os.environ.get("B2B_SANDBOX")
    flag_hash = getattr(args, "store_hash", None)
    env_hash = os.environ.get("BIGCOMMERCE_STORE_HASH")
    if sandbox_file:
        if not Path(sandbox_file).is_file():
            raise UsageError(
                f"sandbox {sandbox_file} does not exist; create it with "
                f"'b2b-reconcile sandbox init --db {sandbox_file} --seed SEED'"
            )
        from reconciler.sandbox import Sandbox, SandboxError

        try:
            sandbox = Sandbox(db=sandbox_file)
        except SandboxError as exc:
            raise UsageError(f"sandbox {sandbox_file}: {exc}") from None
        given = flag_hash or env_hash
        if given and given != sandbox.store_hash:
            sandbox.close()
            raise UsageError(
                f"sandbox {sandbox_file} holds store {sandbox.store_hash!r}, not {given!r}"
            )
        store_hash = _pick_hash(sandbox.store_hash, store, f"sandbox {sandbox_file}")
        token = sandbox.access_token or "sandbox"
        settings = ApiSettings(
            store_hash=store_hash,
            token=Secret(token),
            b2b_url=f"{SANDBOX_ROOT}/api/v3/io",
            core_url=SANDBOX_ROOT,
            requests_per_minute=rpm,
        )
        transport = sandbox.transport()
        client = ApiClient.open(
            settings,
            transport=transport,
            core_transport=transport,
            control=control,
            notice=notice,
        )
        # The placeholder "sandbox" is no secret: redacting it would garble every message
        # naming a --sandbox file.
        secrets = [sandbox.access_token] if sandbox.access_token else []
        return Session(client, store_hash, secrets, sandbox)
    store_hash = _pick_hash(
        flag_hash or env_hash, store, "--store-hash" if flag_hash else "BIGCOMMERCE_STORE_HASH"
    )
    token = _read_token(args)
    settings = ApiSettings(
        store_hash=store_hash,
        token=Secret(token),
        b2b_url=getattr(args, "api_url", None) or os.environ.get("B2B_API_URL") or DEFAULT_B2B_URL,
        core_url=getattr(args, "core_api_url", None)
        or os.environ.get("BIGCOMMERCE_API_URL")
        or DEFAULT_CORE_URL,
        requests_per_minute=rpm,
    )
    client = ApiClient.open(settings, control=control, notice=notice)
    return Session(client, store_hash, [token])
