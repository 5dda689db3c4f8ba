"""Admin commands in chat: who may run them, /user, /freeze, /unfreeze, /promote, /demote, /help,
the admin menu, and the audit entries they write. /stats numbers: test_admin_stats.py."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from bot.transport import BadRequest
from db.models import AuditEntry, User
from handlers.admin_guard import ANONYMOUS_ADMIN_ID
from tests.conftest import T0
from tests.support import message, person
from tests.unit.test_rewards_flow import A, B, C, balance, body, chain

ADMIN = 777  # in ADMIN_IDS (tests/conftest.py)
GROUP = -100_500


def admin() -> object:
    return person(ADMIN, "Ada", lang="en")


async def say(pipeline, transport, who, text_: str, **kw) -> str:  # noqa: ANN001
    """`who` sends `text_` (privately unless chat_id/chat_type are given); returns the bot's last answer there."""
    incoming = message(who, text_, **kw)
    await pipeline.handle(incoming)
    return transport.last(incoming.chat_id).text


async def audit_rows(app) -> list[tuple]:  # noqa: ANN001
    async with app.uow() as uow:
        rows = await uow.session.execute(select(AuditEntry.actor_id, AuditEntry.via, AuditEntry.action,
                                                AuditEntry.target, AuditEntry.reason, AuditEntry.detail)
                                         .order_by(AuditEntry.id))
        return [tuple(r) for r in rows]


async def user_row(app, uid: int):  # noqa: ANN001, ANN201
    async with app.uow() as uow:
        return await uow.users.get(uid)


async def known(pipeline, transport, *uids: int) -> None:  # noqa: ANN001
    for uid in uids:
        await pipeline.handle(message(person(uid, f"U{uid}", lang="en"), "/start"))


async def set_status(app, uid: int, status: str) -> None:  # noqa: ANN001
    async with app.uow() as uow:
        await uow.users.set_status(uid, status)
        await uow.commit()


ADMIN_COMMANDS = ["/stats", "/user 1001", "/freeze 1001 spam", "/unfreeze 1001", "/promote 1001 agent",
                  "/demote 1001"]


# -- who may ---------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ADMIN_COMMANDS)
async def test_non_admins_are_refused_and_nothing_changes(app, pipeline, transport, command):
    await known(pipeline, transport, A)
    answer = await say(pipeline, transport, person(2002, "Mallory", lang="en"), command)
    assert answer == "This command is for the program's admins only."
    row = await user_row(app, A)
    assert (row.status, row.role) == ("active", "user")
    assert await audit_rows(app) == []


@pytest.mark.parametrize("command", ADMIN_COMMANDS)
async def test_in_a_group_each_kind_of_sender_hears_why_not(app, pipeline, transport, command):
    await known(pipeline, transport, A)
    group = {"chat_id": GROUP, "chat_type": "supergroup"}
    anonymous = await say(pipeline, transport, person(ANONYMOUS_ADMIN_ID, "Group", lang="en"), command, **group)
    assert "anonymous group admin" in anonymous and "Remain anonymous" in anonymous
    stranger = await say(pipeline, transport, person(2002, "Mallory", lang="en"), command, **group)
    assert stranger == "This command is for the program's admins only."
    real = await say(pipeline, transport, admin(), command, **group)
    assert real == "Admin commands work in a private chat with me only."
    assert (await user_row(app, A)).status == "active" and await audit_rows(app) == []


async def test_a_promoted_admin_may_run_admin_commands_and_a_demoted_one_may_not(app, pipeline, transport):
    await known(pipeline, transport, A, B)
    assert "now an admin" in await say(pipeline, transport, admin(), "/promote 1001 admin")
    assert "Program statistics" in await say(pipeline, transport, person(A, lang="en"), "/stats")
    assert "regular user again (was an admin)" in await say(pipeline, transport, admin(), "/demote 1001")
    assert "admins only" in await say(pipeline, transport, person(A, lang="en"), "/stats")


async def test_an_admin_demoted_mid_dialogue_is_refused_once_then_chats_normally(app, pipeline, transport):
    await known(pipeline, transport, A)
    await say(pipeline, transport, admin(), "/promote 1001 admin")
    assert "message" in await say(pipeline, transport, person(A, lang="en"), "/broadcast")
    await say(pipeline, transport, admin(), "/demote 1001")
    assert "admins only" in await say(pipeline, transport, person(A, lang="en"), "hello everyone")
    async with app.uow() as uow:
        assert await uow.drafts.get(A) is None
    assert "admins only" not in await say(pipeline, transport, person(A, lang="en"), "hello again")


async def test_a_promoted_admin_in_a_group_is_sent_to_the_private_chat(app, pipeline, transport):
    await known(pipeline, transport, A)
    await say(pipeline, transport, admin(), "/promote 1001 admin")
    group = {"chat_id": GROUP, "chat_type": "supergroup"}
    answer = await say(pipeline, transport, person(A, lang="en"), "/stats", **group)
    assert answer == "Admin commands work in a private chat with me only."


# -- /user -------------------------------------------------------------------------------------

async def test_user_shows_what_the_cli_lookup_shows(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await intake.submit(body(id="ca-b", type="credit_approved", user={"telegram_id": B}), received_at=T0)
    await intake.submit(body(id="fl-c", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    async with app.uow() as uow:
        code_b = [c.code for c in await uow.codes.of_owner(B)]
    answer = await say(pipeline, transport, admin(), f"/user {B}")
    assert f"User {B}</b> · Bobby" in answer
    assert "Role: regular user · status: active · language: zh-CN" in answer
    assert f"Codes: {code_b[0]}" in answer
    assert f"Referrer: {A}" in answer and f"Upline (nearest first): {A}\n" in answer
    assert "Referrals: L1 1 · L2 0" in answer
    assert "pending ¥50.00 · available ¥0.00 · paid ¥0.00" in answer
    assert "Earnings: L1 ¥50.00 · L2 ¥0.00" in answer
    assert "Credit check: passed on 2026-11-26" in answer
    assert "Quality score: 50/100 · program version 1" in answer
    about_a = await say(pipeline, transport, admin(), f"/user {A}")
    assert "Referrer: —" in about_a and "Referrals: L1 1 · L2 1" in about_a and "Earnings: L1 ¥0.00 · L2 ¥10.00" in about_a
    assert "Credit check: not yet (their rewards wait for it)" in about_a


@pytest.mark.parametrize(("command", "expected"), [
    ("/user", "Usage: /user ID"),
    ("/user abc", "“abc” is not a user id"),
    ("/user 12ab", "“12ab” is not a user id"),
    ("/user 99999999999999999999", "is not a user id"),  # past BIGINT: refused, not a database error
    ("/user 424242", "No user with id 424242"),
])
async def test_user_bad_input(app, pipeline, transport, command, expected):
    assert expected in await say(pipeline, transport, admin(), command)


async def test_user_shows_role_and_frozen_status_in_chinese(app, pipeline, transport):
    await known(pipeline, transport, A)
    await say(pipeline, transport, admin(), f"/freeze {A} 刷单")
    answer = await say(pipeline, transport, person(ADMIN, "Ada", lang="zh-hans"), f"/user {A}")
    assert "身份：普通用户 · 状态：已冻结" in answer


# -- /freeze and /unfreeze ------------------------------------------------------------------------

async def test_freeze_needs_an_id_and_a_reason(app, pipeline, transport):
    await known(pipeline, transport, A)
    assert "Usage: /freeze ID REASON" in await say(pipeline, transport, admin(), "/freeze")
    assert "needs a reason" in await say(pipeline, transport, admin(), f"/freeze {A}")
    assert "needs a reason" in await say(pipeline, transport, admin(), f"/freeze {A}    ")
    assert "is not a user id" in await say(pipeline, transport, admin(), "/freeze @alice spam")
    assert "No user with id 31337" in await say(pipeline, transport, admin(), "/freeze 31337 spam")
    assert (await user_row(app, A)).status == "active" and await audit_rows(app) == []


async def test_freeze_refuses_admins_and_oneself(app, pipeline, transport):
    await known(pipeline, transport, A, B)
    assert "cannot do that to yourself" in await say(pipeline, transport, admin(), f"/freeze {ADMIN} test")
    await say(pipeline, transport, admin(), f"/promote {A} admin")
    assert "is an admin, and admins are not frozen" in await say(pipeline, transport, admin(), f"/freeze {A} x")
    # a promoted admin cannot freeze the configured one either
    assert "admins are not frozen" in await say(pipeline, transport, person(A, lang="en"), f"/freeze {ADMIN} x")
    assert (await user_row(app, A)).status == "active"
    assert [r[2] for r in await audit_rows(app)] == ["promote"]


async def test_freeze_is_audited_once_and_idempotent(app, pipeline, transport):
    await known(pipeline, transport, A)
    told_before = len(transport.to(A))
    answer = await say(pipeline, transport, admin(), f"/freeze {A} farming with  fake accounts")
    assert "User 1001 is frozen" in answer and "Reason: farming with fake accounts" in answer
    assert (await user_row(app, A)).status == "frozen"
    again = await say(pipeline, transport, admin(), f"/freeze {A} again")
    assert again == "User 1001 is already frozen; nothing changed."
    assert await audit_rows(app) == [
        (ADMIN, "chat", "freeze", str(A), "farming with fake accounts", {"before": "active"})]
    assert len(transport.to(A)) == told_before  # the frozen user is not told


async def test_a_frozen_referrer_earns_nothing_until_unfrozen(app, pipeline, transport, intake):
    await chain(pipeline, transport)
    await say(pipeline, transport, admin(), f"/freeze {B} suspected farming")
    await intake.submit(body(id="fl", type="first_loan", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    assert (await balance(app, B)).pending == 0  # frozen: nothing
    assert (await balance(app, A)).pending == 1000  # level 2 is paid as usual
    answer = await say(pipeline, transport, admin(), f"/unfreeze {B}")
    assert "User 1002 is active again" in answer
    await intake.submit(body(id="sc", type="second_credit", user={"telegram_id": C}, amount_fen=1), received_at=T0)
    assert (await balance(app, B)).pending == 2000  # the second credit line pays again; the first loan stays unpaid
    assert [r[2:5] for r in await audit_rows(app)] == [
        ("freeze", str(B), "suspected farming"), ("unfreeze", str(B), None)]


async def test_unfreeze_of_someone_who_had_blocked_the_bot_makes_them_active(app, pipeline, transport):
    await known(pipeline, transport, A)
    await set_status(app, A, "blocked")
    await say(pipeline, transport, admin(), f"/freeze {A} chargeback fraud")
    assert (await audit_rows(app))[0][5] == {"before": "blocked"}
    await say(pipeline, transport, admin(), f"/unfreeze {A} reviewed, fine")
    assert (await user_row(app, A)).status == "active"
    assert (await audit_rows(app))[1][4] == "reviewed, fine"


async def test_unfreeze_bad_input_and_not_frozen(app, pipeline, transport):
    await known(pipeline, transport, A)
    await set_status(app, A, "blocked")
    assert "Usage: /unfreeze ID" in await say(pipeline, transport, admin(), "/unfreeze")
    assert "not a user id" in await say(pipeline, transport, admin(), "/unfreeze x1")
    assert "No user with id 5" in await say(pipeline, transport, admin(), "/unfreeze 5")
    answer = await say(pipeline, transport, admin(), f"/unfreeze {A}")
    assert answer == "User 1001 is not frozen (status: blocked the bot); nothing changed."
    assert (await user_row(app, A)).status == "blocked" and await audit_rows(app) == []


# -- /promote and /demote --------------------------------------------------------------------------

async def test_promote_to_agent_shows_in_user_and_is_audited(app, pipeline, transport):
    await known(pipeline, transport, A)
    assert await say(pipeline, transport, admin(), f"/promote {A} Agent opens station 5") == \
        "✅ User 1001 is now an agent."
    assert "Role: agent" in await say(pipeline, transport, admin(), f"/user {A}")
    assert "already an agent" in await say(pipeline, transport, admin(), f"/promote {A} agent")
    assert await audit_rows(app) == [
        (ADMIN, "chat", "promote", str(A), "opens station 5", {"role": "agent", "before": "user"})]


@pytest.mark.parametrize(("command", "expected"), [
    ("/promote", "Usage: /promote ID agent|admin"),
    ("/promote 1001", "Usage: /promote ID agent|admin"),
    ("/promote 1001 boss", "“boss” is not a role you can give"),
    ("/promote 1001 user", "“user” is not a role you can give"),  # that is /demote
    ("/promote one agent", "“one” is not a user id"),
    ("/promote 5 agent", "No user with id 5"),
    (f"/promote {ADMIN} agent", "admin through ADMIN_IDS"),
])
async def test_promote_bad_input(app, pipeline, transport, command, expected):
    await known(pipeline, transport, A)
    assert expected in await say(pipeline, transport, admin(), command)
    assert (await user_row(app, A)).role == "user" and await audit_rows(app) == []


async def test_promote_refuses_a_frozen_user(app, pipeline, transport):
    await known(pipeline, transport, A)
    await say(pipeline, transport, admin(), f"/freeze {A} spam")
    assert "unfreeze them before a promotion" in await say(pipeline, transport, admin(), f"/promote {A} admin")
    assert (await user_row(app, A)).role == "user"


async def test_demote(app, pipeline, transport):
    await known(pipeline, transport, A, B)
    await say(pipeline, transport, admin(), f"/promote {A} admin")
    # ADMIN_IDS come from configuration: not from chat, whoever asks
    for who in (admin(), person(A, lang="en")):
        answer = await say(pipeline, transport, who, f"/demote {ADMIN}")
        assert "admin through ADMIN_IDS" in answer and "restart" in answer
    assert "cannot do that to yourself" in await say(pipeline, transport, person(A, lang="en"), f"/demote {A}")
    assert "already a regular user" in await say(pipeline, transport, admin(), f"/demote {B}")
    assert "Usage: /demote ID" in await say(pipeline, transport, admin(), "/demote")
    assert "not a user id" in await say(pipeline, transport, admin(), "/demote 1.5")
    assert "No user with id 6" in await say(pipeline, transport, admin(), "/demote 6")
    assert "regular user again (was an admin)" in await say(pipeline, transport, admin(), f"/demote {A} stepped down")
    assert (await user_row(app, A)).role == "user"
    assert [r[2:] for r in await audit_rows(app)] == [
        ("promote", str(A), None, {"role": "admin", "before": "user"}),
        ("demote", str(A), "stepped down", {"role": "user", "before": "admin"})]


async def test_actions_answer_in_chinese(app, pipeline, transport):
    await known(pipeline, transport, A)
    zh = person(ADMIN, "Ada", lang="zh-hans")
    assert "已冻结用户 1001" in await say(pipeline, transport, zh, f"/freeze {A} 刷单")
    assert "用户 1001 已恢复正常" in await say(pipeline, transport, zh, f"/unfreeze {A}")
    assert "用户 1001 现在是推广员" in await say(pipeline, transport, zh, f"/promote {A} agent")
    assert "已恢复为普通用户（原为推广员）" in await say(pipeline, transport, zh, f"/demote {A}")


# -- /help and the menu ----------------------------------------------------------------------------

async def test_help_lists_admin_commands_for_admins_only(app, pipeline, transport):
    for_admin = await say(pipeline, transport, admin(), "/help")
    assert "Admin commands" in for_admin and "/freeze — Freeze a user" in for_admin and "/stats" in for_admin
    for_user = await say(pipeline, transport, person(A, lang="en"), "/help")
    assert "/code" in for_user and "Admin commands" not in for_user and "/freeze" not in for_user


async def test_each_admin_gets_an_admin_menu_in_both_languages(app, pipeline, transport):
    from bot.runtime.launcher import register_commands

    app.settings = app.settings.model_copy(update={"admin_ids": (ADMIN, 888)})
    await register_commands(pipeline.menus)
    for admin_id in (ADMIN, 888):
        assert set(lang for chat, lang in transport.chat_commands if chat == admin_id) == {None, "zh", "en"}
        en = [c.command for c in transport.chat_commands[(admin_id, "en")]]
        assert en[:3] == ["start", "code", "invites"] and "stats" in en and "freeze" in en
    zh = {c.command: c.description for c in transport.chat_commands[(ADMIN, "zh")]}
    assert zh["freeze"] == "冻结用户：/freeze ID 原因"
    assert "stats" not in [c.command for c in transport.commands["en"]]  # everyone else: the user menu


async def test_an_admin_without_a_chat_does_not_stop_the_start(app, pipeline, transport, caplog):
    from bot.runtime.launcher import register_commands

    async def refuse_chat_scope(commands, language_code=None, chat_id=None):  # noqa: ANN001, ANN202
        if chat_id is not None:
            raise BadRequest("Bad Request: chat not found")
        transport.commands[language_code] = commands

    transport.set_commands = refuse_chat_scope
    await register_commands(pipeline.menus)
    assert "en" in transport.commands
    assert any("command menu for 777 (admin) not set" in r.getMessage() for r in caplog.records)


def test_every_admin_menu_command_has_a_handler():
    from handlers import build_dispatcher
    from handlers.help import ADMIN_COMMANDS as MENU

    routes = build_dispatcher().commands
    assert [name for name in MENU if name not in routes] == []
    assert all(routes[name].in_groups for name in ("stats", "user", "freeze", "unfreeze", "promote", "demote"))


# -- the audit log stays as written ---------------------------------------------------------------

async def test_audit_log_refuses_update_and_delete(app, pipeline, transport):
    await known(pipeline, transport, A)
    await say(pipeline, transport, admin(), f"/freeze {A} spam")
    for statement in ("UPDATE audit_log SET reason = 'nothing happened'", "DELETE FROM audit_log"):
        async with app.uow() as uow:
            with pytest.raises(Exception, match="append-only"):
                await uow.session.execute(text(statement))
    assert [r[4] for r in await audit_rows(app)] == ["spam"]


async def test_the_migrated_schema_keeps_the_audit_log_append_only(tmp_path):
    """The triggers come from migration 0003 too, not only from create_all (SQLite here;
    PostgreSQL gets the same DDL: db/ledger_guard.py, and the create_all test above)."""
    from db.engine import make_engine
    from db.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
    await upgrade(url)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO audit_log (at, via, action, detail) "
                                    "VALUES ('2026-11-26 00:00:00', 'cli', 'freeze', '{}')"))
        for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(Exception, match="append-only"):
                async with engine.begin() as conn:
                    await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def test_users_status_and_role_are_what_the_actions_set(app, pipeline, transport):
    """The chat answers match the stored rows (not only the texts)."""
    await known(pipeline, transport, A)
    await say(pipeline, transport, admin(), f"/promote {A} agent")
    await say(pipeline, transport, admin(), f"/freeze {A} spam")
    async with app.uow() as uow:
        row = (await uow.session.execute(select(User.role, User.status).where(User.id == A))).one()
    assert tuple(row) == ("agent", "frozen")
