"""Tier bonuses: once per tier, when a referrer's qualified level-1 referees reach its count.

"Qualified" means a level-1 referee whose first loan was applied, while bound to
this referrer, and not reversed (the qualified_referees rows). A reversal that
drops the count below a paid tier reverses that tier's bonus (and the count
reaching it again pays it again); a bonus reversed by an admin's fraud review
is not paid again.
"""
from __future__ import annotations

from datetime import datetime
from typing import Awaitable, Callable

from bot.services.rewards.program import Program
from db.repositories.ledger import NewEntry
from db.uow import UnitOfWork


async def _qualified(uow: UnitOfWork, program: Program, referrer_id: int) -> int:
    """The count, as far as the highest tier needs it."""
    if not program.tiers:
        return 0
    return await uow.qualified.count(referrer_id, cap=max(t.qualified for t in program.tiers))


async def due_tiers(uow: UnitOfWork, program: Program, referrer_id: int) -> list:
    """The tiers whose bonus the referrer has reached and not been paid (or had reversed by a count
    that fell). A tier whose bonus an admin's review reversed is not paid again."""
    qualified = await _qualified(uow, program, referrer_id)
    due = []
    for tier in program.tiers:
        if qualified < tier.qualified or await uow.ledger.unreversed_tier_entry(referrer_id, tier.rule):
            continue
        if await uow.ledger.tier_rejected(referrer_id, tier.rule):
            continue
        due.append(tier)
    return due


async def award_tiers(uow: UnitOfWork, program: Program, referrer_id: int, event_id: int,
                      now: datetime, available_at: datetime, check: tuple[bool, datetime | None],
                      hold: Callable[[], Awaitable[int | None]]) -> list[tuple[int, NewEntry]]:
    """hold: the flag holding a new earning of the referrer, asked only when a tier is due."""
    due = await due_tiers(uow, program, referrer_id)
    hold_flag_id = await hold() if due else None
    created = []
    for tier in due:
        entry = NewEntry(event_id=event_id, beneficiary_id=referrer_id, level=1, rule=tier.rule, kind="tier_bonus",
                         amount_fen=tier.bonus, program_version=program.version, available_at=available_at,
                         created_at=now, requires_check=check[0], lapse_at=check[1], hold_flag_id=hold_flag_id)
        created.append((await uow.ledger.add(entry), entry))
    return created


async def revoke_tiers(uow: UnitOfWork, program: Program, referrer_id: int, event_id: int,
                       now: datetime) -> list[tuple[int, NewEntry]]:
    qualified = await _qualified(uow, program, referrer_id)
    created = []
    for tier in program.tiers:
        if qualified >= tier.qualified:
            continue
        paid = await uow.ledger.unreversed_tier_entry(referrer_id, tier.rule)
        if paid is None:
            continue
        entry = NewEntry(event_id=event_id, beneficiary_id=referrer_id, level=1, rule=f"reversal:{tier.rule}",
                         kind="reversal", amount_fen=-paid.amount_fen, program_version=paid.program_version,
                         available_at=now, created_at=now, reverses_id=paid.id)
        created.append((await uow.ledger.add(entry), entry))
    return created
