"""Webhook mode: updates arrive over HTTP, and requests without Telegram's secret token are refused."""
from __future__ import annotations

import aiohttp

from harness import E2E, BotHarness

pytestmark = E2E
BOT_WEBHOOK = True


async def test_the_bot_registers_its_webhook_with_a_secret(bot_proc: BotHarness, fake):
    assert fake.webhook_url == bot_proc.env["WEBHOOK_URL"]
    assert fake.webhook_secret == bot_proc.env["WEBHOOK_SECRET"]


async def test_updates_posted_by_telegram_are_handled(bot_proc: BotHarness, new_user):
    user = new_user(language_code="en")
    [reply] = await bot_proc.send(user, "/start")
    assert "Risk notice" in reply.text


async def test_requests_without_the_secret_are_refused(bot_proc: BotHarness, fake, new_user):
    user = new_user()
    update = {"update_id": 987_654_321, **fake.message(user, "/code")}
    url = bot_proc.env["WEBHOOK_URL"]
    assert await fake.post_webhook(url, update) == 401
    assert await fake.post_webhook(url, update, secret_token="wrong") == 401
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=b"not json", headers={"X-Telegram-Bot-Api-Secret-Token":
                                                             bot_proc.env["WEBHOOK_SECRET"]}) as resp:
            assert resp.status == 400
    assert fake.sent_to(user.id) == []  # nothing was handled


async def test_a_redelivered_webhook_update_is_handled_once(bot_proc: BotHarness, fake, new_user):
    user = new_user()
    update = {"update_id": 987_654_322, **fake.message(user, "/help")}
    url, secret = bot_proc.env["WEBHOOK_URL"], bot_proc.env["WEBHOOK_SECRET"]
    assert await fake.post_webhook(url, update, secret_token=secret) == 200
    assert await fake.post_webhook(url, update, secret_token=secret) == 200
    assert len(fake.sent_to(user.id)) == 1
