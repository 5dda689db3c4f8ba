"""Bad input of every kind gets a clear answer in the user's language and loses nothing."""
from __future__ import annotations

import html

import pytest

from bot.context import parse_command
from tests.support import callback, message, person


async def test_unknown_command(pipeline, transport):
    await pipeline.handle(message(person(1, lang="en"), "/frobnicate now"))
    assert "/frobnicate" in transport.last(1).text and "/help" in transport.last(1).text


async def test_unknown_command_name_is_escaped_and_truncated(pipeline, transport):
    await pipeline.handle(message(person(2, lang="en"), "/" + "a" * 60))
    assert len(transport.last(2).text) < 200


async def test_free_text_and_a_4000_character_message(pipeline, transport):
    await pipeline.handle(message(person(3), "你好"))
    await pipeline.handle(message(person(3), "<b>" + "x" * 4000))
    first, second = transport.to(3)
    assert "/help" in first.text and second.text == first.text  # nothing echoed


async def test_stickers_and_photos(pipeline, transport):
    await pipeline.handle(message(person(4, lang="en"), None, content_type="sticker"))
    await pipeline.handle(message(person(4, lang="en"), None, content_type="photo"))
    assert all("stickers" in s.text for s in transport.to(4))


async def test_edited_messages_are_not_processed(app, pipeline, transport):
    await pipeline.handle(message(person(5, lang="en"), "/code", kind="edited_message"))
    assert transport.last(5).method == "send_message" and "Edited" in transport.last(5).text
    async with app.uow() as uow:
        assert await uow.codes.personal(5) is None


async def test_commands_in_groups_get_a_short_pointer_to_private(app, pipeline, transport):
    await pipeline.handle(message(person(6), "/code", chat_id=-100123, chat_type="supergroup"))
    sent = transport.to(-100123)
    assert len(sent) == 1 and "私聊" in sent[0].text
    assert sent[0].buttons()[0].url == "https://t.me/ReferralTestBot"
    async with app.uow() as uow:
        assert await uow.codes.personal(6) is None


async def test_groups_chatter_and_other_bots_commands_are_ignored(pipeline, transport):
    await pipeline.handle(message(person(7), "hello all", chat_id=-5, chat_type="group"))
    await pipeline.handle(message(person(7), "/weather", chat_id=-5, chat_type="group"))
    await pipeline.handle(message(person(7), "/code@OtherBot", chat_id=-5, chat_type="group"))
    assert transport.to(-5) == []


async def test_command_addressed_to_us_in_a_group(pipeline, transport):
    await pipeline.handle(message(person(8), "/help@ReferralTestBot", chat_id=-6, chat_type="group"))
    assert len(transport.to(-6)) == 1


async def test_unknown_and_stale_buttons(pipeline, transport):
    await pipeline.handle(callback(person(9), "nope:1"))
    await pipeline.handle(callback(person(9), "inv:999999999"))
    await pipeline.handle(callback(person(9), ""))
    answers = [s for s in transport.sent if s.method == "answer_callback"]
    assert len(answers) == 3


async def test_user_strings_are_escaped_for_html(app, pipeline, transport):
    await pipeline.handle(message(person(10, name="<i>Evil</i> & Co"), "/start"))
    text = transport.last(10).text
    assert html.escape("<i>Evil</i> & Co", quote=False) in text and "<i>Evil" not in text


@pytest.mark.expect_handler_error
async def test_a_handler_error_rolls_back_and_apologises(app, pipeline, transport, monkeypatch, caplog):
    async def boom(self, owner_id):  # noqa: ANN001, ANN202
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("bot.services.codes.CodeService.personal_code", boom)
    update = message(person(11), "/code")
    await pipeline.handle(update)
    assert "出错" in transport.last(11).text
    assert "handler failed" in caplog.text
    monkeypatch.undo()
    # the failed delivery was not recorded as handled, so a redelivery works
    await pipeline.handle(update)
    assert transport.last(11).method == "send_photo"


def test_parse_command():
    assert parse_command("/start ABC", "Bot") == ("start", "ABC")
    assert parse_command("/START@bot  x y ", "Bot") == ("start", "x y")
    assert parse_command("/start@Other x", "Bot") == (None, "")
    assert parse_command("start", "Bot") == (None, "")
    assert parse_command("/", "Bot") == (None, "")
    assert parse_command(None, "Bot") == (None, "")
