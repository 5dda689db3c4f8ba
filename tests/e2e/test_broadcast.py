"""Broadcasts end to end, against a fake Bot API that enforces Telegram's flood limits (30/s, 1/s per chat).

300 recipients are written straight into the bot's database (300 /start
messages would only test the welcome). The chat broadcast goes out as copies
of the admin's message (copyMessage); the one queued from the shell as texts
(sendMessage), which is how the tests tell the two apart.
"""
from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from datetime import datetime, timezone

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from harness import ADMIN, E2E, REPO_ROOT, BotHarness, Call, FakeTelegram

pytestmark = E2E

FAKE_OPTIONS = {"flood": True}  # Telegram's limits: 30 messages/s overall, 1/s per chat
BOT_ENV = {"TIP_INTERVAL_DAYS": "0"}  # no risk-education tips competing for the budget

RECIPIENTS = list(range(20_000_001, 20_000_301))
BLOCKED = RECIPIENTS[::100]  # three of them blocked the bot (Telegram knows; the bot finds out)
RATE = 30


async def execute(bot: BotHarness, sql: str, params: list[dict] | dict | None = None) -> list[tuple]:
    engine = create_async_engine(bot.db_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params or {})
            return [tuple(r) for r in result.all()] if result.returns_rows else []
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def recipients(bot_proc: BotHarness, fake: FakeTelegram) -> list[int]:
    now = datetime.now(timezone.utc)
    await execute(bot_proc, "INSERT INTO users (id, first_name, tg_language, role, status, is_bot, first_seen_at, "
                            "tips_enabled, tips_sent) VALUES (:id, :name, 'en', 'user', 'active', false, :now, false, 0)",
                  [{"id": uid, "name": f"R{uid}", "now": now} for uid in RECIPIENTS])
    for uid in BLOCKED:
        fake.block(uid)
    return RECIPIENTS


def sends(fake: FakeTelegram, since: int, method: str, chats: set[int]) -> list[Call]:
    return [c for c in fake.calls[since:] if c.method == method and c.params.get("chat_id") in chats]


async def test_a_non_admin_is_refused(bot_proc, new_user):
    [reply] = await bot_proc.send(new_user(language_code="en"), "/broadcast")
    assert reply.text == "This command is for the program's admins only."


async def test_a_broadcast_to_300_users_at_telegrams_limits(bot_proc, fake, recipients):
    [ask] = await bot_proc.send(ADMIN, "/broadcast")
    assert "Send me the message to broadcast" in ask.text
    # the 300, the admin, and whoever earlier tests brought in
    audience = {uid for (uid,) in await execute(bot_proc, "SELECT id FROM users WHERE status = 'active' AND id > 0")}
    n = len(audience)
    assert set(RECIPIENTS) | {ADMIN.id} <= audience
    since = fake.mark()
    original = fake.message(ADMIN, "Big news for everyone", entities=[{"type": "bold", "offset": 0, "length": 8}])
    bot_proc.deliver(original)
    [pick] = await bot_proc.replies(ADMIN.id, since)
    everyone = next(b["text"] for b in pick.buttons if b["text"].startswith("Everyone"))
    assert everyone == f"Everyone ({n})"
    _, [_, copy, preview] = await bot_proc.press(ADMIN, pick, everyone, count=3)
    assert copy.method == "copyMessage" and copy.params["message_id"] == original["message"]["message_id"]
    assert copy.message["entities"] == [{"type": "bold", "offset": 0, "length": 8}]  # formatting kept
    assert f"{n}</b> recipients" in preview.sent_text
    # Nobody confirms within a second of reading the preview; a test would, and the admin's own
    # copy (first in line) would then follow the preview into their chat faster than 1/s allows.
    await asyncio.sleep(1.1)
    start = fake.mark()
    await bot_proc.press(ADMIN, preview, f"✅ Send to {n}")
    # The admin's own copy may come first: the outbox starts the moment the broadcast commits.
    progress = await fake.wait_for(lambda c: c.method == "editMessageText" and c.chat_id == ADMIN.id,
                                   since=start, timeout=10)
    assert "Broadcast #1" in progress.text and progress.message_id == preview.message_id

    # Telegram asks for a pause once, a third of the way in: nothing may be sent during it.
    await fake.wait_for(lambda c: c.method == "copyMessage" and c.ok, since=start, timeout=10)
    await fake.until(lambda: len(sends(fake, start, "copyMessage", set(RECIPIENTS))) >= 100, timeout=20)
    fake.fail_next("copyMessage", 429, retry_after=2)
    reachable = audience - set(BLOCKED)
    done = await fake.wait_for(lambda c: c.method == "editMessageText" and c.chat_id == ADMIN.id
                               and "✅ done" in (c.text or ""), since=start, timeout=60)

    copies = [c for c in fake.calls[start:] if c.method == "copyMessage"]
    delivered = Counter(c.params["chat_id"] for c in copies if c.ok)
    assert set(delivered) == reachable and set(delivered.values()) == {1}  # everyone once, nobody twice
    refused = [c for c in copies if c.status == 403]
    assert sorted(c.params["chat_id"] for c in refused) == BLOCKED
    floods = [c for c in copies if c.status == 429]
    [injected] = [c for c in floods if c.description == "Too Many Requests: retry after 2"]
    # Staying under the limits, the bot does not trip them itself. The fake counts arrivals in the
    # test's own event loop, so a stall of that loop longer than the bot's 5 % headroom (~50 ms) on
    # this 2-core machine bunches arrivals up; once, in one CI run, that tripped the fake's gate.
    # One such 429 is tolerated; more would be the bot's pacing, which test_ratelimit_props proves.
    tripped = [c for c in floods if c is not injected]
    assert len(tripped) <= 1, floods
    for flood in floods:  # and every 429, injected or not, is honoured: nothing goes out during it
        pause = int(flood.description.rsplit(" ", 1)[1])
        during_pause = [c for c in copies if flood.timestamp + 0.25 < c.timestamp < flood.timestamp + pause]
        assert during_pause == [], (flood, during_pause)
    attempted = [c for c in copies if c.status in (200, 403)]
    span = attempted[-1].timestamp - attempted[0].timestamp
    # ~300 grants at 30 per second need 10 s; the 2 s pause comes on top; "not much more" than that.
    assert span >= (len(attempted) - RATE) / RATE + 2 - 0.1, span
    assert span <= len(attempted) / RATE * 1.25 + 2, span

    assert f"Sent: {n - 3} of {n}" in done.text and "Blocked the bot: 3" in done.text
    edits = [c for c in fake.calls[start:] if c.method == "editMessageText" and c.chat_id == ADMIN.id]
    assert len(edits) >= 3  # confirmed, at least one while running, and done
    statuses = await execute(bot_proc, "SELECT status, count(*) FROM users WHERE id BETWEEN 20000001 AND 20000300 "
                                       "GROUP BY status ORDER BY status")
    assert statuses == [("active", 297), ("blocked", 3)]
    outcomes = await execute(bot_proc, "SELECT state, count(*) FROM outbox WHERE broadcast_id = 1 GROUP BY state "
                                       "ORDER BY state")
    assert outcomes == [("blocked", 3), ("sent", n - 3)]
    [status] = await bot_proc.send(ADMIN, "/broadcast_status 1")
    assert "✅ done" in status.text and f"Sent: {n - 3} of {n}" in status.text


@pytest.mark.allow_log(r"interrupted sends requeued")
async def test_a_broadcast_survives_kill_9_with_no_repeats_but_the_one_in_flight(bot_proc, fake, recipients):
    # Marked before queueing: the running bot starts sending the moment the CLI commits,
    # which on a busy machine is well before the CLI process has exited.
    start = fake.mark()
    queued = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli.main", "broadcast", "--text", "<i>Second</i> notice", "--no-follow",
        cwd=str(bot_proc.workdir), env={**bot_proc.env, "PYTHONPATH": str(REPO_ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await queued.communicate()
    assert queued.returncode == 0, err.decode()
    reachable = {uid for (uid,) in await execute(bot_proc, "SELECT id FROM users WHERE status = 'active' AND id > 0")}
    assert set(RECIPIENTS) - set(BLOCKED) <= reachable and not reachable & set(BLOCKED)
    # the 3 who blocked the bot were found out by the first broadcast and are skipped
    assert out.decode().startswith(f"broadcast #2 queued for {len(reachable)} recipients")

    def second(since: int = start) -> list[Call]:
        return [c for c in sends(fake, since, "sendMessage", reachable) if "Second" in (c.sent_text or "")]

    await fake.until(lambda: len([c for c in second() if c.ok]) >= 100, timeout=30)
    await bot_proc.kill()
    killed_at = time.time()
    # What Telegram had received but the bot may not have recorded: sends answered just before the kill.
    in_flight = {c.params["chat_id"] for c in second() if c.ok and c.timestamp > killed_at - 0.5}
    before = Counter(c.params["chat_id"] for c in second() if c.ok)
    assert 100 <= sum(before.values()) < len(reachable)

    await bot_proc.start()
    # Rows the killed process had claimed come back at once: on SQLite everything 'sending' at
    # start, on PostgreSQL the rows of an instance whose liveness lock vanished with it.
    try:
        await fake.until(lambda: set(c.params["chat_id"] for c in second() if c.ok) == reachable, timeout=35)
    except TimeoutError:
        missing = reachable - set(c.params["chat_id"] for c in second() if c.ok)
        raise AssertionError(f"never delivered to {sorted(missing)[:20]}; bot log:\n{bot_proc.log_tail()}") from None
    await asyncio.sleep(1.5)  # anything that would arrive twice arrives now
    delivered = Counter(c.params["chat_id"] for c in second() if c.ok)
    repeats = {chat for chat, n in delivered.items() if n > 1}
    assert set(delivered) == reachable
    assert repeats <= in_flight and len(repeats) <= 2, (repeats, in_flight)
    assert max(delivered.values()) <= 2
    [status] = await bot_proc.send(ADMIN, "/broadcast_status")
    assert "Broadcast #2" in status.text
    rows = await execute(bot_proc, "SELECT state, count(*) FROM outbox WHERE broadcast_id = 2 GROUP BY state")
    assert rows == [("sent", len(reachable))]
