"""aiogram's keyboards, uploads, commands and errors for the shared BotApiTransport."""
from __future__ import annotations

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BotCommand as AgBotCommand
from aiogram.types import BotCommandScopeChat
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.types import InlineQueryResultArticle, InlineQueryResultsButton, InputTextMessageContent

from bot.runtime.bot_transport import BotApiTransport
from bot.transport import (
    PARSE_MODE, BadRequest, BotCommand, Forbidden, InlineArticle, Keyboard, RetryAfter, SendError, StartButton,
    TransientError,
)


class AiogramTransport(BotApiTransport):
    def markup(self, keyboard: Keyboard) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=[
            [InlineKeyboardButton(text=b.text, callback_data=b.callback_data, url=b.url) for b in row]
            for row in keyboard
        ])

    def upload(self, data: bytes, filename: str) -> BufferedInputFile:
        return BufferedInputFile(data, filename)

    def command(self, command: BotCommand) -> AgBotCommand:
        return AgBotCommand(command=command.command, description=command.description)

    def chat_scope(self, chat_id: int) -> BotCommandScopeChat:
        return BotCommandScopeChat(chat_id=chat_id)

    def article(self, article: InlineArticle) -> InlineQueryResultArticle:
        return InlineQueryResultArticle(
            id=article.id, title=article.title, description=article.description,
            input_message_content=InputTextMessageContent(message_text=article.text, parse_mode=PARSE_MODE),
            reply_markup=self.markup(article.keyboard) if article.keyboard else None)

    def start_button(self, button: StartButton) -> InlineQueryResultsButton:
        return InlineQueryResultsButton(text=button.text, start_parameter=button.start_parameter)

    async def download(self, file_id: str) -> bytes:
        buffer = await self._call(self.bot.download(file_id))
        return buffer.read()

    def translate(self, exc: Exception) -> SendError | None:
        if isinstance(exc, TelegramRetryAfter):
            return RetryAfter(float(exc.retry_after), exc.message)
        if isinstance(exc, TelegramForbiddenError):
            return Forbidden(exc.message)
        if isinstance(exc, TelegramBadRequest):
            return BadRequest(exc.message)
        if isinstance(exc, (TelegramNetworkError, TelegramServerError, TelegramAPIError)):
            return TransientError(str(exc))
        return None
