"""The lending platform's side of the bot's HTTP API, for end-to-end tests: signed posts and look-ups."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import aiohttp

from harness import BotHarness, TgUser

from bot.api.signing import sign

SECRET = "e2e-platform-secret"
BOT_ENV = {"API_SECRET": SECRET}  # what a module using these helpers passes to its bot


def event(kind: str, user: TgUser | int, **fields: object) -> dict:
    """A new event (fresh id) about `user`, by Telegram id; it happened just now unless told.

    "Now" is the bot's clock too (the real one): a fixed date here would turn a reward still on
    hold into an available one once the calendar passed it."""
    telegram_id = user if isinstance(user, int) else user.id
    now = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0).isoformat()
    return {"id": f"{kind}-{uuid.uuid4().hex}", "type": kind, "occurred_at": now,
            "user": {"telegram_id": telegram_id}, **fields}


async def post(bot: BotHarness, body: dict | bytes, *, secret: str = SECRET, t: int | None = None,
               signature: str | None = None, http: aiohttp.ClientSession | None = None) -> tuple[int, dict]:
    """POST /api/v1/events signed with `secret` at `t` (now), or with the given X-Signature value."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json",
               "X-Signature": signature if signature is not None else sign(secret, raw, t)}
    if http is None:
        async with aiohttp.ClientSession() as own:
            return await _post(own, bot, raw, headers)
    return await _post(http, bot, raw, headers)


async def _post(http: aiohttp.ClientSession, bot: BotHarness, raw: bytes, headers: dict) -> tuple[int, dict]:
    async with http.post(f"{bot.api_url}/api/v1/events", data=raw, headers=headers) as resp:
        return resp.status, await resp.json()


async def get_user(bot: BotHarness, telegram_id: int, *, signature: str | None = None) -> tuple[int, dict]:
    headers = {"X-Signature": sign(SECRET, b"") if signature is None else signature}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{bot.api_url}/api/v1/users/{telegram_id}", headers=headers) as resp:
            return resp.status, await resp.json()


async def view(bot: BotHarness, user: TgUser) -> dict:
    status, body = await get_user(bot, user.id)
    assert status == 200, body
    return body


def earned(user_view: dict) -> int:
    """What a user has earned and not lost: pending plus available (fen)."""
    return user_view["balance"]["pending"] + user_view["balance"]["available"]
