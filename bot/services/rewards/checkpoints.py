"""Ledger checkpoints: a big referrer's settled sums, written so balance reads stop summing every entry.

A referrer with 100,000 entries costs one scan of them per `/earnings`, balance
or API read. A checkpoint records, up to an entry id, the sums of the entries
whose state can no longer change (db.models.LedgerCheckpoint says which), by
state, level, rule and local month; a read then adds only the entries after it
and the few it could not settle (db.repositories.ledger.state_sums). Rows are
never updated: a newer checkpoint supersedes an older one, and `ledger check`
recomputes every one of them from the entries.

`CheckpointWriter.due()` finds beneficiaries with `LEDGER_CHECKPOINT_ENTRIES`
entries after their latest checkpoint; the runtime's job writes theirs.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, tzinfo
from typing import Callable

from sqlalchemy.exc import IntegrityError

from bot.services.rewards.balances import entry_state
from db.uow import UnitOfWork

Sums = dict[tuple[str, int, str, date], int]


def local_month(at: datetime, tz: tzinfo) -> date:
    return at.astimezone(tz).date().replace(day=1)


class CheckpointWriter:
    def __init__(self, uow: Callable[[], UnitOfWork], tz: tzinfo, tz_name: str) -> None:
        self.uow = uow
        self.tz = tz
        self.tz_name = tz_name

    async def due(self, min_entries: int) -> list[int]:
        async with self.uow() as uow:
            return await uow.checkpoints.due(min_entries)

    async def write(self, user_id: int, now: datetime) -> int | None:
        """A checkpoint of the user's settled entries as of `now`; None if there is nothing new."""
        async with self.uow() as uow:
            upto = await uow.checkpoints.settled_upto(user_id)
            latest = await uow.checkpoints.latest(user_id)
            user = await uow.users.get(user_id)
            approved = user.credit_approved_at if user else None
            await uow.commit()  # at once: on PostgreSQL this holds a SHARE lock on the ledger
        if upto is None or (latest is not None and latest.upto_entry_id >= upto):
            return None
        try:
            async with self.uow() as uow:
                sums, count = await self.settled_sums(uow, user_id, upto, now, approved)
                checkpoint_id = await uow.checkpoints.add(
                    user_id=user_id, upto_entry_id=upto, as_of=now, approved_at=approved, tz=self.tz_name,
                    entries=count, created_at=now, sums=sums)
                await uow.commit()
        except IntegrityError:
            # Another instance's job wrote this very checkpoint (unique per beneficiary and entry id).
            return None
        return checkpoint_id

    async def settled_sums(self, uow: UnitOfWork, user_id: int, upto: int, as_of: datetime,
                           approved: datetime | None) -> tuple[Sums, int]:
        """What a checkpoint with these bounds holds, from the entries (`ledger check` calls this too)."""
        sums: Sums = defaultdict(int)
        count = 0
        async for entry in uow.checkpoints.settled_entries(user_id, upto, as_of, approved):
            count += 1
            month = local_month(entry.created_at, self.tz)
            if entry.kind == "payout":
                sums[("paid", 0, "payout", month)] -= entry.amount_fen
                continue
            state = entry_state(entry, approved, as_of, reversed_=False)  # type: ignore[arg-type]
            if state not in ("available", "lapsed"):
                raise AssertionError(f"entry of user {user_id} taken as settled is {state}")
            sums[(state, entry.level, entry.rule, month)] += entry.amount_fen
        return {key: fen for key, fen in sums.items() if fen}, count

    async def write_due(self, min_entries: int, now: Callable[[], datetime]) -> int:
        """Checkpoints for everyone due one; returns how many were written."""
        if min_entries <= 0:
            return 0
        written = 0
        for user_id in await self.due(min_entries):
            written += await self.write(user_id, now()) is not None
        return written

