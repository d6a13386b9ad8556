"""HTTP/1.1 messages on the client's side: the request's bytes, the answer's head and its
body's framing (RFC 9112), with the checks h11 made for httpcore, split in C where it counts.

No sockets here (``network.py`` owns them): ``request_bytes`` serialises an ``httpx.Request``
in one piece, ``parse_head`` reads a status line and header lines, ``body_framing`` says how
the body ends. Every refusal is a ``ProtocolError`` (``Local`` for our own request, ``Remote``
for the server's answer) whose message names what is wrong but never a header's value (the
access token travels in one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import httpx

MAX_HEAD = 100 * 1024
"""Longest answer head (status line and headers) or chunk-size line read, as httpcore's h11
allowed: a server sending more without ending it is refused."""

# The grammar (RFC 9110/9112), as h11 spells it.
_TOKEN = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
_FIELD_VCHAR = rb"[^\x00\s]"
_FIELD_VALUE = rb"(?:%s+(?:[ \t]+%s+)*)?" % (_FIELD_VCHAR, _FIELD_VCHAR)
_NAME_RE = re.compile(_TOKEN)
_VALUE_RE = re.compile(_FIELD_VALUE)
_TARGET_RE = re.compile(rb"[\x21-\x7e]+")
_HEADER_RE = re.compile(rb"(%s):[ \t]*(%s)[ \t]*" % (_TOKEN, _FIELD_VALUE))
_STATUS_RE = re.compile(rb"HTTP/([0-9]\.[0-9]) ([0-9]{3})(?: ((?:[ \t]|%s)*))?" % _FIELD_VCHAR)
_CHUNK_RE = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;.*)?[ \t]*")
_DIGITS_RE = re.compile(rb"[0-9]{1,20}")
_END_OF_HEAD = re.compile(rb"\n\r?\n")
_FOLD = (b" "[0], b"\t"[0])


@dataclass(slots=True)
class Head:
    """A status line and its headers."""

    version: bytes
    """``b"1.1"``, ``b"1.0"`` ..."""
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    """As sent (names in their case), folded lines joined, duplicate Content-Lengths kept once."""
    content_length: int | None
    chunked: bool
    close: bool
    """The server closes the connection after this answer (``Connection: close``, HTTP/1.0)."""


Framing = tuple[Literal["length", "chunked", "eof"], int]
"""How a body ends: ``("length", n)``, ``("chunked", 0)`` or ``("eof", 0)`` (at the close)."""


def request_bytes(request: httpx.Request) -> bytes:
    """The request line, headers and body of ``request``, checked as h11 checked them."""
    method = request.method.encode("ascii")
    target = request.url.raw_path
    if not _NAME_RE.fullmatch(method):
        raise httpx.LocalProtocolError("the request's method is not an HTTP token", request=request)
    if not _TARGET_RE.fullmatch(target):
        raise httpx.LocalProtocolError(
            "the request's target holds a character HTTP does not allow", request=request
        )
    try:
        body = request.content
    except httpx.RequestNotRead:
        body = request.read()
    lines = [method + b" " + target + b" HTTP/1.1"]
    host = False
    declared: bytes | None = None
    chunked = False
    for name, value in request.headers.raw:
        if not _NAME_RE.fullmatch(name):
            raise httpx.LocalProtocolError(
                "a request header's name is not an HTTP token", request=request
            )
        if not _VALUE_RE.fullmatch(value):
            shown = name.decode("ascii")
            raise httpx.LocalProtocolError(
                f"the request's {shown} header holds a character HTTP does not allow, or "
                "spaces at its ends",
                request=request,
            )
        lower = name.lower()
        if lower == b"host":
            host = True
        elif lower == b"content-length":
            declared = value
        elif lower == b"transfer-encoding":
            chunked = value.lower() == b"chunked"
            if not chunked:
                raise httpx.LocalProtocolError(
                    "only Transfer-Encoding: chunked can be sent", request=request
                )
        lines.append(name + b": " + value)
    if not host:
        raise httpx.LocalProtocolError("the request has no Host header", request=request)
    if chunked:
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    elif declared is not None:
        if not _DIGITS_RE.fullmatch(declared) or int(declared) != len(body):
            raise httpx.LocalProtocolError(
                "the request's Content-Length does not match its body", request=request
            )
    elif body:
        raise httpx.LocalProtocolError(
            "the request has a body but no Content-Length", request=request
        )
    lines.append(b"")
    lines.append(body)
    return b"\r\n".join(lines)


def find_end_of_head(buffer: bytes, start: int = 0) -> int:
    """Where the head in ``buffer`` ends (just past its blank line: CRLF CRLF, or bare LFs as
    h11 allowed), or -1 when it has not yet; ``start``: where the search may begin (bytes
    searched before, less 2)."""
    match = _END_OF_HEAD.search(buffer, start)
    return -1 if match is None else match.end()


def parse_head(raw: bytes) -> Head:
    """The status line and headers in ``raw`` (up to and including the blank line)."""
    if raw.count(b"\n") != raw.count(b"\r\n"):
        lines = [line.removesuffix(b"\r") for line in raw.split(b"\n")]
    else:
        lines = raw.split(b"\r\n")
    del lines[-2:]  # the blank line
    if not lines or not lines[0]:
        raise httpx.RemoteProtocolError("the answer has no status line")
    status = _STATUS_RE.fullmatch(lines[0])
    if status is None:
        raise httpx.RemoteProtocolError(
            f"the answer does not start with an HTTP status line: {lines[0][:40]!r}"
        )
    version, code, reason = status.groups()
    headers: list[tuple[bytes, bytes]] = []
    length: bytes | None = None
    chunked = False
    close = version < b"1.1"
    folded = False
    for line in lines[1:]:
        if line and line[0] in _FOLD:
            folded = True
            break
    if folded:
        lines = [lines[0], *_unfold(lines[1:])]
    for index, line in enumerate(lines[1:], 1):
        match = _HEADER_RE.fullmatch(line)
        if match is None:
            raise httpx.RemoteProtocolError(
                f"the answer's header line {index} is malformed (not 'name: value')"
            )
        name, value = match.groups()
        lower = name.lower()
        if lower == b"content-length":
            values = {v.strip() for v in value.split(b",")}
            single = values.pop()
            if values or not _DIGITS_RE.fullmatch(single) or (length not in (None, single)):
                raise httpx.RemoteProtocolError("the answer's Content-Length is malformed")
            if length is not None:
                continue
            length = single
            value = single
        elif lower == b"transfer-encoding":
            if chunked or value.strip().lower() != b"chunked":
                raise httpx.RemoteProtocolError(
                    "the answer's Transfer-Encoding is not chunked (the only one HTTP/1.1 "
                    "clients must read)"
                )
            chunked = True
            value = b"chunked"  # as h11 kept it
        elif lower == b"connection" and b"close" in [t.strip() for t in value.lower().split(b",")]:
            close = True
        headers.append((name, value))
    return Head(
        version,
        int(code),
        reason or b"",
        headers,
        None if length is None else int(length),
        chunked,
        close,
    )


def _unfold(lines: list[bytes]) -> list[bytes]:
    """Obsolete line folding: a line starting with a space or tab continues the one before."""
    out: list[bytes] = []
    for line in lines:
        if line and line[0] in _FOLD:
            if not out:
                raise httpx.RemoteProtocolError("the answer's headers start with a continuation")
            out[-1] = out[-1] + b" " + line.lstrip(b" \t")
        else:
            out.append(line)
    return out


def body_framing(method: str, head: Head) -> Framing:
    """How the body of ``head`` (an answer to ``method``) ends: after a length, at the last
    chunk, or when the server closes the connection."""
    if head.status in (204, 304) or method == "HEAD":
        return ("length", 0)
    if head.chunked:
        return ("chunked", 0)
    if head.content_length is not None:
        return ("length", head.content_length)
    return ("eof", 0)


def chunk_size(line: bytes) -> int:
    """The size on a chunk-size line (without its CRLF); extensions are ignored."""
    match = _CHUNK_RE.fullmatch(line)
    if match is None:
        raise httpx.RemoteProtocolError("the answer has a malformed chunk-size line")
    return int(match.group(1), 16)


def check_trailers(raw: bytes) -> None:
    """The trailer lines after the last chunk (up to and including the blank line)."""
    lines = [line.removesuffix(b"\r") for line in raw.split(b"\n")][:-2]
    for line in _unfold(lines):
        if _HEADER_RE.fullmatch(line) is None:
            raise httpx.RemoteProtocolError(
                "the answer has a malformed trailer line (after its last chunk)"
            )
