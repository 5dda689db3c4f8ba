"""A library's Update object → the neutral Incoming.

aiogram and python-telegram-bot both mirror the Bot API's field names, so one
duck-typed reader serves both and neither runtime carries its own copy.
"""
from __future__ import annotations

from typing import Any

from bot.context import Document, Incoming, MemberUpdate, content_type_of
from bot.services.users import TelegramProfile

# Statuses in which someone is in a chat; "restricted" counts only with is_member.
_PRESENT = frozenset({"creator", "administrator", "member"})


def profile_of(user: Any) -> TelegramProfile | None:
    if user is None:
        return None
    return TelegramProfile(user.id, user.first_name or "", user.last_name, user.username,
                           user.language_code, bool(user.is_bot))


def _str(value: Any) -> str:
    return str(getattr(value, "value", value))  # PTB and aiogram give str-valued enums


def _chat_type(chat: Any) -> str:
    return _str(chat.type)


def _document(document: Any) -> Document | None:
    if document is None:
        return None
    return Document(document.file_id, document.file_name, document.file_size)


def _is_member(member: Any) -> bool:
    status = _str(member.status)
    return status in _PRESENT or (status == "restricted" and bool(getattr(member, "is_member", False)))


def _member_update(changed: Any) -> MemberUpdate:
    """ChatMemberUpdated: both libraries type old/new as ChatMember* subclasses whose fields
    exist only where the Bot API has them (is_member on restricted, can_invite_users on
    administrator and restricted), hence getattr with defaults."""
    old, new = changed.old_chat_member, changed.new_chat_member
    new_status = _str(new.status)
    link = getattr(changed, "invite_link", None)
    return MemberUpdate(
        person=profile_of(new.user), old_status=_str(old.status), new_status=new_status,  # type: ignore[arg-type]
        was_member=_is_member(old), is_member=_is_member(new),
        can_invite=new_status == "creator" or bool(getattr(new, "can_invite_users", False)),
        invite_link=link.invite_link if link is not None else None,
        invite_link_name=getattr(link, "name", None) if link is not None else None,
    )


def to_incoming(update: Any) -> Incoming:
    message = update.message or update.edited_message
    if message is not None:
        return Incoming(
            update_id=update.update_id, kind="message" if update.message is not None else "edited_message",
            user=profile_of(message.from_user), chat_id=message.chat.id, chat_type=_chat_type(message.chat),
            text=message.text, content_type=content_type_of(message), message_id=message.message_id,
            document=_document(message.document), chat_title=message.chat.title,
            migrate_to_chat_id=message.migrate_to_chat_id,
            migrate_from_chat_id=message.migrate_from_chat_id,
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
    inline = update.inline_query
    if inline is not None:
        # No chat: the answer goes to the query, and the chat it was typed in is not ours to know.
        return Incoming(update_id=update.update_id, kind="inline_query", user=profile_of(inline.from_user),
                        chat_id=None, chat_type=None, inline_query_id=inline.id, query=inline.query or "")
    for kind in ("chat_member", "my_chat_member"):
        changed = getattr(update, kind, None)
        if changed is not None:
            return Incoming(
                update_id=update.update_id, kind=kind, user=profile_of(changed.from_user),
                chat_id=changed.chat.id, chat_type=_chat_type(changed.chat), chat_title=changed.chat.title,
                member=_member_update(changed),
            )
    return Incoming(update_id=update.update_id, kind="other", user=None, chat_id=None, chat_type=None)
