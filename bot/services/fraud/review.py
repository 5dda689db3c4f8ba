"""An admin's review of a fraud flag: approve (release what it holds) or reject (reverse it, and
optionally freeze the user). Chat (/review) calls this; so could a CLI.

The flag row is locked first, so two admins pressing at once give one decision and one "already
decided". Everything happens in the caller's transaction with its audit entry (flag_approve,
flag_reject; a freeze is audited by AdminActions as usual), so `ledger check` can replay it.

Who is told what: nothing while the flag is open (a held earning's notice names no date and no
reason). After an approval, earnings already past their hold get the usual "now available" notice
(later ones get it when their hold ends). After a reject, each reversed earning gets the usual
reversal notice ("a cancelled loan or a risk check"); a freeze itself is never announced.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from bot.clock import Clock
from bot.services.admin_actions import AdminActions, Outcome as AdminOutcome
from bot.services.audit import AuditLog
from bot.services.rewards.balances import entry_state
from bot.services.rewards.notices import LedgerNotices
from bot.services.rewards.reversals import reversal_of
from db.repositories.flags import FlagRow
from db.repositories.users import UserRow
from db.uow import UnitOfWork

APPROVE, REJECT, REJECT_FREEZE = "approve", "reject", "reject_freeze"
DECISIONS = (APPROVE, REJECT, REJECT_FREEZE)


@dataclass(frozen=True)
class FlagView:
    flag: FlagRow
    user: UserRow | None
    held_fen: int  # unreversed earnings the flag holds (or, once approved, released)
    reversed_fen: int = 0  # held earnings reversed (by the reject, or by the platform)
    others: list[FlagRow] = field(default_factory=list)  # the user's other open flags


@dataclass(frozen=True)
class ReviewResult:
    outcome: str  # done | already | unknown
    view: FlagView | None = None
    reversed_count: int = 0
    reversed_fen: int = 0
    freeze: AdminOutcome | None = None  # how the freeze went, for reject_freeze


async def reverse_held(uow: UnitOfWork, notices: LedgerNotices, flag_id: int, now: datetime) -> tuple[int, int]:
    """Appends a reversal for every unreversed earning the flag holds; (count, fen).

    A reversal names its target's own event (with rule reversal:<rule>), which is how the audit
    tells a review's reversal from a platform reversal event's; (event, beneficiary, level, rule)
    stays unique because the target can be reversed only once.
    """
    count = fen = 0
    for held in await uow.ledger.held_by(flag_id):
        entry = reversal_of(held, held.event_id, now)
        entry_id = await uow.ledger.add(entry)
        await notices.reversed(entry_id, entry, now)
        count += 1
        fen += held.amount_fen
    return count, fen


class ReviewService:
    def __init__(self, uow: UnitOfWork, audit: AuditLog, clock: Clock, admin_ids: frozenset[int],
                 tz: tzinfo) -> None:
        self.uow = uow
        self.audit = audit
        self.clock = clock
        self.admin_ids = admin_ids
        self.notices = LedgerNotices(uow, tz)

    async def _views(self, flags: list[FlagRow]) -> list[FlagView]:
        ids = [f.id for f in flags]
        held = await self.uow.ledger.held_sums(ids)
        gone = await self.uow.ledger.reversed_sums(ids)
        user_ids = sorted({f.user_id for f in flags})
        users = await self.uow.users.get_many(user_ids)
        open_flags = await self.uow.flags.open_of_users(user_ids)
        views = []
        for flag in flags:
            others = [o for o in open_flags.get(flag.user_id, []) if o.id != flag.id]
            views.append(FlagView(flag, users.get(flag.user_id), held.get(flag.id, 0), gone.get(flag.id, 0), others))
        return views

    async def queue(self, limit: int) -> tuple[list[FlagView], int]:
        """The oldest open flags (at most `limit`) and how many are open in all."""
        return await self._views(await self.uow.flags.queue(limit)), await self.uow.flags.count_open()

    async def view(self, flag_id: int) -> FlagView | None:
        flag = await self.uow.flags.get(flag_id)
        return (await self._views([flag]))[0] if flag else None

    async def decide(self, flag_id: int, decision: str, *, actor_id: int | None, via: str) -> ReviewResult:
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}")
        flag = await self.uow.flags.get(flag_id, lock=True)
        if flag is None:
            return ReviewResult("unknown")
        if flag.state != "open":
            return ReviewResult("already", await self.view(flag_id))
        now = self.clock.now()
        # Balance-changing work on one user is serialised on their row (payouts do the same).
        await self.uow.users.lock(flag.user_id)
        state = "approved" if decision == APPROVE else "rejected"
        await self.uow.flags.decide(flag_id, state, by=actor_id, at=now, reason=decision)
        count = fen = 0
        freeze = None
        if decision == APPROVE:
            released = await self._announce_released(flag, now)
            await self.audit.record("flag_approve", actor_id=actor_id, via=via, target=flag.user_id,
                                    flag_id=flag_id, kind=flag.kind, released=released)
        else:
            count, fen = await reverse_held(self.uow, self.notices, flag_id, now)
            await self.audit.record("flag_reject", actor_id=actor_id, via=via, target=flag.user_id,
                                    flag_id=flag_id, kind=flag.kind, reversed=count, reversed_fen=fen,
                                    freeze=decision == REJECT_FREEZE)
            if decision == REJECT_FREEZE:
                actions = AdminActions(self.uow, self.audit, self.admin_ids)
                result = await actions.freeze(flag.user_id, actor_id=actor_id, via=via,
                                              reason=f"fraud flag #{flag_id} ({flag.kind}) rejected")
                freeze = result.outcome
        return ReviewResult("done", await self.view(flag_id), count, fen, freeze)

    async def _announce_released(self, flag: FlagRow, now: datetime) -> int:
        """'Now available' for released earnings already past their hold (and credit check); the
        rest get it from the maturity job when their hold ends. Returns how many were released."""
        entries = await self.uow.ledger.held_by(flag.id)
        if flag.user_id <= 0:
            return len(entries)  # platform-only: no chat to tell
        user = await self.uow.users.get(flag.user_id)
        approved = user.credit_approved_at if user else None
        still_open = await self.uow.flags.open_ids(flag.user_id)
        for entry in entries:
            if entry_state(entry, approved, now, False, still_open) != "available":
                continue
            await self.notices.available(entry.id, flag.user_id, entry.amount_fen, entry.level, entry.rule, now)
        return len(entries)
