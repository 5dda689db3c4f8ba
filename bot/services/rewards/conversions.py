"""A referee's conversion (first loan, on-time repayment, second credit line) pays their upline.

Who gets what per level: levels.py. Here: the conditions. A frozen beneficiary
earns nothing while frozen; nobody is paid for their own conversion (the
upline never contains the referee); only a referee's first first_loan pays;
on-time repayments pay at most max_per_referee times; with
referrer_requires_credit_check an earning is held until the beneficiary's
credit check and lapses after unverified_lapse_days.

Anti-fraud: an earning of a beneficiary with an open fraud flag is held by it
(bot/services/fraud/holds.py). When a first loan makes a tier bonus due, the
idle-referee signal runs first, so a flag it raises holds this event's earnings
of that referrer, the bonus included. A held earning's notice names no date
and no reason: the suspect is not tipped off before the review.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.outbox.queue import Queued
from bot.services.fraud.holds import hold_for, holds_for
from bot.services.fraud.signals import IDLE_MIN_REFEREES, FraudSignals
from bot.services.rewards.levels import level_payouts
from bot.services.rewards.notices import LedgerNotices
from bot.services.rewards.program import Program
from bot.services.rewards.tiers import award_tiers, due_tiers
from db.repositories.events import EventRow
from db.repositories.ledger import NewEntry
from db.repositories.users import UserRow
from db.uow import UnitOfWork


@dataclass
class Applied:
    entries: int = 0
    skipped: list[str] = field(default_factory=list)  # beneficiaries passed over
    declined: str | None = None  # the event itself pays nothing (not a first loan, over the cap)

    def detail(self) -> str | None:
        return "; ".join(self.skipped) or None


class ConversionRewards:
    def __init__(self, uow: UnitOfWork, notices: LedgerNotices) -> None:
        self.uow = uow
        self.notices = notices

    async def apply(self, event: EventRow, referee_id: int, program: Program, now: datetime, prior: int) -> Applied:
        """prior: how many of the referee's events of this type were applied before this one, counted
        when it was marked applied (EventRepository.mark_applied) under the referee's row lock: two
        conversions of one referee at once (different ids) must not both count themselves as the
        first loan, or as under the cap."""
        result = Applied()
        rule = event.type
        if rule == "first_loan" and prior >= 1:
            result.declined = "not the referee's first loan"
            return result
        if rule == "repayment_on_time":
            cap = program.rewards[rule].max_per_referee
            if cap is not None and prior >= cap:
                result.declined = f"over the cap of {cap} on-time repayments per referee"
                return result
        # The upline's rows, direct-referee counts and holds in one statement: not one per level.
        members = await self.uow.users.upline_of(referee_id, program.levels)
        upline = [m.user.id for m in members]
        people = {m.user.id: m.user for m in members}
        holds = {m.user.id: m.hold_flag_id for m in members if m.hold_flag_id is not None}
        available_at = event.occurred_at + timedelta(days=program.hold_days)
        payouts = level_payouts(program, rule, upline)
        if rule == "first_loan" and upline:
            # The referee now counts towards the referrer's tiers (the screen below included).
            await self.uow.qualified.add(referee_id=referee_id, referrer_id=upline[0], event_id=event.id, at=now)
            if await self._screen_tier(program, upline[0], now, people[upline[0]], members[0].direct_referees):
                # A flag the screen raised holds this event's earnings too.
                holds = await holds_for(self.uow, [p.beneficiary_id for p in payouts])
        earned = [self._earning(event, referee_id, program, now, available_at, payout.level, payout.beneficiary_id,
                                people.get(payout.beneficiary_id), holds.get(payout.beneficiary_id),
                                payout.amount_fen, result) for payout in payouts]
        earned = [e for e in earned if e is not None]
        # Every level's entry in one statement, and their notices in one more.
        ids = await self.uow.ledger.add_many([entry for entry, _ in earned])
        result.entries += len(ids)
        await self.notices.send_many([self._message(entry_id, entry, held) for entry_id, (entry, held)
                                      in zip(ids, earned)], now)
        if rule == "first_loan" and upline:
            await self._tiers(event, program, now, available_at, upline[0], people.get(upline[0]), result)
        return result

    @staticmethod
    def _eligible(beneficiary_id: int, user: UserRow | None, result: Applied) -> tuple[bool, bool]:
        """(may earn, held for the credit check)."""
        if user is None or user.status == "frozen":
            result.skipped.append(f"beneficiary {beneficiary_id} is frozen")
            return False, False
        return True, user.credit_approved_at is None

    def _check(self, program: Program, now: datetime) -> tuple[bool, datetime | None]:
        if not program.referrer_requires_credit_check:
            return False, None
        return True, now + timedelta(days=program.unverified_lapse_days)

    def _earning(self, event: EventRow, referee_id: int, program: Program, now: datetime, available_at: datetime,
                 level: int, beneficiary_id: int, user: UserRow | None, hold: int | None, amount: int,
                 result: Applied) -> tuple[NewEntry, bool] | None:
        """The entry one level earns, with whether it waits for the credit check; None if it earns nothing."""
        may_earn, unapproved = self._eligible(beneficiary_id, user, result)
        if not may_earn:
            return None
        requires_check, lapse_at = self._check(program, now)
        entry = NewEntry(event_id=event.id, beneficiary_id=beneficiary_id, level=level, rule=event.type,
                         kind="reward", amount_fen=amount, program_version=program.version,
                         available_at=available_at, created_at=now, referee_id=referee_id,
                         requires_check=requires_check, lapse_at=lapse_at, hold_flag_id=hold)
        return entry, requires_check and unapproved

    async def _tiers(self, event: EventRow, program: Program, now: datetime, available_at: datetime,
                     referrer_id: int, referrer: UserRow | None, result: Applied) -> None:
        may_earn, unapproved = self._eligible(referrer_id, referrer, Applied())
        if not may_earn:
            return
        # Two first loans of one referrer's referees at once must not both see the tier unpaid.
        await self.uow.users.lock(referrer_id)
        for entry_id, entry in await award_tiers(self.uow, program, referrer_id, event.id, now, available_at,
                                                  self._check(program, now), lambda: hold_for(self.uow, referrer_id)):
            result.entries += 1
            await self._notify(entry_id, entry, entry.requires_check and unapproved, now)

    async def _screen_tier(self, program: Program, referrer_id: int, now: datetime, user: UserRow | None,
                           direct_referees: int) -> int | None:
        """idle_tier, when this first loan makes a tier bonus due; free for the many referrers who
        have fewer direct referees than the rule looks at (their kept count came with the upline).
        Returns the flag it raised, if any."""
        if not program.tiers or direct_referees < IDLE_MIN_REFEREES:
            return None
        if user is None or user.status == "frozen":
            return None
        due = await due_tiers(self.uow, program, referrer_id)
        if due:
            return await FraudSignals(self.uow).before_tier_bonus(referrer_id, due[0].rule, now)
        return None

    def _message(self, entry_id: int, entry: NewEntry, held_for_check: bool) -> Queued:
        if entry.hold_flag_id is None:
            return self.notices.created_message(entry_id, entry, held_for_check)
        return self.notices.held_by_flag_message(entry_id, entry)

    async def _notify(self, entry_id: int, entry: NewEntry, held_for_check: bool, now: datetime) -> None:
        await self.notices.send_many([self._message(entry_id, entry, held_for_check)], now)
