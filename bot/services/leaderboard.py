"""/top: a group's weekly board of effective invites, and the hourly slot that keeps it quiet.

An invite is effective when the person joined through a member's link, is not a bot, and
stayed GROUP_MIN_STAY_HOURS: still in the group that long after joining, or first left
no sooner than that. Only the first leave counts, so someone who leaves early and
rejoins is never counted: otherwise join, leave, rejoin would game the board.
A join counts in the week (Monday 00:00 in TIMEZONE) in which it became effective,
joined_at + stay, so a Sunday-night join is not lost between two boards.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.services.masking import mask_name
from db.uow import UnitOfWork

TOP_INTERVAL = timedelta(hours=1)  # at most one /top post per group per hour
TOP_SIZE = 10


def is_effective(joined_at: datetime, left_at: datetime | None, now: datetime, stay: timedelta) -> bool:
    if left_at is None:
        return joined_at + stay <= now
    return left_at - joined_at >= stay and joined_at + stay <= now


def week_start(now: datetime, tz: ZoneInfo) -> datetime:
    """The current week's Monday 00:00 in `tz`, in UTC."""
    local = now.astimezone(tz)
    monday = (local - timedelta(days=local.weekday())).date()
    return datetime(monday.year, monday.month, monday.day, tzinfo=tz).astimezone(timezone.utc)


@dataclass(frozen=True)
class Standing:
    owner_id: int
    name: str  # masked
    count: int


@dataclass
class Leaderboard:
    uow: UnitOfWork
    clock: Clock
    stay: timedelta
    tz: ZoneInfo

    async def claim(self, chat_id: int) -> bool:
        """The group's slot for one /top post: False when one was posted within the hour."""
        now = self.clock.now()
        return await self.uow.groups.claim_top(chat_id, now, now - TOP_INTERVAL)

    async def weekly(self, chat_id: int) -> list[Standing]:
        now = self.clock.now()
        start = week_start(now, self.tz)
        joins = await self.uow.groups.link_joins(chat_id, start - self.stay, now - self.stay)
        counts: dict[int, int] = defaultdict(int)
        reached: dict[int, datetime] = {}  # when each owner reached their count, for ties
        for join in sorted(joins, key=lambda j: j.joined_at):
            if is_effective(join.joined_at, join.left_at, now, self.stay):
                counts[join.owner_id] += 1
                reached[join.owner_id] = join.joined_at
        ranked = sorted(counts, key=lambda owner: (-counts[owner], reached[owner], owner))[:TOP_SIZE]
        owners = await self.uow.users.get_many(ranked)
        return [Standing(owner, mask_name(owners[owner].first_name if owner in owners else None), counts[owner])
                for owner in ranked]
