"""Puts each person's command menu in Telegram; bot/services/menus.py decides which and records it.

Everyone shares the default menu (no chat scope), set at each start. An agent's or
admin's private chat gets its own (BotCommandScopeChat) in the three languages; back
to a plain user, those are deleted and Telegram falls back to the default. Whoever
chose a language with /language gets their role's menu in that language, for their
chat with no language code, and the chat's language-specific menus are deleted, so
Telegram shows the chosen language whatever the app speaks. A chat
Telegram does not know ("chat not found": they never opened the bot) or a 403 is
logged and left to a later reconcile, never raised: a menu is not worth a failed
update or a failed start.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable

from bot.config import SUPPORTED_LOCALES
from bot.services.menus import CommandMenus, MenuChange
from bot.transport import BotCommand, RetryAfter, SendError, Transport
from handlers.menus import LANGUAGES, in_each_language, menu_version, menus

if TYPE_CHECKING:
    from bot.app import App
    from db.uow import UnitOfWork

log = logging.getLogger("bot.menus")

# A chat Telegram refused is skipped by the periodic reconcile for this long: someone who never
# opened the bot would otherwise cost a call and a log line every round. A role change in chat
# tries again at once.
RETRY_REFUSED_AFTER = timedelta(minutes=10)
OWN_MENU_ROLES = ("agent", "admin")
MENU_ROLES = ("user", *OWN_MENU_ROLES)


class MenuSync:
    def __init__(self, app: "App", transport: Transport) -> None:
        self.app = app
        self.transport = transport
        # One person's menu at a time: read the role, call Telegram, record, with nothing in
        # between, so two syncs of one chat can never leave Telegram and the record disagreeing.
        self._lock = asyncio.Lock()
        self._refused: dict[int, datetime] = {}
        self._menus: dict[tuple[str, str | None], list[tuple[str | None, list[BotCommand]]]] = {}
        self._versions: tuple[str, dict[tuple[str, str | None], str]] | None = None

    def _role_menus(self, role: str, chosen: str | None = None) -> list[tuple[str | None, list[BotCommand]]]:
        if (role, chosen) not in self._menus:
            self._menus[role, chosen] = menus(self.app.i18n, role, self.app.settings.default_locale, chosen)
        return self._menus[role, chosen]

    def _book(self, uow: "UnitOfWork") -> CommandMenus:
        # The versions name the bot, known only once the runtime has opened: built at first use.
        username = self.app.bot_username
        if self._versions is None or self._versions[0] != username:
            versions = {(role, None): menu_version(role, self._role_menus(role), username) for role in OWN_MENU_ROLES}
            versions.update({(role, chosen): menu_version(role, self._role_menus(role, chosen), username, chosen)
                             for role in MENU_ROLES for chosen in SUPPORTED_LOCALES})
            self._versions = (username, versions)
        return CommandMenus(uow, frozenset(self.app.settings.admin_ids), self._versions[1])

    async def set_default(self) -> None:
        """The menu everyone without one of their own sees; raises SendError (start-up stops)."""
        for language_code, commands in self._role_menus("user"):
            await self.transport.set_commands(commands, language_code=language_code)

    async def set_configured_admins(self) -> None:
        """At start-up: each ADMIN_IDS admin's menu, whatever the record says."""
        async with self.app.uow() as uow:
            changes = await self._book(uow).configured_admins()
        for change in changes:
            try:
                await self._sync(change.user_id, forced=change)
            except RetryAfter as exc:
                log.warning("command menus of ADMIN_IDS admins: flood wait %ss; the reconcile sets the rest",
                            exc.seconds)
                return

    async def refresh(self, user_ids: Iterable[int]) -> None:
        """After their role changed (or was confirmed) in chat: now, retrying a refused chat at once."""
        for user_id in user_ids:
            try:
                await self._sync(user_id)
            except RetryAfter as exc:
                log.warning("command menu for %s: flood wait %ss; the reconcile sets it", user_id, exc.seconds)

    async def reconcile(self, stop: asyncio.Event | None = None) -> int:
        """One round over everyone whose menu is not their role's; returns how many were set."""
        async with self.app.uow() as uow:
            due = await self._book(uow).due()
        now = self.app.clock.now()
        done = 0
        for change in due:
            if stop is not None and stop.is_set():
                break
            refused_at = self._refused.get(change.user_id)
            if refused_at is not None and now - refused_at < RETRY_REFUSED_AFTER:
                continue
            try:
                if await self._sync(change.user_id):
                    done += 1
            except RetryAfter as exc:
                log.warning("command menus: flood wait %ss; the next round goes on", exc.seconds)
                break
        return done

    async def _sync(self, user_id: int, forced: MenuChange | None = None) -> bool:
        """True when this call gave them their menu; False when nothing was needed or Telegram
        refused (logged, record unchanged). A flood wait (RetryAfter) is the caller's to handle."""
        async with self._lock:
            if forced is None:
                async with self.app.uow() as uow:
                    change = await self._book(uow).change_for(user_id)
                if change is None:
                    return False
            else:
                change = forced
            try:
                await self._put(change)
            except RetryAfter:
                raise
            except SendError as exc:
                self._refused[user_id] = self.app.clock.now()
                log.warning("command menu for %s (%s) not set, tried again later: %r", user_id, change.role, exc)
                return False
            self._refused.pop(user_id, None)
            async with self.app.uow() as uow:
                await self._book(uow).record(change)
                await uow.commit()
            return True

    async def _put(self, change: MenuChange) -> None:
        chat_id = change.user_id
        codes = tuple(code for code, _ in LANGUAGES)
        if change.menu is None:
            for language_code in (None, *codes):
                await self.transport.delete_commands(language_code=language_code, chat_id=chat_id)
            return
        for language_code, commands in self._role_menus(change.role, change.language):
            await self.transport.set_commands(commands, language_code=language_code, chat_id=chat_id)
        if change.language is not None and in_each_language(change.was):
            # Telegram prefers the chat's menu for the app's language to its menu with none:
            # those left from an agent's or admin's three would hide the chosen one.
            for language_code in codes:
                await self.transport.delete_commands(language_code=language_code, chat_id=chat_id)
