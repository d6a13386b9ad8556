"""The request log: every request the app saw, including 401/413/429, faults and drops."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class LogEntry:
    """One request: ``status`` is 0 when the connection was dropped without a response."""

    method: str
    path: str
    query: str
    status: int
    elapsed: float
    at: float


class RequestLog:
    """An append-only, thread-safe list of ``LogEntry``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []

    def add(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
