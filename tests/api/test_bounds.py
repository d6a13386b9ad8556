"""Bounded in time and memory: the real client over a loopback port against hostile servers.

Each call runs in a thread joined with a generous bound, so that a client without the bound
fails the test instead of hanging it (the sandbox's shutdown then ends the stall or trickle and
frees the thread). The bounds asserted are loose multiples of the deadlines under test: they
prove that a bound exists, not how fast the machine is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from reconciler.api import ApiClient, ApiSettings, RetryPolicy, RunControl, Secret
from reconciler.errors import (
    ApiError,
    AuthError,
    RateLimitedError,
    ReconcilerError,
    StoppedError,
    TransportError,
    UncertainWriteError,
)
from reconciler.model import Request
from reconciler.sandbox import Sandbox

pytestmark = pytest.mark.served

Kit = SimpleNamespace
BOUND = 20.0
"""Seconds after which a call counts as hung (the deadlines under test are 1-2 s)."""


@dataclass
class Served:
    sb: Sandbox
    b2b_url: str
    core_url: str


@pytest.fixture
def served(kit: Kit) -> Iterator[Callable[..., Served]]:
    opened: list[Sandbox] = []

    def make(faults: list[dict[str, Any]] | None = None, **kwargs: Any) -> Served:
        sb = Sandbox(db=":memory:", seed=kit.seed(), faults=faults, **kwargs)
        opened.append(sb)
        server = sb.serve()
        return Served(sb, server.b2b_url, server.url)

    yield make
    for sb in opened:
        sb.close()


def client_for(
    kit: Kit,
    where: Served,
    *,
    timeout: float = 30.0,
    max_bytes: int = 16 * 1024 * 1024,
    **kwargs: Any,
) -> ApiClient:
    settings = ApiSettings(
        store_hash=where.sb.store_hash,
        token=Secret(kit.TOKEN),
        b2b_url=where.b2b_url,
        core_url=where.core_url,
        timeout=timeout,
        max_response_bytes=max_bytes,
    )
    return ApiClient.open(settings, **kwargs)


def bounded(call: Callable[[], Any]) -> tuple[BaseException | None, float]:
    """Run ``call`` in a thread; return what it raised (or None) and how long it took."""
    outcome: dict[str, Any] = {"error": None}

    def target() -> None:
        try:
            call()
        except BaseException as exc:  # handed back to the test
            outcome["error"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(BOUND)
    assert not thread.is_alive(), f"the call did not end within {BOUND} s"
    return outcome["error"], time.monotonic() - started


def no_sleep(seconds: float) -> None:
    """Retry backoff without waiting (the bounds under test are the requests' own)."""


# --------------------------------------------------------------------------- time


def test_a_trickling_answer_is_cut_at_the_request_deadline(kit: Kit, served: Any) -> None:
    """One byte every 0.4 s never trips a per-read timeout; the 1.5 s deadline cuts it."""
    rule = {"method": "GET", "path": "/companies$", "action": "trickle", "interval": 0.4}
    where = served([rule])
    with client_for(kit, where, timeout=1.5, sleep=no_sleep) as client:
        error, took = bounded(client.b2b.list_companies)
    assert isinstance(error, TransportError)
    assert "ReadTimeout" in str(error)
    assert took < 10.0  # two attempts of 1.5 s each, nowhere near the trickle's minutes
    assert len(where.sb.request_log) == RetryPolicy().timeout_attempts == 2


def test_a_server_that_never_answers_costs_two_deadlines_not_five(kit: Kit, served: Any) -> None:
    where = served([{"method": "GET", "path": "/companies$", "action": "stall"}])
    with client_for(kit, where, timeout=1.0, sleep=no_sleep) as client:
        error, took = bounded(client.b2b.list_companies)
    assert isinstance(error, TransportError)
    assert "no answer after 2 attempts" in str(error)
    assert [e.status for e in where.sb.request_log] == [0, 0]
    assert took < 10.0


def test_a_write_cut_by_its_deadline_is_uncertain_and_not_resent(kit: Kit, served: Any) -> None:
    rule = {"method": "POST", "path": "/companies$", "action": "trickle", "interval": 0.5}
    where = served([rule])
    with client_for(kit, where, timeout=1.0, sleep=no_sleep) as client:
        post = Request("POST", "/companies", {"companyName": "Slow"})
        error, _ = bounded(lambda: client.b2b.send(post, idempotent=False))
    assert isinstance(error, UncertainWriteError)
    assert len(where.sb.request_log) == 1


def test_the_command_deadline_stops_a_stalled_call_and_everything_after(
    kit: Kit, served: Any
) -> None:
    """--timeout 1.5 with the default 30 s per request: the call ends at the command's deadline."""
    where = served([{"method": "GET", "path": "/companies$", "action": "stall"}])
    control = RunControl(1.5)
    with client_for(kit, where, control=control) as client:
        error, took = bounded(client.b2b.list_companies)
        assert isinstance(error, StoppedError)
        assert "the --timeout of 1.5 s passed" in str(error)
        assert "(GET /companies) was abandoned" in str(error)
        assert took < 10.0
        with pytest.raises(StoppedError):  # nothing new is sent
            client.b2b.get_company(1001)
    assert len(where.sb.request_log) == 1


def test_retries_respect_the_command_deadline(kit: Kit, served: Any) -> None:
    """A 503 whose backoff would outlast the deadline ends the call before waiting."""
    where = served([{"method": "GET", "path": "/companies$", "status": 503}])
    # A deadline a loaded machine cannot overrun before the first answer (0.5 s could: the
    # error then came from the deadline itself), and a backoff of 15-30 s far beyond it.
    control = RunControl(3.0)
    retry = RetryPolicy(base=30.0, cap=60.0)
    with client_for(kit, where, control=control, retry=retry) as client:
        error, took = bounded(client.b2b.list_companies)
    assert isinstance(error, StoppedError)
    assert "less than the" in str(error)
    assert "wait for a retry: GET /companies answered 503" in str(error)
    assert len(where.sb.request_log) == 1
    assert took < 10.0


# --------------------------------------------------------------------------- memory


def test_an_endless_answer_stops_at_the_size_cap(kit: Kit, served: Any) -> None:
    where = served([{"method": "GET", "path": "/companies$", "action": "endless"}])
    with client_for(kit, where, max_bytes=2 * 1024 * 1024) as client:
        error, _ = bounded(client.b2b.list_companies)
    assert isinstance(error, ApiError)
    assert not isinstance(error, UncertainWriteError)
    assert "the API's answer is larger than 2 MiB; stopped reading it" in str(error)
    assert len(where.sb.request_log) == 1  # not retried: the same answer would come again


def test_an_endless_answer_to_a_write_is_uncertain(kit: Kit, served: Any) -> None:
    where = served([{"method": "POST", "path": "/companies$", "action": "endless"}])
    with client_for(kit, where, max_bytes=1024 * 1024) as client:
        post = Request("POST", "/companies", {"companyName": "Endless"})
        error, _ = bounded(lambda: client.b2b.send(post, idempotent=False))
    assert isinstance(error, UncertainWriteError)
    assert "larger than 1 MiB" in str(error)


# --------------------------------------------------------------------------- rate-limit waits


def test_a_day_long_allocation_waits_the_cap_and_says_so(kit: Kit, served: Any) -> None:
    """X-Requests-Allocated: 1 times/86400 s: the pacer waits 60 s at most, announced."""
    where = served(rate_limit=(1, 86400.0))
    sleeps = kit.Sleeps()
    notices: list[str] = []
    with client_for(kit, where, sleep=sleeps, notice=notices.append) as client:
        client.b2b.get_company(1001)
        error, _ = bounded(lambda: client.b2b.get_company(1001))
    assert sleeps.calls, "the second request must wait for the window"
    assert max(sleeps.calls) <= 60.1
    assert any(
        n.startswith("Waiting 60 s for the B2B rate limit (1 requests per 86400 s") for n in notices
    ), notices
    # The store then refuses with a day-long wait: not slept, reported at once.
    assert isinstance(error, RateLimitedError)
    assert "the API asks to wait" in str(error)
    assert "X-Request-Window-Resets-After" in str(error)
    assert "run again later" in str(error)
    assert sum(sleeps.calls) <= 60.1


def test_a_huge_retry_after_is_not_slept(kit: Kit, served: Any) -> None:
    seed = kit.seed()
    seed["store"]["quirks"] = {"retryAfterHeader": True}
    where = served(rate_limit=(1, 86400.0))
    where.sb.load_seed(seed)
    sleeps = kit.Sleeps()
    with client_for(kit, where, sleep=sleeps) as client:
        # Another integration spends the window first: our first request meets the 429.
        with client_for(kit, where, sleep=no_sleep) as other:
            other.b2b.get_company(1001)
        error, _ = bounded(lambda: client.b2b.get_company(1001))
    assert isinstance(error, RateLimitedError)
    assert "Retry-After" in str(error)
    assert sleeps.calls == []


def test_long_waits_are_announced_short_ones_are_not(kit: Kit, served: Any) -> None:
    where = served([{"method": "GET", "path": "/companies/1001$", "status": 503, "times": 1}])
    notices: list[str] = []
    sleeps = kit.Sleeps()
    retry = RetryPolicy(base=0.2)
    with client_for(kit, where, sleep=sleeps, notice=notices.append, retry=retry) as client:
        client.b2b.get_company(1001)
    assert len(sleeps.calls) == 1
    assert notices == []


# --------------------------------------------------------------------------- stop switch


def test_a_stop_lets_the_request_in_flight_finish_within_the_grace(kit: Kit, served: Any) -> None:
    """A stop during a slow but finishing answer: it finishes; the next call is not sent."""
    rule = {"method": "GET", "path": "/companies/1001$", "delay": 0.5, "times": 1}
    where = served([rule])
    control = RunControl()
    with client_for(kit, where, control=control) as client:
        timer = threading.Timer(0.1, control.request_stop, args=("interrupted (SIGTERM)",))
        timer.start()
        company = client.b2b.get_company(1001)
        timer.join()
        assert company.company_id == 1001
        with pytest.raises(StoppedError, match=r"interrupted \(SIGTERM\)"):
            client.b2b.get_company(1002)
    assert len(where.sb.request_log) == 1


def test_a_stop_cuts_a_stalled_request_after_the_grace(kit: Kit, served: Any) -> None:
    where = served([{"method": "GET", "path": "/companies$", "action": "stall"}])
    control = RunControl()
    with client_for(kit, where, control=control) as client:
        timer = threading.Timer(0.2, control.request_stop, args=("interrupted (SIGINT)",))
        timer.start()
        error, took = bounded(client.b2b.list_companies)
        timer.join()
    assert isinstance(error, StoppedError)
    assert "was abandoned" in str(error)
    assert took < 10.0  # the grace is 1.5 s; the request's own deadline is 30 s


# --------------------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    ("status", "message", "fatal"),
    [
        (401, "Invalid token header. No credentials provided.", True),
        (403, "", True),
        (403, "Forbidden", True),
        (403, "You don't have a required scope to access the endpoint", True),
        (403, "Multi storefront is not enabled", False),
    ],
)
def test_which_refusals_are_about_the_credentials(status: int, message: str, fatal: bool) -> None:
    error = AuthError("refused", method="GET", path="/x", status=status, api_message=message)
    assert error.about_credentials is fatal


def test_the_size_cap_error_is_one_clean_error_without_the_token(kit: Kit, served: Any) -> None:
    """The cap surfaces as a ReconcilerError (one line from the CLI) that holds no token."""
    where = served([{"method": "GET", "path": "/companies$", "action": "endless"}])
    with client_for(kit, where, max_bytes=1024 * 1024) as client:
        error, _ = bounded(client.b2b.list_companies)
    assert isinstance(error, ReconcilerError)
    assert kit.TOKEN not in str(error)


def test_a_soft_stop_lets_an_answered_write_finish_its_own_reads() -> None:
    # A convert is followed by a read that confirms the company it made: SIGTERM between the
    # two must not turn an applied write into "may or may not have been applied".
    control = RunControl()
    control.begin_action()
    control.wrote()
    control.request_stop("interrupted (SIGTERM)")
    control.check("GET")  # the action's confirming read goes out
    with pytest.raises(StoppedError):
        control.check("PUT")  # but no new write
    control.end_action()
    with pytest.raises(StoppedError):
        control.check("GET")  # and nothing at all once the action is over


def test_a_hard_stop_or_the_deadline_stops_even_the_finishing_reads() -> None:
    clock = [0.0]
    hard = RunControl(clock=lambda: clock[0])
    hard.begin_action()
    hard.wrote()
    hard.request_stop("the API refused the credentials (401)", at_once=True)
    with pytest.raises(StoppedError):
        hard.check("GET")
    timed = RunControl(5, clock=lambda: clock[0])
    timed.begin_action()
    timed.wrote()
    timed.request_stop("interrupted (SIGINT)")
    clock[0] = 6.0
    with pytest.raises(StoppedError):
        timed.check("GET")
    unwritten = RunControl()
    unwritten.begin_action()
    unwritten.request_stop("interrupted (SIGTERM)")
    with pytest.raises(StoppedError):
        unwritten.check("GET")  # an action that wrote nothing stops before its first read
