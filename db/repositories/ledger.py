"""Ledger queries. Balances are derived from entries at read time, never kept as counters."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import Event, LedgerEntry, ReferralClosure

EARNING_KINDS = ("reward", "tier_bonus")


@dataclass(frozen=True)
class EntryRow:
    id: int
    event_id: int
    beneficiary_id: int
    level: int
    rule: str
    kind: str
    amount_fen: int
    program_version: int
    referee_id: int | None
    reverses_id: int | None
    available_at: datetime
    requires_check: bool
    lapse_at: datetime | None
    created_at: datetime


_COLUMNS = tuple(getattr(LedgerEntry, f) for f in EntryRow.__dataclass_fields__)


@dataclass(frozen=True)
class NewEntry:
    event_id: int
    beneficiary_id: int
    level: int
    rule: str
    kind: str
    amount_fen: int
    program_version: int
    available_at: datetime
    created_at: datetime
    referee_id: int | None = None
    reverses_id: int | None = None
    requires_check: bool = False
    lapse_at: datetime | None = None


def state_case(approved_at: datetime | None, now: datetime, reversed_):  # noqa: ANN001, ANN201
    """An earning's state in SQL; the same rule as bot.services.rewards.balances.entry_state."""
    e = LedgerEntry
    if approved_at is None:
        lapsed = and_(e.requires_check, e.lapse_at <= now)
        held = e.requires_check
    else:
        lapsed = and_(e.requires_check, e.lapse_at < approved_at)
        held = false()
    return case((reversed_, "reversed"), (lapsed, "lapsed"), (or_(held, e.available_at > now), "pending"),
                else_="available")


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: NewEntry) -> int:
        obj = LedgerEntry(**entry.__dict__)
        self.session.add(obj)
        await self.session.flush()
        return obj.id

    async def of_event(self, event_id: int) -> list[EntryRow]:
        rows = await self.session.execute(select(*_COLUMNS).where(LedgerEntry.event_id == event_id)
                                          .order_by(LedgerEntry.id))
        return [EntryRow(*r) for r in rows]

    async def unreversed_of_event(self, event_id: int) -> list[EntryRow]:
        rev = aliased(LedgerEntry)
        rows = await self.session.execute(
            select(*_COLUMNS).outerjoin(rev, rev.reverses_id == LedgerEntry.id)
            .where(LedgerEntry.event_id == event_id, LedgerEntry.kind.in_(EARNING_KINDS), rev.id.is_(None))
            .order_by(LedgerEntry.id))
        return [EntryRow(*r) for r in rows]

    async def count_unreversed(self, *, beneficiary_id: int, referee_id: int, rule: str, level: int) -> int:
        rev = aliased(LedgerEntry)
        return (await self.session.execute(
            select(func.count()).select_from(LedgerEntry).outerjoin(rev, rev.reverses_id == LedgerEntry.id)
            .where(LedgerEntry.beneficiary_id == beneficiary_id, LedgerEntry.referee_id == referee_id,
                   LedgerEntry.rule == rule, LedgerEntry.level == level, rev.id.is_(None)))).scalar_one()

    async def unreversed_tier_entry(self, beneficiary_id: int, rule: str) -> EntryRow | None:
        rev = aliased(LedgerEntry)
        row = (await self.session.execute(
            select(*_COLUMNS).outerjoin(rev, rev.reverses_id == LedgerEntry.id)
            .where(LedgerEntry.beneficiary_id == beneficiary_id, LedgerEntry.rule == rule,
                   LedgerEntry.kind == "tier_bonus", rev.id.is_(None)).limit(1))).first()
        return EntryRow(*row) if row else None

    async def qualified_referees(self, referrer_id: int) -> int:
        """Level-1 referees with an applied, unreversed first loan: what tiers count."""
        reversal = aliased(Event)
        return (await self.session.execute(
            select(func.count(func.distinct(Event.user_id)))
            .join(ReferralClosure, and_(ReferralClosure.descendant_id == Event.user_id,
                                        ReferralClosure.depth == 1, ReferralClosure.ancestor_id == referrer_id))
            .outerjoin(reversal, and_(reversal.target_key == Event.key, reversal.outcome == "applied"))
            .where(Event.type == "first_loan", Event.outcome == "applied", reversal.id.is_(None)))).scalar_one()

    async def state_sums(self, user_id: int, approved_at: datetime | None, now: datetime,
                         since: datetime | None = None) -> dict[tuple[str, int, str], int]:
        """{(state, level, rule): fen} over the user's earnings; payouts under ('paid', 0, 'payout')."""
        rev = aliased(LedgerEntry)
        state = state_case(approved_at, now, rev.id.is_not(None))
        stmt = (select(state, LedgerEntry.level, LedgerEntry.rule, func.sum(LedgerEntry.amount_fen))
                .outerjoin(rev, rev.reverses_id == LedgerEntry.id)
                .where(LedgerEntry.beneficiary_id == user_id, LedgerEntry.kind.in_(EARNING_KINDS))
                .group_by(state, LedgerEntry.level, LedgerEntry.rule))
        if since is not None:
            stmt = stmt.where(LedgerEntry.created_at >= since)
        sums = {(s, int(level), rule): int(total) for s, level, rule, total in await self.session.execute(stmt)}
        paid_stmt = select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
            LedgerEntry.beneficiary_id == user_id, LedgerEntry.kind == "payout")
        if since is not None:
            paid_stmt = paid_stmt.where(LedgerEntry.created_at >= since)
        paid = -int((await self.session.execute(paid_stmt)).scalar_one())
        if paid:
            sums[("paid", 0, "payout")] = paid
        return sums

    async def recent(self, user_id: int, limit: int) -> list[EntryRow]:
        rows = await self.session.execute(
            select(*_COLUMNS).where(LedgerEntry.beneficiary_id == user_id)
            .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(limit))
        return [EntryRow(*r) for r in rows]

    async def all_entries(self) -> list[EntryRow]:
        rows = await self.session.execute(select(*_COLUMNS).order_by(LedgerEntry.id))
        return [EntryRow(*r) for r in rows]

    async def beneficiaries(self) -> list[int]:
        rows = await self.session.execute(select(LedgerEntry.beneficiary_id).distinct())
        return [r[0] for r in rows]
