"""Who an event is about: Telegram users, platform-only people, and linking the two.

Someone who registers on the platform without ever opening the bot becomes a
user with a negative id (Telegram user ids are positive). When the platform
links that account to a Telegram id, the two records become one:

* Telegram id not seen yet: the platform-only record takes the Telegram id.
* Both known: the Telegram record stays. Its own binding (made in the bot)
  wins; if it has none, it takes the platform record's referrer, as long as
  that makes no cycle. The platform record's events move to it.

A platform-only person owns no codes and has no downline, which keeps the
merge to their own binding, closure rows and events.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update

from bot.services.binding import BindingService
from db.models import Binding, Event, PlatformUserId, ReferralClosure, ReferralCount, User
from db.repositories.users import UserRow
from db.uow import UnitOfWork


@dataclass(frozen=True)
class Resolved:
    user: UserRow | None
    created: bool = False


class Identities:
    def __init__(self, uow: UnitOfWork, binding: BindingService) -> None:
        self.uow = uow
        self.binding = binding

    async def find(self, telegram_id: int | None, external_id: str | None, *, lock: bool = False) -> UserRow | None:
        """With lock, the user's row is locked too (UserRepository.lock), in the same statement."""
        if telegram_id is not None:
            user = await self.uow.users.get(telegram_id, lock=lock)
            if user is not None:
                return user
        if external_id is not None:
            return await self.uow.users.by_external(external_id, lock=lock)
        return None

    async def find_or_create(self, telegram_id: int | None, external_id: str | None, now: datetime) -> Resolved:
        user = await self.find(telegram_id, external_id)
        if user is not None:
            return Resolved(user)
        if telegram_id is not None:
            await self.uow.users.insert_platform_user(user_id=telegram_id, external_id=external_id, now=now)
        else:
            allocated = PlatformUserId(external_id=external_id)
            self.uow.session.add(allocated)
            await self.uow.session.flush()
            await self.uow.users.insert_platform_user(user_id=-allocated.id, external_id=external_id, now=now)
        return Resolved(await self.find(telegram_id, external_id), created=True)

    async def link(self, telegram_id: int, external_id: str, now: datetime) -> tuple[UserRow | None, str | None]:
        """(the linked user, None) or (None, why the link is refused)."""
        by_tg = await self.uow.users.get(telegram_id)
        by_ext = await self.uow.users.by_external(external_id)
        if by_tg is not None and by_tg.external_id not in (None, external_id):
            return None, f"telegram_id {telegram_id} is already linked to another platform account"
        if by_ext is not None and by_ext.id > 0 and by_ext.id != telegram_id:
            return None, f"external_id {external_id} is already linked to another Telegram user"
        if by_ext is None:
            if by_tg is None:
                await self.uow.users.insert_platform_user(user_id=telegram_id, external_id=external_id, now=now)
            else:
                await self.uow.users.set_external_id(telegram_id, external_id)
        elif by_ext.id < 0:
            await self._merge(by_ext, telegram_id, external_id, now, keep_existing=by_tg is not None)
        return await self.uow.users.get(telegram_id), None

    async def _merge(self, platform: UserRow, telegram_id: int, external_id: str, now: datetime,
                     keep_existing: bool) -> None:
        session = self.uow.session
        old = platform.id
        edge = await self.uow.referrals.binding_of(old)
        closure = await self.uow.referrals.upline(old, 3)
        # Unhook the platform record: its binding and closure rows, the counts they added, and its
        # first loan's place in its referrer's tier count (re-judged for the merged user below).
        await self.uow.qualified.forget(old)
        await session.execute(delete(ReferralClosure).where(ReferralClosure.descendant_id == old))
        await session.execute(delete(Binding).where(Binding.referee_id == old))
        for depth, ancestor in enumerate(closure, start=1):
            await session.execute(update(ReferralCount).where(
                ReferralCount.user_id == ancestor, ReferralCount.depth == depth).values(count=ReferralCount.count - 1))
        await session.execute(update(User).where(User.id == old).values(external_id=None))
        if not keep_existing:
            source = await self.uow.users.get(old)
            await self.uow.users.insert_platform_user(user_id=telegram_id, external_id=external_id, now=now)
            await session.execute(update(User).where(User.id == telegram_id).values(
                first_seen_at=source.first_seen_at, credit_approved_at=source.credit_approved_at))
        else:
            await self.uow.users.set_external_id(telegram_id, external_id)
            if platform.credit_approved_at is not None:
                await self.uow.users.set_credit_approved(telegram_id, platform.credit_approved_at)
        await session.execute(update(Event).where(Event.user_id == old).values(user_id=telegram_id))
        await session.execute(delete(User).where(User.id == old))
        if edge is not None and await self.uow.referrals.binding_of(telegram_id) is None:
            if not await self.uow.referrals.chain_contains(edge.referrer_id, telegram_id):
                await self.binding.attach(telegram_id, edge.referrer_id, edge.code_id, edge.source)
        await self.uow.qualified.requalify(telegram_id)
