"""What a referrer sees about their referrals: counts by level and the newest referees."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.masking import mask_name
from db.uow import UnitOfWork

PAGE_SIZE = 10


@dataclass(frozen=True)
class Referee:
    masked_name: str
    bound_at: datetime


@dataclass(frozen=True)
class InvitesPage:
    counts: dict[int, int]  # level -> count, every level present
    referees: list[Referee]
    page: int
    pages: int


@dataclass
class InvitesService:
    uow: UnitOfWork
    levels: int

    async def counts(self, user_id: int) -> dict[int, int]:
        kept = await self.uow.referrals.counts(user_id)
        return {level: kept.get(level, 0) for level in range(1, self.levels + 1)}

    async def page(self, user_id: int, page: int) -> InvitesPage:
        counts = await self.counts(user_id)
        pages = max(1, -(-counts[1] // PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        rows = await self.uow.referrals.referees(user_id, depth=1, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
        return InvitesPage(counts, [Referee(mask_name(r.first_name), r.bound_at) for r in rows], page, pages)

    async def upline(self, user_id: int) -> list[int]:
        return await self.uow.referrals.upline(user_id, self.levels)
