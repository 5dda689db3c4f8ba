"""What a referrer asks in chat: balances, the next tier, quality, earnings by level and rule."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.services.rewards.balances import Balance, BalanceService, Earnings
from bot.services.rewards.program import Tier
from bot.services.rewards.quality import quality_score
from db.repositories.ledger import EntryRow
from db.uow import UnitOfWork


@dataclass(frozen=True)
class Overview:
    balance: Balance
    qualified: int
    next_tier: Tier | None
    quality: int
    perk: str

    @property
    def missing(self) -> int:
        return self.next_tier.qualified - self.qualified if self.next_tier else 0


@dataclass(frozen=True)
class EarningsReport:
    month: Earnings
    all_time: Earnings


def month_start(now: datetime, tz: tzinfo) -> datetime:
    local = now.astimezone(tz)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class RewardsView:
    def __init__(self, uow: UnitOfWork, programs, tz: tzinfo) -> None:  # noqa: ANN001
        self.uow = uow
        self.programs = programs
        self.tz = tz

    async def overview(self, user_id: int, locale: str, now: datetime) -> Overview:
        program = await self.programs.in_force(self.uow, now)
        balance = await BalanceService(self.uow).balance(user_id, now)
        qualified = await self.uow.qualified.count(user_id)
        upcoming = [t for t in program.tiers if not await self.uow.ledger.unreversed_tier_entry(user_id, t.rule)]
        next_tier = next((t for t in upcoming if t.qualified > qualified), None)
        return Overview(balance, qualified, next_tier, await quality_score(self.uow, user_id), program.perk(locale))

    async def earnings(self, user_id: int, now: datetime) -> EarningsReport:
        _, all_time, month = await BalanceService(self.uow).summary_since(user_id, now, month_start(now, self.tz))
        return EarningsReport(month, all_time)

    async def recent(self, user_id: int, limit: int = 20) -> list[EntryRow]:
        return await self.uow.ledger.recent(user_id, limit)
