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
from datetime import datetime

from bot.clock import Clock
from bot.outbox.queue import PRIORITY_TRANSACTIONAL, enqueue
from bot.services.codes import CodeService, is_valid_payload, normalize
from bot.services.fraud.signals import FraudLimits, FraudSignals
from bot.services.masking import mask_name
from db.repositories.binding_snapshot import BindingSnapshot
from db.repositories.codes import CodeRow
from db.repositories.flags import BindingCounts
from db.repositories.referrals import Notice
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
    code: CodeRow | None = None  # the code as read, whenever it exists
    referee_name: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.BOUND


@dataclass(frozen=True)
class LinkOpened:
    result: BindResult  # the binding that decided (the link's, or the group invite's), or why none was made
    link_code: CodeRow | None  # the code of the link opened, when it exists


@dataclass
class BindingService:
    uow: UnitOfWork
    clock: Clock
    levels: int
    # Velocity and burst checks after each new binding (bot/services/fraud/signals.py); None for
    # writers that only re-create edges already judged (the ledger replay, seeding, merges).
    fraud: FraudLimits | None = None
    # PostgreSQL writes a new leaf's edge in one statement; False keeps the statement-by-statement
    # path, which the property tests use as the oracle for the fast one.
    one_statement: bool = True
    # Group invitees are bound through the inviter's personal code, created on first use; the
    # handlers' CodeService shares its read cache.
    codes: CodeService | None = None

    async def check(self, referee_id: int, raw_code: str) -> BindResult:
        """Everything bind() would refuse, without writing: used to confirm before /bind."""
        verdict, _ = await self._judge(referee_id, raw_code)
        return verdict

    async def _judge(self, referee_id: int, raw_code: str) -> tuple[BindResult, BindingSnapshot | None]:
        if not is_valid_payload(raw_code):
            return BindResult(Outcome.MALFORMED), None
        now = self.clock.now()
        day_from, hour_from, burst_from = (self.fraud or FraudLimits()).windows(now)
        snap = await self.uow.binding_snapshots.read(normalize(raw_code), referee_id, day_from=day_from,
                                                     hour_from=hour_from, burst_from=burst_from)
        if snap is None:
            return BindResult(Outcome.UNKNOWN_CODE), None
        code, owner, referee = snap.code, snap.owner, snap.referee
        if not code.active or owner.status == "frozen":
            return BindResult(Outcome.CODE_OFF, owner, code), snap
        if referee is None:
            return BindResult(Outcome.NOT_FOUND, code=code), snap
        if referee.is_bot:
            return BindResult(Outcome.IS_BOT, code=code), snap
        if owner.id == referee_id:
            return BindResult(Outcome.OWN_CODE, owner, code), snap
        if snap.referee_bound:
            return BindResult(Outcome.ALREADY_BOUND, owner, code), snap
        if snap.owner_below_referee:
            return BindResult(Outcome.CYCLE, owner, code), snap
        return BindResult(Outcome.BOUND, owner, code, referee.first_name), snap

    async def bind(self, referee_id: int, raw_code: str, source: str) -> BindResult:
        verdict, snap = await self._judge(referee_id, raw_code)
        return await self._bind_judged(referee_id, verdict, snap, source)

    async def open_link(self, referee_id: int, raw_code: str) -> LinkOpened:
        """A newcomer opened a link. First touch wins: if they joined a group through a member's
        invite link before, they are that member's referral (through the member's personal code,
        under the same rules), whatever link they opened; the link decides only otherwise, or
        when the group inviter cannot take them (a frozen inviter, say)."""
        verdict, snap = await self._judge(referee_id, raw_code)
        # The snapshot read the group invite along with the rest; without one (no such code) ask.
        inviter = snap.group_inviter if snap is not None else await self.uow.groups.first_link_owner(referee_id)
        by_group = await self._bind_to_inviter(referee_id, inviter)
        if by_group is not None:
            return LinkOpened(by_group, link_code=verdict.code)
        # Nothing was written unless it bound, so the link's verdict still holds.
        return LinkOpened(await self._bind_judged(referee_id, verdict, snap, "link"), link_code=verdict.code)

    async def by_group_invite(self, referee_id: int) -> BindResult | None:
        """Binds a newcomer to the member whose group invite link they joined through first, if
        anyone's; None when that binds nothing."""
        return await self._bind_to_inviter(referee_id, await self.uow.groups.first_link_owner(referee_id))

    async def _bind_to_inviter(self, referee_id: int, inviter: int | None) -> BindResult | None:
        # Through the inviter's personal code, so the usual rules apply (no bots, no self, no frozen inviter).
        if inviter is None:
            return None
        code = await (self.codes or CodeService(self.uow, self.clock)).personal_code(inviter)
        result = await self.bind(referee_id, code.code, source="group")
        return result if result.ok else None

    async def _bind_judged(self, referee_id: int, verdict: BindResult, snap: BindingSnapshot | None,
                           source: str) -> BindResult:
        if not verdict.ok:
            return verdict
        assert snap is not None
        code, owner = snap.code, snap.owner
        label = code.label if code.kind == "station" else None
        written = await self._write(referee_id, owner.id, code.id, source, verdict.referee_name, label=label,
                                    upline=snap.owner_upline, has_subtree=snap.referee_has_downline)
        if not written:
            # A racing delivery bound this referee first; the primary key decided.
            return BindResult(Outcome.ALREADY_BOUND, owner, code)
        if self.fraud is not None:
            # The windows were counted before this binding: it is one more in each.
            await FraudSignals(self.uow, self.fraud).after_binding(
                owner.id, owner.role, self.clock.now(),
                counts=BindingCounts(day=snap.since_day + 1, hour=snap.since_hour + 1, burst=snap.since_burst + 1))
        return verdict

    async def attach(self, referee_id: int, referrer_id: int, code_id: int | None, source: str) -> None:
        """Writes an edge already judged elsewhere (a merged platform identity keeps its referrer)."""
        await self._write(referee_id, referrer_id, code_id, source)

    async def _write(self, referee_id: int, referrer_id: int, code_id: int | None, source: str,
                     referee_name: str | None = None, label: str | None = None, upline: list[int] | None = None,
                     has_subtree: bool = True) -> bool:
        """The edge, its closure rows, the count bumps and the referrer's notice; False (and nothing
        written) when the referee already has a referrer. `upline`: the referrer's ancestors when the
        caller has read them."""
        now = self.clock.now()
        refs = self.uow.referrals
        if referee_name is None:
            referee = await self.uow.users.get(referee_id)
            referee_name = referee.first_name if referee else None
        notice = Notice(kind="join", text_key="notice-joined", args={"name": mask_name(referee_name)},
                        priority=PRIORITY_TRANSACTIONAL, dedup_key=f"join:{referee_id}")
        if upline is None:
            upline = await refs.upline(referrer_id, self.levels - 1)
        # the referrer at distance 0 from the new edge, then its own upline
        above = ([referrer_id] + upline)[:self.levels]
        if not has_subtree and self.one_statement and refs.writes_edge_in_one_statement:
            written = await refs.add_leaf_edge(referee_id=referee_id, referrer_id=referrer_id, code_id=code_id,
                                               source=source, now=now, label=label, ancestors=above, notice=notice)
        else:
            written = await self._write_statements(referee_id, referrer_id, code_id, source, now, label, above,
                                                   has_subtree, notice)
        if written:
            self.uow.outbox_queued = True
        return written

    async def _write_statements(self, referee_id: int, referrer_id: int, code_id: int | None, source: str,
                                now: datetime, label: str | None, above: list[int], has_subtree: bool,
                                notice: Notice) -> bool:
        refs = self.uow.referrals
        if not await refs.insert_binding(referee_id=referee_id, referrer_id=referrer_id, code_id=code_id,
                                         source=source, now=now, label=label):
            return False
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
        await enqueue(self.uow.tx, chat_id=referrer_id, kind=notice.kind, text_key=notice.text_key,
                      args=notice.args, now=now, priority=notice.priority, dedup_key=notice.dedup_key)
        return True
