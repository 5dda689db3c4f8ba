"""The aiogram runtime's HTTP session keeps the answer models it builds (bot/runtime/aiogram/session.py)."""
from __future__ import annotations

import gc
import weakref

from aiogram import Bot
from aiogram.methods import SendMessage

from bot.runtime.aiogram.session import ApiSession

_ANSWER = ('{"ok":true,"result":{"message_id":5,"date":1700000000,'
           '"chat":{"id":42,"type":"private","first_name":"A"},"text":"hi"}}')


async def test_an_answer_model_outlives_the_answer_it_parsed() -> None:
    session = ApiSession()
    bot = Bot("123:abc", session=session)
    try:
        response = session.check_response(bot=bot, method=SendMessage(chat_id=42, text="hi"), status_code=200,
                                           content=_ANSWER)
        assert response.result.message_id == 5
        model = weakref.ref(type(response))
        del response
        gc.collect()
        # pydantic holds Response[Message] weakly; without the session's reference it is collected
        # here and the next answer rebuilds it.
        assert model() is not None
        again = session.check_response(bot=bot, method=SendMessage(chat_id=42, text="hi"), status_code=200,
                                       content=_ANSWER)
        assert type(again) is model()
    finally:
        await session.close()
