"""Ledger checkpoints: find the latest, list who is due one, read settled entries, write one.

What "settled" means and why it is safe is in db.models.LedgerCheckpoint; the
predicates here are the one definition both the writer and the reader use.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import AsyncIterator

from sqlalchemy import and_, func, insert, or_, select, text

from db.models import LedgerCheckpoint, LedgerCheckpointSum, LedgerEntry
from db.dialect import dialect_name
from db.repositories.base import Repository

EARNING_KINDS = ("reward", "tier_bonus")
SUMMED_KINDS = EARNING_KINDS + ("payout",)


@dataclass(frozen=True)
class Checkpoint:
    id: int
    beneficiary_id: int
    upto_entry_id: int
    as_of: datetime
    approved_at: datetime | None
    tz: str
    entries: int
    sums: tuple[tuple[str, int, str, date, int], ...]  # (state, level, rule, month, fen)


@dataclass(frozen=True)
class SettledEntry:
    kind: str
    level: int
    rule: str
    amount_fen: int
    requires_check: bool
    lapse_at: datetime | None
    available_at: datetime
    created_at: datetime
    hold_flag_id: int | None = None


def unsettled_branches(user_id: int, cp: Checkpoint, *columns):  # noqa: ANN002, ANN201
    """SELECTs of the user's summed entries a checkpoint does not cover, one per index-friendly case.

    Disjoint, and together exactly the complement of `settled()`: entries after it; earnings
    it saw still in their hold; earnings a fraud flag held; and, when it assumed no credit
    approval, earnings waiting for the check.
    """
    e = LedgerEntry
    mine = e.beneficiary_id == user_id
    old = [mine, e.id <= cp.upto_entry_id, e.kind.in_(EARNING_KINDS)]
    branches = [
        select(*columns).where(mine, e.id > cp.upto_entry_id, e.kind.in_(SUMMED_KINDS)),
        select(*columns).where(*old, e.available_at > cp.as_of),
        select(*columns).where(*old, e.available_at <= cp.as_of, e.hold_flag_id.is_not(None)),
    ]
    if cp.approved_at is None:
        branches.append(select(*columns).where(*old, e.available_at <= cp.as_of, e.hold_flag_id.is_(None),
                                               e.requires_check))
    return branches


def settled(upto_entry_id: int, as_of: datetime, approved_at: datetime | None):  # noqa: ANN201
    e = LedgerEntry
    earning = [e.kind.in_(EARNING_KINDS), e.available_at <= as_of, e.hold_flag_id.is_(None)]
    if approved_at is None:
        earning.append(~e.requires_check)
    return and_(e.id <= upto_entry_id, or_(e.kind == "payout", and_(*earning)))


class CheckpointRepository(Repository):
    async def latest(self, user_id: int) -> Checkpoint | None:
        """The newest checkpoint with its sums, in one statement (None if the user has none)."""
        c = LedgerCheckpoint
        newest = (select(c.id).where(c.beneficiary_id == user_id)
                  .order_by(c.upto_entry_id.desc()).limit(1).scalar_subquery())
        return await self._load(newest)

    async def _load(self, checkpoint_id) -> Checkpoint | None:  # noqa: ANN001
        c, s = LedgerCheckpoint, LedgerCheckpointSum
        rows = (await self.session.execute(
            select(c.id, c.beneficiary_id, c.upto_entry_id, c.as_of, c.approved_at, c.tz, c.entries,
                   s.state, s.level, s.rule, s.month, s.amount_fen)
            .outerjoin(s, s.checkpoint_id == c.id).where(c.id == checkpoint_id))).all()
        if not rows:
            return None
        first = rows[0]
        sums = tuple((r.state, int(r.level), r.rule, r.month, int(r.amount_fen)) for r in rows if r.state is not None)
        return Checkpoint(first.id, first.beneficiary_id, first.upto_entry_id, first.as_of, first.approved_at,
                          first.tz, first.entries, sums)

    async def due(self, min_entries: int) -> list[int]:
        """Beneficiaries with at least `min_entries` entries after their latest checkpoint."""
        c, e = LedgerCheckpoint, LedgerEntry
        covered = (select(c.beneficiary_id, func.max(c.upto_entry_id).label("upto"))
                   .group_by(c.beneficiary_id).subquery())
        rows = await self.session.execute(
            select(e.beneficiary_id).outerjoin(covered, covered.c.beneficiary_id == e.beneficiary_id)
            .where(e.id > func.coalesce(covered.c.upto, 0))
            .group_by(e.beneficiary_id).having(func.count() >= min_entries).order_by(e.beneficiary_id))
        return list(rows.scalars())

    async def settled_upto(self, user_id: int) -> int | None:
        """The user's highest entry id, once no transaction can still add one below it.

        On PostgreSQL an id is drawn before its row commits, so a writer still in flight could
        commit below the maximum seen now; a SHARE lock waits those writers out (and keeps new
        ones waiting for a moment). The caller commits right after, releasing it. SQLite has one
        writer, so what a reader sees has no gaps to fill later.
        """
        if dialect_name(self.tx) == "postgresql":
            await self.session.execute(text("LOCK TABLE ledger_entries IN SHARE MODE"))
        return (await self.session.execute(
            select(func.max(LedgerEntry.id)).where(LedgerEntry.beneficiary_id == user_id))).scalar()

    async def settled_entries(self, user_id: int, upto_entry_id: int, as_of: datetime,
                              approved_at: datetime | None) -> AsyncIterator[SettledEntry]:
        e = LedgerEntry
        stream = await self.session.stream(
            select(e.kind, e.level, e.rule, e.amount_fen, e.requires_check, e.lapse_at, e.available_at,
                   e.created_at, e.hold_flag_id)
            .where(e.beneficiary_id == user_id, settled(upto_entry_id, as_of, approved_at))
            .execution_options(yield_per=5000))
        async for row in stream:
            yield SettledEntry(*row)

    async def add(self, *, user_id: int, upto_entry_id: int, as_of: datetime, approved_at: datetime | None,
                  tz: str, entries: int, created_at: datetime,
                  sums: dict[tuple[str, int, str, date], int]) -> int:
        checkpoint_id = (await self.session.execute(
            insert(LedgerCheckpoint).values(beneficiary_id=user_id, upto_entry_id=upto_entry_id, as_of=as_of,
                                            approved_at=approved_at, tz=tz, entries=entries,
                                            created_at=created_at)
            .returning(LedgerCheckpoint.id))).scalar_one()
        if sums:
            await self.session.execute(insert(LedgerCheckpointSum), [
                dict(checkpoint_id=checkpoint_id, state=state, level=level, rule=rule, month=month, amount_fen=fen)
                for (state, level, rule, month), fen in sums.items()])
        return checkpoint_id
