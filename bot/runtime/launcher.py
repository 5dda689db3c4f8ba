"""Start-up shared by every runtime: settings check, migrations, the App, the outbox sender.

`run_bot(settings)` picks the runtime named by BOT_FRAMEWORK; only then is that
Telegram library imported.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from bot.app import App
from bot.config import Settings
from bot.i18n import resolve_locale
from bot.transport import Transport

log = logging.getLogger("bot")

# chat_member comes with groups (a later issue); asking for it now costs nothing.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "inline_query", "my_chat_member", "chat_member"]


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiogram logs every handled update at INFO; one line per update drowns the rest.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)


async def prepare(settings: Settings) -> App:
    from db.migrate import upgrade

    await upgrade(settings.database_url)
    return App.create(settings)


def outbox_renderer(app: App) -> Callable[[int, str, dict], Awaitable[str]]:
    """Texts are rendered at send time, in the recipient's language as it is then."""

    async def render(chat_id: int, text_key: str, args: dict) -> str:
        async with app.uow() as uow:
            user = await uow.users.get(chat_id)
        locale = resolve_locale(user.language, user.tg_language, app.settings.default_locale) if user else \
            app.settings.default_locale
        return app.i18n.t(locale, text_key, **args)

    return render


def start_outbox(app: App, transport: Transport):  # noqa: ANN201
    """Starts the sender task and points App.wake_outbox at it; returns (sender, task)."""
    from bot.outbox.ratelimit import TelegramRateLimiter
    from bot.outbox.sender import OutboxSender

    sender = OutboxSender(
        sessionmaker=app.sessionmaker, transport=transport, render=outbox_renderer(app),
        limiter=TelegramRateLimiter(), clock=app.clock, logger=logging.getLogger("bot.outbox"),
    )
    app.wake_outbox = sender.wake
    task = asyncio.create_task(sender.run(), name="outbox-sender")
    return sender, task


async def register_commands(app: App, transport: Transport) -> None:
    from handlers.help import bot_commands

    # Telegram picks the menu by the user's app language; the default covers the rest.
    await transport.set_commands(bot_commands(app.i18n, app.settings.default_locale))
    await transport.set_commands(bot_commands(app.i18n, "zh-CN"), language_code="zh")
    await transport.set_commands(bot_commands(app.i18n, "en"), language_code="en")


def run_bot(settings: Settings) -> None:
    settings.require_bot()
    configure_logging(settings.log_level)
    if settings.bot_framework == "aiogram":
        from bot.runtime.aiogram.runner import serve
    else:  # pragma: no cover - the settings validator allows only known names
        raise SystemExit(f"unknown BOT_FRAMEWORK {settings.bot_framework}")
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        pass
