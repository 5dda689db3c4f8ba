"""aiogram ⇄ neutral types: an Update becomes an Incoming; the Transport maps calls and errors."""
from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramAPIError,
)
from aiogram.types import (
    BotCommand as AgBotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User as AgUser,
)

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

def _profile(user: AgUser | None) -> TelegramProfile | None:
    if user is None:
        return None
    return TelegramProfile(user.id, user.first_name or "", user.last_name, user.username,
                           user.language_code, bool(user.is_bot))


def to_incoming(update: Update) -> Incoming:
    if update.message is not None or update.edited_message is not None:
        message = update.message or update.edited_message
        return Incoming(
            update_id=update.update_id,
            kind="message" if update.message is not None else "edited_message",
            user=_profile(message.from_user), chat_id=message.chat.id, chat_type=message.chat.type,
            text=message.text,
            content_type=content_type_of(message), message_id=message.message_id,
        )
    if update.callback_query is not None:
        query = update.callback_query
        message = query.message if isinstance(query.message, Message) else None
        return Incoming(
            update_id=update.update_id, kind="callback_query", user=_profile(query.from_user),
            chat_id=message.chat.id if message else None, chat_type=message.chat.type if message else None,
            callback_id=query.id, callback_data=query.data or "", message_id=message.message_id if message else None,
        )
    return Incoming(update_id=update.update_id, kind="other", user=None, chat_id=None, chat_type=None)


def _markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=b.text, callback_data=b.callback_data, url=b.url) for b in row] for row in keyboard
    ])


def _translate(exc: TelegramAPIError) -> Exception:
    if isinstance(exc, TelegramRetryAfter):
        return RetryAfter(float(exc.retry_after), exc.message)
    if isinstance(exc, TelegramForbiddenError):
        return Forbidden(exc.message)
    if isinstance(exc, TelegramBadRequest):
        return BadRequest(exc.message)
    return TransientError(str(exc))


class AiogramTransport:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _call(self, coro):  # noqa: ANN001, ANN202
        try:
            return await coro
        except (TelegramNetworkError, TelegramServerError) as exc:
            raise TransientError(str(exc)) from exc
        except TelegramAPIError as exc:
            raise _translate(exc) from exc

    async def send_message(self, chat_id: int, text: str, keyboard: Keyboard | None = None) -> SentMessage:
        msg = await self._call(self.bot.send_message(chat_id, text, reply_markup=_markup(keyboard)))
        return SentMessage(msg.message_id, msg.chat.id)

    async def send_photo(self, chat_id: int, photo: Photo, caption: str | None = None,
                         keyboard: Keyboard | None = None) -> SentMessage:
        media = photo.file_id if photo.file_id else BufferedInputFile(photo.data or b"", photo.filename)
        msg = await self._call(self.bot.send_photo(chat_id, media, caption=caption, reply_markup=_markup(keyboard)))
        file_id = msg.photo[-1].file_id if msg.photo else None
        return SentMessage(msg.message_id, msg.chat.id, file_id)

    async def send_document(self, chat_id: int, data: bytes, filename: str, caption: str | None = None,
                            keyboard: Keyboard | None = None) -> SentMessage:
        msg = await self._call(self.bot.send_document(
            chat_id, BufferedInputFile(data, filename), caption=caption, reply_markup=_markup(keyboard)))
        return SentMessage(msg.message_id, msg.chat.id)

    async def edit_message(self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None) -> None:
        try:
            await self._call(self.bot.edit_message_text(
                text=text, chat_id=chat_id, message_id=message_id, reply_markup=_markup(keyboard)))
        except BadRequest as exc:
            if "message is not modified" not in exc.description:
                raise

    async def answer_callback(self, callback_id: str, text: str | None = None, alert: bool = False) -> None:
        await self._call(self.bot.answer_callback_query(callback_id, text=text, show_alert=alert))

    async def set_commands(self, commands: list[BotCommand], language_code: str | None = None) -> None:
        await self._call(self.bot.set_my_commands(
            [AgBotCommand(command=c.command, description=c.description) for c in commands],
            language_code=language_code))
