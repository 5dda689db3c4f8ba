"""Risk-education tips: who is due the next one, queued through the outbox in set-based batches.

A user gets tip number `tips_sent mod N` (N = how many tip-1..tip-N the default
locale has), so everyone reads the whole list in order. One run writes with two
statements whatever the number of users: an INSERT ... SELECT of the due users
into the outbox (at most `batch` of them) and an UPDATE of their counters, in
one transaction, so a tip is queued if and only if its counter moved.

Never more than one unasked-for message a day: a tip skips any user whose chat
already has a non-transactional outbox row (priority > 0: a broadcast, a
rule-change notice, an earlier tip) that is due to go out or went out since
local midnight; its dedup key tip:<user>:<local date> makes a second tip that
day impossible even when several instances race.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone, tzinfo

from sqlalchemy import JSON, Integer, String, and_, cast, exists, func, literal, or_, select, update

from bot.outbox.queue import PRIORITY_TIP
from db.dialect import INSERTS
from db.models import OutboxMessage, User
from db.types import UTCDateTime
from db.uow import UnitOfWork

TIP_PREFIX = "tip-"
TIP_KIND = "tip"
# Tips waiting in the outbox at most; at the default 5-minute check that is under 17 a second,
# so tips never take more than about half of the 30 messages/s everything shares.
TIP_BATCH = 5000
# The welcome carries the first-contact risk notice; the first tip comes after a day at the earliest.
FIRST_TIP_AFTER = timedelta(days=1)
# One tip job at a time across PostgreSQL instances (pg_try_advisory_xact_lock key; arbitrary, fixed).
_PG_LOCK_KEY = 0x7469_7073  # "tips"


@dataclass(frozen=True)
class TipSchedule:
    interval_days: int  # 0: no tips at all
    hours: tuple[int, int]  # local [start, end)
    tz: tzinfo
    count: int  # tips in the list

    @classmethod
    def from_settings(cls, settings, i18n) -> "TipSchedule":  # noqa: ANN001
        return cls(settings.tip_interval_days, settings.tip_window, settings.tz, i18n.series(TIP_PREFIX))

    @property
    def enabled(self) -> bool:
        return self.interval_days > 0 and self.count > 0

    def in_window(self, now: datetime) -> bool:
        start, end = self.hours
        return start <= now.astimezone(self.tz).hour < end

    def local_midnight(self, now: datetime) -> datetime:
        day = now.astimezone(self.tz).date()
        return datetime.combine(day, time(0), tzinfo=self.tz).astimezone(timezone.utc)

    def local_date(self, now: datetime) -> str:
        return now.astimezone(self.tz).strftime("%Y-%m-%d")


class TipQueue:
    def __init__(self, uow: UnitOfWork, schedule: TipSchedule, batch: int = TIP_BATCH) -> None:
        self.uow = uow
        self.schedule = schedule
        self.batch = batch

    def _due(self, now: datetime, midnight: datetime):  # noqa: ANN202
        """Users who may get a tip now, as a WHERE clause over users."""
        days = self.schedule.interval_days
        # Counted in local calendar days, so a tip sent at 19:59 does not push the next one past the window.
        last_allowed = midnight - timedelta(days=days - 1)
        other_today = exists().where(
            OutboxMessage.chat_id == User.id,
            OutboxMessage.priority > 0,
            or_(OutboxMessage.state.in_(("pending", "sending")),
                and_(OutboxMessage.state == "sent", OutboxMessage.sent_at >= midnight)),
        )
        return and_(
            User.id > 0,  # platform-only people have no chat with the bot
            User.status == "active",  # neither frozen nor blocked
            User.is_bot.is_(False),
            User.tips_enabled.is_(True),
            User.first_seen_at <= now - FIRST_TIP_AFTER,
            or_(User.last_tip_at.is_(None), User.last_tip_at < last_allowed),
            ~other_today,
        )

    async def _room(self) -> int:
        """How many more tips may be queued now: `batch` minus those still waiting."""
        waiting = await self.uow.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.state == "pending", OutboxMessage.priority == PRIORITY_TIP,
                OutboxMessage.kind == TIP_KIND))
        return max(0, self.batch - int(waiting or 0))

    async def queue_due(self, now: datetime) -> int:
        """Queue the next tip for up to `batch` due users; returns how many were queued. Caller commits."""
        schedule = self.schedule
        if not schedule.enabled or not schedule.in_window(now):
            return 0
        session = self.uow.session
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql" and not await session.scalar(select(func.pg_try_advisory_xact_lock(_PG_LOCK_KEY))):
            return 0  # another instance is queueing tips right now; its dedup keys would win anyway
        room = await self._room()
        if room == 0:
            return 0
        midnight = schedule.local_midnight(now)
        number = User.tips_sent % schedule.count + 1
        picked = (
            select(
                User.id,
                literal(TIP_KIND),
                literal(PRIORITY_TIP, Integer),
                literal(TIP_PREFIX) + cast(number, String),
                literal({}, JSON),
                literal("tip:") + cast(User.id, String) + literal(f":{schedule.local_date(now)}"),
                literal("pending"),
                literal(0, Integer),
                literal(now, UTCDateTime),
                literal(now, UTCDateTime),
            )
            .where(self._due(now, midnight))
            .order_by(User.id)
            .limit(room)
        )
        if dialect == "postgresql":
            # Rows another transaction holds (a conversion, a /settings press) are skipped, not waited
            # for: this job never waits on a user row, so it can take part in no deadlock.
            picked = picked.with_for_update(of=User, key_share=True, skip_locked=True)
        o = OutboxMessage
        stmt = (
            INSERTS[dialect](o)
            .from_select([o.chat_id, o.kind, o.priority, o.text_key, o.args, o.dedup_key, o.state, o.attempts,
                          o.not_before, o.created_at], picked)
            .on_conflict_do_nothing(index_elements=[o.dedup_key])
            .returning(o.chat_id)
        )
        ids = list((await session.execute(stmt)).scalars())
        if ids:
            await session.execute(
                update(User).where(User.id.in_(ids))
                .values(tips_sent=User.tips_sent + 1, last_tip_at=now)
                .execution_options(synchronize_session=False))
            self.uow.outbox_queued = True
        return len(ids)


class TipSettings:
    """A user's own switch for tips (/settings). Reward notices have none: they are about their money."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def enabled(self, user_id: int) -> bool:
        value = await self.uow.session.scalar(select(User.tips_enabled).where(User.id == user_id))
        return bool(value)

    async def set_enabled(self, user_id: int, on: bool) -> None:
        """Sets, not toggles: a replayed or stale button press leaves the choice it names."""
        await self.uow.session.execute(update(User).where(User.id == user_id).values(tips_enabled=on))
