"""db.core.run hands planned statements to the driver directly (db/direct.py), on both backends.

The direct path must answer exactly what SQLAlchemy's would, inside the same transaction, and
fail the way SQLAlchemy fails; what it cannot plan takes SQLAlchemy's path.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import bindparam, event, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from db import direct
from db.core import run
from db.models import User
from db.repositories.users import _GET, _GET_MANY
from tests.conftest import T0

_NEW_USER = insert(User)
_NAMES = select(User.id, User.first_name).where(User.first_name.like(bindparam("pattern"))).order_by(User.id)
_RENAME = text("UPDATE users SET first_name = first_name || '!' WHERE id >= :low")


def _user(uid: int, **extra) -> dict:  # noqa: ANN003
    return dict(id=uid, first_name=f"User{uid}", is_bot=False, first_seen_at=T0 + timedelta(seconds=uid),
                role="user", status="active", **extra)


async def test_rows_equal_sqlalchemy_s_own_including_type_processing(app):  # noqa: ANN001
    async with app.uow() as uow:
        for uid in (1, 2, 3):
            await run(uow.session, _NEW_USER, _user(uid))
        row = (await run(uow.session, _GET, {"uid": 2})).first()
        through_sqlalchemy = (await uow.session.execute(_GET, {"uid": 2})).first()
        assert tuple(row) == tuple(through_sqlalchemy)
        assert row.first_seen_at == T0 + timedelta(seconds=2) and row.first_seen_at.tzinfo is not None
        assert [tuple(r) for r in await run(uow.session, _NAMES, {"pattern": "User%"})] == \
            [(1, "User1"), (2, "User2"), (3, "User3")]
        assert (await run(uow.session, _RENAME, {"low": 2})).rowcount == 2
        assert (await run(uow.session, _NAMES, {"pattern": "%!"})).all() == [(2, "User2!"), (3, "User3!")]
        dialect = uow.session.bind.dialect
        assert direct.supports(dialect) and direct.plan_for(_GET, dialect, {"uid": 2}) is not None


async def test_constant_column_defaults_are_filled_in_as_sqlalchemy_would(app):  # noqa: ANN001
    async with app.uow() as uow:
        await run(uow.session, _NEW_USER, _user(5))  # tips_enabled is left to its default
        await uow.commit()
    async with app.uow() as uow:
        assert (await uow.session.execute(select(User.tips_enabled).where(User.id == 5))).scalar_one() is True


async def test_the_first_statement_is_inside_the_transaction(app):  # noqa: ANN001
    async with app.uow() as uow:
        await run(uow.session, _NEW_USER, _user(7))
        await uow.rollback()
    async with app.uow() as uow:
        await run(uow.session, _NEW_USER, _user(8))
        await uow.commit()
    async with app.uow() as uow:
        ids = (await uow.session.execute(select(User.id).where(User.id.in_([7, 8])))).scalars().all()
    assert ids == [8]


async def test_a_constraint_violation_is_sqlalchemy_s_integrity_error_and_the_session_recovers(app):  # noqa: ANN001
    async with app.uow() as uow:
        await run(uow.session, _NEW_USER, _user(9))
        await uow.commit()
    async with app.uow() as uow:
        with pytest.raises(IntegrityError):
            await run(uow.session, _NEW_USER, _user(9))
        await uow.rollback()
        assert (await run(uow.session, _GET, {"uid": 9})).first().id == 9
    async with app.uow() as uow:  # the pooled connection is usable again
        assert (await uow.session.execute(select(func.count()).select_from(User))).scalar_one() == 1


@contextmanager
def _statements_heard(app) -> Iterator[list[str]]:  # noqa: ANN001
    """The SQL a `before_cursor_execute` listener hears while the block runs."""
    seen: list[str] = []

    def listen(conn, cursor, statement, *rest):  # noqa: ANN001, ANN002
        seen.append(statement)

    event.listen(app.engine.sync_engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", listen)


async def test_statement_listeners_hear_direct_statements(app):  # noqa: ANN001
    with _statements_heard(app) as seen:
        async with app.uow() as uow:
            await run(uow.session, _GET, {"uid": 1})
    assert len(seen) == 1 and seen[0].lstrip().upper().startswith("SELECT")


async def test_what_cannot_be_planned_takes_sqlalchemy_s_path(app):  # noqa: ANN001
    async with app.uow() as uow:
        for uid in (11, 12):
            await run(uow.session, _NEW_USER, _user(uid))
        # An expanding IN list is rendered per call by SQLAlchemy: no plan, same answer.
        assert direct.plan_for(_GET_MANY, uow.session.bind.dialect, {"ids": [11, 12]}) is None
        rows = (await run(uow.session, _GET_MANY, {"ids": [11, 12, 13]})).all()
        assert sorted(r[0] for r in rows) == [11, 12]


async def test_executemany_goes_to_the_driver_and_returns_each_parameter_set_s_rows(app, backend):  # noqa: ANN001
    dialect = app.engine.dialect
    assert direct.supports(dialect, many=True)
    # sqlite3 cannot return rows from an executemany: SQLAlchemy renders one multi-row INSERT there.
    assert direct.supports(dialect, many=True, returns_rows=True) == (backend == "postgresql")
    with _statements_heard(app) as seen:
        async with app.uow() as uow:
            await run(uow.session, _NEW_USER, [_user(14), _user(15)])
            returned = await run(uow.session, _NEW_USER.returning(User.id, User.first_name),
                                 [_user(17), _user(16), _user(18)])
            assert [tuple(r) for r in returned] == [(17, "User17"), (16, "User16"), (18, "User18")]
            with pytest.raises(IntegrityError):
                await run(uow.session, _NEW_USER, [_user(19), _user(14)])
    assert len(seen) == 3  # one statement (one trip) per executemany
    async with app.uow() as uow:
        assert (await uow.session.execute(select(func.count()).select_from(User))).scalar_one() == 0


async def test_a_savepoint_rolled_back_undoes_only_its_own_direct_writes(app):  # noqa: ANN001
    async with app.uow() as uow:
        await run(uow.session, _NEW_USER, _user(21))
        async with uow.savepoint() as savepoint:
            await run(uow.session, _NEW_USER, _user(22))
            await savepoint.rollback()
        await run(uow.session, _NEW_USER, _user(23))
        await uow.commit()
    async with app.uow() as uow:
        ids = (await uow.session.execute(select(User.id).order_by(User.id))).scalars().all()
    assert ids == [21, 23]


async def test_a_lost_connection_is_invalidated_and_the_next_unit_of_work_reconnects(app, backend):  # noqa: ANN001
    if backend != "postgresql":
        pytest.skip("a server-side disconnect is PostgreSQL's")
    async with app.uow() as uow:
        await run(uow.session, _NEW_USER, _user(31))
        await uow.commit()
    async with app.uow() as uow:
        pid = (await run(uow.session, text("SELECT pg_backend_pid()"))).scalar_one()
        async with app.engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as lost:
            await run(uow.session, _GET, {"uid": 31})
        assert lost.value.connection_invalidated
    async with app.uow() as uow:
        assert (await run(uow.session, _GET, {"uid": 31})).first().id == 31
