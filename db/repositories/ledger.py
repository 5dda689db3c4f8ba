"""Ledger queries. Balances are derived from entries at read time (plus, for a big referrer, an
immutable checkpoint of settled sums that `ledger check` recomputes), never kept as counters."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, false, func, insert, literal_column, or_, select, text, union_all
from sqlalchemy.orm import aliased

from db.core import run
from db.dialect import dialect_name
from db.models import LedgerEntry
from db.repositories.base import Repository
from db.repositories.checkpoints import EARNING_KINDS, SUMMED_KINDS, Checkpoint, CheckpointRepository, \
    unsettled_branches

_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")


@dataclass(frozen=True)
class EntryRow:
    id: int
    event_id: int
    beneficiary_id: int
    level: int
    rule: str
    kind: str
    amount_fen: int
    program_version: int
    referee_id: int | None
    reverses_id: int | None
    available_at: datetime
    requires_check: bool
    lapse_at: datetime | None
    created_at: datetime
    hold_flag_id: int | None = None


_COLUMNS = tuple(getattr(LedgerEntry, f) for f in EntryRow.__dataclass_fields__)


@dataclass(frozen=True)
class NewEntry:
    event_id: int
    beneficiary_id: int
    level: int
    rule: str
    kind: str
    amount_fen: int
    program_version: int
    available_at: datetime
    created_at: datetime
    referee_id: int | None = None
    reverses_id: int | None = None
    requires_check: bool = False
    lapse_at: datetime | None = None
    hold_flag_id: int | None = None


def state_flags(approved_at: datetime | None, now: datetime, e=LedgerEntry,  # noqa: ANN001, ANN201
                open_flags: tuple[int, ...] = ()):
    """(lapsed, pending) as SQL predicates; together they give an unreversed earning's state.

    `open_flags`: the beneficiary's open fraud flags (usually none). An entry held by one of them
    is pending whatever its hold time says; passing the ids keeps the flags table out of the query.
    """
    if approved_at is None:
        lapsed = and_(e.requires_check, e.lapse_at <= now)
        held = e.requires_check
    else:
        lapsed = and_(e.requires_check, e.lapse_at < approved_at)
        held = false()
    pending = [held, e.available_at > now]
    if open_flags:
        # Inlined integers (our own flag ids): one rendering, so SELECT and GROUP BY match on PostgreSQL.
        pending.append(e.hold_flag_id.in_([literal_column(str(int(f))) for f in open_flags]))
    return lapsed, or_(*pending)


def state_case(approved_at: datetime | None, now: datetime, reversed_, e=LedgerEntry,  # noqa: ANN001, ANN201
               open_flags: tuple[int, ...] = ()):
    """An earning's state in SQL; the same rule as bot.services.rewards.balances.entry_state."""
    lapsed, pending = state_flags(approved_at, now, e, open_flags)
    return case((reversed_, "reversed"), (lapsed, "lapsed"), (pending, "pending"), else_="available")


_TAIL_COLUMNS = (LedgerEntry.kind, LedgerEntry.requires_check, LedgerEntry.lapse_at, LedgerEntry.available_at,
                 LedgerEntry.hold_flag_id, LedgerEntry.created_at, LedgerEntry.level, LedgerEntry.rule,
                 LedgerEntry.amount_fen)


def _usable(cp: Checkpoint, approved_at: datetime | None, since: datetime | None) -> bool:
    """A checkpoint serves this read if it assumed no approval or this one (it is set once), and
    `since`, if asked, is a local month start in its zone: its sums are split by local month."""
    if cp.approved_at is not None and cp.approved_at != approved_at:
        return False
    if since is None:
        return True
    local = since.astimezone(ZoneInfo(cp.tz))
    return local.day == 1 and local.time() == time(0)


def _state(lapsed: bool | None, pending: bool | None) -> str:
    # NULL (a lapse time that isn't set) counts as false, as it does in state_case's CASE.
    return "lapsed" if lapsed else "pending" if pending else "available"


# Every conversion runs these: built once.
_ADD = insert(LedgerEntry).returning(LedgerEntry.id)
# The returned rows carry their effect's key to be matched back: SQLite does not promise RETURNING's
# row order, and asking SQLAlchemy to sort would make it insert one row at a time there.
_ADD_MANY = insert(LedgerEntry).returning(LedgerEntry.id, LedgerEntry.beneficiary_id, LedgerEntry.level,
                                          LedgerEntry.rule)

_tier_reversal = aliased(LedgerEntry)
# Asked whenever a referrer may have reached a tier: built once.
_UNREVERSED_TIER = (
    select(*_COLUMNS).outerjoin(_tier_reversal, _tier_reversal.reverses_id == LedgerEntry.id)
    .where(LedgerEntry.beneficiary_id == bindparam("bid"), LedgerEntry.rule == bindparam("rule"),
           LedgerEntry.kind == "tier_bonus", _tier_reversal.id.is_(None)).limit(1))


class LedgerRepository(Repository):
    async def add(self, entry: NewEntry) -> int:
        return (await run(self.tx, _ADD, entry.__dict__)).scalar_one()

    async def add_many(self, entries: list[NewEntry]) -> list[int]:
        """add() for several entries of one event (distinct beneficiary, level and rule, as the ledger's
        unique key requires) in one statement; their ids in the same order."""
        if len(entries) < 2:
            return [await self.add(e) for e in entries]
        rows = await run(self.tx, _ADD_MANY, [e.__dict__ for e in entries])
        ids = {(b, level, rule): entry_id for entry_id, b, level, rule in rows}
        return [ids[(e.beneficiary_id, e.level, e.rule)] for e in entries]

    async def of_event(self, event_id: int) -> list[EntryRow]:
        rows = await self.session.execute(select(*_COLUMNS).where(LedgerEntry.event_id == event_id)
                                          .order_by(LedgerEntry.id))
        return [EntryRow(*r) for r in rows]

    async def unreversed_of_event(self, event_id: int) -> list[EntryRow]:
        return await self._unreversed_earnings(LedgerEntry.event_id == event_id)

    async def _unreversed_earnings(self, *where) -> list[EntryRow]:  # noqa: ANN002
        """Earnings matching `where` that no reversal entry points at, oldest first."""
        rev = aliased(LedgerEntry)
        rows = await self.session.execute(
            select(*_COLUMNS).outerjoin(rev, rev.reverses_id == LedgerEntry.id)
            .where(*where, LedgerEntry.kind.in_(EARNING_KINDS), rev.id.is_(None))
            .order_by(LedgerEntry.id))
        return [EntryRow(*r) for r in rows]

    async def count_unreversed(self, *, beneficiary_id: int, referee_id: int, rule: str, level: int) -> int:
        rev = aliased(LedgerEntry)
        return (await self.session.execute(
            select(func.count()).select_from(LedgerEntry).outerjoin(rev, rev.reverses_id == LedgerEntry.id)
            .where(LedgerEntry.beneficiary_id == beneficiary_id, LedgerEntry.referee_id == referee_id,
                   LedgerEntry.rule == rule, LedgerEntry.level == level, rev.id.is_(None)))).scalar_one()

    async def unreversed_tier_entry(self, beneficiary_id: int, rule: str) -> EntryRow | None:
        row = (await run(self.tx, _UNREVERSED_TIER, {"bid": beneficiary_id, "rule": rule})).first()
        return EntryRow(*row) if row else None

    async def state_sums(self, user_id: int, approved_at: datetime | None, now: datetime,
                         open_flags: tuple[int, ...] = (), since: datetime | None = None,
                         ) -> dict[tuple[str, int, str, bool], int]:
        """{(state, level, rule, recent): fen} over the user's earnings; payouts under ('paid', 0, 'payout', _).

        `recent`: the entry (for a reversal, the entry it reverses) was created at or after
        `since`; always False without `since`. One pass serves "all time" and "this month" alike:
        /earnings asks for both, and each pass reads every one of a big referrer's entries.

        Two statements, no self-join: one pass over the user's entries sums earnings by state as
        if none were reversed (and payouts alongside); the user's own reversal entries then move
        what they reversed to 'reversed'. A reversal has the beneficiary of what it reverses, so
        both stay on this user's index range; joining every entry to its possible reversal made
        PostgreSQL sort 100,000 rows per call.

        With a usable checkpoint (db.repositories.checkpoints) the first statement reads only the
        entries it does not cover, and its sums are added: a big referrer's read goes from every
        entry to the recent ones. Reversals are unaffected: the second statement reads them all.
        """
        if dialect_name(self.tx) == "postgresql":
            # asyncpg prepares statements, and after five runs PostgreSQL may switch to a generic
            # plan, blind to `now` and to how many rows this user has: measured 87 ms against 29 ms
            # for a custom plan at 100,000 entries. For this transaction only.
            await self.session.execute(_CUSTOM_PLANS)
        cp = await CheckpointRepository(self.tx).latest(user_id)
        if cp is not None and not _usable(cp, approved_at, since):
            cp = None
        if cp is None:
            e, where = LedgerEntry, [LedgerEntry.beneficiary_id == user_id, LedgerEntry.kind.in_(SUMMED_KINDS)]
        else:
            # Only what the checkpoint does not cover; its sums are added below.
            tail = union_all(*unsettled_branches(user_id, cp, *_TAIL_COLUMNS)).subquery("tail")
            e, where = tail.c, []
        # Grouped by the raw predicates, not by a CASE: booleans hash into a handful of
        # groups, where a text CASE made PostgreSQL sort every row. The same expression objects
        # go to SELECT and GROUP BY, since PostgreSQL matches them by their parameters.
        lapsed, pending = state_flags(approved_at, now, e, open_flags)
        # Without `since`, no such column: PostgreSQL refuses a constant in GROUP BY.
        recent = [e.created_at >= since] if since is not None else []
        sums: dict[tuple[str, int, str, bool], int] = defaultdict(int)
        rows = await self.session.execute(
            select(e.kind, lapsed, pending, e.level, e.rule, func.sum(e.amount_fen), *recent)
            .where(*where)
            .group_by(e.kind, lapsed, pending, e.level, e.rule, *recent))
        for kind, was_lapsed, was_pending, level, rule, total, *is_recent in rows:
            is_recent = bool(is_recent and is_recent[0])
            if kind == "payout":
                sums[("paid", 0, "payout", is_recent)] -= int(total)
            else:
                sums[(_state(was_lapsed, was_pending), int(level), rule, is_recent)] += int(total)
        if cp is not None:
            first_recent = since.astimezone(ZoneInfo(cp.tz)).date() if since is not None else None
            for state, level, rule, month, fen in cp.sums:
                sums[(state, level, rule, first_recent is not None and month >= first_recent)] += fen
        original, reversal = aliased(LedgerEntry), aliased(LedgerEntry)
        o_lapsed, o_pending = state_flags(approved_at, now, original, open_flags)
        o_recent = [original.created_at >= since] if since is not None else []
        reversed_ = (select(o_lapsed, o_pending, original.level, original.rule, func.sum(original.amount_fen),
                            *o_recent)
                     .select_from(reversal).join(original, original.id == reversal.reverses_id)
                     .where(reversal.beneficiary_id == user_id, reversal.kind == "reversal",
                            original.kind.in_(EARNING_KINDS))
                     .group_by(o_lapsed, o_pending, original.level, original.rule, *o_recent))
        for was_lapsed, was_pending, level, rule, total, *is_recent in await self.session.execute(reversed_):
            is_recent = bool(is_recent and is_recent[0])
            sums[(_state(was_lapsed, was_pending), int(level), rule, is_recent)] -= int(total)
            sums[("reversed", int(level), rule, is_recent)] += int(total)
        return {key: fen for key, fen in sums.items() if fen}

    async def recent(self, user_id: int, limit: int) -> list[EntryRow]:
        rows = await self.session.execute(
            select(*_COLUMNS).where(LedgerEntry.beneficiary_id == user_id)
            .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(limit))
        return [EntryRow(*r) for r in rows]

    async def all_entries(self) -> list[EntryRow]:
        rows = await self.session.execute(select(*_COLUMNS).order_by(LedgerEntry.id))
        return [EntryRow(*r) for r in rows]

    async def beneficiaries(self) -> list[int]:
        rows = await self.session.execute(select(LedgerEntry.beneficiary_id).distinct())
        return [r[0] for r in rows]

    async def held_by(self, flag_id: int) -> list[EntryRow]:
        """Unreversed earnings held by a fraud flag, oldest first: what a reject reverses."""
        return await self._unreversed_earnings(LedgerEntry.hold_flag_id == flag_id)

    async def held_sums(self, flag_ids: list[int]) -> dict[int, int]:
        """{flag id: fen} of the unreversed earnings each flag holds (held or, once decided, was holding)."""
        if not flag_ids:
            return {}
        rev = aliased(LedgerEntry)
        rows = await self.session.execute(
            select(LedgerEntry.hold_flag_id, func.sum(LedgerEntry.amount_fen))
            .outerjoin(rev, rev.reverses_id == LedgerEntry.id)
            .where(LedgerEntry.hold_flag_id.in_(flag_ids), LedgerEntry.kind.in_(EARNING_KINDS), rev.id.is_(None))
            .group_by(LedgerEntry.hold_flag_id))
        return {int(flag): int(total) for flag, total in rows}

    async def reversed_sums(self, flag_ids: list[int]) -> dict[int, int]:
        """{flag id: fen} of the held earnings that were reversed (by a reject, or by the platform)."""
        if not flag_ids:
            return {}
        rev = aliased(LedgerEntry)
        rows = await self.session.execute(
            select(LedgerEntry.hold_flag_id, func.sum(LedgerEntry.amount_fen))
            .join(rev, rev.reverses_id == LedgerEntry.id)
            .where(LedgerEntry.hold_flag_id.in_(flag_ids), LedgerEntry.kind.in_(EARNING_KINDS))
            .group_by(LedgerEntry.hold_flag_id))
        return {int(flag): int(total) for flag, total in rows}

    async def tier_rejected(self, beneficiary_id: int, rule: str) -> bool:
        """A tier bonus of theirs was reversed by an admin's review (a reversal under the bonus's own
        event): the tier is not paid again when the count next reaches it."""
        rev = aliased(LedgerEntry)
        row = (await self.session.execute(
            select(LedgerEntry.id).join(rev, and_(rev.reverses_id == LedgerEntry.id,
                                                  rev.event_id == LedgerEntry.event_id))
            .where(LedgerEntry.beneficiary_id == beneficiary_id, LedgerEntry.rule == rule,
                   LedgerEntry.kind == "tier_bonus").limit(1))).first()
        return row is not None
