"""The benchmark's store in a process of its own: a sandbox seeded from a ``Scenario``, served
on a loopback port, with its rate limits compressed in time.

Why another process: the plan being measured runs as a child of the benchmark, and Linux hands
a parent's peak RSS to a child at ``exec`` (``ru_maxrss`` carries over), so the benchmark
process must stay small. The seed (about 750 MB at 50,000 companies), the sandbox, the ground
truth for the lower bounds and the manifest files are all built here, in a spawned process;
the benchmark only talks to it over a pipe:

    store = StoreProcess(scenario.params(), compress=100, manifests=folder)
    store.info["url"], store.info["lowerBound"], ...
    store.log()          # the requests the sandbox saw since the last call (then cleared)
    store.call("outside", ...)   # outside changes (``reconciler.sandbox.outside``)
    store.close()
"""

from __future__ import annotations

import contextlib
import multiprocessing
import re
import time
import traceback
from collections import Counter
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.harness import Budget, make_sandbox, summarize
from bench.manifest_files import write_manifests
from bench.scenario import STORE_HASH, TOKEN, Scenario

_ID = re.compile(r"/\d+(?=/|$)")


def endpoint(method: str, path: str) -> str:
    """``GET /api/v3/io/companies/12`` -> ``GET /companies/{id}`` (B2B prefix and store hash
    dropped)."""
    path = path.removeprefix("/api/v3/io")
    path = re.sub(r"^/stores/[^/]+", "", path)
    return f"{method} {_ID.sub('/{id}', path)}"


def _serve(conn: Connection, params: dict[str, Any], compress: float, manifests: str) -> None:
    """The store process: build, seed, serve, then answer commands until ``stop``."""
    from bench.plan_bench import first_pages, true_counts
    from reconciler.live import lower_bound, plan_read_cost, read_needs

    started = time.perf_counter()
    scenario = Scenario(**params)
    documents = write_manifests(scenario, Path(manifests))
    written = time.perf_counter() - started
    seed = scenario.seed()
    manifest_set = scenario.manifests()
    budget = Budget(compress, scenario.requests_per_minute)
    started = time.perf_counter()
    sb = make_sandbox(seed, budget)
    seeded = time.perf_counter() - started
    needs = read_needs(manifest_set)
    live_groups = {c["customerGroupId"] for c in seed["companies"]}
    counts = true_counts(seed, manifest_set, first_pages(sb, STORE_HASH, TOKEN))
    info: dict[str, Any] = {
        "documents": documents,
        "writeSeconds": written,
        "seedSeconds": seeded,
        "companies": len(seed["companies"]),
        "orders": len(seed["orders"]),
        "users": len(seed["users"]),
        "lowerBound": lower_bound(needs, counts),
        # plan also asks GET /users?email= per admin of a company to create (outside the bound)
        "adminChecks": len(
            {
                c.admin.email.lower()
                for c in manifest_set.companies
                if c.admin and c.customer_group_id not in live_groups
            }
        ),
        "lowerBoundParts": vars(plan_read_cost(needs, counts)),
        "expected": scenario.expected_actions(),
    }
    del seed
    sb.clear_log()
    bounds = {"needs": needs, "counts": counts}
    with sb, sb.serve() as served:
        info["url"] = served.url
        conn.send(info)
        while True:
            command, args = conn.recv()
            if command == "stop":
                conn.send(None)
                return
            try:
                conn.send(_command(sb, command, args, bounds))
            except Exception as exc:
                conn.send(RuntimeError(f"{command}: {exc}\n{traceback.format_exc()}"))


def _modified_since(sb: Any, since: int, core_since: int) -> dict[str, int]:
    """How many companies, users and B2B orders the store reports modified at or after
    ``since``, and core orders at or after ``core_since`` (the totals of its own listings,
    asked in-process)."""
    import httpx

    headers = {"X-Auth-Token": TOKEN, "X-Store-Hash": STORE_HASH}
    with httpx.Client(transport=sb.transport(), base_url="http://sandbox.local") as http:

        def total(path: str, **params: Any) -> int:
            body = http.get(f"/api/v3/io{path}", params={**params, "limit": 1}, headers=headers)
            meta = body.json()["meta"]
            return int(meta.get("pagination", meta)["totalCount"])

        when = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(core_since))
        core = http.get(
            f"/stores/{STORE_HASH}/v2/orders/count",
            params={"min_date_modified": when},
            headers={"X-Auth-Token": TOKEN},
        )
        return {
            "companies": total("/companies", minModified=since),
            "users": total("/users", minModified=since),
            "orders": total("/orders", minModified=since, minCreated=1),
            "core_orders": int(core.json()["count"]),
        }


def _command(sb: Any, command: str, args: tuple[Any, ...], bounds: dict[str, Any]) -> Any:
    if command == "log":
        entries = sb.request_log
        sb.clear_log()
        summary = summarize(entries).to_json()
        summary["byEndpoint"] = dict(
            Counter(endpoint(e.method, e.path) for e in entries).most_common()
        )
        return summary
    if command == "outside":
        from reconciler.sandbox import outside

        name, kwargs = args
        return getattr(outside, name)(sb, **kwargs)
    if command == "incremental_bound":
        from reconciler import incremental
        from reconciler.live import ReadCost

        since, parts, *rest = args  # since: {"b2b": ..., "core": ...}, what the read used
        counts = bounds["counts"]
        if rest and rest[0]:  # converged: every managed group has its company now
            counts = replace(counts, missing_groups=0, missing_groups_on_first_page=0)
        changed = _modified_since(sb, int(since["b2b"]), int(since["core"]))
        cost: ReadCost = incremental.incremental_read_cost(
            bounds["needs"], counts, incremental.Changes(**changed), tuple(parts)
        )
        return {"total": sum(vars(cost).values()), "parts": vars(cost), "changed": changed}
    raise ValueError(f"unknown command {command!r}")


class StoreProcess:
    """A spawned process serving the scenario's store (see the module docstring)."""

    def __init__(self, params: dict[str, Any], compress: float, manifests: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, params, compress, str(manifests)), daemon=True
        )
        self._process.start()
        child.close()
        self.info: dict[str, Any] = self._receive()

    def _receive(self) -> Any:
        try:
            answer = self._conn.recv()
        except EOFError:
            raise RuntimeError("the store process died (see its traceback above)") from None
        if isinstance(answer, Exception):
            raise answer
        return answer

    def call(self, command: str, *args: Any) -> Any:
        self._conn.send((command, args))
        return self._receive()

    def log(self) -> dict[str, Any]:
        """The requests the sandbox saw since the last call (B2B, core, 429s, by endpoint)."""
        return dict(self.call("log"))

    def close(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError, EOFError, RuntimeError):
                self.call("stop")
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._conn.close()
