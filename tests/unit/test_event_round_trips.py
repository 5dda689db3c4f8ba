"""What one platform event costs in statements, and that the shortcuts keep the rules.

A conversion writes every level's ledger entry in one INSERT and their notices in one more; an
event no reversal waits for does not look for one (its INSERT answers that).
"""
from __future__ import annotations

from sqlalchemy import event as sa_event, select, update

from db.models import LedgerEntry, OutboxMessage, User
from tests.conftest import T0
from tests.unit.test_rewards_flow import A, B, C, approve, balance, body, chain


def _statements(app) -> list[str]:  # noqa: ANN001
    seen: list[str] = []
    sa_event.listen(app.engine.sync_engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *rest: seen.append(" ".join(statement.split())))
    return seen


async def test_a_two_level_conversion_writes_its_entries_and_notices_in_one_statement_each(
        app, pipeline, transport, intake):  # noqa: ANN001
    await chain(pipeline, transport)
    await approve(intake, A, B)
    seen = _statements(app)
    result = await intake.submit(body(id="rt-1", type="first_loan", user={"telegram_id": C}, amount_fen=100000),
                                 received_at=T0)
    assert result.http_status == 202
    assert sum(s.startswith("INSERT INTO ledger_entries") for s in seen) == 1
    assert sum(s.startswith("INSERT INTO outbox") for s in seen) == 1
    assert not any("pending_target" in s and s.startswith("SELECT") for s in seen)  # no reversal waits
    async with app.uow() as uow:
        entries = (await uow.session.execute(
            select(LedgerEntry.id, LedgerEntry.beneficiary_id, LedgerEntry.level).order_by(LedgerEntry.id))).all()
        notices = dict((await uow.session.execute(
            select(OutboxMessage.dedup_key, OutboxMessage.chat_id).where(OutboxMessage.kind == "ledger"))).all())
    # ids come back in the order the entries were given: each notice names its own entry
    assert [(b, level) for _, b, level in entries] == [(B, 1), (A, 2)]
    assert notices == {f"entry:{entries[0][0]}": B, f"entry:{entries[1][0]}": A}
    assert (await balance(app, B)).pending == 5000 and (await balance(app, A)).pending == 1000


async def test_a_reversal_that_came_first_is_still_settled_by_its_target(app, pipeline, transport, intake):  # noqa: ANN001
    await chain(pipeline, transport)
    await approve(intake, A, B)
    early = await intake.submit(body(id="rt-rev", type="reversal", user={"telegram_id": C}, event_id="rt-2"),
                                received_at=T0)
    assert early.body.get("outcome") == "pending_target"
    target = await intake.submit(body(id="rt-2", type="first_loan", user={"telegram_id": C}, amount_fen=100000),
                                 received_at=T0)
    assert target.http_status == 202
    assert (await balance(app, B)).pending == 0 and (await balance(app, A)).pending == 0
    async with app.uow() as uow:
        kinds = sorted(k for (k,) in await uow.session.execute(select(LedgerEntry.kind)))
    assert kinds == ["reversal", "reversal", "reward", "reward"]


async def test_an_earning_of_someone_who_blocked_the_bot_is_on_record_and_its_notice_is_not_sent(
        app, pipeline, transport, intake):  # noqa: ANN001
    await chain(pipeline, transport)
    await approve(intake, A, B)
    async with app.uow() as uow:
        await uow.session.execute(update(User).where(User.id == B).values(status="blocked"))
        await uow.commit()
    result = await intake.submit(body(id="rt-3", type="first_loan", user={"telegram_id": C}, amount_fen=100000),
                                 received_at=T0)
    assert result.http_status == 202
    async with app.uow() as uow:
        states = dict((await uow.session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.state).where(OutboxMessage.kind == "ledger"))).all())
    assert states == {B: "blocked", A: "pending"}
    assert (await balance(app, B)).pending == 5000 and (await balance(app, A)).pending == 1000
