"""Idempotent commands (/help, /code) read through the read cache and claim their update in memory:
what a user sees stays right, and a warm turn runs no SQL at all."""
from __future__ import annotations

import pytest
from sqlalchemy import bindparam, event, func, select, update

from bot.i18n import I18n, Raw
from bot.services.read_cache import ReadCache
from db.core import run
from db.engine import make_engine, make_sessionmaker
from db.models import HandledUpdate, User
from db.repositories.users import UserRow
from db.uow import UnitOfWork
from handlers.router import CommandRoute
from tests.support import callback, message, person


class StatementLog:
    """Every SQL statement the App's engine runs, while attached."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.statements: list[str] = []
        self._engine = app.engine.sync_engine
        event.listen(self._engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        self.statements.append(statement)

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._record)


async def status_of(app, uid: int) -> str:  # noqa: ANN001
    async with app.uow() as uow:
        return (await uow.users.get(uid)).status


async def test_a_warm_help_and_code_run_no_sql(app, pipeline, transport):
    await pipeline.handle(message(person(21), "/help"))
    await pipeline.handle(message(person(21), "/code"))  # renders, uploads, stores the file_id
    await pipeline.handle(message(person(21), "/code"))  # reads the code with its file_id: cached
    log = StatementLog(app)
    try:
        await pipeline.handle(message(person(21), "/help"))
        await pipeline.handle(message(person(21), "/code"))
    finally:
        log.close()
    assert log.statements == []
    help_text, code = transport.to(21)[-2:]
    assert "/invites" in help_text.text
    assert code.method == "send_photo" and code.photo.file_id == "file-1" and code.photo.data is None


@pytest.mark.parametrize("command", ["/help", "/code", "/invites", "/rewards", "/earnings", "/language", "/settings",
                                     "/rules"])
async def test_a_redelivered_read_only_command_is_answered_once_and_claims_nothing_durable(
        app, pipeline, transport, command):
    update = message(person(22), command)
    await pipeline.handle(update)
    assert await pipeline.handle(update) is None
    assert len(transport.to(22)) == 1
    async with app.uow() as uow:
        stored = await uow.session.scalar(select(func.count()).where(HandledUpdate.update_id == update.update_id))
    assert stored == 0


async def test_a_language_switch_shows_in_the_next_help(pipeline, transport):
    await pipeline.handle(message(person(23, lang="zh-hans"), "/help"))
    assert "我邀请的人" in transport.last(23).text
    await pipeline.handle(callback(person(23, lang="zh-hans"), "lang:en"))
    await pipeline.handle(message(person(23, lang="zh-hans"), "/help"))
    assert "People I invited" in transport.last(23).text


async def test_a_freeze_in_this_process_stops_a_warm_code_at_once(app, pipeline, transport):
    await pipeline.handle(message(person(24), "/code"))
    await pipeline.handle(message(person(24), "/code"))
    async with app.uow() as uow:
        await uow.users.set_status(24, "frozen")
        await uow.commit()
    await pipeline.handle(message(person(24), "/code"))
    assert transport.last(24).method == "send_message" and "冻结" in transport.last(24).text


async def test_a_freeze_by_another_process_shows_once_the_cache_expires(app, pipeline, transport):
    now = [0.0]
    app.user_cache.clock = lambda: now[0]
    await pipeline.handle(message(person(25), "/code"))
    await pipeline.handle(message(person(25), "/code"))
    # The operator CLI's own engine: its writes fire none of this App's hooks.
    other = make_engine(app.settings.database_url)
    try:
        async with UnitOfWork(make_sessionmaker(other)) as uow:
            await uow.users.set_status(25, "frozen")
            await uow.commit()
    finally:
        await other.dispose()
    await pipeline.handle(message(person(25), "/code"))
    assert transport.last(25).method == "send_photo"  # within the TTL: the cached row
    now[0] += app.user_cache.ttl + 1
    await pipeline.handle(message(person(25), "/code"))
    assert transport.last(25).method == "send_message" and "冻结" in transport.last(25).text


async def test_a_blocked_user_who_writes_help_gets_notices_again(app, pipeline):
    await pipeline.handle(message(person(26), "/help"))
    async with app.uow() as uow:  # the outbox got a 403 for them
        await uow.users.set_status(26, "blocked")
        await uow.commit()
    await pipeline.handle(message(person(26), "/help"))
    assert await status_of(app, 26) == "active"


async def test_a_changed_name_is_stored_by_an_idempotent_turn(app, pipeline):
    await pipeline.handle(message(person(27, name="Barbara"), "/help"))
    await pipeline.handle(message(person(27, name="Bob"), "/help"))
    async with app.uow() as uow:
        assert (await uow.users.get(27)).first_name == "Bob"


async def test_first_contact_through_help_is_recorded(app, pipeline):
    await pipeline.handle(message(person(28), "/help"))
    async with app.uow() as uow:
        assert (await uow.users.get(28)) is not None


async def test_writes_clear_the_cache_when_run_and_again_at_commit(app):
    cache = app.user_cache
    async with app.uow() as uow:
        await uow.users.insert_if_absent(user_id=29, first_name="A", username=None, is_bot=False,
                                         tg_language=None, now=app.clock.now())
        await uow.commit()
    generation = cache.generation
    async with app.uow() as uow:
        await uow.users.set_language(29, "en")
        assert cache.generation == generation + 1  # when the UPDATE runs
        await uow.commit()
    assert cache.generation == generation + 2  # and when it commits
    async with app.uow() as uow:
        await uow.users.set_language(29, "zh-CN")
        await uow.rollback()
    assert cache.generation == generation + 3  # a rollback: nothing more to clear
    async with app.uow() as uow:
        await uow.codes.insert(code="ABCDEFGH", owner_id=29, kind="personal", label=None, now=app.clock.now())
        await uow.commit()
    assert cache.generation == generation + 3  # another table, and an INSERT


async def test_a_write_sent_through_the_core_shortcut_clears_the_cache_too(app):
    """db.core.run skips the ORM's execute path; an UPDATE of a watched table must not skip the hook."""
    async with app.uow() as uow:
        await uow.users.insert_if_absent(user_id=30, first_name="A", username=None, is_bot=False,
                                         tg_language=None, now=app.clock.now())
        await uow.commit()
    generation = app.user_cache.generation
    async with app.uow() as uow:
        await run(uow.session, update(User).where(User.id == bindparam("uid")).values(status="frozen"), {"uid": 30})
        assert app.user_cache.generation == generation + 1
        await run(uow.session, update(HandledUpdate).values(handled_at=app.clock.now()))  # not watched
        assert app.user_cache.generation == generation + 1
        await uow.commit()
    assert app.user_cache.generation == generation + 2
    async with app.uow() as uow:
        assert (await uow.users.get(30)).status == "frozen"


async def test_a_flushed_orm_change_clears_the_cache_too(app):
    async with app.uow() as uow:
        await uow.users.insert_if_absent(user_id=31, first_name="A", username=None, is_bot=False,
                                         tg_language=None, now=app.clock.now())
        await uow.commit()
    generation = app.user_cache.generation
    async with app.uow() as uow:
        user = await uow.session.get(User, 31)
        user.status = "frozen"
        await uow.session.flush()
        assert app.user_cache.generation == generation + 1
        await uow.commit()
    assert app.user_cache.generation == generation + 2


def test_a_row_read_before_a_write_is_not_put_back():
    cache: ReadCache[UserRow] = ReadCache()
    generation = cache.generation
    cache.clear()  # a write ran between the read and the put
    cache.put(1, "old row", generation)  # type: ignore[arg-type]
    assert cache.get(1) is None
    cache.put(1, "new row", cache.generation)  # type: ignore[arg-type]
    assert cache.get(1) == "new row"


def test_entries_expire_and_the_cache_stays_bounded():
    now = [0.0]
    cache: ReadCache[str] = ReadCache(ttl=10, size=3, clock=lambda: now[0])
    for key in range(3):
        cache.put(key, f"row {key}", cache.generation)
    assert cache.get(2) == "row 2"
    cache.put(3, "row 3", cache.generation)  # full: starts again rather than grow
    assert [cache.get(k) for k in range(4)] == [None, None, None, "row 3"]
    now[0] = 10.5
    assert cache.get(3) is None


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_remembered_texts_still_escape_a_plain_string_but_not_raw_html(locale):
    i18n = I18n()
    raw = i18n.t(locale, "help", commands=Raw("<b>x</b>"))
    plain = i18n.t(locale, "help", commands="<b>x</b>")
    assert "<b>x</b>" in raw and "&lt;b&gt;x&lt;/b&gt;" in plain
    assert i18n.t(locale, "help", commands="<b>x</b>") == plain


@pytest.mark.expect_handler_error
async def test_an_idempotent_turn_that_failed_is_handled_again_when_redelivered(pipeline, transport):
    route = pipeline.dispatcher.commands["help"]
    failures = [RuntimeError("database went away")]

    async def flaky(ctx) -> None:  # noqa: ANN001
        if failures:
            raise failures.pop()
        await route.handler(ctx)

    pipeline.dispatcher.commands["help"] = CommandRoute(flaky, route.in_groups, route.idempotent)
    update = message(person(30, lang="en"), "/help")
    await pipeline.handle(update)
    assert "something went wrong" in transport.last(30).text
    await pipeline.handle(update)
    assert "People I invited" in transport.last(30).text
