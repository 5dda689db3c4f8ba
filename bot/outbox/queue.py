"""Queueing a message: one INSERT inside the caller's transaction.

The row commits or rolls back with whatever caused it ("bound" and "notice
queued" together), so a crash can neither lose the notice nor queue it twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, exists
from sqlalchemy.ext.asyncio import AsyncSession

from db.core import run
from db.dialect import PerDialect
from db.models import OutboxMessage, User
from db.transaction import Transaction

# Lower sends first.
PRIORITY_TRANSACTIONAL = 0  # join and reward notices
PRIORITY_TIP = 5  # risk-education tips, rule-change notices
PRIORITY_BROADCAST = 9


def _queue_statement(insert, dedup: bool, returning: bool = True):  # noqa: ANN001, ANN202
    # The other columns come from the execute parameters, typed by their columns.
    blocked = exists().where(User.id == bindparam("recipient"), User.status == "blocked")
    stmt = insert(OutboxMessage).values(state=case((blocked, "blocked"), else_="pending"), attempts=0)
    if dedup:
        stmt = stmt.on_conflict_do_nothing(index_elements=[OutboxMessage.dedup_key])
    return stmt.returning(OutboxMessage.state) if returning else stmt


# Built once per dialect: building the INSERT per message cost more than running it.
_QUEUE = PerDialect(lambda insert: {dedup: _queue_statement(insert, dedup) for dedup in (False, True)})
_QUEUE_MANY = PerDialect(lambda insert: _queue_statement(insert, True, returning=False))


@dataclass(frozen=True)
class Queued:
    """One message for enqueue_many."""
    chat_id: int
    kind: str
    text_key: str
    args: dict
    dedup_key: str
    priority: int = PRIORITY_TRANSACTIONAL


def unwanted_now(*, kind: str, priority: int, status: str | None, tips_enabled: bool | None) -> bool:
    """True for a queued row its recipient should no longer get: nothing unasked-for reaches a user
    frozen since it was queued, and no tip one who turned tips off meanwhile. Reward and join
    notices always go (a frozen user keeps what they earned before)."""
    if priority <= PRIORITY_TRANSACTIONAL:
        return False
    return status == "frozen" or (kind == "tip" and tips_enabled is False)


async def enqueue(
    session: AsyncSession | Transaction,
    *,
    chat_id: int,
    kind: str,
    text_key: str,
    args: dict,
    now: datetime,
    priority: int = PRIORITY_TRANSACTIONAL,
    dedup_key: str | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue one message; True when a row that will be sent was added.

    False when `dedup_key` is already taken (the earlier row stands) or the
    recipient has blocked the bot: that row is stored as 'blocked', so the
    attempt is on record and its dedup key is spent, but nothing is sent.
    """
    dialect = session.get_bind().dialect.name
    try:
        stmt = _QUEUE[dialect][dedup_key is not None]
    except KeyError:
        raise NotImplementedError(f"outbox enqueue on {dialect}") from None
    row = (await run(session, stmt, dict(
        recipient=chat_id, chat_id=chat_id, kind=kind, priority=priority, text_key=text_key, args=args, dedup_key=dedup_key,
        not_before=not_before or now, created_at=now))).first()
    return row is not None and row.state == "pending"


async def enqueue_many(session: AsyncSession | Transaction, messages: list[Queued], now: datetime) -> None:
    """enqueue for several messages with dedup keys, in one statement (an event's notices)."""
    if not messages:
        return
    stmt = _QUEUE_MANY[session.get_bind().dialect.name]
    await run(session, stmt, [dict(recipient=m.chat_id, chat_id=m.chat_id, kind=m.kind, priority=m.priority,
                                   text_key=m.text_key, args=m.args, dedup_key=m.dedup_key, not_before=now,
                                   created_at=now) for m in messages])
