"""The referral forest: bindings (edges), the closure table and per-level counts."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, literal, or_, select, text

from db.core import run
from db.dialect import PerDialect, dialect_name
from db.models import Binding, ReferralClosure, ReferralCount, User
from db.types import UTCDateTime
from db.repositories.base import Repository


@dataclass(frozen=True)
class BindingRow:
    referee_id: int
    referrer_id: int
    code_id: int | None
    source: str
    bound_at: datetime
    label: str | None = None  # the station's label, for a binding through a station code


@dataclass(frozen=True)
class RefereeRow:
    user_id: int
    first_name: str
    bound_at: datetime


# Statements are built once: compiling per call costs more than running them.
_BINDING_OF = select(Binding.referee_id, Binding.referrer_id, Binding.code_id, Binding.source, Binding.bound_at,
                     Binding.label).where(Binding.referee_id == bindparam("rid"))
_chain = select(Binding.referrer_id.label("uid"), literal(1).label("hops")).where(
    Binding.referee_id == bindparam("start")).cte("chain", recursive=True)
_chain = _chain.union_all(select(Binding.referrer_id, _chain.c.hops + 1).join(_chain, Binding.referee_id == _chain.c.uid)
                          .where(_chain.c.hops < bindparam("max_hops")))
_CHAIN = select(literal(1)).select_from(_chain).where(_chain.c.uid == bindparam("target")).limit(1)
_UPLINE = select(ReferralClosure.ancestor_id).where(
    ReferralClosure.descendant_id == bindparam("uid"), ReferralClosure.depth <= bindparam("maxd")).order_by(ReferralClosure.depth)
_SUBTREE = select(ReferralClosure.descendant_id, ReferralClosure.depth, Binding.bound_at).join(
    Binding, Binding.referee_id == ReferralClosure.descendant_id).where(
    ReferralClosure.ancestor_id == bindparam("uid"), ReferralClosure.depth <= bindparam("maxd"))
_COUNTS = select(ReferralCount.depth, ReferralCount.count).where(ReferralCount.user_id == bindparam("uid"))
# The primary key decides a race: a second binding of one referee inserts nothing.
_ADD_BINDING = PerDialect(lambda insert: insert(Binding).on_conflict_do_nothing(index_elements=[Binding.referee_id]))
_ADD_CLOSURE = PerDialect(lambda insert: insert(ReferralClosure))


def _bump(insert):  # noqa: ANN001, ANN202
    stmt = insert(ReferralCount)
    return stmt.on_conflict_do_update(index_elements=[ReferralCount.user_id, ReferralCount.depth],
                                      set_={"count": ReferralCount.count + stmt.excluded.count})


_BUMP = PerDialect(_bump)

# PostgreSQL writes a whole edge in one statement: data-modifying CTEs all read the binding's
# RETURNING, so when a racing delivery bound the referee first (ON CONFLICT DO NOTHING returns no
# row) nothing else is written either. Count bumps go in (user, depth) order, as bump_counts does,
# so concurrent bindings take the counter rows' locks in one order and cannot deadlock.
_ADD_EDGE_PG = text("""
WITH edge AS (
    INSERT INTO bindings (referee_id, referrer_id, code_id, source, bound_at, label)
    VALUES (:referee, :referrer, :code_id, :source, :now, :label)
    ON CONFLICT (referee_id) DO NOTHING
    RETURNING referee_id
), closure AS (
    INSERT INTO referral_closure (descendant_id, depth, ancestor_id, bound_at)
    SELECT edge.referee_id, up.depth, up.ancestor, :now
    FROM edge, unnest(CAST(:ancestors AS BIGINT[]), CAST(:depths AS SMALLINT[])) AS up(ancestor, depth)
), counts AS (
    INSERT INTO referral_counts (user_id, depth, count)
    SELECT up.ancestor, up.depth, 1
    FROM edge, unnest(CAST(:ancestors AS BIGINT[]), CAST(:depths AS SMALLINT[])) AS up(ancestor, depth)
    ORDER BY up.ancestor, up.depth
    ON CONFLICT (user_id, depth) DO UPDATE SET count = referral_counts.count + EXCLUDED.count
), notice AS (
    INSERT INTO outbox (chat_id, kind, priority, text_key, args, dedup_key, state, attempts, not_before,
                        created_at)
    SELECT :referrer, :kind, :priority, :text_key, CAST(:args AS JSON), :dedup_key,
           CASE WHEN EXISTS (SELECT 1 FROM users WHERE id = :referrer AND status = 'blocked')
                THEN 'blocked' ELSE 'pending' END,
           0, :now, :now
    FROM edge
    ON CONFLICT (dedup_key) DO NOTHING
)
SELECT count(*) FROM edge
""").bindparams(bindparam("now", type_=UTCDateTime()))


@dataclass(frozen=True)
class Notice:
    """The outbox row a binding queues for the referrer, written with the edge."""
    kind: str
    text_key: str
    args: dict
    priority: int
    dedup_key: str


class ReferralRepository(Repository):
    async def binding_of(self, referee_id: int) -> BindingRow | None:
        row = (await self.session.execute(_BINDING_OF, {"rid": referee_id})).first()
        return BindingRow(*row) if row else None

    async def chain_contains(self, start_id: int, target_id: int, max_hops: int = 100_000) -> bool:
        """Whether target is start or one of start's ancestors at any depth.

        The closure stops at the level cap, so cycles are checked on the edges.
        """
        if start_id == target_id:
            return True
        found = await self.session.execute(_CHAIN, {"start": start_id, "max_hops": max_hops, "target": target_id})
        return found.first() is not None

    async def insert_binding(
        self, *, referee_id: int, referrer_id: int, code_id: int | None, source: str, now: datetime,
        label: str | None = None,
    ) -> bool:
        """False when the referee already has a binding (a racing delivery won)."""
        result = await run(self.tx, _ADD_BINDING[dialect_name(self.tx)], dict(
            referee_id=referee_id, referrer_id=referrer_id, code_id=code_id, source=source, bound_at=now, label=label))
        return result.rowcount == 1

    @property
    def writes_edge_in_one_statement(self) -> bool:
        return dialect_name(self.tx) == "postgresql"

    async def add_leaf_edge(self, *, referee_id: int, referrer_id: int, code_id: int | None, source: str,
                            now: datetime, label: str | None, ancestors: list[int], notice: Notice) -> bool:
        """PostgreSQL only: a referee with no downline of its own bound under `ancestors` (the
        referrer first, then its upline, already cut at the level cap): the edge, its closure rows,
        the count bumps and the referrer's notice in one round trip. False when a racing delivery
        bound the referee first; then nothing was written."""
        depths = list(range(1, len(ancestors) + 1))
        written = await run(self.tx, _ADD_EDGE_PG, dict(
            referee=referee_id, referrer=referrer_id, code_id=code_id, source=source, now=now, label=label,
            ancestors=ancestors, depths=depths, kind=notice.kind, priority=notice.priority,
            text_key=notice.text_key, args=json.dumps(notice.args), dedup_key=notice.dedup_key))
        return written.scalar_one() == 1

    async def upline(self, user_id: int, max_depth: int) -> list[int]:
        """Ancestors nearest first, up to max_depth: one index look-up on the closure's key."""
        rows = await run(self.tx, _UPLINE, {"uid": user_id, "maxd": max_depth})
        return [r[0] for r in rows]

    async def subtree(self, user_id: int, max_depth: int) -> list[tuple[int, int, datetime]]:
        """(descendant, depth, bound_at) under user_id, to re-hang a subtree that binds late."""
        rows = await self.session.execute(_SUBTREE, {"uid": user_id, "maxd": max_depth})
        return [(r[0], r[1], r[2]) for r in rows]

    async def insert_closure(self, rows: list[tuple[int, int, int, datetime]]) -> None:
        """rows: (descendant, depth, ancestor, bound_at)."""
        if not rows:
            return
        await run(self.tx, _ADD_CLOSURE[dialect_name(self.tx)],
                  [dict(descendant_id=d, depth=k, ancestor_id=a, bound_at=t) for d, k, a, t in rows])

    async def bump_counts(self, increments: dict[tuple[int, int], int]) -> None:
        """Adds to (user, depth) counters in the binding transaction."""
        if not increments:
            return
        await run(self.tx, _BUMP[dialect_name(self.tx)], [
            dict(user_id=u, depth=d, count=n) for (u, d), n in sorted(increments.items())])

    async def counts(self, user_id: int) -> dict[int, int]:
        rows = await run(self.tx, _COUNTS, {"uid": user_id})
        return {int(d): int(c) for d, c in rows}

    async def referees(self, user_id: int, depth: int, limit: int, offset: int = 0,
                       older_than: tuple[datetime, int] | None = None,
                       newer_than: tuple[datetime, int] | None = None) -> list[RefereeRow]:
        """Newest first. `older_than` / `newer_than` (bound_at, referee id): the page after or before
        one already shown, read from that row on (a keyset), so a deep page of a referrer with
        thousands of referees costs what the first does; `offset` skips rows one by one."""
        c = ReferralClosure
        stmt = (select(c.descendant_id, User.first_name, c.bound_at).join(User, User.id == c.descendant_id)
                .where(c.ancestor_id == user_id, c.depth == depth))
        newest_first = (c.bound_at.desc(), c.descendant_id.desc())
        if older_than is not None:
            at, rid = older_than
            # bound_at <= at bounds the index range; the id breaks ties within one instant.
            stmt = stmt.where(c.bound_at <= at, or_(c.bound_at < at, c.descendant_id < rid)).order_by(*newest_first)
        elif newer_than is not None:
            at, rid = newer_than
            stmt = stmt.where(c.bound_at >= at, or_(c.bound_at > at, c.descendant_id > rid)).order_by(
                c.bound_at, c.descendant_id)
        else:
            stmt = stmt.order_by(*newest_first).offset(offset)
        rows = [RefereeRow(*r) for r in await self.session.execute(stmt.limit(limit))]
        return rows[::-1] if newer_than is not None else rows

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
