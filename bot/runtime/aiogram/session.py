"""aiogram's HTTP session, keeping the answer models it builds alive.

aiogram parses every Bot API answer into `Response[T]`, a pydantic generic model made from the
method's return type. pydantic caches parametrised models weakly, so once an answer has been read
its `Response[Message]` is garbage, and after the next garbage collection the next answer builds
the model again: 3-4 ms of schema building each time, about one turn in forty under load (seen
in bench/turns.py profiles: 6 % of a /start turn's CPU). The session holds on to each answer
model it has built; there are as many as the distinct return types the bot calls, a dozen or so.
"""
from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import Response
from aiogram.methods import TelegramMethod


class ApiSession(AiohttpSession):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._answer_models: set[type] = set()

    def check_response(self, bot: Bot, method: TelegramMethod[Any], status_code: int,
                       content: str) -> Response[Any]:
        response = super().check_response(bot=bot, method=method, status_code=status_code, content=content)
        self._answer_models.add(type(response))
        return response
