"""Applies one stored event: identity, eligibility, conversions, reversals, payouts.

Runs inside the intake's transaction, so "stored" and "applied" commit
together. An event about someone we don't know yet waits (pending_user) and is
applied when the platform links or registers them; a reversal that arrives
before its target waits (pending_target) and is settled right after it, whatever
the target's outcome.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from bot.clock import Clock, FrozenClock
from bot.services.binding import BindingService, Outcome
from bot.services.events.identity import Identities
from bot.services.fraud.signals import FraudLimits
from bot.services.rewards.conversions import ConversionRewards
from bot.services.rewards.notices import LedgerNotices
from bot.services.rewards.payouts import pay_out
from bot.services.rewards.reversals import reverse_event
from db.repositories.events import EventRow
from db.uow import UnitOfWork

CONVERSIONS = ("first_loan", "repayment_on_time", "second_credit")


@dataclass(frozen=True)
class Result:
    outcome: str  # applied | pending_user | pending_target | refused | ignored
    detail: str | None = None


class EventApplier:
    def __init__(self, uow: UnitOfWork, program_for, notices: LedgerNotices, levels: int,  # noqa: ANN001
                 clock: Clock, fraud: FraudLimits | None = None) -> None:
        self.uow = uow
        self.program_for = program_for  # async (occurred_at) -> Program in force then
        self.notices = notices
        self.clock = clock
        self.now = clock.now()
        # One time for everything this event writes, bindings included (a registration's new user
        # is first seen when it is bound).
        self._frozen = FrozenClock(self.now)
        self.binding = BindingService(uow, self._frozen, levels, fraud)
        self.identities = Identities(uow, self.binding)
        # Events set to (applied, no detail) by _mark in this transaction, with the time written.
        self._marked: dict[int, datetime] = {}

    async def apply(self, event: EventRow, referral_code: str | None = None) -> Result:
        result = await self._dispatch(event, referral_code)
        await self._record(event, result)
        if result.outcome not in ("pending_user", "pending_target") and event.reversal_waiting is not False:
            # Reversals that came before this event waited for it; settle them now, with the outcome
            # they would have had in order (applied, or refused when this is not a conversion).
            for reversal in await self.uow.events.reversals_waiting_for(event.key):
                await self.apply(reversal)
        return result

    async def _record(self, event: EventRow, result: Result) -> None:
        if result == Result("applied") and event.id in self._marked:
            return  # _mark wrote exactly this
        # The time _mark wrote: a waiting event applied since may have read the clock again (_restamp).
        applied_at = self._marked.get(event.id, self.now) if result.outcome == "applied" else None
        await self.uow.events.set_outcome(event.id, result.outcome, detail=result.detail, applied_at=applied_at)

    async def _dispatch(self, event: EventRow, referral_code: str | None) -> Result:
        kind = event.type
        if kind == "account_linked":
            user, refused = await self.identities.link(event.telegram_id, event.external_id, self.now)
            if refused:
                return Result("refused", refused)
            await self._mark(event, user.id)
            await self._release_waiting(user.id, event.telegram_id, event.external_id)
            return Result("applied")
        if kind == "registered":
            return await self._registered(event, referral_code)
        if kind == "reversal":
            return await self._reversal(event)
        # A conversion's counts (first loan, cap, tiers) are taken under its referee's row lock.
        user = await self.identities.find(event.telegram_id, event.external_id, lock=kind in CONVERSIONS)
        if user is None:
            return Result("pending_user", "no user with these ids yet; applied when the platform links them")
        if kind in CONVERSIONS:
            self._restamp()
        prior = await self._mark(event, user.id)
        event = replace(event, user_id=user.id, outcome="applied")  # what _mark wrote
        if kind == "credit_approved":
            first = await self.uow.users.set_credit_approved(user.id, event.occurred_at)
            return Result("applied", None if first else "credit check was already approved")
        program = await self.program_for(event.occurred_at)
        if kind in CONVERSIONS:
            applied = await ConversionRewards(self.uow, self.notices).apply(event, user.id, program, self.now, prior)
            if applied.declined:
                return Result("ignored", applied.declined)
            return Result("applied", applied.detail())
        if kind == "payout":
            refused = await pay_out(self.uow, self.notices, user.id, event.amount_fen or 0, event.id,
                                    program.version, self.now)
            return Result("refused", refused) if refused else Result("applied")
        return Result("ignored", f"unknown type {kind}")

    def _restamp(self) -> None:
        """The time read again once the referee's row is locked. A binding of that referee takes the
        same row (BindingSnapshotRepository) and stamps its time after it: whichever committed first
        also has the earlier time, so the replay in `ledger check` orders the two as they ran."""
        self.now = max(self.now, self.clock.now())
        self._frozen.at = self.now

    async def _mark(self, event: EventRow, user_id: int | None) -> int:
        """Applied first, so counts taken while applying (tiers) include this event. Returns how many
        of the user's events of this type were applied before it."""
        self._marked[event.id] = self.now
        if user_id is None:
            await self.uow.events.set_outcome(event.id, "applied", applied_at=self.now)
            return 0
        return await self.uow.events.mark_applied(event.id, event.type, user_id=user_id, applied_at=self.now)

    async def _registered(self, event: EventRow, referral_code: str | None) -> Result:
        resolved = await self.identities.find_or_create(event.telegram_id, event.external_id, self.now)
        user = resolved.user
        await self._mark(event, user.id)
        detail = None
        if referral_code:
            if not resolved.created:
                detail = "already known before this registration; first touch wins, the code was not applied"
            else:
                bound = await self.binding.bind(user.id, referral_code, source="platform")
                if bound.outcome is not Outcome.BOUND:
                    detail = f"referral_code not applied: {bound.outcome.value}"
        await self._release_waiting(user.id, event.telegram_id, event.external_id)
        return Result("applied", detail)

    async def _reversal(self, event: EventRow) -> Result:
        target = await self.uow.events.by_key(event.target_key or "")
        if target is None or target.outcome in ("pending_user", "pending_target"):
            return Result("pending_target", "the reversed event has not been applied yet")
        if target.type not in CONVERSIONS:
            return Result("refused", f"event_id {target.key} is a {target.type}; only conversions can be reversed")
        await self._mark(event, target.user_id)
        program = await self.program_for(event.occurred_at)
        count = await reverse_event(self.uow, self.notices, program, target, event.id, self.now)
        return Result("applied", None if count else "the reversed event had paid nothing")

    async def _release_waiting(self, user_id: int, telegram_id: int | None, external_id: str | None) -> None:
        for waiting in await self.uow.events.waiting_for_user(telegram_id, external_id):
            await self.apply(waiting, referral_code=None)

