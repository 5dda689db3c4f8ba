"""Groups: what the bot may do in each, who it has seen there, members' invite links, and joins.

A join is recorded once per (group, person), ever: leaving and rejoining never counts
twice, and the first leave is what decides whether it counts at all (bot/services/leaderboard.py).
A join is attributed to a member only when it came through that member's link. When a group
becomes a supergroup under a new id, all of it follows to the new id (db/repositories/groups.py:
GroupRepository.move), so who invited whom survives the upgrade.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.clock import Clock
from bot.services.fraud.signals import FraudSignals
from db.repositories.groups import GroupRow
from db.uow import UnitOfWork

ADMIN_STATUSES = frozenset({"administrator", "creator"})


class Readiness(enum.Enum):
    """Whether the bot can hand out invite links in a group, or which right it lacks."""

    READY = "ready"
    NOT_ADMIN = "not_admin"
    NO_INVITE_RIGHT = "no_invite_right"  # an admin without "Invite users via link"


def readiness(bot_status: str, can_invite: bool) -> Readiness:
    if bot_status not in ADMIN_STATUSES:
        return Readiness.NOT_ADMIN
    return Readiness.READY if can_invite or bot_status == "creator" else Readiness.NO_INVITE_RIGHT


def link_name(code: str) -> str:
    """The name a group's admins see on a member's link: the member's code, never their name (≤ 32)."""
    return code[:32]


@dataclass
class GroupService:
    uow: UnitOfWork
    clock: Clock

    async def bot_membership(self, *, chat_id: int, title: str, type: str, status: str,
                             can_invite: bool) -> Readiness | None:
        """The bot's own status and rights in a group, as Telegram just told us; None, and nothing
        stored, for a group that has become a supergroup: the upgrade itself tells the bot it left
        the old chat, and that says nothing about the supergroup."""
        if await self.uow.groups.moved_to(chat_id) is not None:
            return None
        await self.uow.groups.put_bot(chat_id=chat_id, title=title or "", type=type, bot_status=status,
                                      can_invite=can_invite, now=self.clock.now())
        return readiness(status, can_invite)

    async def group(self, *, chat_id: int, title: str | None, type: str) -> GroupRow:
        """The group's row, created for a group the bot is in but never saw itself added to
        (added before this feature existed): status 'member', rights unknown until checked."""
        row = await self.uow.groups.get(chat_id)
        if row is None:
            moved = await self.uow.groups.moved_to(chat_id)
            if moved is not None:  # a late update from before the upgrade: the supergroup's
                return await self.group(chat_id=moved, title=title, type="supergroup")
            await self.uow.groups.ensure(chat_id=chat_id, title=title or "", type=type, bot_status="member",
                                         now=self.clock.now())
            row = await self.uow.groups.get(chat_id)
            assert row is not None
        return row

    async def seen(self, *, chat_id: int, title: str | None, type: str, user_id: int) -> None:
        """Someone wrote in the group: they are a member (for /invite in private). One read when known."""
        if await self.uow.groups.is_member(chat_id, user_id):
            return
        group = await self.group(chat_id=chat_id, title=title, type=type)
        await self.uow.groups.set_member(group.chat_id, user_id, True, self.clock.now())

    async def member_changed(self, *, chat_id: int, title: str | None, type: str, user_id: int, is_bot: bool,
                             joined: bool, left: bool, present: bool, invite_link: str | None) -> None:
        # chat_member updates reach admins only, hence the status for a group first heard of this way.
        if await self.uow.groups.get(chat_id) is None:
            moved = await self.uow.groups.moved_to(chat_id)
            if moved is not None:  # who joined or left before the upgrade did so in the supergroup's past
                chat_id, type = moved, "supergroup"
            if await self.uow.groups.get(chat_id) is None:
                await self.uow.groups.ensure(chat_id=chat_id, title=title or "", type=type,
                                             bot_status="administrator", now=self.clock.now())
        now = self.clock.now()
        if not is_bot:
            await self.uow.groups.set_member(chat_id, user_id, present, now)
        if joined:
            link = await self.uow.groups.link_by_url(chat_id, invite_link) if invite_link else None
            # Someone rejoining through their own link invited nobody.
            link_id = link.id if link is not None and link.owner_id != user_id else None
            await self.uow.groups.add_join(chat_id=chat_id, user_id=user_id, link_id=link_id, is_bot=is_bot,
                                           now=now)
            if is_bot and link is not None and link_id is not None:
                # Bots brought in through a member's link are fake referees: enough of them flag the member.
                await FraudSignals(self.uow).check_fake_referees(link.owner_id, now)
        elif left:
            await self.uow.groups.mark_left(chat_id, user_id, now)

    async def upgraded(self, *, old_chat_id: int, new_chat_id: int, title: str | None) -> GroupRow | None:
        """A group became a supergroup under a new id: what the bot knew of it moves there, the old id
        keeps nothing. Either service message (or a redelivery of one) may come first; the second finds
        nothing left to move. The supergroup's row, made as for any group first heard of if neither chat
        was known; None for a message that is not an upgrade (both ids the same, or not groups')."""
        if old_chat_id == new_chat_id or old_chat_id >= 0 or new_chat_id >= 0:
            return None
        now = self.clock.now()
        await self.uow.groups.record_move(old_chat_id, new_chat_id, now)
        await self.uow.groups.move(old_chat_id, new_chat_id, now)
        return await self.group(chat_id=new_chat_id, title=title, type="supergroup")

    async def stored_link(self, chat_id: int, owner_id: int) -> str | None:
        row = await self.uow.groups.link_of(chat_id, owner_id)
        return row.invite_link if row is not None else None

    async def save_link(self, *, chat_id: int, owner_id: int, url: str, name: str) -> str:
        """Keeps a link just created; if a concurrent /invite stored one first, that one is the member's."""
        row = await self.uow.groups.add_link(chat_id=chat_id, owner_id=owner_id, url=url, name=name,
                                             now=self.clock.now())
        return row.invite_link

    async def shared_with(self, user_id: int) -> list[GroupRow]:
        return await self.uow.groups.shared_with(user_id)

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        return await self.uow.groups.is_member(chat_id, user_id)

    async def set_top_enabled(self, chat_id: int, enabled: bool) -> None:
        await self.uow.groups.set_top_enabled(chat_id, enabled, self.clock.now())
