"""Start-up shared by every runtime: settings check, migrations, the App, the outbox sender.

`run_bot(settings)` picks the runtime named by BOT_FRAMEWORK; only then is that
Telegram library imported.
"""
from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING

from bot.app import App
from bot.config import ConfigError, Settings
from bot.heap import settle
from bot.runtime.jobs import checkpoint_ledgers, follow_broadcasts, notify_matured, reconcile_menus, send_tips
from bot.runtime.loop import run as run_on_loop
from bot.runtime.pipeline import Pipeline
from bot.transport import Transport

if TYPE_CHECKING:
    from bot.runtime.base import Runtime
    from bot.runtime.menus import MenuSync

log = logging.getLogger("bot")

# chat_member comes with groups (a later issue); asking for it now costs nothing.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "inline_query", "my_chat_member", "chat_member"]


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiogram logs every handled update at INFO; one line per update drowns the rest.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)


async def prepare(settings: Settings) -> App:
    """Migrates, loads the program (PROGRAM_FILE): stored as version 1 on first start, else it must be stored."""
    from bot.services.rewards.program import ProgramError
    from db.migrate import upgrade

    await upgrade(settings.database_url)
    try:
        app = App.create(settings)
    except ProgramError as exc:
        raise ConfigError(str(exc)) from None
    if app.program.levels > settings.referral_levels:
        await app.close()
        raise ConfigError(f"PROGRAM_FILE: levels = {app.program.levels} but REFERRAL_LEVELS = "
                          f"{settings.referral_levels}; the referral tree keeps only that many levels")
    try:
        async with app.uow() as uow:
            await app.programs.publish_current(uow, app.program, app.clock.now())
            await uow.commit()
    except ProgramError as exc:
        await app.close()
        raise ConfigError(str(exc)) from None
    return app


def start_outbox(app: App, transport: Transport):  # noqa: ANN201
    """Starts the sender task and points App.wake_outbox at it; returns (sender, task)."""
    from bot.outbox.ratelimit import InProcessRateLimiter
    from bot.outbox.render import OutboxRenderer
    from bot.outbox.sender import OutboxSender

    limiter = InProcessRateLimiter.just_under_telegram()
    sender = OutboxSender(
        sessionmaker=app.sessionmaker, transport=transport, render=OutboxRenderer(app),
        limiter=limiter, clock=app.clock, logger=logging.getLogger("bot.outbox"),
    )
    app.limiter = limiter
    app.wake_outbox = sender.wake
    task = asyncio.create_task(sender.run(), name="outbox-sender")
    return sender, task


async def register_commands(menus: "MenuSync") -> None:
    """The default menu, then each ADMIN_IDS admin's, as at every start. Agents' and promoted
    admins' menus follow in the background (jobs.reconcile_menus): however many there are, and
    whatever Telegram answers for them, they never hold up the start."""
    await menus.set_default()
    await menus.set_configured_admins()


def make_runtime(settings: Settings) -> "Runtime":
    """Imports the chosen Telegram library only here, so operator commands never pay for it."""
    if settings.bot_framework == "aiogram":
        from bot.runtime.aiogram.runtime import AiogramRuntime

        return AiogramRuntime(settings)
    if settings.bot_framework == "ptb":
        from bot.runtime.ptb.runtime import PtbRuntime

        return PtbRuntime(settings)
    raise ConfigError(f"BOT_FRAMEWORK: unknown runtime {settings.bot_framework!r}")


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Runs until SIGINT/SIGTERM (or `stop` is set): polling, or a webhook when WEBHOOK_URL is set."""
    app = await prepare(settings)
    runtime = make_runtime(settings)
    pipeline = Pipeline(app, runtime.transport)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    log.info("event loop: %s", type(loop).__module__.split(".")[0])
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    web_runner = None
    sender = sender_task = jobs = tips = progress = checkpoints = menus = None
    try:
        app.bot_username = await runtime.open(pipeline)
        await register_commands(pipeline.menus)
        sender, sender_task = start_outbox(app, runtime.transport)
        jobs = asyncio.create_task(notify_matured(app, stop), name="matured-notices")
        tips = asyncio.create_task(send_tips(app, stop), name="risk-tips")
        checkpoints = asyncio.create_task(checkpoint_ledgers(app, stop), name="ledger-checkpoints")
        progress = asyncio.create_task(follow_broadcasts(app, runtime.transport, stop), name="broadcast-progress")
        menus = asyncio.create_task(reconcile_menus(pipeline.menus, stop), name="command-menus")
        # The platform API listens in both modes, and before Telegram can reach the webhook.
        web_runner = await _start_web(settings, runtime, app)
        # Everything start-up built lives as long as the process: out of the collector's walks.
        log.info("start-up heap frozen: %d objects", settle())
        if settings.webhook_url:
            await runtime.set_webhook(settings.webhook_url, settings.webhook_secret, ALLOWED_UPDATES)
        else:
            await runtime.delete_webhook()
            await runtime.start_polling(ALLOWED_UPDATES)
        log.info("bot @%s started (%s, %s)", app.bot_username, settings.bot_framework,
                 "webhook" if settings.webhook_url else "polling")
        await stop.wait()
        log.info("stopping")
    finally:
        if not settings.webhook_url:
            await runtime.stop_polling()
        if web_runner is not None:
            await web_runner.cleanup()
        await pipeline.drain()
        if sender is not None:
            sender.stop()
            await asyncio.gather(*(t for t in (sender_task, jobs, tips, progress, checkpoints, menus) if t is not None),
                                 return_exceptions=True)
        await runtime.close()
        await app.close()
        log.info("bot stopped")


async def _start_web(settings: Settings, runtime: "Runtime", app: App):  # noqa: ANN202
    from aiohttp import web

    from bot.api.app import add_api_routes
    from bot.runtime.webhook import add_webhook_route, webhook_path
    from bot.services.events.intake import EventIntake

    web_app = web.Application(client_max_size=1 << 20)
    if settings.webhook_url:
        add_webhook_route(web_app, webhook_path(settings.webhook_url), settings.webhook_secret, runtime.feed_webhook)
    web_app.router.add_get("/healthz", _healthz)
    intake = EventIntake(app)
    add_api_routes(web_app, lambda: intake, settings, clock=app.clock)
    # bot.api logs one line per API request; aiohttp's access log would repeat each one.
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.api_host, settings.api_port)
    await site.start()
    port = runner.addresses[0][1] if runner.addresses else settings.api_port
    log.info("listening on http://%s:%s", settings.api_host, port)
    return runner


async def _healthz(_request):  # noqa: ANN001, ANN202
    from aiohttp import web

    return web.json_response({"status": "ok"})


def run_bot(settings: Settings) -> None:
    settings.require_bot()
    configure_logging(settings.log_level)
    try:
        run_on_loop(serve(settings), settings.event_loop)
    except KeyboardInterrupt:
        pass
