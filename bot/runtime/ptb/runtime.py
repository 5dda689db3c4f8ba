"""The python-telegram-bot 22 runtime: an Application whose one TypeHandler feeds the pipeline."""
from __future__ import annotations

import logging

from telegram import LinkPreviewOptions, Update
from telegram.ext import Application, ContextTypes, Defaults, TypeHandler

from bot.config import Settings
from bot.runtime.pipeline import Pipeline
from bot.runtime.updates import to_incoming
from bot.runtime.ptb.adapter import PtbTransport
from bot.transport import PARSE_MODE

log = logging.getLogger("bot")


def make_application(settings: Settings) -> Application:
    api = settings.telegram_api_url
    return (
        Application.builder()
        .token(settings.bot_token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .defaults(Defaults(parse_mode=PARSE_MODE, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        # Updates of different users run side by side, as under aiogram.
        .concurrent_updates(True)
        .build()
    )


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # PTB swallows handler exceptions; logged at ERROR they fail the end-to-end tests.
    update_id = getattr(update, "update_id", "?")
    log.error("update %s failed in the PTB runtime", update_id, exc_info=context.error)


class PtbRuntime:
    def __init__(self, settings: Settings) -> None:
        self.application = make_application(settings)
        self.transport = PtbTransport(self.application.bot)

    async def open(self, pipeline: Pipeline) -> str:
        async def to_pipeline(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            await pipeline.handle(to_incoming(update))

        self.application.add_handler(TypeHandler(Update, to_pipeline))
        self.application.add_error_handler(_log_error)
        await self.application.initialize()  # calls getMe
        await self.application.start()
        return self.application.bot.username or ""

    async def start_polling(self, allowed_updates: list[str]) -> None:
        assert self.application.updater is not None
        await self.application.updater.start_polling(allowed_updates=allowed_updates, timeout=10)

    async def stop_polling(self) -> None:
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()

    async def feed_webhook(self, data: dict) -> None:
        await self.application.process_update(Update.de_json(data, self.application.bot))

    async def set_webhook(self, url: str, secret: str, allowed_updates: list[str]) -> None:
        await self.application.bot.set_webhook(url, secret_token=secret, allowed_updates=allowed_updates)

    async def delete_webhook(self) -> None:
        await self.application.bot.delete_webhook(drop_pending_updates=False)

    async def close(self) -> None:
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
