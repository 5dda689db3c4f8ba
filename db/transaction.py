"""A unit of work's transaction: a pooled connection begun at the first statement, and the ORM
session only if something asks for one.

Most units of work (a `/start` turn, a platform event, a binding) run only prebuilt Core
statements (db.core.run), which need a connection in a transaction and nothing else. The ORM
session around that connection (its SessionTransaction, identity map, events, and a greenlet
hand-off each to connect, commit and close) cost ~0.16 ms of CPU a transaction on PostgreSQL
and ~0.1 ms on SQLite, against ~0.22 ms and ~0.12 ms for the whole transaction without it
(measured one statement a transaction; the `/start` turn is ~1.2 ms in all). So the connection
is opened and begun in one hand-off, committed in one, and closed in one, and statements go to it.

The session is made when `session` is first read: for ORM objects, savepoints, the writes the
read cache listens for (db.engine.on_write), and the services that query through it. If the
connection is open by then, the session is bound to it and takes its transaction over
(join_transaction_mode "control_fully"): its commit commits what ran before it too, its events
hear that commit, and from then on every statement goes through it, as before this module.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import greenlet_spawn


class Transaction:
    __slots__ = ("_sessionmaker", "bind", "_conn", "_session")

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession] | None,
                 session: AsyncSession | None = None) -> None:
        self._sessionmaker = sessionmaker
        self._session = session
        self._conn: AsyncConnection | None = None
        bind = sessionmaker.kw.get("bind") if sessionmaker is not None else None
        self.bind: AsyncEngine | None = bind if bind is not None else (session.bind if session is not None else None)

    @classmethod
    def around(cls, session: AsyncSession) -> "Transaction":
        """For a caller that holds a session already (a repository made outside a unit of work)."""
        return cls(None, session)

    def get_bind(self) -> Any:
        return self.bind

    @property
    def session(self) -> AsyncSession:
        session = self._session
        if session is None:
            assert self._sessionmaker is not None
            if self._conn is not None:
                session = self._sessionmaker(bind=self._conn, join_transaction_mode="control_fully")
            else:
                session = self._sessionmaker()
            self._session = session
        return session

    @property
    def joined(self) -> AsyncSession | None:
        """The session, if one was made: then every statement goes through it."""
        return self._session

    @property
    def watched_tables(self) -> frozenset[str]:
        """Tables whose UPDATE and DELETE the session's hooks must hear (db.engine.on_write)."""
        if self._sessionmaker is None:
            return frozenset()
        return getattr(self._sessionmaker.kw.get("sync_session_class"), "watched_tables", frozenset())

    async def connection(self) -> AsyncConnection:
        """The connection, in a transaction: opened and begun at the first statement, begun
        again at the first statement after a commit."""
        conn = self._conn
        if conn is None:
            assert isinstance(self.bind, AsyncEngine)
            conn = AsyncConnection(self.bind)
            # What AsyncConnection.start() does, and the begin with it: one hand-off, not two.
            conn.sync_connection = conn._assign_proxied(await greenlet_spawn(_open, self.bind.sync_engine))
            self._conn = conn
        elif not conn.sync_connection.in_transaction():  # type: ignore[union-attr]
            await greenlet_spawn(conn.sync_connection.begin)  # type: ignore[union-attr]
        return conn

    async def commit(self) -> None:
        if self._session is not None:
            await self._session.commit()
        elif self._conn is not None and self._conn.in_transaction():
            await greenlet_spawn(self._conn.sync_connection.commit)  # type: ignore[union-attr]

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()
        elif self._conn is not None and self._conn.in_transaction():
            await greenlet_spawn(self._conn.sync_connection.rollback)  # type: ignore[union-attr]

    async def close(self) -> None:
        """Rolls back whatever was not committed and gives the connection back to the pool."""
        session, conn = self._session, self._conn
        try:
            if session is not None:
                try:
                    if session.in_transaction():
                        await session.rollback()
                finally:
                    await session.close()
        finally:
            if conn is not None:
                self._conn = None
                # Closing rolls back a transaction still open, then returns the connection.
                await greenlet_spawn(conn.sync_connection.close)  # type: ignore[union-attr]


def _open(engine: Engine) -> Connection:
    conn = engine.connect()
    try:
        conn.begin()
    except BaseException:
        conn.close()
        raise
    return conn
