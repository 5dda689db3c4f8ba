"""Users meet the real bot over HTTP: first contact, /code and its QR, links at two levels,
/bind, /invites, /language, redeliveries, races, bad input and a restart."""
from __future__ import annotations

import asyncio
import io
import json
import os
import re
import subprocess
import sys

import zxingcpp
from PIL import Image

from harness import E2E, REPO_ROOT, BotHarness, TgUser

pytestmark = E2E

LINK = re.compile(r"https://t\.me/ReferralTestBot\?start=([A-Za-z0-9_-]+)")


def cli_user(bot: BotHarness, user_id: int) -> dict:
    """What the operator sees: `referral-bot user <id> --json` against the bot's database."""
    env = {**os.environ, "DATABASE_URL": bot.db_url, "REFERRAL_LEVELS": "2", "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run([sys.executable, "-m", "bot.cli.main", "user", str(user_id), "--json"],
                         env=env, capture_output=True, text=True, timeout=30, cwd=bot.workdir)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


async def set_status(bot: BotHarness, user_id: int, status: str) -> None:
    """Freezes straight in the bot's database, as an operator's SQL would (/freeze is tested in test_admin)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(bot.db_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE users SET status = :s WHERE id = :id"), {"s": status, "id": user_id})
    finally:
        await engine.dispose()


async def qr_file_id_stored(bot: BotHarness, user_id: int) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(bot.db_url, poolclass=NullPool)
    try:
        for _ in range(100):
            async with engine.connect() as conn:
                stored = (await conn.execute(text("SELECT qr_file_id FROM codes WHERE owner_id = :u AND "
                                                  "kind = 'personal'"), {"u": user_id})).scalar()
            if stored:
                return
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
    raise AssertionError(f"the QR's file_id was never stored for user {user_id}")


async def code_of(bot: BotHarness, user: TgUser) -> str:
    [reply] = await bot.send(user, "/code")
    return LINK.search(reply.text).group(1)


async def test_first_contact_gets_welcome_and_risk_notice(bot_proc, new_user):
    zh, en = new_user(language_code="zh-hans"), new_user(language_code="en")
    [reply_zh] = await bot_proc.send(zh, "/start")
    [reply_en] = await bot_proc.send(en, "/start")
    assert "风险提示" in reply_zh.text and "验证码" in reply_zh.text
    assert "Risk notice" in reply_en.text and "/code" in reply_en.text
    assert cli_user(bot_proc, zh.id)["language"] == "zh-CN"
    assert cli_user(bot_proc, en.id)["language"] == "en"


async def test_command_menu_is_registered_in_both_languages(bot_proc, fake):
    zh = [c["command"] for c in fake.commands("zh")]
    en = [c["command"] for c in fake.commands("en")]
    assert zh == en and {"start", "code", "invites", "bind", "language", "help"} <= set(zh)
    assert fake.commands("zh")[0]["description"] != fake.commands("en")[0]["description"]


async def test_code_qr_decodes_to_the_shown_link_and_is_uploaded_once(bot_proc, fake, new_user):
    alice = new_user(first_name="Alice")
    [first] = await bot_proc.send(alice, "/code")
    link = LINK.search(first.text).group(0)
    png = fake.file_bytes(first.photo_file_id)
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))] == [link]
    share = first.buttons[0]["url"]
    assert share.startswith("https://t.me/share/url?url=") and "ReferralTestBot" in share
    # The bot stores the file_id once Telegram's answer is in, a moment after the photo arrived:
    # a person asking again has read it by then; the test waits as long (at most 5 s).
    await qr_file_id_stored(bot_proc, alice.id)
    [second] = await bot_proc.send(alice, "/code")
    assert second.params["photo"] == first.photo_file_id and not second.uploads  # Telegram's file_id reused
    assert LINK.search(second.text).group(0) == link


async def test_links_bind_at_two_levels_and_notify_the_referrer(bot_proc, fake, new_user):
    alice, bob, carol = new_user(first_name="Alice"), new_user(first_name="Bobby"), new_user(first_name="Carol")
    code_a = await code_of(bot_proc, alice)
    since = fake.mark()
    [welcome] = await bot_proc.send(bob, f"/start {code_a}")
    assert "Ali***" in welcome.text and "Alice" not in welcome.text
    [notice] = await bot_proc.replies(alice.id, since)
    assert "Bob***" in notice.text and "Bobby" not in notice.text
    code_b = await code_of(bot_proc, bob)
    await bot_proc.send(carol, f"/start {code_b}")
    info = cli_user(bot_proc, carol.id)
    assert info["referrer_id"] == bob.id and info["upline"] == [bob.id, alice.id]
    assert cli_user(bot_proc, alice.id)["referrals_by_level"] == {"1": 1, "2": 1}


async def test_redelivered_update_binds_once_and_answers_once(bot_proc, fake, new_user):
    owner, joiner = new_user(), new_user()
    code = await code_of(bot_proc, owner)
    since = fake.mark()
    update = bot_proc.deliver(fake.message(joiner, f"/start {code}"))
    await bot_proc.replies(joiner.id, since)
    fake.redeliver(update)
    await bot_proc.send(joiner, "/help")  # handled after the redelivery
    await bot_proc.replies(owner.id, since)  # the notice
    await asyncio.sleep(0.5)
    assert len(fake.sent_to(joiner.id, since=since)) == 2  # the welcome and /help, no second welcome
    assert len(fake.sent_to(owner.id, since=since)) == 1
    assert cli_user(bot_proc, joiner.id)["referrer_id"] == owner.id


async def test_two_racing_links_bind_once(bot_proc, fake, new_user):
    first, second, joiner = new_user(), new_user(), new_user()
    code_1, code_2 = await code_of(bot_proc, first), await code_of(bot_proc, second)
    since = fake.mark()
    bot_proc.deliver(fake.message(joiner, f"/start {code_1}"))
    bot_proc.deliver(fake.message(joiner, f"/start {code_2}"))
    await bot_proc.replies(joiner.id, since, count=2)
    referrer = cli_user(bot_proc, joiner.id)["referrer_id"]
    assert referrer in (first.id, second.id)
    await bot_proc.replies(referrer, since)
    await asyncio.sleep(0.5)
    assert len(fake.sent_to(first.id, since=since)) + len(fake.sent_to(second.id, since=since)) == 1


async def test_bind_within_the_window_with_a_confirmation_button(bot_proc, new_user):
    owner, late = new_user(first_name="Owner"), new_user(language_code="en")
    code = await code_of(bot_proc, owner)
    await bot_proc.send(late, "/start")
    [ask] = await bot_proc.send(late, f"/bind {code}")
    assert "Own***" in ask.text and cli_user(bot_proc, late.id)["referrer_id"] is None
    _, [done] = await bot_proc.press(late, ask, "✅ Bind", count=1)
    assert "Done" in done.text
    assert cli_user(bot_proc, late.id)["referrer_id"] == owner.id
    [again] = await bot_proc.send(late, f"/bind {code}")
    assert "already have a referrer" in again.text


async def test_a_link_does_not_reattribute_someone_who_came_before(bot_proc, new_user):
    owner, earlier = new_user(), new_user(language_code="en")
    code = await code_of(bot_proc, owner)
    await bot_proc.send(earlier, "/help")
    [reply] = await bot_proc.send(earlier, f"/start {code}")
    assert "/bind" in reply.text and cli_user(bot_proc, earlier.id)["referrer_id"] is None


async def test_own_code_and_cycles_are_refused(bot_proc, new_user):
    root, child = new_user(language_code="en"), new_user()
    code_root = await code_of(bot_proc, root)
    [own] = await bot_proc.send(root, f"/bind {code_root}")
    assert "your own" in own.text
    since = bot_proc.fake.mark()
    await bot_proc.send(child, f"/start {code_root}")
    await bot_proc.replies(root.id, since)  # the join notice
    code_child = await code_of(bot_proc, child)
    [cycle] = await bot_proc.send(root, f"/bind {code_child}")
    assert "someone you invited" in cycle.text
    assert cli_user(bot_proc, root.id)["referrer_id"] is None


async def test_bad_payloads_get_a_polite_answer_and_bind_nothing(bot_proc, new_user):
    for payload in ("x" * 65, "../../etc/passwd", "<script>alert(1)</script>", "1' OR '1'='1", "😀", "ZZZZZZZZ"):
        user = new_user(language_code="en")
        [reply] = await bot_proc.send(user, f"/start {payload}")
        assert ("not valid" in reply.text or "No such" in reply.text) and "Risk notice" in reply.text
        assert "<script>" not in reply.text
        assert cli_user(bot_proc, user.id)["referrer_id"] is None


async def test_a_frozen_users_code_is_not_available(bot_proc, new_user):
    owner, joiner = new_user(), new_user(language_code="en")
    code = await code_of(bot_proc, owner)
    await set_status(bot_proc, owner.id, "frozen")
    [reply] = await bot_proc.send(joiner, f"/start {code}")
    assert "not available" in reply.text and cli_user(bot_proc, joiner.id)["referrer_id"] is None
    [own] = await bot_proc.send(owner, "/code")
    assert "冻结" in own.text and own.method == "sendMessage"


async def test_stickers_photos_long_text_unknown_commands_and_edits(bot_proc, fake, new_user):
    user = new_user(language_code="en")
    for update in (fake.sticker(user), fake.photo_message(user)):
        since = fake.mark()
        bot_proc.deliver(update)
        [reply] = await bot_proc.replies(user.id, since)
        assert "/help" in reply.text
    [long_reply] = await bot_proc.send(user, "x" * 4000)
    assert "/help" in long_reply.text and len(long_reply.text) < 200
    [unknown] = await bot_proc.send(user, "/teleport now")
    assert "/teleport" in unknown.text
    since = fake.mark()
    bot_proc.deliver(fake.edited_message(user, "/code"))
    [edited] = await bot_proc.replies(user.id, since)
    assert "Edited" in edited.text and cli_user(bot_proc, user.id)["codes"] == []


async def test_groups_get_a_short_pointer_and_no_chatter(bot_proc, fake, new_user):
    user = new_user()
    group = -100_555_000_111
    [pointer] = await bot_proc.send(user, "/code", chat=fake.group_chat(group))
    assert pointer.buttons[0]["url"] == "https://t.me/ReferralTestBot"
    since = fake.mark()
    bot_proc.deliver(fake.group_message(user, group, "hello everyone"))
    await bot_proc.send(user, "/help")  # a later private update has been handled
    assert fake.sent_to(group, since=since) == []


async def test_invites_lists_masked_referees_with_pages(bot_proc, fake, new_user):
    owner = new_user(language_code="en")
    code = await code_of(bot_proc, owner)
    for i in range(12):
        await bot_proc.send(new_user(first_name=f"Friend{i:02d}"), f"/start {code}")
    [page] = await bot_proc.send(owner, "/invites")
    assert "Level 1: 12 people" in page.text and "Fri***" in page.text and "Friend0" not in page.text
    _, [second] = await bot_proc.press(owner, page, "Next ▶", count=1)
    assert second.method == "editMessageText" and "11. " in second.text


async def test_language_switch_is_kept(bot_proc, new_user):
    user = new_user(language_code="zh-hans")
    [menu] = await bot_proc.send(user, "/language")
    _, [done] = await bot_proc.press(user, menu, "English", count=1)
    assert "English" in done.text
    [help_reply] = await bot_proc.send(user, "/help")
    assert "Referral assistant" in help_reply.text


async def test_the_command_menu_follows_the_chosen_language(bot_proc, fake, new_user):
    user = new_user(language_code="zh-hans")
    [menu] = await bot_proc.send(user, "/language")
    shown = {c["command"]: c["description"] for c in fake.menu_shown(user.id, "zh")}
    assert shown["code"] == "我的邀请码、二维码和链接"  # by the app's language: the default Chinese menu
    since = fake.mark()
    await bot_proc.press(user, menu, "English", count=1)
    await fake.wait_for(lambda c: c.method == "setMyCommands" and c.ok and int(
        (c.params.get("scope") or {}).get("chat_id") or 0) == user.id, since=since)
    shown = {c["command"]: c["description"] for c in fake.menu_shown(user.id, "zh")}
    assert shown["code"] == "My referral code, QR and link" and shown["start"] == "Start, and the risk notice"
    # anyone else with a Chinese app still sees the Chinese menu
    assert fake.menu_shown(new_user(language_code="zh-hans").id, "zh")[0]["description"] == "开始使用与风险提示"


async def test_a_user_who_blocked_the_bot_is_marked_and_left_alone(bot_proc, fake, new_user):
    owner, joiner = new_user(), new_user()
    code = await code_of(bot_proc, owner)
    fake.block(owner.id)
    since = fake.mark()
    await bot_proc.send(joiner, f"/start {code}")
    await fake.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") in (owner.id, str(owner.id)),
                        since=since)
    for _ in range(50):
        if cli_user(bot_proc, owner.id)["status"] == "blocked":
            break
        await asyncio.sleep(0.2)
    assert cli_user(bot_proc, owner.id)["status"] == "blocked"
    fake.unblock(owner.id)


async def test_restart_keeps_everything(bot_proc, fake, new_user):
    owner, joiner = new_user(), new_user()
    code = await code_of(bot_proc, owner)
    await bot_proc.send(joiner, f"/start {code}")
    await bot_proc.restart()
    assert await code_of(bot_proc, owner) == code
    assert cli_user(bot_proc, joiner.id)["referrer_id"] == owner.id
    [again] = await bot_proc.send(joiner, f"/start {code}")
    assert "already have" in again.text or "已经有邀请人" in again.text


async def test_a_crash_after_binding_neither_loses_nor_repeats_the_notice(bot_proc, fake, new_user):
    owner, joiner = new_user(), new_user()
    code = await code_of(bot_proc, owner)
    since = fake.mark()
    await bot_proc.send(joiner, f"/start {code}")
    await bot_proc.kill()  # SIGKILL: whether or not the notice left, nothing runs on the way down
    await bot_proc.start()
    await bot_proc.replies(owner.id, since)
    await bot_proc.send(owner, "/help")  # the restarted outbox has had its chance to send twice
    await asyncio.sleep(1.5)
    notices = [c for c in fake.sent_to(owner.id, since=since) if (c.text or "").startswith("🎉") and c.ok]
    assert len(notices) == 1
