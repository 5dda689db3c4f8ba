"""The Context a handler sees: who, where, what, the services, and how to answer.

Framework-neutral. A runtime turns its library's update into an `Incoming` and
supplies a `Transport`; tests supply a recording Transport. Answers are
buffered and sent after the update's transaction commits, so the database
connection is never held across a Telegram round trip, and a rolled-back update
says nothing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Awaitable, Callable

from bot.services.users import TelegramProfile
from bot.transport import (
    ChatMemberInfo, InlineArticle, Keyboard, Photo, SendError, SentMessage, StartButton, Transport,
)

if TYPE_CHECKING:
    from bot.app import App
    from bot.services.registry import Services
    from db.repositories.users import UserRow

log = logging.getLogger("bot.context")

AfterSend = Callable[["Services", SentMessage], Awaitable[None]]

# Message attributes a runtime checks, in order, to name what was sent.
CONTENT_TYPES = ("text", "sticker", "photo", "document", "video", "voice", "audio", "animation",
                 "video_note", "contact", "location", "venue", "poll", "dice")


# A group's upgrade to a supergroup announces itself with one of these service fields. Nobody
# sent content, so the message must never be answered as something the bot cannot read.
MIGRATION_FIELDS = ("migrate_to_chat_id", "migrate_from_chat_id")


def content_type_of(message: object) -> str:
    if any(getattr(message, name, None) for name in MIGRATION_FIELDS):
        return "migration"
    for name in CONTENT_TYPES:
        if getattr(message, name, None):  # PTB gives () for "no photo", aiogram None
            return name
    return "unknown"


@dataclass(frozen=True)
class Document:
    """A file a user sent; `Context.download` fetches its bytes."""

    file_id: str
    file_name: str | None = None
    file_size: int | None = None


@dataclass(frozen=True)
class MemberUpdate:
    """A chat_member / my_chat_member update: whose membership changed, from what to what."""

    person: TelegramProfile  # for my_chat_member, the bot itself
    old_status: str  # creator | administrator | member | restricted | left | kicked
    new_status: str
    was_member: bool
    is_member: bool
    can_invite: bool = False  # the new membership's "Invite users via link" right
    invite_link: str | None = None  # the link they joined through, if any
    invite_link_name: str | None = None

    @property
    def joined(self) -> bool:
        return self.is_member and not self.was_member

    @property
    def left(self) -> bool:
        return self.was_member and not self.is_member


@dataclass(frozen=True)
class Incoming:
    """One Telegram update, reduced to what handlers need."""

    update_id: int
    kind: str  # message | edited_message | callback_query | inline_query | chat_member | my_chat_member | other
    user: TelegramProfile | None
    chat_id: int | None
    chat_type: str | None  # private | group | supergroup | channel
    text: str | None = None
    content_type: str = "text"  # text | sticker | photo | document | ... | migration | unknown
    callback_id: str | None = None
    callback_data: str | None = None
    message_id: int | None = None  # the message itself, or the one a callback button belongs to
    document: Document | None = None
    chat_title: str | None = None  # groups: their title
    inline_query_id: str | None = None
    query: str | None = None  # what was typed after @bot in an inline query
    member: MemberUpdate | None = None  # chat_member and my_chat_member
    # A group's upgrade: the old group's service message names the supergroup, the supergroup's names the group.
    migrate_to_chat_id: int | None = None
    migrate_from_chat_id: int | None = None

    @property
    def is_private(self) -> bool:
        return self.chat_type == "private"

    @property
    def migration(self) -> tuple[int, int] | None:
        """(the old group's id, the supergroup's id) when this message announces an upgrade."""
        if self.chat_id is None:
            return None
        if self.migrate_to_chat_id is not None:
            return self.chat_id, self.migrate_to_chat_id
        if self.migrate_from_chat_id is not None:
            return self.migrate_from_chat_id, self.chat_id
        return None

    @property
    def is_group(self) -> bool:
        return self.chat_type in ("group", "supergroup")


def parse_command(text: str | None, bot_username: str) -> tuple[str | None, str]:
    """('start', 'ABC') from '/start ABC' or '/start@Bot ABC'; (None, '') if not ours or not a command."""
    if not text or not text.startswith("/"):
        return None, ""
    head, _, args = text.partition(" ")
    name, _, target = head[1:].partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None, ""
    if not name or len(name) > 64:
        return None, ""
    return name.lower(), args.strip()


@dataclass
class Action:
    method: str
    kwargs: dict
    then: AfterSend | None = None


@dataclass
class Context:
    incoming: Incoming
    app: "App"
    services: "Services"
    user: "UserRow | None"
    locale: str
    role: str
    is_new_user: bool = False
    actions: list[Action] = field(default_factory=list)
    transport: "Transport | None" = None  # for live calls only (below); answers go through `actions`
    # People whose command menu must follow a role change: brought in line after the commit
    # (bot/runtime/menus.py), like answers, so a rolled-back change leaves every menu alone.
    menu_refresh: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.command, self.args = parse_command(self.incoming.text, self.app.bot_username)

    # -- who / where ------------------------------------------------------
    @property
    def user_id(self) -> int:
        assert self.incoming.user is not None
        return self.incoming.user.id

    @property
    def chat_id(self) -> int:
        assert self.incoming.chat_id is not None
        return self.incoming.chat_id

    @property
    def is_private(self) -> bool:
        return self.incoming.is_private

    @property
    def callback_data(self) -> str:
        return self.incoming.callback_data or ""

    def now(self) -> datetime:
        return self.app.clock.now()

    # -- texts ----------------------------------------------------------------
    def t(self, key: str, /, **args: object) -> str:
        return self.app.i18n.t(self.locale, key, **args)

    def local_date(self, moment: datetime) -> str:
        return moment.astimezone(self.app.settings.tz).strftime("%Y-%m-%d")

    # -- answers (buffered until commit) ----------------------------------------
    async def reply(self, text: str, keyboard: Keyboard | None = None, then: AfterSend | None = None) -> None:
        await self.send_to(self.chat_id, text, keyboard, then)

    async def reply_photo(
        self, photo: Photo, caption: str | None = None, keyboard: Keyboard | None = None, then: AfterSend | None = None
    ) -> None:
        self.actions.append(
            Action("send_photo", {"chat_id": self.chat_id, "photo": photo, "caption": caption, "keyboard": keyboard}, then)
        )

    async def reply_document(
        self, data: bytes, filename: str, caption: str | None = None, keyboard: Keyboard | None = None
    ) -> None:
        self.actions.append(
            Action("send_document", {"chat_id": self.chat_id, "data": data, "filename": filename,
                                     "caption": caption, "keyboard": keyboard})
        )

    async def copy(self, from_chat_id: int, message_id: int, keyboard: Keyboard | None = None) -> None:
        """copyMessage into this chat: e.g. a broadcast's preview, exactly as recipients will see it."""
        self.actions.append(Action("copy_message", {"chat_id": self.chat_id, "from_chat_id": from_chat_id,
                                                    "message_id": message_id, "keyboard": keyboard}))

    async def edit(self, text: str, keyboard: Keyboard | None = None) -> None:
        """Edits the message whose button was pressed (or replies, outside a callback)."""
        if self.incoming.kind != "callback_query" or self.incoming.message_id is None:
            await self.reply(text, keyboard)
            return
        self.actions.append(
            Action("edit_message", {"chat_id": self.chat_id, "message_id": self.incoming.message_id,
                                    "text": text, "keyboard": keyboard})
        )

    async def send_to(self, chat_id: int, text: str, keyboard: Keyboard | None = None,
                      then: AfterSend | None = None) -> None:
        """A message to any chat: this one (reply), or e.g. a member's invite link, privately, for /invite in a group."""
        self.actions.append(Action("send_message", {"chat_id": chat_id, "text": text, "keyboard": keyboard}, then))

    async def answer_inline(self, results: list[InlineArticle], button: StartButton | None = None,
                            cache_time: int = 10) -> None:
        """Answers this inline query. Always personal: a card must never be served from another user's cache."""
        if self.incoming.inline_query_id is None:
            return
        self.actions.append(Action("answer_inline_query", {
            "inline_query_id": self.incoming.inline_query_id, "results": results, "cache_time": cache_time,
            "is_personal": True, "button": button}))

    async def answer_callback(self, text: str | None = None, alert: bool = False) -> None:
        if self.incoming.callback_id is None:
            return
        self.actions.append(Action("answer_callback", {"callback_id": self.incoming.callback_id,
                                                       "text": text, "alert": alert}))

    def refresh_menu(self, user_id: int) -> None:
        """After the commit, give this person the command menu their role now calls for."""
        if user_id not in self.menu_refresh:
            self.menu_refresh.append(user_id)

    async def download(self, document: Document, limit: int) -> bytes | None:
        """The document's bytes, fetched now (not buffered); None when it is over `limit` bytes."""
        if document.file_size is not None and document.file_size > limit:
            return None
        data = await self._live().download(document.file_id)
        return data if len(data) <= limit else None

    # -- live calls (made now, inside the update's transaction) --------------------------
    # Unlike answers, these return something the handler needs before it can answer: the
    # bytes of a file, the URL of a new invite link (it must be known to be sent, and stored
    # with the member who owns it, so Telegram is asked once per member per group), whether
    # someone is a group admin. They hold the update's transaction over a round trip, so
    # they are kept to the rare moments that need them.

    def _live(self) -> "Transport":
        assert self.transport is not None, "a Context built without a transport cannot make live calls"
        return self.transport

    async def create_invite_link(self, chat_id: int, name: str) -> str:
        """A new named invite link for a group; raises SendError (logged here) when Telegram refuses."""
        try:
            return await self._live().create_chat_invite_link(chat_id, name)
        except SendError as exc:
            log.warning("createChatInviteLink in %s failed: %r", chat_id, exc)
            raise

    async def chat_member(self, chat_id: int, user_id: int) -> ChatMemberInfo | None:
        """Someone's status and rights in a chat now; None (logged) when Telegram would not say."""
        try:
            return await self._live().get_chat_member(chat_id, user_id)
        except SendError as exc:
            log.warning("getChatMember(%s, %s) failed: %r", chat_id, user_id, exc)
            return None

    def answered_callback(self) -> bool:
        return any(a.method == "answer_callback" for a in self.actions)
