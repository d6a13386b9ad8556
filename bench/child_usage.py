"""Run commands and report each one's own CPU time and peak RSS (a launcher for the benchmarks).

    python -m bench.child_usage    # reads one JSON request a line, writes one JSON result a line

A request is ``{"argv": [...], "env": {...}, "cwd": "..."}``; the result holds ``cpu`` (user +
system seconds), ``rssMB`` (peak RSS), ``wall``, ``exit``, ``stdout`` and the end of ``stderr``,
from ``os.wait4`` of that command alone.

Why a process of its own, importing nothing but the standard library: Linux carries the peak RSS
of the process that forks a command into the command's own ``ru_maxrss``. Started from a
benchmark that holds a seeded sandbox, every command would report the sandbox's size as its own;
started from this small launcher (itself started before the benchmark grows), it reports its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any


def run_measured(argv: list[str], env: dict[str, str], cwd: str) -> dict[str, Any]:
    """Run one command to its end: its CPU seconds, peak RSS (MB), wall time, exit and output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "cpu": usage.ru_utime + usage.ru_stime,
            "rssMB": usage.ru_maxrss / 1024.0,
            "wall": wall,
            "exit": process.returncode,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace")[-2000:],
        }


class Launcher:
    """The launcher process, seen from the benchmark (start it before the benchmark grows)."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.child_usage"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, argv: list[str], env: dict[str, str], cwd: str) -> dict[str, Any]:
        """Run one command in the launcher; its figures."""
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        request = {"argv": argv, "env": env, "cwd": cwd}
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the launcher stopped")
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        """End the launcher (it ends when its input does)."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        result = run_measured(request["argv"], request["env"], request["cwd"])
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
