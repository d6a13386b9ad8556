"""Fixed-window rate limits: the B2B budget (150 per 60 s, §2) and the core budget."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class WindowState:
    allowed: bool
    count: int
    seconds: float
    used: int
    reset_after: float

    @property
    def remaining(self) -> int:
        return max(0, self.count - self.used)


class FixedWindow:
    """``count`` requests per ``seconds``; the window starts at its first request."""

    def __init__(self, count: int, seconds: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.count = count
        self.seconds = seconds
        self._start: float | None = None
        self._used = 0

    def configure(self, count: int, seconds: float) -> None:
        if count < 1 or not seconds > 0:
            raise ValueError("a rate limit needs a count >= 1 and a window > 0 seconds")
        with self._lock:
            self.count, self.seconds = count, seconds
            self._start, self._used = None, 0

    def _roll(self, now: float) -> None:
        if self._start is None or now >= self._start + self.seconds:
            self._start, self._used = now, 0

    def _state(self, now: float, allowed: bool) -> WindowState:
        start = now if self._start is None else self._start
        reset = max(0.0, start + self.seconds - now)
        return WindowState(allowed, self.count, self.seconds, self._used, reset)

    def hit(self) -> WindowState:
        """Spend one request if the window has room."""
        with self._lock:
            now = self._clock()
            self._roll(now)
            if self._used >= self.count:
                return self._state(now, allowed=False)
            self._used += 1
            return self._state(now, allowed=True)

    def peek(self) -> WindowState:
        with self._lock:
            now = self._clock()
            if self._start is not None and now >= self._start + self.seconds:
                return WindowState(True, self.count, self.seconds, 0, self.seconds)
            return self._state(now, allowed=self._used < self.count)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def b2b_headers(state: WindowState) -> list[tuple[str, str]]:
    """The documented ``X-Request*`` headers: strings with unit suffixes (§2)."""
    return [
        ("X-Requests-Allocated", f"{state.count} times/{_seconds(state.seconds)} s"),
        ("X-Requests-Window-Length", f"{state.used} times"),
        ("X-Requests-Remaining", f"{state.remaining} times"),
        ("X-Request-Window-Resets-After", f"{state.reset_after} s"),
    ]


def core_headers(state: WindowState) -> list[tuple[str, str]]:
    """The core ``X-Rate-Limit-*`` headers (docs:core-ratelimits)."""
    return [
        ("X-Rate-Limit-Requests-Left", str(state.remaining)),
        ("X-Rate-Limit-Requests-Quota", str(state.count)),
        ("X-Rate-Limit-Time-Reset-Ms", str(math.ceil(state.reset_after * 1000))),
        ("X-Rate-Limit-Time-Window-Ms", str(math.ceil(state.seconds * 1000))),
    ]


def retry_after(state: WindowState) -> str:
    return str(max(1, math.ceil(state.reset_after)))


def parse_rate_limit(text: str) -> tuple[int, float]:
    """``"COUNT/SECONDS"`` -> ``(count, seconds)``; ValueError with a clear message."""
    count_text, sep, seconds_text = text.partition("/")
    try:
        count, seconds = int(count_text), float(seconds_text)
    except ValueError:
        count, seconds = 0, 0.0
    if not sep or count < 1 or not seconds > 0 or math.isinf(seconds):
        raise ValueError(f"invalid rate limit {text!r}: expected COUNT/SECONDS, e.g. 150/60")
    return count, seconds
