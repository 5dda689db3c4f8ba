"""python-telegram-bot ⇄ neutral types: an Update becomes an Incoming; the Transport maps calls and errors."""
from __future__ import annotations

from datetime import timedelta

from telegram import Bot, BotCommand as PtbBotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram import User as PtbUser
from telegram.error import BadRequest as PtbBadRequest
from telegram.error import Forbidden as PtbForbidden
from telegram.error import RetryAfter as PtbRetryAfter
from telegram.error import TelegramError

from bot.context import Incoming, content_type_of
from bot.services.users import TelegramProfile
from bot.transport import (
    BadRequest,
    BotCommand,
    Forbidden,
    Keyboard,
    Photo,
    RetryAfter,
    SentMessage,
    TransientError,
)


def _profile(user: PtbUser | None) -> TelegramProfile | None:
    if user is None:
        return None
    return TelegramProfile(user.id, user.first_name or "", user.last_name, user.username,
                           user.language_code, bool(user.is_bot))


def to_incoming(update: Update) -> Incoming:
    message = update.message or update.edited_message
    if message is not None:
        return Incoming(
            update_id=update.update_id, kind="message" if update.message is not None else "edited_message",
            user=_profile(message.from_user), chat_id=message.chat.id, chat_type=str(message.chat.type),
            text=message.text, content_type=content_type_of(message), message_id=message.message_id,
        )
    if update.callback_query is not None:
        query = update.callback_query
        attached = query.message if query.message is not None and query.message.is_accessible else None
        return Incoming(
            update_id=update.update_id, kind="callback_query", user=_profile(query.from_user),
            chat_id=attached.chat.id if attached else None, chat_type=str(attached.chat.type) if attached else None,
            callback_id=query.id, callback_data=query.data or "", message_id=attached.message_id if attached else None,
        )
    return Incoming(update_id=update.update_id, kind="other", user=None, chat_id=None, chat_type=None)


def _markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(b.text, callback_data=b.callback_data, url=b.url) for b in row] for row in keyboard
    ])


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PtbTransport:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _call(self, coro):  # noqa: ANN001, ANN202
        # Order matters: PTB's BadRequest is a NetworkError.
        try:
            return await coro
        except PtbRetryAfter as exc:
            raise RetryAfter(_seconds(exc.retry_after), exc.message) from exc
        except PtbForbidden as exc:
            raise Forbidden(exc.message) from exc
        except PtbBadRequest as exc:
            raise BadRequest(exc.message) from exc
        except TelegramError as exc:
            raise TransientError(exc.message) from exc

    async def send_message(self, chat_id: int, text: str, keyboard: Keyboard | None = None) -> SentMessage:
        msg = await self._call(self.bot.send_message(chat_id, text, reply_markup=_markup(keyboard)))
        return SentMessage(msg.message_id, msg.chat.id)

    async def send_photo(self, chat_id: int, photo: Photo, caption: str | None = None,
                         keyboard: Keyboard | None = None) -> SentMessage:
        media = photo.file_id if photo.file_id else InputFile(photo.data or b"", filename=photo.filename)
        msg = await self._call(self.bot.send_photo(chat_id, media, caption=caption, reply_markup=_markup(keyboard)))
        file_id = msg.photo[-1].file_id if msg.photo else None
        return SentMessage(msg.message_id, msg.chat.id, file_id)

    async def send_document(self, chat_id: int, data: bytes, filename: str, caption: str | None = None,
                            keyboard: Keyboard | None = None) -> SentMessage:
        msg = await self._call(self.bot.send_document(
            chat_id, InputFile(data, filename=filename), caption=caption, reply_markup=_markup(keyboard)))
        return SentMessage(msg.message_id, msg.chat.id)

    async def edit_message(self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None) -> None:
        try:
            await self._call(self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, reply_markup=_markup(keyboard)))
        except BadRequest as exc:
            if "message is not modified" not in exc.description.lower():
                raise

    async def answer_callback(self, callback_id: str, text: str | None = None, alert: bool = False) -> None:
        await self._call(self.bot.answer_callback_query(callback_id, text=text, show_alert=alert))

    async def set_commands(self, commands: list[BotCommand], language_code: str | None = None) -> None:
        await self._call(self.bot.set_my_commands(
            [PtbBotCommand(c.command, c.description) for c in commands], language_code=language_code))
