"""Community-station agents against the real bot: an admin promotes an agent, who adds stations; a
resident binds through a station link and the binding keeps the label; an off code binds nobody;
/poster's PDF (one page, QR decodes to the station link, label present) and PNG arrive; /residents
shows the funnel; its export button sends the CSV. An agent's chat shows the agent menu, from a
promotion in chat at once and from one through the CLI at the next start; /demote takes it away."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

import aiohttp
import pypdf
import pytest_asyncio
import zxingcpp
from PIL import Image

from harness import ADMIN, E2E, BotHarness, TgUser
from platform_client import BOT_ENV, event, post  # noqa: F401 (BOT_ENV configures this module's bot)

pytestmark = E2E

LINK = re.compile(r"https://t\.me/ReferralTestBot\?start=([A-Z0-9]+)")


async def query(bot: BotHarness, sql: str, **params: object) -> list[tuple]:
    """Reads the bot's database, as an operator's SQL would."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(bot.db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]
    finally:
        await engine.dispose()


async def joins(bot: BotHarness, resident: TgUser, code: str, agent: TgUser) -> str:
    """The resident opens the station link; returns the bot's answer once the agent had the join notice."""
    since = bot.fake.mark()
    [reply] = await bot.send(resident, f"/start {code}")
    await bot.replies(agent.id, since)
    return reply.text


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def agent(bot_proc: BotHarness) -> dict:
    """An agent promoted by the admin, with two stations (their codes under 'happy' and 'market')."""
    from harness import make_user

    user = make_user(first_name="Agnes", language_code="en")
    await bot_proc.send(user, "/start")
    [promoted] = await bot_proc.send(ADMIN, f"/promote {user.id} agent")
    assert promoted.text == f"✅ User {user.id} is now an agent."
    [happy] = await bot_proc.send(user, "/station add 幸福里社区站")
    [market] = await bot_proc.send(user, "/station add Market & Co")
    return {"user": user, "happy": LINK.search(happy.text).group(1), "market": LINK.search(market.text).group(1)}


async def test_only_agents_have_station_tools_and_see_them_in_help(bot_proc, agent, new_user):
    stranger = new_user(language_code="en")
    [refused] = await bot_proc.send(stranger, "/station add Mine")
    assert refused.text.startswith("The station tools are for community-station agents.")
    [plain_help] = await bot_proc.send(stranger, "/help")
    assert "/station" not in plain_help.text
    [help_] = await bot_proc.send(agent["user"], "/help")
    assert "Station tools" in help_.text and "/poster" in help_.text and "/residents" in help_.text


async def test_stations_are_listed_with_code_link_and_state(bot_proc, agent):
    [listed] = await bot_proc.send(agent["user"], "/station list")
    happy, market = agent["happy"], agent["market"]
    assert f"1. 幸福里社区站 · 🟢 on · 0 bound\n{happy} · https://t.me/ReferralTestBot?start={happy}" in listed.text
    assert f"2. Market & Co · 🟢 on · 0 bound\n{market}" in listed.text


async def test_a_resident_binds_through_a_station_link_and_the_binding_keeps_the_label(bot_proc, agent, new_user):
    resident = new_user(first_name="Rita", language_code="zh-hans")
    reply = await joins(bot_proc, resident, agent["happy"], agent["user"])
    assert "你已通过 Agn*** 的邀请加入" in reply
    [row] = await query(bot_proc, "SELECT referrer_id, label FROM bindings WHERE referee_id = :id", id=resident.id)
    assert row == (agent["user"].id, "幸福里社区站")
    [renamed] = await bot_proc.send(agent["user"], f"/station rename {agent['happy']} 幸福里北站")
    assert "renamed from 幸福里社区站 to 幸福里北站" in renamed.text
    [row] = await query(bot_proc, "SELECT label FROM bindings WHERE referee_id = :id", id=resident.id)
    assert row == ("幸福里社区站",)  # where they signed up, whatever the station is called now
    [listed] = await bot_proc.send(agent["user"], "/station list")
    assert "1. 幸福里北站 · 🟢 on · 1 bound" in listed.text


async def test_an_off_code_binds_nobody_with_a_polite_answer(bot_proc, agent, new_user):
    [off] = await bot_proc.send(agent["user"], f"/station off {agent['market']}")
    assert "is off" in off.text and "nobody is bound" in off.text
    newcomer = new_user(language_code="en")
    since = bot_proc.fake.mark()
    [reply] = await bot_proc.send(newcomer, f"/start {agent['market']}")
    assert reply.text.startswith("This referral code is not available; nothing was bound.")
    assert await query(bot_proc, "SELECT 1 FROM bindings WHERE referee_id = :id", id=newcomer.id) == []
    await bot_proc.fake.assert_no_message(agent["user"].id, since=since)  # no join notice
    [poster] = await bot_proc.send(agent["user"], f"/poster {agent['market']}")
    assert "is off, so its poster would bind nobody" in poster.text
    [on] = await bot_proc.send(agent["user"], f"/station on {agent['market']}")
    assert "is on again" in on.text


async def test_poster_pdf_and_png_arrive(bot_proc, fake, agent):
    code = agent["happy"]
    link = f"https://t.me/ReferralTestBot?start={code}"
    document, photo = await bot_proc.send(agent["user"], f"/poster {code}", count=2)
    assert document.method == "sendDocument" and document.message["document"]["file_name"] == f"poster-{code}.pdf"
    reader = pypdf.PdfReader(io.BytesIO(fake.file_bytes(document.document_file_id)))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert [r.text for image in page.images for r in zxingcpp.read_barcodes(image.image)] == [link]
    text = page.extract_text()
    assert text.splitlines()[0] == "幸福里北站" and link in text
    assert "New members: 50% off the fee of your first loan" in text and "Risk notice" in text

    assert photo.method == "sendPhoto"
    png = Image.open(io.BytesIO(fake.file_bytes(photo.photo_file_id)))
    assert [r.text for r in zxingcpp.read_barcodes(png)] == [link]
    assert "幸福里北站" in photo.text and "Risk notice" in photo.text and link in photo.text


async def test_residents_shows_the_funnel_and_exports_the_csv(bot_proc, fake, agent, new_user):
    resident = new_user(first_name="Barbara", language_code="en")
    await joins(bot_proc, resident, agent["happy"], agent["user"])
    now = datetime.now(timezone.utc).isoformat()
    for kind, fields in (("credit_approved", {}), ("first_loan", {"amount_fen": 500_000}),
                         ("repayment_on_time", {"loan_id": "L-1"})):
        status, answer = await post(bot_proc, {**event(kind, resident, **fields), "occurred_at": now})
        assert status == 202, answer

    [funnel] = await bot_proc.send(agent["user"], "/residents")
    happy = funnel.text.split(agent["happy"])[1].split("\n\n")[0].splitlines()[1:]
    # the resident of the previous test, Barbara, and the agent's own visit (not counted); all today
    assert happy == ["Opened the link: 2 · 2 · 2", "Bound: 2 · 2 · 2", "Credit approved: 1 · 1 · 1",
                     "First loan: 1 · 1 · 1", "On-time repayments: 1 · 1 · 1"]
    market = funnel.text.split(agent["market"])[1].split("\n\n")[0].splitlines()[1:3]
    assert market == ["Opened the link: 1 · 1 · 1", "Bound: 0 · 0 · 0"]  # the newcomer refused while it was off

    answer, [document] = await bot_proc.press(agent["user"], funnel, "📄 Export CSV", count=1)
    assert answer.ok
    assert document.message["document"]["file_name"].endswith(".csv")
    data = fake.file_bytes(document.document_file_id)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["Station", "Code", "Resident", "Bound at", "Credit approved", "First loan",
                       "On-time repayments"]
    assert [(r[0], r[1], r[2], r[6]) for r in rows[1:]] == [
        ("幸福里社区站", agent["happy"], "R***", "0"),  # bound before the rename: keeps the old label
        ("幸福里北站", agent["happy"], "Bar***", "1"),
    ]
    assert rows[2][4] == rows[2][5] != "" and rows[1][4] == rows[1][5] == ""
    assert str(resident.id) not in data.decode("utf-8-sig")


# -- the agent's command menu -------------------------------------------------------------------------

USER_MENU = ["start", "code", "invites", "invite", "rewards", "earnings", "rules", "bind", "settings", "language",
             "help"]
AGENT_MENU = USER_MENU + ["station", "poster", "residents"]


async def get_my_commands(fake, chat_id: int | None, language_code: str | None = None) -> list[dict]:  # noqa: ANN001
    """What Telegram answers getMyCommands for this chat's scope (None: the default scope)."""
    params: dict = {"scope": {"type": "chat", "chat_id": chat_id}} if chat_id is not None else {}
    if language_code:
        params["language_code"] = language_code
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.base_url}/bot{fake.token}/getMyCommands", json=params) as resp:
            body = await resp.json()
    assert body["ok"], body
    return body["result"]


async def menu_calls(fake, chat_id: int, method: str, since: int) -> None:  # noqa: ANN001
    """Waits for the bot's `method` (setMyCommands / deleteMyCommands) on this chat in all three languages."""
    seen: set = set()
    index = since
    while len(seen) < 3:
        call = await fake.wait_for(lambda c: c.method == method and c.ok and int(
            (c.params.get("scope") or {}).get("chat_id") or 0) == chat_id, since=index)
        seen.add(call.params.get("language_code"))
        index = call.index + 1


async def names(fake, chat_id: int | None, language_code: str | None = None) -> list[str]:  # noqa: ANN001
    return [c["command"] for c in await get_my_commands(fake, chat_id, language_code)]


async def test_a_promotion_gives_the_agent_menu_and_a_demotion_takes_it_away(bot_proc, fake, new_user):
    user = new_user(language_code="en")
    bystander = new_user(language_code="en")
    for who in (user, bystander):
        await bot_proc.send(who, "/start")
    since = fake.mark()
    [promoted] = await bot_proc.send(ADMIN, f"/promote {user.id} agent")
    assert promoted.text == f"✅ User {user.id} is now an agent."
    await menu_calls(fake, user.id, "setMyCommands", since)
    for language_code in (None, "zh", "en"):
        assert await names(fake, user.id, language_code) == AGENT_MENU
    zh = {c["command"]: c["description"] for c in await get_my_commands(fake, user.id, "zh")}
    en = {c["command"]: c["description"] for c in await get_my_commands(fake, user.id, "en")}
    assert en["station"] == "Your stations: add, list, rename, switch off or on" and zh["station"] != en["station"]
    assert await names(fake, bystander.id, "en") == []  # nobody else's chat has a menu of its own
    assert await names(fake, None, "en") == USER_MENU  # and everyone else's default is the user menu

    since = fake.mark()
    [demoted] = await bot_proc.send(ADMIN, f"/demote {user.id}")
    assert "regular user again" in demoted.text
    await menu_calls(fake, user.id, "deleteMyCommands", since)
    for language_code in (None, "zh", "en"):
        assert await names(fake, user.id, language_code) == []  # Telegram falls back to the default menu


async def test_a_cli_promotion_shows_in_the_menu_after_a_restart(bot_proc, fake, new_user):
    from test_admin import cli

    user = new_user(language_code="zh-hans")
    await bot_proc.send(user, "/start")
    done = cli(bot_proc, "promote", str(user.id), "agent")
    assert done.returncode == 0, done.stderr
    since = fake.mark()
    await bot_proc.restart()  # the start-up reconcile; a running bot's comes within a minute
    await menu_calls(fake, user.id, "setMyCommands", since)
    assert await names(fake, user.id, "zh") == AGENT_MENU
    [help_] = await bot_proc.send(user, "/help")
    assert "/station" in help_.text
