"""Queueing a message: one INSERT inside the caller's transaction.

The row commits or rolls back with whatever caused it ("bound" and "notice
queued" together), so a crash can neither lose the notice nor queue it twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, bindparam, case, cast, exists, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from db.core import run
from db.dialect import INSERTS
from db.models import LedgerEntry, OutboxMessage, User
from db.repositories.ledger import NewEntry

# Lower sends first.
PRIORITY_TRANSACTIONAL = 0  # join and reward notices
PRIORITY_TIP = 5  # risk-education tips, rule-change notices
PRIORITY_BROADCAST = 9


def _initial_state(recipient):  # noqa: ANN001, ANN202
    """A row for someone who blocked the bot is stored as 'blocked': on record, never sent."""
    blocked = exists().where(User.id == recipient, User.status == "blocked")
    return case((blocked, "blocked"), else_="pending")


def _queue_statement(insert, dedup: bool, returning: bool = True):  # noqa: ANN001, ANN202
    # The other columns come from the execute parameters, typed by their columns.
    stmt = insert(OutboxMessage).values(state=_initial_state(bindparam("recipient")), attempts=0)
    if dedup:
        stmt = stmt.on_conflict_do_nothing(index_elements=[OutboxMessage.dedup_key])
    return stmt.returning(OutboxMessage.state) if returning else stmt


# Built once per dialect: building the INSERT per message cost more than running it.
_QUEUE = {(dialect, dedup): _queue_statement(insert, dedup) for dialect, insert in INSERTS.items()
          for dedup in (False, True)}


_QUEUE_MANY = {dialect: _queue_statement(insert, True, returning=False) for dialect, insert in INSERTS.items()}


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
        stmt = _QUEUE[dialect, dedup_key is not None]
    except KeyError:
        raise NotImplementedError(f"outbox enqueue on {dialect}") from None
    row = (await run(session, stmt, dict(
        recipient=chat_id, chat_id=chat_id, kind=kind, priority=priority, text_key=text_key, args=args, dedup_key=dedup_key,
        not_before=not_before or now, created_at=now))).first()
    return row is not None and row.state == "pending"


async def enqueue_many(session: AsyncSession, messages: list[Queued], now: datetime) -> None:
    """enqueue for several messages with dedup keys, in one statement (an event's notices)."""
    if not messages:
        return
    stmt = _QUEUE_MANY[session.get_bind().dialect.name]
    await run(session, stmt, [dict(recipient=m.chat_id, chat_id=m.chat_id, kind=m.kind, priority=m.priority,
                                   text_key=m.text_key, args=m.args, dedup_key=m.dedup_key, not_before=now,
                                   created_at=now) for m in messages])


def _entry_with_notice():  # noqa: ANN202
    """PostgreSQL: one ledger entry and its notice in one statement (a data-modifying CTE). The
    notice's parameters are prefixed where a ledger column has the same name (kind).

    The notice's dedup key names the entry's id, which the INSERT makes; written apart they are two
    trips an event, and this is the events benchmark's hottest path. SQLite has no INSERT in WITH.
    """
    columns = LedgerEntry.__table__.c
    entry = (postgresql.insert(LedgerEntry)
             .values({name: bindparam(name, type_=columns[name].type) for name in NewEntry.__dataclass_fields__})
             .returning(LedgerEntry.id, LedgerEntry.beneficiary_id, LedgerEntry.level, LedgerEntry.rule)
             .cte("entry"))
    out = OutboxMessage.__table__.c
    chat = bindparam("chat_id", type_=out.chat_id.type)
    now = bindparam("now", type_=out.created_at.type)
    notice = (postgresql.insert(OutboxMessage).from_select(
        ["chat_id", "kind", "priority", "text_key", "args", "dedup_key", "state", "attempts", "not_before",
         "created_at"],
        select(chat, bindparam("notice_kind", type_=out.kind.type),
               bindparam("notice_priority", type_=out.priority.type),
               bindparam("text_key", type_=out.text_key.type), bindparam("args", type_=out.args.type),
               literal("entry:") + cast(entry.c.id, String), _initial_state(chat), literal(0), now, now)
        .select_from(entry).where(chat > 0))  # platform-only people (no chat) get no notice
        .on_conflict_do_nothing(index_elements=[OutboxMessage.dedup_key])
        .cte("notice"))
    return select(entry.c.id, entry.c.beneficiary_id, entry.c.level, entry.c.rule).add_cte(notice)


_ENTRY_WITH_NOTICE = _entry_with_notice()


async def add_entries_with_notices(session: AsyncSession, rows: list[tuple[NewEntry, Queued]],
                                   now: datetime) -> list[int]:
    """PostgreSQL only: each entry with its notice (dedup key `entry:<id>`), all in one trip (an
    executemany, pipelined by asyncpg); the entries' ids in the order given."""
    if not rows:
        return []
    found = await run(session, _ENTRY_WITH_NOTICE, [
        dict(entry.__dict__, chat_id=message.chat_id, notice_kind=message.kind, notice_priority=message.priority,
             text_key=message.text_key, args=message.args, now=now) for entry, message in rows])
    ids = {(b, level, rule): entry_id for entry_id, b, level, rule in found}
    return [ids[(e.beneficiary_id, e.level, e.rule)] for e, _ in rows]
