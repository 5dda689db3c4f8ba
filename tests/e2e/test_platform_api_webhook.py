"""In webhook mode the platform API shares the aiohttp server with Telegram's webhook."""
from __future__ import annotations

import re

from harness import E2E, BotHarness
from platform_client import BOT_ENV, event, post, view  # noqa: F401 (BOT_ENV)

pytestmark = E2E
BOT_WEBHOOK = True


async def test_events_and_updates_are_served_side_by_side(bot_proc: BotHarness, fake, new_user):
    referrer, joiner = new_user(language_code="en"), new_user(language_code="en")
    [card] = await bot_proc.send(referrer, "/code")
    code = re.search(r"\?start=([A-Za-z0-9_-]+)", card.text).group(1)
    since = fake.mark()
    await bot_proc.send(joiner, f"/start {code}")
    await bot_proc.replies(referrer.id, since)  # the "someone joined" notice
    since = fake.mark()
    status, _ = await post(bot_proc, event("first_loan", joiner, amount_fen=100_000))
    assert status == 202
    [notice] = await bot_proc.replies(referrer.id, since)
    assert "¥50.00" in notice.text
    assert (await view(bot_proc, referrer))["earnings_by_level"]["1"] == 5000
