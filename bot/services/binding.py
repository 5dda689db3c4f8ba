"""Binding a referee to a referrer: the rules that keep the referral graph a forest.

One referrer per user, set once; no self-referral; no cycle; bots, frozen
referrers and switched-off codes never bind. The edge, the closure rows for
depths 1..levels (including a late binder's existing subtree) and the kept
per-level counts are written in one transaction with the referrer's notice,
so a crash leaves either all of them or none.
"""
from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass

from bot.clock import Clock
from bot.outbox.queue import PRIORITY_TRANSACTIONAL, enqueue
from bot.services.codes import is_valid_payload, normalize
from bot.services.fraud.signals import FraudLimits, FraudSignals
from bot.services.masking import mask_name
from db.repositories.codes import CodeRow
from db.repositories.users import UserRow
from db.uow import UnitOfWork


class Outcome(enum.Enum):
    BOUND = "bound"
    MALFORMED = "malformed"  # not a valid payload at all
    UNKNOWN_CODE = "unknown_code"
    CODE_OFF = "code_off"  # the code's owner is frozen, or the code was switched off
    OWN_CODE = "own_code"
    ALREADY_BOUND = "already_bound"
    CYCLE = "cycle"  # the referrer is in the referee's own downline
    IS_BOT = "is_bot"
    NOT_FOUND = "not_found"  # the referee is not a user we know


@dataclass(frozen=True)
class BindResult:
    outcome: Outcome
    referrer: UserRow | None = None
    code: CodeRow | None = None
    referee_name: str | None = None
    fresh: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.BOUND


@dataclass
class BindingService:
    uow: UnitOfWork
    clock: Clock
    levels: int
    # Velocity and burst checks after each new binding (bot/services/fraud/signals.py); None for
    # writers that only re-create edges already judged (the ledger replay, seeding, merges).
    fraud: FraudLimits | None = None

    async def resolve_code(self, raw: str) -> tuple[Outcome | None, CodeRow | None, UserRow | None]:
        """Looks a typed or linked code up; (problem, code, owner) with problem None when usable."""
        if not is_valid_payload(raw):
            return Outcome.MALFORMED, None, None
        found = await self.uow.codes.with_owner(normalize(raw))
        if found is None:
            return Outcome.UNKNOWN_CODE, None, None
        code, owner = found
        if not code.active or owner.status == "frozen":
            return Outcome.CODE_OFF, code, owner
        return None, code, owner

    async def check(self, referee_id: int, raw_code: str, *, referee: UserRow | None = None,
                    fresh: bool = False) -> BindResult:
        """Everything bind() would refuse, without writing: used to confirm before /bind.

        `referee` saves a read when the caller has the row; `fresh` says the referee was created in
        this very transaction, so they can have neither a referrer nor a downline yet.
        """
        problem, code, owner = await self.resolve_code(raw_code)
        if problem is not None:
            return BindResult(problem, owner, code)
        assert code is not None and owner is not None
        if referee is None or referee.id != referee_id:
            referee = await self.uow.users.get(referee_id)
        if referee is None:
            return BindResult(Outcome.NOT_FOUND)
        if referee.is_bot:
            return BindResult(Outcome.IS_BOT)
        if owner.id == referee_id:
            return BindResult(Outcome.OWN_CODE, owner, code)
        if not fresh:
            if await self.uow.referrals.binding_of(referee_id) is not None:
                return BindResult(Outcome.ALREADY_BOUND, owner, code)
            if await self.uow.referrals.chain_contains(owner.id, referee_id):
                return BindResult(Outcome.CYCLE, owner, code)
        return BindResult(Outcome.BOUND, owner, code, referee.first_name, fresh)

    async def bind(self, referee_id: int, raw_code: str, source: str, *, referee: UserRow | None = None,
                   fresh: bool = False) -> BindResult:
        verdict = await self.check(referee_id, raw_code, referee=referee, fresh=fresh)
        if not verdict.ok:
            return verdict
        assert verdict.referrer is not None and verdict.code is not None
        label = verdict.code.label if verdict.code.kind == "station" else None
        if not await self._write(referee_id, verdict.referrer.id, verdict.code.id, source, verdict.referee_name,
                                 has_subtree=not verdict.fresh, label=label, referrer_role=verdict.referrer.role):
            # A racing delivery bound this referee first; the primary key decided.
            return BindResult(Outcome.ALREADY_BOUND, verdict.referrer, verdict.code)
        return verdict

    async def attach(self, referee_id: int, referrer_id: int, code_id: int | None, source: str) -> None:
        """Writes an edge already judged elsewhere (a merged platform identity keeps its referrer)."""
        await self._write(referee_id, referrer_id, code_id, source)

    async def _write(self, referee_id: int, referrer_id: int, code_id: int | None, source: str,
                     referee_name: str | None = None, has_subtree: bool = True, label: str | None = None,
                     referrer_role: str | None = None) -> bool:
        now = self.clock.now()
        refs = self.uow.referrals
        if not await refs.insert_binding(referee_id=referee_id, referrer_id=referrer_id, code_id=code_id,
                                         source=source, now=now, label=label):
            return False
        # referrer at distance 0 from the new edge, then its own upline
        above = [referrer_id] + await refs.upline(referrer_id, self.levels - 1)
        # the referee and whatever subtree it already had (a late /bind)
        below = [(referee_id, 0, now)] + (await refs.subtree(referee_id, self.levels - 1) if has_subtree else [])
        rows, counts = [], Counter()
        for up_distance, ancestor in enumerate(above):
            for descendant, down_distance, bound_at in below:
                depth = up_distance + down_distance + 1
                if depth <= self.levels:
                    rows.append((descendant, depth, ancestor, bound_at))
                    counts[(ancestor, depth)] += 1
        await refs.insert_closure(rows)
        await refs.bump_counts(dict(counts))
        if referee_name is None:
            referee = await self.uow.users.get(referee_id)
            referee_name = referee.first_name if referee else None
        await enqueue(
            self.uow.session, chat_id=referrer_id, kind="join", text_key="notice-joined",
            args={"name": mask_name(referee_name)},
            now=now, priority=PRIORITY_TRANSACTIONAL, dedup_key=f"join:{referee_id}",
        )
        self.uow.outbox_queued = True
        if self.fraud is not None and referrer_role is not None:
            await FraudSignals(self.uow, self.fraud).after_binding(referrer_id, referrer_role, now)
        return True
