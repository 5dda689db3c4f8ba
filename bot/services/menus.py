"""Which command menu each person's private chat should show, and which one it was last given.

Telegram keeps a chat's menu until told otherwise, so the menu each user has is
recorded (users.command_menu) and compared with what their role calls for: right
after a role change in chat, and in a periodic reconcile that also picks up roles
changed through the CLI or the API, which never talk to Telegram. The runtime makes
the calls (bot/runtime/menus.py) and records here only what Telegram accepted, so a
refused call ("chat not found": they never opened the bot) is tried again later.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from db.repositories.users import MenuRow
from db.uow import UnitOfWork


@dataclass(frozen=True)
class MenuChange:
    user_id: int
    role: str  # whose menu they should have: user (the bot's default menu), agent or admin
    menu: str | None  # that menu's version (handlers.menus.menu_version); None: the default menu
    was: str | None  # the menu the record says they have
    language: str | None = None  # chosen with /language: the menu is in that language alone

    @property
    def needed(self) -> bool:
        return self.menu != self.was


class CommandMenus:
    """`versions`: the current version of each (role, chosen language) menu a chat can be given; a
    pair left out ("user" with no language chosen) means the bot's default menu."""

    def __init__(self, uow: UnitOfWork, admin_ids: frozenset[int],
                 versions: Mapping[tuple[str, str | None], str]) -> None:
        self.uow = uow
        self.admin_ids = admin_ids
        self.versions = versions

    def _change(self, row: MenuRow) -> MenuChange:
        role = "admin" if row.id in self.admin_ids else row.role
        # As menus_due reads it: a language with no menu of its own counts as none chosen.
        language = row.language if (role, row.language) in self.versions else None
        return MenuChange(row.id, role, self.versions.get((role, language)), row.command_menu, language)

    async def change_for(self, user_id: int) -> MenuChange | None:
        """What one user's menu must become; None when it already is, or the bot never met them."""
        rows = await self.uow.users.menus_of([user_id])
        change = self._change(rows[0]) if rows else None
        return change if change is not None and change.needed else None

    async def due(self) -> list[MenuChange]:
        """Everyone whose recorded menu is not the one their role calls for, by id."""
        rows = await self.uow.users.menus_due(self.versions)
        # The query goes by the stored role; an ADMIN_IDS admin's role comes from configuration.
        rows += await self.uow.users.menus_of(sorted(self.admin_ids))
        changes = {row.id: self._change(row) for row in rows}
        return [changes[uid] for uid in sorted(changes) if changes[uid].needed]

    async def configured_admins(self) -> list[MenuChange]:
        """Every ADMIN_IDS admin's menu, whatever the record says: set at each start, also for an
        admin the bot has no row for yet (no record then; their first visit makes one)."""
        known = {row.id: row for row in await self.uow.users.menus_of(sorted(self.admin_ids))}
        return [self._change(known[uid]) if uid in known else MenuChange(uid, "admin", self.versions["admin", None], None)
                for uid in sorted(self.admin_ids)]

    async def record(self, change: MenuChange) -> bool:
        """Telegram now shows them `change.menu`. False if the record moved meanwhile (another
        instance set a menu): it is left as that one says, and the next reconcile compares again."""
        return await self.uow.users.set_command_menu(change.user_id, change.menu, was=change.was)
