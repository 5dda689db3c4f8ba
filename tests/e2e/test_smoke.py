"""The real bot starts against the fake Bot API and answers /start."""
from __future__ import annotations

from harness import E2E, BotHarness

pytestmark = E2E


async def test_start_gets_an_answer(bot_proc: BotHarness, new_user):
    alice = new_user()
    [reply] = await bot_proc.send(alice, "/start")
    assert reply.chat_id == alice.id
    assert reply.text
