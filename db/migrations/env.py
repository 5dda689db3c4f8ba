"""Alembic environment, async (SQLAlchemy asyncio + run_sync, per Alembic's cookbook).

Two ways in:

* `db.migrate.upgrade(url)` (what `referral-bot run` and `referral-bot migrate`
  call) opens the connection itself, takes a lock so concurrent starts wait
  for each other, and hands the connection over in `config.attributes`; the
  migrations then run inside its transaction.
* The `alembic` command line (`alembic -c db/alembic.ini revision
  --autogenerate -m ...`) gets no connection: this file builds an async engine
  from `sqlalchemy.url`, else from DATABASE_URL / .env via bot.config.

SQLite cannot ALTER most things, so migrations there run in batch mode (copy
and rename); the same migration file serves both backends.
"""
from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from db.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from bot.config import settings_or_exit  # only for the bare `alembic` command line

    return settings_or_exit().database_url


def _configure(**kw: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        **kw,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: prints the SQL instead of running it."""
    url = _url()
    _configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"},
               render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    # Inside db.migrate.upgrade's transaction this is a no-op; on its own it
    # is one transaction on PostgreSQL (transactional DDL).
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    section = dict(config.get_section(config.config_ini_section, {}))
    section["sqlalchemy.url"] = _url()
    engine = async_engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
