"""One way to hand a Telegram update to each runtime, ours or bare, on a stubbed Bot API.

A Feeder takes the update as Telegram's JSON (decoded) and returns when the runtime has handled
it; parsing the JSON into the library's objects is part of the work, as it is under polling.

* aiogram: `Update.model_validate(data, context={"bot": bot})` → `Dispatcher.feed_update`, with
  the StubSession (bench/stub.py). Ours: make_dispatcher's outer middleware → Pipeline →
  AiogramTransport. Bare: a Dispatcher with one handler for the command.
* PTB: `Update.de_json(data, bot)` → `Application.process_update`, with the StubRequest
  (bench/ptb_stub.py). Ours: the product's PtbRuntime (make_application, the TypeHandler → Pipeline,
  PtbTransport), opened as `referral-bot run` opens it. Bare: the same make_application with one
  CommandHandler calling `update.message.reply_text` (`reply_photo` with a file_id for /code).
"""
from __future__ import annotations

from collections import Counter
from typing import Awaitable, Callable, Protocol

from bench.dataset import QR_FILE_ID

RUNTIMES = ("aiogram", "ptb")
NAMES = {"aiogram": "aiogram", "ptb": "PTB"}
BARE_TEXT = "欢迎！" + "这是一段与机器人欢迎语长度相当的文本。" * 20
# /code's answer is a photo, a caption and one URL button (the share sheet); the bare handlers send
# the same shape, so the ratio measures our layers, not a smaller message.
SHARE_URL = "https://t.me/share/url?url=https%3A%2F%2Ft.me%2FReferralBenchBot%3Fstart%3DABCD2345&text=%E9%82%80%E8%AF%B7"


class Feeder(Protocol):
    calls: Counter[str]  # Bot API calls the stub answered, by method

    async def feed(self, data: dict) -> None: ...

    async def close(self) -> None: ...


async def bare(runtime: str, kind: str) -> Feeder:
    return await (_aiogram_bare if runtime == "aiogram" else _ptb_bare)(kind)


async def ours(runtime: str, app) -> Feeder:  # noqa: ANN001
    return await (_aiogram_ours if runtime == "aiogram" else _ptb_ours)(app)


# -- aiogram ---------------------------------------------------------------------------------


class _AiogramFeeder:
    def __init__(self, dp, bot) -> None:  # noqa: ANN001
        from aiogram.types import Update

        self._dp, self._bot, self._update = dp, bot, Update
        self.calls = bot.session.calls

    async def feed(self, data: dict) -> None:
        await self._dp.feed_update(self._bot, self._update.model_validate(data, context={"bot": self._bot}))

    async def close(self) -> None:
        pass


async def _aiogram_bare(kind: str) -> Feeder:
    from aiogram import Dispatcher
    from aiogram.filters import Command, CommandStart
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

    from bench.stub import stub_bot

    dp = Dispatcher()
    handler: Callable[[Message], Awaitable[object]]
    if kind == "code":
        async def handler(message: Message) -> None:
            keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="分享", url=SHARE_URL)]])
            await message.answer_photo(QR_FILE_ID, caption=BARE_TEXT[:200], reply_markup=keyboard)
    else:
        async def handler(message: Message) -> None:
            await message.answer(BARE_TEXT)
    dp.message.register(handler, CommandStart() if kind == "start" else Command(kind))
    return _AiogramFeeder(dp, stub_bot())


async def _aiogram_ours(app) -> Feeder:  # noqa: ANN001
    from bench.stub import stub_bot
    from bot.runtime.aiogram.adapter import AiogramTransport
    from bot.runtime.aiogram.runtime import make_dispatcher
    from bot.runtime.pipeline import Pipeline

    bot = stub_bot(product=True)
    return _AiogramFeeder(make_dispatcher(Pipeline(app, AiogramTransport(bot))), bot)


# -- python-telegram-bot -----------------------------------------------------------------------


class _PtbFeeder:
    def __init__(self, application, request, close: Callable[[], Awaitable[None]]) -> None:  # noqa: ANN001
        from telegram import Update

        self._application, self._update, self._close = application, Update, close
        self.calls = request.calls

    async def feed(self, data: dict) -> None:
        application = self._application
        await application.process_update(self._update.de_json(data, application.bot))

    async def close(self) -> None:
        await self._close()


async def _ptb_bare(kind: str) -> Feeder:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import CommandHandler, ContextTypes

    from bench.ptb_stub import StubRequest, stubbed_builds
    from bot.config import load_settings
    from bot.runtime.ptb.runtime import make_application

    request = StubRequest()
    with stubbed_builds(request):
        # Configured exactly like the product's Application (token, API URL, defaults, concurrency).
        application = make_application(load_settings(database_url="sqlite+aiosqlite://", bot_token="123:abc"))

    if kind == "code":
        async def handler(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("分享", url=SHARE_URL)]])
            await update.message.reply_photo(QR_FILE_ID, caption=BARE_TEXT[:200], reply_markup=keyboard)
    else:
        async def handler(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            await update.message.reply_text(BARE_TEXT)
    application.add_handler(CommandHandler(kind, handler))
    await application.initialize()
    await application.start()

    async def close() -> None:
        await application.stop()
        await application.shutdown()

    return _PtbFeeder(application, request, close)


async def _ptb_ours(app) -> Feeder:  # noqa: ANN001
    from bench.ptb_stub import StubRequest, stubbed_builds
    from bot.runtime.pipeline import Pipeline
    from bot.runtime.ptb.runtime import PtbRuntime

    request = StubRequest()
    with stubbed_builds(request):
        runtime = PtbRuntime(app.settings)
    await runtime.open(Pipeline(app, runtime.transport))  # TypeHandler → pipeline, error handler, getMe
    return _PtbFeeder(runtime.application, request, runtime.close)
