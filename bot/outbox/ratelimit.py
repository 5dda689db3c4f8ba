"""Telegram's send limits as an asyncio rate limiter.

Limits are sliding windows: at most `n` grants in any `per` seconds, for the
bot as a whole, per private chat and per group (negative chat ids). A 429's
`retry_after` pauses every chat. Time and sleep are injected so tests run in
virtual time.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

# Float rounding: sleeping `until - now` can land a hair before `until`.
_EPSILON = 1e-6


class RateLimiter(Protocol):
    """What the outbox sender needs; a Redis-backed version would share it across instances."""

    async def acquire(self, chat_id: int) -> None:
        """Return when one message to `chat_id` may be sent now (and count it)."""

    async def pause(self, seconds: float) -> None:
        """Stop every send for `seconds` (Telegram answered 429 with retry_after)."""


@dataclass(frozen=True)
class Limit:
    count: int
    per: float  # seconds


class _Window:
    """Grant times in the last `limit.per` seconds."""

    __slots__ = ("limit", "grants")

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.grants: deque[float] = deque()

    def earliest(self, now: float) -> float:
        """The first instant at which one more grant keeps every window within the limit."""
        while self.grants and self.grants[0] <= now - self.limit.per:
            self.grants.popleft()
        if len(self.grants) < self.limit.count:
            return now
        return self.grants[-self.limit.count] + self.limit.per

    def idle(self, now: float) -> bool:
        return not self.grants or self.grants[-1] <= now - self.limit.per


class InProcessRateLimiter:
    """One process's view of the limits; correct for a single bot instance."""

    def __init__(
        self,
        *,
        global_limit: Limit = Limit(30, 1.0),
        private_limit: Limit = Limit(1, 1.0),
        group_limit: Limit = Limit(20, 60.0),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        prune_every: int = 4096,
    ) -> None:
        self._global = _Window(global_limit)
        self._private_limit = private_limit
        self._group_limit = group_limit
        self._chats: dict[int, _Window] = {}
        self._clock = clock
        self._sleep = sleep
        self._paused_until = float("-inf")
        self._prune_every = prune_every
        self._grants_since_prune = 0

    async def acquire(self, chat_id: int) -> None:
        while True:
            wait = self.try_acquire(chat_id)
            if wait <= 0:
                return
            # Re-check after sleeping: a pause or another waiter may have
            # taken the slot meanwhile.
            await self._sleep(wait)

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def try_acquire(self, chat_id: int) -> float:
        """Grant and count a send now (returns 0), or return the seconds to wait before asking again.

        Check and record happen with no await in between, so concurrent
        callers in one event loop can never both take the last slot.
        """
        now = self._clock()
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Window(self._group_limit if chat_id < 0 else self._private_limit)
        at = max(now, self._paused_until, self._global.earliest(now), chat.earliest(now))
        if at > now + _EPSILON:
            return at - now
        # Record the exact boundary, not a rounded-down `now`, so the windows stay exact.
        self._global.grants.append(at)
        chat.grants.append(at)
        self._grants_since_prune += 1
        if self._grants_since_prune >= self._prune_every:
            self._prune(now)
        return 0.0

    def _prune(self, now: float) -> None:
        """Forget chats with no grant inside their window, so memory follows the active chats."""
        self._grants_since_prune = 0
        for chat_id in [c for c, w in self._chats.items() if w.idle(now)]:
            del self._chats[chat_id]
