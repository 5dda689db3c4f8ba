"""A rule change end to end: published (in chat, and from the shell while the bot runs), announced
with an "I have read it" button, acknowledged, and applied from its effective time on (the bot is
restarted with its clock moved past it)."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from harness import E2E, BotHarness, TgUser
from platform_client import BOT_ENV, event, get_user, post  # noqa: F401 (BOT_ENV configures this module's bot)
from sqlalchemy import select
from test_platform_api import code_of

from bot.services.rewards.program import DEFAULT_PROGRAM
from db.engine import make_engine
from db.models import RuleAck

pytestmark = E2E

SHANGHAI = timezone(timedelta(hours=8))
V2 = DEFAULT_PROGRAM.replace("version = 1", "version = 2").replace("amounts = [5000, 1000]", "amounts = [6000, 1000]")
V3 = V2.replace("version = 2", "version = 3").replace("amounts = [2000, 500]", "amounts = [3000, 500]")
DAY = 86400


def iso(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="minutes")


def cli(bot: BotHarness, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in bot.env.items() if key not in ("BOT_TOKEN", "CLOCK_OFFSET_SECONDS")}
    return subprocess.run([sys.executable, "-m", "bot.cli.main", *args], cwd=bot.workdir, env=env,
                          capture_output=True, text=True, timeout=60)


async def earned_level_1(bot: BotHarness, user: TgUser) -> int:
    status, body = await get_user(bot, user.id)
    assert status == 200, body
    return body["earnings_by_level"]["1"]


async def test_a_publish_from_the_shell_too_early_is_refused_and_announces_nothing(bot_proc, fake, new_user, tmp_path):
    someone = new_user(language_code="en")
    await bot_proc.send(someone, "/start")
    program = tmp_path / "v2.toml"
    program.write_text(V2, encoding="utf-8")
    since = fake.mark()
    tomorrow = iso(datetime.now(timezone.utc) + timedelta(days=1))
    refused = await asyncio.to_thread(cli, bot_proc, "program", "publish", str(program), "--effective", tomorrow)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "7 days' notice" in refused.stderr
    await fake.assert_no_message(someone.id, within=1.5, since=since)


async def test_rule_change_announced_acknowledged_and_applied_at_its_effective_time(
        bot_proc: BotHarness, fake, new_user, admin, tmp_path):
    referrer = new_user(language_code="en")
    early, late = new_user(language_code="en"), new_user(language_code="zh-hans")
    for joiner in (early, late):
        code = await code_of(bot_proc, referrer)
        since = fake.mark()
        await bot_proc.send(joiner, f"/start {code}")
        await bot_proc.replies(referrer.id, since)  # the join notice
    status, _ = await post(bot_proc, event("credit_approved", referrer))
    assert status == 202
    published_at = datetime.now(timezone.utc)
    effective = published_at + timedelta(days=8)

    # The admin publishes version 2 in chat: effective time, then the TOML file, preview, confirm.
    [ask] = await bot_proc.send(admin, f"/publish {iso(effective)}")
    assert ".toml document" in ask.text
    since = fake.mark()
    bot_proc.deliver(fake.document_message(admin, V2.encode(), "v2.toml"))
    [preview] = await bot_proc.replies(admin.id, since)
    assert "version 2 replaces version 1" in preview.text and "first loan, level 1: ¥50.00 → ¥60.00" in preview.text
    since = fake.mark()
    _, [done] = await bot_proc.press(admin, preview, "✅ Publish", count=1)
    assert "Version 2 is published" in done.text

    # Every active user hears of it, in their language, with the button.
    notice = await fake.wait_for(lambda c: fake.is_message_to(c, referrer.id) and "version 2" in (c.text or ""),
                                 since=since, timeout=15)
    assert "first loan, level 1: ¥50.00 → ¥60.00" in notice.text
    assert [b["text"] for b in notice.buttons] == ["✅ I have read it"]
    zh_notice = await fake.wait_for(lambda c: fake.is_message_to(c, late.id) and "第 2 版" in (c.text or ""),
                                    since=since, timeout=15)
    assert "首笔借款，第 1 级：¥50.00 → ¥60.00" in zh_notice.text

    answer, [edited] = await bot_proc.press(referrer, notice, "✅ I have read it", count=1)
    assert answer.params.get("text") == "Thank you, noted."
    assert "You confirmed reading this on" in edited.text and not edited.buttons
    engine = make_engine(bot_proc.db_url)
    try:
        async with engine.connect() as conn:
            [(acked_at,)] = (await conn.execute(select(RuleAck.acked_at).where(
                RuleAck.user_id == referrer.id, RuleAck.version == 2))).all()
    finally:
        await engine.dispose()
    if acked_at.tzinfo is None:  # SQLite keeps UTC without its zone
        acked_at = acked_at.replace(tzinfo=timezone.utc)
    assert published_at - timedelta(seconds=5) <= acked_at <= datetime.now(timezone.utc)

    [rules] = await bot_proc.send(referrer, "/rules")
    assert "version 1" in rules.text and "level 1 ¥50.00" in rules.text and "Announced: version 2" in rules.text

    # Version 3 from the shell while the bot runs: the running bot sends its announcement.
    program = tmp_path / "v3.toml"
    program.write_text(V3, encoding="utf-8")
    since = fake.mark()
    later = iso(effective + timedelta(days=2))
    shell = await asyncio.to_thread(cli, bot_proc, "program", "publish", str(program), "--effective", later)
    assert shell.returncode == 0, shell.stderr
    v3 = await fake.wait_for(lambda c: fake.is_message_to(c, referrer.id) and "version 3" in (c.text or ""),
                             since=since, timeout=15)
    assert "second credit line, level 1: ¥20.00 → ¥30.00" in v3.text

    # Nine days on: version 2 is in force; each event is paid under the version in force when it happened.
    offset = 9 * DAY
    bot_proc.env["CLOCK_OFFSET_SECONDS"] = str(offset)
    await bot_proc.restart()
    [rules] = await bot_proc.send(referrer, "/rules")
    assert "version 2" in rules.text and "level 1 ¥60.00" in rules.text and "Announced: version 3" in rules.text
    before = event("first_loan", early, amount_fen=100_000, occurred_at=iso(published_at + timedelta(days=1)))
    after = event("first_loan", late, amount_fen=100_000, occurred_at=iso(effective + timedelta(hours=1)))
    assert (await post(bot_proc, before))[0] == 202
    assert await earned_level_1(bot_proc, referrer) == 5000
    assert (await post(bot_proc, after))[0] == 202
    assert await earned_level_1(bot_proc, referrer) == 5000 + 6000
