"""Inline mode: the user's own invite card, never anyone else's; nothing for people who never opened the bot
(and no user row for them), nothing for frozen users; /start inline; the inline-query reader in both libraries."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from bot.context import Incoming
from bot.runtime.updates import to_incoming
from db.models import User
from tests.support import message, person
from tests.unit.test_groups import GroupTransport

_ids = itertools.count(950_000)


@pytest.fixture
def transport() -> GroupTransport:
    return GroupTransport()


def inline(who, query: str = "") -> Incoming:  # noqa: ANN001
    return Incoming(update_id=next(_ids), kind="inline_query", user=who, chat_id=None, chat_type=None,
                    inline_query_id=f"q{next(_ids)}", query=query)


def answer(transport):  # noqa: ANN001, ANN201
    [answered] = [s for s in transport.sent if s.method == "answer_inline_query"]
    transport.sent.clear()
    return answered.extra


async def code_of(app, uid: int) -> str:  # noqa: ANN001
    async with app.uow() as uow:
        return (await uow.codes.personal(uid)).code


async def test_a_user_gets_their_own_card_whatever_they_type(app, pipeline, transport):
    await pipeline.handle(message(person(4001, "Olga", lang="en"), "/start"))
    transport.sent.clear()
    await pipeline.handle(inline(person(4001, "Olga", lang="en"), "anything at all"))
    got = answer(transport)
    link = f"https://t.me/ReferralTestBot?start={await code_of(app, 4001)}"
    [card] = got["results"]
    assert (got["is_personal"], got["cache_time"], got["button"]) == (True, 10, None)
    assert card.title == "Send my invitation card" and "only you see" in card.description
    assert card.text.startswith("🎁 <b>Olga</b> invites you to join!") and link in card.text
    assert "New members get: 50% off the fee of your first loan" in card.text
    assert [(b.text, b.url) for row in card.keyboard for b in row] == [("Join", link)]
    await pipeline.handle(inline(person(4001, "Olga", lang="en")))
    assert answer(transport)["results"][0].text == card.text


async def test_the_card_speaks_the_users_language_and_escapes_their_name(app, pipeline, transport):
    await pipeline.handle(message(person(4002, "<Wang> & Li", lang="zh-hans"), "/start"))
    transport.sent.clear()
    await pipeline.handle(inline(person(4002, "<Wang> & Li", lang="zh-hans")))
    [card] = answer(transport)["results"]
    assert card.text.startswith("🎁 <b>&lt;Wang&gt; &amp; Li</b> 邀请你加入！")
    assert [b.text for row in card.keyboard for b in row] == ["加入"]


async def test_someone_who_never_opened_the_bot_gets_only_the_open_button_and_is_not_recorded(app, pipeline,
                                                                                             transport):
    await pipeline.handle(inline(person(4003, "New", lang="en"), "hi"))
    got = answer(transport)
    assert got["results"] == [] and got["is_personal"] is True
    assert (got["button"].text, got["button"].start_parameter) == ("Open the bot to get your invitation card",
                                                                   "inline")
    async with app.uow() as uow:
        assert (await uow.session.execute(select(User.id))).all() == []


async def test_a_frozen_user_gets_no_card(app, pipeline, transport):
    await pipeline.handle(message(person(4004, "Frida", lang="en"), "/start"))
    async with app.uow() as uow:
        await uow.users.set_status(4004, "frozen")
        await uow.commit()
    transport.sent.clear()
    await pipeline.handle(inline(person(4004, "Frida", lang="en")))
    got = answer(transport)
    assert got["results"] == [] and got["button"].text == "Your invitation card is not available"


async def test_start_inline_is_a_plain_welcome_and_first_touch_stays_open(app, pipeline, transport):
    await pipeline.handle(inline(person(4005, "Nina", lang="en")))
    await pipeline.handle(message(person(4005, "Nina", lang="en"), "/start inline"))
    text = transport.last(4005).text
    assert text.startswith("Hello, Nina!") and "No such referral code" not in text and "not valid" not in text
    async with app.uow() as uow:
        assert (await uow.users.get(4005)).first_seen_at == app.clock.now()


@pytest.mark.parametrize("library", ["aiogram", "ptb"])
def test_inline_queries_read_the_same_in_both_libraries(library):
    from tests.fakes.telegram_server import FakeTelegram, TgUser

    update = {"update_id": 7, **FakeTelegram("1:test").inline_query(TgUser(4006, "Ivy", language_code="en"), "x y")}
    if library == "aiogram":
        from aiogram.types import Update

        parsed = Update.model_validate(update)
    else:
        from telegram import Update

        parsed = Update.de_json(update, None)
    incoming = to_incoming(parsed)
    assert (incoming.kind, incoming.user.id, incoming.query, incoming.chat_id, incoming.is_private) == (
        "inline_query", 4006, "x y", None, False)
    assert incoming.inline_query_id == update["inline_query"]["id"]
