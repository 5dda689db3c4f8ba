"""Hypothesis stateful test of holds: bindings (bursts and velocity raise flags), conversions, credit
checks, reversals, payouts, time, and admins approving or rejecting flags in any order.

After every step, for every beneficiary:
* the balance states add up to the earnings: pending + available - owed + paid + reversed + lapsed
  equals the sum of their reward and tier-bonus entries, in SQL and in its Python twin;
* an entry held by an open flag is never available: the SQL balance equals the balance computed
  without those entries, plus their amount in pending (or lapsed);
* nothing is paid twice: no entry is reversed twice, and a payout never exceeds what was available.
At the end of each sequence, `ledger check` (with its replay of flags and decisions) is clean.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import sys
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, event, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, \
    run_state_machine_as_test
from sqlalchemy import func, select

from bot.app import App
from bot.clock import FrozenClock
from bot.services.audit import AuditLog
from bot.services.binding import BindingService
from bot.services.codes import CodeService
from bot.services.events.intake import EventIntake
from bot.services.fraud.review import DECISIONS, ReviewService
from bot.services.fraud.signals import FraudLimits
from bot.services.rewards.audit import AuditReport, audit, check_balances, check_checkpoints, check_entries, \
    recompute
from bot.services.rewards.balances import BalanceService
from bot.services.rewards.checkpoints import CheckpointWriter
from bot.services.rewards.overview import month_start
from bot.services.rewards.program import DEFAULT_PROGRAM
from db.models import LedgerEntry
from tests.support import SQLITE_ONLY, memory_app

pytestmark = SQLITE_ONLY

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)
PROGRAM = (DEFAULT_PROGRAM.replace("qualified = 5\nbonus = 10000", "qualified = 2\nbonus = 3000")
           .replace("qualified = 20\nbonus = 50000", "qualified = 3\nbonus = 7000"))
ADMIN = 777
MAX_USERS = 20


async def make_app(clock: FrozenClock) -> App:
    return await memory_app(clock, PROGRAM, ADMIN)


class HoldsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FrozenClock(T0)
        self.app = self.run(make_app(self.clock))
        self.steps = 0
        self.intake = EventIntake(self.app)
        self.users: list[int] = []
        self.bound: list[int] = []
        self.code_of: dict[int, str] = {}
        self.conversions: list[str] = []
        self.keys = itertools.count(1)

    def run(self, coro):  # noqa: ANN001, ANN201
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        try:
            if sys.exc_info()[0] is None:
                report = self.run(audit(self.app))
                assert report.ok, report.problems
        finally:
            self.run(self.app.close())
            self.loop.close()

    def submit(self, kind: str, uid: int, **fields: object) -> dict:
        key = f"{kind}-{next(self.keys)}"
        raw = json.dumps({"id": key, "type": kind, "occurred_at": self.clock.now().isoformat(),
                          "user": {"telegram_id": uid}, **fields}).encode()
        result = self.run(self.intake.submit(raw, received_at=self.clock.now()))
        assert result.http_status in (202, 400), result.body
        self.clock.advance(milliseconds=1)
        return {"key": key, "status": result.http_status}

    def add_user(self, referrer: int | None) -> None:
        uid = 1000 + len(self.users)
        limits = FraudLimits.from_settings(self.app.settings)

        async def go() -> bool:
            async with self.app.uow() as uow:
                await uow.users.insert_if_absent(user_id=uid, first_name=f"U{uid}", username=None, is_bot=False,
                                                 tg_language=None, now=self.clock.now())
                code = await CodeService(uow, self.clock).personal_code(uid)
                self.code_of[uid] = code.code
                ok = False
                if referrer is not None:
                    ok = (await BindingService(uow, self.clock, 2, limits).bind(uid, self.code_of[referrer],
                                                                               "link")).ok
                await uow.commit()
                return ok

        if self.run(go()):
            self.bound.append(uid)
        self.users.append(uid)

    @initialize(size=st.integers(1, 3))
    def first_users(self, size: int) -> None:
        for _ in range(size):
            self.add_user(None)

    @precondition(lambda self: len(self.users) < MAX_USERS)
    @rule(data=st.data(), gap=st.sampled_from([1.0, 1.0, 2.0, 30.0, 600.0]))
    def someone_binds(self, data: st.DataObject, gap: float) -> None:
        self.clock.advance(seconds=gap)
        self.add_user(data.draw(st.sampled_from(self.users), label="referrer"))

    @precondition(lambda self: len(self.users) <= MAX_USERS - 4)
    @rule(data=st.data(), size=st.integers(3, 4))
    def burst(self, data: st.DataObject, size: int) -> None:
        """Several sign-ups under one referrer a second apart: four make a burst flag."""
        referrer = data.draw(st.sampled_from(self.users), label="referrer")
        for _ in range(size):
            self.clock.advance(seconds=1)
            self.add_user(referrer)

    @precondition(lambda self: self.bound)
    @rule(data=st.data(), kind=st.sampled_from(["first_loan", "first_loan", "repayment_on_time", "second_credit"]))
    def conversion(self, data: st.DataObject, kind: str) -> None:
        uid = data.draw(st.sampled_from(self.bound), label="referee")
        fields = {"amount_fen": 100_000} if kind != "repayment_on_time" else {"loan_id": "L1"}
        done = self.submit(kind, uid, **fields)
        self.conversions.append(done["key"])

    @rule(data=st.data())
    def credit_check(self, data: st.DataObject) -> None:
        self.submit("credit_approved", data.draw(st.sampled_from(self.users), label="user"))

    @precondition(lambda self: self.conversions)
    @rule(data=st.data())
    def reversal(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(self.conversions), label="reversed")
        self.submit("reversal", self.users[0], event_id=target)

    @rule(data=st.data(), share=st.sampled_from([1, 2]))
    def payout(self, data: st.DataObject, share: int) -> None:
        uid = data.draw(st.sampled_from(self.users), label="payee")
        available = self.run(self.balance(uid)).available
        before = self.entry_count()
        done = self.submit("payout", uid, amount_fen=max(available // share, 1))
        assert (done["status"] == 202) == (available >= 1) == (self.entry_count() == before + 1)

    @rule()
    def checkpoints_are_written(self) -> None:
        """The checkpoint job's work, at any moment: no balance may change by it (the invariants compare)."""
        settings_ = self.app.settings
        self.run(CheckpointWriter(self.app.uow, settings_.tz, settings_.timezone).write_due(1, self.clock.now))

    @rule(delta=st.sampled_from([timedelta(hours=2), timedelta(days=1), timedelta(days=3)]))
    def time_passes(self, delta: timedelta) -> None:
        self.clock.at += delta

    @rule(data=st.data(), decision=st.sampled_from(DECISIONS))
    def admin_decides(self, data: st.DataObject, decision: str) -> None:
        async def go() -> None:
            async with self.app.uow() as uow:
                open_flags = await uow.flags.queue(100)
                if not open_flags:
                    return
                flag = data.draw(st.sampled_from(open_flags), label="flag")
                service = ReviewService(uow, AuditLog(uow, self.clock), self.clock, frozenset({ADMIN}),
                                        self.app.settings.tz)
                result = await service.decide(flag.id, decision, actor_id=ADMIN, via="chat")
                assert result.outcome == "done"
                again = await service.decide(flag.id, decision, actor_id=ADMIN, via="chat")
                assert again.outcome == "already"
                await uow.commit()
                event(f"{decision} of a {flag.kind} flag holding {result.view.held_fen + result.reversed_fen} fen")

        self.clock.advance(seconds=5)
        self.run(go())
        self.clock.advance(seconds=5)

    # invariants
    async def balance(self, uid: int):  # noqa: ANN201
        async with self.app.uow() as uow:
            return await BalanceService(uow).balance(uid, self.clock.now())

    def entry_count(self) -> int:
        async def count() -> int:
            async with self.app.uow() as uow:
                return (await uow.session.execute(select(func.count()).select_from(LedgerEntry))).scalar_one()
        return self.run(count())

    @invariant()
    def states_add_up_and_held_is_never_available(self) -> None:
        report = AuditReport()
        # "Since" the month's start (what /earnings asks, and what checkpoints serve) or three days
        # back (a split no checkpoint serves, so the read sums every entry), by turns.
        now = self.clock.now()
        self.steps += 1
        since = month_start(now, self.app.settings.tz) if self.steps % 2 else now - timedelta(days=3)
        self.run(check_balances(self.app, report, now, since=since))
        self.run(check_checkpoints(self.app, report))
        self.run(check_entries(self.app, report))
        assert report.ok, report.problems

        async def go() -> None:
            now = self.clock.now()
            async with self.app.uow() as uow:
                entries = await uow.ledger.all_entries()
                open_ids = {f.id for f in await uow.flags.queue(1000)}
                reversed_ids = {e.reverses_id for e in entries if e.reverses_id is not None}
                for uid in {e.beneficiary_id for e in entries}:
                    mine = [e for e in entries if e.beneficiary_id == uid]
                    user = await uow.users.get(uid)
                    approved = user.credit_approved_at if user else None
                    b = await BalanceService(uow).balance(uid, now)
                    earned = sum(e.amount_fen for e in mine if e.kind in ("reward", "tier_bonus"))
                    assert b.pending + b.available - b.owed + b.paid + b.reversed + b.lapsed == earned, (uid, b)
                    held = [e for e in mine if e.hold_flag_id in open_ids and e.id not in reversed_ids]
                    if not held:
                        continue
                    rest = [e for e in mine if e not in held]
                    without, _ = recompute(rest, reversed_ids, approved, now, frozenset(open_ids))
                    assert b.available == without.available and b.owed == without.owed, (uid, b, without)
                    assert b.pending + b.lapsed == without.pending + without.lapsed + sum(e.amount_fen for e in held)

        self.run(go())


def test_holds_state_machine() -> None:
    run_state_machine_as_test(HoldsMachine, settings=settings(
        max_examples=20, stateful_step_count=30, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]))
