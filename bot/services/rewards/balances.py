"""Balances and earnings, derived from ledger entries at read time.

An earning (reward or tier bonus) is, in this order: reversed (a reversal
entry points at it); lapsed (it needed the beneficiary's credit check, which
did not come by its lapse time); pending (still held for the credit check, held
by an open fraud flag, or before its hold ends); else available. Payouts
subtract from available.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Collection

from db.repositories.ledger import EntryRow
from db.uow import UnitOfWork


def entry_state(entry: EntryRow, approved_at: datetime | None, now: datetime, reversed_: bool,
                open_flags: Collection[int] = ()) -> str:
    """The Python twin of db.repositories.ledger.state_case; `ledger check` compares the two.

    `open_flags`: ids of fraud flags still open (any superset of the beneficiary's will do).
    """
    if reversed_:
        return "reversed"
    if entry.requires_check:
        if approved_at is None:
            return "lapsed" if entry.lapse_at is not None and entry.lapse_at <= now else "pending"
        if entry.lapse_at is not None and entry.lapse_at < approved_at:
            return "lapsed"
    if entry.hold_flag_id is not None and entry.hold_flag_id in open_flags:
        return "pending"
    return "pending" if entry.available_at > now else "available"


@dataclass(frozen=True)
class Balance:
    pending: int = 0
    available: int = 0
    paid: int = 0
    reversed: int = 0
    lapsed: int = 0
    # A reversal of money already paid out is a debt, netted against later earnings;
    # available never shows below zero.
    owed: int = 0

    def as_json(self) -> dict[str, int]:
        return {"pending": self.pending, "available": self.available, "paid": self.paid,
                "reversed": self.reversed, "lapsed": self.lapsed, "owed": self.owed}


@dataclass(frozen=True)
class Earnings:
    """Earned (pending or available, not reversed or lapsed), in fen."""

    by_level: dict[int, int] = field(default_factory=dict)
    by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_level.values())


def rule_family(rule: str) -> str:
    """'tier:5' and 'tier:20' are both tier bonuses to a reader."""
    return rule.split(":", 1)[0]


def fold(sums: dict[tuple[str, int, str, bool], int]) -> tuple[Balance, Earnings]:
    totals: dict[str, int] = defaultdict(int)
    by_level: dict[int, int] = defaultdict(int)
    by_rule: dict[str, int] = defaultdict(int)
    for (state, level, rule, _), fen in sums.items():
        totals[state] += fen
        if state in ("pending", "available"):
            by_level[level] += fen
            by_rule[rule_family(rule)] += fen
    net = totals["available"] - totals["paid"]
    balance = Balance(pending=totals["pending"], available=max(net, 0), paid=totals["paid"],
                      reversed=totals["reversed"], lapsed=totals["lapsed"], owed=max(-net, 0))
    return balance, Earnings(dict(by_level), dict(by_rule))


class BalanceService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def balance(self, user_id: int, now: datetime) -> Balance:
        return (await self.summary(user_id, now))[0]

    async def summary(self, user_id: int, now: datetime) -> tuple[Balance, Earnings]:
        return fold(await self._sums(user_id, now))

    async def summary_since(self, user_id: int, now: datetime, since: datetime) -> tuple[Balance, Earnings, Earnings]:
        """The balance, all-time earnings and earnings on entries created since `since`, in one pass."""
        sums = await self._sums(user_id, now, since)
        balance, all_time = fold(sums)
        _, recent = fold({key: fen for key, fen in sums.items() if key[3]})
        return balance, all_time, recent

    async def _sums(self, user_id: int, now: datetime,
                    since: datetime | None = None) -> dict[tuple[str, int, str, bool], int]:
        user = await self.uow.users.get(user_id)
        approved = user.credit_approved_at if user else None
        open_flags = await self.uow.flags.open_ids(user_id)
        return await self.uow.ledger.state_sums(user_id, approved, now, open_flags, since)
