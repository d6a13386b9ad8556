"""Pacing: this tool's requests stay within its share of each API's rate-limit budget.

B2B. The whole store shares one budget (``X-Requests-Allocated``, documented as ``150 times/60
s``) with every other integration. This tool may use ``requestsPerMinute`` of each 150, so its
share of a window is ``floor(allocated * requestsPerMinute / 150)`` (at least 1), and the window
length is the server's (a sandbox may compress it to a few seconds). Before every B2B request:

1. a sliding window of our own requests never holds more than the share. A request is placed in
   it at the time its answer (or failure) came back, not when it was sent: the server counts it
   somewhere in between, so the next window's requests start a whole window after the server
   counted it, however long the network took (counting from the send would let a late arrival
   and the next window's first requests land in one server window);
2. when the server's ``X-Requests-Remaining`` has fallen to the part of the budget that the other
   integrations may use (``allocated - share``), wait until the server's window resets
   (``X-Request-Window-Resets-After``): we never eat into their part;
3. fair sharing (``pacing="fair"``, the default). Each answer tells how much of the server's
   window is used; what we did not spend, others did. When others are on course to use at least
   one request in the window (their rate: the larger of their average so far in this window,
   counted over at least a quarter of a window, and a moving average over recent windows with a
   time constant of a quarter window), we do not burst at the window's start: we leave them what
   they are on course to use until the reset, plus a margin (3% of the budget), and spread what
   is left of our share evenly over the rest of the window. When that leaves nothing, we wait for
   the reset. We still take at least an equal split (half the budget less the margin, at most
   our share) when the others want more than half. When nobody else is busy, we burst as before,
   so a run alone is as fast as it was. ``pacing="burst"`` keeps the old behaviour (rules 1 and
   2 only), for comparison.

Core. The core API has its own budget: when ``X-Rate-Limit-Requests-Left`` reaches 0, wait
``X-Rate-Limit-Time-Reset-Ms``.

Every wait is capped at ``RATE_WAIT_CAP``, whatever the store says, and goes through the
``sleep`` given (the HTTP seam's, which announces long waits and honours the deadline and Ctrl-C).
"""

from __future__ import annotations

import logging
import math
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger("reconciler.api")

Pacing = Literal["fair", "burst"]
PACINGS: tuple[Pacing, ...] = ("fair", "burst")

RATE_WAIT_CAP = 60.0
"""Longest single wait on the API's word (the documented B2B window is 60 s)."""
EPSILON = 0.01
"""A little extra on every wait, so that we land after a window boundary, not on it."""
MARGIN_FRACTION = 0.03
"""Part of the budget left unplanned when others are busy (their rate is an estimate)."""

# ----------------------------------------------------------------------------- header parsing

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def parse_number(value: str | None) -> float | None:
    """The first number in a header value (``"12 times"`` -> 12.0, ``"0.397 s"`` -> 0.397)."""
    if not value:
        return None
    match = _NUMBER.search(value)
    return float(match.group()) if match else None


def parse_allocation(value: str | None) -> tuple[int, float] | None:
    """``"150 times/60 s"`` -> ``(150, 60.0)``; ``None`` when it does not parse."""
    if not value or "/" not in value:
        return None
    count_text, _, window_text = value.partition("/")
    count, window = parse_number(count_text), parse_number(window_text)
    if count is None or window is None or count < 1 or window <= 0:
        return None
    if re.search(r"\bm(in(ute)?s?)?\b", window_text):
        window *= 60.0
    return int(count), window


# ----------------------------------------------------------------------------- B2B


@dataclass
class ServerWindow:
    """What the answers told about the server's current window (times on our clock)."""

    reset_at: float
    """When it ends: the earliest estimate (each answer's is late by the answer's travel)."""
    remaining: int
    """``X-Requests-Remaining`` of the last answer."""
    ours: int
    """Our requests counted in it."""
    others: int
    """Requests of other integrations counted in it, as of the last answer."""
    seen_at: float
    """When the last answer came."""


class B2BPacer:
    """Keeps our B2B requests within our share of the store's budget (see the module doc)."""

    def __init__(
        self,
        requests_per_minute: int,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        *,
        pacing: Pacing = "fair",
    ) -> None:
        if pacing not in PACINGS:
            raise ValueError(f"pacing must be one of {', '.join(PACINGS)}, got {pacing!r}")
        self.requests_per_minute = requests_per_minute
        self.pacing = pacing
        self.allocated = 150
        self.window = 60.0
        self._clock = clock
        self._sleep = sleep
        self._done: deque[float] = deque()
        """When each of our requests of the last window came back (rule 1)."""
        self._last_send: float | None = None
        self._pending = 0
        """Requests sent whose answer has not been observed (a dropped connection leaves one)."""
        self._unanswered_since: float | None = None
        """When the first of them was sent."""
        self._server: ServerWindow | None = None
        self._others_rate = 0.0
        """Moving average of the others' requests per second (as of ``_rate_at``)."""
        self._rate_at: float | None = None

    # -- the budget

    @property
    def share(self) -> int:
        """Our requests per window: ``floor(allocated * requestsPerMinute / 150)``, at least 1."""
        return max(1, self.allocated * self.requests_per_minute // 150)

    @property
    def reserve(self) -> int:
        """The part of each window the other integrations may always use."""
        return max(0, self.allocated - self.share)

    @property
    def margin(self) -> int:
        """Requests left unplanned while others are busy."""
        return max(1, math.ceil(self.allocated * MARGIN_FRACTION))

    @property
    def floor(self) -> int:
        """What we take per window however busy the others are: an equal split, at most our
        share."""
        return max(1, min(self.share, self.allocated // 2 - self.margin))

    def others_rate(self) -> float:
        """The other integrations' requests per second, as far as the answers tell (0 alone)."""
        server = self._server
        if server is None:
            return self._decayed_rate(self._rate_at)
        started = server.reset_at - self.window
        elapsed = max(server.seen_at - started, self.window / 4)
        return max(server.others / elapsed, self._decayed_rate(server.seen_at))

    def others_busy(self) -> bool:
        """Are others on course to use at least one request per window?"""
        return self.others_rate() * self.window >= 1.0

    def _decayed_rate(self, at: float | None) -> float:
        if self._rate_at is None or at is None:
            return 0.0
        return self._others_rate * math.exp(-max(0.0, at - self._rate_at) / self._tau)

    @property
    def _tau(self) -> float:
        return self.window / 4

    # -- before and after each request

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            log.debug(
                "waiting %.2f s: this tool's share of the B2B rate limit (%d of %d requests per "
                "%g s%s)",
                seconds,
                self.share,
                self.allocated,
                self.window,
                "; other integrations are busy" if self.others_busy() else "",
            )
            self._sleep(seconds)

    def _prune(self, now: float) -> None:
        while self._done and self._done[0] <= now - self.window:
            self._done.popleft()

    def before_send(self) -> None:
        """Sleep as long as the rules require, then note the send."""
        now = self._clock()
        self._prune(now)
        wait = 0.0
        if len(self._done) >= self.share:
            wait = self._done[0] + self.window - now
        server = self._server
        if server is not None and now >= server.reset_at:
            server = self._server = None  # that window is over: the next answer tells the new one
        until_reset = False
        if server is not None and server.remaining <= self.reserve:
            wait = max(wait, min(server.reset_at - now, self.window))
            until_reset = True
        elif server is not None and self.pacing == "fair":
            fair, until_reset = self._fair_wait(server, now)
            wait = max(wait, fair)
        if until_reset:
            # After this wait the window is over (or the wait hit the cap): forget it.
            self._server = None
        if wait > 0:
            # One wait for every rule, never longer than the cap on the store's word.
            self._wait(min(wait, RATE_WAIT_CAP) + EPSILON)
            now = self._clock()
            self._prune(now)
        self._last_send = now
        if self._pending == 0:
            self._unanswered_since = now
        self._pending += 1
        self._done.append(now)  # replaced by the time the answer came (after_send)

    def _fair_wait(self, server: ServerWindow, now: float) -> tuple[float, bool]:
        """Rule 3: (seconds to wait, whether that is a wait for the reset)."""
        rate = self.others_rate()
        if rate * self.window < 1.0:
            return 0.0, False  # nobody else is busy: spend our share at once
        expected = server.others + rate * max(0.0, server.reset_at - server.seen_at)
        allowance = min(self.share, max(self.floor, int(self.allocated - self.margin - expected)))
        left = allowance - server.ours - self._pending
        if left <= 0:
            return server.reset_at - now, True
        start = server.reset_at - self.window
        last = start if self._last_send is None else max(self._last_send, start)
        gap = (server.reset_at - last) / (left + 1)
        return last + gap - now, False

    def after_send(self) -> None:
        """The answer (or a failure) came back: rule 1 counts the request from now."""
        if self._done:
            self._done[-1] = self._clock()

    def observe(self, headers: Mapping[str, str], status: int = 200) -> None:
        """Learn allocation, window, remaining and reset time from an answer to our request."""
        now = self._clock()
        pending, self._pending = self._pending, 0
        since, self._unanswered_since = self._unanswered_since, None
        allocation = parse_allocation(headers.get("X-Requests-Allocated"))
        if allocation is not None:
            self.allocated, self.window = allocation
        remaining_value = parse_number(headers.get("X-Requests-Remaining"))
        if remaining_value is None:
            if self._server is not None:
                self._server.ours += pending  # counted or not, we cannot tell: assume counted
            return
        remaining = int(remaining_value)
        resets = parse_number(headers.get("X-Request-Window-Resets-After"))
        reset_at = now + (resets if resets is not None else self.window)
        counted = 0 if status == 429 else 1  # a refused request is not counted
        server = self._server
        sent = self._last_send if self._last_send is not None else now
        same = (
            server is not None
            and sent < server.reset_at
            and reset_at <= server.reset_at + self.window / 2
        )
        if server is not None and same:
            # Requests that never got an answer (dropped) are taken as counted.
            server.ours += max(0, pending - 1) + counted
            others = max(server.others, self.allocated - remaining - server.ours)
            new_others = others - server.others
            server.others = others
            server.remaining = remaining
            server.reset_at = min(server.reset_at, reset_at)
            server.seen_at = now
        else:
            # A new window (it began after our last answer, or it would end much later). The
            # requests that got no answer count in it when they were sent after the last one.
            ours = counted
            if server is None or (since is not None and since >= server.reset_at):
                ours += max(0, pending - 1)
            others = max(0, self.allocated - remaining - ours)
            new_others = others
            self._server = ServerWindow(reset_at, remaining, ours, others, now)
        self._others_rate = self._decayed_rate(now) + new_others / self._tau
        self._rate_at = now

    def forget_remaining(self) -> None:
        """After waiting out a 429, the old window no longer applies."""
        self._server = None

    def resets_after(self, headers: Mapping[str, str]) -> float | None:
        """``X-Request-Window-Resets-After`` in seconds."""
        return parse_number(headers.get("X-Request-Window-Resets-After"))


# ----------------------------------------------------------------------------- core

CORE_MAX_WAIT = RATE_WAIT_CAP
"""Longest pause for the core budget (its windows are 30 seconds)."""


class CorePacer:
    """The core API's own budget: when none is left, wait for the reset."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._left: int | None = None
        self._reset_at: float | None = None

    def before_send(self) -> None:
        """Wait for the reset when the last response said nothing is left."""
        if self._left is not None and self._left <= 0 and self._reset_at is not None:
            wait = min(self._reset_at - self._clock(), CORE_MAX_WAIT) + EPSILON
            if wait > 0:
                log.debug("waiting %.2f s: the core API rate limit is spent", wait)
                self._sleep(wait)
            self._left = None
            self._reset_at = None

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn requests left and the reset time."""
        left = parse_number(headers.get("X-Rate-Limit-Requests-Left"))
        reset_ms = parse_number(headers.get("X-Rate-Limit-Time-Reset-Ms"))
        if left is not None:
            self._left = int(left)
            self._reset_at = self._clock() + (reset_ms or 0.0) / 1000.0

    def forget(self) -> None:
        """After waiting out a 429, the old ``left`` no longer applies."""
        self._left = None
        self._reset_at = None

    def resets_after(self, headers: Mapping[str, str]) -> float | None:
        """``X-Rate-Limit-Time-Reset-Ms`` in seconds."""
        ms = parse_number(headers.get("X-Rate-Limit-Time-Reset-Ms"))
        return None if ms is None else ms / 1000.0
