"""Alembic migrations build exactly db/models.py's schema, on SQLite and (with
TEST_DATABASE_URL) PostgreSQL, and are safe to run at every start, even from
several processes at once.

On PostgreSQL each test makes its own database on the TEST_DATABASE_URL server
and drops it afterwards, so the shared database is never touched.
"""
from __future__ import annotations

import asyncio
import re
import tomllib
import uuid
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from db.migrate import HEAD_REVISION, MIGRATIONS_DIR, check, current, head, upgrade, upgrade_to
from db.models import Base
from tests.support import BACKENDS, PG_URL, pg_admin

ROOT = Path(__file__).resolve().parents[2]
HEAD = head()  # the newest revision shipped; every test migrates to it


async def _pg_admin(statement: str) -> None:
    await pg_admin(PG_URL, statement)


class Databases:
    """Fresh, empty databases for one test; PostgreSQL ones are dropped at the end."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend, self.tmp_path, self.pg_names = backend, tmp_path, []

    async def new(self) -> str:
        name = f"rb_mig_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp_path / name}.db"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        self.pg_names.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        for name in self.pg_names:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
async def dbs(request, tmp_path):  # noqa: ANN001, ANN201
    databases = Databases(request.param, tmp_path)
    yield databases
    await databases.drop_all()


def _norm(value: Any) -> Any:
    """Reflection output as plain, comparable data (types and clauses as SQL text)."""
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return re.sub(r"\s+", " ", str(value)).strip()


def _snapshot_sync(conn) -> dict:  # noqa: ANN001
    insp = inspect(conn)
    out = {}
    for table in sorted(insp.get_table_names()):
        if table == "alembic_version":
            continue
        out[table] = {
            "columns": _norm([{k: c[k] for k in ("name", "type", "nullable", "default", "autoincrement") if k in c}
                              for c in insp.get_columns(table)]),
            "pk": _norm(insp.get_pk_constraint(table)),
            "fks": _norm(sorted(insp.get_foreign_keys(table), key=lambda f: f["name"] or "")),
            "uniques": _norm(sorted(insp.get_unique_constraints(table), key=lambda u: u["name"] or "")),
            "checks": _norm(sorted(insp.get_check_constraints(table), key=lambda c: c["name"] or "")),
            "indexes": _norm(sorted(insp.get_indexes(table), key=lambda i: i["name"] or "")),
        }
    return out


async def _engine_run(url: str, fn):  # noqa: ANN001, ANN202
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            result = await conn.run_sync(fn)
            await conn.commit()
            return result
    finally:
        await engine.dispose()


async def snapshot(url: str) -> dict:
    return await _engine_run(url, _snapshot_sync)


async def test_upgrade_builds_exactly_the_models_schema(dbs: Databases) -> None:
    migrated = await dbs.new()
    await upgrade(migrated)
    # Alembic's own comparison (columns, types, nullability, server defaults,
    # indexes, unique constraints, foreign keys) finds nothing to do...
    assert await check(migrated) == []
    assert await current(migrated) == head() == HEAD
    # ...and, as it ignores CHECK constraints and constraint names, compare
    # everything the database reflects against a create_all of the models.
    reference = await dbs.new()
    await _engine_run(reference, Base.metadata.create_all)
    got, want = await snapshot(migrated), await snapshot(reference)
    assert set(got) == set(Base.metadata.tables)
    for table in want:
        assert got[table] == want[table], table


async def test_0006_counts_what_the_old_tier_count_counted(dbs: Databases) -> None:
    """The backfill of qualified_referees: bound referees with an applied, unreversed first loan."""
    from datetime import datetime, timezone

    url = await dbs.new()
    await upgrade_to(url, "0005")
    t = Base.metadata.tables
    at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    events: list[tuple[int, str, str, str, str | None]] = []  # (user, key, type, outcome, target)
    for referee in (11, 12, 13, 14):
        events.append((referee, f"fl-{referee}", "first_loan", "applied", None))
    events += [(12, "fl-12b", "first_loan", "ignored", None),  # a second first loan, declined
               (13, "rv-13", "reversal", "applied", "fl-13"),  # 13's loan was reversed
               (14, "rv-14", "reversal", "pending_target", "fl-14")]  # not applied: 14 still counts

    def fill(conn) -> None:  # noqa: ANN001
        conn.execute(t["users"].insert(), [dict(id=u, first_seen_at=at) for u in (1, 11, 12, 13, 14, 15)])
        # 11, 12 and 13 are bound under 1, 14 under 11; 15 took a loan unbound.
        conn.execute(t["bindings"].insert(), [dict(referee_id=r, referrer_id=p, source="link", bound_at=at)
                                              for r, p in ((11, 1), (12, 1), (13, 1), (14, 11))])
        rows = [dict(key=k, type=ty, occurred_at=at, received_at=at, user_id=u, target_key=tg, body="{}",
                     canonical="{}", outcome=o, applied_at=at if o == "applied" else None)
                for u, k, ty, o, tg in events + [(15, "fl-15", "first_loan", "applied", None)]]
        conn.execute(t["events"].insert(), rows)

    def read(conn) -> list[tuple]:  # noqa: ANN001
        q, e = t["qualified_referees"], t["events"]
        return sorted(conn.execute(select(q.c.referee_id, q.c.referrer_id, e.c.key).join(e, e.c.id == q.c.event_id)))

    await _engine_run(url, fill)
    await upgrade_to(url)
    assert await _engine_run(url, read) == [(11, 1, "fl-11"), (12, 1, "fl-12"), (14, 11, "fl-14")]


async def test_0007_gives_every_agent_and_admin_a_menu_at_the_next_start(dbs: Databases) -> None:
    """users.command_menu starts NULL for everyone, so each agent and admin is due a menu, and the
    partial index covering those rows keeps its predicate."""
    from datetime import datetime, timezone

    from db.repositories.users import MenuRow, UserRepository

    url = await dbs.new()
    await upgrade_to(url, "0006")
    at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    await _engine_run(url, lambda c: c.execute(Base.metadata.tables["users"].insert().values(
        [dict(id=u, first_seen_at=at, role=r) for u, r in ((1, "user"), (2, "agent"), (3, "admin"))])))
    await upgrade_to(url)
    assert await check(url) == []

    def menu_index(conn):  # noqa: ANN001, ANN202
        return next(i for i in inspect(conn).get_indexes("users") if i["name"] == "ix_users_menu")

    index = await _engine_run(url, menu_index)
    assert index["column_names"] == ["id"] and not index["unique"]
    where = str(index["dialect_options"].get(f"{'sqlite' if dbs.backend == 'sqlite' else 'postgresql'}_where"))
    assert "role" in where and "command_menu" in where

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            users = UserRepository(session)
            versions = {("agent", None): "agent:x", ("admin", None): "admin:y"}
            assert await users.menus_due(versions) == [MenuRow(2, "agent", None), MenuRow(3, "admin", None)]
            assert await users.set_command_menu(2, "agent:x", was=None)
            assert not await users.set_command_menu(2, "agent:z", was=None)  # the record moved meanwhile
            assert await users.menus_due(versions) == [MenuRow(3, "admin", None)]
    finally:
        await engine.dispose()


async def test_0008_makes_everyone_who_chose_a_language_due_a_menu_in_it(dbs: Databases) -> None:
    """Users who chose a language before 0008 have no menu of their own yet: the widened index
    covers them and the reconcile finds them, in their language; a language with no menu of its
    own counts as none chosen."""
    from datetime import datetime, timezone

    from db.repositories.users import MenuRow, UserRepository

    url = await dbs.new()
    await upgrade_to(url, "0007")
    at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    await _engine_run(url, lambda c: c.execute(Base.metadata.tables["users"].insert().values(
        [dict(id=u, first_seen_at=at, role=r, language=lang, command_menu=menu)
         for u, r, lang, menu in ((1, "user", None, None), (2, "user", "en", None), (3, "agent", "zh-CN", "agent:x"),
                                  (4, "agent", "fr", "agent:x"), (5, "user", "zh-CN", "user@zh-CN:u"))])))
    await upgrade_to(url)
    assert await check(url) == []

    def menu_index(conn):  # noqa: ANN001, ANN202
        return next(i for i in inspect(conn).get_indexes("users") if i["name"] == "ix_users_menu")

    where = str((await _engine_run(url, menu_index))["dialect_options"].get(
        f"{'sqlite' if dbs.backend == 'sqlite' else 'postgresql'}_where"))
    assert "language" in where and "command_menu" in where

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            versions = {("agent", None): "agent:x", ("user", "en"): "user@en:u", ("user", "zh-CN"): "user@zh-CN:u",
                        ("agent", "en"): "agent@en:x", ("agent", "zh-CN"): "agent@zh-CN:x"}
            # 1 keeps the default menu; 4's "fr" has no menu, so theirs is the agent menu they have.
            assert await UserRepository(session).menus_due(versions) == [
                MenuRow(2, "user", None, "en"), MenuRow(3, "agent", "agent:x", "zh-CN")]
    finally:
        await engine.dispose()


async def test_0009_records_group_moves_from_then_on_and_keeps_the_groups_it_found(dbs: Databases) -> None:
    """Moves made before 0009 left no record: the table starts empty, and the groups on record stay."""
    from datetime import datetime, timezone

    url = await dbs.new()
    await upgrade_to(url, "0008")
    at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    await _engine_run(url, lambda c: c.execute(Base.metadata.tables["groups"].insert().values(
        chat_id=-1001, title="Old", type="supergroup", bot_status="member", can_invite=False, updated_at=at)))
    await upgrade_to(url)
    assert await check(url) == []
    moves = Base.metadata.tables["group_moves"]
    groups = Base.metadata.tables["groups"]
    assert await _engine_run(url, lambda c: c.execute(moves.select()).all()) == []
    assert await _engine_run(url, lambda c: c.execute(groups.select().with_only_columns(groups.c.chat_id)).all()) \
        == [(-1001,)]


async def test_partial_unique_index_keeps_its_where_clause(dbs: Databases) -> None:
    url = await dbs.new()
    await upgrade(url)

    def personal_index(conn):  # noqa: ANN001, ANN202
        return next(i for i in inspect(conn).get_indexes("codes") if i["name"] == "uq_codes_personal_owner")

    index = await _engine_run(url, personal_index)
    assert index["unique"] and index["column_names"] == ["owner_id"]
    where = str(index["dialect_options"].get(f"{'sqlite' if dbs.backend == 'sqlite' else 'postgresql'}_where"))
    assert "personal" in where and "kind" in where

    # and it bites: a second personal code for the same owner is refused, a station code is not
    async def exercise() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO users (id, first_name, is_bot, first_seen_at) "
                                        "VALUES (1, 'a', false, CURRENT_TIMESTAMP)"))
                insert = text("INSERT INTO codes (code, owner_id, kind, active, created_at) "
                              "VALUES (:c, 1, :k, true, CURRENT_TIMESTAMP)")
                await conn.execute(insert, {"c": "AAAA2222", "k": "personal"})
                await conn.execute(insert, {"c": "BBBB3333", "k": "station"})
                await conn.execute(insert, {"c": "CCCC4444", "k": "station"})
            with pytest.raises(Exception, match="(?i)unique"):
                async with engine.begin() as conn:
                    await conn.execute(insert, {"c": "DDDD5555", "k": "personal"})
        finally:
            await engine.dispose()

    await exercise()


def test_the_head_kept_for_the_fast_path_is_alembics_head() -> None:
    assert HEAD_REVISION == HEAD


async def test_upgrade_twice_is_a_no_op(dbs: Databases) -> None:
    url = await dbs.new()
    first = await upgrade_to(url)
    assert (first.before, first.after, first.changed) == (None, HEAD, True)
    before = await snapshot(url)
    second = await upgrade_to(url)
    assert (second.before, second.after, second.changed) == (HEAD, HEAD, False)
    assert await snapshot(url) == before
    versions = await _engine_run(url, lambda c: c.execute(text("SELECT version_num FROM alembic_version")).all())
    assert [v[0] for v in versions] == [HEAD]


async def test_concurrent_upgrades_are_harmless(dbs: Databases) -> None:
    """Several instances starting at once: one migrates, the others wait and find head."""
    url = await dbs.new()
    results = await asyncio.gather(*(upgrade_to(url) for _ in range(4)))
    assert sum(r.changed for r in results) == 1
    assert {r.after for r in results} == {HEAD}
    assert await check(url) == []


async def test_a_failed_upgrade_leaves_nothing_behind(dbs: Databases) -> None:
    """The upgrade is one transaction: a clash on the last table undoes the first ones."""
    url = await dbs.new()
    await _engine_run(url, lambda c: c.execute(text("CREATE TABLE outbox (x INTEGER)")))
    with pytest.raises(Exception, match="(?i)outbox"):
        await upgrade(url)
    tables = await _engine_run(url, lambda c: inspect(c).get_table_names())
    assert tables == ["outbox"]
    assert await current(url) is None


def test_check_reports_a_database_that_is_not_at_head(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stale.db'}"
    asyncio.run(_engine_run(url, Base.metadata.create_all))  # right tables, but never migrated
    assert asyncio.run(check(url)) == [("revision", None, HEAD)]


def test_the_package_ships_every_migration_file() -> None:
    """pyproject's package-data must match every file Alembic needs at run time."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["db"]
    db_dir = ROOT / "db"
    needed = [p for p in MIGRATIONS_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert any(p.name == "env.py" for p in needed) and any(p.name == "script.py.mako" for p in needed)
    assert any(p.parent.name == "versions" for p in needed)
    for path in needed:
        rel = path.relative_to(db_dir).as_posix()
        assert any(fnmatch(rel, pattern) and rel.count("/") == pattern.count("/") for pattern in patterns), rel
