"""The long-lived state one bot process shares across updates. No Telegram library here."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import I18n
from bot.services.rewards.program import Program, load_program
from bot.services.read_cache import ReadCache
from db.engine import make_engine, make_sessionmaker, on_write
from db.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.outbox.ratelimit import RateLimiter


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    i18n: I18n
    clock: Clock = field(default_factory=SystemClock)
    program: Program = field(default_factory=lambda: load_program(None))
    bot_username: str = ""
    # Called after a commit that queued outbox rows, so notices leave at once.
    wake_outbox: Callable[[], None] = lambda: None
    # The outbox's rate limiter (bot.outbox.ratelimit), once the sender runs: direct replies are
    # counted in it and a 429 on a reply pauses the outbox too, so both stay inside one budget.
    limiter: "RateLimiter | None" = None

    def __post_init__(self) -> None:
        from bot.services.rewards.programs import ProgramBook

        self.programs = ProgramBook(self.program)
        # What idempotent turns read without the database (bot.services.read_cache).
        self.user_cache: ReadCache = ReadCache()
        self.code_cache: ReadCache = ReadCache()
        on_write(self.sessionmaker, "users", self.user_cache.clear)
        on_write(self.sessionmaker, "codes", self.code_cache.clear)

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> "App":
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine),
            i18n=I18n(settings.default_locale), clock=clock or SystemClock(),
            program=load_program(settings.program_file),
        )

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker)

    async def close(self) -> None:
        await self.engine.dispose()
