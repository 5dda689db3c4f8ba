"""aiogram without the network: a Bot whose session serialises every call and parses a canned answer,
and update builders. The bare-aiogram baseline and the product's runtime use the same stub, each over
its own session class (aiogram's AiohttpSession; the product's ApiSession)."""
from __future__ import annotations

import itertools
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import GetMe, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import Chat, Message, PhotoSize, TelegramObject, Update, User

from bench.dataset import PROFILE_LANGUAGE, first_name
from bot.runtime.aiogram.session import ApiSession

STUB_FILE_ID = "AgACAgIAAxkBAAIBstubPhotoFileIdFromTelegram"
BOT_USERNAME = "ReferralBenchBot"


class StubSession(AiohttpSession):
    """aiogram's own HTTP session minus the socket: every call is serialised as it would be posted
    (the method dumped, its form encoded) and answered with canned Telegram JSON that aiogram
    parses and validates as it would a real answer. Counts calls.

    The issue's baseline is "bare aiogram ... through a serialising session": what a request and
    its answer cost in aiogram is part of every real turn, on both sides of the ratio.
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        now = datetime.now(timezone.utc)
        chat = Chat(id=1, type="private", first_name="Stub")
        text = Message(message_id=1, date=now, chat=chat, text="ok")
        photo = Message(message_id=2, date=now, chat=chat, caption="ok", photo=[
            PhotoSize(file_id=STUB_FILE_ID, file_unique_id="stub", width=444, height=444)])
        me = User(id=123, is_bot=True, first_name="Bench", username=BOT_USERNAME)
        self._answers = {SendMessage: _ok(text), SendPhoto: _ok(photo), GetMe: _ok(me)}

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        self.calls[method.__api_method__] += 1
        self.api.api_url(token=bot.token, method=method.__api_method__)
        self.build_form_data(bot=bot, method=method)()  # the body aiohttp would post
        raw = self._answers.get(type(method), '{"ok":true,"result":true}')
        return self.check_response(bot=bot, method=method, status_code=200, content=raw).result

    async def stream_content(self, url: str, headers: dict | None = None, timeout: int = 30,
                             chunk_size: int = 65536, raise_for_status: bool = True):  # noqa: ANN201
        yield b""

    async def close(self) -> None:
        pass


def _ok(result: TelegramObject) -> str:
    return '{"ok":true,"result":' + result.model_dump_json(exclude_none=True) + "}"


class ProductStubSession(StubSession, ApiSession):
    """The stub over the product's session (bot.runtime.aiogram.session), for the product's side."""


def stub_bot(product: bool = False) -> Bot:
    """Configured like bot.runtime.aiogram.runtime.make_bot, but on the stub session; `product`
    takes the product's session class, else aiogram's own (the bare baseline)."""
    return Bot("123:abc", session=ProductStubSession() if product else StubSession(),
               default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True))


_update_ids = itertools.count(1)


def command_update_data(user_id: int, text: str) -> dict:
    """A private-chat command message as Telegram sends it (JSON, decoded); a fresh update id each time.

    Both runtimes' benchmarks build their updates from this, and share the id counter, so no two
    updates in one run (on one database) ever carry the same id.
    """
    update_id = next(_update_ids)
    name = first_name(user_id)
    command_length = len(text.partition(" ")[0])
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id, "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": name},
            "from": {"id": user_id, "is_bot": False, "first_name": name, "language_code": PROFILE_LANGUAGE},
            "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": command_length}],
        },
    }


def command_update(bot: Bot, user_id: int, text: str) -> Update:
    """The same, parsed and bound to the bot, as aiogram's polling delivers it."""
    return Update.model_validate(command_update_data(user_id, text), context={"bot": bot})
