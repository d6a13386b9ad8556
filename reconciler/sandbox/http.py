"""Request and response values, the B2B envelopes, and the exceptions handlers raise."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

JSON_TYPE = "application/json"


class ConnectionDropped(Exception):
    """Raised out of the WSGI app when a fault closes the connection with no response."""


class ClientTimedOut(Exception):
    """Raised out of the WSGI app (in-process only) when a delay outlasts the read timeout."""


class Stalled(Exception):
    """Raised out of the WSGI app (served only): hold the connection open and never answer."""


TRICKLE_KEY = "sandbox.trickle"
"""WSGI environ key the app sets to the seconds between two bytes of a trickled answer."""
STREAM_KEY = "sandbox.stream"
"""WSGI environ key the app sets when the answer is an endless stream (no Content-Length)."""


def reason(status: int) -> str:
    """Return the standard reason phrase of an HTTP status."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


@dataclass
class Response:
    """An HTTP response as the app produces it."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: Iterator[bytes] | None = None
    """An answer that is produced while it is sent (the ``endless`` fault); ``body`` is unused."""
    trickle: float | None = None
    """Seconds between two bytes when the answer must trickle (the ``trickle`` fault)."""

    def header(self, name: str, value: str) -> None:
        self.headers.append((name, value))


def dumps(obj: object) -> bytes:
    """Encode JSON compactly, as the real API does."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_response(status: int, obj: object) -> Response:
    return Response(status, dumps(obj), [("Content-Type", JSON_TYPE)])


def raw_json_response(status: int, body: bytes) -> Response:
    return Response(status, body, [("Content-Type", JSON_TYPE)])


def envelope(status: int, message: str, data: object = None) -> dict[str, Any]:
    """The default B2B body: ``{"code", "data", "meta": {"message"}}``."""
    return {"code": status, "data": {} if data is None else data, "meta": {"message": message}}


class HttpError(Exception):
    """Abort a handler with this response (the transaction is rolled back)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def b2b_error(status: int, message: str, data: object = None) -> HttpError:
    return HttpError(json_response(status, envelope(status, message, data)))


def param_error(errors: Mapping[str, object]) -> HttpError:
    """422 for malformed parameters, in the shape the Users API documents (DRF style)."""
    return HttpError(
        json_response(
            422,
            {"code": 422, "data": {"errMsg": dict(errors)}, "meta": {"message": "Parameter Error"}},
        )
    )


@dataclass
class Request:
    """An incoming request, decoded from the WSGI environ."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    _query: dict[str, list[str]] | None = None
    _json: object = None
    _json_loaded: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> Request:
        raw_path = environ.get("PATH_INFO", "") or "/"
        path = raw_path.encode("latin-1").decode("utf-8", "replace")
        headers: dict[str, str] = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers[key[5:].replace("_", "-").lower()] = value
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        return cls(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=path,
            query_string=str(environ.get("QUERY_STRING", "")),
            headers=headers,
            body=body,
        )

    @property
    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            self._query = parse_qs(self.query_string, keep_blank_values=True)
        return self._query

    def arg(self, name: str) -> str | None:
        """The first value of a query parameter, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    def args(self, *names: str) -> list[str]:
        """All values of the named parameters (e.g. ``channelIds`` and ``channelIds[]``)."""
        out: list[str] = []
        for name in names:
            out.extend(self.query.get(name, []))
        return out

    def json(self) -> object:
        """The decoded JSON body (None when empty); 400 when it is not JSON."""
        if not self._json_loaded:
            self._json_loaded = True
            if self.body.strip():
                try:
                    self._json = json.loads(self.body)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise b2b_error(400, f"JSON parse error - {exc}") from exc
        return self._json

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; an empty body counts as ``{}``."""
        body = self.json()
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise param_error({"non_field_errors": ["Invalid data. Expected a dictionary."]})
        return body
