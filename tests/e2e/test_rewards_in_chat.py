"""A referrer follows their rewards in chat while the platform reports conversions over HTTP."""
from __future__ import annotations

from harness import E2E, BotHarness, TgUser
from platform_client import BOT_ENV, event, post, view  # noqa: F401 (BOT_ENV configures this module's bot)
from test_platform_api import chain

pytestmark = E2E


async def approved(bot: BotHarness, user: TgUser) -> None:
    status, _ = await post(bot, event("credit_approved", user, occurred_at="2026-11-20T10:00:00+08:00"))
    assert status == 202


async def test_rewards_and_earnings_after_conversions(bot_proc, fake, new_user):
    a, b, c = await chain(bot_proc, new_user)
    await approved(bot_proc, b)
    # a loan from last week: its one-day hold is over, so the reward is available at once
    since = fake.mark()
    status, _ = await post(bot_proc, event("first_loan", c, amount_fen=100_000,
                                           occurred_at="2026-11-19T10:00:00+08:00"))
    assert status == 202
    await bot_proc.replies(b.id, since)  # the reward notice
    await post(bot_proc, event("repayment_on_time", c, loan_id="L-1"))
    [rewards] = await bot_proc.send(b, "/rewards")
    assert "Available: ¥50.00" in rewards.text and "Pending: ¥5.00" in rewards.text
    assert "4 more to reach 5" in rewards.text and "quality score: 67/100" in rewards.text
    [earnings] = await bot_proc.send(a, "/earnings")
    assert "Level 2: ¥10.00" in earnings.text and "first loan: ¥10.00" in earnings.text
    _, [recent] = await bot_proc.press(a, earnings, "Last 20 entries", count=1)
    assert "level 2 first loan" in recent.text


async def test_a_reversal_is_told_and_payouts_stay_within_available(bot_proc, fake, new_user):
    a, b, c = await chain(bot_proc, new_user)
    await approved(bot_proc, b)
    loan = event("first_loan", c, amount_fen=100_000, occurred_at="2026-11-19T10:00:00+08:00")
    await post(bot_proc, loan)
    too_much = await post(bot_proc, event("payout", b, amount_fen=5001))
    assert too_much[0] == 400 and "available" in too_much[1]["error"]
    assert (await post(bot_proc, event("payout", b, amount_fen=2000)))[0] == 202
    since = fake.mark()
    assert (await post(bot_proc, event("reversal", c, event_id=loan["id"])))[0] == 202
    # notices to one chat leave at most one a second, so the reward and payout notices may come first
    notice = await fake.wait_for(lambda c: fake.is_message_to(c, b.id) and "reversed" in (c.text or ""),
                                 since=since, timeout=15)
    assert "¥50.00" in notice.text
    balance = (await view(bot_proc, b))["balance"]
    assert balance["available"] == 0 and balance["paid"] == 2000 and balance["owed"] == 2000
    [rewards] = await bot_proc.send(b, "/rewards")
    assert "To be offset: ¥20.00" in rewards.text


async def test_new_users_see_the_referee_perk(bot_proc, new_user):
    a = new_user(language_code="en")
    [welcome] = await bot_proc.send(a, "/start")
    assert "50% off the fee of your first loan" in welcome.text
