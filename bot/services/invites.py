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
    user_id: int  # with bound_at, where the next or previous page starts (never shown)

    @property
    def cursor(self) -> tuple[datetime, int]:
        return self.bound_at, self.user_id


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

    async def page(self, user_id: int, page: int, *, older_than: tuple[datetime, int] | None = None,
                   newer_than: tuple[datetime, int] | None = None) -> InvitesPage:
        """Page `page` (from 0). With a cursor (the last row of the page before it, or the first of
        the page after), read from there; without one, or when the rows moved since (the cursor's
        side is empty), by counting rows from the newest."""
        counts = await self.counts(user_id)
        pages = max(1, -(-counts[1] // PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        refs = self.uow.referrals
        rows = []
        if older_than is not None or newer_than is not None:
            rows = await refs.referees(user_id, depth=1, limit=PAGE_SIZE, older_than=older_than, newer_than=newer_than)
        if not rows:
            rows = await refs.referees(user_id, depth=1, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
        return InvitesPage(counts, [Referee(mask_name(r.first_name), r.bound_at, r.user_id) for r in rows], page,
                           pages)

    async def upline(self, user_id: int) -> list[int]:
        return await self.uow.referrals.upline(user_id, self.levels)
