"""Running a prebuilt Core statement inside a unit of work, without the ORM's execute path.

`session.execute` runs every statement through the ORM: compile hooks, ORM
result handling, execution events. For the column selects and plain inserts
the repositories run on every turn and every event that costs about as much
as the round trip itself. `run` executes on the session's connection (same
transaction) and flushes pending ORM objects first, as autoflush would.

An UPDATE or DELETE of a table someone watches with db.engine.on_write (the
read cache: `users`, `codes`) is sent through `session.execute` instead, where
that hook hears it.

On PostgreSQL a statement with one set of parameters goes straight to asyncpg
(db.asyncpg_direct) when it can be planned, skipping SQLAlchemy's execution path.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession

from db import asyncpg_direct


async def run(session: AsyncSession, statement: Any, params: Any = None) -> Result | asyncpg_direct.Result:
    if (getattr(statement, "is_dml", False) and not statement.is_insert
            and statement.table.name in getattr(session.sync_session, "watched_tables", ())):
        return await session.execute(statement, params)
    if session.new or session.deleted or session.dirty:
        await session.flush()
    conn = await session.connection()
    if conn.dialect.driver == "asyncpg" and not isinstance(params, list) and not conn.sync_engine.echo:
        plan = asyncpg_direct.plan_for(statement, conn.dialect, params)
        if plan is not None:
            return await asyncpg_direct.execute(conn, plan, params)
    return await conn.execute(statement, params)
