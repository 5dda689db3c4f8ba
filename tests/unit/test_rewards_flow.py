"""Rewards through the intake: signed-event bodies in, ledger entries, balances and notices out."""
from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from bot.clock import FrozenClock
from bot.services.binding import BindingService
from bot.services.rewards.balances import BalanceService
from db.models import Event, OutboxMessage
from tests.conftest import T0
from tests.support import message, person

A, B, C, D = 1001, 1002, 1003, 1004


def body(**fields) -> bytes:  # noqa: ANN003
    fields.setdefault("occurred_at", T0.isoformat())
    return json.dumps(fields).encode()


async def chain(pipeline, transport):  # noqa: ANN001, ANN201
    """A → B → C bound through the bot."""
    await pipeline.handle(message(person(A, "Alice"), "/code"))
    code_a = re.search(r"start=(\w+)", transport.last(A).text).group(1)
    await pipeline.handle(message(person(B, "Bobby"), f"/start {code_a}"))
    await pipeline.handle(message(person(B, "Bobby"), "/code"))
    code_b = re.search(r"start=(\w+)", transport.last(B).text).group(1)
    await pipeline.handle(message(person(C, "Carol"), f"/start {code_b}"))
    return code_a, code_b


async def balance(app, uid):  # noqa: ANN001, ANN201
    async with app.uow() as uow:
        return await BalanceService(uow).balance(uid, app.clock.now())


async def approve(intake, *uids):  # noqa: ANN001, ANN201
    now = intake.app.clock.now()
    for uid in uids:
        result = await intake.submit(body(id=f"ca-{uid}", type="credit_approved", user={"telegram_id": uid},
                                          occurred_at=now.isoformat()), received_at=now)
        assert result.http_status == 202


async def test_first_loan_pays_level_1_and_level_2_after_the_hold(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await approve(intake, A, B)
    result = await intake.submit(body(id="e1", type="first_loan", user={"telegram_id": C}, amount_fen=100000),
                                 received_at=T0)
    assert (result.http_status, result.body["status"]) == (202, "accepted")
    assert (await balance(app, B)).pending == 5000 and (await balance(app, A)).pending == 1000
    app.clock.advance(days=1)
    assert (await balance(app, B)).available == 5000 and (await balance(app, A)).available == 1000
    async with app.uow() as uow:
        rows = (await uow.session.execute(select(OutboxMessage.chat_id, OutboxMessage.text_key)
                                          .where(OutboxMessage.kind == "ledger"))).all()
    assert sorted(rows) == [(A, "notice-reward"), (B, "notice-reward")]


async def test_duplicates_and_conflicts(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    raw = body(id="e2", type="first_loan", user={"telegram_id": C}, amount_fen=100000)
    assert (await intake.submit(raw, received_at=T0)).http_status == 202
    assert (await intake.submit(raw, received_at=T0)).body == {"status": "duplicate"}
    reordered = json.dumps(dict(reversed(list(json.loads(raw).items())))).encode()
    assert (await intake.submit(reordered, received_at=T0)).http_status == 200  # same meaning
    changed = body(id="e2", type="first_loan", user={"telegram_id": C}, amount_fen=1)
    assert (await intake.submit(changed, received_at=T0)).http_status == 409
    async with app.uow() as uow:
        assert len(await uow.ledger.all_entries()) == 2


async def test_an_event_dated_in_the_future_is_400_and_stored_nowhere(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    ahead = body(id="e-future", type="first_loan", user={"telegram_id": C}, amount_fen=100000,
                 occurred_at=(T0 + timedelta(minutes=6)).isoformat())
    refused = await intake.submit(ahead, received_at=T0)
    assert refused.http_status == 400 and refused.body["error"].startswith("occurred_at: ")
    assert "after the time it was received" in refused.body["error"]
    async with app.uow() as uow:
        assert await uow.events.by_key("e-future") is None
        assert await uow.ledger.all_entries() == []
    # Within the clock difference tolerated for signatures (5 minutes) it is applied.
    skewed = body(id="e-skew", type="first_loan", user={"telegram_id": C}, amount_fen=100000,
                  occurred_at=(T0 + timedelta(minutes=4)).isoformat())
    assert (await intake.submit(skewed, received_at=T0)).http_status == 202
    # The refused one, resent once it has happened, is a new event, not a conflict.
    assert (await intake.submit(ahead, received_at=T0 + timedelta(minutes=6))).http_status == 202


async def test_held_until_credit_check_then_released(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await intake.submit(body(id="e3", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    app.clock.advance(days=2)
    assert (await balance(app, B)).pending == 5000  # held: B's credit check hasn't come
    await approve(intake, B)
    assert (await balance(app, B)).available == 5000


async def test_unverified_earnings_lapse(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await intake.submit(body(id="e4", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    app.clock.advance(days=31)
    b = await balance(app, B)
    assert (b.pending, b.available, b.lapsed) == (0, 0, 5000)
    await approve(intake, B)  # too late
    assert (await balance(app, B)).lapsed == 5000


async def test_reversal_claws_back_at_every_level(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await approve(intake, A, B)
    await intake.submit(body(id="e5", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    result = await intake.submit(body(id="r5", type="reversal", user={"telegram_id": C}, event_id="e5"),
                                 received_at=T0)
    assert result.http_status == 202
    for uid in (A, B):
        bal = await balance(app, uid)
        assert (bal.pending, bal.available, bal.reversed) == (0, 0, {A: 1000, B: 5000}[uid])


async def test_reversal_before_its_target_waits_for_it(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await approve(intake, A, B)
    await intake.submit(body(id="r6", type="reversal", user={"telegram_id": C}, event_id="e6"), received_at=T0)
    await intake.submit(body(id="e6", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    assert (await balance(app, B)).reversed == 5000 and (await balance(app, B)).pending == 0


async def test_payout_never_exceeds_available(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await approve(intake, A, B)
    await intake.submit(body(id="e7", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    early = await intake.submit(body(id="p7", type="payout", user={"telegram_id": B}, amount_fen=100), received_at=T0)
    assert early.http_status == 400 and "available" in early.body["error"]
    app.clock.advance(days=1)
    ok = await intake.submit(body(id="p8", type="payout", user={"telegram_id": B}, amount_fen=3000), received_at=T0)
    assert ok.http_status == 202
    bal = await balance(app, B)
    assert (bal.available, bal.paid) == (2000, 3000)
    async with app.uow() as uow:
        outcome = (await uow.events.by_key("p7")).outcome
    assert outcome == "refused"


async def test_own_conversion_never_pays_oneself_and_frozen_earn_nothing(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    async with app.uow() as uow:
        await uow.users.set_status(A, "frozen")
        await uow.commit()
    await intake.submit(body(id="e9", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    await intake.submit(body(id="e10", type="first_loan", user={"telegram_id": B}, amount_fen=1), received_at=T0)
    async with app.uow() as uow:
        entries = await uow.ledger.all_entries()
    assert {(e.beneficiary_id, e.level) for e in entries} == {(B, 1)}  # A frozen; B not paid for B's loan


async def test_repayment_cap_and_second_credit(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    for i in range(8):
        await intake.submit(body(id=f"rp{i}", type="repayment_on_time", user={"telegram_id": C}, loan_id=f"L{i}"),
                            received_at=T0)
    await intake.submit(body(id="sc", type="second_credit", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    async with app.uow() as uow:
        entries = await uow.ledger.all_entries()
    repayments = [e for e in entries if e.rule == "repayment_on_time"]
    assert len(repayments) == 6 and all(e.beneficiary_id == B for e in repayments)  # level 2 amount is 0
    assert sorted((e.beneficiary_id, e.amount_fen) for e in entries if e.rule == "second_credit") == [(A, 500), (B, 2000)]


async def test_tier_bonus_once_and_reversed_when_it_no_longer_holds(app, pipeline, transport, intake):
    await pipeline.handle(message(person(A, "Alice"), "/code"))
    code_a = re.search(r"start=(\w+)", transport.last(A).text).group(1)
    referees = list(range(2000, 2006))
    for uid in referees:
        await pipeline.handle(message(person(uid, f"R{uid}"), f"/start {code_a}"))
    for uid in referees:
        await intake.submit(body(id=f"fl{uid}", type="first_loan", user={"telegram_id": uid}, amount_fen=1),
                            received_at=T0)
    async with app.uow() as uow:
        tiers = [e for e in await uow.ledger.all_entries() if e.kind == "tier_bonus"]
    assert [(t.rule, t.amount_fen) for t in tiers] == [("tier:5", 10000)]  # 6 qualified: paid once
    await intake.submit(body(id="rv1", type="reversal", user={"telegram_id": 2000}, event_id="fl2000"), received_at=T0)
    async with app.uow() as uow:
        assert not [e for e in await uow.ledger.all_entries() if e.rule.startswith("reversal:tier")]  # 5 still
    await intake.submit(body(id="rv2", type="reversal", user={"telegram_id": 2001}, event_id="fl2001"), received_at=T0)
    async with app.uow() as uow:
        assert [e.amount_fen for e in await uow.ledger.all_entries() if e.rule == "reversal:tier:5"] == [-10000]


def _linger_after(monkeypatch, cls, name: str, seconds: float = 0.2) -> None:  # noqa: ANN001
    """Each call of cls.name yields for a moment after it: concurrent transactions all get that far
    before any of them commits (on PostgreSQL; SQLite's one writer runs them in turn anyway)."""
    original = getattr(cls, name)

    async def lingering(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        result = await original(self, *args, **kwargs)
        await asyncio.sleep(seconds)
        return result

    monkeypatch.setattr(cls, name, lingering)


async def test_concurrent_conversions_of_one_referee_count_under_its_lock(app, pipeline, transport, intake,
                                                                         monkeypatch):
    """Distinct event ids at once, naming the referee by Telegram id or by platform id (so the
    intake's per-identity locks don't order them): one first loan pays, and the repayment cap holds."""
    from db.repositories.events import EventRepository

    await chain(pipeline, transport)
    linked = await intake.submit(body(id="link-c", type="account_linked", user={"telegram_id": C, "external_id": "P-C"}),
                                 received_at=T0)
    assert linked.body["outcome"] == "applied"
    _linger_after(monkeypatch, EventRepository, "mark_applied")
    who = [{"telegram_id": C}, {"external_id": "P-C"}]
    loans = [body(id=f"fl-{i}", type="first_loan", user=who[i % 2], amount_fen=1000) for i in range(5)]
    answers = await asyncio.gather(*(intake.submit(raw, received_at=T0) for raw in loans))
    assert sorted(a.body["outcome"] for a in answers) == ["applied"] + ["ignored"] * 4
    repayments = [body(id=f"rp-{i}", type="repayment_on_time", user=who[i % 2], loan_id=f"L{i}") for i in range(10)]
    answers = await asyncio.gather(*(intake.submit(raw, received_at=T0) for raw in repayments))
    assert sorted(a.body["outcome"] for a in answers) == ["applied"] * 6 + ["ignored"] * 4
    async with app.uow() as uow:
        entries = await uow.ledger.all_entries()
    assert sorted((e.rule, e.beneficiary_id) for e in entries if e.rule == "first_loan") == [("first_loan", A),
                                                                                            ("first_loan", B)]
    assert len([e for e in entries if e.rule == "repayment_on_time"]) == 6


async def test_concurrent_first_loans_of_a_referrer_s_referees_pay_a_tier_once(app, pipeline, transport, intake,
                                                                              monkeypatch):
    """Seven referees' first loans at once, each counted after all of them wrote their qualified row:
    the referrer's lock makes them count in turn, so the fifth pays the tier."""
    from db.repositories.qualified import QualifiedRepository

    _linger_after(monkeypatch, QualifiedRepository, "add")
    await pipeline.handle(message(person(A, "Alice"), "/code"))
    code_a = re.search(r"start=(\w+)", transport.last(A).text).group(1)
    referees = list(range(2000, 2007))
    for uid in referees:
        await pipeline.handle(message(person(uid, f"R{uid}"), f"/start {code_a}"))
    loans = [body(id=f"fl{uid}", type="first_loan", user={"telegram_id": uid}, amount_fen=1) for uid in referees]
    await asyncio.gather(*(intake.submit(raw, received_at=T0) for raw in loans))
    async with app.uow() as uow:
        assert await uow.qualified.count(A) == 7
        tiers = [e for e in await uow.ledger.all_entries() if e.kind == "tier_bonus"]
    assert [(t.beneficiary_id, t.rule) for t in tiers] == [(A, "tier:5")]


class _TickingClock(FrozenClock):
    """Each reading a millisecond later than the one before, as a real clock would be."""

    def now(self):  # noqa: ANN201
        self.at += timedelta(milliseconds=1)
        return self.at


@pytest.mark.parametrize("pause", ["after the decision's read", "after the edge's write"])
async def test_a_first_loan_during_its_referee_s_binding_waits_for_it_and_pays(app, pipeline, transport, intake,
                                                                                 monkeypatch, pause):
    """A /bind under way (it has read what it decides on, or written its edge) and the referee's first
    loan in that moment: the loan waits for the binding (the referee's row lock), then pays the new
    referrer and counts for their tiers, and `ledger check` replays the two in the order they ran
    (the loan's time is read after the wait, later than the binding's)."""
    from bot.services.rewards.audit import audit
    from db.repositories.binding_snapshot import BindingSnapshotRepository

    app.clock = _TickingClock(T0)
    await pipeline.handle(message(person(A, "Alice"), "/code"))
    code_a = re.search(r"start=(\w+)", transport.last(A).text).group(1)
    await pipeline.handle(message(person(B, "Bobby"), "/start"))
    await approve(intake, A)
    if pause == "after the edge's write":
        _linger_after(monkeypatch, BindingService, "_write", seconds=0.5)
    else:
        _linger_after(monkeypatch, BindingSnapshotRepository, "read", seconds=0.5)

    async def bind() -> bool:
        async with app.uow() as uow:
            bound = await BindingService(uow, app.clock, 2).bind(B, code_a, source="bind")
            await uow.commit()
        return bound.ok

    async def first_loan() -> dict:
        await asyncio.sleep(0.2)  # the binding is lingering by now
        raw = body(id="fl-b", type="first_loan", user={"telegram_id": B}, amount_fen=100000,
                   occurred_at=app.clock.now().isoformat())
        return (await intake.submit(raw, received_at=app.clock.now())).body

    bound, loan = await asyncio.gather(bind(), first_loan())
    assert bound and loan["outcome"] == "applied"
    async with app.uow() as uow:
        paid = [(e.beneficiary_id, e.level, e.amount_fen) for e in await uow.ledger.all_entries()
                if e.rule == "first_loan"]
        assert paid == [(A, 1, 5000)]
        assert await uow.qualified.count(A) == 1
    report = await audit(app)
    assert report.ok, report.problems


async def test_a_registration_keeps_its_time_when_the_loan_it_settles_reads_the_clock_again(app, pipeline,
                                                                                              transport, intake):
    """A first loan waiting for its platform user, and the registration that creates the user (with
    a code that cannot apply, so the registration is recorded with a detail): the loan reads the
    clock again under the user's lock, and the registration's time stays the new user's first-seen
    time, which is how `ledger check` knows the platform created the user."""
    from bot.services.rewards.audit import audit

    app.clock = _TickingClock(T0)
    code_a, _ = await chain(pipeline, transport)
    early = await intake.submit(body(id="w1", type="first_loan", user={"external_id": "P-9"}, amount_fen=100000,
                                     occurred_at=app.clock.now().isoformat()), received_at=app.clock.now())
    assert early.body["outcome"] == "pending_user"
    reg = await intake.submit(body(id="w2", type="registered", user={"external_id": "P-9"}, referral_code="NOSUCH22",
                                   occurred_at=app.clock.now().isoformat()), received_at=app.clock.now())
    assert reg.body["detail"].startswith("referral_code not applied")
    async with app.uow() as uow:
        user = await uow.users.by_external("P-9")
        applied = dict((await uow.session.execute(
            select(Event.key, Event.applied_at).where(Event.key.in_(("w1", "w2"))))).all())
    assert applied["w2"] == user.first_seen_at < applied["w1"]
    report = await audit(app)
    assert report.ok, report.problems


async def test_a_first_loan_counts_towards_the_tiers_of_the_referrer_the_referee_had_then(app, pipeline, transport,
                                                                                            intake):
    """A referee who takes the loan first and binds afterwards (/bind within the window) counts for
    nobody: the loan paid nobody either."""
    await pipeline.handle(message(person(A, "Alice"), "/code"))
    code_a = re.search(r"start=(\w+)", transport.last(A).text).group(1)
    for uid in range(2000, 2004):
        await pipeline.handle(message(person(uid, f"R{uid}"), f"/start {code_a}"))
    for uid in (2004, 2005):
        await pipeline.handle(message(person(uid, f"R{uid}"), "/start"))
    for uid in range(2000, 2006):
        await intake.submit(body(id=f"fl{uid}", type="first_loan", user={"telegram_id": uid}, amount_fen=1),
                            received_at=T0)
    for uid in (2004, 2005):
        async with app.uow() as uow:
            assert (await BindingService(uow, app.clock, 2).bind(uid, code_a, source="bind")).ok
            await uow.commit()
    async with app.uow() as uow:
        assert await uow.qualified.count(A) == 4  # six referees with a loan, four of them bound then
        assert not [e for e in await uow.ledger.all_entries() if e.kind == "tier_bonus"]
    await pipeline.handle(message(person(2006, "R2006"), f"/start {code_a}"))
    await intake.submit(body(id="fl2006", type="first_loan", user={"telegram_id": 2006}, amount_fen=1), received_at=T0)
    async with app.uow() as uow:
        assert await uow.qualified.count(A) == 5
        tiers = [e for e in await uow.ledger.all_entries() if e.kind == "tier_bonus"]
        assert [(t.rule, t.event_id) for t in tiers] == [("tier:5", (await uow.events.by_key("fl2006")).id)]


async def test_events_for_unknown_users_wait_for_them(app, pipeline, transport, intake):
    code_a, _ = await chain(pipeline, transport)
    early = await intake.submit(body(id="x1", type="first_loan", user={"external_id": "P-42"}, amount_fen=1),
                                received_at=T0)
    assert early.body["outcome"] == "pending_user"
    reg = await intake.submit(body(id="x2", type="registered", user={"external_id": "P-42"}, referral_code=code_a),
                              received_at=T0)
    assert reg.http_status == 202
    async with app.uow() as uow:
        entries = await uow.ledger.all_entries()
        platform_user = await uow.users.by_external("P-42")
    assert platform_user.id < 0
    assert [(e.beneficiary_id, e.level, e.amount_fen) for e in entries] == [(A, 1, 5000)]
    linked = await intake.submit(body(id="x3", type="account_linked", user={"external_id": "P-42", "telegram_id": D}),
                                 received_at=T0)
    assert linked.http_status == 202
    async with app.uow() as uow:
        assert (await uow.referrals.binding_of(D)).referrer_id == A
        assert (await uow.users.by_external("P-42")).id == D
        assert await uow.referrals.counts(A) == {1: 2, 2: 1}


async def test_the_ledger_refuses_updates_and_deletes(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await intake.submit(body(id="e11", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    for statement in ("UPDATE ledger_entries SET amount_fen = 1", "DELETE FROM ledger_entries"):
        with pytest.raises(Exception, match="append-only"):
            async with app.uow() as uow:
                await uow.session.execute(text(statement))
    async with app.uow() as uow:
        assert len(await uow.ledger.all_entries()) == 2


async def test_user_view_for_the_platform(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await approve(intake, B)
    await intake.submit(body(id="e12", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    await intake.submit(body(id="e13", type="repayment_on_time", user={"telegram_id": C}, loan_id="L1"), received_at=T0)
    view = await intake.user_view(B)
    assert view["referrer_id"] == A and view["upline"] == [A]
    assert view["balance"]["pending"] == 5500 and view["earnings_by_level"] == {"1": 5500, "2": 0}
    assert view["eligibility"]["credit_approved"] is True
    assert view["referee_perk"]["en"].startswith("50%")
    assert view["quality_score"] == round(100 * 2 / 3)
    assert await intake.user_view(999_999) is None
