"""The persistent outbox: the one way the bot speaks on its own initiative.

Services `enqueue(...)` rows inside their own transaction and call the
sender's `wake()` after committing; `OutboxSender` drains the table through a
`RateLimiter` that keeps to Telegram's limits.
"""
from bot.outbox.queue import PRIORITY_BROADCAST, PRIORITY_TIP, PRIORITY_TRANSACTIONAL, enqueue
from bot.outbox.ratelimit import InProcessRateLimiter, Limit, RateLimiter
from bot.outbox.sender import OutboxSender, Render

__all__ = [
    "PRIORITY_BROADCAST",
    "PRIORITY_TIP",
    "PRIORITY_TRANSACTIONAL",
    "InProcessRateLimiter",
    "Limit",
    "OutboxSender",
    "RateLimiter",
    "Render",
    "enqueue",
]
