"""The benchmarks (run by hand; none is a timed test). Results and how to read them:
``docs/benchmarks.md``.

    python -m bench                 # this list
    python -m bench NAME [ARGS...]  # the same as python -m bench.NAME [ARGS...]
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "plan_bench": "plan on 10,000 companies / 100,000 orders / 2,000 customers: requests vs the "
    "lower bound and a naive reader, 429s, wall time vs budget, CPU and RSS of diff+plan "
    "(~4 min)",
    "apply_bench": "apply 1,000 actions (converts, updates, reassigns): achieved vs allowed "
    "request rate, 429s, convergence under 10% injected 5xx (~30 s)",
    "plan_process": "plan as users run it (the CLI as a process) at 10k and 50k companies: "
    "requests of full and incremental reads against the lower bound, CPU-s and peak RSS of the "
    "plan process; --help and validate wall time against python -c pass (~15 min)",
    "pacing_bench": "another integration spends half the B2B budget: the 429s it gets and our "
    "requests and wall time, old (burst) and new (fair) pacing, shared and alone (~3 min)",
    "sandbox_lists": "sandbox list-page throughput, in-process and over loopback (~15 s)",
    "load_bench": "validate and plan as whole processes on the plan benchmark's manifests written "
    "as YAML (10,000 and 50,000 companies): CPU-s and peak RSS; --help vs python -c pass "
    "(~5 min)",
    "hostile_servers": "the CLI against servers that stall, trickle, never end, allow one "
    "request a day or refuse the token, and under SIGTERM / Ctrl-C: time, exit, RSS (~3 min)",
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "list"):
        print((__doc__ or "").strip())
        print()
        width = max(map(len, BENCHMARKS))
        for name, what in BENCHMARKS.items():
            print(f"  {name:<{width}}  {what}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in BENCHMARKS:
        print(f"unknown benchmark {name!r}; one of: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 1
    module = importlib.import_module(f"bench.{name}")
    sys.argv = [f"python -m bench.{name}", *rest]
    module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
