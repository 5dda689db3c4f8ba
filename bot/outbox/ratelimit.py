"""Telegram's send limits as an asyncio rate limiter.

Limits are sliding windows: at most `n` grants in any `per` seconds, for the
bot as a whole, per private chat and per group (negative chat ids). A 429's
`retry_after` pauses every chat. Time and sleep are injected so tests run in
virtual time.

Paid sends (allow_paid_broadcast) are outside the free 30/s budget: they
count only against `paid_limit` (1,000/s), which free sends count against
too, so the two together never pass it. Per-chat limits apply to both.

`just_under_telegram()` is what the bot runs with: every window a few percent
longer than Telegram's, and sends evenly spaced (one every 1/28.6 s) rather
than in bursts of 30. Exact windows would be tripped by network jitter: a
request granted at the very end of a window can reach Telegram after one
granted a window later, and Telegram counts arrivals. Even spacing keeps about
one request in flight at any instant instead of a burst of them, which is also
what bounds the messages a crash can repeat (see bot/outbox/sender.py).
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

    async def acquire(self, chat_id: int, paid: bool = False) -> None:
        """Return when one message to `chat_id` may be sent now (and count it); `paid`: allow_paid_broadcast."""

    async def pause(self, seconds: float) -> None:
        """Stop every send for `seconds` (Telegram answered 429 with retry_after)."""

    def note(self, chat_id: int) -> None:
        """Count a message sent outside the outbox (a direct reply) without waiting for it."""


@dataclass(frozen=True)
class Limit:
    count: int
    per: float  # seconds

    def widened(self, headroom: float) -> "Limit":
        return Limit(self.count, self.per * (1 + headroom))


# Telegram's documented limits.
TELEGRAM_GLOBAL = Limit(30, 1.0)
TELEGRAM_PRIVATE = Limit(1, 1.0)
TELEGRAM_GROUP = Limit(20, 60.0)
TELEGRAM_PAID = Limit(1000, 1.0)
# How far under them the bot stays (see the module docstring): 28.6 messages/s instead of 30.
HEADROOM = 0.05


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
        global_limit: Limit = TELEGRAM_GLOBAL,
        private_limit: Limit = TELEGRAM_PRIVATE,
        group_limit: Limit = TELEGRAM_GROUP,
        paid_limit: Limit = TELEGRAM_PAID,
        smooth: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        prune_every: int = 4096,
    ) -> None:
        self._global = _Window(global_limit)
        self._paid = _Window(paid_limit)
        # smooth: at most one grant per count-th of a window (free and paid budgets alike).
        self._free_gap = _Window(Limit(1, global_limit.per / global_limit.count)) if smooth else None
        self._paid_gap = _Window(Limit(1, paid_limit.per / paid_limit.count)) if smooth else None
        self._private_limit = private_limit
        self._group_limit = group_limit
        self._chats: dict[int, _Window] = {}
        self._clock = clock
        self._sleep = sleep
        self._paused_until = float("-inf")
        self._prune_every = prune_every
        self._grants_since_prune = 0

    @classmethod
    def just_under_telegram(cls, headroom: float = HEADROOM, **kw: object) -> "InProcessRateLimiter":
        return cls(global_limit=TELEGRAM_GLOBAL.widened(headroom), private_limit=TELEGRAM_PRIVATE.widened(headroom),
                   group_limit=TELEGRAM_GROUP.widened(headroom), paid_limit=TELEGRAM_PAID.widened(headroom),
                   smooth=True, **kw)  # type: ignore[arg-type]

    async def acquire(self, chat_id: int, paid: bool = False) -> None:
        while True:
            wait = self.try_acquire(chat_id, paid)
            if wait <= 0:
                return
            # Re-check after sleeping: a pause or another waiter may have
            # taken the slot meanwhile.
            await self._sleep(wait)

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def try_acquire(self, chat_id: int, paid: bool = False) -> float:
        """Grant and count a send now (returns 0), or return the seconds to wait before asking again.

        Check and record happen with no await in between, so concurrent
        callers in one event loop can never both take the last slot.
        """
        now = self._clock()
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Window(self._group_limit if chat_id < 0 else self._private_limit)
        windows = [self._paid, chat]
        if not paid:
            windows.append(self._global)
        gap = self._paid_gap if paid else self._free_gap
        if gap is not None:
            windows.append(gap)
        at = max(now, self._paused_until, *(w.earliest(now) for w in windows))
        if at > now + _EPSILON:
            return at - now
        # Record the exact boundary, not a rounded-down `now`, so the windows stay exact.
        for window in windows:
            window.grants.append(at)
        self._grants_since_prune += 1
        if self._grants_since_prune >= self._prune_every:
            self._prune(now)
        return 0.0

    def note(self, chat_id: int) -> None:
        # A reply to someone waiting is never held back; the outbox pays for it by waiting longer.
        now = self._clock()
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Window(self._group_limit if chat_id < 0 else self._private_limit)
        for window in (self._paid, chat, self._global, self._free_gap):
            if window is not None:
                window.grants.append(max(now, window.grants[-1]) if window.grants else now)

    def _prune(self, now: float) -> None:
        """Forget chats with no grant inside their window, so memory follows the active chats."""
        self._grants_since_prune = 0
        for chat_id in [c for c, w in self._chats.items() if w.idle(now)]:
            del self._chats[chat_id]
