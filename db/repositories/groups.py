"""Groups the bot is in, who it has seen there, members' invite links, and joins through them; all of it
moved to a group's new id when it becomes a supergroup."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, case, delete, or_, select, update
from sqlalchemy.orm import aliased

from db.core import run
from db.dialect import insert_for
from db.models import Group, GroupJoin, GroupLink, GroupMember, GroupMove
from db.repositories.base import Repository


@dataclass(frozen=True)
class GroupRow:
    chat_id: int
    title: str
    type: str
    bot_status: str
    can_invite: bool
    top_enabled: bool
    last_top_at: datetime | None


@dataclass(frozen=True)
class LinkRow:
    id: int
    chat_id: int
    owner_id: int
    invite_link: str
    name: str


@dataclass(frozen=True)
class JoinRow:
    owner_id: int  # the link's owner
    user_id: int
    joined_at: datetime
    left_at: datetime | None


_GROUP = (Group.chat_id, Group.title, Group.type, Group.bot_status, Group.can_invite, Group.top_enabled,
          Group.last_top_at)
_LINK = (GroupLink.id, GroupLink.chat_id, GroupLink.owner_id, GroupLink.invite_link, GroupLink.name)


def first_link_owner_query(user_id):  # noqa: ANN001, ANN201
    """Whose invite link `user_id` (a value or a bind parameter) first joined a group through."""
    return (select(GroupLink.owner_id).join(GroupJoin, GroupJoin.link_id == GroupLink.id)
            .where(GroupJoin.user_id == user_id, GroupJoin.is_bot.is_(False))
            .order_by(GroupJoin.joined_at, GroupJoin.chat_id).limit(1))


# Every new user's /start asks this (unless the binding's snapshot did): built once.
_FIRST_LINK_OWNER = first_link_owner_query(bindparam("uid"))


class GroupRepository(Repository):
    # -- groups ---------------------------------------------------------------------
    async def get(self, chat_id: int) -> GroupRow | None:
        row = (await self.session.execute(select(*_GROUP).where(Group.chat_id == chat_id))).first()
        return GroupRow(*row) if row else None

    async def put_bot(self, *, chat_id: int, title: str, type: str, bot_status: str, can_invite: bool,
                      now: datetime) -> None:
        """The bot's own membership as Telegram reported it (my_chat_member, or a live look-up)."""
        values = dict(title=title[:256], type=type, bot_status=bot_status, can_invite=can_invite, updated_at=now)
        stmt = insert_for(self.tx, Group).values(chat_id=chat_id, **values)
        await self.session.execute(stmt.on_conflict_do_update(index_elements=[Group.chat_id], set_=values))

    async def ensure(self, *, chat_id: int, title: str, type: str, bot_status: str, now: datetime) -> None:
        """A row for a group the bot hears from without having seen itself added (it joined before
        this feature, or the update was lost); its rights stay unknown (no invite right) until checked."""
        stmt = insert_for(self.tx, Group).values(chat_id=chat_id, title=title[:256], type=type,
                                                      bot_status=bot_status, can_invite=False, updated_at=now)
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=[Group.chat_id]))

    async def set_top_enabled(self, chat_id: int, enabled: bool, now: datetime) -> None:
        await self.session.execute(update(Group).where(Group.chat_id == chat_id)
                                   .values(top_enabled=enabled, updated_at=now))

    async def claim_top(self, chat_id: int, now: datetime, not_since: datetime) -> bool:
        """Takes the group's /top slot: True when nothing was posted after `not_since`."""
        result = await self.session.execute(
            update(Group).where(Group.chat_id == chat_id,
                                or_(Group.last_top_at.is_(None), Group.last_top_at <= not_since))
            .values(last_top_at=now))
        return result.rowcount == 1

    # -- members ---------------------------------------------------------------------
    async def set_member(self, chat_id: int, user_id: int, present: bool, now: datetime) -> None:
        stmt = insert_for(self.tx, GroupMember).values(chat_id=chat_id, user_id=user_id, present=present,
                                                            updated_at=now)
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=[GroupMember.chat_id, GroupMember.user_id], set_={"present": present, "updated_at": now}))

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        row = (await self.session.execute(select(GroupMember.present).where(
            GroupMember.chat_id == chat_id, GroupMember.user_id == user_id))).first()
        return bool(row and row[0])

    async def shared_with(self, user_id: int) -> list[GroupRow]:
        """Groups where the user was last seen present and the bot is an admin, by title."""
        rows = await self.session.execute(
            select(*_GROUP).join(GroupMember, GroupMember.chat_id == Group.chat_id)
            .where(GroupMember.user_id == user_id, GroupMember.present.is_(True),
                   Group.bot_status.in_(("administrator", "creator")))
            .order_by(Group.title, Group.chat_id))
        return [GroupRow(*r) for r in rows]

    # -- links -----------------------------------------------------------------------
    async def link_of(self, chat_id: int, owner_id: int) -> LinkRow | None:
        row = (await self.session.execute(select(*_LINK).where(
            GroupLink.chat_id == chat_id, GroupLink.owner_id == owner_id))).first()
        return LinkRow(*row) if row else None

    async def link_by_url(self, chat_id: int, url: str) -> LinkRow | None:
        row = (await self.session.execute(select(*_LINK).where(
            GroupLink.chat_id == chat_id, GroupLink.invite_link == url))).first()
        return LinkRow(*row) if row else None

    async def add_link(self, *, chat_id: int, owner_id: int, url: str, name: str, now: datetime) -> LinkRow:
        """Stores a new link; when a racing /invite stored one first, that one is kept and returned."""
        stmt = insert_for(self.tx, GroupLink).values(chat_id=chat_id, owner_id=owner_id, invite_link=url,
                                                          name=name[:32], created_at=now)
        await self.session.execute(stmt.on_conflict_do_nothing())
        row = await self.link_of(chat_id, owner_id)
        assert row is not None
        return row

    # -- joins -----------------------------------------------------------------------
    async def add_join(self, *, chat_id: int, user_id: int, link_id: int | None, is_bot: bool,
                       now: datetime) -> bool:
        """The first join of this person to this group; False (nothing changes) for a rejoin."""
        stmt = insert_for(self.tx, GroupJoin).values(chat_id=chat_id, user_id=user_id, link_id=link_id,
                                                          is_bot=is_bot, joined_at=now)
        result = await self.session.execute(stmt.on_conflict_do_nothing(
            index_elements=[GroupJoin.chat_id, GroupJoin.user_id]))
        return result.rowcount == 1

    async def mark_left(self, chat_id: int, user_id: int, now: datetime) -> None:
        """Only the first leave is kept: it decides whether the join ever counts."""
        await self.session.execute(update(GroupJoin).where(
            GroupJoin.chat_id == chat_id, GroupJoin.user_id == user_id, GroupJoin.left_at.is_(None))
            .values(left_at=now))

    async def first_link_owner(self, user_id: int) -> int | None:
        """Whose link this person first joined a group through (any group), if anyone's."""
        row = (await run(self.tx, _FIRST_LINK_OWNER, {"uid": user_id})).first()
        return row[0] if row else None

    async def link_joins(self, chat_id: int, joined_from: datetime, joined_to: datetime) -> list[JoinRow]:
        """Joins of people (not bots) through members' links, joined in [joined_from, joined_to]."""
        rows = await self.session.execute(
            select(GroupLink.owner_id, GroupJoin.user_id, GroupJoin.joined_at, GroupJoin.left_at)
            .join(GroupLink, GroupLink.id == GroupJoin.link_id)
            .where(GroupJoin.chat_id == chat_id, GroupJoin.is_bot.is_(False),
                   GroupJoin.joined_at >= joined_from, GroupJoin.joined_at <= joined_to))
        return [JoinRow(*r) for r in rows]

    # -- a group upgraded to a supergroup ------------------------------------------------------
    async def moved_to(self, chat_id: int) -> int | None:
        """The supergroup a group became, if it did."""
        return (await self.session.execute(
            select(GroupMove.new_chat_id).where(GroupMove.old_chat_id == chat_id))).scalar_one_or_none()

    async def record_move(self, old: int, new: int, now: datetime) -> None:
        stmt = insert_for(self.tx, GroupMove).values(old_chat_id=old, new_chat_id=new, moved_at=now)
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=[GroupMove.old_chat_id]))

    async def move(self, old: int, new: int, now: datetime) -> bool:
        """Everything recorded under the group `old` goes to the supergroup `new`, in the caller's
        transaction, and `old` is deleted. False when `old` holds nothing: it was moved already (the
        other service message, or a redelivery) or never known. Where both chats hold a row for the
        same key, the supergroup's own record of the bot and of its members wins (it is the newer),
        the earlier join wins, and a member's link already stored for the supergroup is kept."""
        # The lock makes a concurrent move of the same group wait, then find nothing to move.
        source = (await self.session.execute(
            select(*_GROUP).where(Group.chat_id == old).with_for_update())).first()
        if source is None:
            return False
        await self._merge_group(GroupRow(*source), new, now)
        await self._move_links(old, new)
        await self._move_joins(old, new)
        await self._move_members(old, new)
        await self.session.execute(delete(Group).where(Group.chat_id == old))
        return True

    async def _merge_group(self, source: GroupRow, new: int, now: datetime) -> None:
        stmt = insert_for(self.tx, Group).values(
            chat_id=new, title=source.title, type="supergroup", bot_status=source.bot_status,
            can_invite=source.can_invite, top_enabled=source.top_enabled, last_top_at=source.last_top_at,
            updated_at=now)
        moved = stmt.excluded
        # A supergroup already on record keeps the bot's status and rights there, and its title if it has
        # one. The board stays off if either chat turned it off (an admin's "off" is not undone by an
        # upgrade), and the later post holds the hourly slot.
        latest_top = case((Group.last_top_at.is_(None), moved.last_top_at),
                          (moved.last_top_at > Group.last_top_at, moved.last_top_at), else_=Group.last_top_at)
        await self.session.execute(stmt.on_conflict_do_update(index_elements=[Group.chat_id], set_={
            "title": case((Group.title == "", moved.title), else_=Group.title),
            "top_enabled": and_(Group.top_enabled, moved.top_enabled), "last_top_at": latest_top,
            "updated_at": now}))

    async def _move_links(self, old: int, new: int) -> None:
        # One link per member per group: a member who already has one for the supergroup keeps it (the
        # last one handed to them), and joins through their old link are re-pointed to it, so they stay theirs.
        kept = aliased(GroupLink)
        pairs = (await self.session.execute(
            select(GroupLink.id, kept.id).join(kept, and_(kept.owner_id == GroupLink.owner_id, kept.chat_id == new))
            .where(GroupLink.chat_id == old))).all()
        for dropped, keeper in pairs:
            await self.session.execute(update(GroupJoin).where(GroupJoin.link_id == dropped).values(link_id=keeper))
        if pairs:
            await self.session.execute(delete(GroupLink).where(GroupLink.id.in_([d for d, _ in pairs])))
        await self.session.execute(update(GroupLink).where(GroupLink.chat_id == old).values(chat_id=new))

    async def _move_joins(self, old: int, new: int) -> None:
        # One join per person per group: of two, the earlier is their join, with the first leave either records.
        theirs = aliased(GroupJoin)
        clashes = (await self.session.execute(
            select(GroupJoin.user_id, GroupJoin.link_id, GroupJoin.is_bot, GroupJoin.joined_at, GroupJoin.left_at,
                   theirs.joined_at, theirs.left_at)
            .join(theirs, and_(theirs.user_id == GroupJoin.user_id, theirs.chat_id == new))
            .where(GroupJoin.chat_id == old))).all()
        for user_id, link_id, is_bot, joined_at, left_at, their_joined, their_left in clashes:
            leaves = [t for t in (left_at, their_left) if t is not None]
            values: dict = {"left_at": min(leaves, default=None)}
            if joined_at <= their_joined:
                values.update(link_id=link_id, is_bot=is_bot, joined_at=joined_at)
            await self.session.execute(update(GroupJoin).where(
                GroupJoin.chat_id == new, GroupJoin.user_id == user_id).values(**values))
        if clashes:
            await self.session.execute(delete(GroupJoin).where(
                GroupJoin.chat_id == old, GroupJoin.user_id.in_([c[0] for c in clashes])))
        await self.session.execute(update(GroupJoin).where(GroupJoin.chat_id == old).values(chat_id=new))

    async def _move_members(self, old: int, new: int) -> None:
        # Whatever was seen in the supergroup happened after the upgrade: it wins over the old group's record.
        seen_there = select(GroupMember.user_id).where(GroupMember.chat_id == new).scalar_subquery()
        await self.session.execute(delete(GroupMember).where(
            GroupMember.chat_id == old, GroupMember.user_id.in_(seen_there)))
        await self.session.execute(update(GroupMember).where(GroupMember.chat_id == old).values(chat_id=new))
