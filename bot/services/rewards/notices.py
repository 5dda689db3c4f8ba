"""Ledger notices to beneficiaries, through the outbox: created, reversed, paid, and now available."""
from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy import String, and_, case, cast, exists, literal, or_, select
from sqlalchemy.orm import aliased

from bot.outbox.queue import PRIORITY_TRANSACTIONAL, Queued, enqueue, enqueue_many
from bot.services.rewards.balances import rule_family
from bot.services.rewards.money import yuan
from db.models import FraudFlag, LedgerEntry, OutboxMessage, User
from db.repositories.ledger import NewEntry
from db.uow import UnitOfWork

# Entries that matured while the bot was down longer than this get no "now available" notice.
MATURITY_LOOKBACK = timedelta(days=7)


class LedgerNotices:
    def __init__(self, uow: UnitOfWork, tz: tzinfo) -> None:
        self.uow = uow
        self.tz = tz

    def _date(self, moment: datetime) -> str:
        return moment.astimezone(self.tz).strftime("%Y-%m-%d")

    async def _send(self, chat_id: int, key: str, args: dict, dedup: str, now: datetime) -> None:
        if chat_id <= 0:  # platform-only people have no chat with the bot
            return
        await enqueue(self.uow.tx, chat_id=chat_id, kind="ledger", text_key=key, args=args, now=now,
                      priority=PRIORITY_TRANSACTIONAL, dedup_key=dedup)
        self.uow.outbox_queued = True

    async def created(self, entry_id: int, entry: NewEntry, held: bool, now: datetime) -> None:
        await self.send_many([self.created_message(entry_id, entry, held)], now)

    def created_message(self, entry_id: int, entry: NewEntry, held: bool) -> Queued:
        """A new earning's notice; `held`: waiting for the beneficiary's credit check."""
        args = {"amount": yuan(entry.amount_fen), "level": entry.level, "rule": rule_family(entry.rule),
                "date": self._date(entry.available_at)}
        key = "notice-reward-held" if held else "notice-reward"
        return Queued(entry.beneficiary_id, "ledger", key, args, f"entry:{entry_id}")

    @staticmethod
    def held_by_flag_message(entry_id: int, entry: NewEntry) -> Queued:
        """An earning held by a fraud flag: no date and no reason, so the suspect is not tipped off."""
        return Queued(entry.beneficiary_id, "ledger", "fraud-notice-pending",
                      {"amount": yuan(entry.amount_fen), "level": entry.level, "rule": rule_family(entry.rule)},
                      f"entry:{entry_id}")

    async def send_many(self, messages: list[Queued], now: datetime) -> None:
        """Several notices in one statement; platform-only people (no chat) are left out."""
        messages = [m for m in messages if m.chat_id > 0]
        if messages:
            await enqueue_many(self.uow.tx, messages, now)
            self.uow.outbox_queued = True

    async def reversed(self, entry_id: int, entry: NewEntry, now: datetime) -> None:
        args = {"amount": yuan(-entry.amount_fen), "level": entry.level,
                "rule": rule_family(entry.rule.removeprefix("reversal:"))}
        await self._send(entry.beneficiary_id, "notice-reward-reversed", args, f"entry:{entry_id}", now)

    async def paid(self, entry_id: int, entry: NewEntry, now: datetime) -> None:
        await self._send(entry.beneficiary_id, "notice-payout", {"amount": yuan(-entry.amount_fen)},
                         f"entry:{entry_id}", now)

    async def available(self, entry_id: int, beneficiary_id: int, amount_fen: int, level: int, rule: str,
                        now: datetime) -> None:
        """'Now available', once per entry (the matured job and a review's release share the key)."""
        await self._send(beneficiary_id, "notice-reward-available",
                         {"amount": yuan(amount_fen), "level": level, "rule": rule_family(rule)},
                         f"available:{entry_id}", now)

    async def enqueue_matured(self, now: datetime) -> int:
        """'Now available' notices for earnings whose hold (and credit check) ended; once each."""
        e, rev = LedgerEntry, aliased(LedgerEntry)
        # Held for the credit check, an earning is released by the approval, not by its hold alone.
        released = case((and_(e.requires_check, User.credit_approved_at > e.available_at), User.credit_approved_at),
                        else_=e.available_at)
        rows = (await self.uow.session.execute(
            select(e.id, e.beneficiary_id, e.amount_fen, e.level, e.rule)
            .join(User, User.id == e.beneficiary_id)
            .outerjoin(rev, rev.reverses_id == e.id)
            .where(
                e.kind.in_(("reward", "tier_bonus")), e.beneficiary_id > 0, rev.id.is_(None),
                released <= now, released > now - MATURITY_LOOKBACK,
                or_(~e.requires_check, and_(User.credit_approved_at.is_not(None),
                                            User.credit_approved_at <= e.lapse_at)),
                ~exists().where(OutboxMessage.dedup_key == literal("available:") + cast(e.id, String)),
                # Held by an open fraud flag: not available until an admin approves (who announces it then).
                ~exists().where(FraudFlag.id == e.hold_flag_id, FraudFlag.state == "open"),
            ).limit(1000))).all()
        for entry_id, beneficiary, amount, level, rule in rows:
            await self.available(entry_id, beneficiary, amount, level, rule, now)
        return len(rows)
