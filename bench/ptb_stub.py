"""python-telegram-bot without the network: a BaseRequest that answers every Bot API call with canned
JSON, and a way to give it to the Applications the product builds.

PTB's Bot sends every call through `telegram.request.BaseRequest.post`, which calls `do_request`
and parses the JSON answer; the stub's `do_request` returns prebuilt bytes (a Message for sends, a
User for getMe, `true` for the rest), so everything above the socket runs: defaults, serialising
the call, parsing the answer into PTB objects. The bare-PTB baseline and the product's runtime use
the same stub.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from contextlib import contextmanager
from typing import Iterator

from telegram.ext import ApplicationBuilder
from telegram.request import BaseRequest, RequestData

from bench.stub import BOT_USERNAME, STUB_FILE_ID


def _ok(result: object) -> bytes:
    return json.dumps({"ok": True, "result": result}).encode()


class StubRequest(BaseRequest):
    """do_request answers from canned payloads and counts calls by Bot API method; no I/O at all."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        now = int(time.time())
        chat = {"id": 1, "type": "private", "first_name": "Stub"}
        self._answers = {
            "sendMessage": _ok({"message_id": 1, "date": now, "chat": chat, "text": "ok"}),
            "sendPhoto": _ok({"message_id": 2, "date": now, "chat": chat, "caption": "ok", "photo": [
                {"file_id": STUB_FILE_ID, "file_unique_id": "stub", "width": 444, "height": 444}]}),
            "getMe": _ok({"id": 123, "is_bot": True, "first_name": "Bench", "username": BOT_USERNAME,
                          "can_join_groups": True, "can_read_all_group_messages": False,
                          "supports_inline_queries": False}),
        }
        self._true = _ok(True)

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: object = None, write_timeout: object = None,
                         connect_timeout: object = None, pool_timeout: object = None) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        self.calls[name] += 1
        return 200, self._answers.get(name, self._true)


@contextmanager
def stubbed_builds(request: StubRequest) -> Iterator[None]:
    """Every Application built inside gets `request` as its Bot's request layer (both of them).

    The product builds its Application in bot.runtime.ptb.runtime.make_application and offers no
    hook for the request object; this adds the builder's own `.request()` and
    `.get_updates_request()` calls to whatever the product configured, for the duration.
    """
    original = ApplicationBuilder.build

    def build(self):  # noqa: ANN001, ANN202
        return original(self.request(request).get_updates_request(request))

    ApplicationBuilder.build = build  # type: ignore[method-assign]
    try:
        yield
    finally:
        ApplicationBuilder.build = original  # type: ignore[method-assign]
