"""Schema migrations with Alembic, configured in code (no alembic.ini needed).

`upgrade(url)` runs at every start of the bot and from `referral-bot migrate`.
It is safe to run again (a no-op at head) and safe to run from several
processes at once: the whole upgrade is one transaction that first takes a
lock, so a second process waits, then finds the schema at head and does
nothing.

* PostgreSQL: a transaction-scoped advisory lock; DDL is transactional, so a
  failed migration leaves nothing behind.
* SQLite: `BEGIN IMMEDIATE` takes the database's write lock up front (other
  writers wait up to the busy timeout); SQLite's DDL is transactional too.
  Foreign keys stay off while migrating, as batch-mode table rebuilds need,
  and `PRAGMA foreign_key_check` must come back empty before the commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest revision in migrations/versions, kept here so a start on a migrated
# database can see that in one SELECT without importing Alembic (with Mako and
# Pygments: ~10 MiB resident and ~0.2 s). A test holds it equal to Alembic's head.
HEAD_REVISION = "0009"
# pg_advisory_xact_lock key shared by every process migrating this database ("RefB").
PG_LOCK_KEY = 0x52656642
SQLITE_BUSY_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class UpgradeResult:
    before: str | None  # revision found; None for an empty database
    after: str | None  # revision now (the head)

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(url: str | None = None) -> "Config":
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser interpolation
    return cfg


def head() -> str | None:
    """The newest revision shipped with this code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _engine(url: str) -> "AsyncEngine":
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    if not _is_sqlite(url):
        return create_async_engine(url, poolclass=NullPool)
    engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn, _record):  # noqa: ANN001
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.close()

    return engine


async def _lock(conn: "AsyncConnection") -> None:
    """Starts the migration transaction holding the lock that serialises migrators."""
    from sqlalchemy import text

    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})


def _current_sync(conn: "Connection") -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def _upgrade_sync(conn: "Connection", url: str, target: str) -> UpgradeResult:
    from alembic import command

    before = _current_sync(conn)
    cfg = alembic_config(url)
    # env.py sees an open transaction and runs the migrations inside it.
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, target)
    return UpgradeResult(before, _current_sync(conn))


async def _stored_revision(conn: "AsyncConnection") -> str | None:
    """alembic_version's row read with plain SQL; None when there is no such table (never migrated)."""
    from sqlalchemy import inspect

    if not await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
        return None
    return (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar()


async def upgrade_to(url: str, target: str = "head") -> UpgradeResult:
    engine = _engine(url)
    try:
        if target == "head":
            async with engine.connect() as conn:
                found = await _stored_revision(conn)
            if found == HEAD_REVISION:
                return UpgradeResult(found, found)
        async with engine.connect() as conn:
            await _lock(conn)
            result = await conn.run_sync(_upgrade_sync, url, target)
            if conn.dialect.name == "sqlite":
                broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).fetchall()
                if broken:
                    raise RuntimeError(f"migration left rows violating foreign keys: {broken[:5]}")
            await conn.commit()
        return result
    finally:
        await engine.dispose()


async def upgrade(url: str) -> None:
    """`alembic upgrade head` on the database at url; run at every start."""
    await upgrade_to(url, "head")


async def current(url: str) -> str | None:
    """The database's revision, None when it was never migrated."""
    engine = _engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current_sync)
    finally:
        await engine.dispose()


def _diff_sync(conn: "Connection") -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from db.models import Base

    ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
    return compare_metadata(ctx, Base.metadata)


async def check(url: str) -> list[Any]:
    """Differences between the database and db/models.py; empty when they agree.

    Also reports a database that is not at the head revision, as
    ("revision", found, head), so a stale schema never passes.
    """
    engine = _engine(url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(_diff_sync)
            found = await conn.run_sync(_current_sync)
    finally:
        await engine.dispose()
    expected = head()
    if found != expected:
        diffs = [("revision", found, expected), *diffs]
    return diffs
