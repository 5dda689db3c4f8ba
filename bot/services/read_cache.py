"""Rows a turn that only reads (/help, /code) would otherwise fetch on every update.

The user row is read through it by idempotent commands only (`handlers.router` marks
them: /help, /code, /invites, /rewards, /earnings, /language, /settings, /rules), which
take from it the language, the role and whether the user is frozen. A personal code is
read through it once it has its QR file_id, after which it never changes. Anything that
decides money, bindings or an admin's authority reads the database.

Correct in this process: every UPDATE or DELETE of the cached table through any session
of the App clears its cache, when it runs and again when it commits (`db.engine.on_write`),
and a row read before such a clear is never put back (the generation check). Writes by
another process (the operator CLI) are seen after at most `ttl` seconds.
"""
from __future__ import annotations

import time
from typing import Callable, Generic, TypeVar

Row = TypeVar("Row")

DEFAULT_TTL = 30.0
DEFAULT_SIZE = 20_000  # about 13 MiB of user rows at most


class ReadCache(Generic[Row]):
    def __init__(self, ttl: float = DEFAULT_TTL, size: int = DEFAULT_SIZE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.size, self.clock = ttl, size, clock
        self._rows: dict[int, tuple[float, Row]] = {}
        self.generation = 0

    def get(self, key: int) -> Row | None:
        entry = self._rows.get(key)
        if entry is None:
            return None
        if entry[0] < self.clock():
            del self._rows[key]
            return None
        return entry[1]

    def put(self, key: int, row: Row, generation: int) -> None:
        """Keeps `row` unless the table was written since `generation` was read: it may be stale."""
        if generation != self.generation:
            return
        if len(self._rows) >= self.size:
            self._rows.clear()  # a burst of new people; the next turns refill it
        self._rows[key] = (self.clock() + self.ttl, row)

    def clear(self) -> None:
        self._rows.clear()
        self.generation += 1
