"""/start, /code, /help, /language and first contact, through the real pipeline and a recording transport."""
from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from bot.runtime.launcher import register_commands
from bot.services.codes import ALPHABET
from db.models import User
from tests.support import callback, message, person


async def user_row(app, uid):  # noqa: ANN001, ANN201
    async with app.uow() as uow:
        return await uow.users.get(uid)


async def test_first_contact_is_recorded_whatever_was_sent(app, pipeline):
    await pipeline.handle(message(person(11, lang="en-US"), None, content_type="sticker"))
    await pipeline.handle(message(person(12, lang=None), "hello"))
    await pipeline.handle(message(person(13), "/nonsense"))
    for uid in (11, 12, 13):
        row = await user_row(app, uid)
        assert row is not None and row.first_seen_at == app.clock.now()
    assert (await user_row(app, 11)).tg_language == "en-US"


async def test_start_greets_in_the_users_language_with_risk_notice(pipeline, transport):
    await pipeline.handle(message(person(1, lang="zh-hant"), "/start"))
    await pipeline.handle(message(person(2, lang="en-GB"), "/start"))
    await pipeline.handle(message(person(3, lang="ru"), "/start"))
    zh, en, default = transport.last(1).text, transport.last(2).text, transport.last(3).text
    assert "风险提示" in zh and "密码" in zh and "/code" in zh
    assert "Risk notice" in en and "password" in en and "/invites" in en
    assert "风险提示" in default  # zh-CN is the default language


async def test_code_sends_a_qr_of_exactly_the_deep_link(pipeline, transport):
    await pipeline.handle(message(person(5), "/code"))
    sent = transport.last(5)
    assert sent.method == "send_photo" and sent.photo.data
    code = re.search(r"start=([A-Za-z0-9_-]+)", sent.text).group(1)
    link = f"https://t.me/ReferralTestBot?start={code}"
    assert link in sent.text
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(sent.photo.data)))
    assert [d.text for d in decoded] == [link]
    assert len(code) == 8 and set(code) <= set(ALPHABET) and not code.startswith("_tgr_")
    share = sent.buttons()[0]
    assert share.url.startswith("https://t.me/share/url?url=https%3A%2F%2Ft.me%2FReferralTestBot%3Fstart%3D" + code)


async def test_repeated_code_is_stable_and_reuses_the_file_id(pipeline, transport):
    await pipeline.handle(message(person(6), "/code"))
    await pipeline.handle(message(person(6), "/code"))
    first, second = transport.to(6)
    assert first.photo.data is not None
    assert second.photo.data is None and second.photo.file_id == "file-1"
    assert first.text == second.text


async def test_frozen_user_has_no_code(app, pipeline, transport):
    await pipeline.handle(message(person(7), "/start"))
    async with app.uow() as uow:
        await uow.users.set_status(7, "frozen")
        await uow.commit()
    await pipeline.handle(message(person(7), "/code"))
    assert transport.last(7).method == "send_message" and "冻结" in transport.last(7).text


async def test_help_lists_the_commands(pipeline, transport):
    await pipeline.handle(message(person(8, lang="en"), "/help"))
    text = transport.last(8).text
    for cmd in ("/start", "/code", "/invites", "/bind", "/language", "/help"):
        assert cmd in text


async def test_language_choice_is_stored_and_wins(app, pipeline, transport):
    await pipeline.handle(message(person(9, lang="zh-hans"), "/language"))
    labels = [b.text for b in transport.last(9).buttons()]
    assert any("English" in x for x in labels) and any("中文" in x for x in labels)
    await pipeline.handle(callback(person(9, lang="zh-hans"), "lang:en"))
    assert transport.last(9).method == "edit_message" and "English" in transport.last(9).text
    assert (await user_row(app, 9)).language == "en"
    await pipeline.handle(message(person(9, lang="zh-hans"), "/help"))
    assert "Referral assistant" in transport.last(9).text
    await pipeline.handle(callback(person(9), "lang:xx"))
    assert (await user_row(app, 9)).language == "en"


async def test_command_menu_registered_in_both_languages(app, pipeline, transport):
    await register_commands(pipeline.menus)
    assert set(transport.commands) == {None, "zh", "en"}
    assert [c.command for c in transport.commands["en"]] == [c.command for c in transport.commands["zh"]]
    assert transport.commands["en"][1].description != transport.commands["zh"][1].description


async def test_users_table_counts_each_person_once(app, pipeline):
    for _ in range(3):
        await pipeline.handle(message(person(10), "/help"))
    async with app.uow() as uow:
        n = (await uow.session.execute(select(func.count()).select_from(User))).scalar_one()
    assert n == 1
