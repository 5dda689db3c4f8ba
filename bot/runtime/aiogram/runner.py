"""Runs the bot on aiogram: long polling by default, a webhook when WEBHOOK_URL is set."""
from __future__ import annotations

import asyncio
import logging
import signal
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.config import Settings
from bot.runtime.aiogram.adapter import AiogramTransport, to_incoming
from bot.runtime.launcher import ALLOWED_UPDATES, prepare, register_commands, start_outbox
from bot.runtime.pipeline import Pipeline
from bot.transport import PARSE_MODE

log = logging.getLogger("bot")


def make_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
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


async def serve(settings: Settings) -> None:
    app = await prepare(settings)
    bot = make_bot(settings)
    transport = AiogramTransport(bot)
    pipeline = Pipeline(app, transport)
    dp = make_dispatcher(pipeline)
    me = await bot.get_me()
    app.bot_username = me.username or ""
    await register_commands(app, transport)
    sender, sender_task = start_outbox(app, transport)
    log.info("bot @%s started (%s)", app.bot_username, "webhook" if settings.webhook_url else "polling")
    try:
        if settings.webhook_url:
            await _serve_webhook(settings, bot, dp)
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            await dp.start_polling(bot, allowed_updates=ALLOWED_UPDATES, handle_signals=True,
                                   close_bot_session=False)
    finally:
        sender.stop()
        await asyncio.gather(sender_task, return_exceptions=True)
        await bot.session.close()
        await app.close()
        log.info("bot stopped")


async def _serve_webhook(settings: Settings, bot: Bot, dp: Dispatcher) -> None:
    path = urlparse(settings.webhook_url).path or "/telegram/webhook"
    web_app = web.Application()
    # Refuses (401) any request without our X-Telegram-Bot-Api-Secret-Token.
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=settings.webhook_secret).register(web_app, path=path)
    web_app.router.add_get("/healthz", lambda _request: web.json_response({"status": "ok"}))
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, settings.api_host, settings.api_port)
    await site.start()
    await bot.set_webhook(settings.webhook_url, secret_token=settings.webhook_secret,
                          allowed_updates=ALLOWED_UPDATES)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await dp.emit_startup(bot=bot)
    try:
        await stop.wait()
    finally:
        await dp.emit_shutdown(bot=bot)
        await runner.cleanup()
