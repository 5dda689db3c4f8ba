"""Risk-education tips: who gets one and when (the selection rules), in what order, in both languages."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot.app import App
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.i18n import I18n
from bot.outbox.queue import PRIORITY_BROADCAST, PRIORITY_TIP, PRIORITY_TRANSACTIONAL, enqueue
from bot.outbox.render import OutboxRenderer
from bot.services.tips import TIP_PREFIX, TipQueue, TipSchedule
from db.engine import make_engine, make_sessionmaker
from db.models import OutboxMessage, User
from tests.conftest import T0

# T0 is 2026-11-26 10:00 in Asia/Shanghai: the first hour of the default 10-20 window.
LOCAL = timezone(timedelta(hours=8))
OLD = T0 - timedelta(days=3)


def at(local: str) -> datetime:
    """'2026-11-26 10:00' Shanghai time, as UTC."""
    return datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=LOCAL).astimezone(timezone.utc)


async def add_user(app: App, uid: int, *, first_seen: datetime = OLD, language: str = "en", **fields: object) -> None:
    async with app.uow() as uow:
        row = {"first_name": f"u{uid}", "is_bot": False, "role": "user", "status": "active", **fields}
        uow.session.add(User(id=uid, first_seen_at=first_seen, language=language, **row))
        await uow.commit()


async def run_job(app: App, *, batch: int = 5000) -> int:
    async with app.uow() as uow:
        queued = await TipQueue(uow, TipSchedule.from_settings(app.settings, app.i18n), batch).queue_due(app.clock.now())
        await uow.commit()
    return queued


async def tips(app: App, uid: int | None = None) -> list:
    async with app.uow() as uow:
        o = OutboxMessage
        query = select(o.chat_id, o.kind, o.text_key, o.args, o.priority, o.state, o.dedup_key, o.created_at) \
            .where(o.kind == "tip").order_by(o.id)
        if uid is not None:
            query = query.where(OutboxMessage.chat_id == uid)
        return list((await uow.session.execute(query)).all())


async def user(app: App, uid: int):  # noqa: ANN201
    async with app.uow() as uow:
        return (await uow.session.execute(
            select(User.tips_sent, User.last_tip_at, User.tips_enabled).where(User.id == uid))).one()


async def queue_other(app: App, uid: int, *, priority: int, created: datetime, state: str = "pending",
                      sent: datetime | None = None, key: str | None = None) -> None:
    async with app.uow() as uow:
        await enqueue(uow.session, chat_id=uid, kind="broadcast" if priority == PRIORITY_BROADCAST else "notice",
                      text_key="x", args={}, now=created, priority=priority, dedup_key=key)
        await uow.session.execute(update(OutboxMessage).where(OutboxMessage.chat_id == uid)
                                  .values(state=state, sent_at=sent))
        await uow.commit()


async def mark_all_sent(app: App) -> None:
    async with app.uow() as uow:
        await uow.session.execute(update(OutboxMessage).where(OutboxMessage.state == "pending")
                                  .values(state="sent", sent_at=app.clock.now()))
        await uow.commit()


def use_settings(app: App, **overrides: object) -> None:
    app.settings = load_settings(database_url=app.settings.database_url, bot_token="1:test", **overrides)


# -- who ----------------------------------------------------------------------------------------


async def test_an_eligible_user_gets_the_first_tip_and_their_counters_move(app):
    await add_user(app, 101)
    assert await run_job(app) == 1
    [row] = await tips(app, 101)
    assert (row.text_key, row.priority, row.state) == ("tip-1", PRIORITY_TIP, "pending")
    assert row.dedup_key == "tip:101:2026-11-26"
    moved = await user(app, 101)
    assert moved.tips_sent == 1 and moved.last_tip_at == T0
    assert await run_job(app) == 0  # the same day again: nothing more


async def test_who_gets_no_tip(app):
    today = T0 - timedelta(minutes=30)  # 09:30 local, after midnight
    yesterday = T0 - timedelta(hours=12)  # 22:00 local the day before
    await add_user(app, 1)  # eligible: the control
    await add_user(app, 2, status="frozen")
    await add_user(app, 3, status="blocked")
    await add_user(app, 4, tips_enabled=False)
    await add_user(app, -5)  # known only to the platform: no chat
    await add_user(app, 6, is_bot=True)
    await add_user(app, 7, first_seen=T0 - timedelta(hours=23))  # the welcome was their risk notice today
    await add_user(app, 8, first_seen=T0 - timedelta(hours=24))  # a day old exactly: due
    await add_user(app, 9, tips_sent=1, last_tip_at=at("2026-11-20 10:00"))  # 6 days ago: too soon
    await add_user(app, 10, tips_sent=1, last_tip_at=at("2026-11-19 19:59"))  # 7 local days ago: due
    await add_user(app, 11)  # a broadcast queued for them today
    await queue_other(app, 11, priority=PRIORITY_BROADCAST, created=today)
    await add_user(app, 12)  # a rule-change notice delivered today
    await queue_other(app, 12, priority=PRIORITY_TIP, created=today, state="sent", sent=today)
    await add_user(app, 13)  # a broadcast from yesterday still waiting: it goes out today
    await queue_other(app, 13, priority=PRIORITY_BROADCAST, created=yesterday)
    await add_user(app, 14)  # yesterday's broadcast, delivered yesterday: no bar today
    await queue_other(app, 14, priority=PRIORITY_BROADCAST, created=yesterday, state="sent", sent=yesterday)
    await add_user(app, 15)  # a reward notice today is transactional: no bar
    await queue_other(app, 15, priority=PRIORITY_TRANSACTIONAL, created=today, state="sent", sent=today)
    await add_user(app, 16)  # a cancelled broadcast was never delivered: no bar
    await queue_other(app, 16, priority=PRIORITY_BROADCAST, created=today, state="cancelled")

    assert await run_job(app) == 6
    assert {row.chat_id for row in await tips(app)} == {1, 8, 10, 14, 15, 16}
    for skipped in (2, 3, 4, 6, 7, 9, 11, 12, 13):
        assert (await user(app, skipped)).tips_sent == (1 if skipped == 9 else 0)


@pytest.mark.parametrize("local_time, due", [
    ("2026-11-26 09:59", False), ("2026-11-26 10:00", True), ("2026-11-26 19:59", True),
    ("2026-11-26 20:00", False), ("2026-11-27 03:00", False),
])
async def test_tips_go_out_only_in_the_local_daytime_window(app, local_time, due):
    await add_user(app, 1)
    app.clock = FrozenClock(at(local_time))
    assert await run_job(app) == (1 if due else 0)


async def test_the_window_and_interval_follow_the_settings(app):
    await add_user(app, 1)
    use_settings(app, tip_hours="8-9", timezone="Europe/London")  # 02:00 in London now
    assert await run_job(app) == 0
    app.clock = FrozenClock(at("2026-11-26 16:30"))  # 08:30 in London
    assert await run_job(app) == 1
    use_settings(app, tip_interval_days=0)  # no tips at all
    await add_user(app, 2)
    app.clock = FrozenClock(T0 + timedelta(days=10))
    assert await run_job(app) == 0


async def test_a_tip_every_interval_in_local_days_whatever_the_hour_of_the_last(app):
    await add_user(app, 1)
    app.clock = FrozenClock(at("2026-11-26 19:59"))
    assert await run_job(app) == 1
    await mark_all_sent(app)
    for days in range(1, 7):  # up to six days later, even at noon: too soon
        app.clock = FrozenClock(at("2026-11-26 12:00") + timedelta(days=days))
        assert await run_job(app) == 0
    app.clock = FrozenClock(at("2026-12-03 10:00"))  # seven days later, at the window's first hour
    assert await run_job(app) == 1


async def test_tips_come_in_list_order_and_start_over(app):
    count = app.i18n.series(TIP_PREFIX)
    use_settings(app, tip_interval_days=1)
    await add_user(app, 1)
    for _ in range(count + 2):
        assert await run_job(app) == 1
        await mark_all_sent(app)
        app.clock.advance(days=1)
    keys = [row.text_key for row in await tips(app, 1)]
    assert keys == [f"tip-{n}" for n in range(1, count + 1)] + ["tip-1", "tip-2"]
    assert (await user(app, 1)).tips_sent == count + 2


async def test_a_batch_is_capped_and_waiting_tips_count_against_the_cap(app):
    for uid in range(1, 6):
        await add_user(app, uid)
    assert await run_job(app, batch=3) == 3
    assert await run_job(app, batch=3) == 0  # three still wait in the outbox
    await mark_all_sent(app)
    assert await run_job(app, batch=3) == 2
    assert sorted(row.chat_id for row in await tips(app)) == [1, 2, 3, 4, 5]


async def test_concurrent_runs_queue_each_tip_once_and_do_not_fail(app):
    """Several instances may run the job at once (PostgreSQL); the loser queues nothing, and raises nothing."""
    for uid in range(1, 41):
        await add_user(app, uid)
    engine = make_engine(app.settings.database_url)
    other = App(settings=app.settings, engine=engine, sessionmaker=make_sessionmaker(engine),
                i18n=app.i18n, clock=app.clock)
    try:
        counts = await asyncio.gather(*(run_job(a) for a in (app, other, app, other)))
    finally:
        await other.close()
    assert sum(counts) == 40
    rows = await tips(app)
    assert sorted(row.chat_id for row in rows) == list(range(1, 41))
    for uid in (1, 40):
        assert (await user(app, uid)).tips_sent == 1


async def test_a_user_who_turns_tips_back_on_continues_where_they_left_off(app):
    use_settings(app, tip_interval_days=1)
    await add_user(app, 1, tips_sent=3, last_tip_at=T0 - timedelta(days=5), tips_enabled=False)
    assert await run_job(app) == 0
    async with app.uow() as uow:
        await uow.session.execute(update(User).where(User.id == 1).values(tips_enabled=True))
        await uow.commit()
    assert await run_job(app) == 1
    assert [row.text_key for row in await tips(app, 1)] == ["tip-4"]


# -- what -----------------------------------------------------------------------------------------


def test_both_languages_have_the_same_tips_and_each_says_how_to_turn_them_off():
    i18n = I18n()
    count = i18n.series(TIP_PREFIX, "zh-CN")
    assert count >= 8 and i18n.series(TIP_PREFIX, "en") == count
    for locale in ("zh-CN", "en"):
        assert not i18n.keys(locale) & {f"{TIP_PREFIX}{count + 1}", f"{TIP_PREFIX}0"}  # no gap hides a tip
        footer = i18n.t(locale, "tips-footer")
        assert "/settings" in footer
        texts = [i18n.t(locale, f"{TIP_PREFIX}{n}") for n in range(1, count + 1)]
        assert all(text.endswith("\n\n" + footer) for text in texts)
        assert len(set(texts)) == count


async def test_a_queued_tip_is_sent_in_the_reader_s_language(app):
    await add_user(app, 1, language="en")
    await add_user(app, 2, language="zh-CN")
    assert await run_job(app) == 2
    render = OutboxRenderer(app)
    [en] = await tips(app, 1)
    [zh] = await tips(app, 2)
    english = await render(1, en.kind, en.text_key, en.args)
    chinese = await render(2, zh.kind, zh.text_key, zh.args)
    assert "fake customer service" in english.text and english.text.endswith("/settings.</i>")
    assert "假冒客服" in chinese.text and "/settings" in chinese.text
