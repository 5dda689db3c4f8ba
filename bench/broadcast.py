"""A 10,000-recipient broadcast through the real bot against a fake Bot API with Telegram's limits.

The bot (`python -m bot.cli.main run`, aiogram) runs against FakeTelegram
(tests/fakes/telegram_server.py) with its flood gate on: 30 messages/s
overall, 1/s per chat, a 429 with retry_after for anything over. The
recipients are written straight into the database; the broadcast is queued as
an operator would, with `referral-bot broadcast --text ... --no-follow`.

Figures: total time from queueing to the last delivery; that time over the
ideal N / 30 s (target ≤ 1.1); lost messages (recipients with no copy, target
0); duplicates (target 0); 429s the bot provoked. --quick: 1,000 recipients.
Takes about N / 28.6 s per backend (≈ 6 min for 10,000).
"""
from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from datetime import datetime, timezone

from bench.common import ROOT, at_most, info, pg_create, pg_drop
from bench.suite import Suite

FULL_RECIPIENTS = 10_000
QUICK_RECIPIENTS = 1_000
FIRST_ID = 30_000_001
TELEGRAM_RATE = 30.0
TEXT = "<b>Bench</b> broadcast"


async def run(suite: Suite) -> None:
    n = QUICK_RECIPIENTS if suite.quick else FULL_RECIPIENTS
    for backend in suite.backends:
        await _one(suite, backend, n)


async def _insert_users(url: str, n: int) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    now = datetime.now(timezone.utc)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO users (id, first_name, tg_language, role, status, is_bot, first_seen_at, "
                     "tips_enabled, tips_sent) VALUES (:id, :name, 'zh-hans', 'user', 'active', false, :now, false, 0)"),
                [{"id": FIRST_ID + i, "name": f"B{i}", "now": now} for i in range(n)])
    finally:
        await engine.dispose()


async def _one(suite: Suite, backend: str, n: int) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.e2e.harness import BotHarness
    from tests.fakes.telegram_server import FakeTelegram

    workdir = suite.tmp / f"broadcast-{backend}"
    workdir.mkdir(parents=True, exist_ok=True)
    url = await pg_create("bench_broadcast") if backend == "postgresql" else f"sqlite+aiosqlite:///{workdir / 'b.db'}"
    fake = FakeTelegram("123456:BENCH-token", flood=True)
    await fake.start()
    bot = BotHarness(fake, workdir, url, extra_env={"BOT_FRAMEWORK": "aiogram", "TIP_INTERVAL_DAYS": "0",
                                                     "LOG_LEVEL": "WARNING"})
    try:
        await bot.start()
        await _insert_users(url, n)
        recipients = set(range(FIRST_ID, FIRST_ID + n))
        start = fake.mark()
        queued_at = time.time()
        cli = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli.main", "broadcast", "--text", TEXT, "--no-follow",
            cwd=str(workdir), env=bot.env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await cli.communicate()
        if cli.returncode != 0:
            raise RuntimeError(f"referral-bot broadcast failed: {err.decode()}")

        def delivered() -> Counter[int]:
            return Counter(c.params.get("chat_id") for c in fake.calls[start:]
                           if c.method == "sendMessage" and c.ok and c.params.get("text") == TEXT)

        ideal = n / TELEGRAM_RATE
        try:
            await fake.until(lambda: recipients <= set(delivered()), timeout=ideal * 2 + 60)
        except TimeoutError:
            pass  # reported below as lost messages
        await asyncio.sleep(2.0)  # a late duplicate would arrive now
        sends = [c for c in fake.calls[start:] if c.method == "sendMessage" and c.params.get("text") == TEXT]
        got = delivered()
        ok = [c for c in sends if c.ok]
        total = (ok[-1].timestamp - queued_at) if ok else float("nan")
        floods = sum(1 for c in sends if c.status == 429)
        lost = len(recipients - set(got))
        duplicates = sum(count - 1 for count in got.values())
        suite.add(
            info("broadcast", f"{n:,} recipients: total time", backend, total, "s",
                 f"from `referral-bot broadcast` to the last delivery; ideal {ideal:.0f} s at 30/s"),
            at_most("broadcast", "total / (N / 30 s)", backend, total / ideal, 1.1, "",
                    "the bot paces itself at 28.6/s (5 % under the limit) and polls the outbox every ≤ 1 s"),
            at_most("broadcast", "lost messages", backend, lost, 0, ""),
            at_most("broadcast", "duplicates", backend, duplicates, 0, ""),
            info("broadcast", "429s provoked", backend, floods, "", "answers 'Too Many Requests' from the fake"),
        )
    finally:
        await bot.stop()
        await fake.stop()
        if backend == "postgresql":
            await pg_drop("bench_broadcast")
