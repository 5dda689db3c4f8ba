"""Background work every runtime runs beside the outbox sender: "now available" reward notices,
risk-education tips, broadcasts' progress messages, ledger checkpoints, command menus."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Awaitable, Callable

from bot.app import App
from bot.services.rewards.notices import LedgerNotices

if TYPE_CHECKING:
    from bot.runtime.menus import MenuSync
    from bot.transport import Transport

log = logging.getLogger("bot.jobs")

MATURITY_INTERVAL = 60.0  # seconds; holds are days long, a minute late is fine


async def every(interval: float, stop: asyncio.Event, round_: Callable[[], Awaitable[None]], what: str) -> None:
    """Runs `round_` now and then every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            await round_()
        except Exception:  # a bad round must not end the job for the process's lifetime; the next catches up
            log.exception("%s failed", what)
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass


async def notify_matured(app: App, stop: asyncio.Event, interval: float = MATURITY_INTERVAL) -> None:
    async def round_() -> None:
        async with app.uow() as uow:
            queued = await LedgerNotices(uow, app.settings.tz).enqueue_matured(app.clock.now())
            await uow.commit()
        if queued:
            app.wake_outbox()

    await every(interval, stop, round_, "queueing 'now available' notices")


CHECKPOINT_INTERVAL = 600.0  # seconds; a checkpoint saves read time, it is never needed for correctness


async def checkpoint_ledgers(app: App, stop: asyncio.Event, interval: float = CHECKPOINT_INTERVAL) -> None:
    """Writes ledger checkpoints for beneficiaries with LEDGER_CHECKPOINT_ENTRIES new entries."""
    from bot.services.rewards.checkpoints import CheckpointWriter

    settings = app.settings
    writer = CheckpointWriter(app.uow, settings.tz, settings.timezone)

    async def round_() -> None:
        written = await writer.write_due(settings.ledger_checkpoint_entries, app.clock.now)
        if written:
            log.info("wrote %d ledger checkpoints", written)

    if settings.ledger_checkpoint_entries:
        await every(interval, stop, round_, "writing ledger checkpoints")


async def send_tips(app: App, stop: asyncio.Event, interval: float | None = None) -> None:
    """Queues risk-education tips for users due one, every TIP_CHECK_SECONDS (a batch per run)."""
    from bot.services.tips import TipQueue, TipSchedule

    schedule = TipSchedule.from_settings(app.settings, app.i18n)

    async def round_() -> None:
        async with app.uow() as uow:
            queued = await TipQueue(uow, schedule).queue_due(app.clock.now())
            await uow.commit()
        if queued:
            log.info("queued %d risk-education tips", queued)
            app.wake_outbox()

    await every(interval or app.settings.tip_check_seconds, stop, round_, "queueing risk-education tips")


BROADCAST_PROGRESS_INTERVAL = 3.0  # seconds between edits of an admin's progress message


async def follow_broadcasts(app: App, transport: "Transport", stop: asyncio.Event,
                            interval: float = BROADCAST_PROGRESS_INTERVAL) -> None:
    """Marks running broadcasts done when their last row is handled, and keeps each admin's
    progress message current: edited every `interval` while it runs, and a last time when done."""
    shown: dict[int, str] = {}  # broadcast id -> the text last put in its progress message
    await every(interval, stop, lambda: update_broadcast_progress(app, transport, shown),
                "updating broadcast progress")


async def update_broadcast_progress(app: App, transport: "Transport", shown: dict[int, str]) -> None:
    from bot.i18n import resolve_locale
    from bot.services.broadcasts import BroadcastService
    from bot.transport import BadRequest, SendError
    from handlers.broadcast import progress_view

    settings = app.settings
    async with app.uow() as uow:
        svc = BroadcastService(uow, app.clock, settings.default_locale, paid=settings.broadcast_paid)
        running = await svc.running()
        views = []
        for broadcast in running:
            await svc.finish_if_done(broadcast.id)
            progress = await svc.progress(broadcast.id)
            if progress is None or broadcast.status_chat_id is None or broadcast.status_message_id is None:
                continue
            admin = await uow.users.get(broadcast.status_chat_id)
            locale = resolve_locale(admin.language if admin else None, admin.tg_language if admin else None,
                                    settings.default_locale)
            text, keyboard = progress_view(lambda key, **kw: app.i18n.t(locale, key, **kw), progress)
            views.append((broadcast, text, keyboard))
        await uow.commit()
    for broadcast, text, keyboard in views:
        if shown.get(broadcast.id) == text:
            continue
        try:
            await transport.edit_message(broadcast.status_chat_id, broadcast.status_message_id, text, keyboard)
        except BadRequest as exc:  # "message is not modified" after a restart, or the admin deleted it
            log.info("broadcast %s: progress message not edited: %s", broadcast.id, exc.description)
        except SendError as exc:
            log.warning("broadcast %s: progress message not edited: %r", broadcast.id, exc)
            continue
        shown[broadcast.id] = text
    for broadcast_id in list(shown):
        if broadcast_id not in {b.id for b in running}:
            del shown[broadcast_id]


MENU_INTERVAL = 60.0  # seconds: a role changed through the CLI or the API shows in the menu within a minute


async def reconcile_menus(menus: "MenuSync", stop: asyncio.Event, interval: float = MENU_INTERVAL) -> None:
    """Gives everyone whose command menu is not their role's the right one: at start-up (the
    first round), and then every `interval` for roles changed outside the chat."""
    async def round_() -> None:
        done = await menus.reconcile(stop)
        if done:
            log.info("set %d command menus", done)

    await every(interval, stop, round_, "reconciling command menus")
