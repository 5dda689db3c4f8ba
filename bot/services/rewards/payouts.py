"""A payout: the platform paid a user part of their available balance. Never more than available."""
from __future__ import annotations

from datetime import datetime

from bot.services.rewards.balances import BalanceService
from bot.services.rewards.money import yuan
from bot.services.rewards.notices import LedgerNotices
from db.repositories.ledger import NewEntry
from db.uow import UnitOfWork


async def pay_out(uow: UnitOfWork, notices: LedgerNotices, user_id: int, amount_fen: int, event_id: int,
                  program_version: int, now: datetime) -> str | None:
    """None when paid; otherwise why it was refused."""
    await uow.users.lock(user_id)  # two payouts at once must not both see the same balance
    balance = await BalanceService(uow).balance(user_id, now)
    if amount_fen > balance.available:
        return f"amount_fen {amount_fen} exceeds the available balance {balance.available} ({yuan(balance.available)})"
    entry = NewEntry(event_id=event_id, beneficiary_id=user_id, level=0, rule="payout", kind="payout",
                     amount_fen=-amount_fen, program_version=program_version, available_at=now, created_at=now)
    entry_id = await uow.ledger.add(entry)
    await notices.paid(entry_id, entry, now)
    return None
