"""A reversal (a cancelled loan, or fraud) claws back everything an event paid, at every level.

Each reward entry of the reversed event gets a reversal entry pointing at it;
the reversed referee no longer counts as qualified (their qualified_referees row
goes), so a tier bonus that no longer holds is reversed too. No ledger entry is updated
or deleted.
"""
from __future__ import annotations

from datetime import datetime

from bot.services.rewards.notices import LedgerNotices
from bot.services.rewards.program import Program
from bot.services.rewards.tiers import revoke_tiers
from db.repositories.events import EventRow
from db.repositories.ledger import EntryRow, NewEntry
from db.uow import UnitOfWork


def reversal_of(entry: EntryRow, event_id: int, now: datetime) -> NewEntry:
    """The entry that reverses `entry`, in full, under `event_id`; rule reversal:<its rule>."""
    return NewEntry(event_id=event_id, beneficiary_id=entry.beneficiary_id, level=entry.level,
                    rule=f"reversal:{entry.rule}", kind="reversal", amount_fen=-entry.amount_fen,
                    program_version=entry.program_version, available_at=now, created_at=now,
                    referee_id=entry.referee_id, reverses_id=entry.id)


async def reverse_event(uow: UnitOfWork, notices: LedgerNotices, program: Program, target: EventRow,
                        reversal_event_id: int, now: datetime) -> int:
    count = 0
    for paid in await uow.ledger.unreversed_of_event(target.id):
        if paid.kind != "reward":
            continue  # tier bonuses are judged on the count below, not on which loan tipped them
        entry = reversal_of(paid, reversal_event_id, now)
        entry_id = await uow.ledger.add(entry)
        await notices.reversed(entry_id, entry, now)
        count += 1
    if target.type == "first_loan":
        referrer = await uow.qualified.drop(target.id)  # None: the loan counted for nobody
        if referrer is not None:
            await uow.users.lock(referrer)
            for entry_id, entry in await revoke_tiers(uow, program, referrer, reversal_event_id, now):
                await notices.reversed(entry_id, entry, now)
                count += 1
    return count
