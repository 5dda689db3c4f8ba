"""A unit of work's transaction (db/transaction.py), on both backends: prebuilt statements run on a
connection of their own until something asks for the ORM session, which then takes that same
transaction over. Whatever the mix, one commit keeps everything and no commit keeps nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from db.core import run
from db.engine import on_write
from db.models import User
from tests.conftest import T0

_NEW_USER = insert(User)
_COUNT = select(func.count()).select_from(User)


def _user(uid: int) -> dict:
    return dict(id=uid, first_name=f"User{uid}", is_bot=False, first_seen_at=T0 + timedelta(seconds=uid),
                role="user", status="active")


def _orm_user(uid: int) -> User:
    return User(**_user(uid))


async def _ids(app) -> list[int]:  # noqa: ANN001
    async with app.uow() as uow:
        return [uid for (uid,) in await run(uow.tx, select(User.id).order_by(User.id))]


def _checked_out(app) -> int:  # noqa: ANN001
    return app.engine.sync_engine.pool.checkedout()


async def test_statements_alone_make_no_session_and_commit_on_their_connection(app):  # noqa: ANN001
    async with app.uow() as uow:
        await run(uow.tx, _NEW_USER, _user(1))
        assert (await run(uow.tx, _COUNT)).scalar_one() == 1
        assert uow.tx.joined is None
        await uow.commit()
    assert await _ids(app) == [1]
    assert _checked_out(app) == 0


async def test_leaving_without_commit_keeps_nothing_and_gives_the_connection_back(app):  # noqa: ANN001
    async with app.uow() as uow:
        await run(uow.tx, _NEW_USER, _user(1))
    with pytest.raises(RuntimeError):
        async with app.uow() as uow:
            await run(uow.tx, _NEW_USER, _user(2))
            raise RuntimeError("a handler failed")
    assert await _ids(app) == []
    assert _checked_out(app) == 0


async def test_a_session_made_after_statements_takes_their_transaction_over(app):  # noqa: ANN001
    async with app.uow() as uow:
        await run(uow.tx, _NEW_USER, _user(1))
        uow.session.add(_orm_user(2))  # the session joins the connection the statement ran on
        # One transaction: the session sees the statement's row, and a statement the session's.
        assert (await uow.session.execute(_COUNT)).scalar_one() == 2
        uow.session.add(_orm_user(3))
        assert (await run(uow.tx, _COUNT)).scalar_one() == 3  # flushed first, as autoflush would
        await uow.commit()
    assert await _ids(app) == [1, 2, 3]

    async with app.uow() as uow:
        await run(uow.tx, _NEW_USER, _user(4))
        uow.session.add(_orm_user(5))
        await uow.session.flush()
    assert await _ids(app) == [1, 2, 3]  # no commit: neither the statement's row nor the session's
    assert _checked_out(app) == 0


async def test_statements_after_a_commit_are_a_new_transaction_that_needs_its_own(app):  # noqa: ANN001
    async with app.uow() as uow:
        await run(uow.tx, _NEW_USER, _user(1))
        await uow.commit()
        await run(uow.tx, _NEW_USER, _user(2))
        await uow.commit()
        await run(uow.tx, _NEW_USER, _user(3))  # never committed
    assert await _ids(app) == [1, 2]


async def test_rollback_undoes_only_what_came_after_the_last_commit(app):  # noqa: ANN001
    async with app.uow() as uow:
        await run(uow.tx, _NEW_USER, _user(1))
        await uow.commit()
        await run(uow.tx, _NEW_USER, _user(2))
        await uow.rollback()
        await run(uow.tx, _NEW_USER, _user(3))
        await uow.commit()
    assert await _ids(app) == [1, 3]


async def test_a_savepoint_after_statements_keeps_them_when_a_race_is_lost_inside_it(app):  # noqa: ANN001
    async with app.uow() as uow:
        await run(uow.tx, _NEW_USER, _user(1))
        with pytest.raises(IntegrityError):
            async with uow.savepoint():
                await run(uow.tx, _NEW_USER, _user(1))  # the same id: the constraint refuses it
        await run(uow.tx, _NEW_USER, _user(2))
        await uow.commit()
    assert await _ids(app) == [1, 2]


async def test_a_write_the_read_cache_listens_for_is_heard_without_a_session_before_it(app):  # noqa: ANN001
    heard = []
    on_write(app.sessionmaker, "users", lambda: heard.append("cleared"))
    async with app.uow() as uow:
        await run(uow.tx, _NEW_USER, _user(1))
        await run(uow.tx, update(User).where(User.id == 1).values(first_name="Renamed"))
        assert uow.tx.joined is not None  # the watched UPDATE went through the session's hook
        await uow.commit()
    assert heard == ["cleared", "cleared"]  # when written, and again at commit (db.engine.on_write)
    async with app.uow() as uow:
        assert (await run(uow.tx, select(User.first_name).where(User.id == 1))).scalar_one() == "Renamed"


async def test_a_unit_of_work_that_runs_nothing_takes_no_connection(app):  # noqa: ANN001
    async with app.uow() as uow:
        assert _checked_out(app) == 0
        await uow.commit()
    assert _checked_out(app) == 0
