"""The referral forest: bindings (edges), the closure table and per-level counts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import insert_for
from db.models import Binding, ReferralClosure, ReferralCount, User


@dataclass(frozen=True)
class BindingRow:
    referee_id: int
    referrer_id: int
    code_id: int | None
    source: str
    bound_at: datetime


@dataclass(frozen=True)
class RefereeRow:
    user_id: int
    first_name: str
    bound_at: datetime


class ReferralRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def binding_of(self, referee_id: int) -> BindingRow | None:
        row = (
            await self.session.execute(
                select(Binding.referee_id, Binding.referrer_id, Binding.code_id, Binding.source, Binding.bound_at)
                .where(Binding.referee_id == referee_id)
            )
        ).first()
        return BindingRow(*row) if row else None

    async def chain_contains(self, start_id: int, target_id: int, max_hops: int = 100_000) -> bool:
        """Whether target is start or one of start's ancestors at any depth.

        The closure stops at the level cap, so cycles are checked on the edges.
        """
        if start_id == target_id:
            return True
        chain = select(Binding.referrer_id.label("uid"), literal(1).label("hops")).where(
            Binding.referee_id == start_id
        ).cte("chain", recursive=True)
        chain = chain.union_all(
            select(Binding.referrer_id, chain.c.hops + 1)
            .join(chain, Binding.referee_id == chain.c.uid)
            .where(chain.c.hops < max_hops)
        )
        found = await self.session.execute(select(literal(1)).select_from(chain).where(chain.c.uid == target_id).limit(1))
        return found.first() is not None

    async def insert_binding(
        self, *, referee_id: int, referrer_id: int, code_id: int | None, source: str, now: datetime
    ) -> None:
        self.session.add(
            Binding(referee_id=referee_id, referrer_id=referrer_id, code_id=code_id, source=source, bound_at=now)
        )
        await self.session.flush()

    async def upline(self, user_id: int, max_depth: int) -> list[int]:
        """Ancestors nearest first, up to max_depth: one index look-up on the closure's key."""
        rows = await self.session.execute(
            select(ReferralClosure.ancestor_id)
            .where(ReferralClosure.descendant_id == user_id, ReferralClosure.depth <= max_depth)
            .order_by(ReferralClosure.depth)
        )
        return [r[0] for r in rows]

    async def subtree(self, user_id: int, max_depth: int) -> list[tuple[int, int, datetime]]:
        """(descendant, depth, bound_at) under user_id, to re-hang a subtree that binds late."""
        rows = await self.session.execute(
            select(ReferralClosure.descendant_id, ReferralClosure.depth, Binding.bound_at)
            .join(Binding, Binding.referee_id == ReferralClosure.descendant_id)
            .where(ReferralClosure.ancestor_id == user_id, ReferralClosure.depth <= max_depth)
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def insert_closure(self, rows: list[tuple[int, int, int, datetime]]) -> None:
        """rows: (descendant, depth, ancestor, bound_at)."""
        if not rows:
            return
        await self.session.execute(
            insert_for(self.session, ReferralClosure),
            [dict(descendant_id=d, depth=k, ancestor_id=a, bound_at=t) for d, k, a, t in rows],
        )

    async def bump_counts(self, increments: dict[tuple[int, int], int]) -> None:
        """Adds to (user, depth) counters in the binding transaction."""
        if not increments:
            return
        for (user_id, depth), n in increments.items():
            stmt = insert_for(self.session, ReferralCount).values(user_id=user_id, depth=depth, count=n)
            stmt = stmt.on_conflict_do_update(
                index_elements=[ReferralCount.user_id, ReferralCount.depth],
                set_={"count": ReferralCount.count + stmt.excluded.count},
            )
            await self.session.execute(stmt)

    async def counts(self, user_id: int) -> dict[int, int]:
        rows = await self.session.execute(
            select(ReferralCount.depth, ReferralCount.count).where(ReferralCount.user_id == user_id)
        )
        return {int(d): int(c) for d, c in rows}

    async def referees(self, user_id: int, depth: int, limit: int, offset: int) -> list[RefereeRow]:
        rows = await self.session.execute(
            select(ReferralClosure.descendant_id, User.first_name, ReferralClosure.bound_at)
            .join(User, User.id == ReferralClosure.descendant_id)
            .where(ReferralClosure.ancestor_id == user_id, ReferralClosure.depth == depth)
            .order_by(ReferralClosure.bound_at.desc(), ReferralClosure.descendant_id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [RefereeRow(*r) for r in rows]

    async def recount(self, user_id: int | None = None) -> dict[tuple[int, int], int]:
        """Counts recomputed from the closure; the check against kept counters."""
        stmt = select(ReferralClosure.ancestor_id, ReferralClosure.depth, func.count()).group_by(
            ReferralClosure.ancestor_id, ReferralClosure.depth
        )
        if user_id is not None:
            stmt = stmt.where(ReferralClosure.ancestor_id == user_id)
        return {(a, int(d)): int(n) for a, d, n in await self.session.execute(stmt)}

    async def kept_counts(self) -> dict[tuple[int, int], int]:
        rows = await self.session.execute(
            select(ReferralCount.user_id, ReferralCount.depth, ReferralCount.count).where(ReferralCount.count > 0)
        )
        return {(u, int(d)): int(c) for u, d, c in rows}
