"""One update, start to finish, the same under every runtime.

claim the update id → record the person → route to a handler → commit → send
the buffered answers. The claim is in the handler's transaction, so a
redelivered update is skipped once the first delivery committed, and handled
again if it rolled back.

An idempotent command (/help, /code, ...: `handlers.router`) is claimed in memory only
(bot.runtime.recent) and may take its user from the read cache, so once the cache is
warm it touches no database at all.
"""
from __future__ import annotations

import asyncio
import logging

from bot.app import App
from bot.context import Action, Context, Incoming
from bot.i18n import resolve_locale
from bot.runtime.menus import MenuSync
from bot.runtime.recent import RecentUpdates
from bot.services.registry import Services
from bot.transport import BadRequest, Forbidden, RetryAfter, SendError, SentMessage, Transport
from handlers import build_dispatcher
from handlers.router import Dispatcher

log = logging.getLogger("bot.pipeline")

MAX_REPLY_RETRIES = 3
# Calls that put a new message in a chat: the ones Telegram's sending limits count.
NEW_MESSAGE_METHODS = frozenset({"send_message", "send_photo", "send_document", "copy_message"})
# Only someone who writes to the bot in private becomes a user (first touch). Joining a group or
# typing @bot somewhere records nobody, so a later deep link still finds them new.
RECORDING_KINDS = frozenset({"message", "edited_message", "callback_query"})


class Pipeline:
    def __init__(self, app: App, transport: Transport, dispatcher: Dispatcher | None = None) -> None:
        self.app = app
        self.transport = transport
        self.dispatcher = dispatcher or build_dispatcher()
        self.menus = MenuSync(app, transport)  # the launcher's start-up and reconcile use it too: one lock
        self._in_flight: set[asyncio.Task] = set()
        self._recent = RecentUpdates()

    async def handle(self, incoming: Incoming) -> Context | None:
        """Returns the Context (with what was sent) or None for a duplicate delivery."""
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            return await self._handle(incoming)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def drain(self, timeout: float = 10.0) -> None:
        """On shutdown: lets updates already being handled finish, so none is cut in half."""
        current = asyncio.current_task()
        pending = [t for t in self._in_flight if t is not current and not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    async def _handle(self, incoming: Incoming) -> Context | None:
        app = self.app
        idempotent = self.dispatcher.is_idempotent(incoming, app.bot_username)
        async with app.uow() as uow:
            services = Services(app, uow)
            user, is_new = None, False
            records = incoming.user is not None and incoming.is_private and incoming.kind in RECORDING_KINDS
            if idempotent:
                claimed = self._recent.first(incoming.update_id)
            elif records and uow.users.claims_in_one_statement:
                claimed, user, is_new = await services.users.claim_and_touch(incoming.update_id, incoming.user)
            else:
                claimed = await uow.updates.claim(incoming.update_id, app.clock.now())
            if not claimed:
                log.info("update %s already handled; skipped", incoming.update_id)
                return None
            if records and user is None:
                user, is_new = await services.users.touch(incoming.user, cached=idempotent)
            elif incoming.user is not None and incoming.kind == "inline_query":
                user = await uow.users.get(incoming.user.id)  # their card, in their language; never created
            locale = resolve_locale(
                user.language if user else None,
                incoming.user.language_code if incoming.user else None,
                app.settings.default_locale,
            )
            role = services.users.role_of(user) if user else "user"
            ctx = Context(incoming, app, services, user, locale, role, is_new, transport=self.transport)
            try:
                await self.dispatcher.dispatch(ctx)
            except Exception:
                log.exception("handler failed on update %s", incoming.update_id)
                if idempotent:
                    self._recent.forget(incoming.update_id)  # a redelivery may yet succeed
                await uow.rollback()
                await self._apologise(ctx)
                return ctx
            await uow.commit()
            queued = uow.outbox_queued
        if queued:
            app.wake_outbox()
        await self.flush(ctx)
        if ctx.menu_refresh:
            await self.menus.refresh(ctx.menu_refresh)
        return ctx

    async def flush(self, ctx: Context) -> None:
        for action in ctx.actions:
            sent = await self._perform(action)
            if sent is not None and action.then is not None:
                async with self.app.uow() as uow:
                    await action.then(Services(self.app, uow), sent)
                    await uow.commit()

    async def _perform(self, action: Action) -> SentMessage | None:
        method = getattr(self.transport, action.method)
        limiter = self.app.limiter
        for _ in range(MAX_REPLY_RETRIES):
            if limiter is not None and action.method in NEW_MESSAGE_METHODS:
                limiter.note(action.kwargs["chat_id"])
            try:
                result = await method(**action.kwargs)
                return result if isinstance(result, SentMessage) else None
            except RetryAfter as exc:
                if limiter is not None:
                    await limiter.pause(exc.seconds)
                await asyncio.sleep(exc.seconds)
            except Forbidden:
                await self._mark_blocked(action.kwargs.get("chat_id"))
                return None
            except BadRequest as exc:
                # Our own mistake (too long, bad markup): loud, so tests catch it.
                log.error("Telegram refused %s: %s", action.method, exc.description)
                return None
            except SendError as exc:
                log.warning("sending %s failed: %r", action.method, exc)
                return None
        log.warning("gave up on %s after %d flood waits", action.method, MAX_REPLY_RETRIES)
        return None

    async def _mark_blocked(self, chat_id: int | None) -> None:
        if chat_id is None or chat_id < 0:
            return
        async with self.app.uow() as uow:
            user = await uow.users.get(chat_id)
            if user is not None and user.status == "active":
                await uow.users.set_status(chat_id, "blocked")
                await uow.commit()

    async def _apologise(self, ctx: Context) -> None:
        if ctx.incoming.chat_id is None or not ctx.incoming.is_private:
            return
        ctx.actions.clear()
        await ctx.answer_callback()
        await ctx.reply(ctx.t("error-generic"))
        await self.flush(ctx)
