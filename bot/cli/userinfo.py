"""`referral-bot user`: the same view of a user the platform gets from GET /api/v1/users/{id}."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bot.config import Settings
# Imported with this module (which `user` imports when it runs), not in the coroutine: before
# run_db, while the collector is still held (bot/heap.py).
from bot.services.profile import ProfileService
from bot.services.rewards.program import load_program
from bot.services.rewards.programs import ProgramBook
from db.engine import make_engine, make_sessionmaker
from db.uow import UnitOfWork


async def lookup(settings: Settings, telegram_id: int) -> dict[str, Any] | None:
    engine = make_engine(settings.database_url)
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            profile = ProfileService(uow, settings, ProgramBook(load_program(settings.program_file)))
            return await profile.view(telegram_id, datetime.now(timezone.utc))
    finally:
        await engine.dispose()
