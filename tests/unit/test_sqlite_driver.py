"""The SQLite cursor that makes one trip to aiosqlite's thread per statement (db/sqlite_driver.py)."""
from __future__ import annotations

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from db.engine import make_engine
from tests.support import SQLITE_ONLY

pytestmark = SQLITE_ONLY


@pytest.fixture
async def engine(tmp_path):  # noqa: ANN001, ANN201
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/driver.db")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch):  # noqa: ANN001, ANN201
    """Counts what is queued to aiosqlite's thread; fails at once if aiosqlite renames the queueing method."""
    counted = [0]
    original = aiosqlite.Connection._execute

    async def counting(self, fn, *args, **kwargs):  # noqa: ANN001, ANN202
        counted[0] += 1
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return counted


async def test_each_statement_is_one_trip_to_the_database_thread(engine, trips):  # noqa: ANN001
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the transaction's own start, outside the count
        before = trips[0]
        await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        rows = (await conn.execute(text("SELECT id, name FROM t"))).all()
        assert trips[0] - before == 2
        await conn.commit()
    assert [tuple(r) for r in rows] == [(1, "a")]


async def test_rows_rowcount_lastrowid_and_executemany(engine):  # noqa: ANN001
    async with engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "x"}, {"n": "y"}, {"n": "z"}])
        assert inserted.rowcount == 3
        one = await conn.execute(text("INSERT INTO t (name) VALUES ('w')"))
        assert one.lastrowid == 4
        updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 2"))
        assert updated.rowcount == 2
        skipped = await conn.execute(text("INSERT INTO t (name) VALUES ('x') ON CONFLICT (name) DO NOTHING"))
        assert skipped.rowcount == 0
        returned = (await conn.execute(text("INSERT INTO t (name) VALUES ('v') RETURNING id, name"))).one()
        assert tuple(returned) == (5, "v")
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    assert names == ["x", "y", "z!", "w!", "v"]
    async with engine.connect() as conn:  # streamed results still work (the server-side cursor is untouched)
        streamed = await conn.stream(text("SELECT id FROM t ORDER BY id"))
        assert [r[0] async for r in streamed] == [1, 2, 3, 4, 5]


async def test_errors_reach_the_caller_as_sqlalchemy_errors_and_roll_back(engine):  # noqa: ANN001
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('dup')"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('dup')"))
    with pytest.raises(OperationalError):
        async with engine.connect() as conn:
            await conn.execute(text("SELECT nope FROM t"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_commit_and_rollback_with_nothing_open_cost_no_trip(engine, trips):  # noqa: ANN001
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('kept')"))
        before = trips[0]
        await conn.commit()  # a real transaction: one trip
        assert trips[0] - before == 1
        await conn.execute(text("SELECT count(*) FROM t"))  # a read opens no sqlite3 transaction
        before = trips[0]
        await conn.commit()
        await conn.rollback()
        assert trips[0] == before
    before = trips[0]
    async with engine.begin() as conn:  # checked out, written, committed and given back to the pool
        await conn.execute(text("INSERT INTO t (name) VALUES ('also')"))
    assert trips[0] - before == 2  # the INSERT and the COMMIT; the pool's reset rollback is free
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('dropped')"))
        await conn.rollback()  # an open transaction is still rolled back
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    assert names == ["kept", "also"]
