"""What a binding costs in statements, and that the one-statement write on PostgreSQL keeps the rules.

A new leaf's binding reads everything it judges in one statement (the code, its owner, the
referee, their binding, the cycle walk, the upline, the anti-fraud windows). PostgreSQL then
writes the edge, the closure rows, the count bumps and the notice in one more; SQLite in four.
"""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, func, select

from bot.services.binding import BindingService, Outcome
from bot.services.codes import CodeService
from bot.services.fraud.signals import FraudLimits
from db.models import Binding, FraudFlag, OutboxMessage, ReferralClosure, ReferralCount
from tests.conftest import T0
from tests.support import message, person

EXPECTED = {"postgresql": 2, "sqlite": 5}
# A newcomer's whole /start <code> turn: claim the update id and read or create the user (one
# statement on PostgreSQL), the binding's look-up (group invite included), the write.
TURN = {"postgresql": 3, "sqlite": 8}


async def _users(app, *ids: int) -> dict[int, str]:  # noqa: ANN001
    codes = {}
    async with app.uow() as uow:
        for uid in ids:
            await uow.users.insert_if_absent(user_id=uid, first_name=f"Name{uid}", username=None, is_bot=False,
                                             tg_language=None, now=T0)
            codes[uid] = (await CodeService(uow, app.clock).personal_code(uid)).code
        await uow.commit()
    return codes


def _statements(app) -> list[str]:  # noqa: ANN001
    seen: list[str] = []
    event.listen(app.engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: seen.append(statement))
    return seen


async def _count(app, model, *where) -> int:  # noqa: ANN001
    async with app.uow() as uow:
        return (await uow.session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def test_a_new_leaf_is_bound_in_the_fewest_statements(app, backend):  # noqa: ANN001
    codes = await _users(app, 1, 2, 3)
    async with app.uow() as uow:  # 2 under 1 first, so 3's binding has a level-2 ancestor
        assert (await BindingService(uow, app.clock, 2).bind(2, codes[1], "link")).ok
        await uow.commit()
    seen = _statements(app)
    async with app.uow() as uow:
        result = await BindingService(uow, app.clock, 2, FraudLimits()).bind(3, codes[2], "link")
        await uow.commit()
    assert result.outcome is Outcome.BOUND and result.referrer.id == 2
    writes = [s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
    assert len(writes) == EXPECTED[backend], writes
    async with app.uow() as uow:
        assert await uow.referrals.upline(3, 2) == [2, 1]
        assert await uow.referrals.counts(1) == {1: 1, 2: 1}
        assert await uow.referrals.counts(2) == {1: 1}
    assert await _count(app, OutboxMessage, OutboxMessage.dedup_key == "join:3", OutboxMessage.chat_id == 2) == 1


async def test_refusals_write_nothing(app, backend):  # noqa: ANN001
    codes = await _users(app, 10, 11)
    async with app.uow() as uow:
        own = await BindingService(uow, app.clock, 2).bind(10, codes[10], "link")
        unknown = await BindingService(uow, app.clock, 2).bind(10, "ZZZZZZZZ", "link")
        nobody = await BindingService(uow, app.clock, 2).bind(99, codes[11], "link")
        await uow.commit()
    assert (own.outcome, unknown.outcome, nobody.outcome) == (Outcome.OWN_CODE, Outcome.UNKNOWN_CODE,
                                                              Outcome.NOT_FOUND)
    assert await _count(app, Binding) == 0 and await _count(app, OutboxMessage) == 0


async def test_a_binding_that_crosses_a_fraud_limit_raises_the_flag_in_its_transaction(app, backend):  # noqa: ANN001
    codes = await _users(app, 20, *range(21, 26))
    limits = FraudLimits(burst_count=4)
    for referee in range(21, 25):
        async with app.uow() as uow:
            assert (await BindingService(uow, app.clock, 2, limits).bind(referee, codes[20], "link")).ok
            await uow.commit()
    # four bindings at one instant: the fourth completes a burst
    assert await _count(app, FraudFlag, FraudFlag.user_id == 20, FraudFlag.kind == "burst") == 1


@pytest.mark.parametrize("levels", [1, 3])
async def test_the_level_cap_cuts_the_written_upline(app, backend, levels):  # noqa: ANN001
    codes = await _users(app, 30, 31, 32, 33)
    for referee, referrer in ((31, 30), (32, 31), (33, 32)):
        async with app.uow() as uow:
            assert (await BindingService(uow, app.clock, levels).bind(referee, codes[referrer], "link")).ok
            await uow.commit()
    assert await _count(app, ReferralClosure, ReferralClosure.descendant_id == 33) == levels
    async with app.uow() as uow:
        assert await uow.referrals.upline(33, 3) == [32, 31, 30][:levels]


async def test_racing_bindings_of_one_referee_write_one_edge_one_notice_and_one_count(app, backend):  # noqa: ANN001
    if backend != "postgresql":
        pytest.skip("SQLite has one writer connection: its bindings cannot overlap")
    codes = await _users(app, 40, 41, 42)
    started = asyncio.Event()

    async def bind(code: str) -> Outcome:
        async with app.uow() as uow:
            result = await BindingService(uow, app.clock, 2).bind(42, code, "link")
            started.set()
            await asyncio.sleep(0.2)  # hold the row lock while the other transaction tries
            await uow.commit()
        return result.outcome

    outcomes = await asyncio.gather(bind(codes[40]), bind(codes[41]))
    assert sorted(o.value for o in outcomes) == ["already_bound", "bound"]
    assert await _count(app, Binding, Binding.referee_id == 42) == 1
    assert await _count(app, OutboxMessage, OutboxMessage.dedup_key == "join:42") == 1
    async with app.uow() as uow:
        total = (await uow.session.execute(select(func.sum(ReferralCount.count)))).scalar_one()
    assert total == 1


async def test_a_newcomers_start_with_a_link_is_three_statements_on_postgresql(app, backend, pipeline):  # noqa: ANN001
    codes = await _users(app, 1)
    await pipeline.handle(message(person(4, "Warm"), "/start"))  # the program in force is read once, then kept
    seen = _statements(app)
    await pipeline.handle(message(person(5, "Neo"), f"/start {codes[1]}"))
    writes = [s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
    assert len(writes) == TURN[backend], writes
    async with app.uow() as uow:
        assert await uow.referrals.upline(5, 2) == [1]
