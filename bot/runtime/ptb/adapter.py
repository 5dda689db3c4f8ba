"""python-telegram-bot's keyboards, uploads, commands and errors for the shared BotApiTransport."""
from __future__ import annotations

from datetime import timedelta

from telegram import BotCommand as PtbBotCommand
from telegram import BotCommandScopeChat
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram import InlineQueryResultArticle, InlineQueryResultsButton, InputTextMessageContent
from telegram.error import BadRequest as PtbBadRequest
from telegram.error import Forbidden as PtbForbidden
from telegram.error import RetryAfter as PtbRetryAfter
from telegram.error import TelegramError

from bot.runtime.bot_transport import BotApiTransport
from bot.transport import (
    PARSE_MODE, BadRequest, BotCommand, Forbidden, InlineArticle, Keyboard, RetryAfter, SendError, StartButton,
    TransientError,
)


class PtbTransport(BotApiTransport):
    def markup(self, keyboard: Keyboard) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([
            [InlineKeyboardButton(b.text, callback_data=b.callback_data, url=b.url) for b in row] for row in keyboard
        ])

    def upload(self, data: bytes, filename: str) -> InputFile:
        return InputFile(data, filename=filename)

    def command(self, command: BotCommand) -> PtbBotCommand:
        return PtbBotCommand(command.command, command.description)

    def chat_scope(self, chat_id: int) -> BotCommandScopeChat:
        return BotCommandScopeChat(chat_id)

    def article(self, article: InlineArticle) -> InlineQueryResultArticle:
        return InlineQueryResultArticle(
            article.id, article.title, InputTextMessageContent(article.text, parse_mode=PARSE_MODE),
            reply_markup=self.markup(article.keyboard) if article.keyboard else None,
            description=article.description)

    def start_button(self, button: StartButton) -> InlineQueryResultsButton:
        return InlineQueryResultsButton(button.text, start_parameter=button.start_parameter)

    async def download(self, file_id: str) -> bytes:
        file = await self._call(self.bot.get_file(file_id))
        return bytes(await self._call(file.download_as_bytearray()))

    def translate(self, exc: Exception) -> SendError | None:
        # Order matters: PTB's BadRequest is a NetworkError, which is a TelegramError.
        if isinstance(exc, PtbRetryAfter):
            wait = exc.retry_after
            return RetryAfter(wait.total_seconds() if isinstance(wait, timedelta) else float(wait), exc.message)
        if isinstance(exc, PtbForbidden):
            return Forbidden(exc.message)
        if isinstance(exc, PtbBadRequest):
            return BadRequest(exc.message)
        if isinstance(exc, TelegramError):
            return TransientError(exc.message)
        return None
