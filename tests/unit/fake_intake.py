"""A stand-in for EventIntake (bot/services/events/intake.py) for tests of its callers.

It validates with the real schema and keeps events by id, answering as the
real intake does: accepted, duplicate (same canonical body), conflict, invalid,
and refused for a payout above what its toy balance holds.
"""
from __future__ import annotations

import asyncio
from datetime import datetime

from bot.services.events.outcome import Submission
from bot.services.events.schema import InvalidEvent, parse_event


class FakeIntake:
    def __init__(self, users: dict[int, dict] | None = None, balance: int = 0) -> None:
        self.events: dict[str, bytes] = {}
        self.submitted: list[tuple[bytes, datetime]] = []
        self.users = users or {}
        self.balance = balance
        self._lock = asyncio.Lock()

    async def submit(self, raw: bytes, *, received_at: datetime) -> Submission:
        self.submitted.append((raw, received_at))
        try:
            event = parse_event(raw)
        except InvalidEvent as exc:
            return Submission.invalid(exc.message)
        async with self._lock:
            await asyncio.sleep(0)  # let concurrent submissions interleave, as a database would
            known = self.events.get(event.id)
            if known is not None:
                return Submission.duplicate() if known == event.canonical else Submission.conflict()
            self.events[event.id] = event.canonical
            if event.type == "payout":
                if event.amount_fen > self.balance:
                    return Submission.refused(f"amount_fen: {event.amount_fen} exceeds the available {self.balance}")
                self.balance -= event.amount_fen
            return Submission.accepted()

    async def user_view(self, telegram_id: int) -> dict | None:
        return self.users.get(telegram_id)
