"""The aiogram 3 runtime: a Bot pointed at TELEGRAM_API_URL and a Dispatcher feeding the pipeline."""
from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Update

from bot.config import Settings
from bot.runtime.aiogram.adapter import AiogramTransport
from bot.runtime.aiogram.session import ApiSession
from bot.runtime.pipeline import Pipeline
from bot.runtime.updates import to_incoming
from bot.transport import PARSE_MODE

log = logging.getLogger("bot")


def make_bot(settings: Settings) -> Bot:
    session = ApiSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(settings.bot_token, session=session,
               default=DefaultBotProperties(parse_mode=PARSE_MODE, link_preview_is_disabled=True))


def make_dispatcher(pipeline: Pipeline) -> Dispatcher:
    dp = Dispatcher()

    # Every update goes to the neutral pipeline, which does its own routing;
    # aiogram's per-type routers would only route twice.
    async def to_pipeline(handler, update: Update, data):  # noqa: ANN001, ANN202
        await pipeline.handle(to_incoming(update))

    dp.update.outer_middleware(to_pipeline)
    return dp


class AiogramRuntime:
    def __init__(self, settings: Settings) -> None:
        self.bot = make_bot(settings)
        self.transport = AiogramTransport(self.bot)
        self.dp: Dispatcher | None = None
        self._polling: asyncio.Task | None = None

    async def open(self, pipeline: Pipeline) -> str:
        self.dp = make_dispatcher(pipeline)
        me = await self.bot.get_me()
        return me.username or ""

    async def start_polling(self, allowed_updates: list[str]) -> None:
        assert self.dp is not None
        self._polling = asyncio.create_task(self.dp.start_polling(
            self.bot, allowed_updates=allowed_updates, handle_signals=False, close_bot_session=False))

    async def stop_polling(self) -> None:
        if self._polling is None or self.dp is None:
            return
        with suppress(RuntimeError):  # not started yet
            await self.dp.stop_polling()
        await asyncio.gather(self._polling, return_exceptions=True)

    async def feed_webhook(self, data: dict) -> None:
        assert self.dp is not None
        await self.dp.feed_raw_update(self.bot, data)

    async def set_webhook(self, url: str, secret: str, allowed_updates: list[str]) -> None:
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=allowed_updates)

    async def delete_webhook(self) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)

    async def close(self) -> None:
        await self.bot.session.close()
