"""/rewards, /earnings, the perk in the welcome, and how ledger notices read."""
from __future__ import annotations

import json

from bot.services.rewards.money import yuan
from tests.conftest import T0
from tests.support import callback, message, person
from tests.unit.test_rewards_flow import A, B, C, approve, body, chain


def test_yuan():
    assert [yuan(0), yuan(5000), yuan(123456), yuan(-150)] == ["¥0.00", "¥50.00", "¥1,234.56", "-¥1.50"]


async def test_new_users_see_their_perk(pipeline, transport):
    await pipeline.handle(message(person(1, lang="en"), "/start"))
    assert "50% off the fee of your first loan" in transport.last(1).text
    await pipeline.handle(message(person(1, lang="en"), "/start"))
    assert "50% off" not in transport.last(1).text  # a returning user isn't sold to again


async def test_rewards_shows_balances_next_tier_and_quality(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await approve(intake, B)
    await intake.submit(body(id="e1", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    await pipeline.handle(message(person(B, "Bobby", lang="en"), "/rewards"))
    text = transport.last(B).text
    assert "Pending: ¥50.00" in text and "Available: ¥0.00" in text and "Paid out: ¥0.00" in text
    assert "1 qualified friends" in text and "4 more to reach 5" in text and "¥100.00" in text
    assert "quality score: 50/100" in text
    app.clock.advance(days=1)
    await pipeline.handle(message(person(B, "Bobby", lang="en"), "/rewards"))
    assert "Available: ¥50.00" in transport.last(B).text


async def test_earnings_by_level_and_rule_with_recent_entries(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await intake.submit(body(id="e2", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    await intake.submit(body(id="e3", type="second_credit", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    await pipeline.handle(message(person(A, "Alice", lang="en"), "/earnings"))
    text = transport.last(A).text
    assert "This month</b>: ¥15.00" in text and "All time</b>: ¥15.00" in text
    assert "Level 2: ¥15.00" in text and "first loan: ¥10.00" in text and "second credit line: ¥5.00" in text
    [button] = transport.last(A).buttons()
    await pipeline.handle(callback(person(A, "Alice", lang="en"), button.callback_data))
    recent = transport.last(A).text
    assert "Last 2 entries" in recent and "level 2 first loan" in recent


async def test_earnings_this_month_excludes_last_month(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await intake.submit(body(id="e4", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    app.clock.advance(days=40)
    await pipeline.handle(message(person(B, "Bobby", lang="en"), "/earnings"))
    text = transport.last(B).text
    assert "This month</b>: ¥0.00" in text


async def test_notices_render_in_the_beneficiarys_language(app, pipeline, transport, intake):
    from bot.outbox.render import OutboxRenderer
    from sqlalchemy import select
    from db.models import OutboxMessage

    await chain(pipeline, transport)
    await pipeline.handle(callback(person(B, "Bobby"), "lang:en"))
    await intake.submit(body(id="e5", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    async with app.uow() as uow:
        rows = (await uow.session.execute(select(OutboxMessage.chat_id, OutboxMessage.text_key, OutboxMessage.args)
                                          .where(OutboxMessage.kind == "ledger"))).all()
    render = OutboxRenderer(app)
    texts = {chat: (await render(chat, "ledger", key, args)).text for chat, key, args in rows}
    assert "level 1 first loan reward of ¥50.00" in texts[B] and "credit check" in texts[B]
    assert "第 2 级首笔借款奖励 ¥10.00" in texts[A]
    assert json.dumps(rows[0][2])  # args are plain JSON


async def test_available_notice_once_when_the_hold_ends(app, pipeline, transport, intake):
    from bot.services.rewards.notices import LedgerNotices

    await chain(pipeline, transport)
    await approve(intake, A, B)
    await intake.submit(body(id="e6", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    async with app.uow() as uow:
        assert await LedgerNotices(uow, app.settings.tz).enqueue_matured(app.clock.now()) == 0
    app.clock.advance(days=1, seconds=1)
    for expected in (2, 0):
        async with app.uow() as uow:
            assert await LedgerNotices(uow, app.settings.tz).enqueue_matured(app.clock.now()) == expected
            await uow.commit()
