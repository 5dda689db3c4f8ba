"""Admins run the program from chat: refusals, /stats, /freeze against a real conversion, /unfreeze,
/promote seen in /user, the admin menu, and `referral-bot audit` listing what they did."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from harness import ADMIN, E2E, REPO_ROOT, BotHarness, TgUser
from platform_client import BOT_ENV, earned, event, post, view  # noqa: F401 (BOT_ENV configures this module's bot)
from test_platform_api import FIRST_LOAN, chain

pytestmark = E2E

ANONYMOUS_ADMIN = TgUser(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)


def cli(bot: BotHarness, *args: str) -> subprocess.CompletedProcess[str]:
    """An operator's command against the running bot's database."""
    env = {**os.environ, "DATABASE_URL": bot.db_url, "ADMIN_IDS": str(ADMIN.id), "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "bot.cli.main", *args], env=env, capture_output=True, text=True,
                          timeout=60, cwd=bot.workdir)


async def test_the_admin_menu_is_set_for_the_admin_only(bot_proc, fake):
    admin_menu = [c["command"] for c in fake.commands("en", scope={"type": "chat", "chat_id": ADMIN.id})]
    assert admin_menu[0] == "start" and {"stats", "user", "freeze", "promote", "demote"} <= set(admin_menu)
    zh = {c["command"]: c["description"] for c in fake.commands("zh", scope={"type": "chat", "chat_id": ADMIN.id})}
    assert zh["stats"] == "活动统计与转化漏斗"
    assert "stats" not in [c["command"] for c in fake.commands("en")]


async def test_non_admins_are_refused(bot_proc, new_user):
    mallory = new_user(language_code="en")
    [stats] = await bot_proc.send(mallory, "/stats")
    [freeze] = await bot_proc.send(mallory, f"/freeze {ADMIN.id} nope")
    assert stats.text == freeze.text == "This command is for the program's admins only."


async def test_in_a_group_the_anonymous_admin_and_the_real_one_hear_why_not(bot_proc, fake):
    group = fake.group_chat(-100_777_000_123)
    [anonymous] = await bot_proc.send(ANONYMOUS_ADMIN, "/stats", chat=group)
    assert "匿名群管理员" in anonymous.text  # no language_code on the anonymous sender: the default, zh-CN
    [real] = await bot_proc.send(ADMIN, "/freeze 1 x", chat=group)
    assert real.text == "Admin commands work in a private chat with me only."


async def test_freeze_pays_the_frozen_referrer_nothing_then_unfreeze_promote_and_audit(bot_proc, fake, new_user):
    a, b, c = await chain(bot_proc, new_user)
    [stats] = await bot_proc.send(ADMIN, "/stats")
    assert "Program statistics" in stats.text and "Bound to a referrer:" in stats.text

    [frozen] = await bot_proc.send(ADMIN, f"/freeze {b.id} selling referral codes")
    assert f"User {b.id} is frozen" in frozen.text
    since = fake.mark()
    status, _ = await post(bot_proc, event("first_loan", c, amount_fen=800_000))
    assert status == 202
    [to_a] = await bot_proc.replies(a.id, since)  # level 2 is paid as usual
    assert "¥10.00" in to_a.text
    assert earned(await view(bot_proc, b)) == 0 and (await view(bot_proc, b))["eligibility"]["frozen"] is True
    assert earned(await view(bot_proc, a)) == FIRST_LOAN[1]
    assert fake.sent_to(b.id, since=since) == []  # neither a reward nor a word about the freeze

    [unfrozen] = await bot_proc.send(ADMIN, f"/unfreeze {b.id} reviewed")
    assert f"User {b.id} is active again" in unfrozen.text
    [promoted] = await bot_proc.send(ADMIN, f"/promote {b.id} agent")
    assert promoted.text == f"✅ User {b.id} is now an agent."
    [info] = await bot_proc.send(ADMIN, f"/user {b.id}")
    assert "Role: agent · status: active" in info.text and f"Referrer: {a.id}" in info.text

    done = cli(bot_proc, "audit", "--since", "1h", "--json")
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in done.stdout.splitlines()]
    mine = [(e["actor_id"], e["via"], e["action"], e["target"], e["reason"]) for e in entries
            if e["target"] == str(b.id)]
    assert mine == [
        (ADMIN.id, "chat", "freeze", str(b.id), "selling referral codes"),
        (ADMIN.id, "chat", "unfreeze", str(b.id), "reviewed"),
        (ADMIN.id, "chat", "promote", str(b.id), None),
    ]
    table = cli(bot_proc, "audit", "--since", "1h", "--action", "freeze")
    assert table.returncode == 0 and str(b.id) in table.stdout and "selling referral codes" in table.stdout
    assert "promote" not in table.stdout


async def test_a_cli_freeze_reaches_the_running_bot(bot_proc, new_user):
    user = new_user(language_code="en")
    await bot_proc.send(user, "/start")
    done = cli(bot_proc, "freeze", str(user.id), "--reason", "chargebacks")
    assert done.returncode == 0, done.stderr
    [info] = await bot_proc.send(ADMIN, f"/user {user.id}")
    assert "status: frozen" in info.text
    [code] = await bot_proc.send(user, "/code")  # a frozen user's code binds nobody, and they hear so
    assert "Your account is frozen" in code.text
