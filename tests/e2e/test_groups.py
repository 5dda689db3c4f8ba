"""Groups and the inline invite card, end to end: the bot added to a group names a missing right,
/invite makes a member's named link and sends it privately (or asks a member who never started the
bot to start it), joins through the link and without it, leave-and-rejoin counted once, an early
leaver not counted, /top with masked names at most once an hour, a joiner who later opens the bot
bound to the link's owner (first touch), a group upgraded to a supergroup keeping its members, links
and joins under the new id, and inline mode answering with the user's own card."""
from __future__ import annotations

import asyncio
import copy
import itertools
import re

from harness import E2E, BotHarness, FakeTelegram, TgUser

pytestmark = E2E

STAY_SECONDS = 1.8
# Joins count after 1.8 s instead of 24 h: the early leaver leaves at once, the others are waited for.
BOT_ENV = {"GROUP_MIN_STAY_HOURS": str(STAY_SECONDS / 3600)}

_groups = itertools.count(1_001_234_500_000)  # supergroups' ids are below -10**12
_basic_groups = itertools.count(4_518_800_000)
LINK = re.compile(r"https://t\.me/ReferralTestBot\?start=([A-Za-z0-9_-]+)")


async def deep_link(bot: BotHarness, user: TgUser) -> re.Match[str]:
    [code] = await bot.send(user, "/code")
    found = LINK.search(code.text or "")
    assert found is not None, code.text
    return found


def new_group(fake: FakeTelegram, title: str) -> int:
    chat_id = -next(_groups)
    fake.group_chat(chat_id, title)
    return chat_id


async def db_value(bot: BotHarness, sql: str, **params: object) -> object:
    """One value from the bot's database: used only to wait until an update without a visible
    answer (a join, a leave) was handled, since updates of different people run side by side."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(bot.db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()
    finally:
        await engine.dispose()


async def handled(bot: BotHarness, sql: str, expected: object, **params: object) -> None:
    for _ in range(200):
        if await db_value(bot, sql, **params) == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{sql} {params} never gave {expected!r}")


async def add_bot(bot: BotHarness, fake: FakeTelegram, adder: TgUser, chat_id: int, **rights: bool) -> str:
    """The adder adds the bot as an admin (with `rights` differing from all granted); returns what it says."""
    since = fake.mark()
    bot.deliver(fake.my_chat_member(adder, old="left", new="administrator", chat=chat_id, rights=rights or None))
    [said] = await bot.replies(chat_id, since)
    return said.text


async def join(bot: BotHarness, fake: FakeTelegram, chat_id: int, who: TgUser, link: str | None = None) -> None:
    bot.deliver(fake.chat_member(chat_id, who, old="left", new="member", invite_link=link))
    await handled(bot, "SELECT count(*) FROM group_joins WHERE chat_id = :c AND user_id = :u", 1, c=chat_id, u=who.id)


async def leave(bot: BotHarness, fake: FakeTelegram, chat_id: int, who: TgUser) -> None:
    bot.deliver(fake.chat_member(chat_id, who, old="member", new="left"))
    await handled(bot, "SELECT present FROM group_members WHERE chat_id = :c AND user_id = :u", False,
                  c=chat_id, u=who.id)


async def test_the_bot_names_the_missing_invite_right_when_added_and_at_invite(bot_proc, fake, new_user):
    adder, member = new_user(language_code="en"), new_user(first_name="Mia", language_code="en")
    group = new_group(fake, "No Rights Here")
    said = await add_bot(bot_proc, fake, adder, group, can_invite_users=False)
    assert "without the right “Invite users via link”" in said
    await bot_proc.send(member, "/start")
    [answer] = await bot_proc.send(member, "/invite", chat=group)
    assert answer.text.startswith("I can't create invite links here: I am an admin, but without the right")
    assert not any(c.method == "createChatInviteLink" for c in fake.calls)


async def test_invite_links_joins_top_and_the_joiner_bound_to_the_links_owner(bot_proc, fake, new_user):
    gina, olga = new_user(language_code="en"), new_user(first_name="Olga", language_code="en")
    group = new_group(fake, "Book Club")
    assert "/invite" in await add_bot(bot_proc, fake, gina, group)

    # A member who never opened the bot can't be written to: they are told, in the group, to start it.
    stranger = new_user(first_name="Sam", language_code="en")
    fake.never_started(stranger.id)
    since = fake.mark()
    [told] = await bot_proc.send(stranger, "/invite", chat=group)
    assert "you haven't started me yet" in told.text
    assert [b["url"] for b in told.buttons] == ["https://t.me/ReferralTestBot"]
    assert not any(c.chat_id == stranger.id or c.method == "createChatInviteLink" for c in fake.calls[since:])

    # Olga's /invite: a link named with her code, sent to her privately, made once.
    await bot_proc.send(olga, "/start")
    since = fake.mark()
    bot_proc.deliver(fake.group_message(olga, group, "/invite"))
    [private] = await bot_proc.replies(olga.id, since)
    [link] = [entry for entry in fake.invite_links if entry["chat_id"] == group]
    assert link["invite_link"] in private.text and "Book Club" in private.text
    assert 1 <= len(link["name"]) <= 32 and link["name"].isalnum() and link["creator"]["id"] == fake.bot_id
    await fake.assert_no_message(group, within=0.3, since=since)
    since = fake.mark()
    bot_proc.deliver(fake.group_message(olga, group, "/invite"))
    [again] = await bot_proc.replies(olga.id, since)
    assert again.text == private.text and len([e for e in fake.invite_links if e["chat_id"] == group]) == 1
    url = link["invite_link"]

    stays, without_link, early, comeback = (new_user(first_name=n, language_code="en")
                                            for n in ("Anna", "Ben", "Cleo", "Dora"))
    await join(bot_proc, fake, group, stays, url)
    await join(bot_proc, fake, group, without_link)
    await join(bot_proc, fake, group, early, url)
    await leave(bot_proc, fake, group, early)  # within the minimum stay: never counts,
    await join(bot_proc, fake, group, early, url)  # even after rejoining through the link
    await join(bot_proc, fake, group, comeback, url)
    await asyncio.sleep(STAY_SECONDS + 0.3)
    await leave(bot_proc, fake, group, comeback)  # left after the stay: counts, once
    await join(bot_proc, fake, group, comeback, url)

    [board] = await bot_proc.send(gina, "/top", chat=group)
    lines = board.text.splitlines()
    assert lines[0].startswith("Top inviters this week") and lines[1:3] == ["1. O*** — 2", ""]
    assert "Olga" not in board.text
    since = fake.mark()
    fake.push_update(fake.group_message(olga, group, "/top"))
    await fake.assert_no_message(group, within=1.0, since=since)  # one post an hour

    # Anna opens the bot for the first time, through someone else's link: the group link touched her first.
    ben_code = (await deep_link(bot_proc, without_link)).group(1)
    since = fake.mark()
    [greeting] = await bot_proc.send(stays, f"/start {ben_code}")
    assert greeting.text.startswith("🎉 You joined through O***'s invitation.")
    [notice] = await bot_proc.replies(olga.id, since)
    assert "Someone joined through your link" in notice.text and "A***" in notice.text


async def test_a_group_upgraded_to_a_supergroup_keeps_its_links_and_who_invited_whom(bot_proc, fake, new_user):
    gina, olga, fred, nina = (new_user(first_name=n, language_code="en") for n in ("Gina", "Olga", "Fred", "Nina"))
    basic = -next(_basic_groups)
    fake.group_chat(basic, "Garden Club")
    assert "/invite" in await add_bot(bot_proc, fake, gina, basic)
    await bot_proc.send(olga, "/start")
    since = fake.mark()
    bot_proc.deliver(fake.group_message(olga, basic, "/invite"))
    [given] = await bot_proc.replies(olga.id, since)
    [link] = [entry for entry in fake.invite_links if entry["chat_id"] == basic]
    url = link["invite_link"]
    await join(bot_proc, fake, basic, fred, url)

    # The upgrade: both service messages, the supergroup's first, each delivered twice (the same
    # update again, and the same message under a new update id).
    supergroup = -next(_groups)
    to, from_ = fake.group_upgraded(basic, supergroup, by=gina)
    since = fake.mark()
    for update in (from_, to):
        bot_proc.deliver(update)
        fake.redeliver(update)
        bot_proc.deliver({"message": copy.deepcopy(update["message"])})
    await handled(bot_proc, "SELECT count(*) FROM group_joins WHERE chat_id = :c", 1, c=supergroup)
    await handled(bot_proc, "SELECT count(*) FROM groups WHERE chat_id = :c", 0, c=basic)
    await fake.assert_no_message(supergroup, within=0.5, since=since)  # nothing said in either chat
    assert not fake.sent_to(basic, since=since)

    # Olga's /invite in private offers the group under its new id, with the link she already has.
    [pick] = await bot_proc.send(olga, "/invite")
    assert [b["callback_data"] for b in pick.buttons] == [f"ginv:{supergroup}"]
    _, [edited] = await bot_proc.press(olga, pick, "Garden Club", count=1)
    assert url in edited.text and edited.text == given.text
    assert len(fake.invite_links) == len({e["invite_link"] for e in fake.invite_links})  # no new link made
    assert [e["chat_id"] for e in fake.invite_links if e["invite_link"] == url] == [supergroup]

    # Fred joined through her link before the upgrade, Nina through it after: both are hers.
    since = fake.mark()
    [greeting] = await bot_proc.send(fred, "/start")
    assert greeting.text.startswith("🎉 You joined through O***'s invitation.")
    await join(bot_proc, fake, supergroup, nina, url)
    [greeting] = await bot_proc.send(nina, "/start")
    assert greeting.text.startswith("🎉 You joined through O***'s invitation.")
    notices = await bot_proc.replies(olga.id, since, count=2)
    assert all("Someone joined through your link" in n.text for n in notices)


async def test_inline_mode_offers_the_users_own_card_and_a_button_to_others(bot_proc, fake, new_user):
    ivy, newcomer = new_user(first_name="Ivy", language_code="en"), new_user(language_code="en")
    link = (await deep_link(bot_proc, ivy)).group(0)

    async def answer(user: TgUser) -> dict:
        query = bot_proc.deliver(fake.inline_query(user, "whatever"))["inline_query"]
        call = await fake.wait_for(lambda c: c.method == "answerInlineQuery"
                                   and str(c.params["inline_query_id"]) == query["id"])
        assert call.ok, call
        return call.params

    card = await answer(ivy)
    assert (card["is_personal"], card["cache_time"]) == (True, 10) and "button" not in card
    [result] = card["results"]
    assert result["type"] == "article" and result["title"] == "Send my invitation card"
    assert link in result["input_message_content"]["message_text"]
    assert result["reply_markup"]["inline_keyboard"] == [[{"text": "Join", "url": link}]]

    nothing = await answer(newcomer)
    assert nothing["results"] == [] and nothing["is_personal"] is True
    assert nothing["button"] == {"text": "Open the bot to get your invitation card", "start_parameter": "inline"}
    [hello] = await bot_proc.send(newcomer, "/start inline")
    assert hello.text.startswith("Hello,") and "referral code" not in hello.text.split("\n")[0]
