"""The binding rules, each through the pipeline the way a user meets it."""
from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import func, select

from db.models import Binding, OutboxMessage, ReferralClosure
from tests.support import callback, message, person


async def code_of(pipeline, transport, uid, name="Barbara"):  # noqa: ANN001, ANN201
    await pipeline.handle(message(person(uid, name), "/code"))
    return re.search(r"start=([A-Za-z0-9_-]+)", transport.last(uid).text).group(1)


async def referrer_of(app, uid):  # noqa: ANN001, ANN201
    async with app.uow() as uow:
        b = await uow.referrals.binding_of(uid)
        return b.referrer_id if b else None


async def count(app, model, *where):  # noqa: ANN001, ANN201
    async with app.uow() as uow:
        return (await uow.session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def test_link_binds_a_new_user_at_two_levels(app, pipeline, transport):
    code_a = await code_of(pipeline, transport, 100, "Barbara")
    await pipeline.handle(message(person(101, "Carlos"), f"/start {code_a}"))
    assert "Bar***" in transport.last(101).text and "Barbara" not in transport.last(101).text
    code_b = await code_of(pipeline, transport, 101, "Carlos")
    await pipeline.handle(message(person(102, "Dora"), f"/start {code_b}"))
    assert await referrer_of(app, 101) == 100 and await referrer_of(app, 102) == 101
    async with app.uow() as uow:
        assert await uow.referrals.upline(102, 2) == [101, 100]
        assert await uow.referrals.counts(100) == {1: 1, 2: 1}
    # the referrer's notice is queued in the outbox, with the name masked
    async with app.uow() as uow:
        rows = (await uow.session.execute(
            select(OutboxMessage.text_key, OutboxMessage.args).where(OutboxMessage.chat_id == 100))).all()
    assert [tuple(r) for r in rows] == [("notice-joined", {"name": "Car***"})]


async def test_levels_cap_limits_the_closure(app, pipeline, transport):
    uids = [200, 201, 202, 203]
    for parent, child in zip(uids, uids[1:]):
        code = await code_of(pipeline, transport, parent)
        await pipeline.handle(message(person(child), f"/start {code}"))
    assert await count(app, ReferralClosure, ReferralClosure.descendant_id == 203) == 2  # REFERRAL_LEVELS=2


async def test_second_link_and_bind_after_binding_are_refused(app, pipeline, transport):
    code_a = await code_of(pipeline, transport, 110)
    code_b = await code_of(pipeline, transport, 111)
    await pipeline.handle(message(person(112), f"/start {code_a}"))
    await pipeline.handle(message(person(112), f"/start {code_b}"))
    assert "已经有邀请人" in transport.last(112).text
    await pipeline.handle(message(person(112), f"/bind {code_b}"))
    assert "已经有邀请人" in transport.last(112).text
    assert await referrer_of(app, 112) == 110


async def test_racing_links_bind_once(app, pipeline, transport):
    code_a = await code_of(pipeline, transport, 120)
    code_b = await code_of(pipeline, transport, 121)
    await asyncio.gather(
        pipeline.handle(message(person(122), f"/start {code_a}")),
        pipeline.handle(message(person(122), f"/start {code_b}")),
    )
    assert await count(app, Binding, Binding.referee_id == 122) == 1
    assert await count(app, OutboxMessage, OutboxMessage.kind == "join") == 1


async def test_redelivered_update_binds_once_and_answers_once(app, pipeline, transport):
    code_a = await code_of(pipeline, transport, 130)
    update = message(person(131), f"/start {code_a}")
    first = await pipeline.handle(update)
    second = await pipeline.handle(update)
    assert first is not None and second is None
    assert len(transport.to(131)) == 1
    assert await count(app, OutboxMessage, OutboxMessage.chat_id == 130) == 1


async def test_a_redelivery_racing_the_first_delivery_binds_once_and_answers_once(app, pipeline, transport):
    """A newcomer's update claims its id and records them in one statement on PostgreSQL; the
    copy that arrives meanwhile waits on the claim and then does nothing."""
    code_a = await code_of(pipeline, transport, 135)
    update = message(person(136), f"/start {code_a}")
    results = await asyncio.gather(pipeline.handle(update), pipeline.handle(update))
    assert sorted(r is None for r in results) == [False, True]
    assert len(transport.to(136)) == 1 and "邀请" in transport.last(136).text
    assert await referrer_of(app, 136) == 135
    assert await count(app, OutboxMessage, OutboxMessage.chat_id == 135) == 1


async def test_own_code_is_refused(app, pipeline, transport):
    own = await code_of(pipeline, transport, 140)
    await pipeline.handle(message(person(140), f"/bind {own}"))
    assert "自己的邀请码" in transport.last(140).text
    assert await referrer_of(app, 140) is None


async def test_no_cycles(app, pipeline, transport):
    code_a = await code_of(pipeline, transport, 150)
    await pipeline.handle(message(person(151), f"/start {code_a}"))
    code_b = await code_of(pipeline, transport, 151)
    await pipeline.handle(message(person(152), f"/start {code_b}"))
    code_c = await code_of(pipeline, transport, 152)
    # A (unbound, within its window) tries to bind under its own grandchild C
    await pipeline.handle(message(person(150), f"/bind {code_c}"))
    assert "你自己邀请的人" in transport.last(150).text
    assert await referrer_of(app, 150) is None


async def test_bots_are_never_bound(app, pipeline, transport):
    code_a = await code_of(pipeline, transport, 160)
    await pipeline.handle(message(person(161, is_bot=True), f"/start {code_a}"))
    assert await referrer_of(app, 161) is None
    assert "机器人" in transport.last(161).text


async def test_first_touch_wins_over_a_later_link(app, pipeline, transport):
    code_a = await code_of(pipeline, transport, 170)
    await pipeline.handle(message(person(171), "/help"))
    await pipeline.handle(message(person(171), f"/start {code_a}"))
    assert await referrer_of(app, 171) is None
    assert "/bind" in transport.last(171).text


@pytest.mark.parametrize("payload", [
    "x" * 65, "../../etc/passwd", "<b>hi</b>", "'; DROP TABLE users;--", "😀😀", "a b", "%00", "ABC$",
])
async def test_malformed_payloads_get_a_polite_answer_and_bind_nothing(app, pipeline, transport, payload):
    await pipeline.handle(message(person(180), f"/start {payload}"))
    text = transport.last(180).text
    assert "无效" in text and "风险提示" in text
    assert "<b>hi" not in text and "DROP" not in text  # never echoed back
    assert await count(app, Binding) == 0


async def test_unknown_code(app, pipeline, transport):
    await pipeline.handle(message(person(181), "/start ZZZZZZZZ"))
    assert "没有找到" in transport.last(181).text
    assert await count(app, Binding) == 0


async def test_frozen_referrer_code_is_not_available(app, pipeline, transport):
    code_a = await code_of(pipeline, transport, 190)
    async with app.uow() as uow:
        await uow.users.set_status(190, "frozen")
        await uow.commit()
    await pipeline.handle(message(person(191), f"/start {code_a}"))
    assert "暂不可用" in transport.last(191).text
    assert await referrer_of(app, 191) is None


async def test_bind_with_confirmation_within_the_window(app, pipeline, transport):
    code_a = await code_of(pipeline, transport, 300, "Xiaoming")
    await pipeline.handle(message(person(301), "/start"))
    app.clock.advance(hours=71)
    await pipeline.handle(message(person(301), f"/bind {code_a.lower()}"))
    ask = transport.last(301)
    assert "Xia***" in ask.text
    yes, no = ask.buttons()
    assert await referrer_of(app, 301) is None  # nothing until confirmed
    await pipeline.handle(callback(person(301), yes.callback_data))
    assert transport.last(301).method == "edit_message" and "绑定成功" in transport.last(301).text
    assert await referrer_of(app, 301) == 300
    assert any(s.method == "answer_callback" for s in transport.sent)


async def test_bind_cancel_binds_nothing(app, pipeline, transport):
    code_a = await code_of(pipeline, transport, 310)
    await pipeline.handle(message(person(311), f"/bind {code_a}"))
    _, no = transport.last(311).buttons()
    await pipeline.handle(callback(person(311), no.callback_data))
    assert "已取消" in transport.last(311).text and await referrer_of(app, 311) is None


async def test_bind_after_the_window_is_refused(app, pipeline, transport):
    code_a = await code_of(pipeline, transport, 320)
    await pipeline.handle(message(person(321), "/start"))
    await pipeline.handle(message(person(321), f"/bind {code_a}"))
    yes, _ = transport.last(321).buttons()
    app.clock.advance(hours=72, seconds=1)
    await pipeline.handle(message(person(321), f"/bind {code_a}"))
    assert "72 小时" in transport.last(321).text
    await pipeline.handle(callback(person(321), yes.callback_data))  # a stale confirmation button
    assert "72 小时" in transport.last(321).text and await referrer_of(app, 321) is None


async def test_bind_usage_and_bad_codes(app, pipeline, transport):
    await pipeline.handle(message(person(330), "/bind"))
    assert "用法" in transport.last(330).text
    await pipeline.handle(message(person(330), "/bind ../../etc"))
    assert "无效" in transport.last(330).text
    await pipeline.handle(callback(person(330), "bind:y:<script>"))
    assert "已取消" in transport.last(330).text
    assert await count(app, Binding) == 0


async def test_late_binder_brings_its_subtree(app, pipeline, transport):
    """B has a referee C, then B binds under A within its window: C gains A at level 2."""
    code_a = await code_of(pipeline, transport, 340)
    code_b = await code_of(pipeline, transport, 341)
    await pipeline.handle(message(person(342), f"/start {code_b}"))
    await pipeline.handle(message(person(341), f"/bind {code_a}"))
    yes, _ = transport.last(341).buttons()
    await pipeline.handle(callback(person(341), yes.callback_data))
    async with app.uow() as uow:
        assert await uow.referrals.upline(342, 2) == [341, 340]
        assert await uow.referrals.counts(340) == {1: 1, 2: 1}
