"""/settings and risk-education tips through the real bot and the fake Bot API.

The bot's clock is set to noon (Asia/Shanghai) tomorrow, inside the default 10-20 tip window, and
its tip job looks every half second. A tip waits until a user has been around for a day, so the tip
test restarts the bot a day later on its clock.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from harness import E2E, BotHarness
from test_referral_journey import set_status

pytestmark = E2E

SHANGHAI = ZoneInfo("Asia/Shanghai")


def offset_to_noon_tomorrow() -> float:
    now = datetime.now(timezone.utc)
    noon = datetime.combine(now.astimezone(SHANGHAI).date() + timedelta(days=1), time(12), tzinfo=SHANGHAI)
    return (noon - now).total_seconds()


BOT_ENV = {"CLOCK_OFFSET_SECONDS": str(offset_to_noon_tomorrow()), "TIP_CHECK_SECONDS": "0.5"}
TIP_MARK = "Safety tip:"


async def test_settings_turns_tips_off_and_on_by_editing_its_message(bot_proc, fake, new_user):
    user = new_user(language_code="en")
    [page] = await bot_proc.send(user, "/settings")
    assert "Safety tips: on" in page.text and "Reward and invitation notices always stay on" in page.text
    answer, [edited] = await bot_proc.press(user, page, "🔕 Turn safety tips off", count=1)
    assert answer.params.get("text") == "Safety tips turned off."
    assert edited.method == "editMessageText" and edited.message_id == page.message_id
    assert "Safety tips: off" in edited.text
    assert [b["text"] for b in edited.buttons] == ["🔔 Turn safety tips on"]

    # The first page's "off" button pressed again (a second device, an old message): still off, no error.
    since = fake.mark()
    stale = bot_proc.deliver(fake.callback(user, "set:tips:off", page, check=False))
    stale_answer = await fake.wait_for(
        lambda c: c.method == "answerCallbackQuery" and str(c.params.get("callback_query_id")) == stale["callback_query"]["id"],
        since=since)
    assert stale_answer.ok and stale_answer.params.get("text") == "Safety tips turned off."
    [again] = await bot_proc.send(user, "/settings")
    assert "Safety tips: off" in again.text

    _, [back_on] = await bot_proc.press(user, again, "🔔 Turn safety tips on", count=1)
    assert "Safety tips: on" in back_on.text


async def test_help_lists_settings(bot_proc, new_user):
    [reply] = await bot_proc.send(new_user(language_code="zh-hans"), "/help")
    assert "/settings" in reply.text and "安全提示" in reply.text


async def test_a_tip_arrives_a_day_later_for_those_who_may_get_one(bot_proc: BotHarness, fake, new_user):
    alice, bob, carol = (new_user(language_code=lang) for lang in ("en", "en", "zh-hans"))
    for person in (alice, bob, carol):
        await bot_proc.send(person, "/start")
    [page] = await bot_proc.send(bob, "/settings")
    await bot_proc.press(bob, page, "🔕 Turn safety tips off", count=1)
    await set_status(bot_proc, carol.id, "frozen")
    since = fake.mark()
    await fake.assert_no_message(alice.id, within=2.0, since=since)  # four job runs: their first day

    bot_proc.env["CLOCK_OFFSET_SECONDS"] = str(float(bot_proc.env["CLOCK_OFFSET_SECONDS"]) + 86400 + 60)
    await bot_proc.restart()
    since = fake.mark()
    tip = await fake.wait_for(lambda c: fake.is_message_to(c, alice.id) and TIP_MARK in (c.text or ""),
                              since=since, timeout=15)
    assert "fake customer service" in tip.text and tip.text.endswith("Turn them off in /settings.")
    await asyncio.sleep(2.0)  # more job runs: still one tip, and none for the opted-out or the frozen
    assert [c.index for c in fake.sent_to(alice.id, since=since)] == [tip.index]
    assert not fake.sent_to(bob.id, since=since) and not fake.sent_to(carol.id, since=since)
