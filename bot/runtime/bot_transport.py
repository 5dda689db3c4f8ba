"""The Transport over a library's Bot object, shared by both runtimes.

aiogram's and python-telegram-bot's Bot mirror the Bot API's method and
parameter names, so the calls are written once; a runtime supplies only how
its library builds a keyboard, an upload and a command, and names its errors.
"""
from __future__ import annotations

from typing import Any, Awaitable

from bot.transport import (
    BadRequest, BotCommand, ChatMemberInfo, InlineArticle, Keyboard, Photo, SendError, SentMessage, StartButton,
)


def _paid(paid: bool) -> dict[str, bool]:
    # Sent only when asked for: a server that predates the parameter never sees it.
    return {"allow_paid_broadcast": True} if paid else {}


class BotApiTransport:
    def __init__(self, bot: Any) -> None:
        self.bot = bot

    # -- what a runtime supplies ------------------------------------------------
    def markup(self, keyboard: Keyboard) -> Any:
        raise NotImplementedError

    def upload(self, data: bytes, filename: str) -> Any:
        raise NotImplementedError

    def command(self, command: BotCommand) -> Any:
        raise NotImplementedError

    def chat_scope(self, chat_id: int) -> Any:
        """BotCommandScopeChat: a menu for one chat."""
        raise NotImplementedError

    def article(self, article: InlineArticle) -> Any:
        """InlineQueryResultArticle with an HTML InputTextMessageContent."""
        raise NotImplementedError

    def start_button(self, button: StartButton) -> Any:
        """InlineQueryResultsButton with a start_parameter."""
        raise NotImplementedError

    def translate(self, exc: Exception) -> SendError | None:
        """The neutral error for a library exception, or None if it is not a Telegram error."""
        raise NotImplementedError

    # -- the calls ----------------------------------------------------------------
    async def _call(self, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except Exception as exc:
            mapped = self.translate(exc)
            if mapped is None:
                raise
            raise mapped from exc

    def _markup(self, keyboard: Keyboard | None) -> Any:
        return self.markup(keyboard) if keyboard else None

    async def send_message(self, chat_id: int, text: str, keyboard: Keyboard | None = None,
                           paid: bool = False) -> SentMessage:
        msg = await self._call(self.bot.send_message(chat_id, text, reply_markup=self._markup(keyboard),
                                                     **_paid(paid)))
        return SentMessage(msg.message_id, msg.chat.id)

    async def copy_message(self, chat_id: int, from_chat_id: int, message_id: int,
                           keyboard: Keyboard | None = None, paid: bool = False) -> SentMessage:
        # copyMessage keeps the original's formatting and media without a forward header.
        msg = await self._call(self.bot.copy_message(chat_id, from_chat_id, message_id,
                                                     reply_markup=self._markup(keyboard), **_paid(paid)))
        return SentMessage(msg.message_id, chat_id)

    async def download(self, file_id: str) -> bytes:
        raise NotImplementedError

    async def send_photo(self, chat_id: int, photo: Photo, caption: str | None = None,
                         keyboard: Keyboard | None = None) -> SentMessage:
        media = photo.file_id if photo.file_id else self.upload(photo.data or b"", photo.filename)
        msg = await self._call(self.bot.send_photo(chat_id, media, caption=caption,
                                                   reply_markup=self._markup(keyboard)))
        file_id = msg.photo[-1].file_id if msg.photo else None
        return SentMessage(msg.message_id, msg.chat.id, file_id)

    async def send_document(self, chat_id: int, data: bytes, filename: str, caption: str | None = None,
                            keyboard: Keyboard | None = None) -> SentMessage:
        msg = await self._call(self.bot.send_document(chat_id, self.upload(data, filename), caption=caption,
                                                      reply_markup=self._markup(keyboard)))
        return SentMessage(msg.message_id, msg.chat.id)

    async def edit_message(self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None) -> None:
        try:
            await self._call(self.bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id,
                                                        reply_markup=self._markup(keyboard)))
        except BadRequest as exc:
            # A double press re-renders the same page; Telegram calls that an error, users don't.
            if "message is not modified" not in exc.description.lower():
                raise

    async def answer_callback(self, callback_id: str, text: str | None = None, alert: bool = False) -> None:
        await self._call(self.bot.answer_callback_query(callback_id, text=text, show_alert=alert))

    async def set_commands(self, commands: list[BotCommand], language_code: str | None = None,
                           chat_id: int | None = None) -> None:
        scope = None if chat_id is None else self.chat_scope(chat_id)
        await self._call(self.bot.set_my_commands([self.command(c) for c in commands], scope=scope,
                                                  language_code=language_code))

    async def delete_commands(self, language_code: str | None = None, chat_id: int | None = None) -> None:
        scope = None if chat_id is None else self.chat_scope(chat_id)
        await self._call(self.bot.delete_my_commands(scope=scope, language_code=language_code))

    async def answer_inline_query(self, inline_query_id: str, results: list[InlineArticle], cache_time: int,
                                  is_personal: bool, button: StartButton | None = None) -> None:
        await self._call(self.bot.answer_inline_query(
            inline_query_id, [self.article(r) for r in results], cache_time=cache_time, is_personal=is_personal,
            button=self.start_button(button) if button is not None else None))

    async def create_chat_invite_link(self, chat_id: int, name: str) -> str:
        link = await self._call(self.bot.create_chat_invite_link(chat_id, name=name))
        return link.invite_link

    async def get_chat_member(self, chat_id: int, user_id: int) -> ChatMemberInfo:
        member = await self._call(self.bot.get_chat_member(chat_id, user_id))
        status = str(getattr(member.status, "value", member.status))
        # ChatMember* subclasses carry can_invite_users only where the Bot API has it.
        return ChatMemberInfo(status, status == "creator" or bool(getattr(member, "can_invite_users", False)))
