"""Test doubles shared by unit and property tests: a recording Transport and update builders."""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field

import pytest

from bot.context import Document, Incoming
from bot.services.users import TelegramProfile
from bot.transport import BotCommand, Keyboard, Photo, SentMessage


PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def _backends() -> list[str]:
    """The databases the database-backed tests run on: SQLite, plus PostgreSQL when TEST_DATABASE_URL
    is set; TEST_BACKENDS=postgresql narrows a run to PostgreSQL (CI's second run, after an SQLite one)."""
    chosen = [b.strip() for b in os.environ.get("TEST_BACKENDS", "").split(",") if b.strip()]
    if not chosen:
        return ["sqlite"] + (["postgresql"] if PG_URL else [])
    unknown = set(chosen) - {"sqlite", "postgresql"}
    if unknown:
        raise RuntimeError(f"TEST_BACKENDS: unknown backend(s) {sorted(unknown)}; use sqlite and/or postgresql")
    if "postgresql" in chosen and not PG_URL:
        raise RuntimeError("TEST_BACKENDS names postgresql but TEST_DATABASE_URL is not set")
    return chosen


BACKENDS = _backends()
# For tests that make their own in-memory SQLite database: a PostgreSQL-only run has nothing to add.
SQLITE_ONLY = pytest.mark.skipif("sqlite" not in BACKENDS, reason="an SQLite test; TEST_BACKENDS excludes sqlite")

_update_ids = itertools.count(1)
_message_ids = itertools.count(1000)


@dataclass
class Sent:
    method: str
    chat_id: int | None
    text: str | None = None
    keyboard: Keyboard | None = None
    photo: Photo | None = None
    extra: dict = field(default_factory=dict)

    def buttons(self) -> list:
        return [b for row in (self.keyboard or []) for b in row]


class RecordingTransport:
    """Records every call; photos get a fresh file_id like Telegram gives."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.commands: dict[str | None, list[BotCommand]] = {}
        self.chat_commands: dict[tuple[int, str | None], list[BotCommand]] = {}  # (chat_id, language_code)
        self.menu_calls: list[tuple[str, int | None, str | None]] = []  # (method, chat_id, language_code)
        self._files = itertools.count(1)
        self.files: dict[str, bytes] = {}  # what download() serves: put a user's upload here

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    def last(self, chat_id: int) -> Sent:
        return self.to(chat_id)[-1]

    async def send_message(self, chat_id: int, text: str, keyboard: Keyboard | None = None,
                           paid: bool = False) -> SentMessage:
        self.sent.append(Sent("send_message", chat_id, text, keyboard, extra={"paid": paid}))
        return SentMessage(next(_message_ids), chat_id)

    async def copy_message(self, chat_id: int, from_chat_id: int, message_id: int,
                           keyboard: Keyboard | None = None, paid: bool = False) -> SentMessage:
        self.sent.append(Sent("copy_message", chat_id, None, keyboard,
                              extra={"from_chat_id": from_chat_id, "message_id": message_id, "paid": paid}))
        return SentMessage(next(_message_ids), chat_id)

    async def download(self, file_id: str) -> bytes:
        return self.files[file_id]

    async def send_photo(self, chat_id: int, photo: Photo, caption: str | None = None,
                         keyboard: Keyboard | None = None) -> SentMessage:
        self.sent.append(Sent("send_photo", chat_id, caption, keyboard, photo))
        file_id = photo.file_id or f"file-{next(self._files)}"
        return SentMessage(next(_message_ids), chat_id, file_id)

    async def send_document(self, chat_id: int, data: bytes, filename: str, caption: str | None = None,
                            keyboard: Keyboard | None = None) -> SentMessage:
        self.sent.append(Sent("send_document", chat_id, caption, keyboard, extra={"data": data, "filename": filename}))
        return SentMessage(next(_message_ids), chat_id)

    async def edit_message(self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None) -> None:
        self.sent.append(Sent("edit_message", chat_id, text, keyboard, extra={"message_id": message_id}))

    async def answer_callback(self, callback_id: str, text: str | None = None, alert: bool = False) -> None:
        self.sent.append(Sent("answer_callback", None, text, extra={"callback_id": callback_id, "alert": alert}))

    async def set_commands(self, commands: list[BotCommand], language_code: str | None = None,
                           chat_id: int | None = None) -> None:
        self.menu_calls.append(("set_commands", chat_id, language_code))
        if chat_id is None:
            self.commands[language_code] = commands
        else:
            self.chat_commands[(chat_id, language_code)] = commands

    async def delete_commands(self, language_code: str | None = None, chat_id: int | None = None) -> None:
        self.menu_calls.append(("delete_commands", chat_id, language_code))
        if chat_id is None:
            self.commands.pop(language_code, None)
        else:
            self.chat_commands.pop((chat_id, language_code), None)

    def menu_of(self, chat_id: int, language_code: str | None) -> list[str]:
        """The commands this private chat shows an app in that language, as Telegram picks them:
        the chat's own menu for the language, else the chat's own, else the default ones."""
        for found in (self.chat_commands.get((chat_id, language_code)), self.chat_commands.get((chat_id, None)),
                      self.commands.get(language_code), self.commands.get(None)):
            if found is not None:
                return [c.command for c in found]
        return []


def person(uid: int, name: str = "Barbara", lang: str | None = "zh-hans", **kw: object) -> TelegramProfile:
    return TelegramProfile(id=uid, first_name=name, language_code=lang, **kw)  # type: ignore[arg-type]


def message(user: TelegramProfile, text: str | None, *, chat_id: int | None = None, chat_type: str = "private",
            content_type: str = "text", update_id: int | None = None, kind: str = "message",
            document: Document | None = None) -> Incoming:
    return Incoming(
        update_id=update_id if update_id is not None else next(_update_ids), kind=kind, user=user,
        chat_id=chat_id if chat_id is not None else user.id, chat_type=chat_type, text=text,
        content_type=content_type, message_id=next(_message_ids), document=document,
    )


def callback(user: TelegramProfile, data: str, *, message_id: int = 1, update_id: int | None = None) -> Incoming:
    return Incoming(
        update_id=update_id if update_id is not None else next(_update_ids), kind="callback_query", user=user,
        chat_id=user.id, chat_type="private", callback_id=f"cb{next(_message_ids)}", callback_data=data,
        message_id=message_id,
    )


async def pg_admin(database_url: str, statement: str) -> None:
    """Runs one statement on the server's maintenance database (CREATE/DROP DATABASE)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    conn = await asyncpg.connect(host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username,
                                 password=url.password, database="postgres")
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def memory_app(clock, program_toml: str, admin_id: int):  # noqa: ANN001, ANN201
    """An App on an in-memory SQLite database built from the models, its program published: what the
    hypothesis state machines run each example on (a migration per example would dominate them)."""
    from bot.app import App
    from bot.config import load_settings
    from bot.i18n import I18n
    from bot.services.rewards.program import parse_program
    from bot.services.rewards.programs import ProgramBook
    from db.engine import make_engine, make_sessionmaker
    from db.models import Base

    url = "sqlite+aiosqlite:///:memory:"
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    app = App(settings=load_settings(database_url=url, bot_token="1:test", admin_ids=(admin_id,)), engine=engine,
              sessionmaker=make_sessionmaker(engine), i18n=I18n(), clock=clock, program=parse_program(program_toml),
              bot_username="ReferralTestBot")
    async with app.uow() as uow:
        await ProgramBook(app).publish_current(uow, app.program, clock.now())
        await uow.commit()
    return app
