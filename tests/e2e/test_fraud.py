"""Anti-fraud end to end: a burst of sign-ups flags the referrer, their next reward is held (pending in
/rewards and in GET /api/v1/users), /review shows the flag, approve releases it; another referrer's
flag rejected with a freeze reverses what it held and freezes them; GET /api/v1/flags lists both."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import aiohttp

from harness import ADMIN, E2E, BotHarness, TgUser
from platform_client import BOT_ENV, SECRET, event, post, view  # noqa: F401 (BOT_ENV configures this module's bot)
from test_platform_api import code_of

from bot.api.signing import sign

pytestmark = E2E


async def get_flags(bot: BotHarness, query: str = "", signed: bool = True) -> tuple[int, object]:
    headers = {"X-Signature": sign(SECRET, b"")} if signed else {}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{bot.api_url}/api/v1/flags{query}", headers=headers) as resp:
            return resp.status, await resp.json()


async def flagged_referrer(bot: BotHarness, new_user) -> tuple[TgUser, list[TgUser], dict]:  # noqa: ANN001
    """A referrer whose four friends join within seconds (a burst), with a first loan of one of them
    reported two days back: the referrer's ¥50 is held by the flag. Returns (referrer, friends, flag)."""
    referrer = new_user(language_code="en")
    code = await code_of(bot, referrer)
    friends = [new_user(language_code="en") for _ in range(4)]
    joined = bot.fake.mark()
    for friend in friends:
        await bot.send(friend, f"/start {code}")
    await bot.replies(referrer.id, joined, count=4)  # the join notices, one a second: out of the way
    status, open_flags = await get_flags(bot)
    assert status == 200
    [flag] = [f for f in open_flags if f["telegram_id"] == referrer.id]
    assert flag["kind"] == "burst" and flag["evidence"]["count"] == 4
    two_days_ago = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat()
    assert (await post(bot, event("credit_approved", referrer, occurred_at=two_days_ago)))[0] == 202
    since = bot.fake.mark()
    assert (await post(bot, event("first_loan", friends[0], amount_fen=800_000, occurred_at=two_days_ago)))[0] == 202
    [notice] = await bot.replies(referrer.id, since)
    assert "¥50.00" in notice.text and "pending for now" in notice.text  # no date, no reason: no tip-off
    return referrer, friends, flag


async def test_a_burst_flags_the_referrer_holds_the_reward_and_approve_releases_it(bot_proc, fake, new_user):
    referrer, _, flag = await flagged_referrer(bot_proc, new_user)
    [rewards] = await bot_proc.send(referrer, "/rewards")
    assert "Pending: ¥50.00" in rewards.text and "Available: ¥0.00" in rewards.text
    assert (await view(bot_proc, referrer))["balance"]["pending"] == 5000

    [shown] = await bot_proc.send(ADMIN, f"/review {flag['id']}")
    assert f"Flag #{flag['id']}" in shown.text and "a burst of bindings" in shown.text
    assert f"({referrer.id})" in shown.text and "4 bindings within 10 s" in shown.text
    assert "Held: ¥50.00" in shown.text and "Bindings (local time):" in shown.text
    [stale] = await bot_proc.send(ADMIN, f"/review {flag['id']}")  # a second copy, pressed after the decision
    since = fake.mark()
    answer, [edited] = await bot_proc.press(ADMIN, shown, "✅ Approve", count=1)
    assert answer.params.get("text") == f"Flag #{flag['id']} approved: what it held is released."
    assert "✅ Approved by" in edited.text and edited.keyboard == []
    [released] = await bot_proc.replies(referrer.id, since)
    assert "¥50.00" in released.text and "now available" in released.text
    balance = (await view(bot_proc, referrer))["balance"]
    assert (balance["pending"], balance["available"]) == (0, 5000)

    again, _ = await bot_proc.press(ADMIN, stale, "❌ Reject")
    assert "was already decided (approved); nothing changed" in again.params.get("text")
    assert (await view(bot_proc, referrer))["balance"]["available"] == 5000


async def test_reject_and_freeze_reverses_the_held_reward_and_the_flags_api_lists_both(bot_proc, fake, new_user):
    referrer, _, flag = await flagged_referrer(bot_proc, new_user)
    [title, *items] = await bot_proc.send(ADMIN, "/review", count=2)
    assert "Open flags:" in title.text
    [item] = [i for i in items if f"Flag #{flag['id']}" in i.text]  # the oldest open one: this module's only
    since = fake.mark()
    answer, [edited] = await bot_proc.press(ADMIN, item, "🧊 Reject and freeze", count=1)
    assert answer.params.get("text") == f"Flag #{flag['id']} rejected: 1 entries (¥50.00) reversed."
    assert "❌ Rejected and frozen by" in edited.text
    [reversed_] = await bot_proc.replies(referrer.id, since)
    assert "¥50.00" in reversed_.text and "reversed" in reversed_.text
    user = await view(bot_proc, referrer)
    assert (user["balance"]["pending"], user["balance"]["reversed"], user["status"]) == (0, 5000, "frozen")
    [code] = await bot_proc.send(referrer, "/code")
    assert "Your account is frozen" in code.text

    status, flags = await get_flags(bot_proc, "?state=all")
    assert status == 200
    mine = {f["id"]: f for f in flags}
    assert mine[flag["id"]]["state"] == "rejected" and mine[flag["id"]]["decision"] == "reject_freeze"
    assert mine[flag["id"]]["reviewed_by"] == ADMIN.id and mine[flag["id"]]["reversed_fen"] == 5000
    assert "approved" in {f["state"] for f in flags}
    assert (await get_flags(bot_proc, "?state=rejected"))[1] == [mine[flag["id"]]]
    assert (await get_flags(bot_proc, "?limit=0"))[0] == 400
    assert (await get_flags(bot_proc, signed=False))[0] == 401


async def test_non_admins_cannot_review(bot_proc, new_user):
    mallory = new_user(language_code="en")
    [answer] = await bot_proc.send(mallory, "/review")
    assert answer.text == "This command is for the program's admins only."
