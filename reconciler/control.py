"""When a run must stop sending: the command's deadline (``--timeout``) and a stop asked for.

One ``RunControl`` per command. The HTTP seam asks it before every request, every wait and every
retry (``check``), and bounds the I/O of the request in flight by ``cutoff()``:

- ``--timeout SECONDS``: when the deadline passes, nothing new is sent, and a request still in
  flight is abandoned at the deadline (its outcome is reported as unknown when it was a write).
- a stop asked for (the first Ctrl-C or SIGTERM, or an answer that cannot get better, such as a
  401): nothing new is sent; the request in flight may finish, but is abandoned ``grace``
  seconds after the stop (so Ctrl-C ends a stalled request within 2 s).

Waits (rate-limit pauses, retry backoff) go through ``sleep``, which sleeps in short slices so a
stop is noticed at once, and refuses to start a wait that would outlast the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from reconciler.errors import StoppedError

STOP_GRACE = 1.5
"""Seconds a request in flight may still take after a stop was asked for."""
SLICE = 0.1
"""Longest uninterrupted sleep or socket wait (how soon a stop is noticed)."""


def seconds_text(value: float) -> str:
    """``5.0`` -> ``"5 s"``, ``2.5`` -> ``"2.5 s"``."""
    return f"{value:g} s" if value < 100 else f"{value:.0f} s"


class RunControl:
    """The command's deadline and stop switch (see the module doc)."""

    def __init__(
        self,
        timeout: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        grace: float = STOP_GRACE,
    ) -> None:
        self.timeout = timeout
        self.clock = clock
        self.grace = grace
        self.deadline = None if timeout is None else clock() + timeout
        self._stop_reason: str | None = None
        self._stop_at: float | None = None
        self._hard_stop = False
        self._action_wrote = False

    def __repr__(self) -> str:
        return f"RunControl(timeout={self.timeout!r}, stop={self._stop_reason!r})"

    # -- asking

    def request_stop(self, reason: str, *, at_once: bool = False) -> None:
        """Send nothing new from now on; the first reason given is kept.

        ``at_once``: the request in flight gets no grace (nothing it could bring is wanted).
        """
        if self._stop_reason is None:
            self._stop_reason = reason
            self._stop_at = self.clock() - (self.grace if at_once else 0.0)
            self._hard_stop = at_once

    def begin_action(self) -> None:
        """An apply action starts: a stop asked for before its first write stops it unsent."""
        self._action_wrote = False

    def wrote(self) -> None:
        """A write of the current action was answered: its own follow-up reads may finish it.

        A convert or create is followed by a read that confirms the company it made; a stop
        between the two would leave an applied write reported as "may or may not have been
        applied". Reads change nothing, so a soft stop (Ctrl-C, SIGTERM) lets the action end.
        """
        self._action_wrote = True

    def end_action(self) -> None:
        """The action is over: a stop stops every later request again."""
        self._action_wrote = False

    @property
    def stop_requested(self) -> bool:
        """True once a stop was asked for (the deadline passing is not a request)."""
        return self._stop_reason is not None

    def reason(self) -> str | None:
        """Why the run must not send more, or None while it may."""
        if self._stop_reason is not None:
            return self._stop_reason
        if self.deadline is not None and self.clock() >= self.deadline:
            return self.deadline_text()
        return None

    def deadline_text(self) -> str:
        """``"the --timeout of 5 s passed"``."""
        return f"the --timeout of {seconds_text(self.timeout or 0.0)} passed"

    def check(self, method: str = "GET") -> None:
        """Raise ``StoppedError`` when the run must not send more.

        The one exception: a read (``GET``) that finishes an action whose write was answered,
        after a soft stop and before the deadline (see ``wrote``).
        """
        why = self.reason()
        if why is None:
            return
        finishing = method == "GET" and self._action_wrote and not self._hard_stop
        if finishing and self._stop_reason is not None and not self._deadline_passed():
            return
        raise StoppedError(why)

    def _deadline_passed(self) -> bool:
        return self.deadline is not None and self.clock() >= self.deadline

    # -- bounds

    def cutoff(self) -> float | None:
        """When I/O in flight is abandoned (``clock`` time), or None for no bound."""
        bounds = [b for b in (self.deadline, self._grace_end()) if b is not None]
        return min(bounds) if bounds else None

    def _grace_end(self) -> float | None:
        return None if self._stop_at is None else self._stop_at + self.grace

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline - self.clock()

    def allow_wait(self, seconds: float, what: str) -> None:
        """``StoppedError`` unless the run may wait ``seconds`` (for ``what``) and then send.

        A wait that would outlast the deadline is refused before it starts: waiting and then
        being unable to send helps no one.
        """
        self.check()
        left = self.remaining()
        if left is not None and seconds > left:
            raise StoppedError(
                f"the --timeout of {seconds_text(self.timeout or 0.0)} leaves "
                f"{seconds_text(max(left, 0.0))}, less than the {seconds_text(seconds)} "
                f"wait for {what}"
            )

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` in short slices; ``StoppedError`` if the run must stop meanwhile."""
        end = self.clock() + seconds
        while True:
            now = self.clock()
            if now >= end:
                return
            time.sleep(min(SLICE, end - now))
            self.check()
