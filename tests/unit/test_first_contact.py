"""Recording a person on first contact (UserService.touch over UserRepository.get_or_insert).

Every private update touches its sender, so this is on every turn's path: PostgreSQL reads or
creates the row in one statement, SQLite in a read and, for newcomers only, an insert.
"""
from __future__ import annotations

import asyncio

from sqlalchemy import event, func, select

from bot.services.users import TelegramProfile, UserService
from db.models import User
from tests.conftest import T0

STATEMENTS = {  # (a newcomer, someone we know)
    "postgresql": (1, 1),
    "sqlite": (2, 1),
}


def _profile(uid: int, name: str = "Ann") -> TelegramProfile:
    return TelegramProfile(id=uid, first_name=name, username=None, language_code="en", is_bot=False)


def _statements(app) -> list[str]:  # noqa: ANN001
    seen: list[str] = []
    event.listen(app.engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: seen.append(statement))
    return seen


async def _touch(app, profile: TelegramProfile):  # noqa: ANN001, ANN202
    async with app.uow() as uow:
        row, created = await UserService(uow, app.clock, admin_ids=()).touch(profile)
        await uow.commit()
    return row, created


async def test_a_newcomer_is_created_once_and_then_found(app, backend):  # noqa: ANN001
    seen = _statements(app)
    row, created = await _touch(app, _profile(41))
    newcomer = len(seen)
    assert created and row.id == 41 and row.first_name == "Ann" and row.status == "active"
    assert row.first_seen_at == T0 and row.tg_language == "en"
    seen.clear()
    app.clock.advance(hours=1)
    again, created = await _touch(app, _profile(41))
    assert not created and again == row  # first_seen_at stays the first contact's
    assert (newcomer, len(seen)) == STATEMENTS[backend], seen
    async with app.uow() as uow:
        assert (await uow.session.execute(select(func.count()).select_from(User))).scalar_one() == 1


async def test_a_changed_name_is_kept_for_someone_we_know(app):  # noqa: ANN001
    await _touch(app, _profile(42, "Ann"))
    row, created = await _touch(app, _profile(42, "Annabel"))
    assert not created and row.first_name == "Annabel"


async def test_two_first_updates_of_one_person_at_once_create_one_row(app):  # noqa: ANN001
    """The second waits on the first's uncommitted insert, finds it done, and reads the row."""
    first = app.uow()
    uow = await first.__aenter__()
    try:
        mine, created = await UserService(uow, app.clock, admin_ids=()).touch(_profile(43, "First"))
        assert created
        other = asyncio.create_task(_touch(app, _profile(43, "First")))
        await asyncio.sleep(0.3)  # the other is now waiting for this transaction
        assert not other.done()
        await uow.commit()
    finally:
        await first.__aexit__(None, None, None)
    theirs, created = await asyncio.wait_for(other, 10)
    assert not created and theirs == mine


async def test_claiming_the_update_and_recording_its_sender_is_one_statement_on_postgresql(app, backend):  # noqa: ANN001
    async with app.uow() as uow:
        if not uow.users.claims_in_one_statement:
            assert backend == "sqlite"  # it runs UpdateRepository.claim, then touch
            return
    seen = _statements(app)

    async def claim(update_id: int, uid: int):  # noqa: ANN202
        async with app.uow() as uow:
            found = await UserService(uow, app.clock, admin_ids=()).claim_and_touch(update_id, _profile(uid))
            await uow.commit()
        return found

    claimed, row, created = await claim(9001, 44)
    assert (claimed, created, row.id, row.first_seen_at) == (True, True, 44, T0) and len(seen) == 1
    assert await claim(9001, 44) == (False, None, False)  # a redelivery: nothing to do
    claimed, again, created = await claim(9002, 44)
    assert (claimed, created, again) == (True, False, row)
    async with app.uow() as uow:
        assert (await uow.session.execute(select(func.count()).select_from(User))).scalar_one() == 1
        assert not await uow.updates.claim(9002, T0)  # the claims are the ones UpdateRepository keeps
