"""Publishing the next program version: refusals, the fan-out to active users, audit, the CLI,
start-up with PROGRAM_FILE, and /publish in chat."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.context import Document
from bot.services.rewards.program import DEFAULT_PROGRAM, ProgramError, parse_program
from bot.services.rewards.programs import BEGINNING, ProgramBook
from bot.services.rewards.publishing import PublishRefused, parse_effective
from db.models import AuditEntry, OutboxMessage, ProgramVersion
from tests.conftest import T0
from tests.support import callback, message, person
from tests.unit.test_rules import V2, publish_v2

ROOT = Path(__file__).resolve().parents[2]
ADMIN = 777  # in the test App's ADMIN_IDS


async def versions(app):  # noqa: ANN001, ANN201
    async with app.uow() as uow:
        return (await uow.session.execute(
            select(ProgramVersion.version, ProgramVersion.effective_at, ProgramVersion.published_by,
                   ProgramVersion.urgent_reason).order_by(ProgramVersion.version))).all()


async def outbox_count(app, kind: str = "rules") -> int:  # noqa: ANN001
    async with app.uow() as uow:
        return (await uow.session.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == kind))).scalar_one()


async def audit_rows(app):  # noqa: ANN001, ANN201
    async with app.uow() as uow:
        return (await uow.session.execute(
            select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.via, AuditEntry.target, AuditEntry.reason,
                   AuditEntry.detail))).all()


# ------------------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("source, days, urgent, code, words", [
    ("version = 2\nlevels = 2\nhold_days = x\n", 8, None, "invalid", "line 3"),
    (V2.replace("levels = 2", "levels = 3"), 8, None, "levels", "REFERRAL_LEVELS = 2"),
    (DEFAULT_PROGRAM, 8, None, "not-newer", "not newer than the latest published version 1"),
    (V2, 6.9, None, "notice", "7 days' notice"),
    (V2, -0.01, "fix", "past", "in the past"),
])
async def test_refusals_store_and_announce_nothing(app, pipeline, intake, source, days, urgent, code, words):  # noqa: ANN001
    await pipeline.handle(message(person(1), "/start"))
    with pytest.raises(PublishRefused) as refused:
        await publish_v2(app, source, days=days, urgent=urgent)
    assert refused.value.code == code and words in str(refused.value) and "\n" not in str(refused.value)
    assert [v for v, *_ in await versions(app)] == [1]
    assert await outbox_count(app) == 0 and await audit_rows(app) == []


async def test_a_version_must_take_effect_after_the_one_before(app, intake):  # noqa: ANN001
    await publish_v2(app, days=10)
    with pytest.raises(PublishRefused, match="version 2 takes effect at 2026-12-06 10:00"):
        await publish_v2(app, V2.replace("version = 2", "version = 3"), days=9)
    await publish_v2(app, V2.replace("version = 2", "version = 3"), days=11)
    assert [v for v, *_ in await versions(app)] == [1, 2, 3]


def test_effective_times_read_with_an_offset_or_in_timezone():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    assert parse_effective("2026-12-10T00:00+08:00", tz) == parse_effective("2026-12-10 00:00", tz)
    assert parse_effective("2026-12-09T16:00Z", tz) == parse_effective("2026-12-10T00:00+08:00", tz)
    with pytest.raises(PublishRefused, match="not a time like"):
        parse_effective("next tuesday", tz)


async def test_urgent_short_notice_is_recorded_with_its_reason(app, intake):  # noqa: ANN001
    await publish_v2(app, days=1, urgent="regulator order 12")
    [_, (version, effective, by, reason)] = await versions(app)
    assert (version, effective, by, reason) == (2, T0 + timedelta(days=1), None, "regulator order 12")
    [(action, actor, via, target, why, detail)] = await audit_rows(app)
    assert (action, actor, via, target, why) == ("program_publish", None, "cli", "v2", "regulator order 12")
    assert detail["urgent"] is True and detail["previous"] == 1 and detail["announced"] == 0


async def test_the_announcement_goes_to_active_users_only(app, pipeline, intake):  # noqa: ANN001
    for uid in (11, 12, 13, 14, 15):
        await pipeline.handle(message(person(uid), "/start"))
    await pipeline.handle(message(person(16, is_bot=True), "/start"))
    async with app.uow() as uow:
        await uow.users.set_status(13, "frozen")
        await uow.users.set_status(14, "blocked")
        await uow.users.insert_platform_user(user_id=-5, external_id="P-5", now=T0)  # no chat with the bot
        await uow.commit()
    assert await publish_v2(app) == 3
    async with app.uow() as uow:
        chats = (await uow.session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.state).order_by(OutboxMessage.chat_id))).all()
    assert chats == [(11, "pending"), (12, "pending"), (15, "pending")]
    [(*_, detail)] = await audit_rows(app)
    assert detail["announced"] == 3 and detail["urgent"] is False


# ------------------------------------------------------------------------------------- start-up

async def test_program_file_is_stored_at_first_start_only(app):  # noqa: ANN001
    book = ProgramBook(app.program)
    async with app.uow() as uow:
        await book.publish_current(uow, app.program, T0)
        await uow.commit()
    assert [(v, e) for v, e, *_ in await versions(app)] == [(1, BEGINNING)]
    async with app.uow() as uow:  # the same file again: nothing to do
        await book.publish_current(uow, app.program, T0 + timedelta(days=1))
    new = parse_program(V2)
    async with app.uow() as uow:
        with pytest.raises(ProgramError, match="version 2 is not published .*referral-bot program publish"):
            await book.publish_current(uow, new, T0)
    changed = parse_program(DEFAULT_PROGRAM.replace("[5000, 1000]", "[5000, 2000]"))
    async with app.uow() as uow:
        with pytest.raises(ProgramError, match="version 1 is already published with different rules"):
            await book.publish_current(uow, changed, T0)
    assert len(await versions(app)) == 1


# ------------------------------------------------------------------------------------- the CLI

def cli(database_url: str, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k not in (
        "BOT_TOKEN", "PROGRAM_FILE", "RULE_NOTICE_DAYS", "ADMIN_IDS", "TIMEZONE")}
    return subprocess.run([sys.executable, "-m", "bot.cli.main", *args], cwd=cwd, capture_output=True, text=True,
                          env={**base, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url, **env}, timeout=120)


async def test_cli_publish_and_list(app, pipeline, tmp_path):  # noqa: ANN001
    url = app.settings.database_url
    await pipeline.handle(message(person(21), "/start"))
    good = tmp_path / "v2.toml"
    good.write_text(V2, encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(V2.replace("hold_days = 1", "hold_days = -1"), encoding="utf-8")
    run = lambda *args, **env: asyncio.to_thread(cli, url, *args, cwd=tmp_path, **env)  # noqa: E731

    refused = await run("program", "publish", str(bad), "--effective", "2030-01-01T00:00+08:00")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "line 3: hold_days must be between 0 and 365" in refused.stderr
    early = await run("program", "publish", str(good), "--effective", "2020-01-01T00:00+08:00")
    assert early.returncode == 2 and "in the past" in early.stderr
    when = await run("program", "publish", str(good), "--effective", "soon")
    assert when.returncode == 2 and "not a time like" in when.stderr

    # Real time now: the CLI runs on the system clock, the test App on a frozen one.
    done = await run("program", "publish", str(good), "--effective", "2099-01-01T00:00+08:00")
    assert done.returncode == 0, done.stderr
    assert "published version 2 (replacing 1), effective 2099-01-01 00:00" in done.stdout
    assert "reward:first_loan:1: ¥50.00 -> ¥60.00" in done.stdout and "queued for 1 users" in done.stdout
    again = await run("program", "publish", str(good), "--effective", "2099-02-01T00:00+08:00")
    assert again.returncode == 2 and "version 2 is not newer than the latest published version 2" in again.stderr

    listing = await run("program", "list", COLUMNS="200")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert any("1 " in line and "from the start" in line and "in force" in line for line in lines)
    assert any("2099-01-01 00:00" in line and "announced" in line for line in lines)
    [(*_, via, target, _, detail)] = await audit_rows(app)
    assert (via, target, detail["announced"]) == ("cli", "v2", 1)


# ------------------------------------------------------------------------------------- /publish in chat

def doc(transport, data: bytes, name: str = "v2.toml") -> Document:  # noqa: ANN001
    file_id = f"doc-{len(transport.files)}"
    transport.files[file_id] = data
    return Document(file_id, name, len(data))


async def send_doc(pipeline, transport, data: bytes, user=None) -> str:  # noqa: ANN001
    user = user or person(ADMIN, lang="en")
    await pipeline.handle(message(user, None, content_type="document", document=doc(transport, data)))
    return transport.last(user.id).text


async def test_publish_in_chat_preview_confirm_and_a_stale_button(app, pipeline, transport, intake):  # noqa: ANN001
    admin = person(ADMIN, lang="en")
    await pipeline.handle(message(person(31), "/start"))
    await pipeline.handle(message(admin, "/publish 2026-12-10T00:00+08:00"))
    ask = transport.last(ADMIN)
    assert "2026-12-10 00:00 (Asia/Shanghai)" in ask.text and ".toml document" in ask.text
    await pipeline.handle(message(admin, "here it comes"))
    assert "Please send the program as a .toml document" in transport.last(ADMIN).text
    assert "line 3: hold_days must be a whole number" in await send_doc(
        pipeline, transport, V2.replace("hold_days = 1", 'hold_days = "one"').encode())
    assert "not UTF-8" in await send_doc(pipeline, transport, b"\xff\xfe\x00 version")
    assert "larger than 64 KB" in await send_doc(pipeline, transport, b"#" * (64 * 1024 + 1))
    preview = await send_doc(pipeline, transport, V2.encode())
    assert "version 2 replaces version 1 on 2026-12-10 00:00" in preview and "announced to 2 users" in preview
    assert "first loan, level 1: ¥50.00 → ¥60.00" in preview
    assert [v for v, *_ in await versions(app)] == [1]  # nothing until Confirm
    confirm = transport.last(ADMIN).buttons()[0]
    assert confirm.text == "✅ Publish"
    await pipeline.handle(callback(admin, confirm.callback_data, message_id=5))
    done = transport.last(ADMIN)
    assert done.method == "edit_message" and "Version 2 is published" in done.text and "2 users" in done.text
    [_, (version, _, by, reason)] = await versions(app)
    assert (version, by, reason) == (2, ADMIN, None)
    assert await outbox_count(app) == 2
    [(action, actor, via, target, _, _)] = await audit_rows(app)
    assert (action, actor, via, target) == ("program_publish", ADMIN, "chat", "v2")
    await pipeline.handle(callback(admin, confirm.callback_data, message_id=5))  # pressed again
    assert transport.sent[-1].method == "answer_callback" and "no longer current" in transport.sent[-1].text
    assert transport.sent[-1].extra["alert"] is True
    assert len(await versions(app)) == 2 and await outbox_count(app) == 2


async def test_publish_cancel_then_confirm_publishes_nothing(app, pipeline, transport, intake):  # noqa: ANN001
    admin = person(ADMIN, lang="en")
    await pipeline.handle(message(admin, "/publish 2026-12-10T00:00+08:00"))
    await send_doc(pipeline, transport, V2.encode())
    confirm, cancel = transport.last(ADMIN).buttons()
    await pipeline.handle(callback(admin, cancel.callback_data))
    assert "Cancelled; nothing was published" in transport.last(ADMIN).text
    await pipeline.handle(callback(admin, confirm.callback_data))
    assert "no longer current" in transport.sent[-1].text
    await pipeline.handle(message(admin, None, content_type="document", document=doc(transport, V2.encode())))
    assert "can't handle pictures, stickers or files" in transport.last(ADMIN).text  # the dialogue is over
    assert len(await versions(app)) == 1


async def test_publish_urgent_in_chat_and_a_preview_that_went_stale(app, pipeline, transport, intake):  # noqa: ANN001
    admin = person(ADMIN, lang="en")
    await pipeline.handle(message(admin, "/publish 2026-11-27T10:00+08:00 fraud wave on tier bonuses"))
    preview = await send_doc(pipeline, transport, V2.encode())
    assert "Short notice. Reason (recorded in the audit log): fraud wave on tier bonuses" in preview
    confirm = transport.last(ADMIN).buttons()[0]
    app.clock.advance(days=2)  # the admin confirms after the effective time has passed
    await pipeline.handle(callback(admin, confirm.callback_data))
    assert "is in the past" in transport.last(ADMIN).text
    assert len(await versions(app)) == 1
    await pipeline.handle(message(admin, "/publish 2026-11-29T10:00+08:00 fraud wave on tier bonuses"))
    await send_doc(pipeline, transport, V2.encode())
    await pipeline.handle(callback(admin, transport.last(ADMIN).buttons()[0].callback_data))
    assert [(v, r) for v, _, _, r in await versions(app)] == [(1, None), (2, "fraud wave on tier bonuses")]


async def test_publish_bad_starts_get_clear_answers(app, pipeline, transport, intake):  # noqa: ANN001
    admin = person(ADMIN, lang="en")
    await pipeline.handle(message(admin, "/publish"))
    assert transport.last(ADMIN).text.startswith("Usage: /publish EFFECTIVE-TIME")
    await pipeline.handle(message(admin, "/publish tomorrow"))
    assert '"tomorrow" is not a time such as' in transport.last(ADMIN).text
    await pipeline.handle(message(admin, "/publish 2026-11-30T00:00+08:00"))
    assert "7 days' notice" in transport.last(ADMIN).text and "2026-12-03 10:00" in transport.last(ADMIN).text
    await pipeline.handle(message(admin, "/publish 2026-11-01T00:00+08:00 urgent"))
    assert "in the past" in transport.last(ADMIN).text
    # none of these opened a dialogue: a document now is just a document
    await pipeline.handle(message(admin, None, content_type="document", document=doc(transport, V2.encode())))
    assert "can't handle" in transport.last(ADMIN).text
    await pipeline.handle(message(person(41, lang="en"), "/publish 2026-12-10T00:00+08:00"))
    assert "for the program's admins only" in transport.last(41).text
    await pipeline.handle(callback(person(41, lang="en"), "pub:ok:2"))
    assert "for the program's admins only" in transport.sent[-1].text
    await pipeline.handle(message(admin, "/publish 2026-12-10T00:00+08:00", chat_id=-100, chat_type="group"))
    assert "private chat" in transport.last(-100).text
    await pipeline.handle(message(person(ADMIN, lang="zh-hans"), "/publish"))
    assert transport.last(ADMIN).text.startswith("用法：/publish")


def test_run_refuses_a_program_file_with_an_unpublished_version(tmp_path):  # noqa: ANN001
    """The operator's view of the start-up rule: one line naming the command to use, exit 2, before Telegram."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    v2, v3 = tmp_path / "v2.toml", tmp_path / "v3.toml"
    v2.write_text(V2, encoding="utf-8")
    v3.write_text(V2.replace("version = 2", "version = 3"), encoding="utf-8")
    assert cli(url, "migrate", cwd=tmp_path).returncode == 0
    published = cli(url, "program", "publish", str(v2), "--effective", "2099-01-01T00:00+08:00", cwd=tmp_path)
    assert published.returncode == 0, published.stderr
    refused = cli(url, "run", cwd=tmp_path, BOT_TOKEN="123:abc", PROGRAM_FILE=str(v3),
                  TELEGRAM_API_URL="http://127.0.0.1:9")
    last = refused.stderr.splitlines()[-1]  # after the migration's log lines
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert last.startswith("configuration error: PROGRAM_FILE: version 3 is not published (the latest is "
                                     "version 2)") and "referral-bot program publish" in last
