"""Which outbox sender instances are alive, on PostgreSQL.

Each running sender holds a session-level advisory lock on (NAMESPACE, its
instance number) on a connection of its own. The lock vanishes with the
process (kill -9 included) or its connection, so "claimed by an instance
whose lock nobody holds" means "claimed by a dead sender": its rows can be
taken back at once, not when their lease lapses. SQLite has no such need: one
process is the only sender, and it takes back everything at start.
"""
from __future__ import annotations

import secrets

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

NAMESPACE = 0x0B0C  # the first key of pg_advisory_lock(int, int): ours, apart from migration locks

_LIVE = text(
    "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND classid = :ns AND objsubid = 2"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


class InstanceLock:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.instance = secrets.randbelow(2**31 - 2) + 1
        self._conn: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None and not self._conn.closed and not self._conn.invalidated

    async def hold(self) -> None:
        """Takes the lock (again, if its connection was lost)."""
        if self.held:
            return
        await self.release()
        conn = await self.engine.connect()
        try:
            await conn.execute(text("SELECT pg_advisory_lock(:ns, :key)"), {"ns": NAMESPACE, "key": self.instance})
            await conn.commit()  # the lock is the session's; no transaction stays open
        except BaseException:
            await conn.close()
            raise
        self._conn = conn

    async def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                # close() alone would hand the connection, lock and all, back to the pool
                await conn.execute(text("SELECT pg_advisory_unlock(:ns, :key)"),
                                   {"ns": NAMESPACE, "key": self.instance})
                await conn.commit()
                await conn.close()
            except Exception:  # noqa: BLE001 - a lost connection has released it already
                await conn.invalidate()


async def live_instances(session: AsyncSession) -> list[int]:
    return list((await session.execute(_LIVE, {"ns": NAMESPACE})).scalars())
