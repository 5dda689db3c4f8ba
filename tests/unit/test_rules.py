"""/rules in both languages, what changes between two programs, the announcement and its "I have read it"."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.outbox.queue import PRIORITY_TIP
from bot.outbox.render import OutboxRenderer
from bot.services.audit import AuditLog
from bot.services.rewards.program import DEFAULT_PROGRAM, parse_program
from bot.services.rewards.publishing import propose, publish
from bot.services.rewards.rules_summary import Change, diff, summarize
from db.models import OutboxMessage, RuleAck, User
from tests.conftest import T0
from tests.support import callback, message, person

V2 = (DEFAULT_PROGRAM.replace("version = 1", "version = 2")
      .replace("amounts = [5000, 1000]", "amounts = [6000, 1000]"))
EN, ZH = 2001, 2002


def program(source: str = DEFAULT_PROGRAM):  # noqa: ANN201
    return parse_program(source)


# ------------------------------------------------------------------------------------------ the diff

def test_diff_names_amounts_tiers_caps_and_conditions():
    new = program(DEFAULT_PROGRAM.replace("version = 1", "version = 2")
                  .replace("amounts = [5000, 1000]", "amounts = [6000, 1000]")
                  .replace("max_per_referee = 6", "max_per_referee = 3")
                  .replace("qualified = 20\nbonus = 50000", "qualified = 30\nbonus = 50000")
                  .replace("hold_days = 1", "hold_days = 3")
                  .replace("unverified_lapse_days = 30", "unverified_lapse_days = 60")
                  .replace("50% off the fee of your first loan", "a free first month"))
    assert diff(program(), new) == [
        Change("reward:first_loan:1", 5000, 6000),
        Change("tier:20", 50000, None), Change("tier:30", None, 50000),
        Change("cap:repayment_on_time", 6, 3),
        Change("hold_days", 1, 3), Change("lapse_days", 30, 60), Change("perk", None, None),
    ]


def test_fewer_levels_take_the_deeper_amounts_away():
    one_level = program(DEFAULT_PROGRAM.replace("levels = 2", "levels = 1")
                        .replace("[5000, 1000]", "[5000]").replace("[500, 0]", "[500]").replace("[2000, 500]", "[2000]"))
    assert diff(program(), one_level) == [
        Change("reward:first_loan:2", 1000, 0), Change("reward:second_credit:2", 500, 0), Change("levels", 2, 1)]
    assert diff(program(), program()) == []


def test_credit_check_dropped_is_one_change_without_its_lapse():
    no_check = program(DEFAULT_PROGRAM.replace("referrer_requires_credit_check = true",
                                               "referrer_requires_credit_check = false"))
    assert diff(program(), no_check) == [Change("credit_check", 1, 0)]


def test_summary_leaves_out_what_pays_nothing():
    summary = summarize(program())
    assert [(line.rule, line.amounts, line.max_per_referee) for line in summary.rules] == [
        ("first_loan", ((1, 5000), (2, 1000)), None),
        ("repayment_on_time", ((1, 500),), 6),  # level 2 pays 0: not listed
        ("second_credit", ((1, 2000), (2, 500)), None),
    ]
    assert summary.tiers == ((5, 10000), (20, 50000)) and summary.lapse_days == 30


# ------------------------------------------------------------------------------------------ /rules

async def test_rules_in_english_and_chinese(pipeline, transport, intake):
    await pipeline.handle(message(person(EN, lang="en"), "/rules"))
    en = transport.last(EN).text
    assert "version 1" in en and "In force since 2026-11-26 10:00 (Asia/Shanghai)" in en
    assert "first loan: level 1 ¥50.00, level 2 ¥10.00" in en
    assert "on-time repayment: level 1 ¥5.00 (at most 6 times per friend)" in en
    assert "5 friends: ¥100.00" in en and "20 friends: ¥500.00" in en
    assert "1 day after the event" in en and "credit check" in en and "30 days" in en
    assert "50% off the fee of your first loan" in en and "Announced" not in en
    await pipeline.handle(message(person(ZH, lang="zh-hans"), "/rules"))
    zh = transport.last(ZH).text
    assert "第 1 版" in zh and "首笔借款：第 1 级 ¥50.00，第 2 级 ¥10.00" in zh
    assert "每位好友最多 6 次" in zh and "首笔借款手续费减免 50%" in zh and "30 天" in zh


async def test_rules_is_in_help_and_the_menu(app, pipeline, transport):
    from handlers.menus import menu

    await pipeline.handle(message(person(EN, lang="en"), "/help"))
    assert "/rules — The reward rules in force" in transport.last(EN).text
    assert "rules" in [c.command for c in menu(app.i18n, "user", "zh-CN")]


async def publish_v2(app, source: str = V2, days: float = 8, urgent: str | None = None) -> int:  # noqa: ANN001
    settings, now = app.settings, app.clock.now()
    async with app.uow() as uow:
        proposal = await propose(uow, app.programs, source=source, origin="v2.toml",
                                 effective_at=now + timedelta(days=days), now=now,
                                 notice_days=settings.rule_notice_days, max_levels=settings.referral_levels,
                                 tz=settings.tz, urgent_reason=urgent)
        queued = await publish(uow, app.programs, proposal, audit=AuditLog(uow, app.clock), actor_id=None,
                               via="cli", now=now, tz=settings.tz)
        await uow.commit()
    return queued


async def test_rules_names_the_next_version_until_it_takes_effect(app, pipeline, transport, intake):
    await pipeline.handle(message(person(EN, lang="en"), "/start"))
    await publish_v2(app)
    await pipeline.handle(message(person(EN, lang="en"), "/rules"))
    text = transport.last(EN).text
    assert "version 1" in text and "level 1 ¥50.00" in text
    assert "Announced: version 2</b> takes effect on 2026-12-04 10:00 (Asia/Shanghai)" in text
    assert "first loan, level 1: ¥50.00 → ¥60.00" in text
    app.clock.advance(days=8)
    await pipeline.handle(message(person(EN, lang="en"), "/rules"))
    text = transport.last(EN).text
    assert "version 2" in text and "level 1 ¥60.00" in text and "Announced" not in text
    assert "In force since 2026-12-04 10:00" in text


# ------------------------------------------------------------------------------- the announcement

async def test_the_announcement_renders_in_each_recipients_language_with_the_button(app, pipeline, transport,
                                                                                      intake):
    await pipeline.handle(message(person(EN, lang="en"), "/start"))
    await pipeline.handle(message(person(ZH, lang="zh-hans"), "/start"))
    assert await publish_v2(app) == 2
    async with app.uow() as uow:
        rows = (await uow.session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.kind, OutboxMessage.text_key, OutboxMessage.args,
                   OutboxMessage.priority, OutboxMessage.dedup_key).order_by(OutboxMessage.chat_id))).all()
    assert [(r.chat_id, r.kind, r.priority, r.dedup_key) for r in rows] == [
        (EN, "rules", PRIORITY_TIP, f"rules:2:{EN}"), (ZH, "rules", PRIORITY_TIP, f"rules:2:{ZH}")]
    render = OutboxRenderer(app)
    en = await render(EN, "rules", rows[0].text_key, rows[0].args)
    assert "version 2" in en.text and "2026-12-04 10:00 (Asia/Shanghai)" in en.text
    assert "first loan, level 1: ¥50.00 → ¥60.00" in en.text
    assert [[(b.text, b.callback_data) for b in row] for row in en.keyboard] == [[("✅ I have read it", "ack:2")]]
    zh = await render(ZH, "rules", rows[1].text_key, rows[1].args)
    assert "第 2 版" in zh.text and "首笔借款，第 1 级：¥50.00 → ¥60.00" in zh.text
    assert zh.keyboard[0][0].text == "✅ 我已阅读"


async def test_a_perk_change_is_told_in_the_readers_language(app, pipeline, transport, intake):
    await pipeline.handle(message(person(EN, lang="en"), "/start"))
    await publish_v2(app, V2.replace("50% off the fee of your first loan", "a free first month")
                     .replace("首笔借款手续费减免 50%", "首月免费"))
    async with app.uow() as uow:
        args = (await uow.session.execute(select(OutboxMessage.args))).scalar_one()
    render = OutboxRenderer(app)
    assert "New perk for friends you invite: a free first month" in (await render(EN, "rules", "", args)).text
    assert "受邀好友的新福利：首月免费" in (await render(ZH, "rules", "", args)).text


async def acks(app):  # noqa: ANN001, ANN201
    async with app.uow() as uow:
        return (await uow.session.execute(select(RuleAck.user_id, RuleAck.version, RuleAck.acked_at))).all()


async def test_i_have_read_it_is_stored_once_with_its_time(app, pipeline, transport, intake):
    reader = person(EN, lang="en")
    await pipeline.handle(message(reader, "/start"))
    await publish_v2(app)
    await pipeline.handle(callback(reader, "ack:2", message_id=77))
    answer = [s for s in transport.sent if s.method == "answer_callback"][-1]
    assert answer.text == "Thank you, noted."
    edit = transport.last(EN)
    assert edit.method == "edit_message" and edit.extra["message_id"] == 77 and not edit.keyboard
    assert "¥50.00 → ¥60.00" in edit.text and "You confirmed reading this on 2026-11-26 10:00" in edit.text
    assert await acks(app) == [(EN, 2, T0)]
    app.clock.advance(hours=1)
    sent = len(transport.sent)
    await pipeline.handle(callback(reader, "ack:2", message_id=77))
    assert [(s.method, s.text) for s in transport.sent[sent:]] == [("answer_callback", "Already noted.")]
    assert await acks(app) == [(EN, 2, T0)]  # the first time stands
    async with app.uow() as uow:
        assert (await uow.session.execute(select(User.rules_version_ack).where(User.id == EN))).scalar() == 2


async def test_an_older_acknowledgement_does_not_lower_the_users_latest(app, pipeline, transport, intake):
    reader = person(EN, lang="en")
    await pipeline.handle(message(reader, "/start"))
    await publish_v2(app)
    await pipeline.handle(callback(reader, "ack:2"))
    await pipeline.handle(callback(reader, "ack:1"))
    assert sorted(v for _, v, _ in await acks(app)) == [1, 2]
    async with app.uow() as uow:
        assert (await uow.session.execute(select(User.rules_version_ack).where(User.id == EN))).scalar() == 2


async def test_an_unknown_or_forged_version_is_an_expired_button(app, pipeline, transport, intake):
    reader = person(EN, lang="en")
    for data in ("ack:9", "ack:x", "ack:", "ack:²", "ack:99999999999999"):
        await pipeline.handle(callback(reader, data))
        assert transport.sent[-1].method == "answer_callback" and transport.sent[-1].text == "This button has expired."
    assert await acks(app) == []
