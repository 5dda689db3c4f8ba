"""/settings: a user turns risk-education tips off and on; reward notices stay on whatever they choose."""
from __future__ import annotations

from sqlalchemy import select

from bot.config import load_settings
from bot.outbox.ratelimit import InProcessRateLimiter
from bot.outbox.render import OutboxRenderer
from bot.outbox.sender import OutboxSender
from bot.services.tips import TipQueue, TipSchedule
from db.models import User
from tests.support import callback, message, person


async def tips_enabled(app, uid):  # noqa: ANN001, ANN201
    async with app.uow() as uow:
        return await uow.session.scalar(select(User.tips_enabled).where(User.id == uid))


async def tip_job(app) -> int:  # noqa: ANN001
    async with app.uow() as uow:
        queued = await TipQueue(uow, TipSchedule.from_settings(app.settings, app.i18n)).queue_due(app.clock.now())
        await uow.commit()
    return queued


async def send_outbox(app, transport) -> None:  # noqa: ANN001
    sender = OutboxSender(sessionmaker=app.sessionmaker, transport=transport, render=OutboxRenderer(app),
                          limiter=InProcessRateLimiter(), clock=app.clock)
    await sender.drain_once()


async def test_settings_shows_tips_on_with_a_button_to_turn_them_off(pipeline, transport):
    await pipeline.handle(message(person(1, lang="en"), "/settings"))
    page = transport.last(1)
    assert "Safety tips: <b>on</b>" in page.text and "every 7 days" in page.text
    assert "Reward and invitation notices always stay on" in page.text
    [button] = page.buttons()
    assert (button.text, button.callback_data) == ("🔕 Turn safety tips off", "set:tips:off")


async def test_the_button_turns_tips_off_and_on_by_editing_the_message(app, pipeline, transport):
    await pipeline.handle(message(person(2, lang="en"), "/settings"))
    await pipeline.handle(callback(person(2, lang="en"), "set:tips:off", message_id=55))
    answer, edit = transport.sent[-2:]
    assert answer.method == "answer_callback" and answer.text == "Safety tips turned off."
    assert edit.method == "edit_message" and edit.extra["message_id"] == 55
    assert "Safety tips: <b>off</b>" in edit.text and "notices always stay on" in edit.text
    assert [b.callback_data for b in edit.buttons()] == ["set:tips:on"]
    assert await tips_enabled(app, 2) is False

    await pipeline.handle(callback(person(2, lang="en"), "set:tips:on", message_id=55))
    assert "Safety tips: <b>on</b>" in transport.last(2).text
    assert await tips_enabled(app, 2) is True


async def test_in_chinese_by_default(pipeline, transport):
    await pipeline.handle(message(person(3, lang=None), "/settings"))
    page = transport.last(3)
    assert "安全提示：<b>已开启</b>" in page.text and page.buttons()[0].text == "🔕 关闭安全提示"


async def test_a_stale_or_repeated_press_keeps_the_choice_it_names(app, pipeline, transport):
    """Pressing "off" twice (a double tap, or an old /settings message) leaves tips off, never toggles back."""
    await pipeline.handle(callback(person(4, lang="en"), "set:tips:off"))
    await pipeline.handle(callback(person(4, lang="en"), "set:tips:off"))
    assert await tips_enabled(app, 4) is False
    assert "Safety tips: <b>off</b>" in transport.last(4).text
    # the same update delivered again by Telegram is handled once
    replay = callback(person(4, lang="en"), "set:tips:on", update_id=987_654)
    await pipeline.handle(replay)
    await pipeline.handle(replay)
    assert await tips_enabled(app, 4) is True
    assert sum(1 for s in transport.sent if s.method == "answer_callback") == 3


async def test_an_unknown_settings_button_is_refused_politely(app, pipeline, transport):
    for data in ("set:tips:maybe", "set:notices:off", "set:"):
        await pipeline.handle(callback(person(5, lang="en"), data))
        assert transport.sent[-1].method == "answer_callback" and transport.sent[-1].text == "This button has expired."
    assert await tips_enabled(app, 5) is True
    assert not [s for s in transport.sent if s.method == "edit_message"]


async def test_settings_in_a_group_points_to_the_private_chat(pipeline, transport):
    await pipeline.handle(message(person(6, lang="en"), "/settings", chat_id=-100123, chat_type="supergroup"))
    reply = transport.last(-100123)
    assert "private chat" in reply.text and "Safety tips" not in reply.text


async def test_when_the_bot_sends_no_tips_settings_says_so(app, pipeline, transport):
    app.settings = load_settings(database_url=app.settings.database_url, bot_token="1:test", tip_interval_days=0)
    await pipeline.handle(message(person(7, lang="en"), "/settings"))
    assert "Safety tips: <b>on</b>. The bot is not sending tips at the moment." in transport.last(7).text


async def test_help_and_the_menu_list_settings(app, pipeline, transport):
    await pipeline.handle(message(person(8, lang="en"), "/help"))
    assert "/settings — Settings: safety tips on or off" in transport.last(8).text


async def test_an_opted_out_user_gets_no_tip_but_still_gets_reward_notices(app, pipeline, transport):
    """The whole path: /settings off, a day later the job skips them; back on, the next tip arrives."""
    await pipeline.handle(message(person(9, lang="en"), "/start"))
    await pipeline.handle(message(person(10, lang="en"), "/start"))
    await pipeline.handle(callback(person(9, lang="en"), "set:tips:off"))
    app.clock.advance(days=1)
    assert await tip_job(app) == 1
    await send_outbox(app, transport)
    [tip] = [s for s in transport.to(10) if "Safety tip" in (s.text or "")]
    assert tip.text.endswith("Turn them off in /settings.</i>")
    assert not [s for s in transport.to(9) if "Safety tip:" in (s.text or "")]

    from bot.outbox.queue import enqueue  # a reward notice reaches the opted-out user all the same
    async with app.uow() as uow:
        await enqueue(uow.session, chat_id=9, kind="ledger", text_key="notice-payout", args={"amount": "¥5.00"},
                      now=app.clock.now(), dedup_key="test:payout:9")
        await uow.commit()
    await send_outbox(app, transport)
    assert "¥5.00" in transport.last(9).text

    await pipeline.handle(callback(person(9, lang="en"), "set:tips:on"))
    app.clock.advance(hours=1)
    assert await tip_job(app) == 1
    await send_outbox(app, transport)
    assert "fake customer service" in transport.last(9).text
    app.clock.advance(days=1)
    assert await tip_job(app) == 0  # the next one is TIP_INTERVAL_DAYS away
