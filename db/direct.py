"""A prebuilt statement handed to the driver without SQLAlchemy's execution path.

SQLAlchemy's execute costs ~0.09 ms of CPU a statement on top of the driver's own work (greenlet
hand-offs, an execution context, a cursor facade, a result proxy): on a /start turn of three
statements on PostgreSQL that was a fifth of the bot process's CPU. The hot statements are built
once at import (the repositories' module constants), so their SQL, parameter order and type
processing can be worked out once too (a Plan), and each execution is one driver call on the same
connection, in the same transaction, as the session's other statements: asyncpg's prepared
statement on PostgreSQL, one trip to the database thread on SQLite (db/sqlite_driver.py).

What SQLAlchemy would have done is kept: the statement is compiled by the engine's own dialect
(so the SQL is byte for byte what SQLAlchemy sends, and shares asyncpg's prepared-statement cache),
bind and result processors of the column types run (UTCDateTime, SQLite's dates and booleans),
constant column defaults are filled in, the transaction is begun the way the dialect begins it,
a driver error is raised as SQLAlchemy's exception (IntegrityError for a lost race), and
`before_cursor_execute` listeners still hear each statement (with no cursor or context: the tests
and benchmarks that count statements listen there). With echo on, db.core.run takes SQLAlchemy's
path, which logs.

`plan_for` answers None for what it cannot do faithfully (expanding IN lists, callable column
defaults), and db.core.run then takes SQLAlchemy's path, as it does for an executemany that
returns rows on SQLite. On asyncpg an executemany, with or without RETURNING, is one pipelined
trip (asyncpg's `fetchmany`): an event's ledger entries and notices are two or three rows each.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection

from db.sqlite_driver import OneTripDbapi, run_on_thread

_MAX_PLANS = 512  # the repositories hold about a hundred statements; anything past this is not hot


class Plan:
    __slots__ = ("compiled", "sql", "names", "binds", "defaults", "row", "procs", "returns_rows")

    def __init__(self, statement: Any, dialect: Any, keys: list[str]) -> None:
        # As SQLAlchemy compiles: an INSERT or UPDATE without .values() takes its columns from the
        # parameters given, so the keys are part of what a plan is for.
        compiled = statement.compile(dialect=dialect, column_keys=keys)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise _Unplannable("expanding or literal-execute parameters")
        self.compiled = compiled
        self.sql: str = compiled.string
        self.names = tuple(compiled.positiontup or ())
        self.binds = dict(compiled._bind_processors)
        prefetch = [(c, c._default_description_tuple) for c in compiled.insert_prefetch] + \
                   [(c, c._onupdate_description_tuple) for c in compiled.update_prefetch]
        key = compiled._within_exec_param_key_getter if prefetch else None
        defaults = []
        for column, (arg, is_scalar, _callable, _sentinel) in prefetch:
            if not is_scalar:
                raise _Unplannable(f"{column} has a default that is not a constant")
            defaults.append((key(column), arg))
        self.defaults = tuple(defaults)
        columns = compiled._result_columns or []
        # sqlite3's executemany returns no rows: SQLAlchemy renders INSERT ... RETURNING for many
        # parameter sets as one multi-row statement instead, so that stays SQLAlchemy's there.
        # (A text() statement declares no columns: its SQL says whether it returns any.)
        self.returns_rows = bool(columns) or "RETURNING" in self.sql.upper()
        self.row = namedtuple("Row", [c.keyname for c in columns], rename=True) if columns else None
        procs = [c.type._cached_result_processor(dialect, None) for c in columns]
        self.procs = procs if any(procs) else None

    def arguments(self, params: dict[str, Any] | None) -> list[Any]:
        values = self.compiled.construct_params(params or {})
        for key, value in self.defaults:
            values[key] = value
        binds = self.binds
        return [binds[n](values[n]) if n in binds else values[n] for n in self.names]

    def rows(self, records: list) -> list:
        row, procs = self.row, self.procs
        if row is None:  # text() without declared columns: plain tuples, as positional access needs
            return [tuple(r) for r in records]
        if procs is None:
            return [row(*r) for r in records]
        return [row(*[p(v) if p else v for p, v in zip(procs, r)]) for r in records]


class _Unplannable(Exception):
    pass


class Result:
    """The part of SQLAlchemy's Result the repositories use, over rows already fetched."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list, rowcount: int) -> None:
        self._rows, self.rowcount = rows, rowcount

    def __iter__(self):  # noqa: ANN204
        return iter(self._rows)

    def all(self) -> list:
        return list(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one_or_none(self) -> Any:
        if len(self._rows) > 1:
            raise exc.MultipleResultsFound("Multiple rows were found when one or none was required")
        return self.first()

    def one(self) -> Any:
        if not self._rows:
            raise exc.NoResultFound("No row was found when one was required")
        return self.one_or_none()

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]


_plans: dict[tuple[int, tuple[str, ...]], tuple[Any, Any, Plan | None]] = {}


def plan_for(statement: Any, dialect: Any, params: dict[str, Any] | None) -> Plan | None:
    """The statement's Plan for this dialect and these parameter names, made once; None if it
    must take SQLAlchemy's path."""
    keys = tuple(sorted(params)) if params else ()
    entry = _plans.get((id(statement), keys))
    if entry is not None and entry[0] is statement and entry[1] is dialect:
        return entry[2]
    try:
        plan: Plan | None = Plan(statement, dialect, list(keys))
    except _Unplannable:
        plan = None
    if len(_plans) >= _MAX_PLANS:
        _plans.clear()
    # The entry holds the statement, so no other statement can be given its id while it is cached.
    _plans[(id(statement), keys)] = (statement, dialect, plan)
    return plan


def supports(dialect: Any, many: bool = False, returns_rows: bool = False) -> bool:
    """asyncpg, and aiosqlite under db/sqlite_driver.py (make_engine's SQLite engines), where an
    executemany cannot return rows."""
    if isinstance(dialect.loaded_dbapi, OneTripDbapi):
        return not (many and returns_rows)
    return dialect.driver == "asyncpg"


async def execute(conn: AsyncConnection, plan: Plan, params: dict[str, Any] | list[dict[str, Any]] | None) -> Result:
    """Runs `plan` on the connection of a session that has begun (AsyncSession.connection());
    a list of parameter sets is an executemany (see supports)."""
    many = isinstance(params, list)
    args: Any = [plan.arguments(p) for p in params] if many else plan.arguments(params)
    sync = conn.sync_connection
    if sync is not None and (sync._has_events or sync.engine._has_events):
        sync.dispatch.before_cursor_execute(sync, None, plan.sql, args, None, many)
    # The pooled connection the session's transaction holds: no greenlet hand-off to reach it.
    raw = sync._dbapi_connection if sync is not None else None
    if raw is None:
        raw = await conn.get_raw_connection()
    adapted = raw.dbapi_connection  # SQLAlchemy's adapter of the driver: it owns the transaction
    try:
        async with adapted._execute_mutex:
            if conn.dialect.driver == "asyncpg":
                records, count = await _on_asyncpg(adapted, plan.sql, args, many)
            else:
                records, count = await run_on_thread(adapted, plan.sql, args, many)
    except exc.DBAPIError:
        raise
    except Exception as error:  # noqa: BLE001 - re-raised as SQLAlchemy would raise it
        raise await _translated(conn, adapted, plan, args, error) from error
    return Result(plan.rows(records), count)


async def _on_asyncpg(adapted: Any, sql: str, args: list[Any], many: bool) -> tuple[list, int]:
    if adapted._transaction is None:
        await adapted._start_transaction()
    if many:
        # Every parameter set's rows, in order; the count of rows touched is not reported.
        return await adapted._connection.fetchmany(sql, args), -1
    prepared, _ = await adapted._prepare(sql, adapted._invalidate_schema_cache_asof)
    records = await prepared.fetch(*args)
    status = prepared.get_statusmsg()
    # "INSERT 0 1", "UPDATE 3", "SELECT 2": the last word is the row count, as SQLAlchemy reads it.
    return records, int(status.rsplit(" ", 1)[-1]) if status and status[-1].isdigit() else -1


async def _translated(conn: AsyncConnection, adapted: Any, plan: Plan, args: list[Any],
                      error: Exception) -> BaseException:
    dialect = conn.dialect
    try:
        adapted._handle_exception(error)  # raises the adapter's DB-API error for the driver's
    except Exception as dbapi_error:  # noqa: BLE001
        error = dbapi_error
    gone = isinstance(error, dialect.loaded_dbapi.Error) and dialect.is_disconnect(error, adapted, None)
    if gone:
        await conn.invalidate()
    return exc.DBAPIError.instance(plan.sql, args, error, dialect.loaded_dbapi.Error,
                                   connection_invalidated=gone, dialect=dialect)
