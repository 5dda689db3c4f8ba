"""The platform meets the real bot over HTTP (long polling): signed events pay referrers at two
levels and the beneficiaries hear about it in chat; duplicates, conflicts, bad signatures, stale
timestamps and fifty concurrent deliveries of one event are answered as the platform expects."""
from __future__ import annotations

import asyncio
import json
import re
import time

import aiohttp
import pytest

from harness import E2E, BotHarness, TgUser
from platform_client import BOT_ENV, SECRET, earned, event, get_user, post, view  # noqa: F401 (BOT_ENV)

from bot.api.signing import sign

pytestmark = E2E

LINK = re.compile(r"https://t\.me/ReferralTestBot\?start=([A-Za-z0-9_-]+)")
FIRST_LOAN = (5000, 1000)  # the built-in program, in fen: level 1, level 2


async def code_of(bot: BotHarness, user: TgUser) -> str:
    [reply] = await bot.send(user, "/code")
    return LINK.search(reply.text).group(1)


async def chain(bot: BotHarness, new_user) -> tuple[TgUser, TgUser, TgUser]:  # noqa: ANN001
    """A → B → C bound through the bot: B opened A's link, C opened B's.

    Returns once each referrer has had the notice of their new referral, so later counts start clean.
    """
    a, b, c = (new_user(language_code="en") for _ in range(3))
    for referrer, joiner in ((a, b), (b, c)):
        code = await code_of(bot, referrer)
        since = bot.fake.mark()
        await bot.send(joiner, f"/start {code}")
        await bot.replies(referrer.id, since)
    return a, b, c


async def test_first_loan_pays_both_levels_and_tells_them(bot_proc, fake, new_user):
    a, b, c = await chain(bot_proc, new_user)
    assert (await view(bot_proc, c))["upline"] == [b.id, a.id]
    since = fake.mark()
    status, answer = await post(bot_proc, event("first_loan", c, amount_fen=800_000))
    assert status == 202 and answer["status"] == "accepted"
    [to_b] = await bot_proc.replies(b.id, since)
    [to_a] = await bot_proc.replies(a.id, since)
    assert "¥50.00" in to_b.text and "¥10.00" in to_a.text
    view_b, view_a = await view(bot_proc, b), await view(bot_proc, a)
    assert earned(view_b) == FIRST_LOAN[0] and view_b["earnings_by_level"] == {"1": FIRST_LOAN[0], "2": 0}
    assert earned(view_a) == FIRST_LOAN[1] and view_a["earnings_by_level"] == {"1": 0, "2": FIRST_LOAN[1]}
    assert earned(await view(bot_proc, c)) == 0  # a user's own conversion never pays that user
    assert fake.sent_to(c.id, since=since) == []


async def test_a_redelivered_event_is_a_duplicate_and_a_changed_one_a_conflict(bot_proc, fake, new_user):
    a, b, c = await chain(bot_proc, new_user)
    body = event("first_loan", c, amount_fen=100_000)
    since = fake.mark()
    assert (await post(bot_proc, body))[0] == 202
    await bot_proc.replies(b.id, since)
    await bot_proc.replies(a.id, since)
    since = fake.mark()
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2).encode()
    assert await post(bot_proc, reordered) == (200, {"status": "duplicate"})
    status, answer = await post(bot_proc, {**body, "amount_fen": 999})
    assert status == 409 and "different body" in answer["error"]
    await asyncio.sleep(0.5)
    assert fake.sent_to(a.id, since=since) == fake.sent_to(b.id, since=since) == []
    assert earned(await view(bot_proc, b)) == FIRST_LOAN[0]


@pytest.mark.parametrize(("change", "field"), [
    ({"amount_fen": 12.5}, "amount_fen"), ({"amount_fen": "100"}, "amount_fen"),
    ({"type": "loan_taken"}, "type"), ({"occurred_at": "2026-11-26T10:00:00"}, "occurred_at"),
    ({"user": {"telegram_id": "42"}}, "user.telegram_id"),
])
async def test_invalid_events_are_400_naming_the_field(bot_proc, new_user, change, field):
    status, answer = await post(bot_proc, {**event("first_loan", new_user(), amount_fen=1), **change})
    assert status == 400 and answer["error"].startswith(field), answer


async def test_bad_signatures_and_stale_timestamps_are_401_and_change_nothing(bot_proc, fake, new_user):
    a, b, c = await chain(bot_proc, new_user)
    since = fake.mark()
    body = event("first_loan", c, amount_fen=100)
    raw = json.dumps(body).encode()
    assert (await post(bot_proc, body, secret="guessed"))[0] == 401
    assert (await post(bot_proc, body, signature=""))[0] == 401
    assert (await post(bot_proc, body, signature="t=1,v1=nothex"))[0] == 401
    tampered = json.dumps({**body, "amount_fen": 1}).encode()
    assert (await post(bot_proc, tampered, signature=sign(SECRET, raw)))[0] == 401
    for skew in (-301, 301):
        status, answer = await post(bot_proc, body, t=int(time.time()) + skew)
        assert status == 401 and "stale" in answer["error"]
    await asyncio.sleep(0.5)
    assert fake.sent_to(b.id, since=since) == [] and earned(await view(bot_proc, b)) == 0
    status, _ = await post(bot_proc, body)  # the same event, signed properly: it was never stored
    assert status == 202
    await bot_proc.replies(b.id, since)


async def test_user_lookups_are_signed_and_404_for_strangers(bot_proc, new_user):
    a, b, c = await chain(bot_proc, new_user)
    got = await view(bot_proc, a)
    assert got["telegram_id"] == a.id and got["referrals_by_level"] == {"1": 1, "2": 1}
    assert set(got["balance"]) >= {"pending", "available", "paid", "reversed"}
    assert (await get_user(bot_proc, new_user().id))[0] == 404
    assert (await get_user(bot_proc, 0))[0] == 400
    assert (await get_user(bot_proc, a.id, signature=""))[0] == 401
    assert (await get_user(bot_proc, a.id, signature=sign(SECRET, b"", int(time.time()) - 1000)))[0] == 401


async def test_fifty_concurrent_copies_apply_once(bot_proc, fake, new_user):
    a, b, c = await chain(bot_proc, new_user)
    raw = json.dumps(event("first_loan", c, amount_fen=300_000)).encode()
    since = fake.mark()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)) as http:
        answers = await asyncio.gather(*(post(bot_proc, raw, http=http) for _ in range(50)))
    assert sorted(status for status, _ in answers) == [200] * 49 + [202], answers
    await bot_proc.replies(b.id, since)
    await bot_proc.replies(a.id, since)
    await asyncio.sleep(1.0)  # room for a second notice, were one wrongly queued
    assert len(fake.sent_to(b.id, since=since)) == 1 and len(fake.sent_to(a.id, since=since)) == 1
    assert earned(await view(bot_proc, b)) == FIRST_LOAN[0]
    assert earned(await view(bot_proc, a)) == FIRST_LOAN[1]
