"""bot/runtime/aiogram/lazy_models.py: aiogram's models are built on first use, and every one of them can be.

Each check runs in a fresh interpreter: the deferral has to be installed before aiogram is first
imported, and the test process may have imported it already.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_BUILD_ALL = """
import bot.runtime.aiogram
from bot.runtime.aiogram import lazy_models
from pydantic import BaseModel
from aiogram.types import Message

assert lazy_models._state["completed"]
assert not Message.__pydantic_complete__, "aiogram's types were built at import"
pending, failed, built = list(BaseModel.__subclasses__()), [], 0
while pending:
    cls = pending.pop()
    pending.extend(cls.__subclasses__())
    if not cls.__module__.startswith("aiogram."):
        continue
    try:
        cls.model_rebuild(raise_errors=True)
    except Exception as error:
        failed.append(f"{cls.__module__}.{cls.__qualname__}: {error}")
    else:
        built += 1
        assert cls.__pydantic_complete__, cls
print(built, len(failed))
assert not failed, failed[:5]
"""

_USE = """
import bot.runtime.aiogram
from aiogram.methods import SendPhoto
from aiogram.methods.base import Response
from aiogram.types import Message, Update, User

update = Update.model_validate({"update_id": 7, "callback_query": {
    "id": "q1", "chat_instance": "c", "from": {"id": 5, "is_bot": False, "first_name": "Ann"}, "data": "lang:en",
    "message": {"message_id": 3, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "hi",
                "entities": [{"type": "bold", "offset": 0, "length": 2}]}}})
assert update.callback_query.message.entities[0].type == "bold"
sent = Response[Message].model_validate({"ok": True, "result": {
    "message_id": 9, "date": 1, "chat": {"id": 5, "type": "private"},
    "photo": [{"file_id": "F", "file_unique_id": "U", "width": 1, "height": 1}]}})
assert sent.result.photo[0].file_id == "F"
assert Response[User].model_validate({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "B"}}).result.is_bot
assert SendPhoto(chat_id=5, photo="F", caption="c").caption == "c"
print("ok")
"""


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_every_aiogram_type_and_method_builds_after_a_deferred_import() -> None:
    done = _python(_BUILD_ALL)
    assert done.returncode == 0, done.stderr[-2000:]
    built, failed = map(int, done.stdout.split())
    assert built > 500 and failed == 0  # ~300 types and ~230 methods


def test_updates_answers_and_methods_validate_after_a_deferred_import() -> None:
    done = _python(_USE)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_installing_after_aiogram_is_imported_changes_nothing() -> None:
    done = _python("import aiogram\nfrom bot.runtime.aiogram import lazy_models\n"
                   "from aiogram.types import Message\n"
                   "assert lazy_models.install() is False and lazy_models.complete() == 0\n"
                   "assert Message.__pydantic_complete__\nprint('ok')")
    assert done.returncode == 0, done.stderr[-2000:]
