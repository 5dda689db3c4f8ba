"""Agents' station codes, the visits to their links, and the residents they brought in.

Every figure is one aggregate statement over all of an agent's stations at
once (never a query per resident): the funnel is five GROUP BY code_id
statements, the CSV one joined SELECT.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, and_, bindparam, case, func, select, update

from db.core import run
from db.dialect import PerDialect, dialect_name
from db.models import Binding, Code, CodeVisit, Event, User
from db.repositories.codes import _COLUMNS as CODE_COLUMNS, CodeRow
from db.types import UTCDateTime
from db.repositories.base import Repository


@dataclass(frozen=True)
class StationRow:
    code: CodeRow
    bound: int  # residents bound through this code, all time


@dataclass(frozen=True)
class Counts:
    """One funnel step of one station: today, this week, all time."""

    today: int = 0
    week: int = 0
    total: int = 0


@dataclass(frozen=True)
class ResidentRow:
    code_id: int
    label: str | None  # the station's label when they were bound
    first_name: str
    bound_at: datetime
    credit_approved_at: datetime | None
    first_loan_at: datetime | None
    on_time_repayments: int


def _count_if(condition):  # noqa: ANN001, ANN202
    # SUM(CASE ...) rather than FILTER: one spelling that both dialects run.
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _periods(moment):  # noqa: ANN001, ANN202
    """(today, this week, all time) row counts, by `moment` against the :day and :week starts."""
    return (_count_if(moment >= bindparam("day", type_=moment.type)),
            _count_if(moment >= bindparam("week", type_=moment.type)), func.count())


def _record_visit(insert):  # noqa: ANN001, ANN202
    station = select(Code.id, bindparam("uid", type_=BigInteger()), bindparam("now", type_=UTCDateTime())).where(
        Code.code == bindparam("code"), Code.kind == "station", Code.owner_id != bindparam("uid"))
    return insert(CodeVisit).from_select([CodeVisit.code_id, CodeVisit.user_id, CodeVisit.visited_at], station) \
        .on_conflict_do_nothing(index_elements=[CodeVisit.code_id, CodeVisit.user_id])


# Every /start with a code runs it: built once per dialect.
_RECORD_VISIT = PerDialect(_record_visit)


class StationRepository(Repository):
    # -- the codes -------------------------------------------------------------------------

    async def of_owner(self, owner_id: int) -> list[StationRow]:
        """The owner's station codes, oldest first, each with its count of bound residents."""
        bound = (select(Binding.code_id, func.count().label("n")).where(Binding.referrer_id == owner_id)
                 .group_by(Binding.code_id).subquery())
        rows = await self.session.execute(
            select(*CODE_COLUMNS, func.coalesce(bound.c.n, 0))
            .outerjoin(bound, bound.c.code_id == Code.id)
            .where(Code.owner_id == owner_id, Code.kind == "station").order_by(Code.id))
        return [StationRow(CodeRow(*r[:-1]), int(r[-1])) for r in rows]

    async def set_label(self, code_id: int, label: str) -> None:
        await self.session.execute(update(Code).where(Code.id == code_id).values(label=label))

    async def set_active(self, code_id: int, active: bool) -> None:
        await self.session.execute(update(Code).where(Code.id == code_id).values(active=active))

    # -- visits ----------------------------------------------------------------------------

    async def record_visit(self, code: str, user_id: int, now: datetime) -> bool:
        """A visit to `code` when it is someone else's station code, once per (code, person).

        One INSERT ... SELECT, so a /start with a personal code costs a single statement that
        writes nothing. True when a new visit was written.
        """
        result = await run(self.tx, _RECORD_VISIT[dialect_name(self.tx)],
                           {"code": code, "uid": user_id, "now": now})
        return bool(result.rowcount)

    # -- the funnel ------------------------------------------------------------------------

    async def funnel(self, code_ids: list[int], owner_id: int, day: datetime, week: datetime
                     ) -> dict[str, dict[int, Counts]]:
        """Step name → code id → counts. Each step is counted by its own time (see bot/services/residents.py)."""
        if not code_ids:
            return {}
        params = {"day": day, "week": week}
        mine = and_(Binding.referrer_id == owner_id, Binding.code_id.in_(code_ids))
        queries = {
            "joined": select(CodeVisit.code_id, *_periods(CodeVisit.visited_at))
            .where(CodeVisit.code_id.in_(code_ids)).group_by(CodeVisit.code_id),
            "bound": select(Binding.code_id, *_periods(Binding.bound_at)).where(mine).group_by(Binding.code_id),
            "credit_approved": select(Binding.code_id, *_periods(User.credit_approved_at))
            .join(User, User.id == Binding.referee_id)
            .where(mine, User.credit_approved_at.is_not(None)).group_by(Binding.code_id),
            "on_time": select(Binding.code_id, *_periods(Event.occurred_at))
            .join(Event, Event.user_id == Binding.referee_id)
            .where(mine, Event.type == "repayment_on_time", Event.outcome == "applied").group_by(Binding.code_id),
        }
        # A first loan counts once per resident, at their earliest applied first_loan event.
        first = (select(Event.user_id, func.min(Event.occurred_at).label("at"))
                 .join(Binding, Binding.referee_id == Event.user_id)
                 .where(mine, Event.type == "first_loan", Event.outcome == "applied")
                 .group_by(Event.user_id).subquery())
        queries["first_loan"] = (select(Binding.code_id, *_periods(first.c.at))
                                 .join(first, first.c.user_id == Binding.referee_id).where(mine)
                                 .group_by(Binding.code_id))
        out: dict[str, dict[int, Counts]] = {}
        for step, query in queries.items():
            rows = await self.session.execute(query, params)
            out[step] = {int(code_id): Counts(int(a), int(b), int(c)) for code_id, a, b, c in rows}
        return out

    # -- the export ------------------------------------------------------------------------

    async def residents(self, code_ids: list[int], owner_id: int) -> list[ResidentRow]:
        """Everyone bound through these codes, by station then binding time, with their funnel facts."""
        if not code_ids:
            return []
        mine = and_(Binding.referrer_id == owner_id, Binding.code_id.in_(code_ids))
        first = (select(Event.user_id, func.min(Event.occurred_at).label("at"))
                 .join(Binding, Binding.referee_id == Event.user_id)
                 .where(mine, Event.type == "first_loan", Event.outcome == "applied")
                 .group_by(Event.user_id).subquery())
        repaid = (select(Event.user_id, func.count().label("n"))
                  .join(Binding, Binding.referee_id == Event.user_id)
                  .where(mine, Event.type == "repayment_on_time", Event.outcome == "applied")
                  .group_by(Event.user_id).subquery())
        rows = await self.session.execute(
            select(Binding.code_id, Binding.label, User.first_name, Binding.bound_at, User.credit_approved_at,
                   first.c.at, func.coalesce(repaid.c.n, 0))
            .join(User, User.id == Binding.referee_id)
            .outerjoin(first, first.c.user_id == Binding.referee_id)
            .outerjoin(repaid, repaid.c.user_id == Binding.referee_id)
            .where(mine).order_by(Binding.code_id, Binding.bound_at, Binding.referee_id))
        return [ResidentRow(int(r[0]), r[1], r[2] or "", r[3], r[4], r[5], int(r[6])) for r in rows]
