"""Admin broadcasts: an audience, one outbox row per recipient, progress read back from those rows.

A broadcast is a `broadcasts` row; its deliveries are outbox rows (kind
"broadcast", priority PRIORITY_BROADCAST, dedup key bc:<id>:<chat>) written by
ONE INSERT ... SELECT over users in the transaction that creates it. So the
recipient list is fixed at creation, the rows survive any crash, the sender
resumes them like any other outbox row, and transactional notices (priority 0)
still go first. Progress is a GROUP BY state over those rows.

Audiences: `all`, `lang:<locale>` (the language the bot speaks to the user:
their /language choice, else Telegram's language code, else DEFAULT_LOCALE,
exactly as bot.i18n.resolve_locale decides), `role:agent` / `role:admin`, and
`referrers` (users with at least one direct referral). Recipients are always
active Telegram users (id > 0): never frozen users, never those who blocked
the bot, never bots, never platform-only people.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import JSON, String, and_, case, cast, delete, exists, func, insert, literal, select, update
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import Clock
from bot.config import SUPPORTED_LOCALES
from bot.outbox.queue import PRIORITY_BROADCAST
from db.models import Broadcast, ChatDraft, OutboxMessage, ReferralCount, User
from db.uow import UnitOfWork

KIND = "broadcast"
ROLES = ("agent", "admin")
# The audience buttons of /broadcast, in order; role:admin is for the CLI only.
CHAT_AUDIENCES = ("all", *(f"lang:{locale}" for locale in SUPPORTED_LOCALES), "role:agent", "referrers")
# Outbox states still to be delivered; every other state is final.
OPEN_STATES = ("pending", "sending")
RATE_WINDOW = timedelta(seconds=10)  # the rate shown is over the last ten seconds


class AudienceError(ValueError):
    pass


def parse_audience(raw: str) -> str:
    """The canonical audience string, or AudienceError saying what is allowed."""
    value = raw.strip()
    if value in ("all", "referrers"):
        return value
    kind, _, arg = value.partition(":")
    if kind == "lang" and arg in SUPPORTED_LOCALES:
        return value
    if kind == "role" and arg in ROLES:
        return value
    allowed = ", ".join(["all", *(f"lang:{x}" for x in SUPPORTED_LOCALES), *(f"role:{r}" for r in ROLES), "referrers"])
    raise AudienceError(f"unknown audience {raw!r}; one of: {allowed}")


def effective_locale(default_locale: str) -> ColumnElement[str]:
    """SQL for bot.i18n.resolve_locale(users.language, users.tg_language, default)."""
    tg = func.lower(func.coalesce(User.tg_language, ""))
    return case(
        (User.language.in_(SUPPORTED_LOCALES), User.language),
        (tg.like("en%"), "en"),
        (tg.like("zh%"), "zh-CN"),
        else_=default_locale,
    )


def recipients_filter(audience: str, default_locale: str) -> ColumnElement[bool]:
    audience = parse_audience(audience)
    base = and_(User.id > 0, User.status == "active", User.is_bot.is_(False))
    if audience == "all":
        return base
    if audience == "referrers":
        has_referral = exists().where(ReferralCount.user_id == User.id, ReferralCount.depth == 1,
                                      ReferralCount.count > 0)
        return and_(base, has_referral)
    kind, _, arg = audience.partition(":")
    if kind == "lang":
        return and_(base, effective_locale(default_locale) == arg)
    return and_(base, User.role == arg)


@dataclass(frozen=True)
class BroadcastRow:
    id: int
    created_at: datetime
    created_by: int | None
    via: str
    content: dict
    audience: str
    total: int
    paid: bool
    state: str
    status_chat_id: int | None
    status_message_id: int | None
    finished_at: datetime | None


_COLUMNS = (Broadcast.id, Broadcast.created_at, Broadcast.created_by, Broadcast.via, Broadcast.content,
            Broadcast.audience, Broadcast.total, Broadcast.paid, Broadcast.state, Broadcast.status_chat_id,
            Broadcast.status_message_id, Broadcast.finished_at)


@dataclass(frozen=True)
class Progress:
    broadcast: BroadcastRow
    sent: int
    failed: int
    blocked: int
    left: int
    cancelled: int
    pending: int  # pending or being sent
    rate: float  # messages handled per second, lately
    eta_seconds: float | None  # None: unknown (nothing handled lately) or nothing left

    @property
    def total(self) -> int:
        return self.broadcast.total

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.blocked + self.left + self.cancelled

    @property
    def state(self) -> str:
        return self.broadcast.state


def delivery_args(content: dict, paid: bool) -> dict:
    """What each delivery row carries (see bot.outbox.render.broadcast_content)."""
    if "text" in content:
        args: dict = {"text": str(content["text"])}
    else:
        args = {"copy": [int(content["from_chat_id"]), int(content["message_id"])]}
    if paid:
        args["paid"] = True
    return args


@dataclass
class BroadcastService:
    uow: UnitOfWork
    clock: Clock
    default_locale: str
    paid: bool = False

    async def count(self, audience: str) -> int:
        query = select(func.count()).select_from(User).where(recipients_filter(audience, self.default_locale))
        return int((await self.uow.session.execute(query)).scalar_one())

    async def create(self, *, content: dict, audience: str, actor_id: int | None, via: str,
                     status_chat_id: int | None = None) -> BroadcastRow:
        """The broadcast, its delivery rows and the audit entry, in the caller's transaction."""
        from bot.services.audit import AuditLog

        audience = parse_audience(audience)
        if not ("text" in content or {"from_chat_id", "message_id"} <= content.keys()):
            raise ValueError("content is {'text': ...} or {'from_chat_id': ..., 'message_id': ...}")
        now = self.clock.now()
        session = self.uow.session
        broadcast_id = (await session.execute(
            insert(Broadcast).values(
                created_at=now, created_by=actor_id, via=via, content=content, audience=audience, total=0,
                paid=self.paid, state="running", status_chat_id=status_chat_id,
            ).returning(Broadcast.id)
        )).scalar_one()
        args = literal(delivery_args(content, self.paid), JSON)
        if session.get_bind().dialect.name == "postgresql":
            args = cast(args, JSON)  # PostgreSQL would not take a text parameter for a json column
        rows = select(
            User.id,
            literal(KIND),
            literal(PRIORITY_BROADCAST),
            literal(KIND),
            args,
            literal(f"bc:{broadcast_id}:") + cast(User.id, String),
            literal("pending"),
            literal(0),
            literal(now, Broadcast.created_at.type),
            literal(now, Broadcast.created_at.type),
            literal(broadcast_id),
        ).where(recipients_filter(audience, self.default_locale)).order_by(User.id)
        O = OutboxMessage  # noqa: N806
        inserted = await session.execute(insert(O).from_select(
            [O.chat_id, O.kind, O.priority, O.text_key, O.args, O.dedup_key, O.state, O.attempts, O.not_before,
             O.created_at, O.broadcast_id],
            rows,
        ))
        total = inserted.rowcount
        await session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(total=total))
        self.uow.outbox_queued = True
        await AuditLog(self.uow, self.clock).record(
            "broadcast", actor_id=actor_id, via=via, target=f"broadcast:{broadcast_id}",
            audience=audience, recipients=total, paid=self.paid,
            content=content if "text" not in content else {"text": str(content["text"])[:200]},
        )
        row = await self.get(broadcast_id)
        assert row is not None
        return row

    async def get(self, broadcast_id: int) -> BroadcastRow | None:
        row = (await self.uow.session.execute(select(*_COLUMNS).where(Broadcast.id == broadcast_id))).first()
        return BroadcastRow(*row) if row else None

    async def latest(self) -> BroadcastRow | None:
        row = (await self.uow.session.execute(select(*_COLUMNS).order_by(Broadcast.id.desc()).limit(1))).first()
        return BroadcastRow(*row) if row else None

    async def running(self) -> list[BroadcastRow]:
        rows = await self.uow.session.execute(select(*_COLUMNS).where(Broadcast.state == "running")
                                              .order_by(Broadcast.id))
        return [BroadcastRow(*r) for r in rows]

    async def by_status_message(self, chat_id: int, message_id: int) -> BroadcastRow | None:
        row = (await self.uow.session.execute(select(*_COLUMNS).where(
            Broadcast.status_chat_id == chat_id, Broadcast.status_message_id == message_id))).first()
        return BroadcastRow(*row) if row else None

    async def take_draft(self, user_id: int, nonce: str) -> dict | None:
        """The admin's broadcast draft with this nonce, deleted; None if it is gone or another one.

        The DELETE decides: of two concurrent presses of Confirm only one deletes
        the row (PostgreSQL re-checks it after the first commits), so only one
        broadcast is created.
        """
        draft = await self.uow.drafts.get(user_id)
        if draft is None or draft.kind != KIND or draft.data.get("nonce") != nonce:
            return None
        taken = await self.uow.session.execute(
            delete(ChatDraft).where(ChatDraft.user_id == user_id, ChatDraft.kind == KIND,
                                    ChatDraft.updated_at == draft.updated_at)
        )
        return draft.data if taken.rowcount == 1 else None

    async def set_status_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        await self.uow.session.execute(update(Broadcast).where(Broadcast.id == broadcast_id)
                                       .values(status_chat_id=chat_id, status_message_id=message_id))

    async def progress(self, broadcast_id: int) -> Progress | None:
        broadcast = await self.get(broadcast_id)
        if broadcast is None:
            return None
        session = self.uow.session
        counts = dict((await session.execute(
            select(OutboxMessage.state, func.count()).where(OutboxMessage.broadcast_id == broadcast_id)
            .group_by(OutboxMessage.state)
        )).all())
        now = self.clock.now()
        recent = int((await session.execute(
            select(func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.state == "sent",
                   OutboxMessage.sent_at > now - RATE_WINDOW)
        )).scalar_one())
        # Early on the window is longer than the broadcast's age.
        window = min(RATE_WINDOW, max(now - broadcast.created_at, timedelta(seconds=1)))
        rate = recent / window.total_seconds()
        pending = sum(counts.get(s, 0) for s in OPEN_STATES)
        eta = pending / rate if pending and rate > 0 else None
        return Progress(
            broadcast=broadcast, sent=counts.get("sent", 0), failed=counts.get("failed", 0),
            blocked=counts.get("blocked", 0), left=counts.get("left", 0), cancelled=counts.get("cancelled", 0),
            pending=pending, rate=rate, eta_seconds=eta,
        )

    async def cancel(self, broadcast_id: int, *, actor_id: int | None, via: str) -> int | None:
        """Stops a running broadcast: its undelivered rows become 'cancelled' in one UPDATE.

        Returns how many deliveries were called off, or None when it was not running
        (done, already cancelled or unknown), so a second press changes nothing.
        Rows the sender already holds (at most its concurrency, well under a second
        of sending) may still go out.
        """
        from bot.services.audit import AuditLog

        stopped = await self.uow.session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.state == "running")
            .values(state="cancelled", finished_at=self.clock.now())
        )
        if not stopped.rowcount:
            return None
        called_off = await self.uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.state == "pending")
            .values(state="cancelled", last_error="broadcast cancelled")
            .execution_options(synchronize_session=False)
        )
        await AuditLog(self.uow, self.clock).record(
            "broadcast_cancel", actor_id=actor_id, via=via, target=f"broadcast:{broadcast_id}",
            called_off=called_off.rowcount,
        )
        return called_off.rowcount

    async def finish_if_done(self, broadcast_id: int) -> bool:
        """Marks a running broadcast done once none of its rows is pending or being sent."""
        open_rows = exists().where(OutboxMessage.broadcast_id == broadcast_id,
                                   OutboxMessage.state.in_(OPEN_STATES))
        done = await self.uow.session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.state == "running", ~open_rows)
            .values(state="done", finished_at=self.clock.now())
        )
        return bool(done.rowcount)

