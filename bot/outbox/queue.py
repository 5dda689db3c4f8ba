"""Queueing a message: one INSERT inside the caller's transaction.

The row commits or rolls back with whatever caused it ("bound" and "notice
queued" together), so a crash can neither lose the notice nor queue it twice.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, exists
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import INSERTS
from db.models import OutboxMessage, User

# Lower sends first.
PRIORITY_TRANSACTIONAL = 0  # join and reward notices
PRIORITY_TIP = 5  # risk-education tips, rule-change notices
PRIORITY_BROADCAST = 9


def unwanted_now(*, kind: str, priority: int, status: str | None, tips_enabled: bool | None) -> bool:
    """True for a queued row its recipient should no longer get: nothing unasked-for reaches a user
    frozen since it was queued, and no tip one who turned tips off meanwhile. Reward and join
    notices always go (a frozen user keeps what they earned before)."""
    if priority <= PRIORITY_TRANSACTIONAL:
        return False
    return status == "frozen" or (kind == "tip" and tips_enabled is False)


async def enqueue(
    session: AsyncSession,
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
        insert = INSERTS[dialect]
    except KeyError:
        raise NotImplementedError(f"outbox enqueue on {dialect}") from None
    blocked = exists().where(User.id == chat_id, User.status == "blocked")
    stmt = insert(OutboxMessage).values(
        chat_id=chat_id,
        kind=kind,
        priority=priority,
        text_key=text_key,
        args=args,
        dedup_key=dedup_key,
        state=case((blocked, "blocked"), else_="pending"),
        attempts=0,
        not_before=not_before or now,
        created_at=now,
    )
    if dedup_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=[OutboxMessage.dedup_key])
    row = (await session.execute(stmt.returning(OutboxMessage.state))).first()
    return row is not None and row.state == "pending"
