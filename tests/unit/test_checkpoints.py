"""Ledger checkpoints: what a referrer reads never changes by one, and `ledger check` holds them to the entries."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, text, update

from bot.services.rewards.audit import audit
from bot.services.rewards.checkpoints import CheckpointWriter
from db.models import LedgerCheckpoint, LedgerCheckpointSum
from tests.conftest import T0
from tests.support import message, person
from tests.unit.test_rewards_flow import A, B, C, approve, balance, body, chain


def writer(app) -> CheckpointWriter:  # noqa: ANN001
    return CheckpointWriter(app.uow, app.settings.tz, app.settings.timezone)


async def earnings_text(pipeline, transport, uid: int, name: str) -> str:  # noqa: ANN001
    await pipeline.handle(message(person(uid, name, lang="en"), "/earnings"))
    return transport.last(uid).text


async def rewards_text(pipeline, transport, uid: int, name: str) -> str:  # noqa: ANN001
    await pipeline.handle(message(person(uid, name, lang="en"), "/rewards"))
    return transport.last(uid).text


async def checkpoints(app) -> list[tuple[int, int, int]]:  # noqa: ANN001
    async with app.uow() as uow:
        rows = await uow.session.execute(select(LedgerCheckpoint.beneficiary_id, LedgerCheckpoint.upto_entry_id,
                                                LedgerCheckpoint.entries).order_by(LedgerCheckpoint.id))
        return [tuple(r) for r in rows]


async def converted(intake, *keys: str) -> None:  # noqa: ANN001
    for key in keys:
        kind, extra = ("second_credit", {"amount_fen": 1}) if key.startswith("sc") else ("first_loan", {"amount_fen": 1})
        now = intake.app.clock.now()
        result = await intake.submit(body(id=key, type=kind, user={"telegram_id": C}, occurred_at=now.isoformat(),
                                          **extra), received_at=now)
        assert result.http_status == 202, result.body


async def checkpointed(app, pipeline, transport, intake, *keys: str) -> None:  # noqa: ANN001
    """A → B → C, both referrers approved, C's conversions past their hold, and the job's checkpoints."""
    await chain(pipeline, transport)
    await approve(intake, A, B)
    await converted(intake, *keys)
    app.clock.advance(days=2)
    await writer(app).write_due(1, app.clock.now)


async def test_a_checkpoint_changes_nothing_a_referrer_reads(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await approve(intake, A, B)
    await converted(intake, "e1", "sc1")
    app.clock.advance(days=2)  # past the hold: settled
    before = {uid: (await earnings_text(pipeline, transport, uid, n), await rewards_text(pipeline, transport, uid, n))
              for uid, n in ((A, "Alice"), (B, "Bobby"))}
    assert await writer(app).write_due(1, app.clock.now) == 2
    assert [(uid, n) for uid, _, n in await checkpoints(app)] == [(A, 2), (B, 2)]
    after = {uid: (await earnings_text(pipeline, transport, uid, n), await rewards_text(pipeline, transport, uid, n))
             for uid, n in ((A, "Alice"), (B, "Bobby"))}
    assert after == before
    assert "Available: ¥70.00" in after[B][1]  # 50 + 20: the first loan and the second credit, level 1
    # Nothing new: nobody is due, and writing again adds nothing.
    assert await writer(app).write_due(1, app.clock.now) == 0
    assert len(await checkpoints(app)) == 2
    assert (await audit(app)).ok


async def test_what_comes_after_a_checkpoint_still_counts(app, pipeline, transport, intake):
    await checkpointed(app, pipeline, transport, intake, "e2")
    # A reversal of a checkpointed earning, and a new earning still in its hold.
    assert (await intake.submit(body(id="r2", type="reversal", user={"telegram_id": C}, event_id="e2"),
                                received_at=app.clock.now())).http_status == 202
    await converted(intake, "sc2")
    b = await balance(app, B)
    assert (b.available, b.pending, b.reversed) == (0, 2000, 5000)
    # A payout of what matured since, with a second checkpoint taken in between.
    app.clock.advance(days=2)
    await writer(app).write_due(1, app.clock.now)
    assert (await intake.submit(body(id="p2", type="payout", user={"telegram_id": B}, amount_fen=1500),
                                received_at=app.clock.now())).http_status == 202
    b = await balance(app, B)
    assert (b.available, b.pending, b.paid, b.reversed) == (500, 0, 1500, 5000)
    assert "Available: ¥5.00" in await rewards_text(pipeline, transport, B, "Bobby")
    report = await audit(app)
    assert report.ok, report.problems


async def test_this_month_stays_right_across_a_month_end(app, pipeline, transport, intake):
    await checkpointed(app, pipeline, transport, intake, "e3")
    text_now = await earnings_text(pipeline, transport, B, "Bobby")
    assert "This month</b>: ¥50.00" in text_now and "All time</b>: ¥50.00" in text_now
    app.clock.advance(days=40)  # T0 is 26 November: this is January
    later = await earnings_text(pipeline, transport, B, "Bobby")
    assert "This month</b>: ¥0.00" in later and "All time</b>: ¥50.00" in later


async def test_earnings_waiting_for_the_credit_check_are_never_settled(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await converted(intake, "e4")  # B has not passed the credit check: held
    app.clock.advance(days=2)
    await writer(app).write_due(1, app.clock.now)
    assert (await balance(app, B)).pending == 5000
    await approve(intake, B)  # approved after the checkpoint: released, not lost
    assert (await balance(app, B)).available == 5000
    app.clock.advance(days=40)
    await writer(app).write_due(1, app.clock.now)  # nothing new after it: no second checkpoint
    assert [uid for uid, _, _ in await checkpoints(app)].count(B) == 1
    assert (await audit(app)).ok


async def test_checkpoints_are_append_only(app, pipeline, transport, intake):
    await checkpointed(app, pipeline, transport, intake, "e5")
    for statement in (update(LedgerCheckpoint).values(entries=99),
                      update(LedgerCheckpointSum).values(amount_fen=1)):
        with pytest.raises(Exception, match="append-only"):
            async with app.uow() as uow:
                await uow.session.execute(statement)
                await uow.commit()
    assert (await balance(app, B)).available == 5000


async def test_ledger_check_finds_a_checkpoint_that_disagrees_with_its_entries(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await approve(intake, A, B)
    await converted(intake, "e6")
    app.clock.advance(days=2)
    async with app.uow() as uow:
        upto = (await uow.session.execute(text("SELECT max(id) FROM ledger_entries"))).scalar()
        forged = (await uow.session.execute(
            insert(LedgerCheckpoint).values(beneficiary_id=B, upto_entry_id=upto, as_of=app.clock.now(),
                                            approved_at=None, tz=app.settings.timezone, entries=1,
                                            created_at=app.clock.now()).returning(LedgerCheckpoint.id))).scalar()
        await uow.session.execute(insert(LedgerCheckpointSum).values(
            checkpoint_id=forged, state="available", level=1, rule="first_loan",
            month=(T0 + timedelta(hours=8)).date().replace(day=1), amount_fen=999_999))
        await uow.commit()
    report = await audit(app, replay=False)
    assert not report.ok
    assert any(f"checkpoint #{forged}" in p for p in report.problems), report.problems


async def test_only_beneficiaries_with_enough_new_entries_are_due(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await approve(intake, A, B)
    await converted(intake, "e7", "sc7")
    w = writer(app)
    assert await w.due(3) == []
    assert await w.due(2) == [A, B]
    assert await w.write_due(0, app.clock.now) == 0  # LEDGER_CHECKPOINT_ENTRIES=0: off
    await w.write_due(2, app.clock.now)
    assert await w.due(1) == []
    async with app.uow() as uow:
        assert (await uow.session.execute(select(func.count()).select_from(LedgerCheckpoint))).scalar() == 2


async def test_the_running_bots_job_writes_them_and_can_be_turned_off(app, pipeline, transport, intake):
    import asyncio
    import dataclasses

    from bot.runtime.jobs import checkpoint_ledgers

    await chain(pipeline, transport)
    await approve(intake, A, B)
    await converted(intake, "e8", "sc8")
    app.clock.advance(days=2)
    off = dataclasses.replace(app, settings=app.settings.model_copy(update={"ledger_checkpoint_entries": 0}))
    await asyncio.wait_for(checkpoint_ledgers(off, asyncio.Event(), interval=0.01), 5)  # returns at once
    assert await checkpoints(app) == []
    on = dataclasses.replace(app, settings=app.settings.model_copy(update={"ledger_checkpoint_entries": 2}))
    stop = asyncio.Event()
    job = asyncio.create_task(checkpoint_ledgers(on, stop, interval=0.01))
    for _ in range(500):
        if len(await checkpoints(app)) == 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(job, 5)
    assert [(uid, n) for uid, _, n in await checkpoints(app)] == [(A, 2), (B, 2)]


async def test_two_instances_writing_the_same_checkpoint_keep_one(app, pipeline, transport, intake):
    import asyncio

    await chain(pipeline, transport)
    await approve(intake, A, B)
    await converted(intake, "e9")
    app.clock.advance(days=2)
    results = await asyncio.gather(*(writer(app).write(B, app.clock.now()) for _ in range(3)))
    assert len([r for r in results if r is not None]) >= 1
    assert [uid for uid, _, _ in await checkpoints(app)] == [B]
    assert (await balance(app, B)).available == 5000
