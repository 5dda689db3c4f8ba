"""The fake Bot API server behaves like Telegram for the clients the bot uses.

Exercised over real HTTP with a bare aiohttp client (to see exact bodies), with
aiogram's Bot (the default runtime) and with python-telegram-bot's Bot.
"""
from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from aiohttp import web

from .telegram_server import FakeTelegram, FloodLimits, TgUser, _tiny_png

TOKEN = "123456:TEST-token"
ALICE = TgUser(1001, "Alice", username="alice")
BOB = TgUser(1002, "Bob", last_name="B", language_code="en")
GROUP = -100_2000_3000_4000


@pytest_asyncio.fixture
async def fake():
    async with FakeTelegram(TOKEN) as server:
        yield server
    assert not server.internal_errors


class _LocalSession(AiohttpSession):
    async def close(self) -> None:
        # aiogram sleeps 250 ms after closing, for SSL connections; plain HTTP to 127.0.0.1 has none.
        if self._session is not None and not self._session.closed:
            await self._session.close()


def aiogram_bot(fake: FakeTelegram) -> Bot:
    return Bot(fake.token, session=_LocalSession(api=TelegramAPIServer.from_base(fake.base_url)))


@pytest_asyncio.fixture
async def bot(fake):
    bot = aiogram_bot(fake)
    yield bot
    await bot.session.close()


@pytest_asyncio.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def call_api(http: aiohttp.ClientSession, fake: FakeTelegram, method: str, **params) -> tuple[int, dict]:
    async with http.post(f"{fake.base_url}/bot{fake.token}/{method}", json=params) as resp:
        return resp.status, await resp.json()


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows]
    )


# ------------------------------------------------------------------ basics


async def test_get_me_reports_the_bot_named_by_the_token(bot):
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "ReferralTestBot", True)


async def test_method_names_are_case_insensitive_and_get_works(fake, http):
    async with http.get(f"{fake.base_url}/bot{fake.token}/GETME") as resp:
        assert resp.status == 200
        assert (await resp.json())["result"]["id"] == 123456
    assert fake.calls[-1].method == "getMe"


async def test_wrong_token_and_unknown_method(fake, http):
    async with http.post(f"{fake.base_url}/bot1:other/getMe") as resp:
        assert resp.status == 401
        assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    status, body = await call_api(http, fake, "sendTelepathy")
    assert (status, body["description"]) == (404, "Not Found")


# ------------------------------------------------------------------ updates


async def test_long_poll_returns_as_soon_as_an_update_is_pushed(fake, bot):
    mark = fake.mark()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for(lambda c: c.method == "getUpdates", since=mark, timeout=2)
    assert not poll.done()
    loop = asyncio.get_running_loop()
    started = loop.time()
    update = fake.push_update(fake.message(ALICE, "/start abc"))
    updates = await asyncio.wait_for(poll, 2)
    assert loop.time() - started < 1
    assert [u.update_id for u in updates] == [update["update_id"]]
    message = updates[0].message
    assert (message.text, message.chat.id, message.chat.type) == ("/start abc", ALICE.id, "private")
    assert message.entities[0].type == "bot_command" and message.entities[0].length == len("/start")


async def test_long_poll_times_out_empty(fake, http):
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await call_api(http, fake, "getUpdates", timeout=0.3) == (200, {"ok": True, "result": []})
    assert 0.3 <= loop.time() - started < 1


async def test_offset_confirms_and_limit_caps(fake, bot):
    first = fake.push_update(fake.message(ALICE, "one"))
    second = fake.push_update(fake.message(ALICE, "two"))
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [first["update_id"]]
    assert [u.update_id for u in await bot.get_updates()] == [first["update_id"], second["update_id"]]
    assert [u.update_id for u in await bot.get_updates(offset=second["update_id"])] == [second["update_id"]]
    assert await bot.get_updates(offset=second["update_id"] + 1) == []
    assert second["update_id"] > first["update_id"]


async def test_redeliver_serves_a_confirmed_update_once_more(fake, bot):
    update = fake.push_update(fake.message(ALICE, "/start"))
    [got] = await bot.get_updates()
    assert await bot.get_updates(offset=got.update_id + 1) == []
    fake.redeliver(update)
    [again] = await bot.get_updates(offset=got.update_id + 1)
    assert again.update_id == update["update_id"] and again.message.text == "/start"
    assert await bot.get_updates(offset=got.update_id + 1) == []


async def test_second_poller_terminates_the_first_with_a_conflict(fake, bot):
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for(lambda c: c.method == "getUpdates")
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 2)
    assert await second == []


async def test_opt_in_update_types_need_allowed_updates(fake, bot):
    fake.push_update(fake.chat_member(GROUP, BOB))
    fake.push_update(fake.message(ALICE, "hi"))
    assert [u.message.text for u in await bot.get_updates()] == ["hi"]  # chat_member dropped, as Telegram does
    member = fake.push_update(fake.chat_member(GROUP, BOB, old="member", new="left"))
    [got] = await bot.get_updates(offset=member["update_id"], allowed_updates=["chat_member"])
    assert got.chat_member.new_chat_member.status == "left"


async def test_every_update_builder_parses_in_aiogram(fake, bot):
    sent = await bot.send_message(ALICE.id, "pick", reply_markup=keyboard([("Yes", "y"), ("No", "n")]))
    builders = [
        fake.message(ALICE, "hello"),
        fake.group_message(BOB, GROUP, "/start@ReferralTestBot x"),
        fake.sticker(ALICE),
        fake.photo_message(ALICE, caption="look"),
        fake.edited_message(ALICE, "edited", fake.message(ALICE, "orig")),
        fake.click(ALICE, sent.model_dump(by_alias=True, exclude_none=True), "No"),
        fake.inline_query(ALICE, "code"),
        fake.new_chat_members(GROUP, [ALICE], by=BOB),
        fake.left_chat_member(GROUP, ALICE),
        fake.my_chat_member(ALICE, old="member", new="kicked"),
    ]
    for update in builders:
        fake.push_update(update)
    updates = await bot.get_updates()
    assert len(updates) == len(builders)
    assert updates[1].message.chat.type == "supergroup"
    assert updates[3].message.photo[-1].file_id
    assert updates[4].edited_message.text == "edited"
    assert updates[5].callback_query.data == "n" and updates[5].callback_query.message.message_id == sent.message_id
    assert updates[9].my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(ValueError, match="no button"):
        fake.click(ALICE, sent.model_dump(by_alias=True, exclude_none=True), "Maybe")
    with pytest.raises(ValueError, match="callback_data 'forged'"):
        fake.callback(ALICE, "forged", sent.model_dump(by_alias=True, exclude_none=True))


# ------------------------------------------------------------------ sending and refusals


async def test_send_message_returns_parsed_text_entities_and_keyboard(fake, bot):
    html = "<b>Hi</b> &lt;you&gt;"
    message = await bot.send_message(ALICE.id, html, parse_mode="HTML", reply_markup=keyboard([("Go", "go")]))
    assert message.text == "Hi <you>"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, 2)]
    assert message.reply_markup.inline_keyboard[0][0].callback_data == "go"
    assert message.from_user.id == 123456 and message.chat.id == ALICE.id
    call = await fake.next_message(ALICE.id)
    assert (call.text, call.sent_text, [b["text"] for b in call.buttons]) == ("Hi <you>", html, ["Go"])
    assert fake.sent_to(ALICE.id) == [call]


async def test_message_too_long_counts_visible_utf16_units(bot):
    await bot.send_message(ALICE.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")  # tags do not count
    await bot.send_message(ALICE.id, "&amp;" * 4096, parse_mode="HTML")  # one character each
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE.id, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE.id, "😀" * 2049)  # 4098 UTF-16 code units
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(ALICE.id, BufferedInputFile(_tiny_png(), "p.png"), caption="c" * 1025)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ALICE.id, "<b> </b>", parse_mode="HTML")


@pytest.mark.parametrize("text", ["<b>bold", "a < b", "<unknown>x</unknown>", "<b><i>x</b></i>", "Tom & Jerry", "</b>"])
async def test_bad_html_is_refused_like_telegram(fake, http, text):
    async with http.post(
        f"{fake.base_url}/bot{fake.token}/sendMessage",
        data={"chat_id": str(ALICE.id), "text": text, "parse_mode": "HTML"},
    ) as resp:
        body = await resp.json()
    assert resp.status == 400
    assert body["ok"] is False and body["error_code"] == 400
    assert body["description"].startswith("Bad Request: can't parse entities: ")
    assert fake.sent_to(ALICE.id) == []


async def test_markdown_v2_reserved_characters_must_be_escaped(bot):
    message = await bot.send_message(ALICE.id, r"*Total:* 1\.50 \(CNY\)", parse_mode="MarkdownV2")
    assert message.text == "Total: 1.50 (CNY)"
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(ALICE.id, "Total: 1.50", parse_mode="MarkdownV2")


async def test_callback_data_over_64_bytes_is_refused(fake, http):
    markup = json.dumps({"inline_keyboard": [[{"text": "x", "callback_data": "码" * 22}]]})  # 66 bytes
    async with http.post(
        f"{fake.base_url}/bot{fake.token}/sendMessage",
        data={"chat_id": str(ALICE.id), "text": "hi", "reply_markup": markup},
    ) as resp:
        assert (resp.status, await resp.json()) == (
            400, {"ok": False, "error_code": 400, "description": "Bad Request: BUTTON_DATA_INVALID"}
        )


async def test_blocked_user_gives_forbidden(fake, bot):
    fake.block(ALICE.id)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ALICE.id, "hello?")
    await bot.send_message(BOB.id, "still fine")
    fake.unblock(ALICE.id)
    await bot.send_message(ALICE.id, "welcome back")


async def test_unknown_chats(fake, bot):
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(-42, "nobody here")
    async with FakeTelegram(TOKEN, strict_chats=True) as strict:
        strict_bot = aiogram_bot(strict)
        try:
            with pytest.raises(TelegramBadRequest, match="chat not found"):
                await strict_bot.send_message(ALICE.id, "who?")
            strict.push_update(strict.message(ALICE, "/start"))
            await strict_bot.send_message(ALICE.id, "now I know you")
        finally:
            await strict_bot.session.close()


async def test_flood_limits_answer_429_with_retry_after():
    async with FakeTelegram(TOKEN, flood=FloodLimits(global_per_second=3, group_per_minute=2)) as fake:
        bot = aiogram_bot(fake)
        try:
            await bot.send_message(ALICE.id, "one")
            with pytest.raises(TelegramRetryAfter) as caught:
                await bot.send_message(ALICE.id, "two")  # 1 per second per private chat
            assert caught.value.retry_after == 1
            assert fake.calls[-1].response["parameters"] == {"retry_after": 1}
            assert fake.calls[-1].description == "Too Many Requests: retry after 1"
            fake.group_chat(GROUP)
            await bot.send_message(GROUP, "g1")
            await bot.send_message(GROUP, "g2")
            with pytest.raises(TelegramRetryAfter) as caught:
                await bot.send_message(BOB.id, "three")  # the global budget of 3/s is spent
            assert caught.value.retry_after == 1
            assert len(fake.sent_to(ALICE.id)) == 1  # refused sends are not messages
        finally:
            await bot.session.close()
    async with FakeTelegram(TOKEN, flood=FloodLimits(group_per_minute=2)) as fake:
        bot = aiogram_bot(fake)
        try:
            fake.group_chat(GROUP)
            await bot.send_message(GROUP, "g1")
            await bot.send_message(GROUP, "g2")
            with pytest.raises(TelegramRetryAfter) as caught:
                await bot.send_message(GROUP, "g3")  # 2 per minute for this group
            assert 59 <= caught.value.retry_after <= 60
        finally:
            await bot.session.close()


async def test_fail_next_injects_a_one_off_failure(fake, bot):
    fake.fail_next("sendmessage", 429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ALICE.id, "first try")
    assert caught.value.retry_after == 3
    await bot.send_message(ALICE.id, "second try")
    assert [c.text for c in fake.sent_to(ALICE.id)] == ["second try"]


# ------------------------------------------------------------------ files


async def test_photo_upload_then_resend_by_file_id(fake, bot, http):
    png = _tiny_png(40, 20)
    first = await bot.send_photo(
        ALICE.id, BufferedInputFile(png, "qr.png"), caption="<i>Your code</i>", parse_mode="HTML",
        reply_markup=keyboard([("Share", "share")]),
    )
    file_id = first.photo[-1].file_id
    assert (first.photo[-1].width, first.photo[-1].height) == (40, 20)
    assert first.caption == "Your code" and first.reply_markup is not None
    assert fake.file_bytes(file_id) == png
    again = await bot.send_photo(BOB.id, file_id)
    assert again.photo[-1].file_id == file_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(ALICE.id, "photo-does-not-exist")
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ALICE.id, BufferedInputFile(b"not an image", "x.png"))
    file = await bot.get_file(file_id)
    async with http.get(f"{fake.base_url}/file/bot{fake.token}/{file.file_path}") as resp:
        assert await resp.read() == png
    call = await fake.next_message(ALICE.id)
    assert call.photo_file_id == file_id and call.text == "Your code"


async def test_document_upload_multipart_by_hand(fake, http):
    form = aiohttp.FormData()
    form.add_field("chat_id", str(ALICE.id))
    form.add_field("caption", "report")
    form.add_field("reply_markup", json.dumps({"inline_keyboard": [[{"text": "Open", "url": "https://example.com"}]]}))
    form.add_field("document", b"a,b\n1,2\n", filename="report.csv", content_type="text/csv")
    async with http.post(f"{fake.base_url}/bot{fake.token}/sendDocument", data=form) as resp:
        body = await resp.json()
    assert resp.status == 200, body
    document = body["result"]["document"]
    assert (document["file_name"], document["mime_type"], document["file_size"]) == ("report.csv", "text/csv", 8)
    assert fake.file_bytes(document["file_id"]) == b"a,b\n1,2\n"
    status, body = await call_api(http, fake, "sendPhoto", chat_id=ALICE.id, photo=document["file_id"])
    assert (status, body["description"]) == (400, "Bad Request: can't use file of type Document as Photo")


# ------------------------------------------------------------------ callbacks, edits, commands, chats


async def test_callback_answer_once_and_edits(fake, bot):
    sent = await bot.send_message(ALICE.id, "Menu", reply_markup=keyboard([("Rewards", "rw")]))
    update = fake.push_update(fake.click(ALICE, await fake.next_message(ALICE.id), "Rewards"))
    [got] = await bot.get_updates()
    assert got.update_id == update["update_id"]
    assert await bot.answer_callback_query(got.callback_query.id, text="ok")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(got.callback_query.id)
    edited = await bot.edit_message_text("Rewards: 0", chat_id=ALICE.id, message_id=sent.message_id)
    assert edited.text == "Rewards: 0" and edited.reply_markup is None  # no markup given: keyboard removed
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Rewards: 0", chat_id=ALICE.id, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ALICE.id, message_id=999)
    assert fake.stored_message(ALICE.id, sent.message_id)["text"] == "Rewards: 0"
    assert [c.method for c in fake.sent_to(ALICE.id)] == ["sendMessage", "editMessageText"]
    assert fake.callback_answers == [{"callback_query_id": got.callback_query.id, "text": "ok"}]


async def test_reply_markup_edits(fake, bot):
    sent = await bot.send_message(ALICE.id, "Pick", reply_markup=keyboard([("A", "a")]))
    edited = await bot.edit_message_reply_markup(
        chat_id=ALICE.id, message_id=sent.message_id, reply_markup=keyboard([("B", "b")])
    )
    assert edited.reply_markup.inline_keyboard[0][0].text == "B"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=ALICE.id, message_id=sent.message_id, reply_markup=keyboard([("B", "b")])
        )
    await bot.edit_message_reply_markup(chat_id=ALICE.id, message_id=sent.message_id)
    assert "reply_markup" not in fake.stored_message(ALICE.id, sent.message_id)
    user_message = fake.push_update(fake.message(ALICE, "mine"))["message"]
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("hijack", chat_id=ALICE.id, message_id=user_message["message_id"])


async def test_inline_query_answers(fake, bot, http):
    query = fake.push_update(fake.inline_query(ALICE, "my code"))["inline_query"]
    article = {
        "type": "article", "id": "code", "title": "Share",
        "input_message_content": {"message_text": "<b>Join</b> me", "parse_mode": "HTML"},
    }
    status, body = await call_api(http, fake, "answerInlineQuery", inline_query_id=query["id"],
                                  results=[article, article])
    assert (status, body["description"]) == (400, "Bad Request: RESULT_ID_DUPLICATE")
    broken = {**article, "input_message_content": {"message_text": "<b>Join", "parse_mode": "HTML"}}
    status, body = await call_api(http, fake, "answerInlineQuery", inline_query_id=query["id"], results=[broken])
    assert status == 400 and "can't parse entities" in body["description"]
    status, body = await call_api(http, fake, "answerInlineQuery", inline_query_id=query["id"], results=[article],
                                  cache_time=0, is_personal=True)
    assert (status, body) == (200, {"ok": True, "result": True})
    assert fake.inline_answers[-1]["results"][0]["id"] == "code"
    status, body = await call_api(http, fake, "answerInlineQuery", inline_query_id=query["id"], results=[])
    assert body["description"].endswith("query ID is invalid")


async def test_commands_are_stored_per_language_and_scope(fake, bot):
    await bot.set_my_commands([BotCommand(command="start", description="开始")], language_code="zh")
    await bot.set_my_commands(
        [BotCommand(command="start", description="Start")], scope=BotCommandScopeAllPrivateChats()
    )
    assert [c.description for c in await bot.get_my_commands(language_code="zh")] == ["开始"]
    assert await bot.get_my_commands() == []
    assert fake.commands(scope={"type": "all_private_chats"}) == [{"command": "start", "description": "Start"}]
    with pytest.raises(TelegramBadRequest, match="invalid language code"):
        await bot.set_my_commands([BotCommand(command="start", description="x")], language_code="zh-CN")
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])
    await bot.delete_my_commands(language_code="zh")
    assert fake.commands("zh") == []


async def test_the_menu_shown_follows_telegrams_order_of_scopes_and_languages(fake, bot):
    def shown(app_language: str) -> list[str]:
        return [c["description"] for c in fake.menu_shown(ALICE.id, app_language)]

    assert shown("en") == []
    await bot.set_my_commands([BotCommand(command="start", description="Default")])
    await bot.set_my_commands([BotCommand(command="start", description="默认")], language_code="zh")
    assert shown("zh") == ["默认"] and shown("en") == ["Default"]
    await bot.set_my_commands([BotCommand(command="start", description="Private")],
                              scope=BotCommandScopeAllPrivateChats())
    assert shown("zh") == ["Private"]  # a narrower scope with no language wins over a wider one with it
    await bot.set_my_commands([BotCommand(command="start", description="Chat")], scope=BotCommandScopeChat(
        chat_id=ALICE.id))
    await bot.set_my_commands([BotCommand(command="start", description="Chat en")], language_code="en",
                              scope=BotCommandScopeChat(chat_id=ALICE.id))
    assert shown("zh") == ["Chat"] and shown("en") == ["Chat en"]
    assert [c["description"] for c in fake.menu_shown(BOB.id, "zh")] == ["Private"]  # another chat


async def test_chats_members_and_invite_links(fake, bot):
    fake.push_update(fake.group_message(BOB, GROUP, "hi all"))
    chat = await bot.get_chat(GROUP)
    assert (chat.type, chat.title) == ("supergroup", f"Group {-GROUP}")
    assert (await bot.get_chat_member(GROUP, BOB.id)).status == "member"
    assert (await bot.get_chat_member(GROUP, ALICE.id)).status == "left"
    assert (await bot.get_chat_member(GROUP, fake.bot_id)).status == "administrator"
    link = await bot.create_chat_invite_link(GROUP, name="station-7", member_limit=10)
    assert link.invite_link.startswith("https://t.me/+") and link.name == "station-7"
    fake.set_member(GROUP, fake.bot_id, "member")
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.create_chat_invite_link(GROUP)
    private = await bot.get_chat(ALICE.id)
    assert private.type == "private"


async def test_a_group_upgraded_to_a_supergroup(fake, bot, http):
    telegram = pytest.importorskip("telegram")
    basic, supergroup = -4_518_810_793, -1_002_471_352_452
    fake.push_update(fake.group_message(BOB, basic, "hi"))
    fake.set_member(basic, fake.bot_id, "administrator", rights={"can_pin_messages": False})
    link = await bot.create_chat_invite_link(basic, name="ABCD2345")
    to, from_ = fake.group_upgraded(basic, supergroup, by=BOB)
    assert to["message"]["migrate_to_chat_id"] == supergroup and to["message"]["chat"]["type"] == "group"
    assert from_["message"]["from"]["username"] == "GroupAnonymousBot"
    for update in (to, from_):
        fake.push_update(update)
        assert telegram.Update.de_json(update, None).update_id == update["update_id"]
    upgraded = await bot.get_updates(offset=to["update_id"])
    assert [u.message.migrate_to_chat_id for u in upgraded] == [supergroup, None]
    assert upgraded[1].message.migrate_from_chat_id == basic and upgraded[1].message.chat.type == "supergroup"
    # Members, rights and invite links carry over; the old id is refused, naming the new one.
    assert (await bot.get_chat_member(supergroup, BOB.id)).status == "member"
    me = await bot.get_chat_member(supergroup, fake.bot_id)
    assert (me.status, me.can_pin_messages, me.can_invite_users) == ("administrator", False, True)
    assert [entry["chat_id"] for entry in fake.invite_links if entry["invite_link"] == link.invite_link] == [supergroup]
    status, body = await call_api(http, fake, "sendMessage", chat_id=basic, text="anyone?")
    assert (status, body["description"], body["parameters"]) == (
        400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": supergroup})
    await bot.send_message(supergroup, "here")
    with pytest.raises(ValueError, match="only a basic group upgrades"):
        fake.group_upgraded(supergroup, -1_009_999_999_999, by=BOB)


async def test_copy_message(fake, bot):
    update = fake.push_update(fake.message(ALICE, "forward me"))
    copied = await bot.copy_message(BOB.id, ALICE.id, update["message"]["message_id"])
    call = await fake.next_message(BOB.id)
    assert call.message_id == copied.message_id and call.text == "forward me"
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(BOB.id, ALICE.id, 9999)


# ------------------------------------------------------------------ waiting helpers


async def test_wait_for_times_out_with_the_recent_calls(fake, bot):
    await bot.send_message(ALICE.id, "something else")
    with pytest.raises(TimeoutError, match="something else"):
        await fake.wait_for(lambda c: c.method == "sendPhoto", timeout=0.2)
    await fake.assert_no_message(BOB.id, within=0.1)


async def test_next_message_walks_forward(fake, bot):
    async def later():
        await fake.wait_for(lambda c: c.method == "getMe")
        for text in ("a", "b", "c"):
            await bot.send_message(ALICE.id, text)

    task = asyncio.create_task(later())
    await bot.get_me()
    assert [(await fake.next_message(ALICE.id, timeout=2)).text for _ in range(3)] == ["a", "b", "c"]
    await task


# ------------------------------------------------------------------ webhooks


async def test_webhook_delivery_with_secret_and_reply_in_response(fake, bot):
    received: list[tuple[str | None, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), update))
        # answer in the webhook response body, which Telegram executes
        return web.json_response({"method": "sendMessage", "chat_id": update["message"]["chat"]["id"], "text": "pong"})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        await bot.set_webhook(url, secret_token="s3cret")
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        fake.push_update(fake.message(ALICE, "ping"))
        reply = await fake.next_message(ALICE.id, timeout=5)
        assert (reply.text, reply.source) == ("pong", "webhook-reply")
        assert received[0][0] == "s3cret" and received[0][1]["message"]["text"] == "ping"
        assert await fake.post_webhook(url, fake.message(BOB, "direct")) == 200
        assert received[1][0] is None
        await bot.delete_webhook()
        assert await bot.get_updates() == []
    finally:
        await runner.cleanup()


async def test_webhook_failures_are_retried_and_reported(fake, bot):
    statuses = [500, 200]
    seen: list[int] = []

    async def hook(request: web.Request) -> web.Response:
        seen.append((await request.json())["update_id"])
        return web.Response(status=statuses.pop(0))

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")
        update = fake.push_update(fake.message(ALICE, "retry me"))
        await fake.until(lambda: fake.pending_updates == 0, timeout=5)
        assert seen == [update["update_id"], update["update_id"]]
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0 and info.last_error_message == "Wrong response from the webhook: 500"
    finally:
        await runner.cleanup()


# ------------------------------------------------------------------ python-telegram-bot


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_python_telegram_bot_parses_the_responses(fake):
    telegram = pytest.importorskip("telegram")
    from telegram.error import BadRequest, Forbidden, RetryAfter

    urls = {"base_url": f"{fake.base_url}/bot", "base_file_url": f"{fake.base_url}/file/bot"}
    async with telegram.Bot(fake.token, **urls) as ptb:
        assert ptb.username == "ReferralTestBot"
        buttons = telegram.InlineKeyboardMarkup([[telegram.InlineKeyboardButton("Go", callback_data="go")]])
        message = await ptb.send_message(ALICE.id, "<b>hi</b>", parse_mode="HTML", reply_markup=buttons)
        assert message.text == "hi" and message.reply_markup.inline_keyboard[0][0].callback_data == "go"
        photo = await ptb.send_photo(ALICE.id, _tiny_png(), caption="qr")
        assert fake.file_bytes(photo.photo[-1].file_id) == _tiny_png()
        document = await ptb.send_document(ALICE.id, b"data", filename="a.txt")
        assert document.document.file_name == "a.txt"
        edited = await ptb.edit_message_text(
            "bye", chat_id=ALICE.id, message_id=message.message_id, reply_markup=buttons
        )
        assert edited.text == "bye"
        assert (await ptb.get_chat(ALICE.id)).type == "private"
        assert (await ptb.get_chat_member(ALICE.id, ALICE.id)).status == "member"
        fake.push_update(fake.message(ALICE, "/start ref_ABC"))
        fake.push_update(fake.callback(ALICE, "go", await fake.next_message(ALICE.id)))
        fake.push_update(fake.photo_message(ALICE))
        fake.push_update(fake.my_chat_member(ALICE))
        updates = await ptb.get_updates()
        assert updates[0].message.text == "/start ref_ABC" and updates[1].callback_query.data == "go"
        assert updates[2].message.photo and updates[3].my_chat_member.new_chat_member.status == "kicked"
        with pytest.raises(BadRequest, match="too long"):
            await ptb.send_message(ALICE.id, "x" * 5000)
        fake.fail_next("sendMessage", 429, retry_after=2)
        with pytest.raises(RetryAfter):
            await ptb.send_message(ALICE.id, "x")
        fake.block(ALICE.id)
        with pytest.raises(Forbidden):
            await ptb.send_message(ALICE.id, "x")


async def test_updates_built_by_the_fake_parse_in_both_libraries(fake, bot):
    telegram = pytest.importorskip("telegram")
    sent = await bot.send_message(ALICE.id, "m", reply_markup=keyboard([("A", "a")]))
    for update in (
        fake.message(ALICE, "/help"),
        fake.callback(ALICE, "a", sent.model_dump(by_alias=True, exclude_none=True)),
        fake.inline_query(BOB, "q"),
        fake.chat_member(GROUP, BOB),
        fake.new_chat_members(GROUP, [BOB]),
    ):
        fake.push_update(update)
        Update.model_validate(update)
        assert telegram.Update.de_json(update, None).update_id == update["update_id"]


async def test_an_admin_without_the_invite_right_cannot_create_links(fake, bot):
    from .telegram_server import NO_INVITE_RIGHTS

    fake.group_chat(GROUP)
    fake.set_member(GROUP, fake.bot_id, "administrator", rights={"can_invite_users": False})
    me = await bot.get_chat_member(GROUP, fake.bot_id)
    assert (me.status, me.can_invite_users, me.can_delete_messages) == ("administrator", False, True)
    with pytest.raises(TelegramBadRequest) as refused:
        await bot.create_chat_invite_link(GROUP, name="ABCD2345")
    assert refused.value.message == NO_INVITE_RIGHTS
    assert fake.invite_links == []
    fake.set_member(GROUP, fake.bot_id, "creator")  # the creator may do anything
    assert (await bot.create_chat_invite_link(GROUP, name="ABCD2345")).name == "ABCD2345"
    with pytest.raises(TelegramBadRequest, match="invite link name is too long"):
        await bot.create_chat_invite_link(GROUP, name="x" * 33)


async def test_my_chat_member_carries_the_bots_rights(fake, bot):
    added = fake.push_update(fake.my_chat_member(BOB, old="left", new="administrator", chat=GROUP,
                                                 rights={"can_invite_users": False}))
    [got] = await bot.get_updates(allowed_updates=["my_chat_member"])
    new = got.my_chat_member.new_chat_member
    assert (got.update_id, new.status, new.can_invite_users, new.user.id) == (
        added["update_id"], "administrator", False, fake.bot_id)
    assert (await bot.get_chat_member(GROUP, fake.bot_id)).can_invite_users is False


async def test_chat_member_carries_the_invite_link_used(fake, bot):
    telegram = pytest.importorskip("telegram")
    fake.group_chat(GROUP)
    link = await bot.create_chat_invite_link(GROUP, name="ABCD2345")
    joined = fake.chat_member(GROUP, ALICE, invite_link=link.invite_link)
    sent = joined["chat_member"]["invite_link"]
    assert sent["invite_link"] == link.invite_link and sent["name"] == "ABCD2345"
    assert sent["creator"]["id"] == fake.bot_id and "chat_id" not in sent
    other = fake.chat_member(GROUP, BOB, invite_link={"invite_link": "https://t.me/+abc...", "name": "friends"})
    assert other["chat_member"]["invite_link"]["creator"]["id"] == fake.bot_id  # filled in like Telegram's
    with pytest.raises(ValueError, match="created no invite link"):
        fake.chat_member(GROUP, BOB, invite_link="https://t.me/+unknown")
    for update in (joined, other):
        fake.push_update(update)
        assert Update.model_validate(update).chat_member.invite_link.name in ("ABCD2345", "friends")
        assert telegram.Update.de_json(update, None).chat_member.invite_link.invite_link.startswith("https://t.me/+")
    restricted = fake.chat_member(GROUP, BOB, old="left", new="restricted")["chat_member"]["new_chat_member"]
    assert restricted["is_member"] is True


async def test_a_user_who_never_started_the_bot_cannot_be_messaged_until_they_write(fake, bot):
    from .telegram_server import CANT_INITIATE

    fake.never_started(ALICE.id)
    with pytest.raises(TelegramForbiddenError) as refused:
        await bot.send_message(ALICE.id, "your link")
    assert refused.value.message == CANT_INITIATE
    fake.push_update(fake.group_message(ALICE, GROUP, "/invite"))  # a group message opens nothing
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(ALICE.id, "your link")
    await bot.send_message(BOB.id, "others are unaffected")
    fake.push_update(fake.message(ALICE, "/start"))
    assert (await bot.send_message(ALICE.id, "your link")).text == "your link"
