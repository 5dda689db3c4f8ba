"""/stats on a small seeded program: every number checked against what was seeded."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from bot.services.admin_stats import AdminStats, Funnel, local_day_bounds
from bot.services.fraud.signals import FraudSignals
from db.models import FraudFlag, User
from tests.conftest import T0
from tests.support import message, person
from tests.unit.test_admin import ADMIN, admin, say, set_status
from tests.unit.test_rewards_flow import A, B, C, D, body, chain

E = 1005


async def submit(intake, received_at=T0, **fields) -> None:  # noqa: ANN001, ANN003
    result = await intake.submit(body(**fields), received_at=received_at)
    assert result.http_status == 202, result.body


async def seed(app, pipeline, transport, intake) -> None:  # noqa: ANN001
    """Seven users: A → B → C by links, P (platform-only) registered with A's code, D frozen, E blocked
    the bot, and the admin. B is an agent, A turned tips off. Conversions of C pay B (L1) and A (L2)."""
    code_a, _ = await chain(pipeline, transport)
    for uid in (D, E):
        await pipeline.handle(message(person(uid, f"U{uid}", lang="en"), "/start"))
    await set_status(app, E, "blocked")
    await say(pipeline, transport, admin(), f"/freeze {D} spam")
    await say(pipeline, transport, admin(), f"/promote {B} agent")
    async with app.uow() as uow:
        await uow.session.execute(update(User).where(User.id == A).values(tips_enabled=False))
        await uow.commit()
    await submit(intake, id="reg", type="registered", user={"external_id": "P-9"}, referral_code=code_a)
    for uid in (B, C):
        await submit(intake, id=f"ca-{uid}", type="credit_approved", user={"telegram_id": uid})
    two_days_ago = (T0 - timedelta(days=2)).isoformat()
    await submit(intake, id="fl", type="first_loan", user={"telegram_id": C}, amount_fen=1, occurred_at=two_days_ago)
    # T0 is 10:00 in Shanghai: 9 h earlier is 01:00 the same local day (the day before in UTC), 12 h is yesterday
    await submit(intake, T0 - timedelta(hours=9), id="sc", type="second_credit", user={"telegram_id": C},
                 amount_fen=1, occurred_at=two_days_ago)
    await submit(intake, T0 - timedelta(hours=12), id="rp", type="repayment_on_time", user={"telegram_id": C},
                 loan_id="L1", occurred_at=two_days_ago)
    await submit(intake, id="rv", type="reversal", user={"telegram_id": C}, event_id="sc")
    await submit(intake, id="po", type="payout", user={"telegram_id": B}, amount_fen=3000)
    async with app.uow() as uow:  # one flag waiting for review, one already decided
        signals = FraudSignals(uow)
        await signals.raise_flag(B, "burst", {"count": 4}, app.clock.now())
        decided = await signals.raise_flag(A, "velocity_hour", {"count": 6}, app.clock.now())
        await uow.session.execute(update(FraudFlag).where(FraudFlag.id == decided).values(state="approved"))
        await uow.commit()


async def test_stats_numbers_match_the_seeded_program(app, pipeline, transport, intake):
    await seed(app, pipeline, transport, intake)
    async with app.uow() as uow:
        s = await AdminStats(uow, app.settings.tz).collect(app.clock.now())
    assert str(s.day) == "2026-11-26"
    assert (s.users, s.active, s.frozen, s.blocked, s.platform_only) == (7, 5, 1, 1, 1)
    assert (s.agents, s.admins, s.tips_off) == (1, 0, 1)
    assert s.bound == 3  # B, C and the platform user
    assert s.referrals_by_level == {1: 3, 2: 1}  # A: B and P, B: C; A: C at level 2
    assert s.events_today == {"credit_approved": 2, "first_loan": 1, "payout": 1, "registered": 1,
                              "reversal": 1, "second_credit": 1}  # not the repayment, received yesterday
    # rewards: first loan 50 + 10, second credit 20 + 5, repayment 5; the second credit reversed; 30 paid out
    assert s.ledger == {"reward": 9000, "tier_bonus": 0, "reversal": 2500, "payout": 3000}
    assert s.funnel == Funnel(joined=7, bound=3, credit_approved=2, first_loan=1)
    assert s.open_flags == 1


async def test_stats_in_chat(app, pipeline, transport, intake):
    await seed(app, pipeline, transport, intake)
    text = await say(pipeline, transport, admin(), "/stats")
    assert "Program statistics</b> · 2026-11-26" in text
    assert "Users: 7 (active 5, frozen 1, blocked the bot 1; known only to the platform 1)" in text
    assert "Agents: 1 · admins: 0 promoted + 1 in ADMIN_IDS" in text
    assert "Bound to a referrer: 3" in text
    assert "Referrals by level: L1 3 · L2 1" in text
    assert ("Events received today: credit_approved 2 · first_loan 1 · payout 1 · registered 1 · reversal 1 · "
            "second_credit 1") in text
    assert "rewards ¥90.00 · tier bonuses ¥0.00 · reversed ¥25.00 · paid out ¥30.00" in text
    assert "Safety tips turned off: 1" in text
    assert "Anti-fraud flags waiting for /review: 1" in text
    funnel = re.sub(r"\s+", " ", text.split("Funnel</b>")[1])
    assert ("Joined 7 → bound to a referrer 3 (42.9%) → credit approved 2 (66.7%) → first loan 1 (50.0%)"
            in funnel)
    zh = await say(pipeline, transport, person(ADMIN, "Ada", lang="zh-hans"), "/stats")
    assert "用户：7（正常 5，冻结 1" in zh and "首笔借款 1（50.0%）" in zh


async def test_stats_of_an_empty_program(app, pipeline, transport):
    text = await say(pipeline, transport, admin(), "/stats")
    assert "Users: 1 (active 1" in text  # the admin, who just wrote
    assert "Events received today: none" in text and "rewards ¥0.00" in text
    assert "Anti-fraud flags waiting for /review: 0" in text
    assert "Referrals by level: L1 0 · L2 0" in text
    assert "Joined 1 → bound to a referrer 0 (0.0%) → credit approved 0 (—) → first loan 0 (—)" in \
        re.sub(r"\s+", " ", text)  # no share of nothing


def test_the_local_day_is_the_configured_zones():
    from zoneinfo import ZoneInfo

    day, start, end = local_day_bounds(T0 - timedelta(hours=9), ZoneInfo("Asia/Shanghai"))
    assert str(day) == "2026-11-26"
    assert (start.isoformat(), end.isoformat()) == ("2026-11-25T16:00:00+00:00", "2026-11-26T16:00:00+00:00")
    day, _, _ = local_day_bounds(T0 - timedelta(hours=9), ZoneInfo("UTC"))
    assert str(day) == "2026-11-25"
