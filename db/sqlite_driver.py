"""aiosqlite under SQLAlchemy with one trip to the database thread per statement.

aiosqlite runs each sqlite3 call on its own worker thread: a queue put, a
thread wake-up and a call_soon_threadsafe back to the loop, about 80 µs here.
SQLAlchemy's adapter makes four such trips for every statement (open a
cursor, execute, fetch the rows, close the cursor), which was most of what a
statement cost on SQLite: a binding of five statements paid twenty. This
cursor does the four steps as one function on that thread.

It queues the function with aiosqlite's `Connection._execute`, the same queue
SQLAlchemy's own adapter reaches into to set the isolation level; pyproject
pins aiosqlite below 1.0 for that reason, and
tests/unit/test_sqlite_driver.py fails if that method goes.
"""
from __future__ import annotations

import collections
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)


def _run(conn, operation: str, parameters: Any, many: bool) -> tuple:  # noqa: ANN001
    """On the database thread: the whole statement, rows included."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        return description, cursor.fetchall() if description else (), cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


async def run_on_thread(adapted: AsyncAdapt_aiosqlite_connection, operation: str, parameters: Any,
                        many: bool = False) -> tuple[list, int]:
    """One statement in one trip, for db/direct.py: (rows, rowcount). The caller holds the
    adapter's execute mutex, as the cursor below does."""
    aio = adapted._connection
    _, rows, rowcount, _ = await aio._execute(_run, aio._conn, operation, parameters, many)
    return rows, rowcount


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor is opened here: that would be a trip of its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None
        self._soft_closed_memoized = {}
        self._rows = collections.deque()
        self._description = None
        self._rowcount = -1
        self._lastrowid = None
        self._arraysize = 1

    @property
    def description(self):  # noqa: ANN201
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self):  # noqa: ANN201
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        aio = self._connection
        async with self._adapt_connection._execute_mutex:
            self._description, rows, self._rowcount, self._lastrowid = await aio._execute(
                _run, aio._conn, operation, parameters, many)
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._trip(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._trip(operation, seq_of_parameters, True)

    async def _async_soft_close(self) -> None:
        return None  # the sqlite3 cursor is closed already

    def close(self) -> None:
        self._rows.clear()

    def nextset(self) -> None:
        raise NotImplementedError("sqlite3 has no result sets after the first")


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor

    # SQLAlchemy's pool rolls back every connection it is given back, even one whose transaction
    # was just committed, and a read-only unit of work commits nothing. sqlite3 does nothing
    # then either, but only on the database thread: skipping the trip saves one per transaction,
    # and leaves no await in the pool's return path for a task cancelled at shutdown to land in
    # (SQLAlchemy logs that at ERROR). No statement is in flight when these are called: SQLAlchemy
    # serialises a connection's calls, so reading the flag from the loop's thread is safe.
    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def _in_transaction(self) -> bool:
        conn = self._connection._connection  # None once closed; super() then does nothing either
        return conn is not None and conn.in_transaction


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module given to create_async_engine(module=...) for SQLite URLs."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        adapted.__class__ = OneTripConnection  # same slots, only the cursor class differs
        return adapted


def one_trip_dbapi() -> OneTripDbapi:
    import sqlite3

    import aiosqlite

    return OneTripDbapi(aiosqlite, sqlite3)
