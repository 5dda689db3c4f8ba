"""Running a prebuilt Core statement inside a unit of work, without the ORM's execute path.

`session.execute` runs every statement through the ORM: compile hooks, ORM
result handling, execution events. For the column selects and plain inserts
the repositories run on every turn and every event that costs about as much
as the round trip itself. `run` executes on the unit of work's connection (same
transaction) and, once there is a session, flushes its pending ORM objects first, as
autoflush would.

`on` is a unit of work's Transaction (its connection, until something made the ORM session) or
a session. An UPDATE or DELETE of a table someone watches with db.engine.on_write (the
read cache: `users`, `codes`) is sent through `session.execute` instead, where
that hook hears it.

A statement goes straight to the driver (db.direct) when it can be planned, skipping
SQLAlchemy's execution path; db.direct.supports and Plan say which can.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import SessionTransaction

from db import direct
from db.transaction import Transaction


async def run(on: Transaction | AsyncSession, statement: Any, params: Any = None) -> Result | direct.Result:
    """Runs `statement` in a unit of work's transaction (db.transaction), or a session's."""
    if type(on) is Transaction:
        session = on.joined
        if session is None:
            if _watched(statement, on.watched_tables):
                return await on.session.execute(statement, params)
            return await _on(await on.connection(), statement, params)
    else:
        session = on
    if _watched(statement, getattr(session.sync_session, "watched_tables", ())):
        return await session.execute(statement, params)
    if session.new or session.deleted or session.dirty:
        await session.flush()
    return await _on(await _connection(session), statement, params)


def _watched(statement: Any, tables: Any) -> bool:
    return (getattr(statement, "is_dml", False) and not statement.is_insert
            and statement.table.name in tables)


async def _on(conn: AsyncConnection, statement: Any, params: Any) -> Result | direct.Result:
    dialect = conn.dialect
    many = isinstance(params, list)
    if direct.supports(dialect, many=many) and not conn.sync_engine.echo:
        plan = direct.plan_for(statement, dialect, params[0] if many else params)
        if plan is not None and direct.supports(dialect, many=many, returns_rows=plan.returns_rows):
            return await direct.execute(conn, plan, params)
    return await conn.execute(statement, params)


async def _connection(session: AsyncSession) -> AsyncConnection:
    """session.connection(), remembered for the session's current transaction: each call of
    AsyncSession.connection() is a greenlet hand-off (~0.05 ms), and a turn runs several
    statements in one transaction. Keyed by the innermost transaction, so a SAVEPOINT begun
    since is still emitted by session.connection()."""
    transaction = _current(session)
    known = session.info.get(_CONNECTION)
    if transaction is not None and known is not None and known[0] is transaction and transaction.is_active:
        return known[1]
    conn = await session.connection()
    session.info[_CONNECTION] = (_current(session), conn)
    return conn


def _current(session: AsyncSession) -> SessionTransaction | None:
    sync = session.sync_session
    return sync.get_nested_transaction() or sync.get_transaction()


_CONNECTION = "db.core.connection"
