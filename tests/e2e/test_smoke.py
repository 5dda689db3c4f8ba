"""The real bot starts against the fake Bot API and answers /start."""
from __future__ import annotations

import re

from harness import E2E, BotHarness

pytestmark = E2E


async def test_start_gets_an_answer(bot_proc: BotHarness, new_user):
    alice = new_user()
    [reply] = await bot_proc.send(alice, "/start")
    assert reply.chat_id == alice.id
    assert reply.text


async def test_the_bot_runs_on_uvloop_with_its_start_up_heap_frozen(bot_proc: BotHarness, new_user):
    """EVENT_LOOP is unset in the bot's environment: `run` takes uvloop, which is installed here,
    and says so at start-up; then it freezes what start-up built (bot/heap.py)."""
    [reply] = await bot_proc.send(new_user(), "/help")
    assert reply.text
    log = bot_proc.log_text()
    assert "event loop: uvloop" in log
    frozen = re.search(r"start-up heap frozen: (\d+) objects", log)
    assert frozen is not None and int(frozen.group(1)) > 50_000
