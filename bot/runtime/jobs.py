"""Background work every runtime runs beside the outbox sender: "now available" reward notices."""
from __future__ import annotations

import asyncio
import logging

from bot.app import App
from bot.services.rewards.notices import LedgerNotices

log = logging.getLogger("bot.jobs")

MATURITY_INTERVAL = 60.0  # seconds; holds are days long, a minute late is fine


async def notify_matured(app: App, stop: asyncio.Event, interval: float = MATURITY_INTERVAL) -> None:
    while not stop.is_set():
        try:
            async with app.uow() as uow:
                queued = await LedgerNotices(uow, app.settings.tz).enqueue_matured(app.clock.now())
                await uow.commit()
            if queued:
                app.wake_outbox()
        except Exception:  # a bad minute must not end the job for the process's lifetime
            log.exception("queueing 'now available' notices failed")
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass
