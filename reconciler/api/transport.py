"""The one seam that touches the network: auth headers, pacing, retries, error mapping.

Pacing (``pacing.py``). Before every request the pacer of its API may wait: the B2B one keeps us
within our share of the store's budget and, when other integrations are busy, spreads our share
over the window and leaves them what they are on course to use; the core one waits when
``X-Rate-Limit-Requests-Left`` reaches 0. On a 429 (not processed, so any method may be resent)
wait ``Retry-After`` when present, else ``X-Request-Window-Resets-After`` (core:
``X-Rate-Limit-Time-Reset-Ms``), else 1, 2, 4 ... seconds.

Retries. GET and PUT (idempotent) are resent on 429, 5xx and on connection failures with bounded
exponential backoff and jitter. A POST is resent only on 429 and on a failure to connect (the
request provably never left); a 5xx, a dropped connection or a read timeout after a POST leaves
its outcome unknown: ``UncertainWriteError``, and the caller re-reads to decide.

Bounds. Each request has a deadline for all of it (connect, headers and the whole body:
``ApiSettings.timeout``), the command may have one for everything (``RunControl``, from
``--timeout``), and no answer is read past ``ApiSettings.max_response_bytes``. A request that
times out is sent at most ``RetryPolicy.timeout_attempts`` times in all (a server that does not
answer in 30 s rarely does the next time). Waits asked by rate-limit headers are capped at
``RATE_WAIT_CAP``: a 429 asking for longer fails at once (``RateLimitedError``), and the pacer
never waits longer than the cap on the store's word. A wait of ``NOTICE_SECONDS`` or more is
announced through ``notice`` (the CLI prints it on stderr). Before every request, wait and retry
the ``RunControl`` is asked: when the run must stop, nothing new is sent (``StoppedError``).

Errors carry method, the path relative to the API base (no host, no query, no token), the status
and the API's own message, decoded from whichever documented error shape came back.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from reconciler.api import jsonbody
from reconciler.api.network import BoundedTransport
from reconciler.api.pacing import (
    EPSILON,
    RATE_WAIT_CAP,
    B2BPacer,
    CorePacer,
    Pacing,
    parse_number,
)
from reconciler.api.settings import ApiSettings
from reconciler.control import RunControl, seconds_text
from reconciler.errors import (
    ApiError,
    AuthError,
    NotFoundError,
    RateLimitedError,
    StoppedError,
    TransportError,
    UncertainWriteError,
)
from reconciler.localfile import size_text

log = logging.getLogger("reconciler.api")

Api = Literal["b2b", "core"]
Method = Literal["GET", "POST", "PUT", "DELETE"]

USER_AGENT = "b2b-reconciler/0.1"
MESSAGE_LIMIT = 300
"""Longest API message (or non-JSON error body) kept in an error."""
NOTICE_SECONDS = 5.0
"""Waits this long or longer are announced (``notice``)."""

# ----------------------------------------------------------------------------- header parsing


def store_date(value: str | None) -> int | None:
    """Unix seconds of an HTTP ``Date`` header; None when absent or unreadable (two headers
    joined by a comma are unreadable)."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return int(when.timestamp())
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None


def parse_retry_after(value: str | None, now_wall: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    number = parse_number(value)
    if number is not None and value.strip()[0].isdigit():
        return max(0.0, number)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now_wall)


# ----------------------------------------------------------------------------- error messages


def _flatten(value: Any, prefix: str = "") -> list[str]:
    """Flatten ``{field: [messages]}`` (possibly nested) into ``field: message`` lines."""
    if isinstance(value, Mapping):
        out: list[str] = []
        for key, inner in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten(inner, name))
        return out
    if isinstance(value, list | tuple):
        out = []
        for item in value:
            out.extend(_flatten(item, prefix))
        return out
    if value is None or value == "":
        return []
    return [f"{prefix}: {value}" if prefix else str(value)]


def _bulk_errors(errors: Any) -> list[str]:
    """Bulk-create ``[{"id": "42", "_detail": "..."}]`` -> ``42: ...``."""
    out: list[str] = []
    for item in errors:
        if isinstance(item, Mapping):
            detail = item.get("_detail") or item.get("message") or item.get("detail")
            ident = item.get("id")
            if detail:
                out.append(f"{ident}: {detail}" if ident not in (None, "") else str(detail))
        elif item:
            out.append(str(item))
    return out


def api_message(body: Any) -> str:
    """The API's own message from any documented error shape, most specific first.

    ``data.errMsg`` (string, or ``{field: [messages]}``) beats ``data.errors`` (bulk) and a
    hierarchy-style ``errors`` map, which beat ``meta.message``, a top-level ``message``,
    ``detail`` and ``title``; core's ``[{"status", "message"}]`` lists are joined.
    """
    if body is None:
        return ""
    if isinstance(body, str):
        text = " ".join(body.split())
        return text
    if isinstance(body, list):
        parts: list[str] = []
        for item in body:
            if isinstance(item, Mapping):
                msg = item.get("message") or item.get("title") or item.get("detail")
                if msg:
                    parts.append(str(msg))
            elif item:
                parts.append(str(item))
        return "; ".join(parts)
    if not isinstance(body, Mapping):
        return str(body)
    specific: list[str] = []
    data = body.get("data")
    if isinstance(data, Mapping):
        err = data.get("errMsg")
        if isinstance(err, str) and err.strip():
            specific = [err.strip()]
        elif isinstance(err, Mapping | list):
            specific = _flatten(err)
        if not specific and isinstance(data.get("errors"), list):
            specific = _bulk_errors(data["errors"])
    errors = body.get("errors")
    if not specific and isinstance(errors, Mapping):
        specific = [str(v) if k.isdigit() else f"{k}: {v}" for k, v in _flat_pairs(errors)]
    if not specific and isinstance(errors, list):
        specific = _bulk_errors(errors)
    meta = body.get("meta")
    general = ""
    if isinstance(meta, Mapping) and isinstance(meta.get("message"), str):
        general = meta["message"].strip()
    for key in ("message", "detail", "title"):
        if not general and isinstance(body.get(key), str):
            general = body[key].strip()
    if specific:
        text = "; ".join(specific)
        # Keep a general message that adds something (the bulk headline), drop generic ones.
        if general and general not in text and isinstance(data, Mapping) and "errors" in data:
            return f"{general} ({text})"
        return text
    return general


def _flat_pairs(errors: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for line in _flatten(errors):
        key, sep, msg = line.partition(": ")
        out.append((key, msg) if sep else ("", line))
    return [(k if k else "0", m) for k, m in out]


def truncate(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----------------------------------------------------------------------------- accounting


def endpoint_template(path: str) -> str:
    """``/users/customer/321`` -> ``/users/customer/{id}`` (numeric segments become ``{id}``)."""
    path = path.split("?", 1)[0]
    return "/".join("{id}" if seg.isdigit() else seg for seg in path.split("/"))


@dataclass
class HttpStats:
    """What the client spent: requests per endpoint template, 429s, retries, time slept."""

    by_endpoint: dict[str, int] = field(default_factory=dict)
    """``"GET /companies"`` -> requests sent (every attempt counts: the budget sees them)."""
    requests: int = 0
    b2b_requests: int = 0
    core_requests: int = 0
    throttled: int = 0
    """429 answers seen."""
    retries: int = 0
    """Requests sent again after a 429, a 5xx or a connection failure."""
    paced_seconds: float = 0.0
    """Time slept by the limiter to stay within our share of the budget."""
    backoff_seconds: float = 0.0
    """Time slept before retries (429 waits included)."""

    def record(self, api: Api, method: str, path: str) -> None:
        """Count one request about to be sent."""
        key = f"{method} {endpoint_template(path)}"
        self.by_endpoint[key] = self.by_endpoint.get(key, 0) + 1
        self.requests += 1
        if api == "b2b":
            self.b2b_requests += 1
        else:
            self.core_requests += 1

    def snapshot(self) -> HttpStats:
        """A copy that later requests do not change."""
        return HttpStats(
            by_endpoint=dict(self.by_endpoint),
            requests=self.requests,
            b2b_requests=self.b2b_requests,
            core_requests=self.core_requests,
            throttled=self.throttled,
            retries=self.retries,
            paced_seconds=self.paced_seconds,
            backoff_seconds=self.backoff_seconds,
        )

    @property
    def slept_seconds(self) -> float:
        """All time slept, pacing and backoff."""
        return self.paced_seconds + self.backoff_seconds

    def to_json(self) -> dict[str, Any]:
        """Render for reports and the benchmark."""
        return {
            "requests": self.requests,
            "b2bRequests": self.b2b_requests,
            "coreRequests": self.core_requests,
            "byEndpoint": dict(sorted(self.by_endpoint.items())),
            "throttled": self.throttled,
            "retries": self.retries,
            "pacedSeconds": round(self.paced_seconds, 3),
            "backoffSeconds": round(self.backoff_seconds, 3),
        }


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter."""

    base: float = 0.5
    cap: float = 8.0
    max_attempts: int = 5
    """Attempts in all for one call on 5xx / connection failures (first one included)."""
    max_throttled: int = 8
    """429 answers tolerated for one call before ``RateLimitedError``."""
    throttle_cap: float = RATE_WAIT_CAP
    """Longest single wait on a 429; a 429 asking for longer ends the call at once."""
    timeout_attempts: int = 2
    """Attempts in all for one call whose attempts time out (no answer within the deadline)."""

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Delay before attempt ``failures + 1``: half fixed, half random (equal jitter)."""
        delay = min(self.cap, self.base * 2.0 ** (failures - 1))
        return delay / 2 + rng.uniform(0, delay / 2)


# ----------------------------------------------------------------------------- routing


class _Router(httpx.BaseTransport):
    """Send core requests to one transport and B2B requests to another (by URL prefix)."""

    def __init__(
        self,
        b2b_prefix: str,
        b2b: httpx.BaseTransport,
        core_prefix: str,
        core: httpx.BaseTransport,
    ) -> None:
        self._routes = sorted(
            ((b2b_prefix, b2b), (core_prefix, core)), key=lambda r: len(r[0]), reverse=True
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        for prefix, transport in self._routes:
            if url.startswith(prefix):
                return transport.handle_request(request)
        return self._routes[-1][1].handle_request(request)

    def close(self) -> None:
        seen: set[int] = set()
        for _, transport in self._routes:
            if id(transport) not in seen:
                seen.add(id(transport))
                transport.close()


# ----------------------------------------------------------------------------- the client

_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures that prove the request never reached the server (safe to resend, even a POST)."""
_FATAL = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
"""Our own mistakes: resending cannot help."""


class _TooLarge(Exception):
    """The answer is larger than ``ApiSettings.max_response_bytes``."""


class Http:
    """One ``httpx.Client`` for both APIs, with auth, pacing, retries, bounds and accounting."""

    def __init__(
        self,
        settings: ApiSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        core_transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        control: RunControl | None = None,
        notice: Callable[[str], None] | None = None,
        pacing: Pacing = "fair",
    ) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self.stats = HttpStats()
        self.control = control or RunControl()
        self._sleep = sleep or self.control.sleep
        self._notice = notice or log.info
        self._clock = clock
        self._rng = rng or random.Random()
        self._core_base = f"{settings.core_url}/stores/{settings.store_hash}"
        self._request_deadline: float | None = None
        self._clock_marks: list[dict[str, int]] = []
        self._urls: dict[str, httpx.URL] = {}
        self._headers: dict[tuple[tuple[str, str], ...], httpx.Headers] = {}
        if transport is None:
            transport = BoundedTransport(self._cutoff, self.control.clock)
        if core_transport is not None and core_transport is not transport:
            transport = _Router(settings.b2b_url, transport, settings.core_url, core_transport)
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self.b2b_pacer = B2BPacer(
            settings.requests_per_minute, clock, self._pace_b2b, pacing=pacing
        )
        self.core_pacer = CorePacer(clock, self._pace_core)

    def __repr__(self) -> str:
        return f"Http(store_hash={self.settings.store_hash!r}, b2b_url={self.settings.b2b_url!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    # -- public calls

    def b2b(
        self,
        method: Method,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Call the B2B API; return the decoded body (``None`` for an empty one)."""
        return self.request("b2b", method, path, params=params, json=json, idempotent=idempotent)

    def core(
        self,
        method: Method,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Call the core API (``path`` below ``/stores/{hash}``, e.g. ``/v2/orders``)."""
        return self.request("core", method, path, params=params, json=json, idempotent=idempotent)

    def request(
        self,
        api: Api,
        method: Method,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one call, pacing and retrying as the module doc says; return the decoded body."""
        if not path.startswith("/"):
            path = "/" + path
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE")
        base = self.settings.b2b_url if api == "b2b" else self._core_base
        headers = {"X-Auth-Token": self.settings.token.reveal()}
        if api == "b2b":
            headers["X-Store-Hash"] = self.settings.store_hash
        if json is not None:
            headers["Content-Type"] = "application/json"
        content = _encode_json(json) if json is not None else None
        query = _query(params)
        failures = 0
        timeouts = 0
        throttled = 0
        while True:
            self.control.check(method)
            if api == "b2b":
                self.b2b_pacer.before_send()
            else:
                self.core_pacer.before_send()
            self.control.check(method)
            self.stats.record(api, method, path)
            started = self._clock()
            try:
                try:
                    response = self._exchange(method, base + path, query, content, headers)
                finally:
                    if api == "b2b":
                        self.b2b_pacer.after_send()
                if method != "GET":
                    self.control.wrote()
            except httpx.TransportError as exc:
                failures += 1
                what = _describe_transport_error(exc)
                log.info("%s %s -> %s", method, path, what)
                if isinstance(exc, _FATAL):
                    raise TransportError(
                        f"cannot send the request: {what}", method=method, path=path
                    ) from exc
                resendable = idempotent or isinstance(exc, _UNSENT)
                stopped = self.control.reason()
                if stopped is not None and not resendable:
                    raise UncertainWriteError(
                        f"{stopped} while the request was in flight ({what}); it may or may "
                        "not have been applied",
                        method=method,
                        path=path,
                    ) from exc
                if stopped is not None:
                    raise StoppedError(
                        f"{stopped}; the request in flight ({method} {path}) was abandoned"
                    ) from exc
                if not resendable:
                    raise UncertainWriteError(
                        f"the connection failed after the request was sent ({what}); it may or "
                        "may not have been applied",
                        method=method,
                        path=path,
                    ) from exc
                if isinstance(exc, httpx.TimeoutException):
                    timeouts += 1
                if failures >= self.retry.max_attempts or timeouts >= self.retry.timeout_attempts:
                    raise TransportError(
                        f"no answer after {failures} attempts ({what})", method=method, path=path
                    ) from exc
                self._backoff(
                    self.retry.backoff(failures, self._rng), f"{method} {path} failed ({what})"
                )
                continue
            except _TooLarge as exc:
                limit = size_text(self.settings.max_response_bytes)
                kind = ApiError if idempotent else UncertainWriteError
                outcome = "" if idempotent else "; the write may or may not have been applied"
                raise kind(
                    f"the API's answer is larger than {limit}; stopped reading it{outcome}",
                    method=method,
                    path=path,
                    status=int(exc.args[0]),
                ) from None
            elapsed = self._clock() - started
            status = response.status_code
            if self._clock_marks:
                self._mark_store_clock(api, response, elapsed)
            log.info("%s %s -> %s in %.0f ms", method, path, status, elapsed * 1000)
            if api == "b2b":
                self.b2b_pacer.observe(response.headers, status)
            else:
                self.core_pacer.observe(response.headers)
            if status == 429:
                self.stats.throttled += 1
                throttled += 1
                if throttled > self.retry.max_throttled:
                    raise self._error(
                        RateLimitedError, "still rate limited", method, path, response
                    )
                wait, source = self._throttle_wait(api, response, throttled)
                if wait > self.retry.throttle_cap:
                    raise self._error(
                        RateLimitedError,
                        f"the API asks to wait {seconds_text(wait)} ({source}) before the next "
                        f"request, longer than the {seconds_text(self.retry.throttle_cap)} this "
                        "tool waits; run again later",
                        method,
                        path,
                        response,
                    )
                self._backoff(wait + EPSILON, f"{method} {path} was rate limited (429, {source})")
                if api == "b2b":
                    self.b2b_pacer.forget_remaining()
                else:
                    self.core_pacer.forget()
                continue
            if status >= 500:
                failures += 1
                if not idempotent:
                    raise self._error(
                        UncertainWriteError,
                        "the server failed after receiving the request; it may or may not "
                        "have been applied",
                        method,
                        path,
                        response,
                    )
                if failures >= self.retry.max_attempts:
                    raise self._error(
                        ApiError, f"server error after {failures} attempts", method, path, response
                    )
                self._backoff(
                    self.retry.backoff(failures, self._rng),
                    f"{method} {path} answered {status}",
                )
                continue
            if status >= 400:
                raise self._client_error(method, path, response)
            if 300 <= status < 400:
                raise self._error(ApiError, "unexpected redirect", method, path, response)
            return self._decode_success(method, path, response)

    # -- the store's clock

    def watch_store_clock(self) -> dict[str, int]:
        """A mapping that the next answer of each API fills (``"b2b"``, ``"core"``): the
        store's time, by its ``Date`` header, when that request reached it at the earliest
        (the header's second less the whole exchange, rounded up). An answer without a
        readable ``Date`` header leaves its API out; the caller then falls back to its own
        clock."""
        mark: dict[str, int] = {}
        self._clock_marks.append(mark)
        return mark

    def _mark_store_clock(self, api: Api, response: httpx.Response, elapsed: float) -> None:
        at = store_date(response.headers.get("date"))
        marks = self._clock_marks
        if at is not None:
            for mark in marks:
                mark.setdefault(api, at - math.ceil(max(0.0, elapsed)))
        self._clock_marks = [m for m in marks if len(m) < 2]

    # -- one exchange, bounded

    def _cutoff(self) -> float | None:
        """When the I/O of the request in flight is abandoned (on ``control.clock``)."""
        bounds = [b for b in (self._request_deadline, self.control.cutoff()) if b is not None]
        return min(bounds) if bounds else None

    def _exchange(
        self,
        method: str,
        url: str,
        query: httpx.QueryParams | None,
        content: bytes | None,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        """Send once and read the whole answer within the request's deadline and size cap."""
        now = self.control.clock()
        self._request_deadline = now + self.settings.timeout
        cutoff = self._cutoff()
        assert cutoff is not None
        # The per-operation timeouts matter to transports that are not ours (the in-process
        # sandbox); the network backend bounds every socket wait by the cutoff itself.
        timeout = httpx.Timeout(max(cutoff - now, 0.001))
        request = self.build_request(method, url, query, content, headers, timeout)
        try:
            # Straight to the transport the client mounts for the URL (ours: httpx takes no
            # proxy from the environment for a client given its transport). httpx's ``send``
            # adds nothing this client uses (no auth, no redirects followed, no event hooks)
            # but its cookie jar, kept here; its per-request wrappers cost more than the rest.
            transport = self._client._transport_for_url(request.url)
            response = transport.handle_request(request)
            response.request = request
            try:
                if "set-cookie" in response.headers:
                    self._client.cookies.extract_cookies(response)
                body = self._read_body(request, response)
            finally:
                response.close()
        finally:
            self._request_deadline = None
        return _read_in_full(response, body)

    def build_request(
        self,
        method: str,
        url: str,
        query: httpx.QueryParams | None,
        content: bytes | None,
        headers: Mapping[str, str],
        timeout: httpx.Timeout,
    ) -> httpx.Request:
        """The request ``httpx.Client.build_request`` builds (same URL, headers, body and
        timeout, cookies; tested equal), for a fifth of its cost: the URL without its query is
        parsed once (``_url``) and the client's headers are merged with the call's once."""
        encoded = str(query) if query is not None else ""
        key = tuple(headers.items())
        merged = self._headers.get(key)
        if merged is None:
            merged = httpx.Headers(self._client.headers)
            merged.update(headers)
            self._headers = _bounded(self._headers)
            self._headers[key] = merged
        request = httpx.Request(
            method,
            self._url(url, encoded),
            content=content,
            headers=merged,  # copied by the request
            extensions={"timeout": timeout.as_dict()},
        )
        if self._client.cookies:
            self._client.cookies.set_cookie_header(request)
        return request

    def _url(self, url: str, query: str) -> httpx.URL:
        """``httpx.URL(f"{url}?{query}")``. httpx parses a URL looking at each character in
        Python (most of the cost of building a request): ``url`` is parsed once and kept, and
        ``query``, encoded by ``httpx.QueryParams`` already (which a parse keeps as it is),
        is set in its parsed form."""
        base = self._urls.get(url)
        if base is None:
            base = httpx.URL(url)
            self._urls = _bounded(self._urls)
            self._urls[url] = base
        if not query:
            return base  # URLs are immutable
        parsed = base._uri_reference
        if parsed.query is not None or parsed.fragment is not None:
            return httpx.URL(f"{url}?{query}")
        joined = httpx.URL.__new__(httpx.URL)
        joined._uri_reference = parsed._replace(query=query)
        return joined

    def _read_body(self, request: httpx.Request, response: httpx.Response) -> bytes:
        limit = self.settings.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _TooLarge(response.status_code)
        chunks: list[bytes] = []
        size = 0
        for chunk in _body_chunks(response):
            size += len(chunk)
            if size > limit:
                raise _TooLarge(response.status_code)
            chunks.append(chunk)
            cutoff = self._cutoff()
            if cutoff is not None and self.control.clock() >= cutoff:
                raise httpx.ReadTimeout(
                    "the answer did not arrive in full before the request's deadline",
                    request=request,
                )
        return b"".join(chunks)

    # -- waits

    def _wait(self, seconds: float, what: str) -> None:
        """Wait ``seconds`` for ``what``: announced when long; refused past the deadline."""
        if seconds <= 0:
            return
        self.control.allow_wait(seconds, what)
        if seconds >= NOTICE_SECONDS:
            self._notice(f"Waiting {seconds_text(round(seconds))} for {what}.")
        self._sleep(seconds)
        self.control.check()

    def _pace_b2b(self, seconds: float) -> None:
        pacer = self.b2b_pacer
        sharing = ""
        if pacer.pacing == "fair" and pacer.others_busy():
            sharing = ", fewer while other integrations are busy"
        self._wait(
            seconds,
            f"the B2B rate limit ({pacer.allocated} requests per "
            f"{seconds_text(pacer.window)}; this tool uses {pacer.share} of them{sharing})",
        )
        self.stats.paced_seconds += seconds

    def _pace_core(self, seconds: float) -> None:
        self._wait(seconds, "the core API rate limit (X-Rate-Limit-Requests-Left: 0)")
        self.stats.paced_seconds += seconds

    def _backoff(self, seconds: float, what: str) -> None:
        log.debug("retrying in %.2f s: %s", seconds, what)
        self.stats.retries += 1
        if seconds > 0:
            self._wait(seconds, f"a retry: {what}")
            self.stats.backoff_seconds += seconds

    def _throttle_wait(self, api: Api, response: httpx.Response, attempt: int) -> tuple[float, str]:
        """Seconds a 429 asks to wait, and which header said so."""
        headers = response.headers
        wait = parse_retry_after(headers.get("Retry-After"), time.time())
        if wait is not None:
            return wait, "Retry-After"
        pacer = self.b2b_pacer if api == "b2b" else self.core_pacer
        wait = pacer.resets_after(headers)
        if wait is not None:
            name = "X-Request-Window-Resets-After" if api == "b2b" else "X-Rate-Limit-Time-Reset-Ms"
            return wait, name
        return float(2 ** (attempt - 1)), "429 without a wait header"

    # -- decoding

    def _decode_success(self, method: str, path: str, response: httpx.Response) -> Any:
        body = response.content
        if response.status_code == 204 or not body.strip():
            return None
        try:
            return jsonbody.loads(body)
        except ValueError as exc:
            raise ApiError(
                "the API answered with a body that is not JSON",
                method=method,
                path=path,
                status=response.status_code,
                api_message=self._redact(truncate(_text(response))),
            ) from exc

    def _client_error(self, method: str, path: str, response: httpx.Response) -> ApiError:
        status = response.status_code
        if status in (401, 403):
            return self._error(AuthError, "the API refused the credentials", method, path, response)
        if status == 404:
            return self._error(NotFoundError, "not found", method, path, response)
        return self._error(ApiError, "the API refused the request", method, path, response)

    def _error(
        self,
        kind: type[ApiError],
        message: str,
        method: str,
        path: str,
        response: httpx.Response,
    ) -> ApiError:
        return kind(
            message,
            method=method,
            path=path,
            status=response.status_code,
            api_message=self._redact(truncate(error_message(response))),
        )

    def _redact(self, text: str) -> str:
        token = self.settings.token.reveal()
        return text.replace(token, "***") if token else text


_CACHED = 256
"""Parsed URLs and merged headers kept at most (a full read asks for a few dozen)."""


def _bounded(cache: dict[Any, Any]) -> dict[Any, Any]:
    """``cache``, emptied when it holds ``_CACHED`` entries."""
    return {} if len(cache) >= _CACHED else cache


_DECODED = (b"content-encoding", b"content-length", b"transfer-encoding")
"""Headers that describe the bytes on the wire, not the body read (decoded, whole)."""


def _read_in_full(response: httpx.Response, body: bytes) -> httpx.Response:
    """``response`` as if httpx had read it: its content is ``body`` (the bytes read and
    decoded) and the headers that described the transfer are dropped. The same response object
    rather than a new one: a new response would pass ``body`` through httpx's decoder and
    chunker layers again (a tenth of an exchange's CPU)."""
    response.headers = httpx.Headers(
        [(name, value) for name, value in response.headers.raw if name.lower() not in _DECODED]
    )
    response._content = body  # what ``Response.read()`` keeps; ``content`` returns it
    return response


def _body_chunks(response: httpx.Response) -> Iterator[bytes]:
    """The bytes of the answer as they arrive: decoded by httpx when a ``Content-Encoding``
    names a coding (gzip, deflate ...); else the transport's own chunks, without httpx's
    decoder and re-chunking layers (a third of the CPU of reading 100 MB of pages)."""
    coding = response.headers.get("Content-Encoding", "").strip().lower()
    stream = response.stream
    if coding in ("", "identity") and isinstance(stream, httpx.SyncByteStream):
        for chunk in stream:
            if chunk:
                yield chunk
    else:
        yield from response.iter_bytes()


def error_message(response: httpx.Response) -> str:
    """The API's message from an error response (JSON shapes, else the text, else the reason)."""
    raw = response.content
    if raw.strip():
        try:
            body = jsonbody.loads(raw)
        except ValueError:
            return " ".join(_text(response).split())
        message = api_message(body)
        if message:
            return message
    return response.reason_phrase or ""


def _text(response: httpx.Response) -> str:
    try:
        return response.text
    except (UnicodeDecodeError, LookupError):
        return response.content.decode("utf-8", "replace")


def _encode_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _query(params: Mapping[str, Any] | None) -> httpx.QueryParams | None:
    """Query pairs in a stable order; ``None`` values left out; lists repeat the key."""
    if not params:
        return None
    out: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            out.extend((key, _qv(v)) for v in value)
        else:
            out.append((key, _qv(value)))
    return httpx.QueryParams(out)


def _qv(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def _describe_transport_error(exc: httpx.TransportError) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
