"""A library's Update object → the neutral Incoming.

aiogram and python-telegram-bot both mirror the Bot API's field names, so one
duck-typed reader serves both and neither runtime carries its own copy.
"""
from __future__ import annotations

from typing import Any

from bot.context import Document, Incoming, content_type_of
from bot.services.users import TelegramProfile


def profile_of(user: Any) -> TelegramProfile | None:
    if user is None:
        return None
    return TelegramProfile(user.id, user.first_name or "", user.last_name, user.username,
                           user.language_code, bool(user.is_bot))


def _chat_type(chat: Any) -> str:
    return str(getattr(chat.type, "value", chat.type))  # PTB and aiogram give str-valued enums


def _document(document: Any) -> Document | None:
    if document is None:
        return None
    return Document(document.file_id, document.file_name, document.file_size)


def to_incoming(update: Any) -> Incoming:
    message = update.message or update.edited_message
    if message is not None:
        return Incoming(
            update_id=update.update_id, kind="message" if update.message is not None else "edited_message",
            user=profile_of(message.from_user), chat_id=message.chat.id, chat_type=_chat_type(message.chat),
            text=message.text, content_type=content_type_of(message), message_id=message.message_id,
            document=_document(message.document),
        )
    query = update.callback_query
    if query is not None:
        # An old or inaccessible message still carries its chat and id, which is all an edit needs.
        attached = query.message
        return Incoming(
            update_id=update.update_id, kind="callback_query", user=profile_of(query.from_user),
            chat_id=attached.chat.id if attached else None,
            chat_type=_chat_type(attached.chat) if attached else None,
            callback_id=query.id, callback_data=query.data or "",
            message_id=attached.message_id if attached else None,
        )
    return Incoming(update_id=update.update_id, kind="other", user=None, chat_id=None, chat_type=None)
