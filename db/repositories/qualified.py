"""Qualified referees: who counts towards a referrer's tier bonuses (see db.models.QualifiedReferee)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, exists, func, select
from sqlalchemy.orm import aliased

from db.core import run
from db.dialect import PerDialect, dialect_name
from db.models import Binding, Event, QualifiedReferee
from db.repositories.base import Repository

# The table, not the mapped class: these statements load no objects, and an INSERT ... SELECT on the
# class would take the ORM's bulk-insert path.
Q = QualifiedReferee.__table__.c
T = QualifiedReferee.__table__
# A referee counts once: a row already there (never expected: a second first loan is declined
# before it gets here) leaves the count as it is.
_ADD = PerDialect(lambda insert: insert(T).on_conflict_do_nothing(index_elements=[Q.referee_id]))
_DROP = delete(T).where(Q.event_id == bindparam("eid")).returning(Q.referrer_id)
_FORGET = delete(T).where(Q.referee_id == bindparam("uid"))
_first, _reversal = aliased(Event), aliased(Event)
# A user's row as their events and binding say it should be: their first applied first loan, unless
# reversed, counted for their referrer. For a merge, which moves events and bindings between users.
_REQUALIFY = PerDialect(lambda insert: insert(T).from_select(
    [Q.referee_id, Q.referrer_id, Q.event_id, Q.qualified_at],
    select(Event.user_id, Binding.referrer_id, Event.id, func.coalesce(Event.applied_at, Event.received_at))
    .join(Binding, Binding.referee_id == Event.user_id)
    .where(Event.user_id == bindparam("uid"), Event.type == "first_loan", Event.outcome == "applied",
           Event.id == select(func.min(_first.id)).where(
               _first.user_id == Event.user_id, _first.type == "first_loan", _first.outcome == "applied")
           .scalar_subquery(),
           ~exists().where(_reversal.target_key == Event.key, _reversal.outcome == "applied"))
).on_conflict_do_nothing(index_elements=[Q.referee_id]))
_COUNT = select(func.count()).select_from(T).where(Q.referrer_id == bindparam("rid"))
# Tier decisions only need to know whether the count reached the highest tier: at most `cap`
# index entries are read, however many referees a big referrer has.
_capped = select(Q.referee_id).where(Q.referrer_id == bindparam("rid")).limit(bindparam("cap")).subquery()
_COUNT_CAPPED = select(func.count()).select_from(_capped)


class QualifiedRepository(Repository):
    async def add(self, *, referee_id: int, referrer_id: int, event_id: int, at: datetime) -> None:
        await run(self.tx, _ADD[dialect_name(self.tx)],
                  {"referee_id": referee_id, "referrer_id": referrer_id, "event_id": event_id, "qualified_at": at})

    async def drop(self, event_id: int) -> int | None:
        """The first loan `event_id` was reversed: its referee stops counting. Returns the referrer
        it counted for, or None if it counted for nobody."""
        return (await self.session.execute(_DROP, {"eid": event_id})).scalar_one_or_none()

    async def forget(self, referee_id: int) -> None:
        await self.session.execute(_FORGET, {"uid": referee_id})

    async def requalify(self, referee_id: int) -> None:
        """Writes the referee's row from their events and binding, if they qualify and have none."""
        await self.session.execute(_REQUALIFY[dialect_name(self.tx)], {"uid": referee_id})

    async def count(self, referrer_id: int, cap: int | None = None) -> int:
        """The referrer's qualified referees; with `cap`, min(count, cap)."""
        if cap is None:
            return (await run(self.tx, _COUNT, {"rid": referrer_id})).scalar_one()
        return (await run(self.tx, _COUNT_CAPPED, {"rid": referrer_id, "cap": cap})).scalar_one()
