"""The webhook endpoint, shared by every runtime (aiohttp).

Telegram repeats WEBHOOK_SECRET in X-Telegram-Bot-Api-Secret-Token; anything
without it is refused before the body is read. The update is handled before
answering, so a 200 means "done" and a crash makes Telegram deliver it again.
"""
from __future__ import annotations

import hmac
import json
import logging
from typing import Awaitable, Callable
from urllib.parse import urlparse

from aiohttp import web

log = logging.getLogger("bot.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1 << 20


def webhook_path(webhook_url: str) -> str:
    return urlparse(webhook_url).path or "/telegram/webhook"


def add_webhook_route(app: web.Application, path: str, secret: str, feed: Callable[[dict], Awaitable[None]]) -> None:
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("webhook request without the right secret token from %s", request.remote)
            return web.json_response({"error": "bad secret token"}, status=401)
        if request.content_length is not None and request.content_length > MAX_UPDATE_BYTES:
            return web.json_response({"error": "too large"}, status=413)
        try:
            data = json.loads(await request.read())
        except ValueError:
            return web.json_response({"error": "malformed JSON"}, status=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return web.json_response({"error": "not an update"}, status=400)
        await feed(data)
        return web.json_response({"ok": True})

    app.router.add_post(path, receive)
