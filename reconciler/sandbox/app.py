"""The WSGI app: faults, then auth, rate limit and routing, with every request logged.

B2B lives under ``/api/v3/io`` (auth: ``X-Auth-Token`` + ``X-Store-Hash``), core under
``/stores/{hash}`` (auth: ``X-Auth-Token``; the hash in the path must be the store's). The host
is ignored: routing is by path only. Nothing a handler does can crash the server: unexpected
exceptions become a 500 in the default envelope.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from email.utils import formatdate
from typing import Any

from .common import Ctx
from .companies import remove_company
from .core import core_error
from .faults import Faults
from .http import (
    JSON_TYPE,
    STREAM_KEY,
    TRICKLE_KEY,
    ClientTimedOut,
    ConnectionDropped,
    HttpError,
    Request,
    Response,
    Stalled,
    envelope,
    json_response,
    reason,
)
from .log import LogEntry, RequestLog
from .ratelimit import FixedWindow, b2b_headers, core_headers, retry_after
from .routes import Router, b2b_router, core_router
from .store import Store

B2B_PREFIX = "/api/v3/io"
CORE_RE = re.compile(r"^/stores/([^/]+)(/.*)?$")
AUTH_MESSAGE = "Invalid token header. No credentials provided."

logger = logging.getLogger("reconciler.sandbox")

StartResponse = Callable[..., Any]


class SandboxApp:
    """The WSGI callable shared by the in-process transport and the served mode."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float],
        log: RequestLog,
        faults: Faults,
        b2b_limit: FixedWindow,
        core_limit: FixedWindow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.clock = clock
        self.log = log
        self.faults = faults
        self.b2b_limit = b2b_limit
        self.core_limit = core_limit
        self.sleep = sleep
        self.b2b_routes: Router = b2b_router()
        self.core_routes: Router = core_router()

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        at = self.clock()
        req = Request.from_environ(environ)

        def log(status: int) -> None:
            elapsed = time.perf_counter() - started
            self.log.add(LogEntry(req.method, req.path, req.query_string, status, elapsed, at))

        try:
            response = self.handle(req, environ.get("sandbox.read_timeout"))
        except ClientTimedOut as exc:
            log(exc.args[0] if exc.args else 0)
            raise
        except (ConnectionDropped, Stalled):
            log(0)
            raise
        except Exception:
            logger.exception("sandbox failed: %s %s", req.method, req.path)
            response = json_response(500, envelope(500, "Internal Server Error"))
        log(response.status)
        headers = list(response.headers)
        if self.store.settings.quirks["dateHeader"]:
            headers.append(("Date", self.date_header()))
        if response.stream is not None:
            environ[STREAM_KEY] = True
            start_response(f"{response.status} {reason(response.status)}", headers)
            return response.stream
        if response.trickle is not None:
            environ[TRICKLE_KEY] = response.trickle
        if response.status not in (204, 304):
            headers.append(("Content-Length", str(len(response.body))))
        start_response(f"{response.status} {reason(response.status)}", headers)
        return [response.body]

    # -- faults ----------------------------------------------------------------------------

    def handle(self, req: Request, read_timeout: float | None = None) -> Response:
        """Apply the fault rules around serving ``req``."""
        decision = self.faults.decide(req.method, req.path, req.query_string)
        if decision is None:
            return self.serve(req)
        if decision.delete_companies is not None:
            self.delete_companies(*decision.delete_companies)
        timed_out = False
        if decision.delay:
            if read_timeout is not None and decision.delay > read_timeout:
                self.sleep(read_timeout)
                timed_out = True
            else:
                self.sleep(decision.delay)
        action = decision.action
        if action == "stall":
            if read_timeout is None:
                raise Stalled()  # served: the server holds the connection
            if not timed_out:
                self.sleep(read_timeout)
            raise ClientTimedOut(0)
        if action == "endless":
            return endless_response(decision.status or 200)
        if action == "trickle":
            if decision.status is not None:
                response = self.fault_response(req, decision.status)
            else:
                response = self.serve(req)
            response.trickle = decision.interval
            if timed_out:
                raise ClientTimedOut(response.status)
            return response
        if action == "drop":
            if timed_out:
                raise ClientTimedOut(0)
            raise ConnectionDropped()
        if action == "fail":
            response = self.fault_response(req, decision.status or 500)
        else:
            response = self.serve(req)
            if action == "commit-then-fail":
                response = self.fault_response(req, decision.status or 500)
            elif action == "commit-then-drop" and not timed_out:
                raise ConnectionDropped()
        if timed_out:
            raise ClientTimedOut(response.status)
        return response

    def delete_companies(self, count: int, company_ids: tuple[int, ...]) -> None:
        """The ``delete-companies`` fault: another client deletes companies right now."""
        store = self.store
        with store.transaction():
            ctx = Ctx(store=store, settings=store.settings, now=self.now(store))
            ids = list(company_ids) or [
                int(r["id"])
                for r in store.rows("SELECT id FROM companies ORDER BY id LIMIT ?", (count,))
            ]
            for company_id in ids:
                remove_company(ctx, company_id)

    def now(self, store: Store) -> int:
        """The store's clock: the sandbox's, moved by the ``clockSkew`` quirk."""
        return int(self.clock()) + int(store.settings.quirks["clockSkew"])

    def date_header(self) -> str:
        """The answer's ``Date``: the store's clock (``clockSkew``) when answering, moved by
        ``dateHeaderSkew`` (the server stamping headers off the one stamping ``updatedAt``)."""
        quirks = self.store.settings.quirks
        at = int(self.clock()) + int(quirks["clockSkew"]) + int(quirks["dateHeaderSkew"])
        return formatdate(at, usegmt=True)

    def fault_response(self, req: Request, status: int) -> Response:
        """A fault's answer: the default error body of the API the path belongs to."""
        if CORE_RE.match(req.path):
            response = core_error(req.path, status, reason(status)).response
            response.headers.extend(core_headers(self.core_limit.peek()))
            return response
        response = json_response(status, envelope(status, reason(status)))
        if req.path.startswith(B2B_PREFIX):
            state = self.b2b_limit.peek()
            response.headers.extend(b2b_headers(state))
            if status == 429 and self.store.settings.quirks["retryAfterHeader"]:
                response.header("Retry-After", retry_after(state))
        return response

    # -- serving ---------------------------------------------------------------------------

    def serve(self, req: Request) -> Response:
        path = req.path
        if path == B2B_PREFIX or path.startswith(B2B_PREFIX + "/"):
            return self.serve_b2b(req, path[len(B2B_PREFIX) :] or "/")
        found = CORE_RE.match(path)
        if found is not None:
            return self.serve_core(req, found.group(1), found.group(2) or "/")
        return json_response(404, envelope(404, "Not Found"))

    def serve_b2b(self, req: Request, sub: str) -> Response:
        settings = self.store.settings
        token = req.headers.get("x-auth-token", "")
        if (
            not token
            or (settings.access_token and token != settings.access_token)
            or req.headers.get("x-store-hash") != settings.hash
        ):
            response = json_response(401, envelope(401, AUTH_MESSAGE, {"errMsg": AUTH_MESSAGE}))
            response.headers.extend(b2b_headers(self.b2b_limit.peek()))
            return response
        state = self.b2b_limit.hit()
        if not state.allowed:
            response = json_response(429, envelope(429, "Too Many Requests"))
            if settings.quirks["retryAfterHeader"]:
                response.header("Retry-After", retry_after(state))
        else:
            response = self.dispatch(self.b2b_routes, req, sub, core=False)
        response.headers.extend(b2b_headers(state))
        return response

    def serve_core(self, req: Request, store_hash: str, sub: str) -> Response:
        settings = self.store.settings
        if store_hash != settings.hash:
            return core_error(req.path, 404, "The requested resource was not found.").response
        token = req.headers.get("x-auth-token", "")
        if not token or (settings.access_token and token != settings.access_token):
            return core_error(
                req.path, 401, "You are not authorized to access this resource."
            ).response
        state = self.core_limit.hit()
        if not state.allowed:
            response = core_error(req.path, 429, "Too many requests").response
        else:
            response = self.dispatch(self.core_routes, req, sub, core=True)
        response.headers.extend(core_headers(state))
        return response

    def dispatch(self, router: Router, req: Request, sub: str, *, core: bool) -> Response:
        found = router.match(req.method, sub)
        if found is None:
            if core:
                return core_error(req.path, 404, "The requested resource was not found.").response
            return json_response(404, envelope(404, "Not Found"))
        if isinstance(found, list):
            if core:
                response = core_error(req.path, 405, "Method Not Allowed").response
            else:
                response = json_response(405, envelope(405, "Method Not Allowed"))
            response.header("Allow", ", ".join(found))
            return response
        handler, params = found
        store = self.store
        try:
            with store.transaction(write=req.method != "GET"):
                ctx = Ctx(store=store, settings=store.settings, now=self.now(store))
                response = handler(ctx, req, **params)
                return response
        except HttpError as exc:
            return exc.response
        except Exception:
            logger.exception("sandbox handler failed: %s %s", req.method, req.path)
            message = "Internal Server Error"
            if core:
                return core_error(req.path, 500, message).response
            return json_response(500, envelope(500, message))


ENDLESS_CHUNK = b'{"companyId":"1","companyName":"endless","companyStatus":"1"},' * 1024
"""About 64 KiB of list items, sent again and again by the ``endless`` fault."""


def endless_response(status: int) -> Response:
    """An answer whose JSON body never ends: ``{"code": ..., "data": [{...}, {...}, ...``."""

    def chunks() -> Iterator[bytes]:
        yield b'{"code":%d,"meta":{"message":"SUCCESS"},"data":[' % status
        while True:
            yield ENDLESS_CHUNK

    return Response(status, headers=[("Content-Type", JSON_TYPE)], stream=chunks())
