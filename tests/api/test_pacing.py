"""Sharing the B2B budget with other integrations (``reconciler/api/pacing.py``).

Our client talks to the sandbox over the in-process transport while another integration spends
the same store's budget: raw requests on a fixed schedule, never paced, that simply count their
429s. Everything runs on one fake clock: time passes only while one of our requests travels
(``LATENCY``) or while our pacer sleeps, and the other integration sends whatever falls due in
the meantime. No assertion depends on real time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from reconciler.api import ApiClient, ApiSettings, Pacing, Secret
from reconciler.sandbox import Sandbox
from reconciler.sandbox.log import LogEntry

NewSandbox = Callable[..., Sandbox]
Kit = Any
B2B_URL = "http://localhost/api/v3/io"
WINDOW = 60.0
LATENCY = (0.025, 0.025)
"""Fake seconds each of our requests takes to reach the server, and its answer to come back."""
OTHER_QUERY = "limit=1&integration=other"


class SimClock:
    """Shared by the sandbox, our client and the other integration."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.start = self.now

    def __call__(self) -> float:
        return self.now

    def advance_to(self, when: float) -> None:
        self.now = max(self.now, when)


class OtherIntegration:
    """Another integration in the same store: ``per_window`` requests per window, evenly, from
    ``start`` until ``stop``; it never waits for the budget and only counts what it gets."""

    def __init__(
        self,
        sb: Sandbox,
        clock: SimClock,
        per_window: int,
        *,
        start: float = 0.3,
        stop: float = float("inf"),
    ) -> None:
        self._client = httpx.Client(transport=sb.transport())
        self._headers = {"X-Auth-Token": sb.access_token or "", "X-Store-Hash": sb.store_hash}
        self._clock = clock
        self._interval = WINDOW / per_window if per_window else float("inf")
        self._next = clock.start + start if per_window else float("inf")
        self._stop = clock.start + stop
        self.statuses: list[int] = []

    def run_until(self, when: float) -> None:
        """Send every request due up to ``when`` (the clock moves to each one's time)."""
        while self._next <= when and self._next < self._stop:
            self._clock.advance_to(self._next)
            response = self._client.get(f"{B2B_URL}/companies?{OTHER_QUERY}", headers=self._headers)
            self.statuses.append(response.status_code)
            self._next += self._interval
        self._clock.advance_to(when)

    @property
    def refused(self) -> int:
        return self.statuses.count(429)

    def close(self) -> None:
        self._client.close()


Latency = Callable[[int], tuple[float, float]]
"""Request number -> (seconds to reach the server, seconds for the answer to come back)."""


class Travel(httpx.BaseTransport):
    """Our requests take fake time on the way (``latency``); the other integration runs
    meanwhile."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        clock: SimClock,
        other: OtherIntegration,
        latency: Latency = lambda _: LATENCY,
    ) -> None:
        self._inner = inner
        self._clock = clock
        self._other = other
        self._latency = latency
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        there, back = self._latency(self.sent)
        self.sent += 1
        self._other.run_until(self._clock() + there)
        response = self._inner.handle_request(request)
        response.read()
        self._other.run_until(self._clock() + back)
        return response


class World:
    """A store (150 per 60 s), another integration, and our client on one fake clock."""

    def __init__(
        self,
        kit: Kit,
        new_sandbox: NewSandbox,
        *,
        pacing: Pacing,
        other_per_window: int,
        rpm: int = 120,
        limit: tuple[int, float] = (150, WINDOW),
        other_stop: float = float("inf"),
        latency: Latency = lambda _: LATENCY,
        faults: list[dict[str, Any]] | None = None,
    ) -> None:
        self.clock = SimClock()
        self.sb = new_sandbox(
            db=":memory:", seed=kit.seed(), rate_limit=limit, clock=self.clock, faults=faults
        )
        self.other = OtherIntegration(self.sb, self.clock, other_per_window, stop=other_stop)
        self.sleeps: list[float] = []
        self.notices: list[str] = []
        settings = ApiSettings(
            store_hash=self.sb.store_hash,
            token=Secret(kit.TOKEN),
            b2b_url=B2B_URL,
            core_url="http://localhost",
            requests_per_minute=rpm,
        )
        transport = Travel(self.sb.transport(), self.clock, self.other, latency)
        self.client = ApiClient.open(
            settings,
            transport,
            sleep=self._sleep,
            clock=self.clock,
            pacing=pacing,
            notice=self.notices.append,
        )

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.other.run_until(self.clock() + seconds)

    def run(self, requests: int) -> float:
        """Send ``requests`` B2B requests; the fake seconds they took."""
        started = self.clock()
        for _ in range(requests):
            self.client.b2b.count_companies()
        return self.clock() - started

    def ours(self) -> list[LogEntry]:
        return [e for e in self.sb.request_log if e.query != OTHER_QUERY]

    def close(self) -> None:
        self.client.close()
        self.other.close()


@pytest.fixture
def world(kit: Kit, new_sandbox: NewSandbox) -> Iterator[Callable[..., World]]:
    made: list[World] = []

    def make(**kwargs: Any) -> World:
        w = World(kit, new_sandbox, **kwargs)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def _max_in_span(times: list[float], span: float) -> int:
    times = sorted(times)
    best, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= span - 1e-9:
            first += 1
        best = max(best, last - first + 1)
    return best


def _per_window(entries: list[LogEntry], start: float, windows: int) -> list[int]:
    """Our requests in each of the first ``windows`` windows of ``WINDOW`` seconds from
    ``start`` (the sandbox's windows begin at the first request, here the other's at 0.3 s)."""
    counts = [0] * windows
    for e in entries:
        index = int((e.at - start) // WINDOW)
        if 0 <= index < windows:
            counts[index] += 1
    return counts


# ----------------------------------------------------------------------------- alone


def test_alone_fair_pacing_is_the_burst_it_replaces(world: Callable[..., World]) -> None:
    """Nobody else is busy: fair pacing sends exactly when the old pacing did (same time)."""
    runs = {}
    for pacing in ("burst", "fair"):
        w = world(pacing=pacing, other_per_window=0)
        took = w.run(300)
        runs[pacing] = (took, w.sleeps, [e.at - w.clock.start for e in w.ours()])
        assert w.client.stats.throttled == 0
        assert not w.client.http.b2b_pacer.others_busy()
    assert runs["fair"] == runs["burst"]
    took, sleeps, times = runs["fair"]
    # The share (120) goes out at once, then the pacer waits for the reset (the old rule).
    assert _max_in_span(times, 10.0) == 120  # 120 requests of 0.05 s
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    "fault",
    [
        {"method": "GET", "path": "/companies$", "action": "drop", "times": 2},
        {"method": "GET", "path": "/companies$", "action": "commit-then-drop", "times": 2},
        {"method": "GET", "path": "/companies$", "status": 503, "times": 2},
    ],
)
def test_failed_requests_are_not_taken_for_another_integration(
    world: Callable[..., World], fault: dict[str, Any]
) -> None:
    """A request that got no answer may or may not have been counted: taken as ours, so a run
    alone keeps bursting."""
    w = world(pacing="fair", other_per_window=0, faults=[fault])
    w.run(100)
    assert not w.client.http.b2b_pacer.others_busy()
    assert w.client.http.b2b_pacer.others_rate() == 0.0
    assert w.client.stats.retries == 2
    assert w.client.stats.paced_seconds == 0.0  # 100 of a share of 120: at once


# ----------------------------------------------------------------------------- shared


@pytest.mark.parametrize("rpm", [120, 150])
def test_another_integration_at_half_the_budget_sees_no_429(
    world: Callable[..., World], rpm: int
) -> None:
    w = world(pacing="fair", other_per_window=75, rpm=rpm)
    w.run(400)
    assert w.other.refused == 0
    assert len(w.other.statuses) >= 5 * 75
    assert w.client.stats.throttled == 0
    assert [e.status for e in w.ours()] == [200] * 400
    pacer = w.client.http.b2b_pacer
    assert pacer.others_busy()
    assert 1.0 <= pacer.others_rate() <= 1.5  # 75 per 60 s


@pytest.mark.parametrize("rpm", [120, 150])
def test_the_burst_pacing_refuses_the_other_integration(
    world: Callable[..., World], rpm: int
) -> None:
    """The same store with the old pacing: the simulation does see a pacer that bursts."""
    w = world(pacing="burst", other_per_window=75, rpm=rpm)
    w.run(400)
    assert w.other.refused > len(w.other.statuses) // 3
    assert w.client.stats.throttled == 0


def test_fair_pacing_spreads_our_share_over_the_window(world: Callable[..., World]) -> None:
    w = world(pacing="fair", other_per_window=75)
    w.run(400)
    ours = [e.at for e in w.ours()]
    later = [t for t in ours if t >= w.clock.start + WINDOW]  # once the others are known
    # Spread: about 60 per window, so about 6 in a tenth of one; a burst would put 60 there.
    assert _max_in_span(later, WINDOW / 10) <= 12
    counts = _per_window(w.ours(), w.clock.start + 0.3, 5)
    assert all(50 <= n <= 150 - 75 for n in counts), counts


def test_busy_others_still_leave_us_a_fair_part(world: Callable[..., World]) -> None:
    """The others want 140 of 150: we still get a part of every window (not starved)."""
    w = world(pacing="fair", other_per_window=140)
    w.run(200)
    assert w.client.stats.throttled == 0
    counts = _per_window(w.ours(), w.clock.start + 0.3, 4)
    assert all(n >= 30 for n in counts), counts


def test_back_to_the_whole_share_when_the_others_stop(world: Callable[..., World]) -> None:
    w = world(pacing="fair", other_per_window=75, other_stop=2 * WINDOW)
    w.run(600)
    assert w.other.refused == 0
    pacer = w.client.http.b2b_pacer
    assert not pacer.others_busy()
    # The others' last request was at 120 s; a window later we use our whole share again
    # (at the pace of the window before: rule 1 is a sliding window).
    late = [e.at for e in w.ours() if e.at >= w.clock.start + 3 * WINDOW]
    assert len(late) > 240
    assert _max_in_span(late, WINDOW) == pacer.share == 120


def test_long_waits_say_the_others_are_busy(world: Callable[..., World]) -> None:
    w = world(pacing="fair", other_per_window=75)
    w.run(200)
    assert any("fewer while other integrations are busy" in n for n in w.notices), w.notices
    assert all(s <= WINDOW + 0.1 for s in w.sleeps)


# ----------------------------------------------------------------------------- rule 1


@pytest.mark.parametrize("pacing", ["burst", "fair"])
def test_a_late_arrival_does_not_squeeze_more_than_the_share_into_a_window(
    world: Callable[..., World], pacing: Pacing
) -> None:
    """The last request of each window of ours reaches the server late: the next window's
    requests are timed from its answer, so no stretch of one window (server time) holds more
    than our share (timing them from the send let 9 of 8 into one; the flaky real-time test)."""
    w = world(
        pacing=pacing,
        other_per_window=0,
        limit=(10, 1.0),
        latency=lambda n: (0.95, 0.001) if n % 16 == 7 else (0.0005, 0.0005),
    )
    w.run(40)
    ours = w.ours()
    assert [e.status for e in ours] == [200] * 40
    assert w.client.stats.throttled == 0
    assert _max_in_span([e.at for e in ours], 1.0) <= 8
