"""Engine and session factory for SQLite (aiosqlite, WAL) and PostgreSQL (asyncpg)."""
from __future__ import annotations

from typing import Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine, AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from db.sqlite_driver import one_trip_dbapi


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, pool_size: int = 20, echo: bool = False) -> AsyncEngine:
    if is_sqlite(url):
        # One connection: SQLite has one writer, and connections fighting for
        # the write lock halve throughput and raise "database is locked".
        # :memory: gets SQLAlchemy's StaticPool, which is one connection already.
        pool = {} if ":memory:" in url else {"pool_size": 1, "max_overflow": 0}
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, module=one_trip_dbapi(), **pool)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # A Session class of its own, so on_write's listeners hear this factory's sessions only.
    own = type("AppSession", (Session,), {})
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=own)


def on_write(sessionmaker: async_sessionmaker[AsyncSession], table: str, callback: Callable[[], None]) -> None:
    """Calls `callback` when a session of `sessionmaker` runs an UPDATE or DELETE on `table`,
    and again when that session commits: a reader between the two saw the old row."""
    session_class = sessionmaker.kw["sync_session_class"]
    flag = object()  # this registration's own: two callbacks on one table each hear the commit
    # db.core.run sends UPDATE/DELETE of these tables through the session, where this hook hears them.
    session_class.watched_tables = getattr(session_class, "watched_tables", frozenset()) | {table}

    @event.listens_for(session_class, "do_orm_execute")
    def _executed(state: ORMExecuteState) -> None:
        if (state.is_update or state.is_delete) and getattr(state.statement.table, "name", None) == table:
            state.session.info[flag] = True
            callback()

    @event.listens_for(session_class, "after_flush")
    def _flushed(session: Session, _context: object) -> None:
        # An ORM object changed in memory and flushed: no statement passes do_orm_execute.
        if any(getattr(obj, "__tablename__", None) == table for obj in (*session.dirty, *session.deleted)):
            session.info[flag] = True
            callback()

    @event.listens_for(session_class, "after_commit")
    def _committed(session: Session) -> None:
        if session.info.pop(flag, False):
            callback()

    @event.listens_for(session_class, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop(flag, None)
