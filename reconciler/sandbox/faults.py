"""Fault rules from a seed's ``faults`` (CONTRACT.md "Sandbox seed and dump").

A rule matches a request by ``method`` (GET|PUT|POST|DELETE|PATCH|ANY), ``path`` (a regex
searched in the full path, ``/api/v3/io/...`` or ``/stores/{hash}/...``) and, optionally,
``query`` (a regex searched in the raw query string, e.g. ``offset=[1-9]`` for any page after the
first). Each rule counts its own matches; it *fires* on a match when every condition it names
holds:

- ``every: N``        the match number is a multiple of N
- ``period``          ``{start, end}`` seconds since the sandbox started (end optional)
- ``probability: p``  a draw from the rule's own RNG (``seed: s``) is below p
- ``times: N``        the rule has fired fewer than N times so far (so alone: the first N matches)

A firing rule contributes its ``delay`` (seconds, slept before anything else) and its action:

- ``fail`` (default when ``status`` is given): answer ``status`` with the default error body
- ``commit-then-fail``: perform the request for real, then answer ``status`` instead
- ``drop``: close the connection without a response (in-process: httpx.RemoteProtocolError)
- ``commit-then-drop``: perform the request for real, then drop the connection
- ``stall``: never answer. Served, the connection stays open, silent, until the client closes it
  or the server stops; in-process the client's read timeout passes (``httpx.ReadTimeout``)
- ``trickle``: perform the request for real and send the answer one byte every ``interval``
  seconds (default 1). Served, the status line and headers trickle too; in-process the body does.
  With ``status``, the trickled answer is that status's default error body instead
- ``endless``: answer ``status`` (default 200) with a JSON body that never ends (served: chunked
  transfer encoding; in-process: an endless stream), as fast as the client reads it
- ``delete-companies``: change the store first, then answer the request normally: delete the
  companies listed in ``companyIds``, or else the ``count`` (default 1) companies with the lowest
  ids, as ``DELETE /companies/{id}`` would (so a paged read sees the store change between two
  pages: ``{method: GET, path: "/companies$", query: "offset=[1-9]", action: delete-companies,
  count: 10, times: 1}``)

With several firing rules, delays add up and the first rule with an action decides.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import SandboxError

ACTIONS = (
    "fail",
    "commit-then-fail",
    "drop",
    "commit-then-drop",
    "stall",
    "trickle",
    "endless",
    "delete-companies",
)
METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "ANY")
KEYS = frozenset(
    {
        "method",
        "path",
        "status",
        "times",
        "every",
        "probability",
        "seed",
        "period",
        "delay",
        "action",
        "interval",
        "query",
        "count",
        "companyIds",
    }
)


@dataclass
class Rule:
    raw: dict[str, Any]
    method: str
    pattern: re.Pattern[str]
    status: int | None
    action: str | None
    delay: float
    times: int | None
    every: int | None
    probability: float | None
    period: tuple[float, float | None] | None
    rng: random.Random
    interval: float = 1.0
    query: re.Pattern[str] | None = None
    count: int = 1
    company_ids: tuple[int, ...] = ()
    matches: int = 0
    fired: int = 0


@dataclass(frozen=True)
class Decision:
    delay: float = 0.0
    action: str | None = None
    status: int | None = None
    rules: tuple[int, ...] = field(default=())
    interval: float = 1.0
    """For ``trickle``: seconds between two bytes of the answer."""
    delete_companies: tuple[int, tuple[int, ...]] | None = None
    """For ``delete-companies``: ``(count, companyIds)``."""


def _number(raw: Mapping[str, Any], key: str, where: str, *, integer: bool = False) -> Any:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SandboxError(f"{where}.{key}: expected a number")
    if integer and not float(value).is_integer():
        raise SandboxError(f"{where}.{key}: expected an integer")
    if value < 0:
        raise SandboxError(f"{where}.{key}: must not be negative")
    return int(value) if integer else float(value)


def compile_rule(raw: object, index: int) -> Rule:
    """Check one rule and compile it; SandboxError names the rule and the key at fault."""
    where = f"faults[{index}]"
    if not isinstance(raw, Mapping):
        raise SandboxError(f"{where}: expected a mapping")
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise SandboxError(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})"
        )
    method = str(raw.get("method", "ANY")).upper()
    if method not in METHODS:
        raise SandboxError(f"{where}.method: must be one of {', '.join(METHODS)}")
    try:
        pattern = re.compile(str(raw.get("path", ".*")))
    except re.error as exc:
        raise SandboxError(f"{where}.path: invalid regular expression: {exc}") from exc
    query = None
    if raw.get("query") is not None:
        try:
            query = re.compile(str(raw["query"]))
        except re.error as exc:
            raise SandboxError(f"{where}.query: invalid regular expression: {exc}") from exc
    count = _number(raw, "count", where, integer=True)
    ids = raw.get("companyIds", [])
    if not isinstance(ids, Sequence) or isinstance(ids, str | bytes):
        raise SandboxError(f"{where}.companyIds: expected a list of company ids")
    if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise SandboxError(f"{where}.companyIds: expected a list of company ids")
    status = _number(raw, "status", where, integer=True)
    if status is not None and not 100 <= status <= 599:
        raise SandboxError(f"{where}.status: must be an HTTP status (100-599)")
    action = raw.get("action")
    if action is not None and action not in ACTIONS:
        raise SandboxError(f"{where}.action: must be one of {', '.join(ACTIONS)}")
    if action is None and status is not None:
        action = "fail"
    if action in ("fail", "commit-then-fail") and status is None:
        status = 500
    if action == "endless" and status is None:
        status = 200
    interval = _number(raw, "interval", where)
    if interval is not None and (interval <= 0 or action != "trickle"):
        raise SandboxError(f"{where}.interval: a positive number of seconds, with action trickle")
    delay = _number(raw, "delay", where) or 0.0
    if action is None and not delay:
        raise SandboxError(f"{where}: give a status, an action or a delay")
    times = _number(raw, "times", where, integer=True)
    every = _number(raw, "every", where, integer=True)
    if every == 0:
        raise SandboxError(f"{where}.every: must be at least 1")
    probability = _number(raw, "probability", where)
    if probability is not None and probability > 1:
        raise SandboxError(f"{where}.probability: must be between 0 and 1")
    seed = raw.get("seed", index)
    if isinstance(seed, bool) or not isinstance(seed, int | str):
        raise SandboxError(f"{where}.seed: expected an integer")
    period = None
    if raw.get("period") is not None:
        spec = raw["period"]
        if not isinstance(spec, Mapping) or set(spec) - {"start", "end"}:
            raise SandboxError(f"{where}.period: expected {{start: seconds, end: seconds}}")
        start = _number(spec, "start", f"{where}.period") or 0.0
        end = _number(spec, "end", f"{where}.period")
        period = (start, end)
    return Rule(
        raw=dict(raw),
        method=method,
        pattern=pattern,
        status=status,
        action=action,
        delay=delay,
        times=times,
        every=every,
        probability=probability,
        period=period,
        rng=random.Random(seed),
        interval=1.0 if interval is None else interval,
        query=query,
        count=1 if count is None else count,
        company_ids=tuple(ids),
    )


def compile_rules(rules: object) -> list[Rule]:
    if rules is None:
        return []
    if not isinstance(rules, Sequence) or isinstance(rules, str | bytes):
        raise SandboxError("faults: expected a list of rules")
    return [compile_rule(raw, i) for i, raw in enumerate(rules)]


class Faults:
    """The active rules and their counters (thread-safe)."""

    def __init__(self, clock: Callable[[], float], started: float) -> None:
        self._clock = clock
        self._started = started
        self._lock = threading.Lock()
        self.rules: list[Rule] = []

    def set(self, rules: object) -> None:
        compiled = compile_rules(rules)
        with self._lock:
            self.rules = compiled

    def raw(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(rule.raw) for rule in self.rules]

    def decide(self, method: str, path: str, query: str = "") -> Decision | None:
        with self._lock:
            if not self.rules:
                return None
            elapsed = self._clock() - self._started
            delay, action, status, fired, interval = 0.0, None, None, [], 1.0
            deletion: tuple[int, tuple[int, ...]] | None = None
            for index, rule in enumerate(self.rules):
                if rule.method != "ANY" and rule.method != method:
                    continue
                if not rule.pattern.search(path):
                    continue
                if rule.query is not None and not rule.query.search(query):
                    continue
                rule.matches += 1
                if rule.every is not None and rule.matches % rule.every:
                    continue
                if rule.period is not None:
                    start, end = rule.period
                    if elapsed < start or (end is not None and elapsed >= end):
                        continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.probability is not None and rule.rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                fired.append(index)
                delay += rule.delay
                if rule.action == "delete-companies":
                    deletion = (rule.count, rule.company_ids)
                elif action is None and rule.action is not None:
                    action, status, interval = rule.action, rule.status, rule.interval
            if not fired:
                return None
            return Decision(
                delay=delay,
                action=action,
                status=status,
                rules=tuple(fired),
                interval=interval,
                delete_companies=deletion,
            )
