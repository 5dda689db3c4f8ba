from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from db.core import run
from db.dialect import PerDialect, dialect_name
from db.models import Event
from db.types import UTCDateTime
from db.repositories.base import Repository


@dataclass(frozen=True)
class EventRow:
    id: int
    key: str
    type: str
    occurred_at: datetime
    telegram_id: int | None
    external_id: str | None
    user_id: int | None
    target_key: str | None
    amount_fen: int | None
    canonical: str
    outcome: str
    # Whether a reversal of this event arrived first and waits for it; None: not known, look.
    reversal_waiting: bool | None = None


_COLUMNS = (Event.id, Event.key, Event.type, Event.occurred_at, Event.telegram_id, Event.external_id,
            Event.user_id, Event.target_key, Event.amount_fen, Event.canonical, Event.outcome)


# The statements every event runs, built once (values come with each call's parameters).
_waiting = aliased(Event)
# The new row's id, and whether a reversal of it came first: most events have none, and then
# applying them needs no look for one (the intake's lock on the key keeps the answer true).
_INSERT = PerDialect(lambda insert: insert(Event).on_conflict_do_nothing(index_elements=[Event.key]).returning(
    Event.id, exists().where(_waiting.target_key == bindparam("waiting_key"), _waiting.outcome == "pending_target")))
_BY_KEY = select(*_COLUMNS).where(Event.key == bindparam("key"))
_SET_OUTCOME = update(Event).where(Event.id == bindparam("eid")).values(
    outcome=bindparam("new_outcome"), detail=bindparam("new_detail"), applied_at=bindparam("new_applied_at", type_=UTCDateTime()))
_SET_OUTCOME_AND_USER = _SET_OUTCOME.values(user_id=bindparam("new_user_id"))
_prior = aliased(Event)
# Marking an event applied also answers how many of the user's events of its type were applied
# before it: a first loan and the repayment cap ask exactly that, and it saves them a statement.
_MARK_APPLIED = _SET_OUTCOME_AND_USER.returning(
    select(func.count()).select_from(_prior).where(
        _prior.user_id == bindparam("new_user_id"), _prior.type == bindparam("of_type"), _prior.outcome == "applied",
        _prior.id != bindparam("eid")).scalar_subquery())
_REVERSALS_WAITING = select(*_COLUMNS).where(
    Event.target_key == bindparam("target"), Event.outcome == "pending_target").order_by(Event.id)


class EventRepository(Repository):
    async def insert(self, *, key: str, type: str, occurred_at: datetime, received_at: datetime,
                     telegram_id: int | None, external_id: str | None, target_key: str | None,
                     amount_fen: int | None, body: str, canonical: str) -> EventRow | None:
        """The new row, or None when the key is taken (the first delivery stands).

        Built from what was written rather than read back: one statement less per event.
        """
        row = (await run(self.tx, _INSERT[dialect_name(self.tx)], dict(
            key=key, type=type, occurred_at=occurred_at, received_at=received_at, telegram_id=telegram_id,
            external_id=external_id, target_key=target_key, amount_fen=amount_fen, body=body,
            canonical=canonical, outcome="ignored", waiting_key=key,
        ))).first()
        if row is None:
            return None
        return EventRow(row[0], key, type, occurred_at, telegram_id, external_id, None, target_key, amount_fen,
                        canonical, "ignored", reversal_waiting=bool(row[1]))

    async def by_key(self, key: str) -> EventRow | None:
        row = (await run(self.tx, _BY_KEY, {"key": key})).first()
        return EventRow(*row) if row else None

    async def get(self, event_id: int) -> EventRow | None:
        row = (await self.session.execute(select(*_COLUMNS).where(Event.id == event_id))).first()
        return EventRow(*row) if row else None

    async def set_outcome(self, event_id: int, outcome: str, *, user_id: int | None = None,
                          detail: str | None = None, applied_at: datetime | None = None) -> None:
        params = {"eid": event_id, "new_outcome": outcome, "new_detail": detail, "new_applied_at": applied_at}
        if user_id is None:
            await run(self.tx, _SET_OUTCOME, params)
        else:
            await run(self.tx, _SET_OUTCOME_AND_USER, {**params, "new_user_id": user_id})

    async def mark_applied(self, event_id: int, type: str, *, user_id: int, applied_at: datetime) -> int:
        """set_outcome(applied) for the user; returns how many other events of this type the user
        had applied. Under the user's row lock (UserRepository.lock), that count is final."""
        return (await run(self.tx, _MARK_APPLIED, {
            "eid": event_id, "of_type": type, "new_outcome": "applied", "new_detail": None, "new_applied_at": applied_at,
            "new_user_id": user_id})).scalar_one()

    async def waiting_for_user(self, telegram_id: int | None, external_id: str | None) -> list[EventRow]:
        """Events stored before we knew their user, oldest first."""
        conditions = []
        if telegram_id is not None:
            conditions.append(Event.telegram_id == telegram_id)
        if external_id is not None:
            conditions.append(Event.external_id == external_id)
        if not conditions:
            return []
        rows = await self.session.execute(
            select(*_COLUMNS).where(Event.outcome == "pending_user", or_(*conditions))
            .order_by(Event.occurred_at, Event.id))
        return [EventRow(*r) for r in rows]

    async def reversals_waiting_for(self, target_key: str) -> list[EventRow]:
        rows = await run(self.tx, _REVERSALS_WAITING, {"target": target_key})
        return [EventRow(*r) for r in rows]

    async def applied_in_order(self) -> list[tuple[int, str]]:
        rows = await self.session.execute(
            select(Event.id, Event.body).where(Event.outcome != "ignored").order_by(Event.id))
        return [(r[0], r[1]) for r in rows]
