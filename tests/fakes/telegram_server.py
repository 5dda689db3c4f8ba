"""A fake Telegram Bot API server that the tests own.

`FakeTelegram` serves the Bot API over real HTTP (aiohttp, 127.0.0.1, OS-chosen
port), so an unmodified aiogram 3 or python-telegram-bot 22 bot can run against
it by pointing its API URL at `fake.base_url`: long polling, webhooks, texts,
photos and documents, edits, copies, callback and inline answers, commands,
chat and member look-ups, invite links, a group's upgrade to a supergroup.

It refuses what Telegram refuses, with Telegram's status codes and bodies
(`{"ok": false, "error_code": N, "description": "..."}`): over-long texts and
captions (counted in UTF-16 units after entity parsing), HTML or MarkdownV2 that
does not parse, callback data over 64 bytes, unknown chats and files, users who
blocked the bot, flood limits (429 with `parameters.retry_after`), answers to
callback queries that were never asked or were already answered.

The test side builds realistic updates (`message()`, `callback()`, `click()`,
...), pushes them (`push_update()`, `redeliver()`), and inspects every call the
bot made (`calls`, `wait_for()`, `next_message()`, `sent_to()`).

Deliberate differences from Telegram are noted where they happen; the main
ones: a bare `&` in HTML is refused (Telegram keeps it literally) so unescaped
user text is caught, URLs are never fetched, webhook deliveries are sequential.
"""
from __future__ import annotations

import asyncio
import copy
import inspect
import io
import itertools
import json
import logging
import math
import mimetypes
import re
import secrets
import struct
import time
import zlib
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import ClientError, ClientSession, ClientTimeout, web

__all__ = ["BLOCKED", "CANT_INITIATE", "NO_INVITE_RIGHTS", "Call", "FakeTelegram", "FloodLimits", "TelegramError",
           "TgUser"]

log = logging.getLogger(__name__)

Json = dict[str, Any]  # a Telegram object, or any JSON object

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_POLL_TIMEOUT = 50.0

BLOCKED = "Forbidden: bot was blocked by the user"
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
ANONYMOUS_ADMIN_ID = 1087968824  # GroupAnonymousBot: who the supergroup's own service messages come from
NO_INVITE_RIGHTS = "Bad Request: not enough rights to manage chat invite link"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
WRONG_FILE = "wrong file identifier/HTTP URL specified"

# Methods that put a new message in a chat (the ones flood limits apply to) and
# every method whose successful result is a message a user sees.
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "copyMessage"})
MESSAGE_METHODS = SEND_METHODS | {"editMessageText", "editMessageCaption", "editMessageReplyMarkup"}

# Update types Telegram delivers only when named in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# Form-encoded requests carry every value as a string; these say how to read them back.
_INT_PARAMS = frozenset({
    "chat_id", "from_chat_id", "message_id", "user_id", "offset", "limit", "reply_to_message_id",
    "message_thread_id", "expire_date", "member_limit", "cache_time", "max_connections", "until_date",
})
_FLOAT_PARAMS = frozenset({"timeout"})
_BOOL_PARAMS = frozenset({
    "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
    "disable_web_page_preview", "is_personal", "creates_join_request", "allow_sending_without_reply",
    "has_spoiler", "show_caption_above_media", "disable_content_type_detection", "revoke_messages",
    "only_if_banned", "allow_paid_broadcast",
})
_JSON_PARAMS = frozenset({
    "reply_markup", "allowed_updates", "entities", "caption_entities", "commands", "scope",
    "link_preview_options", "reply_parameters", "results", "button", "media", "permissions",
})
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})
_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)


class TelegramError(Exception):
    """A refusal, rendered exactly as Telegram renders it."""

    def __init__(self, status: int, description: str, retry_after: int | None = None,
                 migrate_to_chat_id: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def body(self) -> Json:
        body: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        if self.migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": self.migrate_to_chat_id}
        return body


def _bad(description: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {description}")


def _too_many(seconds: int) -> TelegramError:
    return TelegramError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class TgUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh-hans"
    is_bot: bool = False

    def to_dict(self) -> Json:
        data: Json = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    def private_chat(self) -> Json:
        chat: Json = {"id": self.id, "type": "private", "first_name": self.first_name}
        for key in ("last_name", "username"):
            if getattr(self, key) is not None:
                chat[key] = getattr(self, key)
        return chat


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's documented sending limits, enforced as sliding windows."""

    global_per_second: int = 30
    private_per_second: int = 1
    group_per_minute: int = 20


@dataclass
class Call:
    """One request the bot made, as the fake understood and answered it."""

    index: int
    method: str  # as Telegram spells it ("sendMessage"), whatever case the client used
    params: Json
    timestamp: float
    status: int | None = None  # None while a long poll is still waiting
    response: Json | None = None
    message: Json | None = None  # the message as it stood right after a message method
    uploads: dict[str, str] = field(default_factory=dict)  # multipart part name -> filename
    source: str = "http"  # or "webhook-reply": a method returned in a webhook response body

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result") if self.response else None

    @property
    def description(self) -> str | None:
        return self.response.get("description") if self.response else None

    @property
    def chat_id(self) -> int | str | None:
        if self.message is not None:
            return self.message["chat"]["id"]
        return self.params.get("chat_id")

    @property
    def message_id(self) -> int | None:
        return self.message["message_id"] if self.message else None

    @property
    def text(self) -> str | None:
        """What the user sees: the text or caption after entity parsing."""
        if self.message is None:
            return None
        return self.message.get("text", self.message.get("caption"))

    @property
    def sent_text(self) -> str | None:
        """The text or caption exactly as the bot sent it (with markup)."""
        return self.params.get("text", self.params.get("caption"))

    @property
    def keyboard(self) -> list[list[Json]]:
        markup = self.message.get("reply_markup") if self.message else self.params.get("reply_markup")
        return markup.get("inline_keyboard", []) if isinstance(markup, dict) else []

    @property
    def buttons(self) -> list[Json]:
        return [button for row in self.keyboard for button in row]

    @property
    def photo_file_id(self) -> str | None:
        photo = self.message.get("photo") if self.message else None
        return photo[-1]["file_id"] if photo else None

    @property
    def document_file_id(self) -> str | None:
        document = self.message.get("document") if self.message else None
        return document["file_id"] if document else None

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.params.items() if k not in ("reply_markup", "results")}
        text = json.dumps(shown, ensure_ascii=False, default=str)
        if len(text) > 160:
            text = text[:157] + "..."
        outcome = "pending" if self.status is None else str(self.status)
        if self.status and self.status != 200:
            outcome += f" {self.description!r}"
        return f"<Call #{self.index} {self.method} {text} -> {outcome}>"


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo | document | sticker
    data: bytes
    filename: str
    mime_type: str
    width: int = 0
    height: int = 0

    @property
    def file_path(self) -> str:
        return f"{self.kind}s/{self.file_id}{mimetypes.guess_extension(self.mime_type) or ''}"


@dataclass
class _Upload:
    filename: str
    data: bytes
    content_type: str


Params = dict[str, Any]  # a request's parameters, decoded
Uploads = dict[str, _Upload]  # its uploaded files, by multipart part name


@dataclass
class _Queued:
    update: Json
    forced: bool = False  # a redelivery: served once even though its id is below the offset
    delivered: bool = False
    attempts: int = 0  # webhook delivery attempts

    @property
    def update_id(self) -> int:
        return self.update["update_id"]

    @property
    def kind(self) -> str:
        return next(k for k in self.update if k != "update_id")


class _FloodGate:
    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._global: deque[float] = deque()
        self._chats: dict[int, deque[float]] = defaultdict(deque)

    def admit(self, chat_id: int, private: bool) -> None:
        """Refuse with 429 if one more message now would break a limit, else count it."""
        now = time.monotonic()
        limit, period = (
            (self.limits.private_per_second, 1.0) if private else (self.limits.group_per_minute, 60.0)
        )
        waits = [
            self._wait(self._global, self.limits.global_per_second, 1.0, now),
            self._wait(self._chats[chat_id], limit, period, now),
        ]
        wait = max(w for w in waits)
        if wait > 0:
            raise _too_many(max(1, math.ceil(wait)))
        self._global.append(now)
        self._chats[chat_id].append(now)

    @staticmethod
    def _wait(window: deque[float], limit: int, period: float, now: float) -> float:
        while window and window[0] <= now - period:
            window.popleft()
        return window[0] + period - now if len(window) >= limit else 0.0


# --------------------------------------------------------------------------- entities


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Text:
    """Visible text being assembled, with its length in UTF-16 code units (Telegram's offsets)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0

    def add(self, piece: str) -> None:
        self.parts.append(piece)
        self.pos += _utf16_len(piece)

    def value(self) -> str:
        return "".join(self.parts)


def _entity_error(message: str) -> TelegramError:
    return _bad(f"can't parse entities: {message}")


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode())


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "span": "spoiler",
    "tg-spoiler": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHAR_REF = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]*));")
_ATTR = re.compile(r"""([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")


def _char_ref(match: re.Match[str] | None) -> str | None:
    if match is None:
        return None
    if match.group(3):
        return _NAMED_ENTITIES.get(match.group(3))
    code = int(match.group(1)) if match.group(1) else int(match.group(2), 16)
    if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
        return chr(code)
    return None


@dataclass
class _OpenTag:
    tag: str
    start: int  # UTF-16 offset in the visible text
    byte_offset: int
    attrs: dict[str, str]
    language: str | None = None


def _parse_html(src: str, strict_ampersand: bool) -> tuple[str, list[Json]]:
    out, stack, entities = _Text(), [], []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch == "&":
            decoded = _char_ref(match := _CHAR_REF.match(src, i))
            if decoded is not None:
                out.add(decoded)
                i = match.end()  # type: ignore[union-attr]
                continue
            if strict_ampersand:
                # Telegram would keep this '&' literally; refusing it catches text that was never escaped.
                raise _entity_error(f"unescaped '&' at byte offset {_byte_offset(src, i)}: use &amp;")
            out.add("&")
            i += 1
            continue
        if ch != "<":
            j = i + 1
            while j < n and src[j] not in "<&":
                j += 1
            out.add(src[i:j])
            i = j
            continue
        start = i
        if src.startswith("</", i):
            end = src.find(">", i)
            if end < 0:
                raise _entity_error(f"Unclosed end tag at byte offset {_byte_offset(src, start)}")
            name = src[i + 2:end].strip().lower()
            if not stack:
                raise _entity_error(f"Unexpected end tag at byte offset {_byte_offset(src, start)}")
            top = stack[-1]
            if name != top.tag:
                raise _entity_error(
                    f'Unmatched end tag at byte offset {_byte_offset(src, start)}, '
                    f'expected "</{top.tag}>", found "</{name}>"'
                )
            stack.pop()
            _close_html_tag(top, out.pos, stack, entities)
            i = end + 1
            continue
        j = i + 1
        while j < n and not src[j].isspace() and src[j] != ">":
            j += 1
        if j >= n:
            raise _entity_error(f"Unclosed start tag at byte offset {_byte_offset(src, start)}")
        name = src[i + 1:j].lower()
        if name not in _HTML_TAGS:
            raise _entity_error(f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, start)}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and src[j].isspace():
                j += 1
            if j >= n:
                raise _entity_error(f"Unclosed start tag at byte offset {_byte_offset(src, start)}")
            if src[j] == ">":
                break
            match = _ATTR.match(src, j)
            if match is None:
                raise _entity_error(
                    f'Invalid attribute in the tag "{name}" at byte offset {_byte_offset(src, start)}'
                )
            value = match.group(2) or ""
            if value[:1] in ("'", '"'):
                value = value[1:-1]
            attrs[match.group(1).lower()] = _CHAR_REF.sub(lambda m: _char_ref(m) or m.group(0), value)
            j = match.end()
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(src, start)}')
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise _entity_error(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {_byte_offset(src, start)}'
            )
        stack.append(_OpenTag(name, out.pos, _byte_offset(src, start), attrs))
        i = j + 1
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return out.value(), entities


def _close_html_tag(tag: _OpenTag, end: int, stack: list[_OpenTag], entities: list[Json]) -> None:
    entity: Json = {"type": _HTML_TAGS[tag.tag], "offset": tag.start, "length": end - tag.start}
    if tag.tag == "code" and stack and stack[-1].tag == "pre" and tag.attrs.get("class", "").startswith("language-"):
        stack[-1].language = tag.attrs["class"][len("language-"):]  # <pre><code class="language-x"> is one entity
        return
    if tag.tag == "a":
        if not tag.attrs.get("href"):
            return  # Telegram keeps the text of a link without a URL as plain text
        entity["url"] = tag.attrs["href"]
    elif tag.tag == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.tag == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.tag == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    if entity["length"] > 0:
        entities.append(entity)


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold", "italic": "Italic", "underline": "Underline", "strikethrough": "Strikethrough",
    "spoiler": "Spoiler", "text_link": "TextUrl", "custom_emoji": "CustomEmoji",
}


def _md_literal(src: str, i: int, terminator: str, escapable: str) -> tuple[str, int]:
    """Read up to an unescaped terminator; returns (text, index of terminator) or (text, -1)."""
    out = []
    while i < len(src):
        if src[i] == "\\" and i + 1 < len(src) and src[i + 1] in escapable:
            out.append(src[i + 1])
            i += 2
        elif src.startswith(terminator, i):
            return "".join(out), i
        else:
            out.append(src[i])
            i += 1
    return "".join(out), -1


def _parse_markdown_v2(src: str) -> tuple[str, list[Json]]:
    out, entities = _Text(), []
    stack: list[tuple[str, int, int]] = []  # (type, start, byte offset)
    i, n = 0, len(src)

    def toggle(kind: str) -> None:
        if stack and stack[-1][0] == kind:
            _, begin, _ = stack.pop()
            if out.pos > begin:
                entities.append({"type": kind, "offset": begin, "length": out.pos - begin})
        else:
            stack.append((kind, out.pos, _byte_offset(src, i)))

    while i < n:
        ch = src[i]
        if ch == "\\":
            if i + 1 < n and 0 < ord(src[i + 1]) < 127:
                out.add(src[i + 1])
                i += 2
            else:
                out.add(ch)
                i += 1
        elif ch == "`":
            fence = "```" if src.startswith("```", i) else "`"
            j, language = i + len(fence), None
            if fence == "```":
                newline = src.find("\n", j)
                head = src[j:newline] if newline >= 0 else ""
                if head and not any(c.isspace() for c in head):
                    language, j = head, newline + 1
            body, end = _md_literal(src, j, fence, "`\\")
            if end < 0:
                kind = "PreCode" if fence == "```" else "Code"
                raise _entity_error(f"Can't find end of {kind} entity at byte offset {_byte_offset(src, i)}")
            begin = out.pos
            out.add(body)
            kind = "pre" if fence == "```" else "code"
            entity: Json = {"type": kind, "offset": begin, "length": out.pos - begin}
            if language:
                entity["language"] = language
            if entity["length"]:
                entities.append(entity)
            i = end + len(fence)
        elif ch == "*":
            toggle("bold")
            i += 1
        elif ch == "_":
            if src.startswith("__", i) and not (stack and stack[-1][0] == "italic"):
                toggle("underline")
                i += 2
            else:
                toggle("italic")
                i += 1
        elif ch == "~":
            toggle("strikethrough")
            i += 1
        elif ch == "|" and src.startswith("||", i):
            toggle("spoiler")
            i += 2
        elif ch == "[":
            stack.append(("text_link", out.pos, _byte_offset(src, i)))
            i += 1
        elif ch == "!" and src.startswith("![", i):
            stack.append(("custom_emoji", out.pos, _byte_offset(src, i)))
            i += 2
        elif ch == "]" and stack and stack[-1][0] in ("text_link", "custom_emoji"):
            kind, begin, offset = stack.pop()
            if not src.startswith("(", i + 1):
                raise _entity_error(f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {offset}")
            url, end = _md_literal(src, i + 2, ")", ")\\")
            if end < 0:
                raise _entity_error(f"Can't find end of a URL at byte offset {_byte_offset(src, i + 1)}")
            if out.pos > begin:
                entity = {"type": kind, "offset": begin, "length": out.pos - begin}
                if kind == "text_link":
                    entity["url"] = url
                else:
                    entity["custom_emoji_id"] = url.rpartition("id=")[2]
                entities.append(entity)
            i = end + 1
        elif ch == ">" and (i == 0 or src[i - 1] == "\n"):
            i += 1  # a blockquote line; the fake does not build blockquote entities
        elif ch in _MDV2_RESERVED:
            raise _entity_error(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        else:
            j = i + 1
            while j < n and src[j] not in _MDV2_RESERVED and src[j] != "\\":
                j += 1
            out.add(src[i:j])
            i = j
    if stack:
        kind, _, offset = stack[-1]
        raise _entity_error(f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {offset}")
    return out.value(), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _parse_markdown_legacy(src: str) -> tuple[str, list[Json]]:
    out, entities = _Text(), []
    i, n = 0, len(src)
    kinds = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}
    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n and src[i + 1] in "_*`[":
            out.add(src[i + 1])
            i += 2
        elif ch in "*_`":
            delim = "```" if src.startswith("```", i) else ch
            end = src.find(delim, i + len(delim))
            if end < 0:
                raise _entity_error(f"Can't find end of the entity starting at byte offset {_byte_offset(src, i)}")
            begin = out.pos
            out.add(src[i + len(delim):end])
            if out.pos > begin:
                entities.append({"type": kinds[delim], "offset": begin, "length": out.pos - begin})
            i = end + len(delim)
        elif ch == "[":
            close = src.find("]", i + 1)
            if close < 0 or not src.startswith("(", close + 1) or src.find(")", close + 2) < 0:
                raise _entity_error(f"Can't find end of the entity starting at byte offset {_byte_offset(src, i)}")
            url_end = src.find(")", close + 2)
            begin = out.pos
            out.add(src[i + 1:close])
            if out.pos > begin:
                url = src[close + 2:url_end]
                entities.append({"type": "text_link", "offset": begin, "length": out.pos - begin, "url": url})
            i = url_end + 1
        else:
            out.add(ch)
            i += 1
    return out.value(), entities


def parse_formatted(
    text: str, parse_mode: str | None, entities: list[Json] | None = None, *, strict_ampersand: bool = True
) -> tuple[str, list[Json]]:
    """Turn text + parse_mode into (visible text, entities) the way Telegram does, trimmed like Telegram."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        plain, found = _parse_html(text, strict_ampersand)
    elif mode == "markdownv2":
        plain, found = _parse_markdown_v2(text)
    elif mode == "markdown":
        plain, found = _parse_markdown_legacy(text)
    elif mode == "":
        plain, found = text, list(entities or [])
    else:
        raise _bad("unsupported parse_mode")
    # Telegram strips leading and trailing whitespace and moves the entities with the text.
    stripped = plain.strip()
    lead = _utf16_len(plain[: len(plain) - len(plain.lstrip())])
    size = _utf16_len(stripped)
    trimmed = []
    for entity in sorted(found, key=lambda e: (e["offset"], -e["length"])):
        begin = max(0, entity["offset"] - lead)
        end = min(size, entity["offset"] + entity["length"] - lead)
        if end > begin:
            trimmed.append({**entity, "offset": begin, "length": end - begin})
    return stripped, trimmed


def _tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid grey PNG, so photo updates carry real image bytes without needing Pillow."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        from PIL import Image
    except ImportError:  # without Pillow the fake cannot check images; assume a square
        return 512, 512
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        raise _bad("IMAGE_PROCESS_FAILED") from None


def _scaled(width: int, height: int, box: int) -> tuple[int, int]:
    if max(width, height) <= box:
        return width, height
    ratio = box / max(width, height)
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def _coerce(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            what = "reply keyboard markup" if key == "reply_markup" else key
            raise _bad(f"can't parse {what} JSON object") from None
    if key in _INT_PARAMS:
        try:
            return int(value)
        except ValueError:
            if key == "chat_id" and value.startswith("@"):
                return value
            raise _bad("chat not found" if key.endswith("chat_id") else f"invalid {key} specified") from None
    if key in _FLOAT_PARAMS:
        try:
            return float(value)
        except ValueError:
            raise _bad(f"invalid {key} specified") from None
    if key in _BOOL_PARAMS:
        return value.strip().lower() in ("true", "1")
    return value


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


# --------------------------------------------------------------------------- server


class FakeTelegram:
    """The fake Bot API server. Use `await start()` / `await stop()` or `async with`."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        username: str = "ReferralTestBot",
        first_name: str = "Referral Test Bot",
        flood: bool | FloodLimits = False,
        strict_chats: bool = False,
        strict_ampersand: bool = True,
        max_poll_timeout: float = MAX_POLL_TIMEOUT,
    ) -> None:
        """
        flood: True for Telegram's default limits, a FloodLimits for others, False for none.
        strict_chats: when True, only chats the fake has seen (in pushed updates or via
            add_chat/add_user) exist; otherwise any positive id is a private chat.
        strict_ampersand: refuse a bare '&' in HTML (Telegram itself keeps it literally).
        """
        match = re.fullmatch(r"(\d+):[A-Za-z0-9_-]+", token)
        if match is None:
            raise ValueError(f"not a bot token: {token!r} (expected '<digits>:<secret>')")
        self.token = token
        self.username = username
        self.bot_id = int(match.group(1))
        self.bot_user: Json = {
            "id": self.bot_id, "is_bot": True, "first_name": first_name, "username": username,
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": True,
            "can_connect_to_business": False, "has_main_web_app": False,
        }
        limits = FloodLimits() if flood is True else (flood or None)
        self._flood = _FloodGate(limits) if limits else None
        self.strict_chats = strict_chats
        self.strict_ampersand = strict_ampersand
        self.max_poll_timeout = max_poll_timeout

        self.calls: list[Call] = []
        self.updates: list[Json] = []  # every update pushed or posted, in order
        self.callback_answers: list[Json] = []
        self.inline_answers: list[Json] = []
        self.invite_links: list[Json] = []
        self.internal_errors: list[BaseException] = []  # bugs in the fake itself, answered with 500
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_errors: list[str] = []

        self._queue: list[_Queued] = []
        self._offset = 0  # updates below it were confirmed by the bot
        self._last_update_id = 0
        self._allowed_updates: frozenset[str] | None = None  # None: Telegram's default selection
        self._poll_generation = 0
        self._messages: dict[tuple[int, int], Json] = {}
        self._last_message_id: dict[int, int] = defaultdict(int)
        self._chats: dict[int, Json] = {}
        self._users: dict[int, Json] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._rights: dict[tuple[int, int], Json] = {}  # an admin's rights that differ from "all granted"
        self._blocked: set[int] = set()
        self._never_started: set[int] = set()  # users who have not opened a private chat with the bot
        self._upgraded: dict[int, int] = {}  # a basic group's id -> its supergroup's, after an upgrade
        self._files: dict[str, _StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._query_seq = itertools.count(4_200_000_001)
        self._open_queries: dict[str, str] = {}  # query id -> "callback" | "inline", until answered
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._failures: dict[str, deque[TelegramError]] = defaultdict(deque)
        self._cursors: dict[int | str, int] = {}
        self._wake = asyncio.Event()  # set (and replaced) whenever pollers or the webhook worker should look again
        self._calls_changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.port = 0
        self.base_url = ""
        self._methods: dict[str, tuple[str, Callable[..., Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me, "logOut": self._true, "close": self._true,
                "getUpdates": self._get_updates, "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook, "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands, "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message, "sendPhoto": self._send_photo,
                "sendDocument": self._send_document, "copyMessage": self._copy_message,
                "editMessageText": self._edit_message_text, "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup, "deleteMessage": self._delete_message,
                "sendChatAction": self._send_chat_action, "answerCallbackQuery": self._answer_callback_query,
                "answerInlineQuery": self._answer_inline_query, "createChatInviteLink": self._create_invite_link,
                "getChat": self._get_chat, "getChatMember": self._get_chat_member,
                "getChatMemberCount": self._get_chat_member_count, "getFile": self._get_file,
                "setMyDescription": self._true, "setMyShortDescription": self._true,
                "setChatMenuButton": self._true,
            }.items()
        }

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> FakeTelegram:
        if self._runner is not None:
            raise RuntimeError("FakeTelegram already started")
        self._closing = False
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a long poll whose client went away (a killed bot) ends at once.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        return self

    async def stop(self) -> None:
        self._closing = True
        self._notify_pollers()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params, uploads = await self._read_params(request)
        except TelegramError as error:
            call = self._record(Call(len(self.calls), method, {}, time.time()))
            self._complete(call, error.status, error.body())
        else:
            if request.match_info["token"] != self.token:
                call = self._record(Call(len(self.calls), method, params, time.time()))
                self._complete(call, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            else:
                call = await self._dispatch(method, params, uploads)
        assert call.status is not None and call.response is not None
        return web.json_response(call.response, status=call.status, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type=stored.mime_type)
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def _read_params(self, request: web.Request) -> tuple[Json, Uploads]:
        raw: Json = dict(request.query)
        uploads: Uploads = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad("can't parse JSON object") from None
                if not isinstance(body, dict):
                    raise _bad("JSON object expected")
                raw.update(body)
            else:  # application/x-www-form-urlencoded or multipart/form-data
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        uploads[key] = _Upload(
                            value.filename or key, value.file.read(), value.content_type or "application/octet-stream"
                        )
                    else:
                        raw[key] = value
        return {key: _coerce(key, value) for key, value in raw.items()}, uploads

    async def _dispatch(
        self, method: str, params: Json, uploads: Uploads, source: str = "http"
    ) -> Call:
        entry = self._methods.get(method.lower())
        call = Call(
            index=len(self.calls), method=entry[0] if entry else method, params=params, timestamp=time.time(),
            uploads={name: upload.filename for name, upload in uploads.items()}, source=source,
        )
        self._record(call)  # at arrival, so waiters see a long poll as soon as it starts
        try:
            if entry is None:
                raise TelegramError(404, "Not Found")
            if self._failures[call.method]:
                raise self._failures[call.method].popleft()
            result = entry[1](call, params, uploads)
            if inspect.isawaitable(result):
                result = await result
            self._complete(call, 200, {"ok": True, "result": result})
        except TelegramError as error:
            self._complete(call, error.status, error.body())
        except asyncio.CancelledError:
            self._complete(call, 499, {"ok": False, "error_code": 499, "description": "client went away"})
            raise
        except Exception as exc:  # a bug in the fake: answer like a server fault and keep it for the tests
            log.exception("FakeTelegram failed on %s", call.method)
            self.internal_errors.append(exc)
            body = {"ok": False, "error_code": 500, "description": f"Internal Server Error: {exc!r}"}
            self._complete(call, 500, body)
        return call

    def _record(self, call: Call) -> Call:
        self.calls.append(call)
        self._notify_calls()
        return call

    def _complete(self, call: Call, status: int, body: Json) -> None:
        # A snapshot: later edits of the same message must not rewrite what this call returned.
        call.status, call.response = status, copy.deepcopy(body)
        self._notify_calls()

    def _notify_calls(self) -> None:
        self._calls_changed.set()
        self._calls_changed = asyncio.Event()

    def _notify_pollers(self) -> None:
        self._wake.set()
        self._wake = asyncio.Event()

    # ----------------------------------------------------------------- updates

    def push_update(self, update: Json) -> Json:
        """Queue an update for the bot; assigns update_id (in place) if missing. Returns the update."""
        kinds = [key for key in update if key != "update_id"]
        if len(kinds) != 1:
            raise ValueError(f"an update carries exactly one payload, got {kinds}")
        if "update_id" not in update:
            self._last_update_id += 1
            update["update_id"] = self._last_update_id
        else:
            self._last_update_id = max(self._last_update_id, update["update_id"])
        self._learn(update)
        self.updates.append(copy.deepcopy(update))
        self._queue.append(_Queued(copy.deepcopy(update)))
        self._wake_delivery()
        return update

    def redeliver(self, update: Json) -> Json:
        """Deliver the very same update (same update_id) again, as Telegram may after a crash."""
        if "update_id" not in update:
            raise ValueError("redeliver() needs an update that was pushed before (it has no update_id)")
        self.updates.append(copy.deepcopy(update))
        self._queue.append(_Queued(copy.deepcopy(update), forced=True))
        self._wake_delivery()
        return update

    def _wake_delivery(self) -> None:
        self._notify_pollers()
        if self.webhook_url and (self._webhook_task is None or self._webhook_task.done()) and not self._closing:
            self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_worker())

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self._queue = self._queue[offset:]
            return
        if offset > 0:
            self._offset = offset
            self._queue = [q for q in self._queue if q.update_id >= offset or (q.forced and not q.delivered)]

    def _allowed(self, kind: str) -> bool:
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed_updates

    def _take_batch(self, limit: int) -> list[Json]:
        self._queue = [q for q in self._queue if self._allowed(q.kind)]  # Telegram never sends what was not asked for
        batch = []
        for queued in self._queue:
            if len(batch) >= limit:
                break
            if queued.forced and not queued.delivered:
                queued.delivered = True
            elif queued.update_id < self._offset:
                continue
            batch.append(copy.deepcopy(queued.update))
        return batch

    async def _get_updates(self, call: Call, p: Params, uploads: Uploads) -> list[Json]:
        if self.webhook_url:
            raise TelegramError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                     "use deleteWebhook to delete the webhook first")
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        timeout = min(max(float(p.get("timeout") or 0), 0.0), self.max_poll_timeout)
        allowed = p.get("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise _bad("can't parse allowed_updates JSON object")
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._confirm(int(p.get("offset") or 0))
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify_pollers()  # an older poll still waiting learns it was superseded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise TelegramError(409, "Conflict: terminated by other getUpdates request; "
                                         "make sure that only one bot instance is running")
            batch = self._take_batch(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                return batch
            wake = self._wake
            try:
                await asyncio.wait_for(wake.wait(), remaining)
            except TimeoutError:
                pass

    # ----------------------------------------------------------------- webhooks

    def _set_webhook(self, call: Call, p: Params, uploads: Uploads) -> bool:
        url = str(p.get("url") or "")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        if url and not re.match(r"https?://", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if p.get("drop_pending_updates"):
            self._queue.clear()
        if p.get("allowed_updates") is not None:
            self._allowed_updates = frozenset(p["allowed_updates"]) or None
        self.webhook_url, self.webhook_secret = url, (str(secret) if secret else None)
        self._poll_generation += 1  # a waiting long poll ends with a conflict, as on Telegram
        self._wake_delivery()
        return True

    def _delete_webhook(self, call: Call, p: Params, uploads: Uploads) -> bool:
        if p.get("drop_pending_updates"):
            self._queue.clear()
        self.webhook_url, self.webhook_secret = "", None
        self._notify_pollers()
        return True

    def _get_webhook_info(self, call: Call, p: Params, uploads: Uploads) -> Json:
        info: Json = {
            "url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": len(self._queue)
        }
        if self.webhook_url:
            info["max_connections"] = 40
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
            if self.webhook_errors:
                info["last_error_date"] = int(time.time())
                info["last_error_message"] = self.webhook_errors[-1]
        return info

    async def _webhook_worker(self) -> None:
        # Deliveries are sequential (Telegram may use up to max_connections in parallel).
        async with ClientSession(timeout=ClientTimeout(total=30)) as session:
            while self.webhook_url and not self._closing:
                wake = self._wake
                queued = next((q for q in self._queue if self._allowed(q.kind)), None)
                if queued is None:
                    self._queue = [q for q in self._queue if self._allowed(q.kind)]
                    await wake.wait()
                    continue
                status = await self._post_update(session, self.webhook_url, queued.update, self.webhook_secret)
                if not 200 <= status < 300:
                    queued.attempts += 1
                    self.webhook_errors.append(f"Wrong response from the webhook: {status}")
                if 200 <= status < 300 or queued.attempts >= 3:
                    self._queue.remove(queued)
                    self._notify_calls()
                else:
                    await asyncio.sleep(0.05 * 2**queued.attempts)  # Telegram backs off before retrying

    async def post_webhook(self, url: str, update: Json, secret_token: str | None = None) -> int:
        """POST one update to a webhook, as Telegram would; returns the HTTP status (0 if unreachable)."""
        if "update_id" not in update:
            self._last_update_id += 1
            update["update_id"] = self._last_update_id
        self._learn(update)
        self.updates.append(copy.deepcopy(update))
        async with ClientSession(timeout=ClientTimeout(total=30)) as session:
            return await self._post_update(session, url, update, secret_token)

    async def _post_update(self, session: ClientSession, url: str, update: Json, secret: str | None) -> int:
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        try:
            async with session.post(url, data=_dumps(update), headers=headers) as resp:
                body = await resp.read()
                status = resp.status
        except (ClientError, asyncio.TimeoutError) as exc:
            self.webhook_errors.append(f"Connection failed: {exc!r}")
            return 0
        # A webhook may answer with a method call in its response body; Telegram executes it.
        if 200 <= status < 300 and body:
            try:
                reply = json.loads(body)
            except ValueError:
                reply = None
            if isinstance(reply, dict) and isinstance(reply.get("method"), str):
                params = {k: _coerce(k, v) for k, v in reply.items() if k != "method"}
                await self._dispatch(reply["method"], params, {}, source="webhook-reply")
        return status

    # ----------------------------------------------------------------- chats and users

    def _learn(self, update: Json) -> None:
        """Remember the users, chats, messages and open queries an update introduces."""
        payload = next(v for k, v in update.items() if k != "update_id")
        if not isinstance(payload, dict):
            return
        for key in ("from", "user"):
            if isinstance(payload.get(key), dict):
                self._users.setdefault(payload[key]["id"], payload[key])
        if isinstance(payload.get("chat"), dict):
            self._chats.setdefault(payload["chat"]["id"], payload["chat"])
        message = payload.get("message") if "callback_query" in update else payload
        if isinstance(message, dict) and "message_id" in message and "chat" in message:
            chat_id = message["chat"]["id"]
            if message["chat"].get("type") == "private" and "callback_query" not in update:
                self._never_started.discard(chat_id)  # writing to the bot opens the chat (Start)
            self._chats.setdefault(chat_id, message["chat"])
            self._messages.setdefault((chat_id, message["message_id"]), copy.deepcopy(message))
            self._last_message_id[chat_id] = max(self._last_message_id[chat_id], message["message_id"])
        if "callback_query" in update:
            self._open_queries.setdefault(str(payload["id"]), "callback")
        elif "inline_query" in update:
            self._open_queries.setdefault(str(payload["id"]), "inline")

    def add_user(self, user: TgUser) -> None:
        """Make a user known (helpers that build updates do this themselves)."""
        self._users[user.id] = user.to_dict()
        self._chats[user.id] = user.private_chat()

    def add_chat(self, chat: Json) -> None:
        self._chats[chat["id"]] = dict(chat)

    def block(self, user_id: int) -> None:
        """From now on, sending to this user answers 403 'bot was blocked by the user'."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def never_started(self, user_id: int) -> None:
        """This user has never opened a private chat with the bot: sending to them answers 403
        "bot can't initiate conversation with a user", until they write to the bot privately.
        (Opt-in: otherwise any user id is a private chat the bot may write to.)"""
        self._never_started.add(user_id)

    def set_member(self, chat_id: int, user_id: int, status: str, rights: Json | None = None) -> None:
        """creator | administrator | member | restricted | left | kicked (the bot's own id works too).

        rights: an administrator's (or restricted member's) rights that differ from the default, e.g.
        {"can_invite_users": False} for an admin without "Invite users via link".
        """
        self._members[(chat_id, user_id)] = status
        self._rights[(chat_id, user_id)] = dict(rights or {})

    def _resolve_chat(self, chat_id: int | str) -> Json:
        if isinstance(chat_id, str):
            for chat in self._chats.values():
                if chat.get("username") and f"@{chat['username']}".lower() == chat_id.lower():
                    return chat
            raise _bad("chat not found")
        if chat_id in self._chats:
            return self._chats[chat_id]
        if chat_id > 0 and not self.strict_chats:
            user = self._users.get(chat_id, {"first_name": f"User{chat_id}"})
            chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            for key in ("last_name", "username"):
                if key in user:
                    chat[key] = user[key]
            self._chats[chat_id] = chat
            return chat
        raise _bad("chat not found")

    def _live_chat(self, chat_id: int | str) -> Json:
        """A chat the bot may act in: a group upgraded to a supergroup is gone, its new id named."""
        chat = self._resolve_chat(chat_id)
        if chat["id"] in self._upgraded:
            raise TelegramError(400, UPGRADED, migrate_to_chat_id=self._upgraded[chat["id"]])
        return chat

    def _target_chat(self, p: Params) -> Json:
        """The chat a sending or editing method addresses, refused if the bot may not write there."""
        if p.get("chat_id") in (None, ""):
            raise _bad("chat_id is empty")
        chat = self._live_chat(p["chat_id"])
        if chat["type"] == "private" and chat["id"] in self._blocked:
            raise TelegramError(403, BLOCKED)
        if chat["type"] == "private" and chat["id"] in self._never_started:
            raise TelegramError(403, CANT_INITIATE)
        if chat["type"] != "private":
            status = self._members.get((chat["id"], self.bot_id))
            if status == "kicked":
                raise TelegramError(403, f"Forbidden: bot was kicked from the {chat['type']} chat")
            if status == "left":
                raise TelegramError(403, f"Forbidden: bot is not a member of the {chat['type']} chat")
        return chat

    def _user_dict(self, user_id: int) -> Json:
        if user_id == self.bot_id:
            return {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
        return self._users.get(user_id, {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"})

    def _member_dict(self, status: str, user: Json, rights: Json | None = None) -> Json:
        member: Json = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(dict.fromkeys((
                "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
                "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
                "can_delete_stories", "can_pin_messages",
            ), True))
            member.update(
                can_be_edited=False, is_anonymous=False, can_promote_members=False, can_send_welcome_messages=False
            )
        elif status == "restricted":
            member.update(dict.fromkeys((
                "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
                "can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
                "can_add_web_page_previews", "can_react_to_messages", "can_edit_tag", "can_change_info",
                "can_invite_users", "can_pin_messages", "can_manage_topics",
            ), False))
            member.update(is_member=True, until_date=0)
        elif status == "kicked":
            member["until_date"] = 0
        if status in ("administrator", "restricted") and rights:
            member.update({key: value for key, value in rights.items() if key in member})
        return member

    def _can_invite(self, chat: Json, user_id: int) -> bool:
        """Whether this member may create invite links: the creator, or an admin with can_invite_users."""
        status = self._member_status(chat, user_id)
        if status == "creator":
            return True
        rights = self._rights.get((chat["id"], user_id), {})
        return status == "administrator" and rights.get("can_invite_users", True)

    def _member_status(self, chat: Json, user_id: int) -> str:
        if (chat["id"], user_id) in self._members:
            return self._members[(chat["id"], user_id)]
        if chat["type"] == "private":
            return "member" if user_id in (chat["id"], self.bot_id) else "left"
        return "administrator" if user_id == self.bot_id else "left"

    # ----------------------------------------------------------------- messages

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] += 1
        return self._last_message_id[chat_id]

    def _markup(self, p: Params) -> Json | None:
        """Validate reply_markup like Telegram; returns what a Message echoes (inline keyboards only)."""
        markup = p.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            for key in ("keyboard", "remove_keyboard", "force_reply"):
                if key in markup:
                    return None
            raise _bad("can't parse reply keyboard markup JSON object")
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        if sum(len(row) for row in rows) > 100:
            raise _bad("reply markup is too long")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad("can't parse inline keyboard button: Field \"text\" must be of type String")
                if not any(key in button for key in _BUTTON_ACTIONS):
                    raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                        raise _bad("BUTTON_DATA_INVALID")
                if "url" in button and not re.match(r"(https?|tg)://\S+$", str(button["url"])):
                    raise _bad("BUTTON_URL_INVALID")
        return {"inline_keyboard": [[dict(b) for b in row] for row in rows]}

    def _format(self, p: Params, key: str, *, limit: int, too_long: str, required: bool) -> tuple[str, list[Json]]:
        raw = p.get(key)
        if raw is None or raw == "":
            if required:
                raise _bad("message text is empty")
            return "", []
        entity_key = "entities" if key == "text" else f"{key}_entities"
        plain, entities = parse_formatted(
            str(raw), p.get("parse_mode"), p.get(entity_key), strict_ampersand=self.strict_ampersand
        )
        if required and not plain:
            raise _bad("message text is empty")
        if _utf16_len(plain) > limit:
            raise _bad(too_long)
        return plain, entities

    def _caption(self, p: Params) -> Json:
        caption, entities = self._format(
            p, "caption", limit=MAX_CAPTION_LENGTH, too_long="message caption is too long", required=False
        )
        content: Json = {}
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return content

    def _reply_to(self, chat: Json, p: Params) -> Json:
        reply = p.get("reply_parameters") or {}
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        message_id = message_id or p.get("reply_to_message_id")
        if not message_id:
            return {}
        original = self._messages.get((chat["id"], int(message_id)))
        if original is None:
            if p.get("allow_sending_without_reply") or (reply or {}).get("allow_sending_without_reply"):
                return {}
            raise _bad("message to be replied not found")
        return {"reply_to_message": {k: v for k, v in original.items() if k != "reply_to_message"}}

    def _admit(self, chat: Json) -> None:
        if self._flood is not None:
            self._flood.admit(chat["id"], chat["type"] == "private")

    def _new_message(self, call: Call, chat: Json, content: Json, markup: Params | None) -> Json:
        message: Json = {
            "message_id": self._next_message_id(chat["id"]), "from": self._user_dict(self.bot_id),
            "chat": dict(chat), "date": int(time.time()), **content,
        }
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        call.message = copy.deepcopy(message)
        return message

    def _send_message(self, call: Call, p: Params, uploads: Uploads) -> Json:
        chat = self._target_chat(p)
        text, entities = self._format(p, "text", limit=MAX_TEXT_LENGTH, too_long="message is too long", required=True)
        content: Json = {"text": text}
        if entities:
            content["entities"] = entities
        markup = self._markup(p)
        content.update(self._reply_to(chat, p))
        self._admit(chat)
        return self._new_message(call, chat, content, markup)

    def _input_file(self, p: Params, uploads: Uploads, key: str) -> _StoredFile:
        value = p.get(key)
        upload = uploads.get(key)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://"):])
            if upload is None:
                raise _bad(WRONG_FILE)
        if upload is not None:
            return self._store_upload(upload, key)
        if not value:
            raise _bad(f"there is no {key} in the request")
        stored = self._files.get(str(value))
        if stored is None:  # includes URLs: the fake never fetches anything
            raise _bad(WRONG_FILE)
        if stored.kind != key:
            raise _bad(f"can't use file of type {stored.kind.capitalize()} as {key.capitalize()}")
        return stored

    def _store_upload(self, upload: _Upload, kind: str) -> _StoredFile:
        if not upload.data:
            raise _bad("file must be non-empty")
        seq = next(self._file_seq)
        if kind == "photo":
            if len(upload.data) > MAX_PHOTO_BYTES:
                raise _bad("PHOTO_INVALID_DIMENSIONS")
            width, height = _image_size(upload.data)
            stored = _StoredFile(f"photo-{seq}", f"uphoto{seq}", "photo", upload.data, upload.filename,
                                 mimetypes.guess_type(upload.filename)[0] or "image/jpeg", width, height)
            thumb = _StoredFile(f"{stored.file_id}-s", f"{stored.file_unique_id}s", "photo", upload.data,
                                upload.filename, stored.mime_type, *_scaled(width, height, 90))
            self._files[thumb.file_id] = thumb
        else:
            if len(upload.data) > MAX_UPLOAD_BYTES:
                raise TelegramError(413, "Request Entity Too Large")
            mime = upload.content_type
            if mime in ("", "application/octet-stream"):
                mime = mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
            stored = _StoredFile(f"document-{seq}", f"udoc{seq}", "document", upload.data, upload.filename, mime)
        self._files[stored.file_id] = stored
        return stored

    def _photo_sizes(self, stored: _StoredFile) -> list[Json]:
        sizes = []
        thumb = self._files.get(f"{stored.file_id}-s")
        for item in (thumb, stored):
            if item is not None:
                width, height = _scaled(item.width, item.height, 90 if item is thumb else 1280)
                sizes.append({"file_id": item.file_id, "file_unique_id": item.file_unique_id,
                              "width": width, "height": height, "file_size": len(item.data)})
        return sizes

    def _send_photo(self, call: Call, p: Params, uploads: Uploads) -> Json:
        chat = self._target_chat(p)
        stored = self._input_file(p, uploads, "photo")
        content: Json = {"photo": self._photo_sizes(stored), **self._caption(p)}
        markup = self._markup(p)
        content.update(self._reply_to(chat, p))
        self._admit(chat)
        return self._new_message(call, chat, content, markup)

    def _send_document(self, call: Call, p: Params, uploads: Uploads) -> Json:
        chat = self._target_chat(p)
        stored = self._input_file(p, uploads, "document")
        document = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_name": stored.filename,
                    "mime_type": stored.mime_type, "file_size": len(stored.data)}
        content: Json = {"document": document, **self._caption(p)}
        markup = self._markup(p)
        content.update(self._reply_to(chat, p))
        self._admit(chat)
        return self._new_message(call, chat, content, markup)

    def _copy_message(self, call: Call, p: Params, uploads: Uploads) -> Json:
        chat = self._target_chat(p)
        source_chat = self._resolve_chat(p.get("from_chat_id") or 0)
        original = self._messages.get((source_chat["id"], int(p.get("message_id") or 0)))
        if original is None:
            raise _bad("message to copy not found")
        kinds = ("text", "entities", "photo", "document", "sticker", "caption", "caption_entities")
        content = {k: copy.deepcopy(original[k]) for k in kinds if k in original}
        if not content:
            raise _bad("message can't be copied")
        if "caption" in p and "text" not in content:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._caption(p))
        markup = self._markup(p)
        self._admit(chat)
        message = self._new_message(call, chat, content, markup)
        return {"message_id": message["message_id"]}

    def _editable(self, p: Params) -> tuple[Json, Json] | None:
        """The (chat, message) an edit addresses; None for inline messages, which the fake does not track."""
        if p.get("inline_message_id"):
            return None
        chat = self._target_chat(p)
        message = self._messages.get((chat["id"], int(p.get("message_id") or 0)))
        if message is None:
            raise _bad("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        return chat, message

    def _apply_edit(self, call: Call, message: Json, changes: Json, markup: Params | None) -> Json:
        keys = set(changes) | {"reply_markup"}
        before = {k: message.get(k) for k in keys}
        after = {**{k: v or None for k, v in changes.items()}, "reply_markup": markup}
        if before == after:
            raise _bad(NOT_MODIFIED)
        for key, value in after.items():
            if value:
                message[key] = value
            else:
                message.pop(key, None)
        message["edit_date"] = int(time.time())
        call.message = copy.deepcopy(message)
        return message

    def _edit_message_text(self, call: Call, p: Params, uploads: Uploads) -> Json | bool:
        target = self._editable(p)
        text, entities = self._format(p, "text", limit=MAX_TEXT_LENGTH, too_long="message is too long", required=True)
        markup = self._markup(p)
        if target is None:
            return True
        _, message = target
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        return self._apply_edit(call, message, {"text": text, "entities": entities}, markup)

    def _edit_message_caption(self, call: Call, p: Params, uploads: Uploads) -> Json | bool:
        target = self._editable(p)
        content = self._caption(p)
        markup = self._markup(p)
        if target is None:
            return True
        _, message = target
        if "text" in message:
            raise _bad("there is no caption in the message to edit")
        changes = {"caption": content.get("caption"), "caption_entities": content.get("caption_entities")}
        return self._apply_edit(call, message, changes, markup)

    def _edit_message_reply_markup(self, call: Call, p: Params, uploads: Uploads) -> Json | bool:
        target = self._editable(p)
        markup = self._markup(p)
        if target is None:
            return True
        return self._apply_edit(call, target[1], {}, markup)

    def _delete_message(self, call: Call, p: Params, uploads: Uploads) -> bool:
        chat = self._resolve_chat(p.get("chat_id") or 0)
        if self._messages.pop((chat["id"], int(p.get("message_id") or 0)), None) is None:
            raise _bad("message to delete not found")
        return True

    def _send_chat_action(self, call: Call, p: Params, uploads: Uploads) -> bool:
        self._target_chat(p)
        if p.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    # ----------------------------------------------------------------- queries, commands, chats

    def _answer_callback_query(self, call: Call, p: Params, uploads: Uploads) -> bool:
        query_id = str(p.get("callback_query_id") or "")
        if self._open_queries.get(query_id) != "callback":
            raise _bad(QUERY_INVALID)
        if len(str(p.get("text") or "")) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        del self._open_queries[query_id]  # a query is answered once; the second answer is refused
        keys = ("callback_query_id", "text", "show_alert", "url", "cache_time")
        self.callback_answers.append({k: p[k] for k in keys if k in p})
        return True

    def _answer_inline_query(self, call: Call, p: Params, uploads: Uploads) -> bool:
        query_id = str(p.get("inline_query_id") or "")
        if self._open_queries.get(query_id) != "inline":
            raise _bad(QUERY_INVALID)
        results = p.get("results")
        if not isinstance(results, list):
            raise _bad("can't parse results JSON object")
        if len(results) > 50:
            raise _bad("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or not result.get("type") or "id" not in result:
                raise _bad("can't parse InlineQueryResult")
            result_id = str(result["id"])
            if not 1 <= len(result_id.encode()) <= 64:
                raise _bad("RESULT_ID_INVALID")
            if result_id in seen:
                raise _bad("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            content = result.get("input_message_content")
            if isinstance(content, dict) and "message_text" in content:
                params = {"text": content["message_text"], "parse_mode": content.get("parse_mode"),
                          "entities": content.get("entities")}
                self._format(params, "text", limit=MAX_TEXT_LENGTH, too_long="message is too long", required=True)
            if result.get("caption") is not None:
                self._format({"caption": result["caption"], "parse_mode": result.get("parse_mode")}, "caption",
                             limit=MAX_CAPTION_LENGTH, too_long="message caption is too long", required=False)
            if "reply_markup" in result:
                self._markup({"reply_markup": result["reply_markup"]})
        del self._open_queries[query_id]
        keys = ("inline_query_id", "results", "cache_time", "is_personal", "next_offset", "button")
        self.inline_answers.append({k: p[k] for k in keys if k in p})
        return True

    def _commands_key(self, p: Params) -> tuple[str, str]:
        language = str(p.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad("invalid language code specified")  # Telegram takes ISO 639-1 codes only: "zh", not "zh-CN"
        scope = p.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad("can't parse BotCommandScope JSON object")
        if "chat_id" in scope:
            # A chat's menu needs a chat Telegram knows: a user who never opened the bot has none.
            chat = self._resolve_chat(_coerce("chat_id", scope["chat_id"]))
            if chat["type"] == "private" and chat["id"] in self._never_started:
                raise _bad("chat not found")
            scope = {**scope, "chat_id": chat["id"]}  # "123" and 123 name one chat, as in Telegram
        return json.dumps(scope, sort_keys=True), language

    def _set_my_commands(self, call: Call, p: Params, uploads: Uploads) -> bool:
        key = self._commands_key(p)
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def _get_my_commands(self, call: Call, p: Params, uploads: Uploads) -> list[dict[str, str]]:
        return self._commands.get(self._commands_key(p), [])

    def _delete_my_commands(self, call: Call, p: Params, uploads: Uploads) -> bool:
        self._commands.pop(self._commands_key(p), None)
        return True

    def commands(self, language_code: str = "", scope: Json | None = None) -> list[dict[str, str]]:
        """The commands the bot set for this language and scope (default scope when None)."""
        return self._commands.get((json.dumps(scope or {"type": "default"}, sort_keys=True), language_code), [])

    def menu_shown(self, chat_id: int, app_language: str) -> list[dict[str, str]]:
        """The menu a user whose app speaks `app_language` (ISO 639-1) sees in their private chat
        with the bot: the first list set, in the order the Bot API documents (chat scope, all
        private chats, default; each with the app's language first, then with none)."""
        for scope in ({"type": "chat", "chat_id": chat_id}, {"type": "all_private_chats"}, None):
            for language_code in (app_language, ""):
                found = self.commands(language_code, scope)
                if found:
                    return found
        return []

    def _get_chat(self, call: Call, p: Params, uploads: Uploads) -> Json:
        chat = self._resolve_chat(p.get("chat_id") or 0)
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"), False
        )
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    def _get_chat_member(self, call: Call, p: Params, uploads: Uploads) -> Json:
        chat = self._live_chat(p.get("chat_id") or 0)
        user_id = int(p.get("user_id") or 0)
        if user_id <= 0:
            raise _bad("invalid user_id specified")
        return self._member_dict(self._member_status(chat, user_id), self._user_dict(user_id),
                                 self._rights.get((chat["id"], user_id)))

    def _get_chat_member_count(self, call: Call, p: Params, uploads: Uploads) -> int:
        chat = self._resolve_chat(p.get("chat_id") or 0)
        if chat["type"] == "private":
            return 2
        present = {"creator", "administrator", "member", "restricted"}
        members = [uid for (cid, uid), s in self._members.items() if cid == chat["id"] and s in present]
        return 1 + sum(1 for uid in members if uid != self.bot_id)

    def _create_invite_link(self, call: Call, p: Params, uploads: Uploads) -> Json:
        chat = self._live_chat(p.get("chat_id") or 0)
        if chat["type"] == "private":
            raise _bad("method is available for group, supergroup and channel chats only")
        if not self._can_invite(chat, self.bot_id):  # not an admin, or an admin without "Invite users via link"
            raise TelegramError(400, NO_INVITE_RIGHTS)
        if len(str(p.get("name") or "")) > 32:
            raise _bad("invite link name is too long")
        limit = p.get("member_limit")
        if limit is not None and not 1 <= int(limit) <= 99999:
            raise _bad("member limit must be between 1 and 99999")
        if limit and p.get("creates_join_request"):
            raise _bad("member limit can't be specified for links requiring administrator approval")
        link: Json = {
            "invite_link": f"https://t.me/+{secrets.token_urlsafe(12)}", "creator": self._user_dict(self.bot_id),
            "creates_join_request": bool(p.get("creates_join_request")), "is_primary": False, "is_revoked": False,
        }
        for key in ("name", "expire_date", "member_limit"):
            if p.get(key) is not None:
                link[key] = p[key]
        self.invite_links.append({**link, "chat_id": chat["id"]})
        return link

    def _get_file(self, call: Call, p: Params, uploads: Uploads) -> Json:
        stored = self._files.get(str(p.get("file_id") or ""))
        if stored is None:
            raise _bad("invalid file_id")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}

    def _get_me(self, call: Call, p: Params, uploads: Uploads) -> Json:
        return self.bot_user

    def _true(self, call: Call, p: Params, uploads: Uploads) -> bool:
        return True

    # ----------------------------------------------------------------- test-side: faults and files

    def fail_next(
        self, method: str, status: int = 429, *, retry_after: int | None = None,
        description: str | None = None, times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail with this status, before any other check."""
        entry = self._methods.get(method.lower())
        name = entry[0] if entry else method
        if status == 429:
            retry_after = retry_after or 1
        defaults = {
            400: "Bad Request: injected failure", 403: BLOCKED, 429: f"Too Many Requests: retry after {retry_after}",
            500: "Internal Server Error", 502: "Bad Gateway",
        }
        text = description or defaults.get(status, f"Error {status}")
        for _ in range(times):
            self._failures[name].append(TelegramError(status, text, retry_after))

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes uploaded under this file_id (KeyError if the fake never received it)."""
        return self._files[file_id].data

    def stored_message(self, chat_id: int, message_id: int) -> Json | None:
        """A message as it stands now (after edits), or None if unknown or deleted."""
        message = self._messages.get((chat_id, message_id))
        return copy.deepcopy(message) if message is not None else None

    # ----------------------------------------------------------------- test-side: waiting and reading

    @property
    def pending_updates(self) -> int:
        """Updates pushed but not yet confirmed by the bot (polling) or accepted by its webhook."""
        return len(self._queue)

    async def until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `condition()` holds; it is checked after every API call and webhook delivery."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._calls_changed
            if condition():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition still false after {timeout}s")
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                pass

    def mark(self) -> int:
        """An index for `since=`: only calls made after this moment."""
        return len(self.calls)

    async def wait_for(self, predicate: Callable[[Call], bool], timeout: float = 10.0, since: int = 0) -> Call:
        """The first call at index >= since that matches; raises TimeoutError listing recent calls.

        A long poll is recorded (response None) when it arrives; other calls are seen already answered.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        index = since
        while True:
            changed = self._calls_changed
            while index < len(self.calls):
                call = self.calls[index]
                index += 1
                if predicate(call):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n  ".join(repr(c) for c in self.calls[since:][-15:] if c.method != "getUpdates") or "(none)"
                raise TimeoutError(f"no matching Bot API call within {timeout}s; calls since #{since}:\n  {recent}")
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                pass

    @staticmethod
    def is_message_to(call: Call, chat_id: int | str) -> bool:
        """Whether the call put a message (new, copied or edited) in this chat, successfully."""
        return call.method in MESSAGE_METHODS and call.ok and call.chat_id == chat_id

    def sent_to(self, chat_id: int | str, *, edits: bool = True, since: int = 0) -> list[Call]:
        """Every successful send (and, unless edits=False, edit) to this chat, in order."""
        return [
            c for c in self.calls[since:]
            if self.is_message_to(c, chat_id) and (edits or c.method in SEND_METHODS)
        ]

    async def next_message(self, chat_id: int | str, since: int | None = None, timeout: float = 10.0) -> Call:
        """The next message sent, copied or edited in this chat.

        Successive calls walk forward through the chat's messages; `since` restarts the walk at a call index.
        """
        start = self._cursors.get(chat_id, 0) if since is None else since
        call = await self.wait_for(lambda c: self.is_message_to(c, chat_id), timeout=timeout, since=start)
        self._cursors[chat_id] = call.index + 1
        return call

    async def assert_no_message(self, chat_id: int | str, within: float = 0.5, since: int | None = None) -> None:
        """Fail if anything is sent or edited in this chat within `within` seconds."""
        start = self.mark() if since is None else since
        try:
            call = await self.wait_for(lambda c: self.is_message_to(c, chat_id), timeout=within, since=start)
        except TimeoutError:
            return
        raise AssertionError(f"expected no message to {chat_id}, got {call!r}")

    # ----------------------------------------------------------------- test-side: building updates

    def _now(self) -> int:
        return int(time.time())

    def _chat_for(self, user: TgUser, chat: Json | int | None) -> Json:
        self.add_user(user)
        if chat is None:
            return self._chats.get(user.id) or user.private_chat()
        if isinstance(chat, int):
            return self.group_chat(chat) if chat < 0 else self._resolve_chat(chat)
        self._chats.setdefault(chat["id"], dict(chat))
        return dict(chat)

    def _user_message(self, user: TgUser, chat: Json, **content: Any) -> Json:
        message = {"message_id": self._next_message_id(chat["id"]), "from": user.to_dict(), "chat": chat,
                   "date": self._now(), **content}
        self._messages[(chat["id"], message["message_id"])] = copy.deepcopy(message)
        if chat["type"] != "private":
            self._members.setdefault((chat["id"], user.id), "member")
        return message

    def group_chat(self, chat_id: int, title: str | None = None) -> Json:
        """A group (or, for ids below -10**12, a supergroup) chat, registered with the fake."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if chat_id not in self._chats:
            kind = "supergroup" if chat_id < -10**12 else "group"
            self._chats[chat_id] = {"id": chat_id, "type": kind, "title": title or f"Group {-chat_id}"}
        return dict(self._chats[chat_id])

    def message(
        self, user: TgUser, text: str, chat: Json | int | None = None, *,
        entities: list[Json] | None = None, reply_to: Json | Call | None = None,
    ) -> Json:
        """A `message` update; a private chat unless `chat` is given; '/command' gets its bot_command entity."""
        chat_dict = self._chat_for(user, chat)
        content: Json = {"text": text}
        if entities is None and (match := _COMMAND.match(text)):
            entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(match.group(0))}]
        if entities:
            content["entities"] = entities
        if reply_to is not None:
            original = reply_to.message if isinstance(reply_to, Call) else reply_to
            if original is None:
                raise ValueError("reply_to has no message")
            content["reply_to_message"] = {k: v for k, v in original.items() if k != "reply_to_message"}
        return {"message": self._user_message(user, chat_dict, **content)}

    def group_message(self, user: TgUser, chat_id: int, text: str, *, title: str | None = None) -> Json:
        return self.message(user, text, self.group_chat(chat_id, title))

    def sticker(self, user: TgUser, chat: Json | int | None = None, emoji: str = "👍") -> Json:
        seq = next(self._file_seq)
        file_id = f"sticker-{seq}"
        self._files[file_id] = _StoredFile(
            file_id, f"usticker{seq}", "sticker", b"", "sticker.webp", "image/webp", 512, 512
        )
        sticker = {"file_id": file_id, "file_unique_id": f"usticker{seq}", "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "emoji": emoji}
        return {"message": self._user_message(user, self._chat_for(user, chat), sticker=sticker)}

    def photo_message(
        self, user: TgUser, caption: str | None = None, chat: Json | int | None = None, data: bytes | None = None
    ) -> Json:
        """A photo a user sends; its bytes (a tiny PNG unless given) are retrievable by file_id."""
        stored = self._store_upload(_Upload("photo.png", data or _tiny_png(), "image/png"), "photo")
        content: Json = {"photo": self._photo_sizes(stored)}
        if caption:
            content["caption"] = caption
        return {"message": self._user_message(user, self._chat_for(user, chat), **content)}

    def document_message(
        self, user: TgUser, data: bytes, filename: str = "file.txt", caption: str | None = None,
        chat: Json | int | None = None, mime_type: str = "",
    ) -> Json:
        """A file a user sends as a document; getFile and the file URL then serve its bytes."""
        stored = self._store_upload(_Upload(filename, data, mime_type), "document")
        document = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_name": filename,
                    "mime_type": stored.mime_type, "file_size": len(data)}
        content: Json = {"document": document}
        if caption:
            content["caption"] = caption
        return {"message": self._user_message(user, self._chat_for(user, chat), **content)}

    def edited_message(
        self, user: TgUser, text: str, message: Json | None = None, chat: Json | int | None = None
    ) -> Json:
        """An `edited_message` update: the user's earlier `message` (a message dict or its update) with new text."""
        if message is not None:
            original = message.get("message", message)
            edited = {**copy.deepcopy(original), "text": text, "edit_date": self._now()}
            edited.pop("entities", None)
        else:
            edited = {**self._user_message(user, self._chat_for(user, chat), text=text), "edit_date": self._now()}
        self._messages[(edited["chat"]["id"], edited["message_id"])] = copy.deepcopy(edited)
        return {"edited_message": edited}

    def callback(
        self, user: TgUser, data: str, message: Json | Call, *, check: bool = True
    ) -> Json:
        """A `callback_query` update for a button on `message` (a Message dict or the Call that sent it).

        With check=True (default) the data must be on one of the message's current buttons, as only a
        real button press can produce it; pass check=False to forge arbitrary data.
        """
        original = message.message if isinstance(message, Call) else message
        if original is None:
            raise ValueError("callback() needs a message (this call has none)")
        current = self._messages.get((original["chat"]["id"], original["message_id"]), original)
        if check:
            buttons = [b for row in (current.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
            if not any(b.get("callback_data") == data for b in buttons):
                raise ValueError(f"no button with callback_data {data!r} on message {current['message_id']}: {buttons}")
        self.add_user(user)
        query_id = str(next(self._query_seq))
        self._open_queries[query_id] = "callback"
        query = {"id": query_id, "from": user.to_dict(), "chat_instance": str(abs(current["chat"]["id"]) * 7919),
                 "data": data, "message": copy.deepcopy(current)}
        return {"callback_query": query}

    def click(self, user: TgUser, message: Json | Call, text: str) -> Json:
        """A `callback_query` for the inline button labelled `text` (exact match) on `message`."""
        original = message.message if isinstance(message, Call) else message
        if original is None:
            raise ValueError("click() needs a message (this call has none)")
        current = self._messages.get((original["chat"]["id"], original["message_id"]), original)
        buttons = [b for row in (current.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
        for button in buttons:
            if button.get("text") == text:
                if "callback_data" not in button:
                    raise ValueError(f"button {text!r} has no callback_data: {button}")
                return self.callback(user, button["callback_data"], current)
        labels = [b.get("text") for b in buttons]
        raise ValueError(f"no button {text!r} on message {current['message_id']}; buttons: {labels}")

    def inline_query(self, user: TgUser, query: str, offset: str = "", chat_type: str = "private") -> Json:
        self.add_user(user)
        query_id = str(next(self._query_seq))
        self._open_queries[query_id] = "inline"
        return {"inline_query": {"id": query_id, "from": user.to_dict(), "query": query, "offset": offset,
                                 "chat_type": chat_type}}

    def new_chat_members(self, chat_id: int, users: list[TgUser], by: TgUser | None = None) -> Json:
        """A service message: `users` joined the group (added by `by`, or by themselves)."""
        chat = self.group_chat(chat_id)
        for user in users:
            self.add_user(user)
            self._members[(chat_id, user.id)] = "member"
        return {"message": self._user_message(by or users[0], chat, new_chat_members=[u.to_dict() for u in users])}

    def left_chat_member(self, chat_id: int, user: TgUser, by: TgUser | None = None) -> Json:
        chat = self.group_chat(chat_id)
        self._members[(chat_id, user.id)] = "left"
        return {"message": self._user_message(by or user, chat, left_chat_member=user.to_dict())}

    def my_chat_member(
        self, user: TgUser, old: str = "member", new: str = "kicked", chat: Json | int | None = None,
        rights: Json | None = None,
    ) -> Json:
        """The bot's own membership changed: in a private chat, new='kicked' is the user blocking the bot.

        In a group, `user` is who added, promoted or removed the bot; `rights` are the bot's new admin
        rights that differ from all granted (see set_member), e.g. {"can_invite_users": False}.
        """
        chat_dict = self._chat_for(user, chat)
        old_rights = self._rights.get((chat_dict["id"], self.bot_id))
        self.set_member(chat_dict["id"], self.bot_id, new, rights)
        bot = self._user_dict(self.bot_id)
        return {"my_chat_member": {
            "chat": chat_dict, "from": user.to_dict(), "date": self._now(),
            "old_chat_member": self._member_dict(old, bot, old_rights),
            "new_chat_member": self._member_dict(new, bot, rights),
        }}

    def chat_member(
        self, chat_id: int, user: TgUser, old: str = "left", new: str = "member", by: TgUser | None = None,
        invite_link: Json | str | None = None,
    ) -> Json:
        """Another member's status changed (delivered only if the bot asked for chat_member updates).

        invite_link: the link a joiner used, as Telegram sends it (a ChatInviteLink: invite_link, creator,
        name, ...). Pass a link the bot created (an entry of `invite_links`, or its URL) or any link dict.
        """
        chat = self.group_chat(chat_id)
        self.add_user(user)
        self._members[(chat_id, user.id)] = new
        update: Json = {
            "chat": chat, "from": (by or user).to_dict(), "date": self._now(),
            "old_chat_member": self._member_dict(old, user.to_dict()),
            "new_chat_member": self._member_dict(new, user.to_dict()),
        }
        if invite_link is not None:
            update["invite_link"] = self._link_as_sent(invite_link)
        return {"chat_member": update}

    def group_upgraded(self, chat_id: int, new_chat_id: int, by: TgUser) -> tuple[Json, Json]:
        """A basic group becomes a supergroup under a new id (Telegram does so past 200 members, or when
        an admin changes certain settings; `by` is who caused it). Members, their rights and the invite
        links carry over; writing to the old id is refused from now on. Returns the two service messages,
        to push in any order: `migrate_to_chat_id` in the old group, from `by`, and `migrate_from_chat_id`
        in the supergroup, from the anonymous group admin on the supergroup's behalf."""
        old = self.group_chat(chat_id)
        if old["type"] != "group" or new_chat_id > -10**12:
            raise ValueError("only a basic group upgrades, and a supergroup's id is below -10**12")
        new = {"id": new_chat_id, "type": "supergroup", "title": old["title"]}
        self._chats[new_chat_id] = new
        for (chat, user_id), status in list(self._members.items()):
            if chat == chat_id:
                self._members[(new_chat_id, user_id)] = status
                if (chat, user_id) in self._rights:
                    self._rights[(new_chat_id, user_id)] = dict(self._rights[(chat, user_id)])
        for link in self.invite_links:
            if link["chat_id"] == chat_id:
                link["chat_id"] = new_chat_id
        self._upgraded[chat_id] = new_chat_id
        to = self._user_message(by, old, migrate_to_chat_id=new_chat_id)
        anonymous = {"id": ANONYMOUS_ADMIN_ID, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
        from_message = {"message_id": self._next_message_id(new_chat_id), "from": anonymous, "sender_chat": dict(new),
                        "chat": dict(new), "date": self._now(), "migrate_from_chat_id": chat_id}
        self._messages[(new_chat_id, from_message["message_id"])] = copy.deepcopy(from_message)
        return {"message": to}, {"message": from_message}

    def _link_as_sent(self, link: Json | str) -> Json:
        if isinstance(link, str):
            found = next((dict(known) for known in self.invite_links if known["invite_link"] == link), None)
            if found is None:
                raise ValueError(f"the bot created no invite link {link!r}; pass a link dict instead")
            link = found
        keys = ("invite_link", "creator", "creates_join_request", "is_primary", "is_revoked", "name",
                "expire_date", "member_limit", "pending_join_request_count")
        sent = {key: copy.deepcopy(link[key]) for key in keys if key in link}
        sent.setdefault("creator", self._user_dict(self.bot_id))
        for flag in ("creates_join_request", "is_primary", "is_revoked"):
            sent.setdefault(flag, False)
        return sent
