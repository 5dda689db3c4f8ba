"""What a runtime must provide to send to Telegram, in framework-neutral terms.

Handlers and the outbox sender speak only these types; each runtime maps its
library's calls and exceptions onto them in one file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

PARSE_MODE = "HTML"  # every text we send is HTML; user strings are escaped by the i18n layer


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.callback_data is None) == (self.url is None):
            raise ValueError("a button has exactly one of callback_data or url")
        if self.callback_data is not None and len(self.callback_data.encode()) > 64:
            raise ValueError(f"callback_data over 64 bytes: {self.callback_data!r}")


Keyboard = list[list[Button]]


@dataclass(frozen=True)
class SentMessage:
    message_id: int
    chat_id: int
    photo_file_id: str | None = None


@dataclass(frozen=True)
class BotCommand:
    command: str
    description: str


class SendError(Exception):
    """Base of the failures the sender must tell apart."""


@dataclass
class RetryAfter(SendError):
    """429: Telegram asks every sender to pause for `seconds`."""

    seconds: float
    description: str = ""


@dataclass
class Forbidden(SendError):
    """403: the user blocked the bot (or the bot was removed from the chat)."""

    description: str = ""


@dataclass
class BadRequest(SendError):
    """400: the request itself is wrong; retrying the same payload will not help."""

    description: str = ""

    @property
    def lacks_rights(self) -> bool:
        """Telegram refused because the bot is not an admin, or lacks the admin right the call needs."""
        text = self.description.lower()
        return "not enough rights" in text or "chat_admin_required" in text


@dataclass
class TransientError(SendError):
    """Network trouble or 5xx: worth a retry later."""

    description: str = ""


@dataclass(frozen=True)
class Photo:
    """A photo to send: either bytes to upload or a file_id Telegram already has."""

    data: bytes | None = None
    file_id: str | None = None
    filename: str = "photo.png"


@dataclass(frozen=True)
class Outgoing:
    """What the outbox sends for one row: a text, or a copy of an existing message (copyMessage).

    `paid` asks for allow_paid_broadcast (up to 1,000 messages/s, billed in Stars).
    """

    text: str | None = None
    keyboard: Keyboard | None = None
    copy_from: tuple[int, int] | None = None  # (from_chat_id, message_id)
    paid: bool = False

    def __post_init__(self) -> None:
        if (self.text is None) == (self.copy_from is None):
            raise ValueError("an outgoing message is either a text or a copy")


@dataclass(frozen=True)
class InlineArticle:
    """One inline result: a card the user can drop into any chat (InlineQueryResultArticle)."""

    id: str
    title: str
    text: str  # the message it sends, in HTML
    description: str | None = None
    keyboard: Keyboard | None = None


@dataclass(frozen=True)
class StartButton:
    """The button above inline results that opens a private chat with `/start <start_parameter>`."""

    text: str
    start_parameter: str


@dataclass(frozen=True)
class ChatMemberInfo:
    """Someone's membership of a chat (getChatMember), reduced to what the bot decides on."""

    status: str  # creator | administrator | member | restricted | left | kicked
    can_invite_users: bool = False  # creators can always; others when granted the right

    @property
    def is_admin(self) -> bool:
        return self.status in ("creator", "administrator")


class Transport(Protocol):
    async def send_message(
        self, chat_id: int, text: str, keyboard: Keyboard | None = None, paid: bool = False
    ) -> SentMessage: ...

    async def copy_message(
        self, chat_id: int, from_chat_id: int, message_id: int, keyboard: Keyboard | None = None,
        paid: bool = False,
    ) -> SentMessage: ...

    async def download(self, file_id: str) -> bytes:
        """The bytes of a file a user sent (getFile, then the file URL)."""
        ...

    async def send_photo(
        self, chat_id: int, photo: Photo, caption: str | None = None, keyboard: Keyboard | None = None
    ) -> SentMessage: ...

    async def send_document(
        self, chat_id: int, data: bytes, filename: str, caption: str | None = None, keyboard: Keyboard | None = None
    ) -> SentMessage: ...

    async def edit_message(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None
    ) -> None: ...

    async def answer_callback(self, callback_id: str, text: str | None = None, alert: bool = False) -> None: ...

    async def set_commands(self, commands: list[BotCommand], language_code: str | None = None,
                           chat_id: int | None = None) -> None:
        """The command menu for a language; with `chat_id`, for that one private chat only (an agent's or admin's)."""
        ...

    async def delete_commands(self, language_code: str | None = None, chat_id: int | None = None) -> None:
        """Removes the menu set for a language (and chat): Telegram shows the next wider one instead."""
        ...

    async def answer_inline_query(self, inline_query_id: str, results: list[InlineArticle], cache_time: int,
                                  is_personal: bool, button: StartButton | None = None) -> None: ...

    async def create_chat_invite_link(self, chat_id: int, name: str) -> str:
        """A new invite link for a group, named (at most 32 characters); returns its URL."""
        ...

    async def get_chat_member(self, chat_id: int, user_id: int) -> ChatMemberInfo: ...
