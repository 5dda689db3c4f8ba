"""Event intake: validate, store once, apply, commit; the same path for the API and `events import`.

The answer is given after the effects are committed, so a 202 means applied
(or stored for a user not known yet) and the platform can read balances at
once. The event key is unique: of fifty concurrent deliveries of one id, one
inserts and applies; the others wait for its commit (PostgreSQL) or its turn
(SQLite's single writer), find the key, and answer duplicate or conflict.
"""
from __future__ import annotations

import hashlib
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import AsyncIterator

from sqlalchemy import text

from bot.app import App
from bot.services.events.applier import EventApplier
from bot.services.events.outcome import Submission
from bot.services.events.schema import InvalidEvent, parse_event
from bot.services.fraud.signals import FraudLimits
from bot.services.profile import ProfileService
from bot.services.rewards.notices import LedgerNotices
from db.core import run
from db.dialect import dialect_name


# The clock difference tolerated between the platform and us, as for signatures (bot/api/signing.py).
MAX_CLOCK_SKEW = timedelta(seconds=300)


class EventIntake:
    def __init__(self, app: App) -> None:
        self.app = app
        self.programs = app.programs

    async def submit(self, raw: bytes, *, received_at: datetime) -> Submission:
        try:
            event = parse_event(raw)
        except InvalidEvent as exc:
            return Submission.invalid(str(exc))
        if event.occurred_at > received_at + MAX_CLOCK_SKEW:
            # A future date would start the hold (and pick the program version) from a time that
            # has not come; the platform's clock or payload is wrong, and it should hear so.
            return Submission.invalid(f"occurred_at: is {event.occurred_at.isoformat()}, after the time it was "
                                      f"received ({received_at.isoformat()}); events must have happened")
        canonical = event.canonical.decode()
        app = self.app
        async with app.uow() as uow:
            await _serialize(uow, event)
            stored = await uow.events.insert(
                key=event.id, type=event.type, occurred_at=event.occurred_at, received_at=received_at,
                telegram_id=event.telegram_id, external_id=event.external_id, target_key=event.event_id,
                amount_fen=event.amount_fen, body=raw.decode("utf-8", errors="replace"), canonical=canonical,
            )
            if stored is None:
                existing = await uow.events.by_key(event.id)
                return Submission.duplicate() if existing.canonical == canonical else Submission.conflict()
            applier = EventApplier(uow, lambda at: self.programs.in_force(uow, at),
                                   LedgerNotices(uow, app.settings.tz), app.settings.referral_levels, app.clock,
                                   FraudLimits.from_settings(app.settings))
            result = await applier.apply(stored, referral_code=event.referral_code)
            await uow.commit()
            queued = uow.outbox_queued
        if queued:
            app.wake_outbox()
        if result.outcome == "refused":
            return Submission.refused(result.detail or "refused")
        return Submission.accepted(outcome=result.outcome, **({"detail": result.detail} if result.detail else {}))

    async def user_view(self, telegram_id: int) -> dict | None:
        async with self.app.uow() as uow:
            return await ProfileService(uow, self.app.settings, self.programs).view(telegram_id, self.app.clock.now())


def _lock_keys(event) -> list[int]:  # noqa: ANN001
    """Who and what this event is about. Events sharing one of these wait for each other's commit, so
    a pending event and the event that settles it (the user's registration or link, a reversal's
    target) never both miss the other under READ COMMITTED (a lost wake-up)."""
    names = {f"event:{event.id}"}
    if event.event_id is not None:
        names.add(f"event:{event.event_id}")
    if event.telegram_id is not None:
        names.add(f"tg:{event.telegram_id}")
    if event.external_id is not None:
        names.add(f"ext:{event.external_id}")
    return sorted(int.from_bytes(hashlib.blake2b(n.encode(), digest_size=8).digest(), "big", signed=True)
                  for n in names)


_LOCK_ALL = text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k")


async def _serialize(uow, event) -> None:  # noqa: ANN001
    if dialect_name(uow.tx) != "postgresql":
        return  # SQLite has one writer: transactions are serial already
    # Sorted, and taken in that order (unnest keeps the array's): two events never wait on each
    # other in a circle. One statement for all of them.
    await run(uow.tx, _LOCK_ALL, {"keys": _lock_keys(event)})


@asynccontextmanager
async def open_intake(settings) -> AsyncIterator[EventIntake]:  # noqa: ANN001
    """An intake on its own App, for `referral-bot events import`."""
    from bot.runtime.launcher import prepare

    app = await prepare(settings)
    try:
        yield EventIntake(app)
    finally:
        await app.close()
