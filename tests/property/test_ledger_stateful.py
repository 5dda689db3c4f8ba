"""Hypothesis stateful test of the rewards ledger.

Random sequences of bindings (in the bot and through `registered`), identity
links, conversions, reversals (of earlier events, of events not delivered
yet, of events that never come), payouts (some above the available balance),
duplicates, conflicting re-uses of an id, freezes and clock jumps, all
submitted as raw JSON bodies through `EventIntake.submit`.

After every step:
* every beneficiary's balance recomputed in Python from the raw entries equals
  BalanceService's (SQL); the signed sum of the entries equals pending +
  available - owed + lapsed; available is never negative; no payout took
  more than was available (audit part 1);
* the ledger equals a small Python model of the program (levels and amounts
  from the program, frozen beneficiaries skipped, first loan once, the
  repayment cap, tier bonuses and their clawback, reversals, waiting events),
  entry for entry (so nothing is paid twice), and every event's outcome
  equals the model's;
* a duplicate never changes the entry count, a payout is accepted exactly
  when it fits in the balance available just before.
Every 4 steps, the SQL invariants of the entries (audit part 2: one effect
per (event, beneficiary, level, rule), reversals negate an earning of their
beneficiary, no event left waiting for something that happened). At the end
of each sequence, the whole audit, including its replay of the events into a
fresh database, must be clean.

The program is the default one with lower tier thresholds (2 and 3 qualified
referees instead of 5 and 20), so that tier bonuses and their clawback happen
in sequences of 40 steps.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, \
    run_state_machine_as_test
from sqlalchemy import func, select

from bot.app import App
from bot.clock import FrozenClock
from bot.services.binding import BindingService
from bot.services.codes import CodeService
from bot.services.events.intake import EventIntake
from bot.services.rewards.audit import AuditReport, audit, check_balances, check_checkpoints, check_entries
from bot.services.rewards.balances import BalanceService
from bot.services.rewards.checkpoints import CheckpointWriter
from bot.services.rewards.overview import month_start
from bot.services.rewards.program import DEFAULT_PROGRAM, Program
from db.models import Event, LedgerEntry, QualifiedReferee
from tests.support import SQLITE_ONLY, memory_app

pytestmark = SQLITE_ONLY

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)
TEST_PROGRAM = (DEFAULT_PROGRAM.replace("qualified = 5\nbonus = 10000", "qualified = 2\nbonus = 3000")
                .replace("qualified = 20\nbonus = 50000", "qualified = 3\nbonus = 7000"))
CONVERSIONS = ("first_loan", "repayment_on_time", "second_credit")
PENDING = ("pending_user", "pending_target")
MAX_BOT_USERS = 12
ENTRY_CHECK_EVERY = 4  # the SQL invariants of the entries; balances and the model after every step

Ident = int | str  # a Telegram id, or "ext:<external id>" for a platform-only person


# ------------------------------------------------------------------------------------------------- model

@dataclass
class MEvent:
    seq: int
    key: str
    type: str
    occurred_at: datetime
    tg: int | None
    ext: str | None
    amount: int | None = None
    target: str | None = None
    code: str | None = None
    payout_ok: bool = False  # decided by the test from the balance just before
    outcome: str | None = None
    user: Ident | None = None


class Model:
    """What the ledger should hold, written from the program's rules, not from the code."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.users: dict[Ident, str | None] = {}  # identity -> external id
        self.by_ext: dict[str, Ident] = {}
        self.parent: dict[Ident, Ident] = {}
        self.frozen: set[Ident] = set()
        self.codes: dict[str, int] = {}
        self.events: dict[str, MEvent] = {}
        self.entries: list[tuple] = []  # (key, beneficiary, level, rule, kind, amount)
        self.reversed: set[int] = set()  # indexes into entries
        self.seq = itertools.count()

    # who
    def find(self, tg: int | None, ext: str | None) -> Ident | None:
        if tg is not None and tg in self.users:
            return tg
        if ext is not None and ext in self.by_ext:
            return self.by_ext[ext]
        return None

    def ancestors(self, who: Ident, limit: int | None = None) -> list[Ident]:
        chain: list[Ident] = []
        while who in self.parent and (limit is None or len(chain) < limit):
            who = self.parent[who]
            chain.append(who)
        return chain

    def bind(self, who: Ident, code: str | None) -> bool:
        owner = self.codes.get(code or "")
        if owner is None or owner in self.frozen or owner == who or who in self.parent \
                or who in [owner, *self.ancestors(owner)]:
            return False
        self.parent[who] = owner
        return True

    # events
    def submit(self, event: MEvent) -> str:
        self.events[event.key] = event
        self.apply(event)
        return event.outcome

    def apply(self, event: MEvent) -> None:
        event.outcome = self.dispatch(event)
        if event.outcome not in PENDING:
            # A reversal delivered before its target is settled once the target is: the same outcome
            # as if the two had come in order.
            waiting = [r for r in self.events.values()
                       if r.type == "reversal" and r.outcome == "pending_target" and r.target == event.key]
            for reversal in sorted(waiting, key=lambda r: r.seq):
                self.apply(reversal)

    def dispatch(self, event: MEvent) -> str:
        if event.type == "account_linked":
            return self.link(event)
        if event.type == "registered":
            return self.register(event)
        if event.type == "reversal":
            return self.reverse(event)
        who = self.find(event.tg, event.ext)
        if who is None:
            return "pending_user"
        event.user = who
        if event.type == "credit_approved":
            return "applied"
        if event.type == "payout":
            if not event.payout_ok:
                return "refused"
            self.entries.append((event.key, who, 0, "payout", "payout", -event.amount))
            return "applied"
        return self.convert(event, who)

    def count_applied(self, who: Ident, kind: str) -> int:
        return sum(1 for e in self.events.values() if e.user == who and e.type == kind and e.outcome == "applied")

    def qualified(self, referrer: Ident) -> int:
        reversed_keys = {e.target for e in self.events.values() if e.type == "reversal" and e.outcome == "applied"}
        return len({e.user for e in self.events.values()
                    if e.type == "first_loan" and e.outcome == "applied" and e.key not in reversed_keys
                    and self.parent.get(e.user) == referrer})

    def unreversed_tier(self, referrer: Ident, tier_rule: str) -> int | None:
        for i, (_, ben, _, r, kind, _) in enumerate(self.entries):
            if ben == referrer and r == tier_rule and kind == "tier_bonus" and i not in self.reversed:
                return i
        return None

    def convert(self, event: MEvent, who: Ident) -> str:
        rule, program = event.type, self.program
        if rule == "first_loan" and self.count_applied(who, rule) >= 1:
            return "ignored"  # only the first first loan pays
        cap = program.rewards[rule].max_per_referee
        if cap is not None and self.count_applied(who, rule) >= cap:
            return "ignored"
        event.outcome = "applied"  # counts towards the tiers below
        upline = self.ancestors(who, program.levels)
        for level, beneficiary in enumerate(upline, start=1):
            amount = program.rewards[rule].amount(level)
            if amount > 0 and beneficiary not in self.frozen:
                self.entries.append((event.key, beneficiary, level, rule, "reward", amount))
        if rule == "first_loan" and upline and upline[0] not in self.frozen:
            referrer, qualified = upline[0], self.qualified(upline[0])
            for tier in program.tiers:
                if qualified >= tier.qualified and self.unreversed_tier(referrer, tier.rule) is None:
                    self.entries.append((event.key, referrer, 1, tier.rule, "tier_bonus", tier.bonus))
        return "applied"

    def reverse(self, event: MEvent) -> str:
        target = self.events.get(event.target or "")
        if target is None or target.outcome in PENDING:
            return "pending_target"
        if target.type not in CONVERSIONS:
            return "refused"
        event.user, event.outcome = target.user, "applied"
        for i, (key, ben, level, rule, kind, amount) in enumerate(list(self.entries)):
            if key == target.key and kind == "reward" and i not in self.reversed:
                self.reversed.add(i)
                self.entries.append((event.key, ben, level, f"reversal:{rule}", "reversal", -amount))
        if target.type == "first_loan" and target.user is not None:
            upline = self.ancestors(target.user, 1)
            if upline:
                qualified = self.qualified(upline[0])
                for tier in self.program.tiers:
                    paid = self.unreversed_tier(upline[0], tier.rule)
                    if qualified < tier.qualified and paid is not None:
                        self.reversed.add(paid)
                        self.entries.append((event.key, upline[0], 1, f"reversal:{tier.rule}", "reversal",
                                             -self.entries[paid][5]))
        return "applied"

    def register(self, event: MEvent) -> str:
        who = self.find(event.tg, event.ext)
        created = who is None
        if created:
            who = event.tg if event.tg is not None else f"ext:{event.ext}"
            self.users[who] = event.ext
            if event.ext is not None:
                self.by_ext[event.ext] = who
        event.user = who
        if event.code and created:
            self.bind(who, event.code)
        self.release(event.tg, event.ext)
        return "applied"

    def link(self, event: MEvent) -> str:
        tg, ext = event.tg, event.ext
        known_tg = tg in self.users
        owner = self.by_ext.get(ext)
        if known_tg and self.users[tg] not in (None, ext):
            return "refused"
        if isinstance(owner, int) and owner != tg:
            return "refused"
        if owner is None or isinstance(owner, str):
            self.users[tg] = ext
            self.by_ext[ext] = tg
        if isinstance(owner, str):  # a platform-only person becomes the Telegram user
            edge = self.parent.pop(owner, None)
            del self.users[owner]
            for other in self.events.values():
                if other.user == owner:
                    other.user = tg
            if edge is not None and tg not in self.parent and tg not in [edge, *self.ancestors(edge)]:
                self.parent[tg] = edge
        event.user = tg
        self.release(tg, ext)
        return "applied"

    def release(self, tg: int | None, ext: str | None) -> None:
        waiting = [e for e in self.events.values() if e.outcome == "pending_user"
                   and ((tg is not None and e.tg == tg) or (ext is not None and e.ext == ext))]
        for event in sorted(waiting, key=lambda e: (e.occurred_at, e.seq)):
            self.apply(event)


# ----------------------------------------------------------------------------------------------- machine

async def make_app(clock: FrozenClock) -> App:
    return await memory_app(clock, TEST_PROGRAM, 777)


def body(key: str, kind: str, user: dict, occurred_at: datetime, **fields: object) -> bytes:
    return json.dumps({"id": key, "type": kind, "occurred_at": occurred_at.isoformat(), "user": user,
                       **{k: v for k, v in fields.items() if v is not None}}).encode()


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FrozenClock(T0)
        self.app = self.run(make_app(self.clock))
        self.intake = EventIntake(self.app)
        self.model = Model(self.app.program)
        self.bot_users: list[int] = []
        self.code_of: dict[int, str] = {}
        self.exts: list[str] = []  # external ids used so far, known or not
        self.fresh_tgs: list[int] = []  # Telegram ids that never opened the bot
        self.keys = itertools.count(1)
        self.future_keys: list[str] = []  # reversed before they were delivered
        self.bodies: list[bytes] = []
        self.status_changes: list[tuple[datetime, int, str]] = []
        self.steps = 0

    def run(self, coro):  # noqa: ANN001, ANN201
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        try:
            if sys.exc_info()[0] is None:  # the example passed so far: the replay must agree at the end
                self.check_replay()
        finally:
            self.run(self.app.close())
            self.loop.close()

    # helpers
    def tick(self) -> None:
        """Every step at its own instant, as in production (the replay orders by time)."""
        self.clock.advance(milliseconds=1)

    def new_ext(self) -> str:
        ext = f"P-{len(self.exts) + 1}"
        self.exts.append(ext)
        return ext

    def new_tg(self) -> int:
        tg = 50_001 + len(self.fresh_tgs)
        self.fresh_tgs.append(tg)
        return tg

    def new_key(self, prefix: str = "e") -> str:
        return f"{prefix}{next(self.keys)}"

    def key_for(self, data: st.DataObject, prefix: str) -> str:
        """A fresh id, or one a reversal already named (delivered out of order)."""
        if self.future_keys and data.draw(st.booleans(), label="an id reversed in advance"):
            return self.future_keys.pop(data.draw(st.integers(0, len(self.future_keys) - 1)))
        return self.new_key(prefix)

    def subject(self, data: st.DataObject) -> dict:
        options = ["bot_user"] * 4 + ["ext"] * 2 * bool(self.exts) + ["fresh_tg"] * bool(self.fresh_tgs) \
            + ["new_ext", "new_tg"]
        choice = data.draw(st.sampled_from(options), label="subject")
        if choice == "bot_user":
            return {"telegram_id": data.draw(st.sampled_from(self.bot_users))}
        if choice == "ext":
            ext = data.draw(st.sampled_from(self.exts))
            linked = self.model.by_ext.get(ext)
            if isinstance(linked, int) and data.draw(st.booleans(), label="both ids"):
                return {"telegram_id": linked, "external_id": ext}
            return {"external_id": ext}
        if choice == "fresh_tg":
            return {"telegram_id": data.draw(st.sampled_from(self.fresh_tgs))}
        if choice == "new_ext":
            return {"external_id": self.new_ext()}
        return {"telegram_id": self.new_tg()}

    def entry_count(self) -> int:
        async def count() -> int:
            async with self.app.uow() as uow:
                return (await uow.session.execute(select(func.count()).select_from(LedgerEntry))).scalar_one()
        return self.run(count())

    def send(self, event: MEvent, raw: bytes) -> None:
        """Submits a new event and checks the answer against the model's outcome."""
        result = self.run(self.intake.submit(raw, received_at=self.clock.now()))
        expected = self.model.submit(event)
        self.bodies.append(raw)
        if expected == "refused":
            assert (result.http_status, result.body.get("status")) == (400, "refused"), (event, result)
        else:
            assert result.http_status == 202, (event, result)
            assert result.body["outcome"] == expected, (event, result)
        self.tick()

    def make_event(self, key: str, kind: str, user: dict, occurred_at: datetime, **fields: object) -> MEvent:
        return MEvent(next(self.model.seq), key, kind, occurred_at, user.get("telegram_id"), user.get("external_id"),
                      **fields)

    # rules
    @initialize(data=st.data(), size=st.integers(2, 6))
    def first_users(self, data: st.DataObject, size: int) -> None:
        """A small forest to start from, so that conversions have an upline to pay."""
        self.add_bot_user_under(None)
        for _ in range(size - 1):
            self.add_bot_user_under(data.draw(st.sampled_from(self.bot_users), label="referrer"))
        # Some pass the platform's credit check at once, so their earnings become available.
        for uid in data.draw(st.sets(st.sampled_from(self.bot_users)), label="approved"):
            user, key, at = {"telegram_id": uid}, self.new_key("ca"), self.clock.now()
            self.send(self.make_event(key, "credit_approved", user, at), body(key, "credit_approved", user, at))

    def add_bot_user_under(self, referrer: int | None) -> None:
        uid = 1000 + len(self.bot_users)

        async def go() -> bool:
            async with self.app.uow() as uow:
                await uow.users.insert_if_absent(user_id=uid, first_name=f"U{uid}", username=None, is_bot=False,
                                                 tg_language=None, now=self.clock.now())
                code = await CodeService(uow, self.clock).personal_code(uid)
                bound = False
                if referrer is not None:
                    result = await BindingService(uow, self.clock, self.app.settings.referral_levels).bind(
                        uid, self.code_of[referrer], "link")
                    bound = result.ok
                await uow.commit()
            self.code_of[uid] = code.code
            return bound

        bound = self.run(go())
        self.bot_users.append(uid)
        self.model.users[uid] = None
        self.model.codes[self.code_of[uid]] = uid
        expected = referrer is not None and self.model.bind(uid, self.code_of[referrer])
        assert bound == expected, (uid, referrer)
        self.tick()

    @precondition(lambda self: len(self.bot_users) < MAX_BOT_USERS)
    @rule(data=st.data())
    def bot_user_joins(self, data: st.DataObject) -> None:
        self.add_bot_user_under(data.draw(st.sampled_from([None, *self.bot_users]), label="referrer"))

    @rule(data=st.data())
    def platform_registers(self, data: st.DataObject) -> None:
        shape = data.draw(st.sampled_from(["ext", "tg", "both"]), label="ids")
        ext = tg = None
        if shape != "tg":
            ext = self.new_ext() if not self.exts or data.draw(st.booleans()) else data.draw(st.sampled_from(self.exts))
        if shape != "ext":
            pool = self.fresh_tgs + self.bot_users
            tg = self.new_tg() if data.draw(st.booleans()) else data.draw(st.sampled_from(pool))
        code = data.draw(st.none() | st.sampled_from(sorted(self.code_of.values())) | st.just("NOSUCHCODE"),
                         label="code")
        user = {k: v for k, v in (("telegram_id", tg), ("external_id", ext)) if v is not None}
        key, at = self.key_for(data, "reg"), self.clock.now()
        self.send(self.make_event(key, "registered", user, at, code=code),
                  body(key, "registered", user, at, referral_code=code))

    @rule(data=st.data())
    def platform_links(self, data: st.DataObject) -> None:
        model = self.model
        unlinked_exts = [x for x in self.exts if not isinstance(model.by_ext.get(x), int)]
        unlinked_tgs = [t for t in self.bot_users + self.fresh_tgs if model.users.get(t) is None]
        if data.draw(st.integers(0, 3), label="any ids (mostly refused)") == 0:
            tg_id = data.draw(st.sampled_from(self.bot_users + self.fresh_tgs))
            ext = data.draw(st.sampled_from(self.exts)) if self.exts else self.new_ext()
        else:
            tg_id = data.draw(st.sampled_from(unlinked_tgs)) if unlinked_tgs and data.draw(st.booleans()) \
                else self.new_tg()
            ext = data.draw(st.sampled_from(unlinked_exts)) if unlinked_exts and data.draw(st.booleans()) \
                else self.new_ext()
        user = {"telegram_id": tg_id, "external_id": ext}
        key, at = self.key_for(data, "link"), self.clock.now()
        self.send(self.make_event(key, "account_linked", user, at), body(key, "account_linked", user, at))

    def conversion(self, data: st.DataObject, kind: str, late: int, amount: int) -> None:
        user = self.subject(data)
        key = self.key_for(data, "e")
        at = self.clock.now() - timedelta(hours=late)
        fields: dict = {}
        if kind in ("first_loan", "second_credit"):
            fields["amount_fen"] = amount
        elif kind == "repayment_on_time":
            fields["loan_id"] = f"L{amount}"
        event = self.make_event(key, kind, user, at, amount=fields.get("amount_fen"))
        self.send(event, body(key, kind, user, at, **fields))

    @rule(data=st.data(), late=st.sampled_from([0, 0, 1, 30]), amount=st.integers(0, 10**6), wait=st.sampled_from([0, 0, 0, 6, 25, 49]))
    def first_loan(self, data: st.DataObject, late: int, amount: int, wait: int) -> None:
        self.clock.advance(hours=wait)
        self.conversion(data, "first_loan", late, amount)

    def first_timers(self) -> list[int]:
        return [u for u in self.bot_users if u in self.model.parent and not self.model.count_applied(u, "first_loan")]

    @precondition(lambda self: self.first_timers())
    @rule(data=st.data(), amount=st.integers(1, 10**6))
    def referee_takes_first_loan(self, data: st.DataObject, amount: int) -> None:
        """A bound user's first loan: what tier bonuses count."""
        uid = data.draw(st.sampled_from(self.first_timers()), label="referee")
        user, key, at = {"telegram_id": uid}, self.key_for(data, "e"), self.clock.now()
        self.send(self.make_event(key, "first_loan", user, at, amount=amount),
                  body(key, "first_loan", user, at, amount_fen=amount))

    @rule(data=st.data(), late=st.sampled_from([0, 0, 1, 30]), amount=st.integers(0, 10**6), wait=st.sampled_from([0, 0, 0, 6, 25, 49]))
    def repayment_on_time(self, data: st.DataObject, late: int, amount: int, wait: int) -> None:
        self.clock.advance(hours=wait)
        self.conversion(data, "repayment_on_time", late, amount)

    @rule(data=st.data(), late=st.sampled_from([0, 0, 1, 30]), amount=st.integers(0, 10**6), wait=st.sampled_from([0, 0, 0, 6, 25, 49]))
    def second_credit(self, data: st.DataObject, late: int, amount: int, wait: int) -> None:
        self.clock.advance(hours=wait)
        self.conversion(data, "second_credit", late, amount)

    @rule(data=st.data(), late=st.sampled_from([0, 0, 1, 30]), wait=st.sampled_from([0, 0, 0, 6, 25, 49]))
    def credit_approved(self, data: st.DataObject, late: int, wait: int) -> None:
        self.clock.advance(hours=wait)
        self.conversion(data, "credit_approved", late, 0)

    @rule(data=st.data())
    def reversal(self, data: st.DataObject) -> None:
        earlier = list(self.model.events)
        conversions = [k for k, e in self.model.events.items() if e.type in CONVERSIONS]
        options = ["conversion"] * 3 * bool(conversions) + ["earlier"] * bool(earlier) + ["future", "never"]
        choice = data.draw(st.sampled_from(options), label="target")
        if choice == "conversion":
            target = data.draw(st.sampled_from(conversions))
        elif choice == "earlier":
            target = data.draw(st.sampled_from(earlier))
        elif choice == "future":
            target = self.new_key("late")
            self.future_keys.append(target)
        else:
            target = self.new_key("never")
        user = self.subject(data)
        key, at = self.new_key("rv"), self.clock.now()
        self.send(self.make_event(key, "reversal", user, at, target=target),
                  body(key, "reversal", user, at, event_id=target))

    @rule(data=st.data(), how=st.sampled_from(["all", "part", "over", "any"]), fen=st.integers(1, 20_000), wait=st.sampled_from([0, 0, 0, 6, 25, 49]))
    def payout(self, data: st.DataObject, how: str, fen: int, wait: int) -> None:
        self.clock.advance(hours=wait)
        uid = data.draw(st.sampled_from(self.bot_users), label="payee")
        available = self.run(self.balance(uid)).available
        amount = {"all": available, "part": available // 2, "over": available + 1, "any": fen}[how] or fen
        key, at = self.key_for(data, "po"), self.clock.now()
        user = {"telegram_id": uid}
        event = self.make_event(key, "payout", user, at, amount=amount, payout_ok=amount <= available)
        before = self.entry_count()
        self.send(event, body(key, "payout", user, at, amount_fen=amount))
        # accepted only if it fitted in what was available just before
        assert self.entry_count() == before + (1 if amount <= available else 0)

    @precondition(lambda self: self.bodies)
    @rule(data=st.data(), reformat=st.booleans())
    def duplicate(self, data: st.DataObject, reformat: bool) -> None:
        raw = data.draw(st.sampled_from(self.bodies), label="resent")
        if reformat:  # same meaning, other formatting: still the same event
            raw = json.dumps(dict(reversed(list(json.loads(raw).items()))), indent=1).encode()
        before = self.entry_count()
        result = self.run(self.intake.submit(raw, received_at=self.clock.now()))
        assert (result.http_status, result.body) == (200, {"status": "duplicate"})
        assert self.entry_count() == before
        self.tick()

    @precondition(lambda self: self.bodies)
    @rule(data=st.data())
    def conflict(self, data: st.DataObject) -> None:
        fields = json.loads(data.draw(st.sampled_from(self.bodies), label="id reused"))
        fields["note"] = "a different body under the same id"
        before = self.entry_count()
        result = self.run(self.intake.submit(json.dumps(fields).encode(), received_at=self.clock.now()))
        assert result.http_status == 409, result
        assert self.entry_count() == before
        self.tick()

    @rule()
    def checkpoints_are_written(self) -> None:
        """The checkpoint job's work, at any moment: no balance may change by it (the invariants compare)."""
        settings_ = self.app.settings
        self.run(CheckpointWriter(self.app.uow, settings_.tz, settings_.timezone).write_due(1, self.clock.now))

    @rule(delta=st.sampled_from([timedelta(hours=1), timedelta(hours=23), timedelta(days=1), timedelta(days=2),
                                 timedelta(days=31)]))
    def time_passes(self, delta: timedelta) -> None:
        self.clock.at += delta

    @rule(data=st.data())
    def freeze_or_unfreeze(self, data: st.DataObject) -> None:
        uid = data.draw(st.sampled_from(self.bot_users), label="user")
        status = "active" if uid in self.model.frozen else "frozen"

        async def go() -> None:
            async with self.app.uow() as uow:
                await uow.users.set_status(uid, status)
                await uow.commit()

        self.run(go())
        self.model.frozen.symmetric_difference_update({uid})
        self.status_changes.append((self.clock.now(), uid, status))
        self.tick()

    # invariants
    async def balance(self, uid: int):  # noqa: ANN201
        async with self.app.uow() as uow:
            return await BalanceService(uow).balance(uid, self.clock.now())

    async def ledger(self) -> tuple[Counter, dict[str, str]]:
        async with self.app.uow() as uow:
            rows = await uow.session.execute(
                select(Event.key, LedgerEntry.beneficiary_id, LedgerEntry.level, LedgerEntry.rule, LedgerEntry.kind,
                       LedgerEntry.amount_fen).join(Event, Event.id == LedgerEntry.event_id))
            outcomes = dict((await uow.session.execute(select(Event.key, Event.outcome))).all())
        return Counter(tuple(r) for r in rows), outcomes

    async def qualified_counts(self) -> dict[int, int]:
        """What tier decisions count, per referrer (referrers are Telegram users: only they have codes)."""
        async with self.app.uow() as uow:
            rows = await uow.session.execute(select(QualifiedReferee.referrer_id, func.count())
                                             .group_by(QualifiedReferee.referrer_id))
        return dict(rows.all())

    @invariant()
    def ledger_is_consistent(self) -> None:
        report = AuditReport()
        # "Since" the month's start (what /earnings asks, and what checkpoints serve) or three days
        # back (a split no checkpoint serves, so the read sums every entry), by turns.
        now = self.clock.now()
        since = month_start(now, self.app.settings.tz) if self.steps % 2 else now - timedelta(days=3)
        self.run(check_balances(self.app, report, now, since=since))
        self.run(check_checkpoints(self.app, report))
        self.steps += 1
        if self.steps % ENTRY_CHECK_EVERY == 0:
            self.run(check_entries(self.app, report))
        assert report.ok, report.problems
        entries, outcomes = self.run(self.ledger())
        expected = Counter(self.model.entries)
        assert entries == expected, (f"ledger has, model lacks: {sorted(entries - expected, key=repr)}; "
                                     f"model has, ledger lacks: {sorted(expected - entries, key=repr)}")
        counted = {r: self.model.qualified(r) for r in set(self.model.parent.values())}
        assert self.run(self.qualified_counts()) == {r: n for r, n in counted.items() if n}
        model_outcomes = {k: e.outcome for k, e in self.model.events.items()}
        assert outcomes == model_outcomes, {k: (outcomes.get(k), model_outcomes.get(k))
                                            for k in set(outcomes) | set(model_outcomes)
                                            if outcomes.get(k) != model_outcomes.get(k)}

    def check_replay(self) -> None:
        report = self.run(audit(self.app, status_changes=self.status_changes))
        assert report.ok, report.problems
        assert report.replayed_entries == report.entries


def test_ledger_state_machine() -> None:
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=40, stateful_step_count=40, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]))
