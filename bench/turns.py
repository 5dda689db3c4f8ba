"""Whole turns through the real runtime path, against bare aiogram answering the same update.

Ours: Update → aiogram Dispatcher.feed_update → our outer middleware
(make_dispatcher) → Pipeline (claim, touch, route, handler, services, commit)
→ AiogramTransport → Bot → session. Bare: a Dispatcher with one handler for
the same command that calls message.answer(...) (answer_photo with a file_id
for /code). Both use the same Bot configuration and the same StubSession, so
the difference is what our code costs. 16 tasks feed updates concurrently;
throughput is counted after a warm-up, and each figure is ours ÷ bare.

* /start <code>: a new user each time, the code one of a pool of 1,000
  existing referrers' in the forest database: user row, claim, binding,
  closure rows, counts, outbox notice, all in one transaction;
* /help and /code: existing users whose code already has a QR file_id; the
  only write is the handled_updates claim.
"""
from __future__ import annotations

import itertools
import logging
import random
from typing import Awaitable, Callable

from aiogram import Bot, Dispatcher
from aiogram.filters import Command, CommandStart
from aiogram.types import Message, Update
from sqlalchemy import func, select

from bench.common import Throughput, at_least, make_app, run_for
from bench.dataset import QR_FILE_ID, Forest
from bench.stub import command_update, stub_bot
from bench.suite import Suite
from bot.runtime.aiogram.adapter import AiogramTransport
from bot.runtime.aiogram.runtime import make_dispatcher
from bot.runtime.pipeline import Pipeline
from db.models import Binding

NEW_USERS = 6_000_000_000  # ids of the users who arrive through a link
TARGETS = {"start": 25.0, "help": 70.0, "code": 70.0}
LABELS = {"start": "/start <code> vs bare aiogram", "help": "/help vs bare aiogram",
          "code": "/code (cached file_id) vs bare aiogram"}
BARE_TEXT = "欢迎！" + "这是一段与机器人欢迎语长度相当的文本。" * 20


async def run(suite: Suite) -> None:
    new_ids = itertools.count(NEW_USERS)
    for backend in suite.backends:
        url = await suite.database(backend)
        for kind in ("start", "help", "code"):
            bare = await _drive(suite, _bare_dispatcher(kind), stub_bot(), kind, new_ids)
            ours, problems = await _ours(suite, url, kind, new_ids)
            note = f"ours {ours.describe()}; bare {bare.describe()}"
            if problems:
                note += "; " + "; ".join(problems) + " — figure not trustworthy"
            ratio = 100 * ours.rate / bare.rate if bare.rate else None
            figure = at_least("turns", LABELS[kind], backend, ratio, TARGETS[kind], "%", note)
            if backend != "postgresql":
                figure.target += " (stated for PG)"
            if problems:
                figure.ok = False
            suite.add(figure)


async def _ours(suite: Suite, url: str, kind: str, new_ids: itertools.count) -> tuple[Throughput, list[str]]:
    """The product's runtime path on `url`; also returns anything that went wrong on the way."""
    app = make_app(url)
    bot = stub_bot()
    watcher = _ProblemCounter()
    try:
        dp = make_dispatcher(Pipeline(app, AiogramTransport(bot)))
        first = next(new_ids)
        ours = await _drive(suite, dp, bot, kind, new_ids)
        problems = [f"{n} {what}" for n, what in ((watcher.count, "warnings/errors logged"),
                                                   (ours.errors, "exceptions")) if n]
        if kind == "start":
            bound = await _bound_since(app, first, next(new_ids))
            sent = bot.session.calls["sendMessage"]
            if bound != sent:
                problems.append(f"{bound} bindings written for {sent} answers")
    finally:
        watcher.close()
        await app.close()
    return ours, problems


async def _drive(suite: Suite, dp: Dispatcher, bot: Bot, kind: str, new_ids: itertools.count) -> Throughput:
    rng = random.Random(11)
    pool = suite.forest.pool
    codes = [Forest.code_of(u) for u in pool]

    def next_update() -> Update:
        if kind == "start":
            return command_update(bot, next(new_ids), f"/start {rng.choice(codes)}")
        return command_update(bot, rng.choice(pool), f"/{kind}")

    async def step() -> None:
        await dp.feed_update(bot, next_update())

    s = suite.sizes
    return await run_for(step, concurrency=s.concurrency, seconds=s.seconds, warmup=s.warmup)


def _bare_dispatcher(kind: str) -> Dispatcher:
    """What aiogram costs on its own: one handler answering the same command."""
    dp = Dispatcher()
    handler: Callable[[Message], Awaitable[object]]
    if kind == "start":
        async def handler(message: Message) -> None:
            await message.answer(BARE_TEXT)
        dp.message.register(handler, CommandStart())
    elif kind == "help":
        async def handler(message: Message) -> None:
            await message.answer(BARE_TEXT)
        dp.message.register(handler, Command("help"))
    else:
        async def handler(message: Message) -> None:
            await message.answer_photo(QR_FILE_ID, caption=BARE_TEXT[:200])
        dp.message.register(handler, Command("code"))
    return dp


async def _bound_since(app, first: int, end: int) -> int:  # noqa: ANN001
    async with app.uow() as uow:
        stmt = select(func.count()).select_from(Binding).where(Binding.referee_id >= first, Binding.referee_id < end)
        return int((await uow.session.execute(stmt)).scalar_one())


class _ProblemCounter(logging.Handler):
    """Counts warnings and errors the product logs during a run: a failed turn must not pass as a fast one."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self._logger = logging.getLogger("bot")
        self._logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1

    def close(self) -> None:
        self._logger.removeHandler(self)
        super().close()
