"""`referral-bot freeze|unfreeze|promote|demote` and `referral-bot audit`, run as the operator runs
them (a subprocess in an empty directory), on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.cli.audit import BadSince, parse_since
from tests.unit.test_cli import BACKENDS, _imported_modules, execute, query, run_cli, scratch_database

ADMIN = 777
SHANGHAI = ZoneInfo("Asia/Shanghai")
USER, AGENT, BLOCKED = 5001, 5002, 5003


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):  # noqa: ANN001, ANN201
    """A migrated database with a user, an agent, a user who blocked the bot, and the admin (ADMIN_IDS)."""
    with scratch_database(request.param, tmp_path, "rb_admcli") as url:
        assert run_cli(tmp_path, url, "migrate").returncode == 0
        rows = [(USER, "user", "active"), (AGENT, "agent", "active"), (BLOCKED, "user", "blocked"),
                (ADMIN, "user", "active")]
        execute(url, *(
            f"INSERT INTO users (id, first_name, is_bot, role, status, first_seen_at) "
            f"VALUES ({uid}, 'U{uid}', false, '{role}', '{status}', '2026-11-01 00:00:00')"
            for uid, role, status in rows))
        yield url, tmp_path


def cli(db, *args: str):  # noqa: ANN001, ANN201
    url, work = db
    return run_cli(work, url, *args, ADMIN_IDS=str(ADMIN))


def user_state(db, uid: int) -> tuple:  # noqa: ANN001
    return query(db[0], f"SELECT role, status FROM users WHERE id = {uid}")[0]


def audit_rows(db) -> list[tuple]:  # noqa: ANN001
    return query(db[0], "SELECT actor_id, via, action, target, reason FROM audit_log ORDER BY id")


def test_freeze_unfreeze_promote_demote_from_the_shell(db):
    done = cli(db, "freeze", str(USER), "--reason", "farming with fake accounts")
    assert (done.returncode, done.stdout.strip()) == (0, f"froze user {USER} (was active); audit log entry written")
    assert user_state(db, USER) == ("user", "frozen")
    again = cli(db, "freeze", str(USER), "--reason", "again")
    assert (again.returncode, again.stdout.strip()) == (0, f"user {USER} is already frozen; nothing changed")
    assert cli(db, "unfreeze", str(USER)).returncode == 0
    assert user_state(db, USER) == ("user", "active")
    promoted = cli(db, "promote", str(USER), "ADMIN", "--reason", "runs the northern stations")
    assert promoted.returncode == 0 and "is now admin (was user)" in promoted.stdout
    demoted = cli(db, "demote", str(AGENT))
    assert demoted.returncode == 0 and "regular user again (was agent)" in demoted.stdout
    assert user_state(db, USER) == ("admin", "active") and user_state(db, AGENT) == ("user", "active")
    assert audit_rows(db) == [
        (None, "cli", "freeze", str(USER), "farming with fake accounts"),
        (None, "cli", "unfreeze", str(USER), None),
        (None, "cli", "promote", str(USER), "runs the northern stations"),
        (None, "cli", "demote", str(AGENT), None),
    ]


def test_unfreezing_someone_who_had_blocked_the_bot_makes_them_active(db):
    assert cli(db, "freeze", str(BLOCKED), "--reason", "chargebacks").returncode == 0
    assert cli(db, "unfreeze", str(BLOCKED)).returncode == 0
    assert user_state(db, BLOCKED) == ("user", "active")
    not_frozen = cli(db, "unfreeze", str(BLOCKED))
    assert not_frozen.returncode == 0 and "is not frozen (status: active); nothing changed" in not_frozen.stdout


@pytest.mark.parametrize(("args", "code", "says"), [
    (("freeze", str(USER)), 2, "--reason"),  # Typer: a missing option
    (("freeze", str(USER), "--reason", "  "), 2, "a freeze needs a reason"),
    (("freeze", "424242", "--reason", "x"), 1, "no user with Telegram id 424242"),
    (("freeze", str(ADMIN), "--reason", "x"), 1, "is an admin; admins are not frozen"),
    (("promote", str(USER), "boss"), 2, "ROLE: agent or admin"),
    (("promote", str(ADMIN), "agent"), 1, "through ADMIN_IDS"),
    (("demote", str(ADMIN)), 1, "through ADMIN_IDS"),
    (("demote", "abc"), 2, "Invalid value"),
    (("unfreeze", "424242"), 1, "no user with Telegram id 424242"),
])
def test_refusals_and_bad_input(db, args, code, says):
    done = cli(db, *args)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert says in done.stderr
    assert user_state(db, USER) == ("user", "active") and audit_rows(db) == []


def test_already_so_exits_0_and_audits_nothing(db):
    for args in (("promote", str(AGENT), "agent"), ("demote", str(USER)), ("unfreeze", str(USER))):
        done = cli(db, *args)
        assert done.returncode == 0 and "nothing changed" in done.stdout, done.stderr
    assert audit_rows(db) == []


# -- audit ---------------------------------------------------------------------------------------

def _seed_log(db) -> None:  # noqa: ANN001
    """Three entries at known times: from chat, from the shell, and one with a markup-looking reason."""
    from sqlalchemy import insert

    from db.models import AuditEntry

    def utc(text_: str) -> datetime:
        return datetime.fromisoformat(text_).replace(tzinfo=timezone.utc)

    rows = [
        dict(at=utc("2026-10-31 15:30"), actor_id=ADMIN, via="chat", action="freeze", target=str(USER),
             reason="farming", detail={"before": "active"}),
        dict(at=utc("2026-11-01 01:00"), actor_id=None, via="cli", action="promote", target=str(AGENT),
             reason=None, detail={"role": "agent", "before": "user"}),
        dict(at=utc("2026-11-02 09:00"), actor_id=ADMIN, via="chat", action="freeze", target=str(BLOCKED),
             reason="[bold]fake[/bold] ids", detail={}),
    ]

    async def write() -> None:
        engine = create_async_engine(db[0], poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                await conn.execute(insert(AuditEntry), rows)
        finally:
            await engine.dispose()

    asyncio.run(write())


def test_audit_table_since_a_local_date(db):
    _seed_log(db)
    # 2026-11-01 in Shanghai starts at 2026-10-31 16:00 UTC: the 15:30 UTC entry is the day before
    done = cli(db, "audit", "--since", "2026-11-01")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert str(USER) not in out and "farming" not in out
    assert "2026-11-01 09:00:00" in out and str(AGENT) in out and "shell" in out and "role=agent" in out
    assert "2026-11-02 17:00:00" in out and str(BLOCKED) in out and str(ADMIN) in out
    assert "[bold]fake[/bold] ids" in out  # a reason is shown as written, never as Rich markup
    assert out.index(str(AGENT)) < out.index(str(BLOCKED))  # oldest first


def test_audit_json_lines_and_action_filter(db):
    _seed_log(db)
    done = cli(db, "audit", "--since", "2026-10-01T00:00+08:00", "--action", "freeze", "--json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(e["action"], e["target"], e["actor_id"], e["via"], e["reason"]) for e in lines] == [
        ("freeze", str(USER), ADMIN, "chat", "farming"), ("freeze", str(BLOCKED), ADMIN, "chat", "[bold]fake[/bold] ids")]
    assert lines[0]["at"] == "2026-10-31T23:30:00+08:00" and lines[0]["detail"] == {"before": "active"}
    naive = cli(db, "audit", "--since", "2026-11-01T09:00", "--json")  # local time when no offset is given
    assert [json.loads(line)["target"] for line in naive.stdout.splitlines()] == [str(AGENT), str(BLOCKED)]
    limited = cli(db, "audit", "--since", "2026-10-01", "--json", "--limit", "1")
    assert len(limited.stdout.splitlines()) == 1 and "narrow --since or raise --limit" in limited.stderr


def test_audit_relative_since_and_what_the_shell_just_did(db):
    _seed_log(db)  # all in the past
    assert cli(db, "freeze", str(USER), "--reason", "spam").returncode == 0
    done = cli(db, "audit", "--since", "10m", "--json")
    [entry] = [json.loads(line) for line in done.stdout.splitlines()]
    assert (entry["action"], entry["target"], entry["actor_id"], entry["via"], entry["reason"]) == \
        ("freeze", str(USER), None, "cli", "spam")
    empty = cli(db, "audit", "--since", "1m", "--action", "demote")
    assert empty.returncode == 0 and "no audit demote entries since" in empty.stdout


@pytest.mark.parametrize("since", ["yesterday", "7x", "2026-13-01", "3 days", ""])
def test_audit_bad_since_is_one_line_and_exit_2(db, since):
    done = cli(db, "audit", "--since", since)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("--since:")


def test_audit_without_a_database_says_so(tmp_path):
    missing = tmp_path / "none.db"
    done = run_cli(tmp_path, f"sqlite+aiosqlite:///{missing}", "audit")
    assert done.returncode == 1 and "referral-bot migrate" in done.stderr and not missing.exists()


@pytest.mark.parametrize("args", [("audit", "--since", "1d"), ("freeze", str(USER), "--reason", "x")])
def test_admin_commands_import_no_telegram_library(db, args):
    url, work = db
    done = run_cli(work, url, *args, python_flags=("-X", "importtime"))
    assert done.returncode == 0, done.stderr[-2000:]
    modules = _imported_modules(done.stderr)
    assert "sqlalchemy" in modules
    assert not {m for m in modules if m.split(".")[0] in ("aiogram", "telegram")}


def test_parse_since():
    now = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)
    assert parse_since("7d", now, SHANGHAI) == now - timedelta(days=7)
    assert parse_since("24h", now, SHANGHAI) == now - timedelta(hours=24)
    assert parse_since("30m", now, SHANGHAI) == now - timedelta(minutes=30)
    assert parse_since("2w", now, SHANGHAI) == now - timedelta(weeks=2)
    assert parse_since("2026-11-01", now, SHANGHAI) == datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)
    assert parse_since("2026-11-01T10:00+00:00", now, SHANGHAI) == datetime(2026, 11, 1, 10, tzinfo=timezone.utc)
    assert parse_since("2026-11-01T10:00", now, SHANGHAI) == datetime(2026, 11, 1, 2, tzinfo=timezone.utc)
    for bad in ("7", "d", "tomorrow", "2026-02-30"):
        with pytest.raises(BadSince):
            parse_since(bad, now, SHANGHAI)
