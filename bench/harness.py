"""What the benchmarks share: a sandbox with its rate limits compressed in time, clients, child
processes, the sandbox log summed up, and tables.

Time compression: the sandbox's windows are divided by ``compress`` (``150/60 s`` becomes
``150/0.6 s`` at 100x), for the B2B budget and the core budget alike. The client is not told: it
learns the window from ``X-Requests-Allocated`` (B2B) and ``X-Rate-Limit-*`` (core), as it would
against a real store. Backoff before retries is compressed by the same factor, so that a run keeps
the proportions of a real one.
"""

from __future__ import annotations

import compileall
import multiprocessing
import resource
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from reconciler.api import ApiClient, ApiSettings, Pacing, RetryPolicy, Secret
from reconciler.sandbox import Sandbox
from reconciler.sandbox.log import LogEntry
from reconciler.sandbox.server import ServedSandbox


def bytecode(package: Path) -> None:
    """Compile ``package``'s modules to bytecode, as ``pip install`` does for the users who
    install a release, before any measured process imports them.

    An editable install (``make``) compiles nothing, and where ``PYTHONDONTWRITEBYTECODE`` is set
    (as on our shared machines) no run writes the ``.pyc`` files either: every measured process
    would compile ``reconciler`` from source again, about 0.25 CPU-s of a ``plan`` that no user
    pays more than once. ``compileall`` writes them whatever that variable says; a module changed
    since is compiled again by the import, as always."""
    if not compileall.compile_dir(str(package), quiet=1):
        raise SystemExit(f"cannot compile {package} to bytecode (see above)")


B2B_ALLOCATION = (150, 60.0)
CORE_ALLOCATION = (450, 30.0)
"""The sandbox's default core budget (a Pro store's 450 per 30 s)."""

T = TypeVar("T")


@dataclass(frozen=True)
class Budget:
    """The sandbox's B2B and core limits after compression, and our share of the B2B one."""

    compress: float
    requests_per_minute: int

    @property
    def b2b(self) -> tuple[int, float]:
        return B2B_ALLOCATION[0], B2B_ALLOCATION[1] / self.compress

    @property
    def core(self) -> tuple[int, float]:
        return CORE_ALLOCATION[0], CORE_ALLOCATION[1] / self.compress

    @property
    def share(self) -> int:
        """Our B2B requests per window, as the client computes it."""
        count = self.b2b[0]
        return max(1, count * self.requests_per_minute // 150)

    @property
    def b2b_rate(self) -> float:
        """Our allowed B2B requests per second."""
        return self.share / self.b2b[1]

    def retry(self) -> RetryPolicy:
        """The client's default backoff, compressed like the windows."""
        base = RetryPolicy()
        return RetryPolicy(
            base=base.base / self.compress,
            cap=base.cap / self.compress,
            max_attempts=base.max_attempts,
            max_throttled=base.max_throttled,
            throttle_cap=base.throttle_cap,
        )


def make_sandbox(seed: Mapping[str, Any], budget: Budget) -> Sandbox:
    """An in-memory sandbox holding ``seed``, with compressed B2B and core windows."""
    return Sandbox(db=":memory:", seed=seed, rate_limit=budget.b2b, core_rate_limit=budget.core)


def serve(sb: Sandbox) -> ServedSandbox:
    """Serve ``sb`` on a loopback port from this process's threads."""
    return sb.serve()


def settings(store_hash: str, token: str, base_url: str, requests_per_minute: int) -> ApiSettings:
    """Client settings for a sandbox at ``base_url`` (served, or any URL for in-process)."""
    return ApiSettings(
        store_hash=store_hash,
        token=Secret(token),
        b2b_url=f"{base_url}/api/v3/io",
        core_url=base_url,
        requests_per_minute=requests_per_minute,
    )


def open_client(
    api_settings: ApiSettings,
    budget: Budget,
    transport: httpx.BaseTransport | None = None,
    pacing: Pacing = "fair",
) -> ApiClient:
    """A client that really sleeps (pacing is what is measured) with compressed backoff."""
    return ApiClient.open(
        api_settings, transport, sleep=time.sleep, retry=budget.retry(), pacing=pacing
    )


class Child:
    """A fresh interpreter (spawned) to run one measured function in, so that its peak RSS and
    CPU time are its own, not the sandbox's.

    Start it early, while this process is still small: Linux carries a process's ``ru_maxrss``
    across ``fork`` and ``exec``, so a child started from a parent that already holds the seeded
    sandbox would report the parent's size as its own peak.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
        self.started_rss_mb = self._pool.submit(peak_rss_mb).result()

    def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in the child."""
        return self._pool.submit(function, *args).result()

    def close(self) -> None:
        self._pool.shutdown()


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (``ru_maxrss`` is KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def high_water_mb() -> float | None:
    """``VmHWM`` from ``/proc/self/status`` (peak RSS of this address space), in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


# ----------------------------------------------------------------------------- the sandbox log


@dataclass(frozen=True)
class LogSummary:
    """Requests the sandbox saw, per API, and the 429s among them."""

    b2b: int
    core: int
    b2b_429: int
    core_429: int
    five_xx: int
    dropped: int
    first_at: float
    last_at: float

    @property
    def total(self) -> int:
        return self.b2b + self.core

    @property
    def throttled(self) -> int:
        return self.b2b_429 + self.core_429

    def to_json(self) -> dict[str, Any]:
        return {
            "b2b": self.b2b,
            "core": self.core,
            "b2b429": self.b2b_429,
            "core429": self.core_429,
            "5xx": self.five_xx,
            "dropped": self.dropped,
        }


def summarize(entries: Iterable[LogEntry]) -> LogSummary:
    """Count the sandbox's own log (every request it saw, faults and 429s included)."""
    b2b = core = b2b_429 = core_429 = five_xx = dropped = 0
    first, last = float("inf"), 0.0
    for entry in entries:
        is_b2b = entry.path.startswith("/api/v3/io")
        if is_b2b:
            b2b += 1
        else:
            core += 1
        if entry.status == 429:
            if is_b2b:
                b2b_429 += 1
            else:
                core_429 += 1
        elif entry.status >= 500:
            five_xx += 1
        elif entry.status == 0:
            dropped += 1
        first, last = min(first, entry.at), max(last, entry.at)
    return LogSummary(b2b, core, b2b_429, core_429, five_xx, dropped, first, last)


# ----------------------------------------------------------------------------- output


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table (pipes aligned for reading in a terminal too)."""
    text_rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text_rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(line(r) for r in text_rows)
    return "\n".join(out)


def count(n: float) -> str:
    """``12345`` -> ``12,345`` (``~12,345`` for an extrapolated float)."""
    if isinstance(n, float) and not n.is_integer():
        return f"~{round(n):,}"
    return f"{int(n):,}"
