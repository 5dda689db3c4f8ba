"""`referral-bot broadcast`: queue from the shell, dry run, status, follow, and refusals.

Run as the operator runs it (a subprocess), on SQLite and PostgreSQL. The bot
itself is not running here: the tests play its part by marking rows sent.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.unit.test_cli import (
    BACKENDS, ROOT, _imported_modules, cli_env, execute, query, run_cli, scratch_database,
)

# id, language, tg_language, status, role
USERS = [(101, None, "en", "active", "user"), (102, "zh-CN", None, "active", "agent"),
         (103, None, "zh-hans", "active", "user"), (104, None, "en", "frozen", "user"),
         (105, "en", None, "blocked", "agent")]


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):  # noqa: ANN001, ANN201
    with scratch_database(request.param, tmp_path, "rb_bc_cli") as url:
        assert run_cli(tmp_path, url, "migrate").returncode == 0
        values = ", ".join(
            f"({uid}, 'u{uid}', {'NULL' if lang is None else repr(lang)}, {'NULL' if tg is None else repr(tg)}, "
            f"'{status}', '{role}', false, '2026-01-01 00:00:00+00:00', true, 0)"
            for uid, lang, tg, status, role in USERS)
        execute(url, "INSERT INTO users (id, first_name, language, tg_language, status, role, is_bot, first_seen_at, "
                     f"tips_enabled, tips_sent) VALUES {values}")
        yield url, tmp_path


def rows(url: str) -> list[tuple]:
    return query(url, "SELECT broadcast_id, chat_id, state, args FROM outbox ORDER BY broadcast_id, chat_id")


def test_dry_run_counts_and_queues_nothing(db):  # noqa: ANN001
    url, work = db
    for args, count in ((), 3), (("--lang", "en"), 1), (("--lang", "zh-CN"), 2), (("--role", "agent"), 1):
        done = run_cli(work, url, "broadcast", "--text", "hi", "--dry-run", *args)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"{count} recipients"), done.stdout
    assert query(url, "SELECT count(*) FROM broadcasts") == [(0,)]
    assert rows(url) == []


def test_queue_prints_the_id_and_writes_one_row_per_recipient_with_an_audit_entry(db):  # noqa: ANN001
    url, work = db
    done = run_cli(work, url, "broadcast", "--text", "<b>Rules</b> change &amp; more", "--no-follow")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("broadcast #1 queued for 3 recipients (all)")
    got = rows(url)
    assert [(b, c, s) for b, c, s, _ in got] == [(1, 101, "pending"), (1, 102, "pending"), (1, 103, "pending")]
    assert {json.dumps(a if isinstance(a, dict) else json.loads(a)) for *_, a in got} == \
        {json.dumps({"text": "<b>Rules</b> change &amp; more"})}
    [(action, via, actor, target)] = query(url, "SELECT action, via, actor_id, target FROM audit_log")
    assert (action, via, actor, target) == ("broadcast", "cli", None, "broadcast:1")


def test_paid_broadcasts_carry_the_flag(db):  # noqa: ANN001
    url, work = db
    done = run_cli(work, url, "broadcast", "--text", "hi", "--no-follow", BROADCAST_PAID="true")
    assert done.returncode == 0, done.stderr
    for *_, args in rows(url):
        assert (args if isinstance(args, dict) else json.loads(args)) == {"text": "hi", "paid": True}


def test_status_reports_progress_and_done(db):  # noqa: ANN001
    url, work = db
    assert run_cli(work, url, "broadcast", "--text", "hi", "--no-follow").returncode == 0
    execute(url, "UPDATE outbox SET state = 'sent', sent_at = created_at WHERE chat_id = 101")
    done = run_cli(work, url, "broadcast", "--status", "1")
    assert done.returncode == 0, done.stderr
    assert "broadcast #1 (all, free) running: sent 1 of 3" in done.stdout and "still to send 2" in done.stdout
    execute(url, "UPDATE outbox SET state = 'blocked' WHERE chat_id <> 101")
    done = run_cli(work, url, "broadcast", "--status", "1")
    assert "broadcast #1 (all, free) done: sent 1 of 3, failed 0, blocked 2" in done.stdout
    missing = run_cli(work, url, "broadcast", "--status", "7")
    assert (missing.returncode, missing.stderr.strip()) == (1, "no broadcast #7")


def test_follow_shows_progress_until_the_bot_has_sent_everything(db):  # noqa: ANN001
    url, work = db
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "broadcast", "--text", "hi", "--lang", "zh-CN"],
                            cwd=work, env=cli_env(url, COLUMNS="200"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("broadcast #1 queued for 2 recipients (lang:zh-CN)")
        execute(url, "UPDATE outbox SET state = 'sent', sent_at = created_at")  # the bot's part
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "2/2" in out and "broadcast #1 (lang:zh-CN, free) done: sent 2 of 2" in out


@pytest.mark.parametrize(("args", "message"), [
    (("--text", "<b>open"), "<b> is never closed"),
    (("--text", "fish & chips"), "a bare '&' at character 6: write &amp;"),
    (("--text", "<div>x</div>"), "<div> is not a tag Telegram allows"),
    (("--text", "x" * 4097), "at most 4096"),
    (("--text", "  "), "the text is empty"),
    (("--text", "hi", "--lang", "fr"), "unknown audience 'lang:fr'"),
    (("--text", "hi", "--lang", "en", "--referrers"), "at most one of --lang, --role, --referrers"),
    (("--text", "hi", "--role", "user"), "unknown audience 'role:user'"),
    ((), "--text is required"),
    (("--status", "1", "--text", "x"), "--status takes no --text"),
])
def test_bad_input_exits_2_and_queues_nothing(db, args, message):  # noqa: ANN001
    url, work = db
    done = run_cli(work, url, "broadcast", *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr
    assert rows(url) == []


def test_an_empty_audience_queues_nothing_and_exits_1(db):  # noqa: ANN001
    url, work = db
    done = run_cli(work, url, "broadcast", "--text", "hi", "--referrers")
    assert (done.returncode, done.stderr.strip()) == (1, "nobody to send to (referrers); nothing queued")
    assert query(url, "SELECT count(*) FROM broadcasts") == [(0,)]


def test_broadcast_imports_no_telegram_library(db):  # noqa: ANN001
    url, work = db
    done = run_cli(work, url, "broadcast", "--text", "hi", "--no-follow", python_flags=("-X", "importtime"))
    assert done.returncode == 0, done.stderr[-2000:]
    modules = _imported_modules(done.stderr)
    assert "sqlalchemy" in modules
    assert not {m for m in modules if m.split(".")[0] in ("aiogram", "telegram")}


def test_help_says_the_text_is_html():
    done = subprocess.run([sys.executable, "-m", "bot.cli.main", "broadcast", "--help"], cwd=ROOT,
                          env=cli_env(None, COLUMNS="200"), capture_output=True, text=True, timeout=60)
    assert "Telegram HTML" in done.stdout and "&amp;" in done.stdout
