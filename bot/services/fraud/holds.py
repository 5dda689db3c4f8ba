"""Holds: an earning created while its beneficiary has an open flag waits for that flag's review.

The entry names the flag (ledger_entries.hold_flag_id, the earliest open one) and never changes;
the flag's state decides. Open: the entry is pending whatever its hold time says. Approved: the
usual rules (hold days, credit check) apply from then on. Rejected: the entry was reversed by the
review. Approving one flag releases what it holds even if another flag of the user is still open:
/review lists a user's flags together, so an admin decides them side by side.
"""
from __future__ import annotations

from db.uow import UnitOfWork


async def hold_for(uow: UnitOfWork, beneficiary_id: int) -> int | None:
    """The flag that holds a new earning of `beneficiary_id`, or None (nearly always)."""
    return await uow.flags.earliest_open(beneficiary_id, share_lock=True)


async def holds_for(uow: UnitOfWork, beneficiary_ids: list[int]) -> dict[int, int]:
    """hold_for for several beneficiaries (an event's upline) in one statement; absent: not held."""
    return await uow.flags.earliest_open_of(beneficiary_ids)
