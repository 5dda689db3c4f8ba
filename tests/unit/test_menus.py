"""Each role's command menu in Telegram: set in the person's private chat when an admin promotes
them, removed on /demote, reconciled for roles changed through the CLI, kept as it was (and tried
again) when Telegram refuses, and what each menu says in each language."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.services.admin_actions import AdminActions
from bot.services.audit import AuditLog
from bot.transport import BadRequest, Forbidden, RetryAfter
from db.models import User
from handlers.help import ADMIN_COMMANDS, AGENT_COMMANDS, USER_COMMANDS
from handlers.menus import MAX_COMMANDS, MAX_DESCRIPTION, in_each_language, menu, menus
from tests.support import callback, person
from tests.unit.test_admin import ADMIN, admin, known, say
from tests.unit.test_rewards_flow import A, B

LANGUAGES = {None, "zh", "en"}
USER = list(USER_COMMANDS)
AGENT = USER + list(AGENT_COMMANDS)
ADMIN_MENU = AGENT + list(ADMIN_COMMANDS)


async def recorded(app, uid: int) -> str | None:  # noqa: ANN001
    async with app.uow() as uow:
        return (await uow.session.execute(select(User.command_menu).where(User.id == uid))).scalar_one()


def chat_menus(transport, uid: int) -> dict[str | None, list[str]]:  # noqa: ANN001
    """The menus set for this one chat, by language_code."""
    return {lang: [c.command for c in commands] for (chat, lang), commands in transport.chat_commands.items()
            if chat == uid}


def calls_for(transport, uid: int) -> list[tuple]:  # noqa: ANN001
    return [c for c in transport.menu_calls if c[1] == uid]


async def by_cli(app, method: str, *args: object) -> None:  # noqa: ANN001
    """A role change as `referral-bot promote|demote` makes it: the service, no Telegram."""
    async with app.uow() as uow:
        actions = AdminActions(uow, AuditLog(uow, app.clock), frozenset(app.settings.admin_ids))
        result = await getattr(actions, method)(*args, actor_id=None, via="cli")
        assert result.done
        await uow.commit()


def refusing(transport, uid: int, error: Exception) -> None:  # noqa: ANN001
    """Telegram refuses every menu call for this chat."""
    set_commands, delete_commands = transport.set_commands, transport.delete_commands

    async def set_(commands, language_code=None, chat_id=None):  # noqa: ANN001, ANN202
        if chat_id == uid:
            raise error
        await set_commands(commands, language_code=language_code, chat_id=chat_id)

    async def delete(language_code=None, chat_id=None):  # noqa: ANN001, ANN202
        if chat_id == uid:
            raise error
        await delete_commands(language_code=language_code, chat_id=chat_id)

    transport.set_commands, transport.delete_commands = set_, delete


def accepting(transport) -> None:  # noqa: ANN001
    for name in ("set_commands", "delete_commands"):
        transport.__dict__.pop(name, None)


# -- from chat ------------------------------------------------------------------------------------

async def test_promote_to_agent_sets_the_agent_menu_in_three_languages_for_that_chat_only(app, pipeline,
                                                                                          transport):
    await known(pipeline, transport, A, B)
    assert "now an agent" in await say(pipeline, transport, admin(), f"/promote {A} agent")
    assert chat_menus(transport, A) == {None: AGENT, "zh": AGENT, "en": AGENT}
    zh = {c.command: c.description for c in transport.chat_commands[(A, "zh")]}
    assert zh["station"] == app.i18n.t("zh-CN", "cmd-agent-station") and zh["code"] == app.i18n.t("zh-CN", "cmd-code")
    assert transport.chat_commands[(A, None)] == menu(app.i18n, "agent", app.settings.default_locale)
    # nobody else's menu, and not the default one, was touched
    assert {c[1] for c in transport.menu_calls} == {A} and transport.commands == {}
    assert re.fullmatch(r"agent:[0-9a-f]{8}", await recorded(app, A))
    assert await recorded(app, B) is None


async def test_promote_to_admin_then_demote_gives_the_default_menu_back(app, pipeline, transport):
    await known(pipeline, transport, A)
    await say(pipeline, transport, admin(), f"/promote {A} admin")
    assert chat_menus(transport, A) == {None: ADMIN_MENU, "zh": ADMIN_MENU, "en": ADMIN_MENU}
    assert (await recorded(app, A)).startswith("admin:")

    before = len(transport.menu_calls)
    assert "regular user again" in await say(pipeline, transport, admin(), f"/demote {A}")
    assert sorted(transport.menu_calls[before:], key=str) == sorted(
        [("delete_commands", A, lang) for lang in LANGUAGES], key=str)
    assert chat_menus(transport, A) == {} and await recorded(app, A) is None
    # Telegram falls back to the default menu, set at start-up for everyone
    await pipeline.menus.set_default()
    assert transport.menu_of(A, "en") == USER


async def test_promote_twice_sets_the_menu_once_and_a_new_role_changes_it(app, pipeline, transport):
    await known(pipeline, transport, A)
    await say(pipeline, transport, admin(), f"/promote {A} agent")
    assert len(calls_for(transport, A)) == 3
    assert "already" in await say(pipeline, transport, admin(), f"/promote {A} agent")
    assert len(calls_for(transport, A)) == 3  # nothing changed, nothing sent
    await say(pipeline, transport, admin(), f"/promote {A} admin")
    assert len(calls_for(transport, A)) == 6 and chat_menus(transport, A)["en"] == ADMIN_MENU
    await say(pipeline, transport, admin(), f"/demote {A}")
    await say(pipeline, transport, admin(), f"/demote {A}")
    assert len(calls_for(transport, A)) == 9  # the second demotion found the menu gone already


async def test_a_refused_promotion_touches_no_menu(app, pipeline, transport):
    await known(pipeline, transport, A)
    async with app.uow() as uow:
        await uow.users.set_status(A, "frozen")
        await uow.commit()
    assert "frozen" in await say(pipeline, transport, admin(), f"/promote {A} agent")
    await say(pipeline, transport, admin(), f"/promote {ADMIN} agent")  # an ADMIN_IDS admin: refused
    assert transport.menu_calls == []


# -- a language chosen with /language --------------------------------------------------------------

def described(transport, uid: int) -> dict[str, str]:  # noqa: ANN001
    """The chat's own menu with no language code: command -> description."""
    return {c.command: c.description for c in transport.chat_commands[(uid, None)]}


async def test_choosing_a_language_gives_the_chat_its_menu_in_that_language_alone(app, pipeline, transport):
    await known(pipeline, transport, A)
    await pipeline.handle(callback(person(A, f"U{A}", lang="zh-hans"), "lang:en"))
    # Telegram would pick the zh default by the app's language; the chat's own menu wins over it
    assert chat_menus(transport, A) == {None: USER}
    assert described(transport, A)["code"] == app.i18n.t("en", "cmd-code")
    assert calls_for(transport, A) == [("set_commands", A, None)]  # they had no menu of their own to clear
    assert re.fullmatch(r"user@en:[0-9a-f]{8}", await recorded(app, A))

    await pipeline.handle(callback(person(A, f"U{A}", lang="zh-hans"), "lang:zh-CN"))
    assert described(transport, A)["code"] == app.i18n.t("zh-CN", "cmd-code")
    assert (await recorded(app, A)).startswith("user@zh-CN:")
    before = len(transport.menu_calls)
    await pipeline.handle(callback(person(A, f"U{A}", lang="zh-hans"), "lang:zh-CN"))
    assert len(transport.menu_calls) == before  # the same choice again: nothing to change
    assert await pipeline.menus.reconcile() == 0  # in line with the record
    assert {c[1] for c in transport.menu_calls} == {A} and transport.commands == {}  # A's chat alone


async def test_an_agent_with_a_chosen_language_gets_the_agent_menu_in_it_and_keeps_it_on_demotion(
        app, pipeline, transport):
    await known(pipeline, transport, A)
    await say(pipeline, transport, admin(), f"/promote {A} agent")
    assert chat_menus(transport, A) == {None: AGENT, "zh": AGENT, "en": AGENT}
    before = len(transport.menu_calls)
    await pipeline.handle(callback(person(A, f"U{A}"), "lang:en"))
    # the three language menus go: Telegram would show the app language's one over the chosen
    assert chat_menus(transport, A) == {None: AGENT}
    assert sorted(transport.menu_calls[before:], key=str) == sorted(
        [("set_commands", A, None), ("delete_commands", A, "zh"), ("delete_commands", A, "en")], key=str)
    assert described(transport, A)["station"] == app.i18n.t("en", "cmd-agent-station")
    assert (await recorded(app, A)).startswith("agent@en:")

    await say(pipeline, transport, admin(), f"/demote {A}")
    assert chat_menus(transport, A) == {None: USER}  # a user's menu, still in English
    assert described(transport, A)["code"] == app.i18n.t("en", "cmd-code")
    assert (await recorded(app, A)).startswith("user@en:")


async def test_a_language_stored_without_telegram_is_picked_up_by_the_reconcile(app, pipeline, transport):
    await known(pipeline, transport, A, B)
    async with app.uow() as uow:  # as if the menu call had been lost (a crash after the commit)
        await uow.users.set_language(B, "en")
        await uow.commit()
    await pipeline.menus.reconcile()
    assert chat_menus(transport, B) == {None: USER} and (await recorded(app, B)).startswith("user@en:")
    assert chat_menus(transport, A) == {} and await recorded(app, A) is None  # no choice, default menu


# -- roles changed elsewhere, and the reconcile -------------------------------------------------------

async def test_cli_promotions_are_picked_up_by_the_next_reconcile(app, pipeline, transport):
    await known(pipeline, transport, A, B)
    await by_cli(app, "promote", A, "agent")
    await by_cli(app, "promote", B, "admin")
    assert transport.menu_calls == []  # the CLI never talks to Telegram
    assert await pipeline.menus.reconcile() == 2
    assert chat_menus(transport, A)["zh"] == AGENT and chat_menus(transport, B)["en"] == ADMIN_MENU
    assert await pipeline.menus.reconcile() == 0  # in line now: nothing to do
    assert len(transport.menu_calls) == 6

    await by_cli(app, "demote", A)
    assert await pipeline.menus.reconcile() == 1
    assert chat_menus(transport, A) == {} and await recorded(app, A) is None
    assert chat_menus(transport, B)["en"] == ADMIN_MENU


async def test_a_new_release_or_another_bot_sets_every_menu_again(app, pipeline, transport):
    await known(pipeline, transport, A)
    await say(pipeline, transport, admin(), f"/promote {A} agent")
    first = await recorded(app, A)
    assert await pipeline.menus.reconcile() == 1  # the ADMIN_IDS admin, met just now; A is in line
    assert await pipeline.menus.reconcile() == 0
    app.bot_username = "AnotherReferralBot"  # the same database behind another bot
    assert await pipeline.menus.reconcile() == 2
    assert (await recorded(app, A)).startswith("agent:") and await recorded(app, A) != first


async def test_admin_ids_admins_get_the_admin_menu_at_start_and_lose_it_when_removed(app, pipeline, transport):
    from bot.runtime.launcher import register_commands

    await known(pipeline, transport, ADMIN, A)
    await by_cli(app, "promote", A, "agent")
    app.settings = app.settings.model_copy(update={"admin_ids": (ADMIN, A)})  # A is now configured
    await register_commands(pipeline.menus)
    assert chat_menus(transport, A)["en"] == ADMIN_MENU and chat_menus(transport, ADMIN)["zh"] == ADMIN_MENU
    assert (await recorded(app, ADMIN)).startswith("admin:") and (await recorded(app, A)).startswith("admin:")
    assert await pipeline.menus.reconcile() == 0

    app.settings = app.settings.model_copy(update={"admin_ids": (A,)})  # ADMIN removed from ADMIN_IDS
    assert await pipeline.menus.reconcile() == 1
    assert chat_menus(transport, ADMIN) == {} and await recorded(app, ADMIN) is None


# -- when Telegram refuses ------------------------------------------------------------------------------

async def test_chat_not_found_leaves_the_record_and_a_later_reconcile_sets_it(app, pipeline, transport, caplog):
    await known(pipeline, transport, A)
    refusing(transport, A, BadRequest("Bad Request: chat not found"))
    assert "now an agent" in await say(pipeline, transport, admin(), f"/promote {A} agent")
    assert chat_menus(transport, A) == {} and await recorded(app, A) is None
    assert any(f"command menu for {A} (agent) not set" in r.getMessage() and r.levelname == "WARNING"
               for r in caplog.records)

    accepting(transport)  # they open the bot
    await pipeline.menus.reconcile()
    assert calls_for(transport, A) == []  # a refused chat rests for a while...
    app.clock.advance(minutes=11)
    await pipeline.menus.reconcile()  # ...then is tried again
    assert chat_menus(transport, A)["en"] == AGENT and (await recorded(app, A)).startswith("agent:")


async def test_promoting_again_retries_a_refused_menu_at_once(app, pipeline, transport):
    await known(pipeline, transport, A)
    refusing(transport, A, BadRequest("Bad Request: chat not found"))
    await say(pipeline, transport, admin(), f"/promote {A} agent")
    accepting(transport)
    assert "already" in await say(pipeline, transport, admin(), f"/promote {A} agent")
    assert chat_menus(transport, A)["zh"] == AGENT and (await recorded(app, A)).startswith("agent:")


@pytest.mark.parametrize("error", [Forbidden("Forbidden: bot was blocked by the user"),
                                   BadRequest("Bad Request: chat not found")])
async def test_a_refused_demotion_keeps_the_record_and_the_reconcile_finishes_it(app, pipeline, transport, error):
    await known(pipeline, transport, A)
    await say(pipeline, transport, admin(), f"/promote {A} agent")
    refusing(transport, A, error)
    await say(pipeline, transport, admin(), f"/demote {A}")
    assert (await recorded(app, A)).startswith("agent:")  # Telegram still shows the agent menu
    async with app.uow() as uow:
        assert (await uow.users.get(A)).status == "active"
    accepting(transport)
    app.clock.advance(minutes=11)
    await pipeline.menus.reconcile()
    assert chat_menus(transport, A) == {} and await recorded(app, A) is None


async def test_a_flood_wait_ends_the_round_and_the_next_goes_on(app, pipeline, transport):
    await known(pipeline, transport, A, B)
    await by_cli(app, "promote", A, "agent")
    await by_cli(app, "promote", B, "agent")
    refusing(transport, A, RetryAfter(5))
    assert await pipeline.menus.reconcile() == 0
    assert calls_for(transport, B) == []  # the round stopped at the flood wait
    accepting(transport)
    assert await pipeline.menus.reconcile() == 2  # no rest after a flood wait: the chat was fine


async def test_an_admin_ids_admin_without_a_chat_does_not_stop_the_start(app, pipeline, transport, caplog):
    from bot.runtime.launcher import register_commands

    refusing(transport, ADMIN, BadRequest("Bad Request: chat not found"))
    await register_commands(pipeline.menus)
    assert transport.menu_of(ADMIN, "en") == USER  # the default menu is set all the same
    assert any(f"command menu for {ADMIN} (admin) not set" in r.getMessage() for r in caplog.records)


# -- what the menus say ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role, commands", [("user", USER), ("agent", AGENT), ("admin", ADMIN_MENU)])
def test_each_role_menu_in_each_language(app, role, commands):
    for locale in ("zh-CN", "en"):
        built = menu(app.i18n, role, locale)
        assert [c.command for c in built] == commands
        prefix = {name: "cmd-" for name in USER} | {name: "cmd-agent-" for name in AGENT_COMMANDS} | {
            name: "cmd-admin-" for name in ADMIN_COMMANDS}
        assert [c.description for c in built] == [app.i18n.t(locale, prefix[c] + c) for c in commands]
        # Telegram's limits: setMyCommands refuses a whole menu over any of them
        assert len(built) <= MAX_COMMANDS and len({c.command for c in built}) == len(built)
        assert all(re.fullmatch(r"[a-z0-9_]{1,32}", c.command) for c in built)
        assert all(1 <= len(c.description.strip()) <= MAX_DESCRIPTION for c in built)
    assert menu(app.i18n, "admin", "en")[-1].description != menu(app.i18n, "admin", "zh-CN")[-1].description


def test_the_menus_are_set_in_the_default_locale_without_a_language_code_and_in_zh_and_en(app):
    built = menus(app.i18n, "agent", "en")
    assert [code for code, _ in built] == [None, "zh", "en"]
    assert built[0][1] == built[2][1] == menu(app.i18n, "agent", "en")
    assert built[1][1] == menu(app.i18n, "agent", "zh-CN")


@pytest.mark.parametrize(("version", "expected"), [
    (None, False), ("agent:0badc0de", True), ("admin:0badc0de", True), ("user@en:0badc0de", False),
    ("agent@zh-CN:0badc0de", False)])
def test_which_recorded_menus_were_set_in_each_language(version, expected):  # noqa: ANN001
    assert in_each_language(version) is expected


def test_a_description_over_telegrams_limit_is_clipped_not_refused(app, monkeypatch):
    original = app.i18n.t
    monkeypatch.setattr(app.i18n, "t", lambda locale, key, **kw: "x " * 300 if key == "cmd-help" else
                        original(locale, key, **kw))
    [described] = [c.description for c in menu(app.i18n, "user", "en") if c.command == "help"]
    assert len(described) == MAX_DESCRIPTION and described.endswith("…")
